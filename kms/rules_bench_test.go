package kms_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms"
)

// BenchmarkDecryptImported decrypts 32-byte ciphertexts of an EXTERNAL
// key under RulesCurrent with 1 and with 25 imported materials (24
// on-demand rotations to new material), made under every material in
// turn, beside an AWS_KMS key's for scale: each Decrypt unseals the one
// material its ciphertext names, whatever the number of materials
// (issue 16).
func BenchmarkDecryptImported(b *testing.B) {
	for _, materials := range []int{1, 25} {
		b.Run(fmt.Sprintf("materials=%d", materials), func(b *testing.B) {
			svc, clk := benchService(kms.WithRules(kms.RulesCurrent))
			e := &fxEnv{t: b, s: svc, clk: clk, ctx: context.Background()}
			id := e.create(&kms.CreateKeyInput{Origin: "EXTERNAL"}).KeyId
			var ins []*kms.DecryptInput
			for v := range materials {
				if v == 0 {
					ruMustImport(b, e, id, ruMaterial(byte(v+1)), "", "")
				} else {
					ruMustImport(b, e, id, ruMaterial(byte(v+1)), "NEW_KEY_MATERIAL", "")
					if err := e.ruRotate(id); err != nil {
						b.Fatal(err)
					}
				}
				out, err := svc.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: make([]byte, 32)})
				if err != nil {
					b.Fatal(err)
				}
				ins = append(ins, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := svc.Decrypt(e.ctx, ins[i%len(ins)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
