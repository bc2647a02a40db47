package kms_test

// Multi-Region keys (aws-kms-behaviour.md b, c.8, d.3; recordings 1d, 1d',
// 3g, 8c, 8d): Regions, ReplicateKey, UpdatePrimaryRegion, the deletion of
// a primary with replicas, and rotation shared by a primary and its
// replicas. Names here start with "mr".

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/faultstore"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

const (
	mrWest = "us-west-2"
	mrEU   = "eu-west-1"
)

// mrIn returns a view of e whose calls go to region.
func (e *fxEnv) mrIn(region string) *fxEnv {
	w := *e
	w.ctx = kms.WithCallerRegion(e.ctx, region)
	return &w
}

func mrARN(region, id string) string { return "arn:aws:kms:" + region + ":" + fxAccount + ":key/" + id }

// mrPrimary creates a multi-Region primary in the default Region.
func (e *fxEnv) mrPrimary() (id, arn string) {
	e.t.Helper()
	m := e.create(&kms.CreateKeyInput{MultiRegion: true})
	return m.KeyId, m.Arn
}

// mrReplicate replicates key id (named in e's Region) into region.
func (e *fxEnv) mrReplicate(id, region string) kms.KeyMetadata {
	e.t.Helper()
	out, err := e.s.ReplicateKey(e.ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: region})
	if err != nil {
		e.t.Fatalf("ReplicateKey(%s, %s): %v", id, region, err)
	}
	return out.ReplicaKeyMetadata
}

func mrConfig(typ, primaryRegion, id string, replicas ...string) *kms.MultiRegionConfiguration {
	c := &kms.MultiRegionConfiguration{MultiRegionKeyType: typ,
		PrimaryKey: kms.MultiRegionKey{Arn: mrARN(primaryRegion, id), Region: primaryRegion}, ReplicaKeys: []kms.MultiRegionKey{}}
	for _, r := range replicas {
		c.ReplicaKeys = append(c.ReplicaKeys, kms.MultiRegionKey{Arn: mrARN(r, id), Region: r})
	}
	return c
}

func mrWantConfig(t *testing.T, m kms.KeyMetadata, want *kms.MultiRegionConfiguration) {
	t.Helper()
	got := m.MultiRegionConfiguration
	if got == nil || got.MultiRegionKeyType != want.MultiRegionKeyType || got.PrimaryKey != want.PrimaryKey ||
		!slices.Equal(got.ReplicaKeys, want.ReplicaKeys) {
		t.Fatalf("MultiRegionConfiguration of %s = %+v, want %+v", m.Arn, got, want)
	}
}

// Section b: ReplicateKey makes a replica in another Region, Creating and
// then Enabled; recordings 8c and 8d give what DescribeKey shows of both.
func TestMultiRegionReplicateKey(t *testing.T) {
	e := fxNew(t, kms.WithReplicaCreationDuration(5*time.Second))
	west := e.mrIn(mrWest)
	id, arn := e.mrPrimary()
	if want := mrConfig("PRIMARY", fxRegion, id); true {
		mrWantConfig(t, e.describe(id), want) // 8c: no replicas yet
	}
	out, err := e.s.ReplicateKey(e.ctx, &kms.ReplicateKeyInput{KeyId: arn, ReplicaRegion: mrWest,
		Tags: []kms.Tag{{TagKey: "team", TagValue: "west"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := out.ReplicaKeyMetadata
	// 8d: the answer shows the replica Creating, disabled, with no
	// description and no CurrentKeyMaterialId.
	if r.KeyId != id || r.Arn != mrARN(mrWest, id) || r.KeyState != "Creating" || r.Enabled || r.Description != "" ||
		r.CurrentKeyMaterialId != "" || !r.MultiRegion || r.KeyManager != "CUSTOMER" || r.Origin != "AWS_KMS" {
		t.Fatalf("ReplicaKeyMetadata = %+v", r)
	}
	if len(out.ReplicaTags) != 1 || out.ReplicaTags[0].TagKey != "team" {
		t.Fatalf("ReplicaTags = %+v", out.ReplicaTags)
	}
	mrWantConfig(t, r, mrConfig("REPLICA", fxRegion, id, mrWest))
	mrWantConfig(t, e.describe(id), mrConfig("PRIMARY", fxRegion, id, mrWest))

	// [14]: while Creating, the replica refuses what the table refuses.
	_, err = west.s.Encrypt(west.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.Encrypt, KeyID: r.Arn,
		State: keystate.Creating, Msg: r.Arn + " is creating."})
	_, err = west.s.DisableKey(west.ctx, &kms.DisableKeyInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.DisableKey, KeyID: r.Arn,
		State: keystate.Creating, Msg: r.Arn + " is creating."})

	e.advance(5*time.Second - 1)
	if got := west.describe(id).KeyState; got != "Creating" {
		t.Fatalf("1 ns before the end: %s", got)
	}
	e.advance(1)
	m := west.describe(id)
	if m.KeyState != "Enabled" || !m.Enabled || m.CreationDate != fxT0 || m.CurrentKeyMaterialId != e.describe(id).CurrentKeyMaterialId {
		t.Fatalf("replica after creation: %+v", m)
	}
	mrWantConfig(t, m, mrConfig("REPLICA", fxRegion, id, mrWest))

	// A second replica; both keys list both replicas, in creation order.
	e.advance(time.Hour)
	e.mrReplicate(id, mrEU)
	e.advance(5 * time.Second)
	eu := e.mrIn(mrEU)
	if c := eu.describe(id).CreationDate; !c.Equal(fxT0.Add(time.Hour + 5*time.Second)) {
		t.Fatalf("the second replica's CreationDate is %v", c)
	}
	mrWantConfig(t, west.describe(id), mrConfig("REPLICA", fxRegion, id, mrWest, mrEU))
	mrWantConfig(t, e.describe(id), mrConfig("PRIMARY", fxRegion, id, mrWest, mrEU))

	// Each Region lists its own keys (ListKeys is per Region).
	list, err := west.s.ListKeys(west.ctx, nil)
	if err != nil || len(list.Keys) != 1 || list.Keys[0].KeyArn != mrARN(mrWest, id) {
		t.Fatalf("ListKeys in %s = %+v, %v", mrWest, list, err)
	}
	if got := e.s.Regions(); !slices.Equal(got, []string{fxRegion, mrWest, mrEU}) {
		t.Fatalf("Regions() = %v", got)
	}
}

// The refusals of ReplicateKey, in the order of D3.
func TestMultiRegionReplicateKeyRefusals(t *testing.T) {
	e := fxNew(t)
	west := e.mrIn(mrWest)
	id, arn := e.mrPrimary()
	single, singleARN := e.symmetric()
	e.mrReplicate(id, mrWest)
	replicaARN := mrARN(mrWest, id)

	cases := []struct {
		name string
		ctx  context.Context
		in   kms.ReplicateKeyInput
		want fxWant
	}{
		{"no Region", e.ctx, kms.ReplicateKeyInput{KeyId: id},
			fxWant{Code: keystate.ErrValidation, AnyMsg: true}},
		{"not a Region", e.ctx, kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: "uswest2"},
			fxWant{Code: keystate.ErrValidation, Msg: fxValidation("uswest2", "replicaRegion", `Member must satisfy regular expression pattern: ^([a-z]+-){2,3}\d+$`)}},
		// Recording 3g: the only replica error recorded.
		{"a replica", west.ctx, kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: mrEU},
			fxWant{Code: keystate.ErrUnsupportedOperation, KeyID: replicaARN, State: keystate.Enabled,
				Msg: replicaARN + " is not a multi-region primary key."}},
		{"a single-Region key", e.ctx, kms.ReplicateKeyInput{KeyId: single, ReplicaRegion: mrEU},
			fxWant{Code: keystate.ErrUnsupportedOperation, KeyID: singleARN, State: keystate.Enabled,
				Msg: singleARN + " is not a multi-region primary key."}},
		// Section b: a Region holds one key of a multi-Region key.
		{"the replica's Region again", e.ctx, kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: mrWest},
			fxWant{Code: keystate.ErrAlreadyExists, KeyID: arn, State: keystate.Enabled, AnyMsg: true}},
		{"the primary's own Region", e.ctx, kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: fxRegion},
			fxWant{Code: keystate.ErrAlreadyExists, KeyID: arn, State: keystate.Enabled, AnyMsg: true}},
		// Recording 1d': a bare ID resolves in the caller's Region.
		{"a key of another Region by ID", west.ctx, kms.ReplicateKeyInput{KeyId: single, ReplicaRegion: mrEU},
			fxWant{Code: keystate.ErrNotFound, KeyID: mrARN(mrWest, single), Msg: fxNotExist(mrARN(mrWest, single))}},
		// Recording 1d: an ARN of another Region names that Region.
		{"a key of another Region by ARN", west.ctx, kms.ReplicateKeyInput{KeyId: singleARN, ReplicaRegion: mrEU},
			fxWant{Code: keystate.ErrNotFound, KeyID: singleARN, Msg: "Invalid arn " + fxRegion}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.describe(id)
			_, err := e.s.ReplicateKey(c.ctx, &c.in)
			c.want.Op = keystate.ReplicateKey
			fxCheckErr(t, err, c.want)
			if after := e.describe(id); !slices.Equal(after.MultiRegionConfiguration.ReplicaKeys, before.MultiRegionConfiguration.ReplicaKeys) {
				t.Fatalf("replicas changed: %+v", after.MultiRegionConfiguration)
			}
		})
	}
	if got := e.s.Regions(); slices.Contains(got, mrEU) && len(got) > 3 {
		t.Fatalf("Regions() = %v", got)
	}

	// Table a.2, ReplicateKey row: the primary's state.
	e.disable(id)
	_, err := e.s.ReplicateKey(e.ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: mrEU})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrDisabled, Op: keystate.ReplicateKey, KeyID: arn,
		State: keystate.Disabled, Msg: arn + " is disabled."})
}

// A call's Region comes from its context; one that is not a Region name is
// refused before anything else.
func TestMultiRegionCallerRegion(t *testing.T) {
	e := fxNew(t)
	bad := kms.WithCallerRegion(e.ctx, "Mars")
	_, err := e.s.CreateKey(bad, nil)
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.CreateKey,
		Msg: "'Mars' is not a Region this service can serve."})
	if got := e.s.Regions(); !slices.Equal(got, []string{fxRegion}) {
		t.Fatalf("Regions() = %v", got)
	}
	// Aliases are per Region: the same name may point at different keys.
	west := e.mrIn(mrWest)
	a, _ := e.symmetric()
	b, _ := west.symmetric()
	e.createAlias("alias/app", a)
	west.createAlias("alias/app", b)
	if got := west.describe("alias/app").KeyId; got != b {
		t.Fatalf("alias/app in %s names %s, want %s", mrWest, got, b)
	}
	if got := e.describe("alias/app").KeyId; got != a {
		t.Fatalf("alias/app in %s names %s, want %s", fxRegion, got, a)
	}
	// AWS managed keys are per Region too.
	ea, wa := e.describe("alias/aws/s3"), west.describe("alias/aws/s3")
	if ea.KeyId == wa.KeyId || wa.Arn != mrARN(mrWest, wa.KeyId) {
		t.Fatalf("aws/s3 keys: %s and %s", ea.Arn, wa.Arn)
	}
}

// c.8 and D8: rotation is set and performed on the primary, and every
// replica has the same rotation history; rotation calls on a replica are
// refused.
func TestMultiRegionRotationSharedWithReplicas(t *testing.T) {
	e := fxNew(t)
	west := e.mrIn(mrWest)
	id, _ := e.mrPrimary()
	e.advance(fxDay)
	e.rotate(id) // before the replica exists: it gets the history (c.8)
	t1 := e.now()
	e.mrReplicate(id, mrWest)
	e.advance(fxDay)
	west.wantRots(id, fxOnDemand(t1))
	replicaARN := mrARN(mrWest, id)

	for _, c := range []struct {
		op   keystate.Operation
		call func() error
	}{
		{keystate.EnableKeyRotation, func() error {
			_, err := west.s.EnableKeyRotation(west.ctx, &kms.EnableKeyRotationInput{KeyId: id})
			return err
		}},
		{keystate.DisableKeyRotation, func() error {
			_, err := west.s.DisableKeyRotation(west.ctx, &kms.DisableKeyRotationInput{KeyId: id})
			return err
		}},
		{keystate.RotateKeyOnDemand, func() error {
			_, err := west.s.RotateKeyOnDemand(west.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
			return err
		}},
	} {
		before := west.snapshot(id)
		fxCheckErr(t, c.call(), fxWant{Code: keystate.ErrUnsupportedOperation, Op: c.op, KeyID: replicaARN,
			State: keystate.Enabled, Msg: replicaARN + " is not a multi-region primary key."}) // D8
		west.unchanged(id, before)
	}

	// The setting is copied to the replica; automatic rotations happen on
	// the primary at their instants (D13) and reach the replica.
	e.enableRotation(id, 90)
	enabledAt := e.now()
	st := west.status(id)
	if !st.KeyRotationEnabled || *st.RotationPeriodInDays != 90 || !st.NextRotationDate.Equal(enabledAt.Add(90*fxDay)) {
		t.Fatalf("replica's status = %+v", st)
	}
	west.disable(id) // a Disabled replica still receives its primary's rotations
	e.setClock(enabledAt.Add(200 * fxDay))
	e.rotate(id)
	want := []fxRot{fxOnDemand(t1), fxAuto(enabledAt.Add(90 * fxDay)), fxAuto(enabledAt.Add(180 * fxDay)), fxOnDemand(e.now())}
	e.wantRots(id, want...)
	west.wantRots(id, want...)
	if p, r := e.describe(id).CurrentKeyMaterialId, west.describe(id).CurrentKeyMaterialId; p != r {
		t.Fatalf("CurrentKeyMaterialId: primary %s, replica %s", p, r)
	}

	// D1: the quota is the multi-Region key's, not each key's.
	q := fxNew(t, kms.WithOnDemandRotationQuota(2))
	qid, qarn := q.mrPrimary()
	q.rotate(qid)
	q.mrReplicate(qid, mrWest)
	q.rotate(qid)
	_, err := q.s.RotateKeyOnDemand(q.ctx, &kms.RotateKeyOnDemandInput{KeyId: qid})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrLimitExceeded, Op: keystate.RotateKeyOnDemand, KeyID: qarn,
		State: keystate.Enabled, Msg: fxQuotaMsg(qarn)})
	if _, err := q.s.UpdatePrimaryRegion(q.ctx, &kms.UpdatePrimaryRegionInput{KeyId: qid, PrimaryRegion: mrWest}); err != nil {
		t.Fatal(err)
	}
	qw := q.mrIn(mrWest)
	_, err = qw.s.RotateKeyOnDemand(qw.ctx, &kms.RotateKeyOnDemandInput{KeyId: qid})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrLimitExceeded, Op: keystate.RotateKeyOnDemand, KeyID: mrARN(mrWest, qid),
		State: keystate.Enabled, Msg: fxQuotaMsg(mrARN(mrWest, qid))})
}

// A multi-Region key's keys share key material: what one Region encrypts,
// another decrypts, before and after a rotation.
func TestMultiRegionSharedMaterial(t *testing.T) {
	e := fxNew(t)
	west := e.mrIn(mrWest)
	id, _ := e.mrPrimary()
	e.mrReplicate(id, mrWest)
	enc := func(env *fxEnv) []byte {
		out, err := env.s.Encrypt(env.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("shared")})
		if err != nil {
			t.Fatal(err)
		}
		return out.CiphertextBlob
	}
	dec := func(env *fxEnv, blob []byte) {
		t.Helper()
		out, err := env.s.Decrypt(env.ctx, &kms.DecryptInput{CiphertextBlob: blob})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Plaintext, []byte("shared")) || out.KeyId != mrARN(kms.CallerRegion(env.ctx)+map[bool]string{true: fxRegion}[kms.CallerRegion(env.ctx) == ""], id) {
			t.Fatalf("Decrypt = %q by %s", out.Plaintext, out.KeyId)
		}
	}
	old := enc(e)
	dec(west, old)
	e.rotate(id)
	dec(west, old)
	dec(e, enc(west))
	dec(west, enc(e))
}

// Section b: UpdatePrimaryRegion swaps the roles; both keys are Updating
// meanwhile ([15]) and read as replicas.
func TestMultiRegionUpdatePrimaryRegion(t *testing.T) {
	e := fxNew(t, kms.WithPrimaryUpdateDuration(10*time.Second))
	west := e.mrIn(mrWest)
	id, arn := e.mrPrimary()
	e.mrReplicate(id, mrWest)
	e.mrReplicate(id, mrEU)
	e.enableRotation(id, 90)
	next := e.status(id).NextRotationDate
	westARN := mrARN(mrWest, id)

	// Refusals: not a Region, the key's own Region, a Region without a
	// replica, a replica as KeyId, a Disabled replica.
	_, err := e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: fxRegion})
	// e.2: UnsupportedOperationException is the documented exception that
	// fits; AWS records none for this case.
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.UpdatePrimaryRegion, KeyID: arn,
		State: keystate.Enabled, Msg: arn + " is already the primary key in " + fxRegion + "."})
	_, err = e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: "ap-south-1"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.UpdatePrimaryRegion,
		KeyID: mrARN("ap-south-1", id), Msg: fxNotExist(mrARN("ap-south-1", id))})
	_, err = west.s.UpdatePrimaryRegion(west.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: mrEU})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.UpdatePrimaryRegion,
		KeyID: westARN, State: keystate.Enabled, Msg: westARN + " is not a multi-region primary key."})
	west.disable(id)
	_, err = e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: mrWest})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrDisabled, Op: keystate.UpdatePrimaryRegion,
		KeyID: westARN, State: keystate.Disabled, Msg: westARN + " is disabled."})
	west.enable(id)

	if _, err := e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: arn, PrimaryRegion: mrWest}); err != nil {
		t.Fatal(err)
	}
	for _, env := range []*fxEnv{e, west} {
		m := env.describe(id)
		if m.KeyState != "Updating" || m.Enabled || m.MultiRegionConfiguration.MultiRegionKeyType != "REPLICA" ||
			m.MultiRegionConfiguration.PrimaryKey.Region != mrWest {
			t.Fatalf("%s while updating: %+v %+v", m.Arn, m, m.MultiRegionConfiguration)
		}
	}
	_, err = west.s.DisableKey(west.ctx, &kms.DisableKeyInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.DisableKey, KeyID: westARN,
		State: keystate.Updating, Msg: westARN + " is updating."}) // [15]
	if _, err := west.s.Encrypt(west.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("Encrypt while updating: %v", err) // table a.2: ✓
	}

	e.advance(10 * time.Second)
	mrWantConfig(t, west.describe(id), mrConfig("PRIMARY", mrWest, id, fxRegion, mrEU))
	mrWantConfig(t, e.describe(id), mrConfig("REPLICA", mrWest, id, fxRegion, mrEU))
	mrWantConfig(t, e.mrIn(mrEU).describe(id), mrConfig("REPLICA", mrWest, id, fxRegion, mrEU))
	if m := e.describe(id); m.KeyState != "Enabled" {
		t.Fatalf("old primary: %s", m.KeyState)
	}

	// The new primary rotates the family on the old schedule; the old
	// primary is a replica now (D8).
	_, err = e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.RotateKeyOnDemand, KeyID: arn,
		State: keystate.Enabled, Msg: arn + " is not a multi-region primary key."})
	e.setClock(*next)
	for _, env := range []*fxEnv{e, west, e.mrIn(mrEU)} {
		env.wantRots(id, fxAuto(*next))
	}
}

// Section b and d.2: a primary with replicas waits in
// PendingReplicaDeletion, without a DeletionDate, until its last replica is
// deleted; then its waiting period starts.
func TestMultiRegionDeletePrimaryWithReplicas(t *testing.T) {
	e := fxNew(t)
	west, eu := e.mrIn(mrWest), e.mrIn(mrEU)
	id, arn := e.mrPrimary()
	e.mrReplicate(id, mrWest)
	e.mrReplicate(id, mrEU)

	out, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	if out.KeyState != "PendingReplicaDeletion" || out.DeletionDate != nil || out.PendingWindowInDays != 10 || out.KeyId != arn {
		t.Fatalf("ScheduleKeyDeletion = %+v", out)
	}
	m := e.describe(id)
	if m.KeyState != "PendingReplicaDeletion" || m.DeletionDate != nil || m.PendingDeletionWindowInDays == nil ||
		*m.PendingDeletionWindowInDays != 10 {
		t.Fatalf("DescribeKey = %+v", m)
	}
	// [3]: the primary cannot be replicated or used meanwhile.
	_, err = e.s.ReplicateKey(e.ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: "ap-south-1"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.ReplicateKey, KeyID: arn,
		State: keystate.PendingReplicaDeletion, Msg: arn + " is pending deletion."})

	wd := west.scheduleDeletion(id, 7)
	e.advance(3 * fxDay)
	ed := eu.scheduleDeletion(id, 7)
	e.setClock(wd)
	if _, err := west.s.DescribeKey(west.ctx, &kms.DescribeKeyInput{KeyId: id}); err == nil {
		t.Fatal("the replica in us-west-2 outlived its DeletionDate")
	}
	mrWantConfig(t, e.describe(id), mrConfig("PRIMARY", fxRegion, id, mrEU))
	if got := e.describe(id).KeyState; got != "PendingReplicaDeletion" {
		t.Fatalf("with one replica left: %s", got)
	}
	e.setClock(ed)
	m = e.describe(id)
	if m.KeyState != "PendingDeletion" || m.DeletionDate == nil || !m.DeletionDate.Equal(ed.Add(10*fxDay)) {
		t.Fatalf("after the last replica: %+v", m)
	}
	mrWantConfig(t, m, mrConfig("PRIMARY", fxRegion, id))
	e.setClock(ed.Add(10 * fxDay))
	_, err = e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: arn, Msg: fxNotExist(arn)})

	// CancelKeyDeletion of a primary waiting for its replicas: Disabled.
	id2, _ := e.mrPrimary()
	e.mrReplicate(id2, mrWest)
	if _, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id2}); err != nil {
		t.Fatal(err)
	}
	e.cancelDeletion(id2)
	if m := e.describe(id2); m.KeyState != "Disabled" || m.PendingDeletionWindowInDays != nil {
		t.Fatalf("after CancelKeyDeletion: %+v", m)
	}
}

// Section b: a replica of an EXTERNAL primary is created without key
// material (PendingImport); each key imports it separately, and it must be
// the same material (c.8).
func TestMultiRegionImportedMaterial(t *testing.T) {
	e := fxNew(t)
	west := e.mrIn(mrWest)
	m := e.create(&kms.CreateKeyInput{MultiRegion: true, Origin: "EXTERNAL"})
	id := m.KeyId
	material := bytes.Repeat([]byte{7}, 32)
	mrImport(t, e, id, material)
	r := e.mrReplicate(id, mrWest)
	if r.KeyState != "Creating" {
		t.Fatalf("replica: %s", r.KeyState)
	}
	if got := west.describe(id).KeyState; got != "PendingImport" {
		t.Fatalf("replica of an EXTERNAL key after creation: %s", got)
	}
	other := bytes.Repeat([]byte{8}, 32)
	err := mrImportErr(t, west, id, other)
	fxCheckErr(t, err, fxWant{Code: keystate.ErrIncorrectKeyMaterial, Op: keystate.ImportKeyMaterial,
		KeyID: mrARN(mrWest, id), State: keystate.PendingImport, AnyMsg: true})
	mrImport(t, west, id, material)
	if got := west.describe(id).KeyState; got != "Enabled" {
		t.Fatalf("replica after import: %s", got)
	}
	out, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := west.s.Decrypt(west.ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob}); err != nil {
		t.Fatalf("Decrypt in the replica's Region: %v", err)
	}
}

// The multi-Region state survives a restart: Regions, replicas, roles,
// Creating and Updating instants, PendingReplicaDeletion.
func TestMultiRegionPersists(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		st := store.NewMemory()
		mrPersists(t, func() store.Store { return st })
	})
	t.Run("bolt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kms.db")
		var last *boltstore.Store
		t.Cleanup(func() { last.Close() })
		mrPersists(t, func() store.Store {
			if last != nil {
				last.Close()
			}
			st, err := boltstore.Open(path, &boltstore.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			last = st
			return st
		})
	})
}

// mrPersists runs the restart story over the stores reopen returns, one
// per restart.
func mrPersists(t *testing.T, reopen func() store.Store) {
	clk := kms.NewManualClock(fxT0)
	opts := []kms.Option{kms.WithClock(clk), kms.WithReplicaCreationDuration(time.Minute), kms.WithPrimaryUpdateDuration(time.Minute)}
	open := func() *fxEnv {
		t.Helper()
		s, err := kms.Open(t.Context(), reopen(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		return &fxEnv{t: t, s: s, clk: clk, ctx: context.Background()}
	}
	e := open()
	id, _ := e.mrPrimary()
	e.enableRotation(id, 90)
	e.mrReplicate(id, mrWest)
	e.mrReplicate(id, mrEU)
	e.mrIn(mrWest).createAlias("alias/west", id)
	e = open() // restart while both replicas are Creating
	if got := e.mrIn(mrWest).describe(id).KeyState; got != "Creating" {
		t.Fatalf("after restart: %s", got)
	}
	e.advance(time.Minute)
	if _, err := e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: mrWest}); err != nil {
		t.Fatal(err)
	}
	e = open() // restart while Updating
	e.advance(time.Minute)
	west := e.mrIn(mrWest)
	mrWantConfig(t, west.describe(id), mrConfig("PRIMARY", mrWest, id, fxRegion, mrEU))
	if got := west.describe("alias/west").KeyId; got != id {
		t.Fatalf("alias/west names %s", got)
	}
	if _, err := west.s.ScheduleKeyDeletion(west.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	e.setClock(fxT0.Add(90 * fxDay))
	e = open()
	west = e.mrIn(mrWest)
	if got := west.describe(id).KeyState; got != "PendingReplicaDeletion" {
		t.Fatalf("after restart: %s", got)
	}
	// No rotation while the primary waits (D12); the replicas have the
	// history as it was.
	want := e.rots(id)
	e.mrIn(mrEU).wantRots(id, want...)
	west.wantRots(id, want...)
}

func mrImport(t *testing.T, e *fxEnv, id string, material []byte) {
	t.Helper()
	if err := mrImportErr(t, e, id, material); err != nil {
		t.Fatal(err)
	}
}

func mrImportErr(t *testing.T, e *fxEnv, id string, material []byte) error {
	t.Helper()
	p, err := e.s.GetParametersForImport(e.ctx, &kms.GetParametersForImportInput{KeyId: id,
		WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.s.ImportKeyMaterial(e.ctx, &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: imWrap(t, p.PublicKey, "RSAES_OAEP_SHA_256", material),
		ExpirationModel:      "KEY_MATERIAL_DOES_NOT_EXPIRE"})
	return err
}

// mrScenario is a multi-Region key brought into one state, seen from the
// Region of the key under test.
type mrScenario struct {
	name  string
	state keystate.State
	kind  keystate.Kind
	build func(t *testing.T) (e *fxEnv, id string)
}

// mrScenarios brings a replica and a primary into every state they can
// have (sections a.1, b).
func mrScenarios() []mrScenario {
	replica := keystate.Kind{MultiRegion: keystate.Replica}
	primary := keystate.Kind{MultiRegion: keystate.Primary}
	extReplica := keystate.Kind{MultiRegion: keystate.Replica, Origin: keystate.External}
	// pair creates a primary (in the default Region) with an Enabled
	// replica in us-west-2 and one in eu-west-1.
	pair := func(t *testing.T, opts ...kms.Option) (*fxEnv, string) {
		e := fxNew(t, opts...)
		id, _ := e.mrPrimary()
		e.mrReplicate(id, mrWest)
		e.mrReplicate(id, mrEU)
		e.advance(time.Minute)
		return e, id
	}
	return []mrScenario{
		{"replica Creating", keystate.Creating, replica, func(t *testing.T) (*fxEnv, string) {
			e := fxNew(t, kms.WithReplicaCreationDuration(time.Hour))
			id, _ := e.mrPrimary()
			e.mrReplicate(id, mrWest)
			return e.mrIn(mrWest), id
		}},
		{"replica Enabled", keystate.Enabled, replica, func(t *testing.T) (*fxEnv, string) {
			e, id := pair(t)
			return e.mrIn(mrEU), id
		}},
		{"replica Disabled", keystate.Disabled, replica, func(t *testing.T) (*fxEnv, string) {
			e, id := pair(t)
			e.mrIn(mrEU).disable(id)
			return e.mrIn(mrEU), id
		}},
		{"replica PendingDeletion", keystate.PendingDeletion, replica, func(t *testing.T) (*fxEnv, string) {
			e, id := pair(t)
			e.mrIn(mrEU).scheduleDeletion(id, 7)
			return e.mrIn(mrEU), id
		}},
		{"replica PendingImport", keystate.PendingImport, extReplica, func(t *testing.T) (*fxEnv, string) {
			e := fxNew(t)
			id := e.create(&kms.CreateKeyInput{MultiRegion: true, Origin: "EXTERNAL"}).KeyId
			mrImport(t, e, id, bytes.Repeat([]byte{7}, 32)) // table a.2: ReplicateKey ✗[5] before
			e.mrReplicate(id, mrWest)
			return e.mrIn(mrWest), id
		}},
		{"new primary Updating", keystate.Updating, replica, func(t *testing.T) (*fxEnv, string) {
			e, id := pair(t, kms.WithPrimaryUpdateDuration(time.Hour))
			if _, err := e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: mrWest}); err != nil {
				t.Fatal(err)
			}
			return e.mrIn(mrWest), id
		}},
		{"old primary Updating", keystate.Updating, replica, func(t *testing.T) (*fxEnv, string) {
			e, id := pair(t, kms.WithPrimaryUpdateDuration(time.Hour))
			if _, err := e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: mrWest}); err != nil {
				t.Fatal(err)
			}
			return e, id
		}},
		{"primary Enabled", keystate.Enabled, primary, func(t *testing.T) (*fxEnv, string) { return pair(t) }},
		{"primary Disabled", keystate.Disabled, primary, func(t *testing.T) (*fxEnv, string) {
			e, id := pair(t)
			e.disable(id)
			return e, id
		}},
		{"primary PendingReplicaDeletion", keystate.PendingReplicaDeletion, primary, func(t *testing.T) (*fxEnv, string) {
			e, id := pair(t)
			if _, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id}); err != nil {
				t.Fatal(err)
			}
			return e, id
		}},
		{"primary PendingDeletion", keystate.PendingDeletion, primary, func(t *testing.T) (*fxEnv, string) {
			e := fxNew(t)
			id, _ := e.mrPrimary()
			e.scheduleDeletion(id, 7)
			return e, id
		}},
	}
}

// mrOps calls each operation that takes a key, with input that is valid
// whenever the key-state table and the key's kind allow the call.
var mrOps = []struct {
	op   keystate.Operation
	call func(e *fxEnv, id string) error
}{
	{keystate.DescribeKey, func(e *fxEnv, id string) error {
		_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id})
		return err
	}},
	{keystate.EnableKey, func(e *fxEnv, id string) error {
		_, err := e.s.EnableKey(e.ctx, &kms.EnableKeyInput{KeyId: id})
		return err
	}},
	{keystate.DisableKey, func(e *fxEnv, id string) error {
		_, err := e.s.DisableKey(e.ctx, &kms.DisableKeyInput{KeyId: id})
		return err
	}},
	{keystate.EnableKeyRotation, func(e *fxEnv, id string) error {
		_, err := e.s.EnableKeyRotation(e.ctx, &kms.EnableKeyRotationInput{KeyId: id})
		return err
	}},
	{keystate.DisableKeyRotation, func(e *fxEnv, id string) error {
		_, err := e.s.DisableKeyRotation(e.ctx, &kms.DisableKeyRotationInput{KeyId: id})
		return err
	}},
	{keystate.GetKeyRotationStatus, func(e *fxEnv, id string) error {
		_, err := e.s.GetKeyRotationStatus(e.ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
		return err
	}},
	{keystate.ListKeyRotations, func(e *fxEnv, id string) error {
		_, err := e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: id})
		return err
	}},
	{keystate.RotateKeyOnDemand, func(e *fxEnv, id string) error {
		_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
		return err
	}},
	{keystate.ScheduleKeyDeletion, func(e *fxEnv, id string) error {
		_, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id})
		return err
	}},
	{keystate.CancelKeyDeletion, func(e *fxEnv, id string) error {
		_, err := e.s.CancelKeyDeletion(e.ctx, &kms.CancelKeyDeletionInput{KeyId: id})
		return err
	}},
	{keystate.Encrypt, func(e *fxEnv, id string) error {
		_, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")})
		return err
	}},
	{keystate.GenerateDataKey, func(e *fxEnv, id string) error {
		_, err := e.s.GenerateDataKey(e.ctx, &kms.GenerateDataKeyInput{KeyId: id, NumberOfBytes: kms.Int32(32)})
		return err
	}},
	{keystate.UpdateKeyDescription, func(e *fxEnv, id string) error {
		_, err := e.s.UpdateKeyDescription(e.ctx, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: "d"})
		return err
	}},
	{keystate.TagResource, func(e *fxEnv, id string) error {
		_, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "k", TagValue: "v"}}})
		return err
	}},
	{keystate.ListResourceTags, func(e *fxEnv, id string) error {
		_, err := e.s.ListResourceTags(e.ctx, &kms.ListResourceTagsInput{KeyId: id})
		return err
	}},
	{keystate.CreateAlias, func(e *fxEnv, id string) error {
		_, err := e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: "alias/sweep", TargetKeyId: id})
		return err
	}},
	{keystate.ReplicateKey, func(e *fxEnv, id string) error {
		_, err := e.s.ReplicateKey(e.ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: "ap-south-1"})
		return err
	}},
	{keystate.UpdatePrimaryRegion, func(e *fxEnv, id string) error {
		to := mrWest
		if kms.CallerRegion(e.ctx) == mrWest {
			to = fxRegion
		}
		_, err := e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: to})
		return err
	}},
}

// Every operation on a replica and on a primary in every state it can
// have: the exact refusal of the key-state table (a.2, a.3) and the kind
// rules (D8; recording 3g for non-primaries), or success.
func TestMultiRegionEveryStateEveryOperation(t *testing.T) {
	for _, sc := range mrScenarios() {
		for _, o := range mrOps {
			t.Run(sc.name+"/"+o.op.String(), func(t *testing.T) {
				e, id := sc.build(t)
				arn := e.describe(id).Arn
				if got := e.describe(id).KeyState; got != sc.state.String() {
					t.Fatalf("scenario left the key %s, want %s", got, sc.state)
				}
				err := o.call(e, id)
				want := keystate.Check(o.op, sc.state, sc.kind, arn)
				if want == nil {
					if err != nil {
						t.Fatalf("%s on %s: %v, want success", o.op, sc.name, err)
					}
					return
				}
				var we *keystate.Error
				if !errors.As(want, &we) {
					t.Fatalf("keystate.Check returned %T", want)
				}
				fxCheckErr(t, err, fxWant{Code: we.Code, Op: o.op, KeyID: arn, State: sc.state, Msg: we.Message})
			})
		}
	}
}

// Custom key stores belong to one Region, like keys: another Region does
// not see them, and may reuse their names. They persist with their Region.
func TestMultiRegionCustomKeyStoresPerRegion(t *testing.T) {
	st := store.NewMemory()
	clk := kms.NewManualClock(fxT0)
	s, err := kms.Open(t.Context(), st, kms.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	west := kms.WithCallerRegion(t.Context(), mrWest)
	id := ckStore(t, s, ckHSMInput("hsm"))
	out, err := s.DescribeCustomKeyStores(west, &kms.DescribeCustomKeyStoresInput{})
	if err != nil || len(out.CustomKeyStores) != 0 {
		t.Fatalf("DescribeCustomKeyStores in %s = %+v, %v", mrWest, out, err)
	}
	_, err = s.DescribeCustomKeyStores(west, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreId: id})
	ckErr(t, err, keystate.ErrCustomKeyStoreNotFound, "Custom key store '"+id+"' does not exist in account "+fxAccount+".")
	wid := ckMust(s.CreateCustomKeyStore(west, ckHSMInput("hsm")))(t).CustomKeyStoreId // the name is free there
	s, err = kms.Open(t.Context(), st, kms.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	out, err = s.DescribeCustomKeyStores(west, &kms.DescribeCustomKeyStoresInput{})
	if err != nil || len(out.CustomKeyStores) != 1 || out.CustomKeyStores[0].CustomKeyStoreId != wid {
		t.Fatalf("after reopen, DescribeCustomKeyStores in %s = %+v, %v", mrWest, out, err)
	}
	if got := ckDescribeStore(t, s, id); got.CustomKeyStoreId != id {
		t.Fatalf("after reopen: %+v", got)
	}
}

// A failed store write of a multi-Region change changes nothing, in the
// service or the store: ReplicateKey, UpdatePrimaryRegion, a rotation that
// reaches the replicas, and the start of a primary's waiting period when
// its last replica goes (a scheduled event, retried by the next call).
func TestMultiRegionFailedWritesChangeNothing(t *testing.T) {
	mem := store.NewMemory()
	faults := faultstore.New(mem)
	clk := kms.NewManualClock(fxT0)
	s, err := kms.Open(t.Context(), faults, kms.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	e := &fxEnv{t: t, s: s, clk: clk, ctx: context.Background()}
	west := e.mrIn(mrWest)
	id, arn := e.mrPrimary()
	e.mrReplicate(id, mrWest)
	e.advance(time.Second)

	type view struct {
		primary, replica fxSnapshot
		stored           []store.Key
		rotations        map[string][]store.Rotation
	}
	look := func() view {
		v := view{primary: e.snapshot(id), replica: west.snapshot(id)} // first: calls apply due events
		v.stored, v.rotations, _ = fsStored(t, mem)
		return v
	}
	failOnce := func(what string, call func() error) {
		t.Helper()
		before := look()
		faults.FailNth(faultstore.OpApply, 1, errDisk)
		err := call()
		fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInternal, Op: errOp(err), KeyID: errKey(err), State: errState(err), AnyMsg: true})
		if !errors.Is(err, errDisk) {
			t.Fatalf("%s: %v does not wrap the store's error", what, err)
		}
		if after := look(); !reflect.DeepEqual(before, after) {
			t.Fatalf("%s changed something:\n before %+v\n after  %+v", what, before, after)
		}
	}
	failOnce("ReplicateKey", func() error {
		_, err := e.s.ReplicateKey(e.ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: mrEU})
		return err
	})
	if _, err := e.mrIn(mrEU).s.DescribeKey(e.mrIn(mrEU).ctx, &kms.DescribeKeyInput{KeyId: id}); !errors.Is(err, keystate.ErrNotFound) {
		t.Fatalf("the failed replica exists: %v", err)
	}
	failOnce("RotateKeyOnDemand", func() error {
		_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
		return err
	})
	failOnce("EnableKeyRotation", func() error {
		_, err := e.s.EnableKeyRotation(e.ctx, &kms.EnableKeyRotationInput{KeyId: id})
		return err
	})
	failOnce("UpdatePrimaryRegion", func() error {
		_, err := e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: arn, PrimaryRegion: mrWest})
		return err
	})

	// The scheduled event: the last replica's deletion and the primary's
	// waiting period are one write; when it fails, both wait.
	if _, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	rd := west.scheduleDeletion(id, 7)
	clk.Set(rd)
	faults.FailNth(faultstore.OpApply, 1, errDisk)
	if _, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id}); !errors.Is(err, keystate.ErrKMSInternal) {
		t.Fatalf("DescribeKey with the deletion unwritten: %v", err)
	}
	if st := e.describe(id); st.KeyState != "PendingDeletion" || !st.DeletionDate.Equal(rd.Add(7*fxDay)) {
		t.Fatalf("after the retry: %+v", st)
	}
	keys, _, _ := fsStored(t, mem)
	if len(keys) != 1 || keys[0].State != keystate.PendingDeletion || !keys[0].DeletionDate.Equal(rd.Add(7*fxDay)) {
		t.Fatalf("stored: %+v", keys)
	}
}

func errOp(err error) keystate.Operation {
	var ke *keystate.Error
	if errors.As(err, &ke) {
		return ke.Op
	}
	return keystate.NoOperation
}

func errKey(err error) string {
	var ke *keystate.Error
	if errors.As(err, &ke) {
		return ke.KeyID
	}
	return ""
}

func errState(err error) keystate.State {
	var ke *keystate.Error
	if errors.As(err, &ke) {
		return ke.State
	}
	return keystate.None
}

// Regressions the model test found.
func TestMultiRegionRegressions(t *testing.T) {
	// A replica made after its primary rotated lists those rotations at
	// their own dates (they precede the replica's creation).
	t.Run("history older than the replica", func(t *testing.T) {
		e := fxNew(t)
		id, _ := e.mrPrimary()
		e.advance(fxDay)
		e.rotate(id)
		t1 := e.now()
		e.advance(30 * fxDay)
		e.mrReplicate(id, mrWest)
		e.mrIn(mrWest).wantRots(id, fxOnDemand(t1))
		// And a replica of the replica's family made after the primary moved.
		if _, err := e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: mrWest}); err != nil {
			t.Fatal(err)
		}
		e.advance(30 * fxDay)
		west := e.mrIn(mrWest)
		west.mrReplicate(id, mrEU)
		e.mrIn(mrEU).wantRots(id, fxOnDemand(t1))
	})
	// UpdatePrimaryRegion to the key's own Region is refused the same way
	// with or without replicas.
	t.Run("own Region without replicas", func(t *testing.T) {
		e := fxNew(t)
		id, arn := e.mrPrimary()
		_, err := e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: fxRegion})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.UpdatePrimaryRegion, KeyID: arn,
			State: keystate.Enabled, Msg: arn + " is already the primary key in " + fxRegion + "."}) // e.2
	})
	// Material imported into a replica reopens (it is sealed under the key
	// ID, which the replica's record ID ends with).
	t.Run("imported replica reopens", func(t *testing.T) {
		st := store.NewMemory()
		clk := kms.NewManualClock(fxT0)
		s, err := kms.Open(t.Context(), st, kms.WithClock(clk))
		if err != nil {
			t.Fatal(err)
		}
		e := &fxEnv{t: t, s: s, clk: clk, ctx: context.Background()}
		id := e.create(&kms.CreateKeyInput{MultiRegion: true, Origin: "EXTERNAL"}).KeyId
		material := bytes.Repeat([]byte{9}, 32)
		mrImport(t, e, id, material)
		e.mrReplicate(id, mrWest)
		mrImport(t, e.mrIn(mrWest), id, material)
		if e.s, err = kms.Open(t.Context(), st, kms.WithClock(clk)); err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if got := e.mrIn(mrWest).describe(id).KeyState; got != "Enabled" {
			t.Fatalf("replica after reopen: %s", got)
		}
	})
	// One run of due events that changes a primary waiting in
	// PendingReplicaDeletion (its on-demand rotation completes) and then
	// deletes its last replica writes both, in order.
	t.Run("primary changed and last replica deleted in one run", func(t *testing.T) {
		st := store.NewMemory()
		clk := kms.NewManualClock(fxT0)
		s, err := kms.Open(t.Context(), st, kms.WithClock(clk), kms.WithOnDemandRotationDuration(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		e := &fxEnv{t: t, s: s, clk: clk, ctx: context.Background()}
		id, _ := e.mrPrimary()
		e.mrReplicate(id, mrWest)
		e.rotate(id) // completes in an hour
		if _, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id}); err != nil {
			t.Fatal(err)
		}
		rd := e.mrIn(mrWest).scheduleDeletion(id, 7)
		clk.Set(rd)
		m := e.describe(id)
		if m.KeyState != "PendingDeletion" || !m.DeletionDate.Equal(rd.Add(30*fxDay)) {
			t.Fatalf("primary: %+v", m)
		}
		e.wantRots(id, fxOnDemand(fxT0.Add(time.Hour)))
	})
}

// a.1: a key whose imported material expires while UpdatePrimaryRegion
// keeps it Updating ends PendingImport, not Enabled.
func TestMultiRegionMaterialExpiresWhileUpdating(t *testing.T) {
	e := fxNew(t, kms.WithPrimaryUpdateDuration(time.Hour))
	west := e.mrIn(mrWest)
	id := e.create(&kms.CreateKeyInput{MultiRegion: true, Origin: "EXTERNAL"}).KeyId
	material := bytes.Repeat([]byte{5}, 32)
	mrImport(t, e, id, material)
	e.mrReplicate(id, mrWest)
	// The replica's material expires half an hour into the update.
	p, err := west.s.GetParametersForImport(west.ctx, &kms.GetParametersForImportInput{KeyId: id,
		WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
	if err != nil {
		t.Fatal(err)
	}
	validTo := e.now().Add(30 * time.Minute)
	if _, err := west.s.ImportKeyMaterial(west.ctx, &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: imWrap(t, p.PublicKey, "RSAES_OAEP_SHA_256", material),
		ExpirationModel:      "KEY_MATERIAL_EXPIRES", ValidTo: &validTo}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: mrWest}); err != nil {
		t.Fatal(err)
	}
	e.advance(time.Hour)
	if got := west.describe(id).KeyState; got != "PendingImport" {
		t.Fatalf("the new primary, its material expired while Updating: %s", got)
	}
	if got := e.describe(id).KeyState; got != "Enabled" {
		t.Fatalf("the old primary: %s", got)
	}
	mrWantConfig(t, west.describe(id), mrConfig("PRIMARY", mrWest, id, fxRegion))
}

// D14: a ListKeyRotations marker of the primary's listing is not good for
// its replica's, nor an alias listing's marker in another Region.
func TestMultiRegionMarkersAreTheirKeys(t *testing.T) {
	e := fxNew(t)
	west := e.mrIn(mrWest)
	id, _ := e.mrPrimary()
	e.rotate(id)
	e.rotate(id)
	e.mrReplicate(id, mrWest)
	out, err := e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: id, Limit: kms.Int32(1)})
	if err != nil || out.NextMarker == "" {
		t.Fatalf("first page: %+v, %v", out, err)
	}
	_, err = west.s.ListKeyRotations(west.ctx, &kms.ListKeyRotationsInput{KeyId: id, Limit: kms.Int32(1), Marker: out.NextMarker})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidMarker, Op: keystate.ListKeyRotations, AnyMsg: true})

	e.createAlias("alias/a", id)
	e.createAlias("alias/b", id)
	west.createAlias("alias/a", id)
	west.createAlias("alias/b", id)
	al, err := e.s.ListAliases(e.ctx, &kms.ListAliasesInput{Limit: kms.Int32(1)})
	if err != nil || al.NextMarker == "" {
		t.Fatalf("first page: %+v, %v", al, err)
	}
	_, err = west.s.ListAliases(west.ctx, &kms.ListAliasesInput{Limit: kms.Int32(1), Marker: al.NextMarker})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidMarker, Op: keystate.ListAliases, AnyMsg: true})
}

// ValidRegion is AWS's ReplicaRegion pattern, ^([a-z]+-){2,3}\d+$, at most
// 32 characters.
func TestValidRegion(t *testing.T) {
	for name, want := range map[string]bool{
		"us-east-1": true, "us-gov-west-1": true, "ap-southeast-12": true, "eu-central-1": true,
		"": false, "us-east": false, "us-1": false, "a-b-c-d-1": false, "US-east-1": false, "us-east-1a": false,
		"us--east-1": false, "-us-east-1": false, "us-east-": false, "uswest2": false, "us_east-1": false,
		"abcdefghijklmnop-qrstuvwxyzabcd-1": false, // 33 characters
	} {
		if got := kms.ValidRegion(name); got != want {
			t.Errorf("ValidRegion(%q) = %v, want %v", name, got, want)
		}
	}
}
