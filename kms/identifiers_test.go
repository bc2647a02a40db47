package kms_test

// Tests of key identifiers: aws-kms-behaviour.md e.3, decisions D4, D5, D6
// and D19, and real-aws-recordings.md rows 1a–1d'.

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

var (
	fxUUIDv4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	fxMRKID  = regexp.MustCompile(`^mrk-[0-9a-f]{32}$`)
)

// e.3 "ordinary IDs are UUIDs" (version 4 from the randomness source);
// "Multi-Region key IDs start with mrk-", + 32 hex digits. ARNs are
// arn:aws:kms:<region>:<account>:key/<id>. IDs are unique.
func TestIdentifiersKeyIDShapes(t *testing.T) {
	e := fxNew(t)
	seen := map[string]bool{}
	for i := range 200 {
		m := e.create(&kms.CreateKeyInput{MultiRegion: i%4 == 3})
		re := fxUUIDv4
		if i%4 == 3 {
			re = fxMRKID
		}
		if !re.MatchString(m.KeyId) {
			t.Fatalf("KeyId %q does not match %s", m.KeyId, re)
		}
		if m.Arn != fxARN(m.KeyId) || m.AWSAccountId != fxAccount {
			t.Fatalf("Arn %q, account %q for %s", m.Arn, m.AWSAccountId, m.KeyId)
		}
		if seen[m.KeyId] {
			t.Fatalf("duplicate KeyId %s", m.KeyId)
		}
		seen[m.KeyId] = true
	}
}

// WithRandom makes key IDs deterministic: the same seed gives the same IDs.
func TestIdentifiersDeterministicWithSeed(t *testing.T) {
	ids := func() []string {
		e := fxNewAt(t, fxT0) // same test name → same seed
		var out []string
		for range 5 {
			id, _ := e.symmetric()
			out = append(out, id)
		}
		return out
	}
	a, b := ids(), ids()
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("same seed, different IDs:\n%v\n%v", a, b)
	}
}

// The ARN carries the service's account and Region (WithAccount,
// WithRegion); a key created by another caller belongs to that caller's
// account.
func TestIdentifiersARNAccountAndRegion(t *testing.T) {
	e := fxNew(t, kms.WithAccount("123456789012"), kms.WithRegion("eu-west-3"))
	if e.s.Account() != "123456789012" || e.s.Region() != "eu-west-3" {
		t.Fatalf("Account/Region = %s/%s", e.s.Account(), e.s.Region())
	}
	id, arn := e.symmetric()
	if want := "arn:aws:kms:eu-west-3:123456789012:key/" + id; arn != want {
		t.Fatalf("Arn = %s, want %s", arn, want)
	}
	out, err := e.s.CreateKey(e.as(fxOther), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:kms:eu-west-3:" + fxOther + ":key/" + out.KeyMetadata.KeyId; out.KeyMetadata.Arn != want ||
		out.KeyMetadata.AWSAccountId != fxOther {
		t.Fatalf("other caller's key: Arn %s account %s, want %s", out.KeyMetadata.Arn, out.KeyMetadata.AWSAccountId, want)
	}
	// Each account lists only its own keys.
	mine, err := e.s.ListKeys(e.ctx, nil)
	if err != nil || len(mine.Keys) != 1 || mine.Keys[0].KeyArn != arn {
		t.Fatalf("ListKeys = %+v, %v", mine, err)
	}
	theirs, err := e.s.ListKeys(e.as(fxOther), nil)
	if err != nil || len(theirs.Keys) != 1 || theirs.Keys[0].KeyId != out.KeyMetadata.KeyId {
		t.Fatalf("ListKeys as the other account = %+v, %v", theirs, err)
	}
}

// d.3 and e.3: DescribeKey accepts a key ID, key ARN, alias name or alias
// ARN (recording: test_describe_with_alias_arn); an unknown alias →
// NotFoundException.
func TestIdentifiersDescribeKeyForms(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	e.createAlias("alias/fx-app", id)
	before := e.snapshot(id)
	for _, in := range []string{id, arn, "alias/fx-app", fxAliasARN("alias/fx-app")} {
		m := e.describe(in)
		if m.KeyId != id || m.Arn != arn {
			t.Errorf("DescribeKey(%s) = %s, want %s", in, m.KeyId, id)
		}
	}
	for _, in := range []string{"alias/fx-none", fxAliasARN("alias/fx-none")} {
		_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: in})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: fxAliasARN("alias/fx-none"), AnyMsg: true})
	}
	// The alias ARN of another Region is "Invalid arn <region>" (row 1d).
	in := "arn:aws:kms:ap-south-1:" + fxAccount + ":alias/fx-app"
	_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: in})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: in, Msg: "Invalid arn ap-south-1"})
	e.unchanged(id, before)
}

// Decision D4 and recording row 1a: a bare key ID that is neither a UUID nor
// mrk- + 32 hex → NotFoundException "Invalid keyId '<input>'", also for a
// UUID without dashes and for mrk-fake-key-id.
func TestIdentifiersInvalidKeyID(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	before := e.snapshot(id)
	for _, in := range []string{
		"fake-key-id",
		"134f2428cec14b25a1ae9048164dba47",
		"mrk-fake-key-id",
		"mrk-" + strings.Repeat("a", 31),
		"mrk-" + strings.Repeat("a", 33),
		"mrk-" + strings.Repeat("g", 32),
		strings.Replace(id, "-", "_", 1),
		id[:35],
		id + "0",
		"1234abcd-12ab-34cd-56ef-1234567890aG",
		"key/" + id,
		" " + id,
	} {
		for _, c := range []struct {
			op   keystate.Operation
			call func() error
		}{
			{keystate.DescribeKey, func() error { _, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: in}); return err }},
			{keystate.RotateKeyOnDemand, func() error {
				_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: in})
				return err
			}},
			{keystate.GetKeyRotationStatus, func() error {
				_, err := e.s.GetKeyRotationStatus(e.ctx, &kms.GetKeyRotationStatusInput{KeyId: in})
				return err
			}},
		} {
			fxCheckErr(t, c.call(), fxWant{Code: keystate.ErrNotFound, Op: c.op, KeyID: in, Msg: "Invalid keyId '" + in + "'"})
		}
	}
	e.unchanged(id, before)
}

// Recording row 1c and D19: a well-formed ID or ARN of a key that does not
// exist → "Key '<arn>' does not exist", a bare ID expanded to an ARN in the
// caller's Region and account; the same for an mrk- ID. Row 1d': a bare ID
// is resolved in the caller's account.
func TestIdentifiersUnknownKey(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	before := e.snapshot(id)
	mrk := "mrk-" + strings.Repeat("0f", 16)
	for _, c := range []struct {
		ctxAccount, in, arn string
	}{
		{fxAccount, fxMissingID, fxARN(fxMissingID)},
		{fxAccount, fxARN(fxMissingID), fxARN(fxMissingID)},
		{fxAccount, mrk, fxARN(mrk)},
		{fxAccount, fxARN(mrk), fxARN(mrk)},
		{fxAccount, strings.ToUpper(fxMissingID), fxARN(strings.ToUpper(fxMissingID))},
		// Another account's caller naming our key by bare ID looks in its own account.
		{fxOther, id, fxARNIn(fxOther, id)},
	} {
		_, err := e.s.DescribeKey(e.as(c.ctxAccount), &kms.DescribeKeyInput{KeyId: c.in})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: c.arn, Msg: fxNotExist(c.arn)})
		_, err = e.s.RotateKeyOnDemand(e.as(c.ctxAccount), &kms.RotateKeyOnDemandInput{KeyId: c.in})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.RotateKeyOnDemand, KeyID: c.arn, Msg: fxNotExist(c.arn)})
	}
	e.unchanged(id, before)
}

// Recording row 1d and D19: a key ARN of another Region → NotFoundException
// "Invalid arn <that region>" (the ARN's Region), on every operation.
func TestIdentifiersOtherRegion(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	before := e.snapshot(id)
	for _, region := range []string{"us-west-2", "eu-central-1"} {
		in := "arn:aws:kms:" + region + ":" + fxAccount + ":key/" + id
		for _, c := range fxKeyOps {
			if c.op == keystate.CreateAlias || c.op == keystate.ListAliases {
				continue
			}
			fxCheckErr(t, c.call(e.ctx, e.s, in), fxWant{Code: keystate.ErrNotFound, Op: c.op, KeyID: in, Msg: "Invalid arn " + region})
		}
		_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: in})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: in, Msg: "Invalid arn " + region})
	}
	e.unchanged(id, before)
}

// Decision D4: a string that starts with "arn:" but is not a valid KMS key
// or alias ARN → InvalidArnException (KeyID is the input; no key state).
func TestIdentifiersMalformedARN(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	before := e.snapshot(id)
	for _, in := range []string{
		"arn:",
		"arn:aws",
		"arn:aws:kms",
		"arn:aws:kms:us-east-1",
		"arn:aws:kms:us-east-1:" + fxAccount,
		"arn:aws:kms:us-east-1:" + fxAccount + ":",
		"arn:aws:kms:us-east-1:" + fxAccount + ":key/",
		"arn:aws:kms:us-east-1:" + fxAccount + ":alias/",
		"arn:aws:kms:us-east-1:" + fxAccount + ":grant/" + id,
		"arn:aws:kms:us-east-1:" + fxAccount + ":" + id,
		"arn:aws:s3:us-east-1:" + fxAccount + ":key/" + id,
		"arn:aws:iam::" + fxAccount + ":root",
		"arn:nope:kms:us-east-1:" + fxAccount + ":key/" + id,
		"arn:aws:kms::" + fxAccount + ":key/" + id,
		"arn:aws:kms:US-EAST-1:" + fxAccount + ":key/" + id,
		"arn:aws:kms:us-east-1:1111:key/" + id,
		"arn:aws:kms:us-east-1:11112222333x:key/" + id,
		"arn:aws:kms:us-east-1::key/" + id,
		"ARN:aws:kms:us-east-1:" + fxAccount + ":key/" + id + "x", // not "arn:": a bare ID
	} {
		for _, c := range []struct {
			op   keystate.Operation
			call func() error
		}{
			{keystate.DescribeKey, func() error { _, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: in}); return err }},
			{keystate.RotateKeyOnDemand, func() error {
				_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: in})
				return err
			}},
			{keystate.ListKeyRotations, func() error {
				_, err := e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: in})
				return err
			}},
		} {
			err := c.call()
			if !strings.HasPrefix(in, "arn:") {
				fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: c.op, KeyID: in, Msg: "Invalid keyId '" + in + "'"})
				continue
			}
			fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidArn, Op: c.op, KeyID: in, AnyMsg: true})
		}
	}
	e.unchanged(id, before)
}

// The other partitions are valid ARNs: an ARN of another partition names a
// key this service (partition aws) cannot hold, so it is not found.
func TestIdentifiersOtherPartition(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	before := e.snapshot(id)
	in := "arn:aws-cn:kms:us-east-1:" + fxAccount + ":key/" + id
	_, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: in})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DescribeKey, KeyID: in, AnyMsg: true})
	_, err = e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: in})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.RotateKeyOnDemand, KeyID: in, AnyMsg: true})
	e.unchanged(id, before)
}

// e.3: key ID or key ARN both work on the ID-only operations, and the
// responses name the key by ARN (recording row 3j, 7b).
func TestIdentifiersIDAndARNEquivalent(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	for _, in := range []string{id, arn} {
		out, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: in})
		if err != nil || out.KeyId != arn {
			t.Fatalf("RotateKeyOnDemand(%s) = %+v, %v", in, out, err)
		}
		if st := e.status(in); st.KeyId != arn {
			t.Fatalf("GetKeyRotationStatus(%s).KeyId = %s", in, st.KeyId)
		}
		e.advance(1)
	}
	if n := len(e.rotations(arn)); n != 2 {
		t.Fatalf("%d rotations, want 2", n)
	}
}

// Each CreateKey and DescribeKey output is the caller's own: changing its
// algorithm list changes no other output (the outputs share one
// allocation with those strings and lists). Its CurrentKeyMaterialId
// (d.3: a symmetric key's; c.5: 64 hex characters) is the one
// ListKeyRotations calls CURRENT, and changes when a rotation completes
// (recording row 3j).
func TestIdentifiersMetadataOutputsAreIndependent(t *testing.T) {
	e := fxNew(t)
	created, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := created.KeyMetadata.KeyId
	described := e.describe(id)
	created.KeyMetadata.EncryptionAlgorithms[0] = "CHANGED"
	other := e.create(&kms.CreateKeyInput{})
	for _, m := range []kms.KeyMetadata{described, e.describe(id), other, e.describe(other.KeyId)} {
		if len(m.EncryptionAlgorithms) != 1 || m.EncryptionAlgorithms[0] != "SYMMETRIC_DEFAULT" {
			t.Fatalf("EncryptionAlgorithms of %s = %q", m.KeyId, m.EncryptionAlgorithms)
		}
	}
	current := func() string {
		t.Helper()
		all, err := fxAllRotations(e.ctx, e.s, id, "ALL_KEY_MATERIAL", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all {
			if r.KeyMaterialState == "CURRENT" {
				return r.KeyMaterialId
			}
		}
		t.Fatal("no CURRENT material")
		return ""
	}
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	first := e.describe(id).CurrentKeyMaterialId
	if !hex64.MatchString(first) || first != described.CurrentKeyMaterialId || first != current() || first == other.CurrentKeyMaterialId {
		t.Fatalf("material IDs: created %q, described %q, listed %q, other key %q", created.KeyMetadata.CurrentKeyMaterialId, first, current(), other.CurrentKeyMaterialId)
	}
	e.rotate(id)
	second := e.describe(id).CurrentKeyMaterialId
	if !hex64.MatchString(second) || second == first || second != current() || described.CurrentKeyMaterialId != first {
		t.Fatalf("after a rotation: described %q (before %q), listed %q", second, first, current())
	}
}

// e.3: a key's ARN is arn:aws:kms:<region>:<account>:key/<id> and names
// its own account and Region, whichever account and Region created it,
// whether or not the key is multi-Region, and a replica names its Region,
// not its primary's (d.3 MultiRegionConfiguration): in CreateKey's and
// DescribeKey's output, in ListKeys, and in the errors naming the key
// (D19, recording row 3c: "<key ARN> is disabled.").
func TestIdentifiersARNsNameTheKeysAccountAndRegion(t *testing.T) {
	e := fxNew(t, kms.WithRegions("eu-west-1"))
	const other = "444455556666"
	for _, account := range []string{fxAccount, other} {
		for _, region := range []string{fxRegion, "eu-west-1"} {
			for _, multi := range []bool{false, true} {
				ctx := kms.WithCallerRegion(kms.WithCaller(e.ctx, account), region)
				out, err := e.s.CreateKey(ctx, &kms.CreateKeyInput{MultiRegion: multi})
				if err != nil {
					t.Fatal(err)
				}
				id := out.KeyMetadata.KeyId
				want := "arn:aws:kms:" + region + ":" + account + ":key/" + id
				if out.KeyMetadata.Arn != want {
					t.Fatalf("CreateKey in %s for %s: Arn %q, want %q", region, account, out.KeyMetadata.Arn, want)
				}
				d, err := e.s.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
				if err != nil || d.KeyMetadata.Arn != want {
					t.Fatalf("DescribeKey in %s for %s: %+v, %v; want Arn %q", region, account, d, err, want)
				}
				list, err := e.s.ListKeys(ctx, &kms.ListKeysInput{Limit: kms.Int32(1000)})
				if err != nil || list.Keys[len(list.Keys)-1] != (kms.KeyListEntry{KeyArn: want, KeyId: id}) {
					t.Fatalf("ListKeys in %s for %s: %+v, %v; want last %q", region, account, list, err, want)
				}
				if _, err := e.s.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id}); err != nil {
					t.Fatal(err)
				}
				var ke *keystate.Error
				if _, err := e.s.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id}); !errors.As(err, &ke) || ke.KeyID != want ||
					!errors.Is(err, keystate.ErrDisabled) || ke.Message != want+" is disabled." {
					t.Fatalf("RotateKeyOnDemand of a disabled key in %s for %s: %v, want DisabledException %q", region, account, err, want+" is disabled.")
				}
				if multi && region == fxRegion {
					if _, err := e.s.EnableKey(ctx, &kms.EnableKeyInput{KeyId: id}); err != nil {
						t.Fatal(err)
					}
					if _, err := e.s.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: "eu-west-1"}); err != nil {
						t.Fatal(err)
					}
					rctx := kms.WithCallerRegion(kms.WithCaller(e.ctx, account), "eu-west-1")
					r, err := e.s.DescribeKey(rctx, &kms.DescribeKeyInput{KeyId: id})
					if replica := "arn:aws:kms:eu-west-1:" + account + ":key/" + id; err != nil || r.KeyMetadata.Arn != replica {
						t.Fatalf("replica in eu-west-1: %+v, %v; want Arn %q", r, err, replica)
					}
					p, err := e.s.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
					if err != nil || p.KeyMetadata.Arn != want {
						t.Fatalf("primary after ReplicateKey: %+v, %v; want Arn %q", p, err, want)
					}
				}
			}
		}
	}
}
