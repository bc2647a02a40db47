package main

import (
	"context"
	"io"
	"strings"
	"testing"

	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsmodel/kmsmodel/internal/etcdtest"
)

// TestServeEtcdTLS: serve --etcd over TLS with client certificates
// (--etcd-ca, --etcd-cert, --etcd-key) against a member that requires
// them; without the client certificate, or without the CA, serve stops at
// start.
func TestServeEtcdTLS(t *testing.T) {
	url, ca, cert, key := etcdtest.TLSMember(t)
	wk := wrappingKeyFile(t)
	base := []string{"--etcd", url, "--wrapping-key-file", wk, "--etcd-dial-timeout", "1s"}
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
