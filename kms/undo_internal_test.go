package kms

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/racetest"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// undoNodes opens two nodes over a shared store: a, whose writes lose
// their races to the function hooked runs first, and b.
func undoNodes(t *testing.T) (st *store.SharedMemory, hooked *racetest.Store, a, b *Service) {
	t.Helper()
	st = store.NewSharedMemory()
	hooked = racetest.New(st)
	open := func(s store.Store) *Service {
		svc, err := Open(context.Background(), s, WithClock(NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close() })
		return svc
	}
	return st, hooked, open(hooked), open(st)
}

// until yields until cond, read under a.mu, holds (no sleeping: the
// goroutines it waits for are runnable).
func until(a *Service, cond func() bool) {
	for {
		a.mu.Lock()
		ok := cond()
		a.mu.Unlock()
		if ok {
			return
		}
		runtime.Gosched()
	}
}

// loadedService is a service with configuration cfg loaded from a
// snapshot of st, as a node that starts loads it (no calls: its view is
// closed).
func loadedService(t interface{ Fatal(...any) }, cfg config, st store.Shared) *Service {
	ctx := context.Background()
	f := newService(cfg)
	view, _, err := st.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer view.Close()
	f.st = view
	if err := f.load(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// matchesStore fails t unless a's state is the one a service loads from
// st, as a new node starts; it returns that service.
func matchesStore(t *testing.T, a *Service, st store.Shared) *Service {
	t.Helper()
	f := loadedService(t, a.cfg, st)
	a.mu.Lock()
	got := digest(a)
	a.mu.Unlock()
	if want := digest(f); got != want {
		t.Errorf("the node's state:\n%s\nwant (loaded from the store):\n%s", got, want)
	}
	return f
}

// digest prints s's state as it would load from the store, for comparing
// a node's state with one loaded from the store: for each Region that
// holds a key or an alias (by name: the order Regions were added in is
// not the store's), its keys in creation order, each as the store record
// toRecord makes of it (state, description, tags, rotation settings,
// pending deletion date, key policy text, the family's primary Region…)
// with its rotations (dates and kinds), alias count, multi-Region family
// (the primary's Region and the members' Regions), imported material and
// the events it waits for, queued or not (digestWaits), and grants (in
// ListGrants order, every field); then the Region's aliases with their
// targets and dates. It ends with what does not fit the keys: grants
// indexed but not listed on their key, or listed but not indexed, the
// custom key stores (records and keys), and the root secret's
// fingerprint. The caller holds s.mu, or s is not shared.
func digest(s *Service) string {
	var out strings.Builder
	regions := slices.Clone(s.regions)
	slices.SortFunc(regions, func(a, b *region) int { return strings.Compare(a.name, b.name) })
	listed := map[*grant]bool{}
	bySlot := map[uint32][]queued{}
	for _, ev := range queuedEvents(&s.queue) {
		if ev.what != evStoreConnected {
			bySlot[ev.slot] = append(bySlot[ev.slot], ev)
		}
	}
	for _, r := range regions {
		var keys, aliases []string
		for _, slot := range r.order {
			k := s.keyAt(slot)
			if k.state == keystate.Deleted {
				continue
			}
			keys = append(keys, digestKey(s, k), digestWaits(s, k, bySlot[k.slot]))
			for _, g := range s.grants[k.slot] {
				listed[g] = true
				if g.key != k {
					keys = append(keys, fmt.Sprintf("  grant %s listed on key %s, made for %s\n", g.id, s.storeID(k), s.storeID(g.key)))
				}
				keys = append(keys, fmt.Sprintf("  grant %+v\n", s.grantRecord(g)))
			}
		}
		for id, a := range r.aliases {
			aliases = append(aliases, fmt.Sprintf("  alias %s %s -> %s created %d updated %d record Region %q\n",
				id.account, id.name, s.storeID(a.target), a.created, a.updated, a.region))
		}
		if len(keys)+len(aliases) == 0 {
			continue
		}
		slices.Sort(aliases)
		fmt.Fprintf(&out, "Region %s\n%s%s", r.name, strings.Join(keys, ""), strings.Join(aliases, ""))
	}
	var more []string
	for id, g := range s.grantIndex {
		if g.id != id || !listed[g] {
			more = append(more, fmt.Sprintf("grant %s indexed, not listed on its key %s\n", id, s.storeID(g.key)))
		}
	}
	for g := range listed {
		if s.grantIndex[g.id] != g {
			more = append(more, fmt.Sprintf("grant %s listed on key %s, not indexed\n", g.id, s.storeID(g.key)))
		}
	}
	for id, cs := range s.stores {
		var keys []string
		for _, k := range cs.keys {
			keys = append(keys, s.storeID(k))
		}
		more = append(more, fmt.Sprintf("custom key store %s in %s: %+v keys %v\n", id, s.regions[cs.region].name, s.storeRecord(cs), keys))
	}
	slices.Sort(more)
	if s.root != nil {
		more = append(more, fmt.Sprintf("root secret %x\n", sha256.Sum256(s.root)))
	}
	return out.String() + strings.Join(more, "")
}

// digestKey prints key k for digest: its store record (material by
// fingerprint), rotations, alias count and multi-Region family.
func digestKey(s *Service, k *key) string {
	r := s.toRecord(k)
	material := sha256.Sum256(r.Material)
	r.Material = nil
	var rotations []string
	for _, rot := range k.rotations {
		kind := "auto"
		if rot.onDemand() {
			kind = "on-demand"
		}
		rotations = append(rotations, fmt.Sprintf("%d %s", rot.at(k.created), kind))
	}
	fam := "none"
	if k.fam != nil {
		var members []string
		for _, m := range k.fam.members {
			members = append(members, s.regions[m.region].name)
		}
		primary := "none"
		if k.fam.primary != nil {
			primary = s.regions[k.fam.primary.region].name
		}
		fam = fmt.Sprintf("primary %s members %v member %v", primary, members, slices.Contains(k.fam.members, k))
	}
	return fmt.Sprintf("  key %+v material %x\n    rotations %v aliases %d family %s\n", r, material[:4], rotations, k.aliasCount, fam)
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
	st, hooked, a, b := undoNodes(t)
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
	race := func() {
		// The group in flight is the first call's batch: wait until the
		// other eight calls have logged theirs after it, then win the
		// race on hot through b.
		until(a, func() bool { return a.logged >= base+9 })
		if _, err := b.UpdateKeyDescription(ctx, &UpdateKeyDescriptionInput{KeyId: hot, Description: "b"}); err != nil {
			t.Error(err)
		}
	}
	hooked.Before(race)
	started := make(chan struct{})
	wg.Go(func() {
		close(started)
		if _, err := a.UpdateKeyDescription(ctx, &UpdateKeyDescriptionInput{KeyId: hot, Description: "a"}); err != nil {
			t.Error(err)
		}
	})
	<-started
	// Wait until the first call leads its group, then make the others.
	until(a, func() bool { return a.committing })
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
	f2 := matchesStore(t, a, st)
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
	st, hooked, a, b := undoNodes(t)
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
	race := func() {
		if _, err := b.UpdateKeyDescription(ctx, &UpdateKeyDescriptionInput{KeyId: hot, Description: "b"}); err != nil {
			t.Error(err)
		}
		if _, err := b.CreateKey(ctx, &CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: cks.CustomKeyStoreId}); err != nil {
			t.Error(err)
		}
	}
	hooked.Before(race)
	// Hold s.wmu, which undoInPlace takes after releasing s.mu: while the
	// leader waits for it, apply b's commits, reload, and have a call log
	// a batch on top.
	a.wmu.Lock()
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := a.UpdateKeyDescription(ctx, &UpdateKeyDescriptionInput{KeyId: hot, Description: "a"}); err != nil {
			t.Error(err)
		}
	})
	until(a, func() bool { return a.undoing })
	rev, err := st.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	base, reloads := a.logged, a.cl.reloads
	a.mu.Unlock()
	if err := a.takeWatched(ctx, rev); err != nil {
		t.Fatal(err)
	}
	// Other nodes' commits apply in place, custom key stores included:
	// reload as a commit that does not fit (or a compacted watch) makes
	// a node do.
	a.mu.Lock()
	if err := a.reload(); err != nil {
		t.Fatal(err)
	}
	a.mu.Unlock()
	wg.Go(func() {
		if _, err := a.CreateKey(ctx, &CreateKeyInput{Description: "made while the leader waits"}); err != nil {
			t.Error(err)
		}
	})
	until(a, func() bool { return a.logged > base })
	if a.mu.Lock(); a.cl.reloads == reloads {
		t.Error("b's commits did not reload a's state")
	}
	a.mu.Unlock()
	a.wmu.Unlock()
	wg.Wait()
	if s, _ := a.ClusterStatus(); s.UndoneInPlace != 1 {
		t.Errorf("a's status %+v: want one race undone in place", s)
	}
	matchesStore(t, a, st)
}

// TestReloadFailsLoggedBatches: a batch logged and not yet written when
// the state is reloaded (a watch that ended, another node's commit not
// applied in place) fails, with a conflict (a cluster node runs its call
// again): written after the reload, it would be in the store and not in
// the node's memory, which would show the state before it.
func TestReloadFailsLoggedBatches(t *testing.T) {
	ctx := context.Background()
	_, _, a, _ := undoNodes(t)
	if _, err := a.CreateKey(ctx, &CreateKeyInput{}); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	// A call's batch, logged: what end leaves between its Unlock and
	// await's Lock.
	a.log = append(a.log, &store.Batch{})
	a.logged++
	need, epoch := a.logged, a.epoch
	if err := a.reload(); err != nil {
		a.mu.Unlock()
		t.Fatal(err)
	}
	left := len(a.log)
	a.mu.Unlock()
	if left != 0 {
		t.Errorf("%d batches left to write after the reload", left)
	}
	if err := a.await(need, epoch); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the batch logged before the reload: %v, want a conflict", err)
	}
}
