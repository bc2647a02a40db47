package proctest_test

import (
	"runtime"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/proctest"
)

// TestFirstTouch: on Linux the writes into fresh memory take some time,
// with 4 KB pages and with huge pages; elsewhere the measure is refused.
func TestFirstTouch(t *testing.T) {
	for _, huge := range []bool{false, true} {
		d, err := proctest.FirstTouch(8<<20, huge)
		if runtime.GOOS != "linux" {
			if err == nil {
				t.Fatalf("huge=%v: FirstTouch on %s = %v, want an error", huge, runtime.GOOS, d)
			}
			continue
		}
		if err != nil {
			t.Fatalf("huge=%v: %v", huge, err)
		}
		if d <= 0 {
			t.Fatalf("huge=%v: touching 8 MB took %v", huge, d)
		}
	}
}

// TestSelfSystem: the system time is part of the CPU time Self reports.
func TestSelfSystem(t *testing.T) {
	sys := proctest.SelfSystem()
	all := proctest.Self()
	if sys < 0 || sys > all {
		t.Fatalf("SelfSystem() = %v, Self() = %v: want 0 ≤ system ≤ all", sys, all)
	}
}
