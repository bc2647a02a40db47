package kms

import (
	"crypto/rsa"
	"crypto/x509"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// TestRecipientCacheBound: the documents that verified are remembered,
// at most the cache's bound of them (maxAttestedDocuments; 2 here); past
// that the cache starts afresh and a document verifies again.
func TestRecipientCacheBound(t *testing.T) {
	const bound = 2
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	m, err := attestation.NewModule(rand.NewChaCha8([32]byte{'c'}), start)
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.NewChaCha8([32]byte{'k'}), 2048)
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	s := New(WithAttestationRoots(m.Roots()))
	s.attested.limit = bound
	check := func(doc []byte) *attestedRecipient {
		t.Helper()
		a, err := s.checkRecipient(keystate.Decrypt, &RecipientInfo{AttestationDocument: doc}, nil)
		if err != nil || a == nil {
			t.Fatalf("checkRecipient = %+v, %v", a, err)
		}
		return a
	}
	var first *attestedRecipient
	for i := range 3 {
		doc, err := m.Attest(attestation.Claims{Timestamp: start.Add(time.Duration(i) * time.Minute), PublicKey: spki})
		if err != nil {
			t.Fatal(err)
		}
		a := check(doc)
		if again := check(doc); again != a {
			t.Fatalf("document %d was verified again, not remembered", i)
		}
		if i == 0 {
			first = a
		}
		if n := len(s.attested.m); n > bound {
			t.Fatalf("after %d documents the cache holds %d, more than %d", i+1, n, bound)
		}
	}
	doc, _ := m.Attest(attestation.Claims{Timestamp: start, PublicKey: spki})
	if a := check(doc); a == first {
		t.Fatal("the first document was still remembered after the cache started afresh")
	}
}
