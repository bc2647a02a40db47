package etcdstore

import "testing"

// TestKeyMetas: entries are found by the ID they were put under and no
// other (a UUID and an "mrk-" ID spelling the same bytes, a replica's
// "<Region>/<key ID>", an upper-case ID), a later record's entry is not
// replaced by an earlier one's, a deletion drops only an earlier entry,
// counts past 32 bits are not kept, and the cache keeps at most its bound.
func TestKeyMetas(t *testing.T) {
	const (
		uuid    = "0f1e2d3c-4b5a-4697-8877-66554433aa21"
		mrk     = "mrk-0f1e2d3c4b5a469788776655443322ff"
		replica = "eu-west-1/" + uuid
		upper   = "0F1E2D3C-4B5A-4697-8877-66554433AA21"
		// uuid's 16 bytes as a multi-Region key's ID: another key.
		mrkOfUUID = "mrk-0f1e2d3c4b5a4697887766554433aa21"
	)
	var c keyMetas
	ids := []string{uuid, mrk, replica, upper}
	for i, id := range ids {
		c.put(id, keyMeta{modRev: int64(10 + i), version: uint64(i + 1), rotations: uint64(i)})
	}
	for i, id := range ids {
		km, ok := c.get(id)
		if !ok || km.modRev != int64(10+i) || km.version != uint64(i+1) || km.rotations != uint64(i) {
			t.Errorf("%q: %+v, %v; want the entry put under it", id, km, ok)
		}
	}
	if km, ok := c.get(mrkOfUUID); ok {
		t.Errorf("%q finds %+v, the entry of %q", mrkOfUUID, km, uuid)
	}

	c.put(uuid, keyMeta{modRev: 5, version: 99})
	if km, _ := c.get(uuid); km.modRev != 10 {
		t.Errorf("an earlier record's entry replaced a later one's: %+v", km)
	}
	c.put(uuid, keyMeta{modRev: 20, version: 7})
	if km, _ := c.get(uuid); km.modRev != 20 || km.version != 7 {
		t.Errorf("a later record's entry did not replace an earlier one's: %+v", km)
	}
	c.drop(uuid, 15)
	if _, ok := c.get(uuid); !ok {
		t.Error("a deletion before the entry's record dropped it")
	}
	for _, id := range []string{uuid, replica, mrk} {
		c.drop(id, 100)
		if _, ok := c.get(id); ok {
			t.Errorf("%q: kept after its deletion", id)
		}
	}

	// A record whose version or history does not fit 32 bits is not
	// kept, and its earlier record's entry goes.
	c.put(mrk, keyMeta{modRev: 200, version: 3})
	c.put(mrk, keyMeta{modRev: 201, version: 1 << 32})
	if km, ok := c.get(mrk); ok {
		t.Errorf("version 1<<32: %+v kept", km)
	}
	c.put(upper, keyMeta{modRev: 202, rotations: 1 << 32})
	if km, ok := c.get(upper); ok {
		t.Errorf("1<<32 rotations: %+v kept", km)
	}

	// A bound: 1,500 keys in a cache of 1,000 keep 1,000 of them, the
	// last one put among them; a deletion makes room again.
	big := keyMetas{max: 1000}
	id := []byte("00000000-0000-4000-8000-000000000000")
	const hexDigits = "0123456789abcdef"
	name := func(n int) string {
		for j := 0; j < 8; j++ {
			id[7-j] = hexDigits[n>>(4*j)&15]
		}
		return string(id)
	}
	kept := func() (n int) {
		for i := range 1500 {
			if _, ok := big.get(name(i)); ok {
				n++
			}
		}
		return n
	}
	for i := range 1500 {
		big.put(name(i), keyMeta{modRev: int64(i + 1)})
	}
	if n := kept(); n != 1000 {
		t.Errorf("%d of 1,500 keys kept, want 1,000", n)
	}
	if km, ok := big.get(name(1499)); !ok || km.modRev != 1500 {
		t.Errorf("the last key put: %+v, %v", km, ok)
	}
	big.drop(name(1499), 2000)
	big.put(name(1499), keyMeta{modRev: 2001})
	big.put("eu-west-1/"+name(1), keyMeta{modRev: 2002})
	if n := kept(); n != 999 {
		t.Errorf("after a deletion and two puts, %d of the 1,500 keys kept, want 999", n)
	}
}
