package consistency_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/depstest"
	"github.com/kmsmodel/kmsmodel/kms/consistency"
	"pgregory.net/rapid"
)

const sec = int64(time.Second / time.Microsecond)

// TestDependencies: the package is a pure core that links only the
// standard library (STYLE.md, "Dependency direction").
func TestDependencies(t *testing.T) {
	const self = "github.com/kmsmodel/kmsmodel/kms/consistency"
	for _, pkg := range depstest.Deps(t, "./kms/consistency") {
		if !depstest.IsStandard(pkg) && pkg != self {
			t.Errorf("consistency depends on %s; only the standard library is allowed", pkg)
		}
	}
}

// TestDelayBounds (D40): every delay lies in [Min, Max]; the tail share is
// about TailProbability; the same seed and change give the same delay.
func TestDelayBounds(t *testing.T) {
	m := consistency.Default()
	m.Seed = 42
	tail := 0
	const n = 20000
	for c := uint64(0); c < n; c++ {
		d := m.Propagation(c)
		if d < m.Delay.Min.Microseconds() || d > m.Delay.Max.Microseconds() {
			t.Fatalf("change %d: delay %d µs outside [%v, %v]", c, d, m.Delay.Min, m.Delay.Max)
		}
		if d > m.Delay.Typical.Microseconds() {
			tail++
		}
		if m.Propagation(c) != d {
			t.Fatalf("change %d: delay not reproducible", c)
		}
	}
	if share := float64(tail) / n; share < 0.01 || share > 0.03 {
		t.Errorf("tail share %.4f, want about 0.02", share)
	}
	other := m
	other.Seed = 43
	same := 0
	for c := uint64(0); c < 100; c++ {
		if other.Propagation(c) == m.Propagation(c) {
			same++
		}
	}
	if same > 5 {
		t.Errorf("seeds 42 and 43 agree on %d of 100 delays", same)
	}
}

// TestFixed: a fixed distribution gives exactly its delay.
func TestFixed(t *testing.T) {
	m := consistency.Model{Seed: 7, Delay: consistency.Fixed(2 * time.Second)}
	for c := uint64(0); c < 50; c++ {
		if d := m.Propagation(c); d != 2*sec {
			t.Fatalf("delay %d µs, want %d", d, 2*sec)
		}
	}
	if consistency.Fixed(0).String() != "0s" || consistency.Fixed(2*time.Second).String() != "2s" {
		t.Errorf("String of Fixed: %q", consistency.Fixed(2*time.Second).String())
	}
}

// TestVisibleProperties (D40): invisible to all at the instant it is made,
// visible to all from FullAt, and monotone per reader in between;
// reproducible from the seed.
func TestVisibleProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := consistency.Default()
		m.Seed = rapid.Uint64().Draw(t, "seed")
		change := rapid.Uint64().Draw(t, "change")
		reader := rapid.Uint64().Draw(t, "reader")
		made := rapid.Int64Range(-1e15, 1e15).Draw(t, "made")
		full := m.FullAt(change, made)
		if m.Visible(change, made, made, reader) {
			t.Fatalf("visible at the instant it was made (delay %d)", full-made)
		}
		if !m.Visible(change, made, full, reader) || !m.Visible(change, made, full+1, reader) {
			t.Fatalf("not visible at FullAt")
		}
		if m.Visible(change, made, full-1, reader) && !m.Visible(change, made, full-1+0, reader) {
			t.Fatalf("not reproducible")
		}
		a := rapid.Int64Range(made, full).Draw(t, "a")
		b := rapid.Int64Range(a, full).Draw(t, "b")
		if m.Visible(change, made, a, reader) && !m.Visible(change, made, b, reader) {
			t.Fatalf("seen at %d, unseen at the later %d", a, b)
		}
	})
}

// TestVisibleShare: half-way through the window about half the readers
// see the change.
func TestVisibleShare(t *testing.T) {
	m := consistency.Model{Seed: 1, Delay: consistency.Fixed(10 * time.Second)}
	seen := 0
	for r := uint64(0); r < 10000; r++ {
		if m.Visible(99, 0, 5*sec, consistency.CallReader(r)) {
			seen++
		}
	}
	if seen < 4700 || seen > 5300 {
		t.Errorf("%d of 10000 readers see the change half-way, want about 5000", seen)
	}
}

// TestDeletionDelay (D43): within [0, MaxDeletionDelay], reproducible,
// spread over the day.
func TestDeletionDelay(t *testing.T) {
	m := consistency.Default()
	m.Seed = 3
	day := (24 * time.Hour).Microseconds()
	lo, hi := day, int64(0)
	for k := uint64(0); k < 2000; k++ {
		d := m.DeletionDelay(k, 1_700_000_000*sec)
		if d < 0 || d > day {
			t.Fatalf("deletion delay %d µs outside [0, 24h]", d)
		}
		lo, hi = min(lo, d), max(hi, d)
		if m.DeletionDelay(k, 1_700_000_000*sec) != d {
			t.Fatal("not reproducible")
		}
	}
	if lo > day/100 || hi < day-day/100 {
		t.Errorf("deletion delays span [%d, %d] µs, want most of the day", lo, hi)
	}
	m.MaxDeletionDelay = 0
	if m.DeletionDelay(1, 5) != 0 {
		t.Error("MaxDeletionDelay 0 must give 0")
	}
}

func TestParseAndValidate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want consistency.Distribution
		err  string
	}{
		{"500ms-3s,5m:0.02", consistency.DefaultDistribution(), ""},
		{"2s", consistency.Fixed(2 * time.Second), ""},
		{"3s-1s,5m:0.1", consistency.Distribution{}, "below the minimum"},
		{"1s-3s,2s:0.1", consistency.Distribution{}, "below the typical"},
		{"1s-3s,5m:1.5", consistency.Distribution{}, "tail probability"},
		{"-1s", consistency.Distribution{}, "negative"},
		{"soon", consistency.Distribution{}, "neither a duration"},
		{"1s-x,5m:0.1", consistency.Distribution{}, "invalid duration"},
	} {
		d, err := consistency.ParseDistribution(tc.in)
		if tc.err == "" {
			if err != nil || d != tc.want {
				t.Errorf("%q: %v, %v; want %v", tc.in, d, err, tc.want)
			}
			if back, err := consistency.ParseDistribution(d.String()); err != nil || back != d {
				t.Errorf("%q: String %q does not parse back: %v", tc.in, d.String(), err)
			}
			continue
		}
		if !errors.Is(err, consistency.ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: error %v, want ErrInvalid containing %q", tc.in, err, tc.err)
		}
	}
	if r, err := consistency.ParseReaders("call"); err != nil || r != consistency.PerCall || r.String() != "call" {
		t.Errorf("ParseReaders(call) = %v, %v", r, err)
	}
	if _, err := consistency.ParseReaders("host"); !errors.Is(err, consistency.ErrInvalid) {
		t.Errorf("ParseReaders(host) = %v", err)
	}
	bad := consistency.Model{Delay: consistency.Distribution{Min: -1, Typical: -5, Max: -9, TailProbability: 2},
		MaxDeletionDelay: -1, Readers: 9}
	if bad.Validate() == nil {
		t.Error("Validate accepted a bad model")
	}
	if c := bad.Clamp(); c.Validate() != nil || c.Delay.Min != 0 || c.Delay.TailProbability != 1 || c.Readers != consistency.PerPrincipal {
		t.Errorf("Clamp gave %+v (%v)", c, c.Validate())
	}
	if err := consistency.Default().Validate(); err != nil {
		t.Error(err)
	}
}
