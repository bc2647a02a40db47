package proctest

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"
)

// FirstTouch maps n bytes of fresh anonymous memory, writes one byte in
// each 4 KB page of it, unmaps it, and returns how long the writes took:
// the time the kernel (and, in a virtual machine, the host) takes to
// bring that much new memory into a process. With huge, the memory is
// advised to use transparent huge pages (MADV_HUGEPAGE) first, as kms
// does for its key slab past a million keys; n is then rounded down to
// whole 2 MB pages.
func FirstTouch(n int, huge bool) (time.Duration, error) {
	const page, hugePage = 4 << 10, 2 << 20
	m, err := syscall.Mmap(-1, 0, n+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return 0, fmt.Errorf("proctest: map %d bytes: %w", n, err)
	}
	defer syscall.Munmap(m)
	b := m[:n]
	if huge {
		off := (hugePage - int(uintptr(unsafe.Pointer(&m[0]))%hugePage)) % hugePage
		b = m[off : off+n/hugePage*hugePage]
		if err := syscall.Madvise(b, syscall.MADV_HUGEPAGE); err != nil {
			return 0, fmt.Errorf("proctest: madvise MADV_HUGEPAGE: %w", err)
		}
	}
	began := time.Now()
	for i := 0; i < len(b); i += page {
		b[i] = 1
	}
	return time.Since(began), nil
}
