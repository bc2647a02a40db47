package kmshttp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
)

const target = "TrentService."

func createKey(t *testing.T, h http.Handler, body string) (id, arn string) {
	t.Helper()
	m := postOK(t, h, target+"CreateKey", body)
	md := m["KeyMetadata"].(map[string]any)
	return md["KeyId"].(string), md["Arn"].(string)
}

// TestDescribeKeyShape: DescribeKey of a default symmetric key carries
// exactly the members recorded against real AWS (real-aws-recordings.md row
// 8a), and timestamps are epoch seconds with a fraction (e.1).
func TestDescribeKeyShape(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(epoch.Add(1500 * time.Millisecond))
	id, _ := createKey(t, f.handler, `{"Description":"d"}`)
	_, _, raw := post(t, f.handler, target+"DescribeKey", `{"KeyId":"`+id+`"}`)
	var m map[string]map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range m["KeyMetadata"] {
		got = append(got, k)
	}
	slices.Sort(got)
	want := []string{"AWSAccountId", "Arn", "CreationDate", "CurrentKeyMaterialId", "CustomerMasterKeySpec",
		"Description", "Enabled", "EncryptionAlgorithms", "KeyId", "KeyManager", "KeySpec", "KeyState",
		"KeyUsage", "MultiRegion", "Origin"}
	if !slices.Equal(got, want) {
		t.Errorf("KeyMetadata members = %v\nwant %v", got, want)
	}
	if !bytes.Contains(raw, []byte(`"CreationDate":1704067201.500`)) || !bytes.Contains(raw, []byte(`"MultiRegion":false`)) {
		t.Errorf("raw body %s: want CreationDate 1704067201.500 and MultiRegion false", raw)
	}
	// An empty description is sent as "" (recordings row 8a/8d).
	id2, _ := createKey(t, f.handler, `{}`)
	_, _, raw = post(t, f.handler, target+"DescribeKey", `{"KeyId":"`+id2+`"}`)
	if !bytes.Contains(raw, []byte(`"Description":""`)) {
		t.Errorf("raw body %s: want an empty Description", raw)
	}
}

// TestMultiRegionShape: the wire form of multi-Region keys. KeyMetadata
// carries MultiRegionConfiguration with ReplicaKeys [] for a primary
// without replicas (recording 8c); ReplicateKey answers ReplicaKeyMetadata
// (Creating, Enabled false, Description "", no CurrentKeyMaterialId:
// recording 8d), ReplicaPolicy (the policy given, in AWS's layout, or the
// default) and ReplicaTags; UpdatePrimaryRegion
// answers an empty body (e.1); ScheduleKeyDeletion of a primary with a
// replica has no DeletionDate (section b).
func TestMultiRegionShape(t *testing.T) {
	f := newFixture(t)
	m := postOK(t, f.handler, target+"CreateKey", `{"MultiRegion":true}`)
	md := m["KeyMetadata"].(map[string]any)
	id, arn := md["KeyId"].(string), md["Arn"].(string)
	_, _, raw := post(t, f.handler, target+"DescribeKey", `{"KeyId":"`+id+`"}`)
	want := `"MultiRegion":true,"MultiRegionConfiguration":{"MultiRegionKeyType":"PRIMARY","PrimaryKey":{"Arn":"` + arn +
		`","Region":"us-east-1"},"ReplicaKeys":[]},"Origin"`
	if !bytes.Contains(raw, []byte(want)) {
		t.Errorf("DescribeKey of a primary: %s\nwant it to contain %s", raw, want)
	}

	m = postOK(t, f.handler, target+"ReplicateKey", `{"KeyId":"`+id+`","ReplicaRegion":"eu-west-1","Policy":`+jsonString(rootPolicy(account))+
		`,"BypassPolicyLockoutSafetyCheck":true,"Tags":[{"TagKey":"k","TagValue":"v"}]}`)
	var top []string
	for k := range m {
		top = append(top, k)
	}
	slices.Sort(top)
	if !slices.Equal(top, []string{"ReplicaKeyMetadata", "ReplicaPolicy", "ReplicaTags"}) {
		t.Errorf("ReplicateKey members = %v", top)
	}
	if p, _ := m["ReplicaPolicy"].(string); !strings.HasPrefix(p, "{\n  \"Version\" : \"2012-10-17\",\n") || !strings.Contains(p, `"Sid" : "root"`) {
		t.Errorf("ReplicaPolicy = %q, want the policy given in AWS's layout", p)
	}
	rm := m["ReplicaKeyMetadata"].(map[string]any)
	rarn := strings.Replace(arn, ":us-east-1:", ":eu-west-1:", 1)
	if rm["KeyState"] != "Creating" || rm["Enabled"] != false || rm["Description"] != "" || rm["KeyId"] != id || rm["Arn"] != rarn {
		t.Errorf("ReplicaKeyMetadata = %v", rm)
	}
	if _, ok := rm["CurrentKeyMaterialId"]; ok {
		t.Errorf("a Creating replica has a CurrentKeyMaterialId (recording 8d): %v", rm)
	}
	mrc := rm["MultiRegionConfiguration"].(map[string]any)
	if mrc["MultiRegionKeyType"] != "REPLICA" || mrc["PrimaryKey"].(map[string]any)["Region"] != "us-east-1" {
		t.Errorf("replica MultiRegionConfiguration = %v", mrc)
	}
	if tags := m["ReplicaTags"].([]any); len(tags) != 1 || tags[0].(map[string]any)["TagKey"] != "k" || tags[0].(map[string]any)["TagValue"] != "v" {
		t.Errorf("ReplicaTags = %v", m["ReplicaTags"])
	}
	// A replica without tags: ReplicaTags left out.
	m = postOK(t, f.handler, target+"ReplicateKey", `{"KeyId":"`+arn+`","ReplicaRegion":"ap-southeast-2"}`)
	if _, ok := m["ReplicaTags"]; ok {
		t.Errorf("ReplicateKey without tags: %v", m)
	}
	if m["ReplicaPolicy"] != defaultPolicy(account) {
		t.Errorf("ReplicaPolicy without Policy = %q, want the default", m["ReplicaPolicy"])
	}
	_, _, raw = post(t, f.handler, target+"DescribeKey", `{"KeyId":"`+id+`"}`)
	want = `"ReplicaKeys":[{"Arn":"` + rarn + `","Region":"eu-west-1"},{"Arn":"` +
		strings.Replace(arn, ":us-east-1:", ":ap-southeast-2:", 1) + `","Region":"ap-southeast-2"}]`
	if !bytes.Contains(raw, []byte(want)) {
		t.Errorf("DescribeKey of a primary with replicas: %s\nwant it to contain %s", raw, want)
	}

	status, hdr, body := post(t, f.handler, target+"UpdatePrimaryRegion", `{"KeyId":"`+id+`","PrimaryRegion":"eu-west-1"}`)
	if status != 200 || len(body) != 0 || hdr.Get("Content-Length") != "0" {
		t.Errorf("UpdatePrimaryRegion: %d %q, want 200 and an empty body", status, body)
	}
	status, _, body = post(t, f.handler, target+"ScheduleKeyDeletion", `{"KeyId":"`+rarn+`"}`,
		"Authorization", sigV4(accessKey, "eu-west-1", "kms"))
	if status != 200 || bytes.Contains(body, []byte("DeletionDate")) || !bytes.Contains(body, []byte(`"KeyState":"PendingReplicaDeletion"`)) {
		t.Errorf("ScheduleKeyDeletion of a primary with replicas: %d %s", status, body)
	}
	_, _, raw = post(t, f.handler, target+"DescribeKey", `{"KeyId":"`+id+`"}`, "Authorization", sigV4(accessKey, "eu-west-1", "kms"))
	if bytes.Contains(raw, []byte("DeletionDate")) || !bytes.Contains(raw, []byte(`"PendingDeletionWindowInDays":30`)) {
		t.Errorf("DescribeKey of a primary pending replica deletion: %s", raw)
	}
}

// TestResponseHeaders: every response has the JSON 1.1 content type, a
// Content-Length and a unique request ID; an operation without output
// answers an empty body (e.1).
func TestResponseHeaders(t *testing.T) {
	f := newFixture(t)
	id, _ := createKey(t, f.handler, `{}`)
	seen := map[string]bool{}
	for _, tc := range []struct{ target, body string }{
		{"DisableKey", `{"KeyId":"` + id + `"}`},
		{"EnableKey", `{"KeyId":"` + id + `"}`},
		{"EnableKeyRotation", `{"KeyId":"` + id + `"}`},
		{"DisableKeyRotation", `{"KeyId":"` + id + `"}`},
		{"UpdateKeyDescription", `{"KeyId":"` + id + `","Description":""}`},
		{"CreateAlias", `{"AliasName":"alias/a","TargetKeyId":"` + id + `"}`},
		{"UpdateAlias", `{"AliasName":"alias/a","TargetKeyId":"` + id + `"}`},
		{"DeleteAlias", `{"AliasName":"alias/a"}`},
		{"TagResource", `{"KeyId":"` + id + `","Tags":[{"TagKey":"k","TagValue":""}]}`},
		{"UntagResource", `{"KeyId":"` + id + `","TagKeys":["k"]}`},
	} {
		status, hdr, body := post(t, f.handler, target+tc.target, tc.body)
		if status != 200 || len(body) != 0 {
			t.Errorf("%s: status %d body %q, want 200 and an empty body", tc.target, status, body)
		}
		if hdr.Get("Content-Type") != "application/x-amz-json-1.1" || hdr.Get("Content-Length") != "0" {
			t.Errorf("%s: headers %v", tc.target, hdr)
		}
		rid := hdr.Get("x-amzn-RequestId")
		if len(rid) != 36 || seen[rid] {
			t.Errorf("%s: request ID %q empty, malformed or repeated", tc.target, rid)
		}
		seen[rid] = true
	}
}

// TestErrorShape: the error body is {"__type","message"} and the
// X-Amzn-ErrorType header carries the same name (D18); an empty message is
// left out (D19, recording 3a).
func TestErrorShape(t *testing.T) {
	f := newFixture(t)
	status, hdr, body := post(t, f.handler, target+"DescribeKey", `{"KeyId":"nope"}`)
	if status != 400 || hdr.Get("X-Amzn-ErrorType") != "NotFoundException" ||
		string(body) != `{"__type":"NotFoundException","message":"Invalid keyId 'nope'"}` {
		t.Errorf("got %d %v %s", status, hdr, body)
	}
	id, _ := createKey(t, f.handler, `{"KeySpec":"RSA_2048","KeyUsage":"SIGN_VERIFY"}`)
	status, _, body = post(t, f.handler, target+"RotateKeyOnDemand", `{"KeyId":"`+id+`"}`)
	if status != 400 || string(body) != `{"__type":"UnsupportedOperationException"}` {
		t.Errorf("RotateKeyOnDemand on RSA: %d %s", status, body)
	}
}

// TestWireErrors: the adapter's own refusals, each in AWS's shape.
func TestWireErrors(t *testing.T) {
	f := newFixture(t)
	id, _ := createKey(t, f.handler, `{}`)
	cases := []struct {
		name, target, body string
		status             int
		code, msg          string
	}{
		{"unknown target (400 per D18)", "TrentService.CreateGrants", `{}`, 400, "UnknownOperationException", "Unknown operation TrentService.CreateGrants"},
		{"missing target", "", `{}`, 400, "UnknownOperationException", "Missing X-Amz-Target header"},
		{"other prefix", "DynamoDB_20120810.ListTables", `{}`, 400, "UnknownOperationException", ""},
		{"syntax error", target + "DescribeKey", `{"KeyId":}`, 400, "SerializationException", ""},
		{"not an object", target + "DescribeKey", `["KeyId"]`, 400, "SerializationException", ""},
		{"trailing data", target + "DescribeKey", `{"KeyId":"x"} {}`, 400, "SerializationException", ""},
		{"truncated", target + "DescribeKey", `{"KeyId":"x"`, 400, "SerializationException", ""},
		{"wrong type string", target + "DescribeKey", `{"KeyId":12}`, 400, "SerializationException",
			"Cannot deserialize member KeyId: expected a string, found a number"},
		{"wrong type int", target + "ListKeys", `{"Limit":"10"}`, 400, "SerializationException",
			"Cannot deserialize member Limit: expected an integer, found a string"},
		{"fractional int", target + "ListKeys", `{"Limit":1.5}`, 400, "SerializationException", ""},
		{"int32 overflow", target + "ListKeys", `{"Limit":2147483648}`, 400, "SerializationException", ""},
		{"wrong type bool", target + "CreateKey", `{"MultiRegion":"true"}`, 400, "SerializationException", ""},
		{"wrong type list", target + "UntagResource", `{"KeyId":"` + id + `","TagKeys":"k"}`, 400, "SerializationException", ""},
		{"wrong type ignored member", target + "CreateKey", `{"Policy":{}}`, 400, "SerializationException", ""},
		{"invalid UTF-8", target + "DescribeKey", "{\"KeyId\":\"\xff\"}", 400, "SerializationException", ""},
		{"required absent", target + "DescribeKey", `{}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"},
		{"required null", target + "CreateAlias", `{"AliasName":"alias/x","TargetKeyId":null}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'targetKeyId' failed to satisfy constraint: Member must not be null"},
		{"names are case-sensitive", target + "DescribeKey", `{"keyid":"` + id + `"}`, 400, "ValidationException", ""},
		{"tag without value", target + "TagResource", `{"KeyId":"` + id + `","Tags":[{"TagKey":"k"}]}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'tags.1.member.tagValue' failed to satisfy constraint: Member must not be null"},
		{"null list member", target + "UntagResource", `{"KeyId":"` + id + `","TagKeys":["a",null]}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'tagKeys.2.member' failed to satisfy constraint: Member must not be null"},
		{"description required", target + "UpdateKeyDescription", `{"KeyId":"` + id + `"}`, 400, "ValidationException", ""},
		{"present zero is not absent", target + "ScheduleKeyDeletion", `{"KeyId":"` + id + `","PendingWindowInDays":0}`, 400, "ValidationException",
			"1 validation error detected: Value '0' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value greater than or equal to 7"},
		{"bad base64 blob", target + "Encrypt", `{"KeyId":"` + id + `","Plaintext":"!!!"}`, 400, "SerializationException",
			"Cannot deserialize member Plaintext: not valid base64"},
		{"map that is a list", target + "Encrypt", `{"KeyId":"` + id + `","Plaintext":"eA==","EncryptionContext":["a"]}`, 400, "SerializationException", ""},
		{"map with a number", target + "Encrypt", `{"KeyId":"` + id + `","Plaintext":"eA==","EncryptionContext":{"a":1}}`, 400, "SerializationException", ""},
		{"map with a null value", target + "Encrypt", `{"KeyId":"` + id + `","Plaintext":"eA==","EncryptionContext":{"a":null}}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'encryptionContext.a' failed to satisfy constraint: Member must not be null"},
		{"plaintext required", target + "Encrypt", `{"KeyId":"` + id + `"}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'plaintext' failed to satisfy constraint: Member must not be null"},
		{"Recipient with a malformed document (D80)", target + "Decrypt", `{"CiphertextBlob":"eA==","Recipient":{"KeyEncryptionAlgorithm":"RSAES_OAEP_SHA_256","AttestationDocument":"eA=="}}`, 400,
			"ValidationException", "The attestation document in the Recipient parameter is not valid: it is malformed."},
		{"Recipient's algorithm (D80)", target + "Decrypt", `{"CiphertextBlob":"eA==","Recipient":{"KeyEncryptionAlgorithm":"RSAES_OAEP_SHA_1","AttestationDocument":"eA=="}}`, 400,
			"ValidationException", "1 validation error detected: Value 'RSAES_OAEP_SHA_1' at 'recipient.keyEncryptionAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [RSAES_OAEP_SHA_256]"},
		{"Recipient without a document (D80)", target + "GenerateRandom", `{"NumberOfBytes":8,"Recipient":{}}`, 400,
			"ValidationException", "1 validation error detected: Value null at 'recipient.attestationDocument' failed to satisfy constraint: Member must not be null"},
		{"DryRun (D27)", target + "GenerateDataKey", `{"KeyId":"` + id + `","KeySpec":"AES_256","DryRun":true}`, 400,
			"DryRunOperationException", "The request would have succeeded, but the DryRun option is set."},
		{"garbage grant token (D28)", target + "GenerateDataKey", `{"KeyId":"` + id + `","KeySpec":"AES_256","GrantTokens":["t"]}`, 400,
			"InvalidGrantTokenException", "The grant token is not valid."},
		{"null grant token", target + "Encrypt", `{"KeyId":"` + id + `","Plaintext":"eA==","GrantTokens":[null]}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'grantTokens.1.member' failed to satisfy constraint: Member must not be null"},
		{"grant tokens that are not a list", target + "DescribeKey", `{"KeyId":"` + id + `","GrantTokens":"t"}`, 400, "SerializationException", ""},
		{"custom key store for random bytes (D56)", target + "GenerateRandom", `{"NumberOfBytes":8,"CustomKeyStoreId":"cks-1"}`, 400,
			"CustomKeyStoreNotFoundException", "Custom key store 'cks-1' does not exist in account 111122223333."},
		{"replica Region required", target + "ReplicateKey", `{"KeyId":"` + id + `"}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'replicaRegion' failed to satisfy constraint: Member must not be null"},
		{"wrong type ReplicateKey Policy", target + "ReplicateKey", `{"KeyId":"` + id + `","ReplicaRegion":"us-west-2","Policy":{}}`, 400, "SerializationException", ""},
		{"wrong type ReplicateKey bypass", target + "ReplicateKey", `{"KeyId":"` + id + `","ReplicaRegion":"us-west-2","BypassPolicyLockoutSafetyCheck":"yes"}`, 400, "SerializationException", ""},
		{"primary Region required", target + "UpdatePrimaryRegion", `{"KeyId":"` + id + `","PrimaryRegion":null}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'primaryRegion' failed to satisfy constraint: Member must not be null"},
		{"both key spec names", target + "CreateKey", `{"KeySpec":"HMAC_256","CustomerMasterKeySpec":"SYMMETRIC_DEFAULT"}`, 400, "ValidationException", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := post(t, f.handler, tc.target, tc.body)
			var e struct {
				Type    string `json:"__type"`
				Message *string
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body is not JSON: %v: %q", err, body)
			}
			if status != tc.status || e.Type != tc.code || hdr.Get("X-Amzn-ErrorType") != tc.code {
				t.Errorf("got %d %s (header %q), want %d %s; body %s", status, e.Type, hdr.Get("X-Amzn-ErrorType"), tc.status, tc.code, body)
			}
			if e.Message == nil || *e.Message == "" {
				t.Errorf("no message: %s", body)
			} else if tc.msg != "" && *e.Message != tc.msg {
				t.Errorf("message = %q, want %q", *e.Message, tc.msg)
			}
		})
	}
}

// TestLenientRequests: what the adapter accepts that a strict reading would
// not, as AWS does: unknown members (any JSON), an empty body for an
// operation without required members, escapes in names and values, null as
// absent, and the deprecated CustomerMasterKeySpec.
func TestLenientRequests(t *testing.T) {
	f := newFixture(t)
	postOK(t, f.handler, target+"ListKeys", ``)
	m := postOK(t, f.handler, target+"CreateKey",
		`{"Unknown":{"a":[1,2.5e3,true,null,{"b":"\u00e9"}]},"Description":"caf\u00e9 \ud83d\ude00","Policy":null,"BypassPolicyLockoutSafetyCheck":null,"MultiRegion":null,"Tags":null,"CustomerMasterKeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}`)
	md := m["KeyMetadata"].(map[string]any)
	if md["Description"] != "café 😀" || md["KeySpec"] != "HMAC_256" {
		t.Errorf("CreateKey metadata = %v", md)
	}
	id := md["KeyId"].(string)
	m = postOK(t, f.handler, target+"DescribeKey", `{"\u004beyId":"`+id+`","GrantTokens":null}`)
	if m["KeyMetadata"].(map[string]any)["KeyId"] != id {
		t.Errorf("DescribeKey with an escaped member name: %v", m)
	}
	// Blobs are base64 both ways; DryRun false is accepted.
	sym, _ := createKey(t, f.handler, `{}`)
	m = postOK(t, f.handler, target+"Encrypt", `{"KeyId":"`+sym+`","Plaintext":"aGVsbG8=","DryRun":false,"GrantTokens":[]}`)
	blob, _ := m["CiphertextBlob"].(string)
	m = postOK(t, f.handler, target+"Decrypt", `{"CiphertextBlob":"`+blob+`","EncryptionContext":{}}`)
	if m["Plaintext"] != "aGVsbG8=" {
		t.Errorf("Decrypt = %v", m)
	}
	// Recipient is not a member of the operations without plaintext
	// output (spec aws-kms-asymmetric-hmac.md §5 for
	// GenerateDataKeyPairWithoutPlaintext): skipped as any unknown member
	// is, whatever it holds (D80).
	for _, body := range []string{`"Recipient":{"AttestationDocument":"eA=="}`, `"Recipient":5`} {
		m = postOK(t, f.handler, target+"GenerateDataKeyWithoutPlaintext", `{"KeyId":"`+sym+`","KeySpec":"AES_256",`+body+`}`)
		if m["CiphertextBlob"] == nil || m["Plaintext"] != nil || m["CiphertextForRecipient"] != nil {
			t.Errorf("GenerateDataKeyWithoutPlaintext with %s = %v", body, m)
		}
		m = postOK(t, f.handler, target+"GenerateDataKeyPairWithoutPlaintext", `{"KeyId":"`+sym+`","KeyPairSpec":"ECC_NIST_P256",`+body+`}`)
		if m["PrivateKeyCiphertextBlob"] == nil || m["CiphertextForRecipient"] != nil {
			t.Errorf("GenerateDataKeyPairWithoutPlaintext with %s = %v", body, m)
		}
	}
	// Optional int32 absent: the default applies (PendingWindowInDays 30).
	m = postOK(t, f.handler, target+"ScheduleKeyDeletion", `{"KeyId":"`+id+`","PendingWindowInDays":null}`)
	if m["PendingWindowInDays"] != 30.0 {
		t.Errorf("ScheduleKeyDeletion = %v", m)
	}
}

// TestBodyLimit: a body over the limit is RequestEntityTooLargeException
// with HTTP 413 (CommonErrors page), whether its length is declared or not.
func TestBodyLimit(t *testing.T) {
	svc := kms.New(kms.WithClock(kms.NewManualClock(epoch)))
	h, err := kmshttp.New(svc, kmshttp.WithMaxBodyBytes(64))
	if err != nil {
		t.Fatal(err)
	}
	big := `{"Description":"` + strings.Repeat("x", 100) + `"}`
	for _, chunked := range []bool{false, true} {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(big))
		req.Header.Set("X-Amz-Target", target+"CreateKey")
		if chunked {
			req.ContentLength = -1
			req.Body = io.NopCloser(strings.NewReader(big))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 413 || rec.Header().Get("X-Amzn-ErrorType") != "RequestEntityTooLargeException" ||
			!strings.Contains(rec.Body.String(), `"__type":"RequestEntityTooLargeException"`) {
			t.Errorf("chunked=%v: %d %s", chunked, rec.Code, rec.Body)
		}
	}
	if status, _, body := post(t, h, target+"CreateKey", `{"Description":"fits"}`); status != 200 {
		t.Errorf("small body: %d %s", status, body)
	}
}

// TestMethod: only POST is the AWS JSON protocol.
func TestMethod(t *testing.T) {
	f := newFixture(t)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-Amz-Target", target+"ListKeys")
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	if rec.Code != 400 || rec.Header().Get("X-Amzn-ErrorType") != "UnknownOperationException" {
		t.Errorf("GET: %d %s", rec.Code, rec.Body)
	}
}

// TestAuthorization: the caller's account comes from the SigV4 credential
// (signatures are not verified); the credential scope must name a Region
// (any of the AWS form: it is the Region of the call, see
// TestCredentialRegion) and the kms service.
func TestAuthorization(t *testing.T) {
	f := newFixture(t)
	// Each account sees only its own keys.
	postOKAs := func(akid, tgt, body string) map[string]any {
		t.Helper()
		status, _, b := post(t, f.handler, tgt, body, "Authorization", sigV4(akid, region, "kms"))
		if status != 200 {
			t.Fatalf("%s as %s: %d %s", tgt, akid, status, b)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	m := postOKAs(otherKey, target+"CreateKey", `{}`)
	if got := m["KeyMetadata"].(map[string]any)["AWSAccountId"]; got != otherAccount {
		t.Errorf("key created by %s belongs to %v, want %s", otherKey, got, otherAccount)
	}
	if keys := postOKAs(accessKey, target+"ListKeys", `{}`)["Keys"].([]any); len(keys) != 0 {
		t.Errorf("owner sees %d keys of the other account", len(keys))
	}
	// No Authorization header while access keys are mapped: refused
	// (issue 12 item 8), not run as the service's own account.
	status, hdr, b := post(t, f.handler, target+"CreateKey", `{}`, "Authorization", "")
	if status != 400 || hdr.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" ||
		string(b) != `{"__type":"MissingAuthenticationTokenException","message":"Request is missing Authentication Token"}` {
		t.Errorf("unsigned request with mapped access keys: %d %s, want 400 MissingAuthenticationTokenException", status, b)
	}
	// Without a map, an unsigned request runs as the service's own account.
	open, err := kmshttp.New(f.svc, kmshttp.WithRandom(rand.NewChaCha8([32]byte{})))
	if err != nil {
		t.Fatal(err)
	}
	status, _, b = post(t, open, target+"CreateKey", `{}`, "Authorization", "")
	if status != 200 || !bytes.Contains(b, []byte(`"AWSAccountId":"`+account+`"`)) {
		t.Errorf("unsigned request without an access-key map: %d %s, want the service's account %s", status, b, account)
	}

	cases := []struct {
		name, auth, regionSet, code string
	}{
		{"another region", sigV4(accessKey, "eu-west-1", "kms"), "", ""},
		{"three-word region", sigV4(accessKey, "us-gov-west-1", "kms"), "", ""},
		{"not a region name", sigV4(accessKey, "mars", "kms"), "", "InvalidSignatureException"},
		{"region with a letter after the number", sigV4(accessKey, "us-east-1a", "kms"), "", "InvalidSignatureException"},
		{"upper-case region", sigV4(accessKey, "US-EAST-1", "kms"), "", "InvalidSignatureException"},
		{"four words before the number", sigV4(accessKey, "us-gov-east-west-1", "kms"), "", "InvalidSignatureException"},
		{"one word before the number", sigV4(accessKey, "local-1", "kms"), "", "InvalidSignatureException"},
		{"region over 32 characters", sigV4(accessKey, "abcdefghijklmno-pqrstuvwxyz-12345", "kms"), "", "InvalidSignatureException"},
		{"empty region", sigV4(accessKey, "", "kms"), "", "InvalidSignatureException"},
		{"another service", sigV4(accessKey, region, "s3"), "", "InvalidSignatureException"},
		{"unknown access key", sigV4("AKIDNOBODY", region, "kms"), "", "UnrecognizedClientException"},
		{"not SigV4", "Basic dXNlcjpwYXNz", "", "IncompleteSignatureException"},
		{"no credential", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00", "", "IncompleteSignatureException"},
		{"short scope", "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1, Signature=00", "", "IncompleteSignatureException"},
		{"SigV4a other region", "AWS4-ECDSA-P256-SHA256 Credential=" + accessKey + "/20240101/kms/aws4_request, Signature=00", "eu-west-1", "InvalidSignatureException"},
		{"SigV4a this region", "AWS4-ECDSA-P256-SHA256 Credential=" + accessKey + "/20240101/kms/aws4_request, Signature=00", "eu-west-1, us-east-1", ""},
		{"SigV4a any region", "AWS4-ECDSA-P256-SHA256 Credential=" + accessKey + "/20240101/kms/aws4_request, Signature=00", "*", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{"Authorization", tc.auth}
			if tc.regionSet != "" {
				hdr = append(hdr, "X-Amz-Region-Set", tc.regionSet)
			}
			status, h, body := post(t, f.handler, target+"ListKeys", `{}`, hdr...)
			if tc.code == "" {
				if status != 200 {
					t.Errorf("%d %s, want 200", status, body)
				}
				return
			}
			if status != 400 || h.Get("X-Amzn-ErrorType") != tc.code {
				t.Errorf("%d %s, want 400 %s", status, body, tc.code)
			}
		})
	}
}

// TestCredentialRegion: the Region of the credential scope is the Region
// of the call (kms.WithCallerRegion): a key created with a credential for
// eu-west-1 has an ARN there and is listed only there; a request without
// an Authorization header goes to the service's Region, and so does a
// SigV4a request, whose scope names no Region.
func TestCredentialRegion(t *testing.T) {
	f := newFixture(t)
	in := func(reg, tgt, body string, hdr ...string) map[string]any {
		t.Helper()
		hdr = append([]string{"Authorization", sigV4(accessKey, reg, "kms")}, hdr...)
		status, _, b := post(t, f.handler, tgt, body, hdr...)
		if status != 200 {
			t.Fatalf("%s in %s: %d %s", tgt, reg, status, b)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	md := in("eu-west-1", target+"CreateKey", `{}`)["KeyMetadata"].(map[string]any)
	id := md["KeyId"].(string)
	if want := "arn:aws:kms:eu-west-1:" + account + ":key/" + id; md["Arn"] != want {
		t.Errorf("Arn = %v, want %s", md["Arn"], want)
	}
	if keys := in("eu-west-1", target+"ListKeys", `{}`)["Keys"].([]any); len(keys) != 1 {
		t.Errorf("eu-west-1 lists %d keys, want 1", len(keys))
	}
	if keys := in(region, target+"ListKeys", `{}`)["Keys"].([]any); len(keys) != 0 {
		t.Errorf("%s lists %d keys of eu-west-1", region, len(keys))
	}
	unsigned, err := kmshttp.New(f.svc, kmshttp.WithRandom(rand.NewChaCha8([32]byte{})))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, b := post(t, unsigned, target+"ListKeys", `{}`, "Authorization", ""); !bytes.Contains(b, []byte(`"Keys":[]`)) {
		t.Errorf("an unsigned request lists keys of eu-west-1: %s", b)
	}
	status, h, _ := post(t, f.handler, target+"DescribeKey", `{"KeyId":"`+id+`"}`,
		"Authorization", "AWS4-ECDSA-P256-SHA256 Credential="+accessKey+"/20240101/kms/aws4_request, Signature=00", "X-Amz-Region-Set", "*")
	if status != 400 || h.Get("X-Amzn-ErrorType") != "NotFoundException" {
		t.Errorf("SigV4a DescribeKey of an eu-west-1 key: %d %s, want NotFoundException (the call goes to %s)", status, h.Get("X-Amzn-ErrorType"), region)
	}
	if got := f.svc.Regions(); !slices.Equal(got, []string{region, "eu-west-1"}) {
		t.Errorf("Regions() = %v", got)
	}

	// The service's own Region is accepted whatever its form.
	clock := kms.NewManualClock(epoch)
	local, err := kmshttp.New(kms.New(kms.WithClock(clock), kms.WithRegion("local"), kms.WithAccount(account)),
		kmshttp.WithRandom(rand.NewChaCha8([32]byte{})))
	if err != nil {
		t.Fatal(err)
	}
	status, _, b := post(t, local, target+"CreateKey", `{}`, "Authorization", sigV4(accessKey, "local", "kms"))
	if status != 200 || !bytes.Contains(b, []byte(`"Arn":"arn:aws:kms:local:`)) {
		t.Errorf("CreateKey signed for the service's Region local: %d %s", status, b)
	}
}

// TestSimulatedTime: KmsModel.AdvanceClock and KmsModel.Now move and read
// the manual clock and apply due events (D13: the rotation happens at its
// scheduled instant).
func TestSimulatedTime(t *testing.T) {
	f := newFixture(t)
	id, _ := createKey(t, f.handler, `{}`)
	postOK(t, f.handler, target+"EnableKeyRotation", `{"KeyId":"`+id+`","RotationPeriodInDays":90}`)

	m := postOK(t, f.handler, "KmsModel.Now", `{}`)
	if m["Now"] != 1704067200.0 || m["EventsApplied"] != 0.0 || m["NextEventTime"] != float64(epoch.AddDate(0, 0, 90).Unix()) {
		t.Errorf("Now = %v", m)
	}
	m = postOK(t, f.handler, "KmsModel.AdvanceClock", `{"Seconds":86400.5}`)
	if m["Now"] != 1704153600.5 || m["EventsApplied"] != 0.0 {
		t.Errorf("AdvanceClock Seconds = %v", m)
	}
	to := epoch.AddDate(0, 0, 200)
	m = postOK(t, f.handler, "KmsModel.AdvanceClock", `{"To":`+strconvTime(to)+`}`)
	if m["Now"] != float64(to.Unix()) || m["EventsApplied"] != 2.0 {
		t.Errorf("AdvanceClock To = %v (want two automatic rotations applied)", m)
	}
	if !f.clock.Now().Equal(to) {
		t.Errorf("clock = %v, want %v", f.clock.Now(), to)
	}
	rot := postOK(t, f.handler, target+"ListKeyRotations", `{"KeyId":"`+id+`"}`)["Rotations"].([]any)
	if len(rot) != 2 || rot[0].(map[string]any)["RotationDate"] != float64(epoch.AddDate(0, 0, 90).Unix()) {
		t.Errorf("rotations = %v", rot)
	}

	for _, body := range []string{`{}`, `{"Seconds":1,"To":1}`, `{"Seconds":-1}`, `{"To":1}`, `{"Seconds":1e300}`, `{"To":1e300}`} {
		status, h, b := post(t, f.handler, "KmsModel.AdvanceClock", body)
		if status != 400 || h.Get("X-Amzn-ErrorType") != "ValidationException" {
			t.Errorf("AdvanceClock %s: %d %s, want ValidationException", body, status, b)
		}
	}
	if status, h, _ := post(t, f.handler, "KmsModel.AdvanceClock", `{"Seconds":"1"}`); status != 400 || h.Get("X-Amzn-ErrorType") != "SerializationException" {
		t.Errorf("AdvanceClock with a string: %d %s", status, h.Get("X-Amzn-ErrorType"))
	}

	// Without a manual clock the targets do not exist.
	plain, err := kmshttp.New(kms.New(kms.WithClock(kms.NewManualClock(epoch))), kmshttp.WithRandom(rand.NewChaCha8([32]byte{})))
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range []string{"KmsModel.Now", "KmsModel.AdvanceClock"} {
		if status, h, _ := post(t, plain, tg, `{"Seconds":1}`); status != 400 || h.Get("X-Amzn-ErrorType") != "UnknownOperationException" {
			t.Errorf("%s without a manual clock: %d %s", tg, status, h.Get("X-Amzn-ErrorType"))
		}
	}
}

func strconvTime(t time.Time) string {
	b, _ := json.Marshal(float64(t.UnixMilli()) / 1000)
	return string(b)
}

// TestNewRejectsBadOptions: New validates what it is given.
func TestNewRejectsBadOptions(t *testing.T) {
	svc := kms.New()
	for _, v := range []string{"12345", "", "arn:aws:iam::111122223333:group/admins", "arn:aws:iam::1111:role/app",
		"arn:aws:iam::111122223333:role/*", "*", "arn:aws:sts::111122223333:federated-user/bob",
		"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "role/app"} {
		if _, err := kmshttp.New(svc, kmshttp.WithAccounts(map[string]string{"AKID": v})); err == nil || kmshttp.ValidCaller(v) {
			t.Errorf("WithAccounts value %q was accepted", v)
		}
	}
	for _, v := range []string{"111122223333", "arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:user/alice",
		"arn:aws:iam::111122223333:role/path/app", "arn:aws:sts::111122223333:assumed-role/app/s1"} {
		if _, err := kmshttp.New(svc, kmshttp.WithAccounts(map[string]string{"AKID": v})); err != nil || !kmshttp.ValidCaller(v) {
			t.Errorf("WithAccounts value %q: %v", v, err)
		}
	}
	if _, err := kmshttp.New(svc, kmshttp.WithMaxBodyBytes(0)); err == nil {
		t.Error("a zero body limit was accepted")
	}
	if _, err := kmshttp.New(svc, kmshttp.WithRandom(failingReader{})); err == nil {
		t.Error("a failing randomness source was accepted")
	}
}

// TestOperationsServed: every name Operations lists is served (none is
// UnknownOperationException).
func TestOperationsServed(t *testing.T) {
	f := newFixture(t)
	ops := kmshttp.Operations()
	if len(ops) != 56 {
		t.Errorf("%d operations, want the 56 of package kms (all of the AWS SDK for Go v2 KMS client v1.62.6's)", len(ops))
	}
	for _, op := range ops {
		_, h, _ := post(t, f.handler, target+op, `{}`)
		if h.Get("X-Amzn-ErrorType") == "UnknownOperationException" {
			t.Errorf("%s is not served", op)
		}
	}
}

// TestDuplicateObjectMember: a later duplicate of an object member wins,
// as for the other members, and null reads as absent: a Recipient
// followed by "Recipient":null is no Recipient (the plaintext comes back),
// and one followed by another Recipient is the later one.
func TestDuplicateObjectMember(t *testing.T) {
	f := newFixture(t)
	sym, _ := createKey(t, f.handler, `{}`)
	m := postOK(t, f.handler, target+"Encrypt", `{"KeyId":"`+sym+`","Plaintext":"aGVsbG8="}`)
	blob, _ := m["CiphertextBlob"].(string)
	m = postOK(t, f.handler, target+"Decrypt", `{"CiphertextBlob":"`+blob+`","Recipient":{"AttestationDocument":"eA=="},"Recipient":null}`)
	if m["Plaintext"] != "aGVsbG8=" {
		t.Errorf("Decrypt with a Recipient then null = %v", m)
	}
	status, _, body := post(t, f.handler, target+"Decrypt",
		`{"CiphertextBlob":"`+blob+`","Recipient":{"AttestationDocument":"eA=="},"Recipient":{"KeyEncryptionAlgorithm":"RSAES_OAEP_SHA_256"}}`)
	if status != 400 || !strings.Contains(string(body), "recipient.attestationDocument") {
		t.Errorf("the later Recipient (with no document) was not the one taken: %d %s", status, body)
	}
}

// TestGrantConstraintsMember: Constraints follows the members' rule (a
// later duplicate wins, null reads as absent), and an object with no
// constraint in it is no constraint, as before.
func TestGrantConstraintsMember(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ member, want string }{
		{`"Constraints":{}`, `<nil>`},
		{`"Constraints":null`, `<nil>`},
		{`"Constraints":{"Foo":1}`, `<nil>`},
		{`"Constraints":{"EncryptionContextEquals":null}`, `<nil>`},
		{`"Constraints":{"EncryptionContextEquals":{"a":"b"}},"Constraints":null`, `<nil>`},
		{`"Constraints":{"EncryptionContextEquals":{"a":"b"}},"Constraints":{}`, `<nil>`},
		{`"Constraints":{"EncryptionContextSubset":{"x":"y"}},"Constraints":{"EncryptionContextEquals":{"a":"b"}}`,
			`map[EncryptionContextEquals:map[a:b]]`},
		{`"Constraints":null,"Constraints":{"EncryptionContextSubset":{"x":"y"}}`, `map[EncryptionContextSubset:map[x:y]]`},
	} {
		key, _ := createKey(t, f.handler, `{}`)
		postOK(t, f.handler, target+"CreateGrant", `{"KeyId":"`+key+`","GranteePrincipal":"arn:aws:iam::`+account+
			`:role/x","Operations":["Decrypt"],`+tc.member+`}`)
		grants := postOK(t, f.handler, target+"ListGrants", `{"KeyId":"`+key+`"}`)["Grants"].([]any)
		if got := fmt.Sprint(grants[0].(map[string]any)["Constraints"]); len(grants) != 1 || got != tc.want {
			t.Errorf("%s: Constraints %s, want %s", tc.member, got, tc.want)
		}
	}
}
