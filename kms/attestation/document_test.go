package attestation_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// A document signed by a real Nitro Secure Module verifies against AWS's
// root at its own timestamp, and its fields come out as signed.
func TestVerifyRealAWSDocument(t *testing.T) {
	doc := awsDocument(t)
	parsed, err := attestation.Parse(doc)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	d, err := attestation.Verify(doc, attestation.AWSNitroRoots(), parsed.Timestamp)
	if err != nil {
		t.Fatalf("Verify at the document's timestamp: %v", err)
	}
	if d.ModuleID != "i-0bbf1bfe232b8c2ce-enc0191fc27458c1d41" {
		t.Errorf("ModuleID = %q", d.ModuleID)
	}
	if d.Digest != "SHA384" {
		t.Errorf("Digest = %q", d.Digest)
	}
	if want := time.Date(2024, 9, 17, 0, 47, 59, 695_000_000, time.UTC); !d.Timestamp.Equal(want) || d.Timestamp.Location() != time.UTC {
		t.Errorf("Timestamp = %v, want %v", d.Timestamp, want)
	}
	if len(d.PCRs) != 16 {
		t.Errorf("%d PCRs, want 16", len(d.PCRs))
	}
	for i := range 16 {
		if len(d.PCRs[i]) != 48 {
			t.Errorf("PCR%d has %d bytes, want 48", i, len(d.PCRs[i]))
		}
	}
	if string(d.PublicKey) != "dummy" {
		t.Errorf("PublicKey = %q, want dummy", d.PublicKey)
	}
	if d.UserData == nil || d.Nonce == nil {
		t.Errorf("UserData %x and Nonce %x should be present", d.UserData, d.Nonce)
	}
	if len(d.CABundle) != 4 || d.CABundle[0].Subject.CommonName != "aws.nitro-enclaves" {
		t.Errorf("CABundle should be AWS's four certificates, root first")
	}
	if _, err := d.RSAPublicKey(); !errors.Is(err, attestation.ErrPublicKey) {
		t.Errorf("RSAPublicKey of %q: %v, want ErrPublicKey", d.PublicKey, err)
	}
	// Tag 18 (COSE_Sign1) in front is accepted too.
	if _, err := attestation.Verify(append([]byte{0xd2}, doc...), attestation.AWSNitroRoots(), d.Timestamp); err != nil {
		t.Errorf("Verify of the tagged document: %v", err)
	}
}

// Tampering with a real document, checking it at the wrong time or
// against the wrong roots is refused with the error that names the rule.
func TestVerifyRealAWSDocumentRefusals(t *testing.T) {
	doc := awsDocument(t)
	at := time.Date(2024, 9, 17, 0, 47, 59, 695_000_000, time.UTC)
	i := bytes.Index(doc, []byte("dummy")) // inside the payload's public_key
	if i < 0 {
		t.Fatal("no public key in the document")
	}
	payloadFlip := bytes.Clone(doc)
	payloadFlip[i+4] ^= 0x01
	sigFlip := bytes.Clone(doc)
	sigFlip[len(sigFlip)-1] ^= 0x01

	tests := []struct {
		rule  string
		doc   []byte
		roots *x509.CertPool
		now   time.Time
		want  error
	}{
		{"the leaf certificate has expired a day later", doc, attestation.AWSNitroRoots(), at.Add(24 * time.Hour), attestation.ErrCertificate},
		{"the leaf certificate is not valid yet before it was issued", doc, attestation.AWSNitroRoots(), at.Add(-time.Hour), attestation.ErrCertificate},
		{"a module's root does not vouch for AWS documents", doc, newModule(t, 1).Roots(), at, attestation.ErrCertificate},
		{"no roots trust nothing", doc, nil, at, attestation.ErrCertificate},
		{"the zero time trusts nothing", doc, attestation.AWSNitroRoots(), time.Time{}, attestation.ErrCertificate},
		{"a changed payload byte breaks the signature", payloadFlip, attestation.AWSNitroRoots(), at, attestation.ErrSignature},
		{"a changed signature byte breaks the signature", sigFlip, attestation.AWSNitroRoots(), at, attestation.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			d, err := attestation.Verify(tt.doc, tt.roots, tt.now)
			if !errors.Is(err, tt.want) || d != nil {
				t.Fatalf("Verify = %v, %v; want %v", d, err, tt.want)
			}
			for _, other := range []error{attestation.ErrMalformed, attestation.ErrSignature, attestation.ErrCertificate, attestation.ErrPublicKey, attestation.ErrEnvelope} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("the error also wraps %v", other)
				}
			}
		})
	}
}

// A module's document verifies against the module's roots while its
// signing certificate is valid: from its Timestamp for three hours.
func TestModuleDocumentValidity(t *testing.T) {
	m := newModule(t, 1)
	doc := attest(t, m, attestation.Claims{Timestamp: docTime})
	tests := []struct {
		rule  string
		roots *x509.CertPool
		now   time.Time
		want  error
	}{
		{"valid at the document's timestamp", m.Roots(), docTime, nil},
		{"valid 2h59m later", m.Roots(), docTime.Add(2*time.Hour + 59*time.Minute), nil},
		{"expired 3h01m later", m.Roots(), docTime.Add(3*time.Hour + time.Minute), attestation.ErrCertificate},
		{"not valid a second before the timestamp", m.Roots(), docTime.Add(-time.Second), attestation.ErrCertificate},
		{"AWS's root does not vouch for a module's document", attestation.AWSNitroRoots(), docTime, attestation.ErrCertificate},
		{"another module's root does not vouch for it", newModule(t, 2).Roots(), docTime, attestation.ErrCertificate},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			_, err := attestation.Verify(doc, tt.roots, tt.now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	// A pool holding both roots accepts both kinds of document.
	both := attestation.AWSNitroRoots()
	if !both.AppendCertsFromPEM(m.RootPEM()) {
		t.Fatal("RootPEM does not parse")
	}
	if _, err := attestation.Verify(doc, both, docTime); err != nil {
		t.Errorf("Verify with both roots: %v", err)
	}
}

// What the claims say comes back from the verified document.
func TestModuleClaimsRoundTrip(t *testing.T) {
	m := newModule(t, 1)
	key := spki(t, &enclaveKey().PublicKey)
	pcr0 := bytes.Repeat([]byte{0xab}, 48)
	pcr20 := bytes.Repeat([]byte{0xcd}, 32)
	pcr31 := bytes.Repeat([]byte{0xef}, 64)
	doc := attest(t, m, attestation.Claims{
		ModuleID:  "i-00000000000000001-enc00000000000000001",
		Timestamp: docTime.Add(123456 * time.Nanosecond),
		PCRs:      map[int][]byte{0: pcr0, 20: pcr20, 31: pcr31},
		PublicKey: key,
		UserData:  []byte("user data"),
		Nonce:     []byte{},
	})
	if doc[0] != 0x84 {
		t.Errorf("the document starts with %#x, want an untagged array of 4 (0x84)", doc[0])
	}
	d, err := attestation.Verify(doc, m.Roots(), docTime)
	if err != nil {
		t.Fatal(err)
	}
	if d.ModuleID != "i-00000000000000001-enc00000000000000001" || d.Digest != "SHA384" {
		t.Errorf("ModuleID %q, Digest %q", d.ModuleID, d.Digest)
	}
	if !d.Timestamp.Equal(docTime) {
		t.Errorf("Timestamp = %v, want %v (to the millisecond)", d.Timestamp, docTime)
	}
	if len(d.PCRs) != 18 {
		t.Errorf("%d PCRs, want 18 (0-15 and 20, 31)", len(d.PCRs))
	}
	for i, want := range map[int][]byte{0: pcr0, 1: make([]byte, 48), 15: make([]byte, 48), 20: pcr20, 31: pcr31} {
		if !bytes.Equal(d.PCRs[i], want) {
			t.Errorf("PCR%d = %x, want %x", i, d.PCRs[i], want)
		}
	}
	if !bytes.Equal(d.PublicKey, key) || string(d.UserData) != "user data" || d.Nonce == nil || len(d.Nonce) != 0 {
		t.Errorf("PublicKey %x, UserData %q, Nonce %#v", d.PublicKey, d.UserData, d.Nonce)
	}
	pub, err := d.RSAPublicKey()
	if err != nil || !pub.Equal(&enclaveKey().PublicKey) {
		t.Errorf("RSAPublicKey = %v, %v", pub, err)
	}
	if len(d.CABundle) != 2 || !d.CABundle[0].IsCA || d.Certificate.IsCA {
		t.Errorf("CABundle should be the module's root and intermediate")
	}
	if d.Certificate.Subject.CommonName == "" || d.Certificate.NotAfter.Sub(d.Certificate.NotBefore) != attestation.LeafValidity {
		t.Errorf("leaf certificate %v valid %v to %v", d.Certificate.Subject, d.Certificate.NotBefore, d.Certificate.NotAfter)
	}

	// Defaults: the module ID, 16 zero PCRs and null enclave fields.
	d, err = attestation.Verify(attest(t, m, attestation.Claims{Timestamp: docTime}), m.Roots(), docTime)
	if err != nil {
		t.Fatal(err)
	}
	if d.ModuleID != attestation.DefaultModuleID || len(d.PCRs) != 16 || d.PublicKey != nil || d.UserData != nil || d.Nonce != nil {
		t.Errorf("defaults: %q, %d PCRs, %x, %x, %x", d.ModuleID, len(d.PCRs), d.PublicKey, d.UserData, d.Nonce)
	}
	if !bytes.Equal(d.PCRs[0], make([]byte, 48)) {
		t.Errorf("PCR0 = %x, want 48 zero bytes", d.PCRs[0])
	}
	if _, err := d.RSAPublicKey(); !errors.Is(err, attestation.ErrPublicKey) {
		t.Errorf("RSAPublicKey with a null public_key: %v, want ErrPublicKey", err)
	}
}

// RSAPublicKey takes an RSA key as a SubjectPublicKeyInfo or PKCS #1, and
// refuses anything else with ErrPublicKey.
func TestRSAPublicKey(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub := &enclaveKey().PublicKey
	small := &rsa.PublicKey{N: new(big.Int).SetBit(big.NewInt(1), 511, 1), E: 65537}
	tests := []struct {
		rule string
		key  []byte
		ok   bool
	}{
		{"an RSA SubjectPublicKeyInfo is the Nitro SDKs' form", spki(t, rsaPub), true},
		{"an RSA PKCS #1 key is accepted", x509.MarshalPKCS1PublicKey(rsaPub), true},
		{"an ECDSA key is not RSA", spki(t, &ec.PublicKey), false},
		{"no key", nil, false},
		{"bytes that are no key", []byte("dummy"), false},
		{"a 512-bit RSA key cannot be encrypted to", x509.MarshalPKCS1PublicKey(small), false},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			pub, err := (&attestation.Document{PublicKey: tt.key}).RSAPublicKey()
			if tt.ok && (err != nil || !pub.Equal(rsaPub)) {
				t.Fatalf("RSAPublicKey = %v, %v", pub, err)
			}
			if !tt.ok && (!errors.Is(err, attestation.ErrPublicKey) || pub != nil) {
				t.Fatalf("RSAPublicKey = %v, %v; want ErrPublicKey", pub, err)
			}
		})
	}
}

// malformedCase is a document that must be refused as malformed.
type malformedCase struct {
	rule string
	doc  []byte
}

// malformedDocuments returns documents made from a module's, each broken
// in one way.
func malformedDocuments(t *testing.T) []malformedCase {
	m := newModule(t, 1)
	good := attest(t, m, attestation.Claims{Timestamp: docTime, PublicKey: spki(t, &enclaveKey().PublicKey)})
	alter := func(f func(c *cose)) []byte {
		c := split(t, good)
		f(c)
		return c.join(t)
	}
	set := func(field string, v any) []byte {
		return alter(func(c *cose) { c.payload[field] = mustCBOR(t, v) })
	}
	raw := func(b ...byte) cbor.RawMessage { return b }
	parts := split(t, good)
	payload, _ := cbor.Marshal(parts.payload)
	protected := parts.protected
	sig := parts.signature
	arr := func(items ...any) []byte { return mustCBOR(t, items) }
	bstr := func(b cbor.RawMessage) []byte { return b } // encoded as a byte string

	rsaCert := enclaveCert(t)
	bigCert := longCert(t)
	cases := []malformedCase{
		{"empty input", nil},
		{"not CBOR", []byte{0xff, 0x00, 0x01}},
		{"truncated CBOR", good[:len(good)/2]},
		{"trailing bytes after the message", append(bytes.Clone(good), 0x00)},
		{"a text string, not an array", mustCBOR(t, "hello")},
		{"an array of 3", arr(protected, raw(0xa0), payload)},
		{"an array of 5", arr(protected, raw(0xa0), payload, sig, sig)},
		{"a map, not an array", mustCBOR(t, map[string]int{"a": 1})},
		{"a tag other than 18 (COSE_Sign1)", append([]byte{0xd1}, good...)},
		{"tag 18 twice", append([]byte{0xd2, 0xd2}, good...)},
		{"tag 18 around a map", append([]byte{0xd2}, mustCBOR(t, map[string]int{"a": 1})...)},
		{"protected header not a byte string", arr(raw(0xa1, 0x01, 0x38, 0x22), raw(0xa0), payload, sig)},
		{"protected header not a map", arr(bstr(mustCBOR(t, []int{1})), raw(0xa0), payload, sig)},
		{"protected header without alg", arr(bstr(mustCBOR(t, map[int]int{4: 1})), raw(0xa0), payload, sig)},
		{"alg ES256 (-7), not ES384 (-35)", arr(bstr(mustCBOR(t, map[int]int{1: -7})), raw(0xa0), payload, sig)},
		{"alg PS384 (-38), not ES384 (-35)", arr(bstr(mustCBOR(t, map[int]int{1: -38})), raw(0xa0), payload, sig)},
		{"alg as text", arr(bstr(mustCBOR(t, map[int]string{1: "ES384"})), raw(0xa0), payload, sig)},
		{"unprotected header not a map", arr(protected, raw(0x80), payload, sig)},
		{"payload not a byte string", arr(protected, raw(0xa0), "payload", sig)},
		{"payload not a map", arr(protected, raw(0xa0), bstr(mustCBOR(t, []int{1, 2})), sig)},
		{"payload not CBOR", arr(protected, raw(0xa0), []byte{0xff}, sig)},
		{"signature of 95 bytes", arr(protected, raw(0xa0), payload, sig[:95])},
		{"signature not a byte string", arr(protected, raw(0xa0), payload, "sig")},
		{"a duplicate key in the payload", arr(protected, raw(0xa0), dupPayload(t, payload), sig)},
		{"more than MaxDocumentSize bytes", append(bytes.Clone(good), make([]byte, attestation.MaxDocumentSize)...)},
		{"nested too deep", append(bytes.Repeat([]byte{0x81}, 100), 0x00)},

		{"digest SHA256, not SHA384", set("digest", "SHA256")},
		{"digest not text", set("digest", 384)},
		{"module_id not text", set("module_id", []byte("i-0"))},
		{"module_id empty", set("module_id", "")},
		{"timestamp as text", set("timestamp", "1700000000000")},
		{"timestamp negative", set("timestamp", -1)},
		// AWS's attestation document specification (aws-nitro-enclaves-nsm-api,
		// docs/attestation_process.md §3.2.2.2): "Timestamp must be greater
		// than 0", and public_key has 1 to 1,024 bytes.
		{"timestamp 0", set("timestamp", 0)},
		{"public_key empty", set("public_key", []byte{})},
		{"timestamp beyond int64 milliseconds", set("timestamp", uint64(1)<<63)},
		{"pcrs not a map", set("pcrs", [][]byte{make([]byte, 48)})},
		{"pcrs empty", set("pcrs", map[uint]([]byte){})},
		{"pcrs with a text key", set("pcrs", map[string][]byte{"0": make([]byte, 48)})},
		{"pcrs with a negative key", set("pcrs", map[int][]byte{-1: make([]byte, 48)})},
		{"PCR index 32", set("pcrs", map[uint][]byte{32: make([]byte, 48)})},
		{"a PCR of 20 bytes", set("pcrs", map[uint][]byte{0: make([]byte, 20)})},
		{"a PCR as text", set("pcrs", map[uint]string{0: "00"})},
		{"certificate not a byte string", set("certificate", "MIIB")},
		{"certificate not DER", set("certificate", []byte{1, 2, 3})},
		{"a leaf certificate with an RSA key", set("certificate", rsaCert)},
		{"cabundle not an array", set("cabundle", []byte{1})},
		{"cabundle empty", set("cabundle", [][]byte{})},
		{"a cabundle entry not a byte string", set("cabundle", []string{"MIIB"})},
		{"a cabundle entry not DER", set("cabundle", [][]byte{{1, 2, 3}})},
		// §3.2.2.2: a cabundle entry has 1 to 1,024 bytes.
		{"a cabundle entry of more than 1,024 bytes", set("cabundle", [][]byte{bigCert})},
		{"public_key as text", set("public_key", "key")},
		{"user_data as an integer", set("user_data", 7)},
		{"nonce as a map", set("nonce", map[string]int{"n": 1})},
		{"nonce undefined, not null", alter(func(c *cose) { c.payload["nonce"] = raw(0xf7) })},
	}
	for _, field := range []string{"module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle"} {
		cases = append(cases, malformedCase{"payload without " + field, alter(func(c *cose) { delete(c.payload, field) })})
	}
	return cases
}

// Parse and Verify refuse every malformed document with ErrMalformed.
func TestMalformedDocuments(t *testing.T) {
	m := newModule(t, 1)
	for _, tt := range malformedDocuments(t) {
		t.Run(tt.rule, func(t *testing.T) {
			if d, err := attestation.Parse(tt.doc); !errors.Is(err, attestation.ErrMalformed) || d != nil {
				t.Errorf("Parse = %v, %v; want ErrMalformed", d, err)
			}
			if d, err := attestation.Verify(tt.doc, m.Roots(), docTime); !errors.Is(err, attestation.ErrMalformed) || d != nil {
				t.Errorf("Verify = %v, %v; want ErrMalformed", d, err)
			}
		})
	}
}

// A document's optional fields may be absent or null; both give nil.
func TestOptionalFieldsAbsentOrNull(t *testing.T) {
	m := newModule(t, 1)
	c := split(t, attest(t, m, attestation.Claims{Timestamp: docTime, UserData: []byte("u")}))
	delete(c.payload, "public_key")
	c.payload["user_data"] = cbor.RawMessage{0xf6}
	delete(c.payload, "nonce")
	d, err := attestation.Parse(c.join(t))
	if err != nil {
		t.Fatal(err)
	}
	if d.PublicKey != nil || d.UserData != nil || d.Nonce != nil {
		t.Errorf("PublicKey %x, UserData %x, Nonce %x; want nil", d.PublicKey, d.UserData, d.Nonce)
	}
}

// dupPayload returns payload (a CBOR map) with its first entry repeated.
func dupPayload(t *testing.T, payload []byte) []byte {
	var m map[string]cbor.RawMessage
	if err := cbor.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	out := []byte{0xa0 | byte(len(m)+1)}
	out = append(out, mustCBOR(t, "module_id")...)
	out = append(out, m["module_id"]...)
	out = append(out, payload[1:]...)
	return out
}

// enclaveCert returns a self-signed DER certificate for enclaveKey, an
// RSA key, with the subject key identifier Seal names.
func enclaveCert(t *testing.T) []byte {
	t.Helper()
	return selfSigned(t, &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "enclave"},
		NotBefore:    moduleStart,
		NotAfter:     moduleStart.AddDate(100, 0, 0),
		SubjectKeyId: attestation.SubjectKeyID(&enclaveKey().PublicKey),
		KeyUsage:     x509.KeyUsageKeyEncipherment,
	})
}

// selfSigned returns the DER certificate of tmpl for enclaveKey, signed
// by itself.
func selfSigned(t *testing.T, tmpl *x509.Certificate) []byte {
	t.Helper()
	k := enclaveKey()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// longCert returns a well-formed self-signed DER certificate of more than
// 1,024 bytes (its subject names long organisations).
func longCert(t *testing.T) []byte {
	t.Helper()
	der := selfSigned(t, &x509.Certificate{
		SerialNumber: big.NewInt(43),
		Subject:      pkix.Name{CommonName: "long", Organization: []string{strings.Repeat("o", 300), strings.Repeat("p", 300)}},
		NotBefore:    moduleStart,
		NotAfter:     moduleStart.AddDate(1, 0, 0),
	})
	if _, err := x509.ParseCertificate(der); err != nil || len(der) <= 1024 {
		t.Fatalf("longCert: %d bytes (%v), want a certificate of more than 1,024", len(der), err)
	}
	return der
}

// TestVerifyChainValidity: VerifyChain's Validity is the span in which
// Verify accepts the document: for a module's document, its signing
// certificate's three hours; for the real AWS document, its leaf's
// window. At every instant checked, Verify succeeds exactly when the
// Validity contains it.
func TestVerifyChainValidity(t *testing.T) {
	m := newModule(t, 1)
	doc := attest(t, m, attestation.Claims{Timestamp: docTime})
	aws := awsDocument(t)
	for _, tc := range []struct {
		name  string
		doc   []byte
		roots *x509.CertPool
	}{
		{"module", doc, m.Roots()},
		{"real AWS document", aws, attestation.AWSNitroRoots()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, v, err := attestation.VerifyChain(tc.doc, tc.roots)
			if err != nil {
				t.Fatal(err)
			}
			if !v.NotBefore.Equal(d.Certificate.NotBefore) || !v.NotAfter.Equal(d.Certificate.NotAfter) {
				t.Fatalf("Validity %v–%v, want the signing certificate's %v–%v", v.NotBefore, v.NotAfter,
					d.Certificate.NotBefore, d.Certificate.NotAfter)
			}
			for _, at := range []time.Time{v.NotBefore.Add(-time.Second), v.NotBefore, v.NotBefore.Add(time.Hour),
				v.NotAfter, v.NotAfter.Add(time.Second), v.NotAfter.Add(24 * time.Hour)} {
				_, err := attestation.Verify(tc.doc, tc.roots, at)
				if (err == nil) != v.Contains(at) {
					t.Errorf("at %v: Verify %v, Validity contains it: %v", at, err, v.Contains(at))
				}
			}
		})
	}
	if _, _, err := attestation.VerifyChain(doc, attestation.AWSNitroRoots()); !errors.Is(err, attestation.ErrCertificate) {
		t.Errorf("another root: %v, want ErrCertificate", err)
	}
	if _, _, err := attestation.VerifyChain(doc, nil); !errors.Is(err, attestation.ErrCertificate) {
		t.Errorf("no roots: %v, want ErrCertificate", err)
	}
	bad := bytes.Clone(doc)
	bad[len(bad)-1] ^= 1
	if _, _, err := attestation.VerifyChain(bad, m.Roots()); !errors.Is(err, attestation.ErrSignature) {
		t.Errorf("tampered: %v, want ErrSignature", err)
	}
}

// TestNitroTPMDocument: a NitroTPM document (nitrotpm_pcrs instead of
// pcrs, as AWS's "Validate a NitroTPM attestation document" specifies)
// verifies like an enclave's, its PCRs in NitroTPMPCRs and none in PCRs;
// a payload with both kinds, or neither, is malformed.
func TestNitroTPMDocument(t *testing.T) {
	m := newModule(t, 1)
	pcr7 := bytes.Repeat([]byte{7}, 48)
	doc := attest(t, m, attestation.Claims{Timestamp: docTime, NitroTPM: true, PCRs: map[int][]byte{7: pcr7}})
	d, err := attestation.Verify(doc, m.Roots(), docTime)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.NitroTPMPCRs[20]; ok || d.NitroTPMPCRs[23] == nil {
		t.Errorf("NitroTPMPCRs hold PCR20, or not PCR23: want 0–16 and 23, as EC2's page lists")
	}
	if d.PCRs != nil || len(d.NitroTPMPCRs) != 18 || !bytes.Equal(d.NitroTPMPCRs[7], pcr7) || d.ModuleID != attestation.DefaultTPMModuleID {
		t.Fatalf("PCRs %d, NitroTPMPCRs %d, PCR7 %x, module %q", len(d.PCRs), len(d.NitroTPMPCRs), d.NitroTPMPCRs[7], d.ModuleID)
	}
	enclave := attest(t, m, attestation.Claims{Timestamp: docTime})
	if d, err := attestation.Verify(enclave, m.Roots(), docTime); err != nil || d.NitroTPMPCRs != nil || len(d.PCRs) != 16 {
		t.Fatalf("an enclave's document: %v", err)
	}
	c := split(t, doc)
	c.payload["pcrs"] = c.payload["nitrotpm_pcrs"]
	if _, err := attestation.Parse(c.join(t)); !errors.Is(err, attestation.ErrMalformed) {
		t.Errorf("both pcrs and nitrotpm_pcrs: %v, want ErrMalformed", err)
	}
	delete(c.payload, "pcrs")
	delete(c.payload, "nitrotpm_pcrs")
	if _, err := attestation.Parse(c.join(t)); !errors.Is(err, attestation.ErrMalformed) {
		t.Errorf("no PCRs: %v, want ErrMalformed", err)
	}
}
