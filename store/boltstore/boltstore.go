package boltstore

import (
	"bytes"
	"context"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/kmsmodel/kmsmodel/store"
)

// ErrLocked is returned by Open when another Store, in this process or in
// another one, holds the file and does not release it within
// Options.Timeout.
var ErrLocked = errors.New("boltstore: file is locked by another opener")

// ErrWrongWrappingKey is returned by Open when Options.WrappingKey does not
// fit the store: it is not the key the store's secret is encrypted under
// (or the key the store was first opened with, if it has no secret yet);
// none is given for a store whose secret is encrypted; or one is given for
// a store whose secret is in the clear.
var ErrWrongWrappingKey = errors.New("boltstore: wrong wrapping key")

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero.
const DefaultTimeout = time.Second

// FileMode is the permission of the files Open creates. Existing files keep
// theirs.
const FileMode os.FileMode = 0o600

// maxGroup bounds how many Apply calls share one commit (each may carry
// several batches).
const maxGroup = 1024

// Options configures Open. The zero value, like a nil *Options, is durable
// and waits DefaultTimeout for the file lock.
type Options struct {
	// Timeout bounds how long Open waits for the file lock. Zero or
	// negative means DefaultTimeout: Open never waits forever.
	Timeout time.Duration
	// NoSync skips fsync when committing. A crash of the process loses
	// nothing, but a crash of the machine may lose acknowledged writes or
	// damage the file. For tests and benchmarks only.
	NoSync bool
	// WrappingKey, if not nil, encrypts the root secret (store.Batch's
	// PutSecret) at rest with AES-256-GCM: it must be an AES-256 key,
	// WrappingKeySize bytes (a non-nil slice of another length, empty
	// included, fails Open). Nil stores the secret in the clear.
	//
	// A store opened once with a wrapping key must always be opened with
	// that key, and one whose secret is in the clear without any: Open
	// checks, and fails with ErrWrongWrappingKey rather than mix. Open
	// does not keep the slice.
	WrappingKey []byte
}

// Store is a store.Store in one bbolt file. It is safe for concurrent use.
type Store struct {
	path string
	h    *handles

	// mu is held shared by every call in progress and exclusively by
	// Close, which therefore waits for the calls in progress.
	mu     sync.RWMutex
	closed bool

	reqs    chan *request // to the commit loop; closed by Close
	stopped chan struct{} // closed when the commit loop returns

	// writing is held by whoever commits: the commit loop, or an Apply
	// committing in its own goroutine while the loop is idle.
	writing sync.Mutex
	// broken is set by a commit whose write transaction found the file
	// corrupt, or that could not write the log; every later Apply returns
	// it. It is used under writing.
	broken error

	// dirty is set while the file lacks groups the write-ahead log
	// (wal.go) holds; it is set under writing and read by any call.
	dirty atomic.Bool
}

var _ store.Store = (*Store)(nil)

// handles holds what a printout of a Store must not show: the bbolt
// handle, whose fields include the whole mapped file (root secret and
// all, when it is in the clear), and the wrapping cipher. It sits two
// pointers away from Store because fmt, given a verb that does not fit a
// pointer (%s, %q), prints what one pointer leads to, but not further.
type handles struct {
	db   *bolt.DB
	wrap cipher.AEAD // seals the root secret; nil when it is in the clear

	// The write-ahead log (wal.go), used under Store.writing, whose
	// buffers hold records (the secret among them); and the write
	// transaction holding every group logged since the last checkpoint
	// (nil when there is none).
	wal *walLog
	wtx *bolt.Tx
}

// Open opens the store in the file at path, creating the file (mode
// FileMode) and its parent's directory entry durably if it does not exist.
// A zero-length file is treated as new.
//
// Open returns an error naming path. It wraps ErrLocked when another Store
// holds the file for longer than opts.Timeout; store.ErrCorrupt when the
// file is not a bbolt file, is a bbolt file that is not a kmsmodel store,
// has a format version this package does not know (a newer one, say), or
// is damaged in a way Open can see; ErrWrongWrappingKey when
// opts.WrappingKey does not fit the store (see Options.WrappingKey; the
// message says which way); a plain error when opts.WrappingKey has the
// wrong length; and the operating system's error otherwise (a missing
// directory, say). Open writes nothing to a file it refuses, except
// that it first applies the write-ahead log a crash left (writes Apply
// had acknowledged; see the package documentation). It fails with
// ErrCorrupt when a record of the log does not decode, and when the file
// is missing or empty but its log holds writes (the file was removed
// without it), creating nothing then.
//
// With a wrapping key, Open checks it by decrypting the store's secret or,
// if the store has none yet, its key-check record; a store with neither
// (a new one, say) records the key's check value, so that from then on it
// opens only with that key.
//
// A file of an older format version (see encoding.go) is upgraded to the
// current one, in one transaction, once Open has checked it and the
// wrapping key: a build that reads only the older format then refuses it.
// A format 5 file without the grants bucket (one written in format 5's
// development cycle before grants existed) gets the bucket the same way.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	wrap, err := newWrap(o.WrappingKey)
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	fi, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	if created || statErr == nil && fi.Size() == 0 {
		if err := orphanWAL(path); err != nil {
			return nil, err
		}
	}

	db, err := openBolt(path, &o)
	if err != nil {
		return nil, err
	}
	format, noGrants, err := initOrCheck(db, path, wrap)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	wal, err := recoverWAL(db, path, &o, format, noGrants)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	fail := func(err error) (*Store, error) {
		_ = wal.close(true) // it holds no record
		_ = db.Close()
		return nil, err
	}
	record, err := checkWrapping(db, path, wrap, format)
	if err != nil {
		return fail(err)
	}
	if err := upgrade(db, path, wrap, format, noGrants, record); err != nil {
		return fail(err)
	}
	if created && !o.NoSync {
		if err := syncDir(filepath.Dir(path)); err != nil {
			return fail(fmt.Errorf("boltstore: open %s: %w", path, err))
		}
	}
	s := &Store{
		path:    path,
		h:       &handles{db: db, wrap: wrap, wal: wal},
		reqs:    make(chan *request, maxGroup),
		stopped: make(chan struct{}),
	}
	go s.commitLoop()
	return s, nil
}

// openBolt opens the bbolt file, translating its errors and panics.
func openBolt(path string, o *Options) (db *bolt.DB, err error) {
	var file *os.File
	defer func() {
		if r := recover(); r != nil {
			// bbolt panicked after opening (and locking) the file; release
			// it. The mapping, if any, is lost with the *bolt.DB.
			if file != nil {
				_ = file.Close()
			}
			db, err = nil, fmt.Errorf("boltstore: open %s: damaged file (%v): %w", path, r, store.ErrCorrupt)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err = bolt.Open(path, FileMode, &bolt.Options{
		Timeout:      o.Timeout,
		NoSync:       o.NoSync,
		FreelistType: bolt.FreelistMapType,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("boltstore: open %s: still locked after %v: %w", path, o.Timeout, ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch):
		return nil, fmt.Errorf("boltstore: open %s: not a bbolt file (%w): %w", path, err, store.ErrCorrupt)
	case errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission):
		return nil, fmt.Errorf("boltstore: %w", err) // *fs.PathError names the path
	default:
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
}

// initOrCheck writes the meta bucket into a new file, with the key-check
// record of wrap if it is not nil, or checks an existing file's magic,
// format version and buckets. It returns the file's format version
// (formatVersion for a new file), and whether a format 5 file lacks the
// grants bucket (see formatVersion); it does not upgrade an older file,
// nor create that bucket (see upgrade).
func initOrCheck(db *bolt.DB, path string, wrap cipher.AEAD) (format uint32, noGrants bool, err error) {
	corrupt := func(msg string, args ...any) error {
		return fmt.Errorf("boltstore: open %s: %s: %w", path, fmt.Sprintf(msg, args...), store.ErrCorrupt)
	}
	fresh := false
	err = guard(path, "open", func() error {
		return db.View(func(tx *bolt.Tx) error {
			if fileSize := fileSize(db); fileSize < tx.Size() {
				return corrupt("file is truncated (%d bytes, bbolt expects %d)", fileSize, tx.Size())
			}
			meta := tx.Bucket(bucketMeta)
			if meta == nil {
				empty := true
				if err := tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil }); err != nil {
					return err
				}
				if !empty {
					return corrupt("not a kmsmodel store (a bbolt file without its meta bucket)")
				}
				// A new file, or one whose creation was interrupted
				// before the meta bucket was committed.
				fresh = true
				return nil
			}
			if m := meta.Get(metaMagic); !bytes.Equal(m, magic) {
				return corrupt("not a kmsmodel store (magic %q)", m)
			}
			f := meta.Get(metaFormat)
			if len(f) != 4 {
				return corrupt("format version missing or malformed (%x)", f)
			}
			switch format = binary.BigEndian.Uint32(f); {
			case format > formatVersion:
				return corrupt("format version %d is newer than this build reads (%d)", format, formatVersion)
			case format < oldestFormat:
				return corrupt("unknown format version %d", format)
			}
			for _, name := range [][]byte{bucketKeys, bucketRotations, bucketAliases, bucketKeyAliases, bucketStores} {
				if format < 3 && bytes.Equal(name, bucketStores) {
					continue // created by the upgrade to format 3
				}
				if tx.Bucket(name) == nil {
					return corrupt("bucket %q is missing", name)
				}
			}
			// Files of formats 1 to 4 get the grants bucket with their
			// upgrade; format 5 files written before it existed, too.
			noGrants = format == formatVersion && tx.Bucket(bucketGrants) == nil
			return nil
		})
	})
	if err != nil || !fresh {
		return format, noGrants, err
	}
	err = guard(path, "initialise", func() error {
		return db.Update(func(tx *bolt.Tx) error {
			meta, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			if err := meta.Put(metaMagic, magic); err != nil {
				return err
			}
			if err := meta.Put(metaFormat, binary.BigEndian.AppendUint32(nil, formatVersion)); err != nil {
				return err
			}
			if wrap != nil {
				if err := meta.Put(metaKeyCheck, encodeKeyCheck(wrap)); err != nil {
					return err
				}
			}
			for _, name := range [][]byte{bucketKeys, bucketRotations, bucketAliases, bucketKeyAliases, bucketStores, bucketGrants} {
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return 0, false, fmt.Errorf("boltstore: open %s: initialising: %w", path, err)
	}
	return formatVersion, false, nil
}

// upgrade writes, in one transaction, what Open has found the file to
// need: the upgrade of a file of an older format (from) to formatVersion;
// if noGrants, the grants bucket that a format 5 file lacks; and, if
// record, the key-check record of wrap.
func upgrade(db *bolt.DB, path string, wrap cipher.AEAD, from uint32, noGrants, record bool) error {
	if from == formatVersion && !noGrants && !record {
		return nil
	}
	err := guard(path, "upgrade", func() error {
		return db.Update(func(tx *bolt.Tx) error {
			if from != formatVersion {
				if err := upgradeFormat(tx, wrap, from); err != nil {
					return err
				}
			}
			if noGrants {
				if _, err := tx.CreateBucket(bucketGrants); err != nil {
					return err
				}
			}
			if record {
				return tx.Bucket(bucketMeta).Put(metaKeyCheck, encodeKeyCheck(wrap))
			}
			return nil
		})
	})
	switch {
	case err == nil:
		return nil
	case from != formatVersion:
		return fmt.Errorf("boltstore: open %s: upgrading from format %d to format %d: %w", path, from, formatVersion, err)
	case noGrants:
		return fmt.Errorf("boltstore: open %s: creating the grants bucket: %w", path, err)
	default:
		return fmt.Errorf("boltstore: open %s: recording the wrapping key: %w", path, err)
	}
}

// upgradeFormat upgrades a file of format from to formatVersion in tx (see
// encoding.go for what each format adds).
func upgradeFormat(tx *bolt.Tx, wrap cipher.AEAD, from uint32) error {
	if from < 3 {
		if _, err := tx.CreateBucketIfNotExists(bucketStores); err != nil {
			return err
		}
	}
	if from < 4 {
		if err := rekeyAliases(tx); err != nil {
			return err
		}
	}
	if from < 5 {
		if _, err := tx.CreateBucketIfNotExists(bucketGrants); err != nil {
			return err
		}
	}
	if err := reseal(tx, wrap, from); err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(metaFormat, binary.BigEndian.AppendUint32(nil, formatVersion))
}

// rekeyAliases rewrites the alias keys of formats 1 to 3, in the aliases
// and keyaliases buckets, as format 4's, with Region "". A record that
// fails its checksum is moved as it is: it fails under its new key too.
func rekeyAliases(tx *bolt.Tx) error {
	aliases, index := tx.Bucket(bucketAliases), tx.Bucket(bucketKeyAliases)
	type entry struct{ k, v []byte }
	var recs []entry
	err := aliases.ForEach(func(k, v []byte) error {
		recs = append(recs, entry{bytes.Clone(k), bytes.Clone(v)})
		return nil
	})
	if err != nil {
		return err
	}
	var entries [][]byte
	err = index.ForEach(func(k, _ []byte) error {
		entries = append(entries, bytes.Clone(k))
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := aliases.Delete(r.k); err != nil {
			return err
		}
	}
	for _, k := range entries {
		if err := index.Delete(k); err != nil {
			return err
		}
	}
	for _, r := range recs {
		id, ok := parseAliasKey3(r.k)
		if !ok {
			return fmt.Errorf("alias %q: %w: bad format 3 alias key: %w", r.k, errRecord, store.ErrCorrupt)
		}
		k, v := aliasKey(id), r.v
		if a, err := decodeAliasRecord(r.k, r.v); err == nil {
			v = encodeAlias(k, &a)
		}
		if err := aliases.Put(k, v); err != nil {
			return err
		}
	}
	for _, k := range entries {
		n, w := binary.Uvarint(k)
		if w <= 0 || uint64(len(k)-w) < n {
			return fmt.Errorf("keyaliases entry %q: %w: bad key ID prefix: %w", k, errRecord, store.ErrCorrupt)
		}
		id, ok := parseAliasKey3(k[w+int(n):])
		if !ok {
			return fmt.Errorf("keyaliases entry %q: %w: bad format 3 alias key: %w", k, errRecord, store.ErrCorrupt)
		}
		if err := index.Put(indexKey(string(k[w:w+int(n)]), aliasKey(id)), []byte{}); err != nil {
			return err
		}
	}
	return nil
}

func fileSize(db *bolt.DB) int64 {
	fi, err := os.Stat(db.Path())
	if err != nil {
		return 1<<63 - 1 // unknown: let bbolt find out
	}
	return fi.Size()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// guard runs f, turning a panic (or a memory fault reading the mapped file)
// into an error wrapping store.ErrCorrupt that names the file: bbolt panics
// on some damaged pages.
func guard(path, what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("boltstore: %s %s: damaged file (bbolt: %v): %w", what, path, r, store.ErrCorrupt)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return f()
}

// begin is the start of every method: it takes the shared lock and checks
// that the store and the context are live. On success the caller must
// s.mu.RUnlock.
func (s *Store) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	return nil
}

// view runs f in a read transaction, guarded against bbolt panics, after
// committing the groups only the log holds (checkpoint), so that f sees
// every acknowledged write.
func (s *Store) view(what string, f func(tx *bolt.Tx) error) error {
	if s.dirty.Load() {
		var err error
		s.writing.Lock()
		if s.dirty.Load() {
			err = s.checkpoint()
		}
		s.writing.Unlock()
		if err != nil {
			return err
		}
	}
	return guard(s.path, what, func() error { return s.h.db.View(f) })
}

// corruptRecord reports a record that does not decode.
func (s *Store) corruptRecord(kind string, name any, err error) error {
	return fmt.Errorf("boltstore: %s: %s %q: %w: %w", s.path, kind, name, err, store.ErrCorrupt)
}

// Apply writes the group bs atomically and durably (unless
// Options.NoSync): when it returns nil every batch of bs is in the
// write-ahead log, synced, by one record (see the package documentation).
// Concurrent Apply calls share records too: the calls waiting while one
// commit runs are validated and written in arrival order in the next
// record, each one on the state left by those before it, and a call whose
// group does not fit fails alone.
//
// Apply returns ErrExists, ErrConflict or ErrNotFound (wrapped, from
// Batch.Validate, ValidateCustomKeyStores or ValidateGrants) when a batch
// does not fit the stored state as the batches before it in bs leave it,
// and ErrExists when a batch puts a secret and the store has one;
// ErrClosed after Close; ctx's error if ctx is done before the group is
// queued (once it is queued, Apply waits for the outcome so that its
// answer is true); ErrCorrupt when a record it must read does not decode
// (the stored instant among them, when a batch has a Now), or when bbolt
// panics on a damaged page (every later Apply then fails the same way,
// rather than write to a damaged file); and bbolt's or the operating
// system's error when the write itself fails (a key ID longer than bbolt's
// 32768-byte limit, a full disk when the log must grow; when a record
// cannot be written to the log, every later Apply fails the same way). In
// every error case nothing of bs is written, Now included (but a record
// whose write or sync failed may be whole in the log, as a failed fsync
// leaves any write in doubt). Nil and empty batches (store.Batch.Empty: a
// batch whose only part is a Now is not empty) are skipped; a group of
// none writes nothing and returns nil.
func (s *Store) Apply(ctx context.Context, bs ...*store.Batch) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	r := newRequest(bs, s.h.wrap)
	if len(r.parts) == 0 {
		return nil
	}
	// With no commit running and none queued (a lone writer, such as a
	// kms.Service writing its groups one at a time), commit in this
	// goroutine: handing the request to the commit loop and back would
	// cost two goroutine switches.
	if len(s.reqs) == 0 && s.writing.TryLock() {
		if len(s.reqs) == 0 {
			s.commit([]*request{r})
			s.writing.Unlock()
			return r.err
		}
		s.writing.Unlock()
	}
	s.reqs <- r
	<-r.done
	return r.err
}

// Key returns the key with the given ID. It returns ErrNotFound (wrapped)
// if there is none, ErrClosed after Close, ErrCorrupt if its record does
// not decode, and ctx's error if ctx is done.
func (s *Store) Key(ctx context.Context, id string) (store.Key, error) {
	if err := s.begin(ctx); err != nil {
		return store.Key{}, err
	}
	defer s.mu.RUnlock()
	var k store.Key
	err := s.view("read key from", func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketKeys).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("key %s: %w", id, store.ErrNotFound)
		}
		var err error
		if k, err = decodeKey([]byte(id), v, &store.Key{}); err != nil {
			return s.corruptRecord("key", id, err)
		}
		return nil
	})
	return k, err
}

// Keys returns up to limit keys whose IDs sort after after, in ID (byte)
// order; none if limit <= 0. It returns ErrClosed after Close, ErrCorrupt
// if a record does not decode, and ctx's error if ctx is done.
func (s *Store) Keys(ctx context.Context, after string, limit int) ([]store.Key, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if limit <= 0 {
		return nil, nil
	}
	var out []store.Key
	err := s.view("list keys in", func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketKeys).Cursor()
		k, v := c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
		prev := &store.Key{} // keys of one account or Region share its string
		for ; k != nil && len(out) < limit; k, v = c.Next() {
			if out == nil {
				out = make([]store.Key, 0, min(limit, 1024))
			}
			key, err := decodeKey(k, v, prev)
			if err != nil {
				return s.corruptRecord("key", k, err)
			}
			out = append(out, key)
			prev = &out[len(out)-1]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Rotations returns up to limit rotations of a key, oldest first, starting
// at index from; none if from < 0 or limit <= 0. It returns ErrNotFound
// (wrapped) if the key does not exist, ErrClosed after Close, ErrCorrupt if
// a record does not decode, and ctx's error if ctx is done.
func (s *Store) Rotations(ctx context.Context, keyID string, from, limit int) ([]store.Rotation, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var out []store.Rotation
	err := s.view("read rotations from", func(tx *bolt.Tx) error {
		if tx.Bucket(bucketKeys).Get([]byte(keyID)) == nil {
			return fmt.Errorf("key %s: %w", keyID, store.ErrNotFound)
		}
		if from < 0 || limit <= 0 || int64(from) > math.MaxUint32 {
			return nil
		}
		prefix := keyPrefix(keyID, 4)
		c := tx.Bucket(bucketRotations).Cursor()
		for k, v := c.Seek(rotationKey(prefix, uint32(from))); k != nil && len(out) < limit; k, v = c.Next() {
			if !hasPrefixLen(k, prefix, 4) {
				break
			}
			i := binary.BigEndian.Uint32(k[len(prefix):])
			if want := uint32(from + len(out)); i != want {
				return s.corruptRecord("rotation", fmt.Sprintf("%s#%d", keyID, want), errors.New("missing from the history"))
			}
			r, err := decodeRotation(k, v)
			if err != nil {
				return s.corruptRecord("rotation", fmt.Sprintf("%s#%d", keyID, i), err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ScanRotations calls fn with each key's whole history, in one read
// transaction over the rotations bucket (key prefix order). It returns
// ErrClosed after Close, ErrCorrupt if a record does not decode or a
// history has a gap, ctx's error if ctx is done, and fn's first error.
func (s *Store) ScanRotations(ctx context.Context, fn func(keyID string, rotations []store.Rotation) error) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return s.view("scan rotations in", func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRotations).Cursor()
		var (
			cur  string
			hist []store.Rotation
		)
		flush := func() error {
			if len(hist) == 0 {
				return nil
			}
			err := fn(cur, hist)
			hist = hist[:0]
			return err
		}
		for k, v := c.First(); k != nil; k, v = c.Next() {
			n, w := binary.Uvarint(k)
			if w <= 0 || uint64(len(k)-w) != n+4 {
				return s.corruptRecord("rotation", k, errors.New("malformed rotation key"))
			}
			id := k[w : w+int(n)]
			if string(id) != cur {
				if err := flush(); err != nil {
					return err
				}
				cur = string(id)
			}
			if idx := binary.BigEndian.Uint32(k[w+int(n):]); int(idx) != len(hist) {
				return s.corruptRecord("rotation", k, fmt.Errorf("history of key %.64q has a gap at %d", cur, len(hist)))
			}
			r, err := decodeRotation(k, v)
			if err != nil {
				return s.corruptRecord("rotation", k, err)
			}
			hist = append(hist, r)
		}
		return flush()
	})
}

// Aliases returns up to limit aliases that sort after after (by Region,
// then account, then name, in byte order); none if limit <= 0. It returns
// ErrClosed after Close, ErrCorrupt if a record does not decode, and ctx's
// error if ctx is done.
func (s *Store) Aliases(ctx context.Context, after store.AliasID, limit int) ([]store.Alias, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if limit <= 0 {
		return nil, nil
	}
	var out []store.Alias
	err := s.view("list aliases in", func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAliases).Cursor()
		start := aliasKey(after)
		k, v := c.Seek(start)
		if k != nil && bytes.Equal(k, start) {
			k, v = c.Next()
		}
		var prev store.AliasID // aliases of one Region or account share its string
		for ; k != nil && len(out) < limit; k, v = c.Next() {
			a, err := decodeAlias(k, v, prev)
			if err != nil {
				return s.corruptRecord("alias", k, err)
			}
			prev = a.AliasID
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Secret returns the stored root secret, decrypted if the store has a
// wrapping key, in a slice of the caller's. It returns ErrNotFound
// (wrapped) if no batch put one, ErrClosed after Close, ErrCorrupt if its
// record does not decode (or, with a wrapping key, does not decrypt), and
// ctx's error if ctx is done.
func (s *Store) Secret(ctx context.Context) ([]byte, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var out []byte
	err := s.view("read the root secret from", func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(metaSecret)
		if v == nil {
			return fmt.Errorf("root secret: %w", store.ErrNotFound)
		}
		var err error
		if out, err = decodeSecret(s.h.wrap, v, formatVersion); err != nil {
			return s.corruptRecord("meta record", metaSecret, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CustomKeyStores returns every custom key store, in ID (byte) order. It
// returns ErrClosed after Close, ErrCorrupt if a record does not decode,
// and ctx's error if ctx is done.
func (s *Store) CustomKeyStores(ctx context.Context) ([]store.CustomKeyStore, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var out []store.CustomKeyStore
	err := s.view("list custom key stores in", func(tx *bolt.Tx) error {
		return tx.Bucket(bucketStores).ForEach(func(k, v []byte) error {
			c, err := decodeStore(k, v)
			if err != nil {
				return s.corruptRecord("custom key store", k, err)
			}
			out = append(out, c)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Grants calls fn for every grant, in key record ID (byte) order, then
// grant ID (byte) order, in one read transaction; it stops at, and
// returns, fn's first error, as it is. fn gets maps and slices of its own,
// which it may keep or change; it must not call the store (the read
// transaction is open while it runs). Grants returns ErrClosed after
// Close, ErrCorrupt (naming the record) if a record does not decode or a
// bolt key in the grants bucket is not a grant's, and ctx's error if ctx
// is done. Grants decoded before a damaged one have been given to fn.
//
// The grants bucket orders a key's grants by grant ID, but the keys by the
// length of their IDs first (see encoding.go), and key IDs do differ in
// length (a replica's "<Region>/<key ID>", say). So Grants first walks
// the bucket's bolt keys, without decoding their records, to find which
// keys have grants, sorts those key IDs, and then decodes each key's
// grants in turn: two passes over the bucket, one seek per key with
// grants, and memory for the IDs of those keys only.
func (s *Store) Grants(ctx context.Context, fn func(store.Grant) error) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return s.view("list grants in", func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketGrants).Cursor()
		var ids []string // each key ID with grants, once
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			id, _, ok := parseGrantKey(k)
			if !ok {
				return s.corruptGrant(k, fmt.Errorf("%w: bad grant key", errRecord))
			}
			if len(ids) == 0 || ids[len(ids)-1] != string(id) {
				ids = append(ids, string(id))
			}
		}
		slices.Sort(ids)
		prev := &store.Grant{} // grants share their principals' strings
		for _, id := range ids {
			prefix := keyPrefix(id, 0)
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				g, err := decodeGrant(k, v, prev)
				if err != nil {
					return s.corruptGrant(k, err)
				}
				if err := fn(g); err != nil {
					return err
				}
				prev = &g
			}
		}
		return nil
	})
}

// corruptGrant reports a grant record, under bolt key k, that does not
// decode: by grant ID and key ID when k parses, else by k.
func (s *Store) corruptGrant(k []byte, err error) error {
	keyID, grantID, ok := parseGrantKey(k)
	if !ok {
		return s.corruptRecord("grants entry", k, err)
	}
	return fmt.Errorf("boltstore: %s: grant %q of key %q: %w: %w", s.path, grantID, keyID, err, store.ErrCorrupt)
}

// LatestInstant returns the latest store.Batch.Now the store has applied,
// in UTC, or the zero time if it has applied none (a new store, or a file
// written before the store recorded instants). It returns ErrClosed after
// Close, ErrCorrupt if the record does not decode, and ctx's error if ctx
// is done.
func (s *Store) LatestInstant(ctx context.Context) (time.Time, error) {
	if err := s.begin(ctx); err != nil {
		return time.Time{}, err
	}
	defer s.mu.RUnlock()
	var out time.Time
	err := s.view("read the latest instant from", func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(metaNow)
		if v == nil {
			return nil
		}
		var err error
		if out, err = decodeNow(v); err != nil {
			return s.corruptRecord("meta record", metaNow, err)
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	return out, nil
}

// RuleProfile returns the latest store.Batch.RuleProfile the store has
// applied, or "" if it has applied none (a new store, or a file written
// before the store recorded profiles). It returns ErrClosed after Close,
// ErrCorrupt if the record does not decode, and ctx's error if ctx is
// done.
func (s *Store) RuleProfile(ctx context.Context) (string, error) {
	if err := s.begin(ctx); err != nil {
		return "", err
	}
	defer s.mu.RUnlock()
	var out string
	err := s.view("read the rule profile from", func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(metaProfile)
		if v == nil {
			return nil
		}
		var err error
		if out, err = decodeProfile(v); err != nil {
			return s.corruptRecord("meta record", metaProfile, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return out, nil
}

// Close waits for the calls in progress, commits the writes only the
// write-ahead log holds, removes the log, then releases the file. If the
// commit fails, Close returns its error and keeps the log, which the next
// Open applies. It is idempotent: later calls return nil. Every other
// method returns ErrClosed afterwards.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.reqs)
	<-s.stopped
	s.writing.Lock()
	defer s.writing.Unlock()
	err := s.checkpoint()
	if !s.dirty.Load() {
		err = nil // a store broken with nothing left to write closes cleanly
	}
	s.fail(store.ErrClosed) // rolls back a transaction restore began
	// The log is removed once the file holds everything; otherwise the
	// next Open applies it.
	if werr := s.h.wal.close(!s.dirty.Load()); werr != nil && err == nil {
		err = fmt.Errorf("boltstore: close %s: %w", s.h.wal.path, werr)
	}
	if cerr := s.h.db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("boltstore: close %s: %w", s.path, cerr)
	}
	return err
}
