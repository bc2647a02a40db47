package keystate_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// TestErrorIdentity: an *Error matches, through errors.Is, the Exception of
// its code and no other, also when wrapped; errors.As extracts it (STYLE.md,
// "Errors").
func TestErrorIdentity(t *testing.T) {
	cause := errors.New("store write failed")
	err := &keystate.Error{Code: keystate.ErrKMSInternal, Op: keystate.Encrypt, KeyID: testARN,
		State: keystate.Enabled, Message: "internal", Err: cause}
	wrapped := fmt.Errorf("kms: %w", err)

	if !errors.Is(wrapped, keystate.ErrKMSInternal) {
		t.Error("errors.Is(wrapped, ErrKMSInternal) = false")
	}
	for _, other := range []keystate.Exception{keystate.ErrDisabled, keystate.ErrKMSInvalidState,
		keystate.ErrNotFound, keystate.ErrUnsupportedOperation, keystate.Exception("KMSInternal")} {
		if errors.Is(wrapped, other) {
			t.Errorf("errors.Is(wrapped, %s) = true", other)
		}
	}
	if !errors.Is(wrapped, cause) {
		t.Error("errors.Is(wrapped, cause) = false: Unwrap does not reach Err")
	}
	var e *keystate.Error
	if !errors.As(wrapped, &e) || e != err {
		t.Fatal("errors.As did not extract the *Error")
	}
	if got := err.Error(); got != "KMSInternalException: internal" {
		t.Errorf("Error() = %q", got)
	}
	if err.ErrorCode() != "KMSInternalException" || err.ErrorMessage() != "internal" {
		t.Errorf("ErrorCode/ErrorMessage = %q, %q", err.ErrorCode(), err.ErrorMessage())
	}
	// decision D19: some errors carry an empty message; Error is the code.
	empty := &keystate.Error{Code: keystate.ErrUnsupportedOperation}
	if got := empty.Error(); got != "UnsupportedOperationException" {
		t.Errorf("Error() with no message = %q", got)
	}
	if keystate.ErrDisabled.Error() != "DisabledException" || keystate.ErrDisabled.ErrorCode() != "DisabledException" {
		t.Error("Exception.Error/ErrorCode is not the exception name")
	}
}

// TestExceptionNames: the sentinels carry the AWS exception names exactly
// (decision D18: the name goes into __type and X-Amzn-ErrorType).
func TestExceptionNames(t *testing.T) {
	for x, want := range map[keystate.Exception]string{
		keystate.ErrNotFound:                        "NotFoundException",
		keystate.ErrDisabled:                        "DisabledException",
		keystate.ErrKMSInvalidState:                 "KMSInvalidStateException",
		keystate.ErrUnsupportedOperation:            "UnsupportedOperationException",
		keystate.ErrLimitExceeded:                   "LimitExceededException",
		keystate.ErrConflict:                        "ConflictException",
		keystate.ErrInvalidArn:                      "InvalidArnException",
		keystate.ErrInvalidMarker:                   "InvalidMarkerException",
		keystate.ErrValidation:                      "ValidationException",
		keystate.ErrAccessDenied:                    "AccessDeniedException",
		keystate.ErrInvalidKeyUsage:                 "InvalidKeyUsageException",
		keystate.ErrKMSInternal:                     "KMSInternalException",
		keystate.ErrDependencyTimeout:               "DependencyTimeoutException",
		keystate.ErrCustomKeyStoreNotFound:          "CustomKeyStoreNotFoundException",
		keystate.ErrCustomKeyStoreInvalidState:      "CustomKeyStoreInvalidStateException",
		keystate.ErrCustomKeyStoreHasCMKs:           "CustomKeyStoreHasCMKsException",
		keystate.ErrCustomKeyStoreNameInUse:         "CustomKeyStoreNameInUseException",
		keystate.ErrXksKeyAlreadyInUse:              "XksKeyAlreadyInUseException",
		keystate.ErrCloudHsmClusterInUse:            "CloudHsmClusterInUseException",
		keystate.ErrXksProxyUriInUse:                "XksProxyUriInUseException",
		keystate.ErrXksProxyUriEndpointInUse:        "XksProxyUriEndpointInUseException",
		keystate.ErrXksProxyVpcEndpointServiceInUse: "XksProxyVpcEndpointServiceInUseException",
	} {
		if string(x) != want {
			t.Errorf("%q, want %q", x, want)
		}
	}
}
