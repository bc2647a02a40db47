package kms_test

import (
	"context"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// Grants to and from AWS service principals and the SourceArn constraint
// (spec §4.3, §4.5, §9 P19; decision D55).

const (
	sgLogs   = "logs.us-east-1.amazonaws.com"
	sgTrail  = "cloudtrail.amazonaws.com"
	sgSource = "arn:aws:logs:us-east-1:111122223333:log-group:app"
)

// A grant to a service principal is taken with its SourceArn and
// retiring principal, listed under the service-principal members,
// filtered by them, made again by Name idempotently, revoked and retired
// as any grant; it survives a restart.
func TestServiceGrantLifecycle(t *testing.T) {
	for name, reopen := range psStores(t) {
		t.Run(name, func(t *testing.T) {
			open := asReopener(t, reopen)
			e := open(nil)
			id, arn := e.symmetric()
			in := &kms.CreateGrantInput{KeyId: id, GranteeServicePrincipal: sgLogs, RetiringServicePrincipal: sgTrail,
				Operations: []string{"Encrypt", "Decrypt"}, Name: "logs", Constraints: &kms.GrantConstraints{SourceArn: sgSource}}
			g, err := e.s.CreateGrant(e.ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if again, err := e.s.CreateGrant(e.ctx, in); err != nil || again.GrantId != g.GrantId {
				t.Fatalf("CreateGrant again with the same Name: %+v, %v; want grant %s", again, err, g.GrantId)
			}
			other := *in
			other.Constraints = &kms.GrantConstraints{SourceArn: sgSource + "-2"}
			if o, err := e.s.CreateGrant(e.ctx, &other); err != nil || o.GrantId == g.GrantId {
				t.Fatalf("same Name, another SourceArn: %+v, %v; want another grant", o, err)
			}
			iam, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzApp, RetiringPrincipal: pzAlice,
				Operations: []string{"Encrypt"}})
			if err != nil {
				t.Fatal(err)
			}
			e = open(e.s)
			l, err := e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: id, GranteeServicePrincipal: sgLogs})
			if err != nil || len(l.Grants) != 2 {
				t.Fatalf("ListGrants by GranteeServicePrincipal after a restart: %+v, %v", l, err)
			}
			got := l.Grants[0]
			if got.GrantId != g.GrantId {
				got = l.Grants[1] // created at the same instant: listed in grant ID order after a restart
			}
			if got.GrantId != g.GrantId || got.KeyId != arn || got.GranteePrincipal != "" || got.GranteeServicePrincipal != sgLogs ||
				got.RetiringPrincipal != "" || got.RetiringServicePrincipal != sgTrail || got.Constraints == nil ||
				got.Constraints.SourceArn != sgSource || got.Constraints.EncryptionContextEquals != nil || got.Name != "logs" {
				t.Fatalf("ListGrants entry %+v", got)
			}
			l, err = e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: id, GranteePrincipal: pzApp})
			if err != nil || len(l.Grants) != 1 || l.Grants[0].GrantId != iam.GrantId || l.Grants[0].GranteeServicePrincipal != "" ||
				l.Grants[0].RetiringPrincipal != pzAlice || l.Grants[0].Constraints != nil {
				t.Fatalf("ListGrants by GranteePrincipal: %+v, %v", l, err)
			}
			// D55: each filter names its own kind of principal.
			for _, in := range []*kms.ListGrantsInput{{KeyId: id, GranteePrincipal: sgLogs}, {KeyId: id, GranteeServicePrincipal: pzApp}} {
				if l, err := e.s.ListGrants(e.ctx, in); err != nil || len(l.Grants) != 0 {
					t.Fatalf("ListGrants %+v: %+v, %v; want none", in, l, err)
				}
			}
			if r, err := e.s.ListRetirableGrants(e.ctx, &kms.ListRetirableGrantsInput{RetiringPrincipal: sgTrail}); err != nil || len(r.Grants) != 0 {
				t.Fatalf("ListRetirableGrants with a service name as RetiringPrincipal: %+v, %v; want none", r, err)
			}
			r, err := e.s.ListRetirableGrants(e.ctx, &kms.ListRetirableGrantsInput{RetiringServicePrincipal: sgTrail})
			if err != nil || len(r.Grants) != 2 {
				t.Fatalf("ListRetirableGrants by RetiringServicePrincipal: %+v, %v", r, err)
			}
			if _, err := e.s.RevokeGrant(e.ctx, &kms.RevokeGrantInput{KeyId: id, GrantId: g.GrantId}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.s.RetireGrant(e.ctx, &kms.RetireGrantInput{KeyId: arn, GrantId: iam.GrantId}); err != nil {
				t.Fatalf("RetireGrant by the key's account: %v", err)
			}
			l, err = e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: id})
			if err != nil || len(l.Grants) != 1 || l.Grants[0].Constraints.SourceArn != sgSource+"-2" {
				t.Fatalf("ListGrants after the revocation and the retirement: %+v, %v", l, err)
			}
			if err := e.s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// D55, D61: only a service principal calls on behalf of an AWS resource
// (WithServicePrincipal), so a grant with a SourceArn constraint allows no
// direct call, even of an IAM grantee it names; the same grant without
// the constraint allows.
func TestServiceGrantSourceArnAllowsNoDirectCall(t *testing.T) {
	e := fxNew(t)
	id, arn := e.symmetric()
	partner := e.as2(pzPartner)
	if _, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzPartner, Operations: []string{"Encrypt"},
		Constraints: &kms.GrantConstraints{SourceArn: sgSource}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.s.Encrypt(partner, &kms.EncryptInput{KeyId: arn, Plaintext: []byte("p")})
	pzDenied(t, err, pzPartner, "kms:Encrypt", arn, false)
	if _, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: pzPartner, Operations: []string{"Encrypt"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Encrypt(partner, &kms.EncryptInput{KeyId: arn, Plaintext: []byte("p")}); err != nil {
		t.Fatalf("Encrypt under the grant without SourceArn: %v", err)
	}
}

// D55: the SDK's rules for the service-principal members, and the form of
// a service principal and of a SourceArn; nothing is created.
func TestServiceGrantRefusals(t *testing.T) {
	e := fxNew(t)
	id, _ := e.symmetric()
	src := &kms.GrantConstraints{SourceArn: sgSource}
	ops := []string{"Encrypt"}
	for _, c := range []struct {
		in  kms.CreateGrantInput
		msg string
	}{
		{kms.CreateGrantInput{GranteePrincipal: pzApp, GranteeServicePrincipal: sgLogs, Operations: ops},
			"Specify either GranteePrincipal or GranteeServicePrincipal, but not both."},
		{kms.CreateGrantInput{GranteePrincipal: pzApp, RetiringPrincipal: pzAlice, RetiringServicePrincipal: sgTrail, Operations: ops},
			"Specify either RetiringPrincipal or RetiringServicePrincipal, but not both."},
		{kms.CreateGrantInput{GranteeServicePrincipal: sgLogs, RetiringPrincipal: pzAlice, Operations: ops},
			"A grant to a service principal (GranteeServicePrincipal) requires a SourceArn constraint."},
		{kms.CreateGrantInput{GranteeServicePrincipal: sgLogs, Operations: ops, Constraints: src},
			"A grant to a service principal (GranteeServicePrincipal) requires a RetiringPrincipal or a RetiringServicePrincipal."},
		{kms.CreateGrantInput{GranteeServicePrincipal: pzApp, RetiringPrincipal: pzAlice, Operations: ops, Constraints: src},
			"'" + pzApp + "' at 'granteeServicePrincipal' is not a valid service principal."},
		{kms.CreateGrantInput{GranteeServicePrincipal: "amazonaws.com", RetiringPrincipal: pzAlice, Operations: ops, Constraints: src},
			"'amazonaws.com' at 'granteeServicePrincipal' is not a valid service principal."},
		{kms.CreateGrantInput{GranteeServicePrincipal: "Logs.amazonaws.com", RetiringPrincipal: pzAlice, Operations: ops, Constraints: src},
			"'Logs.amazonaws.com' at 'granteeServicePrincipal' is not a valid service principal."},
		{kms.CreateGrantInput{GranteePrincipal: pzApp, RetiringServicePrincipal: "logs..amazonaws.com", Operations: ops},
			"'logs..amazonaws.com' at 'retiringServicePrincipal' is not a valid service principal."},
		{kms.CreateGrantInput{GranteePrincipal: pzApp, Operations: ops, Constraints: &kms.GrantConstraints{SourceArn: "arn:aws:logs"}},
			"'arn:aws:logs' at 'constraints.sourceArn' is not a valid ARN."},
	} {
		in := c.in
		in.KeyId = id
		_, err := e.s.CreateGrant(e.ctx, &in)
		fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.CreateGrant, Msg: c.msg})
	}
	_, err := e.s.ListRetirableGrants(e.ctx, &kms.ListRetirableGrantsInput{RetiringPrincipal: pzAlice, RetiringServicePrincipal: sgTrail})
	fxCheckErr(t, err, fxWant{Code: keystate.ErrValidation, Op: keystate.ListRetirableGrants,
		Msg: "Specify either RetiringPrincipal or RetiringServicePrincipal, but not both."})
	if l, err := e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: id}); err != nil || len(l.Grants) != 0 {
		t.Fatalf("after the refusals: %+v, %v", l, err)
	}
	// China's service principals end in .amazonaws.com.cn.
	if _, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteeServicePrincipal: "logs.cn-north-1.amazonaws.com.cn",
		RetiringPrincipal: pzAlice, Operations: ops, Constraints: src}); err != nil {
		t.Fatal(err)
	}
}

// Spec §4.10: CreateGrant's condition keys for the service-principal
// members: a key policy may allow grants to one service only.
func TestServiceGrantConditionKeys(t *testing.T) {
	e := fxNew(t)
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"` + pzApp + `"},"Action":"kms:PutKeyPolicy","Resource":"*"},
	 {"Effect":"Allow","Principal":{"AWS":"` + pzApp + `"},"Action":"kms:CreateGrant","Resource":"*",
	  "Condition":{"StringEquals":{"kms:GranteeServicePrincipal":"` + sgLogs + `","kms:GrantConstraintSourceArn":"` + sgSource + `"}}}]}`
	out, err := e.s.CreateKey(e.as2(pzApp), &kms.CreateKeyInput{Policy: doc})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := out.KeyMetadata.KeyId, out.KeyMetadata.Arn
	app := e.as2(pzApp)
	grant := func(ctx context.Context, grantee, source string) error {
		_, err := e.s.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: id, GranteeServicePrincipal: grantee, RetiringPrincipal: pzApp,
			Operations: []string{"Decrypt"}, Constraints: &kms.GrantConstraints{SourceArn: source}})
		return err
	}
	if err := grant(app, sgLogs, sgSource); err != nil {
		t.Fatalf("the grant the policy allows: %v", err)
	}
	pzDenied(t, grant(app, sgTrail, sgSource), pzApp, "kms:CreateGrant", arn, false)
	pzDenied(t, grant(app, sgLogs, sgSource+"-other"), pzApp, "kms:CreateGrant", arn, false)
}

// A grant to a bare account ID (which CreateGrant takes, as a principal)
// beside one to a service principal reads back after a restart: a
// record's principal is an IAM principal when it parses as one.
func TestServiceGrantRecordsReadBack(t *testing.T) {
	for name, reopen := range psStores(t) {
		t.Run(name, func(t *testing.T) {
			open := asReopener(t, reopen)
			e := open(nil)
			id, _ := e.symmetric()
			for _, in := range []*kms.CreateGrantInput{
				{KeyId: id, GranteePrincipal: "444455556666", RetiringPrincipal: "111122223333", Operations: []string{"Encrypt"}},
				{KeyId: id, GranteeServicePrincipal: sgLogs, RetiringPrincipal: "111122223333", Operations: []string{"Encrypt"},
					Constraints: &kms.GrantConstraints{SourceArn: sgSource}},
			} {
				if _, err := e.s.CreateGrant(e.ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			e = open(e.s)
			l, err := e.s.ListGrants(e.ctx, &kms.ListGrantsInput{KeyId: id, GranteePrincipal: "444455556666"})
			if err != nil || len(l.Grants) != 1 || l.Grants[0].RetiringPrincipal != "111122223333" {
				t.Fatalf("the account grant after a restart: %+v, %v", l, err)
			}
			if _, err := e.s.Encrypt(e.as2("arn:aws:iam::444455556666:role/r"), &kms.EncryptInput{KeyId: l.Grants[0].KeyId, Plaintext: []byte("p")}); err != nil {
				t.Fatalf("Encrypt under the account grant after a restart: %v", err)
			}
			if err := e.s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
