//go:build linux || darwin

package main

import (
	"syscall"
	"testing"
)

// raiseFileLimit makes room for n open files in this process, or skips.
func raiseFileLimit(t testing.TB, n uint64) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if rl.Cur >= n {
		return
	}
	if rl.Max < n {
		t.Skipf("the hard limit on open files is %d; the test needs %d", rl.Max, n)
	}
	old := rl
	rl.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}
