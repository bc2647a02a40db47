package faultstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kmsmodel/kmsmodel/store"
)

// Op names a method of store.Store.
type Op string

// The Ops, one per method of store.Store.
const (
	OpApply     Op = "Apply"
	OpKey       Op = "Key"
	OpKeys      Op = "Keys"
	OpRotations Op = "Rotations"
	OpAliases   Op = "Aliases"
	OpSecret    Op = "Secret"
	OpScan      Op = "ScanRotations"
	OpStores    Op = "CustomKeyStores"
	OpInstant   Op = "LatestInstant"
	OpGrants    Op = "Grants"
	OpProfile   Op = "RuleProfile"
	OpClose     Op = "Close"
)

// ErrInjected is matched (errors.Is) by every error a rule makes a call
// return, and is that error's cause when the rule was given none.
var ErrInjected = errors.New("faultstore: injected failure")

// Error is the error of a call a rule failed.
type Error struct {
	// Op is the method that failed, and Call its number: 1 for the first
	// call of Op the Store saw.
	Op   Op
	Call int
	// Err is the error the rule gave (ErrInjected if none).
	Err error
}

// Error returns "faultstore: Op call N: " and the rule's error.
func (e *Error) Error() string {
	return fmt.Sprintf("faultstore: %s call %d: %v", e.Op, e.Call, e.Err)
}

// Unwrap returns the error the rule gave.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is ErrInjected.
func (e *Error) Is(target error) bool { return target == ErrInjected }

// Store is a store.Store that passes calls to another and fails those its
// rules choose. It is safe for concurrent use.
type Store struct {
	inner store.Store

	mu      sync.Mutex
	calls   map[Op]int
	rules   []rule
	batches int        // batches seen by Apply
	gate    *applyGate // set while Hold is in force
}

// rule fails calls number first to last (0: no end) of op.
type rule struct {
	op          Op
	first, last int
	err         error
}

var _ store.Store = (*Store)(nil)

// New returns a Store over inner, with no rules.
func New(inner store.Store) *Store {
	return &Store{inner: inner, calls: map[Op]int{}}
}

// Inner returns the wrapped store.
func (s *Store) Inner() store.Store { return s.inner }

// FailNth makes the n-th call of op from now fail with err (n = 1: the
// next call). It panics if n < 1.
func (s *Store) FailNth(op Op, n int, err error) {
	s.add(op, n, false, err)
}

// FailFrom makes every call of op from the n-th from now on fail with err
// (n = 1: from the next call), until Heal. It panics if n < 1.
func (s *Store) FailFrom(op Op, n int, err error) {
	s.add(op, n, true, err)
}

func (s *Store) add(op Op, n int, onwards bool, err error) {
	if n < 1 {
		panic(fmt.Sprintf("faultstore: call number %d < 1", n))
	}
	if err == nil {
		err = ErrInjected
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := rule{op: op, first: s.calls[op] + n, err: err}
	if !onwards {
		r.last = r.first
	}
	s.rules = append(s.rules, r)
}

// Heal removes every rule: later calls pass through.
func (s *Store) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
}

// Calls returns the number of calls of op the Store has seen, failed ones
// included.
func (s *Store) Calls(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// call counts a call of op and returns the error a rule gives it, if any.
// When several rules match, the one added first wins.
func (s *Store) call(op Op) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	n := s.calls[op]
	for _, r := range s.rules {
		if r.op == op && n >= r.first && (r.last == 0 || n <= r.last) {
			return &Error{Op: op, Call: n, Err: r.err}
		}
	}
	return nil
}

// Apply passes the group bs to the wrapped store, unless a rule fails the
// call; then it writes nothing and returns an *Error. A call counts once,
// however many batches its group holds (Batches counts those). While Hold
// is in force, Apply waits before it reaches the wrapped store.
func (s *Store) Apply(ctx context.Context, bs ...*store.Batch) error {
	s.mu.Lock()
	s.batches += len(bs)
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		gate.entered <- struct{}{}
		<-gate.open
	}
	if err := s.call(OpApply); err != nil {
		return err
	}
	return s.inner.Apply(ctx, bs...)
}

// Batches returns the number of batches the Apply calls the Store has seen
// carried, failed ones included: with Calls(OpApply) it gives the size of
// the groups a writer made.
func (s *Store) Batches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batches
}

// applyGate holds Apply calls back while Hold is in force.
type applyGate struct {
	entered chan struct{}
	open    chan struct{}
}

// Hold makes every Apply call from now on wait, before it counts or reaches
// the wrapped store, until release is called: the way a test keeps a
// write from becoming durable while it watches what other callers do. Each
// Apply that starts waiting sends once on entered (which the test must
// receive from, or the Apply blocks there). release lets the waiting and
// later calls through; it is idempotent.
func (s *Store) Hold() (entered <-chan struct{}, release func()) {
	g := &applyGate{entered: make(chan struct{}), open: make(chan struct{})}
	s.mu.Lock()
	s.gate = g
	s.mu.Unlock()
	var once sync.Once
	return g.entered, func() {
		once.Do(func() {
			s.mu.Lock()
			if s.gate == g {
				s.gate = nil
			}
			s.mu.Unlock()
			close(g.open)
		})
	}
}

// Key passes the call to the wrapped store, unless a rule fails it.
func (s *Store) Key(ctx context.Context, id string) (store.Key, error) {
	if err := s.call(OpKey); err != nil {
		return store.Key{}, err
	}
	return s.inner.Key(ctx, id)
}

// Keys passes the call to the wrapped store, unless a rule fails it.
func (s *Store) Keys(ctx context.Context, after string, limit int) ([]store.Key, error) {
	if err := s.call(OpKeys); err != nil {
		return nil, err
	}
	return s.inner.Keys(ctx, after, limit)
}

// Rotations passes the call to the wrapped store, unless a rule fails it.
func (s *Store) Rotations(ctx context.Context, keyID string, from, limit int) ([]store.Rotation, error) {
	if err := s.call(OpRotations); err != nil {
		return nil, err
	}
	return s.inner.Rotations(ctx, keyID, from, limit)
}

// Aliases passes the call to the wrapped store, unless a rule fails it.
func (s *Store) Aliases(ctx context.Context, after store.AliasID, limit int) ([]store.Alias, error) {
	if err := s.call(OpAliases); err != nil {
		return nil, err
	}
	return s.inner.Aliases(ctx, after, limit)
}

// ScanRotations passes the call to the wrapped store, unless a rule fails it.
func (s *Store) ScanRotations(ctx context.Context, fn func(keyID string, rotations []store.Rotation) error) error {
	if err := s.call(OpScan); err != nil {
		return err
	}
	return s.inner.ScanRotations(ctx, fn)
}

// Secret passes the call to the wrapped store, unless a rule fails it.
func (s *Store) Secret(ctx context.Context) ([]byte, error) {
	if err := s.call(OpSecret); err != nil {
		return nil, err
	}
	return s.inner.Secret(ctx)
}

// CustomKeyStores passes the call to the wrapped store, unless a rule
// fails it.
func (s *Store) CustomKeyStores(ctx context.Context) ([]store.CustomKeyStore, error) {
	if err := s.call(OpStores); err != nil {
		return nil, err
	}
	return s.inner.CustomKeyStores(ctx)
}

// Grants passes the call to the wrapped store, unless a rule fails it;
// then fn is not called.
func (s *Store) Grants(ctx context.Context, fn func(store.Grant) error) error {
	if err := s.call(OpGrants); err != nil {
		return err
	}
	return s.inner.Grants(ctx, fn)
}

// LatestInstant passes the call to the wrapped store, unless a rule fails
// it.
func (s *Store) LatestInstant(ctx context.Context) (time.Time, error) {
	if err := s.call(OpInstant); err != nil {
		return time.Time{}, err
	}
	return s.inner.LatestInstant(ctx)
}

// RuleProfile passes the call to the wrapped store, unless a rule fails
// it.
func (s *Store) RuleProfile(ctx context.Context) (string, error) {
	if err := s.call(OpProfile); err != nil {
		return "", err
	}
	return s.inner.RuleProfile(ctx)
}

// Close closes the wrapped store, unless a rule fails the call; then the
// wrapped store stays open.
func (s *Store) Close() error {
	if err := s.call(OpClose); err != nil {
		return err
	}
	return s.inner.Close()
}
