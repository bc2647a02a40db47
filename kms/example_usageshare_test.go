package kms_test

import (
	"context"
	"fmt"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// Two services over one shared store are two nodes of a cluster: a key
// created on one is known on the other, but each records the uses it
// answered (GetKeyLastUsage). Handing them over (decision D79) makes
// both report the same last use.
func ExampleService_MergeKeyUses() {
	ctx := context.Background()
	shared := store.NewSharedMemory()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	open := func() *kms.Service {
		svc, err := kms.Open(ctx, shared, kms.WithClock(kms.NewManualClock(start)),
			kms.WithKeyUsageSharing(), kms.WithTrackingStart(start))
		if err != nil {
			panic(err)
		}
		return svc
	}
	a, b := open(), open()
	defer a.Close()
	defer b.Close()

	key, _ := a.CreateKey(ctx, &kms.CreateKeyInput{})
	id := key.KeyMetadata.KeyId
	if _, err := a.Encrypt(kms.WithRequestID(ctx, "request-1"), &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")}); err != nil {
		panic(err)
	}
	before, _ := b.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: id})
	fmt.Printf("b before: %q\n", before.KeyLastUsage.Operation)

	uses := a.TakeKeyUses(nil)
	n, _ := b.MergeKeyUses(ctx, uses)
	after, _ := b.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: id})
	fmt.Println("merged:", n)
	fmt.Println("b after:", after.KeyLastUsage.Operation, after.KeyLastUsage.KmsRequestId, after.KeyLastUsage.Timestamp.Format(time.RFC3339))
	// Output:
	// b before: ""
	// merged: 1
	// b after: Encrypt request-1 2026-01-01T00:00:00Z
}
