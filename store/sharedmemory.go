package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// SharedMemory is the in-memory Shared store: a Memory whose commits have
// revisions, kept as Changes for Watch, with the revision each record
// last changed at, for ApplyAt. Several services opened over one
// SharedMemory behave as the nodes of a cluster over one store (package
// kms's cluster mode), in one process: the reference implementation of
// Shared, and the way to test a cluster without etcd. It keeps the last
// SharedMemoryLog commits for Watch (older ones are compacted). It is
// safe for concurrent use.
type SharedMemory struct {
	mu   sync.Mutex // serialises commits; guards the fields below
	mem  *Memory
	rev  int64
	mods map[recordRef]int64 // the revision each record last changed at (puts and deletions)
	// storesPut is the revision of the latest commit that put a custom
	// key store (Batch.GuardCustomKeyStores).
	storesPut int64
	log       []Change // the latest commits, a ring: revision r at (r-1) % SharedMemoryLog
	watchers  map[*memWatcher]struct{}
	closed    bool
}

// SharedMemoryLog is how many commits a SharedMemory keeps for Watch.
const SharedMemoryLog = 1 << 16

// recordRef names a record for ApplyAt's conflict check, or the set of a
// key's aliases (Batch.ReadKeyAliases).
type recordRef struct {
	kind    byte // 'k' key, 'a' alias, 'g' grant, 'c' custom key store, 's' secret, 'A' a key's aliases
	a, b, c string
}

var _ Shared = (*SharedMemory)(nil)

// Format prints the store's revision and nothing of its content: fmt must
// never show the root secret, which its commits hold.
func (s *SharedMemory) Format(f fmt.State, _ rune) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(f, "store.SharedMemory(revision %d)", s.rev)
}

// NewSharedMemory returns an empty SharedMemory at revision 0.
func NewSharedMemory() *SharedMemory {
	return &SharedMemory{mem: NewMemory(), mods: map[recordRef]int64{}, watchers: map[*memWatcher]struct{}{}}
}

// Apply commits the group bs as Memory.Apply does, at the next revision.
func (s *SharedMemory) Apply(ctx context.Context, bs ...*Batch) error {
	_, err := s.commit(ctx, -1, bs)
	return err
}

// ApplyAt commits the group bs at the next revision unless a record it
// writes or names changed after revision read (see Shared).
func (s *SharedMemory) ApplyAt(ctx context.Context, read int64, bs ...*Batch) (int64, error) {
	return s.commit(ctx, read, bs)
}

// commit applies bs; read < 0 skips the conflict check. Empty batches
// are left out first, as store/etcdstore leaves them out: they write
// nothing, and what they name or guard is not checked either.
func (s *SharedMemory) commit(_ context.Context, read int64, bs []*Batch) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	bs = slices.DeleteFunc(slices.Clone(bs), func(b *Batch) bool { return b == nil || b.Empty() })
	if len(bs) == 0 {
		return read, nil // a group of nothing commits nothing
	}
	refs, named, cascades, sets := s.touched(bs)
	if read >= 0 {
		created := CreatedKeys(bs)
		for _, r := range slices.Concat(refs, cascades, named) {
			if r.kind == 'k' && created[r.a] && !s.exists(r) {
				continue // checked for its absence only (Shared.ApplyAt)
			}
			if s.mods[r] > read {
				return 0, fmt.Errorf("%s changed at revision %d, after %d: %w", r, s.mods[r], read, ErrConflict)
			}
		}
		if s.storesPut > read && slices.ContainsFunc(bs, func(b *Batch) bool { return b.GuardCustomKeyStores }) {
			return 0, fmt.Errorf("a custom key store was put at revision %d, after %d: %w", s.storesPut, read, ErrConflict)
		}
	}
	before := s.mem.now
	beforeProfile := s.mem.profile
	written := append(refs, cascades...)
	existed := make(map[recordRef]bool, len(written))
	for _, r := range written {
		existed[r] = s.exists(r)
	}
	if err := s.mem.Apply(context.Background(), bs...); err != nil {
		return 0, err
	}
	s.rev++
	c := Change{Revision: s.rev}
	s.netEffect(&c.Batch, bs, written, existed)
	if s.mem.now.After(before) {
		c.Batch.Now = s.mem.now
	}
	if s.mem.profile != beforeProfile {
		c.Batch.RuleProfile = s.mem.profile
	}
	for _, r := range slices.Concat(written, sets) {
		s.mods[r] = s.rev
	}
	if slices.ContainsFunc(bs, func(b *Batch) bool { return len(b.PutCustomKeyStores) > 0 }) {
		s.storesPut = s.rev
	}
	if len(s.log) < SharedMemoryLog {
		s.log = append(s.log, c)
	} else {
		s.log[(s.rev-1)%SharedMemoryLog] = c // over the oldest
	}
	for w := range s.watchers {
		w.push(c)
	}
	return s.rev, nil
}

func (r recordRef) String() string {
	switch r.kind {
	case 'k':
		return "key " + r.a
	case 'a':
		return fmt.Sprintf("alias %s of %s in %q", r.c, r.b, r.a)
	case 'g':
		return fmt.Sprintf("grant %s of key %s", r.b, r.a)
	case 'c':
		return "custom key store " + r.a
	case 'A':
		return "the aliases of key " + r.a
	}
	return "the root secret"
}

func keyRef(id string) recordRef { return recordRef{kind: 'k', a: id} }
func aliasRef(id AliasID) recordRef {
	return recordRef{kind: 'a', a: id.Region, b: id.Account, c: id.Name}
}
func grantRef(id GrantID) recordRef   { return recordRef{kind: 'g', a: id.KeyID, b: id.GrantID} }
func storeRef(id string) recordRef    { return recordRef{kind: 'c', a: id} }
func aliasSetRef(id string) recordRef { return recordRef{kind: 'A', a: id} }
func (r recordRef) aliasID() AliasID  { return AliasID{Region: r.a, Account: r.b, Name: r.c} }
func (r recordRef) grantID() GrantID  { return GrantID{KeyID: r.a, GrantID: r.b} }
func (s *SharedMemory) exists(r recordRef) bool {
	m := s.mem
	switch r.kind {
	case 'k':
		return m.keys[r.a] != nil
	case 'a':
		_, ok := m.aliases[r.aliasID()]
		return ok
	case 'g':
		_, ok := m.grants[r.grantID()]
		return ok
	case 'c':
		_, ok := m.stores[r.a]
		return ok
	}
	return m.secret != nil
}

// touched returns the records the group writes, in first-touch order, the
// records it only names (the keys of its aliases and grants, and what its
// calls read: Batch.ReadKeys, ReadGrants, ReadKeyAliases), the aliases and
// grants its key deletions remove with the keys (as they are now: ApplyAt
// refuses the group when one of them was put after read), and the keys
// whose sets of aliases it changes.
func (s *SharedMemory) touched(bs []*Batch) (refs, named, cascades, sets []recordRef) {
	seen := map[recordRef]bool{}
	add := func(list *[]recordRef, r recordRef) {
		if !seen[r] {
			seen[r] = true
			*list = append(*list, r)
		}
	}
	for _, b := range bs {
		for _, c := range b.PutCustomKeyStores {
			add(&refs, storeRef(c.ID))
		}
		for _, k := range b.PutKeys {
			add(&refs, keyRef(k.ID))
		}
		for _, r := range b.AddRotations {
			add(&refs, keyRef(r.KeyID))
		}
		for _, a := range b.PutAliases {
			add(&refs, aliasRef(a.AliasID))
			named = append(named, keyRef(a.KeyID))
			add(&sets, aliasSetRef(a.KeyID))
			if old, ok := s.mem.aliases[a.AliasID]; ok {
				add(&sets, aliasSetRef(old.KeyID))
			}
		}
		for _, id := range b.DeleteAliases {
			add(&refs, aliasRef(id))
			if old, ok := s.mem.aliases[id]; ok {
				add(&sets, aliasSetRef(old.KeyID))
			}
		}
		for _, g := range b.PutGrants {
			add(&refs, grantRef(GrantID{g.KeyID, g.GrantID}))
			named = append(named, keyRef(g.KeyID))
		}
		for _, id := range b.DeleteGrants {
			add(&refs, grantRef(id))
		}
		for _, id := range b.ReadKeys {
			named = append(named, keyRef(id))
		}
		for _, id := range b.ReadGrants {
			named = append(named, grantRef(id))
		}
		for _, id := range b.ReadKeyAliases {
			named = append(named, aliasSetRef(id))
		}
		for _, id := range b.DeleteKeys {
			add(&refs, keyRef(id))
			add(&sets, aliasSetRef(id))
			for aid, a := range s.mem.aliases {
				if a.KeyID == id {
					add(&cascades, aliasRef(aid))
				}
			}
			for gid := range s.mem.grants {
				if gid.KeyID == id {
					add(&cascades, grantRef(gid))
				}
			}
		}
		for _, id := range b.DeleteCustomKeyStores {
			add(&refs, storeRef(id))
		}
		if len(b.PutSecret) > 0 {
			add(&refs, recordRef{kind: 's'})
		}
	}
	return refs, named, cascades, sets
}

// netEffect fills c with the final state of every record in refs, after
// bs was applied: see Change.
func (s *SharedMemory) netEffect(c *Batch, bs []*Batch, refs []recordRef, existed map[recordRef]bool) {
	m := s.mem
	put := map[string]bool{}
	deleted := map[string]bool{} // keys the group deleted (and may have created again)
	var rotations []KeyRotation
	for _, b := range bs {
		for _, k := range b.PutKeys {
			put[k.ID] = true
		}
		rotations = append(rotations, b.AddRotations...)
		for _, id := range b.DeleteKeys {
			deleted[id] = true
			put[id] = false // a put after this deletion creates it again
			// Its history so far went with it.
			rotations = slices.DeleteFunc(rotations, func(r KeyRotation) bool { return r.KeyID == id })
		}
		if len(b.PutSecret) > 0 {
			c.PutSecret = slices.Clone(b.PutSecret)
		}
	}
	for _, r := range rotations {
		if m.keys[r.KeyID] != nil {
			c.AddRotations = append(c.AddRotations, r)
		}
	}
	for _, r := range refs {
		now := s.exists(r)
		switch r.kind {
		case 'k':
			if deleted[r.a] && existed[r] {
				c.DeleteKeys = append(c.DeleteKeys, r.a) // first, then its new record if any
			}
			if now && (put[r.a] || deleted[r.a]) {
				k := m.keys[r.a].k
				cloneKey(&k)
				c.PutKeys = append(c.PutKeys, k)
			}
		case 'a':
			switch {
			case now:
				c.PutAliases = append(c.PutAliases, m.aliases[r.aliasID()])
			case existed[r]:
				c.DeleteAliases = append(c.DeleteAliases, r.aliasID())
			}
		case 'g':
			switch {
			case now:
				g := m.grants[r.grantID()]
				cloneGrant(&g)
				c.PutGrants = append(c.PutGrants, g)
			case existed[r]:
				c.DeleteGrants = append(c.DeleteGrants, r.grantID())
			}
		case 'c':
			switch {
			case now:
				c.PutCustomKeyStores = append(c.PutCustomKeyStores, m.stores[r.a])
			case existed[r]:
				c.DeleteCustomKeyStores = append(c.DeleteCustomKeyStores, r.a)
			}
		}
	}
}

// Snapshot returns a read-only copy of the store at its latest revision.
func (s *SharedMemory) Snapshot(context.Context) (Store, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, 0, ErrClosed
	}
	return readOnly{s.mem.clone()}, s.rev, nil
}

// Revision returns the latest revision.
func (s *SharedMemory) Revision(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	return s.rev, nil
}

// Watch delivers the commits after revision after (see Shared). It fails
// with ErrCompacted when the first of them is no longer kept.
func (s *SharedMemory) Watch(ctx context.Context, after int64) (<-chan Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	first := s.rev - int64(len(s.log)) + 1 // the oldest commit kept
	if after+1 < first || after > s.rev {
		return nil, fmt.Errorf("watch after revision %d, commits kept from %d to %d: %w", after, first, s.rev, ErrCompacted)
	}
	w := &memWatcher{ch: make(chan Change, memWatchBuffer)}
	w.cond.L = &w.mu
	for r := after + 1; r <= s.rev; r++ {
		w.queue = append(w.queue, s.log[(r-1)%SharedMemoryLog])
	}
	s.watchers[w] = struct{}{}
	go w.pump(ctx, func() {
		s.mu.Lock()
		delete(s.watchers, w)
		s.mu.Unlock()
	})
	return w.ch, nil
}

// memWatchBuffer is how many Changes a watcher's channel holds, as
// etcdstore's does: a receiver that takes what was delivered without
// waiting finds them there, not one at a time.
const memWatchBuffer = 64

// memWatcher queues a watcher's Changes and hands them over in order.
type memWatcher struct {
	ch      chan Change
	mu      sync.Mutex
	cond    sync.Cond
	queue   []Change
	sending bool // pump holds a Change taken from queue, not yet in ch
	closed  bool
}

// push hands c over: into ch at once when nothing is ahead of it and ch
// has room (so that a commit is in its watchers' channels when ApplyAt
// returns), else through the queue.
func (w *memWatcher) push(c Change) {
	w.mu.Lock()
	if len(w.queue) == 0 && !w.sending && !w.closed {
		select {
		case w.ch <- c:
			w.mu.Unlock()
			return
		default:
		}
	}
	w.queue = append(w.queue, c)
	w.mu.Unlock()
	w.cond.Signal()
}

// stop ends the watch (the store closed, or the watcher's context).
func (w *memWatcher) stop() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cond.Signal()
}

func (w *memWatcher) pump(ctx context.Context, done func()) {
	defer close(w.ch)
	defer done()
	stop := context.AfterFunc(ctx, w.stop)
	defer stop()
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && !w.closed {
			w.cond.Wait()
		}
		if w.closed {
			w.mu.Unlock()
			return
		}
		c := w.queue[0]
		w.queue = w.queue[1:]
		w.sending = true
		w.mu.Unlock()
		select {
		case w.ch <- c:
		case <-ctx.Done():
			return
		}
		w.mu.Lock()
		w.sending = false
		w.mu.Unlock()
	}
}

// The Store's reads, of the latest state.

// Key returns the key with the given ID (see Memory.Key).
func (s *SharedMemory) Key(ctx context.Context, id string) (Key, error) { return s.mem.Key(ctx, id) }

// Keys lists keys (see Memory.Keys).
func (s *SharedMemory) Keys(ctx context.Context, after string, limit int) ([]Key, error) {
	return s.mem.Keys(ctx, after, limit)
}

// Rotations lists a key's rotations (see Memory.Rotations).
func (s *SharedMemory) Rotations(ctx context.Context, keyID string, from, limit int) ([]Rotation, error) {
	return s.mem.Rotations(ctx, keyID, from, limit)
}

// ScanRotations calls fn for every key's rotations (see Memory.ScanRotations).
func (s *SharedMemory) ScanRotations(ctx context.Context, fn func(keyID string, rotations []Rotation) error) error {
	return s.mem.ScanRotations(ctx, fn)
}

// Aliases lists aliases (see Memory.Aliases).
func (s *SharedMemory) Aliases(ctx context.Context, after AliasID, limit int) ([]Alias, error) {
	return s.mem.Aliases(ctx, after, limit)
}

// Secret returns the root secret (see Memory.Secret).
func (s *SharedMemory) Secret(ctx context.Context) ([]byte, error) { return s.mem.Secret(ctx) }

// CustomKeyStores lists custom key stores (see Memory.CustomKeyStores).
func (s *SharedMemory) CustomKeyStores(ctx context.Context) ([]CustomKeyStore, error) {
	return s.mem.CustomKeyStores(ctx)
}

// Grants calls fn for every grant (see Memory.Grants).
func (s *SharedMemory) Grants(ctx context.Context, fn func(Grant) error) error {
	return s.mem.Grants(ctx, fn)
}

// LatestInstant returns the latest instant written (see Memory.LatestInstant).
func (s *SharedMemory) LatestInstant(ctx context.Context) (time.Time, error) {
	return s.mem.LatestInstant(ctx)
}

// RuleProfile returns the rule profile written (see Memory.RuleProfile).
func (s *SharedMemory) RuleProfile(ctx context.Context) (string, error) {
	return s.mem.RuleProfile(ctx)
}

// Close closes the store and ends every watch.
func (s *SharedMemory) Close() error {
	s.mu.Lock()
	s.closed = true
	ws := slices.Collect(maps.Keys(s.watchers))
	err := s.mem.Close() // under s.mu: no commit or read sees one closed and not the other
	s.mu.Unlock()
	for _, w := range ws {
		w.stop()
	}
	return err
}

// readOnly is a Snapshot's view: a Memory that refuses writes.
type readOnly struct{ *Memory }

// Apply refuses: a snapshot is read-only.
func (readOnly) Apply(context.Context, ...*Batch) error { return ErrReadOnly }

// clone returns a deep copy of m's content.
func (m *Memory) clone() *Memory {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := NewMemory()
	for id, mk := range m.keys {
		k := mk.k
		cloneKey(&k)
		c.keys[id] = &memKey{k: k, rotations: slices.Clone(mk.rotations)}
	}
	maps.Copy(c.aliases, m.aliases)
	maps.Copy(c.stores, m.stores)
	if m.grants != nil {
		c.grants = make(map[GrantID]Grant, len(m.grants))
		for id, g := range m.grants {
			cloneGrant(&g)
			c.grants[id] = g
		}
	}
	if m.secret != nil {
		b := slices.Clone(*m.secret.b)
		c.secret = &secretRef{&b}
	}
	c.now, c.profile = m.now, m.profile
	return c
}
