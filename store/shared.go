package store

import (
	"context"
	"errors"
)

// ErrCompacted is returned by Shared.Watch, or delivered in a Change's Err,
// when the changes after the revision asked for are no longer kept: the
// watcher must load a new Snapshot.
var ErrCompacted = errors.New("store: revision compacted")

// ErrReadOnly is returned by Apply and ApplyAt of a Snapshot's view.
var ErrReadOnly = errors.New("store: read-only view")

// Shared is a Store that several services write at once, each keeping the
// whole of it in memory and changes flowing between them (package kms's
// cluster mode; store/etcdstore is a Shared store over etcd). Every commit
// has a revision, greater than those of the commits before it, and the
// state after a commit is the state at its revision.
//
// A service loads a Snapshot (a consistent view at one revision), follows
// the commits after it with Watch, makes a call linearizable by catching
// up to Revision before answering, and writes with ApplyAt, which refuses
// a group whose records another writer changed since the revision the
// service computed it from (optimistic concurrency).
type Shared interface {
	Store
	// Snapshot returns a read-only view of the store at its latest
	// revision, and that revision: every read method of the view reads
	// that revision, so that a loader sees one consistent state however
	// many calls it makes. Apply and ApplyAt of the view return
	// ErrReadOnly. The caller must Close the view.
	Snapshot(ctx context.Context) (Store, int64, error)
	// Revision returns the latest revision, read so that it is at least
	// the revision of every commit acknowledged (to any writer) before
	// Revision was called: a service that has applied every change up to
	// it answers as if it were the only one.
	Revision(ctx context.Context) (int64, error)
	// Watch delivers every commit after revision after, one Change each,
	// in revision order, until ctx is done or the watch fails; it then
	// closes the channel, after a last Change with Err set when it failed
	// (ErrCompacted when the commits after after are no longer kept). The
	// receiver must keep up: a store may buffer only so much.
	Watch(ctx context.Context, after int64) (<-chan Change, error)
	// ApplyAt is Apply for a group computed from the store as of
	// revision read. It writes the group as Apply does, and returns the
	// revision of its commit, provided that no record the group writes or
	// names was changed by a commit after read: the keys it puts, deletes
	// or rotates, the aliases it puts or deletes, the grants it puts or
	// deletes and the keys these name, the aliases and grants its key
	// deletions remove with the keys (one put after read conflicts), the
	// custom key stores it puts or deletes (any custom key store created
	// or replaced after read, when a batch sets GuardCustomKeyStores), the
	// keys and grants a batch read and the keys whose aliases it read
	// (Batch.ReadKeys, ReadGrants, ReadKeyAliases), and the secret when it
	// puts one. Otherwise it writes
	// nothing and returns an error wrapping ErrConflict (a deletion after
	// read counts as a change). A key the group creates (CreatedKeys) is
	// checked only for its absence when the group commits: a group
	// computed from revision read creates only keys absent there, so that
	// a key created after read conflicts, and one created and deleted
	// again since does not; the store need not look back at read for it
	// (store/etcdstore writes a group that only creates keys in one round
	// trip). A group of nothing returns read.
	ApplyAt(ctx context.Context, read int64, bs ...*Batch) (int64, error)
}

// CreatedKeys returns the IDs of the keys the group bs creates: those
// that the first batch naming them (putting, rotating or deleting them,
// or an alias or grant of theirs) puts with Version 1. ApplyAt checks
// these only for their absence when the group commits (see Shared).
func CreatedKeys(bs []*Batch) map[string]bool {
	created := map[string]bool{}
	named := map[string]bool{}
	for _, b := range bs {
		if b == nil {
			continue
		}
		for i := range b.PutKeys {
			if k := &b.PutKeys[i]; !named[k.ID] && k.Version == 1 {
				created[k.ID] = true
			}
		}
		for i := range b.PutKeys {
			named[b.PutKeys[i].ID] = true
		}
		for _, r := range b.AddRotations {
			named[r.KeyID] = true
		}
		for _, a := range b.PutAliases {
			named[a.KeyID] = true
		}
		for _, id := range b.DeleteKeys {
			named[id] = true
		}
		for _, g := range b.PutGrants {
			named[g.KeyID] = true
		}
		for _, id := range b.DeleteGrants {
			named[id.KeyID] = true
		}
	}
	return created
}

// Change is one commit of a Shared store, as Watch delivers it: its net
// effect, as a Batch of the records the commit left, each record at most
// once. PutKeys hold the whole final records of the keys it created or
// replaced (their Version may be more than one above the one before, when
// a group changed a key twice), AddRotations the rotations it added, in
// order, to keys that still exist, and DeleteKeys the keys it deleted,
// whose rotations, grants and aliases went with them; PutAliases,
// PutGrants and PutCustomKeyStores hold final records, DeleteAliases,
// DeleteGrants and DeleteCustomKeyStores the records it removed (a deleted
// key's aliases and grants may be listed too). Now and RuleProfile are
// set when the commit moved them, PutSecret when it stored the secret.
// A key the commit deleted and created again (same ID) is in both
// DeleteKeys and PutKeys, with only the rotations added after its last
// deletion: its deletion applies first. Applying the records of a Change
// to the state at the revision before it gives the state at Revision.
type Change struct {
	Revision int64
	Batch    Batch
	// Err, on the last value of a failed watch, is why it failed.
	Err error
}
