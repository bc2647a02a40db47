package kms

import (
	"sync/atomic"
	"time"
)

// Clock tells the service what time it is. The service reads it once per
// call and applies every scheduled event due by then before the call.
type Clock interface {
	// Now returns the current instant.
	Now() time.Time
}

// WallClock is the real time. It is the default Clock and the only place in
// kmsmodel that reads the wall clock.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that moves only when told to: tests and simulators
// set it and advance it. It is safe for concurrent use. Time never goes
// backwards: Set to an earlier instant is ignored.
type ManualClock struct {
	ns atomic.Int64 // Unix nanoseconds
}

// NewManualClock returns a ManualClock that reads start until it is moved.
func NewManualClock(start time.Time) *ManualClock {
	c := &ManualClock{}
	c.ns.Store(start.UnixNano())
	return c
}

// Now returns the clock's current instant, in UTC.
func (c *ManualClock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Set moves the clock to t. It returns false, and does nothing, if t is
// before the clock's current instant.
func (c *ManualClock) Set(t time.Time) bool {
	n := t.UnixNano()
	for {
		old := c.ns.Load()
		if n < old {
			return false
		}
		if c.ns.CompareAndSwap(old, n) {
			return true
		}
	}
}

// Advance moves the clock forward by d and returns the new instant. A
// negative d is treated as zero.
func (c *ManualClock) Advance(d time.Duration) time.Time {
	if d < 0 {
		d = 0
	}
	return time.Unix(0, c.ns.Add(int64(d))).UTC()
}
