package kms_test

import (
	"errors"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// Calls made by AWS service principals on behalf of a resource (decision
// D61; spec §5.2, §8, P19).

const (
	scLogs     = "logs.us-east-1.amazonaws.com"
	scLogGroup = "arn:aws:logs:us-east-1:111122223333:log-group:app"
)

// A key policy statement for the service principal, with the
// aws:SourceArn and aws:SourceAccount conditions AWS recommends, allows
// the service's calls for the named resources only; the default key
// policy allows none.
func TestServicePrincipalKeyPolicy(t *testing.T) {
	e, _ := idEnv(t) // identity-based policies do not apply to service principals
	doc := idRootAnd(`{"Effect":"Allow","Principal":{"Service":"` + scLogs + `"},"Action":["kms:Encrypt*","kms:GenerateDataKey*","kms:Decrypt","kms:Describe*"],"Resource":"*",
	  "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:logs:us-east-1:111122223333:log-group:*"},"StringEquals":{"aws:SourceAccount":"111122223333"}}}`)
	id, arn := idKey(t, e, doc)
	logs := kms.WithServicePrincipal(e.ctx, scLogs, scLogGroup, "111122223333")
	dk, err := e.s.GenerateDataKey(logs, &kms.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256"})
	if err != nil {
		t.Fatalf("the log group's data key: %v", err)
	}
	if _, err := e.s.Decrypt(logs, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob}); err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	_, err = e.s.Encrypt(kms.WithServicePrincipal(e.ctx, scLogs, scLogGroup, "444455556666"), &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")})
	pzDenied(t, err, scLogs, "kms:Encrypt", arn, false)
	_, err = e.s.Encrypt(kms.WithServicePrincipal(e.ctx, scLogs, "arn:aws:sns:us-east-1:111122223333:topic", "111122223333"), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	pzDenied(t, err, scLogs, "kms:Encrypt", arn, false)
	_, err = e.s.Encrypt(kms.WithServicePrincipal(e.ctx, "sns.amazonaws.com", scLogGroup, "111122223333"), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	pzDenied(t, err, "sns.amazonaws.com", "kms:Encrypt", arn, false)
	_, err = e.s.DisableKey(logs, &kms.DisableKeyInput{KeyId: id})
	pzDenied(t, err, scLogs, "kms:DisableKey", arn, false)

	plainID, plainARN := e.symmetric()
	_, err = e.s.Encrypt(logs, &kms.EncryptInput{KeyId: plainID, Plaintext: []byte("x")})
	pzDenied(t, err, scLogs, "kms:Encrypt", plainARN, false)
}

// D55 with D61: a grant to a service principal with a SourceArn
// constraint allows the service's calls for that resource, and no other
// call; the retiring service principal retires it.
func TestServicePrincipalGrant(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	g, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteeServicePrincipal: scLogs,
		RetiringServicePrincipal: scLogs, Operations: []string{"Encrypt", "Decrypt"}, Constraints: &kms.GrantConstraints{SourceArn: scLogGroup}})
	if err != nil {
		t.Fatal(err)
	}
	logs := kms.WithServicePrincipal(e.ctx, scLogs, scLogGroup, "111122223333")
	if _, err := e.s.Encrypt(logs, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("the grant's service for its resource: %v", err)
	}
	other := kms.WithServicePrincipal(e.ctx, scLogs, scLogGroup+"-2", "111122223333")
	_, err = e.s.Encrypt(other, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	pzDenied(t, err, scLogs, "kms:Encrypt", arn, false)
	_, err = e.s.GenerateDataKey(logs, &kms.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256"})
	pzDenied(t, err, scLogs, "kms:GenerateDataKey", arn, false)
	if _, err := e.s.RetireGrant(logs, &kms.RetireGrantInput{KeyId: arn, GrantId: g.GrantId}); err != nil {
		t.Fatalf("RetireGrant by the retiring service principal: %v", err)
	}
	_, err = e.s.Encrypt(logs, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	pzDenied(t, err, scLogs, "kms:Encrypt", arn, false)
}

// WithServicePrincipal's refusals (D61), before anything else.
func TestServicePrincipalValidation(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	bad := []struct{ name, service, source, account string }{
		{"service name", "Logs.amazonaws.com", scLogGroup, "111122223333"},
		{"not a service principal", "arn:aws:iam::111122223333:root", scLogGroup, "111122223333"},
		{"source ARN", scLogs, "log-group:app", "111122223333"},
		{"source account", scLogs, scLogGroup, "1111"},
	}
	for _, c := range bad {
		_, err := e.s.Encrypt(kms.WithServicePrincipal(e.ctx, c.service, c.source, c.account), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.Encrypt, AnyMsg: true})
	}
	// The principal given last makes the call.
	rec := &fxRecorder{}
	e = fxNew(t, kms.WithObserver(rec))
	id, _ = e.symmetric()
	_, err := e.s.Encrypt(kms.WithServicePrincipal(e.as2(pzApp), scLogs, scLogGroup, "111122223333"), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	if !errors.Is(err, keystate.ErrAccessDenied) || rec.events[len(rec.events)-1].Principal != scLogs {
		t.Fatalf("WithServicePrincipal after WithPrincipal: %v, principal %q", err, rec.events[len(rec.events)-1].Principal)
	}
	if _, err := e.s.Encrypt(kms.WithPrincipal(kms.WithServicePrincipal(e.ctx, scLogs, scLogGroup, "111122223333"), pzApp),
		&kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("WithPrincipal after WithServicePrincipal: %v", err)
	}
}

// D61: a service principal has no identity-based policies, so the
// operations on no key, which they alone allow (spec §3.2 rule 6), are
// refused to it.
func TestServicePrincipalNoKeyOperations(t *testing.T) {
	e := fxNew(t)
	logs := kms.WithServicePrincipal(e.ctx, scLogs, scLogGroup, "111122223333")
	_, err := e.s.CreateKey(logs, &kms.CreateKeyInput{})
	idDenied(t, err, scLogs, "kms:CreateKey", "*", false)
	_, err = e.s.ListKeys(logs, &kms.ListKeysInput{})
	idDenied(t, err, scLogs, "kms:ListKeys", "*", false)
	_, err = e.s.CreateAlias(logs, &kms.CreateAliasInput{AliasName: "alias/x", TargetKeyId: "1234abcd-12ab-34cd-56ef-1234567890ab"})
	idDenied(t, err, scLogs, "kms:CreateAlias", "arn:aws:kms:us-east-1:111122223333:alias/x", false)
}
