package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/store"
)

// The latest instant (store.Batch.Now, store.Store.LatestInstant).

func checkInstant(t *testing.T, s store.Store, what string, want time.Time) {
	t.Helper()
	got, err := s.LatestInstant(t.Context())
	if err != nil {
		t.Fatalf("LatestInstant %s: %v", what, err)
	}
	if got.IsZero() != want.IsZero() || !got.Equal(want) {
		t.Fatalf("LatestInstant %s = %v, want %v", what, got, want)
	}
}

// testLatestInstant: LatestInstant is zero on a new store and after
// batches without a Now; a batch's Now sets it, with the rest of the batch
// or alone (a batch whose only part is a Now is applied, not skipped as
// empty); an earlier Now, or an equal one, leaves it.
func testLatestInstant(t *testing.T, s store.Store) {
	checkInstant(t, s, "of a new store", time.Time{})
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}})
	checkInstant(t, s, "after a batch without Now", time.Time{})

	t1 := time.Date(2025, 3, 4, 5, 6, 7, 8, kathmandu)
	apply(t, s, store.Batch{PutKeys: []store.Key{next(newKey("k"))}, Now: t1})
	checkInstant(t, s, "after a batch with Now", t1)
	checkSame(t, "key written with Now", getKey(t, s, "k"), next(newKey("k")))
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("n")}})
	checkInstant(t, s, "after a later batch without Now", t1)

	apply(t, s, store.Batch{Now: t1.Add(-time.Nanosecond)})
	checkInstant(t, s, "after a batch with only an earlier Now", t1)
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("e")}, Now: t1.AddDate(-1, 0, 0)})
	checkInstant(t, s, "after a batch with an earlier Now", t1)
	checkSame(t, "key written with an earlier Now", getKey(t, s, "e"), newKey("e"))
	apply(t, s, store.Batch{Now: t1.In(marquesas)})
	checkInstant(t, s, "after a batch with the same Now", t1)

	before := dump(t, s)
	t2 := t1.Add(time.Nanosecond)
	apply(t, s, store.Batch{Now: t2})
	checkInstant(t, s, "after a batch with only a later Now", t2)
	checkSame(t, "store after a batch with only a Now", dump(t, s), before)
}

// testLatestInstantMisfit: a batch that does not fit, for whatever
// reason, leaves the latest instant as it was, even though its Now is
// later: the Now is written with the batch or not at all.
func testLatestInstantMisfit(t *testing.T, s store.Store) {
	t1 := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	k := newKey("k")
	apply(t, s, store.Batch{PutKeys: []store.Key{k}, PutSecret: secret(1), Now: t1})
	before := dump(t, s)
	later := t1.AddDate(1, 0, 0)
	for _, tc := range []struct {
		name string
		b    store.Batch
		want error
	}{
		{"existing key created", store.Batch{PutKeys: []store.Key{k}, Now: later}, store.ErrExists},
		{"skipped version", store.Batch{PutKeys: []store.Key{next(next(k))}, Now: later}, store.ErrConflict},
		{"missing key's deletion", store.Batch{DeleteKeys: []string{"missing"}, Now: later}, store.ErrNotFound},
		{"alias of a missing key", store.Batch{PutAliases: []store.Alias{newAlias("alias/a", "missing")}, Now: later},
			store.ErrNotFound},
		{"second secret", store.Batch{PutSecret: secret(2), Now: later}, store.ErrExists},
	} {
		checkErr(t, tc.name, s.Apply(t.Context(), &tc.b), tc.want)
		checkInstant(t, s, "after a batch that failed with "+tc.name, t1)
	}
	checkSame(t, "store after failed batches", dump(t, s), before)
	checkSecret(t, s, secret(1))
}

// testLatestInstantRange: instants from year 1 to the end of year 9999,
// before 1970 included, read back equal (time.Time.Equal) to what was
// given, to the nanosecond.
func testLatestInstantRange(t *testing.T, s store.Store) {
	for _, at := range []time.Time{ // in increasing order
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), // the earliest after the zero time
		time.Date(1, 1, 1, 0, 0, 1, 0, marquesas),
		time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Unix(0, 0),
		time.Unix(0, 1),
		time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	} {
		apply(t, s, store.Batch{Now: at})
		checkInstant(t, s, fmt.Sprintf("after Now %s", at.Format(time.RFC3339Nano)), at)
	}
}

// testLatestInstantConcurrent: of concurrent batches with Nows, the
// latest Now is kept, whatever order they are applied in.
func testLatestInstantConcurrent(t *testing.T, s store.Store) {
	const writers = 16
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make([]error, writers)
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			b := store.Batch{Now: base.Add(time.Duration(w) * time.Second)}
			if w%2 == 0 {
				b.PutKeys = []store.Key{newKey(fmt.Sprintf("w%02d", w))}
			}
			errs[w] = s.Apply(t.Context(), &b)
		})
	}
	close(start)
	wg.Wait()
	for w, err := range errs {
		checkErr(t, fmt.Sprintf("writer %d", w), err, nil)
	}
	checkInstant(t, s, "after concurrent batches", base.Add((writers-1)*time.Second))
}
