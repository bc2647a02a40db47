package kms

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
	"github.com/kmsmodel/kmsmodel/store"
)

// family links the keys of one multi-Region key: a primary and its
// replicas, in different Regions, sharing one "mrk-" key ID. A primary gets
// a family with its first replica; a key alone again loses it.
//
// The primary owns the shared rotation properties (aws-kms-behaviour.md
// c.8): automatic rotation happens, and on-demand rotations complete, on
// the primary, and every change to them is copied to each replica in the
// same store batch, so that all members have the same rotation history.
type family struct {
	// primary is the primary key; during UpdatePrimaryRegion, the key
	// becoming primary (both keys then read as replicas, as AWS warns
	// DescribeKey may show them).
	primary *key
	// members are the family's keys, the primary among them, in creation
	// order.
	members []*key
}

// primaryOf returns the primary of k's family: k itself when k has no
// replicas.
func (s *Service) primaryOf(k *key) *key {
	if k.fam == nil {
		return k
	}
	return k.fam.primary
}

// owns reports whether k performs its own rotations: a key that is not a
// replica, or the key becoming primary during UpdatePrimaryRegion.
func owns(k *key) bool { return k.fam == nil || k.fam.primary == k }

// ReplicateKey makes a replica of a multi-Region primary key in another
// Region of the same account (aws-kms-behaviour.md b). The replica has the
// primary's key ID, key spec, usage, origin and rotation history and
// settings, its own description and tags, and is Creating until
// WithReplicaCreationDuration has passed (default 0: the next call sees it
// ready). It then becomes Enabled, or PendingImport when the primary's
// origin is EXTERNAL: a replica of an imported key gets no key material.
//
// Errors: ValidationException (ReplicaRegion missing, not a Region name or
// not a Region the service serves, description too long), TagException, InvalidArnException,
// NotFoundException, AccessDeniedException, DisabledException and
// KMSInvalidStateException (the primary's state, table a.2),
// UnsupportedOperationException (not a multi-Region primary key; recorded
// wording), AlreadyExistsException (the Region already holds a key with
// this key ID), KMSInternalException.
func (s *Service) ReplicateKey(ctx context.Context, in *ReplicateKeyInput) (*ReplicateKeyOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*ReplicateKeyOutput, error) { return s.replicateKeyOnce(ctx, in) })
	}
	return s.replicateKeyOnce(ctx, in)
}

// replicateKeyOnce is one run of ReplicateKey (cluster mode may run it again).
func (s *Service) replicateKeyOnce(ctx context.Context, in *ReplicateKeyInput) (res *ReplicateKeyOutput, err error) {
	in = orEmpty(in)
	const op = keystate.ReplicateKey
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	var (
		p, r *key
		arn  string
		tags []Tag
		doc  *policy.Document
	)
	if err == nil {
		tags, err = validateReplicate(op, in)
	}
	if err == nil && in.Policy != "" {
		doc, err = parsePolicy(op, "", keystate.None, in.Policy)
	}
	if err == nil {
		err = s.checkPolicyPrincipals(op, doc, "", keystate.None) // D66
	}
	if err == nil {
		s.condition("kms:ReplicaRegion", in.ReplicaRegion)
	}
	if err == nil {
		err = s.allowReplicaRegion(op, in.ReplicaRegion)
	}
	if err == nil {
		p, arn, err = s.resolve(ctx, op, caller, in.KeyId, "keyId", idOnly)
	}
	if err == nil {
		err = keystate.Check(op, p.state, p.kind, arn)
	}
	if err == nil && s.iamDecides() {
		// Spec §3.2 rule 7 (D59): kms:CreateKey, and with Tags
		// kms:TagResource, by identity-based policies in the replica's
		// Region.
		kind := p.kind
		kind.MultiRegion = keystate.Replica
		err = s.authorizeCreateKey(&CreateKeyInput{Tags: in.Tags, BypassPolicyLockoutSafetyCheck: in.BypassPolicyLockoutSafetyCheck}, kind)
	}
	if err == nil && doc != nil && !in.BypassPolicyLockoutSafetyCheck {
		// The replica's ARN: the primary's key ID in the replica's Region.
		kind := p.kind
		kind.MultiRegion = keystate.Replica
		err = s.lockoutCheck(op, doc, s.keyARNIn(in.ReplicaRegion, p.account, p.id), p.account, arn, kind, p.state)
	}
	if err == nil {
		r, err = s.replicate(p, arn, in, tags, now, doc)
	}
	if s.observing() {
		s.record(now, op, caller, arn, map[string]string{"keyId": in.KeyId, "replicaRegion": in.ReplicaRegion,
			"description": in.Description}, err)
	}
	if err != nil {
		return nil, err
	}
	return &ReplicateKeyOutput{ReplicaKeyMetadata: s.metadata(r, s.arnOf(r)), ReplicaPolicy: s.keyPolicy(r).Text(),
		ReplicaTags: slices.Clone(r.tags())}, nil
}

// validateReplicate checks ReplicateKey's own input (D3 step 1).
func validateReplicate(op keystate.Operation, in *ReplicateKeyInput) ([]Tag, error) {
	if err := checkRegionName(op, in.ReplicaRegion, "replicaRegion"); err != nil {
		return nil, err
	}
	if err := checkLength(op, in.Description, "description", 0, 8192); err != nil {
		return nil, err
	}
	return mergeTags(op, nil, in.Tags)
}

// checkRegionName validates a Region name parameter (AWS's constraints for
// ReplicaRegion and PrimaryRegion: 1–32 characters, ^([a-z]+-){2,3}\d+$).
func checkRegionName(op keystate.Operation, name, field string) error {
	if err := checkLength(op, name, field, 1, 32); err != nil {
		return err
	}
	if !ValidRegion(name) {
		return validationError(op, name, field, `Member must satisfy regular expression pattern: ^([a-z]+-){2,3}\d+$`)
	}
	return nil
}

// replicate creates p's replica in in.ReplicaRegion (the checks of the
// table and the key kind have passed).
func (s *Service) replicate(p *key, arn string, in *ReplicateKeyInput, tags []Tag, now int64, doc *policy.Document) (*key, error) {
	const op = keystate.ReplicateKey
	if to := s.findRegion(in.ReplicaRegion); to != nil && to.keys.get(p.id) != nil {
		// AWS: each replica "must be in a different Region"; the
		// exception is documented, the wording is kmsmodel's.
		rarn := to.keyARN(p.account, p.id)
		return nil, kmsError(keystate.ErrAlreadyExists, op, arn, p.state,
			"A key with the ID "+p.id+" already exists in "+to.name+": "+rarn)
	}
	st, err := keystate.Transition(keystate.None, keystate.CreateReplica)
	if err != nil {
		return nil, err
	}
	// A Region the service has not served yet is added now; a failure
	// below gives it back. (Its name has the AWS form: checkRegionName.)
	to := s.findRegion(in.ReplicaRegion)
	if to == nil {
		to = s.addCallRegion(in.ReplicaRegion)
	}
	if to == nil {
		return nil, kmsError(keystate.ErrLimitExceeded, op, arn, p.state,
			fmt.Sprintf("kmsmodel serves at most %d Regions.", maxRegions))
	}
	kind := p.kind
	kind.MultiRegion = keystate.Replica
	r := key{id: p.id, account: p.account, text: newKeyText(in.Description, tags),
		seq: s.seq + 1, version: 1, created: now, state: st, kind: kind,
		region: to.index, replicated: true, deletion: now + s.transientDuration(s.cfg.replicaDuration, false)}
	if p.kind.Origin == keystate.AWSKMS && !p.kind.Spec.IsSymmetric() {
		// An asymmetric or HMAC key's generated material, if it has been
		// generated yet: replicas share it (what one Region signs, another
		// verifies).
		r.imp = p.imp
	}
	if p.kind.Origin == keystate.External && s.materials() && p.kind.Spec.IsSymmetric() {
		// RulesCurrent: the replica knows its primary's materials by ID
		// and holds none of them (D37).
		r.imp = p.imp.skeleton()
	}
	copyRotationSettings(&r, p)
	r.rotations = reencode(p.rotations, p.created, r.created)
	fam := p.fam
	if fam == nil {
		fam = &family{primary: p, members: []*key{p}} // p's, once the write succeeds
	}
	r.fam = fam
	var binding uint64 // D78, in a cluster: as the record holds it
	if s.st != nil {
		rec := s.toRecord(&r)
		if doc != nil && !doc.IsDefaultFor(to.partition, r.account) {
			binding = s.recordPolicy(&rec, doc)
		}
		// The primary's record is written too (its version alone
		// changes): the replica copies the family's rotations and
		// settings, which a write of the family then changes through the
		// primary. In a cluster the two writes then conflict (the primary
		// changed since it was read), whichever commits first, instead of
		// a replica missing a rotation, or a replica made beside a primary
		// another node scheduled for deletion.
		prec := s.toRecord(p)
		prec.Version++
		b := store.Batch{PutKeys: []store.Key{rec, prec}, AddRotations: s.rotationRecords(&r, r.rotations)}
		if err := s.persist(&b); err != nil {
			return nil, internalError(op, arn, p.state, err)
		}
		p.version++
	}
	s.seq++
	rk := s.addKey(r)
	s.setPolicy(rk, doc, binding)
	p.fam = fam
	// Last, unless another node made a member with this creation number.
	i, _ := slices.BinarySearchFunc(fam.members, rk, s.memberOrder)
	fam.members = slices.Insert(fam.members, i, rk)
	s.schedule(rk.deletion, rk, evReplicaReady)
	return rk, nil
}

// rotationRecords returns the store records of rotations rs of k.
func (s *Service) rotationRecords(k *key, rs []rotation) []store.KeyRotation {
	if len(rs) == 0 {
		return nil
	}
	out := make([]store.KeyRotation, len(rs))
	id := s.storeID(k)
	for i, r := range rs {
		out[i] = store.KeyRotation{KeyID: id, Rotation: store.Rotation{At: fromMicros(r.at(k.created)), OnDemand: r.onDemand()}}
	}
	return out
}

// reencode returns a copy of rotations rs, recorded relative to a key
// created at from, as records relative to a key created at to.
func reencode(rs []rotation, from, to int64) []rotation {
	if len(rs) == 0 {
		return nil
	}
	out := make([]rotation, len(rs))
	for i, r := range rs {
		out[i] = newRotation(to, r.at(from), r.onDemand())
	}
	return out
}

// copyRotationSettings copies the rotation properties a multi-Region
// family shares (aws-kms-behaviour.md c.8) from src to dst: automatic
// rotation and its schedule, the on-demand quota charged (D1) and an
// on-demand rotation in progress.
func copyRotationSettings(dst, src *key) {
	dst.autoEnabled, dst.period, dst.anchor, dst.nextRotation = src.autoEnabled, src.period, src.anchor, src.nextRotation
	dst.onDemand, dst.onDemandStart, dst.onDemandDone = src.onDemand, src.onDemandStart, src.onDemandDone
}

// syncDrafts copies the rotation properties and the rotations added by a
// change of k (from k to nk, not yet installed) to drafts of the other
// members of k's family, which commitKey writes in the same batch.
func (s *Service) syncDrafts(k, nk *key) {
	if k.fam == nil || !rotationChanged(k, nk) {
		return
	}
	added := nk.rotations[len(k.rotations):]
	for _, m := range k.fam.members {
		if m == k {
			continue
		}
		d := s.draftOther(m)
		copyRotationSettings(d, nk)
		if len(d.rotations) != len(m.rotations) {
			continue // drafted already with these rotations
		}
		for _, r := range added {
			d.rotations = appendRotation(d.rotations, newRotation(d.created, r.at(nk.created), r.onDemand()))
		}
		if len(added) > 0 && nk.imp != nil && nk.imp.more != nil {
			rotateMaterial(d, nk.imp.id)
		}
	}
}

// syncInPlace copies k's rotation properties, and its last n rotations, to
// the other members of its family: for scheduled events, which change keys
// in place (remembered by the pending run, if any).
func (s *Service) syncInPlace(k *key, n int) {
	if k.fam == nil {
		return
	}
	added := k.rotations[len(k.rotations)-n:]
	for _, m := range k.fam.members {
		if m == k {
			continue
		}
		if s.pend != nil {
			s.pend.also(m)
		}
		copyRotationSettings(m, k)
		for _, r := range added {
			m.rotations = appendRotation(m.rotations, newRotation(m.created, r.at(k.created), r.onDemand()))
		}
		if k.imp != nil && k.imp.more != nil {
			rotateMaterial(m, k.imp.id)
		}
	}
}

// rotationChanged reports whether a change from k to nk changes the
// rotation properties a multi-Region family shares.
func rotationChanged(k, nk *key) bool {
	return len(k.rotations) != len(nk.rotations) || k.autoEnabled != nk.autoEnabled || k.period != nk.period ||
		k.anchor != nk.anchor || k.nextRotation != nk.nextRotation || k.onDemand != nk.onDemand ||
		k.onDemandStart != nk.onDemandStart || k.onDemandDone != nk.onDemandDone
}

// draftOther returns a copy of k to change alongside the draft of the call
// in progress (the same copy if k has one already); commitKey writes and
// installs it with that draft.
func (s *Service) draftOther(k *key) *key {
	for _, o := range s.others {
		if o.k == k {
			return o.nk
		}
	}
	d := new(key)
	*d = *k
	s.others = append(s.others, otherDraft{k: k, nk: d})
	return d
}

// otherDraft is a change to a key other than the one a call names.
type otherDraft struct{ k, nk *key }

// UpdatePrimaryRegion makes the replica of a multi-Region primary key in
// PrimaryRegion the primary, and the primary a replica
// (aws-kms-behaviour.md b). Both keys must be Enabled. Both are Updating
// until WithPrimaryUpdateDuration has passed (default 0: the next call
// sees the change done), and read as replicas meanwhile, as AWS warns
// DescribeKey may show them; then both are Enabled, the new primary
// PRIMARY. From the call on, the new primary owns the family's rotation.
//
// Errors: ValidationException (PrimaryRegion missing or not a Region
// name), InvalidArnException, NotFoundException (no replica in
// PrimaryRegion), AccessDeniedException, DisabledException and
// KMSInvalidStateException (the state of either key, table a.2),
// UnsupportedOperationException (not a multi-Region primary key, or
// PrimaryRegion is the key's own Region), KMSInternalException.
func (s *Service) UpdatePrimaryRegion(ctx context.Context, in *UpdatePrimaryRegionInput) (*UpdatePrimaryRegionOutput, error) {
	in = orEmpty(in)
	const op = keystate.UpdatePrimaryRegion
	invalid := checkRegionName(op, in.PrimaryRegion, "primaryRegion")
	params := func() map[string]string {
		return map[string]string{"keyId": in.KeyId, "primaryRegion": in.PrimaryRegion}
	}
	ctx = withConditions(ctx, "kms:PrimaryRegion", in.PrimaryRegion)
	err := s.keyWrite(ctx, op, in.KeyId, idOnly, invalid, params, func(k *key, now int64) error {
		arn := s.arnOf(k)
		self := s.orig(k) // k is the draft of self
		if s.regions[k.region].name == in.PrimaryRegion {
			// No recording. UnsupportedOperationException is the
			// exception of UpdatePrimaryRegion's documented list
			// (aws-kms-behaviour.md e.2) that fits; the wording is
			// kmsmodel's.
			return kmsError(keystate.ErrUnsupportedOperation, op, arn, k.state, arn+" is already the primary key in "+in.PrimaryRegion+".")
		}
		var n *key
		if k.fam != nil {
			for _, m := range k.fam.members {
				if s.regions[m.region].name == in.PrimaryRegion {
					n = m
				}
			}
		}
		if n == nil || n == self {
			return s.notFoundKey(op, s.keyARNIn(in.PrimaryRegion, k.account, k.id))
		}
		narn := s.arnOf(n)
		// The replica must be in a state the table allows, as the primary.
		if err := keystate.Check(op, n.state, k.kind, narn); err != nil {
			return err
		}
		nd := s.draftOther(n)
		until := now + s.transientDuration(s.cfg.updateDuration, true)
		for _, d := range []*key{k, nd} {
			if err := transition(d, keystate.UpdatePrimaryStart); err != nil {
				return err
			}
			d.kind.MultiRegion = keystate.Replica
			d.deletion = until
		}
		s.newPrimary = n
		// Every member's record names the new primary's Region.
		for _, m := range k.fam.members {
			if m != self && m != n {
				s.draftOther(m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &UpdatePrimaryRegionOutput{}, nil
}

// updateDone ends k's Updating state: k becomes Enabled (PendingImport if
// its imported material expired meanwhile), and PRIMARY if its family
// chose it.
func (s *Service) updateDone(k *key, ev queued) (bool, error) {
	if k.state != keystate.Updating || k.deletion != ev.at {
		return false, nil
	}
	if s.pend != nil {
		s.pend.remember(k, ev)
	}
	if err := transition(k, keystate.UpdatePrimaryDone); err != nil {
		return false, err
	}
	if k.kind.Origin == keystate.External && !k.imp.complete() {
		// The imported material expired while the key was Updating: it
		// ends PendingImport, as any key whose material expires (a.1).
		if err := transition(k, keystate.MaterialLost); err != nil {
			return false, err
		}
	}
	k.deletion = 0
	if s.primaryOf(k) == k {
		k.kind.MultiRegion = keystate.Primary
	}
	return true, nil
}

// replicaReady ends k's Creating state: Enabled, or PendingImport for a
// replica of an EXTERNAL key, which has no key material yet.
func (s *Service) replicaReady(k *key, ev queued) (bool, error) {
	if k.state != keystate.Creating || k.deletion != ev.at {
		return false, nil
	}
	if s.pend != nil {
		s.pend.remember(k, ev)
	}
	e := keystate.ReplicaReady
	if k.kind.Origin == keystate.External {
		e = keystate.ReplicaReadyPendingImport
	}
	if err := transition(k, e); err != nil {
		return false, err
	}
	k.deletion = 0
	return true, nil
}

// waitingPrimary returns the primary of k's family if it waits in
// PendingReplicaDeletion for k, its last replica; nil otherwise.
func waitingPrimary(k *key) *key {
	f := k.fam
	if f == nil || len(f.members) != 2 || f.primary == k || f.primary.state != keystate.PendingReplicaDeletion {
		return nil
	}
	return f.primary
}

// leaveFamily removes a deleted key from its family; a key left alone
// loses its family.
func leaveFamily(k *key) {
	f := k.fam
	if f == nil {
		return
	}
	k.fam = nil
	if i := slices.Index(f.members, k); i >= 0 {
		f.members = slices.Delete(f.members, i, i+1)
	}
	if len(f.members) == 1 {
		f.members[0].fam = nil
	}
}

// hasReplicas reports whether k is a primary with replicas (live or
// pending deletion).
func hasReplicas(k *key) bool { return k.fam != nil && k.fam.primary == k && len(k.fam.members) > 1 }

// linkFamilies builds the families of the multi-Region keys just loaded.
// primaries maps a key ID to its primary's Region as the records say.
func (s *Service) linkFamilies(primaries map[string]string) error {
	groups := map[string][]*key{}
	for _, r := range s.regions {
		for _, slot := range r.order {
			if k := s.keyAt(slot); k.kind.MultiRegion != keystate.SingleRegion {
				groups[k.id] = append(groups[k.id], k)
			}
		}
	}
	for id, ks := range groups {
		if len(ks) == 1 {
			if ks[0].kind.MultiRegion != keystate.Primary && ks[0].state != keystate.Updating {
				return fmt.Errorf("replica %s in %s has no primary: %w", id, s.regions[ks[0].region].name, store.ErrCorrupt)
			}
			continue
		}
		if err := s.link(id, ks, primaries[id]); err != nil {
			return err
		}
	}
	return nil
}

// link makes ks, the multi-Region keys with key ID id (one per Region,
// at least two), a family: in creation order, the primary the key of kind
// Primary or, during UpdatePrimaryRegion (when both keys read as
// replicas), the one in primaryRegion.
func (s *Service) link(id string, ks []*key, primaryRegion string) error {
	slices.SortFunc(ks, s.memberOrder)
	f := &family{members: ks}
	for _, k := range ks {
		if k.kind.MultiRegion == keystate.Primary || k.state == keystate.Updating && s.regions[k.region].name == primaryRegion {
			if f.primary != nil {
				return fmt.Errorf("multi-Region key %s has two primaries: %w", id, store.ErrCorrupt)
			}
			f.primary = k
		}
	}
	if f.primary == nil {
		return fmt.Errorf("multi-Region key %s has no primary: %w", id, store.ErrCorrupt)
	}
	for _, k := range ks {
		k.fam = f
	}
	return nil
}

// memberOrder is the order of a family's members (D68), the one DescribeKey
// lists replicas in: creation order, and members two nodes of a cluster
// made at once (one creation number) by Region name, as every node and a
// service loaded from the store hold them.
func (s *Service) memberOrder(a, b *key) int {
	return cmp.Or(cmp.Compare(a.seq, b.seq), strings.Compare(s.regions[a.region].name, s.regions[b.region].name))
}

// multiRegionConfiguration describes k's family as DescribeKey shows it
// (recordings 8c, 8d): its role, the primary, and the replicas in creation
// order.
func (s *Service) multiRegionConfiguration(k *key) *MultiRegionConfiguration {
	p := s.primaryOf(k)
	c := &MultiRegionConfiguration{MultiRegionKeyType: k.kind.MultiRegion.String(),
		PrimaryKey:  MultiRegionKey{Arn: s.arnOf(p), Region: s.regions[p.region].name},
		ReplicaKeys: []MultiRegionKey{}}
	if k.fam != nil {
		for _, m := range k.fam.members {
			if m != p {
				c.ReplicaKeys = append(c.ReplicaKeys, MultiRegionKey{Arn: s.arnOf(m), Region: s.regions[m.region].name})
			}
		}
	}
	return c
}

// WithReplicaCreationDuration sets how long a replica made by ReplicateKey
// stays Creating, in simulated time (AWS: "a few seconds"). The default is
// 0: the replica is Creating in ReplicateKey's answer and ready for the
// next call.
func WithReplicaCreationDuration(d time.Duration) Option {
	return func(c *config) { c.replicaDuration = max(0, d) }
}

// WithPrimaryUpdateDuration sets how long UpdatePrimaryRegion keeps both
// keys Updating, in simulated time (AWS: "a few more seconds"). The default
// is 0: the change is done for the next call.
func WithPrimaryUpdateDuration(d time.Duration) Option {
	return func(c *config) { c.updateDuration = max(0, d) }
}
