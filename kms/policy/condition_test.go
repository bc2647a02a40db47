package policy_test

import (
	"net/netip"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// TestConditions: operator semantics of IAM-COND (spec §5.3), one
// condition block per case, evaluated for Alice on the default statement.
func TestConditions(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ctx := func(es ...policy.ContextEntry) policy.Context { return es }
	one := policy.Single
	cases := []struct {
		spec, cond string
		ec         map[string]string
		ctx        policy.Context
		want       bool
	}{
		{"absent key: positive false", `{"StringEquals":{"kms:ViaService":"x"}}`, nil, nil, false},
		{"absent key: negated true", `{"StringNotEquals":{"kms:ViaService":"x"}}`, nil, nil, true},
		{"IfExists: absent true", `{"StringEqualsIfExists":{"kms:ViaService":"x"}}`, nil, nil, true},
		{"IfExists: present tests", `{"StringEqualsIfExists":{"kms:ViaService":"x"}}`, nil, ctx(one("kms:ViaService", "y")), false},
		{"values OR", `{"StringEquals":{"kms:ViaService":["x","y"]}}`, nil, ctx(one("kms:ViaService", "y")), true},
		{"negated: none of the values", `{"StringNotEquals":{"kms:ViaService":["x","y"]}}`, nil, ctx(one("kms:ViaService", "y")), false},
		{"keys AND", `{"StringEquals":{"kms:ViaService":"x","kms:CallerAccount":"444455556666"}}`, nil, ctx(one("kms:ViaService", "x")), false},
		{"operators AND", `{"StringEquals":{"kms:ViaService":"x"},"Bool":{"b":"true"}}`, nil, ctx(one("kms:ViaService", "x"), one("b", "false")), false},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"k":"ABC"}}`, nil, ctx(one("k", "abc")), true},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"k":"ABC"}}`, nil, ctx(one("k", "abc")), false},
		{"StringEquals has no wildcards", `{"StringEquals":{"k":"a*"}}`, nil, ctx(one("k", "abc")), false},
		{"StringLike *", `{"StringLike":{"k":"a*c"}}`, nil, ctx(one("k", "abbbc")), true},
		{"StringLike ?", `{"StringLike":{"k":"a?c"}}`, nil, ctx(one("k", "abbc")), false},
		{"StringLike is case-sensitive", `{"StringLike":{"k":"A*"}}`, nil, ctx(one("k", "abc")), false},
		{"StringNotLike", `{"StringNotLike":{"k":["x*","a*"]}}`, nil, ctx(one("k", "abc")), false},
		{"NumericLessThan", `{"NumericLessThan":{"kms:RotationPeriodInDays":"365"}}`, nil, ctx(one("kms:RotationPeriodInDays", "90")), true},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"n":90}}`, nil, ctx(one("n", "90")), true},
		{"NumericNotEquals", `{"NumericNotEquals":{"n":[1,2]}}`, nil, ctx(one("n", "2.0")), false},
		{"Numeric: a request value that is no number matches nothing", `{"NumericEquals":{"n":1}}`, nil, ctx(one("n", "one")), false},
		{"DateGreaterThan aws:CurrentTime from Request.Time", `{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, nil, nil, true},
		{"DateLessThan epoch", `{"DateLessThan":{"aws:CurrentTime":"1767225600"}}`, nil, nil, false},
		{"DateEquals on a context value", `{"DateEquals":{"kms:ValidTo":"2027-01-01"}}`, nil, ctx(one("kms:ValidTo", "1798761600")), true},
		{"NumericLessThan aws:EpochTime", `{"NumericLessThan":{"aws:EpochTime":1893456000}}`, nil, nil, true},
		{"Bool case-insensitive", `{"Bool":{"b":"TRUE"}}`, nil, ctx(one("b", "true")), true},
		{"BoolIfExists absent", `{"BoolIfExists":{"b":false}}`, nil, nil, true},
		{"Null true: absent", `{"Null":{"kms:ViaService":"true"}}`, nil, nil, true},
		{"Null false: present", `{"Null":{"kms:ViaService":false}}`, nil, ctx(one("kms:ViaService", "x")), true},
		{"Null true: present", `{"Null":{"kms:ViaService":"true"}}`, nil, ctx(one("kms:ViaService", "x")), false},
		{"BinaryEquals", `{"BinaryEquals":{"k":"QUJD"}}`, nil, ctx(one("k", "QUJD")), true},
		{"IpAddress CIDR", `{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, nil, ctx(one("aws:SourceIp", "192.0.2.7")), true},
		{"NotIpAddress", `{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]}}`, nil, ctx(one("aws:SourceIp", "2001:db8::1")), false},
		{"ArnLike field by field", `{"ArnLike":{"aws:SourceArn":"arn:aws:logs:*:111122223333:log-group:*"}}`, nil, ctx(one("aws:SourceArn", "arn:aws:logs:us-east-1:111122223333:log-group:a:b")), true},
		{"ArnLike: * stays in its field", `{"ArnLike":{"aws:SourceArn":"arn:aws:logs:*:log-group:*"}}`, nil, ctx(one("aws:SourceArn", "arn:aws:logs:us-east-1:111122223333:log-group:a")), false},
		{"ArnEquals", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/Alice"}}`, nil, nil, true},
		{"ArnNotEquals", `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/Alice"}}`, nil, nil, false},
		{"aws:PrincipalAccount from the caller", `{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`, nil, nil, true},
		{"aws:ResourceAccount from the request", `{"StringEquals":{"aws:ResourceAccount":"111122223333"}}`, nil, nil, true},
		{"Context wins over the caller", `{"StringEquals":{"kms:CallerAccount":"111122223333"}}`, nil, ctx(one("kms:CallerAccount", "x")), false},
		{"ForAnyValue on a multi-valued key", `{"ForAnyValue:StringEquals":{"kms:GrantOperations":["Decrypt","Encrypt"]}}`, nil,
			ctx(policy.Multi("kms:GrantOperations", "Sign", "Decrypt")), true},
		{"ForAllValues on a multi-valued key", `{"ForAllValues:StringEquals":{"kms:GrantOperations":["Decrypt","Encrypt"]}}`, nil,
			ctx(policy.Multi("kms:GrantOperations", "Sign", "Decrypt")), false},
		{"ForAllValues: empty list counts as absent", `{"ForAllValues:StringEquals":{"kms:GrantOperations":"Decrypt"}}`, nil,
			ctx(policy.Multi("kms:GrantOperations")), true},
		{"ForAnyValue negated: some value matches none", `{"ForAnyValue:StringNotEquals":{"kms:GrantOperations":"Decrypt"}}`, nil,
			ctx(policy.Multi("kms:GrantOperations", "Decrypt", "Encrypt")), true},
		{"ForAllValues negated: no value matches", `{"ForAllValues:StringNotEquals":{"kms:GrantOperations":"Decrypt"}}`, nil,
			ctx(policy.Multi("kms:GrantOperations", "Decrypt", "Encrypt")), false},
		{"ForAnyValue negated: absent false", `{"ForAnyValue:StringNotEquals":{"kms:GrantOperations":"Decrypt"}}`, nil, nil, false},
		{"ForAnyValue IfExists: absent true", `{"ForAnyValue:StringEqualsIfExists":{"kms:GrantOperations":"Decrypt"}}`, nil, nil, true},
		{"no set operator on a multi-valued key: any", `{"StringEquals":{"kms:GrantOperations":"Decrypt"}}`, nil,
			ctx(policy.Multi("kms:GrantOperations", "Encrypt", "Decrypt")), true},
		{"EncryptionContextKeys StringEquals is case-sensitive", `{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":"AppName"}}`,
			map[string]string{"appname": "x"}, nil, false},
		{"EncryptionContext value StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"kms:encryptioncontext:APPNAME":"EXAMPLE"}}`,
			map[string]string{"AppName": "example"}, nil, true},
		{"a policy variable is the request's value", `{"StringEquals":{"k":"${aws:username}"}}`, nil, ctx(one("k", "Alice")), true},
		{"a policy variable of another value", `{"StringEquals":{"k":"${aws:username}"}}`, nil, ctx(one("k", "Bob")), false},
	}
	for _, c := range cases {
		doc, err := policy.Parse(stmt(okMembers + `,"Condition":` + c.cond))
		if err != nil {
			t.Errorf("%s: Parse: %v", c.spec, err)
			continue
		}
		r := &policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: keyARN, ResourceAccount: keyAcct,
			Time: now, EncryptionContext: c.ec, Context: c.ctx}
		if got := doc.Evaluate(r).Allowed(); got != c.want {
			t.Errorf("§5.3 %s: %s = %v, want %v", c.spec, c.cond, got, c.want)
		}
	}
}

// TestNotElements: P14, NotPrincipal, NotAction and NotResource with IAM
// semantics; statements without Action or Resource have no effect (§2.1).
func TestNotElements(t *testing.T) {
	cases := []struct {
		spec, members string
		caller        policy.Principal
		action        string
		want          policy.Effect
	}{
		{"P14 NotAction", `"Effect":"Allow","Principal":"*","NotAction":["kms:Schedule*","kms:Put*"],"Resource":"*"`, alice, "kms:Encrypt", policy.Allow},
		{"P14 NotAction excludes", `"Effect":"Allow","Principal":"*","NotAction":["kms:Schedule*","kms:Put*"],"Resource":"*"`, alice, "kms:PutKeyPolicy", policy.ImplicitDeny},
		{"P14 NotPrincipal Deny exempts the named", `"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"`, alice, "kms:Encrypt", policy.ImplicitDeny},
		{"P14 NotPrincipal Deny hits the others", `"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"`, bob, "kms:Encrypt", policy.ExplicitDeny},
		{"P14 NotResource: this key is excluded", `"Effect":"Deny","Principal":"*","Action":"kms:*","NotResource":"` + keyARN + `"`, alice, "kms:Encrypt", policy.ImplicitDeny},
		{"P14 NotResource: other keys", `"Effect":"Deny","Principal":"*","Action":"kms:*","NotResource":"arn:aws:kms:*:*:key/other"`, alice, "kms:Encrypt", policy.ExplicitDeny},
		{"§2.1 no Action: no effect", `"Effect":"Deny","Principal":"*","Resource":"*"`, alice, "kms:Encrypt", policy.ImplicitDeny},
		{"§2.1 no Resource: no effect", `"Effect":"Allow","Principal":"*","Action":"kms:*"`, alice, "kms:Encrypt", policy.ImplicitDeny},
		{"Resource pattern for another key", `"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"arn:aws:kms:us-west-2:111122223333:key/other"`, alice, "kms:Encrypt", policy.ImplicitDeny},
	}
	for _, c := range cases {
		doc, err := policy.Parse(stmt(c.members))
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		got := doc.Evaluate(&policy.Request{Action: c.action, Caller: c.caller, Resource: keyARN})
		if got.Effect != c.want {
			t.Errorf("%s: %v, want %v", c.spec, got.Effect, c.want)
		}
	}
}

// TestSourceIPImplied: aws:SourceIp and aws:VpcSourceIp from
// Request.SourceIP and Request.VPCSourceIP (§5.2), which an IP address
// condition compares without formatting them, decide as the same address
// given as text in Request.Context does.
func TestSourceIPImplied(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.7")
	cases := []struct {
		spec, cond string
		src, vpc   netip.Addr
		ctx        policy.Context
		want       bool
	}{
		{"IpAddress CIDR", `{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, v4, netip.Addr{}, nil, true},
		{"IpAddress outside", `{"IpAddress":{"aws:SourceIp":"198.51.100.0/24"}}`, v4, netip.Addr{}, nil, false},
		{"IpAddress one address", `{"IpAddress":{"aws:SourceIp":"192.0.2.7"}}`, v4, netip.Addr{}, nil, true},
		{"IPv4-mapped IPv6 is IPv4", `{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, netip.MustParseAddr("::ffff:192.0.2.7"), netip.Addr{}, nil, true},
		{"IPv6", `{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]}}`, netip.MustParseAddr("2001:db8::1"), netip.Addr{}, nil, false},
		{"key names are case-insensitive", `{"IpAddress":{"AWS:SOURCEIP":"192.0.2.0/24"}}`, v4, netip.Addr{}, nil, true},
		{"StringEquals compares the text", `{"StringEquals":{"aws:SourceIp":"192.0.2.7"}}`, v4, netip.Addr{}, nil, true},
		{"StringLike on the text", `{"StringLike":{"aws:SourceIp":"192.0.3.*"}}`, v4, netip.Addr{}, nil, false},
		{"absent: IpAddress false", `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`, netip.Addr{}, netip.Addr{}, nil, false},
		{"absent: IfExists true", `{"IpAddressIfExists":{"aws:SourceIp":"192.0.2.0/24"}}`, netip.Addr{}, netip.Addr{}, nil, true},
		{"Null: present", `{"Null":{"aws:SourceIp":"false"}}`, v4, netip.Addr{}, nil, true},
		{"aws:VpcSourceIp is its own key", `{"Null":{"aws:VpcSourceIp":"true"}}`, v4, netip.Addr{}, nil, true},
		{"aws:VpcSourceIp", `{"IpAddress":{"aws:VpcSourceIp":"10.0.0.0/8"}}`, netip.Addr{}, netip.MustParseAddr("10.1.2.3"), nil, true},
		{"Context wins", `{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, v4, netip.Addr{}, policy.Context{policy.Single("aws:SourceIp", "198.51.100.1")}, false},
		{"a policy variable", `{"StringEquals":{"k":"${aws:SourceIp}"}}`, v4, netip.Addr{}, policy.Context{policy.Single("k", "192.0.2.7")}, true},
	}
	for _, c := range cases {
		doc, err := policy.Parse(stmt(okMembers + `,"Condition":` + c.cond))
		if err != nil {
			t.Fatalf("%s: Parse: %v", c.spec, err)
		}
		r := &policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: keyARN, ResourceAccount: keyAcct,
			SourceIP: c.src, VPCSourceIP: c.vpc, Context: c.ctx}
		if got := doc.Evaluate(r).Allowed(); got != c.want {
			t.Errorf("§5.2 %s: %s = %v, want %v", c.spec, c.cond, got, c.want)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		addr := func(label string) netip.Addr {
			if rapid.Bool().Draw(t, label+"-v6") {
				return netip.AddrFrom16([16]byte(rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, label)))
			}
			return netip.AddrFrom4([4]byte(rapid.SliceOfN(rapid.Byte(), 4, 4).Draw(t, label)))
		}
		a, p := addr("addr"), addr("prefix")
		bits := rapid.IntRange(0, p.BitLen()).Draw(t, "bits")
		op := rapid.SampledFrom([]string{"IpAddress", "NotIpAddress", "StringEquals", "StringNotLike"}).Draw(t, "op")
		val := netip.PrefixFrom(p, bits).Masked().String()
		if op == "StringNotLike" {
			val = p.String()
		}
		doc, err := policy.Parse(stmt(okMembers + `,"Condition":{"` + op + `":{"aws:SourceIp":"` + val + `"}}`))
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		implied := &policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: keyARN, ResourceAccount: keyAcct, SourceIP: a}
		text := &policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: keyARN, ResourceAccount: keyAcct,
			Context: policy.Context{policy.Single("aws:SourceIp", a.String())}}
		if got, want := doc.Evaluate(implied).Allowed(), doc.Evaluate(text).Allowed(); got != want {
			t.Fatalf("%s %s for %s: implied %v, as text %v", op, val, a, got, want)
		}
	})
}
