package boltstore_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// randomBytes returns n bytes from a generator seeded with seed: as
// unlikely as real key material to occur in a file by chance, and the same
// in every run.
func randomBytes(seed uint64, n int) []byte {
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 'w', 'r', 'a', 'p'})
	b := make([]byte, n)
	_, _ = rng.Read(b)
	return b
}

var (
	wrappingKey = randomBytes(1, boltstore.WrappingKeySize)
	otherKey    = randomBytes(2, boltstore.WrappingKeySize)
	rootSecret  = randomBytes(3, 32)
)

func withKey(key []byte) *boltstore.Options {
	return &boltstore.Options{NoSync: true, WrappingKey: key, Timeout: 100 * time.Millisecond}
}

// createStore makes a store at a new path, opened with wrapKey, with a key
// record and, if secret is not nil, that secret; it closes it and returns
// its path.
func createStore(t *testing.T, wrapKey, secret []byte) string {
	t.Helper()
	path := tempPath(t)
	s, err := boltstore.Open(path, withKey(wrapKey))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	apply(t, s, store.Batch{PutKeys: []store.Key{key("k")}, PutSecret: secret})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func checkStoreSecret(t *testing.T, s store.Store, want []byte) {
	t.Helper()
	got, err := s.Secret(context.Background())
	if err != nil {
		t.Fatalf("Secret: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Secret = %x, want %x", got, want)
	}
}

// checkNoLeak fails t if text holds any of secrets, raw, in hex or in
// base64.
func checkNoLeak(t *testing.T, what, text string, secrets ...[]byte) {
	t.Helper()
	for _, s := range secrets {
		for _, form := range []string{string(s), hex.EncodeToString(s), fmt.Sprintf("%X", s),
			base64.StdEncoding.EncodeToString(s), fmt.Sprintf("%v", s)} {
			if strings.Contains(text, form) {
				t.Fatalf("%s holds secret bytes: %q", what, text)
			}
		}
	}
}

// TestWrappingKeyReopen: a store opened with its wrapping key, again and
// again, gives back the secret written under it.
func TestWrappingKeyReopen(t *testing.T) {
	path := createStore(t, wrappingKey, rootSecret)
	for range 3 {
		s, err := boltstore.Open(path, withKey(wrappingKey))
		if err != nil {
			t.Fatalf("reopen with the right key: %v", err)
		}
		checkStoreSecret(t, s, rootSecret)
		if _, err := s.Key(context.Background(), "k"); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWrongWrappingKey: a store opened with a key that does not fit it
// (the wrong one, none for an encrypted store, one for a clear store)
// fails Open with ErrWrongWrappingKey, with a message that names the file
// and says what is wrong; the file is left as it was, and unlocked.
func TestWrongWrappingKey(t *testing.T) {
	for _, tc := range []struct {
		name              string
		createKey, secret []byte // the store as made
		openKey           []byte // the key it is opened with
		message           string
	}{
		{"wrong key", wrappingKey, rootSecret, otherKey, "wrong wrapping key"},
		{"wrong key, one bit off", wrappingKey, rootSecret, flipBit(wrappingKey), "wrong wrapping key"},
		{"no key for an encrypted secret", wrappingKey, rootSecret, nil,
			"the store's secret is encrypted; a wrapping key is needed"},
		{"key for a secret in the clear", nil, rootSecret, wrappingKey, "the store's secret is not encrypted"},
		// Before the store has a secret, its key-check record tells.
		{"wrong key, no secret yet", wrappingKey, nil, otherKey, "wrong wrapping key"},
		{"no key, no secret yet", wrappingKey, nil, nil, "a wrapping key is needed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := createStore(t, tc.createKey, tc.secret)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := boltstore.Open(path, withKey(tc.openKey))
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, boltstore.ErrWrongWrappingKey) {
				t.Fatalf("Open: %v, want ErrWrongWrappingKey", err)
			}
			if errors.Is(err, store.ErrCorrupt) || errors.Is(err, boltstore.ErrLocked) {
				t.Fatalf("Open: %v claims corruption or a lock as well", err)
			}
			for _, want := range []string{path, tc.message} {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q does not say %q", err, want)
				}
			}
			checkNoLeak(t, "error", err.Error(), rootSecret, wrappingKey, otherKey)
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Fatal("the refused Open modified the file")
			}
			// The failed Open released the file, and the right key still
			// opens it.
			s = openStore(t, path, withKey(tc.createKey))
			if tc.secret != nil {
				checkStoreSecret(t, s, tc.secret)
			}
		})
	}
}

func flipBit(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)-1] ^= 1
	return b
}

// TestWrappingKeyLength: a wrapping key must be 32 bytes (AES-256); any
// other non-nil slice, an empty one included, fails Open before the file
// is created, with an error that names the file and does not hold the key.
func TestWrappingKeyLength(t *testing.T) {
	for _, n := range []int{0, 1, 16, 24, 31, 33, 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			path := tempPath(t)
			k := randomBytes(uint64(100+n), n)
			s, err := boltstore.Open(path, withKey(k))
			if err == nil {
				s.Close()
				t.Fatalf("Open with a %d-byte wrapping key succeeded", n)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "32") {
				t.Fatalf("error %q does not name the file and the size wanted", err)
			}
			if errors.Is(err, boltstore.ErrWrongWrappingKey) || errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("error %v matches a sentinel of another case", err)
			}
			if n >= 8 { // shorter ones may occur in any text
				checkNoLeak(t, "error", err.Error(), k)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("Open with a bad key made the file: %v", err)
			}
		})
	}
}

// TestSecretNeverInFile: with a wrapping key, neither the secret nor the
// key appears in the file (nor does any 8 bytes of either), however the
// store was used; without one, the same scan finds the secret, which shows
// that the scan sees it.
func TestSecretNeverInFile(t *testing.T) {
	use := func(t *testing.T, opts *boltstore.Options) string {
		path := tempPath(t)
		s, err := boltstore.Open(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		apply(t, s, store.Batch{PutKeys: []store.Key{key("a")}})
		apply(t, s, store.Batch{PutSecret: rootSecret, PutKeys: []store.Key{key("b")}})
		err = s.Apply(context.Background(), &store.Batch{PutSecret: rootSecret})
		if !errors.Is(err, store.ErrExists) {
			t.Fatalf("second PutSecret: %v, want ErrExists", err)
		}
		for i := range 200 { // enough writes for bbolt to reuse pages
			k := key(fmt.Sprintf("key-%03d", i))
			k.Description = strings.Repeat("d", 500)
			apply(t, s, store.Batch{PutKeys: []store.Key{k}})
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = openStore(t, path, opts)
		checkStoreSecret(t, s, rootSecret)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	contains := func(file, secret []byte) bool {
		for i := 0; i+8 <= len(secret); i++ {
			if bytes.Contains(file, secret[i:i+8]) {
				return true
			}
		}
		return false
	}

	data, err := os.ReadFile(use(t, withKey(wrappingKey)))
	if err != nil {
		t.Fatal(err)
	}
	if contains(data, rootSecret) {
		t.Fatal("the file of a store with a wrapping key holds bytes of its secret")
	}
	if contains(data, wrappingKey) {
		t.Fatal("the file holds bytes of the wrapping key")
	}

	data, err = os.ReadFile(use(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, rootSecret) {
		t.Fatal("the scan does not find the secret of a store without a wrapping key")
	}
}

// TestKeyAdoptedByClearStore: a store without a secret that was opened
// without a key takes the key of its first Open with one, and from then on
// needs it.
func TestKeyAdoptedByClearStore(t *testing.T) {
	path := createStore(t, nil, nil)
	s := openStore(t, path, withKey(wrappingKey))
	apply(t, s, store.Batch{PutSecret: rootSecret})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, k := range [][]byte{nil, otherKey} {
		if s, err := boltstore.Open(path, withKey(k)); !errors.Is(err, boltstore.ErrWrongWrappingKey) {
			if err == nil {
				s.Close()
			}
			t.Fatalf("Open with key %x: %v, want ErrWrongWrappingKey", k, err)
		}
	}
	s = openStore(t, path, withKey(wrappingKey))
	checkStoreSecret(t, s, rootSecret)
	if _, err := s.Key(context.Background(), "k"); err != nil {
		t.Fatalf("the key written before the wrapping key: %v", err)
	}
}

// TestClearStoreStaysClear: a store without a key keeps its secret in the
// clear across reopens.
func TestClearStoreStaysClear(t *testing.T) {
	path := createStore(t, nil, rootSecret)
	s := openStore(t, path, nil)
	checkStoreSecret(t, s, rootSecret)
	err := s.Apply(context.Background(), &store.Batch{PutSecret: otherKey})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("second PutSecret: %v, want ErrExists", err)
	}
}

// TestOpenKeepsNoKeySlice: Open copies what it needs of the key; a caller
// that clears its slice afterwards (as it should) changes nothing.
func TestOpenKeepsNoKeySlice(t *testing.T) {
	path := tempPath(t)
	k := bytes.Clone(wrappingKey)
	s, err := boltstore.Open(path, withKey(k))
	if err != nil {
		t.Fatal(err)
	}
	clear(k)
	apply(t, s, store.Batch{PutSecret: rootSecret})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path, withKey(wrappingKey))
	checkStoreSecret(t, s, rootSecret)
}

// metaRecord returns a copy of a record of the meta bucket, nil if none.
func metaRecord(t *testing.T, path, name string) []byte {
	t.Helper()
	var v []byte
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		v = bytes.Clone(tx.Bucket([]byte("meta")).Get([]byte(name)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func crc(name string, body []byte) []byte {
	table := crc32.MakeTable(crc32.Castagnoli)
	return binary.BigEndian.AppendUint32(nil, crc32.Update(crc32.Checksum([]byte(name), table), table, body))
}

// TestSecretRecordFormat pins the secret and key-check records of format
// 1: encoding byte, body, CRC-32C of name and record. Sealed records carry
// a fresh random nonce, so two stores with the same key and secret differ.
func TestSecretRecordFormat(t *testing.T) {
	clearPath := createStore(t, nil, rootSecret)
	body := append([]byte{0}, rootSecret...)
	if got, want := metaRecord(t, clearPath, "secret"), append(body, crc("secret", body)...); !bytes.Equal(got, want) {
		t.Fatalf("clear secret record:\n got  %x\n want %x", got, want)
	}
	if rec := metaRecord(t, clearPath, "keycheck"); rec != nil {
		t.Fatalf("a store without a wrapping key has a key-check record %x", rec)
	}

	var sealed [][]byte
	for range 2 {
		path := createStore(t, wrappingKey, rootSecret)
		for _, tc := range []struct {
			name string
			n    int // plaintext length
		}{{"secret", len(rootSecret)}, {"keycheck", 0}} {
			rec := metaRecord(t, path, tc.name)
			if len(rec) != 1+12+tc.n+16+4 || rec[0] != 1 {
				t.Fatalf("sealed %s record %x: want 01, 12-byte nonce, %d bytes, 16-byte tag, CRC", tc.name, rec, tc.n)
			}
			if c := crc(tc.name, rec[:len(rec)-4]); !bytes.Equal(rec[len(rec)-4:], c) {
				t.Fatalf("sealed %s record: CRC %x, want %x", tc.name, rec[len(rec)-4:], c)
			}
		}
		sealed = append(sealed, metaRecord(t, path, "secret"))
	}
	if bytes.Equal(sealed[0][1:13], sealed[1][1:13]) {
		t.Fatal("two sealings of the secret used the same nonce")
	}
}

// TestDamagedSecretRecord: damage to the secret or key-check record is
// ErrCorrupt (their checksum fails), not a wrong key; a store whose
// secret is in the clear but that has a key-check record is corrupt too.
func TestDamagedSecretRecord(t *testing.T) {
	damage := func(name string) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			meta := tx.Bucket([]byte("meta"))
			v := bytes.Clone(meta.Get([]byte(name)))
			v[len(v)/2] ^= 0x10
			return meta.Put([]byte(name), v)
		}
	}
	for _, tc := range []struct {
		name    string
		key     []byte
		secret  []byte
		change  func(t *testing.T, path string)
		openKey []byte
	}{
		{"sealed secret", wrappingKey, rootSecret, func(t *testing.T, path string) { withBolt(t, path, damage("secret")) }, wrappingKey},
		{"sealed secret, no key", wrappingKey, rootSecret, func(t *testing.T, path string) { withBolt(t, path, damage("secret")) }, nil},
		{"clear secret", nil, rootSecret, func(t *testing.T, path string) { withBolt(t, path, damage("secret")) }, nil},
		{"key check", wrappingKey, nil, func(t *testing.T, path string) { withBolt(t, path, damage("keycheck")) }, wrappingKey},
		{"clear secret with a key check", nil, rootSecret, func(t *testing.T, path string) {
			check := metaRecord(t, createStore(t, wrappingKey, nil), "keycheck")
			withBolt(t, path, func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("keycheck"), check) })
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := createStore(t, tc.key, tc.secret)
			tc.change(t, path)
			s, err := boltstore.Open(path, withKey(tc.openKey))
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			checkCorrupt(t, err, path)
			if errors.Is(err, boltstore.ErrWrongWrappingKey) {
				t.Fatalf("Open: %v matches ErrWrongWrappingKey as well", err)
			}
			checkNoLeak(t, "error", err.Error(), rootSecret, wrappingKey)
		})
	}
}

// TestStoreFormatting: a Store formatted with fmt, whatever the verb,
// shows neither the secret nor the wrapping key (in any form fmt gives
// bytes), nor the mapped file, which bbolt's handle would print whole.
func TestStoreFormatting(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  []byte
	}{{"clear", nil}, {"wrapped", wrappingKey}} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, tempPath(t), withKey(tc.key))
			apply(t, s, store.Batch{PutSecret: rootSecret, PutKeys: []store.Key{key("k")}})
			checkStoreSecret(t, s, rootSecret)
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
				text := fmt.Sprintf(verb, s)
				if len(text) > 4096 {
					t.Fatalf("the Store formatted with %s is %d bytes long", verb, len(text))
				}
				checkNoLeak(t, "the Store formatted with "+verb, text, rootSecret, wrappingKey,
					rootSecret[:16], rootSecret[16:], wrappingKey[:16], wrappingKey[16:])
				for _, secret := range [][]byte{rootSecret, wrappingKey} {
					w := fmt.Sprint(binary.BigEndian.Uint32(secret), " ", binary.BigEndian.Uint32(secret[4:]))
					if strings.Contains(text, w) {
						t.Fatalf("the Store formatted with %s holds the first words of a secret", verb)
					}
				}
			}
		})
	}
}

// sealedFor returns the meta record name holding plaintext sealed under
// key as a store of the given format seals it: encoding 1, nonce,
// ciphertext and tag, with magic ‖ uint32 format ‖ name ‖ 1 as additional
// data; then the CRC.
func sealedFor(t *testing.T, key []byte, format uint32, name string, plaintext []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		t.Fatal(err)
	}
	ad := binary.BigEndian.AppendUint32([]byte("kmsmodel store"), format)
	ad = append(binary.AppendUvarint(ad, uint64(len(name))), name...)
	ad = append(ad, 1)
	rec := aead.Seal([]byte{1}, nil, plaintext, ad)
	return append(rec, crc(name, rec)...)
}

// TestSealedRecordsOfOlderFormats: the sealed secret and key-check records
// of a format 1 to 4 store (their additional data names the format
// they were sealed in) open with the right key, are re-sealed for the
// current format by the upgrade, and open again after it; a wrong key is
// refused as ErrWrongWrappingKey before anything is written, upgrade
// included.
func TestSealedRecordsOfOlderFormats(t *testing.T) {
	for _, old := range []uint32{1, 2, 3, 4} {
		for _, withSecret := range []bool{true, false} {
			t.Run(fmt.Sprintf("format%d/secret=%v", old, withSecret), func(t *testing.T) {
				var secret []byte
				if withSecret {
					secret = rootSecret
				}
				path := createStore(t, wrappingKey, secret)
				withBolt(t, path, func(tx *bolt.Tx) error {
					meta := tx.Bucket([]byte("meta"))
					if withSecret {
						if err := meta.Put([]byte("secret"), sealedFor(t, wrappingKey, old, "secret", rootSecret)); err != nil {
							return err
						}
					}
					if err := meta.Put([]byte("keycheck"), sealedFor(t, wrappingKey, old, "keycheck", nil)); err != nil {
						return err
					}
					if old < 3 {
						if err := tx.DeleteBucket([]byte("customkeystores")); err != nil {
							return err
						}
					}
					if err := tx.DeleteBucket([]byte("grants")); err != nil { // format 5's
						return err
					}
					return meta.Put([]byte("format"), binary.BigEndian.AppendUint32(nil, old))
				})
				before, err := os.ReadFile(path)
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
				if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
					t.Fatal("Open with the wrong key wrote to the file")
				}
				for range 2 { // the upgrade, then a plain reopen
					s, err := boltstore.Open(path, withKey(wrappingKey))
					if err != nil {
						t.Fatalf("Open with the right key: %v", err)
					}
					if withSecret {
						checkStoreSecret(t, s, rootSecret)
					}
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := boltstore.Open(path, withKey(otherKey)); !errors.Is(err, boltstore.ErrWrongWrappingKey) {
					t.Fatalf("Open of the upgraded store with another key: %v, want ErrWrongWrappingKey", err)
				}
			})
		}
	}
}
