package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

// TestAttest: kmssim attest makes a module's root and its documents from
// a seed (the same seed, the same root), a document verifies against that
// root at --at and carries the PCRs and public key given, and serve
// --attestation-root accepts it in a Recipient, answering a
// CiphertextForRecipient the enclave's key opens (D80); serve without the
// flag refuses it, as AWS would.
func TestAttest(t *testing.T) {
	dir := t.TempDir()
	code, root, errOut := runCmd(t, "attest", "--seed", "7", "--root")
	if code != exitOK || errOut != "" {
		t.Fatalf("attest --root: exit %d, %s", code, errOut)
	}
	if _, again, _ := runCmd(t, "attest", "--seed", "7", "--root"); again != root {
		t.Error("the same seed made another root")
	}
	if _, other, _ := runCmd(t, "attest", "--seed", "8", "--root"); other == root {
		t.Error("another seed made the same root")
	}
	rootFile := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(rootFile, []byte(root), 0o644); err != nil {
		t.Fatal(err)
	}
	enclave, err := rsa.GenerateKey(rand.NewChaCha8([32]byte{'e'}), 2048)
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&enclave.PublicKey)
	pubFile := filepath.Join(dir, "enclave.pub.pem")
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	docFile := filepath.Join(dir, "doc.cbor")
	pcr0 := strings.Repeat("ab", 48)
	code, _, errOut = runCmd(t, "attest", "--seed", "7", "--public-key", pubFile, "--pcr", "0="+pcr0,
		"--at", start.Format(time.RFC3339), "--out", docFile)
	if code != exitOK {
		t.Fatalf("attest: exit %d, %s", code, errOut)
	}
	doc, _ := os.ReadFile(docFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(root))
	d, err := attestation.Verify(doc, pool, start.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.PublicKey, spki) || !bytes.Equal(d.PCRs[0], bytes.Repeat([]byte{0xab}, 48)) || !d.Timestamp.Equal(start) {
		t.Fatalf("document: public key %d bytes, PCR0 %x, at %v", len(d.PublicKey), d.PCRs[0], d.Timestamp)
	}

	tpmFile := filepath.Join(dir, "tpm.cbor")
	if code, _, errOut := runCmd(t, "attest", "--seed", "7", "--public-key", pubFile, "--nitrotpm", "--pcr", "7="+pcr0,
		"--at", start.Format(time.RFC3339), "--out", tpmFile); code != exitOK {
		t.Fatalf("attest --nitrotpm: exit %d, %s", code, errOut)
	}
	tpmDoc, _ := os.ReadFile(tpmFile)
	if d, err := attestation.Verify(tpmDoc, pool, start); err != nil || d.PCRs != nil || !bytes.Equal(d.NitroTPMPCRs[7], bytes.Repeat([]byte{0xab}, 48)) {
		t.Fatalf("attest --nitrotpm: %v", err)
	}

	ctx := context.Background()
	r := &types.RecipientInfo{AttestationDocument: doc, KeyEncryptionAlgorithm: types.KeyEncryptionMechanismRsaesOaepSha256}
	for _, trust := range []bool{true, false} {
		args := []string{"--mem", "--clock", "manual", "--start", start.Format(time.RFC3339)}
		if trust {
			args = append(args, "--attestation-root", rootFile)
		}
		addr, stop, logs := startServe(t, args...)
		c := client(addr, "AKID")
		out, err := c.GenerateRandom(ctx, &awskms.GenerateRandomInput{NumberOfBytes: aws.Int32(24), Recipient: r})
		if trust {
			if err != nil {
				t.Fatal(err)
			}
			got, err := attestation.Open(enclave, out.CiphertextForRecipient)
			if err != nil || len(got) != 24 || out.Plaintext != nil {
				t.Fatalf("GenerateRandom for the recipient: %d bytes, %v", len(got), err)
			}
		} else if err == nil || !strings.Contains(err.Error(), "does not chain to a trusted Nitro root") {
			t.Fatalf("serve without --attestation-root: %v", err)
		}
		if code := stop(); code != exitOK {
			t.Errorf("exit %d: %s", code, logs)
		}
	}
}

// TestAttestErrors: attest's usage errors exit 2, and a key it cannot
// seal to exits 1; serve refuses an --attestation-root that holds no
// certificate.
func TestAttestErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x.txt")
	os.WriteFile(notPEM, []byte("hello"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"attest", "--root"}, "--seed is required"},
		{[]string{"attest", "--seed", "1"}, "give --public-key (or --root)"},
		{[]string{"attest", "--seed", "1", "--root", "--public-key", "k"}, "--root writes the root only"},
		{[]string{"attest", "--seed", "1", "--root", "--module-id", "m"}, "--root writes the root only"},
		{[]string{"attest", "--seed", "1", "--root", "--nonce", "00"}, "--root writes the root only"},
		{[]string{"attest", "--seed", "1", "--public-key", "k", "--pcr", "32=00"}, "want N=HEX with N from 0 to 31"},
		{[]string{"attest", "--seed", "1", "--public-key", "k", "--pcr", "0=zz"}, "the value is not hex"},
		{[]string{"attest", "--seed", "1", "--public-key", "k", "--at", "soon"}, "--at: want an RFC 3339 instant"},
		{[]string{"serve", "--attestation-root", notPEM}, "no PEM certificate in it"},
	} {
		code, out, errOut := runCmd(t, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q (want %q), stdout %q", tc.args, code, errOut, tc.want, out)
		}
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.NewChaCha8([32]byte{'c'}))
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	ec := filepath.Join(dir, "ec.der")
	os.WriteFile(ec, ecDER, 0o644)
	code, _, errOut := runCmd(t, "attest", "--seed", "1", "--public-key", ec)
	if code != exitError || !strings.Contains(errOut, "not an RSA key") {
		t.Errorf("an EC key: exit %d, %q", code, errOut)
	}
}
