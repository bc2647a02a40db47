package policy_test

import (
	"net/netip"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// tenStatements is a 10-statement key policy with conditions, the size the
// authorization budget (≤ 2 µs) is set for.
const tenStatements = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"},
     "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*"], "Resource": "*"},
    {"Sid": "Users", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:role/KeyUser", "arn:aws:iam::111122223333:user/Alice"]},
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*",
     "Condition": {"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}},
    {"Sid": "Grants", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyUser"},
     "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
     "Condition": {"Bool": {"kms:GrantIsForAWSResource": true}}},
    {"Sid": "External", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
     "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
     "Condition": {"StringEquals": {"kms:CallerAccount": "444455556666"}}},
    {"Sid": "ViaEC2", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
     "Condition": {"StringEquals": {"kms:ViaService": "ec2.us-west-2.amazonaws.com", "kms:CallerAccount": "111122223333"}}},
    {"Sid": "Keys", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyUser"}, "Action": "kms:Encrypt", "Resource": "*",
     "Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["AppName", "FilePath"]}}},
    {"Sid": "Rotation", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"}, "Action": "kms:EnableKeyRotation", "Resource": "*",
     "Condition": {"NumericLessThanEquals": {"kms:RotationPeriodInDays": 365}}},
    {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.us-west-2.amazonaws.com"}, "Action": "kms:Encrypt*", "Resource": "*",
     "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-west-2:111122223333:log-group:*"}}},
    {"Sid": "NoDelete", "Effect": "Deny", "Principal": "*", "Action": ["kms:ScheduleKeyDeletion", "kms:Delete*"], "Resource": "*",
     "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/KeyAdmin"}}},
    {"Sid": "NeedContext", "Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
     "Condition": {"Null": {"kms:EncryptionContextKeys": "true"}}}
  ]
}`

func BenchmarkEvaluateDefault(b *testing.B) {
	d := policy.Default("aws", keyAcct)
	r := &policy.Request{Action: "kms:DescribeKey", Caller: userSession, Resource: keyARN, ResourceAccount: keyAcct}
	b.ReportAllocs()
	for b.Loop() {
		if !d.Evaluate(r).Allowed() {
			b.Fatal("denied")
		}
	}
}

func BenchmarkEvaluate10Statements(b *testing.B) {
	d, err := policy.Parse(tenStatements)
	if err != nil {
		b.Fatal(err)
	}
	r := &policy.Request{Action: "kms:Encrypt", Caller: userSession, Resource: keyARN, ResourceAccount: keyAcct,
		EncryptionContext: map[string]string{"AppName": "ExampleApp", "FilePath": "/a"},
		Context:           policy.Context{policy.Single("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT")}}
	if got := d.Evaluate(r); !got.Allowed() {
		b.Fatalf("setup: %v", got)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = d.Evaluate(r)
	}
}

func BenchmarkParse(b *testing.B) {
	b.SetBytes(int64(len(tenStatements)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := policy.Parse(tenStatements); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluateSourceIP: a network perimeter statement (Deny unless
// aws:SourceIp is in one of three ranges) decided on an address given as
// Request.SourceIP, and on the same address as text in Request.Context,
// which each evaluation parses.
func BenchmarkEvaluateSourceIP(b *testing.B) {
	d, err := policy.Parse(`{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + keyAcct + `:root"},"Action":"kms:*","Resource":"*"},
	 {"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*",
	  "Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","198.51.100.0/24","2001:db8::/32"]}}}]}`)
	if err != nil {
		b.Fatal(err)
	}
	addr := netip.MustParseAddr("198.51.100.7")
	for _, r := range []struct {
		name string
		req  *policy.Request
	}{
		{"address", &policy.Request{Action: "kms:Encrypt", Caller: userSession, Resource: keyARN, ResourceAccount: keyAcct, SourceIP: addr}},
		{"text", &policy.Request{Action: "kms:Encrypt", Caller: userSession, Resource: keyARN, ResourceAccount: keyAcct,
			Context: policy.Context{policy.Single("aws:SourceIp", addr.String())}}},
	} {
		b.Run(r.name, func(b *testing.B) {
			if got := d.Evaluate(r.req); !got.Allowed() {
				b.Fatalf("setup: %v", got)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = d.Evaluate(r.req)
			}
		})
	}
}
