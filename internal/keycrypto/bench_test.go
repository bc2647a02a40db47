package keycrypto_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// Budgets the caller must meet: Sign with ECC_NIST_P256 ≤ 1.5× a bare
// ecdsa.SignASN1, Sign with RSA_2048 ≤ 1.2× a bare rsa.SignPSS, GenerateMac
// HMAC_256 of 32 bytes ≤ 2 µs. Each pair below uses the same key and digest.

var benchDigest = sha256.Sum256([]byte("benchmark message"))

func BenchmarkSignP256(b *testing.B) {
	k := testKey(b, keystate.ECCNISTP256)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Sign("ECDSA_SHA_256", "DIGEST", benchDigest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEcdsaSignASN1(b *testing.B) {
	priv := testKey(b, keystate.ECCNISTP256).Signer().(*ecdsa.PrivateKey)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ecdsa.SignASN1(rand.Reader, priv, benchDigest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignRSA2048PSS(b *testing.B) {
	k := testKey(b, keystate.RSA2048)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Sign("RSASSA_PSS_SHA_256", "DIGEST", benchDigest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRsaSignPSS(b *testing.B) {
	priv := testKey(b, keystate.RSA2048).Signer().(*rsa.PrivateKey)
	opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rsa.SignPSS(rand.Reader, priv, crypto.SHA256, benchDigest[:], opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerateMacHMAC256_32B(b *testing.B) {
	k := testKey(b, keystate.HMAC256)
	msg := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.GenerateMac("HMAC_SHA_256", msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, spec := range keySpecs {
		b.Run(spec.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := keycrypto.Generate(spec, rand.Reader); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Sign with ML-DSA (RAW, hedged), the whole KMS path over a short message.
func BenchmarkSignMLDSA(b *testing.B) {
	for _, spec := range []keystate.KeySpec{keystate.MLDSA44, keystate.MLDSA65} {
		b.Run(spec.String(), func(b *testing.B) {
			k := testKey(b, spec)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Sign("ML_DSA_SHAKE_256", "RAW", benchDigest[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
