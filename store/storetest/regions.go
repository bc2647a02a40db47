package storetest

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// Regions: records name their AWS Region; a multi-Region replica's key
// record is "<Region>/<key ID>"; an alias's identity includes its Region.

// testRoundTripRegionFields: Key's Region, PrimaryRegion and StateDone
// and CustomKeyStore's Region read back as written, each alone and all
// together, and go back to empty when a replacement clears them.
func testRoundTripRegionFields(t *testing.T, s store.Store) {
	done := time.Date(2025, 3, 4, 5, 6, 7, 8, kathmandu)
	only := map[string]func(k *store.Key){
		"region":         func(k *store.Key) { k.Region = "us-west-2" },
		"primary-region": func(k *store.Key) { k.PrimaryRegion = "eu-west-1" },
		"state-done":     func(k *store.Key) { k.StateDone = done },
		"all": func(k *store.Key) {
			k.Region, k.PrimaryRegion, k.StateDone = "ap-south-1", "ap-south-1", done
			k.State, k.Kind.MultiRegion = keystate.Creating, keystate.Primary
		},
		"any-bytes": func(k *store.Key) {
			k.Region, k.PrimaryRegion = "\x00region\xff ✓", "\xff"
			k.StateDone = time.Date(1969, 12, 31, 23, 59, 59, 999999999, marquesas)
		},
		"with-every-other-field": func(k *store.Key) {
			*k = fullKey(k.ID)
		},
	}
	var b store.Batch
	for _, id := range slices.Sorted(maps.Keys(only)) {
		k := newKey(id)
		only[id](&k)
		b.PutKeys = append(b.PutKeys, k)
	}
	apply(t, s, b)
	for _, k := range b.PutKeys {
		checkSame(t, "Key("+k.ID+")", getKey(t, s, k.ID), k)
	}
	checkSame(t, "Keys", dump(t, s).Keys, b.PutKeys)

	// A replacement that clears them reads back without them.
	var cleared store.Batch
	for _, k := range b.PutKeys {
		k = next(k)
		k.Region, k.PrimaryRegion, k.StateDone = "", "", time.Time{}
		cleared.PutKeys = append(cleared.PutKeys, k)
	}
	apply(t, s, cleared)
	for _, k := range cleared.PutKeys {
		got := getKey(t, s, k.ID)
		checkSame(t, "Key("+k.ID+") cleared", got, k)
		if !got.StateDone.IsZero() {
			t.Errorf("Key(%s).StateDone: zero time read back as %v", k.ID, got.StateDone)
		}
	}

	// Custom key stores: Region alone, with every field, and cleared.
	alone := store.CustomKeyStore{ID: "cks-a", Region: "us-west-2"}
	full := fullStore("cks-b")
	full.Region = "\x00 any bytes \xff"
	apply(t, s, store.Batch{PutCustomKeyStores: []store.CustomKeyStore{alone, full}})
	checkSame(t, "CustomKeyStores", storesOf(t, s), []store.CustomKeyStore{alone, full})
	alone.Region = ""
	apply(t, s, store.Batch{PutCustomKeyStores: []store.CustomKeyStore{alone}})
	checkSame(t, "CustomKeyStores, Region cleared", storesOf(t, s), []store.CustomKeyStore{alone, full})
}

// regionalAlias returns newAlias(name, keyID) in region.
func regionalAlias(region, name, keyID string) store.Alias {
	a := newAlias(name, keyID)
	a.Region = region
	return a
}

// testAliasesInRegions: aliases with the same account and name in
// different Regions (the empty, default Region among them) are different
// records: each is put, listed, retargeted and deleted alone, and deleting
// the key of one leaves the others.
func testAliasesInRegions(t *testing.T, s store.Store) {
	const name = "alias/same"
	dflt := regionalAlias("", name, "k1")
	west := regionalAlias("us-west-2", name, "k2")
	east := regionalAlias("us-east-1", name, "k1")
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k1"), newKey("k2")}, PutAliases: []store.Alias{west, dflt}})
	checkSame(t, "Aliases", dump(t, s).Aliases, []store.Alias{dflt, west})
	apply(t, s, store.Batch{PutAliases: []store.Alias{east}})
	checkSame(t, "Aliases", dump(t, s).Aliases, []store.Alias{dflt, east, west})

	// Deleting one (by its full AliasID) leaves the others; deleting it
	// again, or one in a Region where there is none, is ErrNotFound.
	apply(t, s, store.Batch{DeleteAliases: []store.AliasID{west.AliasID}})
	checkSame(t, "Aliases after deleting us-west-2's", dump(t, s).Aliases, []store.Alias{dflt, east})
	before := dump(t, s)
	for _, id := range []store.AliasID{west.AliasID, {Region: "eu-west-1", Account: account, Name: name}} {
		err := s.Apply(t.Context(), &store.Batch{DeleteAliases: []store.AliasID{id}})
		checkErr(t, fmt.Sprintf("delete alias %+v", id), err, store.ErrNotFound)
	}
	checkSame(t, "store after refused deletions", dump(t, s), before)

	// Retargeting one leaves the others on their keys.
	moved := regionalAlias("us-east-1", name, "k2")
	moved.Updated = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	apply(t, s, store.Batch{PutAliases: []store.Alias{moved}})
	checkSame(t, "Aliases after retargeting us-east-1's", dump(t, s).Aliases, []store.Alias{dflt, moved})

	// Deleting k1 removes the default Region's alias only; deleting k2
	// removes us-east-1's.
	apply(t, s, store.Batch{DeleteKeys: []string{"k1"}})
	checkSame(t, "Aliases after deleting k1", dump(t, s).Aliases, []store.Alias{moved})
	apply(t, s, store.Batch{PutAliases: []store.Alias{west}})
	apply(t, s, store.Batch{DeleteAliases: []store.AliasID{moved.AliasID}})
	checkSame(t, "Aliases after deleting us-east-1's", dump(t, s).Aliases, []store.Alias{west})
	apply(t, s, store.Batch{DeleteKeys: []string{"k2"}})
	checkSame(t, "Aliases after deleting k2", dump(t, s).Aliases, []store.Alias(nil))
}

// testAliasesRegionOrderAndPaging: Aliases lists by Region first (the
// empty Region before every other), then account, then name, in byte
// order; pages are full; an after with a Region starts in that Region, or
// in the next one if it names no alias.
func testAliasesRegionOrderAndPaging(t *testing.T, s store.Store) {
	// ("us-east-1", "2", …) sorts before ("us-east-1\x00", "1", …), and
	// ("eu", "9", …) before ("eu-west-1", "1", …): a store that runs Region
	// and account together gets these wrong.
	regions := []string{"", "us-east-1", "us-east-1\x00", "us-east-1\x01", "eu", "eu-west-1", "\xff"}
	accounts := []string{"", "1", "1\x00", "2", "9", "\xff"}
	names := []string{"alias/a", "alias/a\x00", "alias/z"}
	var all []store.Alias
	for _, region := range regions {
		for _, acct := range accounts {
			for _, name := range names {
				all = append(all, store.Alias{AliasID: store.AliasID{Region: region, Account: acct, Name: name}, KeyID: "k"})
			}
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	shuffled := slices.Clone(all)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	apply(t, s, store.Batch{PutKeys: []store.Key{newKey("k")}, PutAliases: shuffled[:len(shuffled)/3]})
	apply(t, s, store.Batch{PutAliases: shuffled[len(shuffled)/3:]})
	want := slices.SortedFunc(slices.Values(all), compareAliases)
	for _, limit := range []int{1, 2, len(names), len(names) * len(accounts), len(want) - 1, len(want), math.MaxInt32} {
		checkSame(t, fmt.Sprintf("aliases paged by %d", limit), pageAliases(t, s, limit, len(want)), want)
	}
	// index returns the position in want of the first alias of region, or
	// of (region, account, name).
	index := func(id store.AliasID) int {
		i, found := slices.BinarySearchFunc(want, id, func(a store.Alias, id store.AliasID) int {
			return compareAliases(a, store.Alias{AliasID: id})
		})
		if id.Name != "" && !found {
			t.Fatalf("no alias %+q in the table", id)
		}
		return i
	}
	perRegion := len(accounts) * len(names)
	for _, tc := range []struct {
		after store.AliasID
		limit int
		want  []store.Alias
	}{
		// The zero after lists from the default Region's first alias.
		{store.AliasID{}, 2, want[:2]},
		// After a Region alone: that Region's first alias.
		{store.AliasID{Region: "us-east-1"}, 2, want[index(store.AliasID{Region: "us-east-1"}):][:2]},
		// After a Region's last alias: the next Region's first.
		{store.AliasID{Region: "us-east-1", Account: "\xff", Name: "alias/z"}, 1,
			want[index(store.AliasID{Region: "us-east-1\x00"}):][:1]},
		// After the default Region's last alias, or past every one of its
		// accounts: the first Region with a name.
		{store.AliasID{Account: "\xff", Name: "alias/z"}, 1, want[perRegion:][:1]},
		{store.AliasID{Account: "\xff\xff"}, 1, want[perRegion:][:1]},
		// A Region with no alias: the next Region's first ("eu-" sorts
		// after "eu" and before "eu-west-1").
		{store.AliasID{Region: "eu-"}, 1, want[index(store.AliasID{Region: "eu-west-1"}):][:1]},
		// In the middle of a Region.
		{store.AliasID{Region: "eu", Account: "1\x00", Name: "alias/a\x00"}, 2,
			want[index(store.AliasID{Region: "eu", Account: "1\x00", Name: "alias/a\x00"})+1:][:2]},
		// After the last Region: nothing.
		{store.AliasID{Region: "\xff", Account: "\xff", Name: "alias/z"}, 3, nil},
		{store.AliasID{Region: "\xff\xff"}, 3, nil},
		{store.AliasID{Region: "us-east-1"}, 0, nil},
	} {
		as, err := s.Aliases(t.Context(), tc.after, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, fmt.Sprintf("Aliases(%+q, %d)", tc.after, tc.limit), as, tc.want)
	}
}

// testReplicaKeyIDs: a replica's record ID, "<Region>/<key ID>", is a key
// ID like any other: Key, Keys (in byte order, paged), Rotations,
// ScanRotations, alias KeyIDs and DeleteKeys keep it apart from its
// primary's ID and from the other replicas'.
func testReplicaKeyIDs(t *testing.T, s store.Store) {
	const mrk = "mrk-0123456789abcdef0123456789abcdef"
	ids := []string{
		"us-west-2/" + mrk,
		mrk,
		"eu-west-1/" + mrk,
		"us-west-2/mrk-0123456789abcdef0123456789abcdee", // another key's replica
		"us-west-2",                              // a prefix of the replicas' IDs
		"us-west-2/",                             // another
		"1234abcd-12ab-34cd-56ef-1234567890ab",   // a single-Region key
		"us-west-2/" + mrk + "/us-east-1",        // one more level
		"ap-southeast-2/" + mrk + "\x00trailing", // any bytes
	}
	var b store.Batch
	want := map[string]store.Key{}
	rots := map[string][]store.Rotation{}
	for i, id := range ids {
		k := newKey(id)
		k.Seq = uint64(i)
		k.Region = "region-of-" + id
		k.PrimaryRegion = "us-east-1"
		k.Kind.MultiRegion = keystate.Replica
		b.PutKeys = append(b.PutKeys, k)
		want[id] = k
		for j := range i + 1 {
			r := store.Rotation{At: time.Unix(int64(1000*i+j), int64(i)), OnDemand: j%2 == 0}
			b.AddRotations = append(b.AddRotations, store.KeyRotation{KeyID: id, Rotation: r})
			rots[id] = append(rots[id], r)
		}
		b.PutAliases = append(b.PutAliases, regionalAlias(fmt.Sprintf("r%d", i), "alias/mrk", id))
	}
	apply(t, s, b)

	for _, id := range ids {
		checkSame(t, "Key("+id+")", getKey(t, s, id), want[id])
		checkSame(t, "Rotations("+id+")", allRotations(t, s, id), rots[id])
		for from := range len(rots[id]) {
			rs, err := s.Rotations(t.Context(), id, from, 1)
			if err != nil {
				t.Fatal(err)
			}
			checkSame(t, fmt.Sprintf("Rotations(%q, %d, 1)", id, from), rs, rots[id][from:from+1])
		}
	}
	sorted := slices.Sorted(slices.Values(ids))
	for _, limit := range []int{1, 2, len(ids)} {
		var got []string
		for after := ""; ; {
			ks, err := s.Keys(t.Context(), after, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range ks {
				got = append(got, k.ID)
				checkSame(t, "Keys: key "+k.ID, k, want[k.ID])
			}
			if len(ks) < limit {
				break
			}
			after = ks[len(ks)-1].ID
		}
		checkSame(t, fmt.Sprintf("Keys paged by %d", limit), got, sorted)
	}
	ks, err := s.Keys(t.Context(), "us-west-2/", 1)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, `Keys after "us-west-2/"`, ks, []store.Key{want["us-west-2/mrk-0123456789abcdef0123456789abcdee"]})
	scanned := map[string][]store.Rotation{}
	err = s.ScanRotations(t.Context(), func(id string, rs []store.Rotation) error {
		scanned[id] = slices.Clone(rs)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "ScanRotations", scanned, rots)
	aliases := dump(t, s).Aliases
	checkSame(t, "Aliases", aliases, b.PutAliases)

	// Deleting the us-west-2 replica leaves its primary, the other
	// replicas and the IDs it is a prefix of or that are prefixes of it,
	// with their rotations and aliases.
	gone := "us-west-2/" + mrk
	apply(t, s, store.Batch{DeleteKeys: []string{gone}})
	checkNoKey(t, s, gone)
	delete(rots, gone)
	snap := dump(t, s)
	checkSame(t, "rotations after deleting "+gone, snap.Rotations, rots)
	var keys []store.Key
	for _, id := range sorted {
		if id != gone {
			keys = append(keys, want[id])
		}
	}
	checkSame(t, "keys after deleting "+gone, snap.Keys, keys)
	checkSame(t, "aliases after deleting "+gone, snap.Aliases, slices.DeleteFunc(slices.Clone(aliases),
		func(a store.Alias) bool { return a.KeyID == gone }))

	// Created again, the replica starts afresh.
	apply(t, s, store.Batch{PutKeys: []store.Key{want[gone]}})
	if rs := allRotations(t, s, gone); len(rs) != 0 {
		t.Fatalf("recreated replica has rotations %v", rs)
	}
}
