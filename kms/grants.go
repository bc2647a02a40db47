package kms

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/hex"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
	"github.com/kmsmodel/kmsmodel/store"
)

// Grants (spec §4; decision D28).
//
// A grant lets its grantee principal perform some operations on one key,
// optionally only with an encryption context that equals, or includes, the
// grant's. After the key policy, a call that the policy does not
// explicitly deny is allowed when a grant on the key allows it. Grants take
// effect at once (D28); a grant token is accepted wherever grant tokens
// are, and names its grant. A key's grants go with the key when it is
// deleted.

// grantOperations are the operations a grant can allow, as AWS names them.
var grantOperations = []string{"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
	"ReEncryptFrom", "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey",
	"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac", "DeriveSharedSecret",
	"Encapsulate", "Decapsulate"}

// grant is one grant on a key.
type grant struct {
	id, name          string
	key               *key
	grantee, retiring policy.Principal
	issuing           string
	ops               []string
	equals, subset    map[string]string
	sourceArn         string // the SourceArn constraint, or ""
	created           int64
	seq               uint64 // creation number (0: made before grants had one)
}

// allows reports whether g lets caller perform action ("kms:<Op>") with
// encryption context ec, on behalf of the AWS resource sourceArn ("" for a
// call made on behalf of none).
func (g *grant) allows(caller policy.Principal, action string, ec map[string]string, sourceArn string) bool {
	op, ok := strings.CutPrefix(action, "kms:")
	if !ok || !slices.Contains(g.ops, op) || !g.grantee.Matches(caller) {
		return false
	}
	if g.sourceArn != "" && g.sourceArn != sourceArn {
		// D55, D61: only a call an AWS service makes on behalf of that
		// resource (aws:SourceArn, WithServicePrincipal).
		return false
	}
	if g.equals != nil && !maps.Equal(g.equals, ec) {
		return false
	}
	for k, v := range g.subset {
		if w, ok := ec[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// grantAllows returns the grant on k that allows the call in progress
// (action), the oldest if several do, or nil.
func (s *Service) grantAllows(k *key, action string) *grant {
	var allowing *grant
	if gs := s.grants[k.slot]; len(gs) <= granteeIndexMin {
		for _, g := range gs {
			if s.grantCounts(g, action) {
				allowing = g
				break
			}
		}
	} else {
		// A key AWS services use may hold thousands of grants, one per
		// volume or function: read only those whose grantee may be the
		// caller.
		idx := s.granteeIndex(k.slot, gs)
		s.matchKeys = s.principal.CallerMatchKeys(s.matchKeys[:0])
		for _, mk := range s.matchKeys {
			for _, g := range idx[mk] {
				if (allowing == nil || grantOrder(g, allowing) < 0) && s.grantCounts(g, action) {
					allowing = g
				}
			}
		}
	}
	if allowing != nil {
		s.readGrant(k, allowing)
		return allowing
	}
	if s.ec != nil {
		return s.ecRevokedAllows(k, action) // D42: a removal propagates too
	}
	return nil
}

// grantCounts reports whether g lets the call in progress perform action
// and counts for it (D42: it has propagated, or the call passes its token).
func (s *Service) grantCounts(g *grant, action string) bool {
	return g.allows(s.principal, action, s.call.ec, s.call.sourceArn) && (s.ec == nil || s.ecGrantVisible(g)) && !s.granteeGone(g)
}

// granteeGone reports whether g's grantee was deleted since g was made:
// the grant no longer covers it or a namesake (D78).
func (s *Service) granteeGone(g *grant) bool {
	_, gone := s.grantGone(g, g.grantee)
	return gone
}

// granteeIndexMin is how many grants a key holds before grantAllows reads
// them through an index by grantee rather than one by one.
const granteeIndexMin = 32

// granteeIndex returns the index of the grants gs of the key at slot by
// their grantee's MatchKey, making it if the key has none yet.
// appendGrant, installGrant, dropGrant and dropKeyGrants keep it current.
func (s *Service) granteeIndex(slot uint32, gs []*grant) map[string][]*grant {
	idx := s.granteeIdx[slot]
	if idx == nil {
		idx = make(map[string][]*grant)
		for _, g := range gs {
			mk := g.grantee.MatchKey()
			idx[mk] = append(idx[mk], g)
		}
		if s.granteeIdx == nil {
			s.granteeIdx = make(map[uint32]map[string][]*grant)
		}
		s.granteeIdx[slot] = idx
	}
	return idx
}

// indexGrant files g in its key's grantee index, if the key has one.
func (s *Service) indexGrant(g *grant) {
	if idx := s.granteeIdx[g.key.slot]; idx != nil {
		mk := g.grantee.MatchKey()
		idx[mk] = append(idx[mk], g)
	}
}

// GrantConstraints are a grant's constraints: encryption-context pairs,
// and SourceArn, the AWS resource on whose behalf a call must be made
// (a call WithServicePrincipal makes for that resource, D55, D61).
type GrantConstraints struct {
	EncryptionContextEquals map[string]string
	EncryptionContextSubset map[string]string
	SourceArn               string
}

// CreateGrantInput is the input of CreateGrant. KeyId is a key ID or key
// ARN (another account's by ARN). The grantee is GranteePrincipal (an IAM
// principal's ARN) or GranteeServicePrincipal (an AWS service principal,
// such as "logs.us-east-1.amazonaws.com", which also needs a SourceArn
// constraint and a retiring principal); the retiring principal, if any,
// RetiringPrincipal or RetiringServicePrincipal.
type CreateGrantInput struct {
	KeyId                    string
	GranteePrincipal         string
	GranteeServicePrincipal  string
	RetiringPrincipal        string
	RetiringServicePrincipal string
	Operations               []string
	Constraints              *GrantConstraints
	Name                     string
}

// CreateGrantOutput is the output of CreateGrant.
type CreateGrantOutput struct {
	GrantId    string
	GrantToken string
}

// GrantListEntry describes a grant, as ListGrants and ListRetirableGrants
// return it.
type GrantListEntry struct {
	KeyId                    string // the key ARN
	GrantId                  string
	Name                     string
	CreationDate             time.Time
	GranteePrincipal         string // empty for a grant to a service principal
	GranteeServicePrincipal  string
	RetiringPrincipal        string
	RetiringServicePrincipal string
	IssuingAccount           string
	Operations               []string
	Constraints              *GrantConstraints
}

// ListGrantsInput is the input of ListGrants: the key's grants, filtered
// by GrantId, GranteePrincipal or GranteeServicePrincipal when given.
type ListGrantsInput struct {
	KeyId                   string
	Limit                   *int32
	Marker                  string
	GrantId                 string
	GranteePrincipal        string
	GranteeServicePrincipal string
}

// ListGrantsOutput is the output of ListGrants and ListRetirableGrants.
type ListGrantsOutput struct {
	Grants     []GrantListEntry
	NextMarker string
	Truncated  bool
}

// ListRetirableGrantsInput is the input of ListRetirableGrants: the grants
// of the caller's Region whose retiring principal is the one given, as
// RetiringPrincipal or as RetiringServicePrincipal (one of the two).
type ListRetirableGrantsInput struct {
	RetiringPrincipal        string
	RetiringServicePrincipal string
	Limit                    *int32
	Marker                   string
}

// RetireGrantInput is the input of RetireGrant: a GrantToken, or KeyId
// (key ARN) and GrantId.
type RetireGrantInput struct {
	GrantToken string
	KeyId      string
	GrantId    string
}

// RetireGrantOutput is the (empty) output of RetireGrant.
type RetireGrantOutput struct{}

// RevokeGrantInput is the input of RevokeGrant.
type RevokeGrantInput struct {
	KeyId   string
	GrantId string
}

// RevokeGrantOutput is the (empty) output of RevokeGrant.
type RevokeGrantOutput struct{}

// grantPrincipal validates a GranteePrincipal or RetiringPrincipal. The
// caller holds s.mu.
func (s *Service) grantPrincipal(op keystate.Operation, arn, field string) (policy.Principal, error) {
	if err := checkLength(op, arn, field, 1, 256); err != nil {
		return policy.Principal{}, err
	}
	p, err := s.parsePrincipal(arn)
	if err != nil || p.Kind() == policy.Everyone {
		// No recording; kmsmodel's wording (spec §9 P2).
		return policy.Principal{}, kmsError(keystate.ErrValidation, op, "", keystate.None,
			"'"+arn+"' at '"+field+"' is not a valid principal ARN.")
	}
	return p, nil
}

// servicePrincipal validates a GranteeServicePrincipal or
// RetiringServicePrincipal (D55): 1–256 characters, lowercase letters,
// digits, dots and hyphens, ending in .amazonaws.com (or
// .amazonaws.com.cn), as service principals are named.
func servicePrincipal(op keystate.Operation, name, field string) (policy.Principal, error) {
	if err := checkLength(op, name, field, 1, 256); err != nil {
		return policy.Principal{}, err
	}
	if _, ok := serviceHost(name); !ok {
		return policy.Principal{}, kmsError(keystate.ErrValidation, op, "", keystate.None,
			"'"+name+"' at '"+field+"' is not a valid service principal.")
	}
	return policy.ServicePrincipal(name), nil
}

// serviceHost returns the part of name before .amazonaws.com (or
// .amazonaws.com.cn), and whether name has that form with dot-separated
// labels of lowercase letters, digits and hyphens that start with neither
// a dot nor a hyphen: how AWS service principals and service endpoints are
// named.
func serviceHost(name string) (string, bool) {
	base, ok := strings.CutSuffix(name, ".amazonaws.com")
	if !ok {
		base, ok = strings.CutSuffix(name, ".amazonaws.com.cn")
	}
	if !ok || base == "" || strings.Trim(base, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" ||
		base[0] == '.' || base[0] == '-' || strings.HasSuffix(base, ".") || strings.Contains(base, "..") {
		return "", false
	}
	return base, true
}

// validateSourceArn validates a SourceArn constraint (D55): an ARN of 1–
// 2048 characters, arn:<partition>:<service>:<region>:<account>:<resource>
// with a service and a resource.
func validateSourceArn(op keystate.Operation, arn, field string) error {
	if err := checkLength(op, arn, field, 1, 2048); err != nil {
		return err
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return kmsError(keystate.ErrValidation, op, "", keystate.None, "'"+arn+"' at '"+field+"' is not a valid ARN.")
	}
	return nil
}

// grantParty validates a grant's grantee or retiring principal (role
// "grantee" or "retiring"), given as an IAM principal's ARN
// (<Role>Principal) or as a service principal (<Role>ServicePrincipal),
// not both; need says one of them is required. The caller holds s.mu.
func (s *Service) grantParty(op keystate.Operation, arn, service, role string, need bool) (policy.Principal, error) {
	switch {
	case arn != "" && service != "":
		return policy.Principal{}, notBoth(op, strings.ToUpper(role[:1])+role[1:])
	case service != "":
		return servicePrincipal(op, service, role+"ServicePrincipal")
	case arn != "":
		return s.grantPrincipal(op, arn, role+"Principal")
	case need:
		return policy.Principal{}, required(op, role+"Principal")
	}
	return policy.Principal{}, nil
}

// notBoth refuses a request that names a principal both ways,
// <member>Principal and <member>ServicePrincipal (D55's wording).
func notBoth(op keystate.Operation, member string) error {
	return kmsError(keystate.ErrValidation, op, "", keystate.None,
		"Specify either "+member+"Principal or "+member+"ServicePrincipal, but not both.")
}

// validateCreateGrant is CreateGrant's input validation (D3 step 1). The
// caller holds s.mu.
func (s *Service) validateCreateGrant(in *CreateGrantInput) (grantee, retiring policy.Principal, err error) {
	const op = keystate.CreateGrant
	// The SDK's rules (spec §4.3); the wording is kmsmodel's (D55).
	if grantee, err = s.grantParty(op, in.GranteePrincipal, in.GranteeServicePrincipal, "grantee", true); err != nil {
		return
	}
	if retiring, err = s.grantParty(op, in.RetiringPrincipal, in.RetiringServicePrincipal, "retiring", false); err != nil {
		return
	}
	if c := in.Constraints; c != nil && c.SourceArn != "" {
		if err = validateSourceArn(op, c.SourceArn, "constraints.sourceArn"); err != nil {
			return
		}
	}
	if in.GranteeServicePrincipal != "" {
		switch {
		case in.Constraints == nil || in.Constraints.SourceArn == "":
			return grantee, retiring, kmsError(keystate.ErrValidation, op, "", keystate.None,
				"A grant to a service principal (GranteeServicePrincipal) requires a SourceArn constraint.")
		case retiring.Kind() == policy.Nobody:
			return grantee, retiring, kmsError(keystate.ErrValidation, op, "", keystate.None,
				"A grant to a service principal (GranteeServicePrincipal) requires a RetiringPrincipal or a RetiringServicePrincipal.")
		}
	}
	if len(in.Operations) == 0 {
		return grantee, retiring, required(op, "operations")
	}
	for i, o := range in.Operations {
		if err = checkEnum(op, o, "operations."+strconv.Itoa(i+1)+".member", grantOperations); err != nil {
			return
		}
	}
	if in.Name != "" {
		if err = checkLength(op, in.Name, "name", 1, 256); err != nil {
			return
		}
		for _, r := range in.Name {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":/_-", r)) {
				return grantee, retiring, validationError(op, in.Name, "name", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$")
			}
		}
	}
	if c := in.Constraints; c != nil {
		if err = validateContext(op, c.EncryptionContextEquals, "constraints.encryptionContextEquals"); err == nil {
			err = validateContext(op, c.EncryptionContextSubset, "constraints.encryptionContextSubset")
		}
	}
	return
}

// grantKind refuses, after the key-state table (D3 step 7), operations a
// grant on k cannot allow and constraints k cannot have (spec §9 P18;
// kmsmodel's wording).
func grantKind(k *key, arn string, in *CreateGrantInput) error {
	const op = keystate.CreateGrant
	for _, o := range in.Operations {
		// The key-state table's kind rules (keystate) say which
		// operations a key of k's kind can perform; a grant cannot allow
		// the others. ReEncryptFrom and ReEncryptTo are ReEncrypt's.
		name := o
		if o == "ReEncryptFrom" || o == "ReEncryptTo" {
			name = "ReEncrypt"
		}
		gop, _ := keystate.ParseOperation(name)
		if keystate.Check(gop, keystate.Enabled, k.kind, arn) != nil {
			return kmsError(keystate.ErrValidation, op, arn, k.state,
				"Grant operation "+o+" is not valid for "+arn+", whose key usage is "+k.kind.Usage.String()+" and key spec "+k.kind.Spec.String()+".")
		}
	}
	if c := in.Constraints; c != nil && (len(c.EncryptionContextEquals) > 0 || len(c.EncryptionContextSubset) > 0) && !k.kind.Spec.IsSymmetric() {
		return kmsError(keystate.ErrValidation, op, arn, k.state,
			"Encryption context constraints are valid only for grants on symmetric encryption KMS keys; "+arn+" has key spec "+k.kind.Spec.String()+".")
	}
	return nil
}

type grantTokensKey struct{}

// WithGrantTokens returns a context whose calls pass grant tokens, as the
// GrantTokens parameter of AWS's operations does. Grants take effect at
// once in kmsmodel (D28), so a token adds nothing to what its grant
// allows, except with WithEventualConsistency, where it makes a grant
// that has not propagated yet usable by the call (D42). Every token must
// be one the service issued for a grant that still exists, or the call
// fails with InvalidGrantTokenException.
func WithGrantTokens(ctx context.Context, tokens []string) context.Context {
	return context.WithValue(ctx, grantTokensKey{}, tokens)
}

// GrantTokens returns the grant tokens WithGrantTokens put in ctx.
func GrantTokens(ctx context.Context) []string {
	t, _ := ctx.Value(grantTokensKey{}).([]string)
	return t
}

// checkGrantTokens refuses a call whose grant tokens are not the
// service's (D28). The caller holds s.mu.
func (s *Service) checkGrantTokens(ctx context.Context, op keystate.Operation) error {
	tokens := GrantTokens(ctx)
	if len(tokens) > 10 {
		return validationError(op, "[tokens]", "grantTokens", "Member must have length less than or equal to 10")
	}
	if s.ec != nil {
		s.ec.tokens = s.ec.tokens[:0]
	}
	for _, t := range tokens {
		g, err := s.tokenGrant(op, t)
		if err != nil {
			return err
		}
		if s.ec != nil {
			s.ec.tokens = append(s.ec.tokens, g) // D42: a token makes its grant usable at once
		}
	}
	return nil
}

type dryRunKey struct{}

// WithDryRun returns a context whose calls are dry runs (D27): the
// operations that take DryRun (CreateGrant, Decapsulate, Decrypt,
// DeriveSharedSecret, Encapsulate, Encrypt, GenerateDataKey,
// GenerateDataKeyPair,
// GenerateDataKeyPairWithoutPlaintext, GenerateDataKeyWithoutPlaintext,
// GenerateMac, ReEncrypt, RetireGrant, RevokeGrant, Sign, Verify,
// VerifyMac) check everything but do nothing, and answer
// DryRunOperationException "The request would have succeeded, but the
// DryRun option is set." when the call would have succeeded. Other
// operations ignore it.
func WithDryRun(ctx context.Context) context.Context {
	return context.WithValue(ctx, dryRunKey{}, true)
}

// dryRun returns the DryRunOperationException of a dry run of op, or nil
// when ctx is no dry run.
func dryRun(ctx context.Context, op keystate.Operation, k *key, arn string) error {
	if on, _ := ctx.Value(dryRunKey{}).(bool); !on {
		return nil
	}
	st := keystate.None
	if k != nil {
		st = k.state
	}
	// Recorded wording (spec §7).
	return kmsError(keystate.ErrDryRunOperation, op, arn, st, "The request would have succeeded, but the DryRun option is set.")
}

// grantToken makes a token for g: opaque, naming its grant.
func (s *Service) grantToken(g *grant) (string, error) {
	b := make([]byte, 1+32+16)
	b[0] = 1
	id, _ := hex.DecodeString(g.id)
	copy(b[1:33], id)
	if _, err := io.ReadFull(s.cfg.random, b[33:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// tokenGrant returns the grant a token names, or InvalidGrantTokenException.
func (s *Service) tokenGrant(op keystate.Operation, token string) (*grant, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil && len(b) == 49 && b[0] == 1 {
		if g := s.grantIndex[hex.EncodeToString(b[1:33])]; g != nil {
			return g, nil
		}
	}
	// No recording; kmsmodel's wording.
	return nil, kmsError(keystate.ErrInvalidGrantToken, op, "", keystate.None, "The grant token is not valid.")
}

// CreateGrant adds a grant to a key: GranteePrincipal may then perform
// Operations on it (within Constraints), and RetiringPrincipal may retire
// it. A grant with the same Name, grantee, operations, constraints and
// retiring principal as an existing one returns that grant with a new
// token (D28).
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException, DisabledException, KMSInvalidStateException
// (table a.2), LimitExceededException (50,000 grants on the key),
// KMSInternalException.
func (s *Service) CreateGrant(ctx context.Context, in *CreateGrantInput) (*CreateGrantOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*CreateGrantOutput, error) { return s.createGrantOnce(ctx, in) })
	}
	return s.createGrantOnce(ctx, in)
}

// createGrantOnce is one run of CreateGrant (cluster mode may run it again).
func (s *Service) createGrantOnce(ctx context.Context, in *CreateGrantInput) (res *CreateGrantOutput, err error) {
	in = orEmpty(in)
	const op = keystate.CreateGrant
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	var grantee, retiring policy.Principal
	if err == nil {
		grantee, retiring, err = s.validateCreateGrant(in)
	}
	if err == nil {
		s.call.extra = append(s.call.extra, policy.Multi("kms:GrantOperations", in.Operations...),
			policy.Single("kms:GrantIsForAWSResource", "false"))
		for _, c := range [][2]string{{"kms:GranteePrincipal", in.GranteePrincipal},
			{"kms:GranteeServicePrincipal", in.GranteeServicePrincipal}, {"kms:RetiringPrincipal", in.RetiringPrincipal},
			{"kms:RetiringServicePrincipal", in.RetiringServicePrincipal}} {
			if c[1] != "" {
				s.condition(c[0], c[1])
			}
		}
		if c := in.Constraints; c != nil {
			if len(c.EncryptionContextEquals) > 0 {
				s.condition("kms:GrantConstraintType", "EncryptionContextEquals")
			} else if len(c.EncryptionContextSubset) > 0 {
				s.condition("kms:GrantConstraintType", "EncryptionContextSubset")
			}
			if c.SourceArn != "" {
				s.condition("kms:GrantConstraintSourceArn", c.SourceArn)
			}
		}
	}
	var (
		k   *key
		arn string
		out *CreateGrantOutput
	)
	if err == nil {
		k, arn, err = s.resolve(ctx, op, caller, in.KeyId, "keyId", crossAccount)
	}
	if err == nil {
		err = keystate.Check(op, k.state, k.kind, arn)
	}
	if err == nil {
		err = grantKind(k, arn, in)
	}
	if err == nil {
		err = s.checkGrantPrincipals(op, arn, k.state, grantee, retiring) // D66
	}
	var g *grant
	if err == nil {
		err = dryRun(ctx, op, k, arn)
	}
	if err == nil {
		g = s.sameGrant(k, in, grantee)
		if g == nil && k.kind.Manager != keystate.AWSManaged && len(s.grants[k.slot]) >= s.cfg.grantsPerKey {
			err = kmsError(keystate.ErrLimitExceeded, op, arn, k.state, "The request would exceed the grants quota of "+arn+".")
		}
	}
	if err == nil && g == nil {
		g, err = s.addGrant(k, arn, in, grantee, retiring, caller, now)
		if err == nil && s.ec != nil {
			s.ecGrantCreated(g, now)
		}
	}
	if err == nil {
		var token string
		if token, err = s.grantToken(g); err != nil {
			err = &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err, Message: "The randomness source failed."}
		} else {
			out = &CreateGrantOutput{GrantId: g.id, GrantToken: token}
		}
	}
	if s.observing() {
		s.record(now, op, caller, arn, map[string]string{"keyId": in.KeyId, "granteePrincipal": cmp.Or(in.GranteePrincipal, in.GranteeServicePrincipal),
			"operations": strings.Join(in.Operations, ",")}, err)
	}
	return out, err
}

// sameGrant returns k's grant that in, to grantee, would create again
// (D28; the oldest, if several), or nil.
func (s *Service) sameGrant(k *key, in *CreateGrantInput, grantee policy.Principal) *grant {
	if in.Name == "" {
		return nil
	}
	gs := s.grants[k.slot]
	if len(gs) > granteeIndexMin {
		gs = s.granteeIndex(k.slot, gs)[grantee.MatchKey()] // the same grantee has the same key
	}
	var eq, sub map[string]string
	var source string
	if c := in.Constraints; c != nil {
		eq, sub, source = c.EncryptionContextEquals, c.EncryptionContextSubset, c.SourceArn
	}
	granteeARN, retiring := cmp.Or(in.GranteePrincipal, in.GranteeServicePrincipal), cmp.Or(in.RetiringPrincipal, in.RetiringServicePrincipal)
	var same *grant
	for _, g := range gs {
		if g.name == in.Name && g.grantee.ARN() == granteeARN && g.retiring.ARN() == retiring && g.sourceArn == source &&
			slices.Equal(g.ops, in.Operations) && maps.Equal(g.equals, eq) && maps.Equal(g.subset, sub) &&
			(same == nil || grantOrder(g, same) < 0) {
			same = g
		}
	}
	return same
}

// addGrant creates a grant on k, writing it to the store first.
func (s *Service) addGrant(k *key, arn string, in *CreateGrantInput, grantee, retiring policy.Principal, caller string, now int64) (*grant, error) {
	const op = keystate.CreateGrant
	raw := make([]byte, 32)
	if _, err := io.ReadFull(s.cfg.random, raw); err != nil {
		return nil, &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err, Message: "The randomness source failed."}
	}
	g := &grant{id: hex.EncodeToString(raw), name: in.Name, key: k, grantee: grantee, retiring: retiring,
		issuing: "arn:" + s.rg.partition + ":iam::" + caller + ":root", ops: slices.Clone(in.Operations), created: now,
		seq: s.grantSeq + 1}
	if c := in.Constraints; c != nil {
		if len(c.EncryptionContextEquals) > 0 {
			g.equals = maps.Clone(c.EncryptionContextEquals)
		}
		if len(c.EncryptionContextSubset) > 0 {
			g.subset = maps.Clone(c.EncryptionContextSubset)
		}
		g.sourceArn = c.SourceArn
	}
	var binding uint64 // D78, in a cluster: as the record holds it
	if s.st != nil {
		rec := s.grantRecord(g)
		rec.Binding = s.newBinding([]policy.Principal{g.grantee, g.retiring})
		binding = rec.Binding
		b := store.Batch{PutGrants: []store.Grant{rec}}
		if s.cl != nil {
			// A cluster node writes the key's record too (its version
			// alone changes): the grant was made on the key's grants as
			// the node saw them (the quota, and D28's same grant, which
			// a client's retry on another node asks for), and another
			// node's CreateGrant on the key must then lose its race and
			// run again on them, not commit beside it.
			rec := s.toRecord(k)
			rec.Version++
			b.PutKeys = []store.Key{rec}
		}
		if err := s.persist(&b); err != nil {
			return nil, internalError(op, arn, k.state, err)
		}
		if s.cl != nil {
			k.version++
		}
	}
	s.installGrant(g)
	s.bindGrant(g, binding)
	return g, nil
}

// grantOrder is the order of a key's grants (D68), the one ListGrants
// lists them in and its markers count in: oldest first; grants made at one
// instant in the order they were made (their creation numbers); and those
// with one creation number (made by two nodes of a cluster at once) by
// grant ID. Every node, and a service loaded from the store, holds them in
// this order.
func grantOrder(a, b *grant) int {
	return cmp.Or(cmp.Compare(a.created, b.created), cmp.Compare(a.seq, b.seq), strings.Compare(a.id, b.id))
}

// installGrant adds g to the service's grants, in its place among its
// key's (grantOrder): last, unless another node made a grant later.
func (s *Service) installGrant(g *grant) {
	s.grantSeq = max(s.grantSeq, g.seq)
	gs := s.grants[g.key.slot]
	i := len(gs)
	for i > 0 && grantOrder(gs[i-1], g) > 0 {
		i--
	}
	if i == len(gs) {
		s.appendGrant(g)
		return
	}
	s.grants[g.key.slot] = slices.Insert(gs, i, g)
	s.grantIndex[g.id] = g
	s.indexGrant(g)
}

// appendGrant adds g to the service's grants, last among its key's (the
// caller sorts them if need be).
func (s *Service) appendGrant(g *grant) {
	s.grantSeq = max(s.grantSeq, g.seq)
	if s.grants == nil {
		s.grants = make(map[uint32][]*grant)
		s.grantIndex = make(map[string]*grant)
	}
	s.grants[g.key.slot] = append(s.grants[g.key.slot], g)
	s.grantIndex[g.id] = g
	s.indexGrant(g)
}

// dropGrant removes g from the service's grants.
func (s *Service) dropGrant(g *grant) {
	gs := s.grants[g.key.slot]
	if i := slices.Index(gs, g); i >= 0 {
		gs = slices.Delete(gs, i, i+1)
	}
	if len(gs) == 0 {
		delete(s.grants, g.key.slot)
	} else {
		s.grants[g.key.slot] = gs
	}
	delete(s.grantIndex, g.id)
	if idx := s.granteeIdx[g.key.slot]; idx != nil {
		mk := g.grantee.MatchKey()
		if b := slices.DeleteFunc(idx[mk], func(o *grant) bool { return o == g }); len(b) > 0 {
			idx[mk] = b
		} else {
			delete(idx, mk)
		}
		if len(gs) == 0 {
			delete(s.granteeIdx, g.key.slot)
		}
	}
}

// dropKeyGrants forgets a deleted key's grants (the store deletes them
// with the key).
func (s *Service) dropKeyGrants(k *key) {
	for _, g := range s.grants[k.slot] {
		delete(s.grantIndex, g.id)
		delete(s.grantBound, g.id)
	}
	delete(s.grants, k.slot)
	delete(s.granteeIdx, k.slot)
}

func (s *Service) grantRecord(g *grant) store.Grant {
	return store.Grant{KeyID: s.storeID(g.key), GrantID: g.id, Name: g.name, GranteePrincipal: g.grantee.ARN(),
		RetiringPrincipal: g.retiring.ARN(), IssuingAccount: g.issuing, Operations: g.ops,
		EncryptionContextEquals: g.equals, EncryptionContextSubset: g.subset, Created: fromMicros(g.created), SourceArn: g.sourceArn, Seq: g.seq,
		Binding: s.grantBindingOf(g)}
}

// loadGrants reads every grant from the store. keys finds a key by its
// record ID. The store gives a key's grants in grant ID order; ListGrants
// lists them oldest first.
func (s *Service) loadGrants(ctx context.Context, keys func(id string) *key) error {
	err := s.st.Grants(ctx, func(r store.Grant) error {
		g, err := grantFromRecord(&r, keys(r.KeyID))
		if err != nil {
			return err
		}
		s.appendGrant(g)
		s.bindGrant(g, r.Binding) // D78: bound to its principals as they are now (as recorded, in a cluster)
		return nil
	})
	for _, gs := range s.grants {
		slices.SortFunc(gs, grantOrder)
	}
	return err
}

// grantFromRecord makes the grant of record r on key k (nil: the key does
// not exist).
func grantFromRecord(r *store.Grant, k *key) (*grant, error) {
	if k == nil {
		return nil, &corruptGrant{r.KeyID, r.GrantID, "its key does not exist"}
	}
	grantee, err := recordPrincipal(r.GranteePrincipal)
	if err != nil {
		return nil, &corruptGrant{r.KeyID, r.GrantID, "its grantee is not a principal"}
	}
	var retiring policy.Principal
	if r.RetiringPrincipal != "" {
		if retiring, err = recordPrincipal(r.RetiringPrincipal); err != nil {
			return nil, &corruptGrant{r.KeyID, r.GrantID, "its retiring principal is not a principal"}
		}
	}
	return &grant{id: r.GrantID, name: r.Name, key: k, grantee: grantee, retiring: retiring,
		issuing: r.IssuingAccount, ops: slices.Clone(r.Operations), equals: maps.Clone(r.EncryptionContextEquals),
		subset: maps.Clone(r.EncryptionContextSubset), sourceArn: r.SourceArn, created: micros(r.Created), seq: r.Seq}, nil
}

// recordPrincipal reads a grant record's principal: an IAM principal (an
// ARN, or a bare account ID, as CreateGrant takes them), or a service
// principal's name (store.Grant).
func recordPrincipal(s string) (policy.Principal, error) {
	if p, err := policy.ParsePrincipal(s); err == nil {
		return p, nil
	}
	return servicePrincipal(keystate.CreateGrant, s, "principal")
}

type corruptGrant struct{ key, id, why string }

func (e *corruptGrant) Error() string { return "grant " + e.id + " of key " + e.key + ": " + e.why }
func (e *corruptGrant) Unwrap() error { return store.ErrCorrupt }

// entry describes g.
func (s *Service) entry(g *grant) GrantListEntry {
	e := GrantListEntry{KeyId: s.arnOf(g.key), GrantId: g.id, Name: g.name, CreationDate: fromMicros(g.created),
		IssuingAccount: g.issuing, Operations: slices.Clone(g.ops)}
	e.GranteePrincipal, e.GranteeServicePrincipal = principalMembers(g.grantee)
	e.RetiringPrincipal, e.RetiringServicePrincipal = principalMembers(g.retiring)
	// D78: a user or role deleted since the grant was made shows as the
	// unique ID it had.
	if id, gone := s.grantGone(g, g.grantee); gone {
		e.GranteePrincipal = id
	}
	if id, gone := s.grantGone(g, g.retiring); gone {
		e.RetiringPrincipal = id
	}
	if g.equals != nil || g.subset != nil || g.sourceArn != "" {
		e.Constraints = &GrantConstraints{EncryptionContextEquals: maps.Clone(g.equals), EncryptionContextSubset: maps.Clone(g.subset),
			SourceArn: g.sourceArn}
	}
	return e
}

// principalMembers returns p as a GrantListEntry's <Role>Principal (an
// IAM principal) or <Role>ServicePrincipal (a service principal), the
// other empty.
func principalMembers(p policy.Principal) (iam, service string) {
	if p.Kind() == policy.Service {
		return "", p.ARN()
	}
	return p.ARN(), ""
}

// principalIs reports whether p is the principal a filter names: name
// empty (no filter), or p's ARN or service name, p being a service
// principal exactly when service is set (ListGrants' GranteePrincipal
// filter lists no service grantee, and GranteeServicePrincipal no IAM one).
func principalIs(p policy.Principal, name string, service bool) bool {
	return name == "" || p.ARN() == name && (p.Kind() == policy.Service) == service
}

// pageGrants pages gs, Limit (1–1000, default 50) at a time.
func (s *Service) pageGrants(op keystate.Operation, gs []*grant, limit *int32, marker, scope string) (*ListGrantsOutput, error) {
	n, err := pageLimit(op, limit, 50, 1000)
	if err != nil {
		return nil, err
	}
	var from uint64
	if marker != "" {
		if from, err = decodeMarker(op, marker, scope); err != nil {
			return nil, err
		}
	}
	out := &ListGrantsOutput{Grants: []GrantListEntry{}}
	for i := int(min(from, uint64(len(gs)))); i < len(gs); i++ {
		if len(out.Grants) == n {
			out.Truncated, out.NextMarker = true, encodeMarker(scope, uint64(i))
			break
		}
		out.Grants = append(out.Grants, s.entry(gs[i]))
	}
	return out, nil
}

// ListGrants lists a key's grants, oldest first, Limit (1–1000, default
// 50) at a time, filtered by GrantId and GranteePrincipal when given.
//
// Errors: ValidationException, InvalidMarkerException, InvalidArnException,
// NotFoundException, AccessDeniedException, InvalidGrantIdException (a
// GrantId filter naming no grant of the key).
func (s *Service) ListGrants(ctx context.Context, in *ListGrantsInput) (*ListGrantsOutput, error) {
	in = orEmpty(in)
	const op = keystate.ListGrants
	invalid := validateMarker(op, in.Marker)
	var out *ListGrantsOutput
	err := s.keyRead(ctx, op, in.KeyId, crossAccount, invalid, func() map[string]string {
		return map[string]string{"keyId": in.KeyId}
	}, func(k *key, _ int64) error {
		arn := s.arnOf(k)
		var gs []*grant
		found := in.GrantId == ""
		for _, g := range s.grants[k.slot] {
			if in.GrantId != "" && g.id != in.GrantId || !principalIs(g.grantee, in.GranteePrincipal, false) ||
				!principalIs(g.grantee, in.GranteeServicePrincipal, true) {
				found = found || g.id == in.GrantId
				continue
			}
			found = true
			gs = append(gs, g)
		}
		if !found {
			return kmsError(keystate.ErrInvalidGrantId, op, arn, k.state, "Grant ID "+in.GrantId+" is not valid for "+arn+".")
		}
		var err error
		out, err = s.pageGrants(op, gs, in.Limit, in.Marker, "grants:"+k.id)
		return err
	})
	return out, err
}

// ListRetirableGrants lists the grants, in the caller's Region, whose
// RetiringPrincipal is the one given, Limit (1–1000, default 50) at a
// time. It is authorized by IAM alone (spec §3.2 rule 6), which D24 takes
// to allow it.
//
// Errors: ValidationException, InvalidMarkerException.
func (s *Service) ListRetirableGrants(ctx context.Context, in *ListRetirableGrantsInput) (*ListGrantsOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*ListGrantsOutput, error) { return s.listRetirableGrantsOnce(ctx, in) })
	}
	return s.listRetirableGrantsOnce(ctx, in)
}

// listRetirableGrantsOnce is one run of ListRetirableGrants (cluster mode may run it again).
func (s *Service) listRetirableGrantsOnce(ctx context.Context, in *ListRetirableGrantsInput) (res *ListGrantsOutput, err error) {
	in = orEmpty(in)
	const op = keystate.ListRetirableGrants
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	retiring, field, service := in.RetiringPrincipal, "retiringPrincipal", false
	if in.RetiringServicePrincipal != "" {
		retiring, field, service = in.RetiringServicePrincipal, "retiringServicePrincipal", true
	}
	switch {
	case err != nil:
	case in.RetiringPrincipal != "" && in.RetiringServicePrincipal != "":
		err = notBoth(op, "Retiring")
	case retiring == "":
		err = required(op, "retiringPrincipal")
	default:
		err = checkLength(op, retiring, field, 1, 256)
	}
	if err == nil {
		err = s.authorizeIAM(op, "", "*", s.iamContext(false))
	}
	var out *ListGrantsOutput
	if err == nil {
		out, err = s.pageGrants(op, s.retirableGrants(retiring, service), in.Limit, in.Marker, "retirable:"+retiring)
	}
	if s.observing() {
		s.record(now, op, caller, "", map[string]string{field: retiring}, err)
	}
	return out, err
}

// retirableGrants are the grants of the caller's Region whose retiring
// principal (service principal, when service) is retiring, their keys in
// creation order (as ListKeys lists them), each key's in its order. It
// reads only the keys that have grants, not every key of the Region.
func (s *Service) retirableGrants(retiring string, service bool) []*grant {
	var gs []*grant
	for _, kgs := range s.grants {
		if len(kgs) == 0 || kgs[0].key.region != s.rg.index {
			continue
		}
		for _, g := range kgs {
			if principalIs(g.retiring, retiring, service) && !s.retiringGone(g) {
				gs = append(gs, g)
			}
		}
	}
	slices.SortStableFunc(gs, func(a, b *grant) int {
		if a.key == b.key {
			return 0 // stable: the key's own order
		}
		return compareOrder(a.key.seq, a.key.id, b.key.seq, b.key.id)
	})
	return gs
}

// RetireGrant deletes a grant, named by its token or by KeyId (key ARN)
// and GrantId. The key's own account may retire any of its grants; so may
// the grant's retiring principal, and its grantee when the grant allows
// RetireGrant (D28).
//
// Errors: ValidationException, InvalidGrantTokenException,
// InvalidGrantIdException, InvalidArnException, NotFoundException,
// AccessDeniedException, KMSInternalException.
func (s *Service) RetireGrant(ctx context.Context, in *RetireGrantInput) (*RetireGrantOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*RetireGrantOutput, error) { return s.retireGrantOnce(ctx, in) })
	}
	return s.retireGrantOnce(ctx, in)
}

// retireGrantOnce is one run of RetireGrant (cluster mode may run it again).
func (s *Service) retireGrantOnce(ctx context.Context, in *RetireGrantInput) (res *RetireGrantOutput, err error) {
	in = orEmpty(in)
	const op = keystate.RetireGrant
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	if err == nil && in.GrantToken == "" && (in.KeyId == "" || in.GrantId == "") {
		// No recording; kmsmodel's wording.
		err = kmsError(keystate.ErrValidation, op, in.KeyId, keystate.None, "Specify a GrantToken, or a KeyId and a GrantId.")
	}
	var (
		g   *grant
		arn string
	)
	switch {
	case err != nil:
	case in.GrantToken != "":
		g, err = s.tokenGrant(op, in.GrantToken)
		if err == nil && in.GrantId != "" && in.GrantId != g.id {
			err = kmsError(keystate.ErrInvalidGrantId, op, "", keystate.None, "Grant ID "+in.GrantId+" is not the grant the token names.")
		}
	default:
		var k *key
		// The grant decides, not kms:RetireGrant in the key policy (spec
		// §4.7, D28): find the key without authorizing the call.
		if k, arn, err = s.resolve(ctx, op, caller, in.KeyId, "keyId", crossAccount|lookupOnly); err == nil {
			if g = s.grantIndex[in.GrantId]; g == nil || g.key != k {
				g, err = nil, kmsError(keystate.ErrInvalidGrantId, op, arn, k.state, "Grant ID "+in.GrantId+" is not valid for "+arn+".")
			}
		}
	}
	if err == nil {
		arn = s.arnOf(g.key)
		final, refused, iam := s.retireByIAM(g, arn) // D59, D62: what IAM says
		switch {
		case refused:
			err = s.deniedBy(op, final, "kms:RetireGrant", arn, g.key)
		case s.principal.Account() == g.key.account && iam,
			g.retiring.Kind() != policy.Nobody && g.retiring.Matches(s.principal) && (g.retiring.Kind() != policy.Account || iam) && !s.retiringGone(g),
			slices.Contains(g.ops, "RetireGrant") && g.grantee.Matches(s.principal) && !s.granteeGone(g):
		default:
			err = &keystate.Error{Code: keystate.ErrAccessDenied, Op: op, KeyID: arn, State: g.key.state,
				Message: "User: " + s.principal.ARN() + " is not authorized to perform: kms:RetireGrant on resource: " + arn +
					" because it is neither the key's account, nor the grant's retiring principal, nor a grantee allowed to retire it"}
		}
	}
	if err == nil {
		err = dryRun(ctx, op, g.key, arn)
	}
	if err == nil {
		err = s.deleteGrant(op, g, arn)
	}
	if s.observing() {
		s.record(now, op, caller, arn, map[string]string{"keyId": in.KeyId, "grantId": in.GrantId}, err)
	}
	if err != nil {
		return nil, err
	}
	return &RetireGrantOutput{}, nil
}

// RevokeGrant deletes a grant of a key; the key policy must allow
// kms:RevokeGrant.
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException, InvalidGrantIdException, KMSInternalException.
func (s *Service) RevokeGrant(ctx context.Context, in *RevokeGrantInput) (*RevokeGrantOutput, error) {
	in = orEmpty(in)
	const op = keystate.RevokeGrant
	var invalid error
	if in.GrantId == "" {
		invalid = required(op, "grantId")
	} else {
		invalid = checkLength(op, in.GrantId, "grantId", 1, 128)
	}
	err := s.keyRead(ctx, op, in.KeyId, crossAccount, invalid, func() map[string]string {
		return map[string]string{"keyId": in.KeyId, "grantId": in.GrantId}
	}, func(k *key, _ int64) error {
		arn := s.arnOf(k)
		g := s.grantIndex[in.GrantId]
		if g == nil || g.key != k {
			return kmsError(keystate.ErrInvalidGrantId, op, arn, k.state, "Grant ID "+in.GrantId+" is not valid for "+arn+".")
		}
		if err := dryRun(ctx, op, k, arn); err != nil {
			return err
		}
		return s.deleteGrant(op, g, arn)
	})
	if err != nil {
		return nil, err
	}
	return &RevokeGrantOutput{}, nil
}

// deleteGrant deletes g, from the store first.
func (s *Service) deleteGrant(op keystate.Operation, g *grant, arn string) error {
	if s.st != nil {
		if err := s.persist(&store.Batch{DeleteGrants: []store.GrantID{{KeyID: s.storeID(g.key), GrantID: g.id}}}); err != nil {
			return internalError(op, arn, g.key.state, err)
		}
	}
	s.dropGrant(g)
	if s.ec != nil {
		s.ecGrantDropped(op, g) // its binding stays: callers may still see it (D42)
	} else {
		delete(s.grantBound, g.id)
	}
	return nil
}
