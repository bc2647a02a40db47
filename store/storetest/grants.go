package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/store"
)

// Grants: store.Grant records, on keys, read back by Store.Grants.

const granteeARN = "arn:aws:iam::111122223333:role/grantee"

// grantID returns a grant ID like the service's (64 lowercase hex digits),
// different for each n.
func grantID(n int) string { return fmt.Sprintf("%064x", n) }

// newGrant returns a minimal grant of keyID.
func newGrant(keyID, id string) store.Grant {
	return store.Grant{KeyID: keyID, GrantID: id, GranteePrincipal: granteeARN,
		IssuingAccount: "arn:aws:iam::111122223333:root", Operations: []string{"Decrypt"},
		Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// fullGrant returns a grant of keyID with every field set to a value
// unlike its zero: any bytes in strings, a non-UTC nanosecond time, and
// maps with empty keys and values and with more entries than fit a
// one-byte count.
func fullGrant(keyID, id string) store.Grant {
	subset := map[string]string{"": "empty key", "empty value": "", "\x00k\xff": "\x00v\xff", "ключ": "значение ✓"}
	for i := range 200 {
		subset[fmt.Sprintf("k%03d", i)] = strings.Repeat("v", i)
	}
	return store.Grant{
		KeyID:             keyID,
		GrantID:           id,
		Name:              "grant name \x00 ünïcödé \xff",
		GranteePrincipal:  "arn:aws:iam::111122223333:role/grantee \x00",
		RetiringPrincipal: "arn:aws:sts::444455556666:assumed-role/retirer/session ✓",
		IssuingAccount:    "arn:aws:iam::999999999999:root",
		// Not in any sorted order: the list reads back as it was given.
		Operations:              []string{"GenerateDataKey", "Decrypt", "CreateGrant", "RetireGrant", "Encrypt", "\x00"},
		EncryptionContextEquals: map[string]string{"Department": "IT", "a\x00b": "c\xffd"},
		EncryptionContextSubset: subset,
		Created:                 time.Date(2024, 2, 29, 23, 59, 59, 123456789, kathmandu),
		SourceArn:               "arn:aws:logs:us-east-1:111122223333:log-group:ünï \x00",
		Seq:                     1<<63 + 12345,
		Binding:                 1<<63 + 999,
	}
}

// serviceGrant returns a grant of keyID to a service principal, retired
// by another (GranteeServicePrincipal, RetiringServicePrincipal), with a
// SourceArn constraint.
func serviceGrant(keyID, id string) store.Grant {
	g := newGrant(keyID, id)
	g.GranteePrincipal, g.RetiringPrincipal = "logs.us-east-1.amazonaws.com", "cloudtrail.amazonaws.com"
	g.SourceArn = "arn:aws:logs:us-east-1:111122223333:log-group:app"
	return g
}

// grantsOf returns every grant, in the order Grants gives them.
func grantsOf(t *testing.T, s store.Store) []store.Grant {
	t.Helper()
	var out []store.Grant
	err := s.Grants(t.Context(), func(g store.Grant) error {
		out = append(out, g)
		return nil
	})
	if err != nil {
		t.Fatalf("Grants: %v", err)
	}
	return out
}

// compareGrants orders grants as Grants gives them: by key record ID, then
// grant ID, each in byte order.
func compareGrants(a, b store.Grant) int {
	return cmp.Or(strings.Compare(a.KeyID, b.KeyID), strings.Compare(a.GrantID, b.GrantID))
}

// checkGrants fails t unless the store's grants are want, in order, with
// nil and empty Operations and maps as want has them.
func checkGrants(t *testing.T, what string, s store.Store, want []store.Grant) {
	t.Helper()
	got := grantsOf(t, s)
	checkSame(t, what, got, want)
	for i := range got {
		checkNils(t, fmt.Sprintf("%s[%d]", what, i), got[i], want[i])
	}
}

// checkNils fails t unless got's Operations and maps are nil exactly
// where want's are (checkSame treats nil and empty alike).
func checkNils(t *testing.T, what string, got, want store.Grant) {
	t.Helper()
	if (got.Operations == nil) != (want.Operations == nil) {
		t.Fatalf("%s: Operations %#v, want %#v (nil and empty read back as written)", what, got.Operations, want.Operations)
	}
	if (got.EncryptionContextEquals == nil) != (want.EncryptionContextEquals == nil) {
		t.Fatalf("%s: EncryptionContextEquals %#v, want %#v (nil and empty read back as written)",
			what, got.EncryptionContextEquals, want.EncryptionContextEquals)
	}
	if (got.EncryptionContextSubset == nil) != (want.EncryptionContextSubset == nil) {
		t.Fatalf("%s: EncryptionContextSubset %#v, want %#v (nil and empty read back as written)",
			what, got.EncryptionContextSubset, want.EncryptionContextSubset)
	}
}

// everything is what a store holds, grants included.
type everything struct {
	snapshot
	Grants []store.Grant
}

func dumpAll(t *testing.T, s store.Store) everything {
	t.Helper()
	return everything{dump(t, s), grantsOf(t, s)}
}

// testGrantsRoundTrip: every field of a grant reads back as written (a
// service principal's name as grantee or retiring principal too);
// a grant with only its IDs reads back with nothing else; nil Operations
// and maps read back nil, and empty non-nil ones empty and non-nil, so
// that a grant's constraints mean the same after a round trip (nil: no
// constraint; empty: a constraint on the empty encryption context).
func testGrantsRoundTrip(t *testing.T, s store.Store) {
	checkGrants(t, "Grants of a new store", s, nil)
	full := fullGrant("k", grantID(1))
	zero := store.Grant{KeyID: "k", GrantID: grantID(2)}
	empty := store.Grant{KeyID: "k", GrantID: grantID(3), Operations: []string{},
		EncryptionContextEquals: map[string]string{}, EncryptionContextSubset: map[string]string{}}
	mixed := newGrant("k", grantID(4))
	mixed.EncryptionContextEquals = map[string]string{}
	mixed.Created = time.Date(1969, 12, 31, 23, 59, 59, 1, marquesas)
	mixed.Seq = 7 // without a SourceArn
	odd := newGrant("\x00key ✓\xff", "\x00grant\xff")
	odd.Operations = nil
	odd.Binding = 3 // without a SourceArn or a Seq
	odd.EncryptionContextSubset = map[string]string{"only": "one"}
	service := serviceGrant("k", grantID(5))
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k"), newKey("\x00key ✓\xff")},
		PutGrants: []store.Grant{mixed, service, empty, full, odd, zero}})
	checkGrants(t, "Grants", s, []store.Grant{odd, full, zero, empty, mixed, service})
	for _, g := range grantsOf(t, s) {
		if wantZero := g.GrantID == grantID(2) || g.GrantID == grantID(3); g.Created.IsZero() != wantZero {
			t.Fatalf("grant %q: Created %v; IsZero %v, want %v", g.GrantID, g.Created, g.Created.IsZero(), wantZero)
		}
	}
	// The grants leave the key as it was.
	checkSame(t, "Key", getKey(t, s, "k"), newKey("k"))
}

// testGrantsOrder: Grants gives grants by key record ID, then grant ID,
// each in byte order, whatever the order they were put in and the lengths
// of the IDs (a replica's "<Region>/<key ID>" beside its primary's, IDs
// that are prefixes of others).
func testGrantsOrder(t *testing.T, s store.Store) {
	keyIDs := []string{"b", "aa", "a", "ab", "a\x00", "mrk-0123456789abcdef0123456789abcdef",
		"us-west-2/mrk-0123456789abcdef0123456789abcdef", "1234abcd-12ab-34cd-56ef-1234567890ab",
		"\xff", strings.Repeat("z", 300)}
	grantIDs := []string{grantID(7), grantID(0x10), "g", "g\x00", "ga", "G", strings.Repeat("f", 200)}
	var b store.Batch
	for _, id := range keyIDs {
		b.PutKeys = append(b.PutKeys, newKey(id))
	}
	var want []store.Grant
	for i, kid := range keyIDs {
		for j, gid := range grantIDs {
			if (i+j)%3 == 0 {
				continue // keys with different sets of grants
			}
			g := newGrant(kid, gid)
			g.Name = fmt.Sprintf("%d/%d", i, j)
			want = append(want, g)
		}
	}
	// Put in a scrambled order, in two batches.
	scrambled := slices.Clone(want)
	for i := range scrambled {
		j := (i * 7919) % len(scrambled)
		scrambled[i], scrambled[j] = scrambled[j], scrambled[i]
	}
	b.PutGrants = scrambled[:len(scrambled)/2]
	apply(t, s, b)
	apply(t, s, store.Batch{PutGrants: scrambled[len(scrambled)/2:]})
	slices.SortFunc(want, compareGrants)
	checkGrants(t, "Grants", s, want)
	// Deterministic.
	checkGrants(t, "Grants again", s, want)
}

// testGrantsReplace: putting a grant ID of a key again replaces the
// grant, every field of it; the same grant ID on another key is another
// grant.
func testGrantsReplace(t *testing.T, s store.Store) {
	full := fullGrant("k1", grantID(1))
	other := fullGrant("k2", grantID(1))
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k1"), newKey("k2")}, PutGrants: []store.Grant{full, other}})
	repl := store.Grant{KeyID: "k1", GrantID: grantID(1), Name: "replaced", GranteePrincipal: "arn:aws:iam::1:root",
		Operations: []string{"Encrypt"}, EncryptionContextSubset: map[string]string{}, Created: time.Unix(1, 1)}
	apply(t, s, store.Batch{PutGrants: []store.Grant{repl}})
	checkGrants(t, "Grants after a replacement", s, []store.Grant{repl, other})
	// Twice in one batch: the last wins.
	last := newGrant("k1", grantID(1))
	last.Name = "last"
	apply(t, s, store.Batch{PutGrants: []store.Grant{full, last}})
	checkGrants(t, "Grants after two puts in one batch", s, []store.Grant{last, other})
	// Replacing the key keeps its grants.
	apply(t, s, store.Batch{PutKeys: []store.Key{next(newKey("k1"))}})
	checkGrants(t, "Grants after the key's replacement", s, []store.Grant{last, other})
}

// testGrantsDelete: DeleteGrants removes the grants it names and no
// other; a grant put and deleted in one batch is gone whatever their
// order in the struct (puts apply first); a grant deleted and put again in
// two batches comes back.
func testGrantsDelete(t *testing.T, s store.Store) {
	g1, g2, g3 := newGrant("k", grantID(1)), newGrant("k", grantID(2)), newGrant("k2", grantID(1))
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k"), newKey("k2")}, PutGrants: []store.Grant{g1, g2, g3}})
	apply(t, s, store.Batch{DeleteGrants: []store.GrantID{{KeyID: "k", GrantID: grantID(1)}}})
	checkGrants(t, "Grants after a deletion", s, []store.Grant{g2, g3})

	// Put and deleted in one batch: a new grant, and a stored one put again.
	tmp := newGrant("k", grantID(9))
	apply(t, s, store.Batch{
		DeleteGrants: []store.GrantID{{KeyID: "k", GrantID: grantID(9)}, {KeyID: "k2", GrantID: grantID(1)}},
		PutGrants:    []store.Grant{tmp, g3},
	})
	checkGrants(t, "Grants after puts and deletions in one batch", s, []store.Grant{g2})

	// Deleted, then put again.
	apply(t, s, store.Batch{PutGrants: []store.Grant{g1}})
	checkGrants(t, "Grants after putting a deleted grant again", s, []store.Grant{g1, g2})

	// A grant's deletion and its key's in one batch fit.
	apply(t, s, store.Batch{DeleteGrants: []store.GrantID{{KeyID: "k", GrantID: grantID(1)}}, DeleteKeys: []string{"k"}})
	checkGrants(t, "Grants after deleting a grant and its key", s, nil)
}

// testGrantsDeleteKey: deleting a key deletes its grants, and none of
// other keys' (IDs that share a prefix with it, its replica's); a key
// created again with the same ID has none; a key created, granted and
// deleted in one batch leaves nothing.
func testGrantsDeleteKey(t *testing.T, s store.Store) {
	ids := []string{"a", "ab", "b", "us-west-2/a"}
	var b store.Batch
	for _, id := range ids {
		b.PutKeys = append(b.PutKeys, newKey(id))
		for j := range 3 {
			b.PutGrants = append(b.PutGrants, newGrant(id, grantID(j)))
		}
	}
	apply(t, s, b)
	apply(t, s, store.Batch{DeleteKeys: []string{"a"}})
	var want []store.Grant
	for _, g := range b.PutGrants {
		if g.KeyID != "a" {
			want = append(want, g)
		}
	}
	checkGrants(t, "Grants after deleting key a", s, want)

	// The same ID again: no grants.
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("a")}})
	checkGrants(t, "Grants after creating key a again", s, want)
	err := s.Apply(t.Context(), &store.Batch{DeleteGrants: []store.GrantID{{KeyID: "a", GrantID: grantID(0)}}})
	checkErr(t, "delete a grant of the deleted key", err, store.ErrNotFound)

	// Created, granted and deleted in one batch.
	apply(t, s, store.Batch{DeleteKeys: []string{"tmp"}, PutGrants: []store.Grant{newGrant("tmp", grantID(1))},
		PutKeys: []store.Key{newKey("tmp")}})
	checkNoKey(t, s, "tmp")
	// Granted and deleted in one batch (a stored key).
	apply(t, s, store.Batch{PutGrants: []store.Grant{newGrant("b", grantID(7))}, DeleteKeys: []string{"b"}})
	want = slices.DeleteFunc(want, func(g store.Grant) bool { return g.KeyID == "b" })
	checkGrants(t, "Grants after granting and deleting key b in one batch", s, want)

	apply(t, s, store.Batch{DeleteKeys: []string{"a", "ab", "us-west-2/a"}})
	checkGrants(t, "Grants after deleting every key", s, nil)
}

// testGrantsNotFound: a grant of a missing key (never created, or
// deleted), with an empty grant ID, or the deletion of a grant that does
// not exist (of another key, twice in one batch) fails with ErrNotFound
// and writes nothing of its batch.
func testGrantsNotFound(t *testing.T, s store.Store) {
	g := newGrant("k", grantID(1))
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k"), newKey("gone")}, PutGrants: []store.Grant{g},
		PutAliases: []store.Alias{newAlias("alias/a", "k")}})
	apply(t, s, store.Batch{DeleteKeys: []string{"gone"}})
	before := dumpAll(t, s)
	for _, tc := range []struct {
		name string
		b    store.Batch
	}{
		{"grant of a missing key", store.Batch{PutGrants: []store.Grant{newGrant("missing", grantID(1))}}},
		{"grant of a deleted key", store.Batch{PutGrants: []store.Grant{newGrant("gone", grantID(1))}}},
		{"grant of a missing key after fitting parts", store.Batch{
			PutKeys:    []store.Key{newKey("n"), next(newKey("k"))},
			PutGrants:  []store.Grant{newGrant("n", grantID(2)), newGrant("k", grantID(2)), newGrant("missing", grantID(1))},
			PutAliases: []store.Alias{newAlias("alias/n", "n")}, DeleteGrants: []store.GrantID{{KeyID: "k", GrantID: grantID(1)}},
			PutSecret: secret(1), Now: time.Unix(1e9, 0)}},
		{"grant with an empty grant ID", store.Batch{PutGrants: []store.Grant{newGrant("k", "")}}},
		{"grant with an empty key ID", store.Batch{PutGrants: []store.Grant{newGrant("", grantID(1))}}},
		{"delete a missing grant", store.Batch{DeleteGrants: []store.GrantID{{KeyID: "k", GrantID: grantID(2)}}}},
		{"delete a grant of another key", store.Batch{PutKeys: []store.Key{newKey("k2")},
			DeleteGrants: []store.GrantID{{KeyID: "k2", GrantID: grantID(1)}}}},
		{"delete a grant of a missing key", store.Batch{DeleteGrants: []store.GrantID{{KeyID: "missing", GrantID: grantID(1)}}}},
		{"delete a grant twice", store.Batch{DeleteGrants: []store.GrantID{{KeyID: "k", GrantID: grantID(1)}, {KeyID: "k", GrantID: grantID(1)}}}},
		{"delete a grant put in the batch twice", store.Batch{PutGrants: []store.Grant{newGrant("k", grantID(3))},
			DeleteGrants: []store.GrantID{{KeyID: "k", GrantID: grantID(3)}, {KeyID: "k", GrantID: grantID(3)}}}},
		{"delete a grant and then its key twice", store.Batch{DeleteGrants: []store.GrantID{{KeyID: "k", GrantID: grantID(1)}},
			DeleteKeys: []string{"k", "k"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, "Apply", s.Apply(t.Context(), &tc.b), store.ErrNotFound)
			checkSame(t, "store after the failed batch", dumpAll(t, s), before)
			if _, err := s.Secret(t.Context()); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the failed batch stored its secret (Secret: %v)", err)
			}
			if now, err := s.LatestInstant(t.Context()); err != nil || !now.IsZero() {
				t.Fatalf("LatestInstant after the failed batch = %v, %v; want the zero time", now, err)
			}
		})
	}
	// A grant of a key created in the same batch fits.
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("n")}, PutGrants: []store.Grant{newGrant("n", grantID(2))}})
	checkGrants(t, "Grants", s, []store.Grant{g, newGrant("n", grantID(2))})
}

// testGrantsNoAliasing: the store keeps its own copies of a grant's
// Operations and maps: changing the caller's after Apply changes nothing
// stored, and Grants gives the same grants each time. (What fn is given
// it must not keep after it returns, by Store.Grants's contract; the
// suite does not change it while fn runs either, which store.Memory
// would not survive: it hands fn its own slices and maps.)
func testGrantsNoAliasing(t *testing.T, s store.Store) {
	g := fullGrant("k", grantID(1))
	want := fullGrant("k", grantID(1))
	b := store.Batch{PutKeys: []store.Key{newKey("k")}, PutGrants: []store.Grant{g}}
	if err := s.Apply(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	g.Operations[0] = "changed after Apply"
	g.EncryptionContextEquals["Department"] = "changed after Apply"
	g.EncryptionContextEquals["added"] = "after Apply"
	delete(g.EncryptionContextSubset, "ключ")
	b.PutGrants[0].Operations[1] = "changed after Apply" // shares g's array
	checkGrants(t, "Grants after the caller's changes", s, []store.Grant{want})

	// Operations with spare capacity: an append by the caller after Apply
	// must not show either.
	ops := make([]string, 1, 4)
	ops[0] = "Encrypt"
	spare := newGrant("k", grantID(2))
	spare.Operations = ops
	apply(t, s, store.Batch{PutGrants: []store.Grant{spare}})
	_ = append(ops, "appended after Apply")
	ops[0] = "changed after Apply"
	wantSpare := newGrant("k", grantID(2))
	wantSpare.Operations = []string{"Encrypt"}
	checkGrants(t, "Grants after changes to a slice with spare capacity", s, []store.Grant{want, wantSpare})
}

// testGrantsFnError: Grants stops at fn's first error and returns it
// (and no sentinel with it).
func testGrantsFnError(t *testing.T, s store.Store) {
	var b store.Batch
	for _, id := range []string{"k1", "k2"} {
		b.PutKeys = append(b.PutKeys, newKey(id))
		for j := range 3 {
			b.PutGrants = append(b.PutGrants, newGrant(id, grantID(j)))
		}
	}
	apply(t, s, b)
	errStop := errors.New("stop here")
	for _, stopAt := range []int{1, 4, 6} {
		calls := 0
		err := s.Grants(t.Context(), func(g store.Grant) error {
			calls++
			if calls == stopAt {
				return fmt.Errorf("grant %d: %w", calls, errStop)
			}
			return nil
		})
		if !errors.Is(err, errStop) || err.Error() != fmt.Sprintf("grant %d: stop here", stopAt) {
			t.Fatalf("Grants = %v, want fn's error (grant %d: stop here) as it is", err, stopAt)
		}
		for _, sentinel := range sentinels {
			if errors.Is(err, sentinel) {
				t.Fatalf("Grants = %v, which matches %v", err, sentinel)
			}
		}
		if calls != stopAt {
			t.Fatalf("fn called %d times after its error at call %d", calls, stopAt)
		}
	}
	// The store is still usable.
	checkSame(t, "Grants", grantsOf(t, s), b.PutGrants)
}

// testGrantsConsistentRead: one Grants call sees one state of the store:
// with a writer replacing two grants on two keys in each batch, every
// call sees both at the same generation, and grants in order.
func testGrantsConsistentRead(t *testing.T, s store.Store) {
	gen := func(n int) []store.Grant {
		a, z := newGrant("a", grantID(1)), newGrant("zz", grantID(1))
		a.Name, z.Name = fmt.Sprint(n), fmt.Sprint(n)
		return []store.Grant{a, z}
	}
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("a"), newKey("m"), newKey("zz")}, PutGrants: gen(0)})
	const rounds = 200
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() {
		for i := 1; i <= rounds; i++ {
			b := store.Batch{PutGrants: append(gen(i), newGrant("m", grantID(i)))}
			if i > 1 {
				b.DeleteGrants = []store.GrantID{{KeyID: "m", GrantID: grantID(i - 1)}}
			}
			if err := s.Apply(t.Context(), &b); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() {
		for range rounds {
			var names []string
			var seen []store.Grant
			err := s.Grants(t.Context(), func(g store.Grant) error {
				seen = append(seen, g)
				if g.KeyID != "m" {
					names = append(names, g.Name)
				}
				return nil
			})
			if err != nil {
				errs <- err
				return
			}
			if len(seen) < 2 || len(seen) > 3 || len(names) != 2 || names[0] != names[1] ||
				!slices.IsSortedFunc(seen, compareGrants) {
				errs <- fmt.Errorf("one Grants call saw %d grants, generations %q: not one state", len(seen), names)
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	last := gen(rounds)
	checkGrants(t, "Grants", s, []store.Grant{last[0], newGrant("m", grantID(rounds)), last[1]})
}

// testGrantsClosed: after Close, Grants returns ErrClosed without calling
// fn, and batches with grants return ErrClosed.
func testGrantsClosed(t *testing.T, s store.Store) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}, PutGrants: []store.Grant{newGrant("k", grantID(1))}})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	called := false
	err := s.Grants(t.Context(), func(store.Grant) error { called = true; return nil })
	checkErr(t, "Grants", err, store.ErrClosed)
	if called {
		t.Fatal("Grants called fn after Close")
	}
	checkErr(t, "Apply PutGrants", s.Apply(t.Context(), &store.Batch{PutGrants: []store.Grant{newGrant("k", grantID(2))}}), store.ErrClosed)
	checkErr(t, "Apply DeleteGrants", s.Apply(t.Context(), &store.Batch{DeleteGrants: []store.GrantID{{KeyID: "k", GrantID: grantID(1)}}}), store.ErrClosed)
}

// testGrantsBatchEmpty: a batch with only grant parts is not empty, and
// one whose grant parts are empty slices writes nothing.
func testGrantsBatchEmpty(t *testing.T, s store.Store) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}})
	apply(t, s, store.Batch{PutGrants: []store.Grant{newGrant("k", grantID(1))}})
	checkGrants(t, "Grants after a batch of one grant", s, []store.Grant{newGrant("k", grantID(1))})
	before := dumpAll(t, s)
	apply(t, s, store.Batch{PutGrants: []store.Grant{}, DeleteGrants: []store.GrantID{}})
	checkSame(t, "store after an empty batch", dumpAll(t, s), before)
	apply(t, s, store.Batch{DeleteGrants: []store.GrantID{{KeyID: "k", GrantID: grantID(1)}}})
	checkGrants(t, "Grants after a batch of one deletion", s, nil)
}
