package keycrypto_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
)

var mldsaParams = map[string]struct {
	spec  keystate.KeySpec
	oid   byte // last arc of id-ml-dsa-NN
	pkLen int
}{
	"ML-DSA-44": {keystate.MLDSA44, 17, mldsa44.PublicKeySize},
	"ML-DSA-65": {keystate.MLDSA65, 18, mldsa65.PublicKeySize},
	"ML-DSA-87": {keystate.MLDSA87, 19, mldsa87.PublicKeySize},
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
// (testdata/mldsa-keygen-acvp.json, taken from circl's copy of them):
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

// ML-DSA signatures verify with circl's own verifier (pure ML-DSA, empty
// context), are hedged (two signatures of one message differ), and have
// the FIPS 204 sizes.
func TestMLDSAVerifiedByCircl(t *testing.T) {
	sizes := map[keystate.KeySpec]int{keystate.MLDSA44: 2420, keystate.MLDSA65: 3309, keystate.MLDSA87: 4627}
	for spec, size := range sizes {
		k := testKey(t, spec)
		s1, err := k.Sign("ML_DSA_SHAKE_256", "RAW", message)
		if err != nil {
			t.Fatal(err)
		}
		s2, _ := k.Sign("ML_DSA_SHAKE_256", "RAW", message)
		if len(s1) != size || bytes.Equal(s1, s2) {
			t.Fatalf("%s: %d-byte signatures, equal=%v; want %d bytes, hedged", spec, len(s1), bytes.Equal(s1, s2), size)
		}
		spki, _ := k.PublicKey()
		ok := false
		switch spec {
		case keystate.MLDSA44:
			var pk mldsa44.PublicKey
			_ = pk.UnmarshalBinary(spki[22:])
			ok = mldsa44.Verify(&pk, message, nil, s1)
		case keystate.MLDSA65:
			var pk mldsa65.PublicKey
			_ = pk.UnmarshalBinary(spki[22:])
			ok = mldsa65.Verify(&pk, message, nil, s1)
		case keystate.MLDSA87:
			var pk mldsa87.PublicKey
			_ = pk.UnmarshalBinary(spki[22:])
			ok = mldsa87.Verify(&pk, message, nil, s1)
		}
		if !ok {
			t.Fatalf("%s: circl does not verify the signature", spec)
		}
		// The crypto.Signer (deterministic, empty context) verifies too.
		sig, err := k.Signer().Sign(nil, message, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Verify("ML_DSA_SHAKE_256", "RAW", message, sig); err != nil {
			t.Fatalf("%s: Signer's signature: %v", spec, err)
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
