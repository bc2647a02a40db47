package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
)

// rawRequest is a signed-enough AWS JSON 1.1 request for a raw socket.
func rawRequest(target, body string) string {
	return "POST / HTTP/1.1\r\nHost: kms\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: " + target +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// readResponse reads one response from c, waiting until deadline.
func readResponse(c net.Conn, br *bufio.Reader, deadline time.Time) (*http.Response, []byte, error) {
	_ = c.SetReadDeadline(deadline)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	return res, b, err
}

// awsShaped reports whether a response is an AWS JSON 1.1 refusal named
// code: the X-Amzn-Errortype header and a {"__type","message"} body.
func awsShaped(res *http.Response, body []byte, code string) error {
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body %q is not JSON: %v", body, err)
	}
	if res.Header.Get("Content-Type") != "application/x-amz-json-1.1" || res.Header.Get("X-Amzn-Errortype") != code ||
		m["__type"] != code || m["message"] == "" || res.Header.Get("X-Amzn-Requestid") == "" {
		return fmt.Errorf("%d %v %s, want an AWS-shaped %s", res.StatusCode, res.Header, body, code)
	}
	return nil
}

// TestServeRefusalsAWSShaped is issue 12 item 6: the refusals net/http
// writes before any handler runs (a header block over the limit: 431; a
// request without Host: 400) have AWS's shape, not Go's plain text.
func TestServeRefusalsAWSShaped(t *testing.T) {
	addr, stop, logs := startServe(t, "--mem")
	defer stop()
	for _, tc := range []struct {
		name, req string
		status    int
		code      string
	}{
		{"header block over 1 MiB", "POST / HTTP/1.1\r\nHost: kms\r\nX-Pad: " + strings.Repeat("a", 2<<20) + "\r\n\r\n",
			http.StatusRequestHeaderFieldsTooLarge, "RequestEntityTooLargeException"},
		{"no Host header", "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", http.StatusBadRequest, "BadRequestException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			go func() { _, _ = io.WriteString(c, tc.req) }() // the server may stop reading early
			res, body, err := readResponse(c, bufio.NewReader(c), time.Now().Add(10*time.Second))
			if err != nil {
				t.Fatalf("%v\n%s", err, logs)
			}
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d", res.StatusCode, tc.status)
			}
			if err := awsShaped(res, body, tc.code); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestServeShutdownCutsStalledClients is issue 12 item 5's shutdown
// clause: a client stalled in its body, and one stalled in its headers,
// do not hold a graceful shutdown to its timeout: serve exits 0 at once.
func TestServeShutdownCutsStalledClients(t *testing.T) {
	addr, stop, logs := startServe(t, "--mem", "--shutdown-timeout", "20s")
	body, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	// Expect: 100-continue makes the server say when the handler starts
	// reading the body, so the test knows the body read is under way.
	if _, err := io.WriteString(body, "POST / HTTP/1.1\r\nHost: kms\r\nX-Amz-Target: TrentService.ListKeys\r\n"+
		"Expect: 100-continue\r\nContent-Length: 1000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(body)
	_ = body.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("want 100 Continue, got %q %v", line, err)
	}
	if _, err := br.ReadString('\n'); err != nil { // the blank line
		t.Fatal(err)
	}
	if _, err := io.WriteString(body, `{"Limit":`); err != nil {
		t.Fatal(err)
	}
	header, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer header.Close()
	if _, err := io.WriteString(header, "POST / HTTP/1.1\r\nHost: kms\r\n"); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if code := stop(); code != exitOK {
		t.Errorf("exit %d after %v, want 0:\n%s", code, time.Since(began), logs)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("shutdown took %v with stalled clients, want well under the 20s timeout", d)
	}
	// The stalled body's request was refused, or its connection closed.
	if res, b, err := readResponse(body, br, time.Now().Add(5*time.Second)); err == nil {
		if err := awsShaped(res, b, "RequestAbortedException"); err != nil {
			t.Error(err)
		}
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("the stalled body's connection is still open: %v", err)
	}
}

// TestServeConnectionCap is issue 12 item 5's connection cap: with
// --max-conns 2 and two keep-alive connections open, a third client is
// not served until one of them closes.
func TestServeConnectionCap(t *testing.T) {
	addr, stop, logs := startServe(t, "--mem", "--max-conns", "2")
	defer stop()
	var open []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, rawRequest("TrentService.ListKeys", "{}")); err != nil {
			t.Fatal(err)
		}
		if res, b, err := readResponse(c, bufio.NewReader(c), time.Now().Add(5*time.Second)); err != nil || res.StatusCode != 200 {
			t.Fatalf("%v %s\n%s", err, b, logs)
		}
		open = append(open, c)
	}
	third, err := net.Dial("tcp", addr) // completes in the kernel's accept queue
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if _, err := io.WriteString(third, rawRequest("TrentService.ListKeys", "{}")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(third)
	if _, _, err := readResponse(third, br, time.Now().Add(300*time.Millisecond)); err == nil {
		t.Fatal("a third connection was served while two were open under --max-conns 2")
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("third connection: %v, want no answer yet", err)
	}
	open[0].Close()
	if res, b, err := readResponse(third, br, time.Now().Add(5*time.Second)); err != nil || res.StatusCode != 200 {
		t.Fatalf("third connection after one closed: %v %s", err, b)
	}
}

// liveMemory is the heap in use and the goroutine stacks, after a GC.
func liveMemory() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

// hostileAttack is one attack of issue 12 item 5 under way (see attack).
type hostileAttack struct {
	addr    string
	logs    *syncBuffer
	hostile []net.Conn
	held    uint64    // growth of live heap and stacks while the connections opened
	bound   uint64    // kmshttp.MemoryBound of the server's limits
	began   time.Time // when the first hostile connection was dialled
	giveUp  time.Time // past it, the test gives up waiting on a connection
}

// attack starts a kmssim serve --mem and opens 3 × perKind hostile
// connections to it: idle keep-alives, slow 30 KiB header blocks and
// stalled 1 MiB bodies, the server's timeouts all 4 seconds. It records
// the growth of live memory they caused beside its stated bound
// (kmshttp.MemoryBound). The connections and the server end with tb.
func attack(tb testing.TB, perKind int) *hostileAttack {
	tb.Helper()
	raiseFileLimit(tb, uint64(3*perKind*2+512))
	limits := kmshttp.Limits{ReadHeaderTimeout: 4 * time.Second, ReadTimeout: 4 * time.Second,
		WriteTimeout: 4 * time.Second, IdleTimeout: 4 * time.Second, MaxConns: 3*perKind + 100}
	a := &hostileAttack{bound: uint64(kmshttp.MemoryBound(limits, kmshttp.DefaultBodyMemory))}
	before := liveMemory()
	addr, stop, logs := startServe(tb, "--mem", "--max-conns", strconv.Itoa(limits.MaxConns),
		"--read-header-timeout", "4s", "--read-timeout", "4s", "--write-timeout", "4s", "--idle-timeout", "4s")
	tb.Cleanup(func() { stop() })
	a.addr, a.logs = addr, logs
	a.began = time.Now()
	a.giveUp = a.began.Add(50 * time.Second) // the test ends by itself
	tb.Cleanup(func() {
		for _, c := range a.hostile {
			c.Close()
		}
	})
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			tb.Fatalf("dial after %d hostile connections: %v", len(a.hostile), err)
		}
		a.hostile = append(a.hostile, c)
		return c
	}
	// Idle keep-alives: one request answered, then silence.
	for range perKind {
		c := dial()
		if _, err := io.WriteString(c, rawRequest("TrentService.GenerateRandom", `{"NumberOfBytes":16}`)); err != nil {
			tb.Fatal(err)
		}
		if res, _, err := readResponse(c, bufio.NewReader(c), a.giveUp); err != nil || res.StatusCode != 200 {
			tb.Fatalf("keep-alive request: %v", err)
		}
	}
	// Slow headers: 30 KiB of one header line, never finished.
	pad := "POST / HTTP/1.1\r\nHost: kms\r\nX-Pad: " + strings.Repeat("p", 30<<10)
	for range perKind {
		c := dial()
		_ = c.SetWriteDeadline(a.giveUp)
		if _, err := io.WriteString(c, pad); err != nil {
			tb.Fatal(err)
		}
	}
	// Stalled bodies: a 1 MiB body announced, half of it sent.
	half := make([]byte, 512<<10)
	for range perKind {
		c := dial()
		_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: kms\r\nX-Amz-Target: TrentService.Encrypt\r\nContent-Length: 1048576\r\n\r\n")
		_, _ = c.Write(half) // refused bodies are cut short by the server
	}
	a.held = liveMemory() - before
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	tb.Logf("%d hostile connections open after %v; live heap+stacks grew by %.1f MiB (bound %.1f MiB); Sys %.1f MiB",
		len(a.hostile), time.Since(a.began), float64(a.held)/(1<<20), float64(a.bound)/(1<<20), float64(ms.Sys)/(1<<20))
	return a
}

// goodRequests sends n GenerateRandom requests one after another, as a
// client unaffected by the attack, and returns their latencies, sorted.
// Each must be answered, within the client's 5-second timeout.
func (a *hostileAttack) goodRequests(tb testing.TB, n int) []time.Duration {
	tb.Helper()
	hc := &http.Client{Timeout: 5 * time.Second}
	lat := make([]time.Duration, 0, n)
	for range n {
		req, _ := http.NewRequest(http.MethodPost, "http://"+a.addr+"/", strings.NewReader(`{"NumberOfBytes":32}`))
		req.Header.Set("X-Amz-Target", "TrentService.GenerateRandom")
		t0 := time.Now()
		res, err := hc.Do(req)
		if err != nil {
			tb.Fatalf("a good client during the attack: %v\n%s", err, a.logs)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		lat = append(lat, time.Since(t0))
		if res.StatusCode != 200 {
			tb.Fatalf("a good client during the attack: status %d", res.StatusCode)
		}
	}
	slices.Sort(lat)
	return lat
}

// TestServeHostileConnections is issue 12 item 5's acceptance test, but
// for its latency target: 2,100 hostile connections (700 of each kind,
// see attack) hold no more memory than kmshttp.MemoryBound states, every
// request of another client is answered meanwhile, and the timeouts close
// every hostile connection. The latency of the other client's requests
// (p99 ≤ 100 ms) is BenchmarkServeUnderHostileConnections's, since a
// timed assertion fails whenever the machine is busy.
func TestServeHostileConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 2,100 connections")
	}
	a := attack(t, 700)
	if !raceEnabled && a.held > a.bound {
		t.Errorf("hostile connections hold %d bytes, over the stated bound of %d", a.held, a.bound)
	}
	lat := a.goodRequests(t, 200)
	t.Logf("good client: p50 %v, p99 %v, max %v", lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
	hostile, began, giveUp := a.hostile, a.began, a.giveUp

	// The server's timeouts close every hostile connection.
	buf := make([]byte, 64<<10)
	for i, c := range hostile {
		_ = c.SetReadDeadline(giveUp)
		for {
			_, err := c.Read(buf)
			if err == nil {
				continue // a refusal (ThrottlingException, RequestAbortedException) before the close
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("hostile connection %d still open after %v", i, time.Since(began))
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
				t.Logf("hostile connection %d: %v", i, err)
			}
			break
		}
	}
	t.Logf("every hostile connection closed by the server %v after the attack began", time.Since(began))
}

// BenchmarkServeUnderHostileConnections: issue 12 item 5's latency
// target. During the attack of TestServeHostileConnections (2,100
// hostile connections), another client's requests are answered within
// 100 ms at the 99th percentile (reported as p99-ms). The attack's
// connections close after their 4-second timeouts, so keep the requests
// few enough to end before that:
//
//	go test ./cmd/kmssim -run '^$' -bench ServeUnderHostileConnections -benchtime 200x
func BenchmarkServeUnderHostileConnections(b *testing.B) {
	a := attack(b, 700)
	b.ResetTimer()
	lat := a.goodRequests(b, b.N)
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(time.Since(a.began).Seconds(), "attack-s")
}
