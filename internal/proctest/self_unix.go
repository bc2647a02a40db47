//go:build unix

package proctest

import (
	"syscall"
	"time"
)

// Self returns the CPU time (user plus system) this process has used.
func Self() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// SelfSystem returns the system CPU time this process has used: the
// kernel's work for it, such as system calls and the page faults that
// bring fresh memory in.
func SelfSystem() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Stime.Nano())
}
