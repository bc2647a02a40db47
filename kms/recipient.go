package kms

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// RecipientInfo is the Recipient parameter of Decrypt, GenerateDataKey,
// GenerateDataKeyPair, GenerateRandom and DeriveSharedSecret: a signed
// attestation document from an AWS Nitro enclave, whose public key the
// response's secret is then encrypted to (CiphertextForRecipient) instead
// of being returned in plaintext (D80).
type RecipientInfo struct {
	// AttestationDocument is the document the enclave's Nitro Secure
	// Module signed (1–262,144 bytes), carrying the enclave's RSA public
	// key. In tests, package attestation's Module makes such documents.
	AttestationDocument []byte
	// KeyEncryptionAlgorithm is RSAES_OAEP_SHA_256, the only value; ""
	// means the same.
	KeyEncryptionAlgorithm string
}

// keyEncryptionAlgorithms are RecipientInfo.KeyEncryptionAlgorithm's values.
var keyEncryptionAlgorithms = []string{"RSAES_OAEP_SHA_256"}

// maxAttestationDocument is the API's length limit of
// RecipientInfo.AttestationDocument.
const maxAttestationDocument = 262144

// WithAttestationRoots sets the certificates an attestation document in a
// Recipient parameter must chain to (D80). The default is the AWS Nitro
// Enclaves root (attestation.AWSNitroRoots), so only documents from real
// enclaves are accepted, as by AWS. A test that makes its documents with
// an attestation.Module gives the module's roots here (or a pool with
// both roots, to accept either).
func WithAttestationRoots(roots *x509.CertPool) Option {
	return func(c *config) { c.attestationRoots = roots }
}

// awsNitroRoots is attestation.AWSNitroRoots, made once: the default
// roots (a pool is safe for concurrent use).
var awsNitroRoots = sync.OnceValue(attestation.AWSNitroRoots)

// attestedRecipient is the Recipient of the call in progress, verified.
type attestedRecipient struct {
	pub *rsa.PublicKey
}

// validateRecipient checks a Recipient parameter's members (D3 step 1,
// with the call's other input): nil for none.
func validateRecipient(op keystate.Operation, r *RecipientInfo) error {
	if r == nil {
		return nil
	}
	if r.KeyEncryptionAlgorithm != "" {
		if err := checkEnum(op, r.KeyEncryptionAlgorithm, "recipient.keyEncryptionAlgorithm", keyEncryptionAlgorithms); err != nil {
			return err
		}
	}
	switch n := len(r.AttestationDocument); {
	case n == 0:
		// D80: a Recipient needs its document (the API marks it optional).
		// AWS's wording for a null member (unquoted null).
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			"1 validation error detected: Value null at 'recipient.attestationDocument' failed to satisfy constraint: Member must not be null")
	case n > maxAttestationDocument:
		return validationError(op, "[blob]", "recipient.attestationDocument",
			"Member must have length less than or equal to "+strconv.Itoa(maxAttestationDocument))
	}
	return nil
}

// attest verifies the call's Recipient at now (Unix µs) against the
// service's attestation roots, and adds the document's condition keys
// (kms:RecipientAttestation:ImageSha384 and :PCR<n>) to the call, so that
// the key policy's and IAM's decisions see them. r nil does nothing. The
// caller holds s.mu, between begin and end.
func (s *Service) attest(op keystate.Operation, r *RecipientInfo, now int64) error {
	if r == nil {
		return nil
	}
	roots := s.cfg.attestationRoots
	if roots == nil {
		roots = awsNitroRoots()
	}
	doc, err := attestation.Verify(r.AttestationDocument, roots, fromMicros(now))
	if err != nil {
		return kmsError(keystate.ErrValidation, op, "", keystate.None, attestationMessage(err))
	}
	pub, err := doc.RSAPublicKey()
	if err != nil {
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			"The attestation document in the Recipient parameter has no RSA public key.")
	}
	if pcr0, ok := doc.PCRs[0]; ok {
		s.condition("kms:RecipientAttestation:ImageSha384", hex.EncodeToString(pcr0))
	}
	for i := range 32 {
		if v, ok := doc.PCRs[i]; ok {
			s.condition("kms:RecipientAttestation:PCR"+strconv.Itoa(i), hex.EncodeToString(v))
		}
	}
	s.call.recipient = &attestedRecipient{pub: pub}
	return nil
}

// attestationMessage is the ValidationException message for a document
// that does not verify (D80: AWS's wording is not recorded).
func attestationMessage(err error) string {
	why := "it is malformed"
	switch {
	case errors.Is(err, attestation.ErrSignature):
		why = "its signature does not verify"
	case errors.Is(err, attestation.ErrCertificate):
		why = "its certificate does not chain to a trusted Nitro root at the time of the request"
	}
	return "The attestation document in the Recipient parameter is not valid: " + why + "."
}

// forRecipient encrypts secret to the call's verified Recipient
// (CiphertextForRecipient) and clears secret; with no Recipient it returns
// nil and leaves secret alone. The caller holds s.mu.
func (s *Service) forRecipient(op keystate.Operation, k *key, arn string, secret []byte) ([]byte, error) {
	r := s.call.recipient
	if r == nil {
		return nil, nil
	}
	ct, err := attestation.Seal(r.pub, secret, s.cfg.random)
	clear(secret)
	if err != nil {
		st := keystate.None
		if k != nil {
			st = k.state
		}
		return nil, &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: st, Err: err,
			Message: "The response could not be encrypted for the recipient."}
	}
	return ct, nil
}

// notAMember refuses a Recipient given to an operation that has none
// (GenerateDataKeyWithoutPlaintext, GenerateDataKeyPairWithoutPlaintext,
// whose inputs are their plaintext twins' types).
func notAMember(op keystate.Operation, r *RecipientInfo) error {
	if r == nil {
		return nil
	}
	return kmsError(keystate.ErrValidation, op, "", keystate.None,
		"Recipient is not a parameter of "+op.String()+": it returns no plaintext to encrypt for a recipient.")
}
