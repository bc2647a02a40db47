package kms_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"pgregory.net/rapid"
)

// Identity-based policies (decision D59; spec aws-kms-policies-grants.md
// §3.2, §6 P7, P9, P11).

// idAllow is an identity-based policy allowing actions on resource.
func idAllow(resource string, actions ...string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["` + strings.Join(actions, `","`) +
		`"],"Resource":"` + resource + `"}]}`
}

// idEnv is a service with identity-based policies, and the policies.
func idEnv(t *testing.T, opts ...kms.Option) (*fxEnv, *kms.IdentityPolicies) {
	ip := kms.NewIdentityPolicies()
	return fxNew(t, append([]kms.Option{kms.WithIdentityPolicies(ip)}, opts...)...), ip
}

// idRootAnd is a key policy that gives the account root every action
// (delegating to IAM, spec §3.2 rule 3), and the statements given.
func idRootAnd(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + pzRoot +
		`"},"Action":"kms:*","Resource":"*"},` + strings.Join(statements, ",") + `]}`
}

// idKey creates a key with the key policy doc, as the account root.
func idKey(t *testing.T, e *fxEnv, doc string) (id, arn string) {
	t.Helper()
	out, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Policy: doc})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata.KeyId, out.KeyMetadata.Arn
}

func idPut(t *testing.T, ip *kms.IdentityPolicies, principal, name, doc string) {
	t.Helper()
	if err := ip.Put(principal, name, doc); err != nil {
		t.Fatalf("Put %s %s: %v", principal, name, err)
	}
}

// idDenied checks an identity-based AccessDeniedException (P7, D59).
func idDenied(t *testing.T, err error, principal, action, resource string, explicit bool) {
	t.Helper()
	accessDenied(t, err, principal, action, resource, "an", "identity-based", explicit)
}

// D59 with spec §3.2 rules 3 and 4b: the default key policy delegates to
// the account, so a user or role needs an identity-based Allow; the
// account root does not. A role's policies apply to its sessions.
func TestIdentityDelegation(t *testing.T) {
	e, ip := idEnv(t)
	id, arn := e.symmetric()
	plain := &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}
	_, err := e.s.Encrypt(e.as2(pzAlice), plain)
	idDenied(t, err, pzAlice, "kms:Encrypt", arn, false)
	_, err = e.s.Encrypt(e.as2(pzSession), plain)
	idDenied(t, err, pzSession, "kms:Encrypt", arn, false)
	if _, err := e.s.Encrypt(e.ctx, plain); err != nil {
		t.Fatalf("the account root: %v", err)
	}

	idPut(t, ip, pzAlice, "use", idAllow("arn:aws:kms:*:111122223333:key/*", "kms:Encrypt"))
	idPut(t, ip, "arn:aws:iam::111122223333:role/team/app", "use", idAllow(arn, "kms:Encrypt", "kms:DescribeKey"))
	if _, err := e.s.Encrypt(e.as2(pzAlice), plain); err != nil {
		t.Fatalf("alice, allowed on every key of the account: %v", err)
	}
	if _, err := e.s.Encrypt(e.as2(pzSession), plain); err != nil {
		t.Fatalf("a session of the role (named with a path when put): %v", err)
	}
	_, err = e.s.DescribeKey(e.as2(pzAlice), &kms.DescribeKeyInput{KeyId: id})
	idDenied(t, err, pzAlice, "kms:DescribeKey", arn, false)

	// An Allow for another key's ARN allows nothing on this one.
	id2, arn2 := e.symmetric()
	_, err = e.s.DescribeKey(e.as2(pzApp), &kms.DescribeKeyInput{KeyId: id2})
	idDenied(t, err, pzApp, "kms:DescribeKey", arn2, false)

	// Deleting the policy takes the permission back at once.
	if err := ip.Delete(pzAlice, "use"); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Encrypt(e.as2(pzAlice), plain)
	idDenied(t, err, pzAlice, "kms:Encrypt", arn, false)
}

// D59 with spec §3.2 rule 4a: a key-policy statement that names the caller
// (its role, or "*") allows it in its own account without any
// identity-based policy. For "*" this departs from §3.2 4b, which lists it
// beside the account principal: D59 follows the AWS KMS Developer Guide
// (determining-access-key-policy), where "*" gives every identity of the
// key's account access and other accounts' users need permissions in
// their own account (rule 5, checked last here).
func TestIdentityDirectKeyPolicy(t *testing.T) {
	e, _ := idEnv(t)
	doc := idRootAnd(`{"Effect":"Allow","Principal":{"AWS":"`+pzApp+`"},"Action":"kms:Encrypt","Resource":"*"}`,
		`{"Effect":"Allow","Principal":"*","Action":"kms:DescribeKey","Resource":"*"}`)
	id, arn := idKey(t, e, doc)
	if _, err := e.s.Encrypt(e.as2(pzSession), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("a session of the named role: %v", err)
	}
	if _, err := e.s.DescribeKey(e.as2(pzAlice), &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatalf(`"*" in the key policy: %v`, err)
	}
	_, err := e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	idDenied(t, err, pzAlice, "kms:Encrypt", arn, false)
	// Another account's principal matched by "*" still needs its own
	// account's identity-based policy (rule 5).
	_, err = e.s.DescribeKey(e.as2(pzPartner), &kms.DescribeKeyInput{KeyId: arn})
	idDenied(t, err, pzPartner, "kms:DescribeKey", arn, false)
}

// Spec §3.2 rule 1: an explicit Deny in an identity-based policy wins over
// a key policy that names the caller and over a grant.
func TestIdentityExplicitDeny(t *testing.T) {
	e, ip := idEnv(t)
	doc := idRootAnd(`{"Effect":"Allow","Principal":{"AWS":"` + pzApp + `"},"Action":"kms:*","Resource":"*"}`)
	id, arn := idKey(t, e, doc)
	idPut(t, ip, pzApp, "no-decrypt", `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"kms:*","Resource":"*"},
	 {"Effect":"Deny","Action":"kms:Decrypt","Resource":"*","Condition":{"StringNotEquals":{"kms:EncryptionContext:app":"web"}}}]}`)
	ct, err := e.s.Encrypt(e.as2(pzSession), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzApp, Operations: []string{"Decrypt"}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Decrypt(e.as2(pzSession), &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob})
	idDenied(t, err, pzSession, "kms:Decrypt", arn, true)
	ct, err = e.s.Encrypt(e.as2(pzSession), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x"), EncryptionContext: map[string]string{"app": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Decrypt(e.as2(pzSession), &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob,
		EncryptionContext: map[string]string{"app": "web"}}); err != nil {
		t.Fatalf("the Deny's condition does not hold: %v", err)
	}
	// A dry run answers the same refusal.
	_, err = e.s.Decrypt(kms.WithDryRun(e.as2(pzSession)), &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob})
	idDenied(t, err, pzSession, "kms:Decrypt", arn, true)
}

// Spec §3.2 rule 5 and P9 (D59): across accounts the key policy and the
// caller's identity-based policy must both allow; a grant alone suffices.
func TestIdentityCrossAccount(t *testing.T) {
	e, ip := idEnv(t)
	doc := idRootAnd(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:Encrypt","Resource":"*"}`)
	_, arn := idKey(t, e, doc)
	plain := &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")}
	_, err := e.s.Encrypt(e.as2(pzPartner), plain)
	idDenied(t, err, pzPartner, "kms:Encrypt", arn, false)
	if _, err := e.s.Encrypt(e.as2("arn:aws:iam::444455556666:root"), plain); err != nil {
		t.Fatalf("the other account's root: %v", err)
	}
	idPut(t, ip, pzPartner, "use-partner-key", idAllow(arn, "kms:Encrypt", "kms:Decrypt"))
	if _, err := e.s.Encrypt(e.as2(pzPartner), plain); err != nil {
		t.Fatalf("key policy and identity-based policy allow: %v", err)
	}
	// The key policy does not give the other account Decrypt: its
	// identity-based Allow cannot (resource-based wording).
	ct, _ := e.s.Encrypt(e.ctx, plain)
	_, err = e.s.Decrypt(e.as2(pzPartner), &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, KeyId: arn})
	pzDenied(t, err, pzPartner, "kms:Decrypt", arn, false)
	// A grant is enough by itself (P9), for a principal with no
	// identity-based policy.
	other := "arn:aws:iam::444455556666:user/bob"
	if _, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: arn, GranteePrincipal: other, Operations: []string{"Decrypt"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Decrypt(e.as2(other), &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, KeyId: arn}); err != nil {
		t.Fatalf("a grant alone: %v", err)
	}
}

// Spec §3.2 rule 6 (D59): the operations on no key are allowed by
// identity-based policies alone, with Resource "*"; the wording on
// resource "*" is the one recorded for CreateKey. Validation comes first
// (D3).
func TestIdentityOperationsOnNoKey(t *testing.T) {
	e, ip := idEnv(t)
	ctx := e.as2(pzAlice)
	n := kms.Int32(8)
	calls := []struct {
		action string
		call   func() error
	}{
		{"kms:CreateKey", func() error { _, err := e.s.CreateKey(ctx, &kms.CreateKeyInput{}); return err }},
		{"kms:ListKeys", func() error { _, err := e.s.ListKeys(ctx, &kms.ListKeysInput{}); return err }},
		{"kms:ListAliases", func() error { _, err := e.s.ListAliases(ctx, &kms.ListAliasesInput{}); return err }},
		{"kms:GenerateRandom", func() error {
			_, err := e.s.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: n})
			return err
		}},
		{"kms:ListRetirableGrants", func() error {
			_, err := e.s.ListRetirableGrants(ctx, &kms.ListRetirableGrantsInput{RetiringPrincipal: pzAlice})
			return err
		}},
		{"kms:DescribeCustomKeyStores", func() error {
			_, err := e.s.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{})
			return err
		}},
	}
	for _, c := range calls {
		idDenied(t, c.call(), pzAlice, c.action, "*", false)
	}
	_, err := e.s.ListKeys(ctx, &kms.ListKeysInput{Limit: kms.Int32(0)})
	if !errors.Is(err, keystate.ErrValidation) {
		t.Fatalf("ListKeys with Limit 0: %v, want ValidationException before authorization", err)
	}
	// A key ARN pattern does not cover an operation on no key.
	actions := []string{"kms:CreateKey", "kms:ListKeys", "kms:ListAliases", "kms:GenerateRandom", "kms:ListRetirableGrants", "kms:DescribeCustomKeyStores"}
	idPut(t, ip, pzAlice, "keys", idAllow("arn:aws:kms:*:111122223333:key/*", actions...))
	for _, c := range calls {
		idDenied(t, c.call(), pzAlice, c.action, "*", false)
	}
	idPut(t, ip, pzAlice, "all", idAllow("*", actions...))
	for _, c := range calls {
		if err := c.call(); err != nil {
			t.Fatalf("%s allowed on *: %v", c.action, err)
		}
	}
}

// CreateKey's identity-based authorization sees the request's kms:KeySpec
// (spec §5.1), and Tags need kms:TagResource too (spec §3.2 rule 7).
func TestIdentityCreateKeyConditions(t *testing.T) {
	e, ip := idEnv(t)
	idPut(t, ip, pzApp, "symmetric-only", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateKey",
	 "Resource":"*","Condition":{"StringEquals":{"kms:KeySpec":"SYMMETRIC_DEFAULT"}}}]}`)
	ctx := e.as2(pzSession)
	if _, err := e.s.CreateKey(ctx, &kms.CreateKeyInput{}); err != nil {
		t.Fatalf("symmetric: %v", err)
	}
	_, err := e.s.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY"})
	idDenied(t, err, pzSession, "kms:CreateKey", "*", false)
	tags := []kms.Tag{{TagKey: "team", TagValue: "blue"}}
	_, err = e.s.CreateKey(ctx, &kms.CreateKeyInput{Tags: tags})
	idDenied(t, err, pzSession, "kms:TagResource", "*", false)
	idPut(t, ip, pzApp, "tag-blue", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:TagResource",
	 "Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"blue"}}}]}`)
	if _, err := e.s.CreateKey(ctx, &kms.CreateKeyInput{Tags: tags}); err != nil {
		t.Fatalf("tagged: %v", err)
	}
	_, err = e.s.CreateKey(ctx, &kms.CreateKeyInput{Tags: []kms.Tag{{TagKey: "team", TagValue: "red"}}})
	idDenied(t, err, pzSession, "kms:TagResource", "*", false)
}

// Spec §5.2: aws:ResourceTag/<key> is a condition key of identity-based
// policies (ABAC).
func TestIdentityResourceTag(t *testing.T) {
	e, ip := idEnv(t)
	blue := e.create(&kms.CreateKeyInput{Tags: []kms.Tag{{TagKey: "team", TagValue: "blue"}}})
	red := e.create(&kms.CreateKeyInput{Tags: []kms.Tag{{TagKey: "team", TagValue: "red"}}})
	idPut(t, ip, pzAlice, "blue-keys", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt",
	 "Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}]}`)
	if _, err := e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: blue.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("blue key: %v", err)
	}
	_, err := e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: red.KeyId, Plaintext: []byte("x")})
	idDenied(t, err, pzAlice, "kms:Encrypt", red.Arn, false)
}

// Spec §3.2 rule 7: alias operations need the action on the alias (an
// identity-based policy only) and on the key.
func TestIdentityAliases(t *testing.T) {
	e, ip := idEnv(t)
	id, arn := e.symmetric()
	ctx := e.as2(pzAlice)
	aliasARN := "arn:aws:kms:us-east-1:111122223333:alias/app"
	_, err := e.s.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/app", TargetKeyId: id})
	idDenied(t, err, pzAlice, "kms:CreateAlias", aliasARN, false)
	idPut(t, ip, pzAlice, "alias", idAllow("arn:aws:kms:us-east-1:111122223333:alias/app", "kms:CreateAlias", "kms:DeleteAlias"))
	_, err = e.s.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/app", TargetKeyId: id})
	idDenied(t, err, pzAlice, "kms:CreateAlias", arn, false)
	idPut(t, ip, pzAlice, "key", idAllow(arn, "kms:CreateAlias", "kms:DeleteAlias"))
	if _, err := e.s.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/app", TargetKeyId: id}); err != nil {
		t.Fatalf("both allowed: %v", err)
	}
	_, err = e.s.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/other", TargetKeyId: id})
	idDenied(t, err, pzAlice, "kms:CreateAlias", "arn:aws:kms:us-east-1:111122223333:alias/other", false)
	if _, err := e.s.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: "alias/app"}); err != nil {
		t.Fatalf("DeleteAlias: %v", err)
	}
}

// Spec §2.3 with D59: the lockout check counts the caller's identity-based
// policies when the new key policy only delegates to its account.
func TestIdentityLockoutCheck(t *testing.T) {
	e, ip := idEnv(t)
	idPut(t, ip, pzAlice, "admin", idAllow("*", "kms:CreateKey", "kms:DescribeKey"))
	_, err := e.s.CreateKey(e.as2(pzAlice), &kms.CreateKeyInput{Policy: pzDefaultText})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrMalformedPolicyDocument, Op: keystate.CreateKey,
		Msg: "The new key policy will not allow you to update the key policy in the future."})
	idPut(t, ip, pzAlice, "admin", idAllow("*", "kms:CreateKey", "kms:PutKeyPolicy"))
	if _, err := e.s.CreateKey(e.as2(pzAlice), &kms.CreateKeyInput{Policy: pzDefaultText}); err != nil {
		t.Fatalf("with kms:PutKeyPolicy in the identity-based policy: %v", err)
	}
	direct := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + pzAlice + `"},"Action":"kms:*","Resource":"*"}]}`
	idPut(t, ip, pzAlice, "admin", idAllow("*", "kms:CreateKey"))
	if _, err := e.s.CreateKey(e.as2(pzAlice), &kms.CreateKeyInput{Policy: direct}); err != nil {
		t.Fatalf("a policy naming the caller: %v", err)
	}
}

// P11 (D59): a principal of the key's account retires a grant only when
// its identity-based policies allow kms:RetireGrant; the grant's retiring
// principal and a grantee allowed to retire need none.
func TestIdentityRetireGrant(t *testing.T) {
	e, ip := idEnv(t)
	id, arn := e.symmetric()
	grant := func(in kms.CreateGrantInput) string {
		in.KeyId, in.Operations = id, []string{"Encrypt"}
		g, err := e.s.CreateGrant(e.ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		return g.GrantId
	}
	g1 := grant(kms.CreateGrantInput{GranteePrincipal: pzPartner})
	_, err := e.s.RetireGrant(e.as2(pzAlice), &kms.RetireGrantInput{KeyId: arn, GrantId: g1})
	if !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("alice without kms:RetireGrant: %v", err)
	}
	idPut(t, ip, pzAlice, "retire", idAllow(arn, "kms:RetireGrant"))
	if _, err := e.s.RetireGrant(e.as2(pzAlice), &kms.RetireGrantInput{KeyId: arn, GrantId: g1}); err != nil {
		t.Fatalf("alice with kms:RetireGrant: %v", err)
	}
	g2 := grant(kms.CreateGrantInput{GranteePrincipal: pzPartner, RetiringPrincipal: pzApp})
	if _, err := e.s.RetireGrant(e.as2(pzSession), &kms.RetireGrantInput{KeyId: arn, GrantId: g2}); err != nil {
		t.Fatalf("the retiring principal's session: %v", err)
	}
	g3 := grant(kms.CreateGrantInput{GranteePrincipal: pzPartner, RetiringPrincipal: "arn:aws:iam::444455556666:root"})
	_, err = e.s.RetireGrant(e.as2("arn:aws:iam::444455556666:user/bob"), &kms.RetireGrantInput{KeyId: arn, GrantId: g3})
	if !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("a user of the retiring account, without kms:RetireGrant: %v", err)
	}
	idPut(t, ip, "arn:aws:iam::444455556666:user/bob", "retire", idAllow(arn, "kms:RetireGrant"))
	if _, err := e.s.RetireGrant(e.as2("arn:aws:iam::444455556666:user/bob"), &kms.RetireGrantInput{KeyId: arn, GrantId: g3}); err != nil {
		t.Fatalf("with kms:RetireGrant: %v", err)
	}
}

// IdentityPolicies' own contract: what it refuses (changing nothing),
// replacing by name, listing and reading back.
func TestIdentityPoliciesRegistry(t *testing.T) {
	ip := kms.NewIdentityPolicies()
	doc := idAllow("*", "kms:Encrypt")
	refusals := []struct {
		name             string
		principal, pname string
		document         string
		code             keystate.Exception
		msg              string
	}{
		{"account root", pzRoot, "p", doc, keystate.ErrValidation, ""},
		{"session", pzSession, "p", doc, keystate.ErrValidation, ""},
		{"not an ARN", "alice", "p", doc, keystate.ErrValidation, ""},
		{"empty name", pzAlice, "", doc, keystate.ErrValidation, ""},
		{"bad name", pzAlice, "a b", doc, keystate.ErrValidation, ""},
		{"principal in the document", pzAlice, "p", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}`,
			keystate.ErrMalformedPolicyDocument, "Policy document should not specify a principal."},
		{"no resource", pzAlice, "p", `{"Statement":[{"Effect":"Allow","Action":"kms:*"}]}`,
			keystate.ErrMalformedPolicyDocument, "Policy statement must contain resources."},
	}
	for _, c := range refusals {
		err := ip.Put(c.principal, c.pname, c.document)
		var ke *keystate.Error
		if !errors.Is(err, c.code) || !errors.As(err, &ke) || c.msg != "" && ke.Message != c.msg {
			t.Errorf("%s: %v, want %s %q", c.name, err, c.code, c.msg)
		}
	}
	if names, err := ip.Names(pzAlice); err != nil || len(names) != 0 {
		t.Fatalf("after refusals: %v, %v", names, err)
	}
	idPut(t, ip, pzAlice, "b", doc)
	idPut(t, ip, pzAlice, "a", doc)
	idPut(t, ip, pzAlice, "b", idAllow("*", "kms:Decrypt"))
	if names, _ := ip.Names(pzAlice); !slices.Equal(names, []string{"b", "a"}) {
		t.Fatalf("Names = %v, want [b a]", names)
	}
	if text, err := ip.Policy("arn:aws:iam::111122223333:user/dept/alice", "b"); err != nil || !strings.Contains(text, "kms:Decrypt") {
		t.Fatalf("Policy b (the user named with a path) = %q, %v", text, err)
	}
	if err := ip.Delete(pzAlice, "c"); !errors.Is(err, keystate.ErrNotFound) {
		t.Fatalf("Delete of an unknown name: %v", err)
	}
	if _, err := ip.Policy(pzAlice, "c"); !errors.Is(err, keystate.ErrNotFound) {
		t.Fatalf("Policy of an unknown name: %v", err)
	}
}

// The event record names what the identity-based policy decided.
func TestIdentityEventRecord(t *testing.T) {
	rec := &fxRecorder{}
	e, ip := idEnv(t, kms.WithObserver(rec))
	id, _ := e.symmetric()
	idPut(t, ip, pzAlice, "use", idAllow("*", "kms:Encrypt"))
	if _, err := e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	last := rec.events[len(rec.events)-1]
	if !strings.Contains(last.Authorization, "identity-based policy use: Allow kms:Encrypt") {
		t.Fatalf("authorization %q", last.Authorization)
	}
}

// D59 against D24, as a property: a service whose identity-based policies
// allow every kms action to every principal decides every call exactly as
// a service without identity-based policies (which takes IAM to allow
// everything), whatever the key policy, the caller and the operation; and
// one whose policies allow nothing refuses every call of a user or role
// that the key policy does not name (D59 with spec §3.2 rule 4a).
func TestPropertyIdentityAllowAllIsD24(t *testing.T) {
	principals := []string{pzRoot, pzApp, pzSession, pzAlice, pzPartner, "arn:aws:iam::444455556666:root"}
	keyPolicies := []string{
		"", // the default
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"` + pzRoot + `"},"Action":"kms:*","Resource":"*"},
		  {"Effect":"Deny","Principal":{"AWS":"` + pzSession + `"},"Action":"kms:Encrypt","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":["` + pzRoot + `","444455556666"]},"Action":["kms:Describe*","kms:Encrypt"],"Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"111122223333"}}}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"` + pzApp + `"},"Action":"kms:*","Resource":"*"}]}`,
	}
	rapid.Check(t, func(rt *rapid.T) {
		all := kms.NewIdentityPolicies()
		none := kms.NewIdentityPolicies()
		for _, p := range []string{pzApp, pzAlice, pzPartner} {
			if err := all.Put(p, "all", idAllow("*", "kms:*")); err != nil {
				rt.Fatal(err)
			}
		}
		plain, withAll, withNone := fxNew(t), fxNew(t, kms.WithIdentityPolicies(all)), fxNew(t, kms.WithIdentityPolicies(none))
		doc := rapid.SampledFrom(keyPolicies).Draw(rt, "keyPolicy")
		var arns [3]string
		for i, e := range []*fxEnv{plain, withAll, withNone} {
			out, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Policy: doc, BypassPolicyLockoutSafetyCheck: true})
			if err != nil {
				rt.Fatal(err)
			}
			arns[i] = out.KeyMetadata.Arn
		}
		for range rapid.IntRange(1, 8).Draw(rt, "calls") {
			who := rapid.SampledFrom(principals).Draw(rt, "principal")
			op := rapid.SampledFrom([]string{"Encrypt", "DescribeKey", "DisableKey", "ListKeys"}).Draw(rt, "op")
			var errs [3]error
			for i, e := range []*fxEnv{plain, withAll, withNone} {
				errs[i] = e.call(who, op, arns[i])
			}
			if (errs[0] == nil) != (errs[1] == nil) || errs[0] != nil && errs[0].Error() != errs[1].Error() {
				rt.Fatalf("%s by %s: without identity-based policies %v, with kms:* allowed %v", op, who, errs[0], errs[1])
			}
			named := doc == keyPolicies[4] && (who == pzApp || who == pzSession) || doc == keyPolicies[3] && op != "ListKeys" && strings.Contains(who, "111122223333")
			if who != pzRoot && !strings.HasSuffix(who, ":root") && !named && errs[2] == nil {
				rt.Fatalf("%s by %s allowed with no identity-based policy, key policy %s", op, who, doc)
			}
		}
	})
}

// call makes the call op (Encrypt, DescribeKey, DisableKey, ListKeys) by
// principal who on the key arn, for the property tests of authorization.
// After DisableKey the account root enables the key again (allowed by
// every key policy the tests use but one naming only a role).
func (e *fxEnv) call(who, op, arn string) error {
	ctx := e.as2(who)
	var err error
	switch op {
	case "Encrypt":
		_, err = e.s.Encrypt(ctx, &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")})
	case "DescribeKey":
		_, err = e.s.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: arn})
	case "DisableKey":
		_, err = e.s.DisableKey(ctx, &kms.DisableKeyInput{KeyId: arn})
		e.s.EnableKey(e.ctx, &kms.EnableKeyInput{KeyId: arn})
	case "ListKeys":
		_, err = e.s.ListKeys(ctx, &kms.ListKeysInput{})
	default:
		panic("no call " + op)
	}
	return err
}

// Spec §3.2 rule 7 (D59): ReplicateKey needs kms:ReplicateKey on the
// primary key and kms:CreateKey by identity-based policies.
func TestIdentityReplicateKey(t *testing.T) {
	e, ip := idEnv(t)
	m := e.create(&kms.CreateKeyInput{MultiRegion: true})
	idPut(t, ip, pzAlice, "replicate", idAllow(m.Arn, "kms:ReplicateKey"))
	_, err := e.s.ReplicateKey(e.as2(pzAlice), &kms.ReplicateKeyInput{KeyId: m.KeyId, ReplicaRegion: "us-west-2"})
	idDenied(t, err, pzAlice, "kms:CreateKey", "*", false)
	idPut(t, ip, pzAlice, "create", idAllow("*", "kms:CreateKey"))
	if _, err := e.s.ReplicateKey(e.as2(pzAlice), &kms.ReplicateKeyInput{KeyId: m.KeyId, ReplicaRegion: "us-west-2"}); err != nil {
		t.Fatalf("with kms:CreateKey: %v", err)
	}
}

// churn calls put and then undo, 100 times each, in a goroutine, while a
// test's calls read what they change; it closes the channel it returns
// when done, and reports their errors.
func churn(t *testing.T, put, undo func() error) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			change := put
			if i%2 == 1 {
				change = undo
			}
			if err := change(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	return done
}

// IdentityPolicies may change while services use it (run with -race).
func TestIdentityPoliciesConcurrent(t *testing.T) {
	e, ip := idEnv(t)
	id, _ := e.symmetric()
	done := churn(t, func() error {
		return errors.Join(ip.Put(pzApp, "use", idAllow("*", "kms:Encrypt")), ip.Put(pzApp, "other", idAllow("*", "kms:Decrypt")))
	}, func() error { return ip.Delete(pzApp, "use") })
	for range 200 {
		_, err := e.s.Encrypt(e.as2(pzSession), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		if err != nil && !errors.Is(err, keystate.ErrAccessDenied) {
			t.Fatal(err)
		}
	}
	<-done
}

// IAM groups (D59): a group's policies apply to its users, an explicit
// Deny in one of them too, until the user leaves the group.
func TestIdentityGroups(t *testing.T) {
	e, ip := idEnv(t)
	id, arn := e.symmetric()
	const (
		devs = "arn:aws:iam::111122223333:group/teams/devs"
		ops  = "arn:aws:iam::111122223333:group/ops"
	)
	idPut(t, ip, devs, "use", idAllow("*", "kms:Encrypt", "kms:Decrypt"))
	idPut(t, ip, ops, "no-decrypt", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}`)
	plain := &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}
	_, err := e.s.Encrypt(e.as2(pzAlice), plain)
	idDenied(t, err, pzAlice, "kms:Encrypt", arn, false)
	if err := ip.AddUserToGroup(devs, "arn:aws:iam::111122223333:user/staff/alice"); err != nil {
		t.Fatal(err)
	}
	if err := ip.AddUserToGroup(devs, pzAlice); err != nil { // again: no change
		t.Fatal(err)
	}
	ct, err := e.s.Encrypt(e.as2(pzAlice), plain)
	if err != nil {
		t.Fatalf("a member of devs: %v", err)
	}
	if err := ip.AddUserToGroup(ops, pzAlice); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Decrypt(e.as2(pzAlice), &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob})
	idDenied(t, err, pzAlice, "kms:Decrypt", arn, true)
	if err := ip.RemoveUserFromGroup(ops, pzAlice); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Decrypt(e.as2(pzAlice), &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob}); err != nil {
		t.Fatalf("out of ops: %v", err)
	}
	if err := ip.RemoveUserFromGroup(ops, pzAlice); !errors.Is(err, keystate.ErrNotFound) {
		t.Fatalf("removing a non-member: %v", err)
	}
	for _, c := range []struct{ group, user string }{
		{"arn:aws:iam::444455556666:group/devs", pzAlice}, // another account's group
		{devs, pzApp},      // a role is no group member
		{pzAlice, pzAlice}, // a user is no group
		{"arn:aws:iam::111122223333:group/a b", pzAlice},
	} {
		if err := ip.AddUserToGroup(c.group, c.user); !errors.Is(err, keystate.ErrValidation) {
			t.Errorf("AddUserToGroup(%s, %s): %v, want ValidationException", c.group, c.user, err)
		}
	}
	// A group's policy does not apply to a role or to the group's name as
	// a user.
	_, err = e.s.Encrypt(e.as2("arn:aws:iam::111122223333:user/devs"), plain)
	idDenied(t, err, "arn:aws:iam::111122223333:user/devs", "kms:Encrypt", arn, false)
}

// Spec §3.2 rule 7: UpdateAlias needs kms:UpdateAlias on the key the alias
// points to as well as on the new one.
func TestUpdateAliasCurrentKey(t *testing.T) {
	e := fxNew(t)
	doc := idRootAnd(`{"Effect":"Deny","Principal":{"AWS":"` + pzAlice + `"},"Action":"kms:UpdateAlias","Resource":"*"}`)
	cur, curARN := idKey(t, e, doc)
	next, _ := e.symmetric()
	if _, err := e.s.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: "alias/app", TargetKeyId: cur}); err != nil {
		t.Fatal(err)
	}
	_, err := e.s.UpdateAlias(e.as2(pzAlice), &kms.UpdateAliasInput{AliasName: "alias/app", TargetKeyId: next})
	pzDenied(t, err, pzAlice, "kms:UpdateAlias", curARN, true)
	if _, err := e.s.UpdateAlias(e.as2(pzApp), &kms.UpdateAliasInput{AliasName: "alias/app", TargetKeyId: next}); err != nil {
		t.Fatalf("a caller both keys allow: %v", err)
	}
}
