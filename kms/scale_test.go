package kms_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/proctest"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

// scaleScenario is one fleet for the scale benchmarks (issue 8).
type scaleScenario struct {
	keys    int
	periods func(r *rand.Rand) int32 // rotation period of each key
	churn   bool                     // 1% disabled and re-enabled, 1% scheduled for deletion
}

// runScale creates the fleet (untimed), advances ten simulated years a day
// at a time with Sweep (timed), and reports seconds, ns per rotation event,
// resident bytes per key (heap in use after GC ÷ keys, history excluded by
// measuring before the years run), bytes per recorded rotation, the time
// the fleet took to create (setup-µs/key) and the process's CPU time per
// rotation (cpu-ns/rotation: on a shared machine, steadier than the wall
// time, and the same while nothing but the years runs, the collector
// having little to do then). setup-sys-µs/key is the kernel's part of
// setup's CPU time: mostly bringing in the fresh memory the fleet grows
// into.
//
// open, when not nil, makes the service over a store instead of kms.New.
// It returns the figures of the last iteration.
func runScale(b *testing.B, sc scaleScenario, open func(opts ...kms.Option) *kms.Service) scaleResult {
	var res scaleResult
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		clock := kms.NewManualClock(start)
		opts := []kms.Option{kms.WithClock(clock), kms.WithRandom(rand.NewChaCha8([32]byte{9}))}
		if open == nil {
			open = kms.New
		}
		svc := open(opts...)
		ctx := context.Background()
		r := rand.New(rand.NewPCG(1, 2))
		ids := make([]string, sc.keys)
		setupBegan, setupCPUBegan, setupSysBegan := time.Now(), proctest.Self(), proctest.SelfSystem()
		for j := range ids {
			out, err := svc.CreateKey(ctx, &kms.CreateKeyInput{})
			if err != nil {
				b.Fatal(err)
			}
			ids[j] = out.KeyMetadata.KeyId
			if _, err := svc.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: ids[j], RotationPeriodInDays: kms.Int32(sc.periods(r))}); err != nil {
				b.Fatal(err)
			}
		}
		setup, setupCPU, setupSys := time.Since(setupBegan), proctest.Self()-setupCPUBegan, proctest.SelfSystem()-setupSysBegan
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		residentPerKey := float64(base.HeapInuse) / float64(sc.keys)

		b.StartTimer()
		began, cpuBegan := time.Now(), proctest.Self()
		events := 0
		var disabled []string
		for d := 1; d <= 3653; d++ {
			clock.Advance(24 * time.Hour)
			if sc.churn && d%30 == 0 {
				// Each month 1/120 of 1% of the keys (so 1% over ten years)
				// is disabled for a month, and as many are scheduled for
				// deletion. Refusals (a key already pending deletion or
				// deleted) are part of the fleet's life and are not errors.
				for _, k := range disabled {
					svc.EnableKey(ctx, &kms.EnableKeyInput{KeyId: k})
				}
				disabled = disabled[:0]
				for j := 0; j < sc.keys/100/120; j++ {
					k := ids[r.IntN(len(ids))]
					if _, err := svc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k}); err == nil {
						disabled = append(disabled, k)
					}
					svc.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: ids[r.IntN(len(ids))], PendingWindowInDays: kms.Int32(7)})
				}
			}
			events += svc.Sweep()
		}
		elapsed, cpu := time.Since(began), proctest.Self()-cpuBegan
		b.StopTimer()
		runtime.GC()
		var end runtime.MemStats
		runtime.ReadMemStats(&end)
		rotations := 0
		for _, id := range ids[:1000] { // sample the history size
			out, err := svc.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id, Limit: kms.Int32(1000)})
			if err == nil {
				rotations += len(out.Rotations)
			}
		}
		b.ReportMetric(elapsed.Seconds(), "s/10years")
		b.ReportMetric(float64(elapsed.Nanoseconds())/float64(events), "ns/rotation")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(events), "cpu-ns/rotation")
		b.ReportMetric(residentPerKey, "resident-B/key")
		b.ReportMetric(float64(setup.Nanoseconds())/1000/float64(sc.keys), "setup-µs/key")
		b.ReportMetric(float64(setupCPU.Nanoseconds())/1000/float64(sc.keys), "setup-cpu-µs/key")
		b.ReportMetric(float64(setupSys.Nanoseconds())/1000/float64(sc.keys), "setup-sys-µs/key")
		if events > 0 {
			b.ReportMetric(float64(int64(end.HeapInuse)-int64(base.HeapInuse))/float64(events), "B/rotation")
		}
		b.ReportMetric(float64(events), "rotations")
		res = scaleResult{nsPerRotation: float64(elapsed.Nanoseconds()) / float64(events),
			cpuPerRotation: float64(cpu.Nanoseconds()) / float64(events),
			setupPerKey:    setup / time.Duration(sc.keys), residentPerKey: residentPerKey}
		runtime.KeepAlive(svc)
	}
	return res
}

// scaleResult is what one run of runScale measured.
type scaleResult struct {
	nsPerRotation  float64
	cpuPerRotation float64       // the process's CPU time, which other programs on the machine disturb less
	setupPerKey    time.Duration // CreateKey plus EnableKeyRotation, per key
	residentPerKey float64
}

// BenchmarkSimulate1MKeys10Years: issue 8. Targets: ≤ 2 s per ten years, ≤
// 400 resident bytes per key, ≤ 32 bytes per recorded rotation.
func BenchmarkSimulate1MKeys10Years(b *testing.B) {
	mixed := func(r *rand.Rand) int32 { return 90 + r.Int32N(2560-90+1) }
	yearly := func(*rand.Rand) int32 { return 365 }
	b.Run("periods=90-2560", func(b *testing.B) { runScale(b, scaleScenario{keys: 1_000_000, periods: mixed}, nil) })
	b.Run("periods=365", func(b *testing.B) { runScale(b, scaleScenario{keys: 1_000_000, periods: yearly}, nil) })
	b.Run("periods=90-2560,churn", func(b *testing.B) {
		runScale(b, scaleScenario{keys: 1_000_000, periods: mixed, churn: true}, nil)
	})
}

// BenchmarkSimulate10MKeys10Years: issue 15. The mixed-period fleet of
// BenchmarkSimulate1MKeys10Years at 1,000,000 and then at 10,000,000 keys,
// in one run, to check that the cost stays flat per key and per rotation.
// Targets: ns per rotation at 10M ≤ 1.2× the 1M figure (reported as
// rotation-cost-ratio), fleet setup ≤ 1.5 µs per key, ≤ 400 resident bytes
// per key. keys=10M,memory-reused makes the 10M fleet once more, to show
// setup without the cost of memory new to the process. It needs about 5
// GB of memory and a minute or two; set KMSMODEL_10M=1 to run it:
//
//	KMSMODEL_10M=1 go test ./kms -run '^$' -bench Simulate10MKeys10Years -benchtime 1x
func BenchmarkSimulate10MKeys10Years(b *testing.B) {
	if os.Getenv("KMSMODEL_10M") == "" {
		b.Skip("set KMSMODEL_10M=1 to simulate 10,000,000 keys (about 5 GB)")
	}
	mixed := func(r *rand.Rand) int32 { return 90 + r.Int32N(2560-90+1) }
	var small, big scaleResult
	b.Run("keys=1M", func(b *testing.B) {
		small = runScale(b, scaleScenario{keys: 1_000_000, periods: mixed}, nil)
		reportFirstTouch(b)
	})
	runtime.GC()
	b.Run("keys=10M", func(b *testing.B) {
		big = runScale(b, scaleScenario{keys: 10_000_000, periods: mixed}, nil)
		reportFirstTouch(b)
		if small.nsPerRotation > 0 {
			b.ReportMetric(big.nsPerRotation/small.nsPerRotation, "rotation-cost-ratio")
			b.ReportMetric(big.cpuPerRotation/small.cpuPerRotation, "rotation-cpu-ratio")
		}
	})
	// The same fleet again in this process, into memory the last one
	// freed, much of which the runtime still holds: what setup costs when
	// most of the memory it grows into needs no bringing in. Not what the target is
	// judged on (keys=10M is); it tells the code's part from the host's.
	runtime.GC()
	b.Run("keys=10M,memory-reused", func(b *testing.B) {
		runScale(b, scaleScenario{keys: 10_000_000, periods: mixed}, nil)
		reportFirstTouch(b)
	})
}

// reportFirstTouch reports how fast this machine brought fresh memory into
// the process just after the run (proctest.FirstTouch of 256 MB, with 4 KB
// pages and with huge pages), in GB/s: a fleet of 10,000,000 keys grows
// into about 4 GB, so at 1 GB/s bringing it in alone costs 0.4 µs of its
// setup per key, and this figure moves several-fold from minute to minute
// on a shared virtual machine.
func reportFirstTouch(b *testing.B) {
	const n = 256 << 20
	for _, huge := range []bool{false, true} {
		d, err := proctest.FirstTouch(n, huge)
		if err != nil {
			return // not measured on this system
		}
		unit := "host-touch-4K-GB/s"
		if huge {
			unit = "host-touch-2M-GB/s"
		}
		b.ReportMetric(float64(n)/d.Seconds()/1e9, unit)
	}
}

// BenchmarkSimulate100kKeys10YearsBolt: the mixed-period scenario for
// 100,000 keys on the bbolt store, every change written through (NoSync:
// one fsync per scheduled event would measure the disk, not the model).
// Reports the file size per key at the end.
func BenchmarkSimulate100kKeys10YearsBolt(b *testing.B) {
	mixed := func(r *rand.Rand) int32 { return 90 + r.Int32N(2560-90+1) }
	for _, churn := range []bool{false, true} {
		name := "periods=90-2560"
		if churn {
			name += ",churn"
		}
		b.Run(name, func(b *testing.B) {
			var path string
			runScale(b, scaleScenario{keys: 100_000, periods: mixed, churn: churn}, func(opts ...kms.Option) *kms.Service {
				path = filepath.Join(b.TempDir(), "kms.db")
				st, err := boltstore.Open(path, &boltstore.Options{NoSync: true})
				if err != nil {
					b.Fatal(err)
				}
				svc, err := kms.Open(context.Background(), st, opts...)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { svc.Close() })
				return svc
			})
			if fi, err := os.Stat(path); err == nil {
				b.ReportMetric(float64(fi.Size())/100_000, "file-B/key")
			}
		})
	}
}

// BenchmarkOpen1MKeysBolt: how long kms.Open takes to make a service of
// 1,000,000 keys (each with one rotation and one alias) ready to serve from
// a bbolt file (issue 4: ≤ 5 s). The file is written through the store in
// large batches (untimed). Set KMSMODEL_BIG=1 to run it.
func BenchmarkOpen1MKeysBolt(b *testing.B) {
	if os.Getenv("KMSMODEL_BIG") == "" {
		b.Skip("set KMSMODEL_BIG=1 to build and reopen a store of 1,000,000 keys")
	}
	const keys = 1_000_000
	path := filepath.Join(b.TempDir(), "kms.db")
	st, err := boltstore.Open(path, &boltstore.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for base := 0; base < keys; base += 10_000 {
		var batch store.Batch
		for j := base; j < base+10_000; j++ {
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", j, j)
			batch.PutKeys = append(batch.PutKeys, store.Key{ID: id, Version: 1, Seq: uint64(j + 1), Account: "111122223333",
				State: keystate.Enabled, Created: t0, AutoRotation: true, RotationPeriodDays: 365,
				RotationAnchor: t0.AddDate(1, 0, 0), NextRotation: t0.AddDate(2, 0, 0)})
			batch.AddRotations = append(batch.AddRotations, store.KeyRotation{KeyID: id, Rotation: store.Rotation{At: t0.AddDate(1, 0, 0)}})
			batch.PutAliases = append(batch.PutAliases, store.Alias{AliasID: store.AliasID{Account: "111122223333", Name: "alias/k" + id[:8]},
				KeyID: id, Created: t0, Updated: t0})
		}
		if err := st.Apply(ctx, &batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(path)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := boltstore.Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		svc, err := kms.Open(ctx, st, kms.WithClock(kms.NewManualClock(t0.AddDate(1, 6, 0))))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		out, err := svc.ListKeys(ctx, &kms.ListKeysInput{Limit: kms.Int32(1)})
		if err != nil || len(out.Keys) != 1 {
			b.Fatal(out, err)
		}
		svc.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(fi.Size())/keys, "file-B/key")
}
