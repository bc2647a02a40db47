package boltstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
	"github.com/kmsmodel/kmsmodel/store/storetest"
)

// openStore opens the store at path and closes it when the test ends.
func openStore(t testing.TB, path string, opts *boltstore.Options) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func tempPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "kms.db")
}

// TestConformance runs the conformance suite, on files synced as in
// production and on unsynced ones, and on a store whose secret is
// encrypted under a wrapping key.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts *boltstore.Options
	}{
		{"Durable", nil},
		{"NoSync", &boltstore.Options{NoSync: true}},
		{"WrappingKey", &boltstore.Options{WrappingKey: wrappingKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.RunConformanceTests(t, func(t *testing.T) store.Store {
				return openStore(t, tempPath(t), tc.opts)
			})
		})
	}
}

func key(id string) store.Key {
	return store.Key{ID: id, Version: 1, Account: "111122223333", State: keystate.Enabled,
		Created: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC), Tags: []store.Tag{{Key: "k", Value: "v"}}}
}

func apply(t testing.TB, s store.Store, b store.Batch) {
	t.Helper()
	if err := s.Apply(context.Background(), &b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

// readAll reads every key, rotation and alias.
func readAll(t testing.TB, s store.Store) (keys []store.Key, rots map[string][]store.Rotation, aliases []store.Alias) {
	t.Helper()
	ctx := context.Background()
	rots = map[string][]store.Rotation{}
	for after := ""; ; {
		page, err := s.Keys(ctx, after, 100)
		if err != nil {
			t.Fatalf("Keys: %v", err)
		}
		keys = append(keys, page...)
		if len(page) < 100 {
			break
		}
		after = page[len(page)-1].ID
	}
	for _, k := range keys {
		rs, err := s.Rotations(ctx, k.ID, 0, 1<<30)
		if err != nil {
			t.Fatalf("Rotations: %v", err)
		}
		if len(rs) > 0 {
			rots[k.ID] = rs
		}
	}
	for after := (store.AliasID{}); ; {
		page, err := s.Aliases(ctx, after, 100)
		if err != nil {
			t.Fatalf("Aliases: %v", err)
		}
		aliases = append(aliases, page...)
		if len(page) < 100 {
			break
		}
		after = page[len(page)-1].AliasID
	}
	return keys, rots, aliases
}

// TestReopen: what one Store wrote, the next one over the file reads, the
// same as a Memory store given the same batches.
func TestReopen(t *testing.T) {
	path := tempPath(t)
	mem := store.NewMemory()
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var batches []store.Batch
	for i := range 50 {
		id := string(rune('a'+i%26)) + strings.Repeat("x", i)
		b := store.Batch{
			PutKeys:      []store.Key{key(id)},
			AddRotations: []store.KeyRotation{{KeyID: id, Rotation: store.Rotation{At: time.Unix(int64(i), int64(i)), OnDemand: i%2 == 0}}},
			PutAliases:   []store.Alias{{AliasID: store.AliasID{Account: "111122223333", Name: "alias/" + id}, KeyID: id}},
		}
		if i%5 == 4 {
			b.DeleteKeys = []string{batches[i-1].PutKeys[0].ID}
		}
		batches = append(batches, b)
	}
	for _, b := range batches {
		apply(t, s, b)
		apply(t, mem, b)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path, nil)
	gotK, gotR, gotA := readAll(t, s)
	wantK, wantR, wantA := readAll(t, mem)
	if len(gotK) != len(wantK) || len(gotR) != len(wantR) || len(gotA) != len(wantA) {
		t.Fatalf("after reopen %d keys, %d histories, %d aliases; want %d, %d, %d",
			len(gotK), len(gotR), len(gotA), len(wantK), len(wantR), len(wantA))
	}
	for i := range gotK {
		if gotK[i].ID != wantK[i].ID || gotK[i].Version != wantK[i].Version || !gotK[i].Created.Equal(wantK[i].Created) {
			t.Errorf("key %d: %+v, want %+v", i, gotK[i], wantK[i])
		}
		g, w := gotR[gotK[i].ID], wantR[wantK[i].ID]
		if len(g) != len(w) || len(g) > 0 && !g[0].At.Equal(w[0].At) {
			t.Errorf("rotations of %s: %v, want %v", gotK[i].ID, g, w)
		}
	}
	for i := range gotA {
		if gotA[i].AliasID != wantA[i].AliasID || gotA[i].KeyID != wantA[i].KeyID {
			t.Errorf("alias %d: %+v, want %+v", i, gotA[i], wantA[i])
		}
	}
}

// TestFileMode: new files are readable by their owner only, whatever the
// umask lets through.
func TestFileMode(t *testing.T) {
	path := tempPath(t)
	openStore(t, path, nil)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("new file has mode %v, want -rw-------", perm)
	}
}

// TestSecondOpenerLocked: a second Open of a file in use fails within its
// timeout with an error naming the file; after Close the file opens.
func TestSecondOpenerLocked(t *testing.T) {
	path := tempPath(t)
	first, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = boltstore.Open(path, &boltstore.Options{Timeout: 100 * time.Millisecond})
	elapsed := time.Since(start)
	if !errors.Is(err, boltstore.ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Open: %v; want ErrLocked naming %s", err, path)
	}
	if elapsed > 5*time.Second {
		t.Fatalf("second Open took %v with a 100ms timeout", elapsed)
	}
	// The failed opener did not disturb the first.
	apply(t, first, store.Batch{PutKeys: []store.Key{key("k")}})
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, path, &boltstore.Options{Timeout: 100 * time.Millisecond})
	if _, err := s.Key(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
}

// TestDefaultTimeout: without Options, a second opener gives up after
// DefaultTimeout rather than waiting forever as bbolt would.
func TestDefaultTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits DefaultTimeout")
	}
	path := tempPath(t)
	openStore(t, path, nil)
	start := time.Now()
	_, err := boltstore.Open(path, nil)
	if !errors.Is(err, boltstore.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > boltstore.DefaultTimeout+5*time.Second {
		t.Fatalf("second Open took %v", d)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, path string
	}{
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "kms.db")},
		{"a directory", dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := boltstore.Open(tc.path, nil)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("error %q does not name %s", err, tc.path)
			}
			if errors.Is(err, store.ErrCorrupt) || errors.Is(err, boltstore.ErrLocked) {
				t.Fatalf("error %v claims corruption or a lock", err)
			}
		})
	}
}

// TestEmptyFileIsNew: a zero-length file (made by touch, or a crash before
// bbolt wrote anything) becomes an empty store; so does a bbolt file whose
// creation was cut short before the store's meta bucket was committed.
func TestEmptyFileIsNew(t *testing.T) {
	path := tempPath(t)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatalf("Open of a zero-length file: %v", err)
	}
	apply(t, s, store.Batch{PutKeys: []store.Key{key("k")}})
	s.Close()

	path = tempPath(t)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	s = openStore(t, path, nil)
	apply(t, s, store.Batch{PutKeys: []store.Key{key("k")}})
}

func TestContextDone(t *testing.T) {
	s := openStore(t, tempPath(t), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Apply(ctx, &store.Batch{PutKeys: []store.Key{key("k")}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply with a done context: %v, want context.Canceled", err)
	}
	if _, err := s.Key(context.Background(), "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Key after a cancelled Apply: %v, want ErrNotFound", err)
	}
	if _, err := s.Keys(ctx, "", 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Keys with a done context: %v", err)
	}
}

// TestNilBatch: a nil batch, like an empty one, writes nothing.
func TestNilBatch(t *testing.T) {
	s := openStore(t, tempPath(t), nil)
	if err := s.Apply(context.Background(), nil); err != nil {
		t.Fatalf("Apply(nil): %v", err)
	}
}

// TestWriteFailureFailsOnlyItsBatch: a batch that passes validation but
// that bbolt refuses (a key ID over its 32 KiB key limit) fails alone,
// writing nothing, while the batches committed with it succeed.
func TestWriteFailureFailsOnlyItsBatch(t *testing.T) {
	s := openStore(t, tempPath(t), nil)
	huge := strings.Repeat("h", bolt.MaxKeySize+1)
	const writers = 16
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range 10 {
				id := string(rune('a'+w)) + strings.Repeat("-", i)
				b := store.Batch{PutKeys: []store.Key{key(id)},
					AddRotations: []store.KeyRotation{{KeyID: id}}}
				if w == 0 {
					b.PutKeys = append(b.PutKeys, key(huge))
				}
				err := s.Apply(context.Background(), &b)
				if w == 0 && err == nil {
					errs[w] = errors.New("a batch with a too-long key ID succeeded")
					return
				}
				if w != 0 && err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	keys, rots, _ := readAll(t, s)
	if len(keys) != (writers-1)*10 || len(rots) != (writers-1)*10 {
		t.Fatalf("%d keys, %d with rotations; want %d each", len(keys), len(rots), (writers-1)*10)
	}
	for _, k := range keys {
		if k.ID[0] == 'a' {
			t.Fatalf("key %s of a failed batch was written", k.ID)
		}
	}
}
