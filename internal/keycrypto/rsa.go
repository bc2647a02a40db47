package keycrypto

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"hash"
	"io"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// RSA (spec §1.1, §2.3, §4): RSA_2048/3072/4096 sign with RSASSA_PSS_SHA_*
// (salt length = hash length, MGF1 with the same hash) and
// RSASSA_PKCS1_V1_5_SHA_*, and encrypt with RSAES_OAEP_SHA_1/256 (MGF1 with
// the same hash, empty label). Everything is crypto/rsa.
//
// Key generation is not deterministic: crypto/rsa ignores the reader since
// Go 1.26 and offers no from-seed constructor.

type rsaKey struct {
	priv *rsa.PrivateKey
}

// pssOptions fixes the salt length to the hash length for signing and for
// verifying (spec §2.3: AWS uses and expects 32/48/64-byte salts).
var pssOptions = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}

func generateRSA(spec keystate.KeySpec, r io.Reader) (keyImpl, error) {
	priv, err := rsa.GenerateKey(r, rsaBits(spec))
	if err != nil {
		return nil, err
	}
	return &rsaKey{priv: priv}, nil
}

// parseRSA reads PKCS#8 (BER or DER when imported) holding an RSA key with
// exactly two primes and the spec's modulus size (spec §9.1).
func parseRSA(spec keystate.KeySpec, material []byte, imported bool) (keyImpl, error) {
	der, err := importedDER(spec, material, imported)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errInvalidMaterial(spec, "not a valid PKCS#8 private key")
	}
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, errInvalidMaterial(spec, "the PKCS#8 key is not an RSA key")
	}
	if len(priv.Primes) != 2 {
		return nil, errInvalidMaterial(spec, "the RSA key has %d primes; exactly 2 are required", len(priv.Primes))
	}
	if bits := priv.N.BitLen(); bits != rsaBits(spec) {
		return nil, errInvalidMaterial(spec, "the RSA modulus is %d bits, not %d", bits, rsaBits(spec))
	}
	priv.Precompute()
	return &rsaKey{priv: priv}, nil
}

func (k *rsaKey) marshal() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		panic("keycrypto: marshal RSA key: " + err.Error()) // a parsed or generated key always marshals
	}
	return der
}

func (k *rsaKey) publicKey() ([]byte, error) { return x509.MarshalPKIXPublicKey(&k.priv.PublicKey) }

func (k *rsaKey) signer() crypto.Signer { return k.priv }

func isPSS(alg string) bool {
	return alg == RSASSAPSSSHA256 || alg == RSASSAPSSSHA384 || alg == RSASSAPSSSHA512
}

func (k *rsaKey) sign(alg, messageType string, message []byte) ([]byte, error) {
	digest, err := shaDigest(alg, messageType, message)
	if err != nil {
		return nil, err
	}
	if isPSS(alg) {
		return rsa.SignPSS(rand.Reader, k.priv, shaHash(alg), digest, pssOptions)
	}
	return rsa.SignPKCS1v15(nil, k.priv, shaHash(alg), digest)
}

func (k *rsaKey) verify(alg, messageType string, message, signature []byte) error {
	digest, err := shaDigest(alg, messageType, message)
	if err != nil {
		return err
	}
	if isPSS(alg) {
		err = rsa.VerifyPSS(&k.priv.PublicKey, shaHash(alg), digest, signature, pssOptions)
	} else {
		err = rsa.VerifyPKCS1v15(&k.priv.PublicKey, shaHash(alg), digest, signature)
	}
	if err != nil {
		return errInvalidSignature("RSA verification failed")
	}
	return nil
}

func oaepHash(alg string) hash.Hash {
	if alg == RSAESOAEPSHA1 {
		return sha1.New()
	}
	return sha256.New()
}

func (k *rsaKey) encrypt(alg string, plaintext []byte) ([]byte, error) {
	// MaxPlaintext has been checked, so OAEP cannot fail for length.
	return rsa.EncryptOAEP(oaepHash(alg), rand.Reader, &k.priv.PublicKey, plaintext, nil)
}

func (k *rsaKey) decrypt(alg string, ciphertext []byte) ([]byte, error) {
	pt, err := rsa.DecryptOAEP(oaepHash(alg), nil, k.priv, ciphertext, nil)
	if err != nil {
		return nil, errInvalidCiphertext("OAEP decryption failed")
	}
	return pt, nil
}
