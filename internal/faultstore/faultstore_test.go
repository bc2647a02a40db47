package faultstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/faultstore"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/storetest"
)

var errBoom = errors.New("boom")

func newKey(id string) store.Key { return store.Key{ID: id, Version: 1} }

func create(s store.Store, id string) error {
	return s.Apply(context.Background(), &store.Batch{PutKeys: []store.Key{newKey(id)}})
}

// TestConformanceWithoutRules: with no rules the wrapper is invisible.
func TestConformanceWithoutRules(t *testing.T) {
	storetest.RunConformanceTests(t, func(t *testing.T) store.Store {
		return faultstore.New(store.NewMemory())
	})
}

// TestFailNth: only the chosen call fails, with the given error wrapped,
// and its batch is not written.
func TestFailNth(t *testing.T) {
	mem := store.NewMemory()
	s := faultstore.New(mem)
	s.FailNth(faultstore.OpApply, 2, errBoom)
	for i, want := range []error{nil, errBoom, nil, nil} {
		err := create(s, fmt.Sprint("k", i))
		if want == nil {
			if err != nil {
				t.Fatalf("Apply %d: %v", i+1, err)
			}
			continue
		}
		if !errors.Is(err, errBoom) || !errors.Is(err, faultstore.ErrInjected) {
			t.Fatalf("Apply %d: %v; want errBoom and ErrInjected", i+1, err)
		}
		var fe *faultstore.Error
		if !errors.As(err, &fe) || fe.Op != faultstore.OpApply || fe.Call != 2 {
			t.Fatalf("Apply %d: %#v; want *Error{Apply, 2}", i+1, err)
		}
		if _, err := mem.Key(context.Background(), fmt.Sprint("k", i)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the failed Apply reached the store: Key: %v", err)
		}
	}
	if n := s.Calls(faultstore.OpApply); n != 4 {
		t.Fatalf("Calls(Apply) = %d, want 4", n)
	}
}

// TestCountFromNow: n counts from when the rule is added.
func TestCountFromNow(t *testing.T) {
	s := faultstore.New(store.NewMemory())
	for i := range 3 {
		if err := create(s, fmt.Sprint("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	s.FailNth(faultstore.OpApply, 1, nil)
	err := create(s, "b")
	var fe *faultstore.Error
	if !errors.As(err, &fe) || fe.Call != 4 || fe.Err != faultstore.ErrInjected {
		t.Fatalf("next Apply: %v; want call 4 failed with ErrInjected", err)
	}
	if err := create(s, "b"); err != nil {
		t.Fatalf("Apply after the failed one: %v", err)
	}
}

// TestFailFrom: every call from the chosen one fails, on that Op only,
// until Heal.
func TestFailFrom(t *testing.T) {
	ctx := context.Background()
	s := faultstore.New(store.NewMemory())
	if err := create(s, "k"); err != nil {
		t.Fatal(err)
	}
	s.FailFrom(faultstore.OpKey, 2, store.ErrCorrupt)
	if _, err := s.Key(ctx, "k"); err != nil {
		t.Fatalf("Key 1: %v", err)
	}
	for i := range 3 {
		if _, err := s.Key(ctx, "k"); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("Key %d: %v, want ErrCorrupt", i+2, err)
		}
	}
	if _, err := s.Keys(ctx, "", 10); err != nil {
		t.Fatalf("Keys, which no rule names: %v", err)
	}
	s.Heal()
	if _, err := s.Key(ctx, "k"); err != nil {
		t.Fatalf("Key after Heal: %v", err)
	}
}

// TestEveryOp: each Op can be failed, and fails only its own method.
func TestEveryOp(t *testing.T) {
	ctx := context.Background()
	calls := map[faultstore.Op]func(s store.Store) error{
		faultstore.OpApply: func(s store.Store) error { return s.Apply(ctx, &store.Batch{}) },
		faultstore.OpKey: func(s store.Store) error {
			_, err := s.Key(ctx, "k")
			return err
		},
		faultstore.OpKeys: func(s store.Store) error {
			_, err := s.Keys(ctx, "", 1)
			return err
		},
		faultstore.OpRotations: func(s store.Store) error {
			_, err := s.Rotations(ctx, "k", 0, 1)
			return err
		},
		faultstore.OpAliases: func(s store.Store) error {
			_, err := s.Aliases(ctx, store.AliasID{}, 1)
			return err
		},
		faultstore.OpSecret: func(s store.Store) error {
			_, err := s.Secret(ctx)
			return err
		},
		faultstore.OpGrants: func(s store.Store) error {
			return s.Grants(ctx, func(store.Grant) error { return nil })
		},
		faultstore.OpClose: func(s store.Store) error { return s.Close() },
	}
	for op := range calls {
		t.Run(string(op), func(t *testing.T) {
			mem := store.NewMemory()
			if err := mem.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("k")}, PutSecret: []byte("root")}); err != nil {
				t.Fatal(err)
			}
			s := faultstore.New(mem)
			s.FailNth(op, 1, errBoom)
			for other, call := range calls {
				if other != op && other != faultstore.OpClose {
					if err := call(s); err != nil {
						t.Fatalf("%s: %v", other, err)
					}
				}
			}
			if err := calls[op](s); !errors.Is(err, errBoom) {
				t.Fatalf("%s: %v, want errBoom", op, err)
			}
			if op == faultstore.OpClose {
				// The wrapped store is still open.
				if _, err := mem.Key(ctx, "k"); err != nil {
					t.Fatalf("after a failed Close: %v", err)
				}
			}
			if err := calls[op](s); err != nil {
				t.Fatalf("%s again: %v", op, err)
			}
		})
	}
}

// TestRulesCombine: overlapping rules; the first added wins.
func TestRulesCombine(t *testing.T) {
	s := faultstore.New(store.NewMemory())
	errLater := errors.New("later")
	s.FailNth(faultstore.OpApply, 1, errBoom)
	s.FailFrom(faultstore.OpApply, 3, errLater)
	s.FailNth(faultstore.OpApply, 3, errBoom) // shadowed by FailFrom
	for i, want := range []error{errBoom, nil, errLater, errLater} {
		err := create(s, fmt.Sprint("k", i))
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Fatalf("Apply %d: %v, want %v", i+1, err, want)
		}
	}
}

// TestConcurrent: among concurrent calls exactly the chosen one fails.
func TestConcurrent(t *testing.T) {
	s := faultstore.New(store.NewMemory())
	s.FailNth(faultstore.OpApply, 50, errBoom)
	var failed atomic.Int32
	var wg sync.WaitGroup
	for w := range 10 {
		wg.Go(func() {
			for i := range 10 {
				err := create(s, fmt.Sprint(w, "-", i))
				switch {
				case err == nil:
				case errors.Is(err, errBoom):
					failed.Add(1)
				default:
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n != 1 {
		t.Fatalf("%d calls failed, want 1", n)
	}
	if n := s.Calls(faultstore.OpApply); n != 100 {
		t.Fatalf("Calls = %d, want 100", n)
	}
}

func TestBadCallNumber(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("FailNth(op, 0, …) did not panic")
		}
	}()
	faultstore.New(store.NewMemory()).FailNth(faultstore.OpApply, 0, nil)
}

// TestFailSecret: OpSecret rules fail Secret, returning no secret and an
// *Error for the call, without reaching the wrapped store; the secret is
// back after Heal, and Apply's PutSecret is untouched by OpSecret rules.
func TestFailSecret(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	s := faultstore.New(mem)
	s.FailFrom(faultstore.OpSecret, 1, store.ErrCorrupt)
	if err := s.Apply(ctx, &store.Batch{PutSecret: []byte("root")}); err != nil {
		t.Fatalf("Apply of the secret: %v", err)
	}
	if err := mem.Close(); err != nil { // a call reaching mem would say ErrClosed
		t.Fatal(err)
	}
	for i := range 2 {
		got, err := s.Secret(ctx)
		var fe *faultstore.Error
		if got != nil || !errors.Is(err, store.ErrCorrupt) || !errors.Is(err, faultstore.ErrInjected) ||
			errors.Is(err, store.ErrClosed) || !errors.As(err, &fe) || fe.Op != faultstore.OpSecret || fe.Call != i+1 {
			t.Fatalf("Secret %d = %q, %v; want nil and an injected ErrCorrupt for call %d", i+1, got, err, i+1)
		}
	}
	s.Heal()
	if _, err := s.Secret(ctx); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Secret after Heal: %v, want the wrapped store's ErrClosed", err)
	}
	if n := s.Calls(faultstore.OpSecret); n != 3 {
		t.Fatalf("Calls(Secret) = %d, want 3", n)
	}

	// Over an open store, a healed Secret returns the secret.
	mem = store.NewMemory()
	s = faultstore.New(mem)
	if err := s.Apply(ctx, &store.Batch{PutSecret: []byte("root")}); err != nil {
		t.Fatal(err)
	}
	s.FailNth(faultstore.OpSecret, 1, nil)
	if _, err := s.Secret(ctx); !errors.Is(err, faultstore.ErrInjected) {
		t.Fatalf("Secret: %v, want ErrInjected", err)
	}
	if got, err := s.Secret(ctx); err != nil || string(got) != "root" {
		t.Fatalf("Secret after the failed call = %q, %v; want the secret", got, err)
	}
}

// TestFailGrants: OpGrants rules fail Grants without calling fn or
// reaching the wrapped store; other Ops, and Grants after Heal, pass
// through, and fn's own error comes back as it is.
func TestFailGrants(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	s := faultstore.New(mem)
	g := store.Grant{KeyID: "k", GrantID: "g1", GranteePrincipal: "arn:aws:iam::111122223333:root",
		Operations: []string{"Decrypt"}}
	if err := s.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("k")}, PutGrants: []store.Grant{g}}); err != nil {
		t.Fatal(err)
	}
	s.FailNth(faultstore.OpGrants, 1, store.ErrCorrupt)
	called := 0
	count := func(store.Grant) error { called++; return nil }
	err := s.Grants(ctx, count)
	var fe *faultstore.Error
	if !errors.Is(err, store.ErrCorrupt) || !errors.Is(err, faultstore.ErrInjected) ||
		!errors.As(err, &fe) || fe.Op != faultstore.OpGrants || fe.Call != 1 {
		t.Fatalf("Grants = %v; want an injected ErrCorrupt for call 1", err)
	}
	if called != 0 {
		t.Fatalf("the failed Grants called fn %d times", called)
	}
	if _, err := s.Key(ctx, "k"); err != nil {
		t.Fatalf("Key, which no rule names: %v", err)
	}
	if err := s.Grants(ctx, count); err != nil || called != 1 {
		t.Fatalf("Grants after the failed call: %v, fn called %d times; want nil and 1", err, called)
	}
	if err := s.Grants(ctx, func(store.Grant) error { return errBoom }); err != errBoom {
		t.Fatalf("Grants with a failing fn = %v, want fn's error", err)
	}
	if n := s.Calls(faultstore.OpGrants); n != 3 {
		t.Fatalf("Calls(Grants) = %d, want 3", n)
	}
}
