package kms

import (
	"slices"
	"strconv"
	"strings"

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
//     They bound a key-policy Allow that names the caller's role, "*" or a
//     NotPrincipal for a session; not one that names an IAM user directly
//     or the session itself (IAM User Guide, "Permissions boundaries for
//     IAM entities"). Grants are bounded by neither.
//   - Service control policies bound every principal of an account that
//     an organization holds, its root included, but service-linked roles
//     (roles named AWSServiceRoleFor…) and service principals: each level
//     (the organization root, each organizational unit down to the
//     account, the account) that has policies must allow, whatever allows
//     besides, grants included.
//   - A Deny in any of them denies.

// scpTarget is the form of a service control policy's target: an account
// ID, an organizational unit ID or an organization root ID.
type scpTarget int

const (
	badTarget scpTarget = iota
	accountTarget
	ouTarget
	rootTarget
)

// targetKind reads an SCP target: 12 digits, ou-<4–32 of [0-9a-z]>-<8–32
// of [0-9a-z]>, or r-<4–32 of [0-9a-z]> (AWS Organizations' patterns).
func targetKind(t string) scpTarget {
	lowerAlnum := func(s string, min, max int) bool {
		if len(s) < min || len(s) > max {
			return false
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
				return false
			}
		}
		return true
	}
	switch {
	case ValidAccountID(t):
		return accountTarget
	case strings.HasPrefix(t, "ou-"):
		a, b, ok := strings.Cut(t[len("ou-"):], "-")
		if ok && lowerAlnum(a, 4, 32) && lowerAlnum(b, 8, 32) {
			return ouTarget
		}
	case strings.HasPrefix(t, "r-") && lowerAlnum(t[len("r-"):], 4, 32):
		return rootTarget
	}
	return badTarget
}

// checkSCPName is AWS Organizations' rule for a policy name: 1–128
// characters, none of them a control character.
func checkSCPName(name string) error {
	ok := len(name) >= 1 && len(name) <= 128
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			ok = false
		}
	}
	if !ok {
		// kmsmodel's wording.
		return identityError(keystate.ErrValidation, "Policy name '"+name+"' must be 1 to 128 characters, none of them a control character.")
	}
	return nil
}

// parseGuard parses the document of a permissions boundary, session
// policy or service control policy: IAM's identity-based grammar.
func parseGuard(document string) (*policy.Document, error) {
	doc, err := policy.ParseIdentity(document)
	if err != nil {
		return nil, &keystate.Error{Code: keystate.ErrMalformedPolicyDocument, Op: keystate.NoOperation, Err: err,
			Message: policy.Message(err)}
	}
	return doc, nil
}

// PutServiceControlPolicy attaches the service control policy document
// under name to target: an account ID, an organizational unit
// ("ou-…") or an organization root ("r-…"), replacing the policy of that
// name if the target has one (D62). A policy on an organizational unit or
// root bounds the accounts placed under it (PlaceAccount). A level with no
// policy bounds nothing, as AWS's FullAWSAccess would. A bad target or
// name is ValidationException, a bad document
// MalformedPolicyDocumentException (IAM's identity-based grammar: no
// Principal); a refused call changes nothing.
func (ip *IdentityPolicies) PutServiceControlPolicy(target, name, document string) error {
	if err := checkTarget(target); err != nil {
		return err
	}
	if err := checkSCPName(name); err != nil {
		return err
	}
	doc, err := parseGuard(document)
	if err != nil {
		return err
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	list := ip.scps[target]
	if i := slices.IndexFunc(list, func(p namedPolicy) bool { return p.name == name }); i >= 0 {
		list[i].doc = doc
	} else {
		ip.scps[target] = append(list, namedPolicy{name: name, doc: doc})
	}
	return nil
}

// checkTarget refuses what is not an SCP target.
func checkTarget(target string) error {
	if targetKind(target) == badTarget {
		// kmsmodel's wording.
		return identityError(keystate.ErrValidation, "'"+target+
			"' is not an account ID, an organizational unit ID (ou-…) or an organization root ID (r-…).")
	}
	return nil
}

// DeleteServiceControlPolicy detaches the service control policy name
// from target. A name the target has no policy of is NotFoundException.
func (ip *IdentityPolicies) DeleteServiceControlPolicy(target, name string) error {
	if err := checkTarget(target); err != nil {
		return err
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	i := slices.IndexFunc(ip.scps[target], func(p namedPolicy) bool { return p.name == name })
	if i < 0 {
		// kmsmodel's wording.
		return identityError(keystate.ErrNotFound, "The target "+target+" has no service control policy named "+name+".")
	}
	removeAt(ip.scps, target, i)
	return nil
}

// ServiceControlPolicy returns the text of target's service control
// policy name.
func (ip *IdentityPolicies) ServiceControlPolicy(target, name string) (string, error) {
	if err := checkTarget(target); err != nil {
		return "", err
	}
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	for _, p := range ip.scps[target] {
		if p.name == name {
			return p.doc.Text(), nil
		}
	}
	return "", identityError(keystate.ErrNotFound, "The target "+target+" has no service control policy named "+name+".")
}

// PlaceAccount places account in an organization: parents are the
// organization's root ("r-…") and then each organizational unit
// ("ou-…") from the root down to the account's own. The service control
// policies of each then bound the account's principals besides the
// account's own (D62). No parents takes the account out of the
// organization; its own policies still bound it. A bad account ID or
// parent list is ValidationException and changes nothing.
func (ip *IdentityPolicies) PlaceAccount(account string, parents ...string) error {
	if !ValidAccountID(account) {
		return identityError(keystate.ErrValidation, "'"+account+"' is not an account ID (12 digits).")
	}
	for i, p := range parents {
		want := ouTarget
		if i == 0 {
			want = rootTarget
		}
		if targetKind(p) != want {
			// kmsmodel's wording.
			return identityError(keystate.ErrValidation, "An account's parents are an organization root ID (r-…) and then organizational unit IDs (ou-…), from the root down: '"+
				p+"' cannot be parent "+strconv.Itoa(i+1)+".")
		}
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	if len(parents) == 0 {
		delete(ip.parents, account)
	} else {
		ip.parents[account] = slices.Clone(parents)
	}
	return nil
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
	doc, err := parseGuard(document)
	if err != nil {
		return err
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	ip.boundaries[o] = doc
	return nil
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
	ip.mu.Lock()
	defer ip.mu.Unlock()
	if ip.boundaries[o] == nil {
		return identityError(keystate.ErrNotFound, "The principal "+principalARN+" has no permissions boundary.")
	}
	delete(ip.boundaries, o)
	return nil
}

// PermissionsBoundary returns the text of principalARN's permissions
// boundary.
func (ip *IdentityPolicies) PermissionsBoundary(principalARN string) (string, error) {
	o, err := boundaryOwner(principalARN)
	if err != nil {
		return "", err
	}
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	if d := ip.boundaries[o]; d != nil {
		return d.Text(), nil
	}
	return "", identityError(keystate.ErrNotFound, "The principal "+principalARN+" has no permissions boundary.")
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
	doc, err := parseGuard(document)
	if err != nil {
		return err
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	ip.sessions[key] = doc
	return nil
}

// DeleteSessionPolicy removes the session policy of sessionARN. One
// without a session policy is NotFoundException.
func (ip *IdentityPolicies) DeleteSessionPolicy(sessionARN string) error {
	key, err := sessionOf(sessionARN)
	if err != nil {
		return err
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	if ip.sessions[key] == nil {
		return identityError(keystate.ErrNotFound, "The session "+sessionARN+" has no session policy.")
	}
	delete(ip.sessions, key)
	return nil
}

// SessionPolicy returns the text of sessionARN's session policy.
func (ip *IdentityPolicies) SessionPolicy(sessionARN string) (string, error) {
	key, err := sessionOf(sessionARN)
	if err != nil {
		return "", err
	}
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	if d := ip.sessions[key]; d != nil {
		return d.Text(), nil
	}
	return "", identityError(keystate.ErrNotFound, "The session "+sessionARN+" has no session policy.")
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
	if len(ip.scps) > 0 && !(isOwner && o.kind == policy.Role && strings.HasPrefix(o.name, "AWSServiceRoleFor")) {
		out.scp = ip.scpLayer(r)
	}
	return out
}

// scpLayer decides r by the service control policies of the caller's
// account: every level with policies must allow, and a Deny at any level
// denies. The caller holds ip.mu.
func (ip *IdentityPolicies) scpLayer(r *policy.Request) layer {
	account := r.Caller.Account()
	out := layer{effect: policy.Allow}
	level := func(list []namedPolicy) {
		if len(list) == 0 {
			return
		}
		out.on = true
		var d identityDecision
		decide(list, r, &d)
		switch {
		case d.effect == policy.ExplicitDeny:
			out.effect = policy.ExplicitDeny
		case d.effect != policy.Allow && out.effect == policy.Allow:
			out.effect = policy.ImplicitDeny
		}
	}
	for _, p := range ip.parents[account] {
		level(ip.scps[p])
	}
	level(ip.scps[account])
	return out
}

// bounded reports whether p has a permissions boundary (policy.Request's
// Bounded).
func (ip *IdentityPolicies) bounded(p policy.Principal) bool {
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	if len(ip.boundaries) == 0 {
		return false
	}
	o, ok := owner(p)
	return ok && ip.boundaries[o] != nil
}

// governsRoot reports whether an account root's calls are decided with
// IAM: when service control policies are kept, which bound roots too.
func (ip *IdentityPolicies) governsRoot() bool {
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	return len(ip.scps) > 0
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
