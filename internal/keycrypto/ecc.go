package keycrypto

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"io"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// NIST curves (spec §1.1, §2, §6): ECC_NIST_P256/P384/P521 sign with
// ECDSA_SHA_256/384/512 (the one algorithm bound to each curve) and agree
// keys with ECDH. Everything is crypto/ecdsa and crypto/ecdh.
//
// Signatures are DER SEQUENCE{r, s} and randomized, like AWS's: since Go
// 1.26 ecdsa.SignASN1 always draws its nonce from the system CSPRNG (and
// hedges it with the key and digest), whatever reader it is given.

type eccKey struct {
	spec  keystate.KeySpec
	oid   asn1.ObjectIdentifier
	priv  *ecdsa.PrivateKey
	ecdh  *ecdh.PrivateKey
	d     []byte // the private scalar, fixed length
	point []byte // the uncompressed public point
}

func nistCurve(spec keystate.KeySpec) (elliptic.Curve, ecdh.Curve) {
	switch spec {
	case keystate.ECCNISTP384:
		return elliptic.P384(), ecdh.P384()
	case keystate.ECCNISTP521:
		return elliptic.P521(), ecdh.P521()
	}
	return elliptic.P256(), ecdh.P256()
}

// maxScalarTries bounds rejection sampling. A uniform reader is rejected
// with probability below 2^-32 per try on every curve used here, so only a
// broken reader (say, all zeros) runs out.
const maxScalarTries = 64

var errScalarSampling = errors.New("keycrypto: the random reader gave no valid private scalar in 64 tries")

// readScalar reads size bytes from rand, clears the bits above topBits in
// the first byte, and retries until accept takes them (rejection sampling,
// FIPS 186-5 A.2.2 style), so that a seeded reader always gives the same
// key.
func readScalar(rand io.Reader, size int, topMask byte, accept func([]byte) bool) ([]byte, error) {
	b := make([]byte, size)
	for range maxScalarTries {
		if _, err := io.ReadFull(rand, b); err != nil {
			return nil, err
		}
		b[0] &= topMask
		if accept(b) {
			return b, nil
		}
	}
	return nil, errScalarSampling
}

func generateECC(spec keystate.KeySpec, r io.Reader) (keyImpl, error) {
	curve, _ := nistCurve(spec)
	mask := byte(0xff)
	if spec == keystate.ECCNISTP521 {
		mask = 0x01 // 521 bits in 66 bytes
	}
	var priv *ecdsa.PrivateKey
	d, err := readScalar(r, ecScalarSize(spec), mask, func(b []byte) bool {
		var err error
		priv, err = ecdsa.ParseRawPrivateKey(curve, b)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return newECCKey(spec, priv, d)
}

// newECCFromScalar builds the key from a fixed-length private scalar.
func newECCFromScalar(spec keystate.KeySpec, d []byte) (keyImpl, error) {
	curve, _ := nistCurve(spec)
	priv, err := ecdsa.ParseRawPrivateKey(curve, d)
	if err != nil {
		return nil, errInvalidMaterial(spec, "the private key is not in [1, n-1]")
	}
	return newECCKey(spec, priv, d)
}

func newECCKey(spec keystate.KeySpec, priv *ecdsa.PrivateKey, d []byte) (keyImpl, error) {
	e, err := priv.ECDH()
	if err != nil {
		return nil, errInvalidMaterial(spec, "the private key is not usable for ECDH")
	}
	return &eccKey{spec: spec, oid: ecCurveOID(spec), priv: priv, ecdh: e, d: d,
		point: e.PublicKey().Bytes()}, nil
}

// parseECPKCS8 reads an EC PKCS#8 key of any EC spec (NIST, secp256k1,
// SM2) and hands its scalar to the family's constructor.
func parseECPKCS8(spec keystate.KeySpec, material []byte, imported bool) (keyImpl, error) {
	der, err := importedDER(spec, material, imported)
	if err != nil {
		return nil, err
	}
	d, err := parseECPKCS8Scalar(spec, der)
	if err != nil {
		return nil, err
	}
	switch spec {
	case keystate.ECCSECGP256K1:
		return newSecp256k1FromScalar(d)
	case keystate.SM2:
		return newSM2FromScalar(d)
	}
	return newECCFromScalar(spec, d)
}

func (k *eccKey) marshal() []byte { return marshalECPKCS8(k.oid, k.d, k.point) }

func (k *eccKey) publicKey() ([]byte, error) { return x509.MarshalPKIXPublicKey(&k.priv.PublicKey) }

func (k *eccKey) signer() crypto.Signer { return k.priv }

func (k *eccKey) sign(alg, messageType string, message []byte) ([]byte, error) {
	digest, err := shaDigest(alg, messageType, message)
	if err != nil {
		return nil, err
	}
	return ecdsa.SignASN1(rand.Reader, k.priv, digest)
}

func (k *eccKey) verify(alg, messageType string, message, signature []byte) error {
	digest, err := shaDigest(alg, messageType, message)
	if err != nil {
		return err
	}
	if !ecdsa.VerifyASN1(&k.priv.PublicKey, digest, signature) {
		return errInvalidSignature("ECDSA verification failed")
	}
	return nil
}

// deriveSharedSecret returns the x-coordinate of d·Q (crypto/ecdh's
// output, the SP 800-56A CDH primitive: NIST curves have cofactor 1).
func (k *eccKey) deriveSharedSecret(peer []byte) ([]byte, error) {
	point, err := parseECSPKIPoint(k.spec, peer)
	if err != nil {
		return nil, err
	}
	_, curve := nistCurve(k.spec)
	pub, err := curve.NewPublicKey(point)
	if err != nil {
		return nil, errInvalidPublicKey("the point is not on the curve")
	}
	secret, err := k.ecdh.ECDH(pub)
	if err != nil {
		return nil, errInvalidPublicKey("the shared point is invalid")
	}
	return secret, nil
}
