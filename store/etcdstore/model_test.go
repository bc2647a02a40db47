package etcdstore_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/storetest"
)

// TestAgainstMemory: random groups of random batches (keys put, replaced,
// rotated, deleted and created again; aliases put, moved, deleted; grants;
// custom key stores; instants; profiles; right and wrong versions) applied
// to store.Memory, the reference, and to the etcd store give the same
// outcome (the same sentinel, or none) and the same content after each;
// a watcher replaying the Changes ends with that content too.
func TestAgainstMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 2026))
	mem := store.NewMemory()
	s := open(t)
	ctx := t.Context()
	view, rev, err := s.Snapshot(ctx)
	must(t, err)
	r := storetest.NewReplica(t, view)
	view.Close()
	changes, err := s.Watch(ctx, rev)
	must(t, err)
	at := func(i int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, i, time.UTC) }
	pick := func(prefix string, n int) string { return fmt.Sprintf("%s%d", prefix, rng.IntN(n)) }
	version := func(id string) uint64 {
		k, err := mem.Key(ctx, id)
		if err != nil {
			return 0
		}
		return k.Version
	}
	// existing picks a stored key most of the time, so that most groups
	// fit; any key otherwise.
	existing := func() string {
		ks, _ := mem.Keys(ctx, "", 100)
		if len(ks) == 0 || rng.IntN(5) == 0 {
			return pick("k", 5)
		}
		return ks[rng.IntN(len(ks))].ID
	}
	existingAlias := func() string {
		as, _ := mem.Aliases(ctx, store.AliasID{}, 100)
		if len(as) == 0 || rng.IntN(5) == 0 {
			return pick("alias/", 4)
		}
		return as[rng.IntN(len(as))].Name
	}
	existingGrant := func() store.GrantID {
		var ids []store.GrantID
		mem.Grants(ctx, func(g store.Grant) error {
			ids = append(ids, store.GrantID{KeyID: g.KeyID, GrantID: g.GrantID})
			return nil
		})
		if len(ids) == 0 || rng.IntN(5) == 0 {
			return store.GrantID{KeyID: pick("k", 5), GrantID: pick("g", 3)}
		}
		return ids[rng.IntN(len(ids))]
	}
	batch := func(step int) *store.Batch {
		var b store.Batch
		for range 1 + rng.IntN(3) {
			switch rng.IntN(12) {
			case 0, 1:
				id := pick("k", 5)
				v := version(id) + 1
				if rng.IntN(8) == 0 {
					v = uint64(rng.IntN(3)) + 1
				}
				b.PutKeys = append(b.PutKeys, store.Key{ID: id, Version: v, State: keystate.Enabled,
					Description: fmt.Sprint("step ", step), Created: at(step), Tags: []store.Tag{{Key: "s", Value: fmt.Sprint(step)}}})
			case 2, 3:
				b.AddRotations = append(b.AddRotations, store.KeyRotation{KeyID: existing(), Rotation: store.Rotation{At: at(step), OnDemand: step%2 == 0}})
			case 4:
				b.PutAliases = append(b.PutAliases, store.Alias{AliasID: store.AliasID{Account: "1", Name: pick("alias/", 4)},
					KeyID: existing(), Created: at(step), Updated: at(step + 1)})
			case 5:
				b.DeleteAliases = append(b.DeleteAliases, store.AliasID{Account: "1", Name: existingAlias()})
			case 6:
				b.DeleteKeys = append(b.DeleteKeys, existing())
			case 7:
				b.PutGrants = append(b.PutGrants, store.Grant{KeyID: existing(), GrantID: pick("g", 3),
					Operations: []string{"Encrypt"}, EncryptionContextEquals: map[string]string{"s": fmt.Sprint(step)}, Created: at(step)})
			case 8:
				b.DeleteGrants = append(b.DeleteGrants, existingGrant())
			case 9:
				if rng.IntN(2) == 0 {
					b.PutCustomKeyStores = append(b.PutCustomKeyStores, store.CustomKeyStore{ID: pick("cks-", 2), Name: fmt.Sprint(step), Created: at(step)})
				} else {
					b.DeleteCustomKeyStores = append(b.DeleteCustomKeyStores, pick("cks-", 2))
				}
			case 10:
				b.Now = at(rng.IntN(1000))
				b.RuleProfile = []string{"", "2024", "current"}[rng.IntN(3)]
			case 11:
				if rng.IntN(8) == 0 {
					b.PutSecret = []byte(fmt.Sprint("secret ", step))
				}
			}
		}
		return &b
	}
	sentinel := func(err error) error {
		for _, e := range []error{store.ErrNotFound, store.ErrExists, store.ErrConflict} {
			if errors.Is(err, e) {
				return e
			}
		}
		return err
	}
	applied := 0
	for step := range 150 {
		var group []*store.Batch
		for range 1 + rng.IntN(2) {
			group = append(group, batch(step))
		}
		merr := mem.Apply(ctx, group...)
		eerr := s.Apply(ctx, group...)
		if sentinel(merr) != sentinel(eerr) {
			t.Fatalf("step %d: Memory says %v, etcd %v", step, merr, eerr)
		}
		want, got := dumpState(t, mem), dumpState(t, s)
		if got.String() != want.String() {
			t.Fatalf("step %d: etcd holds\n%v\nMemory\n%v", step, got, want)
		}
		empty := true
		for _, b := range group {
			empty = empty && b.Empty()
		}
		if eerr != nil || empty { // no commit
			continue
		}
		applied++
		select {
		case ch := <-changes:
			r.Replay(t, ch)
		case <-time.After(10 * time.Second):
			t.Fatalf("step %d: no Change", step)
		}
		r.Check(t, fmt.Sprintf("step %d: the watcher's replica", step), mem)
	}
	if applied < 30 {
		t.Errorf("only %d of 150 groups applied: the generator is off", applied)
	}
	t.Logf("%d of 150 groups applied", applied)
}
