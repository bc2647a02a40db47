package kms_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms"
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
