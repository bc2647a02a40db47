package kms_test

import (
	"errors"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// The principal existence check (decision D66; spec P2, §2.2): once the
// program says which IAM users and roles exist, a key policy or a grant
// that names another is refused, with AWS's recorded message for a key
// policy; accounts, "*" and service principals are not checked.
func TestPrincipalExistence(t *testing.T) {
	e, ip := idEnv(t)
	id, arn := e.symmetric()
	naming := func(principal string) string {
		return idRootAnd(`{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"kms:Encrypt","Resource":"*"}`)
	}
	const ghost = "arn:aws:iam::111122223333:role/not-yet"
	// Before any principal is created, every one is taken to exist.
	if _, err := e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: naming(ghost)}); err != nil {
		t.Fatalf("no registry yet: %v", err)
	}
	grMust(t, ip.CreatePrincipal(pzApp))
	_, err := e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: naming(ghost)})
	var ke *keystate.Error
	if !errors.As(err, &ke) || !errors.Is(err, keystate.ErrMalformedPolicyDocument) ||
		ke.Message != "Policy contains a statement with one or more invalid principals." {
		t.Fatalf("a role that does not exist: %v", err)
	}
	_, err = e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Policy: naming(ghost)})
	if !errors.Is(err, keystate.ErrMalformedPolicyDocument) {
		t.Fatalf("CreateKey naming a role that does not exist: %v", err)
	}
	for _, ok := range []string{pzApp, pzSession, pzAlice /* has a policy below */, "arn:aws:iam::444455556666:root", "*"} {
		if ok == pzAlice {
			idPut(t, ip, pzAlice, "use", idAllow("*", "kms:Encrypt"))
		}
		p := naming(ok)
		if ok == "*" {
			p = idRootAnd(`{"Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*"}`)
		}
		if _, err := e.s.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: p}); err != nil {
			t.Fatalf("%s: %v", ok, err)
		}
	}
	_, err = e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: ghost, Operations: []string{"Encrypt"}})
	if !errors.Is(err, keystate.ErrValidation) {
		t.Fatalf("a grant to a role that does not exist: %v", err)
	}
	if _, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzApp, RetiringPrincipal: pzSession, Operations: []string{"Encrypt"}}); err != nil {
		t.Fatalf("a grant to an existing role: %v", err)
	}
	grMust(t, ip.DeletePrincipal(pzApp))
	_, err = e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: arn, GranteePrincipal: pzApp, Operations: []string{"Decrypt"}})
	if !errors.Is(err, keystate.ErrValidation) {
		t.Fatalf("a grant to a deleted role: %v", err)
	}
	for _, c := range []struct {
		name string
		err  error
		code error
	}{
		{"create a group", ip.CreatePrincipal("arn:aws:iam::111122223333:group/dev"), keystate.ErrValidation},
		{"create a session", ip.CreatePrincipal(pzSession), keystate.ErrValidation},
		{"delete twice", ip.DeletePrincipal(pzApp), keystate.ErrNotFound},
	} {
		if !errors.Is(c.err, c.code) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.code)
		}
	}
}
