package kmshttp

import (
	"math"
	"strconv"
	"time"
)

// The KmsModel targets are kmsmodel's own, not AWS's: they exist only when
// the handler was given the service's *kms.ManualClock (WithManualClock);
// otherwise they are UnknownOperationException like any unknown target.

// maxAdvance bounds one AdvanceClock step, and the latest instant To may
// name, so that the clock's Unix-nanosecond count cannot overflow.
const maxAdvance = 200 * 365 * 24 * time.Hour

var latestInstant = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)

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
	switch {
	case (seconds == nil) == (to == nil):
		return out, invalid("Specify exactly one of Seconds and To")
	case seconds != nil:
		s := *seconds
		if s < 0 || s > maxAdvance.Seconds() {
			return out, invalid("Seconds must be between 0 and " + strconv.FormatFloat(maxAdvance.Seconds(), 'f', 0, 64) + "; the clock never goes backwards")
		}
		h.clock.Advance(time.Duration(math.Round(s * 1e9)))
	default:
		if *to < 0 || *to > float64(latestInstant.Unix()) {
			return out, invalid("To must be an instant between 1970 and 2262 in epoch seconds")
		}
		sec, frac := math.Modf(*to)
		t := time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC()
		if !h.clock.Set(t) {
			return out, invalid("To " + t.Format(time.RFC3339Nano) + " is before the clock's current time " +
				h.clock.Now().Format(time.RFC3339Nano) + "; the clock never goes backwards")
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
