package kms_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// Target (issue 6): Encrypt and Decrypt of 32 bytes ≤ 3 µs/op in memory.
func BenchmarkEncrypt32(b *testing.B) { benchEncrypt32(b) }

// BenchmarkEncrypt32SharingUsage: Encrypt with the key's use noted for
// TakeKeyUses (D79), taken every 1,000 calls, as a cluster node sharing
// its uses does.
func BenchmarkEncrypt32SharingUsage(b *testing.B) { benchEncrypt32(b, kms.WithKeyUsageSharing()) }

func benchEncrypt32(b *testing.B, opts ...kms.Option) {
	svc, _ := benchService(opts...)
	id := benchKeys(b, svc, 1)[0]
	ctx := context.Background()
	in := &kms.EncryptInput{KeyId: id, Plaintext: make([]byte, 32), EncryptionContext: map[string]string{"purpose": "bench"}}
	var uses []kms.KeyUse
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.Encrypt(ctx, in); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 999 {
			uses = svc.TakeKeyUses(uses[:0])
		}
	}
}

func BenchmarkDecrypt32(b *testing.B) {
	svc, _ := benchService()
	id := benchKeys(b, svc, 1)[0]
	ctx := context.Background()
	ec := map[string]string{"purpose": "bench"}
	out, err := svc.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: make([]byte, 32), EncryptionContext: ec})
	if err != nil {
		b.Fatal(err)
	}
	in := &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ec}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.Decrypt(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecryptRotations decrypts 32-byte ciphertexts of a key with 1
// and with 1,000 materials (999 on-demand rotations, quota raised, D1),
// made under every version in turn: the cost must not depend on the
// number of materials or on the version (issue 6: O(1) after any number of
// rotations).
func BenchmarkDecryptRotations(b *testing.B) {
	for _, materials := range []int{1, 1000} {
		b.Run(fmt.Sprintf("materials=%d", materials), func(b *testing.B) {
			svc, _ := benchService(kms.WithOnDemandRotationQuota(materials))
			id := benchKeys(b, svc, 1)[0]
			ctx := context.Background()
			var ins []*kms.DecryptInput
			for v := 0; v < materials; v++ {
				if v > 0 {
					if _, err := svc.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id}); err != nil {
						b.Fatal(err)
					}
				}
				out, err := svc.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: make([]byte, 32)})
				if err != nil {
					b.Fatal(err)
				}
				ins = append(ins, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := svc.Decrypt(ctx, ins[i%len(ins)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecrypt32Recipient: Decrypt with a Recipient (D80): the
// attestation document verified (its COSE signature and a three-certificate
// chain, all ECDSA P-384) and the plaintext sealed to the enclave's
// RSA-2048 key, on every call.
func BenchmarkDecrypt32Recipient(b *testing.B) {
	m, err := attestation.NewModule(rand.NewChaCha8([32]byte{'m'}), time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	svc, _ := benchService(kms.WithAttestationRoots(m.Roots()))
	id := benchKeys(b, svc, 1)[0]
	ctx := context.Background()
	enclave := fxEnclaveKey()
	spki, _ := x509.MarshalPKIXPublicKey(&enclave.PublicKey)
	doc, err := m.Attest(attestation.Claims{Timestamp: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), PublicKey: spki})
	if err != nil {
		b.Fatal(err)
	}
	out, err := svc.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: make([]byte, 32)})
	if err != nil {
		b.Fatal(err)
	}
	in := &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, Recipient: &kms.RecipientInfo{AttestationDocument: doc}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.Decrypt(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
