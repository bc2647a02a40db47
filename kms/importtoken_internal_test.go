package kms

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// sealedTokenNode opens one cluster node and returns it with a valid sealed
// import token of one of its EXTERNAL keys.
func sealedTokenNode(t testing.TB) (*Service, string, []byte) {
	t.Helper()
	st := store.NewSharedMemory()
	s, err := Open(context.Background(), st, WithClock(NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))),
		WithRandom(rand.NewChaCha8([32]byte{9})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	out, err := s.CreateKey(context.Background(), &CreateKeyInput{Origin: "EXTERNAL"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.GetParametersForImport(context.Background(), &GetParametersForImportInput{KeyId: out.KeyMetadata.KeyId,
		WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
	if err != nil {
		t.Fatal(err)
	}
	return s, out.KeyMetadata.KeyId, p.ImportToken
}

// FuzzOpenToken: openToken of arbitrary bytes (mutations of a real
// token) never panics, and what opens is bound to the key it was issued for.
// Run: go test ./kms -run '^$' -fuzz FuzzOpenToken -fuzztime 30s
func FuzzOpenToken(f *testing.F) {
	s, id, tok := sealedTokenNode(f)
	// An SM2 token (D81), as a node issues for a key in a China Region.
	cn := WithCallerRegion(context.Background(), "cn-north-1")
	out, err := s.CreateKey(cn, &CreateKeyInput{Origin: "EXTERNAL"})
	if err != nil {
		f.Fatal(err)
	}
	sm2, err := s.GetParametersForImport(cn, &GetParametersForImportInput{
		KeyId: out.KeyMetadata.KeyId, WrappingAlgorithm: "SM2PKE", WrappingKeySpec: "SM2"})
	if err != nil {
		f.Fatal(err)
	}
	ids := []string{id, out.KeyMetadata.KeyId}
	f.Add(tok)
	f.Add(tok[:len(tok)-1])
	f.Add(tok[:29])
	f.Add([]byte(sm2.ImportToken))
	f.Add([]byte(sm2.ImportToken[:len(sm2.ImportToken)-1]))
	f.Add([]byte{2})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s.mu.Lock()
		it, _, err := s.openToken(b)
		s.mu.Unlock()
		// (A fuzz worker draws its own wrapping key, so the seed token of
		// the coordinator differs from the worker's; both open: same root.)
		if err == nil && !slices.Contains(ids, it.keyID) {
			t.Fatalf("a token for %q opened: %x", it.keyID, b)
		}
	})
}

// FuzzOpenSealedFields: fields sealed under the cluster's token key
// (what only a node could make) but malformed never panic either.
func FuzzOpenSealedFields(f *testing.F) {
	s, _, _ := sealedTokenNode(f)
	f.Add([]byte{})
	f.Add(binary.AppendUvarint(nil, 1<<63))
	f.Add([]byte{1, 'a', 1, 'b', 1, 'c', 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, fields []byte) {
		s.mu.Lock()
		defer s.mu.Unlock()
		g := s.tokenSealer(s.root)
		nonce := make([]byte, g.NonceSize())
		tok := g.Seal(append([]byte{tokenSealed}, nonce...), nonce, fields, tokenLabel)
		if _, _, err := s.openToken(tok); err == nil {
			t.Logf("opened %x", fields)
		}
	})
}

// TestImportTokenMalformed: through the API, a truncated, extended,
// empty-bodied or single-service-format token is InvalidImportTokenException.
func TestImportTokenMalformed(t *testing.T) {
	s, id, tok := sealedTokenNode(t)
	for name, b := range map[string][]byte{
		"truncated": tok[:len(tok)-1], "extended": append(append([]byte{}, tok...), 0), "header only": tok[:29],
		"one byte": {2}, "memory format": append([]byte{1}, make([]byte, 63)...),
	} {
		_, err := s.ImportKeyMaterial(context.Background(), &ImportKeyMaterialInput{KeyId: id, ImportToken: b,
			EncryptedKeyMaterial: make([]byte, 256), ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE"})
		if !errors.Is(err, keystate.ErrInvalidImportToken) {
			t.Errorf("%s: %v, want InvalidImportTokenException", name, err)
		}
	}
}

// TestTokenNoncesDifferAcrossSeededNodes: nodes given one seed (WithRandom,
// as a simulator or a test harness does, or one node restarted with its
// seed over the same store) seal their import tokens under one key (the
// cluster's, derived from the root secret) with different nonces: the
// nonce comes from the system, not the seeded source. (Found in review:
// the seeded source repeated nonces, and two messages under one AES-GCM
// nonce give away the XOR of their plaintexts, which hold wrapping
// private keys, and the key that authenticates them.) crypto/rsa reads
// one byte more or less at random while generating the wrapping key, so
// the test opens many nodes.
func TestTokenNoncesDifferAcrossSeededNodes(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	// A first node draws the root secret and makes the EXTERNAL keys.
	setup, err := Open(ctx, st, WithClock(clock), WithRandom(rand.NewChaCha8([32]byte{1})))
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	const nodes = 12
	var ids []string
	for range nodes {
		out, err := setup.CreateKey(ctx, &CreateKeyInput{Origin: "EXTERNAL"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, out.KeyMetadata.KeyId)
	}
	seen := map[string]string{} // nonce -> key ID
	for i := range nodes {
		n, err := Open(ctx, st, WithClock(clock), WithRandom(rand.NewChaCha8([32]byte{7})))
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		p, err := n.GetParametersForImport(ctx, &GetParametersForImportInput{KeyId: ids[i],
			WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
		if err != nil {
			t.Fatal(err)
		}
		nonce := string(p.ImportToken[1:13])
		if other, ok := seen[nonce]; ok {
			t.Fatalf("two nodes sealed the tokens of keys %s and %s with one nonce %x under the cluster's token key", other, ids[i], nonce)
		}
		seen[nonce] = ids[i]
	}
}

// TestOpenTokenSpecMustFitKey: D81. A sealed token whose key spec does not
// fit its algorithm, or whose private key is not of its spec, does not
// open, whether or not the same key was read before under its own spec
// (the parsed keys are remembered by spec and DER).
func TestOpenTokenSpecMustFitKey(t *testing.T) {
	s, id, tok := sealedTokenNode(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	rsaDER := s.imports.wrappingDER["RSA_2048"]
	for round := range 2 {
		for _, c := range [][2]string{{"SM2PKE", "SM2"}, {"SM2PKE", "RSA_2048"}, {"RSAES_OAEP_SHA_256", "SM2"}} {
			// What only a node of the cluster could seal.
			forged, err := s.sealFields(s.root, appendTokenFields(nil, importToken{keyID: id, algorithm: c[0], spec: c[1], validTo: 1 << 62}, rsaDER))
			rvMust(t, err)
			if _, _, err := s.openToken(forged); !errors.Is(err, errTokenFormat) {
				t.Errorf("round %d: %s with %s and an RSA key: %v, want errTokenFormat", round, c[0], c[1], err)
			}
		}
		if _, _, err := s.openToken(tok); err != nil { // the RSA key is now parsed and remembered
			t.Fatal(err)
		}
	}
}
