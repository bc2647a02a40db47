package keycrypto_test

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/internal/openssltest"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// Independent checks with the OpenSSL command line (3.0 or later): what
// keycrypto signs, encrypts for, derives and encodes, OpenSSL verifies,
// decrypts, derives and parses the same way.

// writePublicPEM writes k's public key to pub.pem in dir.
func writePublicPEM(t *testing.T, dir string, k *keycrypto.Key) {
	t.Helper()
	der, err := k.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	openssltest.Write(t, dir, "pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// RSA PSS and PKCS#1 v1.5 (all three hashes), ECDSA on the NIST curves and
// secp256k1: `openssl dgst -verify` accepts keycrypto's signatures, made
// from RAW and from DIGEST messages.
func TestOpenSSLVerifiesSignatures(t *testing.T) {
	dir := openssltest.Dir(t)
	openssltest.Write(t, dir, "msg.bin", message)
	for _, spec := range []keystate.KeySpec{keystate.RSA2048, keystate.RSA3072, keystate.ECCNISTP256,
		keystate.ECCNISTP384, keystate.ECCNISTP521, keystate.ECCSECGP256K1} {
		k := testKey(t, spec)
		writePublicPEM(t, dir, k)
		for _, alg := range keycrypto.SigningAlgorithms(spec) {
			for _, mt := range []string{"RAW", "DIGEST"} {
				sig, err := k.Sign(alg, mt, signInput(t, k, alg, mt))
				if err != nil {
					t.Fatal(err)
				}
				openssltest.Write(t, dir, "sig.bin", sig)
				n, _ := keycrypto.DigestLength(alg)
				args := []string{"dgst", map[int]string{32: "-sha256", 48: "-sha384", 64: "-sha512"}[n]}
				if strings.HasPrefix(alg, "RSASSA_PSS") {
					args = append(args, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest")
				}
				args = append(args, "-verify", "pub.pem", "-signature", "sig.bin", "msg.bin")
				if out := openssltest.Run(t, dir, args...); !bytes.Contains(out, []byte("Verified OK")) {
					t.Fatalf("%s %s %s: openssl says %s", spec, alg, mt, out)
				}
			}
		}
	}
}

// Pure Ed25519 (ED25519_SHA_512): `openssl pkeyutl -verify -rawin`.
func TestOpenSSLVerifiesEd25519(t *testing.T) {
	dir := openssltest.Dir(t)
	k := testKey(t, keystate.ECCNISTEdwards25519)
	writePublicPEM(t, dir, k)
	openssltest.Write(t, dir, "msg.bin", message)
	sig, err := k.Sign("ED25519_SHA_512", "RAW", message)
	if err != nil {
		t.Fatal(err)
	}
	openssltest.Write(t, dir, "sig.bin", sig)
	out := openssltest.Run(t, dir, "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg.bin", "-sigfile", "sig.bin")
	if !bytes.Contains(out, []byte("Signature Verified Successfully")) {
		t.Fatalf("openssl says %s", out)
	}
}

// SM2DSA RAW uses the default distinguishing ID: OpenSSL verifies with
// distid 1234567812345678 and SM3.
func TestOpenSSLVerifiesSM2(t *testing.T) {
	dir := openssltest.Dir(t)
	k := testKey(t, keystate.SM2)
	writePublicPEM(t, dir, k)
	openssltest.Write(t, dir, "msg.bin", message)
	sig, err := k.Sign("SM2DSA", "RAW", message)
	if err != nil {
		t.Fatal(err)
	}
	openssltest.Write(t, dir, "sig.bin", sig)
	out := openssltest.Run(t, dir, "dgst", "-sm3", "-sigopt", "distid:1234567812345678", "-verify", "pub.pem", "-signature", "sig.bin", "msg.bin")
	if !bytes.Contains(out, []byte("Verified OK")) {
		t.Fatalf("openssl says %s", out)
	}
}

// RSAES_OAEP_SHA_1/256: OpenSSL encrypts with the public key (MGF1 with the
// same hash, no label) and keycrypto decrypts.
func TestOpenSSLEncryptsOAEP(t *testing.T) {
	dir := openssltest.Dir(t)
	k := testKey(t, keystate.RSA2048)
	writePublicPEM(t, dir, k)
	openssltest.Write(t, dir, "pt.bin", message)
	for alg, md := range map[string]string{"RSAES_OAEP_SHA_256": "sha256", "RSAES_OAEP_SHA_1": "sha1"} {
		openssltest.Run(t, dir, "pkeyutl", "-encrypt", "-pubin", "-inkey", "pub.pem", "-in", "pt.bin", "-out", "ct.bin",
			"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:"+md, "-pkeyopt", "rsa_mgf1_md:"+md)
		ct, err := os.ReadFile(filepath.Join(dir, "ct.bin"))
		if err != nil {
			t.Fatal(err)
		}
		pt, err := k.Decrypt(alg, ct)
		if err != nil || !bytes.Equal(pt, message) {
			t.Fatalf("%s: Decrypt of OpenSSL's ciphertext: %v", alg, err)
		}
	}
}

// ECDH: `openssl pkeyutl -derive` between an OpenSSL key and keycrypto's
// public key gives keycrypto's DeriveSharedSecret with OpenSSL's public key.
func TestOpenSSLDerivesSameSecret(t *testing.T) {
	dir := openssltest.Dir(t)
	for spec, curve := range map[keystate.KeySpec]string{keystate.ECCNISTP256: "P-256",
		keystate.ECCNISTP384: "P-384", keystate.ECCNISTP521: "P-521"} {
		k := testKey(t, spec)
		writePublicPEM(t, dir, k)
		openssltest.Run(t, dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:"+curve, "-out", "peer.pem")
		openssltest.Run(t, dir, "pkey", "-in", "peer.pem", "-pubout", "-outform", "DER", "-out", "peer.der")
		peer, err := os.ReadFile(filepath.Join(dir, "peer.der"))
		if err != nil {
			t.Fatal(err)
		}
		want := openssltest.Run(t, dir, "pkeyutl", "-derive", "-inkey", "peer.pem", "-peerkey", "pub.pem")
		got, err := k.DeriveSharedSecret("ECDH", peer)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: DeriveSharedSecret = %x, %v; openssl %x", spec, got, err, want)
		}
	}
}

// Spec §5: OpenSSL parses the PKCS#8 and SPKI of every data key pair spec,
// and derives the same public key from the private key.
func TestOpenSSLParsesDataKeyPairs(t *testing.T) {
	dir := openssltest.Dir(t)
	for _, spec := range []string{"RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
		"ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "SM2"} {
		priv, pub, err := keycrypto.GenerateDataKeyPair(spec, seeded(5))
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		openssltest.Write(t, dir, "priv.der", priv)
		openssltest.Write(t, dir, "pub.der", pub)
		openssltest.Run(t, dir, "pkey", "-pubin", "-inform", "DER", "-in", "pub.der", "-noout")
		derived := openssltest.Run(t, dir, "pkey", "-inform", "DER", "-in", "priv.der", "-pubout", "-outform", "DER")
		if !bytes.Equal(derived, pub) {
			t.Fatalf("%s: OpenSSL derives another public key from the PKCS#8", spec)
		}
	}
}

// Spec §9.1: keys made by OpenSSL import; the public key is the one OpenSSL
// derives (spec §3: GetPublicKey after import); compressed points import;
// explicit curve parameters are refused.
func TestOpenSSLKeysImport(t *testing.T) {
	dir := openssltest.Dir(t)
	gen := map[keystate.KeySpec][]string{
		keystate.RSA2048:             {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"},
		keystate.ECCNISTP256:         {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"},
		keystate.ECCNISTP384:         {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"},
		keystate.ECCNISTP521:         {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"},
		keystate.ECCSECGP256K1:       {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"},
		keystate.ECCNISTEdwards25519: {"-algorithm", "ED25519"},
		keystate.SM2:                 {"-algorithm", "SM2"},
	}
	for spec, args := range gen {
		material := genPKCS8(t, dir, "k.der", args...)
		want := openssltest.Run(t, dir, "pkey", "-inform", "DER", "-in", "k.der", "-pubout", "-outform", "DER")
		k, err := keycrypto.ParseImported(spec, material)
		if err != nil {
			t.Fatalf("%s: ParseImported(OpenSSL key): %v", spec, err)
		}
		if got, _ := k.PublicKey(); !bytes.Equal(got, want) {
			t.Fatalf("%s: PublicKey differs from OpenSSL's", spec)
		}
	}
	// Compressed public point inside the RFC 5915 key: accepted.
	openssltest.Run(t, dir, "genpkey", "-out", "gen.pem", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
	openssltest.Run(t, dir, "ec", "-in", "gen.pem", "-conv_form", "compressed", "-out", "comp.pem")
	openssltest.Run(t, dir, "pkcs8", "-topk8", "-nocrypt", "-in", "comp.pem", "-outform", "DER", "-out", "c.der")
	material, _ := os.ReadFile(filepath.Join(dir, "c.der"))
	if !bytes.Contains(material, []byte{0x03, 0x22, 0x00}) { // BIT STRING of a 33-byte point
		t.Fatal("OpenSSL wrote no compressed public point to test")
	}
	if _, err := keycrypto.ParseImported(keystate.ECCNISTP256, material); err != nil {
		t.Fatalf("compressed point: %v", err)
	}
	// Three primes: refused (spec §9.1: exactly 2).
	material = genPKCS8(t, dir, "m.der", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-pkeyopt", "rsa_keygen_primes:3")
	if _, err := keycrypto.ParseImported(keystate.RSA2048, material); err == nil {
		t.Fatal("a three-prime RSA key was imported")
	}
	// Explicit parameters: refused.
	material = genPKCS8(t, dir, "e.der", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
		"-pkeyopt", "ec_param_enc:explicit")
	if _, err := keycrypto.ParseImported(keystate.ECCNISTP256, material); err == nil ||
		!strings.Contains(err.Error(), "named curve") {
		t.Fatalf("explicit parameters: %v, want a named-curve refusal", err)
	}
}

// genPKCS8 makes a key with `openssl genpkey args` and writes it to name as
// unencrypted PKCS#8 DER (genpkey's own DER is the traditional form).
func genPKCS8(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	openssltest.Run(t, dir, append([]string{"genpkey", "-out", "gen.pem"}, args...)...)
	openssltest.Run(t, dir, "pkcs8", "-topk8", "-nocrypt", "-in", "gen.pem", "-outform", "DER", "-out", name)
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
