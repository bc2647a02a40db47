package keycrypto

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"io"
	"math/big"

	gmecdh "github.com/emmansun/gmsm/ecdh"
	"github.com/emmansun/gmsm/sm2"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// SM2 (GB/T 32918, China Regions; spec §1.1, §2.2, §4, §6): one SM2 key can
// sign with SM2DSA, encrypt with SM2PKE and agree keys with ECDH. The
// standard library has no SM2, so the primitives are emmansun/gmsm's sm2
// and ecdh packages.
//
//   - SM2DSA RAW: Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) with
//     the default distinguishing ID "1234567812345678" (the only one KMS
//     uses), then e = SM3(Z_A ‖ M), then the signature.
//   - SM2DSA DIGEST: a 32-byte e the caller computed (with any ID).
//   - Signatures are DER SEQUENCE{r, s} (spec §12.5 assumes that), and
//     randomized.
//   - SM2PKE: ciphertext DER SEQUENCE{x, y, C3 (SM3 hash), C2}, the
//     C1C3C2 ASN.1 form of GB/T 32918.4 (spec §4.2).
//   - ECDH: the x-coordinate of d·Q, 32 bytes (plain ECDH on the SM2
//     curve, not the SM2 key exchange protocol).
//
// The private key is in [1, n-2], as GB/T 32918.1 requires. Storage form
// and public key: PKCS#8 and SubjectPublicKeyInfo with id-ecPublicKey and
// the sm2p256v1 curve OID 1.2.156.10197.1.301 (the form OpenSSL and gmsm
// use; AWS's exact OIDs are unconfirmed, spec §3).

type sm2Key struct {
	priv  *sm2.PrivateKey
	ecdh  *gmecdh.PrivateKey
	d     []byte
	point []byte
}

func generateSM2(r io.Reader) (keyImpl, error) {
	var priv *sm2.PrivateKey
	d, err := readScalar(r, 32, 0xff, func(b []byte) bool {
		var err error
		priv, err = sm2.NewPrivateKey(b)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return newSM2(priv, d)
}

func newSM2FromScalar(d []byte) (keyImpl, error) {
	priv, err := sm2.NewPrivateKey(d)
	if err != nil {
		return nil, errInvalidMaterial(keystate.SM2, "the private key is not in [1, n-2]")
	}
	return newSM2(priv, d)
}

func newSM2(priv *sm2.PrivateKey, d []byte) (keyImpl, error) {
	e, err := gmecdh.P256().NewPrivateKey(d)
	if err != nil {
		return nil, errInvalidMaterial(keystate.SM2, "the private key is not usable for ECDH")
	}
	return &sm2Key{priv: priv, ecdh: e, d: d, point: e.PublicKey().Bytes()}, nil
}

func (k *sm2Key) marshal() []byte { return marshalECPKCS8(oidSM2Curve, k.d, k.point) }

func (k *sm2Key) publicKey() ([]byte, error) { return marshalECSPKI(oidSM2Curve, k.point) }

func (k *sm2Key) signer() crypto.Signer { return k.priv }

// digest returns e, the 32 bytes SM2DSA signs.
func (k *sm2Key) digest(alg, messageType string, message []byte) ([]byte, error) {
	switch messageType {
	case MessageTypeRaw:
		return sm2.CalculateSM2Hash(&k.priv.PublicKey, message, nil) // nil: the default ID
	case MessageTypeDigest:
		if len(message) != 32 {
			return nil, errDigestLength(alg)
		}
		return message, nil
	}
	return nil, errWrongMessageType(alg, messageType)
}

func (k *sm2Key) sign(alg, messageType string, message []byte) ([]byte, error) {
	e, err := k.digest(alg, messageType, message)
	if err != nil {
		return nil, err
	}
	return sm2.SignASN1(rand.Reader, k.priv, e, nil)
}

func (k *sm2Key) verify(alg, messageType string, message, signature []byte) error {
	e, err := k.digest(alg, messageType, message)
	if err != nil {
		return err
	}
	if !sm2.VerifyASN1(&k.priv.PublicKey, e, signature) {
		return errInvalidSignature("SM2 verification failed")
	}
	return nil
}

// sm2CheckBelow is the plaintext length under which encrypt decrypts its
// ciphertext again before returning it. When the KDF output t for the first
// random k is all zero (probability 2^-8n for an n-byte plaintext, 1 in
// 256 for one byte), gmsm's Encrypt (v0.44.1) tries again with a point it
// has overwritten, and returns a ciphertext that no key decrypts; the
// check finds such a ciphertext, and the plaintext is encrypted anew. For
// 16 bytes and more the chance is 2^-128 or less.
const sm2CheckBelow = 16

// sm2EncryptTries bounds encrypt's attempts: eight failures in a row, each
// at most 1 in 256, would take a broken library, not chance.
const sm2EncryptTries = 8

func (k *sm2Key) encrypt(_ string, plaintext []byte) ([]byte, error) {
	for range sm2EncryptTries {
		ct, err := sm2.EncryptASN1(rand.Reader, &k.priv.PublicKey, plaintext)
		if err != nil || len(plaintext) >= sm2CheckBelow {
			return ct, err
		}
		if pt, err := k.decrypt(SM2PKE, ct); err == nil && bytes.Equal(pt, plaintext) {
			return ct, nil
		}
	}
	return nil, errors.New("keycrypto: SM2 encryption made no decryptable ciphertext")
}

// sm2Ciphertext is SM2PKE's DER form, C1C3C2 (spec §4.2).
type sm2Ciphertext struct {
	X, Y   *big.Int
	C3, C2 []byte
}

func (k *sm2Key) decrypt(_ string, ciphertext []byte) ([]byte, error) {
	// Only the DER form, which KMS speaks: gmsm's decrypter also reads
	// the raw 04‖x‖y‖C3‖C2 forms, which AWS's SM2 helper converts from
	// before calling KMS.
	var c sm2Ciphertext
	if rest, err := asn1.Unmarshal(ciphertext, &c); err != nil || len(rest) != 0 {
		return nil, errInvalidCiphertext("SM2 decryption failed")
	}
	pt, err := k.priv.Decrypt(nil, ciphertext, sm2.ASN1DecrypterOpts)
	if err != nil {
		return nil, errInvalidCiphertext("SM2 decryption failed")
	}
	return pt, nil
}

func (k *sm2Key) deriveSharedSecret(peer []byte) ([]byte, error) {
	point, err := parseECSPKIPoint(keystate.SM2, peer)
	if err != nil {
		return nil, err
	}
	pub, err := gmecdh.P256().NewPublicKey(point)
	if err != nil {
		return nil, errInvalidPublicKey("the point is not on the curve")
	}
	secret, err := k.ecdh.ECDH(pub)
	if err != nil {
		return nil, errInvalidPublicKey("the shared point is invalid")
	}
	return secret, nil
}
