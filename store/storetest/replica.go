package storetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/store"
)

// Replica is a store's content rebuilt from the Changes of a Shared
// store's Watch, as a service following the store rebuilds it: the suite
// checks Watch with it, and a store's own tests (randomised ones, say) may
// too.
type Replica struct {
	keys      map[string]store.Key
	rotations map[string][]store.Rotation
	aliases   map[store.AliasID]store.Alias
	grants    map[store.GrantID]store.Grant
	stores    map[string]store.CustomKeyStore
	secret    []byte
	now       time.Time
	profile   string
}

// NewReplica returns a Replica holding what s holds: as a rule a
// Snapshot's view, whose revision the watch then starts after.
func NewReplica(t *testing.T, s store.Store) *Replica {
	t.Helper()
	g := dumpGroup(t, s)
	r := &Replica{keys: map[string]store.Key{}, rotations: map[string][]store.Rotation{}, aliases: map[store.AliasID]store.Alias{},
		grants: map[store.GrantID]store.Grant{}, stores: map[string]store.CustomKeyStore{}, secret: g.Secret, now: g.Now}
	for _, k := range g.Keys {
		r.keys[k.ID] = k
	}
	for id, rs := range g.Rotations {
		r.rotations[id] = rs
	}
	for _, a := range g.Aliases {
		r.aliases[a.AliasID] = a
	}
	for _, gr := range g.Grants {
		r.grants[store.GrantID{KeyID: gr.KeyID, GrantID: gr.GrantID}] = gr
	}
	for _, c := range g.Stores {
		r.stores[c.ID] = c
	}
	var err error
	if r.profile, err = s.RuleProfile(t.Context()); err != nil {
		t.Fatalf("RuleProfile: %v", err)
	}
	return r
}

// Replay applies c's records to r, failing t when c carries an error or
// is not in the net-effect form store.Change documents.
func (r *Replica) Replay(t *testing.T, c store.Change) {
	t.Helper()
	if c.Err != nil {
		t.Fatalf("the change at revision %d failed: %v", c.Revision, c.Err)
	}
	b := &c.Batch
	seen := map[string]bool{}
	puts := map[string]bool{}
	for _, k := range b.PutKeys {
		puts[k.ID] = true
	}
	// A key deleted and created again: its deletion first (store.Change).
	for _, id := range b.DeleteKeys {
		if puts[id] {
			r.deleteKey(id)
		}
	}
	for _, k := range b.PutKeys {
		if seen[k.ID] {
			t.Fatalf("revision %d puts key %s twice", c.Revision, k.ID)
		}
		seen[k.ID] = true
		r.keys[k.ID] = k
	}
	for _, kr := range b.AddRotations {
		r.rotations[kr.KeyID] = append(r.rotations[kr.KeyID], kr.Rotation)
	}
	for _, a := range b.PutAliases {
		r.aliases[a.AliasID] = a
	}
	for _, id := range b.DeleteAliases {
		delete(r.aliases, id)
	}
	for _, g := range b.PutGrants {
		r.grants[store.GrantID{KeyID: g.KeyID, GrantID: g.GrantID}] = g
	}
	for _, id := range b.DeleteGrants {
		delete(r.grants, id)
	}
	for _, id := range b.DeleteKeys {
		if !seen[id] {
			r.deleteKey(id)
		}
	}
	for _, cs := range b.PutCustomKeyStores {
		r.stores[cs.ID] = cs
	}
	for _, id := range b.DeleteCustomKeyStores {
		delete(r.stores, id)
	}
	if len(b.PutSecret) > 0 {
		r.secret = b.PutSecret
	}
	if !b.Now.IsZero() {
		r.now = b.Now
	}
	if b.RuleProfile != "" {
		r.profile = b.RuleProfile
	}
}

// deleteKey removes key id with its rotations, aliases and grants.
func (r *Replica) deleteKey(id string) {
	delete(r.keys, id)
	delete(r.rotations, id)
	for aid, a := range r.aliases {
		if a.KeyID == id {
			delete(r.aliases, aid)
		}
	}
	for gid := range r.grants {
		if gid.KeyID == id {
			delete(r.grants, gid)
		}
	}
}

// Check fails t unless r holds what s holds: every record, the secret,
// the latest instant and the rule profile, times in the same locations
// (a Change's records are those the store reads).
func (r *Replica) Check(t *testing.T, what string, s store.Store) {
	t.Helper()
	checkSameZones(t, what, r.state(), dumpGroup(t, s))
	if profile, err := s.RuleProfile(t.Context()); err != nil || r.profile != profile {
		t.Fatalf("%s: rule profile %q, want %q (%v)", what, r.profile, profile, err)
	}
}

// state returns r in dumpGroup's form.
func (r *Replica) state() groupState {
	var g groupState
	g.Rotations = map[string][]store.Rotation{}
	for _, k := range r.keys {
		g.Keys = append(g.Keys, k)
		if rs := r.rotations[k.ID]; len(rs) > 0 {
			g.Rotations[k.ID] = rs
		}
	}
	slices.SortFunc(g.Keys, func(a, b store.Key) int { return cmp.Compare(a.ID, b.ID) })
	for _, a := range r.aliases {
		g.Aliases = append(g.Aliases, a)
	}
	slices.SortFunc(g.Aliases, func(a, b store.Alias) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Account, b.Account), cmp.Compare(a.Name, b.Name))
	})
	for _, gr := range r.grants {
		g.Grants = append(g.Grants, gr)
	}
	slices.SortFunc(g.Grants, compareGrants)
	for _, c := range r.stores {
		g.Stores = append(g.Stores, c)
	}
	slices.SortFunc(g.Stores, func(a, b store.CustomKeyStore) int { return cmp.Compare(a.ID, b.ID) })
	g.Secret, g.Now = r.secret, r.now
	return g
}
