package keycrypto

import (
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"slices"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// The AWS algorithm names this package knows.
const (
	RSASSAPSSSHA256       = "RSASSA_PSS_SHA_256"
	RSASSAPSSSHA384       = "RSASSA_PSS_SHA_384"
	RSASSAPSSSHA512       = "RSASSA_PSS_SHA_512"
	RSASSAPKCS1V15SHA256  = "RSASSA_PKCS1_V1_5_SHA_256"
	RSASSAPKCS1V15SHA384  = "RSASSA_PKCS1_V1_5_SHA_384"
	RSASSAPKCS1V15SHA512  = "RSASSA_PKCS1_V1_5_SHA_512"
	ECDSASHA256           = "ECDSA_SHA_256"
	ECDSASHA384           = "ECDSA_SHA_384"
	ECDSASHA512           = "ECDSA_SHA_512"
	ED25519SHA512         = "ED25519_SHA_512"
	ED25519PHSHA512       = "ED25519_PH_SHA_512"
	MLDSASHAKE256         = "ML_DSA_SHAKE_256"
	SM2DSA                = "SM2DSA"
	RSAESOAEPSHA1         = "RSAES_OAEP_SHA_1"
	RSAESOAEPSHA256       = "RSAES_OAEP_SHA_256"
	SM2PKE                = "SM2PKE"
	HMACSHA224            = "HMAC_SHA_224"
	HMACSHA256            = "HMAC_SHA_256"
	HMACSHA384            = "HMAC_SHA_384"
	HMACSHA512            = "HMAC_SHA_512"
	ECDH                  = "ECDH"
	MLKEM                 = "ML_KEM"
	MessageTypeRaw        = "RAW"
	MessageTypeDigest     = "DIGEST"
	MessageTypeExternalMu = "EXTERNAL_MU"
)

// rsaSigning is the KSR table order of the six RSA signing algorithms
// (spec §1.1; the order AWS returns is UNCONFIRMED, §12.6).
var rsaSigning = []string{
	RSASSAPSSSHA256, RSASSAPSSSHA384, RSASSAPSSSHA512,
	RSASSAPKCS1V15SHA256, RSASSAPKCS1V15SHA384, RSASSAPKCS1V15SHA512,
}

// SigningAlgorithms returns the SigningAlgorithms AWS advertises for a
// SIGN_VERIFY key of spec, in AWS's order (spec §1.1; where AWS's order is
// not recorded, the key spec reference's table order). It returns nil for
// specs that cannot sign. The caller may modify the slice.
func SigningAlgorithms(spec keystate.KeySpec) []string {
	switch spec {
	case keystate.RSA2048, keystate.RSA3072, keystate.RSA4096:
		return slices.Clone(rsaSigning)
	case keystate.ECCNISTP256, keystate.ECCSECGP256K1:
		return []string{ECDSASHA256}
	case keystate.ECCNISTP384:
		return []string{ECDSASHA384}
	case keystate.ECCNISTP521:
		return []string{ECDSASHA512}
	case keystate.ECCNISTEdwards25519:
		return []string{ED25519SHA512, ED25519PHSHA512}
	case keystate.MLDSA44, keystate.MLDSA65, keystate.MLDSA87:
		return []string{MLDSASHAKE256}
	case keystate.SM2:
		return []string{SM2DSA}
	}
	return nil
}

// signingAlgorithmOf reports whether alg is a signing algorithm of spec,
// without copying the RSA table (Sign's budget is a few percent over the
// bare primitive).
func signingAlgorithmOf(spec keystate.KeySpec, alg string) bool {
	if rsaBits(spec) != 0 {
		return slices.Contains(rsaSigning, alg)
	}
	return slices.Contains(SigningAlgorithms(spec), alg)
}

// EncryptionAlgorithms returns the EncryptionAlgorithms AWS advertises for
// an asymmetric ENCRYPT_DECRYPT key of spec (spec §1.1, recorded order for
// RSA). It returns nil for SYMMETRIC_DEFAULT, which this package does not
// handle, and for specs that cannot encrypt.
func EncryptionAlgorithms(spec keystate.KeySpec) []string {
	switch spec {
	case keystate.RSA2048, keystate.RSA3072, keystate.RSA4096:
		return []string{RSAESOAEPSHA1, RSAESOAEPSHA256}
	case keystate.SM2:
		return []string{SM2PKE}
	}
	return nil
}

// MacAlgorithms returns the one MacAlgorithm of an HMAC key spec (spec
// §1.1, §7), or nil for other specs.
func MacAlgorithms(spec keystate.KeySpec) []string {
	switch spec {
	case keystate.HMAC224:
		return []string{HMACSHA224}
	case keystate.HMAC256:
		return []string{HMACSHA256}
	case keystate.HMAC384:
		return []string{HMACSHA384}
	case keystate.HMAC512:
		return []string{HMACSHA512}
	}
	return nil
}

// KeyAgreementAlgorithms returns [ECDH] for the specs that may be
// KEY_AGREEMENT keys (ECC_NIST_P256/P384/P521 and SM2, spec §1.1), else
// nil.
func KeyAgreementAlgorithms(spec keystate.KeySpec) []string {
	switch spec {
	case keystate.ECCNISTP256, keystate.ECCNISTP384, keystate.ECCNISTP521, keystate.SM2:
		return []string{ECDH}
	}
	return nil
}

// EncapsulationAlgorithms returns [ML_KEM] for the ML-KEM specs
// (ML_KEM_512/768/1024, spec §1.1), else nil.
func EncapsulationAlgorithms(spec keystate.KeySpec) []string {
	if spec.IsMLKEM() {
		return []string{MLKEM}
	}
	return nil
}

// EncapsulationSize returns the length of an ML-KEM ciphertext of spec
// (FIPS 203: 768, 1088 and 1568 bytes for ML_KEM_512, ML_KEM_768 and
// ML_KEM_1024), or 0 for other specs.
func EncapsulationSize(spec keystate.KeySpec) int {
	if !spec.IsMLKEM() {
		return 0
	}
	return mlkemScheme(spec).CiphertextSize()
}

// MaxPlaintext returns the largest plaintext Encrypt accepts for spec and
// alg (spec §4.1: RSA k/8 − 2·hLen − 2; SM2PKE 1024), and false when alg is
// not an encryption algorithm of spec.
func MaxPlaintext(spec keystate.KeySpec, alg string) (int, bool) {
	if !slices.Contains(EncryptionAlgorithms(spec), alg) {
		return 0, false
	}
	if alg == SM2PKE {
		return 1024, true
	}
	hLen := 20
	if alg == RSAESOAEPSHA256 {
		hLen = 32
	}
	return rsaBits(spec)/8 - 2*hLen - 2, true
}

// DigestLength returns the length a DIGEST message must have for a
// signing algorithm (spec §2.2), and false when the algorithm takes no
// DIGEST message (ED25519_SHA_512, ML_DSA_SHAKE_256) or is unknown.
func DigestLength(alg string) (int, bool) {
	switch alg {
	case SM2DSA:
		return 32, true // an SM3 digest
	case ED25519PHSHA512:
		return 64, true
	}
	if h := shaHash(alg); h != 0 {
		return h.Size(), true
	}
	return 0, false
}

// shaHash returns the SHA-2 hash an RSA or ECDSA algorithm applies to a
// RAW message, or 0 for other algorithms.
func shaHash(alg string) crypto.Hash {
	switch alg {
	case RSASSAPSSSHA256, RSASSAPKCS1V15SHA256, ECDSASHA256:
		return crypto.SHA256
	case RSASSAPSSSHA384, RSASSAPKCS1V15SHA384, ECDSASHA384:
		return crypto.SHA384
	case RSASSAPSSSHA512, RSASSAPKCS1V15SHA512, ECDSASHA512:
		return crypto.SHA512
	}
	return 0
}

// shaDigest turns a RAW or DIGEST message into the digest an RSA or ECDSA
// algorithm signs (spec §2.2).
func shaDigest(alg, messageType string, message []byte) ([]byte, error) {
	h := shaHash(alg)
	switch messageType {
	case MessageTypeRaw, "":
		switch h {
		case crypto.SHA256:
			d := sha256.Sum256(message)
			return d[:], nil
		case crypto.SHA384:
			d := sha512.Sum384(message)
			return d[:], nil
		}
		d := sha512.Sum512(message)
		return d[:], nil
	case MessageTypeDigest:
		if len(message) != h.Size() {
			return nil, errDigestLength(alg)
		}
		return message, nil
	}
	return nil, errWrongMessageType(alg, messageType)
}

// rsaBits returns the modulus size of an RSA spec, or 0.
func rsaBits(spec keystate.KeySpec) int {
	switch spec {
	case keystate.RSA2048:
		return 2048
	case keystate.RSA3072:
		return 3072
	case keystate.RSA4096:
		return 4096
	}
	return 0
}
