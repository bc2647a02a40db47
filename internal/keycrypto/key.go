package keycrypto

import (
	"crypto"
	"fmt"
	"io"
	"slices"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// Key is the private half of one asymmetric KMS key, or one HMAC key, parsed.
// fmt never prints its material (Format/String/GoString print "keycrypto.Key(<SPEC>)").
//
// A Key is immutable after Generate, Parse or ParseImported and safe for
// concurrent use. Parsed values (RSA precomputations, ECDH keys, the
// public key DER) are cached in it, so operations do not re-parse.
type Key struct {
	spec keystate.KeySpec
	impl keyImpl
	pub  []byte // DER SubjectPublicKeyInfo; nil for HMAC
}

// keyImpl is what every family (one per file) provides.
type keyImpl interface {
	// marshal returns a fresh copy of the storage form.
	marshal() []byte
	// publicKey returns the DER SubjectPublicKeyInfo, or nil for HMAC.
	publicKey() ([]byte, error)
	// signer returns the crypto.Signer, or nil.
	signer() crypto.Signer
}

// The optional roles of a family. Key checks the algorithm against the
// spec's table before it calls them, so they receive only algorithms of
// their spec.
type (
	signingImpl interface {
		sign(alg, messageType string, message []byte) ([]byte, error)
		verify(alg, messageType string, message, signature []byte) error
	}
	encryptingImpl interface {
		encrypt(alg string, plaintext []byte) ([]byte, error)
		decrypt(alg string, ciphertext []byte) ([]byte, error)
	}
	agreeingImpl interface {
		deriveSharedSecret(peerPublicKey []byte) ([]byte, error)
	}
	kemImpl interface {
		encapsulate(rand io.Reader) (secret, ciphertext []byte, err error)
		decapsulate(ciphertext []byte) ([]byte, error)
	}
	macImpl interface {
		mac(alg string, message []byte) []byte
	}
)

func newKey(spec keystate.KeySpec, impl keyImpl) (*Key, error) {
	pub, err := impl.publicKey()
	if err != nil {
		return nil, errInvalidMaterial(spec, "cannot encode the public key")
	}
	return &Key{spec: spec, impl: impl, pub: pub}, nil
}

// Generate makes a new key of spec, reading every random byte it needs
// from rand, so that a seeded reader makes the same key every time — except
// for RSA: crypto/rsa ignores the reader since Go 1.26 and RSA key
// generation cannot be derived from bytes, so RSA keys are always fresh.
//
// Private scalars and seeds are read from rand with rejection sampling
// where the value must lie below a group order. HMAC keys are as long as
// the spec's hash output: 28, 32, 48 or 64 bytes (spec §12.17 leaves the
// AWS length unknown; the hash length is what RFC 2104 recommends as a
// minimum and what AWS's import docs call the spec length).
//
// Generate returns an error wrapping ErrUnsupportedSpec for
// SYMMETRIC_DEFAULT and unknown specs, and rand's error if it fails.
func Generate(spec keystate.KeySpec, rand io.Reader) (*Key, error) {
	var impl keyImpl
	var err error
	switch {
	case spec.IsHMAC():
		impl, err = generateHMAC(spec, rand)
	case rsaBits(spec) != 0:
		impl, err = generateRSA(spec, rand)
	case spec == keystate.ECCNISTP256 || spec == keystate.ECCNISTP384 || spec == keystate.ECCNISTP521:
		impl, err = generateECC(spec, rand)
	case spec == keystate.ECCSECGP256K1:
		impl, err = generateSecp256k1(rand)
	case spec == keystate.ECCNISTEdwards25519:
		impl, err = generateEd25519(rand)
	case spec.IsMLDSA():
		impl, err = generateMLDSA(spec, rand)
	case spec == keystate.SM2:
		impl, err = generateSM2(rand)
	case spec.IsMLKEM():
		impl, err = generateMLKEM(spec, rand)
	default:
		return nil, errUnsupportedSpec(spec.String())
	}
	if err != nil {
		return nil, err
	}
	return newKey(spec, impl)
}

// Parse reads a key of spec from its storage form, the bytes Marshal
// returned. It is stricter than ParseImported only where Marshal's form
// is narrower (ML-DSA and ML-KEM are accepted here, in the seed forms
// Marshal writes).
//
// Parse returns an error wrapping ErrInvalidMaterial when material is not
// a key of spec, or ErrUnsupportedSpec for specs Generate refuses.
func Parse(spec keystate.KeySpec, material []byte) (*Key, error) {
	var parseSeed func(keystate.KeySpec, []byte) (keyImpl, error)
	switch {
	case spec.IsMLDSA():
		parseSeed = parseMLDSA
	case spec.IsMLKEM():
		parseSeed = parseMLKEM
	default:
		return parse(spec, material, false)
	}
	impl, err := parseSeed(spec, material)
	if err != nil {
		return nil, err
	}
	return newKey(spec, impl)
}

// ParseImported reads key material imported with ImportKeyMaterial,
// following AWS's rules (spec §9.1):
//   - HMAC_*: raw bytes, at least the spec's length (28/32/48/64) and at
//     most 128 bytes (1024 bits). Spec §12.10 records two documented rules;
//     we take IMPREQ's range, which contains every recorded success.
//   - RSA_*: PKCS#8 (DER, or BER normalised to DER) holding an RSA key with
//     exactly two primes and the spec's modulus size.
//   - ECC_NIST_*, ECC_SECG_P256K1, SM2: PKCS#8 holding an RFC 5915 EC
//     private key on the spec's named curve; explicit curve parameters are
//     refused. An embedded public key, in any point form, is ignored: the
//     public key is always derived from the private scalar.
//   - ECC_NIST_EDWARDS25519: PKCS#8 (RFC 8410).
//   - ML_DSA_*: refused, as AWS does ("Importing ML-DSA keys is not
//     supported").
//   - ML_KEM_*: ErrUnsupportedSpec (kms refuses such imports before, D35).
//
// Errors wrap ErrInvalidMaterial (with a message that holds no key bytes)
// or ErrUnsupportedSpec.
func ParseImported(spec keystate.KeySpec, material []byte) (*Key, error) {
	if spec.IsMLDSA() {
		return nil, errInvalidMaterial(spec, "importing ML-DSA keys is not supported")
	}
	return parse(spec, material, true)
}

func parse(spec keystate.KeySpec, material []byte, imported bool) (*Key, error) {
	var impl keyImpl
	var err error
	switch {
	case spec.IsHMAC():
		impl, err = parseHMAC(spec, material)
	case rsaBits(spec) != 0:
		impl, err = parseRSA(spec, material, imported)
	case spec == keystate.ECCNISTP256 || spec == keystate.ECCNISTP384 || spec == keystate.ECCNISTP521 ||
		spec == keystate.ECCSECGP256K1 || spec == keystate.SM2:
		impl, err = parseECPKCS8(spec, material, imported)
	case spec == keystate.ECCNISTEdwards25519:
		impl, err = parseEd25519(material, imported)
	default:
		return nil, errUnsupportedSpec(spec.String())
	}
	if err != nil {
		return nil, err
	}
	return newKey(spec, impl)
}

// Marshal returns the storage form of the key: PKCS#8 DER for asymmetric
// keys (for ML-DSA and ML-KEM the seed-only forms of the IETF ML-DSA and
// ML-KEM certificates drafts, see mldsa.go and mlkem.go), the raw key
// bytes for HMAC. Each call returns a
// new slice; the caller seals it and should clear it after use.
func (k *Key) Marshal() []byte { return k.impl.marshal() }

// Spec returns the key's spec.
func (k *Key) Spec() keystate.KeySpec { return k.spec }

// PublicKey returns the public key as DER SubjectPublicKeyInfo (RFC 5280),
// the form of GetPublicKey (spec §3). EC keys use a named curve and an
// uncompressed point. For an HMAC key, which has no public half, it
// returns an error wrapping ErrUnsupportedSpec.
func (k *Key) PublicKey() ([]byte, error) {
	if k.pub == nil {
		return nil, &Error{Err: ErrUnsupportedSpec,
			Message: fmt.Sprintf("Key spec %s has no public key.", k.spec)}
	}
	return slices.Clone(k.pub), nil
}

// Signer returns the key as a crypto.Signer, for use with crypto/x509 and
// other standard-interface code, or nil for HMAC keys. It is the raw
// primitive: the digest passed to its Sign method is signed as is, with
// the conventions of the underlying type (crypto/rsa, crypto/ecdsa,
// crypto/ed25519, filippo.io/mldsa's ML-DSA, gmsm's SM2, and an adapter for
// secp256k1 that returns DER signatures). KMS message types and algorithm
// names are not involved.
func (k *Key) Signer() crypto.Signer { return k.impl.signer() }

// Sign signs message with alg, a SigningAlgorithm of the key's spec. The
// message type is RAW (or ""), DIGEST or EXTERNAL_MU (spec §2.2):
//   - RAW: the algorithm hashes the message (SHA-2, SM3 with Z_A, or
//     the pure EdDSA / ML-DSA construction).
//   - DIGEST: the message is the hash; it must have DigestLength(alg)
//     bytes.
//   - EXTERNAL_MU: ML_DSA_SHAKE_256 only, a 64-byte μ (FIPS 204 §6.2);
//     Verify refuses it (see mldsa.go).
//
// Errors wrap ErrIncompatibleAlgorithm (alg not of the spec, or the key
// cannot sign), ErrMessageType, or ErrDigestLength. The usage of the key
// (SIGN_VERIFY) is the caller's to check.
func (k *Key) Sign(alg, messageType string, message []byte) ([]byte, error) {
	s, ok := k.impl.(signingImpl)
	if !ok || !signingAlgorithmOf(k.spec, alg) {
		return nil, errIncompatible(alg, k.spec)
	}
	if messageType == "" {
		messageType = MessageTypeRaw
	}
	return s.sign(alg, messageType, message)
}

// Verify checks signature over message with alg. It returns nil only when
// the signature is valid. The message type may differ from the one used
// to sign when the hashing agrees (a RAW message and its DIGEST).
//
// Errors wrap ErrInvalidSignature (also for signatures that cannot be
// parsed), ErrIncompatibleAlgorithm, ErrMessageType or ErrDigestLength.
func (k *Key) Verify(alg, messageType string, message, signature []byte) error {
	s, ok := k.impl.(signingImpl)
	if !ok || !signingAlgorithmOf(k.spec, alg) {
		return errIncompatible(alg, k.spec)
	}
	if messageType == "" {
		messageType = MessageTypeRaw
	}
	return s.verify(alg, messageType, message, signature)
}

// Encrypt encrypts plaintext with alg, an EncryptionAlgorithm of the
// key's spec: RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256 (MGF1 with the same
// hash, empty label) for RSA, SM2PKE (ASN.1 C1C3C2) for SM2 (spec §4).
// The ciphertext is the bare primitive output, with no header.
//
// Errors wrap ErrIncompatibleAlgorithm or ErrPlaintextTooLarge (over
// MaxPlaintext).
func (k *Key) Encrypt(alg string, plaintext []byte) ([]byte, error) {
	e, ok := k.impl.(encryptingImpl)
	if !ok {
		return nil, errIncompatible(alg, k.spec)
	}
	limit, ok := MaxPlaintext(k.spec, alg)
	if !ok {
		return nil, errIncompatible(alg, k.spec)
	}
	if len(plaintext) > limit {
		return nil, errPlaintextTooLarge(alg, k.spec, limit)
	}
	return e.encrypt(alg, plaintext)
}

// Decrypt decrypts ciphertext made by Encrypt (or by any standard
// implementation with the public key) with the same alg.
//
// Errors wrap ErrIncompatibleAlgorithm or ErrInvalidCiphertext.
func (k *Key) Decrypt(alg string, ciphertext []byte) ([]byte, error) {
	e, ok := k.impl.(encryptingImpl)
	if !ok || !slices.Contains(EncryptionAlgorithms(k.spec), alg) {
		return nil, errIncompatible(alg, k.spec)
	}
	return e.decrypt(alg, ciphertext)
}

// DeriveSharedSecret computes the raw ECDH shared secret (the big-endian
// x-coordinate of the shared point: 32, 48, 66 bytes for P-256, P-384,
// P-521, 32 for SM2; spec §6) with peerPublicKey, a DER
// SubjectPublicKeyInfo on the key's curve.
//
// Errors wrap ErrIncompatibleAlgorithm (alg is not ECDH, or the spec
// cannot agree keys) or ErrInvalidPublicKey.
func (k *Key) DeriveSharedSecret(alg string, peerPublicKey []byte) ([]byte, error) {
	a, ok := k.impl.(agreeingImpl)
	if !ok || !slices.Contains(KeyAgreementAlgorithms(k.spec), alg) {
		return nil, errIncompatible(alg, k.spec)
	}
	return a.deriveSharedSecret(peerPublicKey)
}

// Encapsulate makes a fresh 32-byte shared secret and its encapsulation
// under the key's ML-KEM public key (FIPS 203 ML-KEM.Encaps), reading the
// 32 random bytes it needs from rand. alg must be ML_KEM (spec §1.4).
//
// Errors wrap ErrIncompatibleAlgorithm (alg is not ML_KEM, or the key is
// not an ML-KEM key), or rand's error.
func (k *Key) Encapsulate(alg string, rand io.Reader) (secret, ciphertext []byte, err error) {
	e, ok := k.impl.(kemImpl)
	if !ok || !slices.Contains(EncapsulationAlgorithms(k.spec), alg) {
		return nil, nil, errIncompatible(alg, k.spec)
	}
	return e.encapsulate(rand)
}

// Decapsulate recovers the 32-byte shared secret of ciphertext (FIPS 203
// ML-KEM.Decaps). A ciphertext of the right length that was altered, or
// made for another key, gives a pseudo-random secret and no error
// (implicit rejection, spec §1.4).
//
// Errors wrap ErrIncompatibleAlgorithm, or ErrInvalidCiphertext for a
// ciphertext whose length is not the spec's (768, 1088, 1568 bytes).
func (k *Key) Decapsulate(alg string, ciphertext []byte) ([]byte, error) {
	e, ok := k.impl.(kemImpl)
	if !ok || !slices.Contains(EncapsulationAlgorithms(k.spec), alg) {
		return nil, errIncompatible(alg, k.spec)
	}
	return e.decapsulate(ciphertext)
}

// GenerateMac returns the HMAC (RFC 2104) of message with alg, the
// MacAlgorithm of the key's HMAC spec (spec §7).
//
// Errors wrap ErrIncompatibleAlgorithm.
func (k *Key) GenerateMac(alg string, message []byte) ([]byte, error) {
	m, ok := k.impl.(macImpl)
	if !ok || !macAlgorithmOf(k.spec, alg) {
		return nil, errIncompatible(alg, k.spec)
	}
	return m.mac(alg, message), nil
}

// VerifyMac recomputes the HMAC of message and compares it with mac in
// constant time. It returns nil only when they match.
//
// Errors wrap ErrIncompatibleAlgorithm (checked before the comparison, as
// AWS does) or ErrInvalidMac.
func (k *Key) VerifyMac(alg string, message, mac []byte) error {
	want, err := k.GenerateMac(alg, message)
	if err != nil {
		return err
	}
	if !hmacEqual(want, mac) {
		return errInvalidMac()
	}
	return nil
}

// String returns "keycrypto.Key(<SPEC>)"; it never shows key material.
func (k Key) String() string { return "keycrypto.Key(" + k.spec.String() + ")" }

// GoString returns the same as String, so %#v shows no key material.
func (k Key) GoString() string { return k.String() }

// Format prints String for every verb, so no fmt verb shows key material.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }
