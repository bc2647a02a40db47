package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
)

// TestServePrincipals: serve --access-key KEY=ARN makes calls as that
// principal. A policy set by a role lets the role and its sessions use
// the key and refuses a user of the same account with
// AccessDeniedException; KEY=ACCOUNT still means the account's root.
func TestServePrincipals(t *testing.T) {
	const (
		role    = "arn:aws:iam::111122223333:role/app"
		user    = "arn:aws:iam::111122223333:user/alice"
		session = "arn:aws:sts::111122223333:assumed-role/app/session"
	)
	addr, stop, logs := startServe(t, "--mem", "--access-key", "AKIDAPP="+role, "--access-key", "AKIDALICE="+user,
		"--access-key", "AKIDS="+session, "--access-key", "AKIDROOT=111122223333")
	defer stop()
	ctx := context.Background()
	app, alice, sess := client(addr, "AKIDAPP"), client(addr, "AKIDALICE"), client(addr, "AKIDS")
	ck, err := app.CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey as %s: %v\n%s", role, err, logs)
	}
	arn := aws.ToString(ck.KeyMetadata.Arn)
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + role + `"},"Action":"kms:*","Resource":"*"}]}`
	if _, err := app.PutKeyPolicy(ctx, &awskms.PutKeyPolicyInput{KeyId: aws.String(arn), Policy: aws.String(doc)}); err != nil {
		t.Fatalf("PutKeyPolicy as %s: %v", role, err)
	}
	for name, c := range map[string]*awskms.Client{"role": app, "session": sess} {
		if _, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(arn), Plaintext: []byte("x")}); err != nil {
			t.Errorf("Encrypt as the %s: %v", name, err)
		}
	}
	_, err = alice.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(arn), Plaintext: []byte("x")})
	want := "User: " + user + " is not authorized to perform: kms:Encrypt on resource: " + arn +
		" because no resource-based policy allows the kms:Encrypt action"
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || ae.ErrorMessage() != want {
		t.Errorf("Encrypt as %s: %v, want AccessDeniedException %q", user, err, want)
	}
	// The account form is the root, which the policy does not name.
	_, err = client(addr, "AKIDROOT").DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(arn)})
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Errorf("DescribeKey as the account root: %v, want AccessDeniedException", err)
	}
}

// TestServeIdentityPolicy: serve --identity-policy ARN=FILE attaches an
// identity-based policy (D59): the role may encrypt under the default key
// policy, which delegates to its account, and nothing else; a bad
// document is refused when serve starts.
func TestServeIdentityPolicy(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/app"
	file := filepath.Join(t.TempDir(), "app-policy.json")
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"arn:aws:kms:*:111122223333:key/*"}]}`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, stop, logs := startServe(t, "--mem", "--access-key", "AKIDAPP="+role, "--access-key", "AKIDROOT=111122223333",
		"--identity-policy", role+"="+file)
	defer stop()
	ctx := context.Background()
	app, root := client(addr, "AKIDAPP"), client(addr, "AKIDROOT")
	ck, err := root.CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey as the root: %v\n%s", err, logs)
	}
	arn := aws.ToString(ck.KeyMetadata.Arn)
	if _, err := app.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(arn), Plaintext: []byte("x")}); err != nil {
		t.Fatalf("Encrypt as the role: %v", err)
	}
	var ae smithy.APIError
	_, err = app.CreateKey(ctx, &awskms.CreateKeyInput{})
	want := "User: " + role + " is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action"
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || ae.ErrorMessage() != want {
		t.Errorf("CreateKey as the role: %v, want AccessDeniedException %q", err, want)
	}
	_, err = app.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(arn)})
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Errorf("DescribeKey as the role: %v, want AccessDeniedException", err)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errs strings.Builder
	if _, code := parseServe([]string{"--identity-policy", role + "=" + bad}, &out, &errs); code != 2 ||
		!strings.Contains(errs.String(), "Policy document should not specify a principal.") {
		t.Errorf("a document with a Principal: code %d, %q", code, errs.String())
	}
}

// TestServeIdentityPolicies: serve --identity-policies keeps identity-based
// policies, none at first, and KmsModel.PutIdentityPolicy attaches one
// while it runs (D59).
func TestServeIdentityPolicies(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/app"
	addr, stop, logs := startServe(t, "--mem", "--access-key", "AKIDAPP="+role, "--identity-policies")
	defer stop()
	ctx := context.Background()
	app := client(addr, "AKIDAPP")
	var ae smithy.APIError
	if _, err := app.ListKeys(ctx, &awskms.ListKeysInput{}); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("ListKeys with no identity-based policy: %v\n%s", err, logs)
	}
	body := `{"PrincipalArn":"` + role + `","PolicyName":"list","PolicyDocument":` +
		strconv.Quote(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:ListKeys","Resource":"*"}]}`) + `}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "KmsModel.PutIdentityPolicy")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDAPP/20240101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("PutIdentityPolicy: %d %s", res.StatusCode, b)
	}
	if _, err := app.ListKeys(ctx, &awskms.ListKeysInput{}); err != nil {
		t.Fatalf("ListKeys once allowed: %v", err)
	}
}

// TestServeGuardRails: serve --scp, --place-account, --permissions-boundary
// and --session-policy set IAM's guard rails when serve starts (D62): the
// organization's SCP refuses the account root, the role's boundary caps
// its identity-based policy, and a session policy caps one session; bad
// values (an RCP with an Allow among them) are refused at start.
func TestServeGuardRails(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/app"
	const session = "arn:aws:sts::111122223333:assumed-role/app/ci"
	dir := t.TempDir()
	write := func(name, doc string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	all := write("all.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)
	keep := write("keep-keys.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
		{"Effect":"Deny","Action":"kms:ScheduleKeyDeletion","Resource":"*"}]}`)
	boundary := write("boundary.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}]}`)
	sessionDoc := write("session.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}`)
	rcp := write("no-rotation-off.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:DisableKeyRotation","Resource":"*"}]}`)
	addr, stop, logs := startServe(t, "--mem", "--access-key", "AKIDAPP="+role, "--access-key", "AKIDCI="+session,
		"--access-key", "AKIDROOT=111122223333", "--identity-policy", role+"="+all,
		"--scp", "r-ab12="+keep, "--rcp", "r-ab12="+rcp, "--place-account", "111122223333=o-a1b2c3d4e5/r-ab12/",
		"--permissions-boundary", role+"="+boundary, "--session-policy", session+"="+sessionDoc)
	defer stop()
	ctx := context.Background()
	app, ci, root := client(addr, "AKIDAPP"), client(addr, "AKIDCI"), client(addr, "AKIDROOT")
	ck, err := root.CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey as the root: %v\n%s", err, logs)
	}
	arn := aws.ToString(ck.KeyMetadata.Arn)
	refused := func(err error, who, action, tail string) {
		t.Helper()
		var ae smithy.APIError
		want := "User: " + who + " is not authorized to perform: " + action + " on resource: " + arn + " " + tail
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || ae.ErrorMessage() != want {
			t.Errorf("%v, want AccessDeniedException %q", err, want)
		}
	}
	_, err = root.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(arn)})
	refused(err, "arn:aws:iam::111122223333:root", "kms:ScheduleKeyDeletion", "with an explicit deny in a service control policy")
	_, err = root.DisableKeyRotation(ctx, &awskms.DisableKeyRotationInput{KeyId: aws.String(arn)})
	refused(err, "arn:aws:iam::111122223333:root", "kms:DisableKeyRotation", "with an explicit deny in a resource control policy")
	ct, err := app.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(arn), Plaintext: []byte("x")})
	if err != nil {
		t.Fatalf("Encrypt as the role: %v", err)
	}
	_, err = app.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: aws.String(arn)})
	refused(err, role, "kms:DisableKey", "because no permissions boundary allows the kms:DisableKey action")
	if _, err := app.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: ct.CiphertextBlob}); err != nil {
		t.Fatalf("Decrypt as the role: %v", err)
	}
	_, err = ci.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: ct.CiphertextBlob})
	refused(err, session, "kms:Decrypt", "because no session policy allows the kms:Decrypt action")

	for _, args := range [][]string{
		{"--place-account", "111122223333=o-a1b2c3d4e5/ou-ab12-cd34ef56/"},
		{"--rcp", "r-ab12=" + keep},
		{"--management-account", "1111"},
		{"--place-account", "111122223333"},
		{"--scp", "ou-x=" + keep},
		{"--session-policy", role + "=" + sessionDoc},
		{"--permissions-boundary", role + "=" + filepath.Join(dir, "missing.json")},
	} {
		var out, errs strings.Builder
		if _, code := parseServe(args, &out, &errs); code != 2 {
			t.Errorf("%q: code %d, %q", args, code, errs.String())
		}
	}
}

// TestServeVPCEndpoint: serve --vpc-endpoint and --vpc-endpoint-policy
// (D64): with the header X-Kmsmodel-Vpc-Endpoint, a request comes through
// the endpoint, whose policy refuses what it does not allow; a policy for
// an endpoint not given first is refused at start.
func TestServeVPCEndpoint(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "endpoint-policy.json")
	if err := os.WriteFile(file, []byte(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":["kms:Encrypt","kms:CreateKey"],"Resource":"*"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	const vpce = "vpce-0123456789abcdef0"
	addr, stop, logs := startServe(t, "--mem", "--vpc-endpoint", vpce+"=vpc-0abc1234", "--vpc-endpoint-policy", vpce+"="+file)
	defer stop()
	post := func(target, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("X-Kmsmodel-Vpc-Endpoint", vpce)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, body := post("TrentService.CreateKey", `{}`)
	if status != 200 {
		t.Fatalf("CreateKey through the endpoint: %d %s\n%s", status, body, logs)
	}
	var out struct{ KeyMetadata struct{ KeyId string } }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if status, body := post("TrentService.DescribeKey", `{"KeyId":"`+out.KeyMetadata.KeyId+`"}`); status != 400 ||
		!strings.Contains(body, "because no VPC endpoint policy allows the kms:DescribeKey action") {
		t.Fatalf("DescribeKey through the endpoint: %d %s", status, body)
	}
	var o, e strings.Builder
	if _, code := parseServe([]string{"--vpc-endpoint-policy", vpce + "=" + file}, &o, &e); code != 2 {
		t.Errorf("a policy before its endpoint: code %d %q", code, e.String())
	}
	if _, code := parseServe([]string{"--vpc-endpoint", "vpce-1=vpc-0abc1234"}, &o, &e); code != 2 {
		t.Errorf("a bad endpoint ID: code %d", code)
	}
}

// TestServePrincipal: serve --principal ARN records an existing role
// (D66): CreateKey with a key policy naming it succeeds, one naming
// another role is MalformedPolicyDocumentException.
func TestServePrincipal(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/app"
	addr, stop, logs := startServe(t, "--mem", "--principal", role)
	defer stop()
	ctx := context.Background()
	root := client(addr, "AKIDROOT")
	doc := func(r string) *string {
		return aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},` +
			`{"Effect":"Allow","Principal":{"AWS":"` + r + `"},"Action":"kms:Encrypt","Resource":"*"}]}`)
	}
	if _, err := root.CreateKey(ctx, &awskms.CreateKeyInput{Policy: doc(role)}); err != nil {
		t.Fatalf("a policy naming the recorded role: %v\n%s", err, logs)
	}
	var ae smithy.APIError
	_, err := root.CreateKey(ctx, &awskms.CreateKeyInput{Policy: doc("arn:aws:iam::111122223333:role/ghost")})
	if !errors.As(err, &ae) || ae.ErrorCode() != "MalformedPolicyDocumentException" ||
		ae.ErrorMessage() != "Policy contains a statement with one or more invalid principals." {
		t.Fatalf("a policy naming an unknown role: %v", err)
	}
	var o, e strings.Builder
	if _, code := parseServe([]string{"--principal", "arn:aws:iam::111122223333:group/dev"}, &o, &e); code != 2 {
		t.Errorf("a group: code %d", code)
	}
}
