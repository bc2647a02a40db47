package kms_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/racetest"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// clRacing opens two nodes over st, with opts besides: a, whose writes
// lose their races to the function ra runs first (racetest), and b; each
// with its own clock.
func clRacing(t *testing.T, st *store.SharedMemory, opts ...kms.Option) (ra *racetest.Store, a, b *kms.Service, ca, cb *kms.ManualClock) {
	t.Helper()
	ctx := context.Background()
	ra = racetest.New(st)
	ca, cb = kms.NewManualClock(clStart), kms.NewManualClock(clStart)
	a, err := kms.Open(ctx, ra, append(opts, kms.WithClock(ca))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err = kms.Open(ctx, &nodeHandle{SharedMemory: st}, append(opts, kms.WithClock(cb))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return ra, a, b, ca, cb
}

// TestClusterUndoesLostRaceInPlace: issue 18 ("a write that loses a
// revision race reloads the records and is retried"). A node whose write
// of a key loses its race to another node's reloads only that key from
// the store, not its whole state, runs the call again, and ends where a
// fresh node over the store starts: for a description, an on-demand
// rotation and an automatic rotation (a scheduled event, which then
// happens once).
func TestClusterUndoesLostRaceInPlace(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		// race is b's write, which a's write loses to; write is a's.
		race, write func(n *kms.Service, id string) error
		// advance moves the clocks forward: a's before it writes, b's
		// before it races.
		advance time.Duration
	}{
		{"description", func(n *kms.Service, id string) error {
			_, err := n.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: "b"})
			return err
		}, func(n *kms.Service, id string) error {
			_, err := n.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: "a"})
			return err
		}, 0},
		{"on-demand rotation", func(n *kms.Service, id string) error {
			_, err := n.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
			return err
		}, func(n *kms.Service, id string) error {
			_, err := n.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
			return err
		}, 0},
		{"automatic rotation", func(n *kms.Service, id string) error {
			n.Sweep()
			return nil
		}, func(n *kms.Service, id string) error {
			n.Sweep()
			return nil
		}, 91 * 24 * time.Hour},
		{"alias move", func(n *kms.Service, id string) error {
			_, err := n.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: "alias/app", TargetKeyId: id})
			return err
		}, func(n *kms.Service, id string) error {
			_, err := n.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: "alias/app", TargetKeyId: id})
			return err
		}, 0},
		{"two keys rotated in one write, one of them raced", func(n *kms.Service, id string) error {
			_, err := n.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: "b"})
			return err
		}, func(n *kms.Service, id string) error {
			n.Sweep()
			return nil
		}, 91 * 24 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := store.NewSharedMemory()
			ra, a, b, ca, cb := clRacing(t, st)
			var ids []string
			for i := range 50 {
				ids = append(ids, clCreate(t, a, &kms.CreateKeyInput{Description: fmt.Sprint("key ", i)}))
			}
			hot, other := ids[7], ids[8]
			if _, err := a.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/app", TargetKeyId: ids[0]}); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{hot, other} {
				if _, err := a.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: kms.Int32(90)}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := b.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: hot}); err != nil {
				t.Fatal(err) // b up to date, a's key included
			}
			if _, err := ca.Advance(c.advance); err != nil {
				t.Fatal(err)
			}
			before, _ := a.ClusterStatus()
			raced := false
			ra.Before(func() {
				raced = true
				if _, err := cb.Advance(c.advance); err != nil {
					t.Error(err)
				}
				if err := c.race(b, hot); err != nil {
					t.Error(err)
				}
			})
			if err := c.write(a, hot); err != nil {
				t.Fatal(err)
			}
			if !raced {
				t.Fatal("a wrote without racing b")
			}
			after, _ := a.ClusterStatus()
			if after.Retries != before.Retries+1 || after.UndoneInPlace != before.UndoneInPlace+1 || after.Reloads != before.Reloads {
				t.Errorf("a's status %+v after %+v: want one retry, one race undone in place, no reload", after, before)
			}
			fresh, err := kms.Open(ctx, &nodeHandle{SharedMemory: st}, kms.WithClock(kms.NewManualClock(clStart)))
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close()
			want := clDump(t, fresh, ids) + clRotations(t, fresh, hot) + clRotations(t, fresh, other)
			for name, n := range map[string]*kms.Service{"a": a, "b": b} {
				if got := clDump(t, n, ids) + clRotations(t, n, hot) + clRotations(t, n, other); got != want {
					t.Errorf("%s:\n%s\nwant (a fresh node):\n%s", name, got, want)
				}
			}
		})
	}
}

// clRotations prints a key's rotation status and rotations.
func clRotations(t *testing.T, n *kms.Service, id string) string {
	t.Helper()
	rs, err := n.ListKeyRotations(context.Background(), &kms.ListKeyRotationsInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	st, err := n.GetKeyRotationStatus(context.Background(), &kms.GetKeyRotationStatusInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	s := fmt.Sprintf("%s rotation enabled %v next %v\n", id, st.KeyRotationEnabled, st.NextRotationDate)
	for _, r := range rs.Rotations {
		s += fmt.Sprintf("rotation %s %s\n", r.RotationDate.Format(time.RFC3339), r.RotationType)
	}
	return s
}

// TestClusterLostRaceOfDeletionReloads: a lost race on a write that
// undoing in place does not cover (here a key's deletion, which
// CancelKeyDeletion on another node beat) still reloads the node's whole
// state, and the call runs again: the key lives.
func TestClusterLostRaceOfDeletionReloads(t *testing.T) {
	ctx := context.Background()
	ra, a, b, ca, _ := clRacing(t, store.NewSharedMemory())
	id := clCreate(t, a, &kms.CreateKeyInput{})
	if _, err := a.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Advance(8 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	ra.Before(func() {
		if _, err := b.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: id}); err != nil {
			t.Error(err)
		}
	})
	if n := a.Sweep(); n != 0 {
		t.Errorf("a's sweep applied %d events after b cancelled the deletion, want 0", n)
	}
	if got := clState(t, a, id); got != "Disabled" {
		t.Errorf("the key on a is %s, want Disabled (its deletion cancelled)", got)
	}
	if s, _ := a.ClusterStatus(); s.Reloads != 1 || s.UndoneInPlace != 0 || s.Retries != 1 {
		t.Errorf("a's status %+v: want one reload, no race undone in place, one retry", s)
	}
}

// TestClusterUndoneReplicationLeavesNoRegion: a ReplicateKey into a
// Region the node never served, which loses its race to the primary's
// deletion on another node, is undone in place and then refused
// (KMSInvalidStateException: the primary is pending deletion); the Region
// it added holds nothing and is given back, so that the node serves the
// Regions a node loaded from the store serves.
func TestClusterUndoneReplicationLeavesNoRegion(t *testing.T) {
	const west = "us-west-2"
	ctx := context.Background()
	ra, a, b, _, _ := clRacing(t, store.NewSharedMemory())
	id := clCreate(t, a, &kms.CreateKeyInput{MultiRegion: true})
	if _, err := b.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	ra.Before(func() {
		if _, err := b.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(7)}); err != nil {
			t.Error(err)
		}
	})
	_, err := a.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: west})
	if !errors.Is(err, keystate.ErrKMSInvalidState) {
		s, _ := a.ClusterStatus()
		t.Fatalf("ReplicateKey of a primary another node scheduled for deletion: %v, want KMSInvalidStateException (%+v)", err, s)
	}
	if s, _ := a.ClusterStatus(); s.UndoneInPlace != 1 || s.Reloads != 0 || s.Retries != 1 {
		t.Errorf("a's status %+v: want one race undone in place, no reload, one retry", s)
	}
	fresh, err := kms.Open(ctx, &nodeHandle{SharedMemory: ra.Shared.(*store.SharedMemory)}, kms.WithClock(kms.NewManualClock(clStart)))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if got, want := a.Regions(), fresh.Regions(); !slices.Equal(got, want) {
		t.Errorf("a serves the Regions %q, want %q (those of a node loaded from the store)", got, want)
	}
}

// silentWatch is a node's handle whose watch delivers nothing while its
// gate is shut, as a watch on an etcd member cut off from the quorum.
type silentWatch struct {
	store.Shared
	gate atomic.Pointer[chan struct{}] // closed: open
}

func newSilentWatch(s store.Shared) *silentWatch {
	w := &silentWatch{Shared: s}
	open := make(chan struct{})
	close(open)
	w.gate.Store(&open)
	return w
}

func (w *silentWatch) shut() { c := make(chan struct{}); w.gate.Store(&c) }
func (w *silentWatch) open() { close(*w.gate.Load()) }

func (w *silentWatch) Watch(ctx context.Context, after int64) (<-chan store.Change, error) {
	in, err := w.Shared.Watch(ctx, after)
	if err != nil {
		return nil, err
	}
	out := make(chan store.Change)
	go func() {
		defer close(out)
		for c := range in {
			select {
			case <-*w.gate.Load():
			case <-ctx.Done():
				return
			}
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// TestClusterLostRaceWithSilentWatchReloads: a node that loses a race
// while its watch has not delivered the other node's commit does not wait
// for the watch (gone silent here, s.mu held, it would stop the node): it
// reloads its whole state from a snapshot, which needs no watch, and the
// call runs again and succeeds.
func TestClusterLostRaceWithSilentWatchReloads(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	ra := racetest.New(st)
	sw := newSilentWatch(ra)
	a, err := kms.Open(ctx, sw, kms.WithClock(kms.NewManualClock(clStart)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := kms.Open(ctx, &nodeHandle{SharedMemory: st}, kms.WithClock(kms.NewManualClock(clStart)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	id := clCreate(t, a, &kms.CreateKeyInput{})
	if _, err := b.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	ra.Before(func() {
		sw.shut()
		if _, err := b.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: "b"}); err != nil {
			t.Error(err)
		}
	})
	defer sw.open()
	if _, err := a.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: "a"}); err != nil {
		t.Fatal(err)
	}
	if s, _ := a.ClusterStatus(); s.Reloads != 1 || s.UndoneInPlace != 0 || s.Retries != 1 {
		t.Errorf("a's status %+v: want one reload, no race undone in place, one retry", s)
	}
	d, err := a.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	if err != nil || d.KeyMetadata.Description != "a" {
		t.Fatalf("DescribeKey on a = %v, %v; want the description a", d, err)
	}
}

// TestClusterKeyCreationRacesStoreDisconnection: a CreateKey in a custom
// key store that loses its race to the store's disconnection on another
// node runs again and is refused (CustomKeyStoreInvalidStateException),
// instead of both writes committing and leaving an Enabled key in a
// DISCONNECTED store.
func TestClusterKeyCreationRacesStoreDisconnection(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	ra, a, b, _, _ := clRacing(t, st)
	cks := ckStore(t, a, ckHSMInput("hsm"))
	ckConnect(t, a, cks)
	if got := ckDescribeStore(t, b, cks).ConnectionState; got != "CONNECTED" {
		t.Fatalf("the store is %s on b, want CONNECTED", got)
	}
	ra.Before(func() { ckDisconnect(t, b, cks) })
	out, err := a.CreateKey(ctx, &kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: cks})
	if !errors.Is(err, keystate.ErrCustomKeyStoreInvalidState) {
		var state string
		if err == nil {
			state = ckState(t, a, out.KeyMetadata.KeyId)
		}
		t.Fatalf("CreateKey in a store another node disconnected meanwhile: %v (key state %q), want CustomKeyStoreInvalidStateException", err, state)
	}
	if s, _ := a.ClusterStatus(); s.Retries != 1 {
		t.Errorf("a's status %+v: want its call run again once, having lost its race", s)
	}
	if n := clStoredKeys(t, st); n != 0 {
		t.Errorf("the store holds %d keys, want none", n)
	}
}

// clStoredKeys returns how many keys (up to 100) st holds.
func clStoredKeys(t *testing.T, st store.Store) int {
	t.Helper()
	keys, err := st.Keys(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// TestClusterSameGrantOnTwoNodes: D28 across nodes. The same named
// CreateGrant on two nodes at once (a client's retry sent to another node,
// say) makes one grant: the node that loses the race runs the call again
// and returns the other's grant, as a single service returns the grant it
// made before.
func TestClusterSameGrantOnTwoNodes(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	ra, a, b, _, _ := clRacing(t, st)
	id := clCreate(t, a, &kms.CreateKeyInput{})
	in := &kms.CreateGrantInput{KeyId: id, Name: "reader", GranteePrincipal: "arn:aws:iam::111122223333:role/r",
		Operations: []string{"Decrypt"}}
	var first string
	ra.Before(func() {
		out, err := b.CreateGrant(ctx, in)
		if err != nil {
			t.Error(err)
			return
		}
		first = out.GrantId
	})
	out, err := a.CreateGrant(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.GrantId != first {
		t.Errorf("a's CreateGrant made grant %s beside b's %s, want b's (D28)", out.GrantId, first)
	}
	for _, n := range []*kms.Service{a, b} {
		gs, err := n.ListGrants(ctx, &kms.ListGrantsInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(gs.Grants) != 1 {
			t.Errorf("the key has %d grants, want 1", len(gs.Grants))
		}
	}
	if s, _ := a.ClusterStatus(); s.Retries != 1 || s.UndoneInPlace != 1 {
		t.Errorf("a's status %+v: want its call undone in place and run again once", s)
	}
}
