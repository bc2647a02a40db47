package kms_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// Where a call comes from (decision D64): aws:SourceIp, VPC endpoints and
// their policies, and the request keys every call carries.

// D64 with spec §5.2: aws:SourceIp is the caller's address, absent for a
// call an AWS service makes for it and replaced by aws:VpcSourceIp through
// a VPC endpoint.
func TestSourceIP(t *testing.T) {
	e := fxNew(t)
	id, arn := idKey(t, e, idRootAnd(`{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}`))
	encrypt := func(ctx context.Context) error {
		_, err := e.s.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		return err
	}
	office := kms.WithSourceIP(e.ctx, netip.MustParseAddr("203.0.113.7"))
	if err := encrypt(office); err != nil {
		t.Fatalf("from the office: %v", err)
	}
	pzDenied(t, encrypt(kms.WithSourceIP(e.ctx, netip.MustParseAddr("198.51.100.1"))), pzRoot, "kms:Encrypt", arn, true)
	pzDenied(t, encrypt(e.ctx), pzRoot, "kms:Encrypt", arn, true) // no address: NotIpAddress holds
	pzDenied(t, encrypt(kms.WithViaService(office, "s3.us-east-1.amazonaws.com")), pzRoot, "kms:Encrypt", arn, true)
	ep, err := kms.NewVPCEndpoint("vpce-0123456789abcdef0", "vpc-0abc1234")
	if err != nil {
		t.Fatal(err)
	}
	pzDenied(t, encrypt(kms.WithVPCEndpoint(office, ep)), pzRoot, "kms:Encrypt", arn, true)

	// Through the endpoint the address is aws:VpcSourceIp.
	id2, _ := idKey(t, e, idRootAnd(`{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"NotIpAddress":{"aws:VpcSourceIp":"10.0.0.0/8"}}}`))
	in := &kms.EncryptInput{KeyId: id2, Plaintext: []byte("x")}
	if _, err := e.s.Encrypt(kms.WithVPCEndpoint(kms.WithSourceIP(e.ctx, netip.MustParseAddr("10.1.2.3")), ep), in); err != nil {
		t.Fatalf("from 10.1.2.3 through the endpoint: %v", err)
	}
	if _, err := e.s.Encrypt(kms.WithSourceIP(e.ctx, netip.MustParseAddr("10.1.2.3")), in); !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("from 10.1.2.3, not through an endpoint: %v", err)
	}
}

// D64 with spec §3.1 (VPC endpoint policies, guard rails that "can only
// restrict") and §5.2 (aws:SourceVpc and aws:SourceVpce, "present only for
// VPC-endpoint calls"): a VPC endpoint's policy bounds every call through
// it, operations on no key included, for every caller; key policies see
// aws:SourceVpce and aws:SourceVpc.
func TestVPCEndpointPolicy(t *testing.T) {
	e := fxNew(t)
	ep, err := kms.NewVPCEndpoint("vpce-0123456789abcdef0", "vpc-0abc1234")
	if err != nil {
		t.Fatal(err)
	}
	id, arn := idKey(t, e, idRootAnd(`{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-0123456789abcdef0"}}}`))
	via := kms.WithVPCEndpoint(e.ctx, ep)
	ct, err := e.s.Encrypt(via, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	if err != nil {
		t.Fatalf("the default endpoint policy: %v", err)
	}
	dec := &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob}
	if _, err := e.s.Decrypt(via, dec); err != nil {
		t.Fatalf("Decrypt through the endpoint: %v", err)
	}
	_, err = e.s.Decrypt(e.ctx, dec)
	pzDenied(t, err, pzRoot, "kms:Decrypt", arn, true)

	grMust(t, ep.SetPolicy(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"},
	 {"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-0abc1234"}}}]}`))
	if _, err := e.s.Decrypt(via, dec); err != nil {
		t.Fatalf("Decrypt, allowed by the endpoint policy: %v", err)
	}
	_, err = e.s.DescribeKey(via, &kms.DescribeKeyInput{KeyId: id})
	grDenied(t, err, pzRoot, "kms:DescribeKey", arn, "because no VPC endpoint policy allows the kms:DescribeKey action")
	_, err = e.s.Encrypt(via, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	grDenied(t, err, pzRoot, "kms:Encrypt", arn, "with an explicit deny in a VPC endpoint policy")
	_, err = e.s.ListKeys(via, &kms.ListKeysInput{})
	grDenied(t, err, pzRoot, "kms:ListKeys", "*", "because no VPC endpoint policy allows the kms:ListKeys action")
	_, err = e.s.CreateKey(via, &kms.CreateKeyInput{})
	grDenied(t, err, pzRoot, "kms:CreateKey", "*", "because no VPC endpoint policy allows the kms:CreateKey action")
	if _, err := e.s.ListKeys(e.ctx, &kms.ListKeysInput{}); err != nil {
		t.Fatalf("ListKeys not through the endpoint: %v", err)
	}
	// Another account's principal is not in the endpoint policy's
	// principals.
	_, err = e.s.Decrypt(kms.WithVPCEndpoint(e.as2(pzPartner), ep), dec)
	if !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("a partner through the endpoint: %v", err)
	}
	grMust(t, ep.SetPolicy(""))
	if _, err := e.s.ListKeys(via, &kms.ListKeysInput{}); err != nil {
		t.Fatalf("back to the default endpoint policy: %v", err)
	}
	if ep.Policy() != kms.DefaultEndpointPolicy {
		t.Fatalf("Policy: %q, want the default", ep.Policy())
	}
}

// D64 with spec §5.2: every call carries aws:RequestedRegion,
// aws:SecureTransport ("true": AWS KMS takes HTTPS only), aws:PrincipalType
// and, for an IAM user, aws:username.
func TestRequestKeys(t *testing.T) {
	e := fxNew(t)
	allow := func(action, cond string) string {
		return `{"Effect":"Allow","Principal":"*","Action":"` + action + `","Resource":"*","Condition":` + cond + `}`
	}
	policyText := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"AWS":"` + pzRoot + `"},"Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalType":"Account"}}},` +
		allow("kms:Encrypt", `{"StringEquals":{"aws:RequestedRegion":"us-east-1"},"Bool":{"aws:SecureTransport":"true"}}`) + `,` +
		allow("kms:DescribeKey", `{"StringEquals":{"aws:username":"alice","aws:PrincipalType":"User"}}`) + `,` +
		allow("kms:GetKeyPolicy", `{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}`) + `]}`
	id, arn := idKey(t, e, policyText)
	if _, err := e.s.Encrypt(e.as2(pzAlice), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("in us-east-1, over HTTPS: %v", err)
	}
	if _, err := e.s.DescribeKey(e.as2(pzAlice), &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatalf("alice: %v", err)
	}
	_, err := e.s.DescribeKey(e.as2(pzSession), &kms.DescribeKeyInput{KeyId: id})
	pzDenied(t, err, pzSession, "kms:DescribeKey", arn, false)
	if _, err := e.s.GetKeyPolicy(e.as2(pzSession), &kms.GetKeyPolicyInput{KeyId: id}); err != nil {
		t.Fatalf("a session is an AssumedRole: %v", err)
	}
	_, err = e.s.GetKeyPolicy(e.as2(pzAlice), &kms.GetKeyPolicyInput{KeyId: id})
	pzDenied(t, err, pzAlice, "kms:GetKeyPolicy", arn, false)
}

// NewVPCEndpoint and SetPolicy refuse what is not an endpoint, and
// change nothing then.
func TestVPCEndpointRegistry(t *testing.T) {
	for _, ids := range [][2]string{{"vpce-123", "vpc-0abc1234"}, {"vpce-0123456789abcdef0", "vpc-XYZ12345"}, {"endpoint", "vpc-0abc1234"}} {
		if _, err := kms.NewVPCEndpoint(ids[0], ids[1]); !errors.Is(err, keystate.ErrValidation) {
			t.Errorf("%q: %v, want ValidationException", ids, err)
		}
	}
	ep, err := kms.NewVPCEndpoint("vpce-0123456789abcdef0", "vpc-0abc1234567890def")
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.SetPolicy(`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`); !errors.Is(err, keystate.ErrMalformedPolicyDocument) {
		t.Fatalf("a policy without principals: %v", err)
	}
	if ep.Policy() != kms.DefaultEndpointPolicy || ep.ID() != "vpce-0123456789abcdef0" || ep.VPC() != "vpc-0abc1234567890def" {
		t.Fatalf("after a refused SetPolicy: %q %s %s", ep.Policy(), ep.ID(), ep.VPC())
	}
}

// D64: the endpoint policy bounds RetireGrant, alias operations and calls
// an Authorizer decides too, and the decisions on no key or on an alias
// see the call's global keys (aws:SourceVpce, aws:SourceIp,
// aws:PrincipalOrgID).
func TestVPCEndpointEverywhere(t *testing.T) {
	e := fxNew(t)
	ep, err := kms.NewVPCEndpoint("vpce-0123456789abcdef0", "vpc-0abc1234")
	if err != nil {
		t.Fatal(err)
	}
	id, arn := e.symmetric()
	via := kms.WithVPCEndpoint(e.ctx, ep)
	g, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzApp, Operations: []string{"Encrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	grMust(t, ep.SetPolicy(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-0123456789abcdef0"}}},
	 {"Effect":"Deny","Principal":"*","Action":"kms:RetireGrant","Resource":"*"}]}`))
	_, err = e.s.RetireGrant(via, &kms.RetireGrantInput{GrantToken: g.GrantToken})
	grDenied(t, err, pzRoot, "kms:RetireGrant", arn, "with an explicit deny in a VPC endpoint policy")
	if _, err := e.s.CreateAlias(via, &kms.CreateAliasInput{AliasName: "alias/through", TargetKeyId: id}); err != nil {
		t.Fatalf("CreateAlias, allowed on aws:SourceVpce: %v", err)
	}
	if _, err := e.s.ListKeys(via, &kms.ListKeysInput{}); err != nil {
		t.Fatalf("ListKeys, allowed on aws:SourceVpce: %v", err)
	}

	// An Authorizer decides instead of key policies, within the endpoint.
	allowAll := kms.AuthorizerFunc(func(context.Context, kms.AuthRequest) error { return nil })
	e2 := fxNew(t, kms.WithAuthorizer(allowAll))
	id2, arn2 := e2.symmetric()
	grMust(t, ep.SetPolicy(`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`))
	_, err = e2.s.DescribeKey(kms.WithVPCEndpoint(e2.ctx, ep), &kms.DescribeKeyInput{KeyId: id2})
	grDenied(t, err, pzRoot, "kms:DescribeKey", arn2, "with an explicit deny in a VPC endpoint policy")

	// A zero VPCEndpoint has the default policy.
	if _, err := e.s.DescribeKey(kms.WithVPCEndpoint(e.ctx, &kms.VPCEndpoint{}), &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Fatalf("a zero VPCEndpoint: %v", err)
	}
}

// D63, D64: identity-based policies on an alias, and the organization
// keys on operations on no key.
func TestIAMContextOnNoKey(t *testing.T) {
	ip, orgs := kms.NewIdentityPolicies(), kms.NewOrganizations()
	e := fxNew(t, kms.WithIdentityPolicies(ip), kms.WithOrganizations(orgs))
	id, _ := e.symmetric()
	idPut(t, ip, pzAlice, "office", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*",
	  "Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"},"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]}`)
	grMust(t, orgs.PlaceAccount("111122223333", orgPath))
	alice := kms.WithSourceIP(e.as2(pzAlice), netip.MustParseAddr("203.0.113.7"))
	if _, err := e.s.CreateAlias(alice, &kms.CreateAliasInput{AliasName: "alias/office", TargetKeyId: id}); err != nil {
		t.Fatalf("CreateAlias from the office: %v", err)
	}
	if _, err := e.s.GenerateRandom(alice, &kms.GenerateRandomInput{NumberOfBytes: kms.Int32(8)}); err != nil {
		t.Fatalf("GenerateRandom from the office, in the organization: %v", err)
	}
	if _, err := e.s.ListKeys(kms.WithSourceIP(e.as2(pzAlice), netip.MustParseAddr("198.51.100.1")), &kms.ListKeysInput{}); !errors.Is(err, keystate.ErrAccessDenied) {
		t.Fatalf("ListKeys from elsewhere: %v", err)
	}
}

// D64: ReEncrypt's second authorization (kms:ReEncryptTo, on the
// destination) comes through the same VPC endpoint as its first: the
// endpoint's policy bounds it, and the destination's key policy sees
// aws:SourceVpce. (Both were lost with the rest of the call's network
// before the destination was authorized.)
func TestVPCEndpointReEncryptTo(t *testing.T) {
	ep, err := kms.NewVPCEndpoint("vpce-0123456789abcdef0", "vpc-0abc1234")
	if err != nil {
		t.Fatal(err)
	}
	e := fxNew(t)
	a, _ := e.symmetric()
	b, arnB := idKey(t, e, idRootAnd(`{"Effect":"Deny","Principal":"*","Action":"kms:ReEncryptTo","Resource":"*",
	  "Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-0123456789abcdef0"}}}`))
	out, err := e.s.Encrypt(e.ctx, &kms.EncryptInput{KeyId: a, Plaintext: []byte("p")})
	if err != nil {
		t.Fatal(err)
	}
	in := &kms.ReEncryptInput{CiphertextBlob: out.CiphertextBlob, DestinationKeyId: b}
	via := kms.WithVPCEndpoint(e.ctx, ep)
	if _, err := e.s.ReEncrypt(via, in); err != nil {
		t.Fatalf("ReEncrypt through the endpoint the destination's policy requires: %v", err)
	}
	_, err = e.s.ReEncrypt(e.ctx, in)
	pzDenied(t, err, pzRoot, "kms:ReEncryptTo", arnB, true)

	grMust(t, ep.SetPolicy(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},
	 {"Effect":"Deny","Principal":"*","Action":"kms:ReEncryptTo","Resource":"*"}]}`))
	_, err = e.s.ReEncrypt(via, in)
	var ke *keystate.Error
	if !errors.As(err, &ke) || ke.Code != keystate.ErrAccessDenied || !strings.Contains(ke.Message, "explicit deny in a VPC endpoint policy") {
		t.Fatalf("ReEncrypt through an endpoint whose policy denies kms:ReEncryptTo: %v", err)
	}
}
