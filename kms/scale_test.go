package kms_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
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
// measuring before the years run) and bytes per recorded rotation.
func runScale(b *testing.B, sc scaleScenario, opts ...kms.Option) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		clock := kms.NewManualClock(start)
		svc := kms.New(append([]kms.Option{kms.WithClock(clock), kms.WithRandom(rand.NewChaCha8([32]byte{9}))}, opts...)...)
		ctx := context.Background()
		r := rand.New(rand.NewPCG(1, 2))
		ids := make([]string, sc.keys)
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
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		residentPerKey := float64(base.HeapInuse) / float64(sc.keys)

		b.StartTimer()
		began := time.Now()
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
		elapsed := time.Since(began)
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
		b.ReportMetric(residentPerKey, "resident-B/key")
		if events > 0 {
			b.ReportMetric(float64(int64(end.HeapInuse)-int64(base.HeapInuse))/float64(events), "B/rotation")
		}
		b.ReportMetric(float64(events), "rotations")
		runtime.KeepAlive(svc)
	}
}

// BenchmarkSimulate1MKeys10Years: issue 8. Targets: ≤ 2 s per ten years, ≤
// 400 resident bytes per key, ≤ 32 bytes per recorded rotation.
func BenchmarkSimulate1MKeys10Years(b *testing.B) {
	mixed := func(r *rand.Rand) int32 { return 90 + r.Int32N(2560-90+1) }
	yearly := func(*rand.Rand) int32 { return 365 }
	b.Run("periods=90-2560", func(b *testing.B) { runScale(b, scaleScenario{keys: 1_000_000, periods: mixed}) })
	b.Run("periods=365", func(b *testing.B) { runScale(b, scaleScenario{keys: 1_000_000, periods: yearly}) })
	b.Run("periods=90-2560,churn", func(b *testing.B) {
		runScale(b, scaleScenario{keys: 1_000_000, periods: mixed, churn: true})
	})
}
