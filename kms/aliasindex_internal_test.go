package kms

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestAliasIndexMatchesScan: after any sequence of alias writes (create,
// retarget, delete), AWS managed keys' aliases and key deletions, the
// names keyAliases gives each key (kms:ResourceAliases, from the Region's
// index) are those a scan of the Region's aliases finds.
func TestAliasIndexMatchesScan(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		clk := NewManualClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
		s := New(WithClock(clk))
		ctx := context.Background()
		var ids []string
		for range 4 {
			out, err := s.CreateKey(ctx, &CreateKeyInput{})
			if err != nil {
				rt.Fatal(err)
			}
			ids = append(ids, out.KeyMetadata.KeyId)
		}
		names := []string{"alias/a", "alias/b", "alias/c", "alias/d", "alias/e"}
		check := func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			r := s.regions[0]
			var keys []*key
			for _, id := range ids {
				if k := r.keys.get(id); k != nil {
					keys = append(keys, k)
				}
			}
			for _, a := range r.aliases {
				keys = append(keys, a.target)
			}
			for _, k := range keys {
				var want []string
				for aid, a := range r.aliases {
					if a.target == k {
						want = append(want, aid.name)
					}
				}
				slices.Sort(want)
				if got := s.keyAliases(k); !slices.Equal(got, want) {
					rt.Fatalf("key %s: keyAliases %q, a scan %q", k.id, got, want)
				}
			}
		}
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for i := range steps {
			name := rapid.SampledFrom(names).Draw(rt, "alias")
			key := rapid.SampledFrom(ids).Draw(rt, "key")
			switch rapid.IntRange(0, 5).Draw(rt, fmt.Sprint("op", i)) {
			case 0, 1:
				s.CreateAlias(ctx, &CreateAliasInput{AliasName: name, TargetKeyId: key})
			case 2:
				s.UpdateAlias(ctx, &UpdateAliasInput{AliasName: name, TargetKeyId: key})
			case 3:
				s.DeleteAlias(ctx, &DeleteAliasInput{AliasName: name})
			case 4:
				s.ScheduleKeyDeletion(ctx, &ScheduleKeyDeletionInput{KeyId: key, PendingWindowInDays: Int32(7)})
				clk.Advance(8 * 24 * time.Hour)
				s.Sweep()
			case 5:
				// The first use of an AWS service's alias makes its key.
				s.DescribeKey(ctx, &DescribeKeyInput{KeyId: "alias/aws/ebs"})
			}
			check()
		}
	})
}
