package storetest

import (
	"bytes"
	"slices"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// testRoundTripMaterial: Key.Material (the sealed material the service
// generated) reads back as written, through Key and Keys: absent, alone,
// with every other field, with any bytes and lengths; a later Version
// adds, replaces and drops it; and the store keeps its own copy: changing
// the caller's slice after Apply, or the slice Key returned, changes
// nothing stored. A multi-Region primary and its replica given the same
// slice keep equal, separate copies.
func testRoundTripMaterial(t *testing.T, s store.Store) {
	long := bytes.Repeat([]byte{0x00, 0xff, 'm'}, 700) // more than 127 bytes: a two-byte length in a uvarint
	none := newKey("a-none")
	one := newKey("b-one-byte")
	one.Material = []byte{0}
	anyBytes := newKey("c-any-bytes")
	anyBytes.Kind = keystate.Kind{Spec: keystate.RSA4096, Usage: keystate.SignVerify}
	anyBytes.Material = slices.Clone(long)
	full := fullKey("d-full")
	shared := []byte("sealed ECC_NIST_P256 private key")
	primary := newKey("mrk-0123456789abcdef0123456789abcdef")
	primary.Kind = keystate.Kind{Spec: keystate.ECCNISTP256, Usage: keystate.SignVerify, MultiRegion: keystate.Primary}
	primary.Region, primary.Material = "us-east-1", shared
	replica := primary
	replica.ID, replica.Region, replica.PrimaryRegion = "eu-west-1/"+primary.ID, "eu-west-1", "us-east-1"
	replica.Kind.MultiRegion = keystate.Replica

	// Copies of what was written, made before Apply: the caller's slices
	// are changed below.
	want := []store.Key{none, one, anyBytes, full, replica, primary}
	for i := range want {
		want[i].Tags = slices.Clone(want[i].Tags)
		want[i].ImportedMaterial = slices.Clone(want[i].ImportedMaterial)
		want[i].Material = slices.Clone(want[i].Material)
	}
	written := []store.Key{none, one, anyBytes, full, primary, replica}
	apply(t, s, store.Batch{PutKeys: written})
	// The caller's slices change after Apply; the store's copies must not.
	one.Material[0] = 1
	anyBytes.Material[0] ^= 0xff
	full.Material[len(full.Material)-1] ^= 0xff
	shared[0] ^= 0xff
	check := func(what string, want []store.Key) {
		t.Helper()
		for _, k := range want {
			checkSame(t, what+": Key("+k.ID+")", getKey(t, s, k.ID), k)
		}
		ks, err := s.Keys(t.Context(), "", len(want)+1)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, what+": Keys", ks, want)
	}
	check("after create", want)
	if got := getKey(t, s, none.ID); len(got.Material) != 0 {
		t.Fatalf("Material of a key without it: %x", got.Material)
	}

	// The slices the store returns are the caller's too.
	got := getKey(t, s, primary.ID)
	got.Material[0] ^= 0xff
	ks, err := s.Keys(t.Context(), "", len(want))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		if len(k.Material) > 0 {
			k.Material[0] ^= 0x55
		}
	}
	check("after changing what was read", want)

	// Later Versions add, replace and drop Material; the other keys keep
	// theirs.
	add := next(want[0])
	add.Material = []byte("added on first use")
	replace := next(want[2])
	replace.Material = []byte("a shorter replacement")
	drop := next(want[3])
	drop.Material = nil
	apply(t, s, store.Batch{PutKeys: []store.Key{add, replace, drop}})
	want[0] = add
	want[2] = replace
	want[3] = drop
	add.Material[0] ^= 0xff // the caller's slice again
	want[0].Material = []byte("added on first use")
	check("after the next Versions", want)
	if got := getKey(t, s, drop.ID); len(got.Material) != 0 {
		t.Fatalf("Material after a Version without it: %x", got.Material)
	}
}
