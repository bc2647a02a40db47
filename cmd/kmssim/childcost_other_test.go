//go:build !unix

package main

import (
	"os/exec"
	"testing"
	"time"
)

// childCost skips: this system reports no rusage of a child process (see
// childcost_unix_test.go).
func childCost(b *testing.B, cmd *exec.Cmd) (time.Duration, int64) {
	b.Helper()
	b.Skipf("no rusage for child processes here to measure %s", cmd)
	return 0, 0
}
