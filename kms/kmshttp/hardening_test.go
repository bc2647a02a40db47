package kmshttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/faultstore"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
	"github.com/kmsmodel/kmsmodel/store"
)

// TestInternalErrorHidesDetail is issue 12 item 7: a store failure whose
// text names a server path reaches the client as AWS's generic
// KMSInternalException message with the request ID, and the detail goes
// to the server log under that request ID.
func TestInternalErrorHidesDetail(t *testing.T) {
	fs := faultstore.New(store.NewMemory())
	svc, err := kms.Open(context.Background(), fs, kms.WithAccount(account), kms.WithRegion(region),
		kms.WithClock(kms.NewManualClock(epoch)), kms.WithRandom(rand.NewChaCha8([32]byte{1})))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, err := kmshttp.New(svc, kmshttp.WithLogger(log), kmshttp.WithRandom(rand.NewChaCha8([32]byte{2})))
	if err != nil {
		t.Fatal(err)
	}
	const secret = "/srv/private/kms-full.db"
	fs.FailNth(faultstore.OpApply, 1, fmt.Errorf("boltstore: commit to %s: write: no space left on device", secret))
	status, hdr, b := post(t, h, target+"CreateKey", `{}`)
	id := hdr.Get("X-Amzn-Requestid")
	if status != 500 || hdr.Get("X-Amzn-ErrorType") != "KMSInternalException" {
		t.Fatalf("CreateKey on a failing store: %d %s, want 500 KMSInternalException", status, b)
	}
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) || strings.Contains(string(b), "no space") {
		t.Errorf("the client sees the server's detail: %s", b)
	}
	want := "The request processing has failed because of an unknown error, exception or failure. Request ID: " + id
	if body.Message != want {
		t.Errorf("message %q, want %q", body.Message, want)
	}
	var found bool
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if rec["requestId"] == id && rec["level"] == "ERROR" && strings.Contains(fmt.Sprint(rec["err"]), secret) {
			found = true
		}
	}
	if !found {
		t.Errorf("the log has no ERROR record with request ID %s and the detail:\n%s", id, logs.String())
	}
}

// TestAdvanceClockNeedsManualClock is issue 12 item 15: the README's
// KmsModel.AdvanceClock call against a wall-clock server says that the
// server must run with --clock manual, instead of a bare "Unknown
// operation".
func TestAdvanceClockNeedsManualClock(t *testing.T) {
	h, err := kmshttp.New(kms.New(), kmshttp.WithRandom(rand.NewChaCha8([32]byte{})))
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range []string{"KmsModel.AdvanceClock", "KmsModel.Now"} {
		status, hdr, b := post(t, h, tg, `{"Seconds":60}`, "Authorization", "")
		if status != 400 || hdr.Get("X-Amzn-ErrorType") != "UnknownOperationException" || !bytes.Contains(b, []byte("--clock manual")) {
			t.Errorf("%s on the wall clock: %d %s, want UnknownOperationException naming --clock manual", tg, status, b)
		}
	}
	// Other KmsModel targets stay plain unknown operations.
	if _, _, b := post(t, h, "KmsModel.Bogus", `{}`); bytes.Contains(b, []byte("--clock")) {
		t.Errorf("KmsModel.Bogus: %s", b)
	}
}

// TestUnsignedRefusedWithAccessKeys is issue 12 item 8 through the wire
// shape: with mapped access keys an unsigned request gets an AWS-shaped
// MissingAuthenticationTokenException, whatever the operation.
func TestUnsignedRefusedWithAccessKeys(t *testing.T) {
	f := newFixture(t)
	for _, tg := range []string{target + "ListKeys", target + "GenerateRandom", "KmsModel.Now"} {
		status, hdr, b := post(t, f.handler, tg, `{"NumberOfBytes":8}`, "Authorization", "")
		var body map[string]string
		if status != 400 || hdr.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" ||
			json.Unmarshal(b, &body) != nil || body["__type"] != "MissingAuthenticationTokenException" || body["message"] == "" {
			t.Errorf("%s unsigned: %d %s", tg, status, b)
		}
	}
}

// TestBodyMemory is issue 12 item 5's memory bound for bodies: bodies over
// SmallBodyBytes share WithBodyMemory; one that would pass it is refused
// with ThrottlingException, and what a request drew is given back once it
// is answered.
func TestBodyMemory(t *testing.T) {
	f := newFixture(t)
	h, err := kmshttp.New(f.svc, kmshttp.WithBodyMemory(100<<10), kmshttp.WithRandom(rand.NewChaCha8([32]byte{})))
	if err != nil {
		t.Fatal(err)
	}
	pad := func(n int) string { return `{"Pad":"` + strings.Repeat("p", n) + `"}` }
	for i := range 3 { // the memory comes back after each request
		if status, _, b := post(t, h, target+"ListKeys", pad(60<<10)); status != 200 {
			t.Fatalf("request %d with a 60 KiB body under a 100 KiB bound: %d %s", i, status, b)
		}
	}
	status, hdr, b := post(t, h, target+"ListKeys", pad(200<<10))
	if status != 400 || hdr.Get("X-Amzn-ErrorType") != "ThrottlingException" {
		t.Errorf("a 200 KiB body under a 100 KiB bound: %d %s, want ThrottlingException", status, b)
	}
	if status, _, b := post(t, h, target+"ListKeys", pad(kmshttp.SmallBodyBytes-20)); status != 200 {
		t.Errorf("a small body: %d %s", status, b)
	}
	if _, err := kmshttp.New(f.svc, kmshttp.WithBodyMemory(0)); err == nil {
		t.Error("WithBodyMemory(0) accepted")
	}
}
