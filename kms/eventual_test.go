package kms_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/consistency"
	"github.com/kmsmodel/kmsmodel/store"
)

// Tests of the eventual-consistency model (issue 17; spec section (f);
// decisions D40–D45). Most use a fixed 2-second window so that its bounds
// are exact: nobody sees a change at the instant it is made, everybody
// from 2 s on.

const ecWindow = 2 * time.Second

// ecModel is a model with a fixed window, per-principal readers and seed 1.
func ecModel(window time.Duration) consistency.Model {
	m := consistency.Default()
	m.Seed = 1
	m.Delay = consistency.Fixed(window)
	return m
}

// ecNew is a service with the model on.
func ecNew(t *testing.T, m consistency.Model, opts ...kms.Option) *fxEnv {
	t.Helper()
	return fxNew(t, append([]kms.Option{kms.WithEventualConsistency(m)}, opts...)...)
}

// settled creates a symmetric key and lets its creation propagate.
func (e *fxEnv) settled() (id, arn string) {
	e.t.Helper()
	id, arn = e.symmetric()
	e.s.Propagate()
	return id, arn
}

func (e *fxEnv) encrypt(id string) ([]byte, error) {
	out, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	if err != nil {
		return nil, err
	}
	return out.CiphertextBlob, nil
}

// blobVersion is the material version a symmetric ciphertext names
// (kmsmodel's blob: format byte, key ID length and key ID, then the
// version as a big-endian uint32).
func blobVersion(t *testing.T, blob []byte) uint32 {
	t.Helper()
	n := int(blob[1])
	return binary.BigEndian.Uint32(blob[2+n:])
}

// TestECOff: without the option nothing lags and nothing is pending.
func TestECOff(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	e.describe(id)
	if st := e.s.PropagationStatus(); !reflect.DeepEqual(st, kms.PropagationStatus{Propagated: true}) {
		t.Fatalf("status %+v", st)
	}
	if n := e.s.Propagate(); n != 0 {
		t.Fatalf("Propagate = %d without the model", n)
	}
}

// TestECCreateWindow (D41; spec (f): "GetParametersForImport right after
// CreateKey can return NotFoundException"): a new key is NotFound to every
// call that names it until its creation has propagated to the caller;
// CreateKey's own answer and ListKeys show it at once.
func TestECCreateWindow(t *testing.T) {
	e := ecNew(t, ecModel(ecWindow))
	m := e.create(&kms.CreateKeyInput{Origin: "EXTERNAL"})
	_, err := e.s.GetParametersForImport(e.ctx, &kms.GetParametersForImportInput{KeyId: m.KeyId,
		WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.GetParametersForImport, KeyID: m.Arn, Msg: fxNotExist(m.Arn)})
	_, err = e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: m.Arn})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: m.Arn, Msg: fxNotExist(m.Arn)})
	_, err = e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: "alias/new", TargetKeyId: m.KeyId})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.CreateAlias, KeyID: m.Arn, Msg: fxNotExist(m.Arn)})
	if l, err := e.s.ListKeys(e.ctx, nil); err != nil || len(l.Keys) != 1 {
		t.Fatalf("ListKeys = %v, %v; want the new key (D41: lists are consistent)", l, err)
	}
	e.advance(ecWindow) // from the window's end every reader sees it
	if got := e.describe(m.KeyId); got.KeyState != "PendingImport" {
		t.Fatalf("after the window: %s", got.KeyState)
	}
	if _, err := e.s.GetParametersForImport(e.ctx, &kms.GetParametersForImportInput{KeyId: m.KeyId,
		WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"}); err != nil {
		t.Fatal(err)
	}
}

// TestECStateWindow (D41): after DisableKey, EnableKey and
// ScheduleKeyDeletion, reads and cryptographic calls see the key's
// previous state until the change has propagated; writes act on the
// latest state.
func TestECStateWindow(t *testing.T) {
	e := ecNew(t, ecModel(ecWindow))
	id, arn := e.settled()

	e.disable(id)
	if got := e.describe(id); got.KeyState != "Enabled" || !got.Enabled {
		t.Fatalf("just disabled: %s, want the previous Enabled", got.KeyState)
	}
	if _, err := e.encrypt(id); err != nil {
		t.Fatalf("a just-disabled key must still encrypt: %v", err)
	}
	e.enable(id) // a write sees the latest state (Disabled) and succeeds
	e.disable(id)
	e.advance(ecWindow)
	if got := e.describe(id); got.KeyState != "Disabled" {
		t.Fatalf("after the window: %s", got.KeyState)
	}
	_, err := e.encrypt(id)
	fxCheckErr(t, err, fxWant{Code: keystate.ErrDisabled, Op: keystate.Encrypt, KeyID: arn, State: keystate.Disabled, AnyMsg: true})

	e.enable(id)
	_, err = e.encrypt(id)
	fxCheckErr(t, err, fxWant{Code: keystate.ErrDisabled, Op: keystate.Encrypt, KeyID: arn, State: keystate.Disabled, AnyMsg: true})
	e.advance(ecWindow)
	if _, err := e.encrypt(id); err != nil {
		t.Fatal(err)
	}

	e.scheduleDeletion(id, 7)
	if got := e.describe(id); got.KeyState != "Enabled" || got.DeletionDate != nil {
		t.Fatalf("just scheduled: %+v", got)
	}
	if _, err := e.encrypt(id); err != nil {
		t.Fatalf("a key just scheduled for deletion must still encrypt: %v", err)
	}
	e.advance(ecWindow)
	if got := e.describe(id); got.KeyState != "PendingDeletion" {
		t.Fatalf("after the window: %s", got.KeyState)
	}
	_, err = e.encrypt(id)
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.Encrypt, KeyID: arn, State: keystate.PendingDeletion, AnyMsg: true})
}

// TestECAliasWindow (D41): after UpdateAlias the alias resolves to its old
// target until the change has propagated; a new alias is NotFound.
func TestECAliasWindow(t *testing.T) {
	e := ecNew(t, ecModel(ecWindow))
	a, _ := e.settled()
	b, _ := e.settled()
	e.createAlias("alias/app", a)
	_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: "alias/app"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: fxAliasARN("alias/app"),
		Msg: "Alias " + fxAliasARN("alias/app") + " is not found."})
	e.advance(ecWindow)
	if got := e.describe("alias/app"); got.KeyId != a {
		t.Fatalf("alias/app → %s, want %s", got.KeyId, a)
	}
	if _, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/app", TargetKeyId: b}); err != nil {
		t.Fatal(err)
	}
	if got := e.describe("alias/app"); got.KeyId != a {
		t.Fatalf("just updated: alias/app → %s, want the old target %s", got.KeyId, a)
	}
	blob, err := e.encrypt("alias/app")
	if err != nil || string(blob[2:2+blob[1]]) != a {
		t.Fatalf("Encrypt through the just-updated alias used %q (%v), want the old target", blob[2:2+blob[1]], err)
	}
	e.advance(ecWindow)
	if got := e.describe("alias/app"); got.KeyId != b {
		t.Fatalf("after the window: alias/app → %s, want %s", got.KeyId, b)
	}
}

const ecGrantee = "arn:aws:iam::444455556666:role/app"

// TestECGrantWindow (D42; spec (f), GT): a new grant does not allow
// anything until it has propagated, unless the call passes its grant
// token.
func TestECGrantWindow(t *testing.T) {
	e := ecNew(t, ecModel(ecWindow))
	_, arn := e.settled()
	g, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: arn, GranteePrincipal: ecGrantee, Operations: []string{"Encrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	as := kms.WithPrincipal(e.ctx, ecGrantee)
	in := &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")}
	_, err = e.s.Encrypt(as, in)
	fxCheckErr(t, err, fxWant{Code: keystate.ErrAccessDenied, Op: keystate.Encrypt, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
	if _, err := e.s.Encrypt(kms.WithGrantTokens(as, []string{g.GrantToken}), in); err != nil {
		t.Fatalf("with the grant token: %v", err)
	}
	e.advance(ecWindow)
	if _, err := e.s.Encrypt(as, in); err != nil {
		t.Fatalf("after the window: %v", err)
	}

	// RevokeGrant propagates too (API Reference: "When you create, retire,
	// or revoke a grant, there might be a brief delay"): the grant still
	// allows until then.
	if _, err := e.s.RevokeGrant(e.ctx, &kms.RevokeGrantInput{KeyId: arn, GrantId: g.GrantId}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Encrypt(as, in); err != nil {
		t.Fatalf("just revoked: %v", err)
	}
	if l, _ := e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: arn}); len(l.Grants) != 0 {
		t.Fatalf("ListGrants shows %d grants: it is consistent (D41)", len(l.Grants))
	}
	e.advance(ecWindow)
	_, err = e.s.Encrypt(as, in)
	fxCheckErr(t, err, fxWant{Code: keystate.ErrAccessDenied, Op: keystate.Encrypt, KeyID: arn, State: keystate.Enabled, AnyMsg: true})

	// A grant created and revoked within its window allows nothing to a
	// reader that never saw it.
	g2, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: arn, GranteePrincipal: ecGrantee, Operations: []string{"Encrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.RevokeGrant(e.ctx, &kms.RevokeGrantInput{KeyId: arn, GrantId: g2.GrantId}); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Encrypt(as, in)
	fxCheckErr(t, err, fxWant{Code: keystate.ErrAccessDenied, Op: keystate.Encrypt, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
}

// TestECPolicyWindow (D42): a new key policy decides only once it has
// propagated; until then the previous one does.
func TestECPolicyWindow(t *testing.T) {
	e := ecNew(t, ecModel(ecWindow))
	_, arn := e.settled()
	doc := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},` +
		`{"Effect":"Allow","Principal":{"AWS":"` + ecGrantee + `"},"Action":"kms:Encrypt","Resource":"*"}]}`
	if _, err := e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: arn, Policy: doc}); err != nil {
		t.Fatal(err)
	}
	as := kms.WithPrincipal(e.ctx, ecGrantee)
	in := &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")}
	_, err := e.s.Encrypt(as, in)
	fxCheckErr(t, err, fxWant{Code: keystate.ErrAccessDenied, Op: keystate.Encrypt, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
	if p, err := e.s.GetKeyPolicy(e.ctx, &kms.GetKeyPolicyInput{KeyId: arn}); err != nil || !strings.Contains(p.Policy, ecGrantee) {
		t.Fatalf("GetKeyPolicy = %v, %v: it shows the new policy at once (D41)", p, err)
	}
	e.advance(ecWindow)
	if _, err := e.s.Encrypt(as, in); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// TestECTagAndAliasAuthorizationWindow (D75; spec aws-kms-policies-grants.md
// §2.4, "Tag and alias changes can take up to five minutes to affect
// authorization" [DG22-abac; DG22-alias-authorization], and §9 P16): a policy that
// decides by aws:ResourceTag or kms:ResourceAliases sees the tags and
// aliases before a change until it has propagated; ListResourceTags
// shows the change at once (D41).
func TestECTagAndAliasAuthorizationWindow(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/app"
	iam := kms.NewIdentityPolicies()
	grMust(t, iam.Put(role, "abac", `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}},
	 {"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/app"}}}]}`))
	e := ecNew(t, ecModel(ecWindow), kms.WithIdentityPolicies(iam))
	as := kms.WithPrincipal(e.ctx, role)
	a, _ := e.settled()
	b, _ := e.settled()
	encrypt := func(id string) error {
		_, err := e.s.Encrypt(as, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		return err
	}
	gdk := func(id string) error {
		_, err := e.s.GenerateDataKey(as, &kms.GenerateDataKeyInput{KeyId: id, NumberOfBytes: kms.Int32(16)})
		return err
	}
	denied := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, keystate.ErrAccessDenied) {
			t.Fatalf("%s: %v, want AccessDeniedException", what, err)
		}
	}
	allowed := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	if _, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: a, Tags: []kms.Tag{{TagKey: "team", TagValue: "blue"}}}); err != nil {
		t.Fatal(err)
	}
	if tags, err := e.s.ListResourceTags(e.ctx, &kms.ListResourceTagsInput{KeyId: a}); err != nil || len(tags.Tags) != 1 {
		t.Fatalf("ListResourceTags just after TagResource: %+v, %v; want the new tag (D41)", tags, err)
	}
	denied("Encrypt just after the tag that allows it", encrypt(a))
	e.advance(ecWindow)
	allowed("Encrypt once the tag has propagated", encrypt(a))
	if _, err := e.s.UntagResource(e.ctx, &kms.UntagResourceInput{KeyId: a, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	allowed("Encrypt just after the tag's removal", encrypt(a))
	e.advance(ecWindow)
	denied("Encrypt once the removal has propagated", encrypt(a))

	e.createAlias("alias/app", a)
	denied("GenerateDataKey just after the alias that allows it", gdk(a))
	e.advance(ecWindow)
	allowed("GenerateDataKey once the alias has propagated", gdk(a))
	if _, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/app", TargetKeyId: b}); err != nil {
		t.Fatal(err)
	}
	allowed("GenerateDataKey on the alias's old target just after UpdateAlias", gdk(a))
	denied("GenerateDataKey on its new target just after UpdateAlias", gdk(b))
	e.advance(ecWindow)
	denied("GenerateDataKey on the old target once UpdateAlias has propagated", gdk(a))
	allowed("GenerateDataKey on the new target once UpdateAlias has propagated", gdk(b))
}

// TestECReEncryptOnSameKeyAliasView (D76 with D41): kms:ReEncryptOnSameKey
// compares the keys the call resolves, so an alias that a caller still
// sees at its previous target, the ciphertext's key, re-encrypts on the
// same key.
func TestECReEncryptOnSameKeyAliasView(t *testing.T) {
	onlySame := idRootAnd(`{"Effect":"Deny","Principal":"*","Action":"kms:ReEncrypt*","Resource":"*",
	  "Condition":{"Bool":{"kms:ReEncryptOnSameKey":"false"}}}`)
	e := ecNew(t, ecModel(ecWindow))
	a, arnA := idKey(t, e, onlySame)
	b, _ := e.settled()
	e.createAlias("alias/x", a)
	e.s.Propagate()
	out, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: a, Plaintext: []byte("p")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/x", TargetKeyId: b}); err != nil {
		t.Fatal(err)
	}
	res, err := e.s.ReEncrypt(e.ctx, &kms.ReEncryptInput{CiphertextBlob: out.CiphertextBlob, DestinationKeyId: "alias/x"})
	if err != nil || res.KeyId != arnA {
		t.Fatalf("ReEncrypt onto alias/x, still a for this caller: %+v, %v; want a, allowed", res, err)
	}
	e.advance(ecWindow)
	_, err = e.s.ReEncrypt(e.ctx, &kms.ReEncryptInput{CiphertextBlob: out.CiphertextBlob, DestinationKeyId: "alias/x"})
	pzDenied(t, err, pzRoot, "kms:ReEncryptFrom", arnA, true)
}

// TestECRotationWindow (D44; spec (f), RK, ROD): encryption keeps using
// the old current material until a rotation, on demand or automatic, has
// propagated; ciphertexts under the new material decrypt at once.
func TestECRotationWindow(t *testing.T) {
	e := ecNew(t, ecModel(ecWindow))
	id, _ := e.settled()
	e.rotate(id)
	blob, err := e.encrypt(id)
	if err != nil {
		t.Fatal(err)
	}
	if v := blobVersion(t, blob); v != 0 {
		t.Fatalf("just rotated: encrypted under version %d, want the old 0", v)
	}
	e.advance(ecWindow)
	blob, _ = e.encrypt(id)
	if v := blobVersion(t, blob); v != 1 {
		t.Fatalf("after the window: version %d, want 1", v)
	}
	if _, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: blob}); err != nil {
		t.Fatal(err)
	}

	e.enableRotation(id, 90)
	next := e.status(id).NextRotationDate
	e.setClock(*next)
	blob, _ = e.encrypt(id)
	if v := blobVersion(t, blob); v != 1 {
		t.Fatalf("at the automatic rotation: version %d, want the old 1", v)
	}
	e.advance(ecWindow)
	blob, _ = e.encrypt(id)
	if v := blobVersion(t, blob); v != 2 {
		t.Fatalf("after the window: version %d, want 2", v)
	}
}

// TestECDeletionWindow (D43; DEL: "up to 24 hours after" the scheduled
// date): the deletion fires at a drawn instant in [DeletionDate,
// DeletionDate+24h]; the key stays PendingDeletion until then; the seed
// decides the instant; Propagate fires it at once.
func TestECDeletionWindow(t *testing.T) {
	fire := func(seed uint64) (time.Time, time.Time) {
		m := ecModel(ecWindow)
		m.Seed = seed
		rec := &fxRecorder{}
		e := ecNew(t, m, kms.WithObserver(rec))
		id, _ := e.settled()
		date := e.scheduleDeletion(id, 7)
		e.setClock(date)
		e.s.Sweep()
		if got := e.describe(id); got.KeyState != "PendingDeletion" {
			t.Fatalf("at DeletionDate: %s", got.KeyState)
		}
		st := e.s.PropagationStatus()
		if st.Propagated || st.Pending != 1 || st.SettleTime.Before(date) || st.SettleTime.After(date.Add(24*time.Hour)) {
			t.Fatalf("status at DeletionDate %+v", st)
		}
		e.setClock(st.SettleTime.Add(-time.Microsecond))
		e.s.Sweep()
		if got := e.describe(id); got.KeyState != "PendingDeletion" {
			t.Fatalf("a µs before it fires: %s", got.KeyState)
		}
		e.setClock(st.SettleTime)
		e.s.Sweep()
		_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id})
		if !errors.Is(err, keystate.ErrNotFound) {
			t.Fatalf("after it fired: %v", err)
		}
		var deleted time.Time
		for _, ev := range rec.events {
			if ev.Name == "DeleteKey" && ev.Scheduled {
				deleted = ev.Time
			}
		}
		if !deleted.Equal(st.SettleTime) {
			t.Fatalf("DeleteKey record at %v, want %v", deleted, st.SettleTime)
		}
		if !e.s.PropagationStatus().Propagated {
			t.Fatal("still pending after the deletion")
		}
		return date, deleted
	}
	date, a := fire(1)
	if _, b := fire(1); !b.Equal(a) {
		t.Fatalf("seed 1 fired at %v then %v", a, b)
	}
	if _, c := fire(2); c.Equal(a) {
		t.Fatalf("seeds 1 and 2 both fired at %v", a)
	}
	if a.Equal(date) {
		t.Fatalf("fired exactly at DeletionDate: the drawn delay is 0")
	}

	// Propagate fires a waiting deletion at once, and CancelKeyDeletion
	// still succeeds while it waits (D43).
	e := ecNew(t, ecModel(ecWindow))
	id, _ := e.settled()
	other, _ := e.settled()
	date = e.scheduleDeletion(id, 7)
	e.scheduleDeletion(other, 7)
	e.setClock(date)
	e.cancelDeletion(other)
	if n := e.s.Propagate(); n != 2 { // the cancellation, and id's wait (other's ended with its cancellation)
		t.Fatalf("Propagate settled %d, want 2", n)
	}
	if _, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id}); !errors.Is(err, keystate.ErrNotFound) {
		t.Fatalf("after Propagate: %v", err)
	}
	if got := e.describe(other); got.KeyState != "Disabled" {
		t.Fatalf("cancelled key: %s", got.KeyState)
	}
	if !e.s.PropagationStatus().Propagated {
		t.Fatal("not propagated after Propagate")
	}
	if !e.now().Equal(date) {
		t.Fatal("Propagate moved the clock")
	}
}

// TestECObserver (D45): each change is reported when it becomes visible
// to every reader, in time order with the other records; Propagate
// reports what it forces at its instant, marked "forced".
func TestECObserver(t *testing.T) {
	rec := &fxRecorder{}
	e := ecNew(t, ecModel(ecWindow), kms.WithObserver(rec))
	id, arn := e.symmetric()
	t0 := e.now()
	e.advance(ecWindow)
	e.disable(id)
	e.advance(5 * time.Second)
	e.s.Sweep()
	var got []string
	for _, ev := range rec.events {
		if ev.Name == "PropagateChange" {
			got = append(got, ev.Time.Sub(t0).String()+" "+ev.Parameters["change"]+" "+ev.KeyARN+" "+ev.Parameters["forced"])
		}
	}
	want := []string{"2s CreateKey " + arn + " ", "4s DisableKey " + arn + " "}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("records %q, want %q", got, want)
	}
	e.enable(id)
	if n := e.s.Propagate(); n != 1 {
		t.Fatalf("Propagate = %d", n)
	}
	last := rec.events[len(rec.events)-1]
	if last.Name != "PropagateChange" || last.Parameters["forced"] != "true" || !last.Time.Equal(e.now()) {
		t.Fatalf("forced record %+v", last)
	}
	for i := 1; i < len(rec.events); i++ {
		if rec.events[i].Time.Before(rec.events[i-1].Time) {
			t.Fatalf("records out of order: %v after %v", rec.events[i].Time, rec.events[i-1].Time)
		}
	}
}

// TestECReaders (D40): per principal, a reader that saw a change keeps
// seeing it; per call, calls in the window see it or not independently;
// either way the seed reproduces every answer, and at the window's end
// everybody sees it.
func TestECReaders(t *testing.T) {
	const window = 10 * time.Second
	run := func(readers consistency.Readers, seed uint64) []bool {
		m := ecModel(window)
		m.Seed, m.Readers = seed, readers
		e := ecNew(t, m)
		id, _ := e.symmetric()
		var seen []bool
		for step := 0; step <= 100; step++ {
			for _, p := range []string{"alice", "bob", "carol"} {
				ctx := kms.WithPrincipal(e.ctx, "arn:aws:iam::111122223333:user/"+p)
				_, err := e.s.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
				seen = append(seen, err == nil)
			}
			if step < 100 {
				e.advance(window / 100)
			}
		}
		return seen
	}
	for _, readers := range []consistency.Readers{consistency.PerPrincipal, consistency.PerCall} {
		a := run(readers, 7)
		if !reflect.DeepEqual(a, run(readers, 7)) {
			t.Fatalf("%v: seed 7 is not reproducible", readers)
		}
		if reflect.DeepEqual(a, run(readers, 8)) {
			t.Fatalf("%v: seeds 7 and 8 give the same windows", readers)
		}
		if a[0] || a[1] || a[2] || !a[len(a)-1] || !a[len(a)-2] || !a[len(a)-3] {
			t.Fatalf("%v: bounds: seen at first %v, at the end %v", readers, a[:3], a[len(a)-3:])
		}
		flips := 0
		for i := 3; i < len(a); i++ {
			if a[i-3] && !a[i] { // the same principal, one step later
				flips++
			}
		}
		switch {
		case readers == consistency.PerPrincipal && flips != 0:
			t.Fatalf("per principal: a change seen was unseen %d times", flips)
		case readers == consistency.PerCall && flips == 0:
			t.Fatalf("per call: no call ever missed a change an earlier call saw")
		}
	}
}

// TestECDistributionBounds (D40): with the default distribution every
// creation becomes visible to everybody within Max, and some only after
// Typical.
func TestECDistributionBounds(t *testing.T) {
	m := consistency.Default()
	m.Seed = 5
	rec := &fxRecorder{}
	e := ecNew(t, m, kms.WithObserver(rec))
	created := map[string]time.Time{}
	for range 300 {
		_, arn := e.symmetric()
		created[arn] = e.now()
		e.advance(time.Second)
	}
	e.advance(m.Delay.Max)
	if !e.s.PropagationStatus().Propagated {
		t.Fatal("not propagated after Max")
	}
	tail := 0
	for _, ev := range rec.events {
		if ev.Name != "PropagateChange" {
			continue
		}
		d := ev.Time.Sub(created[ev.KeyARN])
		if d < m.Delay.Min || d > m.Delay.Max {
			t.Fatalf("%s visible after %v, outside [%v, %v]", ev.KeyARN, d, m.Delay.Min, m.Delay.Max)
		}
		if d > m.Delay.Typical {
			tail++
		}
	}
	if tail == 0 || tail > 30 {
		t.Fatalf("%d of 300 creations in the tail, want a few (2%%)", tail)
	}
}

// TestECReplicaWindows (D41; spec (f): ReplicateKey's Creating lasts "a
// few seconds", UpdatePrimaryRegion's Updating "a few more seconds"):
// with the model on and no duration configured, each lasts a drawn
// propagation delay (Updating: plus Typical); a configured duration still
// wins.
func TestECReplicaWindows(t *testing.T) {
	e := ecNew(t, ecModel(ecWindow))
	id, _ := e.mrPrimary()
	e.s.Propagate()
	west := e.mrIn(mrWest)
	if m := e.mrReplicate(id, mrWest); m.KeyState != "Creating" {
		t.Fatalf("replica born %s", m.KeyState)
	}
	_, err := west.encrypt(id)
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.Encrypt, KeyID: mrARN(mrWest, id), State: keystate.Creating, AnyMsg: true})
	e.advance(ecWindow - time.Microsecond)
	if got := west.describe(id); got.KeyState != "Creating" {
		t.Fatalf("a µs before the window's end: %s", got.KeyState)
	}
	e.advance(time.Microsecond)
	if got := west.describe(id); got.KeyState != "Enabled" {
		t.Fatalf("at the window's end: %s", got.KeyState)
	}
	e.s.Propagate()
	if _, err := e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: mrWest}); err != nil {
		t.Fatal(err)
	}
	e.advance(2*ecWindow - time.Microsecond) // the drawn 2 s plus Typical, also 2 s
	if got := west.describe(id); got.KeyState != "Updating" {
		t.Fatalf("a µs before Updating ends: %s", got.KeyState)
	}
	e.advance(time.Microsecond)
	if got := west.describe(id); got.KeyState != "Enabled" {
		t.Fatalf("when Updating ends: %s", got.KeyState)
	}

	e2 := ecNew(t, ecModel(ecWindow), kms.WithReplicaCreationDuration(time.Minute))
	id2, _ := e2.mrPrimary()
	e2.s.Propagate()
	e2.mrReplicate(id2, mrWest)
	e2.advance(ecWindow)
	if got := e2.mrIn(mrWest).describe(id2); got.KeyState != "Creating" {
		t.Fatalf("with a configured minute, after 2 s: %s", got.KeyState)
	}
}

// TestECRestart (D45): the model's windows live in memory. A service
// reopened on its store sees every change as propagated, and a deletion
// waiting past its DeletionDate fires at the instant the seed gives it,
// as it would have without the restart.
func TestECRestart(t *testing.T) {
	ctx := context.Background()
	open := func(mem store.Store, clk *kms.ManualClock) *kms.Service {
		s, err := kms.Open(ctx, mem, kms.WithClock(clk), kms.WithEventualConsistency(ecModel(ecWindow)),
			kms.WithRandom(rand.NewChaCha8([32]byte{9})))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	run := func(restart bool) time.Time {
		mem, clk := store.NewMemory(), kms.NewManualClock(fxT0)
		s := open(mem, clk)
		out, err := s.CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		id := out.KeyMetadata.KeyId
		if restart {
			s = open(mem, clk)
			if st := s.PropagationStatus(); !st.Propagated {
				t.Fatalf("after a restart: %+v", st)
			}
		} else {
			s.Propagate()
		}
		sd, err := s.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(7)})
		if err != nil {
			t.Fatal(err)
		}
		if err := clk.Set(*sd.DeletionDate); err != nil {
			t.Fatal(err)
		}
		s.Sweep()
		if restart {
			s = open(mem, clk)
		}
		st := s.PropagationStatus()
		if st.Pending != 1 {
			t.Fatalf("restart %v: status %+v", restart, st)
		}
		return st.SettleTime
	}
	if a, b := run(false), run(true); !a.Equal(b) {
		t.Fatalf("the deletion fires at %v, after a restart at %v", a, b)
	}
}

// TestECSeedReproducesEveryWindow (D40): a scenario touching every window
// (creation, state, alias, grant, policy, rotation), observed call by call
// with per-call readers over the default distribution, gives the same
// trace for the same seed and another for another seed; once propagated,
// every call answers as without the model.
func TestECSeedReproducesEveryWindow(t *testing.T) {
	trace := func(seed uint64) string {
		m := consistency.Default()
		m.Seed, m.Readers = seed, consistency.PerCall
		e := ecNew(t, m)
		a, _ := e.symmetric()
		c, arnC := e.symmetric()
		e.advance(m.Delay.Max)
		b, _ := e.symmetric()
		e.createAlias("alias/x", a)
		_, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: a, GranteePrincipal: ecGrantee, Operations: []string{"DescribeKey"}})
		if err != nil {
			t.Fatal(err)
		}
		e.disable(a)
		doc := `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},` +
			`{"Effect":"Allow","Principal":{"AWS":"` + ecGrantee + `"},"Action":"kms:DescribeKey","Resource":"*"}]}`
		grantee := kms.WithPrincipal(e.ctx, ecGrantee)
		var out strings.Builder
		for step := 0; step < 40; step++ {
			if step == 1 {
				if _, err := e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: c, Policy: doc}); err != nil {
					t.Fatal(err)
				}
			}
			_, errB := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: b})
			dA := e.describe(a)
			al, _ := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: "alias/x"})
			_, errG := e.s.DescribeKey(grantee, &kms.DescribeKeyInput{KeyId: fxARN(a)})
			_, errP := e.s.DescribeKey(grantee, &kms.DescribeKeyInput{KeyId: arnC})
			fmt.Fprintf(&out, "%d %v %s %v %v %v\n", step, errB == nil, dA.KeyState, al != nil, errG == nil, errP == nil)
			e.advance(100 * time.Millisecond)
		}
		e.advance(m.Delay.Max)
		if _, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: b}); err != nil {
			t.Fatalf("after Max: %v", err)
		}
		if got := e.describe(a); got.KeyState != "Disabled" {
			t.Fatalf("after Max: %s", got.KeyState)
		}
		for _, id := range []string{fxARN(a), arnC} {
			if _, err := e.s.DescribeKey(grantee, &kms.DescribeKeyInput{KeyId: id}); err != nil {
				t.Fatalf("the grantee after Max: %v", err)
			}
		}
		return out.String()
	}
	x := trace(11)
	if y := trace(11); x != y {
		t.Fatalf("seed 11 gave two traces:\n%s\n%s", x, y)
	}
	if z := trace(12); x == z {
		t.Fatalf("seeds 11 and 12 gave the same trace:\n%s", x)
	}
	if !strings.Contains(x, "false") || !strings.Contains(x, "true") {
		t.Fatalf("the trace shows no window:\n%s", x)
	}
}

// TestECDeletionRescheduled (D43): a deletion cancelled while it waits
// past its DeletionDate, then scheduled again, waits for its new date: the
// first deferral's instant deletes nothing.
func TestECDeletionRescheduled(t *testing.T) {
	e := ecNew(t, ecModel(ecWindow))
	id, _ := e.settled()
	date := e.scheduleDeletion(id, 7)
	e.setClock(date)
	e.s.Sweep()
	first := e.s.PropagationStatus().SettleTime
	if !first.After(date) {
		t.Fatalf("the deletion fires at %v, not after %v", first, date)
	}
	e.cancelDeletion(id)
	again := e.scheduleDeletion(id, 7)
	e.setClock(first)
	e.s.Sweep()
	if got := e.describe(id); got.KeyState != "PendingDeletion" || !got.DeletionDate.Equal(again) {
		t.Fatalf("at the first deferral's instant: %s %v", got.KeyState, got.DeletionDate)
	}
	if st := e.s.PropagationStatus(); st.Pending != 0 {
		t.Fatalf("status %+v: the first deferral still counts", st)
	}
	e.setClock(again.Add(24 * time.Hour))
	e.s.Sweep()
	if _, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id}); !errors.Is(err, keystate.ErrNotFound) {
		t.Fatalf("a day after the new date: %v", err)
	}
}
