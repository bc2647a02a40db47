package keystate_test

import (
	"errors"
	"fmt"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// Encrypt on a Disabled key is refused with DisabledException (footnote [1]),
// worded as real KMS words it (decision D19).
func ExampleCheck() {
	const arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	err := keystate.Check(keystate.Encrypt, keystate.Disabled, keystate.Kind{}, arn)

	fmt.Println(errors.Is(err, keystate.ErrDisabled))
	fmt.Println(errors.Is(err, keystate.ErrKMSInvalidState))
	var e *keystate.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Op, e.State)
		fmt.Println(e.Message)
	}
	// Output:
	// true
	// false
	// DisabledException Encrypt Disabled
	// arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab is disabled.
}

// A key is created, scheduled for deletion, and the deletion is cancelled:
// it comes back Disabled, not Enabled (aws-kms-behaviour.md b). An event the
// state does not accept leaves it unchanged.
func ExampleTransition() {
	s := keystate.None
	for _, e := range []keystate.Event{keystate.Create, keystate.ScheduleDeletion, keystate.CancelDeletion} {
		next, err := keystate.Transition(s, e)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-16s → %s\n", e, next)
		s = next
	}

	next, err := keystate.Transition(s, keystate.DeletionDue)
	fmt.Println(next, errors.Is(err, keystate.ErrKMSInvalidState))
	// Output:
	// Create           → Enabled
	// ScheduleDeletion → PendingDeletion
	// CancelDeletion   → Disabled
	// Disabled true
}
