package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/store"
)

// RunSharedConformanceTests runs the tests every store.Shared must pass,
// each on a fresh, empty store from newStore: the Shared methods
// (Snapshot, Revision, Watch, ApplyAt) with the Store methods they build
// on. A Shared store must pass RunConformanceTests too.
func RunSharedConformanceTests(t *testing.T, newStore func(t *testing.T) store.Shared) {
	t.Helper()
	tests := []subtest[store.Shared]{
		{"SnapshotIsolation", testSharedSnapshot},
		{"RevisionOrder", testSharedRevision},
		{"WatchReplaysCommits", testSharedWatch},
		{"ApplyAtConcurrent", testSharedApplyAtConcurrent},
		{"ApplyAtCreatedKeys", testSharedApplyAtCreated},
		{"ApplyAtReadsAloneIgnored", testSharedApplyAtReadsAlone},
	}
	run(t, newStore, tests)
	var conflicts []subtest[store.Shared]
	for i, tc := range sharedConflicts {
		conflicts = append(conflicts, subtest[store.Shared]{tc.name, testSharedApplyAtConflict(i)})
	}
	t.Run("ApplyAtConflicts", func(t *testing.T) { run(t, newStore, conflicts) })
}

func revision(t *testing.T, s store.Shared) int64 {
	t.Helper()
	r, err := s.Revision(t.Context())
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	return r
}

func applyAt(t *testing.T, s store.Shared, read int64, bs ...*store.Batch) int64 {
	t.Helper()
	r, err := s.ApplyAt(t.Context(), read, bs...)
	if err != nil {
		t.Fatalf("ApplyAt(%d): %v", read, err)
	}
	return r
}

// testSharedSnapshot: a Snapshot reads the store as of its revision,
// whatever is written after, and refuses writes.
func testSharedSnapshot(t *testing.T, s store.Shared) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("a")}, PutAliases: []store.Alias{newAlias("alias/a", "a")},
		PutGrants: []store.Grant{newGrant("a", grantID(1))}, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	before := dumpGroup(t, s)
	view, rev, err := s.Snapshot(t.Context())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer view.Close()
	if now := revision(t, s); now != rev {
		t.Fatalf("Snapshot at revision %d, Revision %d with no commit between", rev, now)
	}
	apply(t, s, store.Batch{PutKeys: []store.Key{next(newKey("a")), newKey("b")}, DeleteAliases: []store.AliasID{aliasID("alias/a")},
		AddRotations: []store.KeyRotation{{KeyID: "a", Rotation: rotation(1)}}, PutSecret: secret(1),
		DeleteGrants: []store.GrantID{{KeyID: "a", GrantID: grantID(1)}}, Now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)})
	checkSame(t, "the snapshot after a later commit", dumpGroup(t, view), before)
	checkErr(t, "Apply to a snapshot", view.Apply(t.Context(), &store.Batch{PutKeys: []store.Key{newKey("c")}}), store.ErrReadOnly)
	if shared, ok := view.(store.Shared); ok {
		_, err := shared.ApplyAt(t.Context(), rev, &store.Batch{PutKeys: []store.Key{newKey("c")}})
		checkErr(t, "ApplyAt to a snapshot", err, store.ErrReadOnly)
	}
	if after := revision(t, s); after <= rev {
		t.Fatalf("Revision %d after a commit, not above the snapshot's %d", after, rev)
	}
}

// testSharedRevision: every commit, by Apply or ApplyAt, has a revision
// above the ones before; Revision is at least the latest acknowledged
// commit's; a group of nothing commits nothing.
func testSharedRevision(t *testing.T, s store.Shared) {
	last := revision(t, s)
	for i := range 5 {
		var r int64
		if i%2 == 0 {
			apply(t, s, store.Batch{PutKeys: []store.Key{newKey(fmt.Sprint("k", i))}})
			r = revision(t, s)
		} else {
			r = applyAt(t, s, last, &store.Batch{PutKeys: []store.Key{newKey(fmt.Sprint("k", i))}})
			if got := revision(t, s); got < r {
				t.Fatalf("Revision %d after a commit at %d", got, r)
			}
		}
		if r <= last {
			t.Fatalf("commit %d at revision %d, not above %d", i, r, last)
		}
		last = r
	}
	if r := applyAt(t, s, last); r != last {
		t.Fatalf("ApplyAt of nothing returned %d, want %d", r, last)
	}
	if r := revision(t, s); r != last {
		t.Fatalf("Revision %d after a group of nothing, want %d", r, last)
	}
}

// testSharedWatch: Watch delivers every commit after the revision asked
// for, in order, at the revisions the commits returned, and replaying the
// Changes on the state at that revision gives the store's state: keys put,
// replaced twice in one group, rotated and deleted (their aliases and
// grants with them), aliases put, moved and deleted (alone or with their
// key), grants, custom key stores, the secret, the instant and the rule
// profile.
func testSharedWatch(t *testing.T, s store.Shared) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("old"), newKey("gone")}, PutAliases: []store.Alias{newAlias("alias/old", "old"),
		newAlias("alias/gone", "gone")}, PutGrants: []store.Grant{newGrant("gone", grantID(1))}})
	view, start, err := s.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r := NewReplica(t, view)
	view.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	changes, err := s.Watch(ctx, start)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	k := newKey("k")
	full := fullKey("full")
	t1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	groups := [][]*store.Batch{
		{{PutKeys: []store.Key{k, full}, AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rotation(0)}}, Now: t1, RuleProfile: "2024"}},
		{{PutKeys: []store.Key{next(k)}}, {PutKeys: []store.Key{next(next(k))}, AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rotation(1)}, {KeyID: "full", Rotation: rotation(2)}}}},
		{{PutAliases: []store.Alias{newAlias("alias/old", "k"), newAlias("alias/k", "k")}, PutGrants: []store.Grant{fullGrant("k", grantID(2))}}},
		{{DeleteKeys: []string{"gone"}, PutSecret: secret(1)}},
		{{DeleteAliases: []store.AliasID{aliasID("alias/k")}}, {PutAliases: []store.Alias{newAlias("alias/k", "full")}}},
		{{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-1", Name: "one", Type: "AWS_CLOUDHSM"}}, Now: t1.Add(time.Hour)}},
		{{DeleteCustomKeyStores: []string{"cks-1"}, DeleteGrants: []store.GrantID{{KeyID: "k", GrantID: grantID(2)}}, RuleProfile: "current"}},
		// An alias deleted while its key stays.
		{{DeleteAliases: []store.AliasID{aliasID("alias/old")}}},
		// A key deleted and created again in one group, with a new history.
		{{AddRotations: []store.KeyRotation{{KeyID: "old", Rotation: rotation(7)}}, DeleteKeys: []string{"old"}},
			{PutKeys: []store.Key{newKey("old")}, AddRotations: []store.KeyRotation{{KeyID: "old", Rotation: rotation(8)}}}},
	}
	var revs []int64
	for i, g := range groups {
		r, err := s.ApplyAt(t.Context(), revision(t, s), g...)
		if err != nil {
			t.Fatalf("group %d: %v", i, err)
		}
		revs = append(revs, r)
	}
	for i, want := range revs {
		var c store.Change
		select {
		case c = <-changes:
		case <-time.After(10 * time.Second):
			t.Fatalf("no change %d (revision %d) from Watch in 10 s", i, want)
		}
		if c.Err == nil && c.Revision != want {
			t.Fatalf("change %d at revision %d, want %d (the group's commit)", i, c.Revision, want)
		}
		r.Replay(t, c)
	}
	r.Check(t, "the changes replayed on the snapshot", s)
	cancel()
	for c := range changes { // the channel closes once ctx is done
		if c.Err == nil && c.Revision != 0 {
			t.Fatalf("a change at revision %d after the last commit", c.Revision)
		}
	}
}

// sharedConflicts are the cases of ApplyAtConflicts, each run on a fresh
// store (testSharedApplyAtConflict).
var sharedConflicts = []struct {
	name     string
	other    []store.Batch // another writer's commits after read
	conflict []store.Batch // groups computed from read, each refused
	fine     store.Batch   // one computed from read that commits
}{
	{"key replaced", []store.Batch{{PutKeys: []store.Key{next(newKey("a"))}}},
		[]store.Batch{{PutKeys: []store.Key{next(newKey("a"))}}, {AddRotations: []store.KeyRotation{{KeyID: "a", Rotation: rotation(1)}}},
			{PutAliases: []store.Alias{newAlias("alias/new", "a")}}, {PutGrants: []store.Grant{newGrant("a", grantID(9))}}},
		store.Batch{PutKeys: []store.Key{next(newKey("b"))}, AddRotations: []store.KeyRotation{{KeyID: "b", Rotation: rotation(1)}}}},
	{"key rotated", []store.Batch{{AddRotations: []store.KeyRotation{{KeyID: "a", Rotation: rotation(1)}}}},
		[]store.Batch{{AddRotations: []store.KeyRotation{{KeyID: "a", Rotation: rotation(2)}}}, {PutKeys: []store.Key{next(newKey("a"))}}},
		store.Batch{AddRotations: []store.KeyRotation{{KeyID: "b", Rotation: rotation(2)}}}},
	// The key is at the version read again: only its revision tells.
	{"key deleted and created again", []store.Batch{{DeleteKeys: []string{"a"}}, {PutKeys: []store.Key{newKey("a")}}},
		[]store.Batch{{PutKeys: []store.Key{next(newKey("a"))}}},
		store.Batch{PutKeys: []store.Key{next(newKey("b"))}}},
	{"key deleted", []store.Batch{{DeleteKeys: []string{"a"}}},
		[]store.Batch{{PutKeys: []store.Key{next(newKey("a"))}}, {PutAliases: []store.Alias{newAlias("alias/z", "a")}},
			{PutKeys: []store.Key{newKey("c")}, ReadKeys: []string{"a"}}},
		store.Batch{PutKeys: []store.Key{newKey("c")}}},
	// Records a batch's call read to authorize itself (Batch.ReadKeys,
	// ReadGrants) conflict as the records it writes do.
	{"key read to authorize replaced", []store.Batch{{PutKeys: []store.Key{next(newKey("a"))}}},
		[]store.Batch{{DeleteAliases: []store.AliasID{aliasID("alias/a")}, ReadKeys: []string{"a"}},
			{PutKeys: []store.Key{next(newKey("b"))}, ReadKeys: []string{"a"}}},
		store.Batch{PutKeys: []store.Key{next(newKey("b"))}, ReadKeys: []string{"b"}, ReadGrants: []store.GrantID{{KeyID: "a", GrantID: grantID(1)}}}},
	{"grant read to authorize deleted", []store.Batch{{DeleteGrants: []store.GrantID{{KeyID: "a", GrantID: grantID(1)}}}},
		[]store.Batch{{PutGrants: []store.Grant{newGrant("a", grantID(3))}, ReadGrants: []store.GrantID{{KeyID: "a", GrantID: grantID(1)}}},
			{PutKeys: []store.Key{next(newKey("b"))}, ReadGrants: []store.GrantID{{KeyID: "a", GrantID: grantID(1)}}}},
		store.Batch{PutGrants: []store.Grant{newGrant("a", grantID(3))}, ReadKeys: []string{"a"}}},
	// ReadKeyAliases: a key whose set of aliases a call read (a policy's
	// kms:ResourceAliases) conflicts when an alias joins it, leaves it or
	// is deleted from it after read.
	{"alias added to a key whose aliases were read", []store.Batch{{PutAliases: []store.Alias{newAlias("alias/new", "a")}}},
		[]store.Batch{{PutKeys: []store.Key{next(newKey("b"))}, ReadKeyAliases: []string{"a"}}},
		store.Batch{PutKeys: []store.Key{next(newKey("b"))}, ReadKeyAliases: []string{"b"}}},
	{"alias deleted from a key whose aliases were read", []store.Batch{{DeleteAliases: []store.AliasID{aliasID("alias/a")}}},
		[]store.Batch{{PutKeys: []store.Key{next(newKey("b"))}, ReadKeyAliases: []string{"a"}}},
		store.Batch{PutKeys: []store.Key{next(newKey("b"))}, ReadKeyAliases: []string{"b"}}},
	{"alias moved between keys whose aliases were read", []store.Batch{{PutAliases: []store.Alias{newAlias("alias/a", "b")}}},
		[]store.Batch{{PutKeys: []store.Key{next(newKey("b"))}, ReadKeyAliases: []string{"a"}},
			{PutKeys: []store.Key{newKey("c")}, ReadKeyAliases: []string{"b"}}},
		store.Batch{PutKeys: []store.Key{newKey("c")}, ReadKeyAliases: []string{"c"}}},
	{"grant read to authorize put again", []store.Batch{{PutGrants: []store.Grant{newGrant("a", grantID(1))}}},
		[]store.Batch{{PutKeys: []store.Key{next(newKey("b"))}, ReadGrants: []store.GrantID{{KeyID: "a", GrantID: grantID(1)}}}},
		store.Batch{PutKeys: []store.Key{next(newKey("b"))}, ReadKeys: []string{"a"}}},
	{"alias moved", []store.Batch{{PutAliases: []store.Alias{newAlias("alias/a", "b")}}},
		[]store.Batch{{DeleteAliases: []store.AliasID{aliasID("alias/a")}}, {PutAliases: []store.Alias{newAlias("alias/a", "a")}}},
		store.Batch{PutAliases: []store.Alias{newAlias("alias/other", "b")}}},
	{"alias deleted", []store.Batch{{DeleteAliases: []store.AliasID{aliasID("alias/a")}}},
		[]store.Batch{{PutAliases: []store.Alias{newAlias("alias/a", "b")}}},
		store.Batch{PutAliases: []store.Alias{newAlias("alias/other", "b")}}},
	// Deleting a key deletes its aliases and grants: one put after read
	// is a record changed.
	{"alias added to a key the group deletes", []store.Batch{{PutAliases: []store.Alias{newAlias("alias/c", "a")}}},
		[]store.Batch{{DeleteKeys: []string{"a"}}},
		store.Batch{DeleteKeys: []string{"b"}}},
	{"grant added to a key the group deletes", []store.Batch{{PutGrants: []store.Grant{newGrant("a", grantID(2))}}},
		[]store.Batch{{DeleteKeys: []string{"a"}}},
		store.Batch{DeleteKeys: []string{"b"}}},
	{"grant put again", []store.Batch{{PutGrants: []store.Grant{newGrant("a", grantID(1))}}},
		[]store.Batch{{DeleteGrants: []store.GrantID{{KeyID: "a", GrantID: grantID(1)}}}},
		store.Batch{PutGrants: []store.Grant{newGrant("b", grantID(2))}}},
	{"grant deleted", []store.Batch{{DeleteGrants: []store.GrantID{{KeyID: "a", GrantID: grantID(1)}}}},
		[]store.Batch{{PutGrants: []store.Grant{newGrant("a", grantID(1))}}},
		store.Batch{PutGrants: []store.Grant{newGrant("b", grantID(2))}}},
	{"custom key store replaced", []store.Batch{{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-1", Name: "renamed"}}}},
		[]store.Batch{{DeleteCustomKeyStores: []string{"cks-1"}}},
		store.Batch{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-2", Name: "two"}}}},
	{"custom key store deleted", []store.Batch{{DeleteCustomKeyStores: []string{"cks-1"}}},
		[]store.Batch{{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-1", Name: "one"}}}},
		store.Batch{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-2", Name: "two"}}}},
	// A group that guards the custom key stores (the creation of one,
	// whose name must be unique) conflicts with any store put after read;
	// one that does not, only with the stores it writes.
	{"custom key store created beside a guarding group", []store.Batch{{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-2", Name: "two"}}}},
		[]store.Batch{{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-3", Name: "two"}}, GuardCustomKeyStores: true}},
		store.Batch{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-3", Name: "three"}}}},
	{"custom key store renamed beside a guarding group", []store.Batch{{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-1", Name: "two"}}}},
		[]store.Batch{{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-3", Name: "two"}}, GuardCustomKeyStores: true},
			{PutKeys: []store.Key{newKey("g")}, GuardCustomKeyStores: true}},
		store.Batch{PutKeys: []store.Key{newKey("g")}}},
	{"custom key store deleted beside a guarding group", []store.Batch{{DeleteCustomKeyStores: []string{"cks-1"}}},
		nil,
		store.Batch{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-3", Name: "one"}}, GuardCustomKeyStores: true}},
	{"secret stored", []store.Batch{{PutSecret: secret(1)}},
		[]store.Batch{{PutSecret: secret(2)}},
		store.Batch{PutKeys: []store.Key{newKey("d")}}},
	// The latest instant and the rule profile are not records.
	{"latest instant and rule profile moved", []store.Batch{{Now: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), RuleProfile: "2024"}},
		nil,
		store.Batch{PutKeys: []store.Key{next(newKey("a"))}, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
}

// testSharedApplyAtConflict runs sharedConflicts[i] on s holding keys a
// and b, alias alias/a of a, grant 1 of a and custom key store cks-1:
// ApplyAt refuses, writing nothing, a group that writes or names a record
// changed or deleted after its read revision, and commits one whose
// records did not change, at a revision after read.
func testSharedApplyAtConflict(i int) func(t *testing.T, s store.Shared) {
	return func(t *testing.T, s store.Shared) {
		tc := sharedConflicts[i]
		apply(t, s, store.Batch{PutKeys: []store.Key{newKey("a"), newKey("b")}, PutAliases: []store.Alias{newAlias("alias/a", "a")},
			PutGrants: []store.Grant{newGrant("a", grantID(1))}, PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-1", Name: "one"}}})
		read := revision(t, s)
		for _, b := range tc.other {
			apply(t, s, b)
		}
		for j, c := range tc.conflict {
			before := dumpGroup(t, s)
			_, err := s.ApplyAt(t.Context(), read, &c)
			checkErr(t, fmt.Sprintf("conflicting group %d", j), err, store.ErrConflict)
			checkSameZones(t, "store after the refused group", dumpGroup(t, s), before)
		}
		if r := applyAt(t, s, read, &tc.fine); r <= read {
			t.Fatalf("ApplyAt committed at revision %d, not after the read %d", r, read)
		}
	}
}

// testSharedApplyAtCreated: a key the group creates (store.CreatedKeys)
// need only be absent when the group commits (decision D53): a key
// deleted after read may be created again by a group computed from read,
// alone or with an alias, while a key created after read conflicts and so does
// an alias changed after read beside the creation.
func testSharedApplyAtCreated(t *testing.T, s store.Shared) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("a"), newKey("b"), newKey("e")}, PutAliases: []store.Alias{newAlias("alias/b", "b")}})
	read := revision(t, s)
	// Another writer's changes after read.
	apply(t, s, store.Batch{DeleteKeys: []string{"a"}})
	apply(t, s, store.Batch{DeleteKeys: []string{"e"}})
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("c")}})
	apply(t, s, store.Batch{PutAliases: []store.Alias{newAlias("alias/b", "c")}})
	for i, g := range []store.Batch{
		{PutKeys: []store.Key{newKey("c")}},
		{PutKeys: []store.Key{newKey("d")}, PutAliases: []store.Alias{newAlias("alias/b", "d")}},
	} {
		before := dumpGroup(t, s)
		_, err := s.ApplyAt(t.Context(), read, &g)
		checkErr(t, fmt.Sprintf("conflicting group %d", i), err, store.ErrConflict)
		checkSameZones(t, "store after the refused group", dumpGroup(t, s), before)
	}
	applyAt(t, s, read, &store.Batch{PutKeys: []store.Key{newKey("e")}}) // only a creation (one round trip in etcdstore)
	applyAt(t, s, read, &store.Batch{PutKeys: []store.Key{newKey("a")}, PutAliases: []store.Alias{newAlias("alias/a", "a")}})
	if k, err := s.Key(t.Context(), "a"); err != nil || k.Version != 1 {
		t.Errorf("key a created again = %+v, %v; want version 1", k, err)
	}
	if got := store.CreatedKeys([]*store.Batch{{DeleteKeys: []string{"x"}}, {PutKeys: []store.Key{newKey("x"), newKey("y"), next(newKey("z"))}}}); len(got) != 1 || !got["y"] {
		t.Errorf("CreatedKeys = %v, want y alone (x was deleted first, z is replaced)", got)
	}
}

// testSharedApplyAtReadsAlone: a batch of reads alone (Batch.ReadKeys,
// ReadGrants) is Empty, and ApplyAt ignores it as it ignores any empty
// batch: it refuses nothing, even beside a batch that writes.
func testSharedApplyAtReadsAlone(t *testing.T, s store.Shared) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("a"), newKey("b")}, PutGrants: []store.Grant{newGrant("a", grantID(1))}})
	read := revision(t, s)
	apply(t, s, store.Batch{PutKeys: []store.Key{next(newKey("a"))}, DeleteGrants: []store.GrantID{{KeyID: "a", GrantID: grantID(1)}}})
	reads := store.Batch{ReadKeys: []string{"a"}, ReadGrants: []store.GrantID{{KeyID: "a", GrantID: grantID(1)}}}
	if !reads.Empty() {
		t.Fatal("a batch of reads alone is not Empty")
	}
	if r := applyAt(t, s, read, &reads); r != read {
		t.Errorf("ApplyAt of a batch of reads alone returned revision %d, want the read revision %d", r, read)
	}
	applyAt(t, s, read, &reads, &store.Batch{PutKeys: []store.Key{next(newKey("b"))}})
}

// testSharedApplyAtConcurrent: writers that each read a key's version at a
// revision and write the next version with ApplyAt never lose an update:
// the key's final version is one more than the successes, and no two
// successes share a version or a revision.
func testSharedApplyAtConcurrent(t *testing.T, s store.Shared) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}})
	const writers, tries = 8, 15
	var (
		mu        sync.Mutex
		versions  = map[uint64]bool{}
		revisions = map[int64]bool{}
		wg        sync.WaitGroup
		failure   error
	)
	for range writers {
		wg.Go(func() {
			for range tries {
				view, read, err := s.Snapshot(t.Context())
				if err != nil {
					mu.Lock()
					failure = err
					mu.Unlock()
					return
				}
				k, err := view.Key(t.Context(), "k")
				view.Close()
				if err != nil {
					mu.Lock()
					failure = err
					mu.Unlock()
					return
				}
				k.Version++
				r, err := s.ApplyAt(t.Context(), read, &store.Batch{PutKeys: []store.Key{k},
					AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rotation(int(k.Version))}}})
				mu.Lock()
				switch {
				case err == nil:
					if versions[k.Version] || revisions[r] {
						failure = fmt.Errorf("version %d or revision %d written twice", k.Version, r)
					}
					versions[k.Version], revisions[r] = true, true
				case !errors.Is(err, store.ErrConflict):
					failure = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failure != nil {
		t.Fatal(failure)
	}
	k, err := s.Key(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if k.Version != uint64(len(versions))+1 {
		t.Fatalf("final version %d after %d successful writes, want %d", k.Version, len(versions), len(versions)+1)
	}
	rs := allRotations(t, s, "k")
	if len(rs) != len(versions) {
		t.Fatalf("%d rotations after %d successful writes", len(rs), len(versions))
	}
}
