package kms

import (
	"strings"
	"sync/atomic"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// IAM's guard rails (decision D62): permissions boundaries, session
// policies and service control policies. They allow nothing by
// themselves; they bound what the other policies allow.
//
//   - A permissions boundary of a user or role, and a session policy of an
//     assumed-role session or federated user, bound the identity-based
//     policies: an identity-based Allow counts only where they allow too.
//     For a session they bound a key-policy Allow that covers it through
//     its role, "*" or a NotPrincipal, not one that names the session
//     itself; for an IAM user, no key-policy Allow that covers the user
//     other than through its account (IAM User Guide, "Permissions
//     boundaries for IAM entities": an implicit deny in a boundary does
//     not limit what a resource-based policy grants an IAM user). Grants
//     are bounded by neither.
//   - Service control policies (Organizations, organizations.go) bound
//     every principal of an account that an organization holds, its root
//     included, but service-linked roles (roles named AWSServiceRoleFor…),
//     service principals and the management account: each level (the
//     organization root, each organizational unit down to the account, the
//     account) that has policies must allow, whatever allows besides,
//     grants included.
//   - A Deny in any of them denies.

// parseGuard parses the document of a permissions boundary or session
// policy: IAM's identity-based grammar.
func parseGuard(document string) (*policy.Document, error) {
	doc, err := policy.ParseIdentity(document)
	if err != nil {
		return nil, &keystate.Error{Code: keystate.ErrMalformedPolicyDocument, Op: keystate.NoOperation, Err: err,
			Message: policy.Message(err)}
	}
	return doc, nil
}

// PutPermissionsBoundary sets the permissions boundary of the IAM user or
// role principalARN to document, replacing any it had (D62): the user's
// or role's identity-based policies then allow only what it allows too.
// A bad ARN (a group, a session, a federated user) is ValidationException,
// a bad document MalformedPolicyDocumentException.
func (ip *IdentityPolicies) PutPermissionsBoundary(principalARN, document string) error {
	o, err := boundaryOwner(principalARN)
	if err != nil {
		return err
	}
	return setDoc(ip, ip.boundaries, o, document, &ip.nBounds)
}

// boundaryOwner reads the ARN of a user or role, which take a permissions
// boundary.
func boundaryOwner(principalARN string) (identityOwner, error) {
	o, err := parseOwner(principalARN)
	if err == nil && !o.group && (o.kind == policy.User || o.kind == policy.Role) {
		return o, nil
	}
	// kmsmodel's wording, after IAM's rule.
	return identityOwner{}, identityError(keystate.ErrValidation,
		"'"+principalARN+"' is not the ARN of an IAM user or role: permissions boundaries are set for those.")
}

// DeletePermissionsBoundary removes the permissions boundary of
// principalARN. One without a boundary is NotFoundException.
func (ip *IdentityPolicies) DeletePermissionsBoundary(principalARN string) error {
	o, err := boundaryOwner(principalARN)
	if err != nil {
		return err
	}
	return dropDoc(ip, ip.boundaries, o, "The principal "+principalARN+" has no permissions boundary.", &ip.nBounds)
}

// PermissionsBoundary returns the text of principalARN's permissions
// boundary.
func (ip *IdentityPolicies) PermissionsBoundary(principalARN string) (string, error) {
	o, err := boundaryOwner(principalARN)
	if err != nil {
		return "", err
	}
	return docText(ip, ip.boundaries, o, "The principal "+principalARN+" has no permissions boundary.")
}

// setDoc parses document as a guard rail and makes it m[k]; count, if
// not nil, follows len(m).
func setDoc[K comparable](ip *IdentityPolicies, m map[K]*policy.Document, k K, document string, count *atomic.Int64) error {
	doc, err := parseGuard(document)
	if err != nil {
		return err
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	if m[k] == nil && count != nil {
		count.Add(1)
	}
	m[k] = doc
	return nil
}

// dropDoc deletes m[k], or says missing (NotFoundException); count, if
// not nil, follows len(m).
func dropDoc[K comparable](ip *IdentityPolicies, m map[K]*policy.Document, k K, missing string, count *atomic.Int64) error {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	if m[k] == nil {
		return identityError(keystate.ErrNotFound, missing)
	}
	delete(m, k)
	if count != nil {
		count.Add(-1)
	}
	return nil
}

// docText returns the text of m[k], or says missing (NotFoundException).
func docText[K comparable](ip *IdentityPolicies, m map[K]*policy.Document, k K, missing string) (string, error) {
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	if d := m[k]; d != nil {
		return d.Text(), nil
	}
	return "", identityError(keystate.ErrNotFound, missing)
}

// sessionOf reads the ARN of an assumed-role session or federated user,
// which take session policies, as the key of its policy.
func sessionOf(sessionARN string) (string, error) {
	p, err := policy.ParsePrincipal(sessionARN)
	if err == nil && (p.Kind() == policy.AssumedRole || p.Kind() == policy.FederatedUser) {
		return p.ARN(), nil
	}
	// kmsmodel's wording, after STS's rule.
	return "", identityError(keystate.ErrValidation,
		"'"+sessionARN+"' is not the ARN of an assumed-role session or a federated user: session policies are passed when those are made.")
}

// PutSessionPolicy sets the session policy of the assumed-role session or
// federated user sessionARN to document, as if it had been passed to
// AssumeRole or GetFederationToken, replacing any it had (D62): the
// session's identity-based policies (its role's or user's) then allow
// only what it allows too. A bad ARN is ValidationException, a bad
// document MalformedPolicyDocumentException.
func (ip *IdentityPolicies) PutSessionPolicy(sessionARN, document string) error {
	key, err := sessionOf(sessionARN)
	if err != nil {
		return err
	}
	return setDoc(ip, ip.sessions, key, document, nil)
}

// DeleteSessionPolicy removes the session policy of sessionARN. One
// without a session policy is NotFoundException.
func (ip *IdentityPolicies) DeleteSessionPolicy(sessionARN string) error {
	key, err := sessionOf(sessionARN)
	if err != nil {
		return err
	}
	return dropDoc(ip, ip.sessions, key, "The session "+sessionARN+" has no session policy.", nil)
}

// SessionPolicy returns the text of sessionARN's session policy.
func (ip *IdentityPolicies) SessionPolicy(sessionARN string) (string, error) {
	key, err := sessionOf(sessionARN)
	if err != nil {
		return "", err
	}
	return docText(ip, ip.sessions, key, "The session "+sessionARN+" has no session policy.")
}

// layer is what one guard rail decides of a request: on when it applies
// to the caller.
type layer struct {
	on     bool
	effect policy.Effect
}

// blocks reports whether the layer applies and does not allow.
func (l layer) blocks() bool { return l.on && l.effect != policy.Allow }

// iamCall is what IAM decides of a request: the caller's identity-based
// policies and the guard rails that bound them.
type iamCall struct {
	id                     identityDecision
	scp, boundary, session layer
}

// judge decides r by the caller's identity-based policies and guard
// rails.
func (ip *IdentityPolicies) judge(r *policy.Request) iamCall {
	var out iamCall
	o, isOwner := owner(r.Caller)
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	out.id = ip.evaluate(r, o, isOwner)
	if isOwner && len(ip.boundaries) > 0 {
		if d := ip.boundaries[o]; d != nil {
			out.boundary = layer{on: true, effect: d.Evaluate(r).Effect}
		}
	}
	if k := r.Caller.Kind(); len(ip.sessions) > 0 && (k == policy.AssumedRole || k == policy.FederatedUser) {
		if d := ip.sessions[r.Caller.ARN()]; d != nil {
			out.session = layer{on: true, effect: d.Evaluate(r).Effect}
		}
	}
	return out
}

// judge decides r by IAM for the call in progress: the caller's
// identity-based policies (all allowing, D24, when the service keeps
// none), permissions boundary and session policy, and the service
// control policies of its account's organization (but for service-linked
// roles, roles named AWSServiceRoleFor…).
func (s *Service) judge(r *policy.Request) iamCall {
	var c iamCall
	if ip := s.cfg.identities; ip != nil {
		c = ip.judge(r)
	} else {
		c.id.effect = policy.Allow
	}
	if orgs := s.cfg.orgs; orgs != nil {
		if o, ok := owner(r.Caller); !ok || o.kind != policy.Role || !strings.HasPrefix(o.name, "AWSServiceRoleFor") {
			c.scp = orgs.scpLayer(r)
		}
	}
	return c
}

// bounded reports whether the caller of the call in progress has a
// permissions boundary (policy.Request's Bounded).
func (s *Service) bounded() bool {
	return s.cfg.identities != nil && s.cfg.identities.bounded(s.principal)
}

// bounded reports whether p has a permissions boundary (policy.Request's
// Bounded).
func (ip *IdentityPolicies) bounded(p policy.Principal) bool {
	if ip.nBounds.Load() == 0 {
		return false // no boundary: no lock to take
	}
	o, ok := owner(p)
	if !ok {
		return false
	}
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	return ip.boundaries[o] != nil
}

// denial is a refusal by IAM or a key policy: the policy type the
// AccessDeniedException names, and whether a Deny statement refused.
type denial struct {
	by       policy.PolicyType
	explicit bool
}

// firstDeny returns the guard rail or identity-based policy whose Deny
// refuses the request, in the order: service control policies, the key
// policy (keyDeny), identity-based policies, the permissions boundary,
// the session policy.
func (c *iamCall) firstDeny(keyDeny bool) (denial, bool) {
	switch {
	case c.scp.on && c.scp.effect == policy.ExplicitDeny:
		return denial{policy.ServiceControl, true}, true
	case keyDeny:
		return denial{policy.ResourceBased, true}, true
	case c.id.effect == policy.ExplicitDeny:
		return denial{policy.IdentityBased, true}, true
	case c.boundary.on && c.boundary.effect == policy.ExplicitDeny:
		return denial{policy.PermissionsBoundary, true}, true
	case c.session.on && c.session.effect == policy.ExplicitDeny:
		return denial{policy.SessionPolicy, true}, true
	case c.scp.blocks():
		return denial{policy.ServiceControl, false}, true
	}
	return denial{}, false
}

// capped returns the bound (permissions boundary, then session policy)
// that does not allow the request, if one does not.
func (c *iamCall) capped() (denial, bool) {
	switch {
	case c.boundary.blocks():
		return denial{policy.PermissionsBoundary, false}, true
	case c.session.blocks():
		return denial{policy.SessionPolicy, false}, true
	}
	return denial{}, false
}

// onlyIAM decides a request that IAM alone decides (an operation on no
// key, an alias): denied reports a refusal, d says which.
func (c *iamCall) onlyIAM() (d denial, denied bool) {
	if d, ok := c.firstDeny(false); ok {
		return d, true
	}
	if c.id.effect != policy.Allow {
		return denial{policy.IdentityBased, false}, true
	}
	return c.capped()
}

// withKeyPolicy decides a request on a key of account whose key policy
// decided dec (spec §3.2 rules 1–5, D59, D62): denied reports a refusal,
// d says which, and grantMay whether a grant may still allow (not after a
// Deny or the service control policies). caller is the request's caller.
// (Denials are values: a pointer to one would be allocated on every call.)
func (c *iamCall) withKeyPolicy(dec policy.Decision, caller policy.Principal, account string) (d denial, denied, grantMay bool) {
	if d, ok := c.firstDeny(dec.Effect == policy.ExplicitDeny); ok {
		return d, true, false
	}
	if !dec.Allowed() {
		return denial{policy.ResourceBased, false}, true, true
	}
	// Rule 4a: the key policy names the caller, in its own account. An
	// IAM user so named, or a session named by its own ARN, is not bounded
	// (D62).
	direct := dec.Direct() && caller.Account() == account
	if direct && (caller.Kind() == policy.User || dec.Exact()) {
		return denial{}, false, true
	}
	if !direct && c.id.effect != policy.Allow {
		// Rules 4b and 5: the key policy delegates to the caller's
		// account, whose identity-based policies do not allow (P7).
		return denial{policy.IdentityBased, false}, true, true
	}
	d, denied = c.capped()
	return d, denied, true
}

// reason words c for an event record.
func (c *iamCall) reason() string {
	r := c.id.reason()
	for _, l := range [...]struct {
		name string
		l    layer
	}{{"service control policies", c.scp}, {"permissions boundary", c.boundary}, {"session policy", c.session}} {
		if l.l.on {
			r += "; " + l.name + ": " + l.l.effect.String()
		}
	}
	return r
}
