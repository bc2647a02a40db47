package kmshttp_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
)

// epoch is where every test clock starts.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	account      = "111122223333"
	otherAccount = "444455556666"
	region       = "us-east-1"
	accessKey    = "AKIDTESTOWNER"
	otherKey     = "AKIDTESTOTHER"
)

// fixture is a service on a manual clock, its handler, and the number of
// requests the handler has served.
type fixture struct {
	svc      *kms.Service
	clock    *kms.ManualClock
	handler  *kmshttp.Handler
	requests atomic.Int64
}

// newFixture builds a deterministic service (ChaCha8 key IDs) and its
// handler, with two access keys: accessKey for account and otherKey for
// otherAccount.
func newFixture(t testing.TB, opts ...kms.Option) *fixture {
	t.Helper()
	clock := kms.NewManualClock(epoch)
	opts = append([]kms.Option{kms.WithClock(clock), kms.WithAccount(account), kms.WithRegion(region),
		kms.WithRandom(rand.NewChaCha8([32]byte{42}))}, opts...)
	svc := kms.New(opts...)
	h, err := kmshttp.New(svc, kmshttp.WithManualClock(clock),
		kmshttp.WithRandom(rand.NewChaCha8([32]byte{43})),
		kmshttp.WithAccounts(map[string]string{accessKey: account, otherKey: otherAccount}))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, clock: clock, handler: h}
}

// ServeHTTP counts requests and serves them.
func (f *fixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	f.handler.ServeHTTP(w, r)
}

// transport says how a test client reaches the handler.
type transport struct {
	name string
	// client returns an HTTP client and the endpoint for f.
	client func(t testing.TB, f *fixture) (*http.Client, string)
}

var transports = []transport{
	{"in-process", func(_ testing.TB, f *fixture) (*http.Client, string) {
		return &http.Client{Transport: kmshttp.Transport{Handler: f}}, "http://kms.test"
	}},
	{"loopback", func(t testing.TB, f *fixture) (*http.Client, string) {
		srv := httptest.NewServer(f)
		t.Cleanup(srv.Close)
		return srv.Client(), srv.URL
	}},
}

// sdkClient returns an AWS SDK KMS client signing with access key akid in
// region reg, without retries (a 500 must reach the test on the first
// attempt).
func sdkClient(hc *http.Client, endpoint, akid, reg string) *awskms.Client {
	return awskms.New(awskms.Options{
		Region:       reg,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, "not-checked", ""),
		HTTPClient:   hc,
		Retryer:      aws.NopRetryer{},
	})
}

// post sends one raw request to h in process and returns the status, the
// headers and the body. The request is signed for accessKey in region
// unless header names an Authorization (an empty one: unsigned).
func post(t testing.TB, h http.Handler, target, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("Authorization", sigV4(accessKey, region, "kms"))
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, b
}

// postOK sends a raw request that must succeed and decodes its JSON body
// (nil for an empty body).
func postOK(t testing.TB, h http.Handler, target, body string) map[string]any {
	t.Helper()
	status, _, b := post(t, h, target, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s: status %d, body %s", target, body, status, b)
	}
	if len(b) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: response is not JSON: %v: %s", target, err, b)
	}
	return m
}

// sigV4 is an Authorization header for akid in reg (the signature is not
// checked).
func sigV4(akid, reg, service string) string {
	return "AWS4-HMAC-SHA256 Credential=" + akid + "/20240101/" + reg + "/" + service +
		"/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0123456789abcdef"
}
