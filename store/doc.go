// Package store defines how kmsmodel persists the state of a kms.Service:
// the Store interface that the service consumes, its records (Key,
// Rotation, Alias), the atomic Batch write, the sentinel errors every store
// returns, and Memory, the in-memory reference implementation.
//
// # Model
//
// The service keeps its working state in memory and writes each change
// through the Store as one Batch per operation or scheduled event, all of
// it or none of it. Concurrent changes are written in groups: one Apply of
// several batches, in the order the service made them, all or none, with
// one commit (one fsync on disk) for the whole group (see kms.Open for
// what the service guarantees its callers). When a service opens over a store it reads every
// key, rotation and alias back and rebuilds its schedule from the keys'
// NextRotation, OnDemandDone, DeletionDate and StateDone fields.
//
// # Regions
//
// Keys, aliases and custom key stores carry their Region; an empty Region
// (records written before Regions were recorded) is the service's default
// Region. An alias's identity includes its Region. The replicas of a
// multi-Region key share its key ID, so a replica's record ID is
// "<Region>/<key ID>"; a store treats IDs as opaque strings.
//
// # Errors
//
// ErrNotFound, ErrExists, ErrConflict, ErrClosed and ErrCorrupt are defined
// here once. Every Store returns these identities (possibly wrapped with
// %w), so callers test them with errors.Is whatever the store. Batch.Validate
// gives implementations the exact rules.
//
// # Implementations
//
// Memory lives here. The go.etcd.io/bbolt adapter is the subpackage
// store/boltstore, so that neither this package nor kms links bbolt. The
// conformance suite every store must pass is store/storetest.
package store
