package kms_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/proctest"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// fxEnclaveKey is an enclave's RSA key pair, made once (RSA key generation
// is slow).
var fxEnclaveKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.NewChaCha8([32]byte{'e', 'n', 'c'}), 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// fxEnclave is a simulated Nitro Secure Module and an enclave's key.
type fxEnclave struct {
	t   testing.TB
	m   *attestation.Module
	key *rsa.PrivateKey
	pub []byte // the key's SubjectPublicKeyInfo
}

// fxNewEnclave makes a module whose root is valid from an hour before
// fxT0.
func fxNewEnclave(t testing.TB) *fxEnclave {
	t.Helper()
	m, err := attestation.NewModule(rand.NewChaCha8(fxSeed("module "+t.Name())), fxT0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	k := fxEnclaveKey()
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &fxEnclave{t: t, m: m, key: k, pub: pub}
}

// fxPCR0 is the image digest the enclave's documents claim.
var fxPCR0 = bytes.Repeat([]byte{0xab}, 48)

// doc is a document claiming at, with the enclave's key and PCR0 fxPCR0
// (other PCRs as the module makes them).
func (e *fxEnclave) doc(at time.Time) []byte {
	return e.docWith(attestation.Claims{Timestamp: at, PublicKey: e.pub, PCRs: map[int][]byte{0: fxPCR0}})
}

func (e *fxEnclave) docWith(c attestation.Claims) []byte {
	e.t.Helper()
	d, err := e.m.Attest(c)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// fxRecipient is a Recipient carrying doc.
func fxRecipient(doc []byte) *kms.RecipientInfo {
	return &kms.RecipientInfo{AttestationDocument: doc, KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256"}
}

// open opens a CiphertextForRecipient with the enclave's key.
func (e *fxEnclave) open(ct []byte) []byte {
	e.t.Helper()
	if len(ct) == 0 {
		e.t.Fatal("no CiphertextForRecipient")
	}
	pt, err := attestation.Open(e.key, ct)
	if err != nil {
		e.t.Fatalf("Open: %v", err)
	}
	return pt
}

// TestDecisionD80RecipientOperations: each of the five operations with a
// Recipient answers its secret only as CiphertextForRecipient, which the
// enclave's key opens to what the operation would have returned, and its
// plaintext member empty (spec aws-kms-asymmetric-hmac.md §4.3 for
// Decrypt, §5 for GenerateDataKeyPair's PrivateKeyPlaintext, §6 for
// DeriveSharedSecret's SharedSecret).
func TestDecisionD80RecipientOperations(t *testing.T) {
	enc := fxNewEnclave(t)
	e := fxNew(t, kms.WithAttestationRoots(enc.m.Roots()))
	id, arn := e.symmetric()
	r := fxRecipient(enc.doc(fxT0))

	t.Run("Decrypt", func(t *testing.T) {
		ct, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("enclave secret")})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, Recipient: r})
		if err != nil {
			t.Fatal(err)
		}
		if out.Plaintext != nil || out.KeyId != arn || out.EncryptionAlgorithm != "SYMMETRIC_DEFAULT" {
			t.Fatalf("Decrypt = %+v", out)
		}
		if got := enc.open(out.CiphertextForRecipient); string(got) != "enclave secret" {
			t.Fatalf("opened %q", got)
		}
		plain, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob})
		if err != nil || string(plain.Plaintext) != "enclave secret" || plain.CiphertextForRecipient != nil {
			t.Fatalf("Decrypt without Recipient = %+v, %v", plain, err)
		}
	})
	t.Run("GenerateDataKey", func(t *testing.T) {
		out, err := e.s.GenerateDataKey(e.ctx, &kms.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256", Recipient: r})
		if err != nil {
			t.Fatal(err)
		}
		if out.Plaintext != nil || out.KeyId != arn {
			t.Fatalf("GenerateDataKey = %+v", out)
		}
		dk := enc.open(out.CiphertextForRecipient)
		back, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob})
		if err != nil {
			t.Fatal(err)
		}
		if len(dk) != 32 || !bytes.Equal(dk, back.Plaintext) {
			t.Fatalf("the data key for the recipient (%d bytes) is not the one CiphertextBlob holds", len(dk))
		}
	})
	t.Run("GenerateDataKeyPair", func(t *testing.T) {
		out, err := e.s.GenerateDataKeyPair(e.ctx, &kms.GenerateDataKeyPairInput{KeyId: id, KeyPairSpec: "ECC_NIST_P256", Recipient: r})
		if err != nil {
			t.Fatal(err)
		}
		if out.PrivateKeyPlaintext != nil {
			t.Fatal("PrivateKeyPlaintext returned with a Recipient")
		}
		der := enc.open(out.CiphertextForRecipient)
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := x509.MarshalPKIXPublicKey(priv.(*ecdsa.PrivateKey).Public())
		if err != nil || !bytes.Equal(pub, out.PublicKey) {
			t.Fatalf("the private key for the recipient does not match PublicKey (%v)", err)
		}
		back, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: out.PrivateKeyCiphertextBlob})
		if err != nil || !bytes.Equal(back.Plaintext, der) {
			t.Fatalf("PrivateKeyCiphertextBlob holds another private key (%v)", err)
		}
	})
	t.Run("GenerateRandom", func(t *testing.T) {
		n := int32(100)
		out, err := e.s.GenerateRandom(e.ctx, &kms.GenerateRandomInput{NumberOfBytes: &n, Recipient: r})
		if err != nil {
			t.Fatal(err)
		}
		if out.Plaintext != nil || len(enc.open(out.CiphertextForRecipient)) != 100 {
			t.Fatalf("GenerateRandom = %+v", out)
		}
	})
	t.Run("DeriveSharedSecret", func(t *testing.T) {
		kid, karn := e.kindKey("ECC_NIST_P256", "KEY_AGREEMENT")
		peer, err := ecdh.P256().GenerateKey(rand.NewChaCha8([32]byte{'p'}))
		if err != nil {
			t.Fatal(err)
		}
		peerPub, err := x509.MarshalPKIXPublicKey(peer.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.s.DeriveSharedSecret(e.ctx, &kms.DeriveSharedSecretInput{KeyId: kid, KeyAgreementAlgorithm: "ECDH",
			PublicKey: peerPub, Recipient: r})
		if err != nil {
			t.Fatal(err)
		}
		if out.SharedSecret != nil || out.KeyId != karn {
			t.Fatalf("DeriveSharedSecret = %+v", out)
		}
		pk, err := e.s.GetPublicKey(e.ctx, &kms.GetPublicKeyInput{KeyId: kid})
		if err != nil {
			t.Fatal(err)
		}
		kp, err := x509.ParsePKIXPublicKey(pk.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		kpub, err := kp.(*ecdsa.PublicKey).ECDH()
		if err != nil {
			t.Fatal(err)
		}
		want, err := peer.ECDH(kpub)
		if err != nil {
			t.Fatal(err)
		}
		if got := enc.open(out.CiphertextForRecipient); !bytes.Equal(got, want) {
			t.Fatal("the shared secret for the recipient is not the peer's")
		}
	})
}

// TestDecisionD80RecipientRefusals: a Recipient's members are checked
// with the call's input (KeyEncryptionAlgorithm RSAES_OAEP_SHA_256 only,
// spec aws-kms-asymmetric-hmac.md §5), and a document that does not
// verify, or has no RSA key, is ValidationException before the key is
// looked up (D80); none of them uses the key. Recipient is a member of
// GenerateDataKeyPair only, not of its WithoutPlaintext twin (§5).
func TestDecisionD80RecipientRefusals(t *testing.T) {
	enc := fxNewEnclave(t)
	other := fxNewEnclave(t)
	other.m, _ = attestation.NewModule(rand.NewChaCha8([32]byte{'o'}), fxT0.Add(-time.Hour))
	e := fxNew(t, kms.WithAttestationRoots(enc.m.Roots()))
	id, _ := e.symmetric()
	ct, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.NewChaCha8([32]byte{'k'}))
	if err != nil {
		t.Fatal(err)
	}
	ecPub, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	const invalid = "The attestation document in the Recipient parameter is not valid: "
	for _, tc := range []struct {
		name string
		r    *kms.RecipientInfo
		msg  string
	}{
		{"another algorithm", &kms.RecipientInfo{AttestationDocument: enc.doc(fxT0), KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_1"},
			fxValidation("RSAES_OAEP_SHA_1", "recipient.keyEncryptionAlgorithm", "Member must satisfy enum value set: [RSAES_OAEP_SHA_256]")},
		{"no document", &kms.RecipientInfo{},
			"1 validation error detected: Value null at 'recipient.attestationDocument' failed to satisfy constraint: Member must not be null"},
		{"document too long", fxRecipient(make([]byte, 262145)),
			fxValidation("[blob]", "recipient.attestationDocument", "Member must have length less than or equal to 262144")},
		{"malformed", fxRecipient([]byte("not CBOR")), invalid + "it is malformed."},
		{"untrusted module", fxRecipient(other.doc(fxT0)), invalid + "its certificate does not chain to a trusted Nitro root at the time of the request."},
		{"signing certificate expired", fxRecipient(enc.doc(fxT0.Add(-4 * time.Hour))),
			invalid + "its certificate does not chain to a trusted Nitro root at the time of the request."},
		{"no public key", fxRecipient(enc.docWith(attestation.Claims{Timestamp: fxT0})),
			"The attestation document in the Recipient parameter has no RSA public key."},
		{"an EC public key", fxRecipient(enc.docWith(attestation.Claims{Timestamp: fxT0, PublicKey: ecPub})),
			"The attestation document in the Recipient parameter has no RSA public key."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := func(op keystate.Operation, err error) {
				t.Helper()
				fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: op, State: keystate.None, Msg: tc.msg})
			}
			_, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, Recipient: tc.r})
			want(keystate.Decrypt, err)
			// Before the key is looked up: a missing key is not reported.
			_, err = e.s.GenerateDataKey(e.ctx, &kms.GenerateDataKeyInput{KeyId: fxMissingID, KeySpec: "AES_128", Recipient: tc.r})
			want(keystate.GenerateDataKey, err)
			_, err = e.s.GenerateDataKeyPair(e.ctx, &kms.GenerateDataKeyPairInput{KeyId: fxMissingID, KeyPairSpec: "ECC_NIST_P256", Recipient: tc.r})
			want(keystate.GenerateDataKeyPair, err)
			n := int32(8)
			_, err = e.s.GenerateRandom(e.ctx, &kms.GenerateRandomInput{NumberOfBytes: &n, Recipient: tc.r})
			want(keystate.GenerateRandom, err)
			_, err = e.s.DeriveSharedSecret(e.ctx, &kms.DeriveSharedSecretInput{KeyId: fxMissingID, KeyAgreementAlgorithm: "ECDH",
				PublicKey: ecPub, Recipient: tc.r})
			want(keystate.DeriveSharedSecret, err)
		})
	}
	t.Run("tampered document", func(t *testing.T) {
		d := enc.doc(fxT0)
		d[len(d)-1] ^= 1 // the last byte of the signature
		_, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, Recipient: fxRecipient(d)})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.Decrypt, State: keystate.None,
			Msg: invalid + "its signature does not verify."})
	})
	t.Run("AWS's root by default", func(t *testing.T) {
		plain := fxNew(t)
		n := int32(8)
		_, err := plain.s.GenerateRandom(plain.ctx, &kms.GenerateRandomInput{NumberOfBytes: &n, Recipient: fxRecipient(enc.doc(fxT0))})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.GenerateRandom, State: keystate.None,
			Msg: invalid + "its certificate does not chain to a trusted Nitro root at the time of the request."})
	})
	t.Run("the signing certificate expires with the clock", func(t *testing.T) {
		d := enc.doc(fxT0)
		e := fxNew(t, kms.WithAttestationRoots(enc.m.Roots()))
		ct, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: e.create(nil).KeyId, Plaintext: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		// Verified once (and remembered), the document still expires.
		n := int32(8)
		if _, err := e.s.GenerateRandom(e.ctx, &kms.GenerateRandomInput{NumberOfBytes: &n, Recipient: fxRecipient(d)}); err != nil {
			t.Fatal(err)
		}
		e.advance(3 * time.Hour)
		if _, err := e.s.GenerateRandom(e.ctx, &kms.GenerateRandomInput{NumberOfBytes: &n, Recipient: fxRecipient(d)}); err != nil {
			t.Fatalf("at the last instant of the certificate: %v", err)
		}
		e.advance(time.Minute)
		_, err = e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, Recipient: fxRecipient(d)})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.Decrypt, State: keystate.None,
			Msg: invalid + "its certificate does not chain to a trusted Nitro root at the time of the request."})
	})
	t.Run("not a member of the operations without plaintext", func(t *testing.T) {
		r := fxRecipient(enc.doc(fxT0))
		_, err := e.s.GenerateDataKeyWithoutPlaintext(e.ctx, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: id, KeySpec: "AES_256", Recipient: r})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.GenerateDataKeyWithoutPlaintext, State: keystate.None,
			Msg: "Recipient is not a parameter of GenerateDataKeyWithoutPlaintext: it returns no plaintext to encrypt for a recipient."})
		_, err = e.s.GenerateDataKeyPairWithoutPlaintext(e.ctx, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: id,
			KeyPairSpec: "RSA_2048", Recipient: r})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.GenerateDataKeyPairWithoutPlaintext, State: keystate.None,
			Msg: "Recipient is not a parameter of GenerateDataKeyPairWithoutPlaintext: it returns no plaintext to encrypt for a recipient."})
	})
	t.Run("a dry run seals nothing", func(t *testing.T) {
		_, err := e.s.Decrypt(kms.WithDryRun(e.ctx), &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, Recipient: fxRecipient(enc.doc(fxT0))})
		if !strings.Contains(fxErrString(err), "DryRun") {
			t.Fatalf("got %v, want DryRunOperationException", err)
		}
	})
	last, err := e.s.GetKeyLastUsage(e.ctx, &kms.GetKeyLastUsageInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	if last.KeyLastUsage.Operation != "Encrypt" {
		t.Fatalf("a refused call used the key: %+v", last.KeyLastUsage)
	}
}

// TestDecisionD80RecipientConditions: the document's PCRs are condition
// keys of the call (kms:RecipientAttestation:ImageSha384 is PCR0), so a
// key policy can let only an enclave image decrypt.
func TestDecisionD80RecipientConditions(t *testing.T) {
	enc := fxNewEnclave(t)
	e := fxNew(t, kms.WithAttestationRoots(enc.m.Roots()))
	id, arn := e.symmetric()
	ct, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("for the image")})
	if err != nil {
		t.Fatal(err)
	}
	pcr8 := bytes.Repeat([]byte{0x08}, 48)
	pcr20 := bytes.Repeat([]byte{0x20}, 48) // past the 16 a Nitro Secure Module fills
	policy := `{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + fxAccount + `:root"},"NotAction":"kms:Decrypt","Resource":"*"},
{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + fxAccount + `:root"},"Action":"kms:Decrypt","Resource":"*",
 "Condition":{"StringEqualsIgnoreCase":{"kms:RecipientAttestation:ImageSha384":"` + strings.ToUpper(hex.EncodeToString(fxPCR0)) + `",
   "kms:RecipientAttestation:PCR8":"` + hex.EncodeToString(pcr8) + `",
   "kms:RecipientAttestation:PCR20":"` + hex.EncodeToString(pcr20) + `"}}}]}`
	if _, err := e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: policy}); err != nil {
		t.Fatal(err)
	}
	denied := func(t *testing.T, r *kms.RecipientInfo) {
		t.Helper()
		_, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, Recipient: r})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrAccessDenied, Op: keystate.Decrypt, KeyID: arn, State: keystate.Enabled,
			Msg: "User: arn:aws:iam::" + fxAccount + ":root is not authorized to perform: kms:Decrypt on resource: " + arn +
				" because no resource-based policy allows the kms:Decrypt action"})
	}
	t.Run("without a Recipient", func(t *testing.T) { denied(t, nil) })
	t.Run("another image", func(t *testing.T) {
		denied(t, fxRecipient(enc.docWith(attestation.Claims{Timestamp: fxT0, PublicKey: enc.pub,
			PCRs: map[int][]byte{0: bytes.Repeat([]byte{0xcd}, 48), 8: pcr8, 20: pcr20}})))
	})
	t.Run("another PCR8", func(t *testing.T) {
		denied(t, fxRecipient(enc.docWith(attestation.Claims{Timestamp: fxT0, PublicKey: enc.pub,
			PCRs: map[int][]byte{0: fxPCR0, 20: pcr20}})))
	})
	t.Run("no PCR20", func(t *testing.T) {
		denied(t, fxRecipient(enc.docWith(attestation.Claims{Timestamp: fxT0, PublicKey: enc.pub,
			PCRs: map[int][]byte{0: fxPCR0, 8: pcr8}})))
	})
	t.Run("the image", func(t *testing.T) {
		r := fxRecipient(enc.docWith(attestation.Claims{Timestamp: fxT0, PublicKey: enc.pub,
			PCRs: map[int][]byte{0: fxPCR0, 8: pcr8, 20: pcr20}}))
		out, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, Recipient: r})
		if err != nil {
			t.Fatal(err)
		}
		if got := enc.open(out.CiphertextForRecipient); string(got) != "for the image" {
			t.Fatalf("opened %q", got)
		}
	})
}

// TestDecisionD80RecipientEvent: a call with a Recipient records the
// document's module ID, image digest and PCRs 1–4 and 8, as CloudTrail's
// additionalEventData.recipient does; a call without one records none.
func TestDecisionD80RecipientEvent(t *testing.T) {
	enc := fxNewEnclave(t)
	var events []kms.Event
	e := fxNew(t, kms.WithAttestationRoots(enc.m.Roots()), kms.WithObserver(kms.ObserverFunc(func(ev kms.Event) { events = append(events, ev) })))
	id, _ := e.symmetric()
	ct, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	pcr1 := bytes.Repeat([]byte{0x01}, 48)
	doc := enc.docWith(attestation.Claims{ModuleID: "i-0123456789abcdef0-enc0123456789abcdef", Timestamp: fxT0, PublicKey: enc.pub,
		PCRs: map[int][]byte{0: fxPCR0, 1: pcr1}})
	events = nil
	if _, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, Recipient: fxRecipient(doc)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob}); err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d events", len(events))
	}
	zero := hex.EncodeToString(make([]byte, 48))
	want := map[string]string{
		"recipient.attestationDocumentModuleId":           "i-0123456789abcdef0-enc0123456789abcdef",
		"recipient.attestationDocumentEnclaveImageDigest": hex.EncodeToString(fxPCR0),
		"recipient.attestationDocumentEnclavePCR1":        hex.EncodeToString(pcr1),
		"recipient.attestationDocumentEnclavePCR2":        zero,
		"recipient.attestationDocumentEnclavePCR3":        zero,
		"recipient.attestationDocumentEnclavePCR4":        zero,
		"recipient.attestationDocumentEnclavePCR8":        zero,
	}
	if got := events[0].AdditionalEventData; !maps.Equal(got, want) {
		t.Errorf("with a Recipient: %v\n want %v", got, want)
	}
	if got := events[1].AdditionalEventData; got != nil {
		t.Errorf("without a Recipient: %v", got)
	}
}

// TestDecisionD80NitroTPM: a NitroTPM document (an EC2 instance's, from
// nitro-tpm-attest) is a Recipient as an enclave's is: its PCRs are the
// condition keys kms:RecipientAttestation:NitroTPMPCR<n> (and it gives no
// ImageSha384), as AWS's "Condition keys for NitroTPM" describes, and its
// events record them as attestationDocumentNitroTPMPCR<n>.
func TestDecisionD80NitroTPM(t *testing.T) {
	enc := fxNewEnclave(t)
	var events []kms.Event
	e := fxNew(t, kms.WithAttestationRoots(enc.m.Roots()), kms.WithObserver(kms.ObserverFunc(func(ev kms.Event) { events = append(events, ev) })))
	id, arn := e.symmetric()
	ct, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("for the instance")})
	if err != nil {
		t.Fatal(err)
	}
	pcr7 := bytes.Repeat([]byte{0x07}, 48)
	policy := `{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + fxAccount + `:root"},"NotAction":"kms:Decrypt","Resource":"*"},
{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + fxAccount + `:root"},"Action":"kms:Decrypt","Resource":"*",
 "Condition":{"StringEquals":{"kms:RecipientAttestation:NitroTPMPCR7":"` + hex.EncodeToString(pcr7) + `"}}}]}`
	if _, err := e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: policy}); err != nil {
		t.Fatal(err)
	}
	tpm := func(pcrs map[int][]byte) *kms.RecipientInfo {
		return fxRecipient(enc.docWith(attestation.Claims{Timestamp: fxT0, PublicKey: enc.pub, NitroTPM: true, PCRs: pcrs}))
	}
	// An enclave's document with the same PCR7 is not a NitroTPM's.
	for name, r := range map[string]*kms.RecipientInfo{
		"another PCR7":                     tpm(map[int][]byte{7: bytes.Repeat([]byte{0x17}, 48)}),
		"an enclave's document, same PCR7": fxRecipient(enc.docWith(attestation.Claims{Timestamp: fxT0, PublicKey: enc.pub, PCRs: map[int][]byte{7: pcr7}})),
	} {
		_, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, Recipient: r})
		if !errors.Is(err, keystate.ErrAccessDenied) {
			t.Errorf("%s: %v, want AccessDeniedException", name, err)
		}
	}
	events = nil
	out, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, Recipient: tpm(map[int][]byte{7: pcr7})})
	if err != nil {
		t.Fatal(err)
	}
	if out.Plaintext != nil || out.KeyId != arn || string(enc.open(out.CiphertextForRecipient)) != "for the instance" {
		t.Fatalf("Decrypt = %+v", out)
	}
	trail := events[0].AdditionalEventData
	if trail["recipient.attestationDocumentModuleId"] != attestation.DefaultTPMModuleID ||
		trail["recipient.attestationDocumentNitroTPMPCR7"] != hex.EncodeToString(pcr7) ||
		trail["recipient.attestationDocumentEnclaveImageDigest"] != "" || len(trail) != 1+6 ||
		trail["recipient.attestationDocumentNitroTPMPCR23"] == "" || trail["recipient.attestationDocumentNitroTPMPCR0"] != "" {
		t.Errorf("AdditionalEventData = %v", trail)
	}
}

// TestDecisionD80RecipientConcurrent: calls with Recipients verify their
// documents outside the service's lock, at once, and share what they
// verified (run with -race).
func TestDecisionD80RecipientConcurrent(t *testing.T) {
	enc := fxNewEnclave(t)
	e := fxNew(t, kms.WithAttestationRoots(enc.m.Roots()))
	id, _ := e.symmetric()
	ct, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("shared")})
	if err != nil {
		t.Fatal(err)
	}
	docs := [][]byte{enc.doc(fxT0), enc.doc(fxT0.Add(-time.Second))}
	err = proctest.Drive(8, 32, func(i int) error {
		out, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, Recipient: fxRecipient(docs[i%2])})
		if err == nil && out.CiphertextForRecipient == nil {
			err = errors.New("no CiphertextForRecipient")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
