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
func TestModel(t *testing.T) {
	mdlRun(t, mdlPlain{})
}

// TestModelMemoryStore runs the model over a service persisted in a
// store.Memory, with an extra action that restarts the service (a new
// service opened over the same store) at random points: the model does not
// notice restarts, so every invariant must survive them.
func TestModelMemoryStore(t *testing.T) {
	mdlRun(t, &mdlMemory{})
}

// TestModelBoltStore runs the model over a service persisted in a bbolt
// file, restarted (closed and reopened over the file) at random points.
func TestModelBoltStore(t *testing.T) {
	mdlRun(t, &mdlBolt{dir: t.TempDir()})
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

func mdlRun(t *testing.T, backend mdlBackend) {
	rapid.Check(t, func(t *rapid.T) {
		m := mdlNew(t, backend)
		n := rapid.IntRange(1, 4).Draw(t, "initialKeys")
		initial := 9 // a key in the custom key store too, if it is CONNECTED
		if m.cksState != kms.ConnectionConnected {
			initial = 7
		}
		for range n {
			m.create(t, initial)
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
			"":                          m.check,
		}
		if mdlCanReopen(backend) {
			actions["Restart"] = m.restart
		}
		t.Repeat(actions)
	})
}

func mdlCanReopen(b mdlBackend) bool {
	_, plain := b.(mdlPlain)
	return !plain
}

// restart replaces the service by one reopened over its storage, with the
// same options; the clock goes on.
func (m *mdlModel) restart(t *rapid.T) {
	m.svc = m.backend.reopen(t, m.svc, m.opts)
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
	mdlMaxLiveKeys    = 5
	mdlMaxKeys        = 10
	mdlUnknownID      = "0b7e5c1a-3f2d-4c6e-9a8b-1d2e3f4a5b6c" // well formed, never created
)

// Model key states. mdlDeleted is a key whose waiting period ended (D7).
const (
	mdlEnabled         = "Enabled"
	mdlDisabled        = "Disabled"
	mdlPendingDeletion = "PendingDeletion"
	mdlPendingImport   = "PendingImport"
	mdlUnavailable     = "Unavailable"
	mdlDeleted         = "(deleted)"
)

// mdlKind is the kind of key the model creates.
type mdlKind uint8

const (
	mdlSym  mdlKind = iota // SYMMETRIC_DEFAULT, AWS_KMS
	mdlRSA                 // RSA_2048 SIGN_VERIFY
	mdlHMAC                // HMAC_256 GENERATE_VERIFY_MAC
	mdlExt                 // SYMMETRIC_DEFAULT, EXTERNAL (born PendingImport)
	mdlCKS                 // SYMMETRIC_DEFAULT, AWS_CLOUDHSM, in the model's custom key store
)

func (k mdlKind) String() string {
	return [...]string{"SYMMETRIC_DEFAULT", "RSA_2048", "HMAC_256", "EXTERNAL", "AWS_CLOUDHSM"}[k]
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

// mdlKey is the model of one key.
type mdlKey struct {
	id, arn   string
	kind      mdlKind
	state     string
	desired   string // while Unavailable: Enabled or Disabled, the state on reconnect ([12])
	material0 string // CurrentKeyMaterialId at creation (symmetric keys)

	autoOn bool
	period int           // days
	anchor time.Time     // last automatic rotation, or when rotation was enabled (D11)
	next   time.Time     // next automatic rotation, while autoOn
	odN    int           // on-demand rotations charged (D1)
	odRun  bool          // an on-demand rotation is in progress (D10)
	odFrom time.Time     // its start
	odTo   time.Time     // its completion
	delAt  time.Time     // DeletionDate, while PendingDeletion
	rots   []mdlRotation // expected ListKeyRotations, oldest first (D14)

	// Invariant (b): rotation enabled at enabledAt with period and neither
	// the key nor its schedule touched since.
	pristine  bool
	enabledAt time.Time
	// Invariant (c).
	stretches []mdlStretch

	// Imported key material (EXTERNAL keys): the material (the first one
	// imported; a re-import must bring the same), whether it is imported
	// now, and when it expires (zero: it does not).
	mat      []byte
	imported bool
	validTo  time.Time
}

func (k *mdlKey) live() bool { return k != nil && k.state != mdlDeleted }

// mdlModel holds the service under test and the model.
type mdlModel struct {
	backend   mdlBackend
	opts      []kms.Option
	svc       *kms.Service
	clock     *kms.ManualClock
	ctx       context.Context
	now       time.Time
	quota     int
	odDur     time.Duration
	keys      []*mdlKey
	arnPrefix string
	checks    int
	cts       []*mdlCiphertext // every ciphertext Encrypt and GenerateDataKey produced

	// The custom key store (issue 5): its ID, ConnectionState, the
	// simulated connect duration, and while CONNECTING when it connects.
	cksID     string
	cksState  string
	cksDur    time.Duration
	connectAt time.Time
}

// mdlCiphertext is a ciphertext the service produced, and what it holds.
type mdlCiphertext struct {
	k    *mdlKey // its key (deleted keys stay, with state mdlDeleted)
	pt   []byte
	ec   map[string]string
	blob []byte
}

func mdlNew(t *rapid.T, backend mdlBackend) *mdlModel {
	quota := rapid.IntRange(1, 12).Draw(t, "quota")
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
	clock := kms.NewManualClock(mdlStart)
	opts := []kms.Option{
		kms.WithClock(clock),
		kms.WithRandom(rand.NewChaCha8([32]byte{'k', 'm', 's', 'm', 'o', 'd', 'e', 'l'})),
		kms.WithOnDemandRotationQuota(quota),
		kms.WithOnDemandRotationDuration(dur),
		kms.WithCustomKeyStoreConnectDuration(cksDur),
	}
	svc := backend.open(t, opts)
	m := &mdlModel{
		backend: backend, opts: opts, svc: svc, clock: clock, ctx: context.Background(), now: mdlStart,
		quota: quota, odDur: dur, cksDur: cksDur,
		arnPrefix: "arn:aws:kms:" + svc.Region() + ":" + svc.Account() + ":key/",
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

// mdlRef is the identifier a call passes as KeyId and what D3 steps 1–3
// make of it on their own.
type mdlRef struct {
	k     *mdlKey // the model key named (possibly deleted), or nil
	id    string  // KeyId as passed
	errID string  // the KeyID an error about this identifier carries
	err   error   // nil when the identifier names a live key
}

// pick chooses the key a call names: mostly a live key by key ID or key
// ARN, sometimes any of the model's keys (deleted ones too, D7), now and
// then a well-formed ID that never existed or a malformed identifier (D4,
// D5, D6, D19).
func (m *mdlModel) pick(t *rapid.T) mdlRef {
	var live []*mdlKey
	for _, k := range m.keys {
		if k.live() {
			live = append(live, k)
		}
	}
	var k *mdlKey
	switch which := rapid.IntRange(0, 15).Draw(t, "which"); {
	case which == 0:
		return mdlRef{id: mdlUnknownID, errID: m.arnPrefix + mdlUnknownID, err: keystate.ErrNotFound}
	case which == 1:
		return m.badIdentifier(t)
	case which <= 3 || len(live) == 0:
		k = m.keys[rapid.IntRange(0, len(m.keys)-1).Draw(t, "key")]
	default:
		k = live[rapid.IntRange(0, len(live)-1).Draw(t, "liveKey")]
	}
	r := mdlRef{k: k, id: k.id, errID: k.arn}
	if rapid.Bool().Draw(t, "byARN") {
		r.id = k.arn
	}
	if !k.live() {
		r.err = keystate.ErrNotFound // D7
	}
	return r
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
	k := fit[rapid.IntRange(0, len(fit)-1).Draw(t, "fitKey")]
	r := mdlRef{k: k, id: k.id, errID: k.arn}
	if rapid.Bool().Draw(t, "byARN") {
		r.id = k.arn
	}
	return r
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
	var r mdlRef
	switch rapid.IntRange(0, 6).Draw(t, "badIdentifier") {
	case 0:
		r = mdlRef{id: "", err: keystate.ErrValidation} // length 1–2048
	case 1:
		r = mdlRef{id: strings.Repeat("7", 2049), err: keystate.ErrValidation}
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
}

// ---- Actions ----

func (m *mdlModel) createKey(t *rapid.T) {
	live := 0
	for _, k := range m.keys {
		if k.live() {
			live++
		}
	}
	if live >= mdlMaxLiveKeys || len(m.keys) >= mdlMaxKeys {
		t.Skip("enough keys")
	}
	m.create(t, 10)
}

// create creates a key of a random kind, mostly symmetric; choices 8 and 9
// are a key in the custom key store (refused unless the store is
// CONNECTED), choice 10 is refused.
func (m *mdlModel) create(t *rapid.T, maxChoice int) {
	choice := rapid.IntRange(0, maxChoice).Draw(t, "keyKind")
	in := &kms.CreateKeyInput{}
	var kind mdlKind
	switch choice {
	case 0, 1, 2, 3, 4:
		kind = mdlSym
	case 5:
		kind, in.KeySpec, in.KeyUsage = mdlRSA, "RSA_2048", "SIGN_VERIFY"
	case 6:
		kind, in.KeySpec, in.KeyUsage = mdlHMAC, "HMAC_256", "GENERATE_VERIFY_MAC"
	case 7:
		kind, in.Origin = mdlExt, "EXTERNAL"
	case 8, 9:
		kind, in.Origin, in.CustomKeyStoreId = mdlCKS, "AWS_CLOUDHSM", m.cksID
		if m.cksState != kms.ConnectionConnected {
			out, err := m.svc.CreateKey(m.ctx, in)
			mdlExpect(t, "CreateKey(AWS_CLOUDHSM, store "+m.cksState+")", err, keystate.ErrCustomKeyStoreInvalidState, "")
			if out != nil {
				t.Fatalf("CreateKey refused but returned %+v", out)
			}
			return
		}
	case 10:
		// An asymmetric KeySpec without KeyUsage: ValidationException, no key.
		in.KeySpec = "RSA_2048"
		out, err := m.svc.CreateKey(m.ctx, in)
		mdlExpect(t, "CreateKey(RSA_2048 without KeyUsage)", err, keystate.ErrValidation, "")
		if out != nil {
			t.Fatalf("CreateKey refused but returned %+v", out)
		}
		return
	}
	out, err := m.svc.CreateKey(m.ctx, in)
	mdlExpect(t, "CreateKey("+kind.String()+")", err, nil, "")
	md := out.KeyMetadata
	k := &mdlKey{id: md.KeyId, arn: md.Arn, kind: kind, state: mdlEnabled, material0: md.CurrentKeyMaterialId}
	if kind == mdlExt {
		k.state = mdlPendingImport
	}
	if md.Arn != m.arnPrefix+md.KeyId || md.KeyState != k.state || md.Enabled != (k.state == mdlEnabled) ||
		!md.CreationDate.Equal(m.now) || md.DeletionDate != nil {
		t.Fatalf("CreateKey(%s): metadata %+v, want state %s created %v", kind, md, k.state, m.now)
	}
	if kind == mdlSym && len(md.CurrentKeyMaterialId) != 64 {
		t.Fatalf("CreateKey: CurrentKeyMaterialId %q is not 64 hex digits", md.CurrentKeyMaterialId)
	}
	for _, o := range m.keys {
		if o.id == k.id {
			t.Fatalf("CreateKey: key ID %s issued twice", k.id)
		}
	}
	m.keys = append(m.keys, k)
}

func (m *mdlModel) enableKey(t *rapid.T) {
	m.enable(t, m.pickWhere(t, func(k *mdlKey) bool { return k.state == mdlDisabled || k.state == mdlUnavailable }))
}

func (m *mdlModel) enable(t *rapid.T, r mdlRef) {
	k, want := r.k, r.err
	if want == nil && (k.state == mdlPendingDeletion || k.state == mdlPendingImport) {
		want = keystate.ErrKMSInvalidState // [3], [5]
	}
	_, err := m.svc.EnableKey(m.ctx, &kms.EnableKeyInput{KeyId: r.id})
	mdlExpect(t, "EnableKey", err, want, r.errID)
	if want != nil || k.state == mdlEnabled {
		return
	}
	if k.state == mdlUnavailable {
		k.desired = mdlEnabled // [12]: takes effect on reconnect
		return
	}
	// Disabled → Enabled. D12: one catch-up rotation now if a scheduled
	// date passed meanwhile, else the schedule resumes unchanged.
	k.state = mdlEnabled
	if k.autoOn && !k.next.After(m.now) {
		m.rotateAuto(k, m.now, false)
	}
	if n := len(k.stretches); n > 0 && !k.stretches[n-1].closed {
		k.stretches[n-1].end, k.stretches[n-1].closed = m.now, true
	}
}

// leaveEnabled records the start of a stretch out of Enabled.
func (m *mdlModel) leaveEnabled(k *mdlKey) {
	k.pristine = false
	s := mdlStretch{start: m.now, autoOn: k.autoOn, next: k.next}
	if k.odRun {
		s.odEnd = k.odTo
	}
	k.stretches = append(k.stretches, s)
}

func (m *mdlModel) disableKey(t *rapid.T) {
	r := m.pickWhere(t, func(k *mdlKey) bool { return k.state == mdlEnabled || k.state == mdlUnavailable })
	k, want := r.k, r.err
	if want == nil && (k.state == mdlPendingDeletion || k.state == mdlPendingImport) {
		want = keystate.ErrKMSInvalidState // [3], [5]
	}
	_, err := m.svc.DisableKey(m.ctx, &kms.DisableKeyInput{KeyId: r.id})
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
	r := m.pick(t)
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
	case k.state == mdlPendingDeletion:
		want = keystate.ErrKMSInvalidState // [3]
	}
	out, err := m.svc.ScheduleKeyDeletion(m.ctx, &kms.ScheduleKeyDeletionInput{KeyId: r.id, PendingWindowInDays: window})
	mdlExpect(t, "ScheduleKeyDeletion", err, want, r.errID)
	if want != nil {
		return
	}
	if k.state == mdlEnabled {
		m.leaveEnabled(k)
	}
	k.state, k.desired = mdlPendingDeletion, "" // also from Unavailable (a.2)
	k.delAt = m.now.Add(time.Duration(days) * mdlDay)
	if out == nil || out.DeletionDate == nil || !out.DeletionDate.Equal(k.delAt) || out.KeyId != k.arn ||
		out.KeyState != mdlPendingDeletion || out.PendingWindowInDays != days {
		t.Fatalf("ScheduleKeyDeletion: got %+v, want DeletionDate %v, KeyId %s, window %d", out, k.delAt, k.arn, days)
	}
}

func (m *mdlModel) cancelKeyDeletion(t *rapid.T) {
	r := m.pickWhere(t, func(k *mdlKey) bool { return k.state == mdlPendingDeletion })
	k, want := r.k, r.err
	if want == nil && k.state != mdlPendingDeletion {
		want = keystate.ErrKMSInvalidState // [4]
	}
	out, err := m.svc.CancelKeyDeletion(m.ctx, &kms.CancelKeyDeletionInput{KeyId: r.id})
	mdlExpect(t, "CancelKeyDeletion", err, want, r.errID)
	if want != nil {
		return
	}
	if out == nil || out.KeyId != k.arn {
		t.Fatalf("CancelKeyDeletion: got %+v, want KeyId %s", out, k.arn)
	}
	// Disabled, the rotation setting restored (recorded behaviour, D12). The
	// stretch out of Enabled goes on until EnableKey. An EXTERNAL key whose
	// material is gone goes back to PendingImport (kmsmodel's choice; a.4:
	// usable only while its material is present).
	k.state, k.delAt = mdlDisabled, time.Time{}
	if k.kind == mdlExt && !k.imported {
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
func mdlRotationConfigErr(r mdlRef) error {
	if r.err != nil {
		return r.err
	}
	switch r.k.state {
	case mdlDisabled:
		return keystate.ErrDisabled
	case mdlPendingDeletion:
		return keystate.ErrKMSInvalidState
	case mdlPendingImport:
		return keystate.ErrUnsupportedOperation
	}
	if r.k.kind != mdlSym {
		return keystate.ErrUnsupportedOperation
	}
	return nil
}

func (m *mdlModel) enableKeyRotation(t *rapid.T) {
	m.enableRotation(t, m.pickWhere(t, mdlIsEnabledSym))
}

func (m *mdlModel) enableRotation(t *rapid.T, r mdlRef) {
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
	_, err := m.svc.EnableKeyRotation(m.ctx, &kms.EnableKeyRotationInput{KeyId: r.id, RotationPeriodInDays: in})
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
	r := m.pickWhere(t, func(k *mdlKey) bool { return k.autoOn })
	want := mdlRotationConfigErr(r)
	_, err := m.svc.DisableKeyRotation(m.ctx, &kms.DisableKeyRotationInput{KeyId: r.id})
	mdlExpect(t, "DisableKeyRotation", err, want, r.errID)
	if want == nil {
		r.k.autoOn, r.k.pristine = false, false
	}
}

func (m *mdlModel) rotateKeyOnDemand(t *rapid.T) {
	m.rotateOnDemand(t, m.pickWhere(t, mdlIsEnabledSym))
}

func (m *mdlModel) rotateOnDemand(t *rapid.T, r mdlRef) {
	k := r.k
	var want error
	switch {
	case r.err != nil:
		want = r.err
	case k.state == mdlDisabled:
		want = keystate.ErrDisabled // [1]
	case k.state == mdlPendingDeletion, k.state == mdlPendingImport:
		want = keystate.ErrKMSInvalidState // [3], [5]
	case k.kind != mdlSym:
		want = keystate.ErrUnsupportedOperation // D2 (EXTERNAL), D8, [7] (custom key store, also Unavailable)
	case k.odN >= m.quota:
		want = keystate.ErrLimitExceeded // D1
	case k.odRun:
		want = keystate.ErrConflict // D9: an earlier on-demand rotation runs
	case k.autoOn && k.next.Sub(m.now) <= mdlConflictWindow:
		want = keystate.ErrConflict // D9: automatic rotation within 20 minutes
	}
	out, err := m.svc.RotateKeyOnDemand(m.ctx, &kms.RotateKeyOnDemandInput{KeyId: r.id})
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
	} else {
		k.odRun, k.odFrom, k.odTo = true, m.now, m.now.Add(m.odDur)
	}
}

// statusErr predicts GetKeyRotationStatus: [6] in PendingImport, D2a [7]
// for EXTERNAL keys elsewhere and for custom key store keys in every state
// (?[7], and ✗[7] while Unavailable); asymmetric and HMAC keys answer (D8).
func mdlStatusErr(r mdlRef) error {
	switch {
	case r.err != nil:
		return r.err
	case r.k.state == mdlPendingImport, r.k.kind == mdlExt, r.k.kind == mdlCKS:
		return keystate.ErrUnsupportedOperation
	}
	return nil
}

func (m *mdlModel) getKeyRotationStatus(t *rapid.T) {
	r := m.pick(t)
	want := mdlStatusErr(r)
	out, err := m.svc.GetKeyRotationStatus(m.ctx, &kms.GetKeyRotationStatusInput{KeyId: r.id})
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
	on := k.autoOn && k.state != mdlPendingDeletion // D12: false while PendingDeletion
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
func mdlListErr(r mdlRef) error {
	switch {
	case r.err != nil:
		return r.err
	case r.k.kind == mdlCKS, r.k.kind == mdlExt && r.k.state != mdlPendingImport:
		return keystate.ErrUnsupportedOperation
	}
	return nil
}

func (m *mdlModel) listKeyRotations(t *rapid.T) {
	r := m.pick(t)
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
		want = mdlListErr(r)
	}
	got, err := m.listAll(r.k, r.id, limit, include)
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
	r := m.pick(t)
	var marker string
	invalid := false
	switch rapid.IntRange(0, 3).Draw(t, "markerKind") {
	case 0:
		marker = "garbage-marker"
	case 1:
		// A marker from another key's listing, if one can be had.
		marker = "bm90LWEtbWFya2Vy" // base64 of "not-a-marker"
		for _, o := range m.keys {
			if o.live() && o != r.k && len(o.rots) >= 2 && (o.kind != mdlExt || o.state == mdlPendingImport) {
				out, err := m.svc.ListKeyRotations(m.ctx, &kms.ListKeyRotationsInput{KeyId: o.id, Limit: kms.Int32(1)})
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
		if want = mdlListErr(r); want == nil {
			want = keystate.ErrInvalidMarker
		}
	}
	_, err := m.svc.ListKeyRotations(m.ctx, &kms.ListKeyRotationsInput{KeyId: r.id, Marker: marker})
	mdlExpect(t, "ListKeyRotations(Marker "+mdlShort(marker)+")", err, want, r.errID)
}

func (m *mdlModel) describeKey(t *rapid.T) {
	r := m.pick(t)
	out, err := m.svc.DescribeKey(m.ctx, &kms.DescribeKeyInput{KeyId: r.id})
	mdlExpect(t, "DescribeKey", err, r.err, r.errID)
	if r.err == nil {
		m.checkMetadata(t, r.k, out.KeyMetadata, nil)
	}
}

// ---- Cryptographic operations (issue 6) ----

// mdlCryptoErr predicts Encrypt and GenerateDataKey once the input is
// valid: the identifier (D3 steps 1–3), the key-state table a.2 ([1]; [3]
// per D17, recorded 6a–6b; [5], recorded 6c), then the key's usage (D3
// step 7): RSA_2048 SIGN_VERIFY and HMAC keys do not encrypt. An
// Unavailable key: [11].
func mdlCryptoErr(r mdlRef) error {
	switch {
	case r.err != nil:
		return r.err
	case r.k.state == mdlDisabled:
		return keystate.ErrDisabled
	case r.k.state == mdlPendingDeletion, r.k.state == mdlPendingImport, r.k.state == mdlUnavailable:
		return keystate.ErrKMSInvalidState
	case r.k.kind == mdlRSA, r.k.kind == mdlHMAC:
		return keystate.ErrInvalidKeyUsage
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
	r := m.pickWhere(t, mdlIsEnabledEncrypt)
	pt := rapid.SliceOfN(rapid.Byte(), 1, 64).Draw(t, "plaintext")
	ec := mdlDrawContext(t)
	want := mdlCryptoErr(r)
	out, err := m.svc.Encrypt(m.ctx, &kms.EncryptInput{KeyId: r.id, Plaintext: pt, EncryptionContext: ec})
	mdlExpect(t, "Encrypt", err, want, r.errID)
	if want != nil {
		return
	}
	if out == nil || out.KeyId != r.k.arn || out.EncryptionAlgorithm != "SYMMETRIC_DEFAULT" || len(out.CiphertextBlob) <= len(pt) {
		t.Fatalf("Encrypt(%s): got %+v, want KeyId %s, SYMMETRIC_DEFAULT, a blob longer than the plaintext", r.id, out, r.k.arn)
	}
	m.cts = append(m.cts, &mdlCiphertext{k: r.k, pt: pt, ec: ec, blob: out.CiphertextBlob})
}

func (m *mdlModel) generateDataKey(t *rapid.T) {
	r := m.pickWhere(t, mdlIsEnabledEncrypt)
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
	want := mdlCryptoErr(r)
	out, err := m.svc.GenerateDataKey(m.ctx, in)
	mdlExpect(t, "GenerateDataKey", err, want, r.errID)
	if want != nil {
		return
	}
	if out == nil || out.KeyId != r.k.arn || len(out.Plaintext) != size || len(out.CiphertextBlob) == 0 {
		t.Fatalf("GenerateDataKey(%s, %d bytes): got KeyId %v, %d bytes", r.id, size, out.KeyId, len(out.Plaintext))
	}
	m.cts = append(m.cts, &mdlCiphertext{k: r.k, pt: slices.Clone([]byte(out.Plaintext)), ec: in.EncryptionContext, blob: out.CiphertextBlob})
}

// mdlDecryptErr predicts Decrypt of c, with KeyId naming named (nil when
// absent) and the right encryption context or not: the blob's key must
// exist (D7); KeyId, when given, must exist and name that key
// (IncorrectKeyException); then the key-state table ([1]; [3] per D17);
// then the blob's authentication (InvalidCiphertextException). The error
// names the blob's key, or the missing key KeyId names.
func mdlDecryptErr(c *mdlCiphertext, named *mdlKey, wrongContext bool) (error, string) {
	k := c.k
	switch {
	case !k.live():
		return keystate.ErrNotFound, k.arn
	case named != nil && !named.live():
		return keystate.ErrNotFound, named.arn
	case named != nil && named != k:
		return keystate.ErrIncorrectKey, k.arn
	case k.state == mdlDisabled:
		return keystate.ErrDisabled, k.arn
	case k.state == mdlPendingDeletion, k.state == mdlPendingImport, k.state == mdlUnavailable:
		return keystate.ErrKMSInvalidState, k.arn // [3], [5], [11]
	case wrongContext:
		return keystate.ErrInvalidCiphertext, k.arn
	}
	return nil, ""
}

func (m *mdlModel) decrypt(t *rapid.T) {
	if len(m.cts) == 0 {
		t.Skip("no ciphertext yet")
	}
	c := m.cts[rapid.IntRange(0, len(m.cts)-1).Draw(t, "ciphertext")]
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
	if named != nil {
		in.KeyId = named.id
		if rapid.Bool().Draw(t, "keyIdByARN") {
			in.KeyId = named.arn
		}
	}
	want, errID := mdlDecryptErr(c, named, wrongContext)
	out, err := m.svc.Decrypt(m.ctx, in)
	mdlExpect(t, "Decrypt", err, want, errID)
	if want == nil && (out == nil || !bytes.Equal(out.Plaintext, c.pt) || out.KeyId != c.k.arn) {
		t.Fatalf("Decrypt of a ciphertext of %s: got %+v, want %x", c.k.arn, out, c.pt)
	}
}

// checkCiphertexts is invariant (f): every recorded ciphertext of a key
// that still exists decrypts to its plaintext while the key is Enabled;
// otherwise Decrypt gives the state's exception, NotFoundException once
// the key is deleted. At most 8 ciphertexts per step, chosen at random.
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
		want, errID := mdlDecryptErr(c, nil, false)
		out, err := m.svc.Decrypt(m.ctx, &kms.DecryptInput{CiphertextBlob: c.blob, EncryptionContext: c.ec})
		mdlExpect(t, fmt.Sprintf("Decrypt of ciphertext %d of %s (%s, check)", i, c.k.id, c.k.state), err, want, errID)
		if want == nil && (out == nil || !bytes.Equal(out.Plaintext, c.pt) || out.KeyId != c.k.arn) {
			t.Fatalf("ciphertext %d of %s decrypts to %+v, want %x", i, c.k.arn, out, c.pt)
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
// before it), the end of an on-demand rotation, a deletion; then, maybe,
// rotates that key on demand, enables it or changes its rotation period.
// While the custom key store is CONNECTING, its connection is such an
// instant too.
func (m *mdlModel) advanceToEdge(t *rapid.T) {
	if m.cksState == kms.ConnectionConnecting && rapid.IntRange(0, 2).Draw(t, "storeEdge") == 0 {
		off := rapid.SampledFrom([]time.Duration{-time.Nanosecond, 0, 0, time.Nanosecond}).Draw(t, "connectOffset")
		m.advance(t, m.connectAt.Add(off).Sub(m.now), rapid.Bool().Draw(t, "sweep"))
		return
	}
	var ks []*mdlKey
	for _, k := range m.keys {
		if k.live() && (k.autoOn || k.odRun || k.state == mdlPendingDeletion) {
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
	target := targets[rapid.IntRange(0, len(targets)-1).Draw(t, "target")]
	var off time.Duration // mostly the instant itself
	if rapid.IntRange(0, 2).Draw(t, "offsetKind") == 0 {
		off = rapid.SampledFrom([]time.Duration{
			-mdlConflictWindow - time.Nanosecond, -mdlConflictWindow, -mdlConflictWindow + time.Nanosecond,
			-time.Second, -time.Nanosecond, time.Nanosecond,
		}).Draw(t, "offset")
	}
	to := target.Add(off)
	if to.Before(m.now) {
		t.Skip("edge already passed")
	}
	m.advance(t, to.Sub(m.now), rapid.Bool().Draw(t, "sweep"))
	r := mdlRef{k: k, id: k.id, errID: k.arn}
	if !k.live() {
		r.err = keystate.ErrNotFound // deleted at the edge (D7)
	}
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
	if got := m.clock.Advance(d); !got.Equal(to) {
		t.Fatalf("ManualClock.Advance(%v) = %v, want %v", d, got, to)
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
// at their instants while Enabled (D12, D13), completions of on-demand
// rotations (D10), deletions at DeletionDate (D7). It returns how many
// happened, and whether an on-demand completion fell at the instant of its
// key's deletion (which then may or may not count as applied).
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
			if k.state == mdlEnabled && k.autoOn {
				consider(k.next)
			}
			if k.odRun {
				consider(k.odTo)
			}
			if k.state == mdlPendingDeletion {
				consider(k.delAt)
			}
			if k.imported && !k.validTo.IsZero() {
				consider(k.validTo)
			}
		}
		if !found {
			return n, ambiguous
		}
		if m.cksState == kms.ConnectionConnecting && m.connectAt.Equal(at) {
			// The store connects. It touches only Unavailable keys, which
			// have no other events, so its order among the events of this
			// instant does not matter.
			save := m.now
			m.now = at
			m.connected()
			m.now = save
			n++
		}
		for _, k := range m.keys {
			if !k.live() {
				continue
			}
			od := k.odRun && k.odTo.Equal(at)
			expiry := k.imported && !k.validTo.IsZero() && k.validTo.Equal(at)
			if k.state == mdlPendingDeletion && k.delAt.Equal(at) {
				if od || expiry {
					ambiguous = true
				}
				*k = mdlKey{id: k.id, arn: k.arn, kind: k.kind, state: mdlDeleted}
				n++
				continue
			}
			auto := k.state == mdlEnabled && k.autoOn && k.next.Equal(at)
			if auto {
				m.rotateAuto(k, at, od)
				n++
			}
			if od {
				k.odRun = false
				k.rots = append(k.rots, mdlRotation{at: at, typ: "ON_DEMAND", tie: auto})
				n++
			}
			if expiry {
				// The material expires at exactly ValidTo: the key is
				// PendingImport, unless it is pending deletion (a.4, b).
				m.loseMaterial(k)
				n++
			}
		}
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
// deletion).
func mdlImportErr(r mdlRef) error {
	switch {
	case r.err != nil:
		return r.err
	case r.k.kind != mdlExt:
		return keystate.ErrUnsupportedOperation
	case r.k.state == mdlPendingDeletion:
		return keystate.ErrKMSInvalidState
	}
	return nil
}

// importKeyMaterial gets import parameters and imports material: the
// key's own (or new 32 bytes the first time), or sometimes other material
// (IncorrectKeyMaterialException), expiring at a random instant up to a
// year ahead or never.
func (m *mdlModel) importKeyMaterial(t *rapid.T) {
	r := m.pickWhere(t, func(k *mdlKey) bool { return k.kind == mdlExt })
	want := mdlImportErr(r)
	p, err := m.svc.GetParametersForImport(m.ctx, &kms.GetParametersForImportInput{KeyId: r.id,
		WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
	mdlExpect(t, "GetParametersForImport", err, want, r.errID)
	if want != nil {
		return
	}
	k := r.k
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
		validTo = m.now.Add(time.Duration(rapid.Int64Range(int64(time.Minute), int64(365*mdlDay)).Draw(t, "validFor")))
		in.ValidTo = &validTo
	} else {
		in.ExpirationModel = "KEY_MATERIAL_DOES_NOT_EXPIRE"
	}
	if wrong {
		want = keystate.ErrIncorrectKeyMaterial
	}
	_, err = m.svc.ImportKeyMaterial(m.ctx, in)
	mdlExpect(t, "ImportKeyMaterial", err, want, k.arn)
	if want != nil {
		return
	}
	k.mat, k.imported, k.validTo = mat, true, validTo
	if k.state == mdlPendingImport {
		k.state = mdlEnabled
		if n := len(k.stretches); n > 0 && !k.stretches[n-1].closed {
			k.stretches[n-1].end, k.stretches[n-1].closed = m.now, true
		}
	}
}

// deleteImportedKeyMaterial: footnote [9] for keys that cannot have
// imported material; otherwise the key becomes PendingImport, or stays
// pending deletion.
func (m *mdlModel) deleteImportedKeyMaterial(t *rapid.T) {
	r := m.pickWhere(t, func(k *mdlKey) bool { return k.kind == mdlExt && k.imported })
	want := r.err
	switch {
	case want != nil:
	case r.k.state == mdlUnavailable:
		// N/A in the table: the state's KMSInvalidStateException
		// (keystate.Check, kmsmodel's reading of N/A).
		want = keystate.ErrKMSInvalidState
	case r.k.kind != mdlExt:
		want = keystate.ErrUnsupportedOperation
	}
	_, err := m.svc.DeleteImportedKeyMaterial(m.ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: r.id})
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
	live := 0
	var nextEvent time.Time
	if m.cksState == kms.ConnectionConnecting {
		nextEvent = m.connectAt
	}
	// The store's ConnectionState is the model's.
	stores, err := m.svc.DescribeCustomKeyStores(m.ctx, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreId: m.cksID})
	if err != nil || len(stores.CustomKeyStores) != 1 || stores.CustomKeyStores[0].ConnectionState != m.cksState {
		t.Fatalf("DescribeCustomKeyStores(%s): %+v, %v; the model's store is %s", m.cksID, stores, err, m.cksState)
	}
	for _, k := range m.keys {
		if !k.live() {
			_, err := m.svc.DescribeKey(m.ctx, &kms.DescribeKeyInput{KeyId: k.id})
			mdlExpect(t, "DescribeKey(deleted key)", err, keystate.ErrNotFound, k.arn)
			continue
		}
		live++
		for _, x := range []struct {
			ok bool
			at time.Time
		}{{k.state == mdlEnabled && k.autoOn, k.next}, {k.odRun, k.odTo}, {k.state == mdlPendingDeletion, k.delAt}} {
			if x.ok && (nextEvent.IsZero() || x.at.Before(nextEvent)) {
				nextEvent = x.at
			}
		}

		// (d) ListKeyRotations, read fully with a small Limit.
		limit := 1 + m.checks%3
		if n := len(k.rots); n > 12 {
			limit = n/5 + 1
		}
		rots, err := m.listAll(k, k.id, kms.Int32(int32(limit)), "")
		self := mdlRef{k: k, id: k.id, errID: k.arn}
		mdlExpect(t, "ListKeyRotations (check)", err, mdlListErr(self), k.arn)
		if err == nil {
			m.compareRotations(t, k, rots)
			m.checkHistory(t, k, rots)
		}

		// (e) DescribeKey and GetKeyRotationStatus.
		out, err := m.svc.DescribeKey(m.ctx, &kms.DescribeKeyInput{KeyId: k.arn})
		mdlExpect(t, "DescribeKey (check)", err, nil, k.arn)
		m.checkMetadata(t, k, out.KeyMetadata, rots)
		st, err := m.svc.GetKeyRotationStatus(m.ctx, &kms.GetKeyRotationStatusInput{KeyId: k.id})
		mdlExpect(t, "GetKeyRotationStatus (check)", err, mdlStatusErr(self), k.arn)
		if err == nil {
			m.checkStatus(t, k, st)
		}
	}

	// (f) Ciphertexts decrypt while their key is Enabled (issue 6).
	m.checkCiphertexts(t)

	// Every live key is listed, deleted ones are not (D7).
	keys, err := m.svc.ListKeys(m.ctx, &kms.ListKeysInput{Limit: kms.Int32(1000)})
	if err != nil || len(keys.Keys) != live {
		t.Fatalf("ListKeys: %d keys (%v), the model has %d live keys", mdlLen(keys), err, live)
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
func (m *mdlModel) listAll(k *mdlKey, id string, limit *int32, include string) ([]kms.RotationsListEntry, error) {
	var all []kms.RotationsListEntry
	marker := ""
	for page := 0; ; page++ {
		out, err := m.svc.ListKeyRotations(m.ctx, &kms.ListKeyRotationsInput{
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
		t.Fatalf("DescribeKey(%s %s): DeletionDate %v, want %v", k.id, k.state, mdlTime(md.DeletionDate), k.delAt)
	}
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
	if k.kind == mdlSym && rots != nil {
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
