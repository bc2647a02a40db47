package keystate

// Exception is the name of an AWS KMS exception, such as
// "KMSInvalidStateException". Each Exception constant is also a sentinel
// error: errors.Is(err, keystate.ErrDisabled) reports whether err is (or
// wraps) an *Error whose Code is DisabledException.
type Exception string

// Error returns the exception name.
func (x Exception) Error() string { return string(x) }

// ErrorCode returns the exception name, as the AWS SDKs' smithy.APIError does.
func (x Exception) ErrorCode() string { return string(x) }

// The AWS KMS exceptions used by kmsmodel. The names are exactly the ones the
// AWS wire protocol carries in __type and X-Amzn-ErrorType.
const (
	// ErrNotFound is returned when the named key or alias does not exist,
	// is not visible to the caller (decision D6), or is named by a malformed
	// bare key ID (decision D4) or an alias where only a key ID or ARN is
	// accepted (decision D5).
	ErrNotFound Exception = "NotFoundException"
	// ErrDisabled is returned when the key is Disabled and the operation
	// needs an enabled key (footnote [1]).
	ErrDisabled Exception = "DisabledException"
	// ErrKMSInvalidState is returned when the key's state does not allow the
	// operation (footnotes [3], [4], [5], [11], [14], [15]; decision D17).
	ErrKMSInvalidState Exception = "KMSInvalidStateException"
	// ErrUnsupportedOperation is returned when the operation is not supported
	// for the key's kind (footnotes [6], [7], [9]; decisions D2, D2a, D8, D15).
	ErrUnsupportedOperation Exception = "UnsupportedOperationException"
	// ErrLimitExceeded is returned when a quota would be exceeded, such as
	// the on-demand rotation quota (decision D1).
	ErrLimitExceeded Exception = "LimitExceededException"
	// ErrConflict is returned by RotateKeyOnDemand when a rotation is in
	// progress or an automatic rotation is due within 20 minutes (D9).
	ErrConflict Exception = "ConflictException"
	// ErrInvalidArn is returned when a string that starts with "arn:" is not
	// a valid KMS key or alias ARN (decision D4).
	ErrInvalidArn Exception = "InvalidArnException"
	// ErrInvalidMarker is returned when a paging marker was not issued for
	// this listing (decision D14).
	ErrInvalidMarker Exception = "InvalidMarkerException"
	// ErrValidation is returned when an input is outside its documented
	// range or length (decision D16).
	ErrValidation Exception = "ValidationException"
	// ErrAccessDenied is returned when the authorizer refuses the call.
	ErrAccessDenied Exception = "AccessDeniedException"
	// ErrAlreadyExists is returned when a resource with that name already
	// exists, such as an alias.
	ErrAlreadyExists Exception = "AlreadyExistsException"
	// ErrInvalidKeyUsage is returned when the key's KeyUsage or KeySpec does
	// not support the operation.
	ErrInvalidKeyUsage Exception = "InvalidKeyUsageException"
	// ErrInvalidCiphertext is returned when a ciphertext blob or its
	// encryption context is not valid.
	ErrInvalidCiphertext Exception = "InvalidCiphertextException"
	// ErrIncorrectKey is returned when a ciphertext was not produced under
	// the key named in the request.
	ErrIncorrectKey Exception = "IncorrectKeyException"
	// ErrIncorrectKeyMaterial is returned when imported key material is not
	// the material that was imported into the key before.
	ErrIncorrectKeyMaterial Exception = "IncorrectKeyMaterialException"
	// ErrExpiredImportToken is returned when an import token has expired.
	ErrExpiredImportToken Exception = "ExpiredImportTokenException"
	// ErrInvalidImportToken is returned when an import token was not issued
	// for the key.
	ErrInvalidImportToken Exception = "InvalidImportTokenException"
	// ErrInvalidAliasName is returned when an alias name is malformed or
	// reserved.
	ErrInvalidAliasName Exception = "InvalidAliasNameException"
	// ErrTag is returned when tags are duplicated, too many, or reserved.
	ErrTag Exception = "TagException"
	// ErrKMSInternal is returned when an internal failure, such as a failed
	// store write, stopped the call. Nothing was changed.
	ErrKMSInternal Exception = "KMSInternalException"
	// ErrDependencyTimeout is returned when a dependency did not answer in
	// time.
	ErrDependencyTimeout Exception = "DependencyTimeoutException"
	// ErrCustomKeyStoreNotFound is returned when a custom key store does not
	// exist.
	ErrCustomKeyStoreNotFound Exception = "CustomKeyStoreNotFoundException"
	// ErrCustomKeyStoreInvalidState is returned when a custom key store's
	// connection state does not allow the operation.
	ErrCustomKeyStoreInvalidState Exception = "CustomKeyStoreInvalidStateException"
	// ErrCustomKeyStoreHasCMKs is returned when DeleteCustomKeyStore names a
	// custom key store that still holds KMS keys (keys pending deletion
	// included).
	ErrCustomKeyStoreHasCMKs Exception = "CustomKeyStoreHasCMKsException"
	// ErrCustomKeyStoreNameInUse is returned when a custom key store name is
	// already used by another custom key store of the account.
	ErrCustomKeyStoreNameInUse Exception = "CustomKeyStoreNameInUseException"
	// ErrXksKeyAlreadyInUse is returned when CreateKey names an XksKeyId
	// that another KMS key of the same external key store already uses.
	ErrXksKeyAlreadyInUse Exception = "XksKeyAlreadyInUseException"
	// ErrCloudHsmClusterInUse is returned when a CloudHSM key store would
	// use a CloudHSM cluster another CloudHSM key store of the account
	// uses.
	ErrCloudHsmClusterInUse Exception = "CloudHsmClusterInUseException"
	// ErrXksProxyUriInUse is returned when an external key store would use
	// the proxy URI endpoint and path another one of the account uses.
	ErrXksProxyUriInUse Exception = "XksProxyUriInUseException"
	// ErrXksProxyUriEndpointInUse is returned when an external key store
	// with VPC_ENDPOINT_SERVICE connectivity would use the proxy URI
	// endpoint (its private DNS name) another such store uses.
	ErrXksProxyUriEndpointInUse Exception = "XksProxyUriEndpointInUseException"
	// ErrXksProxyVpcEndpointServiceInUse is returned when an external key
	// store would use the VPC endpoint service another one uses.
	ErrXksProxyVpcEndpointServiceInUse Exception = "XksProxyVpcEndpointServiceInUseException"
	// ErrKMSInvalidSignature is returned by Verify when the signature does
	// not verify: a changed message, another key or algorithm, or bytes
	// that are no signature at all. AWS sends it with an empty message.
	ErrKMSInvalidSignature Exception = "KMSInvalidSignatureException"
	// ErrKMSInvalidMac is returned by VerifyMac when the MAC does not
	// match. AWS sends it with an empty message.
	ErrKMSInvalidMac Exception = "KMSInvalidMacException"
	// ErrMalformedPolicyDocument is returned when a key policy is not a
	// valid policy document, or would lock the caller out of the key
	// (AWS's policy lockout safety check).
	ErrMalformedPolicyDocument Exception = "MalformedPolicyDocumentException"
	// ErrInvalidGrantToken is returned when a grant token is not one the
	// service issued, or names a grant that no longer exists (D28).
	ErrInvalidGrantToken Exception = "InvalidGrantTokenException"
	// ErrInvalidGrantId is returned when a GrantId names no grant of the
	// key (D28).
	ErrInvalidGrantId Exception = "InvalidGrantIdException"
	// ErrDryRunOperation is returned by a call made with DryRun that would
	// have succeeded (D27).
	ErrDryRunOperation Exception = "DryRunOperationException"
)

// Error is the error every rejection in kmsmodel returns. It carries the AWS
// exception name, the operation, the key and the key's state. errors.Is
// matches it against the Exception with the same Code; errors.As extracts it.
type Error struct {
	// Code is the AWS exception name.
	Code Exception
	// Op is the operation that was refused.
	Op Operation
	// KeyID is the key ARN when a key was resolved, otherwise the key
	// identifier the caller gave (possibly empty).
	KeyID string
	// State is the key's state when the call was refused, or None when no
	// key was involved.
	State State
	// Message is the AWS-style message, as real KMS words it (decision D19).
	Message string
	// Err is the underlying cause, such as a store error, or nil.
	Err error
}

// Error returns "<Code>: <Message>", or the code alone when the message is
// empty (as real KMS sends some errors).
func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Message
}

// ErrorCode returns the AWS exception name.
func (e *Error) ErrorCode() string { return string(e.Code) }

// ErrorMessage returns the message alone, as the AWS SDKs' smithy.APIError does.
func (e *Error) ErrorMessage() string { return e.Message }

// Is reports whether target is the Exception named by e.Code.
func (e *Error) Is(target error) bool {
	x, ok := target.(Exception)
	return ok && x == e.Code
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }
