package kmshttp_test

import (
	"bufio"
	"context"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsmodel/kmsmodel/internal/proctest"
)

// BenchmarkLoopbackServerCPU measures the server side of real traffic:
// kmssim serve --mem runs as a child process, 8 goroutines drive it over
// loopback with the AWS SDK (DescribeKey), and the server's CPU time per
// request is read from /proc/<pid>/stat before and after. It reports
// server-µs/req (target ≤ 100) and req/s. It runs only when named in
// -bench (it builds cmd/kmssim), and is skipped where the build or /proc
// is not available:
//
//	go test -run '^$' -bench LoopbackServerCPU -benchtime 20000x ./kms/kmshttp
func BenchmarkLoopbackServerCPU(b *testing.B) {
	onlyWhenAsked(b, "LoopbackServerCPU")
	srv := startKmssim(b, buildKmssim(b), "--mem")

	const clients = 8
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}
	c := sdkClient(hc, "http://"+srv.addr, accessKey, region)
	ctx := context.Background()
	ids := make([]string, 256)
	for i := range ids {
		out, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = aws.ToString(out.KeyMetadata.KeyId)
	}

	b.ResetTimer()
	before, _ := proctest.CPU(srv.pid)
	began := time.Now()
	var wg sync.WaitGroup
	var next, failed int64
	var mu sync.Mutex
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= int64(b.N) {
					return
				}
				if _, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(ids[i%int64(len(ids))])}); err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	after, _ := proctest.CPU(srv.pid)
	b.StopTimer()
	if failed > 0 {
		b.Fatalf("%d requests failed", failed)
	}
	b.ReportMetric(float64(after-before)/float64(time.Microsecond)/float64(b.N), "server-µs/req")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}

// onlyWhenAsked skips b unless -bench names it (word in its pattern):
// benchmarks that build and start kmssim run only when asked for.
func onlyWhenAsked(b *testing.B, word string) {
	if pat := flag.Lookup("test.bench"); pat == nil || !strings.Contains(pat.Value.String(), word) {
		b.Skip("runs only when asked for: -bench " + word)
	}
}

// buildKmssim builds cmd/kmssim into a temporary directory, or skips b.
func buildKmssim(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "kmssim")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/kmsmodel/kmsmodel/cmd/kmssim").CombinedOutput(); err != nil {
		b.Skipf("cannot build cmd/kmssim: %v\n%s", err, out)
	}
	return bin
}

// kmssimProcess is a kmssim serve child process.
type kmssimProcess struct {
	addr string
	pid  int
}

// startKmssim starts bin serve with args on a free loopback port, waits
// until it listens, and stops it when b ends. It skips b where /proc CPU
// accounting is not available. KMSMODEL_SERVER_GOMAXPROCS, when set, is
// the server's GOMAXPROCS (the clients keep the test's).
func startKmssim(b *testing.B, bin string, args ...string) kmssimProcess {
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "info"}, args...)...)
	if procs := os.Getenv("KMSMODEL_SERVER_GOMAXPROCS"); procs != "" {
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+procs)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	// The server logs its address once it listens: no polling needed.
	sc := bufio.NewScanner(stderr)
	addrRe := regexp.MustCompile(`addr=(\S+)`)
	var addr string
	for sc.Scan() {
		if m := addrRe.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
			break
		}
	}
	if addr == "" {
		b.Fatal("the server did not log its address")
	}
	go func() {
		for sc.Scan() { // keep draining the log
		}
	}()
	if _, err := proctest.CPU(cmd.Process.Pid); err != nil {
		b.Skipf("no /proc CPU accounting: %v", err)
	}
	return kmssimProcess{addr: addr, pid: cmd.Process.Pid}
}

// loopbackRun drives srv with clients goroutines making n calls of call(i)
// in all, and returns the calls per second and the server's CPU time per
// call.
func loopbackRun(b *testing.B, srv kmssimProcess, clients, n int, call func(i int) error) (perSec float64, cpuPerCall time.Duration) {
	before, _ := proctest.CPU(srv.pid)
	began := time.Now()
	err := proctest.Drive(clients, n, call)
	elapsed := time.Since(began)
	after, _ := proctest.CPU(srv.pid)
	if err != nil {
		b.Fatal(err)
	}
	return float64(n) / elapsed.Seconds(), (after - before) / time.Duration(n)
}

// BenchmarkLoopbackDurable compares kmssim serve --db (bbolt, every write
// fsynced, concurrent writes grouped into one commit) with serve --mem,
// in one run: 8 AWS SDK clients over loopback make b.N CreateKey calls
// against each server, then b.N/2 DisableKey+EnableKey pairs (one pair
// per key a client owns). It reports each rate's ratio --db/--mem (targets
// ≥ 0.5 for CreateKey, ≥ 0.4 for the pairs) and the --db server's CPU per
// durable write (target ≤ 100 µs). It runs only when named in -bench:
//
//	go test -run '^$' -bench LoopbackDurable -benchtime 4000x ./kms/kmshttp
func BenchmarkLoopbackDurable(b *testing.B) {
	onlyWhenAsked(b, "LoopbackDurable")
	bin := buildKmssim(b)
	const clients = 8
	servers := []kmssimProcess{
		startKmssim(b, bin, "--mem"),
		startKmssim(b, bin, "--db", filepath.Join(b.TempDir(), "kms.db")),
	}
	ctx := context.Background()
	var creates, pairs [2]float64
	var createCPU, pairCPU [2]time.Duration
	b.ResetTimer()
	for i, srv := range servers {
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}
		c := sdkClient(hc, "http://"+srv.addr, accessKey, region)
		ids := make([]string, b.N)
		creates[i], createCPU[i] = loopbackRun(b, srv, clients, b.N, func(j int) error {
			out, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
			if err == nil {
				ids[j] = aws.ToString(out.KeyMetadata.KeyId)
			}
			return err
		})
		pairs[i], pairCPU[i] = loopbackRun(b, srv, clients, max(1, b.N/2), func(j int) error {
			id := aws.String(ids[j])
			if _, err := c.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: id}); err != nil {
				return err
			}
			_, err := c.EnableKey(ctx, &awskms.EnableKeyInput{KeyId: id})
			return err
		})
	}
	b.StopTimer()
	b.ReportMetric(creates[1]/creates[0], "db/mem-CreateKey")
	b.ReportMetric(pairs[1]/pairs[0], "db/mem-DisableEnable")
	b.ReportMetric(creates[0], "mem-CreateKey/s")
	b.ReportMetric(creates[1], "db-CreateKey/s")
	b.ReportMetric(float64(createCPU[0])/float64(time.Microsecond), "mem-server-µs/CreateKey")
	b.ReportMetric(float64(createCPU[1])/float64(time.Microsecond), "db-server-µs/CreateKey")
	b.ReportMetric(float64(pairCPU[1]-pairCPU[0])/2/float64(time.Microsecond), "db-extra-server-µs/write")
	b.ReportMetric(float64(pairCPU[1])/2/float64(time.Microsecond), "db-server-µs/write")
}
