package kms

import (
	"crypto/rsa"
	"crypto/sha256"
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

// attestedRecipient is a Recipient's document, verified but for the
// instant of the call.
type attestedRecipient struct {
	pub      *rsa.PublicKey
	validity attestation.Validity // when its certificates are all valid
	conds    []string             // its condition keys and values, in pairs
	trail    map[string]string    // Event.AdditionalEventData
	refusal  string               // not "": the document is refused so (ValidationException)
}

// recipientCache holds the documents that verified, by their SHA-256.
type recipientCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]*attestedRecipient
}

// maxAttestedDocuments bounds recipientCache: past it, it starts afresh
// (a variable for tests).
var maxAttestedDocuments = 1024

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
		// D80: a Recipient needs its document (the API marks it
		// optional). AWS's wording for a null member (unquoted null).
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			"1 validation error detected: Value null at 'recipient.attestationDocument' failed to satisfy constraint: Member must not be null")
	case n > maxAttestationDocument:
		return validationError(op, "[blob]", "recipient.attestationDocument",
			"Member must have length less than or equal to "+strconv.Itoa(maxAttestationDocument))
	}
	return nil
}

// checkRecipient verifies the document of a valid Recipient (invalid is
// the call's input error, after which nothing is verified) against the
// service's roots, for every instant at once: it costs three ECDSA P-384
// verifications (about 2 ms), so the call does it before it takes the
// service's lock, and a document verified before costs a hash. nil for no
// Recipient.
func (s *Service) checkRecipient(r *RecipientInfo, invalid error) *attestedRecipient {
	if r == nil || invalid != nil {
		return nil
	}
	sum := sha256.Sum256(r.AttestationDocument)
	c := &s.attested
	c.mu.Lock()
	a := c.m[sum]
	c.mu.Unlock()
	if a != nil {
		return a
	}
	roots := s.cfg.attestationRoots
	if roots == nil {
		roots = awsNitroRoots()
	}
	doc, validity, err := attestation.VerifyChain(r.AttestationDocument, roots)
	if err != nil {
		return &attestedRecipient{refusal: attestationMessage(err)}
	}
	pub, err := doc.RSAPublicKey()
	if err != nil {
		return &attestedRecipient{refusal: "The attestation document in the Recipient parameter has no RSA public key."}
	}
	a = &attestedRecipient{pub: pub, validity: validity}
	a.conds, a.trail = recipientKeys(doc)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxAttestedDocuments {
		c.m = make(map[[sha256.Size]byte]*attestedRecipient)
	}
	c.m[sum] = a
	c.mu.Unlock()
	return a
}

// recipientKeys returns a verified document's condition keys (in pairs of
// key and value) and its CloudTrail additionalEventData.recipient (the KMS
// Developer Guide's "Monitoring requests for Nitro enclaves" and "… for
// NitroTPM"), PCRs in lower-case hex. An enclave's document gives
// kms:RecipientAttestation:ImageSha384 (PCR0) and :PCR<n>, and records its
// image digest and PCRs 1–4 and 8; a NitroTPM document gives
// kms:RecipientAttestation:NitroTPMPCR<n> and records PCRs 4, 7, 8, 9, 16
// and 23 (the PCRs each page's example shows).
func recipientKeys(doc *attestation.Document) ([]string, map[string]string) {
	var conds []string
	trail := map[string]string{"recipient.attestationDocumentModuleId": doc.ModuleID}
	if doc.NitroTPMPCRs != nil {
		for i := range attestation.MaxPCRs {
			if v, ok := doc.NitroTPMPCRs[i]; ok {
				conds = append(conds, "kms:RecipientAttestation:NitroTPMPCR"+strconv.Itoa(i), hex.EncodeToString(v))
			}
		}
		for _, i := range []int{4, 7, 8, 9, 16, 23} {
			if v, ok := doc.NitroTPMPCRs[i]; ok {
				trail["recipient.attestationDocumentNitroTPMPCR"+strconv.Itoa(i)] = hex.EncodeToString(v)
			}
		}
		return conds, trail
	}
	if pcr0, ok := doc.PCRs[0]; ok {
		conds = append(conds, "kms:RecipientAttestation:ImageSha384", hex.EncodeToString(pcr0))
		trail["recipient.attestationDocumentEnclaveImageDigest"] = hex.EncodeToString(pcr0)
	}
	for i := range attestation.MaxPCRs {
		if v, ok := doc.PCRs[i]; ok {
			conds = append(conds, "kms:RecipientAttestation:PCR"+strconv.Itoa(i), hex.EncodeToString(v))
		}
	}
	for _, i := range []int{1, 2, 3, 4, 8} {
		if v, ok := doc.PCRs[i]; ok {
			trail["recipient.attestationDocumentEnclavePCR"+strconv.Itoa(i)] = hex.EncodeToString(v)
		}
	}
	return conds, trail
}

// certificateRefusal is the message of a document whose certificates do
// not chain to a trusted root at the call's instant.
const certificateRefusal = "The attestation document in the Recipient parameter is not valid: " +
	"its certificate does not chain to a trusted Nitro root at the time of the request."

// attest takes the call's checked Recipient (nil for none) at now (Unix
// µs): it refuses a document that did not verify or whose certificates
// are not all valid at now, and adds the document's condition keys
// (kms:RecipientAttestation:ImageSha384 and :PCR<n>) to the call, so that
// the key policy's and IAM's decisions see them. The caller holds s.mu,
// between begin and end.
func (s *Service) attest(op keystate.Operation, a *attestedRecipient, now int64) error {
	switch {
	case a == nil:
		return nil
	case a.refusal != "":
		return kmsError(keystate.ErrValidation, op, "", keystate.None, a.refusal)
	case !a.validity.Contains(fromMicros(now)):
		return kmsError(keystate.ErrValidation, op, "", keystate.None, certificateRefusal)
	}
	for i := 0; i+1 < len(a.conds); i += 2 {
		s.condition(a.conds[i], a.conds[i+1])
	}
	s.call.recipient = a
	return nil
}

// attestationMessage is the ValidationException message for a document
// that does not verify (D80: AWS's wording is not recorded).
func attestationMessage(err error) string {
	switch {
	case errors.Is(err, attestation.ErrSignature):
		return "The attestation document in the Recipient parameter is not valid: its signature does not verify."
	case errors.Is(err, attestation.ErrCertificate):
		return certificateRefusal
	}
	return "The attestation document in the Recipient parameter is not valid: it is malformed."
}

// forRecipient encrypts *secret to the call's verified Recipient
// (CiphertextForRecipient), then clears it and sets it to nil, so that the
// response carries no plaintext; with no Recipient it returns nil and
// leaves *secret alone. The caller holds s.mu.
func (s *Service) forRecipient(op keystate.Operation, k *key, arn string, secret *[]byte) ([]byte, error) {
	r := s.call.recipient
	if r == nil {
		return nil, nil
	}
	ct, err := attestation.Seal(r.pub, *secret, s.cfg.random)
	clear(*secret)
	*secret = nil
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

// validateRecipientOf is validateRecipient for an operation that shares
// its input type with its twin: one without plaintext output
// (GenerateDataKeyWithoutPlaintext, GenerateDataKeyPairWithoutPlaintext;
// member false) has no Recipient and refuses one.
func validateRecipientOf(op keystate.Operation, r *RecipientInfo, member bool) error {
	if r == nil || member {
		return validateRecipient(op, r)
	}
	return kmsError(keystate.ErrValidation, op, "", keystate.None,
		"Recipient is not a parameter of "+op.String()+": it returns no plaintext to encrypt for a recipient.")
}
