package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestProgressFleetCreation: with --progress always the progress display
// shows the creation of the fleet on its own line, then the months; what
// it draws depends only on the run, so two runs draw the same bytes.
func TestProgressFleetCreation(t *testing.T) {
	args := []string{"simulate", "--keys", "4", "--years", "1", "--periods", "90", "--on-demand", "0", "--disable", "0", "--delete", "0", "--progress", "always"}
	bar := func(done, total int, text string) string {
		filled := done * 40 / total
		return fmt.Sprintf("\r[%s%s] %3d%% %s", strings.Repeat("#", filled), strings.Repeat(".", 40-filled), done*100/total, text)
	}
	var want strings.Builder
	for i := 0; i <= 4; i++ {
		want.WriteString(bar(i, 4, fmt.Sprintf("creating keys %d/4", i)))
	}
	want.WriteString("\n")
	// Four keys rotate on days 90, 180, 270 and 360 of 2024; the bar shows
	// each month's end.
	for m, rotations := range []int{0, 0, 4, 4, 4, 8, 8, 8, 12, 12, 12, 16} {
		want.WriteString(bar(m+1, 12, fmt.Sprintf("%d-%02d  %d rotations", 2024+(m+1)/12, (m+1)%12+1, rotations)))
	}
	want.WriteString("\n")

	code, _, errOut := runCmd(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != want.String() {
		t.Errorf("progress:\n%q\nwant:\n%q", errOut, want.String())
	}
	if _, _, again := runCmd(t, args...); again != errOut {
		t.Errorf("a second run drew another progress display:\n%q\n%q", again, errOut)
	}
	if _, _, none := runCmd(t, append(args, "--progress", "never")...); none != "" {
		t.Errorf("--progress never drew %q", none)
	}
}

// TestProgressFailedRun: a run that fails while a bar is drawn ends the
// bar's line, so the error message starts on a line of its own.
func TestProgressFailedRun(t *testing.T) {
	var b strings.Builder
	p := &progress{w: &b, enabled: true, last: -1}
	p.creating(0, 10)
	p.creating(1, 10)
	p.done()
	p.done() // idempotent
	if got, want := b.String(), "\r[........................................]   0% creating keys 0/10\r[####....................................]  10% creating keys 1/10\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
