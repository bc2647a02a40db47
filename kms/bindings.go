package kms

import (
	"slices"

	"github.com/kmsmodel/kmsmodel/kms/policy"
	"github.com/kmsmodel/kmsmodel/store"
)

// Decision D78: IAM binds the users and roles that a key policy or a grant
// names to the unique IDs they have when it is written (spec §8: "A
// deleted role's ARN in an existing policy or grant shows up as its unique
// ID"). Once such a user or role is deleted (IdentityPolicies.
// DeletePrincipal), the policy statement or grant no longer covers it, nor
// a user or role created again under its name, and GetKeyPolicy and
// ListGrants show it by the unique ID it had (D77). The service records
// when each key policy and grant was written, in IdentityPolicies' count
// of deletions (its epoch): only with WithIdentityPolicies, and only for
// users and roles, not sessions, accounts or services. A single service
// keeps the bindings in memory (a reopened one binds the policies and
// grants it loads to the principals as they are then: the IAM it is given
// starts anew too). A cluster node writes them into the records
// (store.Key.PolicyBinding, store.Grant.Binding), and every node binds
// what it loads or applies as the record says: the nodes apply IAM's
// changes in one order (kmssim's model log), so their epochs agree, and a
// namesake is judged alike on every node once it has applied the
// deletion. A record without a binding (written before bindings were
// recorded) binds nothing there.

// binding is when a key's own policy, whose text it holds, was written.
// The service keeps them by key slot (Service.bound).
type binding struct {
	text  string
	epoch uint64
}

// policyBinding is a key policy's binding as Request.DeletedSince needs
// it (the service's scratch copy for the call in progress).
type policyBinding struct {
	ip    *IdentityPolicies
	epoch uint64
}

// DeletedSince reports whether p was deleted after the policy was written.
func (b *policyBinding) DeletedSince(p policy.Principal) bool {
	_, gone := b.ip.deletedSince(p, b.epoch)
	return gone
}

// boundKind reports whether principals of p's kind are bound: users and
// roles (sessions, accounts and services are not).
func boundKind(p policy.Principal) bool {
	k := p.Kind()
	return k == policy.User || k == policy.Role
}

// namesIAM reports whether ps (a policy's principals, a grant's) hold a
// user or role: only then is what names them bound.
func namesIAM(ps []policy.Principal) bool { return slices.ContainsFunc(ps, boundKind) }

// bindPolicy records that k's own policy doc was written now, unless its
// text is the one already bound (the same policy loaded again); in a
// cluster, that it was written at the epoch recorded (its record's
// PolicyBinding).
func (s *Service) bindPolicy(k *key, doc *policy.Document, recorded uint64) {
	ip := s.cfg.identities
	if ip == nil {
		return
	}
	if s.cfg.recordBindings {
		if recorded == 0 {
			delete(s.bound, k.slot)
			return
		}
		if s.bound == nil {
			s.bound = make(map[uint32]binding)
		}
		s.bound[k.slot] = binding{text: doc.Text(), epoch: recorded - 1}
		return
	}
	if b, ok := s.bound[k.slot]; ok && b.text == doc.Text() {
		return
	}
	if !namesIAM(doc.Principals()) {
		delete(s.bound, k.slot)
		return
	}
	if s.bound == nil {
		s.bound = make(map[uint32]binding)
	}
	s.bound[k.slot] = binding{text: doc.Text(), epoch: s.bindEpoch(ip)}
}

// boundOf returns the binding of doc, k's policy or (under the eventual
// consistency model) a policy k had before that a caller still sees.
func (s *Service) boundOf(k *key, doc *policy.Document) (binding, bool) {
	if b, ok := s.bound[k.slot]; ok && b.text == doc.Text() {
		return b, true
	}
	if s.ec != nil {
		for _, c := range s.ec.keys[k.slot] {
			if c.kind == chPolicy && c.doc == doc && c.bound != nil {
				return *c.bound, true
			}
		}
	}
	return binding{}, false
}

// policyBound returns the binding of doc, k's policy as the call in
// progress sees it, for its evaluation, or nil when it has none.
func (s *Service) policyBound(k *key, doc *policy.Document) policy.DeletionCheck {
	if s.cfg.identities == nil || len(s.bound) == 0 && s.ec == nil {
		return nil
	}
	b, ok := s.boundOf(k, doc)
	if !ok {
		return nil
	}
	s.bind = policyBinding{ip: s.cfg.identities, epoch: b.epoch}
	return &s.bind
}

// policyShown is doc, k's policy, as GetKeyPolicy shows it: each user
// or role deleted since it was written by the unique ID it had.
func (s *Service) policyShown(k *key, doc *policy.Document) string {
	b, ok := s.bound[k.slot]
	if !ok || b.text != doc.Text() {
		return doc.Text()
	}
	ip := s.cfg.identities
	return doc.TextReplacing(func(p policy.Principal) (string, bool) { return ip.deletedSince(p, b.epoch) })
}

// bindGrant records that g was made now, when its grantee or retiring
// principal is a user or role; in a cluster, that it was made at the
// epoch recorded (its record's Binding).
func (s *Service) bindGrant(g *grant, recorded uint64) {
	ip := s.cfg.identities
	if ip == nil {
		return
	}
	if s.cfg.recordBindings {
		if recorded == 0 {
			delete(s.grantBound, g.id)
			return
		}
		if s.grantBound == nil {
			s.grantBound = make(map[string]uint64)
		}
		s.grantBound[g.id] = recorded - 1
		return
	}
	if !namesIAM([]policy.Principal{g.grantee, g.retiring}) {
		return
	}
	if _, ok := s.grantBound[g.id]; ok {
		return // a grant is never changed: it keeps its binding
	}
	if s.grantBound == nil {
		s.grantBound = make(map[string]uint64)
	}
	s.grantBound[g.id] = s.bindEpoch(ip)
}

// grantGone returns, for g's principal p (its grantee or its retiring
// principal), whether it was deleted since g was made, and then the
// unique ID it had.
func (s *Service) grantGone(g *grant, p policy.Principal) (string, bool) {
	if len(s.grantBound) == 0 {
		return "", false
	}
	epoch, ok := s.grantBound[g.id]
	if !ok {
		return "", false
	}
	return s.cfg.identities.deletedSince(p, epoch)
}

// retiringGone reports whether g's retiring principal was deleted since g
// was made: it can no longer retire g (D78).
func (s *Service) retiringGone(g *grant) bool {
	_, gone := s.grantGone(g, g.retiring)
	return gone
}

// newBinding is the binding a cluster node records (store.Key.
// PolicyBinding, store.Grant.Binding) for a key policy or grant naming
// ps that the call in progress writes: its epoch plus one, or 0 when it
// binds nothing (outside a cluster, without IAM, no user or role named).
func (s *Service) newBinding(ps []policy.Principal) uint64 {
	ip := s.cfg.identities
	if !s.cfg.recordBindings || ip == nil || !namesIAM(ps) {
		return 0
	}
	return s.bindEpoch(ip) + 1
}

// recordPolicy puts doc, a policy the call in progress writes, into its
// key's record r with its binding (newBinding), which it returns for
// setPolicy to install.
func (s *Service) recordPolicy(r *store.Key, doc *policy.Document) uint64 {
	r.Policy, r.PolicyBinding = doc.Text(), s.newBinding(doc.Principals())
	return r.PolicyBinding
}

// policyBindingOf is the binding a cluster node's record of k holds for
// k's policy of text text: the one it was bound with.
func (s *Service) policyBindingOf(k *key, text string) uint64 {
	if !s.cfg.recordBindings || text == "" {
		return 0
	}
	if b, ok := s.bound[k.slot]; ok && b.text == text {
		return b.epoch + 1
	}
	return 0
}

// grantBindingOf is the binding a cluster node's record of g holds.
func (s *Service) grantBindingOf(g *grant) uint64 {
	if !s.cfg.recordBindings {
		return 0
	}
	if epoch, ok := s.grantBound[g.id]; ok {
		return epoch + 1
	}
	return 0
}

// bindEpoch is the epoch at which to bind what the call in progress
// writes: when it checked the principals (checkedAt), else now.
func (s *Service) bindEpoch(ip *IdentityPolicies) uint64 {
	if s.call.epochSet {
		return s.call.bindEpoch
	}
	return ip.currentEpoch()
}
