package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// stmt wraps one statement's members in a policy.
func stmt(members string) string {
	return `{"Version":"2012-10-17","Statement":[{` + members + `}]}`
}

const okMembers = `"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"`

// TestParseMalformed: each grammar break gives ErrMalformed and its
// message (spec §2.1, §2.2, P5, D29).
func TestParseMalformed(t *testing.T) {
	cases := []struct {
		spec, text, msg string
	}{
		{"§2.2: not JSON → empty message", `this is not a real policy statement`, ""},
		{"§2.2: truncated JSON", `{"Statement":[`, ""},
		{"§2.2: trailing data", stmt(okMembers) + ` {}`, ""},
		{"§2.2: empty text", ``, ""},
		{"P5: not an object", `[1,2]`, "The policy document must be a JSON object."},
		{"§2.1 Version", `{"Version":"2013-01-01","Statement":[{` + okMembers + `}]}`, "Policy has an invalid Version. Version must be 2012-10-17 or 2008-10-17."},
		{"§2.1 Version is a string", `{"Version":2012,"Statement":[{` + okMembers + `}]}`, "Policy has an invalid Version. Version must be 2012-10-17 or 2008-10-17."},
		{"§2.1 Statement missing", `{"Version":"2012-10-17"}`, "Policy is missing required element Statement."},
		{"§2.1 Statement empty", `{"Version":"2012-10-17","Statement":[]}`, "Policy contains no statements."},
		{"§2.1 Statement not an object", `{"Statement":["x"]}`, "Policy contains a statement that is not a JSON object."},
		{"P5 unknown top-level element", `{"Statement":[{` + okMembers + `}],"Extra":1}`, `Policy contains an unknown element "Extra".`},
		{"P5 element names are case-sensitive", `{"statement":[{` + okMembers + `}]}`, `Policy contains an unknown element "statement".`},
		{"P5 unknown statement element", stmt(okMembers + `,"Foo":"x"`), `Policy contains a statement that contains an unknown element "Foo".`},
		{"P5 duplicate element", stmt(okMembers + `,"Effect":"Deny"`), `Policy contains a duplicate element "Effect".`},
		{"§2.1 Effect", stmt(`"Effect":"allow","Principal":"*","Action":"kms:*","Resource":"*"`), "Policy contains a statement with an invalid Effect. Effect must be Allow or Deny."},
		{"§2.1 Effect missing", stmt(`"Principal":"*","Action":"kms:*","Resource":"*"`), "Policy contains a statement with an invalid Effect. Effect must be Allow or Deny."},
		{"§2.1 Principal missing", stmt(`"Effect":"Allow","Action":"kms:*","Resource":"*"`), "Policy contains a statement with no principal."},
		{"§2.1 Principal and NotPrincipal", stmt(`"Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"kms:*","Resource":"*"`), "Policy contains a statement with both Principal and NotPrincipal."},
		{"§2.2 invalid principal ARN", stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1111:root"},"Action":"kms:*","Resource":"*"`), "Policy contains a statement with one or more invalid principals."},
		{"§8 IAM group", stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:group/Admins"},"Action":"kms:*","Resource":"*"`), "Policy contains a statement with one or more invalid principals."},
		{"§8 wildcard in a principal ARN", stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/*"},"Action":"kms:*","Resource":"*"`), "Policy contains a statement with one or more invalid principals."},
		{"§8 Principal string other than *", stmt(`"Effect":"Allow","Principal":"arn:aws:iam::111122223333:root","Action":"kms:*","Resource":"*"`), "Policy contains a statement with one or more invalid principals."},
		{"§8 CanonicalUser", stmt(`"Effect":"Allow","Principal":{"CanonicalUser":"abc"},"Action":"kms:*","Resource":"*"`), "Policy contains a statement with one or more invalid principals."},
		{"§8 empty principal list", stmt(`"Effect":"Allow","Principal":{"AWS":[]},"Action":"kms:*","Resource":"*"`), "Policy contains a statement with one or more invalid principals."},
		{"§8 principal not a string", stmt(`"Effect":"Allow","Principal":{"AWS":111122223333},"Action":"kms:*","Resource":"*"`), "Policy contains a statement with one or more invalid principals."},
		{"P5 Action not a string", stmt(`"Effect":"Allow","Principal":"*","Action":[1],"Resource":"*"`), "Policy contains a statement with one or more invalid actions."},
		{"P5 Action without a service", stmt(`"Effect":"Allow","Principal":"*","Action":"Encrypt","Resource":"*"`), "Policy contains a statement with one or more invalid actions."},
		{"P5 Action and NotAction", stmt(`"Effect":"Allow","Principal":"*","Action":"kms:*","NotAction":"kms:Encrypt","Resource":"*"`), "Policy contains a statement with both Action and NotAction."},
		{"P5 Resource not an ARN", stmt(`"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"key"`), "Policy contains a statement with one or more invalid resources."},
		{"P5 Resource and NotResource", stmt(`"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","NotResource":"*"`), "Policy contains a statement with both Resource and NotResource."},
		{"P5 Sid not a string", stmt(okMembers + `,"Sid":3`), "Policy contains a statement with an invalid Sid."},
		{"P5 Id not a string", `{"Id":{},"Statement":[{` + okMembers + `}]}`, "Policy has an invalid Id."},
		{"§5.3 unknown operator", stmt(okMembers + `,"Condition":{"StringEqual":{"kms:ViaService":"x"}}`), `Policy contains a statement with an unknown condition operator "StringEqual".`},
		{"§5.3 NullIfExists", stmt(okMembers + `,"Condition":{"NullIfExists":{"kms:ViaService":"true"}}`), `Policy contains a statement with an unknown condition operator "NullIfExists".`},
		{"§5.3 Condition not an object", stmt(okMembers + `,"Condition":"x"`), "Policy contains a statement with an invalid Condition block."},
		{"§5.3 condition value an object", stmt(okMembers + `,"Condition":{"StringEquals":{"kms:ViaService":{}}}`), "Policy contains a statement with an invalid Condition block."},
		{"§5.3 condition value null", stmt(okMembers + `,"Condition":{"StringEquals":{"kms:ViaService":null}}`), "Policy contains a statement with an invalid Condition block."},
		{"§5.3 Numeric value", stmt(okMembers + `,"Condition":{"NumericLessThan":{"kms:RotationPeriodInDays":"ten"}}`), `Policy contains a statement with an invalid value "ten" for condition operator NumericLessThan.`},
		{"§5.3 Date value", stmt(okMembers + `,"Condition":{"DateGreaterThan":{"aws:CurrentTime":"yesterday"}}`), `Policy contains a statement with an invalid value "yesterday" for condition operator DateGreaterThan.`},
		{"§5.3 Bool value", stmt(okMembers + `,"Condition":{"Bool":{"kms:GrantIsForAWSResource":"yes"}}`), `Policy contains a statement with an invalid value "yes" for condition operator Bool.`},
		{"§5.3 IpAddress value", stmt(okMembers + `,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}`), `Policy contains a statement with an invalid value "10.0.0.0/33" for condition operator IpAddress.`},
		{"§2.1 ForAllValues with kms:EncryptionContext:*", stmt(okMembers + `,"Condition":{"ForAllValues:StringEquals":{"kms:EncryptionContext:AppName":"x"}}`),
			"OverlyPermissiveCondition:EncryptionContext: Using the ForAllValues set operator with a single-valued condition key matches requests without the specified encryption context or with an unspecified encryption context. To fix, remove ForAllValues."},
		{"§2.1 ForAllValues with aws:RequestTag/*", stmt(okMembers + `,"Condition":{"ForAllValues:StringLike":{"aws:RequestTag/Project":"x*"}}`),
			"OverlyPermissiveCondition: Using the ForAllValues set operator with a single-valued condition key matches requests without the specified tag or with an unspecified tag. To fix, remove ForAllValues."},
	}
	for _, c := range cases {
		_, err := policy.Parse(c.text)
		if !errors.Is(err, policy.ErrMalformed) {
			t.Errorf("%s: Parse(%s) error = %v, want ErrMalformed", c.spec, c.text, err)
			continue
		}
		if got := policy.Message(err); got != c.msg {
			t.Errorf("%s: message\n got %q\nwant %q", c.spec, got, c.msg)
		}
	}
}

// TestParseAccepted: documents AWS accepts (spec §2.1, §5.3, §8).
func TestParseAccepted(t *testing.T) {
	cases := []struct{ spec, text string }{
		{"§2.1 statement without Action or Resource has no effect", stmt(`"Effect":"Allow","Principal":"*"`)},
		{"§2.1 Version optional", `{"Statement":{` + okMembers + `}}`},
		{"§2.1 Version 2008-10-17", `{"Version":"2008-10-17","Statement":{` + okMembers + `}}`},
		{"§8 bare account ID, user, role path, session, federated user, service, *", stmt(`"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:user/division/Alice","arn:aws-us-gov:iam::111122223333:role/a/b/R","arn:aws:sts::111122223333:assumed-role/R/s@x","arn:aws:sts::111122223333:federated-user/Fed","*"],"Service":"logs.amazonaws.com"},"Action":"kms:*","Resource":"*"`)},
		{"§2.1 the key's ARN in Resource", stmt(`"Effect":"Allow","Principal":"*","Action":["kms:Encrypt"],"Resource":["` + keyARN + `"]`)},
		{"§5.3 every operator", stmt(okMembers + `,"Condition":{
			"StringEqualsIgnoreCaseIfExists":{"kms:ViaService":"X"},
			"ForAnyValue:StringNotLike":{"kms:GrantOperations":["Decrypt*"]},
			"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["a"]},
			"NumericGreaterThanEquals":{"kms:RotationPeriodInDays":90},
			"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z","aws:EpochTime":"1893456000"},
			"Bool":{"kms:GrantIsForAWSResource":true},
			"BinaryEquals":{"k":"QUJD"},
			"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.0.2.1"]},
			"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"},
			"Null":{"kms:BypassPolicyLockoutSafetyCheck":"true"}}`)},
	}
	for _, c := range cases {
		if _, err := policy.Parse(c.text); err != nil {
			t.Errorf("%s: Parse: %v", c.spec, err)
		}
	}
}

// TestParseSize: §2.1, P4, D29: characters first, then bytes.
func TestParseSize(t *testing.T) {
	pad := func(n int, s string) string {
		base := stmt(okMembers + `,"Sid":""`)
		fill := strings.Repeat(s, (n-len(base))/len(s))
		return strings.Replace(base, `"Sid":""`, `"Sid":"`+fill+`"`, 1)
	}
	atMax := pad(policy.MaxBytes, "a")
	if len(atMax) != policy.MaxBytes {
		t.Fatalf("test setup: %d bytes", len(atMax))
	}
	if _, err := policy.Parse(atMax); err != nil {
		t.Errorf("32,768 bytes: %v", err)
	}
	if _, err := policy.Parse(atMax[:len(atMax)-2] + `a"}]}`); !errors.Is(err, policy.ErrTooLarge) {
		t.Errorf("32,769 bytes: %v, want ErrTooLarge", err)
	}
	// 131,072 characters of two bytes each: too large, not too long.
	latin := pad(2*policy.MaxCharacters-200, "é")
	if _, err := policy.Parse(latin); !errors.Is(err, policy.ErrTooLarge) {
		t.Errorf("%d bytes of é: %v, want ErrTooLarge", len(latin), err)
	}
	long := pad(policy.MaxCharacters+10, "a")
	_, err := policy.Parse(long)
	if !errors.Is(err, policy.ErrTooLong) {
		t.Fatalf("131,082 characters: %v, want ErrTooLong", err)
	}
	if got := policy.Message(err); !strings.Contains(got, "131072") {
		t.Errorf("ErrTooLong message %q", got)
	}
}

// TestTextLayout: P3, the GetKeyPolicy layout with inline string lists
// (ISS aws/aws-cli#9456), member and list order kept.
func TestTextLayout(t *testing.T) {
	in := `{"Statement":[{"Sid":"b","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root","arn:aws:iam::111122223333:root"]},
	"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":["ec2.us-west-2.amazonaws.com"],"kms:CallerAccount":"111122223333"},"Bool":{"kms:GrantIsForAWSResource":true},"NumericLessThan":{"n":1.50}}},
	{"Effect":"Deny","Principal":"*","NotAction":[],"Resource":"*","Condition":{}}],"Version":"2012-10-17","Id":"q\"\\/<&é\u0001"}`
	want := `{
  "Statement" : [ {
    "Sid" : "b",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : [ "arn:aws:iam::444455556666:root", "arn:aws:iam::111122223333:root" ]
    },
    "Action" : [ "kms:Encrypt", "kms:Decrypt" ],
    "Resource" : "*",
    "Condition" : {
      "StringEquals" : {
        "kms:ViaService" : [ "ec2.us-west-2.amazonaws.com" ],
        "kms:CallerAccount" : "111122223333"
      },
      "Bool" : {
        "kms:GrantIsForAWSResource" : true
      },
      "NumericLessThan" : {
        "n" : 1.50
      }
    }
  }, {
    "Effect" : "Deny",
    "Principal" : "*",
    "NotAction" : [ ],
    "Resource" : "*",
    "Condition" : { }
  } ],
  "Version" : "2012-10-17",
  "Id" : "q\"\\/<&é\u0001"
}`
	d, err := policy.Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Text() != want {
		t.Fatalf("Text() =\n%s\nwant\n%s", d.Text(), want)
	}
	again, err := policy.Parse(d.Text())
	if err != nil {
		t.Fatalf("Parse(Text()): %v", err)
	}
	if again.Text() != want {
		t.Errorf("round trip changed the text:\n%s", again.Text())
	}
	if d.Len() != 2 || d.Sid(0) != "b" || d.Sid(1) != "" {
		t.Errorf("Len, Sid = %d, %q, %q", d.Len(), d.Sid(0), d.Sid(1))
	}
}

// TestParsePrincipal: §8 forms and their accessors.
func TestParsePrincipal(t *testing.T) {
	cases := []struct {
		in                 string
		kind               policy.PrincipalKind
		account, partition string
		principalARN       string
	}{
		{"arn:aws:iam::111122223333:root", policy.Account, "111122223333", "aws", "arn:aws:iam::111122223333:root"},
		{"111122223333", policy.Account, "111122223333", "", "111122223333"},
		{"arn:aws-cn:iam::111122223333:user/p/Alice", policy.User, "111122223333", "aws-cn", "arn:aws-cn:iam::111122223333:user/p/Alice"},
		{"arn:aws:iam::111122223333:role/R", policy.Role, "111122223333", "aws", "arn:aws:iam::111122223333:role/R"},
		{"arn:aws:sts::111122223333:assumed-role/R/s", policy.AssumedRole, "111122223333", "aws", "arn:aws:iam::111122223333:role/R"},
		{"arn:aws:sts::111122223333:federated-user/F", policy.FederatedUser, "111122223333", "aws", "arn:aws:sts::111122223333:federated-user/F"},
		{"*", policy.Everyone, "", "", ""},
	}
	for _, c := range cases {
		p, err := policy.ParsePrincipal(c.in)
		if err != nil {
			t.Errorf("ParsePrincipal(%q): %v", c.in, err)
			continue
		}
		if p.Kind() != c.kind || p.Account() != c.account || p.Partition() != c.partition || p.PrincipalARN() != c.principalARN || p.ARN() != c.in {
			t.Errorf("ParsePrincipal(%q) = %v %q %q %q", c.in, p.Kind(), p.Account(), p.Partition(), p.PrincipalARN())
		}
	}
	for _, bad := range []string{"", "root", "arn:aws:iam::111122223333:group/G", "arn:aws:iam:us-east-1:111122223333:root",
		"arn:aws:sts::111122223333:assumed-role/R", "arn:aws:iam::11112222333:root", "arn:aws:iam::111122223333:user/",
		"arn:aws:iam::111122223333:user/a b", "arn:aws:kms:us-east-1:111122223333:key/k", "arn:AWS:iam::111122223333:root"} {
		if _, err := policy.ParsePrincipal(bad); !errors.Is(err, policy.ErrInvalidPrincipal) {
			t.Errorf("ParsePrincipal(%q) error = %v, want ErrInvalidPrincipal", bad, err)
		}
	}
	if got := policy.AccountPrincipal("aws", "111122223333"); !got.Matches(alice) || got.ARN() != "arn:aws:iam::111122223333:root" {
		t.Errorf("AccountPrincipal = %v", got)
	}
	if policy.Account.String() != "Account" {
		t.Errorf("Account.String() = %s", policy.Account)
	}
}

// TestMatches: §8, D24, D28.
func TestMatches(t *testing.T) {
	role := policy.MustParsePrincipal("arn:aws:iam::111122223333:role/path/KeyUser")
	cases := []struct {
		policy, caller policy.Principal
		want           bool
		why            string
	}{
		{role, userSession, true, "a role with a path covers its sessions"},
		{role, adminSession, false, "not another role's sessions"},
		{userSession, userSession, true, "a session covers itself"},
		{userSession, policy.MustParsePrincipal("arn:aws:sts::111122223333:assumed-role/KeyUser/other"), false, "not another session"},
		{userSession, keyUserRole, false, "a session does not cover its role"},
		{root, userSession, true, "D24: the account root covers every principal of the account"},
		{root, bob, false, "not another account's"},
		{policy.MustParsePrincipal("444455556666"), bob, true, "a bare account ID"},
		{policy.AccountPrincipal("aws-cn", "111122223333"), alice, false, "not another partition"},
		{alice, alice, true, "a user covers itself"},
		{alice, policy.MustParsePrincipal("arn:aws:iam::111122223333:user/alice"), false, "user names compare exactly"},
		{policy.MustParsePrincipal("*"), bob, true, "* covers everyone"},
		{policy.MustParsePrincipal("*"), policy.Principal{}, false, "but not Nobody"},
		{policy.ServicePrincipal("LOGS.us-west-2.amazonaws.com"), logsService, true, "service names without regard to case"},
		{root, logsService, false, "a service principal has no account"},
	}
	for _, c := range cases {
		if got := c.policy.Matches(c.caller); got != c.want {
			t.Errorf("%s: %v.Matches(%v) = %v", c.why, c.policy, c.caller, got)
		}
	}
}
