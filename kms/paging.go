package kms

import (
	"cmp"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// pageLimit validates an optional Limit (1–max) and applies its default.
func pageLimit(op keystate.Operation, limit *int32, def, max int32) (int, error) {
	if limit == nil {
		return int(def), nil
	}
	if err := checkIntRange(op, *limit, "limit", 1, max); err != nil {
		return 0, err
	}
	return int(*limit), nil
}

// Markers are opaque to callers (decision D14): base64 of the listing's
// scope (which names the key for per-key listings) and a position. A marker
// from another listing or another key does not decode.

func encodeMarker(scope string, pos uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(scope + ":" + strconv.FormatUint(pos, 10)))
}

// validateMarker checks a Marker's form (length 1–1024, characters
// U+0020–U+00FF) as input validation (D3 step 1). An absent marker is valid.
func validateMarker(op keystate.Operation, m string) error {
	if m == "" {
		return nil
	}
	if err := checkLength(op, m, "marker", 1, 1024); err != nil {
		return err
	}
	for _, r := range m {
		if r < 0x20 || r > 0xff {
			return validationError(op, m, "marker", `Member must satisfy regular expression pattern: [\u0020-\u00FF]*`)
		}
	}
	return nil
}

// decodeMarker validates a Marker and returns its position, or
// InvalidMarkerException when it was not issued for this scope.
func decodeMarker(op keystate.Operation, m, scope string) (uint64, error) {
	if err := validateMarker(op, m); err != nil {
		return 0, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(m)
	if err == nil {
		rest, ok := strings.CutPrefix(string(raw), scope+":")
		if ok {
			if pos, perr := strconv.ParseUint(rest, 10, 64); perr == nil {
				return pos, nil
			}
		}
	}
	return 0, invalidMarker(op, m)
}

// invalidMarker is the InvalidMarkerException for a marker m that this
// listing did not issue. No recording of the message; kmsmodel's wording.
func invalidMarker(op keystate.Operation, m string) error {
	return kmsError(keystate.ErrInvalidMarker, op, "", keystate.None, "The marker '"+m+"' is not valid for this request.")
}

// compareOrder orders keys by creation: seq, then key ID (two nodes of a
// cluster may give keys created at once the same seq; decision D46).
func compareOrder(seq uint64, id string, seq2 uint64, id2 string) int {
	if c := cmp.Compare(seq, seq2); c != 0 {
		return c
	}
	return strings.Compare(id, id2)
}

// afterEveryID sorts after every key ID (hex digits, '-' and "mrk-").
const afterEveryID = "\x7f"

// encodeKeysMarker is ListKeys' marker after the key (seq, id).
func encodeKeysMarker(seq uint64, id string) string {
	return encodeMarker("keys", seq) + "." + base64.RawURLEncoding.EncodeToString([]byte(id))
}

// decodeKeysMarker returns the key (seq, id) a ListKeys marker is after.
// A marker of the form before D46 (a seq without an ID) is after every
// key of its seq: seq was unique then, and its key was the last listed.
func decodeKeysMarker(op keystate.Operation, m string) (uint64, string, error) {
	pos, idPart, withID := strings.Cut(m, ".")
	seq, err := decodeMarker(op, pos, "keys")
	if err != nil {
		return 0, "", invalidMarker(op, m)
	}
	if !withID {
		return seq, afterEveryID, nil
	}
	id, err := base64.RawURLEncoding.DecodeString(idPart)
	if err != nil {
		return 0, "", invalidMarker(op, m)
	}
	return seq, string(id), nil
}
