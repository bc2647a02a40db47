package kms_test

// GetKeyLastUsage (asymmetric-hmac spec §10, decision D31): kept in memory,
// TrackingStartDate = max(the service's first clock reading, the key's
// creation), KeyId is the ARN, only successful cryptographic calls count,
// every state, no alias and no other account. Names start with "lu".

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

func (e *fxEnv) luGet(id string) *kms.GetKeyLastUsageOutput {
	e.t.Helper()
	out, err := e.s.GetKeyLastUsage(e.ctx, &kms.GetKeyLastUsageInput{KeyId: id})
	if err != nil {
		e.t.Fatalf("GetKeyLastUsage(%s): %v", id, err)
	}
	return out
}

var luUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// luWant fails unless key id's last use is op at instant at with request
// ID rid, and returns its CloudTrailEventId.
func (e *fxEnv) luWant(id, op string, at time.Time, rid string) string {
	e.t.Helper()
	u := e.luGet(id).KeyLastUsage
	if u.Operation != op || u.Timestamp == nil || !u.Timestamp.Equal(at) || u.KmsRequestId != rid || !luUUID.MatchString(u.CloudTrailEventId) {
		e.t.Fatalf("KeyLastUsage of %s = %+v (at %v), want %s at %v with request ID %s", id, u, fxDeref(u.Timestamp), op, at, rid)
	}
	return u.CloudTrailEventId
}

// luReopener returns a function that opens a new service over one store
// and one manual clock (starting at fxT0), as a restarted process would.
func luReopener(t *testing.T) func() *fxEnv {
	st := store.NewMemory()
	clk := kms.NewManualClock(fxT0)
	return func() *fxEnv {
		s, err := kms.Open(context.Background(), st, kms.WithClock(clk))
		if err != nil {
			t.Fatal(err)
		}
		return &fxEnv{t: t, s: s, clk: clk, ctx: context.Background()}
	}
}

// §10: the empty object before any use; each counted operation, when it
// succeeds, is the last use, with the request ID of its context and an
// event ID of its own; calls that are not cryptographic or that fail do
// not count.
func TestGetKeyLastUsageOperations(t *testing.T) {
	e := fxNew(t)
	e.advance(time.Hour)
	sym := e.create(&kms.CreateKeyInput{})
	out := e.luGet(sym.KeyId)
	if out.KeyId != sym.Arn || out.KeyLastUsage != (kms.KeyLastUsage{}) || !out.KeyCreationDate.Equal(sym.CreationDate) ||
		!out.TrackingStartDate.Equal(sym.CreationDate) {
		t.Fatalf("before any use: %+v", out)
	}
	// KeyCreationDate ≥ TrackingStartDate: never used since creation.

	sign, _ := e.kindKey("ECC_NIST_P256", "SIGN_VERIFY")
	mac, _ := e.kindKey("HMAC_256", "GENERATE_VERIFY_MAC")
	agree, _ := e.kindKey("ECC_NIST_P256", "KEY_AGREEMENT")
	peer := e.astPrepare(astAgree, "").peer
	var blob, sig, tag []byte
	seen := map[string]bool{}
	n := 0
	for _, c := range []struct {
		op, id string
		call   func(ctx context.Context) error
	}{
		{"Encrypt", sym.KeyId, func(ctx context.Context) error {
			o, err := e.s.Encrypt(ctx, &kms.EncryptInput{KeyId: sym.KeyId, Plaintext: []byte("p")})
			if err == nil {
				blob = o.CiphertextBlob
			}
			return err
		}},
		{"Decrypt", sym.KeyId, func(ctx context.Context) error {
			_, err := e.s.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob})
			return err
		}},
		{"ReEncrypt", sym.KeyId, func(ctx context.Context) error {
			_, err := e.s.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: sym.KeyId})
			return err
		}},
		{"GenerateDataKey", sym.KeyId, func(ctx context.Context) error {
			_, err := e.s.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: sym.KeyId, KeySpec: "AES_256"})
			return err
		}},
		{"GenerateDataKeyWithoutPlaintext", sym.KeyId, func(ctx context.Context) error {
			_, err := e.s.GenerateDataKeyWithoutPlaintext(ctx, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: sym.KeyId, KeySpec: "AES_256"})
			return err
		}},
		{"GenerateDataKeyPair", sym.KeyId, func(ctx context.Context) error {
			_, err := e.s.GenerateDataKeyPair(ctx, &kms.GenerateDataKeyPairInput{KeyId: sym.KeyId, KeyPairSpec: "ECC_NIST_P256"})
			return err
		}},
		{"GenerateDataKeyPairWithoutPlaintext", sym.KeyId, func(ctx context.Context) error {
			_, err := e.s.GenerateDataKeyPairWithoutPlaintext(ctx, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: sym.KeyId, KeyPairSpec: "ECC_NIST_P256"})
			return err
		}},
		{"Sign", sign, func(ctx context.Context) error {
			o, err := e.s.Sign(ctx, &kms.SignInput{KeyId: sign, Message: asMsg, SigningAlgorithm: "ECDSA_SHA_256"})
			if err == nil {
				sig = o.Signature
			}
			return err
		}},
		{"Verify", sign, func(ctx context.Context) error {
			_, err := e.s.Verify(ctx, &kms.VerifyInput{KeyId: sign, Message: asMsg, SigningAlgorithm: "ECDSA_SHA_256", Signature: sig})
			return err
		}},
		{"GenerateMac", mac, func(ctx context.Context) error {
			o, err := e.s.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: mac, Message: asMsg, MacAlgorithm: "HMAC_SHA_256"})
			if err == nil {
				tag = o.Mac
			}
			return err
		}},
		{"VerifyMac", mac, func(ctx context.Context) error {
			_, err := e.s.VerifyMac(ctx, &kms.VerifyMacInput{KeyId: mac, Message: asMsg, MacAlgorithm: "HMAC_SHA_256", Mac: tag})
			return err
		}},
		{"DeriveSharedSecret", agree, func(ctx context.Context) error {
			_, err := e.s.DeriveSharedSecret(ctx, &kms.DeriveSharedSecretInput{KeyId: agree, KeyAgreementAlgorithm: "ECDH", PublicKey: peer})
			return err
		}},
	} {
		n++
		at := e.advance(time.Minute)
		rid := "req-" + c.op
		if err := c.call(kms.WithRequestID(e.ctx, rid)); err != nil {
			t.Fatalf("%s: %v", c.op, err)
		}
		ev := e.luWant(c.id, c.op, at, rid)
		if seen[ev] {
			t.Fatalf("%s: CloudTrailEventId %s used before", c.op, ev)
		}
		seen[ev] = true
	}

	// Not counted: GetPublicKey, DescribeKey, management calls, and
	// failures (a wrong signature, a wrong MAC, a refused algorithm).
	signAt, macAt := e.now(), e.now()
	signEv := e.luWant(sign, "Verify", signAt.Add(-3*time.Minute), "req-Verify")
	e.advance(time.Minute)
	e.asPublic(sign)
	e.describe(sign)
	if _, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: sign, Tags: []kms.Tag{{TagKey: "a", TagValue: "b"}}}); err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), sig...)
	bad[len(bad)-1] ^= 1
	if _, err := e.s.Verify(e.ctx, &kms.VerifyInput{KeyId: sign, Message: asMsg, SigningAlgorithm: "ECDSA_SHA_256", Signature: bad}); err == nil {
		t.Fatal("a bad signature verified")
	}
	if _, err := e.s.Sign(e.ctx, &kms.SignInput{KeyId: sign, Message: asMsg, SigningAlgorithm: "ECDSA_SHA_384"}); err == nil {
		t.Fatal("Sign with another spec's algorithm succeeded")
	}
	if _, err := e.s.VerifyMac(e.ctx, &kms.VerifyMacInput{KeyId: mac, Message: []byte("other"), MacAlgorithm: "HMAC_SHA_256", Mac: tag}); err == nil {
		t.Fatal("a wrong MAC verified")
	}
	if ev := e.luWant(sign, "Verify", signAt.Add(-3*time.Minute), "req-Verify"); ev != signEv {
		t.Fatalf("the event ID changed to %s", ev)
	}
	e.luWant(mac, "VerifyMac", macAt.Add(-time.Minute), "req-VerifyMac")

	// Without a request ID the service makes one up, in UUID form.
	e.asSign(sign, "ECDSA_SHA_256", "RAW", asMsg)
	if u := e.luGet(sign).KeyLastUsage; u.Operation != "Sign" || !luUUID.MatchString(u.KmsRequestId) || u.KmsRequestId == u.CloudTrailEventId {
		t.Fatalf("made-up request ID: %+v", u)
	}
}

// §10: ReEncrypt counts for both its keys; each key of a multi-Region key
// counts its own calls.
func TestGetKeyLastUsageReEncryptAndRegions(t *testing.T) {
	e := fxNew(t)
	src, _ := e.symmetric()
	dst, _ := e.kindKey("RSA_2048", "ENCRYPT_DECRYPT")
	blob, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: src, Plaintext: []byte("p")})
	if err != nil {
		t.Fatal(err)
	}
	at := e.advance(time.Minute)
	ctx := kms.WithRequestID(e.ctx, "re-1")
	if _, err := e.s.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: blob.CiphertextBlob, DestinationKeyId: dst,
		DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_256"}); err != nil {
		t.Fatal(err)
	}
	e.luWant(src, "ReEncrypt", at, "re-1")
	e.luWant(dst, "ReEncrypt", at, "re-1")

	west := e.mrIn(mrWest)
	id, _ := e.asMRKey("HMAC_256", "GENERATE_VERIFY_MAC")
	e.mrReplicate(id, mrWest)
	at = e.advance(time.Minute)
	west.asMac(id, "HMAC_SHA_256", asMsg)
	if u := e.luGet(id).KeyLastUsage; u != (kms.KeyLastUsage{}) {
		t.Fatalf("the primary counts its replica's call: %+v", u)
	}
	if u := west.luGet(id); u.KeyLastUsage.Operation != "GenerateMac" || !u.KeyLastUsage.Timestamp.Equal(at) || u.KeyId != mrARN(mrWest, id) {
		t.Fatalf("the replica: %+v", u)
	}
}

// D31: GetKeyLastUsage takes a key ID or key ARN of the caller's own
// account only (§10: aliases are not supported; cross-account no, D6).
func TestGetKeyLastUsageRefusals(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	e.createAlias("alias/lu", id)
	get := func(ctx context.Context, keyID string) error {
		_, err := e.s.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: keyID})
		return err
	}
	aliasARN, other := fxAliasARN("alias/lu"), fxARNIn(fxOther, id)
	for _, keyID := range []string{"alias/lu", aliasARN} {
		// D5, with the alias wording of the other ID-only operations.
		fxCheckErr(t, get(e.ctx, keyID), fxWant{Code: keystate.ErrNotFound, Op: keystate.GetKeyLastUsage, KeyID: aliasARN,
			Msg: "Alias " + aliasARN + " is not found."})
	}
	// D6: another account's key is not visible to this call.
	fxCheckErr(t, get(e.ctx, other), fxWant{Code: keystate.ErrNotFound, Op: keystate.GetKeyLastUsage, KeyID: other, Msg: fxNotExist(other)})
	// The key's own account by ARN and by ID.
	if e.luGet(arn).KeyId != arn {
		t.Fatal("by ARN")
	}
}

// D31: usage is kept in memory, so a restarted service reports no usage,
// and TrackingStartDate is its first clock reading for the keys created
// before it (KeyCreationDate < TrackingStartDate: no record since tracking
// began), the creation for keys created since.
func TestGetKeyLastUsageAcrossOpen(t *testing.T) {
	open := luReopener(t)
	e := open()
	old := e.create(&kms.CreateKeyInput{})
	if out := e.luGet(old.KeyId); !out.TrackingStartDate.Equal(fxT0) || !out.KeyCreationDate.Equal(fxT0) {
		t.Fatalf("first service: %+v", out)
	}
	e.advance(time.Hour)
	if _, err := e.s.GenerateDataKey(e.ctx, &kms.GenerateDataKeyInput{KeyId: old.KeyId, NumberOfBytes: kms.Int32(16)}); err != nil {
		t.Fatal(err)
	}
	restart := e.advance(fxDay)
	e = open()
	out := e.luGet(old.KeyId)
	if out.KeyLastUsage != (kms.KeyLastUsage{}) || !out.TrackingStartDate.Equal(restart) || !out.KeyCreationDate.Equal(fxT0) {
		t.Fatalf("after the restart: %+v", out)
	}
	later := e.advance(time.Hour)
	young := e.create(&kms.CreateKeyInput{})
	if out := e.luGet(young.KeyId); !out.TrackingStartDate.Equal(later) || !out.KeyCreationDate.Equal(later) {
		t.Fatalf("a key created after the restart: %+v", out)
	}
}

// D74 (spec aws-kms-policies-grants.md §5.1: kms:TrailingDaysWithoutKeyUsage,
// whole days rounded down, on DisableKey and ScheduleKeyDeletion): the
// days since the key's last use, or without one since its
// TrackingStartDate (its creation, or a reopened service's start). A key
// policy that protects keys used within 30 days, as AWS's example does,
// refuses to disable or delete a new or lately used key, and allows it
// 31 days on.
func TestTrailingDaysWithoutKeyUsage(t *testing.T) {
	open := luReopener(t)
	e := open()
	doc := idRootAnd(`{"Effect":"Deny","Principal":"*","Action":["kms:DisableKey","kms:ScheduleKeyDeletion"],"Resource":"*",
	  "Condition":{"NumericLessThanEquals":{"kms:TrailingDaysWithoutKeyUsage":"30"}}}`)
	id, arn := idKey(t, e, doc)
	disable := func() error {
		_, err := e.s.DisableKey(e.ctx, &kms.DisableKeyInput{KeyId: id})
		return err
	}
	schedule := func() error {
		_, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(7)})
		return err
	}
	pzDenied(t, disable(), pzRoot, "kms:DisableKey", arn, true) // created today: 0 days
	e.advance(30*fxDay + 23*time.Hour)
	pzDenied(t, schedule(), pzRoot, "kms:ScheduleKeyDeletion", arn, true) // 30 days 23 hours: 30
	e.advance(time.Hour)
	if err := disable(); err != nil {
		t.Fatalf("DisableKey 31 days after the key's creation: %v", err)
	}
	e.enable(id)
	if _, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	e.advance(20 * fxDay)
	pzDenied(t, disable(), pzRoot, "kms:DisableKey", arn, true) // used 20 days ago
	// A failed use does not count: Decrypt of another key's ciphertext.
	other, _ := e.symmetric()
	ct, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: other, Plaintext: []byte("p")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, KeyId: id}); err == nil {
		t.Fatal("Decrypt of another key's ciphertext under id succeeded")
	}
	e.advance(11 * fxDay)
	if err := schedule(); err != nil {
		t.Fatalf("ScheduleKeyDeletion 31 days after the key's last use: %v", err)
	}
	if _, err := e.s.CancelKeyDeletion(e.ctx, &kms.CancelKeyDeletionInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	e.enable(id)
	if _, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")}); err != nil {
		t.Fatal(err)
	}

	// A reopened service saw no use: it counts from its start (its first
	// clock reading, here this DisableKey's), not from the last use the
	// previous one saw.
	e.advance(40 * fxDay)
	e = open()
	pzDenied(t, disable(), pzRoot, "kms:DisableKey", arn, true)
	e.advance(31 * fxDay)
	if err := disable(); err != nil {
		t.Fatalf("DisableKey 31 days after the service's start: %v", err)
	}
}

// D74: only DisableKey and ScheduleKeyDeletion carry
// kms:TrailingDaysWithoutKeyUsage (spec aws-kms-policies-grants.md §5.1:
// "DisableKey, ScheduleKeyDeletion", "KP+IAM"), and identity-based
// policies see it too.
func TestTrailingDaysWithoutKeyUsageWhere(t *testing.T) {
	e := fxNew(t)
	id, arn := idKey(t, e, idRootAnd(`{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*",
	  "Condition":{"Null":{"kms:TrailingDaysWithoutKeyUsage":"false"}}}`))
	if _, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatalf("DescribeKey carries kms:TrailingDaysWithoutKeyUsage: %v", err)
	}
	if _, err := e.s.EnableKey(e.ctx, &kms.EnableKeyInput{KeyId: id}); err != nil {
		t.Fatalf("EnableKey carries kms:TrailingDaysWithoutKeyUsage: %v", err)
	}
	_, err := e.s.DisableKey(e.ctx, &kms.DisableKeyInput{KeyId: id})
	pzDenied(t, err, pzRoot, "kms:DisableKey", arn, true)

	ip := kms.NewIdentityPolicies()
	grMust(t, ip.Put(pzApp, "p", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"},
	 {"Effect":"Deny","Action":"kms:DisableKey","Resource":"*","Condition":{"NumericLessThan":{"kms:TrailingDaysWithoutKeyUsage":"30"}}}]}`))
	e = fxNew(t, kms.WithIdentityPolicies(ip))
	id, _ = e.symmetric()
	_, err = e.s.DisableKey(e.as2(pzApp), &kms.DisableKeyInput{KeyId: id})
	d73DeniedIn(t, "a role whose identity-based policy denies DisableKey of a new key", "an identity-based policy", err)
	e.advance(30 * fxDay)
	if _, err := e.s.DisableKey(e.as2(pzApp), &kms.DisableKeyInput{KeyId: id}); err != nil {
		t.Fatalf("the role, 30 days on: %v", err)
	}
}
