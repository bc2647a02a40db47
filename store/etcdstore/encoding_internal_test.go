package etcdstore

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
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

// TestRecordEncodingGolden: the record encoding (format 1, formatMark)
// stays byte for byte what stores already hold: nil and empty slices and
// maps apart, times with their zone offset. A change here needs a new
// format.
func TestRecordEncodingGolden(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 8, time.FixedZone("", 3600))
	k := keyRecord{rotations: 2, put: true, key: store.Key{
		ID: "k1", Region: "eu-west-1", Version: 3, Seq: 7, Account: "111122223333", Description: "d",
		State: keystate.Enabled, Created: at, Tags: []store.Tag{}, RotationPeriodDays: 365, NextRotation: at,
		Materials: []store.KeyMaterial{{ID: "m", Sealed: []byte{}, ValidTo: at, Pending: true}},
		Material:  []byte{1, 2}, Policy: "{}",
	}}
	g := store.Grant{KeyID: "k1", GrantID: "g1", Operations: []string{}, EncryptionContextEquals: map[string]string{"b": "2", "a": "1"}, Created: at}
	a := store.Alias{AliasID: store.AliasID{Region: "r", Account: "a", Name: "alias/x"}, KeyID: "k1", Created: at, Updated: at}
	c := store.CustomKeyStore{ID: "cks-1", Seq: 1, Name: "n", Type: "AWS_CLOUDHSM", Created: at}
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"key", encodeKey(&k),
			"01020100026b310965752d776573742d3103070c31313131323232323333333301640200000000000f010000000ee139a6af00000008003c0100ed020f01000000000000000000000000ffff0f010000000ee139a6af00000008003c000f01000000000000000000000000ffff0f01000000000000000000000000ffff000f01000000000000000000000000ffff0000000f01000000000000000000000000ffff0002016d010f010000000ee139a6af00000008003c000100030102027b7d00000000000f01000000000000000000000000ffff"},
		{"rotation", encodeRotation(store.Rotation{At: at, OnDemand: true}),
			"010f010000000ee139a6af00000008003c01"},
		{"alias", encodeAlias(&a),
			"010172016107616c6961732f78026b310f010000000ee139a6af00000008003c0f010000000ee139a6af00000008003c"},
		{"grant", encodeGrant(&g),
			"01026b310267310000000001030161013101620132000f010000000ee139a6af00000008003c"},
		{"custom key store", encodeCustomKeyStore(&c),
			"0105636b732d31000100016e0c4157535f434c4f554448534d00000f010000000ee139a6af00000008003c0f01000000000000000000000000ffff0000000000000000"},
		{"time", encodeTime(at),
			"010f010000000ee139a6af00000008003c"},
	} {
		if got := hex.EncodeToString(tc.got); got != tc.want {
			t.Errorf("%s record:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// TestDecodeRejectsZeroBindings: a record's binding (D78) is written only
// when set, so a binding of 0 in a record, or a grant creation number of
// 0 that no binding follows, is damage.
func TestDecodeRejectsZeroBindings(t *testing.T) {
	k := keyRecord{key: store.Key{ID: "k", PolicyBinding: 1}}
	rec := encodeKey(&k)
	if back, err := decodeKey(rec); err != nil || back.key.PolicyBinding != 1 {
		t.Fatalf("decodeKey = %+v, %v", back.key, err)
	}
	rec[len(rec)-1] = 0 // the binding, 1 → 0
	if _, err := decodeKey(rec); err == nil {
		t.Fatal("decodeKey took a policy binding of 0")
	}
	g := store.Grant{KeyID: "k", GrantID: "g", Binding: 1}
	grec := encodeGrant(&g)
	if back, err := decodeGrant(grec); err != nil || back.Binding != 1 || back.Seq != 0 {
		t.Fatalf("decodeGrant = %+v, %v", back, err)
	}
	zero := bytes.Clone(grec)
	zero[len(zero)-1] = 0
	if _, err := decodeGrant(zero); err == nil {
		t.Fatal("decodeGrant took a binding of 0")
	}
	if _, err := decodeGrant(grec[:len(grec)-1]); err == nil {
		t.Fatal("decodeGrant took a creation number of 0 with no binding after it")
	}
}
