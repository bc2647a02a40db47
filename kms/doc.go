// Package kms is kmsmodel's model of the AWS KMS service: keys and their
// lifecycle, automatic and on-demand rotation, aliases and tags, driven by an
// injected clock so that rotations and deletions happen on schedule in
// simulated time.
//
// # The service
//
// New builds a Service from options: account and Region, the Clock, the
// randomness source for key IDs, the on-demand rotation quota (decision D1,
// default 10) and duration (D10, default 0), an Authorizer and an Observer.
// Each AWS operation is a method of the same name taking a context and an
// input struct with the AWS field names, and returning an output struct
// with the AWS field names. A Service is safe for concurrent use.
//
// # Time
//
// The service never reads the wall clock unless given WallClock (the
// default), never sleeps and starts no goroutine or timer. A ManualClock
// starts at the instant the caller gives and moves only by Set and Advance.
// Scheduled events (automatic rotations at their exact instants, D13;
// completions of on-demand rotations, D10; deletions at DeletionDate, D7)
// sit in a priority queue. Every call first applies, in time order, every
// event due by the clock's current instant, and Sweep does the same on its
// own, so a simulator that advances the clock a year sees each rotation of
// that year with its own date.
//
// # Errors
//
// Every refusal is a *keystate.Error: errors.Is matches it against the
// keystate sentinel of its AWS exception (keystate.ErrDisabled, …) and
// errors.As extracts the operation, key ARN, key state and message. Checks
// run in the order of decision D3: input validation, identifier syntax, key
// lookup, cross-account rule, authorization, the key-state table, key-kind
// support, then quota and conflicts. A refused call changes nothing.
//
// # Events
//
// With WithObserver, every call (accepted or refused) and every scheduled
// event produces an Event record, delivered in order: the CloudTrail-like
// trail of what happened to each key. Records never carry key material.
//
// # Not modelled yet
//
// Imported key material operations, multi-Region replicas, custom key
// stores, AWS managed keys, cryptographic operations and persistence are
// not part of this version; CreateKey with a custom key store origin is
// refused with UnsupportedOperationException.
package kms
