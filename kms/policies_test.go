package kms_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// Key policies (issue 14; aws-kms-policies-grants.md, decisions D24–D29).

const (
	pzApp     = "arn:aws:iam::111122223333:role/app"
	pzSession = "arn:aws:sts::111122223333:assumed-role/app/s1"
	pzAlice   = "arn:aws:iam::111122223333:user/alice"
	pzPartner = "arn:aws:iam::444455556666:role/partner"
	pzRoot    = "arn:aws:iam::111122223333:root"
)

// pzDefaultText is AWS's default key policy for account 111122223333
// (spec §1.1), byte for byte.
const pzDefaultText = `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::111122223333:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`

func (e *fxEnv) as2(principal string) context.Context { return kms.WithPrincipal(e.ctx, principal) }

func pzDenied(t *testing.T, err error, principal, action, arn string, explicit bool) {
	t.Helper()
	accessDenied(t, err, principal, action, arn, "a", "resource-based", explicit)
}

// accessDenied checks an AccessDeniedException worded as D26 and P7 say:
// kind is "resource-based" (article "a") or "identity-based" ("an").
func accessDenied(t *testing.T, err error, principal, action, resource, article, kind string, explicit bool) {
	t.Helper()
	var ke *keystate.Error
	if !errors.As(err, &ke) || !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("got %v, want AccessDeniedException", err)
	}
	want := "User: " + principal + " is not authorized to perform: " + action + " on resource: " + resource
	if explicit {
		want += " with an explicit deny in " + article + " " + kind + " policy"
	} else {
		want += " because no " + kind + " policy allows the " + action + " action"
	}
	if ke.Message != want {
		t.Fatalf("message %q, want %q (D26, P7)", ke.Message, want)
	}
}

// Spec §1.1, D24: a key created without a policy has AWS's default policy,
// returned byte for byte; it lets every principal of the key's account in
// (users, roles, sessions, the root) and no other account.
func TestPolicyDefault(t *testing.T) {
	rec := &fxRecorder{}
	e := fxNew(t, kms.WithObserver(rec))
	id, arn := e.symmetric()
	out, err := e.s.GetKeyPolicy(e.ctx, &kms.GetKeyPolicyInput{KeyId: id})
	if err != nil || out.Policy != pzDefaultText || out.PolicyName != "default" {
		t.Fatalf("GetKeyPolicy = %q, %v", out, err)
	}
	lp, err := e.s.ListKeyPolicies(e.ctx, &kms.ListKeyPoliciesInput{KeyId: id})
	if err != nil || len(lp.PolicyNames) != 1 || lp.PolicyNames[0] != "default" || lp.Truncated {
		t.Fatalf("ListKeyPolicies = %+v, %v", lp, err)
	}
	_, err = e.s.GetKeyPolicy(e.ctx, &kms.GetKeyPolicyInput{KeyId: id, PolicyName: "other"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.GetKeyPolicy, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
	for _, p := range []string{pzApp, pzSession, pzAlice, pzRoot} {
		if _, err := e.s.Encrypt(e.as2(p), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
			t.Fatalf("Encrypt as %s: %v", p, err)
		}
	}
	_, err = e.s.Encrypt(e.as2(pzPartner), &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")})
	pzDenied(t, err, pzPartner, "kms:Encrypt", arn, false)
	last := rec.events[len(rec.events)-1]
	if last.Principal != pzPartner || !strings.HasPrefix(last.Authorization, "ImplicitDeny") {
		t.Fatalf("event record: principal %q, authorization %q", last.Principal, last.Authorization)
	}
	prev := rec.events[len(rec.events)-2]
	if prev.Principal != pzRoot || !strings.Contains(prev.Authorization, "Enable IAM User Permissions") {
		t.Fatalf("event record of the root's call: principal %q, authorization %q", prev.Principal, prev.Authorization)
	}
}

// A policy that names one role: its sessions are in, the account's other
// principals are not (the account root is not in the policy); an
// explicit Deny wins over an Allow (spec §3.2 rule 1).
func TestPolicyPrincipalsAndDeny(t *testing.T) {
	e := fxNew(t)
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Sid":"app uses","Effect":"Allow","Principal":{"AWS":"` + pzApp + `"},"Action":["kms:Encrypt","kms:Decrypt","kms:PutKeyPolicy","kms:DescribeKey"],"Resource":"*"},
	 {"Sid":"no decrypt in s1","Effect":"Deny","Principal":{"AWS":"` + pzSession + `"},"Action":"kms:Decrypt","Resource":"*"}]}`
	out, err := e.s.CreateKey(e.as2(pzApp), &kms.CreateKeyInput{Policy: doc})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := out.KeyMetadata.KeyId, out.KeyMetadata.Arn
	ct, err := e.s.Encrypt(e.as2(pzSession), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	if err != nil {
		t.Fatalf("Encrypt by a session of the named role: %v", err)
	}
	if _, err := e.s.Decrypt(e.as2(pzApp), &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob}); err != nil {
		t.Fatalf("Decrypt by the role: %v", err)
	}
	_, err = e.s.Decrypt(e.as2(pzSession), &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob})
	pzDenied(t, err, pzSession, "kms:Decrypt", arn, true)
	_, err = e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	pzDenied(t, err, pzAlice, "kms:Encrypt", arn, false)
	_, err = e.s.DisableKey(e.ctx, &kms.DisableKeyInput{KeyId: id}) // the root: not in this policy
	pzDenied(t, err, pzRoot, "kms:DisableKey", arn, false)
}

// Spec §5.1: kms:EncryptionContext:<key> conditions; the algorithm keys
// are present even when the request leaves the algorithm out.
func TestPolicyEncryptionContextCondition(t *testing.T) {
	e := fxNew(t)
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"` + pzRoot + `"},"Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*",
	  "Condition":{"StringEquals":{"kms:EncryptionContext:purpose":"test","kms:EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}}},
	 {"Effect":"Allow","Principal":{"AWS":"` + pzRoot + `"},"Action":"kms:PutKeyPolicy","Resource":"*"}]}`
	out, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Policy: doc})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := out.KeyMetadata.KeyId, out.KeyMetadata.Arn
	ec := map[string]string{"purpose": "test"}
	ct, err := e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x"), EncryptionContext: ec})
	if err != nil {
		t.Fatalf("Encrypt with the context: %v", err)
	}
	if _, err := e.s.Decrypt(e.as2(pzAlice), &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, EncryptionContext: ec}); err != nil {
		t.Fatalf("Decrypt with the context: %v", err)
	}
	_, err = e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	pzDenied(t, err, pzAlice, "kms:Encrypt", arn, false)
	_, err = e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x"), EncryptionContext: map[string]string{"purpose": "prod"}})
	pzDenied(t, err, pzAlice, "kms:Encrypt", arn, false)
}

// Spec §2.3: the policy lockout safety check, and its bypass.
func TestPolicyLockoutCheck(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	noPut := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + pzRoot + `"},"Action":["kms:Encrypt","kms:Decrypt","kms:GetKeyPolicy"],"Resource":"*"}]}`
	_, err := e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: noPut})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrMalformedPolicyDocument, Op: keystate.PutKeyPolicy, KeyID: arn, State: keystate.Enabled,
		Msg: "The new key policy will not allow you to update the key policy in the future."})
	if got, _ := e.s.GetKeyPolicy(e.ctx, &kms.GetKeyPolicyInput{KeyId: id}); got.Policy != pzDefaultText {
		t.Fatalf("the refused PutKeyPolicy changed the policy")
	}
	_, err = e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Policy: noPut})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrMalformedPolicyDocument, Op: keystate.CreateKey,
		Msg: "The new key policy will not allow you to update the key policy in the future."})
	if _, err := e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: noPut, BypassPolicyLockoutSafetyCheck: true}); err != nil {
		t.Fatalf("PutKeyPolicy with the bypass: %v", err)
	}
	_, err = e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: noPut, BypassPolicyLockoutSafetyCheck: true})
	pzDenied(t, err, pzRoot, "kms:PutKeyPolicy", arn, false)
	_, err = e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id})
	pzDenied(t, err, pzRoot, "kms:DescribeKey", arn, false)
}

// D29: policy documents are validated; a refused one changes nothing.
func TestPolicyDocumentValidation(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	put := func(doc string) error {
		_, err := e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: doc})
		return err
	}
	fxCheckErr(t, put("not a policy"), fxWant{Code: keystate.ErrMalformedPolicyDocument, Op: keystate.PutKeyPolicy, KeyID: arn,
		State: keystate.Enabled, Msg: ""})
	fxCheckErr(t, put(`{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Principal":"*","Action":"kms:*","Resource":"*"}]}`),
		fxWant{Code: keystate.ErrMalformedPolicyDocument, Op: keystate.PutKeyPolicy, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
	fxCheckErr(t, put(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"kms:*","Resource":"*"}]}`),
		fxWant{Code: keystate.ErrMalformedPolicyDocument, Op: keystate.PutKeyPolicy, KeyID: arn, State: keystate.Enabled,
			Msg: "Policy contains a statement with one or more invalid principals."})
	big := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("a", 33000) + `","Effect":"Allow","Principal":{"AWS":"` + pzRoot + `"},"Action":"kms:*","Resource":"*"}]}`
	fxCheckErr(t, put(big), fxWant{Code: keystate.ErrLimitExceeded, Op: keystate.PutKeyPolicy, KeyID: arn, State: keystate.Enabled, AnyMsg: true})
	fxCheckErr(t, put("{\u2603}"), fxWant{Code: keystate.ErrValidation, Op: keystate.PutKeyPolicy, AnyMsg: true})
	fxCheckErr(t, put(""), fxWant{Code: keystate.ErrValidation, Op: keystate.PutKeyPolicy, AnyMsg: true})
	_, err := e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: pzDefaultText, PolicyName: "other"})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.PutKeyPolicy, AnyMsg: true})
	if got, _ := e.s.GetKeyPolicy(e.ctx, &kms.GetKeyPolicyInput{KeyId: id}); got.Policy != pzDefaultText {
		t.Fatalf("a refused PutKeyPolicy changed the policy")
	}
	// An AWS managed key's policy cannot be changed (D29, D15).
	if _, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: "alias/aws/s3", Plaintext: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	d := e.describe("alias/aws/s3")
	_, err = e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: d.KeyId, Policy: pzDefaultText})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrUnsupportedOperation, Op: keystate.PutKeyPolicy, KeyID: d.Arn, State: keystate.Enabled, AnyMsg: true})
}

// A policy that lets another account's root use the key: the partner
// encrypts with the key ARN (cross-account use), never with an alias name
// (aliases are per account); operations without cross-account use stay
// NotFoundException (D6).
func TestPolicyCrossAccount(t *testing.T) {
	e := fxNew(t)
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"` + pzRoot + `"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":["kms:Encrypt","kms:DescribeKey"],"Resource":"*"}]}`
	out, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Policy: doc})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := out.KeyMetadata.KeyId, out.KeyMetadata.Arn
	e.createAlias("alias/shared", id)
	if _, err := e.s.Encrypt(e.as2(pzPartner), &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("Encrypt by the partner with the key ARN: %v", err)
	}
	_, err = e.s.Encrypt(e.as2(pzPartner), &kms.EncryptInput{KeyId: "alias/shared", Plaintext: []byte("x")})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.Encrypt, AnyMsg: true, KeyID: "arn:aws:kms:us-east-1:444455556666:alias/shared"})
	_, err = e.s.DisableKey(e.as2(pzPartner), &kms.DisableKeyInput{KeyId: arn})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrNotFound, Op: keystate.DisableKey, KeyID: arn, Msg: fxNotExist(arn)})
	_, err = e.s.GenerateDataKey(e.as2(pzPartner), &kms.GenerateDataKeyInput{KeyId: arn, KeySpec: "AES_256"})
	pzDenied(t, err, pzPartner, "kms:GenerateDataKey", arn, false)
}

// ReEncrypt needs kms:ReEncryptFrom on the source and kms:ReEncryptTo on
// the destination (spec §3.2 rule 7).
func TestPolicyReEncryptActions(t *testing.T) {
	e := fxNew(t)
	fromOnly := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"` + pzRoot + `"},"Action":["kms:Encrypt","kms:ReEncryptFrom","kms:PutKeyPolicy"],"Resource":"*"}]}`
	out, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Policy: fromOnly})
	if err != nil {
		t.Fatal(err)
	}
	src := out.KeyMetadata
	dst, dstARN := e.symmetric()
	ct, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: src.KeyId, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.ReEncrypt(e.ctx, &kms.ReEncryptInput{CiphertextBlob: ct.CiphertextBlob, DestinationKeyId: dst}); err != nil {
		t.Fatalf("ReEncrypt from a key that allows ReEncryptFrom: %v", err)
	}
	back, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: dst, Plaintext: []byte("y")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.s.ReEncrypt(e.ctx, &kms.ReEncryptInput{CiphertextBlob: back.CiphertextBlob, DestinationKeyId: src.KeyId})
	pzDenied(t, err, pzRoot, "kms:ReEncryptTo", src.Arn, false)
	_ = dstARN
}

// A key's own policy survives a restart (store.Key.Policy) over Memory and
// boltstore; replicas take their own policy (ReplicaPolicy). The policy
// names one role, so another principal of the account is refused (an
// account root in a policy would let every principal of the account in,
// D24).
func TestPolicyPersistsAndReplicas(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"only app","Effect":"Allow","Principal":{"AWS":"` + pzApp + `"},"Action":"kms:*","Resource":"*"}]}`
	for _, c := range []struct {
		name string
		open func(t *testing.T) func() store.Store
	}{
		{"memory", func(t *testing.T) func() store.Store {
			m := store.NewMemory()
			return func() store.Store { return csKeepOpen{m} }
		}},
		{"bolt", func(t *testing.T) func() store.Store {
			path := filepath.Join(t.TempDir(), "kms.db")
			return func() store.Store {
				st, err := boltstore.Open(path, nil)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			open := c.open(t)
			clk := kms.NewManualClock(fxT0)
			s, err := kms.Open(t.Context(), open(), kms.WithClock(clk))
			if err != nil {
				t.Fatal(err)
			}
			app := kms.WithPrincipal(t.Context(), pzApp)
			out, err := s.CreateKey(app, &kms.CreateKeyInput{Policy: doc, MultiRegion: true})
			if err != nil {
				t.Fatal(err)
			}
			id := out.KeyMetadata.KeyId
			want, err := s.GetKeyPolicy(app, &kms.GetKeyPolicyInput{KeyId: id})
			if err != nil || want.Policy == pzDefaultText || !strings.Contains(want.Policy, `"Sid" : "only app"`) {
				t.Fatalf("GetKeyPolicy = %q, %v", want.Policy, err)
			}
			rep, err := s.ReplicateKey(app, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: "us-west-2"})
			if err != nil || rep.ReplicaPolicy != pzDefaultText {
				t.Fatalf("ReplicateKey without Policy: ReplicaPolicy %q, %v", rep.ReplicaPolicy, err)
			}
			s.Close()
			s, err = kms.Open(t.Context(), open(), kms.WithClock(clk))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			app = kms.WithPrincipal(t.Context(), pzApp)
			got, err := s.GetKeyPolicy(app, &kms.GetKeyPolicyInput{KeyId: id})
			if err != nil || got.Policy != want.Policy {
				t.Fatalf("after a restart GetKeyPolicy = %q, %v; want %q", got.Policy, err, want.Policy)
			}
			_, err = s.Encrypt(kms.WithPrincipal(t.Context(), pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
			if !errors.Is(err, keystate.ErrAccessDenied) {
				t.Fatalf("after a restart, alice's Encrypt = %v, want AccessDeniedException", err)
			}
		})
	}
}

// A principal ARN that is no principal is refused.
func TestPolicyInvalidPrincipal(t *testing.T) {
	e := fxNew(t)
	_, err := e.s.ListKeys(kms.WithPrincipal(e.ctx, "arn:aws:s3:::bucket"), &kms.ListKeysInput{})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.ListKeys, AnyMsg: true})
}

// Spec §5.1: the request condition keys of management operations reach
// the key policy: kms:RotationPeriodInDays, aws:RequestTag/<k> and
// aws:TagKeys; kms:ResourceAliases, valid in IAM policies only, does not
// (D73: TestDecisionD73ResourceAliasesIAMOnly).
func TestPolicyManagementConditions(t *testing.T) {
	e := fxNew(t)
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"` + pzRoot + `"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Deny","Principal":{"AWS":"` + pzRoot + `"},"Action":"kms:EnableKeyRotation","Resource":"*",
	  "Condition":{"NumericLessThan":{"kms:RotationPeriodInDays":"180"}}},
	 {"Effect":"Deny","Principal":{"AWS":"` + pzRoot + `"},"Action":"kms:TagResource","Resource":"*",
	  "Condition":{"StringEquals":{"aws:RequestTag/env":"prod"}}},
	 {"Effect":"Deny","Principal":{"AWS":"` + pzRoot + `"},"Action":"kms:Encrypt","Resource":"*",
	  "Condition":{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/frozen"}}}]}`
	out, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Policy: doc})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := out.KeyMetadata.KeyId, out.KeyMetadata.Arn
	_, err = e.s.EnableKeyRotation(e.ctx, &kms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: kms.Int32(90)})
	pzDenied(t, err, pzRoot, "kms:EnableKeyRotation", arn, true)
	if _, err := e.s.EnableKeyRotation(e.ctx, &kms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: kms.Int32(365)}); err != nil {
		t.Fatalf("EnableKeyRotation with 365 days: %v", err)
	}
	_, err = e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "env", TagValue: "prod"}}})
	pzDenied(t, err, pzRoot, "kms:TagResource", arn, true)
	if _, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "env", TagValue: "dev"}}}); err != nil {
		t.Fatalf("TagResource env=dev: %v", err)
	}
	if _, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	e.createAlias("alias/frozen", id)
	if _, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")}); err != nil {
		t.Fatalf("Encrypt under a key policy that tests kms:ResourceAliases (D73: absent there): %v", err)
	}
}

// D73 (spec §5.1: kms:ResourceAliases is valid in IAM policies only): a
// key policy does not see the key's aliases, so that a condition on
// kms:ResourceAliases there is one on an absent key; identity-based
// policies, and the policy of the VPC endpoint a call comes through, see
// them.
func TestDecisionD73ResourceAliasesIAMOnly(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/app"
	frozen := `{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*",
	  "Condition":{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/frozen"}}}`
	// ForAllValues holds for an absent key, and not for the key's two
	// aliases: this Deny applies to Decrypt only if the key policy does
	// not see them.
	onlyFrozen := `{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*",
	  "Condition":{"ForAllValues:StringEquals":{"kms:ResourceAliases":"alias/frozen"}}}`
	iam := kms.NewIdentityPolicies()
	grMust(t, iam.Put(role, "all", `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"kms:*","Resource":"*"},`+strings.Replace(frozen, `"Principal":"*",`, "", 1)+`]}`))
	e := fxNew(t, kms.WithIdentityPolicies(iam))
	id, arn := idKey(t, e, idRootAnd(frozen, onlyFrozen))
	e.createAlias("alias/frozen", id)
	e.createAlias("alias/other", id)
	enc := &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")}
	out, err := e.s.Encrypt(e.ctx, enc)
	if err != nil {
		t.Fatalf("the account root, under the key policy alone: %v", err)
	}
	_, err = e.s.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob})
	pzDenied(t, err, pzRoot, "kms:Decrypt", arn, true)

	_, err = e.s.Encrypt(kms.WithPrincipal(e.ctx, role), enc)
	d73DeniedIn(t, "the role", "an identity-based policy", err)

	ep, err := kms.NewVPCEndpoint("vpce-0123456789abcdef0", "vpc-0abc1234")
	if err != nil {
		t.Fatal(err)
	}
	grMust(t, ep.SetPolicy(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},`+frozen+`]}`))
	_, err = e.s.Encrypt(kms.WithVPCEndpoint(e.ctx, ep), enc)
	d73DeniedIn(t, "through the endpoint", "a VPC endpoint policy", err)
	other, _ := e.symmetric()
	if _, err := e.s.UpdateAlias(e.ctx, &kms.UpdateAliasInput{AliasName: "alias/frozen", TargetKeyId: other}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Encrypt(kms.WithVPCEndpoint(e.ctx, ep), enc); err != nil {
		t.Fatalf("through the endpoint, once alias/frozen names another key: %v", err)
	}
}

// d73DeniedIn fails unless err is AccessDeniedException with an explicit
// deny in the policy by names.
func d73DeniedIn(t *testing.T, who, by string, err error) {
	t.Helper()
	var ke *keystate.Error
	if !errors.As(err, &ke) || ke.Code != keystate.ErrAccessDenied || !strings.Contains(ke.Message, "with an explicit deny in "+by) {
		t.Fatalf("%s: %v, want AccessDeniedException with an explicit deny in %s", who, err, by)
	}
}

// d73Frozen is a condition that holds when one of the key's aliases is
// alias/frozen.
const d73Frozen = `"Condition":{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/frozen"}}`

// D73: resource control policies see kms:ResourceAliases.
func TestDecisionD73ResourceAliasesInRCP(t *testing.T) {
	e, orgs := orgEnv(t)
	grMust(t, orgs.PlaceAccount("111122223333", orgPath))
	id, _ := e.symmetric()
	e.createAlias("alias/frozen", id)
	grMust(t, orgs.PutResourceControlPolicy(orgRoot, "frozen", `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*",`+d73Frozen+`}]}`))
	_, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")})
	d73DeniedIn(t, "the account root", "a resource control policy", err)
}

// D73 and D64: a VPC endpoint's policy sees kms:ResourceAliases when an
// Authorizer decides instead of key policies, and on RetireGrant, where,
// as on every other call, it does not see aws:ResourceTag (IAM policies
// only, spec §5.2).
func TestDecisionD73ResourceAliasesInEndpointPolicy(t *testing.T) {
	ep, err := kms.NewVPCEndpoint("vpce-0123456789abcdef0", "vpc-0abc1234")
	if err != nil {
		t.Fatal(err)
	}
	grMust(t, ep.SetPolicy(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},
	 {"Effect":"Deny","Principal":"*","Action":["kms:Encrypt","kms:RetireGrant"],"Resource":"*",`+d73Frozen+`},
	 {"Effect":"Deny","Principal":"*","Action":"kms:RetireGrant","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}]}`))

	allowAll := kms.AuthorizerFunc(func(context.Context, kms.AuthRequest) error { return nil })
	ea := fxNew(t, kms.WithAuthorizer(allowAll))
	ida, _ := ea.symmetric()
	ea.createAlias("alias/frozen", ida)
	_, err = ea.s.Encrypt(kms.WithVPCEndpoint(ea.ctx, ep), &kms.EncryptInput{KeyId: ida, Plaintext: []byte("p")})
	d73DeniedIn(t, "an Authorizer's call through the endpoint", "a VPC endpoint policy", err)

	e := fxNew(t)
	id, _ := e.symmetric()
	if _, err := e.s.TagResource(e.ctx, &kms.TagResourceInput{KeyId: id, Tags: []kms.Tag{{TagKey: "env", TagValue: "prod"}}}); err != nil {
		t.Fatal(err)
	}
	grant := func() string {
		g, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzApp, Operations: []string{"Encrypt"}})
		if err != nil {
			t.Fatal(err)
		}
		return g.GrantToken
	}
	if _, err := e.s.RetireGrant(kms.WithVPCEndpoint(e.ctx, ep), &kms.RetireGrantInput{GrantToken: grant()}); err != nil {
		t.Fatalf("RetireGrant through the endpoint, the key tagged env=prod (a tag the endpoint does not see): %v", err)
	}
	e.createAlias("alias/frozen", id)
	_, err = e.s.RetireGrant(kms.WithVPCEndpoint(e.ctx, ep), &kms.RetireGrantInput{GrantToken: grant()})
	d73DeniedIn(t, "RetireGrant through the endpoint", "a VPC endpoint policy", err)
}

// D76 (spec §5.1; AWS KMS Developer Guide, kms:ReEncryptOnSameKey: "whether
// the request specifies a destination CMK that is the same one used for
// the original encryption"): both of ReEncrypt's authorizations carry it,
// "true" when the destination, however named (ID, ARN, alias), is the key
// the ciphertext was encrypted under, as a symmetric blob names it or
// SourceKeyId does for an asymmetric ciphertext.
func TestDecisionD76ReEncryptOnSameKey(t *testing.T) {
	e := fxNew(t)
	onlySame := idRootAnd(`{"Effect":"Deny","Principal":"*","Action":"kms:ReEncrypt*","Resource":"*",
	  "Condition":{"Bool":{"kms:ReEncryptOnSameKey":"false"}}}`)
	a, arnA := idKey(t, e, onlySame)
	b, _ := e.symmetric()
	e.createAlias("alias/a", a)
	ct := func(id string) []byte {
		t.Helper()
		out, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")})
		if err != nil {
			t.Fatal(err)
		}
		return out.CiphertextBlob
	}
	for _, dst := range []string{a, arnA, "alias/a", fxAliasARN("alias/a")} {
		if _, err := e.s.ReEncrypt(e.ctx, &kms.ReEncryptInput{CiphertextBlob: ct(a), DestinationKeyId: dst}); err != nil {
			t.Fatalf("ReEncrypt from a to %s, the same key: %v", dst, err)
		}
	}
	_, err := e.s.ReEncrypt(e.ctx, &kms.ReEncryptInput{CiphertextBlob: ct(a), DestinationKeyId: b})
	pzDenied(t, err, pzRoot, "kms:ReEncryptFrom", arnA, true)
	_, err = e.s.ReEncrypt(e.ctx, &kms.ReEncryptInput{CiphertextBlob: ct(b), DestinationKeyId: "alias/a"})
	pzDenied(t, err, pzRoot, "kms:ReEncryptTo", arnA, true)

	r, rARN := e.kindKey("RSA_2048", "ENCRYPT_DECRYPT")
	if _, err := e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: r, Policy: onlySame}); err != nil {
		t.Fatal(err)
	}
	const alg = "RSAES_OAEP_SHA_256"
	out, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: r, Plaintext: []byte("p"), EncryptionAlgorithm: alg})
	if err != nil {
		t.Fatal(err)
	}
	in := &kms.ReEncryptInput{CiphertextBlob: out.CiphertextBlob, SourceKeyId: rARN, SourceEncryptionAlgorithm: alg,
		DestinationKeyId: r, DestinationEncryptionAlgorithm: alg}
	if _, err := e.s.ReEncrypt(e.ctx, in); err != nil {
		t.Fatalf("ReEncrypt of an RSA ciphertext under its own key: %v", err)
	}
	in.DestinationKeyId, in.DestinationEncryptionAlgorithm = b, ""
	_, err = e.s.ReEncrypt(e.ctx, in)
	pzDenied(t, err, pzRoot, "kms:ReEncryptFrom", rARN, true)
}
