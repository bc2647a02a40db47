package kms_test

import (
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
