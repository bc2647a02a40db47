package kmshttp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
)

// TestAdvanceClockPast2262 (issue 12 item 1): two AdvanceClock calls of
// {"Seconds": 6307200000} (200 years each) from 2024 gave Now in 1839.
// Now they give 2224 and 2424, and a key's rotations keep exact dates.
func TestAdvanceClockPast2262(t *testing.T) {
	f := newFixture(t)
	id, _ := createKey(t, f.handler, `{}`)
	postOK(t, f.handler, target+"EnableKeyRotation", `{"KeyId":"`+id+`","RotationPeriodInDays":2560}`)
	want := epoch
	for range 2 {
		m := postOK(t, f.handler, "KmsModel.AdvanceClock", `{"Seconds":6307200000}`)
		want = want.Add(6307200000 * time.Second)
		if m["Now"] != float64(want.Unix()) {
			t.Fatalf("Now = %v, want %v (%v)", m["Now"], want.Unix(), want)
		}
	}
	if !f.clock.Now().Equal(want) || want.Year() != 2423 {
		t.Fatalf("clock = %v, want %v", f.clock.Now(), want)
	}
	rot := postOK(t, f.handler, target+"ListKeyRotations", `{"KeyId":"`+id+`","Limit":1000}`)["Rotations"].([]any)
	n := 0 // (time.Duration holds 292 years only: count by steps)
	for at := epoch.AddDate(0, 0, 2560); !at.After(want); at = at.AddDate(0, 0, 2560) {
		n++
	}
	if len(rot) != n || n != 57 {
		t.Fatalf("%d rotations, want %d", len(rot), n)
	}
	for i, r := range rot {
		at := epoch.AddDate(0, 0, (i+1)*2560)
		if got := r.(map[string]any)["RotationDate"]; got != float64(at.Unix()) {
			t.Fatalf("rotation %d dated %v, want %v (%v)", i, got, at.Unix(), at)
		}
	}
}

// TestAdvanceClockPastHorizon: a move past the horizon (9999-12-31) is a
// ValidationException that names it, and nothing changes; a move to the
// horizon itself is served.
func TestAdvanceClockPastHorizon(t *testing.T) {
	f := newFixture(t)
	createKey(t, f.handler, `{}`)
	horizon := kms.Horizon()
	for _, body := range []string{
		`{"To":253402300800}`,      // 10000-01-01
		`{"To":9e15}`,              // far past it
		`{"Seconds":251698233600}`, // from 2024 to 10000-01-01
		`{"Seconds":9223372036}`,   // a time.Duration's worth, then more below
		`{"Seconds":1.7976931348623157e308}`,
	} {
		before := f.clock.Now()
		status, h, b := post(t, f.handler, "KmsModel.AdvanceClock", body)
		if body == `{"Seconds":9223372036}` { // 292 years: served
			if status != 200 {
				t.Fatalf("AdvanceClock %s: %d %s", body, status, b)
			}
			continue
		}
		if status != 400 || h.Get("X-Amzn-ErrorType") != "ValidationException" || !strings.Contains(string(b), "9999-12-31T23:59:59.999999Z") {
			t.Fatalf("AdvanceClock %s: %d %s, want a ValidationException naming the horizon", body, status, b)
		}
		if !f.clock.Now().Equal(before) {
			t.Fatalf("AdvanceClock %s moved the clock from %v to %v", body, before, f.clock.Now())
		}
	}
	// A float64 near 2.5e11 holds about 30 µs of precision: To can come
	// within that of the horizon, and Set reaches it exactly.
	postOK(t, f.handler, "KmsModel.AdvanceClock", `{"To":253402300799.9999}`)
	if got := f.clock.Now(); got.After(horizon) || horizon.Sub(got) > 200*time.Microsecond {
		t.Fatalf("AdvanceClock To just before the horizon: clock %v", got)
	}
	if err := f.clock.Set(horizon); err != nil {
		t.Fatal(err)
	}
	status, _, b := post(t, f.handler, "KmsModel.AdvanceClock", `{"Seconds":0.001}`)
	if status != 400 || !f.clock.Now().Equal(horizon) {
		t.Fatalf("AdvanceClock 1 ms at the horizon: %d %s (clock %v)", status, b, f.clock.Now())
	}
	postOK(t, f.handler, target+"CreateKey", `{}`) // still served at the horizon
}
