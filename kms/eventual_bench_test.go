package kms_test

import (
	"context"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/consistency"
)

// BenchmarkDescribeKeyEventuallyConsistent is BenchmarkDescribeKey with
// the eventual-consistency model on: "Settled" after every change has
// propagated (a map lookup per call), "Propagating" with every key's
// DisableKey still propagating (each call hashes its view). With the model off, BenchmarkDescribeKey is the measure of issue
// 17's "within +10 ns".
func BenchmarkDescribeKeyEventuallyConsistent(b *testing.B) {
	for _, settled := range []bool{true, false} {
		name := "Propagating"
		if settled {
			name = "Settled"
		}
		b.Run(name, func(b *testing.B) {
			m := consistency.Default()
			m.Seed, m.Delay = 1, consistency.Fixed(time.Hour)
			svc, _ := benchService(kms.WithEventualConsistency(m))
			ids := benchKeys(b, svc, 1000)
			ctx := context.Background()
			svc.Propagate()
			if !settled {
				for _, id := range ids {
					if _, err := svc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: ids[i%len(ids)]}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
