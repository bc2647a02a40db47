package etcdstore

import "sync"

// keyMetaCacheSize bounds how many keys' metadata a Store keeps for
// replacing them in one round trip (keyMetas): about 100 bytes each.
const keyMetaCacheSize = 4096

// keyMeta is what a group that replaces a key needs to know of the key's
// stored record, besides the key itself, to write it without reading it:
// its version and the length of its rotation history, as of the record's
// ModRevision.
type keyMeta struct {
	modRev    int64
	version   uint64
	rotations uint64
}

// keyMetas holds the keyMeta of keys whose records the store saw lately:
// written by its own commits or delivered by its Watch. An entry is only
// a guess: a group written from it commits on the condition that the
// key's ModRevision is still the entry's, when the record is the one the
// entry was taken from. When full, an arbitrary entry makes room.
type keyMetas struct {
	mu sync.Mutex
	m  map[string]keyMeta
}

// get returns the entry of key id.
func (c *keyMetas) get(id string) (keyMeta, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	km, ok := c.m[id]
	return km, ok
}

// put records km for key id, unless a later record's entry is there.
func (c *keyMetas) put(id string, km keyMeta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.m[id]
	switch {
	case ok && old.modRev >= km.modRev:
		return
	case c.m == nil:
		c.m = make(map[string]keyMeta)
	case !ok && len(c.m) >= keyMetaCacheSize:
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[id] = km
}

// drop forgets key id, deleted at revision rev, unless its entry is of a
// later record.
func (c *keyMetas) drop(id string, rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[id]; ok && old.modRev < rev {
		delete(c.m, id)
	}
}
