package main

import (
	"io"
	"strings"
	"testing"
)

// TestEventualConsistencyFlags (issue 17): serve and simulate take
// --eventual-consistency and its knobs, refuse the knobs without it and
// bad values with a clear message.
func TestEventualConsistencyFlags(t *testing.T) {
	c, code := parseServe([]string{"--mem", "--eventual-consistency", "--propagation-delay", "2s", "--propagation-readers", "call",
		"--deletion-delay", "1h"}, io.Discard, io.Discard)
	if c == nil || code != -1 || len(c.ec) != 1 {
		t.Fatalf("parseServe = %+v, %d", c, code)
	}
	if c, _ := parseServe([]string{"--mem"}, io.Discard, io.Discard); c == nil || c.ec != nil {
		t.Fatalf("without the flag: %+v", c)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--propagation-delay", "2s"}, "--propagation-delay needs --eventual-consistency"},
		{[]string{"--eventual-consistency", "--propagation-delay", "3s-1s,5m:0.1"}, "below the minimum"},
		{[]string{"--eventual-consistency", "--propagation-readers", "host"}, "neither principal nor call"},
		{[]string{"--eventual-consistency", "--deletion-delay", "-1h"}, "deletion delay -1h0m0s is negative"},
	} {
		for _, cmd := range []string{"serve", "simulate"} {
			args := append([]string{cmd}, tc.args...)
			if cmd == "serve" {
				args = append(args, "--mem")
			}
			code, _, errOut := runCmd(t, args...)
			if code == exitOK || !strings.Contains(errOut, tc.want) {
				t.Errorf("%v: exit %d, stderr %q; want %q", args, code, errOut, tc.want)
			}
		}
	}
}

// TestSimulateEventualConsistency: a simulation with the model runs to
// its end, and the same seed gives the same summary.
func TestSimulateEventualConsistency(t *testing.T) {
	args := []string{"simulate", "--keys", "50", "--years", "2", "--delete", "1", "--disable", "3", "--progress", "never",
		"--eventual-consistency", "--propagation-delay", "1s-10m,2h:0.5"}
	code, a, errOut := runCmd(t, args...)
	if code != exitOK || !strings.Contains(a, "50 keys") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, a, errOut)
	}
	summary := func(out string) string { // without the "Simulated in" timing line
		s, _, _ := strings.Cut(out, "Simulated in")
		return s
	}
	if _, b, _ := runCmd(t, args...); summary(b) != summary(a) {
		t.Fatalf("the same seed gave\n%s\nthen\n%s", a, b)
	}
}
