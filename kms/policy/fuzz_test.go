package policy_test

import (
	"errors"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// FuzzParse: Parse never panics; each error wraps one of its sentinels; a
// document that parses re-parses from its Text to the same Text (P3); and
// evaluating it does not panic. Seeds live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(recordedDefault)
	f.Add(consoleNoDelegation)
	f.Add(awsManaged)
	f.Fuzz(func(t *testing.T, text string) {
		d, err := policy.Parse(text)
		if err != nil {
			if !errors.Is(err, policy.ErrMalformed) && !errors.Is(err, policy.ErrTooLarge) && !errors.Is(err, policy.ErrTooLong) {
				t.Fatalf("Parse error %v wraps no sentinel", err)
			}
			return
		}
		again, err := policy.Parse(d.Text())
		if err != nil {
			t.Fatalf("Parse(Text()) failed: %v\n%s", err, d.Text())
		}
		if again.Text() != d.Text() {
			t.Fatalf("Text changed on a round trip:\n%s\n---\n%s", d.Text(), again.Text())
		}
		r := &policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: keyARN, ResourceAccount: keyAcct,
			EncryptionContext: map[string]string{"AppName": "x"},
			Context:           policy.Context{policy.Single("kms:ViaService", "ec2.us-west-2.amazonaws.com"), policy.Multi("kms:GrantOperations", "Decrypt")}}
		_ = d.Evaluate(r).String()
	})
}

// FuzzParseIdentity: ParseIdentity never panics, its errors wrap a
// sentinel, a document it takes is one Parse would take but for the
// principals (so that its Text parses again as an identity-based policy
// to the same Text), and every Allow it decides is direct (D59).
func FuzzParseIdentity(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)
	f.Add(`{"Statement":{"Effect":"Deny","NotAction":"kms:Decrypt","NotResource":"arn:aws:kms:*:111122223333:key/*","Condition":{"Bool":{"aws:ViaAWSService":"false"}}}}`)
	f.Add(recordedDefault)
	f.Fuzz(func(t *testing.T, text string) {
		d, err := policy.ParseIdentity(text)
		if err != nil {
			if !errors.Is(err, policy.ErrMalformed) && !errors.Is(err, policy.ErrTooLarge) && !errors.Is(err, policy.ErrTooLong) {
				t.Fatalf("ParseIdentity error %v wraps no sentinel", err)
			}
			return
		}
		again, err := policy.ParseIdentity(d.Text())
		if err != nil || again.Text() != d.Text() || !again.IsIdentity() {
			t.Fatalf("round trip: %v\n%s", err, d.Text())
		}
		r := &policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: keyARN, ResourceAccount: keyAcct}
		if dec := d.Evaluate(r); dec.Allowed() != dec.Direct() {
			t.Fatalf("an identity-based Allow that is not direct: %v", dec)
		}
	})
}
