package kms_test

import (
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// The model's multi-Region keys (aws-kms-behaviour.md a.2, b, c.8): the
// service's default Region and two more, CreateKey with MultiRegion,
// ReplicateKey, UpdatePrimaryRegion, and invariant (g): the keys of a
// multi-Region key have one rotation history, one on-demand count (D1) and
// one rotation status (D20, except that a key pending deletion reads
// false).

// The model's other Regions.
const (
	mdlRegion2 = "us-west-2"
	mdlRegion3 = "eu-west-1"
)

// mdlMultiRegionActions are the actions of TestModelMultiRegion: the
// multi-Region calls, the calls whose outcome depends on a key's role or
// on the states only multi-Region keys have, and time.
func mdlMultiRegionActions(m *mdlModel) map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"CreateKey":            m.createKey,
		"ReplicateKey":         m.replicateKey,
		"ReplicateKey2":        m.replicateKey,
		"ReplicateKey3":        m.replicateKey,
		"UpdatePrimaryRegion":  m.updatePrimaryRegion,
		"UpdatePrimaryRegion2": m.updatePrimaryRegion,
		"EnableKey":            m.enableKey,
		"DisableKey":           m.disableKey,
		"ScheduleKeyDeletion":  m.scheduleKeyDeletion,
		"ScheduleKeyDeletion2": m.scheduleKeyDeletion,
		"CancelKeyDeletion":    m.cancelKeyDeletion,
		"EnableKeyRotation":    m.enableKeyRotation,
		"DisableKeyRotation":   m.disableKeyRotation,
		"RotateKeyOnDemand":    m.rotateKeyOnDemand,
		"RotateKeyOnDemand2":   m.rotateKeyOnDemand,
		"GetKeyRotationStatus": m.getKeyRotationStatus,
		"ListKeyRotations":     m.listKeyRotations,
		"DescribeKey":          m.describeKey,
		"Encrypt":              m.encrypt,
		"Decrypt":              m.decrypt,
		"ImportKeyMaterial":    m.importKeyMaterial,
		"Sign":                 m.sign,
		"Verify":               m.verify,
		"GetPublicKey":         m.getPublicKey,
		"GetPublicKey2":        m.getPublicKey,
		"GenerateMac":          m.generateMac,
		"VerifyMac":            m.verifyMac,
		"AdvanceClock":         m.advanceClock,
		"AdvanceToEdge":        m.advanceToEdge,
		"AdvanceToEdge2":       m.advanceToEdge,
		"":                     m.check,
	}
}

// mdlDrawStateDuration draws a WithReplicaCreationDuration or
// WithPrimaryUpdateDuration: half the runs the default 0 (done for the next
// call), else long enough for Creating or Updating to be seen, refused
// ([14], [15]) and ended by advancing the clock.
func mdlDrawStateDuration(t *rapid.T, label string) time.Duration {
	switch rapid.IntRange(0, 3).Draw(t, label+"Kind") {
	case 0, 1:
		return 0
	case 2:
		return rapid.SampledFrom([]time.Duration{time.Microsecond, time.Second, mdlConflictWindow, time.Hour}).Draw(t, label+"Duration")
	}
	return time.Duration(rapid.IntRange(1, 2*3600).Draw(t, label+"Seconds")) * time.Second
}

// mdlBadRegions are ReplicaRegion and PrimaryRegion values that break
// AWS's constraints (1–32 characters, ^([a-z]+-){2,3}\d+$): D16.
var mdlBadRegions = []string{"", "mars", "US-WEST-2", "us-west-2a", "us-2", "averylongregionname-somewhere-12345"}

// drawRegion draws a Region parameter about k's multi-Region key: now and
// then an invalid name (valid false), sometimes any of the model's
// Regions, mostly one where want holds for the key k's multi-Region key
// has there (nil when it has none), if there is such a Region.
func (m *mdlModel) drawRegion(t *rapid.T, k *mdlKey, label string, want func(*mdlKey) bool) (region string, valid bool) {
	switch rapid.IntRange(0, 9).Draw(t, label+"Kind") {
	case 0:
		return rapid.SampledFrom(mdlBadRegions).Draw(t, label+"Bad"), false
	case 1, 2:
		return rapid.SampledFrom(m.regions).Draw(t, label), true
	}
	var fit []string
	if k != nil {
		for _, r := range m.regions {
			if want(m.liveAt(r, k.id)) {
				fit = append(fit, r)
			}
		}
	}
	if len(fit) == 0 {
		return rapid.SampledFrom(m.regions).Draw(t, label), true
	}
	return rapid.SampledFrom(fit).Draw(t, label+"Fit"), true
}

// mdlReplicateErr predicts ReplicateKey once its input is valid: the
// identifier, the key-state table (ReplicateKey row: [1], [3], [5], N/A,
// [14], [15]), the key's kind (a multi-Region primary; recorded wording),
// then AlreadyExistsException when the Region already has a key of the
// multi-Region key (guess, as kmsmodel documents it: also the primary's
// own Region; AWS says only that each replica must be in a different
// Region).
func (m *mdlModel) replicateErr(r mdlRef, region string) error {
	k := r.k
	switch {
	case r.err != nil:
		return r.err
	case k.state == mdlDisabled:
		return keystate.ErrDisabled
	case k.pendingDeletion(), k.state == mdlPendingImport, k.state == mdlUnavailable:
		return keystate.ErrKMSInvalidState
	case k.state == mdlCreating:
		return mdlErrCreating
	case k.state == mdlUpdating:
		return mdlErrUpdating
	case k.role() != "PRIMARY":
		return mdlErrNotPrimary
	case m.liveAt(region, k.id) != nil:
		return keystate.ErrAlreadyExists
	}
	return nil
}

// replicateKey replicates a key, mostly an Enabled primary to a Region its
// multi-Region key is not in yet. The replica has the primary's key ID and
// rotation state (shared from now on), its own description, tags and
// state: Creating, until the creation duration has passed.
func (m *mdlModel) replicateKey(t *rapid.T) {
	if m.liveCount() >= mdlMaxLiveKeys || len(m.keys) >= mdlMaxKeys {
		t.Skip("enough keys")
	}
	free := func(k *mdlKey) bool { return k == nil }
	r := m.pickWhere(t, func(k *mdlKey) bool {
		if k.role() != "PRIMARY" || k.state != mdlEnabled {
			return false
		}
		return slices.ContainsFunc(m.regions, func(region string) bool { return m.liveAt(region, k.id) == nil })
	})
	r = m.as(t, r, "kms:ReplicateKey")
	region, valid := m.drawRegion(t, r.k, "replicaRegion", free)
	desc := rapid.SampledFrom([]string{"", "replica", "réplique d'une clé multi-Région"}).Draw(t, "replicaDescription")
	var tags []kms.Tag
	if rapid.Bool().Draw(t, "replicaTags") {
		tags = []kms.Tag{{TagKey: "mdl", TagValue: region}}
	}
	var want error = keystate.ErrValidation // D16, first (D3)
	if valid {
		want = m.replicateErr(r, region)
	}
	out, err := m.svc.ReplicateKey(r.ctx, &kms.ReplicateKeyInput{KeyId: r.id, ReplicaRegion: region, Description: desc, Tags: tags})
	mdlExpect(t, "ReplicateKey to "+mdlShort(region), err, want, r.errID)
	if want != nil {
		if out != nil {
			t.Fatalf("ReplicateKey refused but returned %+v", out)
		}
		return
	}
	p := r.k
	n := &mdlKey{id: p.id, arn: m.arnIn(region, p.id), region: region, kind: p.kind, state: mdlCreating, created: m.now,
		material0: p.material0, desc: desc, until: m.now.Add(m.replicaDur), fam: p.fam, mdlRot: p.mdlRot, mat: p.mat, asym: p.asym}
	p.fam.members = append(p.fam.members, n)
	m.keys = append(m.keys, n)
	md := out.ReplicaKeyMetadata
	if !md.CreationDate.Equal(m.now) {
		t.Fatalf("ReplicateKey: CreationDate %v, want %v", md.CreationDate, m.now)
	}
	m.checkMetadata(t, n, md, nil)
	if len(out.ReplicaTags) != len(tags) || len(tags) > 0 && out.ReplicaTags[0] != tags[0] {
		t.Fatalf("ReplicateKey: ReplicaTags %+v, want %+v", out.ReplicaTags, tags)
	}
	m.runDue(m.now) // with no creation duration the replica is ready for the next call
}

// updatePrimaryRegion makes a replica of a primary the primary, mostly an
// Enabled replica of an Enabled primary. Both keys are Updating for the
// update duration, and read as replicas meanwhile; the rotation is the new
// primary's from the call on.
func (m *mdlModel) updatePrimaryRegion(t *rapid.T) {
	r := m.pickWhere(t, func(k *mdlKey) bool {
		return k.role() == "PRIMARY" && k.state == mdlEnabled && len(k.fam.members) > 1
	})
	r = m.as(t, r, "kms:UpdatePrimaryRegion")
	k := r.k
	region, valid := m.drawRegion(t, k, "primaryRegion", func(o *mdlKey) bool { return o != nil && o != k })
	var (
		want  error
		errID = r.errID
		n     *mdlKey
	)
	switch {
	case !valid:
		want = keystate.ErrValidation // D16, first (D3)
	case r.err != nil:
		want = r.err
	case k.state == mdlDisabled:
		want = keystate.ErrDisabled // [1]
	case k.pendingDeletion(), k.state == mdlPendingImport, k.state == mdlUnavailable:
		want = keystate.ErrKMSInvalidState // [3], [5], N/A
	case k.state == mdlCreating:
		want = mdlErrCreating // [14]
	case k.role() != "PRIMARY":
		want = mdlErrNotPrimary // also while Updating (✓ in the table): both keys read as replicas
	case region == k.region:
		// The key's own Region: UnsupportedOperationException, the
		// exception of UpdatePrimaryRegion's documented list (e.2) that
		// fits; AWS records none for this case.
		want = keystate.ErrUnsupportedOperation
	default:
		// The key that becomes primary must exist (guess: else
		// NotFoundException naming its would-be ARN, as kmsmodel
		// documents), and be Enabled too (section b), refused as the table
		// refuses it, naming it.
		n = m.liveAt(region, k.id)
		switch {
		case n == nil:
			want, errID = keystate.ErrNotFound, m.arnIn(region, k.id)
		case n.state == mdlDisabled:
			want, errID = keystate.ErrDisabled, n.arn
		case n.pendingDeletion(), n.state == mdlPendingImport:
			want, errID = keystate.ErrKMSInvalidState, n.arn
		case n.state == mdlCreating:
			want, errID = mdlErrCreating, n.arn
		}
	}
	_, err := m.svc.UpdatePrimaryRegion(r.ctx, &kms.UpdatePrimaryRegionInput{KeyId: r.id, PrimaryRegion: region})
	mdlExpect(t, "UpdatePrimaryRegion to "+mdlShort(region), err, want, errID)
	if want != nil {
		return
	}
	until := m.now.Add(m.updateDur)
	k.state, k.until = mdlUpdating, until
	n.state, n.until = mdlUpdating, until
	k.fam.owner = n
	m.runDue(m.now) // with no update duration the change is done for the next call
}

// checkMultiRegion compares DescribeKey's MultiRegion and
// MultiRegionConfiguration with the model: the key's role, the primary
// (guess: during UpdatePrimaryRegion, the key becoming primary, though both
// read as replicas), and every other key of the multi-Region key as a
// replica, in creation order (recordings 8c, 8d).
func (m *mdlModel) checkMultiRegion(t *rapid.T, k *mdlKey, md kms.KeyMetadata) {
	t.Helper()
	c := md.MultiRegionConfiguration
	if k.fam == nil {
		if md.MultiRegion || c != nil {
			t.Fatalf("DescribeKey(%s): MultiRegion %v, MultiRegionConfiguration %+v for a single-Region key", k.arn, md.MultiRegion, c)
		}
		return
	}
	if !md.MultiRegion || c == nil {
		t.Fatalf("DescribeKey(%s): MultiRegion %v, MultiRegionConfiguration %+v for a multi-Region key", k.arn, md.MultiRegion, c)
	}
	o := k.fam.owner
	want := kms.MultiRegionConfiguration{MultiRegionKeyType: k.role(),
		PrimaryKey: kms.MultiRegionKey{Arn: o.arn, Region: o.region}, ReplicaKeys: []kms.MultiRegionKey{}}
	for _, x := range k.fam.members {
		if x != o {
			want.ReplicaKeys = append(want.ReplicaKeys, kms.MultiRegionKey{Arn: x.arn, Region: x.region})
		}
	}
	if c.MultiRegionKeyType != want.MultiRegionKeyType || c.PrimaryKey != want.PrimaryKey || !slices.Equal(c.ReplicaKeys, want.ReplicaKeys) {
		t.Fatalf("DescribeKey(%s %s): MultiRegionConfiguration %+v, want %+v", k.arn, k.state, *c, want)
	}
	// Section b, read from the service alone: PendingReplicaDeletion only
	// on a primary that still has replicas.
	if md.KeyState == mdlPendingReplica && (c.MultiRegionKeyType != "PRIMARY" || len(c.ReplicaKeys) == 0) {
		t.Fatalf("DescribeKey(%s): PendingReplicaDeletion with configuration %+v", k.arn, *c)
	}
}

// mdlSeen is what the "" check read of one key: its rotation listing
// (listed: ListKeyRotations succeeded) and rotation status (nil: refused).
type mdlSeen struct {
	listed bool
	rots   []kms.RotationsListEntry
	status *kms.GetKeyRotationStatusOutput
}

// checkFamilies is invariant (g), on what the service reported alone: the
// keys of a multi-Region key list the same rotations (dates, types,
// materials, so also the same on-demand count, D1), and report the same
// rotation status (D20), except that a key pending deletion reads false.
// Exactly one of them is PRIMARY, none while UpdatePrimaryRegion runs.
func (m *mdlModel) checkFamilies(t *rapid.T, seen map[*mdlKey]mdlSeen) {
	t.Helper()
	done := map[*mdlFamily]bool{}
	for _, k := range m.keys {
		f := k.fam
		if !k.live() || f == nil || done[f] {
			continue
		}
		done[f] = true
		if !f.owner.live() || !slices.Contains(f.members, f.owner) {
			t.Fatalf("model: multi-Region key %s has lost its primary", k.id)
		}
		primaries, updating := 0, false
		for _, x := range f.members {
			if x.role() == "PRIMARY" {
				primaries++
			}
			updating = updating || x.state == mdlUpdating
			if x.state == mdlPendingReplica && (x != f.owner || len(f.members) < 2) {
				t.Fatalf("model: %s is PendingReplicaDeletion without replicas", x.arn)
			}
		}
		if updating && primaries != 0 || !updating && primaries != 1 {
			t.Fatalf("model: multi-Region key %s has %d primaries (updating %v)", k.id, primaries, updating)
		}
		a := seen[f.owner]
		for _, x := range f.members {
			b := seen[x]
			if x == f.owner {
				continue
			}
			if a.listed && b.listed {
				mdlSameRotations(t, f.owner, x, a.rots, b.rots)
			}
			if a.status != nil && b.status != nil {
				mdlSameStatus(t, f.owner, x, a.status, b.status)
			}
		}
	}
}

// mdlSameRotations: two keys of a multi-Region key list the same rotations.
func mdlSameRotations(t *rapid.T, p, r *mdlKey, a, b []kms.RotationsListEntry) {
	t.Helper()
	same := len(a) == len(b)
	for i := 0; same && i < len(a); i++ {
		x, y := a[i], b[i]
		same = x.KeyId == y.KeyId && x.KeyMaterialId == y.KeyMaterialId && x.KeyMaterialState == y.KeyMaterialState &&
			x.RotationType == y.RotationType && (x.RotationDate == nil) == (y.RotationDate == nil) &&
			(x.RotationDate == nil || x.RotationDate.Equal(*y.RotationDate))
	}
	if !same {
		t.Fatalf("ListKeyRotations: primary %s lists %s, its replica %s %s (c.8)", p.arn, mdlFormatGot(a), r.arn, mdlFormatGot(b))
	}
}

// mdlSameStatus: two keys of a multi-Region key report the same rotation
// status, but for KeyId, and KeyRotationEnabled (with the schedule) of a
// key pending deletion (D12, D20).
func mdlSameStatus(t *rapid.T, p, r *mdlKey, a, b *kms.GetKeyRotationStatusOutput) {
	t.Helper()
	x, y := *a, *b
	x.KeyId, y.KeyId = "", ""
	if p.pendingDeletion() != r.pendingDeletion() {
		// The one pending deletion reads false (checkStatus); the rest is
		// shared.
		x.KeyRotationEnabled, x.RotationPeriodInDays, x.NextRotationDate = false, nil, nil
		y.KeyRotationEnabled, y.RotationPeriodInDays, y.NextRotationDate = false, nil, nil
	}
	eq := func(u, v *time.Time) bool { return (u == nil) == (v == nil) && (u == nil || u.Equal(*v)) }
	if x.KeyRotationEnabled != y.KeyRotationEnabled || mdlI32(x.RotationPeriodInDays) != mdlI32(y.RotationPeriodInDays) ||
		!eq(x.NextRotationDate, y.NextRotationDate) || !eq(x.OnDemandRotationStartDate, y.OnDemandRotationStartDate) {
		t.Fatalf("GetKeyRotationStatus: primary %s (%s) reports %+v, its replica %s (%s) %+v (c.8, D20)",
			p.arn, p.state, *a, r.arn, r.state, *b)
	}
}
