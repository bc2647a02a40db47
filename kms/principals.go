package kms

import (
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// The principal existence check (decision D66; spec P2): AWS refuses a
// key policy, or a grant, that names an IAM user or role that does not
// exist. kmsmodel knows which exist once a program tells it: from the
// first CreatePrincipal on, a user or role exists when it was created, or
// when an identity-based policy or a permissions boundary is attached to
// it (IAM attaches them only to existing principals).

// CreatePrincipal records that the IAM user or role principalARN exists
// (D66). From the first call on, key policies (CreateKey, PutKeyPolicy,
// ReplicateKey) and grants (CreateGrant) that name a user, a role or a
// role's session must name existing ones, as AWS requires; before it,
// every principal is taken to exist. Creating a principal again changes
// nothing. An ARN that is no user or role is ValidationException.
func (ip *IdentityPolicies) CreatePrincipal(principalARN string) error {
	o, err := boundaryOwner(principalARN)
	if err != nil {
		return err
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	ip.created[o] = true
	ip.checking = true
	return nil
}

// DeletePrincipal records that the IAM user or role principalARN no
// longer exists (D66): policies and grants created afterwards cannot name
// it, unless identity-based policies or a boundary are still attached to
// it. A principal not created is NotFoundException.
func (ip *IdentityPolicies) DeletePrincipal(principalARN string) error {
	o, err := boundaryOwner(principalARN)
	if err != nil {
		return err
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	if !ip.created[o] {
		return identityError(keystate.ErrNotFound, "The principal "+principalARN+" was not created.")
	}
	delete(ip.created, o)
	return nil
}

// unknown returns the first principal of ps that the check refuses: an
// IAM user, role or role session whose user or role does not exist. The
// check is off until a principal is created.
func (ip *IdentityPolicies) unknown(ps []policy.Principal) (policy.Principal, bool) {
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	if !ip.checking {
		return policy.Principal{}, false
	}
	for _, p := range ps {
		switch p.Kind() {
		case policy.User, policy.Role, policy.AssumedRole:
		default:
			continue // accounts, "*", services and federated users are not checked
		}
		o, ok := owner(p)
		if ok && !ip.created[o] && len(ip.m[o]) == 0 && ip.boundaries[o] == nil {
			return p, true
		}
	}
	return policy.Principal{}, false
}

// checkPolicyPrincipals refuses a key policy doc that names a user or
// role that does not exist (D66), as AWS does, with its recorded message
// (spec §2.2). arn and st name the key, if any.
func (s *Service) checkPolicyPrincipals(op keystate.Operation, doc *policy.Document, arn string, st keystate.State) error {
	if s.cfg.identities == nil || doc == nil {
		return nil
	}
	if _, bad := s.cfg.identities.unknown(doc.Principals()); bad {
		return kmsError(keystate.ErrMalformedPolicyDocument, op, arn, st, "Policy contains a statement with one or more invalid principals.")
	}
	return nil
}

// checkGrantPrincipals refuses a grant whose grantee or retiring principal
// is a user or role that does not exist (D66). The exception and wording
// are kmsmodel's: no AWS answer is recorded.
func (s *Service) checkGrantPrincipals(op keystate.Operation, arn string, st keystate.State, ps ...policy.Principal) error {
	if s.cfg.identities == nil {
		return nil
	}
	if p, bad := s.cfg.identities.unknown(ps); bad {
		return kmsError(keystate.ErrValidation, op, arn, st, "The principal "+p.ARN()+" does not exist.")
	}
	return nil
}
