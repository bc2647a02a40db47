package kmshttp

import (
	"context"
	"net/http"
	"net/netip"
	"strings"

	"github.com/kmsmodel/kmsmodel/kms"
)

// identityPolicy serves the identity-based policy targets, kmsmodel's own
// (decision D59 of package kms), which change or read the
// kms.IdentityPolicies the handler was given (WithIdentityPolicies); a
// change decides the next call:
//
//   - KmsModel.PutIdentityPolicy with {"PrincipalArn": a, "PolicyName": n,
//     "PolicyDocument": d} attaches d to the IAM user, group or role a
//     under n (kms.IdentityPolicies.Put) and answers {};
//   - KmsModel.GetIdentityPolicy with {"PrincipalArn": a, "PolicyName": n}
//     answers {"PolicyDocument": d}; with no PolicyName,
//     {"PolicyNames": [...]};
//   - KmsModel.DeleteIdentityPolicy with {"PrincipalArn": a, "PolicyName":
//     n} detaches it and answers {};
//   - KmsModel.AddUserToGroup and KmsModel.RemoveUserFromGroup with
//     {"GroupArn": g, "UserArn": u} change the groups' members and answer
//     {};
//   - IAM's guard rails (decision D62): KmsModel.PutPermissionsBoundary,
//     KmsModel.GetPermissionsBoundary and KmsModel.DeletePermissionsBoundary
//     with {"PrincipalArn": a} (and "PolicyDocument" to put);
//     KmsModel.PutSessionPolicy, KmsModel.GetSessionPolicy and
//     KmsModel.DeleteSessionPolicy with {"SessionArn": s}. The Get targets
//     answer {"PolicyDocument": d}, the others {};
//   - KmsModel.CreatePrincipal and KmsModel.DeletePrincipal with
//     {"PrincipalArn": a} record which IAM users and roles exist (D66);
//     CreatePrincipal answers {"UserId": id}, the user's or role's unique
//     ID (D77), DeletePrincipal {};
//   - KmsModel.GetUserId with {"PrincipalArn": a} answers {"UserId": v},
//     the value of aws:userid for a as caller (kms.IdentityPolicies.UserID,
//     D77: for a session, its role's ID, a colon and the session name).
//
// Refusals are those of kms.IdentityPolicies (ValidationException,
// MalformedPolicyDocumentException, NotFoundException). Without
// identity-based policies, each target but GetUserId (which then answers
// each user's and role's first ID) is UnknownOperationException saying
// how to get them.
func (h *Handler) identityPolicy(name string, body, out []byte) ([]byte, error) {
	iam := h.iam
	if iam == nil && name == "GetUserId" {
		iam = firstIDs
	}
	if iam == nil {
		return out, &wireError{code: "UnknownOperationException", status: http.StatusBadRequest,
			msg: "KmsModel." + name + " needs identity-based policies, which this server does not keep: " +
				"start it with --identity-policies or --identity-policy (kmssim serve), or give the handler kmshttp.WithIdentityPolicies"}
	}
	a, err := decodeModelArgs(body)
	if err != nil {
		return out, err
	}
	principal, policyName, document, group, user, session := a.principal, a.policyName, a.document, a.group, a.user, a.session
	w := writer{b: out}
	w.open()
	switch name {
	case "PutIdentityPolicy":
		err = h.iam.Put(principal, policyName, document)
	case "DeleteIdentityPolicy":
		err = h.iam.Delete(principal, policyName)
	case "AddUserToGroup":
		err = h.iam.AddUserToGroup(group, user)
	case "RemoveUserFromGroup":
		err = h.iam.RemoveUserFromGroup(group, user)
	case "PutPermissionsBoundary":
		err = h.iam.PutPermissionsBoundary(principal, document)
	case "DeletePermissionsBoundary":
		err = h.iam.DeletePermissionsBoundary(principal)
	case "PutSessionPolicy":
		err = h.iam.PutSessionPolicy(session, document)
	case "DeleteSessionPolicy":
		err = h.iam.DeleteSessionPolicy(session)
	case "CreatePrincipal":
		if err = h.iam.CreatePrincipal(principal); err == nil {
			var id string
			if id, err = h.iam.UserID(principal); err == nil {
				w.str("UserId", id)
			}
		}
	case "GetUserId":
		var id string
		if id, err = iam.UserID(principal); err == nil {
			w.str("UserId", id)
		}
	case "DeletePrincipal":
		err = h.iam.DeletePrincipal(principal)
	case "GetPermissionsBoundary", "GetSessionPolicy":
		var text string
		if name == "GetPermissionsBoundary" {
			text, err = h.iam.PermissionsBoundary(principal)
		} else {
			text, err = h.iam.SessionPolicy(session)
		}
		if err == nil {
			w.str("PolicyDocument", text)
		}
	case "GetIdentityPolicy":
		if policyName == "" {
			var names []string
			if names, err = h.iam.Names(principal); err == nil {
				w.strList("PolicyNames", append([]string{}, names...)) // [] rather than absent
			}
			break
		}
		var text string
		if text, err = h.iam.Policy(principal, policyName); err == nil {
			w.str("PolicyDocument", text)
		}
	}
	if err != nil {
		return out, err
	}
	w.close()
	return w.b, nil
}

// organizations serves the targets of AWS Organizations, kmsmodel's own
// (decisions D62 and D63 of package kms), which change or read the
// kms.Organizations the handler was given (WithOrganizations); a change
// decides the next call:
//
//   - KmsModel.PutServiceControlPolicy and KmsModel.PutResourceControlPolicy
//     with {"Target": t, "PolicyName": n, "PolicyDocument": d} attach d to
//     the account, organizational unit or organization root t under n;
//     their Get forms with {"Target": t, "PolicyName": n} answer
//     {"PolicyDocument": d}, their Delete forms detach it;
//   - KmsModel.PlaceAccount with {"AccountId": a, "OrgPath": p} places the
//     account a at the organization path p ("o-…/r-…/ou-…/"; empty: out
//     of its organization);
//   - KmsModel.SetManagementAccount with {"AccountId": a} makes a its
//     organization's management account.
//
// Without organizations, each target is UnknownOperationException saying
// how to get them.
func (h *Handler) organizations(name string, body, out []byte) ([]byte, error) {
	if h.orgs == nil {
		return out, &wireError{code: "UnknownOperationException", status: http.StatusBadRequest,
			msg: "KmsModel." + name + " needs AWS Organizations, which this server does not keep: " +
				"start it with --organizations, --scp, --rcp or --place-account (kmssim serve), or give the handler kmshttp.WithOrganizations"}
	}
	a, err := decodeModelArgs(body)
	if err != nil {
		return out, err
	}
	target, policyName, document, account, path := a.target, a.policyName, a.document, a.account, a.path
	w := writer{b: out}
	w.open()
	o := h.orgs
	var text string
	switch name {
	case "PutServiceControlPolicy":
		err = o.PutServiceControlPolicy(target, policyName, document)
	case "DeleteServiceControlPolicy":
		err = o.DeleteServiceControlPolicy(target, policyName)
	case "GetServiceControlPolicy":
		text, err = o.ServiceControlPolicy(target, policyName)
	case "PutResourceControlPolicy":
		err = o.PutResourceControlPolicy(target, policyName, document)
	case "DeleteResourceControlPolicy":
		err = o.DeleteResourceControlPolicy(target, policyName)
	case "GetResourceControlPolicy":
		text, err = o.ResourceControlPolicy(target, policyName)
	case "PlaceAccount":
		err = o.PlaceAccount(account, path)
	case "SetManagementAccount":
		err = o.SetManagementAccount(account)
	}
	if err != nil {
		return out, err
	}
	if text != "" {
		w.str("PolicyDocument", text)
	}
	w.close()
	return w.b, nil
}

// strMembers decodes the string members of the JSON object body that dst
// names into the strings it points to, skipping the others.
func strMembers(body []byte, dst map[string]*string) error {
	return decodeObject(body, func(r *reader, member []byte) error {
		if p, ok := dst[string(member)]; ok {
			_, err := r.str(string(member), p)
			return err
		}
		return r.skip()
	})
}

// The headers of kmsmodel's own that make a request one an AWS service
// makes (decisions D60 and D61 of package kms), or say where it comes from
// (D64).
const (
	headerViaService       = "X-Kmsmodel-Via-Service"
	headerServicePrincipal = "X-Kmsmodel-Service-Principal"
	headerSourceArn        = "X-Kmsmodel-Source-Arn"
	headerSourceAccount    = "X-Kmsmodel-Source-Account"
	headerCalledVia        = "X-Kmsmodel-Called-Via"
	headerPrincipalTags    = "X-Kmsmodel-Principal-Tags"
	headerSourceIP         = "X-Kmsmodel-Source-Ip"
	headerVPCEndpoint      = "X-Kmsmodel-Vpc-Endpoint"
)

// callContext returns the context of r's call by caller, as r's kmsmodel
// headers say: with X-Kmsmodel-Service-Principal, a call of that service
// principal on behalf of the resource X-Kmsmodel-Source-Arn of the account
// X-Kmsmodel-Source-Account instead of the caller's
// (kms.WithServicePrincipal); with X-Kmsmodel-Via-Service, a call made
// through that service (kms.WithViaService), after the comma-separated
// chain of services X-Kmsmodel-Called-Via (kms.WithCalledVia); by a
// caller with the principal tags X-Kmsmodel-Principal-Tags
// ("team=blue,env=prod", kms.WithPrincipalTags); from the address
// X-Kmsmodel-Source-Ip, or else the connection's (kms.WithSourceIP);
// through the VPC endpoint X-Kmsmodel-Vpc-Endpoint, one of those given
// with WithVPCEndpoints (kms.WithVPCEndpoint). A bad address or unknown
// endpoint is ValidationException.
func (h *Handler) callContext(r *http.Request, caller identity) (context.Context, error) {
	hdr := r.Header
	ctx := caller.context(r.Context())
	if v := hdr[headerServicePrincipal]; len(v) > 0 {
		ctx = kms.WithServicePrincipal(ctx, v[0], first(hdr[headerSourceArn]), first(hdr[headerSourceAccount]))
	}
	if v := hdr[headerCalledVia]; len(v) > 0 {
		chain := strings.Split(v[0], ",")
		for i := range chain {
			chain[i] = strings.TrimSpace(chain[i])
		}
		ctx = kms.WithCalledVia(ctx, chain...)
	}
	if v := hdr[headerViaService]; len(v) > 0 {
		ctx = kms.WithViaService(ctx, v[0])
	}
	if v := hdr[headerPrincipalTags]; len(v) > 0 && strings.TrimSpace(v[0]) != "" {
		tags := map[string]string{}
		for _, pair := range strings.Split(v[0], ",") {
			k, val, ok := strings.Cut(pair, "=")
			k, val = strings.TrimSpace(k), strings.TrimSpace(val)
			if !ok || k == "" {
				return nil, &wireError{code: "ValidationException", status: http.StatusBadRequest,
					msg: headerPrincipalTags + ": '" + pair + "' is not KEY=VALUE"}
			}
			tags[k] = val
		}
		ctx = kms.WithPrincipalTags(ctx, tags)
	}
	if v := hdr[headerSourceIP]; len(v) > 0 {
		ip, err := netip.ParseAddr(v[0])
		if err != nil {
			return nil, &wireError{code: "ValidationException", status: http.StatusBadRequest,
				msg: headerSourceIP + ": '" + v[0] + "' is not an IP address"}
		}
		ctx = kms.WithSourceIP(ctx, ip)
	} else if !sourcedBy(r) {
		// Not as a Server's connection gave it: from RemoteAddr (an
		// address and a port, or, as proxy middleware writes it, an
		// address alone), or none, which also drops the connection's.
		ip, _ := netip.ParseAddr(r.RemoteAddr)
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			ip = ap.Addr()
		}
		ctx = kms.WithSourceIP(ctx, ip)
	}
	if v := hdr[headerVPCEndpoint]; len(v) > 0 {
		ep := h.vpces[v[0]]
		if ep == nil {
			return nil, &wireError{code: "ValidationException", status: http.StatusBadRequest,
				msg: headerVPCEndpoint + ": '" + v[0] + "' is not a VPC endpoint of this server (kmssim serve --vpc-endpoint)"}
		}
		ctx = kms.WithVPCEndpoint(ctx, ep)
	}
	return ctx, nil
}

// endpointPolicy serves KmsModel.SetVPCEndpointPolicy, with
// {"VpcEndpointId": id, "PolicyDocument": d} (an empty or absent document
// restores AWS's full-access default), and KmsModel.GetVPCEndpointPolicy,
// with {"VpcEndpointId": id}, which answers {"PolicyDocument": d} (D64). An
// endpoint not given with WithVPCEndpoints is NotFoundException.
func (h *Handler) endpointPolicy(name string, body, out []byte) ([]byte, error) {
	a, err := decodeModelArgs(body)
	if err != nil {
		return out, err
	}
	id, document := a.endpoint, a.document
	ep := h.vpces[id]
	if ep == nil {
		return out, &wireError{code: "NotFoundException", status: http.StatusBadRequest,
			msg: "'" + id + "' is not a VPC endpoint of this server (kmssim serve --vpc-endpoint)"}
	}
	w := writer{b: out}
	w.open()
	if name == "SetVPCEndpointPolicy" {
		if err := ep.SetPolicy(document); err != nil {
			return out, err
		}
	} else {
		w.str("PolicyDocument", ep.Policy())
	}
	w.close()
	return w.b, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
