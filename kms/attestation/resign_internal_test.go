package attestation

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// resigned is a module's document with its payload edited and signed
// again with the module's leaf key for the document's timestamp, as a
// module that signed such a payload would have.
func resigned(t *testing.T, m *Module, doc []byte, edit func(p map[string]cbor.RawMessage)) []byte {
	t.Helper()
	msg, err := parseCOSE(doc)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]cbor.RawMessage
	if err := cbor.Unmarshal(msg.payload, &p); err != nil {
		t.Fatal(err)
	}
	var ms int64
	if err := cbor.Unmarshal(p["timestamp"], &ms); err != nil {
		t.Fatal(err)
	}
	edit(p)
	payload, err := cbor.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := m.leafKey(ms)
	sig, err := signES384(k, sigStructure(protectedES384, payload))
	if err != nil {
		t.Fatal(err)
	}
	return coseSign1(protectedES384, payload, sig)
}

func cborBytes(t *testing.T, b []byte) cbor.RawMessage {
	t.Helper()
	raw, err := cbor.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

var (
	rsStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rsAt    = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
)

func rsModule(t *testing.T, seed byte) *Module {
	t.Helper()
	m, err := NewModule(rand.NewChaCha8([32]byte{'r', 's', seed}), rsStart)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPayloadLimits: a signed document over the Nitro Secure Module's
// limits (public_key 1,024 bytes, user_data and nonce 512: AWS's
// attestation document specification, aws-nitro-enclaves-nsm-api
// docs/attestation_process.md §3.2.2.2) is malformed,
// so that no document makes Seal work on a key of any size (a 400,000-bit
// RSA key took 19 s to seal to).
func TestPayloadLimits(t *testing.T) {
	m := rsModule(t, 1)
	doc, err := m.Attest(Claims{Timestamp: rsAt})
	if err != nil {
		t.Fatal(err)
	}
	n := new(big.Int).Lsh(big.NewInt(1), 65535)
	n.Add(n, big.NewInt(12345))
	huge, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: n, E: 65537})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		field string
		value []byte
	}{
		{"public_key", huge},
		{"public_key", make([]byte, MaxPublicKey+1)},
		{"user_data", make([]byte, MaxUserData+1)},
		{"nonce", make([]byte, MaxNonce+1)},
	} {
		bad := resigned(t, m, doc, func(p map[string]cbor.RawMessage) { p[tc.field] = cborBytes(t, tc.value) })
		if _, err := Verify(bad, m.Roots(), rsAt); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s of %d bytes: %v, want ErrMalformed", tc.field, len(tc.value), err)
		}
	}
	at := resigned(t, m, doc, func(p map[string]cbor.RawMessage) {
		p["user_data"] = cborBytes(t, make([]byte, MaxUserData))
		p["nonce"] = cborBytes(t, make([]byte, MaxNonce))
	})
	if _, err := Verify(at, m.Roots(), rsAt); err != nil {
		t.Errorf("user_data and nonce at their limits: %v", err)
	}
}

// TestVerifyChainIgnoresUnusedBundleCertificates: a CA bundle entry that
// the chain does not use (here a CA valid only from a year later) does not
// move the instant VerifyChain checks at: it accepts what Verify accepts.
func TestVerifyChainIgnoresUnusedBundleCertificates(t *testing.T) {
	m := rsModule(t, 2)
	later, err := NewModule(rand.NewChaCha8([32]byte{'l'}), rsStart.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := m.Attest(Claims{Timestamp: rsAt})
	if err != nil {
		t.Fatal(err)
	}
	extra := resigned(t, m, doc, func(p map[string]cbor.RawMessage) {
		var bundle [][]byte
		if err := cbor.Unmarshal(p["cabundle"], &bundle); err != nil {
			t.Fatal(err)
		}
		bundle = append(bundle, later.root.Raw)
		raw, err := cbor.Marshal(bundle)
		if err != nil {
			t.Fatal(err)
		}
		p["cabundle"] = raw
	})
	at := rsAt.Add(time.Hour)
	if _, err := Verify(extra, m.Roots(), at); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	_, v, err := VerifyChain(extra, m.Roots())
	if err != nil {
		t.Fatalf("VerifyChain refuses what Verify accepts: %v", err)
	}
	if !v.Contains(at) {
		t.Errorf("Validity %v–%v does not contain %v", v.NotBefore, v.NotAfter, at)
	}
}

// TestVerifyChainIntersection: when a CA certificate's validity ends
// before the leaf's (a module whose root and intermediate expire within
// the leaf's three hours), VerifyChain's Validity ends with it, and Verify
// agrees at each end.
func TestVerifyChainIntersection(t *testing.T) {
	m := rsModule(t, 4)
	end := m.root.NotAfter // the root's and the intermediate's (same start, same years)
	doc, err := m.Attest(Claims{Timestamp: end.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	d, v, err := VerifyChain(doc, m.Roots())
	if err != nil {
		t.Fatal(err)
	}
	if !v.NotAfter.Equal(end) || !v.NotBefore.Equal(d.Certificate.NotBefore) || !d.Certificate.NotAfter.After(end) {
		t.Fatalf("Validity %v–%v, want %v–%v (the CA's end, before the leaf's %v)", v.NotBefore, v.NotAfter,
			d.Certificate.NotBefore, end, d.Certificate.NotAfter)
	}
	for _, tc := range []struct {
		at time.Time
		ok bool
	}{{end, true}, {end.Add(time.Second), false}} {
		if _, err := Verify(doc, m.Roots(), tc.at); (err == nil) != tc.ok || v.Contains(tc.at) != tc.ok {
			t.Errorf("at %v: Verify %v, Validity contains it %v, want %v", tc.at, err, v.Contains(tc.at), tc.ok)
		}
	}
}
