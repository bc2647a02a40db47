// Package keystate is the pure core of kmsmodel: the AWS KMS key states, the
// events that move a key between them, the operation × state table that says
// which calls a key accepts, and the typed errors every refusal returns.
//
// The package does no I/O, reads no clock and keeps no per-key objects: a
// key's lifecycle is one State byte plus a five-byte Kind, and every function
// here is a pure function of its arguments, safe for concurrent use.
//
// # States
//
// State has the eight AWS KeyState values (Creating, Enabled, Disabled,
// PendingDeletion, PendingImport, PendingReplicaDeletion, Unavailable,
// Updating), whose String forms are the AWS strings, plus two markers of
// kmsmodel's own: None (not created yet) and Deleted (deletion completed;
// AWS reports such a key as not found). The key kinds that change the rules
// are typed too: KeySpec, KeyUsage (with ValidKeyUsage and
// ValidateKeySpecUsage for the allowed pairs), Origin, KeyManager and
// MultiRegionRole, gathered in Kind.
//
// # Transitions
//
// Every arrow of the lifecycle (creation, DisableKey/EnableKey, deletion
// scheduled, cancelled and completed, import and loss of key material,
// replica creation, UpdatePrimaryRegion, custom key store disconnection and
// reconnection) is an Event. The graph is defined once, as a
// github.com/looplab/fsm machine, and compiled when the package loads into a
// [state][event] table; Transition and Can read that table, so a transition
// costs a few nanoseconds and no key holds an FSM instance. A refused event
// leaves the state unchanged.
//
// An Unavailable key does not remember what it returns to: EnableKey and
// DisableKey on it are accepted and change nothing now (footnote [12]); the
// caller records the desired state and raises StoreReconnectEnabled or
// StoreReconnectDisabled when the store reconnects.
//
// # Operations
//
// Operation names every AWS KMS API operation. Check decides whether an
// operation is allowed on a key in a given state and of a given kind, from
// the key-state table of the AWS documentation held as data (the stateTable
// variable, cell for cell as published), its footnotes, and the project's
// decisions for what AWS leaves open: the order of checks (D3), unsupported
// kinds (D2a, D8, D15) and pending deletion in cryptographic calls (D17).
// The rules are those of 2024, from which kmsmodel was specified.
//
// # Errors
//
// Every refusal is an *Error carrying the AWS exception name (Code), the
// operation, the key ARN, the key's state and the message real KMS sends
// (decision D19). Each exception name is also an Exception constant that
// serves as a sentinel:
//
//	if errors.Is(err, keystate.ErrDisabled) { … }
//	var e *keystate.Error
//	if errors.As(err, &e) { log.Print(e.Op, e.KeyID, e.State) }
package keystate
