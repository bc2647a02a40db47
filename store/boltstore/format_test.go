package boltstore_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
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

// TestGoldenRecords pins format 5's bytes: a change to the encoding must
// come with a new format version (and code that reads the old one). The
// first key has no imported material, so its record is exactly format 1's;
// the second has the imported-material section of format 2; the third
// the custom-key-store section of format 3, and its store the
// customkeystores bucket of format 3; the fourth the region section of
// format 4, and the second store a Region, as format 4 adds; the fifth
// the region section and then the material section of format 5; the
// sixth the imported-material section and then the public-key section,
// also format 5's (see formatVersion); the seventh the material section
// and then the public-key section (the service writes no such key, but
// the format orders them so); the eighth the public-key section and then
// the policy section, format 5's too, with a policy of non-ASCII UTF-8
// and a length of two uvarint bytes. Two grants pin the grants bucket,
// format 5's too: its keys, and its records' strings, string lists and
// string maps, nil and empty ones told apart. Alias keys are format 4's: Region,
// account, name. The first four keys have no Material, PublicKey or
// Policy, so their records are format 4's. The CRCs were computed apart from the store's
// code (a bitwise CRC-32C, reflected polynomial 0x82F63B78, in Python),
// which reproduces the older pins too.
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
	mrk := store.Key{ID: "us-west-2/mrk-0123456789abcdef0123456789abcdef", Region: "us-west-2", Version: 1, Seq: 3,
		Account: "111122223333", State: keystate.Creating, Kind: keystate.Kind{MultiRegion: keystate.Replica},
		Created: utc, PrimaryRegion: "us-east-1", StateDone: utc}
	gen := store.Key{ID: "4234abcd-12ab-34cd-56ef-1234567890ab", Region: "eu-west-1", Version: 1, Seq: 4,
		Account: "111122223333", State: keystate.Enabled, Kind: keystate.Kind{Spec: keystate.ECCNISTP256, Usage: keystate.SignVerify},
		Created: utc, Material: []byte{0xde, 0xad, 0xbe, 0xef}}
	pub := store.Key{ID: "5234abcd-12ab-34cd-56ef-1234567890ab", Version: 1, Seq: 5, Account: "111122223333",
		State: keystate.PendingImport, Kind: keystate.Kind{Spec: keystate.ECCNISTP256, Usage: keystate.SignVerify, Origin: keystate.External},
		Created: utc, KeyMaterialID: "cd", PublicKey: []byte{0x30, 0x59, 0x30}}
	both := store.Key{ID: "6234abcd-12ab-34cd-56ef-1234567890ab", Version: 1, Seq: 6, Account: "111122223333",
		State: keystate.Enabled, Kind: keystate.Kind{Spec: keystate.ECCNISTP256, Usage: keystate.SignVerify},
		Created: utc, Material: []byte{0xca, 0xfe}, PublicKey: []byte{0x30, 0x59}}
	pol := store.Key{ID: "7234abcd-12ab-34cd-56ef-1234567890ab", Version: 1, Seq: 7, Account: "111122223333",
		State: keystate.Enabled, Kind: keystate.Kind{Spec: keystate.ECCNISTP256, Usage: keystate.SignVerify, Origin: keystate.External},
		Created: utc, PublicKey: []byte{0x30, 0x59}, Policy: strings.Repeat(" ", 190) + `{"Id":"é"}`}
	if len(pol.Policy) != 201 {
		t.Fatalf("the policy is %d bytes", len(pol.Policy))
	}
	// Grants (format 5's grants bucket): one with every field but
	// RetiringPrincipal and EncryptionContextEquals (nil), its Subset map
	// given out of order; one with empty (not nil) Operations and
	// EncryptionContextEquals, a nil Subset and a zero Created.
	grant := store.Grant{KeyID: k.ID, GrantID: strings.Repeat("0123456789abcdef", 4), Name: "n",
		GranteePrincipal: "g", IssuingAccount: "i", Operations: []string{"Decrypt", "Encrypt"},
		EncryptionContextSubset: map[string]string{"b": "2", "a": "1"}, Created: utc}
	bare := store.Grant{KeyID: mrk.ID, GrantID: strings.Repeat("ab", 32), RetiringPrincipal: "r",
		Operations: []string{}, EncryptionContextEquals: map[string]string{}}
	cs := store.CustomKeyStore{ID: "cks-1234567890abcdef0", Seq: 1, Account: "1", Name: "n", Type: "t",
		ConnectionState: "DISCONNECTED", Created: utc, XksProxyAccessKeyID: "a"}
	cs2 := store.CustomKeyStore{ID: "cks-2234567890abcdef0", Region: "eu-west-1", Seq: 2}
	apply(t, s, store.Batch{
		PutCustomKeyStores: []store.CustomKeyStore{cs, cs2},
		PutKeys:            []store.Key{k, imp, cks, mrk, gen, pub, both, pol},
		AddRotations:       []store.KeyRotation{{KeyID: k.ID, Rotation: store.Rotation{At: utc, OnDemand: true}}},
		PutAliases: []store.Alias{{AliasID: store.AliasID{Account: "1\x002", Name: "alias/x"}, KeyID: k.ID, Created: utc, Updated: utc},
			{AliasID: store.AliasID{Region: "us-west-2", Account: "1", Name: "alias/x"}, KeyID: mrk.ID}},
		PutGrants: []store.Grant{grant, bare},
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"meta": {
			hex.EncodeToString([]byte("format")): "00000005",
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
			// Version 1, Seq 3, Account, no description, Creating,
			// SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT/AWS_KMS/CUSTOMER/REPLICA,
			// Created, nothing else until the region section: 03, Region
			// "us-west-2", PrimaryRegion "us-east-1", StateDone; CRC.
			hex.EncodeToString([]byte(mrk.ID)): "01" + "03" + "0c" + hex.EncodeToString([]byte("111122223333")) +
				"00" + "01" + "0000000002" + "09fea8b4fc0c" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" +
				"03" + "09" + hex.EncodeToString([]byte("us-west-2")) + "09" + hex.EncodeToString([]byte("us-east-1")) +
				"09fea8b4fc0c" + "c98e662c",
			// Version 1, Seq 4, Account, no description, Enabled,
			// ECC_NIST_P256/SIGN_VERIFY/AWS_KMS/CUSTOMER/single, Created,
			// nothing else until the region section: 03, Region
			// "eu-west-1", no PrimaryRegion, no StateDone; then the
			// material section: 04, 4 bytes of sealed material; CRC.
			hex.EncodeToString([]byte(gen.ID)): "01" + "04" + "0c" + hex.EncodeToString([]byte("111122223333")) +
				"00" + "02" + "0801000000" + "09fea8b4fc0c" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" +
				"03" + "09" + hex.EncodeToString([]byte("eu-west-1")) + "00" + "00" +
				"04" + "04" + "deadbeef" + "18b60bd5",
			// Version 1, Seq 5, Account, no description, PendingImport,
			// ECC_NIST_P256/SIGN_VERIFY/EXTERNAL/CUSTOMER/single, Created,
			// nothing else until the imported-material section: 01,
			// KeyMaterialID "cd" (kept after the material was deleted), no
			// ExpirationModel, ValidTo or material; then the public-key
			// section: 05, 3 bytes of public key; CRC.
			hex.EncodeToString([]byte(pub.ID)): "01" + "05" + "0c" + hex.EncodeToString([]byte("111122223333")) +
				"00" + "05" + "0801010000" + "09fea8b4fc0c" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" +
				"01" + "02" + hex.EncodeToString([]byte("cd")) + "00" + "00" + "00" +
				"05" + "03" + "305930" + "9b34a583",
			// Version 1, Seq 6, Account, no description, Enabled,
			// ECC_NIST_P256/SIGN_VERIFY/AWS_KMS/CUSTOMER/single, Created,
			// nothing else until the material section: 04, 2 bytes; then
			// the public-key section: 05, 2 bytes; CRC.
			hex.EncodeToString([]byte(both.ID)): "01" + "06" + "0c" + hex.EncodeToString([]byte("111122223333")) +
				"00" + "02" + "0801000000" + "09fea8b4fc0c" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" +
				"04" + "02" + "cafe" + "05" + "02" + "3059" + "99e334b2",
			// Version 1, Seq 7, Account, no description, Enabled,
			// ECC_NIST_P256/SIGN_VERIFY/EXTERNAL/CUSTOMER/single, Created,
			// nothing else until the public-key section: 05, 2 bytes; then
			// the policy section: 06, the length 201 (c9 01), 190 spaces
			// and {"Id":"é"} (é as c3 a9); CRC.
			hex.EncodeToString([]byte(pol.ID)): "01" + "07" + "0c" + hex.EncodeToString([]byte("111122223333")) +
				"00" + "02" + "0801010000" + "09fea8b4fc0c" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" +
				"05" + "02" + "3059" + "06" + "c901" + strings.Repeat("20", 190) + "7b224964223a22c3a9227d" + "3188e412",
		},
		"customkeystores": {
			// Seq 1, Account "1", Name "n", Type "t", DISCONNECTED, no
			// error code, Created, no ConnectDone, empty CloudHSM and XKS
			// fields but the access key ID "a"; CRC.
			hex.EncodeToString([]byte(cs.ID)): "01" + "0131" + "016e" + "0174" + "0c" + hex.EncodeToString([]byte("DISCONNECTED")) +
				"00" + "09fea8b4fc0c" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "00" + "0161" + "fa48a30e",
			// Seq 2, every string empty and both times zero; then 01 and
			// the Region "eu-west-1"; CRC.
			hex.EncodeToString([]byte(cs2.ID)): "02" + "0000000000" + "00" + "00" + "0000000000000000" +
				"01" + "09" + hex.EncodeToString([]byte("eu-west-1")) + "0f51d2a9",
		},
		"rotations": {
			// uvarint(36) ‖ ID ‖ index 0 → on demand, At, CRC.
			"24" + hex.EncodeToString([]byte(k.ID)) + "00000000": "01" + "09fea8b4fc0c" + "e7507e1e",
		},
		"aliases": {
			// Region "" and 00 01, account "1\x002" escaped and 00 01,
			// name → KeyID, Created, Updated, CRC.
			hex.EncodeToString([]byte("\x00\x011\x00\xff2\x00\x01alias/x")): "24" + hex.EncodeToString([]byte(k.ID)) +
				"09fea8b4fc0c" + "09fea8b4fc0c" + "9860ce85",
			// Region "us-west-2" and 00 01, account "1" and 00 01, name →
			// KeyID, no Created or Updated, CRC.
			hex.EncodeToString([]byte("us-west-2\x00\x011\x00\x01alias/x")): "2e" + hex.EncodeToString([]byte(mrk.ID)) +
				"00" + "00" + "fd3d3ee9",
		},
		"grants": {
			// uvarint(36) ‖ key ID ‖ grant ID → Name "n", GranteePrincipal
			// "g", no RetiringPrincipal, IssuingAccount "i", Operations
			// (2+1 = 03) Decrypt and Encrypt in the order given,
			// EncryptionContextEquals nil (00), EncryptionContextSubset
			// (2+1 = 03) a=1 and b=2 in key order, Created; CRC.
			"24" + hex.EncodeToString([]byte(k.ID+grant.GrantID)): "016e" + "0167" + "00" + "0169" +
				"03" + "07" + hex.EncodeToString([]byte("Decrypt")) + "07" + hex.EncodeToString([]byte("Encrypt")) +
				"00" + "03" + "0161" + "0131" + "0162" + "0132" + "09fea8b4fc0c" + "ac7ba4fd",
			// uvarint(46) ‖ replica key ID ‖ grant ID → no Name or
			// GranteePrincipal, RetiringPrincipal "r", no IssuingAccount,
			// Operations empty (0+1 = 01), EncryptionContextEquals empty
			// (01), EncryptionContextSubset nil (00), no Created; CRC.
			"2e" + hex.EncodeToString([]byte(mrk.ID+bare.GrantID)): "00" + "00" + "0172" + "00" + "01" + "01" + "00" + "00" + "1eef4e5d",
		},
		"keyaliases": {
			"24" + hex.EncodeToString([]byte(k.ID)) + hex.EncodeToString([]byte("\x00\x011\x00\xff2\x00\x01alias/x")):   "",
			"2e" + hex.EncodeToString([]byte(mrk.ID)) + hex.EncodeToString([]byte("us-west-2\x00\x011\x00\x01alias/x")): "",
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

// escapeField writes s as an alias key writes its Region and account:
// each 0x00 byte as 0x00 0xFF, then the terminator 0x00 0x01.
func escapeField(s string) string { return strings.ReplaceAll(s, "\x00", "\x00\xff") + "\x00\x01" }

// aliasKey4 is an alias's bolt key in format 4; aliasKey3 in formats 1 to
// 3, which have no Region.
func aliasKey4(id store.AliasID) string {
	return escapeField(id.Region) + escapeField(id.Account) + id.Name
}
func aliasKey3(id store.AliasID) string { return escapeField(id.Account) + id.Name }

// indexKey is the keyaliases entry of an alias with bolt key ak.
func indexKey(keyID, ak string) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(keyID))), keyID+ak...)
}

// downgrade turns the store at path, written by this build without
// Material and (before format 4) without Regions, into a file of format
// old, as a build of that format would have written it: no grants bucket
// (the store must have no grants); before format 4, alias keys (in the
// aliases and keyaliases buckets) as formats 1 to 3 write them, with
// their records' checksums over the old keys; no customkeystores bucket
// before format 3; the format version old. aliases
// are every alias in the store (ignored for format 4, whose alias keys are
// this build's). A key without Material is written as format 4 writes it,
// so keys need no change.
func downgrade(t *testing.T, path string, old uint32, aliases []store.Alias) {
	t.Helper()
	withBolt(t, path, func(tx *bolt.Tx) error {
		recs, index := tx.Bucket([]byte("aliases")), tx.Bucket([]byte("keyaliases"))
		if old >= 4 {
			aliases = nil // their keys are format 4's already
		} else if n := recs.Stats().KeyN; n != len(aliases) {
			t.Fatalf("the store has %d aliases; downgrade was given %d", n, len(aliases))
		}
		for _, a := range aliases {
			if a.Region != "" {
				t.Fatalf("alias %+q has a Region, which format %d cannot hold", a.AliasID, old)
			}
			k4, k3 := aliasKey4(a.AliasID), aliasKey3(a.AliasID)
			v := recs.Get([]byte(k4))
			if v == nil {
				t.Fatalf("no record under alias key %q", k4)
			}
			body := bytes.Clone(v[:len(v)-4])
			if err := recs.Delete([]byte(k4)); err != nil {
				return err
			}
			if err := recs.Put([]byte(k3), append(body, crc(k3, body)...)); err != nil {
				return err
			}
			if index.Get(indexKey(a.KeyID, k4)) == nil {
				t.Fatalf("no keyaliases entry for alias key %q", k4)
			}
			if err := index.Delete(indexKey(a.KeyID, k4)); err != nil {
				return err
			}
			if err := index.Put(indexKey(a.KeyID, k3), []byte{}); err != nil {
				return err
			}
		}
		if old < 3 {
			if err := tx.DeleteBucket([]byte("customkeystores")); err != nil {
				return err
			}
		}
		if old < 5 {
			if n := tx.Bucket([]byte("grants")).Stats().KeyN; n != 0 {
				t.Fatalf("the store has %d grants, which format %d cannot hold", n, old)
			}
			if err := tx.DeleteBucket([]byte("grants")); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("format"), binary.BigEndian.AppendUint32(nil, old))
	})
}

// rawKeys returns the bolt keys of a bucket of the file at path.
func rawKeys(t *testing.T, path, bucket string) []string {
	t.Helper()
	var out []string
	withBolt(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucket)).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	return out
}

// formatOf returns the format version of the file at path, in hex.
func formatOf(t *testing.T, path string) string {
	t.Helper()
	var v []byte
	withBolt(t, path, func(tx *bolt.Tx) error {
		v = append(v, tx.Bucket([]byte("meta")).Get([]byte("format"))...)
		return nil
	})
	return hex.EncodeToString(v)
}

// TestFormatUpgrade: files of formats 1 to 4 open, read back as they
// were (before format 4, no Regions: every Region reads back ""; no
// Material), and are upgraded to format 5 at once: the customkeystores
// bucket of format 3 where it is missing, alias keys and keyaliases
// entries of formats 1 to 3 rewritten with the default Region, and the
// format version 5, so that an older build refuses them with a clear
// error. The upgraded file then works as one made in format 5: deleting a
// key removes its aliases (through the rewritten index), an alias of the
// same account and name in another Region is another alias, a key takes
// Material, and keys take grants (in the grants bucket of format 5, which
// the upgrade creates), which read back after the store is reopened.
func TestFormatUpgrade(t *testing.T) {
	for _, old := range []uint32{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("format%d", old), func(t *testing.T) {
			path := tempPath(t)
			s, err := boltstore.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			created := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
			k := store.Key{ID: "1234abcd-12ab-34cd-56ef-1234567890ab", Version: 1, Account: "111122223333",
				State: keystate.PendingImport, Kind: keystate.Kind{Origin: keystate.External}, Created: created}
			k2 := store.Key{ID: "mrk-0123456789abcdef0123456789abcdef", Version: 1, Account: "111122223333",
				State: keystate.Enabled, Kind: keystate.Kind{MultiRegion: keystate.Primary}, Created: created}
			aliases := []store.Alias{
				{AliasID: store.AliasID{Account: "", Name: "alias/empty-account"}, KeyID: k.ID},
				{AliasID: store.AliasID{Account: "1\x002", Name: "alias/escaped\x00"}, KeyID: k2.ID, Created: created},
				{AliasID: store.AliasID{Account: "111122223333", Name: "alias/a"}, KeyID: k.ID, Updated: created},
				{AliasID: store.AliasID{Account: "111122223333", Name: "alias/b"}, KeyID: k2.ID},
			}
			b := store.Batch{PutKeys: []store.Key{k, k2}, PutAliases: aliases,
				AddRotations: []store.KeyRotation{{KeyID: k2.ID, Rotation: store.Rotation{At: created}}}}
			var stores []store.CustomKeyStore
			if old >= 3 {
				stores = []store.CustomKeyStore{{ID: "cks-1234567890abcdef0", Seq: 1, Account: "1", Name: "n",
					Type: "EXTERNAL_KEY_STORE", ConnectionState: "CONNECTED", Created: created}}
				b.PutCustomKeyStores = stores
			}
			apply(t, s, b)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			downgrade(t, path, old, aliases)
			if got, want := formatOf(t, path), fmt.Sprintf("%08x", old); got != want {
				t.Fatalf("format %s after the downgrade", got)
			}

			s, err = boltstore.Open(path, nil)
			if err != nil {
				t.Fatalf("Open of a format %d file: %v", old, err)
			}
			keys, rots, got := readAll(t, s)
			if len(keys) != 2 || keys[0].ID != k.ID || keys[1].ID != k2.ID {
				t.Fatalf("Keys = %+v", keys)
			}
			for i, want := range []store.Key{k, k2} {
				g := keys[i]
				if g.State != want.State || g.Kind != want.Kind || !g.Created.Equal(want.Created) || g.ImportedMaterial != nil || g.Material != nil ||
					g.Region != "" || g.PrimaryRegion != "" || !g.StateDone.IsZero() {
					t.Fatalf("Key = %+v, want %+v", g, want)
				}
			}
			if len(rots) != 1 || len(rots[k2.ID]) != 1 || !rots[k2.ID][0].At.Equal(created) {
				t.Fatalf("rotations = %v", rots)
			}
			if len(got) != len(aliases) {
				t.Fatalf("Aliases = %+v, want %+v", got, aliases)
			}
			for i, a := range aliases { // aliases are in (account, name) order
				g := got[i]
				if g.AliasID != a.AliasID || g.Region != "" || g.KeyID != a.KeyID ||
					!g.Created.Equal(a.Created) || !g.Updated.Equal(a.Updated) || g.Created.IsZero() != a.Created.IsZero() {
					t.Fatalf("alias %d = %+v, want %+v", i, g, a)
				}
			}
			cs, err := s.CustomKeyStores(t.Context())
			if err != nil || len(cs) != len(stores) || len(cs) > 0 && (cs[0] != stores[0] || cs[0].Region != "") {
				t.Fatalf("CustomKeyStores = %+v, %v; want %+v", cs, err, stores)
			}
			apply(t, s, store.Batch{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-2", Name: "n", Region: "us-west-2"}}})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := formatOf(t, path); got != "00000005" {
				t.Fatalf("format %s after Open, want 00000005", got)
			}
			var wantKeys, wantIndex []string
			for _, a := range aliases {
				wantKeys = append(wantKeys, aliasKey4(a.AliasID))
				wantIndex = append(wantIndex, string(indexKey(a.KeyID, aliasKey4(a.AliasID))))
			}
			slices.Sort(wantKeys)
			slices.Sort(wantIndex)
			if got := rawKeys(t, path, "aliases"); !slices.Equal(got, wantKeys) {
				t.Fatalf("alias keys after the upgrade:\n got  %q\n want %q", got, wantKeys)
			}
			if got := rawKeys(t, path, "keyaliases"); !slices.Equal(got, wantIndex) {
				t.Fatalf("keyaliases entries after the upgrade:\n got  %q\n want %q", got, wantIndex)
			}

			// The upgraded file, opened again (no second upgrade), works
			// as a format 5 file.
			s = openStore(t, path, nil)
			withMaterial := next(k2)
			withMaterial.Material = []byte("sealed generated material")
			apply(t, s, store.Batch{PutKeys: []store.Key{withMaterial}})
			gk := store.Grant{KeyID: k.ID, GrantID: "g", GranteePrincipal: "p", Operations: []string{"Decrypt"}}
			gk2 := store.Grant{KeyID: k2.ID, GrantID: "g", GranteePrincipal: "p", Operations: []string{"Encrypt"},
				EncryptionContextEquals: map[string]string{"a": "b"}, Created: created}
			apply(t, s, store.Batch{PutGrants: []store.Grant{gk, gk2}})
			west := store.Alias{AliasID: store.AliasID{Region: "us-west-2", Account: "111122223333", Name: "alias/a"}, KeyID: k2.ID}
			apply(t, s, store.Batch{PutAliases: []store.Alias{west}})
			apply(t, s, store.Batch{DeleteKeys: []string{k.ID}})
			_, _, got = readAll(t, s)
			want := []store.Alias{aliases[1], aliases[3], west}
			if len(got) != len(want) {
				t.Fatalf("Aliases after deleting %s = %+v, want %+v", k.ID, got, want)
			}
			for i := range want {
				if got[i].AliasID != want[i].AliasID || got[i].KeyID != want[i].KeyID {
					t.Fatalf("Aliases after deleting %s = %+v, want %+v", k.ID, got, want)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openStore(t, path, nil)
			if g, err := s.Key(t.Context(), k2.ID); err != nil || !bytes.Equal(g.Material, withMaterial.Material) || g.Version != 2 {
				t.Fatalf("Key after reopening = %+v, %v; want Version 2 and Material %q", g, err, withMaterial.Material)
			}
			// The grants bucket the upgrade created kept k2's grant and
			// lost k's with k.
			if gs := grantsOf(t, s); !reflect.DeepEqual(gs, []store.Grant{gk2}) {
				t.Fatalf("Grants after reopening = %+v, want %+v", gs, gk2)
			}
		})
	}
}

// next returns k as its next Version.
func next(k store.Key) store.Key {
	k.Version++
	return k
}

// TestFormat3FileReadsWithEmptyRegions: a format 3 file, made as format 3
// builds made them, opens, is upgraded, and reads back exactly what was
// written, with every Region empty; the upgrade, once done, is not done
// again.
func TestFormat3FileReadsWithEmptyRegions(t *testing.T) {
	path := tempPath(t)
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b store.Batch
	for i := range 40 {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(uint64(i)*2654435761), i)
		k := key(id)
		k.Seq = uint64(i)
		b.PutKeys = append(b.PutKeys, k)
		// In UTC, as the store reads times back, so that reflect.DeepEqual
		// compares them with Memory's.
		b.AddRotations = append(b.AddRotations, store.KeyRotation{KeyID: id, Rotation: store.Rotation{At: time.Unix(int64(i), 0).UTC()}})
		for _, acct := range []string{"111122223333", fmt.Sprintf("acct\x00%d", i%3)} {
			b.PutAliases = append(b.PutAliases, store.Alias{AliasID: store.AliasID{Account: acct, Name: "alias/" + id}, KeyID: id})
		}
	}
	b.PutCustomKeyStores = []store.CustomKeyStore{{ID: "cks-1", Account: "1", Name: "one"}, {ID: "cks-2", Account: "2", Name: "two"}}
	mem := store.NewMemory()
	apply(t, s, b)
	apply(t, mem, b)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	downgrade(t, path, 3, b.PutAliases)
	for range 2 {
		s := openStore(t, path, nil)
		gotK, gotR, gotA := readAll(t, s)
		wantK, wantR, wantA := readAll(t, mem)
		if !reflect.DeepEqual(gotK, wantK) {
			t.Fatalf("keys after the upgrade differ:\n got  %+v\n want %+v", gotK, wantK)
		}
		if !reflect.DeepEqual(gotR, wantR) {
			t.Fatalf("rotations after the upgrade differ:\n got  %+v\n want %+v", gotR, wantR)
		}
		if !reflect.DeepEqual(gotA, wantA) {
			t.Fatalf("aliases after the upgrade differ:\n got  %+v\n want %+v", gotA, wantA)
		}
		for _, k := range gotK {
			if k.Region != "" || k.PrimaryRegion != "" || !k.StateDone.IsZero() {
				t.Fatalf("key %s has Region %q, PrimaryRegion %q, StateDone %v; want none", k.ID, k.Region, k.PrimaryRegion, k.StateDone)
			}
		}
		for _, a := range gotA {
			if a.Region != "" {
				t.Fatalf("alias %+q has a Region", a.AliasID)
			}
		}
		cs, err := s.CustomKeyStores(t.Context())
		if err != nil || !reflect.DeepEqual(cs, b.PutCustomKeyStores) {
			t.Fatalf("CustomKeyStores = %+v, %v; want %+v", cs, err, b.PutCustomKeyStores)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if got := formatOf(t, path); got != "00000005" {
			t.Fatalf("format %s after Open, want 00000005", got)
		}
	}
}

// TestFormat3UpgradeDamage: an alias record of a format 3 file that fails
// its checksum still fails it after the upgrade (it is not re-sealed over
// the damage), and the rest of the store still works; an alias key that
// is not a format 3 alias key fails Open with ErrCorrupt, and the file is
// left as it was.
func TestFormat3UpgradeDamage(t *testing.T) {
	make3 := func(t *testing.T) (string, []store.Alias) {
		path := tempPath(t)
		s, err := boltstore.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		aliases := []store.Alias{{AliasID: store.AliasID{Account: "1", Name: "alias/a"}, KeyID: "k"},
			{AliasID: store.AliasID{Account: "1", Name: "alias/b"}, KeyID: "k"}}
		apply(t, s, store.Batch{PutKeys: []store.Key{key("k")}, PutAliases: aliases})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		downgrade(t, path, 3, aliases)
		return path, aliases
	}
	t.Run("damaged record", func(t *testing.T) {
		path, aliases := make3(t)
		withBolt(t, path, func(tx *bolt.Tx) error {
			recs := tx.Bucket([]byte("aliases"))
			k := []byte(aliasKey3(aliases[0].AliasID))
			v := bytes.Clone(recs.Get(k))
			v[1] ^= 0x40
			return recs.Put(k, v)
		})
		s := openStore(t, path, nil)
		if _, err := s.Aliases(t.Context(), store.AliasID{}, 10); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("Aliases over the damaged record = %v, want ErrCorrupt", err)
		}
		as, err := s.Aliases(t.Context(), aliases[0].AliasID, 10)
		if err != nil || len(as) != 1 || as[0].AliasID != aliases[1].AliasID {
			t.Fatalf("Aliases after the damaged record = %+v, %v; want %+v", as, err, aliases[1])
		}
		if _, err := s.Key(t.Context(), "k"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("malformed key", func(t *testing.T) {
		path, _ := make3(t)
		withBolt(t, path, func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("aliases")).Put([]byte("no terminator"), []byte("x"))
		})
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := boltstore.Open(path, nil)
		if err == nil {
			s.Close()
			t.Fatal("Open succeeded")
		}
		checkCorrupt(t, err, path)
		if !strings.Contains(err.Error(), "upgrading from format 3 to format 5") {
			t.Fatalf("error %q does not say it was upgrading", err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
			t.Fatal("the refused file was modified")
		}
	})
}

// rawRecords returns the records of a bucket of the file at path, by
// bolt key.
func rawRecords(t *testing.T, path, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	withBolt(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucket)).ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	return out
}

// TestFormat4FileTakesMaterial: a format 4 file, made as format 4 builds
// made it (keys with every section format 4 knows, aliases and custom key
// stores in Regions), opens and reads back exactly what was written; Open
// upgrades it to format 5 without rewriting a key record (a key without
// Material is the same bytes in both formats). The upgraded file then
// takes keys with Material (new ones, and later Versions that add, replace
// and drop it), with PublicKey (added, then kept by a Version that
// drops the material) and with Policy (added with them, then kept), which
// read back, as Memory's do, after it is reopened.
func TestFormat4FileTakesMaterial(t *testing.T) {
	path := tempPath(t)
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	utc := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	full := store.Key{ID: "1234abcd-12ab-34cd-56ef-1234567890ab", Version: 1, Seq: 1, Account: "111122223333",
		State: keystate.Enabled, Kind: keystate.Kind{Origin: keystate.External}, Created: utc,
		Tags: []store.Tag{{Key: "a", Value: "b"}}, KeyMaterialID: "ab", ExpirationModel: "KEY_MATERIAL_EXPIRES",
		ValidTo: utc, ImportedMaterial: []byte{0xca, 0xfe}, CustomKeyStoreID: "cks-1", XksKeyID: "x",
		DesiredState: keystate.Disabled, Region: "eu-west-1", PrimaryRegion: "us-east-1", StateDone: utc}
	hmac := store.Key{ID: "2234abcd-12ab-34cd-56ef-1234567890ab", Version: 1, Seq: 2, Account: "111122223333",
		State: keystate.Enabled, Kind: keystate.Kind{Spec: keystate.HMAC256, Usage: keystate.GenerateVerifyMAC}, Created: utc}
	rsa := store.Key{ID: "us-west-2/mrk-0123456789abcdef0123456789abcdef", Region: "us-west-2", Version: 1, Seq: 3,
		Account: "111122223333", State: keystate.Enabled,
		Kind: keystate.Kind{Spec: keystate.RSA2048, Usage: keystate.SignVerify, MultiRegion: keystate.Replica}, Created: utc}
	b := store.Batch{
		PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-1", Account: "1", Name: "one", Region: "eu-west-1"}},
		PutKeys:            []store.Key{full, hmac, rsa},
		AddRotations:       []store.KeyRotation{{KeyID: full.ID, Rotation: store.Rotation{At: utc}}},
		PutAliases: []store.Alias{{AliasID: store.AliasID{Region: "us-west-2", Account: "111122223333", Name: "alias/r"}, KeyID: rsa.ID},
			{AliasID: store.AliasID{Account: "111122223333", Name: "alias/h"}, KeyID: hmac.ID}},
	}
	mem := store.NewMemory()
	apply(t, s, b)
	apply(t, mem, b)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	downgrade(t, path, 4, nil)
	if got := formatOf(t, path); got != "00000004" {
		t.Fatalf("format %s after the downgrade", got)
	}
	before := map[string]map[string]string{}
	for _, bucket := range []string{"keys", "rotations", "aliases", "keyaliases", "customkeystores"} {
		before[bucket] = rawRecords(t, path, bucket)
	}

	same := func(t *testing.T, s store.Store) {
		t.Helper()
		gotK, gotR, gotA := readAll(t, s)
		wantK, wantR, wantA := readAll(t, mem)
		if !reflect.DeepEqual(gotK, wantK) {
			t.Fatalf("keys differ:\n got  %+v\n want %+v", gotK, wantK)
		}
		if !reflect.DeepEqual(gotR, wantR) {
			t.Fatalf("rotations differ:\n got  %+v\n want %+v", gotR, wantR)
		}
		if !reflect.DeepEqual(gotA, wantA) {
			t.Fatalf("aliases differ:\n got  %+v\n want %+v", gotA, wantA)
		}
		gotC, err := s.CustomKeyStores(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		wantC, _ := mem.CustomKeyStores(t.Context())
		if !reflect.DeepEqual(gotC, wantC) {
			t.Fatalf("custom key stores differ:\n got  %+v\n want %+v", gotC, wantC)
		}
	}
	s = openStore(t, path, nil)
	same(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := formatOf(t, path); got != "00000005" {
		t.Fatalf("format %s after Open, want 00000005", got)
	}
	for bucket, recs := range before {
		if got := rawRecords(t, path, bucket); !reflect.DeepEqual(got, recs) {
			t.Fatalf("the upgrade to format 5 rewrote bucket %s:\n got  %q\n want %q", bucket, got, recs)
		}
	}

	// Material, in the upgraded file: added by a later Version, on a new
	// key, replaced, and dropped; PublicKey added, then kept without the
	// material.
	s = openStore(t, path, nil)
	hmac2 := next(hmac)
	hmac2.Material = []byte("sealed HMAC key")
	rsa2 := next(rsa)
	rsa2.Material = bytes.Repeat([]byte{0x00, 0xff}, 700) // a length of two uvarint bytes
	gen := store.Key{ID: "3234abcd-12ab-34cd-56ef-1234567890ab", Version: 1, Seq: 4, Account: "111122223333",
		State: keystate.Enabled, Kind: keystate.Kind{Spec: keystate.ECCNISTP256, Usage: keystate.SignVerify},
		Created: utc, Region: "eu-west-1", Material: []byte{1}}
	full2 := next(full)
	full2.Material = []byte("every section, then material")
	full2.PublicKey = []byte("and a public key after it")
	full2.Policy = `{"Version":"2012-10-17","Statement":[]} and a policy after that`
	full3 := next(full2)
	full3.State, full3.ExpirationModel, full3.ValidTo, full3.ImportedMaterial, full3.Material = keystate.PendingImport, "", time.Time{}, nil, nil
	for _, b := range []store.Batch{
		{PutKeys: []store.Key{hmac2, rsa2, gen, full2}},
		{PutKeys: []store.Key{func() store.Key { k := next(hmac2); k.Material = []byte("another"); return k }()}},
		{PutKeys: []store.Key{func() store.Key { k := next(rsa2); k.Material = nil; return k }(), full3}},
	} {
		apply(t, s, b)
		apply(t, mem, b)
	}
	same(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path, nil)
	same(t, s)
}
