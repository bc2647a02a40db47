package boltstore

import (
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// The log's writes and syncs on Linux. A blocking system call made the
// usual way (syscall.Syscall) gives up its P, the right to run Go code:
// when it lasts beyond a tick of the runtime's monitor (20 µs), the
// monitor hands the P to another thread, waking one, and the call, once
// back, must wait for a P again. For a device that answers within tens
// of microseconds (an SSD's write cache, a virtual machine's disk), that
// traffic costs more CPU than the wait: in BenchmarkLoopbackDurable, 10%
// of the server's CPU went to the monitor and 19% to context switches.
// So while the device answers quickly, and the process has another P to
// run goroutines on meanwhile, the log calls it without giving up its P
// (syscall.RawSyscall); a write or sync that takes quickDevice or longer
// makes the next ones give it up again, so a slow disk never holds a P
// for milliseconds.

// quickDevice is how long a log write or sync may take for the next to
// keep its P.
const quickDevice = 500 * time.Microsecond

// deviceQuick is whether the latest log write or sync took less than
// quickDevice. It starts false: the first call gives up its P.
var deviceQuick atomic.Bool

// keepP reports whether the next log write or sync may keep its P.
func keepP() bool { return deviceQuick.Load() && runtime.GOMAXPROCS(0) > 1 }

// noteDevice records how long a log write or sync took.
func noteDevice(took time.Duration) { deviceQuick.Store(took < quickDevice) }

// logWriteAt writes p at off in f (pwrite), keeping its P when the
// device is quick (see above).
func logWriteAt(f *os.File, p []byte, off int64) (int, error) {
	began := time.Now()
	defer func() { noteDevice(time.Since(began)) }()
	if !keepP() {
		return f.WriteAt(p, off)
	}
	return rawWriteAt(f, p, off)
}

// rawWriteAt is os.File.WriteAt through syscall.RawSyscall6.
func rawWriteAt(f *os.File, p []byte, off int64) (int, error) {
	fd := f.Fd()
	n := 0
	for n < len(p) {
		w, _, errno := syscall.RawSyscall6(syscall.SYS_PWRITE64, fd,
			uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n), uintptr(off+int64(n)), 0, 0)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return n, &os.PathError{Op: "write", Path: f.Name(), Err: errno}
		case w == 0:
			return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.EIO}
		}
		n += int(w)
	}
	return n, nil
}

// datasync makes f's data durable: fdatasync, which, unlike fsync, does
// not also write the inode's timestamps (every record of the log would
// otherwise cost a journal commit). It keeps its P when the device is
// quick (see above).
func datasync(f *os.File) error {
	began := time.Now()
	defer func() { noteDevice(time.Since(began)) }()
	fd := int(f.Fd())
	for {
		var err error
		if keepP() {
			if _, _, errno := syscall.RawSyscall(syscall.SYS_FDATASYNC, uintptr(fd), 0, 0); errno != 0 {
				err = errno
			}
		} else {
			err = syscall.Fdatasync(fd)
		}
		if err != syscall.EINTR {
			return err
		}
	}
}
