package kms

import (
	"io"
	"slices"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/consistency"
	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// WithEventualConsistency turns on the eventual-consistency model (issue
// 17; decisions D40–D45): each change becomes visible to later calls only
// after a propagation delay drawn from m, as AWS KMS's Regional fleet
// behaves, and deletions fire up to m.MaxDeletionDelay after their
// DeletionDate. It is off by default. Pass consistency.Default() for
// AWS's "usually under a few seconds, sometimes several minutes". When
// m.Seed is 0, New reads a seed from the randomness source (WithRandom),
// so a seeded service reproduces the same windows. Out-of-range values
// are clamped (consistency.Model.Clamp).
func WithEventualConsistency(m consistency.Model) Option {
	return func(c *config) {
		m = m.Clamp()
		c.consistency = &m
	}
}

// changeKind is what a propagating change changed.
type changeKind uint8

const (
	chCreate   changeKind = iota + 1 // a key was created (CreateKey)
	chKey                            // a key's state or description changed (before holds the old key)
	chRotation                       // a rotation added material version rot
	chAlias                          // an alias was created or retargeted (prev holds the old target)
	chGrant                          // a grant was created
	chPolicy                         // a key policy was replaced (doc holds the old one)
	chRevoke                         // a grant was retired or revoked
	chTags                           // a key's tags changed (before holds the old key)
)

// change is one change still propagating.
type change struct {
	id         uint64 // the change's identity for the model: its sequence number
	kind       changeKind
	op         string           // the operation that made it, as the observer names it
	made, full int64            // when it was made, and when every reader sees it
	k          *key             // the key it concerns
	before     *key             // chKey, chTags: a copy of k before the change
	rot        int              // chRotation: the material version the rotation made current
	al         *alias           // chAlias
	prev       *key             // chAlias: the alias's target before, nil for a new alias
	g          *grant           // chGrant, chRevoke
	doc        *policy.Document // chPolicy: the key policy before the change
	bound      *binding         // chPolicy: doc's binding to IAM's principals (D78), or nil
}

// ecState is the eventual-consistency model's state. It exists only while
// the model is on, and holds only changes still propagating and deletions
// past their DeletionDate: it is pruned as they settle.
type ecState struct {
	m       consistency.Model
	seq     uint64
	pending []*change               // by full, then id
	keys    map[uint32][]*change    // chCreate, chKey, chRotation, chPolicy, chRevoke, chTags by key slot, oldest first
	aliases map[*alias][]*change    // chAlias, oldest first
	grants  map[*grant]*change      // chGrant
	late    map[uint32]lateDeletion // keys past their DeletionDate, by slot
	calls   uint64                  // calls so far (PerCall readers)
	reader  uint64                  // the reader of the call in progress
	tokens  []*grant                // the grants whose tokens the call in progress passes
}

// newEC builds the model's state, drawing its seed from random when m has
// none.
func newEC(m consistency.Model, random io.Reader) *ecState {
	if m.Seed == 0 {
		var b [8]byte
		if _, err := io.ReadFull(random, b[:]); err == nil {
			for _, c := range b {
				m.Seed = m.Seed<<8 | uint64(c)
			}
		}
	}
	return &ecState{m: m, keys: map[uint32][]*change{}, aliases: map[*alias][]*change{},
		grants: map[*grant]*change{}, late: map[uint32]lateDeletion{}}
}

// lateDeletion is a deletion waiting past its DeletionDate (D43): the
// DeletionDate it is for, and when it fires.
type lateDeletion struct{ date, fire int64 }

// ecDue is runDue with the model on: it applies every scheduled event due
// by now and also settles the changes fully propagated by then, each at
// its own instant between the events (so that the observer's records stay
// in time order).
func (s *Service) ecDue(now int64) (int, error) {
	s.reads.reset() // events and settled changes were authorized by no call
	n := 0
	for len(s.ec.pending) > 0 && s.ec.pending[0].full <= now {
		t := s.ec.pending[0].full
		m, err := s.runDue(t)
		n += m
		if err != nil {
			return n, err
		}
		s.ecSettle(t, false)
	}
	m, err := s.runDue(now)
	return n + m, err
}

// transientDuration is how long a replica stays Creating (ReplicateKey)
// or a multi-Region key Updating (UpdatePrimaryRegion), in microseconds:
// d as WithReplicaCreationDuration or WithPrimaryUpdateDuration set it, or,
// when that is 0 and the model is on, a propagation delay drawn like a
// change's (D41; spec (f): Creating lasts "a few seconds", Updating "a few
// more seconds" and longer than the usual delay, so Typical is added).
func (s *Service) transientDuration(d time.Duration, updating bool) int64 {
	if d > 0 || s.ec == nil {
		return durMicros(d)
	}
	s.ec.seq++
	p := s.ec.m.Propagation(s.ec.seq)
	if updating {
		p += s.ec.m.Delay.Typical.Microseconds()
	}
	return p
}

// ecCall starts a call's view: its reader is its principal, or the call
// itself (consistency.PerCall).
func (s *Service) ecCall() {
	s.ec.calls++
	if s.ec.m.Readers == consistency.PerCall {
		s.ec.reader = consistency.CallReader(s.ec.calls)
	} else {
		s.ec.reader = consistency.Reader(s.principal.ARN())
	}
}

// sees reports whether the call in progress sees c.
func (s *Service) sees(c *change) bool {
	return s.last >= c.full || s.ec.m.Visible(c.id, c.made, s.last, s.ec.reader)
}

// ecAdd records a change made now.
func (s *Service) ecAdd(c *change, now int64) {
	e := s.ec
	e.seq++
	c.id, c.made = e.seq, now
	c.full = e.m.FullAt(c.id, now)
	i, _ := slices.BinarySearchFunc(e.pending, c, func(a, b *change) int {
		if a.full != b.full {
			return cmpInt64(a.full, b.full)
		}
		return cmpInt64(int64(a.id), int64(b.id))
	})
	e.pending = slices.Insert(e.pending, i, c)
	switch c.kind {
	case chAlias:
		e.aliases[c.al] = append(e.aliases[c.al], c)
	case chGrant:
		e.grants[c.g] = c
	default:
		e.keys[c.k.slot] = append(e.keys[c.k.slot], c)
	}
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ecSettle removes the changes fully propagated by upTo (all of them when
// forced) and reports each to the observer: at its full-propagation
// instant, or at upTo when forced. It returns how many it removed.
func (s *Service) ecSettle(upTo int64, forced bool) int {
	e := s.ec
	n := 0
	for n < len(e.pending) && (forced || e.pending[n].full <= upTo) {
		c := e.pending[n]
		n++
		switch c.kind {
		case chAlias:
			e.aliases[c.al] = dropChange(e.aliases[c.al], c)
			if len(e.aliases[c.al]) == 0 {
				delete(e.aliases, c.al)
			}
		case chGrant:
			delete(e.grants, c.g)
		default:
			e.keys[c.k.slot] = dropChange(e.keys[c.k.slot], c)
			if len(e.keys[c.k.slot]) == 0 {
				delete(e.keys, c.k.slot)
			}
		}
		if s.cfg.observer != nil {
			at := c.full
			p := map[string]string{"change": c.op, "changeTime": fromMicros(c.made).Format(time.RFC3339Nano)}
			if forced && c.full > upTo {
				at = upTo
				p["forced"] = "true"
			}
			switch c.kind {
			case chAlias:
				p["aliasName"] = c.al.name
			case chGrant, chRevoke:
				p["grantId"] = c.g.id
			}
			s.cfg.observer.Observe(Event{Time: fromMicros(at), Name: "PropagateChange", Scheduled: true,
				KeyARN: s.arnOf(c.k), Parameters: p})
		}
	}
	clear(e.pending[:n])
	e.pending = e.pending[n:]
	return n
}

func dropChange(cs []*change, c *change) []*change {
	if i := slices.Index(cs, c); i >= 0 {
		return slices.Delete(cs, i, i+1)
	}
	return cs
}

// ecCreated records the creation of k (D41: NotFoundException to readers
// that do not see it yet).
func (s *Service) ecCreated(k *key, now int64) {
	s.ecAdd(&change{kind: chCreate, op: "CreateKey", k: k}, now)
}

// ecKeyChanged records what a write (keyCall) did to k, whose state before
// was before: a change of state or description is a chKey change (D41), a
// change of tags a chTags change (D75), and each rotation it added a
// chRotation change (D44).
func (s *Service) ecKeyChanged(op keystate.Operation, k, before *key, added []rotation, now int64) {
	if k.state != before.state || k.description() != before.description() {
		b := *before
		s.ecAdd(&change{kind: chKey, op: op.String(), k: k, before: &b}, now)
	}
	if !slices.Equal(k.tags(), before.tags()) {
		b := *before
		s.ecAdd(&change{kind: chTags, op: op.String(), k: k, before: &b}, now)
	}
	for i := range added {
		s.ecAdd(&change{kind: chRotation, op: "RotateKey", k: k, rot: len(k.rotations) - len(added) + i + 1}, now)
	}
}

// ecRotated records the rotation a scheduled event just added to k.
func (s *Service) ecRotated(k *key, at int64) {
	s.ecAdd(&change{kind: chRotation, op: "RotateKey", k: k, rot: len(k.rotations)}, at)
}

// ecAliasChanged records that alias a points where it points now, and
// pointed to prev (nil: it is new).
func (s *Service) ecAliasChanged(op keystate.Operation, a *alias, prev *key, now int64) {
	s.ecAdd(&change{kind: chAlias, op: op.String(), k: a.target, al: a, prev: prev}, now)
}

// ecGrantCreated records a new grant (D42).
func (s *Service) ecGrantCreated(g *grant, now int64) {
	s.ecAdd(&change{kind: chGrant, op: "CreateGrant", k: g.key, g: g}, now)
}

// ecGrantDropped records that grant g was retired or revoked (D42).
func (s *Service) ecGrantDropped(op keystate.Operation, g *grant) {
	s.ecAdd(&change{kind: chRevoke, op: op.String(), k: g.key, g: g}, s.last)
}

// ecRevokedAllows returns a grant on k, retired or revoked, that still
// allows action for the call in progress because the reader has seen
// its creation but not its removal (D42), or nil.
func (s *Service) ecRevokedAllows(k *key, action string) *grant {
	for _, c := range s.ec.keys[k.slot] {
		if c.kind != chRevoke || s.sees(c) || !c.g.allows(s.principal, action, s.call.ec, s.call.sourceArn) || s.granteeGone(c.g) {
			continue
		}
		if cr := s.ec.grants[c.g]; cr == nil || s.sees(cr) {
			return c.g
		}
	}
	return nil
}

// ecPolicyChanged records that k's key policy replaced before (D42).
func (s *Service) ecPolicyChanged(k *key, before *policy.Document, now int64) {
	c := &change{kind: chPolicy, op: "PutKeyPolicy", k: k, doc: before}
	if b, ok := s.boundOf(k, before); ok {
		c.bound = &b
	}
	s.ecAdd(c, now)
}

// ecView returns k as the call in progress sees it: nil when it does not
// see k's creation yet, a copy of an earlier state when it does not see a
// change of state or description, else k itself. A reader sees a key's
// changes as a prefix: the first it does not see hides the later ones.
func (s *Service) ecView(k *key) *key {
	for _, c := range s.ec.keys[k.slot] {
		switch c.kind {
		case chCreate:
			if !s.sees(c) {
				return nil
			}
		case chKey:
			if !s.sees(c) {
				return c.before
			}
		}
	}
	return k
}

// ecSeenState returns k's key state as the call in progress sees it (k must be
// visible).
func (s *Service) ecSeenState(k *key) keystate.State {
	if v := s.ecView(k); v != nil {
		return v.state
	}
	return k.state
}

// ecVersion returns the material version the call in progress encrypts
// with: the current one, or that before the oldest rotation it does not
// see yet (D44).
func (s *Service) ecVersion(k *key) uint32 {
	for _, c := range s.ec.keys[k.slot] {
		if c.kind == chRotation && c.rot <= len(k.rotations) && !s.sees(c) {
			return uint32(c.rot - 1)
		}
	}
	return uint32(len(k.rotations))
}

// ecPolicy returns the key policy the call in progress is decided by: doc
// (k's current one), or the one before the oldest change it does not see
// (D42).
func (s *Service) ecPolicy(k *key, doc *policy.Document) *policy.Document {
	for _, c := range s.ec.keys[k.slot] {
		if c.kind == chPolicy && !s.sees(c) {
			return c.doc
		}
	}
	return doc
}

// ecTags returns the tags of k that decide the call in progress
// (aws:ResourceTag, D75): k's, or those before the oldest change of them
// it does not see.
func (s *Service) ecTags(k *key) []Tag {
	for _, c := range s.ec.keys[k.slot] {
		if c.kind == chTags && !s.sees(c) {
			return c.before.tags()
		}
	}
	return k.tags()
}

// ecGrantVisible reports whether grant g counts for the call in progress:
// it has propagated to the reader, or the call passes its grant token
// (D42, AWS: "using a grant token").
func (s *Service) ecGrantVisible(g *grant) bool {
	c := s.ec.grants[g]
	return c == nil || slices.Contains(s.ec.tokens, g) || s.sees(c)
}

// ecAliasTarget returns the key alias a points to for the call in
// progress: its target, or the one before the oldest change it does not
// see (nil: the alias is new to it).
func (s *Service) ecAliasTarget(a *alias) *key {
	for _, c := range s.ec.aliases[a] {
		if !s.sees(c) {
			if c.prev != nil && c.prev.state == keystate.Deleted {
				break // the old target is gone: the alias resolves as it is now
			}
			return c.prev
		}
	}
	return a.target
}

// ecResolve applies the call's view to a key resolve found, through alias
// a when not nil: the key the alias points to for the reader, and
// NotFoundException for a key (or alias) the reader does not see yet.
func (s *Service) ecResolve(op keystate.Operation, k *key, a *alias) (*key, error) {
	if a != nil {
		if k = s.ecAliasTarget(a); k == nil {
			return nil, s.notFoundAlias(op, s.aliasARN(a.account, a.name))
		}
	}
	if s.ecView(k) == nil {
		return nil, s.notFoundKey(op, s.arnOf(k))
	}
	return k, nil
}

// ecDeletionDue decides whether a deletion event fires (D43): the event at
// DeletionDate defers the deletion to a drawn instant up to
// MaxDeletionDelay later, and the deferred event (evDeletionLate) fires
// then.
func (s *Service) ecDeletionDue(k *key, ev queued) bool {
	if ev.what == evDeletionLate {
		// Only the deferral of the key's current DeletionDate: a
		// deletion cancelled and scheduled again waits anew.
		l, ok := s.ec.late[k.slot]
		return ok && l.date == k.deletion && l.fire == ev.at
	}
	fire := k.deletion + s.ec.m.DeletionDelay(consistency.Reader(s.storeID(k)), k.deletion)
	if fire <= ev.at {
		return true
	}
	s.ec.late[k.slot] = lateDeletion{date: k.deletion, fire: fire}
	s.schedule(fire, k, evDeletionLate)
	return false
}

// pruneLate forgets the deferred deletions that fired or were cancelled
// (and perhaps scheduled again, for another DeletionDate).
func (s *Service) pruneLate() {
	for slot, l := range s.ec.late {
		if k := s.keyAt(slot); k.state != keystate.PendingDeletion || k.deletion != l.date {
			delete(s.ec.late, slot)
		}
	}
}

// PropagationStatus describes the changes still propagating.
type PropagationStatus struct {
	// Enabled is true when the service runs the eventual-consistency model
	// (WithEventualConsistency).
	Enabled bool
	// Propagated is true when every change is visible to every reader and
	// no deletion waits past its DeletionDate: the service then answers
	// every call as it would without the model.
	Propagated bool
	// Pending counts the changes still propagating and the deletions
	// waiting past their DeletionDate.
	Pending int
	// SettleTime is when all of them will have taken effect without
	// Propagate (zero when Propagated).
	SettleTime time.Time
}

// PropagationStatus applies every scheduled event due and settles every
// change fully propagated by the clock's current instant, as a call does,
// and reports what is still propagating. Without the model it reports
// Propagated.
func (s *Service) PropagationStatus() PropagationStatus {
	s.mu.Lock()
	defer s.endQuiet()
	if s.ec == nil {
		return PropagationStatus{Propagated: true}
	}
	st := PropagationStatus{Enabled: true}
	if !s.closed {
		if now, err := s.readClock(); err == nil {
			_, _ = s.ecDue(now)
		}
	}
	s.pruneLate()
	settle := int64(0)
	for _, c := range s.ec.pending {
		settle = max(settle, c.full)
	}
	for _, l := range s.ec.late {
		settle = max(settle, l.fire)
	}
	st.Pending = len(s.ec.pending) + len(s.ec.late)
	st.Propagated = st.Pending == 0
	if !st.Propagated {
		st.SettleTime = fromMicros(settle)
	}
	return st
}

// Propagate ends every propagation window at the clock's current instant,
// without moving the clock: every change becomes visible to every reader
// (each reported to the observer as a PropagateChange record with
// "forced") and every deletion waiting past its DeletionDate fires now. A
// test uses it to move from the inconsistent window to the settled state
// without sleeping or advancing time. It returns how many changes and
// deletions it settled; without the model it does nothing and returns 0.
func (s *Service) Propagate() int {
	s.mu.Lock()
	defer s.endQuiet()
	if s.ec == nil || s.closed {
		return 0
	}
	now, err := s.readClock()
	if err != nil {
		return 0
	}
	if _, err := s.ecDue(now); err != nil {
		return 0
	}
	n := s.ecSettle(now, true)
	s.pruneLate()
	slots := make([]uint32, 0, len(s.ec.late))
	for slot := range s.ec.late {
		slots = append(slots, slot)
	}
	slices.Sort(slots) // in creation order, so that a seed gives the same records
	for _, slot := range slots {
		l := s.ec.late[slot]
		l.fire = now
		s.ec.late[slot] = l
		s.schedule(now, s.keyAt(slot), evDeletionLate)
		n++
	}
	if _, err := s.runDue(now); err != nil {
		return n - len(slots)
	}
	s.pruneLate()
	return n
}
