package kms_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/racetest"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/consistency"
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

// recordingStore records the batches a node writes with ApplyAt.
type recordingStore struct {
	store.Shared
	mu      sync.Mutex
	batches []store.Batch
}

func (r *recordingStore) ApplyAt(ctx context.Context, read int64, bs ...*store.Batch) (int64, error) {
	r.mu.Lock()
	for _, b := range bs {
		r.batches = append(r.batches, *b)
	}
	r.mu.Unlock()
	return r.Shared.ApplyAt(ctx, read, bs...)
}

// take returns the batches recorded so far and forgets them.
func (r *recordingStore) take() []store.Batch {
	r.mu.Lock()
	defer r.mu.Unlock()
	bs := r.batches
	r.batches = nil
	return bs
}

// TestClusterEventBatchesNameNoCallsReads: the batches of scheduled events
// (a rotation here) name no call's authorization reads, whichever method
// runs the events after a call that read a grant: Sweep, and with the
// eventual consistency model PropagationStatus (which named the previous
// call's grant, so that another node's revocation of it would have
// refused the rotation, until the review of this change).
func TestClusterEventBatchesNameNoCallsReads(t *testing.T) {
	ctx := context.Background()
	for _, ec := range []bool{false, true} {
		rec := &recordingStore{Shared: store.NewSharedMemory()}
		clk := kms.NewManualClock(clStart)
		opts := []kms.Option{kms.WithClock(clk)}
		if ec {
			m := consistency.Default()
			m.Seed, m.Delay = 1, consistency.Fixed(time.Second)
			opts = append(opts, kms.WithEventualConsistency(m))
		}
		a, err := kms.Open(ctx, rec, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		out, err := a.CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		arn := out.KeyMetadata.Arn
		a.Propagate()
		if _, err := a.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: arn, RotationPeriodInDays: kms.Int32(90)}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: arn, GranteePrincipal: pzPartner, Operations: []string{"CreateGrant"}}); err != nil {
			t.Fatal(err)
		}
		a.Propagate()
		if _, err := a.CreateGrant(kms.WithPrincipal(ctx, pzPartner), &kms.CreateGrantInput{KeyId: arn, GranteePrincipal: pzPartner, Operations: []string{"Encrypt"}}); err != nil {
			t.Fatalf("CreateGrant by the grantee: %v", err)
		}
		if bs := rec.take(); len(bs) == 0 || len(bs[len(bs)-1].ReadGrants) != 1 {
			t.Fatalf("the grantee's CreateGrant wrote %+v, want a batch naming the grant that allowed it", bs)
		}
		clk.Advance(91 * 24 * time.Hour)
		if ec {
			a.PropagationStatus()
		} else {
			a.Sweep()
		}
		bs := rec.take()
		if len(bs) == 0 {
			t.Fatalf("eventual consistency %v: the rotation wrote nothing", ec)
		}
		for _, b := range bs {
			if len(b.ReadGrants) > 0 || len(b.ReadKeys) > 0 {
				t.Errorf("eventual consistency %v: an event's batch names the previous call's reads: ReadKeys %q, ReadGrants %v", ec, b.ReadKeys, b.ReadGrants)
			}
		}
	}
}

// TestClusterWriteAllowedByChangedAliasesRefused: a policy may decide by
// the key's aliases (kms:ResourceAliases, which AWS honours in IAM
// policies only: spec aws-kms-policies-grants.md §5.1, D73). Under an
// identity-based policy that lets a role delete an alias of a key only
// while the key has both alias/a and alias/b (and under such a VPC
// endpoint policy), a single service deletes one and refuses the other;
// two nodes deleting one each at once did both, until a write named the
// key's aliases as read (store.Batch.ReadKeyAliases): now the one that
// loses its race runs again and is refused.
func TestClusterWriteAllowedByChangedAliasesRefused(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/app"
	iam := kms.NewIdentityPolicies()
	if err := iam.Put(role, "aliases", bothAliasesPolicy); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ep, err := kms.NewVPCEndpoint("vpce-0123456789abcdef0", "vpc-0abc1234")
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.SetPolicy(strings.ReplaceAll(bothAliasesPolicy, `"Effect":`, `"Principal":"*","Effect":`)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		caller context.Context
		opts   []kms.Option
	}{
		{"identity-based policy", kms.WithPrincipal(ctx, role), []kms.Option{kms.WithIdentityPolicies(iam)}},
		{"VPC endpoint policy", kms.WithVPCEndpoint(ctx, ep), nil},
	} {
		for _, race := range []bool{false, true} {
			ra, a, b, _, _ := clRacing(t, store.NewSharedMemory(), tc.opts...)
			out, err := a.CreateKey(ctx, &kms.CreateKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"alias/a", "alias/b"} {
				if _, err := a.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: name, TargetKeyId: out.KeyMetadata.KeyId}); err != nil {
					t.Fatal(err)
				}
			}
			deleteB := func() {
				if _, err := b.DeleteAlias(tc.caller, &kms.DeleteAliasInput{AliasName: "alias/b"}); err != nil {
					t.Errorf("%s: DeleteAlias alias/b on b: %v", tc.name, err)
				}
			}
			if race {
				ra.Before(deleteB)
			} else {
				deleteB()
			}
			_, err = a.DeleteAlias(tc.caller, &kms.DeleteAliasInput{AliasName: "alias/a"})
			if !race {
				if !errors.Is(err, keystate.ErrAccessDenied) {
					t.Fatalf("%s: DeleteAlias of alias/a after alias/b's: %v, want AccessDeniedException", tc.name, err)
				}
				continue
			}
			wantRefusedAfterRace(t, a, tc.name+": DeleteAlias allowed by an alias another node deleted meanwhile", err)
			l, err := b.ListAliases(ctx, &kms.ListAliasesInput{KeyId: out.KeyMetadata.KeyId})
			if err != nil || len(l.Aliases) != 1 || l.Aliases[0].AliasName != "alias/a" {
				t.Errorf("%s: the key's aliases %+v, %v; want alias/a alone", tc.name, l, err)
			}
		}
	}
}

// bothAliasesPolicy is an identity-based policy that lets its holder
// delete an alias of a key only while the key has both alias/a and
// alias/b (kms:ResourceAliases on the key's resource).
const bothAliasesPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"kms:DeleteAlias","Resource":"*"},
 {"Effect":"Deny","Action":"kms:DeleteAlias","Resource":"arn:aws:kms:*:111122223333:key/*",
  "Condition":{"ForAllValues:StringNotEquals":{"kms:ResourceAliases":"alias/a"}}},
 {"Effect":"Deny","Action":"kms:DeleteAlias","Resource":"arn:aws:kms:*:111122223333:key/*",
  "Condition":{"ForAllValues:StringNotEquals":{"kms:ResourceAliases":"alias/b"}}}]}`
