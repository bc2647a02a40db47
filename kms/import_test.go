package kms_test

// Imported key material (issue 5, under the 2024 rules: decision D2).
// Material is wrapped here exactly as a real client wraps it: RSA-OAEP of
// the material (RSAES_OAEP_SHA_*), or RSA-OAEP of an ephemeral AES key
// followed by the material under AES key wrap with padding, RFC 5649
// (RSA_AES_KEY_WRAP_SHA_*). Helpers start with "im".

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// imMaterial is a fixed 256-bit material; imOther another one.
var (
	imMaterial = bytes.Repeat([]byte{0x5a}, 32)
	imOther    = bytes.Repeat([]byte{0xa5}, 32)
)

// imParams calls GetParametersForImport, which must succeed.
func imParams(t testing.TB, s *kms.Service, id, alg, spec string) *kms.GetParametersForImportOutput {
	t.Helper()
	out, err := s.GetParametersForImport(context.Background(), &kms.GetParametersForImportInput{
		KeyId: id, WrappingAlgorithm: alg, WrappingKeySpec: spec})
	if err != nil {
		t.Fatalf("GetParametersForImport(%s, %s, %s): %v", id, alg, spec, err)
	}
	return out
}

// imWrap wraps material under the DER public key with algorithm, as an AWS
// client does.
func imWrap(t testing.TB, der []byte, alg string, material []byte) []byte {
	t.Helper()
	pk, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatalf("PublicKey is not DER SubjectPublicKeyInfo: %v", err)
	}
	pub, ok := pk.(*rsa.PublicKey)
	if !ok {
		t.Fatalf("PublicKey is a %T, want RSA", pk)
	}
	var h hash.Hash
	if strings.HasSuffix(alg, "SHA_1") {
		h = sha1.New()
	} else {
		h = sha256.New()
	}
	if strings.HasPrefix(alg, "RSAES_OAEP") {
		ct, err := rsa.EncryptOAEP(h, rand.Reader, pub, material, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	kek := make([]byte, 32)
	if _, err := rand.Read(kek); err != nil {
		t.Fatal(err)
	}
	wrappedKEK, err := rsa.EncryptOAEP(h, rand.Reader, pub, kek, nil)
	if err != nil {
		t.Fatal(err)
	}
	return append(wrappedKEK, imKWP(t, kek, material)...)
}

// imKWP is AES key wrap with padding (RFC 5649), the client side.
func imKWP(t testing.TB, kek, p []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(kek)
	if err != nil {
		t.Fatal(err)
	}
	n := (len(p) + 7) / 8
	padded := make([]byte, 8*n)
	copy(padded, p)
	var a [8]byte
	copy(a[:], []byte{0xA6, 0x59, 0x59, 0xA6})
	binary.BigEndian.PutUint32(a[4:], uint32(len(p)))
	if n == 1 {
		out := make([]byte, 16)
		block.Encrypt(out, append(a[:], padded...))
		return out
	}
	var b [16]byte
	for j := 0; j <= 5; j++ {
		for i := 1; i <= n; i++ {
			copy(b[:8], a[:])
			copy(b[8:], padded[8*(i-1):8*i])
			block.Encrypt(b[:], b[:])
			binary.BigEndian.PutUint64(a[:], binary.BigEndian.Uint64(b[:8])^uint64(n*j+i))
			copy(padded[8*(i-1):], b[8:])
		}
	}
	return append(a[:], padded...)
}

// TestIMKeyWrapVectors checks the test's client-side key wrap against the
// examples of RFC 5649, section 6.
func TestIMKeyWrapVectors(t *testing.T) {
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	kek := unhex("5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8")
	for _, v := range []struct{ key, wrap string }{
		{"c37b7e6492584340 bed1220780894115 5068f738", "138bdeaa9b8fa7fc 61f97742e72248ee 5ae6ae5360d1ae6a 5f54f373fa543b6a"},
		{"466f7250617369", "afbeb0f07dfbf541 9200f2ccb50bb24f"},
	} {
		if got := imKWP(t, kek, unhex(v.key)); !bytes.Equal(got, unhex(v.wrap)) {
			t.Errorf("KWP(%s) = %x, want %s", v.key, got, v.wrap)
		}
	}
}

// imImport imports material into key id with a fresh token; validTo nil
// means KEY_MATERIAL_DOES_NOT_EXPIRE.
func imImport(t testing.TB, s *kms.Service, id, alg string, material []byte, validTo *time.Time) (*kms.ImportKeyMaterialOutput, error) {
	t.Helper()
	p := imParams(t, s, id, alg, "RSA_2048")
	in := &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: imWrap(t, p.PublicKey, alg, material)}
	if validTo == nil {
		in.ExpirationModel = "KEY_MATERIAL_DOES_NOT_EXPIRE"
	} else {
		in.ValidTo = validTo
	}
	return s.ImportKeyMaterial(context.Background(), in)
}

// imMustImport is imImport that must succeed.
func imMustImport(t testing.TB, s *kms.Service, id, alg string, material []byte, validTo *time.Time) *kms.ImportKeyMaterialOutput {
	t.Helper()
	out, err := imImport(t, s, id, alg, material, validTo)
	if err != nil {
		t.Fatalf("ImportKeyMaterial(%s, %s): %v", id, alg, err)
	}
	return out
}

func imEncrypt(t testing.TB, s *kms.Service, id string, pt []byte) []byte {
	t.Helper()
	out, err := s.Encrypt(context.Background(), &kms.EncryptInput{KeyId: id, Plaintext: pt})
	if err != nil {
		t.Fatalf("Encrypt(%s): %v", id, err)
	}
	return out.CiphertextBlob
}

func imDecrypt(t testing.TB, s *kms.Service, blob, want []byte) {
	t.Helper()
	out, err := s.Decrypt(context.Background(), &kms.DecryptInput{CiphertextBlob: blob})
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !bytes.Equal(out.Plaintext, want) {
		t.Fatalf("Decrypt = %q, want %q", out.Plaintext, want)
	}
}

func imTime(t time.Time) *time.Time { return &t }

// TestImportLifecycle: PendingImport → import → Enabled → encrypt → the
// material expires at ValidTo exactly → PendingImport, Encrypt refused
// (recording 6c) → import of the same material → the old ciphertext
// decrypts. RotateKeyOnDemand stays refused (decision D2).
func TestImportLifecycle(t *testing.T) {
	var events []kms.Event
	e := fxNew(t, kms.WithObserver(kms.ObserverFunc(func(ev kms.Event) { events = append(events, ev) })))
	id, arn := e.external()
	if m := e.describe(id); m.CurrentKeyMaterialId != "" || m.ExpirationModel != "" || m.ValidTo != nil {
		t.Fatalf("before import: %+v (recording 8b)", m)
	}
	validTo := fxT0.Add(30 * fxDay)
	out := imMustImport(t, e.s, id, "RSAES_OAEP_SHA_256", imMaterial, &validTo)
	if out.KeyId != arn || len(out.KeyMaterialId) != 64 {
		t.Fatalf("ImportKeyMaterial = %+v", out)
	}
	m := e.describe(id)
	if m.KeyState != "Enabled" || !m.Enabled || m.ExpirationModel != "KEY_MATERIAL_EXPIRES" ||
		m.CurrentKeyMaterialId != out.KeyMaterialId {
		t.Fatalf("after import: %+v", m)
	}
	fxTimeEq(t, "ValidTo", m.ValidTo, validTo)
	if next, ok := e.s.NextEventTime(); !ok || !next.Equal(validTo) {
		t.Fatalf("NextEventTime = %v, %v; want the expiry at %v", next, ok, validTo)
	}

	blob := imEncrypt(t, e.s, id, []byte("imported"))
	imDecrypt(t, e.s, blob, []byte("imported"))
	dk, err := e.s.GenerateDataKey(e.ctx, &kms.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256"})
	if err != nil {
		t.Fatal(err)
	}
	imDecrypt(t, e.s, dk.CiphertextBlob, dk.Plaintext)

	// D2: on-demand rotation of an EXTERNAL key stays refused.
	_, err = e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.RotateKeyOnDemand, KeyID: arn,
		State: keystate.Enabled, Msg: arn + " origin is EXTERNAL which is not valid for this operation."})

	e.setClock(validTo.Add(-time.Microsecond))
	if st := e.describe(id).KeyState; st != "Enabled" {
		t.Fatalf("1ns before ValidTo: %s", st)
	}
	e.setClock(validTo)
	m = e.describe(id)
	if m.KeyState != "PendingImport" || m.Enabled || m.ExpirationModel != "" || m.ValidTo != nil ||
		m.CurrentKeyMaterialId != out.KeyMaterialId {
		t.Fatalf("at ValidTo: %+v (recording 8b: the material ID stays)", m)
	}
	var expiry []kms.Event
	for _, ev := range events {
		if ev.Name == "DeleteExpiredKeyMaterial" {
			expiry = append(expiry, ev)
		}
		for k, v := range ev.Parameters {
			if strings.Contains(strings.ToLower(k), "token") || strings.Contains(strings.ToLower(k), "material") ||
				strings.Contains(v, string(imMaterial)) {
				t.Errorf("event %s carries %s=%q", ev.Name, k, v)
			}
		}
	}
	if len(expiry) != 1 || !expiry[0].Time.Equal(validTo) || !expiry[0].Scheduled || expiry[0].KeyARN != arn {
		t.Fatalf("expiry records = %+v", expiry)
	}

	// Recording 6c: pending import.
	_, err = e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.Encrypt, KeyID: arn,
		State: keystate.PendingImport, Msg: arn + " is pending import."})
	_, err = e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: blob})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.Decrypt, KeyID: arn,
		State: keystate.PendingImport, Msg: arn + " is pending import."})

	// The same material again, wrapped the other way, not expiring.
	again := imMustImport(t, e.s, id, "RSA_AES_KEY_WRAP_SHA_256", imMaterial, nil)
	if again.KeyMaterialId != out.KeyMaterialId {
		t.Fatalf("re-import of the same material: ID %s, want %s", again.KeyMaterialId, out.KeyMaterialId)
	}
	m = e.describe(id)
	if m.KeyState != "Enabled" || m.ExpirationModel != "KEY_MATERIAL_DOES_NOT_EXPIRE" || m.ValidTo != nil {
		t.Fatalf("after re-import: %+v", m)
	}
	imDecrypt(t, e.s, blob, []byte("imported"))
	imDecrypt(t, e.s, dk.CiphertextBlob, dk.Plaintext)
	e.advance(400 * fxDay)
	if st := e.describe(id).KeyState; st != "Enabled" {
		t.Fatalf("KEY_MATERIAL_DOES_NOT_EXPIRE material expired: %s", st)
	}
}

// TestImportWrappingAlgorithms: every modelled wrapping algorithm unwraps,
// and every wrapping key spec gives a public key of its size.
func TestImportWrappingAlgorithms(t *testing.T) {
	e := fxNew(t)
	for _, alg := range []string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"} {
		id, _ := e.external()
		imMustImport(t, e.s, id, alg, imMaterial, nil)
		imDecrypt(t, e.s, imEncrypt(t, e.s, id, []byte(alg)), []byte(alg))
	}
	specs := map[string]int{"RSA_2048": 2048, "RSA_3072": 3072}
	if !testing.Short() {
		specs["RSA_4096"] = 4096
	}
	id, arn := e.external()
	for spec, bits := range specs {
		p := imParams(t, e.s, id, "RSAES_OAEP_SHA_256", spec)
		pk, err := x509.ParsePKIXPublicKey(p.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		if n := pk.(*rsa.PublicKey).N.BitLen(); n != bits || p.KeyId != arn || !p.ParametersValidTo.Equal(e.now().Add(24*time.Hour)) {
			t.Errorf("%s: %d bits, KeyId %s, ParametersValidTo %v", spec, n, p.KeyId, p.ParametersValidTo)
		}
		if s := fmt.Sprint(p.ImportToken); !strings.HasPrefix(s, "[sensitive ") {
			t.Errorf("ImportToken prints as %q", s)
		}
	}
}

// TestImportRefusals: each refusal with its exact exception, in the order
// of decision D3.
func TestImportRefusals(t *testing.T) {
	e := fxNew(t)
	ctx := e.ctx
	id, arn := e.external()
	otherID, otherARN := e.external()
	validTo := fxT0.Add(10 * fxDay)
	imMustImport(t, e.s, id, "RSAES_OAEP_SHA_256", imMaterial, &validTo)
	symID, symARN := e.symmetric()

	params := imParams(t, e.s, id, "RSAES_OAEP_SHA_256", "RSA_2048")
	wrapped := func(m []byte) []byte { return imWrap(t, params.PublicKey, "RSAES_OAEP_SHA_256", m) }
	in := func(mod func(*kms.ImportKeyMaterialInput)) *kms.ImportKeyMaterialInput {
		x := &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: params.ImportToken,
			EncryptedKeyMaterial: wrapped(imMaterial), ValidTo: imTime(e.now().Add(fxDay))}
		if mod != nil {
			mod(x)
		}
		return x
	}
	imp := keystate.ImportKeyMaterial
	en := keystate.Enabled
	for _, tc := range []struct {
		name string
		in   *kms.ImportKeyMaterialInput
		want fxWant
	}{
		{"another material", in(func(x *kms.ImportKeyMaterialInput) { x.EncryptedKeyMaterial = wrapped(imOther) }),
			fxWant{Code: keystate.ErrIncorrectKeyMaterial, Op: imp, KeyID: arn, State: en,
				Msg: "The key material is not the key material that was previously imported into " + arn + "."}},
		{"128-bit material", in(func(x *kms.ImportKeyMaterialInput) { x.EncryptedKeyMaterial = wrapped(imMaterial[:16]) }),
			fxWant{Code: keystate.ErrIncorrectKeyMaterial, Op: imp, KeyID: arn, State: en,
				Msg: "The key material is 16 bytes; a SYMMETRIC_DEFAULT key takes 32 bytes (256 bits)."}},
		{"garbage wrapped material", in(func(x *kms.ImportKeyMaterialInput) { x.EncryptedKeyMaterial = bytes.Repeat([]byte{1}, 256) }),
			fxWant{Code: keystate.ErrInvalidCiphertext, Op: imp, KeyID: arn, State: en, AnyMsg: true}},
		{"token of another key", in(func(x *kms.ImportKeyMaterialInput) { x.KeyId = otherID }),
			fxWant{Code: keystate.ErrInvalidImportToken, Op: imp, KeyID: otherARN, State: keystate.PendingImport,
				Msg: "The import token is not valid for " + otherARN + "."}},
		{"unknown token", in(func(x *kms.ImportKeyMaterialInput) { x.ImportToken = []byte("not a token") }),
			fxWant{Code: keystate.ErrInvalidImportToken, Op: imp, KeyID: arn, State: en,
				Msg: "The import token is not valid for " + arn + "."}},
		{"ValidTo more than 365 days ahead", in(func(x *kms.ImportKeyMaterialInput) {
			x.ValidTo = imTime(e.now().Add(365*fxDay + time.Microsecond))
		}), fxWant{Code: keystate.ErrValidation, Op: imp, AnyMsg: true}},
		{"ValidTo in the past", in(func(x *kms.ImportKeyMaterialInput) { x.ValidTo = imTime(e.now().Add(-time.Second)) }),
			fxWant{Code: keystate.ErrValidation, Op: imp, AnyMsg: true}},
		{"ValidTo now", in(func(x *kms.ImportKeyMaterialInput) { x.ValidTo = imTime(e.now()) }),
			fxWant{Code: keystate.ErrValidation, Op: imp, AnyMsg: true}},
		{"KEY_MATERIAL_EXPIRES without ValidTo", in(func(x *kms.ImportKeyMaterialInput) { x.ValidTo = nil }),
			fxWant{Code: keystate.ErrValidation, Op: imp,
				Msg: "A ValidTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES"}},
		{"KEY_MATERIAL_DOES_NOT_EXPIRE with ValidTo", in(func(x *kms.ImportKeyMaterialInput) { x.ExpirationModel = "KEY_MATERIAL_DOES_NOT_EXPIRE" }),
			fxWant{Code: keystate.ErrValidation, Op: imp, AnyMsg: true}},
		{"unknown ExpirationModel", in(func(x *kms.ImportKeyMaterialInput) { x.ExpirationModel = "SOMETIMES" }),
			fxWant{Code: keystate.ErrValidation, Op: imp, AnyMsg: true}},
		{"no token", in(func(x *kms.ImportKeyMaterialInput) { x.ImportToken = nil }),
			fxWant{Code: keystate.ErrValidation, Op: imp, Msg: fxValidation("null", "importToken", "Member must not be null")}},
		{"validation before lookup", in(func(x *kms.ImportKeyMaterialInput) { x.KeyId = fxMissingID; x.ValidTo = nil }),
			fxWant{Code: keystate.ErrValidation, Op: imp, AnyMsg: true}},
		{"unknown key", in(func(x *kms.ImportKeyMaterialInput) { x.KeyId = fxMissingID }),
			fxWant{Code: keystate.ErrNotFound, Op: imp, KeyID: fxARN(fxMissingID), Msg: fxNotExist(fxARN(fxMissingID))}},
		{"[9] AWS_KMS key", in(func(x *kms.ImportKeyMaterialInput) { x.KeyId = symID }),
			fxWant{Code: keystate.ErrUnsupportedOperation, Op: imp, KeyID: symARN, State: en,
				Msg: symARN + " origin is AWS_KMS which is not valid for this operation."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.ImportKeyMaterial(ctx, tc.in)
			fxCheckErr(t, err, tc.want)
		})
	}
	if m := e.describe(id); m.KeyState != "Enabled" || !m.ValidTo.Equal(validTo) {
		t.Fatalf("a refused import changed the key: %+v", m)
	}

	// ValidTo exactly 365 days ahead is accepted.
	if _, err := e.s.ImportKeyMaterial(ctx, in(func(x *kms.ImportKeyMaterialInput) { x.ValidTo = imTime(e.now().Add(365 * fxDay)) })); err != nil {
		t.Fatalf("ValidTo 365 days ahead: %v", err)
	}

	// The token: valid through 24h, expired 1ns later.
	e.advance(24 * time.Hour)
	if _, err := e.s.ImportKeyMaterial(ctx, in(nil)); err != nil {
		t.Fatalf("token at 24h: %v", err)
	}
	e.advance(time.Microsecond)
	_, err := e.s.ImportKeyMaterial(ctx, in(nil))
	fxCheckErr(t, err, fxWant{Code: keystate.ErrExpiredImportToken, Op: imp, KeyID: arn, State: en, AnyMsg: true})

	// GetParametersForImport and DeleteImportedKeyMaterial on keys that
	// cannot have imported material ([9]) or of an unmodelled kind.
	gp := func(id, alg, spec string) error {
		_, err := e.s.GetParametersForImport(ctx, &kms.GetParametersForImportInput{KeyId: id, WrappingAlgorithm: alg, WrappingKeySpec: spec})
		return err
	}
	gpo := keystate.GetParametersForImport
	fxCheckErr(t, gp(symID, "RSAES_OAEP_SHA_256", "RSA_2048"), fxWant{Code: keystate.ErrUnsupportedOperation, Op: gpo,
		KeyID: symARN, State: en, Msg: symARN + " origin is AWS_KMS which is not valid for this operation."})
	_, err = e.s.DeleteImportedKeyMaterial(ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: symID})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.DeleteImportedKeyMaterial,
		KeyID: symARN, State: en, Msg: symARN + " origin is AWS_KMS which is not valid for this operation."})
	fxCheckErr(t, gp(id, "", "RSA_2048"), fxWant{Code: keystate.ErrValidation, Op: gpo,
		Msg: fxValidation("null", "wrappingAlgorithm", "Member must not be null")})
	fxCheckErr(t, gp(id, "RSAES_OAEP_SHA_256", "RSA_1024"), fxWant{Code: keystate.ErrValidation, Op: gpo, AnyMsg: true})
	// RSAES_PKCS1_V1_5 is in the enum but unsupported since 2023-10-10
	// (spec aws-kms-asymmetric-hmac.md §9.2); the wording is kmsmodel's.
	fxCheckErr(t, gp(id, "RSAES_PKCS1_V1_5", "RSA_2048"), fxWant{Code: keystate.ErrUnsupportedOperation, Op: gpo,
		KeyID: arn, State: en, Msg: "The wrapping algorithm RSAES_PKCS1_V1_5 is no longer supported."})
	// SM2 wrapping is China's only (spec §9.2), refused elsewhere as SM2
	// keys are (recorded, RPT-FL3026).
	fxCheckErr(t, gp(id, "SM2PKE", "RSA_2048"), fxWant{Code: keystate.ErrUnsupportedOperation, Op: gpo,
		KeyID: arn, State: en, Msg: "WrappingAlgorithm SM2PKE is not supported in this Region"})
	fxCheckErr(t, gp(id, "RSAES_OAEP_SHA_256", "SM2"), fxWant{Code: keystate.ErrUnsupportedOperation, Op: gpo,
		KeyID: arn, State: en, Msg: "WrappingKeySpec SM2 is not supported in this Region"})
	// Asymmetric and HMAC keys take imported material (issue 13); ML-DSA
	// keys cannot be EXTERNAL at all (D35: AWS does not import ML-DSA,
	// spec §9.1; the exception is kmsmodel's choice).
	asym := e.create(&kms.CreateKeyInput{Origin: "EXTERNAL", KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY"})
	if err := gp(asym.KeyId, "RSA_AES_KEY_WRAP_SHA_256", "RSA_2048"); err != nil {
		t.Fatalf("GetParametersForImport of an EXTERNAL RSA key: %v", err)
	}
	_, err = e.s.ImportKeyMaterial(ctx, in(func(x *kms.ImportKeyMaterialInput) { x.KeyId = asym.KeyId }))
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidImportToken, Op: imp, KeyID: asym.Arn,
		State: keystate.PendingImport, AnyMsg: true})
	_, err = e.s.CreateKey(ctx, &kms.CreateKeyInput{Origin: "EXTERNAL", KeySpec: "ML_DSA_65", KeyUsage: "SIGN_VERIFY"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.CreateKey, AnyMsg: true})

	// Pending deletion: GetParametersForImport [8], ImportKeyMaterial [9]
	// on a key that can have material: the state's exception.
	e.scheduleDeletion(otherID, 7)
	fxCheckErr(t, gp(otherID, "RSAES_OAEP_SHA_256", "RSA_2048"), fxWant{Code: keystate.ErrKMSInvalidState, Op: gpo,
		KeyID: otherARN, State: keystate.PendingDeletion, Msg: otherARN + " is pending deletion."})
	otherParams := imParams(t, e.s, id, "RSAES_OAEP_SHA_256", "RSA_2048") // any token: the state comes first
	_, err = e.s.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: otherID, ImportToken: otherParams.ImportToken,
		EncryptedKeyMaterial: imWrap(t, otherParams.PublicKey, "RSAES_OAEP_SHA_256", imMaterial), ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: imp, KeyID: otherARN,
		State: keystate.PendingDeletion, Msg: otherARN + " is pending deletion."})
}

// TestDeleteImportedKeyMaterial: the key goes to PendingImport keeping its
// material ID (recording 8b), or stays PendingDeletion; CancelKeyDeletion
// gives Disabled with material and PendingImport without (kmsmodel's
// choice, aws-kms-behaviour.md b leaves it open).
func TestDeleteImportedKeyMaterial(t *testing.T) {
	e := fxNew(t)
	id, arn := e.external()
	imp := imMustImport(t, e.s, id, "RSAES_OAEP_SHA_1", imMaterial, nil)
	blob := imEncrypt(t, e.s, id, []byte("before delete"))
	out, err := e.s.DeleteImportedKeyMaterial(e.ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: id})
	if err != nil || out.KeyId != arn || out.KeyMaterialId != imp.KeyMaterialId {
		t.Fatalf("DeleteImportedKeyMaterial = %+v, %v", out, err)
	}
	m := e.describe(id)
	if m.KeyState != "PendingImport" || m.ExpirationModel != "" || m.CurrentKeyMaterialId != imp.KeyMaterialId {
		t.Fatalf("after delete: %+v (recording 8b)", m)
	}
	_, err = e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.Encrypt, KeyID: arn,
		State: keystate.PendingImport, Msg: arn + " is pending import."}) // recording 6c
	if _, err := imImport(t, e.s, id, "RSAES_OAEP_SHA_256", imOther, nil); !errors.Is(err, keystate.ErrIncorrectKeyMaterial) {
		t.Fatalf("import of other material after delete: %v, want IncorrectKeyMaterialException", err)
	}
	imMustImport(t, e.s, id, "RSAES_OAEP_SHA_256", imMaterial, nil)
	imDecrypt(t, e.s, blob, []byte("before delete"))

	// Disabled with material: import again keeps it Disabled.
	e.disable(id)
	imMustImport(t, e.s, id, "RSAES_OAEP_SHA_256", imMaterial, nil)
	if st := e.describe(id).KeyState; st != "Disabled" {
		t.Fatalf("import into a Disabled key: %s", st)
	}
	e.enable(id)

	// Pending deletion with material → cancel → Disabled (choice).
	e.scheduleDeletion(id, 7)
	e.cancelDeletion(id)
	if st := e.describe(id).KeyState; st != "Disabled" {
		t.Fatalf("CancelKeyDeletion of an EXTERNAL key with material: %s, want Disabled", st)
	}
	e.enable(id)
	imDecrypt(t, e.s, blob, []byte("before delete"))

	// Pending deletion: delete stays PendingDeletion; cancel → PendingImport.
	e.scheduleDeletion(id, 7)
	if _, err := e.s.DeleteImportedKeyMaterial(e.ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	if m := e.describe(id); m.KeyState != "PendingDeletion" || m.ExpirationModel != "" {
		t.Fatalf("delete while pending deletion: %+v", m)
	}
	e.cancelDeletion(id)
	if st := e.describe(id).KeyState; st != "PendingImport" {
		t.Fatalf("CancelKeyDeletion of an EXTERNAL key without material: %s, want PendingImport", st)
	}

	// Expiry while pending deletion: stays PendingDeletion.
	validTo := e.now().Add(fxDay)
	imMustImport(t, e.s, id, "RSAES_OAEP_SHA_256", imMaterial, &validTo)
	e.scheduleDeletion(id, 7)
	e.setClock(validTo)
	if m := e.describe(id); m.KeyState != "PendingDeletion" || m.ExpirationModel != "" || m.ValidTo != nil {
		t.Fatalf("expiry while pending deletion: %+v", m)
	}
	e.cancelDeletion(id)
	if st := e.describe(id).KeyState; st != "PendingImport" {
		t.Fatalf("cancel after expiry: %s, want PendingImport", st)
	}
}

// TestImportPersistence: imported material survives a reopen, on the
// memory and bolt stores, sealed (never in the clear in the store); its
// expiry still fires at ValidTo; tokens do not survive (memory only).
func TestImportPersistence(t *testing.T) {
	for name, reopen := range psStores(t) {
		t.Run(name, func(t *testing.T) {
			clock := kms.NewManualClock(fxT0)
			open := func(prev *kms.Service) *kms.Service {
				s, err := kms.Open(context.Background(), reopen(prev), kms.WithClock(clock))
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			s := open(nil)
			out, err := s.CreateKey(context.Background(), &kms.CreateKeyInput{Origin: "EXTERNAL"})
			if err != nil {
				t.Fatal(err)
			}
			id := out.KeyMetadata.KeyId
			validTo := fxT0.Add(10 * fxDay)
			imp := imMustImport(t, s, id, "RSA_AES_KEY_WRAP_SHA_1", imMaterial, &validTo)
			blob := imEncrypt(t, s, id, []byte("persisted"))
			stale := imParams(t, s, id, "RSAES_OAEP_SHA_256", "RSA_2048")
			if name == "memory" {
				st := reopen(s)
				rec, err := st.Key(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				if len(rec.ImportedMaterial) == 0 || bytes.Contains(rec.ImportedMaterial, imMaterial[:8]) ||
					rec.KeyMaterialID != imp.KeyMaterialId || rec.ExpirationModel != "KEY_MATERIAL_EXPIRES" || !rec.ValidTo.Equal(validTo) {
					t.Fatalf("stored record: %x %+v", rec.ImportedMaterial, rec)
				}
			}
			s = open(s)
			defer s.Close()
			imDecrypt(t, s, blob, []byte("persisted"))
			d, err := s.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: id})
			if err != nil || d.KeyMetadata.KeyState != "Enabled" || d.KeyMetadata.CurrentKeyMaterialId != imp.KeyMaterialId ||
				d.KeyMetadata.ValidTo == nil || !d.KeyMetadata.ValidTo.Equal(validTo) {
				t.Fatalf("after reopen: %+v, %v", d, err)
			}
			_, err = s.ImportKeyMaterial(context.Background(), &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: stale.ImportToken,
				EncryptedKeyMaterial: imWrap(t, stale.PublicKey, "RSAES_OAEP_SHA_256", imMaterial), ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE"})
			if !errors.Is(err, keystate.ErrInvalidImportToken) {
				t.Fatalf("token from before the reopen: %v, want InvalidImportTokenException", err)
			}
			if next, ok := s.NextEventTime(); !ok || !next.Equal(validTo) {
				t.Fatalf("NextEventTime after reopen = %v, %v", next, ok)
			}
			clock.Set(validTo)
			if n := s.Sweep(); n != 1 {
				t.Fatalf("Sweep at ValidTo applied %d events", n)
			}
			s = open(s)
			d, err = s.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: id})
			if err != nil || d.KeyMetadata.KeyState != "PendingImport" || d.KeyMetadata.CurrentKeyMaterialId != imp.KeyMaterialId ||
				d.KeyMetadata.ExpirationModel != "" {
				t.Fatalf("after expiry and reopen: %+v, %v", d, err)
			}
			imMustImport(t, s, id, "RSAES_OAEP_SHA_256", imMaterial, nil)
			imDecrypt(t, s, blob, []byte("persisted"))
		})
	}
}

func ExampleService_ImportKeyMaterial() {
	ctx := context.Background()
	clock := kms.NewManualClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	svc := kms.New(kms.WithClock(clock))
	k, _ := svc.CreateKey(ctx, &kms.CreateKeyInput{Origin: "EXTERNAL"})
	id := k.KeyMetadata.KeyId
	fmt.Println(k.KeyMetadata.KeyState)

	// The client side: wrap 256 bits of material under the public key.
	p, _ := svc.GetParametersForImport(ctx, &kms.GetParametersForImportInput{
		KeyId: id, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
	pub, _ := x509.ParsePKIXPublicKey(p.PublicKey)
	material := bytes.Repeat([]byte{7}, 32)
	wrapped, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), material, nil)

	validTo := clock.Now().Add(30 * 24 * time.Hour)
	_, err := svc.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: wrapped, ValidTo: &validTo})
	fmt.Println(err)
	d, _ := svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	fmt.Println(d.KeyMetadata.KeyState, d.KeyMetadata.ExpirationModel, d.KeyMetadata.ValidTo.Format(time.DateOnly))

	clock.Set(validTo) // the material expires at ValidTo exactly
	d, _ = svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	fmt.Println(d.KeyMetadata.KeyState)
	// Output:
	// PendingImport
	// <nil>
	// Enabled KEY_MATERIAL_EXPIRES 2024-01-31
	// PendingImport
}
