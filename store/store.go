package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// The store's sentinel errors. Every Store returns these identities (wrapped
// at most with fmt.Errorf's %w), never errors of its own for these cases.
var (
	// ErrNotFound is returned when a record named by a read or by a batch
	// does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrExists is returned when a batch creates a key (Version 1) that
	// already exists.
	ErrExists = errors.New("store: already exists")
	// ErrConflict is returned when a batch replaces a key whose stored
	// Version is not the one before the batch's.
	ErrConflict = errors.New("store: version conflict")
	// ErrClosed is returned by every method of a closed Store except Close.
	ErrClosed = errors.New("store: closed")
	// ErrCorrupt is returned when persisted data cannot be decoded, or a
	// file is not a kmsmodel store or has an unknown format version.
	ErrCorrupt = errors.New("store: corrupt or unknown format")
)

// Key is the persisted record of one KMS key: everything about it except its
// rotation history, which is kept as separate Rotation records.
type Key struct {
	// ID is the record's identity: the key ID (a UUID, or "mrk-" and 32
	// hex digits), or, for a multi-Region replica made by ReplicateKey
	// (which shares its primary's key ID), "<Region>/<key ID>". Rotation
	// records, aliases and deletions name a key by this ID.
	ID string
	// Region is the key's AWS Region. It is empty in records written
	// before Regions were recorded; the service reads those as its
	// default Region.
	Region string
	// Version counts the writes of this record: 1 when created, then +1 per
	// replacement. It is the basis of optimistic concurrency (ErrConflict).
	Version uint64
	// Seq is the key's creation order within its store.
	Seq uint64
	// Account owns the key.
	Account     string
	Description string
	State       keystate.State
	Kind        keystate.Kind
	Created     time.Time
	Tags        []Tag

	// Automatic rotation: enabled flag, period, the instant the period
	// counts from (last automatic rotation or enable date, decision D11),
	// and the next due instant.
	AutoRotation       bool
	RotationPeriodDays uint16
	RotationAnchor     time.Time
	NextRotation       time.Time

	// OnDemandRotations is the number charged against the quota (D1).
	OnDemandRotations uint16
	// OnDemandStart and OnDemandDone bound the on-demand rotation in
	// progress; both are zero when none is.
	OnDemandStart time.Time
	OnDemandDone  time.Time

	// PendingWindowDays and DeletionDate are set while PendingDeletion.
	PendingWindowDays uint8
	DeletionDate      time.Time

	// Imported key material (Origin EXTERNAL keys). ImportedMaterial is
	// the material as the service sealed it (AES-256-GCM under a key
	// derived from the root secret), never in the clear; it is empty
	// while no material is imported. KeyMaterialID is the ID of the
	// material imported last, kept after that material is deleted or
	// expires. ExpirationModel (KEY_MATERIAL_EXPIRES or
	// KEY_MATERIAL_DOES_NOT_EXPIRE) and ValidTo (with KEY_MATERIAL_EXPIRES)
	// are set while material is imported.
	ImportedMaterial []byte
	KeyMaterialID    string
	ExpirationModel  string
	ValidTo          time.Time
	// KeyMaterialDescription is the description of the material
	// KeyMaterialID names (ImportKeyMaterial's KeyMaterialDescription,
	// under today's rules, kms.RulesCurrent); empty under the 2024 rules.
	KeyMaterialDescription string
	// Materials are, under today's rules (kms.RulesCurrent), a symmetric
	// EXTERNAL key's imported materials other than the one KeyMaterialID
	// names: first those of its earlier material versions, in version
	// order (Materials[i] is the material of version i, which ciphertexts
	// made before the i+1-th rotation name), then at most one with
	// Pending set, imported with NEW_KEY_MATERIAL and not yet rotated to.
	// Empty for every other key.
	Materials []KeyMaterial

	// Material is the private key of an asymmetric key, or the key of an
	// HMAC key, that the service generated (Origin AWS_KMS), sealed as
	// ImportedMaterial is and never in the clear. It is empty until the
	// service first needs it: such keys get their material on first use,
	// so that creating one costs no key generation. A multi-Region key's
	// primary and replicas hold the same material.
	Material []byte
	// Policy is the key's key policy document as its owner set it (by
	// CreateKey, ReplicateKey or PutKeyPolicy), or empty for AWS's
	// default key policy, which the service knows and does not store
	// per key.
	Policy string
	// PolicyBinding is when a cluster node bound Policy to the IAM users
	// and roles it names (kms decision D78): the count of principal
	// deletions it had applied then, plus one; 0 when none is recorded.
	PolicyBinding uint64

	// PublicKey is the public key (DER SubjectPublicKeyInfo) of an
	// EXTERNAL asymmetric key's imported material. Like KeyMaterialID, it
	// stays after the material is deleted or expires, so that GetPublicKey
	// still answers while the key is PendingImport. It is not secret.
	PublicKey []byte

	// Custom key store keys (Origin AWS_CLOUDHSM or EXTERNAL_KEY_STORE):
	// the store's ID, the external key's ID (EXTERNAL_KEY_STORE only),
	// and, while the key is Unavailable, the state it returns to when the
	// store reconnects (Enabled or Disabled; None otherwise).
	CustomKeyStoreID string
	XksKeyID         string
	DesiredState     keystate.State

	// Multi-Region keys: the Region of the key's primary (as DescribeKey's
	// MultiRegionConfiguration shows it; during UpdatePrimaryRegion, the
	// new primary's), and, while the key is Creating or Updating, the
	// instant that ends.
	PrimaryRegion string
	StateDone     time.Time
}

// KeyMaterial is one of a key's imported materials besides its current
// one (Key.Materials).
type KeyMaterial struct {
	// ID is the KeyMaterialId (64 hex digits).
	ID string
	// Sealed is the material as the service sealed it (as
	// Key.ImportedMaterial is), never in the clear; empty while it is
	// deleted or expired.
	Sealed []byte
	// ValidTo is when the material expires (KEY_MATERIAL_EXPIRES), or
	// zero when it does not expire or is not imported.
	ValidTo time.Time
	// Description is its KeyMaterialDescription.
	Description string
	// Pending marks the material imported with NEW_KEY_MATERIAL and not
	// yet made current by a rotation (KeyMaterialState PENDING_ROTATION).
	Pending bool
	// Rotating marks a Pending material that an on-demand rotation in
	// progress (Key.OnDemandStart) will make current.
	Rotating bool
}

// CustomKeyStore is the persisted record of a custom key store. It holds
// no secret: the service checks a KeyStorePassword or an XKS secret access
// key and then forgets it.
type CustomKeyStore struct {
	// ID is the custom key store ID ("cks-" and 17 hex digits).
	ID string
	// Region is the store's AWS Region; empty in records written before
	// Regions were recorded (the service's default Region).
	Region string
	// Seq is the store's creation order.
	Seq uint64
	// Account owns the store.
	Account string
	// Name is the CustomKeyStoreName, unique in its account.
	Name string
	// Type is AWS_CLOUDHSM or EXTERNAL_KEY_STORE.
	Type string
	// ConnectionState is CONNECTED, CONNECTING or DISCONNECTED, and
	// ConnectionErrorCode the AWS code when there is one.
	ConnectionState     string
	ConnectionErrorCode string
	Created             time.Time
	// ConnectDone is when a CONNECTING store becomes CONNECTED.
	ConnectDone time.Time

	// CloudHSM key stores.
	CloudHsmClusterID      string
	TrustAnchorCertificate string

	// External key stores: the XksProxy* configuration, with the access
	// key ID of its credential (never the secret access key).
	XksProxyURIEndpoint             string
	XksProxyURIPath                 string
	XksProxyConnectivity            string
	XksProxyVpcEndpointServiceName  string
	XksProxyVpcEndpointServiceOwner string
	XksProxyAccessKeyID             string
}

// Tag is a key tag.
type Tag struct {
	Key, Value string
}

// Rotation is one completed rotation of a key.
type Rotation struct {
	At       time.Time
	OnDemand bool
}

// KeyRotation adds a rotation to a key's history.
type KeyRotation struct {
	KeyID    string
	Rotation Rotation
}

// AliasID names an alias: its Region, its account and its name
// ("alias/…"). An empty Region is the service's default Region (records
// written before Regions were recorded).
type AliasID struct {
	Region, Account, Name string
}

// Alias is the persisted record of an alias.
type Alias struct {
	AliasID
	KeyID   string
	Created time.Time
	Updated time.Time
}

// Grant is the persisted record of a grant on a key (CreateGrant).
type Grant struct {
	// KeyID is the record ID of the key the grant is on; GrantID the
	// grant's ID (64 lowercase hex digits).
	KeyID, GrantID string
	// Name is the grant's Name, or empty.
	Name string
	// GranteePrincipal and RetiringPrincipal (possibly empty) are
	// principal ARNs, or service principals' names (such as
	// "logs.us-east-1.amazonaws.com": GranteeServicePrincipal,
	// RetiringServicePrincipal); IssuingAccount is the account whose
	// principal created the grant, as "arn:<partition>:iam::<account>:root".
	GranteePrincipal, RetiringPrincipal, IssuingAccount string
	// Operations are the operations the grant allows, as AWS names them.
	Operations []string
	// EncryptionContextEquals and EncryptionContextSubset are the grant's
	// constraints; nil when it has none.
	EncryptionContextEquals, EncryptionContextSubset map[string]string
	Created                                          time.Time
	// SourceArn is the grant's SourceArn constraint, or empty.
	SourceArn string
	// Seq is the grant's creation number among its service's grants, or
	// 0 in a record that has none: ListGrants lists a key's grants made at
	// one instant in this order.
	Seq uint64
	// Binding is when a cluster node bound the grant to the IAM users and
	// roles it names, as Key.PolicyBinding is for a key policy (D78); 0
	// when none is recorded.
	Binding uint64
}

// GrantID names a grant: its key's record ID and its grant ID.
type GrantID struct {
	KeyID, GrantID string
}

// Batch is one atomic write: all of it is applied, or none of it. Within a
// batch, custom key store puts apply first, then key puts, then rotations,
// then alias puts, then alias deletions, then key deletions, then custom
// key store deletions.
type Batch struct {
	// PutCustomKeyStores creates or replaces custom key stores; their ID
	// must not be empty.
	PutCustomKeyStores []CustomKeyStore
	// PutKeys creates (Version 1) or replaces (Version = stored + 1) keys.
	PutKeys []Key
	// AddRotations appends to keys' rotation histories; the key must exist
	// (or be created in this batch).
	AddRotations []KeyRotation
	// PutAliases creates or replaces aliases; their key must exist and
	// their name must not be empty.
	PutAliases []Alias
	// DeleteAliases removes aliases; each must exist.
	DeleteAliases []AliasID
	// DeleteKeys removes keys with their rotation histories; each must
	// exist. Aliases that still name a deleted key are removed too.
	DeleteKeys []string
	// PutSecret, when not empty, stores the service's root secret, from
	// which the key material of every AWS_KMS key is derived. A store holds
	// one secret for its life: putting another when one is stored fails
	// with ErrExists.
	PutSecret []byte
	// DeleteCustomKeyStores removes custom key stores; each must exist.
	// The store does not check that no key names them.
	DeleteCustomKeyStores []string
	// PutGrants creates or replaces grants; their key must exist (or be
	// created in this batch). They apply after key puts.
	PutGrants []Grant
	// DeleteGrants removes grants; each must exist. They apply before key
	// deletions, which remove a deleted key's grants too.
	DeleteGrants []GrantID
	// Now, when not zero, is the service's latest instant when it wrote
	// the batch: the store keeps the latest Now it has been given (an
	// earlier one leaves it as it is) and returns it from LatestInstant,
	// so that a reopened service never runs its clock backwards. It is
	// written with the rest of the batch, or not at all.
	Now time.Time
	// GuardCustomKeyStores marks a batch computed from every custom key
	// store (the creation of one, whose name, settings and creation number
	// must be unique in its account and Region; a renaming): a Shared
	// store's ApplyAt then refuses the group when any custom key store was
	// created or replaced after its read revision, not only one the group
	// writes. A deletion after read does not count: it only frees a name,
	// settings and a place under the quota. Apply ignores it, and it
	// writes nothing: a batch of it alone is Empty.
	GuardCustomKeyStores bool
	// ReadKeys and ReadGrants name records (by record ID) that the
	// batch's call read to decide, without writing them: the keys whose
	// key policies, and the grants that, authorized it. A Shared store's
	// ApplyAt refuses the group when one of them was changed or deleted
	// after its read revision, as it does for a record the group writes.
	// Apply ignores them, and they write nothing: a batch of them alone is
	// Empty.
	ReadKeys   []string
	ReadGrants []GrantID
	// ReadKeyAliases names keys (by record ID) whose set of aliases the
	// batch's call read to decide (a policy's kms:ResourceAliases): ApplyAt
	// refuses the group when an alias was put on, moved to or from, or
	// deleted from one of them after its read revision. Like ReadKeys, it
	// writes nothing.
	ReadKeyAliases []string
	// RuleProfile, when not empty, names the rule profile the service
	// writes under ("2024" or "current", kms.Rules): the store keeps the
	// latest one given and returns it from RuleProfile, so that a service
	// opened under another profile can refuse the store. It is written
	// with the rest of the batch, or not at all.
	RuleProfile string
}

// Empty reports whether the batch writes nothing.
func (b *Batch) Empty() bool {
	return len(b.PutKeys) == 0 && len(b.AddRotations) == 0 && len(b.PutAliases) == 0 &&
		len(b.DeleteAliases) == 0 && len(b.DeleteKeys) == 0 && len(b.PutSecret) == 0 &&
		len(b.PutCustomKeyStores) == 0 && len(b.DeleteCustomKeyStores) == 0 && b.Now.IsZero() &&
		len(b.PutGrants) == 0 && len(b.DeleteGrants) == 0 && b.RuleProfile == ""
}

// ValidateCustomKeyStores checks b's custom key store parts against a
// store's current state, as Validate does for the rest: an empty ID or the
// deletion of a store that does not exist (nor is put earlier in b) is
// ErrNotFound. exists reports whether a custom key store is stored.
func (b *Batch) ValidateCustomKeyStores(exists func(id string) bool) error {
	if b == nil {
		return nil
	}
	put := map[string]bool{}
	for _, c := range b.PutCustomKeyStores {
		if c.ID == "" {
			return fmt.Errorf("custom key store with empty ID: %w", ErrNotFound)
		}
		put[c.ID] = true
	}
	for _, id := range b.DeleteCustomKeyStores {
		live, seen := put[id]
		if seen && !live || !seen && !exists(id) {
			return fmt.Errorf("custom key store %s: %w", id, ErrNotFound)
		}
		put[id] = false
	}
	return nil
}

// ValidateGrants checks b's grant parts against a store's current state,
// as Validate does for the rest: a grant of a key that does not exist
// (nor is put earlier in b), or with an empty grant ID, and the deletion of
// a grant that does not exist (nor is put earlier in b), are ErrNotFound.
func (b *Batch) ValidateGrants(keyExists func(id string) bool, grantExists func(GrantID) bool) error {
	if b == nil {
		return nil
	}
	putKeys := map[string]bool{}
	for _, k := range b.PutKeys {
		putKeys[k.ID] = true
	}
	put := map[GrantID]bool{}
	for _, g := range b.PutGrants {
		if g.GrantID == "" || !putKeys[g.KeyID] && !keyExists(g.KeyID) {
			return fmt.Errorf("grant %q of key %s: %w", g.GrantID, g.KeyID, ErrNotFound)
		}
		put[GrantID{g.KeyID, g.GrantID}] = true
	}
	for _, id := range b.DeleteGrants {
		live, seen := put[id]
		if seen && !live || !seen && !grantExists(id) {
			return fmt.Errorf("grant %s of key %s: %w", id.GrantID, id.KeyID, ErrNotFound)
		}
		put[id] = false
	}
	return nil
}

// Store persists what the kms service knows. The service keeps its working
// state in memory and writes every change through a Store, one Apply per
// operation or scheduled event; at start it reads everything back.
//
// Implementations are safe for concurrent use. Times round-trip with Equal
// (monotonic readings are not kept).
type Store interface {
	// Apply writes the batches bs, in order, as one atomic write (a
	// group): each batch is checked against the stored state as the
	// batches before it in bs leave it, and either every batch is written
	// or none is. It returns ErrExists, ErrConflict or ErrNotFound
	// (wrapped, naming the record) when any part of any batch does not
	// fit, and then writes nothing; nil batches are skipped, and no
	// batches at all is a no-op. When Apply returns nil the whole group is
	// as durable as the store promises, made so by one commit (one fsync
	// for a store on disk): grouping is how a caller with many writers
	// pays for durability once per group rather than once per write.
	//
	// Concurrent Apply calls are independent groups: each is all or
	// nothing on its own, they are serialised in some order, and a store
	// may commit several of them together. A caller that needs its groups
	// written in a given order (package kms does) issues them one at a
	// time.
	Apply(ctx context.Context, bs ...*Batch) error
	// Key returns the key with the given ID, or ErrNotFound.
	Key(ctx context.Context, id string) (Key, error)
	// Keys returns the keys whose IDs sort after after, in ID order:
	// exactly min(limit, how many there are) of them, so that a short page
	// is the last. A limit ≤ 0 returns none.
	Keys(ctx context.Context, after string, limit int) ([]Key, error)
	// Rotations returns a key's rotations, oldest first, from index from:
	// exactly min(limit, how many there are from there). ErrNotFound if the
	// key does not exist. A limit ≤ 0 or a from outside the history returns
	// none.
	Rotations(ctx context.Context, keyID string, from, limit int) ([]Rotation, error)
	// ScanRotations calls fn once for every key that has rotations, with
	// the key's ID and its whole history, oldest first, in one consistent
	// read: the way to load every history at once. It stops at, and
	// returns, fn's first error. fn must not keep rotations after it
	// returns, nor call the store.
	ScanRotations(ctx context.Context, fn func(keyID string, rotations []Rotation) error) error
	// Aliases returns the aliases that sort after after (by Region, then
	// account, then name): exactly min(limit, how many there are). A limit ≤ 0 returns
	// none.
	Aliases(ctx context.Context, after AliasID, limit int) ([]Alias, error)
	// Secret returns the root secret stored by a batch's PutSecret, or
	// ErrNotFound if none was.
	Secret(ctx context.Context) ([]byte, error)
	// CustomKeyStores returns every custom key store, in ID order.
	CustomKeyStores(ctx context.Context) ([]CustomKeyStore, error)
	// Grants calls fn for every grant, in key record ID order, then grant
	// ID order, in one consistent read; it stops at, and returns, fn's
	// first error. fn must not keep the grant's maps or slices after it
	// returns, nor call the store.
	Grants(ctx context.Context, fn func(Grant) error) error
	// LatestInstant returns the latest Batch.Now the store has applied,
	// or the zero time if none has been (a new store, or one written
	// before instants were recorded).
	LatestInstant(ctx context.Context) (time.Time, error)
	// RuleProfile returns the latest Batch.RuleProfile the store has
	// applied, or "" if none has been (a new store, or one written before
	// profiles were recorded).
	RuleProfile(ctx context.Context) (string, error)
	// Close releases the store. It is idempotent; every other method
	// returns ErrClosed afterwards.
	Close() error
}
