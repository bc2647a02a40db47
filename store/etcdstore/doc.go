// Package etcdstore is a store.Shared over an etcd cluster
// (go.etcd.io/etcd/client/v3): the store contract, with the revisions,
// snapshots, watch and optimistic writes that several services writing
// one key space at once need.
//
// Packages store and kms never import it, so that a program that uses
// only them does not link etcd.
//
// # Opening
//
// Open connects with Options (endpoints, TLS, user and password as the
// etcd client takes them); New takes an existing *clientv3.Client.
// Options.Prefix is the part of the cluster's key space the store uses:
// stores under different prefixes are independent. Options.WrappingKey,
// 32 bytes, is required: the root secret is stored sealed under it
// (AES-256-GCM), and a format record sealed under it lets Open refuse a
// wrong key (ErrWrongWrappingKey) before any secret is read.
//
// # Layout
//
// Every record is one etcd key under the prefix: keys ("k/<ID>", with the
// length of their rotation history), one key per rotation
// ("r/<key><index>", in order), aliases ("a/<Region><account><name>", in
// store.Aliases order), an index of each key's aliases ("x/<key><alias>",
// so that deleting a key deletes its aliases), grants
// ("g/<key><grant ID>"), custom key stores ("c/<ID>"), and meta records
// ("m/…": format, sealed secret, latest instant, rule profile, revision). Components
// are escaped so that keys sort as the records do. Records are encoded by
// this package (a version byte, then every field; times keep their
// nanoseconds and zone offset; nil and empty slices and maps stay apart).
//
// # Writes
//
// Apply and ApplyAt read the records a group names, check every batch as
// store.Batch.Validate, ValidateCustomKeyStores and ValidateGrants say,
// fold the group into its net effect (etcd does not let a transaction put
// one key twice) and commit it as one etcd transaction on the condition
// that every record read still has the ModRevision it was read at (or is
// still absent). A concurrent writer makes the condition fail: Apply then
// reads again and retries, so no update is lost; ApplyAt returns
// store.ErrConflict when what changed did so after the revision the caller
// read. A group that guards the custom key stores
// (store.Batch.GuardCustomKeyStores) also reads the ModRevisions of all of
// them, and its transaction compares the whole "c/" range: no custom key
// store written since the read. For ApplyAt, the records a batch's call
// read to decide (store.Batch.ReadKeys, ReadGrants) are read and compared
// as the records it writes; a key whose aliases it read
// (store.Batch.ReadKeyAliases) has its alias index read at the caller's
// revision and now, each entry compared, and its range compared for puts
// since the read. A group that only puts and rotates keys (with the secret, the
// latest instant and the rule profile: a CreateKey, a replacement of a
// key's record) skips the read when its state is known: the keys it
// creates absent, those it replaces as the store last saw them (Keys, its
// own commits and its Watch's Changes tell it their ModRevision, version
// and rotation count, which it keeps for up to 8,192 keys, 50–85 bytes
// each, an arbitrary one making room; a key it does not know is read). It is
// then one transaction, on the condition that the keys are still absent
// or at the ModRevision seen, which writes the latest instant and the
// profile under comparisons of their stored values; when the condition
// fails, the group goes the way of any other.
// A group needs about one comparison per record it names and one
// write per record it changes (more to delete a key with aliases and
// grants); Options.MaxTxnOps, at most the cluster's --max-txn-ops (default
// 128), bounds both, and a larger group fails with ErrTooManyOps. A
// transaction is also at most one etcd request (the server's
// --max-request-bytes, 1.5 MiB by default: a few keys with the largest
// key policies); a larger group fails with an error that says so.
//
// # Revisions
//
// A store's revisions are etcd's, but only those of its own commits: every
// commit also writes the store's revision record ("m/revision"), and
// Revision returns the revision of that record's last write, so that
// writes elsewhere in the cluster (other prefixes, other programs) do not
// make a watcher wait for commits that are not the store's. A group that
// leaves every record as it was is a commit too, with a revision and an
// empty Change.
//
// # Reads
//
// Reads are etcd's linearizable reads; listings that take several
// requests (ScanRotations, Grants, CustomKeyStores) read every page at
// the revision of the first. Snapshot pins every read of its view at one
// revision. Revision is a linearizable read, shared by concurrent
// callers: however many wait, one request at a time is in flight. A store
// that Open made makes these reads (etcd's Range, as the client would)
// over a connection of its own to one endpoint, with TLS when the etcd
// client would use it, framed by the store and read by the reading
// goroutine itself in blocking system calls: Revision costs 70 µs of CPU
// where the client's goroutines and the network poller made it 205 (see
// rangeconn.go). A failure sends the read, and the next 64, through the
// client, then the next endpoint is tried. A store whose client
// authenticates (Options.Username), or that New made, reads through the
// client. Watch
// turns etcd's watch of the prefix into one store.Change per commit; from
// the revision of a store idle since, it starts at the cluster's revision,
// so that etcd's compaction of other prefixes' writes does not end it.
package etcdstore
