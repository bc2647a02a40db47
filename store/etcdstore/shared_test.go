package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/etcdstore"
	"github.com/kmsmodel/kmsmodel/store/storetest"
)

var npt = time.FixedZone("NPT", 5*3600+45*60)

func newKey(id string) store.Key {
	return store.Key{ID: id, Version: 1, Account: "111122223333", State: keystate.Enabled,
		Created: time.Date(2025, 1, 1, 0, 0, 0, 1, npt), Tags: []store.Tag{{Key: "k", Value: id}}}
}

func next(k store.Key) store.Key {
	k.Version++
	k.Description += "+"
	return k
}

func alias(name, keyID string) store.Alias {
	return store.Alias{AliasID: store.AliasID{Region: "eu-west-1", Account: "111122223333", Name: name}, KeyID: keyID,
		Created: time.Date(2025, 1, 1, 0, 0, 0, 2, npt), Updated: time.Date(2025, 1, 2, 0, 0, 0, 3, npt)}
}

func aliasID(name string) store.AliasID {
	return store.AliasID{Region: "eu-west-1", Account: "111122223333", Name: name}
}

func grant(keyID, id string) store.Grant {
	return store.Grant{KeyID: keyID, GrantID: id, GranteePrincipal: "arn:aws:iam::111122223333:role/r",
		Operations: []string{"Decrypt"}, EncryptionContextSubset: map[string]string{},
		Created: time.Date(2025, 3, 1, 0, 0, 0, 4, npt)}
}

func rot(i int) store.Rotation {
	return store.Rotation{At: time.Date(2025, 4, 1, 0, 0, 0, i, npt), OnDemand: i%2 == 0}
}

func cks(id string) store.CustomKeyStore {
	return store.CustomKeyStore{ID: id, Account: "111122223333", Name: "store " + id, Type: "EXTERNAL_KEY_STORE",
		ConnectionState: "DISCONNECTED", Created: time.Date(2025, 5, 1, 0, 0, 0, 5, npt)}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func applyAt(t testing.TB, s store.Shared, bs ...*store.Batch) int64 {
	t.Helper()
	rev, err := s.Revision(t.Context())
	must(t, err)
	c, err := s.ApplyAt(t.Context(), rev, bs...)
	if err != nil {
		t.Fatalf("ApplyAt: %v", err)
	}
	return c
}

// applyLatest is ApplyAt from the latest revision.
func applyLatest(ctx context.Context, s store.Shared, bs ...*store.Batch) (int64, error) {
	rev, err := s.Revision(ctx)
	if err != nil {
		return 0, err
	}
	return s.ApplyAt(ctx, rev, bs...)
}

// state is the whole content of a store, printed for comparison: both
// sides of a comparison are decoded by the store, so that equal states
// print alike (time zones included).
type state struct {
	Keys      []store.Key
	Rotations map[string][]store.Rotation
	Aliases   []store.Alias
	Grants    []store.Grant
	Stores    []store.CustomKeyStore
	Secret    string
	Now       time.Time
	Profile   string
}

func (s state) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "keys %+v\n", s.Keys)
	for _, id := range slices.Sorted(maps.Keys(s.Rotations)) {
		fmt.Fprintf(&b, "rotations %s %+v\n", id, s.Rotations[id])
	}
	fmt.Fprintf(&b, "aliases %+v\ngrants %+v\nstores %+v\nsecret %q now %v profile %q\n",
		s.Aliases, s.Grants, s.Stores, s.Secret, s.Now, s.Profile)
	return b.String()
}

func dumpState(t testing.TB, s store.Store) state {
	t.Helper()
	ctx := t.Context()
	st := state{Rotations: map[string][]store.Rotation{}}
	var err error
	st.Keys, err = s.Keys(ctx, "", 1<<20)
	must(t, err)
	must(t, s.ScanRotations(ctx, func(id string, rs []store.Rotation) error {
		st.Rotations[id] = slices.Clone(rs)
		return nil
	}))
	st.Aliases, err = s.Aliases(ctx, store.AliasID{}, 1<<20)
	must(t, err)
	must(t, s.Grants(ctx, func(g store.Grant) error { st.Grants = append(st.Grants, g); return nil }))
	st.Stores, err = s.CustomKeyStores(ctx)
	must(t, err)
	secret, err := s.Secret(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	st.Secret = string(secret)
	st.Now, err = s.LatestInstant(ctx)
	must(t, err)
	st.Profile, err = s.RuleProfile(ctx)
	must(t, err)
	return st
}

// TestSnapshotIsolation: a Snapshot's view reads its revision whatever is
// written after it, refuses writes (ErrReadOnly), and is closed on its own.
func TestSnapshotIsolation(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	k := newKey("k1")
	must(t, s.Apply(ctx, &store.Batch{PutKeys: []store.Key{k}, AddRotations: []store.KeyRotation{{KeyID: "k1", Rotation: rot(1)}},
		PutAliases: []store.Alias{alias("alias/a", "k1")}, PutGrants: []store.Grant{grant("k1", "g1")}, RuleProfile: "current"}))
	view, rev, err := s.Snapshot(ctx)
	must(t, err)
	before := dumpState(t, view)
	must(t, s.Apply(ctx, &store.Batch{PutKeys: []store.Key{next(k), newKey("k2")},
		AddRotations: []store.KeyRotation{{KeyID: "k1", Rotation: rot(2)}}, DeleteAliases: []store.AliasID{aliasID("alias/a")},
		DeleteGrants: []store.GrantID{{KeyID: "k1", GrantID: "g1"}}, PutSecret: []byte("s"), Now: time.Unix(5, 0), RuleProfile: "2024"}))
	if got := dumpState(t, view); got.String() != before.String() {
		t.Errorf("snapshot at %d changed after a write:\n%v\nwant\n%v", rev, got, before)
	}
	if after := dumpState(t, s); after.String() == before.String() {
		t.Errorf("the store did not change")
	}
	if err := view.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("k3")}}); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("view.Apply = %v, want ErrReadOnly", err)
	}
	must(t, s.Apply(ctx, &store.Batch{DeleteKeys: []string{"k1"}}))
	if rs, err := view.Rotations(ctx, "k1", 0, 10); err != nil || len(rs) != 1 {
		t.Errorf("the snapshot's Rotations after the key's deletion = %v, %v; want the one rotation before it", rs, err)
	}
	must(t, view.Close())
	if _, err := view.Key(ctx, "k1"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Key on a closed view = %v, want ErrClosed", err)
	}
	if _, err := s.Key(ctx, "k2"); err != nil {
		t.Errorf("closing the view closed the store: %v", err)
	}
}

// TestRevisionLinearizable: Revision never goes back, and is at least the
// revision of every commit acknowledged before it was called, whichever
// client made the commit.
func TestRevisionLinearizable(t *testing.T) {
	opts := options(t)
	a, b := openWith(t, opts), openWith(t, opts)
	ctx := t.Context()
	must(t, a.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("k")}}))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 4 {
		wg.Go(func() {
			writer, reader := a, b
			if w%2 == 1 {
				writer, reader = b, a
			}
			var last int64
			for i := range 10 {
				c, err := applyLatest(ctx, writer, &store.Batch{PutKeys: []store.Key{newKey(fmt.Sprintf("w%d-%d", w, i))}})
				if err != nil {
					errs <- err
					return
				}
				r, err := reader.Revision(ctx)
				if err != nil {
					errs <- err
					return
				}
				if r < c {
					errs <- fmt.Errorf("Revision %d after a commit at %d was acknowledged", r, c)
				}
				if r < last {
					errs <- fmt.Errorf("Revision went back from %d to %d", last, r)
				}
				last = r
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestRevisionShared: callers arriving together share etcd requests.
func TestRevisionShared(t *testing.T) {
	s := open(t)
	const callers = 32
	start := make(chan struct{})
	var wg sync.WaitGroup
	before := etcdstore.RevisionRequests(s)
	for range callers {
		wg.Go(func() {
			<-start
			if _, err := s.Revision(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := etcdstore.RevisionRequests(s) - before; n >= callers {
		t.Errorf("%d callers sent %d requests, want fewer", callers, n)
	}
}

// TestWatch: a watcher replaying the Changes from a snapshot's revision
// rebuilds, after each, exactly the store's state at that revision; the
// Changes come in revision order, one per commit, with the net effect of
// each group.
func TestWatch(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	k1, k2 := newKey("k1"), newKey("eu-west-1/k2")
	groups := [][]*store.Batch{
		{{PutSecret: []byte("root secret"), RuleProfile: "current", Now: time.Unix(100, 1).In(npt)}},
		{{PutCustomKeyStores: []store.CustomKeyStore{cks("cks-1")}, PutKeys: []store.Key{k1, k2},
			AddRotations: []store.KeyRotation{{KeyID: "k1", Rotation: rot(1)}, {KeyID: "k1", Rotation: rot(2)}},
			PutAliases:   []store.Alias{alias("alias/a", "k1"), alias("alias/b", "k1")},
			PutGrants:    []store.Grant{grant("k1", "g1"), grant("k1", "g2"), grant("eu-west-1/k2", "g1")}}},
		// Rotations only: no PutKeys in the Change.
		{{AddRotations: []store.KeyRotation{{KeyID: "k1", Rotation: rot(3)}}}},
		// A key changed twice in one group: one final record.
		{{PutKeys: []store.Key{next(k1)}}, {PutKeys: []store.Key{next(next(k1))}, Now: time.Unix(200, 0)}},
		{{PutAliases: []store.Alias{alias("alias/a", "eu-west-1/k2")}, DeleteGrants: []store.GrantID{{KeyID: "k1", GrantID: "g2"}}}},
		// A key deleted and created again in one group.
		{{DeleteKeys: []string{"k1"}}, {PutKeys: []store.Key{newKey("k1")}, AddRotations: []store.KeyRotation{{KeyID: "k1", Rotation: rot(9)}},
			PutGrants: []store.Grant{grant("k1", "g9")}}},
		{{DeleteKeys: []string{"eu-west-1/k2"}, DeleteCustomKeyStores: []string{"cks-1"}, RuleProfile: "2024"}},
		// The profile as stored and an earlier instant: not moved.
		{{AddRotations: []store.KeyRotation{{KeyID: "k1", Rotation: rot(10)}}, RuleProfile: "2024", Now: time.Unix(1, 0)}},
	}
	view, rev0, err := s.Snapshot(ctx)
	must(t, err)
	r := storetest.NewReplica(t, view)
	view.Close()
	ch, err := s.Watch(ctx, rev0)
	must(t, err)
	var revs []int64
	var views []store.Store // the store at each commit
	for _, g := range groups {
		c, err := applyLatest(ctx, s, g...)
		if err != nil {
			t.Fatalf("ApplyAt: %v", err)
		}
		view, at, err := s.Snapshot(ctx)
		must(t, err)
		defer view.Close()
		if at != c {
			t.Fatalf("Snapshot at %d right after the commit at %d", at, c)
		}
		revs = append(revs, c)
		views = append(views, view)
	}
	for i := range groups {
		var c store.Change
		select {
		case c = <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("no Change %d", i)
		}
		if c.Err != nil || c.Revision != revs[i] {
			t.Fatalf("Change %d: revision %d, err %v; want revision %d", i, c.Revision, c.Err, revs[i])
		}
		switch i {
		case 2:
			if len(c.Batch.PutKeys) != 0 || len(c.Batch.AddRotations) != 1 {
				t.Errorf("rotation-only Change: %d PutKeys, %d AddRotations; want 0, 1", len(c.Batch.PutKeys), len(c.Batch.AddRotations))
			}
		case 3:
			if len(c.Batch.PutKeys) != 1 || c.Batch.PutKeys[0].Version != 3 {
				t.Errorf("a key put twice: PutKeys %+v, want one record at Version 3", c.Batch.PutKeys)
			}
		case 7:
			if c.Batch.RuleProfile != "" || !c.Batch.Now.IsZero() {
				t.Errorf("a commit that did not move them: RuleProfile %q, Now %v", c.Batch.RuleProfile, c.Batch.Now)
			}
		case 5:
			if !slices.Equal(c.Batch.DeleteKeys, []string{"k1"}) || len(c.Batch.PutKeys) != 1 {
				t.Errorf("a key deleted and created again: DeleteKeys %v, %d PutKeys", c.Batch.DeleteKeys, len(c.Batch.PutKeys))
			}
		}
		r.Replay(t, c)
		r.Check(t, fmt.Sprintf("the replica after Change %d (revision %d)", i, c.Revision), views[i])
	}
	select {
	case c := <-ch:
		t.Errorf("unexpected Change %+v", c)
	default:
	}
}

// TestWatchCompacted: watching from a compacted revision ends with a
// Change whose Err is ErrCompacted, then the channel closes.
func TestWatchCompacted(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	first := applyAt(t, s, &store.Batch{PutKeys: []store.Key{newKey("a")}})
	last := applyAt(t, s, &store.Batch{PutKeys: []store.Key{newKey("b")}})
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints()})
	must(t, err)
	defer cli.Close()
	_, err = cli.Compact(ctx, last, clientv3.WithCompactPhysical())
	must(t, err)
	ch, err := s.Watch(ctx, first-1)
	must(t, err)
	var errs []error
	for c := range ch {
		errs = append(errs, c.Err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], store.ErrCompacted) {
		t.Errorf("Changes' errors %v, want one ErrCompacted", errs)
	}
	view, _, err := s.Snapshot(ctx)
	must(t, err)
	defer view.Close()
	a, err := s.Key(ctx, "a")
	must(t, err)
	if _, err := s.ApplyAt(ctx, first-1, &store.Batch{PutKeys: []store.Key{next(a)}}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("ApplyAt a compacted revision naming a key = %v, want ErrConflict", err)
	}
	// D53: a group that only creates keys does not look back at read.
	if _, err := s.ApplyAt(ctx, first-1, &store.Batch{PutKeys: []store.Key{newKey("c")}}); err != nil {
		t.Errorf("ApplyAt a compacted revision creating a key = %v, want a commit", err)
	}
}

// TestApplyAtOneKeyConcurrently: writers on two clients replace one key
// with ApplyAt from what they read; every success is a distinct version,
// and the key ends with as many versions and rotations as successes.
func TestApplyAtOneKeyConcurrently(t *testing.T) {
	opts := options(t)
	stores := []*etcdstore.Store{openWith(t, opts), openWith(t, opts)}
	ctx := t.Context()
	must(t, stores[0].Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("k")}}))
	const writers, tries = 8, 15
	var mu sync.Mutex
	won := map[uint64]int64{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			s := stores[w%2]
			for range tries {
				view, read, err := s.Snapshot(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				k, err := view.Key(ctx, "k")
				view.Close()
				if err != nil {
					t.Error(err)
					return
				}
				k = next(k)
				c, err := s.ApplyAt(ctx, read, &store.Batch{PutKeys: []store.Key{k},
					AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rot(w)}}})
				switch {
				case errors.Is(err, store.ErrConflict):
				case err != nil:
					t.Error(err)
					return
				default:
					mu.Lock()
					if _, dup := won[k.Version]; dup {
						t.Errorf("version %d written twice", k.Version)
					}
					won[k.Version] = c
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	k, err := stores[1].Key(ctx, "k")
	must(t, err)
	rs, err := stores[1].Rotations(ctx, "k", 0, 1<<20)
	must(t, err)
	if len(won) == 0 || k.Version != uint64(len(won))+1 || len(rs) != len(won) {
		t.Errorf("%d successes; the key is at version %d with %d rotations", len(won), k.Version, len(rs))
	}
}

// TestApplyRetriesNoLostUpdate: Apply groups racing on one key's rotation
// history from two clients are retried, not lost.
func TestApplyRetriesNoLostUpdate(t *testing.T) {
	opts := options(t)
	stores := []*etcdstore.Store{openWith(t, opts), openWith(t, opts)}
	ctx := t.Context()
	must(t, stores[0].Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("k")}}))
	const writers, each = 6, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				err := stores[w%2].Apply(ctx, &store.Batch{AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rot(i)}},
					PutAliases: []store.Alias{alias(fmt.Sprintf("alias/%d-%d", w, i), "k")}, Now: time.Unix(int64(w*each+i), 0)})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := dumpState(t, stores[0])
	if n := len(st.Rotations["k"]); n != writers*each || len(st.Aliases) != writers*each {
		t.Errorf("%d rotations and %d aliases, want %d", n, len(st.Aliases), writers*each)
	}
	if !st.Now.Equal(time.Unix(writers*each-1, 0)) {
		t.Errorf("latest instant %v, want the latest given", st.Now)
	}
	// Deleting the key deletes every alias, found through the index.
	must(t, stores[1].Apply(ctx, &store.Batch{DeleteKeys: []string{"k"}}))
	if st := dumpState(t, stores[0]); len(st.Aliases) != 0 || len(st.Rotations) != 0 {
		t.Errorf("after DeleteKeys: %d aliases, %d histories", len(st.Aliases), len(st.Rotations))
	}
}

// TestTooManyOps: a group larger than MaxTxnOps fails clearly and writes
// nothing.
func TestTooManyOps(t *testing.T) {
	opts := options(t)
	opts.MaxTxnOps = 8
	s := openWith(t, opts)
	var b store.Batch
	for i := range 10 {
		b.PutKeys = append(b.PutKeys, newKey(fmt.Sprint(i)))
	}
	err := s.Apply(t.Context(), &b)
	if !errors.Is(err, etcdstore.ErrTooManyOps) || !strings.Contains(err.Error(), "--max-txn-ops") {
		t.Errorf("Apply = %v, want ErrTooManyOps naming --max-txn-ops", err)
	}
	if ks, _ := s.Keys(t.Context(), "", 100); len(ks) != 0 {
		t.Errorf("%d keys written", len(ks))
	}
}

// TestWrappingKey: the secret is not stored in the clear; a store opened
// with another key, or none, is refused.
func TestWrappingKey(t *testing.T) {
	opts := options(t)
	s := openWith(t, opts)
	secret := []byte("the root secret, 32 bytes long!!")
	must(t, s.Apply(t.Context(), &store.Batch{PutSecret: secret}))
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints()})
	must(t, err)
	defer cli.Close()
	resp, err := cli.Get(t.Context(), opts.Prefix, clientv3.WithPrefix())
	must(t, err)
	for _, kv := range resp.Kvs {
		if strings.Contains(string(kv.Value), string(secret)) {
			t.Errorf("%q holds the secret in the clear", kv.Key)
		}
	}
	wrong := opts
	wrong.WrappingKey = make([]byte, 32)
	if _, err := etcdstore.Open(wrong); !errors.Is(err, etcdstore.ErrWrongWrappingKey) {
		t.Errorf("Open with another key = %v, want ErrWrongWrappingKey", err)
	}
	wrong.WrappingKey = nil
	if _, err := etcdstore.Open(wrong); !errors.Is(err, etcdstore.ErrWrongWrappingKey) || !strings.Contains(err.Error(), "WrappingKey") {
		t.Errorf("Open without a key = %v, want ErrWrongWrappingKey naming Options.WrappingKey", err)
	}
	again := openWith(t, opts)
	got, err := again.Secret(t.Context())
	if err != nil || string(got) != string(secret) {
		t.Errorf("Secret after reopening = %q, %v", got, err)
	}
}

// TestNewLeavesClientOpen: a store made by New over a caller's client
// leaves it open at Close.
func TestNewLeavesClientOpen(t *testing.T) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints()})
	must(t, err)
	defer cli.Close()
	s, err := etcdstore.New(cli, options(t))
	must(t, err)
	must(t, s.Apply(t.Context(), &store.Batch{PutKeys: []store.Key{newKey("k")}}))
	must(t, s.Close())
	if _, err := s.Key(t.Context(), "k"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Key after Close = %v, want ErrClosed", err)
	}
	if _, err := cli.Get(context.Background(), "x"); err != nil {
		t.Errorf("the client was closed: %v", err)
	}
}

// TestCorrupt: a record that does not decode is ErrCorrupt, for reads and
// for the watch, and names no bytes of it.
func TestCorrupt(t *testing.T) {
	opts := options(t)
	s := openWith(t, opts)
	ctx := t.Context()
	must(t, s.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("k")}}))
	rev, err := s.Revision(ctx)
	must(t, err)
	ch, err := s.Watch(ctx, rev)
	must(t, err)
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints()})
	must(t, err)
	defer cli.Close()
	_, err = cli.Put(ctx, opts.Prefix+"k/k", "\x01garbage-SECRETISH")
	must(t, err)
	_, err = s.Key(ctx, "k")
	if !errors.Is(err, store.ErrCorrupt) || strings.Contains(err.Error(), "SECRETISH") {
		t.Errorf("Key of a damaged record = %v, want ErrCorrupt without its bytes", err)
	}
	if err := s.Apply(ctx, &store.Batch{PutKeys: []store.Key{next(newKey("k"))}}); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Apply over a damaged record = %v, want ErrCorrupt", err)
	}
	c := <-ch
	if !errors.Is(c.Err, store.ErrCorrupt) {
		t.Errorf("Watch of a damaged record: %+v, want ErrCorrupt", c)
	}
	if _, ok := <-ch; ok {
		t.Errorf("the watch goes on after a damaged record")
	}
}

// TestChunkedReads: a group whose reads take more than MaxTxnOps is read
// in several transactions at one revision (ApplyAt's look at its read
// revision included), and checked as one.
func TestChunkedReads(t *testing.T) {
	opts := options(t)
	opts.MaxTxnOps = 10
	s := openWith(t, opts)
	ctx := t.Context()
	must(t, s.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("k"), newKey("k2")}, PutAliases: []store.Alias{alias("alias/3", "k")}}))
	// 12 reads (two keys, four aliases, each now and at read), 6
	// comparisons, 9 writes: alias/3 is read in the second transaction.
	group := func() *store.Batch {
		var b store.Batch
		for i := range 4 {
			b.PutAliases = append(b.PutAliases, alias(fmt.Sprintf("alias/%d", i), []string{"k", "k2"}[i%2]))
		}
		return &b
	}
	read, err := s.Revision(ctx)
	must(t, err)
	must(t, s.Apply(ctx, &store.Batch{DeleteAliases: []store.AliasID{aliasID("alias/3")}}))
	if _, err := s.ApplyAt(ctx, read, group()); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("ApplyAt over an alias deleted after read = %v, want ErrConflict", err)
	}
	if _, err := applyLatest(ctx, s, group()); err != nil {
		t.Fatal(err)
	}
	if as, err := s.Aliases(ctx, store.AliasID{}, 100); err != nil || len(as) != 4 {
		t.Fatalf("Aliases = %d, %v; want 4", len(as), err)
	}
}

// TestRevisionIsTheStores: writes elsewhere in the cluster (another
// prefix) do not move a store's Revision; a watch from an idle store's
// revision works after etcd compacted past it; a group that leaves every
// record as it was is a commit all the same, with its own revision and an
// empty Change.
func TestRevisionIsTheStores(t *testing.T) {
	s, other := open(t), open(t)
	ctx := t.Context()
	rev := applyAt(t, s, &store.Batch{PutKeys: []store.Key{newKey("k")}, Now: time.Unix(100, 0)})
	for i := range 3 {
		must(t, other.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey(fmt.Sprint(i))}}))
	}
	if got, err := s.Revision(ctx); err != nil || got != rev {
		t.Fatalf("Revision = %d, %v after writes to another prefix; want %d", got, err, rev)
	}
	view, snap, err := s.Snapshot(ctx)
	must(t, err)
	view.Close()
	if snap != rev {
		t.Fatalf("Snapshot at %d, want %d", snap, rev)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints()})
	must(t, err)
	defer cli.Close()
	resp, err := cli.Get(ctx, "x")
	must(t, err)
	_, err = cli.Compact(ctx, resp.Header.Revision)
	must(t, err)
	ch, err := s.Watch(ctx, rev)
	must(t, err)
	view, _, err = s.Snapshot(ctx)
	must(t, err)
	if _, err := view.Key(ctx, "k"); err != nil {
		t.Errorf("reading a snapshot of an idle store after a compaction: %v", err)
	}
	view.Close()
	// Nothing to write (an earlier instant): a commit still.
	c, err := s.ApplyAt(ctx, rev, &store.Batch{Now: time.Unix(50, 0)})
	if err != nil || c <= rev {
		t.Fatalf("ApplyAt of a group that changes nothing = %d, %v; want a revision after %d", c, err, rev)
	}
	select {
	case ch := <-ch:
		if ch.Err != nil || ch.Revision != c || !ch.Batch.Empty() {
			t.Errorf("Change %+v, want an empty one at %d", ch, c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no Change")
	}
}

// TestRequestTooLarge: a group larger than etcd takes in one request
// fails clearly (naming --max-request-bytes) and writes nothing.
func TestRequestTooLarge(t *testing.T) {
	s := open(t)
	var b store.Batch
	for i := range 4 {
		k := newKey(fmt.Sprint(i))
		k.Policy = strings.Repeat("ü", 200_000) // 400 KB of UTF-8
		b.PutKeys = append(b.PutKeys, k)
	}
	err := s.Apply(t.Context(), &b)
	if err == nil || !strings.Contains(err.Error(), "--max-request-bytes") {
		t.Errorf("Apply of 1.6 MB = %v, want an error naming --max-request-bytes", err)
	}
	if ks, _ := s.Keys(t.Context(), "", 100); len(ks) != 0 {
		t.Errorf("%d keys written", len(ks))
	}
}

// TestWatchEndsAtClose: closing the store ends its watches with a last
// Change whose Err is ErrClosed; Revision and Watch then fail with it.
func TestWatchEndsAtClose(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	rev, err := s.Revision(ctx)
	must(t, err)
	ch, err := s.Watch(ctx, rev)
	must(t, err)
	must(t, s.Close())
	var last store.Change
	n := 0
	for c := range ch {
		last = c
		n++
	}
	if n != 1 || !errors.Is(last.Err, store.ErrClosed) {
		t.Errorf("after Close: %d Changes, the last %+v; want one with ErrClosed", n, last)
	}
	if _, err := s.Revision(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Revision after Close = %v", err)
	}
	if _, err := s.Watch(ctx, rev); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Watch after Close = %v", err)
	}
}

// TestCreationInOneTransaction: a group that only creates keys (with
// their rotations), stores the secret and moves the latest instant and the
// rule profile is one etcd transaction (D53: its keys need only be absent
// when it commits); the latest instant stays the latest given, whichever
// path wrote it and in whatever zone, and a Change carries it and the
// profile only when they moved. A creation that does not fit (the key
// exists) is refused as before.
func TestCreationInOneTransaction(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	from, err := s.Revision(ctx)
	must(t, err)
	changes, err := s.Watch(ctx, from)
	must(t, err)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	oneTxn := func(what string, bs ...*store.Batch) {
		t.Helper()
		countTxns(t, s, what, 1, func() { applyAt(t, s, bs...) })
	}
	latest := func(want time.Time) {
		t.Helper()
		got, err := s.LatestInstant(ctx)
		must(t, err)
		if !got.Equal(want) {
			t.Errorf("LatestInstant = %v, want %v", got, want)
		}
	}
	k := newKey("k1")
	oneTxn("create with secret, instant and profile", &store.Batch{PutKeys: []store.Key{k}, PutSecret: []byte("s3cr3t"),
		Now: t0, RuleProfile: "2024"}, &store.Batch{PutKeys: []store.Key{next(k)}, AddRotations: []store.KeyRotation{{KeyID: "k1", Rotation: rot(1)}}})
	latest(t0)
	oneTxn("create with an earlier instant, same profile", &store.Batch{PutKeys: []store.Key{newKey("k2")}, Now: t0.Add(-time.Second), RuleProfile: "2024"})
	latest(t0)
	// The read path (a replacement) writes an instant given in another zone.
	applyAt(t, s, &store.Batch{PutKeys: []store.Key{next(next(k))}, Now: t0.Add(time.Hour).In(npt)})
	latest(t0.Add(time.Hour))
	oneTxn("create with an earlier instant", &store.Batch{PutKeys: []store.Key{newKey("k3")}, Now: t0.Add(time.Hour - time.Microsecond)})
	latest(t0.Add(time.Hour))
	oneTxn("create with a later instant, another profile", &store.Batch{PutKeys: []store.Key{newKey("k4")}, Now: t0.Add(2 * time.Hour), RuleProfile: "current"})
	latest(t0.Add(2 * time.Hour))
	oneTxn("instant alone", &store.Batch{Now: t0.Add(3 * time.Hour)})
	latest(t0.Add(3 * time.Hour))
	if rots, err := s.Rotations(ctx, "k1", 0, 10); err != nil || len(rots) != 1 {
		t.Errorf("rotations of k1 = %v, %v; want one", rots, err)
	}
	if _, err := s.ApplyAt(ctx, from, &store.Batch{PutKeys: []store.Key{newKey("k2")}}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("creating a key created after read = %v, want ErrConflict", err)
	}
	if err := s.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("k2")}}); !errors.Is(err, store.ErrExists) {
		t.Errorf("Apply creating an existing key = %v, want ErrExists", err)
	}
	type moved struct {
		now     time.Time
		profile string
		keys    int
	}
	want := []moved{{t0, "2024", 1}, {time.Time{}, "", 1}, {t0.Add(time.Hour), "", 1}, {time.Time{}, "", 1},
		{t0.Add(2 * time.Hour), "current", 1}, {t0.Add(3 * time.Hour), "", 0}}
	for i, w := range want {
		c := <-changes
		must(t, c.Err)
		if !c.Batch.Now.Equal(w.now) || c.Batch.RuleProfile != w.profile || len(c.Batch.PutKeys) != w.keys {
			t.Errorf("change %d: Now %v, profile %q, %d keys; want %v, %q, %d", i, c.Batch.Now, c.Batch.RuleProfile, len(c.Batch.PutKeys), w.now, w.profile, w.keys)
		}
	}
}

// countTxns checks that f makes want etcd transactions (reads and writes of
// Apply and ApplyAt) through s.
func countTxns(t *testing.T, s *etcdstore.Store, what string, want int64, f func()) {
	t.Helper()
	n := etcdstore.ApplyRequests(s)
	f()
	if d := etcdstore.ApplyRequests(s) - n; d != want {
		t.Errorf("%s: %d etcd transactions, want %d", what, d, want)
	}
}

// TestReplacementInOneTransaction: a group that replaces (and rotates)
// keys whose records the store saw last, written by its own commits or
// delivered by its Watch, is one etcd transaction, conditioned on the
// records being those; when another client changed one meanwhile, the
// group is read and written (Apply) or refused (ApplyAt) as before, and a
// rotation alone, whose key record is not known, reads first.
func TestReplacementInOneTransaction(t *testing.T) {
	opts := options(t)
	s, o := openWith(t, opts), openWith(t, opts)
	ctx := t.Context()
	txns := func(what string, want int64, f func()) {
		t.Helper()
		countTxns(t, s, what, want, f)
	}
	check := func(version uint64, rotations int) {
		t.Helper()
		k, err := s.Key(ctx, "k")
		must(t, err)
		rots, err := s.Rotations(ctx, "k", 0, 100)
		must(t, err)
		if k.Version != version || len(rots) != rotations {
			t.Errorf("key k: version %d with %d rotations, want %d with %d", k.Version, len(rots), version, rotations)
		}
		for i, r := range rots {
			if !r.At.Equal(rot(i).At) {
				t.Errorf("rotation %d at %v, want %v", i, r.At, rot(i).At)
			}
		}
	}
	k := newKey("k")
	txns("creation", 1, func() { applyAt(t, s, &store.Batch{PutKeys: []store.Key{k}}) })
	for i := range 2 {
		k = next(k)
		txns("replacement and rotation", 1, func() {
			applyAt(t, s, &store.Batch{PutKeys: []store.Key{k}, AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rot(i)}}})
		})
	}
	check(3, 2)
	txns("rotation alone", 2, func() { applyAt(t, s, &store.Batch{AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rot(2)}}}) })
	check(3, 3)
	k = next(k)
	txns("replacement after a rotation alone", 1, func() { applyAt(t, s, &store.Batch{PutKeys: []store.Key{k}}) })

	// Another client replaces k: s's guess is stale.
	read, err := s.Revision(ctx)
	must(t, err)
	mine := k
	k = next(k)
	must(t, o.Apply(ctx, &store.Batch{PutKeys: []store.Key{k}}))
	txns("ApplyAt from before the other client's write", 2, func() {
		if _, err := s.ApplyAt(ctx, read, &store.Batch{PutKeys: []store.Key{next(mine)}}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("ApplyAt = %v, want ErrConflict", err)
		}
	})
	txns("Apply of the version after the one s saw", 2, func() {
		if err := s.Apply(ctx, &store.Batch{PutKeys: []store.Key{next(mine)}}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("Apply = %v, want ErrConflict", err)
		}
	})
	k = next(k)
	txns("Apply of the version after the other client's", 2, func() { must(t, s.Apply(ctx, &store.Batch{PutKeys: []store.Key{k}})) })
	check(6, 3)
	k = next(k)
	txns("replacement after that", 1, func() { applyAt(t, s, &store.Batch{PutKeys: []store.Key{k}}) })

	// With a watch, s learns of the other client's writes.
	from, err := s.Revision(ctx)
	must(t, err)
	changes, err := s.Watch(ctx, from)
	must(t, err)
	k = next(k)
	must(t, o.Apply(ctx, &store.Batch{PutKeys: []store.Key{k}, AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rot(3)}}}))
	if c := <-changes; c.Err != nil || len(c.Batch.PutKeys) != 1 {
		t.Fatalf("change %+v, want the other client's replacement", c)
	}
	k = next(k)
	txns("replacement after the watched write", 1, func() {
		applyAt(t, s, &store.Batch{PutKeys: []store.Key{k}, AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rot(4)}}})
	})
	check(9, 5)
	// A version that does not follow the stored one is refused as before.
	txns("wrong version", 1, func() {
		if err := s.Apply(ctx, &store.Batch{PutKeys: []store.Key{next(next(k))}}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("Apply of version %d over %d = %v, want ErrConflict", k.Version+2, k.Version, err)
		}
	})

	// A store that read k only through Keys, as a node loads its key
	// space, replaces it in one transaction too.
	f := openWith(t, opts)
	if keys, err := f.Keys(ctx, "", 10); err != nil || len(keys) != 1 {
		t.Fatalf("Keys = %d keys, %v; want k", len(keys), err)
	}
	k = next(k)
	countTxns(t, f, "replacement by a store that listed k", 1, func() {
		applyAt(t, f, &store.Batch{PutKeys: []store.Key{k}, AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rot(5)}}})
	})
	check(10, 6)
}
