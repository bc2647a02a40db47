package kms_test

// Custom key stores (simulated). Helpers here start with "ck".

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/faultstore"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

const ckPassword = "kmsuser-secret-pw" // must never appear in events, errors or fmt output

const ckSecretAccessKey = "0123456789abcdef0123456789abcdef0123456789abcdef"

// ckHSMInput is a valid CloudHSM key store input named name.
func ckHSMInput(name string) *kms.CreateCustomKeyStoreInput {
	return &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: name, CloudHsmClusterId: ckCluster(name),
		TrustAnchorCertificate: "-----BEGIN CERTIFICATE-----", KeyStorePassword: kms.Sensitive(ckPassword)}
}

// ckCluster is the CloudHSM cluster ID of the store named name: one
// cluster per store (D57), cluster-1a23b4cdefg for "hsm".
func ckCluster(name string) string {
	if name == "hsm" {
		return "cluster-1a23b4cdefg"
	}
	sum := sha256.Sum256([]byte(name))
	return "cluster-" + hex.EncodeToString(sum[:])[:11]
}

// ckXKSInput is a valid external key store input named name.
func ckXKSInput(name string) *kms.CreateCustomKeyStoreInput {
	return &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: name, CustomKeyStoreType: kms.TypeExternalKeyStore,
		XksProxyUriEndpoint: "https://xks.example.com", XksProxyUriPath: "/example/kms/xks/v1",
		XksProxyConnectivity: "PUBLIC_ENDPOINT",
		XksProxyAuthenticationCredential: &kms.XksProxyAuthenticationCredential{AccessKeyId: "ABCDEFGHIJKLMNOPQRST",
			RawSecretAccessKey: kms.Sensitive(ckSecretAccessKey)}}
}

// ckMust returns v, failing the test given to its result if err is not nil.
func ckMust[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// ckStore creates a store from in and returns its ID.
func ckStore(t testing.TB, s *kms.Service, in *kms.CreateCustomKeyStoreInput) string {
	t.Helper()
	return ckMust(s.CreateCustomKeyStore(context.Background(), in))(t).CustomKeyStoreId
}

func ckConnect(t testing.TB, s *kms.Service, id string) {
	t.Helper()
	ckMust(s.ConnectCustomKeyStore(context.Background(), &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: id}))(t)
}

func ckDisconnect(t testing.TB, s *kms.Service, id string) {
	t.Helper()
	ckMust(s.DisconnectCustomKeyStore(context.Background(), &kms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: id}))(t)
}

// ckDescribeStore returns the store's entry.
func ckDescribeStore(t testing.TB, s *kms.Service, id string) kms.CustomKeyStoresListEntry {
	t.Helper()
	out := ckMust(s.DescribeCustomKeyStores(context.Background(), &kms.DescribeCustomKeyStoresInput{CustomKeyStoreId: id}))(t)
	if len(out.CustomKeyStores) != 1 {
		t.Fatalf("DescribeCustomKeyStores(%s) = %d entries", id, len(out.CustomKeyStores))
	}
	return out.CustomKeyStores[0]
}

// ckKey creates a key in the HSM store id.
func ckKey(t testing.TB, s *kms.Service, id string) kms.KeyMetadata {
	t.Helper()
	return ckMust(s.CreateKey(context.Background(), &kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: id}))(t).KeyMetadata
}

func ckState(t testing.TB, s *kms.Service, keyID string) string {
	t.Helper()
	return ckMust(s.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: keyID}))(t).KeyMetadata.KeyState
}

func ckWantState(t testing.TB, s *kms.Service, keyID, want string) {
	t.Helper()
	if got := ckState(t, s, keyID); got != want {
		t.Fatalf("KeyState = %s, want %s", got, want)
	}
}

// ckErr fails unless err is the exception code (message checked when msg
// is not empty).
func ckErr(t testing.TB, err error, code keystate.Exception, msg string) {
	t.Helper()
	var ke *keystate.Error
	if !errors.Is(err, code) || !errors.As(err, &ke) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if msg != "" && ke.Message != msg {
		t.Fatalf("message %q, want %q", ke.Message, msg)
	}
}

func ckEncrypt(s *kms.Service, keyID string) error {
	_, err := s.Encrypt(context.Background(), &kms.EncryptInput{KeyId: keyID, Plaintext: []byte("x")})
	return err
}

// TestCKSKeyLifecycle drives a key in a CloudHSM key store through every
// state it can have, with the exact refusal of each refused call.
func TestCKSKeyLifecycle(t *testing.T) {
	e := fxNew(t)
	s, ctx := e.s, e.ctx
	cks := ckStore(t, s, ckHSMInput("hsm"))
	if st := ckDescribeStore(t, s, cks).ConnectionState; st != "DISCONNECTED" {
		t.Fatalf("a new store is %s, want DISCONNECTED", st)
	}
	ckConnect(t, s, cks)
	m := ckKey(t, s, cks)
	id, arn := m.KeyId, m.Arn
	if m.KeyState != "Enabled" || m.Origin != "AWS_CLOUDHSM" || m.CustomKeyStoreId != cks ||
		m.CloudHsmClusterId != "cluster-1a23b4cdefg" || m.XksKeyConfiguration != nil || m.CurrentKeyMaterialId != "" {
		t.Fatalf("CreateKey metadata = %+v", m)
	}
	blob := ckMust(s.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("secret")}))(t).CiphertextBlob

	// [7]: rotation calls are refused for a custom key store key.
	origin7 := arn + " origin is AWS_CLOUDHSM which is not valid for this operation."
	_, err := s.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.EnableKeyRotation, KeyID: arn, State: keystate.Enabled, Msg: origin7})
	_, err = s.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.RotateKeyOnDemand, KeyID: arn, State: keystate.Enabled, Msg: origin7})

	// Enabled → disconnect → Unavailable (desired Enabled).
	ckDisconnect(t, s, cks)
	ckWantState(t, s, id, "Unavailable")
	// [11]: cryptographic operations → KMSInvalidStateException "is unavailable."
	fxCheckErr(t, ckEncrypt(s, id), fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.Encrypt, KeyID: arn,
		State: keystate.Unavailable, Msg: arn + " is unavailable."})
	_, err = s.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.Decrypt, KeyID: arn,
		State: keystate.Unavailable, Msg: arn + " is unavailable."})
	// [7] in the Unavailable column.
	_, err = s.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.GetKeyRotationStatus, KeyID: arn,
		State: keystate.Unavailable, Msg: origin7})
	_, err = s.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.ListKeyRotations, KeyID: arn,
		State: keystate.Unavailable, Msg: origin7})
	// [4],[13]: not pending deletion.
	_, err = s.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.CancelKeyDeletion, KeyID: arn,
		State: keystate.Unavailable, Msg: arn + " is not pending deletion."})

	// [12]: DisableKey succeeds while Unavailable and takes effect on reconnect.
	e.disable(id)
	ckWantState(t, s, id, "Unavailable")
	ckConnect(t, s, cks)
	ckWantState(t, s, id, "Disabled")
	fxCheckErr(t, ckEncrypt(s, id), fxWant{Code: keystate.ErrDisabled, Op: keystate.Encrypt, KeyID: arn,
		State: keystate.Disabled, Msg: arn + " is disabled."})

	// Disabled → disconnect → Unavailable (desired Disabled); EnableKey [12].
	ckDisconnect(t, s, cks)
	ckWantState(t, s, id, "Unavailable")
	e.enable(id)
	ckWantState(t, s, id, "Unavailable")
	ckConnect(t, s, cks)
	ckWantState(t, s, id, "Enabled")
	if got := ckMust(s.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob}))(t).Plaintext; string(got) != "secret" {
		t.Fatalf("Decrypt after reconnect = %q", got)
	}

	// Unavailable with desired Disabled comes back Disabled, and a
	// disconnect of a Disabled key remembers Disabled.
	e.disable(id)
	ckDisconnect(t, s, cks)
	ckConnect(t, s, cks)
	ckWantState(t, s, id, "Disabled")
	e.enable(id)

	// ScheduleKeyDeletion of an Unavailable key (table: ✓) → PendingDeletion,
	// which a reconnect does not touch and a disconnect keeps [13].
	ckDisconnect(t, s, cks)
	e.scheduleDeletion(id, 7)
	ckWantState(t, s, id, "PendingDeletion")
	ckConnect(t, s, cks)
	ckWantState(t, s, id, "PendingDeletion")
	ckDisconnect(t, s, cks)
	ckWantState(t, s, id, "PendingDeletion") // [13]
	fxCheckErr(t, ckEncrypt(s, id), fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.Encrypt, KeyID: arn,
		State: keystate.PendingDeletion, Msg: arn + " is pending deletion."})

	// CancelKeyDeletion while the store is disconnected: the spec leaves the
	// result open; kmsmodel's choice is Unavailable, returning Disabled on
	// reconnect (as CancelKeyDeletion leaves any other key).
	e.cancelDeletion(id)
	ckWantState(t, s, id, "Unavailable")
	ckConnect(t, s, cks)
	ckWantState(t, s, id, "Disabled")

	// A deletion completes while the store is disconnected (D7).
	deletion := e.scheduleDeletion(id, 7)
	ckDisconnect(t, s, cks)
	_, err = s.DeleteCustomKeyStore(ctx, &kms.DeleteCustomKeyStoreInput{CustomKeyStoreId: cks})
	ckErr(t, err, keystate.ErrCustomKeyStoreHasCMKs, "")
	e.setClock(deletion)
	_, err = s.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: arn, Msg: fxNotExist(arn)})
	ckMust(s.DeleteCustomKeyStore(ctx, &kms.DeleteCustomKeyStoreInput{CustomKeyStoreId: cks}))(t)
	_, err = s.ConnectCustomKeyStore(ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: cks})
	ckErr(t, err, keystate.ErrCustomKeyStoreNotFound, "")
}

// TestCKSExternalKeyStore: an external key store's keys need an XksKeyId,
// unique in the store, and DescribeKey shows XksKeyConfiguration.
func TestCKSExternalKeyStore(t *testing.T) {
	e := fxNew(t)
	s, ctx := e.s, e.ctx
	xks := ckStore(t, s, ckXKSInput("xks"))
	entry := ckDescribeStore(t, s, xks)
	want := &kms.XksProxyConfiguration{AccessKeyId: "ABCDEFGHIJKLMNOPQRST", Connectivity: "PUBLIC_ENDPOINT",
		UriEndpoint: "https://xks.example.com", UriPath: "/example/kms/xks/v1"}
	if entry.CustomKeyStoreType != "EXTERNAL_KEY_STORE" || !reflect.DeepEqual(entry.XksProxyConfiguration, want) ||
		entry.CloudHsmClusterId != "" || !entry.CreationDate.Equal(fxT0) {
		t.Fatalf("entry = %+v", entry)
	}
	in := &kms.CreateKeyInput{Origin: "EXTERNAL_KEY_STORE", CustomKeyStoreId: xks, XksKeyId: "ext-1"}
	_, err := s.CreateKey(ctx, in)
	ckErr(t, err, keystate.ErrCustomKeyStoreInvalidState, "") // store must be CONNECTED
	ckConnect(t, s, xks)
	m := ckMust(s.CreateKey(ctx, in))(t).KeyMetadata
	if m.XksKeyConfiguration == nil || m.XksKeyConfiguration.Id != "ext-1" || m.CustomKeyStoreId != xks || m.CloudHsmClusterId != "" {
		t.Fatalf("metadata = %+v", m)
	}
	_, err = s.CreateKey(ctx, in)
	ckErr(t, err, keystate.ErrXksKeyAlreadyInUse, "")
	// The external key material is simulated: encryption works.
	ckMust(s.Encrypt(ctx, &kms.EncryptInput{KeyId: m.KeyId, Plaintext: []byte("p")}))(t)
	_, err = s.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: m.KeyId}) // [7]
	ckErr(t, err, keystate.ErrUnsupportedOperation, m.Arn+" origin is EXTERNAL_KEY_STORE which is not valid for this operation.")
}

// TestCKSCreateKeyRefusals: CreateKey's custom key store rules
// (aws-kms-behaviour.md d.1), each with its exception.
func TestCKSCreateKeyRefusals(t *testing.T) {
	e := fxNew(t)
	s, ctx := e.s, e.ctx
	hsm := ckStore(t, s, ckHSMInput("hsm"))
	xks := ckStore(t, s, ckXKSInput("xks"))
	ckConnect(t, s, hsm)
	ckConnect(t, s, xks)
	disc := ckStore(t, s, ckHSMInput("disconnected"))
	other := ckStore(t, s, ckHSMInput("other"))
	_ = other
	foreign, err := s.CreateCustomKeyStore(e.as(fxOther), ckHSMInput("foreign"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   kms.CreateKeyInput
		code keystate.Exception
	}{
		{"origin without store", kms.CreateKeyInput{Origin: "AWS_CLOUDHSM"}, keystate.ErrValidation},
		{"store with AWS_KMS origin", kms.CreateKeyInput{CustomKeyStoreId: hsm}, keystate.ErrValidation},
		{"store with EXTERNAL origin", kms.CreateKeyInput{Origin: "EXTERNAL", CustomKeyStoreId: hsm}, keystate.ErrValidation},
		{"XKS without XksKeyId", kms.CreateKeyInput{Origin: "EXTERNAL_KEY_STORE", CustomKeyStoreId: xks}, keystate.ErrValidation},
		{"XksKeyId on CloudHSM", kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: hsm, XksKeyId: "x"}, keystate.ErrValidation},
		{"XksKeyId too long", kms.CreateKeyInput{Origin: "EXTERNAL_KEY_STORE", CustomKeyStoreId: xks, XksKeyId: strings.Repeat("x", 129)}, keystate.ErrValidation},
		{"asymmetric", kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: hsm, KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY"}, keystate.ErrUnsupportedOperation},
		{"HMAC", kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: hsm, KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"}, keystate.ErrUnsupportedOperation},
		{"multi-Region", kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: hsm, MultiRegion: true}, keystate.ErrUnsupportedOperation},
		{"unknown store", kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: "cks-1234567890abcdef0"}, keystate.ErrCustomKeyStoreNotFound},
		{"another account's store", kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: foreign.CustomKeyStoreId}, keystate.ErrCustomKeyStoreNotFound},
		{"origin of the other store type", kms.CreateKeyInput{Origin: "EXTERNAL_KEY_STORE", CustomKeyStoreId: hsm, XksKeyId: "x"}, keystate.ErrUnsupportedOperation},
		{"store not CONNECTED", kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: disc}, keystate.ErrCustomKeyStoreInvalidState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateKey(ctx, &tc.in)
			ckErr(t, err, tc.code, "")
		})
	}
	if out := ckMust(s.ListKeys(ctx, nil))(t); len(out.Keys) != 0 {
		t.Fatalf("refused CreateKey calls created %d keys", len(out.Keys))
	}
}

// TestCKSStoreOperations: the custom key store operations' refusals.
func TestCKSStoreOperations(t *testing.T) {
	e := fxNew(t)
	s, ctx := e.s, e.ctx
	hsm := ckStore(t, s, ckHSMInput("hsm"))
	xks := ckStore(t, s, ckXKSInput("xks"))
	if !strings.HasPrefix(hsm, "cks-") || len(hsm) != 21 {
		t.Fatalf("store ID %q is not cks- and 17 hex digits", hsm)
	}
	idIn := func(id string) *kms.CustomKeyStoreIdInput { return &kms.CustomKeyStoreIdInput{CustomKeyStoreId: id} }

	// Names are unique per account; another account may reuse one.
	_, err := s.CreateCustomKeyStore(ctx, ckXKSInput("hsm"))
	ckErr(t, err, keystate.ErrCustomKeyStoreNameInUse, "The custom key store name 'hsm' is already in use in this account.")
	ckMust(s.CreateCustomKeyStore(e.as(fxOther), ckHSMInput("hsm")))(t)
	_, err = s.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: xks, NewCustomKeyStoreName: "hsm"})
	ckErr(t, err, keystate.ErrCustomKeyStoreNameInUse, "")

	// Validation comes first (D3).
	bad := ckHSMInput("short password")
	bad.KeyStorePassword = kms.Sensitive("123")
	_, err = s.CreateCustomKeyStore(ctx, bad)
	ckErr(t, err, keystate.ErrValidation, fxValidation("***", "keyStorePassword", "Member must have length greater than or equal to 7"))
	bad = ckHSMInput("")
	_, err = s.CreateCustomKeyStore(ctx, bad)
	ckErr(t, err, keystate.ErrValidation, fxValidation("", "customKeyStoreName", "Member must have length greater than or equal to 1"))
	bad = ckXKSInput("no credential")
	bad.XksProxyAuthenticationCredential = nil
	_, err = s.CreateCustomKeyStore(ctx, bad)
	ckErr(t, err, keystate.ErrValidation, "")
	bad = ckXKSInput("vpc without service")
	bad.XksProxyConnectivity = "VPC_ENDPOINT_SERVICE"
	_, err = s.CreateCustomKeyStore(ctx, bad)
	ckErr(t, err, keystate.ErrValidation, "")
	bad = ckHSMInput("mixed")
	bad.XksProxyUriPath = "/kms/xks/v1"
	_, err = s.CreateCustomKeyStore(ctx, bad)
	ckErr(t, err, keystate.ErrValidation, "")

	// Unknown or foreign store.
	for _, id := range []string{"cks-1234567890abcdef0"} {
		_, err = s.ConnectCustomKeyStore(ctx, idIn(id))
		ckErr(t, err, keystate.ErrCustomKeyStoreNotFound, "Custom key store 'cks-1234567890abcdef0' does not exist in account 111122223333.")
		_, err = s.DisconnectCustomKeyStore(ctx, idIn(id))
		ckErr(t, err, keystate.ErrCustomKeyStoreNotFound, "")
		_, err = s.DeleteCustomKeyStore(ctx, idIn(id))
		ckErr(t, err, keystate.ErrCustomKeyStoreNotFound, "")
		_, err = s.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: id, NewCustomKeyStoreName: "n"})
		ckErr(t, err, keystate.ErrCustomKeyStoreNotFound, "")
		_, err = s.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreId: id})
		ckErr(t, err, keystate.ErrCustomKeyStoreNotFound, "")
	}
	_, err = s.ConnectCustomKeyStore(e.as(fxOther), idIn(hsm))
	ckErr(t, err, keystate.ErrCustomKeyStoreNotFound, "")
	_, err = s.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreName: "nope"})
	ckErr(t, err, keystate.ErrCustomKeyStoreNotFound, "")

	// Disconnect only when not DISCONNECTED; Connect is idempotent.
	_, err = s.DisconnectCustomKeyStore(ctx, idIn(hsm))
	ckErr(t, err, keystate.ErrCustomKeyStoreInvalidState, "")
	ckConnect(t, s, hsm)
	ckConnect(t, s, hsm)
	// Update and Delete only while DISCONNECTED.
	_, err = s.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: hsm, NewCustomKeyStoreName: "renamed"})
	ckErr(t, err, keystate.ErrCustomKeyStoreInvalidState, "")
	_, err = s.DeleteCustomKeyStore(ctx, idIn(hsm))
	ckErr(t, err, keystate.ErrCustomKeyStoreInvalidState, "")
	// An external key store may change its name, credential and path while
	// connected (AWS UpdateCustomKeyStore), not its endpoint.
	ckConnect(t, s, xks)
	ckMust(s.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: xks, NewCustomKeyStoreName: "xks2",
		XksProxyUriPath: "/other/kms/xks/v1"}))(t)
	_, err = s.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: xks, XksProxyUriEndpoint: "https://new.example.com"})
	ckErr(t, err, keystate.ErrCustomKeyStoreInvalidState, "")
	_, err = s.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: xks, CloudHsmClusterId: "cluster-1a23b4cdefg"})
	ckErr(t, err, keystate.ErrValidation, "")
	if got := ckDescribeStore(t, s, xks); got.CustomKeyStoreName != "xks2" || got.XksProxyConfiguration.UriPath != "/other/kms/xks/v1" {
		t.Fatalf("after update: %+v", got)
	}
	ckDisconnect(t, s, hsm)
	ckMust(s.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: hsm, NewCustomKeyStoreName: "renamed",
		KeyStorePassword: kms.Sensitive("another-password"), CloudHsmClusterId: "cluster-9z99z9zzzzz"}))(t)
	if got := ckDescribeStore(t, s, hsm); got.CustomKeyStoreName != "renamed" || got.CloudHsmClusterId != "cluster-9z99z9zzzzz" {
		t.Fatalf("after update: %+v", got)
	}
	ckMust(s.DeleteCustomKeyStore(ctx, idIn(hsm)))(t)
	_, err = s.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreId: hsm})
	ckErr(t, err, keystate.ErrCustomKeyStoreNotFound, "")
}

// TestCKSDescribePagingAndQuota: DescribeCustomKeyStores lists the
// caller's stores in creation order, Limit at a time; the eleventh store
// of an account is refused.
func TestCKSDescribePagingAndQuota(t *testing.T) {
	e := fxNew(t)
	s, ctx := e.s, e.ctx
	var ids []string
	for i := range kms.CustomKeyStoresPerAccount {
		ids = append(ids, ckStore(t, s, ckHSMInput(fmt.Sprint("s", i))))
	}
	_, err := s.CreateCustomKeyStore(ctx, ckHSMInput("eleventh"))
	ckErr(t, err, keystate.ErrLimitExceeded, "")
	var got []string
	marker := ""
	for {
		out := ckMust(s.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{Limit: kms.Int32(3), Marker: marker}))(t)
		for _, c := range out.CustomKeyStores {
			got = append(got, c.CustomKeyStoreId)
		}
		if !out.Truncated {
			break
		}
		marker = out.NextMarker
	}
	if !reflect.DeepEqual(got, ids) {
		t.Fatalf("paged listing %v, want %v", got, ids)
	}
	_, err = s.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{Marker: "garbage"})
	ckErr(t, err, keystate.ErrInvalidMarker, "")
	_, err = s.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{Limit: kms.Int32(0)})
	ckErr(t, err, keystate.ErrValidation, fxValidation("0", "limit", "Member must have value greater than or equal to 1"))
	if out := ckMust(s.DescribeCustomKeyStores(e.as(fxOther), nil))(t); len(out.CustomKeyStores) != 0 {
		t.Fatalf("another account sees %d stores", len(out.CustomKeyStores))
	}
}

// TestCKSConnectDuration: with a simulated connect duration the store is
// CONNECTING, its keys stay Unavailable until it is CONNECTED, and the
// completion is a scheduled event at its exact instant.
func TestCKSConnectDuration(t *testing.T) {
	var events []kms.Event
	e := fxNew(t, kms.WithCustomKeyStoreConnectDuration(20*time.Minute),
		kms.WithObserver(kms.ObserverFunc(func(ev kms.Event) { events = append(events, ev) })))
	s := e.s
	cks := ckStore(t, s, ckHSMInput("hsm"))
	ckConnect(t, s, cks)
	if st := ckDescribeStore(t, s, cks).ConnectionState; st != "CONNECTING" {
		t.Fatalf("ConnectionState %s, want CONNECTING", st)
	}
	_, err := s.CreateKey(e.ctx, &kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: cks})
	ckErr(t, err, keystate.ErrCustomKeyStoreInvalidState, "")
	e.advance(20 * time.Minute)
	if st := ckDescribeStore(t, s, cks).ConnectionState; st != "CONNECTED" {
		t.Fatalf("ConnectionState %s, want CONNECTED", st)
	}
	id := ckKey(t, s, cks).KeyId
	ckDisconnect(t, s, cks)
	e.disable(id)
	ckConnect(t, s, cks)
	ckWantState(t, s, id, "Unavailable")
	// CancelKeyDeletion while CONNECTING: Unavailable too.
	e.scheduleDeletion(id, 7)
	e.cancelDeletion(id)
	ckWantState(t, s, id, "Unavailable")
	e.advance(19 * time.Minute)
	ckWantState(t, s, id, "Unavailable")
	at := e.advance(time.Minute)
	if n := s.Sweep(); n != 1 {
		t.Fatalf("Sweep applied %d events, want 1", n)
	}
	ckWantState(t, s, id, "Disabled")
	var found bool
	for _, ev := range events {
		if ev.Scheduled && ev.Name == "ConnectCustomKeyStore" && ev.Time.Equal(at) && ev.Parameters["customKeyStoreId"] == cks {
			found = true
		}
	}
	if !found {
		t.Fatalf("no scheduled ConnectCustomKeyStore event at %v in %v", at, events)
	}
}

// TestCKSSecretsNeverShown: the KeyStorePassword and the XKS secret access
// key appear in no event, error or fmt output.
func TestCKSSecretsNeverShown(t *testing.T) {
	var trail strings.Builder
	e := fxNew(t, kms.WithObserver(kms.ObserverFunc(func(ev kms.Event) { fmt.Fprintf(&trail, "%+v\n", ev) })))
	s, ctx := e.s, e.ctx
	hsm := ckHSMInput("hsm")
	xks := ckXKSInput("xks")
	ckStore(t, s, hsm)
	ckStore(t, s, xks)
	_, err1 := s.CreateCustomKeyStore(ctx, hsm) // name in use
	bad := ckXKSInput("bad")
	bad.XksProxyAuthenticationCredential.RawSecretAccessKey = kms.Sensitive("short-" + ckSecretAccessKey[:20])
	_, err2 := s.CreateCustomKeyStore(ctx, bad)
	_, err3 := s.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: "cks-x", KeyStorePassword: kms.Sensitive(ckPassword)})
	all := trail.String() + fmt.Sprintf("%v %+v %#v %v %v %v %v %+v", hsm, hsm, xks, *xks, err1, err2, err3, *xks.XksProxyAuthenticationCredential)
	for _, secret := range []string{ckPassword, ckSecretAccessKey, ckSecretAccessKey[:20]} {
		if strings.Contains(all, secret) {
			t.Fatalf("a secret appears in:\n%s", all)
		}
	}
	if !strings.Contains(trail.String(), "Name:CreateCustomKeyStore") || !strings.Contains(trail.String(), "customKeyStoreId:cks-") {
		t.Fatalf("no CreateCustomKeyStore event with the new store's ID in:\n%s", trail.String())
	}
}

// TestCKSDisconnectIsAtomic: a disconnect whose write fails changes
// neither the store nor any of its keys.
func TestCKSDisconnectIsAtomic(t *testing.T) {
	fs := faultstore.New(store.NewMemory())
	clk := kms.NewManualClock(fxT0)
	s, err := kms.Open(context.Background(), fs, kms.WithClock(clk), kms.WithRandom(rand.NewChaCha8([32]byte{5})))
	if err != nil {
		t.Fatal(err)
	}
	cks := ckStore(t, s, ckHSMInput("hsm"))
	ckConnect(t, s, cks)
	a, b := ckKey(t, s, cks).KeyId, ckKey(t, s, cks).KeyId
	fs.FailNth(faultstore.OpApply, 1, nil)
	_, err = s.DisconnectCustomKeyStore(context.Background(), &kms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: cks})
	ckErr(t, err, keystate.ErrKMSInternal, "")
	if st := ckDescribeStore(t, s, cks).ConnectionState; st != "CONNECTED" {
		t.Fatalf("store %s after a failed disconnect", st)
	}
	ckWantState(t, s, a, "Enabled")
	ckWantState(t, s, b, "Enabled")
	ckDisconnect(t, s, cks)
	ckWantState(t, s, b, "Unavailable")
}

// TestCKSPersistence: stores, their keys and each key's desired state
// survive a reopen, on the memory store and on bbolt.
func TestCKSPersistence(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (store.Store, func() store.Store)
	}{
		{"memory", func(t *testing.T) (store.Store, func() store.Store) {
			m := store.NewMemory()
			// Close would close the Memory for good: each service gets a
			// view whose Close does not reach it (a restart without a disk).
			return ckNoClose{m}, func() store.Store { return ckNoClose{m} }
		}},
		{"bolt", func(t *testing.T) (store.Store, func() store.Store) {
			path := filepath.Join(t.TempDir(), "kms.db")
			open := func() store.Store {
				st, err := boltstore.Open(path, nil)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
			return open(), open
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st, reopen := tc.open(t)
			clk := kms.NewManualClock(fxT0)
			opts := []kms.Option{kms.WithClock(clk), kms.WithRandom(rand.NewChaCha8([32]byte{7})),
				kms.WithCustomKeyStoreConnectDuration(time.Hour)}
			s, err := kms.Open(ctx, st, opts...)
			if err != nil {
				t.Fatal(err)
			}
			hsm := ckStore(t, s, ckHSMInput("hsm"))
			xks := ckStore(t, s, ckXKSInput("xks"))
			ckConnect(t, s, hsm)
			clk.Advance(time.Hour)
			enabled := ckKey(t, s, hsm).KeyId
			disabled := ckKey(t, s, hsm).KeyId
			deleting := ckKey(t, s, hsm).KeyId
			ckMust(s.DisableKey(ctx, &kms.DisableKeyInput{KeyId: disabled}))(t)
			ckMust(s.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: deleting, PendingWindowInDays: kms.Int32(7)}))(t)
			ckDisconnect(t, s, hsm)
			ckMust(s.EnableKey(ctx, &kms.EnableKeyInput{KeyId: disabled}))(t)  // desired Enabled [12]
			ckMust(s.DisableKey(ctx, &kms.DisableKeyInput{KeyId: enabled}))(t) // desired Disabled [12]
			ckConnect(t, s, hsm)                                               // CONNECTING for an hour
			blob := ckMust(s.DescribeCustomKeyStores(ctx, nil))(t)
			describe := func(s *kms.Service) []kms.KeyMetadata {
				var out []kms.KeyMetadata
				for _, id := range []string{enabled, disabled, deleting} {
					out = append(out, ckMust(s.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}))(t).KeyMetadata)
				}
				return out
			}
			before := describe(s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s2, err := kms.Open(ctx, reopen(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			if got := ckMust(s2.DescribeCustomKeyStores(ctx, nil))(t); !reflect.DeepEqual(got, blob) {
				t.Fatalf("stores after reopen:\n%+v\nwant\n%+v", got, blob)
			}
			if got := describe(s2); !reflect.DeepEqual(got, before) {
				t.Fatalf("keys after reopen:\n%+v\nwant\n%+v", got, before)
			}
			// The CONNECTING store's completion was requeued; the desired
			// states were kept.
			clk.Advance(time.Hour)
			ckWantState(t, s2, enabled, "Disabled")
			ckWantState(t, s2, disabled, "Enabled")
			ckWantState(t, s2, deleting, "PendingDeletion")
			_, err = s2.CreateCustomKeyStore(ctx, ckHSMInput("xks"))
			ckErr(t, err, keystate.ErrCustomKeyStoreNameInUse, "")
			// The deletion completes; the external store is deleted.
			clk.Advance(7 * fxDay)
			_, err = s2.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: deleting})
			ckErr(t, err, keystate.ErrNotFound, "")
			ckMust(s2.DeleteCustomKeyStore(ctx, &kms.DeleteCustomKeyStoreInput{CustomKeyStoreId: xks}))(t)
			if err := s2.Close(); err != nil {
				t.Fatal(err)
			}
			s3, err := kms.Open(ctx, reopen(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer s3.Close()
			if got := ckMust(s3.DescribeCustomKeyStores(ctx, nil))(t).CustomKeyStores; len(got) != 1 || got[0].CustomKeyStoreId != hsm {
				t.Fatalf("stores after delete and reopen: %+v", got)
			}
		})
	}
}

// ckNoClose is a store whose Close leaves the underlying Memory open, so
// that a second service can open it (a restart without a disk).
type ckNoClose struct{ *store.Memory }

func (ckNoClose) Close() error { return nil }
