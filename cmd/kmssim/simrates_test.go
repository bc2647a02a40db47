package main

// Tests that simulate's fleets meet their random events at the rates asked
// for (issue 15: draws of waiting times longer than an int64 of
// nanoseconds, below about one event per 292 years, used to overflow and
// fire at once), and that its count of keys by state is the service's.

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms"
)

// rateCase is a fleet with random events and no cancelled deletions, so
// that each key's life has a closed form: its random events are a Poisson
// process of the total rate, each of one kind with probability rate/total,
// until its deletion completes at D = τ + W (τ its first deletion event, W
// the waiting period drawn from 7–30 days) or the run ends at T.
type rateCase struct {
	keys                       int
	onDemand, disable, deletes float64
}

func (rc rateCase) args(years int) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return []string{"--keys", strconv.Itoa(rc.keys), "--years", strconv.Itoa(years), "--periods", "365",
		"--on-demand", f(rc.onDemand), "--disable", f(rc.disable), "--delete", f(rc.deletes), "--cancel", "0",
		"--seed", "7", "--progress", "never"}
}

// expected returns, per key, the expected number of completed deletions
// (P(D ≤ T)) and the expected time E[min(D, T)] in years during which the
// key meets random events. By Wald's identity each kind's expected number
// of calls is its rate times E[min(D, T)] (D is a stopping time of the
// process).
func (rc rateCase) expected(T float64) (deleted, alive float64) {
	r := rc.deletes
	for w := 7; w <= 30; w++ {
		W := float64(w) / 365.2425
		if r == 0 {
			alive += T
			continue
		}
		deleted += 1 - math.Exp(-r*(T-W))
		// E[min(τ+W, T)] = T − ∫_W^T P(τ ≤ t−W) dt
		alive += T - ((T - W) - (1-math.Exp(-r*(T-W)))/r)
	}
	return deleted / 24, alive / 24
}

// runRates simulates rc for years and checks the counts against their
// expectations, each within 5 standard deviations (Poisson counts, and the
// binomial count of deletions).
func runRates(t *testing.T, rc rateCase, years int) *simResult {
	t.Helper()
	c, code := parseSimulate(rc.args(years), io.Discard, io.Discard)
	if c == nil {
		t.Fatalf("parse: exit %d", code)
	}
	res, err := runSimulation(context.Background(), c, newProgress("never", io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	T := float64(res.end.Sub(c.start)) / nsPerYear
	pDel, alive := rc.expected(T)
	n := float64(rc.keys)
	within := func(what string, got int, mean, sd float64) {
		t.Helper()
		if sd < 1 {
			sd = 1
		}
		if z := (float64(got) - mean) / sd; math.Abs(z) > 5 {
			t.Errorf("%s: %d, expected %.1f ± %.1f (z = %.1f)", what, got, mean, sd, z)
		} else {
			t.Logf("%s: %d, expected %.1f ± %.1f (z = %+.2f)", what, got, mean, sd, z)
		}
	}
	within("keys deleted", sum(res.tally.deleted), n*pDel, math.Sqrt(n*pDel*(1-pDel)))
	for _, k := range []struct {
		op   string
		rate float64
	}{{"RotateKeyOnDemand", rc.onDemand}, {"DisableKey", rc.disable}, {"ScheduleKeyDeletion", rc.deletes}} {
		mean := n * k.rate * alive
		within(k.op+" calls", res.tally.calls[k.op], mean, math.Sqrt(mean))
	}
	if got := res.states["Deleted"]; got != sum(res.tally.deleted) {
		t.Errorf("%d keys Deleted by state, %d DeleteKey records", got, sum(res.tally.deleted))
	}
	return res
}

// TestSimulateSmallRates is the overflow of issue 15: with one disable and
// one deletion per thousand key-years, about 1% of the keys are deleted
// over ten years (not half), and the yearly rotations nearly all happen.
func TestSimulateSmallRates(t *testing.T) {
	rc := rateCase{keys: 100_000, disable: 0.001, deletes: 0.001}
	res := runRates(t, rc, 10)
	// Ten yearly rotations per key, less those of keys deleted or disabled
	// over a rotation date: a few percent at most.
	if got, most := res.tally.rotations[0], rc.keys*10; got > most || got < most*97/100 {
		t.Errorf("%d automatic rotations, want about %d", got, most)
	}
}

// TestSimulateEventRates checks every kind of random event at rates that
// delete a good share of the fleet.
func TestSimulateEventRates(t *testing.T) {
	runRates(t, rateCase{keys: 20_000, onDemand: 0.5, disable: 0.2, deletes: 0.05}, 10)
}

// TestSimulateSmallRates1M is TestSimulateSmallRates at 1,000,000 keys (a
// few seconds and about 500 MB). Set KMSMODEL_BIG=1 to run it.
func TestSimulateSmallRates1M(t *testing.T) {
	if os.Getenv("KMSMODEL_BIG") == "" {
		t.Skip("set KMSMODEL_BIG=1 to simulate 1,000,000 keys")
	}
	runRates(t, rateCase{keys: 1_000_000, disable: 0.001, deletes: 0.001}, 10)
}

// TestSimulateStatesAreTheService: the count of keys by state that
// simulate prints, kept from its accepted calls, is what the service says
// of each key through ListKeys and DescribeKey, with cancelled deletions
// and disables in the mix.
func TestSimulateStatesAreTheService(t *testing.T) {
	c, _ := parseSimulate([]string{"--keys", "5000", "--years", "3", "--disable", "2", "--delete", "0.5",
		"--cancel", "0.4", "--disabled-days", "20", "--progress", "never"}, io.Discard, io.Discard)
	res, err := runSimulation(context.Background(), c, newProgress("never", io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	read, err := keyStates(context.Background(), res.svc)
	if err != nil {
		t.Fatal(err)
	}
	if n := sum(res.tally.deleted); n > 0 {
		read["Deleted"] = n
	}
	if fmt.Sprint(read) != fmt.Sprint(res.states) {
		t.Fatalf("simulate counted %v, the service says %v", res.states, read)
	}
	for _, st := range []string{"Enabled", "Disabled", "PendingDeletion", "Deleted"} {
		if res.states[st] == 0 {
			t.Errorf("no key %s: the check saw too little", st)
		}
	}
}

// keyStates counts the service's keys by state, reading them through the
// API (ListKeys, DescribeKey) as a client would.
func keyStates(ctx context.Context, svc *kms.Service) (map[string]int, error) {
	states := map[string]int{}
	in := &kms.ListKeysInput{Limit: kms.Int32(1000)}
	for {
		page, err := svc.ListKeys(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ListKeys: %w", err)
		}
		for _, k := range page.Keys {
			d, err := svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
			if err != nil {
				return nil, fmt.Errorf("DescribeKey: %w", err)
			}
			states[d.KeyMetadata.KeyState]++
		}
		if !page.Truncated {
			return states, nil
		}
		in.Marker = page.NextMarker
	}
}
