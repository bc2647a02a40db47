package attestation_test

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/kmsmodel/kmsmodel/internal/openssltest"
	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// opensslDir returns a temporary directory holding the enclave key
// (key.pem, PKCS #8) and a self-signed certificate for it (cert.pem, with
// the subject key identifier Seal names), skipping the test without
// openssl.
func opensslDir(t *testing.T) string {
	t.Helper()
	dir := openssltest.Dir(t)
	p8, err := x509.MarshalPKCS8PrivateKey(enclaveKey())
	if err != nil {
		t.Fatal(err)
	}
	cert := enclaveCert(t)
	openssltest.Write(t, dir, "key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))
	openssltest.Write(t, dir, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}))
	return dir
}

// OpenSSL, an independent CMS implementation, opens Seal's envelopes
// (BER with indefinite lengths, a subject key identifier, RSAES-OAEP with
// SHA-256, AES-256-CBC).
func TestOpenSSLOpensSeal(t *testing.T) {
	dir := opensslDir(t)
	for _, n := range []int{0, 1, 32, 1023, 1024, 4096} {
		plaintext := make([]byte, n)
		for i := range plaintext {
			plaintext[i] = byte(i*7 + n)
		}
		openssltest.Write(t, dir, "env.der", seal(t, &enclaveKey().PublicKey, plaintext))
		openssltest.Run(t, dir, "cms", "-decrypt", "-inform", "DER", "-in", "env.der", "-inkey", "key.pem", "-binary", "-out", "out.bin")
		got, err := os.ReadFile(filepath.Join(dir, "out.bin"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plaintext) {
			t.Errorf("openssl cms -decrypt of a %d-byte plaintext gave %d bytes", n, len(got))
		}
	}
}

// Open opens OpenSSL's envelopes: DER or streamed BER, the recipient named
// by issuer and serial number or (-keyid) by subject key identifier.
func TestOpenOpensOpenSSL(t *testing.T) {
	dir := opensslDir(t)
	plaintext := bytes.Repeat([]byte("enclave secret "), 200)
	openssltest.Write(t, dir, "plain.bin", plaintext)
	for _, extra := range [][]string{nil, {"-keyid"}, {"-stream"}, {"-keyid", "-stream"}} {
		args := append([]string{"cms", "-encrypt", "-binary", "-aes-256-cbc", "-in", "plain.bin", "-outform", "DER", "-out", "env.der",
			"-recip", "cert.pem", "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256"}, extra...)
		openssltest.Run(t, dir, args...)
		env, err := os.ReadFile(filepath.Join(dir, "env.der"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := attestation.Open(enclaveKey(), env)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Errorf("Open of openssl cms -encrypt %v = %d bytes, %v", extra, len(got), err)
		}
		if _, err := attestation.Open(otherKey(), env); err == nil {
			t.Errorf("Open of openssl cms -encrypt %v with another key succeeded", extra)
		}
	}
}

// OpenSSL verifies a module's certificate chain at the document's time and
// its COSE signature over a Sig_structure the test encodes itself (with
// the cbor package), as a verifier other than this package would.
func TestOpenSSLVerifiesModuleDocument(t *testing.T) {
	dir := opensslDir(t)
	m := newModule(t, 1)
	doc := attest(t, m, attestation.Claims{Timestamp: docTime, UserData: []byte("u")})
	d, err := attestation.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := func(c *x509.Certificate) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	openssltest.Write(t, dir, "root.pem", m.RootPEM())
	openssltest.Write(t, dir, "inter.pem", certPEM(d.CABundle[1]))
	openssltest.Write(t, dir, "leaf.pem", certPEM(d.Certificate))
	at := strconv.FormatInt(docTime.Unix(), 10)
	openssltest.Run(t, dir, "verify", "-x509_strict", "-attime", at, "-CAfile", "root.pem", "-untrusted", "inter.pem", "leaf.pem")

	c := split(t, doc)
	var payload []byte
	var items []cbor.RawMessage
	if err := cbor.Unmarshal(doc, &items); err != nil {
		t.Fatal(err)
	}
	if err := cbor.Unmarshal(items[2], &payload); err != nil {
		t.Fatal(err)
	}
	openssltest.Write(t, dir, "tbs.bin", mustCBOR(t, []any{"Signature1", c.protected, []byte{}, payload}))
	sig, err := asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(c.signature[:48]), new(big.Int).SetBytes(c.signature[48:]),
	})
	if err != nil {
		t.Fatal(err)
	}
	openssltest.Write(t, dir, "sig.der", sig)
	openssltest.Run(t, dir, "x509", "-in", "leaf.pem", "-pubkey", "-noout", "-out", "leafpub.pem")
	openssltest.Run(t, dir, "dgst", "-sha384", "-verify", "leafpub.pem", "-signature", "sig.der", "tbs.bin")
}
