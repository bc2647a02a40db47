package kms

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strconv"
	"unsafe"

	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
	"github.com/kmsmodel/kmsmodel/store"
)

var (
	keySpecNames  = enumNames(keystate.KeySpecs())
	keyUsageNames = enumNames(keystate.KeyUsages())
	originNames   = []string{"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"}
)

func enumNames[T interface{ String() string }](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}

// CreateKey creates a customer managed key in the caller's account. A key
// with Origin EXTERNAL is born PendingImport, any other Enabled.
//
// A key with Origin AWS_CLOUDHSM or EXTERNAL_KEY_STORE is created in the
// custom key store CustomKeyStoreId names, which must be of that type and
// CONNECTED; it must be SYMMETRIC_DEFAULT and single-Region, and an
// EXTERNAL_KEY_STORE key needs an XksKeyId. Its key material is derived
// like an AWS_KMS key's: the HSM or external key manager is simulated.
//
// Errors: ValidationException (description too long, unknown KeySpec,
// KeyUsage or Origin, KeyUsage missing for a non-symmetric KeySpec, a
// KeySpec × KeyUsage pair AWS does not allow, CustomKeyStoreId or XksKeyId
// missing or given where it does not apply), TagException,
// UnsupportedOperationException (a custom key store key that is not
// SYMMETRIC_DEFAULT or is multi-Region, or whose Origin does not match its
// store's type), CustomKeyStoreNotFoundException,
// CustomKeyStoreInvalidStateException (store not CONNECTED),
// XksKeyAlreadyInUseException, KMSInternalException (the randomness source
// failed).
func (s *Service) CreateKey(ctx context.Context, in *CreateKeyInput) (*CreateKeyOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*CreateKeyOutput, error) { return s.createKeyOnce(ctx, in) })
	}
	return s.createKeyOnce(ctx, in)
}

// createKeyOnce is one run of CreateKey (cluster mode may run it again).
func (s *Service) createKeyOnce(ctx context.Context, in *CreateKeyInput) (res *CreateKeyOutput, err error) {
	if in == nil {
		in = &CreateKeyInput{}
	}
	now, caller, err := s.begin(ctx, keystate.CreateKey)
	defer func() {
		if s.end(keystate.CreateKey, &err) {
			res = nil
		}
	}()
	var k *key
	if err == nil {
		k, err = s.createKey(in, now, caller)
	}
	var arn string
	if k != nil {
		arn = s.arnOf(k)
		if s.ec != nil {
			s.ecCreated(k, now)
		}
	}
	if s.observing() {
		p := map[string]string{
			"keySpec": in.KeySpec, "keyUsage": in.KeyUsage, "origin": in.Origin,
			"multiRegion": strconv.FormatBool(in.MultiRegion), "description": in.Description}
		if in.CustomKeyStoreId != "" {
			p["customKeyStoreId"] = in.CustomKeyStoreId
		}
		if in.XksKeyId != "" {
			p["xksKeyId"] = in.XksKeyId
		}
		s.record(now, keystate.CreateKey, caller, arn, p, err)
	}
	if err != nil {
		return nil, err
	}
	box := new(struct {
		out  CreateKeyOutput
		room metadataRoom
	})
	s.fillMetadata(&box.out.KeyMetadata, k, arn, &box.room)
	return &box.out, nil
}

func (s *Service) createKey(in *CreateKeyInput, now int64, caller string) (*key, error) {
	const op = keystate.CreateKey
	var kind keystate.Kind
	if err := checkLength(op, in.Description, "description", 0, 8192); err != nil {
		return nil, err
	}
	if in.KeySpec != "" {
		if err := checkEnum(op, in.KeySpec, "keySpec", keySpecNames); err != nil {
			return nil, err
		}
		kind.Spec, _ = keystate.ParseKeySpec(in.KeySpec)
	}
	switch {
	case in.KeyUsage != "":
		if err := checkEnum(op, in.KeyUsage, "keyUsage", keyUsageNames); err != nil {
			return nil, err
		}
		kind.Usage, _ = keystate.ParseKeyUsage(in.KeyUsage)
	case !kind.Spec.IsSymmetric():
		// No recording; AWS's documented rule, in its words.
		return nil, kmsError(keystate.ErrValidation, op, "", keystate.None,
			"You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.")
	}
	if err := keystate.ValidateKeySpecUsage(kind.Spec, kind.Usage); err != nil {
		return nil, err
	}
	if in.Origin != "" {
		if err := checkEnum(op, in.Origin, "origin", originNames); err != nil {
			return nil, err
		}
		kind.Origin, _ = keystate.ParseOrigin(in.Origin)
	}
	if err := validateCustomKeyStoreKey(in, kind); err != nil {
		return nil, err
	}
	switch {
	case !s.regionOffers(kind.Spec):
		return nil, kmsError(keystate.ErrUnsupportedOperation, op, "", keystate.None, "KeySpec "+kind.Spec.String()+" is not supported in this Region")
	case kind.Origin == keystate.External && kind.Spec.IsMLDSA():
		// AWS: "Importing ML-DSA keys is not supported"; the exception is
		// kmsmodel's choice.
		return nil, kmsError(keystate.ErrUnsupportedOperation, op, "", keystate.None,
			"Importing ML-DSA keys is not supported: KeySpec "+kind.Spec.String()+" takes Origin AWS_KMS only.")
	}
	if in.MultiRegion {
		kind.MultiRegion = keystate.Primary
	}
	tags, err := mergeTags(op, nil, in.Tags)
	if err != nil {
		return nil, err
	}
	if s.iamDecides() {
		if err := s.authorizeCreateKey(in, kind); err != nil {
			return nil, err
		}
	}
	var doc *policy.Document
	if in.Policy != "" {
		if doc, err = parsePolicy(op, "", keystate.None, in.Policy); err != nil {
			return nil, err
		}
		if err := s.checkPolicyPrincipals(op, doc, "", keystate.None); err != nil {
			return nil, err
		}
	}
	var ck *cksRef
	if kind.Origin.InCustomKeyStore() {
		if ck, err = s.createInStore(in, kind, caller); err != nil {
			return nil, err
		}
	}
	id, err := newKeyID(s.cfg.random, in.MultiRegion, &s.ids)
	if err != nil {
		return nil, &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, Err: err,
			Message: "the randomness source failed"}
	}
	if doc != nil && !in.BypassPolicyLockoutSafetyCheck {
		if err := s.lockoutCheck(op, doc, s.keyARN(caller, id), caller, "", kind, keystate.None); err != nil {
			return nil, err
		}
	}
	ev := keystate.Create
	if kind.Origin == keystate.External {
		ev = keystate.CreateExternal
	}
	st, err := keystate.Transition(keystate.None, ev)
	if err != nil {
		return nil, err
	}
	k := key{id: id, account: s.internAccount(caller), text: newKeyText(in.Description, tags),
		seq: s.seq + 1, version: 1, created: now, state: st, kind: kind, ck: ck, region: s.rg.index}
	var binding uint64 // D78, in a cluster: as the record holds it
	if s.st != nil {
		r := s.toRecord(&k)
		if doc != nil && !doc.IsDefaultFor(s.rg.partition, k.account) {
			binding = s.recordPolicy(&r, doc)
		}
		b := store.Batch{PutKeys: []store.Key{r}}
		if ck != nil {
			// The custom key store's record is written too, as it is:
			// the key was made because the store is CONNECTED, which a
			// cluster node's DisconnectCustomKeyStore or
			// DeleteCustomKeyStore changes. The two writes then
			// conflict instead of both committing, which would leave an
			// Enabled key in a DISCONNECTED or deleted store.
			b.PutCustomKeyStores = []store.CustomKeyStore{s.storeRecord(ck.store)}
		}
		if err := s.persist(&b); err != nil {
			return nil, internalError(op, s.keyARN(k.account, id), keystate.None, err)
		}
	}
	s.seq++
	p := s.addKey(k)
	s.setPolicy(p, doc, binding)
	if ck != nil {
		ck.store.keys = append(ck.store.keys, p)
	}
	return p, nil
}

// internAccount returns the service's own copy of an account ID string, so
// that keys of the common account share one string.
func (s *Service) internAccount(a string) string {
	if a == s.cfg.account {
		return s.cfg.account
	}
	return a
}

// DescribeKey returns a key's metadata. KeyId may be a key ID, key ARN,
// alias name or alias ARN, and may name another account's key by ARN. It
// works in every key state.
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException.
func (s *Service) DescribeKey(ctx context.Context, in *DescribeKeyInput) (*DescribeKeyOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*DescribeKeyOutput, error) { return s.describeKeyOnce(ctx, in) })
	}
	return s.describeKeyOnce(ctx, in)
}

// describeKeyOnce is one run of DescribeKey (cluster mode may run it again).
func (s *Service) describeKeyOnce(ctx context.Context, in *DescribeKeyInput) (res *DescribeKeyOutput, err error) {
	in = orEmpty(in)
	const op = keystate.DescribeKey
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	var (
		k   *key
		arn string
	)
	if err == nil {
		k, arn, err = s.resolve(ctx, op, caller, in.KeyId, "keyId", allowAlias|crossAccount)
	}
	if err == nil && s.ec != nil {
		k = s.ecView(k) // D41: the state the caller's reader sees
	}
	if err == nil {
		err = keystate.Check(op, k.state, k.kind, arn)
	}
	if s.observing() {
		s.record(now, op, caller, arn, map[string]string{"keyId": in.KeyId}, err)
	}
	if err != nil {
		return nil, err
	}
	box := new(struct {
		out  DescribeKeyOutput
		room metadataRoom
	})
	s.fillMetadata(&box.out.KeyMetadata, k, arn, &box.room)
	return &box.out, nil
}

// metadata builds the KeyMetadata of k, whose ARN is arn.
func (s *Service) metadata(k *key, arn string) KeyMetadata {
	var m KeyMetadata
	s.fillMetadata(&m, k, arn, new(metadataRoom))
	return m
}

// metadataRoom is where fillMetadata puts the bytes of a KeyMetadata's
// CurrentKeyMaterialId and the array of a symmetric key's one-element
// EncryptionAlgorithms. CreateKey and DescribeKey allocate it with their
// output, in one object: a key's metadata costs one allocation instead of
// three. The strings made over material are never written again; each
// output has its own room, so that a caller changing its algorithm list
// changes no other output's.
type metadataRoom struct {
	material   [64]byte
	algorithms [1]string
}

// fillMetadata sets *m to the KeyMetadata of k, whose ARN is arn, with
// room's memory for its material ID and algorithm list.
func (s *Service) fillMetadata(m *KeyMetadata, k *key, arn string, room *metadataRoom) {
	*m = KeyMetadata{
		AWSAccountId:          k.account,
		Arn:                   arn,
		CreationDate:          fromMicros(k.created),
		CustomerMasterKeySpec: k.kind.Spec.String(),
		Description:           k.description(),
		Enabled:               k.state == keystate.Enabled,
		KeyId:                 k.id,
		KeyManager:            k.kind.Manager.String(),
		KeySpec:               k.kind.Spec.String(),
		KeyState:              k.state.String(),
		KeyUsage:              k.kind.Usage.String(),
		MultiRegion:           k.kind.MultiRegion != keystate.SingleRegion,
		Origin:                k.kind.Origin.String(),
	}
	if k.kind.Spec.IsSymmetric() && (k.kind.Origin == keystate.AWSKMS && k.state != keystate.Creating || k.kind.Origin == keystate.External) {
		// Only a symmetric key shows its material's ID (spec §1.1).
		// Recording 8d: a replica shows none while Creating; recording
		// 8b: an imported material's ID stays after it is deleted.
		if k.kind.Origin == keystate.External {
			m.CurrentKeyMaterialId = currentMaterialID(k)
		} else {
			m.CurrentKeyMaterialId = materialIDIn(&room.material, k.id, len(k.rotations))
		}
	}
	if k.kind.Origin == keystate.External && k.imp != nil {
		// Recording 8b: the expiration model and ValidTo only while the
		// material is imported.
		if k.imp.present() {
			m.ExpirationModel = k.imp.model()
			if at := k.imp.earliestValidTo(); at != 0 {
				// The earliest expiry of the permanently associated
				// materials (d.3); with one material, its own.
				v := fromMicros(at)
				m.ValidTo = &v
			}
		}
	}
	if k.ck != nil {
		cs := k.ck.store
		m.CustomKeyStoreId = cs.id
		if cs.typ == TypeAWSCloudHSM {
			m.CloudHsmClusterId = cs.clusterID
		} else {
			m.XksKeyConfiguration = &XksKeyConfiguration{Id: k.ck.xksKeyID}
		}
	}
	if k.state == keystate.PendingDeletion {
		d := fromMicros(k.deletion)
		m.DeletionDate = &d
	}
	if k.state == keystate.PendingReplicaDeletion {
		m.PendingDeletionWindowInDays = Int32(int32(k.window))
	}
	if k.kind.MultiRegion != keystate.SingleRegion {
		m.MultiRegionConfiguration = s.multiRegionConfiguration(k)
	}
	algorithms(m, k.kind, &room.algorithms)
}

// materialID is the KeyMaterialId of version v of a key's material (0 is
// the original): 64 hex digits derived from the key ID and the version (a
// word-wise multiply-xor hash of the ID, then SplitMix64). It is stable
// across restarts, distinct per key and version, and costs no storage.
func materialID(keyID string, v int) string {
	return materialIDIn(new([64]byte), keyID, v)
}

// materialIDIn is materialID written into out, which the string it returns
// shares: out must not be written again.
func materialIDIn(out *[64]byte, keyID string, v int) string {
	h := uint64(14695981039346656037) ^ uint64(len(keyID))
	i := 0
	for ; i+8 <= len(keyID); i += 8 {
		h = (h ^ binary.LittleEndian.Uint64([]byte(keyID[i:i+8]))) * 0x100000001b3
		h ^= h >> 29
	}
	for ; i < len(keyID); i++ {
		h = (h ^ uint64(keyID[i])) * 0x100000001b3
	}
	x := h ^ uint64(v)*0x9e3779b97f4a7c15
	var words [32]byte
	for w := 0; w < 4; w++ {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		binary.BigEndian.PutUint64(words[w*8:], z)
	}
	hex.Encode(out[:], words[:])
	return unsafe.String(&out[0], len(out))
}

const hexDigitsLower = "0123456789abcdef"

// algorithms fills the algorithm list of a key of kind k that matches its
// usage (AWS KeyMetadata); internal/keycrypto holds the lists. A symmetric
// key's one algorithm goes into sym.
func algorithms(m *KeyMetadata, k keystate.Kind, sym *[1]string) {
	switch {
	case k.Spec.IsSymmetric():
		sym[0] = "SYMMETRIC_DEFAULT"
		m.EncryptionAlgorithms = sym[:]
	case k.Usage == keystate.EncryptDecrypt:
		m.EncryptionAlgorithms = keycrypto.EncryptionAlgorithms(k.Spec)
	case k.Usage == keystate.GenerateVerifyMAC:
		m.MacAlgorithms = keycrypto.MacAlgorithms(k.Spec)
	case k.Usage == keystate.KeyAgreement:
		m.KeyAgreementAlgorithms = keycrypto.KeyAgreementAlgorithms(k.Spec)
	case k.Usage == keystate.SignVerify:
		m.SigningAlgorithms = keycrypto.SigningAlgorithms(k.Spec)
	case k.Usage == keystate.EncapsulateDecapsulate:
		m.EncapsulationAlgorithms = keycrypto.EncapsulationAlgorithms(k.Spec)
	}
}

// regionOffers reports whether the Region of the call in progress offers
// keys (and data key pairs) of spec: SM2 only in the China Regions, ML-KEM
// everywhere else (spec §1.2). Refusals are worded as the one recorded for
// SM2 (RPT-FL3026), "KeySpec SM2 is not supported in this Region" (D54).
func (s *Service) regionOffers(spec keystate.KeySpec) bool {
	switch {
	case spec == keystate.SM2:
		return s.rg.partition == "aws-cn"
	case spec.IsMLKEM():
		return s.rg.partition != "aws-cn"
	}
	return true // without looking at the Region: CreateKey is a hot path
}

// ListKeys lists the caller's keys (including keys pending deletion), in
// creation order, Limit at a time.
//
// Errors: ValidationException (Limit outside 1–1000, Marker too long),
// InvalidMarkerException.
func (s *Service) ListKeys(ctx context.Context, in *ListKeysInput) (*ListKeysOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*ListKeysOutput, error) { return s.listKeysOnce(ctx, in) })
	}
	return s.listKeysOnce(ctx, in)
}

// listKeysOnce is one run of ListKeys (cluster mode may run it again).
func (s *Service) listKeysOnce(ctx context.Context, in *ListKeysInput) (res *ListKeysOutput, err error) {
	const op = keystate.ListKeys
	if in == nil {
		in = &ListKeysInput{}
	}
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	var out *ListKeysOutput
	if err == nil {
		out, err = s.listKeys(in, caller)
	}
	if s.observing() {
		s.record(now, op, caller, "", map[string]string{"marker": in.Marker}, err)
	}
	return out, err
}

func (s *Service) listKeys(in *ListKeysInput, caller string) (*ListKeysOutput, error) {
	const op = keystate.ListKeys
	limit, err := pageLimit(op, in.Limit, 100, 1000)
	if err == nil {
		err = validateMarker(op, in.Marker)
	}
	if err == nil {
		err = s.authorizeIAM(op, "", "*", s.iamContext(false))
	}
	if err != nil {
		return nil, err
	}
	var (
		after   uint64
		afterID string
	)
	if in.Marker != "" {
		if after, afterID, err = decodeKeysMarker(op, in.Marker); err != nil {
			return nil, err
		}
	}
	// order is sorted by creation (seq, then key ID: in cluster mode two
	// nodes may give keys the same seq, D46): find the first key after the
	// marker's.
	order := s.rg.order
	lo := sort.Search(len(order), func(i int) bool {
		k := s.keyAt(order[i])
		return compareOrder(k.seq, k.id, after, afterID) > 0
	})
	out := &ListKeysOutput{Keys: []KeyListEntry{}}
	for _, slot := range order[lo:] {
		k := s.keyAt(slot)
		if k.state == keystate.Deleted || k.account != caller {
			continue
		}
		if len(out.Keys) == limit {
			out.Truncated = true
			out.NextMarker = encodeKeysMarker(after, afterID)
			break
		}
		out.Keys = append(out.Keys, KeyListEntry{KeyArn: s.arnOf(k), KeyId: k.id})
		after, afterID = k.seq, k.id
	}
	return out, nil
}

// keyRead runs an operation that reads one key named by key ID or key ARN:
// resolve it (D3 steps 1–5), check the key-state table and the key-kind
// rules (steps 6–7), run do, record the call and return. invalid is the
// result of the operation's own input validation, which comes first (D3
// step 1); when it is not nil nothing else runs.
func (s *Service) keyRead(ctx context.Context, op keystate.Operation, keyID string, how lookup, invalid error,
	params func() map[string]string, do func(k *key, now int64) error) error {
	return s.keyCall(ctx, op, keyID, how, invalid, false, numCondition{}, params, do)
}

// keyWrite is keyRead for an operation that changes the key: do changes a
// copy, which is written to the store (if any) and then installed; a
// refusal or a failed write leaves the key as it was.
func (s *Service) keyWrite(ctx context.Context, op keystate.Operation, keyID string, how lookup, invalid error,
	params func() map[string]string, do func(k *key, now int64) error) error {
	return s.keyCall(ctx, op, keyID, how, invalid, true, numCondition{}, params, do)
}

// keyCall is keyRead (write false) or keyWrite (write true); num, when its
// key is set, is a condition key of the request (see numCondition).
func (s *Service) keyCall(ctx context.Context, op keystate.Operation, keyID string, how lookup, invalid error, write bool,
	num numCondition, params func() map[string]string, do func(k *key, now int64) error) error {
	if s.cl != nil {
		return retriedErr(s, func() error { return s.keyCallOnce(ctx, op, keyID, how, invalid, write, num, params, do) })
	}
	return s.keyCallOnce(ctx, op, keyID, how, invalid, write, num, params, do)
}

// keyCallOnce is one run of keyCall (cluster mode may run it again).
func (s *Service) keyCallOnce(ctx context.Context, op keystate.Operation, keyID string, how lookup, invalid error, write bool,
	num numCondition, params func() map[string]string, do func(k *key, now int64) error) (err error) {
	now, caller, err := s.begin(ctx, op)
	defer s.end(op, &err)
	s.call.num = num
	s.call.trailing = op == keystate.DisableKey || op == keystate.ScheduleKeyDeletion // D74
	if err == nil {
		err = invalid
	}
	var (
		k     *key
		added []rotation
	)
	if err == nil {
		// The key's ARN is made only where it is used (an output, an
		// error, the observer's record): for most calls that change a
		// key, building it would be their only allocation.
		k, err = s.resolveKey(ctx, op, caller, keyID, "keyId", how)
	}
	if err == nil {
		// Only a refusal names the ARN.
		if err = s.checkState(op, k.state, k.kind, ""); err != nil {
			err = s.checkState(op, k.state, k.kind, s.arnOf(k))
		}
	}
	if err == nil && !write {
		err = do(k, now)
	}
	if err == nil && write {
		s.others, s.newPrimary = s.others[:0], nil
		nk := s.draft(k)
		if err = do(nk, now); err == nil {
			var before key
			if s.ec != nil {
				before = *k
			}
			if added, err = s.commitKey(k, nk); err != nil {
				err = internalError(op, s.arnOf(k), k.state, err)
			} else if s.ec != nil {
				s.ecKeyChanged(op, k, &before, added, now)
			}
		}
	}
	if s.observing() {
		p := map[string]string{"keyId": keyID}
		if params != nil {
			p = params()
		}
		arn := ""
		if k != nil {
			arn = s.arnOf(k)
		}
		s.record(now, op, caller, arn, p, err)
	}
	if err == nil {
		s.observeRotations(k, added)
	}
	return err
}

// transition moves k by event e. The key-state table has already been
// checked, so a refusal here is an internal inconsistency.
func transition(k *key, e keystate.Event) error {
	st, err := keystate.Transition(k.state, e)
	if err != nil {
		return err
	}
	k.state = st
	return nil
}

// EnableKey enables a key. A key whose automatic rotation fell due while it
// was disabled rotates at once and its schedule restarts from now
// (decision D12). On an Unavailable key (its custom key store is
// disconnected) the call succeeds and the key becomes Enabled when the
// store reconnects (footnote [12]); DisableKey likewise.
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException, KMSInvalidStateException (table a.2),
// UnsupportedOperationException (AWS managed keys, D15).
func (s *Service) EnableKey(ctx context.Context, in *EnableKeyInput) (*EnableKeyOutput, error) {
	in = orEmpty(in)
	err := s.keyWrite(ctx, keystate.EnableKey, in.KeyId, idOnly, nil, nil, func(k *key, now int64) error {
		wasDisabled := k.state == keystate.Disabled
		if k.state == keystate.Unavailable {
			k.desired = keystate.Enabled // footnote [12]: takes effect on reconnect
		}
		if err := transition(k, keystate.Enable); err != nil {
			return err
		}
		if wasDisabled && k.autoEnabled && k.nextRotation <= now && owns(s.orig(k)) {
			rotateAutomatic(k, now) // D12 catch-up (a replica rotates with its primary)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &EnableKeyOutput{}, nil
}

// DisableKey disables a key. A Disabled key never rotates (decision D12).
//
// Errors: as EnableKey.
func (s *Service) DisableKey(ctx context.Context, in *DisableKeyInput) (*DisableKeyOutput, error) {
	in = orEmpty(in)
	err := s.keyWrite(ctx, keystate.DisableKey, in.KeyId, idOnly, nil, nil, func(k *key, _ int64) error {
		if k.state == keystate.Unavailable {
			k.desired = keystate.Disabled // footnote [12]: takes effect on reconnect
		}
		return transition(k, keystate.Disable)
	})
	if err != nil {
		return nil, err
	}
	return &DisableKeyOutput{}, nil
}

// ScheduleKeyDeletion schedules a key's deletion PendingWindowInDays (7–30,
// default 30) from now. At DeletionDate the key, its rotation history and
// its aliases are removed (decision D7).
//
// Errors: ValidationException (PendingWindowInDays outside 7–30, D16),
// InvalidArnException, NotFoundException, AccessDeniedException,
// KMSInvalidStateException, UnsupportedOperationException (AWS managed
// keys, D15).
func (s *Service) ScheduleKeyDeletion(ctx context.Context, in *ScheduleKeyDeletionInput) (*ScheduleKeyDeletionOutput, error) {
	in = orEmpty(in)
	const op = keystate.ScheduleKeyDeletion
	var out *ScheduleKeyDeletionOutput
	window := int32(30)
	if in.PendingWindowInDays != nil {
		window = *in.PendingWindowInDays
	}
	params := func() map[string]string {
		return map[string]string{"keyId": in.KeyId, "pendingWindowInDays": strconv.Itoa(int(window))}
	}
	invalid := checkIntRange(op, window, "pendingWindowInDays", 7, 30) // D16
	ctx = withConditions(ctx, "kms:ScheduleKeyDeletionPendingWindowInDays", strconv.Itoa(int(window)))
	err := s.keyWrite(ctx, op, in.KeyId, idOnly, invalid, params, func(k *key, now int64) error {
		arn := s.arnOf(k)
		k.window = uint8(window)
		if hasReplicas(s.orig(k)) {
			// Section b: a primary with replicas waits, with no
			// DeletionDate, until its last replica is deleted.
			if err := transition(k, keystate.ScheduleDeletionWithReplicas); err != nil {
				return err
			}
			out = &ScheduleKeyDeletionOutput{KeyId: arn, KeyState: k.state.String(), PendingWindowInDays: window}
			return nil
		}
		if err := transition(k, keystate.ScheduleDeletion); err != nil {
			return err
		}
		k.deletion = now + days(uint16(window))
		d := fromMicros(k.deletion)
		out = &ScheduleKeyDeletionOutput{DeletionDate: &d, KeyId: arn, KeyState: k.state.String(), PendingWindowInDays: window}
		return nil
	})
	return out, err
}

// CancelKeyDeletion cancels a scheduled deletion. The key becomes Disabled
// (recorded real behaviour) and its automatic rotation setting comes back
// (decision D12). An EXTERNAL key becomes Disabled if its imported
// material is still there, and PendingImport if the material was deleted
// or expired (kmsmodel's choice; see below). A key in a custom key store
// that is not CONNECTED becomes Unavailable instead, and Disabled when the
// store reconnects (kmsmodel's choice; aws-kms-behaviour.md b leaves it
// open).
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException, KMSInvalidStateException (not pending deletion).
func (s *Service) CancelKeyDeletion(ctx context.Context, in *CancelKeyDeletionInput) (*CancelKeyDeletionOutput, error) {
	in = orEmpty(in)
	var out *CancelKeyDeletionOutput
	err := s.keyWrite(ctx, keystate.CancelKeyDeletion, in.KeyId, idOnly, nil, nil, func(k *key, _ int64) error {
		arn := s.arnOf(k)
		if err := transition(k, keystate.CancelDeletion); err != nil {
			return err
		}
		if k.kind.Origin == keystate.External && !k.imp.complete() {
			// aws-kms-behaviour.md b leaves open what an EXTERNAL key
			// whose material was deleted or expired while it was pending
			// deletion becomes. kmsmodel's choice: PendingImport, since
			// the key is usable only while its material is present (a.4);
			// with its material it becomes Disabled like any other key.
			if err := transition(k, keystate.MaterialLost); err != nil {
				return err
			}
		}
		if k.ck != nil && k.ck.store.state != ConnectionConnected {
			// aws-kms-behaviour.md b leaves open what a custom key store
			// key whose store is disconnected (or still connecting)
			// becomes. kmsmodel's choice: Unavailable like the store's
			// other keys, with Disabled as the state it returns to on
			// reconnect, as CancelKeyDeletion leaves any other key
			// Disabled.
			if err := transition(k, keystate.StoreDisconnect); err != nil {
				return err
			}
			k.desired = keystate.Disabled
		}
		k.deletion, k.window = 0, 0
		out = &CancelKeyDeletionOutput{KeyId: arn}
		return nil
	})
	return out, err
}

// UpdateKeyDescription replaces a key's description (0–8192 characters).
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException, KMSInvalidStateException.
func (s *Service) UpdateKeyDescription(ctx context.Context, in *UpdateKeyDescriptionInput) (*UpdateKeyDescriptionOutput, error) {
	in = orEmpty(in)
	const op = keystate.UpdateKeyDescription
	params := func() map[string]string { return map[string]string{"keyId": in.KeyId, "description": in.Description} }
	invalid := checkLength(op, in.Description, "description", 0, 8192)
	err := s.keyWrite(ctx, op, in.KeyId, idOnly, invalid, params, func(k *key, _ int64) error {
		k.text = newKeyText(in.Description, k.tags())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &UpdateKeyDescriptionOutput{}, nil
}
