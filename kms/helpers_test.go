package kms_test

// Shared fixtures of the fixed (non-property) tests. Every helper and
// package-level name here starts with "fx" so that it cannot collide with the
// other _test.go files of package kms_test (model, examples, benchmarks).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

const (
	fxAccount = "111122223333" // the service's own account (the default)
	fxOther   = "444455556666" // another account
	fxRegion  = "us-east-1"    // the service's Region (the default)
	fxDay     = 24 * time.Hour
)

// fxT0 is the instant every test clock starts at, unless a test says
// otherwise. It is never the wall clock.
var fxT0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// fxMissingID is a well-formed key ID that no test service ever creates.
const fxMissingID = "0bad0bad-0bad-4bad-8bad-0bad0bad0bad"

// fxEnv is one service under a manual clock, for one test.
type fxEnv struct {
	t   testing.TB
	s   *kms.Service
	clk *kms.ManualClock
	ctx context.Context
}

// fxNew returns a service whose clock starts at fxT0 and whose randomness is
// a seeded ChaCha8, so that key IDs are the same on every run.
func fxNew(t testing.TB, opts ...kms.Option) *fxEnv {
	t.Helper()
	return fxNewAt(t, fxT0, opts...)
}

// fxNewAt is fxNew with the clock starting at start.
func fxNewAt(t testing.TB, start time.Time, opts ...kms.Option) *fxEnv {
	t.Helper()
	clk := kms.NewManualClock(start)
	all := append([]kms.Option{
		kms.WithClock(clk),
		kms.WithRandom(rand.NewChaCha8(fxSeed(t.Name()))),
	}, opts...)
	return &fxEnv{t: t, s: kms.New(all...), clk: clk, ctx: context.Background()}
}

// fxSeed derives a fixed ChaCha8 seed from a test name.
func fxSeed(name string) (seed [32]byte) {
	copy(seed[:], name)
	return seed
}

// fxARN is the ARN of key id in the default account and Region.
func fxARN(id string) string { return fxARNIn(fxAccount, id) }

func fxARNIn(account, id string) string {
	return "arn:aws:kms:" + fxRegion + ":" + account + ":key/" + id
}

func fxAliasARN(name string) string { return "arn:aws:kms:" + fxRegion + ":" + fxAccount + ":" + name }

// as returns a context whose calls run as account.
func (e *fxEnv) as(account string) context.Context { return kms.WithCaller(e.ctx, account) }

// now is the clock's instant.
func (e *fxEnv) now() time.Time { return e.clk.Now() }

// advance moves the clock forward by d, failing the test if it cannot.
func (e *fxEnv) advance(d time.Duration) time.Time {
	e.t.Helper()
	t, err := e.clk.Advance(d)
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

// setClock moves the clock to t, failing the test if t is in the past.
func (e *fxEnv) setClock(t time.Time) {
	e.t.Helper()
	if err := e.clk.Set(t); err != nil {
		e.t.Fatal(err)
	}
}

// create creates a key and returns its metadata.
func (e *fxEnv) create(in *kms.CreateKeyInput) kms.KeyMetadata {
	e.t.Helper()
	out, err := e.s.CreateKey(e.ctx, in)
	if err != nil {
		e.t.Fatalf("CreateKey(%+v): %v", in, err)
	}
	return out.KeyMetadata
}

// symmetric creates a default symmetric key and returns its ID and ARN.
func (e *fxEnv) symmetric() (id, arn string) {
	e.t.Helper()
	m := e.create(&kms.CreateKeyInput{})
	return m.KeyId, m.Arn
}

// kindKey creates a key of the given spec and usage.
func (e *fxEnv) kindKey(spec, usage string) (id, arn string) {
	e.t.Helper()
	m := e.create(&kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage})
	return m.KeyId, m.Arn
}

// external creates an EXTERNAL-origin key (born PendingImport).
func (e *fxEnv) external() (id, arn string) {
	e.t.Helper()
	m := e.create(&kms.CreateKeyInput{Origin: "EXTERNAL"})
	if m.KeyState != "PendingImport" {
		e.t.Fatalf("EXTERNAL key born %s, want PendingImport", m.KeyState)
	}
	return m.KeyId, m.Arn
}

// enableRotation turns on automatic rotation; period 0 means the default.
func (e *fxEnv) enableRotation(id string, period int32) {
	e.t.Helper()
	in := &kms.EnableKeyRotationInput{KeyId: id}
	if period != 0 {
		in.RotationPeriodInDays = kms.Int32(period)
	}
	if _, err := e.s.EnableKeyRotation(e.ctx, in); err != nil {
		e.t.Fatalf("EnableKeyRotation(%s, %d): %v", id, period, err)
	}
}

// rotate rotates a key on demand, which must succeed.
func (e *fxEnv) rotate(id string) {
	e.t.Helper()
	if _, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id}); err != nil {
		e.t.Fatalf("RotateKeyOnDemand(%s) at %v: %v", id, e.now(), err)
	}
}

func (e *fxEnv) disable(id string) {
	e.t.Helper()
	if _, err := e.s.DisableKey(e.ctx, &kms.DisableKeyInput{KeyId: id}); err != nil {
		e.t.Fatalf("DisableKey(%s): %v", id, err)
	}
}

func (e *fxEnv) enable(id string) {
	e.t.Helper()
	if _, err := e.s.EnableKey(e.ctx, &kms.EnableKeyInput{KeyId: id}); err != nil {
		e.t.Fatalf("EnableKey(%s): %v", id, err)
	}
}

// scheduleDeletion schedules a key's deletion and returns its DeletionDate.
func (e *fxEnv) scheduleDeletion(id string, window int32) time.Time {
	e.t.Helper()
	out, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(window)})
	if err != nil {
		e.t.Fatalf("ScheduleKeyDeletion(%s, %d): %v", id, window, err)
	}
	if out.DeletionDate == nil {
		e.t.Fatalf("ScheduleKeyDeletion(%s): no DeletionDate", id)
	}
	return *out.DeletionDate
}

func (e *fxEnv) cancelDeletion(id string) {
	e.t.Helper()
	if _, err := e.s.CancelKeyDeletion(e.ctx, &kms.CancelKeyDeletionInput{KeyId: id}); err != nil {
		e.t.Fatalf("CancelKeyDeletion(%s): %v", id, err)
	}
}

func (e *fxEnv) createAlias(name, target string) {
	e.t.Helper()
	if _, err := e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: name, TargetKeyId: target}); err != nil {
		e.t.Fatalf("CreateAlias(%s, %s): %v", name, target, err)
	}
}

func (e *fxEnv) describe(id string) kms.KeyMetadata {
	e.t.Helper()
	out, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id})
	if err != nil {
		e.t.Fatalf("DescribeKey(%s): %v", id, err)
	}
	return out.KeyMetadata
}

func (e *fxEnv) status(id string) *kms.GetKeyRotationStatusOutput {
	e.t.Helper()
	out, err := e.s.GetKeyRotationStatus(e.ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
	if err != nil {
		e.t.Fatalf("GetKeyRotationStatus(%s): %v", id, err)
	}
	return out
}

// rotations lists every completed rotation of a key (all pages).
func (e *fxEnv) rotations(id string) []kms.RotationsListEntry {
	e.t.Helper()
	all, err := fxAllRotations(e.ctx, e.s, id, "", 1000)
	if err != nil {
		e.t.Fatalf("ListKeyRotations(%s): %v", id, err)
	}
	return all
}

// fxPages reads every page of a listing: page returns the entries of the
// page at marker ("" for the first), whether it is truncated, and the
// next marker.
func fxPages[T any](t testing.TB, page func(marker string) ([]T, bool, string, error)) []T {
	t.Helper()
	var all []T
	marker := ""
	for {
		entries, truncated, next, err := page(marker)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, entries...)
		if !truncated {
			return all
		}
		marker = next
	}
}

// fxAllRotations pages through ListKeyRotations with the given Limit.
func fxAllRotations(ctx context.Context, s *kms.Service, id, include string, limit int32) ([]kms.RotationsListEntry, error) {
	var all []kms.RotationsListEntry
	marker := ""
	for {
		out, err := s.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id, IncludeKeyMaterial: include,
			Limit: kms.Int32(limit), Marker: marker})
		if err != nil {
			return nil, err
		}
		all = append(all, out.Rotations...)
		if !out.Truncated {
			if out.NextMarker != "" {
				return nil, fmt.Errorf("NextMarker %q on a page that is not truncated", out.NextMarker)
			}
			return all, nil
		}
		if out.NextMarker == "" {
			return nil, errors.New("truncated page without NextMarker")
		}
		marker = out.NextMarker
	}
}

// fxRot is a rotation as the tests compare it: its date and type.
type fxRot struct {
	At   time.Time
	Type string
}

func (r fxRot) String() string { return r.At.Format(time.RFC3339Nano) + " " + r.Type }

// rots returns a key's rotations as fxRot values.
func (e *fxEnv) rots(id string) []fxRot {
	e.t.Helper()
	var out []fxRot
	for _, r := range e.rotations(id) {
		if r.RotationDate == nil {
			e.t.Fatalf("rotation entry without RotationDate: %+v", r)
		}
		out = append(out, fxRot{At: *r.RotationDate, Type: r.RotationType})
	}
	return out
}

// wantRots fails unless a key's rotations are exactly want, in order.
func (e *fxEnv) wantRots(id string, want ...fxRot) {
	e.t.Helper()
	got := e.rots(id)
	if len(got) != len(want) {
		e.t.Fatalf("ListKeyRotations(%s): %d rotations %v, want %d %v", id, len(got), got, len(want), want)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) || got[i].Type != want[i].Type {
			e.t.Fatalf("ListKeyRotations(%s)[%d] = %v, want %v\n got  %v\n want %v", id, i, got[i], want[i], got, want)
		}
	}
}

func fxAuto(t time.Time) fxRot     { return fxRot{At: t, Type: "AUTOMATIC"} }
func fxOnDemand(t time.Time) fxRot { return fxRot{At: t, Type: "ON_DEMAND"} }

// fxSnapshot is everything the tests can observe about one key: a refused
// call must leave it exactly as it was.
type fxSnapshot struct {
	Describe     *kms.KeyMetadata
	DescribeErr  string
	Status       *kms.GetKeyRotationStatusOutput
	StatusErr    string
	Rotations    []kms.RotationsListEntry
	RotationsErr string
	Tags         []kms.Tag
	TagsErr      string
	Aliases      []kms.AliasListEntry
	AliasesErr   string
}

func fxErrString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// snapshot observes a key through DescribeKey, GetKeyRotationStatus,
// ListKeyRotations (with the original material), ListResourceTags and
// ListAliases, as the key's own account.
func (e *fxEnv) snapshot(id string) fxSnapshot {
	e.t.Helper()
	var snap fxSnapshot
	if d, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id}); err == nil {
		snap.Describe = &d.KeyMetadata
	} else {
		snap.DescribeErr = err.Error()
	}
	st, err := e.s.GetKeyRotationStatus(e.ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
	snap.Status, snap.StatusErr = st, fxErrString(err)
	rots, err := fxAllRotations(e.ctx, e.s, id, "ALL_KEY_MATERIAL", 1000)
	snap.Rotations, snap.RotationsErr = rots, fxErrString(err)
	if tags, err := e.s.ListResourceTags(e.ctx, &kms.ListResourceTagsInput{KeyId: id}); err == nil {
		snap.Tags = tags.Tags
	} else {
		snap.TagsErr = err.Error()
	}
	if al, err := e.s.ListAliases(e.ctx, &kms.ListAliasesInput{KeyId: id}); err == nil {
		snap.Aliases = al.Aliases
	} else {
		snap.AliasesErr = err.Error()
	}
	return snap
}

// unchanged fails unless the key looks exactly as in before.
func (e *fxEnv) unchanged(id string, before fxSnapshot) {
	e.t.Helper()
	after := e.snapshot(id)
	if !reflect.DeepEqual(before, after) {
		e.t.Fatalf("a refused call changed key %s:\nbefore %s\nafter  %s", id, fxDump(before), fxDump(after))
	}
}

func fxDump(s fxSnapshot) string {
	var b strings.Builder
	if s.Describe != nil {
		fmt.Fprintf(&b, "describe=%+v ", *s.Describe)
	}
	fmt.Fprintf(&b, "describeErr=%q ", s.DescribeErr)
	if s.Status != nil {
		fmt.Fprintf(&b, "status={KeyId:%s Enabled:%v Period:%v Next:%v OnDemand:%v} ", s.Status.KeyId,
			s.Status.KeyRotationEnabled, fxDeref(s.Status.RotationPeriodInDays), fxDeref(s.Status.NextRotationDate),
			fxDeref(s.Status.OnDemandRotationStartDate))
	}
	fmt.Fprintf(&b, "statusErr=%q rotations=%d %q tags=%v %q aliases=%d %q",
		s.StatusErr, len(s.Rotations), s.RotationsErr, s.Tags, s.TagsErr, len(s.Aliases), s.AliasesErr)
	return b.String()
}

func fxDeref[T any](p *T) any {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// fxWant is the exact refusal a test expects.
type fxWant struct {
	Code  keystate.Exception
	Op    keystate.Operation
	KeyID string         // the key ARN, or the identifier given when no key was resolved
	State keystate.State // the key's state, None when no key was resolved
	Msg   string         // the exact message, when AnyMsg is false
	// AnyMsg skips the message check, for refusals whose wording no
	// recording or decision fixes.
	AnyMsg bool
}

// fxCheckErr fails unless err is exactly the refusal want: errors.Is against
// the keystate sentinel (and against no other), errors.As to *keystate.Error
// with the expected Op, KeyID, State and message.
func fxCheckErr(t testing.TB, err error, want fxWant) *keystate.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s (%s)", want.Code, want.Msg)
	}
	if !errors.Is(err, want.Code) {
		t.Fatalf("got %v, want errors.Is(err, %s)", err, want.Code)
	}
	var ke *keystate.Error
	if !errors.As(err, &ke) {
		t.Fatalf("got %T %v, want a *keystate.Error", err, err)
	}
	for _, other := range fxAllExceptions {
		if other != want.Code && errors.Is(err, other) {
			t.Fatalf("%v also matches %s", err, other)
		}
	}
	if ke.Op != want.Op {
		t.Errorf("Op = %s, want %s (%v)", ke.Op, want.Op, err)
	}
	if ke.KeyID != want.KeyID {
		t.Errorf("KeyID = %q, want %q (%v)", ke.KeyID, want.KeyID, err)
	}
	if ke.State != want.State {
		t.Errorf("State = %q, want %q (%v)", ke.State, want.State, err)
	}
	if !want.AnyMsg && ke.Message != want.Msg {
		t.Errorf("Message = %q\n want    %q", ke.Message, want.Msg)
	}
	return ke
}

var fxAllExceptions = []keystate.Exception{
	keystate.ErrNotFound, keystate.ErrDisabled, keystate.ErrKMSInvalidState, keystate.ErrUnsupportedOperation,
	keystate.ErrLimitExceeded, keystate.ErrConflict, keystate.ErrInvalidArn, keystate.ErrInvalidMarker,
	keystate.ErrValidation, keystate.ErrAccessDenied, keystate.ErrAlreadyExists, keystate.ErrInvalidAliasName,
	keystate.ErrTag, keystate.ErrKMSInternal, keystate.ErrInvalidKeyUsage, keystate.ErrKMSInvalidSignature,
	keystate.ErrKMSInvalidMac, keystate.ErrInvalidCiphertext, keystate.ErrIncorrectKey, keystate.ErrIncorrectKeyMaterial,
}

// fxValidation is the D16 message of a value outside a numeric range or
// over a length.
func fxValidation(value, field, constraint string) string {
	return "1 validation error detected: Value '" + value + "' at '" + field + "' failed to satisfy constraint: " + constraint
}

// fxQuotaMsg is the recorded LimitExceededException message (D19).
func fxQuotaMsg(arn string) string {
	return "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: " + arn
}

// fxNotExist is the recorded NotFoundException message of an unknown key (D19).
func fxNotExist(arn string) string { return "Key '" + arn + "' does not exist" }

// fxTimeEq fails unless p is non-nil and equals want.
func fxTimeEq(t testing.TB, what string, p *time.Time, want time.Time) {
	t.Helper()
	if p == nil {
		t.Fatalf("%s is absent, want %v", what, want)
	}
	if !p.Equal(want) {
		t.Fatalf("%s = %v, want %v", what, *p, want)
	}
}

// fxRecorder is an Observer that keeps every event record.
type fxRecorder struct {
	events []kms.Event
}

func (r *fxRecorder) Observe(e kms.Event) { r.events = append(r.events, e) }
