// Package faultstore wraps a store.Store so that chosen calls fail: the
// way tests show what a failed write does to its caller (the kms service
// must answer KMSInternalException and stay as it was).
//
// # Rules
//
// A Store counts the calls of each method (an Op). FailNth makes the n-th
// call of an Op from now fail; FailFrom makes every call from the n-th on
// fail; Heal removes every rule. A failing call does not reach the wrapped
// store, so a failed Apply writes nothing (and a failed Close leaves the
// wrapped store open). Without rules, a Store passes every call through
// unchanged: it passes the store conformance suite.
//
// # Holding writes
//
// Hold makes Apply calls wait before they reach the wrapped store until
// the test releases them: a write stays not durable for as long as the
// test needs to show what other callers see meanwhile (the kms service's
// group commit makes a call that saw an unwritten change wait for it).
// Batches counts the batches the Apply calls carried, so that a test can
// see how writes were grouped.
//
// # Errors
//
// A failing call returns an *Error naming the Op and the call's number. It
// wraps the error the rule gave, so errors.Is(err, given) holds (give
// store.ErrConflict to simulate a lost race, say), and it matches
// ErrInjected as well, so that a test can tell injected failures from real
// ones. A rule given a nil error fails with ErrInjected alone.
//
// A Store is safe for concurrent use; rules and counts are shared by all
// callers.
package faultstore
