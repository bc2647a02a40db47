package keycrypto

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// ML-DSA (FIPS 204; spec §1.1, §2.2, §2.3, §3): ML_DSA_44/65/87 sign with
// ML_DSA_SHAKE_256. The standard library of Go 1.26 has no ML-DSA, so the
// primitive is circl's sign/mldsa.
//
// Message types:
//   - RAW: pure ML-DSA with an empty context, hedged (randomized), as AWS
//     signs (spec §2.3).
//   - EXTERNAL_MU: refused with ErrMessageType, not yet supported. circl
//     v1.6.5 can sign only a message, not a precomputed μ (its
//     Sign_internal is unexported), and we do not re-implement ML-DSA
//     internals.
//   - DIGEST: refused with ErrMessageType. AWS documents no DIGEST form for
//     ML-DSA (spec §2.2, §12.4) and points large messages to EXTERNAL_MU.
//
// Storage form: PKCS#8 holding only the 32-byte seed ξ, the "seed" choice
// of ML-DSA-PrivateKey in the IETF LAMPS ML-DSA certificates draft
// (PrivateKeyInfo{0, {id-ml-dsa-NN}, OCTET STRING{[0] IMPLICIT OCTET
// STRING (32)}}). The expanded key is derived again on Parse. Parse accepts
// only this form. The public key is SubjectPublicKeyInfo with the
// id-ml-dsa-NN OID (no parameters) and the FIPS 204 encoded key (spec §3,
// §12.5: AWS's exact encoding is unconfirmed).
//
// Signer returns circl's private key, whose crypto.Signer Sign is pure
// ML-DSA with an empty context in the deterministic variant.

var (
	oidMLDSA44 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 17}
	oidMLDSA65 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 18}
	oidMLDSA87 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 19}
)

const mldsaSeedSize = 32

type mldsaKey struct {
	spec   keystate.KeySpec
	seed   [mldsaSeedSize]byte
	pub    []byte // FIPS 204 encoded public key
	sk     crypto.Signer
	signFn func(message []byte) ([]byte, error)
	verFn  func(message, signature []byte) bool
}

func mldsaOID(spec keystate.KeySpec) asn1.ObjectIdentifier {
	switch spec {
	case keystate.MLDSA44:
		return oidMLDSA44
	case keystate.MLDSA65:
		return oidMLDSA65
	}
	return oidMLDSA87
}

func generateMLDSA(spec keystate.KeySpec, rand io.Reader) (keyImpl, error) {
	var seed [mldsaSeedSize]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, err
	}
	return newMLDSA(spec, &seed), nil
}

// newMLDSA expands the seed (FIPS 204 ML-DSA.KeyGen_internal) into a key.
func newMLDSA(spec keystate.KeySpec, seed *[mldsaSeedSize]byte) *mldsaKey {
	k := &mldsaKey{spec: spec, seed: *seed}
	switch spec {
	case keystate.MLDSA44:
		pk, sk := mldsa44.NewKeyFromSeed(seed)
		k.pub, k.sk = pk.Bytes(), sk
		k.signFn = func(m []byte) ([]byte, error) {
			sig := make([]byte, mldsa44.SignatureSize)
			return sig, mldsa44.SignTo(sk, m, nil, true, sig)
		}
		k.verFn = func(m, s []byte) bool { return mldsa44.Verify(pk, m, nil, s) }
	case keystate.MLDSA65:
		pk, sk := mldsa65.NewKeyFromSeed(seed)
		k.pub, k.sk = pk.Bytes(), sk
		k.signFn = func(m []byte) ([]byte, error) {
			sig := make([]byte, mldsa65.SignatureSize)
			return sig, mldsa65.SignTo(sk, m, nil, true, sig)
		}
		k.verFn = func(m, s []byte) bool { return mldsa65.Verify(pk, m, nil, s) }
	default:
		pk, sk := mldsa87.NewKeyFromSeed(seed)
		k.pub, k.sk = pk.Bytes(), sk
		k.signFn = func(m []byte) ([]byte, error) {
			sig := make([]byte, mldsa87.SignatureSize)
			return sig, mldsa87.SignTo(sk, m, nil, true, sig)
		}
		k.verFn = func(m, s []byte) bool { return mldsa87.Verify(pk, m, nil, s) }
	}
	return k
}

// parseMLDSA reads the seed-only PKCS#8 form Marshal writes.
func parseMLDSA(spec keystate.KeySpec, material []byte) (keyImpl, error) {
	var p pkcs8
	rest, err := asn1.Unmarshal(material, &p)
	if err != nil || len(rest) != 0 {
		return nil, errInvalidMaterial(spec, "not a DER PKCS#8 PrivateKeyInfo")
	}
	if !p.Algo.Algorithm.Equal(mldsaOID(spec)) || len(p.Algo.Parameters.FullBytes) != 0 {
		return nil, errInvalidMaterial(spec, "the PKCS#8 algorithm is not %v without parameters", mldsaOID(spec))
	}
	if len(p.PrivateKey) != 2+mldsaSeedSize || p.PrivateKey[0] != 0x80 || p.PrivateKey[1] != mldsaSeedSize {
		return nil, errInvalidMaterial(spec, "only the 32-byte seed form of ML-DSA-PrivateKey is supported")
	}
	var seed [mldsaSeedSize]byte
	copy(seed[:], p.PrivateKey[2:])
	clear(p.PrivateKey)
	k := newMLDSA(spec, &seed)
	clear(seed[:])
	return k, nil
}

func (k *mldsaKey) marshal() []byte {
	inner := append([]byte{0x80, mldsaSeedSize}, k.seed[:]...)
	defer clear(inner)
	der, err := asn1.Marshal(pkcs8{Algo: pkix.AlgorithmIdentifier{Algorithm: mldsaOID(k.spec)}, PrivateKey: inner})
	if err != nil {
		panic("keycrypto: marshal ML-DSA key: " + err.Error())
	}
	return der
}

func (k *mldsaKey) publicKey() ([]byte, error) {
	return asn1.Marshal(spki{Algo: pkix.AlgorithmIdentifier{Algorithm: mldsaOID(k.spec)},
		PublicKey: asn1.BitString{Bytes: k.pub, BitLength: 8 * len(k.pub)}})
}

func (k *mldsaKey) signer() crypto.Signer { return k.sk }

func (k *mldsaKey) checkMessageType(alg, messageType string) error {
	switch messageType {
	case MessageTypeRaw:
		return nil
	case MessageTypeExternalMu:
		return errMessageType("Message type EXTERNAL_MU is not yet supported for algorithm %s.", alg)
	}
	return errWrongMessageType(alg, messageType)
}

func (k *mldsaKey) sign(alg, messageType string, message []byte) ([]byte, error) {
	if err := k.checkMessageType(alg, messageType); err != nil {
		return nil, err
	}
	return k.signFn(message)
}

func (k *mldsaKey) verify(alg, messageType string, message, signature []byte) error {
	if err := k.checkMessageType(alg, messageType); err != nil {
		return err
	}
	if !k.verFn(message, signature) {
		return errInvalidSignature("ML-DSA verification failed")
	}
	return nil
}
