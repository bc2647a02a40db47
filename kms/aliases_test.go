package kms_test

// Tests of aliases: CreateAlias, UpdateAlias, DeleteAlias and ListAliases
// (key-state table a.2 with footnote [10]; decisions D5, D7, D16, D19;
// real-aws-recordings.md rows 10a and 10b).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// fxAliases lists every alias of the caller (all pages), optionally of one
// key, leaving out the predefined aliases of D72 (see allAliases).
func (e *fxEnv) aliases(keyID string, limit int32) []kms.AliasListEntry {
	e.t.Helper()
	return fxOwnAliases(e.allAliases(keyID, limit))
}

// fxOwnAliases returns the entries of as that are not predefined aliases.
func fxOwnAliases(as []kms.AliasListEntry) []kms.AliasListEntry {
	var own []kms.AliasListEntry
	for _, a := range as {
		if !fxPredefined(a) {
			own = append(own, a)
		}
	}
	return own
}

// fxPredefined reports whether a is a predefined alias without a target
// (D72): an alias/aws/ name with an ARN and nothing else.
func fxPredefined(a kms.AliasListEntry) bool {
	return strings.HasPrefix(a.AliasName, "alias/aws/") && a.TargetKeyId == "" &&
		a.CreationDate == nil && a.LastUpdatedDate == nil && a.AliasArn != ""
}

// allAliases lists every alias of the caller (all pages), optionally of
// one key, as ListAliases does: predefined aliases included.
func (e *fxEnv) allAliases(keyID string, limit int32) []kms.AliasListEntry {
	e.t.Helper()
	var all []kms.AliasListEntry
	marker := ""
	for {
		in := &kms.ListAliasesInput{KeyId: keyID, Marker: marker}
		if limit != 0 {
			in.Limit = kms.Int32(limit)
		}
		out, err := e.s.ListAliases(e.ctx, in)
		if err != nil {
			e.t.Fatalf("ListAliases: %v", err)
		}
		if limit != 0 && len(out.Aliases) > int(limit) {
			e.t.Fatalf("page of %d aliases, Limit %d", len(out.Aliases), limit)
		}
		all = append(all, out.Aliases...)
		if !out.Truncated {
			if out.NextMarker != "" {
				e.t.Fatalf("NextMarker %q on a page that is not truncated", out.NextMarker)
			}
			return all
		}
		marker = out.NextMarker
	}
}

func fxAliasNames(as []kms.AliasListEntry) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.AliasName)
	}
	return out
}

// Recording row 10b (success cases: create, list, update retargets, delete).
func TestAliasesLifecycle(t *testing.T) {
	e := fxNew(t)
	a, _ := e.symmetric()
	b, arnB := e.symmetric()
	created := e.advance(time.Minute)
	e.createAlias("alias/fx-app", a)

	got := e.aliases("", 0)
	if len(got) != 1 {
		t.Fatalf("ListAliases = %+v", got)
	}
	want := kms.AliasListEntry{AliasArn: fxAliasARN("alias/fx-app"), AliasName: "alias/fx-app", TargetKeyId: a}
	if g := got[0]; g.AliasArn != want.AliasArn || g.AliasName != want.AliasName || g.TargetKeyId != want.TargetKeyId ||
		g.CreationDate == nil || !g.CreationDate.Equal(created) || g.LastUpdatedDate == nil || !g.LastUpdatedDate.Equal(created) {
		t.Fatalf("entry = %+v, want %+v created %v", g, want, created)
	}

	updated := e.advance(time.Hour)
	if _, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/fx-app", TargetKeyId: arnB}); err != nil {
		t.Fatal(err)
	}
	got = e.aliases("", 0)
	if g := got[0]; g.TargetKeyId != b || !g.CreationDate.Equal(created) || !g.LastUpdatedDate.Equal(updated) {
		t.Fatalf("after UpdateAlias: %+v, want target %s, created %v, updated %v", g, b, created, updated)
	}
	if m := e.describe("alias/fx-app"); m.KeyId != b {
		t.Fatalf("alias/fx-app → %s, want %s", m.KeyId, b)
	}
	if n := len(e.aliases(a, 0)); n != 0 {
		t.Fatalf("old target still has %d aliases", n)
	}
	if n := len(e.aliases(b, 0)); n != 1 {
		t.Fatalf("new target has %d aliases", n)
	}

	if _, err := e.s.DeleteAlias(e.ctx, &kms.DeleteAliasInput{AliasName: "alias/fx-app"}); err != nil {
		t.Fatal(err)
	}
	if got := e.aliases("", 0); len(got) != 0 {
		t.Fatalf("after DeleteAlias: %+v", got)
	}
	if m := e.describe(b); m.KeyState != "Enabled" {
		t.Fatalf("DeleteAlias changed the key: %+v", m)
	}
	beforeA, beforeB := e.snapshot(a), e.snapshot(b)
	_, err := e.s.DeleteAlias(e.ctx, &kms.DeleteAliasInput{AliasName: "alias/fx-app"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DeleteAlias, KeyID: fxAliasARN("alias/fx-app"), AnyMsg: true})
	_, err = e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/fx-app", TargetKeyId: a})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.UpdateAlias, KeyID: fxAliasARN("alias/fx-app"), AnyMsg: true})
	e.unchanged(a, beforeA)
	e.unchanged(b, beforeB)
}

// ListAliases pages by name, Limit (1–100, default 50) at a time, with and
// without KeyId; markers are per listing (D14's rule, applied to aliases).
func TestAliasesListPaging(t *testing.T) {
	e := fxNew(t)
	a, _ := e.symmetric()
	b, _ := e.symmetric()
	var all, ofA []string
	for i := range 60 {
		name := fmt.Sprintf("alias/fx-%02d", 59-i) // created in reverse order
		target := b
		if i%3 == 0 {
			target = a
		}
		e.createAlias(name, target)
	}
	for i := range 60 {
		name := fmt.Sprintf("alias/fx-%02d", i)
		all = append(all, name)
		if (59-i)%3 == 0 {
			ofA = append(ofA, name)
		}
	}
	for _, lim := range []int32{0, 1, 7, 50, 100} {
		if got := fxAliasNames(e.aliases("", lim)); strings.Join(got, ",") != strings.Join(all, ",") {
			t.Fatalf("Limit %d: %v\nwant %v", lim, got, all)
		}
		if got := fxAliasNames(e.aliases(a, lim)); strings.Join(got, ",") != strings.Join(ofA, ",") {
			t.Fatalf("KeyId, Limit %d: %v\nwant %v", lim, got, ofA)
		}
	}
	first, err := e.s.ListAliases(e.ctx, nil)
	if err != nil || len(first.Aliases) != 50 || !first.Truncated || first.NextMarker == "" {
		t.Fatalf("default page: %d aliases, %v, %q, %v; want 50, truncated", len(first.Aliases), first.Truncated, first.NextMarker, err)
	}
	ofAPage, err := e.s.ListAliases(e.ctx, &kms.ListAliasesInput{KeyId: a, Limit: kms.Int32(1)})
	if err != nil || !ofAPage.Truncated {
		t.Fatal(ofAPage, err)
	}
	beforeA, beforeB := e.snapshot(a), e.snapshot(b)
	defer e.unchanged(a, beforeA)
	defer e.unchanged(b, beforeB)
	for name, in := range map[string]*kms.ListAliasesInput{
		"a per-key marker without KeyId":  {Marker: ofAPage.NextMarker},
		"an unfiltered marker with KeyId": {KeyId: a, Marker: first.NextMarker},
		"another key's marker":            {KeyId: b, Marker: ofAPage.NextMarker},
		"garbage":                         {Marker: "garbage"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.s.ListAliases(e.ctx, in)
			fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidMarker, Op: keystate.ListAliases, AnyMsg: true})
		})
	}
	for _, lim := range []int32{0, 101} {
		c := "Member must have value greater than or equal to 1"
		if lim > 0 {
			c = "Member must have value less than or equal to 100"
		}
		_, err := e.s.ListAliases(e.ctx, &kms.ListAliasesInput{Limit: kms.Int32(lim)})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.ListAliases,
			Msg: fxValidation(fmt.Sprint(lim), "limit", c)})
	}
}

// Recording row 10a and D19: an alias name without the "alias/" prefix →
// ValidationException with the recorded message, on CreateAlias, and on
// UpdateAlias and DeleteAlias too; nothing changes.
func TestAliasesPrefixRequired(t *testing.T) {
	const msg = `Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`
	e := fxNew(t)
	id, _ := e.symmetric()
	e.createAlias("alias/fx", id)
	before := e.snapshot(id)
	for _, name := range []string{"fx", "fx/alias/x", "Alias/fx", "aliasfx"} {
		_, err := e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: name, TargetKeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.CreateAlias, Msg: msg})
		_, err = e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: name, TargetKeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.UpdateAlias, Msg: msg})
		_, err = e.s.DeleteAlias(e.ctx, &kms.DeleteAliasInput{AliasName: name})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.DeleteAlias, Msg: msg})
	}
	// Other malformed names (D16: the model's length and pattern).
	for _, name := range []string{"", "alias/" + strings.Repeat("a", 251), "alias/has space", "alias/é"} {
		_, err := e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: name, TargetKeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.CreateAlias, AnyMsg: true})
	}
	e.unchanged(id, before)
	e.createAlias("alias/"+strings.Repeat("a", 250), id) // 256 characters is allowed
}

// c.7 / D15: the alias/aws/ namespace is reserved for AWS managed keys
// (row 10b: no recording; kmsmodel answers InvalidAliasNameException).
func TestAliasesAWSPrefixReserved(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	before := e.snapshot(id)
	for _, name := range []string{"alias/aws/s3", "alias/aws/fx"} {
		_, err := e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: name, TargetKeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidAliasName, Op: keystate.CreateAlias, AnyMsg: true})
	}
	e.unchanged(id, before)
	e.createAlias("alias/awsfx", id) // only the alias/aws/ namespace is reserved
}

// CreateAlias with a name that exists → AlreadyExistsException; the alias
// keeps its target. Aliases are per account: another account may use the
// same name.
func TestAliasesAlreadyExists(t *testing.T) {
	e := fxNew(t)
	a, _ := e.symmetric()
	b, _ := e.symmetric()
	e.createAlias("alias/fx", a)
	beforeA, beforeB := e.snapshot(a), e.snapshot(b)
	for _, target := range []string{a, b} {
		_, err := e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: "alias/fx", TargetKeyId: target})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrAlreadyExists, Op: keystate.CreateAlias, KeyID: fxARN(target),
			State: keystate.Enabled, AnyMsg: true})
	}
	e.unchanged(a, beforeA)
	e.unchanged(b, beforeB)

	other := e.as(fxOther)
	out, err := e.s.CreateKey(other, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CreateAlias(other, &kms.CreateAliasInput{AliasName: "alias/fx", TargetKeyId: out.KeyMetadata.KeyId}); err != nil {
		t.Fatalf("another account's alias/fx: %v", err)
	}
	theirs, err := e.s.ListAliases(other, nil)
	if err != nil {
		t.Fatal(err)
	}
	if own := fxOwnAliases(theirs.Aliases); len(own) != 1 || own[0].TargetKeyId != out.KeyMetadata.KeyId ||
		own[0].AliasArn != "arn:aws:kms:us-east-1:"+fxOther+":alias/fx" {
		t.Fatalf("their aliases: %+v", theirs)
	}
	if m := e.describe("alias/fx"); m.KeyId != a {
		t.Fatalf("our alias/fx → %s, want %s", m.KeyId, a)
	}
}

// Footnote [10]: UpdateAlias succeeds when the alias's current (source) key
// is pending deletion, and fails with KMSInvalidStateException "<ARN> is
// pending deletion." when the destination key is.
func TestAliasesUpdateAliasPendingDeletion(t *testing.T) {
	t.Run("destination pending deletion", func(t *testing.T) {
		e := fxNew(t)
		src, _ := e.symmetric()
		dst, dstARN := e.symmetric()
		e.createAlias("alias/fx", src)
		e.scheduleDeletion(dst, 7)
		beforeSrc, beforeDst := e.snapshot(src), e.snapshot(dst)
		_, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/fx", TargetKeyId: dst})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.UpdateAlias, KeyID: dstARN,
			State: keystate.PendingDeletion, Msg: dstARN + " is pending deletion."})
		e.unchanged(src, beforeSrc)
		e.unchanged(dst, beforeDst)
	})
	t.Run("source pending deletion", func(t *testing.T) {
		e := fxNew(t)
		src, _ := e.symmetric()
		dst, _ := e.symmetric()
		e.createAlias("alias/fx", src)
		del := e.scheduleDeletion(src, 7)
		if _, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/fx", TargetKeyId: dst}); err != nil {
			t.Fatalf("UpdateAlias away from a pending-deletion key: %v", err)
		}
		// The alias now belongs to dst: it survives src's deletion (D7).
		e.setClock(del)
		if m := e.describe("alias/fx"); m.KeyId != dst {
			t.Fatalf("alias/fx → %s after the old target's deletion, want %s", m.KeyId, dst)
		}
	})
	t.Run("destination disabled", func(t *testing.T) {
		e := fxNew(t)
		src, _ := e.symmetric()
		dst, _ := e.symmetric()
		e.disable(dst)
		e.createAlias("alias/fx", src)
		if _, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/fx", TargetKeyId: dst}); err != nil {
			t.Fatalf("UpdateAlias to a Disabled key (✓): %v", err)
		}
	})
}

// Key-state table: CreateAlias ✗[3] on a pending-deletion key
// (KMSInvalidStateException "<ARN> is pending deletion."); ✓ on Disabled and
// PendingImport keys; DeleteAlias ✓ in every state.
func TestAliasesCreateAliasByState(t *testing.T) {
	e := fxNew(t)
	pend, pendARN := e.symmetric()
	e.createAlias("alias/fx-pending-old", pend)
	e.scheduleDeletion(pend, 7)
	before := e.snapshot(pend)
	_, err := e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: "alias/fx-pending", TargetKeyId: pend})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.CreateAlias, KeyID: pendARN,
		State: keystate.PendingDeletion, Msg: pendARN + " is pending deletion."})
	e.unchanged(pend, before)

	dis, _ := e.symmetric()
	e.disable(dis)
	e.createAlias("alias/fx-disabled", dis)
	ext, _ := e.external()
	e.createAlias("alias/fx-external", ext)

	if _, err := e.s.DeleteAlias(e.ctx, &kms.DeleteAliasInput{AliasName: "alias/fx-pending-old"}); err != nil {
		t.Fatalf("DeleteAlias of a pending-deletion key's alias (✓): %v", err)
	}
	if got := fxAliasNames(e.aliases("", 0)); strings.Join(got, ",") != "alias/fx-disabled,alias/fx-external" {
		t.Fatalf("aliases = %v", got)
	}
}

// Decision D5 for the alias operations' TargetKeyId: an alias is not a
// target; D6: another account's key is not visible.
func TestAliasesTargetMustBeKey(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	e.createAlias("alias/fx", id)
	before := e.snapshot(id)
	for _, target := range []string{"alias/fx", fxAliasARN("alias/fx")} {
		_, err := e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: "alias/fx-2", TargetKeyId: target})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.CreateAlias, KeyID: fxAliasARN("alias/fx"), AnyMsg: true})
		_, err = e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/fx", TargetKeyId: target})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.UpdateAlias, KeyID: fxAliasARN("alias/fx"), AnyMsg: true})
	}
	_, err := e.s.CreateAlias(e.as(fxOther), &kms.CreateAliasInput{AliasName: "alias/fx-2", TargetKeyId: arn})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.CreateAlias, KeyID: arn, Msg: fxNotExist(arn)})
	e.unchanged(id, before)
}

// Decision D7: a key's aliases go with it at DeletionDate; the alias of a
// retargeted name stays with its new key.
func TestAliasesRemovedWithKey(t *testing.T) {
	e := fxNew(t)
	a, _ := e.symmetric()
	b, _ := e.symmetric()
	e.createAlias("alias/fx-a1", a)
	e.createAlias("alias/fx-a2", a)
	e.createAlias("alias/fx-moved", a)
	e.createAlias("alias/fx-b", b)
	if _, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/fx-moved", TargetKeyId: b}); err != nil {
		t.Fatal(err)
	}
	del := e.scheduleDeletion(a, 7)
	e.setClock(del.Add(-1))
	if n := len(e.aliases("", 0)); n != 4 {
		t.Fatalf("%d aliases before DeletionDate, want 4", n)
	}
	e.setClock(del)
	if got := fxAliasNames(e.aliases("", 0)); strings.Join(got, ",") != "alias/fx-b,alias/fx-moved" {
		t.Fatalf("aliases after the deletion: %v", got)
	}
}

// UpdateAlias keeps an alias on keys of one type and usage: AWS's
// UpdateAlias page ("The current and new KMS key must be the same type …
// and they must have the same key usage"). The exception is not recorded;
// kmsmodel answers ValidationException.
func TestUpdateAliasSameTypeAndUsage(t *testing.T) {
	e := fxNew(t)
	sym, _ := e.symmetric()
	sym2, _ := e.symmetric()
	hmacKey, hmacARN := e.kindKey("HMAC_256", "GENERATE_VERIFY_MAC")
	rsaSign, _ := e.kindKey("RSA_2048", "SIGN_VERIFY")
	rsaEnc, _ := e.kindKey("RSA_2048", "ENCRYPT_DECRYPT")
	e.createAlias("alias/app", sym)
	if _, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/app", TargetKeyId: sym2}); err != nil {
		t.Fatalf("symmetric to symmetric: %v", err)
	}
	before := e.snapshot(sym2)
	_, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/app", TargetKeyId: hmacKey})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.UpdateAlias, KeyID: hmacARN, State: keystate.Enabled, AnyMsg: true})
	e.unchanged(sym2, before)
	e.createAlias("alias/signer", rsaSign)
	if _, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/signer", TargetKeyId: rsaEnc}); !errors.Is(err, keystate.ErrValidation) {
		t.Fatalf("SIGN_VERIFY to ENCRYPT_DECRYPT: %v, want ValidationException", err)
	}
}

// D72: ListAliases without a KeyId lists, besides the caller's aliases,
// AWS's predefined alias/aws/ names whose AWS managed key does not exist
// yet in the account and Region ("The response might also include aliases
// that have no TargetKeyId field. These are predefined aliases that AWS
// has created but has not yet associated with a KMS key." — the
// ListAliases API reference), each with its name and ARN only, in name
// order among the others; once used, the name is an ordinary alias of its
// AWS managed key. kms.WithoutPredefinedAliases leaves them out.
func TestDecisionD72PredefinedAliases(t *testing.T) {
	e := fxNew(t)
	predefined := e.allAliases("", 0)
	if len(predefined) == 0 {
		t.Fatal("a new account lists no predefined aliases")
	}
	var names []string
	for _, a := range predefined {
		if !fxPredefined(a) || a.AliasArn != fxAliasARN(a.AliasName) {
			t.Fatalf("entry of a new account: %+v, want an alias/aws/ name with its ARN only", a)
		}
		names = append(names, a.AliasName)
	}
	if !slices.IsSorted(names) || !slices.Contains(names, "alias/aws/s3") || !slices.Contains(names, "alias/aws/ebs") {
		t.Fatalf("predefined aliases %v, want alias/aws/s3 and alias/aws/ebs among them, in name order", names)
	}
	// Each is an AWS managed key's alias once used (aws-kms-behaviour.md d.1).
	for _, name := range names {
		if m := e.describe(name); m.KeyManager != "AWS" {
			t.Fatalf("DescribeKey %s: %+v, want an AWS managed key", name, m)
		}
	}
	if own := e.aliases("", 0); len(own) != len(names) {
		t.Fatalf("after their first use, %d of %d predefined aliases have a target", len(own), len(names))
	}

	// In a fresh service: merged with the caller's own in name order,
	// through pages of any size; never with a KeyId.
	e = fxNew(t)
	k, _ := e.symmetric()
	e.createAlias("alias/app", k)  // before every alias/aws/ name
	e.createAlias("alias/aws0", k) // after them: '0' sorts after '/'
	e.createAlias("alias/zzz", k)
	s3 := e.describe("alias/aws/s3")
	want := append(append([]string{"alias/app"}, names...), "alias/aws0", "alias/zzz")
	for _, lim := range []int32{0, 1, 7, 100} {
		all := e.allAliases("", lim)
		if got := fxAliasNames(all); !slices.Equal(got, want) {
			t.Fatalf("Limit %d: %v\nwant %v", lim, got, want)
		}
		for _, a := range all {
			if own := !fxPredefined(a); own != (a.AliasName == "alias/aws/s3" || !strings.HasPrefix(a.AliasName, "alias/aws/")) {
				t.Fatalf("Limit %d: entry %+v", lim, a)
			}
			if a.AliasName == "alias/aws/s3" && a.TargetKeyId != s3.KeyId {
				t.Fatalf("alias/aws/s3 after its first use: %+v, want target %s", a, s3.KeyId)
			}
		}
	}
	if got := fxAliasNames(e.allAliases(k, 0)); !slices.Equal(got, []string{"alias/app", "alias/aws0", "alias/zzz"}) {
		t.Fatalf("ListAliases of one key: %v", got)
	}

	// Per account and Region: another account's, another partition's.
	var theirs []kms.AliasListEntry // entries that are not their predefined aliases
	out, err := e.s.ListAliases(e.as(fxOther), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range out.Aliases {
		if !fxPredefined(a) || a.AliasArn != "arn:aws:kms:us-east-1:"+fxOther+":"+a.AliasName {
			theirs = append(theirs, a)
		}
	}
	if len(theirs) != 0 || len(out.Aliases) != len(names) {
		t.Fatalf("another account's aliases: %+v", out.Aliases)
	}
	out, err = e.s.ListAliases(kms.WithCallerRegion(e.ctx, "cn-north-1"), nil)
	if err != nil || len(out.Aliases) != len(names) || out.Aliases[0].AliasArn != "arn:aws-cn:kms:cn-north-1:"+fxAccount+":"+names[0] {
		t.Fatalf("aliases in cn-north-1: %+v, %v", out, err)
	}

	// Without them.
	e = fxNew(t, kms.WithoutPredefinedAliases())
	if got := e.allAliases("", 0); len(got) != 0 {
		t.Fatalf("WithoutPredefinedAliases, a new account: %+v", got)
	}
	e.describe("alias/aws/s3")
	if got := fxAliasNames(e.allAliases("", 0)); !slices.Equal(got, []string{"alias/aws/s3"}) {
		t.Fatalf("WithoutPredefinedAliases, after alias/aws/s3's first use: %v", got)
	}
}

// ListAliases with a KeyId lists the caller's aliases of the key only,
// even when the store holds an alias of another account that names it
// (which no call makes; a store's content can).
func TestListAliasesKeyIdOwnAccountOnly(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	s, err := kms.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	if _, err := s.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/mine", TargetKeyId: id}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, name := range []string{"alias/theirs", "alias/mine"} {
		if err := st.Apply(ctx, &store.Batch{PutAliases: []store.Alias{{AliasID: store.AliasID{Account: "444455556666", Name: name},
			KeyID: id, Created: now, Updated: now}}}); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := kms.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s2.ListAliases(ctx, &kms.ListAliasesInput{KeyId: id})
	if err != nil || len(l.Aliases) != 1 || l.Aliases[0].AliasName != "alias/mine" || l.Aliases[0].TargetKeyId != id {
		t.Fatalf("ListAliases(KeyId) = %+v, %v; want alias/mine alone", l, err)
	}
}
