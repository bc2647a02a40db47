package keycrypto_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// The fuzz targets use the shared test keys; RSA is limited to RSA_2048 to
// keep each fuzz worker's start-up short.
var fuzzSigningSpecs = []keystate.KeySpec{keystate.RSA2048, keystate.ECCNISTP256, keystate.ECCNISTP384,
	keystate.ECCNISTP521, keystate.ECCSECGP256K1, keystate.ECCNISTEdwards25519, keystate.MLDSA44, keystate.SM2}

var fuzzMessageTypes = []string{"RAW", "DIGEST", "EXTERNAL_MU", ""}

// Arbitrary signature bytes never panic and never verify (spec §2.4,
// §12.8: malformed signatures are KMSInvalidSignatureException).
func FuzzVerify(f *testing.F) {
	f.Add(uint8(1), uint8(0), uint8(0), []byte("message"), []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
	f.Add(uint8(4), uint8(0), uint8(1), bytes.Repeat([]byte{1}, 32), []byte{0x30, 0x80, 0x02, 0x00})
	f.Add(uint8(5), uint8(1), uint8(1), bytes.Repeat([]byte{2}, 64), make([]byte, 64))
	f.Add(uint8(6), uint8(0), uint8(0), []byte("m"), make([]byte, 2420))
	f.Add(uint8(0), uint8(3), uint8(0), []byte("m"), make([]byte, 256))
	f.Add(uint8(7), uint8(0), uint8(1), bytes.Repeat([]byte{3}, 32), []byte{0x30, 0x44, 0x02, 0x20})
	f.Fuzz(func(t *testing.T, specIdx, algIdx, mtIdx uint8, msg, sig []byte) {
		spec := fuzzSigningSpecs[int(specIdx)%len(fuzzSigningSpecs)]
		k := testKey(t, spec)
		algs := keycrypto.SigningAlgorithms(spec)
		alg := algs[int(algIdx)%len(algs)]
		mt := fuzzMessageTypes[int(mtIdx)%len(fuzzMessageTypes)]
		err := k.Verify(alg, mt, msg, sig)
		if err == nil {
			t.Fatalf("%s %s %s: arbitrary signature % x verified", spec, alg, mt, sig)
		}
		if !errors.Is(err, keycrypto.ErrInvalidSignature) && !errors.Is(err, keycrypto.ErrDigestLength) &&
			!errors.Is(err, keycrypto.ErrMessageType) {
			t.Fatalf("%s %s %s: unexpected error %v", spec, alg, mt, err)
		}
	})
}

var fuzzAgreementSpecs = []keystate.KeySpec{keystate.ECCNISTP256, keystate.ECCNISTP384, keystate.ECCNISTP521, keystate.SM2}

// Arbitrary peer public key bytes never panic; they fail with
// ErrInvalidPublicKey or give a secret of the curve's size (spec §6).
func FuzzDeriveSharedSecret(f *testing.F) {
	for i, spec := range fuzzAgreementSpecs {
		k, err := keycrypto.Generate(spec, seeded(uint64(900+i)))
		if err != nil {
			f.Fatal(err)
		}
		pub, _ := k.PublicKey()
		f.Add(uint8(i), pub)
	}
	f.Add(uint8(0), []byte("InvalidPublicKey"))
	f.Fuzz(func(t *testing.T, specIdx uint8, peer []byte) {
		spec := fuzzAgreementSpecs[int(specIdx)%len(fuzzAgreementSpecs)]
		secret, err := testKey(t, spec).DeriveSharedSecret("ECDH", peer)
		if err != nil {
			if !errors.Is(err, keycrypto.ErrInvalidPublicKey) || keycrypto.Message(err) != "" {
				t.Fatalf("%s: unexpected error %v", spec, err)
			}
			return
		}
		want := map[keystate.KeySpec]int{keystate.ECCNISTP521: 66, keystate.ECCNISTP384: 48}[spec]
		if want == 0 {
			want = 32
		}
		if len(secret) != want {
			t.Fatalf("%s: %d-byte secret", spec, len(secret))
		}
	})
}

var fuzzImportSpecs = []keystate.KeySpec{keystate.HMAC256, keystate.RSA2048, keystate.ECCNISTP256,
	keystate.ECCNISTP521, keystate.ECCSECGP256K1, keystate.ECCNISTEdwards25519, keystate.SM2, keystate.MLDSA65}

// Arbitrary material never panics in ParseImported; it fails with
// ErrInvalidMaterial, or gives a key whose storage form round-trips.
func FuzzParseImported(f *testing.F) {
	for i, spec := range fuzzImportSpecs {
		f.Add(uint8(i), testKey(f, spec).Marshal())
	}
	f.Add(uint8(2), []byte{0x30, 0x80, 0x30, 0x80, 0x00, 0x00, 0x00, 0x00})
	f.Add(uint8(3), []byte{0x24, 0x80, 0x04, 0x01, 0x00, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, specIdx uint8, material []byte) {
		spec := fuzzImportSpecs[int(specIdx)%len(fuzzImportSpecs)]
		k, err := keycrypto.ParseImported(spec, material)
		if err != nil {
			if !errors.Is(err, keycrypto.ErrInvalidMaterial) {
				t.Fatalf("%s: unexpected error %v", spec, err)
			}
			return
		}
		again, err := keycrypto.Parse(spec, k.Marshal())
		if err != nil || !bytes.Equal(again.Marshal(), k.Marshal()) {
			t.Fatalf("%s: storage form does not round-trip: %v", spec, err)
		}
	})
}

// Arbitrary ciphertext bytes never panic (circl's Decapsulate panics on a
// ciphertext of the wrong length: Decapsulate must refuse it first); a
// ciphertext of the spec's length gives a 32-byte secret (implicit
// rejection), any other length ErrInvalidCiphertext (spec §1.4).
func FuzzDecapsulate(f *testing.F) {
	for i, spec := range mlkemSpecs {
		f.Add(uint8(i), make([]byte, keycrypto.EncapsulationSize(spec)))
		f.Add(uint8(i), make([]byte, keycrypto.EncapsulationSize(spec)-1))
	}
	f.Add(uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, specIdx uint8, ct []byte) {
		spec := mlkemSpecs[int(specIdx)%len(mlkemSpecs)]
		secret, err := testKey(t, spec).Decapsulate(keycrypto.MLKEM, ct)
		switch {
		case len(ct) == keycrypto.EncapsulationSize(spec):
			if err != nil || len(secret) != 32 {
				t.Fatalf("%s, %d-byte ciphertext: %v, %d-byte secret", spec, len(ct), err, len(secret))
			}
		case !errors.Is(err, keycrypto.ErrInvalidCiphertext):
			t.Fatalf("%s, %d-byte ciphertext: %v, want ErrInvalidCiphertext", spec, len(ct), err)
		}
	})
}
