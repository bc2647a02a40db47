package etcdstore

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// blockingSockets is whether dialBlocking is available here.
const blockingSockets = true

// blockingConn is a TCP connection whose reads and writes are plain
// blocking system calls, made by the calling goroutine's thread, not
// through Go's network poller (see rangeconn.go). It is a net.Conn so that
// crypto/tls can run over it; its deadlines are the socket's own
// timeouts, set once, and SetDeadline and the like do nothing.
type blockingConn struct {
	mu            sync.Mutex
	fd            int // -1 once closed
	local, remote net.Addr
	timeout       time.Duration // how long a read may wait
}

// dialBlocking connects to host within timeout and returns the
// connection, each of whose reads and writes then waits at most timeout.
func dialBlocking(host string, timeout time.Duration) (*blockingConn, error) {
	nc, err := net.DialTimeout("tcp", host, timeout)
	if err != nil {
		return nil, err
	}
	defer nc.Close() // its descriptor; the connection lives on in the copy
	raw, err := nc.(*net.TCPConn).SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var dupErr error
	// Under ForkLock, so that no program started meanwhile inherits the
	// copy before it is marked close-on-exec.
	syscall.ForkLock.RLock()
	if err := raw.Control(func(s uintptr) { fd, dupErr = syscall.Dup(int(s)) }); err != nil {
		syscall.ForkLock.RUnlock()
		return nil, err
	}
	if dupErr == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if dupErr != nil {
		return nil, dupErr
	}
	tv := syscall.NsecToTimeval(quickWait.Nanoseconds())
	for _, err := range []error{
		syscall.SetNonblock(fd, false),
		syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv),
		syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_SNDTIMEO, &tv),
	} {
		if err != nil {
			syscall.Close(fd)
			return nil, err
		}
	}
	return &blockingConn{fd: fd, local: nc.LocalAddr(), remote: nc.RemoteAddr(), timeout: timeout}, nil
}

// keptP counts the system calls made keeping their P (for tests).
var keptP atomic.Int64

// errConnClosed is the error of a read or write on a closed blockingConn.
var errConnClosed = errors.New("etcdstore: connection closed")

func (c *blockingConn) descriptor() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fd
}

// quickWait is how long Read waits for data without giving up its P
// (see Read); it is the socket's receive timeout (SO_RCVTIMEO).
const quickWait = 2 * time.Millisecond

// Read reads once from the socket. It fails with EAGAIN when nothing came
// for the connection's timeout.
//
// An answer usually comes within a few hundred microseconds. Waiting for
// it the usual way (syscall.Read, which gives up the thread's P) makes
// the runtime's monitor hand the P to another thread and poll every 20
// µs meanwhile, which cost a cluster node a tenth of its CPU. So Read
// first waits up to quickWait keeping its P (syscall.RawSyscall, a wait
// short enough not to hold up the collector long: the runtime's
// preemption signal ends it with EINTR), then the usual way, a quickWait
// at a time, until the connection's timeout. A process with one P always
// waits the usual way: keeping its only P would stop every goroutine.
func (c *blockingConn) Read(p []byte) (int, error) {
	fd := c.descriptor()
	if fd < 0 {
		return 0, errConnClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	var waits time.Duration
	n, err := c.transfer(fd, syscall.SYS_READ, p, syscall.Read, &waits)
	switch {
	case err != nil:
		return 0, err
	case n == 0:
		return 0, errConnClosed // the peer closed, or shutdown
	}
	return n, nil
}

// Write writes all of p, the first attempt keeping its P as Read's
// first wait does (a write blocks only while the socket's buffer is full,
// and then for quickWait at most), the others the usual way, until the
// connection's timeout.
func (c *blockingConn) Write(p []byte) (int, error) {
	fd := c.descriptor()
	if fd < 0 {
		return 0, errConnClosed
	}
	var waits time.Duration
	w := 0
	for w < len(p) {
		n, err := c.transfer(fd, syscall.SYS_WRITE, p[w:], syscall.Write, &waits)
		if err != nil {
			return w, err
		}
		w += n
		if w < len(p) {
			waits += quickWait // the socket's timeout cut the write short
		}
	}
	return w, nil
}

// transfer makes the read or write system call trap on p until it does
// not fail with EINTR, nor with EAGAIN (the socket's timeout, quickWait)
// while *waits, the time waited so far, is under the connection's
// timeout. While *waits is 0, and the process has another P to run
// goroutines on meanwhile, it keeps the thread's P (RawSyscall); else it
// gives it up (slow: syscall.Read or syscall.Write).
func (c *blockingConn) transfer(fd int, trap uintptr, p []byte, slow func(int, []byte) (int, error), waits *time.Duration) (int, error) {
	keep := runtime.GOMAXPROCS(0) > 1
	for {
		var n int
		var err error
		if *waits == 0 && keep {
			keptP.Add(1)
			r, _, errno := syscall.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			if errno != 0 {
				err = errno
			} else {
				n = int(r)
			}
		} else {
			n, err = slow(fd, p)
		}
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN && *waits < c.timeout:
			*waits += quickWait
			continue
		case err != nil:
			return 0, err
		}
		return n, nil
	}
}

// shutdown ends the connection both ways without closing the descriptor:
// a read blocked on it returns.
func (c *blockingConn) shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd >= 0 {
		_ = syscall.Shutdown(c.fd, syscall.SHUT_RDWR)
	}
}

// Close closes the descriptor. A goroutine blocked in Read should be
// woken first (shutdown): closing a descriptor does not wake its readers.
func (c *blockingConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return nil
	}
	err := syscall.Close(c.fd)
	c.fd = -1
	return err
}

func (c *blockingConn) LocalAddr() net.Addr                { return c.local }
func (c *blockingConn) RemoteAddr() net.Addr               { return c.remote }
func (c *blockingConn) SetDeadline(t time.Time) error      { return nil }
func (c *blockingConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *blockingConn) SetWriteDeadline(t time.Time) error { return nil }
