package etcdstore

import (
	"encoding/hex"
	"math"
	"strings"
	"sync"
)

// keyMeta is what a group that replaces a key needs to know of the key's
// stored record, besides the key itself, to write it without reading it:
// its version and the length of its rotation history, as of the record's
// ModRevision.
type keyMeta struct {
	modRev    int64
	version   uint64
	rotations uint64
}

// keyMetaCacheSize bounds how many keys' metadata a Store keeps for
// replacing them in one round trip (keyMetas): 50–85 bytes each, about
// half a megabyte. Knowing every key would cost a node that much per key,
// a fifth more than its service holds for one (at 100,000 keys, 304
// bytes a key of live heap against 246 for a single service): past the
// 1.2× a node may hold beside a single service.
const keyMetaCacheSize = 8192

// keyMetas holds the keyMeta of keys whose records the store saw lately:
// read by Keys (a node loads every key so), written by its own commits
// or delivered by its Watch, until the key is deleted. An entry is only
// a guess: a group written from it commits on the condition that the
// key's ModRevision is still the entry's, when the record is the one the
// entry was taken from. When full, an arbitrary entry makes room.
//
// Entries are kept by the 16 bytes a key ID spells (a UUID, or "mrk-"
// and 32 hex digits), without the ID's string, and with 32-bit counts:
// half the bytes of an entry by string with 64-bit counts, so twice the
// keys for the memory. Other IDs (a replica's "<Region>/<key ID>", IDs
// in upper case) are kept by string. A record whose version or history
// does not fit 32 bits is not kept: its key is read.
type keyMetas struct {
	mu     sync.Mutex
	max    int // keyMetaCacheSize, or another bound for tests
	uuids  map[[16]byte]metaEntry
	mrks   map[[16]byte]metaEntry
	others map[string]metaEntry
}

// metaEntry is a keyMeta as keyMetas keeps it.
type metaEntry struct {
	modRev             int64
	version, rotations uint32
}

// slot returns the map that keeps id's entry and, unless that is others
// (then nil), the entry's key there. The caller holds c.mu.
func (c *keyMetas) slot(id string) (m map[[16]byte]metaEntry, b [16]byte) {
	hexID, ok := strings.CutPrefix(id, "mrk-")
	switch {
	case ok && len(hexID) == 32 && lowerHex(hexID):
		hex.Decode(b[:], []byte(hexID))
		return c.mrks, b
	case !ok && len(id) == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-' &&
		lowerHex(id[:8]) && lowerHex(id[9:13]) && lowerHex(id[14:18]) && lowerHex(id[19:23]) && lowerHex(id[24:]):
		hex.Decode(b[0:4], []byte(id[:8]))
		hex.Decode(b[4:6], []byte(id[9:13]))
		hex.Decode(b[6:8], []byte(id[14:18]))
		hex.Decode(b[8:10], []byte(id[19:23]))
		hex.Decode(b[10:16], []byte(id[24:]))
		return c.uuids, b
	}
	return nil, b
}

// lowerHex reports whether s is lower-case hex digits only: the form in
// which an ID's bytes spell it back exactly.
func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// get returns the entry of key id.
func (c *keyMetas) get(id string) (keyMeta, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var (
		e  metaEntry
		ok bool
	)
	if m, b := c.slot(id); m != nil {
		e, ok = m[b]
	} else {
		e, ok = c.others[id]
	}
	return keyMeta{modRev: e.modRev, version: uint64(e.version), rotations: uint64(e.rotations)}, ok
}

// put records km for key id, unless a later record's entry is there.
func (c *keyMetas) put(id string, km keyMeta) {
	if km.version > math.MaxUint32 || km.rotations > math.MaxUint32 {
		c.drop(id, km.modRev+1) // not kept, nor an earlier record's entry
		return
	}
	e := metaEntry{modRev: km.modRev, version: uint32(km.version), rotations: uint32(km.rotations)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.others == nil {
		c.uuids, c.mrks, c.others = make(map[[16]byte]metaEntry), make(map[[16]byte]metaEntry), make(map[string]metaEntry)
	}
	if m, b := c.slot(id); m != nil {
		putEntry(c, m, b, e)
	} else {
		putEntry(c, c.others, id, e)
	}
}

// putEntry is put's work on the map m that keeps k's entry. The caller
// holds c.mu.
func putEntry[K comparable](c *keyMetas, m map[K]metaEntry, k K, e metaEntry) {
	old, ok := m[k]
	if ok && old.modRev >= e.modRev {
		return
	}
	if !ok {
		c.makeRoom()
	}
	m[k] = e
}

// makeRoom drops an arbitrary entry when the maps are full. The caller
// holds c.mu.
func (c *keyMetas) makeRoom() {
	limit := c.max
	if limit == 0 {
		limit = keyMetaCacheSize
	}
	if len(c.uuids)+len(c.mrks)+len(c.others) < limit {
		return
	}
	for k := range c.uuids {
		delete(c.uuids, k)
		return
	}
	for k := range c.mrks {
		delete(c.mrks, k)
		return
	}
	for k := range c.others {
		delete(c.others, k)
		return
	}
}

// drop forgets key id, deleted at revision rev, unless its entry is of a
// later record.
func (c *keyMetas) drop(id string, rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, b := c.slot(id); m != nil {
		dropEntry(m, b, rev)
	} else {
		dropEntry(c.others, id, rev)
	}
}

// dropEntry is drop's work on the map m that keeps k's entry.
func dropEntry[K comparable](m map[K]metaEntry, k K, rev int64) {
	if old, ok := m[k]; ok && old.modRev < rev {
		delete(m, k)
	}
}
