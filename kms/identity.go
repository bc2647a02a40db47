package kms

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// Identity-based policies (decision D59).
//
// Without WithIdentityPolicies, IAM is taken to allow every kms action
// (D24). With it, the IAM side of spec §3.2 is enforced for every caller
// but an account root (whose IAM allows everything): an explicit Deny in
// an identity-based policy denies, whatever allows; a key-policy Allow
// that names the caller's account only (its account principal) needs an
// identity-based Allow too, as does every call across accounts; a grant
// alone suffices (P9); and the operations on no key are allowed by
// identity-based policies alone.

// IdentityPolicies holds the IAM identity-based policies attached to IAM
// users, groups, roles and federated users, for a Service built with
// WithIdentityPolicies (D59). It is safe for concurrent use, and a change
// decides the next call of every service that holds it. The zero value is
// not usable: make one with NewIdentityPolicies.
//
// A policy attached to a role applies to each of its assumed-role
// sessions; one attached to a group, to each user in the group
// (AddUserToGroup). Users, groups and roles are named by ARN, with or
// without a path: IAM keeps their names unique within an account, and a
// session's ARN carries no path, so that a principal is known by its
// kind, partition, account and name. Account roots take no policies: they
// are allowed every action by IAM.
//
// It also holds two of IAM's guard rails (D62), which allow nothing by
// themselves and bound what the other policies allow: permissions
// boundaries of users and roles (PutPermissionsBoundary) and session
// policies of sessions (PutSessionPolicy). Service control policies are
// AWS Organizations' (Organizations).
type IdentityPolicies struct {
	mu     sync.RWMutex
	m      map[identityOwner][]namedPolicy
	groups map[identityOwner][]identityOwner // a user's groups, in the order added
	// The guard rails (guardrails.go).
	boundaries map[identityOwner]*policy.Document // of users and roles
	nBounds    atomic.Int64                       // len(boundaries), read without mu
	sessions   map[string]*policy.Document        // by session ARN
	// The users and roles created (CreatePrincipal, D66), and whether
	// any ever was: then policies and grants may name only existing ones.
	created  map[identityOwner]bool
	checking bool
	// deleted holds, for each user and role, the epoch of each of its
	// DeletePrincipal calls (epoch counts them all): their number is its
	// generation, which picks its unique ID (aws:userid, D77), and
	// policies and grants written at an epoch before the last no longer
	// cover it (D78).
	deleted map[identityOwner][]uint64
	epoch   uint64
}

// identityOwner is the principal a policy is attached to.
type identityOwner struct {
	kind                     policy.PrincipalKind // User, Role or FederatedUser
	group                    bool                 // an IAM group (kind User)
	partition, account, name string
}

// namedPolicy is one attached policy.
type namedPolicy struct {
	name string
	doc  *policy.Document
}

// NewIdentityPolicies returns an empty set of identity-based policies:
// every caller but an account root is allowed nothing by IAM until a
// policy is put.
func NewIdentityPolicies() *IdentityPolicies {
	return &IdentityPolicies{m: make(map[identityOwner][]namedPolicy), groups: make(map[identityOwner][]identityOwner),
		boundaries: make(map[identityOwner]*policy.Document), sessions: make(map[string]*policy.Document),
		created: make(map[identityOwner]bool), deleted: make(map[identityOwner][]uint64)}
}

// WithIdentityPolicies makes the service enforce the identity-based
// policies in ip besides the key policies and grants (D59). Without it,
// IAM is taken to allow every kms action (D24). It has no effect on a
// service with an Authorizer (WithAuthorizer).
func WithIdentityPolicies(ip *IdentityPolicies) Option {
	return func(c *config) {
		c.identities, c.generation = ip, nil
		if ip != nil {
			c.generation = ip.generation
		}
	}
}

// owner returns the principal that the policies of p are attached to: p
// itself, or the role of an assumed-role session.
func owner(p policy.Principal) (identityOwner, bool) {
	kind := p.Kind()
	switch kind {
	case policy.User, policy.Role, policy.FederatedUser:
	case policy.AssumedRole:
		kind = policy.Role
	default:
		return identityOwner{}, false
	}
	arn := p.PrincipalARN() // the role's ARN for a session
	name := arn[strings.LastIndexByte(arn, '/')+1:]
	return identityOwner{kind: kind, partition: p.Partition(), account: p.Account(), name: name}, true
}

// identityError is the refusal of a change to IdentityPolicies.
func identityError(code keystate.Exception, msg string) error {
	return &keystate.Error{Code: code, Op: keystate.NoOperation, Message: msg}
}

// parseOwner reads the ARN of the user, group, role or federated user a
// policy is attached to.
func parseOwner(principalARN string) (identityOwner, error) {
	if o, ok := parseGroup(principalARN); ok {
		return o, nil
	}
	p, err := policy.ParsePrincipal(principalARN)
	if err == nil && p.Kind() != policy.AssumedRole {
		if o, ok := owner(p); ok {
			return o, nil
		}
	}
	// kmsmodel's wording.
	return identityOwner{}, identityError(keystate.ErrValidation,
		"'"+principalARN+"' is not the ARN of an IAM user, group, role or federated user: identity-based policies attach to those (a session takes its role's).")
}

// parseGroup reads an IAM group's ARN, arn:<partition>:iam::<account>:
// group/<path/>name, whose form is a user's but for its resource type.
func parseGroup(arn string) (identityOwner, bool) {
	i := strings.Index(arn, ":group/")
	if i < 0 || !strings.Contains(arn[:i], ":iam::") {
		return identityOwner{}, false
	}
	p, err := policy.ParsePrincipal(arn[:i] + ":user/" + arn[i+len(":group/"):])
	if err != nil || p.Kind() != policy.User {
		return identityOwner{}, false
	}
	o, _ := owner(p)
	o.group = true
	return o, true
}

// membership reads the ARNs of a group and of a user of its account.
func membership(groupARN, userARN string) (group, user identityOwner, err error) {
	group, ok := parseGroup(groupARN)
	if !ok {
		return group, user, identityError(keystate.ErrValidation, "'"+groupARN+"' is not the ARN of an IAM group.")
	}
	p, err := policy.ParsePrincipal(userARN)
	if err != nil || p.Kind() != policy.User {
		return group, user, identityError(keystate.ErrValidation, "'"+userARN+"' is not the ARN of an IAM user.")
	}
	user, _ = owner(p)
	if user.account != group.account || user.partition != group.partition {
		// kmsmodel's wording: IAM groups hold users of their own account.
		return group, user, identityError(keystate.ErrValidation, "User "+userARN+" is not of group "+groupARN+"'s account.")
	}
	return group, user, nil
}

// AddUserToGroup adds the IAM user userARN to the IAM group groupARN (of
// its account): the group's policies then apply to the user. Adding a
// member again changes nothing. Bad ARNs are ValidationException.
func (ip *IdentityPolicies) AddUserToGroup(groupARN, userARN string) error {
	group, user, err := membership(groupARN, userARN)
	if err != nil {
		return err
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	if !slices.Contains(ip.groups[user], group) {
		ip.groups[user] = append(ip.groups[user], group)
	}
	return nil
}

// RemoveUserFromGroup removes userARN from groupARN. A user not in the
// group is NotFoundException.
func (ip *IdentityPolicies) RemoveUserFromGroup(groupARN, userARN string) error {
	group, user, err := membership(groupARN, userARN)
	if err != nil {
		return err
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	list := ip.groups[user]
	i := slices.Index(list, group)
	if i < 0 {
		// kmsmodel's wording.
		return identityError(keystate.ErrNotFound, "User "+userARN+" is not in group "+groupARN+".")
	}
	removeAt(ip.groups, user, i)
	return nil
}

// removeAt removes the element i of m[k], and k when its list becomes
// empty.
func removeAt[K comparable, V any](m map[K][]V, k K, i int) {
	if list := m[k]; len(list) == 1 {
		delete(m, k)
	} else {
		m[k] = slices.Delete(list, i, i+1)
	}
}

// checkPolicyNameIAM is IAM's rule for a policy name: 1–128 characters of
// letters, digits and +=,.@_-.
func checkPolicyNameIAM(name string) error {
	ok := len(name) >= 1 && len(name) <= 128
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("+=,.@_-", c) >= 0
	}
	if !ok {
		// kmsmodel's wording, after IAM's constraint.
		return identityError(keystate.ErrValidation,
			"Policy name '"+name+"' must be 1 to 128 letters, digits or characters of +=,.@_-.")
	}
	return nil
}

// Put attaches the identity-based policy document under name to the IAM
// user, role or federated user principalARN, replacing the policy of that
// name if it has one. A bad document is MalformedPolicyDocumentException
// with IAM's or kmsmodel's message (policy.ParseIdentity); a bad ARN or
// name is ValidationException. A refused Put changes nothing.
func (ip *IdentityPolicies) Put(principalARN, name, document string) error {
	o, err := parseOwner(principalARN)
	if err != nil {
		return err
	}
	if err := checkPolicyNameIAM(name); err != nil {
		return err
	}
	doc, err := policy.ParseIdentity(document)
	if err != nil {
		return &keystate.Error{Code: keystate.ErrMalformedPolicyDocument, Op: keystate.NoOperation, Err: err,
			Message: policy.Message(err)}
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	list := ip.m[o]
	if i := slices.IndexFunc(list, func(p namedPolicy) bool { return p.name == name }); i >= 0 {
		list[i].doc = doc
	} else {
		ip.m[o] = append(list, namedPolicy{name: name, doc: doc})
	}
	return nil
}

// Delete detaches the policy name from principalARN. A name the principal
// has no policy of is NotFoundException.
func (ip *IdentityPolicies) Delete(principalARN, name string) error {
	o, err := parseOwner(principalARN)
	if err != nil {
		return err
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	list := ip.m[o]
	i := slices.IndexFunc(list, func(p namedPolicy) bool { return p.name == name })
	if i < 0 {
		// kmsmodel's wording.
		return identityError(keystate.ErrNotFound, "The principal "+principalARN+" has no policy named "+name+".")
	}
	removeAt(ip.m, o, i)
	return nil
}

// Policy returns the text of the policy name of principalARN, as Put was
// given it (re-serialised in GetKeyPolicy's layout).
func (ip *IdentityPolicies) Policy(principalARN, name string) (string, error) {
	o, err := parseOwner(principalARN)
	if err != nil {
		return "", err
	}
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	for _, p := range ip.m[o] {
		if p.name == name {
			return p.doc.Text(), nil
		}
	}
	return "", identityError(keystate.ErrNotFound, "The principal "+principalARN+" has no policy named "+name+".")
}

// Names lists the names of principalARN's policies, in the order they
// were first put.
func (ip *IdentityPolicies) Names(principalARN string) ([]string, error) {
	o, err := parseOwner(principalARN)
	if err != nil {
		return nil, err
	}
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	var names []string
	for _, p := range ip.m[o] {
		names = append(names, p.name)
	}
	return names, nil
}

// identityDecision is what a caller's identity-based policies decide.
type identityDecision struct {
	effect policy.Effect
	name   string          // the policy that decided, if any
	dec    policy.Decision // its decision
}

// reason words d for an event record.
func (d identityDecision) reason() string {
	if d.name == "" {
		return "identity-based policies: " + d.effect.String()
	}
	return "identity-based policy " + d.name + ": " + d.dec.String()
}

// evaluate decides r by the identity-based policies of r.Caller, whose
// owner is o (ok false: it has none): ExplicitDeny when one of them
// denies, Allow when one allows and none denies, else ImplicitDeny. An
// account root is allowed. The caller holds ip.mu (judge decides with the
// guard rails too).
func (ip *IdentityPolicies) evaluate(r *policy.Request, o identityOwner, ok bool) identityDecision {
	if r.Caller.Kind() == policy.Account {
		return identityDecision{effect: policy.Allow}
	}
	if !ok {
		return identityDecision{}
	}
	var out identityDecision
	if decide(ip.m[o], r, &out) {
		return out
	}
	for _, g := range ip.groups[o] {
		if decide(ip.m[g], r, &out) {
			break
		}
	}
	return out
}

// decide evaluates r by the policies in list: it reports an explicit Deny
// (and makes *out that decision), and otherwise records the first Allow
// in *out unless it holds one already.
func decide(list []namedPolicy, r *policy.Request, out *identityDecision) bool {
	for _, p := range list {
		switch dec := p.doc.Evaluate(r); dec.Effect {
		case policy.ExplicitDeny:
			*out = identityDecision{effect: policy.ExplicitDeny, name: p.name, dec: dec}
			return true
		case policy.Allow:
			if out.effect == policy.ImplicitDeny {
				*out = identityDecision{effect: policy.Allow, name: p.name, dec: dec}
			}
		}
	}
	return false
}

// iamGoverns reports whether the call in progress is decided with IAM's
// policies: the service decides by key policies (no Authorizer), the
// caller is not a service principal, which has none (D61), and the service
// keeps identity-based policies or service control policies (D62). An
// account root, which IAM allows everything, is governed only by service
// control policies, as is every caller when the service keeps no
// identity-based policies (D24).
func (s *Service) iamGoverns() bool {
	if s.cfg.authorizer != nil || s.principal.Kind() == policy.Service {
		return false
	}
	scps := s.cfg.orgs != nil && s.cfg.orgs.restricts()
	if s.cfg.identities == nil || s.principal.Kind() == policy.Account {
		return scps
	}
	return true
}

// iamDecides reports whether operations on no key are decided by policy
// for the call in progress: iamGoverns, a service principal, which has no
// identity-based policies to allow them (D61), or a call through a VPC
// endpoint, whose policy bounds them (D64).
func (s *Service) iamDecides() bool {
	return s.iamGoverns() || s.principal.Kind() == policy.Service || s.call.vpce != nil
}

// iamContext is the condition context of a decision on no key or on an
// alias: the call's own keys (of its origin, its chain of services, its
// principal tags) and the caller's organization keys (D63), without the
// kms: keys when forAlias (AWS KMS has no condition keys for alias
// resources; spec §3.2 rule 7).
func (s *Service) iamContext(forAlias bool) policy.Context {
	if s.cfg.orgs == nil && !forAlias {
		return s.call.extra
	}
	c := s.condBuf[:0]
	for _, e := range s.call.extra {
		if !forAlias || !strings.HasPrefix(e.Key, "kms:") {
			c = append(c, e)
		}
	}
	if s.cfg.orgs != nil {
		c = s.cfg.orgs.appendOrgKeys(c, false, s.principal.Account())
	}
	s.condBuf = c
	return c
}

// deniedBy is the AccessDeniedException of the call in progress for the
// refusal d of action on resource (a key's, an alias's ARN, or "*"); k is
// the key, if any.
func (s *Service) deniedBy(op keystate.Operation, d denial, action, resource string, k *key) error {
	e := &keystate.Error{Code: keystate.ErrAccessDenied, Op: op,
		Message: policy.DeniedMessage(d.by, s.principal.ARN(), action, resource, d.explicit)}
	if resource != "*" {
		e.KeyID = resource
	}
	if k != nil {
		e.State = k.state
	}
	return e
}

// authorizeIAM decides the call in progress by the caller's identity-based
// policies and IAM's guard rails alone (spec §3.2 rules 6 and 7, D62),
// within the policy of the VPC endpoint it came through (D64): an
// operation on no key, with resource "*", or on an alias, with the
// alias's ARN. It allows every call that iamGoverns does not cover and
// its endpoint allows, but a service principal's, which has no
// identity-based policies to allow it (D61). action is "" for the
// operation's own.
func (s *Service) authorizeIAM(op keystate.Operation, action, resource string, c policy.Context) error {
	if action == "" {
		action = actionNames[op]
	}
	if s.principal.Kind() == policy.Service {
		return s.deniedBy(op, denial{by: policy.IdentityBased}, action, resource, nil)
	}
	iam := s.iamGoverns()
	if !iam && s.call.vpce == nil {
		return nil
	}
	req := s.request(action, resource, s.principal.Account(), c)
	if d, denied := s.endpointDenies(&req); denied {
		return s.deniedBy(op, d, action, resource, nil) // D64
	}
	if !iam {
		return nil
	}
	v := s.judge(&req)
	if s.observing() {
		s.call.dec = v.reason()
	}
	if d, denied := v.onlyIAM(); denied {
		return s.deniedBy(op, d, action, resource, nil)
	}
	return nil
}

// resourceTags appends aws:ResourceTag/<key> for each of k's tags to c:
// the condition keys identity-based policies see (spec §5.2: IAM
// policies only). With the eventual-consistency model on, they are the
// tags the call in progress sees (D75).
func (s *Service) resourceTags(c policy.Context, k *key) policy.Context {
	tags := k.tags()
	if s.ec != nil {
		tags = s.ecTags(k)
	}
	for _, t := range tags {
		c = append(c, policy.Single("aws:ResourceTag/"+t.TagKey, t.TagValue))
	}
	return c
}

// authorizeCreateKey decides CreateKey by the caller's identity-based
// policies (spec §3.2 rules 6 and 7): kms:CreateKey with the request's
// kms:KeySpec, kms:KeyUsage, kms:KeyOrigin and kms:MultiRegion, and with
// Tags kms:TagResource too, each with aws:RequestTag/<key> and
// aws:TagKeys.
func (s *Service) authorizeCreateKey(in *CreateKeyInput, kind keystate.Kind) error {
	c := appendTagConditions(s.kindConditions(kind), in.Tags, nil)
	if in.BypassPolicyLockoutSafetyCheck {
		c = append(c, policy.Single("kms:BypassPolicyLockoutSafetyCheck", "true"))
	}
	s.condBuf = c
	if err := s.authorizeIAM(keystate.CreateKey, "", "*", c); err != nil {
		return err
	}
	if len(in.Tags) > 0 {
		return s.authorizeIAM(keystate.CreateKey, actionNames[keystate.TagResource], "*", c)
	}
	return nil
}

// retireByIAM is what IAM decides of kms:RetireGrant for g, on the key
// arn: refused, with final, a refusal that nothing overrides (a Deny, or
// the service control policies, D62); allow, whether the caller's
// identity-based policies allow it within the caller's bounds. Without
// IAM, or for an account root, it allows, within the policy of the VPC
// endpoint the call came through (D64). P11 (D59): a principal retires
// as "the account in which the grant was created", or as a principal of
// an account-root retiring principal, only when they allow it.
func (s *Service) retireByIAM(g *grant, arn string) (final denial, refused, allow bool) {
	iam := s.iamGoverns()
	if !iam && s.call.vpce == nil {
		return denial{}, false, true
	}
	// The endpoint sees the key's aliases (D73); identity-based policies
	// see its tags too (spec §5.2), as in evaluatePolicy.
	req := s.request("kms:RetireGrant", arn, g.key.account, s.withKeyAliases(s.keyConditions(g.key), g.key))
	if d, denied := s.endpointDenies(&req); denied {
		return d, true, false // D64: the endpoint's policy bounds RetireGrant too
	}
	if !iam {
		return denial{}, false, true
	}
	req.Context = s.resourceTags(req.Context, g.key)
	s.condBuf = req.Context
	v := s.judge(&req)
	d, denied := v.onlyIAM()
	if denied && (d.explicit || d.by == policy.ServiceControl) {
		return d, true, false // what no retiring principal or grant overrides
	}
	return denial{}, false, !denied
}
