package kms

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/kmsmodel/kmsmodel/kms/consistency"
)

// TestAliasIndexMatchesScan: after any sequence of alias writes (create,
// retarget, delete), AWS managed keys' aliases and key deletions, the
// names keyAliases gives each key (kms:ResourceAliases, from the Region's
// index) are those a scan of the Region's aliases finds, and ListAliases,
// paged at any limit, with or without a KeyId, lists what a scan and a
// sort list (the Region's ordered view, D72's predefined names merged in).
func TestAliasIndexMatchesScan(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		clk := NewManualClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
		opts := []Option{WithClock(clk)}
		ec := rapid.Bool().Draw(rt, "eventual")
		if ec {
			m := consistency.Default()
			m.Seed = rapid.Uint64Min(1).Draw(rt, "seed")
			opts = append(opts, WithEventualConsistency(m))
		}
		s := New(opts...)
		// Two accounts, two keys each: an account lists only its aliases.
		accounts := []string{s.cfg.account, "444455556666"}
		var ids []string
		owner := map[string]string{}
		for _, acct := range accounts {
			for range 2 {
				out, err := s.CreateKey(WithCaller(context.Background(), acct), &CreateKeyInput{})
				if err != nil {
					rt.Fatal(err)
				}
				ids = append(ids, out.KeyMetadata.KeyId)
				owner[out.KeyMetadata.KeyId] = acct
			}
		}
		s.Propagate()
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
			if s.ec != nil {
				s.ecCall() // the caller's view of the alias changes still propagating
			}
			for _, k := range keys {
				var want []string
				for aid, a := range r.aliases {
					if t := a.target; t == k && s.ec == nil || s.ec != nil && s.ecAliasTarget(a) == k {
						want = append(want, aid.name)
					}
				}
				slices.Sort(want)
				if got := s.keyAliases(k); !slices.Equal(got, want) {
					rt.Fatalf("key %s: keyAliases %q, a scan %q", k.id, got, want)
				}
			}
		}
		// listAll pages through ListAliases (of key id, or all) with limit.
		listAll := func(acct, id string, limit int32) []AliasListEntry {
			return aliasPages(rt, s, WithCaller(context.Background(), acct), &ListAliasesInput{KeyId: id, Limit: Int32(limit)})
		}
		// wantList is what ListAliases lists, by a scan of the Region's
		// aliases and the predefined names (D72), sorted by name.
		wantList := func(acct, id string) []string {
			s.mu.Lock()
			defer s.mu.Unlock()
			r := s.regions[0]
			var entries [][2]string // name, target
			for aid, a := range r.aliases {
				if aid.account == acct && (id == "" || a.target.id == id) {
					entries = append(entries, [2]string{aid.name, a.target.id})
				}
			}
			if id == "" {
				for _, n := range predefinedAliases {
					if _, ok := r.aliases[aliasID{acct, n}]; !ok {
						entries = append(entries, [2]string{n, ""})
					}
				}
			}
			slices.SortFunc(entries, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
			var names []string
			for _, e := range entries {
				names = append(names, e[0]+"→"+e[1])
			}
			return names
		}
		checkList := func() {
			limit := rapid.Int32Range(1, 7).Draw(rt, "limit")
			for _, acct := range accounts {
				for _, id := range append([]string{""}, ids...) {
					if id != "" && (owner[id] != acct || s.regions[0].keys.get(id) == nil) {
						continue
					}
					var got []string
					for _, e := range listAll(acct, id, limit) {
						got = append(got, e.AliasName+"→"+e.TargetKeyId)
					}
					if want := wantList(acct, id); !slices.Equal(got, want) {
						rt.Fatalf("ListAliases(%q) of %s by %d: %q, want %q", id, acct, limit, got, want)
					}
				}
			}
		}
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for i := range steps {
			name := rapid.SampledFrom(names).Draw(rt, "alias")
			key := rapid.SampledFrom(ids).Draw(rt, "key")
			ctx := WithCaller(context.Background(), owner[key])
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
			if ec {
				clk.Advance(time.Duration(rapid.IntRange(0, 4000).Draw(rt, "ms")) * time.Millisecond)
				s.Sweep() // settles what has propagated
			}
			check()
			checkList()
		}
	})
}
