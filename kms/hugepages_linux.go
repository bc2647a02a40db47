package kms

import (
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
