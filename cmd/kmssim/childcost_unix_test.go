//go:build unix

package main

import (
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// childCost runs cmd to completion and returns its CPU time (user plus
// system) and its peak resident memory, from the rusage of the waited
// child.
func childCost(b *testing.B, cmd *exec.Cmd) (cpu time.Duration, maxRSS int64) {
	b.Helper()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Skip("no rusage for child processes here")
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if runtime.GOOS == "darwin" {
		return cpu, ru.Maxrss // macOS reports bytes
	}
	return cpu, ru.Maxrss * 1024 // Linux and the BSDs report kilobytes
}
