package kms_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

var clStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// clNodes opens n services over one shared store, each with a manual clock
// of its own (the cluster's clock travels through the store).
func clNodes(t *testing.T, st store.Shared, n int, opts ...kms.Option) ([]*kms.Service, []*kms.ManualClock) {
	t.Helper()
	var nodes []*kms.Service
	var clocks []*kms.ManualClock
	for i := range n {
		c := kms.NewManualClock(clStart)
		o := append([]kms.Option{kms.WithClock(c), kms.WithRandom(rand.NewChaCha8([32]byte{byte(i + 1)}))}, opts...)
		svc, err := kms.Open(context.Background(), st, o...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close() })
		nodes = append(nodes, svc)
		clocks = append(clocks, c)
	}
	return nodes, clocks
}

// clCreate creates a key on svc and returns its ID.
func clCreate(t *testing.T, svc *kms.Service, in *kms.CreateKeyInput) string {
	t.Helper()
	out, err := svc.CreateKey(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata.KeyId
}

func clState(t *testing.T, svc *kms.Service, id string) string {
	t.Helper()
	out, err := svc.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata.KeyState
}

// TestClusterReadsSeeEveryAcknowledgedWrite: a change acknowledged by one
// node is seen by the next call on every other node (linearizable reads):
// a key, its state, an alias and its move.
func TestClusterReadsSeeEveryAcknowledgedWrite(t *testing.T) {
	ctx := context.Background()
	nodes, _ := clNodes(t, store.NewSharedMemory(), 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	id := clCreate(t, a, &kms.CreateKeyInput{Description: "made on a"})
	if got := clState(t, b, id); got != "Enabled" {
		t.Fatalf("b sees %s", got)
	}
	if _, err := b.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		if got := clState(t, n, id); got != "Disabled" {
			t.Fatalf("node %d sees %s after b disabled the key", i, got)
		}
	}
	id2 := clCreate(t, c, &kms.CreateKeyInput{})
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/x", TargetKeyId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: "alias/x", TargetKeyId: id2}); err != nil {
		t.Fatal(err)
	}
	d, err := b.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: "alias/x"})
	if err != nil || d.KeyMetadata.KeyId != id2 {
		t.Fatalf("b resolves alias/x to %v, %v; want %s", d, err, id2)
	}
	_, err = b.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/x", TargetKeyId: id})
	if !errors.Is(err, keystate.ErrAlreadyExists) {
		t.Fatalf("b creating alias/x that c created: %v, want AlreadyExistsException", err)
	}
}

// TestClusterQuotaAcrossNodes: concurrent RotateKeyOnDemand calls on one
// key, spread over three nodes, succeed exactly as often as the quota
// allows, as on a single service; the others are LimitExceededException.
// Every race a node loses is run again on the state the winner left.
func TestClusterQuotaAcrossNodes(t *testing.T) {
	ctx := context.Background()
	nodes, _ := clNodes(t, store.NewSharedMemory(), 3)
	id := clCreate(t, nodes[0], &kms.CreateKeyInput{})
	const calls = 60
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Go(func() {
			_, err := nodes[i%3].RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, keystate.ErrLimitExceeded):
				limited.Add(1)
			default:
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if ok.Load() != 10 || limited.Load() != calls-10 {
		t.Fatalf("%d rotations succeeded and %d hit the quota, want 10 and %d", ok.Load(), limited.Load(), calls-10)
	}
	for i, n := range nodes {
		rs, err := n.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs.Rotations) != 10 {
			t.Fatalf("node %d lists %d rotations, want 10", i, len(rs.Rotations))
		}
	}
}

// TestClusterScheduledEventsOnce: an automatic rotation and a deletion fall
// due while every node sweeps at once; each happens exactly once, at its
// own instant, and every node sees it. The simulated clock is the
// cluster's: advanced on one node, the others follow.
func TestClusterScheduledEventsOnce(t *testing.T) {
	ctx := context.Background()
	nodes, clocks := clNodes(t, store.NewSharedMemory(), 3)
	id := clCreate(t, nodes[0], &kms.CreateKeyInput{})
	if _, err := nodes[1].EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: new(int32(90))}); err != nil {
		t.Fatal(err)
	}
	doomed := clCreate(t, nodes[2], &kms.CreateKeyInput{})
	if _, err := nodes[2].ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: doomed, PendingWindowInDays: new(int32(7))}); err != nil {
		t.Fatal(err)
	}
	// One node moves the cluster's clock a year on and writes it.
	if _, err := clocks[0].Advance(365 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	nodes[0].Sweep()
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() { n.Sweep() })
	}
	wg.Wait()
	for i, n := range nodes {
		if got := clocks[i].Now(); !got.Equal(clocks[0].Now()) {
			t.Errorf("node %d's clock reads %v, the cluster's %v", i, got, clocks[0].Now())
		}
		rs, err := n.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs.Rotations) != 4 {
			t.Errorf("node %d lists %d rotations after a year at 90 days, want 4", i, len(rs.Rotations))
		}
		for j := 1; j < len(rs.Rotations); j++ {
			if d := rs.Rotations[j].RotationDate.Sub(*rs.Rotations[j-1].RotationDate); d != 90*24*time.Hour {
				t.Errorf("node %d: rotations %d and %d are %v apart", i, j-1, j, d)
			}
		}
		if _, err := n.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: doomed}); !errors.Is(err, keystate.ErrNotFound) {
			t.Errorf("node %d: the deleted key: %v, want NotFoundException", i, err)
		}
	}
}

// TestClusterConcurrentWriters: many goroutines on three nodes write to
// shared keys and aliases at once; every call succeeds (lost races run
// again), and every node ends with the same state, that of a service
// reopened over the store.
func TestClusterConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	nodes, _ := clNodes(t, st, 3)
	var ids []string
	for range 4 {
		ids = append(ids, clCreate(t, nodes[0], &kms.CreateKeyInput{}))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 12 {
		wg.Go(func() {
			n := nodes[g%3]
			for i := range 15 {
				id := ids[(g+i)%len(ids)]
				var err error
				switch i % 5 {
				case 0:
					_, err = n.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: fmt.Sprint(g, "-", i)})
				case 1:
					_, err = n.TagResource(ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: fmt.Sprint("g", g), TagValue: fmt.Sprint(i)}}})
				case 2:
					_, err = n.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: fmt.Sprintf("alias/g%d-%d", g, i), TargetKeyId: id})
				case 3:
					_, err = n.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
				case 4:
					_, err = n.EnableKey(ctx, &kms.EnableKeyInput{KeyId: id})
				}
				if err != nil {
					errs <- fmt.Errorf("goroutine %d call %d: %w", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	re, err := kms.Open(ctx, st, kms.WithClock(kms.NewManualClock(clStart)))
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	want := clDump(t, re, ids)
	for i, n := range nodes {
		if got := clDump(t, n, ids); got != want {
			t.Errorf("node %d:\n%s\nwant (a fresh node):\n%s", i, got, want)
		}
	}
}

// clDump prints what a node knows of keys ids and of its aliases.
func clDump(t *testing.T, svc *kms.Service, ids []string) string {
	t.Helper()
	ctx := context.Background()
	s := ""
	for _, id := range ids {
		d, err := svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		tags, err := svc.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		s += fmt.Sprintf("%s %s %q %v\n", id, d.KeyMetadata.KeyState, d.KeyMetadata.Description, tags.Tags)
	}
	as, err := svc.ListAliases(ctx, &kms.ListAliasesInput{Limit: new(int32(100))})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as.Aliases {
		s += a.AliasName + " " + a.TargetKeyId + "\n"
	}
	return s
}

// TestClusterAppliesCommitsInPlace: a node follows another's changes of
// single-Region keys (creation, state, description, tags, key policy,
// rotations, aliases, grants, deletion) in place, without reloading its
// whole state, and ends where a fresh node over the store starts.
func TestClusterAppliesCommitsInPlace(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	nodes, clocks := clNodes(t, st, 2)
	a, b := nodes[0], nodes[1]
	var ids []string
	for i := range 3 {
		ids = append(ids, clCreate(t, a, &kms.CreateKeyInput{Description: fmt.Sprint("key ", i)}))
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.DisableKey(ctx, &kms.DisableKeyInput{KeyId: ids[0]}))
	must(a.TagResource(ctx, &kms.TagResourceInput{KeyId: ids[1], Tags: []kms.Tag{{TagKey: "team", TagValue: "blue"}}}))
	must(a.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: ids[1]}))
	must(a.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/one", TargetKeyId: ids[1]}))
	must(a.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/two", TargetKeyId: ids[2]}))
	must(a.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: "alias/one", TargetKeyId: ids[2]}))
	must(a.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: "alias/two"}))
	must(a.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: ids[1], GranteePrincipal: "arn:aws:iam::111122223333:role/r",
		Operations: []string{"Decrypt"}}))
	must(a.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: ids[2], PolicyName: "default",
		Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`}))
	must(a.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: ids[0], PendingWindowInDays: new(int32(7))}))
	if _, err := clocks[0].Advance(8 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	a.Sweep()
	fresh, err := kms.Open(ctx, st, kms.WithClock(kms.NewManualClock(clStart)))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	live := ids[1:]
	if got, want := clDump(t, b, live), clDump(t, fresh, live); got != want {
		t.Errorf("b:\n%s\nwant (a fresh node):\n%s", got, want)
	}
	if _, err := b.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: ids[0]}); !errors.Is(err, keystate.ErrNotFound) {
		t.Errorf("b: the key a's sweep deleted: %v", err)
	}
	for _, id := range live {
		var seen []string
		for _, n := range []*kms.Service{b, fresh} {
			gs, err := n.ListGrants(ctx, &kms.ListGrantsInput{KeyId: id})
			if err != nil {
				t.Fatal(err)
			}
			rs, err := n.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id})
			if err != nil {
				t.Fatal(err)
			}
			p, err := n.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: id})
			if err != nil {
				t.Fatal(err)
			}
			seen = append(seen, fmt.Sprintf("%d grants, rotations %v, policy %q", len(gs.Grants), rs.Rotations, p.Policy))
		}
		if seen[0] != seen[1] {
			t.Errorf("key %s: b has %s; a fresh node %s", id, seen[0], seen[1])
		}
	}
	// The deletion is a's to count and report, not b's.
	if a.Totals().Deletions != 1 || b.Totals().Deletions != 0 {
		t.Errorf("deletions counted: a %d, b %d; want 1 and 0", a.Totals().Deletions, b.Totals().Deletions)
	}
	if st, _ := b.ClusterStatus(); st.Reloads != 0 {
		t.Errorf("b reloaded its state %d times, want 0 (every commit applied in place)", st.Reloads)
	}
}

// TestClusterListKeysOrder: keys created at once on nodes that read stale
// (so that two nodes give keys the same creation number) are listed by
// every node in one order, creation then key ID, and paging through them
// with any Limit lists each exactly once (D46).
func TestClusterListKeysOrder(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	writers, _ := clNodes(t, st, 3, kms.WithStaleReads())
	var wg sync.WaitGroup
	var mu sync.Mutex
	made := map[string]bool{}
	for g := range 12 {
		wg.Go(func() {
			for range 5 {
				out, err := writers[g%3].CreateKey(ctx, &kms.CreateKeyInput{})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				made[out.KeyMetadata.KeyId] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	readers, _ := clNodes(t, st, 2)
	var first []string
	for i, n := range readers {
		for _, limit := range []int32{1, 2, 7, 1000} {
			var got []string
			seen := map[string]bool{}
			marker := ""
			for {
				out, err := n.ListKeys(ctx, &kms.ListKeysInput{Limit: new(limit), Marker: marker})
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range out.Keys {
					if seen[k.KeyId] {
						t.Fatalf("reader %d, Limit %d: key %s listed twice", i, limit, k.KeyId)
					}
					seen[k.KeyId] = true
					got = append(got, k.KeyId)
				}
				if !out.Truncated {
					break
				}
				marker = out.NextMarker
			}
			if len(got) != len(made) {
				t.Fatalf("reader %d, Limit %d: %d keys listed, %d made", i, limit, len(got), len(made))
			}
			if first == nil {
				first = got
			} else if fmt.Sprint(got) != fmt.Sprint(first) {
				t.Fatalf("reader %d, Limit %d lists another order", i, limit)
			}
		}
	}
}

// TestClusterTakesOwnCommitsFromTheWatch: a node whose writes no other
// node's interleave still takes its own commits back from the store's
// watch, instead of leaving them to pile up there (they did, without
// bound: 4.2× a single service's live heap per key after 100,000
// CreateKey calls on one etcd node); and a node that only reads takes
// the other's commits.
//
// The watch delivers on goroutines of its own, which may lag behind the
// writer (under -race, 45 of 300 commits were still on their way after
// the last write), so the writer is given idle readiness checks, yielding
// between them, until it has taken everything; before the fix it never
// took any.
func TestClusterTakesOwnCommitsFromTheWatch(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	nodes, _ := clNodes(t, st, 2)
	const writes = 300
	var last string
	for range writes {
		last = clCreate(t, nodes[0], &kms.CreateKeyInput{})
	}
	clState(t, nodes[1], last) // a read: the node catches up
	for i, n := range nodes {
		var cs kms.ClusterStatus
		for range 10000 {
			var ok bool
			if cs, ok = n.ClusterStatus(); !ok {
				t.Fatalf("node %d: not in cluster mode", i)
			}
			if cs.Revision >= writes && cs.Watched == cs.Revision {
				break
			}
			runtime.Gosched()
			if err := n.Ready(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if cs.Revision < writes || cs.Watched != cs.Revision {
			t.Errorf("node %d after %d writes on node 0 and 10,000 readiness checks: revision %d, %d commits still in the watch (watched %d)",
				i, writes, cs.Revision, cs.Revision-cs.Watched, cs.Watched)
		}
	}
}

// nodeHandle is a node's own handle on a shared store, as an etcd
// client is: closing it leaves the store open to the other nodes. Its
// watches have ended when Close returns.
type nodeHandle struct {
	*store.SharedMemory
	watches sync.WaitGroup
}

func (h *nodeHandle) Watch(ctx context.Context, after int64) (<-chan store.Change, error) {
	in, err := h.SharedMemory.Watch(ctx, after)
	if err != nil {
		return nil, err
	}
	out := make(chan store.Change)
	h.watches.Go(func() {
		defer close(out)
		for {
			select {
			case c, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- c:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	})
	return out, nil
}

func (h *nodeHandle) Close() error {
	h.watches.Wait()
	return nil
}

// TestClusterClosedNodeDoesNotReload: a call on a node closed meanwhile
// (its watch ended by Close, its store still answering) is refused
// without reloading the node's state from a snapshot and watching the
// store anew, which nothing would then stop.
func TestClusterClosedNodeDoesNotReload(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	t.Cleanup(func() { st.Close() })
	nodes, _ := clNodes(t, &nodeHandle{SharedMemory: st}, 1)
	n := nodes[0]
	id := clCreate(t, n, &kms.CreateKeyInput{})
	before, _ := n.ClusterStatus()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}); !errors.Is(err, keystate.ErrKMSInternal) {
		t.Fatalf("DescribeKey on a closed node = %v, want KMSInternalException", err)
	}
	if after, _ := n.ClusterStatus(); after.Reloads != before.Reloads {
		t.Errorf("a call on the closed node reloaded it: %d reloads, %d before", after.Reloads, before.Reloads)
	}
}
