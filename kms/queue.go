package kms

// eventKind is what a queued event does.
type eventKind uint8

const (
	evAutoRotation eventKind = iota + 1 // automatic rotation due (D13)
	evOnDemandDone                      // an on-demand rotation completes (D10)
	evDeletion                          // the waiting period ends (D7)
)

// queued is one scheduled event. Events are ordered by instant, then by the
// order in which they were queued.
type queued struct {
	at   int64
	seq  uint64
	k    *key
	what eventKind
}

func (a *queued) before(b *queued) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

// eventQueue is a binary min-heap of queued events: O(log n) per push and
// pop, never a scan of the keys.
type eventQueue struct {
	h []queued
}

func (q *eventQueue) len() int     { return len(q.h) }
func (q *eventQueue) min() *queued { return &q.h[0] }

func (q *eventQueue) push(e queued) {
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

func (q *eventQueue) pop() queued {
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
