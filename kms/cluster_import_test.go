package kms_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// TestClusterImportTokenOnAnyNode: D67. An import token that one cluster
// node issued is taken by every other node, a node started afterwards
// included, as a load balancer spreads GetParametersForImport and
// ImportKeyMaterial over the nodes; the material imported through one
// node decrypts on the others. A token stays bound to its key and its
// 24 hours: another key's import refuses it (InvalidImportTokenException),
// as it refuses a token with one byte changed, and it expires
// (ExpiredImportTokenException) on every node.
func TestClusterImportTokenOnAnyNode(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	nodes, clocks := clNodes(t, st, 2)
	a, b := nodes[0], nodes[1]
	external := &kms.CreateKeyInput{Origin: "EXTERNAL"}
	id, other := clCreate(t, a, external), clCreate(t, a, external)
	const alg, spec = "RSA_AES_KEY_WRAP_SHA_256", "RSA_2048"
	p := imParams(t, a, id, alg, spec)
	if n := len(p.ImportToken); n > 6144 {
		t.Errorf("the token has %d bytes, more than AWS's ImportToken takes (6,144)", n)
	}
	wrapped := imWrap(t, p.PublicKey, alg, imMaterial)
	imp := func(n *kms.Service, keyID string, token []byte) error {
		_, err := n.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: keyID, ImportToken: token,
			EncryptedKeyMaterial: wrapped, ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE"})
		return err
	}
	if err := imp(b, other, p.ImportToken); !errors.Is(err, keystate.ErrInvalidImportToken) {
		t.Errorf("b imports into another key with a's token: %v, want InvalidImportTokenException", err)
	}
	for _, i := range []int{0, len(p.ImportToken) / 2, len(p.ImportToken) - 1} {
		bad := bytes.Clone(p.ImportToken)
		bad[i] ^= 1
		if err := imp(b, id, bad); !errors.Is(err, keystate.ErrInvalidImportToken) {
			t.Errorf("b imports with a's token changed at byte %d: %v, want InvalidImportTokenException", i, err)
		}
	}
	if err := imp(b, id, p.ImportToken); err != nil {
		t.Fatalf("b imports with a's token: %v", err)
	}
	enc, err := b.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("imported")})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := a.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "imported" {
		t.Fatalf("a decrypts what b encrypted under the imported material: %q, %v", dec.Plaintext, err)
	}

	// A node started after the token was issued takes it too.
	p2 := imParams(t, b, other, alg, spec)
	wrapped = imWrap(t, p2.PublicKey, alg, imOther)
	c, err := kms.Open(ctx, &nodeHandle{SharedMemory: st}, kms.WithClock(kms.NewManualClock(clStart)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := imp(c, other, p2.ImportToken); err != nil {
		t.Fatalf("a node started afterwards imports with b's token: %v", err)
	}

	// Tokens expire on every node.
	third := clCreate(t, a, external)
	p3 := imParams(t, a, third, alg, spec)
	wrapped = imWrap(t, p3.PublicKey, alg, imMaterial)
	for _, c := range clocks {
		if _, err := c.Advance(24*time.Hour + time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := imp(b, third, p3.ImportToken); !errors.Is(err, keystate.ErrExpiredImportToken) {
		t.Errorf("b imports with a's token 24 hours later: %v, want ExpiredImportTokenException", err)
	}
}
