package attestation

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// DefaultModuleID is the ModuleID of a document whose Claims name none,
// and DefaultTPMModuleID that of a NitroTPM document (an instance ID and
// "tpm" and zeros, as nitro-tpm-attest's are).
const (
	DefaultModuleID    = "i-0123456789abcdef0-enc0123456789abcdef"
	DefaultTPMModuleID = "i-0123456789abcdef0-tpm0000000000000000"
)

// RootValidityYears is how long a Module's root and intermediate
// certificates are valid, in years from the start given to NewModule.
const RootValidityYears = 30

// LeafValidity is how long the signing certificate of a Module's document
// is valid, from the document's Timestamp, as a real Nitro Secure Module's
// is.
const LeafValidity = 3 * time.Hour

// The Nitro Secure Module's limits on the enclave's fields of a document.
const (
	// MaxUserData is the largest UserData a document carries, in bytes.
	MaxUserData = 512
	// MaxNonce is the largest Nonce a document carries, in bytes.
	MaxNonce = 512
	// MaxPublicKey is the largest PublicKey a document carries, in bytes.
	MaxPublicKey = 1024
)

// The PCRs a Module's document has when its Claims give none: an
// enclave's PCR0 to PCR15, as a real enclave's document has, and a
// NitroTPM document's PCR0 to PCR16 and PCR23, as EC2's "Validate a
// NitroTPM attestation document" lists them.
var (
	defaultEnclavePCRs = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	defaultTPMPCRs     = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 23}
)

// Module is a simulated Nitro Secure Module: it signs attestation
// documents under a root certificate of its own, so that tests, which run
// outside an enclave, can make documents that a service trusting the
// module's root accepts. Its chain is like AWS's, shortened: a
// self-signed P-384 root, one intermediate CA, and a signing certificate
// per document timestamp, valid for LeafValidity.
//
// A Module holds no mutable state: it is safe for concurrent use, and
// Attest is a pure function of the module and the claims.
type Module struct {
	root            *x509.Certificate
	intermediate    *x509.Certificate
	intermediateKey *ecdsa.PrivateKey
	// leafSecret derives the signing key and serial number of a
	// document's leaf certificate from its timestamp.
	leafSecret []byte
}

// Claims are what a Module's document attests: the enclave's measurements
// and the data the enclave asks the module to sign.
type Claims struct {
	// ModuleID identifies the module; DefaultModuleID (DefaultTPMModuleID
	// for a NitroTPM document) when empty.
	ModuleID string
	// Timestamp is the instant the document claims (required, at least a
	// millisecond after the Unix epoch); the document keeps its
	// milliseconds. The signing
	// certificate is valid from Timestamp (to the second) for
	// LeafValidity.
	Timestamp time.Time
	// PCRs are the enclave's measurements. The document has PCR0 to PCR15
	// of 48 zero bytes each, like a debug-mode enclave's; the values given
	// here (indexes 0 to 31, 32, 48 or 64 bytes each) replace or add to
	// those.
	PCRs map[int][]byte
	// PublicKey is the enclave's public key, usually the DER
	// SubjectPublicKeyInfo of its RSA key; 1 to MaxPublicKey bytes; nil
	// for none (null in the document).
	PublicKey []byte
	// UserData is at most MaxUserData bytes; nil for none.
	UserData []byte
	// Nonce is at most MaxNonce bytes; nil for none.
	Nonce []byte
	// NitroTPM makes a NitroTPM document, as an EC2 instance's Nitro TPM
	// signs (nitro-tpm-attest): its PCRs are nitrotpm_pcrs, PCR0 to PCR16
	// and PCR23 of 48 zero bytes unless PCRs says otherwise, and its
	// ModuleID defaults to DefaultTPMModuleID.
	NitroTPM bool
}

// NewModule returns a module whose root certificate is valid from start
// for RootValidityYears. It reads its keys, serial numbers and a secret from
// random, so a module made from the same bytes and start has the same
// certificates and signs the same documents (certificates and documents
// are signed with deterministic ECDSA, RFC 6979). random is usually
// crypto/rand.Reader; a test may give a seeded reader.
//
// NewModule returns the reader's error when it fails.
func NewModule(random io.Reader, start time.Time) (*Module, error) {
	end := start.AddDate(RootValidityYears, 0, 0)
	root, rootKey, err := newCA(random, "simulated.nitro-enclaves", start, end, nil, nil)
	if err != nil {
		return nil, err
	}
	inter, interKey, err := newCA(random, "zonal.simulated.nitro-enclaves", start, end, root, rootKey)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if err := readRandom(random, secret); err != nil {
		return nil, err
	}
	return &Module{root: root, intermediate: inter, intermediateKey: interKey, leafSecret: secret}, nil
}

// newCA reads a P-384 key and a serial number from random, in that order,
// and issues a CA certificate for the key, named cn and valid from start
// to end: self-signed when parent is nil, else signed with parentKey and
// allowed no CA below it.
func newCA(random io.Reader, cn string, start, end time.Time, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := readP384Key(random)
	if err != nil {
		return nil, nil, err
	}
	serial, err := readSerial(random)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               moduleName(cn),
		NotBefore:             start,
		NotAfter:              end,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        parent != nil,
		SignatureAlgorithm:    x509.ECDSAWithSHA384,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	cert, err := createCertificate(tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// Roots returns a new pool holding the module's root certificate: what a
// service that is to accept the module's documents trusts.
func (m *Module) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(m.root)
	return pool
}

// RootPEM returns the module's root certificate, PEM-encoded.
func (m *Module) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: m.root.Raw})
}

// Attest returns an attestation document of the claims, signed by the
// module: an untagged COSE_Sign1 message whose payload has the fields in
// the order a Nitro Secure Module writes them, with null for an absent
// PublicKey, UserData or Nonce. Its CABundle is the module's root and
// intermediate certificates.
//
// Attest returns an error wrapping ErrMalformed for claims a Nitro Secure
// Module cannot sign: a zero Timestamp or one not after the Unix epoch, a
// PCR index outside 0 to 31 or a PCR value not of 32, 48 or 64 bytes, an
// empty PublicKey, or a PublicKey, UserData or Nonce over its limit.
func (m *Module) Attest(c Claims) ([]byte, error) {
	if c.Timestamp.IsZero() {
		return nil, malformed("the claims have no Timestamp")
	}
	ms := c.Timestamp.UnixMilli()
	if ms <= 0 {
		return nil, malformed("the claims' Timestamp %v is not after the Unix epoch", c.Timestamp)
	}
	indexes := defaultEnclavePCRs
	if c.NitroTPM {
		indexes = defaultTPMPCRs
	}
	switch {
	case c.ModuleID != "":
	case c.NitroTPM:
		c.ModuleID = DefaultTPMModuleID
	default:
		c.ModuleID = DefaultModuleID
	}
	pcrs := make(map[int][]byte, len(indexes))
	for _, i := range indexes {
		pcrs[i] = make([]byte, 48)
	}
	for i, v := range c.PCRs {
		if i < 0 || i >= MaxPCRs {
			return nil, malformed("the claims have PCR%d, not in 0 to %d", i, MaxPCRs-1)
		}
		if err := checkPCRLength(i, v); err != nil {
			return nil, err
		}
		pcrs[i] = v
	}
	if err := checkSizes(c.PublicKey, c.UserData, c.Nonce); err != nil {
		return nil, err
	}

	leafKey, leafSerial := m.leafKey(ms)
	notBefore := time.UnixMilli(ms).UTC().Truncate(time.Second)
	leafTmpl := &x509.Certificate{
		SerialNumber:          leafSerial,
		Subject:               moduleName(c.ModuleID + ".simulated"),
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(LeafValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		BasicConstraintsValid: true,
		SignatureAlgorithm:    x509.ECDSAWithSHA384,
	}
	leaf, err := createCertificate(leafTmpl, m.intermediate, &leafKey.PublicKey, m.intermediateKey)
	if err != nil {
		return nil, err
	}

	p := nsmPayload{
		ModuleID:    c.ModuleID,
		Digest:      DigestSHA384,
		Timestamp:   uint64(ms),
		Certificate: leaf.Raw,
		CABundle:    [][]byte{m.root.Raw, m.intermediate.Raw},
		PublicKey:   c.PublicKey,
		UserData:    c.UserData,
		Nonce:       c.Nonce,
	}
	if c.NitroTPM {
		p.NitroTPMPCRs = encode(pcrMode, pcrs)
	} else {
		p.PCRs = encode(pcrMode, pcrs)
	}
	payload := encode(fieldMode, p)
	sig, err := signES384(leafKey, sigStructure(protectedES384, payload))
	if err != nil {
		return nil, err
	}
	doc := coseSign1(protectedES384, payload, sig)
	if len(doc) > MaxDocumentSize {
		return nil, malformed("the document would have %d bytes, more than %d", len(doc), MaxDocumentSize)
	}
	return doc, nil
}

// nsmPayload is a document's payload, its fields in the order a Nitro
// Secure Module writes them; a nil PublicKey, UserData or Nonce is null.
// It has one of PCRs and NitroTPMPCRs, each a map of PCR index to value.
type nsmPayload struct {
	ModuleID     string          `cbor:"module_id"`
	Digest       string          `cbor:"digest"`
	Timestamp    uint64          `cbor:"timestamp"`
	PCRs         cbor.RawMessage `cbor:"pcrs,omitempty"`
	NitroTPMPCRs cbor.RawMessage `cbor:"nitrotpm_pcrs,omitempty"`
	Certificate  []byte          `cbor:"certificate"`
	CABundle     [][]byte        `cbor:"cabundle"`
	PublicKey    []byte          `cbor:"public_key"`
	UserData     []byte          `cbor:"user_data"`
	Nonce        []byte          `cbor:"nonce"`
}

// protectedES384 is the protected header a Nitro Secure Module writes:
// the CBOR map {1: -35}, alg ES384.
var protectedES384 = []byte{0xa1, 0x01, 0x38, 0x22}

// leafKey derives the signing key and the certificate serial number of the
// documents of timestamp ms from the module's secret.
func (m *Module) leafKey(ms int64) (*ecdsa.PrivateKey, *big.Int) {
	var info [8]byte
	binary.BigEndian.PutUint64(info[:], uint64(ms))
	for counter := byte(0); ; counter++ {
		d := m.derive("leaf key", info[:], counter)[:p384Size]
		if k, err := ecdsa.ParseRawPrivateKey(elliptic.P384(), d); err == nil {
			s := m.derive("leaf serial", info[:], 0)[:16]
			return k, serialFrom(s)
		}
	}
}

// derive returns HMAC-SHA-512(secret, label || 0 || info || counter).
func (m *Module) derive(label string, info []byte, counter byte) []byte {
	h := hmac.New(sha512.New, m.leafSecret)
	h.Write([]byte(label))
	h.Write([]byte{0})
	h.Write(info)
	h.Write([]byte{counter})
	return h.Sum(nil)
}

// moduleName is a certificate name like a Nitro certificate's.
func moduleName(cn string) pkix.Name {
	return pkix.Name{
		Country:            []string{"US"},
		Organization:       []string{"kmsmodel"},
		OrganizationalUnit: []string{"simulated Nitro Secure Module"},
		CommonName:         cn,
	}
}

// maxScalarTries bounds the rejection sampling of a P-384 scalar: a
// uniform reader's 48 bytes are rejected with probability below 2^-190,
// so only a broken reader (all zeros, all ones) runs out.
const maxScalarTries = 64

var errScalarSampling = errors.New("attestation: the random reader gave no valid P-384 private key in 64 tries")

// readP384Key reads a P-384 private scalar from random, rejecting values
// out of range, so that a seeded reader always gives the same key
// (ecdsa.GenerateKey ignores its reader since Go 1.26).
func readP384Key(random io.Reader) (*ecdsa.PrivateKey, error) {
	b := make([]byte, p384Size)
	for range maxScalarTries {
		if err := readRandom(random, b); err != nil {
			return nil, err
		}
		if k, err := ecdsa.ParseRawPrivateKey(elliptic.P384(), b); err == nil {
			return k, nil
		}
	}
	return nil, errScalarSampling
}

// readRandom fills b from random, returning the reader's error wrapped.
func readRandom(random io.Reader, b []byte) error {
	if _, err := io.ReadFull(random, b); err != nil {
		return fmt.Errorf("attestation: reading randomness: %w", err)
	}
	return nil
}

// readSerial reads a 16-byte positive certificate serial number.
func readSerial(random io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if err := readRandom(random, b); err != nil {
		return nil, err
	}
	return serialFrom(b), nil
}

// serialFrom makes a positive serial number of len(b) bytes (RFC 5280
// §4.1.2.2) from b.
func serialFrom(b []byte) *big.Int {
	b = slices.Clone(b)
	b[0] = b[0]&0x7f | 0x40
	return new(big.Int).SetBytes(b)
}

// deterministicSigner signs with RFC 6979 deterministic ECDSA, whatever
// reader it is given.
type deterministicSigner struct{ k *ecdsa.PrivateKey }

func (s deterministicSigner) Public() crypto.PublicKey { return &s.k.PublicKey }

func (s deterministicSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.k.Sign(nil, digest, opts)
}

// createCertificate issues a certificate signed deterministically.
func createCertificate(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(nil, tmpl, parent, pub, deterministicSigner{signer})
	if err != nil {
		return nil, fmt.Errorf("attestation: issuing a certificate: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("attestation: parsing an issued certificate: %w", err)
	}
	return c, nil
}

// signES384 returns k's deterministic ECDSA signature of the SHA-384
// digest of msg, as COSE's r||s.
func signES384(k *ecdsa.PrivateKey, msg []byte) ([]byte, error) {
	digest := sha512.Sum384(msg)
	der, err := k.Sign(nil, digest[:], crypto.SHA384)
	if err != nil {
		return nil, fmt.Errorf("attestation: signing: %w", err)
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("attestation: signing: the signature does not parse")
	}
	sig := make([]byte, 2*p384Size)
	rs.R.FillBytes(sig[:p384Size])
	rs.S.FillBytes(sig[p384Size:])
	return sig, nil
}
