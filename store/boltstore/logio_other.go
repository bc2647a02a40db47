//go:build !linux

package boltstore

import "os"

// datasync makes f's data durable (fsync, or what os.File.Sync does on
// this system).
func datasync(f *os.File) error { return f.Sync() }

// logWriteAt writes p at off in f.
func logWriteAt(f *os.File, p []byte, off int64) (int, error) { return f.WriteAt(p, off) }
