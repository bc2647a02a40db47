package store

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"
)

// Memory is the in-memory Store: the reference implementation, and the way
// to simulate a restart without a disk (open a second service over the same
// Memory). It is safe for concurrent use.
type Memory struct {
	mu        sync.RWMutex
	closed    bool
	keys      map[string]*memKey
	aliases   map[AliasID]Alias
	sortedIDs []string   // key IDs in order; nil when it must be rebuilt
	secret    *secretRef // the root secret; nil if none
	now       time.Time  // the latest Batch.Now applied
	profile   string     // the latest Batch.RuleProfile applied
	stores    map[string]CustomKeyStore
	grants    map[GrantID]Grant
}

// secretRef holds the root secret two pointers away from Memory, so that
// formatting a Memory prints an address rather than the secret: fmt, given
// a verb that does not fit a pointer (%s, %q), prints what one pointer
// leads to, but not further.
type secretRef struct{ b *[]byte }

type memKey struct {
	k         Key
	rotations []Rotation
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	return &Memory{keys: make(map[string]*memKey), aliases: make(map[AliasID]Alias),
		stores: make(map[string]CustomKeyStore)}
}

// Apply writes the batches bs as one group: it checks each batch against
// the current state (and the batches and parts before it) and writes it,
// and when one does not fit it undoes the group's earlier batches, so that
// either all of bs is written or none of it.
func (m *Memory) Apply(_ context.Context, bs ...*Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	var u *memUndo
	if len(bs) > 1 {
		u = &memUndo{now: m.now, profile: m.profile}
	}
	for _, b := range bs {
		if b == nil {
			continue
		}
		if err := m.apply(b, u); err != nil {
			if u != nil {
				m.undo(u)
			}
			return err
		}
	}
	return nil
}

// memUndo records what a group's batches replaced, so that Apply can put it
// back when a later batch of the group does not fit. Each entry holds the
// value before the group's first change of it (later ones are not recorded).
type memUndo struct {
	secret    *secretRef
	secretSet bool
	now       time.Time
	profile   string
	keys      map[string]keyBefore
	aliases   map[AliasID]*Alias
	grants    map[GrantID]*Grant
	stores    map[string]*CustomKeyStore
}

// keyBefore is a key as a group found it: its record (nil: absent), with
// the record's value and the length of its rotation history then.
type keyBefore struct {
	mk   *memKey
	k    Key
	nrot int
}

func (u *memUndo) key(m *Memory, id string) {
	if u == nil {
		return
	}
	if u.keys == nil {
		u.keys = map[string]keyBefore{}
	}
	if _, ok := u.keys[id]; ok {
		return
	}
	kb := keyBefore{mk: m.keys[id]}
	if kb.mk != nil {
		kb.k, kb.nrot = kb.mk.k, len(kb.mk.rotations)
	}
	u.keys[id] = kb
}

func (u *memUndo) alias(m *Memory, id AliasID) {
	if u != nil {
		recordBefore(&u.aliases, m.aliases, id)
	}
}

func (u *memUndo) grant(m *Memory, id GrantID) {
	if u != nil {
		recordBefore(&u.grants, m.grants, id)
	}
}

func (u *memUndo) store(m *Memory, id string) {
	if u != nil {
		recordBefore(&u.stores, m.stores, id)
	}
}

// recordBefore records in *before the value records[id] has before a
// group's first change of it (nil: absent), unless one is recorded.
func recordBefore[K comparable, V any](before *map[K]*V, records map[K]V, id K) {
	if *before == nil {
		*before = map[K]*V{}
	}
	if _, ok := (*before)[id]; ok {
		return
	}
	var old *V
	if v, ok := records[id]; ok {
		old = &v
	}
	(*before)[id] = old
}

// putBack restores records to what before recorded.
func putBack[K comparable, V any](records map[K]V, before map[K]*V) {
	for id, v := range before {
		if v == nil {
			delete(records, id)
		} else {
			records[id] = *v
		}
	}
}

// undo puts back everything u recorded.
func (m *Memory) undo(u *memUndo) {
	if u.secretSet {
		m.secret = u.secret
	}
	m.now, m.profile = u.now, u.profile
	for id, kb := range u.keys {
		if kb.mk == nil {
			delete(m.keys, id)
			continue
		}
		kb.mk.k, kb.mk.rotations = kb.k, kb.mk.rotations[:kb.nrot]
		m.keys[id] = kb.mk
	}
	m.sortedIDs = nil
	putBack(m.aliases, u.aliases)
	putBack(m.grants, u.grants)
	putBack(m.stores, u.stores)
}

// apply checks b against the current state and writes it, recording in u
// (when not nil) what it replaces. A batch that does not fit writes
// nothing.
func (m *Memory) apply(b *Batch, u *memUndo) error {
	if err := b.Validate(m.lookupKey, m.aliasExists); err != nil {
		return err
	}
	if err := b.ValidateCustomKeyStores(func(id string) bool { _, ok := m.stores[id]; return ok }); err != nil {
		return err
	}
	if err := b.ValidateGrants(func(id string) bool { _, ok := m.keys[id]; return ok },
		func(g GrantID) bool { _, ok := m.grants[g]; return ok }); err != nil {
		return err
	}
	if len(b.PutSecret) > 0 && m.secret != nil {
		return fmt.Errorf("root secret: %w", ErrExists)
	}
	if len(b.PutSecret) > 0 {
		if u != nil && !u.secretSet {
			u.secret, u.secretSet = m.secret, true
		}
		secret := slices.Clone(b.PutSecret)
		m.secret = &secretRef{&secret}
	}
	for _, c := range b.PutCustomKeyStores {
		u.store(m, c.ID)
		m.stores[c.ID] = c
	}
	for _, k := range b.PutKeys {
		u.key(m, k.ID)
		cloneKey(&k)
		if mk := m.keys[k.ID]; mk != nil {
			mk.k = k
		} else {
			m.keys[k.ID] = &memKey{k: k}
			m.sortedIDs = nil
		}
	}
	for _, r := range b.AddRotations {
		u.key(m, r.KeyID)
		mk := m.keys[r.KeyID]
		mk.rotations = append(mk.rotations, r.Rotation)
	}
	for _, a := range b.PutAliases {
		u.alias(m, a.AliasID)
		m.aliases[a.AliasID] = a
	}
	for _, id := range b.DeleteAliases {
		u.alias(m, id)
		delete(m.aliases, id)
	}
	for _, g := range b.PutGrants {
		if m.grants == nil {
			m.grants = make(map[GrantID]Grant)
		}
		id := GrantID{g.KeyID, g.GrantID}
		u.grant(m, id)
		cloneGrant(&g)
		m.grants[id] = g
	}
	for _, id := range b.DeleteGrants {
		u.grant(m, id)
		delete(m.grants, id)
	}
	for _, id := range b.DeleteKeys {
		u.key(m, id)
		delete(m.keys, id)
		m.sortedIDs = nil
		for gid := range m.grants {
			if gid.KeyID == id {
				u.grant(m, gid)
				delete(m.grants, gid)
			}
		}
		for aid, a := range m.aliases {
			if a.KeyID == id {
				u.alias(m, aid)
				delete(m.aliases, aid)
			}
		}
	}
	for _, id := range b.DeleteCustomKeyStores {
		u.store(m, id)
		delete(m.stores, id)
	}
	if b.Now.After(m.now) {
		m.now = b.Now.Round(0).UTC()
	}
	if b.RuleProfile != "" {
		m.profile = b.RuleProfile
	}
	return nil
}

// cloneKey gives k its own copies of its slices, so that the store and its
// callers never share them.
func cloneKey(k *Key) {
	k.Tags, k.ImportedMaterial, k.Material, k.PublicKey = slices.Clone(k.Tags), slices.Clone(k.ImportedMaterial), slices.Clone(k.Material), slices.Clone(k.PublicKey)
	if k.Materials != nil {
		k.Materials = slices.Clone(k.Materials)
		for i := range k.Materials {
			k.Materials[i].Sealed = slices.Clone(k.Materials[i].Sealed)
		}
	}
}

// cloneGrant gives g its own copies of its slice and maps, so that the
// store and its callers never share them.
func cloneGrant(g *Grant) {
	g.Operations = slices.Clone(g.Operations)
	g.EncryptionContextEquals, g.EncryptionContextSubset = maps.Clone(g.EncryptionContextEquals), maps.Clone(g.EncryptionContextSubset)
}

func (m *Memory) lookupKey(id string) (uint64, bool) {
	mk := m.keys[id]
	if mk == nil {
		return 0, false
	}
	return mk.k.Version, true
}

func (m *Memory) aliasExists(id AliasID) bool {
	_, ok := m.aliases[id]
	return ok
}

// Key returns the key with the given ID.
func (m *Memory) Key(_ context.Context, id string) (Key, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Key{}, ErrClosed
	}
	mk := m.keys[id]
	if mk == nil {
		return Key{}, fmt.Errorf("key %s: %w", id, ErrNotFound)
	}
	k := mk.k
	cloneKey(&k)
	return k, nil
}

// Keys returns up to limit keys whose IDs sort after after, in ID order.
func (m *Memory) Keys(_ context.Context, after string, limit int) ([]Key, error) {
	m.mu.Lock() // may rebuild sortedIDs
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if m.sortedIDs == nil {
		m.sortedIDs = make([]string, 0, len(m.keys))
		for id := range m.keys {
			m.sortedIDs = append(m.sortedIDs, id)
		}
		slices.Sort(m.sortedIDs)
	}
	i := sort.SearchStrings(m.sortedIDs, after)
	if i < len(m.sortedIDs) && m.sortedIDs[i] == after {
		i++
	}
	var out []Key
	for ; i < len(m.sortedIDs) && len(out) < max(limit, 0); i++ {
		k := m.keys[m.sortedIDs[i]].k
		cloneKey(&k)
		out = append(out, k)
	}
	return out, nil
}

// Rotations returns up to limit rotations of a key from index from.
func (m *Memory) Rotations(_ context.Context, keyID string, from, limit int) ([]Rotation, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	mk := m.keys[keyID]
	if mk == nil {
		return nil, fmt.Errorf("key %s: %w", keyID, ErrNotFound)
	}
	if from < 0 || from >= len(mk.rotations) || limit <= 0 {
		return nil, nil
	}
	end := from + min(limit, len(mk.rotations)-from)
	return slices.Clone(mk.rotations[from:end]), nil
}

// ScanRotations calls fn with every key's history, in key ID order.
func (m *Memory) ScanRotations(_ context.Context, fn func(keyID string, rotations []Rotation) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	ids := make([]string, 0, len(m.keys))
	for id, mk := range m.keys {
		if len(mk.rotations) > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := fn(id, slices.Clone(m.keys[id].rotations)); err != nil {
			return err
		}
	}
	return nil
}

// Aliases returns up to limit aliases after after, by Region, then account,
// then name.
func (m *Memory) Aliases(_ context.Context, after AliasID, limit int) ([]Alias, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	if limit <= 0 {
		return nil, nil
	}
	var all []Alias
	for id, a := range m.aliases {
		if id.Compare(after) > 0 {
			all = append(all, a)
		}
	}
	slices.SortFunc(all, func(a, b Alias) int { return a.AliasID.Compare(b.AliasID) })
	if len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

// Secret returns the stored root secret, or ErrNotFound.
func (m *Memory) Secret(context.Context) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	if m.secret == nil {
		return nil, fmt.Errorf("root secret: %w", ErrNotFound)
	}
	return slices.Clone(*m.secret.b), nil
}

// CustomKeyStores returns every custom key store, in ID order.
func (m *Memory) CustomKeyStores(context.Context) ([]CustomKeyStore, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	var out []CustomKeyStore
	for _, c := range m.stores {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b CustomKeyStore) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Grants calls fn for every grant, by key record ID then grant ID.
func (m *Memory) Grants(_ context.Context, fn func(Grant) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	ids := slices.SortedFunc(maps.Keys(m.grants), func(a, b GrantID) int {
		return cmp.Or(cmp.Compare(a.KeyID, b.KeyID), cmp.Compare(a.GrantID, b.GrantID))
	})
	for _, id := range ids {
		g := m.grants[id]
		cloneGrant(&g) // fn gets its own copies, as from a store on disk
		if err := fn(g); err != nil {
			return err
		}
	}
	return nil
}

// LatestInstant returns the latest Batch.Now applied, or the zero time.
func (m *Memory) LatestInstant(context.Context) (time.Time, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return time.Time{}, ErrClosed
	}
	return m.now, nil
}

// RuleProfile returns the latest Batch.RuleProfile applied, or "".
func (m *Memory) RuleProfile(context.Context) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return "", ErrClosed
	}
	return m.profile, nil
}

// Close marks the store closed. It is idempotent.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// Compare orders alias IDs by Region, then account, then name, each in
// byte order (the empty Region first): it returns -1, 0 or +1 as a sorts
// before, with or after b.
func (a AliasID) Compare(b AliasID) int {
	if c := cmp.Compare(a.Region, b.Region); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Account, b.Account); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// Validate checks b against a store's current state, simulating the batch's
// own effects in order, and returns the first misfit: ErrExists,
// ErrConflict or ErrNotFound, wrapped with the record's name. version
// reports a stored key's Version; aliasExists whether an alias is stored.
// Store implementations call it, inside their write transaction, before
// writing anything.
func (b *Batch) Validate(version func(id string) (uint64, bool), aliasExists func(AliasID) bool) error {
	if b == nil {
		return nil
	}
	// Effects of the batch so far: key versions put, keys deleted, aliases.
	put := map[string]uint64{}
	keyVersion := func(id string) (uint64, bool) {
		if v, ok := put[id]; ok {
			return v, v != 0
		}
		return version(id)
	}
	for _, k := range b.PutKeys {
		if k.ID == "" {
			return fmt.Errorf("key with empty ID: %w", ErrNotFound)
		}
		old, exists := keyVersion(k.ID)
		switch {
		case k.Version == 1 && exists:
			return fmt.Errorf("key %s: %w", k.ID, ErrExists)
		case k.Version != 1 && !exists:
			return fmt.Errorf("key %s (version %d): %w", k.ID, k.Version, ErrNotFound)
		case k.Version != 1 && k.Version != old+1:
			return fmt.Errorf("key %s: stored version %d, batch writes %d: %w", k.ID, old, k.Version, ErrConflict)
		}
		put[k.ID] = k.Version
	}
	for _, r := range b.AddRotations {
		if _, ok := keyVersion(r.KeyID); !ok {
			return fmt.Errorf("rotation of key %s: %w", r.KeyID, ErrNotFound)
		}
	}
	aliases := map[AliasID]bool{}
	for _, a := range b.PutAliases {
		if a.Name == "" { // it would sort before every listing's start
			return fmt.Errorf("alias with an empty name (Region %q, account %q): %w", a.Region, a.Account, ErrNotFound)
		}
		if _, ok := keyVersion(a.KeyID); !ok {
			return fmt.Errorf("alias %s%s of key %s: %w", a.Name, inRegion(a.Region), a.KeyID, ErrNotFound)
		}
		aliases[a.AliasID] = true
	}
	for _, id := range b.DeleteAliases {
		live, seen := aliases[id]
		if seen && !live || !seen && !aliasExists(id) {
			return fmt.Errorf("alias %s%s: %w", id.Name, inRegion(id.Region), ErrNotFound)
		}
		aliases[id] = false
	}
	for _, id := range b.DeleteKeys {
		if _, ok := keyVersion(id); !ok {
			return fmt.Errorf("key %s: %w", id, ErrNotFound)
		}
		put[id] = 0
	}
	return nil
}

// inRegion is the part of an error message that names an alias's Region:
// none for the default Region.
func inRegion(region string) string {
	if region == "" {
		return ""
	}
	return fmt.Sprintf(" in Region %q", region)
}
