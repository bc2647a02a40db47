//go:build !unix

package boltstore_test

import "os"

// allocated reports nothing: this system's file information has no
// block count (see allocated_unix_test.go).
func allocated(os.FileInfo) (int64, bool) { return 0, false }
