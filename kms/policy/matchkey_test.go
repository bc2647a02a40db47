package policy_test

import (
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// TestMatchKeyCoversMatches: whenever a grantee matches a caller, the
// grantee's MatchKey is among the caller's CallerMatchKeys, so that an
// index of grants by MatchKey finds every grant a scan would. The
// principals come from a small universe in which matches are frequent:
// two accounts, two partitions, roles with and without paths and their
// sessions, users, federated users, account roots, "*", and service
// names that differ only in case, some in runes that fold to ASCII.
func TestMatchKeyCoversMatches(t *testing.T) {
	universe := []string{"*", "111122223333", "444455556666"}
	for _, part := range []string{"aws", "aws-cn"} {
		for _, acct := range []string{"111122223333", "444455556666"} {
			pre := "arn:" + part + ":"
			universe = append(universe,
				pre+"iam::"+acct+":root",
				pre+"iam::"+acct+":role/app",
				pre+"iam::"+acct+":role/team/app",
				pre+"iam::"+acct+":role/App",
				pre+"sts::"+acct+":assumed-role/app/s1",
				pre+"sts::"+acct+":assumed-role/app/s2",
				pre+"sts::"+acct+":assumed-role/App/s1",
				pre+"iam::"+acct+":user/alice",
				pre+"iam::"+acct+":user/ops/alice",
				pre+"sts::"+acct+":federated-user/alice")
		}
	}
	var ps []policy.Principal
	for _, s := range universe {
		p, err := policy.ParsePrincipal(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		ps = append(ps, p)
	}
	for _, name := range []string{"logs.amazonaws.com", "LOGS.amazonaws.com", "ſ3.amazonaws.com", "s3.amazonaws.com",
		"\u212ams.amazonaws.com", "kms.amazonaws.com", "ec2.amazonaws.com"} {
		ps = append(ps, policy.ServicePrincipal(name))
	}
	pairs := 0
	for _, grantee := range ps {
		for _, caller := range ps {
			if !grantee.Matches(caller) {
				continue
			}
			pairs++
			if keys := caller.CallerMatchKeys(nil); !slices.Contains(keys, grantee.MatchKey()) {
				t.Errorf("grantee %s matches caller %s, but its key %q is not among the caller's %q", grantee, caller, grantee.MatchKey(), keys)
			}
		}
	}
	if pairs < 50 {
		t.Fatalf("only %d matching pairs: the universe tests little", pairs)
	}
	// Random service names: EqualFold-equal names share a key.
	rapid.Check(t, func(rt *rapid.T) {
		runes := []rune{'a', 'A', 'k', 'K', '\u212a', 's', 'S', 'ſ', 'ß', 'ẞ', 'σ', 'ς', 'Σ', '.', '1'}
		a := rapid.SliceOfN(rapid.SampledFrom(runes), 1, 6).Draw(rt, "a")
		b := make([]rune, len(a))
		for i, r := range a {
			b[i] = rapid.SampledFrom(append([]rune{r}, runes...)).Draw(rt, "b")
		}
		pa, pb := policy.ServicePrincipal(string(a)), policy.ServicePrincipal(string(b))
		if pa.Matches(pb) && pa.MatchKey() != pb.MatchKey() {
			rt.Fatalf("%q and %q match, keys %q and %q", string(a), string(b), pa.MatchKey(), pb.MatchKey())
		}
	})
}
