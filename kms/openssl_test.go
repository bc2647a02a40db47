package kms_test

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/openssltest"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// Issue 13's acceptance: signatures verified by an independent
// implementation. Each test writes the public key from GetPublicKey and a
// signature from Sign to files and runs OpenSSL on them; for RSA OAEP,
// OpenSSL encrypts with GetPublicKey's key and the service decrypts.
// (internal/keycrypto checks the primitives the same way; these go through
// the service.)

// osslPublicKey writes key id's public key, from GetPublicKey, as pub.pem.
func osslPublicKey(t *testing.T, e *fxEnv, dir, id string) {
	t.Helper()
	pk, err := e.s.GetPublicKey(e.ctx, &kms.GetPublicKeyInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	openssltest.Write(t, dir, "pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pk.PublicKey}))
}

func TestOpenSSLVerifiesServiceSignatures(t *testing.T) {
	dir := openssltest.Dir(t)
	msg := []byte("kmsmodel: signed by the service, verified by OpenSSL")
	openssltest.Write(t, dir, "msg.bin", msg)
	e := fxNew(t)
	for _, spec := range []string{"RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519"} {
		md := e.create(&kms.CreateKeyInput{KeySpec: spec, KeyUsage: "SIGN_VERIFY"})
		osslPublicKey(t, e, dir, md.KeyId)
		for _, alg := range md.SigningAlgorithms {
			if alg == "ED25519_PH_SHA_512" {
				continue // OpenSSL 3.0's command line has no Ed25519ph
			}
			out, err := e.s.Sign(e.ctx, &kms.SignInput{KeyId: md.KeyId, Message: msg, SigningAlgorithm: alg})
			if err != nil {
				t.Fatalf("%s %s: %v", spec, alg, err)
			}
			openssltest.Write(t, dir, "sig.bin", out.Signature)
			var args []string
			switch {
			case alg == "ED25519_SHA_512":
				args = []string{"pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg.bin", "-sigfile", "sig.bin"}
			default:
				hash := "-sha" + alg[len(alg)-3:]
				args = []string{"dgst", hash}
				if strings.HasPrefix(alg, "RSASSA_PSS") {
					args = append(args, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest")
				}
				args = append(args, "-verify", "pub.pem", "-signature", "sig.bin", "msg.bin")
			}
			if got := string(openssltest.Run(t, dir, args...)); !strings.Contains(got, "Verified OK") && !strings.Contains(got, "Signature Verified Successfully") {
				t.Fatalf("%s %s: openssl says %q", spec, alg, got)
			}
		}
	}
}

func TestOpenSSLEncryptsServiceDecrypts(t *testing.T) {
	dir := openssltest.Dir(t)
	pt := []byte("kmsmodel: encrypted by OpenSSL, decrypted by the service")
	openssltest.Write(t, dir, "pt.bin", pt)
	e := fxNew(t)
	md := e.create(&kms.CreateKeyInput{KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT"})
	osslPublicKey(t, e, dir, md.KeyId)
	for alg, hash := range map[string]string{"RSAES_OAEP_SHA_1": "sha1", "RSAES_OAEP_SHA_256": "sha256"} {
		openssltest.Run(t, dir, "pkeyutl", "-encrypt", "-pubin", "-inkey", "pub.pem", "-in", "pt.bin", "-out", "ct.bin",
			"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:"+hash, "-pkeyopt", "rsa_mgf1_md:"+hash)
		ct, err := os.ReadFile(filepath.Join(dir, "ct.bin"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{KeyId: md.KeyId, CiphertextBlob: ct, EncryptionAlgorithm: alg})
		if err != nil || !bytes.Equal(out.Plaintext, pt) || out.EncryptionAlgorithm != alg {
			t.Fatalf("%s: Decrypt of OpenSSL's ciphertext = %+v, %v", alg, out, err)
		}
	}
}

// An enum value outside the set is a ValidationException that lists the
// set as AWS does, comma-separated (recorded, asymmetric-hmac spec §7).
func TestEnumMessageAsRecorded(t *testing.T) {
	e := fxNew(t)
	md := e.create(&kms.CreateKeyInput{KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"})
	_, err := e.s.GenerateMac(e.ctx, &kms.GenerateMacInput{KeyId: md.KeyId, Message: []byte("m"), MacAlgorithm: "INVALID"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.GenerateMac,
		Msg: "1 validation error detected: Value 'INVALID' at 'macAlgorithm' failed to satisfy constraint: " +
			"Member must satisfy enum value set: [HMAC_SHA_384, HMAC_SHA_256, HMAC_SHA_224, HMAC_SHA_512]"})
}

// D34: GenerateMac and VerifyMac take alias names and alias ARNs (their
// cross-account note names alias ARNs, spec §7, §12.18), and an empty
// Message is ValidationException (the API model's minimum of 1, §12.7).
func TestDecisionD34MacAliasesAndEmptyMessage(t *testing.T) {
	e := fxNew(t)
	md := e.create(&kms.CreateKeyInput{KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"})
	e.createAlias("alias/mac", md.KeyId)
	byID, err := e.s.GenerateMac(e.ctx, &kms.GenerateMacInput{KeyId: md.KeyId, Message: []byte("m"), MacAlgorithm: "HMAC_SHA_256"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alias/mac", fxAliasARN("alias/mac")} {
		out, err := e.s.GenerateMac(e.ctx, &kms.GenerateMacInput{KeyId: name, Message: []byte("m"), MacAlgorithm: "HMAC_SHA_256"})
		if err != nil || !bytes.Equal(out.Mac, byID.Mac) || out.KeyId != md.Arn {
			t.Fatalf("GenerateMac with %s = %+v, %v", name, out, err)
		}
		if _, err := e.s.VerifyMac(e.ctx, &kms.VerifyMacInput{KeyId: name, Message: []byte("m"), MacAlgorithm: "HMAC_SHA_256", Mac: byID.Mac}); err != nil {
			t.Fatalf("VerifyMac with %s: %v", name, err)
		}
	}
	_, err = e.s.GenerateMac(e.ctx, &kms.GenerateMacInput{KeyId: md.KeyId, MacAlgorithm: "HMAC_SHA_256"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.GenerateMac,
		Msg: "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length greater than or equal to 1"})
}

// D35: an ML-KEM key takes no imported material (AWS lists no ML-KEM
// import, spec §1.2, §12.11): the import calls refuse it.
func TestDecisionD35NoMLKEMImport(t *testing.T) {
	e := fxNew(t)
	out, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{KeySpec: "ML_KEM_768", KeyUsage: "ENCAPSULATE_DECAPSULATE", Origin: "EXTERNAL"})
	if err != nil {
		t.Fatalf("CreateKey of an EXTERNAL ML-KEM key: %v", err)
	}
	_, err = e.s.GetParametersForImport(e.ctx, &kms.GetParametersForImportInput{KeyId: out.KeyMetadata.KeyId,
		WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.GetParametersForImport,
		KeyID: out.KeyMetadata.Arn, State: keystate.PendingImport, Msg: "Importing key material into a ML_KEM_768 key is not supported."})
}
