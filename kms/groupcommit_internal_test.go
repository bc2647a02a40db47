package kms

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/faultstore"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/consistency"
	"github.com/kmsmodel/kmsmodel/store"
)

// gcWorld is a service over a fault-injecting wrapper of a Memory store,
// with two keys.
type gcWorld struct {
	svc    *Service
	faults *faultstore.Store
	mem    *store.Memory
	a, b   string
}

var errGCDisk = errors.New("disk on fire")

func gcNew(t *testing.T) *gcWorld {
	t.Helper()
	w := &gcWorld{mem: store.NewMemory()}
	w.faults = faultstore.New(w.mem)
	var err error
	w.svc, err = Open(context.Background(), w.faults, WithClock(NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))),
		WithRandom(rand.NewChaCha8([32]byte{7})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.svc.Close() })
	w.a, w.b = w.create(t, "a"), w.create(t, "b")
	return w
}

func (w *gcWorld) create(t *testing.T, desc string) string {
	t.Helper()
	out, err := w.svc.CreateKey(context.Background(), &CreateKeyInput{Description: desc})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata.KeyId
}

func (w *gcWorld) state(t *testing.T, id string) string {
	t.Helper()
	out, err := w.svc.DescribeKey(context.Background(), &DescribeKeyInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata.KeyState
}

// storedState is a key's state as the store holds it.
func (w *gcWorld) storedState(t *testing.T, id string) keystate.State {
	t.Helper()
	k, err := w.mem.Key(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return k.State
}

// waitForWaiters yields until n calls wait for durability: a call counts
// once it has released the service's lock to wait (no sleeping). None of
// the calls cs may return meanwhile: each waits for a change that is not
// durable.
func (w *gcWorld) waitForWaiters(t *testing.T, n int32, cs ...<-chan error) {
	t.Helper()
	for i := 0; w.svc.waiters.Load() < n; i++ {
		for _, c := range cs {
			select {
			case err := <-c:
				t.Fatalf("a call returned (%v) before the change it made or saw was durable", err)
			default:
			}
		}
		if i > 10_000_000 {
			t.Fatalf("%d calls waiting, want %d", w.svc.waiters.Load(), n)
		}
		runtime.Gosched()
	}
}

// atStore waits until an Apply reaches the held store. The call c, whose
// batch it is, must not return first.
func atStore(t *testing.T, entered <-chan struct{}, c <-chan error) {
	t.Helper()
	select {
	case <-entered:
	case err := <-c:
		t.Fatalf("a call returned (%v) before its change reached the store", err)
	}
}

// async runs f in a goroutine; the channel gets its error.
func async(f func() error) <-chan error {
	c := make(chan error, 1)
	go func() { c <- f() }()
	return c
}

// TestGroupCommitReaderWaits: a call that read a change not yet durable
// (DescribeKey after another call's DisableKey) does not return until the
// change is durable; a call that wrote waits for its own change.
func TestGroupCommitReaderWaits(t *testing.T) {
	w := gcNew(t)
	ctx := context.Background()
	entered, release := w.faults.Hold()
	defer release()
	disable := async(func() error { _, err := w.svc.DisableKey(ctx, &DisableKeyInput{KeyId: w.a}); return err })
	atStore(t, entered, disable) // the DisableKey's batch is at the store, not written
	var seen string
	describe := async(func() error {
		out, err := w.svc.DescribeKey(ctx, &DescribeKeyInput{KeyId: w.a})
		if err == nil {
			seen = out.KeyMetadata.KeyState
		}
		return err
	})
	w.waitForWaiters(t, 2, disable, describe)
	if got := w.storedState(t, w.a); got != keystate.Enabled {
		t.Fatalf("stored state %s before the write was let through", got)
	}
	release()
	if err := <-disable; err != nil {
		t.Fatal(err)
	}
	if err := <-describe; err != nil {
		t.Fatal(err)
	}
	if seen != "Disabled" {
		t.Fatalf("DescribeKey saw %s, want Disabled", seen)
	}
	if got := w.storedState(t, w.a); got != keystate.Disabled {
		t.Fatalf("stored state %s after both calls returned", got)
	}
}

// TestGroupCommitGroups: writes that arrive while a group is being written
// wait, and are then written together, as one group, in the order the
// service applied them.
func TestGroupCommitGroups(t *testing.T) {
	w := gcNew(t)
	ctx := context.Background()
	groups, batches := w.faults.Calls(faultstore.OpApply), w.faults.Batches()
	entered, release := w.faults.Hold()
	defer release()
	first := async(func() error { _, err := w.svc.DisableKey(ctx, &DisableKeyInput{KeyId: w.b}); return err })
	atStore(t, entered, first)
	const n = 10
	var calls []<-chan error
	for i := range n {
		calls = append(calls, async(func() error {
			_, err := w.svc.UpdateKeyDescription(ctx, &UpdateKeyDescriptionInput{KeyId: w.a, Description: fmt.Sprint(i)})
			return err
		}))
		w.waitForWaiters(t, int32(2+i), append(calls, first)...)
	}
	release()
	for _, c := range append(calls, first) {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	if g, b := w.faults.Calls(faultstore.OpApply)-groups, w.faults.Batches()-batches; g != 2 || b != n+1 {
		t.Fatalf("%d groups of %d batches in all, want 2 groups (1 batch, then %d)", g, b, n)
	}
	k, err := w.mem.Key(ctx, w.a)
	if err != nil {
		t.Fatal(err)
	}
	if k.Description != fmt.Sprint(n-1) {
		t.Fatalf("stored description %q, want the last one applied, %q", k.Description, fmt.Sprint(n-1))
	}
}

// TestGroupCommitFailure: when the store refuses a group, every call whose
// batch was in it, or logged after it (made on top of it), or that saw
// such a change, fails with KMSInternalException wrapping the store's
// error; the service is as the store left it, as if none of those calls
// had happened; and the next calls succeed.
func TestGroupCommitFailure(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fail  int  // which group fails: 1, the first call's alone; 2, the rest
		first bool // whether the first call succeeds
	}{
		{"the first group fails", 1, false},
		{"the second group fails", 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := gcNew(t)
			ctx := context.Background()
			entered, release := w.faults.Hold()
			defer release()
			w.faults.FailNth(faultstore.OpApply, tc.fail, errGCDisk)
			first := async(func() error { _, err := w.svc.DisableKey(ctx, &DisableKeyInput{KeyId: w.a}); return err })
			atStore(t, entered, first)
			enable := async(func() error { _, err := w.svc.EnableKey(ctx, &EnableKeyInput{KeyId: w.a}); return err })
			w.waitForWaiters(t, 2, first, enable)
			var created string
			create := async(func() error {
				out, err := w.svc.CreateKey(ctx, &CreateKeyInput{Description: "c"})
				if out != nil {
					created = out.KeyMetadata.KeyId
				}
				return err
			})
			w.waitForWaiters(t, 3, first, enable, create)
			var seen string
			describe := async(func() error {
				out, err := w.svc.DescribeKey(ctx, &DescribeKeyInput{KeyId: w.a})
				if out != nil {
					seen = out.KeyMetadata.KeyState
				}
				return err
			})
			w.waitForWaiters(t, 4, first, enable, create, describe)
			release()
			errFirst := <-first
			for name, c := range map[string]<-chan error{"EnableKey": enable, "CreateKey": create, "DescribeKey": describe} {
				err := <-c
				if !errors.Is(err, keystate.ErrKMSInternal) || !errors.Is(err, errGCDisk) {
					t.Errorf("%s: %v, want KMSInternalException wrapping the store's error", name, err)
				}
			}
			if created != "" || seen != "" {
				t.Errorf("failed calls returned output: CreateKey %q, DescribeKey %q", created, seen)
			}
			if tc.first != (errFirst == nil) {
				t.Fatalf("first call: %v", errFirst)
			}
			want := keystate.Enabled
			if tc.first {
				want = keystate.Disabled
			}
			if got := w.state(t, w.a); got != want.String() {
				t.Errorf("state after the failure %s, want %s", got, want)
			}
			if got := w.storedState(t, w.a); got != want {
				t.Errorf("stored state after the failure %s, want %s", got, want)
			}
			list, err := w.svc.ListKeys(ctx, nil)
			if err != nil || len(list.Keys) != 2 {
				t.Fatalf("ListKeys after the failure: %v keys, %v; want the 2 from before", list, err)
			}
			// The service goes on: the undone calls succeed when made again.
			if _, err := w.svc.EnableKey(ctx, &EnableKeyInput{KeyId: w.a}); err != nil {
				t.Fatal(err)
			}
			w.create(t, "again")
			if got := w.storedState(t, w.a); got != keystate.Enabled {
				t.Errorf("stored state %s after EnableKey", got)
			}
		})
	}
}

// TestGroupCommitConcurrentOrder: many goroutines writing and reading at
// once over a store: every call succeeds, and a service reopened over the
// store sees exactly what the live one does (the store holds the changes
// in the order the service applied them: each key record's version
// follows the one before it, or the store would have refused it).
func TestGroupCommitConcurrentOrder(t *testing.T) {
	w := gcNew(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				var err error
				switch i % 4 {
				case 0:
					_, err = w.svc.UpdateKeyDescription(ctx, &UpdateKeyDescriptionInput{KeyId: w.a, Description: fmt.Sprint(g, i)})
				case 1:
					_, err = w.svc.TagResource(ctx, &TagResourceInput{KeyId: w.b, Tags: []Tag{{TagKey: fmt.Sprint("t", g), TagValue: fmt.Sprint(i)}}})
				case 2:
					_, err = w.svc.CreateAlias(ctx, &CreateAliasInput{AliasName: fmt.Sprintf("alias/%d-%d", g, i), TargetKeyId: w.a})
				case 3:
					_, err = w.svc.DescribeKey(ctx, &DescribeKeyInput{KeyId: w.b})
				}
				if err != nil {
					errs <- err
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
	if g, b := w.faults.Calls(faultstore.OpApply), w.faults.Batches(); g >= b {
		t.Logf("%d groups for %d batches: no write shared a group this run", g, b)
	}
	re, err := Open(ctx, w.mem, WithClock(NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{w.a, w.b} {
		live, _ := w.svc.DescribeKey(ctx, &DescribeKeyInput{KeyId: id})
		back, _ := re.DescribeKey(ctx, &DescribeKeyInput{KeyId: id})
		if !reflect.DeepEqual(live, back) {
			t.Errorf("key %s live %+v, reopened %+v", id, live.KeyMetadata, back.KeyMetadata)
		}
		lt, _ := w.svc.ListResourceTags(ctx, &ListResourceTagsInput{KeyId: id})
		bt, _ := re.ListResourceTags(ctx, &ListResourceTagsInput{KeyId: id})
		if !reflect.DeepEqual(lt, bt) {
			t.Errorf("key %s tags live %v, reopened %v", id, lt, bt)
		}
	}
	la, ra := allAliasesOf(t, w.svc), allAliasesOf(t, re)
	targeted := 0
	for _, a := range la {
		if a.TargetKeyId != "" {
			targeted++
		}
	}
	if targeted != 16*5 || !reflect.DeepEqual(la, ra) {
		t.Errorf("aliases: live %d (%d with targets), reopened %d, want %d with targets", len(la), targeted, len(ra), 16*5)
	}
}

// allAliasesOf lists every alias of s's account, page after page, the
// predefined ones of D72 included.
func allAliasesOf(t *testing.T, s *Service) []AliasListEntry {
	t.Helper()
	return aliasPages(t, s, context.Background(), &ListAliasesInput{Limit: new(int32(100))})
}

// aliasPages lists the aliases ListAliases(ctx, in) lists, page after
// page (in.Marker moves along).
func aliasPages(t interface {
	Helper()
	Fatalf(string, ...any)
}, s *Service, ctx context.Context, in *ListAliasesInput) []AliasListEntry {
	t.Helper()
	var all []AliasListEntry
	for {
		out, err := s.ListAliases(ctx, in)
		if err != nil {
			t.Fatalf("ListAliases(%q): %v", in.KeyId, err)
		}
		all = append(all, out.Aliases...)
		if !out.Truncated {
			return all
		}
		in.Marker = out.NextMarker
	}
}

// TestReloadKeepsEveryField: reload (after a failed group) replaces the
// fields the store's content makes and keeps the others. Each field of
// Service must be in one of the two lists, so that a field added later is
// classified by whoever adds it.
func TestReloadKeepsEveryField(t *testing.T) {
	reloaded := []string{"regions", "rg", "slab", "seq", "queue", "qseq", "saved", "root", "stores", "storeSlots",
		"storeSeq", "policies", "grants", "grantIndex", "granteeIdx", "grantSeq", "usage", "useDirty", "profileSaved", "ec", "bound", "grantBound", "scratch", "drafted", "others", "newPrimary", "pend", "added"}
	kept := []string{"mu", "cfg", "last", "st", "closed", "log", "spareLog", "logged", "resolved", "epoch",
		"failures", "waiters", "committing", "undoing", "cl", "wmu", "ids", "totals", "durableTotals", "touched", "resolvedCond", "broken",
		"imports", "principal", "principals", "roots", "defaults", "ownRoot",
		"ownDefault", "call", "reads", "condBuf", "matchKeys", "useSeq", "trackStart", "tracking", "usageGone", "bind", "attested"}
	typ := reflect.TypeFor[Service]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if !slices.Contains(reloaded, name) && !slices.Contains(kept, name) {
			t.Errorf("Service.%s: decide whether reload replaces it (from the store) or keeps it, and list it here", name)
		}
	}
}

// TestGroupCommitPropagateDurable: the writes of the methods that report
// no error (Propagate firing a late deletion, Sweep applying a due event)
// are durable when they return, like any call's.
func TestGroupCommitPropagateDurable(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	m := consistency.Default()
	m.Seed = 9
	svc, err := Open(ctx, mem, WithClock(clock), WithEventualConsistency(m))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	var ids []string
	for range 2 {
		out, err := svc.CreateKey(ctx, &CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, out.KeyMetadata.KeyId)
		svc.Propagate() // a new key is NotFound to some callers until then
		if _, err := svc.ScheduleKeyDeletion(ctx, &ScheduleKeyDeletionInput{KeyId: out.KeyMetadata.KeyId, PendingWindowInDays: new(int32(7))}); err != nil {
			t.Fatal(err)
		}
	}
	svc.Propagate()
	if _, err := clock.Advance(7*24*time.Hour + time.Second); err != nil {
		t.Fatal(err)
	}
	// Past DeletionDate, within its late window: Propagate fires both.
	if n := svc.Propagate(); n < 2 {
		t.Fatalf("Propagate settled %d, want both late deletions", n)
	}
	for _, id := range ids {
		if _, err := mem.Key(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("key %s after Propagate deleted it: %v in the store, want ErrNotFound", id, err)
		}
	}
}

// TestReloadKeepsTheKeyIndexOnTheSlab: after a failed group reloads the
// service, keys made past the reloaded slab's last chunk are found by ID
// (the index followed the reloading service's slab, and DescribeKey of
// the 4,097th key panicked).
func TestReloadKeepsTheKeyIndexOnTheSlab(t *testing.T) {
	w := gcNew(t)
	w.faults.FailNth(faultstore.OpApply, 1, errGCDisk)
	if _, err := w.svc.CreateKey(context.Background(), &CreateKeyInput{}); !errors.Is(err, errGCDisk) {
		t.Fatalf("CreateKey with the write failing = %v, want the store's error", err)
	}
	for i := range slabChunk + 1 {
		id := w.create(t, fmt.Sprint(i))
		if got := w.state(t, id); got != "Enabled" {
			t.Fatalf("key %d after the reload: %s", i, got)
		}
	}
}

// TestRefusalOnUndoneStateFails: a call refused because of a change it saw
// (LimitExceededException, counting a rotation not yet durable) fails with
// KMSInternalException when that change is undone (its write failed): the
// refusal was of a state that never was. It answered the refusal before.
func TestRefusalOnUndoneStateFails(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	faults := faultstore.New(mem)
	svc, err := Open(ctx, faults, WithClock(NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))),
		WithOnDemandRotationQuota(1))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	out, err := svc.CreateKey(ctx, &CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	faults.FailNth(faultstore.OpApply, 1, errGCDisk)
	entered, release := faults.Hold()
	first := make(chan error, 1)
	go func() {
		_, err := svc.RotateKeyOnDemand(ctx, &RotateKeyOnDemandInput{KeyId: id})
		first <- err
	}()
	<-entered // the rotation is in memory, its write held
	second := make(chan error, 1)
	go func() {
		_, err := svc.RotateKeyOnDemand(ctx, &RotateKeyOnDemandInput{KeyId: id})
		second <- err
	}()
	until(svc, func() bool { return svc.waiters.Load() == 2 }) // the second saw the first's rotation and waits for it
	release()
	if err := <-first; !errors.Is(err, errGCDisk) {
		t.Fatalf("the rotation whose write failed: %v, want the store's error", err)
	}
	err = <-second
	if errors.Is(err, keystate.ErrLimitExceeded) || !errors.Is(err, keystate.ErrKMSInternal) {
		t.Fatalf("the rotation refused on the undone one = %v, want KMSInternalException", err)
	}
	if _, err := svc.RotateKeyOnDemand(ctx, &RotateKeyOnDemandInput{KeyId: id}); err != nil {
		t.Fatalf("a rotation after both: %v (the quota of 1 is unused)", err)
	}
}
