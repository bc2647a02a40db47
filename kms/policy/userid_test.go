package policy_test

import (
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms/policy"
	"pgregory.net/rapid"
)

// aws:userid (decision D77 of package kms; spec aws-kms-policies-grants.md
// §5.2; IAM User Guide, "aws:userid"): each kind of caller's value.
func TestUserID(t *testing.T) {
	const acct = "111122223333"
	role := func(p string, gen int) string {
		id, ok := policy.UserID(policy.MustParsePrincipal(p), gen)
		if !ok {
			t.Fatalf("UserID(%s): none", p)
		}
		return id
	}
	roleID := role("arn:aws:iam::"+acct+":role/app", 0)
	isUnique := func(id, prefix string) bool {
		return len(id) == 21 && strings.HasPrefix(id, prefix) && strings.Trim(id[4:], "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == ""
	}
	if !isUnique(roleID, "AROA") {
		t.Fatalf("role ID %q: want AROA and 17 of A-Z, 2-7", roleID)
	}
	for _, c := range []struct{ arn, want string }{
		{"arn:aws:iam::" + acct + ":root", acct},
		{acct, acct},
		{"arn:aws:sts::" + acct + ":federated-user/bob", acct + ":bob"},
		{"arn:aws:sts::" + acct + ":assumed-role/app/s1", roleID + ":s1"},
		{"arn:aws:iam::" + acct + ":role/team/app", roleID}, // a path is not part of the name
	} {
		if got := role(c.arn, 0); got != c.want {
			t.Errorf("UserID(%s) = %q, want %q", c.arn, got, c.want)
		}
	}
	user := role("arn:aws:iam::"+acct+":user/alice", 0)
	if !isUnique(user, "AIDA") {
		t.Errorf("user ID %q: want AIDA and 17 of A-Z, 2-7", user)
	}
	// Each of partition, account, name, kind and generation gives another ID.
	for _, other := range []string{
		role("arn:aws-cn:iam::"+acct+":role/app", 0),
		role("arn:aws:iam::444455556666:role/app", 0),
		role("arn:aws:iam::"+acct+":role/App", 0),
		role("arn:aws:iam::"+acct+":role/app", 1),
		role("arn:aws:iam::"+acct+":user/app", 0)[4:],
	} {
		if strings.HasSuffix(roleID, other[len(other)-17:]) {
			t.Errorf("%q shares its role ID's 17 characters with %q", other, roleID)
		}
	}
	for _, p := range []policy.Principal{policy.ServicePrincipal("logs.amazonaws.com"), policy.MustParsePrincipal("*")} {
		if id, ok := policy.UserID(p, 0); ok {
			t.Errorf("UserID(%s) = %q, want none", p, id)
		}
	}
}

// aws:userid in conditions: implied by the caller, picked by
// Request.Generation, absent for a service principal, and a policy
// variable.
func TestUserIDCondition(t *testing.T) {
	session := policy.MustParsePrincipal("arn:aws:sts::111122223333:assumed-role/app/s1")
	id0, _ := policy.UserID(session, 0)
	id2, _ := policy.UserID(session, 2)
	doc := func(cond string) *policy.Document {
		d, err := policy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":` + cond + `}]}`)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	req := func(caller policy.Principal, gen int) *policy.Request {
		r := &policy.Request{Action: "kms:Encrypt", Caller: caller, Resource: "arn:aws:kms:us-west-2:111122223333:key/k"}
		if gen >= 0 {
			r.Generation = func(p policy.Principal) int {
				if p.ARN() != caller.ARN() {
					t.Errorf("Generation asked of %s, the caller is %s", p, caller)
				}
				return gen
			}
		}
		return r
	}
	for _, c := range []struct {
		name, cond string
		caller     policy.Principal
		gen        int
		allowed    bool
	}{
		{"no Generation: the first ID", `{"StringEquals":{"aws:userid":"` + id0 + `"}}`, session, -1, true},
		{"the role ID and any session", `{"StringLike":{"aws:UserId":"` + strings.TrimSuffix(id0, ":s1") + `:*"}}`, session, -1, true},
		{"Generation 2", `{"StringEquals":{"aws:userid":"` + id2 + `"}}`, session, 2, true},
		{"Generation 2, the first ID", `{"StringEquals":{"aws:userid":"` + id0 + `"}}`, session, 2, false},
		{"a variable", `{"StringEquals":{"kms:EncryptionContext:owner":"${aws:userid}"}}`, session, -1, false},
		{"a service has none", `{"Null":{"aws:userid":"true"}}`, policy.ServicePrincipal("logs.amazonaws.com"), -1, true},
		{"a session has one", `{"Null":{"aws:userid":"false"}}`, session, 0, true},
	} {
		r := req(c.caller, c.gen)
		if c.name == "a variable" {
			r.EncryptionContext = map[string]string{"owner": id0}
			c.allowed = true
		}
		if got := doc(c.cond).Evaluate(r).Allowed(); got != c.allowed {
			t.Errorf("%s: allowed %v, want %v", c.name, got, c.allowed)
		}
	}
}

// UserID is a function of the principal and generation: the same answer
// each time, and a user's ID never a role's.
func TestUserIDProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		name := rapid.StringMatching(`[A-Za-z0-9+=,.@_-]{1,64}`).Draw(t, "name")
		gen := rapid.IntRange(0, 1000).Draw(t, "gen")
		u := policy.MustParsePrincipal("arn:aws:iam::111122223333:user/" + name)
		r := policy.MustParsePrincipal("arn:aws:iam::111122223333:role/" + name)
		a, _ := policy.UserID(u, gen)
		b, _ := policy.UserID(u, gen)
		c, _ := policy.UserID(r, gen)
		if a != b || a[4:] == c[4:] || len(a) != 21 || len(c) != 21 {
			t.Fatalf("user %q role %q (again %q)", a, c, b)
		}
	})
}

// deletedRoles is a DeletionCheck naming deleted principals by ARN.
type deletedRoles map[string]bool

func (d deletedRoles) DeletedSince(p policy.Principal) bool { return d[p.ARN()] }

// Request.DeletedSince and TextReplacing (decision D78 of package kms): a
// deleted user or role covers no caller in Principal, nor is excluded by
// NotPrincipal, and the text shows it replaced; sessions and accounts are
// not bound.
func TestDeletedPrincipals(t *testing.T) {
	const role, session = "arn:aws:iam::111122223333:role/app", "arn:aws:sts::111122223333:assumed-role/app/s1"
	doc, err := policy.Parse(`{"Version":"2012-10-17","Statement":[
		{"Sid":"a","Effect":"Allow","Principal":{"AWS":["` + role + `","111122223333"]},"Action":"kms:Encrypt","Resource":"*"},
		{"Sid":"d","Effect":"Deny","NotPrincipal":{"AWS":"` + role + `"},"Action":"kms:Decrypt","Resource":"*"},
		{"Sid":"s","Effect":"Allow","Principal":{"AWS":"` + session + `"},"Action":"kms:Sign","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"` + role + `"}}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	caller := policy.MustParsePrincipal(session)
	decide := func(action string, del policy.DeletionCheck) policy.Decision {
		return doc.Evaluate(&policy.Request{Action: action, Caller: caller, Resource: "arn:aws:kms:us-west-2:111122223333:key/k", DeletedSince: del})
	}
	gone := deletedRoles{role: true}
	for _, c := range []struct {
		action    string
		del       policy.DeletionCheck
		want      policy.Effect
		direct    bool
		statement string
	}{
		{"kms:Encrypt", nil, policy.Allow, true, "a"},
		{"kms:Encrypt", gone, policy.Allow, false, "a"}, // still by the account
		{"kms:Decrypt", nil, policy.ImplicitDeny, false, ""},
		{"kms:Decrypt", gone, policy.ExplicitDeny, false, "d"}, // no longer excluded
		{"kms:Sign", gone, policy.Allow, true, "s"},            // a session is not bound
	} {
		d := decide(c.action, c.del)
		if d.Effect != c.want || c.want == policy.Allow && d.Direct() != c.direct {
			t.Errorf("%s, deleted %v: %v (direct %v), want %v (direct %v)", c.action, c.del != nil, d.Effect, d.Direct(), c.want, c.direct)
		}
	}
	calls := 0
	text := doc.TextReplacing(func(p policy.Principal) (string, bool) {
		calls++
		if p.ARN() != role {
			t.Errorf("TextReplacing asked of %s", p)
		}
		return "AROAEXAMPLEEXAMPLE12", true
	})
	if calls != 2 || strings.Count(text, "AROAEXAMPLEEXAMPLE12") != 2 || strings.Count(text, role) != 1 || !strings.Contains(text, session) {
		t.Fatalf("TextReplacing (%d calls):\n%s\nwant the role's two principals replaced, its condition value kept", calls, text)
	}
	if same := doc.TextReplacing(func(policy.Principal) (string, bool) { return "", false }); same != doc.Text() {
		t.Fatalf("TextReplacing without a replacement changed the text:\n%s", same)
	}
}

// allDeleted says every user and role was deleted since.
type allDeleted struct{}

func (allDeleted) DeletedSince(policy.Principal) bool { return true }

// TestPropertyDeletedIsNobody (D78): a document whose users and roles were
// all deleted since it was written decides every request as the same
// document with each of them replaced (TextReplacing) by a principal that
// matches no caller; and TextReplacing that gives every principal back
// unchanged is Text itself.
func TestPropertyDeletedIsNobody(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		doc := mustDoc(t, genStatements(t))
		if same := doc.TextReplacing(func(p policy.Principal) (string, bool) { return p.ARN(), true }); same != doc.Text() {
			t.Fatalf("TextReplacing with each principal itself:\n%s\nText:\n%s", same, doc.Text())
		}
		gone, err := policy.Parse(doc.TextReplacing(func(policy.Principal) (string, bool) {
			return "arn:aws:iam::999999999999:role/gone", true
		}))
		if err != nil {
			t.Fatal(err)
		}
		r := genRequest(t)
		// Often a caller the statements name, so that deletion matters.
		r.Caller = policy.MustParsePrincipal(rapid.SampledFrom([]string{r.Caller.ARN(),
			"arn:aws:iam::111122223333:role/R", "arn:aws:sts::111122223333:assumed-role/R/s-R",
			"arn:aws:iam::111122223333:user/U", "arn:aws:sts::111122223333:assumed-role/R/other"}).Draw(t, "named"))
		want := gone.Evaluate(r).Effect
		r.DeletedSince = allDeleted{}
		if got := doc.Evaluate(r).Effect; got != want {
			t.Fatalf("%s by %s: deleted %v, replaced %v\n%s", r.Action, r.Caller, got, want, doc.Text())
		}
	})
}
