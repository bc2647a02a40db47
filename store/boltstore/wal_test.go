package boltstore_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// The write-ahead log's layout (wal.go), as far as these tests damage it.
const (
	walHeader     = 4096
	walRecordHead = 16
)

// crashImage copies the files of the open store at path (the bbolt file
// and its log) to a new directory, as a crash at this moment would leave
// them (an acknowledged group is synced in the log; bbolt writes the file
// only when it commits, which no open transaction has done), and returns
// the copy's path.
func crashImage(t *testing.T, path string) string {
	t.Helper()
	dst := tempPath(t)
	for _, suffix := range []string{"", boltstore.WALSuffix} {
		copyFile(t, path+suffix, dst+suffix)
	}
	return dst
}

// crashedWith opens a new store, writes keys ids (a group each) and
// returns the path of its crashImage.
func crashedWith(t *testing.T, ids ...string) string {
	t.Helper()
	path := tempPath(t)
	putKeys(t, openStore(t, path, nil), ids...)
	return crashImage(t, path)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// walRecords returns the offsets of the log's records (and the offset
// after the last).
func walRecords(t *testing.T, log []byte) []int {
	t.Helper()
	offs := []int{walHeader}
	for off := walHeader; ; {
		n := int(binary.BigEndian.Uint32(log[off:]))
		if n == 0 {
			return offs
		}
		off += walRecordHead + n
		offs = append(offs, off)
	}
}

// keyIDs returns the IDs of the keys s holds and the version of key "k".
func keyIDs(t *testing.T, s store.Store) (ids []string, version uint64) {
	t.Helper()
	keys, _, _ := readAll(t, s)
	for _, k := range keys {
		ids = append(ids, k.ID)
		if k.ID == "k" {
			version = k.Version
		}
	}
	return ids, version
}

func putKeys(t *testing.T, s store.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		apply(t, s, store.Batch{PutKeys: []store.Key{key(id)}})
	}
}

// TestWALReplay: a crash after writes that only the log holds loses none
// of them; Open applies the log (without it, the file lacks them).
func TestWALReplay(t *testing.T) {
	path := tempPath(t)
	s := openStore(t, path, nil)
	putKeys(t, s, "a", "b", "c")
	image := crashImage(t, path)

	bare := tempPath(t)
	copyFile(t, image, bare)
	ids, _ := keyIDs(t, openStore(t, bare, nil))
	if len(ids) != 0 {
		t.Fatalf("the bbolt file alone holds %v: the test does not exercise the log", ids)
	}

	r := openStore(t, image, nil)
	ids, _ = keyIDs(t, r)
	if fmt.Sprint(ids) != "[a b c]" {
		t.Fatalf("after the crash: keys %v, want [a b c]", ids)
	}
	putKeys(t, r, "d")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(image + boltstore.WALSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the log remains after Close: %v", err)
	}
	ids, _ = keyIDs(t, openStore(t, image, nil))
	if fmt.Sprint(ids) != "[a b c d]" {
		t.Fatalf("reopened: keys %v, want [a b c d]", ids)
	}
}

// TestWALTornTail: a crash while the last group's record was being
// written (the record cut short, its end never written, or a byte of it
// wrong) loses that group, whole, and nothing before it; the store then
// writes and reopens normally.
func TestWALTornTail(t *testing.T) {
	path := tempPath(t)
	s := openStore(t, path, nil)
	putKeys(t, s, "a", "b", "c", "d")
	clean := crashImage(t, path)
	log, err := os.ReadFile(clean + boltstore.WALSuffix)
	if err != nil {
		t.Fatal(err)
	}
	offs := walRecords(t, log)
	if len(offs) != 5 {
		t.Fatalf("%d records in the log, want 4", len(offs)-1)
	}
	last, end := offs[3], offs[4]
	damages := map[string]func(b []byte) []byte{
		"cut in its head":     func(b []byte) []byte { return b[:last+5] },
		"cut in its payload":  func(b []byte) []byte { return b[:end-3] },
		"end never written":   func(b []byte) []byte { clear(b[end-3 : end]); return b },
		"payload byte wrong":  func(b []byte) []byte { b[end-1] ^= 0x40; return b },
		"length byte wrong":   func(b []byte) []byte { b[last+3] ^= 0x01; return b },
		"only its head":       func(b []byte) []byte { clear(b[last+walRecordHead : end]); return b },
		"sequence number off": func(b []byte) []byte { b[last+15]++; return b },
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			image := tempPath(t)
			copyFile(t, clean, image)
			torn := damage(append([]byte(nil), log...))
			if err := os.WriteFile(image+boltstore.WALSuffix, torn, 0o600); err != nil {
				t.Fatal(err)
			}
			r := openStore(t, image, nil)
			if ids, _ := keyIDs(t, r); fmt.Sprint(ids) != "[a b c]" {
				t.Fatalf("keys %v, want [a b c]", ids)
			}
			putKeys(t, r, "e")
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if ids, _ := keyIDs(t, openStore(t, image, nil)); fmt.Sprint(ids) != "[a b c e]" {
				t.Fatalf("reopened: keys %v, want [a b c e]", ids)
			}
		})
	}
}

// TestWALStaleRecords: after a checkpoint the log starts over on top of
// its earlier records; a crash then replays only the new ones. (Replaying
// the old ones after the new would take key k back to version 100.) There
// are enough old records to fill more than the first block of the log,
// which a direct write of the new record rewrites whole.
func TestWALStaleRecords(t *testing.T) {
	path := tempPath(t)
	s := openStore(t, path, nil)
	ctx := context.Background()
	for v := range uint64(100) {
		k := key("k")
		k.Version = v + 1
		apply(t, s, store.Batch{PutKeys: []store.Key{k}})
	}
	if _, err := s.Key(ctx, "k"); err != nil { // a read checkpoints
		t.Fatal(err)
	}
	k := key("k")
	k.Version = 101
	apply(t, s, store.Batch{PutKeys: []store.Key{k}})
	image := crashImage(t, path)
	log, err := os.ReadFile(image + boltstore.WALSuffix)
	if err != nil {
		t.Fatal(err)
	}
	first := walRecords(t, log)[1] // the end of the new record
	if !slices.ContainsFunc(log[first:], func(b byte) bool { return b != 0 }) {
		t.Fatal("no earlier record follows the new one in the log, so the test checks nothing")
	}
	if _, v := keyIDs(t, openStore(t, image, nil)); v != 101 {
		t.Fatalf("key k at version %d after the crash, want 101", v)
	}
}

// TestWALBadRecord: a record whose checksum holds but whose operations do
// not decode is damage, not a torn write: Open fails with ErrCorrupt.
func TestWALBadRecord(t *testing.T) {
	image := crashedWith(t, "a")
	log, err := os.ReadFile(image + boltstore.WALSuffix)
	if err != nil {
		t.Fatal(err)
	}
	n := int(binary.BigEndian.Uint32(log[walHeader:]))
	rec := log[walHeader : walHeader+walRecordHead+n]
	rec[walRecordHead] = 0xff // no such operation
	binary.BigEndian.PutUint32(rec[4:], crc32.Checksum(rec[8:], crc32.MakeTable(crc32.Castagnoli)))
	if err := os.WriteFile(image+boltstore.WALSuffix, log, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := boltstore.Open(image, nil)
	if err == nil {
		r.Close()
		t.Fatal("Open applied a record that does not decode")
	}
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
	if _, err := os.Stat(filepath.Clean(image + boltstore.WALSuffix)); err != nil {
		t.Fatalf("Open removed the log it could not apply: %v", err)
	}
}

// TestWALOrphan: a log with records whose file was removed (or emptied)
// is not applied to a new store: Open fails with ErrCorrupt and creates
// nothing. A log without records does not stand in the way.
func TestWALOrphan(t *testing.T) {
	image := crashedWith(t, "a")
	for _, empty := range []bool{false, true} {
		if empty {
			if err := os.WriteFile(image, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		} else if err := os.Remove(image); err != nil {
			t.Fatal(err)
		}
		r, err := boltstore.Open(image, nil)
		if err == nil {
			r.Close()
			t.Fatalf("empty file %v: Open applied a log to a new store", empty)
		}
		if !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("empty file %v: Open: %v, want ErrCorrupt", empty, err)
		}
		if fi, err := os.Stat(image); empty != (err == nil) || empty && fi.Size() != 0 {
			t.Fatalf("empty file %v: Open wrote the file (%v)", empty, err)
		}
	}
	if err := os.Truncate(image+boltstore.WALSuffix, walHeader); err != nil {
		t.Fatal(err)
	}
	if ids, _ := keyIDs(t, openStore(t, image, nil)); len(ids) != 0 {
		t.Fatalf("a new store over a log without records holds %v", ids)
	}
}

// TestWALUndoKeepsLoggedGroups: a group bbolt refuses after others were
// logged since the last checkpoint is undone alone (the open transaction
// is rolled back and made again from the log's records): the groups
// before and after it are in the store, live and after a crash, and it
// is in neither.
func TestWALUndoKeepsLoggedGroups(t *testing.T) {
	path := tempPath(t)
	s := openStore(t, path, nil)
	putKeys(t, s, "a", "b")
	bad := store.Batch{PutKeys: []store.Key{key("c"), key(strings.Repeat("h", bolt.MaxKeySize+1))}}
	if err := s.Apply(context.Background(), &bad); err == nil {
		t.Fatal("a batch with a too-long key ID succeeded")
	}
	putKeys(t, s, "d")
	image := crashImage(t, path)
	if ids, _ := keyIDs(t, s); fmt.Sprint(ids) != "[a b d]" {
		t.Fatalf("live: keys %v, want [a b d]", ids)
	}
	if ids, _ := keyIDs(t, openStore(t, image, nil)); fmt.Sprint(ids) != "[a b d]" {
		t.Fatalf("after a crash: keys %v, want [a b d]", ids)
	}
}

// TestWALRecordsAcrossBlocks: records of many sizes, which begin and end
// anywhere in the log's 4 KB blocks (a direct write rewrites the start of
// the block its record begins in), all replay after a crash, through
// direct writes and through the page cache alike; and a log started over
// after a checkpoint replays only its new records.
func TestWALRecordsAcrossBlocks(t *testing.T) {
	for _, direct := range []bool{true, false} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			defer boltstore.DirectWAL(direct)()
			path := tempPath(t)
			s := openStore(t, path, nil)
			r := rand.New(rand.NewPCG(1, 2))
			want := map[string]string{}
			for i := range 60 {
				if i == 40 {
					if _, err := s.Key(context.Background(), "k00"); err != nil { // a read checkpoints
						t.Fatal(err)
					}
				}
				k := key(fmt.Sprintf("k%02d", i%45))
				k.Version = uint64(i/45 + 1)
				k.Description = strings.Repeat(string(rune('a'+i%26)), r.IntN(9000))
				apply(t, s, store.Batch{PutKeys: []store.Key{k}})
				want[k.ID] = k.Description
				if i%7 != 6 {
					continue
				}
				keys, _, _ := readAll(t, openStore(t, crashImage(t, path), nil))
				got := map[string]string{}
				for _, k := range keys {
					got[k.ID] = k.Description
				}
				if !maps.Equal(got, want) {
					t.Fatalf("after %d groups and a crash: %d keys, want %d, or a description differs", i+1, len(got), len(want))
				}
			}
		})
	}
}
