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

// keyMetas holds the keyMeta of every key whose record the store saw
// since it opened: read by Keys (a node loads every key so), written by
// its own commits or delivered by its Watch (a node sees every commit),
// until the key is deleted. An entry is only
// a guess: a group written from it commits on the condition that the
// key's ModRevision is still the entry's, when the record is the one the
// entry was taken from.
//
// Entries are kept by the 16 bytes a key ID spells (a UUID, or "mrk-"
// and 32 hex digits), without the ID's string, and with 32-bit counts:
// 50–85 bytes a key, measured at 0.1–1.5M keys as the maps grow, so
// that a node can know every key (an entry by string, with its ID, took about 100,
// and was capped at 4,096 keys, which made most replacements of a large
// key space read first). Other IDs (a replica's "<Region>/<key ID>", IDs
// in upper case) are kept by string. A record whose version or history
// does not fit 32 bits is not kept: its key is read.
type keyMetas struct {
	mu     sync.Mutex
	uuids  map[[16]byte]metaEntry
	mrks   map[[16]byte]metaEntry
	others map[string]metaEntry
}

// metaEntry is a keyMeta as keyMetas keeps it.
type metaEntry struct {
	modRev             int64
	version, rotations uint32
}

// slot returns the map that keeps id's entry and, unless that is others,
// the entry's key there.
func (c *keyMetas) slot(id string) (m map[[16]byte]metaEntry, b [16]byte) {
	hexID, ok := strings.CutPrefix(id, "mrk-")
	switch {
	case ok && len(hexID) == 32 && lowerHex(hexID):
		hex.Decode(b[:], []byte(hexID))
		if c.mrks == nil {
			c.mrks = make(map[[16]byte]metaEntry)
		}
		return c.mrks, b
	case !ok && len(id) == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-' &&
		lowerHex(id[:8]) && lowerHex(id[9:13]) && lowerHex(id[14:18]) && lowerHex(id[19:23]) && lowerHex(id[24:]):
		hex.Decode(b[0:4], []byte(id[:8]))
		hex.Decode(b[4:6], []byte(id[9:13]))
		hex.Decode(b[6:8], []byte(id[14:18]))
		hex.Decode(b[8:10], []byte(id[19:23]))
		hex.Decode(b[10:16], []byte(id[24:]))
		if c.uuids == nil {
			c.uuids = make(map[[16]byte]metaEntry)
		}
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
	m, b := c.slot(id)
	var (
		e  metaEntry
		ok bool
	)
	if m == nil {
		e, ok = c.others[id]
	} else {
		e, ok = m[b]
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
	m, b := c.slot(id)
	if m == nil {
		if old, ok := c.others[id]; ok && old.modRev >= km.modRev {
			return
		}
		if c.others == nil {
			c.others = make(map[string]metaEntry)
		}
		c.others[id] = e
		return
	}
	if old, ok := m[b]; ok && old.modRev >= km.modRev {
		return
	}
	m[b] = e
}

// drop forgets key id, deleted at revision rev, unless its entry is of a
// later record.
func (c *keyMetas) drop(id string, rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, b := c.slot(id)
	if m == nil {
		if old, ok := c.others[id]; ok && old.modRev < rev {
			delete(c.others, id)
		}
		return
	}
	if old, ok := m[b]; ok && old.modRev < rev {
		delete(m, b)
	}
}
