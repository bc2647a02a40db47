package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	smithy "github.com/aws/smithy-go"

	"github.com/kmsmodel/kmsmodel/internal/etcdtest"
)

// modelCall posts a KmsModel target to the node at addr, as the access key
// AKIDROOT (signatures are not verified), and returns the status and the
// decoded answer.
func modelCall(t *testing.T, addr, target, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDROOT/20261207/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %d %s", target, res.StatusCode, b)
	}
	return res.StatusCode, m
}

// TestServeEtcdModelLog: in a cluster, the KmsModel targets that change
// IAM change every node, those started later included, in one order:
// an identity-based policy put on node a lets a role encrypt on node b;
// a principal deleted and created again on different nodes has the same
// new unique ID everywhere (D77), and every node, the one started later
// included, judges a key policy naming it alike (D78: bound where it was
// written, as its record says): it no longer admits the namesake, and
// shows the former unique ID, until it is written again; a refusal is the
// change's own.
func TestServeEtcdModelLog(t *testing.T) {
	cl := etcdtest.Start(t, etcdtest.Config{})
	const role, session = "arn:aws:iam::111122223333:role/app", "arn:aws:sts::111122223333:assumed-role/app/ci"
	args := []string{"--etcd", strings.Join(cl.Endpoints(), ","), "--etcd-prefix", "m/", "--wrapping-key-file", wrappingKeyFile(t),
		"--identity-policies", "--account", "111122223333", "--access-key", "AKIDCI=" + session, "--access-key", "AKIDROOT=111122223333"}
	addrA, stopA, logsA := startServe(t, args...)
	addrB, stopB, _ := startServe(t, args...)
	ctx := context.Background()
	post := func(addr, target, body string, want int) map[string]any {
		t.Helper()
		status, m := modelCall(t, addr, target, body)
		if status != want {
			t.Fatalf("%s on %s: %d %v, want %d", target, addr, status, m, want)
		}
		return m
	}
	post(addrA, "KmsModel.CreatePrincipal", `{"PrincipalArn":"`+role+`"}`, 200)
	// b answers GetIdentityPolicy only once it has applied a's change.
	post(addrA, "KmsModel.PutIdentityPolicy", `{"PrincipalArn":"`+role+`","PolicyName":"use","PolicyDocument":`+
		`"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"}`, 200)
	if got := post(addrB, "KmsModel.GetIdentityPolicy", `{"PrincipalArn":"`+role+`"}`, 200); !strings.Contains(strings.Join(anyStrings(got["PolicyNames"]), ","), "use") {
		t.Fatalf("node b's policies of the role: %v", got)
	}
	root := client(addrA, "AKIDROOT")
	ck, err := root.CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := *ck.KeyMetadata.KeyId
	if _, err := client(addrB, "AKIDCI").Encrypt(ctx, &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("the role on node b, allowed by the policy put on node a: %v", err)
	}

	// A key policy naming the role; the role deleted on b, created again
	// on a: one new ID on both nodes. The key policy was bound to the
	// role it named (D78): it admits the namesake on no node.
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},` +
		`{"Effect":"Allow","Principal":{"AWS":"` + role + `"},"Action":"kms:Encrypt","Resource":"*"}]}`
	if _, err := root.PutKeyPolicy(ctx, &awskms.PutKeyPolicyInput{KeyId: &id, Policy: &policy}); err != nil {
		t.Fatal(err)
	}
	idOld := post(addrA, "KmsModel.GetUserId", `{"PrincipalArn":"`+role+`"}`, 200)["UserId"]
	post(addrB, "KmsModel.DeleteIdentityPolicy", `{"PrincipalArn":"`+role+`","PolicyName":"use"}`, 200)
	post(addrB, "KmsModel.DeletePrincipal", `{"PrincipalArn":"`+role+`"}`, 200)
	idA := post(addrA, "KmsModel.CreatePrincipal", `{"PrincipalArn":"`+role+`"}`, 200)["UserId"]
	if idB := post(addrB, "KmsModel.GetUserId", `{"PrincipalArn":"`+role+`"}`, 200)["UserId"]; idA != idB || idA == nil {
		t.Fatalf("the role's new ID: %v on a, %v on b", idA, idB)
	}
	encryptOn := func(addr string) {
		t.Helper()
		if _, err := client(addr, "AKIDCI").Encrypt(ctx, &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("x")}); err != nil {
			t.Fatalf("the role created again, on %s: %v, want allowed on every node", addr, err)
		}
	}
	deniedOn := func(addr string) {
		t.Helper()
		_, err := client(addr, "AKIDCI").Encrypt(ctx, &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("x")})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
			t.Fatalf("the role created again, on %s: %v, want AccessDeniedException on every node", addr, err)
		}
		p, err := client(addr, "AKIDROOT").GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: &id})
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := idOld.(string); s == "" || !strings.Contains(*p.Policy, s) || strings.Contains(*p.Policy, role) {
			t.Fatalf("GetKeyPolicy on %s: %s, want the role's former ID %v", addr, *p.Policy, idOld)
		}
	}
	deniedOn(addrA)
	deniedOn(addrB)
	// A refusal is the change's own, with its exception.
	if got := post(addrB, "KmsModel.DeletePrincipal", `{"PrincipalArn":"arn:aws:iam::111122223333:role/ghost"}`, 400); got["__type"] != "NotFoundException" {
		t.Fatalf("deleting a principal never created: %v", got)
	}

	// A node started later replays every change.
	addrC, stopC, _ := startServe(t, args...)
	if idC := post(addrC, "KmsModel.GetUserId", `{"PrincipalArn":"`+role+`"}`, 200)["UserId"]; idC != idA {
		t.Fatalf("the role's ID on a node started later: %v, want %v", idC, idA)
	}
	if got := post(addrC, "KmsModel.GetIdentityPolicy", `{"PrincipalArn":"`+role+`"}`, 200); len(anyStrings(got["PolicyNames"])) != 0 {
		t.Fatalf("a node started later: the role's policies %v, want none (deleted)", got)
	}
	deniedOn(addrC)
	// Written again (on c), the policy names the role as it is now.
	if _, err := client(addrC, "AKIDROOT").PutKeyPolicy(ctx, &awskms.PutKeyPolicyInput{KeyId: &id, Policy: &policy}); err != nil {
		t.Fatal(err)
	}
	encryptOn(addrA)
	encryptOn(addrB)
	encryptOn(addrC)
	for _, stop := range []func() int{stopA, stopB, stopC} {
		if code := stop(); code != exitOK {
			t.Errorf("exit %d: %s", code, logsA)
		}
	}
}

func anyStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// TestServeEtcdModelFlags: a node whose IAM, Organizations or VPC
// endpoint flags, or whose account, quota or predefined aliases, differ
// from the cluster's first node's refuses to start, saying why, and so
// does one given them in another order (a later flag may replace an
// earlier); the same flags, with the prefix spelled without its slash,
// join.
func TestServeEtcdModelFlags(t *testing.T) {
	cl := etcdtest.Start(t, etcdtest.Config{})
	base := []string{"--etcd", strings.Join(cl.Endpoints(), ","), "--etcd-prefix", "f/", "--wrapping-key-file", wrappingKeyFile(t)}
	const role, user = "arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:user/alice"
	_, stopA, _ := startServe(t, append(base, "--identity-policies", "--principal", role, "--principal", user)...)
	defer stopA()
	noSlash := slices.Clone(base)
	noSlash[3] = "f"
	_, stopB, _ := startServe(t, append(noSlash, "--identity-policies", "--principal", role, "--principal", user)...)
	defer stopB()
	for _, extra := range [][]string{
		{"--principal", user, "--principal", role, "--identity-policies"},
		{"--identity-policies", "--principal", role},
		{},
		{"--identity-policies", "--principal", role, "--principal", user, "--account", "444455556666"},
		{"--identity-policies", "--principal", role, "--principal", user, "--on-demand-quota", "3"},
		{"--identity-policies", "--principal", role, "--principal", user, "--no-predefined-aliases"},
	} {
		var out, errOut strings.Builder
		args := append(append([]string{"--addr", "127.0.0.1:0"}, base...), extra...)
		code := serve(context.Background(), args, &out, &errOut, nil)
		if code == exitOK || !strings.Contains(errOut.String(), "differ from those of the cluster's first node") {
			t.Errorf("serve %v: exit %d, %s; want a refusal naming the flags", extra, code, errOut.String())
		}
	}
}
