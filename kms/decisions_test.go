package kms_test

// Tests of the project decisions (decisions.md D3–D21) that the seed leaves
// open.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// fxSwitchAuth is an authorizer that allows everything until deny is set.
type fxSwitchAuth struct{ deny bool }

var errFxDenied = errors.New("fx: denied by the test authorizer")

func (a *fxSwitchAuth) Authorize(context.Context, kms.AuthRequest) error {
	if a.deny {
		return errFxDenied
	}
	return nil
}

// Decision D3: the order of checks, first failure wins: 1 input validation,
// 2 identifier syntax, 3 key lookup, 4 cross-account rule, 5 authorization,
// 6 the key-state table, 7 key kind, 8 quota and conflicts. Each case
// breaks two rules at once and expects the earlier one; nothing changes.
func TestDecisionD3OrderOfChecks(t *testing.T) {
	missingARN := fxARN(fxMissingID)
	type setup struct {
		e    *fxEnv
		auth *fxSwitchAuth
	}
	cases := []struct {
		name string
		opts []kms.Option
		// run prepares keys, calls before with the key the refused call
		// names (if it exists), then makes the call under test; it returns
		// the call's error and the refusal it expects.
		run func(s setup, before func(id string)) (fxWant, error)
	}{
		{"validation before identifier syntax", nil, func(s setup, before func(string)) (fxWant, error) {
			_, err := s.e.s.EnableKeyRotation(s.e.ctx, &kms.EnableKeyRotationInput{KeyId: "arn:bogus", RotationPeriodInDays: kms.Int32(89)})
			return fxWant{Code: keystate.ErrValidation, Op: keystate.EnableKeyRotation,
				Msg: fxValidation("89", "rotationPeriodInDays", "Member must have value greater than or equal to 90")}, err
		}},
		{"validation before lookup: RotationPeriodInDays", nil, func(s setup, before func(string)) (fxWant, error) {
			_, err := s.e.s.EnableKeyRotation(s.e.ctx, &kms.EnableKeyRotationInput{KeyId: fxMissingID, RotationPeriodInDays: kms.Int32(2561)})
			return fxWant{Code: keystate.ErrValidation, Op: keystate.EnableKeyRotation,
				Msg: fxValidation("2561", "rotationPeriodInDays", "Member must have value less than or equal to 2560")}, err
		}},
		{"validation before lookup: PendingWindowInDays", nil, func(s setup, before func(string)) (fxWant, error) {
			_, err := s.e.s.ScheduleKeyDeletion(s.e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: fxMissingID, PendingWindowInDays: kms.Int32(6)})
			return fxWant{Code: keystate.ErrValidation, Op: keystate.ScheduleKeyDeletion,
				Msg: fxValidation("6", "pendingWindowInDays", "Member must have value greater than or equal to 7")}, err
		}},
		{"validation before lookup: Limit", nil, func(s setup, before func(string)) (fxWant, error) {
			_, err := s.e.s.ListKeyRotations(s.e.ctx, &kms.ListKeyRotationsInput{KeyId: fxMissingID, Limit: kms.Int32(0)})
			return fxWant{Code: keystate.ErrValidation, Op: keystate.ListKeyRotations,
				Msg: fxValidation("0", "limit", "Member must have value greater than or equal to 1")}, err
		}},
		{"validation before lookup: IncludeKeyMaterial", nil, func(s setup, before func(string)) (fxWant, error) {
			_, err := s.e.s.ListKeyRotations(s.e.ctx, &kms.ListKeyRotationsInput{KeyId: "arn:bogus", IncludeKeyMaterial: "NONE"})
			return fxWant{Code: keystate.ErrValidation, Op: keystate.ListKeyRotations, AnyMsg: true}, err
		}},
		{"validation before lookup: tag length", nil, func(s setup, before func(string)) (fxWant, error) {
			k := strings.Repeat("k", 129)
			_, err := s.e.s.TagResource(s.e.ctx, &kms.TagResourceInput{KeyId: fxMissingID, Tags: []kms.Tag{{TagKey: k}}})
			return fxWant{Code: keystate.ErrValidation, Op: keystate.TagResource,
				Msg: fxValidation(k, "tags.1.member.tagKey", "Member must have length less than or equal to 128")}, err
		}},
		{"validation: empty KeyId", nil, func(s setup, before func(string)) (fxWant, error) {
			_, err := s.e.s.RotateKeyOnDemand(s.e.ctx, &kms.RotateKeyOnDemandInput{KeyId: ""})
			return fxWant{Code: keystate.ErrValidation, Op: keystate.RotateKeyOnDemand,
				Msg: fxValidation("", "keyId", "Member must have length greater than or equal to 1")}, err
		}},
		{"identifier syntax before lookup", nil, func(s setup, before func(string)) (fxWant, error) {
			in := "arn:aws:kms:us-east-1:111122223333:bogus/x"
			_, err := s.e.s.RotateKeyOnDemand(s.e.ctx, &kms.RotateKeyOnDemandInput{KeyId: in})
			return fxWant{Code: keystate.ErrInvalidArn, Op: keystate.RotateKeyOnDemand, KeyID: in, AnyMsg: true}, err
		}},
		{"lookup before authorization", nil, func(s setup, before func(string)) (fxWant, error) {
			s.auth.deny = true
			_, err := s.e.s.RotateKeyOnDemand(s.e.ctx, &kms.RotateKeyOnDemandInput{KeyId: fxMissingID})
			return fxWant{Code: keystate.ErrNotFound, Op: keystate.RotateKeyOnDemand, KeyID: missingARN,
				Msg: fxNotExist(missingARN)}, err
		}},
		{"cross-account rule before authorization", nil, func(s setup, before func(string)) (fxWant, error) {
			id, arn := s.e.symmetric() // the authorizer allows everything
			before(id)
			_, err := s.e.s.RotateKeyOnDemand(s.e.as(fxOther), &kms.RotateKeyOnDemandInput{KeyId: arn})
			return fxWant{Code: keystate.ErrNotFound, Op: keystate.RotateKeyOnDemand, KeyID: arn, Msg: fxNotExist(arn)}, err
		}},
		{"authorization before the key-state table", nil, func(s setup, before func(string)) (fxWant, error) {
			id, arn := s.e.symmetric()
			s.e.disable(id)
			before(id)
			s.auth.deny = true
			_, err := s.e.s.RotateKeyOnDemand(s.e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
			s.auth.deny = false // for the snapshot
			return fxWant{Code: keystate.ErrAccessDenied, Op: keystate.RotateKeyOnDemand, KeyID: arn,
				State: keystate.Disabled, AnyMsg: true}, err
		}},
		{"key-state table before key kind (recording 3c)", nil, func(s setup, before func(string)) (fxWant, error) {
			id, arn := s.e.kindKey("RSA_4096", "ENCRYPT_DECRYPT")
			s.e.disable(id)
			before(id)
			_, err := s.e.s.RotateKeyOnDemand(s.e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
			return fxWant{Code: keystate.ErrDisabled, Op: keystate.RotateKeyOnDemand, KeyID: arn,
				State: keystate.Disabled, Msg: arn + " is disabled."}, err
		}},
		{"key-state table before key kind: pending deletion", nil, func(s setup, before func(string)) (fxWant, error) {
			id, arn := s.e.kindKey("HMAC_256", "GENERATE_VERIFY_MAC")
			s.e.scheduleDeletion(id, 7)
			before(id)
			_, err := s.e.s.EnableKeyRotation(s.e.ctx, &kms.EnableKeyRotationInput{KeyId: id})
			return fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.EnableKeyRotation, KeyID: arn,
				State: keystate.PendingDeletion, Msg: arn + " is pending deletion."}, err
		}},
		{"key kind before quota", []kms.Option{kms.WithOnDemandRotationQuota(0)}, func(s setup, before func(string)) (fxWant, error) {
			id, arn := s.e.kindKey("RSA_2048", "ENCRYPT_DECRYPT")
			before(id)
			_, err := s.e.s.RotateKeyOnDemand(s.e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
			return fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.RotateKeyOnDemand, KeyID: arn,
				State: keystate.Enabled, Msg: ""}, err
		}},
		{"key-state table before quota", []kms.Option{kms.WithOnDemandRotationQuota(0)}, func(s setup, before func(string)) (fxWant, error) {
			id, arn := s.e.symmetric()
			s.e.disable(id)
			before(id)
			_, err := s.e.s.RotateKeyOnDemand(s.e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
			return fxWant{Code: keystate.ErrDisabled, Op: keystate.RotateKeyOnDemand, KeyID: arn,
				State: keystate.Disabled, Msg: arn + " is disabled."}, err
		}},
		{"quota", []kms.Option{kms.WithOnDemandRotationQuota(0)}, func(s setup, before func(string)) (fxWant, error) {
			id, arn := s.e.symmetric()
			before(id)
			_, err := s.e.s.RotateKeyOnDemand(s.e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
			return fxWant{Code: keystate.ErrLimitExceeded, Op: keystate.RotateKeyOnDemand, KeyID: arn,
				State: keystate.Enabled, Msg: fxQuotaMsg(arn)}, err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			auth := &fxSwitchAuth{}
			e := fxNew(t, append([]kms.Option{kms.WithAuthorizer(auth)}, c.opts...)...)
			// A bystander key shows that nothing else changed either.
			by, _ := e.symmetric()
			byBefore := e.snapshot(by)
			var id string
			var before fxSnapshot
			want, err := c.run(setup{e, auth}, func(k string) { id, before = k, e.snapshot(k) })
			fxCheckErr(t, err, want)
			auth.deny = false
			e.unchanged(by, byBefore)
			if id != "" {
				e.unchanged(id, before)
			}
		})
	}
}

// Decision D3 step 1: the Marker's own constraints (length 1–1024,
// characters U+0020–U+00FF, e.3) are input validation and come before the
// key lookup.
func TestDecisionD3MarkerValidationBeforeLookup(t *testing.T) {
	long := strings.Repeat("m", 1025)
	for _, m := range []struct{ marker, msg string }{
		{long, fxValidation(long, "marker", "Member must have length less than or equal to 1024")},
		{"bad\x01", fxValidation("bad\x01", "marker", `Member must satisfy regular expression pattern: [\u0020-\u00FF]*`)},
	} {
		for _, c := range []struct {
			op   keystate.Operation
			call func(e *fxEnv) error
		}{
			{keystate.ListKeyRotations, func(e *fxEnv) error {
				_, err := e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: fxMissingID, Marker: m.marker})
				return err
			}},
			{keystate.ListResourceTags, func(e *fxEnv) error {
				_, err := e.s.ListResourceTags(e.ctx, &kms.ListResourceTagsInput{KeyId: fxMissingID, Marker: m.marker})
				return err
			}},
			{keystate.ListAliases, func(e *fxEnv) error {
				_, err := e.s.ListAliases(e.ctx, &kms.ListAliasesInput{KeyId: fxMissingID, Marker: m.marker})
				return err
			}},
			{keystate.ListKeys, func(e *fxEnv) error {
				_, err := e.s.ListKeys(e.ctx, &kms.ListKeysInput{Marker: m.marker})
				return err
			}},
		} {
			t.Run(c.op.String(), func(t *testing.T) {
				e := fxNew(t)
				fxCheckErr(t, c.call(e), fxWant{Code: keystate.ErrValidation, Op: c.op, Msg: m.msg})
			})
		}
	}
}

// Decision D4: a string that starts with "arn:" but is not a KMS key or
// alias ARN → InvalidArnException; a bare key ID that is neither a UUID nor
// mrk- + 32 hex → NotFoundException "Invalid keyId '<input>'" (D19,
// recording row 1a).
func TestDecisionD4MalformedIdentifiers(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	before := e.snapshot(id)
	for _, in := range []string{"arn:aws:kms:us-east-1:111122223333:bogus", "arn:aws:kms", "arn:aws:s3:::bucket"} {
		_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: in})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidArn, Op: keystate.RotateKeyOnDemand, KeyID: in, AnyMsg: true})
	}
	for _, in := range []string{"fake-key-id", "mrk-fake-key-id", strings.ReplaceAll(id, "-", "")} {
		_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: in})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.RotateKeyOnDemand, KeyID: in,
			Msg: "Invalid keyId '" + in + "'"})
	}
	e.unchanged(id, before)
}

// fxKeyOps are the operations that take a key ID or key ARN only
// (aws-kms-behaviour.md e.3) and are "Cross-account use: No".
var fxKeyOps = []struct {
	op   keystate.Operation
	call func(ctx context.Context, s *kms.Service, keyID string) error
}{
	{keystate.RotateKeyOnDemand, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k})
		return err
	}},
	{keystate.EnableKey, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.EnableKey(ctx, &kms.EnableKeyInput{KeyId: k})
		return err
	}},
	{keystate.DisableKey, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k})
		return err
	}},
	{keystate.EnableKeyRotation, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k})
		return err
	}},
	{keystate.DisableKeyRotation, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: k})
		return err
	}},
	{keystate.ListKeyRotations, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: k})
		return err
	}},
	{keystate.ScheduleKeyDeletion, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k})
		return err
	}},
	{keystate.CancelKeyDeletion, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: k})
		return err
	}},
	{keystate.UpdateKeyDescription, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: k, Description: "x"})
		return err
	}},
	{keystate.TagResource, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.TagResource(ctx, &kms.TagResourceInput{KeyId: k, Tags: []kms.Tag{{TagKey: "t", TagValue: "v"}}})
		return err
	}},
	{keystate.UntagResource, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.UntagResource(ctx, &kms.UntagResourceInput{KeyId: k, TagKeys: []string{"t"}})
		return err
	}},
	{keystate.ListResourceTags, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: k})
		return err
	}},
	{keystate.ListAliases, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.ListAliases(ctx, &kms.ListAliasesInput{KeyId: k})
		return err
	}},
	{keystate.CreateAlias, func(ctx context.Context, s *kms.Service, k string) error {
		_, err := s.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/fx-new", TargetKeyId: k})
		return err
	}},
}

// Decision D5: an alias name or alias ARN given to an operation that takes
// a key ID or key ARN only (e.3) → NotFoundException; nothing changes.
func TestDecisionD5AliasToKeyOnlyOperation(t *testing.T) {
	for _, c := range fxKeyOps {
		t.Run(c.op.String(), func(t *testing.T) {
			e := fxNew(t)
			id, _ := e.symmetric()
			e.createAlias("alias/fx", id)
			before := e.snapshot(id)
			for _, name := range []string{"alias/fx", fxAliasARN("alias/fx")} {
				err := c.call(e.ctx, e.s, name)
				fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: c.op, KeyID: fxAliasARN("alias/fx"), AnyMsg: true})
			}
			e.unchanged(id, before)
		})
	}
}

// Decision D6: another account's key ARN on an operation with "Cross-account
// use: No" → NotFoundException "Key '<arn>' does not exist", whatever the
// key policy says; on DescribeKey and GetKeyRotationStatus (cross-account
// Yes) the key policy decides.
func TestDecisionD6CrossAccount(t *testing.T) {
	for _, c := range fxKeyOps {
		t.Run(c.op.String(), func(t *testing.T) {
			e := fxNew(t, kms.WithAuthorizer(kms.AuthorizerFunc(func(context.Context, kms.AuthRequest) error { return nil })))
			id, arn := e.symmetric()
			before := e.snapshot(id)
			err := c.call(e.as(fxOther), e.s, arn)
			fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: c.op, KeyID: arn, Msg: fxNotExist(arn)})
			e.unchanged(id, before)
		})
	}
	t.Run("cross-account operations ask the key policy", func(t *testing.T) {
		e := fxNew(t)
		id, arn := e.symmetric()
		e.createAlias("alias/shared", id)
		before := e.snapshot(id)
		other := e.as(fxOther)
		_, err := e.s.DescribeKey(other, &kms.DescribeKeyInput{KeyId: arn})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrAccessDenied, Op: keystate.DescribeKey, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
		_, err = e.s.DescribeKey(other, &kms.DescribeKeyInput{KeyId: fxAliasARN("alias/shared")})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrAccessDenied, Op: keystate.DescribeKey, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
		_, err = e.s.GetKeyRotationStatus(other, &kms.GetKeyRotationStatusInput{KeyId: arn})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrAccessDenied, Op: keystate.GetKeyRotationStatus, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
		e.unchanged(id, before)
	})
}

// Decision D7: at exactly DeletionDate (no random delay) the key, its
// rotation history and its aliases are removed; one nanosecond before, the
// key is PendingDeletion. Afterwards every call naming it gets
// NotFoundException "Key '<arn>' does not exist" (D19).
func TestDecisionD7DeletionAtDeletionDate(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	keep, _ := e.symmetric()
	e.createAlias("alias/doomed", id)
	e.createAlias("alias/kept", keep)
	e.enableRotation(id, 0)
	e.rotate(id)
	e.advance(time.Hour)
	del := e.scheduleDeletion(id, 7)
	if want := fxT0.Add(time.Hour + 7*fxDay); !del.Equal(want) {
		t.Fatalf("DeletionDate = %v, want %v", del, want)
	}

	e.setClock(del.Add(-time.Microsecond))
	m := e.describe(id)
	if m.KeyState != "PendingDeletion" || m.Enabled {
		t.Fatalf("one nanosecond before DeletionDate: %s, Enabled %v", m.KeyState, m.Enabled)
	}
	fxTimeEq(t, "DeletionDate", m.DeletionDate, del)
	if got := e.describe("alias/doomed").KeyId; got != id {
		t.Fatalf("alias/doomed → %s before deletion", got)
	}
	if n := e.s.Sweep(); n != 0 {
		t.Fatalf("Sweep one nanosecond before DeletionDate applied %d events", n)
	}

	e.advance(time.Microsecond)
	if n := e.s.Sweep(); n != 1 {
		t.Fatalf("Sweep at DeletionDate applied %d events, want 1", n)
	}
	for _, in := range []string{id, arn} {
		_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: in})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: arn, Msg: fxNotExist(arn)})
	}
	for _, c := range fxKeyOps {
		err := c.call(e.ctx, e.s, id)
		fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: c.op, KeyID: arn, Msg: fxNotExist(arn)})
	}
	_, err := e.s.GetKeyRotationStatus(e.ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.GetKeyRotationStatus, KeyID: arn, Msg: fxNotExist(arn)})
	_, err = e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: "alias/doomed"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: fxAliasARN("alias/doomed"), AnyMsg: true})

	al, err := e.s.ListAliases(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if own := fxOwnAliases(al.Aliases); len(own) != 1 || own[0].AliasName != "alias/kept" {
		t.Fatalf("aliases after the deletion: %+v, want only alias/kept (and D72's predefined ones)", al.Aliases)
	}
	keys, err := e.s.ListKeys(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) != 1 || keys.Keys[0].KeyId != keep {
		t.Fatalf("ListKeys after the deletion: %+v, want only %s", keys.Keys, keep)
	}
	e.createAlias("alias/doomed", keep) // the name is free again
}

// Decision D7 with lazy application: a call made long after DeletionDate,
// without any Sweep, already sees the key deleted.
func TestDecisionD7DeletionWithoutSweep(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	e.scheduleDeletion(id, 30)
	e.advance(30*fxDay - 1)
	if st := e.describe(id).KeyState; st != "PendingDeletion" {
		t.Fatalf("state %s before DeletionDate", st)
	}
	e.advance(400 * fxDay)
	_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.RotateKeyOnDemand, KeyID: arn, Msg: fxNotExist(arn)})
}

// Decision D9: RotateKeyOnDemand → ConflictException when the automatic
// rotation is due within the next 20 minutes (NextRotationDate − now ≤ 20
// min); 20 min + 1 ns before it the call succeeds. A refused call charges no
// quota and changes nothing.
func TestDecisionD9ConflictWithAutomaticRotation(t *testing.T) {
	e := fxNew(t, kms.WithOnDemandRotationQuota(3))
	id, arn := e.symmetric()
	e.enableRotation(id, 90)
	due := fxT0.Add(90 * fxDay)

	e.setClock(due.Add(-20*time.Minute - time.Microsecond))
	e.rotate(id)
	for _, at := range []time.Time{due.Add(-20 * time.Minute), due.Add(-time.Minute), due.Add(-time.Microsecond)} {
		e.setClock(at)
		before := e.snapshot(id)
		_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrConflict, Op: keystate.RotateKeyOnDemand, KeyID: arn,
			State: keystate.Enabled, AnyMsg: true})
		e.unchanged(id, before)
	}
	e.setClock(due) // the automatic rotation happens first, then the next is 90 days away
	e.rotate(id)
	e.wantRots(id, fxOnDemand(due.Add(-20*time.Minute-time.Microsecond)), fxAuto(due), fxOnDemand(due))

	// Three refusals charged nothing: the third rotation is allowed, the
	// fourth is over the quota of 3.
	e.advance(fxDay)
	e.rotate(id)
	e.advance(fxDay)
	_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrLimitExceeded, Op: keystate.RotateKeyOnDemand, KeyID: arn,
		State: keystate.Enabled, Msg: fxQuotaMsg(arn)})
}

// Decision D9 (last clause) and D10: an earlier on-demand rotation still
// running → ConflictException; once it completes, the next is accepted.
// The quota is charged when a call is accepted (D10).
func TestDecisionD9ConflictWithOnDemandInProgress(t *testing.T) {
	const d = time.Hour
	e := fxNew(t, kms.WithOnDemandRotationDuration(d), kms.WithOnDemandRotationQuota(2))
	id, arn := e.symmetric()
	e.rotate(id)
	for _, off := range []time.Duration{0, time.Minute, d - time.Microsecond} {
		e.setClock(fxT0.Add(off))
		before := e.snapshot(id)
		_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrConflict, Op: keystate.RotateKeyOnDemand, KeyID: arn,
			State: keystate.Enabled, AnyMsg: true})
		e.unchanged(id, before)
	}
	e.setClock(fxT0.Add(d))
	e.rotate(id) // the first one completed at this instant
	// Charged on acceptance: the quota of 2 is spent while the second runs.
	e.advance(d / 2)
	_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrLimitExceeded, Op: keystate.RotateKeyOnDemand, KeyID: arn,
		State: keystate.Enabled, Msg: fxQuotaMsg(arn)})
	e.advance(d)
	e.wantRots(id, fxOnDemand(fxT0.Add(d)), fxOnDemand(fxT0.Add(2*d)))
}

// Decision D11: changing the period of a key already rotating sets the next
// rotation to (last automatic rotation, or the enable date) + new period;
// if that is not after now the key rotates at once and the schedule
// continues every period from now.
func TestDecisionD11PeriodChange(t *testing.T) {
	t.Run("next date still ahead", func(t *testing.T) {
		e := fxNew(t)
		id, _ := e.symmetric()
		e.enableRotation(id, 365)
		e.advance(100 * fxDay)
		e.enableRotation(id, 180)
		st := e.status(id)
		if *st.RotationPeriodInDays != 180 {
			t.Fatalf("period %d, want 180", *st.RotationPeriodInDays)
		}
		fxTimeEq(t, "NextRotationDate", st.NextRotationDate, fxT0.Add(180*fxDay))
		e.setClock(fxT0.Add(400 * fxDay))
		e.wantRots(id, fxAuto(fxT0.Add(180*fxDay)), fxAuto(fxT0.Add(360*fxDay)))
	})
	t.Run("overdue: rotate at once", func(t *testing.T) {
		e := fxNew(t)
		id, _ := e.symmetric()
		e.enableRotation(id, 365)
		now := e.advance(200 * fxDay)
		e.enableRotation(id, 90)
		e.wantRots(id, fxAuto(now))
		fxTimeEq(t, "NextRotationDate", e.status(id).NextRotationDate, now.Add(90*fxDay))
		// The old date (day 365) is not a rotation any more.
		e.setClock(fxT0.Add(400 * fxDay))
		e.wantRots(id, fxAuto(now), fxAuto(now.Add(90*fxDay)), fxAuto(now.Add(180*fxDay)))
	})
	t.Run("exactly due: rotate at once", func(t *testing.T) {
		e := fxNew(t)
		id, _ := e.symmetric()
		e.enableRotation(id, 365)
		now := e.advance(90 * fxDay)
		e.enableRotation(id, 90)
		e.wantRots(id, fxAuto(now))
		fxTimeEq(t, "NextRotationDate", e.status(id).NextRotationDate, now.Add(90*fxDay))
	})
	t.Run("from the last automatic rotation, not an on-demand one", func(t *testing.T) {
		e := fxNew(t)
		id, _ := e.symmetric()
		e.enableRotation(id, 90)
		e.setClock(fxT0.Add(95 * fxDay))
		e.rotate(id)
		e.setClock(fxT0.Add(100 * fxDay))
		e.enableRotation(id, 180)
		fxTimeEq(t, "NextRotationDate", e.status(id).NextRotationDate, fxT0.Add(270*fxDay))
		e.setClock(fxT0.Add(300 * fxDay))
		e.wantRots(id, fxAuto(fxT0.Add(90*fxDay)), fxOnDemand(fxT0.Add(95*fxDay)), fxAuto(fxT0.Add(270*fxDay)))
	})
}

// Decision D12: a Disabled key never rotates; EnableKey after one or more
// scheduled dates passed rotates exactly once, at that moment, and the
// schedule continues from it. While Disabled, GetKeyRotationStatus keeps
// the setting and shows the passed NextRotationDate (D20).
func TestDecisionD12DisabledKey(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	e.enableRotation(id, 90)
	e.setClock(fxT0.Add(10 * fxDay))
	e.disable(id)
	e.setClock(fxT0.Add(200 * fxDay)) // days 90 and 180 passed
	if n := e.s.Sweep(); n != 0 {
		t.Fatalf("Sweep applied %d events on a Disabled key", n)
	}
	if r := e.rotations(id); len(r) != 0 {
		t.Fatalf("a Disabled key rotated: %+v", r)
	}
	st := e.status(id)
	if !st.KeyRotationEnabled || *st.RotationPeriodInDays != 90 {
		t.Fatalf("status while Disabled = %+v, want enabled, 90", st)
	}
	fxTimeEq(t, "NextRotationDate while Disabled (D20)", st.NextRotationDate, fxT0.Add(90*fxDay))

	enabledAt := e.now()
	e.enable(id)
	e.wantRots(id, fxAuto(enabledAt))
	fxTimeEq(t, "NextRotationDate after EnableKey", e.status(id).NextRotationDate, enabledAt.Add(90*fxDay))
	e.setClock(enabledAt.Add(180 * fxDay))
	e.wantRots(id, fxAuto(enabledAt), fxAuto(enabledAt.Add(90*fxDay)), fxAuto(enabledAt.Add(180*fxDay)))
}

// Decision D12 at the boundary: EnableKey at exactly the scheduled instant
// of a Disabled key counts as a passed date: the key rotates once, then.
func TestDecisionD12EnableKeyAtTheScheduledInstant(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	e.enableRotation(id, 90)
	e.disable(id)
	due := fxT0.Add(90 * fxDay)
	e.setClock(due)
	e.enable(id)
	e.wantRots(id, fxAuto(due))
	fxTimeEq(t, "NextRotationDate", e.status(id).NextRotationDate, due.Add(90*fxDay))
	e.setClock(due.Add(90 * fxDay))
	e.wantRots(id, fxAuto(due), fxAuto(due.Add(90*fxDay)))
}

// Decision D12, second branch: no scheduled date passed while Disabled → the
// old schedule resumes unchanged and EnableKey does not rotate.
func TestDecisionD12DisabledKeyNoDatePassed(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	e.enableRotation(id, 90)
	e.setClock(fxT0.Add(10 * fxDay))
	e.disable(id)
	e.setClock(fxT0.Add(89 * fxDay))
	e.enable(id)
	if r := e.rotations(id); len(r) != 0 {
		t.Fatalf("EnableKey rotated a key that was not overdue: %+v", r)
	}
	fxTimeEq(t, "NextRotationDate", e.status(id).NextRotationDate, fxT0.Add(90*fxDay))
	e.setClock(fxT0.Add(100 * fxDay))
	e.wantRots(id, fxAuto(fxT0.Add(90*fxDay)))
}

// Decision D12 with PendingDeletion: no rotation while PendingDeletion,
// GetKeyRotationStatus reports false (D20: without period and date);
// CancelKeyDeletion leaves the key Disabled (recording 5c) with the setting
// restored and no catch-up; only the later EnableKey rotates, once.
func TestDecisionD12PendingDeletionThenCancel(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	e.enableRotation(id, 90)
	e.setClock(fxT0.Add(80 * fxDay))
	e.scheduleDeletion(id, 30)
	st := e.status(id)
	if st.KeyId != arn || st.KeyRotationEnabled || st.RotationPeriodInDays != nil || st.NextRotationDate != nil {
		t.Fatalf("status while PendingDeletion = %+v, want KeyId and false only", st)
	}
	e.setClock(fxT0.Add(100 * fxDay)) // day 90 passed
	if r := e.rotations(id); len(r) != 0 {
		t.Fatalf("a PendingDeletion key rotated: %+v", r)
	}
	out, err := e.s.CancelKeyDeletion(e.ctx, &kms.CancelKeyDeletionInput{KeyId: id})
	if err != nil || out.KeyId != arn {
		t.Fatalf("CancelKeyDeletion = %+v, %v; want KeyId %s", out, err, arn)
	}
	m := e.describe(id)
	if m.KeyState != "Disabled" || m.Enabled || m.DeletionDate != nil {
		t.Fatalf("after CancelKeyDeletion: %s, Enabled %v, DeletionDate %v; want Disabled, false, none", m.KeyState, m.Enabled, m.DeletionDate)
	}
	st = e.status(id)
	if !st.KeyRotationEnabled || *st.RotationPeriodInDays != 90 {
		t.Fatalf("status after CancelKeyDeletion = %+v, want the earlier setting back", st)
	}
	fxTimeEq(t, "NextRotationDate after CancelKeyDeletion", st.NextRotationDate, fxT0.Add(90*fxDay))
	if r := e.rotations(id); len(r) != 0 {
		t.Fatalf("CancelKeyDeletion rotated: %+v", r)
	}
	e.setClock(fxT0.Add(105 * fxDay))
	if r := e.rotations(id); len(r) != 0 {
		t.Fatalf("a Disabled key rotated: %+v", r)
	}
	e.enable(id)
	at := fxT0.Add(105 * fxDay)
	e.wantRots(id, fxAuto(at))
	fxTimeEq(t, "NextRotationDate", e.status(id).NextRotationDate, at.Add(90*fxDay))
}

// Decision D13: automatic rotations happen at their scheduled instants: a
// clock advanced ten years in one step sees one rotation per period, each
// with its own date, across keys in time order.
func TestDecisionD13TenYearsInOneStep(t *testing.T) {
	rec := &fxRecorder{}
	e := fxNew(t, kms.WithObserver(rec))
	a, arnA := e.symmetric()
	b, arnB := e.symmetric()
	e.enableRotation(a, 90)
	e.advance(time.Hour)
	e.enableRotation(b, 365)
	rec.events = nil

	e.advance(10 * 365 * fxDay) // 3650 days
	n := e.s.Sweep()
	events := slices.Clone(rec.events)
	var wantA, wantB []fxRot
	for k := 1; k*90 <= 3650; k++ {
		wantA = append(wantA, fxAuto(fxT0.Add(time.Duration(k*90)*fxDay)))
	}
	for k := 1; k*365 <= 3650; k++ {
		wantB = append(wantB, fxAuto(fxT0.Add(time.Hour+time.Duration(k*365)*fxDay)))
	}
	if len(wantA) != 40 || len(wantB) != 10 {
		t.Fatalf("fixture: %d and %d rotations", len(wantA), len(wantB))
	}
	if n != len(wantA)+len(wantB) {
		t.Errorf("Sweep applied %d events, want %d", n, len(wantA)+len(wantB))
	}
	e.wantRots(a, wantA...)
	e.wantRots(b, wantB...)
	fxTimeEq(t, "NextRotationDate", e.status(a).NextRotationDate, fxT0.Add(41*90*fxDay))

	if len(events) != n {
		t.Fatalf("%d event records for %d rotations", len(events), n)
	}
	ia, ib := 0, 0
	for i, ev := range events {
		if i > 0 && ev.Time.Before(events[i-1].Time) {
			t.Fatalf("event %d at %v before event %d at %v", i, ev.Time, i-1, events[i-1].Time)
		}
		if ev.Name != "RotateKey" || !ev.Scheduled || ev.Parameters["rotationType"] != "AUTOMATIC" {
			t.Fatalf("event %d = %+v", i, ev)
		}
		switch ev.KeyARN {
		case arnA:
			if !ev.Time.Equal(wantA[ia].At) {
				t.Fatalf("key A event at %v, want %v", ev.Time, wantA[ia].At)
			}
			ia++
		case arnB:
			if !ev.Time.Equal(wantB[ib].At) {
				t.Fatalf("key B event at %v, want %v", ev.Time, wantB[ib].At)
			}
			ib++
		default:
			t.Fatalf("event for %s", ev.KeyARN)
		}
	}
}

// Decision D16: values outside their documented ranges →
// ValidationException with the AWS-style message; the bounds are accepted.
func TestDecisionD16Ranges(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	before := e.snapshot(id)
	_, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(6)})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.ScheduleKeyDeletion,
		Msg: fxValidation("6", "pendingWindowInDays", "Member must have value greater than or equal to 7")})
	_, err = e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(31)})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.ScheduleKeyDeletion,
		Msg: fxValidation("31", "pendingWindowInDays", "Member must have value less than or equal to 30")})
	for _, lim := range []int32{0, 1001} {
		c := "Member must have value greater than or equal to 1"
		if lim > 0 {
			c = "Member must have value less than or equal to 1000"
		}
		v := "0"
		if lim > 0 {
			v = "1001"
		}
		_, err = e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: id, Limit: kms.Int32(lim)})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.ListKeyRotations, Msg: fxValidation(v, "limit", c)})
		_, err = e.s.ListKeys(e.ctx, &kms.ListKeysInput{Limit: kms.Int32(lim)})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.ListKeys, Msg: fxValidation(v, "limit", c)})
	}
	long := strings.Repeat("k", 2049)
	_, err = e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: long})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.DescribeKey,
		Msg: fxValidation(long, "keyId", "Member must have length less than or equal to 2048")})
	_, err = e.s.UpdateKeyDescription(e.ctx, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: strings.Repeat("d", 8193)})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.UpdateKeyDescription, AnyMsg: true})
	e.unchanged(id, before)

	// The bounds themselves are accepted.
	for _, lim := range []int32{1, 1000} {
		if _, err := e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: id, Limit: kms.Int32(lim)}); err != nil {
			t.Errorf("Limit %d: %v", lim, err)
		}
		if _, err := e.s.ListKeys(e.ctx, &kms.ListKeysInput{Limit: kms.Int32(lim)}); err != nil {
			t.Errorf("ListKeys Limit %d: %v", lim, err)
		}
	}
	for _, w := range []int32{7, 30} {
		k, arn := e.symmetric()
		out, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: k, PendingWindowInDays: kms.Int32(w)})
		if err != nil {
			t.Fatalf("PendingWindowInDays %d: %v", w, err)
		}
		if out.KeyId != arn || out.KeyState != "PendingDeletion" || out.PendingWindowInDays != w {
			t.Fatalf("ScheduleKeyDeletion = %+v", out)
		}
		fxTimeEq(t, "DeletionDate", out.DeletionDate, e.now().Add(time.Duration(w)*fxDay))
	}
	k, _ := e.symmetric()
	out, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: k})
	if err != nil || out.PendingWindowInDays != 30 {
		t.Fatalf("default window: %+v, %v; want 30 (d.2)", out, err)
	}
	fxTimeEq(t, "default DeletionDate", out.DeletionDate, e.now().Add(30*fxDay))
}

// Decision D19: the recorded messages, with the full key ARN.
func TestDecisionD19Messages(t *testing.T) {
	e := fxNew(t)
	dis, disARN := e.symmetric()
	e.disable(dis)
	pend, pendARN := e.symmetric()
	e.scheduleDeletion(pend, 7)
	ext, extARN := e.external()
	ok, okARN := e.symmetric()
	mrk := "mrk-" + strings.Repeat("ab", 16)
	cases := []struct {
		name string
		id   string // key to snapshot
		call func() error
		want fxWant
	}{
		{"disabled", dis, func() error {
			_, err := e.s.EnableKeyRotation(e.ctx, &kms.EnableKeyRotationInput{KeyId: dis})
			return err
		}, fxWant{Code: keystate.ErrDisabled, Op: keystate.EnableKeyRotation, KeyID: disARN, State: keystate.Disabled, Msg: disARN + " is disabled."}},
		{"disabled: DisableKeyRotation", dis, func() error {
			_, err := e.s.DisableKeyRotation(e.ctx, &kms.DisableKeyRotationInput{KeyId: dis})
			return err
		}, fxWant{Code: keystate.ErrDisabled, Op: keystate.DisableKeyRotation, KeyID: disARN, State: keystate.Disabled, Msg: disARN + " is disabled."}},
		{"pending deletion: EnableKey", pend, func() error {
			_, err := e.s.EnableKey(e.ctx, &kms.EnableKeyInput{KeyId: pend})
			return err
		}, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.EnableKey, KeyID: pendARN, State: keystate.PendingDeletion, Msg: pendARN + " is pending deletion."}},
		{"pending deletion: DisableKey", pend, func() error {
			_, err := e.s.DisableKey(e.ctx, &kms.DisableKeyInput{KeyId: pend})
			return err
		}, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.DisableKey, KeyID: pendARN, State: keystate.PendingDeletion, Msg: pendARN + " is pending deletion."}},
		{"pending deletion: DisableKeyRotation", pend, func() error {
			_, err := e.s.DisableKeyRotation(e.ctx, &kms.DisableKeyRotationInput{KeyId: pend})
			return err
		}, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.DisableKeyRotation, KeyID: pendARN, State: keystate.PendingDeletion, Msg: pendARN + " is pending deletion."}},
		{"pending deletion", pend, func() error {
			_, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: pend})
			return err
		}, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.ScheduleKeyDeletion, KeyID: pendARN, State: keystate.PendingDeletion, Msg: pendARN + " is pending deletion."}},
		{"pending import", ext, func() error {
			_, err := e.s.EnableKey(e.ctx, &kms.EnableKeyInput{KeyId: ext})
			return err
		}, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.EnableKey, KeyID: extARN, State: keystate.PendingImport, Msg: extARN + " is pending import."}},
		{"not pending deletion", ok, func() error {
			_, err := e.s.CancelKeyDeletion(e.ctx, &kms.CancelKeyDeletionInput{KeyId: ok})
			return err
		}, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.CancelKeyDeletion, KeyID: okARN, State: keystate.Enabled, Msg: okARN + " is not pending deletion."}},
		{"unknown key by ID", ok, func() error {
			_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: fxMissingID})
			return err
		}, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: fxARN(fxMissingID), Msg: fxNotExist(fxARN(fxMissingID))}},
		{"unknown key by ARN", ok, func() error {
			_, err := e.s.GetKeyRotationStatus(e.ctx, &kms.GetKeyRotationStatusInput{KeyId: fxARN(fxMissingID)})
			return err
		}, fxWant{Code: keystate.ErrNotFound, Op: keystate.GetKeyRotationStatus, KeyID: fxARN(fxMissingID), Msg: fxNotExist(fxARN(fxMissingID))}},
		{"unknown mrk key", ok, func() error {
			_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: mrk})
			return err
		}, fxWant{Code: keystate.ErrNotFound, Op: keystate.RotateKeyOnDemand, KeyID: fxARN(mrk), Msg: fxNotExist(fxARN(mrk))}},
		{"malformed key ID", ok, func() error {
			_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: "fake-key-id"})
			return err
		}, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: "fake-key-id", Msg: "Invalid keyId 'fake-key-id'"}},
		{"another region", ok, func() error {
			_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: "arn:aws:kms:us-west-2:111122223333:key/" + ok})
			return err
		}, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: "arn:aws:kms:us-west-2:111122223333:key/" + ok, Msg: "Invalid arn us-west-2"}},
		{"alias without prefix", ok, func() error {
			_, err := e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: "fx", TargetKeyId: ok})
			return err
		}, fxWant{Code: keystate.ErrValidation, Op: keystate.CreateAlias,
			Msg: `Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.snapshot(c.id)
			err := c.call()
			fxCheckErr(t, err, c.want)
			if got := err.Error(); got != string(c.want.Code)+": "+c.want.Msg {
				t.Errorf("Error() = %q", got)
			}
			e.unchanged(c.id, before)
		})
	}
}

// Decision D20: GetKeyRotationStatus fields. Always KeyId (the ARN) and
// KeyRotationEnabled; RotationPeriodInDays and NextRotationDate only while
// automatic rotation is enabled (not while PendingDeletion);
// OnDemandRotationStartDate only while an on-demand rotation runs.
func TestDecisionD20RotationStatusFields(t *testing.T) {
	e := fxNew(t, kms.WithOnDemandRotationDuration(time.Hour))
	id, arn := e.symmetric()
	type presence struct{ enabled, period, next, onDemand bool }
	check := func(step string, want presence) {
		t.Helper()
		st := e.status(id)
		got := presence{st.KeyRotationEnabled, st.RotationPeriodInDays != nil, st.NextRotationDate != nil, st.OnDemandRotationStartDate != nil}
		if st.KeyId != arn || got != want {
			t.Fatalf("%s: KeyId %s, presence %+v; want %s, %+v", step, st.KeyId, got, arn, want)
		}
	}
	check("new key", presence{})
	e.rotate(id)
	check("on-demand running, rotation off", presence{onDemand: true})
	e.enableRotation(id, 0)
	check("on-demand running, rotation on", presence{true, true, true, true})
	e.advance(time.Hour)
	check("rotation on", presence{true, true, true, false})
	e.scheduleDeletion(id, 7)
	check("pending deletion", presence{})
	e.cancelDeletion(id)
	check("disabled after cancel", presence{true, true, true, false})
	e.enable(id)
	if _, err := e.s.DisableKeyRotation(e.ctx, &kms.DisableKeyRotationInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	check("rotation off", presence{})
}

// Decision D20's recording list (real-aws-recordings.md rows 8a, 8b, 8c):
// DescribeKey of a default symmetric key carries exactly AWSAccountId, Arn,
// CreationDate, CurrentKeyMaterialId, CustomerMasterKeySpec, Description,
// Enabled, EncryptionAlgorithms, KeyId, KeyManager, KeySpec, KeyState,
// KeyUsage, MultiRegion (false) and Origin; HMAC keys have MacAlgorithms and
// no CurrentKeyMaterialId; EXTERNAL keys in PendingImport no
// CurrentKeyMaterialId; DeletionDate only while PendingDeletion.
func TestDecisionD20DescribeKeyFields(t *testing.T) {
	e := fxNew(t)
	e.advance(time.Minute)
	m := e.create(&kms.CreateKeyInput{Description: "fx"})
	want := kms.KeyMetadata{
		AWSAccountId: fxAccount, Arn: fxARN(m.KeyId), CreationDate: e.now(), CurrentKeyMaterialId: m.CurrentKeyMaterialId,
		CustomerMasterKeySpec: "SYMMETRIC_DEFAULT", Description: "fx", Enabled: true,
		EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"}, KeyId: m.KeyId, KeyManager: "CUSTOMER",
		KeySpec: "SYMMETRIC_DEFAULT", KeyState: "Enabled", KeyUsage: "ENCRYPT_DECRYPT", MultiRegion: false, Origin: "AWS_KMS",
	}
	if len(m.CurrentKeyMaterialId) != 64 {
		t.Fatalf("CurrentKeyMaterialId = %q, want 64 hex digits", m.CurrentKeyMaterialId)
	}
	if got := e.describe(m.KeyId); !fxEqualMetadata(got, want) {
		t.Fatalf("DescribeKey = %+v\nwant %+v", got, want)
	}

	h := e.create(&kms.CreateKeyInput{KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"})
	if h.CurrentKeyMaterialId != "" || len(h.MacAlgorithms) != 1 || h.MacAlgorithms[0] != "HMAC_SHA_256" || h.EncryptionAlgorithms != nil {
		t.Fatalf("HMAC metadata = %+v (row 8b)", h)
	}
	x := e.describe(func() string { id, _ := e.external(); return id }())
	if x.CurrentKeyMaterialId != "" || x.Enabled || x.KeyState != "PendingImport" || x.Origin != "EXTERNAL" {
		t.Fatalf("EXTERNAL metadata = %+v (row 8b)", x)
	}
	del := e.scheduleDeletion(m.KeyId, 7)
	p := e.describe(m.KeyId)
	if p.Enabled || p.KeyState != "PendingDeletion" || p.PendingDeletionWindowInDays != nil {
		t.Fatalf("PendingDeletion metadata = %+v (d.3, 5b)", p)
	}
	fxTimeEq(t, "DeletionDate", p.DeletionDate, del)
}

func fxEqualMetadata(a, b kms.KeyMetadata) bool {
	if !a.CreationDate.Equal(b.CreationDate) {
		return false
	}
	a.CreationDate, b.CreationDate = time.Time{}, time.Time{}
	return fxDumpMeta(a) == fxDumpMeta(b)
}

func fxDumpMeta(m kms.KeyMetadata) string {
	return strings.Join([]string{m.AWSAccountId, m.Arn, m.CurrentKeyMaterialId, m.CustomerMasterKeySpec, m.Description,
		fxBoolStr(m.Enabled), strings.Join(m.EncryptionAlgorithms, ","), strings.Join(m.KeyAgreementAlgorithms, ","),
		m.KeyId, m.KeyManager, m.KeySpec, m.KeyState, m.KeyUsage, strings.Join(m.MacAlgorithms, ","),
		fxBoolStr(m.MultiRegion), m.Origin, strings.Join(m.SigningAlgorithms, ","),
		fxBoolStr(m.DeletionDate != nil), fxBoolStr(m.PendingDeletionWindowInDays != nil)}, "|")
}

func fxBoolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Decision D21: EnableKeyRotation without RotationPeriodInDays sets 365,
// whatever the period was (rescheduled as D11 says); the same period again
// changes nothing (the schedule is not reset).
func TestDecisionD21EnableKeyRotationDefaultAndRepeat(t *testing.T) {
	t.Run("default resets the period to 365", func(t *testing.T) {
		e := fxNew(t)
		id, _ := e.symmetric()
		e.enableRotation(id, 180)
		e.advance(10 * fxDay)
		e.enableRotation(id, 0)
		st := e.status(id)
		if *st.RotationPeriodInDays != 365 {
			t.Fatalf("period %d, want 365", *st.RotationPeriodInDays)
		}
		fxTimeEq(t, "NextRotationDate", st.NextRotationDate, fxT0.Add(365*fxDay))
	})
	t.Run("same period changes nothing", func(t *testing.T) {
		e := fxNew(t)
		id, _ := e.symmetric()
		e.enableRotation(id, 0)
		e.advance(100 * fxDay)
		before := e.snapshot(id)
		e.enableRotation(id, 365)
		e.enableRotation(id, 0)
		e.unchanged(id, before)
		fxTimeEq(t, "NextRotationDate", e.status(id).NextRotationDate, fxT0.Add(365*fxDay))
	})
}

// Recording row 8c and d.3: DescribeKey of a multi-Region primary carries
// MultiRegion true plus MultiRegionConfiguration {MultiRegionKeyType
// "PRIMARY", PrimaryKey {Arn, Region}, ReplicaKeys []}; a single-Region key
// has none (row 8a). The check goes through reflection so that it compiles
// before the field exists.
func TestDecisionD20MultiRegionPrimaryMetadata(t *testing.T) {
	e := fxNew(t)
	m := e.create(&kms.CreateKeyInput{MultiRegion: true})
	v := reflect.ValueOf(e.describe(m.KeyId)).FieldByName("MultiRegionConfiguration")
	if !v.IsValid() {
		t.Fatalf("KeyMetadata has no field MultiRegionConfiguration")
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			t.Fatalf("MultiRegionConfiguration absent for a multi-Region primary")
		}
		v = v.Elem()
	}
	if got := v.FieldByName("MultiRegionKeyType"); !got.IsValid() || fmt.Sprint(got.Interface()) != "PRIMARY" {
		t.Errorf("MultiRegionKeyType = %v, want PRIMARY", got)
	}
	pk := reflect.Indirect(v.FieldByName("PrimaryKey"))
	if !pk.IsValid() || fmt.Sprint(pk.FieldByName("Arn")) != m.Arn || fmt.Sprint(pk.FieldByName("Region")) != fxRegion {
		t.Errorf("PrimaryKey = %v, want {Arn %s Region %s}", pk, m.Arn, fxRegion)
	}
	single := reflect.ValueOf(e.describe(func() string { id, _ := e.symmetric(); return id }())).FieldByName("MultiRegionConfiguration")
	if !single.IsZero() {
		t.Errorf("single-Region key has MultiRegionConfiguration %v", single)
	}
}

// Decisions D13, D9 and D10 over many keys: 100 keys with their own periods,
// on-demand rotations of 90 minutes started at random instants, and a clock
// that moves by random steps (sub-second to a month, in whole microseconds
// as the service keeps time, sometimes exactly to NextEventTime) with and without Sweep, for three years. Every key's
// rotations are exactly its automatic dates (enable + k·period) and its
// on-demand completions (start + duration); every ConflictException has a
// reason (D9) and every accepted call had none; the trail is in time order.
func TestDecisionD13ManyKeysRandomSteps(t *testing.T) {
	fxRandomSteps(t, 7, 13)
}

func fxRandomSteps(t *testing.T, seed1, seed2 uint64) {
	const d = 90 * time.Minute
	rec := &fxRecorder{}
	e := fxNew(t, kms.WithObserver(rec), kms.WithOnDemandRotationDuration(d), kms.WithOnDemandRotationQuota(1000))
	r := rand.New(rand.NewPCG(seed1, seed2))
	type ref struct {
		id, arn   string
		enabled   time.Time
		period    time.Duration
		onDemand  []time.Time // completion instants
		runningTo time.Time   // completion of the on-demand rotation in progress
	}
	var keys []*ref
	for range 100 {
		id, arn := e.symmetric()
		e.advance(time.Duration(r.Int64N(int64(2 * fxDay))).Truncate(time.Microsecond))
		p := 90 + r.IntN(400)
		e.enableRotation(id, int32(p))
		keys = append(keys, &ref{id: id, arn: arn, enabled: e.now(), period: time.Duration(p) * fxDay})
	}
	nextAuto := func(k *ref, now time.Time) time.Time { // the first automatic date after now
		n := now.Sub(k.enabled)/k.period + 1
		return k.enabled.Add(n * k.period)
	}
	end := fxT0.Add(3 * 365 * fxDay)
	for e.now().Before(end) {
		switch r.IntN(5) {
		case 0:
			e.advance(time.Duration(r.Int64N(int64(time.Second))).Truncate(time.Microsecond))
		case 1:
			e.advance(time.Duration(r.Int64N(int64(time.Hour))).Truncate(time.Microsecond))
		case 2:
			e.advance(time.Duration(r.Int64N(int64(fxDay))).Truncate(time.Microsecond))
		case 3:
			e.advance(time.Duration(r.Int64N(int64(30 * fxDay))).Truncate(time.Microsecond))
		case 4:
			if next, ok := e.s.NextEventTime(); ok && next.After(e.now()) {
				e.setClock(next)
			}
		}
		for range r.IntN(4) {
			k := keys[r.IntN(len(keys))]
			now := e.now()
			due := nextAuto(k, now)
			if now.Sub(k.enabled)%k.period == 0 {
				due = now // an automatic rotation exactly now has happened first
			}
			running := now.Before(k.runningTo)
			conflict := running || due.Sub(now) <= 20*time.Minute && due.After(now)
			_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: k.id})
			switch {
			case err == nil && conflict:
				t.Fatalf("%v: key %s rotated on demand although due %v / running to %v (D9)", now, k.id, due, k.runningTo)
			case err == nil:
				k.runningTo = now.Add(d)
				k.onDemand = append(k.onDemand, k.runningTo)
			case errors.Is(err, keystate.ErrConflict) && !conflict:
				t.Fatalf("%v: key %s: ConflictException without a reason (due %v, running to %v)", now, k.id, due, k.runningTo)
			case !errors.Is(err, keystate.ErrConflict):
				t.Fatalf("RotateKeyOnDemand: %v", err)
			}
		}
		if r.IntN(3) == 0 {
			e.s.Sweep()
		}
	}
	end = e.now() // the last step may have gone past it
	e.s.Sweep()
	events := slices.Clone(rec.events)
	perKey := map[string][]time.Time{}
	for i, ev := range events {
		if i > 0 && ev.Time.Before(events[i-1].Time) {
			t.Fatalf("record %d (%s %v) before record %d (%s %v)", i, ev.Name, ev.Time, i-1, events[i-1].Name, events[i-1].Time)
		}
		if ev.Name == "RotateKey" {
			perKey[ev.KeyARN] = append(perKey[ev.KeyARN], ev.Time)
		}
	}
	for _, k := range keys {
		var want []fxRot
		for at := k.enabled.Add(k.period); !at.After(end); at = at.Add(k.period) {
			want = append(want, fxAuto(at))
		}
		for _, at := range k.onDemand {
			if !at.After(end) {
				want = append(want, fxOnDemand(at))
			}
		}
		slices.SortStableFunc(want, func(a, b fxRot) int { return a.At.Compare(b.At) })
		got := e.rots(k.id)
		if len(got) != len(want) {
			t.Fatalf("key %s: %d rotations, want %d\n got  %v\n want %v", k.id, len(got), len(want), got, want)
		}
		for i := range want {
			if !got[i].At.Equal(want[i].At) || got[i].Type != want[i].Type {
				t.Fatalf("key %s rotation %d = %v, want %v", k.id, i, got[i], want[i])
			}
		}
		if len(perKey[k.arn]) != len(want) {
			t.Fatalf("key %s: %d RotateKey records, want %d", k.id, len(perKey[k.arn]), len(want))
		}
	}
}

// Decision D13 ("each with its own RotationDate") for any instant the clock
// can hold: a key rotating every 90 days across February 2146 keeps each
// rotation's exact date. (time.Time's UnixNano, which the model uses,
// covers 1678–2262.)
func TestDecisionD13RotationDatesAfter2146(t *testing.T) {
	start := time.Date(2145, 6, 1, 0, 0, 0, 0, time.UTC)
	e := fxNewAt(t, start)
	id, _ := e.symmetric()
	e.enableRotation(id, 90)
	e.setClock(time.Date(2147, 1, 1, 0, 0, 0, 0, time.UTC))
	var want []fxRot
	for k := 1; k <= 6; k++ {
		want = append(want, fxAuto(start.Add(time.Duration(k*90)*fxDay)))
	}
	e.rotate(id)
	want = append(want, fxOnDemand(e.now()))
	e.wantRots(id, want...)
}

// Decision D4: a string that starts with "arn:" but is not a valid KMS key
// ARN — here a key ARN whose resource is not a key ID — is an
// InvalidArnException, not a lookup.
func TestDecisionD4KeyARNWithMalformedID(t *testing.T) {
	e := fxNew(t)
	bad := "arn:aws:kms:us-east-1:111122223333:key/not-a-uuid"
	_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: bad})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidArn, Op: keystate.DescribeKey, KeyID: bad, AnyMsg: true})
}

// Decision D14: a marker is valid only for the listing that issued it; one
// from an ALL_KEY_MATERIAL listing is refused by a ROTATIONS_ONLY one.
func TestDecisionD14MarkerFromAnotherListingMode(t *testing.T) {
	e := fxNew(t, kms.WithOnDemandRotationQuota(25))
	id, _ := e.symmetric()
	for i := 0; i < 3; i++ {
		e.advance(time.Hour)
		e.rotate(id)
	}
	page, err := e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: id, IncludeKeyMaterial: "ALL_KEY_MATERIAL", Limit: kms.Int32(2)})
	if err != nil || !page.Truncated {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	before := e.snapshot(id)
	_, err = e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: id, Marker: page.NextMarker})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidMarker, Op: keystate.ListKeyRotations, AnyMsg: true})
	e.unchanged(id, before)
}

// Decision D46 (AWS documents no order for ListKeys): a service lists its
// caller's keys in creation order, and a page's marker names the last key
// listed, so that paging with any Limit lists each key once: a key
// created while paging comes last, and a key deleted after a page (the
// marker's own key here) skips nothing. D14: a marker ListKeys did not
// issue is InvalidMarkerException, and changes nothing.
func TestDecisionD46ListKeysCreationOrder(t *testing.T) {
	e := fxNew(t)
	var made []string
	for i := range 7 {
		made = append(made, e.create(&kms.CreateKeyInput{MultiRegion: i%3 == 1}).KeyId)
		if i == 3 { // another account's key lists only for that account
			if _, err := e.s.CreateKey(kms.WithCaller(e.ctx, fxOther), &kms.CreateKeyInput{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	list := func(limit int32, between func()) []string {
		t.Helper()
		var got []string
		marker := ""
		for {
			out, err := e.s.ListKeys(e.ctx, &kms.ListKeysInput{Limit: kms.Int32(limit), Marker: marker})
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range out.Keys {
				got = append(got, k.KeyId)
			}
			if !out.Truncated {
				return got
			}
			if len(got) > len(made)+1 {
				t.Fatalf("Limit %d: %d keys listed and more to come, %d made", limit, len(got), len(made))
			}
			if marker == "" && between != nil {
				between()
			}
			marker = out.NextMarker
		}
	}
	for _, limit := range []int32{1, 2, 3, 1000} {
		if got := list(limit, nil); fmt.Sprint(got) != fmt.Sprint(made) {
			t.Fatalf("Limit %d: %v, want creation order %v", limit, got, made)
		}
	}
	// After the first page of three, a key is made and the third deleted.
	got := list(3, func() {
		made = append(made, e.create(&kms.CreateKeyInput{}).KeyId)
		if _, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: made[2], PendingWindowInDays: kms.Int32(7)}); err != nil {
			t.Fatal(err)
		}
		e.advance(8 * fxDay)
		e.s.Sweep()
	})
	if fmt.Sprint(got) != fmt.Sprint(made) {
		t.Fatalf("paging while keys come and go: %v, want %v", got, made)
	}

	e.createAlias("alias/one", made[0])
	e.createAlias("alias/two", made[1])
	aliases, err := e.s.ListAliases(e.ctx, &kms.ListAliasesInput{Limit: kms.Int32(1)})
	if err != nil || !aliases.Truncated {
		t.Fatalf("ListAliases: %+v, %v", aliases, err)
	}
	keys, err := e.s.ListKeys(e.ctx, &kms.ListKeysInput{Limit: kms.Int32(1)})
	if err != nil || !keys.Truncated {
		t.Fatalf("ListKeys: %+v, %v", keys, err)
	}
	pos, _, _ := strings.Cut(keys.NextMarker, ".")
	// A marker of the form before D46 (its creation number only) resumes
	// after the key it was made after, without listing it again.
	if len(keys.Keys) != 1 || keys.Keys[0].KeyId != made[0] {
		t.Fatalf("first page: %+v, want %s", keys.Keys, made[0])
	}
	rest, err := e.s.ListKeys(e.ctx, &kms.ListKeysInput{Marker: pos})
	if err != nil {
		t.Fatalf("ListKeys with a marker of the form before D46: %v", err)
	}
	var resumed []string
	for _, k := range rest.Keys {
		resumed = append(resumed, k.KeyId)
	}
	// made[2] was deleted above.
	if want := append([]string{made[1]}, made[3:]...); fmt.Sprint(resumed) != fmt.Sprint(want) {
		t.Fatalf("ListKeys with a marker of the form before D46: %v, want %v", resumed, want)
	}
	before := e.snapshot(made[0])
	for name, m := range map[string]string{
		"garbage":                      "not-a-marker",
		"a ListAliases marker":         aliases.NextMarker,
		"a marker, edited":             keys.NextMarker + "A",
		"a marker whose ID is garbled": pos + ".!",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.s.ListKeys(e.ctx, &kms.ListKeysInput{Marker: m})
			fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidMarker, Op: keystate.ListKeys,
				Msg: "The marker '" + m + "' is not valid for this request."})
		})
	}
	e.unchanged(made[0], before)
}

// TestDecisionD46ListKeysAfterManyDeletions: once more than half of a
// Region's keys (and over 1,024) are deleted, its creation order drops
// them; ListKeys still lists exactly the live keys, in creation order,
// across pages, and keys made afterwards come last.
func TestDecisionD46ListKeysAfterManyDeletions(t *testing.T) {
	e := fxNew(t)
	var made []string
	for range 2100 {
		made = append(made, e.create(&kms.CreateKeyInput{}).KeyId)
	}
	var live []string
	for i, id := range made {
		if i%4 == 0 {
			live = append(live, id)
			continue
		}
		if _, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(7)}); err != nil {
			t.Fatal(err)
		}
	}
	e.advance(8 * fxDay)
	e.s.Sweep()
	live = append(live, e.create(&kms.CreateKeyInput{}).KeyId)
	var got []string
	for _, k := range fxPages(t, func(marker string) ([]kms.KeyListEntry, bool, string, error) {
		out, err := e.s.ListKeys(e.ctx, &kms.ListKeysInput{Limit: kms.Int32(100), Marker: marker})
		if err != nil {
			return nil, false, "", err
		}
		return out.Keys, out.Truncated, out.NextMarker, nil
	}) {
		got = append(got, k.KeyId)
	}
	if fmt.Sprint(got) != fmt.Sprint(live) {
		t.Fatalf("ListKeys after 1,575 of 2,100 keys were deleted: %d keys, want the %d live ones in creation order", len(got), len(live))
	}
}
