package kms

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
	"github.com/kmsmodel/kmsmodel/store"
)

// Open returns a Service whose state is persisted in st: it reads every
// key, rotation and alias from st, rebuilds the schedule (so that rotations,
// on-demand completions and deletions still fire at their instants), and
// from then on writes every change through st, one batch per operation or
// scheduled event.
//
// Concurrent calls share store writes (group commit): a call makes its
// change, queues its batch and waits, without holding the service, while
// one of the waiting calls writes every queued batch in one store Apply
// (one fsync for boltstore). What the service guarantees its callers:
//
//   - a call returns only once its change is durable;
//   - a call that saw a change another call made (a read, or a write on
//     top of it) returns only once that change is durable too, so no
//     caller acts on state a crash would undo;
//   - the store receives the changes in the order the service made them;
//   - a group the store refuses fails every call in it, and every call
//     that made or saw a change queued after it, with KMSInternalException
//     wrapping the store's error, and the service's state becomes what the
//     store holds, as if none of those calls had happened (the service
//     reloads it from the store; if that fails too, every later call fails
//     with KMSInternalException).
//
// Events whose instants passed while the service was closed are applied,
// in time order, by the first call (or Sweep).
//
// Every write records the service's latest instant in the store
// (store.Batch.Now), and so does a Sweep that moved time on. Open fails
// with an error wrapping ErrClockBackwards when the clock reads an instant
// before the latest one st recorded: a service's time never goes
// backwards, across restarts too. A program with a ManualClock starts it
// at st.LatestInstant (or later) to resume where the store left off.
//
// Records of the default Region's keys, aliases and custom key stores name
// no Region (as records written before Regions were recorded), so that a
// service that uses one Region writes what it always did: opened with
// another WithRegion, the store's default-Region content is that Region's.
// Replicas always name their Region.
//
// The store records the rule profile (WithRules) it is written under, with
// the service's first write. Open fails with an error wrapping
// ErrRulesMismatch when st was written under another profile (a store
// with content and no recorded profile was written under Rules2024),
// unless WithRulesUpgrade allows going from Rules2024 to RulesCurrent
// (decision D36).
func Open(ctx context.Context, st store.Store, opts ...Option) (*Service, error) {
	s := New(opts...)
	s.st = st
	// The profile first: a store of another profile is not read at all.
	profile, err := st.RuleProfile(ctx)
	if err != nil {
		return nil, fmt.Errorf("kms: loading the store: %w", err)
	}
	if profile != "" {
		if err := s.checkProfile(profile, false); err != nil {
			return nil, err
		}
	}
	if sh, ok := st.(store.Shared); ok {
		err = s.openShared(ctx, sh)
	} else {
		err = s.load(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("kms: loading the store: %w", err)
	}
	latest, err := st.LatestInstant(ctx)
	if err != nil {
		return nil, fmt.Errorf("kms: loading the store: %w", err)
	}
	if profile == "" {
		if err := s.checkProfile("", s.seq == 0 && s.root == nil && latest.IsZero() && len(s.stores) == 0); err != nil {
			return nil, err
		}
	}
	if !latest.IsZero() {
		if s.cl != nil {
			s.follow(latest) // a cluster has one simulated clock
		}
		if now := s.cfg.clock.Now(); now.UnixMicro() < latest.UnixMicro() {
			return nil, fmt.Errorf("kms: the clock reads %s, before %s, the latest instant the store recorded; "+
				"start the clock at or after it: %w", now.UTC().Format(time.RFC3339Nano), latest.UTC().Format(time.RFC3339Nano), ErrClockBackwards)
		}
		s.last = max(s.last, latest.UnixMicro())
		s.saved = s.last
	}
	return s, nil
}

// Close closes the service's store, if it has one. Afterwards every call
// fails with KMSInternalException wrapping store.ErrClosed. Close is
// idempotent.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if s.st == nil {
		return nil
	}
	// Write what calls in progress logged (they wait for it): once it is
	// resolved no group is being written, and no call logs another.
	_ = s.sync()
	if s.cl != nil {
		s.cl.stop()
	}
	return s.st.Close()
}

const loadPage = 1024

func (s *Service) load(ctx context.Context) error {
	if err := s.loadRootSecret(ctx); err != nil {
		return err
	}
	if err := s.loadStores(ctx); err != nil {
		return err
	}
	after := ""
	primaries := map[string]string{} // multi-Region key ID → its primary's Region, as recorded
	byRecord := map[string]*key{}    // every key by its record ID, for its grants
	for {
		page, err := s.st.Keys(ctx, after, loadPage)
		if err != nil {
			return err
		}
		for i := range page {
			k, doc, err := s.keyFromRecord(&page[i])
			if err != nil {
				return err
			}
			if s.regions[k.region].keys.get(k.id) != nil {
				return fmt.Errorf("key %s appears twice in Region %s: %w", k.id, s.regions[k.region].name, store.ErrCorrupt)
			}
			p := s.addKey(k)
			byRecord[page[i].ID] = p
			s.setPolicy(p, doc, page[i].PolicyBinding)
			if id := page[i].CustomKeyStoreID; id != "" {
				cs := s.stores[id]
				if cs == nil {
					return fmt.Errorf("key %s names missing custom key store %s: %w", p.id, id, store.ErrCorrupt)
				}
				p.ck = &cksRef{store: cs, xksKeyID: page[i].XksKeyID}
				cs.keys = append(cs.keys, p)
			}
			if p.kind.MultiRegion != keystate.SingleRegion && page[i].PrimaryRegion == s.regions[p.region].name {
				primaries[p.id] = page[i].PrimaryRegion
			}
			s.seq = max(s.seq, p.seq)
		}
		if len(page) < loadPage {
			break
		}
		after = page[len(page)-1].ID
	}
	for _, r := range s.regions {
		slices.SortFunc(r.order, func(i, j uint32) int {
			a, b := s.keyAt(i), s.keyAt(j)
			return compareOrder(a.seq, a.id, b.seq, b.id)
		})
	}
	for _, cs := range s.stores {
		slices.SortFunc(cs.keys, func(a, b *key) int { return compareOrder(a.seq, a.id, b.seq, b.id) })
	}
	if err := s.linkFamilies(primaries); err != nil {
		return err
	}
	if err := s.loadGrants(ctx, func(id string) *key { return byRecord[id] }); err != nil {
		return err
	}
	for _, chunk := range s.slab {
		for i := range chunk {
			s.requeue(&chunk[i])
		}
	}
	err := s.st.ScanRotations(ctx, func(id string, rs []store.Rotation) error {
		k := s.loadedKey(id)
		if k == nil {
			return fmt.Errorf("rotations of missing key %s: %w", id, store.ErrCorrupt)
		}
		k.rotations = rotationsOf(k, rs)
		return nil
	})
	if err != nil {
		return err
	}
	var afterAlias store.AliasID
	for {
		page, err := s.st.Aliases(ctx, afterAlias, loadPage)
		if err != nil {
			return err
		}
		for i := range page {
			if err := s.aliasFromRecord(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < loadPage {
			break
		}
		afterAlias = page[len(page)-1].AliasID
	}
	return nil
}

// keyFromRecord checks key record r's sealed material and makes the key
// and its key policy (nil: the default) from it.
func (s *Service) keyFromRecord(r *store.Key) (key, *policy.Document, error) {
	if err := s.checkImported(r); err != nil {
		return key{}, nil, err
	}
	k, err := s.fromRecord(r)
	if err != nil {
		return key{}, nil, err
	}
	var doc *policy.Document
	if r.Policy != "" {
		if doc, err = policy.Parse(r.Policy); err != nil {
			return key{}, nil, fmt.Errorf("key %s: its key policy: %w: %w", r.ID, err, store.ErrCorrupt)
		}
	}
	return k, doc, nil
}

// aliasFromRecord installs alias record a, in place of the alias of that
// name if there is one.
func (s *Service) aliasFromRecord(a *store.Alias) error {
	k := s.loadedKey(a.KeyID)
	if k == nil {
		return fmt.Errorf("alias %s names missing key %s: %w", a.Name, a.KeyID, store.ErrCorrupt)
	}
	r := s.regions[k.region]
	if a.Region != "" && a.Region != r.name || a.Region == "" && k.region != 0 {
		return fmt.Errorf("alias %s in Region %q names key %s of Region %s: %w", a.Name, a.Region, a.KeyID, r.name, store.ErrCorrupt)
	}
	r.putAlias(aliasID{account: a.Account, name: a.Name}, &alias{name: a.Name, account: a.Account, target: k,
		created: micros(a.Created), updated: micros(a.Updated), region: a.Region})
	return nil
}

// rotationsOf is k's rotation history from its stored rotations.
func rotationsOf(k *key, rs []store.Rotation) []rotation {
	out := make([]rotation, len(rs))
	for i, r := range rs {
		out[i] = newRotation(k.created, micros(r.At), r.OnDemand)
	}
	return out
}

// loadedKey finds a key by its store ID while loading.
func (s *Service) loadedKey(storeID string) *key {
	if i := strings.IndexByte(storeID, '/'); i >= 0 {
		if r := s.findRegion(storeID[:i]); r != nil {
			if k := r.keys.get(storeID[i+1:]); k != nil && k.replicated {
				return k
			}
		}
		return nil
	}
	for _, r := range s.regions {
		if k := r.keys.get(storeID); k != nil && !k.replicated {
			return k
		}
	}
	return nil
}

// requeue queues the events a loaded key is waiting for.
func (s *Service) requeue(k *key) {
	if k.autoEnabled && k.nextRotation != 0 && owns(k) {
		s.schedule(k.nextRotation, k, evAutoRotation)
	}
	if k.onDemandStart != 0 && owns(k) {
		s.schedule(k.onDemandDone, k, evOnDemandDone)
	}
	switch {
	case k.state == keystate.Creating && k.deletion != 0:
		s.schedule(k.deletion, k, evReplicaReady)
	case k.state == keystate.Updating && k.deletion != 0:
		s.schedule(k.deletion, k, evUpdateDone)
	}
	if k.state == keystate.PendingDeletion {
		s.schedule(k.deletion, k, evDeletion)
	}
	s.scheduleExpiries(k, k.imp)
}

// scheduleExpiries queues the expiry of each of imp's materials, for k.
// An instant queued twice is applied once (evMaterialExpiry checks what
// expires).
func (s *Service) scheduleExpiries(k *key, imp *imported) {
	expiries(imp, func(at int64) { s.schedule(at, k, evMaterialExpiry) })
}

// expiries calls f with each instant at which one of imp's materials
// expires (what scheduleExpiries queues).
func expiries(imp *imported, f func(at int64)) {
	if imp.expires() {
		f(imp.validTo)
	}
	if imp != nil && imp.more != nil {
		for _, m := range imp.more.all() {
			if m.sealed != nil && m.validTo != 0 && m.validTo != imp.validTo {
				f(m.validTo)
			}
		}
	}
}

// newExpiries reports whether imp's materials expire at an instant at
// which old's do not: the events queued for old serve every other (an
// expiry event looks at the key's materials when it fires).
func newExpiries(old, imp *imported) bool {
	var had []int64
	expiries(old, func(at int64) { had = append(had, at) })
	found := true
	expiries(imp, func(at int64) { found = found && slices.Contains(had, at) })
	return !found
}

// commitKey makes the change from k to nk: it writes nk (and the rotations
// it added) to the store, if there is one, then installs nk in place of k
// and queues what the change scheduled. It returns the rotations added. On
// a store failure nothing changes and the error is returned.
func (s *Service) commitKey(k, nk *key) ([]rotation, error) {
	if owns(k) {
		s.syncDrafts(k, nk)
	}
	others := s.others
	s.others = s.others[:0]
	added := nk.rotations[len(k.rotations):]
	if s.st != nil {
		nk.version = k.version + 1
		b := store.Batch{PutKeys: []store.Key{s.toRecord(nk)}, AddRotations: s.rotationRecords(nk, added)}
		for _, o := range others {
			o.nk.version = o.k.version + 1
			b.PutKeys = append(b.PutKeys, s.toRecord(o.nk))
			b.AddRotations = append(b.AddRotations, s.rotationRecords(o.nk, o.nk.rotations[len(o.k.rotations):])...)
		}
		if p := s.newPrimary; p != nil {
			for i := range b.PutKeys {
				b.PutKeys[i].PrimaryRegion = s.regions[p.region].name
			}
		}
		if err := s.persist(&b); err != nil {
			s.newPrimary = nil
			return nil, err
		}
	}
	s.install(k, nk)
	for _, o := range others {
		s.install(o.k, o.nk)
	}
	if p := s.newPrimary; p != nil {
		// UpdatePrimaryRegion: the new primary owns the family's rotation
		// from now on; the old primary's queued rotation events go stale.
		s.newPrimary = nil
		p.fam.primary = p
		if p.autoEnabled {
			s.schedule(p.nextRotation, p, evAutoRotation)
		}
		if p.onDemandStart != 0 {
			s.schedule(p.onDemandDone, p, evOnDemandDone)
		}
	}
	return added, nil
}

// install copies nk over k and queues the events the change scheduled. The
// queue holds k itself, so entries stay valid across installs.
func (s *Service) install(k, nk *key) {
	if nk.autoEnabled && owns(k) && (nk.nextRotation != k.nextRotation || rotates(nk) && !rotates(k)) {
		// Also when the key comes back to a state that rotates: the
		// event may have fired, and been dropped, in the other (D12;
		// another node's EnableKey made before the date, say).
		s.schedule(nk.nextRotation, k, evAutoRotation)
	}
	if nk.state == keystate.PendingDeletion && nk.deletion != k.deletion {
		s.schedule(nk.deletion, k, evDeletion)
	}
	if nk.onDemandStart != 0 && nk.onDemandDone != k.onDemandDone && owns(k) {
		s.schedule(nk.onDemandDone, k, evOnDemandDone)
	}
	if nk.imp != k.imp && newExpiries(k.imp, nk.imp) {
		// Only new instants: another node's write of the key's record
		// (its description, say) brings the same materials anew, and
		// queueing their expiries again at each would grow the queue.
		s.scheduleExpiries(k, nk.imp)
	}
	if nk.deletion != 0 && nk.deletion != k.deletion {
		switch nk.state {
		case keystate.Creating:
			s.schedule(nk.deletion, k, evReplicaReady)
		case keystate.Updating:
			s.schedule(nk.deletion, k, evUpdateDone)
		}
	}
	*k = *nk
}

// rotates reports whether k's state lets automatic rotation happen (D12):
// Enabled, or Updating (UpdatePrimaryRegion keeps crypto working).
func rotates(k *key) bool { return k.state == keystate.Enabled || k.state == keystate.Updating }

// persist logs b to be written, if the service has a store, with the
// service's latest instant as its Now (when it moved since the last
// batch), so that the store always knows the latest instant its content
// was written at (see Open). The caller makes b's change in memory and
// must not change b afterwards; the call waits for b to be durable when it
// ends (end, group commit), and fails there if b could not be written. It
// returns an error only when the service is broken (see undoGroups); then
// the change must not be made.
func (s *Service) persist(b *store.Batch) error {
	if s.st == nil {
		return nil
	}
	if s.broken != nil {
		return s.broken
	}
	if s.last > s.saved {
		b.Now = fromMicros(s.last)
		s.saved = s.last
	}
	if s.cl != nil {
		if len(s.log) == 0 {
			s.cl.logRead = s.cl.applied.Load()
		}
		s.nameReads(b)
	}
	if !s.profileSaved {
		b.RuleProfile = s.cfg.rules.String()
		s.profileSaved = true
	}
	s.log = append(s.log, b)
	s.logged++
	return nil
}

// internalError is the KMSInternalException for a store failure.
func internalError(op keystate.Operation, arn string, st keystate.State, err error) error {
	return &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: st, Err: err,
		Message: "The request failed because of an internal error: " + err.Error()}
}

func (s *Service) toRecord(k *key) store.Key {
	r := store.Key{
		ID: s.storeID(k), Region: s.recordRegion(k.region), Version: k.version, Seq: k.seq, Account: k.account, Description: k.description(),
		State: k.state, Kind: k.kind, Created: optTime(k.created),
		AutoRotation: k.autoEnabled, RotationPeriodDays: k.period,
		RotationAnchor: optTime(k.anchor), NextRotation: optTime(k.nextRotation),
		OnDemandRotations: k.onDemand, OnDemandStart: optTime(k.onDemandStart), OnDemandDone: optTime(k.onDemandDone),
		PendingWindowDays: k.window,
		DesiredState:      k.desired,
	}
	if k.ck != nil {
		r.CustomKeyStoreID, r.XksKeyID = k.ck.store.id, k.ck.xksKeyID
	}
	if k.replicated {
		r.Region = s.regions[k.region].name // as in its ID, even in the default Region
	}
	if k.kind.MultiRegion != keystate.SingleRegion {
		r.PrimaryRegion = s.regions[s.primaryOf(k).region].name
	}
	switch k.state {
	case keystate.PendingDeletion:
		r.DeletionDate = optTime(k.deletion)
	case keystate.Creating, keystate.Updating:
		r.StateDone = optTime(k.deletion)
	}
	if tags := k.tags(); len(tags) > 0 {
		r.Tags = make([]store.Tag, len(tags))
		for i, t := range tags {
			r.Tags[i] = store.Tag{Key: t.TagKey, Value: t.TagValue}
		}
	}
	r.Policy = s.policyText(k)
	r.PolicyBinding = s.policyBindingOf(k, r.Policy)
	if k.imp != nil && k.kind.Origin == keystate.AWSKMS {
		// An asymmetric or HMAC key's generated material.
		r.Material = k.imp.sealed // sealed; never changed in place
	} else if k.imp != nil {
		r.KeyMaterialID, r.PublicKey = k.imp.id, k.imp.public
		if k.imp.sealed != nil {
			r.ImportedMaterial = k.imp.sealed // sealed; never changed in place
			r.ExpirationModel = k.imp.model()
			r.ValidTo = optTime(k.imp.validTo)
		}
		if mm := k.imp.more; mm != nil {
			r.KeyMaterialDescription = mm.desc
			for _, m := range mm.all() {
				r.Materials = append(r.Materials, store.KeyMaterial{ID: m.id, Sealed: m.sealed, ValidTo: optTime(m.validTo),
					Description: m.desc, Pending: m == mm.pending, Rotating: m.rotating})
			}
		}
	}
	return r
}

// fromRecord builds a key from its record, in the Region the record names
// (the default Region when it names none). It fails when the Region is not
// a Region name, or the record ID does not fit its key.
func (s *Service) fromRecord(r *store.Key) (key, error) {
	id, replicated := r.ID, false
	if i := strings.IndexByte(id, '/'); i >= 0 {
		if r.Region != id[:i] || !isKeyID(id[i+1:]) {
			return key{}, fmt.Errorf("key record %s in Region %q: %w", r.ID, r.Region, store.ErrCorrupt)
		}
		id, replicated = id[i+1:], true
	}
	rg := s.regions[0]
	if r.Region != "" {
		if rg = s.regionNamed(r.Region); rg == nil {
			return key{}, fmt.Errorf("key record %s names Region %q: %w", r.ID, r.Region, store.ErrCorrupt)
		}
	}
	k := key{
		id: id, replicated: replicated, region: rg.index, version: r.Version, seq: r.Seq, account: r.Account,
		state: r.State, kind: r.Kind, created: micros(r.Created),
		autoEnabled: r.AutoRotation, period: r.RotationPeriodDays,
		anchor: micros(r.RotationAnchor), nextRotation: micros(r.NextRotation),
		onDemand: r.OnDemandRotations, onDemandStart: micros(r.OnDemandStart), onDemandDone: micros(r.OnDemandDone),
		window: r.PendingWindowDays, deletion: micros(r.DeletionDate),
		desired: r.DesiredState,
	}
	if k.state == keystate.Creating || k.state == keystate.Updating {
		k.deletion = micros(r.StateDone)
	}
	var tags []Tag
	if len(r.Tags) > 0 {
		tags = make([]Tag, len(r.Tags))
		for i, t := range r.Tags {
			tags[i] = Tag{TagKey: t.Key, TagValue: t.Value}
		}
	}
	k.text = newKeyText(r.Description, tags)
	if len(r.Material) > 0 {
		if r.Kind.Origin != keystate.AWSKMS || r.Kind.Spec.IsSymmetric() || len(r.ImportedMaterial) > 0 {
			return key{}, fmt.Errorf("key record %s has generated material but is a %s key of origin %s: %w",
				r.ID, r.Kind.Spec, r.Kind.Origin, store.ErrCorrupt)
		}
		k.imp = &imported{sealed: slices.Clone(r.Material)}
	}
	if r.KeyMaterialID != "" || len(r.ImportedMaterial) > 0 {
		k.imp = &imported{id: r.KeyMaterialID, public: slices.Clone(r.PublicKey)}
		if len(r.ImportedMaterial) > 0 {
			k.imp.sealed = slices.Clone(r.ImportedMaterial)
			k.imp.validTo = micros(r.ValidTo)
		}
		if r.KeyMaterialDescription != "" || len(r.Materials) > 0 {
			if !s.materials() || !r.Kind.Spec.IsSymmetric() || r.Kind.Origin != keystate.External {
				return key{}, fmt.Errorf("key record %s has several key materials but is a %s key of origin %s, under the %s rules: %w",
					r.ID, r.Kind.Spec, r.Kind.Origin, s.cfg.rules, store.ErrCorrupt)
			}
			mm := &moreMaterials{desc: r.KeyMaterialDescription}
			for i, m := range r.Materials {
				km := keyMaterial{id: m.ID, sealed: slices.Clone(m.Sealed), validTo: micros(m.ValidTo), desc: m.Description, rotating: m.Rotating}
				if len(km.sealed) == 0 {
					km.sealed = nil
				}
				switch {
				case m.Pending && i == len(r.Materials)-1:
					mm.pending = &km
				case m.Pending || m.Rotating:
					return key{}, fmt.Errorf("key record %s has a pending key material before others: %w", r.ID, store.ErrCorrupt)
				default:
					mm.prior = append(mm.prior, km)
				}
			}
			k.imp.more = mm
		}
	}
	return k, nil
}
