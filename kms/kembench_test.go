package kms_test

import (
	"context"
	"crypto/mlkem"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms"
)

// Benchmarks of ML-KEM keys: Encapsulate and Decapsulate through the
// service (ML_KEM_768), beside crypto/mlkem doing the same on a key of its
// own (the standard library's implementation, not circl's which the
// service uses: the comparison is of the cost a caller pays, not of the
// wrapper alone).

// benchKEM returns a service with an ML_KEM_768 key, used once so that its
// material exists, and one of its encapsulations.
func benchKEM(b *testing.B) (*kms.Service, string, []byte) {
	svc, _ := benchService()
	ctx := context.Background()
	out, err := svc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: "ML_KEM_768", KeyUsage: "ENCAPSULATE_DECAPSULATE"})
	if err != nil {
		b.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	enc, err := svc.Encapsulate(ctx, &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM"})
	if err != nil {
		b.Fatal(err)
	}
	return svc, id, enc.SharedSecretCiphertextBlob
}

func BenchmarkEncapsulateMLKEM768(b *testing.B) {
	svc, id, _ := benchKEM(b)
	ctx := context.Background()
	in := &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Encapsulate(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecapsulateMLKEM768(b *testing.B) {
	svc, id, ct := benchKEM(b)
	ctx := context.Background()
	in := &kms.DecapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM", SharedSecretCiphertextBlob: ct}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Decapsulate(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMlkemEncapsulateAlone and BenchmarkMlkemDecapsulateAlone:
// crypto/mlkem's ML-KEM-768 on a key of its own.
func BenchmarkMlkemEncapsulateAlone(b *testing.B) {
	dk, err := mlkem.GenerateKey768()
	if err != nil {
		b.Fatal(err)
	}
	ek := dk.EncapsulationKey()
	b.ReportAllocs()
	for b.Loop() {
		ek.Encapsulate()
	}
}

func BenchmarkMlkemDecapsulateAlone(b *testing.B) {
	dk, err := mlkem.GenerateKey768()
	if err != nil {
		b.Fatal(err)
	}
	_, ct := dk.EncapsulationKey().Encapsulate()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dk.Decapsulate(ct); err != nil {
			b.Fatal(err)
		}
	}
}
