package kms_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// Give a role an identity-based policy: under the default key policy,
// which delegates to the account, the role may do what its policy allows
// and nothing else (decision D59).
func ExampleWithIdentityPolicies() {
	iam := kms.NewIdentityPolicies()
	const role = "arn:aws:iam::111122223333:role/app"
	err := iam.Put(role, "app-policy", `{"Version": "2012-10-17", "Statement": [
	  {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "arn:aws:kms:*:111122223333:key/*"}]}`)
	if err != nil {
		panic(err)
	}
	svc := kms.New(kms.WithIdentityPolicies(iam), kms.WithRandom(rand.NewChaCha8([32]byte{1})))
	ctx := context.Background()
	key, err := svc.CreateKey(ctx, &kms.CreateKeyInput{}) // the account root: allowed by IAM
	if err != nil {
		panic(err)
	}
	app := kms.WithPrincipal(ctx, "arn:aws:sts::111122223333:assumed-role/app/build-42")
	_, err = svc.Encrypt(app, &kms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: []byte("secret")})
	fmt.Println("Encrypt:", err)
	_, err = svc.ScheduleKeyDeletion(app, &kms.ScheduleKeyDeletionInput{KeyId: key.KeyMetadata.KeyId})
	fmt.Println(errors.Is(err, keystate.ErrAccessDenied))
	_, err = svc.CreateKey(app, &kms.CreateKeyInput{})
	fmt.Println(err)
	// Output:
	// Encrypt: <nil>
	// true
	// AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/app/build-42 is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action
}

// A key policy that lets CloudWatch Logs use the key for the account's log
// groups only, as AWS recommends (decision D61).
func ExampleWithServicePrincipal() {
	svc := kms.New(kms.WithRandom(rand.NewChaCha8([32]byte{1})))
	ctx := context.Background()
	key, err := svc.CreateKey(ctx, &kms.CreateKeyInput{Policy: `{"Version": "2012-10-17", "Statement": [
	  {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
	  {"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
	   "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*", "kms:Describe*"], "Resource": "*",
	   "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:logs:us-east-1:111122223333:log-group:*"}}}]}`})
	if err != nil {
		panic(err)
	}
	id := key.KeyMetadata.KeyId
	logs := kms.WithServicePrincipal(ctx, "logs.us-east-1.amazonaws.com",
		"arn:aws:logs:us-east-1:111122223333:log-group:orders", "111122223333")
	_, err = svc.GenerateDataKey(logs, &kms.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256"})
	fmt.Println("for a log group:", err)
	sns := kms.WithServicePrincipal(ctx, "logs.us-east-1.amazonaws.com",
		"arn:aws:sns:us-east-1:111122223333:alerts", "111122223333")
	_, err = svc.GenerateDataKey(sns, &kms.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256"})
	fmt.Println("for a topic:", errors.Is(err, keystate.ErrAccessDenied))
	// Output:
	// for a log group: <nil>
	// for a topic: true
}

// Guard rails: an organization's service control policy forbids deleting
// keys in the account, even to its root, and a permissions boundary keeps
// a role to encryption whatever its own policy allows (decision D62).
func ExampleOrganizations_PutServiceControlPolicy() {
	iam, orgs := kms.NewIdentityPolicies(), kms.NewOrganizations()
	const role = "arn:aws:iam::111122223333:role/app"
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(orgs.PutServiceControlPolicy("r-ab12", "keep-keys", `{"Version": "2012-10-17", "Statement": [
	  {"Effect": "Allow", "Action": "*", "Resource": "*"},
	  {"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}]}`))
	must(orgs.PlaceAccount("111122223333", "o-a1b2c3d4e5/r-ab12/"))
	must(iam.Put(role, "everything", `{"Version": "2012-10-17", "Statement": [
	  {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}`))
	must(iam.PutPermissionsBoundary(role, `{"Version": "2012-10-17", "Statement": [
	  {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*"}]}`))
	svc := kms.New(kms.WithIdentityPolicies(iam), kms.WithOrganizations(orgs), kms.WithRandom(rand.NewChaCha8([32]byte{1})))
	ctx := context.Background()
	key, err := svc.CreateKey(ctx, &kms.CreateKeyInput{})
	must(err)
	id := key.KeyMetadata.KeyId
	_, err = svc.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id})
	fmt.Println(err)
	app := kms.WithPrincipal(ctx, "arn:aws:sts::111122223333:assumed-role/app/build-42")
	_, err = svc.Encrypt(app, &kms.EncryptInput{KeyId: id, Plaintext: []byte("secret")})
	fmt.Println("Encrypt:", err)
	_, err = svc.DisableKey(app, &kms.DisableKeyInput{KeyId: id})
	fmt.Println(err)
	// Output:
	// AccessDeniedException: User: arn:aws:iam::111122223333:root is not authorized to perform: kms:ScheduleKeyDeletion on resource: arn:aws:kms:us-east-1:111122223333:key/6ae6783f-4fbd-491b-aeb8-8b73a48ed247 with an explicit deny in a service control policy
	// Encrypt: <nil>
	// AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/app/build-42 is not authorized to perform: kms:DisableKey on resource: arn:aws:kms:us-east-1:111122223333:key/6ae6783f-4fbd-491b-aeb8-8b73a48ed247 because no permissions boundary allows the kms:DisableKey action
}
