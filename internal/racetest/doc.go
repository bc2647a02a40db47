// Package racetest wraps a store.Shared so that a cluster node loses a
// write race when a test wants it to: the way tests show what a lost race
// does to the node (issue 18: the node undoes its failed writes, runs the
// calls again, and ends as a fresh node over the store would start).
//
// # Races
//
// Before arms a Store with a function, typically another node's write of
// the records the node is about to write. The Store runs it once, at the
// start of the node's next ApplyAt, before the write reaches the wrapped
// store: the write, computed from a revision before the other node's,
// is then refused with store.ErrConflict. Unarmed, a Store passes every
// call through.
package racetest
