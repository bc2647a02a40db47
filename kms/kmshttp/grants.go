package kmshttp

import (
	"context"
	"maps"
	"slices"

	"github.com/kmsmodel/kmsmodel/kms"
)

// The grant operations (spec §4; D28): CreateGrant, ListGrants,
// ListRetirableGrants, RetireGrant and RevokeGrant, with AWS's members.
// CreateGrant takes DryRun and GrantTokens, RetireGrant and RevokeGrant
// DryRun, as the cryptographic operations do. Grants to and from AWS
// service principals (GranteeServicePrincipal, RetiringServicePrincipal)
// and the SourceArn constraint are taken and listed (D55).

// grantConstraints decodes a Constraints object into *dst.
func grantConstraints(dst **kms.GrantConstraints) field {
	// Made at its first member, so that {} is no constraint, as before.
	return objF("Constraints", func() { *dst = nil }, func() { *dst = nil }, func(r *reader, name []byte) error {
		if *dst == nil {
			*dst = &kms.GrantConstraints{}
		}
		c := *dst
		var err error
		switch string(name) {
		case "EncryptionContextEquals":
			c.EncryptionContextEquals, _, err = r.strMap("EncryptionContextEquals", "constraints.encryptionContextEquals")
		case "EncryptionContextSubset":
			c.EncryptionContextSubset, _, err = r.strMap("EncryptionContextSubset", "constraints.encryptionContextSubset")
		case "SourceArn":
			_, err = r.str("SourceArn", &c.SourceArn)
		default:
			err = r.skip()
		}
		return err
	})
}

func createGrant(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.CreateGrantInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), strsF("Operations", "operations", &in.Operations),
		strF("GranteePrincipal", &in.GranteePrincipal), strF("RetiringPrincipal", &in.RetiringPrincipal),
		grantConstraints(&in.Constraints), strF("Name", &in.Name), o.dryRunF(), o.grantTokensF(),
		strF("GranteeServicePrincipal", &in.GranteeServicePrincipal), strF("RetiringServicePrincipal", &in.RetiringServicePrincipal)}
	if err := decodeRequired(body, f, "keyId", "operations"); err != nil {
		return out, err
	}
	res, err := svc.CreateGrant(o.context(ctx), &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optStr("GrantId", res.GrantId)
	w.optStr("GrantToken", res.GrantToken)
	w.close()
	return w.b, nil
}

// grantList writes ListGrants' and ListRetirableGrants' output.
func grantList(out []byte, res *kms.ListGrantsOutput) []byte {
	w := writer{b: out}
	w.open()
	w.list("Grants")
	for i := range res.Grants {
		g := &res.Grants[i]
		w.open()
		if c := g.Constraints; c != nil {
			w.object("Constraints")
			strMap(&w, "EncryptionContextEquals", c.EncryptionContextEquals)
			strMap(&w, "EncryptionContextSubset", c.EncryptionContextSubset)
			w.optStr("SourceArn", c.SourceArn)
			w.close()
		}
		w.time("CreationDate", g.CreationDate)
		w.optStr("GrantId", g.GrantId)
		w.optStr("GranteePrincipal", g.GranteePrincipal)
		w.optStr("GranteeServicePrincipal", g.GranteeServicePrincipal)
		w.optStr("IssuingAccount", g.IssuingAccount)
		w.optStr("KeyId", g.KeyId)
		w.optStr("Name", g.Name)
		w.strList("Operations", g.Operations)
		w.optStr("RetiringPrincipal", g.RetiringPrincipal)
		w.optStr("RetiringServicePrincipal", g.RetiringServicePrincipal)
		w.close()
	}
	w.endList()
	w.optStr("NextMarker", res.NextMarker)
	w.boolean("Truncated", res.Truncated)
	w.close()
	return w.b
}

// strMap writes a map of strings, keys in order, unless it is nil.
func strMap(w *writer, n string, m map[string]string) {
	if m == nil {
		return
	}
	w.object(n)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		w.str(k, m[k])
	}
	w.close()
}

func listGrants(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.ListGrantsInput
	f := []field{strF("KeyId", &in.KeyId), i32F("Limit", &in.Limit), strF("Marker", &in.Marker),
		strF("GrantId", &in.GrantId), strF("GranteePrincipal", &in.GranteePrincipal),
		strF("GranteeServicePrincipal", &in.GranteeServicePrincipal)}
	if err := decodeRequired(body, f, "keyId"); err != nil {
		return out, err
	}
	res, err := svc.ListGrants(ctx, &in)
	if err != nil {
		return out, err
	}
	return grantList(out, res), nil
}

func listRetirableGrants(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.ListRetirableGrantsInput
	f := []field{strF("RetiringPrincipal", &in.RetiringPrincipal), i32F("Limit", &in.Limit), strF("Marker", &in.Marker),
		strF("RetiringServicePrincipal", &in.RetiringServicePrincipal)}
	if err := decodeFields(body, f); err != nil {
		return out, err
	}
	res, err := svc.ListRetirableGrants(ctx, &in)
	if err != nil {
		return out, err
	}
	return grantList(out, res), nil
}

func retireGrant(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.RetireGrantInput
	var o callOptions
	f := []field{strF("GrantToken", &in.GrantToken), strF("KeyId", &in.KeyId), strF("GrantId", &in.GrantId), o.dryRunF()}
	if err := decodeFields(body, f); err != nil {
		return out, err
	}
	_, err := svc.RetireGrant(o.context(ctx), &in)
	return out, err
}

func revokeGrant(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.RevokeGrantInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), strF("GrantId", &in.GrantId), o.dryRunF()}
	if err := decodeRequired(body, f, "keyId", "grantId"); err != nil {
		return out, err
	}
	_, err := svc.RevokeGrant(o.context(ctx), &in)
	return out, err
}
