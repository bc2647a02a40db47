package kms

import (
	"testing"
	"unsafe"
)

func TestZZSize(t *testing.T) {
	t.Logf("key %d queued %d region %d", unsafe.Sizeof(key{}), unsafe.Sizeof(queued{}), unsafe.Sizeof(region{}))
}
