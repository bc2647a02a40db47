//go:build unix

package proctest

import (
	"syscall"
	"time"
)

// Self returns the CPU time (user plus system) this process has used.
func Self() time.Duration {
	user, sys := rusage()
	return user + sys
}

// SelfSystem returns the system CPU time this process has used: the
// kernel's work for it, such as system calls and the page faults that
// bring fresh memory in.
func SelfSystem() time.Duration {
	_, sys := rusage()
	return sys
}

// rusage returns this process's user and system CPU time, or zeros when
// getrusage fails.
func rusage() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
