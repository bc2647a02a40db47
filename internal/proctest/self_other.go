//go:build !unix

package proctest

import "time"

// Self returns 0: this system has no getrusage, so the benchmarks that
// report CPU time report none (see self_unix.go).
func Self() time.Duration { return 0 }

// SelfSystem returns 0, as Self does here.
func SelfSystem() time.Duration { return 0 }
