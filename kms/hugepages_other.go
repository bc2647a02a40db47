//go:build !linux

package kms

import "unsafe"

// adviseHuge does nothing outside Linux (see hugepages_linux.go).
func adviseHuge(unsafe.Pointer, uintptr) {}

// prefault does nothing outside Linux: the caller faults the pages of c
// in as it first writes them (see hugepages_linux.go).
func prefault[T any](c []T) {}
