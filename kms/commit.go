package kms

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// Group commit.
//
// With a store, a call makes its change in memory and appends the change's
// batch to s.log under s.mu, in the order the service applies changes;
// then it waits until the batch is durable, s.mu released while the store
// writes. The first waiter to find no group being written (the leader)
// hands every logged batch to the store in one Apply (one transaction, one
// fsync) and marks them resolved; the calls that waited meanwhile find
// their batches resolved, or lead the next group. A call that only read
// waits too, for every batch logged before it read (etcd's ReadIndex
// idea): it may have seen their changes, and must not answer with state
// that a crash would undo.
//
// A group the store refuses is undone: the leader fails every logged batch
// (the group and those logged after it, which were made on top of it),
// reloads the service's state from the store, and starts a new epoch. A
// waiter fails when the first failure after it looked came before the
// batches it waited for, and then its call answers KMSInternalException.

// commitFailure is a group the store refused: durable is the number of
// batches written before it, err the store's error.
type commitFailure struct {
	durable uint64
	err     error
}

// endQuiet is end for a method that reports no error: its changes, and
// those it saw, are durable when it returns, or undone.
func (s *Service) endQuiet() {
	var err error
	s.end(0, &err)
}

// end finishes a call begun by begin (or by taking s.mu): it releases s.mu and, if any batch
// logged so far is not yet durable, waits until it is. It returns true,
// having set *err to KMSInternalException, when a batch it waited for
// could not be written: the call's change, or one it saw, was undone, and
// its output must be dropped, its refusal too (LimitExceededException
// counted an undone rotation, say); a cluster node runs it again. A call
// that failed first gives back the Regions it added and left empty
// (dropAdded).
func (s *Service) end(op keystate.Operation, err *error) bool {
	if len(s.added) > 0 {
		if *err != nil {
			s.dropAdded()
		}
		clear(s.added)
		s.added = s.added[:0]
	}
	need := s.logged
	if need <= s.resolved {
		s.mu.Unlock()
		return false
	}
	epoch := s.epoch
	s.mu.Unlock()
	werr := s.await(need, epoch)
	if werr == nil {
		return false
	}
	*err = internalError(op, "", keystate.None, werr)
	return true
}

// await waits until every batch up to need is resolved, leading the
// groups itself when no other call is writing one. It returns the store's
// error when a batch up to need was undone in the epoch the caller looked
// in. The caller must not hold s.mu.
//
// Waiters sleep on s.resolvedCond and all wake when a group ends, so that
// the calls a group resolved return at once and the others' batches, logged
// meanwhile, make the next group as large as it can be.
func (s *Service) await(need, epoch uint64) error {
	s.waiters.Add(1)
	defer s.waiters.Add(-1)
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.epoch != epoch {
			if f := s.failures[epoch]; f.durable < need {
				return f.err
			}
			return nil
		}
		if s.resolved >= need {
			return nil
		}
		if s.committing || s.undoing {
			s.resolvedCond.Wait()
			continue
		}
		s.committing = true
		// Let the goroutines that are ready to run (requests just read,
		// say) make their calls first, so that their batches join this
		// group: one yield, no waiting.
		s.mu.Unlock()
		runtime.Gosched()
		s.mu.Lock()
		group, last := s.log, s.logged
		totals := s.totals // with the events of every batch logged
		s.log = s.spareLog[:0]
		var (
			read, rev int64
			err       error
		)
		if s.cl != nil {
			read = s.cl.logRead
		}
		s.mu.Unlock()
		if s.cl != nil {
			rev, err = s.cl.shared.ApplyAt(context.Background(), read, group...)
		} else {
			err = s.st.Apply(context.Background(), group...)
		}
		s.mu.Lock()
		if err == nil {
			s.resolved = last
			s.durableTotals = totals
			if s.cl != nil && rev > s.cl.applied.Load() {
				s.committed(read, rev)
			}
		} else {
			s.undoGroups(err, group)
		}
		clear(group)
		s.spareLog = group[:0]
		s.committing = false
		s.resolvedCond.Broadcast()
	}
}

// undoGroups handles group, which the store refused with err: every batch
// logged so far fails (those after the group were made on top of it), and
// the service's state is reloaded from the store, which holds exactly the
// batches written before the group; a cluster node that lost a race
// reloads only what the failed batches wrote when it can (undoInPlace).
// The caller holds s.mu and is the group's leader.
func (s *Service) undoGroups(err error, group []*store.Batch) {
	undone := errors.Is(err, store.ErrConflict) && s.undoInPlace(group)
	s.failLogged(err)
	if undone {
		return
	}
	if rerr := s.reload(); rerr != nil {
		s.broken = fmt.Errorf("a write failed (%w), and so did reloading the store after it: %w", err, rerr)
	}
}

// failLogged fails every batch logged and not yet resolved with err: the
// calls waiting for them answer KMSInternalException (a cluster node runs
// them again, err wrapping store.ErrConflict), and their events are not
// counted. The caller holds s.mu, and no group is being written (or the
// caller leads the one that failed).
func (s *Service) failLogged(err error) {
	s.failures = append(s.failures, commitFailure{durable: s.resolved, err: err})
	s.totals = s.durableTotals // the undone events are not counted
	s.epoch++
	s.resolved = s.logged
	clear(s.log)
	s.log = s.log[:0]
}

// errReloaded fails the batches logged on a state that a reload then
// replaced (see reload).
var errReloaded = fmt.Errorf("kms: the state was reloaded before a write made on it was durable: %w", store.ErrConflict)

// sync waits until every batch logged so far is durable, and returns the
// store's error if one of them could not be written. The caller must not
// hold s.mu.
func (s *Service) sync() error {
	s.mu.Lock()
	need, epoch := s.logged, s.epoch
	s.mu.Unlock()
	return s.await(need, epoch)
}

// reload replaces the service's state with what its store holds, as Open
// would build it, keeping what the store does not hold: the clock's
// latest instant, import tokens and wrapping keys, GetKeyLastUsage's
// records (moved to the reloaded keys), and the caches of principals and
// default key policies. Changes still propagating under the eventual
// consistency model are settled, as after a restart (D45). Batches logged
// and not yet written were made on the state it replaces: they fail
// (errReloaded), and a cluster node runs their calls again; written, they
// would be in the store and not in memory. The caller holds s.mu, and no
// group is being written (or it leads the one that failed).
func (s *Service) reload() error {
	if len(s.log) > 0 {
		s.failLogged(errReloaded)
	}
	ctx := context.Background()
	f := newService(s.cfg)
	f.st = s.st
	rev := int64(0)
	if s.cl != nil {
		s.cl.reloads++
		// A consistent view of the shared store, whose commits are then
		// watched from its revision.
		view, r, err := s.cl.shared.Snapshot(ctx)
		if err != nil {
			return err
		}
		defer view.Close()
		f.st, rev = view, r
	}
	if err := f.load(ctx); err != nil {
		return err
	}
	latest, err := f.st.LatestInstant(ctx)
	if err != nil {
		return err
	}
	profile, err := f.st.RuleProfile(ctx)
	if err != nil {
		return err
	}
	if s.cl != nil {
		if err := s.watchFrom(rev); err != nil {
			return err
		}
		s.follow(latest)
	}
	// GetKeyLastUsage's records are by slot: move them to the reloaded
	// keys' slots (a key the store does not hold loses its record).
	// So are the keys used since TakeKeyUses; a key gone with the reload
	// is noted as deleted (D79).
	var usage map[uint32]lastUse
	var dirty map[uint32]struct{}
	for slot, u := range s.usage {
		k := s.keyAt(slot)
		nk := f.loadedKey(s.storeID(k))
		if nk == nil || u.at < nk.created { // gone, or a new key under its ID (a replica made again)
			if s.cfg.shareUsage {
				s.noteGone(k, u)
			}
			continue
		}
		if usage == nil {
			usage = make(map[uint32]lastUse, len(s.usage))
		}
		usage[nk.slot] = u
		if _, ok := s.useDirty[slot]; ok {
			if dirty == nil {
				dirty = make(map[uint32]struct{}, len(s.useDirty))
			}
			dirty[nk.slot] = struct{}{}
		}
	}
	// D78: what the reload left as it was (a key policy of the same text,
	// a grant) keeps its binding; the rest is bound as loaded. (A cluster
	// node's are as its records say, as loaded.)
	if !s.cfg.recordBindings {
		for slot, b := range s.bound {
			if nk := f.loadedKey(s.storeID(s.keyAt(slot))); nk != nil {
				if nb, ok := f.bound[nk.slot]; ok && nb.text == b.text {
					f.bound[nk.slot] = b
				}
			}
		}
		for id, epoch := range s.grantBound {
			if _, ok := f.grantBound[id]; ok {
				f.grantBound[id] = epoch
			}
		}
	}
	if string(f.root) != string(s.root) {
		s.imports.sealer, s.imports.tokenSealer = nil, nil // they derive from the root secret
	}
	s.regions, s.rg, s.slab, s.seq = f.regions, f.regions[0], f.slab, f.seq
	for _, r := range s.regions {
		if r.served() {
			r.keys.slab = &s.slab // not f's, which s's next chunks would miss
		}
	}
	s.queue, s.qseq = f.queue, f.qseq
	s.root = f.root
	s.stores, s.storeSlots, s.storeSeq = f.stores, f.storeSlots, f.storeSeq
	s.policies, s.grants, s.grantIndex, s.granteeIdx = f.policies, f.grants, f.grantIndex, f.granteeIdx
	s.bound, s.grantBound = f.bound, f.grantBound
	s.grantSeq = max(s.grantSeq, f.grantSeq) // never back: a number an undone grant took is not given again
	s.usage, s.useDirty = usage, dirty
	s.saved = latest.UnixMicro()
	s.profileSaved = profile == s.cfg.rules.String()
	s.ec = f.ec
	s.dropDrafts()
	return nil
}

// dropDrafts forgets the drafts of the call whose changes a reload (or an
// undo in place) replaced.
func (s *Service) dropDrafts() {
	s.scratch, s.drafted, s.newPrimary, s.pend = key{}, nil, nil, nil
	s.others = s.others[:0]
	clear(s.added) // Regions of the state replaced
	s.added = s.added[:0]
}
