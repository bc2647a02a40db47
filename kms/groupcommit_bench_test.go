package kms_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/faultstore"
	"github.com/kmsmodel/kmsmodel/internal/proctest"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// BenchmarkDurableWrites measures durable writes through kms.Service over
// boltstore (every commit fsynced) from 8 and from 64 goroutines, each
// disabling and enabling a key of its own: b.N writes in all. Concurrent
// writes share a commit (group commit), so the rate is far above one fsync
// per write. It reports writes/s (target with 64 writers: ≥ 10,000), the
// mean number of writes per commit, and the process's CPU time per write
// (user and system, the writers' own share included).
func BenchmarkDurableWrites(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) { benchDurableWrites(b, writers) })
	}
}

func benchDurableWrites(b *testing.B, writers int) {
	ctx := context.Background()
	bs, err := boltstore.Open(filepath.Join(b.TempDir(), "kms.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	st := faultstore.New(bs) // no rules: it only counts groups and batches
	svc, err := kms.Open(ctx, st, kms.WithClock(kms.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	ids := make([]string, writers)
	for i := range ids {
		out, err := svc.CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = out.KeyMetadata.KeyId
	}
	groups, batches := st.Calls(faultstore.OpApply), st.Batches()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	b.ResetTimer()
	cpu := proctest.Self()
	began := time.Now()
	for w := range writers {
		wg.Go(func() {
			id := ids[w]
			disable := true
			for next.Add(1) <= int64(b.N) {
				var err error
				if disable {
					_, err = svc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
				} else {
					_, err = svc.EnableKey(ctx, &kms.EnableKeyInput{KeyId: id})
				}
				if err != nil {
					failed.Store(&err)
					return
				}
				disable = !disable
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	cpu = proctest.Self() - cpu
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/write")
	if g := st.Calls(faultstore.OpApply) - groups; g > 0 {
		b.ReportMetric(float64(st.Batches()-batches)/float64(g), "writes/commit")
	}
}
