package boltstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// walGrowFrom is where the log first grows: its header and its first
// 256 KiB of zeroed room (wal.go's walHeader and walGrow).
const walGrowFrom = walHeader + 256<<10

// reopened closes s (whatever its state), opens the store at path again
// and returns the IDs of the keys it holds, sorted.
func reopened(t *testing.T, s *boltstore.Store, path string) []string {
	t.Helper()
	_ = s.Close()
	ids, _ := keyIDs(t, openStore(t, path, nil))
	slices.Sort(ids)
	return ids
}

// TestWALFullDisk: when the log cannot grow (no room on the disk), the
// group that needed the room fails, with the disk's error, and writes
// nothing; the store is not broken: once there is room again the next
// group is written, and every acknowledged group is there after a reopen.
func TestWALFullDisk(t *testing.T) {
	defer boltstore.SetWALCheckpoint(1 << 40)() // no checkpoint: the log must grow
	var full atomic.Bool
	full.Store(true)
	defer boltstore.FailWAL(func(off int64, n int) error {
		if full.Load() && off+int64(n) > walGrowFrom {
			return syscall.ENOSPC
		}
		return nil
	}, nil)()
	path := tempPath(t)
	s := openStore(t, path, &boltstore.Options{NoSync: true})
	var acked []string
	var failed string
	for i := 0; failed == "" && i < 100_000; i++ {
		id := fmt.Sprintf("k%06d", i)
		switch err := s.Apply(context.Background(), &store.Batch{PutKeys: []store.Key{key(id)}}); {
		case err == nil:
			acked = append(acked, id)
		case errors.Is(err, syscall.ENOSPC):
			failed = id
		default:
			t.Fatalf("Apply of %s: %v, want ENOSPC", id, err)
		}
	}
	if failed == "" {
		t.Fatal("the log never needed to grow: the test checks nothing")
	}
	full.Store(false)
	apply(t, s, store.Batch{PutKeys: []store.Key{key("after")}})
	acked = append(acked, "after")
	slices.Sort(acked)
	if ids := reopened(t, s, path); !slices.Equal(ids, acked) {
		t.Fatalf("after a reopen: %d keys, want the %d acknowledged (the refused %s absent)", len(ids), len(acked), failed)
	}
}

// TestWALRecordWriteFails: a record that cannot be written fails its group
// and breaks the store (the record may be in the file in part): every
// later Apply and every read fails, until a reopen, which holds every
// acknowledged group and not the failed one.
func TestWALRecordWriteFails(t *testing.T) {
	var fail atomic.Bool
	defer boltstore.FailWAL(func(off int64, n int) error {
		if fail.Load() {
			return syscall.EIO
		}
		return nil
	}, nil)()
	path := tempPath(t)
	s := openStore(t, path, nil)
	putKeys(t, s, "a", "b")
	fail.Store(true)
	if err := s.Apply(context.Background(), &store.Batch{PutKeys: []store.Key{key("c")}}); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Apply with the record's write failing: %v, want EIO", err)
	}
	fail.Store(false)
	if err := s.Apply(context.Background(), &store.Batch{PutKeys: []store.Key{key("d")}}); err == nil {
		t.Fatal("Apply after a record failed to be written succeeded: the store is not broken")
	}
	if _, err := s.Keys(context.Background(), "", 10); err == nil {
		t.Fatal("a read after a record failed to be written succeeded while the file lacks the logged groups")
	}
	if ids := reopened(t, s, path); !slices.Equal(ids, []string{"a", "b"}) {
		t.Fatalf("after a reopen: %v, want [a b]", ids)
	}
}

// TestWALSyncFails: a record whose sync fails fails its group and breaks
// the store; after a reopen the acknowledged groups are there and the
// failed group is there whole or not at all (its record may have reached
// the disk), never in part.
func TestWALSyncFails(t *testing.T) {
	var fail atomic.Bool
	defer boltstore.FailWAL(nil, func() error {
		if fail.Load() {
			return syscall.EIO
		}
		return nil
	})()
	path := tempPath(t)
	s := openStore(t, path, nil)
	putKeys(t, s, "a", "b")
	fail.Store(true)
	if err := s.Apply(context.Background(), &store.Batch{PutKeys: []store.Key{key("c"), key("d")}}); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Apply with the record's sync failing: %v, want EIO", err)
	}
	fail.Store(false)
	if err := s.Apply(context.Background(), &store.Batch{PutKeys: []store.Key{key("e")}}); err == nil {
		t.Fatal("Apply after a failed sync succeeded: the store is not broken")
	}
	switch ids := reopened(t, s, path); {
	case slices.Equal(ids, []string{"a", "b"}), slices.Equal(ids, []string{"a", "b", "c", "d"}):
	default:
		t.Fatalf("after a reopen: %v, want [a b] or [a b c d]", ids)
	}
}

// TestWALDirectRefused: a file system that opens the log for direct writes
// but refuses them (EINVAL, having written nothing) gets the record through
// the page cache instead, and every later one: nothing fails, nothing is
// lost.
func TestWALDirectRefused(t *testing.T) {
	var refused atomic.Int32
	defer boltstore.FailWAL(func(off int64, n int) error {
		// The first record's direct write, its block whole: the
		// header's block (0) and zeroing (64 KB at a time from 0) are
		// not.
		if off == 4096 && n == 4096 && refused.Load() == 0 {
			refused.Add(1)
			return syscall.EINVAL
		}
		return nil
	}, nil)()
	defer boltstore.DirectWAL(true)()
	path := tempPath(t)
	s := openStore(t, path, nil)
	putKeys(t, s, "a", "b", "c")
	if refused.Load() != 1 {
		t.Skip("the log is not written directly on this file system")
	}
	if ids, _ := keyIDs(t, openStore(t, crashImage(t, path), nil)); fmt.Sprint(ids) != "[a b c]" {
		t.Fatalf("after a crash: keys %v, want [a b c]", ids)
	}
}
