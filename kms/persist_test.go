package kms_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// psStart is where the persistence scenarios' clocks start.
var psStart = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// psWorld is one service with its clock, built the same way as its twin.
type psWorld struct {
	clock *kms.ManualClock
	svc   *kms.Service
}

func psOptions(clock *kms.ManualClock) []kms.Option {
	return []kms.Option{kms.WithClock(clock), kms.WithRandom(rand.NewChaCha8([32]byte{42})),
		kms.WithOnDemandRotationDuration(time.Hour)}
}

// psBuild drives svc into a state with keys in every state it can reach,
// aliases, tags, automatic and on-demand rotations, a pending deletion and
// an on-demand rotation in progress. It returns the key IDs.
func psBuild(t *testing.T, w psWorld) []string {
	t.Helper()
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	create := func(in *kms.CreateKeyInput) string {
		out, err := w.svc.CreateKey(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, out.KeyMetadata.KeyId)
		return out.KeyMetadata.KeyId
	}
	rotating := create(&kms.CreateKeyInput{Description: "rotating", Tags: []kms.Tag{{TagKey: "team", TagValue: "a"}}})
	disabled := create(&kms.CreateKeyInput{Description: "disabled"})
	deleting := create(&kms.CreateKeyInput{Description: "deleting"})
	inProgress := create(&kms.CreateKeyInput{MultiRegion: true})
	create(&kms.CreateKeyInput{Origin: "EXTERNAL"})                                   // PendingImport
	create(&kms.CreateKeyInput{KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"}) // no rotation
	cancelled := create(&kms.CreateKeyInput{})

	must(w.svc.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: rotating, RotationPeriodInDays: kms.Int32(90)}))
	must(w.svc.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: disabled, RotationPeriodInDays: kms.Int32(120)}))
	must(w.svc.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: cancelled}))
	must(w.svc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/rotating", TargetKeyId: rotating}))
	must(w.svc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/deleting", TargetKeyId: deleting}))
	must(w.svc.TagResource(ctx, &kms.TagResourceInput{KeyId: disabled, Tags: []kms.Tag{{TagKey: "k", TagValue: "v"}}}))
	w.clock.Advance(200 * 24 * time.Hour)
	must(w.svc.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: rotating}))
	w.clock.Advance(2 * time.Hour)
	must(w.svc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: disabled}))
	must(w.svc.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: deleting, PendingWindowInDays: kms.Int32(7)}))
	must(w.svc.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: cancelled}))
	must(w.svc.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: cancelled}))
	must(w.svc.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: inProgress}))
	w.clock.Advance(30 * time.Minute) // the on-demand rotation of inProgress is still running
	return ids
}

// psSnapshot is everything the read operations answer.
type psSnapshot struct {
	Keys      []kms.KeyListEntry
	Describe  map[string]any
	Status    map[string]any
	Rotations map[string][]kms.RotationsListEntry
	Tags      map[string][]kms.Tag
	Aliases   []kms.AliasListEntry
}

func psRead(t *testing.T, svc *kms.Service, ids []string) psSnapshot {
	t.Helper()
	ctx := context.Background()
	snap := psSnapshot{Describe: map[string]any{}, Status: map[string]any{},
		Rotations: map[string][]kms.RotationsListEntry{}, Tags: map[string][]kms.Tag{}}
	keys, err := svc.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	snap.Keys = keys.Keys
	answer := func(v any, err error) any {
		var e *keystate.Error
		if errors.As(err, &e) {
			return e.Error()
		}
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, id := range ids {
		snap.Describe[id] = answer(svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}))
		snap.Status[id] = answer(svc.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id}))
		if r, err := svc.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id, IncludeKeyMaterial: "ALL_KEY_MATERIAL"}); err == nil {
			snap.Rotations[id] = r.Rotations
		}
		if tags, err := svc.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: id}); err == nil {
			snap.Tags[id] = tags.Tags
		}
	}
	aliases, err := svc.ListAliases(ctx, &kms.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	snap.Aliases = aliases.Aliases
	return snap
}

// TestReopenAnswersIdentically builds the same state in two services, one
// without a store and one over a store that is reopened (a new service over
// the same persisted state). Every read answers the same, and then, as both
// clocks advance over years, every scheduled event (automatic rotations
// D13, the on-demand completion D10, the deletion D7, the D12 catch-up)
// fires at the same instant in both.
func TestReopenAnswersIdentically(t *testing.T) {
	for name, reopen := range psStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			plain := psWorld{clock: kms.NewManualClock(psStart)}
			plain.svc = kms.New(psOptions(plain.clock)...)
			persisted := psWorld{clock: kms.NewManualClock(psStart)}
			st := reopen(nil)
			var err error
			if persisted.svc, err = kms.Open(ctx, st, psOptions(persisted.clock)...); err != nil {
				t.Fatal(err)
			}
			ids := psBuild(t, plain)
			if got := psBuild(t, persisted); !reflect.DeepEqual(got, ids) {
				t.Fatalf("the twins made different keys: %v vs %v", got, ids)
			}
			want := psRead(t, plain.svc, ids)
			if got := psRead(t, persisted.svc, ids); !reflect.DeepEqual(got, want) {
				t.Fatalf("before reopen the twins differ:\n got %+v\nwant %+v", got, want)
			}

			st = reopen(persisted.svc)
			if persisted.svc, err = kms.Open(ctx, st, psOptions(persisted.clock)...); err != nil {
				t.Fatal(err)
			}
			if got := psRead(t, persisted.svc, ids); !reflect.DeepEqual(got, want) {
				t.Fatalf("after reopen:\n got %+v\nwant %+v", got, want)
			}
			ctxDisabled := ids[1]
			for step, d := range []time.Duration{time.Hour, 7 * 24 * time.Hour, 400 * 24 * time.Hour, 3 * 365 * 24 * time.Hour} {
				plain.clock.Advance(d)
				persisted.clock.Advance(d)
				if step == 2 { // re-enable the disabled key: the D12 catch-up must match too
					for _, w := range []psWorld{plain, persisted} {
						if _, err := w.svc.EnableKey(ctx, &kms.EnableKeyInput{KeyId: ctxDisabled}); err != nil {
							t.Fatal(err)
						}
					}
				}
				want := psRead(t, plain.svc, ids)
				if got := psRead(t, persisted.svc, ids); !reflect.DeepEqual(got, want) {
					t.Fatalf("after advancing %v (step %d):\n got %+v\nwant %+v", d, step, got, want)
				}
			}
			if err := persisted.svc.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := persisted.svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: ids[0]}); !errors.Is(err, keystate.ErrKMSInternal) || !errors.Is(err, store.ErrClosed) {
				t.Fatalf("after Close: %v; want KMSInternalException wrapping store.ErrClosed", err)
			}
		})
	}
}

// psStores returns, per store kind, a function that gives the store to
// (re)open: called with nil it returns a fresh store; called with the
// service that used it, it returns the store to open the next service on.
func psStores(t *testing.T) map[string]func(*kms.Service) store.Store {
	var mem *store.Memory
	path := filepath.Join(t.TempDir(), "kms.db")
	return map[string]func(*kms.Service) store.Store{
		"bolt": func(prev *kms.Service) store.Store {
			if prev != nil {
				if err := prev.Close(); err != nil {
					t.Fatal(err)
				}
			}
			st, err := boltstore.Open(path, &boltstore.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		"memory": func(prev *kms.Service) store.Store {
			if prev == nil {
				mem = store.NewMemory()
			}
			// The Memory store outlives the abandoned service: its state is
			// what a restarted process would read back.
			return mem
		},
	}
}
