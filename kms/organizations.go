package kms

import (
	"slices"
	"strings"
	"sync"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// AWS Organizations (decisions D62, D63): which organization, root and
// organizational units each account sits under, the service control
// policies that bound the principals of its accounts, and the resource
// control policies that bound access to its accounts' customer managed
// keys.

// Organizations holds AWS Organizations as the services given it with
// WithOrganizations see them (D62, D63): accounts placed in organizations
// (PlaceAccount), service control policies (PutServiceControlPolicy) and
// resource control policies (PutResourceControlPolicy) attached to
// accounts, organizational units and organization roots. It is safe for
// concurrent use, and a change decides the next call. The zero value is
// not usable: make one with NewOrganizations.
//
// Placing an account also gives calls the condition keys
// aws:PrincipalOrgID and aws:PrincipalOrgPaths (of the caller's account)
// and aws:ResourceOrgID and aws:ResourceOrgPaths (of the key's account),
// which key policies use to share a key with an organization.
type Organizations struct {
	mu         sync.RWMutex
	scps, rcps map[string][]namedPolicy // by target: account, OU or root ID
	placed     map[string]placement     // by account
	management map[string]bool          // management accounts, which no SCP or RCP bounds
}

// placement is where an account sits in its organization.
type placement struct {
	org    string   // o-…
	paths  []string // the one path o-…/r-…/ou-…/…/, as aws:PrincipalOrgPaths has it
	levels []string // the root, then each organizational unit down to the account's own
}

// NewOrganizations returns Organizations with no account placed and no
// policy attached.
func NewOrganizations() *Organizations {
	return &Organizations{scps: make(map[string][]namedPolicy), rcps: make(map[string][]namedPolicy),
		placed: make(map[string]placement), management: make(map[string]bool)}
}

// WithOrganizations makes the service see the organizations in o: their
// service control policies bound every principal of the accounts they
// reach (D62), their resource control policies bound every call on those
// accounts' customer managed keys (D63), and calls carry the organization
// condition keys. It has no effect on a service with an Authorizer
// (WithAuthorizer).
func WithOrganizations(o *Organizations) Option {
	return func(c *config) { c.orgs = o }
}

// orgTarget is the form of a policy's target: an account ID, an
// organizational unit ID or an organization root ID.
type orgTarget int

const (
	badTarget orgTarget = iota
	accountTarget
	ouTarget
	rootTarget
	orgID
)

// lowerAlnum reports whether s has min to max characters of [0-9a-z].
func lowerAlnum(s string, min, max int) bool {
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

// targetKind reads an ID of AWS Organizations: 12 digits, ou-<4–32 of
// [0-9a-z]>-<8–32 of [0-9a-z]>, r-<4–32 of [0-9a-z]> or o-<10–32 of
// [0-9a-z]> (AWS Organizations' patterns).
func targetKind(t string) orgTarget {
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
	case strings.HasPrefix(t, "o-") && lowerAlnum(t[len("o-"):], 10, 32):
		return orgID
	}
	return badTarget
}

// checkTarget refuses what is not a policy target.
func checkTarget(target string) error {
	if k := targetKind(target); k == badTarget || k == orgID {
		// kmsmodel's wording.
		return identityError(keystate.ErrValidation, "'"+target+
			"' is not an account ID, an organizational unit ID (ou-…) or an organization root ID (r-…).")
	}
	return nil
}

// checkOrgPolicyName is AWS Organizations' rule for a policy name: 1–128
// characters, none of them a control character.
func checkOrgPolicyName(name string) error {
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

// policyKind is a type of organization policy: its name in messages, its
// grammar and where it is kept.
type policyKind struct {
	name  string
	parse func(string) (*policy.Document, error)
	m     func(o *Organizations) map[string][]namedPolicy
}

var (
	scpKind = policyKind{"service control policy", policy.ParseIdentity,
		func(o *Organizations) map[string][]namedPolicy { return o.scps }}
	rcpKind = policyKind{"resource control policy", policy.ParseResourceControl,
		func(o *Organizations) map[string][]namedPolicy { return o.rcps }}
)

// put attaches a policy of kind k.
func (o *Organizations) put(k policyKind, target, name, document string) error {
	if err := checkTarget(target); err != nil {
		return err
	}
	if err := checkOrgPolicyName(name); err != nil {
		return err
	}
	doc, err := k.parse(document)
	if err != nil {
		// AWS Organizations' message for every malformed policy; the
		// reason is wrapped.
		return &keystate.Error{Code: keystate.ErrMalformedPolicyDocument, Op: keystate.NoOperation, Err: err,
			Message: "The provided policy document does not meet the requirements of the specified policy type."}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	m := k.m(o)
	list := m[target]
	if i := slices.IndexFunc(list, func(p namedPolicy) bool { return p.name == name }); i >= 0 {
		list[i].doc = doc
	} else {
		m[target] = append(list, namedPolicy{name: name, doc: doc})
	}
	return nil
}

// remove detaches a policy of kind k.
func (o *Organizations) remove(k policyKind, target, name string) error {
	if err := checkTarget(target); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	m := k.m(o)
	i := slices.IndexFunc(m[target], func(p namedPolicy) bool { return p.name == name })
	if i < 0 {
		// kmsmodel's wording.
		return identityError(keystate.ErrNotFound, "The target "+target+" has no "+k.name+" named "+name+".")
	}
	removeAt(m, target, i)
	return nil
}

// text returns the text of a policy of kind k.
func (o *Organizations) text(k policyKind, target, name string) (string, error) {
	if err := checkTarget(target); err != nil {
		return "", err
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	for _, p := range k.m(o)[target] {
		if p.name == name {
			return p.doc.Text(), nil
		}
	}
	return "", identityError(keystate.ErrNotFound, "The target "+target+" has no "+k.name+" named "+name+".")
}

// PutServiceControlPolicy attaches the service control policy document
// under name to target: an account ID, an organizational unit ("ou-…")
// or an organization root ("r-…"), replacing the policy of that name if
// the target has one (D62). A policy on an organizational unit or root
// bounds the accounts placed under it (PlaceAccount). A level with no
// policy bounds nothing, as AWS's FullAWSAccess would. A bad target or
// name is ValidationException; a bad document (IAM's identity-based
// grammar: no Principal) MalformedPolicyDocumentException with AWS
// Organizations' message. A refused call changes nothing.
func (o *Organizations) PutServiceControlPolicy(target, name, document string) error {
	return o.put(scpKind, target, name, document)
}

// DeleteServiceControlPolicy detaches the service control policy name
// from target. A name the target has no policy of is NotFoundException.
func (o *Organizations) DeleteServiceControlPolicy(target, name string) error {
	return o.remove(scpKind, target, name)
}

// ServiceControlPolicy returns the text of target's service control
// policy name.
func (o *Organizations) ServiceControlPolicy(target, name string) (string, error) {
	return o.text(scpKind, target, name)
}

// PutResourceControlPolicy attaches the resource control policy document
// under name to target, as PutServiceControlPolicy does (D63). Its
// statements deny calls on the customer managed keys of the accounts it
// reaches, whoever makes them; it allows nothing (AWS's RCPFullAWSAccess,
// attached everywhere, is implied). Its grammar is AWS's for RCPs
// (policy.ParseResourceControl): Deny statements with Principal "*".
func (o *Organizations) PutResourceControlPolicy(target, name, document string) error {
	return o.put(rcpKind, target, name, document)
}

// DeleteResourceControlPolicy detaches the resource control policy name
// from target. A name the target has no policy of is NotFoundException.
func (o *Organizations) DeleteResourceControlPolicy(target, name string) error {
	return o.remove(rcpKind, target, name)
}

// ResourceControlPolicy returns the text of target's resource control
// policy name.
func (o *Organizations) ResourceControlPolicy(target, name string) (string, error) {
	return o.text(rcpKind, target, name)
}

// PlaceAccount places account in an organization at path, written as
// aws:PrincipalOrgPaths writes it: the organization ID, its root, and
// each organizational unit down to the account's own, each followed by a
// slash ("o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"). The policies of the
// root and of each unit then bound the account besides its own (D62,
// D63), and its principals and keys carry the organization condition
// keys. An empty path takes the account out of its organization; the
// policies attached to the account itself still bound it. A bad account
// ID or path is ValidationException and changes nothing.
func (o *Organizations) PlaceAccount(account, path string) error {
	if !ValidAccountID(account) {
		return identityError(keystate.ErrValidation, "'"+account+"' is not an account ID (12 digits).")
	}
	var p placement
	if path != "" {
		parts := strings.Split(strings.TrimSuffix(path, "/"), "/")
		ok := len(parts) >= 2 && targetKind(parts[0]) == orgID && targetKind(parts[1]) == rootTarget
		for _, ou := range parts[min(2, len(parts)):] {
			ok = ok && targetKind(ou) == ouTarget
		}
		if !ok {
			// kmsmodel's wording.
			return identityError(keystate.ErrValidation, "'"+path+
				"' is not an organization path: an organization ID (o-…), its root ID (r-…) and organizational unit IDs (ou-…), from the root down, each followed by a slash.")
		}
		p = placement{org: parts[0], paths: []string{strings.Join(parts, "/") + "/"}, levels: parts[1:]}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if path == "" {
		delete(o.placed, account)
	} else {
		o.placed[account] = p
	}
	return nil
}

// SetManagementAccount makes account its organization's management
// account, whose principals and keys no service control policy or
// resource control policy bounds (AWS Organizations User Guide). A bad
// account ID is ValidationException.
func (o *Organizations) SetManagementAccount(account string) error {
	if !ValidAccountID(account) {
		return identityError(keystate.ErrValidation, "'"+account+"' is not an account ID (12 digits).")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.management[account] = true
	return nil
}

// levels calls f with the policies of each level that bounds account, in
// m: its root's, its units', its own. The caller holds o.mu.
func (o *Organizations) levels(m map[string][]namedPolicy, account string, f func([]namedPolicy)) {
	if o.management[account] {
		return
	}
	for _, t := range o.placed[account].levels {
		f(m[t])
	}
	f(m[account])
}

// restricts reports whether any service control policy is attached, so
// that account roots' calls are decided with IAM.
func (o *Organizations) restricts() bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return len(o.scps) > 0
}

// scpLayer decides r by the service control policies bounding the
// caller's account: every level with policies must allow, and a Deny at
// any level denies.
func (o *Organizations) scpLayer(r *policy.Request) layer {
	out := layer{effect: policy.Allow}
	o.mu.RLock()
	defer o.mu.RUnlock()
	if len(o.scps) == 0 {
		return layer{}
	}
	o.levels(o.scps, r.Caller.Account(), func(list []namedPolicy) {
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
	})
	return out
}

// rcpDenies reports whether a resource control policy bounding account,
// the key's, denies r.
func (o *Organizations) rcpDenies(r *policy.Request, account string) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if len(o.rcps) == 0 {
		return false
	}
	denied := false
	o.levels(o.rcps, account, func(list []namedPolicy) {
		var d identityDecision
		denied = denied || decide(list, r, &d)
	})
	return denied
}

// hasRCPs reports whether resource control policies are attached.
func (o *Organizations) hasRCPs() bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return len(o.rcps) > 0
}

// appendOrgKeys appends to c the organization condition keys of account,
// when it is placed: aws:ResourceOrgID and aws:ResourceOrgPaths for the
// resource's account (resource), aws:PrincipalOrgID and
// aws:PrincipalOrgPaths for the caller's. The entries share the
// placement's strings: a call allocates nothing for them.
func (o *Organizations) appendOrgKeys(c policy.Context, resource bool, account string) policy.Context {
	o.mu.RLock()
	p, ok := o.placed[account]
	o.mu.RUnlock()
	if !ok {
		return c
	}
	id, paths := "aws:PrincipalOrgID", "aws:PrincipalOrgPaths"
	if resource {
		id, paths = "aws:ResourceOrgID", "aws:ResourceOrgPaths"
	}
	return append(c, policy.ContextEntry{Key: id, Value: p.org}, policy.ContextEntry{Key: paths, Values: p.paths, Multi: true})
}
