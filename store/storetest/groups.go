package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/store"
)

// A group is one Apply of several batches: in order, each on the state the
// ones before it leave, all of them or none (store.Store.Apply).

// groupState is everything a store holds, for comparing before and after.
type groupState struct {
	everything
	Stores []store.CustomKeyStore
	Secret []byte
	Now    time.Time
}

func dumpGroup(t *testing.T, s store.Store) groupState {
	t.Helper()
	g := groupState{everything: dumpAll(t, s)}
	var err error
	if g.Stores, err = s.CustomKeyStores(t.Context()); err != nil {
		t.Fatalf("CustomKeyStores: %v", err)
	}
	if g.Secret, err = s.Secret(t.Context()); err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Secret: %v", err)
	}
	if g.Now, err = s.LatestInstant(t.Context()); err != nil {
		t.Fatalf("LatestInstant: %v", err)
	}
	return g
}

// checkSameZones is checkSame, and also requires the times of got and want
// to be in the same locations (checkSame compares instants only): a store
// that refused a group must not have changed even a time's zone.
func checkSameZones(t *testing.T, what string, got, want groupState) {
	t.Helper()
	checkSame(t, what, got, want)
	if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
		t.Fatalf("%s differs in its times' locations:\n%s\nwant\n%s", what, g, w)
	}
}

// testGroupInOrder: a group's batches apply in order, each seeing the ones
// before it: a key created by the first is replaced, rotated, aliased and
// granted by the next ones, another key is deleted, and the latest instant
// is the latest of the group's.
func testGroupInOrder(t *testing.T, s store.Store) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("old")}, PutAliases: []store.Alias{newAlias("alias/old", "old")}})
	k := newKey("k")
	k2 := next(k)
	k2.Description = "second"
	k3 := next(k2)
	k3.Description = "third"
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	group := []*store.Batch{
		{PutKeys: []store.Key{k}, Now: t1},
		{PutKeys: []store.Key{k2}, AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rotation(0)}}, Now: t2},
		nil, // skipped
		{PutAliases: []store.Alias{newAlias("alias/old", "k"), newAlias("alias/k", "k")}},
		{PutGrants: []store.Grant{newGrant("k", grantID(1))}, PutSecret: secret(1)},
		{PutKeys: []store.Key{k3}, AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rotation(1)}}, Now: t1},
		{DeleteKeys: []string{"old"}, DeleteAliases: []store.AliasID{aliasID("alias/k")}},
	}
	if err := s.Apply(t.Context(), group...); err != nil {
		t.Fatalf("Apply of the group: %v", err)
	}
	got := dumpGroup(t, s)
	checkSame(t, "keys", got.Keys, []store.Key{k3})
	checkSame(t, "rotations", got.Rotations, map[string][]store.Rotation{"k": {rotation(0), rotation(1)}})
	checkSame(t, "aliases", got.Aliases, []store.Alias{newAlias("alias/old", "k")})
	checkSame(t, "grants", got.Grants, []store.Grant{newGrant("k", grantID(1))})
	checkSame(t, "secret", got.Secret, secret(1))
	checkInstant(t, s, "after the group", t2)
}

// testGroupAtomicity: when any batch of a group does not fit the state the
// batches before it leave, the store is exactly as before the group: none
// of the earlier batches' keys, rotations, aliases, grants, custom key
// stores, secret or instant are written.
func testGroupAtomicity(t *testing.T, s store.Store) {
	k := newKey("k")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	apply(t, s, store.Batch{PutKeys: []store.Key{k}, PutAliases: []store.Alias{newAlias("alias/a", "k")},
		PutGrants: []store.Grant{newGrant("k", grantID(1))}, Now: t0})
	before := dumpGroup(t, s)
	later := t0.Add(time.Hour)
	// prefix writes a little of everything on top of k (version 2).
	prefix := func() []*store.Batch {
		return []*store.Batch{
			{PutKeys: []store.Key{newKey("n"), next(k)}, AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rotation(0)}}, Now: later},
			{PutAliases: []store.Alias{newAlias("alias/a", "n"), newAlias("alias/b", "n")}, DeleteGrants: []store.GrantID{{KeyID: "k", GrantID: grantID(1)}}},
			{PutGrants: []store.Grant{newGrant("n", grantID(2))}, PutSecret: secret(1),
				PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-1", Name: "one"}}},
		}
	}
	for _, tc := range []struct {
		name string
		last store.Batch
		want error
	}{
		{"stale version of a key the group replaced", store.Batch{PutKeys: []store.Key{next(k)}}, store.ErrConflict},
		{"key the group created, created again", store.Batch{PutKeys: []store.Key{newKey("n")}}, store.ErrExists},
		{"second secret in the group", store.Batch{PutSecret: secret(2)}, store.ErrExists},
		{"deletion of a grant the group deleted", store.Batch{DeleteGrants: []store.GrantID{{KeyID: "k", GrantID: grantID(1)}}}, store.ErrNotFound},
		{"alias of a missing key", store.Batch{PutAliases: []store.Alias{newAlias("alias/x", "missing")}}, store.ErrNotFound},
		{"deletion of a missing custom key store", store.Batch{DeleteCustomKeyStores: []string{"cks-2"}}, store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			group := append(prefix(), &tc.last)
			checkErr(t, "Apply", s.Apply(t.Context(), group...), tc.want)
			checkSame(t, "store after the failed group", dumpGroup(t, s), before)
		})
	}
	// The group without a misfit applies in full.
	if err := s.Apply(t.Context(), prefix()...); err != nil {
		t.Fatalf("Apply of the group that fits: %v", err)
	}
	got := dumpGroup(t, s)
	checkSame(t, "keys", got.Keys, []store.Key{next(k), newKey("n")})
	checkSame(t, "aliases", got.Aliases, []store.Alias{newAlias("alias/a", "n"), newAlias("alias/b", "n")})
	checkSame(t, "grants", got.Grants, []store.Grant{newGrant("n", grantID(2))})
	checkSame(t, "secret", got.Secret, secret(1))
	checkInstant(t, s, "after the group", later)
}

// testGroupEmpty: a group of no batches, of nil ones or of empty ones
// writes nothing and succeeds.
func testGroupEmpty(t *testing.T, s store.Store) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}})
	before := dumpGroup(t, s)
	for name, group := range map[string][]*store.Batch{
		"none":  nil,
		"nil":   {nil, nil},
		"empty": {{}, nil, {}},
	} {
		if err := s.Apply(t.Context(), group...); err != nil {
			t.Fatalf("Apply of %s: %v", name, err)
		}
		checkSame(t, "store after "+name, dumpGroup(t, s), before)
	}
}

// testGroupConcurrent: concurrent groups are each all or nothing: every
// writer's group of dependent batches (create, replace, rotate, replace)
// on its own key applies whole, and a group whose last batch conflicts
// leaves nothing of its own behind, while the others' groups stand.
func testGroupConcurrent(t *testing.T, s store.Store) {
	const writers = 16
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := newKey(fmt.Sprintf("k%02d", w))
			group := []*store.Batch{
				{PutKeys: []store.Key{k}},
				{PutKeys: []store.Key{next(k)}, AddRotations: []store.KeyRotation{{KeyID: k.ID, Rotation: rotation(w)}}},
				{PutKeys: []store.Key{next(next(k))}},
			}
			if w%4 == 3 {
				group = append(group, &store.Batch{PutKeys: []store.Key{next(k)}}) // stale: the group fails
			}
			errs[w] = s.Apply(t.Context(), group...)
		}()
	}
	wg.Wait()
	var want []store.Key
	wantRot := map[string][]store.Rotation{}
	for w := range writers {
		k := newKey(fmt.Sprintf("k%02d", w))
		if w%4 == 3 {
			checkErr(t, fmt.Sprintf("writer %d's failing group", w), errs[w], store.ErrConflict)
			continue
		}
		checkErr(t, fmt.Sprintf("writer %d's group", w), errs[w], nil)
		want = append(want, next(next(k)))
		wantRot[k.ID] = []store.Rotation{rotation(w)}
	}
	got := dump(t, s)
	checkSame(t, "keys", got.Keys, want)
	checkSame(t, "rotations", got.Rotations, wantRot)
}

// testGroupClosed: a group applied after Close is ErrClosed.
func testGroupClosed(t *testing.T, s store.Store) {
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "Apply of a group after Close", s.Apply(t.Context(),
		&store.Batch{PutKeys: []store.Key{newKey("a")}}, &store.Batch{PutKeys: []store.Key{newKey("b")}}), store.ErrClosed)
}
