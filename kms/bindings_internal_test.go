package kms

import (
	"context"
	"errors"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// The principals of the D78 tests below.
const (
	rvApp     = "arn:aws:iam::111122223333:role/app"
	rvSession = "arn:aws:sts::111122223333:assumed-role/app/s1"
	rvRoot    = "arn:aws:iam::111122223333:root"
)

func rvMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// D78 in a cluster: a grant that node a makes, node b applies and binds
// to the principals as they are then, so a grantee deleted afterwards is
// shut out on both nodes.
func TestDecisionD78ClusterGrant(t *testing.T) {
	ctx := context.Background()
	ip := NewIdentityPolicies()
	rvMust(t, ip.CreatePrincipal(rvApp))
	_, _, nodes, _ := cmOpen(t, WithIdentityPolicies(ip))
	a, b := nodes[0], nodes[1]
	k, err := a.CreateKey(ctx, &CreateKeyInput{})
	rvMust(t, err)
	id := k.KeyMetadata.KeyId
	_, err = a.CreateGrant(ctx, &CreateGrantInput{KeyId: id, GranteePrincipal: rvApp, Operations: []string{"Encrypt"}})
	rvMust(t, err)
	enc := func(s *Service) error {
		_, err := s.Encrypt(WithPrincipal(ctx, rvSession), &EncryptInput{KeyId: id, Plaintext: []byte("x")})
		return err
	}
	rvMust(t, enc(b))
	rvMust(t, ip.DeletePrincipal(rvApp))
	rvMust(t, ip.CreatePrincipal(rvApp))
	if err := enc(a); !errors.Is(err, keystate.ErrAccessDenied) {
		t.Errorf("node a: %v", err)
	}
	if err := enc(b); !errors.Is(err, keystate.ErrAccessDenied) {
		t.Errorf("node b (applied the grant): namesake allowed: %v", err)
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
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + rvRoot + `"},"Action":"kms:*","Resource":"*"},` +
		`{"Effect":"Allow","Principal":{"AWS":"` + rvApp + `"},"Action":"kms:Encrypt","Resource":"*"}]}`
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
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + rvRoot + `"},"Action":"kms:*","Resource":"*"},` +
		`{"Effect":"Allow","Principal":{"AWS":"` + rvApp + `"},"Action":"kms:Encrypt","Resource":"*"}]}`
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
