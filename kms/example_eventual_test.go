package kms_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/consistency"
)

// With the eventual-consistency model on, a key used right after
// CreateKey is NotFoundException until its creation has propagated, and a
// just-disabled key still encrypts; a retrying client waits (in simulated
// time), and Propagate ends every window at once.
func ExampleWithEventualConsistency() {
	ctx := context.Background()
	clock := kms.NewManualClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	m := consistency.Default()
	m.Seed = 1                                   // the same seed, the same windows
	m.Delay = consistency.Fixed(2 * time.Second) // every change takes 2 s to reach everyone
	svc := kms.New(kms.WithClock(clock), kms.WithEventualConsistency(m))

	key, _ := svc.CreateKey(ctx, &kms.CreateKeyInput{})
	in := &kms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: []byte("hello")}
	for attempt := 1; ; attempt++ {
		_, err := svc.Encrypt(ctx, in)
		if !errors.Is(err, keystate.ErrNotFound) {
			fmt.Printf("attempt %d after %v: %v\n", attempt, clock.Now().Sub(key.KeyMetadata.CreationDate), err)
			break
		}
		clock.Advance(500 * time.Millisecond) // the retry's backoff, in simulated time
	}

	svc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: key.KeyMetadata.KeyId})
	_, err := svc.Encrypt(ctx, in)
	fmt.Println("just disabled:", err)
	fmt.Println("propagated:", svc.PropagationStatus().Propagated)
	svc.Propagate()
	_, err = svc.Encrypt(ctx, in)
	fmt.Println("after Propagate:", errors.Is(err, keystate.ErrDisabled))
	// Output:
	// attempt 5 after 2s: <nil>
	// just disabled: <nil>
	// propagated: false
	// after Propagate: true
}
