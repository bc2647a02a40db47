package main

import (
	"context"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// TestFollowCatchesUpAnIdleNode: a cluster node that answers no call
// takes the other nodes' commits at each of follow's ticks, and stop
// returns once follow has ended.
func TestFollowCatchesUpAnIdleNode(t *testing.T) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	open := func() *kms.Service {
		svc, err := kms.Open(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close() })
		return svc
	}
	busy, idle := open(), open()
	const writes = 50
	for range writes {
		if _, err := busy.CreateKey(ctx, &kms.CreateKeyInput{}); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := busy.ClusterStatus()
	if got, _ := idle.ClusterStatus(); got.Revision >= want.Revision {
		t.Fatalf("the idle node is at revision %d before any tick, the busy one at %d", got.Revision, want.Revision)
	}
	tick := make(chan time.Time)
	stop := follow(idle, tick, time.Minute)
	tick <- time.Time{}
	tick <- time.Time{} // taken once the first tick's catch-up ended
	got, _ := idle.ClusterStatus()
	if got.Revision < want.Revision || got.Watched < want.Revision {
		t.Errorf("after two ticks the idle node is at revision %d, watched %d; want %d", got.Revision, got.Watched, want.Revision)
	}
	stop()
	select {
	case tick <- time.Time{}:
		t.Error("follow took a tick after stop returned")
	default:
	}
}
