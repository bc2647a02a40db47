package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/racetest"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// TestKMSNodesOverEtcd: three kms services, each over a store of its own
// (its own etcd client) on one prefix, see each other's acknowledged
// writes, and concurrent RotateKeyOnDemand calls spread over them succeed
// exactly as often as the quota allows (kms's cluster mode over this
// adapter, end to end), while another store writes elsewhere in the
// cluster (which moves etcd's revision, not the store's).
func TestKMSNodesOverEtcd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	elsewhere := open(t)
	for i := range 3 {
		must(t, elsewhere.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey(fmt.Sprint(i))}}))
	}
	opts := options(t)
	nodes := kmsNodes(ctx, t, nil, openWith(t, opts), openWith(t, opts), openWith(t, opts))
	out, err := nodes[0].CreateKey(ctx, &kms.CreateKeyInput{Description: "made on node 0"})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	must(t, elsewhere.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("after")}}))
	if _, err := nodes[1].DisableKey(ctx, &kms.DisableKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	must(t, elsewhere.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("after disable")}}))
	d, err := nodes[2].DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	if err != nil || d.KeyMetadata.KeyState != "Disabled" {
		t.Fatalf("node 2 describes %v, %v; want Disabled", d, err)
	}
	if _, err := nodes[2].EnableKey(ctx, &kms.EnableKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	const calls = 30
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			_, err := nodes[i%3].RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, keystate.ErrLimitExceeded):
				limited.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 10 || limited.Load() != calls-10 {
		t.Fatalf("%d rotations succeeded and %d hit the quota, want 10 and %d", ok.Load(), limited.Load(), calls-10)
	}
	for i, n := range nodes {
		rs, err := n.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id})
		if err != nil || len(rs.Rotations) != 10 {
			t.Fatalf("node %d lists %v rotations (%v), want 10", i, rs, err)
		}
	}
}

// TestKMSNodesShareCustomKeyStoresOverEtcd: custom key stores in kms's
// cluster mode over this adapter, end to end. A node applies another's
// store and key commits in place (no reload), knows the keys each store
// holds, and of eight concurrent CreateCustomKeyStore calls of one name
// spread over the nodes exactly one succeeds, the others answering
// CustomKeyStoreNameInUseException, while six of six names make six
// stores with six creation numbers, which both nodes page through alike
// (kms decision D69, store.Batch.GuardCustomKeyStores).
func TestKMSNodesShareCustomKeyStoresOverEtcd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := options(t)
	nodes := kmsNodes(ctx, t, nil, openWith(t, opts), openWith(t, opts))
	a, b := nodes[0], nodes[1]
	hsm := func(name string, n int) *kms.CreateCustomKeyStoreInput {
		return &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: name, CloudHsmClusterId: fmt.Sprintf("cluster-%013d", n),
			TrustAnchorCertificate: "-----BEGIN CERTIFICATE-----", KeyStorePassword: kms.Sensitive("kmsuser-secret-pw")}
	}
	cs, err := a.CreateCustomKeyStore(ctx, hsm("hsm", 0))
	must(t, err)
	_, err = a.ConnectCustomKeyStore(ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: cs.CustomKeyStoreId})
	must(t, err)
	before, _ := a.ClusterStatus()
	_, err = b.CreateKey(ctx, &kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: cs.CustomKeyStoreId})
	must(t, err)
	_, err = a.DisconnectCustomKeyStore(ctx, &kms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: cs.CustomKeyStoreId})
	must(t, err)
	if _, err := a.DeleteCustomKeyStore(ctx, &kms.DeleteCustomKeyStoreInput{CustomKeyStoreId: cs.CustomKeyStoreId}); !errors.Is(err, keystate.ErrCustomKeyStoreHasCMKs) {
		t.Errorf("a: DeleteCustomKeyStore of the store holding b's key: %v, want CustomKeyStoreHasCMKsException", err)
	}
	if after, _ := a.ClusterStatus(); after.Reloads != before.Reloads {
		t.Errorf("a reloaded its whole state %d times for b's key in a custom key store, want 0", after.Reloads-before.Reloads)
	}

	var made, taken atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_, err := nodes[i%2].CreateCustomKeyStore(ctx, hsm("same", 1))
			switch {
			case err == nil:
				made.Add(1)
			case errors.Is(err, keystate.ErrCustomKeyStoreNameInUse):
				taken.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	for i := range 6 {
		wg.Go(func() {
			if _, err := nodes[i%2].CreateCustomKeyStore(ctx, hsm(fmt.Sprint("store ", i), 2+i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if made.Load() != 1 || taken.Load() != 7 {
		t.Errorf("of 8 stores named alike, %d were made and %d refused as taken; want 1 and 7", made.Load(), taken.Load())
	}
	var lists [2][]string
	for i, n := range nodes {
		marker := ""
		for range 10 {
			out, err := n.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{Limit: new(int32(1)), Marker: marker})
			must(t, err)
			for _, e := range out.CustomKeyStores {
				lists[i] = append(lists[i], e.CustomKeyStoreName)
			}
			if marker = out.NextMarker; !out.Truncated {
				break
			}
		}
	}
	if len(lists[0]) != 8 || fmt.Sprint(lists[0]) != fmt.Sprint(lists[1]) {
		t.Errorf("paged one store at a time, a lists %q and b %q; want the same 8 stores", lists[0], lists[1])
	}
}

// TestKMSWriteAllowedByRevokedGrantRefusedOverEtcd: kms's cluster mode
// over this adapter compares what a write's authorization read
// (store.Batch.ReadGrants): a CreateGrant that a grant allowed, when
// another node revokes that grant before it commits, loses its race and
// runs again, which the revocation refuses. Without the comparison, it
// committed.
func TestKMSWriteAllowedByRevokedGrantRefusedOverEtcd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ra, nodes := racingNodes(ctx, t)
	a, b := nodes[0], nodes[1]
	out, err := a.CreateKey(ctx, &kms.CreateKeyInput{})
	must(t, err)
	arn := out.KeyMetadata.Arn
	const partner = "arn:aws:iam::444455556666:role/partner"
	g, err := a.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: arn, GranteePrincipal: partner, Operations: []string{"CreateGrant"}})
	must(t, err)
	ra.Before(func() {
		if _, err := b.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: arn, GrantId: g.GrantId}); err != nil {
			t.Errorf("RevokeGrant on b: %v", err)
		}
	})
	_, err = a.CreateGrant(kms.WithPrincipal(ctx, partner), &kms.CreateGrantInput{KeyId: arn, GranteePrincipal: partner, Operations: []string{"Encrypt"}})
	if !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("CreateGrant allowed by a grant another node revoked meanwhile: %v, want AccessDeniedException", err)
	}
	for _, n := range nodes {
		l, err := n.ListGrants(ctx, &kms.ListGrantsInput{KeyId: arn})
		must(t, err)
		if len(l.Grants) != 0 {
			t.Errorf("%d grants listed, want none", len(l.Grants))
		}
	}
}

// TestKMSWriteAllowedByChangedAliasesRefusedOverEtcd: the same over this
// adapter for a policy that decides by the key's aliases
// (store.Batch.ReadKeyAliases; kms:ResourceAliases, which AWS honours in
// IAM policies only: spec aws-kms-policies-grants.md §5.1): of two
// DeleteAlias calls on two nodes, each allowed by the role's
// identity-based policy only while the key has both its aliases, the one
// that loses its race runs again and is refused.
func TestKMSWriteAllowedByChangedAliasesRefusedOverEtcd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const role = "arn:aws:iam::111122223333:role/app"
	iam := kms.NewIdentityPolicies()
	must(t, iam.Put(role, "aliases", `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"kms:DeleteAlias","Resource":"*"},
	 {"Effect":"Deny","Action":"kms:DeleteAlias","Resource":"arn:aws:kms:*:111122223333:key/*",
	  "Condition":{"ForAllValues:StringNotEquals":{"kms:ResourceAliases":"alias/a"}}},
	 {"Effect":"Deny","Action":"kms:DeleteAlias","Resource":"arn:aws:kms:*:111122223333:key/*",
	  "Condition":{"ForAllValues:StringNotEquals":{"kms:ResourceAliases":"alias/b"}}}]}`))
	ra, nodes := racingNodes(ctx, t, kms.WithIdentityPolicies(iam))
	a, b := nodes[0], nodes[1]
	app := kms.WithPrincipal(ctx, role)
	out, err := a.CreateKey(ctx, &kms.CreateKeyInput{})
	must(t, err)
	for _, name := range []string{"alias/a", "alias/b"} {
		_, err := a.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: name, TargetKeyId: out.KeyMetadata.KeyId})
		must(t, err)
	}
	ra.Before(func() {
		if _, err := b.DeleteAlias(app, &kms.DeleteAliasInput{AliasName: "alias/b"}); err != nil {
			t.Errorf("DeleteAlias alias/b on b: %v", err)
		}
	})
	if _, err := a.DeleteAlias(app, &kms.DeleteAliasInput{AliasName: "alias/a"}); !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("DeleteAlias allowed by an alias another node deleted meanwhile: %v, want AccessDeniedException", err)
	}
	for _, n := range nodes {
		l, err := n.ListAliases(ctx, &kms.ListAliasesInput{KeyId: out.KeyMetadata.KeyId})
		must(t, err)
		if len(l.Aliases) != 1 || l.Aliases[0].AliasName != "alias/a" {
			t.Errorf("the key's aliases %+v, want alias/a alone", l.Aliases)
		}
	}
}

// racingNodes opens two kms nodes over etcd stores, with options kopts
// besides: the first one's writes lose their races to what ra runs first
// (racetest).
func racingNodes(ctx context.Context, t *testing.T, kopts ...kms.Option) (*racetest.Store, []*kms.Service) {
	t.Helper()
	opts := options(t)
	ra := racetest.New(openWith(t, opts))
	return ra, kmsNodes(ctx, t, kopts, ra, openWith(t, opts))
}

// kmsNodes opens a kms service over each store, with opts besides, as
// cluster nodes with manual clocks at 2026-01-01 and deterministic
// randomness, closed when the test ends.
func kmsNodes(ctx context.Context, t *testing.T, opts []kms.Option, stores ...store.Shared) []*kms.Service {
	t.Helper()
	var nodes []*kms.Service
	for i, st := range stores {
		svc, err := kms.Open(ctx, st, append(slices.Clone(opts), kms.WithClock(kms.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))),
			kms.WithRandom(rand.NewChaCha8([32]byte{byte(i + 1)})))...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close() })
		nodes = append(nodes, svc)
	}
	return nodes
}
