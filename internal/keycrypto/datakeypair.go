package keycrypto

import (
	"io"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// GenerateDataKeyPair makes a fresh key pair of keyPairSpec (spec §5:
// RSA_2048/3072/4096, ECC_NIST_P256/P384/P521, ECC_SECG_P256K1,
// ECC_NIST_EDWARDS25519, SM2, ML_KEM_512/768/1024), reading randomness
// from rand as Generate does, and returns the private key as DER PKCS#8
// (for ML-KEM the seed form, see mlkem.go) and the public key as DER
// SubjectPublicKeyInfo. The caller encrypts and then clears the private
// key bytes.
//
// Every other string returns an error wrapping ErrUnsupportedSpec.
func GenerateDataKeyPair(keyPairSpec string, rand io.Reader) (privateKeyPKCS8, publicKeySPKI []byte, err error) {
	spec, ok := keystate.ParseKeySpec(keyPairSpec)
	if !ok || spec.IsHMAC() || spec.IsSymmetric() || spec.IsMLDSA() {
		return nil, nil, errUnsupportedSpec(keyPairSpec)
	}
	k, err := Generate(spec, rand)
	if err != nil {
		return nil, nil, err
	}
	pub, err := k.PublicKey()
	if err != nil {
		return nil, nil, err
	}
	return k.Marshal(), pub, nil
}
