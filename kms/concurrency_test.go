package kms_test

// A Service is safe for concurrent use (doc.go "# The service"): many
// goroutines drive one service while another advances the ManualClock and
// sweeps. The test never sleeps; it checks invariants at the end and must
// pass under -race.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// fxLockedRecorder is an Observer safe for use from many goroutines. (The
// service calls its observer with its lock held; the mutex here only keeps
// the test independent of that.)
type fxLockedRecorder struct {
	mu     sync.Mutex
	events []kms.Event
}

func (r *fxLockedRecorder) Observe(e kms.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func TestConcurrencyManyGoroutines(t *testing.T) {
	const (
		workers  = 15 // plus one clock goroutine: 16
		steps    = 150
		quota    = 5
		duration = 30 * time.Minute
		shared   = 6
	)
	rec := &fxLockedRecorder{}
	e := fxNew(t, kms.WithObserver(rec), kms.WithOnDemandRotationQuota(quota), kms.WithOnDemandRotationDuration(duration))
	var sharedIDs []string
	for i := range shared {
		id, _ := e.symmetric()
		if i%2 == 0 {
			e.enableRotation(id, 90)
		}
		sharedIDs = append(sharedIDs, id)
	}
	ctx := context.Background()
	s, clk := e.s, e.clk

	// expected is the set of exceptions a call may meet in this workload.
	expected := []keystate.Exception{keystate.ErrConflict, keystate.ErrLimitExceeded, keystate.ErrDisabled,
		keystate.ErrKMSInvalidState, keystate.ErrAlreadyExists, keystate.ErrNotFound}
	check := func(w int, what string, err error) {
		if err == nil {
			return
		}
		var ke *keystate.Error
		if !errors.As(err, &ke) {
			t.Errorf("worker %d %s: %T %v is not a *keystate.Error", w, what, err, err)
			return
		}
		for _, x := range expected {
			if errors.Is(err, x) {
				return
			}
		}
		t.Errorf("worker %d %s: unexpected %v", w, what, err)
	}

	var (
		wg     sync.WaitGroup
		ownMu  sync.Mutex
		ownIDs []string
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			var own []string
			for step := range steps {
				k := sharedIDs[r.IntN(shared)]
				switch op := r.IntN(12); op {
				case 0:
					out, err := s.CreateKey(ctx, &kms.CreateKeyInput{Tags: []kms.Tag{{TagKey: "w", TagValue: fmt.Sprint(w)}}})
					check(w, "CreateKey", err)
					if err == nil {
						own = append(own, out.KeyMetadata.KeyId)
					}
				case 1, 2:
					_, err := s.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k})
					check(w, "RotateKeyOnDemand", err)
				case 3:
					_, err := s.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k})
					check(w, "DisableKey", err)
				case 4:
					_, err := s.EnableKey(ctx, &kms.EnableKeyInput{KeyId: k})
					check(w, "EnableKey", err)
				case 5:
					_, err := s.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k, RotationPeriodInDays: kms.Int32(int32(90 + r.IntN(300)))})
					check(w, "EnableKeyRotation", err)
				case 6:
					_, err := s.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k})
					check(w, "DescribeKey", err)
					_, err = s.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: k})
					check(w, "GetKeyRotationStatus", err)
				case 7:
					_, err := fxAllRotations(ctx, s, k, "", int32(1+r.IntN(5)))
					check(w, "ListKeyRotations", err)
				case 8:
					_, err := s.ListKeys(ctx, &kms.ListKeysInput{Limit: kms.Int32(10)})
					check(w, "ListKeys", err)
				case 9:
					name := fmt.Sprintf("alias/fx-%d", r.IntN(10))
					_, err := s.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: name, TargetKeyId: k})
					check(w, "CreateAlias", err)
					_, err = s.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: name, TargetKeyId: k})
					check(w, "UpdateAlias", err)
				case 10, 11:
					if len(own) == 0 {
						continue
					}
					mine := own[r.IntN(len(own))]
					if op == 10 {
						_, err := s.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: mine, PendingWindowInDays: kms.Int32(7)})
						check(w, "ScheduleKeyDeletion", err)
					} else {
						_, err := s.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: mine})
						check(w, "CancelKeyDeletion", err)
						_, err = s.TagResource(ctx, &kms.TagResourceInput{KeyId: mine, Tags: []kms.Tag{{TagKey: "s", TagValue: fmt.Sprint(step)}}})
						check(w, "TagResource", err)
					}
				}
			}
			ownMu.Lock()
			ownIDs = append(ownIDs, own...)
			ownMu.Unlock()
		}()
	}
	wg.Add(1)
	go func() { // the clock goroutine
		defer wg.Done()
		r := rand.New(rand.NewPCG(99, 42))
		for range 300 {
			clk.Advance(time.Duration(r.Int64N(int64(3 * fxDay))))
			s.Sweep()
			if next, ok := s.NextEventTime(); ok && next.IsZero() {
				t.Errorf("NextEventTime reported the zero time")
			}
		}
	}()
	wg.Wait()

	// Let every on-demand rotation complete.
	clk.Advance(duration)
	s.Sweep()

	rec.mu.Lock()
	events := append([]kms.Event(nil), rec.events...)
	rec.mu.Unlock()
	for i := 1; i < len(events); i++ {
		if events[i].Time.Before(events[i-1].Time) {
			t.Fatalf("record %d (%s at %v) is before record %d (%s at %v)", i, events[i].Name, events[i].Time,
				i-1, events[i-1].Name, events[i-1].Time)
		}
	}
	rotateRecords := map[string]int{}
	for _, ev := range events {
		if ev.Name == "RotateKey" {
			rotateRecords[ev.KeyARN]++
		}
	}

	totalOnDemand := 0
	for _, id := range append(sharedIDs, ownIDs...) {
		rots, err := fxAllRotations(ctx, s, id, "", 1000)
		if errors.Is(err, keystate.ErrNotFound) {
			continue // an own key whose deletion completed
		}
		if err != nil {
			t.Fatalf("ListKeyRotations(%s): %v", id, err)
		}
		onDemand := 0
		var lastOnDemand time.Time
		for i, r := range rots {
			if i > 0 && r.RotationDate.Before(*rots[i-1].RotationDate) {
				t.Fatalf("key %s: rotation %d at %v before rotation %d at %v (D14)", id, i, *r.RotationDate, i-1, *rots[i-1].RotationDate)
			}
			if r.RotationType == "ON_DEMAND" {
				if onDemand > 0 && r.RotationDate.Sub(lastOnDemand) < duration {
					t.Fatalf("key %s: on-demand rotations %v and %v overlap (D9)", id, lastOnDemand, *r.RotationDate)
				}
				onDemand++
				lastOnDemand = *r.RotationDate
			}
		}
		if onDemand > quota {
			t.Fatalf("key %s: %d on-demand rotations, quota %d (D1)", id, onDemand, quota)
		}
		totalOnDemand += onDemand
		if n := rotateRecords[fxARN(id)]; n != len(rots) {
			t.Fatalf("key %s: %d RotateKey records for %d rotations", id, n, len(rots))
		}
		st, err := s.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		if st.OnDemandRotationStartDate != nil {
			t.Fatalf("key %s: on-demand rotation still running after the sweep", id)
		}
	}
	if totalOnDemand == 0 {
		t.Fatalf("the workload rotated nothing on demand")
	}
	t.Logf("%d records, %d own keys, %d on-demand rotations", len(events), len(ownIDs), totalOnDemand)
}

// Sweep and calls from many goroutines see each scheduled event exactly
// once: 16 goroutines sweep and describe while the clock moves ten years.
func TestConcurrencySweepAppliesEachEventOnce(t *testing.T) {
	rec := &fxLockedRecorder{}
	e := fxNew(t, kms.WithObserver(rec))
	var ids []string
	for range 20 {
		id, _ := e.symmetric()
		e.enableRotation(id, 90)
		ids = append(ids, id)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied int
	)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				if g == 0 {
					e.clk.Advance(fxDay * 3650 / 100)
				}
				if i%2 == 0 {
					n := e.s.Sweep()
					mu.Lock()
					applied += n
					mu.Unlock()
				} else if _, err := e.s.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: ids[(g+i)%len(ids)]}); err != nil {
					t.Errorf("DescribeKey: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	e.setClock(fxT0.Add(3650 * fxDay))
	applied += e.s.Sweep()
	want := 20 * (3650 / 90)
	rotations := 0
	for _, id := range ids {
		rots := e.rots(id)
		rotations += len(rots)
		for k, r := range rots {
			if at := fxT0.Add(time.Duration(k+1) * 90 * fxDay); !r.At.Equal(at) || r.Type != "AUTOMATIC" {
				t.Fatalf("key %s rotation %d = %v, want AUTOMATIC at %v (D13)", id, k, r, at)
			}
		}
	}
	if rotations != want {
		t.Fatalf("%d rotations, want %d", rotations, want)
	}
	// Rotations applied lazily by DescribeKey are not counted by Sweep; the
	// records count them all.
	records := 0
	rec.mu.Lock()
	for _, ev := range rec.events {
		if ev.Name == "RotateKey" {
			records++
		}
	}
	rec.mu.Unlock()
	if records != want || applied > want {
		t.Fatalf("%d RotateKey records, Sweep applied %d; want %d records", records, applied, want)
	}
}
