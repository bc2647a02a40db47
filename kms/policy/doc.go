// Package policy parses, re-serialises and evaluates AWS KMS key policies.
//
// It is the pure core of key-policy authorization: no I/O, no clock (the
// request's time is an input), no dependency on package kms. A policy is
// parsed and compiled once (Parse, or Default for the default key policy)
// and the compiled Document answers any number of requests with one pure
// function, Evaluate, which returns the decision and the statements that
// made it. Section numbers (§) refer to
// shared/spec/aws-kms-policies-grants.md; P-numbers to its proposals and
// D-numbers to shared/spec/decisions.md.
//
// # Parsing
//
// Parse checks, in this order (§2.1, P4, P5, D29):
//   - more than 131,072 characters: ErrTooLong (kms answers
//     ValidationException);
//   - more than 32,768 bytes of UTF-8: ErrTooLarge (LimitExceededException);
//   - not exactly one JSON value: ErrMalformed with an empty message, as
//     recorded from the real service;
//   - the policy grammar: ErrMalformed with a message in AWS's style.
//
// The grammar: a JSON object with Version (optional; "2012-10-17" or
// "2008-10-17", the two versions of AWS's policy language), Id (optional
// string) and Statement (required: one statement object or a non-empty list
// of them); no other element. A statement has Effect ("Allow" or "Deny",
// case-sensitive), exactly one of Principal and NotPrincipal, at most one
// of Action and NotAction, at most one of Resource and NotResource, an
// optional string Sid and an optional Condition; no other element. Element
// names are case-sensitive. An object naming a member twice is rejected
// (message "Policy contains a duplicate element …").
//
// A statement without Action/NotAction or without Resource/NotResource is
// accepted and has no effect (§2.1); so is one whose list is empty.
// Actions are "*" or "<service>:<action>" with wildcards allowed in the
// action part; actions of other services are accepted and never match a
// kms action. Resources are "*" or ARN patterns.
//
// Principals (§8): "*", or an object with AWS, Service and Federated
// members, each a string or a non-empty list of strings. AWS values are
// "*", a 12-digit account ID or the ARN of an account root, IAM user, IAM
// role, assumed-role session or federated user (ParsePrincipal); anything
// else, IAM groups and CanonicalUser included, is rejected with the
// recorded message "Policy contains a statement with one or more invalid
// principals." Principals are not checked for existence (D24).
//
// Condition operators are case-sensitive names from IAM's list (§5.3),
// with an optional ForAnyValue: or ForAllValues: prefix and an optional
// IfExists suffix; Null takes neither. An unknown operator, a value that is
// not a scalar or a list of scalars, or a value the operator cannot read
// (a number for Numeric*, an ISO 8601 date or epoch seconds for Date*,
// true/false for Bool and Null, base64 for BinaryEquals, an IP address or
// CIDR for IpAddress) is rejected. ARN values that are not ARNs are kept and
// match nothing. ForAllValues with kms:EncryptionContext:* or
// aws:RequestTag/* is rejected with the OverlyPermissiveCondition message
// of §2.1.
//
// Messages other than the recorded ones (invalid principals, not JSON,
// OverlyPermissiveCondition) are written by this package in AWS's style
// (P5).
//
// # Re-serialisation
//
// Document.Text writes the document in GetKeyPolicy's layout (§1.1, P3):
// two-space indentation per object level, " : " between a name and its
// value, lists on one line with ", " between elements — so a list of
// statements opens with "[ {" and closes with "} ]" and a list of strings
// reads [ "a", "b" ] — "{ }" and "[ ]" when empty, and no trailing
// newline. Member and list order are kept; numbers keep their literal
// text; strings escape only the quote, the backslash and control
// characters. Principals are not rewritten (no sts-to-iam change). Text is
// computed once, at Parse.
//
// Default(partition, account) gives the default key policy whose Text is
// §1.1's text byte for byte. A Document is immutable: keep one per
// account. IsDefault recognises it, and Parse marks a document whose Text
// is exactly the default text of its account.
//
// # Evaluation
//
// Evaluate looks at every statement (so the Decision's diagnostic is
// complete) and decides (§3.2):
//   - ExplicitDeny when a Deny statement applies, whatever else applies;
//   - otherwise Allow when an Allow statement applies;
//   - otherwise ImplicitDeny.
//
// A statement applies when all of these hold:
//   - Principal: a listed principal matches the caller (Principal.Matches);
//     NotPrincipal: none does;
//   - Action: a listed action matches Request.Action, with "*" and "?"
//     wildcards and without regard to case; NotAction: none does;
//   - Resource: "*" (this key) or an ARN pattern (case-sensitive, with
//     wildcards) matching Request.Resource; NotResource: none does;
//   - every condition holds.
//
// Principal matching follows §8, D24 and D28. "*" matches every caller.
// An account principal matches every principal of its account; the
// Decision's Direct then tells whether some Allow covered the caller
// itself or only its account, which delegates to the account's IAM
// policies (§3.2 rule 3). Package kms combines the two (D59) when it keeps
// identity-based policies, and otherwise takes IAM to allow every kms
// action (D24), so that rules 4b and 5 collapse to "the key policy names
// the caller's account". A role matches
// its sessions (by role name: a session ARN carries no path); a session,
// user or federated user only itself; a service principal the same
// service. NotPrincipal uses the same matching.
//
// This package does not know which operations may be called across
// accounts (§3.2 rule 5) nor that kms:RetireGrant in a key policy has no
// effect (§4.7); kms applies those rules.
//
// # Identity-based policies
//
// ParseIdentity parses an IAM identity-based policy (§3.1, D59): the
// grammar above, except that a statement names no Principal or
// NotPrincipal ("Policy document should not specify a principal.") and
// must have an Action or NotAction ("Policy statement must contain
// actions.") and a Resource or NotResource ("Policy statement must
// contain resources."), IAM's wordings. Its statements apply to any
// Request.Caller: whoever evaluates it decides whom it is attached to. A
// Resource "*" matches any Request.Resource; an ARN pattern matches only
// a resource it fits, so that an operation on no resource (Resource "*"
// in the request: CreateKey, ListKeys, …) is allowed only by "*".
//
// # Conditions
//
// Conditions follow IAM (§5.3):
//   - several operators, and several keys under one operator: AND;
//   - several values for one key: OR; for a negated operator (…Not…,
//     NotIpAddress) the request value must match none of them;
//   - an absent key makes a positive operator false and a negated one
//     true; …IfExists is true when the key is absent; Null "true" holds
//     when the key is absent and "false" when it is present;
//   - ForAnyValue: holds when some request value matches (a negated
//     operator: when some request value matches none), false when the
//     key is absent or empty;
//   - ForAllValues: holds when every request value matches (negated: when
//     no request value matches any), true when the key is absent or empty;
//   - a multi-valued key under an operator without a set prefix is treated
//     like ForAnyValue for positive operators and as "no value matches"
//     for negated ones;
//   - String* compare case-sensitively except the IgnoreCase forms; "*"
//     and "?" are wildcards only in StringLike/StringNotLike; Arn* compare
//     the six ARN fields one by one, with wildcards within a field for all
//     four Arn operators; BinaryEquals compares the base64 text;
//     Numeric* compare float64 values; Date* compare instants;
//   - a request value that the operator cannot read (not a number, not a
//     date, not an IP address, not an ARN) matches no policy value.
//
// Policy variables (decision D65 of package kms): in a policy whose
// Version is 2012-10-17, ${key} in a Resource or in a condition value
// stands for the request's value of the condition key (any key the
// request carries or implies, such as aws:username,
// aws:PrincipalAccount or aws:PrincipalTag/<tag>), ${key, 'default'} for
// it or the default when the request has none, and ${*}, ${?} and ${$}
// for those characters. A value whose variable has no value and no
// default (or a multi-valued key) matches nothing. In a policy of another
// Version, or none, "${…}" is literal text, as IAM reads it. A
// variable's value, and ${*} and ${?}, are literal characters even where
// the text around them may have wildcards (StringLike, Arn*, Resource).
//
// # Condition keys
//
// Condition-key names are case-insensitive, the <key> of
// kms:EncryptionContext:<key> included (§5.1). A key is looked up in
// Request.Context first; when absent there, these keys come from the
// Request itself:
//   - kms:CallerAccount, aws:PrincipalAccount: the caller's account;
//   - aws:PrincipalArn: the caller's ARN, the role ARN for a session;
//   - aws:ResourceAccount: Request.ResourceAccount when set;
//   - aws:PrincipalIsAWSService: "true" for a service principal, "false"
//     for any other caller (IAM User Guide: present in every signed
//     request);
//   - aws:PrincipalType: Account, User, FederatedUser or AssumedRole;
//   - aws:username: an IAM user's name, for an IAM user only;
//   - aws:userid: UserID of the caller (Request.Generation picks a user's
//     or role's unique ID), absent for a service principal;
//   - aws:RequestedRegion: Request.Region when set;
//   - aws:SecureTransport: "true" for every caller, since AWS KMS
//     endpoints take HTTPS only (decision D64 of package kms);
//   - aws:SourceIp, aws:VpcSourceIp: Request.SourceIP, Request.VPCSourceIP
//     when valid;
//   - aws:CurrentTime, aws:EpochTime: Request.Time when not zero;
//   - kms:EncryptionContext:<key>: the value of <key> in
//     Request.EncryptionContext (exact key first, then without regard to
//     case);
//   - kms:EncryptionContextKeys (multi-valued): the keys of
//     Request.EncryptionContext, absent when it is empty.
//
// Every other key (kms:ViaService, kms:GrantIsForAWSResource,
// kms:EncryptionAlgorithm, kms:GrantOperations, …) is present only when
// the caller puts it in Request.Context.
//
// # Errors
//
// Parse returns *Error, whose Err is one of ErrTooLong, ErrTooLarge and
// ErrMalformed and whose Message is the AWS exception message (Message
// reads it from any error). ParsePrincipal's errors wrap
// ErrInvalidPrincipal. Evaluate never fails.
//
// # Access denied
//
// AccessDeniedMessage words the AccessDeniedException message of D26:
// "… with an explicit deny in a resource-based policy" for ExplicitDeny,
// "… because no resource-based policy allows the kms:<Action> action"
// otherwise. IdentityDeniedMessage words the identity-based forms of P7
// (D59).
package policy
