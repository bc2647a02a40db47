package kms

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/store"
)

// raceHook is a node's handle on a shared store that runs hook before the
// node's next ApplyAt.
type raceHook struct {
	store.Shared
	hook atomic.Pointer[func()]
}

func (r *raceHook) ApplyAt(ctx context.Context, read int64, bs ...*store.Batch) (int64, error) {
	if f := r.hook.Swap(nil); f != nil {
		(*f)()
	}
	return r.Shared.ApplyAt(ctx, read, bs...)
}

// digest prints the keys of s's first Region in creation order, with what
// their store records and rotations hold, for comparing a node's state
// with a state loaded from the store. The caller holds s.mu, or s is not
// shared.
func digest(s *Service) string {
	out := ""
	for _, slot := range s.regions[0].order {
		k := s.keyAt(slot)
		if k.state.String() == "Deleted" {
			continue
		}
		last := int64(0)
		if len(k.rotations) > 0 {
			last = k.rotations[len(k.rotations)-1].at(k.created)
		}
		out += fmt.Sprintf("%s v%d %s %q %v next %d auto %v rotations %d last %d policy %v aliases %d\n", k.id, k.version, k.state,
			k.description(), k.tags(), k.nextRotation, k.autoEnabled, len(k.rotations), last, s.policies[k.slot] != nil, k.aliasCount)
	}
	var more []string
	for id, a := range s.regions[0].aliases {
		more = append(more, fmt.Sprintf("%s %s -> %s\n", id.account, id.name, a.target.id))
	}
	for id, g := range s.grantIndex {
		more = append(more, fmt.Sprintf("grant %s on %s %v\n", id, g.key.id, g.ops))
	}
	slices.Sort(more)
	return out + strings.Join(more, "")
}

// TestUndoInPlaceOfAGroup: a group that loses its race, with batches
// logged after it by other calls (a creation, changes of other keys,
// aliases made, moved and deleted, a grant made and one revoked), is
// undone in place: the key made by a failed batch is gone, the other keys,
// the aliases and the grants are as the store holds them, versions
// included, and after the calls run again the node's state is exactly the
// one loaded from the store.
func TestUndoInPlaceOfAGroup(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	hooked := &raceHook{Shared: st}
	clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, err := Open(ctx, hooked, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, st, WithClock(NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var ids []string
	for i := range 20 {
		out, err := a.CreateKey(ctx, &CreateKeyInput{Description: fmt.Sprint("key ", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, out.KeyMetadata.KeyId)
	}
	hot, other := ids[3], ids[4]
	grant, err := a.CreateGrant(ctx, &CreateGrantInput{KeyId: ids[12], GranteePrincipal: "arn:aws:iam::111122223333:role/r",
		Operations: []string{"Decrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]string{"alias/x": ids[6], "alias/y": ids[7]} {
		if _, err := a.CreateAlias(ctx, &CreateAliasInput{AliasName: name, TargetKeyId: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.DescribeKey(ctx, &DescribeKeyInput{KeyId: hot}); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	base := a.logged
	a.mu.Unlock()
	var wg sync.WaitGroup
	f := func() {
		// The group in flight is the first call's batch: wait until the
		// other eight calls have logged theirs after it, then win the
		// race on hot through b.
		for {
			a.mu.Lock()
			n := a.logged
			a.mu.Unlock()
			if n >= base+9 {
				break
			}
			runtime.Gosched()
		}
		if _, err := b.UpdateKeyDescription(ctx, &UpdateKeyDescriptionInput{KeyId: hot, Description: "b"}); err != nil {
			t.Error(err)
		}
	}
	hooked.hook.Store(&f)
	started := make(chan struct{})
	wg.Go(func() {
		close(started)
		if _, err := a.UpdateKeyDescription(ctx, &UpdateKeyDescriptionInput{KeyId: hot, Description: "a"}); err != nil {
			t.Error(err)
		}
	})
	<-started
	// Wait until the first call leads its group, then make the others.
	for {
		a.mu.Lock()
		leading := a.committing
		a.mu.Unlock()
		if leading {
			break
		}
		runtime.Gosched()
	}
	var created atomic.Pointer[string]
	wg.Go(func() {
		out, err := a.CreateKey(ctx, &CreateKeyInput{Description: "made in a failed batch, then again"})
		if err != nil {
			t.Error(err)
			return
		}
		created.Store(&out.KeyMetadata.KeyId)
	})
	wg.Go(func() {
		if _, err := a.TagResource(ctx, &TagResourceInput{KeyId: other, Tags: []Tag{{TagKey: "team", TagValue: "blue"}}}); err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() {
		if _, err := a.RotateKeyOnDemand(ctx, &RotateKeyOnDemandInput{KeyId: ids[5]}); err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() {
		if _, err := a.UpdateAlias(ctx, &UpdateAliasInput{AliasName: "alias/x", TargetKeyId: ids[9]}); err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() {
		if _, err := a.CreateAlias(ctx, &CreateAliasInput{AliasName: "alias/new", TargetKeyId: ids[10]}); err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() {
		if _, err := a.DeleteAlias(ctx, &DeleteAliasInput{AliasName: "alias/y"}); err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() {
		if _, err := a.CreateGrant(ctx, &CreateGrantInput{KeyId: ids[11], GranteePrincipal: "arn:aws:iam::111122223333:role/r",
			Operations: []string{"Encrypt"}}); err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() {
		if _, err := a.RevokeGrant(ctx, &RevokeGrantInput{KeyId: ids[12], GrantId: grant.GrantId}); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	s, _ := a.ClusterStatus()
	if s.UndoneInPlace != 1 || s.Reloads != 0 || s.Retries < 9 {
		t.Errorf("a's status %+v: want one race undone in place, no reload, the nine calls run again", s)
	}
	// Loaded from the store, as a new node starts.
	f2 := newService(a.cfg)
	view, _, err := st.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer view.Close()
	f2.st = view
	if err := f2.load(ctx); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	got := digest(a)
	a.mu.Unlock()
	if want := digest(f2); got != want {
		t.Errorf("a after the race:\n%s\nwant (loaded from the store):\n%s", got, want)
	}
	if p := created.Load(); p == nil || f2.loadedKey(*p) == nil {
		t.Errorf("the key CreateKey returned is not in the store")
	}
	if n := len(f2.regions[0].order); n != 21 {
		t.Errorf("the store holds %d keys, want 21 (the 20, and the one CreateKey made)", n)
	}
}

// TestAliasIn: aliasIn finds each alias, among names that share
// prefixes, and none of the names beside them.
func TestAliasIn(t *testing.T) {
	ctx := context.Background()
	svc, err := Open(ctx, store.NewMemory(), WithClock(NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	out, err := svc.CreateKey(ctx, &CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"alias/a", "alias/ab", "alias/ab-", "alias/ab/c", "alias/ab_", "alias/aba", "alias/abz", "alias/b", "alias/B0"}
	for _, n := range names {
		if _, err := svc.CreateAlias(ctx, &CreateAliasInput{AliasName: n, TargetKeyId: out.KeyMetadata.KeyId}); err != nil {
			t.Fatal(err)
		}
	}
	absent := []string{"alias/", "alias/aa", "alias/ab-a", "alias/ab0", "alias/abb", "alias/c", "alias/A", "alias/ab/"}
	for _, n := range append(slices.Clone(names), absent...) {
		id := store.AliasID{Account: svc.cfg.account, Name: n}
		a, found, err := aliasIn(ctx, svc.st, id)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Contains(names, n)
		if found != want || found && a.AliasID != id {
			t.Errorf("aliasIn(%s) = %v, %v; want found %v", n, a.AliasID, found, want)
		}
	}
}

// TestUndoInPlaceAfterAReloadMeanwhile: while a node undoes a lost race,
// another call on it applies another node's commit that makes it reload
// its whole state (a key in a custom key store), and then logs a batch
// on top (a key it creates): that batch fails with the group, and its key
// is gone from the node too, which ends with the store's state once the
// calls have run again.
func TestUndoInPlaceAfterAReloadMeanwhile(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	hooked := &raceHook{Shared: st}
	a, err := Open(ctx, hooked, WithClock(NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, st, WithClock(NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cks, err := b.CreateCustomKeyStore(ctx, &CreateCustomKeyStoreInput{CustomKeyStoreName: "hsm", CloudHsmClusterId: "cluster-1a23b4cdefg",
		TrustAnchorCertificate: "-----BEGIN CERTIFICATE-----", KeyStorePassword: Sensitive("kmsuser-secret-pw")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ConnectCustomKeyStore(ctx, &ConnectCustomKeyStoreInput{CustomKeyStoreId: cks.CustomKeyStoreId}); err != nil {
		t.Fatal(err)
	}
	out, err := a.CreateKey(ctx, &CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	hot := out.KeyMetadata.KeyId
	f := func() {
		if _, err := b.UpdateKeyDescription(ctx, &UpdateKeyDescriptionInput{KeyId: hot, Description: "b"}); err != nil {
			t.Error(err)
		}
		if _, err := b.CreateKey(ctx, &CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: cks.CustomKeyStoreId}); err != nil {
			t.Error(err)
		}
	}
	hooked.hook.Store(&f)
	var wg sync.WaitGroup
	var once sync.Once
	undoWindow = func(s *Service) {
		if s != a {
			return
		}
		once.Do(func() {
			s.mu.Lock()
			base, reloads := s.logged, s.cl.reloads
			s.mu.Unlock()
			wg.Go(func() {
				if _, err := a.CreateKey(ctx, &CreateKeyInput{Description: "made in the window"}); err != nil {
					t.Error(err)
				}
			})
			for {
				s.mu.Lock()
				logged, reloaded := s.logged > base, s.cl.reloads > reloads
				s.mu.Unlock()
				if logged {
					if !reloaded {
						t.Error("the call in the window logged its batch without reloading the state first")
					}
					return
				}
				runtime.Gosched()
			}
		})
	}
	defer func() { undoWindow = nil }()
	if _, err := a.UpdateKeyDescription(ctx, &UpdateKeyDescriptionInput{KeyId: hot, Description: "a"}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if s, _ := a.ClusterStatus(); s.UndoneInPlace != 1 {
		t.Errorf("a's status %+v: want one race undone in place", s)
	}
	f2 := newService(a.cfg)
	view, _, err := st.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer view.Close()
	f2.st = view
	if err := f2.load(ctx); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	got := digest(a)
	a.mu.Unlock()
	if want := digest(f2); got != want {
		t.Errorf("a after the race:\n%s\nwant (loaded from the store):\n%s", got, want)
	}
}
