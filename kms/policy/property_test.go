package policy_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms/policy"
	"pgregory.net/rapid"
)

// kmsActions are the key-resource actions of spec §4.1.
var kmsActions = []string{
	"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
	"kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext", "kms:Sign", "kms:Verify",
	"kms:GenerateMac", "kms:VerifyMac", "kms:DeriveSharedSecret", "kms:Encapsulate", "kms:Decapsulate",
	"kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:DescribeKey", "kms:GetPublicKey", "kms:GetKeyRotationStatus",
	"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant", "kms:GetKeyPolicy", "kms:PutKeyPolicy",
	"kms:ListKeyPolicies", "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource",
	"kms:UpdateKeyDescription", "kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion",
	"kms:CancelKeyDeletion", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:RotateKeyOnDemand",
	"kms:ListKeyRotations", "kms:GetParametersForImport", "kms:ImportKeyMaterial",
	"kms:DeleteImportedKeyMaterial", "kms:ReplicateKey", "kms:UpdatePrimaryRegion", "kms:CreateAlias",
	"kms:UpdateAlias", "kms:DeleteAlias",
}

// genCaller draws a principal of one of three accounts.
func genCaller(t *rapid.T, accounts ...string) policy.Principal {
	acct := rapid.SampledFrom(accounts).Draw(t, "account")
	name := rapid.StringMatching(`[A-Za-z0-9+=,.@_-]{1,12}`).Draw(t, "name")
	var arn string
	switch rapid.IntRange(0, 4).Draw(t, "kind") {
	case 0:
		arn = "arn:aws:iam::" + acct + ":root"
	case 1:
		arn = "arn:aws:iam::" + acct + ":user/" + name
	case 2:
		arn = "arn:aws:iam::" + acct + ":role/" + name
	case 3:
		arn = "arn:aws:sts::" + acct + ":assumed-role/" + name + "/s-" + name
	default:
		arn = "arn:aws:sts::" + acct + ":federated-user/" + name
	}
	return policy.MustParsePrincipal(arn)
}

// genStatement draws one statement as a JSON-ready map from small pools,
// so that statements and requests often meet.
func genStatement(t *rapid.T, effect string) map[string]any {
	s := map[string]any{"Effect": effect}
	principals := []any{"*", map[string]any{"AWS": "111122223333"}, map[string]any{"AWS": "arn:aws:iam::444455556666:root"},
		map[string]any{"AWS": "arn:aws:iam::111122223333:role/R"}, map[string]any{"AWS": []string{"arn:aws:sts::111122223333:assumed-role/R/s-R", "arn:aws:iam::111122223333:user/U"}}}
	p := rapid.SampledFrom(principals).Draw(t, "principal")
	if rapid.IntRange(0, 5).Draw(t, "not") == 0 {
		s["NotPrincipal"] = p
	} else {
		s["Principal"] = p
	}
	actions := []any{"kms:*", "kms:Encrypt", "kms:Create*", "kms:Describe*", []string{"kms:ReEncrypt*", "kms:Decrypt"}, "KMS:encrypt", "kms:?ncrypt"}
	if rapid.IntRange(0, 5).Draw(t, "notAction") == 0 {
		s["NotAction"] = rapid.SampledFrom(actions).Draw(t, "action")
	} else {
		s["Action"] = rapid.SampledFrom(actions).Draw(t, "action")
	}
	resources := []any{"*", keyARN, "arn:aws:kms:*:111122223333:key/*", "arn:aws:kms:us-west-2:111122223333:key/other"}
	s["Resource"] = rapid.SampledFrom(resources).Draw(t, "resource")
	conds := []any{nil,
		map[string]any{"StringEquals": map[string]any{"kms:ViaService": "ec2.us-west-2.amazonaws.com"}},
		map[string]any{"Bool": map[string]any{"kms:GrantIsForAWSResource": true}},
		map[string]any{"StringEquals": map[string]any{"kms:EncryptionContext:app": "a"}},
		map[string]any{"ForAllValues:StringEquals": map[string]any{"kms:EncryptionContextKeys": []string{"app", "b"}}},
		map[string]any{"Null": map[string]any{"kms:EncryptionContextKeys": "true"}},
		map[string]any{"StringNotEquals": map[string]any{"kms:CallerAccount": "111122223333"}},
	}
	if c := rapid.SampledFrom(conds).Draw(t, "condition"); c != nil {
		s["Condition"] = c
	}
	return s
}

func genRequest(t *rapid.T) *policy.Request {
	r := &policy.Request{
		Action:          rapid.SampledFrom(kmsActions).Draw(t, "requestAction"),
		Caller:          genCaller(t, "111122223333", "444455556666", "777788889999"),
		Resource:        keyARN,
		ResourceAccount: keyAcct,
	}
	if rapid.Bool().Draw(t, "ec") {
		r.EncryptionContext = map[string]string{rapid.SampledFrom([]string{"app", "b", "c"}).Draw(t, "ecKey"): "a"}
	}
	if rapid.Bool().Draw(t, "via") {
		r.Context = policy.Context{policy.Single("kms:ViaService", "ec2.us-west-2.amazonaws.com"),
			policy.Single("kms:GrantIsForAWSResource", "true")}
	}
	return r
}

func mustDoc(t *rapid.T, stmts []map[string]any) *policy.Document {
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	if err != nil {
		t.Fatal(err)
	}
	d, err := policy.Parse(string(b))
	if err != nil {
		t.Fatalf("Parse(%s): %v", b, err)
	}
	return d
}

func genStatements(t *rapid.T) []map[string]any {
	n := rapid.IntRange(1, 6).Draw(t, "n")
	var out []map[string]any
	for range n {
		out = append(out, genStatement(t, rapid.SampledFrom([]string{"Allow", "Deny"}).Draw(t, "effect")))
	}
	return out
}

// TestPropertyDenyWins: §3.2 rule 1. The decision of a document is the
// combination of its statements' decisions taken one at a time: any
// ExplicitDeny wins, then any Allow; the matched statements are exactly
// those that apply alone.
func TestPropertyDenyWins(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		stmts := genStatements(t)
		r := genRequest(t)
		got := mustDoc(t, stmts).Evaluate(r)
		want := policy.ImplicitDeny
		var allow, deny []int
		for i, s := range stmts {
			switch mustDoc(t, []map[string]any{s}).Evaluate(r).Effect {
			case policy.ExplicitDeny:
				deny = append(deny, i)
				want = policy.ExplicitDeny
			case policy.Allow:
				allow = append(allow, i)
				if want == policy.ImplicitDeny {
					want = policy.Allow
				}
			}
		}
		if got.Effect != want {
			t.Fatalf("Evaluate = %v, statements alone give %v (allow %v, deny %v)", got, want, allow, deny)
		}
		var matched []int
		for _, m := range got.Matched() {
			matched = append(matched, m.Index)
		}
		expect := map[policy.Effect][]int{policy.Allow: allow, policy.ExplicitDeny: deny}[want]
		if fmt.Sprint(matched) != fmt.Sprint(expect) {
			t.Fatalf("Matched = %v, want %v", matched, expect)
		}
	})
}

// TestPropertyMonotone: adding an Allow statement never removes access;
// adding a Deny statement never adds access (§3.2).
func TestPropertyMonotone(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		stmts := genStatements(t)
		r := genRequest(t)
		before := mustDoc(t, stmts).Evaluate(r).Allowed()
		extra := genStatement(t, "Allow")
		at := rapid.IntRange(0, len(stmts)).Draw(t, "at")
		with := append(append(append([]map[string]any{}, stmts[:at]...), extra), stmts[at:]...)
		if before && !mustDoc(t, with).Evaluate(r).Allowed() {
			t.Fatalf("adding Allow %v removed access", extra)
		}
		extra = genStatement(t, "Deny")
		with = append(append(append([]map[string]any{}, stmts[:at]...), extra), stmts[at:]...)
		if !before && mustDoc(t, with).Evaluate(r).Allowed() {
			t.Fatalf("adding Deny %v gave access", extra)
		}
	})
}

// TestPropertyDefault: §1.1, D24: the default policy allows every principal
// of the key's account every kms action, and no principal of another
// account anything.
func TestPropertyDefault(t *testing.T) {
	doc := policy.Default("aws", keyAcct)
	rapid.Check(t, func(t *rapid.T) {
		caller := genCaller(t, keyAcct, otherAcct, "777788889999")
		r := &policy.Request{Action: rapid.SampledFrom(kmsActions).Draw(t, "action"), Caller: caller, Resource: keyARN}
		got := doc.Evaluate(r)
		want := policy.ImplicitDeny
		if caller.Account() == keyAcct {
			want = policy.Allow
		}
		if got.Effect != want {
			t.Fatalf("%s %s: %v, want %v", caller, r.Action, got, want)
		}
	})
}

// TestPropertyVariableIsLiteral: D65. A policy variable's value is
// literal in StringLike, wildcards and all: ${aws:PrincipalTag/x} matches
// a request value exactly when the two are equal, and a trailing "*" of
// the policy's own text still matches any suffix.
func TestPropertyVariableIsLiteral(t *testing.T) {
	alice := policy.MustParsePrincipal("arn:aws:iam::111122223333:user/alice")
	exact, err := policy.Parse(stmt(`"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringLike":{"k":"${aws:PrincipalTag/x}"}}`))
	if err != nil {
		t.Fatal(err)
	}
	prefix, err := policy.Parse(stmt(`"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringLike":{"k":"${aws:PrincipalTag/x}*"}}`))
	if err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(rt *rapid.T) {
		chars := rapid.SampledFrom([]rune{'a', 'b', '*', '?', 0, '$', '{', '}'})
		tag := string(rapid.SliceOfN(chars, 0, 6).Draw(rt, "tag"))
		value := string(rapid.SliceOfN(chars, 0, 6).Draw(rt, "value"))
		if rapid.Bool().Draw(rt, "same") {
			value = tag
		}
		r := &policy.Request{Action: "kms:Encrypt", Caller: alice, Resource: "k",
			Context: policy.Context{policy.Single("aws:PrincipalTag/x", tag), policy.Single("k", value)}}
		if got := exact.Evaluate(r).Allowed(); got != (value == tag) {
			rt.Fatalf("tag %q, value %q: matched %v", tag, value, got)
		}
		if got := prefix.Evaluate(r).Allowed(); got != strings.HasPrefix(value, tag) {
			rt.Fatalf("tag %q, value %q: prefix matched %v", tag, value, got)
		}
	})
}
