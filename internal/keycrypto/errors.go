package keycrypto

import (
	"errors"
	"fmt"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// The sentinels. Every error this package returns is an *Error that matches
// exactly one of them with errors.Is.
var (
	// ErrIncompatibleAlgorithm is returned when an algorithm is not one the
	// key spec supports (AWS: InvalidKeyUsageException "Algorithm <ALG> is
	// incompatible with key spec <SPEC>.", spec §2.5 and §7).
	ErrIncompatibleAlgorithm = errors.New("keycrypto: incompatible algorithm")
	// ErrDigestLength is returned when a DIGEST message does not have the
	// length of the algorithm's hash (AWS: ValidationException "Digest is
	// invalid length for algorithm <ALG>.", spec §2.2).
	ErrDigestLength = errors.New("keycrypto: invalid digest length")
	// ErrMessageType is returned when a message type is unknown or not
	// accepted by the algorithm (spec §2.2, §12.4: the AWS message is not
	// recorded; ours is used).
	ErrMessageType = errors.New("keycrypto: invalid message type")
	// ErrPlaintextTooLarge is returned when a plaintext exceeds MaxPlaintext
	// (AWS: ValidationException "Algorithm <ALG> and key spec <SPEC> cannot
	// encrypt data larger than <N> bytes.", spec §4.1).
	ErrPlaintextTooLarge = errors.New("keycrypto: plaintext too large")
	// ErrInvalidSignature is returned when a signature does not verify or
	// cannot be parsed (AWS: KMSInvalidSignatureException, empty message,
	// spec §2.4).
	ErrInvalidSignature = errors.New("keycrypto: invalid signature")
	// ErrInvalidCiphertext is returned when a ciphertext does not decrypt
	// (AWS: InvalidCiphertextException, empty message, spec §4.3).
	ErrInvalidCiphertext = errors.New("keycrypto: invalid ciphertext")
	// ErrInvalidMac is returned when a MAC does not match (AWS:
	// KMSInvalidMacException, empty message, spec §7).
	ErrInvalidMac = errors.New("keycrypto: invalid MAC")
	// ErrInvalidPublicKey is returned when a peer public key for
	// DeriveSharedSecret is not a DER SubjectPublicKeyInfo on the key's
	// curve (AWS: ValidationException with an empty message, spec §6).
	ErrInvalidPublicKey = errors.New("keycrypto: invalid public key")
	// ErrInvalidMaterial is returned when key material given to Parse or
	// ParseImported is malformed or does not fit the key spec (spec §9.1).
	// The message never holds key bytes.
	ErrInvalidMaterial = errors.New("keycrypto: invalid key material")
	// ErrUnsupportedSpec is returned for a key spec (or data key pair spec)
	// this package does not implement: SYMMETRIC_DEFAULT, and specs
	// unknown to it.
	ErrUnsupportedSpec = errors.New("keycrypto: unsupported key spec")
)

// errorPrefix starts every Error's text.
const errorPrefix = "keycrypto: "

// Error is the error type of this package. It carries the sentinel it
// matches and, where AWS answers with a message, that message.
type Error struct {
	// Err is the sentinel (one of the Err* variables) the error matches.
	Err error
	// Message is the text AWS would return, or "" where AWS answers with an
	// empty message (ErrInvalidSignature, ErrInvalidCiphertext,
	// ErrInvalidMac, ErrInvalidPublicKey). For errors AWS has no recorded
	// text for, it is this package's wording.
	Message string
	// detail explains an error whose Message is empty. It never holds key
	// material.
	detail string
}

// Error returns "keycrypto: " followed by Message, or by a short
// explanation when Message is empty.
func (e *Error) Error() string {
	if e.Message != "" {
		return errorPrefix + e.Message
	}
	if e.detail != "" {
		return errorPrefix + e.detail
	}
	return e.Err.Error()
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// Message returns the text AWS would put in the exception's message for
// err: for an *Error its Message field (possibly ""), for any other error
// "".
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

func errIncompatible(alg string, spec keystate.KeySpec) error {
	return &Error{Err: ErrIncompatibleAlgorithm,
		Message: fmt.Sprintf("Algorithm %s is incompatible with key spec %s.", alg, spec)}
}

func errDigestLength(alg string) error {
	return &Error{Err: ErrDigestLength,
		Message: fmt.Sprintf("Digest is invalid length for algorithm %s.", alg)}
}

func errMessageType(format string, args ...any) error {
	return &Error{Err: ErrMessageType, Message: fmt.Sprintf(format, args...)}
}

func errPlaintextTooLarge(alg string, spec keystate.KeySpec, limit int) error {
	return &Error{Err: ErrPlaintextTooLarge,
		Message: fmt.Sprintf("Algorithm %s and key spec %s cannot encrypt data larger than %d bytes.", alg, spec, limit)}
}

func errInvalidSignature(detail string) error {
	return &Error{Err: ErrInvalidSignature, detail: "invalid signature: " + detail}
}

func errInvalidCiphertext(detail string) error {
	return &Error{Err: ErrInvalidCiphertext, detail: "invalid ciphertext: " + detail}
}

func errInvalidMac() error {
	return &Error{Err: ErrInvalidMac, detail: "invalid MAC"}
}

func errInvalidPublicKey(detail string) error {
	return &Error{Err: ErrInvalidPublicKey, detail: "invalid public key: " + detail}
}

func errInvalidMaterial(spec keystate.KeySpec, format string, args ...any) error {
	return &Error{Err: ErrInvalidMaterial,
		Message: fmt.Sprintf("Invalid key material for key spec %s: %s", spec, fmt.Sprintf(format, args...))}
}

func errUnsupportedSpec(spec string) error {
	return &Error{Err: ErrUnsupportedSpec,
		Message: fmt.Sprintf("Key spec %s is not supported by keycrypto.", spec)}
}

func errWrongMessageType(alg, messageType string) error {
	switch messageType {
	case MessageTypeRaw, MessageTypeDigest, MessageTypeExternalMu, "":
		return errMessageType("Algorithm %s does not support message type %s.", alg, messageType)
	}
	return errMessageType("Message type %q is not valid; expected RAW, DIGEST or EXTERNAL_MU.", messageType)
}
