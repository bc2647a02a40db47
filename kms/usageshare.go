package kms

import (
	"context"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// Sharing GetKeyLastUsage's records between the nodes of a cluster (D79).
//
// Each service keeps its keys' last uses in memory (D31), for the calls
// it answered. In a cluster, a use on one node would then be missing from
// GetKeyLastUsage and kms:TrailingDaysWithoutKeyUsage (D74) on the others.
// With WithKeyUsageSharing a service notes which keys its calls used;
// TakeKeyUses hands their last uses (and the deletions of keys it held a
// use of) to whatever carries them to the other nodes, and MergeKeyUses
// takes theirs in: a use later than the one a node holds replaces it,
// with its operation, instant and IDs as the node that answered gave
// them. Every node then answers alike once the uses have reached it.
// kmssim serve --etcd --share-key-usage carries them through etcd; a
// program running several services over store.SharedMemory can hand
// them over itself (ExampleService_MergeKeyUses).

// KeyUse is a key's last successful cryptographic operation as one
// service hands it to another (TakeKeyUses, MergeKeyUses), or, with Gone
// set, word that the key was deleted.
type KeyUse struct {
	KeyArn    string    // the key's ARN
	Operation string    // as GetKeyLastUsage names it (Encrypt, Sign, …)
	At        time.Time // when it happened, as the service's clock read
	RequestID string    // GetKeyLastUsage's KmsRequestId
	EventID   string    // GetKeyLastUsage's CloudTrailEventId
	// Gone says that the key was deleted, and the other fields hold the
	// last use the service held of it: what carries the uses may forget
	// that use and earlier ones (a key created again under the ARN, as a
	// multi-Region replica may be, has later ones). TakeKeyUses sets it;
	// MergeKeyUses skips such entries.
	Gone bool
}

// WithKeyUsageSharing makes the service note the keys its calls use, for
// TakeKeyUses (decision D79), and keep a key's last use when its own call
// comes before one MergeKeyUses took in (as recorded: see MergeKeyUses).
// The service keeps what it notes until TakeKeyUses hands it out: call it
// regularly. Without the option TakeKeyUses returns nothing.
func WithKeyUsageSharing() Option { return func(c *config) { c.shareUsage = true } }

// WithTrackingStart sets the instant the service began tracking key usage,
// GetKeyLastUsage's TrackingStartDate for keys created before it (D31),
// instead of its first clock reading: the nodes of a cluster that share
// their uses (D79) share this instant too, whenever each started.
func WithTrackingStart(t time.Time) Option {
	return func(c *config) { c.trackStart, c.trackStartSet = t.UnixMicro(), true }
}

// TakeKeyUses appends to dst, with Gone set, the last use of each key
// deleted since the previous TakeKeyUses that had one, then the last use
// of each key that a call to the service used since (a key created again
// under a deleted key's ARN, as a multi-Region replica may be, comes
// after its deletion), and returns the extended slice. It needs
// WithKeyUsageSharing. Uses that MergeKeyUses took in are not handed out
// again.
func (s *Service) TakeKeyUses(dst []KeyUse) []KeyUse {
	s.mu.Lock()
	defer s.mu.Unlock()
	dst = append(dst, s.usageGone...)
	clear(s.usageGone)
	s.usageGone = s.usageGone[:0]
	for slot := range s.useDirty {
		if u, ok := s.usage[slot]; ok {
			dst = append(dst, s.keyUse(s.keyAt(slot), u))
		}
	}
	clear(s.useDirty)
	return dst
}

// keyUse is u, k's last use, as TakeKeyUses hands it out.
func (s *Service) keyUse(k *key, u lastUse) KeyUse {
	reqID, evID := s.useIDs(u)
	return KeyUse{KeyArn: s.arnOf(k), Operation: u.op.String(), At: fromMicros(u.at), RequestID: reqID, EventID: evID}
}

// useIDs returns the request and event IDs of u, made up when it has
// none of its own.
func (s *Service) useIDs(u lastUse) (reqID, evID string) { return s.requestIDOf(u), s.eventIDOf(u) }

// requestIDOf is u's request ID, made up when it has none of its own.
func (s *Service) requestIDOf(u lastUse) string {
	if u.requestID != "" {
		return u.requestID
	}
	return s.madeUpID(u.at, u.seq, 0)
}

// eventIDOf is u's event ID, made up when it has none of its own.
func (s *Service) eventIDOf(u lastUse) string {
	if u.eventID != "" {
		return u.eventID
	}
	return s.madeUpID(u.at, u.seq, 1)
}

// MergeKeyUses records each use in uses as its key's last use when it is
// later than the one the service holds: by At, then by RequestID,
// Operation and EventID, so that services that take in each other's uses
// end with the same one, whatever the order they see them in. (Later as
// recorded: two services whose clocks differ order their uses by their
// own clocks.) In cluster mode it first catches up with the cluster (with
// stale reads too), so that the keys the uses name are as the node that
// used them saw them: a key created on another node before it was used
// is known here, and a key deleted and created again under its ARN (a
// multi-Region replica) is the new one. Uses of keys the service does not
// hold then (deleted, or never created), uses from before their key's
// creation (of a former key of the ARN), entries with Gone set, and
// entries whose ARN or operation is not valid are skipped; it returns how
// many uses it recorded. Merged uses are not handed out again by
// TakeKeyUses.
func (s *Service) MergeKeyUses(ctx context.Context, uses []KeyUse) (int, error) {
	if err := s.catchUpLatest(ctx); err != nil {
		return 0, err
	}
	return s.mergeKeyUses(uses), nil
}

// mergeKeyUses merges the uses of the keys the service holds, and returns
// how many it recorded.
func (s *Service) mergeKeyUses(uses []KeyUse) (merged int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range uses {
		u := &uses[i]
		if u.Gone {
			continue
		}
		op, ok := keystate.ParseOperation(u.Operation)
		if !ok || !countsAsUse(op) {
			continue
		}
		a, ok := parseARN(u.KeyArn)
		if !ok || a.keyID == "" {
			continue
		}
		r := s.findRegion(a.region)
		var k *key
		if r != nil && r.served() && r.partition == a.partition {
			k = r.keys.get(a.keyID)
		}
		if k == nil || k.account != a.account {
			continue
		}
		use := lastUse{op: op, at: u.At.UnixMicro(), requestID: u.RequestID, eventID: u.EventID}
		if use.at < k.created {
			continue // a former key's of the ARN
		}
		if held, ok := s.usage[k.slot]; ok && !s.laterUse(use, held) {
			continue
		}
		if s.usage == nil {
			s.usage = make(map[uint32]lastUse)
		}
		s.usage[k.slot] = use
		delete(s.useDirty, k.slot) // the other node's own: not handed back
		merged++
	}
	return merged
}

// laterUse says whether use comes after held: by instant, then request
// ID, operation and event ID (made-up IDs as GetKeyLastUsage shows them).
//
// It makes up no ID it need not: IDs this service made up at one instant
// compare as their numbers do, and a call's own request ID is compared
// as given.
func (s *Service) laterUse(use, held lastUse) bool {
	if use.at != held.at {
		return use.at > held.at
	}
	if use.requestID == "" && held.requestID == "" {
		if use.seq != held.seq {
			return use.seq > held.seq // madeUpID(at, seq, 0) orders as seq
		}
	} else if ur, hr := s.requestIDOf(use), s.requestIDOf(held); ur != hr {
		return ur > hr
	}
	if uo, ho := use.op.String(), held.op.String(); uo != ho {
		return uo > ho
	}
	return s.eventIDOf(use) > s.eventIDOf(held)
}

// noteGone notes for TakeKeyUses that k, whose last use was u, is
// deleted. The caller holds s.mu.
func (s *Service) noteGone(k *key, u lastUse) {
	g := s.keyUse(k, u)
	g.Gone = true
	s.usageGone = append(s.usageGone, g)
}

// countsAsUse says whether op is among the operations GetKeyLastUsage
// reports (spec aws-kms-asymmetric-hmac.md §10).
func countsAsUse(op keystate.Operation) bool {
	switch op {
	case keystate.Decrypt, keystate.DeriveSharedSecret, keystate.Encrypt, keystate.GenerateDataKey,
		keystate.GenerateDataKeyPair, keystate.GenerateDataKeyPairWithoutPlaintext,
		keystate.GenerateDataKeyWithoutPlaintext, keystate.GenerateMac, keystate.ReEncrypt,
		keystate.Sign, keystate.Verify, keystate.VerifyMac, keystate.Encapsulate, keystate.Decapsulate:
		return true
	}
	return false
}

// forgetUse drops k's last use, which its deletion ends, and notes the
// deletion for TakeKeyUses when k had one. The caller holds s.mu.
func (s *Service) forgetUse(k *key) {
	if u, ok := s.usage[k.slot]; ok && s.cfg.shareUsage {
		s.noteGone(k, u)
	}
	delete(s.usage, k.slot)
	delete(s.useDirty, k.slot)
}
