package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// RunConformanceTests runs the conformance suite, one subtest per rule,
// each on a fresh store from newStore. newStore must return an empty,
// open store or fail t; the suite closes the store when the subtest ends.
func RunConformanceTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	tests := []subtest[store.Store]{
		{"RoundTripKey", testRoundTripKey},
		{"RoundTripZeroKey", testRoundTripZeroKey},
		{"RoundTripEnums", testRoundTripEnums},
		{"RoundTripRotations", testRoundTripRotations},
		{"RoundTripAlias", testRoundTripAlias},
		{"NoAliasing", testNoAliasing},
		{"NotFound", testNotFound},
		{"Exists", testExists},
		{"Conflict", testConflict},
		{"Atomicity", testAtomicity},
		{"BatchInOneWrite", testBatchInOneWrite},
		{"BatchPartsOrder", testBatchPartsOrder},
		{"DeleteKeys", testDeleteKeys},
		{"AliasRetarget", testAliasRetarget},
		{"EmptyBatch", testEmptyBatch},
		{"EdgeArguments", testEdgeArguments},
		{"ScanRotations", testScanRotations},
		{"KeysOrderAndPaging", testKeysOrderAndPaging},
		{"AliasesOrderAndPaging", testAliasesOrderAndPaging},
		{"RotationsPaging", testRotationsPaging},
		{"ConcurrentWriters", testConcurrentWriters},
		{"CloseWhileBusy", testCloseWhileBusy},
		{"UseAfterClose", testUseAfterClose},
		{"SecretRoundTrip", testSecretRoundTrip},
		{"SecretNotFound", testSecretNotFound},
		{"SecretOnce", testSecretOnce},
		{"SecretConcurrent", testSecretConcurrent},
		{"SecretNotPrinted", testSecretNotPrinted},
		{"CustomKeyStoreRoundTrip", testCustomKeyStoreRoundTrip},
		{"CustomKeyStoreNotFound", testCustomKeyStoreNotFound},
		{"CustomKeyStoreAtomicWithKeys", testCustomKeyStoreAtomicWithKeys},
		{"RoundTripRegionFields", testRoundTripRegionFields},
		{"RoundTripMaterial", testRoundTripMaterial},
		{"RoundTripPublicKey", testRoundTripPublicKey},
		{"RoundTripPolicy", testRoundTripPolicy},
		{"AliasesInRegions", testAliasesInRegions},
		{"AliasesRegionOrderAndPaging", testAliasesRegionOrderAndPaging},
		{"ReplicaKeyIDs", testReplicaKeyIDs},
		{"LatestInstant", testLatestInstant},
		{"LatestInstantMisfit", testLatestInstantMisfit},
		{"LatestInstantRange", testLatestInstantRange},
		{"LatestInstantConcurrent", testLatestInstantConcurrent},
		{"GrantsRoundTrip", testGrantsRoundTrip},
		{"GrantsOrder", testGrantsOrder},
		{"GrantsReplace", testGrantsReplace},
		{"GrantsDelete", testGrantsDelete},
		{"GrantsDeleteKey", testGrantsDeleteKey},
		{"GrantsNotFound", testGrantsNotFound},
		{"GrantsNoAliasing", testGrantsNoAliasing},
		{"GrantsFnError", testGrantsFnError},
		{"GrantsConsistentRead", testGrantsConsistentRead},
		{"GrantsClosed", testGrantsClosed},
		{"GrantsBatchEmpty", testGrantsBatchEmpty},
		{"GroupInOrder", testGroupInOrder},
		{"GroupAtomicity", testGroupAtomicity},
		{"GroupEmpty", testGroupEmpty},
		{"GroupConcurrent", testGroupConcurrent},
		{"GroupClosed", testGroupClosed},
		{"RoundTripMaterials", testRoundTripMaterials},
		{"RuleProfile", testRuleProfile},
		{"RuleProfileMisfit", testRuleProfileMisfit},
	}
	run(t, newStore, tests)
}

// subtest is one test of a suite, run on a fresh store.
type subtest[S store.Store] struct {
	name string
	fn   func(t *testing.T, s S)
}

// run runs each test as a subtest on a fresh store from newStore, which it
// closes when the subtest ends.
func run[S store.Store](t *testing.T, newStore func(t *testing.T) S, tests []subtest[S]) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// Zones with odd offsets, so that a store that drops or mangles the
// location or the instant shows it.
var (
	kathmandu = time.FixedZone("NPT", 5*3600+45*60)
	marquesas = time.FixedZone("MART", -(9*3600 + 30*60))
)

const account = "111122223333"

// fullKey returns a key with every field set to a value unlike its zero,
// with non-UTC nanosecond times.
func fullKey(id string) store.Key {
	return store.Key{
		ID:          id,
		Region:      "ap-southeast-2",
		Version:     1,
		Seq:         math.MaxUint64 - 7,
		Account:     account,
		Description: "every field, \x00 bytes, ünïcödé and \xff invalid UTF-8",
		State:       keystate.PendingDeletion,
		Kind: keystate.Kind{Spec: keystate.RSA4096, Usage: keystate.SignVerify,
			Origin: keystate.External, Manager: keystate.AWSManaged, MultiRegion: keystate.Replica},
		Created: time.Date(2024, 2, 29, 23, 59, 59, 123456789, kathmandu),
		Tags: []store.Tag{
			{Key: "Project", Value: "Alpha"},
			{Key: "empty", Value: ""},
			{Key: "", Value: "empty key"},
			{Key: "ключ", Value: strings.Repeat("v", 256)},
		},
		AutoRotation:           true,
		RotationPeriodDays:     math.MaxUint16,
		RotationAnchor:         time.Date(1969, 12, 31, 23, 59, 59, 1, marquesas),
		NextRotation:           time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		OnDemandRotations:      math.MaxUint16,
		OnDemandStart:          time.Date(2025, 6, 1, 12, 0, 0, 1, kathmandu),
		OnDemandDone:           time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		PendingWindowDays:      math.MaxUint8,
		DeletionDate:           time.Date(2030, 1, 2, 3, 4, 5, 999999999, marquesas),
		ImportedMaterial:       []byte("\x00sealed material\xff" + strings.Repeat("m", 60)),
		KeyMaterialID:          strings.Repeat("ab", 32),
		ExpirationModel:        "KEY_MATERIAL_EXPIRES",
		ValidTo:                time.Date(2025, 7, 1, 0, 0, 0, 7, kathmandu),
		Material:               []byte("\xffsealed generated material\x00" + strings.Repeat("g", 200)),
		PublicKey:              []byte("0\x82\x02\x22 DER public key \x00\xff" + strings.Repeat("p", 150)),
		Policy:                 `{"Version":"2012-10-17","Statement":[{"Sid":"Ünïcödé ✓ \u0000","Effect":"Allow"}]}` + strings.Repeat(" ", 200),
		PolicyBinding:          math.MaxUint64 - 3,
		CustomKeyStoreID:       "cks-1234567890abcdef0",
		XksKeyID:               "xks \x00 key ✓",
		DesiredState:           keystate.Disabled,
		PrimaryRegion:          "us-east-1 \x00 \xff",
		StateDone:              time.Date(2025, 8, 9, 10, 11, 12, 13, marquesas),
		KeyMaterialDescription: "current \x00 ✓ \xff",
		Materials: []store.KeyMaterial{
			{ID: strings.Repeat("01", 32), Sealed: []byte("\x00first\xff"), Description: "first"},
			{ID: strings.Repeat("02", 32), ValidTo: time.Date(2026, 1, 1, 0, 0, 0, 3, marquesas)},
			{ID: strings.Repeat("03", 32), Sealed: []byte("pending"), Description: "next",
				ValidTo: time.Date(2027, 2, 3, 4, 5, 6, 7, kathmandu), Pending: true, Rotating: true},
		},
	}
}

// newKey returns a minimal new key (Version 1).
func newKey(id string) store.Key {
	return store.Key{ID: id, Version: 1, Account: account, State: keystate.Enabled,
		Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// next returns k as the next version to write.
func next(k store.Key) store.Key {
	k.Version++
	return k
}

func newAlias(name, keyID string) store.Alias {
	return store.Alias{AliasID: store.AliasID{Account: account, Name: name}, KeyID: keyID,
		Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Updated: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}
}

func aliasID(name string) store.AliasID { return store.AliasID{Account: account, Name: name} }

func rotation(i int) store.Rotation {
	return store.Rotation{At: time.Date(2025, 1, 1, 0, 0, 0, i, kathmandu).AddDate(0, 0, i), OnDemand: i%3 == 0}
}

// sentinels are the store's error identities; an error must match the one
// expected and no other.
var sentinels = []error{store.ErrNotFound, store.ErrExists, store.ErrConflict, store.ErrClosed, store.ErrCorrupt}

func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: %v, want success", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want errors.Is(err, %v)", what, err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Fatalf("%s: %v matches %v as well as %v", what, err, s, want)
		}
	}
}

func apply(t *testing.T, s store.Store, b store.Batch) {
	t.Helper()
	if err := s.Apply(t.Context(), &b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func getKey(t *testing.T, s store.Store, id string) store.Key {
	t.Helper()
	k, err := s.Key(t.Context(), id)
	if err != nil {
		t.Fatalf("Key(%q): %v", id, err)
	}
	return k
}

func checkNoKey(t *testing.T, s store.Store, id string) {
	t.Helper()
	_, err := s.Key(t.Context(), id)
	checkErr(t, fmt.Sprintf("Key(%q)", id), err, store.ErrNotFound)
	_, err = s.Rotations(t.Context(), id, 0, 10)
	checkErr(t, fmt.Sprintf("Rotations(%q)", id), err, store.ErrNotFound)
}

func allRotations(t *testing.T, s store.Store, id string) []store.Rotation {
	t.Helper()
	rs, err := s.Rotations(t.Context(), id, 0, math.MaxInt32)
	if err != nil {
		t.Fatalf("Rotations(%q): %v", id, err)
	}
	return rs
}

// snapshot is everything a store holds.
type snapshot struct {
	Keys      []store.Key
	Rotations map[string][]store.Rotation
	Aliases   []store.Alias
}

// dump reads the whole store, in small pages.
func dump(t *testing.T, s store.Store) snapshot {
	t.Helper()
	const page = 3
	snap := snapshot{Rotations: map[string][]store.Rotation{}}
	for after := ""; ; {
		ks, err := s.Keys(t.Context(), after, page)
		if err != nil {
			t.Fatalf("Keys: %v", err)
		}
		snap.Keys = append(snap.Keys, ks...)
		if len(ks) < page {
			break
		}
		after = ks[len(ks)-1].ID
	}
	for _, k := range snap.Keys {
		for from := 0; ; {
			rs, err := s.Rotations(t.Context(), k.ID, from, page)
			if err != nil {
				t.Fatalf("Rotations(%q): %v", k.ID, err)
			}
			if len(rs) > 0 {
				snap.Rotations[k.ID] = append(snap.Rotations[k.ID], rs...)
			}
			if len(rs) < page {
				break
			}
			from += len(rs)
		}
	}
	for after := (store.AliasID{}); ; {
		as, err := s.Aliases(t.Context(), after, page)
		if err != nil {
			t.Fatalf("Aliases: %v", err)
		}
		snap.Aliases = append(snap.Aliases, as...)
		if len(as) < page {
			break
		}
		after = as[len(as)-1].AliasID
	}
	return snap
}

// pageAliases lists every alias, limit at a time, and fails t unless each
// page is full but the last, of total aliases in all.
func pageAliases(t *testing.T, s store.Store, limit, total int) []store.Alias {
	t.Helper()
	var got []store.Alias
	for after := (store.AliasID{}); ; {
		as, err := s.Aliases(t.Context(), after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if wantN := min(limit, total-len(got)); len(as) != wantN {
			t.Fatalf("Aliases(%+q, %d) returned %d aliases, want %d (a page is full unless it is the last)", after, limit, len(as), wantN)
		}
		got = append(got, as...)
		if len(as) < limit {
			return got
		}
		after = as[len(as)-1].AliasID
	}
}

// checkSame fails t if got differs from want, comparing times with Equal
// and treating nil and empty slices alike.
func checkSame(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := diff(reflect.ValueOf(got), reflect.ValueOf(want), what); len(d) > 0 {
		t.Fatalf("%s differs:\n%s", what, strings.Join(d, "\n"))
	}
}

var timeType = reflect.TypeFor[time.Time]()

func diff(got, want reflect.Value, path string) []string {
	if got.Type() != want.Type() {
		return []string{fmt.Sprintf("%s: type %v, want %v", path, got.Type(), want.Type())}
	}
	if got.Type() == timeType {
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) || g.IsZero() != w.IsZero() {
			return []string{fmt.Sprintf("%s: %v, want %v", path, g, w)}
		}
		return nil
	}
	var out []string
	switch got.Kind() {
	case reflect.Struct:
		for i := range got.NumField() {
			out = append(out, diff(got.Field(i), want.Field(i), path+"."+got.Type().Field(i).Name)...)
		}
	case reflect.Slice:
		if got.Len() != want.Len() {
			return []string{fmt.Sprintf("%s: %d elements, want %d:\n  got  %v\n  want %v", path, got.Len(), want.Len(), got, want)}
		}
		for i := range got.Len() {
			out = append(out, diff(got.Index(i), want.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
	case reflect.Map:
		if got.Len() != want.Len() {
			return []string{fmt.Sprintf("%s: %d entries, want %d", path, got.Len(), want.Len())}
		}
		iter := want.MapRange()
		for iter.Next() {
			g := got.MapIndex(iter.Key())
			if !g.IsValid() {
				out = append(out, fmt.Sprintf("%s[%v]: missing", path, iter.Key()))
				continue
			}
			out = append(out, diff(g, iter.Value(), fmt.Sprintf("%s[%v]", path, iter.Key()))...)
		}
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			out = append(out, fmt.Sprintf("%s: %#v, want %#v", path, got.Interface(), want.Interface()))
		}
	}
	return out
}

// Round trips.

func testRoundTripKey(t *testing.T, s store.Store) {
	k := fullKey("1234abcd-12ab-34cd-56ef-1234567890ab")
	apply(t, s, store.Batch{PutKeys: []store.Key{k}})
	checkSame(t, "Key after create", getKey(t, s, k.ID), k)

	// A replacement changes every field again (Version + 1).
	k2 := next(k)
	k2.Seq = 0
	k2.Account = "999999999999"
	k2.Description = ""
	k2.State = keystate.Enabled
	k2.Kind = keystate.Kind{}
	k2.Created = time.Date(2001, 9, 9, 1, 46, 40, 5, marquesas)
	k2.Tags = nil
	k2.AutoRotation = false
	k2.RotationPeriodDays = 90
	k2.RotationAnchor = time.Time{}
	k2.NextRotation = time.Time{}
	k2.OnDemandRotations = 0
	k2.OnDemandStart = time.Time{}
	k2.OnDemandDone = time.Time{}
	k2.PendingWindowDays = 7
	k2.DeletionDate = time.Time{}
	k2.ImportedMaterial = nil
	k2.Material = []byte("replaced")
	k2.KeyMaterialID = "kept after the material is deleted"
	k2.PublicKey = []byte{0x30}
	k2.Policy = "{}"
	k2.ExpirationModel = ""
	k2.ValidTo = time.Time{}
	k2.CustomKeyStoreID = ""
	k2.XksKeyID = ""
	k2.DesiredState = keystate.None
	k2.Region = "eu-west-1"
	k2.PrimaryRegion = ""
	k2.StateDone = time.Time{}
	apply(t, s, store.Batch{PutKeys: []store.Key{k2}})
	got := getKey(t, s, k.ID)
	checkSame(t, "Key after replace", got, k2)
	if !got.RotationAnchor.IsZero() || !got.DeletionDate.IsZero() {
		t.Errorf("zero times read back as %v, %v; want IsZero", got.RotationAnchor, got.DeletionDate)
	}
	ks, err := s.Keys(t.Context(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "Keys", ks, []store.Key{k2})
}

func testRoundTripZeroKey(t *testing.T, s store.Store) {
	k := store.Key{ID: "k", Version: 1}
	apply(t, s, store.Batch{PutKeys: []store.Key{k}})
	got := getKey(t, s, "k")
	checkSame(t, "Key", got, k)
	for name, tm := range map[string]time.Time{"Created": got.Created, "RotationAnchor": got.RotationAnchor,
		"NextRotation": got.NextRotation, "OnDemandStart": got.OnDemandStart, "OnDemandDone": got.OnDemandDone,
		"DeletionDate": got.DeletionDate, "ValidTo": got.ValidTo, "StateDone": got.StateDone} {
		if !tm.IsZero() {
			t.Errorf("%s: zero time read back as %v, not IsZero", name, tm)
		}
	}
	if len(got.Tags) != 0 {
		t.Errorf("Tags: %v, want none", got.Tags)
	}
	if len(got.ImportedMaterial) != 0 {
		t.Errorf("ImportedMaterial: %d bytes, want none", len(got.ImportedMaterial))
	}
	if len(got.Material) != 0 {
		t.Errorf("Material: %d bytes, want none", len(got.Material))
	}
	if len(got.PublicKey) != 0 {
		t.Errorf("PublicKey: %d bytes, want none", len(got.PublicKey))
	}
	if got.Policy != "" {
		t.Errorf("Policy: %d bytes, want none", len(got.Policy))
	}
}

func testRoundTripEnums(t *testing.T, s store.Store) {
	states := append([]keystate.State{keystate.None, keystate.Deleted}, keystate.States()...)
	specs := keystate.KeySpecs()
	usages := keystate.KeyUsages()
	origins := []keystate.Origin{keystate.AWSKMS, keystate.External, keystate.AWSCloudHSM, keystate.ExternalKeyStore}
	managers := []keystate.KeyManager{keystate.Customer, keystate.AWSManaged}
	roles := []keystate.MultiRegionRole{keystate.SingleRegion, keystate.Primary, keystate.Replica}
	n := max(len(states), len(specs), len(usages), len(origins), len(managers), len(roles))
	var b store.Batch
	for i := range n {
		k := newKey(fmt.Sprintf("key-%03d", i))
		k.State = states[i%len(states)]
		k.Kind = keystate.Kind{Spec: specs[i%len(specs)], Usage: usages[i%len(usages)],
			Origin: origins[i%len(origins)], Manager: managers[i%len(managers)], MultiRegion: roles[i%len(roles)]}
		b.PutKeys = append(b.PutKeys, k)
	}
	apply(t, s, b)
	checkSame(t, "keys", dump(t, s).Keys, b.PutKeys)
}

func testRoundTripRotations(t *testing.T, s store.Store) {
	want := []store.Rotation{
		{At: time.Date(2024, 2, 29, 23, 59, 59, 999999999, kathmandu), OnDemand: true},
		{At: time.Date(1969, 7, 20, 20, 17, 40, 1, marquesas)},
		{At: time.Date(1, 1, 1, 0, 0, 0, 0, kathmandu)}, // before the zero time
		{At: time.Time{}, OnDemand: true},
		{At: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	}
	b := store.Batch{PutKeys: []store.Key{newKey("k")}}
	for _, r := range want[:2] {
		b.AddRotations = append(b.AddRotations, store.KeyRotation{KeyID: "k", Rotation: r})
	}
	apply(t, s, b)
	for _, r := range want[2:] {
		apply(t, s, store.Batch{AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: r}}})
	}
	got := allRotations(t, s, "k")
	checkSame(t, "Rotations", got, want)
	if !got[3].At.IsZero() {
		t.Errorf("zero time read back as %v, not IsZero", got[3].At)
	}
}

func testRoundTripAlias(t *testing.T, s store.Store) {
	a := store.Alias{
		AliasID: store.AliasID{Account: account, Name: "alias/ünïcödé/\x00"},
		KeyID:   "k",
		Created: time.Date(2024, 2, 29, 23, 59, 59, 123456789, kathmandu),
		Updated: time.Date(1969, 12, 31, 23, 59, 59, 1, marquesas),
	}
	// Zero times, empty account. (The zero AliasID itself could be
	// written but never listed, as Aliases lists after an AliasID.)
	zero := store.Alias{AliasID: store.AliasID{Name: "alias/zero"}, KeyID: "k"}
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}, PutAliases: []store.Alias{a, zero}})
	as, err := s.Aliases(t.Context(), store.AliasID{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "Aliases", as, []store.Alias{zero, a})
	if !as[0].Created.IsZero() || !as[0].Updated.IsZero() {
		t.Errorf("zero times read back as %v, %v; want IsZero", as[0].Created, as[0].Updated)
	}
}

// testNoAliasing: the store keeps its own copies; callers' slices are
// theirs.
func testNoAliasing(t *testing.T, s store.Store) {
	k := fullKey("k")
	want := fullKey("k")
	b := store.Batch{PutKeys: []store.Key{k}}
	if err := s.Apply(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	k.Tags[0].Value = "changed after Apply"
	b.PutKeys[0].Tags[1].Value = "changed after Apply"
	k.ImportedMaterial[0] ^= 1
	k.Material[0] ^= 1
	k.PublicKey[0] ^= 1
	got := getKey(t, s, "k")
	checkSame(t, "Key", got, want)
	got.Tags[0].Value = "changed after Key"
	got.ImportedMaterial[0] ^= 2
	got.Material[0] ^= 2
	got.PublicKey[0] ^= 2
	checkSame(t, "Key", getKey(t, s, "k"), want)
	ks, err := s.Keys(t.Context(), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	ks[0].Tags[0].Value = "changed after Keys"
	ks[0].ImportedMaterial[0] ^= 4
	ks[0].Material[0] ^= 4
	ks[0].PublicKey[0] ^= 4
	checkSame(t, "Key", getKey(t, s, "k"), want)
}

// Sentinels.

func testNotFound(t *testing.T, s store.Store) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}, PutAliases: []store.Alias{newAlias("alias/a", "k")}})
	before := dump(t, s)

	_, err := s.Key(t.Context(), "missing")
	checkErr(t, "Key(missing)", err, store.ErrNotFound)
	_, err = s.Rotations(t.Context(), "missing", 0, 10)
	checkErr(t, "Rotations(missing)", err, store.ErrNotFound)

	missing := next(newKey("missing"))
	for _, tc := range []struct {
		name string
		b    store.Batch
	}{
		{"replace a missing key", store.Batch{PutKeys: []store.Key{missing}}},
		{"key with empty ID", store.Batch{PutKeys: []store.Key{newKey("")}}},
		{"rotation of a missing key", store.Batch{AddRotations: []store.KeyRotation{{KeyID: "missing", Rotation: rotation(1)}}}},
		{"alias of a missing key", store.Batch{PutAliases: []store.Alias{newAlias("alias/b", "missing")}}},
		{"delete a missing alias", store.Batch{DeleteAliases: []store.AliasID{aliasID("alias/missing")}}},
		{"delete an alias of another account", store.Batch{DeleteAliases: []store.AliasID{{Account: "999999999999", Name: "alias/a"}}}},
		{"delete a missing key", store.Batch{DeleteKeys: []string{"missing"}}},
	} {
		err := s.Apply(t.Context(), &tc.b)
		checkErr(t, tc.name, err, store.ErrNotFound)
	}
	checkSame(t, "store after failed batches", dump(t, s), before)
}

func testExists(t *testing.T, s store.Store) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}})
	before := dump(t, s)
	err := s.Apply(t.Context(), &store.Batch{PutKeys: []store.Key{newKey("k")}})
	checkErr(t, "create an existing key", err, store.ErrExists)
	err = s.Apply(t.Context(), &store.Batch{PutKeys: []store.Key{newKey("n"), newKey("n")}})
	checkErr(t, "create a key twice in one batch", err, store.ErrExists)
	checkSame(t, "store after failed batches", dump(t, s), before)
}

func testConflict(t *testing.T, s store.Store) {
	k := newKey("k")
	apply(t, s, store.Batch{PutKeys: []store.Key{k}})
	k2 := next(k)
	apply(t, s, store.Batch{PutKeys: []store.Key{k2}})
	before := dump(t, s)
	for _, tc := range []struct {
		name    string
		version uint64
	}{
		{"stale version (lost update)", 2},
		{"skipped version", 4},
		{"version 0", 0},
		{"maximum version", math.MaxUint64},
	} {
		k := k2
		k.Version = tc.version
		err := s.Apply(t.Context(), &store.Batch{PutKeys: []store.Key{k}})
		checkErr(t, tc.name, err, store.ErrConflict)
	}
	err := s.Apply(t.Context(), &store.Batch{PutKeys: []store.Key{next(k2), next(k2)}})
	checkErr(t, "same version twice in one batch", err, store.ErrConflict)
	checkSame(t, "store after failed batches", dump(t, s), before)
	if got := getKey(t, s, "k").Version; got != 2 {
		t.Fatalf("Version %d, want 2", got)
	}
}

// testAtomicity: a batch that does not fit writes nothing, whichever part
// fails, even when the parts before it fit.
func testAtomicity(t *testing.T, s store.Store) {
	k1, k2 := newKey("k1"), newKey("k2")
	apply(t, s, store.Batch{
		PutKeys:      []store.Key{k1, k2},
		AddRotations: []store.KeyRotation{{KeyID: "k1", Rotation: rotation(0)}},
		PutAliases:   []store.Alias{newAlias("alias/one", "k1"), newAlias("alias/two", "k2")},
	})
	before := dump(t, s)
	n := newKey("n")
	good := store.Batch{
		PutKeys:       []store.Key{n, next(k1)},
		AddRotations:  []store.KeyRotation{{KeyID: "k1", Rotation: rotation(1)}, {KeyID: "n", Rotation: rotation(2)}},
		PutAliases:    []store.Alias{newAlias("alias/new", "n"), newAlias("alias/two", "n")},
		DeleteAliases: []store.AliasID{aliasID("alias/one")},
		DeleteKeys:    []string{"k2"},
	}
	with := func(f func(b *store.Batch)) store.Batch {
		b := good
		b.PutKeys = slices.Clone(b.PutKeys)
		b.AddRotations = slices.Clone(b.AddRotations)
		b.PutAliases = slices.Clone(b.PutAliases)
		b.DeleteAliases = slices.Clone(b.DeleteAliases)
		b.DeleteKeys = slices.Clone(b.DeleteKeys)
		f(&b)
		return b
	}
	for _, tc := range []struct {
		name string
		b    store.Batch
		want error
	}{
		{"last key deletion missing", with(func(b *store.Batch) { b.DeleteKeys = append(b.DeleteKeys, "missing") }), store.ErrNotFound},
		{"key deleted twice", with(func(b *store.Batch) { b.DeleteKeys = append(b.DeleteKeys, "k2") }), store.ErrNotFound},
		{"last alias deletion missing", with(func(b *store.Batch) {
			b.DeleteAliases = append(b.DeleteAliases, aliasID("alias/missing"))
		}), store.ErrNotFound},
		{"alias deleted twice", with(func(b *store.Batch) {
			b.DeleteAliases = append(b.DeleteAliases, aliasID("alias/one"))
		}), store.ErrNotFound},
		{"last alias names a missing key", with(func(b *store.Batch) {
			b.PutAliases = append(b.PutAliases, newAlias("alias/x", "missing"))
		}), store.ErrNotFound},
		{"last rotation of a missing key", with(func(b *store.Batch) {
			b.AddRotations = append(b.AddRotations, store.KeyRotation{KeyID: "missing"})
		}), store.ErrNotFound},
		{"last key put conflicts", with(func(b *store.Batch) { b.PutKeys = append(b.PutKeys, k2) }), store.ErrExists},
		{"last key put stale", with(func(b *store.Batch) { b.PutKeys = append(b.PutKeys, next(k1)) }), store.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Apply(t.Context(), &tc.b)
			checkErr(t, "Apply", err, tc.want)
			checkSame(t, "store after the failed batch", dump(t, s), before)
		})
	}
	// The batch without its misfit applies in full.
	apply(t, s, good)
	after := dump(t, s)
	wantKeys := []store.Key{next(k1), n}
	checkSame(t, "keys", after.Keys, wantKeys)
	checkSame(t, "rotations", after.Rotations, map[string][]store.Rotation{
		"k1": {rotation(0), rotation(1)}, "n": {rotation(2)}})
	checkSame(t, "aliases", after.Aliases, []store.Alias{newAlias("alias/new", "n"), newAlias("alias/two", "n")})
}

// testBatchInOneWrite: parts of one batch see the parts before them: a key
// created, replaced, rotated and aliased in one batch.
func testBatchInOneWrite(t *testing.T, s store.Store) {
	k := newKey("k")
	k2 := next(k)
	k2.Description = "second"
	k3 := next(k2)
	k3.Description = "third"
	apply(t, s, store.Batch{
		PutKeys:      []store.Key{k, k2, k3},
		AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rotation(0)}, {KeyID: "k", Rotation: rotation(1)}},
		PutAliases:   []store.Alias{newAlias("alias/a", "k"), newAlias("alias/b", "k")},
	})
	checkSame(t, "Key", getKey(t, s, "k"), k3)
	checkSame(t, "Rotations", allRotations(t, s, "k"), []store.Rotation{rotation(0), rotation(1)})
	checkSame(t, "Aliases", dump(t, s).Aliases, []store.Alias{newAlias("alias/a", "k"), newAlias("alias/b", "k")})

	// Replacing a key keeps its rotation history; rotations append.
	apply(t, s, store.Batch{PutKeys: []store.Key{next(k3)}, AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rotation(2)}}})
	checkSame(t, "Key", getKey(t, s, "k"), next(k3))
	checkSame(t, "Rotations", allRotations(t, s, "k"), []store.Rotation{rotation(0), rotation(1), rotation(2)})
}

// testBatchPartsOrder: whatever their order in the struct literal, parts
// apply as store.Batch says: key puts, rotations, alias puts, alias
// deletions, key deletions.
func testBatchPartsOrder(t *testing.T, s store.Store) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}})

	// An alias put and deleted in one batch is gone.
	apply(t, s, store.Batch{DeleteAliases: []store.AliasID{aliasID("alias/a")}, PutAliases: []store.Alias{newAlias("alias/a", "k")}})
	checkSame(t, "Aliases", dump(t, s).Aliases, []store.Alias(nil))

	// A key created, rotated, aliased and deleted in one batch leaves
	// nothing.
	apply(t, s, store.Batch{
		DeleteKeys:   []string{"tmp"},
		PutAliases:   []store.Alias{newAlias("alias/tmp", "tmp")},
		AddRotations: []store.KeyRotation{{KeyID: "tmp", Rotation: rotation(0)}},
		PutKeys:      []store.Key{newKey("tmp")},
	})
	checkNoKey(t, s, "tmp")
	snap := dump(t, s)
	checkSame(t, "Keys", snap.Keys, []store.Key{newKey("k")})
	checkSame(t, "Aliases", snap.Aliases, []store.Alias(nil))

	// Deleting an alias that the same batch re-puts is fine only once.
	apply(t, s, store.Batch{PutAliases: []store.Alias{newAlias("alias/b", "k")}})
	err := s.Apply(t.Context(), &store.Batch{
		PutAliases:    []store.Alias{newAlias("alias/b", "k")},
		DeleteAliases: []store.AliasID{aliasID("alias/b"), aliasID("alias/b")},
	})
	checkErr(t, "delete an alias twice after putting it", err, store.ErrNotFound)
	// An alias deleted and put again in two batches comes back.
	apply(t, s, store.Batch{DeleteAliases: []store.AliasID{aliasID("alias/b")}})
	apply(t, s, store.Batch{PutAliases: []store.Alias{newAlias("alias/b", "k")}})
	checkSame(t, "Aliases", dump(t, s).Aliases, []store.Alias{newAlias("alias/b", "k")})
}

// testDeleteKeys: deleting a key removes its rotation history and the
// aliases that name it, and nothing of other keys; a key created again
// with the same ID starts afresh.
func testDeleteKeys(t *testing.T, s store.Store) {
	a, b, c := newKey("a"), newKey("b"), newKey("ab") // "ab" shares a prefix with "a"
	var rots []store.KeyRotation
	for i := range 5 {
		for _, id := range []string{"a", "b", "ab"} {
			rots = append(rots, store.KeyRotation{KeyID: id, Rotation: rotation(i)})
		}
	}
	apply(t, s, store.Batch{
		PutKeys:      []store.Key{a, b, c},
		AddRotations: rots,
		PutAliases: []store.Alias{newAlias("alias/a1", "a"), newAlias("alias/a2", "a"), newAlias("alias/b", "b"),
			newAlias("alias/ab", "ab"), {AliasID: store.AliasID{Account: "999999999999", Name: "alias/a1"}, KeyID: "a"}},
	})
	apply(t, s, store.Batch{DeleteKeys: []string{"a"}})
	checkNoKey(t, s, "a")
	five := []store.Rotation{rotation(0), rotation(1), rotation(2), rotation(3), rotation(4)}
	snap := dump(t, s)
	checkSame(t, "keys", snap.Keys, []store.Key{c, b})
	checkSame(t, "rotations", snap.Rotations, map[string][]store.Rotation{"ab": five, "b": five})
	checkSame(t, "aliases", snap.Aliases, []store.Alias{newAlias("alias/ab", "ab"), newAlias("alias/b", "b")})

	// The same ID again: a new key with no history and no aliases.
	apply(t, s, store.Batch{PutKeys: []store.Key{a}})
	checkSame(t, "Key", getKey(t, s, "a"), a)
	if rs := allRotations(t, s, "a"); len(rs) != 0 {
		t.Fatalf("recreated key has rotations %v", rs)
	}
	apply(t, s, store.Batch{AddRotations: []store.KeyRotation{{KeyID: "a", Rotation: rotation(9)}}})
	checkSame(t, "Rotations", allRotations(t, s, "a"), []store.Rotation{rotation(9)})

	// Several keys in one batch, with a replacement of one of them first.
	apply(t, s, store.Batch{PutKeys: []store.Key{next(b)}, DeleteKeys: []string{"b", "ab", "a"}})
	snap = dump(t, s)
	if len(snap.Keys)+len(snap.Rotations)+len(snap.Aliases) != 0 {
		t.Fatalf("store not empty after deleting every key: %+v", snap)
	}
}

// testAliasRetarget: an alias put again names its new key only: deleting
// its old key leaves it.
func testAliasRetarget(t *testing.T, s store.Store) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k1"), newKey("k2"), newKey("k3")},
		PutAliases: []store.Alias{newAlias("alias/x", "k1"), newAlias("alias/y", "k1"), newAlias("alias/z", "k1")}})
	moved := newAlias("alias/x", "k2")
	moved.Updated = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	apply(t, s, store.Batch{PutAliases: []store.Alias{moved}})
	apply(t, s, store.Batch{DeleteKeys: []string{"k1"}})
	// x, moved to k2, survives k1's deletion; y and z, still on k1, go.
	checkSame(t, "Aliases", dump(t, s).Aliases, []store.Alias{moved})

	apply(t, s, store.Batch{PutAliases: []store.Alias{newAlias("alias/y", "k3")}})
	// Move y to k2 and delete k3 in one batch: y survives; put w on k3 and
	// delete k3 in one batch: w goes.
	apply(t, s, store.Batch{
		PutAliases: []store.Alias{newAlias("alias/y", "k2"), newAlias("alias/w", "k3")},
		DeleteKeys: []string{"k3"},
	})
	checkSame(t, "Aliases", dump(t, s).Aliases, []store.Alias{moved, newAlias("alias/y", "k2")})
	apply(t, s, store.Batch{DeleteKeys: []string{"k2"}})
	checkSame(t, "Aliases", dump(t, s).Aliases, []store.Alias(nil))
}

func testEmptyBatch(t *testing.T, s store.Store) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}})
	before := dump(t, s)
	apply(t, s, store.Batch{})
	apply(t, s, store.Batch{PutKeys: []store.Key{}, DeleteKeys: []string{}})
	checkSame(t, "store after empty batches", dump(t, s), before)
}

// testEdgeArguments: a nil batch writes nothing; a limit ≤ 0 lists nothing;
// a limit so large that from+limit overflows lists the rest; an alias with
// an empty name is refused (it could never be listed).
func testEdgeArguments(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := newKey("k")
	apply(t, s, store.Batch{PutKeys: []store.Key{k},
		AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: store.Rotation{At: time.Unix(1, 0)}}, {KeyID: "k", Rotation: store.Rotation{At: time.Unix(2, 0)}}},
		PutAliases:   []store.Alias{{AliasID: store.AliasID{Account: "1", Name: "alias/x"}, KeyID: "k"}}})
	before := dump(t, s)
	if err := s.Apply(ctx, nil); err != nil {
		t.Fatalf("Apply(nil) = %v, want nil", err)
	}
	checkSame(t, "store after a nil batch", dump(t, s), before)
	if got, err := s.Aliases(ctx, store.AliasID{}, -1); err != nil || len(got) != 0 {
		t.Errorf("Aliases(limit -1) = %v, %v; want none", got, err)
	}
	if got, err := s.Keys(ctx, "", 0); err != nil || len(got) != 0 {
		t.Errorf("Keys(limit 0) = %v, %v; want none", got, err)
	}
	if got, err := s.Rotations(ctx, "k", 1, math.MaxInt); err != nil || len(got) != 1 || !got[0].At.Equal(time.Unix(2, 0)) {
		t.Errorf("Rotations(from 1, limit MaxInt) = %v, %v; want the second rotation", got, err)
	}
	err := s.Apply(ctx, &store.Batch{PutAliases: []store.Alias{{AliasID: store.AliasID{Account: "1"}, KeyID: "k"}}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Apply(alias with empty name) = %v, want ErrNotFound", err)
	}
}

// testScanRotations: ScanRotations gives every key that has rotations once,
// with its whole history in order, equal to what Rotations pages give; it
// skips keys without rotations and deleted keys; fn's error stops it and is
// returned.
func testScanRotations(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := map[string][]store.Rotation{}
	var b store.Batch
	counts := []int{1, 3, 6, 0, 5}
	for i, id := range []string{"k1", "k2", "mrk-3", "k4-no-rotations", "k5-deleted"} {
		b.PutKeys = append(b.PutKeys, newKey(id))
		for j := 0; j < counts[i]; j++ {
			r := store.Rotation{At: time.Unix(int64(1000*i+j), int64(j)), OnDemand: j%2 == 1}
			b.AddRotations = append(b.AddRotations, store.KeyRotation{KeyID: id, Rotation: r})
			want[id] = append(want[id], r)
		}
	}
	apply(t, s, b)
	apply(t, s, store.Batch{DeleteKeys: []string{"k5-deleted"}})
	delete(want, "k5-deleted")
	delete(want, "k4-no-rotations")
	got := map[string][]store.Rotation{}
	err := s.ScanRotations(ctx, func(id string, rs []store.Rotation) error {
		if _, dup := got[id]; dup {
			t.Errorf("key %s scanned twice", id)
		}
		got[id] = slices.Clone(rs)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("scanned %d keys, want %d", len(got), len(want))
	}
	for id, rs := range want {
		if len(got[id]) != len(rs) {
			t.Fatalf("key %s: %d rotations, want %d", id, len(got[id]), len(rs))
		}
		for i := range rs {
			if !got[id][i].At.Equal(rs[i].At) || got[id][i].OnDemand != rs[i].OnDemand {
				t.Errorf("key %s rotation %d = %+v, want %+v", id, i, got[id][i], rs[i])
			}
		}
		paged, err := s.Rotations(ctx, id, 0, 1000)
		if err != nil || len(paged) != len(rs) {
			t.Errorf("Rotations(%s) = %d, %v; want %d", id, len(paged), err, len(rs))
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.ScanRotations(ctx, func(string, []store.Rotation) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("ScanRotations with a failing fn = %v after %d calls; want fn's error after 1", err, calls)
	}
}

// Listing.

// keyIDs sort in byte order, which is not the order of their lengths nor
// of case-folded or Unicode-collated strings.
var keyIDs = []string{
	"1234abcd-12ab-34cd-56ef-1234567890ab", "0b3c6f5e-9d1a-4c2b-8e7f-6a5b4c3d2e1f",
	"ffffffff-ffff-ffff-ffff-ffffffffffff", "mrk-1234abcd12ab34cd56ef1234567890ab",
	"mrk-0", "mrk", "A", "Z", "a", "aa", "a\x00", "a\x00b", "a\x01", "ab", "b", "é", "e", "\xff", "\x00", "0",
}

func testKeysOrderAndPaging(t *testing.T, s store.Store) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := slices.Clone(keyIDs)
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	for _, id := range ids { // one batch each, in shuffled order
		apply(t, s, store.Batch{PutKeys: []store.Key{newKey(id)}})
	}
	want := slices.Sorted(slices.Values(keyIDs))
	idsOf := func(ks []store.Key) []string {
		out := make([]string, len(ks))
		for i, k := range ks {
			out[i] = k.ID
		}
		return out
	}
	for _, limit := range []int{1, 2, 3, 7, len(want) - 1, len(want), len(want) + 1, math.MaxInt32} {
		var got []string
		for after := ""; ; {
			ks, err := s.Keys(t.Context(), after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if wantN := min(limit, len(want)-len(got)); len(ks) != wantN {
				t.Fatalf("Keys(%q, %d) returned %d keys, want %d (a page is full unless it is the last)", after, limit, len(ks), wantN)
			}
			got = append(got, idsOf(ks)...)
			if len(ks) < limit {
				break
			}
			after = ks[len(ks)-1].ID
		}
		checkSame(t, fmt.Sprintf("IDs paged by %d", limit), got, want)
	}
	for _, tc := range []struct {
		after string
		limit int
		want  []string
	}{
		{"a\x00a", 2, []string{"a\x00b", "a\x01"}}, // after names no key
		{"a\x00", 1, []string{"a\x00b"}},
		{"", 2, want[:2]},
		{"\x00", 1, want[1:2]},
		{"\xff", 5, nil},
		{"\xff\xff", 5, nil},
		{"zzz", 1, []string{"é"}},
		{"", 0, nil},
		{"a", 0, nil},
	} {
		ks, err := s.Keys(t.Context(), tc.after, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, fmt.Sprintf("Keys(%q, %d)", tc.after, tc.limit), idsOf(ks), tc.want)
	}
	// Deterministic: the same call, the same answer.
	first, _ := s.Keys(t.Context(), "", 100)
	again, _ := s.Keys(t.Context(), "", 100)
	checkSame(t, "Keys again", again, first)
}

func testAliasesOrderAndPaging(t *testing.T, s store.Store) {
	// Account then name: ("1", "alias/z") sorts before ("12", "alias/a")
	// although "1alias/z" > "12alias/a"; accounts may hold any byte.
	accounts := []string{"111122223333", "1", "12", "", "2", "1\x00", "1\x00\x00", "1\x01", "\xff"}
	names := []string{"alias/a", "alias/z", "alias/A", "alias/", "alias/a\x00", "alias/aa"}
	var all []store.Alias
	for _, acct := range accounts {
		for _, name := range names {
			all = append(all, store.Alias{AliasID: store.AliasID{Account: acct, Name: name}, KeyID: "k"})
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	shuffled := slices.Clone(all)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}, PutAliases: shuffled[:len(shuffled)/2]})
	apply(t, s, store.Batch{PutAliases: shuffled[len(shuffled)/2:]})
	want := slices.Clone(all)
	slices.SortFunc(want, compareAliases)
	for _, limit := range []int{1, 4, 5, len(want), len(want) + 1} {
		checkSame(t, fmt.Sprintf("aliases paged by %d", limit), pageAliases(t, s, limit, len(want)), want)
	}
	for _, tc := range []struct {
		after store.AliasID
		limit int
		want  []store.Alias
	}{
		{store.AliasID{Account: "1"}, 1, want[len(names)*1 : len(names)*1+1]}, // ("", "") < ("1","") < ("1","alias/")
		{store.AliasID{Account: "1", Name: "alias/zz"}, 2, want[len(names)*2 : len(names)*2+2]},
		{store.AliasID{Account: "11"}, 1, want[len(names)*5 : len(names)*5+1]}, // after "1\x01", before "111122223333"
		{store.AliasID{Account: "\xff", Name: "alias/z"}, 3, nil},
		{store.AliasID{Account: "\xff\xff"}, 3, nil},
		{store.AliasID{}, 0, nil},
	} {
		as, err := s.Aliases(t.Context(), tc.after, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, fmt.Sprintf("Aliases(%q, %d)", tc.after, tc.limit), as, tc.want)
	}
}

// compareAliases orders aliases as Aliases lists them: by Region, then
// account, then name, each in byte order.
func compareAliases(a, b store.Alias) int {
	if c := strings.Compare(a.Region, b.Region); c != 0 {
		return c
	}
	if c := strings.Compare(a.Account, b.Account); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

func testRotationsPaging(t *testing.T, s store.Store) {
	const n = 10
	b := store.Batch{PutKeys: []store.Key{newKey("k"), newKey("none"), newKey("k2")}}
	var want []store.Rotation
	for i := range n {
		want = append(want, rotation(i))
		b.AddRotations = append(b.AddRotations, store.KeyRotation{KeyID: "k", Rotation: rotation(i)},
			store.KeyRotation{KeyID: "k2", Rotation: rotation(100 + i)})
	}
	apply(t, s, b)
	for _, tc := range []struct {
		from, limit int
		want        []store.Rotation
	}{
		{0, 3, want[:3]},
		{3, 3, want[3:6]},
		{9, 5, want[9:]},
		{0, n, want},
		{0, n + 1, want},
		{3, math.MaxInt32, want[3:]},
		{n, 1, nil},
		{n + 5, 1, nil},
		{0, 0, nil},
	} {
		rs, err := s.Rotations(t.Context(), "k", tc.from, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, fmt.Sprintf("Rotations(k, %d, %d)", tc.from, tc.limit), rs, tc.want)
	}
	rs, err := s.Rotations(t.Context(), "none", 0, 10)
	if err != nil || len(rs) != 0 {
		t.Fatalf("Rotations of a key without any: %v, %v; want none, nil", rs, err)
	}
}

// Concurrency.

// testConcurrentWriters: writers create their own keys and race to bump a
// shared one; optimistic concurrency lets exactly one write per version
// through, so no update is lost. Readers page meanwhile.
func testConcurrentWriters(t *testing.T, s store.Store) {
	const writers, perWriter = 8, 10
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("shared")}})
	done := make(chan struct{})
	errs := make(chan error, writers+2)
	for w := range writers {
		go func() {
			errs <- func() error {
				for i := range perWriter {
					id := fmt.Sprintf("w%d-%03d", w, i)
					err := s.Apply(t.Context(), &store.Batch{
						PutKeys:      []store.Key{newKey(id)},
						AddRotations: []store.KeyRotation{{KeyID: id, Rotation: rotation(i)}},
						PutAliases:   []store.Alias{newAlias("alias/"+id, id)},
					})
					if err != nil {
						return fmt.Errorf("create %s: %w", id, err)
					}
					// A misfit among the fits fails alone.
					err = s.Apply(t.Context(), &store.Batch{PutKeys: []store.Key{newKey(id)}})
					if !errors.Is(err, store.ErrExists) {
						return fmt.Errorf("create %s again: %v, want ErrExists", id, err)
					}
					for {
						k, err := s.Key(t.Context(), "shared")
						if err != nil {
							return err
						}
						err = s.Apply(t.Context(), &store.Batch{PutKeys: []store.Key{next(k)},
							AddRotations: []store.KeyRotation{{KeyID: "shared", Rotation: rotation(w)}}})
						if err == nil {
							break
						}
						if !errors.Is(err, store.ErrConflict) {
							return fmt.Errorf("bump shared from %d: %v, want nil or ErrConflict", k.Version, err)
						}
					}
				}
				return nil
			}()
		}()
	}
	for range 2 {
		go func() {
			errs <- func() error {
				for {
					select {
					case <-done:
						return nil
					default:
					}
					ks, err := s.Keys(t.Context(), "", 1000)
					if err != nil {
						return err
					}
					if !slices.IsSortedFunc(ks, func(a, b store.Key) int { return strings.Compare(a.ID, b.ID) }) {
						return errors.New("keys not in order")
					}
					if _, err := s.Aliases(t.Context(), store.AliasID{}, 1000); err != nil {
						return err
					}
					if _, err := s.Rotations(t.Context(), "shared", 0, 1000); err != nil {
						return err
					}
				}
			}()
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	close(done)
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	snap := dump(t, s)
	if len(snap.Keys) != writers*perWriter+1 || len(snap.Aliases) != writers*perWriter {
		t.Fatalf("%d keys and %d aliases, want %d and %d", len(snap.Keys), len(snap.Aliases), writers*perWriter+1, writers*perWriter)
	}
	if v := getKey(t, s, "shared").Version; v != writers*perWriter+1 {
		t.Fatalf("shared key at Version %d, want %d: updates lost or doubled", v, writers*perWriter+1)
	}
	if n := len(snap.Rotations["shared"]); n != writers*perWriter {
		t.Fatalf("shared key has %d rotations, want %d", n, writers*perWriter)
	}
	for _, k := range snap.Keys {
		if k.ID != "shared" && len(snap.Rotations[k.ID]) != 1 {
			t.Fatalf("key %s has %d rotations, want 1", k.ID, len(snap.Rotations[k.ID]))
		}
	}
}

// testCloseWhileBusy: calls racing Close either complete or return
// ErrClosed, and after Close returns every call returns ErrClosed.
func testCloseWhileBusy(t *testing.T, s store.Store) {
	const workers = 4
	started := make(chan struct{}, workers)
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			errs <- func() error {
				closed := false
				for i := 0; ; i++ {
					id := fmt.Sprintf("w%d-%d", w, i)
					err := s.Apply(t.Context(), &store.Batch{PutKeys: []store.Key{newKey(id)}})
					if i == 2 {
						started <- struct{}{}
					}
					if err == nil && closed {
						return errors.New("apply succeeded after an earlier call returned ErrClosed")
					}
					if err != nil && !errors.Is(err, store.ErrClosed) {
						return fmt.Errorf("apply: %v, want nil or ErrClosed", err)
					}
					_, kerr := s.Key(t.Context(), id)
					if err == nil && kerr == nil {
						continue
					}
					if !errors.Is(kerr, store.ErrClosed) {
						return fmt.Errorf("key: %v, want ErrClosed (Apply said %v)", kerr, err)
					}
					if err != nil {
						return nil // both closed
					}
					closed = true
				}
			}()
		}()
	}
	for range workers {
		<-started
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err := s.Key(t.Context(), "w0-0")
	checkErr(t, "Key after Close", err, store.ErrClosed)
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func testUseAfterClose(t *testing.T, s store.Store) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v, want nil", err)
	}
	ctx := t.Context()
	checkErr(t, "Apply", s.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("n")}}), store.ErrClosed)
	checkErr(t, "Apply empty batch", s.Apply(ctx, &store.Batch{}), store.ErrClosed)
	_, err := s.Key(ctx, "k")
	checkErr(t, "Key", err, store.ErrClosed)
	_, err = s.Keys(ctx, "", 10)
	checkErr(t, "Keys", err, store.ErrClosed)
	_, err = s.Rotations(ctx, "k", 0, 10)
	checkErr(t, "Rotations", err, store.ErrClosed)
	_, err = s.Aliases(ctx, store.AliasID{}, 10)
	checkErr(t, "Aliases", err, store.ErrClosed)
	_, err = s.Secret(ctx)
	checkErr(t, "Secret", err, store.ErrClosed)
	checkErr(t, "Apply PutSecret", s.Apply(ctx, &store.Batch{PutSecret: secret(1)}), store.ErrClosed)
	_, err = s.CustomKeyStores(ctx)
	checkErr(t, "CustomKeyStores", err, store.ErrClosed)
	_, err = s.LatestInstant(ctx)
	checkErr(t, "LatestInstant", err, store.ErrClosed)
	_, err = s.RuleProfile(ctx)
	checkErr(t, "RuleProfile", err, store.ErrClosed)
	checkErr(t, "Grants", s.Grants(ctx, func(store.Grant) error { return nil }), store.ErrClosed)
	checkErr(t, "Apply with only a Now", s.Apply(ctx, &store.Batch{Now: time.Unix(1, 0)}), store.ErrClosed)
}

// Custom key stores.

// fullStore returns a custom key store record with every field set.
func fullStore(id string) store.CustomKeyStore {
	return store.CustomKeyStore{ID: id, Region: "eu-central-1", Seq: math.MaxUint64, Account: account, Name: "name \x00 ünï",
		Type: "EXTERNAL_KEY_STORE", ConnectionState: "CONNECTING", ConnectionErrorCode: "NETWORK_ERRORS",
		Created: time.Date(2024, 2, 29, 23, 59, 59, 123456789, kathmandu), ConnectDone: time.Date(2024, 3, 1, 0, 0, 0, 1, marquesas),
		CloudHsmClusterID: "cluster-1234567890a", TrustAnchorCertificate: strings.Repeat("c", 5000),
		XksProxyURIEndpoint: "https://xks.example.com", XksProxyURIPath: "/kms/xks/v1", XksProxyConnectivity: "VPC_ENDPOINT_SERVICE",
		XksProxyVpcEndpointServiceName: "com.amazonaws.vpce.us-east-1.vpce-svc-1", XksProxyVpcEndpointServiceOwner: "444455556666",
		XksProxyAccessKeyID: "ABCDEFGHIJKLMNOPQRST"}
}

func storesOf(t *testing.T, s store.Store) []store.CustomKeyStore {
	t.Helper()
	cs, err := s.CustomKeyStores(t.Context())
	if err != nil {
		t.Fatalf("CustomKeyStores: %v", err)
	}
	return cs
}

func testCustomKeyStoreRoundTrip(t *testing.T, s store.Store) {
	checkSame(t, "no stores", storesOf(t, s), []store.CustomKeyStore(nil))
	a, b := fullStore("cks-b"), store.CustomKeyStore{ID: "cks-a"}
	apply(t, s, store.Batch{PutCustomKeyStores: []store.CustomKeyStore{a, b}})
	checkSame(t, "stores in ID order", storesOf(t, s), []store.CustomKeyStore{b, a})
	a.ConnectionState, a.ConnectDone, a.Name = "DISCONNECTED", time.Time{}, "renamed"
	apply(t, s, store.Batch{PutCustomKeyStores: []store.CustomKeyStore{a}, DeleteCustomKeyStores: []string{"cks-a"}})
	checkSame(t, "after replace and delete", storesOf(t, s), []store.CustomKeyStore{a})
}

func testCustomKeyStoreNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	checkErr(t, "delete missing store", s.Apply(ctx, &store.Batch{DeleteCustomKeyStores: []string{"cks-x"}}), store.ErrNotFound)
	checkErr(t, "put empty ID", s.Apply(ctx, &store.Batch{PutCustomKeyStores: []store.CustomKeyStore{{}}}), store.ErrNotFound)
	apply(t, s, store.Batch{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-x"}}})
	checkErr(t, "delete twice in one batch",
		s.Apply(ctx, &store.Batch{DeleteCustomKeyStores: []string{"cks-x", "cks-x"}}), store.ErrNotFound)
	checkSame(t, "store after refused batches", storesOf(t, s), []store.CustomKeyStore{{ID: "cks-x"}})
	// A put and a delete of a new store in one batch fit.
	apply(t, s, store.Batch{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-y"}}, DeleteCustomKeyStores: []string{"cks-y"}})
	checkSame(t, "put then delete", storesOf(t, s), []store.CustomKeyStore{{ID: "cks-x"}})
}

// testCustomKeyStoreAtomicWithKeys: a disconnect writes the store and all
// its keys in one batch; a batch with a misfit key writes no store.
func testCustomKeyStoreAtomicWithKeys(t *testing.T, s store.Store) {
	k := newKey("k")
	k.CustomKeyStoreID = "cks-1"
	apply(t, s, store.Batch{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-1", ConnectionState: "CONNECTED"}},
		PutKeys: []store.Key{k}})
	k2 := next(k)
	k2.State, k2.DesiredState = keystate.Unavailable, keystate.Enabled
	bad := next(k2) // version 3 where 2 is due
	checkErr(t, "misfit batch", s.Apply(t.Context(), &store.Batch{
		PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-1", ConnectionState: "DISCONNECTED"}},
		PutKeys:            []store.Key{bad}}), store.ErrConflict)
	checkSame(t, "store after the refused batch", storesOf(t, s), []store.CustomKeyStore{{ID: "cks-1", ConnectionState: "CONNECTED"}})
	apply(t, s, store.Batch{PutCustomKeyStores: []store.CustomKeyStore{{ID: "cks-1", ConnectionState: "DISCONNECTED"}},
		PutKeys: []store.Key{k2}})
	checkSame(t, "key", getKey(t, s, "k"), k2)
	checkSame(t, "store", storesOf(t, s), []store.CustomKeyStore{{ID: "cks-1", ConnectionState: "DISCONNECTED"}})
}

// The root secret.

// secret returns a 32-byte secret, different for each n, with 0x00 and
// 0xFF bytes in it.
func secret(n int) []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(n*31 + i*i*7)
	}
	b[3], b[17] = 0x00, 0xFF
	return b
}

func getSecret(t *testing.T, s store.Store) []byte {
	t.Helper()
	got, err := s.Secret(t.Context())
	if err != nil {
		t.Fatalf("Secret: %v", err)
	}
	return got
}

func checkSecret(t *testing.T, s store.Store, want []byte) {
	t.Helper()
	if got := getSecret(t, s); !bytes.Equal(got, want) {
		t.Fatalf("Secret = %x, want %x", got, want)
	}
}

// testSecretRoundTrip: the secret reads back byte for byte, with the rest
// of its batch; neither the caller's slice nor the returned one aliases
// the store's copy.
func testSecretRoundTrip(t *testing.T, s store.Store) {
	want := secret(1)
	b := store.Batch{PutSecret: secret(1), PutKeys: []store.Key{newKey("k")}}
	if err := s.Apply(t.Context(), &b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	b.PutSecret[0] ^= 0xFF // the caller's slice after Apply
	checkSecret(t, s, want)
	checkSame(t, "Key written with the secret", getKey(t, s, "k"), newKey("k"))

	got := getSecret(t, s)
	for i := range got {
		got[i] = 0 // the returned slice
	}
	checkSecret(t, s, want)
	// Reads do not share a buffer either.
	first, second := getSecret(t, s), getSecret(t, s)
	first[5] ^= 1
	if !bytes.Equal(second, want) {
		t.Fatalf("a change to one Secret result showed in another: %x", second)
	}
}

// testSecretNotFound: a store without a secret says ErrNotFound, whatever
// else it holds; an empty PutSecret stores none.
func testSecretNotFound(t *testing.T, s store.Store) {
	_, err := s.Secret(t.Context())
	checkErr(t, "Secret of a new store", err, store.ErrNotFound)
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}, PutAliases: []store.Alias{newAlias("alias/a", "k")}})
	_, err = s.Secret(t.Context())
	checkErr(t, "Secret of a store with keys", err, store.ErrNotFound)
	apply(t, s, store.Batch{PutSecret: []byte{}})
	apply(t, s, store.Batch{PutSecret: []byte{}, PutKeys: []store.Key{newKey("k2")}})
	_, err = s.Secret(t.Context())
	checkErr(t, "Secret after empty PutSecrets", err, store.ErrNotFound)
	// The first real PutSecret is still the first.
	apply(t, s, store.Batch{PutSecret: secret(2)})
	checkSecret(t, s, secret(2))
}

// testSecretOnce: a store holds one secret for its life. A second
// PutSecret, even of the same bytes, fails with ErrExists, and its whole
// batch writes nothing; a PutSecret in a batch that does not fit is not
// stored either.
func testSecretOnce(t *testing.T, s store.Store) {
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}})
	before := dump(t, s)
	err := s.Apply(t.Context(), &store.Batch{PutSecret: secret(1), PutKeys: []store.Key{newKey("k")}})
	checkErr(t, "PutSecret with a key that exists", err, store.ErrExists)
	err = s.Apply(t.Context(), &store.Batch{PutSecret: secret(1), DeleteKeys: []string{"missing"}})
	checkErr(t, "PutSecret with a missing key's deletion", err, store.ErrNotFound)
	_, err = s.Secret(t.Context())
	checkErr(t, "Secret after failed batches", err, store.ErrNotFound)
	checkSame(t, "store after failed batches", dump(t, s), before)

	apply(t, s, store.Batch{PutSecret: secret(1)})
	before = dump(t, s)
	for _, tc := range []struct {
		name string
		b    store.Batch
	}{
		{"another secret", store.Batch{PutSecret: secret(2)}},
		{"the same secret", store.Batch{PutSecret: secret(1)}},
		{"another secret with keys", store.Batch{PutSecret: secret(2),
			PutKeys:      []store.Key{newKey("n"), next(newKey("k"))},
			AddRotations: []store.KeyRotation{{KeyID: "k", Rotation: rotation(1)}},
			PutAliases:   []store.Alias{newAlias("alias/n", "n")}}},
		{"another secret with a deletion", store.Batch{PutSecret: secret(3), DeleteKeys: []string{"k"}}},
	} {
		err := s.Apply(t.Context(), &tc.b)
		checkErr(t, tc.name, err, store.ErrExists)
		checkSame(t, "store after "+tc.name, dump(t, s), before)
		checkSecret(t, s, secret(1))
	}
	// The same parts without the secret fit.
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("n")}})
}

// testSecretConcurrent: of many batches racing to put the first secret,
// exactly one succeeds and the others fail with ErrExists.
func testSecretConcurrent(t *testing.T, s store.Store) {
	const writers = 16
	var wg sync.WaitGroup
	errs := make([]error, writers)
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			errs[w] = s.Apply(t.Context(), &store.Batch{PutSecret: secret(w),
				PutKeys: []store.Key{newKey(fmt.Sprintf("w%02d", w))}})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for w, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both put a secret", winner, w)
		case err == nil:
			winner = w
		default:
			checkErr(t, fmt.Sprintf("writer %d", w), err, store.ErrExists)
		}
	}
	if winner < 0 {
		t.Fatal("no writer put a secret")
	}
	checkSecret(t, s, secret(winner))
	checkSame(t, "keys", dump(t, s).Keys, []store.Key{newKey(fmt.Sprintf("w%02d", winner))})
}

// testSecretNotPrinted: formatting the store, with any verb, does not
// print the secret it holds, in any of the forms fmt gives bytes.
func testSecretNotPrinted(t *testing.T, s store.Store) {
	want := secret(7)
	apply(t, s, store.Batch{PutSecret: secret(7), PutKeys: []store.Key{newKey("k")}})
	checkSecret(t, s, want)
	forms := []string{string(want[8:24]), fmt.Sprintf("%x", want[8:24]), fmt.Sprintf("%X", want[8:24]),
		strings.Trim(fmt.Sprint(want[8:24]), "[]"), strings.Trim(fmt.Sprintf("%q", want[8:24]), `"`)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		text := fmt.Sprintf(verb, s)
		for _, form := range forms {
			if strings.Contains(text, form) {
				t.Fatalf("the store formatted with %s holds the secret (as %q)", verb, form)
			}
		}
	}
}
