package kms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
)

// Under today's rules (RulesCurrent) a key with imported material rotates
// on demand to new material imported with ImportType NEW_KEY_MATERIAL,
// and ciphertexts of the earlier material still decrypt.
func ExampleWithRules() {
	ctx := context.Background()
	svc := kms.New(kms.WithRules(kms.RulesCurrent),
		kms.WithClock(kms.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	fmt.Println("quota:", kms.RulesCurrent.OnDemandRotationQuota())
	k, _ := svc.CreateKey(ctx, &kms.CreateKeyInput{Origin: "EXTERNAL"})
	id := k.KeyMetadata.KeyId

	// importMaterial wraps 256 bits of material as a client does and
	// imports it with the given ImportType.
	importMaterial := func(b byte, importType string) string {
		p, _ := svc.GetParametersForImport(ctx, &kms.GetParametersForImportInput{
			KeyId: id, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
		pub, _ := x509.ParsePKIXPublicKey(p.PublicKey)
		wrapped, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), bytes.Repeat([]byte{b}, 32), nil)
		out, err := svc.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken,
			EncryptedKeyMaterial: wrapped, ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE", ImportType: importType})
		if err != nil {
			fmt.Println(err)
			return ""
		}
		return out.KeyMaterialId
	}
	first := importMaterial(1, "") // the first material: NEW_KEY_MATERIAL by default
	old, _ := svc.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("before")})
	second := importMaterial(2, "NEW_KEY_MATERIAL")

	list := func() {
		out, _ := svc.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id, IncludeKeyMaterial: "ALL_KEY_MATERIAL"})
		for _, e := range out.Rotations {
			name := map[string]string{first: "first", second: "second"}[e.KeyMaterialId]
			fmt.Println(strings.TrimSpace(strings.Join([]string{" ", name, e.KeyMaterialState, e.ImportState, e.RotationType}, " ")))
		}
	}
	fmt.Println("before the rotation:")
	list()
	if _, err := svc.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id}); err != nil {
		fmt.Println(err)
	}
	fmt.Println("after:")
	list()
	pt, _ := svc.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob})
	fmt.Println("old ciphertext:", string(pt.Plaintext))
	// Output:
	// quota: 25
	// before the rotation:
	// first CURRENT IMPORTED
	// second PENDING_ROTATION IMPORTED
	// after:
	// first NON_CURRENT IMPORTED
	// second CURRENT IMPORTED ON_DEMAND
	// old ciphertext: before
}
