package kms_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// Grants (issue 14; spec §4, decision D28).

func TestGrantCrossAccountWithConstraints(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	partner := e.as2(pzPartner)
	ec := map[string]string{"tenant": "t1", "extra": "x"}
	// Before the grant the default policy keeps the partner out.
	_, err := e.s.Encrypt(partner, &kms.EncryptInput{KeyId: arn, Plaintext: []byte("p"), EncryptionContext: ec})
	pzDenied(t, err, pzPartner, "kms:Encrypt", arn, false)
	g, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzPartner,
		Operations: []string{"Encrypt", "Decrypt"}, Name: "partner",
		Constraints: &kms.GrantConstraints{EncryptionContextSubset: map[string]string{"tenant": "t1"}}})
	if err != nil || len(g.GrantId) != 64 || g.GrantToken == "" {
		t.Fatalf("CreateGrant = %+v, %v", g, err)
	}
	ct, err := e.s.Encrypt(partner, &kms.EncryptInput{KeyId: arn, Plaintext: []byte("p"), EncryptionContext: ec})
	if err != nil {
		t.Fatalf("Encrypt by the grantee within the constraint: %v", err)
	}
	if _, err := e.s.Decrypt(partner, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, EncryptionContext: ec}); err != nil {
		t.Fatalf("Decrypt by the grantee: %v", err)
	}
	_, err = e.s.Encrypt(partner, &kms.EncryptInput{KeyId: arn, Plaintext: []byte("p"), EncryptionContext: map[string]string{"tenant": "t2"}})
	pzDenied(t, err, pzPartner, "kms:Encrypt", arn, false)
	_, err = e.s.GenerateDataKey(partner, &kms.GenerateDataKeyInput{KeyId: arn, KeySpec: "AES_256", EncryptionContext: ec})
	pzDenied(t, err, pzPartner, "kms:GenerateDataKey", arn, false)
	// D28: the same Name and parameters give the same grant, a new token.
	again, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzPartner,
		Operations: []string{"Encrypt", "Decrypt"}, Name: "partner",
		Constraints: &kms.GrantConstraints{EncryptionContextSubset: map[string]string{"tenant": "t1"}}})
	if err != nil || again.GrantId != g.GrantId || again.GrantToken == g.GrantToken {
		t.Fatalf("CreateGrant again = %+v, %v; want grant %s with a new token", again, err, g.GrantId)
	}
	list, err := e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: id})
	if err != nil || len(list.Grants) != 1 || list.Grants[0].GranteePrincipal != pzPartner || list.Grants[0].KeyId != arn ||
		list.Grants[0].IssuingAccount != pzRoot || list.Grants[0].Constraints == nil {
		t.Fatalf("ListGrants = %+v, %v", list, err)
	}
	// The grantee lists the key's grants only if allowed: it is not.
	_, err = e.s.ListGrants(partner, &kms.ListGrantsInput{KeyId: arn})
	pzDenied(t, err, pzPartner, "kms:ListGrants", arn, false)
	_, err = e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: id, GrantId: "00"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidGrantId, Op: keystate.ListGrants, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
	// RevokeGrant by the key's account; then the grantee is out again.
	if _, err := e.s.RevokeGrant(e.ctx, &kms.RevokeGrantInput{KeyId: id, GrantId: g.GrantId}); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Encrypt(partner, &kms.EncryptInput{KeyId: arn, Plaintext: []byte("p"), EncryptionContext: ec})
	pzDenied(t, err, pzPartner, "kms:Encrypt", arn, false)
	_, err = e.s.RevokeGrant(e.ctx, &kms.RevokeGrantInput{KeyId: id, GrantId: g.GrantId})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidGrantId, Op: keystate.RevokeGrant, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
	_, err = e.s.RetireGrant(e.ctx, &kms.RetireGrantInput{GrantToken: again.GrantToken})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidGrantToken, Op: keystate.RetireGrant, AnyMsg: true})
}

// D28: who may retire a grant; an explicit Deny in the policy wins over a
// grant; ListRetirableGrants.
func TestGrantRetireAndDeny(t *testing.T) {
	e := fxNew(t)
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"` + pzRoot + `"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Deny","Principal":{"AWS":"` + pzAlice + `"},"Action":"kms:Decrypt","Resource":"*"}]}`
	out, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Policy: doc})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := out.KeyMetadata.KeyId, out.KeyMetadata.Arn
	g, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzAlice,
		RetiringPrincipal: pzApp, Operations: []string{"Decrypt", "Encrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Decrypt(e.as2(pzAlice), &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob})
	pzDenied(t, err, pzAlice, "kms:Decrypt", arn, true)
	r, err := e.s.ListRetirableGrants(e.ctx, &kms.ListRetirableGrantsInput{RetiringPrincipal: pzApp})
	if err != nil || len(r.Grants) != 1 || r.Grants[0].GrantId != g.GrantId {
		t.Fatalf("ListRetirableGrants = %+v, %v", r, err)
	}
	// The partner (another account, not the retiring principal) may not.
	_, err = e.s.RetireGrant(e.as2(pzPartner), &kms.RetireGrantInput{KeyId: arn, GrantId: g.GrantId})
	if !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("RetireGrant by a stranger = %v, want AccessDeniedException", err)
	}
	// The retiring principal may, by key and grant ID too (the key
	// policy's kms:RetireGrant does not decide, spec §4.7).
	if _, err := e.s.RetireGrant(kms.WithPrincipal(e.ctx, pzSession), &kms.RetireGrantInput{KeyId: arn, GrantId: g.GrantId}); err != nil {
		t.Fatalf("RetireGrant by a session of the retiring role: %v", err)
	}
	if l, _ := e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: id}); len(l.Grants) != 0 {
		t.Fatalf("grants after RetireGrant: %+v", l.Grants)
	}
}

// Spec §9 P18: operations a key cannot perform, constraints on an
// asymmetric key; validation of the request.
func TestGrantRefusals(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	mac, macARN := e.kindKey("HMAC_256", "GENERATE_VERIFY_MAC")
	for _, c := range []struct {
		name string
		in   kms.CreateGrantInput
		want fxWant
	}{
		{"no grantee", kms.CreateGrantInput{KeyId: id, Operations: []string{"Encrypt"}},
			fxWant{Code: keystate.ErrValidation, Op: keystate.CreateGrant, AnyMsg: true}},
		{"no operations", kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzApp},
			fxWant{Code: keystate.ErrValidation, Op: keystate.CreateGrant, AnyMsg: true}},
		{"unknown operation", kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzApp, Operations: []string{"Rotate"}},
			fxWant{Code: keystate.ErrValidation, Op: keystate.CreateGrant, AnyMsg: true}},
		{"bad grantee", kms.CreateGrantInput{KeyId: id, GranteePrincipal: "app", Operations: []string{"Encrypt"}},
			fxWant{Code: keystate.ErrValidation, Op: keystate.CreateGrant, AnyMsg: true}},
		{"Sign on a symmetric key", kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzApp, Operations: []string{"Sign"}},
			fxWant{Code: keystate.ErrValidation, Op: keystate.CreateGrant, KeyID: arn, State: keystate.Enabled, AnyMsg: true}},
		{"constraints on an HMAC key", kms.CreateGrantInput{KeyId: mac, GranteePrincipal: pzApp, Operations: []string{"GenerateMac"},
			Constraints: &kms.GrantConstraints{EncryptionContextEquals: map[string]string{"a": "b"}}},
			fxWant{Code: keystate.ErrValidation, Op: keystate.CreateGrant, KeyID: macARN, State: keystate.Enabled, AnyMsg: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.s.CreateGrant(e.ctx, &c.in)
			fxCheckErr(t, err, c.want)
		})
	}
	if l, _ := e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: id}); len(l.Grants) != 0 {
		t.Fatalf("refused CreateGrant calls left grants: %+v", l.Grants)
	}
}

// Grants survive a restart over boltstore.
func TestGrantPersistsBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kms.db")
	clk := kms.NewManualClock(fxT0)
	open := func() *kms.Service {
		st, err := boltstore.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := kms.Open(t.Context(), st, kms.WithClock(clk))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	out, err := s.CreateKey(t.Context(), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.KeyMetadata.Arn
	g, err := s.CreateGrant(t.Context(), &kms.CreateGrantInput{KeyId: arn, GranteePrincipal: pzPartner, Operations: []string{"Encrypt"},
		Constraints: &kms.GrantConstraints{EncryptionContextEquals: map[string]string{"a": "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open()
	defer s.Close()
	if _, err := s.Encrypt(kms.WithPrincipal(t.Context(), pzPartner), &kms.EncryptInput{KeyId: arn, Plaintext: []byte("p"),
		EncryptionContext: map[string]string{"a": "b"}}); err != nil {
		t.Fatalf("Encrypt by the grantee after a restart: %v", err)
	}
	if _, err := s.RetireGrant(t.Context(), &kms.RetireGrantInput{GrantToken: g.GrantToken}); err != nil {
		t.Fatalf("RetireGrant with a token issued before the restart: %v", err)
	}
}

// Grants survive a restart (store.Grant) and go with their key.
func TestGrantPersists(t *testing.T) {
	m := store.NewMemory()
	clk := kms.NewManualClock(fxT0)
	s, err := kms.Open(t.Context(), csKeepOpen{m}, kms.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.CreateKey(t.Context(), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.KeyMetadata.Arn
	if _, err := s.CreateGrant(t.Context(), &kms.CreateGrantInput{KeyId: arn, GranteePrincipal: pzPartner, Operations: []string{"Encrypt"}}); err != nil {
		t.Fatal(err)
	}
	s, err = kms.Open(t.Context(), csKeepOpen{m}, kms.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Encrypt(kms.WithPrincipal(t.Context(), pzPartner), &kms.EncryptInput{KeyId: arn, Plaintext: []byte("p")}); err != nil {
		t.Fatalf("Encrypt by the grantee after a restart: %v", err)
	}
	if _, err := s.ScheduleKeyDeletion(t.Context(), &kms.ScheduleKeyDeletionInput{KeyId: arn, PendingWindowInDays: kms.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(8 * fxDay)
	s.Sweep()
	n := 0
	if err := m.Grants(t.Context(), func(store.Grant) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("grants in the store after the key's deletion: %d, %v", n, err)
	}
}

// D27: a dry run checks everything but does nothing; D28: grant tokens
// must be the service's.
func TestDryRunAndGrantTokens(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	dry := kms.WithDryRun(e.ctx)
	_, err := e.s.Encrypt(dry, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrDryRunOperation, Op: keystate.Encrypt, KeyID: arn, State: keystate.Enabled,
		Msg: "The request would have succeeded, but the DryRun option is set."})
	// A dry run that would fail fails as the call would.
	_, err = e.s.Encrypt(kms.WithPrincipal(dry, pzPartner), &kms.EncryptInput{KeyId: arn, Plaintext: []byte("p")})
	pzDenied(t, err, pzPartner, "kms:Encrypt", arn, false)
	e.disable(id)
	_, err = e.s.Encrypt(dry, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrDisabled, Op: keystate.Encrypt, KeyID: arn, State: keystate.Disabled, Msg: arn + " is disabled."})
	e.enable(id)
	_, err = e.s.CreateGrant(dry, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzApp, Operations: []string{"Encrypt"}})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrDryRunOperation, Op: keystate.CreateGrant, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
	if l, _ := e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: id}); len(l.Grants) != 0 {
		t.Fatalf("a dry-run CreateGrant made a grant")
	}
	u, _ := e.s.GetKeyLastUsage(e.ctx, &kms.GetKeyLastUsageInput{KeyId: id})
	if u.KeyLastUsage.Operation != "" {
		t.Fatalf("a dry run counted as a use: %+v", u.KeyLastUsage)
	}
	// DescribeKey takes no DryRun: it answers.
	if _, err := e.s.DescribeKey(dry, &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	g, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzApp, Operations: []string{"Encrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Encrypt(kms.WithGrantTokens(e.as2(pzApp), []string{g.GrantToken}), &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")}); err != nil {
		t.Fatalf("Encrypt with the grant's token: %v", err)
	}
	_, err = e.s.Encrypt(kms.WithGrantTokens(e.ctx, []string{"garbage"}), &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidGrantToken, Op: keystate.Encrypt, AnyMsg: true})
}

// ListRetirableGrants lists the caller's Region's grants to the retiring
// principal with their keys in creation order (as ListKeys lists them) and
// each key's grants in their order (as ListGrants lists them), however the
// grants were made across keys, in pages; keys of another Region and
// grants to another retiring principal are not listed.
func TestListRetirableGrantsOrder(t *testing.T) {
	e := fxNew(t)
	const other = "arn:aws:iam::111122223333:role/other"
	var ids []string
	for range 5 {
		id, _ := e.symmetric()
		ids = append(ids, id)
	}
	west := kms.WithCallerRegion(e.ctx, "us-west-2")
	westKey, err := e.s.CreateKey(west, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	grant := func(ctx context.Context, id, retiring string) {
		t.Helper()
		if _, err := e.s.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzAlice,
			RetiringPrincipal: retiring, Operations: []string{"Encrypt"}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{3, 0, 4, 3, 1, 0, 3, 2} {
		grant(e.ctx, ids[i], pzApp)
		grant(e.ctx, ids[(i+1)%5], other)
	}
	grant(west, westKey.KeyMetadata.KeyId, pzApp)
	var want []string
	for _, id := range ids {
		gs, err := e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: id, Limit: kms.Int32(1000)})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs.Grants {
			if g.RetiringPrincipal == pzApp {
				want = append(want, g.GrantId)
			}
		}
	}
	var got []string
	for _, g := range fxPages(t, func(marker string) ([]kms.GrantListEntry, bool, string, error) {
		out, err := e.s.ListRetirableGrants(e.ctx, &kms.ListRetirableGrantsInput{RetiringPrincipal: pzApp, Limit: kms.Int32(3), Marker: marker})
		if err != nil {
			return nil, false, "", err
		}
		return out.Grants, out.Truncated, out.NextMarker, nil
	}) {
		got = append(got, g.GrantId)
	}
	if !slices.Equal(got, want) || len(want) != 8 {
		t.Fatalf("ListRetirableGrants: %q, want %q", got, want)
	}
}

// D28 (spec §4.9): a customer managed key holds at most 50,000 grants
// (WithGrantsPerKeyQuota sets another quota); the next CreateGrant is
// LimitExceededException and changes nothing, a named grant made again
// is not a new grant, a revoked grant frees its place, and an AWS managed
// key has no quota.
func TestGrantsPerKeyQuota(t *testing.T) {
	grant := func(e *fxEnv, id, name string) (*kms.CreateGrantOutput, error) {
		return e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzAlice, Name: name, Operations: []string{"Encrypt"}})
	}
	e := fxNew(t)
	id, arn := e.symmetric()
	for i := range kms.DefaultGrantsPerKeyQuota {
		if _, err := grant(e, id, ""); err != nil {
			t.Fatalf("grant %d: %v", i+1, err)
		}
	}
	_, err := grant(e, id, "")
	fxCheckErr(t, err, fxWant{Code: keystate.ErrLimitExceeded, Op: keystate.CreateGrant, KeyID: arn, State: keystate.Enabled,
		Msg: "The request would exceed the grants quota of " + arn + "."})

	e = fxNew(t, kms.WithGrantsPerKeyQuota(2))
	id, arn = e.symmetric()
	first, err := grant(e, id, "first")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := grant(e, id, ""); err != nil {
		t.Fatal(err)
	}
	_, err = grant(e, id, "")
	fxCheckErr(t, err, fxWant{Code: keystate.ErrLimitExceeded, Op: keystate.CreateGrant, KeyID: arn, State: keystate.Enabled,
		Msg: "The request would exceed the grants quota of " + arn + "."})
	if again, err := grant(e, id, "first"); err != nil || again.GrantId != first.GrantId {
		t.Fatalf("the named grant made again at the quota: %+v, %v; want grant %s", again, err, first.GrantId)
	}
	if l, err := e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: id}); err != nil || len(l.Grants) != 2 {
		t.Fatalf("grants after the refusals: %+v, %v; want 2", l, err)
	}
	if _, err := e.s.RevokeGrant(e.ctx, &kms.RevokeGrantInput{KeyId: id, GrantId: first.GrantId}); err != nil {
		t.Fatal(err)
	}
	if _, err := grant(e, id, ""); err != nil {
		t.Fatalf("a grant in the place a revoked one freed: %v", err)
	}
	managed := e.describe("alias/aws/ebs").KeyId // the first use of the alias makes the AWS managed key
	for i := range 3 {
		if _, err := grant(e, managed, ""); err != nil {
			t.Fatalf("grant %d on an AWS managed key: %v", i+1, err)
		}
	}
}
