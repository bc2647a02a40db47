package kms

import (
	"context"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// TestGranteeIndexMatchesScan: on a key with more grants than
// granteeIndexMin, which grantAllows reads through its index by grantee,
// every caller and action finds the grant a scan of the key's grants in
// their order finds first, as grants come and go (RevokeGrant, RetireGrant).
func TestGranteeIndexMatchesScan(t *testing.T) {
	principals := []string{
		"111122223333", "arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root",
		"arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:role/team/app", "arn:aws:iam::444455556666:role/app",
		"arn:aws:sts::111122223333:assumed-role/app/s1", "arn:aws:sts::111122223333:assumed-role/app/s2",
		"arn:aws:iam::111122223333:user/alice", "arn:aws:iam::444455556666:user/bob",
	}
	// Grants name services in lower case; a caller may differ in case.
	services := []string{"LOGS.us-east-1.amazonaws.com", "logs.us-east-1.amazonaws.com", "ec2.amazonaws.com"}
	ops := []string{"Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey"}
	const sourceArn = "arn:aws:logs:us-east-1:111122223333:log-group:app"
	rapid.Check(t, func(rt *rapid.T) {
		s := New()
		ctx := context.Background()
		out, err := s.CreateKey(ctx, &CreateKeyInput{})
		if err != nil {
			rt.Fatal(err)
		}
		id := out.KeyMetadata.KeyId
		n := rapid.IntRange(granteeIndexMin+1, 3*granteeIndexMin).Draw(rt, "grants")
		var made []string
		for i := range n {
			in := &CreateGrantInput{KeyId: id, Operations: rapid.SliceOfNDistinct(rapid.SampledFrom(ops), 1, 3, func(o string) string { return o }).Draw(rt, "ops"),
				Name: rapid.SampledFrom([]string{"", "a", "b"}).Draw(rt, "name")}
			if rapid.IntRange(0, 5).Draw(rt, "service") == 0 {
				in.GranteeServicePrincipal = rapid.SampledFrom(services[1:]).Draw(rt, "svc")
				in.Constraints = &GrantConstraints{SourceArn: sourceArn}
				in.RetiringPrincipal = "arn:aws:iam::111122223333:root"
			} else {
				in.GranteePrincipal = rapid.SampledFrom(principals[1:]).Draw(rt, "grantee")
			}
			g, err := s.CreateGrant(ctx, in)
			if err != nil {
				rt.Fatalf("grant %d: %v", i, err)
			}
			if !slices.Contains(made, g.GrantId) { // a named grant made again is the same grant (D28)
				made = append(made, g.GrantId)
			}
		}
		check := func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			k := s.rg.keys.get(id)
			for range 20 {
				caller := policy.ServicePrincipal(rapid.SampledFrom(services).Draw(rt, "callersvc"))
				if rapid.Bool().Draw(rt, "iam") {
					caller = policy.MustParsePrincipal(rapid.SampledFrom(principals[1:]).Draw(rt, "caller"))
				}
				action := "kms:" + rapid.SampledFrom(ops).Draw(rt, "action")
				s.principal = caller
				s.call.reset()
				if caller.Kind() == policy.Service {
					s.call.sourceArn = sourceArn
				}
				var want *grant
				for _, g := range s.grants[k.slot] {
					if g.allows(caller, action, nil, s.call.sourceArn) {
						want = g
						break
					}
				}
				if got := s.grantAllows(k, action); got != want {
					rt.Fatalf("%s %s: grantAllows %v, a scan %v", caller, action, grantID(got), grantID(want))
				}
			}
		}
		check()
		// A named grant made again finds the oldest identical one (D28).
		checkSame := func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			k := s.rg.keys.get(id)
			for _, g := range s.grants[k.slot] {
				if g.name == "" {
					continue
				}
				in := &CreateGrantInput{Name: g.name, Operations: g.ops, RetiringPrincipal: g.retiring.ARN()}
				if g.grantee.Kind() == policy.Service {
					in.GranteeServicePrincipal = g.grantee.ARN()
					in.Constraints = &GrantConstraints{SourceArn: g.sourceArn}
				} else {
					in.GranteePrincipal = g.grantee.ARN()
				}
				var want *grant
				for _, o := range s.grants[k.slot] {
					if o.name == g.name && o.grantee.ARN() == g.grantee.ARN() && o.retiring.ARN() == g.retiring.ARN() &&
						slices.Equal(o.ops, g.ops) && o.sourceArn == g.sourceArn {
						want = o
						break
					}
				}
				if got := s.sameGrant(k, in, g.grantee); got != want {
					rt.Fatalf("sameGrant of %s: %v, a scan %v", grantID(g), grantID(got), grantID(want))
				}
			}
		}
		checkSame()
		for range rapid.IntRange(0, 10).Draw(rt, "removals") {
			i := rapid.IntRange(0, len(made)-1).Draw(rt, "which")
			if _, err := s.RevokeGrant(ctx, &RevokeGrantInput{KeyId: id, GrantId: made[i]}); err != nil {
				rt.Fatal(err)
			}
			made = slices.Delete(made, i, i+1)
			if len(made) == 0 {
				break
			}
			in := &CreateGrantInput{KeyId: id, Operations: []string{rapid.SampledFrom(ops).Draw(rt, "addop")},
				GranteePrincipal: rapid.SampledFrom(principals[1:]).Draw(rt, "addgrantee")}
			g, err := s.CreateGrant(ctx, in)
			if err != nil {
				rt.Fatal(err)
			}
			made = append(made, g.GrantId)
			check()
		}
	})
}

func grantID(g *grant) string {
	if g == nil {
		return "none"
	}
	return g.id + " to " + g.grantee.ARN()
}
