package kms_test

// The model under kms.RulesCurrent (issue 16; TestModelCurrentRules):
// single-Region EXTERNAL keys with several imported materials.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// expiries are the instants k's imported materials expire at.
func (k *mdlKey) expiries() []time.Time {
	var out []time.Time
	if k.imported && !k.validTo.IsZero() {
		out = append(out, k.validTo)
	}
	for _, p := range k.prior {
		if p.imported && !p.validTo.IsZero() {
			out = append(out, p.validTo)
		}
	}
	if p := k.pending; p != nil && p.imported && !p.validTo.IsZero() {
		out = append(out, p.validTo)
	}
	return out
}

// materialLost is the change of state when a permanently associated
// material of k is deleted or expires: PendingImport, unless pending
// deletion (a.4).
func (m *mdlModel) materialLost(k *mdlKey) {
	switch k.state {
	case mdlEnabled:
		m.leaveEnabled(k)
		k.state = mdlPendingImport
	case mdlDisabled:
		k.state = mdlPendingImport
	}
}

// expireMaterials applies the expiry at instant at of k's materials: each
// one imported with that ValidTo goes, a pending one is removed (D38).
func (m *mdlModel) expireMaterials(k *mdlKey, at time.Time) {
	lost := false
	if k.imported && k.validTo.Equal(at) {
		k.imported, k.validTo = false, time.Time{}
		lost = true
	}
	for i := range k.prior {
		if p := &k.prior[i]; p.imported && p.validTo.Equal(at) {
			p.imported, p.validTo = false, time.Time{}
			lost = true
		}
	}
	if p := k.pending; p != nil && p.imported && p.validTo.Equal(at) {
		if p.rotating {
			p.imported, p.validTo = false, time.Time{}
			lost = true
		} else {
			k.pending = nil
		}
	}
	if lost {
		m.materialLost(k)
	}
}

// rotateMaterial is a completed on-demand rotation of an EXTERNAL key
// under RulesCurrent: its pending material becomes current.
func (m *mdlModel) rotateMaterial(k *mdlKey) {
	p := k.pending
	if !m.cur || k.kind != mdlExt || p == nil {
		return
	}
	k.prior = append(k.prior, mdlMat{mat: k.mat, id: k.matID, desc: k.matDesc, imported: k.imported, validTo: k.validTo})
	k.mat, k.matID, k.matDesc, k.imported, k.validTo = p.mat, p.id, p.desc, p.imported, p.validTo
	k.pending = nil
	if !k.complete() {
		m.materialLost(k)
	}
}

// newMaterial returns a material no key has had: distinct by
// construction, so that rapid's small values never collide.
func (m *mdlModel) newMaterial() []byte {
	m.matSeq++
	h := sha256.Sum256(fmt.Appendf(nil, "mdl material %d", m.matSeq))
	return h[:]
}

// mdlWhere is one of a key's materials.
type mdlWhere struct {
	mat   []byte
	id    string
	where string // current, prior or pending
	i     int
}

func (k *mdlKey) materials() []mdlWhere {
	out := []mdlWhere{{k.mat, k.matID, "current", 0}}
	for i, p := range k.prior {
		out = append(out, mdlWhere{p.mat, p.id, "prior", i})
	}
	if k.pending != nil {
		out = append(out, mdlWhere{k.pending.mat, k.pending.id, "pending", 0})
	}
	return out
}

// importToday imports into a single-Region EXTERNAL key under
// RulesCurrent (D37): its first material (ImportType omitted or
// NEW_KEY_MATERIAL; EXISTING_KEY_MATERIAL is refused), a new one pending
// rotation (refused while one is pending, recording 3f), one of its
// materials again (by KeyMaterialId or not), an associated material as
// new or a wrong material as existing (IncorrectKeyMaterialException).
func (m *mdlModel) importToday(t *rapid.T, r mdlRef, p *kms.GetParametersForImportOutput) {
	m.importTodayAs(t, r, p, -1)
}

// importTodayAs is importToday with choice (0–6) fixed, or drawn when
// negative.
func (m *mdlModel) importTodayAs(t *rapid.T, r mdlRef, p *kms.GetParametersForImportOutput, choice int) {
	k := r.k
	var (
		mat          []byte
		typ, matID   string
		want         error
		target       mdlWhere
		first, isNew bool
	)
	if k.matID == "" {
		first, mat = true, k.mat
		if mat == nil {
			mat = m.newMaterial()
		}
		switch rapid.IntRange(0, 3).Draw(t, "firstImportType") {
		case 1:
			typ = "NEW_KEY_MATERIAL"
		case 2:
			typ, want = "EXISTING_KEY_MATERIAL", keystate.ErrIncorrectKeyMaterial
		}
	} else {
		all := k.materials()
		if choice < 0 {
			choice = rapid.IntRange(0, 6).Draw(t, "importChoice")
		}
		switch choice {
		case 0, 1: // new material
			mat, typ, isNew = m.newMaterial(), "NEW_KEY_MATERIAL", true
			if k.pending != nil {
				want = keystate.ErrKMSInvalidState // recording 3f
			}
		case 2: // an associated material as new
			mat, typ, want = rapid.SampledFrom(all).Draw(t, "associated").mat, "NEW_KEY_MATERIAL", keystate.ErrIncorrectKeyMaterial
		case 3: // a wrong material as existing, maybe under a material's ID
			mat = slices.Clone(k.mat)
			mat[rapid.IntRange(0, 31).Draw(t, "flippedByte")] ^= 0x80
			want = keystate.ErrIncorrectKeyMaterial
			if rapid.Bool().Draw(t, "wrongWithID") {
				matID = rapid.SampledFrom(all).Draw(t, "claimedMaterial").id
			}
		default: // one of its materials again
			target = rapid.SampledFrom(all).Draw(t, "reimported")
			mat = target.mat
			if rapid.Bool().Draw(t, "explicitExisting") {
				typ = "EXISTING_KEY_MATERIAL"
			}
			if rapid.Bool().Draw(t, "withID") {
				matID = target.id
			}
		}
	}
	pk, err := x509.ParsePKIXPublicKey(p.PublicKey)
	if err != nil {
		t.Fatalf("GetParametersForImport: PublicKey: %v", err)
	}
	wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pk.(*rsa.PublicKey), mat, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := &kms.ImportKeyMaterialInput{KeyId: r.id, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped,
		ImportType: typ, KeyMaterialId: matID}
	if rapid.IntRange(0, 2).Draw(t, "withDescription") == 0 {
		d := rapid.SampledFrom([]string{"", "rotation 2026", "ünïcödé ✓"}).Draw(t, "description")
		in.KeyMaterialDescription = &d
	}
	var validTo time.Time
	if rapid.Bool().Draw(t, "expires") {
		validTo = m.now.Add(time.Duration(rapid.Int64Range(int64(time.Minute), int64(365*mdlDay)).Draw(t, "validFor")).Truncate(time.Microsecond))
		in.ValidTo = &validTo
	} else {
		in.ExpirationModel = "KEY_MATERIAL_DOES_NOT_EXPIRE"
	}
	out, err := m.svc.ImportKeyMaterial(r.ctx, in)
	mdlExpect(t, fmt.Sprintf("ImportKeyMaterial(%q, %q)", typ, mdlShort(matID)), err, want, k.arn)
	if want != nil {
		return
	}
	desc := func(old string) string {
		if in.KeyMaterialDescription != nil {
			return *in.KeyMaterialDescription
		}
		return old
	}
	if out == nil || out.KeyId != k.arn || len(out.KeyMaterialId) != 64 {
		t.Fatalf("ImportKeyMaterial: %+v", out)
	}
	switch {
	case first:
		k.mat, k.matID, k.matDesc, k.imported, k.validTo = mat, out.KeyMaterialId, desc(""), true, validTo
	case isNew:
		for _, w := range k.materials() {
			if w.id == out.KeyMaterialId {
				t.Fatalf("ImportKeyMaterial(NEW_KEY_MATERIAL): KeyMaterialId %s is an earlier material's", w.id)
			}
		}
		k.pending = &mdlMat{mat: mat, id: out.KeyMaterialId, desc: desc(""), imported: true, validTo: validTo}
	default:
		if out.KeyMaterialId != target.id {
			t.Fatalf("ImportKeyMaterial of the %s material: KeyMaterialId %s, want %s", target.where, out.KeyMaterialId, target.id)
		}
		switch target.where {
		case "current":
			k.imported, k.validTo, k.matDesc = true, validTo, desc(k.matDesc)
		case "prior":
			q := &k.prior[target.i]
			q.imported, q.validTo, q.desc = true, validTo, desc(q.desc)
		case "pending":
			q := k.pending
			q.imported, q.validTo, q.desc = true, validTo, desc(q.desc)
		}
	}
	if k.state == mdlPendingImport && k.complete() {
		m.enterEnabled(k)
	}
}

// deleteToday deletes one of a single-Region EXTERNAL key's materials
// under RulesCurrent (D38): the current one by default or by ID, an
// earlier one or the pending one by ID, or an ID it does not have
// (NotFoundException).
func (m *mdlModel) deleteToday(t *rapid.T, r mdlRef) {
	k := r.k
	all := k.materials()
	var (
		id     string
		target = all[0]
		want   error
	)
	switch rapid.IntRange(0, 4).Draw(t, "deleteChoice") {
	case 0: // the default: the current material
	case 1:
		target = rapid.SampledFrom(all).Draw(t, "deleted")
		id = target.id
	case 2:
		id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		want = mdlExact{keystate.ErrNotFound, "Key material " + id + " is not associated with " + k.arn + "."}
	default:
		target = all[len(all)-1] // the pending one, or the newest
		id = target.id
	}
	out, err := m.svc.DeleteImportedKeyMaterial(r.ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: r.id, KeyMaterialId: id})
	mdlExpect(t, "DeleteImportedKeyMaterial("+mdlShort(id)+")", err, want, k.arn)
	if want != nil {
		return
	}
	if out == nil || out.KeyId != k.arn || out.KeyMaterialId != target.id {
		t.Fatalf("DeleteImportedKeyMaterial: %+v, want KeyMaterialId %s", out, target.id)
	}
	switch target.where {
	case "current":
		k.imported, k.validTo = false, time.Time{}
	case "prior":
		k.prior[target.i].imported, k.prior[target.i].validTo = false, time.Time{}
	case "pending":
		if !k.pending.rotating {
			k.pending = nil // D38: not permanently associated
			return
		}
		k.pending.imported, k.pending.validTo = false, time.Time{}
	}
	m.materialLost(k)
}

// createExternal creates a single-Region EXTERNAL key (or, as create
// draws, sometimes a multi-Region one).
func (m *mdlModel) createExternal(t *rapid.T) {
	if live := m.liveCount(); live >= mdlMaxLiveKeys || len(m.keys) >= mdlMaxKeys {
		t.Skip("enough keys")
	}
	m.createKind(t, 7)
}

// rotateImported rotates on demand, mostly an EXTERNAL key with a material
// pending rotation.
func (m *mdlModel) rotateImported(t *rapid.T) {
	m.rotateOnDemand(t, m.pickWhere(t, func(k *mdlKey) bool { return k.kind == mdlExt && k.pending != nil }))
}

// encryptImported encrypts under an Enabled EXTERNAL key, so that there
// are ciphertexts of each of its materials.
func (m *mdlModel) encryptImported(t *rapid.T) {
	r := m.as(t, m.pickWhere(t, func(k *mdlKey) bool { return k.kind == mdlExt && k.state == mdlEnabled }), "kms:Encrypt")
	pt := rapid.SliceOfN(rapid.Byte(), 1, 16).Draw(t, "plaintext")
	want := mdlCryptoErr(r, "Encrypt")
	out, err := m.svc.Encrypt(r.ctx, &kms.EncryptInput{KeyId: r.id, Plaintext: pt})
	mdlExpect(t, "Encrypt", err, want, r.errID)
	if want != nil {
		return
	}
	m.used(r.k, "Encrypt")
	m.cts = append(m.cts, &mdlCiphertext{k: r.k, id: r.k.id, region: r.region, pt: pt, blob: out.CiphertextBlob})
}

// checkMaterials is invariant (j): ListKeyRotations with
// IncludeKeyMaterial ALL_KEY_MATERIAL lists the key's materials, version
// by version, then the pending one, each with its ID, state, ImportState,
// ExpirationModel, ValidTo and description (D39); DescribeKey shows the
// current one's ID and the earliest ValidTo of the permanently associated
// ones (d.3).
func (m *mdlModel) checkMaterials(t *rapid.T, k *mdlKey, ctx context.Context, md kms.KeyMetadata) {
	t.Helper()
	got, err := m.listAll(ctx, k, k.id, kms.Int32(int32(1+m.checks%4)), "ALL_KEY_MATERIAL")
	mdlExpect(t, "ListKeyRotations(ALL_KEY_MATERIAL, check)", err, nil, k.arn)
	type entry struct {
		id, state, imp, model, desc, typ string
		validTo                          time.Time
	}
	mk := func(w mdlMat, state, typ string) entry {
		e := entry{id: w.id, state: state, desc: w.desc, typ: typ, imp: "PENDING_IMPORT"}
		if w.imported {
			e.imp, e.model, e.validTo = "IMPORTED", "KEY_MATERIAL_DOES_NOT_EXPIRE", w.validTo
			if !w.validTo.IsZero() {
				e.model = "KEY_MATERIAL_EXPIRES"
			}
		}
		return e
	}
	var want []entry
	for i, p := range k.prior {
		typ := ""
		if i > 0 {
			typ = "ON_DEMAND"
		}
		want = append(want, mk(p, "NON_CURRENT", typ))
	}
	typ := ""
	if len(k.prior) > 0 {
		typ = "ON_DEMAND"
	}
	want = append(want, mk(mdlMat{id: k.matID, desc: k.matDesc, imported: k.imported, validTo: k.validTo}, "CURRENT", typ))
	if k.pending != nil {
		want = append(want, mk(*k.pending, "PENDING_ROTATION", ""))
	}
	var have []entry
	for _, e := range got {
		h := entry{id: e.KeyMaterialId, state: e.KeyMaterialState, imp: e.ImportState, model: e.ExpirationModel,
			desc: e.KeyMaterialDescription, typ: e.RotationType}
		if e.ValidTo != nil {
			h.validTo = *e.ValidTo
		}
		if e.KeyId != k.id || (e.RotationType == "") != (e.RotationDate == nil) {
			t.Fatalf("ListKeyRotations(%s, ALL_KEY_MATERIAL): entry %+v", k.id, e)
		}
		have = append(have, h)
	}
	if !slices.EqualFunc(have, want, func(a, b entry) bool {
		return a == b || a.validTo.Equal(b.validTo) && a.id == b.id && a.state == b.state && a.imp == b.imp && a.model == b.model && a.desc == b.desc && a.typ == b.typ
	}) {
		t.Fatalf("ListKeyRotations(%s %s, ALL_KEY_MATERIAL):\n got %+v\nwant %+v", k.id, k.state, have, want)
	}
	if md.CurrentKeyMaterialId != k.matID {
		t.Fatalf("DescribeKey(%s): CurrentKeyMaterialId %s, want %s", k.id, md.CurrentKeyMaterialId, k.matID)
	}
	var earliest time.Time
	if k.imported {
		for _, w := range append([]mdlMat{{imported: k.imported, validTo: k.validTo}}, k.prior...) {
			if w.imported && !w.validTo.IsZero() && (earliest.IsZero() || w.validTo.Before(earliest)) {
				earliest = w.validTo
			}
		}
		if p := k.pending; p != nil && p.rotating && p.imported && !p.validTo.IsZero() && (earliest.IsZero() || p.validTo.Before(earliest)) {
			earliest = p.validTo
		}
	}
	if (md.ValidTo == nil) != earliest.IsZero() || md.ValidTo != nil && !md.ValidTo.Equal(earliest) {
		t.Fatalf("DescribeKey(%s): ValidTo %v, want %v (the earliest of the associated materials)", k.id, mdlTime(md.ValidTo), earliest)
	}
}

// mdlCurrentRulesActions are the actions of a TestModelCurrentRules run:
// mostly EXTERNAL keys and the calls that change their materials, and
// runs of rotations that reach the quota.
func mdlCurrentRulesActions(m *mdlModel) map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"CreateKey":                  m.createKey,
		"CreateExternalKey":          m.createExternal,
		"CreateExternalKey2":         m.createExternal,
		"EnableKey":                  m.enableKey,
		"DisableKey":                 m.disableKey,
		"ScheduleKeyDeletion":        m.scheduleKeyDeletion,
		"CancelKeyDeletion":          m.cancelKeyDeletion,
		"EnableKeyRotation":          m.enableKeyRotation,
		"RotateKeyOnDemand":          m.rotateKeyOnDemand,
		"RotateImported":             m.rotateImported,
		"RotateImported2":            m.rotateImported,
		"RotateUntilQuota":           m.rotateUntilQuota,
		"CycleImported":              m.cycleImported,
		"GetKeyRotationStatus":       m.getKeyRotationStatus,
		"ListKeyRotations":           m.listKeyRotations,
		"DescribeKey":                m.describeKey,
		"Encrypt":                    m.encrypt,
		"EncryptImported":            m.encryptImported,
		"EncryptImported2":           m.encryptImported,
		"Decrypt":                    m.decrypt,
		"AdvanceClock":               m.advanceClock,
		"AdvanceToEdge":              m.advanceToEdge,
		"AdvanceToEdge2":             m.advanceToEdge,
		"ImportKeyMaterial":          m.importKeyMaterial,
		"ImportKeyMaterial2":         m.importKeyMaterial,
		"ImportKeyMaterial3":         m.importKeyMaterial,
		"ImportKeyMaterial4":         m.importKeyMaterial,
		"DeleteImportedKeyMaterial":  m.deleteImportedKeyMaterial,
		"DeleteImportedKeyMaterial2": m.deleteImportedKeyMaterial,
		"DeleteImportedKeyMaterial3": m.deleteImportedKeyMaterial,
		"ImportKeyMaterial5":         m.importKeyMaterial,
		"ImportKeyMaterial6":         m.importKeyMaterial,
		"CycleImported2":             m.cycleImported,
		"CycleImported3":             m.cycleImported,
		"":                           m.check,
	}
}

// rotateUntilQuota rotates one key on demand again and again, each call
// predicted, until the quota refuses (D1: 25 under RulesCurrent, unless
// drawn) or another refusal comes.
func (m *mdlModel) rotateUntilQuota(t *rapid.T) {
	r := m.pickWhere(t, func(k *mdlKey) bool {
		return mdlIsRotatingSym(k) || k.kind == mdlExt && k.state == mdlEnabled && k.fam == nil
	})
	if r.k == nil || !r.k.live() {
		t.Skip("no key")
	}
	for range m.quota + 1 {
		if r.k.kind == mdlExt && r.k.fam == nil && r.err == nil {
			if !m.importNewFor(t, r) {
				return
			}
		}
		before := r.k.odN
		m.rotateOnDemand(t, r)
		if r.k.odN == before {
			return // refused, as predicted
		}
	}
}

// cycleImported imports new material into an EXTERNAL key and rotates to
// it, a drawn number of times.
func (m *mdlModel) cycleImported(t *rapid.T) {
	r := m.pickWhere(t, func(k *mdlKey) bool { return k.kind == mdlExt && k.state == mdlEnabled && k.fam == nil })
	if r.k == nil || !r.k.live() || r.k.kind != mdlExt || r.k.fam != nil {
		t.Skip("no EXTERNAL key")
	}
	for range rapid.IntRange(1, 4).Draw(t, "cycles") {
		if !m.importNewFor(t, r) {
			return
		}
		m.rotateOnDemand(t, r)
		if rapid.IntRange(0, 2).Draw(t, "encryptInCycle") == 0 && r.k.state == mdlEnabled {
			e := m.as(t, r, "kms:Encrypt")
			out, err := m.svc.Encrypt(e.ctx, &kms.EncryptInput{KeyId: e.id, Plaintext: []byte("cycle")})
			mdlExpect(t, "Encrypt (cycle)", err, mdlCryptoErr(e, "Encrypt"), e.errID)
			if err == nil {
				m.cts = append(m.cts, &mdlCiphertext{k: r.k, id: r.k.id, region: r.region, pt: []byte("cycle"), blob: out.CiphertextBlob})
			}
		}
	}
}

// importNewFor imports new material into r's EXTERNAL key (predicted); it
// reports whether the key can go on (the import parameters were issued).
func (m *mdlModel) importNewFor(t *rapid.T, r mdlRef) bool {
	r = m.as(t, r, "kms:GetParametersForImport")
	want := mdlImportErr(r)
	p, err := m.svc.GetParametersForImport(r.ctx, &kms.GetParametersForImportInput{KeyId: r.id,
		WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
	mdlExpect(t, "GetParametersForImport", err, want, r.errID)
	if want != nil {
		return false
	}
	m.importTodayAs(t, r, p, 0)
	return true
}

// mdlDrawn is a backend drawn per check: no store, a store.Memory or a
// boltstore file, so that one run of checks covers the three.
type mdlDrawn struct {
	dir  string
	b    mdlBackend
	bolt *mdlBolt // one for the run, so that each check has a file of its own
}

func (d *mdlDrawn) open(t *rapid.T, opts []kms.Option) *kms.Service {
	switch rapid.IntRange(0, 2).Draw(t, "backend") {
	case 0:
		d.b = mdlPlain{}
	case 1:
		d.b = &mdlMemory{}
	default:
		if d.bolt == nil {
			d.bolt = &mdlBolt{dir: d.dir}
		}
		d.b = d.bolt
	}
	return d.b.open(t, opts)
}

func (d *mdlDrawn) reopen(t *rapid.T, old *kms.Service, opts []kms.Option) *kms.Service {
	return d.b.reopen(t, old, opts)
}
