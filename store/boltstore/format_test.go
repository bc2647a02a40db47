package boltstore_test

import (
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// TestEnumCodesOfFormat1: format 1 stores keystate's enums as their
// numeric values. If keystate renumbers them, files written before would
// read back wrong: this test fails, and the fix is a new format version
// with a translation, not a new golden table.
func TestEnumCodesOfFormat1(t *testing.T) {
	check := func(kind string, names []string, name func(i int) string) {
		t.Helper()
		for i, want := range names {
			if got := name(i); got != want {
				t.Errorf("%s %d is %q; format 1 stores %q as %d", kind, i, got, want, i)
			}
		}
	}
	check("State", []string{"", "Creating", "Enabled", "Disabled", "PendingDeletion", "PendingImport",
		"PendingReplicaDeletion", "Unavailable", "Updating", "Deleted"},
		func(i int) string { return keystate.State(i).String() })
	check("KeySpec", []string{"SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512",
		"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
		"ECC_NIST_EDWARDS25519", "ECC_SECG_P256K1", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87",
		"ML_KEM_512", "ML_KEM_768", "ML_KEM_1024", "SM2"},
		func(i int) string { return keystate.KeySpec(i).String() })
	check("KeyUsage", []string{"ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT",
		"ENCAPSULATE_DECAPSULATE"}, func(i int) string { return keystate.KeyUsage(i).String() })
	check("Origin", []string{"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"},
		func(i int) string { return keystate.Origin(i).String() })
	check("KeyManager", []string{"CUSTOMER", "AWS"}, func(i int) string { return keystate.KeyManager(i).String() })
	check("MultiRegionRole", []string{"", "PRIMARY", "REPLICA"},
		func(i int) string { return keystate.MultiRegionRole(i).String() })
	// The store refuses codes past the last one it knows: a value added to
	// keystate must be added to format 1's table (encoding.go) too.
	if n := len(keystate.States()); n != 8 {
		t.Errorf("keystate has %d AWS states; format 1 knows 8", n)
	}
	if n := len(keystate.KeySpecs()); n != 20 {
		t.Errorf("keystate has %d key specs; format 1 knows 20", n)
	}
	if n := len(keystate.KeyUsages()); n != 5 {
		t.Errorf("keystate has %d key usages; format 1 knows 5", n)
	}
}

// TestGoldenRecords pins format 3's bytes: a change to the encoding must
// come with a new format version (and code that reads the old one). The
// first key has no imported material, so its record is exactly format 1's;
// the second has the imported-material section of format 2; the third
// the custom-key-store section of format 3, and its store the
// customkeystores bucket of format 3.
func TestGoldenRecords(t *testing.T) {
	path := tempPath(t)
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	utc := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	k := store.Key{ID: "1234abcd-12ab-34cd-56ef-1234567890ab", Version: 1, Seq: 300,
		Account: "111122223333", Description: "d", State: keystate.Enabled,
		Kind:    keystate.Kind{Spec: keystate.HMAC256, Usage: keystate.GenerateVerifyMAC, Origin: keystate.External},
		Created: utc, Tags: []store.Tag{{Key: "a", Value: "b"}}, AutoRotation: true, RotationPeriodDays: 365,
		RotationAnchor: utc, NextRotation: utc.AddDate(1, 0, 0), PendingWindowDays: 30}
	imp := store.Key{ID: "2234abcd-12ab-34cd-56ef-1234567890ab", Version: 1, Seq: 1, Account: "111122223333",
		State: keystate.Enabled, Kind: keystate.Kind{Origin: keystate.External}, Created: utc,
		KeyMaterialID: "ab", ExpirationModel: "KEY_MATERIAL_EXPIRES", ValidTo: utc, ImportedMaterial: []byte{0xca, 0xfe}}
	cks := store.Key{ID: "3234abcd-12ab-34cd-56ef-1234567890ab", Version: 1, Seq: 2, Account: "111122223333",
		State: keystate.Unavailable, Kind: keystate.Kind{Origin: keystate.ExternalKeyStore}, Created: utc,
		CustomKeyStoreID: "cks-1234567890abcdef0", XksKeyID: "x", DesiredState: keystate.Disabled}
	cs := store.CustomKeyStore{ID: "cks-1234567890abcdef0", Seq: 1, Account: "1", Name: "n", Type: "t",
		ConnectionState: "DISCONNECTED", Created: utc, XksProxyAccessKeyID: "a"}
	apply(t, s, store.Batch{
		PutCustomKeyStores: []store.CustomKeyStore{cs},
		PutKeys:            []store.Key{k, imp, cks},
		AddRotations:       []store.KeyRotation{{KeyID: k.ID, Rotation: store.Rotation{At: utc, OnDemand: true}}},
		PutAliases:         []store.Alias{{AliasID: store.AliasID{Account: "1\x002", Name: "alias/x"}, KeyID: k.ID, Created: utc, Updated: utc}},
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"meta": {
			hex.EncodeToString([]byte("format")): "00000003",
			hex.EncodeToString([]byte("magic")):  hex.EncodeToString([]byte("kmsmodel store")),
		},
		"keys": {
			// Version 1, Seq 300, Account, Description, State Enabled,
			// Kind HMAC_256/GENERATE_VERIFY_MAC/EXTERNAL/CUSTOMER/single,
			// Created, 1 tag a=b, AutoRotation, 365 days, anchor, next,
			// 0 on-demand, no on-demand start or end, 30-day window, no
			// deletion date, CRC.
			hex.EncodeToString([]byte(k.ID)): "01" + "ac02" + "0c" + hex.EncodeToString([]byte("111122223333")) +
				"0164" + "02" + "0202010000" + "09fea8b4fc0c" + "01" + "0161" + "0162" + "01" + "ed02" +
				"09fea8b4fc0c" + "09fef6bd9a0d" + "00" + "00" + "00" + "1e" + "00" + "c65add35",
			// Version 1, Seq 1, Account, no description, Enabled,
			// SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT/EXTERNAL, Created, no tags,
			// no rotation fields, no window or deletion date; then the
			// imported-material section: 01, KeyMaterialID "ab",
			// ExpirationModel, ValidTo, 2 bytes of sealed material; CRC.
			hex.EncodeToString([]byte(imp.ID)): "01" + "01" + "0c" + hex.EncodeToString([]byte("111122223333")) +
				"00" + "02" + "0000010000" + "09fea8b4fc0c" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" +
				"01" + "02" + hex.EncodeToString([]byte("ab")) + "14" + hex.EncodeToString([]byte("KEY_MATERIAL_EXPIRES")) +
				"09fea8b4fc0c" + "02" + "cafe" + "5c776533",
			// As imp, Unavailable, EXTERNAL_KEY_STORE, no imported
			// section; then the custom-key-store section: 02, the store
			// ID, XksKeyId "x", desired state Disabled; CRC.
			hex.EncodeToString([]byte(cks.ID)): "01" + "02" + "0c" + hex.EncodeToString([]byte("111122223333")) +
				"00" + "07" + "0000030000" + "09fea8b4fc0c" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" +
				"02" + "15" + hex.EncodeToString([]byte(cs.ID)) + "0178" + "03" + "e3899b51",
		},
		"customkeystores": {
			// Seq 1, Account "1", Name "n", Type "t", DISCONNECTED, no
			// error code, Created, no ConnectDone, empty CloudHSM and XKS
			// fields but the access key ID "a"; CRC.
			hex.EncodeToString([]byte(cs.ID)): "01" + "0131" + "016e" + "0174" + "0c" + hex.EncodeToString([]byte("DISCONNECTED")) +
				"00" + "09fea8b4fc0c" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "0161" + "fa48a30e",
		},
		"rotations": {
			// uvarint(36) ‖ ID ‖ index 0 → on demand, At, CRC.
			"24" + hex.EncodeToString([]byte(k.ID)) + "00000000": "01" + "09fea8b4fc0c" + "e7507e1e",
		},
		"aliases": {
			// Account "1\x002" escaped, 00 01, name → KeyID, Created,
			// Updated, CRC.
			hex.EncodeToString([]byte("1\x00\xff2\x00\x01alias/x")): "24" + hex.EncodeToString([]byte(k.ID)) +
				"09fea8b4fc0c" + "09fea8b4fc0c" + "88323496",
		},
		"keyaliases": {
			"24" + hex.EncodeToString([]byte(k.ID)) + hex.EncodeToString([]byte("1\x00\xff2\x00\x01alias/x")): "",
		},
	}
	got := map[string]map[string]string{}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			m := map[string]string{}
			got[string(name)] = m
			return b.ForEach(func(k, v []byte) error {
				m[hex.EncodeToString(k)] = hex.EncodeToString(v)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for bucket, records := range want {
		for k, v := range records {
			g, ok := got[bucket][k]
			if !ok {
				t.Errorf("bucket %s: no record %s", bucket, k)
				continue
			}
			if g != v {
				t.Errorf("bucket %s, record %s:\n got  %s\n want %s", bucket, k, g, v)
			}
		}
		if len(got[bucket]) != len(records) {
			t.Errorf("bucket %s has %d records, want %d", bucket, len(got[bucket]), len(records))
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d buckets, want %d", len(got), len(want))
	}
}

// TestFormatUpgrade: a format 1 file (format 2 without imported-material
// sections) and a format 2 file (format 3 without the customkeystores
// bucket and custom-key-store sections) open, read back as they were, and
// are marked format 3 at once, with the new bucket, so that an older build
// refuses them with a clear error.
func TestFormatUpgrade(t *testing.T) {
	for _, old := range []byte{1, 2} {
		t.Run(fmt.Sprintf("format%d", old), func(t *testing.T) {
			path := tempPath(t)
			s, err := boltstore.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			k := store.Key{ID: "1234abcd-12ab-34cd-56ef-1234567890ab", Version: 1, Account: "111122223333",
				State: keystate.PendingImport, Kind: keystate.Kind{Origin: keystate.External},
				Created: time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)}
			apply(t, s, store.Batch{PutKeys: []store.Key{k}})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			format := func() string {
				t.Helper()
				var v []byte
				withBolt(t, path, func(tx *bolt.Tx) error {
					v = append(v, tx.Bucket([]byte("meta")).Get([]byte("format"))...)
					return nil
				})
				return hex.EncodeToString(v)
			}
			withBolt(t, path, func(tx *bolt.Tx) error {
				if err := tx.DeleteBucket([]byte("customkeystores")); err != nil {
					return err
				}
				return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte{0, 0, 0, old})
			})
			if got, want := format(), fmt.Sprintf("%08x", old); got != want {
				t.Fatalf("format %s after the downgrade", got)
			}
			s, err = boltstore.Open(path, nil)
			if err != nil {
				t.Fatalf("Open of a format %d file: %v", old, err)
			}
			got, err := s.Key(t.Context(), k.ID)
			if err != nil || got.State != k.State || !got.Created.Equal(k.Created) || got.ImportedMaterial != nil {
				t.Fatalf("Key = %+v, %v", got, err)
			}
			if cs, err := s.CustomKeyStores(t.Context()); err != nil || len(cs) != 0 {
				t.Fatalf("CustomKeyStores = %v, %v", cs, err)
			}
			apply(t, s, store.Batch{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-1", Name: "n"}}})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := format(); got != "00000003" {
				t.Fatalf("format %s after Open, want 00000003", got)
			}
		})
	}
}
