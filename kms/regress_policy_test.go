package kms_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// Regressions the model test (TestModel…, issue 14) found in key policies
// and grants.

// rpOpen opens a service over st with a manual clock and fixed randomness.
func rpOpen(t *testing.T, st store.Store, clk *kms.ManualClock) *kms.Service {
	t.Helper()
	s, err := kms.Open(context.Background(), st, kms.WithClock(clk),
		kms.WithRandom(rand.NewChaCha8([32]byte{'k', 'm', 's', 'm', 'o', 'd', 'e', 'l'})))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A key created without a policy of its own (or with the default policy),
// and a replica, kept the default policy until a restart, after which they
// had the policy of the service's first key: CreateKey and ReplicateKey
// wrote the record of the new key before it had its slot, and the record's
// policy was slot 0's.
func TestRegressNewKeyPolicyAfterRestart(t *testing.T) {
	mem := store.NewMemory()
	clk := kms.NewManualClock(fxT0)
	s := rpOpen(t, csKeepOpen{mem}, clk)
	ctx := context.Background()
	own := `{"Version":"2012-10-17","Id":"own","Statement":[{"Sid":"own","Effect":"Allow","Principal":{"AWS":"` + pzRoot + `"},"Action":"kms:*","Resource":"*"}]}`
	first, err := s.CreateKey(ctx, &kms.CreateKeyInput{Policy: own, MultiRegion: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range []*kms.CreateKeyInput{{}, {Policy: pzDefaultText}} {
		out, err := s.CreateKey(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, out.KeyMetadata.KeyId)
	}
	rep, err := s.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: first.KeyMetadata.KeyId, ReplicaRegion: "us-west-2"})
	if err != nil {
		t.Fatal(err)
	}
	before, err := s.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: first.KeyMetadata.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = rpOpen(t, csKeepOpen{mem}, clk)
	defer s.Close()
	for _, id := range append(ids, rep.ReplicaKeyMetadata.Arn) {
		c := ctx
		if id == rep.ReplicaKeyMetadata.Arn {
			c = kms.WithCallerRegion(ctx, "us-west-2")
		}
		got, err := s.GetKeyPolicy(c, &kms.GetKeyPolicyInput{KeyId: id})
		if err != nil || got.Policy != pzDefaultText {
			t.Fatalf("after a restart GetKeyPolicy(%s) = %q, %v; want the default policy", id, got.Policy, err)
		}
	}
	got, err := s.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: first.KeyMetadata.KeyId})
	if err != nil || got.Policy != before.Policy {
		t.Fatalf("after a restart the first key's policy is %q, %v; want %q", got.Policy, err, before.Policy)
	}
}

// D68: ListGrants lists a key's grants oldest first, and those made at one
// instant in the order they were made (their creation numbers,
// store.Grant.Seq), also after a restart (the store gives them in grant ID
// order).
func TestRegressGrantOrderAfterRestart(t *testing.T) {
	mem := store.NewMemory()
	clk := kms.NewManualClock(fxT0)
	s := rpOpen(t, csKeepOpen{mem}, clk)
	ctx := context.Background()
	k, err := s.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := k.KeyMetadata.KeyId
	var want []string
	for i := range 12 {
		out, err := s.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzAlice, Operations: []string{"Encrypt"}})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, out.GrantId)
		if i%3 == 2 { // three grants at each instant
			if _, err := clk.Advance(time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	if slices.IsSorted(want) {
		t.Fatal("the grant IDs are in creation order: the test shows nothing")
	}
	list := func() []string {
		t.Helper()
		out, err := s.ListGrants(ctx, &kms.ListGrantsInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, g := range out.Grants {
			ids = append(ids, g.GrantId)
		}
		return ids
	}
	if got := list(); !slices.Equal(got, want) {
		t.Fatalf("ListGrants = %v, want %v", got, want)
	}
	s.Close()
	s = rpOpen(t, csKeepOpen{mem}, clk)
	defer s.Close()
	if got := list(); !slices.Equal(got, want) {
		t.Fatalf("after a restart ListGrants = %v, want %v (oldest first)", got, want)
	}
}
