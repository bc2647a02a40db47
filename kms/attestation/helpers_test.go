package attestation_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	mrand "math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// seeded returns a deterministic reader.
func seeded(seed byte) *mrand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return mrand.NewChaCha8(s)
}

// moduleStart is when the test modules' roots become valid.
var moduleStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// docTime is the Timestamp of the test modules' documents.
var docTime = time.Date(2025, 6, 1, 12, 30, 15, 250_000_000, time.UTC)

// newModule returns a module made from a seeded reader.
func newModule(t testing.TB, seed byte) *attestation.Module {
	t.Helper()
	m, err := attestation.NewModule(seeded(seed), moduleStart)
	if err != nil {
		t.Fatalf("NewModule: %v", err)
	}
	return m
}

// RSA keys are slow to generate: each test binary makes two, once.
var (
	enclaveKey = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	otherKey   = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

// spki returns the DER SubjectPublicKeyInfo of pub.
func spki(t testing.TB, pub any) []byte {
	t.Helper()
	b, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// attest has m attest c, failing the test on an error.
func attest(t testing.TB, m *attestation.Module, c attestation.Claims) []byte {
	t.Helper()
	doc, err := m.Attest(c)
	if err != nil {
		t.Fatalf("Attest: %v", err)
	}
	return doc
}

// awsDocument is the real document in testdata (see testdata/README.md).
func awsDocument(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/aws-nitro-2024-09-17.cbor")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cose is a COSE_Sign1 message taken apart, for tests to alter and
// reassemble.
type cose struct {
	protected   []byte
	unprotected cbor.RawMessage
	payload     map[string]cbor.RawMessage
	signature   []byte
}

func split(t testing.TB, doc []byte) *cose {
	t.Helper()
	var items []cbor.RawMessage
	if err := cbor.Unmarshal(doc, &items); err != nil || len(items) != 4 {
		t.Fatalf("not a COSE_Sign1 array: %v", err)
	}
	var c cose
	var payload []byte
	c.unprotected = items[1]
	for i, dst := range []*[]byte{&c.protected, nil, &payload, &c.signature} {
		if dst != nil {
			if err := cbor.Unmarshal(items[i], dst); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := cbor.Unmarshal(payload, &c.payload); err != nil {
		t.Fatal(err)
	}
	return &c
}

// join reassembles the message (its signature no longer verifies when
// anything was changed).
func (c *cose) join(t testing.TB) []byte {
	t.Helper()
	payload, err := cbor.Marshal(c.payload)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cbor.Marshal([]any{c.protected, c.unprotected, payload, c.signature})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustCBOR encodes v.
func mustCBOR(t testing.TB, v any) cbor.RawMessage {
	t.Helper()
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
