package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
)

// TestServeWrappingKey is issue 12 item 10: serve --db takes the store's
// wrapping key from a file or from KMSSIM_WRAPPING_KEY (never a flag
// value), the file is then wrapped (a start without the key fails), and a
// start on an unwrapped file warns.
func TestServeWrappingKey(t *testing.T) {
	dir := t.TempDir()
	keyHex := strings.Repeat("5a", 32)
	keyFile := filepath.Join(dir, "wrap.key")
	if err := os.WriteFile(keyFile, []byte(keyHex+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "kms.db")
	addr, stop, logs := startServe(t, "--db", db, "--wrapping-key-file", keyFile)
	ck, err := client(addr, "AKID").CreateKey(context.Background(), &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d: %s", code, logs)
	}
	if strings.Contains(logs.String(), "not wrapped") || strings.Contains(logs.String(), keyHex) {
		t.Errorf("log of a wrapped start warns or shows the key:\n%s", logs)
	}
	// Without the key the wrapped file does not open.
	var errb bytes.Buffer
	if code := serve(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", db}, io.Discard, &errb, nil); code != exitError ||
		!strings.Contains(errb.String(), "wrapping key") {
		t.Errorf("start without the key: exit %d: %s", code, errb.String())
	}
	// The environment variable works as well.
	t.Setenv(wrappingKeyEnv, keyHex)
	addr, stop, logs = startServe(t, "--db", db)
	if _, err := client(addr, "AKID").DescribeKey(context.Background(), &awskms.DescribeKeyInput{KeyId: ck.KeyMetadata.KeyId}); err != nil {
		t.Errorf("DescribeKey with the key from %s: %v\n%s", wrappingKeyEnv, err, logs)
	}
	stop()
	t.Setenv(wrappingKeyEnv, "")
	// An unwrapped file warns at start.
	_, stop, logs = startServe(t, "--db", filepath.Join(dir, "plain.db"))
	stop()
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "not wrapped") {
		t.Errorf("no warning for an unwrapped store:\n%s", logs)
	}
	xdb := filepath.Join(dir, "x.db")
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--mem", "--wrapping-key-file", keyFile}, "", "needs --db or --etcd"},
		{[]string{"--db", xdb, "--wrapping-key-file", filepath.Join(dir, "missing")}, "", "--wrapping-key-file"},
		{[]string{"--db", xdb, "--wrapping-key-file", keyFile}, keyHex, "exclusive"},
		{[]string{"--db", xdb}, "00ff", wrappingKeyEnv + ": a wrapping key is an AES-256 key"},
	} {
		t.Setenv(wrappingKeyEnv, tc.env)
		var errb bytes.Buffer
		code := serve(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, tc.args...), io.Discard, &errb, nil)
		if code != exitUsage || !strings.Contains(errb.String(), tc.want) || strings.Contains(errb.String(), "00ff") {
			t.Errorf("%v with %s=%q: exit %d, %s", tc.args, wrappingKeyEnv, tc.env, code, errb.String())
		}
	}
}

// TestParseWrappingKey: raw 32 bytes (file only), hex, base64.
func TestParseWrappingKey(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, 32)
	for _, in := range [][]byte{raw, []byte(hex.EncodeToString(raw)), []byte(" BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n")} {
		if k, err := parseWrappingKey(in, true); err != nil || !bytes.Equal(k, raw) {
			t.Errorf("%q: %x %v", in, k, err)
		}
	}
	if _, err := parseWrappingKey(raw, false); err == nil {
		t.Error("raw bytes accepted from the environment")
	}
}

// TestServeSeedReproducible is issue 12 item 11: --seed makes key
// material reproducible, so a second server with the same seed decrypts
// the first one's ciphertexts; the help says so plainly.
func TestServeSeedReproducible(t *testing.T) {
	ctx := context.Background()
	var blobs [][]byte
	for range 2 {
		addr, stop, _ := startServe(t, "--mem", "--seed", "99")
		c := client(addr, "AKID")
		ck, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(blobs) == 0 {
			enc, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: ck.KeyMetadata.KeyId, Plaintext: []byte("seeded")})
			if err != nil {
				t.Fatal(err)
			}
			blobs = append(blobs, enc.CiphertextBlob)
		} else {
			dec, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: blobs[0], KeyId: aws.String(*ck.KeyMetadata.KeyId)})
			if err != nil || string(dec.Plaintext) != "seeded" {
				t.Errorf("a second server with the same seed: Decrypt = %v", err)
			}
		}
		stop()
	}
	_, out, _ := runCmd(t, "serve", "--help")
	if !strings.Contains(out, "decrypts the first one's ciphertexts") || !strings.Contains(out, "never use --seed") {
		t.Errorf("serve --help does not say what --seed gives away:\n%s", out)
	}
}
