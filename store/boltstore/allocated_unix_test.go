//go:build unix

package boltstore_test

import (
	"os"
	"syscall"
)

// allocated returns the bytes of disk the file fi describes takes.
func allocated(fi os.FileInfo) (int64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int64(st.Blocks) * 512, true
}
