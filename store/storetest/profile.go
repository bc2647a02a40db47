package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/store"
)

// Today's-rules material records (store.Key.Materials) and the rule
// profile (store.Batch.RuleProfile, store.Store.RuleProfile).

// testRoundTripMaterials: Key.KeyMaterialDescription and Key.Materials
// read back as written, through Key and Keys: absent, one deleted material
// (no Sealed, no ValidTo), many, and a pending one that is rotating; a
// later Version replaces and drops them; and the store keeps its own
// copies of the sealed bytes.
func testRoundTripMaterials(t *testing.T, s store.Store) {
	none := newKey("a-none")
	deleted := newKey("b-deleted")
	deleted.Materials = []store.KeyMaterial{{ID: strings.Repeat("aa", 32)}}
	many := newKey("c-many")
	many.KeyMaterialDescription = strings.Repeat("d", 256)
	for i := range 40 {
		many.Materials = append(many.Materials, store.KeyMaterial{ID: strings.Repeat(string(rune('a'+i%26)), 64),
			Sealed: []byte(strings.Repeat("s", 60+i)), Description: strings.Repeat("x", i),
			ValidTo: time.Date(2026, 1, 1+i, 0, 0, 0, i, kathmandu)})
	}
	many.Materials = append(many.Materials, store.KeyMaterial{ID: strings.Repeat("ff", 32), Sealed: []byte("pending"),
		Pending: true, Rotating: true})
	full := fullKey("d-full")
	want := []store.Key{none, deleted, many, full}
	for i := range want {
		want[i].Materials = cloneMaterials(want[i].Materials)
	}
	apply(t, s, store.Batch{PutKeys: []store.Key{none, deleted, many, full}})
	many.Materials[0].Sealed[0] ^= 0xff // the caller's slice changes; the store's copy must not
	checkKeys(t, s, "after create", want)

	got := getKey(t, s, many.ID)
	got.Materials[1].Sealed[0] ^= 0xff // the slices Key returns are the caller's
	checkKeys(t, s, "after changing what Key returned", want)

	replaced := next(want[2])
	replaced.Materials = replaced.Materials[:1]
	replaced.KeyMaterialDescription = ""
	dropped := next(want[1])
	dropped.Materials = nil
	apply(t, s, store.Batch{PutKeys: []store.Key{replaced, dropped}})
	checkKeys(t, s, "after replacing and dropping", []store.Key{none, dropped, replaced, full})
}

func cloneMaterials(ms []store.KeyMaterial) []store.KeyMaterial {
	if ms == nil {
		return nil
	}
	out := make([]store.KeyMaterial, len(ms))
	for i, m := range ms {
		m.Sealed = append([]byte(nil), m.Sealed...)
		if len(m.Sealed) == 0 {
			m.Sealed = nil
		}
		out[i] = m
	}
	return out
}

func checkProfile(t *testing.T, s store.Store, what, want string) {
	t.Helper()
	got, err := s.RuleProfile(t.Context())
	if err != nil {
		t.Fatalf("RuleProfile %s: %v", what, err)
	}
	if got != want {
		t.Fatalf("RuleProfile %s = %q, want %q", what, got, want)
	}
}

// testRuleProfile: RuleProfile is "" on a new store and after batches
// without one; a batch's RuleProfile sets it, with the rest of the batch
// or alone (a batch whose only part is a profile is not empty); a later
// one replaces it; and it is gone with the store's other state after
// Close.
func testRuleProfile(t *testing.T, s store.Store) {
	checkProfile(t, s, "of a new store", "")
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}})
	checkProfile(t, s, "after a batch without one", "")
	if (&store.Batch{RuleProfile: "2024"}).Empty() {
		t.Fatal("a batch with only a RuleProfile is Empty")
	}
	apply(t, s, store.Batch{PutKeys: []store.Key{next(newKey("k"))}, RuleProfile: "2024"})
	checkProfile(t, s, "after a batch with one", "2024")
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("n")}})
	checkProfile(t, s, "after a later batch without one", "2024")
	before := dump(t, s)
	apply(t, s, store.Batch{RuleProfile: "current"})
	checkProfile(t, s, "after a batch with only a profile", "current")
	checkSame(t, "store after a batch with only a profile", dump(t, s), before)
}

// testRuleProfileMisfit: a batch that does not fit leaves the profile as
// it was: the profile is written with the batch or not at all.
func testRuleProfileMisfit(t *testing.T, s store.Store) {
	k := newKey("k")
	apply(t, s, store.Batch{PutKeys: []store.Key{k}, RuleProfile: "2024"})
	for _, tc := range []struct {
		name string
		b    store.Batch
		want error
	}{
		{"existing key created", store.Batch{PutKeys: []store.Key{k}, RuleProfile: "current"}, store.ErrExists},
		{"missing key's deletion", store.Batch{DeleteKeys: []string{"missing"}, RuleProfile: "current"}, store.ErrNotFound},
	} {
		checkErr(t, tc.name, s.Apply(t.Context(), &tc.b), tc.want)
		checkProfile(t, s, "after a batch that failed with "+tc.name, "2024")
	}
}
