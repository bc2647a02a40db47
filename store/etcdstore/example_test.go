package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/etcdstore"
)

// Two writers over one etcd prefix: the second computed its change from a
// revision before the first's commit, so ApplyAt refuses it; read again,
// it goes through.
func ExampleStore_ApplyAt() {
	ctx := context.Background()
	opts := etcdstore.Options{
		Endpoints:   cluster.Endpoints(),                         // a test cluster; "127.0.0.1:2379" for a local etcd
		Prefix:      fmt.Sprintf("example-%d/", prefixes.Add(1)), // a fresh part of the key space
		WrappingKey: make([]byte, 32),                            // keep the real one secret
	}
	a, err := etcdstore.Open(opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	b, err := etcdstore.Open(opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	k := store.Key{ID: "1234abcd-12ab-34cd-56ef-1234567890ab", Version: 1, State: keystate.Enabled,
		Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := a.Apply(ctx, &store.Batch{PutKeys: []store.Key{k}}); err != nil {
		fmt.Println(err)
		return
	}
	read, _ := b.Revision(ctx) // b reads the key at this revision…
	disabled := k
	disabled.Version, disabled.State = 2, keystate.Disabled
	if _, err := a.ApplyAt(ctx, read, &store.Batch{PutKeys: []store.Key{disabled}}); err != nil {
		fmt.Println(err)
		return
	}
	described := k
	described.Version, described.Description = 2, "from b"
	_, err = b.ApplyAt(ctx, read, &store.Batch{PutKeys: []store.Key{described}}) // …and writes from it
	fmt.Println("b's stale write refused:", errors.Is(err, store.ErrConflict))

	view, read, _ := b.Snapshot(ctx)
	current, _ := view.Key(ctx, k.ID)
	view.Close()
	current.Version++
	current.Description = "from b"
	_, err = b.ApplyAt(ctx, read, &store.Batch{PutKeys: []store.Key{current}})
	got, _ := a.Key(ctx, k.ID)
	fmt.Println(err, got.Version, got.State, got.Description)
	// Output:
	// b's stale write refused: true
	// <nil> 3 Disabled from b
}
