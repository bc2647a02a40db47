package kmshttp

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
)

// The KmsModel targets are kmsmodel's own, not AWS's: they exist only when
// the handler was given the service's *kms.ManualClock (WithManualClock);
// otherwise they are UnknownOperationException like any unknown target.

// advanceClock serves KmsModel.AdvanceClock: {"Seconds": n} moves the
// clock forward n seconds, {"To": t} sets it to epoch seconds t (not before
// now). Then every due event is applied (kms.Service.Sweep). The response
// is {"Now": t, "EventsApplied": n, "NextEventTime": t}; NextEventTime is
// absent when nothing is scheduled.
func (h *Handler) advanceClock(body, out []byte) ([]byte, error) {
	var seconds, to *float64
	err := decodeObject(body, func(r *reader, name []byte) error {
		var err error
		switch string(name) {
		case "Seconds":
			seconds, err = r.float("Seconds")
		case "To":
			to, err = r.float("To")
		default:
			err = r.skip()
		}
		return err
	})
	if err != nil {
		return out, err
	}
	invalid := func(msg string) error { return &wireError{code: "ValidationException", status: 400, msg: msg} }
	pastHorizon := func(what string) error {
		return invalid(what + " past kmsmodel's horizon " + kms.Horizon().Format(time.RFC3339Nano) + "; nothing changed")
	}
	// No instant within the horizon is more than this many seconds after
	// 1970: larger numbers are refused before any conversion can overflow.
	last := float64(kms.Horizon().Unix() + 1)
	switch {
	case (seconds == nil) == (to == nil):
		return out, invalid("Specify exactly one of Seconds and To")
	case seconds != nil:
		s := *seconds
		what := "Seconds " + strconv.FormatFloat(s, 'f', -1, 64) + " would move the clock"
		switch {
		case !(s >= 0):
			return out, invalid("Seconds must not be negative; the clock never goes backwards")
		case s > last:
			return out, pastHorizon(what)
		case s < float64(math.MaxInt64/1e9):
			// One atomic step of the clock, as concurrent advances need.
			if _, err := h.clock.Advance(time.Duration(math.Round(s * 1e9))); err != nil {
				return out, pastHorizon(what)
			}
		default: // more than a time.Duration holds (292 years)
			now := h.clock.Now()
			sec, frac := math.Modf(s)
			if h.clock.Set(time.Unix(now.Unix()+int64(sec), int64(now.Nanosecond())+int64(math.Round(frac*1e9)))) != nil {
				return out, pastHorizon(what)
			}
		}
	default:
		if !(*to >= 0) {
			return out, invalid("To must be an instant in epoch seconds, not before 1970")
		}
		what := "To " + strconv.FormatFloat(*to, 'f', -1, 64) + " is"
		if *to > last {
			return out, pastHorizon(what)
		}
		sec, frac := math.Modf(*to)
		t := time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC()
		switch err := h.clock.Set(t); {
		case errors.Is(err, kms.ErrPastHorizon):
			return out, pastHorizon(what)
		case errors.Is(err, kms.ErrClockBackwards):
			return out, invalid("To " + t.Format(time.RFC3339Nano) + " is before the clock's current time " +
				h.clock.Now().Format(time.RFC3339Nano) + "; the clock never goes backwards")
		case err != nil:
			return out, err
		}
	}
	n := h.svc.Sweep()
	return h.clockState(out, &n), nil
}

// now serves KmsModel.Now: it applies every due event and answers
// {"Now": t, "EventsApplied": n, "NextEventTime": t}.
func (h *Handler) now(body, out []byte) ([]byte, error) {
	if err := decodeObject(body, func(r *reader, _ []byte) error { return r.skip() }); err != nil {
		return out, err
	}
	n := h.svc.Sweep()
	return h.clockState(out, &n), nil
}

func (h *Handler) clockState(out []byte, applied *int) []byte {
	w := writer{b: out}
	w.open()
	w.time("Now", h.clock.Now())
	w.int("EventsApplied", int64(*applied))
	if next, ok := h.svc.NextEventTime(); ok {
		w.time("NextEventTime", next)
	}
	w.close()
	return w.b
}
