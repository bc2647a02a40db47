package kms_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// exampleService returns a service on a manual clock that starts at
// 2024-01-01 and draws key IDs from a fixed seed, so the examples are
// deterministic.
func exampleService() (*kms.Service, *kms.ManualClock) {
	clock := kms.NewManualClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	svc := kms.New(kms.WithClock(clock), kms.WithRandom(rand.NewChaCha8([32]byte{1})))
	return svc, clock
}

// Create a key and read its metadata.
func ExampleService_CreateKey() {
	svc, _ := exampleService()
	ctx := context.Background()
	out, err := svc.CreateKey(ctx, &kms.CreateKeyInput{Description: "orders"})
	if err != nil {
		panic(err)
	}
	m := out.KeyMetadata
	fmt.Println(m.KeyState, m.KeySpec, m.KeyUsage, m.Origin, m.KeyManager)
	fmt.Println(m.CreationDate.Format(time.DateOnly), m.Description)
	// Output:
	// Enabled SYMMETRIC_DEFAULT ENCRYPT_DECRYPT AWS_KMS CUSTOMER
	// 2024-01-01 orders
}

// Rotate a key on demand, up to the quota of ten rotations (decision D1).
func ExampleService_RotateKeyOnDemand() {
	svc, clock := exampleService()
	ctx := context.Background()
	key, _ := svc.CreateKey(ctx, &kms.CreateKeyInput{})
	id := key.KeyMetadata.KeyId
	for i := 0; i < 11; i++ {
		clock.Advance(time.Hour)
		_, err := svc.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
		if err != nil {
			fmt.Println("rotation", i+1, "refused:", errors.Is(err, keystate.ErrLimitExceeded))
		}
	}
	rot, _ := svc.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id})
	fmt.Println(len(rot.Rotations), "rotations, the last", rot.Rotations[9].RotationType, "at", rot.Rotations[9].RotationDate.Format(time.TimeOnly))
	// Output:
	// rotation 11 refused: true
	// 10 rotations, the last ON_DEMAND at 10:00:00
}

// Advance the clock past automatic rotations: each happens at its own
// scheduled instant (decision D13), and on-demand rotations do not move the
// schedule.
func ExampleManualClock_Advance() {
	svc, clock := exampleService()
	ctx := context.Background()
	key, _ := svc.CreateKey(ctx, &kms.CreateKeyInput{})
	id := key.KeyMetadata.KeyId
	svc.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: kms.Int32(90)})
	clock.Advance(80 * 24 * time.Hour)
	svc.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	clock.Advance(2 * 365 * 24 * time.Hour)
	svc.Sweep()
	status, _ := svc.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
	fmt.Println("enabled:", status.KeyRotationEnabled, "period:", *status.RotationPeriodInDays,
		"next:", status.NextRotationDate.Format(time.DateOnly))
	rot, _ := svc.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id})
	for _, r := range rot.Rotations[:3] {
		fmt.Println(r.RotationDate.Format(time.DateOnly), r.RotationType)
	}
	fmt.Println(len(rot.Rotations), "rotations")
	// Output:
	// enabled: true period: 90 next: 2026-06-19
	// 2024-03-21 ON_DEMAND
	// 2024-03-31 AUTOMATIC
	// 2024-06-29 AUTOMATIC
	// 10 rotations
}

// List a key's rotations, oldest first (decision D14), a page at a time.
func ExampleService_ListKeyRotations() {
	svc, clock := exampleService()
	ctx := context.Background()
	key, _ := svc.CreateKey(ctx, &kms.CreateKeyInput{})
	id := key.KeyMetadata.KeyId
	svc.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: kms.Int32(365)})
	clock.Advance(100 * 24 * time.Hour)
	svc.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	clock.Advance(3 * 365 * 24 * time.Hour)

	in := &kms.ListKeyRotationsInput{KeyId: id, Limit: kms.Int32(2)}
	for {
		page, err := svc.ListKeyRotations(ctx, in)
		if err != nil {
			panic(err)
		}
		for _, r := range page.Rotations {
			fmt.Println(r.RotationDate.Format(time.DateOnly), r.RotationType, r.KeyMaterialState)
		}
		if !page.Truncated {
			break
		}
		in.Marker = page.NextMarker
	}
	// Output:
	// 2024-04-10 ON_DEMAND NON_CURRENT
	// 2024-12-31 AUTOMATIC NON_CURRENT
	// 2025-12-31 AUTOMATIC NON_CURRENT
	// 2026-12-31 AUTOMATIC CURRENT
}

// Replicate a multi-Region key into another Region and rotate it on the
// primary: the replica gets the same rotations and the same key material,
// and refuses rotation calls of its own (decision D8).
func ExampleService_ReplicateKey() {
	svc, clock := exampleService()
	east := context.Background() // the default Region, us-east-1
	west := kms.WithCallerRegion(east, "us-west-2")

	key, _ := svc.CreateKey(east, &kms.CreateKeyInput{MultiRegion: true})
	id := key.KeyMetadata.KeyId
	out, _ := svc.ReplicateKey(east, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: "us-west-2"})
	fmt.Println("replica:", out.ReplicaKeyMetadata.KeyState, out.ReplicaKeyMetadata.Arn[:len("arn:aws:kms:us-west-2")])

	svc.EnableKeyRotation(east, &kms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: kms.Int32(90)})
	clock.Advance(100 * 24 * time.Hour)
	svc.RotateKeyOnDemand(east, &kms.RotateKeyOnDemandInput{KeyId: id})

	rot, _ := svc.ListKeyRotations(west, &kms.ListKeyRotationsInput{KeyId: id})
	for _, r := range rot.Rotations {
		fmt.Println("replica rotated:", r.RotationType, r.RotationDate.Format(time.DateOnly))
	}
	_, err := svc.RotateKeyOnDemand(west, &kms.RotateKeyOnDemandInput{KeyId: id})
	fmt.Println("rotate the replica:", errors.Is(err, keystate.ErrUnsupportedOperation))

	ct, _ := svc.Encrypt(east, &kms.EncryptInput{KeyId: id, Plaintext: []byte("hello")})
	pt, _ := svc.Decrypt(west, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob})
	fmt.Printf("decrypted in us-west-2: %s\n", []byte(pt.Plaintext))
	// Output:
	// replica: Creating arn:aws:kms:us-west-2
	// replica rotated: AUTOMATIC 2024-03-31
	// replica rotated: ON_DEMAND 2024-04-10
	// rotate the replica: true
	// decrypted in us-west-2: hello
}
