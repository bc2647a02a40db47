package kms

import (
	"slices"
	"unicode/utf8"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// Several imported materials per key, under RulesCurrent (spec section
// (g); decisions D36–D39).
//
// A symmetric EXTERNAL key has one material per material version, as an
// AWS_KMS key does: version 0 is the first material imported, and each
// completed on-demand rotation makes the material pending rotation the
// next version. Ciphertexts name the version they were made under, so
// every ciphertext decrypts while its version's material is imported. The
// current version's material stays in imported's own fields (id, sealed,
// validTo), where the 2024 rules keep their one material; the earlier
// versions and the pending material live behind imported.more, which keys
// without them do not allocate.

const (
	newKeyMaterial      = "NEW_KEY_MATERIAL"
	existingKeyMaterial = "EXISTING_KEY_MATERIAL"
)

var importTypes = []string{newKeyMaterial, existingKeyMaterial}

// maxMaterialDescription is KeyMaterialDescription's length limit.
const maxMaterialDescription = 256

// moreMaterials is what a symmetric key holds under RulesCurrent besides
// its current material.
type moreMaterials struct {
	desc string // the current material's KeyMaterialDescription
	// prior[v] is the material of version v, for every version before
	// the current one (len(prior) is the key's rotation count).
	prior []keyMaterial
	// pending is the material imported with NEW_KEY_MATERIAL and not yet
	// rotated to, or nil.
	pending *keyMaterial
}

// keyMaterial is one of a key's materials besides its current one.
type keyMaterial struct {
	id      string
	sealed  []byte // nil while deleted or expired
	validTo int64  // Unix µs of expiry; 0 when it does not expire or is not imported
	desc    string
	// rotating marks the pending material of an on-demand rotation in
	// progress: from the call on it is permanently associated (D38).
	rotating bool
}

// all returns the materials of prior and the pending one.
func (mm *moreMaterials) all() []*keyMaterial {
	out := make([]*keyMaterial, 0, len(mm.prior)+1)
	for i := range mm.prior {
		out = append(out, &mm.prior[i])
	}
	if mm.pending != nil {
		out = append(out, mm.pending)
	}
	return out
}

// clone returns a copy of imp whose more may be changed.
func (m *imported) clone() *imported {
	c := *m
	if m.more != nil {
		mm := *m.more
		mm.prior = slices.Clone(m.more.prior)
		if m.more.pending != nil {
			p := *m.more.pending
			mm.pending = &p
		}
		c.more = &mm
	} else {
		c.more = &moreMaterials{}
	}
	return &c
}

// complete reports whether every permanently associated material of the
// key is imported: the current one, the earlier versions', and a pending
// one an on-demand rotation in progress will make current (D38). Only
// then is a key usable.
func (m *imported) complete() bool {
	if !m.present() {
		return false
	}
	if m.more == nil {
		return true
	}
	for i := range m.more.prior {
		if m.more.prior[i].sealed == nil {
			return false
		}
	}
	p := m.more.pending
	return p == nil || !p.rotating || p.sealed != nil
}

// versionSealed returns the sealed material of version v of a key with
// current version cur, or nil when it is not imported.
func (m *imported) versionSealed(v, cur uint32) []byte {
	if m == nil {
		return nil
	}
	if v == cur {
		return m.sealed
	}
	if m.more != nil && int(v) < len(m.more.prior) && v < cur {
		return m.more.prior[v].sealed
	}
	return nil
}

// earliestValidTo is DescribeKey's ValidTo under RulesCurrent: the
// earliest expiry among the permanently associated materials imported
// with KEY_MATERIAL_EXPIRES, or 0.
func (m *imported) earliestValidTo() int64 {
	v := int64(0)
	if m.expires() {
		v = m.validTo
	}
	if m.more == nil {
		return v
	}
	for _, o := range m.more.all() {
		if o.sealed != nil && o.validTo != 0 && (o != m.more.pending || o.rotating) && (v == 0 || o.validTo < v) {
			v = o.validTo
		}
	}
	return v
}

// rotatedTo returns imp after a rotation to the material of ID id: the
// current material becomes the last earlier version, and the pending one
// (or, on a replica that no longer holds it, the ID alone) the current.
func (m *imported) rotatedTo(id string) *imported {
	c := m.clone()
	c.more.prior = append(c.more.prior, keyMaterial{id: m.id, sealed: m.sealed, validTo: m.validTo, desc: c.more.desc})
	c.id, c.sealed, c.validTo, c.more.desc, c.parsed = id, nil, 0, "", nil
	if p := c.more.pending; p != nil && p.id == id {
		c.sealed, c.validTo, c.more.desc = p.sealed, p.validTo, p.desc
	}
	c.more.pending = nil
	return c
}

// rotateMaterial moves an EXTERNAL key to the material of ID id at a
// completed on-demand rotation; the key goes to PendingImport if a
// permanently associated material is missing (a replica that had not, or
// no longer had, the new material).
func rotateMaterial(k *key, id string) {
	if k.kind.Origin != keystate.External || k.imp == nil {
		return
	}
	k.imp = k.imp.rotatedTo(id)
	if !k.imp.complete() {
		loseMaterial(k)
	}
}

// skeleton is what a new replica of an EXTERNAL primary holds under
// RulesCurrent: the IDs of the primary's permanently associated materials,
// none of them imported (ReplicateKey copies no material), so that the
// replica knows which materials its ciphertexts need.
func (m *imported) skeleton() *imported {
	if m == nil {
		return nil
	}
	c := &imported{id: m.id, more: &moreMaterials{}}
	if m.more != nil {
		for _, p := range m.more.prior {
			c.more.prior = append(c.more.prior, keyMaterial{id: p.id})
		}
	}
	return c
}

// validateMaterialInput is the input validation of ImportType,
// KeyMaterialId and KeyMaterialDescription (D3 step 1). Under Rules2024
// the three are refused with UnsupportedOperationException, as the wire
// layer refuses them (D2).
func (s *Service) validateMaterialInput(op keystate.Operation, importType, id string, desc *string) error {
	if !s.materials() {
		for _, f := range []struct {
			name string
			set  bool
		}{{"ImportType", importType != ""}, {"KeyMaterialId", id != ""}, {"KeyMaterialDescription", desc != nil}} {
			if f.set {
				return kmsError(keystate.ErrUnsupportedOperation, op, "", keystate.None,
					f.name+" is not supported under the 2024 rules (kms.Rules2024); use kms.RulesCurrent")
			}
		}
		return nil
	}
	if importType != "" {
		if err := checkEnum(op, importType, "importType", importTypes); err != nil {
			return err
		}
	}
	if id != "" && !isMaterialID(id) {
		return validationError(op, id, "keyMaterialId", "Member must satisfy regular expression pattern: ^[a-f0-9]{64}$")
	}
	if importType == newKeyMaterial && id != "" {
		// D37: AWS documents the rule, not the exception.
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			"KeyMaterialId cannot be specified with ImportType NEW_KEY_MATERIAL")
	}
	if desc != nil && utf8.RuneCountInString(*desc) > maxMaterialDescription {
		return validationError(op, "[description]", "keyMaterialDescription", "Member must have length less than or equal to 256")
	}
	return nil
}

// isMaterialID reports whether id has the form of a KeyMaterialId: 64
// lowercase hex digits.
func isMaterialID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for i := range len(id) {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// materialKind refuses, after the key-state table (D3 step 7), the
// several-materials members on a key that holds one material only
// (asymmetric and HMAC keys; IMP: "only usable with symmetric encryption
// keys"), decision D37.
func materialKind(op keystate.Operation, k *key, arn string, set bool) error {
	if set && !k.kind.Spec.IsSymmetric() {
		return kmsError(keystate.ErrUnsupportedOperation, op, arn, k.state,
			"ImportType, KeyMaterialId and KeyMaterialDescription are valid only for symmetric encryption keys; "+
				arn+" is a "+k.kind.Spec.String()+" key.")
	}
	return nil
}

// associated finds the material of ID id among k's materials: where is
// "current", "prior" (with its index) or "pending", or "" when k has no
// such material.
func associated(imp *imported, id string) (where string, i int) {
	switch {
	case imp == nil:
		return "", 0
	case imp.id == id:
		return "current", 0
	case imp.more == nil:
		return "", 0
	case imp.more.pending != nil && imp.more.pending.id == id:
		return "pending", 0
	}
	for i := range imp.more.prior {
		if imp.more.prior[i].id == id {
			return "prior", i
		}
	}
	return "", 0
}

// importToday installs material m, of ID id, into the draft k of a
// symmetric key under RulesCurrent (decision D37): the first material
// becomes current; NEW_KEY_MATERIAL adds a material pending rotation;
// EXISTING_KEY_MATERIAL re-imports one of the key's materials (on a
// replica, also the material pending rotation on its primary).
func (s *Service) importToday(op keystate.Operation, k *key, arn string, in *ImportKeyMaterialInput, id string, m []byte) error {
	never := k.imp == nil || k.imp.id == ""
	typ := in.ImportType
	if typ == "" {
		// The current API reference: NEW_KEY_MATERIAL until a material
		// was imported, then EXISTING_KEY_MATERIAL.
		typ = existingKeyMaterial
		if never {
			typ = newKeyMaterial
		}
	}
	if in.KeyMaterialId != "" && in.KeyMaterialId != id {
		return kmsError(keystate.ErrIncorrectKeyMaterial, op, arn, k.state,
			"The key material does not match the key material ID "+in.KeyMaterialId+".")
	}
	var validTo int64
	if in.ValidTo != nil {
		validTo = micros(*in.ValidTo)
	}
	desc := func(old string) string {
		if in.KeyMaterialDescription != nil {
			return *in.KeyMaterialDescription
		}
		return old
	}
	seal := func() ([]byte, error) {
		root, err := s.rootSecret(op)
		if err != nil {
			return nil, err
		}
		sealed, err := s.sealMaterial(root, k.id, m)
		if err != nil {
			return nil, &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err,
				Message: "The randomness source failed."}
		}
		return sealed, nil
	}
	where, i := associated(k.imp, id)
	switch {
	case typ == newKeyMaterial && k.kind.MultiRegion == keystate.Replica:
		// D37: new material goes into the primary; a replica takes it
		// with EXISTING_KEY_MATERIAL.
		return kmsError(keystate.ErrUnsupportedOperation, op, arn, k.state,
			"New key material must be imported into the primary key of "+arn+"; import it into a replica with ImportType EXISTING_KEY_MATERIAL.")
	case typ == newKeyMaterial && where != "":
		return kmsError(keystate.ErrIncorrectKeyMaterial, op, arn, k.state,
			"The key material (id: "+id+") is already associated with "+arn+"; import it with ImportType EXISTING_KEY_MATERIAL.")
	case typ == newKeyMaterial && !never:
		if p := k.imp.more; p != nil && p.pending != nil {
			// Recording 3f.
			return kmsError(keystate.ErrKMSInvalidState, op, arn, k.state,
				"New key material (id: "+id+") cannot be imported into KMS key "+arn+", because another key material (id: "+p.pending.id+") is pending rotation.")
		}
		sealed, err := seal()
		if err != nil {
			return err
		}
		c := k.imp.clone()
		c.more.pending = &keyMaterial{id: id, sealed: sealed, validTo: validTo, desc: desc("")}
		k.imp = c
		return nil
	case typ == newKeyMaterial: // the key's first material
		if err := s.familyMaterial(op, k, arn, id); err != nil {
			return err
		}
		sealed, err := seal()
		if err != nil {
			return err
		}
		k.imp = &imported{id: id, sealed: sealed, validTo: validTo, more: &moreMaterials{desc: desc("")}}
		return transition(k, keystate.ImportMaterial)
	}
	// EXISTING_KEY_MATERIAL.
	if where == "" && k.kind.MultiRegion == keystate.Replica && k.fam != nil {
		if p := s.primaryOf(s.orig(k)); p != nil && p.imp != nil && p.imp.more != nil && p.imp.more.pending != nil && p.imp.more.pending.id == id {
			where = "newPending"
		}
	}
	if where == "" && never {
		// A replica of a primary that had no material when it was made
		// takes its primary's material (c.8).
		if err := s.familyMaterial(op, k, arn, id); err != nil {
			return err
		}
		if p := s.primaryOf(s.orig(k)); k.fam != nil && p != nil && p.imp != nil && p.imp.id == id {
			where = "first"
		}
	}
	if where == "" {
		if in.KeyMaterialId != "" {
			return kmsError(keystate.ErrIncorrectKeyMaterial, op, arn, k.state,
				"The key material ID "+in.KeyMaterialId+" is not associated with "+arn+".")
		}
		return kmsError(keystate.ErrIncorrectKeyMaterial, op, arn, k.state,
			"The key material is not the key material that was previously imported into "+arn+".")
	}
	sealed, err := seal()
	if err != nil {
		return err
	}
	var c *imported
	if k.imp != nil {
		c = k.imp.clone()
	} else {
		c = &imported{more: &moreMaterials{}}
	}
	switch where {
	case "current", "first":
		c.id, c.sealed, c.validTo, c.more.desc = id, sealed, validTo, desc(c.more.desc)
	case "prior":
		p := &c.more.prior[i]
		p.sealed, p.validTo, p.desc = sealed, validTo, desc(p.desc)
	case "pending":
		p := c.more.pending
		p.sealed, p.validTo, p.desc = sealed, validTo, desc(p.desc)
	case "newPending":
		c.more.pending = &keyMaterial{id: id, sealed: sealed, validTo: validTo, desc: desc("")}
	}
	k.imp = c
	if c.complete() {
		return transition(k, keystate.ImportMaterial)
	}
	return nil
}

// familyMaterial refuses, for a multi-Region key's first material, a
// material that is not the one of the other keys of its multi-Region key
// (c.8).
func (s *Service) familyMaterial(op keystate.Operation, k *key, arn, id string) error {
	if k.fam == nil {
		return nil
	}
	for _, m := range k.fam.members {
		if m != s.orig(k) && m.imp != nil && m.imp.id != "" && m.imp.id != id {
			if w, _ := associated(m.imp, id); w == "" {
				return kmsError(keystate.ErrIncorrectKeyMaterial, op, arn, k.state,
					"The key material is not the key material of "+s.arnOf(m)+", a related multi-Region key.")
			}
		}
	}
	return nil
}

// deleteToday deletes the material of ID id (default: the current one)
// from the draft k under RulesCurrent (decision D38), and returns the ID
// of the material deleted.
func (s *Service) deleteToday(op keystate.Operation, k *key, arn, id string) (string, error) {
	if k.imp == nil || k.imp.id == "" {
		if id != "" {
			return "", materialNotFound(op, k, arn, id)
		}
		return "", transition(k, keystate.MaterialLost)
	}
	if id == "" {
		id = k.imp.id
	}
	where, i := associated(k.imp, id)
	c := k.imp.clone()
	switch where {
	case "":
		return "", materialNotFound(op, k, arn, id)
	case "current":
		c.sealed, c.validTo, c.parsed = nil, 0, nil
	case "prior":
		c.more.prior[i].sealed, c.more.prior[i].validTo = nil, 0
	case "pending":
		if !c.more.pending.rotating {
			// D38: a material pending rotation is not permanently
			// associated: deleting it removes it, and the key is as it was.
			c.more.pending = nil
			k.imp = c
			return id, nil
		}
		c.more.pending.sealed, c.more.pending.validTo = nil, 0
	}
	k.imp = c
	loseMaterial(k)
	return id, nil
}

// materialNotFound is DeleteImportedKeyMaterial's answer to a
// KeyMaterialId the key does not have (D38; kmsmodel's wording).
func materialNotFound(op keystate.Operation, k *key, arn, id string) error {
	return kmsError(keystate.ErrNotFound, op, arn, k.state,
		"Key material "+id+" is not associated with "+arn+".")
}

// expireToday removes from k, in place, every material that expires at
// instant at; the key goes to PendingImport if one was permanently
// associated (a pending material is removed, D38).
func expireToday(k *key, at int64) {
	c := k.imp.clone()
	lost := false
	if c.expires() && c.validTo == at {
		c.sealed, c.validTo, c.parsed = nil, 0, nil
		lost = true
	}
	for i := range c.more.prior {
		if p := &c.more.prior[i]; p.sealed != nil && p.validTo == at {
			p.sealed, p.validTo = nil, 0
			lost = true
		}
	}
	if p := c.more.pending; p != nil && p.sealed != nil && p.validTo == at {
		if p.rotating {
			p.sealed, p.validTo = nil, 0
			lost = true
		} else {
			c.more.pending = nil
		}
	}
	k.imp = c
	if lost {
		loseMaterial(k)
	}
}

// pendingState is the KeyMaterialState of k's pending material:
// PENDING_MULTI_REGION_IMPORT_AND_ROTATION on a multi-Region primary until
// every replica has imported it, else PENDING_ROTATION.
func (s *Service) pendingState(k *key) string {
	if !s.replicasHavePending(k) {
		return "PENDING_MULTI_REGION_IMPORT_AND_ROTATION"
	}
	return "PENDING_ROTATION"
}

// replicasHavePending reports whether every replica of the primary k holds
// k's pending material, imported (true when k has no replicas).
func (s *Service) replicasHavePending(k *key) bool {
	if k.fam == nil || k.kind.MultiRegion != keystate.Primary || k.imp == nil || k.imp.more == nil || k.imp.more.pending == nil {
		return true
	}
	id := k.imp.more.pending.id
	for _, m := range k.fam.members {
		if m == s.orig(k) || m.state == keystate.Deleted {
			continue
		}
		if m.imp == nil || m.imp.more == nil || m.imp.more.pending == nil || m.imp.more.pending.id != id || m.imp.more.pending.sealed == nil {
			return false
		}
	}
	return true
}

// checkPending refuses RotateKeyOnDemand of an EXTERNAL key with no
// material pending rotation (recording 3f), or, on a multi-Region
// primary, one not yet imported into every replica (D38).
func (s *Service) checkPending(op keystate.Operation, k *key, arn string) error {
	if k.imp == nil || k.imp.more == nil || k.imp.more.pending == nil || k.imp.more.pending.sealed == nil {
		return kmsError(keystate.ErrKMSInvalidState, op, arn, k.state,
			"No available key material pending rotation for the key: "+arn+".")
	}
	if !s.replicasHavePending(k) {
		return kmsError(keystate.ErrKMSInvalidState, op, arn, k.state,
			"The key material (id: "+k.imp.more.pending.id+") pending rotation of "+arn+
				" has not been imported into every replica key.")
	}
	return nil
}
