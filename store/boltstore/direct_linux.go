package boltstore

import (
	"os"
	"syscall"
)

// openDirect opens the file at name for writes that bypass the page cache
// (O_DIRECT), or returns nil if its file system refuses them (tmpfs, for
// one). See walLog.d.
func openDirect(name string) *os.File {
	f, err := os.OpenFile(name, os.O_WRONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return nil
	}
	return f
}
