package kms

// White-box tests of the cryptographic operations (issue 6): which material
// version a new ciphertext uses, that the blob names the material it was
// sealed under, and that no secret (the root secret or any key material)
// is ever formatted, put in an error or in an event record. Helpers start
// with "cxi" so that they cannot collide with the other internal tests.

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

var cxiT0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const cxiDay = 24 * time.Hour

// cxiEnv is one service under a manual clock, with a seeded randomness
// source and an observer that keeps every event record.
type cxiEnv struct {
	t      testing.TB
	s      *Service
	clk    *ManualClock
	ctx    context.Context
	events []Event
}

func cxiNew(t testing.TB, opts ...Option) *cxiEnv {
	t.Helper()
	e := &cxiEnv{t: t, clk: NewManualClock(cxiT0), ctx: context.Background()}
	var seed [32]byte
	copy(seed[:], t.Name())
	all := append([]Option{WithClock(e.clk), WithRandom(rand.NewChaCha8(seed)),
		WithObserver(ObserverFunc(func(ev Event) { e.events = append(e.events, ev) }))}, opts...)
	e.s = New(all...)
	return e
}

func (e *cxiEnv) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *cxiEnv) create(in *CreateKeyInput) (id, arn string) {
	e.t.Helper()
	out, err := e.s.CreateKey(e.ctx, in)
	e.must(err)
	return out.KeyMetadata.KeyId, out.KeyMetadata.Arn
}

func (e *cxiEnv) encrypt(id string, pt []byte, ec map[string]string) []byte {
	e.t.Helper()
	out, err := e.s.Encrypt(e.ctx, &EncryptInput{KeyId: id, Plaintext: pt, EncryptionContext: ec})
	e.must(err)
	return out.CiphertextBlob
}

func (e *cxiEnv) rotate(id string) {
	e.t.Helper()
	_, err := e.s.RotateKeyOnDemand(e.ctx, &RotateKeyOnDemandInput{KeyId: id})
	e.must(err)
}

// completed counts a key's completed rotations through ListKeyRotations,
// the public view, not the key's internals.
func (e *cxiEnv) completed(id string) int {
	e.t.Helper()
	n, marker := 0, ""
	for {
		out, err := e.s.ListKeyRotations(e.ctx, &ListKeyRotationsInput{KeyId: id, Limit: Int32(1000), Marker: marker})
		e.must(err)
		n += len(out.Rotations)
		if !out.Truncated {
			return n
		}
		marker = out.NextMarker
	}
}

// wantVersion fails unless blob is a format-1 blob of key id sealed under
// material version want.
func (e *cxiEnv) wantVersion(what string, blob []byte, id string, want int) {
	e.t.Helper()
	b, ok := parseBlob(blob)
	switch {
	case !ok:
		e.t.Fatalf("%s: parseBlob refused the service's own blob % x", what, blob)
	case blob[0] != blobFormat1:
		e.t.Fatalf("%s: format byte %d, want %d", what, blob[0], blobFormat1)
	case b.keyID != id:
		e.t.Fatalf("%s: blob names key %s, want %s", what, b.keyID, id)
	case int(b.version) != want:
		e.t.Fatalf("%s: blob sealed under material version %d, want %d (the newest after %d completed rotations)",
			what, b.version, want, want)
	}
}

// TestNewCiphertextsUseNewestMaterial: after every on-demand (25, with the
// quota raised) and automatic rotation, Encrypt, GenerateDataKey,
// GenerateDataKeyWithoutPlaintext and ReEncrypt seal under the newest
// material, whose version is the number of completed rotations; the older
// blobs keep naming their own version and still decrypt (issue 6, items 1
// and 2).
func TestNewCiphertextsUseNewestMaterial(t *testing.T) {
	e := cxiNew(t, WithOnDemandRotationQuota(25))
	id, _ := e.create(&CreateKeyInput{})
	other, _ := e.create(&CreateKeyInput{})
	_, err := e.s.EnableKeyRotation(e.ctx, &EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: Int32(90)})
	e.must(err)
	old := e.encrypt(other, []byte("from another key"), nil)
	type made struct {
		blob    []byte
		version int
		pt      []byte
	}
	var all []made
	autos := 0
	for i := 0; i <= 25; i++ {
		v := e.completed(id)
		if v != i+autos {
			t.Fatalf("step %d: %d completed rotations, want %d on demand + %d automatic", i, v, i, autos)
		}
		pt := []byte(fmt.Sprintf("plaintext %d", i))
		blob := e.encrypt(id, pt, map[string]string{"step": fmt.Sprint(i)})
		e.wantVersion(fmt.Sprintf("Encrypt after %d rotations", v), blob, id, v)
		all = append(all, made{blob, v, pt})

		dk, err := e.s.GenerateDataKey(e.ctx, &GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256"})
		e.must(err)
		e.wantVersion("GenerateDataKey", dk.CiphertextBlob, id, v)
		all = append(all, made{dk.CiphertextBlob, v, dk.Plaintext})

		wp, err := e.s.GenerateDataKeyWithoutPlaintext(e.ctx, &GenerateDataKeyInput{KeyId: id, NumberOfBytes: Int32(7)})
		e.must(err)
		e.wantVersion("GenerateDataKeyWithoutPlaintext", wp.CiphertextBlob, id, v)

		re, err := e.s.ReEncrypt(e.ctx, &ReEncryptInput{CiphertextBlob: old, DestinationKeyId: id})
		e.must(err)
		e.wantVersion("ReEncrypt", re.CiphertextBlob, id, v)
		all = append(all, made{re.CiphertextBlob, v, []byte("from another key")})
		if len(all) > 3 { // re-encrypting one of this key's older blobs moves it to the newest material
			re, err := e.s.ReEncrypt(e.ctx, &ReEncryptInput{CiphertextBlob: all[0].blob, DestinationKeyId: id,
				SourceEncryptionContext: map[string]string{"step": "0"}})
			e.must(err)
			e.wantVersion("ReEncrypt of the oldest blob", re.CiphertextBlob, id, v)
		}

		if i < 25 {
			e.rotate(id)
		}
		if i%5 == 4 {
			e.clk.Advance(90 * cxiDay) // an automatic rotation (D13)
			autos++
		}
	}
	for _, m := range all {
		b, _ := parseBlob(m.blob)
		if int(b.version) != m.version {
			t.Fatalf("blob made at version %d now names version %d", m.version, b.version)
		}
		var ec map[string]string
		if bytes.HasPrefix(m.pt, []byte("plaintext ")) {
			ec = map[string]string{"step": strings.TrimPrefix(string(m.pt), "plaintext ")}
		}
		out, err := e.s.Decrypt(e.ctx, &DecryptInput{CiphertextBlob: m.blob, EncryptionContext: ec})
		if err != nil {
			t.Fatalf("blob of version %d (%q) no longer decrypts: %v", m.version, m.pt, err)
		}
		if !bytes.Equal(out.Plaintext, m.pt) {
			t.Fatalf("blob of version %d decrypts to %q, want %q", m.version, out.Plaintext, m.pt)
		}
	}
}

// TestVersionWhileOnDemandRotationRuns: an on-demand rotation that has not
// completed (D10) does not change the material new ciphertexts use; its
// completion does. A Disabled key that passed its rotation date gets its
// one catch-up rotation on EnableKey (D12), and the next ciphertext uses it.
func TestVersionWhileOnDemandRotationRuns(t *testing.T) {
	e := cxiNew(t, WithOnDemandRotationDuration(time.Hour))
	id, _ := e.create(&CreateKeyInput{})
	e.rotate(id)
	e.wantVersion("Encrypt while the on-demand rotation runs", e.encrypt(id, []byte("x"), nil), id, 0)
	e.clk.Advance(time.Hour - time.Microsecond)
	e.wantVersion("Encrypt 1 ns before it completes", e.encrypt(id, []byte("x"), nil), id, 0)
	e.clk.Advance(time.Microsecond)
	e.wantVersion("Encrypt at its completion", e.encrypt(id, []byte("x"), nil), id, 1)

	_, err := e.s.EnableKeyRotation(e.ctx, &EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: Int32(90)})
	e.must(err)
	_, err = e.s.DisableKey(e.ctx, &DisableKeyInput{KeyId: id})
	e.must(err)
	e.clk.Advance(200 * cxiDay)
	_, err = e.s.EnableKey(e.ctx, &EnableKeyInput{KeyId: id})
	e.must(err)
	e.wantVersion("Encrypt after the D12 catch-up", e.encrypt(id, []byte("x"), nil), id, 2)
}

// TestBlobNamesItsMaterial opens blobs with AES-256-GCM under the material
// derived for the version the blob names: that material opens it, the
// neighbouring versions' and the other key's do not, and all materials of
// all keys differ.
func TestBlobNamesItsMaterial(t *testing.T) {
	e := cxiNew(t)
	a, _ := e.create(&CreateKeyInput{})
	b, _ := e.create(&CreateKeyInput{})
	ec := map[string]string{"purpose": "test"}
	var blobs [][]byte
	for range 4 {
		blobs = append(blobs, e.encrypt(a, []byte("secret message"), ec))
		e.rotate(a)
	}
	e.rotate(b)
	seen := map[[32]byte]string{}
	for _, id := range []string{a, b} {
		for v := uint32(0); v <= uint32(e.completed(id)); v++ {
			var m [32]byte
			material(e.s.root, id, v, &m)
			if prev, dup := seen[m]; dup {
				t.Fatalf("key %s version %d has the same material as %s", id, v, prev)
			}
			seen[m] = fmt.Sprintf("key %s version %d", id, v)
		}
	}
	open := func(id string, v uint32, blob []byte) bool {
		var m [32]byte
		material(e.s.root, id, v, &m)
		block, err := aes.NewCipher(m[:])
		e.must(err)
		g, err := cipher.NewGCM(block)
		e.must(err)
		p, _ := parseBlob(blob)
		_, err = g.Open(nil, p.nonce, p.sealed, additionalData(p.header, ec))
		return err == nil
	}
	for v, blob := range blobs {
		if !open(a, uint32(v), blob) {
			t.Fatalf("blob %d does not open under key %s version %d", v, a, v)
		}
		for _, w := range []int{v - 1, v + 1} {
			if w >= 0 && open(a, uint32(w), blob) {
				t.Fatalf("blob %d opens under version %d too", v, w)
			}
		}
		if open(b, uint32(v%2), blob) {
			t.Fatalf("blob %d of key %s opens under key %s", v, a, b)
		}
	}
}

// TestForeignBlobWithRewrittenKeyID: a blob of another service (another
// root secret) whose key ID is rewritten to the ID of a key of this
// service is well formed and names an existing key, yet does not decrypt:
// InvalidCiphertextException naming that key (issue 6, item 2).
func TestForeignBlobWithRewrittenKeyID(t *testing.T) {
	home := cxiNew(t)
	id, arn := home.create(&CreateKeyInput{})
	home.encrypt(id, []byte("x"), nil) // draw the root secret

	foreign := New(WithClock(NewManualClock(cxiT0)), WithRandom(rand.NewChaCha8([32]byte{'f', 'o', 'r', 'e', 'i', 'g', 'n'})))
	fid := must1[*CreateKeyOutput](t)(foreign.CreateKey(context.Background(), &CreateKeyInput{})).KeyMetadata.KeyId
	fout, err := foreign.Encrypt(context.Background(), &EncryptInput{KeyId: fid, Plaintext: []byte("x")})
	home.must(err)
	if bytes.Equal(foreign.root, home.s.root) {
		t.Fatal("the two services share a root secret")
	}
	blob := bytes.Clone(fout.CiphertextBlob)
	if len(fid) != len(id) || string(blob[2:2+len(fid)]) != fid {
		t.Fatalf("unexpected foreign blob layout % x", blob)
	}
	copy(blob[2:], id)
	if p, ok := parseBlob(blob); !ok || p.keyID != id {
		t.Fatalf("the rewritten blob does not parse as naming %s", id)
	}
	_, err = home.s.Decrypt(home.ctx, &DecryptInput{CiphertextBlob: blob})
	var ke *keystate.Error
	if !errors.As(err, &ke) || ke.Code != keystate.ErrInvalidCiphertext || ke.KeyID != arn || ke.State != keystate.Enabled {
		t.Fatalf("Decrypt of a foreign blob rewritten to name %s: %#v, want InvalidCiphertextException naming %s", id, err, arn)
	}
}

func must1[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestRootSecretPersists: the root secret is written to the store once and
// read back by a service reopened over it (issue 6, item 3).
func TestRootSecretPersists(t *testing.T) {
	st := store.NewMemory()
	clk := NewManualClock(cxiT0)
	opts := []Option{WithClock(clk), WithRandom(rand.NewChaCha8([32]byte{'p'}))}
	s1, err := Open(context.Background(), st, opts...)
	if err != nil {
		t.Fatal(err)
	}
	id := must1[*CreateKeyOutput](t)(s1.CreateKey(context.Background(), &CreateKeyInput{})).KeyMetadata.KeyId
	if s1.root != nil {
		t.Fatal("the root secret was drawn before any cryptographic call")
	}
	blob := must1[*EncryptOutput](t)(s1.Encrypt(context.Background(), &EncryptInput{KeyId: id, Plaintext: []byte("p")})).CiphertextBlob
	stored, err := st.Secret(context.Background())
	if err != nil || !bytes.Equal(stored, s1.root) || len(stored) != rootSecretSize {
		t.Fatalf("store holds root secret %d bytes (%v), equal to the service's: %v", len(stored), err, bytes.Equal(stored, s1.root))
	}
	// Another service over the same store, with a different randomness
	// source: it must use the stored secret, not draw a new one.
	s2, err := Open(context.Background(), st, WithClock(clk), WithRandom(rand.NewChaCha8([32]byte{'q'})))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s2.root, s1.root) {
		t.Fatal("the reopened service has another root secret")
	}
	out, err := s2.Decrypt(context.Background(), &DecryptInput{CiphertextBlob: blob})
	if err != nil || string(out.Plaintext) != "p" {
		t.Fatalf("Decrypt after reopening: %v, %v", out, err)
	}
}

// ---- Secrets are never printed (issue 6, item 3) ----

// cxiSecret is one secret and the forms it could leak in, whole forms
// first.
type cxiSecret struct {
	name  string
	forms []cxiForm
}

type cxiForm struct{ name, text string }

func cxiForms(name string, raw []byte) cxiSecret {
	s := cxiSecret{name: name}
	add := func(prefix string, b []byte) {
		s.forms = append(s.forms,
			cxiForm{prefix + "raw bytes", string(b)},
			cxiForm{prefix + "hex", hex.EncodeToString(b)},
			cxiForm{prefix + "upper-case hex", strings.ToUpper(hex.EncodeToString(b))},
			cxiForm{prefix + "decimal", strings.Trim(fmt.Sprint(b), "[]")}, // as %v and %d print a []byte
			cxiForm{prefix + "Go syntax", strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%#v", b), "[]byte{"), "}")},
			cxiForm{prefix + "quoted form", strings.Trim(fmt.Sprintf("%q", b), `"`)})
	}
	add("", raw)
	for _, enc := range []struct {
		name string
		e    *base64.Encoding
	}{{"base64", base64.StdEncoding}, {"base64url", base64.URLEncoding}, {"unpadded base64", base64.RawStdEncoding}, {"unpadded base64url", base64.RawURLEncoding}} {
		s.forms = append(s.forms, cxiForm{enc.name, enc.e.EncodeToString(raw)})
	}
	// Half a key is a leak too.
	add("first half, ", raw[:len(raw)/2])
	add("second half, ", raw[len(raw)/2:])
	return s
}

// cxiScan reports the first form of each secret found in text.
func cxiScan(t *testing.T, where, text string, secrets []cxiSecret) {
	t.Helper()
	for _, s := range secrets {
		for _, f := range s.forms {
			if i := strings.Index(text, f.text); i >= 0 {
				lo, hi := max(0, i-40), min(len(text), i+len(f.text)+10)
				t.Errorf("%s contains the %s of %s (…%q…)", where, f.name, s.name, text[lo:hi])
				break
			}
		}
	}
}

var cxiVerbs = []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"}

// TestSecretsNeverPrinted runs every cryptographic operation, accepted and
// refused, then scans for the root secret and every version of every key's
// material (raw, hex, base64, decimal and Go-syntax forms, and their
// halves): every exported input and output value formatted with every
// verb, the *Service itself, every error (Error(), %+v) and every event
// record. Plaintexts and data keys print as "[sensitive N bytes]".
func TestSecretsNeverPrinted(t *testing.T) {
	e := cxiNew(t, WithOnDemandRotationQuota(25))
	var values []any // inputs and outputs after use
	var errs []error
	call := func(in any, out any, err error) {
		values = append(values, in)
		if out != nil {
			values = append(values, out)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	ctx := e.ctx
	sym, symARN := e.create(&CreateKeyInput{Description: "symmetric"})
	sym2, _ := e.create(&CreateKeyInput{})
	mrk, _ := e.create(&CreateKeyInput{MultiRegion: true})
	hmacKey, _ := e.create(&CreateKeyInput{KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"})
	rsa, _ := e.create(&CreateKeyInput{KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT"})
	ext, _ := e.create(&CreateKeyInput{Origin: "EXTERNAL"})
	disabled, _ := e.create(&CreateKeyInput{})
	_, err := e.s.CreateAlias(ctx, &CreateAliasInput{AliasName: "alias/secret-scan", TargetKeyId: sym})
	e.must(err)
	_, err = e.s.EnableKeyRotation(ctx, &EnableKeyRotationInput{KeyId: sym, RotationPeriodInDays: Int32(90)})
	e.must(err)

	var sensitive []Sensitive // every plaintext and data key returned
	var random []Sensitive    // those of them that are random: data keys, GenerateRandom
	for round := 0; round < 4; round++ {
		ec := map[string]string{"round": fmt.Sprint(round)}
		ein := &EncryptInput{KeyId: "alias/secret-scan", Plaintext: []byte("the plaintext"), EncryptionContext: ec}
		eout, err := e.s.Encrypt(ctx, ein)
		call(ein, eout, err)
		e.must(err)
		din := &DecryptInput{CiphertextBlob: eout.CiphertextBlob, EncryptionContext: ec}
		dout, err := e.s.Decrypt(ctx, din)
		call(din, dout, err)
		e.must(err)
		sensitive = append(sensitive, dout.Plaintext)
		// Refusals: wrong context, tampered blob, wrong KeyId.
		din = &DecryptInput{CiphertextBlob: eout.CiphertextBlob, EncryptionContext: map[string]string{"round": "x"}}
		dout, err = e.s.Decrypt(ctx, din)
		call(din, dout, err)
		tampered := bytes.Clone(eout.CiphertextBlob)
		tampered[len(tampered)-1] ^= 1
		din = &DecryptInput{CiphertextBlob: tampered, EncryptionContext: ec}
		dout, err = e.s.Decrypt(ctx, din)
		call(din, dout, err)
		din = &DecryptInput{CiphertextBlob: eout.CiphertextBlob, EncryptionContext: ec, KeyId: sym2}
		dout, err = e.s.Decrypt(ctx, din)
		call(din, dout, err)

		for _, gin := range []*GenerateDataKeyInput{{KeyId: symARN, KeySpec: "AES_256", EncryptionContext: ec},
			{KeyId: mrk, KeySpec: "AES_128"}, {KeyId: sym, NumberOfBytes: Int32(1024)},
			{KeyId: sym, KeySpec: "AES_512"}, {KeyId: hmacKey, KeySpec: "AES_256"}, {KeyId: rsa, KeySpec: "AES_256"}} {
			gout, err := e.s.GenerateDataKey(ctx, gin)
			call(gin, gout, err)
			if err == nil {
				sensitive = append(sensitive, gout.Plaintext)
				random = append(random, gout.Plaintext)
			}
			wout, err := e.s.GenerateDataKeyWithoutPlaintext(ctx, gin)
			call(gin, wout, err)
		}
		rin := &ReEncryptInput{CiphertextBlob: eout.CiphertextBlob, SourceEncryptionContext: ec, DestinationKeyId: mrk,
			DestinationEncryptionContext: map[string]string{"to": "mrk"}}
		rout, err := e.s.ReEncrypt(ctx, rin)
		call(rin, rout, err)
		e.must(err)
		rin = &ReEncryptInput{CiphertextBlob: eout.CiphertextBlob, DestinationKeyId: sym2}
		rout, err = e.s.ReEncrypt(ctx, rin)
		call(rin, rout, err)
		nin := &GenerateRandomInput{NumberOfBytes: Int32(32)}
		nout, err := e.s.GenerateRandom(ctx, nin)
		call(nin, nout, err)
		e.must(err)
		sensitive = append(sensitive, nout.Plaintext)
		random = append(random, nout.Plaintext)
		for _, bad := range []*EncryptInput{
			{KeyId: sym, Plaintext: bytes.Repeat([]byte{'p'}, 4097)},
			{KeyId: hmacKey, Plaintext: []byte("p")},
			{KeyId: rsa, Plaintext: []byte("p")},
			{KeyId: ext, Plaintext: []byte("p")},
			{KeyId: disabled, Plaintext: []byte("p"), EncryptionAlgorithm: "RSAES_OAEP_SHA_256"},
			{KeyId: sym, Plaintext: []byte("p"), EncryptionAlgorithm: "NOT_AN_ALGORITHM"},
		} {
			out, err := e.s.Encrypt(ctx, bad)
			call(bad, out, err)
		}
		if round == 1 {
			_, err := e.s.DisableKey(ctx, &DisableKeyInput{KeyId: disabled})
			e.must(err)
		}
		e.rotate(sym)
		e.rotate(sym2)
		e.clk.Advance(91 * cxiDay)
	}
	for _, id := range []string{sym, sym2, mrk, hmacKey, rsa, ext, disabled} {
		din := &DescribeKeyInput{KeyId: id}
		dout, err := e.s.DescribeKey(ctx, din)
		call(din, dout, err)
		lin := &ListKeyRotationsInput{KeyId: id, IncludeKeyMaterial: "ALL_KEY_MATERIAL"}
		lout, err := e.s.ListKeyRotations(ctx, lin)
		call(lin, lout, err)
	}

	// The secrets: the root secret and every version of every key's
	// material.
	if len(e.s.root) != rootSecretSize {
		t.Fatalf("root secret of %d bytes", len(e.s.root))
	}
	secrets := []cxiSecret{cxiForms("the root secret", e.s.root)}
	materials := 0
	for _, slot := range e.s.regions[0].order {
		k := e.s.keyAt(slot)
		id := k.id
		if k.state == keystate.Deleted || !k.kind.Spec.IsSymmetric() {
			continue
		}
		for v := uint32(0); v <= uint32(len(k.rotations)); v++ {
			var m [32]byte
			material(e.s.root, id, v, &m)
			secrets = append(secrets, cxiForms(fmt.Sprintf("key %s material version %d", id, v), m[:]))
			materials++
		}
	}
	if materials < 15 {
		t.Fatalf("only %d materials to look for", materials)
	}

	t.Run("inputs and outputs", func(t *testing.T) {
		for i, v := range values {
			for _, verb := range cxiVerbs {
				cxiScan(t, fmt.Sprintf("value %d (%T) formatted with %s", i, v, verb), fmt.Sprintf(verb, v), secrets)
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		if len(errs) < 30 {
			t.Fatalf("only %d refusals", len(errs))
		}
		for _, err := range errs {
			var ke *keystate.Error
			if !errors.As(err, &ke) {
				t.Errorf("%T %v is not a *keystate.Error", err, err)
			}
			for _, verb := range cxiVerbs {
				cxiScan(t, fmt.Sprintf("error %q formatted with %s", err.Error(), verb), fmt.Sprintf(verb, err), secrets)
			}
			cxiScan(t, "the message of "+err.Error(), ke.Message, secrets)
		}
	})
	t.Run("events", func(t *testing.T) {
		if len(e.events) < len(values)/2 {
			t.Fatalf("only %d event records", len(e.events))
		}
		for i, ev := range e.events {
			for _, verb := range cxiVerbs {
				cxiScan(t, fmt.Sprintf("event %d (%s) formatted with %s", i, ev.Name, verb), fmt.Sprintf(verb, ev), secrets)
			}
		}
	})
	t.Run("Service", func(t *testing.T) {
		for _, verb := range cxiVerbs {
			cxiScan(t, "the *Service formatted with "+verb, fmt.Sprintf(verb, e.s), secrets)
		}
	})
	t.Run("Service and the next data key", func(t *testing.T) {
		// A seeded randomness source keeps its buffered output in its
		// state: formatting the service must not print a data key before
		// GenerateDataKey hands it out.
		printed := map[string]string{}
		for _, verb := range []string{"%v", "%x"} {
			printed[verb] = fmt.Sprintf(verb, e.s)
		}
		out, err := e.s.GenerateDataKey(ctx, &GenerateDataKeyInput{KeyId: sym, KeySpec: "AES_256"})
		e.must(err)
		for w := 0; w+8 <= len(out.Plaintext); w += 8 {
			word := binary.LittleEndian.Uint64(out.Plaintext[w:])
			for verb, text := range printed {
				if f := fmt.Sprintf(verb[:1]+"0"+verb[1:], word); len(f) > 8 && strings.Contains(text, f) {
					t.Errorf("the *Service formatted with %s, before GenerateDataKey, contains bytes %d–%d of the data key it then returned (as the word %s)",
						verb, w, w+7, f)
				}
			}
		}
	})
	t.Run("sensitive", func(t *testing.T) {
		var leaks []cxiSecret
		for _, p := range sensitive {
			want := fmt.Sprintf("[sensitive %d bytes]", len(p))
			for _, verb := range append(cxiVerbs, "%10s", "%-8x", "% x") {
				if got := fmt.Sprintf(verb, p); got != want {
					t.Errorf("Sensitive of %d bytes formatted with %s = %q, want %q", len(p), verb, got, want)
				}
			}
			if got := p.String(); got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
		}
		for i, p := range random {
			if len(p) >= 16 {
				leaks = append(leaks, cxiForms(fmt.Sprintf("returned data key or random bytes %d", i), p))
			}
		}
		for i, v := range values {
			if _, isInput := v.(*EncryptInput); isInput {
				continue // the caller's own plaintext, a []byte
			}
			for _, verb := range cxiVerbs {
				cxiScan(t, fmt.Sprintf("value %d (%T) formatted with %s", i, v, verb), fmt.Sprintf(verb, v), leaks)
			}
		}
	})
}

// TestSecretsNotInStoreFormatting: the in-memory store holds the root
// secret; formatting it must not print it either (issue 6, item 3: "any
// exported type").
func TestSecretsNotInStoreFormatting(t *testing.T) {
	st := store.NewMemory()
	s, err := Open(context.Background(), st, WithClock(NewManualClock(cxiT0)), WithRandom(rand.NewChaCha8([32]byte{'m'})))
	if err != nil {
		t.Fatal(err)
	}
	id := must1[*CreateKeyOutput](t)(s.CreateKey(context.Background(), &CreateKeyInput{})).KeyMetadata.KeyId
	must1[*EncryptOutput](t)(s.Encrypt(context.Background(), &EncryptInput{KeyId: id, Plaintext: []byte("p")}))
	secrets := []cxiSecret{cxiForms("the root secret", s.root)}
	for _, verb := range cxiVerbs {
		cxiScan(t, "the *store.Memory formatted with "+verb, fmt.Sprintf(verb, st), secrets)
	}
}
