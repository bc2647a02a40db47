package kms_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/faultstore"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

var errDisk = errors.New("disk on fire")

// fsWorld is a service over a fault-injecting wrapper of a Memory store.
type fsWorld struct {
	psWorld
	faults *faultstore.Store
	mem    *store.Memory
	ids    []string
}

func fsNew(t *testing.T) fsWorld {
	t.Helper()
	w := fsWorld{mem: store.NewMemory()}
	w.faults = faultstore.New(w.mem)
	w.clock = kms.NewManualClock(psStart)
	var err error
	if w.svc, err = kms.Open(context.Background(), w.faults, psOptions(w.clock)...); err != nil {
		t.Fatal(err)
	}
	w.ids = psBuild(t, w.psWorld)
	return w
}

// fsStored is everything the store holds, to show a failed write left it
// alone too.
func fsStored(t *testing.T, st store.Store) (keys []store.Key, rotations map[string][]store.Rotation, aliases []store.Alias) {
	t.Helper()
	ctx := context.Background()
	keys, err := st.Keys(ctx, "", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	rotations = map[string][]store.Rotation{}
	for _, k := range keys {
		if rotations[k.ID], err = st.Rotations(ctx, k.ID, 0, 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	if aliases, err = st.Aliases(ctx, store.AliasID{}, 1<<20); err != nil {
		t.Fatal(err)
	}
	return keys, rotations, aliases
}

// TestFailedWriteChangesNothing: for every operation that writes, a store
// failure makes the call return KMSInternalException wrapping the store's
// error, and leaves both the service's view and the store as they were;
// once the store heals, the same call succeeds.
func TestFailedWriteChangesNothing(t *testing.T) {
	ctx := context.Background()
	calls := map[string]func(w fsWorld) error{
		"CreateKey": func(w fsWorld) error { _, err := w.svc.CreateKey(ctx, &kms.CreateKeyInput{}); return err },
		"EnableKey": func(w fsWorld) error {
			_, err := w.svc.EnableKey(ctx, &kms.EnableKeyInput{KeyId: w.ids[1]})
			return err
		},
		"DisableKey": func(w fsWorld) error {
			_, err := w.svc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: w.ids[0]})
			return err
		},
		"ScheduleKeyDeletion": func(w fsWorld) error {
			_, err := w.svc.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: w.ids[0]})
			return err
		},
		"CancelKeyDeletion": func(w fsWorld) error {
			_, err := w.svc.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: w.ids[2]})
			return err
		},
		"UpdateKeyDescription": func(w fsWorld) error {
			_, err := w.svc.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: w.ids[0], Description: "new"})
			return err
		},
		"EnableKeyRotation": func(w fsWorld) error {
			_, err := w.svc.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: w.ids[0], RotationPeriodInDays: kms.Int32(180)})
			return err
		},
		"DisableKeyRotation": func(w fsWorld) error {
			_, err := w.svc.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: w.ids[0]})
			return err
		},
		"RotateKeyOnDemand": func(w fsWorld) error {
			_, err := w.svc.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: w.ids[0]})
			return err
		},
		"CreateAlias": func(w fsWorld) error {
			_, err := w.svc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/new", TargetKeyId: w.ids[0]})
			return err
		},
		"UpdateAlias": func(w fsWorld) error {
			_, err := w.svc.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: "alias/rotating", TargetKeyId: w.ids[1]})
			return err
		},
		"DeleteAlias": func(w fsWorld) error {
			_, err := w.svc.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: "alias/rotating"})
			return err
		},
		"TagResource": func(w fsWorld) error {
			_, err := w.svc.TagResource(ctx, &kms.TagResourceInput{KeyId: w.ids[0], Tags: []kms.Tag{{TagKey: "x", TagValue: "y"}}})
			return err
		},
		"UntagResource": func(w fsWorld) error {
			_, err := w.svc.UntagResource(ctx, &kms.UntagResourceInput{KeyId: w.ids[0], TagKeys: []string{"team"}})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			w := fsNew(t)
			before := psRead(t, w.svc, w.ids)
			k0, r0, a0 := fsStored(t, w.mem)
			w.faults.FailNth(faultstore.OpApply, 1, errDisk)
			err := call(w)
			if !errors.Is(err, keystate.ErrKMSInternal) || !errors.Is(err, errDisk) {
				t.Fatalf("got %v; want KMSInternalException wrapping the store's error", err)
			}
			if got := psRead(t, w.svc, w.ids); !reflect.DeepEqual(got, before) {
				t.Fatalf("the service changed:\n got %+v\nwant %+v", got, before)
			}
			k1, r1, a1 := fsStored(t, w.mem)
			if !reflect.DeepEqual(k1, k0) || !reflect.DeepEqual(r1, r0) || !reflect.DeepEqual(a1, a0) {
				t.Fatal("the store changed")
			}
			if err := call(w); err != nil {
				t.Fatalf("after the store healed: %v", err)
			}
		})
	}
}

// TestFailedScheduledWriteWaits: when the store fails to write a scheduled
// event (an automatic rotation, the completion of an on-demand rotation, a
// deletion), the call that would apply it fails with KMSInternalException
// and nothing changes; once the store heals, the event happens with the
// date it was due (D13), as in a twin whose store never failed.
func TestFailedScheduledWriteWaits(t *testing.T) {
	ctx := context.Background()
	w := fsNew(t)
	twin := psWorld{clock: kms.NewManualClock(psStart)}
	twin.svc = kms.New(psOptions(twin.clock)...)
	psBuild(t, twin)

	before := psRead(t, w.svc, w.ids)
	totals := w.svc.Totals()
	w.faults.FailFrom(faultstore.OpApply, 1, errDisk)
	// Past the on-demand completion, the deletion and several rotations.
	w.clock.Advance(400 * 24 * time.Hour)
	twin.clock.Advance(400 * 24 * time.Hour)
	if n := w.svc.Sweep(); n != 0 {
		t.Fatalf("Sweep applied %d events while the store fails", n)
	}
	_, err := w.svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: w.ids[0]})
	if !errors.Is(err, keystate.ErrKMSInternal) || !errors.Is(err, errDisk) {
		t.Fatalf("DescribeKey while a due event cannot be written: %v; want KMSInternalException", err)
	}
	if got := w.svc.Totals(); got != totals {
		t.Fatalf("Totals %+v after failed writes, want %+v: events undone are not counted", got, totals)
	}
	w.faults.Heal()
	got := psRead(t, w.svc, w.ids)
	if reflect.DeepEqual(got, before) {
		t.Fatal("nothing happened after the store healed")
	}
	want := psRead(t, twin.svc, w.ids)
	if w.svc.Totals() != twin.svc.Totals() {
		t.Fatalf("Totals %+v, twin's %+v", w.svc.Totals(), twin.svc.Totals())
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after healing:\n got %+v\nwant %+v", got, want)
	}
	// The store holds what the service shows: every rotation listed is
	// stored (none was kept in memory only when the failed write was
	// undone) ...
	for _, id := range w.ids {
		stored, err := w.mem.Rotations(ctx, id, 0, 1<<20)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted
		}
		if err != nil {
			t.Fatal(err)
		}
		listed := 0
		for _, e := range got.Rotations[id] {
			if e.RotationDate != nil { // not the original material
				listed++
			}
		}
		if len(stored) != listed {
			t.Errorf("key %s: %d rotations stored, %d listed", id, len(stored), listed)
		}
	}
	// ... and a service reopened over it answers alike.
	reopened, err := kms.Open(ctx, w.mem, psOptions(w.clock)...)
	if err != nil {
		t.Fatal(err)
	}
	if got := psRead(t, reopened, w.ids); !reflect.DeepEqual(got, want) {
		t.Fatalf("reopened over the store after healing:\n got %+v\nwant %+v", got, want)
	}
}
