// Package kms is kmsmodel's model of the AWS KMS service: keys and their
// lifecycle, automatic and on-demand rotation, aliases and tags, driven by an
// injected clock so that rotations and deletions happen on schedule in
// simulated time.
//
// # The service
//
// New builds a Service from options: account and default Region, the Clock, the
// randomness source for key IDs, the on-demand rotation quota (decision D1,
// default 10) and duration (D10, default 0), the simulated connect duration
// of custom key stores and of replica creation and primary updates
// (default 0), an Authorizer and an Observer.
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
// InvalidImportTokenException. Asymmetric and HMAC keys take imported
// material too (a PKCS#8 private key, or the raw HMAC key; see below), but
// for ML-DSA and ML-KEM keys. Under the 2024 rules (decision D2)
// RotateKeyOnDemand of an EXTERNAL key is refused.
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
// then CONNECTED (a scheduled event); connecting never fails, so FAILED
// and DISCONNECTING are not modelled. CreateKey with CustomKeyStoreId (and
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
// and compute MACs (GenerateMac, VerifyMac); GetPublicKey returns the DER
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
//
// # Principals, key policies and grants
//
// A call is made by a principal (D24): WithPrincipal names an IAM user,
// role, assumed-role session or account root; WithCaller's account means
// its root; without either, the service's own account root calls. Every
// operation on a key is decided by the key's policy, evaluated by package
// kms/policy: an explicit Deny wins; otherwise a statement must allow the
// action for the principal (an account root in a policy stands for every
// principal of that account, IAM being taken to allow everything, D24), or
// a grant on the key must (CreateGrant). A refusal is AccessDeniedException
// worded as D26 says, and the decision (which statement or grant) is in
// the call's Event. A key created without a policy has AWS's default key
// policy, shared by all keys of its account; GetKeyPolicy returns it byte
// for byte. PutKeyPolicy and CreateKey apply AWS's lockout check unless
// BypassPolicyLockoutSafetyCheck is set. Grants (CreateGrant, ListGrants,
// ListRetirableGrants, RetireGrant, RevokeGrant) take effect at once
// (D28); WithGrantTokens passes grant tokens, which must be the service's.
// WithDryRun makes the operations that take DryRun check everything and
// answer DryRunOperationException (D27). An Authorizer given with
// WithAuthorizer decides instead of key policies and grants.
//
// Condition keys filled today: the key's properties (kms:KeySpec,
// kms:KeyUsage, kms:KeyOrigin, kms:MultiRegion, kms:MultiRegionKeyType),
// kms:CallerAccount and the principal keys, kms:RequestAlias, the
// encryption context (kms:EncryptionContext:<key>,
// kms:EncryptionContextKeys), kms:EncryptionAlgorithm,
// kms:SigningAlgorithm, kms:MessageType, kms:MacAlgorithm,
// kms:KeyAgreementAlgorithm, kms:DataKeyPairSpec, kms:ReplicaRegion,
// kms:PrimaryRegion, kms:RotationPeriodInDays,
// kms:ScheduleKeyDeletionPendingWindowInDays, kms:WrappingAlgorithm,
// kms:WrappingKeySpec, kms:ExpirationModel, kms:ValidTo,
// kms:ResourceAliases, aws:RequestTag/<key> and aws:TagKeys,
// kms:BypassPolicyLockoutSafetyCheck and CreateGrant's kms:Grant* keys.
// Absent: kms:ViaService and the other keys of calls made through AWS
// services (kmsmodel has none), aws:ResourceTag (IAM policies only),
// kms:TrailingDaysWithoutKeyUsage.
//
// # Not modelled yet
//
// The 2025 multi-material import rules, Encapsulate and Decapsulate
// (ML-KEM), the Recipient parameter (Nitro Enclaves attestation), grants
// for AWS services (GranteeServicePrincipal, SourceArn), and GenerateRandom
// in a CloudHSM key store are not part of this version.
package kms
