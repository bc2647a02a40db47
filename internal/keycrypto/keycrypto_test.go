package keycrypto_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
)

var message = []byte("kmsmodel keycrypto test message")

// messageTypes returns the message types alg accepts (spec §2.2).
func messageTypes(alg string) []string {
	switch alg {
	case keycrypto.ED25519SHA512, keycrypto.MLDSASHAKE256:
		return []string{keycrypto.MessageTypeRaw}
	case keycrypto.ED25519PHSHA512:
		return []string{keycrypto.MessageTypeDigest}
	}
	return []string{keycrypto.MessageTypeRaw, keycrypto.MessageTypeDigest}
}

// signInput returns the bytes to send for message under messageType.
func signInput(t *testing.T, k *keycrypto.Key, alg, messageType string) []byte {
	if messageType == keycrypto.MessageTypeRaw {
		return message
	}
	if alg == keycrypto.ED25519PHSHA512 {
		d := sha512.Sum512(message)
		return d[:]
	}
	return digestOf(t, k, alg, message)
}

// Spec §2.2, §2.4: every spec × algorithm × message type signs and verifies;
// RAW and DIGEST of the same message verify each other's signatures; a
// changed message, a changed signature and another key do not verify; the
// key read back by Parse verifies too.
func TestSignVerifyRoundTrip(t *testing.T) {
	for _, spec := range keySpecs {
		for _, alg := range keycrypto.SigningAlgorithms(spec) {
			for _, mt := range messageTypes(alg) {
				t.Run(fmt.Sprintf("%s/%s/%s", spec, alg, mt), func(t *testing.T) {
					t.Parallel()
					k := testKey(t, spec)
					in := signInput(t, k, alg, mt)
					sig, err := k.Sign(alg, mt, in)
					if err != nil {
						t.Fatalf("Sign: %v", err)
					}
					if err := k.Verify(alg, mt, in, sig); err != nil {
						t.Fatalf("Verify: %v", err)
					}
					types := messageTypes(alg)
					if len(types) == 2 { // RAW ↔ DIGEST
						other := types[0]
						if other == mt {
							other = types[1]
						}
						if err := k.Verify(alg, other, signInput(t, k, alg, other), sig); err != nil {
							t.Fatalf("Verify with %s: %v", other, err)
						}
					}
					parsed, err := keycrypto.Parse(spec, k.Marshal())
					if err != nil {
						t.Fatalf("Parse: %v", err)
					}
					if err := parsed.Verify(alg, mt, in, sig); err != nil {
						t.Fatalf("Verify by the parsed key: %v", err)
					}
					bad := slices.Clone(in)
					bad[0] ^= 1
					if err := k.Verify(alg, mt, bad, sig); !errors.Is(err, keycrypto.ErrInvalidSignature) {
						t.Fatalf("Verify of a changed message = %v, want ErrInvalidSignature", err)
					}
					badSig := slices.Clone(sig)
					badSig[len(badSig)/2] ^= 0x40
					if err := k.Verify(alg, mt, in, badSig); !errors.Is(err, keycrypto.ErrInvalidSignature) {
						t.Fatalf("Verify of a changed signature = %v, want ErrInvalidSignature", err)
					}
					if err := k.Verify(alg, mt, in, nil); !errors.Is(err, keycrypto.ErrInvalidSignature) {
						t.Fatalf("Verify of an empty signature = %v, want ErrInvalidSignature", err)
					}
					if keycrypto.Message(err) != "" {
						t.Fatalf("Message(invalid signature) = %q, want empty (spec §2.4)", keycrypto.Message(err))
					}
				})
			}
		}
	}
}

// Spec §2.5, RPT-PKCS11: a valid algorithm of another spec gets the exact
// AWS message.
func TestIncompatibleAlgorithm(t *testing.T) {
	cases := []struct {
		spec keystate.KeySpec
		op   func(k *keycrypto.Key) error
		msg  string
	}{
		{keystate.ECCNISTP521, func(k *keycrypto.Key) error {
			_, err := k.Sign("ECDSA_SHA_256", "RAW", message)
			return err
		}, "Algorithm ECDSA_SHA_256 is incompatible with key spec ECC_NIST_P521."},
		{keystate.ECCNISTP256, func(k *keycrypto.Key) error {
			return k.Verify("ECDSA_SHA_384", "RAW", message, []byte{1})
		}, "Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256."},
		{keystate.HMAC224, func(k *keycrypto.Key) error {
			_, err := k.GenerateMac("HMAC_SHA_256", message)
			return err
		}, "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224."},
		{keystate.HMAC256, func(k *keycrypto.Key) error {
			return k.VerifyMac("HMAC_SHA_512", message, make([]byte, 64))
		}, "Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256."},
		{keystate.ECCNISTP256, func(k *keycrypto.Key) error {
			_, err := k.Encrypt("RSAES_OAEP_SHA_256", message)
			return err
		}, "Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec ECC_NIST_P256."},
		{keystate.RSA2048, func(k *keycrypto.Key) error {
			_, err := k.Encrypt("SYMMETRIC_DEFAULT", message)
			return err
		}, "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048."},
		{keystate.RSA2048, func(k *keycrypto.Key) error {
			_, err := k.Decrypt("SM2PKE", message)
			return err
		}, "Algorithm SM2PKE is incompatible with key spec RSA_2048."},
		{keystate.ECCSECGP256K1, func(k *keycrypto.Key) error {
			_, err := k.DeriveSharedSecret("ECDH", nil)
			return err
		}, "Algorithm ECDH is incompatible with key spec ECC_SECG_P256K1."},
		{keystate.HMAC256, func(k *keycrypto.Key) error {
			_, err := k.Sign("RSASSA_PSS_SHA_256", "RAW", message)
			return err
		}, "Algorithm RSASSA_PSS_SHA_256 is incompatible with key spec HMAC_256."},
		{keystate.ECCNISTP256, func(k *keycrypto.Key) error {
			_, err := k.GenerateMac("HMAC_SHA_256", message)
			return err
		}, "Algorithm HMAC_SHA_256 is incompatible with key spec ECC_NIST_P256."},
	}
	for _, c := range cases {
		t.Run(c.msg, func(t *testing.T) {
			err := c.op(testKey(t, c.spec))
			if !errors.Is(err, keycrypto.ErrIncompatibleAlgorithm) {
				t.Fatalf("err = %v, want ErrIncompatibleAlgorithm", err)
			}
			if got := keycrypto.Message(err); got != c.msg {
				t.Fatalf("Message = %q, want %q", got, c.msg)
			}
			if got := err.Error(); got != "keycrypto: "+c.msg {
				t.Fatalf("Error() = %q", got)
			}
		})
	}
}

// Spec §2.2: a DIGEST of the wrong length gets "Digest is invalid length
// for algorithm <ALG>." on Sign and on Verify.
func TestDigestLength(t *testing.T) {
	for _, spec := range keySpecs {
		for _, alg := range keycrypto.SigningAlgorithms(spec) {
			n, ok := keycrypto.DigestLength(alg)
			if !ok {
				continue
			}
			k := testKey(t, spec)
			for _, l := range []int{0, n - 1, n + 1} {
				_, err := k.Sign(alg, "DIGEST", make([]byte, l))
				want := "Digest is invalid length for algorithm " + alg + "."
				if !errors.Is(err, keycrypto.ErrDigestLength) || keycrypto.Message(err) != want {
					t.Errorf("%s Sign DIGEST of %d bytes: %v", alg, l, err)
				}
				err = k.Verify(alg, "DIGEST", make([]byte, l), []byte{0})
				if !errors.Is(err, keycrypto.ErrDigestLength) {
					t.Errorf("%s Verify DIGEST of %d bytes: %v", alg, l, err)
				}
			}
		}
	}
	want := map[string]int{
		"RSASSA_PSS_SHA_256": 32, "RSASSA_PKCS1_V1_5_SHA_384": 48, "ECDSA_SHA_512": 64,
		"ED25519_PH_SHA_512": 64, "SM2DSA": 32,
	}
	for alg, n := range want {
		if got, ok := keycrypto.DigestLength(alg); !ok || got != n {
			t.Errorf("DigestLength(%s) = %d, %v; want %d", alg, got, ok, n)
		}
	}
	for _, alg := range []string{"ED25519_SHA_512", "ML_DSA_SHAKE_256", "HMAC_SHA_256", "nope"} {
		if _, ok := keycrypto.DigestLength(alg); ok {
			t.Errorf("DigestLength(%s) ok, want false", alg)
		}
	}
}

// Spec §2.2, §12.4: message types an algorithm does not take are refused
// with ErrMessageType (our decision for the unrecorded AWS answer).
func TestMessageTypeRefused(t *testing.T) {
	cases := []struct {
		spec    keystate.KeySpec
		alg, mt string
		n       int
	}{
		{keystate.ECCNISTEdwards25519, "ED25519_SHA_512", "DIGEST", 64},
		{keystate.ECCNISTEdwards25519, "ED25519_PH_SHA_512", "RAW", 64},
		{keystate.ECCNISTEdwards25519, "ED25519_PH_SHA_512", "", 64},
		{keystate.MLDSA65, "ML_DSA_SHAKE_256", "DIGEST", 64},
		{keystate.MLDSA65, "ML_DSA_SHAKE_256", "EXTERNAL_MU", 32}, // μ has 64 bytes; Verify takes no μ
		{keystate.ECCNISTP256, "ECDSA_SHA_256", "EXTERNAL_MU", 32},
		{keystate.RSA2048, "RSASSA_PSS_SHA_256", "EXTERNAL_MU", 32},
		{keystate.SM2, "SM2DSA", "EXTERNAL_MU", 32},
		{keystate.ECCSECGP256K1, "ECDSA_SHA_256", "raw", 32},
	}
	for _, c := range cases {
		k := testKey(t, c.spec)
		_, err := k.Sign(c.alg, c.mt, make([]byte, c.n))
		if !errors.Is(err, keycrypto.ErrMessageType) || keycrypto.Message(err) == "" {
			t.Errorf("%s Sign %q: %v, want ErrMessageType with a message", c.alg, c.mt, err)
		}
		err = k.Verify(c.alg, c.mt, make([]byte, c.n), []byte{0})
		if !errors.Is(err, keycrypto.ErrMessageType) {
			t.Errorf("%s Verify %q: %v, want ErrMessageType", c.alg, c.mt, err)
		}
	}
}

// TestSM2ShortPlaintextsRoundTrip: every SM2PKE ciphertext of a one-byte
// plaintext decrypts. For one plaintext in 128, gmsm v0.30.0 made one that
// nothing decrypted (its retry after an all-zero KDF output used an
// overwritten point; v0.44.1 still does, and encrypt checks and encrypts
// anew) or refused a good one (it rejected a C2 of zeros, not a t of
// zeros; fixed in v0.44.1). 3,000 round trips fail at least once with
// probability 1 − (127/128)^3000 > 0.99999 when either fault is back.
func TestSM2ShortPlaintextsRoundTrip(t *testing.T) {
	t.Parallel()
	k := testKey(t, keystate.SM2)
	for i := range 3000 {
		pt := []byte{byte(i)}
		ct, err := k.Encrypt(keycrypto.SM2PKE, pt)
		if err != nil {
			t.Fatalf("round trip %d: Encrypt: %v", i, err)
		}
		got, err := k.Decrypt(keycrypto.SM2PKE, ct)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("round trip %d: Decrypt = %x, %v; want %x", i, got, err, pt)
		}
	}
}

// Spec §4.1: OAEP and SM2PKE round trips at and over the limit, with the
// exact AWS message over it.
func TestEncryptDecrypt(t *testing.T) {
	want := map[string]int{
		"RSA_2048/RSAES_OAEP_SHA_1": 214, "RSA_2048/RSAES_OAEP_SHA_256": 190,
		"RSA_3072/RSAES_OAEP_SHA_1": 342, "RSA_3072/RSAES_OAEP_SHA_256": 318,
		"RSA_4096/RSAES_OAEP_SHA_1": 470, "RSA_4096/RSAES_OAEP_SHA_256": 446,
		"SM2/SM2PKE": 1024,
	}
	for _, spec := range []keystate.KeySpec{keystate.RSA2048, keystate.RSA3072, keystate.RSA4096, keystate.SM2} {
		for _, alg := range keycrypto.EncryptionAlgorithms(spec) {
			name := spec.String() + "/" + alg
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				k := testKey(t, spec)
				limit, ok := keycrypto.MaxPlaintext(spec, alg)
				if !ok || limit != want[name] {
					t.Fatalf("MaxPlaintext = %d, %v; want %d", limit, ok, want[name])
				}
				for _, n := range []int{1, limit} {
					pt := bytes.Repeat([]byte{0x5a}, n)
					ct, err := k.Encrypt(alg, pt)
					if err != nil {
						t.Fatalf("Encrypt(%d bytes): %v", n, err)
					}
					got, err := k.Decrypt(alg, ct)
					if err != nil || !bytes.Equal(got, pt) {
						t.Fatalf("Decrypt(%d bytes) = %v", n, err)
					}
					if spec != keystate.SM2 && len(ct) != limitModulus(spec) {
						t.Fatalf("ciphertext is %d bytes, want the modulus size", len(ct))
					}
					ct[len(ct)-1] ^= 1
					if _, err := k.Decrypt(alg, ct); !errors.Is(err, keycrypto.ErrInvalidCiphertext) || keycrypto.Message(err) != "" {
						t.Fatalf("Decrypt of a changed ciphertext = %v", err)
					}
				}
				_, err := k.Encrypt(alg, make([]byte, limit+1))
				msg := fmt.Sprintf("Algorithm %s and key spec %s cannot encrypt data larger than %d bytes.", alg, spec, limit)
				if !errors.Is(err, keycrypto.ErrPlaintextTooLarge) || keycrypto.Message(err) != msg {
					t.Fatalf("Encrypt over the limit = %v, want %q", err, msg)
				}
				if _, err := k.Decrypt(alg, []byte("short")); !errors.Is(err, keycrypto.ErrInvalidCiphertext) {
					t.Fatalf("Decrypt of garbage = %v", err)
				}
			})
		}
	}
	if alg := keycrypto.EncryptionAlgorithms(keystate.RSA2048); !slices.Equal(alg, []string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}) {
		t.Errorf("EncryptionAlgorithms(RSA_2048) = %v (recorded order, spec §1.1)", alg)
	}
}

func limitModulus(spec keystate.KeySpec) int {
	return map[keystate.KeySpec]int{keystate.RSA2048: 256, keystate.RSA3072: 384, keystate.RSA4096: 512}[spec]
}

// Spec §6: both sides get the same raw x-coordinate, of the curve's size;
// a key on another curve or garbage is ErrInvalidPublicKey with an empty
// AWS message.
func TestDeriveSharedSecret(t *testing.T) {
	sizes := map[keystate.KeySpec]int{keystate.ECCNISTP256: 32, keystate.ECCNISTP384: 48,
		keystate.ECCNISTP521: 66, keystate.SM2: 32}
	for spec, size := range sizes {
		a := testKey(t, spec)
		b, err := keycrypto.Generate(spec, seeded(77))
		if err != nil {
			t.Fatal(err)
		}
		pa, _ := a.PublicKey()
		pb, _ := b.PublicKey()
		s1, err := a.DeriveSharedSecret("ECDH", pb)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		s2, err := b.DeriveSharedSecret("ECDH", pa)
		if err != nil || !bytes.Equal(s1, s2) || len(s1) != size {
			t.Fatalf("%s: secrets %x / %x (%v), want equal, %d bytes", spec, s1, s2, err, size)
		}
		other := keystate.ECCNISTP384
		if spec == keystate.ECCNISTP384 {
			other = keystate.ECCNISTP256
		}
		po, _ := testKey(t, other).PublicKey()
		pk1, _ := testKey(t, keystate.ECCSECGP256K1).PublicKey()
		ped, _ := testKey(t, keystate.ECCNISTEdwards25519).PublicKey()
		for name, peer := range map[string][]byte{"other curve": po, "secp256k1": pk1, "ed25519": ped,
			"garbage": []byte("InvalidPublicKey"), "empty": nil, "trailing": append(slices.Clone(pb), 0)} {
			_, err := a.DeriveSharedSecret("ECDH", peer)
			if !errors.Is(err, keycrypto.ErrInvalidPublicKey) || keycrypto.Message(err) != "" {
				t.Errorf("%s with %s: %v, want ErrInvalidPublicKey and empty message", spec, name, err)
			}
		}
	}
	// P-256 with a NIST SPKI from the standard library.
	a := testKey(t, keystate.ECCNISTP256)
	peer, _ := ecdsa.GenerateKey(elliptic.P256(), nil)
	der, _ := x509.MarshalPKIXPublicKey(&peer.PublicKey)
	got, err := a.DeriveSharedSecret("ECDH", der)
	if err != nil {
		t.Fatal(err)
	}
	pe, _ := peer.ECDH()
	apub, _ := a.PublicKey()
	ap, _ := x509.ParsePKIXPublicKey(apub)
	ae, _ := ap.(*ecdsa.PublicKey).ECDH()
	want, _ := pe.ECDH(ae)
	if !bytes.Equal(got, want) {
		t.Fatalf("DeriveSharedSecret disagrees with crypto/ecdh")
	}
}

// Spec §7: the MAC is RFC 2104 HMAC with the spec's hash; VerifyMac
// refuses a changed MAC with ErrInvalidMac and an empty message.
func TestMac(t *testing.T) {
	hashes := map[keystate.KeySpec]func() hash.Hash{keystate.HMAC224: sha256.New224,
		keystate.HMAC256: sha256.New, keystate.HMAC384: sha512.New384, keystate.HMAC512: sha512.New}
	for spec, h := range hashes {
		k := testKey(t, spec)
		alg := keycrypto.MacAlgorithms(spec)[0]
		mac, err := k.GenerateMac(alg, message)
		if err != nil {
			t.Fatal(err)
		}
		m := hmac.New(h, k.Marshal())
		m.Write(message)
		if !bytes.Equal(mac, m.Sum(nil)) {
			t.Fatalf("%s: MAC differs from crypto/hmac", spec)
		}
		if len(k.Marshal()) != h().Size() {
			t.Fatalf("%s: generated key is %d bytes, want %d (our §12.17 decision)", spec, len(k.Marshal()), h().Size())
		}
		if err := k.VerifyMac(alg, message, mac); err != nil {
			t.Fatal(err)
		}
		mac[0] ^= 1
		for _, bad := range [][]byte{mac, mac[:len(mac)-1], nil} {
			if err := k.VerifyMac(alg, message, bad); !errors.Is(err, keycrypto.ErrInvalidMac) || keycrypto.Message(err) != "" {
				t.Fatalf("%s: VerifyMac of a bad MAC = %v", spec, err)
			}
		}
	}
}

// Determinism: every non-RSA spec makes the same key from the same reader
// and a different one from another.
func TestGenerateDeterministic(t *testing.T) {
	for _, spec := range keySpecs {
		if strings.HasPrefix(spec.String(), "RSA") {
			continue
		}
		a, err := keycrypto.Generate(spec, seeded(1))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := keycrypto.Generate(spec, seeded(1))
		c, _ := keycrypto.Generate(spec, seeded(2))
		if !bytes.Equal(a.Marshal(), b.Marshal()) {
			t.Errorf("%s: same seed, different keys", spec)
		}
		if bytes.Equal(a.Marshal(), c.Marshal()) {
			t.Errorf("%s: different seeds, same key", spec)
		}
	}
}

// A reader that never yields a valid scalar ends rejection sampling with an
// error instead of looping.
func TestGenerateZeroReader(t *testing.T) {
	for _, spec := range []keystate.KeySpec{keystate.ECCNISTP256, keystate.ECCSECGP256K1, keystate.SM2} {
		if _, err := keycrypto.Generate(spec, bytes.NewReader(make([]byte, 1<<16))); err == nil {
			t.Errorf("%s: Generate from zeros succeeded", spec)
		}
	}
}

// The storage form round-trips, and PublicKey is what crypto/x509 makes
// for the Signer's public key where x509 knows the type.
func TestParseMarshal(t *testing.T) {
	for _, spec := range keySpecs {
		k := testKey(t, spec)
		p, err := keycrypto.Parse(spec, k.Marshal())
		if err != nil {
			t.Fatalf("%s: Parse(Marshal()): %v", spec, err)
		}
		if !bytes.Equal(p.Marshal(), k.Marshal()) || p.Spec() != spec {
			t.Fatalf("%s: Parse(Marshal()) differs", spec)
		}
		if spec.IsHMAC() {
			if _, err := k.PublicKey(); !errors.Is(err, keycrypto.ErrUnsupportedSpec) {
				t.Fatalf("%s: PublicKey = %v", spec, err)
			}
			if k.Signer() != nil {
				t.Fatalf("%s: Signer is not nil", spec)
			}
			continue
		}
		pub, err := k.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		pp, _ := p.PublicKey()
		if !bytes.Equal(pub, pp) {
			t.Fatalf("%s: public keys differ after Parse", spec)
		}
		switch spec {
		case keystate.ECCSECGP256K1, keystate.SM2, keystate.MLDSA44, keystate.MLDSA65, keystate.MLDSA87,
			keystate.MLKEM512, keystate.MLKEM768, keystate.MLKEM1024: // x509 knows none of them
		default:
			want, err := x509.MarshalPKIXPublicKey(k.Signer().Public())
			if err != nil || !bytes.Equal(pub, want) {
				t.Fatalf("%s: PublicKey differs from x509.MarshalPKIXPublicKey", spec)
			}
			if _, err := x509.ParsePKCS8PrivateKey(k.Marshal()); err != nil {
				t.Fatalf("%s: x509 cannot parse Marshal(): %v", spec, err)
			}
		}
		if _, err := keycrypto.Parse(spec, []byte("junk")); !errors.Is(err, keycrypto.ErrInvalidMaterial) {
			t.Fatalf("%s: Parse(junk) = %v", spec, err)
		}
	}
}

func TestUnsupportedSpecs(t *testing.T) {
	for _, spec := range []keystate.KeySpec{keystate.SymmetricDefault, keystate.KeySpec(200)} {
		if _, err := keycrypto.Generate(spec, seeded(1)); !errors.Is(err, keycrypto.ErrUnsupportedSpec) {
			t.Errorf("Generate(%s) = %v", spec, err)
		}
		if _, err := keycrypto.Parse(spec, make([]byte, 32)); !errors.Is(err, keycrypto.ErrUnsupportedSpec) {
			t.Errorf("Parse(%s) = %v", spec, err)
		}
	}
}

// Spec §1.1: the advertised lists, in order.
func TestAlgorithmTables(t *testing.T) {
	cases := []struct {
		spec                  keystate.KeySpec
		sign, enc, mac, agree []string
	}{
		{keystate.RSA2048, []string{"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
			"RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"},
			[]string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}, nil, nil},
		{keystate.ECCNISTP256, []string{"ECDSA_SHA_256"}, nil, nil, []string{"ECDH"}},
		{keystate.ECCNISTP384, []string{"ECDSA_SHA_384"}, nil, nil, []string{"ECDH"}},
		{keystate.ECCNISTP521, []string{"ECDSA_SHA_512"}, nil, nil, []string{"ECDH"}},
		{keystate.ECCSECGP256K1, []string{"ECDSA_SHA_256"}, nil, nil, nil},
		{keystate.ECCNISTEdwards25519, []string{"ED25519_SHA_512", "ED25519_PH_SHA_512"}, nil, nil, nil},
		{keystate.MLDSA87, []string{"ML_DSA_SHAKE_256"}, nil, nil, nil},
		{keystate.SM2, []string{"SM2DSA"}, []string{"SM2PKE"}, nil, []string{"ECDH"}},
		{keystate.HMAC384, nil, nil, []string{"HMAC_SHA_384"}, nil},
		{keystate.SymmetricDefault, nil, nil, nil, nil},
		{keystate.MLKEM768, nil, nil, nil, nil},
	}
	for _, c := range cases {
		if got := keycrypto.SigningAlgorithms(c.spec); !slices.Equal(got, c.sign) {
			t.Errorf("SigningAlgorithms(%s) = %v", c.spec, got)
		}
		if got := keycrypto.EncryptionAlgorithms(c.spec); !slices.Equal(got, c.enc) {
			t.Errorf("EncryptionAlgorithms(%s) = %v", c.spec, got)
		}
		if got := keycrypto.MacAlgorithms(c.spec); !slices.Equal(got, c.mac) {
			t.Errorf("MacAlgorithms(%s) = %v", c.spec, got)
		}
		if got := keycrypto.KeyAgreementAlgorithms(c.spec); !slices.Equal(got, c.agree) {
			t.Errorf("KeyAgreementAlgorithms(%s) = %v", c.spec, got)
		}
	}
	if _, ok := keycrypto.MaxPlaintext(keystate.RSA2048, "SM2PKE"); ok {
		t.Error("MaxPlaintext(RSA_2048, SM2PKE) ok")
	}
}

// No fmt verb on a Key, and no error text, shows key material.
func TestNoMaterialInOutput(t *testing.T) {
	for _, spec := range keySpecs {
		k := testKey(t, spec)
		want := "keycrypto.Key(" + spec.String() + ")"
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
			if got := fmt.Sprintf(verb, k); got != want {
				t.Errorf("Sprintf(%s, *Key) = %q", verb, got)
			}
			if got := fmt.Sprintf(verb, *k); got != want {
				t.Errorf("Sprintf(%s, Key) = %q", verb, got)
			}
		}
		if got := fmt.Sprintf("%v", []any{k, struct{ K *keycrypto.Key }{k}}); strings.Count(got, want) != 2 {
			t.Errorf("nested: %q", got)
		}
	}
	// Error texts of failed imports must not echo the material.
	secret := bytes.Repeat([]byte{0xA7}, 40)
	for _, spec := range keySpecs {
		_, err := keycrypto.ParseImported(spec, secret)
		if err == nil && !spec.IsHMAC() {
			t.Fatalf("%s: ParseImported(junk) succeeded", spec)
		}
		if err != nil {
			s := err.Error() + fmt.Sprintf("%+v %#v", err, err)
			if strings.Contains(strings.ToLower(s), "a7a7") || strings.Contains(s, string(secret[:4])) {
				t.Errorf("%s: error shows material: %s", spec, s)
			}
		}
	}
	_ = hex.EncodeToString
}
