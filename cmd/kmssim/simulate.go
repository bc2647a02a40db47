package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

const simulateHelp = `Usage: kmssim simulate [flags]

Run a fleet of keys through years of simulated time, in process, on a manual
clock, and print a summary: rotations by type, refusals by exception, keys
by state.

Every key is created at --start. A share of them (--auto) has automatic
rotation, each with a period drawn from --periods. Each key then meets
random events, a Poisson process per key with the given yearly rates:
on-demand rotations, disables (each followed by an enable after about
--disabled-days) and deletions (a share --cancel of them cancelled before
the waiting period ends, the key then enabled again a day later). Calls the
model refuses are counted by exception: on-demand rotations of disabled keys
(DisabledException), beyond the quota (LimitExceededException), within 20
minutes of an automatic rotation (ConflictException), calls on keys pending
deletion (KMSInvalidStateException).

--rules current runs the fleet under today's AWS rules (25 on-demand
rotations per key) instead of the 2024 rules (10).

The same --seed gives the same simulation. --csv writes a monthly timeline
of rotations by type, --svg a chart of it.

--eventual-consistency runs the fleet on an eventually consistent service
(see kmssim serve --help): calls made within a change's propagation window
may be refused (counted by exception like any refusal), and deletions fire
up to --deletion-delay after their DeletionDate.
`

// simConfig is the parsed command line of simulate.
type simConfig struct {
	keys         int
	months       int
	periods      periodSpec
	auto         float64
	onDemand     float64 // per key per year
	disable      float64
	deletion     float64
	disabledDays float64
	cancel       float64
	quota        int // -1: the --rules profile's
	rules        kms.Rules
	seed         uint64
	start        time.Time
	csv, svg     string
	progress     string
	ec           []kms.Option // --eventual-consistency
}

// periodSpec is the set of rotation periods keys draw from: a list, or an
// inclusive range.
type periodSpec struct {
	list   []int32
	lo, hi int32 // range, when list is nil
}

func parsePeriods(s string) (periodSpec, error) {
	check := func(v string) (int32, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of days", v)
		}
		if n < 90 || n > 2560 {
			return 0, fmt.Errorf("%d days is outside 90–2560, the range AWS allows (D16)", n)
		}
		return int32(n), nil
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		a, err := check(lo)
		if err != nil {
			return periodSpec{}, err
		}
		b, err := check(hi)
		if err != nil {
			return periodSpec{}, err
		}
		if a > b {
			return periodSpec{}, fmt.Errorf("range %s is empty", s)
		}
		return periodSpec{lo: a, hi: b}, nil
	}
	var p periodSpec
	for _, v := range strings.Split(s, ",") {
		n, err := check(v)
		if err != nil {
			return periodSpec{}, err
		}
		p.list = append(p.list, n)
	}
	return p, nil
}

func (p periodSpec) draw(r *rand.Rand) int32 {
	if p.list != nil {
		return p.list[r.IntN(len(p.list))]
	}
	return p.lo + r.Int32N(p.hi-p.lo+1)
}

func parseSimulate(args []string, stdout, stderr io.Writer) (*simConfig, int) {
	c := &simConfig{}
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.IntVar(&c.keys, "keys", 1000, "number of keys in the fleet")
	years := fs.Float64("years", 10, "simulated `years` (rounded to whole months)")
	periods := fs.String("periods", "90,180,365,730", "rotation periods in days: a `list` (90,365) or a range (90-730)")
	fs.Float64Var(&c.auto, "auto", 1, "`share` of keys with automatic rotation enabled (0–1)")
	fs.Float64Var(&c.onDemand, "on-demand", 0.5, "on-demand rotations per key per year")
	fs.Float64Var(&c.disable, "disable", 0.2, "disables per key per year (each followed by an enable)")
	fs.Float64Var(&c.disabledDays, "disabled-days", 30, "mean `days` a disabled key stays disabled")
	fs.Float64Var(&c.deletion, "delete", 0.02, "scheduled deletions per key per year")
	fs.Float64Var(&c.cancel, "cancel", 0.1, "`share` of scheduled deletions cancelled (0–1)")
	c.quota = -1
	fs.Func("on-demand-quota", "on-demand rotations allowed per key (`n`; default: the --rules profile's, 10 under 2024 (decision D1) and 25 under current)", quotaFlag(&c.quota))
	rules := fs.String("rules", "2024", "rule `profile`: 2024 (the 2024 rules, decisions D1, D2, D2a) or current (today's AWS, quota 25)")
	fs.Uint64Var(&c.seed, "seed", 1, "random `seed`: the same seed gives the same simulation")
	start := fs.String("start", "2024-01-01T00:00:00Z", "RFC 3339 `instant` the simulation starts at")
	fs.StringVar(&c.csv, "csv", "", "write the monthly timeline of rotations by type to this CSV `file`")
	fs.StringVar(&c.svg, "svg", "", "write a chart of rotations over time to this SVG `file`")
	fs.StringVar(&c.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	ecf := addECFlags(fs)
	if code := parseFlags(fs, simulateHelp, args, stdout, stderr); code >= 0 {
		return nil, code
	}
	bad := func(msg string) (*simConfig, int) { return nil, usageError(stderr, "simulate", msg) }
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	if c.ec, err = ecf.options(set); err != nil {
		return bad(err.Error())
	}
	if c.periods, err = parsePeriods(*periods); err != nil {
		return bad("--periods: " + err.Error())
	}
	if c.start, err = time.Parse(time.RFC3339, *start); err != nil {
		return bad(fmt.Sprintf("--start %q is not an RFC 3339 instant such as 2024-01-01T00:00:00Z", *start))
	}
	c.months = int(math.Round(*years * 12))
	switch {
	case c.keys < 1 || c.keys > 10_000_000:
		return bad("--keys must be between 1 and 10000000")
	case !(*years > 0) || c.months < 1 || *years > 200:
		return bad("--years must be at least one month (1/12) and at most 200")
	case !share(c.auto):
		return bad("--auto must be a share between 0 and 1")
	case !share(c.cancel):
		return bad("--cancel must be a share between 0 and 1")
	case !rate(c.onDemand) || !rate(c.disable) || !rate(c.deletion):
		return bad("--on-demand, --disable and --delete must be rates between 0 and 1000 per key per year")
	case !(c.disabledDays > 0) || c.disabledDays > 3650:
		return bad("--disabled-days must be positive and at most 3650")
	}
	if c.rules, err = kms.ParseRules(*rules); err != nil {
		return bad(fmt.Sprintf("--rules %q: want 2024 or current", *rules))
	}
	switch c.progress {
	case "auto", "always", "never":
	default:
		return bad(fmt.Sprintf("--progress %q: want auto, always or never", c.progress))
	}
	return c, -1
}

func share(v float64) bool { return v >= 0 && v <= 1 }
func rate(v float64) bool  { return v >= 0 && v <= 1000 }

// Actions the simulation plans for its keys.
const (
	actRandom uint8 = iota // the key's next random event
	actEnable              // re-enable a key the simulation disabled
	actCancel              // cancel a scheduled deletion
)

// action is one planned call, at instant at (Unix ns).
type action struct {
	at   int64
	seq  uint64 // ties keep planning order
	key  int32
	what uint8
}

func (a *action) before(b *action) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

// plan is a binary min-heap of actions, earliest first. It holds the
// actions by value, without the boxing of container/heap, so that a push
// allocates nothing and the heap has no pointers for the collector to scan.
type plan []action

func (p *plan) push(a action) {
	*p = append(*p, a)
	h := *p
	for i := len(h) - 1; i > 0; {
		up := (i - 1) / 2
		if !h[i].before(&h[up]) {
			break
		}
		h[i], h[up] = h[up], h[i]
		i = up
	}
}

func (p *plan) pop() action {
	h := *p
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		m := 2*i + 1
		if m >= n {
			break
		}
		if r := m + 1; r < n && h[r].before(&h[m]) {
			m = r
		}
		if !h[m].before(&h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*p = h
	return top
}

// simKey is what the simulation remembers of a key.
type simKey struct {
	id       string
	gone     int64          // DeletionDate of a deletion that will not be cancelled, or 0
	state    keystate.State // as the accepted calls left it (see states)
	disabled bool           // disabled by the simulation, an enable is planned
}

// tally counts what happened: rotations and deletions by month, from the
// service's running totals (kms.Service.Totals) read at the end of each
// month; calls and refusals from what the calls returned.
type tally struct {
	start     time.Time
	months    int
	monthEnds []int64 // Unix ns at which each month ends
	auto      []int   // per month, and at index months what happened at the very end
	onDemand  []int
	deleted   []int
	refusals  map[string]map[string]int // exception → operation → count
	calls     map[string]int
	rotations [2]int     // AUTOMATIC, ON_DEMAND
	seen      kms.Totals // the totals already counted
}

func newTally(start time.Time, months int) *tally {
	t := &tally{start: start, months: months, auto: make([]int, months+1), onDemand: make([]int, months+1),
		deleted: make([]int, months+1), refusals: map[string]map[string]int{}, calls: map[string]int{}}
	t.monthEnds = make([]int64, months)
	for m := range t.monthEnds {
		t.monthEnds[m] = start.AddDate(0, m+1, 0).UnixNano()
	}
	return t
}

// count credits month m (0-based) with what the service did since the
// last count.
func (t *tally) count(m int, now kms.Totals) {
	auto := int(now.AutomaticRotations - t.seen.AutomaticRotations)
	onDemand := int(now.OnDemandRotations - t.seen.OnDemandRotations)
	t.auto[m] += auto
	t.onDemand[m] += onDemand
	t.deleted[m] += int(now.Deletions - t.seen.Deletions)
	t.rotations[0] += auto
	t.rotations[1] += onDemand
	t.seen = now
}

// call counts one call of operation op and, when err is a refusal, its
// exception.
func (t *tally) call(op string, err error) {
	t.calls[op]++
	if err == nil {
		return
	}
	code := string(keystate.ErrKMSInternal)
	var ke *keystate.Error
	if errors.As(err, &ke) {
		code = string(ke.Code)
	}
	byOp := t.refusals[code]
	if byOp == nil {
		byOp = map[string]int{}
		t.refusals[code] = byOp
	}
	byOp[op]++
}

const nsPerYear = 365.2425 * 24 * float64(time.Hour)

// simulate runs the simulate command. The --csv and --svg files are
// opened before the simulation runs, so that a path that cannot be written
// fails at once rather than after the run (see openOutput).
func simulate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, code := parseSimulate(args, stdout, stderr)
	if c == nil {
		return code
	}
	fail := func(err error, outs ...*output) int {
		for _, o := range outs {
			o.abandon()
		}
		fmt.Fprintf(stderr, "kmssim simulate: %v\n", err)
		return exitError
	}
	var csvOut, svgOut *output
	var err error
	if c.csv != "" {
		if csvOut, err = openOutput(c.csv); err != nil {
			return fail(fmt.Errorf("--csv: %w", err))
		}
	}
	if c.svg != "" {
		if svgOut, err = openOutput(c.svg); err != nil {
			return fail(fmt.Errorf("--svg: %w", err), csvOut)
		}
	}
	began := time.Now()
	res, err := runSimulation(ctx, c, newProgress(c.progress, stderr))
	if err != nil {
		return fail(err, csvOut, svgOut)
	}
	res.print(stdout, c, time.Since(began))
	if err := csvOut.write(res.tally.writeCSV); err != nil {
		return fail(err, svgOut)
	}
	if err := svgOut.write(res.tally.writeSVG); err != nil {
		return fail(err)
	}
	return exitOK
}

// output is a file simulate writes after the run, opened before it.
type output struct {
	name    string
	f       *os.File
	created bool // openOutput created the file: abandon removes it
}

// openOutput opens name for writing, creating it if it does not exist
// but not truncating it, so that a path that cannot be written (a missing
// or read-only directory, a directory in its place, a read-only file)
// fails before the simulation runs. If the run then fails, abandon leaves
// things as they were: a file openOutput created is removed, an existing
// one is unchanged. Only write replaces the content.
func openOutput(name string) (*output, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err == nil {
		return &output{name: name, f: f, created: true}, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	if f, err = os.OpenFile(name, os.O_WRONLY, 0); err != nil {
		return nil, err
	}
	return &output{name: name, f: f}, nil
}

// write replaces the content of the file (of a regular file; a device
// such as /dev/stdout is just written to) with what write produces, and
// closes it. A nil output writes nothing.
func (o *output) write(write func(io.Writer) error) error {
	if o == nil {
		return nil
	}
	if fi, err := o.f.Stat(); err == nil && fi.Mode().IsRegular() {
		if err := o.f.Truncate(0); err != nil {
			o.f.Close()
			return fmt.Errorf("writing %s: %w", o.name, err)
		}
	}
	if err := write(o.f); err != nil {
		o.f.Close()
		return fmt.Errorf("writing %s: %w", o.name, err)
	}
	return o.f.Close()
}

// abandon closes the file without writing it and removes it if openOutput
// created it. A nil output is left alone.
func (o *output) abandon() {
	if o == nil {
		return
	}
	o.f.Close()
	if o.created {
		os.Remove(o.name)
	}
}

// simResult is what a simulation found.
type simResult struct {
	tally  *tally
	end    time.Time
	states map[string]int
	svc    *kms.Service // the service simulated, as the run left it
}

// runSimulation runs c on a fresh service and returns the tallies. It
// stops early, with ctx's error, when ctx is cancelled.
func runSimulation(ctx context.Context, c *simConfig, prog *progress) (*simResult, error) {
	clock := kms.NewManualClock(c.start)
	t := newTally(c.start, c.months)
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], c.seed)
	opts := []kms.Option{kms.WithClock(clock), kms.WithRandom(rand.NewChaCha8(seed)), kms.WithRules(c.rules)}
	if c.quota >= 0 {
		opts = append(opts, kms.WithOnDemandRotationQuota(c.quota))
	}
	svc := kms.New(append(opts, c.ec...)...)
	rng := rand.New(rand.NewPCG(c.seed, c.seed^0x9e3779b97f4a7c15))

	keys := make([]simKey, c.keys)
	var p plan
	var seq uint64
	end := c.start.AddDate(0, c.months, 0).UnixNano()
	// schedule plans an action after a wait of ns nanoseconds (a float,
	// which a small rate makes larger than any int64). An action at or
	// after the end would never run: it is not planned.
	schedule := func(from int64, wait float64, k int32, what uint8) {
		if !(wait < float64(end-from)) {
			return
		}
		seq++
		p.push(action{at: from + int64(wait), seq: seq, key: k, what: what})
	}
	total := c.onDemand + c.disable + c.deletion
	nextRandom := func(from int64, k int32) {
		if total > 0 {
			schedule(from, rng.ExpFloat64()/total*nsPerYear, k, actRandom)
		}
	}
	now := c.start.UnixNano()
	defer prog.done() // end the bar's line when the run fails
	prog.creating(0, c.keys)
	for i := range keys {
		out, err := svc.CreateKey(ctx, &kms.CreateKeyInput{})
		t.call("CreateKey", err)
		if err != nil {
			return nil, fmt.Errorf("CreateKey: %w", err)
		}
		keys[i].id, keys[i].state = out.KeyMetadata.KeyId, keystate.Enabled
	}
	// With --eventual-consistency the keys are NotFoundException until
	// their creation has propagated: the fleet's owner waits for that
	// before configuring them (without the model this does nothing).
	svc.Propagate()
	for i := range keys {
		if rng.Float64() < c.auto {
			period := c.periods.draw(rng)
			_, err := svc.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: keys[i].id, RotationPeriodInDays: &period})
			t.call("EnableKeyRotation", err)
			if err != nil {
				return nil, fmt.Errorf("EnableKeyRotation: %w", err)
			}
		}
		nextRandom(now, int32(i))
		prog.creating(i+1, c.keys)
	}

	// The fleet is made: collect the garbage its creation left (every
	// call's output), so that the collector paces the run from the fleet's
	// real size rather than from a point part way through its creation,
	// which let the heap grow to nearly twice the fleet during the run.
	runtime.GC()

	const day = float64(24 * time.Hour)
	for m := 1; m <= c.months; m++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		monthEnd := t.monthEnds[m-1]
		for len(p) > 0 && p[0].at < monthEnd {
			a := p.pop()
			k := &keys[a.key]
			if k.gone != 0 && a.at >= k.gone {
				continue // the key has been deleted: nobody calls it any more
			}
			clock.Set(time.Unix(0, a.at))
			id := k.id
			switch a.what {
			case actEnable:
				k.disabled = false
				_, err := svc.EnableKey(ctx, &kms.EnableKeyInput{KeyId: id})
				t.call("EnableKey", err)
				if err == nil {
					k.state = keystate.Enabled
				}
			case actCancel:
				_, err := svc.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: id})
				t.call("CancelKeyDeletion", err)
				if err == nil {
					// The key comes back Disabled; its owner enables it a day later.
					k.state, k.disabled = keystate.Disabled, true
					schedule(a.at, day, a.key, actEnable)
				}
			case actRandom:
				nextRandom(a.at, a.key)
				switch x := rng.Float64() * total; {
				case x < c.onDemand:
					_, err := svc.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
					t.call("RotateKeyOnDemand", err)
				case x < c.onDemand+c.disable:
					_, err := svc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
					t.call("DisableKey", err)
					if err == nil {
						k.state = keystate.Disabled
					}
					if err == nil && !k.disabled {
						k.disabled = true
						schedule(a.at, rng.ExpFloat64()*c.disabledDays*day, a.key, actEnable)
					}
				default:
					window := 7 + rng.Int32N(24)
					out, err := svc.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: &window})
					t.call("ScheduleKeyDeletion", err)
					if err != nil {
						break
					}
					k.state = keystate.PendingDeletion
					when := out.DeletionDate.UnixNano()
					if rng.Float64() < c.cancel {
						schedule(a.at, float64(rng.Int64N(when-a.at)), a.key, actCancel)
					} else {
						k.gone = when
					}
				}
			}
		}
		// What is due before the month's end happened in it; what is due
		// at its very instant belongs to the next month.
		clock.Set(time.Unix(0, monthEnd-int64(time.Microsecond)))
		svc.Sweep()
		t.count(m-1, svc.Totals())
		clock.Set(time.Unix(0, monthEnd))
		prog.update(m, c.months, clock.Now(), t.rotations[0]+t.rotations[1])
	}
	prog.done()
	svc.Sweep() // what is due at the end instant itself: counted, but in no month
	t.count(c.months, svc.Totals())

	states, err := t.states(keys, clock.Now().UnixNano())
	if err != nil {
		return nil, err
	}
	return &simResult{tally: t, end: clock.Now(), states: states, svc: svc}, nil
}

// states counts the keys by state at instant end, as the simulation's
// accepted calls left them: a call the service accepted moves a key as
// the key-state table says (CreateKey, EnableKey: Enabled; DisableKey,
// CancelKeyDeletion: Disabled; ScheduleKeyDeletion: PendingDeletion), and
// a key whose DeletionDate has come is Deleted. Nothing else moves these
// keys, so this is the service's own count (a test checks it against
// DescribeKey) without reading a million keys back. The Deleted keys must
// be those the service's DeleteKey records counted; if they are not, the
// simulation and the model disagree, and states says so.
func (t *tally) states(keys []simKey, end int64) (map[string]int, error) {
	states := map[string]int{}
	var n [keystate.Deleted + 1]int
	gone := 0
	for i := range keys {
		k := &keys[i]
		if k.state == keystate.PendingDeletion && k.gone != 0 && k.gone <= end {
			gone++
			continue
		}
		n[k.state]++
	}
	if recorded := sum(t.deleted); recorded != gone {
		return nil, fmt.Errorf("the service recorded %d deletions, the simulation expected %d", recorded, gone)
	}
	for st, c := range n {
		if c > 0 {
			states[keystate.State(st).String()] = c
		}
	}
	if gone > 0 {
		states[keystate.Deleted.String()] = gone
	}
	return states, nil
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// print writes the summary.
func (r *simResult) print(w io.Writer, c *simConfig, elapsed time.Duration) {
	t := r.tally
	fmt.Fprintf(w, "kmssim simulate: %d keys, %s to %s (%d months), seed %d\n",
		c.keys, c.start.Format(time.DateOnly), r.end.Format(time.DateOnly), c.months, c.seed)
	fmt.Fprintf(w, "\nRotations: %d\n", t.rotations[0]+t.rotations[1])
	fmt.Fprintf(w, "  %-26s %10d\n", "AUTOMATIC", t.rotations[0])
	fmt.Fprintf(w, "  %-26s %10d\n", "ON_DEMAND", t.rotations[1])

	var nref int
	codes := make([]string, 0, len(t.refusals))
	for code, byOp := range t.refusals {
		codes = append(codes, code)
		for _, n := range byOp {
			nref += n
		}
	}
	slices.Sort(codes)
	var calls int
	for _, n := range t.calls {
		calls += n
	}
	fmt.Fprintf(w, "\nRefusals: %d of %d calls\n", nref, calls)
	for _, code := range codes {
		byOp := t.refusals[code]
		ops := make([]string, 0, len(byOp))
		n := 0
		for op, k := range byOp {
			ops = append(ops, op)
			n += k
		}
		slices.Sort(ops)
		fmt.Fprintf(w, "  %-26s %10d\n", code, n)
		for _, op := range ops {
			fmt.Fprintf(w, "    %-24s %10d\n", op, byOp[op])
		}
	}

	fmt.Fprintf(w, "\nKeys by state:\n")
	for _, st := range []string{"Enabled", "Disabled", "PendingDeletion", "Deleted"} {
		fmt.Fprintf(w, "  %-26s %10d\n", st, r.states[st])
	}
	for st, n := range r.states { // any other state, should one appear
		switch st {
		case "Enabled", "Disabled", "PendingDeletion", "Deleted":
		default:
			fmt.Fprintf(w, "  %-26s %10d\n", st, n)
		}
	}
	fmt.Fprintf(w, "\nSimulated in %.2fs\n", elapsed.Seconds())
}

// writeCSV writes the monthly timeline: month, rotations by type, total.
func (t *tally) writeCSV(w io.Writer) error {
	var b strings.Builder
	b.WriteString("month,automatic,on_demand,total\n")
	for m := 0; m < t.months; m++ {
		fmt.Fprintf(&b, "%s,%d,%d,%d\n", t.start.AddDate(0, m, 0).Format("2006-01"), t.auto[m], t.onDemand[m], t.auto[m]+t.onDemand[m])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// progress draws progress bars on a terminal, one line per phase of the
// run: creating the fleet, then simulating the months. What it draws
// depends only on the counts it is given, never on the wall clock, so it
// is the same on every run.
type progress struct {
	w       io.Writer
	enabled bool
	last    int  // the percentage last drawn in this phase, or -1
	open    bool // a bar is drawn and its line not ended
}

func newProgress(mode string, stderr io.Writer) *progress {
	p := &progress{w: stderr, last: -1}
	switch mode {
	case "always":
		p.enabled = true
	case "auto":
		if f, ok := stderr.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				p.enabled = true
			}
		}
	}
	return p
}

// creating draws the bar of the fleet's creation, done of total keys
// created; the bar's line ends when done reaches total.
func (p *progress) creating(done, total int) {
	if p.due(done, total) {
		p.draw(done, total, fmt.Sprintf("creating keys %d/%d", done, total))
	}
	if done == total {
		p.done()
	}
}

// update draws the bar of the simulation, done of total months simulated.
func (p *progress) update(done, total int, now time.Time, rotations int) {
	if p.due(done, total) {
		p.draw(done, total, fmt.Sprintf("%s  %d rotations", now.Format("2006-01"), rotations))
	}
}

// due reports whether the bar should be drawn again: when it is enabled
// and the percentage has changed, or at the end.
func (p *progress) due(done, total int) bool {
	if !p.enabled {
		return false
	}
	pct := done * 100 / total
	if pct == p.last && done != total {
		return false
	}
	p.last = pct
	return true
}

func (p *progress) draw(done, total int, text string) {
	const width = 40
	filled := done * width / total
	fmt.Fprintf(p.w, "\r[%s%s] %3d%% %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done*100/total, text)
	p.open = true
}

// done ends the line of the bar drawn, if any; the next bar starts a new
// phase on a new line.
func (p *progress) done() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
	p.last = -1
}
