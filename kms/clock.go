package kms

import (
	"errors"
	"sync"
	"time"
)

// Clock tells the service what time it is. The service reads it once per
// call and applies every scheduled event due by then before the call.
//
// The service keeps time to the microsecond: it truncates each reading
// (toward the past) and every date it reports is a whole microsecond. A
// reading after Horizon makes every call fail (ErrPastHorizon) until the
// clock reads an instant within it.
type Clock interface {
	// Now returns the current instant.
	Now() time.Time
}

// The clock's sentinel errors.
var (
	// ErrPastHorizon is returned when an instant is after Horizon: by
	// ManualClock.Set and Advance (which then do not move the clock), and,
	// wrapped in a KMSInternalException, by every call of a Service whose
	// clock reads such an instant.
	ErrPastHorizon = errors.New("kms: instant past kmsmodel's horizon (" + horizonText + ")")
	// ErrClockBackwards is returned by ManualClock.Set for an instant
	// before the clock's current one, and by Open when the clock reads an
	// instant before the latest one its store has recorded: kmsmodel's
	// time never goes backwards.
	ErrClockBackwards = errors.New("kms: the clock would go backwards")
)

// horizon is the last instant the service's clock may read, in Unix
// microseconds: 9999-12-31T23:59:59.999999Z, the last instant that RFC 3339
// and AWS's timestamps express.
const (
	horizon     = int64(253402300799999999)
	horizonText = "9999-12-31T23:59:59.999999Z"
)

// Horizon returns the last instant kmsmodel's clock may reach,
// 9999-12-31T23:59:59.999999Z. Every instant up to it is kept exactly (to
// the microsecond). Scheduled dates may lie beyond it (a rotation due in
// year 10003, say): they too are kept and reported exactly, and never come
// due, since no clock reading past Horizon is served.
func Horizon() time.Time { return fromMicros(horizon) }

// WallClock is the real time. It is the default Clock and the only place in
// kmsmodel that reads the wall clock.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that moves only when told to: tests and simulators
// set it and advance it. It is safe for concurrent use. Time never goes
// backwards, and never past Horizon: Set to an earlier instant, or Set or
// Advance past Horizon, is refused with an error and moves nothing.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a ManualClock that reads start until it is moved.
// A start after Horizon is kept, but a Service refuses every call while its
// clock reads it (ErrPastHorizon).
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{t: start.Round(0).UTC()}
}

// Now returns the clock's current instant, in UTC.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t. It returns an error wrapping ErrClockBackwards,
// and does nothing, if t is before the clock's current instant, and one
// wrapping ErrPastHorizon if t is after Horizon.
func (c *ManualClock) Set(t time.Time) error {
	t = t.Round(0).UTC()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case t.After(Horizon()):
		return &clockError{op: "Set", to: t, err: ErrPastHorizon}
	case t.Before(c.t):
		return &clockError{op: "Set", to: t, from: c.t, err: ErrClockBackwards}
	}
	c.t = t
	return nil
}

// Advance moves the clock forward by d and returns the new instant. A
// negative d is treated as zero. If the new instant would be after Horizon,
// Advance returns the current instant and an error wrapping ErrPastHorizon,
// and does not move the clock.
func (c *ManualClock) Advance(d time.Duration) (time.Time, error) {
	if d < 0 {
		d = 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// time.Time.Add saturates only at its own range (billions of years),
	// far past Horizon, so the comparison below is exact.
	t := c.t.Add(d)
	if t.After(Horizon()) {
		return c.t, &clockError{op: "Advance", to: t, from: c.t, err: ErrPastHorizon}
	}
	c.t = t
	return t, nil
}

// clockError says which move of a ManualClock was refused ("Set",
// "Advance"), or which clock reading a Service refused ("Now").
type clockError struct {
	op       string
	to, from time.Time
	err      error
}

func (e *clockError) Error() string {
	const layout = time.RFC3339Nano
	if errors.Is(e.err, ErrClockBackwards) {
		return "kms: ManualClock." + e.op + " to " + e.to.Format(layout) + " refused: it is before the clock's current instant " +
			e.from.Format(layout) + "; the clock never goes backwards"
	}
	if e.op == "Now" {
		return "kms: the clock reads " + e.to.Format(layout) + ", outside kmsmodel's time range (0001-01-01T00:00:00Z to its horizon " +
			horizonText + "); no call is served until it reads an instant within it"
	}
	return "kms: ManualClock." + e.op + " to " + e.to.Format(layout) + " refused: it is past kmsmodel's horizon " + horizonText
}

func (e *clockError) Unwrap() error { return e.err }

// usPerDay is one day in microseconds, the unit of the service's instants.
const usPerDay = int64(24 * 60 * 60 * 1_000_000)

// days returns n days in microseconds.
func days(n uint16) int64 { return int64(n) * usPerDay }

// micros converts a time to the service's unit, Unix microseconds
// (truncated toward the past), with the zero time as 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros converts Unix microseconds to a time in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// optTime converts Unix microseconds to a time, with 0 as the zero time.
func optTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

// durMicros converts a duration to microseconds, rounding a positive
// fraction up so that a positive duration never becomes zero.
func durMicros(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	if d > 0 && d%time.Microsecond != 0 {
		us++
	}
	return us
}
