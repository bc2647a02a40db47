package kms

// FuzzDecryptBlob feeds arbitrary ciphertext blobs to parseBlob and to
// Decrypt and ReEncrypt on a service holding keys of every kind and state
// (issue 6, acceptance: "no panic on any input"). Its seed corpus is in
// testdata/fuzz/FuzzDecryptBlob; regenerate it with
//
//	KMSMODEL_WRITE_FUZZ_SEEDS=1 go test -run TestWriteFuzzDecryptBlobSeeds ./kms

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// cxiFuzzWorld is the service the fuzz target runs against, and what it
// knows about it.
type cxiFuzzWorld struct {
	s     *Service
	ctx   context.Context
	ids   map[string]string // name → key ID
	real  map[string]cxiReal
	dest  string   // an Enabled symmetric key, ReEncrypt's destination
	keyID []string // the KeyId values the fuzzer chooses from
}

// cxiReal is a blob the service made: its plaintext, context and key.
type cxiReal struct {
	pt  []byte
	ec  map[string]string
	arn string
}

var cxiFuzzContext = map[string]string{"fuzz": "context"}

// cxiFuzzBuild builds, deterministically, a service with a symmetric key
// rotated three times (and an alias), a second Enabled key, a multi-Region
// key, Disabled, PendingDeletion and deleted keys, an HMAC key, an RSA
// encryption key and an EXTERNAL key in PendingImport, and blobs of each
// symmetric key made while it was Enabled.
func cxiFuzzBuild(tb testing.TB) *cxiFuzzWorld {
	tb.Helper()
	clk := NewManualClock(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	w := &cxiFuzzWorld{
		s:    New(WithClock(clk), WithRandom(rand.NewChaCha8([32]byte{'f', 'u', 'z', 'z'}))),
		ctx:  context.Background(),
		ids:  map[string]string{},
		real: map[string]cxiReal{},
	}
	must := func(_ any, err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	create := func(name string, in *CreateKeyInput) string {
		out, err := w.s.CreateKey(w.ctx, in)
		if err != nil {
			tb.Fatal(err)
		}
		w.ids[name] = out.KeyMetadata.KeyId
		return out.KeyMetadata.KeyId
	}
	encrypt := func(id string, pt string, ec map[string]string) {
		out, err := w.s.Encrypt(w.ctx, &EncryptInput{KeyId: id, Plaintext: []byte(pt), EncryptionContext: ec})
		if err != nil {
			tb.Fatal(err)
		}
		w.real[string(out.CiphertextBlob)] = cxiReal{pt: []byte(pt), ec: ec, arn: out.KeyId}
	}
	rotated := create("rotated", &CreateKeyInput{})
	w.dest = create("enabled", &CreateKeyInput{})
	mrk := create("mrk", &CreateKeyInput{MultiRegion: true})
	disabled := create("disabled", &CreateKeyInput{})
	pending := create("pending", &CreateKeyInput{})
	deleted := create("deleted", &CreateKeyInput{})
	create("hmac", &CreateKeyInput{KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"})
	create("rsa", &CreateKeyInput{KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT"})
	create("external", &CreateKeyInput{Origin: "EXTERNAL"})
	must(w.s.CreateAlias(w.ctx, &CreateAliasInput{AliasName: "alias/fuzz", TargetKeyId: rotated}))
	for v := range 4 {
		encrypt(rotated, fmt.Sprintf("version %d", v), nil)
		encrypt(rotated, fmt.Sprintf("version %d with context", v), cxiFuzzContext)
		if v < 3 {
			must(w.s.RotateKeyOnDemand(w.ctx, &RotateKeyOnDemandInput{KeyId: rotated}))
		}
	}
	for _, id := range []string{w.dest, mrk, disabled, pending, deleted} {
		encrypt(id, "plaintext of "+id, nil)
	}
	must(w.s.DisableKey(w.ctx, &DisableKeyInput{KeyId: disabled}))
	must(w.s.ScheduleKeyDeletion(w.ctx, &ScheduleKeyDeletionInput{KeyId: deleted, PendingWindowInDays: Int32(7)}))
	clk.Advance(7 * 24 * time.Hour)
	must(w.s.ScheduleKeyDeletion(w.ctx, &ScheduleKeyDeletionInput{KeyId: pending, PendingWindowInDays: Int32(30)}))
	w.keyID = []string{"", rotated, w.dest, "alias/fuzz", w.s.aliasARN(w.s.cfg.account, "alias/fuzz"),
		w.s.keyARN(w.s.cfg.account, rotated), w.ids["hmac"], deleted, "alias/none", "arn:aws:kms:bad", "not-a-key"}
	return w
}

// cxiFuzzCodes are the exceptions Decrypt and ReEncrypt may answer a blob
// with.
var cxiFuzzCodes = map[keystate.Exception]bool{
	keystate.ErrValidation: true, keystate.ErrInvalidCiphertext: true, keystate.ErrNotFound: true,
	keystate.ErrIncorrectKey: true, keystate.ErrDisabled: true, keystate.ErrKMSInvalidState: true,
	keystate.ErrInvalidKeyUsage: true, keystate.ErrInvalidArn: true,
}

// check runs one fuzz input: sel chooses the KeyId (low four bits),
// whether to pass the encryption context (bit 4) and whether to also
// ReEncrypt (bit 5).
func (w *cxiFuzzWorld) check(t *testing.T, blob []byte, sel uint8) {
	// parseBlob: never panics; what it accepts is well formed.
	b, parsed := parseBlob(blob)
	if parsed {
		n := len(b.keyID)
		switch {
		case blob[0] != blobFormat1, int(blob[1]) != n, !isKeyID(b.keyID):
			t.Fatalf("parseBlob accepted % x as naming %q", blob, b.keyID)
		case len(b.header) != 2+n+4+nonceSize, !bytes.Equal(b.header, blob[:len(b.header)]),
			len(b.nonce) != nonceSize, !bytes.Equal(b.nonce, blob[2+n+4:len(b.header)]),
			len(b.sealed) < tagSize, !bytes.Equal(b.sealed, blob[len(b.header):]),
			b.version != binary.BigEndian.Uint32(blob[2+n:]):
			t.Fatalf("parseBlob(% x) = %+v: inconsistent", blob, b)
		}
	}
	keyID := w.keyID[int(sel&0x0f)%len(w.keyID)]
	var ec map[string]string
	if sel&0x10 != 0 {
		ec = cxiFuzzContext
	}
	real, isReal := w.real[string(blob)]
	out, err := w.s.Decrypt(w.ctx, &DecryptInput{CiphertextBlob: blob, EncryptionContext: ec, KeyId: keyID})
	w.checkAnswer(t, "Decrypt", keystate.Decrypt, blob, parsed, isReal, err)
	if err == nil && (!bytes.Equal(out.Plaintext, real.pt) || out.KeyId != real.arn || !maps.Equal(ec, real.ec)) {
		t.Fatalf("Decrypt(% x, %v, %q) = %q from %s; the blob holds %q from %s under %v",
			blob, ec, keyID, []byte(out.Plaintext), out.KeyId, real.pt, real.arn, real.ec)
	}
	if sel&0x20 != 0 {
		_, err := w.s.ReEncrypt(w.ctx, &ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: ec, SourceKeyId: keyID,
			DestinationKeyId: w.dest})
		w.checkAnswer(t, "ReEncrypt", keystate.ReEncrypt, blob, parsed, isReal, err)
	}
}

// checkAnswer: only a blob the service made may decrypt; every refusal is
// a *keystate.Error with an expected code; a blob that does not parse is
// a ValidationException (length) or an InvalidCiphertextException.
func (w *cxiFuzzWorld) checkAnswer(t *testing.T, name string, op keystate.Operation, blob []byte, parsed, isReal bool, err error) {
	t.Helper()
	if err == nil {
		if !isReal {
			t.Fatalf("%s accepted % x, a blob the service never made", name, blob)
		}
		return
	}
	var ke *keystate.Error
	if !errors.As(err, &ke) {
		t.Fatalf("%s(% x): %T %v, not a *keystate.Error", name, blob, err, err)
	}
	if !cxiFuzzCodes[ke.Code] || ke.Op != op {
		t.Fatalf("%s(% x): unexpected %s from %s: %v", name, blob, ke.Code, ke.Op, err)
	}
	if !parsed && len(blob) > 0 && len(blob) <= maxCiphertextBlob && ke.Code != keystate.ErrInvalidCiphertext &&
		ke.Code != keystate.ErrValidation {
		t.Fatalf("%s(% x): a blob that does not parse got %v", name, blob, err)
	}
	if (len(blob) == 0 || len(blob) > maxCiphertextBlob) && ke.Code != keystate.ErrValidation {
		t.Fatalf("%s of a %d-byte blob: %v, want ValidationException", name, len(blob), err)
	}
}

// cxiFuzzSeeds returns seed blobs: every real blob, each truncated, with a
// byte flipped, with a huge key-ID length, with format bytes 0 and 2, and
// forged blobs naming each key.
func (w *cxiFuzzWorld) seeds() [][]byte {
	var out [][]byte
	reals := make([]string, 0, len(w.real))
	for b := range w.real {
		reals = append(reals, b)
	}
	// Map order is random; the seeds must not be.
	slices.Sort(reals)
	for i, s := range reals {
		b := []byte(s)
		out = append(out, b)
		if i%3 != 0 {
			continue
		}
		out = append(out, b[:len(b)-1], b[:len(b)/2], b[:2+36+4+nonceSize+tagSize-1])
		for _, at := range []int{0, 1, 5, 2 + 36 + 1, 2 + 36 + 4 + 3, len(b) - 1} {
			f := bytes.Clone(b)
			f[at] ^= 0x40
			out = append(out, f)
		}
		for _, format := range []byte{0, 2} {
			f := bytes.Clone(b)
			f[0] = format
			out = append(out, f)
		}
		f := bytes.Clone(b)
		f[1] = 0xff
		out = append(out, f)
		f = bytes.Clone(b)
		binary.BigEndian.PutUint32(f[2+36:], 0xffffffff)
		out = append(out, f)
	}
	names := make([]string, 0, len(w.ids))
	for name := range w.ids {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		id := w.ids[name]
		f := append([]byte{blobFormat1, byte(len(id))}, id...)
		f = binary.BigEndian.AppendUint32(f, 0)
		out = append(out, append(f, make([]byte, nonceSize+tagSize)...))
	}
	out = append(out, nil, []byte{1}, []byte{1, 0}, []byte{1, 0xff}, bytes.Repeat([]byte{1}, 64),
		append([]byte{1, 36}, bytes.Repeat([]byte{'-'}, 100)...), make([]byte, maxCiphertextBlob+1))
	return out
}

func FuzzDecryptBlob(f *testing.F) {
	w := cxiFuzzBuild(f)
	for i, b := range w.seeds() {
		f.Add(b, uint8(i*7))
	}
	f.Fuzz(func(t *testing.T, blob []byte, sel uint8) {
		w.check(t, blob, sel)
	})
}

// TestFuzzDecryptBlobWorld checks the oracle of the fuzz target: every
// real blob decrypts with its own context and no KeyId, and the forged
// ones do not.
func TestFuzzDecryptBlobWorld(t *testing.T) {
	w := cxiFuzzBuild(t)
	decrypted := 0
	for s, r := range w.real {
		out, err := w.s.Decrypt(w.ctx, &DecryptInput{CiphertextBlob: []byte(s), EncryptionContext: r.ec})
		switch {
		case err == nil && bytes.Equal(out.Plaintext, r.pt):
			decrypted++
		case errors.Is(err, keystate.ErrDisabled), errors.Is(err, keystate.ErrKMSInvalidState), errors.Is(err, keystate.ErrNotFound):
		default:
			t.Fatalf("real blob of %s (%q): %v", r.arn, r.pt, err)
		}
	}
	if decrypted != len(w.real)-3 {
		t.Fatalf("%d of %d real blobs decrypt, want all but the Disabled, PendingDeletion and deleted keys'", decrypted, len(w.real))
	}
	for i, b := range w.seeds() {
		w.check(t, b, uint8(i))
		w.check(t, b, uint8(i)|0x30)
	}
}

// TestWriteFuzzDecryptBlobSeeds writes the seed corpus of FuzzDecryptBlob
// under testdata/fuzz/FuzzDecryptBlob when KMSMODEL_WRITE_FUZZ_SEEDS is
// set; otherwise it only checks that the committed corpus is there.
func TestWriteFuzzDecryptBlobSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecryptBlob")
	if os.Getenv("KMSMODEL_WRITE_FUZZ_SEEDS") == "" {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) < 10 {
			t.Fatalf("the seed corpus %s has %d files (%v)", dir, len(entries), err)
		}
		return
	}
	w := cxiFuzzBuild(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, b := range w.seeds() {
		if len(b) > maxCiphertextBlob {
			continue // a 6 KiB file of zeros teaches the fuzzer nothing the code seed does not
		}
		text := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbyte(%q)\n", b, uint8(i*7))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%03d", i)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
