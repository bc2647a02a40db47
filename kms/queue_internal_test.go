package kms

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestEventQueueOrder: the calendar queue pops exactly what a sorted list
// would, in (instant, queue order), under random interleavings of pushes
// and pops, with instants spread over many days, within one day, equal,
// before the current day, and on days that share a place in near.
func TestEventQueueOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q eventQueue
		var ref []queued
		seq := uint64(0)
		last := int64(-5 * usPerDay)
		steps := rapid.IntRange(1, 300).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			if len(ref) > 0 && rapid.Bool().Draw(t, "pop") {
				slices.SortFunc(ref, cmpQueued)
				want := ref[0]
				ref = ref[1:]
				if got := q.min(); got.at != want.at || got.seq != want.seq {
					t.Fatalf("min = (%d,%d), want (%d,%d)", got.at, got.seq, want.at, want.seq)
				}
				got := q.pop()
				if got.at != want.at || got.seq != want.seq {
					t.Fatalf("pop = (%d,%d), want (%d,%d)", got.at, got.seq, want.at, want.seq)
				}
				last = got.at
				continue
			}
			var at int64
			switch rapid.IntRange(0, 4).Draw(t, "spread") {
			case 0:
				at = last + rapid.Int64Range(0, 3000*usPerDay).Draw(t, "far")
			case 4:
				// Days a multiple of nearDays apart share a place in
				// near: the later ones go to far.
				at = last + rapid.Int64Range(1, 3).Draw(t, "laps")*nearDays*usPerDay + rapid.Int64Range(-2, 2).Draw(t, "off")*usPerDay
			case 1:
				at = last + rapid.Int64Range(0, usPerDay).Draw(t, "near")
			case 2:
				at = last
			default:
				at = last - rapid.Int64Range(0, 2*usPerDay).Draw(t, "past")
			}
			seq++
			e := queued{at: at, seq: seq}
			q.push(e)
			ref = append(ref, e)
			if q.len() != len(ref) {
				t.Fatalf("len = %d, want %d", q.len(), len(ref))
			}
		}
	})
}
