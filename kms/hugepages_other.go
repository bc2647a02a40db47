//go:build !linux

package kms

import "unsafe"

// adviseHuge does nothing outside Linux (see hugepages_linux.go).
func adviseHuge(unsafe.Pointer, uintptr) {}
