package attestation

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
)

// Object identifiers of the envelope.
var (
	oidEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidRSAESOAEP     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidPSpecified    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 9}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidAES256CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// The envelope's versions (RFC 5652 §6.1, §6.2.1): 2 because the
// recipient is named by its subject key identifier.
const (
	envelopedDataVersion     = 2
	keyTransRecipientVersion = 2
)

// contentChunk is the largest OCTET STRING of the envelope's encrypted
// content: a streaming encoder writes the content in such chunks.
const contentChunk = 1024

// aesKeySize is AES-256's key size.
const aesKeySize = 32

// oaepSHA256Params is the DER of RSAES-OAEP-params {hashFunc sha256,
// maskGenFunc mgf1(sha256)}, pSourceFunc left to its default (RFC 4055
// §4.1).
var oaepSHA256Params = mustMarshal(struct {
	Hash pkix.AlgorithmIdentifier `asn1:"explicit,tag:0"`
	MGF  pkix.AlgorithmIdentifier `asn1:"explicit,tag:1"`
}{
	Hash: sha256AlgorithmIdentifier,
	MGF: pkix.AlgorithmIdentifier{
		Algorithm:  oidMGF1,
		Parameters: asn1.RawValue{FullBytes: mustMarshal(sha256AlgorithmIdentifier)},
	},
})

var sha256AlgorithmIdentifier = pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic("attestation: " + err.Error())
	}
	return b
}

// keyTransRecipientInfo is RFC 5652 §6.2.1's KeyTransRecipientInfo.
type keyTransRecipientInfo struct {
	Version                int
	RID                    asn1.RawValue
	KeyEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedKey           []byte
}

// SubjectKeyID returns the subject key identifier of pub: the SHA-1 of its
// subjectPublicKey BIT STRING's bytes (RFC 5280 §4.2.1.2, method 1), which
// names the recipient of a Seal envelope.
func SubjectKeyID(pub *rsa.PublicKey) []byte {
	sum := sha1.Sum(x509.MarshalPKCS1PublicKey(pub))
	return sum[:]
}

// Seal encrypts plaintext to pub as KMS's CiphertextForRecipient: a CMS
// (RFC 5652) EnvelopedData, BER-encoded as KMS emits it, with one
// recipient named by pub's SubjectKeyID, whose fresh AES-256 key is
// encrypted with RSAES-OAEP (SHA-256, MGF1 with SHA-256, empty label), and
// the plaintext encrypted with AES-256-CBC (PKCS #7 padding). The outer
// structures have indefinite lengths and the encrypted content is a
// constructed OCTET STRING of chunks of at most 1024 bytes: the layout the
// AWS Nitro Enclaves SDK's parser requires.
//
// Seal reads the AES key, the IV and the OAEP seed from random, in that
// order, so its output is a function of its inputs and the bytes read.
// It returns an error wrapping ErrPublicKey when pub is not a key it can
// encrypt to, and the reader's error when reading fails.
func Seal(pub *rsa.PublicKey, plaintext []byte, random io.Reader) ([]byte, error) {
	if err := checkRSAKey(pub); err != nil {
		return nil, err
	}
	key := make([]byte, aesKeySize)
	defer clear(key)
	iv := make([]byte, aes.BlockSize)
	if err := readRandom(random, key); err != nil {
		return nil, err
	}
	if err := readRandom(random, iv); err != nil {
		return nil, err
	}
	encryptedKey, err := rsa.EncryptOAEP(sha256.New(), random, pub, key, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: RSAES-OAEP encryption failed: %v", ErrPublicKey, err)
	}

	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("attestation: %w", err)
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	ciphertext := make([]byte, len(plaintext)+pad)
	copy(ciphertext, plaintext)
	for i := len(plaintext); i < len(ciphertext); i++ {
		ciphertext[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ciphertext, ciphertext)

	recipients := mustMarshal(asn1.RawValue{
		Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true,
		Bytes: mustMarshal(keyTransRecipientInfo{
			Version: keyTransRecipientVersion,
			RID:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: SubjectKeyID(pub)},
			KeyEncryptionAlgorithm: pkix.AlgorithmIdentifier{
				Algorithm:  oidRSAESOAEP,
				Parameters: asn1.RawValue{FullBytes: oaepSHA256Params},
			},
			EncryptedKey: encryptedKey,
		}),
	})
	contentAlgorithm := mustMarshal(pkix.AlgorithmIdentifier{
		Algorithm:  oidAES256CBC,
		Parameters: asn1.RawValue{FullBytes: mustMarshal(iv)},
	})

	out := make([]byte, 0, len(ciphertext)+len(ciphertext)/contentChunk*4+len(recipients)+96)
	out = append(out, 0x30, 0x80) // ContentInfo
	out = append(out, mustMarshal(oidEnvelopedData)...)
	out = append(out, 0xa0, 0x80)                       // [0] EXPLICIT content
	out = append(out, 0x30, 0x80)                       // EnvelopedData
	out = append(out, 0x02, 0x01, envelopedDataVersion) // version
	out = append(out, recipients...)                    // recipientInfos
	out = append(out, 0x30, 0x80)                       // EncryptedContentInfo
	out = append(out, mustMarshal(oidData)...)          // contentType
	out = append(out, contentAlgorithm...)              // contentEncryptionAlgorithm
	out = append(out, 0xa0, 0x80)                       // [0] IMPLICIT encryptedContent
	for rest := ciphertext; len(rest) > 0; {
		n := min(len(rest), contentChunk)
		out = append(out, mustMarshal(rest[:n])...)
		rest = rest[n:]
	}
	// End-of-contents of encryptedContent, EncryptedContentInfo,
	// EnvelopedData, [0] and ContentInfo.
	out = append(out, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	return out, nil
}

// Open decrypts a CiphertextForRecipient with the enclave's private key,
// as the AWS Nitro Enclaves SDK does in the enclave. It reads the BER
// layout Seal (and KMS) write and its DER equivalent, such as OpenSSL's
// "cms -encrypt" output: it tries every key transport recipient with
// RSAES-OAEP-SHA-256 and takes the first whose key decrypts.
//
// Open returns an error wrapping ErrEnvelope when envelope is not such an
// envelope or does not decrypt with priv; the error does not say which
// step of the decryption failed.
func Open(priv *rsa.PrivateKey, envelope []byte) ([]byte, error) {
	if priv == nil {
		return nil, fmt.Errorf("%w: no private key", ErrEnvelope)
	}
	env, err := parseEnvelope(envelope)
	if err != nil {
		return nil, err
	}
	errDecrypt := fmt.Errorf("%w: the envelope does not decrypt with the key given", ErrEnvelope)
	for _, encryptedKey := range env.encryptedKeys {
		key, err := rsa.DecryptOAEP(sha256.New(), nil, priv, encryptedKey, nil)
		if err != nil {
			continue
		}
		plaintext, ok := decryptCBC(key, env.iv, env.ciphertext)
		clear(key)
		if !ok {
			return nil, errDecrypt
		}
		return plaintext, nil
	}
	return nil, errDecrypt
}

// decryptCBC decrypts AES-256-CBC ciphertext and removes its PKCS #7
// padding, checking the padding without branching on its bytes.
func decryptCBC(key, iv, ciphertext []byte) ([]byte, bool) {
	if len(key) != aesKeySize || len(ciphertext) == 0 || len(ciphertext)%aes.BlockSize != 0 {
		return nil, false
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, false
	}
	out := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, ciphertext)

	last := out[len(out)-aes.BlockSize:]
	pad := last[aes.BlockSize-1]
	// good is 1 when 1 <= pad <= 16 and the last pad bytes all equal pad.
	good := subtle.ConstantTimeLessOrEq(1, int(pad)) & subtle.ConstantTimeLessOrEq(int(pad), aes.BlockSize)
	for i := range aes.BlockSize {
		inPad := subtle.ConstantTimeLessOrEq(i+1, int(pad)) // byte i from the end is padding
		eq := subtle.ConstantTimeByteEq(last[aes.BlockSize-1-i], pad)
		good &= eq | (1 - inPad)
	}
	if good != 1 {
		clear(out)
		return nil, false
	}
	return out[:len(out)-int(pad)], true
}

// envelope is what Open needs of a parsed envelope.
type envelope struct {
	encryptedKeys [][]byte // of the RSAES-OAEP-SHA-256 key transport recipients
	iv            []byte
	ciphertext    []byte
}

func notEnvelope(what string) error {
	return fmt.Errorf("%w: not a CMS EnvelopedData for an RSAES-OAEP-SHA-256 recipient with AES-256-CBC content: %s", ErrEnvelope, what)
}

// parseEnvelope walks a BER or DER ContentInfo holding an EnvelopedData.
func parseEnvelope(b []byte) (*envelope, error) {
	ci, rest, err := parseBER(b, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, notEnvelope("trailing data")
	}
	if !ci.is(asn1.ClassUniversal, asn1.TagSequence, true) || len(ci.children) != 2 ||
		!ci.children[0].isOID(oidEnvelopedData) {
		return nil, notEnvelope("the ContentInfo is not of enveloped data")
	}
	explicit := ci.children[1]
	if !explicit.is(asn1.ClassContextSpecific, 0, true) || len(explicit.children) != 1 {
		return nil, notEnvelope("the ContentInfo has no [0] content")
	}
	ed := explicit.children[0]
	if !ed.is(asn1.ClassUniversal, asn1.TagSequence, true) || len(ed.children) < 3 {
		return nil, notEnvelope("the EnvelopedData is not a SEQUENCE")
	}
	fields := ed.children
	if !fields[0].is(asn1.ClassUniversal, asn1.TagInteger, false) {
		return nil, notEnvelope("the EnvelopedData has no version")
	}
	fields = fields[1:]
	if fields[0].is(asn1.ClassContextSpecific, 0, true) { // originatorInfo
		fields = fields[1:]
	}
	if len(fields) < 2 || !fields[0].is(asn1.ClassUniversal, asn1.TagSet, true) {
		return nil, notEnvelope("the EnvelopedData has no recipientInfos")
	}
	var env envelope
	for _, ri := range fields[0].children {
		if k, ok := oaepRecipientKey(ri); ok {
			env.encryptedKeys = append(env.encryptedKeys, k)
		}
	}
	if len(env.encryptedKeys) == 0 {
		return nil, notEnvelope("no key transport recipient uses RSAES-OAEP with SHA-256")
	}
	eci := fields[1]
	if !eci.is(asn1.ClassUniversal, asn1.TagSequence, true) || len(eci.children) != 3 ||
		!eci.children[0].isOID(oidData) {
		return nil, notEnvelope("the EncryptedContentInfo is not of data, or has no encrypted content")
	}
	alg := eci.children[1]
	if !alg.is(asn1.ClassUniversal, asn1.TagSequence, true) || len(alg.children) != 2 ||
		!alg.children[0].isOID(oidAES256CBC) {
		return nil, notEnvelope("the content encryption algorithm is not AES-256-CBC")
	}
	iv, ok := alg.children[1].octets()
	if !ok || len(iv) != aes.BlockSize {
		return nil, notEnvelope("the AES-256-CBC IV is not 16 bytes")
	}
	env.iv = iv
	content := eci.children[2]
	if content.class != asn1.ClassContextSpecific || content.tag != 0 {
		return nil, notEnvelope("the encrypted content is not [0]")
	}
	if env.ciphertext, ok = content.concatenated(); !ok {
		return nil, notEnvelope("the encrypted content is not an OCTET STRING")
	}
	return &env, nil
}

// oaepRecipientKey returns the encrypted key of a KeyTransRecipientInfo
// whose algorithm is RSAES-OAEP with SHA-256 and MGF1-SHA-256 and the
// empty label.
func oaepRecipientKey(ri *berNode) ([]byte, bool) {
	if !ri.is(asn1.ClassUniversal, asn1.TagSequence, true) || len(ri.children) != 4 ||
		!ri.children[0].is(asn1.ClassUniversal, asn1.TagInteger, false) {
		return nil, false
	}
	alg := ri.children[2]
	if !alg.is(asn1.ClassUniversal, asn1.TagSequence, true) || len(alg.children) != 2 ||
		!alg.children[0].isOID(oidRSAESOAEP) {
		return nil, false
	}
	params := alg.children[1]
	if !params.is(asn1.ClassUniversal, asn1.TagSequence, true) {
		return nil, false
	}
	var hashOK, mgfOK bool
	for _, p := range params.children {
		if p.class != asn1.ClassContextSpecific || !p.constructed || len(p.children) != 1 {
			return nil, false
		}
		v := p.children[0]
		switch p.tag {
		case 0: // hashFunc
			hashOK = isSHA256(v)
		case 1: // maskGenFunc
			mgfOK = v.is(asn1.ClassUniversal, asn1.TagSequence, true) && len(v.children) == 2 &&
				v.children[0].isOID(oidMGF1) && isSHA256(v.children[1])
		case 2: // pSourceFunc: only the empty label
			if !v.is(asn1.ClassUniversal, asn1.TagSequence, true) || len(v.children) != 2 || !v.children[0].isOID(oidPSpecified) {
				return nil, false
			}
			if label, ok := v.children[1].octets(); !ok || len(label) != 0 {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	if !hashOK || !mgfOK { // absent ones default to SHA-1
		return nil, false
	}
	key, ok := ri.children[3].octets()
	return key, ok
}

// isSHA256 reports whether n is the AlgorithmIdentifier of SHA-256, with
// NULL or absent parameters.
func isSHA256(n *berNode) bool {
	if !n.is(asn1.ClassUniversal, asn1.TagSequence, true) || len(n.children) == 0 || !n.children[0].isOID(oidSHA256) {
		return false
	}
	switch len(n.children) {
	case 1:
		return true
	case 2:
		p := n.children[1]
		return p.is(asn1.ClassUniversal, asn1.TagNull, false) && len(p.content) == 0
	}
	return false
}

// berNode is a BER element: a primitive one's content, or a constructed
// one's elements.
type berNode struct {
	class, tag  int
	constructed bool
	content     []byte
	children    []*berNode
}

// maxBERDepth bounds the nesting parseBER follows; the envelope nests
// about ten deep.
const maxBERDepth = 24

func (n *berNode) is(class, tag int, constructed bool) bool {
	return n.class == class && n.tag == tag && n.constructed == constructed
}

func (n *berNode) isOID(oid asn1.ObjectIdentifier) bool {
	if !n.is(asn1.ClassUniversal, asn1.TagOID, false) {
		return false
	}
	der := mustMarshal(oid)
	return bytes.Equal(n.content, der[2:]) // OIDs here are shorter than 128 bytes
}

// octets returns an OCTET STRING's value, primitive or constructed.
func (n *berNode) octets() ([]byte, bool) {
	if n.class != asn1.ClassUniversal || n.tag != asn1.TagOctetString {
		return nil, false
	}
	return n.concatenated()
}

// concatenated returns the content of a string element: a primitive
// one's content, or a constructed one's OCTET STRINGs concatenated.
func (n *berNode) concatenated() ([]byte, bool) {
	if !n.constructed {
		return n.content, true
	}
	var out []byte
	for _, c := range n.children {
		b, ok := c.octets()
		if !ok {
			return nil, false
		}
		out = append(out, b...)
	}
	return out, true
}

// parseBER parses one BER element at the start of b and returns it and
// what follows it. Tag numbers above 30 are not supported (CMS has none);
// lengths are definite (at most four bytes of length) or, for constructed
// elements, indefinite.
func parseBER(b []byte, depth int) (*berNode, []byte, error) {
	if depth > maxBERDepth {
		return nil, nil, notEnvelope("nested too deep")
	}
	if len(b) < 2 {
		return nil, nil, notEnvelope("truncated")
	}
	n := &berNode{class: int(b[0] >> 6), constructed: b[0]&0x20 != 0, tag: int(b[0] & 0x1f)}
	if n.tag == 0x1f {
		return nil, nil, notEnvelope("a high tag number")
	}
	l := int(b[1])
	b = b[2:]
	if l == 0x80 {
		if !n.constructed {
			return nil, nil, notEnvelope("a primitive element of indefinite length")
		}
		for {
			if len(b) >= 2 && b[0] == 0 && b[1] == 0 {
				return n, b[2:], nil
			}
			c, rest, err := parseBER(b, depth+1)
			if err != nil {
				return nil, nil, err
			}
			n.children = append(n.children, c)
			b = rest
		}
	}
	if l > 0x80 {
		k := l & 0x7f
		if k > 4 || len(b) < k {
			return nil, nil, notEnvelope("a length too long")
		}
		l = 0
		for _, x := range b[:k] {
			l = l<<8 | int(x)
		}
		b = b[k:]
	}
	if l < 0 || l > len(b) {
		return nil, nil, notEnvelope("truncated")
	}
	content, rest := b[:l], b[l:]
	if !n.constructed {
		if n.class == asn1.ClassUniversal && n.tag == 0 {
			return nil, nil, notEnvelope("an unexpected end-of-contents")
		}
		n.content = content
		return n, rest, nil
	}
	for len(content) > 0 {
		c, r, err := parseBER(content, depth+1)
		if err != nil {
			return nil, nil, err
		}
		n.children = append(n.children, c)
		content = r
	}
	return n, rest, nil
}
