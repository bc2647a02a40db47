package keycrypto_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"filippo.io/mldsa"
	"filippo.io/mldsa/mldsacrypto"
	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
)

var mldsaParams = map[string]struct {
	spec   keystate.KeySpec
	oid    byte // last arc of id-ml-dsa-NN
	pkLen  int
	params mldsa.Parameters
}{
	"ML-DSA-44": {keystate.MLDSA44, 17, 1312, mldsa.MLDSA44()},
	"ML-DSA-65": {keystate.MLDSA65, 18, 1952, mldsa.MLDSA65()},
	"ML-DSA-87": {keystate.MLDSA87, 19, 2592, mldsa.MLDSA87()},
}

var mldsaSpecs = []keystate.KeySpec{keystate.MLDSA44, keystate.MLDSA65, keystate.MLDSA87}

// mldsaParamsOf returns the test parameters of an ML-DSA key spec.
func mldsaParamsOf(t testing.TB, spec keystate.KeySpec) (oid byte, pkLen int, params mldsa.Parameters) {
	t.Helper()
	for _, p := range mldsaParams {
		if p.spec == spec {
			return p.oid, p.pkLen, p.params
		}
	}
	t.Fatalf("%s is not an ML-DSA spec", spec)
	return 0, 0, mldsa.Parameters{}
}

// mldsaPublicKey reads the FIPS 204 key out of k's SubjectPublicKeyInfo.
func mldsaPublicKey(t testing.TB, k *keycrypto.Key) *mldsa.PublicKey {
	t.Helper()
	_, pkLen, params := mldsaParamsOf(t, k.Spec())
	spki, err := k.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	pk, err := mldsa.NewPublicKey(params, spki[len(spki)-pkLen:])
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// externalMu computes μ for pure ML-DSA with an empty context as FIPS 204
// §6.2 and spec §2.2 write it, independently of the library:
// μ = SHAKE256(SHAKE256(pk, 64) ‖ 0x00 ‖ 0x00 ‖ M, 64).
func externalMu(pk, message []byte) []byte {
	tr := sha3.SumSHAKE256(pk, 64)
	h := sha3.NewSHAKE256()
	h.Write(tr)
	h.Write([]byte{0x00, 0x00}) // domain separator 0 (pure), context length 0
	h.Write(message)
	mu := make([]byte, 64)
	h.Read(mu)
	return mu
}

// seedPKCS8 writes the seed-only PKCS#8 of the IETF ML-DSA certificates
// draft by hand, byte by byte, so the test pins the storage form.
func seedPKCS8(oid byte, seed []byte) []byte {
	der := []byte{0x30, 0x34, 0x02, 0x01, 0x00,
		0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, oid,
		0x04, 0x22, 0x80, 0x20}
	return append(der, seed...)
}

// FIPS 204 key generation from a seed, against NIST ACVP keyGen vectors
// (testdata/mldsa-keygen-acvp.json, all 75 of vsId 42, taken from circl's
// copy of them):
// Parse of the seed-form PKCS#8 gives the expected public key, whose
// encoding sits at the end of our SubjectPublicKeyInfo; Marshal gives the
// same PKCS#8 back.
func TestMLDSAKnownAnswers(t *testing.T) {
	raw, err := os.ReadFile("testdata/mldsa-keygen-acvp.json")
	if err != nil {
		t.Fatal(err)
	}
	var kat struct {
		Tests []struct {
			ParameterSet string
			TcID         int
			Seed         string
			PkSHA256     string
		}
	}
	if err := json.Unmarshal(raw, &kat); err != nil {
		t.Fatal(err)
	}
	if len(kat.Tests) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range kat.Tests {
		p := mldsaParams[v.ParameterSet]
		seed, _ := hex.DecodeString(v.Seed)
		der := seedPKCS8(p.oid, seed)
		k, err := keycrypto.Parse(p.spec, der)
		if err != nil {
			t.Fatalf("tc %d: Parse: %v", v.TcID, err)
		}
		if !bytes.Equal(k.Marshal(), der) {
			t.Fatalf("tc %d: Marshal differs from the seed-form PKCS#8", v.TcID)
		}
		spki, _ := k.PublicKey()
		pk := spki[len(spki)-p.pkLen:]
		if sum := sha256.Sum256(pk); hex.EncodeToString(sum[:]) != v.PkSHA256 {
			t.Fatalf("tc %d (%s): public key hash %x, want %s", v.TcID, v.ParameterSet, sum, v.PkSHA256)
		}
		// SPKI header: SEQUENCE, AlgorithmIdentifier{id-ml-dsa-NN}, BIT STRING with 0 unused bits.
		hdr := spki[:len(spki)-p.pkLen]
		if len(hdr) != 22 || hdr[17] != 0x03 || hdr[21] != 0x00 || hdr[16] != p.oid {
			t.Fatalf("tc %d: unexpected SPKI header % x", v.TcID, hdr)
		}
	}
}

// ML-DSA signatures verify with the library's verifier (pure ML-DSA, empty
// context), are hedged (two signatures of one message differ), and have
// the FIPS 204 sizes; so do the crypto.Signer's, for a message and for μ.
func TestMLDSASignatures(t *testing.T) {
	sizes := map[keystate.KeySpec]int{keystate.MLDSA44: 2420, keystate.MLDSA65: 3309, keystate.MLDSA87: 4627}
	for spec, size := range sizes {
		k := testKey(t, spec)
		s1, err := k.Sign("ML_DSA_SHAKE_256", "RAW", message)
		if err != nil {
			t.Fatal(err)
		}
		s2, _ := k.Sign("ML_DSA_SHAKE_256", "", message)
		if len(s1) != size || bytes.Equal(s1, s2) {
			t.Fatalf("%s: %d-byte signatures, equal=%v; want %d bytes, hedged", spec, len(s1), bytes.Equal(s1, s2), size)
		}
		pk := mldsaPublicKey(t, k)
		for _, s := range [][]byte{s1, s2} {
			if err := mldsa.Verify(pk, message, s, nil); err != nil {
				t.Fatalf("%s: the library does not verify the signature: %v", spec, err)
			}
			if err := k.Verify("ML_DSA_SHAKE_256", "RAW", message, s); err != nil {
				t.Fatalf("%s: Verify RAW: %v", spec, err)
			}
		}
		// Another message, a flipped bit, a truncated signature: invalid.
		bad := bytes.Clone(s1)
		bad[100] ^= 1
		for _, c := range []struct {
			m, s []byte
		}{{[]byte("another message"), s1}, {message, bad}, {message, s1[:size-1]}, {message, nil}} {
			if err := k.Verify("ML_DSA_SHAKE_256", "RAW", c.m, c.s); !errors.Is(err, keycrypto.ErrInvalidSignature) {
				t.Fatalf("%s: Verify of a bad signature: %v, want ErrInvalidSignature", spec, err)
			}
		}
		// The crypto.Signer (hedged, empty context) verifies too, for a
		// message and for μ (mldsacrypto.MLDSAMu).
		signer := k.Signer()
		if _, ok := signer.(*mldsa.PrivateKey); !ok {
			t.Fatalf("%s: Signer is %T, want *mldsa.PrivateKey", spec, signer)
		}
		sig, err := signer.Sign(nil, message, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Verify("ML_DSA_SHAKE_256", "RAW", message, sig); err != nil {
			t.Fatalf("%s: Signer's signature: %v", spec, err)
		}
		sig, err = signer.Sign(nil, externalMu(pk.Bytes(), message), mldsacrypto.MLDSAMu)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Verify("ML_DSA_SHAKE_256", "RAW", message, sig); err != nil {
			t.Fatalf("%s: Signer's μ signature: %v", spec, err)
		}
	}
}

// Spec §2.2: EXTERNAL_MU signs a 64-byte μ computed by the caller, and the
// signature is a RAW signature of the message μ came from: Verify with RAW
// and that message accepts it, also for a message over the 4096-byte RAW
// limit of Sign.
func TestMLDSAExternalMu(t *testing.T) {
	long := bytes.Repeat([]byte("a long message "), 1000)
	for _, spec := range mldsaSpecs {
		k := testKey(t, spec)
		pk := mldsaPublicKey(t, k)
		for _, m := range [][]byte{message, {}, long} {
			mu := externalMu(pk.Bytes(), m)
			sig, err := k.Sign("ML_DSA_SHAKE_256", "EXTERNAL_MU", mu)
			if err != nil {
				t.Fatalf("%s: Sign EXTERNAL_MU: %v", spec, err)
			}
			if err := k.Verify("ML_DSA_SHAKE_256", "RAW", m, sig); err != nil {
				t.Fatalf("%s: a μ signature of a %d-byte message does not verify with RAW: %v", spec, len(m), err)
			}
			if err := mldsa.Verify(pk, m, sig, nil); err != nil {
				t.Fatalf("%s: the library does not verify a μ signature: %v", spec, err)
			}
			if err := k.Verify("ML_DSA_SHAKE_256", "RAW", append(bytes.Clone(m), 0), sig); !errors.Is(err, keycrypto.ErrInvalidSignature) {
				t.Fatalf("%s: a μ signature verifies for another message: %v", spec, err)
			}
		}

		// μ must be exactly 64 bytes.
		for _, n := range []int{0, 32, 63, 65, 128} {
			_, err := k.Sign("ML_DSA_SHAKE_256", "EXTERNAL_MU", make([]byte, n))
			if !errors.Is(err, keycrypto.ErrMessageType) ||
				keycrypto.Message(err) != "Message type EXTERNAL_MU requires a 64-byte message (μ, FIPS 204 §6.2) for algorithm ML_DSA_SHAKE_256." {
				t.Errorf("%s: Sign EXTERNAL_MU of %d bytes: %v, want ErrMessageType", spec, n, err)
			}
		}

		// Verify cannot take μ (the library's VerifyExternalMu is not
		// public); the message says what to do instead.
		mu := externalMu(pk.Bytes(), message)
		sig, _ := k.Sign("ML_DSA_SHAKE_256", "EXTERNAL_MU", mu)
		for _, m := range [][]byte{mu, make([]byte, 10)} {
			err := k.Verify("ML_DSA_SHAKE_256", "EXTERNAL_MU", m, sig)
			if !errors.Is(err, keycrypto.ErrMessageType) ||
				!strings.HasSuffix(keycrypto.Message(err), "Verify a signature made over an external μ with MessageType RAW and the message it was computed from.") {
				t.Errorf("%s: Verify EXTERNAL_MU: %v, want ErrMessageType pointing to RAW", spec, err)
			}
		}
	}
}

// Keys and signatures made before the switch from circl v1.6.5 to
// filippo.io/mldsa (testdata/mldsa-circl-v1.6.5.json): Generate from the
// same seeded reader gives byte-identical PKCS#8 and SPKI, and circl's
// signatures verify.
func TestMLDSACirclCompatible(t *testing.T) {
	raw, err := os.ReadFile("testdata/mldsa-circl-v1.6.5.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Tests []struct {
			KeySpec                 string
			Seed                    uint64
			SPKISHA256, PKCS8SHA256 string
			Message, Signature      string
		}
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Tests) != 3 {
		t.Fatalf("%d vectors, want 3", len(v.Tests))
	}
	for _, c := range v.Tests {
		spec, ok := keystate.ParseKeySpec(c.KeySpec)
		if !ok {
			t.Fatalf("key spec %q", c.KeySpec)
		}
		k, err := keycrypto.Generate(spec, seeded(c.Seed))
		if err != nil {
			t.Fatal(err)
		}
		spki, _ := k.PublicKey()
		if sum := sha256.Sum256(spki); hex.EncodeToString(sum[:]) != c.SPKISHA256 {
			t.Errorf("%s: SPKI differs from circl's", spec)
		}
		if sum := sha256.Sum256(k.Marshal()); hex.EncodeToString(sum[:]) != c.PKCS8SHA256 {
			t.Errorf("%s: PKCS#8 differs from circl's", spec)
		}
		sig, _ := hex.DecodeString(c.Signature)
		if err := k.Verify("ML_DSA_SHAKE_256", "RAW", []byte(c.Message), sig); err != nil {
			t.Errorf("%s: circl's signature: %v", spec, err)
		}
	}
}

// Only the seed form is storage: an expanded key or another OID is refused.
func TestMLDSAParseRefusesOtherForms(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 32)
	if _, err := keycrypto.Parse(keystate.MLDSA44, seedPKCS8(18, seed)); err == nil {
		t.Error("an ML-DSA-65 key parsed as ML_DSA_44")
	}
	der := seedPKCS8(17, seed)
	der[20] = 0x04 // OCTET STRING instead of [0]: the expandedKey choice
	if _, err := keycrypto.Parse(keystate.MLDSA44, der); err == nil {
		t.Error("a non-seed form parsed")
	}
}
