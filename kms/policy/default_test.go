package policy_test

import (
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// recordedDefault is the text GetKeyPolicy returns for a key created
// without a policy (spec §1.1, BOTO-EX GetKeyPolicy).
const recordedDefault = `{
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

// TestDefaultText: §1.1, the default policy byte for byte, in the key's
// partition (LS-KMS ReplicaPolicy).
func TestDefaultText(t *testing.T) {
	d := policy.Default("aws", "111122223333")
	if got := d.Text(); got != recordedDefault {
		t.Fatalf("Default().Text() =\n%s\nwant\n%s", got, recordedDefault)
	}
	if !d.IsDefault() {
		t.Error("Default().IsDefault() = false")
	}
	cn := policy.Default("aws-cn", "444455556666").Text()
	if want := `"AWS" : "arn:aws-cn:iam::444455556666:root"`; !strings.Contains(cn, want) {
		t.Errorf("aws-cn default policy lacks %s:\n%s", want, cn)
	}
	p, err := policy.Parse(recordedDefault)
	if err != nil {
		t.Fatalf("Parse(default): %v", err)
	}
	if p.Text() != recordedDefault {
		t.Errorf("Parse(default).Text() =\n%s", p.Text())
	}
	if !p.IsDefault() {
		t.Error("Parse(default).IsDefault() = false")
	}
	other, err := policy.Parse(`{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if other.IsDefault() {
		t.Error("a policy other than the default text is IsDefault")
	}
}
