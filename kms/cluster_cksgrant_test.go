package kms_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/racetest"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// TestClusterGrantOnCustomKeyStoreKeyInPlace: a cluster node's CreateGrant
// writes the key's record too (its version alone changes, 2273350); for a
// key in a custom key store the other nodes apply that write in place
// (onlyVersion), as they apply a grant on any other key, instead of
// reloading their whole state for each grant (found in review: they did).
func TestClusterGrantOnCustomKeyStoreKeyInPlace(t *testing.T) {
	ctx := context.Background()
	nodes, _ := clNodes(t, store.NewSharedMemory(), 2)
	a, b := nodes[0], nodes[1]
	cks := ckStore(t, a, &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: "hsm", CloudHsmClusterId: "cluster-1a23b4cdefg",
		TrustAnchorCertificate: "-----BEGIN CERTIFICATE-----", KeyStorePassword: kms.Sensitive("kmsuser-secret-pw")})
	ckConnect(t, a, cks)
	id := ckKey(t, a, cks).KeyId
	if err := b.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := b.ClusterStatus()
	for i := range 3 {
		if _, err := a.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: "arn:aws:iam::111122223333:role/r" + string(rune('0'+i)),
			Operations: []string{"Decrypt"}}); err != nil {
			t.Fatal(err)
		}
		if err := b.Ready(ctx); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := b.ClusterStatus()
	if n := after.Reloads - before.Reloads; n != 0 {
		t.Errorf("b reloaded its whole state %d times for a's 3 CreateGrant calls on a custom key store's key; want 0 (a grant applies in place)", n)
	}
}

// TestClusterLostGrantRaceOnCustomKeyStoreKeyInPlace: the losing side. A
// grant's write lost to another node's grant on the same key is undone in
// place, for an ordinary key and for a key in a custom key store alike
// (undoable lets through the record of a key the node holds in its store).
func TestClusterLostGrantRaceOnCustomKeyStoreKeyInPlace(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	ha := racetest.New(st)
	a, err := kms.Open(ctx, ha, kms.WithClock(kms.NewManualClock(clStart)), kms.WithRandom(rand.NewChaCha8([32]byte{1})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err := kms.Open(ctx, st, kms.WithClock(kms.NewManualClock(clStart)), kms.WithRandom(rand.NewChaCha8([32]byte{2})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	cks := ckStore(t, a, &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: "hsm", CloudHsmClusterId: "cluster-1a23b4cdefg",
		TrustAnchorCertificate: "-----BEGIN CERTIFICATE-----", KeyStorePassword: kms.Sensitive("kmsuser-secret-pw")})
	ckConnect(t, a, cks)
	for name, id := range map[string]string{"ordinary key": clCreate(t, a, &kms.CreateKeyInput{}), "custom key store key": ckKey(t, a, cks).KeyId} {
		before, _ := a.ClusterStatus()
		ha.Before(func() {
			if _, err := b.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: "arn:aws:iam::111122223333:role/b",
				Operations: []string{"Decrypt"}}); err != nil {
				t.Error(err)
			}
		})
		if _, err := a.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: "arn:aws:iam::111122223333:role/a",
			Operations: []string{"Decrypt"}}); err != nil {
			t.Fatal(err)
		}
		after, _ := a.ClusterStatus()
		if r := after.Reloads - before.Reloads; r != 0 {
			t.Errorf("%s: a's lost grant race cost %d whole-state reload(s) (undone in place: %d); want it undone in place",
				name, r, after.UndoneInPlace-before.UndoneInPlace)
		}
	}
}
