package kms_test

// The key-state table (aws-kms-behaviour.md a.2, a.3; asymmetric-hmac spec
// §11) for the operations of asymmetric and HMAC keys, in every state such
// a key can be in. The expected cells are written out here from the table,
// not taken from keystate.Check, so that the table in keystate is checked
// too. Names start with "ast".

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// astPrep holds what the operations need, made while the key was Enabled:
// a signature, a MAC, an RSA ciphertext, a peer public key, an ML-KEM
// ciphertext (any 1,088 bytes decapsulate: implicit rejection).
type astPrep struct {
	sig, mac, ct, peer, kem []byte
}

// astKind is the kind of key an operation runs on.
type astKind struct{ spec, usage string }

var (
	astSign   = astKind{"ECC_NIST_P256", "SIGN_VERIFY"}
	astMac    = astKind{"HMAC_256", "GENERATE_VERIFY_MAC"}
	astRSA    = astKind{"RSA_2048", "ENCRYPT_DECRYPT"}
	astAgree  = astKind{"ECC_NIST_P256", "KEY_AGREEMENT"}
	astSymKey = astKind{"SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"}
	astKEM    = astKind{"ML_KEM_768", "ENCAPSULATE_DECAPSULATE"}
)

// prepare makes astPrep with key id of kind k, which is usable.
func (e *fxEnv) astPrepare(k astKind, id string) astPrep {
	e.t.Helper()
	local, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	p := astPrep{sig: []byte("no signature"), mac: bytes.Repeat([]byte{1}, 32), ct: bytes.Repeat([]byte{2}, 256),
		kem: bytes.Repeat([]byte{3}, 1088)}
	p.peer, _ = x509.MarshalPKIXPublicKey(local.PublicKey())
	if id == "" {
		return p
	}
	switch k {
	case astSign:
		p.sig = e.asSign(id, "ECDSA_SHA_256", "RAW", asMsg)
	case astMac:
		p.mac = e.asMac(id, "HMAC_SHA_256", asMsg)
	case astRSA:
		out, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: asMsg, EncryptionAlgorithm: "RSAES_OAEP_SHA_256"})
		if err != nil {
			e.t.Fatal(err)
		}
		p.ct = out.CiphertextBlob
	}
	return p
}

// astMaterial is key material of kind k for import.
func astMaterial(t *testing.T, k astKind) []byte {
	switch k {
	case astMac, astSymKey:
		return bytes.Repeat([]byte{0x33}, 32)
	case astRSA:
		return asRSAPKCS8()
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// asRSAPKCS8 is one RSA_2048 private key in PKCS#8, made once per run.
var asRSAPKCS8 = sync.OnceValue(func() []byte {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return der
})

// astScenario brings a key of a kind into one state, seen from the Region
// of the key under test.
type astScenario struct {
	name  string
	state keystate.State
	// imported: an EXTERNAL key whose material was imported, then deleted.
	imported bool
	build    func(t *testing.T, k astKind) (e *fxEnv, id string, p astPrep)
}

func astScenarios() []astScenario {
	single := func(t *testing.T, k astKind) (*fxEnv, string, astPrep) {
		e := fxNew(t)
		id := e.create(&kms.CreateKeyInput{KeySpec: k.spec, KeyUsage: k.usage}).KeyId
		return e, id, e.astPrepare(k, id)
	}
	// pair: a multi-Region primary with an Enabled replica in us-west-2.
	pair := func(t *testing.T, k astKind, opts ...kms.Option) (*fxEnv, string, astPrep) {
		e := fxNew(t, opts...)
		id := e.create(&kms.CreateKeyInput{KeySpec: k.spec, KeyUsage: k.usage, MultiRegion: true}).KeyId
		p := e.astPrepare(k, id)
		e.mrReplicate(id, mrWest)
		e.advance(time.Minute)
		return e, id, p
	}
	return []astScenario{
		{"Enabled", keystate.Enabled, false, single},
		{"Disabled", keystate.Disabled, false, func(t *testing.T, k astKind) (*fxEnv, string, astPrep) {
			e, id, p := single(t, k)
			e.disable(id)
			return e, id, p
		}},
		{"PendingDeletion", keystate.PendingDeletion, false, func(t *testing.T, k astKind) (*fxEnv, string, astPrep) {
			e, id, p := single(t, k)
			e.scheduleDeletion(id, 7)
			return e, id, p
		}},
		{"PendingImport never imported", keystate.PendingImport, false, func(t *testing.T, k astKind) (*fxEnv, string, astPrep) {
			e := fxNew(t)
			id := e.create(&kms.CreateKeyInput{KeySpec: k.spec, KeyUsage: k.usage, Origin: "EXTERNAL"}).KeyId
			return e, id, e.astPrepare(k, "")
		}},
		{"PendingImport material deleted", keystate.PendingImport, true, func(t *testing.T, k astKind) (*fxEnv, string, astPrep) {
			e := fxNew(t)
			id := e.create(&kms.CreateKeyInput{KeySpec: k.spec, KeyUsage: k.usage, Origin: "EXTERNAL"}).KeyId
			wrap := "RSAES_OAEP_SHA_256"
			if k == astRSA {
				wrap = "RSA_AES_KEY_WRAP_SHA_256"
			}
			if err := asImport(t, e, id, wrap, astMaterial(t, k)); err != nil {
				t.Fatal(err)
			}
			p := e.astPrepare(k, id)
			if _, err := e.s.DeleteImportedKeyMaterial(e.ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: id}); err != nil {
				t.Fatal(err)
			}
			return e, id, p
		}},
		{"replica Creating", keystate.Creating, false, func(t *testing.T, k astKind) (*fxEnv, string, astPrep) {
			e := fxNew(t, kms.WithReplicaCreationDuration(time.Hour))
			id := e.create(&kms.CreateKeyInput{KeySpec: k.spec, KeyUsage: k.usage, MultiRegion: true}).KeyId
			p := e.astPrepare(k, id)
			e.mrReplicate(id, mrWest)
			return e.mrIn(mrWest), id, p
		}},
		{"old primary Updating", keystate.Updating, false, func(t *testing.T, k astKind) (*fxEnv, string, astPrep) {
			e, id, p := pair(t, k, kms.WithPrimaryUpdateDuration(time.Hour))
			if _, err := e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: mrWest}); err != nil {
				t.Fatal(err)
			}
			return e, id, p
		}},
		{"new primary Updating", keystate.Updating, false, func(t *testing.T, k astKind) (*fxEnv, string, astPrep) {
			e, id, p := pair(t, k, kms.WithPrimaryUpdateDuration(time.Hour))
			if _, err := e.s.UpdatePrimaryRegion(e.ctx, &kms.UpdatePrimaryRegionInput{KeyId: id, PrimaryRegion: mrWest}); err != nil {
				t.Fatal(err)
			}
			return e.mrIn(mrWest), id, p
		}},
		{"primary PendingReplicaDeletion", keystate.PendingReplicaDeletion, false, func(t *testing.T, k astKind) (*fxEnv, string, astPrep) {
			e, id, p := pair(t, k)
			// A primary with replicas waits without a DeletionDate.
			if _, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id}); err != nil {
				t.Fatal(err)
			}
			return e, id, p
		}},
		{"replica PendingDeletion", keystate.PendingDeletion, false, func(t *testing.T, k astKind) (*fxEnv, string, astPrep) {
			e, id, p := pair(t, k)
			west := e.mrIn(mrWest)
			west.scheduleDeletion(id, 7)
			return west, id, p
		}},
	}
}

// astOps are the operations of asymmetric and HMAC keys, each with the
// kind of key it takes and input that is valid for a usable key.
var astOps = []struct {
	op   keystate.Operation
	kind astKind
	call func(e *fxEnv, id string, p astPrep) error
}{
	{keystate.Sign, astSign, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.Sign(e.ctx, &kms.SignInput{KeyId: id, Message: asMsg, SigningAlgorithm: "ECDSA_SHA_256"})
		return err
	}},
	{keystate.Verify, astSign, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.Verify(e.ctx, &kms.VerifyInput{KeyId: id, Message: asMsg, SigningAlgorithm: "ECDSA_SHA_256", Signature: p.sig})
		return err
	}},
	{keystate.GetPublicKey, astSign, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.GetPublicKey(e.ctx, &kms.GetPublicKeyInput{KeyId: id})
		return err
	}},
	{keystate.GenerateMac, astMac, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.GenerateMac(e.ctx, &kms.GenerateMacInput{KeyId: id, Message: asMsg, MacAlgorithm: "HMAC_SHA_256"})
		return err
	}},
	{keystate.VerifyMac, astMac, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.VerifyMac(e.ctx, &kms.VerifyMacInput{KeyId: id, Message: asMsg, MacAlgorithm: "HMAC_SHA_256", Mac: p.mac})
		return err
	}},
	{keystate.DeriveSharedSecret, astAgree, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.DeriveSharedSecret(e.ctx, &kms.DeriveSharedSecretInput{KeyId: id, KeyAgreementAlgorithm: "ECDH", PublicKey: p.peer})
		return err
	}},
	{keystate.Encrypt, astRSA, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: asMsg, EncryptionAlgorithm: "RSAES_OAEP_SHA_1"})
		return err
	}},
	{keystate.Decrypt, astRSA, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.Decrypt(e.ctx, &kms.DecryptInput{KeyId: id, CiphertextBlob: p.ct, EncryptionAlgorithm: "RSAES_OAEP_SHA_256"})
		return err
	}},
	{keystate.ReEncrypt, astRSA, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.ReEncrypt(e.ctx, &kms.ReEncryptInput{CiphertextBlob: p.ct, SourceKeyId: id, SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
			DestinationKeyId: id, DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_1"})
		return err
	}},
	{keystate.GenerateDataKeyPair, astSymKey, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.GenerateDataKeyPair(e.ctx, &kms.GenerateDataKeyPairInput{KeyId: id, KeyPairSpec: "ECC_NIST_P256"})
		return err
	}},
	{keystate.GenerateDataKeyPairWithoutPlaintext, astSymKey, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.GenerateDataKeyPairWithoutPlaintext(e.ctx, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: id, KeyPairSpec: "ECC_NIST_P256"})
		return err
	}},
	{keystate.Encapsulate, astKEM, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.Encapsulate(e.ctx, &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM"})
		return err
	}},
	{keystate.Decapsulate, astKEM, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.Decapsulate(e.ctx, &kms.DecapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM", SharedSecretCiphertextBlob: p.kem})
		return err
	}},
	{keystate.GetKeyLastUsage, astSign, func(e *fxEnv, id string, p astPrep) error {
		_, err := e.s.GetKeyLastUsage(e.ctx, &kms.GetKeyLastUsageInput{KeyId: id})
		return err
	}},
}

// astWant is the table's cell for op in state (aws-kms-behaviour.md a.2,
// asymmetric-hmac §11): nil for ✓, else the refusal's code and message.
// Encapsulate and Decapsulate have DeriveSharedSecret's row (D54).
func astWant(op keystate.Operation, sc astScenario, arn string) (keystate.Exception, string) {
	if op == keystate.GetKeyLastUsage {
		return "", "" // D31: every state
	}
	switch sc.state {
	case keystate.Enabled, keystate.Updating:
		return "", ""
	case keystate.Disabled:
		if op == keystate.GetPublicKey {
			return "", "" // ✓ (changed since 2022, §11)
		}
		return keystate.ErrDisabled, arn + " is disabled." // [1]
	case keystate.PendingDeletion, keystate.PendingReplicaDeletion:
		return keystate.ErrKMSInvalidState, arn + " is pending deletion." // [3], D17, recorded wording
	case keystate.PendingImport:
		// [5] with the recorded wording. GetPublicKey is ✓ (§11): the
		// public key of material since deleted stays; a key that never had
		// material has none yet (D30).
		if op == keystate.GetPublicKey && sc.imported {
			return "", ""
		}
		return keystate.ErrKMSInvalidState, arn + " is pending import."
	case keystate.Creating:
		return keystate.ErrKMSInvalidState, arn + " is creating." // [14]
	}
	panic("astWant: state " + sc.state.String())
}

// Every operation of asymmetric and HMAC keys in every state its key can
// be in (Unavailable is N/A: such keys cannot be in a custom key store):
// the exact refusal of the key-state table, or success.
func TestAsymEveryStateEveryOperation(t *testing.T) {
	for _, sc := range astScenarios() {
		for _, o := range astOps {
			if sc.imported && o.kind == astKEM {
				continue // no material can be imported into an ML-KEM key (D35)
			}
			t.Run(sc.name+"/"+o.op.String(), func(t *testing.T) {
				t.Parallel()
				e, id, p := sc.build(t, o.kind)
				d := e.describe(id)
				if d.KeyState != sc.state.String() {
					t.Fatalf("scenario left the key %s, want %s", d.KeyState, sc.state)
				}
				err := o.call(e, id, p)
				code, msg := astWant(o.op, sc, d.Arn)
				if code == "" {
					if err != nil {
						t.Fatalf("%s in %s: %v, want success", o.op, sc.name, err)
					}
					return
				}
				fxCheckErr(t, err, fxWant{Code: code, Op: o.op, KeyID: d.Arn, State: sc.state, Msg: msg})
			})
		}
	}
}

// Footnote [7] of GenerateDataKeyPair(+WithoutPlaintext): a key in a
// custom key store cannot encrypt a data key pair, connected (Enabled) or
// not (Unavailable).
func TestAsymGenerateDataKeyPairCustomKeyStore(t *testing.T) {
	e := fxNew(t)
	cks := ckStore(t, e.s, ckHSMInput("hsm"))
	ckConnect(t, e.s, cks)
	m := ckKey(t, e.s, cks)
	for _, state := range []keystate.State{keystate.Enabled, keystate.Unavailable} {
		if state == keystate.Unavailable {
			ckDisconnect(t, e.s, cks)
		}
		_, err := e.s.GenerateDataKeyPair(e.ctx, &kms.GenerateDataKeyPairInput{KeyId: m.KeyId, KeyPairSpec: "ECC_NIST_P256"})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.GenerateDataKeyPair, KeyID: m.Arn, State: state,
			Msg: m.Arn + " origin is AWS_CLOUDHSM which is not valid for this operation."})
		_, err = e.s.GenerateDataKeyPairWithoutPlaintext(e.ctx, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: m.KeyId, KeyPairSpec: "ECC_NIST_P256"})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.GenerateDataKeyPairWithoutPlaintext, KeyID: m.Arn,
			State: state, Msg: m.Arn + " origin is AWS_CLOUDHSM which is not valid for this operation."})
	}
}
