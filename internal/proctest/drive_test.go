package proctest_test

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/proctest"
)

// TestDrive: every index is called exactly once, from several goroutines
// at once.
func TestDrive(t *testing.T) {
	const n = 1000
	var calls [n]atomic.Int32
	var inFlight, most atomic.Int32
	err := proctest.Drive(8, n, func(i int) error {
		now := inFlight.Add(1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		calls[i].Add(1)
		inFlight.Add(-1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range calls {
		if c := calls[i].Load(); c != 1 {
			t.Fatalf("index %d called %d times, want once", i, c)
		}
	}
	if most.Load() > 8 {
		t.Fatalf("%d calls at once with 8 clients", most.Load())
	}
}

// TestDriveStopsAtAnError: the first error is returned and no call starts
// after it.
func TestDriveStopsAtAnError(t *testing.T) {
	boom := errors.New("boom")
	var started atomic.Int32
	err := proctest.Drive(1, 100, func(i int) error {
		started.Add(1)
		if i == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Drive: %v, want boom", err)
	}
	if s := started.Load(); s != 11 {
		t.Fatalf("%d calls started, want 11 (none after the error)", s)
	}
}
