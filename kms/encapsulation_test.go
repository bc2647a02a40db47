package kms_test

// ML-KEM keys (shared/spec/aws-kms-asymmetric-hmac.md §1.4; decision D54):
// Encapsulate and Decapsulate, checked against the standard library's
// crypto/mlkem on the other side. Names here start with "kem".

import (
	"bytes"
	"context"
	"crypto/mlkem"
	"encoding/asn1"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// kemCiphertextSize is FIPS 203's ciphertext length of each spec.
var kemCiphertextSize = map[string]int{"ML_KEM_512": 768, "ML_KEM_768": 1088, "ML_KEM_1024": 1568}

// kemEncapsulate encapsulates with key id, which must succeed.
func (e *fxEnv) kemEncapsulate(id string) *kms.EncapsulateOutput {
	e.t.Helper()
	out, err := e.s.Encapsulate(e.ctx, &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM"})
	if err != nil {
		e.t.Fatalf("Encapsulate(%s): %v", id, err)
	}
	return out
}

// kemDecapsulate decapsulates ct with key id.
func (e *fxEnv) kemDecapsulate(id string, ct []byte) (*kms.DecapsulateOutput, error) {
	return e.s.Decapsulate(e.ctx, &kms.DecapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM", SharedSecretCiphertextBlob: ct})
}

// kemEncapsulationKey reads the FIPS 203 encapsulation key out of a
// SubjectPublicKeyInfo.
func kemEncapsulationKey(t testing.TB, spki []byte) []byte {
	t.Helper()
	var v struct {
		Algo      struct{ Algorithm asn1.ObjectIdentifier }
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(spki, &v); err != nil || len(rest) != 0 {
		t.Fatalf("public key is not a SubjectPublicKeyInfo: %v", err)
	}
	return v.PublicKey.RightAlign()
}

// §1.4: every ML-KEM spec round-trips, DescribeKey and GetPublicKey list
// ML_KEM, and a secret that the standard library encapsulates to the
// public key GetPublicKey returns decapsulates to the same secret.
func TestKemRoundTripEverySpec(t *testing.T) {
	e := fxNew(t)
	for spec, size := range kemCiphertextSize {
		id, arn := e.kindKey(spec, "ENCAPSULATE_DECAPSULATE")
		m := e.describe(id)
		if !slices.Equal(m.EncapsulationAlgorithms, []string{"ML_KEM"}) || m.KeyUsage != "ENCAPSULATE_DECAPSULATE" ||
			m.EncryptionAlgorithms != nil || m.SigningAlgorithms != nil || m.KeyAgreementAlgorithms != nil {
			t.Fatalf("%s: DescribeKey %+v", spec, m)
		}
		pub := e.asPublic(id)
		if !slices.Equal(pub.EncapsulationAlgorithms, []string{"ML_KEM"}) || pub.KeySpec != spec || pub.KeyUsage != "ENCAPSULATE_DECAPSULATE" {
			t.Fatalf("%s: GetPublicKey %+v", spec, pub)
		}
		out := e.kemEncapsulate(id)
		if out.KeyId != arn || out.EncapsulationAlgorithm != "ML_KEM" || len(out.SharedSecret) != 32 || len(out.SharedSecretCiphertextBlob) != size {
			t.Fatalf("%s: Encapsulate gave %s %s, a %d-byte secret, a %d-byte ciphertext", spec, out.KeyId, out.EncapsulationAlgorithm,
				len(out.SharedSecret), len(out.SharedSecretCiphertextBlob))
		}
		back, err := e.kemDecapsulate(id, out.SharedSecretCiphertextBlob)
		if err != nil || !bytes.Equal(back.SharedSecret, out.SharedSecret) || back.KeyId != arn || back.EncapsulationAlgorithm != "ML_KEM" {
			t.Fatalf("%s: Decapsulate: %v", spec, err)
		}
		ek := kemEncapsulationKey(t, pub.PublicKey)
		var secret, ct []byte
		switch spec {
		case "ML_KEM_768":
			k, err := mlkem.NewEncapsulationKey768(ek)
			if err != nil {
				t.Fatal(err)
			}
			secret, ct = k.Encapsulate()
		case "ML_KEM_1024":
			k, err := mlkem.NewEncapsulationKey1024(ek)
			if err != nil {
				t.Fatal(err)
			}
			secret, ct = k.Encapsulate()
		default:
			continue // crypto/mlkem has no ML-KEM-512
		}
		got, err := e.kemDecapsulate(id, ct)
		if err != nil || !bytes.Equal(got.SharedSecret, secret) {
			t.Fatalf("%s: Decapsulate of crypto/mlkem's encapsulation: %v", spec, err)
		}
		last, err := e.s.GetKeyLastUsage(e.ctx, &kms.GetKeyLastUsageInput{KeyId: id})
		if err != nil || last.KeyLastUsage.Operation != "Decapsulate" {
			t.Fatalf("%s: GetKeyLastUsage = %+v, %v", spec, last, err)
		}
	}
}

// §1.4: implicit rejection, and the refusals. A ciphertext altered or
// made for another key gives another 32-byte secret and no error; one of
// the wrong length is InvalidCiphertextException (also in a dry run, D27:
// it parses the ciphertext); another key usage, algorithm or key state
// is refused as for DeriveSharedSecret (D54).
func TestKemRefusals(t *testing.T) {
	e := fxNew(t)
	id, arn := e.kindKey("ML_KEM_768", "ENCAPSULATE_DECAPSULATE")
	other, _ := e.kindKey("ML_KEM_768", "ENCAPSULATE_DECAPSULATE")
	out := e.kemEncapsulate(id)
	altered := bytes.Clone(out.SharedSecretCiphertextBlob)
	altered[100] ^= 0x40
	for name, c := range map[string]struct{ id, ct string }{
		"altered":     {id, string(altered)},
		"another key": {other, string(out.SharedSecretCiphertextBlob)},
	} {
		got, err := e.kemDecapsulate(c.id, []byte(c.ct))
		if err != nil || len(got.SharedSecret) != 32 || bytes.Equal(got.SharedSecret, out.SharedSecret) {
			t.Fatalf("%s ciphertext: %v", name, err)
		}
	}
	en := keystate.Enabled
	_, err := e.kemDecapsulate(id, out.SharedSecretCiphertextBlob[:1087])
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidCiphertext, Op: keystate.Decapsulate, KeyID: arn, State: en})
	_, err = e.s.Decapsulate(kms.WithDryRun(e.ctx), &kms.DecapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM",
		SharedSecretCiphertextBlob: make([]byte, 1568)})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidCiphertext, Op: keystate.Decapsulate, KeyID: arn, State: en})
	_, err = e.s.Decapsulate(kms.WithDryRun(e.ctx), &kms.DecapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM",
		SharedSecretCiphertextBlob: out.SharedSecretCiphertextBlob})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrDryRunOperation, Op: keystate.Decapsulate, KeyID: arn, State: en,
		Msg: "The request would have succeeded, but the DryRun option is set."})

	_, err = e.kemDecapsulate(id, nil)
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.Decapsulate,
		Msg: "1 validation error detected: Value 'null' at 'sharedSecretCiphertextBlob' failed to satisfy constraint: Member must not be null"})
	_, err = e.s.Encapsulate(e.ctx, &kms.EncapsulateInput{KeyId: id})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.Encapsulate,
		Msg: "1 validation error detected: Value 'null' at 'encapsulationAlgorithm' failed to satisfy constraint: Member must not be null"})
	_, err = e.s.Encapsulate(e.ctx, &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: "ECDH"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.Encapsulate,
		Msg: "1 validation error detected: Value 'ECDH' at 'encapsulationAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [ML_KEM]"})
	agreeID, agreeARN := e.kindKey("ECC_NIST_P256", "KEY_AGREEMENT")
	_, err = e.s.Encapsulate(e.ctx, &kms.EncapsulateInput{KeyId: agreeID, EncapsulationAlgorithm: "ML_KEM"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.Encapsulate, KeyID: agreeARN, State: en,
		Msg: agreeARN + " key usage is KEY_AGREEMENT which is not valid for Encapsulate."})
	symID, symARN := e.symmetric()
	_, err = e.kemDecapsulate(symID, out.SharedSecretCiphertextBlob)
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.Decapsulate, KeyID: symARN, State: en,
		Msg: symARN + " key usage is ENCRYPT_DECRYPT which is not valid for Decapsulate."})
	_, err = e.s.DeriveSharedSecret(e.ctx, &kms.DeriveSharedSecretInput{KeyId: id, KeyAgreementAlgorithm: "ECDH", PublicKey: []byte{1}})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrInvalidKeyUsage, Op: keystate.DeriveSharedSecret, KeyID: arn, State: en,
		Msg: arn + " key usage is ENCAPSULATE_DECAPSULATE which is not valid for DeriveSharedSecret."})
	_, err = e.s.CreateKey(e.ctx, &kms.CreateKeyInput{KeySpec: "ML_KEM_768", KeyUsage: "KEY_AGREEMENT"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.CreateKey, Msg: "KeyUsage KEY_AGREEMENT is not compatible with KeySpec ML_KEM_768"})

	// D54: the key states, as DeriveSharedSecret's row decides them.
	e.disable(id)
	_, err = e.s.Encapsulate(e.ctx, &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrDisabled, Op: keystate.Encapsulate, KeyID: arn, State: keystate.Disabled, AnyMsg: true})
	e.enable(id)
	e.scheduleDeletion(id, 7)
	_, err = e.kemDecapsulate(id, out.SharedSecretCiphertextBlob)
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInvalidState, Op: keystate.Decapsulate, KeyID: arn, State: keystate.PendingDeletion, AnyMsg: true})
	e.cancelDeletion(id)
	e.enable(id)
	if got, err := e.kemDecapsulate(id, out.SharedSecretCiphertextBlob); err != nil || !bytes.Equal(got.SharedSecret, out.SharedSecret) {
		t.Fatalf("Decapsulate after the key came back: %v", err)
	}
}

// D54: ML-KEM is not offered in the China Regions (spec §1.2), neither
// as a key nor as a data key pair; a multi-Region ML-KEM key's replicas
// share its key pair.
func TestKemRegions(t *testing.T) {
	e := fxNew(t)
	cn := e.mrIn(asChina)
	_, err := cn.s.CreateKey(cn.ctx, &kms.CreateKeyInput{KeySpec: "ML_KEM_512", KeyUsage: "ENCAPSULATE_DECAPSULATE"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.CreateKey, Msg: "KeySpec ML_KEM_512 is not supported in this Region"})
	cnSym := cn.create(&kms.CreateKeyInput{})
	_, err = cn.s.GenerateDataKeyPair(cn.ctx, &kms.GenerateDataKeyPairInput{KeyId: cnSym.KeyId, KeyPairSpec: "ML_KEM_1024"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.GenerateDataKeyPair, KeyID: cnSym.Arn,
		State: keystate.Enabled, Msg: "KeyPairSpec ML_KEM_1024 is not supported in this Region"})

	id, _ := e.asMRKey("ML_KEM_1024", "ENCAPSULATE_DECAPSULATE")
	e.mrReplicate(id, mrWest)
	out := e.kemEncapsulate(id)
	west := e.mrIn(mrWest)
	got, err := west.kemDecapsulate(id, out.SharedSecretCiphertextBlob)
	if err != nil || !bytes.Equal(got.SharedSecret, out.SharedSecret) {
		t.Fatalf("the replica's Decapsulate: %v", err)
	}
}

// §5: ML-KEM data key pairs: the private key is the PKCS#8 seed form, as
// the spec says AWS's is ("the same length for all three ML-KEM specs"),
// from which crypto/mlkem derives the public key returned with it.
func TestKemDataKeyPair(t *testing.T) {
	e := fxNew(t)
	symID, _ := e.symmetric()
	for _, spec := range []string{"ML_KEM_512", "ML_KEM_1024"} {
		other, err := e.s.GenerateDataKeyPair(e.ctx, &kms.GenerateDataKeyPairInput{KeyId: symID, KeyPairSpec: spec})
		if err != nil || len(other.PrivateKeyPlaintext) != 86 {
			t.Fatalf("%s: a %d-byte private key (%v); want the 86 bytes of every ML-KEM spec's seed form", spec, len(other.PrivateKeyPlaintext), err)
		}
	}
	out, err := e.s.GenerateDataKeyPair(e.ctx, &kms.GenerateDataKeyPairInput{KeyId: symID, KeyPairSpec: "ML_KEM_768"})
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Version    int
		Algo       struct{ Algorithm asn1.ObjectIdentifier }
		PrivateKey []byte
	}
	if _, err := asn1.Unmarshal(out.PrivateKeyPlaintext, &p); err != nil || len(p.PrivateKey) != 66 || len(out.PrivateKeyPlaintext) != 86 {
		t.Fatalf("private key: %v, %d key bytes", err, len(p.PrivateKey))
	}
	dk, err := mlkem.NewDecapsulationKey768(p.PrivateKey[2:])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dk.EncapsulationKey().Bytes(), kemEncapsulationKey(t, out.PublicKey)) {
		t.Fatal("the data key pair's public key is not its private key's")
	}
	if !p.Algo.Algorithm.Equal(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 4, 2}) {
		t.Fatalf("PKCS#8 algorithm %v", p.Algo.Algorithm)
	}
}

// A seeded service (WithRandom) encapsulates the same way every time,
// and the key pair, generated on first use, survives a restart.
func TestKemDeterministicAndPersistent(t *testing.T) {
	run := func() []byte {
		s := kms.New(kms.WithClock(kms.NewManualClock(fxT0)), kms.WithRandom(rand.NewChaCha8([32]byte{5})))
		ctx := context.Background()
		m, err := s.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: "ML_KEM_512", KeyUsage: "ENCAPSULATE_DECAPSULATE"})
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.Encapsulate(ctx, &kms.EncapsulateInput{KeyId: m.KeyMetadata.KeyId, EncapsulationAlgorithm: "ML_KEM"})
		if err != nil {
			t.Fatal(err)
		}
		return out.SharedSecretCiphertextBlob
	}
	if !bytes.Equal(run(), run()) {
		t.Fatal("two services seeded alike encapsulated differently")
	}
	for name, reopen := range psStores(t) {
		t.Run(name, func(t *testing.T) {
			open := asReopener(t, reopen)
			e := open(nil)
			id, _ := e.kindKey("ML_KEM_768", "ENCAPSULATE_DECAPSULATE")
			out := e.kemEncapsulate(id)
			pub := e.asPublic(id).PublicKey
			e = open(e.s)
			if !bytes.Equal(e.asPublic(id).PublicKey, pub) {
				t.Fatal("the public key changed across the restart")
			}
			if got, err := e.kemDecapsulate(id, out.SharedSecretCiphertextBlob); err != nil || !bytes.Equal(got.SharedSecret, out.SharedSecret) {
				t.Fatalf("Decapsulate after the restart: %v", err)
			}
			if err := e.s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Spec §1.4, policies §3: Encapsulate and Decapsulate are authorized as
// kms:Encapsulate and kms:Decapsulate, separately (the key policy below
// lets the app encapsulate, not decapsulate, and gives alice nothing); a
// grant for Decapsulate lets alice decapsulate.
func TestKemPolicyAndGrant(t *testing.T) {
	e := fxNew(t)
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"` + pzApp + `"},"Action":["kms:Encapsulate","kms:PutKeyPolicy","kms:CreateGrant"],"Resource":"*"}]}`
	out, err := e.s.CreateKey(e.as2(pzApp), &kms.CreateKeyInput{KeySpec: "ML_KEM_512", KeyUsage: "ENCAPSULATE_DECAPSULATE", Policy: doc})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := out.KeyMetadata.KeyId, out.KeyMetadata.Arn
	enc, err := e.s.Encapsulate(e.as2(pzApp), &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM"})
	if err != nil {
		t.Fatalf("Encapsulate by the app: %v", err)
	}
	in := &kms.DecapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM", SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob}
	_, err = e.s.Decapsulate(e.as2(pzApp), in)
	pzDenied(t, err, pzApp, "kms:Decapsulate", arn, false)
	_, err = e.s.Encapsulate(e.as2(pzAlice), &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM"})
	pzDenied(t, err, pzAlice, "kms:Encapsulate", arn, false)
	if _, err := e.s.CreateGrant(e.as2(pzApp), &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzAlice, Operations: []string{"Decapsulate"}}); err != nil {
		t.Fatal(err)
	}
	dec, err := e.s.Decapsulate(e.as2(pzAlice), in)
	if err != nil || !bytes.Equal(dec.SharedSecret, enc.SharedSecret) {
		t.Fatalf("Decapsulate under the grant: %v", err)
	}
	_, err = e.s.Encapsulate(e.as2(pzAlice), &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM"})
	pzDenied(t, err, pzAlice, "kms:Encapsulate", arn, false)
	// A grant on a symmetric key cannot allow them.
	symID, symARN := e.symmetric()
	_, err = e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: symID, GranteePrincipal: pzApp, Operations: []string{"Encapsulate"}})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.CreateGrant, KeyID: symARN, State: keystate.Enabled,
		Msg: "Grant operation Encapsulate is not valid for " + symARN + ", whose key usage is ENCRYPT_DECRYPT and key spec SYMMETRIC_DEFAULT."})
}

// In a cluster, an ML-KEM key pair made on one node's first use is the
// pair every node uses: node b decapsulates what node a encapsulated, and
// both see one public key.
func TestKemCluster(t *testing.T) {
	ctx := context.Background()
	nodes, _ := clNodes(t, store.NewSharedMemory(), 2)
	a, b := nodes[0], nodes[1]
	id := clCreate(t, a, &kms.CreateKeyInput{KeySpec: "ML_KEM_1024", KeyUsage: "ENCAPSULATE_DECAPSULATE"})
	enc, err := a.Encapsulate(ctx, &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM"})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := b.Decapsulate(ctx, &kms.DecapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM", SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob})
	if err != nil || !bytes.Equal(dec.SharedSecret, enc.SharedSecret) {
		t.Fatalf("node b's Decapsulate of node a's encapsulation: %v", err)
	}
	pa, errA := a.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: id})
	pb, errB := b.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: id})
	if errA != nil || errB != nil || !bytes.Equal(pa.PublicKey, pb.PublicKey) {
		t.Fatalf("the nodes' public keys differ (%v, %v)", errA, errB)
	}
}

// kemSwitchReader reads from r until fail is set, then fails.
type kemSwitchReader struct {
	r    *rand.ChaCha8
	fail bool
}

func (s *kemSwitchReader) Read(p []byte) (int, error) {
	if s.fail {
		return 0, errors.New("randomness source gone")
	}
	return s.r.Read(p)
}

// Encapsulate whose randomness source fails is KMSInternalException
// saying so, and nothing changes: the key still decapsulates what it
// encapsulated before.
func TestKemRandomnessFailure(t *testing.T) {
	src := &kemSwitchReader{r: rand.NewChaCha8([32]byte{7})}
	e := fxNew(t, kms.WithRandom(src))
	id, arn := e.kindKey("ML_KEM_768", "ENCAPSULATE_DECAPSULATE")
	out := e.kemEncapsulate(id)
	src.fail = true
	_, err := e.s.Encapsulate(e.ctx, &kms.EncapsulateInput{KeyId: id, EncapsulationAlgorithm: "ML_KEM"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrKMSInternal, Op: keystate.Encapsulate, KeyID: arn, State: keystate.Enabled,
		Msg: "The randomness source failed."})
	if got, err := e.kemDecapsulate(id, out.SharedSecretCiphertextBlob); err != nil || !bytes.Equal(got.SharedSecret, out.SharedSecret) {
		t.Fatalf("Decapsulate after the failure: %v", err)
	}
}
