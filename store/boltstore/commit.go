package boltstore

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kmsmodel/kmsmodel/store"
)

// request is one Apply call waiting for the commit loop: its group of
// batches, each encoded by the caller before it queues, so that encoding
// runs in parallel.
type request struct {
	parts []part
	err   error
	done  chan struct{}
}

// part is one batch of a request with its records encoded.
type part struct {
	b         *store.Batch
	keyVals   [][]byte // encoded b.PutKeys
	aliasKeys [][]byte // aliasKey of b.PutAliases
	aliasVals [][]byte // encoded b.PutAliases
	grantKeys [][]byte // grantKey of b.PutGrants
	grantVals [][]byte // encoded b.PutGrants
	secretVal []byte   // encoded (and sealed, with a wrapping key) b.PutSecret
	nowVal    []byte   // encoded b.Now; nil when it is zero
}

// newRequest encodes the batches of bs that write something.
func newRequest(bs []*store.Batch, wrap cipher.AEAD) *request {
	r := &request{done: make(chan struct{})}
	for _, b := range bs {
		if b == nil || b.Empty() {
			continue
		}
		r.parts = append(r.parts, newPart(b, wrap))
	}
	return r
}

func newPart(b *store.Batch, wrap cipher.AEAD) part {
	p := part{b: b}
	if len(b.PutSecret) > 0 {
		p.secretVal = encodeSecret(wrap, b.PutSecret)
	}
	if !b.Now.IsZero() {
		p.nowVal = encodeNow(b.Now)
	}
	if len(b.PutKeys) > 0 {
		p.keyVals = make([][]byte, len(b.PutKeys))
		for i := range b.PutKeys {
			p.keyVals[i] = encodeKey(&b.PutKeys[i])
		}
	}
	if len(b.PutAliases) > 0 {
		p.aliasKeys = make([][]byte, len(b.PutAliases))
		p.aliasVals = make([][]byte, len(b.PutAliases))
		for i := range b.PutAliases {
			p.aliasKeys[i] = aliasKey(b.PutAliases[i].AliasID)
			p.aliasVals[i] = encodeAlias(p.aliasKeys[i], &b.PutAliases[i])
		}
	}
	if len(b.PutGrants) > 0 {
		p.grantKeys = make([][]byte, len(b.PutGrants))
		p.grantVals = make([][]byte, len(b.PutGrants))
		for i := range b.PutGrants {
			g := &b.PutGrants[i]
			p.grantKeys[i] = grantKey(g.KeyID, g.GrantID)
			p.grantVals[i] = encodeGrant(p.grantKeys[i], g)
		}
	}
	return p
}

// commitLoop is the store's one writer. It takes the first waiting request,
// then every other one already queued (up to maxGroup), and commits them in
// one log record: with n concurrent writers a commit carries about n
// batches, and one fsync serves them all.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	group := make([]*request, 0, maxGroup)
	for r := range s.reqs {
		group = append(group[:0], r)
	drain:
		for len(group) < maxGroup {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
			default:
				break drain
			}
		}
		s.writing.Lock()
		s.commit(group)
		s.writing.Unlock()
		for i, r := range group {
			close(r.done)
			group[i] = nil
		}
	}
}

// writeError is a failure of one request's writes (as opposed to its batch
// not fitting): the shared transaction must be rolled back.
type writeError struct {
	r   *request
	err error
}

func (e *writeError) Error() string { return e.err.Error() }

// commit applies group in the open write transaction (beginning one if
// there is none) and appends its writes to the log as one record, synced,
// setting each request's err. A request of one batch that does not fit
// fails alone, having written nothing. A request whose writes fail, or one
// of several batches one of which does not fit (its earlier batches are
// written by then), makes the group's writes be undone (restore), and
// then each request is retried on its own. The caller holds s.writing.
func (s *Store) commit(group []*request) {
	if s.broken != nil {
		for _, r := range group {
			r.err = s.broken
		}
		return
	}
	s.h.wal.ops = s.h.wal.ops[:0]
	err := guard(s.path, "write to", func() error {
		if s.h.wtx == nil {
			tx, err := s.h.db.Begin(true)
			if err != nil {
				return err
			}
			s.h.wtx = tx
		}
		for _, r := range group {
			for i := range r.parts {
				fit, err := s.applyBatch(s.h.wtx, &r.parts[i])
				if err == nil && fit != nil && len(r.parts) > 1 {
					err = fit // its earlier batches are written: undo
				}
				if err != nil {
					return &writeError{r, err}
				}
				if r.err = fit; fit != nil {
					break
				}
			}
		}
		return nil
	})
	if err == nil && len(s.h.wal.ops) > 0 {
		err = s.log()
	}
	var we *writeError
	switch {
	case err == nil:
	case errors.As(err, &we):
		if rerr := s.restore(); rerr != nil {
			s.fail(rerr)
			for _, r := range group {
				r.err = rerr
			}
			return
		}
		if len(group) == 1 {
			we.r.err = we.err
			return
		}
		for _, r := range group {
			r.err = nil
			s.commit([]*request{r})
		}
	default:
		switch {
		case s.broken != nil: // the log could not be written
		case errors.Is(err, store.ErrCorrupt):
			s.fail(err) // bbolt panicked: do not write to this file again
		default:
			err = fmt.Errorf("boltstore: commit to %s: %w", s.path, err)
			if rerr := s.restore(); rerr != nil {
				s.fail(rerr)
			}
		}
		for _, r := range group {
			r.err = err
		}
	}
}

// log appends the group's writes (s.h.wal.ops), made in s.h.wtx, to the
// log, and checkpoints when the log is long enough. When the log has no
// room and cannot grow (a full disk), the group fails and the log is as
// it was. When the record cannot be written the store is broken: it may
// be in the file in part, or whole.
func (s *Store) log() error {
	if err := s.h.wal.reserve(len(s.h.wal.ops)); err != nil {
		return fmt.Errorf("%s: %w", s.h.wal.path, err)
	}
	if err := s.h.wal.append(s.h.wal.ops); err != nil {
		err = fmt.Errorf("boltstore: write to %s: %w", s.h.wal.path, err)
		s.h.wal.unwrite()
		s.fail(err)
		return err
	}
	s.dirty.Store(true)
	if s.h.wal.off >= walCheckpoint {
		// The group is durable in the log: a failed checkpoint does not
		// fail it (the next one tries again).
		_ = s.checkpoint()
	}
	return nil
}

// checkpoint commits the open write transaction, which holds every group
// logged since the last checkpoint, and starts the log over. If bbolt
// fails to commit, the transaction is made again from the log's records
// (restore). It returns the store's error if it is broken. The caller
// holds s.writing.
func (s *Store) checkpoint() error {
	if s.broken != nil {
		return s.broken
	}
	if s.h.wtx == nil {
		return nil
	}
	tx := s.h.wtx
	s.h.wtx = nil
	if err := guard(s.path, "write to", tx.Commit); err != nil {
		if errors.Is(err, store.ErrCorrupt) {
			s.h.wtx = tx // for fail to roll back
			s.fail(err)
			return err
		}
		err = fmt.Errorf("boltstore: commit to %s: %w", s.path, err)
		if rerr := s.restore(); rerr != nil {
			s.fail(rerr)
			return rerr
		}
		return err
	}
	s.dirty.Store(false)
	if err := s.h.wal.reset(s.h.wal.next); err != nil {
		err = fmt.Errorf("boltstore: write to %s: %w", s.h.wal.path, err)
		s.fail(err)
		return err
	}
	return nil
}

// restore rolls the open write transaction back and, if groups were
// logged since the last checkpoint, begins another with their writes
// (read back from the log): it undoes the writes of a group that failed. The
// caller holds s.writing.
func (s *Store) restore() error {
	return guard(s.path, "write to", func() error {
		if s.h.wtx != nil {
			tx := s.h.wtx
			s.h.wtx = nil
			if err := tx.Rollback(); err != nil {
				return err
			}
		}
		logged, err := s.h.wal.logged()
		if err != nil || len(logged) == 0 {
			return err
		}
		tx, err := s.h.db.Begin(true)
		if err != nil {
			return err
		}
		for _, p := range logged {
			if err := replay(tx, p); err != nil {
				_ = tx.Rollback()
				return err
			}
		}
		s.h.wtx = tx
		return nil
	})
}

// fail breaks the store with err: every later Apply returns it, and so
// does every read while groups are logged that the file does not hold
// (the next Open applies them). The open write transaction is rolled
// back. The caller holds s.writing.
func (s *Store) fail(err error) {
	s.broken = err
	if tx := s.h.wtx; tx != nil {
		s.h.wtx = nil
		_ = guard(s.path, "write to", tx.Rollback)
	}
}

// applyBatch validates p's batch against tx (which holds the effects of
// the batches before it in the transaction) and writes it. It returns fit, the
// batch's misfit (ErrExists, ErrConflict, ErrNotFound) with nothing
// written, or err, a failure to read or write the file after which the
// transaction must be rolled back.
func (s *Store) applyBatch(tx *bolt.Tx, r *part) (fit, err error) {
	b := r.b
	keys := bucket(tx, walKeys, &s.h.wal.ops)
	aliases := bucket(tx, walAliases, &s.h.wal.ops)

	var readErr error
	version := func(id string) (uint64, bool) {
		v := keys.Get([]byte(id))
		if v == nil {
			return 0, false
		}
		ver, err := decodeKeyVersion([]byte(id), v)
		if err != nil && readErr == nil {
			readErr = s.corruptRecord("key", id, err)
		}
		return ver, true
	}
	aliasExists := func(id store.AliasID) bool { return aliases.Get(aliasKey(id)) != nil }
	fit = b.Validate(version, aliasExists)
	stores := bucket(tx, walStores, &s.h.wal.ops)
	if fit == nil {
		fit = b.ValidateCustomKeyStores(func(id string) bool { return stores.Get([]byte(id)) != nil })
	}
	grants := bucket(tx, walGrants, &s.h.wal.ops)
	if fit == nil {
		fit = b.ValidateGrants(func(id string) bool { return keys.Get([]byte(id)) != nil },
			func(id store.GrantID) bool { return grants.Get(grantKey(id.KeyID, id.GrantID)) != nil })
	}
	if readErr != nil {
		return nil, readErr
	}
	if fit != nil {
		return fit, nil
	}
	// A store holds one secret for its life. The check reads this
	// transaction, which holds the batches before b in its group, and
	// comes before any write of b: of batches racing to put the secret,
	// exactly one does, and the others write nothing.
	meta := bucket(tx, walMeta, &s.h.wal.ops)
	if r.secretVal != nil && meta.Get(metaSecret) != nil {
		return fmt.Errorf("root secret: %w", store.ErrExists), nil
	}

	// The instant is written only when it is later than the stored one
	// (which the batches before b in the group may have written).
	putNow := false
	if r.nowVal != nil {
		var stored time.Time
		if v := meta.Get(metaNow); v != nil {
			if stored, err = decodeNow(v); err != nil {
				return nil, s.corruptRecord("meta record", metaNow, err)
			}
		}
		putNow = b.Now.After(stored)
	}

	if r.secretVal != nil {
		if err := meta.Put(metaSecret, r.secretVal); err != nil {
			return nil, fmt.Errorf("boltstore: root secret: %w", err)
		}
	}
	if putNow {
		if err := meta.Put(metaNow, r.nowVal); err != nil {
			return nil, fmt.Errorf("boltstore: latest instant: %w", err)
		}
	}
	if b.RuleProfile != "" {
		if err := meta.Put(metaProfile, encodeProfile(b.RuleProfile)); err != nil {
			return nil, fmt.Errorf("boltstore: rule profile: %w", err)
		}
	}

	for i := range b.PutCustomKeyStores {
		c := &b.PutCustomKeyStores[i]
		if err := stores.Put([]byte(c.ID), encodeStore(c)); err != nil {
			return nil, fmt.Errorf("boltstore: custom key store %.64q: %w", c.ID, err)
		}
	}

	for i := range b.PutKeys {
		if err := keys.Put([]byte(b.PutKeys[i].ID), r.keyVals[i]); err != nil {
			return nil, fmt.Errorf("boltstore: key %.64q: %w", b.PutKeys[i].ID, err)
		}
	}

	rotations := bucket(tx, walRotations, &s.h.wal.ops)
	for _, kr := range b.AddRotations {
		prefix := keyPrefix(kr.KeyID, 4)
		i, err := nextRotationIndex(rotations.Bucket, prefix)
		if err != nil {
			return nil, fmt.Errorf("boltstore: rotation of key %.64q: %w", kr.KeyID, err)
		}
		k := rotationKey(prefix, i)
		if err := rotations.Put(k, encodeRotation(k, kr.Rotation)); err != nil {
			return nil, fmt.Errorf("boltstore: rotation of key %.64q: %w", kr.KeyID, err)
		}
	}

	index := bucket(tx, walKeyAliases, &s.h.wal.ops)
	for i := range b.PutAliases {
		a := &b.PutAliases[i]
		ak := r.aliasKeys[i]
		if old := aliases.Get(ak); old != nil {
			oldKeyID, err := decodeAliasKeyID(ak, old)
			if err != nil {
				return nil, s.corruptRecord("alias", a.Name, err)
			}
			if oldKeyID != a.KeyID {
				if err := index.Delete(indexKey(oldKeyID, ak)); err != nil {
					return nil, err
				}
			}
		}
		if err := aliases.Put(ak, r.aliasVals[i]); err != nil {
			return nil, fmt.Errorf("boltstore: alias %.64q: %w", a.Name, err)
		}
		if err := index.Put(indexKey(a.KeyID, ak), []byte{}); err != nil {
			return nil, fmt.Errorf("boltstore: alias %.64q: %w", a.Name, err)
		}
	}

	for _, id := range b.DeleteAliases {
		ak := aliasKey(id)
		old := aliases.Get(ak)
		if old == nil {
			continue // Validate saw it; cannot happen
		}
		keyID, err := decodeAliasKeyID(ak, old)
		if err != nil {
			return nil, s.corruptRecord("alias", id.Name, err)
		}
		if err := index.Delete(indexKey(keyID, ak)); err != nil {
			return nil, err
		}
		if err := aliases.Delete(ak); err != nil {
			return nil, err
		}
	}

	for i := range b.PutGrants {
		if err := grants.Put(r.grantKeys[i], r.grantVals[i]); err != nil {
			return nil, fmt.Errorf("boltstore: grant %.64q of key %.64q: %w", b.PutGrants[i].GrantID, b.PutGrants[i].KeyID, err)
		}
	}
	for _, id := range b.DeleteGrants {
		if err := grants.Delete(grantKey(id.KeyID, id.GrantID)); err != nil {
			return nil, err
		}
	}

	for _, id := range b.DeleteKeys {
		if err := keys.Delete([]byte(id)); err != nil {
			return nil, err
		}
		prefix := keyPrefix(id, 0)
		if err := deletePrefix(rotations, prefix, nil); err != nil {
			return nil, err
		}
		if err := deletePrefix(grants, prefix, nil); err != nil {
			return nil, err
		}
		err := deletePrefix(index, prefix, func(k []byte) error {
			return aliases.Delete(k[len(prefix):])
		})
		if err != nil {
			return nil, err
		}
	}

	for _, id := range b.DeleteCustomKeyStores {
		if err := stores.Delete([]byte(id)); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// indexKey is the keyaliases entry of alias key ak naming keyID.
func indexKey(keyID string, ak []byte) []byte {
	return append(keyPrefix(keyID, len(ak)), ak...)
}

// nextRotationIndex returns the index the next rotation of the key with
// the given prefix takes: one more than its last, or 0.
func nextRotationIndex(b *bolt.Bucket, prefix []byte) (uint32, error) {
	c := b.Cursor()
	k, _ := c.Seek(rotationKey(prefix, math.MaxUint32))
	switch {
	case k != nil && hasPrefixLen(k, prefix, 4):
		return 0, errors.New("too many rotations")
	case k == nil:
		k, _ = c.Last()
	default:
		k, _ = c.Prev()
	}
	if k != nil && hasPrefixLen(k, prefix, 4) {
		return binary.BigEndian.Uint32(k[len(prefix):]) + 1, nil
	}
	return 0, nil
}

// deletePrefix deletes every entry of b whose key starts with prefix,
// calling each (if not nil) with the key first.
func deletePrefix(b walBucket, prefix []byte, each func(k []byte) error) error {
	var doomed [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
		doomed = append(doomed, append([]byte(nil), k...))
	}
	for _, k := range doomed {
		if each != nil {
			if err := each(k); err != nil {
				return err
			}
		}
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
