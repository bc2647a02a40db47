package kms

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
	"github.com/kmsmodel/kmsmodel/store"
)

// The principals of the D78 tests below.
const (
	rvApp     = "arn:aws:iam::111122223333:role/app"
	rvSession = "arn:aws:sts::111122223333:assumed-role/app/s1"
	rvRoot    = "arn:aws:iam::111122223333:root"
)

// rvKeyPolicy is a key policy giving the root every action and the role
// rvApp action.
func rvKeyPolicy(action string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + rvRoot + `"},"Action":"kms:*","Resource":"*"},` +
		`{"Effect":"Allow","Principal":{"AWS":"` + rvApp + `"},"Action":"` + action + `","Resource":"*"}]}`
}

func rvMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// d78Cluster opens two cluster nodes over one shared store, sharing one
// IdentityPolicies (as kmssim's model log keeps every node's alike) in
// which the role rvApp exists.
func d78Cluster(t *testing.T) (ip *IdentityPolicies, st *store.SharedMemory, a, b *Service, clock *ManualClock) {
	t.Helper()
	ip = NewIdentityPolicies()
	rvMust(t, ip.CreatePrincipal(rvApp))
	st, _, nodes, clock := cmOpen(t, WithIdentityPolicies(ip))
	return ip, st, nodes[0], nodes[1], clock
}

// d78Namesake deletes the role rvApp and makes it again, then opens a
// third node over st, which loads the records.
func d78Namesake(t *testing.T, ip *IdentityPolicies, st *store.SharedMemory, clock *ManualClock) *Service {
	t.Helper()
	rvMust(t, ip.DeletePrincipal(rvApp))
	rvMust(t, ip.CreatePrincipal(rvApp))
	c, err := Open(context.Background(), st, WithClock(clock), WithIdentityPolicies(ip))
	rvMust(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// D78 in a cluster: a key policy and a grant are bound as the node that
// wrote them bound them, which the records carry (store.Key.
// PolicyBinding, store.Grant.Binding), so that every node judges alike: a
// grant made on node a and a key policy put there no longer cover a
// grantee deleted and created again, on either node or on a node opened
// afterwards, and each shows the principal by its former unique ID (spec
// aws-kms-policies-grants.md §8: "A deleted role's ARN in an existing
// policy or grant shows up as its unique ID"). A policy written again
// binds anew, on every node.
func TestDecisionD78Cluster(t *testing.T) {
	ctx := context.Background()
	ip, st, a, b, clock := d78Cluster(t)
	k, err := a.CreateKey(ctx, &CreateKeyInput{})
	rvMust(t, err)
	id := k.KeyMetadata.KeyId
	_, err = a.CreateGrant(ctx, &CreateGrantInput{KeyId: id, GranteePrincipal: rvApp, Operations: []string{"Encrypt"}})
	rvMust(t, err)
	enc := func(s *Service) error {
		_, err := s.Encrypt(WithPrincipal(ctx, rvSession), &EncryptInput{KeyId: id, Plaintext: []byte("x")})
		return err
	}
	describe := func(s *Service) error {
		_, err := s.DescribeKey(WithPrincipal(ctx, rvSession), &DescribeKeyInput{KeyId: id})
		return err
	}
	doc := rvKeyPolicy("kms:DescribeKey")
	_, err = a.PutKeyPolicy(ctx, &PutKeyPolicyInput{KeyId: id, Policy: doc})
	rvMust(t, err)
	for _, s := range []*Service{a, b} {
		rvMust(t, enc(s))
		rvMust(t, describe(s))
	}
	userID, err := ip.UserID(rvApp)
	rvMust(t, err)
	c := d78Namesake(t, ip, st, clock)
	for i, s := range []*Service{a, b, c} {
		if err := enc(s); !errors.Is(err, keystate.ErrAccessDenied) {
			t.Errorf("node %d: the namesake by the grant: %v, want AccessDeniedException", i, err)
		}
		if err := describe(s); !errors.Is(err, keystate.ErrAccessDenied) {
			t.Errorf("node %d: the namesake by the key policy: %v, want AccessDeniedException", i, err)
		}
		l, err := s.ListGrants(ctx, &ListGrantsInput{KeyId: id})
		rvMust(t, err)
		p, err := s.GetKeyPolicy(ctx, &GetKeyPolicyInput{KeyId: id})
		rvMust(t, err)
		if l.Grants[0].GranteePrincipal != userID || !strings.Contains(p.Policy, userID) || strings.Contains(p.Policy, rvApp) {
			t.Errorf("node %d shows grantee %s and policy %s, want the former unique ID %s", i, l.Grants[0].GranteePrincipal, p.Policy, userID)
		}
	}
	// Written again (on b), the policy binds to the namesake, everywhere.
	_, err = b.PutKeyPolicy(ctx, &PutKeyPolicyInput{KeyId: id, Policy: doc})
	rvMust(t, err)
	for i, s := range []*Service{a, b, c} {
		if err := describe(s); err != nil {
			t.Errorf("node %d: the namesake by the policy written again: %v, want allowed", i, err)
		}
	}
}

// D78 in a cluster, across a reload: a node that reloads its state (as
// after a compaction it fell behind) binds what it loads as the records
// say, not at its own moment: a policy another node wrote before the
// role was deleted and made again still shuts the namesake out.
func TestDecisionD78ClusterReload(t *testing.T) {
	ctx := context.Background()
	ip, _, a, b, _ := d78Cluster(t)
	k, err := b.CreateKey(ctx, &CreateKeyInput{Policy: rvKeyPolicy("kms:DescribeKey")})
	rvMust(t, err)
	id := k.KeyMetadata.KeyId
	rvMust(t, ip.DeletePrincipal(rvApp))
	rvMust(t, ip.CreatePrincipal(rvApp))
	a.mu.Lock() // a has not applied b's write: it comes with the reload
	rvMust(t, a.reload())
	a.mu.Unlock()
	_, err = a.DescribeKey(WithPrincipal(ctx, rvSession), &DescribeKeyInput{KeyId: id})
	if !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("after a reload, the namesake by a policy written before the deletion: %v, want AccessDeniedException", err)
	}
}

// D78 in a cluster, across a reload: a policy written again with the
// same text on another node after the role was deleted and made again
// binds anew on the node that reloads too (its former binding of that
// text is not kept over the record's).
func TestDecisionD78ClusterReloadRewritten(t *testing.T) {
	ctx := context.Background()
	ip, _, a, b, _ := d78Cluster(t)
	doc := rvKeyPolicy("kms:DescribeKey")
	k, err := a.CreateKey(ctx, &CreateKeyInput{Policy: doc})
	rvMust(t, err)
	id := k.KeyMetadata.KeyId
	_, err = b.DescribeKey(ctx, &DescribeKeyInput{KeyId: id}) // b binds it as written
	rvMust(t, err)
	rvMust(t, ip.DeletePrincipal(rvApp))
	rvMust(t, ip.CreatePrincipal(rvApp))
	_, err = a.PutKeyPolicy(ctx, &PutKeyPolicyInput{KeyId: id, Policy: doc})
	rvMust(t, err)
	b.mu.Lock()
	err = b.reload()
	b.mu.Unlock()
	rvMust(t, err)
	for i, s := range []*Service{a, b} {
		if _, err := s.DescribeKey(WithPrincipal(ctx, rvSession), &DescribeKeyInput{KeyId: id}); err != nil {
			t.Errorf("node %d: the namesake by the policy written again: %v, want allowed", i, err)
		}
	}
}

// D78 in a cluster: the binding travels with every later write of the
// key's record (tags, description, state, rotation) and with a
// replica's own policy, so that a node opened afterwards, which loads
// the records, still shuts the namesake out of the key and the replica;
// and a grant revoked on one node leaves no binding behind on the other.
func TestDecisionD78ClusterWritesKeepBinding(t *testing.T) {
	ctx := context.Background()
	ip, st, a, b, clock := d78Cluster(t)
	doc := rvKeyPolicy("kms:DescribeKey")
	k, err := a.CreateKey(ctx, &CreateKeyInput{Policy: doc, MultiRegion: true})
	rvMust(t, err)
	id := k.KeyMetadata.KeyId
	west := WithCallerRegion(ctx, "us-west-2")
	_, err = a.ReplicateKey(ctx, &ReplicateKeyInput{KeyId: id, ReplicaRegion: "us-west-2", Policy: doc})
	rvMust(t, err)
	_, err = b.TagResource(ctx, &TagResourceInput{KeyId: id, Tags: []Tag{{TagKey: "t", TagValue: "v"}}})
	rvMust(t, err)
	_, err = b.UpdateKeyDescription(ctx, &UpdateKeyDescriptionInput{KeyId: id, Description: "d"})
	rvMust(t, err)
	_, err = b.DisableKey(ctx, &DisableKeyInput{KeyId: id})
	rvMust(t, err)
	_, err = a.EnableKey(ctx, &EnableKeyInput{KeyId: id})
	rvMust(t, err)
	_, err = b.RotateKeyOnDemand(ctx, &RotateKeyOnDemandInput{KeyId: id})
	rvMust(t, err)
	_, err = b.UpdateKeyDescription(west, &UpdateKeyDescriptionInput{KeyId: id, Description: "r"})
	rvMust(t, err)
	g, err := a.CreateGrant(ctx, &CreateGrantInput{KeyId: id, GranteePrincipal: rvApp, Operations: []string{"Encrypt"}})
	rvMust(t, err)
	_, err = b.DescribeKey(ctx, &DescribeKeyInput{KeyId: id})
	rvMust(t, err)
	if _, ok := b.grantBound[g.GrantId]; !ok {
		t.Fatal("b did not bind the grant a made")
	}
	_, err = a.RevokeGrant(ctx, &RevokeGrantInput{KeyId: id, GrantId: g.GrantId})
	rvMust(t, err)
	c := d78Namesake(t, ip, st, clock)
	for i, s := range []*Service{a, b, c} {
		for j, in := range []context.Context{ctx, west} {
			_, err := s.DescribeKey(WithPrincipal(in, rvSession), &DescribeKeyInput{KeyId: id})
			if !errors.Is(err, keystate.ErrAccessDenied) {
				t.Errorf("node %d, %s: the namesake: %v, want AccessDeniedException", i, []string{"the key", "the replica"}[j], err)
			}
		}
	}
	if _, ok := b.grantBound[g.GrantId]; ok {
		t.Error("b keeps the binding of a grant a revoked")
	}
}

// D78 across a reload: a key policy that the reload brings in (written by
// another service on the store) is bound as it is loaded.
func TestDecisionD78ReloadedPolicy(t *testing.T) {
	ctx := context.Background()
	ip := NewIdentityPolicies()
	rvMust(t, ip.CreatePrincipal(rvApp))
	st := store.NewMemory()
	s, err := Open(ctx, st, WithIdentityPolicies(ip))
	rvMust(t, err)
	other, err := Open(ctx, st, WithIdentityPolicies(ip))
	rvMust(t, err)
	doc := rvKeyPolicy("kms:Encrypt")
	k, err := other.CreateKey(ctx, &CreateKeyInput{Policy: doc})
	rvMust(t, err)
	id := k.KeyMetadata.KeyId
	s.mu.Lock()
	rvMust(t, s.reload())
	s.mu.Unlock()
	enc := func() error {
		_, err := s.Encrypt(WithPrincipal(ctx, rvSession), &EncryptInput{KeyId: id, Plaintext: []byte("x")})
		return err
	}
	rvMust(t, enc())
	rvMust(t, ip.DeletePrincipal(rvApp))
	rvMust(t, ip.CreatePrincipal(rvApp))
	if err := enc(); !errors.Is(err, keystate.ErrAccessDenied) {
		t.Errorf("after reload: the policy naming the deleted role lets its namesake in: %v", err)
	}
}

// D78 across a reload: a key policy and a grant that the reload leaves as
// they were keep their bindings, so a role deleted before the reload
// stays shut out of both (bound anew, they would let its namesake in).
func TestDecisionD78ReloadKeepsBinding(t *testing.T) {
	ctx := context.Background()
	ip := NewIdentityPolicies()
	rvMust(t, ip.CreatePrincipal(rvApp))
	s, err := Open(ctx, store.NewMemory(), WithIdentityPolicies(ip))
	rvMust(t, err)
	doc := rvKeyPolicy("kms:Encrypt")
	k, err := s.CreateKey(ctx, &CreateKeyInput{Policy: doc})
	rvMust(t, err)
	byPolicy := k.KeyMetadata.KeyId
	k, err = s.CreateKey(ctx, &CreateKeyInput{})
	rvMust(t, err)
	byGrant := k.KeyMetadata.KeyId
	_, err = s.CreateGrant(ctx, &CreateGrantInput{KeyId: byGrant, GranteePrincipal: rvApp, Operations: []string{"Encrypt"}})
	rvMust(t, err)
	for _, id := range []string{byPolicy, byGrant} {
		_, err := s.Encrypt(WithPrincipal(ctx, rvSession), &EncryptInput{KeyId: id, Plaintext: []byte("x")})
		rvMust(t, err)
	}
	rvMust(t, ip.DeletePrincipal(rvApp))
	rvMust(t, ip.CreatePrincipal(rvApp))
	s.mu.Lock()
	rvMust(t, s.reload())
	s.mu.Unlock()
	for _, id := range []string{byPolicy, byGrant} {
		_, err := s.Encrypt(WithPrincipal(ctx, rvSession), &EncryptInput{KeyId: id, Plaintext: []byte("x")})
		if !errors.Is(err, keystate.ErrAccessDenied) {
			t.Errorf("%s after a reload: the namesake's session: %v, want AccessDeniedException", id, err)
		}
	}
}

// D78 with D66: a principal deleted while a call that names it runs,
// after the call's existence check found it, is deleted after the write:
// the policy is bound at the check, so the namesake created next is not
// let in (the steps of PutKeyPolicy, with the deletion between them).
func TestDecisionD78DeletedDuringWrite(t *testing.T) {
	ctx := context.Background()
	ip := NewIdentityPolicies()
	rvMust(t, ip.CreatePrincipal(rvApp))
	s := New(WithIdentityPolicies(ip))
	k, err := s.CreateKey(ctx, &CreateKeyInput{})
	rvMust(t, err)
	id := k.KeyMetadata.KeyId
	doc, err := policy.Parse(rvKeyPolicy("kms:Encrypt"))
	rvMust(t, err)
	s.mu.Lock()
	s.call.reset()
	rvMust(t, s.checkPolicyPrincipals(keystate.PutKeyPolicy, doc, "", keystate.Enabled))
	rvMust(t, ip.DeletePrincipal(rvApp)) // meanwhile, outside the service
	rvMust(t, ip.CreatePrincipal(rvApp))
	s.setPolicy(s.rg.keys.get(id), doc, 0)
	s.mu.Unlock()
	_, err = s.Encrypt(WithPrincipal(ctx, rvSession), &EncryptInput{KeyId: id, Plaintext: []byte("x")})
	if !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("the namesake of a role deleted during the write: %v, want AccessDeniedException", err)
	}
}
