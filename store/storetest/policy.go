package storetest

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kmsmodel/kmsmodel/store"
)

// maxPolicyChars is the longest key policy document AWS KMS takes, in
// characters.
const maxPolicyChars = 131072

// longPolicy returns a policy of n characters (n at least 64), most of
// them non-ASCII Latin-1 characters (two bytes each in UTF-8, U+00A0 and
// U+00FF among them), so that it takes nearly 2n bytes.
func longPolicy(n int) string {
	const head, tail = `{"Version":"2012-10-17","Statement":[{"Sid":"`, `"}]}`
	fill := []rune("ÄäÖöÜüßéÿ\u00a0¡¿©®°±µ¶·ñÇ x")
	var b strings.Builder
	b.Grow(2 * n)
	b.WriteString(head)
	for i := range n - utf8.RuneCountInString(head) - utf8.RuneCountInString(tail) {
		b.WriteRune(fill[i%len(fill)])
	}
	b.WriteString(tail)
	return b.String()
}

// testRoundTripPolicy: Key.Policy (the key policy document its owner set)
// reads back as written, through Key and Keys: empty (AWS's default
// policy), short, as long as AWS allows (131,072 characters, most of them
// non-ASCII: some 250 KB of UTF-8), alone or with every other field; a
// later Version adds, replaces (longer and shorter) and drops it, and
// keeps it while it changes other fields.
func testRoundTripPolicy(t *testing.T, s store.Store) {
	long := longPolicy(maxPolicyChars)
	if n := utf8.RuneCountInString(long); n != maxPolicyChars || !utf8.ValidString(long) || len(long) < 250000 {
		t.Fatalf("the long policy has %d characters in %d bytes", n, len(long))
	}
	none := newKey("a-none")
	short := newKey("b-short")
	short.Policy = `{"Statement":[]}`
	alone := newKey("c-long")
	alone.Policy = long
	full := fullKey("d-full")
	full.Policy = long
	other := fullKey("e-full")

	want := []store.Key{none, short, alone, full, other}
	apply(t, s, store.Batch{PutKeys: want})
	check := func(what string, want []store.Key) {
		t.Helper()
		for _, k := range want {
			got := getKey(t, s, k.ID)
			if got.Policy != k.Policy {
				t.Fatalf("%s: Key(%s).Policy is %d bytes, want %d (%.40q…)", what, k.ID, len(got.Policy), len(k.Policy), k.Policy)
			}
			checkSame(t, what+": Key("+k.ID+")", got, k)
		}
		ks, err := s.Keys(t.Context(), "", len(want)+1)
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != len(want) {
			t.Fatalf("%s: Keys returned %d keys, want %d", what, len(ks), len(want))
		}
		for i := range ks {
			if ks[i].Policy != want[i].Policy {
				t.Fatalf("%s: Keys: %s's Policy is %d bytes, want %d", what, ks[i].ID, len(ks[i].Policy), len(want[i].Policy))
			}
		}
		checkSame(t, what+": Keys", ks, want)
	}
	check("after create", want)
	if got := getKey(t, s, none.ID); got.Policy != "" {
		t.Fatalf("Policy of a key without it: %q", got.Policy)
	}

	// Later Versions add, replace and drop Policy, and keep it while they
	// change other fields; the other keys keep theirs.
	add := next(want[0])
	add.Policy = `{"Statement":[{"Sid":"added by PutKeyPolicy"}]}`
	longer := next(want[1])
	longer.Policy = long
	shorter := next(want[2])
	shorter.Policy = "{}"
	drop := next(want[3])
	drop.Policy = ""
	kept := next(want[4])
	kept.Description, kept.Material, kept.PublicKey, kept.Tags = "changed", nil, nil, nil
	apply(t, s, store.Batch{PutKeys: []store.Key{add, longer, shorter, drop, kept}})
	want = []store.Key{add, longer, shorter, drop, kept}
	check("after the next Versions", want)
	if got := getKey(t, s, drop.ID); got.Policy != "" || got.Description != full.Description || len(got.Material) == 0 {
		t.Fatalf("after a Version without Policy: Policy %d bytes, Description %q, Material %d bytes; want none, %q and some",
			len(got.Policy), got.Description, len(got.Material), full.Description)
	}

	// And back: the key that dropped its policy takes the long one again.
	again := next(drop)
	again.Policy = long
	apply(t, s, store.Batch{PutKeys: []store.Key{again}})
	want[3] = again
	check("after the policy is set again", want)
}
