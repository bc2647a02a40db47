package kms_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// TestClusterAppliesCustomKeyStoresInPlace: a node follows another's
// changes of custom key stores and of their keys (creation, connection,
// renaming, a key's creation and deletion, disconnection, a store's
// deletion) in place, without reloading its whole state, which before
// cost it hundreds of milliseconds at 20,000 keys for each CreateKey in a
// store. It ends where a fresh node over the store starts; it completes a
// connection the other node began (its event queued in place); it knows
// which keys each store holds (DeleteCustomKeyStore refuses a store with
// keys).
func TestClusterAppliesCustomKeyStoresInPlace(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	nodes, clocks := clNodes(t, st, 2, kms.WithCustomKeyStoreConnectDuration(10*time.Minute))
	a, b := nodes[0], nodes[1]
	hsm := ckStore(t, a, ckHSMInput("hsm"))
	two := ckStore(t, a, ckHSMInput("two"))
	ckConnect(t, a, hsm)
	if got := ckDescribeStore(t, b, hsm).ConnectionState; got != "CONNECTING" {
		t.Fatalf("b: the store a connects is %s, want CONNECTING", got)
	}
	// b, not a, ends the connection attempt: b queued its end when it
	// applied a's write.
	if _, err := clocks[1].Advance(11 * time.Minute); err != nil {
		t.Fatal(err)
	}
	b.Sweep()
	for _, n := range []*kms.Service{b, a} { // b first: a's next call would end the attempt too (the clock is the cluster's)
		if got := ckDescribeStore(t, n, hsm).ConnectionState; got != "CONNECTED" {
			t.Fatalf("the store is %s after b's sweep, want CONNECTED", got)
		}
	}
	if _, err := clocks[0].Advance(11 * time.Minute); err != nil {
		t.Fatal(err)
	}
	k1, k2 := ckKey(t, a, hsm).KeyId, ckKey(t, a, hsm).KeyId
	if _, err := a.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: two, NewCustomKeyStoreName: "deux"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k1, PendingWindowInDays: new(int32(7))}); err != nil {
		t.Fatal(err)
	}
	if _, err := clocks[0].Advance(8 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	a.Sweep()
	ckDisconnect(t, a, hsm)
	if _, err := a.DeleteCustomKeyStore(ctx, &kms.DeleteCustomKeyStoreInput{CustomKeyStoreId: two}); err != nil {
		t.Fatal(err)
	}
	if err := b.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := b.ClusterStatus(); s.Reloads != 0 {
		t.Errorf("b reloaded its whole state %d times, want 0 (every commit applied in place)", s.Reloads)
	}
	fresh, err := kms.Open(ctx, st, kms.WithClock(kms.NewManualClock(clStart)))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	dump := func(n *kms.Service) string {
		out, err := n.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{})
		if err != nil {
			t.Fatal(err)
		}
		j, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(j) + "\n" + clDump(t, n, []string{k2})
	}
	if got, want := dump(b), dump(fresh); got != want {
		t.Errorf("b:\n%s\nwant (a fresh node):\n%s", got, want)
	}
	if _, err := b.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k1}); !errors.Is(err, keystate.ErrNotFound) {
		t.Errorf("b: the key a's sweep deleted: %v", err)
	}
	_, err = b.DeleteCustomKeyStore(ctx, &kms.DeleteCustomKeyStoreInput{CustomKeyStoreId: hsm})
	if !errors.Is(err, keystate.ErrCustomKeyStoreHasCMKs) {
		t.Errorf("b: DeleteCustomKeyStore of the store that holds %s: %v, want CustomKeyStoreHasCMKsException", k2, err)
	}
}

// TestClusterCustomKeyStoreNamesUniqueAcrossNodes: D69. Two nodes that
// create custom key stores at once each decide on every store of the
// account (the name, the settings, the quota, the creation number), so
// the second write loses its race to the first even when the stores are
// not the same record: the same name on two nodes makes one store (the
// other call runs again and answers CustomKeyStoreNameInUseException),
// and two names make two stores listed in one order on both nodes, which
// paging one store at a time lists once each. Before, both writes
// committed: two stores of one name, or two of one creation number, which
// DescribeCustomKeyStores, paging by creation number, listed one of.
func TestClusterCustomKeyStoreNamesUniqueAcrossNodes(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	ra, a, b, _, _ := clRacing(t, st)
	ra.Before(func() { ckStore(t, b, ckHSMInput("hsm")) })
	_, err := a.CreateCustomKeyStore(ctx, ckHSMInput("hsm"))
	if !errors.Is(err, keystate.ErrCustomKeyStoreNameInUse) {
		t.Fatalf("CreateCustomKeyStore of a name another node took meanwhile: %v, want CustomKeyStoreNameInUseException", err)
	}
	if s, _ := a.ClusterStatus(); s.Retries != 1 || s.UndoneInPlace != 1 || s.Reloads != 0 {
		t.Errorf("a's status %+v: want its call undone in place and run again once, having lost its race", s)
	}
	ra.Before(func() { ckStore(t, b, ckHSMInput("two")) })
	ckStore(t, a, ckHSMInput("three"))
	recs, err := st.CustomKeyStores(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	seqs := map[uint64]bool{}
	for _, r := range recs {
		names = append(names, r.Name)
		seqs[r.Seq] = true
	}
	if slices.Sort(names); !slices.Equal(names, []string{"hsm", "three", "two"}) || len(seqs) != 3 {
		t.Fatalf("the store holds custom key stores %v with %d creation numbers, want hsm, three and two with 3", names, len(seqs))
	}
	var lists [2][]string
	for i, n := range []*kms.Service{a, b} {
		marker := ""
		for range 4 {
			out, err := n.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{Limit: new(int32(1)), Marker: marker})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range out.CustomKeyStores {
				lists[i] = append(lists[i], e.CustomKeyStoreName)
			}
			if marker = out.NextMarker; !out.Truncated {
				break
			}
		}
	}
	if want := []string{"hsm", "two", "three"}; !slices.Equal(lists[0], want) || !slices.Equal(lists[1], want) {
		t.Errorf("paged one store at a time, a lists %v and b %v; want %v on both", lists[0], lists[1], want)
	}
}

// TestClusterLostKeyCreationInCustomKeyStoreUndoneInPlace: two nodes that
// create keys in one custom key store at once both write the store's
// record (so that a disconnection meanwhile refuses the creation), and
// one loses its race. It undoes its write in place (the key it made, the
// store's record) instead of reloading its whole state, runs the call
// again, and both keys exist once, on both nodes, in the store's list.
func TestClusterLostKeyCreationInCustomKeyStoreUndoneInPlace(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	ra, a, b, _, _ := clRacing(t, st)
	hsm := ckStore(t, a, ckHSMInput("hsm"))
	ckConnect(t, a, hsm)
	var other string
	ra.Before(func() { other = ckKey(t, b, hsm).KeyId })
	mine := ckKey(t, a, hsm).KeyId
	if s, _ := a.ClusterStatus(); s.Retries != 1 || s.UndoneInPlace != 1 || s.Reloads != 0 {
		t.Errorf("a's status %+v: want its call undone in place and run again once", s)
	}
	if n := clStoredKeys(t, st); n != 2 {
		t.Fatalf("the store holds %d keys, want 2", n)
	}
	for _, n := range []*kms.Service{a, b} {
		for _, id := range []string{mine, other} {
			if got := ckState(t, n, id); got != "Enabled" {
				t.Errorf("key %s is %s, want Enabled", id, got)
			}
		}
		ckDisconnect(t, n, hsm)
		_, err := n.DeleteCustomKeyStore(ctx, &kms.DeleteCustomKeyStoreInput{CustomKeyStoreId: hsm})
		if !errors.Is(err, keystate.ErrCustomKeyStoreHasCMKs) || !strings.Contains(err.Error(), "holds 2 KMS keys") {
			t.Errorf("DeleteCustomKeyStore of the store with both keys: %v, want CustomKeyStoreHasCMKsException for 2 keys", err)
		}
		ckConnect(t, n, hsm)
	}
}
