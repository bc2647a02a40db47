// Package consistency is the pure core of kmsmodel's eventual-consistency
// model: how long a change takes to propagate, and whether a given reader
// sees it at a given instant. It has no I/O, no clock and no state: time
// is an input (Unix microseconds, as package kms keeps it) and randomness
// is a seed, so that the same seed, change and reader always give the same
// answer. Package kms is the orchestrator that records changes and asks.
//
// # Why
//
// The AWS KMS API is eventually consistent (AWS KMS Developer Guide,
// "Eventual consistency", accessing-kms.html#programming-eventual-consistency):
// a change may not be visible to the next call; propagation usually takes
// under a few seconds and sometimes several minutes. Real KMS serves each
// request from one host of a Regional fleet, so a change reaches callers
// one host at a time.
//
// # The model (decision D40)
//
// Each change has an identity (a 64-bit number the orchestrator gives it)
// and the instant it was made. Its full propagation delay d (Model.Propagation) is drawn from a
// Distribution by hashing the seed and the change: with probability
// 1−TailProbability uniformly in [Min, Typical], otherwise uniformly in
// (Typical, Max]. Within [made, made+d) the share of the fleet that has the
// change grows linearly from 0 to 1, and a reader sees it when its own
// hashed position (seed, change, reader) lies below that share; from
// made+d on every reader sees it. A reader that once saw a change keeps
// seeing it later (its position is fixed and the share only grows), so a
// per-principal reader never sees a change undone; a per-call reader (each
// call a new reader) may see it come and go, as calls landing on different
// hosts would.
//
// Deletions fire late (decision D43): DeletionDelay draws, for a key and
// its DeletionDate, a delay uniform in [0, MaxDeletionDelay], AWS's "up to
// 24 hours" (deleting-keys.html).
//
// # Bounds
//
// A change is invisible to every reader at the instant it is made (unless
// its delay is 0) and visible to every reader from made+Max on; deletions
// fire within [DeletionDate, DeletionDate+MaxDeletionDelay]. Draws are
// exact to the microsecond.
package consistency
