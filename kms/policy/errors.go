package policy

import (
	"errors"
	"strconv"
)

// ErrTooLong is returned by Parse when a policy has more than
// MaxCharacters characters, the length constraint of the KMS model's
// PolicyType (spec §2.1, D29). KMS answers ValidationException.
var ErrTooLong = errors.New("policy: document too long")

// ErrTooLarge is returned by Parse when a policy has at most MaxCharacters
// characters but more than MaxBytes bytes, the documented key policy size
// (spec §2.1, D29). KMS answers LimitExceededException.
var ErrTooLarge = errors.New("policy: document too large")

// ErrMalformed is returned by Parse when a policy is not JSON or breaks the
// policy grammar (spec §2.2, P5, D29). KMS answers
// MalformedPolicyDocumentException with the message given by Message.
var ErrMalformed = errors.New("policy: malformed document")

// ErrInvalidPrincipal is returned by ParsePrincipal when a string is not a
// principal this package knows (spec §8).
var ErrInvalidPrincipal = errors.New("policy: invalid principal")

// MaxCharacters is the most characters a policy may have (spec §2.1).
const MaxCharacters = 131072

// MaxBytes is the most bytes of UTF-8 a policy may have (spec §2.1, P4).
const MaxBytes = 32768

// Messages of the AWS service. Those marked "recorded" were seen from the
// real service (spec §2.2); the others are written in its style (P5).
const (
	// recorded (spec §2.2)
	msgInvalidPrincipals = "Policy contains a statement with one or more invalid principals."
	// recorded (spec §2.1, CK)
	msgOverlyPermissiveEC = "OverlyPermissiveCondition:EncryptionContext: Using the ForAllValues set operator with a single-valued condition key matches requests without the specified encryption context or with an unspecified encryption context. To fix, remove ForAllValues."
	// recorded (spec §2.1, CK)
	msgOverlyPermissiveTag = "OverlyPermissiveCondition: Using the ForAllValues set operator with a single-valued condition key matches requests without the specified tag or with an unspecified tag. To fix, remove ForAllValues."
	// AWS's standard ValidationException wording for a model constraint.
	msgTooLong = "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to 131072"

	msgTooLarge         = "The key policy exceeds the maximum size of 32768 bytes."
	msgNotObject        = "The policy document must be a JSON object."
	msgNoStatement      = "Policy is missing required element Statement."
	msgEmptyStatement   = "Policy contains no statements."
	msgBadStatement     = "Policy contains a statement that is not a JSON object."
	msgBadEffect        = "Policy contains a statement with an invalid Effect. Effect must be Allow or Deny."
	msgNoPrincipal      = "Policy contains a statement with no principal."
	msgBothPrincipal    = "Policy contains a statement with both Principal and NotPrincipal."
	msgBothAction       = "Policy contains a statement with both Action and NotAction."
	msgBothResource     = "Policy contains a statement with both Resource and NotResource."
	msgBadAction        = "Policy contains a statement with one or more invalid actions."
	msgBadResource      = "Policy contains a statement with one or more invalid resources."
	msgBadCondition     = "Policy contains a statement with an invalid Condition block."
	msgBadSid           = "Policy contains a statement with an invalid Sid."
	msgBadID            = "Policy has an invalid Id."
	msgDuplicateElement = "Policy contains a duplicate element "

	// IAM's wording for identity-based policies (ParseIdentity).
	msgIdentityPrincipal  = "Policy document should not specify a principal."
	msgIdentityNoAction   = "Policy statement must contain actions."
	msgIdentityNoResource = "Policy statement must contain resources."
)

// Error is the error Parse returns: the category (one of ErrTooLong,
// ErrTooLarge, ErrMalformed) and the message AWS would put in the
// exception (possibly empty, as for text that is not JSON).
type Error struct {
	// Err is ErrTooLong, ErrTooLarge or ErrMalformed.
	Err error
	// Message is the AWS exception message.
	Message string
}

// Error returns the category and the message.
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Message
}

// Unwrap returns the category sentinel.
func (e *Error) Unwrap() error { return e.Err }

// Message returns the message AWS puts in the exception for err: the
// Message of an *Error in err's chain, or "" when there is none.
func Message(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return ""
}

func malformed(msg string) error { return &Error{Err: ErrMalformed, Message: msg} }

func unknownElement(where, name string) error {
	return malformed(where + " contains an unknown element " + strconv.Quote(name) + ".")
}
