package kms_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// unreachable is a store.Shared whose Revision fails while down is set, as
// a store out of reach would.
type unreachable struct {
	*store.SharedMemory
	down atomic.Bool
}

var errDown = errors.New("store out of reach")

func (u *unreachable) Revision(ctx context.Context) (int64, error) {
	if u.down.Load() {
		return 0, errDown
	}
	return u.SharedMemory.Revision(ctx)
}

// TestReady: a single service is ready until closed; a cluster node is
// ready once it has caught up with the store's revision (Ready applies the
// other nodes' commits, as a call would), and not ready, with the reason,
// while its store is out of reach or after Close.
func TestReady(t *testing.T) {
	ctx := context.Background()
	single := kms.New()
	if err := single.Ready(ctx); err != nil {
		t.Fatalf("single service: %v", err)
	}
	single.Close()
	if err := single.Ready(ctx); !errors.Is(err, kms.ErrNotReady) {
		t.Fatalf("closed single service: %v, want ErrNotReady", err)
	}

	st := &unreachable{SharedMemory: store.NewSharedMemory()}
	nodes, _ := clNodes(t, st, 2, kms.WithStaleReads())
	a, b := nodes[0], nodes[1]
	if _, err := a.CreateKey(ctx, &kms.CreateKeyInput{}); err != nil {
		t.Fatal(err)
	}
	rev, err := st.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Ready(ctx); err != nil {
		t.Fatalf("b: %v", err)
	}
	if cs, _ := b.ClusterStatus(); cs.Revision != rev {
		t.Errorf("b at revision %d after Ready, want the store's %d", cs.Revision, rev)
	}
	st.down.Store(true)
	err = b.Ready(ctx)
	if !errors.Is(err, kms.ErrNotReady) || !strings.Contains(err.Error(), errDown.Error()) {
		t.Fatalf("store out of reach: %v, want ErrNotReady saying why", err)
	}
	st.down.Store(false)
	if err := b.Ready(ctx); err != nil {
		t.Fatalf("store back: %v", err)
	}
	b.Close()
	if err := b.Ready(ctx); !errors.Is(err, kms.ErrNotReady) {
		t.Fatalf("closed node: %v, want ErrNotReady", err)
	}
}
