package store_test

import (
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
