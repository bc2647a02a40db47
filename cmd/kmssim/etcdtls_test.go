package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
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
	ports, err := freeTCPPorts(2)
	if err != nil {
		t.Fatal(err)
	}
	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = "tls", t.TempDir()
	cu, _ := url.Parse(fmt.Sprintf("https://127.0.0.1:%d", ports[0]))
	pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", ports[1]))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = "tls=" + pu.String()
	cfg.ClientTLSInfo.CertFile, cfg.ClientTLSInfo.KeyFile, cfg.ClientTLSInfo.TrustedCAFile = cert, key, ca
	cfg.ClientTLSInfo.ClientCertAuth = true
	cfg.UnsafeNoFsync = true
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(20 * time.Second):
		t.Fatal("the TLS member is not ready")
	}
	wk := wrappingKeyFile(t)
	base := []string{"--etcd", cu.String(), "--wrapping-key-file", wk, "--etcd-dial-timeout", "1s"}
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

// freeTCPPorts returns n ports that were free on 127.0.0.1 a moment ago.
func freeTCPPorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
