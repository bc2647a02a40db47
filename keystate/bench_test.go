package keystate_test

import (
	"testing"
	"unsafe"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// resident is what a store keeps per key for the lifecycle: the state and
// the kind, no FSM instance (STYLE.md: millions of keys must fit in memory).
type resident struct {
	State keystate.State
	Kind  keystate.Kind
}

// sink keeps results alive so the compiler cannot drop the calls.
var (
	sinkErr   error
	sinkState keystate.State
)

func BenchmarkCheckAllowed(b *testing.B) {
	b.ReportAllocs()
	kind := keystate.Kind{}
	if err := keystate.Check(keystate.Encrypt, keystate.Enabled, kind, testARN); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		sinkErr = keystate.Check(keystate.Encrypt, keystate.Enabled, kind, testARN)
	}
}

func BenchmarkCheckRefused(b *testing.B) {
	b.ReportAllocs()
	kind := keystate.Kind{}
	for b.Loop() {
		sinkErr = keystate.Check(keystate.Encrypt, keystate.Disabled, kind, testARN)
	}
	if sinkErr == nil {
		b.Fatal("Encrypt on a Disabled key was allowed")
	}
}

func BenchmarkTransition(b *testing.B) {
	b.ReportAllocs()
	// Enabled → Disabled → Enabled → …: one accepted transition per op.
	events := [2]keystate.Event{keystate.Disable, keystate.Enable}
	s := keystate.Enabled
	i := 0
	for b.Loop() {
		s, _ = keystate.Transition(s, events[i&1])
		i++
	}
	sinkState = s
}

// BenchmarkResidentState walks a packed slice of per-key records, checking
// and moving each key, and reports the size of one record as bytes/key.
func BenchmarkResidentState(b *testing.B) {
	b.ReportAllocs()
	keys := make([]resident, 1<<16)
	for i := range keys {
		keys[i].State = keystate.Enabled
	}
	for b.Loop() {
		for i := range keys {
			k := &keys[i]
			if keystate.Check(keystate.DisableKey, k.State, k.Kind, testARN) == nil {
				k.State, _ = keystate.Transition(k.State, keystate.Disable)
			}
			k.State, _ = keystate.Transition(k.State, keystate.Enable)
		}
	}
	b.ReportMetric(float64(unsafe.Sizeof(resident{})), "bytes/key")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
}

// TestCheckAllowedDoesNotAllocate: the common path, an allowed call, costs
// no allocation.
func TestCheckAllowedDoesNotAllocate(t *testing.T) {
	var err error
	allocs := testing.AllocsPerRun(1000, func() {
		err = keystate.Check(keystate.Encrypt, keystate.Enabled, keystate.Kind{}, testARN)
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("Check allowed: %v allocations per call, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(1000, func() {
		sinkState, err = keystate.Transition(keystate.Enabled, keystate.Disable)
	})
	if allocs != 0 {
		t.Errorf("Transition accepted: %v allocations per call, want 0", allocs)
	}
}

// TestResidentSize: the package doc promises one State byte and a five-byte
// Kind per key.
func TestResidentSize(t *testing.T) {
	if got := unsafe.Sizeof(keystate.State(0)); got != 1 {
		t.Errorf("State is %d bytes, want 1", got)
	}
	if got := unsafe.Sizeof(keystate.Kind{}); got != 5 {
		t.Errorf("Kind is %d bytes, want 5", got)
	}
	if got := unsafe.Sizeof(resident{}); got != 6 {
		t.Errorf("State+Kind is %d bytes, want 6", got)
	}
}
