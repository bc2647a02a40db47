package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"

	bolt "go.etcd.io/bbolt"

	"github.com/kmsmodel/kmsmodel/store"
)

// Write-ahead log.
//
// A bbolt commit writes every page the transaction dirtied and syncs the
// file twice (the pages, then the meta page). A group is made durable more
// cheaply: its writes go into a bbolt write transaction kept open across
// groups, and are recorded, as the puts and deletes they are, in one
// record appended to the log file (path + WALSuffix) and synced once. The
// open transaction is committed (a checkpoint) when the log passes
// walCheckpoint bytes, before any read (so that reads, in their own
// transactions, see every acknowledged write), and at Close; the log then
// starts over.
//
// The log file is zeroed ahead of its records in walGrow steps, so that
// syncing a record does not change the file's size. Its first walHeader
// bytes hold the header: walMagic, the sequence number of its first record
// (8 bytes, big-endian) and a CRC-32C of the two. A record is
//
//	payload length (4 bytes) | CRC-32C of sequence and payload (4) | sequence (8) | payload
//
// and its payload a run of operations, each one byte (walPut or walDelete
// in the high bits, the bucket's index in walBuckets in the low ones), the
// key (uvarint length, bytes) and, for a put, the value likewise. Records
// follow each other with consecutive sequence numbers; the log ends at the
// first record whose length is zero, whose CRC does not match (a record
// torn by a crash) or whose sequence number is not the next one (a record
// of an earlier round, left after the end of this one).
//
// Open replays every record of the log onto the file in one synced bbolt
// transaction before anything else reads it. Replaying is idempotent:
// operations are blind puts and deletes applied in order, so the records a
// checkpoint had committed before a crash (the header not yet rewritten)
// are applied again to the same effect.

// WALSuffix is appended to a store's path to name its write-ahead log
// file, which exists while the store is open (and after a crash, until
// the next Open applies it). Close removes it.
const WALSuffix = ".wal"

const (
	walMagic      = "kmsmodel wal\x00\x00\x00\x01"
	walHeader     = 4096      // the header's share of the file
	walGrow       = 256 << 10 // how much zeroed room the file grows by
	walRecordHead = 16

	walPut    = 1 << 4
	walDelete = 2 << 4

	// walAlign is the block size of direct writes: the offset, length
	// and memory address of each are multiples of it. 4096 satisfies
	// every logical block size Linux supports for O_DIRECT.
	walAlign = 4096
)

// walCheckpoint is the length of the log past which a group's commit
// checkpoints (the crash tests lower it). Longer logs save little CPU and
// cost space: bbolt splits the nodes a transaction changes only when it
// commits, so inserting into a node that grew between checkpoints moves
// more of it (8 writers of new keys, as in BenchmarkApply: 39 µs of CPU
// per write at 256 KiB and at 1 MiB, 43 at 4 MiB); and a checkpoint
// rewrites every page its groups touched while bbolt cannot reuse, within
// it, the pages it frees, so the file grows with the checkpoint
// (BenchmarkSimulate100kKeys10YearsBolt: 841–851 file bytes per key at
// 256 KiB, 1,038–1,046 at 1 MiB, 689–691 with a commit per group).
var walCheckpoint int64 = 256 << 10

// walBuckets are the buckets a log operation names, by index.
var walBuckets = [...][]byte{bucketMeta, bucketKeys, bucketRotations, bucketAliases, bucketKeyAliases, bucketStores, bucketGrants}

// walLog is an open write-ahead log file.
type walLog struct {
	f      *os.File
	path   string
	noSync bool
	next   uint64 // the sequence number of the next record
	off    int64  // where the next record goes
	size   int64  // the file's length (a multiple of walAlign), zeroed beyond off
	buf    []byte // the record being appended

	// d, when not nil, is the file opened again for direct writes
	// (O_DIRECT, Linux), through which append writes its records: the
	// sync that follows then has no page of the cache to write back
	// first (on ext4, two thirds of fdatasync's samples in a perf
	// profile; BenchmarkDurableWrites spends 4–9% less CPU a write,
	// measured against the page cache in alternating runs). A direct write covers
	// whole walAlign blocks, so append rewrites the start of the block
	// where its record begins, whose bytes tail holds: those between the
	// block's start and off. Everything else (reads, the header, zeroing)
	// goes through f; Linux keeps the two coherent.
	d     *os.File
	tail  []byte
	block []byte // walAlign-aligned memory for direct writes

	// The operations of the group being written.
	ops []byte
}

// openWAL opens the log of the store at path, creating it if need be,
// and returns it with the payloads of its records, in order, and whether
// it was created (its directory entry is then to be synced). The log is
// positioned after its last record; the caller replays the records and
// then starts it over (reset).
func openWAL(path string, noSync bool) (w *walLog, recs [][]byte, created bool, err error) {
	name := path + WALSuffix
	_, statErr := os.Stat(name)
	created = errors.Is(statErr, os.ErrNotExist)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, FileMode)
	if err != nil {
		return nil, nil, false, err
	}
	w = &walLog{f: f, path: name, noSync: noSync}
	fi, err := f.Stat()
	if err == nil {
		w.size = fi.Size()
		recs, err = w.read()
	}
	if err != nil {
		_ = f.Close()
		return nil, nil, false, err
	}
	if !noSync && directWAL {
		// Without syncs the page cache is the cheaper way.
		w.d = openDirect(name)
	}
	return w, recs, created, nil
}

// recoverWAL opens the log of the store at path (db, of the given format),
// applies its records to db in one transaction, synced unless o.NoSync,
// and starts the log over. The log is created, durably, if there is none.
func recoverWAL(db *bolt.DB, path string, o *Options, format uint32, noGrants bool) (*walLog, error) {
	w, recs, created, err := openWAL(path, o.NoSync)
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path+WALSuffix, err)
	}
	fail := func(err error) (*walLog, error) {
		_ = w.close(false)
		return nil, err
	}
	if len(recs) > 0 {
		if format != formatVersion || noGrants {
			return fail(fmt.Errorf("boltstore: open %s: a log of writes to a format %d file: %w", path+WALSuffix, format, store.ErrCorrupt))
		}
		err := guard(path, "open", func() error {
			return db.Update(func(tx *bolt.Tx) error {
				for i, r := range recs {
					if err := replay(tx, r); err != nil {
						return fmt.Errorf("record %d: %w", i, err)
					}
				}
				return nil
			})
		})
		if err != nil {
			return fail(fmt.Errorf("boltstore: open %s: apply %s: %w", path, path+WALSuffix, err))
		}
	}
	if err := w.reset(w.next); err != nil {
		return fail(fmt.Errorf("boltstore: open %s: %w", path+WALSuffix, err))
	}
	if created && !o.NoSync {
		if err := syncDir(filepath.Dir(path)); err != nil {
			return fail(fmt.Errorf("boltstore: open %s: %w", path+WALSuffix, err))
		}
	}
	return w, nil
}

// orphanWAL returns an error wrapping store.ErrCorrupt if a log with
// records lies where the store at path, which does not exist or is
// empty, would keep its log: the file was removed without it, and
// applying it to a new store would bring back some of the old one's
// writes (its root secret, perhaps).
func orphanWAL(path string) error {
	name := path + WALSuffix
	data, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("boltstore: open %s: %w", name, err)
	}
	if recs, _, _ := parseWAL(data); len(recs) > 0 {
		return fmt.Errorf("boltstore: open %s: the file is missing or empty, yet its log %s holds writes to it: "+
			"restore the file, or remove the log to start a new store: %w", path, name, store.ErrCorrupt)
	}
	return nil
}

// logged reads back the payloads of the records appended since the log
// last started over (restore makes the write transaction again from
// them): those between the header and off, each written whole and synced.
func (w *walLog) logged() ([][]byte, error) {
	data := make([]byte, w.off)
	if _, err := w.f.ReadAt(data, 0); err != nil {
		return nil, err
	}
	recs, end, _ := parseWAL(data)
	if end != w.off {
		return nil, fmt.Errorf("%w: the log's records end at %d, not at %d", store.ErrCorrupt, end, w.off)
	}
	return recs, nil
}

// read reads the file's records (parseWAL) and leaves w positioned after
// the last one.
func (w *walLog) read() ([][]byte, error) {
	data := make([]byte, w.size)
	if _, err := w.f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var recs [][]byte
	recs, w.off, w.next = parseWAL(data)
	return recs, nil
}

// parseWAL returns the payloads of the records of the log whose contents
// are data, where the last one ends, and the sequence number of the next.
// A header that is missing or does not check (a log never written, or one
// whose header a crash tore while the log was starting over after a
// checkpoint, when every record was in the file already) holds no records.
func parseWAL(data []byte) (recs [][]byte, end int64, next uint64) {
	end, next = walHeader, 1
	if len(data) < walHeader || string(data[:len(walMagic)]) != walMagic {
		return nil, end, next
	}
	h := data[:len(walMagic)+12]
	if crc32.Checksum(h[:len(walMagic)+8], castagnoli) != binary.BigEndian.Uint32(h[len(walMagic)+8:]) {
		return nil, end, next
	}
	next = binary.BigEndian.Uint64(h[len(walMagic):])
	for off := end; off+walRecordHead <= int64(len(data)); {
		n := int64(binary.BigEndian.Uint32(data[off:]))
		sum := binary.BigEndian.Uint32(data[off+4:])
		seq := binary.BigEndian.Uint64(data[off+8:])
		recEnd := off + walRecordHead + n
		if n == 0 || recEnd > int64(len(data)) || seq != next ||
			crc32.Checksum(data[off+8:recEnd], castagnoli) != sum {
			break
		}
		recs = append(recs, data[off+walRecordHead:recEnd])
		next++
		off = recEnd
		end = off
	}
	return recs, end, next
}

// reset starts the log over with records from sequence number next on:
// it writes the header and syncs it.
func (w *walLog) reset(next uint64) error {
	if w.size < walHeader+walGrow {
		if err := w.grow(walHeader + walGrow); err != nil {
			return err
		}
	}
	h := make([]byte, walHeader)
	copy(h, walMagic)
	binary.BigEndian.PutUint64(h[len(walMagic):], next)
	binary.BigEndian.PutUint32(h[len(walMagic)+8:], crc32.Checksum(h[:len(walMagic)+8], castagnoli))
	if _, err := walWriteAt(w.f, h, 0); err != nil {
		return err
	}
	if err := w.sync(); err != nil {
		return err
	}
	w.next, w.off, w.tail = next, walHeader, w.tail[:0]
	return nil
}

// grow zeroes the file up to size bytes, and syncs it.
func (w *walLog) grow(size int64) error {
	zero := make([]byte, 64<<10)
	for off := w.size; off < size; off += int64(len(zero)) {
		n := min(int64(len(zero)), size-off)
		if _, err := walWriteAt(w.f, zero[:n], off); err != nil {
			return err
		}
	}
	if err := w.sync(); err != nil {
		return err
	}
	w.size = size
	return nil
}

func (w *walLog) sync() error {
	if w.noSync {
		return nil
	}
	return walSync(w.f)
}

// walWriteAt and walSync are how the log writes and syncs its file: the
// tests replace them to make a write or a sync fail (a full disk, an I/O
// error).
var (
	walWriteAt = (*os.File).WriteAt
	walSync    = datasync
)

// directWAL is whether a log opened with syncs writes its records through
// a direct descriptor when the file system allows it (walLog.d); the tests
// turn it off to cover the other path.
var directWAL = true

// reserve makes room for a record of a payload of n bytes (and a zero
// length after it), zeroing more of the file if need be. It writes no
// record: after an error the log is as it was.
func (w *walLog) reserve(n int) error {
	if n > math.MaxUint32 {
		return fmt.Errorf("a group of %d bytes of writes is too large for the log", n)
	}
	if need := w.off + int64(walRecordHead+n+walRecordHead); need > w.size {
		need = (need + walAlign - 1) &^ (walAlign - 1) // room for a direct write's last block
		if err := w.grow(max(w.size+walGrow, need)); err != nil {
			return fmt.Errorf("grow the log: %w", err)
		}
	}
	return nil
}

// append writes payload as the next record, for which reserve made room,
// and syncs it. On an error the record may be in the file in part, or
// whole; the log must not be written again.
func (w *walLog) append(payload []byte) error {
	n := int64(walRecordHead + len(payload))
	buf := append(w.buf[:0], make([]byte, walRecordHead)...)
	buf = append(buf, payload...)
	binary.BigEndian.PutUint32(buf, uint32(len(payload)))
	binary.BigEndian.PutUint64(buf[8:], w.next)
	binary.BigEndian.PutUint32(buf[4:], crc32.Checksum(buf[8:], castagnoli))
	w.buf = buf
	if w.d != nil {
		err := w.appendDirect(buf)
		if errors.Is(err, syscall.EINVAL) {
			// The file system opened the file for direct writes but
			// refuses them (wrote nothing): use the page cache.
			_ = w.d.Close()
			w.d = nil
		} else if err != nil {
			return err
		}
	}
	if w.d == nil {
		if _, err := walWriteAt(w.f, buf, w.off); err != nil {
			return err
		}
	}
	if err := w.sync(); err != nil {
		return err
	}
	w.off += n
	w.next++
	return nil
}

// appendDirect writes rec at off through d: the blocks from the one where
// rec begins to the one where it ends, that first block's bytes before
// off (tail) and zeros after rec (as the file holds there) around it. It
// keeps, in tail, the bytes of the block where the next record begins.
func (w *walLog) appendDirect(rec []byte) error {
	start := w.off - int64(len(w.tail))
	n := len(w.tail) + len(rec)
	padded := (n + walAlign - 1) &^ (walAlign - 1)
	if cap(w.block) < padded {
		m := make([]byte, padded+walAlign)
		skip := int(-uintptr(unsafe.Pointer(unsafe.SliceData(m)))) & (walAlign - 1)
		w.block = m[skip : skip+padded]
	}
	b := w.block[:padded]
	copy(b, w.tail)
	copy(b[len(w.tail):], rec)
	clear(b[n:])
	if _, err := walWriteAt(w.d, b, start); err != nil {
		return err
	}
	w.tail = append(w.tail[:0], b[n&^(walAlign-1):n]...)
	return nil
}

// unwrite zeroes, as well as it can, the start of a record whose append
// failed, so that a later Open is less likely to find it whole.
func (w *walLog) unwrite() {
	if _, err := walWriteAt(w.f, make([]byte, walRecordHead), w.off); err == nil {
		_ = w.sync()
	}
}

// close closes the file and, if remove, deletes it.
func (w *walLog) close(remove bool) error {
	if w.d != nil {
		_ = w.d.Close() // it wrote nothing that f's syncs did not make durable
	}
	err := w.f.Close()
	if remove && err == nil {
		err = os.Remove(w.path)
	}
	return err
}

// walBucket is a bucket of a transaction whose writes are recorded in ops.
type walBucket struct {
	*bolt.Bucket
	id  byte
	ops *[]byte
}

func (b walBucket) Put(k, v []byte) error {
	if err := b.Bucket.Put(k, v); err != nil {
		return err
	}
	o := append(*b.ops, walPut|b.id)
	o = binary.AppendUvarint(o, uint64(len(k)))
	o = append(o, k...)
	o = binary.AppendUvarint(o, uint64(len(v)))
	*b.ops = append(o, v...)
	return nil
}

func (b walBucket) Delete(k []byte) error {
	if err := b.Bucket.Delete(k); err != nil {
		return err
	}
	o := append(*b.ops, walDelete|b.id)
	o = binary.AppendUvarint(o, uint64(len(k)))
	*b.ops = append(o, k...)
	return nil
}

// bucket returns tx's bucket number id of walBuckets, recording into ops.
func bucket(tx *bolt.Tx, id byte, ops *[]byte) walBucket {
	return walBucket{Bucket: tx.Bucket(walBuckets[id]), id: id, ops: ops}
}

// Indexes in walBuckets.
const (
	walMeta byte = iota
	walKeys
	walRotations
	walAliases
	walKeyAliases
	walStores
	walGrants
)

var errWALRecord = errors.New("bad log record")

// replay applies the operations of payload in tx.
func replay(tx *bolt.Tx, payload []byte) error {
	field := func() ([]byte, bool) {
		n, w := binary.Uvarint(payload)
		if w <= 0 || n > uint64(len(payload)-w) {
			return nil, false
		}
		f := payload[w : w+int(n)]
		payload = payload[w+int(n):]
		return f, true
	}
	for len(payload) > 0 {
		op, id := payload[0]&0xf0, payload[0]&0x0f
		payload = payload[1:]
		if int(id) >= len(walBuckets) || (op != walPut && op != walDelete) {
			return fmt.Errorf("%w: operation %#x: %w", errWALRecord, op|id, store.ErrCorrupt)
		}
		b := tx.Bucket(walBuckets[id])
		if b == nil {
			return fmt.Errorf("%w: no bucket %q: %w", errWALRecord, walBuckets[id], store.ErrCorrupt)
		}
		k, ok := field()
		if !ok {
			return fmt.Errorf("%w: truncated key: %w", errWALRecord, store.ErrCorrupt)
		}
		if op == walDelete {
			if err := b.Delete(k); err != nil {
				return err
			}
			continue
		}
		v, ok := field()
		if !ok {
			return fmt.Errorf("%w: truncated value: %w", errWALRecord, store.ErrCorrupt)
		}
		// bbolt keeps the slices until the transaction ends; payload is
		// not reused meanwhile.
		if err := b.Put(k, v); err != nil {
			return err
		}
	}
	return nil
}
