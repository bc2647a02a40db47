package keystate_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// TestCheckToday: footnote [7] as today's table reads it covers custom key
// stores only; as the 2024 rules read it (decision D2a) it covers imported
// material too. Every other cell is the same under both readings.
func TestCheckToday(t *testing.T) {
	ext := keystate.Kind{Spec: keystate.SymmetricDefault, Usage: keystate.EncryptDecrypt, Origin: keystate.External}
	cks := keystate.Kind{Spec: keystate.SymmetricDefault, Usage: keystate.EncryptDecrypt, Origin: keystate.AWSCloudHSM}
	for _, op := range []keystate.Operation{keystate.RotateKeyOnDemand, keystate.ListKeyRotations, keystate.GetKeyRotationStatus} {
		if err := keystate.Check(op, keystate.Enabled, ext, testARN); !errors.Is(err, keystate.ErrUnsupportedOperation) {
			t.Errorf("Check(%v, Enabled, EXTERNAL) = %v, want UnsupportedOperationException (D2a)", op, err)
		}
		if err := keystate.CheckToday(op, keystate.Enabled, ext, testARN); err != nil {
			t.Errorf("CheckToday(%v, Enabled, EXTERNAL) = %v, want nil", op, err)
		}
		if err := keystate.CheckToday(op, keystate.Enabled, cks, testARN); !errors.Is(err, keystate.ErrUnsupportedOperation) {
			t.Errorf("CheckToday(%v, Enabled, AWS_CLOUDHSM) = %v, want UnsupportedOperationException ([7])", op, err)
		}
	}
	// Automatic rotation of imported material stays refused (kind rule).
	if err := keystate.CheckToday(keystate.EnableKeyRotation, keystate.Enabled, ext, testARN); !errors.Is(err, keystate.ErrUnsupportedOperation) {
		t.Errorf("CheckToday(EnableKeyRotation, EXTERNAL) = %v", err)
	}
	// The state column still wins: [6] in PendingImport, [1] while Disabled.
	if err := keystate.CheckToday(keystate.GetKeyRotationStatus, keystate.PendingImport, ext, testARN); !errors.Is(err, keystate.ErrUnsupportedOperation) {
		t.Errorf("CheckToday(GetKeyRotationStatus, PendingImport) = %v, want [6]", err)
	}
	if err := keystate.CheckToday(keystate.RotateKeyOnDemand, keystate.Disabled, ext, testARN); !errors.Is(err, keystate.ErrDisabled) {
		t.Errorf("CheckToday(RotateKeyOnDemand, Disabled) = %v, want [1]", err)
	}
	// Everything else agrees, for every operation, state and these kinds.
	sym := keystate.Kind{Spec: keystate.SymmetricDefault, Usage: keystate.EncryptDecrypt}
	for op := keystate.Operation(1); op < 255; op++ {
		for s := keystate.State(0); s <= keystate.Deleted; s++ {
			for _, k := range []keystate.Kind{sym, cks} {
				a, b := keystate.Check(op, s, k, testARN), keystate.CheckToday(op, s, k, testARN)
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("%v in %v, %v: Check %v, CheckToday %v", op, s, k.Origin, a, b)
				}
			}
		}
	}
}
