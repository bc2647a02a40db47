package attestation_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// A module made from the same bytes and start has the same root and signs
// the same documents; other bytes make another module.
func TestModuleDeterministic(t *testing.T) {
	a, b, c := newModule(t, 7), newModule(t, 7), newModule(t, 8)
	if !bytes.Equal(a.RootPEM(), b.RootPEM()) {
		t.Error("two modules from the same seed have different roots")
	}
	if bytes.Equal(a.RootPEM(), c.RootPEM()) {
		t.Error("modules from different seeds have the same root")
	}
	claims := attestation.Claims{Timestamp: docTime, UserData: []byte("u")}
	if !bytes.Equal(attest(t, a, claims), attest(t, b, claims)) {
		t.Error("two modules from the same seed sign different documents")
	}
	if !bytes.Equal(attest(t, a, claims), attest(t, a, claims)) {
		t.Error("a module signs the same claims differently")
	}
	// A document of another second has another signing certificate.
	later := attestation.Claims{Timestamp: docTime.Add(time.Hour)}
	d1, _ := attestation.Parse(attest(t, a, claims))
	d2, _ := attestation.Parse(attest(t, a, later))
	if d1.Certificate.Equal(d2.Certificate) {
		t.Error("documents an hour apart share a signing certificate")
	}
}

// The module's root is a self-signed P-384 CA valid from start for
// RootValidityYears, and RootPEM is it.
func TestModuleRoot(t *testing.T) {
	m := newModule(t, 1)
	d, err := attestation.Verify(attest(t, m, attestation.Claims{Timestamp: docTime}), m.Roots(), docTime)
	if err != nil {
		t.Fatal(err)
	}
	root := d.CABundle[0]
	if !root.IsCA || root.CheckSignatureFrom(root) != nil {
		t.Error("CABundle[0] is not a self-signed CA")
	}
	if !root.NotBefore.Equal(moduleStart) || !root.NotAfter.Equal(moduleStart.AddDate(attestation.RootValidityYears, 0, 0)) {
		t.Errorf("root valid %v to %v", root.NotBefore, root.NotAfter)
	}
	if !bytes.Contains(m.RootPEM(), []byte("-----BEGIN CERTIFICATE-----")) {
		t.Error("RootPEM is not PEM")
	}
	// Until the end of the root's validity.
	late := moduleStart.AddDate(attestation.RootValidityYears, 0, -1)
	if _, err := attestation.Verify(attest(t, m, attestation.Claims{Timestamp: late}), m.Roots(), late); err != nil {
		t.Errorf("a document near the end of the root's validity: %v", err)
	}
}

// Changing a byte of a module's signed payload or of its signature breaks
// the signature.
func TestModuleDocumentTampered(t *testing.T) {
	m := newModule(t, 1)
	doc := attest(t, m, attestation.Claims{Timestamp: docTime, UserData: []byte("user data")})
	i := bytes.Index(doc, []byte("user data"))
	tests := []struct {
		rule string
		at   int
	}{
		{"a user_data byte is signed", i},
		{"a module_id byte is signed", bytes.Index(doc, []byte(attestation.DefaultModuleID)) + 3},
		{"the first signature byte", len(doc) - 96},
		{"the last signature byte", len(doc) - 1},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			bad := bytes.Clone(doc)
			bad[tt.at] ^= 0x20
			if _, err := attestation.Verify(bad, m.Roots(), docTime); !errors.Is(err, attestation.ErrSignature) {
				t.Fatalf("Verify = %v, want ErrSignature", err)
			}
		})
	}
}

// Attest refuses claims a Nitro Secure Module would not sign: those AWS's
// attestation document specification (aws-nitro-enclaves-nsm-api,
// docs/attestation_process.md §3.2.2.2) does not allow in a document.
func TestAttestRefusesClaims(t *testing.T) {
	m := newModule(t, 1)
	tests := []struct {
		rule string
		c    attestation.Claims
	}{
		{"Timestamp is required", attestation.Claims{}},
		{"Timestamp before the Unix epoch", attestation.Claims{Timestamp: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)}},
		{"Timestamp at the Unix epoch (a document's is greater than 0)", attestation.Claims{Timestamp: time.UnixMilli(0)}},
		{"an empty PublicKey (a present one has 1 to 1,024 bytes)", attestation.Claims{Timestamp: docTime, PublicKey: []byte{}}},
		{"PCR index 32", attestation.Claims{Timestamp: docTime, PCRs: map[int][]byte{32: make([]byte, 48)}}},
		{"PCR index -1", attestation.Claims{Timestamp: docTime, PCRs: map[int][]byte{-1: make([]byte, 48)}}},
		{"PCR of 20 bytes", attestation.Claims{Timestamp: docTime, PCRs: map[int][]byte{0: make([]byte, 20)}}},
		{"nil PCR value", attestation.Claims{Timestamp: docTime, PCRs: map[int][]byte{3: nil}}},
		{"UserData over 512 bytes", attestation.Claims{Timestamp: docTime, UserData: make([]byte, attestation.MaxUserData+1)}},
		{"Nonce over 512 bytes", attestation.Claims{Timestamp: docTime, Nonce: make([]byte, attestation.MaxNonce+1)}},
		{"PublicKey over 1024 bytes", attestation.Claims{Timestamp: docTime, PublicKey: make([]byte, attestation.MaxPublicKey+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			if doc, err := m.Attest(tt.c); !errors.Is(err, attestation.ErrMalformed) || doc != nil {
				t.Fatalf("Attest = %x, %v; want ErrMalformed", doc, err)
			}
		})
	}
	// The limits themselves are accepted.
	_ = attest(t, m, attestation.Claims{Timestamp: docTime, UserData: make([]byte, attestation.MaxUserData),
		Nonce: make([]byte, attestation.MaxNonce), PublicKey: make([]byte, attestation.MaxPublicKey)})
}

// NewModule passes on its reader's failure.
func TestNewModuleReaderFails(t *testing.T) {
	m, err := attestation.NewModule(bytes.NewReader(make([]byte, 60)), moduleStart)
	if !errors.Is(err, io.ErrUnexpectedEOF) || m != nil {
		t.Fatalf("NewModule = %v, %v; want io.ErrUnexpectedEOF", m, err)
	}
}
