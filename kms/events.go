package kms

import "time"

// Event is one record of the service's trail, in the manner of a CloudTrail
// event: every call (accepted or refused) and every scheduled happening. It
// never carries key material or other secrets.
type Event struct {
	// Time is the simulated instant of the call or of the scheduled event.
	Time time.Time
	// Name is the operation name ("RotateKeyOnDemand", …) for calls, and
	// for scheduled events "RotateKey" (a rotation completed, automatic or
	// on demand) or "DeleteKey" (a key's waiting period ended).
	Name string
	// Scheduled is true for events the service raised on its own schedule.
	Scheduled bool
	// Caller is the calling account, empty for scheduled events.
	Caller string
	// KeyARN is the key concerned: its ARN when the key was found, and
	// otherwise the identifier the refusal names (as given, or expanded to
	// an ARN as in the error message).
	KeyARN string
	// Parameters are the request parameters by AWS field name (and, for
	// RotateKey, "rotationType"). Secrets are never included.
	Parameters map[string]string
	// ErrorCode is the AWS exception name when the call was refused.
	ErrorCode string
	// ErrorMessage is the refusal's message.
	ErrorMessage string
	// Principal is the calling principal's ARN (an account's root for a
	// call made with WithCaller alone); empty for scheduled events.
	Principal string
	// Authorization is the key policy's decision on the call, such as
	// `Allow kms:Encrypt: statement 0 ("Enable IAM User Permissions")` or
	// an ExplicitDeny naming the denying statements: why the call was let
	// in or refused. Empty when no key policy was consulted (no key, or an
	// Authorizer decided).
	Authorization string
	// AdditionalEventData is what CloudTrail's additionalEventData holds,
	// by dotted name: for a call with a Recipient whose attestation
	// document verified (D80), recipient.attestationDocumentModuleId,
	// recipient.attestationDocumentEnclaveImageDigest (PCR0) and
	// recipient.attestationDocumentEnclavePCR<n> for PCR1, 2, 3, 4 and 8
	// (for a NitroTPM document, no image digest and
	// recipient.attestationDocumentNitroTPMPCR<n> for PCR4, 7, 8, 9, 16
	// and 23), the PCRs in lower-case hex. Nil otherwise. The map may be
	// shared by several events: do not modify it.
	AdditionalEventData map[string]string
}

// Observer receives the service's event records, one at a time and in the
// order they happened. It is called with the service's lock held: it must
// return quickly and must not call the service.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to the Observer interface.
type ObserverFunc func(Event)

// Observe calls f.
func (f ObserverFunc) Observe(e Event) { f(e) }
