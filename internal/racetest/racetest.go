package racetest

import (
	"context"
	"sync/atomic"

	"github.com/kmsmodel/kmsmodel/store"
)

// Store is a node's handle on a shared store that runs a function before
// the node's next ApplyAt (see Before).
type Store struct {
	store.Shared
	race atomic.Pointer[func()]
}

// New wraps s.
func New(s store.Shared) *Store { return &Store{Shared: s} }

// Before makes the Store run f at the start of its next ApplyAt, once.
func (s *Store) Before(f func()) { s.race.Store(&f) }

// ApplyAt runs the function Before gave, if any, and then the wrapped
// store's ApplyAt.
func (s *Store) ApplyAt(ctx context.Context, read int64, bs ...*store.Batch) (int64, error) {
	if f := s.race.Swap(nil); f != nil {
		(*f)()
	}
	return s.Shared.ApplyAt(ctx, read, bs...)
}
