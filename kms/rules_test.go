package kms_test

// Rule profiles (issue 16): Rules2024 by default, RulesCurrent on request.
// Under RulesCurrent a symmetric EXTERNAL key holds several imported
// materials (spec section (g); decisions D36–D39). Helpers start with "ru".

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// ruMaterial returns a distinct 256-bit material for n.
func ruMaterial(n byte) []byte { return bytes.Repeat([]byte{n}, 32) }

// ruImport imports material into key id (in e's Region) with the given
// ImportType and KeyMaterialId, never expiring unless validTo is set.
func ruImport(t testing.TB, e *fxEnv, id string, material []byte, typ, matID string, desc *string, validTo *time.Time) (*kms.ImportKeyMaterialOutput, error) {
	t.Helper()
	p, err := e.s.GetParametersForImport(e.ctx, &kms.GetParametersForImportInput{KeyId: id,
		WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
	if err != nil {
		t.Fatalf("GetParametersForImport(%s): %v", id, err)
	}
	in := &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: imWrap(t, p.PublicKey, "RSAES_OAEP_SHA_256", material),
		ImportType:           typ, KeyMaterialId: matID, KeyMaterialDescription: desc, ValidTo: validTo}
	if validTo == nil {
		in.ExpirationModel = "KEY_MATERIAL_DOES_NOT_EXPIRE"
	}
	return e.s.ImportKeyMaterial(e.ctx, in)
}

func ruMustImport(t testing.TB, e *fxEnv, id string, material []byte, typ, matID string) string {
	t.Helper()
	out, err := ruImport(t, e, id, material, typ, matID, nil, nil)
	if err != nil {
		t.Fatalf("ImportKeyMaterial(%s, %s, %s): %v", id, typ, matID, err)
	}
	return out.KeyMaterialId
}

// ruWantErr checks err is the AWS exception code, with a message
// containing msg.
func ruWantErr(t testing.TB, what string, err error, code error, msg string) {
	t.Helper()
	var ke *keystate.Error
	if !errors.Is(err, code) || !errors.As(err, &ke) || !strings.Contains(ke.Message, msg) {
		t.Fatalf("%s: err = %v, want %v containing %q", what, err, code, msg)
	}
}

// ruEntry is the part of a ListKeyRotations entry the tests compare.
type ruEntry struct {
	ID, State, Import, Model, Desc, Type string
}

func (e *fxEnv) ruList(id, include string) []ruEntry {
	e.t.Helper()
	all, err := fxAllRotations(e.ctx, e.s, id, include, 2)
	if err != nil {
		e.t.Fatalf("ListKeyRotations(%s, %s): %v", id, include, err)
	}
	var out []ruEntry
	for _, r := range all {
		out = append(out, ruEntry{r.KeyMaterialId, r.KeyMaterialState, r.ImportState, r.ExpirationModel, r.KeyMaterialDescription, r.RotationType})
		if r.RotationType == "" && r.RotationDate != nil || r.RotationType != "" && r.RotationDate == nil {
			e.t.Fatalf("entry %+v: RotationDate and RotationType go together", r)
		}
	}
	return out
}

func (e *fxEnv) ruWantList(id, include string, want ...ruEntry) {
	e.t.Helper()
	if got := e.ruList(id, include); !equalEntries(got, want) {
		e.t.Fatalf("ListKeyRotations(%s):\n got %+v\nwant %+v", include, got, want)
	}
}

func equalEntries(a, b []ruEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (e *fxEnv) ruRotate(id string) error {
	_, err := e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	return err
}

func (e *fxEnv) ruDelete(id, matID string) (string, error) {
	out, err := e.s.DeleteImportedKeyMaterial(e.ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: id, KeyMaterialId: matID})
	if err != nil {
		return "", err
	}
	return out.KeyMaterialId, nil
}

// TestRulesQuota: the on-demand quota is the profile's (10 under
// Rules2024, decision D1; 25 under RulesCurrent), and
// WithOnDemandRotationQuota overrides it whatever the option order (D36).
func TestRulesQuota(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []kms.Option
		want int
	}{
		{"default", nil, 10},
		{"2024", []kms.Option{kms.WithRules(kms.Rules2024)}, 10},
		{"current", []kms.Option{kms.WithRules(kms.RulesCurrent)}, 25},
		{"current then quota", []kms.Option{kms.WithRules(kms.RulesCurrent), kms.WithOnDemandRotationQuota(3)}, 3},
		{"quota then current", []kms.Option{kms.WithOnDemandRotationQuota(3), kms.WithRules(kms.RulesCurrent)}, 3},
		{"2024 with 25", []kms.Option{kms.WithOnDemandRotationQuota(25)}, 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := fxNew(t, tc.opts...)
			id, _ := e.symmetric()
			for i := range tc.want {
				if err := e.ruRotate(id); err != nil {
					t.Fatalf("rotation %d: %v", i+1, err)
				}
			}
			ruWantErr(t, "one more", e.ruRotate(id), keystate.ErrLimitExceeded, "on-demand rotations limit")
		})
	}
	if kms.Rules2024.OnDemandRotationQuota() != kms.DefaultOnDemandRotationQuota || kms.RulesCurrent.OnDemandRotationQuota() != 25 {
		t.Fatal("profile quotas")
	}
	for _, r := range []kms.Rules{kms.Rules2024, kms.RulesCurrent} {
		if got, err := kms.ParseRules(r.String()); err != nil || got != r {
			t.Fatalf("ParseRules(%q) = %v, %v", r.String(), got, err)
		}
	}
	if _, err := kms.ParseRules("2025"); err == nil {
		t.Fatal("ParseRules(2025) succeeded")
	}
}

// TestRules2024RefusesMaterialMembers: under the default profile
// ImportType, KeyMaterialId and KeyMaterialDescription are refused with
// UnsupportedOperationException and change nothing (decision D2), and
// RotateKeyOnDemand, ListKeyRotations and GetKeyRotationStatus of an
// EXTERNAL key stay refused by footnote [7] (D2a).
func TestRules2024RefusesMaterialMembers(t *testing.T) {
	e := fxNew(t)
	id, _ := e.external()
	ruMustImport(t, e, id, ruMaterial(1), "", "")
	before := e.snapshot(id)
	desc := "d"
	for _, tc := range []struct {
		typ, matID string
		desc       *string
		member     string
	}{
		{"NEW_KEY_MATERIAL", "", nil, "ImportType"},
		{"", strings.Repeat("a", 64), nil, "KeyMaterialId"},
		{"", "", &desc, "KeyMaterialDescription"},
	} {
		_, err := ruImport(t, e, id, ruMaterial(1), tc.typ, tc.matID, tc.desc, nil)
		ruWantErr(t, tc.member, err, keystate.ErrUnsupportedOperation, tc.member)
	}
	_, err := e.ruDelete(id, strings.Repeat("a", 64))
	ruWantErr(t, "Delete with KeyMaterialId", err, keystate.ErrUnsupportedOperation, "KeyMaterialId")
	e.unchanged(id, before)
	ruWantErr(t, "RotateKeyOnDemand", e.ruRotate(id), keystate.ErrUnsupportedOperation, "origin is EXTERNAL")
	_, err = e.s.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: id})
	ruWantErr(t, "ListKeyRotations", err, keystate.ErrUnsupportedOperation, "origin is EXTERNAL")
}

// TestRulesCurrentLifecycle: the first material (ImportType defaults to
// NEW_KEY_MATERIAL) makes the key Enabled; RotateKeyOnDemand with none
// pending is refused (recording 3f); new material waits in
// PENDING_ROTATION, a second one is refused (3f); the rotation makes it
// current, and every ciphertext decrypts; deleting an earlier material
// makes the key PendingImport, re-importing it by KeyMaterialId makes it
// usable again (D37, D38, D39).
func TestRulesCurrentLifecycle(t *testing.T) {
	e := fxNew(t, kms.WithRules(kms.RulesCurrent))
	id, arn := e.external()
	desc := "first"
	out, err := ruImport(t, e, id, ruMaterial(1), "", "", &desc, nil)
	if err != nil {
		t.Fatal(err)
	}
	m1 := out.KeyMaterialId
	if m := e.describe(id); m.KeyState != "Enabled" || m.CurrentKeyMaterialId != m1 {
		t.Fatalf("after the first import: %s %s", m.KeyState, m.CurrentKeyMaterialId)
	}
	c1 := imEncrypt(t, e.s, id, []byte("one"))
	ruWantErr(t, "rotate with nothing pending", e.ruRotate(id), keystate.ErrKMSInvalidState,
		"No available key material pending rotation for the key: "+arn+".")
	if st := e.status(id); st.KeyRotationEnabled || st.OnDemandRotationStartDate != nil {
		t.Fatalf("GetKeyRotationStatus of an EXTERNAL key: %+v (footnote [7] today)", st)
	}
	_, err = e.s.EnableKeyRotation(e.ctx, &kms.EnableKeyRotationInput{KeyId: id})
	ruWantErr(t, "EnableKeyRotation", err, keystate.ErrUnsupportedOperation, "origin is EXTERNAL")

	// The default after the first import is EXISTING_KEY_MATERIAL: a new
	// material is refused without NEW_KEY_MATERIAL.
	_, err = ruImport(t, e, id, ruMaterial(2), "", "", nil, nil)
	ruWantErr(t, "new material as EXISTING", err, keystate.ErrIncorrectKeyMaterial, "not the key material")
	desc2 := "second"
	out, err = ruImport(t, e, id, ruMaterial(2), "NEW_KEY_MATERIAL", "", &desc2, nil)
	if err != nil {
		t.Fatal(err)
	}
	m2 := out.KeyMaterialId
	if m := e.describe(id); m.KeyState != "Enabled" || m.CurrentKeyMaterialId != m1 {
		t.Fatalf("after NEW_KEY_MATERIAL: %s %s, want the old current", m.KeyState, m.CurrentKeyMaterialId)
	}
	_, err = ruImport(t, e, id, ruMaterial(3), "NEW_KEY_MATERIAL", "", nil, nil)
	ruWantErr(t, "a second pending", err, keystate.ErrKMSInvalidState,
		"New key material (id: ") // recording 3f
	_, err = ruImport(t, e, id, ruMaterial(1), "NEW_KEY_MATERIAL", "", nil, nil)
	ruWantErr(t, "an associated material as new", err, keystate.ErrIncorrectKeyMaterial, "already associated")
	e.ruWantList(id, "ALL_KEY_MATERIAL",
		ruEntry{m1, "CURRENT", "IMPORTED", "KEY_MATERIAL_DOES_NOT_EXPIRE", "first", ""},
		ruEntry{m2, "PENDING_ROTATION", "IMPORTED", "KEY_MATERIAL_DOES_NOT_EXPIRE", "second", ""})
	e.ruWantList(id, "ROTATIONS_ONLY")

	if err := e.ruRotate(id); err != nil {
		t.Fatal(err)
	}
	if m := e.describe(id); m.CurrentKeyMaterialId != m2 {
		t.Fatalf("after the rotation CurrentKeyMaterialId = %s, want %s", m.CurrentKeyMaterialId, m2)
	}
	c2 := imEncrypt(t, e.s, id, []byte("two"))
	imDecrypt(t, e.s, c1, []byte("one"))
	imDecrypt(t, e.s, c2, []byte("two"))
	e.ruWantList(id, "ALL_KEY_MATERIAL",
		ruEntry{m1, "NON_CURRENT", "IMPORTED", "KEY_MATERIAL_DOES_NOT_EXPIRE", "first", ""},
		ruEntry{m2, "CURRENT", "IMPORTED", "KEY_MATERIAL_DOES_NOT_EXPIRE", "second", "ON_DEMAND"})
	e.ruWantList(id, "",
		ruEntry{m2, "CURRENT", "IMPORTED", "KEY_MATERIAL_DOES_NOT_EXPIRE", "second", "ON_DEMAND"})

	// Deleting the earlier material: PendingImport (D38), nothing decrypts.
	if got, err := e.ruDelete(id, m1); err != nil || got != m1 {
		t.Fatalf("DeleteImportedKeyMaterial(m1) = %s, %v", got, err)
	}
	if m := e.describe(id); m.KeyState != "PendingImport" || m.CurrentKeyMaterialId != m2 {
		t.Fatalf("after deleting m1: %s %s", m.KeyState, m.CurrentKeyMaterialId)
	}
	_, err = e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: c2})
	ruWantErr(t, "Decrypt in PendingImport", err, keystate.ErrKMSInvalidState, "pending import")
	e.ruWantList(id, "ALL_KEY_MATERIAL",
		ruEntry{m1, "NON_CURRENT", "PENDING_IMPORT", "", "first", ""},
		ruEntry{m2, "CURRENT", "IMPORTED", "KEY_MATERIAL_DOES_NOT_EXPIRE", "second", "ON_DEMAND"})
	// A wrong material under m1's ID is refused; m1 itself restores the key.
	_, err = ruImport(t, e, id, ruMaterial(9), "EXISTING_KEY_MATERIAL", m1, nil, nil)
	ruWantErr(t, "wrong material for an ID", err, keystate.ErrIncorrectKeyMaterial, "does not match")
	_, err = ruImport(t, e, id, ruMaterial(9), "EXISTING_KEY_MATERIAL", "", nil, nil)
	ruWantErr(t, "unknown material", err, keystate.ErrIncorrectKeyMaterial, "not the key material")
	ruMustImport(t, e, id, ruMaterial(1), "EXISTING_KEY_MATERIAL", m1)
	if m := e.describe(id); m.KeyState != "Enabled" {
		t.Fatalf("after re-importing m1: %s", m.KeyState)
	}
	imDecrypt(t, e.s, c1, []byte("one"))
	imDecrypt(t, e.s, c2, []byte("two"))

	// A pending material deleted is gone (D38): the key stays Enabled and
	// another may be imported.
	m3 := ruMustImport(t, e, id, ruMaterial(3), "NEW_KEY_MATERIAL", "")
	if got, err := e.ruDelete(id, m3); err != nil || got != m3 {
		t.Fatalf("DeleteImportedKeyMaterial(m3) = %s, %v", got, err)
	}
	if m := e.describe(id); m.KeyState != "Enabled" {
		t.Fatalf("after deleting the pending material: %s", m.KeyState)
	}
	if n := len(e.ruList(id, "ALL_KEY_MATERIAL")); n != 2 {
		t.Fatalf("%d entries after deleting the pending material, want 2", n)
	}
	_, err = e.ruDelete(id, m3)
	ruWantErr(t, "deleting a removed material", err, keystate.ErrNotFound, "is not associated")
	// The default deletion is the current material's.
	if got, err := e.ruDelete(id, ""); err != nil || got != m2 {
		t.Fatalf("DeleteImportedKeyMaterial() = %s, %v, want %s", got, err, m2)
	}
	if m := e.describe(id); m.KeyState != "PendingImport" {
		t.Fatalf("after deleting the current material: %s", m.KeyState)
	}
	ruMustImport(t, e, id, ruMaterial(2), "", "")
	imDecrypt(t, e.s, c2, []byte("two"))
}

// TestRulesCurrentRefusals: what ImportKeyMaterial and
// DeleteImportedKeyMaterial refuse under RulesCurrent, each changing
// nothing (decision D37, D38).
func TestRulesCurrentRefusals(t *testing.T) {
	e := fxNew(t, kms.WithRules(kms.RulesCurrent))
	id, _ := e.external()
	ruMustImport(t, e, id, ruMaterial(1), "", "")
	before := e.snapshot(id)
	long := strings.Repeat("x", 257)
	for _, tc := range []struct {
		name       string
		typ, matID string
		desc       *string
		code       error
		msg        string
	}{
		{"unknown ImportType", "OLD_KEY_MATERIAL", "", nil, keystate.ErrValidation, "importType"},
		{"KeyMaterialId with NEW", "NEW_KEY_MATERIAL", strings.Repeat("a", 64), nil, keystate.ErrValidation, "NEW_KEY_MATERIAL"},
		{"malformed KeyMaterialId", "", "xyz", nil, keystate.ErrValidation, "keyMaterialId"},
		{"long description", "", "", &long, keystate.ErrValidation, "keyMaterialDescription"},
		{"unknown KeyMaterialId", "EXISTING_KEY_MATERIAL", strings.Repeat("a", 64), nil, keystate.ErrIncorrectKeyMaterial, "does not match"},
	} {
		_, err := ruImport(t, e, id, ruMaterial(1), tc.typ, tc.matID, tc.desc, nil)
		ruWantErr(t, tc.name, err, tc.code, tc.msg)
	}
	_, err := e.ruDelete(id, strings.Repeat("b", 64))
	ruWantErr(t, "delete an unknown material", err, keystate.ErrNotFound, "is not associated")
	e.unchanged(id, before)

	// Asymmetric and HMAC keys hold one material: the members are refused.
	hm := e.create(&kms.CreateKeyInput{Origin: "EXTERNAL", KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"})
	_, err = ruImport(t, e, hm.KeyId, ruMaterial(1), "NEW_KEY_MATERIAL", "", nil, nil)
	ruWantErr(t, "ImportType on an HMAC key", err, keystate.ErrUnsupportedOperation, "only for symmetric")
}

// TestRulesCurrentExpiry: each material expires at its own ValidTo; an
// earlier version's expiry makes the key PendingImport, a pending
// material's removes it (D38); DescribeKey's ValidTo is the earliest of
// the permanently associated materials' (spec d.3).
func TestRulesCurrentExpiry(t *testing.T) {
	e := fxNew(t, kms.WithRules(kms.RulesCurrent))
	id, _ := e.external()
	v1 := fxT0.Add(10 * fxDay)
	if _, err := ruImport(t, e, id, ruMaterial(1), "", "", nil, &v1); err != nil {
		t.Fatal(err)
	}
	v2 := fxT0.Add(20 * fxDay)
	if _, err := ruImport(t, e, id, ruMaterial(2), "NEW_KEY_MATERIAL", "", nil, &v2); err != nil {
		t.Fatal(err)
	}
	if m := e.describe(id); m.ValidTo == nil || !m.ValidTo.Equal(v1) {
		t.Fatalf("ValidTo = %v, want %v (the pending material does not count)", m.ValidTo, v1)
	}
	if err := e.ruRotate(id); err != nil {
		t.Fatal(err)
	}
	if m := e.describe(id); m.ValidTo == nil || !m.ValidTo.Equal(v1) {
		t.Fatalf("ValidTo after rotation = %v, want the earliest, %v", m.ValidTo, v1)
	}
	v3 := fxT0.Add(5 * fxDay)
	if _, err := ruImport(t, e, id, ruMaterial(3), "NEW_KEY_MATERIAL", "", nil, &v3); err != nil {
		t.Fatal(err)
	}
	e.setClock(v3)
	if m := e.describe(id); m.KeyState != "Enabled" {
		t.Fatalf("after the pending material expired: %s", m.KeyState)
	}
	if n := len(e.ruList(id, "ALL_KEY_MATERIAL")); n != 2 {
		t.Fatalf("%d entries after the pending material expired, want 2", n)
	}
	e.setClock(v1)
	if m := e.describe(id); m.KeyState != "PendingImport" || m.CurrentKeyMaterialId == "" {
		t.Fatalf("after the first material expired: %s", m.KeyState)
	}
}

// TestRulesCurrentRotationInProgress: with a rotation duration, the
// pending material becomes current when the rotation completes; deleted
// meanwhile, it counts as permanently associated (decision D38).
func TestRulesCurrentRotationInProgress(t *testing.T) {
	e := fxNew(t, kms.WithRules(kms.RulesCurrent), kms.WithOnDemandRotationDuration(time.Minute))
	id, _ := e.external()
	m1 := ruMustImport(t, e, id, ruMaterial(1), "", "")
	m2 := ruMustImport(t, e, id, ruMaterial(2), "NEW_KEY_MATERIAL", "")
	if err := e.ruRotate(id); err != nil {
		t.Fatal(err)
	}
	ruWantErr(t, "a second rotation", e.ruRotate(id), keystate.ErrConflict, "already in progress")
	if m := e.describe(id); m.CurrentKeyMaterialId != m1 {
		t.Fatalf("during the rotation: current %s", m.CurrentKeyMaterialId)
	}
	if _, err := e.ruDelete(id, m2); err != nil {
		t.Fatal(err)
	}
	if m := e.describe(id); m.KeyState != "PendingImport" {
		t.Fatalf("after deleting the rotating material: %s, want PendingImport (D38)", m.KeyState)
	}
	e.advance(time.Minute)
	if m := e.describe(id); m.CurrentKeyMaterialId != m2 || m.KeyState != "PendingImport" {
		t.Fatalf("after the rotation: %s %s", m.KeyState, m.CurrentKeyMaterialId)
	}
	ruMustImport(t, e, id, ruMaterial(2), "", m2)
	if m := e.describe(id); m.KeyState != "Enabled" {
		t.Fatalf("after re-importing: %s", m.KeyState)
	}
}

// TestRulesCurrentMultiRegion: new material goes into the primary, then
// into every replica with EXISTING_KEY_MATERIAL; until then it is
// PENDING_MULTI_REGION_IMPORT_AND_ROTATION and RotateKeyOnDemand refuses
// (D38); the rotation moves primary and replica to it.
func TestRulesCurrentMultiRegion(t *testing.T) {
	e := fxNew(t, kms.WithRules(kms.RulesCurrent))
	pm := e.create(&kms.CreateKeyInput{Origin: "EXTERNAL", MultiRegion: true})
	id := pm.KeyId
	m1 := ruMustImport(t, e, id, ruMaterial(1), "", "")
	e.mrReplicate(id, mrWest)
	west := e.mrIn(mrWest)
	west.advance(time.Minute)
	if m := west.describe(id); m.KeyState != "PendingImport" || m.CurrentKeyMaterialId != m1 {
		t.Fatalf("new replica: %s %s", m.KeyState, m.CurrentKeyMaterialId)
	}
	_, err := ruImport(t, west, id, ruMaterial(2), "NEW_KEY_MATERIAL", "", nil, nil)
	ruWantErr(t, "NEW into a replica", err, keystate.ErrUnsupportedOperation, "primary key")
	ruMustImport(t, west, id, ruMaterial(1), "", "")
	if m := west.describe(id); m.KeyState != "Enabled" {
		t.Fatalf("replica after import: %s", m.KeyState)
	}
	m2 := ruMustImport(t, e, id, ruMaterial(2), "NEW_KEY_MATERIAL", "")
	e.ruWantList(id, "ALL_KEY_MATERIAL",
		ruEntry{m1, "CURRENT", "IMPORTED", "KEY_MATERIAL_DOES_NOT_EXPIRE", "", ""},
		ruEntry{m2, "PENDING_MULTI_REGION_IMPORT_AND_ROTATION", "IMPORTED", "KEY_MATERIAL_DOES_NOT_EXPIRE", "", ""})
	ruWantErr(t, "rotate before the replica has it", e.ruRotate(id), keystate.ErrKMSInvalidState, "every replica")
	ruMustImport(t, west, id, ruMaterial(2), "EXISTING_KEY_MATERIAL", m2)
	e.ruWantList(id, "ALL_KEY_MATERIAL",
		ruEntry{m1, "CURRENT", "IMPORTED", "KEY_MATERIAL_DOES_NOT_EXPIRE", "", ""},
		ruEntry{m2, "PENDING_ROTATION", "IMPORTED", "KEY_MATERIAL_DOES_NOT_EXPIRE", "", ""})
	c1 := imEncrypt(t, e.s, id, []byte("one"))
	if err := e.ruRotate(id); err != nil {
		t.Fatal(err)
	}
	for _, v := range []*fxEnv{e, west} {
		if m := v.describe(id); m.CurrentKeyMaterialId != m2 || m.KeyState != "Enabled" {
			t.Fatalf("after the rotation: %s %s", m.KeyState, m.CurrentKeyMaterialId)
		}
	}
	out, err := west.s.Decrypt(west.ctx, &kms.DecryptInput{CiphertextBlob: c1})
	if err != nil || string(out.Plaintext) != "one" {
		t.Fatalf("replica decrypts the primary's earlier ciphertext: %v", err)
	}
	// A replica made now knows both materials and needs both.
	e.mrReplicate(id, mrEU)
	eu := e.mrIn(mrEU)
	eu.advance(time.Minute)
	ruMustImport(t, eu, id, ruMaterial(2), "", "")
	if m := eu.describe(id); m.KeyState != "PendingImport" {
		t.Fatalf("replica with one of two materials: %s", m.KeyState)
	}
	ruMustImport(t, eu, id, ruMaterial(1), "", m1)
	if m := eu.describe(id); m.KeyState != "Enabled" {
		t.Fatalf("replica with both materials: %s", m.KeyState)
	}
}

// TestRulesStoreProfile: a store records its profile with the first write;
// Open under the other profile fails with ErrRulesMismatch, with
// store.Memory and boltstore alike, unless WithRulesUpgrade takes a 2024
// store to RulesCurrent (never back); materials and history survive a
// reopen (D36).
func TestRulesStoreProfile(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) func() store.Store
	}{
		{"memory", func(t *testing.T) func() store.Store {
			st := &ruUnclosable{store.NewMemory()}
			return func() store.Store { return st }
		}},
		{"boltstore", func(t *testing.T) func() store.Store {
			path := filepath.Join(t.TempDir(), "kms.db")
			return func() store.Store {
				st, err := boltstore.Open(path, nil)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reopen := tc.open(t)
			clk := kms.NewManualClock(fxT0)
			ctx := context.Background()
			open := func(opts ...kms.Option) (*kms.Service, error) {
				st := reopen()
				s, err := kms.Open(ctx, st, append([]kms.Option{kms.WithClock(clk)}, opts...)...)
				if err != nil {
					st.Close() // Open leaves a store it refuses open
				}
				return s, err
			}
			s, err := open() // Rules2024
			if err != nil {
				t.Fatal(err)
			}
			e := &fxEnv{t: t, s: s, clk: clk, ctx: ctx}
			id, _ := e.external()
			m1 := ruMustImport(t, e, id, ruMaterial(1), "", "")
			c1 := imEncrypt(t, s, id, []byte("one"))
			s.Close()

			if _, err := open(kms.WithRules(kms.RulesCurrent)); !errors.Is(err, kms.ErrRulesMismatch) ||
				!strings.Contains(err.Error(), "WithRulesUpgrade") {
				t.Fatalf("Open under RulesCurrent: %v, want ErrRulesMismatch", err)
			}
			s, err = open(kms.WithRules(kms.RulesCurrent), kms.WithRulesUpgrade())
			if err != nil {
				t.Fatalf("Open with WithRulesUpgrade: %v", err)
			}
			e.s = s
			m2 := ruMustImport(t, e, id, ruMaterial(2), "NEW_KEY_MATERIAL", "")
			if err := e.ruRotate(id); err != nil {
				t.Fatal(err)
			}
			m3 := ruMustImport(t, e, id, ruMaterial(3), "NEW_KEY_MATERIAL", "")
			c2 := imEncrypt(t, s, id, []byte("two"))
			before := e.ruList(id, "ALL_KEY_MATERIAL")
			s.Close()

			if _, err := open(); !errors.Is(err, kms.ErrRulesMismatch) {
				t.Fatalf("Open under Rules2024 of a current store: %v", err)
			}
			if _, err := open(kms.WithRulesUpgrade()); !errors.Is(err, kms.ErrRulesMismatch) {
				t.Fatalf("Open under Rules2024 with WithRulesUpgrade: %v (no way back, D36)", err)
			}
			s, err = open(kms.WithRules(kms.RulesCurrent))
			if err != nil {
				t.Fatal(err)
			}
			e.s = s
			if got := e.ruList(id, "ALL_KEY_MATERIAL"); !equalEntries(got, before) || len(got) != 3 ||
				got[0].ID != m1 || got[1].ID != m2 || got[2].ID != m3 {
				t.Fatalf("after reopen:\n got %+v\nwant %+v", got, before)
			}
			imDecrypt(t, s, c1, []byte("one"))
			imDecrypt(t, s, c2, []byte("two"))
			s.Close()
		})
	}
}

// TestRulesNewStoreTakesAnyProfile: an empty store has no profile, so a
// service of either profile opens it; a written one records it.
func TestRulesNewStoreTakesAnyProfile(t *testing.T) {
	for _, r := range []kms.Rules{kms.Rules2024, kms.RulesCurrent} {
		st := store.NewMemory()
		s, err := kms.Open(context.Background(), st, kms.WithRules(r), kms.WithClock(kms.NewManualClock(fxT0)))
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		if _, err := s.CreateKey(context.Background(), &kms.CreateKeyInput{}); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.RuleProfile(context.Background()); got != r.String() {
			t.Fatalf("recorded profile %q, want %q", got, r)
		}
		if s.Rules() != r {
			t.Fatalf("Rules() = %v", s.Rules())
		}
	}
}

// ruUnclosable keeps a Memory store's content across a service's Close.
type ruUnclosable struct{ store.Store }

func (ruUnclosable) Close() error { return nil }
