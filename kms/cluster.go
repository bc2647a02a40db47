package kms

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// Cluster mode.
//
// Open over a store.Shared makes the service one node of a cluster: its
// in-memory state is the store's at revision s.applied, plus its own
// changes not yet written (s.log). It follows the other nodes' commits
// through the store's Watch, without a goroutine of its own: a call first
// asks the store for its latest revision (store.Shared.Revision, which
// includes every commit acknowledged anywhere) and applies the watched
// commits up to it (catchUp), so that it answers as a single service
// holding every acknowledged change would (a linearizable read, unless
// WithStaleReads). Its writes go to the store with ApplyAt at the
// revision the group was computed from: a group whose records another node
// changed meanwhile is refused (store.ErrConflict), the service undoes it
// (and the batches logged after it) by reloading the records they wrote
// from a Snapshot (undoInPlace) or, when it cannot, its whole state, and
// the calls of the group (and those after it) run again, as a single
// service would have run them after the other node's change.
// Scheduled events are applied by whichever node's call finds them due;
// when two nodes apply one, one of them loses the race and finds it
// applied: each event happens once.

// maxRetries bounds how many times a call runs again after losing a race
// to another node's write.
const maxRetries = 100

// clusterState is the part of a Service that only cluster mode uses.
type clusterState struct {
	shared store.Shared
	// applied is the revision the state reflects (besides s.log), set
	// under s.mu and read without it too: a call that finds it at the
	// store's revision already has nothing to catch up.
	applied atomic.Int64
	// logRead is the revision the batches in s.log were computed from
	// (the earliest one's): their group is written with ApplyAt(logRead).
	logRead int64
	// own holds the revisions of this node's commits that the watch has
	// still to bring back (they are in memory already).
	own map[int64]bool
	// changes is the watch's channel, set under s.mu and read without it
	// (a call up to date takes what the watch delivered); a new watch
	// stores a new pointer.
	changes atomic.Pointer[<-chan store.Change]
	stop    context.CancelFunc // ends the watch
	stale   bool               // WithStaleReads: no catching up before a call
	reloads int                // reloads from a snapshot (ClusterStatus)
	undone  int                // lost races undone in place (ClusterStatus)
	retries int                // calls run again (ClusterStatus)
	watched atomic.Int64       // the latest commit taken from the watch (ClusterStatus)
}

// ClusterStatus is what a cluster node (a service opened over a
// store.Shared) reports of its place in the cluster.
type ClusterStatus struct {
	// Revision is the store revision the node's state reflects (besides
	// its own writes in progress).
	Revision int64
	// Reloads counts the node's reloads of the whole state from a
	// snapshot: after a lost race it could not undo in place
	// (UndoneInPlace), a commit it could not apply in place (one of
	// custom key stores or of their keys), or a watch that ended.
	Reloads int
	// Retries counts the calls it ran again after losing a race.
	Retries int
	// UndoneInPlace counts the lost races whose failed writes the node
	// undid by reloading from a snapshot only the keys, aliases and
	// grants they wrote, after applying the other nodes' commits up to
	// it, instead of its whole state. A race lost on writes of custom key
	// stores, their keys or key deletions counts as a reload.
	UndoneInPlace int
	// Watched is the revision of the latest commit the node took from
	// its store's watch: its own commits come back that way too, after
	// the node applied them. Commits after Watched wait in the watch; a
	// node takes them on its next call.
	Watched int64
}

// ClusterStatus reports the node's place in its cluster, and false when
// the service is not in cluster mode.
func (s *Service) ClusterStatus() (ClusterStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cl == nil {
		return ClusterStatus{}, false
	}
	return ClusterStatus{Revision: s.cl.applied.Load(), Reloads: s.cl.reloads, Retries: s.cl.retries,
		UndoneInPlace: s.cl.undone, Watched: s.cl.watched.Load()}, true
}

// WithStaleReads makes a service in cluster mode (Open over a
// store.Shared) answer from its own copy of the state without first
// catching up with the other nodes' commits: faster, and possibly stale (a
// change acknowledged by another node may not be seen yet). Writes stay
// safe: a write computed from stale state loses its race and runs again.
func WithStaleReads() Option {
	return func(c *config) { c.staleReads = true }
}

// openShared loads the service from a snapshot of st and starts following
// its commits.
func (s *Service) openShared(ctx context.Context, st store.Shared) error {
	s.cl = &clusterState{shared: st, own: map[int64]bool{}, stale: s.cfg.staleReads}
	s.cfg.recordBindings = true // D78
	return s.loadSnapshot(ctx)
}

// loadSnapshot loads s from a Snapshot of its shared store (the caller
// holds s.mu, or s is not shared yet) into s, and watches the commits
// after it.
func (s *Service) loadSnapshot(ctx context.Context) error {
	view, rev, err := s.cl.shared.Snapshot(ctx)
	if err != nil {
		return err
	}
	defer view.Close()
	s.st = view
	err = s.load(ctx)
	s.st = s.cl.shared
	if err != nil {
		return err
	}
	return s.watchFrom(rev)
}

// watchFrom makes rev the applied revision and watches the commits after
// it, ending the watch before.
func (s *Service) watchFrom(rev int64) error {
	if s.cl.stop != nil {
		s.cl.stop()
	}
	ctx, stop := context.WithCancel(context.Background())
	changes, err := s.cl.shared.Watch(ctx, rev)
	if err != nil {
		stop()
		return err
	}
	s.cl.changes.Store(&changes)
	s.cl.stop = stop
	s.cl.watched.Store(rev)
	s.cl.setApplied(rev)
	clear(s.cl.own)
	return nil
}

// barrier brings the service up to the store's latest revision before a
// call, unless it reads stale. The caller must not hold s.mu.
func (s *Service) barrier(ctx context.Context) error {
	if s.cl != nil && s.cl.stale {
		return s.catchUp(ctx, -1)
	}
	return s.catchUpLatest(ctx)
}

// catchUpLatest brings a cluster node up to the store's latest revision,
// stale reads or not. The caller must not hold s.mu.
func (s *Service) catchUpLatest(ctx context.Context) error {
	if s.cl == nil {
		return nil
	}
	rev, err := s.cl.shared.Revision(ctx)
	if err != nil {
		return err
	}
	return s.catchUp(ctx, rev)
}

// setApplied records that the state reflects the store at revision rev.
// The caller holds s.mu.
func (cl *clusterState) setApplied(rev int64) { cl.applied.Store(rev) }

// catchUp applies the watched commits up to revision rev, and then, or
// with rev < 0 only, some of those the watch has delivered already
// (maxTake), without waiting for more. One caller at a time applies them
// (s.cl's watch is read under s.wmu); others wait for it, unless the
// state is at rev already, when they go on. The caller must not hold
// s.mu.
//
// The commits delivered are taken even when the state is up to date: a
// node's own commits come back through the watch after the node applied
// them, and left there they would pile up behind it without bound (the
// etcd client, and store.SharedMemory, queue what is not received), by
// the hundreds of bytes a write, on a node whose writes no other node's
// interleave (measured: 4.2× a single service's live heap per key after
// 100,000 CreateKey calls on one node).
func (s *Service) catchUp(ctx context.Context, rev int64) error {
	if rev >= 0 && s.cl.applied.Load() >= rev {
		// Up to date already (as most concurrent reads find, one of them
		// having caught up): take what was delivered unless another call
		// is taking it. The caller's s.mu.Lock then waits for the one
		// who set applied, which held s.mu.
		if !s.wmu.TryLock() {
			return nil
		}
		defer s.wmu.Unlock()
		return s.takeWatched(ctx, -1)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.takeWatched(ctx, rev)
}

// maxTake bounds how many delivered commits a call takes beyond those it
// needs, so that other nodes' steady writes do not keep it.
const maxTake = 256

// took records that the watch delivered the commit at revision rev. The
// caller holds s.wmu.
func (cl *clusterState) took(rev int64) {
	if rev > cl.watched.Load() {
		cl.watched.Store(rev)
	}
}

// takeWatched is catchUp with s.wmu held.
func (s *Service) takeWatched(ctx context.Context, rev int64) error {
	taken := 0
	for {
		if rev >= 0 {
			s.mu.Lock()
			// A commit of this node in flight may come back through the
			// watch before its revision is known: wait until it is.
			for s.committing {
				s.resolvedCond.Wait()
			}
			over := s.broken != nil || s.closed
			if s.cl.applied.Load() >= rev {
				rev = -1 // caught up: take what was delivered, without waiting
			}
			s.mu.Unlock()
			if over {
				return nil
			}
		}
		p := s.cl.changes.Load()
		if p == nil {
			return nil
		}
		changes := *p
		var (
			c  store.Change
			ok bool
		)
		if rev < 0 {
			if taken == maxTake {
				return nil
			}
			taken++
			select {
			case c, ok = <-changes:
			default:
				return nil
			}
			if ok && c.Err == nil && c.Revision <= s.cl.applied.Load() {
				// Applied already (this node's own commit, come back):
				// nothing to wait for, even while the node writes.
				s.cl.took(c.Revision)
				continue
			}
		} else {
			select {
			case c, ok = <-changes:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		s.mu.Lock()
		for s.committing {
			s.resolvedCond.Wait()
		}
		var err error
		switch {
		case s.broken != nil || s.closed:
			// Close ended the watch: nothing to reload, nor to watch anew
			// (Close has stopped the watch it knew of).
		case p != s.cl.changes.Load():
			// A reload started a new watch meanwhile: this one is over.
		case !ok || c.Err != nil:
			// The watch ended (compacted, say): start again from a snapshot.
			err = s.reload()
		default:
			s.cl.took(c.Revision)
			err = s.applyChange(c)
		}
		if err != nil {
			s.broken = fmt.Errorf("following the store's commits: %w", err)
		}
		over := s.broken != nil || s.closed
		s.mu.Unlock()
		if over {
			return nil
		}
	}
}

// applyChange brings the state up to commit c of another node (a commit of
// this node is in memory already). It applies the commit's records in
// place, and when a record does not fit, reloads the whole state from a
// snapshot. The caller holds s.mu.
func (s *Service) applyChange(c store.Change) error {
	switch {
	case c.Revision <= s.cl.applied.Load():
		return nil
	case s.cl.own[c.Revision]:
		delete(s.cl.own, c.Revision)
		s.cl.setApplied(c.Revision)
		return nil
	}
	if err := s.applyRecords(&c.Batch); err != nil {
		return s.reload()
	}
	s.cl.setApplied(c.Revision)
	return nil
}

// applyRecords applies the records of another node's commit: keys created
// or replaced (with their key policies), rotations, aliases, grants, key
// deletions, the root secret and the latest instant. The families of the
// multi-Region keys it writes are linked anew. The other node reported
// its calls and events and counts them in its Totals: this one does
// neither. The caller holds s.mu.
func (s *Service) applyRecords(b *store.Batch) error {
	// The multi-Region keys written, by key ID, with their primary's
	// Region as the records say ("" when none does).
	families := map[string]string{}
	remove := func(k *key) {
		if _, ok := families[k.id]; !ok && k.kind.MultiRegion != keystate.SingleRegion {
			families[k.id] = ""
		}
		s.removeKey(k)
	}
	if len(b.PutSecret) > 0 {
		switch {
		case s.root == nil:
			s.root = slices.Clone(b.PutSecret)
		case string(s.root) != string(b.PutSecret):
			return fmt.Errorf("another root secret: %w", store.ErrCorrupt)
		}
	}
	for i := range b.PutCustomKeyStores {
		if err := s.applyStoreRecord(&b.PutCustomKeyStores[i]); err != nil {
			return err
		}
	}
	// A key deleted and created again (same ID) goes first (store.Change).
	if len(b.DeleteKeys) > 0 && len(b.PutKeys) > 0 {
		for _, id := range b.DeleteKeys {
			if slices.ContainsFunc(b.PutKeys, func(r store.Key) bool { return r.ID == id }) {
				if k := s.loadedKey(id); k != nil {
					remove(k)
				}
			}
		}
	}
	for i := range b.PutKeys {
		r := &b.PutKeys[i]
		k := s.loadedKey(r.ID)
		if k != nil && s.onlyVersion(k, r) {
			// A write that guards the key (a grant of it, a replica of
			// it made or deleted) and changes nothing else.
			k.version = r.Version
			continue
		}
		nk, doc, err := s.keyFromRecord(r)
		if err != nil {
			return err
		}
		if nk.ck, err = s.storeOfRecord(r, k); err != nil {
			return err
		}
		if nk.kind.MultiRegion != keystate.SingleRegion && (families[nk.id] == "" || r.PrimaryRegion != "") &&
			s.relinks(r, k) {
			families[nk.id] = r.PrimaryRegion
		}
		if k != nil {
			nk.slot, nk.rotations, nk.aliasCount, nk.fam = k.slot, k.rotations, k.aliasCount, k.fam
			moved := nk.seq != k.seq
			s.install(k, &nk)
			s.setPolicy(k, doc, r.PolicyBinding)
			if moved {
				// Another node's creation of the key ID, where this node
				// holds its own (made by a write that lost its race, not
				// yet undone): the key takes the other's place in the
				// creation order.
				s.reorder(k)
				placeInStore(k)
				s.seq = max(s.seq, k.seq)
			}
			continue
		}
		p := s.addKey(nk)
		s.placeInOrder(p)
		placeInStore(p)
		s.setPolicy(p, doc, r.PolicyBinding)
		s.requeue(p)
		s.seq = max(s.seq, p.seq)
	}
	for _, rr := range b.AddRotations {
		k := s.loadedKey(rr.KeyID)
		if k == nil {
			return fmt.Errorf("rotation of missing key %s: %w", rr.KeyID, store.ErrCorrupt)
		}
		k.rotations = appendRotation(k.rotations, newRotation(k.created, micros(rr.Rotation.At), rr.Rotation.OnDemand))
	}
	for i := range b.PutAliases {
		if err := s.aliasFromRecord(&b.PutAliases[i]); err != nil {
			return err
		}
	}
	for _, id := range b.DeleteAliases {
		r := s.regions[0]
		if id.Region != "" {
			if r = s.findRegion(id.Region); r == nil {
				continue
			}
		}
		aid := aliasID{account: id.Account, name: id.Name}
		r.removeAlias(aid)
	}
	for i := range b.PutGrants {
		r := &b.PutGrants[i]
		g, err := grantFromRecord(r, s.loadedKey(r.KeyID))
		if err != nil {
			return err
		}
		if old := s.grantIndex[r.GrantID]; old != nil {
			s.dropGrant(old)
		}
		s.installGrant(g)
		s.bindGrant(g, r.Binding) // D78: as the node that made it bound it
	}
	for _, id := range b.DeleteGrants {
		if g := s.grantIndex[id.GrantID]; g != nil {
			s.dropGrant(g)
		}
		delete(s.grantBound, id.GrantID)
	}
	for _, id := range b.DeleteKeys {
		if k := s.loadedKey(id); k != nil {
			remove(k)
		}
	}
	for _, id := range b.DeleteCustomKeyStores {
		cs := s.stores[id]
		if cs == nil {
			continue
		}
		if len(cs.keys) > 0 {
			return fmt.Errorf("custom key store %s deleted with %d keys: %w", id, len(cs.keys), store.ErrCorrupt)
		}
		s.dropStore(cs)
	}
	for id, primaryRegion := range families {
		if err := s.relinkFamily(id, primaryRegion); err != nil {
			return err
		}
	}
	s.follow(b.Now)
	return nil
}

// storeOfRecord is the custom key store reference of key record r, whose
// key the node holds as k (nil when it does not): k's own when r names the
// same store and external key, a new one to the store r names otherwise.
// A key never changes its store, so a record that names another store
// than k's, or none where k has one, is an error. The caller holds s.mu.
func (s *Service) storeOfRecord(r *store.Key, k *key) (*cksRef, error) {
	switch {
	case k != nil && k.ck != nil && k.ck.store.id == r.CustomKeyStoreID && k.ck.xksKeyID == r.XksKeyID:
		return k.ck, nil
	case k != nil && (k.ck != nil || r.CustomKeyStoreID != ""):
		return nil, fmt.Errorf("key %s changed its custom key store: %w", r.ID, store.ErrCorrupt)
	case r.CustomKeyStoreID == "":
		return nil, nil
	}
	cs := s.stores[r.CustomKeyStoreID]
	if cs == nil {
		return nil, fmt.Errorf("key %s names missing custom key store %s: %w", r.ID, r.CustomKeyStoreID, store.ErrCorrupt)
	}
	return &cksRef{store: cs, xksKeyID: r.XksKeyID}, nil
}

// onlyVersion reports whether record r of key k differs from k's record
// in its version alone. The caller holds s.mu.
func (s *Service) onlyVersion(k *key, r *store.Key) bool {
	if r.State != k.state || r.Seq != k.seq || r.Description != k.description() {
		return false // most writes: no record to build
	}
	rec := s.toRecord(k)
	rec.Version = r.Version
	return reflect.DeepEqual(&rec, r)
}

// relinks reports whether applying record r, of a multi-Region key the
// node holds as k (nil when it does not), may change the key's family:
// the key is new, or alone, or another creation
// of it (its place among the members, memberOrder, follows its creation
// number), or r names another primary than its family's. (Relinking
// queues the members' events anew, which a write of the key's
// description, say, must not do at each.) The caller holds s.mu.
func (s *Service) relinks(r *store.Key, k *key) bool {
	return k == nil || k.fam == nil || k.seq != r.Seq || r.PrimaryRegion != s.regions[s.primaryOf(k).region].name
}

// relinkFamily links the multi-Region keys with key ID id, one per
// Region, into their family as load does (link), the primary during
// UpdatePrimaryRegion the one in primaryRegion or, when that is "", in the
// Region of the family's primary so far; a key alone has none. It queues the members' events
// anew, which depend on which member is the primary. The caller holds
// s.mu.
func (s *Service) relinkFamily(id, primaryRegion string) error {
	var ks []*key
	for _, r := range s.regions {
		if k := r.keys.get(id); k != nil && k.kind.MultiRegion != keystate.SingleRegion {
			if primaryRegion == "" && k.fam != nil && k.fam.primary != nil {
				primaryRegion = s.regions[k.fam.primary.region].name
			}
			ks = append(ks, k)
		}
	}
	for _, k := range ks {
		k.fam = nil
	}
	if len(ks) < 2 {
		return nil
	}
	if err := s.link(id, ks, primaryRegion); err != nil {
		return err
	}
	for _, k := range ks {
		s.requeue(k)
	}
	return nil
}

// undoInPlace undoes, on a cluster node whose group lost a race (the
// store refused it with ErrConflict), the failed batches (group, and
// those logged after it) without reloading the whole state, which costs
// a node seconds at a hundred thousand keys: it takes a snapshot of the
// store, applies the other nodes' commits up to the snapshot's revision
// from the watch (the one it lost to among them; those it has delivered
// already, or it gives up), and then reloads from the snapshot only the
// keys (with their rotations), aliases and grants the failed batches
// wrote. The state is then the store's at that
// revision, as a full reload would leave it. It reports false, for the
// caller to reload the whole state, when a failed batch writes more than
// keys outside custom key stores, their rotations, aliases and grants
// (custom key stores, key deletions, the secret), under the eventual
// consistency model, or when a step fails.
//
// It releases s.mu to take s.wmu (which is taken before s.mu), with
// s.undoing set: no group is written meanwhile, and a call that reads the
// state then waits for the failed batches (their count is in s.logged)
// and fails with them. The caller holds s.mu and leads the group.
func (s *Service) undoInPlace(group []*store.Batch) bool {
	if s.cl == nil || s.ec != nil || !undoable(group) || !undoable(s.log) {
		return false
	}
	s.committing, s.undoing = false, true
	s.resolvedCond.Broadcast() // calls taking the watch's commits go on
	s.mu.Unlock()
	s.wmu.Lock()
	s.mu.Lock()
	defer s.wmu.Unlock()
	s.committing, s.undoing = true, false
	// Meanwhile calls may have logged batches (on top of the failed ones:
	// they fail too), and applied other nodes' commits, or reloaded the
	// state for one, which then holds the batches logged since.
	switch {
	case s.broken != nil || s.closed:
		// Nothing to undo for: such a service refuses every call, and a
		// reload would watch its store anew.
		return true
	case !undoable(s.log):
		return false // a batch logged meanwhile writes more
	}
	reloads := s.cl.reloads
	ctx := context.Background()
	view, v, err := s.cl.shared.Snapshot(ctx)
	if err != nil {
		return false
	}
	defer view.Close()
	for s.cl.applied.Load() < v {
		// Only what the watch has delivered: waiting here, s.mu held,
		// for a watch gone silent (an etcd member cut off) would stop
		// the node, Ready and Close included. A full reload needs no
		// watch.
		var (
			c  store.Change
			ok bool
		)
		select {
		case c, ok = <-*s.cl.changes.Load():
		default:
			return false
		}
		if !ok || c.Err != nil {
			return false
		}
		s.cl.took(c.Revision)
		if err := s.applyChange(c); err != nil {
			return false
		}
		if s.cl.reloads != reloads {
			// The state is now the store's, at a revision past v (that
			// of the reload's snapshot), and holds no failed batch.
			return true
		}
	}
	if err := s.reloadRecords(ctx, view, group, s.log); err != nil {
		return false
	}
	latest, err := view.LatestInstant(ctx)
	if err != nil {
		return false
	}
	profile, err := view.RuleProfile(ctx)
	if err != nil {
		return false
	}
	s.saved = latest.UnixMicro()
	s.profileSaved = profile == s.cfg.rules.String()
	s.dropDrafts()
	s.dropEmptyRegions()
	s.cl.undone++
	return true
}

// dropEmptyRegions gives back the places of the Regions last added that
// now hold nothing (no key, alias or custom key store): an undone
// CreateKey or ReplicateKey added them, and a node loaded from the store
// would not serve them. Only the last ones (dropIfLastAndEmpty). The
// caller holds s.mu.
func (s *Service) dropEmptyRegions() {
	for s.dropIfLastAndEmpty(s.regions[len(s.regions)-1]) {
	}
}

// undoable reports whether undoInPlace can undo the batches bs: they
// delete no key and store no secret. (A record reloadRecords cannot apply
// in place, a key's in another custom key store than the node holds it
// in, say, makes applyRecords fail, and the undo reloads everything.)
func undoable(bs []*store.Batch) bool {
	for _, b := range bs {
		if len(b.DeleteKeys) > 0 || len(b.PutSecret) > 0 {
			return false
		}
	}
	return true
}

// reloadRecords replaces the keys, aliases, grants and custom key stores
// the batches of groups write with their records in view (keys with their
// rotations),
// removes those view does not hold, and queues the keys' events anew (an
// event queued twice happens once). The caller holds s.mu, and s's other
// records are as in view.
func (s *Service) reloadRecords(ctx context.Context, view store.Store, groups ...[]*store.Batch) error {
	keys, aliases, grants := map[string]bool{}, map[store.AliasID]bool{}, map[store.GrantID]bool{}
	stores := map[string]bool{}
	for _, bs := range groups {
		for _, b := range bs {
			for i := range b.PutCustomKeyStores {
				stores[b.PutCustomKeyStores[i].ID] = true
			}
			for _, id := range b.DeleteCustomKeyStores {
				stores[id] = true
			}
			for i := range b.PutKeys {
				keys[b.PutKeys[i].ID] = true
			}
			for _, rr := range b.AddRotations {
				keys[rr.KeyID] = true
			}
			for i := range b.PutAliases {
				aliases[b.PutAliases[i].AliasID] = true
			}
			for _, id := range b.DeleteAliases {
				aliases[id] = true
			}
			for i := range b.PutGrants {
				grants[store.GrantID{KeyID: b.PutGrants[i].KeyID, GrantID: b.PutGrants[i].GrantID}] = true
			}
			for _, id := range b.DeleteGrants {
				grants[id] = true
			}
		}
	}
	var fix store.Batch
	if len(stores) > 0 {
		// Custom key stores are few: read them all. Those the view does
		// not hold, a failed batch made; their keys, made by failed
		// batches too, go first (below, and in applyRecords).
		recs, err := view.CustomKeyStores(ctx)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if stores[r.ID] {
				fix.PutCustomKeyStores = append(fix.PutCustomKeyStores, r)
				delete(stores, r.ID)
			}
		}
		for id := range stores {
			if s.stores[id] != nil {
				fix.DeleteCustomKeyStores = append(fix.DeleteCustomKeyStores, id)
			}
		}
	}
	for id := range keys {
		r, err := view.Key(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if k := s.loadedKey(id); k != nil {
				s.removeKey(k) // made by a failed batch: never was
			}
		case err != nil:
			return err
		default:
			fix.PutKeys = append(fix.PutKeys, r)
		}
	}
	for id := range aliases {
		a, found, err := aliasIn(ctx, view, id)
		switch {
		case err != nil:
			return err
		case found:
			fix.PutAliases = append(fix.PutAliases, a)
		default:
			fix.DeleteAliases = append(fix.DeleteAliases, id)
		}
	}
	if len(grants) > 0 {
		// The store reads grants all at once: fewer than keys, as a rule.
		err := view.Grants(ctx, func(g store.Grant) error {
			id := store.GrantID{KeyID: g.KeyID, GrantID: g.GrantID}
			if grants[id] {
				fix.PutGrants = append(fix.PutGrants, g)
				delete(grants, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for id := range grants {
			fix.DeleteGrants = append(fix.DeleteGrants, id)
		}
	}
	if err := s.applyRecords(&fix); err != nil {
		return err
	}
	for i := range fix.PutKeys {
		id := fix.PutKeys[i].ID
		var rs []store.Rotation
		for from := 0; ; {
			page, err := view.Rotations(ctx, id, from, loadPage)
			if err != nil {
				return err
			}
			rs = append(rs, page...)
			if len(page) < loadPage {
				break
			}
			from += len(page)
		}
		k := s.loadedKey(id)
		k.rotations = rotationsOf(k, rs)
		// Its events: install (applyRecords) queued what the reload
		// changed, as from the failed batches' state, which holds those
		// of the events they consumed; a key made anew was queued whole.
	}
	return nil
}

// aliasIn reads alias id in view, which lists aliases in order after a
// given one: it asks for those after the greatest name below id's that
// no alias can have ('~' is in none), which come from id on.
func aliasIn(ctx context.Context, view store.Store, id store.AliasID) (store.Alias, bool, error) {
	if id.Name == "" {
		return store.Alias{}, false, nil
	}
	after := id
	n := len(id.Name)
	after.Name = id.Name[:n-1] + string([]byte{id.Name[n-1] - 1}) + "~"
	page, err := view.Aliases(ctx, after, 4)
	if err != nil {
		return store.Alias{}, false, err
	}
	for _, a := range page {
		switch a.AliasID.Compare(id) {
		case 0:
			return a, true, nil
		case 1:
			return store.Alias{}, false, nil
		}
	}
	return store.Alias{}, false, nil
}

// placeInOrder moves k, just added at the end of its Region's creation
// order, to its place in it: another node may have created it before keys
// this node knows.
func (s *Service) placeInOrder(k *key) {
	o := s.regions[k.region].order
	n := len(o) - 1
	i, _ := slices.BinarySearchFunc(o[:n], k, func(slot uint32, k *key) int {
		a := s.keyAt(slot)
		return compareOrder(a.seq, a.id, k.seq, k.id)
	})
	if i < n {
		copy(o[i+1:], o[i:n])
		o[i] = k.slot
	}
}

// reorder moves k, whose creation number changed, to its place in its
// Region's creation order.
func (s *Service) reorder(k *key) {
	r := s.regions[k.region]
	if i := slices.Index(r.order, k.slot); i >= 0 {
		r.order = append(slices.Delete(r.order, i, i+1), k.slot)
		s.placeInOrder(k)
	}
}

// committed records that this node's group computed from revision read
// was written at revision rev. The caller holds s.mu.
func (s *Service) committed(read, rev int64) {
	cl := s.cl
	if rev != cl.applied.Load()+1 {
		// Other nodes committed in between: the watch brings their commits,
		// then this one, which is skipped.
		cl.own[rev] = true
		return
	}
	cl.setApplied(rev)
	// The batches logged while the group was written were computed on top
	// of it and of nothing newer: they are as of rev.
	if len(s.log) > 0 && cl.logRead == read {
		cl.logRead = rev
	}
}

// authReads are the records a call's authorization read, in cluster
// mode: the keys whose key policies decided it, the grant that allowed
// it, and the keys whose aliases a policy's condition may have tested.
// persist names them in the call's batches (store.Batch.ReadKeys,
// ReadGrants, ReadKeyAliases), so that a write authorized by a grant that
// another node revoked meanwhile, by a key policy it changed or by aliases
// it moved, loses its race and runs again, as a single service would have
// refused it after the other node's change. The store compares the
// records the batch writes anyway.
type authReads struct {
	keys   []string
	grants []store.GrantID
	// aliasSets are the keys whose aliases a policy may have tested
	// (kms:ResourceAliases).
	aliasSets []string
}

func (r *authReads) reset() {
	r.keys, r.grants, r.aliasSets = r.keys[:0], r.grants[:0], r.aliasSets[:0]
}

// readKey records that the call's authorization read k's key policy.
// The caller holds s.mu.
func (s *Service) readKey(k *key) {
	if s.cl != nil {
		s.reads.keys = append(s.reads.keys, s.storeID(k))
	}
}

// readGrant records that grant g of k authorized the call. The caller
// holds s.mu.
func (s *Service) readGrant(k *key, g *grant) {
	if s.cl != nil {
		s.reads.grants = append(s.reads.grants, store.GrantID{KeyID: s.storeID(k), GrantID: g.id})
	}
}

// readKeyAliases records that the call's authorization may have read
// k's aliases (a policy's kms:ResourceAliases). The caller holds s.mu.
func (s *Service) readKeyAliases(k *key) {
	if s.cl != nil {
		s.reads.aliasSets = append(s.reads.aliasSets, s.storeID(k))
	}
}

// nameReads names in b the records the call's authorization read that b
// does not write (persist). The caller holds s.mu.
func (s *Service) nameReads(b *store.Batch) {
	for _, id := range s.reads.keys {
		if !slices.ContainsFunc(b.PutKeys, func(k store.Key) bool { return k.ID == id }) && !slices.Contains(b.ReadKeys, id) {
			b.ReadKeys = append(b.ReadKeys, id)
		}
	}
	for _, id := range s.reads.grants {
		if !slices.Contains(b.ReadGrants, id) {
			b.ReadGrants = append(b.ReadGrants, id)
		}
	}
	for _, id := range s.reads.aliasSets {
		if !slices.Contains(b.ReadKeyAliases, id) {
			b.ReadKeyAliases = append(b.ReadKeyAliases, id)
		}
	}
}

// lostRace reports whether err is a call's failure because another node's
// write changed what its group was computed from: the call must run
// again.
func (s *Service) lostRace(err error) bool {
	return s.cl != nil && errors.Is(err, store.ErrConflict) && errors.Is(err, keystate.ErrKMSInternal)
}

// retried runs a call, and runs it again (after reloading the state)
// while it loses its races to other nodes' writes.
func retried[T any](s *Service, call func() (T, error)) (T, error) {
	for i := 0; ; i++ {
		out, err := call()
		if i == maxRetries || !s.lostRace(err) {
			return out, err
		}
		s.mu.Lock()
		s.cl.retries++
		s.mu.Unlock()
	}
}

// retriedErr is retried for a call that returns only an error.
func retriedErr(s *Service, call func() error) error {
	_, err := retried(s, func() (struct{}, error) { return struct{}{}, call() })
	return err
}

// follow moves the service's time up to latest, the latest instant another
// node wrote: a cluster has one simulated clock, which a ManualClock
// follows forward. The caller holds s.mu.
func (s *Service) follow(latest time.Time) {
	if latest.IsZero() {
		return
	}
	if mc, ok := s.cfg.clock.(*ManualClock); ok && mc.Now().Before(latest) {
		_ = mc.Set(latest) // forward, within the horizon: the store's instant was a clock reading
	}
	s.last = max(s.last, latest.UnixMicro())
}

// ErrNotReady is matched (errors.Is) by Ready's error when the service
// cannot answer calls: it is closed, it could not follow its cluster's
// commits, or it could not reach its store or catch up with it.
var ErrNotReady = errors.New("kms: service not ready")

// Ready reports whether the service can answer a call now, as a load
// balancer's readiness check wants to know: nil when it can, and an error
// matching ErrNotReady that says why when it cannot. A service that is not
// in cluster mode is ready until it is closed. A cluster node (Open over a
// store.Shared) does what a call does before it answers, even with
// WithStaleReads: it asks the store for its latest revision and applies
// the other nodes' commits up to it, within ctx (give it a short
// deadline); a store out of reach, or a node that cannot catch up before
// ctx is done, is not ready. Ready changes nothing but the node's copy of
// the cluster's state.
func (s *Service) Ready(ctx context.Context) error {
	s.mu.Lock()
	closed, broken, cl := s.closed, s.broken, s.cl
	s.mu.Unlock()
	switch {
	case closed:
		return fmt.Errorf("%w: closed", ErrNotReady)
	case broken != nil:
		return fmt.Errorf("%w: %v", ErrNotReady, broken)
	case cl == nil:
		return nil
	}
	rev, err := cl.shared.Revision(ctx)
	if err != nil {
		return fmt.Errorf("%w: reading the store's revision: %v", ErrNotReady, err)
	}
	if err := s.catchUp(ctx, rev); err != nil {
		return fmt.Errorf("%w: catching up to revision %d: %v", ErrNotReady, rev, err)
	}
	s.mu.Lock()
	broken = s.broken
	s.mu.Unlock()
	if broken != nil {
		return fmt.Errorf("%w: %v", ErrNotReady, broken)
	}
	return nil
}
