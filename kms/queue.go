package kms

import "slices"

// eventKind is what a queued event does.
type eventKind uint8

const (
	evAutoRotation   eventKind = iota + 1 // automatic rotation due (D13)
	evOnDemandDone                        // an on-demand rotation completes (D10)
	evDeletion                            // the waiting period ends (D7)
	evMaterialExpiry                      // imported key material reaches its ValidTo
	evStoreConnected                      // a CONNECTING custom key store becomes CONNECTED (slot: its store slot)
	evReplicaReady                        // a replica's Creating state ends
	evUpdateDone                          // a key's Updating state ends (UpdatePrimaryRegion)
	evDeletionLate                        // a deletion deferred past DeletionDate fires (eventual consistency, D43)
)

// queued is one scheduled event. Events are ordered by instant, then by the
// order in which they were queued.
// It holds the key's slot number, not a pointer, so that the queue's
// memory has no pointers for the garbage collector to scan.
type queued struct {
	at   int64
	seq  uint64
	slot uint32
	what eventKind
}

func (a *queued) before(b *queued) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func cmpQueued(a, b queued) int {
	switch {
	case a.before(&b):
		return -1
	case b.before(&a):
		return 1
	}
	return 0
}

// eventQueue is a calendar queue: future events wait, unsorted, in one
// bucket per day; the day holding the earliest events is sorted once into a
// run that is consumed in order, with a small heap beside it for events
// queued into that day meanwhile. A push or pop costs O(1) amortised plus
// the sort of each day's bucket (O(log b) per event for b events a day,
// nearly free when a day's events were queued in order); finding the next
// day costs O(log d) over the d days that have events. Nothing scans the
// keys. Buckets are chains of fixed-size chunks from a shared free list, so
// that thousands of future days cost little more than their events.
type eventQueue struct {
	n int

	// The current day: run[head:] sorted, plus late arrivals in extra. All
	// events of the current day are here; all others are in buckets. An
	// event queued for a day before the current one goes to its bucket and
	// makes min rewind (see rewind).
	run     []queued
	head    int
	aheadTo int // the end of the events ahead last returned
	extra   eventHeap
	day     int64
	started bool

	// A day's bucket is in near, at the day's number modulo nearDays, if
	// that place was free when the bucket was made, and otherwise in far.
	// A push usually finds its bucket with one array read: the days a
	// fleet's rotations fall on (up to 2560 days ahead, D16) fit in near.
	near []nearBucket
	far  map[int64]*bucket // by day number
	days dayHeap           // the day numbers of non-empty buckets
	free []*chunk          // emptied chunks, for reuse
}

// nearDays is the size of eventQueue.near, a power of two.
const nearDays = 4096

// nearBucket is a place in eventQueue.near: the bucket of day, or none.
type nearBucket struct {
	day int64
	b   *bucket
}

// bucketOf returns the bucket of day d, or nil.
func (q *eventQueue) bucketOf(d int64) *bucket {
	if q.near != nil {
		if nb := &q.near[uint64(d)%nearDays]; nb.b != nil && nb.day == d {
			return nb.b
		}
	}
	return q.far[d]
}

// newBucket makes the bucket of day d, which has none.
func (q *eventQueue) newBucket(d int64) *bucket {
	if q.near == nil {
		q.near = make([]nearBucket, nearDays)
	}
	b := new(bucket)
	if nb := &q.near[uint64(d)%nearDays]; nb.b == nil {
		nb.day, nb.b = d, b
	} else {
		if q.far == nil {
			q.far = make(map[int64]*bucket)
		}
		q.far[d] = b
	}
	q.days.push(d)
	return b
}

// dropBucket forgets the bucket of day d.
func (q *eventQueue) dropBucket(d int64) {
	if nb := &q.near[uint64(d)%nearDays]; nb.b != nil && nb.day == d {
		nb.b = nil
		return
	}
	delete(q.far, d)
}

// chunkSize is how many events one chunk of a bucket holds.
const chunkSize = 128

// chunk is a piece of a bucket: up to chunkSize events.
type chunk struct {
	ev   [chunkSize]queued
	n    int
	next *chunk
}

// bucket is one day's events: a chain of chunks, appended at the tail.
type bucket struct {
	head, tail *chunk
	n          int
}

const bucketNanos = usPerDay

func dayOf(at int64) int64 {
	d := at / bucketNanos
	if at < 0 && at%bucketNanos != 0 {
		d--
	}
	return d
}

func (q *eventQueue) len() int { return q.n }

func (q *eventQueue) push(e queued) {
	q.n++
	d := dayOf(e.at)
	if q.started && d == q.day {
		q.extra.push(e)
		return
	}
	q.toBucket(d, e)
}

func (q *eventQueue) toBucket(d int64, e queued) {
	b := q.bucketOf(d)
	if b == nil {
		b = q.newBucket(d)
	}
	if b.tail == nil || b.tail.n == chunkSize {
		c := q.newChunk()
		if b.tail == nil {
			b.head = c
		} else {
			b.tail.next = c
		}
		b.tail = c
	}
	b.tail.ev[b.tail.n] = e
	b.tail.n++
	b.n++
}

func (q *eventQueue) newChunk() *chunk {
	if n := len(q.free); n > 0 {
		c := q.free[n-1]
		q.free = q.free[:n-1]
		return c
	}
	return new(chunk)
}

// min returns the earliest event. The queue must not be empty.
func (q *eventQueue) min() *queued {
	if q.started && len(q.days) > 0 && q.days[0] < q.day {
		q.rewind()
	}
	for q.head == len(q.run) && q.extra.len() == 0 {
		q.advanceDay()
	}
	switch {
	case q.head == len(q.run):
		return q.extra.min()
	case q.extra.len() == 0 || q.run[q.head].before(q.extra.min()):
		return &q.run[q.head]
	}
	return q.extra.min()
}

// pop removes and returns the earliest event. The queue must not be empty.
func (q *eventQueue) pop() queued {
	m := q.min()
	q.n--
	if q.head < len(q.run) && m == &q.run[q.head] {
		e := *m
		q.head++
		return e
	}
	return q.extra.pop()
}

// touchAhead is how many of the current day's next events ahead returns
// at once.
const touchAhead = 32

// ahead returns the next touchAhead events of the current day's sorted run
// when the previous ones it returned have been popped, and otherwise nil:
// the events about to be applied, for Service.touch.
func (q *eventQueue) ahead() []queued {
	if !q.started || q.head < q.aheadTo || q.head >= len(q.run) {
		return nil
	}
	q.aheadTo = min(q.head+touchAhead, len(q.run))
	return q.run[q.head:q.aheadTo]
}

// rewind returns the current day's events to their bucket, because an
// earlier day has been queued since; the next min starts from that day.
func (q *eventQueue) rewind() {
	for _, e := range q.run[q.head:] {
		q.toBucket(q.day, e)
	}
	for q.extra.len() > 0 {
		q.toBucket(q.day, q.extra.pop())
	}
	q.run, q.head, q.aheadTo, q.started = q.run[:0], 0, 0, false
}

// advanceDay makes the earliest bucket the current day: its events are
// copied into the run (one buffer, reused from day to day) and its chunks
// go back to the free list.
func (q *eventQueue) advanceDay() {
	d := q.days.pop()
	b := q.bucketOf(d)
	q.dropBucket(d)
	run := slices.Grow(q.run[:0], b.n)
	for c := b.head; c != nil; {
		run = append(run, c.ev[:c.n]...)
		next := c.next
		c.n, c.next = 0, nil
		q.free = append(q.free, c)
		c = next
	}
	if !slices.IsSortedFunc(run, cmpQueued) {
		slices.SortFunc(run, cmpQueued)
	}
	q.run, q.head, q.aheadTo = run, 0, 0
	q.day, q.started = d, true
}

// eventHeap is a binary min-heap of events.
type eventHeap struct{ h []queued }

func (q *eventHeap) len() int     { return len(q.h) }
func (q *eventHeap) min() *queued { return &q.h[0] }

func (q *eventHeap) push(e queued) {
	q.h = append(q.h, e)
	i := len(q.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.h[i].before(&q.h[p]) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *eventHeap) pop() queued {
	top := q.h[0]
	last := len(q.h) - 1
	q.h[0] = q.h[last]
	q.h[last] = queued{}
	q.h = q.h[:last]
	i, n := 0, last
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.h[r].before(&q.h[l]) {
			m = r
		}
		if !q.h[m].before(&q.h[i]) {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return top
}

// dayHeap is a binary min-heap of day numbers.
type dayHeap []int64

func (h *dayHeap) push(d int64) {
	*h = append(*h, d)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p] <= s[i] {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *dayHeap) pop() int64 {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l := 2*i + 1
		if l >= last {
			break
		}
		m := l
		if r := l + 1; r < last && s[r] < s[l] {
			m = r
		}
		if s[i] <= s[m] {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
