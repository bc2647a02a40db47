package consistency

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Distribution is the distribution of a change's full propagation delay:
// with probability 1−TailProbability uniform in [Min, Typical], otherwise
// uniform in (Typical, Max].
type Distribution struct {
	// Min is the shortest delay.
	Min time.Duration
	// Typical bounds the usual delays ("under a few seconds").
	Typical time.Duration
	// Max bounds the tail ("sometimes several minutes").
	Max time.Duration
	// TailProbability is the share of changes whose delay lies in the
	// tail, between 0 and 1.
	TailProbability float64
}

// DefaultDistribution is kmsmodel's reading of AWS's "usually under a few
// seconds, sometimes several minutes" (decision D40): 98% of changes take
// between 500 ms and 3 s, the other 2% up to 5 minutes.
func DefaultDistribution() Distribution {
	return Distribution{Min: 500 * time.Millisecond, Typical: 3 * time.Second, Max: 5 * time.Minute, TailProbability: 0.02}
}

// Fixed is the distribution whose every delay is d: useful in tests that
// want a window of known length.
func Fixed(d time.Duration) Distribution { return Distribution{Min: d, Typical: d, Max: d} }

// ErrInvalid is returned (wrapped) by Validate when a Model or
// Distribution is out of range.
var ErrInvalid = errors.New("consistency: invalid model")

// Validate returns nil when 0 ≤ Min ≤ Typical ≤ Max and TailProbability is
// within [0, 1], and otherwise an error wrapping ErrInvalid that says which
// bound fails.
func (d Distribution) Validate() error {
	switch {
	case d.Min < 0:
		return fmt.Errorf("%w: minimum delay %v is negative", ErrInvalid, d.Min)
	case d.Typical < d.Min:
		return fmt.Errorf("%w: typical delay %v is below the minimum %v", ErrInvalid, d.Typical, d.Min)
	case d.Max < d.Typical:
		return fmt.Errorf("%w: maximum delay %v is below the typical delay %v", ErrInvalid, d.Max, d.Typical)
	case !(d.TailProbability >= 0 && d.TailProbability <= 1):
		return fmt.Errorf("%w: tail probability %v is not within [0, 1]", ErrInvalid, d.TailProbability)
	}
	return nil
}

// String prints the distribution in the form ParseDistribution reads.
func (d Distribution) String() string {
	if d.Min == d.Typical && d.Typical == d.Max {
		return d.Min.String()
	}
	return fmt.Sprintf("%v-%v,%v:%v", d.Min, d.Typical, d.Max, d.TailProbability)
}

// ParseDistribution reads a distribution written "MIN-TYPICAL,MAX:TAIL"
// (for example "500ms-3s,5m:0.02", the default), or a single duration for
// Fixed ("2s"). The result is validated.
func ParseDistribution(s string) (Distribution, error) {
	var d Distribution
	if v, err := time.ParseDuration(s); err == nil {
		d = Fixed(v)
	} else {
		var lo, typ, hi string
		var tail float64
		body, rest, ok1 := cut(s, ',')
		lo, typ, ok2 := cut(body, '-')
		hi, tailText, ok3 := cut(rest, ':')
		if !ok1 || !ok2 || !ok3 {
			return d, fmt.Errorf("%w: %q is neither a duration nor MIN-TYPICAL,MAX:TAIL", ErrInvalid, s)
		}
		var err error
		if d.Min, err = time.ParseDuration(lo); err == nil {
			if d.Typical, err = time.ParseDuration(typ); err == nil {
				if d.Max, err = time.ParseDuration(hi); err == nil {
					_, err = fmt.Sscanf(tailText, "%g", &tail)
				}
			}
		}
		if err != nil {
			return Distribution{}, fmt.Errorf("%w: %q: %v", ErrInvalid, s, err)
		}
		d.TailProbability = tail
	}
	return d, d.Validate()
}

func cut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// Readers says who a "reader" is: whose view of a propagating change is
// decided once and kept.
type Readers uint8

const (
	// PerPrincipal: each calling principal has its own view, which only
	// moves forward: once it sees a change it keeps seeing it.
	PerPrincipal Readers = iota
	// PerCall: each call is a new reader, as if it reached a random host
	// of the fleet; a change may be seen by one call and not the next
	// until it has fully propagated.
	PerCall
)

// String returns "principal" or "call".
func (r Readers) String() string {
	if r == PerCall {
		return "call"
	}
	return "principal"
}

// ParseReaders reads "principal" or "call".
func ParseReaders(s string) (Readers, error) {
	switch s {
	case "principal":
		return PerPrincipal, nil
	case "call":
		return PerCall, nil
	}
	return 0, fmt.Errorf("%w: readers %q is neither principal nor call", ErrInvalid, s)
}

// Model is one configuration of the consistency model. Its methods are
// pure functions of the model and their arguments.
type Model struct {
	// Seed makes every draw reproducible. Package kms draws one from the
	// service's randomness source when it is 0.
	Seed uint64
	// Delay is the distribution of full propagation delays.
	Delay Distribution
	// MaxDeletionDelay bounds how long after its DeletionDate a key's
	// deletion fires (AWS: up to 24 hours).
	MaxDeletionDelay time.Duration
	// Readers says whether views are per principal or per call.
	Readers Readers
}

// Default is the model with DefaultDistribution, deletions up to 24 hours
// late, per-principal views and a seed drawn by package kms.
func Default() Model {
	return Model{Delay: DefaultDistribution(), MaxDeletionDelay: 24 * time.Hour}
}

// Validate returns nil when the model's distribution is valid, its
// MaxDeletionDelay not negative and its Readers known; otherwise an error
// wrapping ErrInvalid.
func (m Model) Validate() error {
	if err := m.Delay.Validate(); err != nil {
		return err
	}
	if m.MaxDeletionDelay < 0 {
		return fmt.Errorf("%w: maximum deletion delay %v is negative", ErrInvalid, m.MaxDeletionDelay)
	}
	if m.Readers > PerCall {
		return fmt.Errorf("%w: unknown readers %d", ErrInvalid, m.Readers)
	}
	return nil
}

// Clamp returns the nearest valid model: negative durations become 0,
// Typical and Max are raised to what precedes them, TailProbability is
// brought into [0, 1] (NaN: 0) and an unknown Readers becomes
// PerPrincipal.
func (m Model) Clamp() Model {
	d := &m.Delay
	d.Min = max(d.Min, 0)
	d.Typical = max(d.Typical, d.Min)
	d.Max = max(d.Max, d.Typical)
	if !(d.TailProbability >= 0) {
		d.TailProbability = 0
	}
	d.TailProbability = min(d.TailProbability, 1)
	m.MaxDeletionDelay = max(m.MaxDeletionDelay, 0)
	if m.Readers > PerCall {
		m.Readers = PerPrincipal
	}
	return m
}

// Salts keep the draws of one change independent of each other.
const (
	saltDelay uint64 = 0x6a09e667f3bcc908 + iota
	saltTail
	saltReader
	saltDeletion
)

// mix is SplitMix64's finaliser: a bijection of 64-bit words whose output
// bits each depend on every input bit.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// hash combines the seed, a salt and two words.
func (m Model) hash(salt, a, b uint64) uint64 {
	return mix(mix(mix(m.Seed^salt)^a) ^ b)
}

// unit maps a word to [0, 1).
func unit(x uint64) float64 { return float64(x>>11) / (1 << 53) }

// Propagation returns the full propagation delay of change, in
// microseconds.
func (m Model) Propagation(change uint64) int64 {
	d := m.Delay
	lo, hi := d.Min.Microseconds(), d.Typical.Microseconds()
	if unit(m.hash(saltTail, change, 0)) < d.TailProbability && d.Max > d.Typical {
		lo, hi = hi+1, d.Max.Microseconds()
	}
	return between(m.hash(saltDelay, change, 0), lo, hi)
}

// between maps x to [lo, hi] (lo ≤ hi), uniformly up to a bias of at most
// (hi−lo+1)/2^64.
func between(x uint64, lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + int64(x%uint64(hi-lo+1))
}

// FullAt is the instant from which every reader sees change, made at made
// (Unix microseconds).
func (m Model) FullAt(change uint64, made int64) int64 { return made + m.Propagation(change) }

// Visible reports whether reader sees change, made at made, at instant now
// (both Unix microseconds). It is false at made (unless the delay is 0)
// and true from FullAt on; between, it is true for a share of readers that
// grows linearly with time, and for a given reader it never turns false
// again as now grows.
func (m Model) Visible(change uint64, made, now int64, reader uint64) bool {
	d := m.Propagation(change)
	e := now - made
	switch {
	case e >= d:
		return true
	case e <= 0:
		return false
	}
	return unit(m.hash(saltReader, change, reader)) < float64(e)/float64(d)
}

// DeletionDelay is how long after deletionDate (Unix microseconds) the
// deletion of key fires, in microseconds: uniform in [0,
// MaxDeletionDelay].
func (m Model) DeletionDelay(key uint64, deletionDate int64) int64 {
	return between(m.hash(saltDeletion, key, uint64(deletionDate)), 0, m.MaxDeletionDelay.Microseconds())
}

// Reader returns the reader identity of a name (a principal's ARN), a
// 64-bit FNV-1a hash of it.
func Reader(name string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	return h
}

// CallReader returns the reader identity of the n-th call, for PerCall
// views: distinct from every other call's.
func CallReader(n uint64) uint64 { return mix(n ^ math.MaxUint64>>1) }
