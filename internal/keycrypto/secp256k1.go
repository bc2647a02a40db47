package keycrypto

import (
	"crypto"
	"io"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	secpecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// secp256k1 (spec §1.1): ECC_SECG_P256K1 signs with ECDSA_SHA_256 only (no
// key agreement). The standard library has no secp256k1, so the primitive
// is decred's secp256k1/v4 and its ecdsa subpackage.
//
// Signatures are DER SEQUENCE{r, s}. decred signs deterministically (RFC
// 6979 nonces) and always returns low-S values, where AWS's signatures are
// randomized. Both are valid ECDSA signatures: any verifier, AWS's own
// included, accepts either, so the difference cannot be observed except by
// signing the same digest twice. Verify accepts high-S signatures too, as
// a general ECDSA verifier (and AWS) must.

type secp256k1Key struct {
	priv *secp256k1.PrivateKey
	pub  *secp256k1.PublicKey
}

func generateSecp256k1(rand io.Reader) (keyImpl, error) {
	var s secp256k1.ModNScalar
	_, err := readScalar(rand, 32, 0xff, func(b []byte) bool {
		overflow := s.SetByteSlice(b)
		return !overflow && !s.IsZero()
	})
	if err != nil {
		return nil, err
	}
	return newSecp256k1(secp256k1.NewPrivateKey(&s)), nil
}

func newSecp256k1FromScalar(d []byte) (keyImpl, error) {
	var s secp256k1.ModNScalar
	if overflow := s.SetByteSlice(d); overflow || s.IsZero() {
		return nil, errInvalidMaterial(keystate.ECCSECGP256K1, "the private key is not in [1, n-1]")
	}
	return newSecp256k1(secp256k1.NewPrivateKey(&s)), nil
}

func newSecp256k1(priv *secp256k1.PrivateKey) *secp256k1Key {
	return &secp256k1Key{priv: priv, pub: priv.PubKey()}
}

func (k *secp256k1Key) marshal() []byte {
	d := k.priv.Serialize()
	defer clear(d)
	return marshalECPKCS8(oidSecp256k1, d, k.pub.SerializeUncompressed())
}

func (k *secp256k1Key) publicKey() ([]byte, error) {
	return marshalECSPKI(oidSecp256k1, k.pub.SerializeUncompressed())
}

func (k *secp256k1Key) signer() crypto.Signer { return secp256k1Signer{k} }

func (k *secp256k1Key) sign(alg, messageType string, message []byte) ([]byte, error) {
	digest, err := shaDigest(alg, messageType, message)
	if err != nil {
		return nil, err
	}
	return secpecdsa.Sign(k.priv, digest).Serialize(), nil
}

func (k *secp256k1Key) verify(alg, messageType string, message, signature []byte) error {
	digest, err := shaDigest(alg, messageType, message)
	if err != nil {
		return err
	}
	sig, err := secpecdsa.ParseDERSignature(signature)
	if err != nil {
		return errInvalidSignature("not a DER ECDSA signature")
	}
	if !sig.Verify(digest, k.pub) {
		return errInvalidSignature("ECDSA verification failed")
	}
	return nil
}

// secp256k1Signer adapts the key to crypto.Signer: Public returns a
// *secp256k1.PublicKey, Sign signs a 32-byte digest (opts are ignored but
// for their hash, which must be SHA-256 or none) and returns DER.
type secp256k1Signer struct{ k *secp256k1Key }

// Public returns the *secp256k1.PublicKey.
func (s secp256k1Signer) Public() crypto.PublicKey { return s.k.pub }

// Sign signs digest, a SHA-256 hash, with an RFC 6979 nonce; rand is
// unused.
func (s secp256k1Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts != nil && opts.HashFunc() != crypto.SHA256 && opts.HashFunc() != 0 {
		return nil, errIncompatible(opts.HashFunc().String(), keystate.ECCSECGP256K1)
	}
	if len(digest) != 32 {
		return nil, errDigestLength(ECDSASHA256)
	}
	return secpecdsa.Sign(s.k.priv, digest).Serialize(), nil
}
