package attestation_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// A test makes a simulated Nitro Secure Module, has it attest the
// enclave's RSA key and image measurement (PCR0), and verifies the
// document against the module's roots, as a kmsmodel service given those
// roots does; what the service seals to the key, the enclave opens.
func ExampleModule() {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	module, err := attestation.NewModule(mrand.NewChaCha8([32]byte{1}), start)
	if err != nil {
		panic(err)
	}

	// In the enclave: its key, and its image's measurement.
	enclaveKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&enclaveKey.PublicKey)
	if err != nil {
		panic(err)
	}
	image := sha512.Sum384([]byte("enclave image"))
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	doc, err := module.Attest(attestation.Claims{
		ModuleID:  "i-0123456789abcdef0-enc0123456789abcdef",
		Timestamp: now,
		PCRs:      map[int][]byte{0: image[:]},
		PublicKey: spki,
	})
	if err != nil {
		panic(err)
	}

	// In KMS: verify the document, seal the plaintext to its key.
	d, err := attestation.Verify(doc, module.Roots(), now.Add(time.Minute))
	if err != nil {
		panic(err)
	}
	pub, err := d.RSAPublicKey()
	if err != nil {
		panic(err)
	}
	ciphertextForRecipient, err := attestation.Seal(pub, []byte("data key"), rand.Reader)
	if err != nil {
		panic(err)
	}

	// In the enclave again: open it.
	plaintext, err := attestation.Open(enclaveKey, ciphertextForRecipient)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.ModuleID)
	fmt.Println(hex.EncodeToString(d.PCRs[0])[:16])
	fmt.Printf("%s\n", plaintext)
	// Output:
	// i-0123456789abcdef0-enc0123456789abcdef
	// ee0d451a2ff9aaaa
	// data key
}
