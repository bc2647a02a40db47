package kms_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// D58: WithCustomKeyStoreConnectFailure fails connection attempts. A
// failed attempt leaves the store FAILED with its ConnectionErrorCode and
// its keys Unavailable; ConnectCustomKeyStore on a FAILED store is
// CustomKeyStoreInvalidStateException, as the API reference says, until
// DisconnectCustomKeyStore clears it; then an attempt that succeeds
// brings the keys back. The state survives a restart.
func TestCKSConnectFailure(t *testing.T) {
	for name, reopen := range psStores(t) {
		t.Run(name, func(t *testing.T) {
			failing := map[string]string{}
			clock := kms.NewManualClock(fxT0)
			open := func(prev *kms.Service) *fxEnv {
				s, err := kms.Open(t.Context(), reopen(prev), kms.WithClock(clock),
					kms.WithCustomKeyStoreConnectDuration(time.Minute),
					kms.WithCustomKeyStoreConnectFailure(func(id string) string { return failing[id] }))
				if err != nil {
					t.Fatal(err)
				}
				return &fxEnv{t: t, s: s, clk: clock, ctx: t.Context()}
			}
			e := open(nil)
			hsm := ckStore(t, e.s, ckHSMInput("hsm"))
			ckConnect(t, e.s, hsm)
			e.advance(time.Minute)
			key := ckKey(t, e.s, hsm)
			ckDisconnect(t, e.s, hsm)

			failing[hsm] = "NETWORK_ERRORS"
			ckConnect(t, e.s, hsm)
			if st := ckDescribeStore(t, e.s, hsm); st.ConnectionState != "CONNECTING" || st.ConnectionErrorCode != "" {
				t.Fatalf("while connecting: %+v", st)
			}
			e.advance(time.Minute)
			if st := ckDescribeStore(t, e.s, hsm); st.ConnectionState != "FAILED" || st.ConnectionErrorCode != "NETWORK_ERRORS" {
				t.Fatalf("after the failed attempt: %s %q", st.ConnectionState, st.ConnectionErrorCode)
			}
			ckWantState(t, e.s, key.KeyId, "Unavailable")
			e = open(e.s)
			if st := ckDescribeStore(t, e.s, hsm); st.ConnectionState != "FAILED" || st.ConnectionErrorCode != "NETWORK_ERRORS" {
				t.Fatalf("FAILED after a restart: %s %q", st.ConnectionState, st.ConnectionErrorCode)
			}
			_, err := e.s.ConnectCustomKeyStore(e.ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: hsm})
			ckErr(t, err, keystate.ErrCustomKeyStoreInvalidState,
				"Custom key store '"+hsm+"' is FAILED; ConnectCustomKeyStore requires a store that is not FAILED (disconnect it first).")
			_, err = e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: hsm})
			ckErr(t, err, keystate.ErrCustomKeyStoreInvalidState, "")

			ckDisconnect(t, e.s, hsm)
			if st := ckDescribeStore(t, e.s, hsm); st.ConnectionState != "DISCONNECTED" || st.ConnectionErrorCode != "" {
				t.Fatalf("after DisconnectCustomKeyStore: %s %q", st.ConnectionState, st.ConnectionErrorCode)
			}
			delete(failing, hsm)
			ckConnect(t, e.s, hsm)
			e.advance(time.Minute)
			ckWantState(t, e.s, key.KeyId, "Enabled")
			if err := e.s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// D58: an attempt that ends at once fails at once; a code that is not
// AWS's counts as INTERNAL_ERROR; ConnectionErrorCodes lists AWS's.
func TestCKSConnectFailureAtOnce(t *testing.T) {
	e := fxNew(t, kms.WithCustomKeyStoreConnectFailure(func(string) string { return "BROKEN" }))
	xks := ckStore(t, e.s, ckXKSInput("xks"))
	ckConnect(t, e.s, xks)
	if st := ckDescribeStore(t, e.s, xks); st.ConnectionState != "FAILED" || st.ConnectionErrorCode != "INTERNAL_ERROR" {
		t.Fatalf("after a failed attempt: %s %q", st.ConnectionState, st.ConnectionErrorCode)
	}
	codes := kms.ConnectionErrorCodes()
	if len(codes) != 18 || !slices.Contains(codes, "XKS_PROXY_TIMED_OUT") || !slices.Contains(codes, "USER_LOCKED_OUT") {
		t.Fatalf("ConnectionErrorCodes = %v", codes)
	}
	codes[0] = "changed"
	if kms.ConnectionErrorCodes()[0] == "changed" {
		t.Fatal("ConnectionErrorCodes returned its own slice")
	}
}
