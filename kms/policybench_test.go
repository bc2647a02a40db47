package kms_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms"
)

// Issue 14's targets: DescribeKey with the default policy within +50 ns of
// its figure before key policies (compare BenchmarkDescribeKey with a
// build before them, in the same run); an authorization against a
// 10-statement policy with conditions ≤ 2 µs (the difference between
// BenchmarkDescribeKeyPolicy10 and BenchmarkDescribeKey); CreateGrant
// ≤ 3 µs.

// pbPolicy10 is a 10-statement policy with conditions whose allowing
// statement for the caller is the last one.
func pbPolicy10() string {
	var st []string
	for i := range 9 {
		st = append(st, fmt.Sprintf(`{"Sid":"s%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/r%d"},`+
			`"Action":["kms:Encrypt","kms:Decrypt","kms:Describe*"],"Resource":"*",`+
			`"Condition":{"StringEquals":{"kms:CallerAccount":"111122223333","kms:EncryptionContext:app":"a%d"},"Bool":{"aws:SecureTransport":"true"}}}`, i, i, i))
	}
	st = append(st, `{"Sid":"admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/admin"},"Action":"kms:*","Resource":"*",`+
		`"Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/*"},"StringEquals":{"kms:KeySpec":"SYMMETRIC_DEFAULT"}}}`)
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(st, ",") + `]}`
}

func BenchmarkDescribeKeyPolicy10(b *testing.B) {
	svc, _ := benchService()
	ctx := kms.WithPrincipal(context.Background(), "arn:aws:iam::111122223333:user/admin")
	ids := make([]string, 1000)
	for i := range ids {
		out, err := svc.CreateKey(ctx, &kms.CreateKeyInput{Policy: pbPolicy10()})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = out.KeyMetadata.KeyId
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: ids[i%len(ids)]}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreateGrant(b *testing.B) {
	svc, _ := benchService()
	ctx := context.Background()
	var id string
	in := &kms.CreateGrantInput{GranteePrincipal: "arn:aws:iam::111122223333:role/app", Operations: []string{"Encrypt", "Decrypt"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%10000 == 0 { // the quota is 50,000 grants per key
			b.StopTimer()
			out, err := svc.CreateKey(ctx, &kms.CreateKeyInput{})
			if err != nil {
				b.Fatal(err)
			}
			id = out.KeyMetadata.KeyId
			b.StartTimer()
		}
		in.KeyId = id
		if _, err := svc.CreateGrant(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDescribeKeyIdentity: DescribeKey by a role's session under the
// default key policy, which delegates to the account, with identity-based
// policies (D59): the role has three policies of which the last allows,
// with a condition on aws:ResourceTag. Compare with BenchmarkDescribeKey
// for the cost of the identity-based evaluation.
func BenchmarkDescribeKeyIdentity(b *testing.B) { benchDescribeKeyIAM(b, false) }

// BenchmarkDescribeKeyGuardRails is BenchmarkDescribeKeyIdentity with
// IAM's guard rails and AWS Organizations too (D62, D63): the role's
// permissions boundary, the session's session policy, service control
// policies on the organization root and the account, and a resource
// control policy on the root (the AWS KMS Developer Guide's perimeter).
func BenchmarkDescribeKeyGuardRails(b *testing.B) { benchDescribeKeyIAM(b, true) }

func benchDescribeKeyIAM(b *testing.B, guards bool) {
	iam, orgs := kms.NewIdentityPolicies(), kms.NewOrganizations()
	const role = "arn:aws:iam::111122223333:role/app"
	const session = "arn:aws:sts::111122223333:assumed-role/app/s1"
	for i, doc := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"arn:aws:kms:*:111122223333:key/*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Describe*","kms:List*"],"Resource":"arn:aws:kms:us-east-1:111122223333:key/*",` +
			`"Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}]}`,
	} {
		if err := iam.Put(role, fmt.Sprintf("p%d", i), doc); err != nil {
			b.Fatal(err)
		}
	}
	if guards {
		allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Describe*","kms:Encrypt"],"Resource":"*"}]}`
		deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"kms:ScheduleKeyDeletion","Resource":"*"}]}`
		for _, err := range []error{
			iam.PutPermissionsBoundary(role, allow),
			iam.PutSessionPolicy(session, allow),
			orgs.PutServiceControlPolicy("r-ab12", "keep-keys", deny),
			orgs.PutServiceControlPolicy("111122223333", "kms", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`),
			orgs.PutResourceControlPolicy("r-ab12", "perimeter", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*",`+
				`"Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"},"Bool":{"aws:PrincipalIsAWSService":"false"}}}]}`),
			orgs.PlaceAccount("111122223333", "o-a1b2c3d4e5/r-ab12/"),
		} {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	opts := []kms.Option{kms.WithIdentityPolicies(iam)}
	if guards {
		opts = append(opts, kms.WithOrganizations(orgs))
	}
	svc, _ := benchService(opts...)
	ids := make([]string, 1000)
	for i := range ids {
		out, err := svc.CreateKey(context.Background(), &kms.CreateKeyInput{Tags: []kms.Tag{{TagKey: "team", TagValue: "blue"}}})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = out.KeyMetadata.KeyId
	}
	ctx := kms.WithPrincipal(context.Background(), session)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: ids[i%len(ids)]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDescribeKeyIdentityManyAliases is DescribeKey by a role whose
// identity-based policy decides, of a key with an alias, in a Region with
// 10,000 other aliases: kms:ResourceAliases comes from the Region's alias
// index, not from a scan of every alias (116 µs a call before it).
func BenchmarkDescribeKeyIdentityManyAliases(b *testing.B) {
	const role = "arn:aws:iam::111122223333:role/app"
	iam := kms.NewIdentityPolicies()
	if err := iam.Put(role, "all", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`); err != nil {
		b.Fatal(err)
	}
	e := fxNew(b, kms.WithIdentityPolicies(iam))
	id, _ := e.symmetric()
	for i := range 10000 {
		other, _ := e.symmetric()
		e.createAlias(fmt.Sprintf("alias/a%d", i), other)
	}
	e.createAlias("alias/mine", id)
	ctx := kms.WithPrincipal(e.ctx, role)
	in := &kms.DescribeKeyInput{KeyId: id}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := e.s.DescribeKey(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncryptByGrantAmong10k is Encrypt by the grantee of the newest
// of 10,000 grants on a key, each to another role (as AWS services make
// one per volume or function): grantAllows reads the grants filed under
// the caller's grantee keys, not all of them (243 µs a call before).
func BenchmarkEncryptByGrantAmong10k(b *testing.B) {
	e := fxNew(b)
	id, _ := e.symmetric()
	var last string
	for i := range 10000 {
		last = fmt.Sprintf("arn:aws:iam::444455556666:role/vol%d", i)
		if _, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: last,
			Operations: []string{"Encrypt", "Decrypt"}}); err != nil {
			b.Fatal(err)
		}
	}
	ctx := kms.WithPrincipal(e.ctx, last)
	in := &kms.EncryptInput{KeyId: e.describe(id).Arn, Plaintext: []byte("p")}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := e.s.Encrypt(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
