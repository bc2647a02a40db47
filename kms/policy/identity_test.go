package policy_test

import (
	"errors"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// TestParseIdentity: an identity-based policy follows IAM's statement
// rules (D59): no Principal or NotPrincipal, an Action and a Resource
// required; everything else as Parse checks it.
func TestParseIdentity(t *testing.T) {
	bad := []struct{ name, text, msg string }{
		{"Principal", stmt(okMembers), "Policy document should not specify a principal."},
		{"NotPrincipal", stmt(`"Effect":"Deny","NotPrincipal":"*","Action":"kms:*","Resource":"*"`), "Policy document should not specify a principal."},
		{"no Action", stmt(`"Effect":"Allow","Resource":"*"`), "Policy statement must contain actions."},
		{"no Resource", stmt(`"Effect":"Allow","Action":"kms:*"`), "Policy statement must contain resources."},
		{"grammar as Parse", stmt(`"Effect":"allow","Action":"kms:*","Resource":"*"`), "Policy contains a statement with an invalid Effect. Effect must be Allow or Deny."},
		{"not JSON", `{`, ""},
	}
	for _, c := range bad {
		_, err := policy.ParseIdentity(c.text)
		if !errors.Is(err, policy.ErrMalformed) || policy.Message(err) != c.msg {
			t.Errorf("%s: %v, want ErrMalformed %q", c.name, err, c.msg)
		}
	}
	d, err := policy.ParseIdentity(stmt(`"Effect":"Allow","NotAction":"kms:Delete*","NotResource":"arn:aws:kms:*:444455556666:key/*"`))
	if err != nil {
		t.Fatal(err)
	}
	if !d.IsIdentity() || d.IsDefault() {
		t.Errorf("IsIdentity %v, IsDefault %v", d.IsIdentity(), d.IsDefault())
	}
	if k, _ := policy.Parse(stmt(okMembers)); k.IsIdentity() {
		t.Error("a key policy reports IsIdentity")
	}
}

// TestIdentityEvaluate: an identity-based policy's statements apply to
// any caller (the policy's owner is chosen by whoever evaluates it), and
// its Allow is direct.
func TestIdentityEvaluate(t *testing.T) {
	d, err := policy.ParseIdentity(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt"],"Resource":"arn:aws:kms:*:111122223333:key/*"},
		{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*","Condition":{"StringNotEquals":{"kms:EncryptionContext:app":"web"}}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	key := "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	other := "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	alice := policy.MustParsePrincipal("arn:aws:iam::111122223333:user/alice")
	stranger := policy.MustParsePrincipal("arn:aws:iam::999999999999:role/x")
	cases := []struct {
		name   string
		req    policy.Request
		effect policy.Effect
	}{
		{"allowed action on the account's key", policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: key}, policy.Allow},
		{"any caller: the statement has no principal", policy.Request{Action: "kms:Encrypt", Caller: stranger, Resource: key}, policy.Allow},
		{"another account's key", policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: other}, policy.ImplicitDeny},
		{"an action not listed", policy.Request{Action: "kms:DescribeKey", Caller: alice, Resource: key}, policy.ImplicitDeny},
		{"Deny by condition", policy.Request{Action: "kms:Decrypt", Caller: alice, Resource: key}, policy.ExplicitDeny},
		{"condition met", policy.Request{Action: "kms:Decrypt", Caller: alice, Resource: key, EncryptionContext: map[string]string{"app": "web"}}, policy.Allow},
		{"Resource * is not a key ARN pattern", policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: "*"}, policy.ImplicitDeny},
	}
	for _, c := range cases {
		dec := d.Evaluate(&c.req)
		if dec.Effect != c.effect {
			t.Errorf("%s: %v, want %v", c.name, dec, c.effect)
		}
		if dec.Direct() != (c.effect == policy.Allow) {
			t.Errorf("%s: Direct %v", c.name, dec.Direct())
		}
	}
}

// TestDirect: spec §3.2 rule 3, D59 and D62. A key policy's Allow
// through the caller's account principal delegates to IAM (Direct false);
// one that names the caller, its role, "*", or leaves it out of
// NotPrincipal is direct; only one that names the session itself is
// Exact.
func TestDirect(t *testing.T) {
	session := policy.MustParsePrincipal("arn:aws:sts::111122223333:assumed-role/app/s1")
	cases := []struct {
		name, principal string
		direct, exact   bool
	}{
		{"account root", `{"AWS":"arn:aws:iam::111122223333:root"}`, false, false},
		{"bare account ID", `{"AWS":"111122223333"}`, false, false},
		{"the session's role", `{"AWS":"arn:aws:iam::111122223333:role/app"}`, true, false},
		{"the session", `{"AWS":"arn:aws:sts::111122223333:assumed-role/app/s1"}`, true, true},
		{"everyone", `"*"`, true, false},
		{"account and role", `{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:role/app"]}`, true, false},
		{"role, then the session", `{"AWS":["arn:aws:iam::111122223333:role/app","arn:aws:sts::111122223333:assumed-role/app/s1"]}`, true, true},
	}
	for _, c := range cases {
		d, err := policy.Parse(stmt(`"Effect":"Allow","Principal":` + c.principal + `,"Action":"kms:*","Resource":"*"`))
		if err != nil {
			t.Fatal(c.name, err)
		}
		dec := d.Evaluate(&policy.Request{Action: "kms:Encrypt", Caller: session, Resource: "arn:aws:kms:us-east-1:111122223333:key/k"})
		if !dec.Allowed() || dec.Direct() != c.direct || dec.Exact() != c.exact {
			t.Errorf("%s: %v, Direct %v, Exact %v, want Allow, %v, %v", c.name, dec, dec.Direct(), dec.Exact(), c.direct, c.exact)
		}
	}
	d, _ := policy.Parse(stmt(`"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"kms:*","Resource":"*"`))
	if dec := d.Evaluate(&policy.Request{Action: "kms:Encrypt", Caller: session, Resource: "k"}); !dec.Direct() || dec.Exact() {
		t.Errorf("NotPrincipal: %v, Direct %v, Exact %v", dec, dec.Direct(), dec.Exact())
	}
	d, _ = policy.Parse(stmt(`"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"`))
	if dec := d.Evaluate(&policy.Request{Action: "kms:Encrypt", Caller: session, Resource: "k"}); dec.Direct() {
		t.Errorf("a Deny is direct: %v", dec)
	}
}

// TestIdentityDeniedMessage: P7's identity-based wordings (D59), the
// second as recorded for CreateKey on resource "*".
func TestIdentityDeniedMessage(t *testing.T) {
	user := "arn:aws:iam::515586596370:user/ausg-jun"
	if got, want := policy.IdentityDeniedMessage(user, "CreateKey", "*", false),
		"User: arn:aws:iam::515586596370:user/ausg-jun is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got, want := policy.IdentityDeniedMessage(user, "kms:Decrypt", "arn:aws:kms:us-east-1:515586596370:key/k", true),
		"User: arn:aws:iam::515586596370:user/ausg-jun is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:515586596370:key/k with an explicit deny in an identity-based policy"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestBoundedNotPrincipal: D62, after the IAM User Guide ("Permissions
// boundaries for IAM entities"): a Deny statement with NotPrincipal
// applies to a caller with a permissions boundary whatever NotPrincipal
// names; an Allow with NotPrincipal does not change.
func TestBoundedNotPrincipal(t *testing.T) {
	alice := policy.MustParsePrincipal("arn:aws:iam::111122223333:user/alice")
	d, err := policy.Parse(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"},
		{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:Decrypt","Resource":"*"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		action  string
		bounded bool
		effect  policy.Effect
	}{
		{"kms:Decrypt", false, policy.Allow},
		{"kms:Decrypt", true, policy.ExplicitDeny},
		{"kms:Encrypt", true, policy.Allow},
	} {
		if got := d.Evaluate(&policy.Request{Action: c.action, Caller: alice, Resource: "k", Bounded: c.bounded}).Effect; got != c.effect {
			t.Errorf("%s, bounded %v: %v, want %v", c.action, c.bounded, got, c.effect)
		}
	}
	allow, _ := policy.Parse(stmt(`"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"kms:*","Resource":"*"`))
	if dec := allow.Evaluate(&policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: "k", Bounded: true}); !dec.Allowed() {
		t.Errorf("an Allow with NotPrincipal, bounded: %v", dec)
	}
}

// TestDeniedMessage: IAM's wordings for each policy type (D62), as AWS
// services' AccessDenied messages carry them: a permissions boundary is
// "a permissions boundary", not "… policy".
func TestDeniedMessage(t *testing.T) {
	const head = "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Encrypt on resource: * "
	for _, c := range []struct {
		t        policy.PolicyType
		explicit bool
		tail     string
	}{
		{policy.ResourceBased, true, "with an explicit deny in a resource-based policy"},
		{policy.IdentityBased, false, "because no identity-based policy allows the kms:Encrypt action"},
		{policy.ServiceControl, true, "with an explicit deny in a service control policy"},
		{policy.ServiceControl, false, "because no service control policy allows the kms:Encrypt action"},
		{policy.PermissionsBoundary, true, "with an explicit deny in a permissions boundary"},
		{policy.PermissionsBoundary, false, "because no permissions boundary allows the kms:Encrypt action"},
		{policy.SessionPolicy, true, "with an explicit deny in a session policy"},
		{policy.SessionPolicy, false, "because no session policy allows the kms:Encrypt action"},
	} {
		if got := policy.DeniedMessage(c.t, "arn:aws:iam::111122223333:user/alice", "Encrypt", "*", c.explicit); got != head+c.tail {
			t.Errorf("got  %q\nwant %q", got, head+c.tail)
		}
	}
}

// TestParseResourceControl: the RCP grammar of AWS Organizations (D63):
// Version 2012-10-17, Deny statements with Principal "*", Action and
// Resource or NotResource.
func TestParseResourceControl(t *testing.T) {
	const ok = `"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"`
	rcp := func(members string) string { return `{"Version":"2012-10-17","Statement":[{` + members + `}]}` }
	if _, err := policy.ParseResourceControl(rcp(ok)); err != nil {
		t.Fatal(err)
	}
	if _, err := policy.ParseResourceControl(rcp(`"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Decrypt","NotResource":"arn:aws:kms:*:111122223333:key/*"`)); err != nil {
		t.Fatalf(`{"AWS":"*"}: %v`, err)
	}
	for name, text := range map[string]string{
		"no Version":    `{"Statement":[{` + ok + `}]}`,
		"old Version":   `{"Version":"2008-10-17","Statement":[{` + ok + `}]}`,
		"an Allow":      rcp(`"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"`),
		"a named role":  rcp(`"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"kms:*","Resource":"*"`),
		"NotPrincipal":  rcp(`"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"`),
		"NotAction":     rcp(`"Effect":"Deny","Principal":"*","NotAction":"kms:Describe*","Resource":"*"`),
		"no Resource":   rcp(`"Effect":"Deny","Principal":"*","Action":"kms:*"`),
		"not a policy":  `{`,
		"no statements": `{"Version":"2012-10-17","Statement":[]}`,
	} {
		if _, err := policy.ParseResourceControl(text); !errors.Is(err, policy.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

// TestPrincipalIsAWSService: aws:PrincipalIsAWSService is in every
// request, "false" but for a service principal (IAM User Guide).
func TestPrincipalIsAWSService(t *testing.T) {
	d, err := policy.Parse(stmt(`"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:PrincipalIsAWSService":"false"}}`))
	if err != nil {
		t.Fatal(err)
	}
	for arn, want := range map[string]bool{
		"arn:aws:iam::111122223333:user/alice":        true,
		"arn:aws:iam::111122223333:root":              true,
		"arn:aws:sts::111122223333:assumed-role/a/s1": true,
	} {
		if got := d.Evaluate(&policy.Request{Action: "kms:Encrypt", Caller: policy.MustParsePrincipal(arn), Resource: "k"}).Allowed(); got != want {
			t.Errorf("%s: allowed %v, want %v", arn, got, want)
		}
	}
	svc := policy.ServicePrincipal("logs.us-east-1.amazonaws.com")
	if d.Evaluate(&policy.Request{Action: "kms:Encrypt", Caller: svc, Resource: "k"}).Allowed() {
		t.Error("a service principal matched aws:PrincipalIsAWSService false")
	}
}

// TestPolicyVariables: D65, spec §5.3 ("Policy variables are allowed")
// and §5.2 (aws:username, aws:PrincipalTag/<k> … "usable as ${…} policy
// variables"), after the IAM User Guide ("IAM policy elements: Variables
// and tags"): in a 2012-10-17 policy, ${key} in a
// Resource or condition value is the request's value, ${key, 'default'}
// falls back to the default, a missing one matches nothing, ${$} is a
// dollar sign; without that Version "${…}" is literal text.
func TestPolicyVariables(t *testing.T) {
	alice := policy.MustParsePrincipal("arn:aws:iam::111122223333:user/alice")
	own := "arn:aws:kms:us-east-1:111122223333:key/k1"
	other := "arn:aws:kms:us-east-1:444455556666:key/k2"
	blue := policy.Context{policy.Single("aws:PrincipalTag/team", "blue"), policy.Single("aws:ResourceTag/team", "blue")}
	red := policy.Context{policy.Single("aws:PrincipalTag/team", "blue"), policy.Single("aws:ResourceTag/team", "red")}
	untagged := policy.Context{policy.Single("aws:ResourceTag/team", "none")}
	cases := []struct {
		name, doc, resource string
		ctx                 policy.Context
		want                bool
	}{
		{"Resource in the caller's account", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:*:${aws:PrincipalAccount}:key/*"}]}`, own, nil, true},
		{"Resource in another account", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:*:${aws:PrincipalAccount}:key/*"}]}`, other, nil, false},
		{"ABAC: tags equal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}]}`, own, blue, true},
		{"ABAC: tags differ", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}]}`, own, red, false},
		{"no value, no default", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}]}`, own, untagged, false},
		{"the default", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team, 'none'}"}}}]}`, own, untagged, true},
		{"a variable among values", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringLike":{"aws:ResourceTag/team":["${aws:PrincipalTag/team}","r*"]}}}]}`, own, red, true},
		{"${$}", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${$}blue"}}}]}`, own,
			policy.Context{policy.Single("aws:ResourceTag/team", "$blue")}, true},
		{"${*} is a literal star in a Resource", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:us-east-1:111122223333:key/${*}"}]}`, own, nil, false},
		{"${*} matches a star", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:us-east-1:111122223333:key/${*}"}]}`,
			"arn:aws:kms:us-east-1:111122223333:key/*", nil, true},
		{"a value's star is literal in StringLike", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringLike":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}-*"}}}]}`, own,
			policy.Context{policy.Single("aws:PrincipalTag/team", "b*"), policy.Single("aws:ResourceTag/team", "blue-1")}, false},
		{"the text's star stays a wildcard", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringLike":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}-*"}}}]}`, own,
			policy.Context{policy.Single("aws:PrincipalTag/team", "b*"), policy.Single("aws:ResourceTag/team", "b*-1")}, true},
		{"an ARN built from variables", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:user/*"}}}]}`, own, nil, true},
		{"no Version: literal", `{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}]}`, own,
			policy.Context{policy.Single("aws:PrincipalTag/team", "blue"), policy.Single("aws:ResourceTag/team", "${aws:PrincipalTag/team}")}, true},
	}
	for _, c := range cases {
		d, err := policy.ParseIdentity(c.doc)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := d.Evaluate(&policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: c.resource, Context: c.ctx}).Allowed()
		if got != c.want {
			t.Errorf("%s: allowed %v, want %v", c.name, got, c.want)
		}
	}
}
