package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net"
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
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// runCmd runs the command line and returns its exit code, stdout and
// stderr.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		code, out, _ := runCmd(t, args...)
		if code != exitOK || !strings.Contains(out, "Commands:") {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
	}
	for _, cmd := range []string{"serve", "simulate", "attest"} {
		for _, args := range [][]string{{cmd, "--help"}, {cmd, "-h"}, {"help", cmd}} {
			code, out, errOut := runCmd(t, args...)
			if code != exitOK || !strings.Contains(out, "Usage: kmssim "+cmd) || !strings.Contains(out, "Flags:") || errOut != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
			}
		}
	}
	if code, _, errOut := runCmd(t); code != exitUsage || !strings.Contains(errOut, "Usage:") {
		t.Errorf("no arguments: exit %d, stderr %q", code, errOut)
	}
}

// TestUsageErrors: a bad command line exits 2 and says what was wrong.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"help", "bogus"}, `unknown command "bogus"`},
		{[]string{"serve", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"serve", "extra"}, "unexpected argument extra"},
		{[]string{"serve", "--mem", "--db", "x.db"}, "--db and --mem are exclusive"},
		{[]string{"serve", "--clock", "sundial"}, `--clock "sundial"`},
		{[]string{"serve", "--start", "2024-01-01T00:00:00Z"}, "--start needs --clock manual"},
		{[]string{"serve", "--clock", "manual", "--start", "yesterday"}, `--start "yesterday"`},
		{[]string{"serve", "--account", "12"}, `--account "12"`},
		{[]string{"serve", "--region", "mars"}, `--region "mars"`},
		{[]string{"serve", "--access-key", "AKID"}, "want ACCESSKEYID=ACCOUNT"},
		{[]string{"serve", "--access-key", "AKID=arn:aws:iam::111122223333:group/admins"}, "or ACCESSKEYID=ARN"},
		{[]string{"serve", "--log-level", "loud"}, `--log-level "loud"`},
		{[]string{"serve", "--log-format", "xml"}, `--log-format "xml"`},
		{[]string{"serve", "--addr", "nowhere"}, `--addr "nowhere"`},
		{[]string{"serve", "--max-body", "0"}, "--max-body must be positive"},
		{[]string{"serve", "--body-memory", "0"}, "--body-memory must be positive"},
		{[]string{"serve", "--max-conns", "0"}, "--max-header-bytes and --max-conns must be positive"},
		{[]string{"serve", "--idle-timeout", "0s"}, "--idle-timeout must be positive"},
		{[]string{"simulate", "--keys", "0"}, "--keys must be between"},
		{[]string{"simulate", "--keys", "ten"}, `invalid value "ten" for flag -keys`},
		{[]string{"simulate", "--years", "0"}, "--years"},
		{[]string{"simulate", "--periods", "30,90"}, "30 days is outside 90–2560"},
		{[]string{"simulate", "--periods", "400-90"}, "range 400-90 is empty"},
		{[]string{"simulate", "--periods", "x"}, `"x" is not a number of days`},
		{[]string{"simulate", "--auto", "1.5"}, "--auto must be a share"},
		{[]string{"simulate", "--on-demand", "-1"}, "--on-demand, --disable and --delete"},
		{[]string{"simulate", "--disabled-days", "0"}, "--disabled-days"},
		{[]string{"simulate", "--start", "soon"}, `--start "soon"`},
		{[]string{"simulate", "--progress", "maybe"}, `--progress "maybe"`},
		{[]string{"simulate", "--rules", "2025"}, `--rules "2025": want 2024 or current`},
		{[]string{"serve", "--rules", "today"}, `--rules "today": want 2024 or current`},
		{[]string{"serve", "--on-demand-quota", "-1"}, "want a count from 0 to 65535"},
		{[]string{"serve", "--grants-per-key", "-1"}, "want a count, 0 or more"},
	} {
		code, out, errOut := runCmd(t, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q (want %q), stdout %q", tc.args, code, errOut, tc.want, out)
		}
	}
}

// TestSimulateExact: with only automatic rotation, a key with a 90-day
// period rotates on days 90, 180, 270 and 360 of a year, each in its own
// month (decision D13), and nothing is refused.
func TestSimulateExact(t *testing.T) {
	dir := t.TempDir()
	csvFile := filepath.Join(dir, "t.csv")
	code, out, errOut := runCmd(t, "simulate", "--keys", "10", "--years", "1", "--periods", "90",
		"--on-demand", "0", "--disable", "0", "--delete", "0", "--csv", csvFile)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Rotations: 40\n", "AUTOMATIC                          40", "ON_DEMAND                           0",
		"Refusals: 0 of 20 calls", "Enabled                            10"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(csvFile)
	if err != nil {
		t.Fatal(err)
	}
	// 2024 is a leap year: day 90 is Mar 31, 180 Jun 29, 270 Sep 27, 360 Dec 26.
	want := "month,automatic,on_demand,total\n2024-01,0,0,0\n2024-02,0,0,0\n2024-03,10,0,10\n2024-04,0,0,0\n2024-05,0,0,0\n" +
		"2024-06,10,0,10\n2024-07,0,0,0\n2024-08,0,0,0\n2024-09,10,0,10\n2024-10,0,0,0\n2024-11,0,0,0\n2024-12,10,0,10\n"
	if string(b) != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b, want)
	}
}

// TestSimulateDeterministic: the same seed gives the same simulation; the
// summary shows every kind of refusal the rates produce; the SVG is
// well-formed.
func TestSimulateDeterministic(t *testing.T) {
	dir := t.TempDir()
	svg := filepath.Join(dir, "t.svg")
	args := []string{"simulate", "--keys", "3000", "--years", "5", "--on-demand", "2", "--disable", "1", "--delete", "0.1", "--cancel", "0.5", "--periods", "90-400"}
	code, out1, errOut := runCmd(t, append(args, "--svg", svg)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, out2, _ := runCmd(t, args...)
	strip := regexp.MustCompile(`Simulated in .*`)
	if strip.ReplaceAllString(out1, "") != strip.ReplaceAllString(out2, "") {
		t.Errorf("two runs with one seed differ:\n%s\n%s", out1, out2)
	}
	_, out3, _ := runCmd(t, append(args, "--seed", "2")...)
	if strip.ReplaceAllString(out1, "") == strip.ReplaceAllString(out3, "") {
		t.Error("another seed gave the same simulation")
	}
	for _, want := range []string{"DisabledException", "LimitExceededException", "KMSInvalidStateException", "PendingDeletion", "Deleted"} {
		if !strings.Contains(out1, want) {
			t.Errorf("summary lacks %s:\n%s", want, out1)
		}
	}
	f, err := os.Open(svg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	rects := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	if rects < 60 {
		t.Errorf("SVG has %d rects, want bars for 60 months", rects)
	}
}

// TestSimulateCancel: a cancelled context stops the simulation with an
// error.
func TestSimulateCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"simulate", "--keys", "10"}, &out, &errb); code != exitError || !strings.Contains(errb.String(), "context canceled") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 5, 7: 10, 10: 10, 11: 20, 150: 200, 2001: 5000, 99999: 100000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", in, got, want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs serve in process on a free loopback port and returns
// its address, a function that stops it and returns the exit code, and
// its log.
func startServe(t testing.TB, args ...string) (string, func() int, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	codec := make(chan int, 1)
	logs := &syncBuffer{}
	go func() {
		codec <- serve(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), io.Discard, logs, func(a net.Addr) { addrc <- a })
	}()
	select {
	case a := <-addrc:
		return a.String(), func() int { cancel(); return <-codec }, logs
	case code := <-codec:
		cancel()
		t.Fatalf("serve exited %d: %s", code, logs)
	}
	return "", nil, nil
}

func client(addr, akid string) *awskms.Client {
	return awskms.New(awskms.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + addr),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, "x", ""),
		Retryer:      aws.NopRetryer{},
	})
}

// TestServeMemManual: serve --mem with a manual clock answers the AWS SDK,
// moves time through KmsModel.AdvanceClock, logs requests at debug level,
// and stops cleanly when its context is cancelled.
func TestServeMemManual(t *testing.T) {
	addr, stop, logs := startServe(t, "--mem", "--clock", "manual", "--start", "2030-06-01T00:00:00Z",
		"--access-key", "AKIDA=123456789012", "--log-level", "debug", "--log-format", "json", "--seed", "7")
	c := client(addr, "AKIDA")
	ctx := context.Background()
	ck, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(ck.KeyMetadata.AWSAccountId); got != "123456789012" {
		t.Errorf("account %s, want the one mapped to AKIDA", got)
	}
	if !ck.KeyMetadata.CreationDate.Equal(time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("CreationDate %v, want the manual clock's start", ck.KeyMetadata.CreationDate)
	}
	id := ck.KeyMetadata.KeyId
	if _, err := c.EnableKeyRotation(ctx, &awskms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(`{"Seconds":31536000}`))
	req.Header.Set("X-Amz-Target", "KmsModel.AdvanceClock")
	// Access keys are mapped, so the call must name one (issue 12 item 8).
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDA/20300601/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `"EventsApplied":4`) {
		t.Errorf("AdvanceClock: %d %s", res.StatusCode, b)
	}
	lr, err := c.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: id})
	if err != nil || len(lr.Rotations) != 4 {
		t.Fatalf("ListKeyRotations = %v, %v", lr, err)
	}
	// Another access key is refused.
	if _, err := client(addr, "AKIDB").ListKeys(ctx, &awskms.ListKeysInput{}); err == nil || !strings.Contains(err.Error(), "UnrecognizedClientException") {
		t.Errorf("unknown access key: %v", err)
	}
	if code := stop(); code != exitOK {
		t.Errorf("exit %d: %s", code, logs)
	}
	for _, want := range []string{`"msg":"kmssim serving the AWS KMS API"`, `"store":"memory"`, `"target":"TrentService.CreateKey"`, `"msg":"stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

// TestServeDB: with --db the keys survive a restart (kms.Open over
// store/boltstore), and the store is closed on shutdown so that the next
// serve can open it.
func TestServeDB(t *testing.T) {
	db := filepath.Join(t.TempDir(), "kms.db")
	addr, stop, logs := startServe(t, "--db", db)
	ck, err := client(addr, "AKID").CreateKey(context.Background(), &awskms.CreateKeyInput{Description: aws.String("kept")})
	if err != nil {
		t.Fatal(err)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d: %s", code, logs)
	}
	addr, stop, logs = startServe(t, "--db", db)
	defer stop()
	dk, err := client(addr, "AKID").DescribeKey(context.Background(), &awskms.DescribeKeyInput{KeyId: ck.KeyMetadata.KeyId})
	if err != nil || aws.ToString(dk.KeyMetadata.Description) != "kept" {
		t.Fatalf("after restart: %v, %v\n%s", dk, err, logs)
	}
}

// TestServeDBUnusable: a store that cannot be opened is a runtime failure
// (exit 1), logged.
func TestServeDBUnusable(t *testing.T) {
	db := filepath.Join(t.TempDir(), "not-a-store.db")
	if err := os.WriteFile(db, []byte("this is not a bbolt file, not at all, not even close....."), 0o600); err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	code := serve(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", db}, io.Discard, &errb, nil)
	if code != exitError || !strings.Contains(errb.String(), "cannot open the store") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}

// TestGracefulShutdown: when the context is cancelled, runServer stops
// accepting, lets the request in flight finish with its response, and
// only then returns.
func TestGracefulShutdown(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	returned := make(chan error, 1)
	go func() { returned <- runServer(ctx, srv, ln, time.Minute, discardLogger()) }()
	type result struct {
		body string
		err  error
	}
	resc := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			resc <- result{err: err}
			return
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		resc <- result{string(b), err}
	}()
	<-entered
	cancel()
	select {
	case err := <-returned:
		t.Fatalf("runServer returned (%v) while a request was in flight", err)
	case r := <-resc:
		t.Fatalf("the request finished (%v) before it was released", r)
	default:
	}
	close(release)
	if r := <-resc; r.err != nil || r.body != "done" {
		t.Errorf("request in flight: %q, %v", r.body, r.err)
	}
	if err := <-returned; err != nil {
		t.Errorf("runServer: %v", err)
	}
}

// TestServeBinary builds kmssim and checks, on the real process, that
// serve --mem starts (and logs its address) in under five seconds and that
// SIGTERM stops it gracefully with exit status 0.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	cmd := exec.Command(kmssimBinary(t), "serve", "--mem", "--addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	addrRe := regexp.MustCompile(`addr=(\S+)`)
	var addr string
	for sc.Scan() {
		if m := addrRe.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
			break
		}
	}
	startup := time.Since(began)
	if addr == "" {
		t.Fatal("no address logged")
	}
	if startup > 5*time.Second {
		t.Errorf("startup took %v, want under 5s", startup)
	}
	t.Logf("serve --mem listening on %s after %v", addr, startup)
	if _, err := client(addr, "AKID").CreateKey(context.Background(), &awskms.CreateKeyInput{KeySpec: types.KeySpecSymmetricDefault}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest strings.Builder
	for sc.Scan() {
		rest.WriteString(sc.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, rest.String())
	}
	if !strings.Contains(rest.String(), "msg=stopped") {
		t.Errorf("no graceful stop logged:\n%s", rest.String())
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestAWSCLI drives serve with the AWS CLI, when one is installed: the
// README's `aws kms … --endpoint-url` calls work, and refusals come back as
// the CLI's typed errors.
func TestAWSCLI(t *testing.T) {
	awsCLI, err := exec.LookPath("aws")
	if err != nil || testing.Short() {
		t.Skip("no AWS CLI on PATH (or -short)")
	}
	if out, err := exec.Command(awsCLI, "--version").CombinedOutput(); err != nil {
		t.Skipf("the AWS CLI does not run: %v %s", err, out)
	}
	addr, stop, logs := startServe(t, "--mem")
	defer stop()
	home := t.TempDir()
	awsRun := func(args ...string) (string, error) {
		cmd := exec.Command(awsCLI, append(args, "--endpoint-url", "http://"+addr, "--output", "json")...)
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=x",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_MAX_ATTEMPTS=1",
			"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := awsRun("kms", "create-key", "--description", "from the CLI")
	if err != nil {
		t.Fatalf("aws kms create-key: %v\n%s\n%s", err, out, logs)
	}
	m := regexp.MustCompile(`"KeyId": "([0-9a-f-]{36})"`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, `"KeyState": "Enabled"`) {
		t.Fatalf("create-key output:\n%s", out)
	}
	if out, err := awsRun("kms", "rotate-key-on-demand", "--key-id", m[1]); err != nil || !strings.Contains(out, "arn:aws:kms:us-east-1:111122223333:key/"+m[1]) {
		t.Errorf("rotate-key-on-demand: %v\n%s", err, out)
	}
	out, err = awsRun("kms", "describe-key", "--key-id", "alias/missing")
	if err == nil || !strings.Contains(out, "(NotFoundException)") {
		t.Errorf("describe-key of a missing alias: %v\n%s", err, out)
	}
}
