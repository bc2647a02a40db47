package kms

import (
	"crypto/rsa"
	"crypto/sha256"
	"math/rand/v2"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// FuzzUnwrapMaterial feeds arbitrary EncryptedKeyMaterial to the unwrapping
// ImportKeyMaterial does, under every wrapping algorithm, and whatever
// unwraps to the import check of every asymmetric and HMAC key spec
// (issue 13: fuzz targets for wrapped key material). Nothing may panic;
// a refusal is always an error, never a key.
func FuzzUnwrapMaterial(f *testing.F) {
	priv, err := rsa.GenerateKey(fuzzReader{}, 2048)
	if err != nil {
		f.Fatal(err)
	}
	// Seeds: a real OAEP wrapping of a 32-byte HMAC key, its truncations,
	// and shapes of the RSA-AES wrap (an RSA block followed by KWP blocks).
	wrapped, err := rsa.EncryptOAEP(sha256.New(), fuzzReader{}, &priv.PublicKey, make([]byte, 32), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), wrapped)
	f.Add(uint8(1), wrapped[:100])
	f.Add(uint8(2), append(wrapped, make([]byte, 40)...))
	f.Add(uint8(3), append(wrapped, make([]byte, 7)...))
	f.Add(uint8(4), []byte{})
	// SM2PKE (D81) with an SM2 wrapping key, seeded with a real
	// ciphertext of 32 bytes and its shapes.
	sm2Key, err := keycrypto.Generate(keystate.SM2, rand.NewChaCha8([32]byte{'s', 'm', '2'}))
	if err != nil {
		f.Fatal(err)
	}
	sm2CT, err := sm2Key.Encrypt(keycrypto.SM2PKE, make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(4), sm2CT)
	f.Add(uint8(4), sm2CT[:40])
	f.Add(uint8(4), append([]byte{4}, sm2CT[4:]...))
	algs := []string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256", "SM2PKE"}
	specs := []keystate.KeySpec{keystate.HMAC224, keystate.HMAC256, keystate.HMAC384, keystate.HMAC512,
		keystate.RSA2048, keystate.ECCNISTP256, keystate.ECCNISTP384, keystate.ECCNISTP521,
		keystate.ECCSECGP256K1, keystate.ECCNISTEdwards25519, keystate.SM2}
	rsaPair, sm2Pair := &wrappingPair{rsa: priv}, &wrappingPair{sm2: sm2Key}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		alg := algs[int(which)%len(algs)]
		w := rsaPair
		if alg == "SM2PKE" {
			w = sm2Pair
		}
		m, err := unwrapMaterial(w, alg, b)
		if err != nil {
			if m != nil {
				t.Fatalf("%s: an error with material", alg)
			}
			return
		}
		for _, spec := range specs {
			if k, err := keycrypto.ParseImported(spec, m); (k == nil) == (err == nil) {
				t.Fatalf("%s into %s: ParseImported = %v, %v", alg, spec, k, err)
			}
		}
	})
}

// fuzzReader is a deterministic byte source for the fuzz target's setup
// (crypto/rsa may ignore it and use the system's; that is fine here).
type fuzzReader struct{}

func (fuzzReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*7 + 1)
	}
	return len(p), nil
}
