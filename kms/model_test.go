package kms_test

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// TestModel is a model-based test of key lifecycle and rotation: a random
// sequence of calls and clock advances runs against a kms.Service and a small
// independent model side by side. The model decides on its own which
// automatic rotations (D12, D13), on-demand completions (D10) and deletions
// (D7) happen as time passes, and predicts the exact exception of every call
// in the order of decision D3. The "" action checks, after every step, the
// invariants of D1, D11–D14 and D20 against what the service reports, and
// (issue 6) that every ciphertext ever produced by a key that still exists
// decrypts to its plaintext while the key is Enabled.
//
// Issue 5: the service has one CloudHSM custom key store, connected at
// setup (at once, or after a drawn connect duration). Keys in it (kind
// mdlCKS) are created only while it is CONNECTED; DisconnectCustomKeyStore
// makes its Enabled and Disabled keys Unavailable, each remembering the
// state it returns to on reconnect, EnableKey and DisableKey on an
// Unavailable key change only that state (footnote [12]), keys pending
// deletion stay so and are deleted at DeletionDate ([13], D7), rotation
// calls on such keys are UnsupportedOperationException unless the state
// column refuses first ([7], D2a, D3), and cryptographic calls on an
// Unavailable key KMSInvalidStateException ([11]).
//
// Multi-Region keys (mdl_multiregion_test.go; aws-kms-behaviour.md a.2, b,
// c.8): the service serves three Regions; keys are made in any of them,
// some as multi-Region primaries, which ReplicateKey replicates (Creating
// for a drawn duration, [14]) and UpdatePrimaryRegion moves (both keys
// Updating for a drawn duration, [15]). Every action may name a replica, a
// key being created or updated, or call from another Region. The model
// shares one rotation state among the keys of a multi-Region key: the
// primary rotates (D12, D13), its replicas get the same rotations and
// on-demand count (D1); a replica refuses rotation calls (D8). A primary
// with replicas is PendingReplicaDeletion until its last replica is
// deleted, then PendingDeletion for its window. Invariant (g) compares the
// keys of a multi-Region key with each other, and DescribeKey's
// MultiRegionConfiguration with the model.
//
// Issue 13: keys are also asymmetric (ECC_NIST_P256/P384 and
// ECC_NIST_EDWARDS25519, ML_DSA_44, rarely RSA_2048 SIGN_VERIFY;
// ECC_NIST_P256 KEY_AGREEMENT) and HMAC (HMAC_224 to HMAC_512). Rotation
// calls on them are UnsupportedOperationException with no message (D8),
// symmetric cryptography InvalidKeyUsageException with the recorded
// wording. Sign, Verify, GetPublicKey, GenerateMac and VerifyMac are
// predicted exactly (asymmetric-hmac spec §2, §3, §7, §11); the model
// remembers every signature and MAC and the first public key of each
// (multi-Region) key, and invariant (h) checks that the public key never
// changes and that what was signed or MACed before still verifies, across
// restarts, Regions, refused rotation calls and state changes.
// GetKeyLastUsage is modelled too (D31: in memory only, so a restart
// forgets it and tracking starts again then).
//
// Issue 14: calls are made by several principals of the account (and, as
// a grantee, one of another account); keys have one of a few key policy
// templates (PutKeyPolicy, CreateKey with Policy; the lockout check and
// its bypass) and grants (CreateGrant, RevokeGrant, RetireGrant), and the
// model predicts every AccessDeniedException (D26) and that GetKeyPolicy
// and ListGrants report what it holds, across restarts (see "Principals,
// key policies and grants" below).
func TestModel(t *testing.T) {
	mdlRun(t, mdlPlain{}, false)
}

// TestModelCurrentRules runs the model under kms.RulesCurrent (issue 16),
// over a backend drawn per check (with restarts over the stores): the quota is 25 unless a drawn one is given,
// footnote [7] no longer covers EXTERNAL keys (GetKeyRotationStatus and
// ListKeyRotations answer for them), and single-Region EXTERNAL keys hold
// several materials: ImportKeyMaterial imports new ones
// (NEW_KEY_MATERIAL, PENDING_ROTATION) and re-imports any of them by
// KeyMaterialId, RotateKeyOnDemand makes the pending one current,
// DeleteImportedKeyMaterial deletes any of them, and each expires at its
// own ValidTo. Invariant (j) compares ListKeyRotations with
// IncludeKeyMaterial ALL_KEY_MATERIAL and DescribeKey with the model's
// materials; invariant (f) decrypts every ciphertext, made under any
// material, while the key is Enabled (decisions D36–D39).
func TestModelCurrentRules(t *testing.T) {
	// Each check draws its backend (no store, store.Memory, boltstore),
	// so that the run costs one backend's time.
	mdlRunRules(t, &mdlDrawn{dir: t.TempDir()}, false, kms.RulesCurrent)
}

// TestModelMultiRegion runs the model with mostly multi-Region keys and
// mostly the calls that matter to them, over each backend.
func TestModelMultiRegion(t *testing.T) {
	t.Run("NoStore", func(t *testing.T) { mdlRun(t, mdlPlain{}, true) })
	t.Run("MemoryStore", func(t *testing.T) { mdlRun(t, &mdlMemory{}, true) })
	t.Run("BoltStore", func(t *testing.T) { mdlRun(t, &mdlBolt{dir: t.TempDir()}, true) })
}

// TestModelMemoryStore runs the model over a service persisted in a
// store.Memory, with an extra action that restarts the service (a new
// service opened over the same store) at random points: the model does not
// notice restarts, so every invariant must survive them.
func TestModelMemoryStore(t *testing.T) {
	mdlRun(t, &mdlMemory{}, false)
}

// TestModelBoltStore runs the model over a service persisted in a bbolt
// file, restarted (closed and reopened over the file) at random points.
func TestModelBoltStore(t *testing.T) {
	mdlRun(t, &mdlBolt{dir: t.TempDir()}, false)
}

// mdlBolt is the service over a boltstore file, one file per check.
type mdlBolt struct {
	dir  string
	n    int
	path string
}

func (b *mdlBolt) open(t *rapid.T, opts []kms.Option) *kms.Service {
	b.n++
	b.path = filepath.Join(b.dir, fmt.Sprintf("model-%d.db", b.n))
	return b.reopen(t, nil, opts)
}

func (b *mdlBolt) reopen(t *rapid.T, old *kms.Service, opts []kms.Option) *kms.Service {
	if old != nil {
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}
	}
	st, err := boltstore.Open(b.path, &boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := kms.Open(context.Background(), st, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

// mdlBackend makes the service under test, and remakes it after a restart.
type mdlBackend interface {
	// open returns a new service with opts, over fresh storage.
	open(t *rapid.T, opts []kms.Option) *kms.Service
	// reopen returns a service over the storage of old, or nil when the
	// backend cannot restart.
	reopen(t *rapid.T, old *kms.Service, opts []kms.Option) *kms.Service
}

// mdlPlain is the service without a store.
type mdlPlain struct{}

func (mdlPlain) open(_ *rapid.T, opts []kms.Option) *kms.Service { return kms.New(opts...) }
func (mdlPlain) reopen(*rapid.T, *kms.Service, []kms.Option) *kms.Service {
	return nil
}

// mdlMemory is the service over a store.Memory that outlives it.
type mdlMemory struct{ st *store.Memory }

func (b *mdlMemory) open(t *rapid.T, opts []kms.Option) *kms.Service {
	b.st = store.NewMemory()
	svc, err := kms.Open(context.Background(), b.st, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func (b *mdlMemory) reopen(t *rapid.T, _ *kms.Service, opts []kms.Option) *kms.Service {
	svc, err := kms.Open(context.Background(), b.st, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// mdlRun checks the model over backend. multiRegion runs focus on
// multi-Region keys: mostly such keys, one replicated at once, and the
// calls that change or read their shared and own states.
func mdlRun(t *testing.T, backend mdlBackend, multiRegion bool) {
	mdlRunRules(t, backend, multiRegion, kms.Rules2024)
}

// mdlRunRules is mdlRun under the rule profile rules.
func mdlRunRules(t *testing.T, backend mdlBackend, multiRegion bool, rules kms.Rules) {
	rapid.Check(t, func(t *rapid.T) {
		m := mdlNew(t, backend, multiRegion, rules)
		n := rapid.IntRange(1, 4).Draw(t, "initialKeys")
		initial := 9 // a key in the custom key store too, if it is CONNECTED
		if m.cksState != kms.ConnectionConnected {
			initial = 7
		}
		for range n {
			m.create(t, initial)
		}
		if m.cur {
			m.createKind(t, 7) // an EXTERNAL key (issue 16)
		}
		m.started = true
		if m.mrHeavy {
			m.replicateKey(t)
		}
		actions := map[string]func(*rapid.T){
			"CreateKey":                 m.createKey,
			"EnableKey":                 m.enableKey,
			"DisableKey":                m.disableKey,
			"ScheduleKeyDeletion":       m.scheduleKeyDeletion,
			"CancelKeyDeletion":         m.cancelKeyDeletion,
			"EnableKeyRotation":         m.enableKeyRotation,
			"EnableKeyRotation2":        m.enableKeyRotation,
			"DisableKeyRotation":        m.disableKeyRotation,
			"RotateKeyOnDemand":         m.rotateKeyOnDemand,
			"RotateKeyOnDemand2":        m.rotateKeyOnDemand, // twice as likely: quota and conflicts
			"GetKeyRotationStatus":      m.getKeyRotationStatus,
			"ListKeyRotations":          m.listKeyRotations,
			"ListKeyRotationsBad":       m.listKeyRotationsBad,
			"DescribeKey":               m.describeKey,
			"ReplicateKey":              m.replicateKey,
			"ReplicateKey2":             m.replicateKey, // twice as likely: replicas
			"UpdatePrimaryRegion":       m.updatePrimaryRegion,
			"UpdatePrimaryRegion2":      m.updatePrimaryRegion,
			"Encrypt":                   m.encrypt,
			"GenerateDataKey":           m.generateDataKey,
			"Decrypt":                   m.decrypt,
			"AdvanceClock":              m.advanceClock,
			"AdvanceClock2":             m.advanceClock,
			"AdvanceToEdge":             m.advanceToEdge,
			"ImportKeyMaterial":         m.importKeyMaterial,
			"ImportKeyMaterial2":        m.importKeyMaterial,
			"DeleteImportedKeyMaterial": m.deleteImportedKeyMaterial,
			"DisconnectCustomKeyStore":  m.disconnectStore,
			"DisconnectCustomKeyStore2": m.disconnectStore, // twice as likely: Unavailable keys
			"ConnectCustomKeyStore":     m.connectStore,
			"Sign":                      m.sign,
			"Verify":                    m.verify,
			"GetPublicKey":              m.getPublicKey,
			"GenerateMac":               m.generateMac,
			"VerifyMac":                 m.verifyMac,
			"GetKeyLastUsage":           m.getKeyLastUsage,
			"":                          m.check,
		}
		switch {
		case multiRegion:
			actions = mdlMultiRegionActions(m)
		case m.cur:
			actions = mdlCurrentRulesActions(m)
		}
		actions["PutKeyPolicy"] = m.putKeyPolicy
		actions["PutKeyPolicy2"] = m.putKeyPolicy
		actions["GetKeyPolicy"] = m.getKeyPolicy
		actions["CreateGrant"] = m.createGrant
		actions["CreateGrant2"] = m.createGrant
		actions["RevokeGrant"] = m.revokeGrant
		actions["RetireGrant"] = m.retireGrant
		actions["UseGrant"] = m.useGrant
		actions["UseGrant2"] = m.useGrant
		if mdlCanReopen(backend) {
			actions["Restart"] = m.restart
		}
		t.Repeat(actions)
	})
}

func mdlCanReopen(b mdlBackend) bool {
	if d, ok := b.(*mdlDrawn); ok {
		b = d.b
	}
	_, plain := b.(mdlPlain)
	return !plain
}

// restart replaces the service by one reopened over its storage, with the
// same options; the clock goes on.
func (m *mdlModel) restart(t *rapid.T) {
	m.svc = m.backend.reopen(t, m.svc, m.opts)
	// Last usage is kept in memory only (D31): the new service has no
	// record, and tracks from now on.
	m.trackStart = m.now
	for _, k := range m.keys {
		k.lastOp, k.lastAt = "", time.Time{}
	}
}

// mdlStart is the instant the manual clock starts at; mdlClockCap keeps
// long runs (-rapid.steps) within the instants the service keeps to the
// nanosecond (up to 2146) and clear of the int64 limit (2262).
var (
	mdlStart    = time.Date(2024, time.April, 1, 9, 30, 0, 0, time.UTC)
	mdlClockCap = time.Date(2140, time.January, 1, 0, 0, 0, 0, time.UTC)
)

const (
	mdlDay            = 24 * time.Hour
	mdlConflictWindow = 20 * time.Minute // decision D9
	mdlMaxLiveKeys    = 6                // replicas count
	mdlMaxKeys        = 12
	mdlUnknownID      = "0b7e5c1a-3f2d-4c6e-9a8b-1d2e3f4a5b6c" // well formed, never created
)

// Model key states. mdlDeleted is a key whose waiting period ended (D7).
const (
	mdlEnabled         = "Enabled"
	mdlDisabled        = "Disabled"
	mdlPendingDeletion = "PendingDeletion"
	mdlPendingImport   = "PendingImport"
	mdlUnavailable     = "Unavailable"
	mdlCreating        = "Creating"
	mdlUpdating        = "Updating"
	mdlPendingReplica  = "PendingReplicaDeletion"
	mdlDeleted         = "(deleted)"
)

// mdlKind is the kind of key the model creates.
type mdlKind uint8

const (
	mdlSym  mdlKind = iota // SYMMETRIC_DEFAULT, AWS_KMS
	mdlAsym                // an asymmetric key of origin AWS_KMS (mdlKey.asym: its spec and usage)
	mdlHMAC                // an HMAC key of origin AWS_KMS (mdlKey.asym: its spec)
	mdlExt                 // SYMMETRIC_DEFAULT, EXTERNAL (born PendingImport)
	mdlCKS                 // SYMMETRIC_DEFAULT, AWS_CLOUDHSM, in the model's custom key store
)

func (k mdlKind) String() string {
	return [...]string{"SYMMETRIC_DEFAULT", "ASYMMETRIC", "HMAC", "EXTERNAL", "AWS_CLOUDHSM"}[k]
}

// mdlRotation is one completed rotation the model expects in
// ListKeyRotations. tie marks an automatic rotation and an on-demand
// completion of the same key falling on the same instant, whose relative
// order no decision fixes (D14 says "the order in which they happened").
type mdlRotation struct {
	at  time.Time
	typ string // AUTOMATIC or ON_DEMAND
	tie bool
}

// mdlStretch is a time the key spent out of Enabled (Disabled or
// PendingDeletion), for invariant (c).
type mdlStretch struct {
	start, end time.Time
	closed     bool
	// The rotation schedule when the stretch began; it cannot change while
	// the key is not Enabled.
	autoOn bool
	next   time.Time
	// odEnd is when an on-demand rotation running at the start completes
	// (zero when none ran): the only rotation a stretch may contain.
	odEnd time.Time
}

// mdlRot is the rotation state of a key. The keys of one multi-Region key
// share one (aws-kms-behaviour.md c.8): the primary owns the rotation
// settings and history, and every replica has the same, whatever its own
// state.
type mdlRot struct {
	autoOn bool
	period int           // days
	anchor time.Time     // last automatic rotation, or when rotation was enabled (D11)
	next   time.Time     // next automatic rotation, while autoOn
	odN    int           // on-demand rotations charged (D1; per multi-Region key)
	odRun  bool          // an on-demand rotation is in progress (D10)
	odFrom time.Time     // its start
	odTo   time.Time     // its completion
	rots   []mdlRotation // expected ListKeyRotations, oldest first (D14)

	// Invariant (b): rotation enabled at enabledAt with period and neither
	// the rotating key nor its schedule touched since.
	pristine  bool
	enabledAt time.Time
	// Invariant (c): the times the rotating key (the owner, see
	// mdlModel.owns) spent out of Enabled.
	stretches []mdlStretch
}

// mdlKey is the model of one key, in one Region. A replica has its
// primary's key ID and its own ARN, state, description and deletion.
type mdlKey struct {
	id, arn   string
	region    string
	kind      mdlKind
	state     string
	desired   string    // while Unavailable: Enabled or Disabled, the state on reconnect ([12])
	material0 string    // CurrentKeyMaterialId at creation (symmetric keys)
	desc      string    // Description
	created   time.Time // CreationDate

	delAt  time.Time // DeletionDate, while PendingDeletion
	window int       // PendingWindowInDays, while PendingDeletion or PendingReplicaDeletion
	until  time.Time // when Creating or Updating ends

	// fam links the keys of a multi-Region key; nil for a single-Region key.
	fam *mdlFamily
	*mdlRot

	// Imported key material (EXTERNAL keys): the material (the first one
	// imported; a re-import must bring the same, and so must every key of a
	// multi-Region key), whether it is imported now, and when it expires
	// (zero: it does not). Under RulesCurrent these are the current
	// material's, with its KeyMaterialId and description, and a
	// single-Region key also has the materials of its earlier versions
	// and one pending rotation (issue 16).
	mat      []byte
	imported bool
	validTo  time.Time
	matID    string
	matDesc  string
	prior    []mdlMat
	pending  *mdlMat

	// asym is the spec, usage and what the model saw of the material of an
	// asymmetric or HMAC key, shared by the keys of a multi-Region key
	// (nil for the other kinds).
	asym *mdlAsymMat
	// lastOp and lastAt are the key's last successful counted call since
	// the service started (GetKeyLastUsage, decision D31); "" when none.
	lastOp string
	lastAt time.Time
	// pol is the key's policy (a template), polText what GetKeyPolicy
	// returned right after it was accepted ("" for the default policy of a
	// new key); grants are the key's grants, oldest first (issue 14).
	pol     mdlPolicy
	polText string
	grants  []*mdlGrant
}

// mdlMat is one of an EXTERNAL key's materials besides its current one,
// under RulesCurrent.
type mdlMat struct {
	mat      []byte
	id       string
	desc     string
	imported bool
	validTo  time.Time
	rotating bool // pending, and an on-demand rotation in progress will make it current (D38)
}

// complete reports whether every permanently associated material of k is
// imported (a.4): its current one, its earlier versions', and a pending
// one an on-demand rotation in progress makes current (D38). Only then is
// the key usable.
func (k *mdlKey) complete() bool {
	if !k.imported {
		return false
	}
	for _, p := range k.prior {
		if !p.imported {
			return false
		}
	}
	return k.pending == nil || !k.pending.rotating || k.pending.imported
}

// mdlFamily is a multi-Region key: its live keys, in creation order, and
// the one that owns the rotation, the primary (from UpdatePrimaryRegion's
// call on, the key becoming primary).
type mdlFamily struct {
	owner   *mdlKey
	members []*mdlKey
}

func (k *mdlKey) live() bool { return k != nil && k.state != mdlDeleted }

// pendingDeletion reports whether k is PendingDeletion or
// PendingReplicaDeletion (one column of table a.2).
func (k *mdlKey) pendingDeletion() bool {
	return k.state == mdlPendingDeletion || k.state == mdlPendingReplica
}

// role is the MultiRegionKeyType DescribeKey shows: "" for a single-Region
// key; while UpdatePrimaryRegion runs both its keys read as REPLICA (as AWS
// warns DescribeKey may show them), and PRIMARY only the owner otherwise.
func (k *mdlKey) role() string {
	switch {
	case k.fam == nil:
		return ""
	case k.state != mdlUpdating && k.fam.owner == k:
		return "PRIMARY"
	}
	return "REPLICA"
}

// owns reports whether k performs its rotations: a single-Region key, or
// the primary of a multi-Region key (from UpdatePrimaryRegion's call on,
// the key becoming primary).
func (k *mdlKey) owns() bool { return k.fam == nil || k.fam.owner == k }

// rotates reports whether k's automatic rotations happen now: k owns them
// and is Enabled (D12), or Updating. Guess: the table lets rotation and
// crypto calls run while Updating, so automatic rotation goes on too.
func (k *mdlKey) rotates() bool {
	return k.owns() && (k.state == mdlEnabled || k.state == mdlUpdating)
}

// hasReplicas reports whether k is a primary with replicas (live or
// pending deletion): ScheduleKeyDeletion makes it PendingReplicaDeletion.
func (k *mdlKey) hasReplicas() bool {
	return k.fam != nil && k.fam.owner == k && len(k.fam.members) > 1
}

// mdlModel holds the service under test and the model.
type mdlModel struct {
	backend mdlBackend
	opts    []kms.Option
	svc     *kms.Service
	clock   *kms.ManualClock
	ctx     context.Context
	now     time.Time
	quota   int
	cur     bool // kms.RulesCurrent (issue 16)
	matSeq  int  // materials made for NEW_KEY_MATERIAL so far
	odDur   time.Duration
	keys    []*mdlKey
	checks  int
	cts     []*mdlCiphertext // every ciphertext Encrypt and GenerateDataKey produced
	sigs    []*mdlSignature  // every signature Sign produced
	macs    []*mdlMac        // every MAC GenerateMac produced
	grants  []*mdlGrant      // every grant CreateGrant made, gone ones too
	started bool             // the initial keys are made (all with the default policy)
	// trackStart is when the service under test started (GetKeyLastUsage's
	// TrackingStartDate, D31): the start, or the last restart.
	trackStart time.Time

	// Regions: the service's default Region first. ctxs holds a context
	// per Region (kms.WithCallerRegion; the default Region's sometimes
	// names it, sometimes not). replicaDur and updateDur are the drawn
	// WithReplicaCreationDuration and WithPrimaryUpdateDuration.
	regions    []string
	ctxs       map[string]context.Context
	replicaDur time.Duration
	updateDur  time.Duration
	// mrHeavy runs make mostly multi-Region keys, and a replica at once.
	mrHeavy bool

	// The custom key store (issue 5): its ID, ConnectionState, the
	// simulated connect duration, and while CONNECTING when it connects.
	cksID     string
	cksState  string
	cksDur    time.Duration
	connectAt time.Time
}

// mdlCiphertext is a ciphertext the service produced, and what it holds.
// Its blob names a key ID: in a Region, Decrypt uses the key with that ID
// there, which for a multi-Region key may be another key of it (they share
// their material, c.8), or a later replica in the same Region.
type mdlCiphertext struct {
	k      *mdlKey // the key that made it (deleted keys stay, with state mdlDeleted)
	id     string  // its key ID
	region string  // the Region it was made in
	pt     []byte
	ec     map[string]string
	blob   []byte
}

func mdlNew(t *rapid.T, backend mdlBackend, multiRegion bool, rules kms.Rules) *mdlModel {
	cur := rules == kms.RulesCurrent
	quota := rapid.IntRange(1, 12).Draw(t, "quota")
	profileQuota := cur && rapid.Bool().Draw(t, "profileQuota")
	if profileQuota {
		quota = 25 // today's quota (spec section (g))
	}
	var dur time.Duration
	switch rapid.IntRange(0, 3).Draw(t, "onDemandKind") {
	case 0, 1: // completes at once (the default, D10)
	case 2: // around D9's 20 minutes
		dur = rapid.SampledFrom([]time.Duration{time.Second, mdlConflictWindow, mdlConflictWindow + time.Second, time.Hour, 3 * time.Hour}).Draw(t, "onDemandDuration")
	case 3:
		dur = time.Duration(rapid.IntRange(1, 4*3600).Draw(t, "onDemandSeconds")) * time.Second
	}
	var cksDur time.Duration // mostly the default: CONNECTED at once
	if rapid.IntRange(0, 3).Draw(t, "connectKind") == 0 {
		cksDur = time.Duration(rapid.IntRange(1, 2*3600).Draw(t, "connectSeconds")) * time.Second
	}
	replicaDur, updateDur := mdlDrawStateDuration(t, "replicaCreation"), mdlDrawStateDuration(t, "primaryUpdate")
	clock := kms.NewManualClock(mdlStart)
	opts := []kms.Option{
		kms.WithClock(clock),
		kms.WithRandom(rand.NewChaCha8([32]byte{'k', 'm', 's', 'm', 'o', 'd', 'e', 'l'})),
		kms.WithRules(rules),
		kms.WithOnDemandRotationDuration(dur),
		kms.WithCustomKeyStoreConnectDuration(cksDur),
		kms.WithReplicaCreationDuration(replicaDur),
		kms.WithPrimaryUpdateDuration(updateDur),
	}
	if !profileQuota {
		opts = append(opts, kms.WithOnDemandRotationQuota(quota))
	}
	svc := backend.open(t, opts)
	m := &mdlModel{
		backend: backend, opts: opts, svc: svc, clock: clock, ctx: context.Background(), now: mdlStart,
		quota: quota, cur: cur, odDur: dur, trackStart: mdlStart, cksDur: cksDur, replicaDur: replicaDur, updateDur: updateDur,
		mrHeavy: multiRegion || rapid.Bool().Draw(t, "multiRegionHeavy"),
		regions: []string{svc.Region(), mdlRegion2, mdlRegion3},
		ctxs:    map[string]context.Context{},
	}
	for i, r := range m.regions {
		m.ctxs[r] = kms.WithCallerRegion(m.ctx, r)
		if i == 0 && rapid.Bool().Draw(t, "implicitDefaultRegion") {
			m.ctxs[r] = m.ctx
		}
	}
	out, err := svc.CreateCustomKeyStore(m.ctx, &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: "mdl-hsm",
		CloudHsmClusterId: "cluster-1a23b4cdefg", TrustAnchorCertificate: "-----BEGIN CERTIFICATE-----",
		KeyStorePassword: kms.Sensitive("mdl-kmsuser-pw")})
	if err != nil {
		t.Fatalf("CreateCustomKeyStore: %v", err)
	}
	m.cksID, m.cksState = out.CustomKeyStoreId, kms.ConnectionDisconnected
	m.connect(t)
	return m
}

// mdlRef is the identifier a call passes as KeyId, the Region the call
// goes to, and what D3 steps 1–3 make of them on their own.
type mdlRef struct {
	k      *mdlKey // the model key named (possibly deleted), or nil
	id     string  // KeyId as passed
	region string  // the Region of the call
	ctx    context.Context
	errID  string // the KeyID an error about this identifier carries
	err    error  // nil when the identifier names a live key
}

// arnIn is the ARN of key id in a Region.
func (m *mdlModel) arnIn(region, id string) string {
	return "arn:aws:kms:" + region + ":" + m.svc.Account() + ":key/" + id
}

// liveAt returns the live key with key ID id in a Region, or nil.
func (m *mdlModel) liveAt(region, id string) *mdlKey {
	for _, k := range m.keys {
		if k.live() && k.id == id && k.region == region {
			return k
		}
	}
	return nil
}

// resolveIn is what a call in a Region makes of KeyId s, a key ID or key
// ARN of the model's account: a key ARN of another Region is not found
// (D19, "Invalid arn"); otherwise the live key with that ID in the Region,
// or NotFoundException naming the key ARN in the Region (D7 for deleted
// keys).
func (m *mdlModel) resolveIn(region, s string) mdlRef {
	r := mdlRef{id: s, region: region, ctx: m.ctxs[region]}
	id := s
	if strings.HasPrefix(s, "arn:") {
		parts := strings.SplitN(s, ":", 6) // arn:aws:kms:<Region>:<account>:key/<id>
		id = strings.TrimPrefix(parts[5], "key/")
		if parts[3] != region {
			r.k, r.errID, r.err = m.named(parts[3], id), s, keystate.ErrNotFound
			return r
		}
	}
	if k := m.liveAt(region, id); k != nil {
		r.k, r.errID = k, k.arn
		return r
	}
	r.k, r.errID, r.err = m.named(region, id), m.arnIn(region, id), keystate.ErrNotFound
	return r
}

// named returns a model key (live or not) with key ID id in a Region, or
// nil.
func (m *mdlModel) named(region, id string) *mdlKey {
	var found *mdlKey
	for _, k := range m.keys {
		if k.id == id && k.region == region && (found == nil || k.live()) {
			found = k
		}
	}
	return found
}

// refTo names k in its own Region, by key ID or key ARN.
func (m *mdlModel) refTo(t *rapid.T, k *mdlKey) mdlRef {
	id := k.id
	if rapid.Bool().Draw(t, "byARN") {
		id = k.arn
	}
	return m.resolveIn(k.region, id)
}

// pick chooses the key a call names: mostly a live key by key ID or key
// ARN in its Region, sometimes any of the model's keys (deleted ones too,
// D7), now and then in another Region (where a bare multi-Region key ID
// names that Region's key of it), a well-formed ID that never existed or a
// malformed identifier (D4, D5, D6, D19).
func (m *mdlModel) pick(t *rapid.T) mdlRef {
	var live, passing []*mdlKey
	for _, k := range m.keys {
		if k.live() {
			live = append(live, k)
		}
		if k.live() && !k.until.IsZero() {
			passing = append(passing, k)
		}
	}
	var k *mdlKey
	switch which := rapid.IntRange(0, 19).Draw(t, "which"); {
	case which >= 16 && len(passing) > 0:
		// A key being created or updated: [14], [15].
		k = passing[rapid.IntRange(0, len(passing)-1).Draw(t, "passingKey")]
	case which == 0:
		region := rapid.SampledFrom(m.regions).Draw(t, "unknownKeyRegion")
		return mdlRef{id: mdlUnknownID, region: region, ctx: m.ctxs[region], errID: m.arnIn(region, mdlUnknownID), err: keystate.ErrNotFound}
	case which == 1:
		return m.badIdentifier(t)
	case which <= 3 || len(live) == 0:
		k = m.keys[rapid.IntRange(0, len(m.keys)-1).Draw(t, "key")]
	default:
		k = live[rapid.IntRange(0, len(live)-1).Draw(t, "liveKey")]
	}
	id := k.id
	if rapid.Bool().Draw(t, "byARN") {
		id = k.arn
	}
	region := k.region
	if rapid.IntRange(0, 7).Draw(t, "otherRegion") == 0 {
		region = rapid.SampledFrom(m.regions).Draw(t, "callRegion")
	}
	return m.resolveIn(region, id)
}

// pickWhere is pick, but three times in four it names a live key for which
// want holds, if there is one, so that calls which change a key's state
// are mostly accepted.
func (m *mdlModel) pickWhere(t *rapid.T, want func(*mdlKey) bool) mdlRef {
	var fit []*mdlKey
	for _, k := range m.keys {
		if k.live() && want(k) {
			fit = append(fit, k)
		}
	}
	if len(fit) == 0 || rapid.IntRange(0, 3).Draw(t, "preferred") == 0 {
		return m.pick(t)
	}
	return m.refTo(t, fit[rapid.IntRange(0, len(fit)-1).Draw(t, "fitKey")])
}

func mdlIsEnabledSym(k *mdlKey) bool { return k.state == mdlEnabled && k.kind == mdlSym }

// mdlIsEnabledEncrypt: an Enabled key that encrypts (symmetric, in AWS KMS
// or in the custom key store), or an Unavailable one ([11]).
func mdlIsEnabledEncrypt(k *mdlKey) bool {
	return k.state == mdlEnabled && (k.kind == mdlSym || k.kind == mdlCKS) || k.state == mdlUnavailable
}

// badIdentifier returns a KeyId that names no key of the caller's.
func (m *mdlModel) badIdentifier(t *rapid.T) mdlRef {
	b := m.keys[rapid.IntRange(0, len(m.keys)-1).Draw(t, "aboutKey")]
	account, region := m.svc.Account(), m.svc.Region()
	r := mdlRef{region: region, ctx: m.ctxs[region]}
	switch rapid.IntRange(0, 6).Draw(t, "badIdentifier") {
	case 0:
		r.id, r.err = "", keystate.ErrValidation // length 1–2048
	case 1:
		r.id, r.err = strings.Repeat("7", 2049), keystate.ErrValidation
	case 2:
		r.id = "arn:aws:kms:" + region + ":" + account + ":keys/" + b.id // D4
		r.errID, r.err = r.id, keystate.ErrInvalidArn
	case 3:
		r.id = "not-a-key-" + b.id[:8] // D4: malformed bare key ID
		r.errID, r.err = r.id, keystate.ErrNotFound
	case 4:
		r.id = "alias/mdl-none" // D5
		r.errID, r.err = "arn:aws:kms:"+region+":"+account+":alias/mdl-none", keystate.ErrNotFound
	case 5:
		r.id = "arn:aws:kms:eu-west-3:" + account + ":key/" + b.id // D19: another Region
		r.errID, r.err = r.id, keystate.ErrNotFound
	case 6:
		r.id = "arn:aws:kms:" + region + ":444455556666:key/" + b.id // D6: another account
		r.errID, r.err = r.id, keystate.ErrNotFound
	}
	return r
}

// mdlExpect asserts that got is exactly the predicted outcome: nil, or the
// *keystate.Error of the sentinel want. Errors about a named key carry the
// key (errID).
func mdlExpect(t *rapid.T, op string, got, want error, errID string) {
	t.Helper()
	suffix, exact, hasExact := "", "", false
	switch w := want.(type) {
	case mdlMsg:
		want, suffix = w.code, w.suffix
	case mdlExact:
		want, exact, hasExact = w.code, w.msg, true
	}
	if want == nil {
		if got != nil {
			t.Fatalf("%s: got error %v, want success", op, got)
		}
		return
	}
	if got == nil {
		t.Fatalf("%s: succeeded, want %v", op, want)
	}
	if !errors.Is(got, want) {
		t.Fatalf("%s: got error %v, want %v", op, got, want)
	}
	var ke *keystate.Error
	if !errors.As(got, &ke) || ke.Code != want {
		t.Fatalf("%s: got %#v, want a *keystate.Error with code %v", op, got, want)
	}
	switch want {
	case keystate.ErrValidation, keystate.ErrInvalidMarker:
	default:
		if ke.KeyID != errID {
			t.Fatalf("%s: %v names %q, want %q", op, want, ke.KeyID, errID)
		}
	}
	if suffix != "" && ke.Message != errID+suffix {
		t.Fatalf("%s: message %q, want %q", op, ke.Message, errID+suffix)
	}
	if hasExact && ke.Message != exact {
		t.Fatalf("%s: message %q, want %q", op, ke.Message, exact)
	}
}

// mdlMsg is a predicted error whose message mdlExpect checks too: the key
// ARN the error names, then suffix.
type mdlMsg struct {
	code   error
	suffix string
}

func (e mdlMsg) Error() string { return e.code.Error() + ": <ARN>" + e.suffix }

// mdlExact is a predicted error whose whole message mdlExpect checks,
// possibly empty (AWS sends no message).
type mdlExact struct {
	code error
	msg  string
}

func (e mdlExact) Error() string { return fmt.Sprintf("%v: %q", e.code, e.msg) }

// The predicted errors of the multi-Region states and roles: footnotes
// [14] and [15], and the recorded wording for a key that is not a
// multi-Region primary (D8 for replicas).
var (
	mdlErrCreating   error = mdlMsg{keystate.ErrKMSInvalidState, " is creating."}
	mdlErrUpdating   error = mdlMsg{keystate.ErrKMSInvalidState, " is updating."}
	mdlErrNotPrimary error = mdlMsg{keystate.ErrUnsupportedOperation, " is not a multi-region primary key."}
	// D8: rotation calls on an asymmetric or HMAC key; real AWS answers
	// with no message (real-aws-recordings row 3a, D19).
	mdlErrNotSymmetric error = mdlExact{keystate.ErrUnsupportedOperation, ""}
)

// ---- Actions ----

func (m *mdlModel) createKey(t *rapid.T) {
	if live := m.liveCount(); live >= mdlMaxLiveKeys || len(m.keys) >= mdlMaxKeys {
		t.Skip("enough keys")
	}
	m.create(t, 10)
}

// liveCount is the number of live keys, in every Region.
func (m *mdlModel) liveCount() int {
	n := 0
	for _, k := range m.keys {
		if k.live() {
			n++
		}
	}
	return n
}

// create creates a key of a random kind, mostly symmetric, mostly in the
// default Region, a quarter of them multi-Region primaries (three quarters
// in multi-Region heavy runs); choices 8 and 9
// are a key in the custom key store (refused unless the store is
// CONNECTED; in the default Region, never multi-Region), choice 10 is
// refused.
func (m *mdlModel) create(t *rapid.T, maxChoice int) {
	m.createKind(t, rapid.IntRange(0, maxChoice).Draw(t, "keyKind"))
}

// createKind creates a key of the given choice of create.
func (m *mdlModel) createKind(t *rapid.T, choice int) {
	in := &kms.CreateKeyInput{}
	region := m.regions[0]
	if choice < 8 {
		if m.mrHeavy {
			in.MultiRegion = rapid.IntRange(0, 3).Draw(t, "multiRegion") != 0
		} else {
			in.MultiRegion = rapid.IntRange(0, 3).Draw(t, "multiRegion") == 0
		}
		if rapid.IntRange(0, 3).Draw(t, "createRegion") == 0 {
			region = rapid.SampledFrom(m.regions).Draw(t, "region")
		}
	}
	ctx := m.ctxs[region]
	var kind mdlKind
	switch choice {
	case 0, 1, 2, 3, 4:
		kind = mdlSym
	case 5:
		a := mdlDrawAsymSpec(t)
		kind, in.KeySpec, in.KeyUsage = mdlAsym, a.spec, a.usage
	case 6:
		spec := rapid.SampledFrom([]string{"HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"}).Draw(t, "hmacSpec")
		kind, in.KeySpec, in.KeyUsage = mdlHMAC, spec, "GENERATE_VERIFY_MAC"
	case 7:
		kind, in.Origin = mdlExt, "EXTERNAL"
	case 8, 9:
		kind, in.Origin, in.CustomKeyStoreId = mdlCKS, "AWS_CLOUDHSM", m.cksID
		if m.cksState != kms.ConnectionConnected {
			out, err := m.svc.CreateKey(ctx, in)
			mdlExpect(t, "CreateKey(AWS_CLOUDHSM, store "+m.cksState+")", err, keystate.ErrCustomKeyStoreInvalidState, "")
			if out != nil {
				t.Fatalf("CreateKey refused but returned %+v", out)
			}
			return
		}
	case 10:
		// An asymmetric KeySpec without KeyUsage: ValidationException, no key.
		in.KeySpec = "RSA_2048"
		out, err := m.svc.CreateKey(ctx, in)
		mdlExpect(t, "CreateKey(RSA_2048 without KeyUsage)", err, keystate.ErrValidation, "")
		if out != nil {
			t.Fatalf("CreateKey refused but returned %+v", out)
		}
		return
	}
	// Now and then a key policy of its own (issue 14): the root creates
	// the key, so a policy only app may change needs the bypass.
	pol := mdlPolDefault
	if m.started && rapid.IntRange(0, 5).Draw(t, "createPolicy") == 0 {
		pol, in.BypassPolicyLockoutSafetyCheck = mdlDrawPolicy(t)
		in.Policy = m.policyText(pol)
		if !in.BypassPolicyLockoutSafetyCheck && pol.decide(mdlRoot, "kms:PutKeyPolicy") != mdlAllow {
			out, err := m.svc.CreateKey(ctx, in)
			mdlExpect(t, "CreateKey(a policy that locks the root out)", err, mdlErrLockout(), "")
			if out != nil {
				t.Fatalf("CreateKey refused but returned %+v", out)
			}
			return
		}
	}
	out, err := m.svc.CreateKey(ctx, in)
	mdlExpect(t, fmt.Sprintf("CreateKey(%s %s %s, %s, multi-Region %v)", kind, in.KeySpec, in.KeyUsage, region, in.MultiRegion), err, nil, "")
	md := out.KeyMetadata
	k := &mdlKey{id: md.KeyId, arn: md.Arn, region: region, kind: kind, state: mdlEnabled, material0: md.CurrentKeyMaterialId,
		created: m.now, mdlRot: &mdlRot{}}
	if kind == mdlAsym || kind == mdlHMAC {
		k.asym = &mdlAsymMat{spec: in.KeySpec, usage: in.KeyUsage}
	}
	if kind == mdlExt {
		k.state = mdlPendingImport
	}
	if in.MultiRegion {
		k.fam = &mdlFamily{owner: k, members: []*mdlKey{k}}
	}
	if md.Arn != m.arnIn(region, md.KeyId) || md.KeyState != k.state || md.Enabled != (k.state == mdlEnabled) ||
		!md.CreationDate.Equal(m.now) || md.DeletionDate != nil || md.MultiRegion != in.MultiRegion ||
		strings.HasPrefix(md.KeyId, "mrk-") != in.MultiRegion {
		t.Fatalf("CreateKey(%s, multi-Region %v): metadata %+v, want state %s created %v in %s",
			kind, in.MultiRegion, md, k.state, m.now, region)
	}
	m.checkMetadata(t, k, md, nil)
	if kind == mdlSym && len(md.CurrentKeyMaterialId) != 64 {
		t.Fatalf("CreateKey: CurrentKeyMaterialId %q is not 64 hex digits", md.CurrentKeyMaterialId)
	}
	for _, o := range m.keys {
		if o.id == k.id {
			t.Fatalf("CreateKey: key ID %s issued twice", k.id)
		}
	}
	m.keys = append(m.keys, k)
	if in.Policy != "" {
		m.setPolicy(t, k, pol)
	}
}

func (m *mdlModel) enableKey(t *rapid.T) {
	m.enable(t, m.pickWhere(t, func(k *mdlKey) bool { return k.state == mdlDisabled || k.state == mdlUnavailable }))
}

// mdlEnableErr predicts EnableKey and DisableKey: the identifier, then the
// key-state table ([3], [5], [14], [15]).
func mdlEnableErr(r mdlRef) error {
	switch {
	case r.err != nil:
		return r.err
	case r.k.pendingDeletion(), r.k.state == mdlPendingImport:
		return keystate.ErrKMSInvalidState // [3], [5]
	case r.k.state == mdlCreating:
		return mdlErrCreating
	case r.k.state == mdlUpdating:
		return mdlErrUpdating
	}
	return nil
}

func (m *mdlModel) enable(t *rapid.T, r mdlRef) {
	r = m.as(t, r, "kms:EnableKey")
	k, want := r.k, mdlEnableErr(r)
	_, err := m.svc.EnableKey(r.ctx, &kms.EnableKeyInput{KeyId: r.id})
	mdlExpect(t, "EnableKey", err, want, r.errID)
	if want != nil || k.state == mdlEnabled {
		return
	}
	if k.state == mdlUnavailable {
		k.desired = mdlEnabled // [12]: takes effect on reconnect
		return
	}
	// Disabled → Enabled. D12: one catch-up rotation now if a scheduled
	// date passed meanwhile, else the schedule resumes unchanged. A
	// replica rotates with its primary, never on its own.
	m.enterEnabled(k)
	if k.owns() && k.autoOn && !k.next.After(m.now) {
		m.rotateAuto(k, m.now, false)
	}
}

// enterEnabled makes k Enabled, closing the stretch out of Enabled of the
// key that owns the rotation.
func (m *mdlModel) enterEnabled(k *mdlKey) {
	k.state = mdlEnabled
	if !k.owns() {
		return
	}
	if n := len(k.stretches); n > 0 && !k.stretches[n-1].closed {
		k.stretches[n-1].end, k.stretches[n-1].closed = m.now, true
	}
}

// leaveEnabled records the start of a stretch out of Enabled of the key
// that owns the rotation (a replica's state does not matter to it).
func (m *mdlModel) leaveEnabled(k *mdlKey) {
	if !k.owns() {
		return
	}
	k.pristine = false
	s := mdlStretch{start: m.now, autoOn: k.autoOn, next: k.next}
	if k.odRun {
		s.odEnd = k.odTo
	}
	k.stretches = append(k.stretches, s)
}

func (m *mdlModel) disableKey(t *rapid.T) {
	r := m.pickWhere(t, func(k *mdlKey) bool { return k.state == mdlEnabled || k.state == mdlUnavailable })
	r = m.as(t, r, "kms:DisableKey")
	k, want := r.k, mdlEnableErr(r)
	_, err := m.svc.DisableKey(r.ctx, &kms.DisableKeyInput{KeyId: r.id})
	mdlExpect(t, "DisableKey", err, want, r.errID)
	if want == nil && k.state == mdlEnabled {
		m.leaveEnabled(k)
		k.state = mdlDisabled
	}
	if want == nil && k.state == mdlUnavailable {
		k.desired = mdlDisabled // [12]: takes effect on reconnect
	}
}

func (m *mdlModel) scheduleKeyDeletion(t *rapid.T) {
	// Mostly, if there are any: a primary with replicas, or a replica of
	// a primary waiting for its replicas' deletion (section b).
	r := m.pickWhere(t, func(k *mdlKey) bool {
		return !k.pendingDeletion() && k.state != mdlUpdating &&
			(k.hasReplicas() || k.fam != nil && k.fam.owner.state == mdlPendingReplica)
	})
	r = m.as(t, r, "kms:ScheduleKeyDeletion")
	k := r.k
	var window *int32
	days := int32(30)
	switch rapid.IntRange(0, 4).Draw(t, "windowKind") {
	case 0: // default 30
	case 1:
		days = rapid.SampledFrom([]int32{-1, 0, 6, 31, 365}).Draw(t, "badWindow")
		window = &days
	default:
		days = int32(rapid.IntRange(7, 30).Draw(t, "window"))
		window = &days
	}
	var want error
	switch {
	case days < 7 || days > 30:
		want = keystate.ErrValidation // D16, first (D3)
	case r.err != nil:
		want = r.err
	case k.pendingDeletion():
		want = keystate.ErrKMSInvalidState // [3]
	case k.state == mdlUpdating:
		want = mdlErrUpdating // [15]
	}
	out, err := m.svc.ScheduleKeyDeletion(r.ctx, &kms.ScheduleKeyDeletionInput{KeyId: r.id, PendingWindowInDays: window})
	mdlExpect(t, "ScheduleKeyDeletion", err, want, r.errID)
	if want != nil {
		return
	}
	if k.state == mdlEnabled {
		m.leaveEnabled(k)
	}
	// Also from Unavailable and Creating (a.2).
	k.desired, k.until, k.window = "", time.Time{}, int(days)
	if k.hasReplicas() {
		// Section b: a primary with replicas (live or pending deletion)
		// waits, with no DeletionDate, until its last replica is deleted.
		k.state = mdlPendingReplica
		if out == nil || out.DeletionDate != nil || out.KeyId != k.arn || out.KeyState != mdlPendingReplica ||
			out.PendingWindowInDays != days {
			t.Fatalf("ScheduleKeyDeletion of a primary with replicas: got %+v, want KeyId %s, %s, no DeletionDate, window %d",
				out, k.arn, mdlPendingReplica, days)
		}
		return
	}
	k.state = mdlPendingDeletion
	k.delAt = m.now.Add(time.Duration(days) * mdlDay)
	if out == nil || out.DeletionDate == nil || !out.DeletionDate.Equal(k.delAt) || out.KeyId != k.arn ||
		out.KeyState != mdlPendingDeletion || out.PendingWindowInDays != days {
		t.Fatalf("ScheduleKeyDeletion: got %+v, want DeletionDate %v, KeyId %s, window %d", out, k.delAt, k.arn, days)
	}
}

func (m *mdlModel) cancelKeyDeletion(t *rapid.T) {
	r := m.as(t, m.pickWhere(t, (*mdlKey).pendingDeletion), "kms:CancelKeyDeletion")
	k, want := r.k, r.err
	if want == nil && !k.pendingDeletion() {
		want = keystate.ErrKMSInvalidState // [4]
	}
	out, err := m.svc.CancelKeyDeletion(r.ctx, &kms.CancelKeyDeletionInput{KeyId: r.id})
	mdlExpect(t, "CancelKeyDeletion", err, want, r.errID)
	if want != nil {
		return
	}
	if out == nil || out.KeyId != k.arn {
		t.Fatalf("CancelKeyDeletion: got %+v, want KeyId %s", out, k.arn)
	}
	// Disabled, the rotation setting restored (recorded behaviour, D12;
	// also from PendingReplicaDeletion, section b). The stretch out of
	// Enabled goes on until EnableKey. An EXTERNAL key whose material is
	// gone goes back to PendingImport (kmsmodel's choice; a.4: usable only
	// while its material is present).
	k.state, k.delAt, k.window = mdlDisabled, time.Time{}, 0
	if k.kind == mdlExt && !k.complete() {
		k.state = mdlPendingImport
	}
	if k.kind == mdlCKS && m.cksState != kms.ConnectionConnected {
		// kmsmodel's choice (cks.go, doc.go): Unavailable like the store's
		// other keys, Disabled once the store connects.
		k.state, k.desired = mdlUnavailable, mdlDisabled
	}
}

// rotationConfigErr predicts EnableKeyRotation and DisableKeyRotation once
// the input is valid: the identifier, then the state column ([1] or [7]
// and [3] or [7]: the state footnote first; [6] in PendingImport), then
// the key kind (D2a for EXTERNAL and custom key store keys under [7], D8
// for asymmetric and HMAC). An Unavailable key gets ✗[7]: also
// UnsupportedOperationException.
//
// Multi-Region keys: [14] while Creating; ?[7] lets an Updating key
// through to the kind rules, where it reads as a replica; a replica is
// UnsupportedOperationException (D8) with the recorded wording.
func mdlRotationConfigErr(r mdlRef) error {
	if r.err != nil {
		return r.err
	}
	switch r.k.state {
	case mdlDisabled:
		return keystate.ErrDisabled
	case mdlPendingDeletion, mdlPendingReplica:
		return keystate.ErrKMSInvalidState
	case mdlPendingImport:
		return keystate.ErrUnsupportedOperation
	case mdlCreating:
		return mdlErrCreating
	}
	switch {
	case r.k.asym != nil:
		return mdlErrNotSymmetric
	case r.k.kind != mdlSym:
		return keystate.ErrUnsupportedOperation
	case r.k.role() == "REPLICA":
		return mdlErrNotPrimary
	}
	return nil
}

// mdlIsRotatingSym: an Enabled symmetric key that owns its rotation.
func mdlIsRotatingSym(k *mdlKey) bool { return mdlIsEnabledSym(k) && k.role() != "REPLICA" }

func (m *mdlModel) enableKeyRotation(t *rapid.T) {
	m.enableRotation(t, m.pickWhere(t, mdlIsRotatingSym))
}

func (m *mdlModel) enableRotation(t *rapid.T, r mdlRef) {
	r = m.as(t, r, "kms:EnableKeyRotation")
	k := r.k
	var in *int32
	period := int32(365) // D21
	switch rapid.IntRange(0, 5).Draw(t, "periodKind") {
	case 0:
	case 1:
		period = rapid.SampledFrom([]int32{-1, 0, 89, 2561, 100000}).Draw(t, "badPeriod")
		in = &period
	case 2, 3:
		period = rapid.SampledFrom([]int32{90, 91, 180, 365, 730}).Draw(t, "commonPeriod")
		in = &period
	default:
		period = int32(rapid.IntRange(90, 2560).Draw(t, "period"))
		in = &period
	}
	var want error
	if period < 90 || period > 2560 {
		want = keystate.ErrValidation // D16, first (D3)
	} else {
		want = mdlRotationConfigErr(r)
	}
	_, err := m.svc.EnableKeyRotation(r.ctx, &kms.EnableKeyRotationInput{KeyId: r.id, RotationPeriodInDays: in})
	mdlExpect(t, "EnableKeyRotation", err, want, r.errID)
	if want != nil {
		return
	}
	p := int(period)
	switch {
	case !k.autoOn:
		// First rotation one period from now, then every period.
		k.autoOn, k.period, k.anchor = true, p, m.now
		k.next = m.now.Add(time.Duration(p) * mdlDay)
		k.pristine, k.enabledAt = true, m.now
	case k.period == p:
		// D21: nothing changes.
	default:
		// D11: from the last automatic rotation (or the enable date).
		k.period, k.pristine = p, false
		if next := k.anchor.Add(time.Duration(p) * mdlDay); next.After(m.now) {
			k.next = next
		} else {
			m.rotateAuto(k, m.now, false)
		}
	}
}

func (m *mdlModel) disableKeyRotation(t *rapid.T) {
	r := m.pickWhere(t, func(k *mdlKey) bool { return k.autoOn && k.role() != "REPLICA" })
	r = m.as(t, r, "kms:DisableKeyRotation")
	want := mdlRotationConfigErr(r)
	_, err := m.svc.DisableKeyRotation(r.ctx, &kms.DisableKeyRotationInput{KeyId: r.id})
	mdlExpect(t, "DisableKeyRotation", err, want, r.errID)
	if want == nil {
		r.k.autoOn, r.k.pristine = false, false
	}
}

func (m *mdlModel) rotateKeyOnDemand(t *rapid.T) {
	m.rotateOnDemand(t, m.pickWhere(t, mdlIsRotatingSym))
}

// rotateOnDemand predicts RotateKeyOnDemand: the identifier, the key-state
// table ([1], [3], [5], [14]; ?[7] while Updating), the kind (D2, D8, [7];
// a replica, and an Updating key, which reads as one: D8), then the quota
// of the multi-Region key (D1) and conflicts (D9).
func (m *mdlModel) rotateOnDemand(t *rapid.T, r mdlRef) {
	r = m.as(t, r, "kms:RotateKeyOnDemand")
	k := r.k
	var want error
	switch {
	case r.err != nil:
		want = r.err
	case k.state == mdlDisabled:
		want = keystate.ErrDisabled // [1]
	case k.pendingDeletion(), k.state == mdlPendingImport:
		want = keystate.ErrKMSInvalidState // [3], [5]
	case k.state == mdlCreating:
		want = mdlErrCreating // [14]
	case k.asym != nil:
		want = mdlErrNotSymmetric // D8
	case k.kind == mdlCKS, k.kind == mdlExt && !m.cur:
		want = keystate.ErrUnsupportedOperation // D2 (EXTERNAL), [7] (custom key store, also Unavailable)
	case k.role() == "REPLICA":
		want = mdlErrNotPrimary // D8
	case k.kind == mdlExt && (k.pending == nil || !k.pending.imported):
		// RulesCurrent (under Rules2024 [7] refused it above): recording 3f.
		want = mdlExact{keystate.ErrKMSInvalidState, "No available key material pending rotation for the key: " + k.arn + "."}
	case k.odN >= m.quota:
		want = keystate.ErrLimitExceeded // D1
	case k.odRun:
		want = keystate.ErrConflict // D9: an earlier on-demand rotation runs
	case k.autoOn && k.next.Sub(m.now) <= mdlConflictWindow:
		want = keystate.ErrConflict // D9: automatic rotation within 20 minutes
	}
	out, err := m.svc.RotateKeyOnDemand(r.ctx, &kms.RotateKeyOnDemandInput{KeyId: r.id})
	mdlExpect(t, "RotateKeyOnDemand", err, want, r.errID)
	if want != nil {
		return
	}
	if out == nil || out.KeyId != k.arn {
		t.Fatalf("RotateKeyOnDemand: got %+v, want KeyId %s", out, k.arn)
	}
	k.odN++ // D10: charged when accepted
	if m.odDur == 0 {
		k.rots = append(k.rots, mdlRotation{at: m.now, typ: "ON_DEMAND"})
		m.rotateMaterial(k)
	} else {
		k.odRun, k.odFrom, k.odTo = true, m.now, m.now.Add(m.odDur)
		if k.pending != nil {
			k.pending.rotating = true // D38
		}
	}
}

// statusErr predicts GetKeyRotationStatus: [6] in PendingImport, D2a [7]
// for EXTERNAL keys elsewhere and for custom key store keys in every state
// (?[7], and ✗[7] while Unavailable); asymmetric and HMAC keys answer (D8).
// Under RulesCurrent [7] no longer covers EXTERNAL keys (cur).
func mdlStatusErr(r mdlRef, cur bool) error {
	switch {
	case r.err != nil:
		return r.err
	case r.k.state == mdlPendingImport, r.k.kind == mdlExt && !cur, r.k.kind == mdlCKS:
		return keystate.ErrUnsupportedOperation
	}
	return nil
}

func (m *mdlModel) getKeyRotationStatus(t *rapid.T) {
	r := m.as(t, m.pick(t), "kms:GetKeyRotationStatus")
	want := mdlStatusErr(r, m.cur)
	out, err := m.svc.GetKeyRotationStatus(r.ctx, &kms.GetKeyRotationStatusInput{KeyId: r.id})
	mdlExpect(t, "GetKeyRotationStatus", err, want, r.errID)
	if want == nil {
		m.checkStatus(t, r.k, out)
	}
}

// checkStatus compares a GetKeyRotationStatus answer with decision D20.
func (m *mdlModel) checkStatus(t *rapid.T, k *mdlKey, out *kms.GetKeyRotationStatusOutput) {
	t.Helper()
	if out == nil || out.KeyId != k.arn {
		t.Fatalf("GetKeyRotationStatus(%s): got %+v, want KeyId %s", k.id, out, k.arn)
	}
	on := k.autoOn && !k.pendingDeletion() // D12, D20: false while pending deletion
	if out.KeyRotationEnabled != on {
		t.Fatalf("GetKeyRotationStatus(%s %s): KeyRotationEnabled %v, want %v", k.kind, k.state, out.KeyRotationEnabled, on)
	}
	if on {
		if out.RotationPeriodInDays == nil || int(*out.RotationPeriodInDays) != k.period {
			t.Fatalf("GetKeyRotationStatus(%s): RotationPeriodInDays %v, want %d", k.id, mdlI32(out.RotationPeriodInDays), k.period)
		}
		if out.NextRotationDate == nil || !out.NextRotationDate.Equal(k.next) {
			t.Fatalf("GetKeyRotationStatus(%s %s): NextRotationDate %v, want %v", k.id, k.state, mdlTime(out.NextRotationDate), k.next)
		}
	} else if out.RotationPeriodInDays != nil || out.NextRotationDate != nil {
		t.Fatalf("GetKeyRotationStatus(%s %s, rotation off): RotationPeriodInDays %v and NextRotationDate %v, want neither (D20)",
			k.id, k.state, mdlI32(out.RotationPeriodInDays), mdlTime(out.NextRotationDate))
	}
	switch {
	case k.odRun && (out.OnDemandRotationStartDate == nil || !out.OnDemandRotationStartDate.Equal(k.odFrom)):
		t.Fatalf("GetKeyRotationStatus(%s): OnDemandRotationStartDate %v, want %v", k.id, mdlTime(out.OnDemandRotationStartDate), k.odFrom)
	case !k.odRun && out.OnDemandRotationStartDate != nil:
		t.Fatalf("GetKeyRotationStatus(%s): OnDemandRotationStartDate %v, want none (no on-demand rotation in progress)",
			k.id, *out.OnDemandRotationStartDate)
	}
}

// listErr predicts ListKeyRotations once the input is valid: ✓ in
// PendingImport, D2a [7] for EXTERNAL keys elsewhere and for custom key
// store keys in every state (?[7], ✗[7] while Unavailable).
// Under RulesCurrent [7] no longer covers EXTERNAL keys (cur).
func mdlListErr(r mdlRef, cur bool) error {
	switch {
	case r.err != nil:
		return r.err
	case r.k.kind == mdlCKS, r.k.kind == mdlExt && r.k.state != mdlPendingImport && !cur:
		return keystate.ErrUnsupportedOperation
	}
	return nil
}

func (m *mdlModel) listKeyRotations(t *rapid.T) {
	r := m.as(t, m.pick(t), "kms:ListKeyRotations")
	var limit *int32
	valid := true
	switch rapid.IntRange(0, 3).Draw(t, "limitKind") {
	case 0: // default 100
	case 1:
		limit = kms.Int32(rapid.SampledFrom([]int32{-1, 0, 1001}).Draw(t, "badLimit"))
		valid = false
	default:
		limit = kms.Int32(int32(rapid.IntRange(1, 5).Draw(t, "limit")))
	}
	include := ""
	switch rapid.IntRange(0, 4).Draw(t, "includeKind") {
	case 1:
		include = "ROTATIONS_ONLY"
	case 2:
		// The original material is listed for AWS_KMS symmetric keys only;
		// for other kinds the decisions say nothing.
		if r.k == nil || r.k.kind == mdlSym {
			include = "ALL_KEY_MATERIAL"
		}
	case 3:
		include = "EVERYTHING"
		valid = false
	}
	var want error = keystate.ErrValidation
	if valid {
		want = mdlListErr(r, m.cur)
	}
	got, err := m.listAll(r.ctx, r.k, r.id, limit, include)
	mdlExpect(t, "ListKeyRotations", err, want, r.errID)
	if want == nil {
		m.compareRotations(t, r.k, got)
	}
}

// listKeyRotationsBad sends a marker ListKeyRotations did not issue for
// this key: garbage, another key's marker (InvalidMarkerException, D14), or
// one that breaks the documented Marker constraints (ValidationException,
// D16, first in D3 order).
func (m *mdlModel) listKeyRotationsBad(t *rapid.T) {
	r := m.as(t, m.pick(t), "kms:ListKeyRotations")
	var marker string
	invalid := false
	switch rapid.IntRange(0, 3).Draw(t, "markerKind") {
	case 0:
		marker = "garbage-marker"
	case 1:
		// A marker from another key's listing, if one can be had,
		// another key of the same multi-Region key included (D14).
		marker = "bm90LWEtbWFya2Vy" // base64 of "not-a-marker"
		for _, o := range m.keys {
			if o.live() && (r.k == nil || o != r.k) && len(o.rots) >= 2 && (o.kind != mdlExt || o.state == mdlPendingImport) {
				out, err := m.svc.ListKeyRotations(m.stewardCtx(o.region, o), &kms.ListKeyRotationsInput{KeyId: o.id, Limit: kms.Int32(1)})
				if err != nil || !out.Truncated || out.NextMarker == "" {
					t.Fatalf("ListKeyRotations(%s, Limit 1) of %d rotations: %+v, %v", o.id, len(o.rots), out, err)
				}
				marker = out.NextMarker
				break
			}
		}
	case 2:
		marker, invalid = "Ā-outside-U+0020–U+00FF", true // the pattern is [\u0020-\u00FF]*
	case 3:
		marker, invalid = strings.Repeat("m", 1025), true // length 1–1024
	}
	var want error
	switch {
	case invalid:
		want = keystate.ErrValidation
	default:
		if want = mdlListErr(r, m.cur); want == nil {
			want = keystate.ErrInvalidMarker
		}
	}
	_, err := m.svc.ListKeyRotations(r.ctx, &kms.ListKeyRotationsInput{KeyId: r.id, Marker: marker})
	mdlExpect(t, "ListKeyRotations(Marker "+mdlShort(marker)+")", err, want, r.errID)
}

func (m *mdlModel) describeKey(t *rapid.T) {
	r := m.as(t, m.pick(t), "kms:DescribeKey")
	out, err := m.svc.DescribeKey(r.ctx, &kms.DescribeKeyInput{KeyId: r.id})
	mdlExpect(t, "DescribeKey", err, r.err, r.errID)
	if r.err == nil {
		m.checkMetadata(t, r.k, out.KeyMetadata, nil)
	}
}

// ---- Cryptographic operations (issue 6) ----

// mdlCryptoErr predicts Encrypt and GenerateDataKey once the input is
// valid: the identifier (D3 steps 1–3), the key-state table a.2 ([1]; [3]
// per D17, recorded 6a–6b; [5], recorded 6c), then the key's usage (D3
// step 7): asymmetric SIGN_VERIFY and KEY_AGREEMENT keys and HMAC keys do
// not encrypt (recorded wording, asymmetric-hmac spec §2.5). An
// Unavailable key: [11]. A replica being created: [14]; UpdatePrimaryRegion
// does not stop cryptography (✓ while Updating). All with their exact
// messages (mdlUseErr).
func mdlCryptoErr(r mdlRef, op string) error {
	if err := mdlUseErr(r, op, "ENCRYPT_DECRYPT"); err != nil {
		return err
	}
	switch {
	case r.k.kind == mdlExt && !r.k.imported:
		// Only while Updating: the material expired during the update
		// (kmsmodel's reading: "<ARN> is pending import.").
		return keystate.ErrKMSInvalidState
	}
	return nil
}

// mdlDrawContext draws a small encryption context, often none.
func mdlDrawContext(t *rapid.T) map[string]string {
	return rapid.MapOfN(rapid.SampledFrom([]string{"tenant", "purpose", "ü"}),
		rapid.SampledFrom([]string{"", "a", "t-42", "ünïcode"}), 0, 2).Draw(t, "encryptionContext")
}

// mdlOtherContext returns an encryption context that differs from ec: a
// pair added, dropped or changed.
func mdlOtherContext(t *rapid.T, ec map[string]string) map[string]string {
	out := maps.Clone(ec)
	if out == nil {
		out = map[string]string{}
	}
	keys := slices.Sorted(maps.Keys(ec))
	switch how := rapid.IntRange(0, 2).Draw(t, "contextChange"); {
	case len(keys) == 0 || how == 0:
		out["added"] = "pair"
	case how == 1:
		delete(out, keys[rapid.IntRange(0, len(keys)-1).Draw(t, "droppedPair")])
	default:
		out[keys[rapid.IntRange(0, len(keys)-1).Draw(t, "changedPair")]] += "!"
	}
	return out
}

func (m *mdlModel) encrypt(t *rapid.T) {
	r := m.as(t, m.pickWhere(t, mdlIsEnabledEncrypt), "kms:Encrypt")
	pt := rapid.SliceOfN(rapid.Byte(), 1, 64).Draw(t, "plaintext")
	ec := mdlDrawContext(t)
	want := mdlCryptoErr(r, "Encrypt")
	out, err := m.svc.Encrypt(r.ctx, &kms.EncryptInput{KeyId: r.id, Plaintext: pt, EncryptionContext: ec})
	mdlExpect(t, "Encrypt", err, want, r.errID)
	if want != nil {
		return
	}
	if out == nil || out.KeyId != r.k.arn || out.EncryptionAlgorithm != "SYMMETRIC_DEFAULT" || len(out.CiphertextBlob) <= len(pt) {
		t.Fatalf("Encrypt(%s): got %+v, want KeyId %s, SYMMETRIC_DEFAULT, a blob longer than the plaintext", r.id, out, r.k.arn)
	}
	m.used(r.k, "Encrypt")
	m.cts = append(m.cts, &mdlCiphertext{k: r.k, id: r.k.id, region: r.region, pt: pt, ec: ec, blob: out.CiphertextBlob})
}

func (m *mdlModel) generateDataKey(t *rapid.T) {
	r := m.as(t, m.pickWhere(t, mdlIsEnabledEncrypt), "kms:GenerateDataKey")
	in := &kms.GenerateDataKeyInput{KeyId: r.id, EncryptionContext: mdlDrawContext(t)}
	size := 32
	switch rapid.IntRange(0, 2).Draw(t, "dataKeySpec") {
	case 0:
		in.KeySpec = "AES_256"
	case 1:
		in.KeySpec, size = "AES_128", 16
	case 2:
		size = rapid.IntRange(1, 64).Draw(t, "numberOfBytes")
		in.NumberOfBytes = kms.Int32(int32(size))
	}
	want := mdlCryptoErr(r, "GenerateDataKey")
	out, err := m.svc.GenerateDataKey(r.ctx, in)
	mdlExpect(t, "GenerateDataKey", err, want, r.errID)
	if want != nil {
		return
	}
	if out == nil || out.KeyId != r.k.arn || len(out.Plaintext) != size || len(out.CiphertextBlob) == 0 {
		t.Fatalf("GenerateDataKey(%s, %d bytes): got KeyId %v, %d bytes", r.id, size, out.KeyId, len(out.Plaintext))
	}
	m.used(r.k, "GenerateDataKey")
	m.cts = append(m.cts, &mdlCiphertext{k: r.k, id: r.k.id, region: r.region, pt: slices.Clone([]byte(out.Plaintext)),
		ec: in.EncryptionContext, blob: out.CiphertextBlob})
}

// mdlDecryptErr predicts Decrypt in a Region of a ciphertext whose key is
// named by blob (the ciphertext's key ID in that Region), with KeyId named
// (nil when absent) and the right encryption context or not: the blob's
// key must exist there (D7); KeyId, when given, must resolve and name that
// key (IncorrectKeyException); then the key-state table ([1]; [3] per D17;
// [5], [11], [14]); then the blob's authentication
// (InvalidCiphertextException). The error names the blob's key, or the
// missing key KeyId names.
func mdlDecryptErr(blob mdlRef, named *mdlRef, denied error, wrongContext bool) (string, error) {
	k := blob.k
	switch {
	case blob.err != nil:
		return blob.errID, blob.err
	case named != nil && named.err != nil:
		return named.errID, named.err
	case named != nil && named.k != k:
		return k.arn, keystate.ErrIncorrectKey
	case denied != nil:
		return k.arn, denied // the blob's key's policy and grants (issue 14)
	case k.state == mdlDisabled:
		return k.arn, keystate.ErrDisabled
	case k.pendingDeletion(), k.state == mdlPendingImport, k.state == mdlUnavailable:
		return k.arn, keystate.ErrKMSInvalidState // [3], [5], [11]
	case k.state == mdlCreating:
		return k.arn, mdlErrCreating
	case k.kind == mdlExt && !k.imported:
		return k.arn, keystate.ErrKMSInvalidState // Updating, its material expired meanwhile
	case wrongContext:
		return k.arn, keystate.ErrInvalidCiphertext
	}
	return "", nil
}

// decrypt decrypts a ciphertext, mostly in the Region it was made in,
// sometimes in another (a multi-Region key's other keys decrypt it, c.8).
func (m *mdlModel) decrypt(t *rapid.T) {
	if len(m.cts) == 0 {
		t.Skip("no ciphertext yet")
	}
	c := m.cts[rapid.IntRange(0, len(m.cts)-1).Draw(t, "ciphertext")]
	region := c.region
	if rapid.IntRange(0, 2).Draw(t, "decryptElsewhere") == 0 {
		region = rapid.SampledFrom(m.regions).Draw(t, "decryptRegion")
	}
	in := &kms.DecryptInput{CiphertextBlob: c.blob, EncryptionContext: c.ec}
	var named *mdlKey
	wrongContext := false
	switch rapid.IntRange(0, 3).Draw(t, "decryptKind") {
	case 0: // as made
	case 1:
		in.EncryptionContext, wrongContext = mdlOtherContext(t, c.ec), true
	case 2: // KeyId of another key, possibly deleted
		named = m.keys[rapid.IntRange(0, len(m.keys)-1).Draw(t, "namedKey")]
	case 3:
		named = c.k
	}
	w := mdlDrawWho(t)
	var nref *mdlRef
	if named != nil {
		in.KeyId = named.id
		if rapid.Bool().Draw(t, "keyIdByARN") {
			in.KeyId = named.arn
		}
		// KeyId is resolved, and authorized, first.
		r := m.asWho(m.resolveIn(region, in.KeyId), w, "kms:Decrypt")
		nref = &r
	}
	blob := m.resolveIn(region, c.id)
	var denied error
	if blob.err == nil {
		denied = m.deny(blob.k, w, "kms:Decrypt")
	}
	errID, want := mdlDecryptErr(blob, nref, denied, wrongContext)
	out, err := m.svc.Decrypt(m.ctxAs(m.ctxs[region], w), in)
	mdlExpect(t, "Decrypt in "+region, err, want, errID)
	if want == nil && (out == nil || !bytes.Equal(out.Plaintext, c.pt) || out.KeyId != blob.k.arn) {
		t.Fatalf("Decrypt in %s of a ciphertext of %s: got %+v, want %x from %s", region, c.k.arn, out, c.pt, blob.k.arn)
	}
	if want == nil {
		m.used(blob.k, "Decrypt")
	}
}

// checkCiphertexts is invariant (f): every recorded ciphertext decrypts to
// its plaintext, in the Region it was made in, while the key with its key
// ID there is Enabled (or Updating); otherwise Decrypt gives the state's
// exception, NotFoundException once no key has that ID there. At most 8
// ciphertexts per step, chosen at random.
func (m *mdlModel) checkCiphertexts(t *rapid.T) {
	idx := make([]int, 0, 8)
	if len(m.cts) <= 8 {
		for i := range m.cts {
			idx = append(idx, i)
		}
	} else {
		for range 8 {
			idx = append(idx, rapid.IntRange(0, len(m.cts)-1).Draw(t, "checkCiphertext"))
		}
	}
	for _, i := range idx {
		c := m.cts[i]
		blob := m.resolveIn(c.region, c.id)
		errID, want := mdlDecryptErr(blob, nil, nil, false)
		out, err := m.svc.Decrypt(m.stewardCtx(c.region, blob.k), &kms.DecryptInput{CiphertextBlob: c.blob, EncryptionContext: c.ec})
		mdlExpect(t, fmt.Sprintf("Decrypt of ciphertext %d of %s in %s (%s, check)", i, c.id, c.region, c.k.state), err, want, errID)
		if want == nil && (out == nil || !bytes.Equal(out.Plaintext, c.pt) || out.KeyId != blob.k.arn) {
			t.Fatalf("ciphertext %d of %s decrypts to %+v, want %x", i, c.k.arn, out, c.pt)
		}
		if want == nil {
			m.used(blob.k, "Decrypt")
		}
	}
}

// ---- Time ----

func (m *mdlModel) advanceClock(t *rapid.T) {
	var d time.Duration
	switch rapid.IntRange(0, 2).Draw(t, "scale") {
	case 0: // D9's 20-minute window and on-demand durations
		d = time.Duration(rapid.IntRange(1, 30*60).Draw(t, "seconds")) * time.Second
	case 1:
		d = time.Duration(rapid.IntRange(1, 10*24*60).Draw(t, "minutes")) * time.Minute
	case 2: // up to three years
		d = time.Duration(rapid.IntRange(1, 3*365*24).Draw(t, "hours")) * time.Hour
	}
	m.advance(t, d, rapid.Bool().Draw(t, "sweep"))
}

// advanceToEdge moves the clock to, or just around, an instant the model
// expects something at: an automatic rotation (and the edge of D9's window
// before it), the end of an on-demand rotation, a deletion, the end of
// Creating or Updating, the expiry of imported material; then, maybe,
// rotates that key on demand, enables it or changes its rotation period.
// While the custom key store is CONNECTING, its connection is such an
// instant too.
func (m *mdlModel) advanceToEdge(t *rapid.T) {
	if m.cksState == kms.ConnectionConnecting && rapid.IntRange(0, 2).Draw(t, "storeEdge") == 0 {
		off := rapid.SampledFrom([]time.Duration{-time.Microsecond, 0, 0, time.Microsecond}).Draw(t, "connectOffset")
		m.advance(t, m.connectAt.Add(off).Sub(m.now), rapid.Bool().Draw(t, "sweep"))
		return
	}
	var ks []*mdlKey
	for _, k := range m.keys {
		if k.live() && (k.autoOn || k.odRun || k.state == mdlPendingDeletion || !k.until.IsZero() ||
			len(k.expiries()) > 0) {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		t.Skip("nothing scheduled")
	}
	k := ks[rapid.IntRange(0, len(ks)-1).Draw(t, "key")]
	var targets []time.Time
	if k.autoOn {
		targets = append(targets, k.next) // also while Disabled: nothing may happen
		if m.odDur > 0 {
			// An on-demand rotation started then completes with the
			// automatic one.
			targets = append(targets, k.next.Add(-m.odDur))
		}
	}
	if k.odRun {
		targets = append(targets, k.odTo)
	}
	if k.state == mdlPendingDeletion {
		targets = append(targets, k.delAt)
	}
	if !k.until.IsZero() {
		targets = append(targets, k.until) // Creating or Updating ends
	}
	targets = append(targets, k.expiries()...) // imported material expires
	target := targets[rapid.IntRange(0, len(targets)-1).Draw(t, "target")]
	var off time.Duration // mostly the instant itself
	if rapid.IntRange(0, 2).Draw(t, "offsetKind") == 0 {
		off = rapid.SampledFrom([]time.Duration{
			-mdlConflictWindow - time.Microsecond, -mdlConflictWindow, -mdlConflictWindow + time.Microsecond,
			-time.Second, -time.Microsecond, time.Microsecond,
		}).Draw(t, "offset")
	}
	to := target.Add(off)
	if to.Before(m.now) {
		t.Skip("edge already passed")
	}
	m.advance(t, to.Sub(m.now), rapid.Bool().Draw(t, "sweep"))
	r := m.resolveIn(k.region, k.arn) // deleted at the edge: NotFoundException (D7)
	switch rapid.IntRange(0, 3).Draw(t, "then") {
	case 1: // D9 at the edge of its window; on-demand ending with an automatic rotation
		m.rotateOnDemand(t, r)
	case 2: // D12 catch-up, or not, right at the scheduled date
		m.enable(t, r)
	case 3: // D11 right before or after the scheduled date
		m.enableRotation(t, r)
	}
}

// advance moves the clock by d, lets the model apply what falls due, and,
// if sweep, has the service do the same at once and compares the counts.
func (m *mdlModel) advance(t *rapid.T, d time.Duration, sweep bool) {
	if max := mdlClockCap.Sub(m.now); d > max {
		d = max
	}
	to := m.now.Add(d)
	if got, err := m.clock.Advance(d); err != nil || !got.Equal(to) {
		t.Fatalf("ManualClock.Advance(%v) = %v, %v; want %v", d, got, err, to)
	}
	n, ambiguous := m.runDue(to)
	m.now = to
	if sweep {
		// The previous step's checks applied everything due before, so
		// Sweep applies exactly what fell due in (old now, now].
		if got := m.svc.Sweep(); got != n && !ambiguous {
			t.Fatalf("Sweep() applied %d events, the model expected %d", got, n)
		}
	}
}

// runDue applies, in time order, every event due by to: automatic rotations
// at their instants while the rotating key is Enabled or Updating (D12,
// D13), completions of on-demand rotations (D10), deletions at
// DeletionDate (D7) and the PendingDeletion of a primary whose last replica
// that was (section b), the ends of Creating and Updating. A multi-Region
// key's rotations happen once, on its owner, and every key of it has them
// (shared mdlRot). It returns how many events happened, and whether an
// on-demand completion fell at the instant of its key's deletion (which
// then may or may not count as applied).
func (m *mdlModel) runDue(to time.Time) (n int, ambiguous bool) {
	for {
		var at time.Time
		found := false
		consider := func(x time.Time) {
			if !x.After(to) && (!found || x.Before(at)) {
				at, found = x, true
			}
		}
		if m.cksState == kms.ConnectionConnecting {
			consider(m.connectAt)
		}
		for _, k := range m.keys {
			if !k.live() {
				continue
			}
			if k.rotates() && k.autoOn {
				consider(k.next)
			}
			if k.owns() && k.odRun {
				consider(k.odTo)
			}
			if k.state == mdlPendingDeletion {
				consider(k.delAt)
			}
			for _, at := range k.expiries() {
				consider(at)
			}
			if !k.until.IsZero() {
				consider(k.until)
			}
		}
		if !found {
			return n, ambiguous
		}
		save := m.now
		m.now = at
		if m.cksState == kms.ConnectionConnecting && m.connectAt.Equal(at) {
			// The store connects. It touches only Unavailable keys, which
			// have no other events, so its order among the events of this
			// instant does not matter.
			m.connected()
			n++
		}
		for _, k := range m.keys {
			if !k.live() {
				continue
			}
			od := k.owns() && k.odRun && k.odTo.Equal(at)
			expiry := slices.ContainsFunc(k.expiries(), func(x time.Time) bool { return x.Equal(at) })
			if k.state == mdlPendingDeletion && k.delAt.Equal(at) {
				if od || expiry {
					ambiguous = true
				}
				m.deleteKey(k, at)
				n++
				continue
			}
			auto := k.rotates() && k.autoOn && k.next.Equal(at)
			if auto {
				m.rotateAuto(k, at, od)
				n++
			}
			if od {
				k.odRun = false
				k.rots = append(k.rots, mdlRotation{at: at, typ: "ON_DEMAND", tie: auto})
				m.rotateMaterial(k)
				n++
			}
			if expiry {
				// The material expires at exactly ValidTo: the key is
				// PendingImport, unless it is pending deletion (a.4, b).
				// Under RulesCurrent each material at its own ValidTo; a
				// pending one is removed (D38).
				m.expireMaterials(k, at)
				n++
			}
			if !k.until.IsZero() && k.until.Equal(at) {
				m.settle(k)
				n++
			}
		}
		m.now = save
	}
}

// deleteKey is the end of k's waiting period (D7). When k was the last
// replica of a primary in PendingReplicaDeletion, the primary's own
// waiting period starts now (section b).
func (m *mdlModel) deleteKey(k *mdlKey, at time.Time) {
	f := k.fam
	for _, g := range k.grants {
		g.gone = true // a key's grants go with it
	}
	*k = mdlKey{id: k.id, arn: k.arn, region: k.region, kind: k.kind, state: mdlDeleted, mdlRot: &mdlRot{}, asym: k.asym}
	if f == nil {
		return
	}
	f.members = slices.DeleteFunc(f.members, func(o *mdlKey) bool { return o == k })
	if len(f.members) == 1 && f.members[0].state == mdlPendingReplica {
		p := f.members[0]
		p.state, p.delAt = mdlPendingDeletion, at.Add(time.Duration(p.window)*mdlDay)
	}
}

// settle ends k's Creating or Updating state. A new replica is Enabled, or
// PendingImport when its key is EXTERNAL (it has no material yet). After
// UpdatePrimaryRegion both keys are Enabled (both were Enabled before;
// aws-kms-behaviour.md b leaves the state open) and the owner is PRIMARY.
func (m *mdlModel) settle(k *mdlKey) {
	k.until = time.Time{}
	switch {
	case k.kind == mdlExt && !k.complete():
		// An EXTERNAL key whose material expired while Updating ends
		// PendingImport, as any key without its material (a.1; kms
		// 51c1d23, found by this test).
		k.state = mdlPendingImport
	default:
		k.state = mdlEnabled
	}
}

// loseMaterial is the deletion or expiry of k's imported material.
func (m *mdlModel) loseMaterial(k *mdlKey) {
	k.imported, k.validTo = false, time.Time{}
	switch k.state {
	case mdlEnabled:
		m.leaveEnabled(k)
		k.state = mdlPendingImport
	case mdlDisabled:
		k.state = mdlPendingImport
	}
}

// mdlImportErr predicts GetParametersForImport and ImportKeyMaterial once
// the input is valid: the identifier, then the key-state table (footnote
// [9] for a key that cannot have imported material; [8], and kmsmodel's
// choice for ImportKeyMaterial's ✗[9], for an EXTERNAL key pending
// deletion). GetParametersForImport refuses a key being created ([14]) or
// updated ([15]) whatever its origin.
func mdlImportErr(r mdlRef) error {
	switch {
	case r.err != nil:
		return r.err
	case r.k.state == mdlCreating:
		return mdlErrCreating
	case r.k.state == mdlUpdating:
		return mdlErrUpdating
	case r.k.kind != mdlExt:
		return keystate.ErrUnsupportedOperation
	case r.k.pendingDeletion():
		return keystate.ErrKMSInvalidState
	}
	return nil
}

// importKeyMaterial gets import parameters and imports material: the
// key's own (or new 32 bytes the first time; a replica's is its primary's,
// c.8), or sometimes other material (IncorrectKeyMaterialException),
// expiring at a random instant up to a year ahead or never.
func (m *mdlModel) importKeyMaterial(t *rapid.T) {
	// The templates decide GetParametersForImport and ImportKeyMaterial
	// alike.
	r := m.as(t, m.pickWhere(t, func(k *mdlKey) bool { return k.kind == mdlExt }), "kms:GetParametersForImport")
	want := mdlImportErr(r)
	p, err := m.svc.GetParametersForImport(r.ctx, &kms.GetParametersForImportInput{KeyId: r.id,
		WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
	mdlExpect(t, "GetParametersForImport", err, want, r.errID)
	if want != nil {
		return
	}
	k := r.k
	if m.cur && k.fam == nil {
		m.importToday(t, r, p)
		return
	}
	mat := k.mat
	wrong := false
	if mat == nil {
		mat = rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "material")
	} else if rapid.IntRange(0, 4).Draw(t, "otherMaterial") == 0 {
		mat = slices.Clone(mat)
		mat[rapid.IntRange(0, 31).Draw(t, "flippedByte")] ^= 0x80
		wrong = true
	}
	pk, err := x509.ParsePKIXPublicKey(p.PublicKey)
	if err != nil {
		t.Fatalf("GetParametersForImport: PublicKey: %v", err)
	}
	wrapped, err := rsa.EncryptOAEP(sha256.New(), crand.Reader, pk.(*rsa.PublicKey), mat, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := &kms.ImportKeyMaterialInput{KeyId: r.id, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped}
	var validTo time.Time
	if rapid.Bool().Draw(t, "expires") {
		validTo = m.now.Add(time.Duration(rapid.Int64Range(int64(time.Minute), int64(365*mdlDay)).Draw(t, "validFor")).Truncate(time.Microsecond))
		in.ValidTo = &validTo
	} else {
		in.ExpirationModel = "KEY_MATERIAL_DOES_NOT_EXPIRE"
	}
	if wrong {
		want = keystate.ErrIncorrectKeyMaterial
	}
	out, err := m.svc.ImportKeyMaterial(r.ctx, in)
	mdlExpect(t, "ImportKeyMaterial", err, want, k.arn)
	if want != nil {
		return
	}
	k.mat, k.imported, k.validTo, k.matID = mat, true, validTo, out.KeyMaterialId
	if k.state == mdlPendingImport {
		m.enterEnabled(k)
	}
}

// deleteImportedKeyMaterial: footnote [9] for keys that cannot have
// imported material; otherwise the key becomes PendingImport, or stays
// pending deletion.
func (m *mdlModel) deleteImportedKeyMaterial(t *rapid.T) {
	r := m.as(t, m.pickWhere(t, func(k *mdlKey) bool { return k.kind == mdlExt && k.imported }), "kms:DeleteImportedKeyMaterial")
	if m.cur && r.err == nil && r.k.kind == mdlExt && r.k.fam == nil && r.k.matID != "" {
		m.deleteToday(t, r)
		return
	}
	want := r.err
	switch {
	case want != nil:
	case r.k.state == mdlCreating:
		want = mdlErrCreating
	case r.k.state == mdlUpdating:
		want = mdlErrUpdating
	case r.k.state == mdlUnavailable:
		// N/A in the table: the state's KMSInvalidStateException
		// (keystate.Check, kmsmodel's reading of N/A).
		want = keystate.ErrKMSInvalidState
	case r.k.kind != mdlExt:
		want = keystate.ErrUnsupportedOperation
	}
	_, err := m.svc.DeleteImportedKeyMaterial(r.ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: r.id})
	mdlExpect(t, "DeleteImportedKeyMaterial", err, want, r.errID)
	if want == nil {
		m.loseMaterial(r.k)
	}
}

// ---- The custom key store (issue 5) ----

// mdlOtherStoreID is a well-formed custom key store ID that is not the
// model's store.
func (m *mdlModel) otherStoreID() string {
	if id := "cks-0123456789abcdef0"; id != m.cksID {
		return id
	}
	return "cks-fedcba9876543210f"
}

// connectStore: on a DISCONNECTED store the call succeeds and the store
// connects (at once, or CONNECTING for the connect duration); on a
// CONNECTED or CONNECTING store it succeeds and changes nothing. An unknown
// store: CustomKeyStoreNotFoundException.
func (m *mdlModel) connectStore(t *rapid.T) {
	if rapid.IntRange(0, 7).Draw(t, "unknownStore") == 0 {
		_, err := m.svc.ConnectCustomKeyStore(m.ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: m.otherStoreID()})
		mdlExpect(t, "ConnectCustomKeyStore(unknown store)", err, keystate.ErrCustomKeyStoreNotFound, "")
		return
	}
	m.connect(t)
}

func (m *mdlModel) connect(t *rapid.T) {
	_, err := m.svc.ConnectCustomKeyStore(m.ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: m.cksID})
	mdlExpect(t, "ConnectCustomKeyStore ("+m.cksState+")", err, nil, "")
	if m.cksState != kms.ConnectionDisconnected {
		return
	}
	if m.cksDur > 0 {
		m.cksState, m.connectAt = kms.ConnectionConnecting, m.now.Add(m.cksDur)
		return
	}
	m.connected()
}

// connected makes the store CONNECTED: each Unavailable key returns to the
// state it is meant to be in ([12]); keys pending deletion are untouched.
func (m *mdlModel) connected() {
	m.cksState, m.connectAt = kms.ConnectionConnected, time.Time{}
	for _, k := range m.keys {
		if k.live() && k.kind == mdlCKS && k.state == mdlUnavailable {
			k.state, k.desired = k.desired, ""
			if k.state == mdlEnabled {
				if n := len(k.stretches); n > 0 && !k.stretches[n-1].closed {
					k.stretches[n-1].end, k.stretches[n-1].closed = m.now, true
				}
			}
		}
	}
}

// disconnectStore: a DISCONNECTED store → CustomKeyStoreInvalidStateException;
// otherwise (CONNECTED or CONNECTING) the store is DISCONNECTED and each of
// its Enabled or Disabled keys Unavailable, remembering which; keys pending
// deletion stay so ([13]).
func (m *mdlModel) disconnectStore(t *rapid.T) {
	if rapid.IntRange(0, 7).Draw(t, "unknownStore") == 0 {
		_, err := m.svc.DisconnectCustomKeyStore(m.ctx, &kms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: m.otherStoreID()})
		mdlExpect(t, "DisconnectCustomKeyStore(unknown store)", err, keystate.ErrCustomKeyStoreNotFound, "")
		return
	}
	var want error
	if m.cksState == kms.ConnectionDisconnected {
		want = keystate.ErrCustomKeyStoreInvalidState
	}
	_, err := m.svc.DisconnectCustomKeyStore(m.ctx, &kms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: m.cksID})
	mdlExpect(t, "DisconnectCustomKeyStore ("+m.cksState+")", err, want, "")
	if want != nil {
		return
	}
	m.cksState, m.connectAt = kms.ConnectionDisconnected, time.Time{}
	for _, k := range m.keys {
		if k.live() && k.kind == mdlCKS && (k.state == mdlEnabled || k.state == mdlDisabled) {
			if k.state == mdlEnabled {
				m.leaveEnabled(k)
			}
			k.state, k.desired = mdlUnavailable, k.state
		}
	}
}

// rotateAuto records an automatic rotation at instant at; the schedule
// continues a period later (D13, D11, D12).
func (m *mdlModel) rotateAuto(k *mdlKey, at time.Time, tie bool) {
	k.rots = append(k.rots, mdlRotation{at: at, typ: "AUTOMATIC", tie: tie})
	k.anchor = at
	k.next = at.Add(time.Duration(k.period) * mdlDay)
}

// ---- Invariants ----

// check runs after every step. The clock has not moved since the model
// applied what was due, so every call sees the state the model holds; as
// the model does not change on a refused call, this is also the check that
// a refused call changed nothing.
func (m *mdlModel) check(t *rapid.T) {
	m.checks++
	live := map[string]int{}
	var nextEvent time.Time
	if m.cksState == kms.ConnectionConnecting {
		nextEvent = m.connectAt
	}
	// The store's ConnectionState is the model's.
	stores, err := m.svc.DescribeCustomKeyStores(m.ctx, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreId: m.cksID})
	if err != nil || len(stores.CustomKeyStores) != 1 || stores.CustomKeyStores[0].ConnectionState != m.cksState {
		t.Fatalf("DescribeCustomKeyStores(%s): %+v, %v; the model's store is %s", m.cksID, stores, err, m.cksState)
	}
	seen := make(map[*mdlKey]mdlSeen, len(m.keys))
	for _, k := range m.keys {
		ctx := m.stewardCtx(k.region, k)
		if !k.live() {
			if m.liveAt(k.region, k.id) == nil { // not replicated there again
				_, err := m.svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.id})
				mdlExpect(t, "DescribeKey(deleted key)", err, keystate.ErrNotFound, k.arn)
			}
			continue
		}
		live[k.region]++
		for _, x := range []struct {
			ok bool
			at time.Time
		}{{k.rotates() && k.autoOn, k.next}, {k.owns() && k.odRun, k.odTo}, {k.state == mdlPendingDeletion, k.delAt},
			{!k.until.IsZero(), k.until}} {
			if x.ok && (nextEvent.IsZero() || x.at.Before(nextEvent)) {
				nextEvent = x.at
			}
		}

		// (d) ListKeyRotations, read fully with a small Limit.
		limit := 1 + m.checks%3
		if n := len(k.rots); n > 12 {
			limit = n/5 + 1
		}
		rots, err := m.listAll(ctx, k, k.id, kms.Int32(int32(limit)), "")
		self := mdlRef{k: k, id: k.id, region: k.region, ctx: ctx, errID: k.arn}
		mdlExpect(t, "ListKeyRotations (check)", err, mdlListErr(self, m.cur), k.arn)
		if err == nil {
			m.compareRotations(t, k, rots)
			m.checkHistory(t, k, rots)
		}

		// (e) DescribeKey and GetKeyRotationStatus.
		out, err := m.svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.arn})
		mdlExpect(t, "DescribeKey (check)", err, nil, k.arn)
		m.checkMetadata(t, k, out.KeyMetadata, rots)
		st, err := m.svc.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: k.id})
		mdlExpect(t, "GetKeyRotationStatus (check)", err, mdlStatusErr(self, m.cur), k.arn)
		if err == nil {
			m.checkStatus(t, k, st)
		}
		seen[k] = mdlSeen{rots: rots, status: st}

		// (i) The key policy and grants (issue 14).
		m.checkPolicyAndGrants(t, k, ctx)

		// (j) Today's rules: an EXTERNAL key's materials (issue 16).
		if m.cur && k.kind == mdlExt && k.fam == nil && k.matID != "" {
			m.checkMaterials(t, k, ctx, out.KeyMetadata)
		}
	}

	// (g) The keys of each multi-Region key agree (c.8, D1, D20).
	m.checkFamilies(t, seen)

	// (f) Ciphertexts decrypt while their key is Enabled (issue 6).
	m.checkCiphertexts(t)

	// (h) Public keys never change; signatures and MACs still verify
	// (issue 13).
	m.checkAsymmetric(t)

	// Every live key is listed in its Region, deleted ones are not (D7).
	for _, region := range m.regions {
		keys, err := m.svc.ListKeys(m.ctxs[region], &kms.ListKeysInput{Limit: kms.Int32(1000)})
		if err != nil || len(keys.Keys) != live[region] {
			t.Fatalf("ListKeys in %s: %d keys (%v), the model has %d live keys there", region, mdlLen(keys), err, live[region])
		}
		for _, e := range keys.Keys {
			if k := m.liveAt(region, e.KeyId); k == nil || e.KeyArn != k.arn {
				t.Fatalf("ListKeys in %s lists %s (%s), which the model does not have there", region, e.KeyId, e.KeyArn)
			}
		}
	}
	// The service still has every event the model expects queued.
	if !nextEvent.IsZero() {
		got, ok := m.svc.NextEventTime()
		if !ok || !got.After(m.now) || got.After(nextEvent) {
			t.Fatalf("NextEventTime() = %v, %v; the model's next event is at %v (now %v)", got, ok, nextEvent, m.now)
		}
	}
}

// listAll reads a key's whole ListKeyRotations listing page by page and
// checks the paging itself: Truncated iff NextMarker, full pages while
// truncated.
func (m *mdlModel) listAll(ctx context.Context, k *mdlKey, id string, limit *int32, include string) ([]kms.RotationsListEntry, error) {
	var all []kms.RotationsListEntry
	marker := ""
	for page := 0; ; page++ {
		out, err := m.svc.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{
			KeyId: id, Limit: limit, Marker: marker, IncludeKeyMaterial: include})
		if err != nil {
			if page > 0 {
				return nil, errors.New("ListKeyRotations failed on a later page: " + err.Error())
			}
			return nil, err
		}
		lim := 100
		if limit != nil {
			lim = int(*limit)
		}
		if len(out.Rotations) > lim || out.Truncated != (out.NextMarker != "") ||
			out.Truncated && len(out.Rotations) != lim || page > 2000 {
			return nil, errors.New("ListKeyRotations paging is inconsistent")
		}
		all = append(all, out.Rotations...)
		if !out.Truncated {
			break
		}
		marker = out.NextMarker
	}
	if include == "ALL_KEY_MATERIAL" && k != nil && k.kind == mdlSym {
		current := "NON_CURRENT"
		if len(all) == 1 {
			current = "CURRENT"
		}
		if len(all) == 0 || all[0].RotationDate != nil || all[0].RotationType != "" || all[0].KeyMaterialId != k.material0 ||
			all[0].KeyMaterialState != current {
			return nil, errors.New("ALL_KEY_MATERIAL: the first entry is not the original material")
		}
		all = all[1:]
	}
	return all, nil
}

// compareRotations is invariant (d): the listing equals the model's
// rotations exactly, oldest first (D14). Only a tie the model marked (an
// automatic rotation and an on-demand completion due at the same instant)
// may come in either order.
func (m *mdlModel) compareRotations(t *rapid.T, k *mdlKey, got []kms.RotationsListEntry) {
	t.Helper()
	want := k.rots
	if len(got) != len(want) {
		t.Fatalf("ListKeyRotations(%s): %d rotations %s, the model expects %d %s",
			k.id, len(got), mdlFormatGot(got), len(want), mdlFormatWant(want))
	}
	for i := 0; i < len(want); {
		j := i + 1
		if want[i].tie {
			for j < len(want) && want[j].tie && want[j].at.Equal(want[i].at) {
				j++
			}
		}
		wantTypes, gotTypes := map[string]int{}, map[string]int{}
		for x := i; x < j; x++ {
			if got[x].RotationDate == nil || !got[x].RotationDate.Equal(want[x].at) {
				t.Fatalf("ListKeyRotations(%s): entry %d dated %v, want %v\n got %s\nwant %s",
					k.id, x, mdlTime(got[x].RotationDate), want[x].at, mdlFormatGot(got), mdlFormatWant(want))
			}
			wantTypes[want[x].typ]++
			gotTypes[got[x].RotationType]++
		}
		for typ, n := range wantTypes {
			if gotTypes[typ] != n {
				t.Fatalf("ListKeyRotations(%s): entries %d–%d are %v, want %v\n got %s\nwant %s",
					k.id, i, j-1, gotTypes, wantTypes, mdlFormatGot(got), mdlFormatWant(want))
			}
		}
		i = j
	}
	seen := map[string]bool{k.material0: true}
	for i, e := range got {
		state := "NON_CURRENT"
		if i == len(got)-1 {
			state = "CURRENT"
		}
		if e.KeyId != k.id || e.KeyMaterialState != state || len(e.KeyMaterialId) != 64 || seen[e.KeyMaterialId] {
			t.Fatalf("ListKeyRotations(%s): entry %d is %+v, want KeyId %s, KeyMaterialState %s, a new KeyMaterialId",
				k.id, i, e, k.id, state)
		}
		seen[e.KeyMaterialId] = true
	}
}

// checkHistory checks invariants (a), (b) and (c) on the listing itself,
// independently of the model's list.
func (m *mdlModel) checkHistory(t *rapid.T, k *mdlKey, got []kms.RotationsListEntry) {
	t.Helper()
	// (a) D1: on-demand rotations listed plus in progress stay within quota.
	od := 0
	for _, e := range got {
		if e.RotationType == "ON_DEMAND" {
			od++
		}
	}
	if k.odRun {
		od++
	}
	if od > m.quota {
		t.Fatalf("key %s: %d on-demand rotations listed or running, quota %d (D1)", k.id, od, m.quota)
	}

	// (b) D13, and on-demand rotations do not move the schedule: automatic
	// rotation enabled at E with period P on a key Enabled since rotates
	// at exactly E + k·P.
	if k.pristine {
		p := time.Duration(k.period) * mdlDay
		var autos []time.Time
		for _, e := range got {
			if e.RotationType == "AUTOMATIC" && e.RotationDate.After(k.enabledAt) {
				autos = append(autos, *e.RotationDate)
			}
		}
		n := int(m.now.Sub(k.enabledAt) / p)
		if len(autos) != n {
			t.Fatalf("key %s: rotation enabled %v every %d days; %d automatic rotations since by %v, want %d",
				k.id, k.enabledAt, k.period, len(autos), m.now, n)
		}
		for i, at := range autos {
			if want := k.enabledAt.Add(time.Duration(i+1) * p); !at.Equal(want) {
				t.Fatalf("key %s: automatic rotation %d at %v, want %v (enabled %v, every %d days)",
					k.id, i+1, at, want, k.enabledAt, k.period)
			}
		}
	}

	// (c) D12: no rotation while Disabled or PendingDeletion, except the
	// completion of an on-demand rotation accepted before; on EnableKey
	// exactly one catch-up rotation if a scheduled date passed.
	for _, s := range k.stretches {
		end := m.now
		if s.closed {
			end = s.end
		}
		atEnd := 0
		for _, e := range got {
			at := *e.RotationDate
			inside := at.After(s.start) && (at.Before(end) || !s.closed && at.Equal(end))
			switch {
			case inside && e.RotationType == "AUTOMATIC":
				t.Fatalf("key %s: automatic rotation at %v, while not Enabled from %v to %v (D12)", k.id, at, s.start, end)
			case inside && !at.Equal(s.odEnd):
				t.Fatalf("key %s: on-demand rotation completed at %v, while not Enabled from %v to %v, "+
					"none was running at %v (D12)", k.id, at, s.start, end, s.start)
			case s.closed && at.Equal(end) && e.RotationType == "AUTOMATIC":
				atEnd++
			}
		}
		if s.closed && s.autoOn && !s.next.After(end) && atEnd != 1 {
			t.Fatalf("key %s: re-enabled at %v after its rotation fell due at %v: %d automatic rotations then, want 1 (D12)",
				k.id, end, s.next, atEnd)
		}
	}
}

// checkMetadata compares DescribeKey's metadata with the model. rots, when
// not nil, is the key's rotation listing: CurrentKeyMaterialId is the
// material of its newest entry, or the original material.
func (m *mdlModel) checkMetadata(t *rapid.T, k *mdlKey, md kms.KeyMetadata, rots []kms.RotationsListEntry) {
	t.Helper()
	if md.KeyId != k.id || md.Arn != k.arn || md.KeyState != k.state || md.Enabled != (k.state == mdlEnabled) {
		t.Fatalf("DescribeKey(%s): KeyId %s Arn %s KeyState %s Enabled %v, want state %s",
			k.id, md.KeyId, md.Arn, md.KeyState, md.Enabled, k.state)
	}
	if (k.state == mdlPendingDeletion) != (md.DeletionDate != nil) ||
		md.DeletionDate != nil && !md.DeletionDate.Equal(k.delAt) {
		t.Fatalf("DescribeKey(%s %s): DeletionDate %v, want %v", k.arn, k.state, mdlTime(md.DeletionDate), k.delAt)
	}
	// PendingDeletionWindowInDays: only while PendingReplicaDeletion (the
	// waiting period has not started).
	if (k.state == mdlPendingReplica) != (md.PendingDeletionWindowInDays != nil) ||
		md.PendingDeletionWindowInDays != nil && int(*md.PendingDeletionWindowInDays) != k.window {
		t.Fatalf("DescribeKey(%s %s): PendingDeletionWindowInDays %v, want %d", k.arn, k.state,
			mdlI32(md.PendingDeletionWindowInDays), k.window)
	}
	if !md.CreationDate.Equal(k.created) {
		t.Fatalf("DescribeKey(%s): CreationDate %v, want %v", k.arn, md.CreationDate, k.created)
	}
	if md.Description != k.desc {
		t.Fatalf("DescribeKey(%s): Description %q, want %q", k.arn, md.Description, k.desc)
	}
	m.checkMultiRegion(t, k, md)
	wantOrigin, wantStore, wantCluster := "AWS_KMS", "", ""
	switch k.kind {
	case mdlExt:
		wantOrigin = "EXTERNAL"
	case mdlCKS:
		wantOrigin, wantStore, wantCluster = "AWS_CLOUDHSM", m.cksID, "cluster-1a23b4cdefg"
	}
	if md.Origin != wantOrigin || md.CustomKeyStoreId != wantStore || md.CloudHsmClusterId != wantCluster {
		t.Fatalf("DescribeKey(%s %s): Origin %q CustomKeyStoreId %q CloudHsmClusterId %q, want %q %q %q",
			k.id, k.kind, md.Origin, md.CustomKeyStoreId, md.CloudHsmClusterId, wantOrigin, wantStore, wantCluster)
	}
	if md.KeySpec != k.spec() || md.KeyUsage != k.usage() {
		t.Fatalf("DescribeKey(%s %s): KeySpec %s KeyUsage %s, want %s %s", k.arn, k.kind, md.KeySpec, md.KeyUsage, k.spec(), k.usage())
	}
	if k.asym != nil {
		var sign, mac, agree []string
		switch k.usage() {
		case "SIGN_VERIFY":
			sign = mdlSigningAlgs(k.spec())
		case "GENERATE_VERIFY_MAC":
			alg, _ := mdlMacAlg(k.spec())
			mac = []string{alg}
		case "KEY_AGREEMENT":
			agree = []string{"ECDH"}
		}
		if !slices.Equal(md.SigningAlgorithms, sign) || !slices.Equal(md.MacAlgorithms, mac) ||
			!slices.Equal(md.KeyAgreementAlgorithms, agree) || md.EncryptionAlgorithms != nil || md.CurrentKeyMaterialId != "" {
			t.Fatalf("DescribeKey(%s %s %s): algorithms %v %v %v %v, CurrentKeyMaterialId %q; want %v %v %v, none, none (§1.1)",
				k.arn, k.spec(), k.usage(), md.SigningAlgorithms, md.MacAlgorithms, md.KeyAgreementAlgorithms,
				md.EncryptionAlgorithms, md.CurrentKeyMaterialId, sign, mac, agree)
		}
	}
	if k.kind == mdlSym && k.state == mdlCreating && md.CurrentKeyMaterialId != "" {
		// Recording 8d.
		t.Fatalf("DescribeKey(%s Creating): CurrentKeyMaterialId %s, want none", k.arn, md.CurrentKeyMaterialId)
	}
	if k.kind == mdlSym && rots != nil && k.state != mdlCreating {
		want := k.material0
		if len(rots) > 0 {
			want = rots[len(rots)-1].KeyMaterialId
		}
		if md.CurrentKeyMaterialId != want {
			t.Fatalf("DescribeKey(%s): CurrentKeyMaterialId %s, want %s (after %d rotations)",
				k.id, md.CurrentKeyMaterialId, want, len(rots))
		}
	}
}

// ---- Formatting ----

func mdlI32(p *int32) any {
	if p == nil {
		return "<absent>"
	}
	return *p
}

func mdlTime(p *time.Time) any {
	if p == nil {
		return "<absent>"
	}
	return *p
}

func mdlLen(out *kms.ListKeysOutput) int {
	if out == nil {
		return -1
	}
	return len(out.Keys)
}

func mdlShort(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

func mdlFormatGot(es []kms.RotationsListEntry) string {
	var b strings.Builder
	b.WriteString("[")
	for i, e := range es {
		if i > 0 {
			b.WriteString(" ")
		}
		if e.RotationDate == nil {
			b.WriteString("<no date> " + e.RotationType)
			continue
		}
		b.WriteString(e.RotationDate.Format(time.RFC3339Nano) + " " + e.RotationType)
	}
	return b.String() + "]"
}

func mdlFormatWant(rs []mdlRotation) string {
	var b strings.Builder
	b.WriteString("[")
	for i, r := range rs {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(r.at.Format(time.RFC3339Nano) + " " + r.typ)
	}
	return b.String() + "]"
}

// ---- Asymmetric and HMAC keys (issue 13) ----

// mdlAsymMat is an asymmetric or HMAC key's spec and usage, and what the
// model saw of its material: the first public key GetPublicKey gave, and
// the MAC of each message GenerateMac was given. The keys of a
// multi-Region key share one (they share their material, c.8; the service
// generates it on first use, for all of them).
type mdlAsymMat struct {
	spec, usage string
	pub         []byte            // nil until GetPublicKey first succeeds
	macs        map[string][]byte // message → MAC
}

// mdlSignature is a signature Sign made, and what it signed.
type mdlSignature struct {
	k       *mdlKey     // the key that made it (deleted keys stay, with state mdlDeleted)
	asym    *mdlAsymMat // its material
	id      string      // its key ID
	region  string      // the Region it was made in
	msg     []byte
	msgType string // MessageType as sent ("" for the default, RAW)
	alg     string
	sig     []byte
}

// mdlMac is a MAC GenerateMac made, and of what.
type mdlMac struct {
	k      *mdlKey
	asym   *mdlAsymMat
	id     string
	region string
	msg    []byte
	alg    string
	mac    []byte
}

// mdlDrawAsymSpec draws the spec and usage of an asymmetric key, among
// those whose material is cheap to make; RSA_2048 (whose generation takes
// hundreds of milliseconds) rarely.
func mdlDrawAsymSpec(t *rapid.T) mdlAsymMat {
	switch rapid.IntRange(0, 15).Draw(t, "asymSpec") {
	case 0, 1, 2:
		return mdlAsymMat{spec: "ECC_NIST_P256", usage: "SIGN_VERIFY"}
	case 3, 4:
		return mdlAsymMat{spec: "ECC_NIST_P384", usage: "SIGN_VERIFY"}
	case 5, 6:
		return mdlAsymMat{spec: "ECC_NIST_P256", usage: "KEY_AGREEMENT"}
	case 7, 8, 9:
		return mdlAsymMat{spec: "ECC_NIST_EDWARDS25519", usage: "SIGN_VERIFY"}
	case 10, 11, 12, 13:
		return mdlAsymMat{spec: "ML_DSA_44", usage: "SIGN_VERIFY"}
	}
	if rapid.IntRange(0, 1).Draw(t, "rsa") == 0 {
		return mdlAsymMat{spec: "RSA_2048", usage: "SIGN_VERIFY"}
	}
	return mdlAsymMat{spec: "ECC_NIST_P256", usage: "SIGN_VERIFY"}
}

// mdlSigningAlgs are the SigningAlgorithms of a SIGN_VERIFY key spec
// (asymmetric-hmac spec §1.1, in its order).
func mdlSigningAlgs(spec string) []string {
	switch spec {
	case "RSA_2048":
		return []string{"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
			"RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"}
	case "ECC_NIST_P256":
		return []string{"ECDSA_SHA_256"}
	case "ECC_NIST_P384":
		return []string{"ECDSA_SHA_384"}
	case "ECC_NIST_EDWARDS25519":
		return []string{"ED25519_SHA_512", "ED25519_PH_SHA_512"}
	case "ML_DSA_44":
		return []string{"ML_DSA_SHAKE_256"}
	}
	return nil
}

// mdlAllSigningAlgs are the signing algorithms the model draws from for a
// key that is not SIGN_VERIFY, or for an algorithm of another spec.
var mdlAllSigningAlgs = []string{"RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_512", "ECDSA_SHA_256", "ECDSA_SHA_384",
	"ED25519_SHA_512", "ED25519_PH_SHA_512", "ML_DSA_SHAKE_256"}

// mdlMacAlgs are the MAC algorithms, in the order of the HMAC key specs.
var mdlMacAlgs = []string{"HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512"}

// mdlMacAlg is the one MacAlgorithm of an HMAC key spec (§7), and the
// length of its MACs.
func mdlMacAlg(spec string) (string, int) {
	switch spec {
	case "HMAC_224":
		return "HMAC_SHA_224", 28
	case "HMAC_256":
		return "HMAC_SHA_256", 32
	case "HMAC_384":
		return "HMAC_SHA_384", 48
	case "HMAC_512":
		return "HMAC_SHA_512", 64
	}
	return "", 0
}

// spec and usage are k's KeySpec and KeyUsage.
func (k *mdlKey) spec() string {
	if k.asym != nil {
		return k.asym.spec
	}
	return "SYMMETRIC_DEFAULT"
}

func (k *mdlKey) usage() string {
	if k.asym != nil {
		return k.asym.usage
	}
	return "ENCRYPT_DECRYPT"
}

// mdlUseErr predicts a cryptographic call op that needs a key of usage
// once its input is valid, with the exact messages: the identifier, the
// key-state row of the cryptographic operations (table a.2 and §11: [1];
// [3] per D17; [5]; [11] while Unavailable, or for Sign, Verify,
// GenerateMac and VerifyMac N/A, which kmsmodel answers the same way;
// [14]; ✓ while Updating), then the key's usage (D3 step 7; recorded
// wording, §2.5, §7).
func mdlUseErr(r mdlRef, op, usage string) error {
	switch {
	case r.err != nil:
		return r.err
	case r.k.state == mdlDisabled:
		return mdlMsg{keystate.ErrDisabled, " is disabled."}
	case r.k.pendingDeletion():
		return mdlMsg{keystate.ErrKMSInvalidState, " is pending deletion."}
	case r.k.state == mdlPendingImport:
		return mdlMsg{keystate.ErrKMSInvalidState, " is pending import."}
	case r.k.state == mdlUnavailable:
		return mdlMsg{keystate.ErrKMSInvalidState, " is unavailable."}
	case r.k.state == mdlCreating:
		return mdlErrCreating
	case r.k.usage() != usage:
		return mdlMsg{keystate.ErrInvalidKeyUsage, " key usage is " + r.k.usage() + " which is not valid for " + op + "."}
	}
	return nil
}

// mdlIncompatible is the refusal of an algorithm the key's spec does not
// support (recorded wording, §2.5, §7).
func mdlIncompatible(alg, spec string) error {
	return mdlExact{keystate.ErrInvalidKeyUsage, "Algorithm " + alg + " is incompatible with key spec " + spec + "."}
}

// Verify's and VerifyMac's refusals of a signature or MAC that does not
// match: AWS sends no message (§2.4, §7).
var (
	mdlErrBadSignature error = mdlExact{keystate.ErrKMSInvalidSignature, ""}
	mdlErrBadMac       error = mdlExact{keystate.ErrKMSInvalidMac, ""}
)

// used records a successful counted call on k (GetKeyLastUsage, D31).
func (m *mdlModel) used(k *mdlKey, op string) { k.lastOp, k.lastAt = op, m.now }

// mdlIsSigner: an Enabled SIGN_VERIFY key.
func mdlIsSigner(k *mdlKey) bool { return k.state == mdlEnabled && k.usage() == "SIGN_VERIFY" }

// mdlMessageType is the MessageType and message to sign with alg:
// ED25519_PH_SHA_512 takes a 64-byte digest (DIGEST), the others the
// message itself (RAW, or the default).
func mdlMessageType(t *rapid.T, alg string) (string, []byte) {
	if alg == "ED25519_PH_SHA_512" {
		return "DIGEST", rapid.SliceOfN(rapid.Byte(), 64, 64).Draw(t, "digest")
	}
	typ := rapid.SampledFrom([]string{"", "RAW"}).Draw(t, "messageType")
	return typ, rapid.SliceOfN(rapid.Byte(), 1, 64).Draw(t, "message")
}

// sign signs a message, mostly with an Enabled SIGN_VERIFY key and one of
// its algorithms; now and then with an empty message or an unknown
// algorithm (ValidationException, D3 step 1) or an algorithm of another
// spec. The model remembers every signature.
func (m *mdlModel) sign(t *rapid.T) {
	r := m.as(t, m.pickWhere(t, mdlIsSigner), "kms:Sign")
	algs := mdlAllSigningAlgs
	if r.k != nil && r.k.usage() == "SIGN_VERIFY" {
		algs = mdlSigningAlgs(r.k.spec())
	}
	alg := rapid.SampledFrom(algs).Draw(t, "signingAlgorithm")
	var invalid error
	switch rapid.IntRange(0, 9).Draw(t, "signKind") {
	case 0:
		alg = rapid.SampledFrom(mdlAllSigningAlgs).Draw(t, "anySigningAlgorithm")
	case 1:
		alg, invalid = "ECDSA_SHA_224", keystate.ErrValidation
	}
	typ, msg := mdlMessageType(t, alg)
	if invalid == nil && rapid.IntRange(0, 19).Draw(t, "emptyMessage") == 0 {
		msg, invalid = nil, keystate.ErrValidation
	}
	want := invalid
	if want == nil {
		want = mdlUseErr(r, "Sign", "SIGN_VERIFY")
	}
	if want == nil && !slices.Contains(mdlSigningAlgs(r.k.spec()), alg) {
		want = mdlIncompatible(alg, r.k.spec())
	}
	out, err := m.svc.Sign(r.ctx, &kms.SignInput{KeyId: r.id, Message: msg, MessageType: typ, SigningAlgorithm: alg})
	mdlExpect(t, "Sign("+alg+")", err, want, r.errID)
	if want != nil {
		return
	}
	if out == nil || out.KeyId != r.k.arn || out.SigningAlgorithm != alg || len(out.Signature) == 0 {
		t.Fatalf("Sign(%s, %s): got %+v, want KeyId %s, a signature", r.id, alg, out, r.k.arn)
	}
	m.used(r.k, "Sign")
	m.sigs = append(m.sigs, &mdlSignature{k: r.k, asym: r.k.asym, id: r.k.id, region: r.region, msg: slices.Clone(msg),
		msgType: typ, alg: alg, sig: out.Signature})
}

// mdlVerifyErr predicts Verify of signature s, with KeyId naming target,
// tampered or not: the key-state row and the usage, the algorithm, then
// whether the named key has the material that signed (every key of a
// multi-Region key has it, c.8) and the signature is the one made.
func mdlVerifyErr(s *mdlSignature, target mdlRef, tampered bool) error {
	if err := mdlUseErr(target, "Verify", "SIGN_VERIFY"); err != nil {
		return err
	}
	if !slices.Contains(mdlSigningAlgs(target.k.spec()), s.alg) {
		return mdlIncompatible(s.alg, target.k.spec())
	}
	if tampered || target.k.asym != s.asym {
		return mdlErrBadSignature
	}
	return nil
}

// mdlTamper returns b with one bit of one byte flipped.
func mdlTamper(t *rapid.T, b []byte, label string) []byte {
	out := slices.Clone(b)
	out[rapid.IntRange(0, len(out)-1).Draw(t, label+"Byte")] ^= byte(1) << rapid.IntRange(0, 7).Draw(t, label+"Bit")
	return out
}

// verify verifies a remembered signature: as made, mostly in the Region it
// was made in (a multi-Region key's other keys verify it too), or with its
// signature or message changed (KMSInvalidSignatureException), or with
// KeyId naming another key.
func (m *mdlModel) verify(t *rapid.T) {
	if len(m.sigs) == 0 {
		t.Skip("no signature yet")
	}
	s := m.sigs[rapid.IntRange(0, len(m.sigs)-1).Draw(t, "signature")]
	region := s.region
	if rapid.IntRange(0, 2).Draw(t, "verifyElsewhere") == 0 {
		region = rapid.SampledFrom(m.regions).Draw(t, "verifyRegion")
	}
	id, msg, sig, tampered := s.id, s.msg, s.sig, false
	switch rapid.IntRange(0, 5).Draw(t, "verifyKind") {
	case 0:
		sig, tampered = mdlTamper(t, sig, "signature"), true
	case 1:
		msg, tampered = mdlTamper(t, msg, "message"), true
	case 2: // KeyId of another key, possibly deleted
		o := m.keys[rapid.IntRange(0, len(m.keys)-1).Draw(t, "namedKey")]
		id = o.id
		if rapid.Bool().Draw(t, "keyIdByARN") {
			id = o.arn
		}
	}
	target := m.as(t, m.resolveIn(region, id), "kms:Verify")
	want := mdlVerifyErr(s, target, tampered)
	out, err := m.svc.Verify(target.ctx, &kms.VerifyInput{KeyId: id, Message: msg, MessageType: s.msgType,
		Signature: sig, SigningAlgorithm: s.alg})
	mdlExpect(t, fmt.Sprintf("Verify(%s, %s) in %s", s.alg, mdlShort(id), region), err, want, target.errID)
	if want != nil {
		return
	}
	if out == nil || out.KeyId != target.k.arn || !out.SignatureValid || out.SigningAlgorithm != s.alg {
		t.Fatalf("Verify(%s) in %s: got %+v, want KeyId %s, valid, %s", id, region, out, target.k.arn, s.alg)
	}
	m.used(target.k, "Verify")
}

// mdlPublicKeyErr predicts GetPublicKey: the identifier, the key-state
// table (✓ while Disabled or Updating, §11; [3] per D17; [14]; N/A while
// Unavailable: the state's exception), then the key's kind (decision D30:
// UnsupportedOperationException for symmetric and HMAC keys, kmsmodel's
// wording).
func mdlPublicKeyErr(r mdlRef) error {
	switch {
	case r.err != nil:
		return r.err
	case r.k.pendingDeletion():
		return mdlMsg{keystate.ErrKMSInvalidState, " is pending deletion."}
	case r.k.state == mdlUnavailable:
		return mdlMsg{keystate.ErrKMSInvalidState, " is unavailable."}
	case r.k.state == mdlCreating:
		return mdlErrCreating
	case r.k.kind != mdlAsym:
		return mdlMsg{keystate.ErrUnsupportedOperation, " key spec is " + r.k.spec() + ", which is not valid for GetPublicKey."}
	}
	return nil
}

func (m *mdlModel) getPublicKey(t *rapid.T) {
	r := m.as(t, m.pickWhere(t, func(k *mdlKey) bool { return k.kind == mdlAsym }), "kms:GetPublicKey")
	m.publicKey(t, r, "GetPublicKey")
}

// publicKey calls GetPublicKey, checks the answer against the key's spec
// and usage, and that the public key is the one first seen of its
// (multi-Region) key: it never changes, across restarts, Regions, refused
// rotation calls, DisableKey and EnableKey.
func (m *mdlModel) publicKey(t *rapid.T, r mdlRef, op string) {
	t.Helper()
	want := mdlPublicKeyErr(r)
	out, err := m.svc.GetPublicKey(r.ctx, &kms.GetPublicKeyInput{KeyId: r.id})
	mdlExpect(t, op, err, want, r.errID)
	if want != nil {
		return
	}
	k := r.k
	var sign, agree []string
	switch k.usage() {
	case "SIGN_VERIFY":
		sign = mdlSigningAlgs(k.spec())
	case "KEY_AGREEMENT":
		agree = []string{"ECDH"}
	}
	if out == nil || out.KeyId != k.arn || out.KeySpec != k.spec() || out.CustomerMasterKeySpec != k.spec() ||
		out.KeyUsage != k.usage() || !slices.Equal(out.SigningAlgorithms, sign) ||
		!slices.Equal(out.KeyAgreementAlgorithms, agree) || out.EncryptionAlgorithms != nil || len(out.PublicKey) == 0 {
		t.Fatalf("%s(%s %s %s): got %+v", op, k.arn, k.spec(), k.usage(), out)
	}
	if k.asym.pub == nil {
		if k.spec() != "ML_DSA_44" {
			if _, err := x509.ParsePKIXPublicKey(out.PublicKey); err != nil {
				t.Fatalf("%s(%s %s): PublicKey is not a SubjectPublicKeyInfo: %v", op, k.arn, k.spec(), err)
			}
		}
		k.asym.pub = out.PublicKey
		return
	}
	if !bytes.Equal(out.PublicKey, k.asym.pub) {
		t.Fatalf("%s(%s %s, %s): the public key changed:\n got %x\nwant %x", op, k.arn, k.spec(), k.state, out.PublicKey, k.asym.pub)
	}
}

// mdlMacMessages are messages GenerateMac is often given, so that the
// same message comes back, across restarts and Regions.
var mdlMacMessages = []string{"m", "the same message", "ünïcode"}

// mdlIsMacKey: an Enabled HMAC key.
func mdlIsMacKey(k *mdlKey) bool { return k.state == mdlEnabled && k.kind == mdlHMAC }

// generateMac computes a MAC, mostly with an Enabled HMAC key and its
// algorithm; now and then with an empty message or an unknown algorithm
// (ValidationException) or another HMAC algorithm. The same message
// always gives the same MAC with the keys of one (multi-Region) key.
func (m *mdlModel) generateMac(t *rapid.T) {
	r := m.as(t, m.pickWhere(t, mdlIsMacKey), "kms:GenerateMac")
	alg := rapid.SampledFrom(mdlMacAlgs).Draw(t, "macAlgorithm")
	if r.k != nil && r.k.kind == mdlHMAC && rapid.IntRange(0, 7).Draw(t, "otherMacAlgorithm") != 0 {
		alg, _ = mdlMacAlg(r.k.spec())
	}
	var msg []byte
	if rapid.Bool().Draw(t, "knownMessage") {
		msg = []byte(rapid.SampledFrom(mdlMacMessages).Draw(t, "macMessage"))
	} else {
		msg = rapid.SliceOfN(rapid.Byte(), 1, 64).Draw(t, "message")
	}
	var want error
	switch rapid.IntRange(0, 19).Draw(t, "macKind") {
	case 0:
		msg, want = nil, keystate.ErrValidation
	case 1:
		alg, want = "HMAC_SHA_1", keystate.ErrValidation
	}
	if want == nil {
		want = mdlUseErr(r, "GenerateMac", "GENERATE_VERIFY_MAC")
	}
	if want == nil {
		if own, _ := mdlMacAlg(r.k.spec()); alg != own {
			want = mdlIncompatible(alg, r.k.spec())
		}
	}
	out, err := m.svc.GenerateMac(r.ctx, &kms.GenerateMacInput{KeyId: r.id, Message: msg, MacAlgorithm: alg})
	mdlExpect(t, "GenerateMac("+alg+")", err, want, r.errID)
	if want != nil {
		return
	}
	k := r.k
	_, n := mdlMacAlg(k.spec())
	if out == nil || out.KeyId != k.arn || out.MacAlgorithm != alg || len(out.Mac) != n {
		t.Fatalf("GenerateMac(%s, %s): got %+v, want KeyId %s, a %d-byte MAC", r.id, alg, out, k.arn, n)
	}
	if k.asym.macs == nil {
		k.asym.macs = map[string][]byte{}
	}
	if prev, ok := k.asym.macs[string(msg)]; ok && !bytes.Equal(prev, out.Mac) {
		t.Fatalf("GenerateMac(%s %s, %q): MAC %x, earlier %x: HMAC is deterministic (§7)", k.arn, k.state, msg, out.Mac, prev)
	}
	k.asym.macs[string(msg)] = out.Mac
	m.used(k, "GenerateMac")
	m.macs = append(m.macs, &mdlMac{k: k, asym: k.asym, id: k.id, region: r.region, msg: slices.Clone(msg), alg: alg, mac: out.Mac})
}

// mdlVerifyMacErr predicts VerifyMac of MAC c, with KeyId naming target,
// tampered or not (as mdlVerifyErr).
func mdlVerifyMacErr(c *mdlMac, target mdlRef, tampered bool) error {
	if err := mdlUseErr(target, "VerifyMac", "GENERATE_VERIFY_MAC"); err != nil {
		return err
	}
	if own, _ := mdlMacAlg(target.k.spec()); c.alg != own {
		return mdlIncompatible(c.alg, target.k.spec())
	}
	if tampered || target.k.asym != c.asym {
		return mdlErrBadMac
	}
	return nil
}

// verifyMac verifies a remembered MAC, as verify does a signature.
func (m *mdlModel) verifyMac(t *rapid.T) {
	if len(m.macs) == 0 {
		t.Skip("no MAC yet")
	}
	c := m.macs[rapid.IntRange(0, len(m.macs)-1).Draw(t, "mac")]
	region := c.region
	if rapid.IntRange(0, 2).Draw(t, "verifyElsewhere") == 0 {
		region = rapid.SampledFrom(m.regions).Draw(t, "verifyRegion")
	}
	id, msg, mac, tampered := c.id, c.msg, c.mac, false
	switch rapid.IntRange(0, 5).Draw(t, "verifyMacKind") {
	case 0:
		mac, tampered = mdlTamper(t, mac, "mac"), true
	case 1:
		msg, tampered = mdlTamper(t, msg, "message"), true
	case 2:
		o := m.keys[rapid.IntRange(0, len(m.keys)-1).Draw(t, "namedKey")]
		id = o.id
		if rapid.Bool().Draw(t, "keyIdByARN") {
			id = o.arn
		}
	}
	target := m.as(t, m.resolveIn(region, id), "kms:VerifyMac")
	want := mdlVerifyMacErr(c, target, tampered)
	out, err := m.svc.VerifyMac(target.ctx, &kms.VerifyMacInput{KeyId: id, Message: msg, MacAlgorithm: c.alg, Mac: mac})
	mdlExpect(t, fmt.Sprintf("VerifyMac(%s, %s) in %s", c.alg, mdlShort(id), region), err, want, target.errID)
	if want != nil {
		return
	}
	if out == nil || out.KeyId != target.k.arn || !out.MacValid || out.MacAlgorithm != c.alg {
		t.Fatalf("VerifyMac(%s) in %s: got %+v, want KeyId %s, valid, %s", id, region, out, target.k.arn, c.alg)
	}
	m.used(target.k, "VerifyMac")
}

// getKeyLastUsage checks GetKeyLastUsage against the model (decision D31):
// the key's last successful counted call since the service started, kept
// in memory only, so that after a restart there is no record and
// TrackingStartDate is the restart (or the key's creation, if later). It
// works in every key state.
func (m *mdlModel) getKeyLastUsage(t *rapid.T) {
	r := m.as(t, m.pick(t), "kms:GetKeyLastUsage")
	out, err := m.svc.GetKeyLastUsage(r.ctx, &kms.GetKeyLastUsageInput{KeyId: r.id})
	mdlExpect(t, "GetKeyLastUsage", err, r.err, r.errID)
	if r.err != nil {
		return
	}
	k := r.k
	track := m.trackStart
	if k.created.After(track) {
		track = k.created
	}
	if out == nil || out.KeyId != k.arn || !out.KeyCreationDate.Equal(k.created) || !out.TrackingStartDate.Equal(track) {
		t.Fatalf("GetKeyLastUsage(%s): got %+v, want KeyId %s, created %v, tracking since %v", r.id, out, k.arn, k.created, track)
	}
	u := out.KeyLastUsage
	if k.lastOp == "" {
		if u != (kms.KeyLastUsage{}) {
			t.Fatalf("GetKeyLastUsage(%s): %+v, want no record since %v", k.arn, u, track)
		}
		return
	}
	if u.Operation != k.lastOp || u.Timestamp == nil || !u.Timestamp.Equal(k.lastAt) || u.CloudTrailEventId == "" || u.KmsRequestId == "" {
		t.Fatalf("GetKeyLastUsage(%s): %+v (at %v), want %s at %v", k.arn, u, mdlTime(u.Timestamp), k.lastOp, k.lastAt)
	}
}

// checkAsymmetric is invariant (h): the public key of every asymmetric
// key once seen is unchanged (GetPublicKey, as the table lets it answer),
// and recorded signatures and MACs (at most 4 of each per step) still
// verify in the Region they were made in while the key with their key ID
// there is usable, however many restarts, Regions, refused rotation calls
// and state changes passed; otherwise Verify and VerifyMac give the
// state's exception, NotFoundException once no key has that ID there.
func (m *mdlModel) checkAsymmetric(t *rapid.T) {
	for _, k := range m.keys {
		if k.live() && k.asym != nil && k.asym.pub != nil {
			m.publicKey(t, mdlRef{k: k, id: k.arn, region: k.region, ctx: m.stewardCtx(k.region, k), errID: k.arn}, "GetPublicKey (check)")
		}
	}
	for _, i := range mdlSample(t, len(m.sigs), 4, "checkSignature") {
		s := m.sigs[i]
		target := m.resolveIn(s.region, s.id)
		want := mdlVerifyErr(s, target, false)
		out, err := m.svc.Verify(m.stewardCtx(s.region, target.k), &kms.VerifyInput{KeyId: s.id, Message: s.msg, MessageType: s.msgType,
			Signature: s.sig, SigningAlgorithm: s.alg})
		mdlExpect(t, fmt.Sprintf("Verify of signature %d of %s in %s (%s, check)", i, s.id, s.region, s.k.state), err, want, target.errID)
		if want == nil {
			if out == nil || !out.SignatureValid || out.KeyId != target.k.arn {
				t.Fatalf("Verify of signature %d of %s: %+v", i, s.id, out)
			}
			m.used(target.k, "Verify")
		}
	}
	for _, i := range mdlSample(t, len(m.macs), 4, "checkMac") {
		c := m.macs[i]
		target := m.resolveIn(c.region, c.id)
		want := mdlVerifyMacErr(c, target, false)
		out, err := m.svc.VerifyMac(m.stewardCtx(c.region, target.k), &kms.VerifyMacInput{KeyId: c.id, Message: c.msg, MacAlgorithm: c.alg, Mac: c.mac})
		mdlExpect(t, fmt.Sprintf("VerifyMac of MAC %d of %s in %s (%s, check)", i, c.id, c.region, c.k.state), err, want, target.errID)
		if want == nil {
			if out == nil || !out.MacValid || out.KeyId != target.k.arn {
				t.Fatalf("VerifyMac of MAC %d of %s: %+v", i, c.id, out)
			}
			m.used(target.k, "VerifyMac")
		}
	}
}

// mdlSample returns the indexes of all n items if there are at most max,
// else max drawn at random.
func mdlSample(t *rapid.T, n, max int, label string) []int {
	idx := make([]int, 0, max)
	if n <= max {
		for i := range n {
			idx = append(idx, i)
		}
		return idx
	}
	for range max {
		idx = append(idx, rapid.IntRange(0, n-1).Draw(t, label))
	}
	return idx
}

// ---- Principals, key policies and grants (issue 14) ----
//
// Calls are made by one of the principals of the service's account: its
// root (today's caller: no WithPrincipal, or its ARN), the role app, a
// session of app, and the user alice; a role of another account, partner,
// calls as a grantee only (useGrant, retireGrant). Every call on a key
// draws its principal (mostly the root); the model predicts from the key's
// policy (one of mdlPolicy's templates, changed by PutKeyPolicy or given
// to CreateKey) and its grants whether the call is authorized (D24–D26),
// before the key-state table (D3 step 5). The "" check reads each key as a
// principal its policy allows everything (mdlPolicy.steward), and checks
// that
// GetKeyPolicy returns the last accepted policy and ListGrants the model's
// grants, across restarts over store.Memory and boltstore.

// mdlWho is a principal of the model.
type mdlWho uint8

const (
	mdlRoot    mdlWho = iota // the account root, as today's caller (no WithPrincipal)
	mdlRootARN               // the account root, named by WithPrincipal
	mdlApp                   // arn:aws:iam::<account>:role/app
	mdlSession               // arn:aws:sts::<account>:assumed-role/app/mdl, a session of app
	mdlAlice                 // arn:aws:iam::<account>:user/alice
	// mdlPartner is a role of another account: no key policy of the
	// model's lets it in, so it calls only as a grantee (useGrant) and
	// names keys by key ARN (D6).
	mdlPartner
)

const mdlPartnerARN = "arn:aws:iam::444455556666:role/partner"

// arnOf is the ARN of principal w.
func (m *mdlModel) arnOf(w mdlWho) string {
	a := m.svc.Account()
	switch w {
	case mdlApp:
		return "arn:aws:iam::" + a + ":role/app"
	case mdlSession:
		return "arn:aws:sts::" + a + ":assumed-role/app/mdl"
	case mdlAlice:
		return "arn:aws:iam::" + a + ":user/alice"
	case mdlPartner:
		return mdlPartnerARN
	}
	return "arn:aws:iam::" + a + ":root"
}

// ctxAs is ctx for calls made by w.
func (m *mdlModel) ctxAs(ctx context.Context, w mdlWho) context.Context {
	if w == mdlRoot {
		return ctx
	}
	return kms.WithPrincipal(ctx, m.arnOf(w))
}

// drawWho draws the principal of a call: mostly the root.
func mdlDrawWho(t *rapid.T) mdlWho {
	switch rapid.IntRange(0, 11).Draw(t, "principal") {
	case 6:
		return mdlRootARN
	case 7, 8:
		return mdlApp
	case 9:
		return mdlSession
	case 10, 11:
		return mdlAlice
	}
	return mdlRoot
}

// mdlPolicy is a key policy template.
type mdlPolicy uint8

const (
	mdlPolDefault   mdlPolicy = iota // AWS's default: the account root, so every principal of the account
	mdlPolRootApp                    // the root and app (and its sessions) only, by aws:PrincipalArn
	mdlPolDenyAlice                  // the account, but an explicit Deny of kms:Encrypt and kms:Decrypt for alice
	mdlPolOnlyApp                    // app (and its sessions) only: locks the root out
)

// mdlDecision is the model's decision of the key policy alone.
type mdlDecision uint8

const (
	mdlAllow mdlDecision = iota
	mdlImplicitDeny
	mdlExplicitDeny
)

// decide is the model of the templates: which principal may do what.
func (p mdlPolicy) decide(w mdlWho, action string) mdlDecision {
	if w == mdlPartner {
		return mdlImplicitDeny // every template names the model's account only
	}
	switch p {
	case mdlPolRootApp:
		if w == mdlAlice {
			return mdlImplicitDeny
		}
	case mdlPolDenyAlice:
		if w == mdlAlice && (action == "kms:Encrypt" || action == "kms:Decrypt") {
			return mdlExplicitDeny
		}
	case mdlPolOnlyApp:
		if w != mdlApp && w != mdlSession {
			return mdlImplicitDeny
		}
	}
	return mdlAllow
}

// steward is a principal p lets do everything.
func (p mdlPolicy) steward() mdlWho {
	if p == mdlPolOnlyApp {
		return mdlApp
	}
	return mdlRoot
}

// text is the template's document for the model's account.
func (m *mdlModel) policyText(p mdlPolicy) string {
	root, app, alice := m.arnOf(mdlRoot), m.arnOf(mdlApp), m.arnOf(mdlAlice)
	switch p {
	case mdlPolRootApp:
		return `{"Version":"2012-10-17","Id":"mdl-root-app","Statement":[{"Sid":"mdl root and app","Effect":"Allow",` +
			`"Principal":{"AWS":"` + root + `"},"Action":"kms:*","Resource":"*",` +
			`"Condition":{"StringEquals":{"aws:PrincipalArn":["` + root + `","` + app + `"]}}}]}`
	case mdlPolDenyAlice:
		return `{"Version":"2012-10-17","Id":"mdl-deny-alice","Statement":[` +
			`{"Sid":"mdl account","Effect":"Allow","Principal":{"AWS":"` + root + `"},"Action":"kms:*","Resource":"*"},` +
			`{"Sid":"mdl no crypto for alice","Effect":"Deny","Principal":{"AWS":"` + alice + `"},` +
			`"Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"}]}`
	case mdlPolOnlyApp:
		return `{"Version":"2012-10-17","Id":"mdl-only-app","Statement":[{"Sid":"mdl only app","Effect":"Allow",` +
			`"Principal":{"AWS":"` + app + `"},"Action":"kms:*","Resource":"*"}]}`
	}
	return m.defaultPolicy()
}

// defaultPolicy is AWS's default key policy for the model's account, byte
// for byte (spec §1.1).
func (m *mdlModel) defaultPolicy() string {
	return strings.ReplaceAll(pzDefaultText, "111122223333", m.svc.Account())
}

// mdlGrant is a grant the model created.
type mdlGrant struct {
	k       *mdlKey
	id      string
	token   string
	grantee mdlWho // mdlApp, mdlAlice or mdlPartner
	ops     []string
	created time.Time
	gone    bool // retired, revoked, or deleted with its key
}

// matches reports whether g's grantee covers w (a role covers its
// sessions).
func (g *mdlGrant) matches(w mdlWho) bool {
	return g.grantee == w || g.grantee == mdlApp && w == mdlSession
}

// deny predicts the authorization of w's call of action on k: nil, or
// AccessDeniedException with D26's message. A grant allows what the key
// policy does not explicitly deny.
func (m *mdlModel) deny(k *mdlKey, w mdlWho, action string) error {
	d := k.pol.decide(w, action)
	if d == mdlImplicitDeny {
		op := strings.TrimPrefix(action, "kms:")
		for _, g := range k.grants {
			if g.matches(w) && slices.Contains(g.ops, op) {
				return nil
			}
		}
	}
	head := "User: " + m.arnOf(w) + " is not authorized to perform: " + action + " on resource: " + k.arn
	switch d {
	case mdlImplicitDeny:
		return mdlExact{keystate.ErrAccessDenied, head + " because no resource-based policy allows the " + action + " action"}
	case mdlExplicitDeny:
		return mdlExact{keystate.ErrAccessDenied, head + " with an explicit deny in a resource-based policy"}
	}
	return nil
}

// as makes r a call of action by a drawn principal.
func (m *mdlModel) as(t *rapid.T, r mdlRef, action string) mdlRef {
	return m.asWho(r, mdlDrawWho(t), action)
}

// asWho makes r a call of action by w: when r names a live key, the
// authorization is the first refusal after the identifier's (D3 step 5).
func (m *mdlModel) asWho(r mdlRef, w mdlWho, action string) mdlRef {
	r.ctx = m.ctxAs(r.ctx, w)
	if r.err == nil && r.k != nil {
		if err := m.deny(r.k, w, action); err != nil {
			r.err, r.errID = err, r.k.arn
		}
	}
	return r
}

// stewardCtx is the context of a call in a Region by a principal k's
// policy allows everything (the root when k is nil).
func (m *mdlModel) stewardCtx(region string, k *mdlKey) context.Context {
	w := mdlRoot
	if k != nil && k.live() {
		w = k.pol.steward()
	}
	return m.ctxAs(m.ctxs[region], w)
}

// mdlErrLockout is the lockout check's refusal (spec §2.2, §2.3).
func mdlErrLockout() error {
	return mdlExact{keystate.ErrMalformedPolicyDocument, "The new key policy will not allow you to update the key policy in the future."}
}

// drawPolicy draws a template and whether to bypass the lockout check.
func mdlDrawPolicy(t *rapid.T) (mdlPolicy, bool) {
	p := mdlPolicy(rapid.IntRange(0, 3).Draw(t, "policyTemplate"))
	return p, rapid.IntRange(0, 3).Draw(t, "bypassLockout") == 0
}

// putKeyPolicy puts a template as a key's policy: by a drawn principal
// (for a key only app may manage, mostly app), refused when the current
// policy does not allow it kms:PutKeyPolicy, or, unless the check is
// bypassed, when the new one would not (the lockout check). GetKeyPolicy
// then returns the new policy, which the model remembers.
func (m *mdlModel) putKeyPolicy(t *rapid.T) {
	r := m.pick(t)
	w := mdlDrawWho(t)
	if r.k != nil && r.k.live() && rapid.Bool().Draw(t, "putAsSteward") {
		w = r.k.pol.steward()
	}
	r = m.asWho(r, w, "kms:PutKeyPolicy")
	p, bypass := mdlDrawPolicy(t)
	want := r.err
	if want == nil && !bypass && p.decide(w, "kms:PutKeyPolicy") != mdlAllow {
		want = mdlErrLockout()
	}
	_, err := m.svc.PutKeyPolicy(r.ctx, &kms.PutKeyPolicyInput{KeyId: r.id, Policy: m.policyText(p), BypassPolicyLockoutSafetyCheck: bypass})
	mdlExpect(t, fmt.Sprintf("PutKeyPolicy(template %d, bypass %v) by %s", p, bypass, m.arnOf(w)), err, want, r.errID)
	if want == nil {
		m.setPolicy(t, r.k, p)
	}
}

// setPolicy records p as k's policy, and what GetKeyPolicy returns now.
func (m *mdlModel) setPolicy(t *rapid.T, k *mdlKey, p mdlPolicy) {
	k.pol = p
	out, err := m.svc.GetKeyPolicy(m.stewardCtx(k.region, k), &kms.GetKeyPolicyInput{KeyId: k.arn})
	if err != nil || out.PolicyName != "default" {
		t.Fatalf("GetKeyPolicy(%s) after its policy became template %d: %+v, %v", k.arn, p, out, err)
	}
	switch {
	case p == mdlPolDefault && out.Policy != m.defaultPolicy():
		t.Fatalf("GetKeyPolicy(%s) after putting the default policy: %q, want the default byte for byte", k.arn, out.Policy)
	case p != mdlPolDefault && !strings.Contains(out.Policy, `"mdl-`):
		t.Fatalf("GetKeyPolicy(%s) after putting template %d: %q", k.arn, p, out.Policy)
	}
	k.polText = out.Policy
}

// getKeyPolicy reads a key's policy as a drawn principal.
func (m *mdlModel) getKeyPolicy(t *rapid.T) {
	r := m.as(t, m.pick(t), "kms:GetKeyPolicy")
	out, err := m.svc.GetKeyPolicy(r.ctx, &kms.GetKeyPolicyInput{KeyId: r.id})
	mdlExpect(t, "GetKeyPolicy", err, r.err, r.errID)
	if r.err == nil && (out == nil || out.Policy != m.keyPolicy(r.k)) {
		t.Fatalf("GetKeyPolicy(%s): %+v, want %q", r.k.arn, out, m.keyPolicy(r.k))
	}
}

// keyPolicy is the text GetKeyPolicy returns for k.
func (m *mdlModel) keyPolicy(k *mdlKey) string {
	if k.polText == "" {
		return m.defaultPolicy()
	}
	return k.polText
}

// mdlGrantOps are the operations a grant on k may allow (grants.go's
// grantKind), among those the model draws.
func mdlGrantOps(k *mdlKey) []string {
	switch k.usage() {
	case "ENCRYPT_DECRYPT":
		return []string{"Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey", "RetireGrant"}
	case "SIGN_VERIFY":
		return []string{"Sign", "Verify", "GetPublicKey", "DescribeKey"}
	case "GENERATE_VERIFY_MAC":
		return []string{"GenerateMac", "VerifyMac", "DescribeKey"}
	}
	return []string{"GetPublicKey", "DescribeKey"}
}

// createGrant gives app, alice or partner a grant of a few operations on a key,
// mostly an Enabled one whose policy denies them something.
func (m *mdlModel) createGrant(t *rapid.T) {
	r := m.pickWhere(t, func(k *mdlKey) bool { return k.state == mdlEnabled && k.pol != mdlPolDefault })
	r = m.as(t, r, "kms:CreateGrant")
	grantee := rapid.SampledFrom([]mdlWho{mdlApp, mdlAlice, mdlAlice, mdlPartner}).Draw(t, "grantee")
	var ops []string
	var bad string
	if r.k != nil {
		valid := mdlGrantOps(r.k)
		mask := rapid.IntRange(1, 1<<len(valid)-1).Draw(t, "grantOps")
		for i, o := range valid {
			if mask&(1<<i) != 0 {
				ops = append(ops, o)
			}
		}
		if rapid.IntRange(0, 9).Draw(t, "invalidGrantOp") == 0 {
			bad = "Sign"
			if r.k.usage() != "ENCRYPT_DECRYPT" {
				bad = "Encrypt"
			}
			ops = append(ops, bad)
		}
	} else {
		ops = []string{"DescribeKey"}
	}
	want := r.err
	if want == nil {
		k := r.k
		switch {
		case k.state == mdlDisabled:
			want = keystate.ErrDisabled // [1]
		case k.pendingDeletion(), k.state == mdlPendingImport:
			want = keystate.ErrKMSInvalidState // [2] or [3], [5]
		case k.state == mdlCreating:
			want = mdlErrCreating // [14]
		case bad != "":
			want = mdlExact{keystate.ErrValidation, "Grant operation " + bad + " is not valid for " + k.arn +
				", whose key usage is " + k.usage() + " and key spec " + k.spec() + "."}
		}
	}
	out, err := m.svc.CreateGrant(r.ctx, &kms.CreateGrantInput{KeyId: r.id, GranteePrincipal: m.arnOf(grantee), Operations: ops})
	mdlExpect(t, fmt.Sprintf("CreateGrant(%v to %s)", ops, m.arnOf(grantee)), err, want, r.errID)
	if want != nil {
		return
	}
	if out == nil || out.GrantId == "" || out.GrantToken == "" {
		t.Fatalf("CreateGrant(%s): %+v", r.k.arn, out)
	}
	for _, g := range m.grants {
		if g.id == out.GrantId {
			t.Fatalf("CreateGrant(%s): grant ID %s issued twice", r.k.arn, g.id)
		}
	}
	g := &mdlGrant{k: r.k, id: out.GrantId, token: out.GrantToken, grantee: grantee, ops: ops, created: m.now}
	r.k.grants = append(r.k.grants, g)
	m.grants = append(m.grants, g)
}

// drawGrant draws a grant the model made: mostly one of k's, if any.
func (m *mdlModel) drawGrant(t *rapid.T, k *mdlKey) *mdlGrant {
	if k != nil && len(k.grants) > 0 && rapid.IntRange(0, 3).Draw(t, "ownGrant") != 0 {
		return k.grants[rapid.IntRange(0, len(k.grants)-1).Draw(t, "grant")]
	}
	if len(m.grants) == 0 {
		return nil
	}
	return m.grants[rapid.IntRange(0, len(m.grants)-1).Draw(t, "anyGrant")]
}

// revokeGrant revokes a grant of a key: one of its own, or one that is
// gone or another key's (InvalidGrantIdException).
func (m *mdlModel) revokeGrant(t *rapid.T) {
	r := m.as(t, m.pickWhere(t, func(k *mdlKey) bool { return len(k.grants) > 0 }), "kms:RevokeGrant")
	g := m.drawGrant(t, r.k)
	id := strings.Repeat("0", 64)
	if g != nil {
		id = g.id
	}
	want := r.err
	if want == nil && (g == nil || g.gone || g.k != r.k) {
		want = mdlExact{keystate.ErrInvalidGrantId, "Grant ID " + id + " is not valid for " + r.k.arn + "."}
	}
	_, err := m.svc.RevokeGrant(r.ctx, &kms.RevokeGrantInput{KeyId: r.id, GrantId: id})
	mdlExpect(t, "RevokeGrant", err, want, r.errID)
	if want == nil {
		m.dropGrant(g)
	}
}

// retireGrant retires a grant by its token, as a principal of the key's
// account (which may retire any grant of its keys, D28), or as partner,
// which may retire only a grant to it that allows RetireGrant; a grant
// that is gone has a token that is no longer valid.
func (m *mdlModel) retireGrant(t *rapid.T) {
	g := m.drawGrant(t, nil)
	if g == nil {
		t.Skip("no grant yet")
	}
	w := mdlDrawWho(t)
	if rapid.IntRange(0, 3).Draw(t, "retireAsPartner") == 0 {
		w = mdlPartner
	}
	var want error
	errID := ""
	switch {
	case g.gone:
		want = mdlExact{keystate.ErrInvalidGrantToken, "The grant token is not valid."}
	case w == mdlPartner && (g.grantee != mdlPartner || !slices.Contains(g.ops, "RetireGrant")):
		// kmsmodel's wording (grants.go).
		errID = g.k.arn
		want = mdlExact{keystate.ErrAccessDenied, "User: " + mdlPartnerARN + " is not authorized to perform: kms:RetireGrant on resource: " +
			g.k.arn + " because it is neither the key's account, nor the grant's retiring principal, nor a grantee allowed to retire it"}
	}
	_, err := m.svc.RetireGrant(m.ctxAs(m.ctxs[g.k.region], w), &kms.RetireGrantInput{GrantToken: g.token})
	mdlExpect(t, "RetireGrant by "+m.arnOf(w), err, want, errID)
	if want == nil {
		m.dropGrant(g)
	}
}

// useGrant has the grantee of a grant (app through a session, too) call
// one of the operations the model's grants may allow on its key, mostly one
// the grant allows: allowed by the key policy or the grant, unless the
// policy denies it explicitly (alice's Encrypt under mdlPolDenyAlice).
func (m *mdlModel) useGrant(t *rapid.T) {
	var live []*mdlGrant
	for _, g := range m.grants {
		if !g.gone {
			live = append(live, g)
		}
	}
	if len(live) == 0 {
		t.Skip("no grant")
	}
	g := live[rapid.IntRange(0, len(live)-1).Draw(t, "usedGrant")]
	w := g.grantee
	if w == mdlApp && rapid.Bool().Draw(t, "asSession") {
		w = mdlSession
	}
	ops := []string{"DescribeKey", "Encrypt", "GenerateDataKey", "GetPublicKey"}
	op := rapid.SampledFrom(ops).Draw(t, "anyOperation")
	if rapid.IntRange(0, 3).Draw(t, "grantedOperation") != 0 {
		if granted := slices.DeleteFunc(slices.Clone(ops), func(o string) bool { return !slices.Contains(g.ops, o) }); len(granted) > 0 {
			op = rapid.SampledFrom(granted).Draw(t, "operation")
		}
	}
	ref := m.refTo(t, g.k)
	if w == mdlPartner {
		ref = m.resolveIn(g.k.region, g.k.arn) // another account's key: by key ARN
	}
	r := m.asWho(ref, w, "kms:"+op)
	label := op + " by grantee " + m.arnOf(w)
	switch op {
	case "DescribeKey":
		out, err := m.svc.DescribeKey(r.ctx, &kms.DescribeKeyInput{KeyId: r.id})
		mdlExpect(t, label, err, r.err, r.errID)
		if r.err == nil {
			m.checkMetadata(t, r.k, out.KeyMetadata, nil)
		}
	case "Encrypt", "GenerateDataKey":
		want := mdlCryptoErr(r, op)
		var blob, pt []byte
		if op == "Encrypt" {
			pt = []byte("granted")
			out, err := m.svc.Encrypt(r.ctx, &kms.EncryptInput{KeyId: r.id, Plaintext: pt})
			mdlExpect(t, label, err, want, r.errID)
			if want == nil {
				blob = out.CiphertextBlob
			}
		} else {
			out, err := m.svc.GenerateDataKey(r.ctx, &kms.GenerateDataKeyInput{KeyId: r.id, KeySpec: "AES_256"})
			mdlExpect(t, label, err, want, r.errID)
			if want == nil {
				blob, pt = out.CiphertextBlob, slices.Clone([]byte(out.Plaintext))
			}
		}
		if want == nil {
			m.used(r.k, op)
			m.cts = append(m.cts, &mdlCiphertext{k: r.k, id: r.k.id, region: r.region, pt: pt, blob: blob})
		}
	case "GetPublicKey":
		m.publicKey(t, r, label)
	}
}

// dropGrant removes g from its key.
func (m *mdlModel) dropGrant(g *mdlGrant) {
	g.gone = true
	g.k.grants = slices.DeleteFunc(g.k.grants, func(o *mdlGrant) bool { return o == g })
}

// checkPolicyAndGrants: GetKeyPolicy returns the last accepted policy,
// ListGrants lists exactly the model's grants of k, oldest first (grants
// made at one instant in any order: after a restart they come in grant ID
// order).
func (m *mdlModel) checkPolicyAndGrants(t *rapid.T, k *mdlKey, ctx context.Context) {
	t.Helper()
	p, err := m.svc.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.arn})
	if err != nil || p.Policy != m.keyPolicy(k) {
		t.Fatalf("GetKeyPolicy(%s) (check): %+v, %v; want %q", k.arn, p, err, m.keyPolicy(k))
	}
	gs, err := m.svc.ListGrants(ctx, &kms.ListGrantsInput{KeyId: k.arn})
	if err != nil || gs.Truncated || len(gs.Grants) != len(k.grants) {
		t.Fatalf("ListGrants(%s) (check): %+v, %v; the model has %d grants", k.arn, gs, err, len(k.grants))
	}
	byID := make(map[string]*mdlGrant, len(k.grants))
	for _, g := range k.grants {
		byID[g.id] = g
	}
	for i, e := range gs.Grants {
		g := byID[e.GrantId]
		delete(byID, e.GrantId)
		if g == nil || !e.CreationDate.Equal(k.grants[i].created) {
			t.Fatalf("ListGrants(%s) (check): grant %d is %+v, want one made at %v, among %d", k.arn, i, e, k.grants[i].created, len(k.grants))
		}
		if e.KeyId != k.arn || e.GrantId != g.id || e.GranteePrincipal != m.arnOf(g.grantee) || !slices.Equal(e.Operations, g.ops) {
			t.Fatalf("ListGrants(%s) (check): grant %d is %+v, want %s to %s for %v", k.arn, i, e, g.id, m.arnOf(g.grantee), g.ops)
		}
	}
}
