package boltstore

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// withDevice runs f with the log's device taken as quick or not, and at
// least two Ps when quick (keepP needs another P), restoring both after.
func withDevice(t *testing.T, quick bool, f func()) {
	t.Helper()
	old := deviceQuick.Load()
	procs := runtime.GOMAXPROCS(0)
	if quick && procs < 2 {
		runtime.GOMAXPROCS(2)
	}
	defer func() {
		deviceQuick.Store(old)
		runtime.GOMAXPROCS(procs)
	}()
	deviceQuick.Store(quick)
	if keepP() != quick {
		t.Fatalf("keepP() = %v with the device quick = %v", !quick, quick)
	}
	f()
}

// TestLogIOKeepsPOnlyWhileTheDeviceIsQuick: a write or sync that took
// quickDevice or longer makes the next give up its P; a quicker one lets
// it keep it; one P alone is never kept.
func TestLogIOKeepsPOnlyWhileTheDeviceIsQuick(t *testing.T) {
	old := deviceQuick.Load()
	defer deviceQuick.Store(old)
	noteDevice(quickDevice)
	if deviceQuick.Load() {
		t.Fatalf("a call of %v left the device quick", quickDevice)
	}
	noteDevice(quickDevice - time.Microsecond)
	if !deviceQuick.Load() {
		t.Fatalf("a call of %v left the device slow", quickDevice-time.Microsecond)
	}
	procs := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(procs)
	if keepP() {
		t.Fatal("keepP() with one P")
	}
}

// TestLogIOBothWays: the log's writes land where they are written and
// its syncs succeed, whether they keep their P or not, and their errors
// come back either way.
func TestLogIOBothWays(t *testing.T) {
	for _, quick := range []bool{false, true} {
		withDevice(t, quick, func() {
			path := filepath.Join(t.TempDir(), "log")
			f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			deviceQuick.Store(quick) // the OpenFile above is not the log's
			if n, err := logWriteAt(f, []byte("hello, log"), 4096); err != nil || n != 10 {
				t.Fatalf("quick=%v: logWriteAt = %d, %v", quick, n, err)
			}
			deviceQuick.Store(quick)
			if err := datasync(f); err != nil {
				t.Fatalf("quick=%v: datasync: %v", quick, err)
			}
			got := make([]byte, 10)
			if _, err := f.ReadAt(got, 4096); err != nil || string(got) != "hello, log" {
				t.Fatalf("quick=%v: read back %q, %v", quick, got, err)
			}

			// A descriptor open for reading only refuses the write
			// (EBADF); a pipe refuses the sync (EINVAL).
			ro, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			deviceQuick.Store(quick)
			var pe *os.PathError
			if _, err := logWriteAt(ro, []byte("x"), 0); !errors.As(err, &pe) || !errors.Is(err, syscall.EBADF) {
				t.Fatalf("quick=%v: a write through a read-only descriptor: %v, want a *PathError of EBADF", quick, err)
			}
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			deviceQuick.Store(quick)
			if err := datasync(w); !errors.Is(err, syscall.EINVAL) {
				t.Fatalf("quick=%v: datasync of a pipe: %v, want EINVAL", quick, err)
			}
		})
	}
}
