package kms

import (
	"context"
	"strconv"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// conflictWindow is how close an automatic rotation must be for
// RotateKeyOnDemand to refuse with ConflictException (decision D9).
const conflictWindow = int64(20 * time.Minute / time.Microsecond)

// EnableKeyRotation turns on automatic rotation of a customer managed
// symmetric key, every RotationPeriodInDays (90–2560; default 365, decision
// D21), the first rotation one period from now. On a key already rotating,
// a different period reschedules the next rotation from the last automatic
// rotation (or from when rotation was enabled), rotating at once if that
// instant has passed (decision D11); the same period changes nothing.
//
// Errors: ValidationException (D16), InvalidArnException,
// NotFoundException, AccessDeniedException, DisabledException,
// KMSInvalidStateException, UnsupportedOperationException (asymmetric,
// HMAC, imported material, custom key store, AWS managed or replica keys;
// D2a, D8, D15).
func (s *Service) EnableKeyRotation(ctx context.Context, in *EnableKeyRotationInput) (*EnableKeyRotationOutput, error) {
	in = orEmpty(in)
	const op = keystate.EnableKeyRotation
	period := int32(365)
	if in.RotationPeriodInDays != nil {
		period = *in.RotationPeriodInDays
	}
	invalid := checkIntRange(op, period, "rotationPeriodInDays", 90, 2560) // D16
	params := func() map[string]string {
		return map[string]string{"keyId": in.KeyId, "rotationPeriodInDays": strconv.Itoa(int(period))}
	}
	num := numCondition{"kms:RotationPeriodInDays", period}
	err := s.keyCall(ctx, op, in.KeyId, idOnly, invalid, true, num, params, func(k *key, now int64) error {
		p := uint16(period)
		switch {
		case !k.autoEnabled:
			k.autoEnabled, k.period, k.anchor = true, p, now
			k.nextRotation = now + days(p)
		case k.period == p:
			// D21: nothing changes.
		default:
			k.period = p
			if next := k.anchor + days(p); next > now {
				k.nextRotation = next
			} else {
				rotateAutomatic(k, now) // D11: overdue under the new period
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &EnableKeyRotationOutput{}, nil
}

// DisableKeyRotation turns off automatic rotation. It does not stop an
// on-demand rotation in progress.
//
// Errors: as EnableKeyRotation.
func (s *Service) DisableKeyRotation(ctx context.Context, in *DisableKeyRotationInput) (*DisableKeyRotationOutput, error) {
	in = orEmpty(in)
	err := s.keyWrite(ctx, keystate.DisableKeyRotation, in.KeyId, idOnly, nil, nil, func(k *key, _ int64) error {
		k.autoEnabled, k.nextRotation = false, 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &DisableKeyRotationOutput{}, nil
}

// GetKeyRotationStatus reports a key's automatic rotation setting and any
// on-demand rotation in progress, with the fields of decision D20. It
// accepts another account's key ARN. Asymmetric and HMAC keys report false
// (D8); a key pending deletion false (D12).
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException, KMSInvalidStateException,
// UnsupportedOperationException (imported material, custom key store).
func (s *Service) GetKeyRotationStatus(ctx context.Context, in *GetKeyRotationStatusInput) (*GetKeyRotationStatusOutput, error) {
	in = orEmpty(in)
	var out *GetKeyRotationStatusOutput
	err := s.keyRead(ctx, keystate.GetKeyRotationStatus, in.KeyId, crossAccount, nil, nil, func(k *key, _ int64) error {
		arn := s.arnOf(k)
		out = s.rotationStatus(k, arn)
		return nil
	})
	return out, err
}

func (s *Service) rotationStatus(k *key, arn string) *GetKeyRotationStatusOutput {
	out := &GetKeyRotationStatusOutput{KeyId: arn}
	pending := k.state == keystate.PendingDeletion || k.state == keystate.PendingReplicaDeletion
	if k.autoEnabled && !pending {
		out.KeyRotationEnabled = true
		out.RotationPeriodInDays = Int32(int32(k.period))
		next := fromMicros(k.nextRotation)
		out.NextRotationDate = &next
	}
	if k.onDemandStart != 0 {
		start := fromMicros(k.onDemandStart)
		out.OnDemandRotationStartDate = &start
	}
	return out
}

// RotateKeyOnDemand rotates a customer managed symmetric key now, whether
// or not automatic rotation is enabled, without moving the automatic
// schedule. The rotation completes after the configured duration (decision
// D10; at once by default); until then GetKeyRotationStatus shows
// OnDemandRotationStartDate. Each key may rotate on demand at most the
// configured quota of times over its life (decision D1; 10 by default).
//
// Under RulesCurrent a symmetric EXTERNAL key rotates too: to the
// material imported with ImportType NEW_KEY_MATERIAL and pending rotation,
// which becomes the current material (and, for a multi-Region primary, on
// every replica, each of which must have imported it first). Every
// ciphertext made under an earlier material still decrypts while that
// material is imported.
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException, DisabledException, KMSInvalidStateException
// (also, under RulesCurrent, an EXTERNAL key with no material pending
// rotation, recording 3f, or a primary whose replicas have not all
// imported it, D38), UnsupportedOperationException (asymmetric, HMAC,
// custom key store, AWS managed or replica keys, and under Rules2024
// imported material; D2, D2a, D8, D15), LimitExceededException (D1),
// ConflictException (D9).
func (s *Service) RotateKeyOnDemand(ctx context.Context, in *RotateKeyOnDemandInput) (*RotateKeyOnDemandOutput, error) {
	in = orEmpty(in)
	const op = keystate.RotateKeyOnDemand
	var out *RotateKeyOnDemandOutput
	err := s.keyWrite(ctx, op, in.KeyId, idOnly, nil, nil, func(k *key, now int64) error {
		arn := s.arnOf(k)
		external := k.kind.Origin == keystate.External
		if external {
			// RulesCurrent (footnote [7] refused it under Rules2024, D2a).
			if err := s.checkPending(op, k, arn); err != nil {
				return err
			}
		}
		if int(k.onDemand) >= s.cfg.onDemandQuota {
			// D1; D19 recorded wording.
			return kmsError(keystate.ErrLimitExceeded, op, arn, k.state,
				"The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: "+arn)
		}
		if k.onDemandStart != 0 {
			// D9; no recording of the message.
			return kmsError(keystate.ErrConflict, op, arn, k.state,
				"An on-demand rotation of "+arn+" is already in progress.")
		}
		if k.autoEnabled && k.state == keystate.Enabled && k.nextRotation-now <= conflictWindow {
			// D9; AWS's documented condition, in its words.
			return kmsError(keystate.ErrConflict, op, arn, k.state,
				"An automatic rotation of "+arn+" is currently in progress or scheduled to begin within the next 20 minutes.")
		}
		k.onDemand++
		if d := durMicros(s.cfg.onDemandDuration); d > 0 {
			k.onDemandStart, k.onDemandDone = now, now+d
			if external {
				c := k.imp.clone()
				c.more.pending.rotating = true // D38: permanently associated from now on
				k.imp = c
			}
		} else {
			k.rotations = appendRotation(k.rotations, newRotation(k.created, now, true))
			if external {
				rotateMaterial(k, k.imp.more.pending.id)
			}
		}
		out = &RotateKeyOnDemandOutput{KeyId: arn}
		return nil
	})
	return out, err
}

var includeKeyMaterialValues = []string{"ALL_KEY_MATERIAL", "ROTATIONS_ONLY"}

// importFields sets the fields of an imported material's entry.
func importFields(e *RotationsListEntry, sealed []byte, validTo int64, desc string) {
	e.KeyMaterialDescription = desc
	e.ImportState = "PENDING_IMPORT"
	if sealed != nil {
		e.ImportState = "IMPORTED"
		e.ExpirationModel = doesNotExpireModel
		if validTo != 0 {
			e.ExpirationModel = expiresModel
			v := fromMicros(validTo)
			e.ValidTo = &v
		}
	}
}

// ListKeyRotations lists a key's completed rotations, oldest first
// (decision D14), Limit (1–1000, default 100) at a time. With
// IncludeKeyMaterial ALL_KEY_MATERIAL the key's original material comes
// first, without RotationDate and RotationType.
//
// Under RulesCurrent an EXTERNAL symmetric key lists too: each entry of
// an imported material has its KeyMaterialId, ImportState,
// KeyMaterialDescription and, while imported, ExpirationModel and ValidTo;
// with ALL_KEY_MATERIAL the material pending rotation comes last
// (PENDING_ROTATION, or PENDING_MULTI_REGION_IMPORT_AND_ROTATION on a
// primary until every replica has imported it), decision D39.
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException, InvalidMarkerException, KMSInvalidStateException,
// UnsupportedOperationException (imported material, custom key store).
func (s *Service) ListKeyRotations(ctx context.Context, in *ListKeyRotationsInput) (*ListKeyRotationsOutput, error) {
	in = orEmpty(in)
	const op = keystate.ListKeyRotations
	limit, invalid := pageLimit(op, in.Limit, 100, 1000)
	if invalid == nil && in.IncludeKeyMaterial != "" {
		invalid = checkEnum(op, in.IncludeKeyMaterial, "includeKeyMaterial", includeKeyMaterialValues)
	}
	if invalid == nil {
		invalid = validateMarker(op, in.Marker)
	}
	var out *ListKeyRotationsOutput
	err := s.keyRead(ctx, op, in.KeyId, idOnly, invalid, nil, func(k *key, _ int64) error {
		// D14: a marker is good for this key's listing only; a replica
		// is another key than its primary (its store ID names its Region).
		scope := "rotations/" + s.storeID(k) + "/" + in.IncludeKeyMaterial
		var start uint64
		if in.Marker != "" {
			var err error
			if start, err = decodeMarker(op, in.Marker, scope); err != nil {
				return err
			}
		}
		// The listing is the original material (when asked for) followed by
		// the rotations; position i of it is material version v.
		all := in.IncludeKeyMaterial == "ALL_KEY_MATERIAL"
		// An EXTERNAL key lists its materials under RulesCurrent (the
		// table refuses it under Rules2024, D2a), once it has had one.
		external := k.kind.Origin == keystate.External && k.imp != nil && k.imp.id != ""
		mm := &moreMaterials{}
		if external && k.imp.more != nil {
			mm = k.imp.more
		}
		withOriginal := all && k.kind.Spec.IsSymmetric() && (k.kind.Origin == keystate.AWSKMS || external)
		withPending := all && external && mm.pending != nil
		total := uint64(len(k.rotations))
		first := uint64(1) // material version of position 0
		if withOriginal {
			total++
			first = 0
		}
		if withPending {
			total++
		}
		out = &ListKeyRotationsOutput{Rotations: []RotationsListEntry{}}
		if start > total {
			return invalidMarker(op, in.Marker)
		}
		current := uint64(len(k.rotations))
		for pos := start; pos < total; pos++ {
			if len(out.Rotations) == limit {
				out.Truncated, out.NextMarker = true, encodeMarker(scope, pos)
				break
			}
			v := pos + first
			if withPending && pos == total-1 {
				p := mm.pending
				e := RotationsListEntry{KeyId: k.id, KeyMaterialId: p.id, KeyMaterialState: s.pendingState(k)}
				importFields(&e, p.sealed, p.validTo, p.desc)
				out.Rotations = append(out.Rotations, e)
				continue
			}
			e := RotationsListEntry{KeyId: k.id, KeyMaterialState: "NON_CURRENT"}
			switch {
			case external && v == current:
				e.KeyMaterialId = k.imp.id
				importFields(&e, k.imp.sealed, k.imp.validTo, mm.desc)
			case external && v < uint64(len(mm.prior)):
				m := &mm.prior[v]
				e.KeyMaterialId = m.id
				importFields(&e, m.sealed, m.validTo, m.desc)
			default:
				e.KeyMaterialId = materialID(k.id, int(v))
			}
			if v == current {
				e.KeyMaterialState = "CURRENT"
			}
			if v > 0 {
				r := k.rotations[v-1]
				at := fromMicros(r.at(k.created))
				e.RotationDate, e.RotationType = &at, "AUTOMATIC"
				if r.onDemand() {
					e.RotationType = "ON_DEMAND"
				}
			}
			out.Rotations = append(out.Rotations, e)
		}
		return nil
	})
	return out, err
}
