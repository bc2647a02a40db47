package kms

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// Errors are keystate.Error values; these helpers build the ones the service
// raises itself (the key-state table's come from keystate.Check).

func kmsError(code keystate.Exception, op keystate.Operation, keyID string, st keystate.State, msg string) error {
	return &keystate.Error{Code: code, Op: op, KeyID: keyID, State: st, Message: msg}
}

// validationError is a ValidationException worded as AWS words model
// constraint failures (decision D16).
func validationError(op keystate.Operation, value, field, constraint string) error {
	return kmsError(keystate.ErrValidation, op, "", keystate.None,
		fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint))
}

func checkIntRange(op keystate.Operation, v int32, field string, lo, hi int32) error {
	switch {
	case v < lo:
		return validationError(op, strconv.Itoa(int(v)), field, "Member must have value greater than or equal to "+strconv.Itoa(int(lo)))
	case v > hi:
		return validationError(op, strconv.Itoa(int(v)), field, "Member must have value less than or equal to "+strconv.Itoa(int(hi)))
	}
	return nil
}

func checkLength(op keystate.Operation, v, field string, lo, hi int) error {
	n := len(v) // runes ≤ bytes: count runes only when the bytes exceed hi
	if n > hi {
		n = utf8.RuneCountInString(v)
	}
	switch {
	case n < lo:
		return validationError(op, v, field, "Member must have length greater than or equal to "+strconv.Itoa(lo))
	case n > hi:
		return validationError(op, v, field, "Member must have length less than or equal to "+strconv.Itoa(hi))
	}
	return nil
}

// checkEnum refuses v unless it is one of values, with AWS's recorded
// wording: the values comma-separated in brackets ("[ECDH]", "[HMAC_SHA_384,
// HMAC_SHA_256, …]", asymmetric-hmac spec §1.3, §6, §7).
func checkEnum(op keystate.Operation, v, field string, values []string) error {
	for _, x := range values {
		if v == x {
			return nil
		}
	}
	return validationError(op, v, field, "Member must satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

// requiredEnum is checkEnum for a required member: an empty v is the
// required member's refusal.
func requiredEnum(op keystate.Operation, v, field string, values []string) error {
	if v == "" {
		return required(op, field)
	}
	return checkEnum(op, v, field, values)
}
