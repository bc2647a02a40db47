package boltstore_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// uuid returns a key ID that looks like a KMS key ID, in an order
// unrelated to i (as random key IDs are).
func uuid(i uint64) string {
	x := i + 0x9e3779b97f4a7c15 // splitmix64
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(x>>32), uint16(x>>16), uint16(x)&0xfff,
		0x8000|uint16(i>>48)&0x3fff, i&0xffffffffffff)
}

// benchKey is a typical key record: a new symmetric key with a
// description and two tags, created at a nanosecond instant.
func benchKey(i uint64) store.Key {
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 1234567 * time.Nanosecond)
	return store.Key{ID: uuid(i), Version: 1, Seq: i, Account: "111122223333",
		Description: "benchmark key", State: keystate.Enabled, Created: created,
		Tags:               []store.Tag{{Key: "Project", Value: "kmsmodel"}, {Key: "Owner", Value: "bench"}},
		RotationPeriodDays: 365}
}

// BenchmarkApply: acknowledged single-key writes (a CreateKey) per second,
// by the number of concurrent writers, synced as in production and not.
func BenchmarkApply(b *testing.B) {
	for _, durable := range []bool{true, false} {
		for _, writers := range []int{1, 8, 64} {
			name := fmt.Sprintf("durable/writers=%d", writers)
			if !durable {
				name = fmt.Sprintf("nosync/writers=%d", writers)
			}
			b.Run(name, func(b *testing.B) { benchApply(b, writers, !durable) })
		}
	}
}

func benchApply(b *testing.B, writers int, noSync bool) {
	s := openStore(b, tempPath(b), &boltstore.Options{NoSync: noSync})
	ctx := context.Background()
	var next atomic.Uint64
	var failed atomic.Value
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > uint64(b.N) {
					return
				}
				if err := s.Apply(ctx, &store.Batch{PutKeys: []store.Key{benchKey(i)}}); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
}

// BenchmarkKey: reading one key by ID from a store of 100,000.
func BenchmarkKey(b *testing.B) {
	const n = 100_000
	path := populate(b, n, false)
	s := openStore(b, path, nil)
	ctx := context.Background()
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		i = (i + 7919) % n
		if _, err := s.Key(ctx, uuid(i+1)); err != nil {
			b.Fatal(err)
		}
	}
}

// populate writes n keys (with a rotation and an alias each if full) in
// random ID order, unsynced, closes the store and returns its path.
func populate(b *testing.B, n int, full bool) string {
	b.Helper()
	path := tempPath(b)
	s, err := boltstore.Open(path, &boltstore.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	const chunk = 10_000
	for lo := 0; lo < n; lo += chunk {
		var batch store.Batch
		for i := lo; i < min(n, lo+chunk); i++ {
			k := benchKey(uint64(i + 1))
			batch.PutKeys = append(batch.PutKeys, k)
			if full {
				batch.AddRotations = append(batch.AddRotations, store.KeyRotation{KeyID: k.ID,
					Rotation: store.Rotation{At: k.Created.AddDate(1, 0, 0)}})
				batch.PutAliases = append(batch.PutAliases, store.Alias{
					AliasID: store.AliasID{Account: k.Account, Name: fmt.Sprintf("alias/app-%07d", i)},
					KeyID:   k.ID, Created: k.Created, Updated: k.Created})
			}
		}
		if err := s.Apply(context.Background(), &batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// reportDisk reports, per key, the file's allocated blocks
// (disk-bytes/key), its length (file-bytes/key, with bbolt's
// preallocation), and the bytes of the pages in use, not free
// (used-bytes/key): a bulk load leaves many pages free, which later
// writes reuse.
func reportDisk(b *testing.B, path string, n int) {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	if blocks, ok := allocated(fi); ok {
		b.ReportMetric(float64(blocks)/float64(n), "disk-bytes/key")
	}
	b.ReportMetric(float64(fi.Size())/float64(n), "file-bytes/key")
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		used := tx.Size() - int64(db.Stats().FreePageN)*int64(db.Info().PageSize)
		b.ReportMetric(float64(used)/float64(n), "used-bytes/key")
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReopen: opening a store and reading every key back in pages of
// 1,024 (keys), or every key, rotation and alias as kms.Service does when
// it opens (load). The 1,000,000-key runs need KMSMODEL_BIG=1.
func BenchmarkReopen(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		for _, full := range []bool{false, true} {
			name := fmt.Sprintf("keys/n=%d", n)
			if full {
				name = fmt.Sprintf("load/n=%d", n)
			}
			b.Run(name, func(b *testing.B) {
				if n > 100_000 && os.Getenv("KMSMODEL_BIG") == "" {
					b.Skip("set KMSMODEL_BIG=1 to run with 1,000,000 keys")
				}
				path := populate(b, n, full)
				b.ReportAllocs()
				for b.Loop() {
					reopen(b, path, n, full)
				}
				reportDisk(b, path, n) // after the loop, which resets metrics
			})
		}
	}
}

func reopen(b *testing.B, path string, n int, full bool) {
	ctx := context.Background()
	s, err := boltstore.Open(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const page = 1024
	count := 0
	for after := ""; ; {
		ks, err := s.Keys(ctx, after, page)
		if err != nil {
			b.Fatal(err)
		}
		count += len(ks)
		if full {
			for i := range ks {
				rs, err := s.Rotations(ctx, ks[i].ID, 0, page)
				if err != nil || len(rs) != 1 {
					b.Fatalf("Rotations: %v, %v", rs, err)
				}
			}
		}
		if len(ks) < page {
			break
		}
		after = ks[len(ks)-1].ID
	}
	if count != n {
		b.Fatalf("read %d keys, want %d", count, n)
	}
	if full {
		count = 0
		for after := (store.AliasID{}); ; {
			as, err := s.Aliases(ctx, after, page)
			if err != nil {
				b.Fatal(err)
			}
			count += len(as)
			if len(as) < page {
				break
			}
			after = as[len(as)-1].AliasID
		}
		if count != n {
			b.Fatalf("read %d aliases, want %d", count, n)
		}
	}
}
