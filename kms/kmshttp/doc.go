// Package kmshttp serves a *kms.Service over HTTP with the AWS KMS wire
// protocol, so that any AWS SDK or the AWS CLI can drive the model: point
// the client's endpoint at the handler (or, in Go, give the SDK an
// http.Client whose Transport is a kmshttp.Transport, with no socket at
// all).
//
// # Protocol
//
// Requests are AWS JSON 1.1 (aws-kms-behaviour.md e.1): POST, Content-Type
// application/x-amz-json-1.1, the operation in the X-Amz-Target header as
// "TrentService.<Operation>", the input as a JSON object in the body. The
// operations served are those of package kms (see Operations): CreateKey,
// DescribeKey, ListKeys, EnableKey, DisableKey, ScheduleKeyDeletion,
// CancelKeyDeletion, UpdateKeyDescription, EnableKeyRotation,
// DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand,
// ListKeyRotations, CreateAlias, UpdateAlias, DeleteAlias, ListAliases,
// TagResource, UntagResource, ListResourceTags, and the symmetric
// cryptographic operations Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
// GenerateDataKeyWithoutPlaintext and GenerateRandom, and the key-material
// import operations GetParametersForImport, ImportKeyMaterial and
// DeleteImportedKeyMaterial (ImportType, KeyMaterialId and
// KeyMaterialDescription, of the 2025 multi-material rules, are taken by a
// service of kms.RulesCurrent and refused with
// UnsupportedOperationException under kms.Rules2024), the custom key store operations,
// and the multi-Region key operations ReplicateKey and UpdatePrimaryRegion,
// the asymmetric and HMAC operations Sign, Verify,
// GetPublicKey, GenerateMac, VerifyMac, DeriveSharedSecret,
// GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext (Encrypt,
// Decrypt and ReEncrypt take and return the EncryptionAlgorithm members
// for RSA and SM2 keys), GetKeyLastUsage, whose KmsRequestId is the
// X-Amzn-Requestid the handler answered the counted call with (it passes
// every request ID to the service with kms.WithRequestID), the key
// policy operations GetKeyPolicy, PutKeyPolicy and ListKeyPolicies, and
// the grant operations CreateGrant, ListGrants, ListRetirableGrants,
// RetireGrant and RevokeGrant (see "Grants and DryRun"), and the ML-KEM
// operations Encapsulate and Decapsulate: every operation of the AWS SDK
// for Go v2 KMS client v1.62.6.
// CreateKey and ReplicateKey take Policy and
// BypassPolicyLockoutSafetyCheck, and ReplicateKey answers the replica's
// policy as ReplicaPolicy (see "Principals and key policies"). Request and
// response members have the AWS names; optional response members are left
// out when empty (GetPublicKey sends only the algorithm list of the key's
// usage), except GetKeyLastUsage's KeyLastUsage, an empty object when the
// key has no recorded use; timestamps are epoch seconds as JSON numbers
// with a millisecond fraction; blobs (plaintexts, ciphertexts, messages,
// signatures, MACs, public and private keys) are base64 strings; encryption
// contexts are JSON objects of strings. A successful operation without
// output answers HTTP 200 with an empty body. Every response carries an
// X-Amzn-Requestid header. The path and the Content-Type of a request are
// not checked.
//
// Request members are matched by their exact (case-sensitive) names.
// Unknown members are ignored, as AWS ignores them, but must be well-formed
// JSON; a null member counts as absent. DryRun and GrantTokens go to the
// service in the call's context (kms.WithDryRun, kms.WithGrantTokens);
// CustomerMasterKeySpec is read as KeySpec.
// KeyStorePassword and XksProxyAuthenticationCredential's
// RawSecretAccessKey are passed to the service as kms.Sensitive and never
// echoed. Recipient's AttestationDocument is a base64 blob like the others,
// and CiphertextForRecipient is answered when the service returns it
// (kms.RecipientInfo, D80). The
// buffers that carried a request and its response are wiped before reuse,
// since they may hold plaintexts.
//
// # Errors
//
// A refusal has the body {"__type": "<Exception>", "message": "…"} and the
// same name in the X-Amzn-Errortype header (decision D18), so the AWS SDKs
// decode it as the typed exception (types.NotFoundException, …) or, for
// names outside the KMS model such as ValidationException and
// AccessDeniedException, as a generic API error with that code. The
// message member is left out when the model's message is empty (D19), as
// real AWS sends KMSInvalidSignatureException (Verify),
// KMSInvalidMacException (VerifyMac) and InvalidCiphertextException. HTTP
// status: 400 for every client error, 500 for KMSInternalException and
// DependencyTimeoutException (D18). A KMSInternalException never carries
// the failure's own text, which may name the server's files: its message
// is AWS's generic one with the request ID, and the handler logs the detail
// under that request ID at slog.LevelError (WithLogger). The adapter's own
// refusals:
//
//   - malformed JSON, a wrong JSON type for a known member, invalid UTF-8:
//     SerializationException (400);
//   - a required member absent or null: ValidationException (400) worded as
//     AWS words it ("Value null at 'keyId' failed to satisfy constraint:
//     Member must not be null");
//   - an unknown or missing X-Amz-Target, or a method other than POST:
//     UnknownOperationException, with HTTP 400 per D18 (the CommonErrors
//     page lists 404; the SDKs choose the error by name, not status);
//   - a body over the limit (WithMaxBodyBytes, 1 MiB by default):
//     RequestEntityTooLargeException, HTTP 413 as the CommonErrors page
//     says;
//   - a body over SmallBodyBytes when the handler's body memory
//     (WithBodyMemory) is spent: ThrottlingException (400), which the
//     SDKs retry;
//   - authentication problems, below (400).
//
// # Callers and Regions
//
// The caller comes from the access key ID in the SigV4 Authorization
// header's credential ("Credential=<key>/<date>/<region>/
// kms/aws4_request"). By default every access key is the service's own
// account's root; WithAccounts maps access keys to accounts (their roots)
// or to principal ARNs (IAM users, roles, assumed-role sessions, account
// roots; decision D24), and then an unknown access key is refused with
// UnrecognizedClientException. The call runs with kms.WithCaller (an
// account) or kms.WithPrincipal (an ARN), so the model's cross-account
// rules, key policies and Authorizer apply.
//
// Headers of kmsmodel's own make a request one an AWS service makes:
// "X-Kmsmodel-Via-Service: s3.us-east-1.amazonaws.com", a call that
// service makes for the caller (kms.WithViaService, decision D60);
// "X-Kmsmodel-Service-Principal: logs.us-east-1.amazonaws.com" with
// "X-Kmsmodel-Source-Arn" and "X-Kmsmodel-Source-Account", a call that
// service principal makes on behalf of that resource, instead of the
// access key's caller (kms.WithServicePrincipal, D61);
// "X-Kmsmodel-Called-Via: athena.amazonaws.com", a comma-separated chain
// of services that called KMS for the caller (kms.WithCalledVia, D64).
// Every request
// comes from its connection's address (kms.WithSourceIP: aws:SourceIp),
// or from "X-Kmsmodel-Source-Ip: 203.0.113.7"; with
// "X-Kmsmodel-Vpc-Endpoint: vpce-…" it comes through that VPC endpoint,
// one given with WithVPCEndpoints, whose policy bounds it
// (kms.WithVPCEndpoint, D64). "KmsModel.SetVPCEndpointPolicy" with
// {"VpcEndpointId": id, "PolicyDocument": d} changes an endpoint's policy
// (no document: AWS's full-access default), "KmsModel.GetVPCEndpointPolicy"
// reads it. Malformed values, and endpoints the handler was not given,
// are ValidationException.
//
// The credential's Region is the Region of the call: the handler passes
// it to the service with kms.WithCallerRegion, so one handler serves every
// Region, as many AWS endpoints would, and SDK clients configured for
// different Regions see the keys, aliases and multi-Region replicas of
// their own Region. The Regions served are those the service allows
// (kms.Service.AllowsRegion): the AWS Regions the AWS SDK knows
// (kms.KnownRegion, such as us-west-2 or us-gov-west-1), the service's own
// Region (kms.WithRegion) whatever its form, and those named with
// kms.WithRegions. A Region takes up a place in the service only when
// something is created in it: a read in a Region without state answers as
// an empty Region. A credential scoped to anything else, or to another
// service than kms, is refused with
// InvalidSignatureException ("Credential should be scoped to a valid
// region, not '<region>'."). A SigV4a credential names no Region: its call
// goes to the service's Region, which its X-Amz-Region-Set header must
// include (or be "*"). A header that is not SigV4 or SigV4a is
// IncompleteSignatureException. Without WithAccounts, a request with no
// Authorization header runs as the service's account in the service's
// Region, so plain curl works; once WithAccounts maps any access key, such
// a request is refused with MissingAuthenticationTokenException (400,
// "Request is missing Authentication Token"), since it would otherwise run
// as an account no key was given for.
//
// Signatures are NOT verified: the handler trusts the access key ID it is
// shown. It is a model for tests and simulations, not a security boundary;
// do not expose it beyond the machines you trust.
//
// # Principals and key policies
//
// Every operation on a key is decided by the key's policy (package kms;
// kms/policy evaluates it) for the principal the access key maps to. A
// key created without a Policy has AWS's default key policy, which lets
// every principal of the key's account in (IAM identity policies are not
// modelled: D24) and no other account; GetKeyPolicy returns it byte for
// byte as AWS does. A refusal is AccessDeniedException (HTTP 400, D18)
// worded as D26 says: "User: <principal ARN> is not authorized to
// perform: kms:<Action> on resource: <key ARN> because no resource-based
// policy allows the kms:<Action> action", or "… with an explicit deny in a
// resource-based policy". Its body has the lowercase "message" member of
// every other refusal, although real AWS writes this one exception with a
// capital "Message" (spec §6): the AWS SDKs read either spelling, so the
// handler keeps one shape. A policy document that is not valid is
// MalformedPolicyDocumentException (with no message member for text that
// is not JSON, as AWS sends it), one over 32 KB LimitExceededException,
// and a policy that would lock the caller out of PutKeyPolicy
// MalformedPolicyDocumentException ("The new key policy will not allow you
// to update the key policy in the future.") unless
// BypassPolicyLockoutSafetyCheck is set. A Policy member that is present
// but empty is a ValidationException (the model's length constraint).
//
// # Grants and DryRun
//
// After the key policy, a grant on the key can allow a call (decision
// D28): CreateGrant gives a GranteePrincipal (of any account: a grant
// alone lets another account's principal use the key, by its ARN) some
// Operations, optionally only with an encryption context that equals
// (Constraints.EncryptionContextEquals) or includes
// (Constraints.EncryptionContextSubset) the grant's, and answers a GrantId
// and a GrantToken. Grants take effect at once. The operations that take
// GrantTokens accept the tokens CreateGrant returned; any other token is
// InvalidGrantTokenException. ListGrants lists a key's grants (filtered by
// GrantId or GranteePrincipal, paged by Limit and NextMarker), with
// CreationDate in epoch seconds and the key ARN as KeyId;
// ListRetirableGrants lists those whose RetiringPrincipal is the one given.
// RetireGrant takes a GrantToken, or a KeyId and a GrantId, and is allowed
// to the key's account, the grant's retiring principal, and its grantee
// when the grant lists RetireGrant; RevokeGrant is allowed by the key
// policy. An unknown GrantId is InvalidGrantIdException.
//
// An operation that takes DryRun (CreateGrant, Decapsulate, Decrypt,
// DeriveSharedSecret, Encapsulate, Encrypt, GenerateDataKey, GenerateDataKeyPair,
// GenerateDataKeyPairWithoutPlaintext, GenerateDataKeyWithoutPlaintext,
// GenerateMac, ReEncrypt, RetireGrant, RevokeGrant, Sign, Verify,
// VerifyMac), sent with DryRun true, makes every check of the call
// (validation, authorization, key state and usage, the grant's existence)
// and then answers DryRunOperationException, HTTP 400, "The request would
// have succeeded, but the DryRun option is set." (D27), or the error the
// call would have had (AccessDeniedException for a caller the key policy
// and grants do not allow), doing nothing.
//
// # Simulated time
//
// When the service runs on a *kms.ManualClock and the handler is given it
// with WithManualClock, two targets outside the AWS API move and read
// simulated time:
//
//   - "KmsModel.AdvanceClock" with {"Seconds": n} advances the clock n
//     seconds (n ≥ 0, fractions allowed), or with {"To": t} sets it to the
//     epoch-seconds instant t, which must not be earlier than the clock;
//   - "KmsModel.Now" with {} reads it.
//
// Both apply every scheduled event due (kms.Service.Sweep) and answer
// {"Now": t, "EventsApplied": n, "NextEventTime": t}, NextEventTime absent
// when nothing is scheduled. Without a manual clock both are
// UnknownOperationException, with a message saying that the server must
// run with --clock manual (kmssim serve) or the handler be given
// WithManualClock.
//
// # Eventual consistency
//
// A service built with kms.WithEventualConsistency (kmssim serve
// --eventual-consistency) lets each change propagate as AWS KMS does
// (decisions D40–D45). Two more targets of kmsmodel's own, served with
// or without a manual clock, let a test in any language leave the
// inconsistent window without sleeping:
//
//   - "KmsModel.GetPropagationStatus" with {} answers {"Enabled": b,
//     "Propagated": b, "Pending": n, "SettleTime": t}: whether every
//     change has propagated, how many have not, and when they all will
//     have (absent when Propagated);
//   - "KmsModel.Propagate" with {} makes every change visible to every
//     caller and fires every deletion waiting past its DeletionDate, at
//     the clock's current instant, and answers the same with "Settled":
//     how many it settled.
//
// Without the model GetPropagationStatus answers Propagated true and
// Propagate settles nothing.
//
// # Identity-based policies
//
// A service built with kms.WithIdentityPolicies (kmssim serve
// --identity-policies or --identity-policy) decides calls with IAM
// identity-based policies too (decision D59 of package kms). Given the same
// kms.IdentityPolicies with WithIdentityPolicies, the handler serves
// targets of kmsmodel's own that change and read them while it runs, the
// next call seeing the change:
//
//   - "KmsModel.PutIdentityPolicy" with {"PrincipalArn": a, "PolicyName":
//     n, "PolicyDocument": d} attaches d to the IAM user, group or role a
//     (a role's sessions included) under the name n, replacing n's, and
//     answers {};
//   - "KmsModel.GetIdentityPolicy" with {"PrincipalArn": a, "PolicyName":
//     n} answers {"PolicyDocument": d}, and without PolicyName
//     {"PolicyNames": [...]};
//   - "KmsModel.DeleteIdentityPolicy" with {"PrincipalArn": a,
//     "PolicyName": n} detaches it and answers {};
//   - "KmsModel.AddUserToGroup" and "KmsModel.RemoveUserFromGroup" with
//     {"GroupArn": g, "UserArn": u} change an IAM group's members, to whom
//     the group's policies apply, and answer {};
//   - IAM's guard rails (decision D62), which bound what the policies
//     above and the key policies allow: "KmsModel.PutPermissionsBoundary"
//     with {"PrincipalArn": a, "PolicyDocument": d} sets the boundary of
//     the IAM user or role a; "KmsModel.PutSessionPolicy" with
//     {"SessionArn": s, "PolicyDocument": d} the session policy of the
//     assumed-role session or federated user s. Each has a Get (answering
//     {"PolicyDocument": d}) and a Delete with the same members but the
//     document;
//   - "KmsModel.CreatePrincipal" and "KmsModel.DeletePrincipal" with
//     {"PrincipalArn": a} record which IAM users and roles exist: from the
//     first, key policies and grants may name only those (D66).
//     CreatePrincipal answers {"UserId": id}, the unique ID that IAM
//     would report (D77), and a principal deleted and created again gets
//     a new one;
//   - "KmsModel.GetUserId" with {"PrincipalArn": a} answers {"UserId":
//     v}, the value of aws:userid when a calls (D77), served with or
//     without identity-based policies.
//
// A service built with kms.WithOrganizations (kmssim serve --organizations,
// --scp, --rcp or --place-account) sees AWS Organizations (D62, D63).
// Given the same kms.Organizations with WithOrganizations, the handler
// serves their targets: "KmsModel.PutServiceControlPolicy" and
// "KmsModel.PutResourceControlPolicy" with {"Target": t, "PolicyName": n,
// "PolicyDocument": d} attach a policy to an account ID, an organizational
// unit (ou-…) or an organization root (r-…), each with a Get and a Delete;
// "KmsModel.PlaceAccount" with {"AccountId": a, "OrgPath":
// "o-…/r-…/ou-…/"} places an account (an empty OrgPath takes it out);
// "KmsModel.SetManagementAccount" with {"AccountId": a} exempts the
// organization's management account.
//
// They refuse with ValidationException (an ARN that is no user or role, a
// bad name or target), MalformedPolicyDocumentException and
// NotFoundException, and without identity-based policies (or
// organizations) answer UnknownOperationException. Any
// caller may use them, whatever its own permissions: like the clock
// targets, they are for the tests that drive the server, not part of what
// the policies govern.
//
// Handlers that share one key space (the nodes of a cluster) can share
// these changes too: given a ModelLog (WithModelLog), a handler sends each
// target that changes IAM, Organizations or VPC endpoints (IsModelChange)
// to the log, which applies it on every handler in one order
// (Handler.ApplyModelChange) and answers with this handler's answer, and
// it syncs with the log before a target that reads them. kmssim serve
// --etcd keeps such a log in etcd.
//
// # Serving on a socket
//
// Server runs a Handler on a listener within Limits: a whole-request read
// deadline, a header deadline, a write deadline, an idle timeout for
// keep-alive connections, a header-block size and a cap on open
// connections (beyond it, new connections wait in the accept queue).
// Bodies over SmallBodyBytes share the handler's WithBodyMemory and are
// refused with ThrottlingException beyond it. MemoryBound states the most
// memory the connections can hold (232 MiB with the defaults). The
// refusals net/http writes itself before a handler runs (431 for a header
// block over the limit, 400 for a malformed request) are rewritten on the
// connection into AWS's shape (RequestEntityTooLargeException,
// BadRequestException), since net/http offers no hook for them.
// Server.Shutdown waits for requests being handled but cuts clients that
// are still sending.
//
// # Performance
//
// The request decoder and the response encoder are written for these
// shapes (no reflection) and reuse pooled buffers; the handler adds a few
// microseconds to the model's own cost per call.
package kmshttp
