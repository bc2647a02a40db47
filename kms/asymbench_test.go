package kms_test

// Benchmarks of asymmetric and HMAC keys, each beside the cost of the bare
// primitive on the same key (imported, so that the standard library holds
// the very key the service signs with). Targets: CreateKey of RSA_4096 ≤
// 2× a symmetric one (material is made on first use); Sign ECC_NIST_P256 ≤
// 1.5× ecdsa.SignASN1; Sign RSA_2048 ≤ 1.2× rsa.SignPSS; GenerateMac
// HMAC_256 of 32 bytes ≤ 2 µs; ≤ 400 resident bytes per unused key of
// mixed specs.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"runtime"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms"
)

func BenchmarkCreateKeySymmetric(b *testing.B) { benchCreate(b, &kms.CreateKeyInput{}) }

func BenchmarkCreateKeyRSA4096(b *testing.B) {
	benchCreate(b, &kms.CreateKeyInput{KeySpec: "RSA_4096", KeyUsage: "SIGN_VERIFY"})
}

func benchCreate(b *testing.B, in *kms.CreateKeyInput) {
	svc, _ := benchService()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.CreateKey(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// benchImported returns a service with an EXTERNAL key of spec holding
// priv (PKCS#8), used once so that its material is parsed.
func benchImported(b *testing.B, spec, wrap string, priv any) (*kms.Service, string) {
	svc, _ := benchService()
	ctx := context.Background()
	out, err := svc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: "SIGN_VERIFY", Origin: "EXTERNAL"})
	if err != nil {
		b.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		b.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	if _, err := imImport(b, svc, id, wrap, der, nil); err != nil {
		b.Fatal(err)
	}
	return svc, id
}

var (
	benchECKey = func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}()
	benchRSAKey = func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	}()
	benchMsg = []byte("a message of some sixty-four bytes, as a JWT header might be....")
)

func benchSign(b *testing.B, svc *kms.Service, id, alg string) {
	ctx := context.Background()
	in := &kms.SignInput{KeyId: id, Message: benchMsg, SigningAlgorithm: alg}
	if _, err := svc.Sign(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Sign(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignECCP256(b *testing.B) {
	svc, id := benchImported(b, "ECC_NIST_P256", "RSAES_OAEP_SHA_256", benchECKey)
	benchSign(b, svc, id, "ECDSA_SHA_256")
}

// BenchmarkEcdsaSignASN1Alone: what BenchmarkSignECCP256 does, without the
// service: SHA-256 of the message and ecdsa.SignASN1 with the same key.
func BenchmarkEcdsaSignASN1Alone(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d := sha256.Sum256(benchMsg)
		if _, err := ecdsa.SignASN1(rand.Reader, benchECKey, d[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignRSA2048(b *testing.B) {
	svc, id := benchImported(b, "RSA_2048", "RSA_AES_KEY_WRAP_SHA_256", benchRSAKey)
	benchSign(b, svc, id, "RSASSA_PSS_SHA_256")
}

// BenchmarkRsaSignPSSAlone: SHA-256 and rsa.SignPSS (salt = hash length)
// with the key BenchmarkSignRSA2048 signs with.
func BenchmarkRsaSignPSSAlone(b *testing.B) {
	opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	b.ReportAllocs()
	for b.Loop() {
		d := sha256.Sum256(benchMsg)
		if _, err := rsa.SignPSS(rand.Reader, benchRSAKey, crypto.SHA256, d[:], opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerateMacHMAC256_32B(b *testing.B) {
	svc, _ := benchService()
	ctx := context.Background()
	out, err := svc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"})
	if err != nil {
		b.Fatal(err)
	}
	in := &kms.GenerateMacInput{KeyId: out.KeyMetadata.KeyId, Message: make([]byte, 32), MacAlgorithm: "HMAC_SHA_256"}
	if _, err := svc.GenerateMac(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.GenerateMac(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResident1MKeysMixedSpecs: the heap in use after GC, per key,
// of 1,000,000 keys of mixed specs, none used yet (so no material: it is
// made on first use), measured as scale_test.go measures a fleet. -short
// makes 100,000.
func BenchmarkResident1MKeysMixedSpecs(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	kinds := []kms.CreateKeyInput{
		{},
		{KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY"},
		{KeySpec: "RSA_4096", KeyUsage: "ENCRYPT_DECRYPT"},
		{KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY"},
		{KeySpec: "ECC_NIST_P384", KeyUsage: "KEY_AGREEMENT"},
		{KeySpec: "ECC_SECG_P256K1", KeyUsage: "SIGN_VERIFY"},
		{KeySpec: "ECC_NIST_EDWARDS25519", KeyUsage: "SIGN_VERIFY"},
		{KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"},
		{KeySpec: "HMAC_512", KeyUsage: "GENERATE_VERIFY_MAC"},
		{KeySpec: "ML_DSA_65", KeyUsage: "SIGN_VERIFY"},
	}
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		svc, _ := benchService()
		ctx := context.Background()
		for i := range n {
			if _, err := svc.CreateKey(ctx, &kinds[i%len(kinds)]); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse)/float64(n), "resident-B/key")
		b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/float64(n), "added-B/key")
		runtime.KeepAlive(svc)
		b.StartTimer()
	}
}
