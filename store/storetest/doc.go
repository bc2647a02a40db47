// Package storetest is the conformance suite every store.Store must pass.
// It is a test-support package: only _test.go files import it.
//
// # Use
//
// A store's tests call RunConformanceTests with a function that makes a
// fresh, empty store for one subtest:
//
//	func TestConformance(t *testing.T) {
//		storetest.RunConformanceTests(t, func(t *testing.T) store.Store {
//			return store.NewMemory()
//		})
//	}
//
// Each subtest gets its own store and closes it when done (Close is
// idempotent, so the maker may also close it in a t.Cleanup).
//
// A store.Shared runs RunSharedConformanceTests too. Its own tests may
// follow its Watch with a Replica, which rebuilds the store's content from
// the Changes and checks it against the store.
//
// # What it checks
//
//   - Round trips: every field of Key, Rotation, Alias and
//     CustomKeyStore (their Regions included) reads back as written, times compared with time.Time.Equal (non-UTC locations,
//     nanoseconds, times before 1970 and far in the future, the zero time,
//     which must read back IsZero), every keystate enum value, and strings
//     with any bytes. Caller slices are not aliased.
//   - Material: Key.Material reads back as written, absent or with any
//     bytes; a later Version adds, replaces or drops it; the store keeps
//     its own copy (changing the caller's slice after Apply, or the one
//     Key or Keys returned, changes nothing stored), one per key even when
//     a primary and its replica were given the same slice.
//   - PublicKey: Key.PublicKey reads back as written, absent, alone, with
//     imported material or Material or neither, with any bytes; a later
//     Version adds, replaces or drops it, and keeps it while it drops the
//     material; the store keeps its own copy, as for Material.
//   - Policy: Key.Policy reads back as written, empty (AWS's default
//     policy), short, or as long as a key policy may be (131,072
//     characters, non-ASCII ones among them: several hundred KB of
//     UTF-8), alone or with every other field; a later Version adds,
//     replaces or drops it, and keeps it while it changes other fields.
//   - Sentinels: ErrNotFound, ErrExists, ErrConflict and ErrClosed, tested
//     with errors.Is, and no other sentinel on the same error.
//   - Listing: Keys, Rotations and Aliases return records in byte order of
//     ID (Aliases: Region, then account, then name), deterministically;
//     pages are full (exactly min(limit, remaining) records), since readers
//     stop at a short page; after may name no record; limit 0 returns
//     nothing.
//   - Regions: aliases of one account and name in different Regions are
//     different records; a replica's key ID "<Region>/<key ID>" is a key ID
//     like any other (Key, Keys, Rotations, ScanRotations, DeleteKeys,
//     alias KeyIDs), kept apart from its primary's.
//   - Batches: the order and rules documented on store.Batch, including
//     DeleteKeys removing rotation histories and the aliases that still
//     name the key, and atomicity: a batch whose last part does not fit
//     writes nothing.
//   - Concurrency: concurrent writers (optimistic concurrency with exactly
//     one winner per version) and readers, meant to run under -race, and
//     Close while calls are in progress.
//   - The root secret: Secret returns the bytes of the one PutSecret (a
//     copy, not shared with the caller's slices) or ErrNotFound; a second
//     PutSecret fails with ErrExists and its batch writes nothing; of
//     concurrent first PutSecrets exactly one succeeds; formatting the
//     store with fmt does not print it.
//   - The latest instant: LatestInstant is the zero time on a new store;
//     a batch's Now sets it, alone or with other parts; an earlier Now
//     leaves it; a batch that does not fit leaves it; instants from year 1
//     to 9999 (before 1970 included) read back time.Time.Equal; of
//     concurrent batches the latest Now wins. (The suite does not reopen
//     stores: each store's own tests check that the instant survives it.)
//   - Grants: every field of store.Grant reads back as written (any bytes,
//     times as above, maps of hundreds of entries); nil Operations and
//     encryption context maps read back nil, and empty non-nil ones empty
//     and non-nil (the store must keep them apart: a grant's nil
//     constraint is none, an empty one constrains to the empty context).
//     Grants gives grants by key record ID, then grant ID, in byte order,
//     whatever the IDs' lengths (a replica's "<Region>/<key ID>", IDs that
//     are prefixes of others) and the order they were put in; a put
//     replaces a grant of the same key and grant ID; DeleteGrants removes
//     only what it names; a grant put and deleted in one batch is gone;
//     deleting a key deletes its grants, and a key created again has none;
//     a grant of a missing key (or with an empty grant or key ID) and the
//     deletion of a missing grant fail with ErrNotFound and write nothing
//     of their batch; changing the caller's Operations or maps after
//     Apply changes nothing stored; Grants stops at fn's first error and
//     returns it; one Grants call sees one state of the store, under
//     concurrent writes; Grants returns ErrClosed after Close. The suite
//     does not change what fn is given while fn runs (the contract only
//     forbids keeping it; store.Memory hands fn its own maps and slices).
//   - Close: idempotent; every other method returns ErrClosed afterwards.
package storetest
