package etcdstore_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/etcdtest"
	"github.com/kmsmodel/kmsmodel/internal/proctest"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/etcdstore"
)

// parallel runs fn on about n goroutines (b.RunParallel, which starts
// GOMAXPROCS × parallelism of them).
func parallel(b *testing.B, n int, fn func()) {
	b.SetParallelism(max(1, (n+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			fn()
		}
	})
}

// report adds ops/s and the process's CPU per operation.
func report(b *testing.B, start time.Time, cpu0 time.Duration) {
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64((proctest.Self()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// member returns the endpoints of a one-member cluster for a benchmark:
// in this process ("embedded": cpu-µs/op counts the member's CPU with the
// store's), in this process with fsync ("embedded-fsync"), or in a child
// process ("process": cpu-µs/op is the store's, the client side, alone).
func member(b *testing.B, where string) []string {
	switch where {
	case "embedded-fsync":
		return etcdtest.Start(b, etcdtest.Config{Fsync: true}).Endpoints()
	case "process":
		mcs, err := etcdtest.MemberConfigs(b.TempDir(), etcdtest.Config{})
		if err != nil {
			b.Fatal(err)
		}
		etcdtest.StartProcess(b, mcs[0])
		return []string{mcs[0].ClientURL}
	}
	return cluster.Endpoints()
}

// BenchmarkApply: one CreateKey-like group (a new key and the service's
// instant) per operation, written with Apply or with ApplyAt (from one
// revision read before: new keys do not conflict), from 1 or 64
// concurrent writers, on a one-member cluster (see member for what
// cpu-µs/op counts).
func BenchmarkApply(b *testing.B) {
	for _, where := range []string{"embedded", "embedded-fsync", "process"} {
		endpoints := member(b, where)
		for _, op := range []string{"Apply", "ApplyAt"} {
			for _, writers := range []int{1, 64} {
				b.Run(fmt.Sprintf("etcd=%s/op=%s/writers=%d", where, op, writers), func(b *testing.B) {
					opts := options(b)
					opts.Endpoints = endpoints
					s := openWith(b, opts)
					read, err := s.Revision(b.Context())
					if err != nil {
						b.Fatal(err)
					}
					var n atomic.Int64
					b.ReportAllocs()
					b.ResetTimer()
					start, cpu0 := time.Now(), proctest.Self()
					parallel(b, writers, func() {
						i := n.Add(1)
						k := newKey(fmt.Sprintf("%08d-0000-4000-8000-000000000000", i))
						batch := &store.Batch{PutKeys: []store.Key{k}, Now: time.Unix(i, 0)}
						var err error
						if op == "Apply" {
							err = s.Apply(b.Context(), batch)
						} else {
							_, err = s.ApplyAt(b.Context(), read, batch)
						}
						if err != nil {
							b.Error(err)
						}
					})
					report(b, start, cpu0)
				})
			}
		}
	}
}

// BenchmarkRevision: Revision from 1 and 8 concurrent callers; etcd-req/op
// is how many etcd requests a call cost, which sharing brings below one.
func BenchmarkRevision(b *testing.B) {
	for _, where := range []string{"embedded", "process"} {
		endpoints := member(b, where)
		for _, callers := range []int{1, 8} {
			b.Run(fmt.Sprintf("etcd=%s/callers=%d", where, callers), func(b *testing.B) {
				opts := options(b)
				opts.Endpoints = endpoints
				s := openWith(b, opts)
				b.ReportAllocs()
				req0 := etcdstore.RevisionRequests(s)
				b.ResetTimer()
				start, cpu0 := time.Now(), proctest.Self()
				parallel(b, callers, func() {
					if _, err := s.Revision(b.Context()); err != nil {
						b.Error(err)
					}
				})
				report(b, start, cpu0)
				b.ReportMetric(float64(etcdstore.RevisionRequests(s)-req0)/float64(b.N), "etcd-req/op")
			})
		}
	}
}
