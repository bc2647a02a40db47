package kms_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// An ECC_NIST_P256 signing key: Sign a message, then check the signature
// both with crypto/ecdsa, on the key GetPublicKey returns, and with
// Verify. A signature of another message is KMSInvalidSignatureException,
// never SignatureValid false.
func ExampleService_Sign() {
	ctx := context.Background()
	s := kms.New(kms.WithClock(kms.NewManualClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))))
	key, err := s.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY"})
	if err != nil {
		panic(err)
	}
	id := key.KeyMetadata.KeyId
	msg := []byte("release v1.2.3")
	signed, err := s.Sign(ctx, &kms.SignInput{KeyId: id, Message: msg, SigningAlgorithm: "ECDSA_SHA_256"})
	if err != nil {
		panic(err)
	}
	fmt.Println("signed with", signed.SigningAlgorithm)

	pub, err := s.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: id})
	if err != nil {
		panic(err)
	}
	pk, err := x509.ParsePKIXPublicKey(pub.PublicKey)
	if err != nil {
		panic(err)
	}
	digest := sha256.Sum256(msg)
	fmt.Println("public key:", pub.KeySpec, pub.SigningAlgorithms)
	fmt.Println("crypto/ecdsa verifies:", ecdsa.VerifyASN1(pk.(*ecdsa.PublicKey), digest[:], signed.Signature))

	v, err := s.Verify(ctx, &kms.VerifyInput{KeyId: id, Message: msg, Signature: signed.Signature, SigningAlgorithm: "ECDSA_SHA_256"})
	fmt.Println("Verify:", v.SignatureValid, err)
	_, err = s.Verify(ctx, &kms.VerifyInput{KeyId: id, Message: []byte("release v6.6.6"), Signature: signed.Signature,
		SigningAlgorithm: "ECDSA_SHA_256"})
	fmt.Println("another message:", errors.Is(err, keystate.ErrKMSInvalidSignature))
	// Output:
	// signed with ECDSA_SHA_256
	// public key: ECC_NIST_P256 [ECDSA_SHA_256]
	// crypto/ecdsa verifies: true
	// Verify: true <nil>
	// another message: true
}

// An ML_KEM_768 key: Encapsulate gives the caller a fresh shared secret
// and its encapsulation, which the key's holder turns back into the same
// secret with Decapsulate. A ciphertext of the wrong length is
// InvalidCiphertextException; an altered one gives another secret, with
// no error (ML-KEM's implicit rejection), so the parties must confirm they
// hold the same secret.
func ExampleService_Encapsulate() {
	ctx := context.Background()
	s := kms.New(kms.WithClock(kms.NewManualClock(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))))
	key, err := s.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: "ML_KEM_768", KeyUsage: "ENCAPSULATE_DECAPSULATE"})
	if err != nil {
		panic(err)
	}
	id := key.KeyMetadata.KeyId
	fmt.Println("algorithms:", key.KeyMetadata.EncapsulationAlgorithms)

	enc, err := s.Encapsulate(ctx, &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM"})
	if err != nil {
		panic(err)
	}
	fmt.Println("secret:", len(enc.SharedSecret), "bytes, ciphertext:", len(enc.SharedSecretCiphertextBlob), "bytes")

	dec, err := s.Decapsulate(ctx, &kms.DecapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM",
		SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob})
	fmt.Println("same secret:", err == nil && string(dec.SharedSecret) == string(enc.SharedSecret))

	altered := append([]byte(nil), enc.SharedSecretCiphertextBlob...)
	altered[0] ^= 1
	dec, err = s.Decapsulate(ctx, &kms.DecapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM", SharedSecretCiphertextBlob: altered})
	fmt.Println("altered: error", err, "- same secret:", string(dec.SharedSecret) == string(enc.SharedSecret))

	_, err = s.Decapsulate(ctx, &kms.DecapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM",
		SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob[:100]})
	fmt.Println("truncated:", errors.Is(err, keystate.ErrInvalidCiphertext))
	// Output:
	// algorithms: [ML_KEM]
	// secret: 32 bytes, ciphertext: 1088 bytes
	// same secret: true
	// altered: error <nil> - same secret: false
	// truncated: true
}
