package kmshttp_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rsa"
	"crypto/x509"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// TestSDKRecipient: through the AWS SDK for Go, a Recipient's attestation
// document reaches the service and CiphertextForRecipient comes back
// (D80), for Decrypt, GenerateDataKey, GenerateDataKeyPair,
// DeriveSharedSecret and GenerateRandom; the enclave's key opens each, and
// Plaintext, PrivateKeyPlaintext and SharedSecret are absent (spec
// aws-kms-asymmetric-hmac.md §4.3, §5, §6).
func TestSDKRecipient(t *testing.T) {
	m, err := attestation.NewModule(rand.NewChaCha8([32]byte{'m'}), epoch.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, kms.WithAttestationRoots(m.Roots()))
	c := inProcess(f, accessKey)
	ctx := context.Background()
	enclave, err := rsa.GenerateKey(rand.NewChaCha8([32]byte{'k'}), 2048)
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&enclave.PublicKey)
	doc, err := m.Attest(attestation.Claims{Timestamp: epoch, PublicKey: spki})
	if err != nil {
		t.Fatal(err)
	}
	r := &types.RecipientInfo{AttestationDocument: doc, KeyEncryptionAlgorithm: types.KeyEncryptionMechanismRsaesOaepSha256}
	open := func(t *testing.T, ct []byte) []byte {
		t.Helper()
		pt, err := attestation.Open(enclave, ct)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return pt
	}
	key, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := key.KeyMetadata.KeyId

	enc, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: id, Plaintext: []byte("to the enclave")})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, Recipient: r})
	if err != nil {
		t.Fatal(err)
	}
	if dec.Plaintext != nil || string(open(t, dec.CiphertextForRecipient)) != "to the enclave" {
		t.Fatalf("Decrypt: Plaintext %d bytes", len(dec.Plaintext))
	}

	dk, err := c.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: id, KeySpec: types.DataKeySpecAes256, Recipient: r})
	if err != nil {
		t.Fatal(err)
	}
	back, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: dk.CiphertextBlob})
	if err != nil {
		t.Fatal(err)
	}
	if dk.Plaintext != nil || !bytes.Equal(open(t, dk.CiphertextForRecipient), back.Plaintext) {
		t.Fatal("GenerateDataKey: the recipient's data key is not CiphertextBlob's")
	}

	kp, err := c.GenerateDataKeyPair(ctx, &awskms.GenerateDataKeyPairInput{KeyId: id, KeyPairSpec: types.DataKeyPairSpecEccNistP384, Recipient: r})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(open(t, kp.CiphertextForRecipient)); err != nil || kp.PrivateKeyPlaintext != nil {
		t.Fatalf("GenerateDataKeyPair: %v", err)
	}

	ka, err := c.CreateKey(ctx, &awskms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeKeyAgreement})
	if err != nil {
		t.Fatal(err)
	}
	peer, err := ecdh.P256().GenerateKey(rand.NewChaCha8([32]byte{'p'}))
	if err != nil {
		t.Fatal(err)
	}
	peerPub, _ := x509.MarshalPKIXPublicKey(peer.PublicKey())
	ds, err := c.DeriveSharedSecret(ctx, &awskms.DeriveSharedSecretInput{KeyId: ka.KeyMetadata.KeyId,
		KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: peerPub, Recipient: r})
	if err != nil {
		t.Fatal(err)
	}
	if ds.SharedSecret != nil || len(open(t, ds.CiphertextForRecipient)) != 32 {
		t.Fatal("DeriveSharedSecret: no 32-byte secret for the recipient")
	}

	rnd, err := c.GenerateRandom(ctx, &awskms.GenerateRandomInput{NumberOfBytes: aws.Int32(64), Recipient: r})
	if err != nil {
		t.Fatal(err)
	}
	if rnd.Plaintext != nil || len(open(t, rnd.CiphertextForRecipient)) != 64 {
		t.Fatal("GenerateRandom: no 64 bytes for the recipient")
	}
}
