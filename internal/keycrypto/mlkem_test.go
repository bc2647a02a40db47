package keycrypto_test

import (
	"bytes"
	"crypto/mlkem"
	"encoding/asn1"
	"errors"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
)

var mlkemSpecs = []keystate.KeySpec{keystate.MLKEM512, keystate.MLKEM768, keystate.MLKEM1024}

// mlkemSizes are FIPS 203's sizes (Table 3) and the last arc of each
// spec's id-alg-ml-kem-NNN OID.
var mlkemSizes = map[keystate.KeySpec]struct{ oid, ek, ct int }{
	keystate.MLKEM512:  {1, 800, 768},
	keystate.MLKEM768:  {2, 1184, 1088},
	keystate.MLKEM1024: {3, 1568, 1568},
}

// mlkemSPKI splits an ML-KEM SubjectPublicKeyInfo into its OID and the
// FIPS 203 encapsulation key.
func mlkemSPKI(t testing.TB, der []byte) (asn1.ObjectIdentifier, []byte) {
	t.Helper()
	var spki struct {
		Algo struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters asn1.RawValue `asn1:"optional"`
		}
		PublicKey asn1.BitString
	}
	rest, err := asn1.Unmarshal(der, &spki)
	if err != nil || len(rest) != 0 {
		t.Fatalf("public key is not one DER SubjectPublicKeyInfo: %v", err)
	}
	if len(spki.Algo.Parameters.FullBytes) != 0 {
		t.Fatalf("ML-KEM AlgorithmIdentifier has parameters %x", spki.Algo.Parameters.FullBytes)
	}
	return spki.Algo.Algorithm, spki.PublicKey.RightAlign()
}

// mlkemSeed reads the 64-byte seed out of the PKCS#8 storage form.
func mlkemSeed(t testing.TB, der []byte) (asn1.ObjectIdentifier, []byte) {
	t.Helper()
	var p struct {
		Version    int
		Algo       struct{ Algorithm asn1.ObjectIdentifier }
		PrivateKey []byte
	}
	if rest, err := asn1.Unmarshal(der, &p); err != nil || len(rest) != 0 {
		t.Fatalf("private key is not one DER PKCS#8 PrivateKeyInfo: %v", err)
	}
	if p.Version != 0 || len(p.PrivateKey) != 66 || p.PrivateKey[0] != 0x80 || p.PrivateKey[1] != 64 {
		t.Fatalf("PKCS#8 is not version 0 with a [0] 64-byte seed: version %d, %d key bytes", p.Version, len(p.PrivateKey))
	}
	return p.Algo.Algorithm, p.PrivateKey[2:]
}

func TestMLKEMEncodings(t *testing.T) {
	for _, spec := range mlkemSpecs {
		t.Run(spec.String(), func(t *testing.T) {
			k := testKey(t, spec)
			want := asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, mlkemSizes[spec].oid}
			pub, err := k.PublicKey()
			if err != nil {
				t.Fatal(err)
			}
			oid, ek := mlkemSPKI(t, pub)
			if !oid.Equal(want) || len(ek) != mlkemSizes[spec].ek {
				t.Fatalf("SPKI: OID %v, %d-byte key; want %v, %d", oid, len(ek), want, mlkemSizes[spec].ek)
			}
			m := k.Marshal()
			if oid, _ := mlkemSeed(t, m); !oid.Equal(want) {
				t.Fatalf("PKCS#8 OID %v, want %v", oid, want)
			}
			back, err := keycrypto.Parse(spec, m)
			if err != nil {
				t.Fatal(err)
			}
			if pub2, _ := back.PublicKey(); !bytes.Equal(pub, pub2) {
				t.Fatal("Parse(Marshal) has another public key")
			}
			if k.Signer() != nil {
				t.Fatal("an ML-KEM key returned a Signer")
			}
			if got := keycrypto.EncapsulationAlgorithms(spec); len(got) != 1 || got[0] != keycrypto.MLKEM {
				t.Fatalf("EncapsulationAlgorithms = %v", got)
			}
		})
	}
}

// TestMLKEMAgainstTheStandardLibrary checks ML-KEM-768 and ML-KEM-1024
// against crypto/mlkem, an implementation of its own: the key the
// standard library derives from the stored seed has the public key
// GetPublicKey shows, a secret the standard library encapsulates to that
// public key decapsulates here, and one encapsulated here decapsulates
// there.
func TestMLKEMAgainstTheStandardLibrary(t *testing.T) {
	type stdKey interface {
		Decapsulate([]byte) ([]byte, error)
	}
	for _, spec := range []keystate.KeySpec{keystate.MLKEM768, keystate.MLKEM1024} {
		t.Run(spec.String(), func(t *testing.T) {
			k, err := keycrypto.Generate(spec, seeded(uint64(spec)))
			if err != nil {
				t.Fatal(err)
			}
			pub, _ := k.PublicKey()
			_, ek := mlkemSPKI(t, pub)
			_, seed := mlkemSeed(t, k.Marshal())
			var (
				dk        stdKey
				stdEK     []byte
				stdSecret []byte
				stdCT     []byte
			)
			switch spec {
			case keystate.MLKEM768:
				d, err := mlkem.NewDecapsulationKey768(seed)
				if err != nil {
					t.Fatal(err)
				}
				dk, stdEK = d, d.EncapsulationKey().Bytes()
				e, err := mlkem.NewEncapsulationKey768(ek)
				if err != nil {
					t.Fatal(err)
				}
				stdSecret, stdCT = e.Encapsulate()
			default:
				d, err := mlkem.NewDecapsulationKey1024(seed)
				if err != nil {
					t.Fatal(err)
				}
				dk, stdEK = d, d.EncapsulationKey().Bytes()
				e, err := mlkem.NewEncapsulationKey1024(ek)
				if err != nil {
					t.Fatal(err)
				}
				stdSecret, stdCT = e.Encapsulate()
			}
			if !bytes.Equal(stdEK, ek) {
				t.Fatal("crypto/mlkem derives another encapsulation key from the stored seed")
			}
			got, err := k.Decapsulate(keycrypto.MLKEM, stdCT)
			if err != nil || !bytes.Equal(got, stdSecret) {
				t.Fatalf("Decapsulate of crypto/mlkem's ciphertext: %v, equal %v", err, bytes.Equal(got, stdSecret))
			}
			secret, ct, err := k.Encapsulate(keycrypto.MLKEM, seeded(7))
			if err != nil {
				t.Fatal(err)
			}
			if len(secret) != 32 || len(ct) != mlkemSizes[spec].ct {
				t.Fatalf("Encapsulate: %d-byte secret, %d-byte ciphertext", len(secret), len(ct))
			}
			back, err := dk.Decapsulate(ct)
			if err != nil || !bytes.Equal(back, secret) {
				t.Fatalf("crypto/mlkem's Decapsulate of our ciphertext: %v, equal %v", err, bytes.Equal(back, secret))
			}
		})
	}
}

func TestMLKEMRoundTripAndImplicitRejection(t *testing.T) {
	for _, spec := range mlkemSpecs {
		t.Run(spec.String(), func(t *testing.T) {
			k := testKey(t, spec)
			other, err := keycrypto.Generate(spec, seeded(99))
			if err != nil {
				t.Fatal(err)
			}
			secret, ct, err := k.Encapsulate(keycrypto.MLKEM, seeded(1))
			if err != nil {
				t.Fatal(err)
			}
			got, err := k.Decapsulate(keycrypto.MLKEM, ct)
			if err != nil || !bytes.Equal(got, secret) {
				t.Fatalf("round trip: %v", err)
			}
			// The same randomness encapsulates the same way (a seeded
			// service is reproducible); other randomness does not.
			if s2, ct2, _ := k.Encapsulate(keycrypto.MLKEM, seeded(1)); !bytes.Equal(s2, secret) || !bytes.Equal(ct2, ct) {
				t.Fatal("the same randomness gave another encapsulation")
			}
			if s3, _, _ := k.Encapsulate(keycrypto.MLKEM, seeded(2)); bytes.Equal(s3, secret) {
				t.Fatal("other randomness gave the same secret")
			}
			// Implicit rejection: an altered ciphertext, or one for another
			// key, gives another 32-byte secret and no error.
			bad := bytes.Clone(ct)
			bad[len(bad)/2] ^= 1
			for name, c := range map[string][]byte{"altered": bad} {
				r, err := k.Decapsulate(keycrypto.MLKEM, c)
				if err != nil || len(r) != 32 || bytes.Equal(r, secret) {
					t.Fatalf("%s ciphertext: %v, %d bytes, equal %v", name, err, len(r), bytes.Equal(r, secret))
				}
			}
			if r, err := other.Decapsulate(keycrypto.MLKEM, ct); err != nil || len(r) != 32 || bytes.Equal(r, secret) {
				t.Fatalf("another key's Decapsulate: %v, equal %v", err, bytes.Equal(r, secret))
			}
			// A ciphertext of another length is refused.
			for _, n := range []int{0, 1, len(ct) - 1, len(ct) + 1} {
				c := make([]byte, n)
				copy(c, ct)
				if _, err := k.Decapsulate(keycrypto.MLKEM, c); !errors.Is(err, keycrypto.ErrInvalidCiphertext) {
					t.Fatalf("%d-byte ciphertext: %v, want ErrInvalidCiphertext", n, err)
				}
			}
			// Only ML_KEM, and only on an ML-KEM key.
			if _, _, err := k.Encapsulate(keycrypto.ECDH, seeded(1)); !errors.Is(err, keycrypto.ErrIncompatibleAlgorithm) {
				t.Fatalf("Encapsulate with ECDH: %v", err)
			}
			if _, err := k.Decapsulate("ML_KEM_768", ct); !errors.Is(err, keycrypto.ErrIncompatibleAlgorithm) {
				t.Fatalf("Decapsulate with ML_KEM_768: %v", err)
			}
			if _, err := testKey(t, keystate.ECCNISTP256).Decapsulate(keycrypto.MLKEM, ct); !errors.Is(err, keycrypto.ErrIncompatibleAlgorithm) {
				t.Fatalf("Decapsulate on a P-256 key: %v", err)
			}
		})
	}
}

func TestMLKEMParseRefusals(t *testing.T) {
	good := testKey(t, keystate.MLKEM768).Marshal()
	expanded := bytes.Clone(good)
	expanded[len(expanded)-66] = 0x04 // an OCTET STRING (expandedKey or both) instead of [0] seed
	for name, c := range map[string]struct {
		spec keystate.KeySpec
		der  []byte
	}{
		"another spec's OID": {keystate.MLKEM512, good},
		"not the seed form":  {keystate.MLKEM768, expanded},
		"trailing bytes":     {keystate.MLKEM768, append(bytes.Clone(good), 0)},
		"truncated":          {keystate.MLKEM768, good[:len(good)-1]},
		"an ML-DSA key":      {keystate.MLKEM768, testKey(t, keystate.MLDSA44).Marshal()},
	} {
		if _, err := keycrypto.Parse(c.spec, c.der); !errors.Is(err, keycrypto.ErrInvalidMaterial) {
			t.Errorf("%s: %v, want ErrInvalidMaterial", name, err)
		}
	}
	if _, err := keycrypto.ParseImported(keystate.MLKEM768, good); !errors.Is(err, keycrypto.ErrUnsupportedSpec) {
		t.Errorf("ParseImported: %v, want ErrUnsupportedSpec", err)
	}
}

func TestMLKEMDataKeyPair(t *testing.T) {
	for _, spec := range mlkemSpecs {
		priv, pub, err := keycrypto.GenerateDataKeyPair(spec.String(), seeded(5))
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		k, err := keycrypto.Parse(spec, priv)
		if err != nil {
			t.Fatalf("%s: the private key does not parse: %v", spec, err)
		}
		if p, _ := k.PublicKey(); !bytes.Equal(p, pub) {
			t.Fatalf("%s: the public key is not the private key's", spec)
		}
	}
}
