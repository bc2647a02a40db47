package kmshttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
)

// The principals of the key-policy tests: two in account, one in
// otherAccount, and a session of appRole.
const (
	appRole     = "arn:aws:iam::111122223333:role/app"
	aliceUser   = "arn:aws:iam::111122223333:user/alice"
	partnerRole = "arn:aws:iam::444455556666:role/partner"
	appSession  = "arn:aws:sts::111122223333:assumed-role/app/s1"

	akApp     = "AKIDAPP"
	akAlice   = "AKIDALICE"
	akPartner = "AKIDPARTNER"
	akSession = "AKIDSESSION"
	akRoot    = "AKIDROOT"
)

// defaultPolicy is AWS's default key policy for account, byte for byte as
// GetKeyPolicy returns it (spec §1.1).
func defaultPolicy(account string) string {
	return `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::` + account + `:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`
}

// stmt is one statement of a test policy.
type stmt struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal"`
	Action    any            `json:"Action"`
	Resource  string         `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// allow and deny are statements for principal (an ARN) and actions.
func allow(sid, principal string, actions ...string) stmt {
	return stmt{Sid: sid, Effect: "Allow", Principal: map[string]any{"AWS": principal}, Action: actions, Resource: "*"}
}

func deny(sid, principal string, actions ...string) stmt {
	return stmt{Sid: sid, Effect: "Deny", Principal: map[string]any{"AWS": principal}, Action: actions, Resource: "*"}
}

// policyOf is a key policy document of the statements, Version first.
func policyOf(sts ...stmt) string {
	b, err := json.Marshal(sts)
	if err != nil {
		panic(err)
	}
	return `{"Version":"2012-10-17","Statement":` + string(b) + `}`
}

// rootPolicy lets account's root (every principal of the account) do
// everything, as the default does, with the Sid "root".
func rootPolicy(account string) string {
	return policyOf(allow("root", "arn:aws:iam::"+account+":root", "kms:*"))
}

// jsonString is s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// newPolicyFixture is newFixture with access keys for the principals:
// akApp, akAlice, akSession and akRoot (the account form) in account,
// akPartner in otherAccount.
func newPolicyFixture(t testing.TB) *fixture {
	t.Helper()
	clock := kms.NewManualClock(epoch)
	svc := kms.New(kms.WithClock(clock), kms.WithAccount(account), kms.WithRegion(region),
		kms.WithRandom(rand.NewChaCha8([32]byte{42})))
	h, err := kmshttp.New(svc, kmshttp.WithManualClock(clock),
		kmshttp.WithRandom(rand.NewChaCha8([32]byte{43})),
		kmshttp.WithAccounts(map[string]string{akApp: appRole, akAlice: aliceUser, akPartner: partnerRole,
			akSession: appSession, akRoot: account}))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, clock: clock, handler: h}
}

// principals are SDK clients of a policy fixture, one per access key.
type principals struct {
	app, alice, partner, session, root *awskms.Client
}

func newPrincipals(hc *http.Client, endpoint string) principals {
	return principals{
		app:     sdkClient(hc, endpoint, akApp, region),
		alice:   sdkClient(hc, endpoint, akAlice, region),
		partner: sdkClient(hc, endpoint, akPartner, region),
		session: sdkClient(hc, endpoint, akSession, region),
		root:    sdkClient(hc, endpoint, akRoot, region),
	}
}

// newKey creates a symmetric key with c and returns its ARN.
func newKey(t *testing.T, c *awskms.Client, in *awskms.CreateKeyInput) string {
	t.Helper()
	if in == nil {
		in = &awskms.CreateKeyInput{}
	}
	ck, err := c.CreateKey(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return aws.ToString(ck.KeyMetadata.Arn)
}

func putPolicy(t *testing.T, c *awskms.Client, key, doc string) {
	t.Helper()
	if _, err := c.PutKeyPolicy(context.Background(), &awskms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(doc)}); err != nil {
		t.Fatalf("PutKeyPolicy: %v", err)
	}
}

func encrypt(c *awskms.Client, key string, ec map[string]string) ([]byte, error) {
	out, err := c.Encrypt(context.Background(), &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("secret"),
		EncryptionContext: ec})
	if err != nil {
		return nil, err
	}
	return out.CiphertextBlob, nil
}

func decrypt(c *awskms.Client, blob []byte, ec map[string]string) error {
	out, err := c.Decrypt(context.Background(), &awskms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec})
	if err == nil && string(out.Plaintext) != "secret" {
		err = errors.New("Decrypt returned " + string(out.Plaintext))
	}
	return err
}

// denied checks that err is AccessDeniedException, HTTP 400, worded as D26
// says for principal, action and key ARN; explicit says which variant.
func denied(t *testing.T, err error, principal, action, keyARN string, explicit bool) {
	t.Helper()
	var g *smithy.GenericAPIError
	if !errors.As(err, &g) || g.Code != "AccessDeniedException" {
		t.Fatalf("error %T %v is not a GenericAPIError AccessDeniedException", err, err)
	}
	want := "User: " + principal + " is not authorized to perform: kms:" + action + " on resource: " + keyARN
	if explicit {
		want += " with an explicit deny in a resource-based policy"
	} else {
		want += " because no resource-based policy allows the kms:" + action + " action"
	}
	if g.Message != want {
		t.Errorf("AccessDeniedException message\n got %q\nwant %q", g.Message, want)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
		t.Errorf("AccessDeniedException status: %v, want 400 (D18)", err)
	}
}

// must fails the test on err.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestSDKKeyPolicies drives key policies with the AWS SDK for Go as three
// principals, two in one account (role/app, user/alice) and one in another
// (role/partner), plus a session of role/app.
func TestSDKKeyPolicies(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newPolicyFixture(t)
			hc, endpoint := tr.client(t, f)
			p := newPrincipals(hc, endpoint)
			ctx := context.Background()

			// (a) The default policy: every principal of the key's account
			// may use the key; the other account may not.
			t.Run("default policy", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				for name, c := range map[string]*awskms.Client{"app": p.app, "alice": p.alice, "session": p.session, "root": p.root} {
					blob, err := encrypt(c, key, nil)
					must(t, name+" Encrypt", err)
					must(t, name+" Decrypt", decrypt(c, blob, nil))
					_, err = c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(key)})
					must(t, name+" DescribeKey", err)
				}
				_, err := encrypt(p.partner, key, nil)
				denied(t, err, partnerRole, "Encrypt", key, false)
				_, err = p.partner.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(key)})
				denied(t, err, partnerRole, "DescribeKey", key, false)
			})

			// (b) A policy for role/app only: alice is refused, app and
			// its sessions are allowed.
			t.Run("role only", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				putPolicy(t, p.app, key, policyOf(allow("app", appRole, "kms:*")))
				for name, c := range map[string]*awskms.Client{"app": p.app, "session": p.session} {
					blob, err := encrypt(c, key, nil)
					must(t, name+" Encrypt", err)
					must(t, name+" Decrypt", decrypt(c, blob, nil))
				}
				_, err := encrypt(p.alice, key, nil)
				denied(t, err, aliceUser, "Encrypt", key, false)
				_, err = p.alice.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(key)})
				denied(t, err, aliceUser, "GetKeyPolicy", key, false)
				_, err = encrypt(p.root, key, nil)
				denied(t, err, "arn:aws:iam::"+account+":root", "Encrypt", key, false)
				// A session is named by its session ARN (spec §6).
				_, err = p.session.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(key)})
				must(t, "session DescribeKey", err)
			})

			// (c) An explicit Deny wins over the account root's Allow.
			t.Run("explicit deny", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				putPolicy(t, p.app, key, policyOf(allow("root", "arn:aws:iam::"+account+":root", "kms:*"),
					deny("no decrypt for alice", aliceUser, "kms:Decrypt")))
				blob, err := encrypt(p.alice, key, nil)
				must(t, "alice Encrypt", err)
				denied(t, decrypt(p.alice, blob, nil), aliceUser, "Decrypt", key, true)
				must(t, "app Decrypt", decrypt(p.app, blob, nil))
			})

			// (d) An encryption-context condition.
			t.Run("encryption context condition", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				use := allow("use", appRole, "kms:Encrypt", "kms:Decrypt")
				use.Condition = map[string]any{"StringEquals": map[string]any{"kms:EncryptionContext:purpose": "test"}}
				putPolicy(t, p.app, key, policyOf(
					allow("admin", "arn:aws:iam::"+account+":root", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy"), use))
				right := map[string]string{"purpose": "test"}
				blob, err := encrypt(p.app, key, right)
				must(t, "Encrypt with purpose=test", err)
				must(t, "Decrypt with purpose=test", decrypt(p.app, blob, right))
				_, err = encrypt(p.app, key, nil)
				denied(t, err, appRole, "Encrypt", key, false)
				_, err = encrypt(p.app, key, map[string]string{"purpose": "prod"})
				denied(t, err, appRole, "Encrypt", key, false)
				denied(t, decrypt(p.app, blob, nil), appRole, "Decrypt", key, false)
				// alice has only the admin statement.
				_, err = encrypt(p.alice, key, right)
				denied(t, err, aliceUser, "Encrypt", key, false)
			})

			// (e) A policy that lets the other account in: the partner
			// uses the key by its ARN; aliases are per account.
			t.Run("cross-account", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				putPolicy(t, p.app, key, policyOf(allow("root", "arn:aws:iam::"+account+":root", "kms:*"),
					allow("partner", "arn:aws:iam::"+otherAccount+":root", "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey")))
				_, err := p.app.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/shared"), TargetKeyId: aws.String(key)})
				must(t, "CreateAlias", err)
				blob, err := encrypt(p.partner, key, nil)
				must(t, "partner Encrypt by key ARN", err)
				must(t, "partner Decrypt", decrypt(p.partner, blob, nil))
				must(t, "app Decrypt of the partner's ciphertext", decrypt(p.app, blob, nil))
				dk, err := p.partner.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(key)})
				if err != nil || aws.ToString(dk.KeyMetadata.AWSAccountId) != account {
					t.Fatalf("partner DescribeKey = %+v, %v", dk, err)
				}
				_, err = encrypt(p.partner, "alias/shared", nil)
				as[*types.NotFoundException]()(t, err)
				// kms:GenerateDataKey is not in the partner's statement.
				_, err = p.partner.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: aws.String(key), NumberOfBytes: aws.Int32(32)})
				denied(t, err, partnerRole, "GenerateDataKey", key, false)
			})

			// (f) The policy lockout safety check.
			t.Run("lockout check", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				aliceOnly := policyOf(allow("alice", aliceUser, "kms:*"))
				_, err := p.app.PutKeyPolicy(ctx, &awskms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(aliceOnly)})
				if _, msg := as[*types.MalformedPolicyDocumentException]()(t, err); msg != "The new key policy will not allow you to update the key policy in the future." {
					t.Errorf("lockout message = %q", msg)
				}
				gp, err := p.app.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(key)})
				if err != nil || aws.ToString(gp.Policy) != defaultPolicy(account) {
					t.Fatalf("policy after a refused PutKeyPolicy = %+v, %v", gp, err)
				}
				_, err = p.app.PutKeyPolicy(ctx, &awskms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(aliceOnly),
					BypassPolicyLockoutSafetyCheck: true})
				must(t, "PutKeyPolicy with BypassPolicyLockoutSafetyCheck", err)
				_, err = p.app.PutKeyPolicy(ctx, &awskms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(rootPolicy(account))})
				denied(t, err, appRole, "PutKeyPolicy", key, false)
				putPolicy(t, p.alice, key, rootPolicy(account)) // alice still may
				_, err = encrypt(p.app, key, nil)
				must(t, "app Encrypt after alice restored the policy", err)

				// CreateKey's Policy: the same check, and the bypass.
				_, err = p.app.CreateKey(ctx, &awskms.CreateKeyInput{Policy: aws.String(aliceOnly)})
				if _, msg := as[*types.MalformedPolicyDocumentException]()(t, err); msg != "The new key policy will not allow you to update the key policy in the future." {
					t.Errorf("CreateKey lockout message = %q", msg)
				}
				locked := newKey(t, p.app, &awskms.CreateKeyInput{Policy: aws.String(aliceOnly), BypassPolicyLockoutSafetyCheck: true})
				_, err = p.app.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(locked)})
				denied(t, err, appRole, "DescribeKey", locked, false)
				gp, err = p.alice.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(locked)})
				if err != nil || !strings.Contains(aws.ToString(gp.Policy), `"AWS" : "`+aliceUser+`"`) {
					t.Errorf("GetKeyPolicy of a key created with a policy = %+v, %v", gp, err)
				}
			})

			// (g) GetKeyPolicy and ListKeyPolicies of a new key.
			t.Run("default policy text", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				gp, err := p.alice.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(key)})
				if err != nil || aws.ToString(gp.Policy) != defaultPolicy(account) || aws.ToString(gp.PolicyName) != "default" {
					t.Fatalf("GetKeyPolicy = %+v, %v\nwant the policy\n%s", gp, err, defaultPolicy(account))
				}
				gp, err = p.app.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(key), PolicyName: aws.String("default")})
				if err != nil || aws.ToString(gp.Policy) != defaultPolicy(account) {
					t.Fatalf("GetKeyPolicy PolicyName default = %+v, %v", gp, err)
				}
				partnerKey := newKey(t, p.partner, nil)
				gp, err = p.partner.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(partnerKey)})
				if err != nil || aws.ToString(gp.Policy) != defaultPolicy(otherAccount) {
					t.Fatalf("GetKeyPolicy of the partner's key = %+v, %v", gp, err)
				}
				lp, err := p.app.ListKeyPolicies(ctx, &awskms.ListKeyPoliciesInput{KeyId: aws.String(key)})
				if err != nil || len(lp.PolicyNames) != 1 || lp.PolicyNames[0] != "default" || lp.Truncated || lp.NextMarker != nil {
					t.Fatalf("ListKeyPolicies = %+v, %v", lp, err)
				}
				lp, err = p.app.ListKeyPolicies(ctx, &awskms.ListKeyPoliciesInput{KeyId: aws.String(key), Limit: aws.Int32(1)})
				if err != nil || len(lp.PolicyNames) != 1 || lp.Truncated {
					t.Fatalf("ListKeyPolicies Limit 1 = %+v, %v", lp, err)
				}
				for _, limit := range []int32{0, 1001} {
					_, err = p.app.ListKeyPolicies(ctx, &awskms.ListKeyPoliciesInput{KeyId: aws.String(key), Limit: aws.Int32(limit)})
					generic("ValidationException")(t, err)
				}
				_, err = p.app.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(key), PolicyName: aws.String("other")})
				as[*types.NotFoundException]()(t, err)
				_, err = p.app.PutKeyPolicy(ctx, &awskms.PutKeyPolicyInput{KeyId: aws.String(key), PolicyName: aws.String("other"),
					Policy: aws.String(rootPolicy(account))})
				generic("ValidationException")(t, err)
				_, err = p.app.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(unknownKey)})
				as[*types.NotFoundException]()(t, err)
				_, err = p.partner.ListKeyPolicies(ctx, &awskms.ListKeyPoliciesInput{KeyId: aws.String(key)})
				if err == nil {
					t.Errorf("the partner listed the policies of a key of another account")
				}

				// A user's policy comes back in AWS's layout, member order
				// kept.
				putPolicy(t, p.app, key, rootPolicy(account))
				gp, err = p.app.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(key)})
				want := "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ {\n    \"Sid\" : \"root\",\n"
				if err != nil || !strings.HasPrefix(aws.ToString(gp.Policy), want) {
					t.Errorf("GetKeyPolicy of a user's policy = %q, %v; want it to start %q", aws.ToString(gp.Policy), err, want)
				}
			})

			// (h) Malformed and oversized documents.
			t.Run("malformed documents", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				put := func(doc string) error {
					_, err := p.app.PutKeyPolicy(ctx, &awskms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(doc)})
					return err
				}
				err := put("not a real policy statement")
				if _, msg := as[*types.MalformedPolicyDocumentException]()(t, err); msg != "" {
					t.Errorf("non-JSON policy: message %q, want none (spec §2.2)", msg)
				}
				for _, doc := range []string{`{"Version":"2012-10-17"}`, `{"Version":"2012-10-17","Statement":[]}`,
					`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":{"AWS":"` + appRole + `"},"Action":"kms:*","Resource":"*"}]}`,
					`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:group/admins"},"Action":"kms:*","Resource":"*"}]}`} {
					if _, msg := as[*types.MalformedPolicyDocumentException]()(t, put(doc)); msg == "" {
						t.Errorf("policy %s: MalformedPolicyDocumentException without a message", doc)
					}
				}
				_, err = p.app.CreateKey(ctx, &awskms.CreateKeyInput{Policy: aws.String("{")})
				as[*types.MalformedPolicyDocumentException]()(t, err)

				// 32,769 bytes: LimitExceededException; past the model's
				// 131,072 characters: ValidationException (D29).
				big := func(n int) string {
					doc := rootPolicy(account)
					pad := strings.Repeat("x", n-len(doc)-len(`,"Id":""`))
					return doc[:len(doc)-1] + `,"Id":"` + pad + `"}`
				}
				if doc := big(32768); len(doc) != 32768 {
					t.Fatalf("big(32768) is %d bytes", len(doc))
				} else {
					must(t, "PutKeyPolicy of 32,768 bytes", put(doc))
				}
				as[*types.LimitExceededException]()(t, put(big(32769)))
				_, err = p.app.CreateKey(ctx, &awskms.CreateKeyInput{Policy: aws.String(big(40000))})
				as[*types.LimitExceededException]()(t, err)
				generic("ValidationException")(t, put(big(131073)))

				// A Policy present but empty breaks the model's length
				// constraint.
				_, err = p.app.CreateKey(ctx, &awskms.CreateKeyInput{Policy: aws.String("")})
				if _, msg := generic("ValidationException")(t, err); !strings.Contains(msg, "at 'policy'") {
					t.Errorf("CreateKey Policy \"\": %q", msg)
				}
				generic("ValidationException")(t, put(""))
			})
		})
	}
}

// TestKeyPolicyWire: the raw bodies: GetKeyPolicy's members, PutKeyPolicy's
// empty answer, AccessDeniedException and a message-less
// MalformedPolicyDocumentException.
func TestKeyPolicyWire(t *testing.T) {
	f := newPolicyFixture(t)
	send := func(akid, op, body string) (int, string) {
		status, _, b := post(t, f.handler, target+op, body, "Authorization", sigV4(akid, region, "kms"))
		return status, string(b)
	}
	status, body := send(akApp, "CreateKey", `{}`)
	var ck struct{ KeyMetadata struct{ Arn string } }
	if err := json.Unmarshal([]byte(body), &ck); status != 200 || err != nil {
		t.Fatalf("CreateKey: %d %s", status, body)
	}
	key := ck.KeyMetadata.Arn
	if status, body = send(akAlice, "GetKeyPolicy", `{"KeyId":"`+key+`"}`); status != 200 ||
		body != `{"Policy":`+jsonString(defaultPolicy(account))+`,"PolicyName":"default"}` {
		t.Errorf("GetKeyPolicy: %d %s", status, body)
	}
	if status, body = send(akApp, "ListKeyPolicies", `{"KeyId":"`+key+`"}`); status != 200 ||
		body != `{"PolicyNames":["default"],"Truncated":false}` {
		t.Errorf("ListKeyPolicies: %d %s", status, body)
	}
	if status, body = send(akApp, "PutKeyPolicy", `{"KeyId":"`+key+`","Policy":`+jsonString(policyOf(allow("app", appRole, "kms:*")))+`}`); status != 200 || body != "" {
		t.Errorf("PutKeyPolicy: %d %q", status, body)
	}
	status, body = send(akAlice, "DescribeKey", `{"KeyId":"`+key+`"}`)
	want := `{"__type":"AccessDeniedException","message":"User: ` + aliceUser + ` is not authorized to perform: kms:DescribeKey on resource: ` +
		key + ` because no resource-based policy allows the kms:DescribeKey action"}`
	if status != 400 || body != want {
		t.Errorf("AccessDeniedException: %d %s\nwant 400 %s", status, body, want)
	}
	if status, body = send(akApp, "PutKeyPolicy", `{"KeyId":"`+key+`","Policy":"not json"}`); status != 400 ||
		body != `{"__type":"MalformedPolicyDocumentException"}` {
		t.Errorf("non-JSON policy: %d %s", status, body)
	}
	if status, body = send(akApp, "PutKeyPolicy", `{"KeyId":"`+key+`"}`); status != 400 ||
		!strings.Contains(body, `Value null at 'policy' failed to satisfy constraint: Member must not be null`) {
		t.Errorf("PutKeyPolicy without Policy: %d %s", status, body)
	}
	if status, body = send(akApp, "PutKeyPolicy", `{"KeyId":"`+key+`","Policy":7}`); status != 400 ||
		!strings.Contains(body, "SerializationException") {
		t.Errorf("PutKeyPolicy with a number: %d %s", status, body)
	}
}
