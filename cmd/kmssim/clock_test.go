package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
)

// clockCall posts to a KmsModel clock target and returns the answer's Now.
func clockCall(t *testing.T, addr, target, body string) time.Time {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m struct{ Now float64 }
	if res.StatusCode != 200 || json.Unmarshal(b, &m) != nil {
		t.Fatalf("%s %s: %d %s", target, body, res.StatusCode, b)
	}
	return time.UnixMicro(int64(m.Now * 1e6)).UTC()
}

// TestServeManualClockResumes (issue 12 item 12): serve --db F --clock
// manual restarted its clock at --start while the stored keys kept later
// dates, so a key's CreationDate was after Now. Now the clock resumes from
// the store's latest instant unless --start is later.
func TestServeManualClockResumes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "kms.db")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	args := []string{"--db", db, "--clock", "manual", "--start", start.Format(time.RFC3339)}
	addr, stop, logs := startServe(t, args...)
	ctx := context.Background()
	later := clockCall(t, addr, "KmsModel.AdvanceClock", `{"Seconds":31536000}`)
	ck, err := client(addr, "AKID").CreateKey(ctx, &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !ck.KeyMetadata.CreationDate.Equal(later) {
		t.Fatalf("CreationDate = %v, want %v", ck.KeyMetadata.CreationDate, later)
	}
	// Time moves on with no write: AdvanceClock records it too.
	latest := clockCall(t, addr, "KmsModel.AdvanceClock", `{"Seconds":86400}`)
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d: %s", code, logs)
	}

	addr, stop, logs = startServe(t, args...)
	if now := clockCall(t, addr, "KmsModel.Now", `{}`); !now.Equal(latest) {
		t.Fatalf("after a restart with the same --start, Now = %v, want %v (the stored instant)", now, latest)
	}
	if !strings.Contains(logs.String(), "manual clock resumed") {
		t.Errorf("log does not say the clock resumed:\n%s", logs)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d: %s", code, logs)
	}

	// A --start later than the stored instant wins.
	later2 := latest.AddDate(1, 0, 0)
	addr, stop, logs = startServe(t, "--db", db, "--clock", "manual", "--start", later2.Format(time.RFC3339))
	if now := clockCall(t, addr, "KmsModel.Now", `{}`); !now.Equal(later2) {
		t.Fatalf("with a later --start, Now = %v, want %v", now, later2)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d: %s", code, logs)
	}
}
