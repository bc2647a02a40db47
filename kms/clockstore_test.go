package kms_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// Issue 12 item 12, "The simulated clock on disk": after a restart a manual
// clock started again at its start instant while the stored keys kept later
// dates (CreationDate after Now, ListKeyRotations no longer oldest first).
// Now every write and every Sweep that moved time records the service's
// latest instant in the store, and Open refuses a clock behind it with
// ErrClockBackwards; a clock started at the recorded instant resumes.

// csKeepOpen is a store that ignores Close, so that a test can open a
// second service over a store.Memory the first one used.
type csKeepOpen struct{ store.Store }

func (csKeepOpen) Close() error { return nil }

func TestOpenClockBehindStore(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(t *testing.T) func() store.Store // returns an opener of the same store
	}{
		{"memory", func(t *testing.T) func() store.Store {
			m := store.NewMemory()
			return func() store.Store { return csKeepOpen{m} }
		}},
		{"bolt", func(t *testing.T) func() store.Store {
			path := filepath.Join(t.TempDir(), "kms.db")
			return func() store.Store {
				st, err := boltstore.Open(path, nil)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			open := tc.store(t)
			start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			clk := kms.NewManualClock(start)
			s, err := kms.Open(ctx, open(), kms.WithClock(clk))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateKey(ctx, &kms.CreateKeyInput{}); err != nil {
				t.Fatal(err)
			}
			// Time moves on with no event: Sweep records it.
			later := start.AddDate(3, 0, 0)
			if err := clk.Set(later); err != nil {
				t.Fatal(err)
			}
			s.Sweep()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			st := open()
			if got, err := st.LatestInstant(ctx); err != nil || !got.Equal(later) {
				t.Fatalf("LatestInstant = %v, %v; want %v", got, err, later)
			}
			// A clock at the old start is refused, and changes nothing.
			_, err = kms.Open(ctx, st, kms.WithClock(kms.NewManualClock(start)))
			if !errors.Is(err, kms.ErrClockBackwards) {
				t.Fatalf("Open with the clock at %v behind the store's %v = %v, want ErrClockBackwards", start, later, err)
			}
			if err := st.Close(); err != nil { // a failed Open leaves the store to its caller
				t.Fatal(err)
			}
			st = open()
			if got, _ := st.LatestInstant(ctx); !got.Equal(later) {
				t.Fatalf("the refused Open changed LatestInstant to %v", got)
			}
			// Resumed at the recorded instant, the service serves and its
			// dates follow the stored ones.
			s, err = kms.Open(ctx, st, kms.WithClock(kms.NewManualClock(later)))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			out, err := s.CreateKey(ctx, &kms.CreateKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			if !out.KeyMetadata.CreationDate.Equal(later) {
				t.Fatalf("CreationDate = %v, want %v", out.KeyMetadata.CreationDate, later)
			}
		})
	}
}
