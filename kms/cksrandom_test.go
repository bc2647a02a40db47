package kms_test

import (
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// D56: GenerateRandom with CustomKeyStoreId draws from a CONNECTED
// CloudHSM key store of the caller's in the call's Region; an unknown
// store (or another Region's, or another account's) is
// CustomKeyStoreNotFoundException, an external key store
// UnsupportedOperationException, a store not CONNECTED
// CustomKeyStoreInvalidStateException.
func TestGenerateRandomCustomKeyStore(t *testing.T) {
	e := fxNew(t)
	hsm := ckStore(t, e.s, ckHSMInput("hsm"))
	xks := ckStore(t, e.s, ckXKSInput("xks"))
	n := new(int32(32))
	random := func(e *fxEnv, id string) error {
		out, err := e.s.GenerateRandom(e.ctx, &kms.GenerateRandomInput{NumberOfBytes: n, CustomKeyStoreId: id})
		if err == nil && len(out.Plaintext) != 32 {
			t.Fatalf("GenerateRandom(%s): %d bytes", id, len(out.Plaintext))
		}
		return err
	}
	fxCheckErr(t, random(e, hsm), fxWant{Code: keystate.ErrCustomKeyStoreInvalidState, Op: keystate.GenerateRandom,
		Msg: "Custom key store '" + hsm + "' is DISCONNECTED; GenerateRandom requires CONNECTED."})
	ckConnect(t, e.s, hsm)
	if err := random(e, hsm); err != nil {
		t.Fatalf("GenerateRandom in a CONNECTED CloudHSM key store: %v", err)
	}
	ckConnect(t, e.s, xks)
	fxCheckErr(t, random(e, xks), fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.GenerateRandom,
		Msg: "Custom key store '" + xks + "' is an external key store; GenerateRandom takes a CloudHSM key store only."})
	for _, c := range []struct {
		e  *fxEnv
		id string
	}{{e, "cks-1234567890abcdef0"}, {e.mrIn(mrWest), hsm}} {
		fxCheckErr(t, random(c.e, c.id), fxWant{Code: keystate.ErrCustomKeyStoreNotFound, Op: keystate.GenerateRandom,
			Msg: "Custom key store '" + c.id + "' does not exist in account " + fxAccount + "."})
	}
	other := *e
	other.ctx = kms.WithCaller(e.ctx, "444455556666")
	fxCheckErr(t, random(&other, hsm), fxWant{Code: keystate.ErrCustomKeyStoreNotFound, Op: keystate.GenerateRandom,
		Msg: "Custom key store '" + hsm + "' does not exist in account 444455556666."})
	_, err := e.s.GenerateRandom(e.ctx, &kms.GenerateRandomInput{NumberOfBytes: n, CustomKeyStoreId: "cks-" + string(make([]byte, 61))})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.GenerateRandom, AnyMsg: true})
}
