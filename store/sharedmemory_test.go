package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/storetest"
)

// TestSharedMemoryConformance runs both conformance suites against
// SharedMemory, the reference implementation of store.Shared.
func TestSharedMemoryConformance(t *testing.T) {
	storetest.RunConformanceTests(t, func(t *testing.T) store.Store { return store.NewSharedMemory() })
	storetest.RunSharedConformanceTests(t, func(t *testing.T) store.Shared { return store.NewSharedMemory() })
}

// commitN applies n commits to s, each replacing one of 50 custom key
// stores.
func commitN(tb testing.TB, s *store.SharedMemory, n int) {
	tb.Helper()
	for i := range n {
		if err := s.Apply(context.Background(), &store.Batch{PutCustomKeyStores: []store.CustomKeyStore{{ID: fmt.Sprint("cks-", i%50)}}}); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestSharedMemoryLog: once more than SharedMemoryLog commits were made,
// Watch replays the last SharedMemoryLog of them, in revision order, and
// refuses with ErrCompacted to start before them.
func TestSharedMemoryLog(t *testing.T) {
	s := store.NewSharedMemory()
	defer s.Close()
	commitN(t, s, store.SharedMemoryLog+3)
	rev, err := s.Revision(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	oldest := rev - store.SharedMemoryLog + 1
	if _, err := s.Watch(t.Context(), oldest-2); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("Watch after %d, before the oldest commit kept (%d) = %v, want ErrCompacted", oldest-2, oldest, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	changes, err := s.Watch(ctx, oldest-1)
	if err != nil {
		t.Fatalf("Watch after %d, from the oldest commit kept: %v", oldest-1, err)
	}
	for want := oldest; want <= rev; want++ {
		c := <-changes
		if c.Err != nil || c.Revision != want || len(c.Batch.PutCustomKeyStores) != 1 {
			t.Fatalf("change %+v, want the commit at revision %d", c, want)
		}
	}
}

// BenchmarkSharedMemoryApply: a commit to a SharedMemory whose log is
// full (each commit drops the oldest kept).
func BenchmarkSharedMemoryApply(b *testing.B) {
	s := store.NewSharedMemory()
	defer s.Close()
	commitN(b, s, store.SharedMemoryLog)
	for b.Loop() {
		commitN(b, s, 1)
	}
}
