package etcdstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kmsmodel/kmsmodel/internal/etcdtest"
	"github.com/kmsmodel/kmsmodel/store"
)

// leader returns the index of the cluster's leader among its endpoints.
func leader(t *testing.T, c *etcdtest.Cluster) int {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints()})
	must(t, err)
	defer cli.Close()
	for i, ep := range c.Endpoints() {
		st, err := cli.Status(t.Context(), ep)
		must(t, err)
		if st.Leader == st.Header.MemberId {
			return i
		}
	}
	t.Fatal("no leader")
	return -1
}

// TestLeaderStopped: on a three-member cluster, writers go on while the
// leader stops and comes back; every write acknowledged is stored, and a
// watch started before delivers exactly the stored keys, without an error.
// (The watch is on the followers: an in-process member that stops waits
// for its open watch streams for five seconds, etcd's graceful stop; a
// killed process does not.)
func TestLeaderStopped(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Config{Members: 3})
	opts := options(t)
	opts.Endpoints = c.Endpoints()
	s := openWith(t, opts)
	ctx := t.Context()
	stopped := leader(t, c)
	wopts := opts
	wopts.Endpoints = nil
	for i, ep := range c.Endpoints() {
		if i != stopped {
			wopts.Endpoints = append(wopts.Endpoints, ep)
		}
	}
	watcher := openWith(t, wopts)
	rev, err := s.Revision(ctx)
	must(t, err)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changes, err := watcher.Watch(wctx, rev)
	must(t, err)

	const writers, each = 4, 25
	var mu sync.Mutex
	acked := map[string]bool{}
	progress := make(chan int, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%02d", w, i)
				actx, cancel := context.WithTimeout(ctx, time.Second)
				err := s.Apply(actx, &store.Batch{PutKeys: []store.Key{newKey(id)}})
				cancel()
				if err == nil {
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				}
				progress <- 1
			}
		})
	}
	done := 0
	wait := func(n int) {
		for ; done < n; done++ {
			<-progress
		}
	}
	wait(writers * each / 4)
	c.Stop(stopped)
	wait(writers * each / 2)
	must(t, c.Restart(stopped))
	wg.Wait()

	t.Logf("%d of %d writes acknowledged", len(acked), writers*each)
	keys, err := s.Keys(ctx, "", 1000)
	must(t, err)
	stored := map[string]bool{}
	for _, k := range keys {
		stored[k.ID] = true
	}
	for id := range acked {
		if !stored[id] {
			t.Errorf("acknowledged key %s is not stored", id)
		}
	}
	if len(acked) < writers*each/2 {
		t.Errorf("only %d of %d writes acknowledged", len(acked), writers*each)
	}
	watched := map[string]bool{}
	last := rev
	for len(watched) < len(stored) {
		select {
		case ch := <-changes:
			if ch.Err != nil || ch.Revision <= last {
				t.Fatalf("Change at %d after %d: %v", ch.Revision, last, ch.Err)
			}
			last = ch.Revision
			for _, k := range ch.Batch.PutKeys {
				if watched[k.ID] {
					t.Errorf("key %s watched twice", k.ID)
				}
				watched[k.ID] = true
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("watched %d keys of %d stored", len(watched), len(stored))
		}
	}
	for id := range watched {
		if !stored[id] {
			t.Errorf("watched key %s is not stored", id)
		}
	}
}
