package kms_test

import (
	"errors"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// TestNilInputs: every operation takes a nil input as an empty one: no
// panic, and a refusal (ValidationException for a missing required field)
// or, where nothing is required, an answer (D16).
func TestNilInputs(t *testing.T) {
	e := fxNew(t)
	calls := map[string]func() error{
		"DescribeKey":          func() error { _, err := e.s.DescribeKey(e.ctx, nil); return err },
		"EnableKey":            func() error { _, err := e.s.EnableKey(e.ctx, nil); return err },
		"DisableKey":           func() error { _, err := e.s.DisableKey(e.ctx, nil); return err },
		"ScheduleKeyDeletion":  func() error { _, err := e.s.ScheduleKeyDeletion(e.ctx, nil); return err },
		"CancelKeyDeletion":    func() error { _, err := e.s.CancelKeyDeletion(e.ctx, nil); return err },
		"UpdateKeyDescription": func() error { _, err := e.s.UpdateKeyDescription(e.ctx, nil); return err },
		"EnableKeyRotation":    func() error { _, err := e.s.EnableKeyRotation(e.ctx, nil); return err },
		"DisableKeyRotation":   func() error { _, err := e.s.DisableKeyRotation(e.ctx, nil); return err },
		"GetKeyRotationStatus": func() error { _, err := e.s.GetKeyRotationStatus(e.ctx, nil); return err },
		"RotateKeyOnDemand":    func() error { _, err := e.s.RotateKeyOnDemand(e.ctx, nil); return err },
		"ListKeyRotations":     func() error { _, err := e.s.ListKeyRotations(e.ctx, nil); return err },
		"CreateAlias":          func() error { _, err := e.s.CreateAlias(e.ctx, nil); return err },
		"UpdateAlias":          func() error { _, err := e.s.UpdateAlias(e.ctx, nil); return err },
		"DeleteAlias":          func() error { _, err := e.s.DeleteAlias(e.ctx, nil); return err },
		"TagResource":          func() error { _, err := e.s.TagResource(e.ctx, nil); return err },
		"UntagResource":        func() error { _, err := e.s.UntagResource(e.ctx, nil); return err },
		"ListResourceTags":     func() error { _, err := e.s.ListResourceTags(e.ctx, nil); return err },
		"Encrypt":              func() error { _, err := e.s.Encrypt(e.ctx, nil); return err },
		"Decrypt":              func() error { _, err := e.s.Decrypt(e.ctx, nil); return err },
		"ReEncrypt":            func() error { _, err := e.s.ReEncrypt(e.ctx, nil); return err },
		"GenerateDataKey":      func() error { _, err := e.s.GenerateDataKey(e.ctx, nil); return err },
		"GenerateDataKeyWithoutPlaintext": func() error {
			_, err := e.s.GenerateDataKeyWithoutPlaintext(e.ctx, nil)
			return err
		},
		"GenerateRandom": func() error { _, err := e.s.GenerateRandom(e.ctx, nil); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, keystate.ErrValidation) {
			t.Errorf("%s(nil) = %v; want ValidationException", name, err)
		}
	}
	for name, call := range map[string]func() error{
		"CreateKey":   func() error { _, err := e.s.CreateKey(e.ctx, nil); return err },
		"ListKeys":    func() error { _, err := e.s.ListKeys(e.ctx, nil); return err },
		"ListAliases": func() error { _, err := e.s.ListAliases(e.ctx, nil); return err },
	} {
		if err := call(); err != nil {
			t.Errorf("%s(nil) = %v; want success", name, err)
		}
	}
}
