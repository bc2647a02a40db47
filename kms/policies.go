package kms

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strconv"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
	"github.com/kmsmodel/kmsmodel/store"
)

// Principals and key policies.
//
// A call is made by a principal (decision D24): an IAM user, role or
// assumed-role session, or an account root. WithPrincipal puts one in the
// context; WithCaller's account means that account's root; a context with
// neither calls as the service's own account root. Every operation on a
// key is authorized by the key's policy (kms/policy evaluates it): an
// explicit Deny wins, then an Allow for the principal (an account root in
// a policy stands for every principal of that account, D24), else
// AccessDeniedException worded as D26 says. A key created without a policy
// has AWS's default key policy, shared by every key of its account. An
// Authorizer given with WithAuthorizer decides instead of the key policies.

type principalKey struct{}

// WithPrincipal returns a context whose calls are made by the principal
// with the given ARN: an IAM user ("arn:aws:iam::111122223333:user/alice"),
// role, assumed-role session ("arn:aws:sts::111122223333:assumed-role/app/s1")
// or account root ("arn:aws:iam::111122223333:root"). It takes precedence
// over WithCaller; the caller's account is the principal's. A call with an
// ARN that is no principal fails with ValidationException.
func WithPrincipal(ctx context.Context, arn string) context.Context {
	return context.WithValue(ctx, principalKey{}, arn)
}

// PrincipalARN returns the principal ARN WithPrincipal put in ctx, or "".
func PrincipalARN(ctx context.Context) string {
	s, _ := ctx.Value(principalKey{}).(string)
	return s
}

// maxCachedPrincipals bounds the cache of parsed principals.
const maxCachedPrincipals = 1024

// callerPrincipal returns the principal of a call and its account. The
// caller holds s.mu.
func (s *Service) callerPrincipal(ctx context.Context, op keystate.Operation) (policy.Principal, string, error) {
	v := ctx.Value(principalKey{})
	if sc, ok := v.(*serviceCall); ok {
		return s.serviceCaller(op, sc)
	}
	arn, _ := v.(string)
	if arn == "" {
		account := Caller(ctx)
		if account == "" {
			account = s.cfg.account
		}
		// The partition of the call's Region, which callRegion has not
		// made current yet (D70).
		partition := s.regions[0].partition
		if region := CallerRegion(ctx); region != "" && region != s.regions[0].name {
			partition = PartitionOf(region)
		}
		return s.rootPrincipal(partition, account), account, nil
	}
	p, err := s.parsePrincipal(arn)
	if err != nil || p.Account() == "" || p.Kind() == policy.Everyone {
		return policy.Principal{}, "", kmsError(keystate.ErrValidation, op, "", keystate.None,
			"'"+arn+"' is not the ARN of an IAM user, role, assumed-role session or account root.")
	}
	return p, p.Account(), nil
}

// parsePrincipal is policy.ParsePrincipal with a bounded cache: callers
// and grants name the same few principals over and over. The caller holds
// s.mu.
func (s *Service) parsePrincipal(arn string) (policy.Principal, error) {
	if p, ok := s.principals[arn]; ok {
		return p, nil
	}
	p, err := policy.ParsePrincipal(arn)
	if err != nil {
		return p, err
	}
	if s.principals == nil || len(s.principals) >= maxCachedPrincipals {
		s.principals = make(map[string]policy.Principal)
	}
	s.principals[arn] = p
	return p, nil
}

// rootPrincipal returns the root principal of an account in a partition
// (D70), made once.
func (s *Service) rootPrincipal(partition, account string) policy.Principal {
	own := account == s.cfg.account && partition == s.regions[0].partition
	if own && s.ownRoot.Kind() != policy.Nobody {
		return s.ownRoot
	}
	p := cached(&s.roots, partitionAccount{partition, account}, func() policy.Principal { return policy.AccountPrincipal(partition, account) })
	if own {
		s.ownRoot = p
	}
	return p
}

// keyPolicy returns k's key policy: its own, or its account's default.
func (s *Service) keyPolicy(k *key) *policy.Document {
	if d := s.policies[k.slot]; d != nil {
		return d
	}
	partition := s.regions[k.region].partition
	if k.account == s.cfg.account && s.ownDefault != nil && partition == s.regions[0].partition {
		return s.ownDefault
	}
	return s.defaultPolicy(partition, k.account)
}

// defaultPolicy returns an account's default key policy in a partition
// (its principal is arn:<partition>:iam::<account>:root, D70), made once
// and shared by every key of the account in the partition.
func (s *Service) defaultPolicy(partition, account string) *policy.Document {
	d := cached(&s.defaults, partitionAccount{partition, account}, func() *policy.Document { return policy.Default(partition, account) })
	if account == s.cfg.account && partition == s.regions[0].partition {
		s.ownDefault = d
	}
	return d
}

// partitionAccount keys the caches of account principals and default key
// policies.
type partitionAccount struct{ partition, account string }

// cached returns (*m)[k], made with make (and *m with it) when missing.
func cached[K comparable, V any](m *map[K]V, k K, make func() V) V {
	if v, ok := (*m)[k]; ok {
		return v
	}
	if *m == nil {
		*m = map[K]V{}
	}
	v := make()
	(*m)[k] = v
	return v
}

// callConditions is what the call in progress adds to its authorization's
// condition keys (spec §5.1), set by the operation before it resolves its
// key. begin clears it.
type callConditions struct {
	action string            // overrides the operation's action (ReEncryptFrom, ReEncryptTo)
	ec     map[string]string // the encryption context
	extra  []policy.ContextEntry
	num    numCondition // after extra, if set
	alias  string       // the alias the request named, if any (kms:RequestAlias)
	// trailing says that the call carries kms:TrailingDaysWithoutKeyUsage
	// (DisableKey, ScheduleKeyDeletion; D74).
	trailing bool
	// bindEpoch is IAM's deletion epoch when the call checked the
	// principals its policy or grant names (D66), at which it binds them
	// (D78), if checked (epochSet).
	bindEpoch uint64
	epochSet  bool
	// sourceArn is the AWS resource on whose behalf a service principal
	// calls (WithServicePrincipal, D61), or "".
	sourceArn string
	vpce      *VPCEndpoint // the VPC endpoint the call came through (WithVPCEndpoint, D64), or nil
	// sourceIP and vpcSourceIP are the call's aws:SourceIp and
	// aws:VpcSourceIp (D64), or the zero Addr.
	sourceIP, vpcSourceIP netip.Addr
	dec                   string // the last decision, for the observer
	// recipient is the call's verified Recipient parameter (D80), or nil.
	recipient *attestedRecipient
}

// reset empties c for a new call, keeping its buffer.
func (c *callConditions) reset() {
	*c = callConditions{extra: c.extra[:0]}
}

// evaluatePolicy decides a call on k by its key policy. It returns nil to
// allow, else AccessDeniedException. arn is k's ARN, or "" to have it
// made only when the default policy's shortcut does not decide.
func (s *Service) evaluatePolicy(op keystate.Operation, k *key, arn string) error {
	s.readKey(k)
	doc := s.keyPolicy(k)
	if s.ec != nil {
		doc = s.ecPolicy(k, doc) // D42: the policy the caller's reader sees
	}
	iam := s.iamGoverns()
	rcp := s.rcpBounds(k)
	guarded := rcp || s.call.vpce != nil // bounded besides the key policy and IAM (D63, D64)
	def := s.isKeyDefault(k, doc)
	if def && !s.observing() && s.principal.Account() == k.account && !iam && !guarded {
		// The default policy allows every principal of the key's account
		// (and no other): its decision, without its evaluation.
		return nil
	}
	if arn == "" {
		arn = s.arnOf(k)
	}
	action := actionNames[op]
	if s.call.action != "" {
		action = s.call.action
	}
	req := policy.Request{Action: action, Caller: s.principal, Resource: arn, ResourceAccount: k.account, Generation: s.cfg.generation}
	// The contexts below share one buffer, each extending the one before
	// past its length: req.Context, which the key policy sees; aliased,
	// with kms:ResourceAliases, which the key policy does not see (spec
	// §5.1: IAM only; D73); tagged, with aws:ResourceTag/<key> too, which
	// identity-based and resource control policies see (spec §5.2).
	var aliased, tagged policy.Context
	if !def || iam || guarded {
		// The default policy has no conditions: it needs no context.
		req = s.request(action, arn, k.account, s.keyConditions(k))
		req.EncryptionContext = s.call.ec
		if iam || guarded {
			aliased = s.withKeyAliases(req.Context, k)
		}
	}
	if iam || rcp {
		tagged = s.resourceTags(aliased, k)
		s.condBuf = tagged
	}
	if rcp {
		// D63: a resource control policy's Deny refuses first.
		rr := req
		rr.Context = tagged
		if s.cfg.orgs.rcpDenies(&rr, k.account) {
			if s.observing() {
				s.call.dec = "ExplicitDeny " + action + ": resource control policy"
			}
			return s.deniedBy(op, denial{by: policy.ResourceControl, explicit: true}, action, arn, k)
		}
	}
	if s.call.vpce != nil {
		er := req
		er.Context = aliased
		if d, denied := s.endpointDenies(&er); denied {
			// D64: the VPC endpoint's policy bounds every call through it.
			return s.deniedBy(op, d, action, arn, k)
		}
	}
	if iam {
		req.Bounded = s.bounded()
	}
	if !def {
		req.DeletedSince = s.policyBound(k, doc) // D78
	}
	dec := doc.Evaluate(&req)
	if s.observing() {
		s.call.dec = dec.String()
	}
	if iam {
		return s.decideWithIdentity(op, k, arn, &req, tagged, dec)
	}
	if dec.Allowed() {
		return nil
	}
	if dec.Effect != policy.ExplicitDeny {
		// A grant may allow what the policy does not deny (spec §3.2 4c).
		if g := s.grantAllows(k, action); g != nil {
			if s.observing() {
				s.call.dec = "Allow " + action + ": grant " + g.id
			}
			return nil
		}
	}
	return &keystate.Error{Code: keystate.ErrAccessDenied, Op: op, KeyID: arn, State: k.state,
		Message: policy.AccessDeniedMessage(s.principal.ARN(), action, arn, dec)}
}

// request is the policy.Request of the call in progress for action on
// resource (of account), with the condition keys c: its caller, its
// instant and its Region.
func (s *Service) request(action, resource, account string, c policy.Context) policy.Request {
	return policy.Request{Action: action, Caller: s.principal, Resource: resource, ResourceAccount: account,
		Time: fromMicros(s.last), Context: c, Region: s.rg.name, SourceIP: s.call.sourceIP, VPCSourceIP: s.call.vpcSourceIP,
		Generation: s.cfg.generation}
}

// rcpBounds reports whether resource control policies may refuse the
// call in progress on k (D63): the service decides by key policies, keeps
// organizations with RCPs, and k is a customer managed key. (RetireGrant,
// which RCPs do not cover, is not authorized by evaluatePolicy.)
func (s *Service) rcpBounds(k *key) bool {
	return s.cfg.orgs != nil && s.cfg.authorizer == nil && k.kind.Manager != keystate.AWSManaged && s.cfg.orgs.hasRCPs()
}

// decideWithIdentity completes evaluatePolicy when IAM governs the call
// (D59, D62): the key policy decided dec on req; tagged is req's context
// with k's aws:ResourceTag keys.
func (s *Service) decideWithIdentity(op keystate.Operation, k *key, arn string, req *policy.Request, tagged policy.Context, dec policy.Decision) error {
	idr := *req
	idr.Context = tagged
	v := s.judge(&idr)
	if s.observing() {
		s.call.dec = dec.String() + "; " + v.reason()
	}
	d, denied, grantMay := v.withKeyPolicy(dec, s.principal, k.account)
	if !denied {
		return nil
	}
	if grantMay {
		if g := s.grantAllows(k, req.Action); g != nil {
			// Spec §3.2 4c; a grant alone suffices, across accounts too
			// (P9), and is bounded by neither a permissions boundary nor
			// a session policy (D62).
			if s.observing() {
				s.call.dec = "Allow " + req.Action + ": grant " + g.id
			}
			return nil
		}
	}
	return s.deniedBy(op, d, req.Action, arn, k)
}

// keyConditions is the condition context of a call on k that its key
// policy sees: the call's own keys and the key's properties (spec §5.1).
func (s *Service) keyConditions(k *key) policy.Context {
	c := s.kindConditions(k.kind)
	if s.cfg.orgs != nil {
		c = s.cfg.orgs.appendOrgKeys(c, true, k.account)
		s.condBuf = c
	}
	if s.call.trailing {
		c = append(c, policy.Single("kms:TrailingDaysWithoutKeyUsage", strconv.FormatInt(s.trailingDays(k), 10)))
		s.condBuf = c
	}
	return c
}

// withKeyAliases appends kms:ResourceAliases, k's aliases, to c: a
// condition key of every policy but the key policy (spec §5.1: IAM only;
// D73). In a cluster, the call's write is then compared against k's
// alias set.
func (s *Service) withKeyAliases(c policy.Context, k *key) policy.Context {
	s.readKeyAliases(k)
	if names := s.keyAliases(k); names != nil {
		c = append(c, policy.Multi("kms:ResourceAliases", names...))
		s.condBuf = c
	}
	return c
}

// kindConditions is the condition context of a call on a key of kind.
func (s *Service) kindConditions(kind keystate.Kind) policy.Context {
	c := append(s.condBuf[:0], s.call.extra...) // reused from call to call, under s.mu
	if s.call.num.key != "" {
		c = append(c, policy.Single(s.call.num.key, strconv.Itoa(int(s.call.num.n))))
	}
	c = append(c,
		policy.Single("kms:KeySpec", kind.Spec.String()),
		policy.Single("kms:CustomerMasterKeySpec", kind.Spec.String()),
		policy.Single("kms:KeyUsage", kind.Usage.String()),
		policy.Single("kms:CustomerMasterKeyUsage", kind.Usage.String()),
		policy.Single("kms:KeyOrigin", kind.Origin.String()),
		policy.Single("kms:MultiRegion", strconv.FormatBool(kind.MultiRegion != keystate.SingleRegion)))
	switch kind.MultiRegion {
	case keystate.Primary:
		c = append(c, policy.Single("kms:MultiRegionKeyType", "PRIMARY"))
	case keystate.Replica:
		c = append(c, policy.Single("kms:MultiRegionKeyType", "REPLICA"))
	}
	if s.call.alias != "" {
		c = append(c, policy.Single("kms:RequestAlias", s.call.alias))
	}
	if s.cfg.orgs != nil {
		c = s.cfg.orgs.appendOrgKeys(c, false, s.principal.Account())
	}
	s.condBuf = c
	return c
}

// keyAliases are the names of k's aliases (kms:ResourceAliases), or nil.
// With the eventual-consistency model on, they are the aliases that point
// to k for the call in progress (D75).
func (s *Service) keyAliases(k *key) []string {
	if s.ec == nil || len(s.ec.aliases) == 0 {
		if k.aliasCount == 0 {
			return nil
		}
		return s.regions[k.region].aliasNames(k)
	}
	// Alias changes still propagating: the aliases that resolve to k
	// for the caller (D75), the index's corrected by the changes the
	// caller does not see yet.
	r := s.regions[k.region]
	var names, add, drop []string
	if k.aliasCount > 0 {
		names = r.aliasNames(k)
	}
	for a := range s.ec.aliases {
		if r.aliases[aliasID{account: a.account, name: a.name}] != a {
			continue // deleted since, at once (D41)
		}
		switch now, seen := a.target == k, s.ecAliasTarget(a) == k; {
		case now && !seen:
			drop = append(drop, a.name)
		case seen && !now:
			add = append(add, a.name)
		}
	}
	if len(add) == 0 && len(drop) == 0 {
		return names
	}
	names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(drop, n) })
	names = append(names, add...)
	slices.Sort(names)
	return names
}

type conditionsKey struct{}

// numCondition is a request's condition key whose value is a number
// (kms:RotationPeriodInDays), formatted only when a policy is evaluated
// with conditions: most calls are decided by the default key policy,
// which has none, and then it costs nothing.
type numCondition struct {
	key string // "" for none
	n   int32
}

// withConditions returns a context whose call adds the given condition
// keys and values (in pairs) to its authorization: the way the
// operations that run through keyRead and keyWrite pass their request's
// condition keys (begin takes them).
func withConditions(ctx context.Context, pairs ...string) context.Context {
	entries := make([]policy.ContextEntry, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		entries = append(entries, policy.Single(pairs[i], pairs[i+1]))
	}
	return withConditionEntries(ctx, entries...)
}

// withConditionEntries is withConditions with entries, for multi-valued
// keys.
func withConditionEntries(ctx context.Context, entries ...policy.ContextEntry) context.Context {
	return replaceConditions(ctx, nil, entries...)
}

// replaceConditions returns ctx with entries added to its condition keys,
// after those for whose key drop reports true (nil drops none): the way a
// context option given again replaces what it gave before.
func replaceConditions(ctx context.Context, drop func(key string) bool, entries ...policy.ContextEntry) context.Context {
	if prev, _ := ctx.Value(conditionsKey{}).([]policy.ContextEntry); len(prev) > 0 {
		kept := make([]policy.ContextEntry, 0, len(prev)+len(entries))
		for _, e := range prev {
			if drop == nil || !drop(e.Key) {
				kept = append(kept, e)
			}
		}
		entries = append(kept, entries...)
	}
	return context.WithValue(ctx, conditionsKey{}, entries)
}

// condition adds a request condition key to the call in progress.
func (s *Service) condition(key, value string) {
	s.call.extra = append(s.call.extra, policy.Single(key, value))
}

// parsePolicy validates a policy document (D29; spec §2.1): the
// ValidationException, LimitExceededException or
// MalformedPolicyDocumentException AWS answers.
func parsePolicy(op keystate.Operation, arn string, st keystate.State, text string) (*policy.Document, error) {
	for _, r := range text {
		// The API model's pattern: tab, LF, CR, and U+0020–U+00FF.
		if r != '\t' && r != '\n' && r != '\r' && (r < 0x20 || r > 0xFF) {
			return nil, validationError(op, "[policy]", "policy",
				`Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
		}
	}
	doc, err := policy.Parse(text)
	switch {
	case errors.Is(err, policy.ErrTooLong):
		return nil, validationError(op, "[policy]", "policy", "Member must have length less than or equal to 131072")
	case errors.Is(err, policy.ErrTooLarge):
		return nil, kmsError(keystate.ErrLimitExceeded, op, arn, st, policy.Message(err))
	case err != nil:
		return nil, &keystate.Error{Code: keystate.ErrMalformedPolicyDocument, Op: op, KeyID: arn, State: st, Err: err,
			Message: policy.Message(err)}
	}
	return doc, nil
}

// lockoutCheck is AWS's policy lockout safety check (spec §2.3): the new
// policy must let the calling principal call PutKeyPolicy on the key arn
// (of account and kind; its properties are condition keys), with the
// caller's identity-based policies where the service keeps them (D59). The refusal
// names errID: the key's ARN, or empty for a key not created yet.
func (s *Service) lockoutCheck(op keystate.Operation, doc *policy.Document, arn, account, errID string, kind keystate.Kind, st keystate.State) error {
	req := s.request("kms:PutKeyPolicy", arn, account, s.kindConditions(kind))
	iam := s.iamGoverns()
	if iam {
		req.Bounded = s.bounded()
	}
	dec := doc.Evaluate(&req)
	if !iam && dec.Allowed() {
		return nil
	}
	if iam {
		// With IAM, an Allow that only delegates to the caller's account
		// needs its identity-based policies too (D59), within the caller's
		// bounds (D62).
		v := s.judge(&req)
		if _, denied, _ := v.withKeyPolicy(dec, s.principal, account); !denied {
			return nil
		}
	}
	// Recorded wording (spec §2.2).
	return kmsError(keystate.ErrMalformedPolicyDocument, op, errID, st,
		"The new key policy will not allow you to update the key policy in the future.")
}

// isKeyDefault reports whether doc is k's default key policy: that of
// k's account in the partition of k's Region. Another account's or
// partition's default is a policy like any other for k (D70).
func (s *Service) isKeyDefault(k *key, doc *policy.Document) bool {
	return doc.IsDefaultFor(s.regions[k.region].partition, k.account)
}

// setPolicy installs doc as k's policy (nil or k's default: the shared
// default). recorded is the PolicyBinding of the record it comes from or
// goes to, which binds it in a cluster (D78).
func (s *Service) setPolicy(k *key, doc *policy.Document, recorded uint64) {
	if doc == nil || s.isKeyDefault(k, doc) {
		delete(s.policies, k.slot)
		delete(s.bound, k.slot)
		return
	}
	if s.policies == nil {
		s.policies = make(map[uint32]*policy.Document)
	}
	s.policies[k.slot] = doc
	s.bindPolicy(k, doc, recorded)
}

// policyText is what a key's store record holds: "" for the default. A
// new key whose record CreateKey or ReplicateKey writes before adding it
// to the slab has slot 0, another key's: it has no policy yet (its caller
// adds its own), so only a key whose slot holds it (or a draft of it,
// which has its seq) has the policy of its slot.
func (s *Service) policyText(k *key) string {
	i, j := int(k.slot/slabChunk), int(k.slot%slabChunk)
	if i >= len(s.slab) || j >= len(s.slab[i]) || s.slab[i][j].seq != k.seq {
		return ""
	}
	if d := s.policies[k.slot]; d != nil {
		return d.Text()
	}
	return ""
}

// GetKeyPolicyInput is the input of GetKeyPolicy: KeyId a key ID or key
// ARN of the caller's account; PolicyName "default" (the default) or
// absent.
type GetKeyPolicyInput struct {
	KeyId      string
	PolicyName string
}

// GetKeyPolicyOutput is the output of GetKeyPolicy: the policy document,
// in AWS's layout (the default policy byte for byte as AWS returns it).
type GetKeyPolicyOutput struct {
	Policy     string
	PolicyName string
}

// PutKeyPolicyInput is the input of PutKeyPolicy.
type PutKeyPolicyInput struct {
	KeyId      string
	Policy     string
	PolicyName string
	// BypassPolicyLockoutSafetyCheck skips the check that the new policy
	// still lets the caller call PutKeyPolicy.
	BypassPolicyLockoutSafetyCheck bool
}

// PutKeyPolicyOutput is the (empty) output of PutKeyPolicy.
type PutKeyPolicyOutput struct{}

// ListKeyPoliciesInput is the input of ListKeyPolicies.
type ListKeyPoliciesInput struct {
	KeyId  string
	Limit  *int32
	Marker string
}

// ListKeyPoliciesOutput is the output of ListKeyPolicies: always
// ["default"].
type ListKeyPoliciesOutput struct {
	PolicyNames []string
	Truncated   bool
	NextMarker  string
}

const defaultPolicyName = "default"

// checkPolicyName is D29's rule for PolicyName: "default" or absent.
func checkPolicyName(op keystate.Operation, name string, put bool) error {
	if name == "" || name == defaultPolicyName {
		return nil
	}
	if err := checkLength(op, name, "policyName", 1, 128); err != nil {
		return err
	}
	if put {
		// D29; kmsmodel's wording.
		return kmsError(keystate.ErrValidation, op, "", keystate.None, "PolicyName must be default; a KMS key has one key policy.")
	}
	return nil
}

// GetKeyPolicy returns a key's key policy. It works in every key state.
// Only "default" names a policy; any other PolicyName is NotFoundException
// (D29).
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException.
func (s *Service) GetKeyPolicy(ctx context.Context, in *GetKeyPolicyInput) (*GetKeyPolicyOutput, error) {
	in = orEmpty(in)
	const op = keystate.GetKeyPolicy
	var out *GetKeyPolicyOutput
	err := s.keyRead(ctx, op, in.KeyId, idOnly, checkPolicyName(op, in.PolicyName, false), func() map[string]string {
		return map[string]string{"keyId": in.KeyId, "policyName": in.PolicyName}
	}, func(k *key, _ int64) error {
		arn := s.arnOf(k)
		if in.PolicyName != "" && in.PolicyName != defaultPolicyName {
			// D29; kmsmodel's wording.
			return kmsError(keystate.ErrNotFound, op, arn, k.state, "Policy "+in.PolicyName+" of "+arn+" does not exist.")
		}
		out = &GetKeyPolicyOutput{Policy: s.policyShown(k, s.keyPolicy(k)), PolicyName: defaultPolicyName}
		return nil
	})
	return out, err
}

// PutKeyPolicy replaces a key's key policy. Unless
// BypassPolicyLockoutSafetyCheck is set, the new policy must still let the
// caller call PutKeyPolicy (AWS's lockout check). It works in every key
// state; an AWS managed key's policy cannot be changed (D29).
//
// Errors: ValidationException (policy missing, over 131,072 characters or
// with characters outside the API's pattern; a PolicyName other than
// "default"), LimitExceededException (over 32 KB),
// MalformedPolicyDocumentException, InvalidArnException,
// NotFoundException, AccessDeniedException, UnsupportedOperationException
// (an AWS managed key), KMSInternalException.
func (s *Service) PutKeyPolicy(ctx context.Context, in *PutKeyPolicyInput) (*PutKeyPolicyOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*PutKeyPolicyOutput, error) { return s.putKeyPolicyOnce(ctx, in) })
	}
	return s.putKeyPolicyOnce(ctx, in)
}

// putKeyPolicyOnce is one run of PutKeyPolicy (cluster mode may run it again).
func (s *Service) putKeyPolicyOnce(ctx context.Context, in *PutKeyPolicyInput) (res *PutKeyPolicyOutput, err error) {
	in = orEmpty(in)
	const op = keystate.PutKeyPolicy
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	if err == nil {
		err = checkPolicyName(op, in.PolicyName, true)
	}
	if err == nil && in.Policy == "" {
		err = required(op, "policy")
	}
	if err == nil && in.BypassPolicyLockoutSafetyCheck {
		s.condition("kms:BypassPolicyLockoutSafetyCheck", "true")
	}
	var (
		k   *key
		arn string
		doc *policy.Document
	)
	if err == nil {
		k, arn, err = s.resolve(ctx, op, caller, in.KeyId, "keyId", idOnly)
	}
	if err == nil {
		err = keystate.Check(op, k.state, k.kind, arn)
	}
	if err == nil && k.kind.Manager == keystate.AWSManaged {
		// D29 with D15; kmsmodel's wording.
		err = kmsError(keystate.ErrUnsupportedOperation, op, arn, k.state, arn+" is an AWS managed key whose key policy cannot be changed.")
	}
	if err == nil {
		doc, err = parsePolicy(op, arn, k.state, in.Policy)
	}
	if err == nil {
		err = s.checkPolicyPrincipals(op, doc, arn, k.state) // D66
	}
	if err == nil && !in.BypassPolicyLockoutSafetyCheck {
		err = s.lockoutCheck(op, doc, arn, k.account, arn, k.kind, k.state)
	}
	var binding uint64 // D78, in a cluster: as the record holds it
	if err == nil && s.st != nil {
		r := s.toRecord(k)
		r.Version = k.version + 1
		if !s.isKeyDefault(k, doc) {
			binding = s.recordPolicy(&r, doc)
		} else {
			r.Policy, r.PolicyBinding = "", 0
		}
		if err = s.persist(&store.Batch{PutKeys: []store.Key{r}}); err != nil {
			err = internalError(op, arn, k.state, err)
		} else {
			k.version++
		}
	}
	if err == nil {
		if s.ec != nil {
			s.ecPolicyChanged(k, s.keyPolicy(k), now)
		}
		delete(s.bound, k.slot) // D78: written again, bound again, even to the same text
		s.setPolicy(k, doc, binding)
	}
	if s.observing() {
		s.record(now, op, caller, arn, map[string]string{"keyId": in.KeyId,
			"bypassPolicyLockoutSafetyCheck": strconv.FormatBool(in.BypassPolicyLockoutSafetyCheck)}, err)
	}
	if err != nil {
		return nil, err
	}
	return &PutKeyPolicyOutput{}, nil
}

// ListKeyPolicies lists the names of a key's key policies: always
// "default". It works in every key state.
//
// Errors: ValidationException (Limit outside 1–1000), InvalidArnException,
// NotFoundException, AccessDeniedException.
func (s *Service) ListKeyPolicies(ctx context.Context, in *ListKeyPoliciesInput) (*ListKeyPoliciesOutput, error) {
	in = orEmpty(in)
	const op = keystate.ListKeyPolicies
	var invalid error
	if in.Limit != nil {
		invalid = checkIntRange(op, *in.Limit, "limit", 1, 1000)
	}
	if invalid == nil {
		invalid = checkLength(op, in.Marker, "marker", 0, 320)
	}
	var out *ListKeyPoliciesOutput
	err := s.keyRead(ctx, op, in.KeyId, idOnly, invalid, func() map[string]string {
		return map[string]string{"keyId": in.KeyId}
	}, func(*key, int64) error {
		out = &ListKeyPoliciesOutput{PolicyNames: []string{defaultPolicyName}}
		return nil
	})
	return out, err
}
