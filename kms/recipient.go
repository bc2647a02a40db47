package kms

import (
	"cmp"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"slices"
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
}

// maxAttestedDocuments bounds recipientCache: past it, it starts afresh.
const maxAttestedDocuments = 1024

// recipientCache holds the documents that verified, by their SHA-256.
type recipientCache struct {
	mu    sync.Mutex
	m     map[[sha256.Size]byte]*attestedRecipient
	limit int // its bound; 0 is maxAttestedDocuments (a test sets another)
}

// checkRecipient checks the Recipient parameter r of op (nil for none)
// once the call's other input is valid (invalid, the input's error, is
// returned as it is, and then nothing is checked): its members (D3 step
// 1), and its document against the service's roots, for every instant at
// once. It returns the verified Recipient, or the ValidationException that
// refuses it. Verifying costs three ECDSA P-384 verifications (about 2
// ms), so the call does it before it takes the service's lock, and a
// document verified before costs a hash.
func (s *Service) checkRecipient(op keystate.Operation, r *RecipientInfo, invalid error) (*attestedRecipient, error) {
	if r == nil || invalid != nil {
		return nil, invalid
	}
	return s.verifyRecipient(op, r)
}

// verifyRecipient is checkRecipient for a Recipient.
func (s *Service) verifyRecipient(op keystate.Operation, r *RecipientInfo) (*attestedRecipient, error) {
	if op == keystate.GenerateDataKeyWithoutPlaintext || op == keystate.GenerateDataKeyPairWithoutPlaintext {
		// Their inputs are their twins' types; they have no Recipient.
		return nil, kmsError(keystate.ErrValidation, op, "", keystate.None,
			"Recipient is not a parameter of "+op.String()+": it returns no plaintext to encrypt for a recipient.")
	}
	if r.KeyEncryptionAlgorithm != "" {
		if err := checkEnum(op, r.KeyEncryptionAlgorithm, "recipient.keyEncryptionAlgorithm", keyEncryptionAlgorithms); err != nil {
			return nil, err
		}
	}
	switch n := len(r.AttestationDocument); {
	case n == 0:
		// D80: a Recipient needs its document (the API marks it
		// optional). AWS's wording for a null member (unquoted null).
		return nil, checkRequired(op, "", "recipient.attestationDocument", "")
	case n > attestation.MaxDocumentSize:
		return nil, validationError(op, "[blob]", "recipient.attestationDocument",
			"Member must have length less than or equal to "+strconv.Itoa(attestation.MaxDocumentSize))
	}
	sum := sha256.Sum256(r.AttestationDocument)
	c := &s.attested
	c.mu.Lock()
	a := c.m[sum]
	c.mu.Unlock()
	if a != nil {
		return a, nil
	}
	roots := s.cfg.attestationRoots
	if roots == nil {
		roots = awsNitroRoots()
	}
	doc, validity, err := attestation.VerifyChain(r.AttestationDocument, roots)
	if err != nil {
		return nil, kmsError(keystate.ErrValidation, op, "", keystate.None, attestationMessage(err))
	}
	pub, err := doc.RSAPublicKey()
	if err != nil {
		return nil, kmsError(keystate.ErrValidation, op, "", keystate.None,
			"The attestation document in the Recipient parameter has no RSA public key.")
	}
	a = &attestedRecipient{pub: pub, validity: validity}
	a.conds, a.trail = recipientKeys(doc)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= cmp.Or(c.limit, maxAttestedDocuments) {
		c.m = make(map[[sha256.Size]byte]*attestedRecipient)
	}
	c.m[sum] = a
	c.mu.Unlock()
	return a, nil
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
	// An enclave's PCRs, or an instance's NitroTPM PCRs; CloudTrail
	// records the PCRs AWS's examples show.
	pcrs, recorded := doc.PCRs, []int{1, 2, 3, 4, 8}
	cond, event := "kms:RecipientAttestation:PCR", "recipient.attestationDocumentEnclavePCR"
	if doc.NitroTPMPCRs != nil {
		pcrs, recorded = doc.NitroTPMPCRs, []int{4, 7, 8, 9, 16, 23}
		cond, event = "kms:RecipientAttestation:NitroTPMPCR", "recipient.attestationDocumentNitroTPMPCR"
	} else if pcr0, ok := doc.PCRs[0]; ok {
		conds = append(conds, "kms:RecipientAttestation:ImageSha384", hex.EncodeToString(pcr0))
		trail["recipient.attestationDocumentEnclaveImageDigest"] = conds[1]
	}
	for i := range attestation.MaxPCRs {
		if v, ok := pcrs[i]; ok {
			conds = append(conds, cond+strconv.Itoa(i), hex.EncodeToString(v))
			if slices.Contains(recorded, i) {
				trail[event+strconv.Itoa(i)] = conds[len(conds)-1]
			}
		}
	}
	return conds, trail
}

// certificateRefusal is the message of a document whose certificates do
// not chain to a trusted root at the call's instant.
const certificateRefusal = "The attestation document in the Recipient parameter is not valid: " +
	"its certificate does not chain to a trusted Nitro root at the time of the request."

// attest takes the call's verified Recipient (nil for none) at now (Unix
// µs): it refuses a document whose certificates are not all valid at now,
// and adds the document's condition keys
// (kms:RecipientAttestation:ImageSha384 and :PCR<n>) to the call, so that
// the key policy's and IAM's decisions see them. The caller holds s.mu,
// between begin and end.
func (s *Service) attest(op keystate.Operation, a *attestedRecipient, now int64) error {
	if a == nil {
		return nil
	}
	if !a.validity.Contains(fromMicros(now)) {
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
