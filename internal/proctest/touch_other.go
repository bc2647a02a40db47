//go:build !linux

package proctest

import (
	"errors"
	"time"
)

// FirstTouch is measured on Linux only (see touch_linux.go); here it
// returns an error.
func FirstTouch(n int, huge bool) (time.Duration, error) {
	return 0, errors.New("proctest: FirstTouch is measured on Linux only")
}
