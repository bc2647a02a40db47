package kms_test

// Asymmetric and HMAC keys (shared/spec/aws-kms-asymmetric-hmac.md, cited
// as §n; decisions D30–D33 as the kms package states them). Signatures,
// public keys, MACs and shared secrets are checked against Go's own
// verifiers wherever the standard library knows the algorithm. Names here
// start with "as".

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// asChina is a China Region, the only kind that offers SM2 (§1.2).
const asChina = "cn-north-1"

// asMsg is the message the tests sign.
var asMsg = []byte("the quick brown fox jumps over the lazy dog")

// asSign signs with key id, which must succeed.
func (e *fxEnv) asSign(id, alg, messageType string, msg []byte) []byte {
	e.t.Helper()
	out, err := e.s.Sign(e.ctx, &kms.SignInput{KeyId: id, Message: msg, MessageType: messageType, SigningAlgorithm: alg})
	if err != nil {
		e.t.Fatalf("Sign(%s, %s, %s): %v", id, alg, messageType, err)
	}
	if out.SigningAlgorithm != alg || !strings.HasPrefix(out.KeyId, "arn:") {
		e.t.Fatalf("Sign output %+v", out)
	}
	return out.Signature
}

func (e *fxEnv) asVerify(id, alg, messageType string, msg, sig []byte) error {
	out, err := e.s.Verify(e.ctx, &kms.VerifyInput{KeyId: id, Message: msg, MessageType: messageType, Signature: sig,
		SigningAlgorithm: alg})
	if err == nil && (!out.SignatureValid || out.SigningAlgorithm != alg) {
		e.t.Fatalf("Verify output %+v", out)
	}
	return err
}

// asPublic returns GetPublicKey's output, which must succeed.
func (e *fxEnv) asPublic(id string) *kms.GetPublicKeyOutput {
	e.t.Helper()
	out, err := e.s.GetPublicKey(e.ctx, &kms.GetPublicKeyInput{KeyId: id})
	if err != nil {
		e.t.Fatalf("GetPublicKey(%s): %v", id, err)
	}
	return out
}

// asMac returns GenerateMac's MAC, which must succeed.
func (e *fxEnv) asMac(id, alg string, msg []byte) []byte {
	e.t.Helper()
	out, err := e.s.GenerateMac(e.ctx, &kms.GenerateMacInput{KeyId: id, Message: msg, MacAlgorithm: alg})
	if err != nil {
		e.t.Fatalf("GenerateMac(%s, %s): %v", id, alg, err)
	}
	return out.Mac
}

// asHash is the hash an RSA or ECDSA algorithm applies to a RAW message
// (§2.2).
func asHash(alg string) crypto.Hash {
	switch {
	case strings.HasSuffix(alg, "_256"):
		return crypto.SHA256
	case strings.HasSuffix(alg, "_384"):
		return crypto.SHA384
	}
	return crypto.SHA512
}

func asDigest(h crypto.Hash, msg []byte) []byte {
	w := h.New()
	w.Write(msg)
	return w.Sum(nil)
}

// asStdVerify checks sig over msg (RAW) with Go's standard library, for
// the algorithms it knows (§2.3), and reports whether it could.
func asStdVerify(t *testing.T, pub crypto.PublicKey, alg string, msg, sig []byte) bool {
	t.Helper()
	var err error
	switch {
	case strings.HasPrefix(alg, "RSASSA_PSS_"):
		h := asHash(alg)
		// §2.3: salt length = hash length, MGF1 with the same hash.
		err = rsa.VerifyPSS(pub.(*rsa.PublicKey), h, asDigest(h, msg), sig, &rsa.PSSOptions{SaltLength: h.Size(), Hash: h})
	case strings.HasPrefix(alg, "RSASSA_PKCS1_V1_5_"):
		h := asHash(alg)
		err = rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), h, asDigest(h, msg), sig)
	case strings.HasPrefix(alg, "ECDSA_"):
		ek, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return false // secp256k1: not in the standard library
		}
		if !ecdsa.VerifyASN1(ek, asDigest(asHash(alg), msg), sig) {
			err = fmt.Errorf("ecdsa.VerifyASN1 failed")
		}
	case alg == "ED25519_SHA_512":
		if !ed25519.Verify(pub.(ed25519.PublicKey), msg, sig) {
			err = fmt.Errorf("ed25519.Verify failed")
		}
	case alg == "ED25519_PH_SHA_512":
		// §2.2: the 64 bytes sent are HashEdDSA's M; PH(M) = SHA-512(M).
		ph := sha512.Sum512(msg)
		err = ed25519.VerifyWithOptions(pub.(ed25519.PublicKey), ph[:], sig, &ed25519.Options{Hash: crypto.SHA512})
	default:
		return false
	}
	if err != nil {
		t.Fatalf("%s: the standard library rejects KMS's signature: %v", alg, err)
	}
	return true
}

// asSignSpec is one SIGN_VERIFY key spec: its advertised algorithms
// (§1.1) and signature length where fixed (§2.3; 0: variable).
type asSignSpec struct {
	spec, region string
	algs         []string
	sigLen       int
}

var asRSASigning = []string{"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
	"RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"}

var asSignSpecs = []asSignSpec{
	{"RSA_2048", "", asRSASigning, 256},
	{"RSA_3072", "", asRSASigning, 384},
	{"RSA_4096", "", asRSASigning, 512},
	{"ECC_NIST_P256", "", []string{"ECDSA_SHA_256"}, 0},
	{"ECC_NIST_P384", "", []string{"ECDSA_SHA_384"}, 0},
	{"ECC_NIST_P521", "", []string{"ECDSA_SHA_512"}, 0},
	{"ECC_SECG_P256K1", "", []string{"ECDSA_SHA_256"}, 0},
	{"ECC_NIST_EDWARDS25519", "", []string{"ED25519_SHA_512", "ED25519_PH_SHA_512"}, 64},
	{"ML_DSA_44", "", []string{"ML_DSA_SHAKE_256"}, 2420},
	{"ML_DSA_65", "", []string{"ML_DSA_SHAKE_256"}, 3309},
	{"ML_DSA_87", "", []string{"ML_DSA_SHAKE_256"}, 4627},
	{"SM2", asChina, []string{"SM2DSA"}, 0},
}

// §2.1–§2.4: every SIGN_VERIFY spec, every algorithm it advertises, every
// message type the algorithm takes. A signature verifies with Verify under
// the same and (RSA, ECDSA) the other message type, and with Go's standard
// verifier on GetPublicKey's key; the same signature of another message
// is KMSInvalidSignatureException with an empty message.
func TestAsymSignVerifyEverySpec(t *testing.T) {
	for _, sp := range asSignSpecs {
		t.Run(sp.spec, func(t *testing.T) {
			t.Parallel()
			e := fxNew(t)
			if sp.region != "" {
				e = e.mrIn(sp.region)
			}
			m := e.create(&kms.CreateKeyInput{KeySpec: sp.spec, KeyUsage: "SIGN_VERIFY"})
			if !slices.Equal(m.SigningAlgorithms, sp.algs) || m.EncryptionAlgorithms != nil || m.MacAlgorithms != nil {
				t.Fatalf("DescribeKey algorithms: %+v", m)
			}
			pk := e.asPublic(m.KeyId)
			if pk.KeyId != m.Arn || pk.KeySpec != sp.spec || pk.CustomerMasterKeySpec != sp.spec || pk.KeyUsage != "SIGN_VERIFY" ||
				!slices.Equal(pk.SigningAlgorithms, sp.algs) || pk.EncryptionAlgorithms != nil || pk.KeyAgreementAlgorithms != nil {
				t.Fatalf("GetPublicKey = %+v", pk)
			}
			pub, stdErr := x509.ParsePKIXPublicKey(pk.PublicKey)
			for _, alg := range sp.algs {
				var types []string
				switch {
				case alg == "ED25519_SHA_512", alg == "ML_DSA_SHAKE_256":
					types = []string{"RAW", ""} // "" is RAW (§2.1)
				case alg == "ED25519_PH_SHA_512", alg == "SM2DSA":
					types = []string{"DIGEST"}
				default:
					types = []string{"RAW", "DIGEST", ""}
				}
				for _, mt := range types {
					msg := asMsg
					switch {
					case mt == "DIGEST" && (alg == "ED25519_PH_SHA_512"):
						msg = asDigest(crypto.SHA512, asMsg)
					case mt == "DIGEST" && alg == "SM2DSA":
						msg = asDigest(crypto.SHA256, asMsg) // any 32 bytes: an SM3 digest made by the caller
					case mt == "DIGEST":
						msg = asDigest(asHash(alg), asMsg)
					}
					sig := e.asSign(m.KeyId, alg, mt, msg)
					if sp.sigLen != 0 && len(sig) != sp.sigLen {
						t.Errorf("%s %s: signature of %d bytes, want %d", alg, mt, len(sig), sp.sigLen)
					}
					if err := e.asVerify(m.Arn, alg, mt, msg, sig); err != nil {
						t.Fatalf("Verify(%s, %s): %v", alg, mt, err)
					}
					if strings.HasPrefix(alg, "RSASSA_") || strings.HasPrefix(alg, "ECDSA_") {
						// §2.4: a message and its digest are the same message.
						if mt == "DIGEST" {
							err := e.asVerify(m.KeyId, alg, "RAW", asMsg, sig)
							if err != nil {
								t.Fatalf("a DIGEST signature verified as RAW: %v", err)
							}
						} else {
							err := e.asVerify(m.KeyId, alg, "DIGEST", asDigest(asHash(alg), asMsg), sig)
							if err != nil {
								t.Fatalf("a RAW signature verified as DIGEST: %v", err)
							}
						}
					}
					if stdErr == nil {
						raw := asMsg
						if alg == "ED25519_PH_SHA_512" {
							raw = msg
						}
						asStdVerify(t, pub, alg, raw, sig)
					}
					other := append(bytes.Clone(msg[:len(msg)-1]), msg[len(msg)-1]^1)
					fxCheckErr(t, e.asVerify(m.KeyId, alg, mt, other, sig),
						fxWant{Code: keystate.ErrKMSInvalidSignature, Op: keystate.Verify, KeyID: m.Arn, State: keystate.Enabled})
				}
			}
			switch sp.spec {
			case "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_NIST_EDWARDS25519":
				if stdErr != nil {
					t.Fatalf("GetPublicKey: not a SubjectPublicKeyInfo the standard library reads: %v", stdErr)
				}
			}
		})
	}
}

// §2.3: PKCS#1 v1.5 and Ed25519 signatures are deterministic; PSS, ECDSA
// and ML-DSA signatures are randomized.
func TestAsymSignatureDeterminism(t *testing.T) {
	e := fxNew(t)
	rsaID, _ := e.kindKey("RSA_2048", "SIGN_VERIFY")
	ecID, _ := e.kindKey("ECC_NIST_P256", "SIGN_VERIFY")
	edID, _ := e.kindKey("ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
	mlID, _ := e.kindKey("ML_DSA_44", "SIGN_VERIFY")
	for _, c := range []struct {
		id, alg string
		same    bool
	}{
		{rsaID, "RSASSA_PKCS1_V1_5_SHA_256", true},
		{rsaID, "RSASSA_PSS_SHA_256", false},
		{ecID, "ECDSA_SHA_256", false},
		{edID, "ED25519_SHA_512", true},
		{mlID, "ML_DSA_SHAKE_256", false},
	} {
		a, b := e.asSign(c.id, c.alg, "RAW", asMsg), e.asSign(c.id, c.alg, "RAW", asMsg)
		if bytes.Equal(a, b) != c.same {
			t.Errorf("%s: two signatures equal = %v, want %v", c.alg, bytes.Equal(a, b), c.same)
		}
	}
}

// §2.5 and §2.2: Sign's and Verify's refusals, with the recorded messages.
func TestAsymSignRefusals(t *testing.T) {
	e := fxNew(t)
	p256, p256ARN := e.kindKey("ECC_NIST_P256", "SIGN_VERIFY")
	p521, p521ARN := e.kindKey("ECC_NIST_P521", "SIGN_VERIFY")
	hmacID, hmacARN := e.kindKey("HMAC_256", "GENERATE_VERIFY_MAC")
	rsaEnc, rsaEncARN := e.kindKey("RSA_2048", "ENCRYPT_DECRYPT")
	symID, symARN := e.symmetric()
	ed, edARN := e.kindKey("ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
	ml, mlARN := e.kindKey("ML_DSA_65", "SIGN_VERIFY")
	sig := e.asSign(p256, "ECDSA_SHA_256", "RAW", asMsg)
	otherSig := e.asSign(p521, "ECDSA_SHA_512", "RAW", asMsg)
	sign := func(id, alg, mt string, msg []byte) error {
		_, err := e.s.Sign(e.ctx, &kms.SignInput{KeyId: id, Message: msg, MessageType: mt, SigningAlgorithm: alg})
		return err
	}
	verify := func(id, alg, mt string, msg, sig []byte) error {
		_, err := e.s.Verify(e.ctx, &kms.VerifyInput{KeyId: id, Message: msg, MessageType: mt, SigningAlgorithm: alg, Signature: sig})
		return err
	}
	usage := func(arn, u, op string) string {
		return arn + " key usage is " + u + " which is not valid for " + op + "."
	}
	tooLong := "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096"
	en := keystate.Enabled
	for _, c := range []struct {
		name string
		err  error
		want fxWant
	}{
		// §2.5, recorded: the usage message wins over the algorithm one.
		{"HMAC key, RSA algorithm", sign(hmacID, "RSASSA_PSS_SHA_256", "", asMsg),
			fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.Sign, KeyID: hmacARN, State: en, Msg: usage(hmacARN, "GENERATE_VERIFY_MAC", "Sign")}},
		{"ENCRYPT_DECRYPT key, Verify", verify(rsaEnc, "RSASSA_PSS_SHA_256", "", asMsg, sig),
			fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.Verify, KeyID: rsaEncARN, State: en, Msg: usage(rsaEncARN, "ENCRYPT_DECRYPT", "Verify")}},
		{"symmetric key", sign(symID, "ECDSA_SHA_256", "", asMsg),
			fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.Sign, KeyID: symARN, State: en, Msg: usage(symARN, "ENCRYPT_DECRYPT", "Sign")}},
		// RPT-PKCS11, recorded.
		{"P-521 with ECDSA_SHA_256", sign(p521, "ECDSA_SHA_256", "", asMsg),
			fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.Sign, KeyID: p521ARN, State: en, Msg: "Algorithm ECDSA_SHA_256 is incompatible with key spec ECC_NIST_P521."}},
		{"P-256 with RSASSA_PSS_SHA_256, Verify", verify(p256, "RSASSA_PSS_SHA_256", "", asMsg, sig),
			fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.Verify, KeyID: p256ARN, State: en, Msg: "Algorithm RSASSA_PSS_SHA_256 is incompatible with key spec ECC_NIST_P256."}},
		// §2.2, recorded for Sign; Verify: class asserted.
		{"digest of 31 bytes", sign(p256, "ECDSA_SHA_256", "DIGEST", make([]byte, 31)),
			fxWant{Code: keystate.ErrValidation, Op: keystate.Sign, KeyID: p256ARN, State: en, Msg: "Digest is invalid length for algorithm ECDSA_SHA_256."}},
		{"digest of 48 bytes, Verify", verify(p256, "ECDSA_SHA_256", "DIGEST", make([]byte, 48), sig),
			fxWant{Code: keystate.ErrValidation, Op: keystate.Verify, KeyID: p256ARN, State: en, Msg: "Digest is invalid length for algorithm ECDSA_SHA_256."}},
		// RPT-CA: the value is not echoed (the member is sensitive).
		{"message of 4097 bytes", sign(p256, "ECDSA_SHA_256", "", make([]byte, 4097)),
			fxWant{Code: keystate.ErrValidation, Op: keystate.Sign, Msg: tooLong}},
		{"message of 4097 bytes, Verify", verify(p256, "ECDSA_SHA_256", "", make([]byte, 4097), sig),
			fxWant{Code: keystate.ErrValidation, Op: keystate.Verify, Msg: tooLong}},
		{"unknown algorithm", sign(p256, "ECDSA_SHA_1", "", asMsg),
			fxWant{Code: keystate.ErrValidation, Op: keystate.Sign,
				Msg: fxValidation("ECDSA_SHA_1", "signingAlgorithm", "Member must satisfy enum value set: [RSASSA_PSS_SHA_256, RSASSA_PSS_SHA_384, RSASSA_PSS_SHA_512, RSASSA_PKCS1_V1_5_SHA_256, RSASSA_PKCS1_V1_5_SHA_384, RSASSA_PKCS1_V1_5_SHA_512, ECDSA_SHA_256, ECDSA_SHA_384, ECDSA_SHA_512, SM2DSA, ML_DSA_SHAKE_256, ED25519_SHA_512, ED25519_PH_SHA_512]")}},
		// §2.4: every failed verification, empty message.
		{"tampered signature", verify(p256, "ECDSA_SHA_256", "", asMsg, append(bytes.Clone(sig[:len(sig)-1]), sig[len(sig)-1]^1)),
			fxWant{Code: keystate.ErrKMSInvalidSignature, Op: keystate.Verify, KeyID: p256ARN, State: en}},
		{"another key's signature", verify(p256, "ECDSA_SHA_256", "", asMsg, otherSig),
			fxWant{Code: keystate.ErrKMSInvalidSignature, Op: keystate.Verify, KeyID: p256ARN, State: en}},
		{"not a signature (§12.8)", verify(p256, "ECDSA_SHA_256", "", asMsg, []byte("garbage")),
			fxWant{Code: keystate.ErrKMSInvalidSignature, Op: keystate.Verify, KeyID: p256ARN, State: en}},
		// §12.4, UNCONFIRMED: ValidationException, kmsmodel's wording.
		{"ED25519_SHA_512 with DIGEST", sign(ed, "ED25519_SHA_512", "DIGEST", make([]byte, 64)),
			fxWant{Code: keystate.ErrValidation, Op: keystate.Sign, KeyID: edARN, State: en, Msg: "Algorithm ED25519_SHA_512 does not support message type DIGEST."}},
		{"ED25519_PH_SHA_512 with RAW", sign(ed, "ED25519_PH_SHA_512", "RAW", asMsg),
			fxWant{Code: keystate.ErrValidation, Op: keystate.Sign, KeyID: edARN, State: en, Msg: "Algorithm ED25519_PH_SHA_512 does not support message type RAW."}},
		{"ML-DSA with a μ that is not 64 bytes", sign(ml, "ML_DSA_SHAKE_256", "EXTERNAL_MU", make([]byte, 32)),
			fxWant{Code: keystate.ErrValidation, Op: keystate.Sign, KeyID: mlARN, State: en,
				Msg: "Message type EXTERNAL_MU requires a 64-byte message (μ, FIPS 204 §6.2) for algorithm ML_DSA_SHAKE_256."}},
	} {
		t.Run(c.name, func(t *testing.T) { fxCheckErr(t, c.err, c.want) })
	}
	// An RSA PSS signature does not pass as PKCS#1 v1.5 (wrong algorithm).
	rsaID, rsaARN := e.kindKey("RSA_2048", "SIGN_VERIFY")
	pss := e.asSign(rsaID, "RSASSA_PSS_SHA_256", "RAW", asMsg)
	fxCheckErr(t, verify(rsaID, "RSASSA_PKCS1_V1_5_SHA_256", "", asMsg, pss),
		fxWant{Code: keystate.ErrKMSInvalidSignature, Op: keystate.Verify, KeyID: rsaARN, State: en})
}

// §3 and D30: GetPublicKey's output for each usage, its refusals on keys
// without a public key, and alias forms.
func TestAsymGetPublicKey(t *testing.T) {
	e := fxNew(t)
	encID, _ := e.kindKey("RSA_2048", "ENCRYPT_DECRYPT")
	if pk := e.asPublic(encID); !slices.Equal(pk.EncryptionAlgorithms, []string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}) ||
		pk.SigningAlgorithms != nil || pk.KeyUsage != "ENCRYPT_DECRYPT" {
		t.Fatalf("RSA ENCRYPT_DECRYPT: %+v", pk)
	}
	kaID, _ := e.kindKey("ECC_NIST_P384", "KEY_AGREEMENT")
	pk := e.asPublic(kaID)
	if !slices.Equal(pk.KeyAgreementAlgorithms, []string{"ECDH"}) || pk.SigningAlgorithms != nil || pk.KeyUsage != "KEY_AGREEMENT" {
		t.Fatalf("P-384 KEY_AGREEMENT: %+v", pk)
	}
	if k, err := x509.ParsePKIXPublicKey(pk.PublicKey); err != nil || k.(*ecdsa.PublicKey).Curve != elliptic.P384() {
		t.Fatalf("P-384 public key: %T %v", k, err)
	}
	e.createAlias("alias/ka", kaID)
	if got := e.asPublic("alias/ka"); !bytes.Equal(got.PublicKey, pk.PublicKey) || got.KeyId != pk.KeyId {
		t.Fatalf("by alias: %+v", got)
	}
	if got := e.asPublic(fxAliasARN("alias/ka")); !bytes.Equal(got.PublicKey, pk.PublicKey) {
		t.Fatalf("by alias ARN: %+v", got)
	}

	symID, symARN := e.symmetric()
	hmacID, hmacARN := e.kindKey("HMAC_384", "GENERATE_VERIFY_MAC")
	ext := e.create(&kms.CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", Origin: "EXTERNAL"})
	get := func(id string) error {
		_, err := e.s.GetPublicKey(e.ctx, &kms.GetPublicKeyInput{KeyId: id})
		return err
	}
	// D30: UnsupportedOperationException for symmetric and HMAC keys.
	fxCheckErr(t, get(symID), fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.GetPublicKey, KeyID: symARN,
		State: keystate.Enabled, Msg: symARN + " key spec is SYMMETRIC_DEFAULT, which is not valid for GetPublicKey."})
	fxCheckErr(t, get(hmacID), fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.GetPublicKey, KeyID: hmacARN,
		State: keystate.Enabled, Msg: hmacARN + " key spec is HMAC_384, which is not valid for GetPublicKey."})
	// D30: an EXTERNAL key that never had material has no public key.
	fxCheckErr(t, get(ext.KeyId), fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.GetPublicKey, KeyID: ext.Arn,
		State: keystate.PendingImport, Msg: ext.Arn + " is pending import."})
}

// §4: RSA encryption. The recorded size limits for all six RSA cases,
// SYMMETRIC_DEFAULT on an RSA key (RPT-ZAL), offline OAEP with the public
// key, D32 (no encryption context) and D33 (InvalidCiphertextException for
// a missing or wrong algorithm and for the wrong key).
func TestAsymRSAEncryption(t *testing.T) {
	e := fxNew(t)
	limits := map[string][2]int{"RSA_2048": {214, 190}, "RSA_3072": {342, 318}, "RSA_4096": {470, 446}}
	for _, spec := range []string{"RSA_2048", "RSA_3072", "RSA_4096"} {
		id, arn := e.kindKey(spec, "ENCRYPT_DECRYPT")
		pub, err := x509.ParsePKIXPublicKey(e.asPublic(id).PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		for i, alg := range []string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"} {
			n := limits[spec][i]
			out, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: make([]byte, n), EncryptionAlgorithm: alg})
			if err != nil {
				t.Fatalf("%s %s: %d bytes: %v", spec, alg, n, err)
			}
			if out.EncryptionAlgorithm != alg || out.KeyId != arn || len(out.CiphertextBlob) != pub.(*rsa.PublicKey).Size() {
				t.Fatalf("%s %s: Encrypt output %d bytes, %+v", spec, alg, len(out.CiphertextBlob), out)
			}
			_, err = e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: make([]byte, n+1), EncryptionAlgorithm: alg})
			fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.Encrypt, KeyID: arn, State: keystate.Enabled,
				Msg: fmt.Sprintf("Algorithm %s and key spec %s cannot encrypt data larger than %d bytes.", alg, spec, n)})
			// RPT-FL3024: a ciphertext made offline with the public key decrypts.
			var h hash.Hash = sha1.New()
			if alg == "RSAES_OAEP_SHA_256" {
				h = sha256.New()
			}
			ct, err := rsa.EncryptOAEP(h, rand.Reader, pub.(*rsa.PublicKey), []byte("offline"), nil)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{KeyId: id, CiphertextBlob: ct, EncryptionAlgorithm: alg})
			if err != nil || string(dec.Plaintext) != "offline" || dec.KeyId != arn || dec.EncryptionAlgorithm != alg {
				t.Fatalf("%s %s: Decrypt of an offline ciphertext: %+v %v", spec, alg, dec, err)
			}
		}
	}
	// §4.1: over 4096 bytes, the model's limit first.
	id, arn := e.kindKey("RSA_4096", "ENCRYPT_DECRYPT")
	_, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: make([]byte, 4097), EncryptionAlgorithm: "RSAES_OAEP_SHA_1"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.Encrypt,
		Msg: "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"})
	// RPT-ZAL: the default algorithm, SYMMETRIC_DEFAULT, on an RSA key.
	_, err = e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.Encrypt, KeyID: arn, State: keystate.Enabled,
		Msg: "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_4096."})
	// §4.2, recorded: the usage check before the algorithm check.
	signID, signARN := e.kindKey("ECC_NIST_P256", "SIGN_VERIFY")
	_, err = e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: signID, Plaintext: []byte("x")})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.Encrypt, KeyID: signARN, State: keystate.Enabled,
		Msg: signARN + " key usage is SIGN_VERIFY which is not valid for Encrypt."})

	rsaID, rsaARN := e.kindKey("RSA_2048", "ENCRYPT_DECRYPT")
	other, _ := e.kindKey("RSA_2048", "ENCRYPT_DECRYPT")
	enc, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: rsaID, Plaintext: []byte("secret"), EncryptionAlgorithm: "RSAES_OAEP_SHA_256"})
	if err != nil {
		t.Fatal(err)
	}
	decrypt := func(in *kms.DecryptInput) error {
		_, err := e.s.Decrypt(e.ctx, in)
		return err
	}
	ctx := map[string]string{"purpose": "test"}
	ec := func(arn, field string) string {
		return "The " + field + " parameter is valid only with symmetric encryption KMS keys; " + arn + " has key spec RSA_2048."
	}
	otherARN := fxARN(other)
	// D32: an encryption context with an asymmetric key is refused.
	_, err = e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: rsaID, Plaintext: []byte("x"), EncryptionAlgorithm: "RSAES_OAEP_SHA_256", EncryptionContext: ctx})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.Encrypt, KeyID: rsaARN, State: keystate.Enabled, Msg: ec(rsaARN, "EncryptionContext")})
	fxCheckErr(t, decrypt(&kms.DecryptInput{KeyId: rsaID, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: "RSAES_OAEP_SHA_256", EncryptionContext: ctx}),
		fxWant{Code: keystate.ErrValidation, Op: keystate.Decrypt, KeyID: rsaARN, State: keystate.Enabled, Msg: ec(rsaARN, "EncryptionContext")})
	_, err = e.s.ReEncrypt(e.ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceKeyId: rsaID, SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
		DestinationKeyId: other, DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_1", DestinationEncryptionContext: ctx})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.ReEncrypt, KeyID: otherARN, State: keystate.Enabled,
		Msg: ec(otherARN, "DestinationEncryptionContext")})
	// D33: no algorithm, the wrong algorithm, the wrong key: InvalidCiphertextException, empty message.
	for name, in := range map[string]*kms.DecryptInput{
		"no algorithm":    {KeyId: rsaID, CiphertextBlob: enc.CiphertextBlob},
		"wrong algorithm": {KeyId: rsaID, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: "RSAES_OAEP_SHA_1"},
		"wrong key":       {KeyId: other, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: "RSAES_OAEP_SHA_256"},
	} {
		arn := rsaARN
		if name == "wrong key" {
			arn = otherARN
		}
		t.Run(name, func(t *testing.T) {
			fxCheckErr(t, decrypt(in), fxWant{Code: keystate.ErrInvalidCiphertext, Op: keystate.Decrypt, KeyID: arn, State: keystate.Enabled})
		})
	}
	// §4.4: ReEncrypt RSA → RSA, RSA → symmetric, symmetric → RSA.
	re, err := e.s.ReEncrypt(e.ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceKeyId: rsaID, SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
		DestinationKeyId: other, DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_1"})
	if err != nil || re.SourceKeyId != rsaARN || re.KeyId != otherARN || re.SourceEncryptionAlgorithm != "RSAES_OAEP_SHA_256" ||
		re.DestinationEncryptionAlgorithm != "RSAES_OAEP_SHA_1" {
		t.Fatalf("ReEncrypt RSA → RSA: %+v %v", re, err)
	}
	dec, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{KeyId: other, CiphertextBlob: re.CiphertextBlob, EncryptionAlgorithm: "RSAES_OAEP_SHA_1"})
	if err != nil || string(dec.Plaintext) != "secret" {
		t.Fatalf("Decrypt after ReEncrypt: %+v %v", dec, err)
	}
	sym, _ := e.symmetric()
	re, err = e.s.ReEncrypt(e.ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceKeyId: rsaID, SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
		DestinationKeyId: sym, DestinationEncryptionContext: ctx})
	if err != nil || re.DestinationEncryptionAlgorithm != "SYMMETRIC_DEFAULT" {
		t.Fatalf("ReEncrypt RSA → symmetric: %+v %v", re, err)
	}
	re, err = e.s.ReEncrypt(e.ctx, &kms.ReEncryptInput{CiphertextBlob: re.CiphertextBlob, SourceEncryptionContext: ctx,
		DestinationKeyId: rsaID, DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_256"})
	if err != nil || re.SourceEncryptionAlgorithm != "SYMMETRIC_DEFAULT" || re.KeyId != rsaARN {
		t.Fatalf("ReEncrypt symmetric → RSA: %+v %v", re, err)
	}
	dec, err = e.s.Decrypt(e.ctx, &kms.DecryptInput{KeyId: rsaARN, CiphertextBlob: re.CiphertextBlob, EncryptionAlgorithm: "RSAES_OAEP_SHA_256"})
	if err != nil || string(dec.Plaintext) != "secret" {
		t.Fatalf("Decrypt after ReEncrypt to RSA: %+v %v", dec, err)
	}
}

// §4.1: SM2PKE in a China Region, and SM2 refused elsewhere (RPT-FL3026).
func TestAsymSM2(t *testing.T) {
	e := fxNew(t)
	_, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{KeySpec: "SM2", KeyUsage: "ENCRYPT_DECRYPT"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.CreateKey, Msg: "KeySpec SM2 is not supported in this Region"})
	cn := e.mrIn(asChina)
	m := cn.create(&kms.CreateKeyInput{KeySpec: "SM2", KeyUsage: "ENCRYPT_DECRYPT"})
	// The service's partition is one for all its Regions ("aws"); real
	// China ARNs are arn:aws-cn:…, which kmsmodel does not model per Region.
	if !strings.Contains(m.Arn, ":kms:"+asChina+":") || !slices.Equal(m.EncryptionAlgorithms, []string{"SM2PKE"}) {
		t.Fatalf("SM2 key: %+v", m)
	}
	out, err := cn.s.Encrypt(cn.ctx, &kms.EncryptInput{KeyId: m.KeyId, Plaintext: make([]byte, 1024), EncryptionAlgorithm: "SM2PKE"})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := cn.s.Decrypt(cn.ctx, &kms.DecryptInput{KeyId: m.KeyId, CiphertextBlob: out.CiphertextBlob, EncryptionAlgorithm: "SM2PKE"})
	if err != nil || len(dec.Plaintext) != 1024 {
		t.Fatalf("SM2 Decrypt: %v", err)
	}
	_, err = cn.s.Encrypt(cn.ctx, &kms.EncryptInput{KeyId: m.KeyId, Plaintext: make([]byte, 1025), EncryptionAlgorithm: "SM2PKE"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.Encrypt, KeyID: m.Arn, State: keystate.Enabled,
		Msg: "Algorithm SM2PKE and key spec SM2 cannot encrypt data larger than 1024 bytes."})
}

// §7: HMAC keys. The MAC is RFC 2104 HMAC, deterministic, of the spec's
// length; the wrong algorithm, a wrong MAC and an unknown algorithm are
// refused with the recorded messages.
func TestAsymMac(t *testing.T) {
	e := fxNew(t)
	for spec, n := range map[string]int{"HMAC_224": 28, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64} {
		alg := "HMAC_SHA_" + spec[len("HMAC_"):]
		m := e.create(&kms.CreateKeyInput{KeySpec: spec, KeyUsage: "GENERATE_VERIFY_MAC"})
		if !slices.Equal(m.MacAlgorithms, []string{alg}) {
			t.Fatalf("%s MacAlgorithms %v", spec, m.MacAlgorithms)
		}
		a, b := e.asMac(m.KeyId, alg, asMsg), e.asMac(m.Arn, alg, asMsg)
		if len(a) != n || !bytes.Equal(a, b) {
			t.Fatalf("%s: MACs %x and %x, want two equal of %d bytes", spec, a, b, n)
		}
		if bytes.Equal(a, e.asMac(m.KeyId, alg, []byte("another message"))) {
			t.Fatalf("%s: two messages, one MAC", spec)
		}
		out, err := e.s.VerifyMac(e.ctx, &kms.VerifyMacInput{KeyId: m.KeyId, Message: asMsg, MacAlgorithm: alg, Mac: a})
		if err != nil || !out.MacValid || out.KeyId != m.Arn || out.MacAlgorithm != alg {
			t.Fatalf("%s: VerifyMac %+v %v", spec, out, err)
		}
		a[0] ^= 1
		_, err = e.s.VerifyMac(e.ctx, &kms.VerifyMacInput{KeyId: m.KeyId, Message: asMsg, MacAlgorithm: alg, Mac: a})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidMac, Op: keystate.VerifyMac, KeyID: m.Arn, State: keystate.Enabled})
	}
	id224, arn224 := e.kindKey("HMAC_224", "GENERATE_VERIFY_MAC")
	_, err := e.s.GenerateMac(e.ctx, &kms.GenerateMacInput{KeyId: id224, Message: asMsg, MacAlgorithm: "HMAC_SHA_256"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.GenerateMac, KeyID: arn224, State: keystate.Enabled,
		Msg: "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224."})
	id256, arn256 := e.kindKey("HMAC_256", "GENERATE_VERIFY_MAC")
	_, err = e.s.VerifyMac(e.ctx, &kms.VerifyMacInput{KeyId: id256, Message: asMsg, MacAlgorithm: "HMAC_SHA_512", Mac: make([]byte, 64)})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.VerifyMac, KeyID: arn256, State: keystate.Enabled,
		Msg: "Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256."})
	// LS-KMS, recorded: the enum message, in AWS's order.
	_, err = e.s.GenerateMac(e.ctx, &kms.GenerateMacInput{KeyId: id256, Message: asMsg, MacAlgorithm: "INVALID"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.GenerateMac,
		Msg: fxValidation("INVALID", "macAlgorithm", "Member must satisfy enum value set: [HMAC_SHA_384, HMAC_SHA_256, HMAC_SHA_224, HMAC_SHA_512]")})
	symID, symARN := e.symmetric()
	_, err = e.s.GenerateMac(e.ctx, &kms.GenerateMacInput{KeyId: symID, Message: asMsg, MacAlgorithm: "HMAC_SHA_256"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.GenerateMac, KeyID: symARN, State: keystate.Enabled,
		Msg: symARN + " key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac."})
}

// §6: DeriveSharedSecret equals what the other party computes with
// crypto/ecdh from GetPublicKey's key; its refusals.
func TestAsymDeriveSharedSecret(t *testing.T) {
	e := fxNew(t)
	for spec, curve := range map[string]ecdh.Curve{"ECC_NIST_P256": ecdh.P256(), "ECC_NIST_P384": ecdh.P384(), "ECC_NIST_P521": ecdh.P521()} {
		id, arn := e.kindKey(spec, "KEY_AGREEMENT")
		local, err := curve.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		spki, err := x509.MarshalPKIXPublicKey(local.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.s.DeriveSharedSecret(e.ctx, &kms.DeriveSharedSecretInput{KeyId: id, KeyAgreementAlgorithm: "ECDH", PublicKey: spki})
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		kp, err := x509.ParsePKIXPublicKey(e.asPublic(id).PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		kmsPub, err := kp.(*ecdsa.PublicKey).ECDH()
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := local.ECDH(kmsPub)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.SharedSecret, theirs) || out.KeyId != arn || out.KeyAgreementAlgorithm != "ECDH" || out.KeyOrigin != "AWS_KMS" {
			t.Fatalf("%s: DeriveSharedSecret %x %+v, the other side %x", spec, []byte(out.SharedSecret), out, theirs)
		}
	}
	id, arn := e.kindKey("ECC_NIST_P256", "KEY_AGREEMENT")
	derive := func(id, alg string, pub []byte) error {
		_, err := e.s.DeriveSharedSecret(e.ctx, &kms.DeriveSharedSecretInput{KeyId: id, KeyAgreementAlgorithm: alg, PublicKey: pub})
		return err
	}
	p384, _ := ecdh.P384().GenerateKey(rand.Reader)
	wrongCurve, _ := x509.MarshalPKIXPublicKey(p384.PublicKey())
	signID, signARN := e.kindKey("ECC_NIST_P256", "SIGN_VERIFY")
	symID, symARN := e.symmetric()
	en := keystate.Enabled
	// Recorded (LS-KMS test_derive_shared_secret): not an SPKI → empty
	// message; the other curve: the same (§12.9).
	fxCheckErr(t, derive(id, "ECDH", []byte("InvalidPublicKey")), fxWant{Code: keystate.ErrValidation, Op: keystate.DeriveSharedSecret, KeyID: arn, State: en})
	fxCheckErr(t, derive(id, "ECDH", wrongCurve), fxWant{Code: keystate.ErrValidation, Op: keystate.DeriveSharedSecret, KeyID: arn, State: en})
	fxCheckErr(t, derive(id, "INVALID", wrongCurve), fxWant{Code: keystate.ErrValidation, Op: keystate.DeriveSharedSecret,
		Msg: "1 validation error detected: Value 'INVALID' at 'keyAgreementAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [ECDH]"})
	fxCheckErr(t, derive(signID, "ECDH", wrongCurve), fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.DeriveSharedSecret, KeyID: signARN, State: en,
		Msg: signARN + " key usage is SIGN_VERIFY which is not valid for DeriveSharedSecret."})
	fxCheckErr(t, derive(symID, "ECDH", wrongCurve), fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.DeriveSharedSecret, KeyID: symARN, State: en,
		Msg: symARN + " key usage is ENCRYPT_DECRYPT which is not valid for DeriveSharedSecret."})
	_, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{KeySpec: "RSA_2048", KeyUsage: "KEY_AGREEMENT"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.CreateKey, Msg: "KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048"})
}

// §5: GenerateDataKeyPair(+WithoutPlaintext) for every KeyPairSpec (SM2
// in a China Region only): PKCS#8 the standard library parses where it
// knows the key type, a public key that matches, a private key ciphertext
// that Decrypt opens with the same encryption context only; an asymmetric
// or HMAC KeyId is InvalidKeyUsageException.
func TestAsymGenerateDataKeyPair(t *testing.T) {
	e := fxNew(t)
	kek, kekARN := e.symmetric()
	ec := map[string]string{"app": "gdkp"}
	for _, spec := range []string{"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
		"ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "SM2"} {
		t.Run(spec, func(t *testing.T) {
			e, kek, kekARN := e, kek, kekARN
			if spec == "SM2" {
				// RPT-FL3026's rule, for data key pairs too.
				_, err := e.s.GenerateDataKeyPair(e.ctx, &kms.GenerateDataKeyPairInput{KeyId: kek, KeyPairSpec: spec})
				fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.GenerateDataKeyPair, KeyID: kekARN,
					State: keystate.Enabled, Msg: "KeyPairSpec SM2 is not supported in this Region"})
				e = e.mrIn(asChina)
				m := e.create(&kms.CreateKeyInput{})
				kek, kekARN = m.KeyId, m.Arn
			}
			out, err := e.s.GenerateDataKeyPair(e.ctx, &kms.GenerateDataKeyPairInput{KeyId: kek, KeyPairSpec: spec, EncryptionContext: ec})
			if err != nil {
				t.Fatal(err)
			}
			if out.KeyId != kekARN || out.KeyPairSpec != spec || len(out.PublicKey) == 0 || out.KeyMaterialId != e.describe(kek).CurrentKeyMaterialId {
				t.Fatalf("output %+v", out)
			}
			dec, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: out.PrivateKeyCiphertextBlob, EncryptionContext: ec})
			if err != nil || !bytes.Equal(dec.Plaintext, out.PrivateKeyPlaintext) || dec.KeyId != kekARN {
				t.Fatalf("Decrypt(PrivateKeyCiphertextBlob) = %v, want PrivateKeyPlaintext", err)
			}
			_, err = e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: out.PrivateKeyCiphertextBlob, EncryptionContext: map[string]string{"app": "other"}})
			fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidCiphertext, Op: keystate.Decrypt, KeyID: kekARN, State: keystate.Enabled})
			switch spec {
			case "ECC_SECG_P256K1", "SM2": // curves the standard library does not know
			default:
				priv, err := x509.ParsePKCS8PrivateKey(out.PrivateKeyPlaintext)
				if err != nil {
					t.Fatalf("PrivateKeyPlaintext is not PKCS#8: %v", err)
				}
				spki, err := x509.MarshalPKIXPublicKey(priv.(crypto.Signer).Public())
				if err != nil || !bytes.Equal(spki, out.PublicKey) {
					t.Fatalf("PublicKey does not match the private key: %v", err)
				}
			}
			wp, err := e.s.GenerateDataKeyPairWithoutPlaintext(e.ctx, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: kek, KeyPairSpec: spec})
			if err != nil || wp.KeyId != kekARN || wp.KeyPairSpec != spec || bytes.Equal(wp.PublicKey, out.PublicKey) {
				t.Fatalf("WithoutPlaintext: %+v %v (a fresh pair each call)", wp, err)
			}
			if _, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: wp.PrivateKeyCiphertextBlob}); err != nil {
				t.Fatalf("Decrypt of WithoutPlaintext's blob: %v", err)
			}
		})
	}
	for _, k := range []struct{ spec, usage string }{{"RSA_2048", "ENCRYPT_DECRYPT"}, {"ECC_NIST_P256", "SIGN_VERIFY"}, {"HMAC_256", "GENERATE_VERIFY_MAC"}} {
		id, arn := e.kindKey(k.spec, k.usage)
		_, err := e.s.GenerateDataKeyPair(e.ctx, &kms.GenerateDataKeyPairInput{KeyId: id, KeyPairSpec: "ECC_NIST_P256"})
		want := arn + " key usage is " + k.usage + " which is not valid for GenerateDataKeyPair."
		if k.usage == "ENCRYPT_DECRYPT" {
			want = arn + " key spec is RSA_2048 which is not valid for GenerateDataKeyPair."
		}
		fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.GenerateDataKeyPair, KeyID: arn, State: keystate.Enabled, Msg: want})
	}
	_, err := e.s.GenerateDataKeyPair(e.ctx, &kms.GenerateDataKeyPairInput{KeyId: kek, KeyPairSpec: "ML_DSA_44"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.GenerateDataKeyPair, AnyMsg: true})
}

// asImport imports material wrapped with alg into EXTERNAL key id.
func asImport(t *testing.T, e *fxEnv, id, alg string, material []byte) error {
	t.Helper()
	_, err := imImport(t, e.s, id, alg, material, nil)
	return err
}

// §9: imported RSA, ECC and HMAC material. The public key is the imported
// key's; signatures verify both ways; DescribeKey follows the recorded
// sequence (no CurrentKeyMaterialId, ExpirationModel while imported);
// DeleteImportedKeyMaterial returns the key to PendingImport; only the
// same material may be imported again.
func TestAsymImportedMaterial(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	for _, c := range []struct {
		spec, usage, wrap string
		material, other   []byte
		priv              crypto.Signer
		alg               string
	}{
		{"RSA_2048", "SIGN_VERIFY", "RSA_AES_KEY_WRAP_SHA_256", pkcs8(rsaKey), pkcs8(otherRSA), rsaKey, "RSASSA_PSS_SHA_256"},
		{"ECC_NIST_P256", "SIGN_VERIFY", "RSAES_OAEP_SHA_256", pkcs8(ecKey), pkcs8(otherEC), ecKey, "ECDSA_SHA_256"},
		{"HMAC_256", "GENERATE_VERIFY_MAC", "RSAES_OAEP_SHA_256", bytes.Repeat([]byte{0x42}, 32), bytes.Repeat([]byte{0x24}, 32), nil, "HMAC_SHA_256"},
	} {
		t.Run(c.spec, func(t *testing.T) {
			e := fxNew(t)
			m := e.create(&kms.CreateKeyInput{KeySpec: c.spec, KeyUsage: c.usage, Origin: "EXTERNAL"})
			if m.KeyState != "PendingImport" || m.Enabled || m.ExpirationModel != "" || m.CurrentKeyMaterialId != "" ||
				(m.SigningAlgorithms == nil && m.MacAlgorithms == nil) {
				t.Fatalf("after CreateKey: %+v", m)
			}
			if err := asImport(t, e, m.KeyId, c.wrap, c.material); err != nil {
				t.Fatal(err)
			}
			d := e.describe(m.KeyId)
			if d.KeyState != "Enabled" || !d.Enabled || d.ExpirationModel != "KEY_MATERIAL_DOES_NOT_EXPIRE" || d.CurrentKeyMaterialId != "" {
				t.Fatalf("after ImportKeyMaterial: %+v", d)
			}
			if c.priv != nil {
				want, err := x509.MarshalPKIXPublicKey(c.priv.Public())
				if err != nil {
					t.Fatal(err)
				}
				if got := e.asPublic(m.KeyId).PublicKey; !bytes.Equal(got, want) {
					t.Fatalf("GetPublicKey is not the imported key's")
				}
				sig := e.asSign(m.KeyId, c.alg, "RAW", asMsg)
				asStdVerify(t, c.priv.Public(), c.alg, asMsg, sig)
				// A signature made outside KMS with the private key verifies in KMS.
				h := asHash(c.alg)
				var opts crypto.SignerOpts = h
				if strings.HasPrefix(c.alg, "RSASSA_PSS") {
					opts = &rsa.PSSOptions{SaltLength: h.Size(), Hash: h}
				}
				local, err := c.priv.Sign(rand.Reader, asDigest(h, asMsg), opts)
				if err != nil {
					t.Fatal(err)
				}
				if err := e.asVerify(m.KeyId, c.alg, "RAW", asMsg, local); err != nil {
					t.Fatalf("Verify of a signature made with the imported key: %v", err)
				}
			} else {
				mac := hmac.New(sha256.New, c.material)
				mac.Write(asMsg)
				if got := e.asMac(m.KeyId, c.alg, asMsg); !bytes.Equal(got, mac.Sum(nil)) {
					t.Fatalf("GenerateMac %x is not HMAC-SHA-256 of the imported key", got)
				}
			}
			// §9.3: only one material, ever.
			err := asImport(t, e, m.KeyId, c.wrap, c.other)
			fxCheckErr(t, err, fxWant{Code: keystate.ErrIncorrectKeyMaterial, Op: keystate.ImportKeyMaterial, KeyID: m.Arn,
				State: keystate.Enabled, AnyMsg: true})
			if err := asImport(t, e, m.KeyId, c.wrap, c.material); err != nil {
				t.Fatalf("the same material again: %v", err)
			}
			if _, err := e.s.DeleteImportedKeyMaterial(e.ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: m.KeyId}); err != nil {
				t.Fatal(err)
			}
			d = e.describe(m.KeyId)
			if d.KeyState != "PendingImport" || d.Enabled || d.ExpirationModel != "" || d.CurrentKeyMaterialId != "" {
				t.Fatalf("after DeleteImportedKeyMaterial: %+v", d)
			}
			if c.priv != nil {
				// §11: GetPublicKey ✓ in PendingImport; the public key of
				// the deleted material stays.
				want, _ := x509.MarshalPKIXPublicKey(c.priv.Public())
				if got := e.asPublic(m.KeyId).PublicKey; !bytes.Equal(got, want) {
					t.Fatalf("GetPublicKey after DeleteImportedKeyMaterial is not the imported key's")
				}
			}
			err = asImport(t, e, m.KeyId, c.wrap, c.other)
			fxCheckErr(t, err, fxWant{Code: keystate.ErrIncorrectKeyMaterial, Op: keystate.ImportKeyMaterial, KeyID: m.Arn,
				State: keystate.PendingImport, AnyMsg: true})
			if err := asImport(t, e, m.KeyId, c.wrap, c.material); err != nil {
				t.Fatalf("the same material after deletion: %v", err)
			}
			if c.priv != nil {
				sig := e.asSign(m.KeyId, c.alg, "RAW", asMsg)
				asStdVerify(t, c.priv.Public(), c.alg, asMsg, sig)
			}
		})
	}
}

// asMRKey creates a multi-Region primary of spec and usage.
func (e *fxEnv) asMRKey(spec, usage string) (id, arn string) {
	e.t.Helper()
	m := e.create(&kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage, MultiRegion: true})
	return m.KeyId, m.Arn
}

// The material of a multi-Region key is generated once and shared: what
// one Region signs another verifies, whether the replica was made before
// or after the key's first use, and whichever Region uses it first; the
// public key and MAC are the same in every Region.
func TestAsymMultiRegionSharedMaterial(t *testing.T) {
	e := fxNew(t)
	west, eu := e.mrIn(mrWest), e.mrIn(mrEU)

	id, _ := e.asMRKey("ECC_NIST_P256", "SIGN_VERIFY")
	e.mrReplicate(id, mrWest) // before first use
	sig := e.asSign(id, "ECDSA_SHA_256", "RAW", asMsg)
	e.mrReplicate(id, mrEU) // after first use
	pub := e.asPublic(id).PublicKey
	for _, r := range []*fxEnv{west, eu} {
		if err := r.asVerify(id, "ECDSA_SHA_256", "RAW", asMsg, sig); err != nil {
			t.Fatalf("%s does not verify the primary's signature: %v", kms.CallerRegion(r.ctx), err)
		}
		if got := r.asPublic(id).PublicKey; !bytes.Equal(got, pub) {
			t.Fatalf("%s has another public key", kms.CallerRegion(r.ctx))
		}
	}
	if err := e.asVerify(id, "ECDSA_SHA_256", "RAW", asMsg, eu.asSign(id, "ECDSA_SHA_256", "RAW", asMsg)); err != nil {
		t.Fatalf("the primary does not verify the replica's signature: %v", err)
	}

	// First use in a replica: the primary then has the same key.
	id2, _ := e.asMRKey("ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
	e.mrReplicate(id2, mrWest)
	first := west.asPublic(id2).PublicKey
	if got := e.asPublic(id2).PublicKey; !bytes.Equal(got, first) {
		t.Fatalf("the primary's public key differs from the one its replica showed first")
	}
	e.mrReplicate(id2, mrEU)
	if got := eu.asPublic(id2).PublicKey; !bytes.Equal(got, first) {
		t.Fatalf("a later replica's public key differs")
	}

	hid, _ := e.asMRKey("HMAC_512", "GENERATE_VERIFY_MAC")
	e.mrReplicate(hid, mrWest)
	mac := west.asMac(hid, "HMAC_SHA_512", asMsg)
	e.mrReplicate(hid, mrEU)
	for _, r := range []*fxEnv{e, eu} {
		if got := r.asMac(hid, "HMAC_SHA_512", asMsg); !bytes.Equal(got, mac) {
			t.Fatalf("%s computes another MAC", kms.CallerRegion(r.ctx))
		}
	}
}

// asReopener returns a function that opens a service on reopen's store
// (closing prev's first, as reopen does), with one manual clock for all.
func asReopener(t *testing.T, reopen func(*kms.Service) store.Store) func(prev *kms.Service) *fxEnv {
	clock := kms.NewManualClock(fxT0)
	return func(prev *kms.Service) *fxEnv {
		s, err := kms.Open(context.Background(), reopen(prev), kms.WithClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		return &fxEnv{t: t, s: s, clk: clock, ctx: context.Background()}
	}
}

// The public key a caller first sees never changes: over store.Memory and
// boltstore, the public keys, a MAC and the signatures made before a
// restart are the same after it, for single- and multi-Region keys, used
// before the restart or first used after it.
func TestAsymMaterialPersists(t *testing.T) {
	for name, reopen := range psStores(t) {
		t.Run(name, func(t *testing.T) {
			open := asReopener(t, reopen)
			e := open(nil)
			ecID, _ := e.kindKey("ECC_NIST_P384", "SIGN_VERIFY")
			mlID, _ := e.kindKey("ML_DSA_44", "SIGN_VERIFY")
			hID, _ := e.kindKey("HMAC_256", "GENERATE_VERIFY_MAC")
			mrID, _ := e.asMRKey("ECC_NIST_P256", "SIGN_VERIFY")
			e.mrReplicate(mrID, mrWest)
			unused, _ := e.kindKey("ECC_NIST_P521", "SIGN_VERIFY")
			ecPub, mlPub, mrPub := e.asPublic(ecID).PublicKey, e.asPublic(mlID).PublicKey, e.mrIn(mrWest).asPublic(mrID).PublicKey
			ecSig := e.asSign(ecID, "ECDSA_SHA_384", "RAW", asMsg)
			mlSig := e.asSign(mlID, "ML_DSA_SHAKE_256", "RAW", asMsg)
			mac := e.asMac(hID, "HMAC_SHA_256", asMsg)

			e = open(e.s)
			if !bytes.Equal(e.asPublic(ecID).PublicKey, ecPub) || !bytes.Equal(e.asPublic(mlID).PublicKey, mlPub) ||
				!bytes.Equal(e.asPublic(mrID).PublicKey, mrPub) || !bytes.Equal(e.mrIn(mrWest).asPublic(mrID).PublicKey, mrPub) {
				t.Fatal("a public key changed across the restart")
			}
			if err := e.asVerify(ecID, "ECDSA_SHA_384", "RAW", asMsg, ecSig); err != nil {
				t.Fatalf("ECDSA signature from before the restart: %v", err)
			}
			if err := e.asVerify(mlID, "ML_DSA_SHAKE_256", "RAW", asMsg, mlSig); err != nil {
				t.Fatalf("ML-DSA signature from before the restart: %v", err)
			}
			if got := e.asMac(hID, "HMAC_SHA_256", asMsg); !bytes.Equal(got, mac) {
				t.Fatal("the MAC changed across the restart")
			}
			unusedPub := e.asPublic(unused).PublicKey // first use after the restart
			e = open(e.s)
			if !bytes.Equal(e.asPublic(unused).PublicKey, unusedPub) {
				t.Fatal("a key first used after a restart changed at the next one")
			}
			if err := e.s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// D8 (§8): the rotation calls on asymmetric and HMAC keys are refused as
// for any key kind AWS does not rotate; GetKeyRotationStatus says false;
// the material never changes.
func TestAsymRotationRefused(t *testing.T) {
	e := fxNew(t)
	for _, k := range []struct{ spec, usage string }{
		{"RSA_2048", "ENCRYPT_DECRYPT"}, {"ECC_NIST_P256", "SIGN_VERIFY"}, {"HMAC_256", "GENERATE_VERIFY_MAC"},
	} {
		id, arn := e.kindKey(k.spec, k.usage)
		var before []byte
		if k.usage == "GENERATE_VERIFY_MAC" {
			before = e.asMac(id, "HMAC_SHA_256", asMsg)
		} else {
			before = e.asPublic(id).PublicKey
		}
		_, err := e.s.EnableKeyRotation(e.ctx, &kms.EnableKeyRotationInput{KeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.EnableKeyRotation, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
		_, err = e.s.DisableKeyRotation(e.ctx, &kms.DisableKeyRotationInput{KeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.DisableKeyRotation, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
		_, err = e.s.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.RotateKeyOnDemand, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
		if st := e.status(id); st.KeyRotationEnabled {
			t.Fatalf("%s: GetKeyRotationStatus %+v", k.spec, st)
		}
		if r := e.rotations(id); len(r) != 0 {
			t.Fatalf("%s: rotations %+v", k.spec, r)
		}
		e.advance(400 * fxDay)
		var after []byte
		if k.usage == "GENERATE_VERIFY_MAC" {
			after = e.asMac(id, "HMAC_SHA_256", asMsg)
		} else {
			after = e.asPublic(id).PublicKey
		}
		if !bytes.Equal(before, after) {
			t.Fatalf("%s: the material changed", k.spec)
		}
	}
}

// Spec §2.2: Sign with EXTERNAL_MU signs μ = SHAKE256(SHAKE256(pk, 64) ‖
// 0x00 ‖ 0x00 ‖ M, 64), and the result verifies as a RAW signature of M.
// Verify itself does not take EXTERNAL_MU (documented gap).
func TestSignExternalMu(t *testing.T) {
	e := fxNew(t)
	for _, spec := range []string{"ML_DSA_44", "ML_DSA_65", "ML_DSA_87"} {
		id, _ := e.kindKey(spec, "SIGN_VERIFY")
		pk, err := e.s.GetPublicKey(e.ctx, &kms.GetPublicKeyInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		var spki struct {
			Algorithm pkix.AlgorithmIdentifier
			PublicKey asn1.BitString
		}
		if _, err := asn1.Unmarshal(pk.PublicKey, &spki); err != nil {
			t.Fatal(err)
		}
		msg := []byte("a message too long to send, hashed to μ by the caller")
		tr := make([]byte, 64)
		h := sha3.NewSHAKE256()
		h.Write(spki.PublicKey.Bytes)
		h.Read(tr)
		h = sha3.NewSHAKE256()
		h.Write(tr)
		h.Write([]byte{0, 0})
		h.Write(msg)
		mu := make([]byte, 64)
		h.Read(mu)
		sig, err := e.s.Sign(e.ctx, &kms.SignInput{KeyId: id, Message: mu, MessageType: "EXTERNAL_MU", SigningAlgorithm: "ML_DSA_SHAKE_256"})
		if err != nil {
			t.Fatalf("%s: Sign EXTERNAL_MU: %v", spec, err)
		}
		if _, err := e.s.Verify(e.ctx, &kms.VerifyInput{KeyId: id, Message: msg, Signature: sig.Signature, SigningAlgorithm: "ML_DSA_SHAKE_256"}); err != nil {
			t.Fatalf("%s: Verify RAW of the μ-signed message: %v", spec, err)
		}
		_, err = e.s.Verify(e.ctx, &kms.VerifyInput{KeyId: id, Message: mu, MessageType: "EXTERNAL_MU", Signature: sig.Signature, SigningAlgorithm: "ML_DSA_SHAKE_256"})
		if !errors.Is(err, keystate.ErrValidation) {
			t.Fatalf("%s: Verify EXTERNAL_MU = %v, want ValidationException (not supported)", spec, err)
		}
	}
}
