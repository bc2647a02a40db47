package kms

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// Last usage (GetKeyLastUsage).
//
// The service remembers, per key, its last successful cryptographic
// operation: the operation, its instant, its request ID and an event ID
// that stands for CloudTrail's. It keeps them in memory only, for the keys
// used since it started (decision D31): a cryptographic call is not worth a
// store write, and AWS's own answer has the same shape after a gap in its
// records. TrackingStartDate is when the service started (its first clock
// reading after New or Open), or the key's creation if later, so that a
// reopened service says "no record since tracking began" rather than
// "never used" for a key created before it started.

type requestIDKey struct{}

// WithRequestID returns a context whose calls carry the request ID id, as
// kmshttp's handler sets it from the X-Amzn-RequestId it answers with.
// GetKeyLastUsage reports the request ID of a key's last use. Without one
// the service makes one up (the same form, from its own counter).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID WithRequestID put in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// lastUse is a key's last successful cryptographic operation. The IDs it
// makes up (madeUpID) are made when asked for, not on every call.
type lastUse struct {
	op        keystate.Operation
	at        int64  // Unix µs
	seq       uint64 // the use's number, for made-up IDs
	requestID string // as given (WithRequestID), or "" for a made-up one
	eventID   string // as another node gave it (MergeKeyUses), or "" for a made-up one
}

// markUsed records op, at now, as k's last use. The caller holds s.mu.
func (s *Service) markUsed(ctx context.Context, k *key, op keystate.Operation, now int64) {
	if s.usage == nil {
		s.usage = make(map[uint32]lastUse)
	}
	s.useSeq++
	use := lastUse{op: op, at: now, seq: s.useSeq, requestID: RequestID(ctx)}
	if s.cfg.shareUsage {
		// D79: a use another node made, merged here, that comes after
		// this one stays the last, as on that node.
		if held, ok := s.usage[k.slot]; ok && !s.laterUse(use, held) {
			return
		}
		if s.useDirty == nil {
			s.useDirty = make(map[uint32]struct{})
		}
		s.useDirty[k.slot] = struct{}{}
	}
	s.usage[k.slot] = use
}

// trackingStart is k's TrackingStartDate (D31): the service's first clock
// reading, or k's creation if later.
func (s *Service) trackingStart(k *key) int64 { return max(s.trackStart, k.created) }

// trailingDays is k's kms:TrailingDaysWithoutKeyUsage at the call's
// instant (D74): the whole days since its last use that this service saw,
// or, without one, since its TrackingStartDate (GetKeyLastUsage's). The
// caller holds s.mu.
func (s *Service) trailingDays(k *key) int64 {
	since := s.trackingStart(k)
	if u, ok := s.usage[k.slot]; ok {
		since = u.at
	}
	return max(0, (s.last-since)/usPerDay)
}

// madeUpID is an ID in UUID form made of an instant and a counter, unique
// within the service: kmsmodel's stand-in for a request or CloudTrail
// event ID that nobody gave it. It draws nothing from the randomness
// source, so that recording usage leaves seeded runs as they were.
func (s *Service) madeUpID(now int64, seq uint64, kind byte) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now))
	binary.BigEndian.PutUint64(b[8:], seq)
	b[6] = b[6]&0x0f | 0x80 // version 8: custom
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	b[15] ^= kind
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexDigitsLower[c>>4], hexDigitsLower[c&15]
		j += 2
	}
	return string(out[:])
}

// GetKeyLastUsageInput is the input of GetKeyLastUsage. KeyId is a key ID
// or key ARN of the caller's own account (no alias, no other account).
type GetKeyLastUsageInput struct {
	KeyId string
}

// KeyLastUsage is a key's last successful cryptographic operation. Every
// member is empty when there is none since TrackingStartDate (AWS answers
// an empty object).
type KeyLastUsage struct {
	// Operation is one of Decapsulate, Decrypt, DeriveSharedSecret,
	// Encapsulate, Encrypt, GenerateDataKey, GenerateDataKeyPair,
	// GenerateDataKeyPairWithoutPlaintext, GenerateDataKeyWithoutPlaintext,
	// GenerateMac, ReEncrypt, Sign, Verify and VerifyMac.
	Operation         string
	Timestamp         *time.Time
	CloudTrailEventId string
	KmsRequestId      string
}

// GetKeyLastUsageOutput is the output of GetKeyLastUsage.
type GetKeyLastUsageOutput struct {
	KeyId             string // the key ARN (decision D31)
	KeyLastUsage      KeyLastUsage
	TrackingStartDate time.Time
	KeyCreationDate   time.Time
}

// GetKeyLastUsage returns a key's last successful cryptographic operation
// since TrackingStartDate: when the service started, or the key's creation
// if later (decision D31). Failed calls do not count; ReEncrypt counts for
// both its keys; each key of a multi-Region key counts its own calls. It
// works in every key state.
//
// Errors: ValidationException, InvalidArnException, NotFoundException (an
// alias, or another account's key: not accepted), AccessDeniedException.
func (s *Service) GetKeyLastUsage(ctx context.Context, in *GetKeyLastUsageInput) (*GetKeyLastUsageOutput, error) {
	in = orEmpty(in)
	var out *GetKeyLastUsageOutput
	err := s.keyRead(ctx, keystate.GetKeyLastUsage, in.KeyId, idOnly, nil, func() map[string]string {
		return map[string]string{"keyId": in.KeyId}
	}, func(k *key, _ int64) error {
		arn := s.arnOf(k)
		out = &GetKeyLastUsageOutput{KeyId: arn, KeyCreationDate: fromMicros(k.created),
			TrackingStartDate: fromMicros(s.trackingStart(k))}
		if u, ok := s.usage[k.slot]; ok {
			t := fromMicros(u.at)
			reqID, evID := s.useIDs(u)
			out.KeyLastUsage = KeyLastUsage{Operation: u.op.String(), Timestamp: &t,
				CloudTrailEventId: evID, KmsRequestId: reqID}
		}
		return nil
	})
	return out, err
}
