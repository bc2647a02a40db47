//go:build !linux

package boltstore

import "os"

// openDirect returns nil: outside Linux the log is written through the
// page cache only (see walLog.d).
func openDirect(string) *os.File { return nil }
