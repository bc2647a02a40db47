package kms

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
	"github.com/kmsmodel/kmsmodel/store"
)

// Service is a model of AWS KMS in one account's view of one or more
// Regions: keys, their lifecycle and rotation, aliases and tags, multi-Region
// keys and their replicas, under an injected clock. It is safe for
// concurrent use; calls are serialised, except that with a store they wait
// for their writes without holding the service (group commit, see Open).
// A call goes to the Region its context names (WithCallerRegion), or to
// the default Region.
//
// Every call reads the clock once and first applies, in time order, every
// scheduled event due by then (automatic rotations, completions of on-demand
// rotations, deletions), so the call sees the service as of that instant.
type Service struct {
	mu  sync.Mutex
	cfg config

	regions []*region // every Region served; the default Region first
	rg      *region   // the Region of the call in progress
	slab    [][]key   // every key ever created, by slot number, in chunks of slabChunk
	seq     uint64    // creation counter

	queue eventQueue
	qseq  uint64
	last  int64 // the latest instant the service has seen (Unix µs)
	saved int64 // the latest instant written to the store (store.Batch.Now)

	ids    idArena // the bytes of the key IDs made
	totals Totals  // see Totals
	// durableTotals are the totals of the events written (group commit).
	durableTotals Totals
	touched       int64 // what touch read, kept so that its reads are not optimised away

	st store.Store // nil: no persistence
	// profileSaved is set once the store holds the service's rule
	// profile; until then every write records it (store.Batch.RuleProfile).
	profileSaved bool
	closed       bool

	// Group commit (commit.go), with a store: the batches applied in
	// memory and not yet handed to the store, in order; how many were
	// ever logged, and how many are resolved (written, or failed and
	// undone); the epoch (how many groups failed) and each failure; the
	// calls waiting; whether a group is being written, and the condition
	// (on mu) its end signals; and, when reloading after a failure failed
	// too, the error every call returns.
	log          []*store.Batch
	spareLog     []*store.Batch
	logged       uint64
	resolved     uint64
	epoch        uint64
	failures     []commitFailure
	waiters      atomic.Int32
	committing   bool
	undoing      bool // a leader undoes a lost race in place, s.mu released at times (undoInPlace)
	resolvedCond sync.Cond
	broken       error

	// Cluster mode (cluster.go): nil unless the store is a store.Shared.
	// wmu is held by the call applying the other nodes' commits.
	cl *clusterState
	// reads are the records the call in progress read to authorize itself
	// (cluster mode only, see authReads).
	reads authReads
	wmu   sync.Mutex

	scratch key  // the draft of a change (see draft), reused to save allocations
	drafted *key // the key scratch is a draft of
	// others are drafts of further keys a call changes with its own
	// (a multi-Region family's members), and newPrimary the key an
	// UpdatePrimaryRegion call makes primary; commitKey applies both.
	others     []otherDraft
	newPrimary *key

	root []byte // the root secret key material derives from; nil until first needed

	imports importState // import tokens and wrapping key pairs (memory only)

	pend *pending // the unwritten events of the run in progress (runDue), with a store

	stores     map[string]*customKeyStore // custom key stores by ID
	storeSlots []*customKeyStore          // every store ever created, by slot (nil once deleted)
	storeSeq   uint64                     // custom key store creation counter

	// The principal of the call in progress, the principals parsed so
	// far, accounts' root principals, keys' own key policies (by slot;
	// a key without one has its account's default, made once per
	// account), and what the call adds to its authorization's condition
	// keys.
	principal  policy.Principal
	principals map[string]policy.Principal
	roots      map[partitionAccount]policy.Principal
	policies   map[uint32]*policy.Document
	// bound holds when keys' own policies were written (by key slot), and
	// grantBound when grants were made (by grant ID), for the users and
	// roles they name (D78); bind is the binding of the key policy being
	// evaluated.
	bound      map[uint32]binding
	grantBound map[string]uint64
	bind       policyBinding
	// attested remembers the attestation documents Recipients carried that
	// verified (D80), so that verifying one again costs a hash; it has a
	// lock of its own, being used outside mu.
	attested   recipientCache
	defaults   map[partitionAccount]*policy.Document
	ownRoot    policy.Principal // the service account's root principal in its default Region's partition, once made
	ownDefault *policy.Document // the service account's default key policy there, once made
	// added holds the Regions the call in progress added to create
	// something in them: end gives them back if the call fails and they
	// still hold nothing (dropAdded).
	added      []*region
	call       callConditions
	condBuf    policy.Context      // the condition context buffer, reused by keyConditions
	grants     map[uint32][]*grant // each key's grants, oldest first, by slot
	grantIndex map[string]*grant   // every grant by grant ID
	// granteeIdx files the grants of each key with more than
	// granteeIndexMin of them by their grantee's MatchKey (grantAllows),
	// from when a call first needs it; matchKeys is its callers' buffer.
	granteeIdx map[uint32]map[string][]*grant
	matchKeys  []string
	grantSeq   uint64 // the latest grant's creation number (grantOrder)

	usage      map[uint32]lastUse // each used key's last use, by slot (GetKeyLastUsage)
	useSeq     uint64             // counts recorded uses, for made-up IDs
	trackStart int64              // the first instant the service read: when it began tracking usage
	tracking   bool               // trackStart is set
	// useDirty holds the slots of the keys used since TakeKeyUses, and
	// usageGone the last uses of keys deleted since (as TakeKeyUses hands
	// them out, Gone; D79), while WithKeyUsageSharing is on.
	useDirty  map[uint32]struct{}
	usageGone []KeyUse

	ec *ecState // the eventual-consistency model; nil while it is off (eventual.go)
}

// Format prints the service's Region and account, and nothing of its
// state: fmt must never show the root secret or a key's contents.
func (s *Service) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "kms.Service(%s %s)", s.cfg.region, s.cfg.account)
}

// draft returns a copy of k to change; commitKey installs it. There is one
// draft at a time, under s.mu.
func (s *Service) draft(k *key) *key {
	s.scratch = *k
	s.drafted = k
	return &s.scratch
}

// orig returns the key k is the draft of, or k when it is no draft.
func (s *Service) orig(k *key) *key {
	if k == &s.scratch {
		return s.drafted
	}
	return k
}

// key is one KMS key. It holds only fixed-size fields besides its ID,
// description, tags and rotation history.
type key struct {
	// What a scheduled rotation reads and writes comes first, within 64
	// bytes: a key far from the last one costs as few cache lines as
	// possible (see Service.touch).
	rotations    []rotation // completed rotations, oldest first (D14)
	created      int64      // Unix µs, like every instant the service keeps
	nextRotation int64      // automatic rotation due, while rotationEnabled
	anchor       int64      // last automatic rotation, or when rotation was enabled (D11)
	fam          *family    // the multi-Region key's primary and replicas, once it has replicas
	slot         uint32     // index in Service.slab
	period       uint16     // rotation period in days
	state        keystate.State
	autoEnabled  bool // automatic rotation enabled (kept while PendingDeletion, D12)

	id      string
	account string
	text    *keyText // description and tags, nil when there are none

	seq     uint64 // creation order
	version uint64 // store record version (decision-free bookkeeping)
	// deletion is the DeletionDate while PendingDeletion, and while
	// Creating (ReplicateKey) or Updating (UpdatePrimaryRegion) the
	// instant that state ends: those states never overlap.
	deletion      int64
	onDemandStart int64 // start of the on-demand rotation in progress, or 0
	onDemandDone  int64 // when it completes

	imp *imported // imported key material (EXTERNAL keys); never changed in place
	ck  *cksRef   // the custom key store (AWS_CLOUDHSM, EXTERNAL_KEY_STORE keys); never changed in place

	onDemand   uint16 // on-demand rotations charged against the quota (D1)
	window     uint8  // PendingWindowInDays
	aliasCount uint32 // aliases that point to the key (uint32: a key may have more than 65,535)
	kind       keystate.Kind
	region     uint8 // index in Service.regions
	// replicated marks a key made by ReplicateKey, whose store record ID
	// is qualified by its Region (its primary's record has the bare ID).
	replicated bool
	// desired is, while the key is Unavailable, the state it returns to
	// when its custom key store reconnects (Enabled or Disabled, [12]).
	desired keystate.State
}

// keyText is a key's description and tags, which most keys do not have:
// kept out of the key, so that those keys cost one pointer for them rather
// than forty bytes. Never changed in place: a draft shares it with its key.
type keyText struct {
	description string
	tags        []Tag
}

// newKeyText returns the text of a key with that description and tags,
// nil when both are empty.
func newKeyText(description string, tags []Tag) *keyText {
	if description == "" && len(tags) == 0 {
		return nil
	}
	return &keyText{description: description, tags: tags}
}

// description returns k's description.
func (k *key) description() string {
	if k.text == nil {
		return ""
	}
	return k.text.description
}

// tags returns k's tags, which the caller must not change.
func (k *key) tags() []Tag {
	if k.text == nil {
		return nil
	}
	return k.text.tags
}

// storeID is k's identity in the store: its key ID, or for a replica made
// by ReplicateKey (which shares its primary's key ID) "<Region>/<key ID>".
// The Region in it is the one the replica was made in; a key never moves.
func (s *Service) storeID(k *key) string {
	if k.replicated {
		return s.regions[k.region].name + "/" + k.id
	}
	return k.id
}

// rotation is one completed rotation in eight bytes: the microseconds from
// the key's creation to the rotation, shifted left by one, and in the low
// bit whether it was on demand. The offset is negative for a replica's
// inherited rotations, made before the replica was created (c.8). Every
// instant the service holds lies between year 1 and Horizon (begin refuses
// other clock readings), so an offset is less than 2^58 µs in magnitude and
// always fits: a rotation is recorded exactly, however long after its key's
// creation it happens.
type rotation int64

func newRotation(created, at int64, onDemand bool) rotation {
	r := rotation((at - created) << 1)
	if onDemand {
		r |= 1
	}
	return r
}

// at returns the rotation's instant in Unix microseconds, given its key's
// creation instant.
func (r rotation) at(created int64) int64 { return int64(r>>1) + created }

// onDemand reports whether it was an on-demand rotation.
func (r rotation) onDemand() bool { return r&1 != 0 }

// appendRotation appends r to a history, growing it by a quarter at a time
// rather than doubling: histories are long-lived and many, so slack costs
// more than the occasional copy.
func appendRotation(h []rotation, r rotation) []rotation {
	if len(h) < cap(h) {
		return append(h, r)
	}
	n := make([]rotation, len(h), len(h)+len(h)/4+2)
	copy(n, h)
	return append(n, r)
}

// New returns a Service configured by opts.
func New(opts ...Option) *Service {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.quotaSet {
		cfg.onDemandQuota = cfg.rules.OnDemandRotationQuota()
	}
	return newService(cfg)
}

// newService returns a Service with configuration cfg and no state.
func newService(cfg config) *Service {
	s := &Service{
		cfg:    cfg,
		stores: make(map[string]*customKeyStore),
		last:   minInstant, // a clock may read before 1970
	}
	s.resolvedCond.L = &s.mu
	// The default Region is served even if its name is not of the AWS
	// form: it is the caller's choice.
	s.regions = []*region{{name: s.cfg.region, partition: PartitionOf(s.cfg.region), keys: newKeyIndex(&s.slab), aliases: make(map[aliasID]*alias)}}
	s.rg = s.regions[0]
	if cfg.trackStartSet {
		s.trackStart, s.tracking = cfg.trackStart, true
	}
	if s.cfg.consistency != nil {
		s.ec = newEC(*s.cfg.consistency, s.cfg.random)
	}
	return s
}

// Account returns the service's own account ID.
func (s *Service) Account() string { return s.cfg.account }

// Region returns the service's default Region.
func (s *Service) Region() string { return s.cfg.region }

// begin locks the service, reads the clock, and applies every scheduled
// event due by now. It returns now (Unix µs), the caller's account, and an
// error (KMSInternalException) when the service is closed or a scheduled
// event could not be written to the store; the call must then fail. The
// caller must call s.mu.Unlock.
func (s *Service) begin(ctx context.Context, op keystate.Operation) (int64, string, error) {
	var berr error
	if s.cl != nil {
		berr = s.barrier(ctx)
	}
	s.mu.Lock()
	s.call.reset()
	s.reads.reset()
	var verr error
	if c, _ := ctx.Value(conditionsKey{}).([]policy.ContextEntry); len(c) > 0 {
		s.call.extra = append(s.call.extra, c...)
		verr = checkViaService(op, c)
	}
	p, caller, perr := s.callerPrincipal(ctx, op)
	if perr == nil {
		perr = verr
	}
	s.principal = p
	s.callNetwork(ctx)
	if caller == "" {
		caller = s.cfg.account
	}
	now, err := s.readClock()
	if err == nil && perr != nil {
		return now, caller, perr
	}
	if err != nil {
		return now, caller, &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, Err: err,
			Message: "The request failed because of an internal error: " + err.Error()}
	}
	if err := s.callRegion(ctx, op); err != nil {
		return now, caller, err
	}
	if err := s.checkGrantTokens(ctx, op); err != nil {
		return now, caller, err
	}
	if s.closed {
		return now, caller, &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, Err: store.ErrClosed,
			Message: "The service is closed."}
	}
	if s.broken != nil {
		return now, caller, internalError(op, "", keystate.None, s.broken)
	}
	if berr != nil {
		return now, caller, internalError(op, "", keystate.None, fmt.Errorf("catching up with the cluster: %w", berr))
	}
	var derr error
	if s.ec == nil {
		_, derr = s.runDue(now)
	} else {
		_, derr = s.ecDue(now) // eventual consistency settles changes too (eventual.go)
	}
	if derr != nil {
		return now, caller, internalError(op, "", keystate.None, derr)
	}
	if s.ec != nil {
		s.ecCall()
	}
	return now, caller, nil
}

// Sweep applies every scheduled event due by the clock's current instant,
// across all keys, in time order, and returns how many it applied. Calls do
// this on their own; a simulator that advances the clock and wants the
// events (and their observer records) at once calls Sweep.
//
// With a store, Sweep also records the service's latest instant in it
// (store.Batch.Now), so that Open can refuse a clock that would run
// backwards. If the store fails to write an event, Sweep stops there and
// returns the number applied so far; the event stays due, and the next call retries it
// (and fails with KMSInternalException if the store still fails).
//
// In cluster mode Sweep first catches up with the other nodes' commits,
// and applies again what another node's write made it lose.
func (s *Service) Sweep() int {
	if s.cl == nil {
		n, _ := s.sweepOnce()
		return n
	}
	n, _ := retried(s, func() (int, error) {
		_ = s.barrier(context.Background()) // a failure leaves the events to the next call
		return s.sweepOnce()
	})
	return n
}

// sweepOnce is one run of Sweep. It returns the failure that undid what
// it applied, if any.
func (s *Service) sweepOnce() (int, error) {
	s.mu.Lock()
	if s.closed || s.broken != nil {
		s.mu.Unlock()
		return 0, nil
	}
	now, err := s.readClock()
	if err != nil {
		s.mu.Unlock()
		return 0, nil
	}
	var n int
	if s.ec == nil {
		n, err = s.runDue(now)
	} else {
		n, err = s.ecDue(now)
	}
	if err == nil && s.st != nil && s.last > s.saved {
		// Record how far time has moved, events or not (Open refuses a
		// clock behind it). A failure is retried by the next write.
		_ = s.persist(&store.Batch{})
	}
	if s.end(0, &err) {
		return 0, err // undone: the events are due again
	}
	return n, nil
}

// minInstant is the earliest clock reading the service serves,
// 0001-01-01T00:00:00Z in Unix microseconds.
const minInstant = int64(-62135596800_000_000)

// readClock reads the clock, in Unix microseconds truncated toward the
// past, and makes it the service's latest instant. A reading before the
// latest instant reads as the latest (the model's time never goes
// backwards). A reading after Horizon, or before year 1, is an error
// wrapping ErrPastHorizon, and leaves the latest instant as it was, which
// readClock then returns.
func (s *Service) readClock() (int64, error) {
	t := s.cfg.clock.Now()
	if t.After(Horizon()) || t.Before(fromMicros(minInstant)) {
		return s.last, &clockError{op: "Now", to: t, err: ErrPastHorizon}
	}
	now := t.UnixMicro()
	if now < s.last {
		now = s.last
	}
	s.last = now
	if !s.tracking {
		s.trackStart, s.tracking = now, true
	}
	return now, nil
}

// NextEventTime returns the instant of the earliest scheduled event that may
// still happen, and false when none is scheduled. Events that have become
// moot (for example a rotation of a key since disabled) may be reported; a
// simulator may advance the clock to this instant and Sweep.
func (s *Service) NextEventTime() (time.Time, bool) {
	if s.cl != nil {
		_ = s.barrier(context.Background()) // a failure leaves the schedule as this node knows it
	}
	s.mu.Lock()
	var (
		at  int64
		ok  = s.queue.len() > 0
		err error
	)
	if ok {
		at = s.queue.min().at
	}
	if s.end(0, &err) {
		return s.NextEventTime() // the schedule seen was undone: look again
	}
	if !ok {
		return time.Time{}, false
	}
	return fromMicros(at), true
}

// schedule queues an event of kind what for k at instant at.
func (s *Service) schedule(at int64, k *key, what eventKind) {
	s.qseq++
	s.queue.push(queued{at: at, seq: s.qseq, slot: k.slot, what: what})
}

// runDue applies every queued event due by now, in (instant, queue order).
// With a store, the events of one run are written together, in one batch
// per run of rotations (a deletion is written on its own, in order); if
// the store fails, the events of the failed batch are undone and stay
// queued, and runDue returns the error.
func (s *Service) runDue(now int64) (int, error) {
	// The events' batches name no call's authorization reads (persist):
	// every caller runs them before a call authorizes itself, or outside
	// any call (Sweep, Propagate, PropagationStatus).
	s.reads.reset()
	n := 0
	if s.st != nil {
		s.pend = &pending{undo: map[*key]key{}}
		defer func() { s.pend = nil }()
	}
	for s.queue.len() > 0 && s.queue.min().at <= now {
		if ahead := s.queue.ahead(); ahead != nil {
			s.touch(ahead)
		}
		ev := s.queue.pop()
		done, err := s.apply(ev)
		if err != nil {
			s.queue.push(ev)
			return n - s.lost(), err
		}
		if done {
			n++
		}
		if s.pend != nil && len(s.pend.keys) >= maxPendingKeys {
			if err := s.flush(); err != nil {
				return n - s.lost(), err
			}
		}
	}
	if s.pend != nil {
		if err := s.flush(); err != nil {
			return n - s.lost(), err
		}
	}
	return n, nil
}

// touch reads, for each of the events about to be applied, the key it
// concerns and the end of the key's history, without using what it reads.
// The loads are independent of one another, so the processor has them all
// in flight at once, where applying the events one by one would wait for
// each key in turn: at millions of keys a day's events touch keys far
// apart in memory, and those waits were most of the cost of a rotation.
func (s *Service) touch(evs []queued) {
	var sum int64
	for i := range evs {
		if evs[i].what != evStoreConnected {
			k := s.keyAt(evs[i].slot)
			// The hot fields' first word and their last byte: whatever
			// the key's place in its cache lines, both lines the 64 bytes
			// may span (k.created, at byte 24, shares the second line
			// with k.state when the key starts 48 bytes into a line).
			sum += int64(len(k.rotations)) + int64(k.state)
		}
	}
	for i := range evs {
		if evs[i].what != evStoreConnected {
			if h := s.keyAt(evs[i].slot).rotations; len(h) > 0 {
				sum += int64(h[len(h)-1])
			}
		}
	}
	s.touched += sum
}

// lost is how many applied events the last failed flush undid.
func (s *Service) lost() int {
	if s.pend == nil {
		return 0
	}
	return s.pend.lost
}

// maxPendingKeys bounds how many keys one batch of scheduled events writes.
const maxPendingKeys = 4096

// pending is the unwritten part of a run of scheduled events: the keys
// changed in place (with their state before), the events popped, and the
// event records to deliver once written.
type pending struct {
	undo   map[*key]key
	keys   []*key
	popped []queued
	events []Event
	totals Totals // what the events add to Service.totals once written
	lost   int    // events undone by the last failed flush
}

// remember records k's state before the run changes it, and ev as popped.
func (p *pending) remember(k *key, ev queued) {
	p.also(k)
	p.popped = append(p.popped, ev)
}

// also records k's state before the run changes it, for a change that an
// event remembered already brings (a replica's copy of its primary's
// rotation).
func (p *pending) also(k *key) {
	if _, ok := p.undo[k]; !ok {
		p.undo[k] = *k
		p.keys = append(p.keys, k)
	}
}

// flush writes the pending changes in one batch. On failure it restores
// every changed key, queues the popped events again and drops their
// records, and returns the error.
func (s *Service) flush() error {
	p := s.pend
	if len(p.keys) == 0 {
		return nil
	}
	var b store.Batch
	for _, k := range p.keys {
		old := p.undo[k]
		k.version = old.version + 1
		b.PutKeys = append(b.PutKeys, s.toRecord(k))
		b.AddRotations = append(b.AddRotations, s.rotationRecords(k, k.rotations[len(old.rotations):])...)
	}
	err := s.persist(&b)
	if err != nil {
		p.lost = len(p.popped)
		for _, k := range p.keys {
			*k = p.undo[k]
		}
		for _, ev := range p.popped {
			s.queue.push(ev)
		}
	} else {
		s.totals.add(p.totals)
		if s.cfg.observer != nil {
			for _, e := range p.events {
				s.cfg.observer.Observe(e)
			}
		}
	}
	p.totals = Totals{}
	clear(p.undo)
	p.keys, p.popped, p.events = p.keys[:0], p.popped[:0], p.events[:0]
	return err
}

// apply performs one queued event if it is still current, and reports
// whether it did. Events are queued lazily: a change of schedule queues a
// new event and leaves the old one to be recognised here as stale.
func (s *Service) apply(ev queued) (bool, error) {
	if ev.what == evStoreConnected {
		return s.storeConnected(ev) // ev.slot is a store's slot
	}
	k := s.keyAt(ev.slot)
	switch ev.what {
	case evAutoRotation:
		// D12: no rotation unless Enabled (EnableKey catches up); a
		// multi-Region key rotates on its primary, which copies the
		// rotation to its replicas (c.8), also while UpdatePrimaryRegion
		// runs (crypto keeps working then).
		if !rotates(k) || !k.autoEnabled || k.nextRotation != ev.at || !owns(k) {
			return false, nil
		}
		if s.pend != nil {
			s.pend.remember(k, ev)
		}
		rotateAutomatic(k, ev.at)
		if s.ec != nil {
			s.ecRotated(k, ev.at)
		}
		s.syncInPlace(k, 1)
		s.schedule(k.nextRotation, k, evAutoRotation)
		s.observeRotations(k, k.rotations[len(k.rotations)-1:])
		return true, nil
	case evOnDemandDone:
		if k.state == keystate.Deleted || k.onDemandStart == 0 || k.onDemandDone != ev.at || !owns(k) {
			return false, nil
		}
		if s.pend != nil {
			s.pend.remember(k, ev)
		}
		k.onDemandStart, k.onDemandDone = 0, 0
		k.rotations = appendRotation(k.rotations, newRotation(k.created, ev.at, true))
		if k.kind.Origin == keystate.External && k.imp != nil && k.imp.more != nil && k.imp.more.pending != nil {
			rotateMaterial(k, k.imp.more.pending.id)
		}
		if s.ec != nil {
			s.ecRotated(k, ev.at)
		}
		s.syncInPlace(k, 1)
		s.observeRotations(k, k.rotations[len(k.rotations)-1:])
		return true, nil
	case evReplicaReady:
		return s.replicaReady(k, ev)
	case evUpdateDone:
		return s.updateDone(k, ev)
	case evDeletion, evDeletionLate:
		return s.completeDeletion(k, ev)
	case evMaterialExpiry:
		if k.state == keystate.Deleted || !k.imp.expiresAt(ev.at) {
			return false, nil
		}
		if s.pend != nil {
			s.pend.remember(k, ev)
		}
		if k.imp.more != nil {
			expireToday(k, ev.at)
		} else {
			expireMaterial(k)
		}
		s.observeScheduled(Event{Time: fromMicros(ev.at), Name: "DeleteExpiredKeyMaterial", Scheduled: true,
			KeyARN: s.arnOf(k)})
		return true, nil
	}
	return false, nil
}

// completeDeletion applies event ev, the end of k's waiting period: it
// deletes k, unless the event is stale. It is a method of its own, not a
// case of apply: the records it builds would grow apply's stack frame,
// which every event pays for.
func (s *Service) completeDeletion(k *key, ev queued) (bool, error) {
	if k.state != keystate.PendingDeletion || ev.what == evDeletion && k.deletion != ev.at ||
		s.ec != nil && !s.ecDeletionDue(k, ev) { // D43: fires late with the model on
		return false, nil
	}
	// The last replica of a primary waiting in PendingReplicaDeletion
	// is gone: the primary's waiting period starts now (section b).
	p := waitingPrimary(k)
	if s.st != nil {
		// Write what came before first, so that the store sees the
		// events in order (and p's record version is the written
		// one), then the deletion on its own.
		if err := s.flush(); err != nil {
			return false, err
		}
	}
	var np key
	if p != nil {
		np = *p
		if err := transition(&np, keystate.ReplicasDeleted); err != nil {
			return false, err
		}
		np.deletion = ev.at + days(uint16(np.window))
	}
	// A replica's deletion writes its primary's record too (only its
	// version changes unless p waits for it): the family loses a
	// member, which a cluster node's ScheduleKeyDeletion of the
	// primary decides on (PendingReplicaDeletion while replicas
	// remain). The two writes then conflict instead of both
	// committing, which would leave the primary waiting for no replica.
	var primary *key
	if f := k.fam; f != nil && f.primary != k && p == nil {
		primary = f.primary
	}
	if s.st != nil {
		b := store.Batch{DeleteKeys: []string{s.storeID(k)}}
		switch {
		case p != nil:
			np.version++
			b.PutKeys = []store.Key{s.toRecord(&np)}
		case primary != nil:
			rec := s.toRecord(primary)
			rec.Version++
			b.PutKeys = []store.Key{rec}
		}
		if err := s.persist(&b); err != nil {
			return false, err
		}
		if primary != nil {
			primary.version++
		}
	}
	s.deleteKey(k, ev.at)
	if p != nil {
		np.fam = p.fam // none: k's deletion left p alone (leaveFamily)
		s.install(p, &np)
	}
	return true, nil
}

// observeScheduled reports the record of a scheduled event, or keeps it
// until a pending run of events is written.
func (s *Service) observeScheduled(e Event) {
	switch {
	case s.cfg.observer == nil:
	case s.pend != nil:
		s.pend.events = append(s.pend.events, e)
	default:
		s.cfg.observer.Observe(e)
	}
}

// rotateAutomatic records on k an automatic rotation at instant at and sets
// the next one a period later (D13).
func rotateAutomatic(k *key, at int64) {
	k.rotations = appendRotation(k.rotations, newRotation(k.created, at, false))
	k.anchor = at
	k.nextRotation = at + days(k.period)
}

// observeRotations counts rotations just added to k (Totals) and reports
// them (RotateKey records), or keeps both until a pending run of events is
// written.
func (s *Service) observeRotations(k *key, added []rotation) {
	s.countRotations(added)
	if s.cfg.observer == nil {
		return
	}
	for _, r := range added {
		typ := "AUTOMATIC"
		if r.onDemand() {
			typ = "ON_DEMAND"
		}
		e := Event{Time: fromMicros(r.at(k.created)), Name: "RotateKey", Scheduled: true,
			KeyARN: s.arnOf(k), Parameters: map[string]string{"rotationType": typ}}
		if s.pend != nil {
			s.pend.events = append(s.pend.events, e)
		} else {
			s.cfg.observer.Observe(e)
		}
	}
}

// deleteKey completes k's deletion (decision D7): the key, its history and
// its aliases are gone.
func (s *Service) deleteKey(k *key, at int64) {
	s.removeKey(k)
	s.totals.Deletions++
	if s.cfg.observer != nil {
		s.cfg.observer.Observe(Event{Time: fromMicros(at), Name: "DeleteKey", Scheduled: true,
			KeyARN: s.arnOf(k)})
	}
}

// removeKey is deleteKey without its report (Totals and the observer's
// record): a cluster node applying another node's deletion, which that
// node reported, uses it, and one undoing a key that only a failed write
// made. The key is Deleted whatever its state was (a deletion falls due
// in PendingDeletion only: the others are never stored), and leaves its
// multi-Region family.
func (s *Service) removeKey(k *key) {
	k.state = keystate.Deleted
	leaveFamily(k)
	r := s.regionOf(k)
	r.keys.del(k)
	r.dropKeyAliases(k)
	removeFromStore(k)
	k.rotations, k.text, k.imp, k.ck = nil, nil, nil, nil
	s.forgetUse(k)
	delete(s.policies, k.slot)
	delete(s.bound, k.slot)
	s.dropKeyGrants(k)
	r.deleted++
	if r.deleted > 1024 && r.deleted > len(r.order)/2 {
		r.compactOrder(s)
	}
}

// slabChunk is how many keys one chunk of the slab holds. Keys live in
// fixed chunks so that their addresses never change and so that a queued
// event finds its key by slot number without a table of pointers.
const slabChunk = 4096

// keyAt returns the key in slot.
func (s *Service) keyAt(slot uint32) *key { return &s.slab[slot/slabChunk][slot%slabChunk] }

// hugeSlabChunks is how many chunks of the slab (1,048,576 keys, 180 MB)
// come before those advised to use huge pages. Below it the page tables
// of the slab mostly stay in the caches, and a huge page costs more to
// fault in than it saves (in a virtual machine, where each is a host's
// 512 pages, 2 ms for the first touch).
const hugeSlabChunks = 256

// addKey copies k into the slab and makes it part of its Region: findable
// by ID, listed in creation order, and given a slot for its queued events.
// It returns the key's place in the slab.
func (s *Service) addKey(k key) *key {
	n := len(s.slab)
	if n == 0 || len(s.slab[n-1]) == slabChunk {
		c := make([]key, 0, slabChunk)
		if n >= hugeSlabChunks {
			// Rotations read keys at random across the slab: past a
			// million keys, huge pages keep those reads from walking
			// page tables too (see adviseHuge).
			adviseHuge(unsafe.Pointer(unsafe.SliceData(c)), slabChunk*unsafe.Sizeof(key{}))
		}
		s.slab = append(s.slab, c)
		n++
	}
	chunk := &s.slab[n-1]
	k.slot = uint32((n-1)*slabChunk + len(*chunk))
	*chunk = append(*chunk, k)
	p := &(*chunk)[len(*chunk)-1]
	r := s.regionOf(p)
	r.keys.put(p)
	if n := len(r.order); n == cap(r.order) && n >= 1<<16 {
		// Double a long list rather than let append grow it by a
		// quarter: each growth copies the list into memory the process
		// has never touched, and at millions of keys faulting that in
		// costs more than the copy (fewer, larger growths touch less).
		o := make([]uint32, n, 2*n)
		copy(o, r.order)
		r.order = o
	}
	r.order = append(r.order, p.slot)
	return p
}

// compactOrder drops deleted keys from r's creation order; s is the
// service whose slab the slots index.
func (r *region) compactOrder(s *Service) {
	live := r.order[:0]
	for _, slot := range r.order {
		if s.keyAt(slot).state != keystate.Deleted {
			live = append(live, slot)
		}
	}
	r.order = live
	r.deleted = 0
}

// record delivers the event record of a call to the observer, if any.
func (s *Service) record(now int64, op keystate.Operation, caller, keyARN string, params map[string]string, err error) {
	if s.cfg.observer == nil {
		return
	}
	e := Event{Time: fromMicros(now), Name: op.String(), Caller: caller, KeyARN: keyARN, Parameters: params,
		Principal: s.principal.ARN(), Authorization: s.call.dec}
	if r := s.call.recipient; r != nil {
		e.AdditionalEventData = r.trail
	}
	if err != nil {
		if ke, ok := err.(*keystate.Error); ok {
			e.ErrorCode, e.ErrorMessage = string(ke.Code), ke.Message
			if e.KeyARN == "" {
				e.KeyARN = ke.KeyID
			}
		} else {
			e.ErrorCode, e.ErrorMessage = string(keystate.ErrKMSInternal), err.Error()
		}
	}
	s.cfg.observer.Observe(e)
}

// observing reports whether event records are wanted, so that callers build
// parameter maps only then.
func (s *Service) observing() bool { return s.cfg.observer != nil }
