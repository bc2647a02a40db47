// Package kms is kmsmodel's model of the AWS KMS service: keys and their
// lifecycle, automatic and on-demand rotation, aliases and tags, driven by an
// injected clock so that rotations and deletions happen on schedule in
// simulated time.
//
// # The service
//
// New builds a Service from options: account and default Region, the Clock, the
// randomness source for key IDs, the rule profile (WithRules: Rules2024 by
// default, or RulesCurrent), the on-demand rotation quota (decision D1:
// the profile's, 10 or 25) and duration (D10, default 0), the simulated connect duration
// of custom key stores and of replica creation and primary updates
// (default 0), identity-based policies and IAM's guard rails
// (WithIdentityPolicies, D59, D62), AWS Organizations (WithOrganizations,
// D62, D63), an Authorizer and an Observer. A call's context says who
// makes it and from where (WithPrincipal, WithServicePrincipal,
// WithViaService, WithCalledVia, WithSourceIP, WithVPCEndpoint,
// WithPrincipalTags; D24, D60, D61, D64, D65).
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
// The service keeps time as Unix microseconds: it truncates each clock
// reading toward the past, and every date it reports is a whole
// microsecond. Time is exact from year 1 to Horizon,
// 9999-12-31T23:59:59.999999Z, the last instant RFC 3339 and AWS
// timestamps express; a rotation is dated exactly however long after its
// key's creation it happens. A ManualClock refuses to move past Horizon
// (ErrPastHorizon) or backwards (ErrClockBackwards) and then stays where it
// was; a Clock that reads outside that range makes every call fail with a
// KMSInternalException wrapping ErrPastHorizon, changing nothing. A
// schedule may land past Horizon (a rotation due in year 10003): its date
// is reported exactly and never comes due. Open refuses a clock that reads
// before the latest instant its store recorded (ErrClockBackwards).
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
// Service.Totals counts the rotations and deletions without a record of
// each, for a simulator that needs only the counts.
//
// # Persistence
//
// Open builds a Service over a store.Store (store.Memory, or
// store/boltstore's bbolt file) and writes every change through it. Writes
// of concurrent calls are grouped: each call waits until its change, and
// every change it saw, is durable, while one waiting call writes the whole
// group in one store Apply, so that with many writers durability costs one
// fsync per group rather than per write (Open lists the guarantees). A
// group the store refuses fails its calls with KMSInternalException and
// the service returns to what the store holds. An Observer may have
// received the records of calls whose group then failed.
//
// # Cluster mode
//
// Open over a store.Shared (store.SharedMemory in one process, or
// store/etcdstore's etcd key space) makes the service one node of a
// cluster: several services, each with the whole state in memory, share
// one key space. Before each call a node asks the store for its latest
// revision and applies the other nodes' commits up to it, so that every
// call sees every change acknowledged anywhere before it began
// (linearizable; WithStaleReads answers from the node's own copy
// instead). Writes are optimistic: a group of writes is stored only if
// none of its records changed since the revision it was computed from
// (store.Shared.ApplyAt), nor the key policies, grants and key aliases
// that authorized it (store.Batch.ReadKeys, ReadGrants, ReadKeyAliases); a
// call that loses such a race runs again on the
// new state and is then accepted or refused exactly as a single service
// would have decided (the on-demand quota holds across nodes). The node
// first undoes the writes that lost: by reloading from a snapshot only the
// records they wrote, when they wrote nothing but keys outside custom key
// stores (multi-Region families included), their rotations, aliases and
// grants (a few milliseconds whatever the size of the key space), and
// otherwise (custom key stores, key deletions) by reloading its whole
// state. Scheduled events are applied by whichever node's call finds them
// due, and happen once. A cluster's ManualClocks follow the latest instant
// any node wrote. Other nodes' commits are applied in place, but for those
// of custom key stores and their keys, which make the node reload its
// state from a snapshot. ClusterStatus reports a node's revision and how
// often it reloaded, undid a lost race in place and retried. An Observer
// sees a retried call once per run.
//
// Where AWS is silent, kmsmodel decides:
//
//   - D46: ListKeys lists keys in creation order, and keys two nodes
//     created at once (with the same creation number) in key ID order;
//     its marker names the last key listed, so that every node pages
//     through the same list and no key is skipped or listed twice.
//   - D53: in a cluster, a write that creates a key (CreateKey, a
//     replica) conflicts with another node's write only when the key
//     exists as it commits: store.Shared.ApplyAt checks a created key for
//     its absence then, not at the revision the node read (a node creates
//     only keys absent there), so that the store can write such a group
//     in one round trip (store.CreatedKeys).
//   - D67: an import token that one node issued is taken by every node of
//     the cluster (a node started later included) until it expires, as a
//     load balancer may send GetParametersForImport and ImportKeyMaterial
//     to different nodes. A node's token carries its key, wrapping
//     algorithm and key spec, expiry and wrapping private key, sealed
//     (AES-256-GCM) under a key derived from the cluster's root secret:
//     about 1.3 KB with RSA_2048 and 2.5 KB with RSA_4096, within AWS's
//     6,144-byte ImportToken. A single service keeps its tokens in memory,
//     and refuses them after a restart, as before.
//   - D68: list orders where AWS says none. ListGrants lists a key's
//     grants oldest first, those made at one instant in the order they
//     were made (a creation number the store keeps), and those two nodes
//     made at once by grant ID; DescribeKey's ReplicaKeys lists replicas
//     in creation order, and two nodes' replicas made at once by Region
//     name. Every node, and a service after a restart, lists them alike,
//     so that a marker from one node pages on another.
//   - D69: in a cluster, CreateCustomKeyStore and UpdateCustomKeyStore
//     decide on every custom key store (a name unique in the account and
//     Region, D57's settings, the quota, the creation number that
//     DescribeCustomKeyStores pages by), so their write loses its race,
//     and runs again, when any custom key store was created or replaced
//     on another node after the node read (store.Batch.
//     GuardCustomKeyStores), not only the stores it writes. Two nodes
//     that create a store of one name at once make one store; the other
//     call answers CustomKeyStoreNameInUseException. Concurrent changes
//     of different stores (a connection, a key created in one) are
//     serialised too: custom key store writes are few.
//
// A node keeps GetKeyLastUsage's records (D31) for the calls it answered,
// and decides kms:TrailingDaysWithoutKeyUsage (D74) by them, unless the
// nodes share their uses (D79: WithKeyUsageSharing, TakeKeyUses,
// MergeKeyUses, WithTrackingStart; kmssim serve --etcd --share-key-usage
// does).
//
// # Imported key material
//
// An EXTERNAL key is born PendingImport. GetParametersForImport hands out
// an RSA wrapping public key and an import token valid 24 hours of
// simulated time; ImportKeyMaterial unwraps the 256-bit material (real
// RSA-OAEP, or RSA-OAEP plus AES key wrap with padding) and makes the key
// usable. Material imported with KEY_MATERIAL_EXPIRES expires at exactly
// ValidTo, a scheduled event like a rotation: the key goes back to
// PendingImport (a key pending deletion stays so). Re-importing must bring
// the same material, and then earlier ciphertexts decrypt again. The
// material is kept and stored only sealed under a key derived from the
// root secret; import tokens and wrapping private keys live in memory
// only, so a restarted service refuses earlier tokens with
// InvalidImportTokenException (a cluster node's tokens are sealed and
// valid on every node instead, D67). Asymmetric and HMAC keys take imported
// material too (a PKCS#8 private key, or the raw HMAC key; see below), but
// for ML-DSA and ML-KEM keys. Under the 2024 rules (decision D2)
// RotateKeyOnDemand of an EXTERNAL key is refused.
//
// # Rule profiles: the 2024 rules and today's
//
// A Service follows one rule profile, chosen with WithRules. Rules2024,
// the default, are the rules kmsmodel was built from (D1, D2, D2a): 10
// on-demand rotations per key, one imported material per key, which never
// rotates, and footnote [7] of the key-state table covering keys with
// imported material. RulesCurrent are today's AWS rules (spec section
// (g)): 25 on-demand rotations per key, footnote [7] for custom key stores
// only, and a symmetric EXTERNAL key holds several materials.
// ImportKeyMaterial's ImportType NEW_KEY_MATERIAL adds a material that
// waits in PENDING_ROTATION until RotateKeyOnDemand makes it current (a
// multi-Region primary rotates once every replica has imported it with
// EXISTING_KEY_MATERIAL); every material has a KeyMaterialId and a
// KeyMaterialDescription, any one of them may be deleted
// (DeleteImportedKeyMaterial's KeyMaterialId) or expire, and the key is
// PendingImport while any permanently associated material is missing.
// ListKeyRotations with IncludeKeyMaterial ALL_KEY_MATERIAL lists them
// all. Every ciphertext names the material version it was made under and
// decrypts while that material is imported. WithOnDemandRotationQuota
// overrides either profile's quota. The store records the profile it is
// written under; Open refuses another unless WithRulesUpgrade takes a 2024
// store to today's rules (D36).
//
// # AWS managed keys
//
// The first use of alias/aws/<service> (for the services that create such
// keys: s3, ebs, lambda, …) by alias name or alias ARN creates that
// service's AWS managed key in the caller's account: KeyManager AWS,
// rotating every 365 days from its creation, its rotation, state and
// deletion not changeable (decision D15). The alias/aws/ namespace is
// reserved: CreateAlias, UpdateAlias and DeleteAlias refuse it.
//
// # Custom key stores
//
// CreateCustomKeyStore makes a CloudHSM (AWS_CLOUDHSM) or external
// (EXTERNAL_KEY_STORE) key store, DISCONNECTED; there is no HSM and no
// proxy behind it. ConnectCustomKeyStore makes it CONNECTED at once, or
// CONNECTING for the duration WithCustomKeyStoreConnectDuration sets and
// then CONNECTED (a scheduled event); an attempt fails only when
// WithCustomKeyStoreConnectFailure says so (D58), and disconnecting takes
// no time, so DISCONNECTING is not modelled. CreateKey with CustomKeyStoreId (and
// XksKeyId for an external key store) makes a symmetric single-Region key
// in a CONNECTED store; its key material is derived from the root secret
// like an AWS_KMS key's. DisconnectCustomKeyStore makes the store's keys
// Unavailable, each remembering whether it was Enabled or Disabled, except
// keys pending deletion, which stay so (footnote [13]) and are deleted at
// DeletionDate all the same. While Unavailable, cryptographic calls fail
// with KMSInvalidStateException ("is unavailable.", footnote [11]) and
// rotation calls with UnsupportedOperationException ([7]); EnableKey and
// DisableKey succeed and take effect when the store reconnects ([12]).
// CancelKeyDeletion while the store is not CONNECTED leaves the key
// Unavailable, to come back Disabled (kmsmodel's choice; AWS is silent).
// UpdateCustomKeyStore needs a DISCONNECTED store (an external key store
// may change its name, credential and URI path while connected), and
// DeleteCustomKeyStore a DISCONNECTED store without keys. A
// KeyStorePassword or an XKS secret access key is checked for its form and
// then forgotten: it is never stored, recorded or printed. Stores persist
// with the keys, each change in one batch with the keys it changes.
//   - D56: GenerateRandom with CustomKeyStoreId draws its bytes from the
//     service's randomness source (there is no cluster) once the store is
//     found among the caller's in the call's Region
//     (CustomKeyStoreNotFoundException otherwise), is of type
//     AWS_CLOUDHSM (UnsupportedOperationException for an external key
//     store, as the API reference says) and is CONNECTED
//     (CustomKeyStoreInvalidStateException otherwise); the messages are
//     kmsmodel's.
//   - D57: the API reference's uniqueness rules hold among the stores of
//     one account in one Region (another account or Region may reuse the
//     settings): a CloudHSM cluster serves one CloudHSM key store
//     (CloudHsmClusterInUseException); an external key store's proxy URI,
//     endpoint and path together, is its own (XksProxyUriInUseException);
//     with VPC_ENDPOINT_SERVICE connectivity, so are its endpoint, the
//     private DNS name (XksProxyUriEndpointInUseException), and its VPC
//     endpoint service (XksProxyVpcEndpointServiceInUseException).
//     CreateCustomKeyStore checks them all, UpdateCustomKeyStore those it
//     changes, after the name's; the messages are kmsmodel's. That a
//     cluster "shares a backup history" with another (same cluster
//     certificate) is not modelled: only equal IDs are the same cluster.
//   - D58: a connection attempt that WithCustomKeyStoreConnectFailure
//     fails (its function returns a ConnectionErrorCode for the store's
//     ID when the attempt ends) leaves the store FAILED with that code
//     (INTERNAL_ERROR for a code that is not AWS's) and its keys
//     Unavailable. ConnectCustomKeyStore of a FAILED store is
//     CustomKeyStoreInvalidStateException, as the API reference says;
//     DisconnectCustomKeyStore makes it DISCONNECTED and clears the code;
//     like every state, FAILED persists with the store.
//
// # Regions and multi-Region keys
//
// One Service serves one account's view of several Regions. A call goes to
// the Region its context names (WithCallerRegion), or to the default
// Region (WithRegion). The Regions served are the default one, the AWS
// Regions of the partitions the AWS SDK knows (KnownRegion) and those
// named with WithRegions (AllowsRegion); a call to any other name is
// refused with ValidationException. A Region takes one of the service's
// 255 places only when something is created in it (CreateKey,
// CreateCustomKeyStore, ReplicateKey, the first use of an AWS managed
// alias): a call that only reads sees a Region without state as empty, and
// leaves it so. Keys, aliases, AWS managed keys and custom key stores belong
// to one Region: a bare key ID resolves in the caller's Region, and a key
// ARN of another Region is refused with NotFoundException "Invalid arn
// <Region>" (recorded). The clock, the schedule, the randomness source and
// the store are shared.
//
// D70: the ARNs of a Region's keys and aliases, and of the account
// principals its calls and default key policies name, are in the Region's
// partition (PartitionOf): arn:aws-cn: in cn-north-1 and cn-northwest-1,
// arn:aws-us-gov: in GovCloud, arn:aws-iso…: and arn:aws-eusc: in theirs,
// arn:aws: elsewhere, as AWS's are; an ARN of another partition names no
// key (NotFoundException, as another Region's). ReplicateKey refuses a
// ReplicaRegion of another partition than the primary's with
// ValidationException (AWS: "a different Region of the same AWS
// partition"; its exception is not documented).
//
// D71: GetParametersForImport refuses the RSA_AES_KEY_WRAP_SHA_1 and
// RSA_AES_KEY_WRAP_SHA_256 wrapping algorithms in the China Regions,
// where AWS does not offer them, with UnsupportedOperationException
// "WrappingAlgorithm <name> is not supported in this Region", as the
// recorded refusal of KeySpec SM2 outside them reads.
//
// D81: in the China Regions GetParametersForImport with WrappingAlgorithm
// SM2PKE and WrappingKeySpec SM2 (spec aws-kms-asymmetric-hmac.md §9.2)
// gives an SM2 public key (the SubjectPublicKeyInfo GetPublicKey gives for
// SM2 keys), and ImportKeyMaterial takes material encrypted to it with
// SM2PKE in the DER C1C3C2 form (§4.2), whatever the key's kind, as
// kmsmodel takes RSA-wrapped material (the spec's table of which
// algorithms fit which material is not enforced beyond what decrypts).
// SM2PKE with an RSA key spec, or an RSA algorithm with SM2, is
// ValidationException (kmsmodel's wording; AWS's is not recorded): an SM2
// key cannot do RSA, nor an RSA key SM2. Outside the China Regions both
// stay UnsupportedOperationException (D71's wording). The SM2 wrapping
// key, like the RSA ones, is one per service (or sealed in a cluster
// node's token, D67), and comes from WithRandom's source. The mismatch
// is refused where the Region's refusals are (D71), after the key's own
// checks and with its ARN and state, since which pairs exist depends on
// the Region of the key. The ciphertext must be DER: gmsm also reads the
// raw C1C3C2 forms, which AWS's SM2 helper converts from before calling
// KMS (§4.2), so kmsmodel refuses them, as it does for SM2PKE Decrypt.
//
// D72: ListAliases without a KeyId lists, besides the caller's aliases in
// the Region, each predefined alias/aws/<service> name whose AWS managed
// key does not exist yet, with its AliasName and AliasArn and no
// TargetKeyId, CreationDate or LastUpdatedDate, in name order among the
// others, as AWS documents ("aliases that have no TargetKeyId field …
// predefined aliases that AWS has created but has not yet associated with
// a KMS key"). Which names a real account holds varies with its Region and
// its age; kmsmodel lists the names whose first use creates an AWS managed
// key, so that each one listed also resolves. Listing them adds no Region.
// WithoutPredefinedAliases (kmssim serve --no-predefined-aliases) leaves
// them out.
//
// D74: kms:TrailingDaysWithoutKeyUsage, which DisableKey and
// ScheduleKeyDeletion carry (spec §5.1: whole days, rounded down), is the
// days from the key's last use that GetKeyLastUsage reports, or, when it
// reports none, from its TrackingStartDate (D31: the service's first
// clock reading, or the key's creation if later) to the call, as the AWS
// KMS Developer Guide computes it from its last use, its creation or the
// start of AWS's tracking. So a new key counts from 0, and a key created
// before the service started counts from the start: a reopened service,
// like AWS for keys older than its tracking, does not know earlier uses.
// In a cluster each node counts the uses it answered, and those the other
// nodes shared with it (D79).
//
// D79: the nodes of a cluster share GetKeyLastUsage's records. AWS does
// not say how soon a use reaches GetKeyLastUsage (spec
// aws-kms-asymmetric-hmac.md §10, open question 13); kmsmodel shares
// them eventually, not with each call, so that a cryptographic call
// stays a read. With WithKeyUsageSharing a node notes the keys its calls
// used; TakeKeyUses hands their last uses out, and MergeKeyUses takes
// another node's in, where a use later than the one held replaces it
// with its operation, instant and IDs. "Later" is one order on every
// node: by the instant each node's clock recorded (nodes whose clocks
// differ order uses by them, not by when the calls happened), then, at
// one instant, by request ID, operation and event ID; a node's own call
// replaces a merged use only when it comes later in that order. So every
// node that has the same uses reports the same last one, whatever order
// they reached it in. A key's deletion is handed out as Gone, so that
// what carries the uses can forget them. Every node
// of a cluster also takes one TrackingStartDate (WithTrackingStart):
// otherwise a node started later would report uses from before its own
// start. kmssim serve --etcd --share-key-usage carries the uses through
// etcd (at most every 100 ms of wall time by default,
// --usage-share-every): a use reaches the other nodes' GetKeyLastUsage
// and kms:TrailingDaysWithoutKeyUsage within that and the watch's delay,
// and a node killed before it shared loses its latest uses, as AWS's own
// records may have gaps. Sharing is opt-in because it is not free: an
// etcd record for each key used in an interval, which every node
// receives (a quarter more CPU for a node's Encrypt over 10,000 keys in
// turn); without it each node reports the uses it answered. Its records
// of keys deleted while no running node held a use of them stay in etcd.
//
// D76: both of ReEncrypt's authorizations (kms:ReEncryptFrom on the
// source key, kms:ReEncryptTo on the destination) carry
// kms:ReEncryptOnSameKey, "true" when DestinationKeyId names, by key ID,
// key ARN, alias name or alias ARN, the key the ciphertext was encrypted
// under (the one a symmetric ciphertext names, or SourceKeyId for an
// asymmetric one), as the AWS KMS Developer Guide defines it ("a
// destination … that is the same one used for the original encryption"),
// and "false" otherwise, a destination that names no key included (the
// call then fails on it).
//
// D77: aws:userid, the IAM request-context key (spec §5.2; IAM User
// Guide): an account root's account ID; an IAM user's unique ID; an
// assumed-role session's role unique ID, a colon and the session name; a
// federated user's account ID, a colon and its name; for kmsmodel's
// caller that is a role itself, the role's unique ID; none for an AWS
// service principal. IAM picks unique IDs when it creates a user or role;
// kmsmodel derives them (policy.UserID): "AIDA" (users) or "AROA" (roles)
// and 17 characters of A–Z and 2–7, from the partition, account, name and
// generation, so that a program knows them without asking
// (IdentityPolicies.UserID, KmsModel.GetUserId, KmsModel.CreatePrincipal's
// answer). Each DeletePrincipal starts a new generation, so a user or
// role deleted and created again under the same name has a new ID, and a
// key policy that admits the old ID through aws:userid (AWS's advice for
// telling a role from a namesake) no longer lets its sessions in.
//
// D78: a key policy and a grant are bound to the IAM users and roles they
// name as those are when it is written, as IAM binds them to their unique
// IDs (spec §8: "A deleted role's ARN in an existing policy or grant
// shows up as its unique ID"). With WithIdentityPolicies, once such a
// user or role is deleted (DeletePrincipal), a Principal element no longer
// covers it, a NotPrincipal element no longer excludes it, a grant no
// longer allows it as grantee or lets it retire as retiring principal
// (nor does ListRetirableGrants list the grant for its ARN),
// and none of them covers a user or role created again under its name;
// GetKeyPolicy and ListGrants show it by the unique ID it had (D77). A
// policy written again (PutKeyPolicy) binds to the principals as they are
// then; PutKeyPolicy of a text that shows a unique ID refuses it as an
// invalid principal (kmsmodel's choice: no AWS answer is recorded).
// Sessions, accounts and services are not bound. A single service keeps
// its bindings in memory: a reopened service binds what it loads to the
// principals as they are then (the IAM it is given starts anew too), a
// reload after a failed write keeps the bindings of what it leaves as it
// was, and a caller who still sees a key's previous policy under the
// eventual-consistency model is judged by that policy's binding. A
// cluster node (Open over a store.Shared) writes the binding into the
// records (store.Key.PolicyBinding, store.Grant.Binding: the count of
// IAM deletions the writing node had applied when it checked the
// principals, plus one), and every node binds what it loads or applies
// as the record says. The nodes apply IAM's changes in one order
// (kmssim's model log: the same deletions have the same numbers on every
// node), so they judge a namesake alike once each has applied the
// deletion, a node started later included; before, a node bound at
// moments of its own and could let a namesake in where another would
// not. A record written without a binding binds nothing.
//
// D75: with the eventual-consistency model on, the tags and aliases that
// authorization sees (aws:ResourceTag/<key>, kms:ResourceAliases) lag as
// the alias window does: a change of a key's tags (TagResource,
// UntagResource) is a change of its own, drawn like the others, and a
// key's aliases are those that resolve to it for the caller, so that one
// reader sees an alias change in resolution and in authorization at the
// same moment. AWS says only that recent changes "might be visible in API
// operations before they affect authorization"; ListResourceTags and
// ListAliases stay consistent (D41), and DeleteAlias takes effect at
// once.
//
// D73: kms:ResourceAliases, the names of the aliases of the key a call
// acts on, is valid in IAM policies only (spec §5.1, after the AWS KMS
// Developer Guide's condition key table). kmsmodel gives it to
// identity-based policies, IAM's guard rails, resource control policies
// and VPC endpoint policies, and leaves it out of the key policy's
// context: there a condition on it is one on an absent key
// (ForAnyValue:… never holds, ForAllValues:… always does, …IfExists
// holds). PutKeyPolicy accepts such a policy, as IAM accepts a condition
// key that a call never carries. Before D73 key policies saw it too.
//
// CreateKey with MultiRegion makes a primary ("mrk-" key ID). ReplicateKey
// makes a replica of it in another Region: the same key ID and key
// material (so what one Region encrypts, any other decrypts), spec, usage,
// origin and rotation history; its own state, description, tags and
// aliases. The replica is Creating for WithReplicaCreationDuration
// (default 0), then Enabled, or PendingImport for an imported-material
// key, whose replicas import the same material separately.
// UpdatePrimaryRegion swaps the primary's role with a replica's: both keys
// are Updating for WithPrimaryUpdateDuration (default 0) and read as
// replicas meanwhile, then Enabled. Rotation is the primary's (section c.8
// of the spec): rotation calls on a replica are refused (decision D8), and
// every automatic and on-demand rotation of the primary, and every change
// of its rotation settings, reaches each replica in the same store batch,
// so that all have the same history and share the on-demand quota.
// ScheduleKeyDeletion of a primary with replicas makes it
// PendingReplicaDeletion, without a DeletionDate; its waiting period starts
// when its last replica is deleted.
//
// # Asymmetric and HMAC keys
//
// RSA, ECC (NIST curves, secp256k1, Ed25519), ML-DSA, SM2 (China Regions
// only) and HMAC keys sign and verify (Sign, Verify), encrypt and decrypt
// (RSAES_OAEP_SHA_1/256, SM2PKE), derive ECDH secrets (DeriveSharedSecret)
// and compute MACs (GenerateMac, VerifyMac), and ML-KEM keys encapsulate
// secrets (Encapsulate, Decapsulate; see ML-KEM below); GetPublicKey returns the DER
// SubjectPublicKeyInfo, and GenerateDataKeyPair(WithoutPlaintext) returns
// fresh key pairs whose private key is encrypted under a symmetric key.
// The cryptography is internal/keycrypto's (one file per family); this
// package applies the key-state table, the key usage and algorithm checks
// and the AWS limits around it. An AWS_KMS key's material is generated on
// its first use and stored sealed with the key and every key of its
// multi-Region key, so that CreateKey of any spec is as cheap as a
// symmetric one and the public key never changes once seen. Go 1.26's
// crypto/rsa draws from the system's randomness whatever WithRandom says:
// RSA key pairs are not reproducible from a seed (other specs are).
// EXTERNAL asymmetric and HMAC keys take imported material (a PKCS#8
// private key, or the raw HMAC key). GetKeyLastUsage reports each key's
// last successful cryptographic call since the service started.
//
// Where AWS is silent, kmsmodel decides (numbered after decisions.md's):
//
//   - D30: GetPublicKey of a symmetric or HMAC key is
//     UnsupportedOperationException; of an EXTERNAL key that never had
//     material, KMSInvalidStateException "<arn> is pending import.".
//   - D31: GetKeyLastUsage keeps its records in memory; TrackingStartDate is
//     the service's first clock reading, or the key's creation if later;
//     KeyId in its answer is the key ARN; failed calls do not count; it
//     answers in every key state, for the caller's own keys by ID or ARN.
//   - D32: an encryption context with an asymmetric key (Encrypt, Decrypt,
//     ReEncrypt's destination) is ValidationException: refused rather than
//     silently not bound.
//   - D33: Decrypt of an asymmetric ciphertext without EncryptionAlgorithm,
//     with another algorithm or under another key is
//     InvalidCiphertextException with AWS's empty message.
//   - D34: GenerateMac and VerifyMac take alias names and ARNs, as their
//     cross-account note says; an empty Message is ValidationException, as
//     the API model's minimum of 1 says.
//   - D35: CreateKey of an EXTERNAL ML-DSA key and imports into ML-KEM keys
//     are UnsupportedOperationException.
//   - D36: the rule profile is one per service and recorded in its store
//     with the first write; a store with content but no recorded profile
//     was written under Rules2024 (before profiles existed). Open of a
//     store of another profile is ErrRulesMismatch; WithRulesUpgrade allows
//     2024 → current only, never back (a key may hold several materials).
//   - D37: ImportKeyMaterial under RulesCurrent: ImportType's default is
//     the current API reference's (NEW_KEY_MATERIAL until the key had
//     material, then EXISTING_KEY_MATERIAL); KeyMaterialId with
//     NEW_KEY_MATERIAL, an unknown ImportType, a malformed KeyMaterialId or
//     a description over 256 characters is ValidationException;
//     NEW_KEY_MATERIAL with a material the key already has, EXISTING with
//     one it does not have, and a KeyMaterialId the material does not match
//     are IncorrectKeyMaterialException; NEW_KEY_MATERIAL into a replica,
//     and any of the three members on an asymmetric or HMAC key (which hold
//     one material), are UnsupportedOperationException; a re-import
//     without KeyMaterialDescription keeps the material's description.
//   - D38: a material pending rotation is not permanently associated:
//     deleting it, or its expiry, removes it from the key and leaves the
//     key's state alone; once RotateKeyOnDemand has accepted it (a
//     rotation with a duration, D10) it counts as permanently associated.
//     DeleteImportedKeyMaterial of a KeyMaterialId the key does not have is
//     NotFoundException. RotateKeyOnDemand of an EXTERNAL key with no
//     material pending is KMSInvalidStateException (recording 3f's
//     wording), and so is a multi-Region primary's whose replicas have not
//     all imported it; these come after the key-state and key-kind checks
//     and before the quota and conflicts (D3). A rotation that leaves a
//     replica without the new material makes it PendingImport.
//   - D39: ListKeyRotations of an EXTERNAL key under RulesCurrent lists its
//     materials by version, oldest first, with ALL_KEY_MATERIAL the
//     original first and the pending one last; an imported material's
//     entry has ImportState, KeyMaterialDescription and, while imported,
//     ExpirationModel and ValidTo. GetKeyRotationStatus of an EXTERNAL key
//     answers KeyRotationEnabled false (PendingImport stays [6]);
//     Enable/DisableKeyRotation stay UnsupportedOperationException (no
//     automatic rotation of imported material). On-demand rotations of
//     imported material count against the quota like any other.
//
// # ML-KEM
//
// ML_KEM_512, ML_KEM_768 and ML_KEM_1024 keys (KeyUsage
// ENCAPSULATE_DECAPSULATE, algorithm ML_KEM) establish shared secrets:
// Encapsulate returns a fresh 32-byte secret and its encapsulation under
// the key's public key, which Decapsulate turns back into the secret;
// anyone holding the public key (GetPublicKey) can encapsulate too.
// Decapsulate of a ciphertext of another length is
// InvalidCiphertextException, and of any other wrong ciphertext a
// pseudo-random secret without an error, as AWS documents (implicit
// rejection). GenerateDataKeyPair(WithoutPlaintext) makes ML-KEM key
// pairs. Encapsulation draws its randomness from WithRandom's source. Where
// AWS is silent:
//   - D54: Encapsulate and Decapsulate, which the key-state table has no
//     rows for, are decided by DeriveSharedSecret's row (the other
//     operation that establishes a shared secret): Disabled is
//     DisabledException, PendingDeletion KMSInvalidStateException. A key
//     of another usage is InvalidKeyUsageException with the usage message;
//     a ciphertext of the wrong length is refused before a dry run answers
//     (D27). ML-KEM keys and data key pairs are refused in the China
//     Regions with UnsupportedOperationException and SM2's recorded
//     wording for the other Regions ("KeySpec ML_KEM_768 is not supported
//     in this Region"). Multi-Region ML-KEM keys are allowed, their
//     replicas sharing the key pair, as for the other asymmetric keys.
//     A data key pair's private key is PKCS#8 holding the 64-byte seed
//     d ‖ z, as the spec says (§5: the same length for all three specs);
//     the stored private key takes the same form, and the public key is a
//     SubjectPublicKeyInfo with the id-alg-ml-kem OIDs (the IETF LAMPS
//     ML-KEM draft's forms; AWS's exact SPKI bytes are unrecorded). No
//     condition key names the encapsulation algorithm.
//
// # Attested recipients (Nitro Enclaves and NitroTPM)
//
// Decrypt, GenerateDataKey, GenerateDataKeyPair, GenerateRandom and
// DeriveSharedSecret take a Recipient (RecipientInfo): an attestation
// document signed by an AWS Nitro enclave's Nitro Secure Module, which
// carries the enclave's RSA public key. The service verifies the document
// (its COSE signature, and its certificates up to a trusted root at the
// service clock's instant), then returns the secret (the plaintext, data
// key, private key, random bytes or shared secret) as
// CiphertextForRecipient, a CMS EnvelopedData (RSAES-OAEP-SHA-256 and
// AES-256-CBC, the layout the Nitro Enclaves SDK reads) for that key,
// instead of in plaintext. The document's PCRs are condition keys of the
// call: kms:RecipientAttestation:ImageSha384 (PCR0) and
// kms:RecipientAttestation:PCR<n>, lower-case hex. Package attestation
// parses and verifies documents, seals and opens the envelope, and
// simulates a Nitro Secure Module (attestation.Module) for tests, whose
// root WithAttestationRoots makes the service trust. Where AWS is silent:
//   - D80: the trusted roots are AWS's Nitro Enclaves root by default (so
//     real enclaves' documents are accepted and nothing else is, as by
//     AWS, which takes no certificate of the caller's), or those of
//     WithAttestationRoots. A Recipient is checked with the call's other
//     input (D3 step 1): KeyEncryptionAlgorithm must be RSAES_OAEP_SHA_256
//     or empty (the default), and AttestationDocument is required (the
//     API marks it optional) and at most 262,144 bytes; all are
//     ValidationException with AWS's constraint wording. A document that
//     does not verify (malformed, bad signature, a certificate that does
//     not chain to a trusted root or has expired at the call's instant)
//     or that carries no RSA public key is ValidationException too, with
//     kmsmodel's wording, before the key is looked up: its PCRs are part
//     of authorization. AWS's exception and wording for these are not
//     recorded (spec aws-kms-asymmetric-hmac.md §4.3, §5 and §6 name only
//     the members). The document's timestamp is not compared with the clock
//     beyond its certificate's validity (a Nitro signing certificate is
//     valid for three hours), and nonce and user data are not read. The
//     library's GenerateDataKeyWithoutPlaintext and
//     GenerateDataKeyPairWithoutPlaintext, whose inputs are their twins'
//     types, refuse a Recipient (ValidationException); over HTTP it is
//     not a member of theirs, so it is skipped as any unknown member is.
//     A dry run answers before anything is sealed. A document may carry
//     no more than a Nitro Secure Module puts in one (AWS's attestation
//     document specification: a public key of 1,024 bytes, user data and
//     nonce of 512), so that no caller makes the service seal to a key of
//     any size. A document is verified before the service's lock is
//     taken, once (three ECDSA P-384 verifications, about 2 ms): the
//     service remembers the documents that verified, with the span in
//     which their certificates are all valid, which each call's instant
//     is checked against. Events (WithObserver) carry CloudTrail's
//     additionalEventData.recipient: the module ID, the image digest and
//     PCRs 1–4 and 8 (Event.AdditionalEventData). A NitroTPM document
//     (an EC2 instance's, nitrotpm_pcrs instead of pcrs, signed under the
//     same root) is a Recipient too: its PCRs are the condition keys
//     kms:RecipientAttestation:NitroTPMPCR<n>, and its events record
//     PCRs 4, 7, 8, 9, 16 and 23, the ones AWS's example shows.
//
// # Principals, key policies and grants
//
// A call is made by a principal (D24): WithPrincipal names an IAM user,
// role, assumed-role session or account root; WithCaller's account means
// its root; without either, the service's own account root calls. Every
// operation on a key is decided by the key's policy, evaluated by package
// kms/policy: an explicit Deny wins; otherwise a statement must allow the
// action for the principal (an account root in a policy stands for every
// principal of that account, IAM being taken to allow everything, D24,
// unless WithIdentityPolicies says otherwise, D59), or a grant on the key
// must (CreateGrant). A refusal is AccessDeniedException
// worded as D26 says, and the decision (which statement or grant) is in
// the call's Event. A key created without a policy has AWS's default key
// policy, shared by all keys of its account; GetKeyPolicy returns it byte
// for byte. PutKeyPolicy and CreateKey apply AWS's lockout check unless
// BypassPolicyLockoutSafetyCheck is set. Grants (CreateGrant, ListGrants,
// ListRetirableGrants, RetireGrant, RevokeGrant) take effect at once
// (D28; with eventual consistency a new grant lags unless its token is
// passed, D42); WithGrantTokens passes grant tokens, which must be the
// service's.
// WithDryRun makes the operations that take DryRun check everything and
// answer DryRunOperationException (D27). An Authorizer given with
// WithAuthorizer decides instead of key policies and grants.
//   - D55: grants to and from AWS service principals
//     (GranteeServicePrincipal, RetiringServicePrincipal) and the
//     SourceArn constraint are taken, stored, listed (ListGrants'
//     GranteeServicePrincipal filter, ListRetirableGrants'
//     RetiringServicePrincipal) and revoked or retired as any grant, under
//     the SDK's rules (exactly one grantee; a service grantee needs a
//     SourceArn and a retiring principal; at most one retiring principal),
//     with kmsmodel's wording. A grant to a service principal is listed
//     with GranteeServicePrincipal and no GranteePrincipal (likewise for
//     the retiring principal), and each filter (GranteePrincipal,
//     GranteeServicePrincipal, RetiringPrincipal,
//     RetiringServicePrincipal) matches only principals of its own kind.
//     A service principal is 1–256 lowercase
//     letters, digits, dots and hyphens ending in .amazonaws.com or
//     .amazonaws.com.cn; a SourceArn is an ARN of at most 2,048
//     characters with a service and a resource. A grant with a SourceArn
//     allows only a call made on behalf of that resource, which only a
//     service principal makes (WithServicePrincipal, D61): a direct call
//     carries no aws:SourceArn.
//   - D59: identity-based policies. WithIdentityPolicies gives the service
//     the IAM policies of users, groups, roles and federated users
//     (IdentityPolicies: a role's apply to its sessions, a group's to its
//     users; account roots are allowed everything by IAM and take none). Without it, D24 holds.
//     With it, for every caller but an account root (spec §3.2): an
//     explicit Deny in the key policy or in an identity-based policy
//     denies, whatever allows, grants included; a key-policy Allow that
//     covers the caller itself (its user, role, session, federated user,
//     "*", or a NotPrincipal leaving it out; policy.Decision.Direct)
//     allows in the key's account by itself (rule 4a), and one that covers
//     only the caller's account principal needs an identity-based Allow
//     (rules 3, 4b), as does every Allow across accounts (rule 5); a grant
//     allows by itself, across accounts too (P9); the operations on no key
//     (CreateKey, ListKeys, ListAliases, GenerateRandom,
//     ListRetirableGrants, the six custom key store operations) are
//     decided by identity-based policies alone on resource "*" (rule 6),
//     after validation (D3), CreateKey with its request's kms:KeySpec,
//     kms:KeyUsage, kms:KeyOrigin, kms:MultiRegion and, with Tags,
//     kms:TagResource too (rule 7), as ReplicateKey does besides
//     kms:ReplicateKey on the primary; CreateAlias, UpdateAlias and
//     DeleteAlias also need their action on the alias ARN (rule 7); the
//     lockout check counts identity-based policies when the new key
//     policy only delegates; a principal of the key's account, or of an
//     account-root retiring principal, retires a grant only when its
//     identity-based policies allow kms:RetireGrant (P11). Refusals are
//     worded as P7 proposes, with "on resource: *" for an operation on no
//     key as recorded for CreateKey. Identity-based policies see every
//     condition key a key policy sees, and aws:ResourceTag/<key>. Their
//     changes take effect at the next call, eventual consistency or not,
//     and they are the program's configuration, not the store's: a
//     service opened again, or a cluster's other nodes, need them given
//     again. IAM's guard rails are D62; the principal existence check
//     (P2) is D66. "*" in a key
//     policy allows a caller of the key's account by itself (the AWS KMS
//     Developer Guide, determining-access-key-policy: "*" gives every
//     identity access, other accounts' users needing permissions in their
//     own account), where spec §3.2 4b lists it beside the account
//     principal.
//   - D60: WithViaService makes a call one that an AWS service makes on
//     behalf of its caller (with the caller's credentials, as S3 or
//     Secrets Manager call KMS): its condition keys include kms:ViaService
//     (the service's endpoint name in a Region,
//     <service>.<region>.amazonaws.com or .amazonaws.com.cn, else
//     ValidationException in kmsmodel's wording) and aws:ViaAWSService
//     "true". The caller stays the principal. AWS managed keys keep the
//     default key policy (D15) rather than their service's, which allows
//     use only via the service.
//   - D61: WithServicePrincipal makes a call one that an AWS service
//     principal makes itself, on behalf of one of its customers'
//     resources (CloudWatch Logs for a log group, CloudTrail for a trail).
//     The caller is the service principal: key policy statements naming
//     it match, no account principal does, identity-based policies do not
//     apply (D59), a grant to it (GranteeServicePrincipal) allows it when
//     the grant's SourceArn constraint, if any, is the call's resource,
//     and it retires grants whose retiring service principal it is; the
//     operations on no key, and alias resources, which identity-based
//     policies alone allow (spec §3.2 rules 6, 7), are refused to it. Its
//     condition keys include aws:SourceArn, aws:SourceAccount,
//     aws:PrincipalServiceName and aws:PrincipalIsAWSService "true", and
//     not kms:CallerAccount, since it belongs to no account; identifiers
//     without an account are looked up in the source account.
//     AccessDeniedException names the service principal where it names a
//     user ("User: logs.us-east-1.amazonaws.com is not authorized …",
//     kmsmodel's choice: no refusal of a service principal is recorded).
//     Malformed arguments are ValidationException in kmsmodel's wording;
//     of WithPrincipal and WithServicePrincipal, the one given last
//     decides who calls.
//   - D62: IAM's guard rails (spec §3.1: "optional guard-rail policies …
//     which can only restrict"): permissions boundaries of users and
//     roles and session policies of assumed-role sessions and federated
//     users, kept by IdentityPolicies, and service control policies, kept
//     by Organizations (WithOrganizations) and attached to accounts,
//     organizational units and organization roots (PlaceAccount puts an
//     account at its organization path). They allow nothing. A Deny in
//     any of them denies, whatever allows; the refusal names the first of
//     a resource control policy (D63), SCPs, the key policy,
//     identity-based policies, the boundary, the session policy that
//     denied, in IAM's words ("… with an explicit deny in a service
//     control policy", "… in a permissions boundary", "… in a session
//     policy"). SCPs bind every principal of an account they reach, its
//     root included, with identity-based policies or without them (D24
//     then allowing the rest), but service-linked roles (roles named
//     AWSServiceRoleFor…), service principals and the management account
//     (SetManagementAccount): each level with policies must allow ("…
//     because no service control policy allows …"), a level without any
//     allowing everything as AWS's FullAWSAccess does; nothing else,
//     grants included, allows past them. A boundary (the user's or the
//     session's role's) and a session policy bound the identity-based
//     policies: an identity-based Allow counts only where each allows too
//     ("… because no permissions boundary allows …", "… no session policy
//     allows …"). They also bound a key-policy Allow that covers a session
//     through its role, "*" or a NotPrincipal, but not one that names an
//     IAM user or the session itself (policy.Decision.Exact), after the
//     IAM User Guide ("Permissions boundaries for IAM entities": within an
//     account, an implicit deny in a boundary does not limit what a
//     resource-based policy grants an IAM user or role session, and does
//     limit what it grants the role's ARN). Grants are bounded by neither:
//     they are KMS's own, neither identity-based nor resource-based
//     policies, and AWS is silent. A key policy's Deny with NotPrincipal
//     applies to every caller with a boundary, whatever NotPrincipal names
//     (the same guide). The lockout check and RetireGrant (P11) count the
//     guard rails too. AccessDeniedException does not carry the denying
//     SCP's ARN, which AWS adds in some messages. Malformed SCPs and RCPs
//     are MalformedPolicyDocumentException with AWS Organizations' one
//     message ("The provided policy document does not meet the
//     requirements of the specified policy type."), the reason wrapped.
//   - D63: resource control policies (Organizations.PutResourceControlPolicy)
//     bound every call on the customer managed keys of the accounts they
//     reach, whoever calls (other accounts, service principals, roots) and
//     whatever allows, grants included; they are checked before the key
//     policy. Their grammar is AWS's (policy.ParseResourceControl): Deny
//     statements with Principal "*", AWS's RCPFullAWSAccess being implied.
//     As the AWS KMS Developer Guide says, they do not bound AWS managed
//     keys or RetireGrant; nor, as for SCPs, the management account's keys.
//     A placed account's principals carry aws:PrincipalOrgID and
//     aws:PrincipalOrgPaths, its keys aws:ResourceOrgID and
//     aws:ResourceOrgPaths, in every policy; aws:PrincipalIsAWSService is
//     "false" for every caller but a service principal (it was absent).
//     Like identity-based policies (D59), organizations are the program's
//     configuration, not the store's, and take effect at the next call.
//   - D64: where a call comes from. WithSourceIP gives it aws:SourceIp
//     (kms/kmshttp: the connection's address); a call through an
//     interface VPC endpoint (WithVPCEndpoint, NewVPCEndpoint) carries
//     aws:SourceVpce, aws:SourceVpc and aws:VpcSourceIp instead, as AWS
//     leaves aws:SourceIp out of those, and one an AWS service makes for
//     its caller (WithViaService, WithServicePrincipal) carries no address
//     (AWS gives the service's own). The endpoint's policy (a
//     resource-based policy; AWS's full-access default unless set) bounds
//     every call through it, operations on no key and alias operations
//     included, after resource control policies and before the rest: a
//     Deny, or no Allow, is AccessDeniedException "… with an explicit deny
//     in a VPC endpoint policy" or "… because no VPC endpoint policy
//     allows …". Every call also carries aws:RequestedRegion (its Region),
//     aws:PrincipalType (Account, User, FederatedUser or AssumedRole),
//     aws:username for an IAM user, and aws:SecureTransport "true": AWS KMS
//     endpoints take HTTPS only, and kmsmodel stands for them even over
//     plain HTTP. A chain of services that called KMS with the caller's
//     credentials (WithCalledVia; WithViaService through Athena,
//     CloudFormation, DynamoDB or KMS, the services AWS lists, names that
//     service) is aws:CalledVia, with aws:CalledViaFirst and
//     aws:CalledViaLast, and aws:userid (D77).
//   - D65: policy variables and principal tags. In a 2012-10-17 policy
//     (key, identity-based, guard rail, endpoint), ${key} in a Resource or
//     a condition value is the request's value of that condition key,
//     ${key, 'default'} its default when absent (package kms/policy);
//     before, policies compared "${…}" as literal text. WithPrincipalTags
//     gives the caller's tags (its IAM tags and session tags, resolved as
//     AWS resolves them) as aws:PrincipalTag/<key>, so that
//     attribute-based access control compares them with aws:ResourceTag
//     through ${aws:PrincipalTag/<key>}. Principal tags are per call, not
//     kept by IdentityPolicies: kmsmodel models no IAM users or roles
//     beyond their policies and D66.
//   - D66: the principal existence check (spec P2). AWS refuses a key
//     policy naming an IAM user or role that does not exist ("Policy
//     contains a statement with one or more invalid principals.",
//     recorded). kmsmodel checks once the program says which exist:
//     from the first IdentityPolicies.CreatePrincipal on, a user, role or
//     role session named in CreateKey's, PutKeyPolicy's or ReplicateKey's
//     policy, or as CreateGrant's grantee or retiring principal, must be
//     created (and not deleted since) or hold an identity-based policy or
//     a permissions boundary; accounts, "*", service principals and
//     federated users are not checked. A grant to an unknown principal is
//     ValidationException "The principal <ARN> does not exist."
//     (kmsmodel's wording: no AWS answer is recorded). Before any
//     CreatePrincipal, every principal is taken to exist, as before.
//
// Condition keys filled today: the key's properties (kms:KeySpec,
// kms:KeyUsage, kms:KeyOrigin, kms:MultiRegion, kms:MultiRegionKeyType),
// kms:CallerAccount and the principal keys, kms:RequestAlias, the
// encryption context (kms:EncryptionContext:<key>,
// kms:EncryptionContextKeys), kms:EncryptionAlgorithm,
// kms:SigningAlgorithm, kms:MessageType, kms:MacAlgorithm,
// kms:KeyAgreementAlgorithm, kms:DataKeyPairSpec, kms:ReplicaRegion,
// kms:PrimaryRegion, kms:ReEncryptOnSameKey (D76),
// kms:RotationPeriodInDays, kms:ScheduleKeyDeletionPendingWindowInDays,
// kms:WrappingAlgorithm,
// kms:WrappingKeySpec, kms:ExpirationModel, kms:ValidTo,
// kms:ResourceAliases (but not in key policies, D73), aws:RequestTag/<key>
// and aws:TagKeys, kms:BypassPolicyLockoutSafetyCheck and CreateGrant's
// kms:Grant* keys.
// kms:ViaService and aws:ViaAWSService for a call WithViaService makes
// (D60); aws:SourceArn, aws:SourceAccount, aws:PrincipalServiceName and
// aws:PrincipalIsAWSService for one WithServicePrincipal makes (D61), and
// "false" for every other; aws:PrincipalOrgID, aws:PrincipalOrgPaths,
// aws:ResourceOrgID and aws:ResourceOrgPaths for accounts placed in an
// organization (WithOrganizations, D63); aws:SourceIp, aws:SourceVpce,
// aws:SourceVpc, aws:VpcSourceIp, aws:RequestedRegion,
// aws:SecureTransport, aws:PrincipalType, aws:username, aws:CalledVia,
// aws:CalledViaFirst and aws:CalledViaLast (D64). Absent: aws:ResourceTag
// (but in identity-based policies, D59, and resource control policies,
// D63). aws:PrincipalTag/<key> with WithPrincipalTags (D65), and
// aws:userid (D77).
// kms:TrailingDaysWithoutKeyUsage on DisableKey and ScheduleKeyDeletion
// (D74).
//
// # Eventual consistency
//
// The AWS KMS API is eventually consistent (spec section (f); AWS KMS
// Developer Guide, accessing-kms.html#programming-eventual-consistency):
// a change may not be visible to the next call. kmsmodel is instantly
// consistent unless built with WithEventualConsistency; then each change
// reaches callers only after a propagation delay drawn, under the
// service's clock, from a seed, so that a seed reproduces every window.
// Package kms/consistency holds the pure model (delays, and which reader
// sees which change when); this package records the changes and applies
// the reader's view at each call. Nothing runs in the background: a
// window ends when the clock passes it. The windows, and the AWS text
// each comes from:
//
//   - CreateKey: a call naming the new key (by ID, ARN or alias), or
//     Decrypt of a ciphertext under it, is NotFoundException "Key '<arn>'
//     does not exist" [EC: "GetParametersForImport right after CreateKey
//     can return NotFoundException"].
//   - EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion,
//     UpdateKeyDescription, UpdatePrimaryRegion and
//     DeleteImportedKeyMaterial (a change of the key's state or
//     description): DescribeKey and the key-state check of cryptographic calls see the
//     previous state, so a just-disabled key still encrypts [EC; DEL:
//     disabling a key takes effect "subject to eventual consistency"].
//   - CreateAlias and UpdateAlias: the alias is NotFoundException, or
//     resolves to its previous target [EC].
//   - CreateGrant: the grant allows nothing (AccessDeniedException) unless
//     the call passes its grant token [GT]; RetireGrant and RevokeGrant:
//     the grant still allows [API RevokeGrant: "When you create, retire,
//     or revoke a grant, there might be a brief delay, usually less than
//     five minutes"].
//   - PutKeyPolicy: the previous key policy decides [EC].
//   - TagResource, UntagResource, CreateAlias and UpdateAlias: policies
//     that test aws:ResourceTag/<key> or kms:ResourceAliases see the key's
//     tags and aliases before the change (D75) [ABAC, alias-authorization:
//     "It might take up to five minutes for tag and alias changes to
//     affect KMS key authorization"].
//   - Rotations (automatic, on demand, EnableKey's catch-up): encryption
//     uses the previous current material [RK, ROD: "until the new key
//     material is available in all Regions"]; decryption always uses the
//     material a ciphertext names.
//   - Deletion fires at a drawn instant up to MaxDeletionDelay (24 hours)
//     after DeletionDate [DEL: "up to 24 hours after"].
//   - ReplicateKey's Creating and UpdatePrimaryRegion's Updating last a
//     drawn delay (Updating: plus the typical delay) when
//     WithReplicaCreationDuration or WithPrimaryUpdateDuration is 0
//     [SDK ReplicateKey: "a few seconds"; UpdatePrimaryRegion: "a few more
//     seconds"].
//
// With an Observer, each change is reported when every reader sees it, as
// a scheduled Event named "PropagateChange" (Parameters "change", the
// operation, and "changeTime"), in time order with the other records.
// PropagationStatus says whether everything has propagated and when it
// will have; Propagate ends every window at once, without moving the
// clock, so that a test reaches the settled state without sleeping (over
// HTTP: KmsModel.GetPropagationStatus and KmsModel.Propagate). With the
// model off, a call pays one nil check per window, a key costs nothing
// more, and nothing changes; with it on, memory is spent only on changes
// still propagating.
//
// Where AWS is silent, kmsmodel decides (continued):
//
//   - D40: a change's full propagation delay d is drawn from the
//     configured distribution (default: uniform in 500 ms–3 s, and with
//     probability 2% in 3 s–5 min); between the change and d later the
//     share of readers that see it grows linearly from 0 to 1, and a
//     reader sees it when its hashed position (seed, change, reader) lies
//     below that share. A reader is the calling principal (default: its
//     view only moves forward) or each call (consistency.PerCall). A
//     reader sees a key's changes as a prefix: the oldest change it does
//     not see hides the later ones. The seed, when not given, is read from
//     the randomness source (WithRandom) by New.
//   - D41: only what the list above names lags. Changes act on the latest
//     state: a write (EnableKey after DisableKey, …) is checked against
//     it, and only the creation, alias, grant, policy and tag windows can
//     refuse it. Lists and reads of settings (ListKeys, ListAliases,
//     ListGrants, ListKeyRotations, GetKeyPolicy, GetKeyRotationStatus,
//     ListResourceTags) are consistent; DeleteAlias takes effect at
//     once; AWS managed keys (made by the call that first uses their
//     alias) and replicas (whose window is their Creating state) are
//     visible at once, and so are ImportKeyMaterial, scheduled state
//     changes (expiry of imported material, a replica's or update's end)
//     and custom key store connections.
//   - D42: a grant's token makes it usable at once for the call that
//     passes it, and for no other call; a retired or revoked grant keeps
//     allowing only readers that saw its creation; a new key policy lags
//     in both directions (what it newly allows and what it newly
//     refuses).
//   - D43: a deletion fires at DeletionDate plus a delay uniform in [0,
//     MaxDeletionDelay], drawn from the seed, the key and its
//     DeletionDate. Until then the key is PendingDeletion to every call,
//     and CancelKeyDeletion succeeds; a waiting primary's window
//     (PendingReplicaDeletion) starts when its last replica's deletion
//     fires.
//   - D44: a rotation is a change made at its own instant (an automatic
//     rotation at its scheduled date, an on-demand one when it
//     completes); what lags is the material new ciphertexts are made
//     under (Encrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext,
//     ReEncrypt's destination). ListKeyRotations and
//     CurrentKeyMaterialId show it at once, and the replicas' copies of a
//     primary's rotations take effect in their Regions at once.
//   - D45: the windows live in memory: a service reopened on its store
//     sees every change as propagated, and a deletion waiting past its
//     DeletionDate fires at the instant its seed gives (the same as
//     without the restart when the seed is set). Propagate settles the
//     changes at the clock's instant, reporting them with "forced".
//
// # Not modelled yet
//
// Verify of an ML-DSA signature from an external μ (MessageType
// EXTERNAL_MU: sign with it, verify the message with RAW) is not part of
// this version: the ML-DSA implementation kmsmodel uses verifies messages
// only. (Calls through and by AWS services are: WithViaService,
// WithServicePrincipal, D60 and D61; Nitro Enclaves and NitroTPM
// recipients are: D80; SM2 wrapping of imported material is: D81.)
package kms
