package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	var nodes []*kms.Service
	for i := range 3 {
		st := openWith(t, opts)
		svc, err := kms.Open(ctx, st, kms.WithClock(kms.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))),
			kms.WithRandom(rand.NewChaCha8([32]byte{byte(i + 1)})))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close() })
		nodes = append(nodes, svc)
	}
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
