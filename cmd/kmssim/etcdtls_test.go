package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsmodel/kmsmodel/internal/etcdtest"
)

// writePEM writes one PEM block to dir/name and returns its path.
func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testPKI makes a CA and a certificate it signs for 127.0.0.1 (server and
// client use), and returns the files: CA, certificate, key.
func testPKI(t *testing.T) (ca, cert, key string) {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kmssim test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER), writePEM(t, dir, "cert.pem", "CERTIFICATE", der),
		writePEM(t, dir, "key.pem", "EC PRIVATE KEY", kder)
}

// TestServeEtcdTLS: serve --etcd over TLS with client certificates
// (--etcd-ca, --etcd-cert, --etcd-key) against a member that requires
// them; without the client certificate, or without the CA, serve stops at
// start.
func TestServeEtcdTLS(t *testing.T) {
	ca, cert, key := testPKI(t)
	configs, err := etcdtest.MemberConfigs(t.TempDir(), etcdtest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	mc := configs[0]
	mc.ClientURL = "https" + strings.TrimPrefix(mc.ClientURL, "http")
	mc.CertFile, mc.KeyFile, mc.CAFile = cert, key, ca
	m, err := etcdtest.Member(mc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	wk := wrappingKeyFile(t)
	base := []string{"--etcd", mc.ClientURL, "--wrapping-key-file", wk, "--etcd-dial-timeout", "1s"}
	addr, stop, logs := startServe(t, append(base, "--etcd-ca", ca, "--etcd-cert", cert, "--etcd-key", key)...)
	if _, err := client(addr, "AKID").CreateKey(context.Background(), &awskms.CreateKeyInput{}); err != nil {
		t.Fatal(err)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d: %s", code, logs)
	}
	for name, args := range map[string][]string{
		"no client certificate": append(base, "--etcd-ca", ca),
		"no CA":                 append(base, "--etcd-cert", cert, "--etcd-key", key),
	} {
		var out syncBuffer
		if code := serve(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, args...), io.Discard, &out, nil); code != exitError ||
			!strings.Contains(out.String(), "cannot open the store") {
			t.Errorf("%s: exit %d, log %s", name, code, out.String())
		}
	}
}
