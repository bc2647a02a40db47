// Package boltstore is a store.Store in one go.etcd.io/bbolt file. It lives
// apart from package store so that store and kms never link bbolt.
//
// # Opening
//
// Open(path, opts) opens or creates the file (mode 0600). bbolt locks the
// file: a second opener, in this process or another, waits at most
// Options.Timeout (DefaultTimeout when zero, never forever) and then fails
// with an error naming the file and wrapping ErrLocked. A file that is not
// a bbolt file, a bbolt file that is not a kmsmodel store, a file of an
// unknown or newer format version, and damage that Open or a later call can
// see all give an error wrapping store.ErrCorrupt; bbolt's panics on
// damaged pages are recovered into such errors too.
//
// # The root secret and its wrapping key
//
// The store keeps the service's root secret (store.Batch's PutSecret), from
// which the key material of every AWS_KMS key is derived, in its meta
// bucket. Options.WrappingKey, a 32-byte AES-256 key the caller supplies,
// encrypts it at rest with AES-256-GCM (a random nonce each time it is
// sealed; the file's magic and format version as additional data); without
// one the secret is stored in the clear. With a key, neither the secret nor
// the key is ever written to the file, and no error carries either.
//
// Once a store holds a secret in the clear, or has been opened with a key,
// it stays that way, and Open never lets the two mix: it fails with an error naming the file and wrapping
// ErrWrongWrappingKey when the key given does not decrypt the store's
// secret, when a store whose secret is encrypted is opened without a key
// ("a wrapping key is needed"), or when a store whose secret is in the
// clear is opened with one ("the store's secret is not encrypted"). A
// wrong key is detected before the store has a secret, too: the first Open
// with a key (the one creating the store, usually) records a check value
// of the key, an empty plaintext sealed under it, and later Opens must
// give a key that opens it. A key of the wrong length fails Open as well.
// Secret returns the decrypted secret.
//
// # Durability and group commit
//
// Apply returns nil only after its batch is durable: unless
// Options.NoSync, synced to disk. One goroutine, the commit loop, writes:
// it gathers every Apply waiting when it starts a commit into one group,
// so that one fsync serves many writers and the size of the group follows
// the number of writers. Each batch is validated (store.Batch.Validate)
// against the state the batches before it left, and one that does not fit
// fails alone. If a write fails outright (bbolt refuses a key, say), the
// group's writes are undone and each batch of the group is committed on
// its own, so that only the culprit fails.
//
// # Write-ahead log
//
// A group is made durable by a write-ahead log beside the file (its path
// with WALSuffix, ".wal", appended): the group's writes go into a bbolt
// write transaction that stays open across groups, and are recorded, as
// the puts and deletes they are, in one record appended to the log and
// synced once. A bbolt commit would write every page the group dirtied
// and sync the file twice; the open transaction is committed (a
// checkpoint) only when the log passes 256 KiB, before any read (so that
// reads see every acknowledged write), and at Close, which then removes
// the log. Open applies the log's records to the file in one synced
// transaction before anything else reads it, and starts the log over.
// Records carry a CRC-32C and consecutive sequence numbers: the log ends
// at the first record that is cut short, damaged or left from an earlier
// round, so that a record a crash tore is dropped whole (its group was not
// acknowledged). A record whose checksum holds but whose operations do not
// decode fails Open with ErrCorrupt. The log is zeroed ahead of its
// records, so that syncing a record does not change the file's size. On
// Linux, when the file system allows it and syncs are on, records are
// written directly (O_DIRECT, whole 4 KB blocks), so that the sync has no
// page of the cache to write back first.
// When the log cannot be written, the store is broken: every later Apply
// fails, and so do reads while the file lacks logged groups (the next
// Open applies them). wal.go describes the log byte by byte.
//
// A process killed at any moment leaves files that open with every
// acknowledged batch in them and no batch in part (TestCrashSafety kills a
// writing child process with SIGKILL to check this, half of the time with
// a checkpoint every few groups; the TestWAL tests tear and damage the
// log's last record).
//
// # Format
//
// The file records a magic string and a format version (5) in its meta
// bucket. Keys, rotations, aliases, an index of aliases by key, custom
// key stores and grants have a bucket each; records use a compact binary encoding, ending with a
// CRC-32C that catches damage bbolt cannot see (it checksums only its meta
// pages). encoding.go describes format 5 byte by byte. Times keep their
// instant to the nanosecond but not their location: they read back in UTC
// (equal, with time.Time.Equal, to what was written).
//
// Format 2 adds imported key material to key records (sealed by the kms
// service under a key derived from the root secret, so it is protected at
// rest as the secret is). Open reads format 1 files and marks them format
// 2 at once, so that older builds refuse them with a clear ErrCorrupt
// ("format version 2 is newer than this build reads (1)") instead of
// misreading them. Format 3 adds the customkeystores bucket and a
// custom-key-store section to key records (store ID, XksKeyId, the state an
// Unavailable key returns to); Open reads format 1 and 2 files, creates
// the bucket and marks them format 3 in the same way. Format 4 adds
// Regions: a region section in key records (Region, PrimaryRegion,
// StateDone), a Region in custom key store records, and alias keys that
// begin with the alias's Region, so that aliases sort by Region, then
// account, then name. Open reads format 1 to 3 files as having no Regions
// (every Region ""), and upgrades them in one transaction, after checking
// them and the wrapping key: it rewrites their alias keys, re-seals the
// sealed secret and key-check records (their additional data names the
// format), and marks them format 4. Format 5 adds a material section to
// key records: the material the service generated for an asymmetric or
// HMAC key (store.Key.Material), sealed as imported material is. A key
// without it encodes as in format 4; Open reads format 1 to 4 files,
// upgrades them as above in the same transaction (re-sealing the sealed
// records for format 5) and marks them format 5, so that builds that read
// only format 4 refuse them. Format 5 also adds a public-key section to
// key records: the public key of an EXTERNAL asymmetric key's imported
// material (store.Key.PublicKey), kept in the clear as it is not secret;
// it came later in the same, unreleased, development cycle, so it shares
// format 5. So does the policy section, later still in that cycle: the
// key policy document a key's owner set (store.Key.Policy), up to 131,072
// characters; a key with AWS's default policy (Policy empty) has none.
// So does the grants bucket, later again: store.Grant records, keyed by
// their key's ID and their grant ID so that a key's grants are one range,
// which deleting the key deletes. Open creates the bucket in new files,
// in files of formats 1 to 4 with their upgrade, and in format 5 files
// written in that cycle before grants existed, which lack it (in a
// transaction of its own when nothing else needs upgrading; such a file
// has no grants). A grant's nil and empty Operations and encryption
// context maps are kept apart, so that its constraints mean after a
// reopen what they meant before. Grants gives grants in key ID order,
// though the bucket is not in that order (see Store.Grants).
//
// The meta bucket also keeps the service's latest instant, the latest
// store.Batch.Now applied, which LatestInstant returns: Apply writes it in
// the transaction of its batch, and only when it is later than the one
// stored. It is an optional meta record, like the secret, so it needs no
// format version: a file written before it existed reads as having the
// zero instant, and older builds, which check only the meta records they
// know, open files that have it (and leave it as it is).
//
// The checksums make every record read back either the one written or an
// ErrCorrupt error. They cannot report a record that damage to bbolt's own
// page structure or to a record's bbolt key hides from view; bbolt has no
// checksum that would.
//
// # Errors
//
// The store returns the sentinels of package store (ErrNotFound, ErrExists,
// ErrConflict, ErrClosed, ErrCorrupt), wrapped with %w. Its own sentinels
// are ErrLocked and ErrWrongWrappingKey, which only Open returns. Unlike store.Memory it
// honours its context: a call whose context is done before it starts
// returns the context's error.
package boltstore
