package etcdstore

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/kmsmodel/kmsmodel/store"
)

// TestEncodeGrantDeterministic: a grant's record is the same bytes every
// time it is encoded, whatever order Go iterates its encryption context
// in, and decodes to the same grant.
func TestEncodeGrantDeterministic(t *testing.T) {
	ctx := map[string]string{}
	for i := range 16 {
		ctx[fmt.Sprintf("k%02d", i)] = fmt.Sprintf("v%d", i)
	}
	g := store.Grant{KeyID: "k", GrantID: "g", Operations: []string{"Decrypt"}, EncryptionContextSubset: ctx}
	first := encodeGrant(&g)
	for range 20 {
		if again := encodeGrant(&g); !bytes.Equal(again, first) {
			t.Fatal("the same grant encoded to different bytes")
		}
	}
	back, err := decodeGrant(first)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.EncryptionContextSubset) != len(ctx) || back.EncryptionContextSubset["k07"] != "v7" {
		t.Fatalf("decoded context %v, want %v", back.EncryptionContextSubset, ctx)
	}
}
