package attestation

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// MaxDocumentSize is the largest attestation document Parse and Verify
// accept, in bytes: the length limit of the AttestationDocument member of
// KMS's Recipient parameter.
const MaxDocumentSize = 262144

// MaxPCRs is the number of platform configuration registers a Nitro Secure
// Module has; a document's PCR indexes are below it.
const MaxPCRs = 32

// DigestSHA384 is the only Digest of a Nitro attestation document.
const DigestSHA384 = "SHA384"

// coseAlgES384 is the COSE algorithm identifier of ECDSA with SHA-384
// (RFC 8152 §8.1), the only algorithm a Nitro Secure Module signs with.
const coseAlgES384 = -35

// coseHeaderAlg is the COSE header label of the algorithm (RFC 8152 §3.1).
const coseHeaderAlg = 1

// p384Size is the byte length of a P-384 scalar, and so of r and of s in a
// COSE ES384 signature (r||s, RFC 8152 §8.1).
const p384Size = 48

// Document is the payload of a Nitro attestation document, as a Nitro
// Secure Module signs it.
type Document struct {
	// ModuleID identifies the enclave's Nitro Secure Module, e.g.
	// "i-0bbf1bfe232b8c2ce-enc0191fc27458c1d41".
	ModuleID string
	// Digest is the digest function of the PCRs: always "SHA384".
	Digest string
	// Timestamp is when the document was made, from the document's
	// milliseconds since the Unix epoch, in UTC.
	Timestamp time.Time
	// PCRs maps a platform configuration register's index (0 to 31) to
	// its value (32, 48 or 64 bytes). PCR0 is the enclave image's
	// measurement (KMS's condition key kms:RecipientAttestation:ImageSha384).
	PCRs map[int][]byte
	// NitroTPMPCRs is a NitroTPM document's PCRs (its nitrotpm_pcrs), by
	// index as PCRs; a document has one of the two, and NitroTPMPCRs
	// non-nil marks a NitroTPM document (an EC2 instance's Nitro TPM, not
	// an enclave's Nitro Secure Module). KMS's condition keys for them
	// are kms:RecipientAttestation:NitroTPMPCR<n>.
	NitroTPMPCRs map[int][]byte
	// Certificate is the signing (leaf) certificate, whose P-384 key
	// signed the document.
	Certificate *x509.Certificate
	// CABundle is the chain of issuers of Certificate, root first, as in
	// the document.
	CABundle []*x509.Certificate
	// PublicKey is the enclave's public key as in the document (usually a
	// DER SubjectPublicKeyInfo), nil when absent or null.
	PublicKey []byte
	// UserData is the enclave's user data, nil when absent or null.
	UserData []byte
	// Nonce is the enclave's nonce, nil when absent or null.
	Nonce []byte
}

// message is a COSE_Sign1 message's parts that its signature covers, as
// they are in the document.
type message struct {
	protected []byte
	payload   []byte
	signature []byte
}

// Parse decodes a document's structure (the COSE_Sign1 message and its
// payload) without checking its signature or its certificate chain: what
// it returns is not to be trusted. A document may be tagged as COSE_Sign1
// (CBOR tag 18) or not.
//
// Parse returns an error wrapping ErrMalformed when doc is not a Nitro
// attestation document (see the package documentation), names an
// algorithm other than ES384, a digest other than SHA384, or has a leaf
// certificate whose key is not an ECDSA P-384 key.
func Parse(doc []byte) (*Document, error) {
	d, _, err := parse(doc)
	return d, err
}

// Verify parses doc, checks its COSE_Sign1 signature (ES384) with the leaf
// certificate's key, and checks that the leaf certificate chains through
// the document's CABundle to one of roots, every certificate on the chain
// being valid at now. It returns the document.
//
// Verify returns an error wrapping ErrMalformed for what Parse rejects,
// ErrSignature when the signature does not verify, and ErrCertificate when
// the chain does not reach roots at now (roots nil or now zero trust
// nothing; the host's roots and clock are never used).
func Verify(doc []byte, roots *x509.CertPool, now time.Time) (*Document, error) {
	d, err := verifySignature(doc)
	if err != nil {
		return nil, err
	}
	if err := checkRoots(roots); err != nil {
		return nil, err
	}
	if now.IsZero() {
		// crypto/x509 would read the host's clock.
		return nil, fmt.Errorf("%w: no verification time was given", ErrCertificate)
	}
	if _, err := verifyChainAt(d, roots, now); err != nil {
		return nil, err
	}
	return d, nil
}

// Validity is a span of time, both ends included, as crypto/x509 counts
// a certificate's validity.
type Validity struct {
	NotBefore, NotAfter time.Time
}

// Contains reports whether t is within v.
func (v Validity) Contains(t time.Time) bool { return !t.Before(v.NotBefore) && !t.After(v.NotAfter) }

// VerifyChain is Verify for every instant at once: it checks doc's
// signature, and that its certificates chain to one of roots at an instant
// when all of them are valid, and returns the document and the Validity
// of that chain, the span in which all its certificates are valid. For a
// document whose certificates form one chain (a Nitro Secure Module's
// do), Verify(doc, roots, now) succeeds exactly when VerifyChain does and
// its Validity contains now; so a program that checks one document at many
// instants verifies it once and keeps the Validity.
//
// VerifyChain returns Verify's errors, ErrCertificate when no instant
// suits every certificate.
func VerifyChain(doc []byte, roots *x509.CertPool) (*Document, Validity, error) {
	d, err := verifySignature(doc)
	if err != nil {
		return nil, Validity{}, err
	}
	if err := checkRoots(roots); err != nil {
		return nil, Validity{}, err
	}
	chain, err := verifyChainAt(d, roots, chainStart(d))
	if err != nil {
		return nil, Validity{}, err
	}
	v := Validity{NotBefore: chain[0].NotBefore, NotAfter: chain[0].NotAfter}
	for _, c := range chain[1:] {
		if c.NotBefore.After(v.NotBefore) {
			v.NotBefore = c.NotBefore
		}
		if c.NotAfter.Before(v.NotAfter) {
			v.NotAfter = c.NotAfter
		}
	}
	return d, v, nil
}

// chainStart is the latest NotBefore among the certificates on the path
// from d's leaf up through its CA bundle, following issuer names (the
// certificates its chain uses, whatever else the bundle holds): the chain,
// if it is valid at all, is valid then.
func chainStart(d *Document) time.Time {
	at := d.Certificate.NotBefore
	cur := d.Certificate
	for range d.CABundle {
		var next *x509.Certificate
		for _, c := range d.CABundle {
			if c != cur && bytes.Equal(c.RawSubject, cur.RawIssuer) {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		if next.NotBefore.After(at) {
			at = next.NotBefore
		}
		if bytes.Equal(next.RawSubject, next.RawIssuer) {
			break // a self-signed root
		}
		cur = next
	}
	return at
}

// verifySignature parses doc and checks its COSE_Sign1 signature with the
// leaf certificate's key.
func verifySignature(doc []byte) (*Document, error) {
	d, msg, err := parse(doc)
	if err != nil {
		return nil, err
	}
	pub := d.Certificate.PublicKey.(*ecdsa.PublicKey) // checked by parse
	if !verifyES384(pub, sigStructure(msg.protected, msg.payload), msg.signature) {
		return nil, fmt.Errorf("%w: the COSE_Sign1 signature does not verify with the leaf certificate's key", ErrSignature)
	}
	return d, nil
}

// checkRoots refuses nil roots, which would make crypto/x509 use the
// host's roots.
func checkRoots(roots *x509.CertPool) error {
	if roots == nil {
		return fmt.Errorf("%w: no trusted roots were given", ErrCertificate)
	}
	return nil
}

// verifyChainAt checks that d's leaf chains through its CA bundle to one
// of roots, every certificate valid at now, and returns the chain, leaf
// first.
func verifyChainAt(d *Document, roots *x509.CertPool, now time.Time) ([]*x509.Certificate, error) {
	intermediates := x509.NewCertPool()
	for _, c := range d.CABundle[1:] {
		intermediates.AddCert(c)
	}
	chains, err := d.Certificate.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   now,
		// Nitro certificates carry no extended key usage.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCertificate, err)
	}
	return chains[0], nil
}

// verifyES384 reports whether sig (r||s) is pub's ECDSA signature of the
// SHA-384 digest of msg.
func verifyES384(pub *ecdsa.PublicKey, msg, sig []byte) bool {
	if len(sig) != 2*p384Size {
		return false
	}
	digest := sha512.Sum384(msg)
	r := new(big.Int).SetBytes(sig[:p384Size])
	s := new(big.Int).SetBytes(sig[p384Size:])
	return ecdsa.Verify(pub, digest[:], r, s)
}

// RSAPublicKey returns the document's public key as an RSA key. The key
// is a DER SubjectPublicKeyInfo, as the AWS Nitro Enclaves SDKs send it,
// or a DER PKCS #1 RSAPublicKey.
//
// RSAPublicKey returns an error wrapping ErrPublicKey when the document
// has no public key, or when it is not an RSA key Go can encrypt to (at
// least 1024 bits).
func (d *Document) RSAPublicKey() (*rsa.PublicKey, error) {
	if len(d.PublicKey) == 0 {
		return nil, fmt.Errorf("%w: the attestation document has no public key", ErrPublicKey)
	}
	var pub *rsa.PublicKey
	if k, err := x509.ParsePKIXPublicKey(d.PublicKey); err == nil {
		r, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: the attestation document's public key is a %T, not an RSA key", ErrPublicKey, k)
		}
		pub = r
	} else if r, err := x509.ParsePKCS1PublicKey(d.PublicKey); err == nil {
		pub = r
	} else {
		return nil, fmt.Errorf("%w: the attestation document's public key is neither a DER SubjectPublicKeyInfo nor a PKCS #1 RSA key", ErrPublicKey)
	}
	if err := checkRSAKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// minRSABits is the smallest RSA modulus crypto/rsa encrypts to.
const minRSABits = 1024

// checkRSAKey returns an error wrapping ErrPublicKey when pub cannot be
// encrypted to.
func checkRSAKey(pub *rsa.PublicKey) error {
	if pub == nil || pub.N == nil {
		return fmt.Errorf("%w: no RSA public key", ErrPublicKey)
	}
	if n := pub.N.BitLen(); n < minRSABits {
		return fmt.Errorf("%w: the RSA key has %d bits, fewer than %d", ErrPublicKey, n, minRSABits)
	}
	if pub.E < 3 || pub.E%2 == 0 {
		return fmt.Errorf("%w: the RSA key's public exponent is not valid", ErrPublicKey)
	}
	return nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// parse decodes doc into its payload and the parts its signature covers.
func parse(doc []byte) (*Document, *message, error) {
	msg, err := parseCOSE(doc)
	if err != nil {
		return nil, nil, err
	}
	d, err := parsePayload(msg.payload)
	if err != nil {
		return nil, nil, err
	}
	return d, msg, nil
}

// parseCOSE decodes a COSE_Sign1 message signed with ES384.
func parseCOSE(doc []byte) (*message, error) {
	switch {
	case len(doc) == 0:
		return nil, malformed("the document is empty")
	case len(doc) > MaxDocumentSize:
		return nil, malformed("the document has %d bytes, more than %d", len(doc), MaxDocumentSize)
	}
	body := doc
	if majorType(doc) == majorTag {
		var t cbor.RawTag
		if err := tagMode.Unmarshal(doc, &t); err != nil {
			return nil, malformed("the document is not well-formed CBOR: %v", err)
		}
		if t.Number != coseSign1Tag {
			return nil, malformed("the document has CBOR tag %d, not COSE_Sign1's (18)", t.Number)
		}
		body = t.Content
	}
	if majorType(body) != majorArray {
		return nil, malformed("the document is not a COSE_Sign1 array")
	}
	var items []cbor.RawMessage
	if err := decMode.Unmarshal(body, &items); err != nil {
		return nil, malformed("the document is not well-formed CBOR: %v", err)
	}
	if len(items) != 4 {
		return nil, malformed("the COSE_Sign1 array has %d elements, not 4", len(items))
	}
	var msg message
	var err error
	if msg.protected, err = decodeBytes(items[0], "the COSE protected header"); err != nil {
		return nil, err
	}
	if majorType(items[1]) != majorMap {
		return nil, malformed("the COSE unprotected header is not a map")
	}
	if msg.payload, err = decodeBytes(items[2], "the COSE payload"); err != nil {
		return nil, err
	}
	if msg.signature, err = decodeBytes(items[3], "the COSE signature"); err != nil {
		return nil, err
	}
	if len(msg.signature) != 2*p384Size {
		return nil, malformed("the COSE signature has %d bytes, not %d (ES384 r||s)", len(msg.signature), 2*p384Size)
	}
	if err := checkProtected(msg.protected); err != nil {
		return nil, err
	}
	return &msg, nil
}

// checkProtected checks that a protected header names ES384.
func checkProtected(protected []byte) error {
	if majorType(protected) != majorMap {
		return malformed("the COSE protected header is not a map")
	}
	var h map[int64]cbor.RawMessage
	if err := decMode.Unmarshal(protected, &h); err != nil {
		return malformed("the COSE protected header does not decode: %v", err)
	}
	raw, ok := h[coseHeaderAlg]
	if !ok {
		return malformed("the COSE protected header has no alg")
	}
	var alg int64
	if err := decMode.Unmarshal(raw, &alg); err != nil {
		return malformed("the COSE protected header's alg is not an integer")
	}
	if alg != coseAlgES384 {
		return malformed("the COSE alg is %d, not ES384 (-35)", alg)
	}
	return nil
}

// decodeBytes decodes a CBOR byte string.
func decodeBytes(raw cbor.RawMessage, what string) ([]byte, error) {
	if majorType(raw) != majorBytes {
		return nil, malformed("%s is not a byte string", what)
	}
	var b []byte
	if err := decMode.Unmarshal(raw, &b); err != nil {
		return nil, malformed("%s does not decode: %v", what, err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// decodeText decodes a CBOR text string.
func decodeText(raw cbor.RawMessage, what string) (string, error) {
	if majorType(raw) != majorText {
		return "", malformed("%s is not a text string", what)
	}
	var s string
	if err := decMode.Unmarshal(raw, &s); err != nil {
		return "", malformed("%s does not decode: %v", what, err)
	}
	return s, nil
}

// payload is a decoded payload map.
type payload map[string]cbor.RawMessage

// required returns the field name, or an error when it is absent.
func (p payload) required(name string) (cbor.RawMessage, error) {
	raw, ok := p[name]
	if !ok {
		return nil, malformed("the payload has no %s", name)
	}
	return raw, nil
}

// optionalBytes returns the byte string name, nil when absent or null.
func (p payload) optionalBytes(name string) ([]byte, error) {
	raw, ok := p[name]
	if !ok || (len(raw) == 1 && raw[0] == cborNull) {
		return nil, nil
	}
	return decodeBytes(raw, name)
}

// parsePayload decodes a Nitro attestation document's payload.
func parsePayload(b []byte) (*Document, error) {
	if majorType(b) != majorMap {
		return nil, malformed("the COSE payload is not a map")
	}
	var p payload
	if err := decMode.Unmarshal(b, &p); err != nil {
		return nil, malformed("the payload does not decode: %v", err)
	}
	var d Document
	raw, err := p.required("module_id")
	if err != nil {
		return nil, err
	}
	if d.ModuleID, err = decodeText(raw, "module_id"); err != nil {
		return nil, err
	}
	if d.ModuleID == "" {
		return nil, malformed("module_id is empty")
	}
	if raw, err = p.required("digest"); err != nil {
		return nil, err
	}
	if d.Digest, err = decodeText(raw, "digest"); err != nil {
		return nil, err
	}
	if d.Digest != DigestSHA384 {
		return nil, malformed("digest is %q, not %q", d.Digest, DigestSHA384)
	}
	if raw, err = p.required("timestamp"); err != nil {
		return nil, err
	}
	if d.Timestamp, err = decodeTimestamp(raw); err != nil {
		return nil, err
	}
	// An enclave's document has pcrs, a NitroTPM document nitrotpm_pcrs
	// (AWS's "Validate a NitroTPM attestation document").
	rawPCRs, enclave := p["pcrs"]
	rawTPM, tpm := p["nitrotpm_pcrs"]
	switch {
	case enclave && tpm:
		return nil, malformed("the payload has both pcrs and nitrotpm_pcrs")
	case enclave:
		if d.PCRs, err = decodePCRs(rawPCRs, "pcrs"); err != nil {
			return nil, err
		}
	case tpm:
		if d.NitroTPMPCRs, err = decodePCRs(rawTPM, "nitrotpm_pcrs"); err != nil {
			return nil, err
		}
	default:
		return nil, malformed("the payload has no pcrs (nor nitrotpm_pcrs)")
	}
	if raw, err = p.required("certificate"); err != nil {
		return nil, err
	}
	if d.Certificate, err = decodeCertificate(raw, "certificate"); err != nil {
		return nil, err
	}
	if pub, ok := d.Certificate.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P384() {
		return nil, malformed("the leaf certificate's key is not an ECDSA P-384 key")
	}
	if raw, err = p.required("cabundle"); err != nil {
		return nil, err
	}
	if d.CABundle, err = decodeCABundle(raw); err != nil {
		return nil, err
	}
	if d.PublicKey, err = p.optionalBytes("public_key"); err != nil {
		return nil, err
	}
	if d.UserData, err = p.optionalBytes("user_data"); err != nil {
		return nil, err
	}
	if d.Nonce, err = p.optionalBytes("nonce"); err != nil {
		return nil, err
	}
	if err := checkSizes(d.PublicKey, d.UserData, d.Nonce); err != nil {
		return nil, err
	}
	return &d, nil
}

// checkSizes refuses a public key, user data or nonce outside the Nitro
// Secure Module's limits, so that no document a Module makes or Parse
// reads carries more: AWS's attestation document specification
// (aws-nitro-enclaves-nsm-api, docs/attestation_process.md §3.2.2.2)
// bounds public_key to 1 to 1,024 bytes, user_data and nonce to 0 to 512.
// A nil publicKey is an absent one.
func checkSizes(publicKey, userData, nonce []byte) error {
	switch {
	case publicKey != nil && len(publicKey) == 0:
		return malformed("public_key is empty")
	case len(publicKey) > MaxPublicKey:
		return malformed("public_key has %d bytes, more than %d", len(publicKey), MaxPublicKey)
	case len(userData) > MaxUserData:
		return malformed("user_data has %d bytes, more than %d", len(userData), MaxUserData)
	case len(nonce) > MaxNonce:
		return malformed("nonce has %d bytes, more than %d", len(nonce), MaxNonce)
	}
	return nil
}

func decodeTimestamp(raw cbor.RawMessage) (time.Time, error) {
	if majorType(raw) != majorUint {
		return time.Time{}, malformed("timestamp is not an unsigned integer")
	}
	var ms uint64
	if err := decMode.Unmarshal(raw, &ms); err != nil {
		return time.Time{}, malformed("timestamp does not decode: %v", err)
	}
	// AWS's specification (§3.2.2.2): "Timestamp must be greater than 0".
	if ms == 0 || ms > math.MaxInt64 {
		return time.Time{}, malformed("timestamp %d is out of range", ms)
	}
	return time.UnixMilli(int64(ms)).UTC(), nil
}

func decodePCRs(raw cbor.RawMessage, name string) (map[int][]byte, error) {
	if majorType(raw) != majorMap {
		return nil, malformed("%s is not a map", name)
	}
	var m map[uint64]cbor.RawMessage
	if err := decMode.Unmarshal(raw, &m); err != nil {
		return nil, malformed("%s does not decode (its keys must be unsigned integers): %v", name, err)
	}
	if len(m) == 0 {
		return nil, malformed("%s is empty", name)
	}
	pcrs := make(map[int][]byte, len(m))
	for i, v := range m {
		if i >= MaxPCRs {
			return nil, malformed("%s has index %d, not below %d", name, i, MaxPCRs)
		}
		b, err := decodeBytes(v, fmt.Sprintf("PCR%d", i))
		if err != nil {
			return nil, err
		}
		if err := checkPCRLength(int(i), b); err != nil {
			return nil, err
		}
		pcrs[int(i)] = b
	}
	return pcrs, nil
}

// checkPCRLength checks that a PCR value has a SHA-256, SHA-384 or SHA-512
// digest's length.
func checkPCRLength(i int, v []byte) error {
	switch len(v) {
	case 32, 48, 64:
		return nil
	}
	return malformed("PCR%d has %d bytes, not 32, 48 or 64", i, len(v))
}

func decodeCertificate(raw cbor.RawMessage, what string) (*x509.Certificate, error) {
	der, err := decodeBytes(raw, what)
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, malformed("%s is not a DER X.509 certificate: %v", what, err)
	}
	return c, nil
}

func decodeCABundle(raw cbor.RawMessage) ([]*x509.Certificate, error) {
	if majorType(raw) != majorArray {
		return nil, malformed("cabundle is not an array")
	}
	var items []cbor.RawMessage
	if err := decMode.Unmarshal(raw, &items); err != nil {
		return nil, malformed("cabundle does not decode: %v", err)
	}
	if len(items) == 0 {
		return nil, malformed("cabundle is empty")
	}
	certs := make([]*x509.Certificate, len(items))
	for i, item := range items {
		c, err := decodeCertificate(item, fmt.Sprintf("cabundle[%d]", i))
		if err != nil {
			return nil, err
		}
		// AWS's attestation document specification (§3.2.2.2): each
		// cabundle entry has 1 to 1,024 bytes.
		if len(c.Raw) > maxCABundleEntry {
			return nil, malformed("cabundle[%d] has %d bytes, more than %d", i, len(c.Raw), maxCABundleEntry)
		}
		certs[i] = c
	}
	return certs, nil
}

// maxCABundleEntry is the largest certificate a document's cabundle
// holds, in bytes.
const maxCABundleEntry = 1024
