package kms_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// sm2Wrap encrypts material to the SM2 wrapping key der (a
// SubjectPublicKeyInfo) with SM2PKE, in the DER C1C3C2 form (spec
// aws-kms-asymmetric-hmac.md §4.2), as AWS's SM2 offline helper does.
func sm2Wrap(t testing.TB, der, material []byte) []byte {
	t.Helper()
	pk, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatalf("the SM2 wrapping key is not a SubjectPublicKeyInfo: %v", err)
	}
	pub, ok := pk.(*ecdsa.PublicKey)
	if !ok || pub.Curve != sm2.P256() {
		t.Fatalf("the wrapping key is a %T, not an SM2 key", pk)
	}
	ct, err := sm2.EncryptASN1(rand.Reader, pub, material)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

// cnParams is GetParametersForImport with SM2PKE and SM2 in e's Region.
func cnParams(t testing.TB, e *fxEnv, id string) *kms.GetParametersForImportOutput {
	t.Helper()
	out, err := e.s.GetParametersForImport(e.ctx, &kms.GetParametersForImportInput{KeyId: id, WrappingAlgorithm: "SM2PKE", WrappingKeySpec: "SM2"})
	if err != nil {
		t.Fatalf("GetParametersForImport(%s, SM2PKE, SM2): %v", id, err)
	}
	return out
}

// TestDecisionD81SM2Wrapping: in the China Regions GetParametersForImport
// gives an SM2 wrapping key for WrappingAlgorithm SM2PKE and
// WrappingKeySpec SM2 (spec §9.2), and ImportKeyMaterial unwraps material
// encrypted to it: a symmetric key's 256 bits, and an SM2 private key,
// whose public key GetPublicKey then gives. SM2PKE with an RSA key spec,
// or an RSA algorithm with SM2, is ValidationException (D81).
func TestDecisionD81SM2Wrapping(t *testing.T) {
	e := fxNew(t)
	cn := e.mrIn(asChina)
	gpo := keystate.GetParametersForImport
	sym := cn.create(&kms.CreateKeyInput{Origin: "EXTERNAL"})
	p := cnParams(t, cn, sym.KeyId)
	if _, err := cn.s.ImportKeyMaterial(cn.ctx, &kms.ImportKeyMaterialInput{KeyId: sym.KeyId, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: sm2Wrap(t, p.PublicKey, imMaterial), ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE"}); err != nil {
		t.Fatalf("ImportKeyMaterial of SM2PKE-wrapped material: %v", err)
	}
	enc, err := cn.s.Encrypt(cn.ctx, &kms.EncryptInput{KeyId: sym.KeyId, Plaintext: []byte("imported")})
	if err != nil {
		t.Fatal(err)
	}
	if dec, err := cn.s.Decrypt(cn.ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil || string(dec.Plaintext) != "imported" {
		t.Fatalf("Decrypt under the imported material: %v", err)
	}
	// The same material again is accepted, other material refused: the
	// material was unwrapped as sent.
	p = cnParams(t, cn, sym.KeyId)
	if _, err := cn.s.ImportKeyMaterial(cn.ctx, &kms.ImportKeyMaterialInput{KeyId: sym.KeyId, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: sm2Wrap(t, p.PublicKey, imMaterial), ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE"}); err != nil {
		t.Fatalf("ImportKeyMaterial of the same material again: %v", err)
	}
	p = cnParams(t, cn, sym.KeyId)
	_, err = cn.s.ImportKeyMaterial(cn.ctx, &kms.ImportKeyMaterialInput{KeyId: sym.KeyId, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: sm2Wrap(t, p.PublicKey, imOther), ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrIncorrectKeyMaterial, Op: keystate.ImportKeyMaterial, KeyID: sym.Arn,
		State: keystate.Enabled, AnyMsg: true})

	// An SM2 private key, imported into an EXTERNAL SM2 key.
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := smx509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	wantPub, err := smx509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	asym := cn.create(&kms.CreateKeyInput{Origin: "EXTERNAL", KeySpec: "SM2", KeyUsage: "SIGN_VERIFY"})
	p = cnParams(t, cn, asym.KeyId)
	if _, err := cn.s.ImportKeyMaterial(cn.ctx, &kms.ImportKeyMaterialInput{KeyId: asym.KeyId, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: sm2Wrap(t, p.PublicKey, pkcs8), ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE"}); err != nil {
		t.Fatalf("ImportKeyMaterial of an SM2 private key: %v", err)
	}
	pub, err := cn.s.GetPublicKey(cn.ctx, &kms.GetPublicKeyInput{KeyId: asym.KeyId})
	if err != nil || !bytes.Equal(pub.PublicKey, wantPub) {
		t.Fatalf("GetPublicKey after the import: %v (matches: %v)", err, err == nil && bytes.Equal(pub.PublicKey, wantPub))
	}

	// A wrong ciphertext, and RSA-wrapped material under an SM2 token.
	rsaParams, err := cn.s.GetParametersForImport(cn.ctx, &kms.GetParametersForImportInput{KeyId: asym.KeyId,
		WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
	if err != nil {
		t.Fatal(err)
	}
	for _, wrapped := range [][]byte{bytes.Repeat([]byte{1}, 200), imWrap(t, rsaParams.PublicKey, "RSAES_OAEP_SHA_256", pkcs8)} {
		p = cnParams(t, cn, asym.KeyId)
		_, err = cn.s.ImportKeyMaterial(cn.ctx, &kms.ImportKeyMaterialInput{KeyId: asym.KeyId, ImportToken: p.ImportToken,
			EncryptedKeyMaterial: wrapped, ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE"})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidCiphertext, Op: keystate.ImportKeyMaterial, KeyID: asym.Arn,
			State: keystate.Enabled, Msg: "The encrypted key material could not be decrypted with the import token's wrapping key and algorithm SM2PKE."})
	}

	// D81: the algorithm and the key spec go together.
	msg := func(alg, spec string) string {
		return "WrappingAlgorithm " + alg + " cannot be used with WrappingKeySpec " + spec +
			": SM2PKE takes an SM2 wrapping key, and the other algorithms an RSA one."
	}
	for _, c := range [][2]string{{"SM2PKE", "RSA_2048"}, {"RSAES_OAEP_SHA_256", "SM2"}, {"RSAES_OAEP_SHA_1", "SM2"}} {
		_, err := cn.s.GetParametersForImport(cn.ctx, &kms.GetParametersForImportInput{KeyId: sym.KeyId,
			WrappingAlgorithm: c[0], WrappingKeySpec: c[1]})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: gpo, KeyID: sym.Arn, State: keystate.Enabled, Msg: msg(c[0], c[1])})
	}
	// RSA wrapping is still China's too.
	if _, err := cn.s.GetParametersForImport(cn.ctx, &kms.GetParametersForImportInput{KeyId: sym.KeyId,
		WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"}); err != nil {
		t.Errorf("RSAES_OAEP_SHA_256 in China: %v", err)
	}
}

// TestDecisionD81SM2WrappingKeepsItsKey: one cluster node issues SM2 and
// RSA tokens in turn; each token carries its own spec's key (D67), so the
// other node imports with it and the material decrypts on both, the SM2 key is
// the same for every token (an earlier token still imports after a later
// GetParametersForImport), and it comes from WithRandom's source: two
// services with one seed give the same SM2 wrapping key.
func TestDecisionD81SM2WrappingKeepsItsKey(t *testing.T) {
	ctx := kms.WithCallerRegion(context.Background(), asChina)
	st := store.NewSharedMemory()
	nodes, _ := clNodes(t, st, 2)
	a, b := nodes[0], nodes[1]
	type issued struct {
		id string
		p  *kms.GetParametersForImportOutput
	}
	var tokens []issued
	for _, spec := range []string{"SM2", "RSA_2048", "SM2"} {
		out, err := a.CreateKey(ctx, &kms.CreateKeyInput{Origin: "EXTERNAL"})
		if err != nil {
			t.Fatal(err)
		}
		alg := "SM2PKE"
		if spec != "SM2" {
			alg = "RSAES_OAEP_SHA_256"
		}
		p, err := a.GetParametersForImport(ctx, &kms.GetParametersForImportInput{KeyId: out.KeyMetadata.KeyId,
			WrappingAlgorithm: alg, WrappingKeySpec: spec})
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, issued{out.KeyMetadata.KeyId, p})
	}
	if !bytes.Equal(tokens[0].p.PublicKey, tokens[2].p.PublicKey) {
		t.Error("the node drew a second SM2 wrapping key")
	}
	for i, tk := range tokens {
		var w []byte
		if i == 1 {
			w = imWrap(t, tk.p.PublicKey, "RSAES_OAEP_SHA_256", imMaterial)
		} else {
			w = sm2Wrap(t, tk.p.PublicKey, imMaterial)
		}
		if _, err := b.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: tk.id, ImportToken: tk.p.ImportToken,
			EncryptedKeyMaterial: w, ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE"}); err != nil {
			t.Fatalf("token %d imports on the other node: %v", i, err)
		}
	}
	// The material imported through b decrypts on a.
	enc, err := b.Encrypt(ctx, &kms.EncryptInput{KeyId: tokens[0].id, Plaintext: []byte("sm2")})
	if err != nil {
		t.Fatal(err)
	}
	if dec, err := a.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil || string(dec.Plaintext) != "sm2" {
		t.Fatalf("a decrypts: %v", err)
	}

	public := func() []byte {
		e := fxNewAt(t, fxT0) // the same seed (the test's name) each time
		cn := e.mrIn(asChina)
		return cnParams(t, cn, cn.create(&kms.CreateKeyInput{Origin: "EXTERNAL"}).KeyId).PublicKey
	}
	if !bytes.Equal(public(), public()) {
		t.Error("two services with one seed drew different SM2 wrapping keys")
	}
}

// TestDecisionD81SM2CiphertextIsDER: SM2PKE material must be in the DER
// form (spec aws-kms-asymmetric-hmac.md §4.2, "the form AWS's helper
// builds before handing ciphertext to KMS"); the raw C1C3C2 and C1C2C3
// forms, which the SM2 library would also read, are
// InvalidCiphertextException.
func TestDecisionD81SM2CiphertextIsDER(t *testing.T) {
	e := fxNew(t)
	cn := e.mrIn(asChina)
	for name, opts := range map[string]*sm2.EncrypterOpts{
		"raw C1C3C2":            sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C3C2),
		"raw C1C2C3":            sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C2C3),
		"raw compressed C1C3C2": sm2.NewPlainEncrypterOpts(sm2.MarshalCompressed, sm2.C1C3C2),
	} {
		k := cn.create(&kms.CreateKeyInput{Origin: "EXTERNAL"})
		p := cnParams(t, cn, k.KeyId)
		pk, err := smx509.ParsePKIXPublicKey(p.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		ct, err := sm2.Encrypt(rand.Reader, pk.(*ecdsa.PublicKey), imMaterial, opts)
		if err != nil {
			t.Fatal(err)
		}
		_, err = cn.s.ImportKeyMaterial(cn.ctx, &kms.ImportKeyMaterialInput{KeyId: k.KeyId, ImportToken: p.ImportToken,
			EncryptedKeyMaterial: ct, ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE"})
		if !errors.Is(err, keystate.ErrInvalidCiphertext) {
			t.Errorf("%s: %v, want InvalidCiphertextException", name, err)
		}
	}
}
