package attestation_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"testing"

	"pgregory.net/rapid"

	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// seal seals plaintext to the enclave key with a seeded reader.
func seal(t testing.TB, pub *rsa.PublicKey, plaintext []byte) []byte {
	t.Helper()
	env, err := attestation.Seal(pub, plaintext, seeded(3))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return env
}

// Open(Seal(x)) is x for every plaintext length; another key cannot open
// it; a changed encrypted key does not decrypt; and no change to the
// envelope makes Open panic.
func TestSealOpenProperties(t *testing.T) {
	priv, other := enclaveKey(), otherKey()
	rapid.Check(t, func(t *rapid.T) {
		plaintext := rapid.SliceOfN(rapid.Byte(), 0, 4096).Draw(t, "plaintext")
		seed := rapid.Byte().Draw(t, "seed")
		env, err := attestation.Seal(&priv.PublicKey, plaintext, seeded(seed))
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		got, err := attestation.Open(priv, env)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("Open(Seal(%d bytes)) = %d bytes, %v", len(plaintext), len(got), err)
		}
		if got, err := attestation.Open(other, env); !errors.Is(err, attestation.ErrEnvelope) || got != nil {
			t.Fatalf("Open with another key = %x, %v; want ErrEnvelope", got, err)
		}

		// The encrypted key is the 256 bytes before the EncryptedContentInfo.
		eci := bytes.Index(env, []byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01})
		k := rapid.IntRange(eci-256, eci-1).Draw(t, "encrypted key byte")
		bad := bytes.Clone(env)
		bad[k] ^= byte(rapid.IntRange(1, 255).Draw(t, "key xor"))
		if got, err := attestation.Open(priv, bad); !errors.Is(err, attestation.ErrEnvelope) || got != nil {
			t.Fatalf("Open with encrypted key byte %d changed = %x, %v; want ErrEnvelope", k, got, err)
		}

		// Any other change: no panic, and an error is ErrEnvelope. (CBC is
		// not authenticated: a changed ciphertext byte can decrypt to other
		// bytes with valid padding.)
		i := rapid.IntRange(0, len(env)-1).Draw(t, "byte")
		bad = bytes.Clone(env)
		bad[i] ^= byte(rapid.IntRange(1, 255).Draw(t, "xor"))
		if _, err := attestation.Open(priv, bad); err != nil && !errors.Is(err, attestation.ErrEnvelope) {
			t.Fatalf("Open with byte %d changed: %v, not ErrEnvelope", i, err)
		}
		cut := rapid.IntRange(0, len(env)-1).Draw(t, "truncate at")
		if got, err := attestation.Open(priv, env[:cut]); !errors.Is(err, attestation.ErrEnvelope) || got != nil {
			t.Fatalf("Open of the first %d bytes = %x, %v; want ErrEnvelope", cut, got, err)
		}
	})
}

// Seal reads everything random from its reader: the same bytes seal the
// same envelope.
func TestSealDeterministic(t *testing.T) {
	pub := &enclaveKey().PublicKey
	a := seal(t, pub, []byte("secret"))
	b := seal(t, pub, []byte("secret"))
	if !bytes.Equal(a, b) {
		t.Error("Seal with the same reader bytes gave different envelopes")
	}
	c, err := attestation.Seal(pub, []byte("secret"), seeded(4))
	if err != nil || bytes.Equal(a, c) {
		t.Errorf("Seal with other reader bytes gave the same envelope (%v)", err)
	}
}

// Seal refuses keys it cannot encrypt to, and passes on its reader's
// failure.
func TestSealErrors(t *testing.T) {
	small := &rsa.PublicKey{N: new(big.Int).SetBit(big.NewInt(1), 511, 1), E: 65537}
	for name, pub := range map[string]*rsa.PublicKey{"nil key": nil, "512-bit key": small, "no modulus": {E: 65537}} {
		if _, err := attestation.Seal(pub, []byte("x"), seeded(1)); !errors.Is(err, attestation.ErrPublicKey) {
			t.Errorf("Seal to a %s: %v, want ErrPublicKey", name, err)
		}
	}
	if _, err := attestation.Seal(&enclaveKey().PublicKey, []byte("x"), bytes.NewReader(make([]byte, 40))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Seal with a short reader: %v, want io.ErrUnexpectedEOF", err)
	}
}

// Open refuses what is not an envelope for it with ErrEnvelope.
func TestOpenRefuses(t *testing.T) {
	priv := enclaveKey()
	env := seal(t, &priv.PublicKey, []byte("secret"))
	oid := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	tests := []struct {
		rule string
		env  []byte
	}{
		{"nothing", nil},
		{"not BER", []byte("not an envelope")},
		{"an OCTET STRING", []byte{0x04, 0x01, 0x00}},
		{"trailing data", append(bytes.Clone(env), 0x00)},
		{"no end-of-contents", env[:len(env)-2]},
		{"signed data, not enveloped data", bytes.Replace(env, oid("2a864886f70d010703"), oid("2a864886f70d010702"), 1)},
		{"AES-128-CBC content", bytes.Replace(env, oid("60864801650304012a"), oid("608648016503040102"), 1)},
		{"RSAES-PKCS1-v1_5 key transport", bytes.Replace(env, oid("2a864886f70d010107"), oid("2a864886f70d010101"), 1)},
		{"OAEP with SHA-384", bytes.Replace(env, oid("a00f300d06096086480165030402010500"), oid("a00f300d06096086480165030402020500"), 1)},
		{"OAEP with MGF1-SHA-384", bytes.Replace(env, oid("a11c301a06092a864886f70d010108300d06096086480165030402010500"),
			oid("a11c301a06092a864886f70d010108300d06096086480165030402020500"), 1)},
		{"nested too deep", append(bytes.Repeat([]byte{0x30, 0x80}, 100), bytes.Repeat([]byte{0, 0}, 100)...)},
		{"a huge length", []byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}},
		{"a high tag number", []byte{0x3f, 0x81, 0x00, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			if got, err := attestation.Open(priv, tt.env); !errors.Is(err, attestation.ErrEnvelope) || got != nil {
				t.Fatalf("Open = %x, %v; want ErrEnvelope", got, err)
			}
		})
	}
	if _, err := attestation.Open(nil, env); !errors.Is(err, attestation.ErrEnvelope) {
		t.Errorf("Open with no key: %v, want ErrEnvelope", err)
	}
}

// tlv is a BER element header read the way BoringSSL's CBS functions read
// it in the AWS Nitro Enclaves SDK for C.
type tlv struct {
	tag        byte
	indefinite bool
	content    []byte // definite length only
}

// next reads one element header from b: for an indefinite length, only
// the header is consumed (CBS_get_any_ber_asn1_element); for a definite
// one, the whole element.
func next(t *testing.T, b *[]byte) tlv {
	t.Helper()
	s := *b
	if len(s) < 2 {
		t.Fatalf("truncated at %x", s)
	}
	e := tlv{tag: s[0]}
	if s[1] == 0x80 {
		e.indefinite = true
		*b = s[2:]
		return e
	}
	l, h := int(s[1]), 2
	if l > 0x80 {
		n := l & 0x7f
		l = 0
		for _, x := range s[2 : 2+n] {
			l = l<<8 | int(x)
		}
		h += n
	}
	e.content = s[h : h+l]
	*b = s[h+l:]
	return e
}

// The envelope has exactly the layout the AWS Nitro Enclaves SDK for C's
// hand-written parser (aws_cms_parse_enveloped_data) walks: indefinite
// ContentInfo, [0], EnvelopedData and EncryptedContentInfo; version 2;
// one KeyTransRecipientInfo of version 2 with a subject key identifier;
// AES-256-CBC with its IV; the encrypted content as definite OCTET STRINGs
// of at most 1024 bytes inside an indefinite [0].
func TestSealLayoutNitroSDK(t *testing.T) {
	priv := enclaveKey()
	for _, n := range []int{0, 15, 16, 1007, 1008, 1024, 3000, 4096} {
		plaintext := bytes.Repeat([]byte{'p'}, n)
		env := seal(t, &priv.PublicKey, plaintext)
		b := env
		expect := func(what string, e tlv, tag byte, indefinite bool) {
			t.Helper()
			if e.tag != tag || e.indefinite != indefinite {
				t.Fatalf("%d bytes: %s: tag %#x indefinite %v, want %#x %v", n, what, e.tag, e.indefinite, tag, indefinite)
			}
		}
		expectBytes := func(what string, got []byte, want string) {
			t.Helper()
			if hex.EncodeToString(got) != want {
				t.Fatalf("%d bytes: %s = %x, want %s", n, what, got, want)
			}
		}
		// expectDefinite reads a definite-length element of tag and
		// content want (hex) from *b.
		expectDefinite := func(what string, b *[]byte, tag byte, want string) {
			t.Helper()
			e := next(t, b)
			expect(what, e, tag, false)
			expectBytes(what, e.content, want)
		}
		expect("ContentInfo", next(t, &b), 0x30, true)
		expectDefinite("contentType", &b, 0x06, "2a864886f70d010703")
		expect("[0] content", next(t, &b), 0xa0, true)
		expect("EnvelopedData", next(t, &b), 0x30, true)
		expectDefinite("version", &b, 0x02, "02")

		set := next(t, &b)
		expect("recipientInfos", set, 0x31, false)
		ktri := next(t, &set.content)
		expect("KeyTransRecipientInfo", ktri, 0x30, false)
		if len(set.content) != 0 {
			t.Fatalf("more than one recipient")
		}
		r := ktri.content
		expectDefinite("KTRI version", &r, 0x02, "02")
		ski := sha1.Sum(x509.MarshalPKCS1PublicKey(&priv.PublicKey))
		expectDefinite("rid subjectKeyIdentifier", &r, 0x80, hex.EncodeToString(ski[:]))
		expectBytes("SubjectKeyID", attestation.SubjectKeyID(&priv.PublicKey), hex.EncodeToString(ski[:]))
		// id-RSAES-OAEP {hashFunc [0] sha256 NULL, maskGenFunc [1] mgf1(sha256 NULL)}
		expectDefinite("keyEncryptionAlgorithm", &r, 0x30,
			"06092a864886f70d010107"+"302f"+
				"a00f300d06096086480165030402010500"+
				"a11c301a06092a864886f70d010108300d06096086480165030402010500")
		e := next(t, &r)
		expect("encryptedKey", e, 0x04, false)
		if len(e.content) != 256 || len(r) != 0 {
			t.Fatalf("encryptedKey of %d bytes, %d bytes after it", len(e.content), len(r))
		}

		expect("EncryptedContentInfo", next(t, &b), 0x30, true)
		expectDefinite("contentType", &b, 0x06, "2a864886f70d010701")
		alg := next(t, &b)
		expect("contentEncryptionAlgorithm", alg, 0x30, false)
		expectDefinite("aes256-CBC", &alg.content, 0x06, "60864801650304012a")
		e = next(t, &alg.content)
		expect("IV", e, 0x04, false)
		if len(e.content) != 16 {
			t.Fatalf("IV of %d bytes", len(e.content))
		}
		expect("encryptedContent", next(t, &b), 0xa0, true)
		total := 0
		for len(b) >= 2 && b[0] == 0x04 {
			e = next(t, &b)
			if len(e.content) == 0 || len(e.content) > 1024 {
				t.Fatalf("a content chunk of %d bytes", len(e.content))
			}
			total += len(e.content)
		}
		if want := (n/16 + 1) * 16; total != want {
			t.Fatalf("%d bytes of ciphertext, want %d", total, want)
		}
		expectBytes("end-of-contents", b, "00000000000000000000")
	}
}

// Open reads the DER equivalent of an envelope (definite lengths, one
// primitive [0] content), as other CMS encoders write it.
func TestOpenDER(t *testing.T) {
	priv := enclaveKey()
	plaintext := bytes.Repeat([]byte("0123456789"), 300)
	der := toDER(t, seal(t, &priv.PublicKey, plaintext))
	if bytes.Contains(der[:4], []byte{0x80}) {
		t.Fatalf("not DER: %x", der[:4])
	}
	got, err := attestation.Open(priv, der)
	if err != nil || !bytes.Equal(got, plaintext) {
		t.Fatalf("Open of the DER envelope = %d bytes, %v", len(got), err)
	}
}

// toDER re-encodes a Seal envelope with definite lengths, making its
// constructed encrypted content primitive.
func toDER(t *testing.T, b []byte) []byte {
	t.Helper()
	out, rest := derElement(t, b)
	if len(rest) != 0 {
		t.Fatal("trailing data")
	}
	return out
}

func derElement(t *testing.T, b []byte) (out, rest []byte) {
	t.Helper()
	tag := b[0]
	if b[1] != 0x80 {
		start := b
		next(t, &b)
		return start[:len(start)-len(b)], b
	}
	b = b[2:]
	var content []byte
	for !(b[0] == 0 && b[1] == 0) {
		var c []byte
		c, b = derElement(t, b)
		content = append(content, c...)
	}
	b = b[2:]
	if tag == 0xa0 && content[0] == 0x04 {
		// The encrypted content: one primitive [0] of the chunks' bytes.
		var octets []byte
		for len(content) > 0 {
			octets = append(octets, next(t, &content).content...)
		}
		return asn1Element(0x80, octets), b
	}
	return asn1Element(tag, content), b
}

// asn1Element encodes an element with a definite length.
func asn1Element(tag byte, content []byte) []byte {
	b, err := asn1.Marshal(asn1.RawValue{Class: int(tag >> 6), Tag: int(tag & 0x1f), IsCompound: tag&0x20 != 0, Bytes: content})
	if err != nil {
		panic(err)
	}
	return b
}
