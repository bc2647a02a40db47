package kmshttp_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
)

// iamHandler is a handler over a service with identity-based policies,
// which it serves too; accessKey is the root of 111122223333, and key the
// principal principal.
func iamHandler(t *testing.T, key, principal string) *kmshttp.Handler {
	t.Helper()
	iam := kms.NewIdentityPolicies()
	h, err := kmshttp.New(kms.New(kms.WithIdentityPolicies(iam)), kmshttp.WithIdentityPolicies(iam),
		kmshttp.WithAccounts(map[string]string{accessKey: "111122223333", key: principal}))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

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

	// A group's policy applies to its members.
	const group = "arn:aws:iam::111122223333:group/devs"
	const user = "arn:aws:iam::111122223333:user/alice"
	h2, err := kmshttp.New(svc, kmshttp.WithIdentityPolicies(iam), kmshttp.WithAccounts(map[string]string{accessKey: "111122223333", "AKIDALICE": user}))
	if err != nil {
		t.Fatal(err)
	}
	asAlice := []string{"Authorization", sigV4("AKIDALICE", region, "kms")}
	in, _ = json.Marshal(map[string]string{"PrincipalArn": group, "PolicyName": "list", "PolicyDocument": doc})
	postOK(t, h2, "KmsModel.PutIdentityPolicy", string(in))
	if status, _, _ := post(t, h2, "TrentService.ListKeys", `{}`, asAlice...); status != http.StatusBadRequest {
		t.Fatalf("ListKeys by a user out of the group: %d", status)
	}
	postOK(t, h2, "KmsModel.AddUserToGroup", `{"GroupArn":"`+group+`","UserArn":"`+user+`"}`)
	if status, _, b := post(t, h2, "TrentService.ListKeys", `{}`, asAlice...); status != http.StatusOK {
		t.Fatalf("ListKeys by a member: %d %s", status, b)
	}
	postOK(t, h2, "KmsModel.RemoveUserFromGroup", `{"GroupArn":"`+group+`","UserArn":"`+user+`"}`)
	if status, _, _ := post(t, h2, "TrentService.ListKeys", `{}`, asAlice...); status != http.StatusBadRequest {
		t.Fatalf("ListKeys by a former member: %d", status)
	}

	refusals := []struct{ target, body, code string }{
		{"KmsModel.RemoveUserFromGroup", `{"GroupArn":"` + group + `","UserArn":"` + user + `"}`, "NotFoundException"},
		{"KmsModel.AddUserToGroup", `{"GroupArn":"` + user + `","UserArn":"` + user + `"}`, "ValidationException"},
		{"KmsModel.PutIdentityPolicy", `{"PrincipalArn":"` + role + `","PolicyName":"p","PolicyDocument":"{}"}`, "MalformedPolicyDocumentException"},
		{"KmsModel.PutIdentityPolicy", `{"PrincipalArn":"arn:aws:iam::111122223333:root","PolicyName":"p","PolicyDocument":` + string(mustJSON(t, doc)) + `}`, "ValidationException"},
		{"KmsModel.DeleteIdentityPolicy", `{"PrincipalArn":"` + role + `","PolicyName":"none"}`, "NotFoundException"},
		{"KmsModel.PutIdentityPolicy", `{"PrincipalArn":1}`, "SerializationException"},
	}
	for _, r := range refusals {
		refused(t, h, r.target, r.body, r.code)
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

// The guard-rail targets (decision D62): a service control policy, a
// permissions boundary and a session policy set while the server runs
// decide the next call, and each reads back and goes away.
func TestGuardRailTargets(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/app"
	const session = "arn:aws:sts::111122223333:assumed-role/app/s1"
	iam := kms.NewIdentityPolicies()
	if err := iam.Put(role, "all", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	svc := kms.New(kms.WithIdentityPolicies(iam))
	h, err := kmshttp.New(svc, kmshttp.WithIdentityPolicies(iam),
		kmshttp.WithAccounts(map[string]string{accessKey: "111122223333", "AKIDAPP": session}))
	if err != nil {
		t.Fatal(err)
	}
	asApp := []string{"Authorization", sigV4("AKIDAPP", region, "kms")}
	listKeys := func(want int, because string) {
		t.Helper()
		status, _, b := post(t, h, "TrentService.ListKeys", `{}`, asApp...)
		if status != want || !strings.Contains(string(b), because) {
			t.Fatalf("ListKeys: %d %s, want %d %q", status, b, want, because)
		}
	}
	body := func(m map[string]any) string { return string(mustJSON(t, m)) }
	onlyEncrypt := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}`
	listKeys(http.StatusOK, "")

	postOK(t, h, "KmsModel.PutPermissionsBoundary", body(map[string]any{"PrincipalArn": role, "PolicyDocument": onlyEncrypt}))
	listKeys(http.StatusBadRequest, "because no permissions boundary allows the kms:ListKeys action")
	if got := postOK(t, h, "KmsModel.GetPermissionsBoundary", body(map[string]any{"PrincipalArn": role})); !strings.Contains(got["PolicyDocument"].(string), "kms:Encrypt") {
		t.Fatalf("GetPermissionsBoundary: %v", got)
	}
	postOK(t, h, "KmsModel.DeletePermissionsBoundary", body(map[string]any{"PrincipalArn": role}))
	listKeys(http.StatusOK, "")

	postOK(t, h, "KmsModel.PutSessionPolicy", body(map[string]any{"SessionArn": session, "PolicyDocument": onlyEncrypt}))
	listKeys(http.StatusBadRequest, "because no session policy allows the kms:ListKeys action")
	postOK(t, h, "KmsModel.GetSessionPolicy", body(map[string]any{"SessionArn": session}))
	postOK(t, h, "KmsModel.DeleteSessionPolicy", body(map[string]any{"SessionArn": session}))
	listKeys(http.StatusOK, "")

	for _, r := range []struct{ target, body, code string }{
		{"KmsModel.PutSessionPolicy", body(map[string]any{"SessionArn": role, "PolicyDocument": onlyEncrypt}), "ValidationException"},
		{"KmsModel.GetSessionPolicy", body(map[string]any{"SessionArn": session}), "NotFoundException"},
		{"KmsModel.PutPermissionsBoundary", body(map[string]any{"PrincipalArn": role, "PolicyDocument": "{"}), "MalformedPolicyDocumentException"},
	} {
		refused(t, h, r.target, r.body, r.code)
	}
}

// The AWS Organizations targets (decisions D62, D63): a service control
// policy and a resource control policy set while the server runs decide
// the next call once the account is placed, and each reads back and goes
// away.
func TestOrganizationTargets(t *testing.T) {
	orgs := kms.NewOrganizations()
	svc := kms.New(kms.WithOrganizations(orgs))
	h, err := kmshttp.New(svc, kmshttp.WithOrganizations(orgs))
	if err != nil {
		t.Fatal(err)
	}
	body := func(m map[string]any) string { return string(mustJSON(t, m)) }
	listKeys := func(want int, because string) {
		t.Helper()
		status, _, b := post(t, h, "TrentService.ListKeys", `{}`)
		if status != want || !strings.Contains(string(b), because) {
			t.Fatalf("ListKeys: %d %s, want %d %q", status, b, want, because)
		}
	}
	onlyEncrypt := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}`
	postOK(t, h, "KmsModel.PutServiceControlPolicy", body(map[string]any{"Target": "ou-ab12-cd34ef56", "PolicyName": "encrypt only", "PolicyDocument": onlyEncrypt}))
	listKeys(http.StatusOK, "")
	postOK(t, h, "KmsModel.PlaceAccount", body(map[string]any{"AccountId": "111122223333", "OrgPath": "o-a1b2c3d4e5/r-ab12/ou-ab12-cd34ef56/"}))
	listKeys(http.StatusBadRequest, "because no service control policy allows the kms:ListKeys action")
	if got := postOK(t, h, "KmsModel.GetServiceControlPolicy", body(map[string]any{"Target": "ou-ab12-cd34ef56", "PolicyName": "encrypt only"})); !strings.Contains(got["PolicyDocument"].(string), "kms:Encrypt") {
		t.Fatalf("GetServiceControlPolicy: %v", got)
	}
	postOK(t, h, "KmsModel.SetManagementAccount", body(map[string]any{"AccountId": "111122223333"}))
	listKeys(http.StatusOK, "")

	out, err := svc.CreateKey(context.Background(), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	rcp := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:DescribeKey","Resource":"*"}]}`
	postOK(t, h, "KmsModel.PutResourceControlPolicy", body(map[string]any{"Target": "444455556666", "PolicyName": "no-describe", "PolicyDocument": rcp}))
	postOK(t, h, "KmsModel.GetResourceControlPolicy", body(map[string]any{"Target": "444455556666", "PolicyName": "no-describe"}))
	postOK(t, h, "KmsModel.PutResourceControlPolicy", body(map[string]any{"Target": "111122223333", "PolicyName": "no-describe", "PolicyDocument": rcp}))
	describe := `{"KeyId":"` + out.KeyMetadata.KeyId + `"}`
	if status, _, b := post(t, h, "TrentService.DescribeKey", describe); status != http.StatusOK {
		t.Fatalf("DescribeKey of the management account's key: %d %s", status, b)
	}
	// A server whose account is not the management account.
	kmsOrgs := kms.NewOrganizations()
	svc2 := kms.New(kms.WithOrganizations(kmsOrgs))
	h2, err := kmshttp.New(svc2, kmshttp.WithOrganizations(kmsOrgs))
	if err != nil {
		t.Fatal(err)
	}
	out, err = svc2.CreateKey(context.Background(), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	postOK(t, h2, "KmsModel.PutResourceControlPolicy", body(map[string]any{"Target": "111122223333", "PolicyName": "no-describe", "PolicyDocument": rcp}))
	status, _, b := post(t, h2, "TrentService.DescribeKey", `{"KeyId":"`+out.KeyMetadata.KeyId+`"}`)
	if status != http.StatusBadRequest || !strings.Contains(string(b), "with an explicit deny in a resource control policy") {
		t.Fatalf("DescribeKey under the RCP: %d %s", status, b)
	}
	postOK(t, h2, "KmsModel.DeleteResourceControlPolicy", body(map[string]any{"Target": "111122223333", "PolicyName": "no-describe"}))
	if status, _, b := post(t, h2, "TrentService.DescribeKey", `{"KeyId":"`+out.KeyMetadata.KeyId+`"}`); status != http.StatusOK {
		t.Fatalf("DescribeKey after the RCP's deletion: %d %s", status, b)
	}

	for _, r := range []struct{ target, body, code string }{
		{"KmsModel.PutServiceControlPolicy", body(map[string]any{"Target": "ou-x", "PolicyName": "p", "PolicyDocument": onlyEncrypt}), "ValidationException"},
		{"KmsModel.PutResourceControlPolicy", body(map[string]any{"Target": "r-ab12", "PolicyName": "p", "PolicyDocument": onlyEncrypt}), "MalformedPolicyDocumentException"},
		{"KmsModel.PlaceAccount", body(map[string]any{"AccountId": "111122223333", "OrgPath": "r-ab12/"}), "ValidationException"},
		{"KmsModel.DeleteServiceControlPolicy", body(map[string]any{"Target": "r-ab12", "PolicyName": "none"}), "NotFoundException"},
	} {
		refused(t, h, r.target, r.body, r.code)
	}
	plain, err := kmshttp.New(kms.New())
	if err != nil {
		t.Fatal(err)
	}
	status, _, b = post(t, plain, "KmsModel.PlaceAccount", body(map[string]any{"AccountId": "111122223333", "OrgPath": ""}))
	if status != http.StatusBadRequest || !strings.Contains(string(b), "--organizations") {
		t.Fatalf("without organizations: %d %s", status, b)
	}
}

// Where a request comes from (decision D64): its connection's address is
// aws:SourceIp unless X-Kmsmodel-Source-Ip says otherwise, and
// X-Kmsmodel-Vpc-Endpoint makes it come through one of the server's VPC
// endpoints, whose policy the KmsModel targets change.
func TestNetworkHeaders(t *testing.T) {
	svc := kms.New()
	ep, err := kms.NewVPCEndpoint("vpce-0123456789abcdef0", "vpc-0abc1234")
	if err != nil {
		t.Fatal(err)
	}
	h, err := kmshttp.New(svc, kmshttp.WithVPCEndpoints(ep))
	if err != nil {
		t.Fatal(err)
	}
	out, err := svc.CreateKey(context.Background(), &kms.CreateKeyInput{Policy: `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}},
	 {"Effect":"Deny","Principal":"*","Action":"kms:GenerateDataKey","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-0123456789abcdef0"}}}]}`})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	encrypt := `{"KeyId":"` + id + `","Plaintext":"eA=="}`
	// httptest's requests come from 192.0.2.1.
	if status, _, b := post(t, h, "TrentService.Encrypt", encrypt); status != http.StatusOK {
		t.Fatalf("from the connection's address: %d %s", status, b)
	}
	if status, _, _ := post(t, h, "TrentService.Encrypt", encrypt, "X-Kmsmodel-Source-Ip", "198.51.100.7"); status != http.StatusBadRequest {
		t.Fatalf("from 198.51.100.7: %d", status)
	}
	generate := `{"KeyId":"` + id + `","NumberOfBytes":32}`
	if status, _, _ := post(t, h, "TrentService.GenerateDataKey", generate); status != http.StatusBadRequest {
		t.Fatalf("GenerateDataKey not through the endpoint: %d", status)
	}
	if status, _, b := post(t, h, "TrentService.GenerateDataKey", generate, "X-Kmsmodel-Vpc-Endpoint", "vpce-0123456789abcdef0"); status != http.StatusOK {
		t.Fatalf("GenerateDataKey through the endpoint: %d %s", status, b)
	}
	postOK(t, h, "KmsModel.SetVPCEndpointPolicy", `{"VpcEndpointId":"vpce-0123456789abcdef0","PolicyDocument":`+
		string(mustJSON(t, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*"}]}`))+`}`)
	status, _, b := post(t, h, "TrentService.GenerateDataKey", generate, "X-Kmsmodel-Vpc-Endpoint", "vpce-0123456789abcdef0")
	if status != http.StatusBadRequest || !strings.Contains(string(b), "because no VPC endpoint policy allows the kms:GenerateDataKey action") {
		t.Fatalf("GenerateDataKey under the new endpoint policy: %d %s", status, b)
	}
	got := postOK(t, h, "KmsModel.GetVPCEndpointPolicy", `{"VpcEndpointId":"vpce-0123456789abcdef0"}`)
	if text, _ := got["PolicyDocument"].(string); !strings.Contains(text, "kms:Encrypt") {
		t.Fatalf("GetVPCEndpointPolicy: %v", got)
	}
	postOK(t, h, "KmsModel.SetVPCEndpointPolicy", `{"VpcEndpointId":"vpce-0123456789abcdef0"}`)
	if status, _, b := post(t, h, "TrentService.GenerateDataKey", generate, "X-Kmsmodel-Vpc-Endpoint", "vpce-0123456789abcdef0"); status != http.StatusOK {
		t.Fatalf("back to the default endpoint policy: %d %s", status, b)
	}
	for _, c := range []struct{ header, value string }{
		{"X-Kmsmodel-Source-Ip", "not an address"},
		{"X-Kmsmodel-Vpc-Endpoint", "vpce-00000000"},
	} {
		status, _, b := post(t, h, "TrentService.Encrypt", encrypt, c.header, c.value)
		if status != http.StatusBadRequest || !strings.Contains(string(b), "ValidationException") {
			t.Errorf("%s: %s: %d %s", c.header, c.value, status, b)
		}
	}
	// X-Kmsmodel-Called-Via: a chain of services (D64).
	out, err = svc.CreateKey(context.Background(), &kms.CreateKeyInput{Policy: `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:CalledViaLast":"athena.amazonaws.com"}}}]}`})
	if err != nil {
		t.Fatal(err)
	}
	encrypt = `{"KeyId":"` + out.KeyMetadata.KeyId + `","Plaintext":"eA=="}`
	if status, _, b := post(t, h, "TrentService.Encrypt", encrypt, "X-Kmsmodel-Called-Via", "cloudformation.amazonaws.com, athena.amazonaws.com"); status != http.StatusOK {
		t.Fatalf("called via CloudFormation and Athena: %d %s", status, b)
	}
	if status, _, _ := post(t, h, "TrentService.Encrypt", encrypt, "X-Kmsmodel-Called-Via", "athena.amazonaws.com, cloudformation.amazonaws.com"); status != http.StatusBadRequest {
		t.Fatalf("called via Athena, then CloudFormation: %d", status)
	}
	// X-Kmsmodel-Principal-Tags: the caller's tags (D65).
	out, err = svc.CreateKey(context.Background(), &kms.CreateKeyInput{Policy: `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"blue"}}}]}`})
	if err != nil {
		t.Fatal(err)
	}
	encrypt = `{"KeyId":"` + out.KeyMetadata.KeyId + `","Plaintext":"eA=="}`
	if status, _, b := post(t, h, "TrentService.Encrypt", encrypt, "X-Kmsmodel-Principal-Tags", "env=prod, team=blue"); status != http.StatusOK {
		t.Fatalf("a blue caller: %d %s", status, b)
	}
	if status, _, _ := post(t, h, "TrentService.Encrypt", encrypt, "X-Kmsmodel-Principal-Tags", "team=red"); status != http.StatusBadRequest {
		t.Fatalf("a red caller: %d", status)
	}
	if status, _, b := post(t, h, "TrentService.Encrypt", encrypt, "X-Kmsmodel-Principal-Tags", "team"); status != http.StatusBadRequest || !strings.Contains(string(b), "ValidationException") {
		t.Fatalf("a tag without a value: %d %s", status, b)
	}
	refused(t, h, "KmsModel.SetVPCEndpointPolicy", `{"VpcEndpointId":"vpce-00000000"}`, "NotFoundException")
	refused(t, h, "KmsModel.SetVPCEndpointPolicy", `{"VpcEndpointId":"vpce-0123456789abcdef0","PolicyDocument":"{"}`, "MalformedPolicyDocumentException")
}

// refused checks that h answers target with body by the exception code,
// HTTP 400.
func refused(t *testing.T, h http.Handler, target, body, code string) {
	t.Helper()
	status, _, b := post(t, h, target, body)
	var e struct {
		Type string `json:"__type"`
	}
	json.Unmarshal(b, &e)
	if status != http.StatusBadRequest || e.Type != code {
		t.Errorf("%s %s: %d %s, want %s", target, body, status, b, code)
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

// kmsmodel's headers make a request one an AWS service makes: through a
// service for its caller (X-Kmsmodel-Via-Service, D60), or by a service
// principal for a resource (X-Kmsmodel-Service-Principal with
// X-Kmsmodel-Source-Arn and X-Kmsmodel-Source-Account, D61).
func TestServiceHeaders(t *testing.T) {
	svc := kms.New()
	h, err := kmshttp.New(svc)
	if err != nil {
		t.Fatal(err)
	}
	const (
		logs  = "logs.us-east-1.amazonaws.com"
		group = "arn:aws:logs:us-east-1:111122223333:log-group:app"
	)
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}},
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:PutKeyPolicy","Resource":"*"},
	 {"Effect":"Allow","Principal":{"Service":"` + logs + `"},"Action":"kms:Encrypt","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"` + group + `"}}}]}`
	out, err := svc.CreateKey(context.Background(), &kms.CreateKeyInput{Policy: doc})
	if err != nil {
		t.Fatal(err)
	}
	encrypt := `{"KeyId":"` + out.KeyMetadata.KeyId + `","Plaintext":"eA=="}`
	cases := []struct {
		name   string
		header []string
		status int
	}{
		{"direct", nil, http.StatusBadRequest},
		{"via S3", []string{"X-Kmsmodel-Via-Service", "s3.us-east-1.amazonaws.com"}, http.StatusOK},
		{"via SNS", []string{"X-Kmsmodel-Via-Service", "sns.us-east-1.amazonaws.com"}, http.StatusBadRequest},
		{"logs for its group", []string{"X-Kmsmodel-Service-Principal", logs, "X-Kmsmodel-Source-Arn", group, "X-Kmsmodel-Source-Account", "111122223333"}, http.StatusOK},
		{"logs for another group", []string{"X-Kmsmodel-Service-Principal", logs, "X-Kmsmodel-Source-Arn", group + "2", "X-Kmsmodel-Source-Account", "111122223333"}, http.StatusBadRequest},
		{"logs without a source", []string{"X-Kmsmodel-Service-Principal", logs}, http.StatusBadRequest},
	}
	for _, c := range cases {
		status, _, b := post(t, h, "TrentService.Encrypt", encrypt, c.header...)
		if status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, status, b, c.status)
		}
	}
	_, _, b := post(t, h, "TrentService.Encrypt", encrypt, "X-Kmsmodel-Service-Principal", logs)
	if !strings.Contains(string(b), "ValidationException") {
		t.Errorf("a service principal without a source ARN: %s", b)
	}
}

// KmsModel.CreatePrincipal and KmsModel.DeletePrincipal (D66): once a
// principal is created, a key policy naming one that was not is refused.
func TestPrincipalTargets(t *testing.T) {
	iam := kms.NewIdentityPolicies()
	svc := kms.New(kms.WithIdentityPolicies(iam))
	h, err := kmshttp.New(svc, kmshttp.WithIdentityPolicies(iam))
	if err != nil {
		t.Fatal(err)
	}
	policy := func(role string) string {
		return string(mustJSON(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},`+
			`{"Effect":"Allow","Principal":{"AWS":"`+role+`"},"Action":"kms:Encrypt","Resource":"*"}]}`))
	}
	postOK(t, h, "KmsModel.CreatePrincipal", `{"PrincipalArn":"arn:aws:iam::111122223333:role/app"}`)
	postOK(t, h, "TrentService.CreateKey", `{"Policy":`+policy("arn:aws:iam::111122223333:role/app")+`}`)
	refused(t, h, "TrentService.CreateKey", `{"Policy":`+policy("arn:aws:iam::111122223333:role/ghost")+`}`, "MalformedPolicyDocumentException")
	postOK(t, h, "KmsModel.DeletePrincipal", `{"PrincipalArn":"arn:aws:iam::111122223333:role/app"}`)
	refused(t, h, "TrentService.CreateKey", `{"Policy":`+policy("arn:aws:iam::111122223333:role/app")+`}`, "MalformedPolicyDocumentException")
	refused(t, h, "KmsModel.DeletePrincipal", `{"PrincipalArn":"arn:aws:iam::111122223333:role/app"}`, "NotFoundException")
}

// KmsModel.GetUserId and CreatePrincipal's answer (D77): the aws:userid
// of a caller, which a key policy can name; a role created again has a
// new ID, and a policy naming the old one no longer lets its sessions in.
// GetUserId is served without identity-based policies too.
func TestUserIDTargets(t *testing.T) {
	const role, session = "arn:aws:iam::111122223333:role/app", "arn:aws:sts::111122223333:assumed-role/app/ci"
	bare, err := kmshttp.New(kms.New())
	if err != nil {
		t.Fatal(err)
	}
	first := postOK(t, bare, "KmsModel.GetUserId", `{"PrincipalArn":"`+session+`"}`)["UserId"].(string)
	h := iamHandler(t, "AKIDCI", session)
	roleID := postOK(t, h, "KmsModel.CreatePrincipal", `{"PrincipalArn":"`+role+`"}`)["UserId"].(string)
	if first != roleID+":ci" || !strings.HasPrefix(roleID, "AROA") {
		t.Fatalf("GetUserId without IAM %q, CreatePrincipal's UserId %q: want the role ID, then :ci", first, roleID)
	}
	if got := postOK(t, h, "KmsModel.GetUserId", `{"PrincipalArn":"111122223333"}`)["UserId"]; got != "111122223333" {
		t.Fatalf("GetUserId of an account: %v", got)
	}
	refused(t, h, "KmsModel.GetUserId", `{"PrincipalArn":"arn:aws:iam::111122223333:group/dev"}`, "ValidationException")
	postOK(t, h, "KmsModel.PutIdentityPolicy", `{"PrincipalArn":"`+role+`","PolicyName":"use","PolicyDocument":`+
		string(mustJSON(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}`))+`}`)
	doc := string(mustJSON(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},`+
		`{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"StringNotLike":{"aws:userid":["`+roleID+`:*"]}}}]}`))
	keyID := postOK(t, h, "TrentService.CreateKey", `{"Policy":`+doc+`}`)["KeyMetadata"].(map[string]any)["KeyId"].(string)
	encrypt := `{"KeyId":"` + keyID + `","Plaintext":"eA=="}`
	asSession := func() (int, []byte) {
		status, _, b := post(t, h, "TrentService.Encrypt", encrypt, "Authorization", sigV4("AKIDCI", region, "kms"))
		return status, b
	}
	if status, b := asSession(); status != http.StatusOK {
		t.Fatalf("the session, named by its role ID: status %d: %s", status, b)
	}
	postOK(t, h, "KmsModel.DeletePrincipal", `{"PrincipalArn":"`+role+`"}`)
	again := postOK(t, h, "KmsModel.CreatePrincipal", `{"PrincipalArn":"`+role+`"}`)["UserId"].(string)
	if again == roleID {
		t.Fatalf("the role created again kept its ID %q", roleID)
	}
	if status, b := asSession(); status != http.StatusBadRequest || !strings.Contains(string(b), "AccessDeniedException") {
		t.Fatalf("a session of the role created again: status %d: %s; want AccessDeniedException", status, b)
	}
}

// TestServerSourceIP: behind a Server, a request's aws:SourceIp is its
// connection's address, given once per connection (D64), unless
// X-Kmsmodel-Source-Ip says otherwise or a handler in front of the
// Handler rewrote the request's RemoteAddr (with a port or without; to no
// address, the key is absent).
func TestServerSourceIP(t *testing.T) {
	svc := kms.New()
	h, err := kmshttp.New(svc)
	if err != nil {
		t.Fatal(err)
	}
	key := func(deny string) string {
		out, err := svc.CreateKey(context.Background(), &kms.CreateKeyInput{Policy: `{"Version":"2012-10-17","Statement":[
		 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
		 {"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"` + deny + `"}}}]}`})
		if err != nil {
			t.Fatal(err)
		}
		return `{"KeyId":"` + out.KeyMetadata.KeyId + `","Plaintext":"eA=="}`
	}
	fromLoopback, fromElsewhere := key("127.0.0.0/8"), key("198.51.100.0/24")
	var rewrite atomic.Value // the RemoteAddr a front handler writes, if any
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := rewrite.Load().(string); ok {
			r.RemoteAddr = a
		}
		h.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := kmshttp.NewServer(front, kmshttp.Limits{}, nil)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	send := func(body string, header ...string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("Authorization", sigV4(accessKey, region, "kms"))
		req.Header.Set("X-Amz-Target", "TrentService.Encrypt")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for range 2 { // the second time on the kept-alive connection
		if got := send(fromLoopback); got != http.StatusBadRequest {
			t.Fatalf("denied from 127.0.0.0/8, sent from 127.0.0.1: %d", got)
		}
		if got := send(fromElsewhere); got != http.StatusOK {
			t.Fatalf("denied from 198.51.100.0/24, sent from 127.0.0.1: %d", got)
		}
	}
	if got := send(fromLoopback, "X-Kmsmodel-Source-Ip", "203.0.113.5"); got != http.StatusOK {
		t.Fatalf("denied from 127.0.0.0/8, from 203.0.113.5 by the header: %d", got)
	}
	rewrite.Store("198.51.100.9:4444")
	if got := send(fromElsewhere); got != http.StatusBadRequest {
		t.Fatalf("denied from 198.51.100.0/24, RemoteAddr rewritten to 198.51.100.9: %d", got)
	}
	if got := send(fromLoopback); got != http.StatusOK {
		t.Fatalf("denied from 127.0.0.0/8, RemoteAddr rewritten to 198.51.100.9: %d", got)
	}
	// Proxy middleware (chi's RealIP, gorilla's ProxyHeaders) writes the
	// client's address without a port.
	rewrite.Store("198.51.100.10")
	if got := send(fromElsewhere); got != http.StatusBadRequest {
		t.Fatalf("denied from 198.51.100.0/24, RemoteAddr rewritten to 198.51.100.10 (no port): %d", got)
	}
	if got := send(fromLoopback); got != http.StatusOK {
		t.Fatalf("denied from 127.0.0.0/8, RemoteAddr rewritten to 198.51.100.10 (no port): %d", got)
	}
	// Rewritten to no address at all: aws:SourceIp is absent, not the
	// connection's.
	rewrite.Store("unix-socket")
	if got := send(fromLoopback); got != http.StatusOK {
		t.Fatalf("denied from 127.0.0.0/8, RemoteAddr rewritten to no address: %d", got)
	}
}
