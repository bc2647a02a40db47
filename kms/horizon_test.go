package kms_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// Issue 12, "Time must never wrap or clamp silently": kmsmodel keeps time
// in Unix microseconds, exact through its horizon 9999-12-31T23:59:59.999999Z
// (and scheduled dates beyond it); no instant wraps, clamps or goes
// backwards. Each test below failed on the nanosecond representation.

// TestHorizon: the horizon is the last microsecond of year 9999.
func TestHorizon(t *testing.T) {
	if want := time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC); !kms.Horizon().Equal(want) {
		t.Fatalf("Horizon() = %v, want %v", kms.Horizon(), want)
	}
}

// TestManualClockPast2262 (issue 12 item 1): Advance by a year from
// 2262-01-01 gave 1678-06-12. Now it gives 2263-01-01, and a move past
// the horizon is refused without moving the clock.
func TestManualClockPast2262(t *testing.T) {
	start := time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
	c := kms.NewManualClock(start)
	got, err := c.Advance(365 * 24 * time.Hour)
	if want := time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC); err != nil || !got.Equal(want) || !c.Now().Equal(want) {
		t.Fatalf("Advance(1 year) from %v = %v, %v (Now %v); want %v", start, got, err, c.Now(), want)
	}
	// Steps of 200 years go from 2263 to within 200 years of the horizon,
	// then one is refused.
	var last time.Time
	for i := 0; ; i++ {
		before := c.Now()
		got, err := c.Advance(200 * 365 * 24 * time.Hour)
		if err != nil {
			if !errors.Is(err, kms.ErrPastHorizon) || !got.Equal(before) || !c.Now().Equal(before) {
				t.Fatalf("Advance past the horizon = %v, %v (Now %v); want %v, ErrPastHorizon", got, err, c.Now(), before)
			}
			last = before
			break
		}
		if !got.After(before) || got.After(kms.Horizon()) {
			t.Fatalf("step %d: Advance went from %v to %v", i, before, got)
		}
	}
	if last.Before(kms.Horizon().Add(-200 * 365 * 24 * time.Hour)) {
		t.Fatalf("the last accepted step ended at %v, more than 200 years before the horizon", last)
	}
	if err := c.Set(kms.Horizon()); err != nil || !c.Now().Equal(kms.Horizon()) {
		t.Fatalf("Set(Horizon) = %v, Now %v", err, c.Now())
	}
	if _, err := c.Advance(time.Microsecond); !errors.Is(err, kms.ErrPastHorizon) {
		t.Fatalf("Advance(1µs) at the horizon = %v, want ErrPastHorizon", err)
	}
	if err := c.Set(kms.Horizon().Add(time.Nanosecond)); !errors.Is(err, kms.ErrPastHorizon) || !c.Now().Equal(kms.Horizon()) {
		t.Fatalf("Set(Horizon+1ns) = %v (Now %v), want ErrPastHorizon", err, c.Now())
	}
	if err := c.Set(start); !errors.Is(err, kms.ErrClockBackwards) || !c.Now().Equal(kms.Horizon()) {
		t.Fatalf("Set(earlier) = %v (Now %v), want ErrClockBackwards", err, c.Now())
	}
}

// TestRotationPast2262 (issue 12 item 2): at 2258-01-01, EnableKeyRotation
// with a period of 2560 days reported NextRotationDate 2262-03-17 and then
// applied 83 AUTOMATIC rotations at once, the first dated 1680. Now the
// next date is 2560 days later and one rotation happens on it.
func TestRotationPast2262(t *testing.T) {
	start := time.Date(2258, 1, 1, 0, 0, 0, 0, time.UTC)
	e := fxNewAt(t, start)
	id, _ := e.symmetric()
	e.enableRotation(id, 2560)
	next := start.Add(2560 * fxDay)
	if st := e.status(id); st.NextRotationDate == nil || !st.NextRotationDate.Equal(next) {
		t.Fatalf("NextRotationDate = %v, want %v", st.NextRotationDate, next)
	}
	e.wantRots(id)
	e.setClock(next.Add(-time.Microsecond))
	e.wantRots(id)
	e.setClock(next.Add(time.Hour))
	e.wantRots(id, fxAuto(next))
	if st := e.status(id); st.NextRotationDate == nil || !st.NextRotationDate.Equal(next.Add(2560*fxDay)) {
		t.Fatalf("NextRotationDate after the rotation = %v, want %v", st.NextRotationDate, next.Add(2560*fxDay))
	}
}

// TestDeletionPast2262 (issue 12 item 3): at 2262-03-20, ScheduleKeyDeletion
// with 30 days gave DeletionDate 1677-09-28 and deleted the key at once.
func TestDeletionPast2262(t *testing.T) {
	start := time.Date(2262, 3, 20, 0, 0, 0, 0, time.UTC)
	e := fxNewAt(t, start)
	id, _ := e.symmetric()
	if got, want := e.scheduleDeletion(id, 30), start.Add(30*fxDay); !got.Equal(want) {
		t.Fatalf("DeletionDate = %v, want %v", got, want)
	}
	if st := e.describe(id).KeyState; st != "PendingDeletion" {
		t.Fatalf("KeyState = %s right after ScheduleKeyDeletion, want PendingDeletion", st)
	}
	e.setClock(start.Add(30*fxDay - time.Microsecond))
	if st := e.describe(id).KeyState; st != "PendingDeletion" {
		t.Fatalf("KeyState = %s 1µs before DeletionDate, want PendingDeletion", st)
	}
	e.advance(time.Microsecond)
	if _, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id}); !errors.Is(err, keystate.ErrNotFound) {
		t.Fatalf("DescribeKey at DeletionDate = %v, want NotFoundException", err)
	}
}

// TestRotationLongAfterCreation (issue 12 item 4): a key created 2024-01-01,
// the clock advanced 147 years, RotateKeyOnDemand dated its rotation
// 2170-02-19T23:53:38.427387903Z (creation + 2^62-1 ns). Automatic rotations
// past that point were misdated the same way. Now both are exact, and
// survive in the key's history across thousands of years.
func TestRotationLongAfterCreation(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	auto, _ := e.symmetric()
	e.enableRotation(auto, 2560)
	at := fxT0.AddDate(147, 0, 0)
	e.setClock(at)
	e.rotate(id)
	got := e.rots(id)
	if len(got) != 1 || !got[0].At.Equal(at) {
		t.Fatalf("rotations after RotateKeyOnDemand 147 years on = %v, want one at %v", got, at)
	}
	// Every automatic date, 2560 days apart, to year 2171 and beyond.
	n := int(at.Sub(fxT0) / (2560 * fxDay))
	want := make([]fxRot, n)
	for i := range want {
		want[i] = fxAuto(fxT0.Add(time.Duration(i+1) * 2560 * fxDay))
	}
	e.wantRots(auto, want...)
	// Far later still: 7,000 years after creation, exact to the µs.
	far := time.Date(9024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	e.setClock(far)
	e.rotate(id)
	if got := e.rots(id); len(got) != 2 || !got[1].At.Equal(far) {
		t.Fatalf("rotations = %v, want the second at %v", got, far)
	}
}

// TestScheduleBeyondHorizon: a schedule may land after the horizon: its
// date is reported exactly and it never comes due, since the clock stops
// at the horizon.
func TestScheduleBeyondHorizon(t *testing.T) {
	start := time.Date(9999, 12, 20, 0, 0, 0, 0, time.UTC)
	e := fxNewAt(t, start)
	id, _ := e.symmetric()
	del, _ := e.symmetric()
	e.enableRotation(id, 365)
	if st := e.status(id); st.NextRotationDate == nil || !st.NextRotationDate.Equal(start.Add(365*fxDay)) {
		t.Fatalf("NextRotationDate = %v, want %v", st.NextRotationDate, start.Add(365*fxDay))
	}
	if got, want := e.scheduleDeletion(del, 30), start.Add(30*fxDay); !got.Equal(want) {
		t.Fatalf("DeletionDate = %v, want %v", got, want)
	}
	e.setClock(kms.Horizon())
	e.wantRots(id)
	if st := e.describe(del).KeyState; st != "PendingDeletion" {
		t.Fatalf("KeyState at the horizon = %s, want PendingDeletion", st)
	}
	if n := e.s.Sweep(); n != 0 {
		t.Fatalf("Sweep at the horizon applied %d events", n)
	}
}

// fxFixedClock is a Clock that reads whatever it is set to, past the
// horizon included (a ManualClock refuses that).
type fxFixedClock struct{ t time.Time }

func (c *fxFixedClock) Now() time.Time { return c.t }

// TestClockPastHorizonRefused: a clock that reads past the horizon makes
// every call fail with KMSInternalException wrapping ErrPastHorizon, and
// changes nothing; once it reads within the horizon again, calls are served.
func TestClockPastHorizonRefused(t *testing.T) {
	clk := &fxFixedClock{t: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := kms.New(kms.WithClock(clk))
	ctx := t.Context()
	out, err := s.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	clk.t = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err = s.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
	var ke *keystate.Error
	if !errors.Is(err, keystate.ErrKMSInternal) || !errors.Is(err, kms.ErrPastHorizon) || !errors.As(err, &ke) || ke.Op != keystate.DisableKey {
		t.Fatalf("DisableKey with the clock past the horizon = %v, want KMSInternalException wrapping ErrPastHorizon", err)
	}
	if _, err := s.CreateKey(ctx, &kms.CreateKeyInput{}); !errors.Is(err, kms.ErrPastHorizon) {
		t.Fatalf("CreateKey past the horizon = %v", err)
	}
	if n := s.Sweep(); n != 0 {
		t.Fatalf("Sweep past the horizon = %d", n)
	}
	clk.t = time.Date(9999, 2, 1, 0, 0, 0, 0, time.UTC)
	d, err := s.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	if err != nil || d.KeyMetadata.KeyState != "Enabled" {
		t.Fatalf("DescribeKey back within the horizon = %+v, %v; want the key Enabled", d, err)
	}
	keys, err := s.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil || len(keys.Keys) != 1 {
		t.Fatalf("ListKeys = %+v, %v; want the one key (the refused CreateKey made none)", keys, err)
	}
}

// TestMicrosecondPrecision: the service keeps time to the microsecond,
// truncated toward the past, so a clock reading between two microseconds
// dates things at the earlier one, and an event is due exactly when the
// truncated reading reaches it.
func TestMicrosecondPrecision(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 999, time.UTC) // 999 ns
	e := fxNewAt(t, start)
	id, _ := e.symmetric()
	if got, want := e.describe(id).CreationDate, start.Truncate(time.Microsecond); !got.Equal(want) {
		t.Fatalf("CreationDate = %v, want %v", got, want)
	}
	before := time.Date(1969, 12, 31, 23, 59, 59, 999999500, time.UTC) // 0.5 µs before 1970
	e2 := fxNewAt(t, before)
	id2, _ := e2.symmetric()
	if got, want := e2.describe(id2).CreationDate, time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC); !got.Equal(want) {
		t.Fatalf("CreationDate before 1970 = %v, want %v (truncated toward the past)", got, want)
	}
}
