package keycrypto

import (
	"crypto"
	"encoding/asn1"
	"io"

	"filippo.io/mldsa"
	"filippo.io/mldsa/mldsacrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// ML-DSA (FIPS 204; spec §1.1, §2.2, §2.3, §3): ML_DSA_44/65/87 sign with
// ML_DSA_SHAKE_256. The standard library of Go 1.26 has no ML-DSA, so the
// primitive is filippo.io/mldsa: the standard library's own implementation
// (crypto/internal/fips140/mldsa) extracted as a module, which becomes a
// type-alias wrapper of crypto/mldsa from Go 1.27 on. It is pure Go:
// Sign costs about 0.4 ms (ML_DSA_44) and 0.6 ms (ML_DSA_65) on amd64,
// 3.5–4× circl's AVX2 code (BenchmarkSignMLDSA), the price of the standard
// implementation and of EXTERNAL_MU.
//
// Message types:
//   - RAW: pure ML-DSA with an empty context, hedged (randomized), as AWS
//     signs (spec §2.3): μ = SHAKE256(SHAKE256(pk, 64) ‖ 0x00 ‖ 0x00 ‖ M, 64).
//   - EXTERNAL_MU: Sign takes μ itself, exactly 64 bytes (FIPS 204 §6.2,
//     RFC 9881 "ExternalMu"), and signs it hedged; the signature is one of
//     the RAW signatures of the message μ was computed from (spec §2.2), so
//     Verify with RAW and that message accepts it. Another length is
//     refused with ErrMessageType (spec §12.4 counts it among the
//     message-type errors; AWS's answer is not recorded, the wording is
//     ours). Verify with EXTERNAL_MU is refused with ErrMessageType:
//     filippo.io/mldsa (like crypto/mldsa) verifies only a message, its
//     VerifyExternalMu is internal, and we do not re-implement ML-DSA
//     internals. Such a signature is verified with RAW and the message; a
//     caller holding only μ cannot have it verified here (AWS can).
//   - DIGEST: refused with ErrMessageType. AWS documents no DIGEST form for
//     ML-DSA (spec §2.2, §12.4) and points large messages to EXTERNAL_MU.
//
// Storage form: PKCS#8 holding only the 32-byte seed ξ, the "seed" choice
// of ML-DSA-PrivateKey in the IETF LAMPS ML-DSA certificates draft
// (PrivateKeyInfo{0, {id-ml-dsa-NN}, OCTET STRING{[0] IMPLICIT OCTET
// STRING (32)}}). The expanded key is derived again (ML-DSA.KeyGen_internal)
// on Parse. Parse accepts only this form. The public key is
// SubjectPublicKeyInfo with the id-ml-dsa-NN OID (no parameters) and the
// FIPS 204 encoded key (spec §3, §12.5: AWS's exact encoding is
// unconfirmed).
//
// Signer returns the *mldsa.PrivateKey. Its crypto.Signer Sign is hedged
// (it ignores the reader and uses the system CSPRNG) and signs the message
// with an empty context when opts is nil, an *mldsa.Options or has
// HashFunc() 0, or a 64-byte μ when opts.HashFunc() is
// mldsacrypto.MLDSAMu.

var (
	oidMLDSA44 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 17}
	oidMLDSA65 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 18}
	oidMLDSA87 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 19}
)

const mldsaSeedSize = mldsa.PrivateKeySize // 32

// mldsaMuSize is the length of μ, the EXTERNAL_MU message (FIPS 204 §6.2).
const mldsaMuSize = 64

type mldsaKey struct {
	spec keystate.KeySpec
	sk   *mldsa.PrivateKey // holds the seed ξ, which marshal writes
	pk   *mldsa.PublicKey
}

// muOpts makes (*mldsa.PrivateKey).Sign sign a precomputed μ.
type muOpts struct{}

func (muOpts) HashFunc() crypto.Hash { return mldsacrypto.MLDSAMu }

func mldsaOID(spec keystate.KeySpec) asn1.ObjectIdentifier {
	switch spec {
	case keystate.MLDSA44:
		return oidMLDSA44
	case keystate.MLDSA65:
		return oidMLDSA65
	}
	return oidMLDSA87
}

func mldsaParams(spec keystate.KeySpec) mldsa.Parameters {
	switch spec {
	case keystate.MLDSA44:
		return mldsa.MLDSA44()
	case keystate.MLDSA65:
		return mldsa.MLDSA65()
	}
	return mldsa.MLDSA87()
}

func generateMLDSA(spec keystate.KeySpec, rand io.Reader) (keyImpl, error) {
	var seed [mldsaSeedSize]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, err
	}
	defer clear(seed[:])
	return newMLDSA(spec, &seed), nil
}

// newMLDSA expands the seed (FIPS 204 ML-DSA.KeyGen_internal) into a key.
func newMLDSA(spec keystate.KeySpec, seed *[mldsaSeedSize]byte) *mldsaKey {
	sk, err := mldsa.NewPrivateKey(mldsaParams(spec), seed[:])
	if err != nil {
		// Only a wrong seed length or unknown parameters fail; neither can
		// happen here.
		panic("keycrypto: ML-DSA key from seed: " + err.Error())
	}
	return &mldsaKey{spec: spec, sk: sk, pk: sk.PublicKey()}
}

// parseMLDSA reads the seed-only PKCS#8 form Marshal writes.
func parseMLDSA(spec keystate.KeySpec, material []byte) (keyImpl, error) {
	s, err := parseSeedPKCS8(spec, material, mldsaOID(spec), mldsaSeedSize, "ML-DSA")
	if err != nil {
		return nil, err
	}
	var seed [mldsaSeedSize]byte
	copy(seed[:], s)
	clear(s)
	defer clear(seed[:])
	return newMLDSA(spec, &seed), nil
}

func (k *mldsaKey) marshal() []byte {
	seed := k.sk.Bytes()
	defer clear(seed)
	return marshalSeedPKCS8(mldsaOID(k.spec), seed)
}

func (k *mldsaKey) publicKey() ([]byte, error) { return rawSPKI(mldsaOID(k.spec), k.pk.Bytes()) }

func (k *mldsaKey) signer() crypto.Signer { return k.sk }

func (k *mldsaKey) sign(alg, messageType string, message []byte) ([]byte, error) {
	switch messageType {
	case MessageTypeRaw:
		return k.sk.Sign(nil, message, nil)
	case MessageTypeExternalMu:
		if len(message) != mldsaMuSize {
			return nil, errMessageType("Message type EXTERNAL_MU requires a %d-byte message (μ, FIPS 204 §6.2) for algorithm %s.", mldsaMuSize, alg)
		}
		return k.sk.Sign(nil, message, muOpts{})
	}
	return nil, errWrongMessageType(alg, messageType)
}

func (k *mldsaKey) verify(alg, messageType string, message, signature []byte) error {
	switch messageType {
	case MessageTypeRaw:
	case MessageTypeExternalMu:
		return errMessageType("Message type EXTERNAL_MU is not supported by Verify for algorithm %s. "+
			"Verify a signature made over an external μ with MessageType RAW and the message it was computed from.", alg)
	default:
		return errWrongMessageType(alg, messageType)
	}
	if err := mldsa.Verify(k.pk, message, signature, nil); err != nil {
		return errInvalidSignature("ML-DSA verification failed")
	}
	return nil
}
