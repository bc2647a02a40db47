package boltstore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// checkCorrupt fails t unless err wraps store.ErrCorrupt and names path.
func checkCorrupt(t *testing.T, err error, path string) {
	t.Helper()
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("got %v, want an error wrapping store.ErrCorrupt", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name %s", err, path)
	}
}

// populated writes a store with n keys, each with a rotation and an alias,
// closes it, and returns its path.
func populated(t *testing.T, n int) string {
	t.Helper()
	path := tempPath(t)
	s, err := boltstore.Open(path, &boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var b store.Batch
	for i := range n {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(uint64(i)*2654435761), i)
		b.PutKeys = append(b.PutKeys, key(id))
		b.AddRotations = append(b.AddRotations, store.KeyRotation{KeyID: id, Rotation: store.Rotation{At: time.Unix(int64(i), 0)}})
		b.PutAliases = append(b.PutAliases, store.Alias{AliasID: store.AliasID{Account: "111122223333", Name: "alias/" + id}, KeyID: id})
	}
	apply(t, s, b)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// withBolt runs f on the raw bbolt file at path.
func withBolt(t *testing.T, path string, f func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(f); err != nil {
		t.Fatal(err)
	}
}

// TestOpenRejects: files that are not kmsmodel stores, or are stores of a
// format this build does not read, fail Open with ErrCorrupt naming the
// file, and are left as they were.
func TestOpenRejects(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	randomBytes := make([]byte, 64<<10)
	for i := range randomBytes {
		randomBytes[i] = byte(rng.Uint32())
	}
	setMeta := func(name, value []byte) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			if value == nil {
				return tx.Bucket([]byte("meta")).Delete(name)
			}
			return tx.Bucket([]byte("meta")).Put(name, value)
		}
	}
	version := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	for _, tc := range []struct {
		name    string
		make    func(t *testing.T, path string) // writes the file at path
		message string                          // in the error
	}{
		{"short text file", writeFile([]byte("hello, world\n")), "not a bbolt file"},
		{"long text file", writeFile([]byte(strings.Repeat("not a database\n", 5000))), "not a bbolt file"},
		{"random bytes", writeFile(randomBytes), "not a bbolt file"},
		{"bbolt file of another program", func(t *testing.T, path string) {
			withBolt(t, path, func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("someone else's"))
				return err
			})
		}, "not a kmsmodel store"},
		{"wrong magic", storeThen(setMeta([]byte("magic"), []byte("kmsmodel stor3"))), "not a kmsmodel store"},
		{"newer format", storeThen(setMeta([]byte("format"), version(6))), "newer"},
		{"format 0", storeThen(setMeta([]byte("format"), version(0))), "unknown format version 0"},
		{"format missing", storeThen(setMeta([]byte("format"), nil)), "format version missing"},
		{"bucket missing", storeThen(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("rotations")) }), "missing"},
		{"meta pages zeroed", func(t *testing.T, path string) {
			storeThen(nil)(t, path)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(make([]byte, 2*4096), 0); err != nil {
				t.Fatal(err)
			}
		}, "not a bbolt file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t)
			tc.make(t, path)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := boltstore.Open(path, &boltstore.Options{Timeout: 100 * time.Millisecond})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			checkCorrupt(t, err, path)
			if !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %q does not say %q", err, tc.message)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(before) != string(after) {
				t.Fatal("the rejected file was modified")
			}
			// The failed Open released the file.
			db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 100 * time.Millisecond})
			if err == nil {
				db.Close()
			} else if errors.Is(err, boltstore.ErrLocked) || strings.Contains(err.Error(), "timeout") {
				t.Fatalf("file still locked after the failed Open: %v", err)
			}
		})
	}
}

func writeFile(data []byte) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// storeThen makes a store with one key, then changes it with f (if not
// nil) through bbolt.
func storeThen(f func(tx *bolt.Tx) error) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		s, err := boltstore.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		apply(t, s, store.Batch{PutKeys: []store.Key{key("k")}})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if f != nil {
			withBolt(t, path, f)
		}
	}
}

// TestTruncatedFile: a store file cut short (a copy that stopped half way)
// is refused, not read as a smaller store.
func TestTruncatedFile(t *testing.T) {
	path := populated(t, 2000)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	s, err := boltstore.Open(path, nil)
	if err == nil {
		s.Close()
		t.Fatal("Open of a truncated file succeeded")
	}
	checkCorrupt(t, err, path)
}

// TestDamagedRecord: a record whose bytes changed under bbolt fails its
// checksum; every call that reads it says so, and the rest of the store
// still works.
func TestDamagedRecord(t *testing.T) {
	path := tempPath(t)
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, store.Batch{
		PutKeys:      []store.Key{key("bad"), key("good")},
		AddRotations: []store.KeyRotation{{KeyID: "bad"}, {KeyID: "good"}},
		PutAliases: []store.Alias{{AliasID: store.AliasID{Account: "1", Name: "alias/bad"}, KeyID: "bad"},
			{AliasID: store.AliasID{Account: "2", Name: "alias/good"}, KeyID: "good"}},
	})
	s.Close()
	flip := func(bucket string, match func(k []byte) bool) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte(bucket))
			var key, val []byte
			b.ForEach(func(k, v []byte) error {
				if match(k) {
					key, val = append([]byte(nil), k...), append([]byte(nil), v...)
				}
				return nil
			})
			if key == nil {
				return fmt.Errorf("no record to damage in %s", bucket)
			}
			val[len(val)/2] ^= 0x10
			return b.Put(key, val)
		}
	}
	withBolt(t, path, flip("keys", func(k []byte) bool { return string(k) == "bad" }))
	withBolt(t, path, flip("rotations", func(k []byte) bool { return strings.Contains(string(k), "bad") }))
	withBolt(t, path, flip("aliases", func(k []byte) bool { return strings.Contains(string(k), "alias/bad") }))

	s = openStore(t, path, nil)
	ctx := context.Background()
	_, err = s.Key(ctx, "bad")
	checkCorrupt(t, err, path)
	_, err = s.Keys(ctx, "", 10)
	checkCorrupt(t, err, path)
	_, err = s.Rotations(ctx, "bad", 0, 10)
	checkCorrupt(t, err, path)
	_, err = s.Aliases(ctx, store.AliasID{}, 10)
	checkCorrupt(t, err, path)
	next := key("bad")
	next.Version = 2
	checkCorrupt(t, s.Apply(ctx, &store.Batch{PutKeys: []store.Key{next}}), path)

	// The undamaged records still read and write.
	if _, err := s.Key(ctx, "good"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotations(ctx, "good", 0, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Aliases(ctx, store.AliasID{Account: "1", Name: "alias/bad"}, 10); err != nil {
		t.Fatal(err)
	}
	good := key("good")
	good.Version = 2
	apply(t, s, store.Batch{PutKeys: []store.Key{good}})
}

// TestDamagedPages: bytes of a store's data pages overwritten at random.
// Open and every call then either work or return ErrCorrupt naming the
// file; none panics, and every record read back is one that was written
// (records are checksummed). bbolt does not checksum its pages, so damage
// to a page's structure or to a bbolt key can hide records: such losses
// are counted, not failed.
func TestDamagedPages(t *testing.T) {
	orig := populated(t, 300)
	data, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t, orig, nil)
	wantK, wantR, wantA := readAll(t, s)
	written := map[string]bool{}
	for _, k := range wantK {
		written[fmt.Sprint(k)] = true
		written[fmt.Sprint(k.ID, wantR[k.ID])] = true
	}
	for _, a := range wantA {
		written[fmt.Sprint(a)] = true
	}
	const pageSize = 4096
	const trials = 60
	var detected, lost int
	for trial := range trials {
		rng := rand.New(rand.NewPCG(uint64(trial), 99))
		damaged := append([]byte(nil), data...)
		// Damage a few bytes, or a run of bytes, past the two meta pages.
		if trial%2 == 0 {
			for range 1 + rng.IntN(8) {
				damaged[2*pageSize+rng.IntN(len(data)-2*pageSize)] ^= byte(1 + rng.IntN(255))
			}
		} else {
			start := 2*pageSize + rng.IntN(len(data)-2*pageSize)
			for i := start; i < min(len(data), start+1+rng.IntN(512)); i++ {
				damaged[i] = byte(rng.Uint32())
			}
		}
		path := tempPath(t)
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		var gotK []store.Key
		var gotR map[string][]store.Rotation
		var gotA []store.Alias
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("trial %d: panic: %v", trial, r)
				}
			}()
			s, err := boltstore.Open(path, &boltstore.Options{NoSync: true})
			if err != nil {
				return err
			}
			defer s.Close()
			if gotK, gotR, gotA, err = tryReadAll(s); err != nil {
				return err
			}
			return s.Apply(context.Background(), &store.Batch{PutKeys: []store.Key{key("new")}})
		}()
		switch {
		case err == nil:
			for _, k := range gotK {
				if !written[fmt.Sprint(k)] {
					t.Errorf("trial %d: read a key never written: %+v", trial, k)
				}
				if rs := gotR[k.ID]; len(rs) > 0 && !written[fmt.Sprint(k.ID, rs)] {
					t.Errorf("trial %d: read rotations never written: %s %+v", trial, k.ID, rs)
				}
			}
			for _, a := range gotA {
				if !written[fmt.Sprint(a)] {
					t.Errorf("trial %d: read an alias never written: %+v", trial, a)
				}
			}
			if len(gotK) != len(wantK) || len(gotR) != len(wantR) || len(gotA) != len(wantA) {
				lost++
				t.Logf("trial %d: undetected loss: read %d keys, %d histories, %d aliases of %d, %d, %d",
					trial, len(gotK), len(gotR), len(gotA), len(wantK), len(wantR), len(wantA))
			}
		case errors.Is(err, store.ErrCorrupt):
			detected++
			if !strings.Contains(err.Error(), path) {
				t.Errorf("trial %d: error %q does not name the file", trial, err)
			}
		default:
			t.Errorf("trial %d: %v", trial, err)
		}
	}
	t.Logf("%d of %d damaged files reported corrupt, %d lost records silently, the rest were damaged where nothing lived",
		detected, trials, lost)
}

// tryReadAll is readAll returning the first error.
func tryReadAll(s store.Store) (keys []store.Key, rots map[string][]store.Rotation, aliases []store.Alias, err error) {
	ctx := context.Background()
	rots = map[string][]store.Rotation{}
	for after := ""; ; {
		page, err := s.Keys(ctx, after, 100)
		if err != nil {
			return nil, nil, nil, err
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
			return nil, nil, nil, err
		}
		if len(rs) > 0 {
			rots[k.ID] = rs
		}
	}
	for after := (store.AliasID{}); ; {
		page, err := s.Aliases(ctx, after, 100)
		if err != nil {
			return nil, nil, nil, err
		}
		aliases = append(aliases, page...)
		if len(page) < 100 {
			break
		}
		after = page[len(page)-1].AliasID
	}
	return keys, rots, aliases, nil
}

// TestDamagedMaterialSection: a key record whose material section (format
// 5) is cut short, malformed or out of place reads as ErrCorrupt even
// when its checksum fits (the damage was checksummed over, as by a build
// with a bug), and so does one whose material bytes changed under the
// checksum; the other keys still read.
func TestDamagedMaterialSection(t *testing.T) {
	material := []byte("sealed material, forty bytes long.......")
	if len(material) != 40 {
		t.Fatalf("material is %d bytes", len(material))
	}
	k := key("bad")
	k.Region = "us-east-1"
	k.Material = material
	// The record's body ends with the region section, then 04, the length
	// 40 (one uvarint byte) and the material.
	section := append([]byte{4, 40}, material...)
	for _, tc := range []struct {
		name   string
		change func(body []byte) []byte // of the body, before the checksum
		keep   bool                     // keep the old checksum
	}{
		{"material cut short", func(b []byte) []byte { return b[:len(b)-10] }, false},
		{"material missing", func(b []byte) []byte { return b[:len(b)-len(material)] }, false},
		{"length missing", func(b []byte) []byte { return b[:len(b)-len(material)-1] }, false},
		{"length past the end", func(b []byte) []byte { b[len(b)-len(material)-1] = 41; return b }, false},
		{"length unterminated", func(b []byte) []byte { return append(b[:len(b)-len(material)-1], 0x80) }, false},
		{"empty material", func(b []byte) []byte { return append(b[:len(b)-len(material)-1], 0) }, false},
		{"material twice", func(b []byte) []byte { return append(b, 4, 1, 0xff) }, false},
		{"region section after it", func(b []byte) []byte { return append(b, 3, 0, 0, 0) }, false},
		{"public-key section before it", func(b []byte) []byte {
			return append(append(b[:len(b)-len(section)], 5, 1, 0x30), section...)
		}, false},
		{"unknown section after it", func(b []byte) []byte { return append(b, 7, 1, 0) }, false},
		{"policy binding of 0 after it", func(b []byte) []byte { return append(b, 8, 0) }, false},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, false},
		{"material byte changed", func(b []byte) []byte { b[len(b)-5] ^= 0x20; return b }, true},
	} {
		t.Run(tc.name, func(t *testing.T) { checkDamagedKey(t, k, section, tc.change, tc.keep) })
	}
}

// TestDamagedPublicKeySection: as TestDamagedMaterialSection, for the
// public-key section (format 5 too), which follows the material section.
func TestDamagedPublicKeySection(t *testing.T) {
	pub := []byte("DER SubjectPublicKeyInfo, 40 bytes long.")
	if len(pub) != 40 {
		t.Fatalf("public key is %d bytes", len(pub))
	}
	k := key("bad")
	k.Kind.Origin = keystate.External
	k.KeyMaterialID = "kept"
	k.Material = []byte("sealed")
	k.PublicKey = pub
	// The record's body ends with the material section (04, the length 6,
	// the material), then 05, the length 40 (one uvarint byte) and the
	// public key.
	material := append([]byte{4, 6}, k.Material...)
	section := append([]byte{5, 40}, pub...)
	for _, tc := range []struct {
		name   string
		change func(body []byte) []byte // of the body, before the checksum
		keep   bool                     // keep the old checksum
	}{
		{"public key cut short", func(b []byte) []byte { return b[:len(b)-10] }, false},
		{"public key missing", func(b []byte) []byte { return b[:len(b)-len(pub)] }, false},
		{"length missing", func(b []byte) []byte { return b[:len(b)-len(pub)-1] }, false},
		{"length past the end", func(b []byte) []byte { b[len(b)-len(pub)-1] = 41; return b }, false},
		{"length unterminated", func(b []byte) []byte { return append(b[:len(b)-len(pub)-1], 0x80) }, false},
		{"empty public key", func(b []byte) []byte { return append(b[:len(b)-len(pub)-1], 0) }, false},
		{"public key twice", func(b []byte) []byte { return append(b, 5, 1, 0x30) }, false},
		{"material section after it", func(b []byte) []byte { return append(b, 4, 1, 0xff) }, false},
		{"material section after it, moved", func(b []byte) []byte {
			// The two sections swapped: each is well formed, but out of order.
			b = b[:len(b)-len(section)-len(material)]
			return append(append(b, section...), material...)
		}, false},
		{"imported section after it", func(b []byte) []byte { return append(b, 1, 0, 0, 0, 0) }, false},
		{"policy section before it", func(b []byte) []byte {
			return append(append(b[:len(b)-len(section)], 6, 1, '{'), section...)
		}, false},
		{"unknown section after it", func(b []byte) []byte { return append(b, 7, 1, 0) }, false},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, false},
		{"public key byte changed", func(b []byte) []byte { b[len(b)-5] ^= 0x20; return b }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkDamagedKey(t, k, append(bytes.Clone(material), section...), tc.change, tc.keep)
		})
	}
}

// TestDamagedPolicySection: as TestDamagedMaterialSection, for the policy
// section (format 5 too), which follows the public-key section. The
// policy is long enough (300 bytes, with non-ASCII UTF-8) that its length
// takes two uvarint bytes.
func TestDamagedPolicySection(t *testing.T) {
	policy := strings.Repeat("ü", 100) + strings.Repeat("p", 100)
	if len(policy) != 300 {
		t.Fatalf("policy is %d bytes", len(policy))
	}
	k := key("bad")
	k.Kind.Origin = keystate.External
	k.PublicKey = []byte("DER")
	k.Policy = policy
	// The record's body ends with the public-key section (05, the length
	// 3, the public key), then 06, the length 300 (ac 02) and the policy.
	public := append([]byte{5, 3}, k.PublicKey...)
	section := append([]byte{6, 0xac, 0x02}, policy...)
	for _, tc := range []struct {
		name   string
		change func(body []byte) []byte // of the body, before the checksum
		keep   bool                     // keep the old checksum
	}{
		{"policy cut short", func(b []byte) []byte { return b[:len(b)-10] }, false},
		{"policy missing", func(b []byte) []byte { return b[:len(b)-len(policy)] }, false},
		{"length missing", func(b []byte) []byte { return b[:len(b)-len(policy)-2] }, false},
		{"length cut short", func(b []byte) []byte { return b[:len(b)-len(policy)-1] }, false},
		{"length past the end", func(b []byte) []byte { b[len(b)-len(policy)-2] = 0xad; return b }, false},
		{"length unterminated", func(b []byte) []byte { return append(b[:len(b)-len(policy)-2], 0x80) }, false},
		{"empty policy", func(b []byte) []byte { return append(b[:len(b)-len(policy)-2], 0) }, false},
		{"empty policy, alone", func(b []byte) []byte { return append(b[:len(b)-len(section)-len(public)], 6, 0) }, false},
		{"policy twice", func(b []byte) []byte { return append(b, 6, 1, '{') }, false},
		{"public-key section after it", func(b []byte) []byte { return append(b, 5, 1, 0x30) }, false},
		{"public-key section after it, moved", func(b []byte) []byte {
			// The two sections swapped: each is well formed, but out of order.
			b = b[:len(b)-len(section)-len(public)]
			return append(append(b, section...), public...)
		}, false},
		{"material section after it", func(b []byte) []byte { return append(b, 4, 1, 0xff) }, false},
		{"imported section after it", func(b []byte) []byte { return append(b, 1, 0, 0, 0, 0) }, false},
		{"unknown section after it", func(b []byte) []byte { return append(b, 7, 1, 0) }, false},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, false},
		{"policy byte changed", func(b []byte) []byte { b[len(b)-5] ^= 0x20; return b }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkDamagedKey(t, k, append(bytes.Clone(public), section...), tc.change, tc.keep)
		})
	}
}

// checkDamagedKey writes k, as "bad", and a good key, then changes bad's
// record body (which must end with suffix) with change, recomputing the
// checksum unless keep; bad must then read as ErrCorrupt, through Key and
// Keys, and the good key still read.
func checkDamagedKey(t *testing.T, k store.Key, suffix []byte, change func([]byte) []byte, keep bool) {
	t.Helper()
	path := tempPath(t)
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, store.Batch{PutKeys: []store.Key{k, key("good")}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	withBolt(t, path, func(tx *bolt.Tx) error {
		keys := tx.Bucket([]byte("keys"))
		rec := keys.Get([]byte("bad"))
		body := append([]byte(nil), rec[:len(rec)-4]...)
		if !bytes.HasSuffix(body, suffix) {
			t.Fatalf("record %x does not end with the section(s) %x", body, suffix)
		}
		sum := bytes.Clone(rec[len(rec)-4:])
		body = change(body)
		if !keep {
			sum = crc("bad", body)
		}
		return keys.Put([]byte("bad"), append(body, sum...))
	})
	s = openStore(t, path, nil)
	_, err = s.Key(t.Context(), "bad")
	checkCorrupt(t, err, path)
	_, err = s.Keys(t.Context(), "", 10)
	checkCorrupt(t, err, path)
	if _, err := s.Key(t.Context(), "good"); err != nil {
		t.Fatal(err)
	}
}
