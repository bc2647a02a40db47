package boltstore_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// latestInstant returns s's LatestInstant or fails t.
func latestInstant(t *testing.T, s store.Store) time.Time {
	t.Helper()
	got, err := s.LatestInstant(t.Context())
	if err != nil {
		t.Fatalf("LatestInstant: %v", err)
	}
	return got
}

// TestLatestInstantReopen: the latest instant is in the file: it survives
// Close and Open, reads back in UTC and Equal to the Now given, and a
// reopened store keeps refusing earlier Nows.
func TestLatestInstantReopen(t *testing.T) {
	path := tempPath(t)
	now := time.Date(2026, 12, 6, 1, 16, 18, 123456789, time.FixedZone("NPT", 5*3600+45*60))
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, store.Batch{PutKeys: []store.Key{key("k")}, Now: now})
	apply(t, s, store.Batch{Now: now.Add(-time.Hour)})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, path, nil)
	got := latestInstant(t, s)
	if !got.Equal(now) || got.Location() != time.UTC {
		t.Fatalf("LatestInstant after reopening = %v, want %v in UTC", got, now)
	}
	apply(t, s, store.Batch{Now: now.Add(-time.Nanosecond)})
	if got := latestInstant(t, s); !got.Equal(now) {
		t.Fatalf("LatestInstant after an earlier Now = %v, want %v", got, now)
	}
	apply(t, s, store.Batch{Now: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path, nil)
	if got, want := latestInstant(t, s), time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC); !got.Equal(want) {
		t.Fatalf("LatestInstant after reopening = %v, want %v", got, want)
	}
}

// TestInstantRecordFormat pins the instant record: a time as records
// write them, then the CRC-32C of "now" and the time. A store never given
// a Now has no record, and a batch whose Now is not later does not
// rewrite it.
func TestInstantRecordFormat(t *testing.T) {
	path := tempPath(t)
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, store.Batch{PutKeys: []store.Key{key("k")}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if rec := metaRecord(t, path, "now"); rec != nil {
		t.Fatalf("a store never given a Now has an instant record %x", rec)
	}

	s, err = boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	utc := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	apply(t, s, store.Batch{Now: utc})
	apply(t, s, store.Batch{Now: utc.Add(-time.Second)})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Nanosecond 8 (uvarint 9), then Unix seconds 1741064767 (zig-zag
	// varint), as TestGoldenRecords's times.
	body, _ := hex.DecodeString("09" + "fea8b4fc0c")
	if got, want := metaRecord(t, path, "now"), append(body, crc("now", body)...); !bytes.Equal(got, want) {
		t.Fatalf("instant record:\n got  %x\n want %x", got, want)
	}
}

// TestDamagedInstantRecord: an instant record that does not decode makes
// LatestInstant, and every Apply of a batch with a Now, fail with
// ErrCorrupt naming the file and the record; such a batch writes nothing.
// Open does not read the record, and batches without a Now do not either:
// they still succeed, alone or in a group commit with failing ones.
func TestDamagedInstantRecord(t *testing.T) {
	valid, _ := hex.DecodeString("09fea8b4fc0c")
	sealed := func(body []byte) []byte { return append(bytes.Clone(body), crc("now", body)...) }
	for _, tc := range []struct {
		name string
		rec  []byte
	}{
		{"bit flipped", func() []byte { r := sealed(valid); r[2] ^= 0x10; return r }()},
		{"checksum only", crc("now", nil)},
		{"shorter than a checksum", []byte{0x09, 0xfe}},
		{"empty", []byte{}},
		{"zero time", sealed([]byte{0})},
		{"nanosecond out of range", sealed([]byte{0x81, 0x94, 0xeb, 0xdc, 0x03, 0x02})}, // 1e9+1
		{"trailing byte", sealed(append(bytes.Clone(valid), 0))},
		{"seconds missing", sealed([]byte{0x09})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t)
			s, err := boltstore.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			apply(t, s, store.Batch{Now: time.Unix(1, 0)})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			withBolt(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("meta")).Put([]byte("now"), tc.rec)
			})

			s = openStore(t, path, nil)
			checkInstantCorrupt := func(what string, err error) {
				t.Helper()
				checkCorrupt(t, err, path)
				if !strings.Contains(err.Error(), `"now"`) {
					t.Fatalf("%s: %q does not name the record \"now\"", what, err)
				}
			}
			_, err = s.LatestInstant(t.Context())
			checkInstantCorrupt("LatestInstant", err)
			later := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			err = s.Apply(t.Context(), &store.Batch{PutKeys: []store.Key{key("with-now")}, Now: later})
			checkInstantCorrupt("Apply with a Now", err)
			err = s.Apply(t.Context(), &store.Batch{Now: later})
			checkInstantCorrupt("Apply with only a Now", err)

			// Concurrent batches share commits: those with a Now fail,
			// the others are written.
			const writers = 8
			errs := make([]error, writers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for w := range writers {
				wg.Go(func() {
					<-start
					b := store.Batch{PutKeys: []store.Key{key(fmt.Sprintf("w%d", w))}}
					if w%2 == 1 {
						b.Now = later
					}
					errs[w] = s.Apply(t.Context(), &b)
				})
			}
			close(start)
			wg.Wait()
			for w, err := range errs {
				if w%2 == 1 {
					checkInstantCorrupt(fmt.Sprintf("writer %d, with a Now", w), err)
				} else if err != nil {
					t.Fatalf("writer %d, without a Now: %v", w, err)
				}
			}
			keys, err := s.Keys(t.Context(), "", 100)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, k := range keys {
				ids = append(ids, k.ID)
			}
			if got, want := strings.Join(ids, " "), "w0 w2 w4 w6"; got != want {
				t.Fatalf("keys %s, want %s: a batch that failed wrote its key, or one that did not is missing", got, want)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := metaRecord(t, path, "now"); got == nil || !bytes.Equal(got, tc.rec) {
				t.Fatalf("the damaged record was rewritten: %x, was %x", got, tc.rec)
			}
		})
	}
}

// TestOlderFilesHaveNoInstant: files of formats 1 to 3, and format 4
// files written before the store recorded instants, have no instant
// record: they open with the zero instant, take a Now like a new store,
// and keep it once upgraded. A meta record this build does not know does
// not stop Open: that is why the instant record needs no format version
// (builds before it open files that have it).
func TestOlderFilesHaveNoInstant(t *testing.T) {
	for _, old := range []uint32{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("format%d", old), func(t *testing.T) {
			path := tempPath(t)
			s, err := boltstore.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			apply(t, s, store.Batch{PutKeys: []store.Key{key("k")}})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			downgrade(t, path, old, nil)
			withBolt(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("meta")).Put([]byte("zz-unknown"), []byte("from a later build"))
			})

			s, err = boltstore.Open(path, nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got := latestInstant(t, s); !got.IsZero() {
				t.Fatalf("LatestInstant of a file without the record = %v, want the zero time", got)
			}
			now := time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)
			apply(t, s, store.Batch{Now: now})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := formatOf(t, path); got != "00000005" {
				t.Fatalf("format %s after reopening, want 00000005", got)
			}
			s = openStore(t, path, nil)
			if got := latestInstant(t, s); !got.Equal(now) {
				t.Fatalf("LatestInstant = %v, want %v", got, now)
			}
			if _, err := s.Key(t.Context(), "k"); err != nil {
				t.Fatalf("Key: %v", err)
			}
		})
	}
}
