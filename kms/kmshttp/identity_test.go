package kmshttp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
)

// The identity-based policy targets (decision D59): a test changes IAM
// while the server runs, and the next call is decided by the change.
func TestIdentityPolicyTargets(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/app"
	iam := kms.NewIdentityPolicies()
	svc := kms.New(kms.WithIdentityPolicies(iam))
	h, err := kmshttp.New(svc, kmshttp.WithIdentityPolicies(iam),
		kmshttp.WithAccounts(map[string]string{accessKey: "111122223333", "AKIDAPP": role}))
	if err != nil {
		t.Fatal(err)
	}
	asApp := []string{"Authorization", sigV4("AKIDAPP", region, "kms")}
	status, _, b := post(t, h, "TrentService.ListKeys", `{}`, asApp...)
	if status != http.StatusBadRequest || !strings.Contains(string(b), "because no identity-based policy allows the kms:ListKeys action") {
		t.Fatalf("ListKeys before: %d %s", status, b)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:ListKeys","Resource":"*"}]}`
	in, _ := json.Marshal(map[string]string{"PrincipalArn": role, "PolicyName": "list", "PolicyDocument": doc})
	if got := postOK(t, h, "KmsModel.PutIdentityPolicy", string(in)); len(got) != 0 {
		t.Fatalf("PutIdentityPolicy answered %v, want {}", got)
	}
	if status, _, b := post(t, h, "TrentService.ListKeys", `{}`, asApp...); status != http.StatusOK {
		t.Fatalf("ListKeys after: %d %s", status, b)
	}
	got := postOK(t, h, "KmsModel.GetIdentityPolicy", `{"PrincipalArn":"`+role+`"}`)
	if names, _ := got["PolicyNames"].([]any); len(names) != 1 || names[0] != "list" {
		t.Fatalf("GetIdentityPolicy names: %v", got)
	}
	got = postOK(t, h, "KmsModel.GetIdentityPolicy", `{"PrincipalArn":"`+role+`","PolicyName":"list"}`)
	if text, _ := got["PolicyDocument"].(string); !strings.Contains(text, `"kms:ListKeys"`) {
		t.Fatalf("GetIdentityPolicy document: %v", got)
	}
	postOK(t, h, "KmsModel.DeleteIdentityPolicy", `{"PrincipalArn":"`+role+`","PolicyName":"list"}`)
	if status, _, _ := post(t, h, "TrentService.ListKeys", `{}`, asApp...); status != http.StatusBadRequest {
		t.Fatalf("ListKeys after the policy was deleted: %d", status)
	}
	if got := postOK(t, h, "KmsModel.GetIdentityPolicy", `{"PrincipalArn":"`+role+`"}`); got["PolicyNames"] == nil {
		t.Fatalf("no policies: %v, want an empty PolicyNames", got)
	}

	refusals := []struct{ target, body, code string }{
		{"KmsModel.PutIdentityPolicy", `{"PrincipalArn":"` + role + `","PolicyName":"p","PolicyDocument":"{}"}`, "MalformedPolicyDocumentException"},
		{"KmsModel.PutIdentityPolicy", `{"PrincipalArn":"arn:aws:iam::111122223333:root","PolicyName":"p","PolicyDocument":` + string(mustJSON(t, doc)) + `}`, "ValidationException"},
		{"KmsModel.DeleteIdentityPolicy", `{"PrincipalArn":"` + role + `","PolicyName":"none"}`, "NotFoundException"},
		{"KmsModel.PutIdentityPolicy", `{"PrincipalArn":1}`, "SerializationException"},
	}
	for _, r := range refusals {
		status, _, b := post(t, h, r.target, r.body)
		var e struct {
			Type string `json:"__type"`
		}
		json.Unmarshal(b, &e)
		if status != http.StatusBadRequest || e.Type != r.code {
			t.Errorf("%s %s: %d %s, want %s", r.target, r.body, status, b, r.code)
		}
	}

	plain, err := kmshttp.New(kms.New())
	if err != nil {
		t.Fatal(err)
	}
	status, _, b = post(t, plain, "KmsModel.PutIdentityPolicy", string(in))
	if status != http.StatusBadRequest || !strings.Contains(string(b), "UnknownOperationException") || !strings.Contains(string(b), "--identity-policies") {
		t.Fatalf("without identity-based policies: %d %s", status, b)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
