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

// IAM's guard rails: permissions boundaries, session policies and service
// control policies (decision D62; spec aws-kms-policies-grants.md §3.1).

// grDenied checks an AccessDeniedException whose message ends, after
// "User: <principal> is not authorized to perform: <action> on resource:
// <resource> ", with tail: IAM's wording for the policy that refused.
func grDenied(t *testing.T, err error, principal, action, resource, tail string) {
	t.Helper()
	var ke *keystate.Error
	if !errors.As(err, &ke) || !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("got %v, want AccessDeniedException", err)
	}
	want := "User: " + principal + " is not authorized to perform: " + action + " on resource: " + resource + " " + tail
	if ke.Message != want {
		t.Fatalf("message %q, want %q (D62)", ke.Message, want)
	}
}

// grMust fails the test on a registry refusal.
func grMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// grEnv is a service with identity-based policies and organizations.
func grEnv(t *testing.T) (*fxEnv, *kms.IdentityPolicies, *kms.Organizations) {
	ip, orgs := kms.NewIdentityPolicies(), kms.NewOrganizations()
	return fxNew(t, kms.WithIdentityPolicies(ip), kms.WithOrganizations(orgs)), ip, orgs
}

// idDeny is a policy that allows everything but denies actions.
func idDeny(actions ...string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
	 {"Effect":"Deny","Action":["` + strings.Join(actions, `","`) + `"],"Resource":"*"}]}`
}

// D62: a permissions boundary bounds what identity-based policies allow,
// and a Deny in it denies; removing it lifts the bound.
func TestGuardPermissionsBoundary(t *testing.T) {
	e, ip := idEnv(t)
	id, arn := e.symmetric()
	idPut(t, ip, pzAlice, "use", idAllow("*", "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"))
	grMust(t, ip.PutPermissionsBoundary(pzAlice, idAllow("*", "kms:Encrypt", "kms:DescribeKey")))
	ct, err := e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	if err != nil {
		t.Fatalf("allowed by both: %v", err)
	}
	dec := &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob}
	_, err = e.s.Decrypt(e.as2(pzAlice), dec)
	grDenied(t, err, pzAlice, "kms:Decrypt", arn, "because no permissions boundary allows the kms:Decrypt action")
	// The boundary allows nothing by itself.
	_, err = e.s.GenerateRandom(e.as2(pzAlice), &kms.GenerateRandomInput{NumberOfBytes: kms.Int32(8)})
	idDenied(t, err, pzAlice, "kms:GenerateRandom", "*", false)

	grMust(t, ip.PutPermissionsBoundary(pzAlice, idDeny("kms:Encrypt")))
	_, err = e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	grDenied(t, err, pzAlice, "kms:Encrypt", arn, "with an explicit deny in a permissions boundary")
	if _, err := e.s.Decrypt(e.as2(pzAlice), dec); err != nil {
		t.Fatalf("the new boundary allows Decrypt: %v", err)
	}
	grMust(t, ip.DeletePermissionsBoundary(pzAlice))
	if _, err := e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("without a boundary: %v", err)
	}
	// A role's boundary bounds its sessions.
	idPut(t, ip, pzApp, "use", idAllow("*", "kms:Encrypt", "kms:Decrypt"))
	grMust(t, ip.PutPermissionsBoundary(pzApp, idAllow("*", "kms:Encrypt")))
	_, err = e.s.Decrypt(e.as2(pzSession), dec)
	grDenied(t, err, pzSession, "kms:Decrypt", arn, "because no permissions boundary allows the kms:Decrypt action")
}

// D62, after the IAM User Guide ("Permissions boundaries for IAM
// entities"): a key-policy Allow that names an IAM user, or a session by
// its own ARN, is not bounded; one that names the session's role is.
func TestGuardBoundaryDirectKeyPolicy(t *testing.T) {
	e, ip := idEnv(t)
	allow := func(principal, action string) string {
		return `{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"` + action + `","Resource":"*"}`
	}
	id, arn := idKey(t, e, idRootAnd(allow(pzAlice, "kms:Encrypt"), allow(pzApp, "kms:Encrypt"), allow(pzSession, "kms:DescribeKey")))
	only := idAllow("*", "kms:GenerateRandom")
	grMust(t, ip.PutPermissionsBoundary(pzAlice, only))
	grMust(t, ip.PutPermissionsBoundary(pzApp, only))
	if _, err := e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("a user named in the key policy: %v", err)
	}
	_, err := e.s.Encrypt(e.as2(pzSession), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	grDenied(t, err, pzSession, "kms:Encrypt", arn, "because no permissions boundary allows the kms:Encrypt action")
	if _, err := e.s.DescribeKey(e.as2(pzSession), &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatalf("a session named by its own ARN: %v", err)
	}
	// A Deny in the boundary denies even what the key policy names.
	grMust(t, ip.PutPermissionsBoundary(pzAlice, idDeny("kms:Encrypt")))
	_, err = e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	grDenied(t, err, pzAlice, "kms:Encrypt", arn, "with an explicit deny in a permissions boundary")
}

// D62, after the IAM User Guide: a key-policy Deny with NotPrincipal
// denies every caller with a permissions boundary, whatever NotPrincipal
// names.
func TestGuardNotPrincipalDeny(t *testing.T) {
	e, ip := idEnv(t)
	id, arn := idKey(t, e, idRootAnd(`{"Effect":"Deny","NotPrincipal":{"AWS":["`+pzAlice+`","`+pzRoot+`"]},"Action":"kms:DescribeKey","Resource":"*"}`))
	idPut(t, ip, pzAlice, "use", idAllow("*", "kms:DescribeKey"))
	if _, err := e.s.DescribeKey(e.as2(pzAlice), &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatalf("alice, whom NotPrincipal names: %v", err)
	}
	grMust(t, ip.PutPermissionsBoundary(pzAlice, idAllow("*", "kms:*")))
	_, err := e.s.DescribeKey(e.as2(pzAlice), &kms.DescribeKeyInput{KeyId: id})
	pzDenied(t, err, pzAlice, "kms:DescribeKey", arn, true)
}

// D62: a session policy bounds one session, as a boundary bounds its
// role, and does not bound a key-policy Allow that names the session.
func TestGuardSessionPolicy(t *testing.T) {
	e, ip := idEnv(t)
	id, arn := idKey(t, e, idRootAnd(`{"Effect":"Allow","Principal":{"AWS":"`+pzSession+`"},"Action":"kms:DescribeKey","Resource":"*"}`))
	idPut(t, ip, pzApp, "use", idAllow("*", "kms:Encrypt", "kms:GenerateDataKey"))
	grMust(t, ip.PutSessionPolicy(pzSession, idAllow(arn, "kms:Encrypt")))
	other := "arn:aws:sts::111122223333:assumed-role/app/s2"
	if _, err := e.s.Encrypt(e.as2(pzSession), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("allowed by the role and the session policy: %v", err)
	}
	_, err := e.s.GenerateDataKey(e.as2(pzSession), &kms.GenerateDataKeyInput{KeyId: id, NumberOfBytes: kms.Int32(32)})
	grDenied(t, err, pzSession, "kms:GenerateDataKey", arn, "because no session policy allows the kms:GenerateDataKey action")
	if _, err := e.s.GenerateDataKey(e.as2(other), &kms.GenerateDataKeyInput{KeyId: id, NumberOfBytes: kms.Int32(32)}); err != nil {
		t.Fatalf("another session of the role: %v", err)
	}
	if _, err := e.s.DescribeKey(e.as2(pzSession), &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatalf("the key policy names the session: %v", err)
	}
	grMust(t, ip.PutSessionPolicy(pzSession, idDeny("kms:Encrypt")))
	_, err = e.s.Encrypt(e.as2(pzSession), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	grDenied(t, err, pzSession, "kms:Encrypt", arn, "with an explicit deny in a session policy")
	grMust(t, ip.DeleteSessionPolicy(pzSession))
	if _, err := e.s.GenerateDataKey(e.as2(pzSession), &kms.GenerateDataKeyInput{KeyId: id, NumberOfBytes: kms.Int32(32)}); err != nil {
		t.Fatalf("without the session policy: %v", err)
	}
}

// D62: grants are bounded by neither a permissions boundary nor a session
// policy, but a Deny in either denies, and service control policies bound
// them too.
func TestGuardGrants(t *testing.T) {
	e, ip, orgs := grEnv(t)
	id, arn := e.symmetric()
	if _, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzApp, Operations: []string{"DescribeKey", "Encrypt"}}); err != nil {
		t.Fatal(err)
	}
	grMust(t, ip.PutPermissionsBoundary(pzApp, idAllow("*", "kms:GenerateRandom")))
	grMust(t, ip.PutSessionPolicy(pzSession, idAllow("*", "kms:GenerateRandom")))
	if _, err := e.s.DescribeKey(e.as2(pzSession), &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatalf("a grant, with a boundary and a session policy: %v", err)
	}
	grMust(t, ip.PutSessionPolicy(pzSession, idDeny("kms:DescribeKey")))
	_, err := e.s.DescribeKey(e.as2(pzSession), &kms.DescribeKeyInput{KeyId: id})
	grDenied(t, err, pzSession, "kms:DescribeKey", arn, "with an explicit deny in a session policy")
	grMust(t, orgs.PutServiceControlPolicy("111122223333", "describe-only", idAllow("*", "kms:DescribeKey")))
	_, err = e.s.Encrypt(e.as2(pzSession), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	grDenied(t, err, pzSession, "kms:Encrypt", arn, "because no service control policy allows the kms:Encrypt action")
}

// D62 with spec §2.3: the lockout check counts the caller's bounds, and
// RetireGrant is refused by a service control policy's Deny.
func TestGuardLockoutAndRetire(t *testing.T) {
	e, ip, orgs := grEnv(t)
	named := idRootAnd(`{"Effect":"Allow","Principal":{"AWS":"` + pzAlice + `"},"Action":"kms:PutKeyPolicy","Resource":"*"}`)
	id, arn := idKey(t, e, named)
	idPut(t, ip, pzAlice, "all", idAllow("*", "kms:*"))
	grMust(t, ip.PutPermissionsBoundary(pzAlice, idAllow("*", "kms:Describe*")))
	// The key policy names alice: her boundary does not bound this call,
	// but a policy that only delegates to her account would leave her
	// PutKeyPolicy outside it.
	_, err := e.s.PutKeyPolicy(e.as2(pzAlice), &kms.PutKeyPolicyInput{KeyId: id, Policy: idRootAnd()[:len(idRootAnd())-2] + "]}"})
	if !errors.Is(err, keystate.ErrMalformedPolicyDocument) {
		t.Fatalf("a policy that locks alice out: %v", err)
	}
	if _, err := e.s.PutKeyPolicy(e.as2(pzAlice), &kms.PutKeyPolicyInput{KeyId: id, Policy: named}); err != nil {
		t.Fatalf("a policy that still names alice: %v", err)
	}
	g, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzApp, RetiringPrincipal: pzApp, Operations: []string{"Encrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	grMust(t, orgs.PutServiceControlPolicy("111122223333", "no-retire", idDeny("kms:RetireGrant")))
	_, err = e.s.RetireGrant(e.as2(pzSession), &kms.RetireGrantInput{KeyId: arn, GrantId: g.GrantId})
	grDenied(t, err, pzSession, "kms:RetireGrant", arn, "with an explicit deny in a service control policy")
	grMust(t, orgs.DeleteServiceControlPolicy("111122223333", "no-retire"))
	if _, err := e.s.RetireGrant(e.as2(pzSession), &kms.RetireGrantInput{KeyId: arn, GrantId: g.GrantId}); err != nil {
		t.Fatalf("the retiring principal, without the SCP: %v", err)
	}
}

// The guard rails' registry: what it refuses (changing nothing), and
// reading back.
func TestGuardRegistry(t *testing.T) {
	ip := kms.NewIdentityPolicies()
	doc := idAllow("*", "kms:Encrypt")
	for _, c := range []struct {
		name string
		err  error
		code error
	}{
		{"boundary on a group", ip.PutPermissionsBoundary("arn:aws:iam::111122223333:group/dev", doc), keystate.ErrValidation},
		{"boundary on a session", ip.PutPermissionsBoundary(pzSession, doc), keystate.ErrValidation},
		{"boundary not JSON", ip.PutPermissionsBoundary(pzAlice, "{"), keystate.ErrMalformedPolicyDocument},
		{"no boundary to delete", ip.DeletePermissionsBoundary(pzAlice), keystate.ErrNotFound},
		{"session policy on a user", ip.PutSessionPolicy(pzAlice, doc), keystate.ErrValidation},
		{"no session policy to delete", ip.DeleteSessionPolicy(pzSession), keystate.ErrNotFound},
	} {
		if !errors.Is(c.err, c.code) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.code)
		}
	}
	grMust(t, ip.PutPermissionsBoundary("arn:aws:iam::111122223333:role/team/app", doc))
	grMust(t, ip.PutSessionPolicy("arn:aws:sts::111122223333:federated-user/carol", doc))
	for _, read := range []func() (string, error){
		func() (string, error) { return ip.PermissionsBoundary(pzApp) }, // the same role, without its path
		func() (string, error) { return ip.SessionPolicy("arn:aws:sts::111122223333:federated-user/carol") },
	} {
		text, err := read()
		if err != nil || !strings.Contains(text, `"kms:Encrypt"`) {
			t.Fatalf("read back %q, %v", text, err)
		}
	}
}

// D62 as a property: a caller on a key whose policy delegates to its
// account is allowed exactly the actions that its identity-based policy,
// its permissions boundary, its session policy and its account's service
// control policies all allow, whichever of them exist; and a Deny in any
// of them denies.
func TestPropertyGuardsIntersect(t *testing.T) {
	actions := []string{"kms:Encrypt", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListResourceTags"}
	rapid.Check(t, func(rt *rapid.T) {
		e, ip, orgs := grEnv(t)
		id, arn := e.symmetric()
		subset := func(label string) []string {
			return rapid.SliceOfDistinct(rapid.SampledFrom(actions), func(a string) string { return a }).Draw(rt, label)
		}
		allowed := map[string]bool{}
		for _, a := range actions {
			allowed[a] = true
		}
		limit := func(label string, put func(doc string) error) {
			if !rapid.Bool().Draw(rt, label+"?") {
				return
			}
			acts := subset(label)
			for _, a := range actions {
				allowed[a] = allowed[a] && slices.Contains(acts, a)
			}
			doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}`
			if len(acts) > 0 {
				doc = idAllow("*", acts...)
			}
			if err := put(doc); err != nil {
				rt.Fatal(err)
			}
		}
		idActs := subset("identity")
		if len(idActs) > 0 {
			if err := ip.Put(pzApp, "id", idAllow("*", idActs...)); err != nil {
				rt.Fatal(err)
			}
		}
		for _, a := range actions {
			allowed[a] = allowed[a] && slices.Contains(idActs, a)
		}
		limit("boundary", func(d string) error { return ip.PutPermissionsBoundary(pzApp, d) })
		limit("session", func(d string) error { return ip.PutSessionPolicy(pzSession, d) })
		limit("scp", func(d string) error { return orgs.PutServiceControlPolicy("111122223333", "scp", d) })
		ctx := e.as2(pzSession)
		for _, a := range actions {
			var err error
			switch a {
			case "kms:Encrypt":
				_, err = e.s.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
			case "kms:DescribeKey":
				_, err = e.s.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
			case "kms:GetKeyPolicy":
				_, err = e.s.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: id})
			case "kms:ListResourceTags":
				_, err = e.s.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: id})
			}
			if allowed[a] != (err == nil) {
				rt.Fatalf("%s on %s: allowed %v, want %v (err %v)", a, arn, err == nil, allowed[a], err)
			}
			if err != nil && !errors.Is(err, keystate.ErrAccessDenied) {
				rt.Fatalf("%s: %v", a, err)
			}
		}
	})
}
