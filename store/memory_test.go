package store_test

import (
	"testing"

	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/storetest"
)

// TestMemoryConformance runs the conformance suite against the Memory
// store, the reference implementation.
func TestMemoryConformance(t *testing.T) {
	storetest.RunConformanceTests(t, func(t *testing.T) store.Store {
		return store.NewMemory()
	})
}
