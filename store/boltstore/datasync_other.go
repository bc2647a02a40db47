//go:build !linux

package boltstore

import "os"

// datasync makes f's data durable (fsync, or what os.File.Sync does on
// this system).
func datasync(f *os.File) error { return f.Sync() }
