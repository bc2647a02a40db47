package kms_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"path/filepath"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// Table a.2 (asymmetric-hmac §11): GetPublicKey ✓ in PendingImport. An
// EXTERNAL key whose imported material was deleted still answers with the
// public key of that material, after a restart over boltstore too
// (store.Key.PublicKey).
func TestPublicKeyOfDeletedMaterialPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kms.db")
	clk := kms.NewManualClock(fxT0)
	open := func() *kms.Service {
		st, err := boltstore.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := kms.Open(t.Context(), st, kms.WithClock(clk))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	out, err := s.CreateKey(t.Context(), &kms.CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", Origin: "EXTERNAL"})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	imMustImport(t, s, id, "RSAES_OAEP_SHA_256", der, nil)
	want, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if _, err := s.DeleteImportedKeyMaterial(t.Context(), &kms.DeleteImportedKeyMaterialInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	defer s.Close()
	pk, err := s.GetPublicKey(t.Context(), &kms.GetPublicKeyInput{KeyId: id})
	if err != nil || !bytes.Equal(pk.PublicKey, want) {
		t.Fatalf("GetPublicKey after deletion and restart = %v, %v; want the imported key's public key", pk, err)
	}
	d, err := s.DescribeKey(t.Context(), &kms.DescribeKeyInput{KeyId: id})
	if err != nil || d.KeyMetadata.KeyState != "PendingImport" {
		t.Fatalf("DescribeKey = %+v, %v; want PendingImport", d, err)
	}
}
