package kms_test

import (
	"errors"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"pgregory.net/rapid"
)

// AWS Organizations: service control policies (D62), resource control
// policies and the organization condition keys (D63).

const (
	orgPath    = "o-a1b2c3d4e5/r-ab12/ou-ab12-cd34ef56/"
	orgRoot    = "r-ab12"
	orgUnit    = "ou-ab12-cd34ef56"
	orgPartner = "444455556666"
)

// orgEnv is a service with organizations only: IAM is taken to allow
// every kms action (D24).
func orgEnv(t *testing.T) (*fxEnv, *kms.Organizations) {
	orgs := kms.NewOrganizations()
	return fxNew(t, kms.WithOrganizations(orgs)), orgs
}

// D62: service control policies bound every principal of the accounts
// they reach, the account root included, at every level of the
// organization, with or without identity-based policies; service-linked
// roles, the management account and other accounts are not bound.
func TestOrgServiceControlPolicies(t *testing.T) {
	e, orgs := orgEnv(t)
	id, arn := e.symmetric()
	_, shared := idKey(t, e, idRootAnd(`{"Effect":"Allow","Principal":{"AWS":"`+orgPartner+`"},"Action":"kms:Encrypt","Resource":"*"}`))
	const acct = "111122223333"
	grMust(t, orgs.PutServiceControlPolicy(acct, "no-deletion", idDeny("kms:ScheduleKeyDeletion")))
	_, err := e.s.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: id})
	grDenied(t, err, pzRoot, "kms:ScheduleKeyDeletion", arn, "with an explicit deny in a service control policy")
	if _, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatalf("the root, for what the SCP allows: %v", err)
	}

	// An organization root's policy reaches the accounts placed under it,
	// and each level must allow.
	grMust(t, orgs.PutServiceControlPolicy(orgRoot, "full", idAllow("*", "*")))
	grMust(t, orgs.PutServiceControlPolicy(orgUnit, "kms-read", idAllow("*", "kms:Describe*", "kms:List*")))
	if _, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{}); err != nil {
		t.Fatalf("not placed yet: %v", err)
	}
	grMust(t, orgs.PlaceAccount(acct, orgPath))
	_, err = e.s.CreateKey(e.ctx, &kms.CreateKeyInput{})
	grDenied(t, err, pzRoot, "kms:CreateKey", "*", "because no service control policy allows the kms:CreateKey action")
	if _, err := e.s.ListKeys(e.ctx, &kms.ListKeysInput{}); err != nil {
		t.Fatalf("allowed at every level: %v", err)
	}
	_, err = e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	grDenied(t, err, pzAlice, "kms:Encrypt", arn, "because no service control policy allows the kms:Encrypt action")
	slr := "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForKeyManagementServiceMultiRegionKeys/s"
	if _, err := e.s.Encrypt(e.as2(slr), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("a service-linked role: %v", err)
	}
	// Another account, not placed, is not bound by this organization.
	if _, err := e.s.Encrypt(e.as2(pzPartner), &kms.EncryptInput{KeyId: shared, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("another account's role: %v", err)
	}
	// Nor is the management account.
	grMust(t, orgs.SetManagementAccount(acct))
	if _, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{}); err != nil {
		t.Fatalf("the management account: %v", err)
	}

	e2, orgs2 := orgEnv(t)
	grMust(t, orgs2.PutServiceControlPolicy(orgUnit, "kms-read", idAllow("*", "kms:Describe*", "kms:List*")))
	grMust(t, orgs2.PlaceAccount(acct, orgPath))
	grMust(t, orgs2.PlaceAccount(acct, ""))
	if _, err := e2.s.CreateKey(e2.ctx, &kms.CreateKeyInput{}); err != nil {
		t.Fatalf("out of the organization: %v", err)
	}
}

// D63: a resource control policy denies calls on the customer managed keys
// of the accounts it reaches, whoever makes them and whatever allows
// them: here, to principals outside the organization (the AWS KMS
// Developer Guide's example). It allows nothing, and does not bound AWS
// managed keys or RetireGrant.
func TestOrgResourceControlPolicies(t *testing.T) {
	e, orgs := orgEnv(t)
	const acct = "111122223333"
	id, arn := idKey(t, e, idRootAnd(`{"Effect":"Allow","Principal":{"AWS":"`+orgPartner+`"},"Action":["kms:Encrypt","kms:CreateGrant","kms:RetireGrant"],"Resource":"*"}`))
	perimeter := `{"Version":"2012-10-17","Statement":[{"Sid":"RCPEnforceIdentityPerimeter","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*",
	 "Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"},"Bool":{"aws:PrincipalIsAWSService":"false"}}}]}`
	grMust(t, orgs.PutResourceControlPolicy(orgRoot, "perimeter", perimeter))
	if _, err := e.s.Encrypt(e.as2(pzPartner), &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("the account is not placed yet: %v", err)
	}
	grMust(t, orgs.PlaceAccount(acct, orgPath))
	_, err := e.s.Encrypt(e.as2(pzPartner), &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")})
	grDenied(t, err, pzPartner, "kms:Encrypt", arn, "with an explicit deny in a resource control policy")
	if _, err := e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("a principal of the organization: %v", err)
	}
	// A grant does not allow past it.
	g, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzPartner, Operations: []string{"Decrypt", "Encrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Encrypt(e.as2(pzPartner), &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")})
	grDenied(t, err, pzPartner, "kms:Encrypt", arn, "with an explicit deny in a resource control policy")
	// RetireGrant is not bounded by RCPs (AWS KMS Developer Guide).
	if _, err := e.s.RetireGrant(e.as2(pzPartner), &kms.RetireGrantInput{KeyId: arn, GrantId: g.GrantId}); !errors.Is(err, keystate.ErrAccessDenied) {
		// The partner is neither the key's account nor the retiring principal.
		t.Fatalf("RetireGrant by a stranger to the grant: %v", err)
	}
	// The partner joins the organization.
	grMust(t, orgs.PlaceAccount(orgPartner, "o-a1b2c3d4e5/r-ab12/"))
	if _, err := e.s.Encrypt(e.as2(pzPartner), &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("the partner in the organization: %v", err)
	}
	// AWS managed keys are not bounded.
	grMust(t, orgs.PutResourceControlPolicy(acct, "no-describe", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:DescribeKey","Resource":"*"}]}`))
	_, err = e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id})
	grDenied(t, err, pzRoot, "kms:DescribeKey", arn, "with an explicit deny in a resource control policy")
	if _, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: "alias/aws/s3"}); err != nil {
		t.Fatalf("an AWS managed key: %v", err)
	}
	grMust(t, orgs.DeleteResourceControlPolicy(acct, "no-describe"))
	if _, err := e.s.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatalf("after the RCP's deletion: %v", err)
	}
	// The management account's keys are not bounded.
	grMust(t, orgs.PlaceAccount(orgPartner, ""))
	grMust(t, orgs.SetManagementAccount(acct))
	if _, err := e.s.Encrypt(e.as2(pzPartner), &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("a key of the management account: %v", err)
	}
}

// D63: placing accounts gives calls aws:PrincipalOrgID, aws:PrincipalOrgPaths,
// aws:ResourceOrgID and aws:ResourceOrgPaths, which key policies use to
// share a key with an organization or one of its units.
func TestOrgConditionKeys(t *testing.T) {
	e, orgs := orgEnv(t)
	_, arn := idKey(t, e, idRootAnd(
		`{"Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}`,
		`{"Effect":"Allow","Principal":"*","Action":"kms:DescribeKey","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-a1b2c3d4e5/r-ab12/ou-ab12-cd34ef56/*"}}}`,
		`{"Effect":"Allow","Principal":"*","Action":"kms:GetPublicKey","Resource":"*","Condition":{"StringEquals":{"aws:ResourceOrgID":"o-a1b2c3d4e5"}}}`))
	encrypt := func() error {
		_, err := e.s.Encrypt(e.as2(pzPartner), &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")})
		return err
	}
	describe := func() error {
		_, err := e.s.DescribeKey(e.as2(pzPartner), &kms.DescribeKeyInput{KeyId: arn})
		return err
	}
	if err := encrypt(); !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("a partner outside the organization: %v", err)
	}
	grMust(t, orgs.PlaceAccount(orgPartner, "o-a1b2c3d4e5/r-ab12/"))
	if err := encrypt(); err != nil {
		t.Fatalf("a partner in the organization: %v", err)
	}
	if err := describe(); !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("a partner outside the unit: %v", err)
	}
	grMust(t, orgs.PlaceAccount(orgPartner, orgPath+"ou-ab12-99999999/"))
	if err := describe(); err != nil {
		t.Fatalf("a partner in a unit under the unit: %v", err)
	}
	// GetPublicKey of a symmetric key refuses after authorization: an
	// AccessDeniedException would come first.
	_, err := e.s.GetPublicKey(e.as2(pzPartner), &kms.GetPublicKeyInput{KeyId: arn})
	if !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("the key's account is not placed: %v", err)
	}
	grMust(t, orgs.PlaceAccount("111122223333", orgPath))
	_, err = e.s.GetPublicKey(e.as2(pzPartner), &kms.GetPublicKeyInput{KeyId: arn})
	if err == nil || errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("the key's account in the organization: %v, want the refusal of a symmetric key", err)
	}
}

// Organizations' own contract: what it refuses (changing nothing), and
// reading back.
func TestOrganizationsRegistry(t *testing.T) {
	orgs := kms.NewOrganizations()
	doc := idAllow("*", "kms:Encrypt")
	rcp := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]}`
	for _, c := range []struct {
		name string
		err  error
		code error
	}{
		{"SCP on a bad target", orgs.PutServiceControlPolicy("ou-x", "p", doc), keystate.ErrValidation},
		{"SCP on an organization ID", orgs.PutServiceControlPolicy("o-a1b2c3d4e5", "p", doc), keystate.ErrValidation},
		{"SCP name empty", orgs.PutServiceControlPolicy("111122223333", "", doc), keystate.ErrValidation},
		{"SCP with a principal", orgs.PutServiceControlPolicy(orgRoot, "p", rcp), keystate.ErrMalformedPolicyDocument},
		{"SCP deleted twice", orgs.DeleteServiceControlPolicy("111122223333", "p"), keystate.ErrNotFound},
		{"RCP with an Allow", orgs.PutResourceControlPolicy(orgRoot, "p", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}`), keystate.ErrMalformedPolicyDocument},
		{"RCP without a principal", orgs.PutResourceControlPolicy(orgRoot, "p", doc), keystate.ErrMalformedPolicyDocument},
		{"RCP deleted twice", orgs.DeleteResourceControlPolicy(orgRoot, "p"), keystate.ErrNotFound},
		{"place under an OU first", orgs.PlaceAccount("111122223333", "o-a1b2c3d4e5/ou-ab12-cd34ef56/"), keystate.ErrValidation},
		{"place under two roots", orgs.PlaceAccount("111122223333", "o-a1b2c3d4e5/r-ab12/r-cd34/"), keystate.ErrValidation},
		{"place without an organization", orgs.PlaceAccount("111122223333", "r-ab12/"), keystate.ErrValidation},
		{"place a bad account", orgs.PlaceAccount("1111", orgPath), keystate.ErrValidation},
		{"a bad management account", orgs.SetManagementAccount("x"), keystate.ErrValidation},
	} {
		if !errors.Is(c.err, c.code) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.code)
		}
	}
	var ke *keystate.Error
	if err := orgs.PutServiceControlPolicy(orgRoot, "p", rcp); !errors.As(err, &ke) ||
		ke.Message != "The provided policy document does not meet the requirements of the specified policy type." {
		t.Errorf("AWS Organizations' message: %v", err)
	}
	if _, err := orgs.ServiceControlPolicy(orgRoot, "p"); !errors.Is(err, keystate.ErrNotFound) {
		t.Fatalf("a refused SCP was kept: %v", err)
	}
	grMust(t, orgs.PutServiceControlPolicy(orgRoot, "Deny key deletion", doc))
	grMust(t, orgs.PutResourceControlPolicy(orgUnit, "perimeter", rcp))
	if text, err := orgs.ServiceControlPolicy(orgRoot, "Deny key deletion"); err != nil || text == "" {
		t.Fatalf("read back %q, %v", text, err)
	}
	if text, err := orgs.ResourceControlPolicy(orgUnit, "perimeter"); err != nil || text == "" {
		t.Fatalf("read back %q, %v", text, err)
	}
}

// D62, D63 as a property, after spec §3.1 (guard-rail policies "can only
// restrict"): organizations only take away. With service
// control policies that allow everything and a resource control policy
// that denies nothing, every call is decided as without organizations
// (same error text); with restrictive ones, nothing is allowed that was
// not allowed without them.
func TestPropertyOrganizationsOnlyRestrict(t *testing.T) {
	principals := []string{pzRoot, pzApp, pzSession, pzAlice, pzPartner, "arn:aws:iam::444455556666:root"}
	keyPolicies := []string{
		"",
		idRootAnd(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":["kms:Encrypt","kms:DescribeKey"],"Resource":"*"}`),
		idRootAnd(`{"Effect":"Deny","Principal":{"AWS":"` + pzSession + `"},"Action":"kms:Encrypt","Resource":"*"}`),
	}
	scps := []string{
		idAllow("*", "*"),
		idAllow("*", "kms:Describe*", "kms:List*"),
		idDeny("kms:Encrypt"),
	}
	rcps := []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"999999999999"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:DescribeKey","Resource":"*"}]}`,
	}
	rapid.Check(t, func(rt *rapid.T) {
		plain := fxNew(t)
		orgs := kms.NewOrganizations()
		withOrgs := fxNew(t, kms.WithOrganizations(orgs))
		scp := rapid.IntRange(0, len(scps)-1).Draw(rt, "scp")
		rcp := rapid.IntRange(0, len(rcps)-1).Draw(rt, "rcp")
		for _, err := range []error{
			orgs.PutServiceControlPolicy(orgRoot, "scp", scps[scp]),
			orgs.PutResourceControlPolicy(orgUnit, "rcp", rcps[rcp]),
			orgs.PlaceAccount("111122223333", orgPath),
		} {
			if err != nil {
				rt.Fatal(err)
			}
		}
		if rapid.Bool().Draw(rt, "partner placed") {
			if err := orgs.PlaceAccount(orgPartner, "o-a1b2c3d4e5/r-ab12/"); err != nil {
				rt.Fatal(err)
			}
		}
		neutral := scp == 0 && rcp == 0
		doc := rapid.SampledFrom(keyPolicies).Draw(rt, "keyPolicy")
		var arns [2]string
		for i, e := range []*fxEnv{plain, withOrgs} {
			out, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Policy: doc, BypassPolicyLockoutSafetyCheck: true})
			if err != nil && i == 1 && !neutral {
				return // the SCP refuses the root's CreateKey
			}
			if err != nil {
				rt.Fatal(err)
			}
			arns[i] = out.KeyMetadata.Arn
		}
		for range rapid.IntRange(1, 8).Draw(rt, "calls") {
			who := rapid.SampledFrom(principals).Draw(rt, "principal")
			op := rapid.SampledFrom([]string{"Encrypt", "DescribeKey", "ListKeys"}).Draw(rt, "op")
			var errs [2]error
			for i, e := range []*fxEnv{plain, withOrgs} {
				errs[i] = e.call(who, op, arns[i])
			}
			if errs[0] != nil && errs[1] == nil {
				rt.Fatalf("%s by %s allowed with organizations (SCP %d, RCP %d), refused without: %v", op, who, scp, rcp, errs[0])
			}
			if neutral && (errs[0] == nil) != (errs[1] == nil) || neutral && errs[0] != nil && errs[0].Error() != errs[1].Error() {
				rt.Fatalf("%s by %s: without organizations %v, with neutral ones %v", op, who, errs[0], errs[1])
			}
			if errs[1] != nil && errs[0] == nil && !errors.Is(errs[1], keystate.ErrAccessDenied) {
				rt.Fatalf("%s by %s: refused by organizations with %v, want AccessDeniedException", op, who, errs[1])
			}
		}
	})
}

// D62–D64 under -race: SCPs, RCPs, placements, a boundary, a session
// policy and an endpoint policy change while calls read them; each call
// is allowed or refused with AccessDeniedException.
func TestGuardRailsConcurrent(t *testing.T) {
	e, ip, orgs := grEnv(t)
	id, _ := e.symmetric()
	ep, err := kms.NewVPCEndpoint("vpce-0123456789abcdef0", "vpc-0abc1234")
	if err != nil {
		t.Fatal(err)
	}
	idPut(t, ip, pzApp, "all", idAllow("*", "kms:*"))
	rcp := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]}`
	done := churn(t, func() error {
		return errors.Join(orgs.PutServiceControlPolicy(orgRoot, "scp", idAllow("*", "kms:Encrypt")),
			orgs.PutResourceControlPolicy(orgUnit, "rcp", rcp), orgs.PlaceAccount("111122223333", orgPath),
			ip.PutPermissionsBoundary(pzApp, idAllow("*", "kms:*")), ip.PutSessionPolicy(pzSession, idAllow("*", "kms:Encrypt")),
			ep.SetPolicy(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*"}]}`))
	}, func() error {
		return errors.Join(orgs.DeleteServiceControlPolicy(orgRoot, "scp"), orgs.DeleteResourceControlPolicy(orgUnit, "rcp"),
			orgs.PlaceAccount("111122223333", ""), ip.DeletePermissionsBoundary(pzApp), ip.DeleteSessionPolicy(pzSession), ep.SetPolicy(""))
	})
	ctx := kms.WithVPCEndpoint(e.as2(pzSession), ep)
	for range 200 {
		_, err := e.s.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		if err != nil && !errors.Is(err, keystate.ErrAccessDenied) {
			t.Fatal(err)
		}
		if _, err := e.s.ListKeys(e.ctx, &kms.ListKeysInput{}); err != nil && !errors.Is(err, keystate.ErrAccessDenied) {
			t.Fatal(err)
		}
	}
	<-done
}
