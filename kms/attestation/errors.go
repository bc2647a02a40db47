package attestation

import "errors"

// Every error this package returns wraps exactly one of these sentinels;
// match them with errors.Is. The messages say what is wrong and never hold
// plaintext or private key bytes.
var (
	// ErrMalformed is returned when a document is not a COSE_Sign1 Nitro
	// attestation document: it is not CBOR, it is too large, a field is
	// missing or of the wrong type, or it names an unsupported algorithm (a
	// protected header alg other than ES384, a digest other than SHA384, a
	// leaf key not on P-384). Module.Attest returns it for claims it cannot
	// put into a document.
	ErrMalformed = errors.New("attestation: malformed attestation document")

	// ErrSignature is returned when a document's COSE_Sign1 signature does
	// not verify with its leaf certificate's key.
	ErrSignature = errors.New("attestation: attestation document signature does not verify")

	// ErrCertificate is returned when a document's certificate chain does
	// not reach one of the trusted roots, or a certificate on it is not
	// valid at the instant given.
	ErrCertificate = errors.New("attestation: attestation document certificate chain is not trusted")

	// ErrPublicKey is returned when a document has no public key, or its
	// public key is not an RSA key, and by Seal for a key it cannot encrypt
	// to.
	ErrPublicKey = errors.New("attestation: no usable RSA public key")

	// ErrEnvelope is returned by Open when its input is not a
	// CiphertextForRecipient envelope (CMS EnvelopedData with an
	// RSAES-OAEP-SHA-256 recipient and AES-256-CBC content), or when it does
	// not decrypt with the key given.
	ErrEnvelope = errors.New("attestation: envelope cannot be opened")
)
