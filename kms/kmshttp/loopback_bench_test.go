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
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat
// (100 on Linux whatever the kernel's HZ).
const clockTicks = 100

// processCPU returns the user plus system CPU time the process pid has
// used, from /proc/<pid>/stat.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields resume after ')'.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	utime, err := strconv.ParseInt(fields[11], 10, 64) // field 14
	if err != nil {
		return 0, err
	}
	stime, err := strconv.ParseInt(fields[12], 10, 64) // field 15
	if err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

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
	if pat := flag.Lookup("test.bench"); pat == nil || !strings.Contains(pat.Value.String(), "Loopback") {
		b.Skip("runs only when asked for: -bench LoopbackServerCPU")
	}
	bin := filepath.Join(b.TempDir(), "kmssim")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/kmsmodel/kmsmodel/cmd/kmssim").CombinedOutput(); err != nil {
		b.Skipf("cannot build cmd/kmssim: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--mem", "--addr", "127.0.0.1:0", "--log-level", "info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
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
	if _, err := processCPU(cmd.Process.Pid); err != nil {
		b.Skipf("no /proc CPU accounting: %v", err)
	}

	const clients = 8
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}
	c := sdkClient(hc, "http://"+addr, accessKey, region)
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
	before, _ := processCPU(cmd.Process.Pid)
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
	after, _ := processCPU(cmd.Process.Pid)
	b.StopTimer()
	if failed > 0 {
		b.Fatalf("%d requests failed", failed)
	}
	b.ReportMetric(float64(after-before)/float64(time.Microsecond)/float64(b.N), "server-µs/req")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}
