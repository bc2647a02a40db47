package keycrypto_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// Spec §9.1, §12.10: HMAC material from the spec's length to 128 bytes.
func TestImportHMACLength(t *testing.T) {
	for _, c := range []struct {
		spec keystate.KeySpec
		n    int
		ok   bool
	}{
		{keystate.HMAC224, 27, false}, {keystate.HMAC224, 28, true}, {keystate.HMAC224, 128, true},
		{keystate.HMAC224, 129, false}, {keystate.HMAC256, 31, false}, {keystate.HMAC256, 32, true},
		{keystate.HMAC384, 48, true}, {keystate.HMAC512, 63, false}, {keystate.HMAC512, 64, true},
		{keystate.HMAC512, 0, false},
	} {
		k, err := keycrypto.ParseImported(c.spec, bytes.Repeat([]byte{1}, c.n))
		if (err == nil) != c.ok {
			t.Errorf("%s with %d bytes: %v", c.spec, c.n, err)
		}
		if err != nil && !errors.Is(err, keycrypto.ErrInvalidMaterial) {
			t.Errorf("%s with %d bytes: %v, want ErrInvalidMaterial", c.spec, c.n, err)
		}
		if err == nil {
			if _, err := keycrypto.Parse(c.spec, k.Marshal()); err != nil {
				t.Errorf("%s with %d bytes: Parse(Marshal()): %v", c.spec, c.n, err)
			}
		}
	}
}

func mustPKCS8(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// Spec §9.1: the key must fit the spec: RSA modulus, EC curve, key type.
func TestImportSpecMismatch(t *testing.T) {
	rsa2048 := mustPKCS8(t, testKey(t, keystate.RSA2048).Signer())
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), nil)
	p256der := mustPKCS8(t, p256)
	_, edPriv, _ := ed25519.GenerateKey(nil)
	edder := mustPKCS8(t, edPriv)
	cases := []struct {
		name string
		spec keystate.KeySpec
		der  []byte
		ok   bool
	}{
		{"RSA 2048 as RSA_2048", keystate.RSA2048, rsa2048, true},
		{"RSA 2048 as RSA_3072", keystate.RSA3072, rsa2048, false},
		{"P-256 as RSA_2048", keystate.RSA2048, p256der, false},
		{"P-256 as P-256", keystate.ECCNISTP256, p256der, true},
		{"P-256 as P-384", keystate.ECCNISTP384, p256der, false},
		{"P-256 as secp256k1", keystate.ECCSECGP256K1, p256der, false},
		{"P-256 as SM2", keystate.SM2, p256der, false},
		{"RSA as P-256", keystate.ECCNISTP256, rsa2048, false},
		{"Ed25519 as Ed25519", keystate.ECCNISTEdwards25519, edder, true},
		{"Ed25519 as P-256", keystate.ECCNISTP256, edder, false},
		{"P-256 as Ed25519", keystate.ECCNISTEdwards25519, p256der, false},
		{"ML-DSA refused", keystate.MLDSA65, testKey(t, keystate.MLDSA65).Marshal(), false},
		{"trailing byte", keystate.ECCNISTP256, append(bytes.Clone(p256der), 0), false},
		{"truncated", keystate.ECCNISTP256, p256der[:len(p256der)-1], false},
	}
	for _, c := range cases {
		_, err := keycrypto.ParseImported(c.spec, c.der)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if err != nil && !errors.Is(err, keycrypto.ErrInvalidMaterial) {
			t.Errorf("%s: %v, want ErrInvalidMaterial", c.name, err)
		}
	}
	// The imported keys are the same keys.
	k, _ := keycrypto.ParseImported(keystate.ECCNISTP256, p256der)
	if !k.Signer().(*ecdsa.PrivateKey).Equal(p256) {
		t.Fatal("imported P-256 key differs")
	}
	if !testKey(t, keystate.RSA2048).Signer().(*rsa.PrivateKey).Equal(mustParse(t, keystate.RSA2048, rsa2048).Signer()) {
		t.Fatal("imported RSA key differs")
	}
}

func mustParse(t *testing.T, spec keystate.KeySpec, der []byte) *keycrypto.Key {
	t.Helper()
	k, err := keycrypto.ParseImported(spec, der)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// toBER rewrites a DER PKCS#8 with indefinite lengths: the outer SEQUENCE
// and the privateKey OCTET STRING, the latter split into a constructed
// string of two segments.
func toBER(t *testing.T, der []byte) []byte {
	t.Helper()
	body, rest := tlvContent(t, der)
	if len(rest) != 0 {
		t.Fatal("trailing data")
	}
	var out []byte
	out = append(out, 0x30, 0x80)
	for len(body) > 0 {
		start := body
		content, next := tlvContent(t, body)
		if start[0] == 0x04 { // privateKey OCTET STRING
			half := len(content) / 2
			out = append(out, 0x24, 0x80)
			out = append(out, 0x04, 0x83, 0, byte(half>>8), byte(half)) // non-minimal length
			out = append(out, content[:half]...)
			out = append(out, derTLV(0x04, content[half:])...)
			out = append(out, 0, 0)
		} else {
			out = append(out, start[:len(start)-len(next)]...)
		}
		body = next
	}
	return append(out, 0, 0)
}

func tlvContent(t *testing.T, b []byte) (content, rest []byte) {
	t.Helper()
	l, n := int(b[1]), 2
	if l&0x80 != 0 {
		k := l & 0x7f
		l = 0
		for _, c := range b[2 : 2+k] {
			l = l<<8 | int(c)
		}
		n = 2 + k
	}
	return b[n : n+l], b[n+l:]
}

func derTLV(tag byte, content []byte) []byte {
	l := len(content)
	switch {
	case l < 0x80:
		return append([]byte{tag, byte(l)}, content...)
	case l < 0x100:
		return append([]byte{tag, 0x81, byte(l)}, content...)
	}
	return append([]byte{tag, 0x82, byte(l >> 8), byte(l)}, content...)
}

// Spec §9.1: PKCS#8 "BER or DER": BER with indefinite and non-minimal
// lengths and a constructed OCTET STRING imports as the same key.
func TestImportBER(t *testing.T) {
	for _, spec := range []keystate.KeySpec{keystate.RSA2048, keystate.ECCNISTP256, keystate.ECCNISTP521,
		keystate.ECCSECGP256K1, keystate.ECCNISTEdwards25519, keystate.SM2} {
		k := testKey(t, spec)
		der := k.Marshal()
		ber := toBER(t, der)
		if bytes.Equal(ber, der) {
			t.Fatal("toBER changed nothing")
		}
		got, err := keycrypto.ParseImported(spec, ber)
		if err != nil {
			t.Fatalf("%s: ParseImported(BER): %v", spec, err)
		}
		if !bytes.Equal(got.Marshal(), der) {
			t.Fatalf("%s: BER import gives another key", spec)
		}
		if _, err := keycrypto.Parse(spec, ber); err == nil {
			t.Fatalf("%s: Parse (storage form, DER only) accepted BER", spec)
		}
	}
}
