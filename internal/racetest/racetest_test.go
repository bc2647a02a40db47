package racetest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/racetest"
	"github.com/kmsmodel/kmsmodel/store"
)

// TestBefore: the function runs once, before the next ApplyAt, which then
// loses its race; the next ApplyAt passes through.
func TestBefore(t *testing.T) {
	ctx := context.Background()
	shared := store.NewSharedMemory()
	defer shared.Close()
	s := racetest.New(shared)
	put := func(st store.Shared, read int64, desc string) (int64, error) {
		k := store.Key{ID: "1234abcd-12ab-34cd-56ef-1234567890ab", Version: 1, Description: desc, Created: time.Unix(1, 0)}
		if read > 0 {
			cur, err := st.Key(ctx, k.ID)
			if err != nil {
				return 0, err
			}
			k.Version = cur.Version + 1
		}
		return st.ApplyAt(ctx, read, &store.Batch{PutKeys: []store.Key{k}})
	}
	read, err := put(s, 0, "first")
	if err != nil {
		t.Fatal(err)
	}
	runs := 0
	s.Before(func() {
		runs++
		if _, err := put(shared, read, "the other node's"); err != nil {
			t.Error(err)
		}
	})
	if _, err := put(s, read, "lost"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("ApplyAt after the other write = %v, want ErrConflict", err)
	}
	rev, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := put(s, rev, "won"); err != nil {
		t.Fatalf("the next ApplyAt: %v", err)
	}
	if runs != 1 {
		t.Errorf("the function ran %d times, want 1", runs)
	}
}
