package policy_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// The cast of the examples: account 111122223333 owns the key; 444455556666
// is another account; 777788889999 a third.
const (
	keyARN    = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	keyAcct   = "111122223333"
	otherAcct = "444455556666"
)

var (
	root         = policy.MustParsePrincipal("arn:aws:iam::111122223333:root")
	alice        = policy.MustParsePrincipal("arn:aws:iam::111122223333:user/Alice")
	adminSession = policy.MustParsePrincipal("arn:aws:sts::111122223333:assumed-role/KeyAdmin/admin-session")
	userSession  = policy.MustParsePrincipal("arn:aws:sts::111122223333:assumed-role/KeyUser/app-session")
	keyUserRole  = policy.MustParsePrincipal("arn:aws:iam::111122223333:role/KeyUser")
	bob          = policy.MustParsePrincipal("arn:aws:iam::444455556666:user/Bob")
	otherRoot    = policy.MustParsePrincipal("arn:aws:iam::444455556666:root")
	exampleRole  = policy.MustParsePrincipal("arn:aws:sts::444455556666:assumed-role/ExampleRole/s1")
	otherRole    = policy.MustParsePrincipal("arn:aws:sts::444455556666:assumed-role/OtherRole/s1")
	carol        = policy.MustParsePrincipal("arn:aws:iam::777788889999:user/Carol")
	logsService  = policy.ServicePrincipal("logs.us-west-2.amazonaws.com")
)

// consoleNoDelegation is the console's default policy (spec §1.2) for a
// symmetric key without the "Enable IAM User Permissions" statement, so
// that only the named roles are let in.
const consoleNoDelegation = `{
  "Id": "key-consolepolicy-3",
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Allow access for Key Administrators",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"},
      "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
        "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
        "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand"],
      "Resource": "*"
    },
    {
      "Sid": "Allow use of the key",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyUser"},
      "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
      "Resource": "*"
    },
    {
      "Sid": "Allow attachment of persistent resources",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyUser"},
      "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
      "Resource": "*",
      "Condition": {"Bool": {"kms:GrantIsForAWSResource": true}}
    }
  ]
}`

// encryptionContext: §5.1 kms:EncryptionContext:<key> and
// kms:EncryptionContextKeys (CK examples).
const encryptionContext = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Decrypt only for ExampleApp",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyUser"},
      "Action": "kms:Decrypt",
      "Resource": "*",
      "Condition": {"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}
    },
    {
      "Sid": "Encrypt with only these context keys",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyUser"},
      "Action": "kms:Encrypt",
      "Resource": "*",
      "Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["AppName", "FilePath"]}}
    },
    {
      "Sid": "GenerateDataKey needs a context",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyUser"},
      "Action": "kms:GenerateDataKey",
      "Resource": "*",
      "Condition": {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "AppName"}}
    },
    {
      "Sid": "No encryption without a context",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "kms:Encrypt",
      "Resource": "*",
      "Condition": {"Null": {"kms:EncryptionContextKeys": "true"}}
    }
  ]
}`

// crossAccount: §3.2 rule 5, DG22-key-policy-modifying-external-accounts:
// the default statement plus statements naming another account's root and
// a role of that account.
const crossAccount = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Enable IAM User Permissions",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
      "Action": "kms:*",
      "Resource": "*"
    },
    {
      "Sid": "Allow an external account to use this KMS key",
      "Effect": "Allow",
      "Principal": {"AWS": ["arn:aws:iam::444455556666:root"]},
      "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
      "Resource": "*"
    },
    {
      "Sid": "Allow a role of the external account to create grants",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::444455556666:role/ExampleRole"},
      "Action": "kms:CreateGrant",
      "Resource": "arn:aws:kms:us-west-2:111122223333:key/*"
    }
  ]
}`

// awsManaged: the shape of an AWS managed key's policy (spec §3.3,
// DG22-services-wm, CK kms:CallerAccount).
const awsManaged = `{
  "Version" : "2012-10-17",
  "Id" : "auto-ebs-2",
  "Statement" : [ {
    "Sid" : "Allow access through EBS for all principals in the account that are authorized to use EBS",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "*"
    },
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {
      "StringEquals" : {
        "kms:CallerAccount" : "111122223333",
        "kms:ViaService" : "ec2.us-west-2.amazonaws.com"
      }
    }
  }, {
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::111122223333:root"
    },
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant" ],
    "Resource" : "*"
  } ]
}`

// denyDeletion: the default statement plus an explicit Deny (§3.2 rule 1,
// §6 D26).
const denyDeletion = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "Nobody but KeyAdmin deletes", "Effect": "Deny", "Principal": "*",
     "Action": ["kms:ScheduleKeyDeletion", "kms:Delete*"], "Resource": "*",
     "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/KeyAdmin"}}},
    {"Sid": "Logs may encrypt", "Effect": "Allow", "Principal": {"Service": "logs.us-west-2.amazonaws.com"},
     "Action": "kms:Encrypt*", "Resource": "*",
     "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-west-2:111122223333:log-group:*"}}}
  ]
}`

type exampleCase struct {
	spec    string // the rule checked
	caller  policy.Principal
	action  string
	ec      map[string]string
	context policy.Context
	want    policy.Effect
	sids    []string // the statements that decided, for Allow and ExplicitDeny
}

var exampleTables = []struct {
	name   string
	policy string
	cases  []exampleCase
}{
	{"default", recordedDefault, []exampleCase{
		{"§1.1, D24: a user of the key's account", alice, "kms:Encrypt", nil, nil, policy.Allow, []string{"Enable IAM User Permissions"}},
		{"§1.1, D24: a role session of the key's account", userSession, "kms:ScheduleKeyDeletion", nil, nil, policy.Allow, []string{"Enable IAM User Permissions"}},
		{"§1.1, D24: the account root", root, "kms:PutKeyPolicy", nil, nil, policy.Allow, []string{"Enable IAM User Permissions"}},
		{"§1.1, §3.2 rule 5: another account's user", bob, "kms:Encrypt", nil, nil, policy.ImplicitDeny, nil},
		{"§1.1: another account's root", otherRoot, "kms:DescribeKey", nil, nil, policy.ImplicitDeny, nil},
		{"§5.3: actions match without regard to case", alice, "KMS:encrypt", nil, nil, policy.Allow, []string{"Enable IAM User Permissions"}},
		{"§1.1: kms:* does not cover other services", alice, "s3:GetObject", nil, nil, policy.ImplicitDeny, nil},
		{"§8: a service principal has no account", logsService, "kms:Encrypt", nil, nil, policy.ImplicitDeny, nil},
	}},
	{"console policy without delegation", consoleNoDelegation, []exampleCase{
		{"§1.2 key administrators: kms:Create* covers CreateAlias", adminSession, "kms:CreateAlias", nil, nil, policy.Allow, []string{"Allow access for Key Administrators"}},
		{"§1.2 key administrators: ScheduleKeyDeletion", adminSession, "kms:ScheduleKeyDeletion", nil, nil, policy.Allow, []string{"Allow access for Key Administrators"}},
		{"§1.2 key administrators may not use the key", adminSession, "kms:Encrypt", nil, nil, policy.ImplicitDeny, nil},
		{"§1.2 key users: Encrypt by a session of the role (§8)", userSession, "kms:Encrypt", nil, nil, policy.Allow, []string{"Allow use of the key"}},
		{"§1.2 key users: kms:ReEncrypt* covers ReEncryptFrom", userSession, "kms:ReEncryptFrom", nil, nil, policy.Allow, []string{"Allow use of the key"}},
		{"§1.2 key users: kms:GenerateDataKey* covers GenerateDataKeyPairWithoutPlaintext", userSession, "kms:GenerateDataKeyPairWithoutPlaintext", nil, nil, policy.Allow, []string{"Allow use of the key"}},
		{"§1.2 key users may not administer", userSession, "kms:ScheduleKeyDeletion", nil, nil, policy.ImplicitDeny, nil},
		{"§1.2 key users: DescribeKey is in two statements' reach only once", userSession, "kms:DescribeKey", nil, nil, policy.Allow, []string{"Allow use of the key"}},
		{"§1.2 persistent resources: grant for an AWS resource", userSession, "kms:CreateGrant", nil,
			policy.Context{policy.Single("kms:GrantIsForAWSResource", "true")}, policy.Allow, []string{"Allow attachment of persistent resources"}},
		{"§1.2 persistent resources: condition key names are case-insensitive (§5.1)", userSession, "kms:ListGrants", nil,
			policy.Context{policy.Single("KMS:GRANTISFORAWSRESOURCE", "TRUE")}, policy.Allow, []string{"Allow attachment of persistent resources"}},
		{"§1.2 persistent resources: not for an AWS resource", userSession, "kms:CreateGrant", nil,
			policy.Context{policy.Single("kms:GrantIsForAWSResource", "false")}, policy.ImplicitDeny, nil},
		{"§5.3: absent key makes Bool false", userSession, "kms:CreateGrant", nil, nil, policy.ImplicitDeny, nil},
		{"§3.2 rule 2: the account root is not named, IAM cannot help", root, "kms:DescribeKey", nil, nil, policy.ImplicitDeny, nil},
		{"§3.2 rule 2: a user of the account is not named", alice, "kms:Encrypt", nil, nil, policy.ImplicitDeny, nil},
		{"§8: the role itself is covered", keyUserRole, "kms:Decrypt", nil, nil, policy.Allow, []string{"Allow use of the key"}},
		{"§3.2 rule 5: another account", bob, "kms:Encrypt", nil, nil, policy.ImplicitDeny, nil},
	}},
	{"encryption context", encryptionContext, []exampleCase{
		{"§5.1 kms:EncryptionContext:<key>: matching pair", userSession, "kms:Decrypt", map[string]string{"AppName": "ExampleApp"}, nil, policy.Allow, []string{"Decrypt only for ExampleApp"}},
		{"§5.1: the <key> part is case-insensitive", userSession, "kms:Decrypt", map[string]string{"appname": "ExampleApp"}, nil, policy.Allow, []string{"Decrypt only for ExampleApp"}},
		{"§5.1: the value is case-sensitive under StringEquals", userSession, "kms:Decrypt", map[string]string{"AppName": "exampleapp"}, nil, policy.ImplicitDeny, nil},
		{"§5.1: absent pair", userSession, "kms:Decrypt", map[string]string{"Other": "ExampleApp"}, nil, policy.ImplicitDeny, nil},
		{"§5.3 ForAllValues: every key listed", userSession, "kms:Encrypt", map[string]string{"AppName": "a", "FilePath": "b"}, nil, policy.Allow, []string{"Encrypt with only these context keys"}},
		{"§5.3 ForAllValues: a key not listed", userSession, "kms:Encrypt", map[string]string{"AppName": "a", "Other": "b"}, nil, policy.ImplicitDeny, nil},
		{"§5.3 ForAllValues is true when the key is absent, but the Null Deny wins", userSession, "kms:Encrypt", nil, nil, policy.ExplicitDeny, []string{"No encryption without a context"}},
		{"§5.3 ForAnyValue: one listed key", userSession, "kms:GenerateDataKey", map[string]string{"AppName": "a", "X": "y"}, nil, policy.Allow, []string{"GenerateDataKey needs a context"}},
		{"§5.3 ForAnyValue is false when the key is absent", userSession, "kms:GenerateDataKey", nil, nil, policy.ImplicitDeny, nil},
		{"§5.3 Null true: the Deny applies to everyone without a context", bob, "kms:Encrypt", nil, nil, policy.ExplicitDeny, []string{"No encryption without a context"}},
	}},
	{"cross-account", crossAccount, []exampleCase{
		{"§3.2 rule 5: external account's user, listed action", bob, "kms:Encrypt", nil, nil, policy.Allow, []string{"Allow an external account to use this KMS key"}},
		{"§3.2 rule 5: external account's role session", exampleRole, "kms:GenerateDataKeyWithoutPlaintext", nil, nil, policy.Allow, []string{"Allow an external account to use this KMS key"}},
		{"§3.2 rule 5: only the actions the key policy gives", bob, "kms:ScheduleKeyDeletion", nil, nil, policy.ImplicitDeny, nil},
		{"§8: a role covers its sessions; Resource pattern matches the key ARN", exampleRole, "kms:CreateGrant", nil, nil, policy.Allow, []string{"Allow a role of the external account to create grants"}},
		{"§8: another role of the external account is not covered", otherRole, "kms:CreateGrant", nil, nil, policy.ImplicitDeny, nil},
		{"§3.2 rule 5: a third account", carol, "kms:Decrypt", nil, nil, policy.ImplicitDeny, nil},
		{"§1.1, D24: the key's own account", alice, "kms:CreateGrant", nil, nil, policy.Allow, []string{"Enable IAM User Permissions"}},
	}},
	{"AWS managed key", awsManaged, []exampleCase{
		{"§3.3: a user of the account through EC2", alice, "kms:Encrypt", nil,
			policy.Context{policy.Single("kms:ViaService", "ec2.us-west-2.amazonaws.com")}, policy.Allow,
			[]string{"Allow access through EBS for all principals in the account that are authorized to use EBS"}},
		{"§3.3: a role session through EC2", userSession, "kms:CreateGrant", nil,
			policy.Context{policy.Single("kms:ViaService", "ec2.us-west-2.amazonaws.com")}, policy.Allow,
			[]string{"Allow access through EBS for all principals in the account that are authorized to use EBS"}},
		{"§3.3: not through the service", alice, "kms:Encrypt", nil, nil, policy.ImplicitDeny, nil},
		{"§3.3: through another service", alice, "kms:Decrypt", nil,
			policy.Context{policy.Single("kms:ViaService", "s3.us-west-2.amazonaws.com")}, policy.ImplicitDeny, nil},
		{"§3.3: kms:CallerAccount comes from the caller: another account through EC2", bob, "kms:Encrypt", nil,
			policy.Context{policy.Single("kms:ViaService", "ec2.us-west-2.amazonaws.com")}, policy.ImplicitDeny, nil},
		{"§3.3: direct metadata access", alice, "kms:DescribeKey", nil, nil, policy.Allow, []string{"Allow direct access to key metadata to the account"}},
		{"§3.3: both statements apply", alice, "kms:DescribeKey", nil,
			policy.Context{policy.Single("kms:ViaService", "ec2.us-west-2.amazonaws.com")}, policy.Allow,
			[]string{"Allow access through EBS for all principals in the account that are authorized to use EBS", "Allow direct access to key metadata to the account"}},
		{"§3.3: another account has no direct access", bob, "kms:DescribeKey", nil, nil, policy.ImplicitDeny, nil},
	}},
	{"explicit deny", denyDeletion, []exampleCase{
		{"§3.2 rule 1: Deny wins over the account's Allow", alice, "kms:ScheduleKeyDeletion", nil, nil, policy.ExplicitDeny, []string{"Nobody but KeyAdmin deletes"}},
		{"§3.2 rule 1: the Deny's condition exempts KeyAdmin sessions (aws:PrincipalArn is the role ARN, §5.2)", adminSession, "kms:DeleteImportedKeyMaterial", nil, nil, policy.Allow, []string{"Enable IAM User Permissions"}},
		{"§3.2 rule 1: other actions stay allowed", alice, "kms:Encrypt", nil, nil, policy.Allow, []string{"Enable IAM User Permissions"}},
		{"§3.2 rule 1: Deny applies to other accounts too", bob, "kms:ScheduleKeyDeletion", nil, nil, policy.ExplicitDeny, []string{"Nobody but KeyAdmin deletes"}},
		{"§8 service principal, §5.3 ArnLike on an encryption-context value", logsService, "kms:Encrypt",
			map[string]string{"aws:logs:arn": "arn:aws:logs:us-west-2:111122223333:log-group:app"}, nil, policy.Allow, []string{"Logs may encrypt"}},
		{"§5.3 ArnLike: another account's log group", logsService, "kms:Encrypt",
			map[string]string{"aws:logs:arn": "arn:aws:logs:us-west-2:444455556666:log-group:app"}, nil, policy.ImplicitDeny, nil},
	}},
}

// TestExamples runs the AWS Developer Guide's key-policy examples as a
// table: each case names the rule it checks.
func TestExamples(t *testing.T) {
	for _, tbl := range exampleTables {
		doc, err := policy.Parse(tbl.policy)
		if err != nil {
			t.Fatalf("%s: Parse: %v", tbl.name, err)
		}
		for _, c := range tbl.cases {
			r := &policy.Request{
				Action: c.action, Caller: c.caller, Resource: keyARN, ResourceAccount: keyAcct,
				EncryptionContext: c.ec, Context: c.context,
			}
			got := doc.Evaluate(r)
			if got.Effect != c.want {
				t.Errorf("%s / %s: %s by %s = %v (%s), want %v", tbl.name, c.spec, c.action, c.caller, got.Effect, got, c.want)
				continue
			}
			var sids []string
			for _, m := range got.Matched() {
				sids = append(sids, m.Sid)
			}
			if !equalStrings(sids, c.sids) {
				t.Errorf("%s / %s: matched %q, want %q", tbl.name, c.spec, sids, c.sids)
			}
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestAccessDeniedMessage: the two wordings of §6 / D26.
func TestAccessDeniedMessage(t *testing.T) {
	doc, err := policy.Parse(denyDeletion)
	if err != nil {
		t.Fatal(err)
	}
	deny := doc.Evaluate(&policy.Request{Action: "kms:ScheduleKeyDeletion", Caller: alice, Resource: keyARN})
	want := "User: arn:aws:iam::111122223333:user/Alice is not authorized to perform: kms:ScheduleKeyDeletion on resource: " + keyARN + " with an explicit deny in a resource-based policy"
	if got := policy.AccessDeniedMessage(alice.ARN(), "kms:ScheduleKeyDeletion", keyARN, deny); got != want {
		t.Errorf("explicit deny:\n got %s\nwant %s", got, want)
	}
	implicit := policy.Default("aws", keyAcct).Evaluate(&policy.Request{Action: "kms:DescribeKey", Caller: exampleRole, Resource: keyARN})
	want = "User: arn:aws:sts::444455556666:assumed-role/ExampleRole/s1 is not authorized to perform: kms:DescribeKey on resource: " + keyARN + " because no resource-based policy allows the kms:DescribeKey action"
	if got := policy.AccessDeniedMessage(exampleRole.ARN(), "DescribeKey", keyARN, implicit); got != want {
		t.Errorf("implicit deny:\n got %s\nwant %s", got, want)
	}
	if got, want := deny.String(), `ExplicitDeny kms:ScheduleKeyDeletion: statement 1 ("Nobody but KeyAdmin deletes")`; got != want {
		t.Errorf("Decision.String() = %s, want %s", got, want)
	}
	if got, want := implicit.String(), "ImplicitDeny kms:DescribeKey: no statement allows the request"; got != want {
		t.Errorf("Decision.String() = %s, want %s", got, want)
	}
}

// TestManyStatements: the diagnostic names every applicable statement,
// beyond the first 64 too.
func TestManyStatements(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Statement":[`)
	for i := range 70 {
		if i > 0 {
			b.WriteByte(',')
		}
		effect := "Allow"
		if i == 66 {
			effect = "Deny"
		}
		b.WriteString(`{"Sid":"s` + strconv.Itoa(i) + `","Effect":"` + effect + `","Principal":"*","Action":"kms:*","Resource":"*"}`)
	}
	b.WriteString(`]}`)
	doc, err := policy.Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	got := doc.Evaluate(&policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: keyARN})
	if m := got.Matched(); got.Effect != policy.ExplicitDeny || len(m) != 1 || m[0].Index != 66 || m[0].Sid != "s66" {
		t.Errorf("Evaluate = %v, Matched %v", got, m)
	}
	doc, err = policy.Parse(strings.Replace(b.String(), `"Effect":"Deny"`, `"Effect":"Allow"`, 1))
	if err != nil {
		t.Fatal(err)
	}
	got = doc.Evaluate(&policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: keyARN})
	if m := got.Matched(); got.Effect != policy.Allow || len(m) != 70 || m[69].Index != 69 {
		t.Errorf("Evaluate = %v, %d matched", got.Effect, len(m))
	}
}
