package keycrypto

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha512"
	"crypto/x509"
	"io"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// Ed25519 (spec §1.1, §2.2, §2.3): ECC_NIST_EDWARDS25519 signs with
//   - ED25519_SHA_512: pure Ed25519 (RFC 8032 §5.1, FIPS 186-5 §7.6) over
//     the message; RAW only.
//   - ED25519_PH_SHA_512: Ed25519ph (HashEdDSA, RFC 8032 §5.1 with
//     PH = SHA-512, empty context); DIGEST only, 64 bytes. As spec §2.2
//     reads the AWS docs, KMS still applies the SHA-512 prehash to the 64
//     bytes it is sent: the bytes are the HashEdDSA message M, and what is
//     signed is PH(M) = SHA-512(M). A caller who sends SHA-512(data) thus
//     gets data hashed twice, and an offline verifier must pass the 64 bytes
//     as the message of Ed25519ph.
//
// Signatures are 64 bytes, R ‖ S (spec §12.5 assumes that encoding).
// Everything is crypto/ed25519; the storage form is PKCS#8 (RFC 8410).

type ed25519Key struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

var ed25519phOptions = &ed25519.Options{Hash: crypto.SHA512}

func generateEd25519(rand io.Reader) (keyImpl, error) {
	seed := make([]byte, ed25519.SeedSize)
	defer clear(seed)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, err
	}
	return newEd25519(ed25519.NewKeyFromSeed(seed)), nil
}

func newEd25519(priv ed25519.PrivateKey) *ed25519Key {
	return &ed25519Key{priv: priv, pub: priv.Public().(ed25519.PublicKey)}
}

func parseEd25519(material []byte, imported bool) (keyImpl, error) {
	spec := keystate.ECCNISTEdwards25519
	der, err := importedDER(spec, material, imported)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errInvalidMaterial(spec, "not a valid PKCS#8 private key")
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, errInvalidMaterial(spec, "the PKCS#8 key is not an Ed25519 key")
	}
	return newEd25519(priv), nil
}

func (k *ed25519Key) marshal() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		panic("keycrypto: marshal Ed25519 key: " + err.Error())
	}
	return der
}

func (k *ed25519Key) publicKey() ([]byte, error) { return x509.MarshalPKIXPublicKey(k.pub) }

func (k *ed25519Key) signer() crypto.Signer { return k.priv }

// prepare checks the message type and returns what the primitive signs:
// the message itself (pure) or SHA-512 of the 64 bytes sent (ph).
func (k *ed25519Key) prepare(alg, messageType string, message []byte) ([]byte, error) {
	if alg == ED25519SHA512 {
		if messageType != MessageTypeRaw {
			return nil, errWrongMessageType(alg, messageType)
		}
		return message, nil
	}
	if messageType != MessageTypeDigest {
		return nil, errWrongMessageType(alg, messageType)
	}
	if len(message) != sha512.Size {
		return nil, errDigestLength(alg)
	}
	ph := sha512.Sum512(message)
	return ph[:], nil
}

func (k *ed25519Key) sign(alg, messageType string, message []byte) ([]byte, error) {
	m, err := k.prepare(alg, messageType, message)
	if err != nil {
		return nil, err
	}
	if alg == ED25519SHA512 {
		return ed25519.Sign(k.priv, m), nil
	}
	return k.priv.Sign(nil, m, ed25519phOptions)
}

func (k *ed25519Key) verify(alg, messageType string, message, signature []byte) error {
	m, err := k.prepare(alg, messageType, message)
	if err != nil {
		return err
	}
	ok := false
	if alg == ED25519SHA512 {
		ok = ed25519.Verify(k.pub, m, signature)
	} else {
		ok = ed25519.VerifyWithOptions(k.pub, m, signature, ed25519phOptions) == nil
	}
	if !ok {
		return errInvalidSignature("Ed25519 verification failed")
	}
	return nil
}
