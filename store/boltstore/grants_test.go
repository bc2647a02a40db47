package boltstore_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// grantsOf returns every grant of s, in the order Grants gives them.
func grantsOf(t *testing.T, s store.Store) []store.Grant {
	t.Helper()
	var out []store.Grant
	if err := s.Grants(t.Context(), func(g store.Grant) error { out = append(out, g); return nil }); err != nil {
		t.Fatalf("Grants: %v", err)
	}
	return out
}

// checkGrantsLike fails t unless s and mem hold the same grants, in the
// same order, nil and empty maps and slices alike (reflect.DeepEqual).
// Times must be in UTC, as the store reads them back.
func checkGrantsLike(t *testing.T, what string, s, mem store.Store) {
	t.Helper()
	if got, want := grantsOf(t, s), grantsOf(t, mem); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: grants differ:\n got  %+v\n want %+v", what, got, want)
	}
}

// bucketNames returns the names of the buckets of the file at path.
func bucketNames(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	withBolt(t, path, func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			out = append(out, string(name))
			return nil
		})
	})
	return out
}

func hasBucket(t *testing.T, path, name string) bool {
	t.Helper()
	for _, n := range bucketNames(t, path) {
		if n == name {
			return true
		}
	}
	return false
}

// TestGrantsFnOwnsItsCopies: the grants fn gets are decoded afresh, so
// changing their maps and slices inside fn changes nothing stored (a
// guarantee of boltstore's beyond store.Store's contract, which only
// forbids keeping them).
func TestGrantsFnOwnsItsCopies(t *testing.T) {
	s := openStore(t, tempPath(t), &boltstore.Options{NoSync: true})
	g := store.Grant{KeyID: "k", GrantID: "g", GranteePrincipal: "p", Operations: []string{"Decrypt"},
		EncryptionContextEquals: map[string]string{"a": "1"}, EncryptionContextSubset: map[string]string{"b": "2"}}
	apply(t, s, store.Batch{PutKeys: []store.Key{key("k")}, PutGrants: []store.Grant{g}})
	err := s.Grants(t.Context(), func(got store.Grant) error {
		got.Operations[0] = "changed inside fn"
		got.EncryptionContextEquals["a"] = "changed inside fn"
		delete(got.EncryptionContextSubset, "b")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := grantsOf(t, s); len(got) != 1 || !reflect.DeepEqual(got[0], g) {
		t.Fatalf("Grants after changes inside fn = %+v, want %+v", got, g)
	}
}

// TestDamagedGrantRecord: a grant record that fails its checksum, or
// whose checksum holds over bytes that do not decode, makes Grants fail
// with ErrCorrupt naming the file, the grant ID and the key ID, after fn
// has had the grants before it; the rest of the store still works, and
// deleting the grant, or putting it again, mends the store.
func TestDamagedGrantRecord(t *testing.T) {
	bad := store.Grant{KeyID: "b", GrantID: "g1", GranteePrincipal: "g", Operations: []string{"Decrypt"},
		EncryptionContextEquals: map[string]string{"b": "2", "a": "1"}}
	// Name, GranteePrincipal "g", RetiringPrincipal, IssuingAccount;
	// Operations (1+1) "Decrypt"; EncryptionContextEquals (2+1) a=1, b=2;
	// EncryptionContextSubset nil; Created zero.
	const body = "00" + "0167" + "00" + "00" + "02" + "07" + "44656372797074" + "03" + "0161" + "0131" + "0162" + "0132" + "00" + "00"
	grants := []store.Grant{
		{KeyID: "a", GrantID: "g1", GranteePrincipal: "g"},
		bad,
		{KeyID: "b", GrantID: "g2", GranteePrincipal: "g"},
		{KeyID: "zz", GrantID: "g1", GranteePrincipal: "g"},
	}
	replace := func(old, new string) func(string) string {
		return func(b string) string {
			if !strings.Contains(b, old) {
				t.Fatalf("%s is not in the record body %s", old, b)
			}
			return strings.Replace(b, old, new, 1)
		}
	}
	for _, tc := range []struct {
		name   string
		change func(body string) string // of the body, in hex, before the checksum
		keep   bool                     // keep the old checksum
	}{
		{"byte changed", replace("44656372797074", "44656372797075"), true},
		{"checksum changed", func(b string) string { return b }, false},
		{"trailing byte", func(b string) string { return b + "00" }, false},
		{"cut short", func(b string) string { return b[:len(b)-2] }, false},
		{"empty", func(string) string { return "" }, false},
		{"map keys out of order", replace("0161013101620132", "0162013201610131"), false},
		{"map key twice", replace("0161013101620132", "0161013101610132"), false},
		{"map count past the end", replace("030161", "090161"), false},
		{"huge map count", replace("030161", "ffffffffffffffffff01"+"0161"), false},
		{"operations count past the end", replace("020744", "050744"), false},
		{"huge operations count", replace("020744", "ffffffff0f0744"), false},
		{"string length past the end", replace("0167", "4067"), false},
		{"uvarint unterminated", func(b string) string { return b[:len(b)-2] + "80" }, false},
		{"time tag too large", func(b string) string { return b[:len(b)-2] + "ffffffff0f" + "00" }, false},
		{"binding of 0", func(b string) string { return b + "0300" }, false},
		{"binding before the creation number", func(b string) string { return b + "0301" + "0207" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t)
			s, err := boltstore.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			apply(t, s, store.Batch{PutKeys: []store.Key{key("a"), key("b"), key("zz")}, PutGrants: grants})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			gk := "\x01b" + "g1"
			withBolt(t, path, func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("grants"))
				rec := b.Get([]byte(gk))
				if got := hex.EncodeToString(rec[:len(rec)-4]); got != body {
					t.Fatalf("record body %s, want %s", got, body)
				}
				sum := bytes.Clone(rec[len(rec)-4:])
				changed, err := hex.DecodeString(tc.change(body))
				if err != nil {
					t.Fatal(err)
				}
				if !tc.keep {
					sum = crc(gk, changed)
					if tc.name == "checksum changed" {
						sum[0] ^= 1
					}
				}
				return b.Put([]byte(gk), append(changed, sum...))
			})
			s = openStore(t, path, nil)
			var seen []store.Grant
			err = s.Grants(t.Context(), func(g store.Grant) error { seen = append(seen, g); return nil })
			checkCorrupt(t, err, path)
			if !strings.Contains(err.Error(), `grant "g1" of key "b"`) {
				t.Fatalf("error %q does not name the grant", err)
			}
			if !reflect.DeepEqual(seen, grants[:1]) {
				t.Fatalf("fn had %+v before the damaged grant, want %+v", seen, grants[:1])
			}
			if _, err := s.Key(t.Context(), "b"); err != nil {
				t.Fatalf("Key of the damaged grant's key: %v", err)
			}
			// Putting the grant again mends it; so does deleting it.
			if tc.name == "cut short" {
				apply(t, s, store.Batch{PutGrants: []store.Grant{bad}})
				if got := grantsOf(t, s); !reflect.DeepEqual(got, grants) {
					t.Fatalf("Grants after putting the damaged grant again = %+v, want %+v", got, grants)
				}
				return
			}
			apply(t, s, store.Batch{DeleteGrants: []store.GrantID{{KeyID: "b", GrantID: "g1"}}})
			want := []store.Grant{grants[0], grants[2], grants[3]}
			if got := grantsOf(t, s); !reflect.DeepEqual(got, want) {
				t.Fatalf("Grants after deleting the damaged grant = %+v, want %+v", got, want)
			}
		})
	}
}

// TestMalformedGrantKey: a bolt key in the grants bucket that is no
// grant's (its key ID's length past its end, no grant ID, a bad uvarint)
// makes Grants fail with ErrCorrupt naming the file and the entry.
func TestMalformedGrantKey(t *testing.T) {
	for _, k := range []string{"\x05abc", "\x01b", "", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01x"} {
		if k == "" {
			continue // bbolt refuses empty keys
		}
		t.Run(hex.EncodeToString([]byte(k)), func(t *testing.T) {
			path := tempPath(t)
			s, err := boltstore.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			apply(t, s, store.Batch{PutKeys: []store.Key{key("b")}, PutGrants: []store.Grant{{KeyID: "b", GrantID: "g"}}})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			withBolt(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("grants")).Put([]byte(k), crc(k, nil))
			})
			s = openStore(t, path, nil)
			err = s.Grants(t.Context(), func(store.Grant) error { return nil })
			checkCorrupt(t, err, path)
			if !strings.Contains(err.Error(), "grants entry") {
				t.Fatalf("error %q does not name the grants entry", err)
			}
		})
	}
}

// TestFormat4FileTakesGrants: a format 4 file, made as format 4 builds
// made it (no grants bucket), opens; Open creates the grants bucket in
// its upgrade to format 5 and rewrites no other record. The upgraded file
// has no grants, then takes them (on keys whose IDs differ in length, a
// replica's among them), deletes a key's with the key, and reads them
// back, as Memory does, after it is reopened.
func TestFormat4FileTakesGrants(t *testing.T) {
	path := tempPath(t)
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	utc := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	primary, replica, other := key("mrk-0123456789abcdef0123456789abcdef"),
		key("us-west-2/mrk-0123456789abcdef0123456789abcdef"), key("1234abcd-12ab-34cd-56ef-1234567890ab")
	b := store.Batch{
		PutKeys:      []store.Key{primary, replica, other},
		AddRotations: []store.KeyRotation{{KeyID: other.ID, Rotation: store.Rotation{At: utc}}},
		PutAliases:   []store.Alias{{AliasID: store.AliasID{Region: "us-west-2", Account: "1", Name: "alias/r"}, KeyID: replica.ID}},
	}
	mem := store.NewMemory()
	apply(t, s, b)
	apply(t, mem, b)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	downgrade(t, path, 4, nil)
	if hasBucket(t, path, "grants") {
		t.Fatal("the format 4 file has a grants bucket")
	}
	before := map[string]map[string]string{}
	for _, bucket := range []string{"keys", "rotations", "aliases", "keyaliases", "customkeystores"} {
		before[bucket] = rawRecords(t, path, bucket)
	}

	s = openStore(t, path, nil)
	if got := grantsOf(t, s); len(got) != 0 {
		t.Fatalf("Grants of the upgraded file = %+v, want none", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := formatOf(t, path); got != "00000005" {
		t.Fatalf("format %s after Open, want 00000005", got)
	}
	if !hasBucket(t, path, "grants") {
		t.Fatal("Open did not create the grants bucket")
	}
	for bucket, recs := range before {
		if got := rawRecords(t, path, bucket); !reflect.DeepEqual(got, recs) {
			t.Fatalf("the upgrade rewrote bucket %s:\n got  %q\n want %q", bucket, got, recs)
		}
	}

	s = openStore(t, path, nil)
	grant := func(keyID, id string) store.Grant {
		return store.Grant{KeyID: keyID, GrantID: id, GranteePrincipal: "arn:aws:iam::111122223333:role/r",
			IssuingAccount: "arn:aws:iam::111122223333:root", Operations: []string{"Encrypt", "Decrypt"},
			EncryptionContextSubset: map[string]string{"k": "v"}, Created: utc}
	}
	for _, b := range []store.Batch{
		{PutGrants: []store.Grant{grant(replica.ID, strings.Repeat("1", 64)), grant(primary.ID, strings.Repeat("2", 64)),
			grant(other.ID, strings.Repeat("3", 64)), grant(primary.ID, strings.Repeat("0", 64))}},
		{DeleteKeys: []string{primary.ID}},
		{PutGrants: []store.Grant{grant(replica.ID, strings.Repeat("0", 64))}},
	} {
		apply(t, s, b)
		apply(t, mem, b)
		checkGrantsLike(t, "Grants", s, mem)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path, nil)
	checkGrantsLike(t, "Grants after reopening", s, mem)
	if n := len(grantsOf(t, s)); n != 3 {
		t.Fatalf("%d grants, want 3", n)
	}
}

// TestFormat5FileWithoutGrantsBucket: a format 5 file written before
// grants existed (in format 5's unreleased development cycle) has no
// grants bucket. Open creates it, once it has checked the file and the
// wrapping key (a refused Open writes nothing), and changes nothing else;
// the file then has no grants and takes them.
func TestFormat5FileWithoutGrantsBucket(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		name := "clear"
		if wrapped {
			name = "wrapped"
		}
		t.Run(name, func(t *testing.T) {
			var opts *boltstore.Options
			if wrapped {
				opts = withKey(wrappingKey)
			}
			path := tempPath(t)
			s, err := boltstore.Open(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			apply(t, s, store.Batch{PutKeys: []store.Key{key("k")}, PutSecret: rootSecret,
				PutAliases: []store.Alias{{AliasID: store.AliasID{Account: "1", Name: "alias/k"}, KeyID: "k"}}})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			withBolt(t, path, func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("grants")) })
			records := map[string]map[string]string{}
			for _, bucket := range []string{"meta", "keys", "rotations", "aliases", "keyaliases", "customkeystores"} {
				records[bucket] = rawRecords(t, path, bucket)
			}

			if wrapped {
				fileBefore, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				s, err := boltstore.Open(path, withKey(otherKey))
				if !errors.Is(err, boltstore.ErrWrongWrappingKey) {
					if err == nil {
						s.Close()
					}
					t.Fatalf("Open with another key: %v, want ErrWrongWrappingKey", err)
				}
				if after, _ := os.ReadFile(path); !bytes.Equal(after, fileBefore) {
					t.Fatal("Open with the wrong key wrote to the file")
				}
			}

			s = openStore(t, path, opts)
			if got := grantsOf(t, s); len(got) != 0 {
				t.Fatalf("Grants = %+v, want none", got)
			}
			checkStoreSecret(t, s, rootSecret)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if !hasBucket(t, path, "grants") {
				t.Fatal("Open did not create the grants bucket")
			}
			for bucket, recs := range records {
				if got := rawRecords(t, path, bucket); !reflect.DeepEqual(got, recs) {
					t.Fatalf("Open changed bucket %s:\n got  %q\n want %q", bucket, got, recs)
				}
			}

			s = openStore(t, path, opts)
			g := store.Grant{KeyID: "k", GrantID: "g", GranteePrincipal: "p", Operations: []string{"Sign"}}
			apply(t, s, store.Batch{PutGrants: []store.Grant{g}})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openStore(t, path, opts)
			if got := grantsOf(t, s); len(got) != 1 || !reflect.DeepEqual(got[0], g) {
				t.Fatalf("Grants after reopening = %+v, want %+v", got, g)
			}
		})
	}
}
