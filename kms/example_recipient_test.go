package kms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// A Nitro enclave decrypts through its parent: the parent passes the
// enclave's attestation document as the Recipient, and KMS answers the
// plaintext sealed to the enclave's key (decision D80). A simulated
// Nitro Secure Module makes the document, and a key policy lets only the
// enclave image whose PCR0 it names decrypt.
func ExampleRecipientInfo() {
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	module, err := attestation.NewModule(rand.Reader, start)
	if err != nil {
		panic(err)
	}
	svc := kms.New(kms.WithClock(kms.NewManualClock(start)), kms.WithAttestationRoots(module.Roots()))

	// The enclave's key pair, and the document its module signs.
	enclave, _ := rsa.GenerateKey(rand.Reader, 2048)
	spki, _ := x509.MarshalPKIXPublicKey(&enclave.PublicKey)
	image := strings.Repeat("ab", 48) // PCR0, the enclave image's SHA-384
	pcr0 := bytes.Repeat([]byte{0xab}, 48)
	doc, err := module.Attest(attestation.Claims{Timestamp: start, PublicKey: spki, PCRs: map[int][]byte{0: pcr0}})
	if err != nil {
		panic(err)
	}

	key, _ := svc.CreateKey(ctx, &kms.CreateKeyInput{Policy: `{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"NotAction":"kms:Decrypt","Resource":"*"},
{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:Decrypt","Resource":"*",
 "Condition":{"StringEqualsIgnoreCase":{"kms:RecipientAttestation:ImageSha384":"` + image + `"}}}]}`})
	ct, _ := svc.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: []byte("database password")})

	// Without the document the policy refuses.
	_, err = svc.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob})
	fmt.Println("without a Recipient:", errors.Is(err, keystate.ErrAccessDenied))

	out, err := svc.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob,
		Recipient: &kms.RecipientInfo{AttestationDocument: doc, KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256"}})
	if err != nil {
		panic(err)
	}
	fmt.Println("Plaintext:", out.Plaintext == nil)
	pt, err := attestation.Open(enclave, out.CiphertextForRecipient) // in the enclave
	if err != nil {
		panic(err)
	}
	fmt.Printf("the enclave opens: %s\n", pt)
	// Output:
	// without a Recipient: true
	// Plaintext: true
	// the enclave opens: database password
}
