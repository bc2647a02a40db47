package kms

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestKeyIndexAgainstMap drives a keyIndex and a map with the same random
// adds and removals, through several growths and many gaps closed by
// removal, and checks that every ID finds the same key in both.
func TestKeyIndexAgainstMap(t *testing.T) {
	var slab [][]key
	x := newKeyIndex(&slab)
	model := map[string]*key{}
	r := rand.New(rand.NewPCG(3, 4))
	var ids []string
	for step := 0; step < 60_000; step++ {
		if len(ids) > 0 && r.IntN(3) == 0 {
			i := r.IntN(len(ids))
			id := ids[i]
			ids[i] = ids[len(ids)-1]
			ids = ids[:len(ids)-1]
			x.del(model[id])
			delete(model, id)
		} else {
			n := len(slab)
			if n == 0 || len(slab[n-1]) == slabChunk {
				slab = append(slab, make([]key, 0, slabChunk))
				n++
			}
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", step, r.Uint64()&0xffffffffffff)
			slab[n-1] = append(slab[n-1], key{id: id, slot: uint32((n-1)*slabChunk + len(slab[n-1]))})
			k := &slab[n-1][len(slab[n-1])-1]
			x.put(k)
			model[id] = k
			ids = append(ids, id)
		}
		if step%997 == 0 || step == 59_999 {
			if x.len() != len(model) {
				t.Fatalf("step %d: %d indexed, want %d", step, x.len(), len(model))
			}
			for id, k := range model {
				if got := x.get(id); got != k {
					t.Fatalf("step %d: get(%s) = %p, want %p", step, id, got, k)
				}
			}
			for _, k := range slab[0][:min(200, len(slab[0]))] {
				if _, ok := model[k.id]; !ok && x.get(k.id) != nil {
					t.Fatalf("step %d: removed %s still found", step, k.id)
				}
			}
		}
	}
	var stand keyIndex // an unserved Region's: finds nothing
	if stand.get("anything") != nil {
		t.Fatal("the empty index found a key")
	}
}
