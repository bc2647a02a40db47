package kms

import (
	"runtime"
	"syscall"
	"unsafe"
)

// adviseHuge asks Linux to back the n bytes at p, and the rest of the 2 MB
// pages they overlap, with transparent huge pages (madvise MADV_HUGEPAGE),
// which the kernel honours when its setting is "madvise" or "always". At
// millions of keys the slab and the key index span gigabytes read at
// random: with 4 KB pages nearly every such read also misses the TLB and
// walks page tables that the caches no longer hold. Memory the advice
// cannot cover is left as it is; a refusal changes nothing else.
func adviseHuge(p unsafe.Pointer, n uintptr) {
	const huge = 2 << 20
	start := uintptr(p) &^ (huge - 1)
	end := (uintptr(p) + n + huge - 1) &^ (huge - 1)
	syscall.Syscall(syscall.SYS_MADVISE, start, end-start, syscall.MADV_HUGEPAGE)
}

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14), which package
// syscall does not name.
const madvPopulateWrite = 23

// prefault has the kernel fault in the memory of c (madvise
// MADV_POPULATE_WRITE, Linux 5.14 and later) in a goroutine of its own,
// so that the caller, which will fill c later, does not take a page fault
// for each page it first writes: in a virtual machine a fresh page costs
// the host's work too (a huge page 2–9 ms), and the caller's core is
// better spent making keys. Populating writes nothing the program can
// see, so it needs no synchronisation with the caller's later writes; on
// an older kernel it does nothing, and the caller faults the pages in.
func prefault[T any](c []T) {
	if len(c) == 0 {
		return
	}
	go func() {
		var zero T
		syscall.Syscall(syscall.SYS_MADVISE, uintptr(unsafe.Pointer(unsafe.SliceData(c))),
			uintptr(len(c))*unsafe.Sizeof(zero), madvPopulateWrite)
		runtime.KeepAlive(c)
	}()
}
