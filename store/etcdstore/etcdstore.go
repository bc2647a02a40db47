package etcdstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/kmsmodel/kmsmodel/store"
)

// DefaultPrefix is the key prefix of a store whose Options.Prefix is empty.
const DefaultPrefix = "kmsmodel/"

// DefaultMaxTxnOps is the MaxTxnOps of Options that leave it zero: etcd's
// own default for --max-txn-ops.
const DefaultMaxTxnOps = 128

// scanPage is how many records a listing reads per etcd request.
const scanPage = 1000

// Options configure Open and New.
type Options struct {
	// Endpoints, DialTimeout, TLS, Username and Password are the etcd
	// client's (clientv3.Config); Open uses them, New ignores them.
	Endpoints   []string
	DialTimeout time.Duration
	TLS         *tls.Config
	Username    string
	Password    string
	// Prefix is the etcd key prefix under which the store keeps every
	// record (DefaultPrefix when empty). Stores under different prefixes
	// of one cluster are independent; a prefix that does not end in "/"
	// gets one.
	Prefix string
	// WrappingKey is the 32-byte AES-256-GCM key under which the root
	// secret is stored. It is required, and must be the same every time
	// the store (its prefix on its cluster) is opened: Open checks it.
	WrappingKey []byte
	// MaxTxnOps is the most operations (comparisons, or writes) the store
	// puts in one etcd transaction: at most the cluster's --max-txn-ops
	// (etcd's default, and DefaultMaxTxnOps, is 128). A group that needs
	// more fails with ErrTooManyOps and writes nothing; a group of one
	// operation needs a few per record it writes (a new key with an alias
	// and a rotation: about eight), and deleting a key one more per alias
	// and grant it has. Reads use it as their batch size.
	MaxTxnOps int
}

// ErrWrongWrappingKey is returned by Open and New (wrapped) when
// Options.WrappingKey is not the key the store's records were sealed
// under, or is missing or not 32 bytes.
var ErrWrongWrappingKey = errors.New("etcdstore: wrong or missing wrapping key")

// Store is a store.Shared over an etcd key space. It is safe for
// concurrent use.
type Store struct {
	cli    *clientv3.Client
	owned  bool
	l      layout
	aead   cipher.AEAD
	maxOps int
	closed atomic.Bool

	revMu       sync.Mutex
	revInflight *revCall
	revNext     *revCall
	revRequests atomic.Int64
	// rr, when not nil, makes the revision reads over a connection of
	// its own (rangeconn.go).
	rr *rangeReader
	// applyRequests counts the etcd transactions of Apply and ApplyAt.
	applyRequests atomic.Int64
	// keyMetas is what the store last saw of keys' records, so that a
	// group replacing them may skip reading them (assume).
	keyMetas keyMetas
}

var (
	_ store.Shared = (*Store)(nil)
	_ store.Store  = (*view)(nil)
)

// Open connects to the etcd cluster at opts.Endpoints and opens the store
// under opts.Prefix there; Close closes the connection. It returns
// ErrWrongWrappingKey, store.ErrCorrupt when the prefix holds records that
// are not a store's, or the client's error.
func Open(opts Options) (*Store, error) {
	if err := checkOptions(opts); err != nil {
		return nil, err
	}
	cli, err := Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: connect: %w", err)
	}
	s, err := New(cli, opts)
	if err != nil {
		cli.Close()
		return nil, err
	}
	s.owned = true
	s.rr = newRangeReader(opts)
	return s, nil
}

// Dial connects to the etcd cluster of opts as Open does (its Endpoints,
// DialTimeout, TLS, Username and Password; the client logs nothing), for
// a program that keeps records of its own beside the store's, under the
// same prefix, as kmssim serve does. The caller closes the client.
func Dial(opts Options) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:   opts.Endpoints,
		DialTimeout: opts.DialTimeout,
		TLS:         opts.TLS,
		Username:    opts.Username,
		Password:    opts.Password,
		Logger:      zap.NewNop(),
	})
}

func checkOptions(opts Options) error {
	if len(opts.WrappingKey) != 32 {
		return fmt.Errorf("etcdstore: Options.WrappingKey must be 32 bytes (AES-256), got %d: %w", len(opts.WrappingKey), ErrWrongWrappingKey)
	}
	if opts.MaxTxnOps < 0 {
		return fmt.Errorf("etcdstore: Options.MaxTxnOps %d is negative", opts.MaxTxnOps)
	}
	return nil
}

// New opens the store under opts.Prefix over an existing etcd client,
// which Close leaves open (calls in progress then run to their end). It
// returns what Open does.
func New(cli *clientv3.Client, opts Options) (*Store, error) {
	if err := checkOptions(opts); err != nil {
		return nil, err
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	block, err := aes.NewCipher(opts.WrappingKey)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: %w", err)
	}
	s := &Store{cli: cli, l: layout{prefix: prefix}, aead: aead, maxOps: opts.MaxTxnOps}
	if s.maxOps == 0 {
		s.maxOps = DefaultMaxTxnOps
	}
	if err := s.checkFormat(opts.DialTimeout); err != nil {
		return nil, err
	}
	return s, nil
}

// checkFormat writes the format record of a new store, or checks that of
// an existing one: it holds formatMark sealed under the wrapping key, so
// that a wrong key is found at Open, before any secret is stored.
func (s *Store) checkFormat(timeout time.Duration) error {
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	k := s.l.meta(keyFormat)
	sealed, err := s.seal(keyFormat, []byte(formatMark))
	if err != nil {
		return err
	}
	resp, err := s.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, string(sealed)), clientv3.OpPut(s.l.meta(keyRev), "")).Else(clientv3.OpGet(k)).Commit()
	if err != nil {
		return fmt.Errorf("etcdstore: open %q: %w", s.l.prefix, err)
	}
	if resp.Succeeded {
		return nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return fmt.Errorf("etcdstore: open %q: format record vanished: %w", s.l.prefix, store.ErrCorrupt)
	}
	mark, err := s.unseal(keyFormat, kvs[0].Value)
	if err != nil {
		return fmt.Errorf("etcdstore: open %q: the store's records are not sealed under the wrapping key given: %w", s.l.prefix, ErrWrongWrappingKey)
	}
	if string(mark) != formatMark {
		return fmt.Errorf("etcdstore: open %q: unknown format %q: %w", s.l.prefix, mark, store.ErrCorrupt)
	}
	return nil
}

// Close closes the store, and the etcd client when Open made it. It is
// idempotent; every other method returns store.ErrClosed afterwards.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.rr != nil {
		s.rr.close()
	}
	if s.owned {
		if err := s.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("etcdstore: close: %w", err)
		}
	}
	return nil
}

// fail wraps an etcd error: store.ErrClosed once the store is closed,
// store.ErrCompacted for a compacted revision.
func (s *Store) fail(what string, err error) error {
	switch {
	case s.closed.Load():
		return fmt.Errorf("etcdstore: %s: %w", what, store.ErrClosed)
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("etcdstore: %s: %w", what, store.ErrCompacted)
	}
	return fmt.Errorf("etcdstore: %s: %w", what, err)
}

// reader reads the store at its latest revision (rev 0), or at rev.
type reader struct {
	s      *Store
	rev    int64
	closed *atomic.Bool // the snapshot's; nil for the store
}

func (r reader) isClosed() bool {
	return r.s.closed.Load() || r.closed != nil && r.closed.Load()
}

func (r reader) get(ctx context.Context, what, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	if r.isClosed() {
		return nil, fmt.Errorf("etcdstore: %s: %w", what, store.ErrClosed)
	}
	if r.rev > 0 {
		opts = append(opts, clientv3.WithRev(r.rev))
	}
	resp, err := r.s.cli.Get(ctx, key, opts...)
	if err != nil {
		if r.isClosed() {
			return nil, fmt.Errorf("etcdstore: %s: %w", what, store.ErrClosed)
		}
		return nil, r.s.fail(what, err)
	}
	return resp, nil
}

// scan calls fn for every record from start (included) to the end of
// prefix, in key order, in pages read at one revision.
func (r reader) scan(ctx context.Context, what, prefix, start string, fn func(kv *mvccpb.KeyValue) error) error {
	end := clientv3.GetPrefixRangeEnd(prefix)
	for {
		resp, err := r.get(ctx, what, start, clientv3.WithRange(end), clientv3.WithLimit(scanPage))
		if err != nil {
			return err
		}
		if r.rev == 0 {
			r.rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if err := fn(kv); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

func corrupt(what string, err error) error {
	return fmt.Errorf("etcdstore: %s: %w: %w", what, err, store.ErrCorrupt)
}

func (r reader) key(ctx context.Context, id string) (keyRecord, int64, error) {
	resp, err := r.get(ctx, "key "+id, r.s.l.key(id))
	if err != nil {
		return keyRecord{}, 0, err
	}
	if len(resp.Kvs) == 0 {
		return keyRecord{}, resp.Header.Revision, fmt.Errorf("key %s: %w", id, store.ErrNotFound)
	}
	rec, err := decodeKey(resp.Kvs[0].Value)
	if err != nil {
		return keyRecord{}, 0, corrupt("key "+id, err)
	}
	return rec, resp.Header.Revision, nil
}

// Key returns the key with the given ID, or store.ErrNotFound.
func (r reader) Key(ctx context.Context, id string) (store.Key, error) {
	rec, _, err := r.key(ctx, id)
	return rec.key, err
}

// page reads up to limit records of prefix whose etcd keys sort after
// after (a record's etcd key), in key order.
func (r reader) page(ctx context.Context, what, prefix, after string, limit int) ([]*mvccpb.KeyValue, error) {
	if r.isClosed() {
		return nil, fmt.Errorf("etcdstore: %s: %w", what, store.ErrClosed)
	}
	if limit <= 0 {
		return nil, nil
	}
	resp, err := r.get(ctx, what, after+"\x00",
		clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix)), clientv3.WithLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	return resp.Kvs, nil
}

// Keys returns up to limit keys whose IDs sort after after, in ID order.
func (r reader) Keys(ctx context.Context, after string, limit int) ([]store.Key, error) {
	kvs, err := r.page(ctx, "keys", r.s.l.keys(), r.s.l.key(after), limit)
	if err != nil || len(kvs) == 0 {
		return nil, err
	}
	out := make([]store.Key, 0, len(kvs))
	for _, kv := range kvs {
		rec, err := decodeKey(kv.Value)
		if err != nil {
			return nil, corrupt("key "+string(kv.Key[len(r.s.l.keys()):]), err)
		}
		// A node loads every key through here: known, a key's first
		// replacement needs no read (keyMetas).
		r.s.keyMetas.put(rec.key.ID, keyMeta{modRev: kv.ModRevision, version: rec.key.Version, rotations: rec.rotations})
		out = append(out, rec.key)
	}
	return out, nil
}

// Rotations returns up to limit rotations of a key from index from.
func (r reader) Rotations(ctx context.Context, keyID string, from, limit int) ([]store.Rotation, error) {
	rec, rev, err := r.key(ctx, keyID)
	if err != nil {
		return nil, err
	}
	if from < 0 || limit <= 0 || uint64(from) >= rec.rotations {
		return nil, nil
	}
	at := r
	if at.rev == 0 { // the store's reader: read the history at the key's revision
		at.rev = rev
	}
	n := min(uint64(limit), rec.rotations-uint64(from))
	resp, err := at.get(ctx, "rotations of key "+keyID, r.s.l.rotation(keyID, uint64(from)),
		clientv3.WithRange(clientv3.GetPrefixRangeEnd(r.s.l.rotations(keyID))), clientv3.WithLimit(int64(n)))
	if err != nil {
		return nil, err
	}
	out := make([]store.Rotation, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		rot, err := decodeRotation(kv.Value)
		if err != nil {
			return nil, corrupt("rotation of key "+keyID, err)
		}
		out = append(out, rot)
	}
	if uint64(len(out)) != n {
		return nil, corrupt("rotations of key "+keyID, fmt.Errorf("%w: %d rotations recorded, %d stored", errRecord, n, len(out)))
	}
	return out, nil
}

// ScanRotations calls fn with every key's history, in key ID order, read
// at one revision.
func (r reader) ScanRotations(ctx context.Context, fn func(keyID string, rotations []store.Rotation) error) error {
	prefix := r.s.l.allRotations()
	var cur string
	var rots []store.Rotation
	err := r.scan(ctx, "rotations", prefix, prefix, func(kv *mvccpb.KeyValue) error {
		id, _, err := parseRotationKey(string(kv.Key[len(prefix):]))
		if err != nil {
			return corrupt("rotations", err)
		}
		rot, err := decodeRotation(kv.Value)
		if err != nil {
			return corrupt("rotation of key "+id, err)
		}
		if id != cur && len(rots) > 0 {
			if err := fn(cur, rots); err != nil {
				return err
			}
			rots = nil
		}
		cur = id
		rots = append(rots, rot)
		return nil
	})
	if err != nil {
		return err
	}
	if len(rots) > 0 {
		return fn(cur, rots)
	}
	return nil
}

// Aliases returns up to limit aliases after after, by Region, then
// account, then name.
func (r reader) Aliases(ctx context.Context, after store.AliasID, limit int) ([]store.Alias, error) {
	kvs, err := r.page(ctx, "aliases", r.s.l.aliases(), r.s.l.alias(after), limit)
	if err != nil {
		return nil, err
	}
	var out []store.Alias
	for _, kv := range kvs {
		a, err := decodeAlias(kv.Value)
		if err != nil {
			return nil, corrupt("alias", err)
		}
		out = append(out, a)
	}
	return out, nil
}

// Secret returns the root secret, or store.ErrNotFound.
func (r reader) Secret(ctx context.Context) ([]byte, error) {
	resp, err := r.get(ctx, "root secret", r.s.l.meta(keySecret))
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("root secret: %w", store.ErrNotFound)
	}
	secret, err := r.s.unseal(keySecret, resp.Kvs[0].Value)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: root secret does not decrypt under the wrapping key: %w", store.ErrCorrupt)
	}
	return secret, nil
}

// CustomKeyStores returns every custom key store, in ID order.
func (r reader) CustomKeyStores(ctx context.Context) ([]store.CustomKeyStore, error) {
	var out []store.CustomKeyStore
	err := r.scan(ctx, "custom key stores", r.s.l.customKeyStores(), r.s.l.customKeyStores(), func(kv *mvccpb.KeyValue) error {
		c, err := decodeCustomKeyStore(kv.Value)
		if err != nil {
			return corrupt("custom key store", err)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// Grants calls fn for every grant, by key record ID then grant ID, read
// at one revision.
func (r reader) Grants(ctx context.Context, fn func(store.Grant) error) error {
	return r.scan(ctx, "grants", r.s.l.grants(), r.s.l.grants(), func(kv *mvccpb.KeyValue) error {
		g, err := decodeGrant(kv.Value)
		if err != nil {
			return corrupt("grant", err)
		}
		return fn(g)
	})
}

// LatestInstant returns the latest Batch.Now applied, or the zero time.
func (r reader) LatestInstant(ctx context.Context) (time.Time, error) {
	resp, err := r.get(ctx, "latest instant", r.s.l.meta(keyNow))
	if err != nil || len(resp.Kvs) == 0 {
		return time.Time{}, err
	}
	t, err := decodeTime(resp.Kvs[0].Value)
	if err != nil {
		return time.Time{}, corrupt("latest instant", err)
	}
	return t, nil
}

// RuleProfile returns the latest Batch.RuleProfile applied, or "".
func (r reader) RuleProfile(ctx context.Context) (string, error) {
	resp, err := r.get(ctx, "rule profile", r.s.l.meta(keyRules))
	if err != nil || len(resp.Kvs) == 0 {
		return "", err
	}
	return string(resp.Kvs[0].Value), nil
}

func (s *Store) r() reader { return reader{s: s} }

// Key returns the key with the given ID, or store.ErrNotFound.
func (s *Store) Key(ctx context.Context, id string) (store.Key, error) { return s.r().Key(ctx, id) }

// Keys returns up to limit keys whose IDs sort after after, in ID order.
func (s *Store) Keys(ctx context.Context, after string, limit int) ([]store.Key, error) {
	return s.r().Keys(ctx, after, limit)
}

// Rotations returns up to limit rotations of a key from index from, or
// store.ErrNotFound when the key does not exist.
func (s *Store) Rotations(ctx context.Context, keyID string, from, limit int) ([]store.Rotation, error) {
	return s.r().Rotations(ctx, keyID, from, limit)
}

// ScanRotations calls fn with every key's history, in key ID order, read
// at one revision.
func (s *Store) ScanRotations(ctx context.Context, fn func(keyID string, rotations []store.Rotation) error) error {
	return s.r().ScanRotations(ctx, fn)
}

// Aliases returns up to limit aliases after after, by Region, then
// account, then name.
func (s *Store) Aliases(ctx context.Context, after store.AliasID, limit int) ([]store.Alias, error) {
	return s.r().Aliases(ctx, after, limit)
}

// Secret returns the root secret, or store.ErrNotFound.
func (s *Store) Secret(ctx context.Context) ([]byte, error) { return s.r().Secret(ctx) }

// CustomKeyStores returns every custom key store, in ID order.
func (s *Store) CustomKeyStores(ctx context.Context) ([]store.CustomKeyStore, error) {
	return s.r().CustomKeyStores(ctx)
}

// Grants calls fn for every grant, by key record ID then grant ID, read at
// one revision.
func (s *Store) Grants(ctx context.Context, fn func(store.Grant) error) error {
	return s.r().Grants(ctx, fn)
}

// LatestInstant returns the latest Batch.Now applied, or the zero time.
func (s *Store) LatestInstant(ctx context.Context) (time.Time, error) {
	return s.r().LatestInstant(ctx)
}

// RuleProfile returns the latest Batch.RuleProfile applied, or "".
func (s *Store) RuleProfile(ctx context.Context) (string, error) { return s.r().RuleProfile(ctx) }

// view is a Snapshot: the store read at one revision.
type view struct {
	reader
	closedFlag atomic.Bool
}

// Snapshot returns a read-only view of the store at its latest revision
// (Revision), and that revision. The view's reads return
// store.ErrCompacted once etcd has compacted that revision away.
func (s *Store) Snapshot(ctx context.Context) (store.Store, int64, error) {
	rev, at, err := s.revision(ctx)
	if err != nil {
		return nil, 0, err
	}
	// The view reads at the cluster's revision, which holds the store as
	// of rev, and which etcd's compaction reaches later than rev when the
	// store has been idle.
	v := &view{}
	v.reader = reader{s: s, rev: at, closed: &v.closedFlag}
	return v, rev, nil
}

func (v *view) Apply(context.Context, ...*store.Batch) error {
	if v.isClosed() {
		return fmt.Errorf("etcdstore: apply: %w", store.ErrClosed)
	}
	return fmt.Errorf("etcdstore: snapshot at revision %d: %w", v.rev, store.ErrReadOnly)
}

func (v *view) ApplyAt(context.Context, int64, ...*store.Batch) (int64, error) {
	return 0, v.Apply(context.Background())
}

func (v *view) Close() error {
	v.closedFlag.Store(true)
	return nil
}

// revCall is one linearizable read of the revision, shared by every
// Revision call that waits for it.
type revCall struct {
	done chan struct{}
	rev  int64 // the store's: its latest commit's
	at   int64 // the cluster's, when rev was read
	err  error
}

// Revision returns the store's latest revision: that of the latest
// commit under its prefix (every commit writes the prefix's revision
// record, so that writes elsewhere in the cluster, which move etcd's own
// revision, do not move the store's), by a linearizable read (etcd's
// ReadIndex): at least the revision of every commit acknowledged before
// the call. Concurrent calls share reads: a call that arrives while a
// read is in flight waits for the next one, which starts when that one
// ends, so that however many callers wait, one read at a time serves them
// all.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	rev, _, err := s.revision(ctx)
	return rev, err
}

// revision returns the store's latest revision and the cluster's
// revision when it was read: the store reads the same at both.
func (s *Store) revision(ctx context.Context) (rev, at int64, err error) {
	if s.closed.Load() {
		return 0, 0, fmt.Errorf("etcdstore: revision: %w", store.ErrClosed)
	}
	s.revMu.Lock()
	var c *revCall
	switch {
	case s.revInflight == nil:
		c = &revCall{done: make(chan struct{})}
		s.revInflight = c
		go s.readRevision(c)
	case s.revNext == nil:
		c = &revCall{done: make(chan struct{})}
		s.revNext = c
	default:
		c = s.revNext
	}
	s.revMu.Unlock()
	select {
	case <-c.done:
		return c.rev, c.at, c.err
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
}

// readRevision runs c, then the call that waited for it, and so on.
func (s *Store) readRevision(c *revCall) {
	for c != nil {
		s.revRequests.Add(1)
		if rev, at, ok := s.rr.revision(s.l.meta(keyRev)); ok {
			c.rev, c.at = rev, at
		} else if s.closed.Load() {
			// Not the closed client, whose Get would wait out its retries.
			c.err = fmt.Errorf("etcdstore: revision: %w", store.ErrClosed)
		} else {
			// Not the callers' context: the read serves every one of them.
			ctx, cancel := context.WithTimeout(context.Background(), revisionTimeout)
			resp, err := s.cli.Get(ctx, s.l.meta(keyRev), clientv3.WithKeysOnly())
			cancel()
			switch {
			case err != nil:
				c.err = s.fail("revision", err)
			case len(resp.Kvs) == 0:
				c.err = fmt.Errorf("etcdstore: revision: the store's revision record is missing: %w", store.ErrCorrupt)
			default:
				c.rev, c.at = resp.Kvs[0].ModRevision, resp.Header.Revision
			}
		}
		s.revMu.Lock()
		next := s.revNext
		s.revNext, s.revInflight = nil, next
		s.revMu.Unlock()
		close(c.done)
		c = next
	}
}

// revisionTimeout bounds one shared revision read.
const revisionTimeout = 30 * time.Second
