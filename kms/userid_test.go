package kms_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/policy"
	"github.com/kmsmodel/kmsmodel/store"
)

// aws:userid (decision D77; spec aws-kms-policies-grants.md §5.2: a
// standard IAM request-context key, usable as a policy variable; §8: a
// role's unique ID has the form AROA…): the
// account ID for a root, a user's unique ID, a role's unique ID and the
// session name for an assumed-role session. The common use: a key policy
// that admits a role by its unique ID, so that a role deleted and created
// again under the same name (which IAM gives a new ID) is no longer let
// in.
func TestDecisionD77UserID(t *testing.T) {
	e, ip := idEnv(t)
	grMust(t, ip.CreatePrincipal(pzApp))
	grMust(t, ip.CreatePrincipal(pzAlice))
	for _, p := range []string{pzApp, pzAlice} {
		idPut(t, ip, p, "use", idAllow("*", "kms:Encrypt"))
	}
	session, err := ip.UserID(pzSession)
	grMust(t, err)
	roleID, ok := strings.CutSuffix(session, ":s1")
	if !ok || len(roleID) != 21 || !strings.HasPrefix(roleID, "AROA") || strings.Trim(roleID, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Fatalf("UserID(%s) = %q, want AROA and 17 of A-Z2-7, then :s1", pzSession, session)
	}
	if got, err := ip.UserID(pzApp); err != nil || got != roleID {
		t.Fatalf("UserID(role) = %q, %v; want its sessions' role ID %q", got, err, roleID)
	}
	alice, _ := ip.UserID(pzAlice)
	if !strings.HasPrefix(alice, "AIDA") || len(alice) != 21 {
		t.Fatalf("UserID(user) = %q, want AIDA and 17 characters", alice)
	}
	for arn, want := range map[string]string{pzRoot: "111122223333", "arn:aws:sts::111122223333:federated-user/bob": "111122223333:bob"} {
		if got, err := ip.UserID(arn); err != nil || got != want {
			t.Errorf("UserID(%s) = %q, %v; want %q", arn, got, err, want)
		}
	}
	if _, err := ip.UserID("arn:aws:iam::111122223333:group/dev"); err == nil {
		t.Error("UserID of a group: no error")
	}

	// Deny every Encrypt but the role's sessions' and the root's.
	id, arn := idKey(t, e, idRootAnd(`{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*",
		"Condition":{"StringNotLike":{"aws:userid":["`+roleID+`:*","111122223333"]}}}`))
	encrypt := func(principal string) error {
		_, err := e.s.Encrypt(e.as2(principal), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		return err
	}
	for _, p := range []string{pzSession, "arn:aws:sts::111122223333:assumed-role/app/other", pzRoot} {
		if err := encrypt(p); err != nil {
			t.Fatalf("%s, admitted by aws:userid: %v", p, err)
		}
	}
	pzDenied(t, encrypt(pzAlice), pzAlice, "kms:Encrypt", arn, true)

	// The role deleted and created again: a new unique ID, which the key
	// policy does not name.
	grMust(t, ip.DeletePrincipal(pzApp))
	grMust(t, ip.CreatePrincipal(pzApp))
	idPut(t, ip, pzApp, "use", idAllow("*", "kms:Encrypt"))
	again, _ := ip.UserID(pzSession)
	if again == session || !strings.HasPrefix(again, "AROA") || !strings.HasSuffix(again, ":s1") {
		t.Fatalf("UserID after the role was created again = %q (was %q), want a new role ID", again, session)
	}
	pzDenied(t, encrypt(pzSession), pzSession, "kms:Encrypt", arn, true)
	if got, _ := ip.UserID(pzAlice); got != alice {
		t.Errorf("another principal's ID changed: %q, was %q", got, alice)
	}
}

// D77 without identity-based policies: aws:userid is policy.UserID of the
// caller's first generation, and ${aws:userid} works as a policy variable
// (D65): here each caller may encrypt only under an encryption context
// whose "owner" is its own aws:userid.
func TestDecisionD77UserIDVariable(t *testing.T) {
	e := fxNew(t)
	id, arn := idKey(t, e, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"`+pzRoot+`"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*",
		 "Condition":{"StringNotEquals":{"kms:EncryptionContext:owner":"${aws:userid}"}}}]}`)
	want, ok := policy.UserID(policy.MustParsePrincipal(pzSession), 0)
	if !ok {
		t.Fatal("policy.UserID of a session: none")
	}
	encrypt := func(principal, owner string) error {
		_, err := e.s.Encrypt(e.as2(principal), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x"),
			EncryptionContext: map[string]string{"owner": owner}})
		return err
	}
	if err := encrypt(pzSession, want); err != nil {
		t.Fatalf("the session under its own aws:userid %q: %v", want, err)
	}
	pzDenied(t, encrypt(pzSession, "AROAOTHER:s1"), pzSession, "kms:Encrypt", arn, true)
	if err := encrypt(pzRoot, "111122223333"); err != nil {
		t.Fatalf("the root under its account ID: %v", err)
	}
}

// D78 (spec §8: "A deleted role's ARN in an existing policy or grant shows
// up as its unique ID (AROA…)"): a key policy and a grant are bound to the
// users and roles they name as they are when written. Once one is
// deleted, the statement or grant no longer covers it, nor a user or role
// created again under its name, and GetKeyPolicy and ListGrants show it
// by its old unique ID; a policy written again binds to the new one.
func TestDecisionD78DeletedPrincipals(t *testing.T) {
	e, ip := idEnv(t)
	for _, p := range []string{pzApp, pzAlice} {
		grMust(t, ip.CreatePrincipal(p))
	}
	oldRole, _ := ip.UserID(pzApp)
	oldAlice, _ := ip.UserID(pzAlice)
	text := idRootAnd(`{"Effect":"Allow","Principal":{"AWS":["` + pzApp + `","` + pzAlice + `"]},"Action":"kms:Encrypt","Resource":"*"}`)
	id, arn := idKey(t, e, text)
	grantKey, _ := e.symmetric()
	g, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: grantKey, GranteePrincipal: pzApp, RetiringPrincipal: pzAlice,
		Operations: []string{"Encrypt"}})
	grMust(t, err)
	encrypt := func(key, principal string) error {
		_, err := e.s.Encrypt(e.as2(principal), &kms.EncryptInput{KeyId: key, Plaintext: []byte("x")})
		return err
	}
	shown := func() string {
		out, err := e.s.GetKeyPolicy(e.ctx, &kms.GetKeyPolicyInput{KeyId: id})
		grMust(t, err)
		return out.Policy
	}
	grantee := func() (string, string) {
		out, err := e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: grantKey})
		grMust(t, err)
		if len(out.Grants) != 1 {
			t.Fatalf("ListGrants: %d grants", len(out.Grants))
		}
		return out.Grants[0].GranteePrincipal, out.Grants[0].RetiringPrincipal
	}
	before := shown()
	for _, k := range []string{id, grantKey} {
		if err := encrypt(k, pzSession); err != nil {
			t.Fatalf("the role's session, before: %v", err)
		}
	}

	grMust(t, ip.DeletePrincipal(pzApp))
	grMust(t, ip.CreatePrincipal(pzApp)) // a namesake
	// The key policy's Allow and the grant no longer cover the role: the
	// root's statement delegates to IAM, which allows nothing here.
	idDenied(t, encrypt(id, pzSession), pzSession, "kms:Encrypt", arn, false)
	if err := encrypt(grantKey, pzSession); !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("the grant to the deleted role: %v, want AccessDeniedException", err)
	}
	if err := encrypt(id, pzAlice); err != nil {
		t.Fatalf("alice, not deleted: %v", err)
	}
	want := strings.Replace(before, `"`+pzApp+`"`, `"`+oldRole+`"`, 1)
	if got := shown(); got != want || got == before {
		t.Fatalf("GetKeyPolicy after the role's deletion:\n%s\nwant the role by its old ID %s:\n%s", got, oldRole, want)
	}
	if ge, re := grantee(); ge != oldRole || re != pzAlice {
		t.Fatalf("ListGrants: grantee %q, retiring %q; want %q and %q", ge, re, oldRole, pzAlice)
	}

	// Alice, the retiring principal, deleted too: she can no longer
	// retire the grant, and is shown by her old ID.
	grMust(t, ip.DeletePrincipal(pzAlice))
	grMust(t, ip.CreatePrincipal(pzAlice))
	_, err = e.s.RetireGrant(e.as2(pzAlice), &kms.RetireGrantInput{KeyId: grantKey, GrantId: g.GrantId})
	if !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("RetireGrant by the deleted retiring principal's namesake: %v", err)
	}
	if ge, re := grantee(); ge != oldRole || re != oldAlice {
		t.Fatalf("ListGrants: grantee %q, retiring %q; want %q and %q", ge, re, oldRole, oldAlice)
	}

	// The text GetKeyPolicy shows names a unique ID, which is no principal
	// kmsmodel takes (D78).
	_, err = e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: shown()})
	if !errors.Is(err, keystate.ErrMalformedPolicyDocument) {
		t.Fatalf("PutKeyPolicy of the text naming %s: %v", oldRole, err)
	}
	// The same policy written again binds to the principals as they are.
	_, err = e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: text})
	grMust(t, err)
	if err := encrypt(id, pzSession); err != nil {
		t.Fatalf("the role's session under the policy written again: %v", err)
	}
	if got := shown(); got != before {
		t.Fatalf("GetKeyPolicy after the policy was written again:\n%s", got)
	}
}

// D78: a service reopened on a store binds the grants it loads to the
// principals as they are then, so a grantee deleted afterwards is shut
// out there as in the service that made the grant.
func TestDecisionD78ReopenedGrant(t *testing.T) {
	ctx := context.Background()
	ip := kms.NewIdentityPolicies()
	grMust(t, ip.CreatePrincipal(pzApp))
	grMust(t, ip.CreatePrincipal(pzAlice))
	st := store.NewMemory()
	s, err := kms.Open(ctx, st, kms.WithIdentityPolicies(ip))
	grMust(t, err)
	k, err := s.CreateKey(ctx, &kms.CreateKeyInput{})
	grMust(t, err)
	id := k.KeyMetadata.KeyId
	_, err = s.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzApp, Operations: []string{"Encrypt"}})
	grMust(t, err)
	s2, err := kms.Open(ctx, st, kms.WithIdentityPolicies(ip))
	grMust(t, err)
	encrypt := func(s *kms.Service) error {
		_, err := s.Encrypt(kms.WithPrincipal(ctx, pzSession), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		return err
	}
	grMust(t, encrypt(s2))
	grMust(t, ip.DeletePrincipal(pzApp))
	grMust(t, ip.CreatePrincipal(pzApp))
	if encrypt(s) == nil {
		t.Errorf("original service: namesake allowed")
	}
	if encrypt(s2) == nil {
		t.Errorf("reopened service: the grant to the deleted role still lets its namesake's session encrypt")
	}
	l, err := s2.ListGrants(ctx, &kms.ListGrantsInput{KeyId: id})
	grMust(t, err)
	if l.Grants[0].GranteePrincipal == pzApp {
		t.Errorf("reopened service: ListGrants still shows %s", pzApp)
	}
	// ListRetirableGrants no longer lists a grant for a deleted retiring
	// principal's namesake, who cannot retire it.
	g, err := s2.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzAlice, RetiringPrincipal: pzApp, Operations: []string{"Encrypt"}})
	grMust(t, err)
	listed := func() int {
		out, err := s2.ListRetirableGrants(ctx, &kms.ListRetirableGrantsInput{RetiringPrincipal: pzApp})
		grMust(t, err)
		return len(out.Grants)
	}
	if n := listed(); n != 1 {
		t.Fatalf("ListRetirableGrants before: %d grants", n)
	}
	grMust(t, ip.DeletePrincipal(pzApp))
	grMust(t, ip.CreatePrincipal(pzApp))
	if n := listed(); n != 0 {
		t.Errorf("ListRetirableGrants for the deleted retiring principal's namesake: %d grants (%s)", n, g.GrantId)
	}
}

// D78 under eventual consistency: a caller that still sees the previous
// key policy (D42) is judged by that policy's binding, not by none.
func TestDecisionD78ECPreviousPolicy(t *testing.T) {
	ip := kms.NewIdentityPolicies()
	grMust(t, ip.CreatePrincipal(pzApp))
	grMust(t, ip.CreatePrincipal(pzAlice))
	e := ecNew(t, ecModel(ecWindow), kms.WithIdentityPolicies(ip))
	id, _ := idKey(t, e, idRootAnd(`{"Effect":"Allow","Principal":{"AWS":"`+pzApp+`"},"Action":"kms:Encrypt","Resource":"*"}`))
	e.s.Propagate()
	encrypt := func() error {
		_, err := e.s.Encrypt(e.as2(pzSession), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		return err
	}
	grMust(t, encrypt())
	grMust(t, ip.DeletePrincipal(pzApp))
	grMust(t, ip.CreatePrincipal(pzApp))
	if encrypt() == nil {
		t.Fatal("namesake allowed before PutKeyPolicy")
	}
	_, err := e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: idRootAnd(`{"Effect":"Allow","Principal":{"AWS":"` + pzAlice + `"},"Action":"kms:Encrypt","Resource":"*"}`)})
	grMust(t, err)
	if encrypt() == nil {
		t.Errorf("during the window: the previous policy, unbound, lets the deleted role's namesake encrypt")
	}
}
