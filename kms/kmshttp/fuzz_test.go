package kmshttp

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kmsmodel/kmsmodel/kms"
)

// fuzzTargets are the X-Amz-Target values the fuzz target chooses from:
// every operation, the simulated-time targets and an unknown one.
func fuzzTargets() []string {
	var ts []string
	for _, op := range Operations() {
		ts = append(ts, "TrentService."+op)
	}
	return append(ts, "KmsModel.AdvanceClock", "KmsModel.Now", "KmsModel.GetPropagationStatus", "KmsModel.Propagate", "TrentService.Nope")
}

// FuzzDecodeRequest feeds arbitrary bodies to every operation through the
// whole handler, on a fresh service holding the keys of fuzzKeys (so that
// signatures, MACs and public keys reach the cryptography). It checks that nothing panics, that every response is
// either a success with an empty body or a JSON object, or an AWS-shaped
// error (a JSON object with __type equal to the X-Amzn-ErrorType header, a
// string message if any, status 400, 413 or 500), and that the decoder
// agrees with encoding/json on what is a JSON object and on the value of
// every top-level string member.
//
// The seed corpus is testdata/fuzz/FuzzDecodeRequest; run it longer with
// go test -run '^$' -fuzz FuzzDecodeRequest -fuzztime 60s ./kms/kmshttp.
func FuzzDecodeRequest(f *testing.F) {
	targets := fuzzTargets()
	for i, body := range []string{
		``, `{}`, `{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}`, `{"Limit":10,"Marker":"x"}`,
		`{"Tags":[{"TagKey":"a","TagValue":"b"}],"MultiRegion":true}`, `{"TagKeys":["a",null]}`,
		`{"Seconds":1.5}`, `{"To":1e9}`, `{"KeyId":"\ud800\u00e9\""}`, `{"a":[{"b":[1,-0.5e+3,true,false,null]}]}`,
		`{"KeyId":1}`, `[`, `{"KeyId":"x"`, "{\"KeyId\":\"\xff\"}",
		`{"KeyId":"alias/a","Plaintext":"aGVsbG8=","EncryptionContext":{"a":"b","c":null}}`,
		`{"CiphertextBlob":"!!","Recipient":{"AttestationDocument":"eA=="},"DryRun":true}`,
		`{"NumberOfBytes":1024,"KeySpec":"AES_256","EncryptionContext":{}}`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	// The asymmetric, HMAC and last-usage targets, on the keys fuzzKeys
	// makes: structured members (a P-256 SubjectPublicKeyInfo, DER-shaped
	// signatures, MACs) and base64 edge cases (unpadded, URL alphabet,
	// whitespace, empty).
	spki := fuzzPeerKey(f)
	sig := "MEUCIQD" + strings.Repeat("A", 40) + "AiA" + strings.Repeat("B", 40) + "=="
	mac := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, seed := range []struct{ op, body string }{
		{"Sign", `{"KeyId":"alias/sig","Message":"aGVsbG8=","SigningAlgorithm":"ECDSA_SHA_256","MessageType":"RAW"}`},
		{"Sign", `{"KeyId":"alias/sig","Message":"` + mac + `","SigningAlgorithm":"ECDSA_SHA_256","MessageType":"DIGEST","GrantTokens":["t"]}`},
		{"Sign", `{"KeyId":"alias/sig","Message":"aGVsbG8","SigningAlgorithm":"ECDSA_SHA_256"}`},
		{"Verify", `{"KeyId":"alias/sig","Message":"aGVsbG8=","Signature":"` + sig + `","SigningAlgorithm":"ECDSA_SHA_256"}`},
		{"Verify", `{"KeyId":"alias/sig","Message":"aGVsbG8=","Signature":"-_-_","SigningAlgorithm":"ECDSA_SHA_384","DryRun":false}`},
		{"GetPublicKey", `{"KeyId":"alias/ecdh","GrantTokens":[]}`},
		{"GenerateMac", `{"KeyId":"alias/mac","Message":"","MacAlgorithm":"HMAC_SHA_256"}`},
		{"VerifyMac", `{"KeyId":"alias/mac","Message":"aGVsbG8=","Mac":"` + mac + `","MacAlgorithm":"HMAC_SHA_256"}`},
		{"VerifyMac", `{"KeyId":"alias/mac","Message":"aGVs\nbG8=","Mac":"AAAA AAAA","MacAlgorithm":"HMAC_SHA_224"}`},
		{"DeriveSharedSecret", `{"KeyId":"alias/ecdh","KeyAgreementAlgorithm":"ECDH","PublicKey":"` + spki + `"}`},
		{"DeriveSharedSecret", `{"KeyId":"alias/ecdh","KeyAgreementAlgorithm":"ECDH","PublicKey":"` + spki[:len(spki)-8] + `"}`},
		{"DeriveSharedSecret", `{"KeyId":"alias/ecdh","KeyAgreementAlgorithm":"ECDH","PublicKey":"MAA=","Recipient":null}`},
		{"GenerateDataKeyPair", `{"KeyId":"alias/sym","KeyPairSpec":"ECC_NIST_P256","EncryptionContext":{"a":"b"}}`},
		{"GenerateDataKeyPairWithoutPlaintext", `{"KeyId":"alias/sym","KeyPairSpec":"ECC_NIST_EDWARDS25519","Recipient":{}}`},
		{"GetKeyLastUsage", `{"KeyId":"arn:aws:kms:us-east-1:111122223333:key/x"}`},
		// The key policy targets and CreateKey's Policy: a policy document
		// is a JSON string holding JSON.
		{"GetKeyPolicy", `{"KeyId":"alias/sym","PolicyName":"default"}`},
		{"PutKeyPolicy", `{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","Policy":"{\"Version\":\"2012-10-17\",\"Statement\":[]}","BypassPolicyLockoutSafetyCheck":true,"PolicyName":"default"}`},
		{"ListKeyPolicies", `{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","Limit":1000,"Marker":""}`},
		{"CreateKey", `{"Policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"kms:*\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"kms:EncryptionContext:a\":\"b\"}}}]}","BypassPolicyLockoutSafetyCheck":false}`},
		{"CreateKey", `{"Policy":"","BypassPolicyLockoutSafetyCheck":null}`},
		// The grant targets: the Constraints object (maps, SourceArn,
		// unknown members), principals, operation lists, tokens, DryRun.
		{"CreateGrant", `{"KeyId":"alias/sym","GranteePrincipal":"arn:aws:iam::111122223333:role/app","Operations":["Encrypt","Decrypt"],"Constraints":{"EncryptionContextSubset":{"a":"b"},"EncryptionContextEquals":null,"X":{}},"Name":"n:1/_-","RetiringPrincipal":"arn:aws:iam::444455556666:root","GrantTokens":["AQ"],"DryRun":true}`},
		{"CreateGrant", `{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","GranteePrincipal":"*","Operations":["CreateGrant",null],"Constraints":{"SourceArn":"arn:aws:s3:::b","EncryptionContextEquals":{"":"\u0000"}}}`},
		{"CreateGrant", `{"KeyId":"alias/sig","GranteeServicePrincipal":"logs.amazonaws.com","Operations":"Sign","Constraints":[]}`},
		{"ListGrants", `{"KeyId":"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab","Limit":1,"Marker":"eA","GrantId":"` + strings.Repeat("0", 64) + `","GranteePrincipal":"arn:aws:iam::111122223333:user/alice"}`},
		{"ListRetirableGrants", `{"RetiringPrincipal":"arn:aws:iam::111122223333:role/app","Limit":1000,"Marker":null,"RetiringServicePrincipal":null}`},
		{"RetireGrant", `{"GrantToken":"AQ` + strings.Repeat("A", 63) + `","DryRun":false}`},
		{"RetireGrant", `{"KeyId":"alias/sym","GrantId":"` + strings.Repeat("f", 64) + `","GrantToken":""}`},
		{"RevokeGrant", `{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","GrantId":"x","DryRun":true}`},
		// DryRun and GrantTokens on the operations that take them.
		{"Encrypt", `{"KeyId":"alias/sym","Plaintext":"aGVsbG8=","DryRun":true,"GrantTokens":["x","y"]}`},
		{"GenerateMac", `{"KeyId":"alias/mac","Message":"aGVsbG8=","MacAlgorithm":"HMAC_SHA_256","DryRun":true,"GrantTokens":[null]}`},
		{"DescribeKey", `{"KeyId":"alias/sig","GrantTokens":["` + strings.Repeat("t", 11) + `"]}`},
	} {
		f.Add(uint8(slices.Index(targets, "TrentService."+seed.op)), []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		target := targets[int(which)%len(targets)]
		clock := kms.NewManualClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
		svc := kms.New(kms.WithClock(clock), kms.WithRandom(rand.NewChaCha8([32]byte{1})))
		fuzzKeys(t, svc)
		h, err := New(svc, WithManualClock(clock), WithRandom(rand.NewChaCha8([32]byte{2})), WithMaxBodyBytes(4096))
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkResponse(t, rec)
		checkAgainstEncodingJSON(t, body)
	})
}

// fuzzKeys gives svc the keys the seeds name by alias: alias/sig (an
// ECC_NIST_P256 SIGN_VERIFY key), alias/ecdh (ECC_NIST_P256
// KEY_AGREEMENT), alias/mac (HMAC_256) and alias/sym (symmetric).
func fuzzKeys(t *testing.T, svc *kms.Service) {
	t.Helper()
	ctx := context.Background()
	for _, k := range []struct{ alias, spec, usage string }{
		{"alias/sig", "ECC_NIST_P256", "SIGN_VERIFY"}, {"alias/ecdh", "ECC_NIST_P256", "KEY_AGREEMENT"},
		{"alias/mac", "HMAC_256", "GENERATE_VERIFY_MAC"}, {"alias/sym", "", ""},
	} {
		out, err := svc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: k.spec, KeyUsage: k.usage})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: k.alias, TargetKeyId: out.KeyMetadata.KeyId}); err != nil {
			t.Fatal(err)
		}
	}
}

// fuzzPeerKey is a fixed P-256 public key, a SubjectPublicKeyInfo in
// base64, for DeriveSharedSecret seeds.
func fuzzPeerKey(f *testing.F) string {
	priv, err := ecdh.P256().NewPrivateKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(priv.PublicKey())
	if err != nil {
		f.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// checkResponse fails unless rec is a well-formed AWS JSON 1.1 response.
func checkResponse(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Header().Get("X-Amzn-Requestid") == "" {
		t.Fatal("no request ID")
	}
	out := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		if len(out) > 0 && !json.Valid(out) {
			t.Fatalf("success body is not JSON: %q", out)
		}
		return
	}
	switch rec.Code {
	case 400, 413, 500:
	default:
		t.Fatalf("status %d", rec.Code)
	}
	var e map[string]any
	if err := json.Unmarshal(out, &e); err != nil {
		t.Fatalf("error body is not a JSON object: %v: %q", err, out)
	}
	code, _ := e["__type"].(string)
	if code == "" || code != rec.Header().Get("X-Amzn-ErrorType") {
		t.Fatalf("__type %q, header %q", code, rec.Header().Get("X-Amzn-ErrorType"))
	}
	if m, ok := e["message"]; ok {
		if _, ok := m.(string); !ok {
			t.Fatalf("message is %T", m)
		}
	}
	for k := range e {
		if k != "__type" && k != "message" {
			t.Fatalf("unexpected member %q in an error", k)
		}
	}
}

// checkAgainstEncodingJSON compares the decoder's verdict and its string
// values with encoding/json's.
func checkAgainstEncodingJSON(t *testing.T, body []byte) {
	t.Helper()
	strs := map[string]string{}
	err := decodeObject(body, func(r *reader, name []byte) error {
		if r.peek() == '"' {
			s, err := r.rawString()
			strs[string(name)] = s
			return err
		}
		delete(strs, string(name))
		return r.skip()
	})
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	isObject := len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(body)
	empty := len(trimmed) == 0
	if err == nil {
		if !isObject && !empty {
			t.Fatalf("decoder accepted %q, which encoding/json refuses or is not an object", body)
		}
	} else {
		var we *wireError
		if !errors.As(err, &we) || we.code != "SerializationException" {
			t.Fatalf("decoder error %v is not a SerializationException", err)
		}
		if isObject && utf8.Valid(body) && !strings.Contains(we.msg, "nesting deeper") {
			t.Fatalf("decoder refused valid JSON %q: %v", body, err)
		}
		return
	}
	if empty || !utf8.Valid(body) {
		return
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // numbers beyond float64 are valid JSON
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	for k, v := range strs {
		if m[k] != v {
			t.Fatalf("member %q: decoder read %q, encoding/json %q", k, v, m[k])
		}
	}
}
