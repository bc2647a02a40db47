package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestServeRules: serve --rules current serves today's rules (25
// on-demand rotations per key); a --db file written under the 2024 rules
// is refused under --rules current (exit 1, logged) unless --rules-upgrade
// is given, and an upgraded file is refused under --rules 2024 (decision
// D36). --on-demand-quota still overrides the profile's quota.
func TestServeRules(t *testing.T) {
	db := filepath.Join(t.TempDir(), "kms.db")
	addr, stop, logs := startServe(t, "--db", db)
	ctx := context.Background()
	ck, err := client(addr, "AKID").CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d: %s", code, logs)
	}
	var errb bytes.Buffer
	if code := serve(ctx, []string{"--addr", "127.0.0.1:0", "--db", db, "--rules", "current"}, io.Discard, &errb, nil); code != exitError ||
		!strings.Contains(errb.String(), "another rule profile") {
		t.Fatalf("--rules current over a 2024 file: exit %d: %s", code, errb.String())
	}
	addr, stop, logs = startServe(t, "--db", db, "--rules", "current", "--rules-upgrade")
	c := client(addr, "AKID")
	for i := range 25 {
		if _, err := c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: ck.KeyMetadata.KeyId}); err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
	}
	_, err = c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: ck.KeyMetadata.KeyId})
	var le *types.LimitExceededException
	if !errors.As(err, &le) {
		t.Fatalf("the 26th rotation: %v", err)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d: %s", code, logs)
	}
	errb.Reset()
	if code := serve(ctx, []string{"--addr", "127.0.0.1:0", "--db", db}, io.Discard, &errb, nil); code != exitError {
		t.Fatalf("--rules 2024 over an upgraded file: exit %d: %s", code, errb.String())
	}
	addr, stop, logs = startServe(t, "--mem", "--rules", "current", "--on-demand-quota", "1")
	defer stop()
	c = client(addr, "AKID")
	k, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: k.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: k.KeyMetadata.KeyId})
	if !errors.As(err, &le) {
		t.Fatalf("--on-demand-quota 1: the second rotation: %v\n%s", err, logs)
	}
}

// TestServeGrantsPerKey: --grants-per-key sets the grants quota of a key
// (D28; AWS's 50,000 by default).
func TestServeGrantsPerKey(t *testing.T) {
	ctx := context.Background()
	addr, stop, logs := startServe(t, "--mem", "--grants-per-key", "1")
	defer stop()
	c := client(addr, "AKID")
	k, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	in := &awskms.CreateGrantInput{KeyId: k.KeyMetadata.KeyId, GranteePrincipal: aws.String("arn:aws:iam::111122223333:role/app"),
		Operations: []types.GrantOperation{types.GrantOperationEncrypt}}
	if _, err := c.CreateGrant(ctx, in); err != nil {
		t.Fatal(err)
	}
	var le *types.LimitExceededException
	if _, err := c.CreateGrant(ctx, in); !errors.As(err, &le) {
		t.Fatalf("--grants-per-key 1: the second grant: %v\n%s", err, logs)
	}
}

// TestSimulateRules: simulate --rules current runs under today's quota.
func TestSimulateRules(t *testing.T) {
	code, out, errOut := runCmd(t, "simulate", "--keys", "20", "--years", "1", "--on-demand", "40", "--rules", "current", "--progress", "never")
	if code != exitOK || !strings.Contains(out, "20 keys") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	_, old, _ := runCmd(t, "simulate", "--keys", "20", "--years", "1", "--on-demand", "40", "--progress", "never")
	if old == out {
		t.Errorf("--rules current gave the same summary as the 2024 rules (quota 25 vs 10):\n%s", out)
	}
}
