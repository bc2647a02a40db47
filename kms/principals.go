package kms

import (
	"slices"

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
	ip.epoch++
	ip.deleted[o] = append(ip.deleted[o], ip.epoch)
	return nil
}

// UserID returns the value of aws:userid for principalARN as caller
// (policy.UserID; D77): an account root's account ID, an IAM user's
// unique ID, a role's unique ID (for a session, followed by a colon and
// the session name), or a federated user's account ID, a colon and its
// name. Each DeletePrincipal of a user or role gives it a new unique ID
// from then on, as IAM gives a new one to a user or role created again
// under the same name. An ARN that names none of those is
// ValidationException.
func (ip *IdentityPolicies) UserID(principalARN string) (string, error) {
	p, err := policy.ParsePrincipal(principalARN)
	if err == nil {
		if id, ok := policy.UserID(p, ip.generation(p)); ok {
			return id, nil
		}
	}
	// kmsmodel's wording.
	return "", identityError(keystate.ErrValidation,
		"'"+principalARN+"' is not the ARN of an account root, IAM user, role, role session or federated user: those have an aws:userid.")
}

// generation returns how many times the user or role of p (a session's
// role) was deleted (DeletePrincipal), which picks its unique ID (D77).
func (ip *IdentityPolicies) generation(p policy.Principal) int {
	if k := p.Kind(); k != policy.User && k != policy.Role && k != policy.AssumedRole {
		return 0
	}
	o, ok := owner(p)
	if !ok {
		return 0
	}
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	return len(ip.deleted[o])
}

// currentEpoch is the count of DeletePrincipal calls so far: a policy or
// grant written now is bound to the users and roles as they are (D78).
func (ip *IdentityPolicies) currentEpoch() uint64 {
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	return ip.epoch
}

// deletedSince reports whether the user or role p was deleted after
// epoch, and if so the unique ID it had then (D78).
func (ip *IdentityPolicies) deletedSince(p policy.Principal, epoch uint64) (id string, deleted bool) {
	if !boundKind(p) {
		return "", false
	}
	o, ok := owner(p)
	if !ok {
		return "", false
	}
	ip.mu.RLock()
	ds := ip.deleted[o]
	ip.mu.RUnlock()
	if len(ds) == 0 || ds[len(ds)-1] <= epoch {
		return "", false
	}
	gen, _ := slices.BinarySearch(ds, epoch+1) // deletions at or before epoch
	id, _ = policy.UserID(p, gen)
	return id, true
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
	s.checkedAt()
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
	s.checkedAt()
	if p, bad := s.cfg.identities.unknown(ps); bad {
		return kmsError(keystate.ErrValidation, op, arn, st, "The principal "+p.ARN()+" does not exist.")
	}
	return nil
}

// checkedAt records IAM's deletion epoch as the call checks the principals
// it names, before it looks: the policy or grant it writes is bound at
// that epoch (D78), so that a principal deleted while the call runs,
// after the check found it, is one deleted after the write.
func (s *Service) checkedAt() {
	s.call.bindEpoch, s.call.epochSet = s.cfg.identities.currentEpoch(), true
}
