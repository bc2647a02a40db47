package etcdstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kmsmodel/kmsmodel/store"
)

// ErrTooManyOps is returned (wrapped, with the numbers) by Apply and
// ApplyAt when a group needs more operations in one etcd transaction than
// Options.MaxTxnOps, or than the etcd server allows (its --max-txn-ops
// flag): the group writes nothing. Raise both to write larger groups.
var ErrTooManyOps = errors.New("etcdstore: group too large for one etcd transaction (etcd's --max-txn-ops)")

// Apply writes the group bs as one etcd transaction: it reads the records
// the group names, checks each batch against them as the batches before
// it leave them (store.Batch.Validate, ValidateCustomKeyStores,
// ValidateGrants, and the secret's uniqueness), folds the group into its
// net effect and commits it on the condition that none of the records
// read has changed since. When another writer changed one in between, it
// reads them again and retries; it never overwrites a change it did not
// see. It returns the store sentinels wrapped, ErrTooManyOps, ErrClosed,
// or etcd's error.
func (s *Store) Apply(ctx context.Context, bs ...*store.Batch) error {
	_, err := s.apply(ctx, false, 0, bs)
	return err
}

// ApplyAt is Apply for a group computed from the store at revision read
// (store.Shared): it returns an error wrapping store.ErrConflict, and
// writes nothing, when a record the group writes or names was changed or
// deleted by a commit after read, except a key the group creates, which
// need only be absent (store.CreatedKeys). Otherwise it returns the
// revision of its commit (read for a group that writes nothing).
func (s *Store) ApplyAt(ctx context.Context, read int64, bs ...*store.Batch) (int64, error) {
	return s.apply(ctx, true, read, bs)
}

// wanted lists what a group reads.
type wanted struct {
	keys    map[string]bool
	delKeys map[string]bool
	aliases map[store.AliasID]bool
	grants  map[store.GrantID]bool
	stores  map[string]bool
	secret  bool
	// guard: every custom key store's ModRevision is read too
	// (store.Batch.GuardCustomKeyStores).
	guard bool
	// aliasSets: the keys whose aliases a call read (ApplyAt only,
	// store.Batch.ReadKeyAliases), read through their alias index now
	// and at revision read.
	aliasSets map[string]bool
}

func want(bs []*store.Batch, at bool) wanted {
	w := wanted{keys: map[string]bool{}, delKeys: map[string]bool{}, aliases: map[store.AliasID]bool{},
		grants: map[store.GrantID]bool{}, stores: map[string]bool{}, aliasSets: map[string]bool{}}
	for _, b := range bs {
		for _, k := range b.PutKeys {
			w.keys[k.ID] = true
		}
		for _, r := range b.AddRotations {
			w.keys[r.KeyID] = true
		}
		for _, a := range b.PutAliases {
			w.aliases[a.AliasID] = true
			w.keys[a.KeyID] = true
		}
		for _, id := range b.DeleteAliases {
			w.aliases[id] = true
		}
		for _, id := range b.DeleteKeys {
			w.keys[id] = true
			w.delKeys[id] = true
		}
		for _, g := range b.PutGrants {
			w.grants[store.GrantID{KeyID: g.KeyID, GrantID: g.GrantID}] = true
			w.keys[g.KeyID] = true
		}
		for _, id := range b.DeleteGrants {
			w.grants[id] = true
			w.keys[id.KeyID] = true
		}
		if at {
			// What the batch's call read to decide is compared as read
			// too (store.Batch.ReadKeys, ReadGrants, ReadKeyAliases);
			// Apply ignores it.
			for _, id := range b.ReadKeys {
				w.keys[id] = true
			}
			for _, id := range b.ReadGrants {
				w.grants[id] = true
			}
			for _, id := range b.ReadKeyAliases {
				w.aliasSets[id] = true
			}
		}
		for _, c := range b.PutCustomKeyStores {
			w.stores[c.ID] = true
		}
		for _, id := range b.DeleteCustomKeyStores {
			w.stores[id] = true
		}
		w.secret = w.secret || len(b.PutSecret) > 0
		w.guard = w.guard || b.GuardCustomKeyStores
	}
	return w
}

// The group's working state: every record it names, as read (and at
// what ModRevision) and as the group's batches so far leave it.
type keyEntry struct {
	readExists bool
	atRead     bool // it existed at ApplyAt's revision
	readModRev int64
	readRots   uint64
	cur        *store.Key
	put        bool // the record was put since the key was last created
	deleted    bool // the group deleted the key as read
	rots       []store.Rotation
	touched    bool
}

type aliasEntry struct {
	readExists  bool
	atRead      bool
	readKeyID   string
	readModRev  int64 // of the alias record, when read by name
	indexModRev int64 // of its index entry, when read through a deleted key
	cur         *store.Alias
	touched     bool
}

type grantEntry struct {
	readExists bool
	atRead     bool
	readModRev int64 // when read by name
	rangeRev   int64 // when read through a deleted key
	cur        *store.Grant
	touched    bool
}

type storeEntry struct {
	readExists bool
	atRead     bool
	readModRev int64
	cur        *store.CustomKeyStore
	touched    bool
}

type groupState struct {
	rev        int64 // the revision read
	keys       map[string]*keyEntry
	aliases    map[store.AliasID]*aliasEntry
	grants     map[store.GrantID]*grantEntry
	stores     map[string]*storeEntry
	delKeys    []string
	secretRead bool // the secret was read (the group puts one)
	secretHas  bool
	secretRev  int64
	secretPut  []byte
	// guarded: the group guards the custom key stores, the latest of
	// which was written at storesRev (readGroup, ApplyAt only).
	guarded   bool
	storesRev int64
	// aliasSets are the keys whose sets of aliases the group read
	// (wanted.aliasSets), and aliasesAtRead what each was at revision
	// read: their aliases now are in aliases, with indexModRev set.
	aliasSets     []string
	aliasesAtRead map[string][]store.AliasID
	// The latest instant and the rule profile are not read: the group's
	// latest instant and last profile, written under comparisons of the
	// stored values (txnOf).
	now        time.Time
	nowPut     bool
	profile    string
	profileSet bool
	// created holds the keys the group creates (store.CreatedKeys),
	// which ApplyAt checks only for their absence now.
	created map[string]bool
	// written and dropped are the keys whose records the transaction puts
	// (with what keyMetas keeps of them) and deletes (txnOf).
	written map[string]keyMeta
	dropped []string
}

func (s *Store) apply(ctx context.Context, at bool, read int64, bs []*store.Batch) (int64, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("etcdstore: apply: %w", store.ErrClosed)
	}
	group := make([]*store.Batch, 0, len(bs))
	for _, b := range bs {
		if b != nil && !b.Empty() {
			group = append(group, b)
		}
	}
	if len(group) == 0 {
		return read, nil
	}
	// The group's state is assumed when it can be (one round trip), and
	// read otherwise, and again each time another writer changed a record
	// it was computed from.
	created := store.CreatedKeys(group)
	st := s.assume(group, created, at, read)
	var w *wanted // what to read, once a read is needed
	for {
		if st == nil {
			if w == nil {
				ww := want(group, at)
				w = &ww
			}
			var err error
			st, err = s.readGroup(ctx, *w, at, read)
			if at && (errors.Is(err, rpctypes.ErrCompacted) || errors.Is(err, rpctypes.ErrFutureRev)) {
				return 0, fmt.Errorf("etcdstore: revision %d is no longer (or not yet) kept, so changes after it cannot be checked: %w", read, store.ErrConflict)
			}
			if err != nil {
				return 0, s.fail("apply: read", err)
			}
			if at {
				st.created = created
				if err := st.conflicts(read); err != nil {
					return 0, err
				}
			}
			for _, b := range group {
				if err := st.apply(b); err != nil {
					return 0, err
				}
			}
		}
		rev, ok, err := s.commit(ctx, st)
		if err != nil || ok {
			return rev, err
		}
		st = nil // another writer changed a record read or assumed: read again
	}
}

// commit writes the transaction of st (txnOf, and the store's revision
// record) on the condition that the records it was computed from are as
// st has them, and records in keyMetas the keys it wrote. ok is false,
// with a nil error, when that condition failed.
func (s *Store) commit(ctx context.Context, st *groupState) (rev int64, ok bool, err error) {
	cmps, ops, err := s.txnOf(st)
	if err != nil {
		return 0, false, err
	}
	// Every commit writes the store's revision record, even one whose
	// batches leave every record as it was: it is a commit all the
	// same, with a revision of its own (and an empty Change).
	ops = append(ops, clientv3.OpPut(s.l.meta(keyRev), ""))
	if len(cmps) > s.maxOps || len(ops) > s.maxOps {
		return 0, false, fmt.Errorf("etcdstore: the group needs %d comparisons and %d writes in one transaction; Options.MaxTxnOps is %d: %w",
			len(cmps), len(ops), s.maxOps, ErrTooManyOps)
	}
	s.applyRequests.Add(1)
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	switch {
	case errors.Is(err, rpctypes.ErrRequestTooLarge) || status.Code(err) == codes.ResourceExhausted:
		return 0, false, fmt.Errorf("etcdstore: the group's transaction is larger than etcd takes in one request (the server's --max-request-bytes, 1.5 MiB by default): %w", err)
	case errors.Is(err, rpctypes.ErrTooManyOps):
		return 0, false, fmt.Errorf("etcdstore: the group needs %d comparisons and %d writes in one transaction, more than the server allows: %w", len(cmps), len(ops), ErrTooManyOps)
	case err != nil:
		return 0, false, s.fail("apply", err)
	case !resp.Succeeded:
		return 0, false, nil
	}
	s.committed(st, resp.Header.Revision)
	return resp.Header.Revision, true, nil
}

// assume returns the state of a group that only puts and rotates keys
// (and for ApplyAt reads keys, store.Batch.ReadKeys), stores the secret,
// or moves the latest instant or the rule profile, with
// its batches applied, when that state is known without reading it: the
// keys it creates (created, store.CreatedKeys) absent, those it replaces as
// keyMetas last saw them (for ApplyAt, at revision read or before), the
// secret absent. Its transaction commits on the condition that this holds
// (the keys absent, or at the ModRevision seen), so that such a group is
// written in one round trip. assume returns nil when the group is not of
// that kind, names a key whose record is not known (or rotates one it does
// not put), or does not fit the assumed state: apply then reads the
// records, and reports what is wrong or writes the group.
//
// For ApplyAt this checks that the keys created are absent now, not that
// they were absent at read: a group computed from revision read creates a
// key (Version 1) only when it was absent there (store.Shared.ApplyAt).
// A key replaced at the ModRevision seen, no later than read, has not
// changed since read.
func (s *Store) assume(group []*store.Batch, created map[string]bool, at bool, read int64) *groupState {
	st := &groupState{keys: map[string]*keyEntry{}, created: created}
	// name assumes the stored state of a key the group names: absent when
	// the group creates it, else as keyMetas last saw it.
	name := func(id string) bool {
		if st.keys[id] != nil {
			return true
		}
		if created[id] {
			st.keys[id] = &keyEntry{}
			return true
		}
		km, ok := s.keyMetas.get(id)
		if !ok || at && km.modRev > read {
			return false // unknown, or changed after read: the read path says how
		}
		st.keys[id] = &keyEntry{readExists: true, readModRev: km.modRev, readRots: km.rotations,
			cur: &store.Key{ID: id, Version: km.version}}
		return true
	}
	for _, b := range group {
		if len(b.DeleteKeys) > 0 || len(b.PutAliases) > 0 || len(b.DeleteAliases) > 0 || len(b.PutGrants) > 0 ||
			len(b.DeleteGrants) > 0 || len(b.PutCustomKeyStores) > 0 || len(b.DeleteCustomKeyStores) > 0 || b.GuardCustomKeyStores ||
			at && (len(b.ReadGrants) > 0 || len(b.ReadKeyAliases) > 0) {
			return nil
		}
		if at {
			for _, id := range b.ReadKeys {
				if !name(id) {
					return nil
				}
			}
		}
		for i := range b.PutKeys {
			if !name(b.PutKeys[i].ID) {
				return nil
			}
		}
		for _, r := range b.AddRotations {
			if !name(r.KeyID) {
				return nil
			}
		}
	}
	for _, b := range group {
		if st.apply(b) != nil {
			return nil
		}
	}
	for _, e := range st.keys {
		if e.readExists && !e.put && e.touched {
			return nil // rotated but not put: the record's other fields are not known
		}
	}
	return st
}

// committed records in keyMetas the keys that st's transaction, committed
// at revision rev, put and deleted.
func (s *Store) committed(st *groupState, rev int64) {
	for id, km := range st.written {
		km.modRev = rev
		s.keyMetas.put(id, km)
	}
	for _, id := range st.dropped {
		s.keyMetas.drop(id, rev)
	}
}

// readGroup reads every record w names, at one revision; for ApplyAt (at),
// it reads too whether those absent now existed at revision read.
func (s *Store) readGroup(ctx context.Context, w wanted, at bool, read int64) (*groupState, error) {
	st := &groupState{keys: map[string]*keyEntry{}, aliases: map[store.AliasID]*aliasEntry{},
		grants: map[store.GrantID]*grantEntry{}, stores: map[string]*storeEntry{}}
	var ops []clientv3.Op
	var handlers []func(*clientv3.GetResponse) error
	get := func(key string, h func(*clientv3.GetResponse) error, opts ...clientv3.OpOption) {
		ops = append(ops, clientv3.OpGet(key, opts...))
		handlers = append(handlers, h)
	}
	existed := func(key string, flag *bool) {
		if at {
			get(key, func(r *clientv3.GetResponse) error { *flag = r.Count > 0; return nil },
				clientv3.WithRev(read), clientv3.WithCountOnly())
		}
	}
	for _, id := range sortedKeys(w.keys) {
		e := &keyEntry{}
		st.keys[id] = e
		existed(s.l.key(id), &e.atRead)
		get(s.l.key(id), record("key", id, decodeKey, func(rec keyRecord, modRev int64) {
			e.readExists, e.readModRev, e.readRots, e.cur = true, modRev, rec.rotations, &rec.key
		}))
	}
	for _, id := range slices.SortedFunc(maps.Keys(w.aliases), store.AliasID.Compare) {
		e := &aliasEntry{}
		st.aliases[id] = e
		existed(s.l.alias(id), &e.atRead)
		get(s.l.alias(id), record("alias", id.Name, decodeAlias, func(a store.Alias, modRev int64) {
			e.readExists, e.readModRev, e.readKeyID, e.cur = true, modRev, a.KeyID, &a
		}))
	}
	for id := range w.grants {
		e := &grantEntry{}
		st.grants[id] = e
		existed(s.l.grant(id), &e.atRead)
		get(s.l.grant(id), func(r *clientv3.GetResponse) error {
			if len(r.Kvs) == 0 {
				return nil
			}
			e.readExists, e.readModRev = true, r.Kvs[0].ModRevision
			e.cur = &store.Grant{KeyID: id.KeyID, GrantID: id.GrantID}
			return nil
		}, clientv3.WithKeysOnly())
	}
	for id := range w.stores {
		e := &storeEntry{}
		st.stores[id] = e
		existed(s.l.customKeyStore(id), &e.atRead)
		get(s.l.customKeyStore(id), record("custom key store", id, decodeCustomKeyStore, func(c store.CustomKeyStore, modRev int64) {
			e.readExists, e.readModRev, e.cur = true, modRev, &c
		}))
	}
	if w.guard && at {
		st.guarded = true
		get(s.l.customKeyStores(), func(r *clientv3.GetResponse) error {
			for _, kv := range r.Kvs {
				st.storesRev = max(st.storesRev, kv.ModRevision)
			}
			return nil
		}, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	}
	if w.secret {
		st.secretRead = true
		get(s.l.meta(keySecret), func(r *clientv3.GetResponse) error {
			if len(r.Kvs) > 0 {
				st.secretHas, st.secretRev = true, r.Kvs[0].ModRevision
			}
			return nil
		}, clientv3.WithKeysOnly())
	}
	// A key's aliases, through its alias index: those of a deleted key,
	// and those of a key whose aliases a call read (now, and at read).
	eachAlias := func(id string, f func(store.AliasID, int64), opts ...clientv3.OpOption) {
		idx := s.l.indexOf(id)
		get(idx, func(r *clientv3.GetResponse) error {
			for _, kv := range r.Kvs {
				aid, err := parseAliasID(string(kv.Key[len(idx):]))
				if err != nil {
					return fmt.Errorf("alias index of key %s: %w: %w", id, err, store.ErrCorrupt)
				}
				f(aid, kv.ModRevision)
			}
			return nil
		}, append(opts, clientv3.WithPrefix(), clientv3.WithKeysOnly())...)
	}
	index := func(id string) {
		eachAlias(id, func(aid store.AliasID, modRev int64) {
			e := st.aliases[aid]
			if e == nil {
				e = &aliasEntry{readExists: true, readKeyID: id, cur: &store.Alias{AliasID: aid, KeyID: id}}
				st.aliases[aid] = e
			}
			e.indexModRev = modRev
		})
	}
	for _, id := range sortedKeys(w.aliasSets) { // ApplyAt only (want)
		st.aliasSets = append(st.aliasSets, id)
		if st.aliasesAtRead == nil {
			st.aliasesAtRead = map[string][]store.AliasID{}
		}
		index(id)
		eachAlias(id, func(aid store.AliasID, _ int64) { st.aliasesAtRead[id] = append(st.aliasesAtRead[id], aid) }, clientv3.WithRev(read))
	}
	// A deleted key's aliases (through the index) and grants.
	grants := s.l.grants()
	for _, id := range sortedKeys(w.delKeys) {
		st.delKeys = append(st.delKeys, id)
		if !w.aliasSets[id] {
			index(id)
		}
		get(s.l.grantsOf(id), func(r *clientv3.GetResponse) error {
			for _, kv := range r.Kvs {
				gid, err := parseGrantID(string(kv.Key[len(grants):]))
				if err != nil {
					return fmt.Errorf("grant of key %s: %w: %w", id, err, store.ErrCorrupt)
				}
				e := st.grants[gid]
				if e == nil {
					e = &grantEntry{readExists: true, cur: &store.Grant{KeyID: id, GrantID: gid.GrantID}}
					st.grants[gid] = e
				}
				e.rangeRev = kv.ModRevision
			}
			return nil
		}, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	}
	// Handlers run after every response of the read: the index handlers
	// look at entries the by-name handlers filled in, so run those first.
	var resps []*clientv3.GetResponse
	for start := 0; start < len(ops); start += s.maxOps {
		chunk := ops[start:min(start+s.maxOps, len(ops))]
		if start > 0 {
			for i := range chunk {
				chunk[i] = pinned(chunk[i], st.rev)
			}
		}
		s.applyRequests.Add(1)
		resp, err := s.cli.Txn(ctx).Then(chunk...).Commit()
		if err != nil {
			return nil, err
		}
		if start == 0 {
			st.rev = resp.Header.Revision
		}
		for _, r := range resp.Responses {
			resps = append(resps, (*clientv3.GetResponse)(r.GetResponseRange()))
		}
	}
	for i, h := range handlers {
		if err := h(resps[i]); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// record returns readGroup's handler of a Get of one record, the kind
// record named name: when the record exists, it decodes it with decode and
// passes it to found with its ModRevision.
func record[T any](kind, name string, decode func([]byte) (T, error), found func(v T, modRev int64)) func(*clientv3.GetResponse) error {
	return func(r *clientv3.GetResponse) error {
		if len(r.Kvs) == 0 {
			return nil
		}
		v, err := decode(r.Kvs[0].Value)
		if err != nil {
			return fmt.Errorf("%s %s: %w: %w", kind, name, err, store.ErrCorrupt)
		}
		found(v, r.Kvs[0].ModRevision)
		return nil
	}
}

// pinned returns op, a Get, reading at revision rev unless it reads at a
// revision of its own.
func pinned(op clientv3.Op, rev int64) clientv3.Op {
	if op.Rev() != 0 {
		return op
	}
	opts := []clientv3.OpOption{clientv3.WithRev(rev)}
	if end := op.RangeBytes(); len(end) > 0 {
		opts = append(opts, clientv3.WithRange(string(end)))
	}
	if op.IsKeysOnly() {
		opts = append(opts, clientv3.WithKeysOnly())
	}
	if op.IsCountOnly() {
		opts = append(opts, clientv3.WithCountOnly())
	}
	return clientv3.OpGet(string(op.KeyBytes()), opts...)
}

// conflicts returns an error wrapping store.ErrConflict when a record the
// group names changed after revision read (ApplyAt): it was written after
// read, or it existed at read and is gone.
func (st *groupState) conflicts(read int64) error {
	for _, id := range sortedKeys(st.keys) {
		e := st.keys[id]
		// A key the group creates need only be absent now.
		if err := conflict(read, e.readModRev, !e.readExists && e.atRead && !st.created[id], "key", id); err != nil {
			return err
		}
	}
	for id, e := range st.aliases {
		if err := conflict(read, max(e.readModRev, e.indexModRev), !e.readExists && e.atRead, "alias", id.Name+inRegion(id.Region)); err != nil {
			return err
		}
	}
	for id, e := range st.grants {
		if err := conflict(read, max(e.readModRev, e.rangeRev), !e.readExists && e.atRead, "grant", id.GrantID+" of key "+id.KeyID); err != nil {
			return err
		}
	}
	for id, e := range st.stores {
		if err := conflict(read, e.readModRev, !e.readExists && e.atRead, "custom key store", id); err != nil {
			return err
		}
	}
	if st.guarded {
		if err := conflict(read, st.storesRev, false, "custom key store", "(one of them)"); err != nil {
			return err
		}
	}
	// An alias that a key whose aliases were read had at read, and has
	// not now, was moved or deleted since (one put since is newer than
	// read: above).
	for _, id := range st.aliasSets {
		for _, aid := range st.aliasesAtRead[id] {
			if e := st.aliases[aid]; e == nil || e.indexModRev == 0 || e.readKeyID != id {
				return fmt.Errorf("etcdstore: alias %s left key %s after revision %d: %w", aid.Name+inRegion(aid.Region), id, read, store.ErrConflict)
			}
		}
	}
	if st.secretRead {
		return conflict(read, st.secretRev, false, "root", "secret")
	}
	return nil
}

// conflict returns an error wrapping store.ErrConflict when the record
// (kind and name) was written at modRev, after revision read, or when it
// is gone since read.
func conflict(read, modRev int64, gone bool, kind, name string) error {
	switch {
	case modRev > read:
		return fmt.Errorf("etcdstore: %s %s changed after revision %d: %w", kind, name, read, store.ErrConflict)
	case gone:
		return fmt.Errorf("etcdstore: %s %s deleted after revision %d: %w", kind, name, read, store.ErrConflict)
	}
	return nil
}

func inRegion(region string) string {
	if region == "" {
		return ""
	}
	return fmt.Sprintf(" in Region %q", region)
}

// apply checks b against the group's state and applies it there.
func (st *groupState) apply(b *store.Batch) error {
	version := func(id string) (uint64, bool) {
		e := st.keys[id]
		if e == nil || e.cur == nil {
			return 0, false
		}
		return e.cur.Version, true
	}
	aliasExists := func(id store.AliasID) bool { e := st.aliases[id]; return e != nil && e.cur != nil }
	if err := b.Validate(version, aliasExists); err != nil {
		return err
	}
	if err := b.ValidateCustomKeyStores(func(id string) bool { e := st.stores[id]; return e != nil && e.cur != nil }); err != nil {
		return err
	}
	keyExists := func(id string) bool { _, ok := version(id); return ok }
	if err := b.ValidateGrants(keyExists, func(id store.GrantID) bool { e := st.grants[id]; return e != nil && e.cur != nil }); err != nil {
		return err
	}
	if len(b.PutSecret) > 0 {
		if st.secretHas || st.secretPut != nil {
			return fmt.Errorf("root secret: %w", store.ErrExists)
		}
		st.secretPut = slices.Clone(b.PutSecret)
	}
	for _, c := range b.PutCustomKeyStores {
		e := st.stores[c.ID]
		e.cur, e.touched = &c, true
	}
	for _, k := range b.PutKeys {
		e := st.keys[k.ID]
		if e.cur == nil {
			e.rots = nil
		}
		e.cur, e.put, e.touched = &k, true, true
	}
	for _, r := range b.AddRotations {
		e := st.keys[r.KeyID]
		e.rots, e.touched = append(e.rots, r.Rotation), true
	}
	for _, a := range b.PutAliases {
		e := st.aliases[a.AliasID]
		e.cur, e.touched = &a, true
	}
	for _, id := range b.DeleteAliases {
		e := st.aliases[id]
		e.cur, e.touched = nil, true
	}
	for _, g := range b.PutGrants {
		e := st.grants[store.GrantID{KeyID: g.KeyID, GrantID: g.GrantID}]
		e.cur, e.touched = &g, true
	}
	for _, id := range b.DeleteGrants {
		e := st.grants[id]
		e.cur, e.touched = nil, true
	}
	for _, id := range b.DeleteKeys {
		e := st.keys[id]
		e.cur, e.put, e.rots, e.touched = nil, false, nil, true
		e.deleted = e.deleted || e.readExists
		for gid, g := range st.grants {
			if gid.KeyID == id && g.cur != nil {
				g.cur, g.touched = nil, true
			}
		}
		for _, a := range st.aliases {
			if a.cur != nil && a.cur.KeyID == id {
				a.cur, a.touched = nil, true
			}
		}
	}
	for _, id := range b.DeleteCustomKeyStores {
		e := st.stores[id]
		e.cur, e.touched = nil, true
	}
	if b.Now.After(st.now) {
		st.now, st.nowPut = b.Now, true
	}
	if b.RuleProfile != "" && b.RuleProfile != st.profile {
		st.profile, st.profileSet = b.RuleProfile, true
	}
	return nil
}

// same is the comparison that a record read is unchanged.
func same(key string, exists bool, modRev int64) clientv3.Cmp {
	if !exists {
		return clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
	}
	return clientv3.Compare(clientv3.ModRevision(key), "=", modRev)
}

// txnOf returns the transaction of the group's net effect: the
// comparisons that every record read is unchanged, and the writes.
func (s *Store) txnOf(st *groupState) ([]clientv3.Cmp, []clientv3.Op, error) {
	var cmps []clientv3.Cmp
	var ops []clientv3.Op
	st.written, st.dropped = make(map[string]keyMeta, len(st.keys)), nil
	for _, id := range sortedKeys(st.keys) {
		e := st.keys[id]
		k := s.l.key(id)
		cmps = append(cmps, same(k, e.readExists, e.readModRev))
		if !e.touched {
			continue
		}
		if e.cur == nil {
			if e.readExists {
				ops = append(ops, clientv3.OpDelete(k), clientv3.OpDelete(s.l.rotations(id), clientv3.WithPrefix()))
				st.dropped = append(st.dropped, id)
			}
			continue
		}
		base := e.readRots
		if e.deleted || !e.readExists {
			base = 0
		}
		rec := keyRecord{key: *e.cur, rotations: base + uint64(len(e.rots)), put: e.put, recreated: e.deleted}
		ops = append(ops, clientv3.OpPut(k, string(encodeKey(&rec))))
		st.written[id] = keyMeta{version: rec.key.Version, rotations: rec.rotations}
		for i, r := range e.rots {
			ops = append(ops, clientv3.OpPut(s.l.rotation(id, base+uint64(i)), string(encodeRotation(r))))
		}
		if e.deleted && e.readRots > rec.rotations {
			ops = append(ops, clientv3.OpDelete(s.l.rotation(id, rec.rotations),
				clientv3.WithRange(clientv3.GetPrefixRangeEnd(s.l.rotations(id)))))
		}
	}
	for _, id := range st.delKeys {
		cmps = append(cmps,
			clientv3.Compare(clientv3.ModRevision(s.l.indexOf(id)), "<", st.rev+1).WithRange(clientv3.GetPrefixRangeEnd(s.l.indexOf(id))),
			clientv3.Compare(clientv3.ModRevision(s.l.grantsOf(id)), "<", st.rev+1).WithRange(clientv3.GetPrefixRangeEnd(s.l.grantsOf(id))))
	}
	for _, id := range st.aliasSets {
		// No alias put on the key since the group's read (each alias it
		// had then is compared below, through its index entry).
		if !slices.Contains(st.delKeys, id) {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(s.l.indexOf(id)), "<", st.rev+1).WithRange(clientv3.GetPrefixRangeEnd(s.l.indexOf(id))))
		}
	}
	for _, id := range slices.SortedFunc(maps.Keys(st.aliases), store.AliasID.Compare) {
		e := st.aliases[id]
		k := s.l.alias(id)
		if e.readModRev != 0 || !e.readExists {
			cmps = append(cmps, same(k, e.readExists, e.readModRev))
		}
		if e.indexModRev != 0 {
			cmps = append(cmps, same(s.l.index(e.readKeyID, id), true, e.indexModRev))
		}
		if !e.touched {
			continue
		}
		switch {
		case e.cur == nil && e.readExists:
			ops = append(ops, clientv3.OpDelete(k), clientv3.OpDelete(s.l.index(e.readKeyID, id)))
		case e.cur != nil:
			ops = append(ops, clientv3.OpPut(k, string(encodeAlias(e.cur))))
			if !e.readExists || e.readKeyID != e.cur.KeyID {
				ops = append(ops, clientv3.OpPut(s.l.index(e.cur.KeyID, id), ""))
				if e.readExists {
					ops = append(ops, clientv3.OpDelete(s.l.index(e.readKeyID, id)))
				}
			}
		}
	}
	for _, id := range slices.SortedFunc(maps.Keys(st.grants), compareGrantIDs) {
		e := st.grants[id]
		k := s.l.grant(id)
		if e.readModRev != 0 || !e.readExists {
			cmps = append(cmps, same(k, e.readExists, e.readModRev))
		}
		if e.rangeRev != 0 {
			cmps = append(cmps, same(k, true, e.rangeRev))
		}
		if !e.touched {
			continue
		}
		switch {
		case e.cur == nil && e.readExists:
			ops = append(ops, clientv3.OpDelete(k))
		case e.cur != nil:
			ops = append(ops, clientv3.OpPut(k, string(encodeGrant(e.cur))))
		}
	}
	for _, id := range sortedKeys(st.stores) {
		e := st.stores[id]
		k := s.l.customKeyStore(id)
		cmps = append(cmps, same(k, e.readExists, e.readModRev))
		if !e.touched {
			continue
		}
		switch {
		case e.cur == nil && e.readExists:
			ops = append(ops, clientv3.OpDelete(k))
		case e.cur != nil:
			ops = append(ops, clientv3.OpPut(k, string(encodeCustomKeyStore(e.cur))))
		}
	}
	if st.guarded {
		// No custom key store written since the read (a deletion is not
		// seen, and need not be: store.Batch.GuardCustomKeyStores).
		p := s.l.customKeyStores()
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(p), "<", st.rev+1).WithRange(clientv3.GetPrefixRangeEnd(p)))
	}
	if st.secretPut != nil {
		sealed, err := s.seal(keySecret, st.secretPut)
		if err != nil {
			return nil, nil, err
		}
		cmps = append(cmps, same(s.l.meta(keySecret), false, 0))
		ops = append(ops, clientv3.OpPut(s.l.meta(keySecret), string(sealed)))
	}
	// The stored instant is not read: the group's is written when it is
	// later (encodeTime of an instant in UTC sorts as the instant does),
	// or when none is stored (a comparison of a missing key's value
	// fails); the profile when it differs. Concurrent writers do not
	// conflict over them.
	if st.nowPut {
		k, v := s.l.meta(keyNow), string(encodeTime(st.now.UTC()))
		ops = append(ops, clientv3.OpTxn(
			[]clientv3.Cmp{clientv3.Compare(clientv3.Value(k), "<", v)},
			[]clientv3.Op{clientv3.OpPut(k, v)},
			[]clientv3.Op{clientv3.OpTxn([]clientv3.Cmp{same(k, false, 0)}, []clientv3.Op{clientv3.OpPut(k, v)}, nil)}))
	}
	if st.profileSet {
		k := s.l.meta(keyRules)
		ops = append(ops, clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.Value(k), "=", st.profile)},
			nil, []clientv3.Op{clientv3.OpPut(k, st.profile)}))
	}
	return cmps, ops, nil
}

// compareGrantIDs orders grant IDs by key ID, then grant ID.
func compareGrantIDs(a, b store.GrantID) int {
	return cmp.Or(cmp.Compare(a.KeyID, b.KeyID), cmp.Compare(a.GrantID, b.GrantID))
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
