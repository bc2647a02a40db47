package kms

import (
	"context"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/store"
)

// D79 across a reload: the keys used since TakeKeyUses stay noted, on
// their reloaded slots, and a key the reload finds gone (deleted by
// another service on the store) is handed out as Gone.
func TestDecisionD79Reload(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(ctx, st, WithClock(NewManualClock(start)), WithKeyUsageSharing())
	rvMust(t, err)
	var ids, arns []string
	for range 3 {
		k, err := s.CreateKey(ctx, &CreateKeyInput{})
		rvMust(t, err)
		ids, arns = append(ids, k.KeyMetadata.KeyId), append(arns, k.KeyMetadata.Arn)
	}
	for _, id := range ids[1:] {
		_, err := s.Encrypt(ctx, &EncryptInput{KeyId: id, Plaintext: []byte("x")})
		rvMust(t, err)
	}
	// Another service over the store deletes the last key there.
	otherClock := NewManualClock(start)
	other, err := Open(ctx, st, WithClock(otherClock))
	rvMust(t, err)
	_, err = other.ScheduleKeyDeletion(ctx, &ScheduleKeyDeletionInput{KeyId: ids[2], PendingWindowInDays: Int32(7)})
	rvMust(t, err)
	_, err = otherClock.Advance(8 * 24 * time.Hour)
	rvMust(t, err)
	other.Sweep()
	s.mu.Lock()
	rvMust(t, s.reload())
	s.mu.Unlock()
	got := s.TakeKeyUses(nil)
	if len(got) != 2 || got[0].KeyArn != arns[2] || !got[0].Gone || got[0].Operation != "Encrypt" ||
		got[1].KeyArn != arns[1] || got[1].Operation != "Encrypt" || got[1].Gone {
		t.Fatalf("TakeKeyUses after the reload = %+v, want %s Gone, then %s's Encrypt", got, arns[2], arns[1])
	}
	out, err := s.GetKeyLastUsage(ctx, &GetKeyLastUsageInput{KeyId: ids[1]})
	rvMust(t, err)
	if out.KeyLastUsage.Operation != "Encrypt" {
		t.Fatalf("the reloaded key's last use: %+v", out.KeyLastUsage)
	}
}

// laterUse compares uses whose request IDs the service made up by their
// numbers, without making the IDs up: that must be the order of the IDs
// GetKeyLastUsage shows (and kmssim's records compare by).
func TestMadeUpIDsOrderAsTheirNumbers(t *testing.T) {
	s := New()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	seqs := []uint64{1, 2, 9, 10, 15, 16, 255, 256, 1 << 20, 1<<20 + 1, 1 << 40, 1<<61 + 7}
	for _, a := range seqs {
		for _, b := range seqs {
			byNumber := a > b
			byID := s.madeUpID(at, a, 0) > s.madeUpID(at, b, 0)
			if byNumber != byID {
				t.Errorf("seq %d against %d: by number %v, by ID %v", a, b, byNumber, byID)
			}
			later := s.laterUse(lastUse{at: at, seq: a}, lastUse{at: at, seq: b})
			if later != byID {
				t.Errorf("laterUse(seq %d, seq %d) = %v, the IDs say %v", a, b, later, byID)
			}
		}
	}
}

// D79 across a reload: a key deleted and made again under its ID (a
// multi-Region replica) does not inherit the deleted one's use, which is
// handed out as Gone.
func TestDecisionD79ReloadReplicaMadeAgain(t *testing.T) {
	ctx := context.Background()
	_, _, nodes, clock := cmOpen(t, WithKeyUsageSharing())
	s, o := nodes[0], nodes[1]
	k, err := s.CreateKey(ctx, &CreateKeyInput{MultiRegion: true})
	rvMust(t, err)
	id := k.KeyMetadata.KeyId
	west := WithCallerRegion(ctx, "us-west-2")
	_, err = s.ReplicateKey(ctx, &ReplicateKeyInput{KeyId: id, ReplicaRegion: "us-west-2"})
	rvMust(t, err)
	_, err = s.Encrypt(west, &EncryptInput{KeyId: id, Plaintext: []byte("x")})
	rvMust(t, err)
	s.TakeKeyUses(nil)
	_, err = o.ScheduleKeyDeletion(west, &ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: Int32(7)})
	rvMust(t, err)
	_, err = clock.Advance(8 * 24 * time.Hour)
	rvMust(t, err)
	o.Sweep()
	_, err = o.ReplicateKey(ctx, &ReplicateKeyInput{KeyId: id, ReplicaRegion: "us-west-2"})
	rvMust(t, err)
	s.mu.Lock()
	rvMust(t, s.reload())
	s.mu.Unlock()
	got, err := s.GetKeyLastUsage(west, &GetKeyLastUsageInput{KeyId: id})
	rvMust(t, err)
	if got.KeyLastUsage.Operation != "" {
		t.Fatalf("the replica made again inherited the deleted one's use: %+v (created %v)", got.KeyLastUsage, got.KeyCreationDate)
	}
	if uses := s.TakeKeyUses(nil); len(uses) != 1 || !uses[0].Gone || uses[0].Operation != "Encrypt" {
		t.Fatalf("TakeKeyUses after the reload = %+v, want the deleted replica's use, Gone", uses)
	}
}
