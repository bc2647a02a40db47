package kms_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/racetest"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// Issue 18 ("a write that loses a revision race … is retried or refused
// exactly as a single service would have decided"): a write is decided by
// its authorization too. A node whose write a grant allowed, when another
// node revokes that grant before the write commits, loses its race and
// runs the call again, which the revocation then refuses; the same for a
// write allowed by the key policy of a key it does not write (DeleteAlias),
// when another node changes that policy to deny it. Before the store
// compared what a call's authorization read (store.Batch.ReadKeys,
// ReadGrants), both writes committed.

func TestClusterWriteAllowedByRevokedGrantRefused(t *testing.T) {
	ctx := context.Background()
	ra, a, b, out := clRacingKey(t)
	arn := out.KeyMetadata.Arn
	g, err := a.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: arn, GranteePrincipal: pzPartner, Operations: []string{"CreateGrant", "Encrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	partner := kms.WithPrincipal(ctx, pzPartner)
	// The grantee may create a grant, with no race.
	if _, err := a.CreateGrant(partner, &kms.CreateGrantInput{KeyId: arn, GranteePrincipal: pzPartner, Operations: []string{"Encrypt"}}); err != nil {
		t.Fatalf("CreateGrant by the grantee of a grant allowing it: %v", err)
	}
	ra.Before(func() {
		if _, err := b.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: arn, GrantId: g.GrantId}); err != nil {
			t.Errorf("RevokeGrant on b: %v", err)
		}
	})
	_, err = a.CreateGrant(partner, &kms.CreateGrantInput{KeyId: arn, GranteePrincipal: pzPartner, Operations: []string{"Decrypt"}, Name: "late"})
	wantRefusedAfterRace(t, a, "CreateGrant allowed by a grant another node revoked meanwhile", err)
	for _, n := range []*kms.Service{a, b} {
		l, err := n.ListGrants(ctx, &kms.ListGrantsInput{KeyId: arn})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range l.Grants {
			if e.Name == "late" {
				t.Errorf("the refused grant %s is listed", e.GrantId)
			}
		}
		if len(l.Grants) != 1 {
			t.Errorf("%d grants listed, want 1 (the grantee's first)", len(l.Grants))
		}
	}
}

func TestClusterWriteAllowedByChangedKeyPolicyRefused(t *testing.T) {
	ctx := context.Background()
	ra, a, b, out := clRacingKey(t)
	id := out.KeyMetadata.KeyId
	session := kms.WithPrincipal(ctx, pzSession)
	for _, name := range []string{"alias/one", "alias/two"} {
		if _, err := a.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: name, TargetKeyId: id}); err != nil {
			t.Fatal(err)
		}
	}
	// The key's account's session may delete an alias, with no race.
	if _, err := a.DeleteAlias(session, &kms.DeleteAliasInput{AliasName: "alias/one"}); err != nil {
		t.Fatalf("DeleteAlias under the default key policy: %v", err)
	}
	deny := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},` +
		`{"Sid":"no","Effect":"Deny","Principal":{"AWS":"` + pzSession + `"},"Action":"kms:DeleteAlias","Resource":"*"}]}`
	ra.Before(func() {
		if _, err := b.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: deny}); err != nil {
			t.Errorf("PutKeyPolicy on b: %v", err)
		}
	})
	_, err := a.DeleteAlias(session, &kms.DeleteAliasInput{AliasName: "alias/two"})
	wantRefusedAfterRace(t, a, "DeleteAlias allowed by a key policy another node changed to deny it meanwhile", err)
	for _, n := range []*kms.Service{a, b} {
		l, err := n.ListAliases(ctx, &kms.ListAliasesInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Aliases) != 1 || l.Aliases[0].AliasName != "alias/two" {
			t.Errorf("the key's aliases %+v, want alias/two alone", l.Aliases)
		}
	}
}

// wantRefusedAfterRace checks that node a's call (what) lost its race,
// ran again once, and was then refused with AccessDeniedException (err).
func wantRefusedAfterRace(t *testing.T, a *kms.Service, what string, err error) {
	t.Helper()
	if !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("%s: %v, want AccessDeniedException", what, err)
	}
	if s, _ := a.ClusterStatus(); s.Retries != 1 {
		t.Errorf("a's status %+v: want its call run again once, having lost its race", s)
	}
}

// clRacingKey opens two nodes over a SharedMemory (clRacing) and creates a
// key on a.
func clRacingKey(t *testing.T) (ra *racetest.Store, a, b *kms.Service, out *kms.CreateKeyOutput) {
	t.Helper()
	ra, a, b, _, _ = clRacing(t, store.NewSharedMemory())
	out, err := a.CreateKey(t.Context(), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	return ra, a, b, out
}
