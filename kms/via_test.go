package kms_test

import (
	"errors"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// D60 (spec §5.1, §5.2): a call made through an AWS service carries
// kms:ViaService and aws:ViaAWSService, for key policies and
// identity-based policies alike; a name of the wrong form is refused.
func TestViaService(t *testing.T) {
	e, ip := idEnv(t)
	const sm = "secretsmanager.us-east-1.amazonaws.com"
	doc := idRootAnd(`{"Effect":"Allow","Principal":{"AWS":"` + pzApp + `"},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*",
	  "Condition":{"StringEquals":{"kms:ViaService":"` + sm + `"}}}`)
	id, arn := idKey(t, e, doc)
	plain := &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}
	_, err := e.s.Encrypt(e.as2(pzSession), plain)
	idDenied(t, err, pzSession, "kms:Encrypt", arn, false) // the key policy delegates; no identity-based policy
	if _, err := e.s.Encrypt(kms.WithViaService(e.as2(pzSession), sm), plain); err != nil {
		t.Fatalf("via Secrets Manager: %v", err)
	}
	_, err = e.s.Encrypt(kms.WithViaService(e.as2(pzSession), "s3.us-east-1.amazonaws.com"), plain)
	idDenied(t, err, pzSession, "kms:Encrypt", arn, false)

	// An identity-based policy that denies use outside AWS services.
	idPut(t, ip, pzAlice, "only-via-services", `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"kms:*","Resource":"*"},
	 {"Effect":"Deny","Action":"kms:Encrypt","Resource":"*","Condition":{"BoolIfExists":{"aws:ViaAWSService":"false"}}}]}`)
	_, err = e.s.Encrypt(e.as2(pzAlice), plain)
	idDenied(t, err, pzAlice, "kms:Encrypt", arn, true)
	if _, err := e.s.Encrypt(kms.WithViaService(e.as2(pzAlice), "s3.us-east-1.amazonaws.com"), plain); err != nil {
		t.Fatalf("alice via S3: %v", err)
	}

	for _, bad := range []string{"s3.amazonaws.com", "S3.us-east-1.amazonaws.com", "s3.us-east-1.example.com", ".us-east-1.amazonaws.com", ""} {
		_, err := e.s.Encrypt(kms.WithViaService(e.ctx, bad), plain)
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.Encrypt, AnyMsg: true})
	}
	if _, err := e.s.Encrypt(kms.WithViaService(e.ctx, "s3.cn-north-1.amazonaws.com.cn"), plain); err != nil {
		t.Fatalf("a China Region name: %v", err)
	}
}

// D64 with spec §5.2 (aws:CalledVia, "set when a service calls KMS with the
// principal's credentials"): a chain of services that called KMS with the
// caller's credentials is aws:CalledVia (with aws:CalledViaFirst and aws:CalledViaLast); a call
// WithViaService makes through Athena, CloudFormation, DynamoDB or KMS
// names that service in it, other services do not.
func TestCalledVia(t *testing.T) {
	e := fxNew(t)
	allow := func(action, cond string) string {
		return `{"Effect":"Allow","Principal":{"AWS":"` + pzAlice + `"},"Action":"` + action + `","Resource":"*","Condition":` + cond + `}`
	}
	id, arn := idKey(t, e, `{"Version":"2012-10-17","Statement":[`+
		`{"Effect":"Allow","Principal":{"AWS":"`+pzRoot+`"},"Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalType":"Account"}}},`+
		allow("kms:Encrypt", `{"ForAnyValue:StringEquals":{"aws:CalledVia":"dynamodb.amazonaws.com"}}`)+`,`+
		allow("kms:DescribeKey", `{"StringEquals":{"aws:CalledViaFirst":"athena.amazonaws.com","kms:ViaService":"s3.us-east-1.amazonaws.com"}}`)+`]}`)
	alice := e.as2(pzAlice)
	encrypt := &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}
	if _, err := e.s.Encrypt(kms.WithViaService(alice, "dynamodb.us-east-1.amazonaws.com"), encrypt); err != nil {
		t.Fatalf("through DynamoDB: %v", err)
	}
	_, err := e.s.Encrypt(kms.WithViaService(alice, "s3.us-east-1.amazonaws.com"), encrypt)
	pzDenied(t, err, pzAlice, "kms:Encrypt", arn, false)
	athena := kms.WithViaService(kms.WithCalledVia(alice, "athena.amazonaws.com"), "s3.us-east-1.amazonaws.com")
	if _, err := e.s.DescribeKey(athena, &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatalf("Athena, then S3: %v", err)
	}
	_, err = e.s.DescribeKey(kms.WithCalledVia(athena, "cloudformation.amazonaws.com"), &kms.DescribeKeyInput{KeyId: id})
	pzDenied(t, err, pzAlice, "kms:DescribeKey", arn, false) // a chain given later replaces the first
	_, err = e.s.DescribeKey(kms.WithCalledVia(alice, "athena.us-east-1.amazonaws.com"), &kms.DescribeKeyInput{KeyId: id})
	if !errors.Is(err, keystate.ErrValidation) {
		t.Fatalf("a service endpoint where a service principal belongs: %v", err)
	}
}

// D65: the caller's principal tags are aws:PrincipalTag/<key>, which an
// identity-based policy compares with the key's tags through a policy
// variable (attribute-based access control, the AWS KMS Developer Guide's
// ABAC pattern).
func TestPrincipalTagsABAC(t *testing.T) {
	e, ip := idEnv(t)
	idPut(t, ip, pzApp, "abac", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Encrypt","kms:DescribeKey"],
	  "Resource":"arn:aws:kms:*:${aws:PrincipalAccount}:key/*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}]}`)
	out, err := e.s.CreateKey(e.ctx, &kms.CreateKeyInput{Tags: []kms.Tag{{TagKey: "team", TagValue: "blue"}}})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := out.KeyMetadata.KeyId, out.KeyMetadata.Arn
	blue := kms.WithPrincipalTags(e.as2(pzSession), map[string]string{"team": "blue"})
	if _, err := e.s.Encrypt(blue, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("a blue session on a blue key: %v", err)
	}
	red := kms.WithPrincipalTags(blue, map[string]string{"team": "red"})
	_, err = e.s.Encrypt(red, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	idDenied(t, err, pzSession, "kms:Encrypt", arn, false)
	_, err = e.s.Encrypt(e.as2(pzSession), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	idDenied(t, err, pzSession, "kms:Encrypt", arn, false)
}
