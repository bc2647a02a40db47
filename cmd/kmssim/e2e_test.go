package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsmodel/kmsmodel/internal/etcdtest"
)

// The end-to-end cluster tests: three kmssim serve --etcd processes over a
// three-member etcd cluster whose members are child processes, driven by
// AWS SDK clients spread over the nodes, with nodes and members killed
// (SIGKILL) and restarted.

var (
	kmssimBinOnce sync.Once
	kmssimBinPath string
	kmssimBinErr  error
)

// kmssimBinary builds kmssim once per test binary run, in a directory
// TestMain removes.
func kmssimBinary(t testing.TB) string {
	t.Helper()
	kmssimBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kmssim-e2e-")
		if err != nil {
			kmssimBinErr = err
			return
		}
		kmssimBinPath = filepath.Join(dir, "kmssim")
		if out, err := exec.Command("go", "build", "-o", kmssimBinPath, ".").CombinedOutput(); err != nil {
			kmssimBinErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if kmssimBinErr != nil {
		t.Skipf("cannot build kmssim: %v", kmssimBinErr)
	}
	return kmssimBinPath
}

// etcdProcs is a three-member etcd cluster whose members run in child
// processes.
type etcdProcs struct {
	t       testing.TB
	configs []etcdtest.MemberConfig
	cmds    []*exec.Cmd // nil while killed
}

func startEtcdProcs(t testing.TB) *etcdProcs {
	t.Helper()
	configs, err := etcdtest.MemberConfigs(t.TempDir(), etcdtest.Config{Members: 3})
	if err != nil {
		t.Fatal(err)
	}
	e := &etcdProcs{t: t, configs: configs, cmds: make([]*exec.Cmd, 3)}
	var wg sync.WaitGroup
	for i := range configs {
		wg.Go(func() { e.cmds[i] = etcdtest.StartProcess(t, configs[i]) })
	}
	wg.Wait()
	for i := range e.cmds {
		if e.cmds[i] == nil {
			t.FailNow()
		}
	}
	return e
}

func (e *etcdProcs) endpoints() string {
	var eps []string
	for _, mc := range e.configs {
		eps = append(eps, mc.ClientURL)
	}
	return strings.Join(eps, ",")
}

// kill SIGKILLs member i.
func (e *etcdProcs) kill(i int) {
	e.cmds[i].Process.Kill()
	e.cmds[i].Wait()
	e.cmds[i] = nil
}

// restart starts member i again on its data directory.
func (e *etcdProcs) restart(i int) {
	mc := e.configs[i]
	mc.Existing = true
	e.cmds[i] = etcdtest.StartProcess(e.t, mc)
}

// node is one kmssim serve process, restarted on the same address.
type node struct {
	addr string
	args []string
	cmd  *exec.Cmd
	log  *syncBuffer
}

// startNode starts bin serve with args on addr ("127.0.0.1:0" the first
// time) and returns once it listens.
func startNode(t testing.TB, bin, addr string, args []string) *node {
	t.Helper()
	n := &node{args: args, log: &syncBuffer{}}
	n.cmd = exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd := n.cmd
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	addrRe := regexp.MustCompile(`addr=(\S+)`)
	for sc.Scan() {
		n.log.Write([]byte(sc.Text() + "\n"))
		if m := addrRe.FindStringSubmatch(sc.Text()); m != nil {
			n.addr = m[1]
			break
		}
	}
	if n.addr == "" {
		cmd.Wait()
		t.Fatalf("kmssim did not start: %s", n.log)
	}
	go func() {
		for sc.Scan() {
			n.log.Write([]byte(sc.Text() + "\n"))
		}
	}()
	return n
}

func (n *node) kill() {
	n.cmd.Process.Kill()
	n.cmd.Wait()
}

func (n *node) restart(t testing.TB, bin string) {
	t.Helper()
	*n = *startNode(t, bin, n.addr, n.args)
}

// waitReady polls GET /readyz until it answers 200.
func (n *node) waitReady(t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, body := httpGet(t, "http://"+n.addr+"/readyz")
		if code == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s not ready after %v: %d %s", n.addr, within, code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sdk returns an AWS SDK client of the node, with no retries (a call's
// outcome is what the node answered) and a timeout.
func sdk(addr string) *awskms.Client {
	return sdkOver(addr, http.DefaultTransport)
}

func sdkOver(addr string, rt http.RoundTripper) *awskms.Client {
	return awskms.New(awskms.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + addr),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "x", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   &http.Client{Timeout: 10 * time.Second, Transport: rt},
	})
}

// startCluster starts three kmssim nodes over e with extra args.
func startCluster(t testing.TB, bin string, e *etcdProcs, extra ...string) []*node {
	t.Helper()
	args := append([]string{"--etcd", e.endpoints(), "--wrapping-key-file", wrappingKeyFile(t), "--etcd-dial-timeout", "2s"}, extra...)
	nodes := make([]*node, 3)
	for i := range nodes {
		nodes[i] = startNode(t, bin, "127.0.0.1:0", args)
	}
	return nodes
}

// e2eEnv skips the end-to-end tests under -short and returns the built
// binary and a running etcd cluster of three child processes.
func e2eEnv(t *testing.T) (string, *etcdProcs) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end cluster test: builds kmssim, runs three etcd members and three nodes")
	}
	bin := kmssimBinary(t)
	return bin, startEtcdProcs(t)
}

// notSent reports whether err shows the request never reached a server
// (the connection was refused): the call certainly changed nothing. Any
// other failure leaves its outcome unknown.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// TestE2EQuota: 100 concurrent RotateKeyOnDemand on one key spread over
// three nodes: exactly the quota (10, decision D1) succeed, the others are
// LimitExceededException.
func TestE2EQuota(t *testing.T) {
	bin, e := e2eEnv(t)
	nodes := startCluster(t, bin, e, "--etcd-prefix", "quota/")
	ctx := context.Background()
	ck, err := sdk(nodes[0].addr).CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := ck.KeyMetadata.KeyId
	var mu sync.Mutex
	var ok, limited int
	var other []error
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			_, err := sdk(nodes[i%3].addr).RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: id})
			var le *types.LimitExceededException
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.As(err, &le):
				limited++
			default:
				other = append(other, err)
			}
		})
	}
	wg.Wait()
	if ok != 10 || limited != 90 || other != nil {
		t.Fatalf("%d succeeded, %d LimitExceededException, others %v; want 10 and 90", ok, limited, other)
	}
	for _, n := range nodes {
		if got := rotations(t, sdk(n.addr), *id); got != 10 {
			t.Errorf("node %s lists %d rotations, want 10", n.addr, got)
		}
	}
}

// rotations counts a key's rotations as node c lists them.
func rotations(t *testing.T, c *awskms.Client, id string) int {
	t.Helper()
	out, err := c.ListKeyRotations(context.Background(), &awskms.ListKeyRotationsInput{KeyId: &id, Limit: aws.Int32(1000)})
	if err != nil {
		t.Fatalf("ListKeyRotations %s: %v", id, err)
	}
	return len(out.Rotations)
}

// ledgerKey is what the clients know of one key they created.
type ledgerKey struct {
	id string
	// enabled is the state of the last Enable/DisableKey, known when the
	// last one was acknowledged (stateKnown).
	enabled, stateKnown bool
	rotAcked, rotUnsure int
	aliases             []string // acknowledged CreateAlias
}

// ledger records every acknowledged write of the fault test.
type ledger struct {
	mu           sync.Mutex
	keys         []*ledgerKey
	createUnsure int // CreateKey calls of unknown outcome
	// probes and probeUnsure count serving's CreateKey calls.
	probes, probeUnsure    int
	acked, unsure, refused int
}

func (l *ledger) count(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err == nil:
		l.acked++
	case notSent(err):
		l.refused++
	default:
		l.unsure++
	}
}

// faultClient runs writes on keys of its own, each on a random node, until
// stop is closed.
func faultClient(ctx context.Context, r *rand.Rand, clients []*awskms.Client, l *ledger, name string, stop <-chan struct{}) {
	var mine []*ledgerKey
	var aliasSeq int
	for {
		select {
		case <-stop:
			return
		default:
		}
		c := clients[r.IntN(len(clients))]
		if len(mine) == 0 || len(mine) < 2 && r.IntN(10) == 0 {
			out, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
			l.count(err)
			switch {
			case err == nil:
				k := &ledgerKey{id: *out.KeyMetadata.KeyId, enabled: true, stateKnown: true}
				mine = append(mine, k)
				l.mu.Lock()
				l.keys = append(l.keys, k)
				l.mu.Unlock()
			case !notSent(err):
				l.mu.Lock()
				l.createUnsure++
				l.mu.Unlock()
			}
			continue
		}
		k := mine[r.IntN(len(mine))]
		switch r.IntN(3) {
		case 0:
			aliasSeq++
			a := fmt.Sprintf("alias/%s-%d", name, aliasSeq)
			_, err := c.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: &a, TargetKeyId: &k.id})
			l.count(err)
			if err == nil {
				l.mu.Lock()
				k.aliases = append(k.aliases, a)
				l.mu.Unlock()
			}
		case 1:
			var err error
			if k.enabled {
				_, err = c.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: &k.id})
			} else {
				_, err = c.EnableKey(ctx, &awskms.EnableKeyInput{KeyId: &k.id})
			}
			l.count(err)
			l.mu.Lock()
			switch {
			case err == nil:
				k.enabled, k.stateKnown = !k.enabled, true
			case !notSent(err):
				k.stateKnown = false
			}
			l.mu.Unlock()
		case 2:
			if k.rotAcked+k.rotUnsure >= 8 || !k.enabled || !k.stateKnown {
				continue
			}
			_, err := c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: &k.id})
			l.count(err)
			l.mu.Lock()
			switch {
			case err == nil:
				k.rotAcked++
			case !notSent(err):
				k.rotUnsure++
			}
			l.mu.Unlock()
		}
	}
}

// e2eTrials is the number of fault trials: 30, or KMSSIM_E2E_TRIALS.
func e2eTrials(t *testing.T) int {
	if v := os.Getenv("KMSSIM_E2E_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("KMSSIM_E2E_TRIALS=%q: want a positive count", v)
		}
		return n
	}
	if raceEnabled {
		// The race detector slows the etcd members (child processes of the
		// race-built test binary) several times over: the default run
		// does the 30 trials.
		return 6
	}
	return 30
}

// TestE2EFaults: the fault test of issue 18. In each trial 8–64 clients
// write (CreateKey, CreateAlias, DisableKey/EnableKey, RotateKeyOnDemand)
// through nodes chosen at random, while a random kmssim node, or in other
// trials a random etcd member, is SIGKILLed at a random moment and
// restarted. While two etcd members are up, every node acknowledges a
// write within seconds. Afterwards every acknowledged write is present on
// every node, read through each, and none applied twice: each key's
// rotations number its acknowledged RotateKeyOnDemand calls (plus at most
// those of unknown outcome), and the key count is at most the CreateKey
// calls that may have succeeded.
func TestE2EFaults(t *testing.T) {
	bin, e := e2eEnv(t)
	nodes := startCluster(t, bin, e, "--etcd-prefix", "faults/")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 18))
	ctx := context.Background()
	l := &ledger{}
	trials := e2eTrials(t)
	var nodeKills, memberKills int
	var maxServe time.Duration
	trialsBegan := time.Now()
	defer func() { t.Logf("trials took %v", time.Since(trialsBegan)) }()
	for trial := range trials {
		var up []*awskms.Client
		for _, n := range nodes {
			up = append(up, sdk(n.addr))
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		nClients := 8 + r.IntN(57)
		for c := range nClients {
			cr := rand.New(rand.NewPCG(r.Uint64(), uint64(c)))
			wg.Go(func() { faultClient(ctx, cr, up, l, fmt.Sprintf("t%dc%d", trial, c), stop) })
		}
		time.Sleep(time.Duration(20+r.IntN(120)) * time.Millisecond)
		victim := r.IntN(3)
		if r.IntN(2) == 0 {
			nodeKills++
			nodes[victim].kill()
			time.Sleep(time.Duration(r.IntN(100)) * time.Millisecond)
			nodes[victim].restart(t, bin)
		} else {
			memberKills++
			e.kill(victim)
			// A majority is up: every node acknowledges a write. A write
			// that was in flight to a killed leader is known lost only after
			// etcd's request timeout (about 5 s): a node's commits wait for
			// it meanwhile.
			for _, n := range nodes {
				if d := serving(t, n, l, 15*time.Second); d > maxServe {
					maxServe = d
				}
			}
			time.Sleep(time.Duration(r.IntN(100)) * time.Millisecond)
			e.restart(victim)
		}
		t0 := time.Now()
		for _, n := range nodes {
			n.waitReady(t, 10*time.Second)
		}
		if d := time.Since(t0); d > time.Second {
			t.Logf("trial %d: ready after %v", trial, d)
		}
		close(stop)
		wg.Wait()
	}
	began := time.Now()
	defer func() { t.Logf("checked through every node in %v", time.Since(began)) }()
	t.Logf("%d trials (%d kmssim nodes and %d etcd members killed): %d writes acknowledged, %d of unknown outcome, %d refused connections; %d keys; with a member down, every node acknowledged a write within %v",
		trials, nodeKills, memberKills, l.acked, l.unsure, l.refused, len(l.keys), maxServe)
	checkLedger(t, nodes, l)
}

// serving makes n acknowledge a CreateKey within d, and returns how long
// that took.
func serving(t *testing.T, n *node, l *ledger, d time.Duration) time.Duration {
	t.Helper()
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var err error
	for ctx.Err() == nil {
		_, err = sdk(n.addr).CreateKey(ctx, &awskms.CreateKeyInput{Description: aws.String("probe")})
		l.mu.Lock()
		switch {
		case err == nil:
			l.probes++
		case !notSent(err):
			l.probeUnsure++
		}
		l.mu.Unlock()
		if err == nil {
			return time.Since(began)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("node %s acknowledged no write within %v with a majority of etcd up: %v\nits log:\n%s", n.addr, d, err, n.log)
	return 0
}

// checkLedger reads every acknowledged write through every node.
func checkLedger(t *testing.T, nodes []*node, l *ledger) {
	t.Helper()
	ctx := context.Background()
	for _, n := range nodes {
		// A transport of its own (no connection kept from the trials), and
		// the SDK's standard retries: the check only reads, and a read
		// whose connection broke (seen rarely on ListKeys' large answers
		// while the machine is loaded) is read again.
		c := awskms.New(awskms.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String("http://" + n.addr),
			Credentials:  credentials.NewStaticCredentialsProvider("AKID", "x", ""),
			Retryer:      retry.NewStandard(),
			HTTPClient:   &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		})
		var listed int
		p := awskms.NewListKeysPaginator(c, &awskms.ListKeysInput{Limit: aws.Int32(1000)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			listed += len(out.Keys)
		}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < len(l.keys); i += 8 {
					checkKey(t, c, n.addr, l.keys[i])
				}
			})
		}
		wg.Wait()
		// The probe keys of serving are acknowledged writes too.
		if lo, hi := len(l.keys)+l.probes, len(l.keys)+l.probes+l.createUnsure+l.probeUnsure; listed < lo || listed > hi {
			t.Errorf("node %s lists %d keys; want %d to %d (acknowledged, plus those of unknown outcome)", n.addr, listed, lo, hi)
		}
	}
}

// checkKey reads key k through node c: it exists, has its last
// acknowledged state, its acknowledged rotations and aliases.
func checkKey(t *testing.T, c *awskms.Client, addr string, k *ledgerKey) {
	ctx := context.Background()
	d, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: &k.id})
	if err != nil {
		t.Errorf("node %s: acknowledged key %s: %v", addr, k.id, err)
		return
	}
	if k.stateKnown && d.KeyMetadata.Enabled != k.enabled {
		t.Errorf("node %s: key %s Enabled %v, want %v (last acknowledged)", addr, k.id, d.KeyMetadata.Enabled, k.enabled)
	}
	out, err := c.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: &k.id, Limit: aws.Int32(1000)})
	if err != nil {
		t.Errorf("node %s: ListKeyRotations %s: %v", addr, k.id, err)
	} else if got := len(out.Rotations); got < k.rotAcked || got > k.rotAcked+k.rotUnsure {
		t.Errorf("node %s: key %s has %d rotations; %d acknowledged, %d of unknown outcome", addr, k.id, got, k.rotAcked, k.rotUnsure)
	}
	for _, a := range k.aliases {
		d, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: &a})
		if err != nil || *d.KeyMetadata.KeyId != k.id {
			t.Errorf("node %s: acknowledged %s → %s resolves to %v, %v", addr, a, k.id, d, err)
		}
	}
}

// advanceTo posts KmsModel.AdvanceClock {"To": t} to addr and reports
// whether the node answered 200.
func advanceTo(addr string, t time.Time) bool {
	body := fmt.Sprintf(`{"To":%d}`, t.Unix())
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "KmsModel.AdvanceClock")
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == 200
}

// TestE2EScheduledEventsOnce: with --clock manual, the cluster's clock
// moves by KmsModel.AdvanceClock on one node at a time while random nodes
// are SIGKILLed (at random moments, the advancing one too) and restarted;
// automatic rotations fall due every 90 days and deletions after their
// 7-day window. Afterwards every node lists each rotating key's automatic
// rotations once each, at their own instants (none skipped, none twice),
// and the deleted keys are gone.
func TestE2EScheduledEventsOnce(t *testing.T) {
	bin, e := e2eEnv(t)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	nodes := startCluster(t, bin, e, "--etcd-prefix", "sched/", "--clock", "manual", "--start", start.Format(time.RFC3339))
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	ctx := context.Background()
	var rotating, deleted []string
	for i := range 12 {
		c := sdk(nodes[i%3].addr)
		out, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		id := out.KeyMetadata.KeyId
		if i%4 == 3 {
			if _, err := c.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(7)}); err != nil {
				t.Fatal(err)
			}
			deleted = append(deleted, *id)
			continue
		}
		if _, err := c.EnableKeyRotation(ctx, &awskms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: aws.Int32(90)}); err != nil {
			t.Fatal(err)
		}
		rotating = append(rotating, *id)
	}
	const step, steps = 20, 20 // days; 400 days in all
	var kills int
	for s := 1; s <= steps; s++ {
		target := start.AddDate(0, 0, step*s)
		var victim = -1
		var wg sync.WaitGroup
		if r.IntN(2) == 0 {
			victim = r.IntN(3)
			delay := time.Duration(r.IntN(30)) * time.Millisecond
			wg.Go(func() {
				time.Sleep(delay)
				nodes[victim].kill()
			})
			kills++
		}
		first := r.IntN(3)
		ok := advanceTo(nodes[first].addr, target)
		wg.Wait()
		for i := 0; !ok; i++ {
			if i == 50 {
				t.Fatalf("no node moved the clock to %v", target)
			}
			if n := (first + 1 + i) % 3; n != victim {
				ok = advanceTo(nodes[n].addr, target)
			}
		}
		if victim >= 0 {
			nodes[victim].restart(t, bin)
			nodes[victim].waitReady(t, 10*time.Second)
		}
	}
	t.Logf("%d steps of %d days, %d nodes killed", steps, step, kills)
	for _, n := range nodes {
		c := sdk(n.addr)
		for _, id := range rotating {
			out, err := c.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: &id})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rot := range out.Rotations {
				got = append(got, string(rot.RotationType)+"@"+rot.RotationDate.UTC().Format(time.DateOnly))
			}
			var want []string
			for i := 1; i <= 4; i++ {
				want = append(want, "AUTOMATIC@"+start.AddDate(0, 0, 90*i).Format(time.DateOnly))
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("node %s: key %s rotations %v, want %v", n.addr, id, got, want)
			}
		}
		for _, id := range deleted {
			_, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: &id})
			var nf *types.NotFoundException
			if !errors.As(err, &nf) {
				t.Errorf("node %s: key %s deleted after its 7-day window: DescribeKey %v, want NotFoundException", n.addr, id, err)
			}
		}
	}
}
