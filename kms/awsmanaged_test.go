package kms_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// The first DescribeKey of alias/aws/<service> creates the AWS managed key
// (aws-kms-behaviour.md d.1: "DescribeKey on a predefined aws/... alias
// creates one"); later uses find the same key.
func TestAWSManagedKeyCreatedOnFirstUse(t *testing.T) {
	e := fxNew(t)
	first, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: "alias/aws/s3"})
	if err != nil {
		t.Fatal(err)
	}
	m := first.KeyMetadata
	if m.KeyManager != "AWS" || m.KeyState != "Enabled" || m.KeySpec != "SYMMETRIC_DEFAULT" ||
		m.KeyUsage != "ENCRYPT_DECRYPT" || m.Origin != "AWS_KMS" || !m.CreationDate.Equal(fxT0) {
		t.Fatalf("metadata %+v", m)
	}
	again, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: "arn:aws:kms:us-east-1:111122223333:alias/aws/s3"})
	if err != nil || again.KeyMetadata.KeyId != m.KeyId {
		t.Fatalf("second use: %+v, %v; want the same key %s", again, err, m.KeyId)
	}
	aliases, _ := e.s.ListAliases(e.ctx, &kms.ListAliasesInput{KeyId: m.KeyId})
	if len(aliases.Aliases) != 1 || aliases.Aliases[0].AliasName != "alias/aws/s3" {
		t.Fatalf("aliases of the key: %+v", aliases.Aliases)
	}
	keys, _ := e.s.ListKeys(e.ctx, &kms.ListKeysInput{})
	if len(keys.Keys) != 1 || keys.Keys[0].KeyId != m.KeyId {
		t.Fatalf("ListKeys: %+v", keys.Keys)
	}
}

// An alias/aws/ name that no AWS service uses is simply not found, and
// nothing is created; nor is another account's AWS managed alias created.
func TestAWSManagedUnknownAlias(t *testing.T) {
	e := fxNew(t)
	for _, id := range []string{"alias/aws/nosuchservice", "arn:aws:kms:us-east-1:444455556666:alias/aws/s3"} {
		_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id})
		if !errors.Is(err, keystate.ErrNotFound) {
			t.Errorf("DescribeKey(%s) = %v, want NotFoundException", id, err)
		}
	}
	if keys, _ := e.s.ListKeys(e.ctx, &kms.ListKeysInput{}); len(keys.Keys) != 0 {
		t.Fatalf("keys were created: %+v", keys.Keys)
	}
}

// Decision D15: an AWS managed key rotates every 365 days from its
// creation, its GetKeyRotationStatus always says enabled, and the calls
// that would change its rotation, state or deletion are refused with
// UnsupportedOperationException.
func TestAWSManagedKeyD15(t *testing.T) {
	e := fxNew(t)
	out, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: "alias/aws/ebs", Plaintext: []byte("volume key")})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyId[len(out.KeyId)-36:]
	st := e.status(id)
	if !st.KeyRotationEnabled || st.RotationPeriodInDays == nil || *st.RotationPeriodInDays != 365 {
		t.Fatalf("status %+v", st)
	}
	fxTimeEq(t, "NextRotationDate", st.NextRotationDate, fxT0.Add(365*24*time.Hour))

	refusals := map[keystate.Operation]func() error{
		keystate.EnableKeyRotation: func() error {
			_, err := e.s.EnableKeyRotation(e.ctx, &kms.EnableKeyRotationInput{KeyId: id})
			return err
		},
		keystate.DisableKeyRotation: func() error {
			_, err := e.s.DisableKeyRotation(e.ctx, &kms.DisableKeyRotationInput{KeyId: id})
			return err
		},
		keystate.RotateKeyOnDemand: func() error {
			_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
			return err
		},
		keystate.ScheduleKeyDeletion: func() error {
			_, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id})
			return err
		},
		keystate.EnableKey:  func() error { _, err := e.s.EnableKey(e.ctx, &kms.EnableKeyInput{KeyId: id}); return err },
		keystate.DisableKey: func() error { _, err := e.s.DisableKey(e.ctx, &kms.DisableKeyInput{KeyId: id}); return err },
	}
	for op, call := range refusals {
		before := e.snapshot(id)
		fxCheckErr(t, call(), fxWant{Code: keystate.ErrUnsupportedOperation, Op: op, KeyID: out.KeyId, State: keystate.Enabled,
			Msg: out.KeyId + " is an AWS managed key which is not valid for this operation."})
		e.unchanged(id, before)
	}

	e.advance(3*365*24*time.Hour + time.Hour)
	var want []fxRot
	for k := 1; k <= 3; k++ {
		want = append(want, fxRot{At: fxT0.Add(time.Duration(k) * 365 * 24 * time.Hour), Type: "AUTOMATIC"})
	}
	e.wantRots(id, want...)
	dec, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "volume key" {
		t.Fatalf("Decrypt after three rotations: %v", err)
	}
}

// The alias/aws/ namespace is AWS's: customers cannot create, retarget or
// delete aliases in it.
func TestAWSManagedAliasesAreReserved(t *testing.T) {
	e := fxNew(t)
	own, _ := e.symmetric()
	if _, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: "alias/aws/s3"}); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"CreateAlias": func() error {
			_, err := e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: "alias/aws/mine", TargetKeyId: own})
			return err
		}(),
		"UpdateAlias": func() error {
			_, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/aws/s3", TargetKeyId: own})
			return err
		}(),
		"DeleteAlias": func() error {
			_, err := e.s.DeleteAlias(e.ctx, &kms.DeleteAliasInput{AliasName: "alias/aws/s3"})
			return err
		}(),
	} {
		if !errors.Is(err, keystate.ErrInvalidAliasName) {
			t.Errorf("%s in alias/aws/: %v, want InvalidAliasNameException", name, err)
		}
	}
	aliases, _ := e.s.ListAliases(e.ctx, &kms.ListAliasesInput{})
	if own := fxOwnAliases(aliases.Aliases); len(own) != 1 || own[0].AliasName != "alias/aws/s3" || own[0].TargetKeyId == "" {
		t.Fatalf("aliases: %+v", aliases.Aliases)
	}
}

// An AWS managed key and its alias persist, and its yearly rotation goes
// on after a restart (issue 5: everything persists and survives reopen).
func TestAWSManagedKeyPersists(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	clock := kms.NewManualClock(fxT0)
	svc, err := kms.Open(ctx, mem, kms.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	created, err := svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: "alias/aws/lambda"})
	if err != nil {
		t.Fatal(err)
	}
	reopened, err := kms.Open(ctx, mem, kms.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	again, err := reopened.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: "alias/aws/lambda"})
	if err != nil || !reflect.DeepEqual(again.KeyMetadata, created.KeyMetadata) {
		t.Fatalf("after reopen: %+v, %v; want %+v", again, err, created.KeyMetadata)
	}
	clock.Advance(366 * 24 * time.Hour)
	rot, err := reopened.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: created.KeyMetadata.KeyId})
	if err != nil || len(rot.Rotations) != 1 || !rot.Rotations[0].RotationDate.Equal(fxT0.Add(365*24*time.Hour)) {
		t.Fatalf("rotations after a year: %+v, %v", rot, err)
	}
}
