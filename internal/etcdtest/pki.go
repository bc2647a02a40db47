package etcdtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// PKI makes, in a temporary directory of t, a CA and a certificate it
// signs for 127.0.0.1 (server and client use), valid for an hour, and
// returns the PEM files: the CA's certificate, the certificate, its key.
// A member given them (MemberConfig.CertFile, KeyFile, CAFile) serves
// over TLS and requires a client certificate; a client given them can
// connect.
func PKI(t testing.TB) (ca, cert, key string) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// issue makes a key and its certificate from tmpl, signed by parent's
	// key (self-signed when parent is nil).
	issue := func(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, []byte) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if parent == nil {
			parent, parentKey = tmpl, k
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		return k, der
	}
	now := time.Now()
	caKey, caDER := issue(&x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kmsmodel test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	k, der := issue(&x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}},
		caCert, caKey)
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", der), write("key.pem", "EC PRIVATE KEY", kder)
}

// TLSMember starts a one-member cluster, stopped when t ends, that serves
// its clients over TLS and requires a client certificate: PKI's. It
// returns the member's client URL (https://…) and PKI's files.
func TLSMember(t testing.TB) (url, ca, cert, key string) {
	t.Helper()
	ca, cert, key = PKI(t)
	configs, err := MemberConfigs(t.TempDir(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	mc := configs[0]
	mc.ClientURL = "https" + strings.TrimPrefix(mc.ClientURL, "http")
	mc.CertFile, mc.KeyFile, mc.CAFile = cert, key, ca
	m, err := Member(mc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return mc.ClientURL, ca, cert, key
}
