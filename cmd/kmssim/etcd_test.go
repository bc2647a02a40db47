package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsmodel/kmsmodel/internal/etcdtest"
	"github.com/kmsmodel/kmsmodel/store/etcdstore"
)

// TestMain lets a test binary run an etcd member in a child process
// (etcdtest.StartProcess, the end-to-end fault test), and removes the
// kmssim binary the tests built (kmssimBinary).
func TestMain(m *testing.M) {
	etcdtest.RunChild()
	code := m.Run()
	if kmssimBinPath != "" {
		_ = os.RemoveAll(filepath.Dir(kmssimBinPath))
	}
	os.Exit(code)
}

// wrappingKeyFile writes a 32-byte wrapping key (hex) to a file.
func wrappingKeyFile(t testing.TB) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "wrap.key")
	if err := os.WriteFile(f, []byte(strings.Repeat("5a", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// httpGet returns the status and body of GET url.
func httpGet(t testing.TB, url string) (int, string) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// TestServeEtcd: two serve --etcd nodes on one etcd cluster serve one key
// space (a key and an alias made on one are seen by the next call on the
// other), answer /healthz and /readyz, and /readyz turns 503 with the
// reason when etcd is out of reach while /healthz stays 200. A node that
// keeps IAM policies says at start that their changes reach every node.
func TestServeEtcd(t *testing.T) {
	cl := etcdtest.Start(t, etcdtest.Config{})
	key := wrappingKeyFile(t)
	args := []string{"--etcd", strings.Join(cl.Endpoints(), ","), "--etcd-prefix", "t/", "--wrapping-key-file", key,
		"--ready-timeout", "300ms", "--etcd-dial-timeout", "2s"}
	addrA, stopA, logsA := startServe(t, args...)
	addrB, stopB, _ := startServe(t, args...)
	ctx := context.Background()
	a, b := client(addrA, "AKID"), client(addrB, "AKID")
	ck, err := a.CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := *ck.KeyMetadata.KeyId
	if _, err := a.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: new("alias/shared"), TargetKeyId: &id}); err != nil {
		t.Fatal(err)
	}
	d, err := b.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: new("alias/shared")})
	if err != nil || *d.KeyMetadata.KeyId != id {
		t.Fatalf("b resolves alias/shared to %v, %v; want %s", d, err, id)
	}
	if _, err := b.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: &id}); err != nil {
		t.Fatal(err)
	}
	if d, err := a.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: &id}); err != nil || d.KeyMetadata.Enabled {
		t.Fatalf("a after b disabled the key: %v, %v", d, err)
	}
	for _, addr := range []string{addrA, addrB} {
		for _, p := range []string{"/healthz", "/readyz"} {
			if code, body := httpGet(t, "http://"+addr+p); code != 200 || !strings.HasPrefix(body, "ok") {
				t.Errorf("%s%s: %d %q", addr, p, code, body)
			}
		}
	}
	cl.Stop(0)
	code, body := httpGet(t, "http://"+addrA+"/readyz")
	if code != 503 || !strings.Contains(body, "not ready") {
		t.Errorf("readyz with etcd down: %d %q, want 503 with the reason", code, body)
	}
	t.Logf("readyz with etcd down: %d %s", code, strings.TrimSpace(body))
	if code, _ := httpGet(t, "http://"+addrA+"/healthz"); code != 200 {
		t.Errorf("healthz with etcd down: %d", code)
	}
	if err := cl.Restart(0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := httpGet(t, "http://"+addrA+"/readyz")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after etcd came back: %d %q", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := stopA(); code != exitOK {
		t.Errorf("node a exit %d: %s", code, logsA)
	}
	if code := stopB(); code != exitOK {
		t.Errorf("node b exit %d", code)
	}
	if !strings.Contains(logsA.String(), "store=\"etcd ") {
		t.Errorf("the log does not name the etcd store: %s", logsA)
	}
	// A node that keeps IAM says at start that its changes reach every
	// node (TestServeEtcdModelLog); its cluster's nodes all keep IAM
	// (TestServeEtcdModelFlags), so it has a prefix of its own here.
	_, stopC, logsC := startServe(t, "--etcd", strings.Join(cl.Endpoints(), ","), "--etcd-prefix", "t-iam/", "--wrapping-key-file", key,
		"--identity-policies")
	if code := stopC(); code != exitOK {
		t.Errorf("node c exit %d: %s", code, logsC)
	}
	const shared = "change every node"
	if strings.Contains(logsA.String(), shared) || !strings.Contains(logsC.String(), shared) {
		t.Errorf("the notice that IAM changes reach every node: node a (none) %q, node c (--identity-policies) %q", logsA, logsC)
	}

	// Another wrapping key, or etcd out of reach: serve exits at start,
	// saying why.
	other := filepath.Join(t.TempDir(), "other.key")
	if err := os.WriteFile(other, []byte(strings.Repeat("a5", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--etcd", strings.Join(cl.Endpoints(), ","), "--etcd-prefix", "t/", "--wrapping-key-file", other}, "wrong or missing wrapping key"},
		{[]string{"--etcd", "http://127.0.0.1:1", "--wrapping-key-file", key, "--etcd-dial-timeout", "200ms"}, "cannot open the store"},
	} {
		var logs syncBuffer
		code := serve(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, tc.args...), io.Discard, &logs, nil)
		if code != exitError || !strings.Contains(logs.String(), tc.want) {
			t.Errorf("%v: exit %d, log %q (want %q)", tc.args, code, logs.String(), tc.want)
		}
	}
}

// TestServeEtcdUsage: serve's etcd flags are checked before anything
// starts, each mistake with its own message.
func TestServeEtcdUsage(t *testing.T) {
	key := wrappingKeyFile(t)
	t.Setenv(wrappingKeyEnv, "")
	t.Setenv(etcdPasswordEnv, "")
	ep := "http://127.0.0.1:1"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--etcd", ep, "--mem"}, "--etcd, --db and --mem are exclusive"},
		{[]string{"--etcd", ep, "--db", "x.db", "--wrapping-key-file", key}, "--etcd, --db and --mem are exclusive"},
		{[]string{"--etcd", ep}, "--etcd needs a wrapping key"},
		{[]string{"--etcd-prefix", "x/"}, "--etcd-prefix needs --etcd"},
		{[]string{"--stale-reads"}, "--stale-reads needs --etcd"},
		{[]string{"--share-key-usage"}, "--share-key-usage needs --etcd"},
		{[]string{"--etcd", ep, "--wrapping-key-file", key, "--usage-share-every", "1s"}, "--usage-share-every needs --share-key-usage"},
		{[]string{"--etcd", ep, "--wrapping-key-file", key, "--share-key-usage", "--usage-share-every", "1us"}, "--usage-share-every must be at least 1ms"},
		{[]string{"--etcd", ep, "--wrapping-key-file", key, "--share-key-usage", "--etcd-max-txn-ops", "2"}, "--share-key-usage needs --etcd-max-txn-ops of at least 3"},
		{[]string{"--etcd-user", "u"}, "--etcd-user needs --etcd"},
		{[]string{"--etcd", ep + ",", "--wrapping-key-file", key}, "want comma-separated client URLs"},
		{[]string{"--etcd", ep, "--wrapping-key-file", key, "--etcd-password", "p"}, "needs --etcd-user"},
		{[]string{"--etcd", ep, "--wrapping-key-file", key, "--etcd-cert", "c.pem"}, "--etcd-cert and --etcd-key go together"},
		{[]string{"--etcd", ep, "--wrapping-key-file", key, "--etcd-ca", "/nonexistent/ca.pem"}, "--etcd-ca:"},
		{[]string{"--etcd", ep, "--wrapping-key-file", key, "--etcd-ca", key}, "no PEM certificate"},
		{[]string{"--etcd", ep, "--wrapping-key-file", key, "--etcd-max-txn-ops", "0"}, "--etcd-max-txn-ops must be positive"},
		{[]string{"--etcd", ep, "--wrapping-key-file", key, "--etcd-dial-timeout", "0s"}, "--etcd-dial-timeout must be positive"},
		{[]string{"--etcd", ep, "--wrapping-key-file", key, "--etcd-prefix", ""}, "--etcd-prefix must not be empty"},
		{[]string{"--ready-timeout", "0s"}, "--ready-timeout must be positive"},
	} {
		code, out, errOut := runCmd(t, append([]string{"serve"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q (want %q)", tc.args, code, errOut, tc.want)
		}
	}
	// The password may come from the environment, and then needs a user.
	t.Setenv(etcdPasswordEnv, "secret")
	if code, _, errOut := runCmd(t, "serve", "--etcd", ep, "--wrapping-key-file", key); code != exitUsage || !strings.Contains(errOut, "needs --etcd-user") || strings.Contains(errOut, "secret") {
		t.Errorf("password from the environment without a user: exit %d, stderr %q", code, errOut)
	}
}

// TestServeEtcdAuth: against an etcd cluster with authentication on,
// serve --etcd-user with the password from KMSSIM_ETCD_PASSWORD serves,
// and a wrong password stops it at start; neither is logged.
func TestServeEtcdAuth(t *testing.T) {
	cl := etcdtest.Start(t, etcdtest.Config{})
	cli, err := etcdstore.Dial(etcdstore.Options{Endpoints: cl.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	if _, err := cli.UserAdd(ctx, "root", "s3cret-pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	key := wrappingKeyFile(t)
	args := []string{"--etcd", strings.Join(cl.Endpoints(), ","), "--wrapping-key-file", key, "--etcd-user", "root", "--etcd-dial-timeout", "2s"}
	t.Setenv(etcdPasswordEnv, "s3cret-pw")
	addr, stop, logs := startServe(t, args...)
	if _, err := client(addr, "AKID").CreateKey(ctx, &awskms.CreateKeyInput{}); err != nil {
		t.Fatal(err)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d: %s", code, logs)
	}
	if strings.Contains(logs.String(), "s3cret-pw") {
		t.Errorf("the log shows the password: %s", logs)
	}
	t.Setenv(etcdPasswordEnv, "wr0ng-pw")
	var out syncBuffer
	if code := serve(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), io.Discard, &out, nil); code != exitError ||
		!strings.Contains(out.String(), "authentication failed") || strings.Contains(out.String(), "wr0ng-pw") {
		t.Errorf("wrong password: exit %d, log %s", code, out.String())
	}
	t.Logf("wrong password: %s", strings.TrimSpace(out.String()))
}
