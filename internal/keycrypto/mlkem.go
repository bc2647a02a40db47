package keycrypto

import (
	"crypto"
	"encoding/asn1"
	"io"

	"github.com/cloudflare/circl/kem"
	"github.com/cloudflare/circl/kem/mlkem/mlkem1024"
	"github.com/cloudflare/circl/kem/mlkem/mlkem512"
	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// ML-KEM (FIPS 203; spec §1.1, §1.4): ML_KEM_512/768/1024 keys, usage
// ENCAPSULATE_DECAPSULATE, algorithm ML_KEM. The primitive is
// github.com/cloudflare/circl's kem/mlkem: the standard library's
// crypto/mlkem has no ML-KEM-512, and its Encapsulate draws its randomness
// from the system, where circl's takes it from the caller, so that a
// seeded service encapsulates the same way every time, as it makes the
// same keys (Generate).
//
// Storage form: PKCS#8 holding only the 64-byte seed d ‖ z, the "seed"
// choice of ML-KEM-PrivateKey in the IETF LAMPS ML-KEM certificates draft
// (PrivateKeyInfo{0, {id-alg-ml-kem-NNN}, OCTET STRING{[0] IMPLICIT OCTET
// STRING (64)}}); the keys are derived again (ML-KEM.KeyGen_internal) on
// Parse, which accepts only this form. The same form is a data key pair's
// private key (GenerateDataKeyPair), as spec §5 says AWS's is. The public
// key is SubjectPublicKeyInfo with the
// id-alg-ml-kem-NNN OID (no parameters) and the FIPS 203 encapsulation
// key: 800, 1184 or 1568 bytes.
//
// Decapsulate refuses a ciphertext of the wrong length (768, 1088 or 1568
// bytes are right) with ErrInvalidCiphertext; any other ciphertext,
// altered or made for another key, gives a pseudo-random 32-byte secret
// without an error: ML-KEM's implicit rejection, as AWS documents (spec
// §1.4).

var (
	oidMLKEM512  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 1}
	oidMLKEM768  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 2}
	oidMLKEM1024 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 3}
)

// mlkemSeedSize is the length of the seed d ‖ z (FIPS 203 §7.1).
const mlkemSeedSize = 64

type mlkemKey struct {
	spec   keystate.KeySpec
	scheme kem.Scheme
	seed   [mlkemSeedSize]byte
	pk     kem.PublicKey
	sk     kem.PrivateKey
}

func mlkemOID(spec keystate.KeySpec) asn1.ObjectIdentifier {
	switch spec {
	case keystate.MLKEM512:
		return oidMLKEM512
	case keystate.MLKEM768:
		return oidMLKEM768
	}
	return oidMLKEM1024
}

func mlkemScheme(spec keystate.KeySpec) kem.Scheme {
	switch spec {
	case keystate.MLKEM512:
		return mlkem512.Scheme()
	case keystate.MLKEM768:
		return mlkem768.Scheme()
	}
	return mlkem1024.Scheme()
}

func generateMLKEM(spec keystate.KeySpec, rand io.Reader) (keyImpl, error) {
	var seed [mlkemSeedSize]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, err
	}
	defer clear(seed[:])
	return newMLKEM(spec, &seed), nil
}

// newMLKEM derives the key pair of the seed (FIPS 203
// ML-KEM.KeyGen_internal(d, z)).
func newMLKEM(spec keystate.KeySpec, seed *[mlkemSeedSize]byte) *mlkemKey {
	k := &mlkemKey{spec: spec, scheme: mlkemScheme(spec), seed: *seed}
	k.pk, k.sk = k.scheme.DeriveKeyPair(k.seed[:])
	return k
}

// parseMLKEM reads the seed-only PKCS#8 form marshal writes.
func parseMLKEM(spec keystate.KeySpec, material []byte) (keyImpl, error) {
	s, err := parseSeedPKCS8(spec, material, mlkemOID(spec), mlkemSeedSize, "ML-KEM")
	if err != nil {
		return nil, err
	}
	var seed [mlkemSeedSize]byte
	copy(seed[:], s)
	clear(s)
	defer clear(seed[:])
	return newMLKEM(spec, &seed), nil
}

func (k *mlkemKey) marshal() []byte { return marshalSeedPKCS8(mlkemOID(k.spec), k.seed[:]) }

func (k *mlkemKey) publicKey() ([]byte, error) {
	pub, err := k.pk.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return rawSPKI(mlkemOID(k.spec), pub)
}

// signer is nil: an ML-KEM key cannot sign.
func (k *mlkemKey) signer() crypto.Signer { return nil }

func (k *mlkemKey) encapsulate(rand io.Reader) (secret, ciphertext []byte, err error) {
	seed := make([]byte, k.scheme.EncapsulationSeedSize())
	defer clear(seed)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, nil, err
	}
	ciphertext, secret, err = k.scheme.EncapsulateDeterministically(k.pk, seed)
	return secret, ciphertext, err
}

func (k *mlkemKey) decapsulate(ciphertext []byte) ([]byte, error) {
	if len(ciphertext) != k.scheme.CiphertextSize() {
		return nil, errInvalidCiphertext("the ciphertext is not the key spec's length")
	}
	return k.scheme.Decapsulate(k.sk, ciphertext)
}
