package kms_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// mrkDump prints what node n shows of multi-Region key id in each of
// regions: state, description, tags, family and rotations.
func mrkDump(t *testing.T, n *kms.Service, id string, regions ...string) string {
	t.Helper()
	s := ""
	for _, r := range regions {
		ctx := kms.WithCallerRegion(context.Background(), r)
		d, err := n.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
		if err != nil {
			s += r + ": " + err.Error() + "\n"
			continue
		}
		m := d.KeyMetadata
		tags, err := n.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		rs, err := n.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		s += fmt.Sprintf("%s: %s %q %v rotations %d", r, m.KeyState, m.Description, tags.Tags, len(rs.Rotations))
		if c := m.MultiRegionConfiguration; c != nil {
			s += fmt.Sprintf(" %s primary %s replicas %v", c.MultiRegionKeyType, c.PrimaryKey.Region, c.ReplicaKeys)
		}
		s += "\n"
	}
	return s
}

// TestClusterAppliesMultiRegionCommitsInPlace: a node follows another's
// changes of a multi-Region key's family (replication, descriptions,
// tags, rotations shared with the replicas, UpdatePrimaryRegion, a
// replica's deletion) in place, without reloading its whole state, and
// ends where a fresh node over the store starts after each step.
func TestClusterAppliesMultiRegionCommitsInPlace(t *testing.T) {
	const west, eu = "us-west-2", "eu-west-1"
	regions := []string{"us-east-1", west, eu}
	st := store.NewSharedMemory()
	nodes, clocks := clNodes(t, st, 2, kms.WithPrimaryUpdateDuration(time.Hour))
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	in := func(r string) context.Context { return kms.WithCallerRegion(ctx, r) }
	out, err := a.CreateKey(ctx, &kms.CreateKeyInput{MultiRegion: true, Description: "primary"})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	steps := []struct {
		name string
		do   func() error
	}{
		{"replicate to us-west-2", func() error {
			_, err := a.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: west, Description: "west"})
			return err
		}},
		{"describe the replica", func() error {
			_, err := a.UpdateKeyDescription(in(west), &kms.UpdateKeyDescriptionInput{KeyId: id, Description: "west replica"})
			return err
		}},
		{"tag the replica", func() error {
			_, err := a.TagResource(in(west), &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "team", TagValue: "blue"}}})
			return err
		}},
		{"rotate the family", func() error {
			_, err := a.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
			return err
		}},
		{"replicate to eu-west-1", func() error {
			_, err := a.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: eu})
			return err
		}},
		{"make us-west-2 primary", func() error {
			_, err := a.UpdatePrimaryRegion(ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: west})
			return err
		}},
		{"the update completes", func() error {
			if _, err := clocks[0].Advance(2 * time.Hour); err != nil {
				return err
			}
			a.Sweep()
			return nil
		}},
		{"schedule the eu-west-1 replica's deletion", func() error {
			_, err := a.ScheduleKeyDeletion(in(eu), &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(7)})
			return err
		}},
		{"the replica is deleted", func() error {
			if _, err := clocks[0].Advance(8 * 24 * time.Hour); err != nil {
				return err
			}
			a.Sweep()
			return nil
		}},
	}
	for _, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		fresh, err := kms.Open(ctx, &nodeHandle{SharedMemory: st}, kms.WithClock(kms.NewManualClock(clStart)), kms.WithPrimaryUpdateDuration(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := mrkDump(t, fresh, id, regions...)
		fresh.Close()
		if got := mrkDump(t, b, id, regions...); got != want {
			t.Fatalf("after %s, b shows:\n%s\nwant (a fresh node):\n%s", step.name, got, want)
		}
	}
	if s, _ := b.ClusterStatus(); s.Reloads != 0 {
		t.Errorf("b reloaded its state %d times, want 0 (every commit applied in place)", s.Reloads)
	}
}

// TestClusterUndoesMultiRegionLostRaceInPlace: a lost race on a
// multi-Region key's family (a replica's description, a rotation the
// primary shares with its replicas) is undone in place too.
func TestClusterUndoesMultiRegionLostRaceInPlace(t *testing.T) {
	const west = "us-west-2"
	regions := []string{"us-east-1", west}
	ctx := context.Background()
	inWest := kms.WithCallerRegion(ctx, west)
	for _, c := range []struct {
		name string
		call func(n *kms.Service, id, by string) error
	}{
		{"replica description", func(n *kms.Service, id, by string) error {
			_, err := n.UpdateKeyDescription(inWest, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: by})
			return err
		}},
		{"family rotation", func(n *kms.Service, id, by string) error {
			_, err := n.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := store.NewSharedMemory()
			ra, a, b, _, _ := clRacing(t, st)
			out, err := a.CreateKey(ctx, &kms.CreateKeyInput{MultiRegion: true})
			if err != nil {
				t.Fatal(err)
			}
			id := out.KeyMetadata.KeyId
			if _, err := a.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: west}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.DescribeKey(inWest, &kms.DescribeKeyInput{KeyId: id}); err != nil {
				t.Fatal(err)
			}
			before, _ := a.ClusterStatus()
			ra.Before(func() {
				if err := c.call(b, id, "b"); err != nil {
					t.Error(err)
				}
			})
			if err := c.call(a, id, "a"); err != nil {
				t.Fatal(err)
			}
			after, _ := a.ClusterStatus()
			if after.UndoneInPlace != before.UndoneInPlace+1 || after.Reloads != before.Reloads {
				t.Errorf("a's status %+v after %+v: want one race undone in place, no reload", after, before)
			}
			fresh, err := kms.Open(ctx, &nodeHandle{SharedMemory: st}, kms.WithClock(kms.NewManualClock(clStart)))
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close()
			want := mrkDump(t, fresh, id, regions...)
			for name, n := range map[string]*kms.Service{"a": a, "b": b} {
				if got := mrkDump(t, n, id, regions...); got != want {
					t.Errorf("%s:\n%s\nwant (a fresh node):\n%s", name, got, want)
				}
			}
		})
	}
}

// TestClusterReplicationRacesFamilyWrites: a ReplicateKey and a write of
// the family's shared rotations on another node (RotateKeyOnDemand of the
// primary) never both commit on what they read: whichever commits second
// loses its race and runs again, so that the replica holds every rotation
// of its primary, in either order. (Before, ReplicateKey wrote only the
// replica, and neither write conflicted with the other: a replica made
// beside the rotation missed it, and so could not decrypt what its
// primary encrypted since.)
func TestClusterReplicationRacesFamilyWrites(t *testing.T) {
	const west = "us-west-2"
	ctx := context.Background()
	rotations := func(t *testing.T, n *kms.Service, id, region string) int {
		t.Helper()
		rs, err := n.ListKeyRotations(kms.WithCallerRegion(ctx, region), &kms.ListKeyRotationsInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		return len(rs.Rotations)
	}
	for _, tc := range []struct {
		name string
		// race is b's write, which commits first; call is a's, which
		// loses its race.
		race, call func(a, b *kms.Service, id string) error
	}{
		{"replication loses to a rotation",
			func(_, b *kms.Service, id string) error {
				_, err := b.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
				return err
			},
			func(a, _ *kms.Service, id string) error {
				_, err := a.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: west})
				return err
			}},
		{"rotation loses to a replication",
			func(_, b *kms.Service, id string) error {
				_, err := b.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: west})
				return err
			},
			func(a, _ *kms.Service, id string) error {
				_, err := a.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
				return err
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := store.NewSharedMemory()
			ra, a, b, ca, cb := clRacing(t, st)
			id := clCreate(t, a, &kms.CreateKeyInput{MultiRegion: true})
			if _, err := b.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}); err != nil {
				t.Fatal(err)
			}
			ra.Before(func() {
				if err := tc.race(a, b, id); err != nil {
					t.Error(err)
				}
			})
			if err := tc.call(a, b, id); err != nil {
				t.Fatal(err)
			}
			if s, _ := a.ClusterStatus(); s.Retries != 1 {
				t.Errorf("a's status %+v: want its call run again once, having lost its race", s)
			}
			// The on-demand rotation completes later (D13's schedule).
			for _, c := range []*kms.ManualClock{ca, cb} {
				if _, err := c.Advance(24 * time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			fresh, err := kms.Open(ctx, &nodeHandle{SharedMemory: st}, kms.WithClock(kms.NewManualClock(clStart.Add(24*time.Hour))))
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close()
			for _, n := range []*kms.Service{a, b, fresh} {
				p, r := rotations(t, n, id, "us-east-1"), rotations(t, n, id, west)
				if p != 1 || r != 1 {
					t.Errorf("the primary has %d rotations and its replica %d, want 1 and 1", p, r)
				}
			}
		})
	}
}

// TestClusterPrimaryDeletionRacesReplicaDeletion: a node that schedules a
// multi-Region primary's deletion while its replica's deletion completes
// on another node (whose clock is ahead) loses its race, and runs again
// on the family without the replica: the primary's waiting period starts
// at once (PendingDeletion), instead of the primary waiting, in
// PendingReplicaDeletion, for a replica that is gone.
func TestClusterPrimaryDeletionRacesReplicaDeletion(t *testing.T) {
	const west = "us-west-2"
	ctx := context.Background()
	st := store.NewSharedMemory()
	ra, a, b, _, cb := clRacing(t, st)
	id := clCreate(t, a, &kms.CreateKeyInput{MultiRegion: true})
	if _, err := a.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: west}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ScheduleKeyDeletion(kms.WithCallerRegion(ctx, west), &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.Advance(8 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	ra.Before(func() {
		if n := b.Sweep(); n != 1 {
			t.Errorf("b's sweep applied %d events, want 1 (the replica's deletion)", n)
		}
	})
	out, err := a.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(7)})
	if err != nil {
		t.Fatal(err)
	}
	if out.KeyState != "PendingDeletion" || out.DeletionDate == nil {
		t.Errorf("ScheduleKeyDeletion of the primary: state %s, deletion date %v; want PendingDeletion with a date (its replica is gone)", out.KeyState, out.DeletionDate)
	}
	fresh, err := kms.Open(ctx, &nodeHandle{SharedMemory: st}, kms.WithClock(kms.NewManualClock(clStart.Add(8*24*time.Hour))))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for _, n := range []*kms.Service{a, b, fresh} {
		if got := clState(t, n, id); got != "PendingDeletion" {
			t.Errorf("the primary is %s, want PendingDeletion", got)
		}
	}
}

// TestClusterReplicasListAlikeAfterALostReplication: a node's replication
// into us-west-2 loses its race to another node's replications into
// eu-west-1 and then us-west-2 (it is then refused: AlreadyExists). While
// undoing it, the node holds its own replica beside the other node's
// eu-west-1 replica, both with one creation number, and then takes the
// other's us-west-2 replica in place of its own: every node (and one
// loaded from the store) must still list the replicas alike, in creation
// order (D68, memberOrder). Found by TestClusterModel: the node kept the order
// of the tie, its replica's new creation number notwithstanding.
func TestClusterReplicasListAlikeAfterALostReplication(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	ra, a, b, _, _ := clRacing(t, st)
	id := clCreate(t, a, &kms.CreateKeyInput{MultiRegion: true})
	if _, err := b.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	ra.Before(func() {
		for _, r := range []string{"eu-west-1", "us-west-2"} {
			if _, err := b.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: r}); err != nil {
				t.Error(err)
			}
		}
	})
	if _, err := a.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: "us-west-2"}); !errors.Is(err, keystate.ErrAlreadyExists) {
		t.Fatalf("a's replication into us-west-2, after b's: %v, want AlreadyExistsException", err)
	}
	fresh, err := kms.Open(ctx, &nodeHandle{SharedMemory: st}, kms.WithClock(kms.NewManualClock(clStart)))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	regions := []string{"us-east-1", "eu-west-1", "us-west-2"}
	want := mrkDump(t, fresh, id, regions...)
	for name, n := range map[string]*kms.Service{"a": a, "b": b} {
		if got := mrkDump(t, n, id, regions...); got != want {
			t.Errorf("node %s shows the family as\n%s\nwant (a node loaded from the store):\n%s", name, got, want)
		}
	}
}
