package attestation_test

import (
	"errors"
	"os"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// Parse and Verify never panic, return exactly one of their sentinels on
// failure, and agree: what Verify accepts, Parse accepts.
func FuzzParse(f *testing.F) {
	m := newModule(f, 1)
	f.Add(attest(f, m, attestation.Claims{Timestamp: docTime, UserData: []byte("u"), Nonce: []byte("n"),
		PCRs: map[int][]byte{4: make([]byte, 32)}}))
	f.Add(attest(f, m, attestation.Claims{Timestamp: docTime}))
	if b, err := os.ReadFile("testdata/aws-nitro-2024-09-17.cbor"); err == nil {
		f.Add(b)
	}
	f.Add([]byte{0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40})
	roots := m.Roots()
	f.Fuzz(func(t *testing.T, doc []byte) {
		_, perr := attestation.Parse(doc)
		if perr != nil && !errors.Is(perr, attestation.ErrMalformed) {
			t.Fatalf("Parse: %v, not ErrMalformed", perr)
		}
		d, verr := attestation.Verify(doc, roots, docTime)
		switch {
		case verr == nil && perr != nil:
			t.Fatalf("Verify accepted what Parse refused: %v", perr)
		case verr == nil && d == nil:
			t.Fatal("Verify returned no document and no error")
		case verr != nil && !errors.Is(verr, attestation.ErrMalformed) && !errors.Is(verr, attestation.ErrSignature) &&
			!errors.Is(verr, attestation.ErrCertificate):
			t.Fatalf("Verify: %v, not a sentinel", verr)
		}
		if d != nil {
			_, _ = d.RSAPublicKey()
		}
	})
}

// Open never panics, and fails only with ErrEnvelope.
func FuzzOpen(f *testing.F) {
	priv := enclaveKey()
	f.Add(seal(f, &priv.PublicKey, []byte("secret")))
	f.Add(seal(f, &priv.PublicKey, make([]byte, 1500)))
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, env []byte) {
		if _, err := attestation.Open(priv, env); err != nil && !errors.Is(err, attestation.ErrEnvelope) {
			t.Fatalf("Open: %v, not ErrEnvelope", err)
		}
	})
}
