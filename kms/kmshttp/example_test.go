package kmshttp_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
)

// Drive the model with the AWS SDK for Go v2 in the same process, without
// a socket: the SDK's HTTP client hands each request to the handler.
func ExampleTransport() {
	clock := kms.NewManualClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	svc := kms.New(kms.WithClock(clock), kms.WithRandom(rand.NewChaCha8([32]byte{1})))
	h, err := kmshttp.New(svc, kmshttp.WithManualClock(clock))
	if err != nil {
		log.Fatal(err)
	}
	client := awskms.New(awskms.Options{
		Region:       "us-east-1", // the service's Region (kms.WithRegion)
		BaseEndpoint: aws.String("http://kms.local"),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "not-checked", ""),
		HTTPClient:   &http.Client{Transport: kmshttp.Transport{Handler: h}},
	})
	ctx := context.Background()

	key, err := client.CreateKey(ctx, &awskms.CreateKeyInput{Description: aws.String("orders")})
	if err != nil {
		log.Fatal(err)
	}
	id := key.KeyMetadata.KeyId
	fmt.Println(key.KeyMetadata.KeyState, aws.ToString(key.KeyMetadata.Description), key.KeyMetadata.CreationDate.Format(time.DateOnly))

	_, _ = client.EnableKeyRotation(ctx, &awskms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: aws.Int32(90)})
	_, _ = client.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: id})
	clock.Advance(365 * 24 * time.Hour) // four automatic rotations, each on its date
	rot, _ := client.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: id})
	for _, r := range rot.Rotations {
		fmt.Println(r.RotationType, r.RotationDate.Format(time.DateOnly))
	}

	_, _ = client.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: id})
	_, err = client.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: id})
	var disabled *types.DisabledException
	fmt.Println(errors.As(err, &disabled))
	// Output:
	// Enabled orders 2024-01-01
	// ON_DEMAND 2024-01-01
	// AUTOMATIC 2024-03-31
	// AUTOMATIC 2024-06-29
	// AUTOMATIC 2024-09-27
	// AUTOMATIC 2024-12-26
	// true
}

// Map access keys to principals: a role sets a key policy that names only
// itself, and a user of the same account is then refused.
func ExampleWithAccounts() {
	svc := kms.New(kms.WithAccount("111122223333"), kms.WithRandom(rand.NewChaCha8([32]byte{1})))
	h, err := kmshttp.New(svc, kmshttp.WithAccounts(map[string]string{
		"AKIDAPP":   "arn:aws:iam::111122223333:role/app",
		"AKIDALICE": "arn:aws:iam::111122223333:user/alice",
		"AKIDROOT":  "111122223333", // the account's root
	}))
	if err != nil {
		log.Fatal(err)
	}
	client := func(akid string) *awskms.Client {
		return awskms.New(awskms.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String("http://kms.local"),
			Credentials:  credentials.NewStaticCredentialsProvider(akid, "not-checked", ""),
			HTTPClient:   &http.Client{Transport: kmshttp.Transport{Handler: h}},
		})
	}
	app, alice := client("AKIDAPP"), client("AKIDALICE")
	ctx := context.Background()

	key, err := app.CreateKey(ctx, &awskms.CreateKeyInput{Policy: aws.String(`{"Version": "2012-10-17",
	  "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/app"},
	                 "Action": "kms:*", "Resource": "*"}]}`)})
	if err != nil {
		log.Fatal(err)
	}
	_, err = app.Encrypt(ctx, &awskms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: []byte("x")})
	fmt.Println(err)
	_, err = alice.Encrypt(ctx, &awskms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: []byte("x")})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.ErrorCode())
		fmt.Println(apiErr.ErrorMessage())
	}
	// Output:
	// <nil>
	// AccessDeniedException
	// User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Encrypt on resource: arn:aws:kms:us-east-1:111122223333:key/6ae6783f-4fbd-491b-aeb8-8b73a48ed247 because no resource-based policy allows the kms:Encrypt action
}
