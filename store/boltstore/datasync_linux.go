package boltstore

import (
	"os"
	"syscall"
)

// datasync makes f's data durable: fdatasync, which, unlike fsync, does
// not also write the inode's timestamps (every record of the log would
// otherwise cost a journal commit).
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
