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
	checkKeys(t, s, "after create", want)
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
	checkKeys(t, s, "after changing what was read", want)

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
	checkKeys(t, s, "after the next Versions", want)
	if got := getKey(t, s, drop.ID); len(got.Material) != 0 {
		t.Fatalf("Material after a Version without it: %x", got.Material)
	}
}

// testRoundTripPublicKey: Key.PublicKey (an EXTERNAL asymmetric key's
// public key) reads back as written, through Key and Keys: absent, alone,
// with imported material, with Material, with every other field, with any
// bytes and lengths; a later Version adds, replaces and drops it, and
// keeps it while it drops the imported material (the material deleted:
// the public key stays) or Material; and the store keeps its own copy:
// changing the caller's slice after Apply, or the slice Key or Keys
// returned, changes nothing stored. Two keys given the same slice keep
// equal, separate copies.
func testRoundTripPublicKey(t *testing.T, s store.Store) {
	long := bytes.Repeat([]byte{0x30, 0x00, 0xff}, 300) // more than 127 bytes: a two-byte length in a uvarint
	external := func(id string) store.Key {
		k := newKey(id)
		k.Kind = keystate.Kind{Spec: keystate.ECCNISTP256, Usage: keystate.SignVerify, Origin: keystate.External}
		return k
	}
	none := external("a-none")
	none.State = keystate.PendingImport
	alone := external("b-alone")
	alone.State, alone.KeyMaterialID, alone.PublicKey = keystate.PendingImport, "kept", []byte{0}
	imported := external("c-imported")
	imported.KeyMaterialID, imported.ExpirationModel = "imported", "KEY_MATERIAL_DOES_NOT_EXPIRE"
	imported.ImportedMaterial = []byte("sealed imported RSA_4096 private key")
	imported.Kind.Spec = keystate.RSA4096
	imported.PublicKey = slices.Clone(long)
	withMaterial := external("d-with-material")
	withMaterial.Material = []byte("sealed material")
	withMaterial.PublicKey = []byte("DER public key")
	full := fullKey("e-full")
	shared := []byte("DER public key given to two keys")
	first, second := external("f-first"), external("g-second")
	first.PublicKey, second.PublicKey = shared, shared

	// Copies of what was written, made before Apply: the caller's slices
	// are changed below.
	want := []store.Key{none, alone, imported, withMaterial, full, first, second}
	for i := range want {
		want[i].Tags = slices.Clone(want[i].Tags)
		want[i].ImportedMaterial = slices.Clone(want[i].ImportedMaterial)
		want[i].Material = slices.Clone(want[i].Material)
		want[i].PublicKey = slices.Clone(want[i].PublicKey)
	}
	apply(t, s, store.Batch{PutKeys: []store.Key{none, alone, imported, withMaterial, full, first, second}})
	// The caller's slices change after Apply; the store's copies must not.
	alone.PublicKey[0] = 1
	imported.PublicKey[0] ^= 0xff
	full.PublicKey[len(full.PublicKey)-1] ^= 0xff
	shared[0] ^= 0xff
	checkKeys(t, s, "after create", want)
	if got := getKey(t, s, none.ID); len(got.PublicKey) != 0 {
		t.Fatalf("PublicKey of a key without it: %x", got.PublicKey)
	}

	// The slices the store returns are the caller's too.
	got := getKey(t, s, first.ID)
	got.PublicKey[0] ^= 0xff
	ks, err := s.Keys(t.Context(), "", len(want))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		if len(k.PublicKey) > 0 {
			k.PublicKey[0] ^= 0x55
		}
	}
	checkKeys(t, s, "after changing what was read", want)

	// Later Versions add, replace and drop PublicKey (dropping it from a
	// key with Material and imported material keeps both), and keep it
	// while they drop the material; the other keys keep theirs.
	add := next(want[0])
	add.State, add.KeyMaterialID = keystate.Enabled, "new"
	add.ImportedMaterial, add.PublicKey = []byte("sealed"), []byte("added with the material")
	replace := next(want[1])
	replace.PublicKey = []byte("a longer replacement public key")
	materialDeleted := next(want[2])
	materialDeleted.State, materialDeleted.ExpirationModel, materialDeleted.ImportedMaterial = keystate.PendingImport, "", nil
	materialDropped := next(want[3])
	materialDropped.Material = nil
	drop := next(want[4])
	drop.PublicKey = nil
	apply(t, s, store.Batch{PutKeys: []store.Key{add, replace, materialDeleted, materialDropped, drop}})
	want[0], want[1], want[2], want[3], want[4] = add, replace, materialDeleted, materialDropped, drop
	add.PublicKey[0] ^= 0xff // the caller's slice again
	want[0].PublicKey = []byte("added with the material")
	checkKeys(t, s, "after the next Versions", want)
	if got := getKey(t, s, drop.ID); len(got.PublicKey) != 0 {
		t.Fatalf("PublicKey after a Version without it: %x", got.PublicKey)
	}
	if got := getKey(t, s, materialDeleted.ID); len(got.ImportedMaterial) != 0 || !bytes.Equal(got.PublicKey, long) {
		t.Fatalf("after the material was deleted: ImportedMaterial %x, PublicKey %x; want none and %x", got.ImportedMaterial, got.PublicKey, long)
	}
	if got := getKey(t, s, drop.ID); !bytes.Equal(got.Material, full.Material) || !bytes.Equal(got.ImportedMaterial, full.ImportedMaterial) {
		t.Fatalf("a Version without PublicKey lost the material: Material %x, ImportedMaterial %x", got.Material, got.ImportedMaterial)
	}
}

// checkKeys checks that s holds exactly want, read key by key and listed.
func checkKeys(t *testing.T, s store.Store, what string, want []store.Key) {
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
