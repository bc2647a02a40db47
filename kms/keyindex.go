package kms

import "hash/maphash"

// keyIndex finds a Region's keys by key ID. It is an open-addressing hash
// table (linear probing) of slot numbers in the service's slab, eight bytes
// an entry and no pointers, in place of a map[string]*key: a third of the
// memory at millions of keys, nothing for the garbage collector to scan,
// and growth that moves plain integers. An entry holds the low 32 bits of
// the ID's hash above the slot number plus one (so that 0 means empty);
// the ID itself is compared in the slab.
type keyIndex struct {
	slab *[][]key // the service's slab; nil for an unserved Region's stand-in
	seed maphash.Seed
	ents []uint64
	n    int
}

func newKeyIndex(slab *[][]key) keyIndex {
	return keyIndex{slab: slab, seed: maphash.MakeSeed(), ents: make([]uint64, 16)}
}

func (x *keyIndex) hash(id string) uint32 { return uint32(maphash.String(x.seed, id)) }

func (x *keyIndex) at(e uint64) *key {
	slot := uint32(e) - 1
	return &(*x.slab)[slot/slabChunk][slot%slabChunk]
}

// get returns the key with ID id, or nil.
func (x *keyIndex) get(id string) *key {
	if x.n == 0 {
		return nil
	}
	h := x.hash(id)
	mask := uint32(len(x.ents) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := x.ents[i]
		if e == 0 {
			return nil
		}
		if uint32(e>>32) == h {
			if k := x.at(e); k.id == id {
				return k
			}
		}
	}
}

// put adds k, whose ID the index does not hold.
func (x *keyIndex) put(k *key) {
	if (x.n+1)*4 > len(x.ents)*3 {
		x.grow()
	}
	x.insert(uint64(x.hash(k.id))<<32 | uint64(k.slot+1))
	x.n++
}

func (x *keyIndex) insert(e uint64) {
	mask := uint32(len(x.ents) - 1)
	i := uint32(e>>32) & mask
	for x.ents[i] != 0 {
		i = (i + 1) & mask
	}
	x.ents[i] = e
}

func (x *keyIndex) grow() {
	old := x.ents
	x.ents = make([]uint64, 2*len(old))
	for _, e := range old {
		if e != 0 {
			x.insert(e)
		}
	}
}

// del removes k, if the index holds it, and closes the gap it leaves so
// that every later entry of its probe run stays reachable.
func (x *keyIndex) del(k *key) {
	if x.n == 0 {
		return
	}
	mask := uint32(len(x.ents) - 1)
	want := uint64(x.hash(k.id))<<32 | uint64(k.slot+1)
	i := uint32(want>>32) & mask
	for x.ents[i] != want {
		if x.ents[i] == 0 {
			return
		}
		i = (i + 1) & mask
	}
	x.n--
	for {
		x.ents[i] = 0
		j := i
		for {
			j = (j + 1) & mask
			e := x.ents[j]
			if e == 0 {
				return
			}
			home := uint32(e>>32) & mask
			// The entry at j stays unless its home is outside (i, j]
			// (cyclically): then it moves to the gap at i.
			if i <= j && i < home && home <= j || i > j && (i < home || home <= j) {
				continue
			}
			x.ents[i] = e
			i = j
			break
		}
	}
}

// len returns the number of keys indexed.
func (x *keyIndex) len() int { return x.n }
