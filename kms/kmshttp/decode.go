package kmshttp

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/kmsmodel/kmsmodel/kms"
)

// The request decoder is a small, strict JSON reader written for the shapes
// of the KMS requests: one top-level object whose members are strings,
// integers, booleans, lists of strings and lists of tags. It is exact where
// encoding/json is lenient in ways AWS is not (member names match case-
// sensitively), it reports a wrong JSON type for a known member as a
// SerializationException, it skips unknown members (which must still be
// well-formed JSON) as AWS does, and it treats a null member as absent.
// Syntax errors, wrong types and invalid UTF-8 are SerializationException;
// the messages are kmsmodel's own (no recording of AWS's exists).

// maxDepth bounds the nesting of skipped values, so that hostile input
// cannot exhaust the stack.
const maxDepth = 64

// reader reads one JSON document from b.
type reader struct {
	b       []byte
	i       int
	depth   int
	scratch []byte // unescaped object keys
}

func serializationError(msg string) *wireError {
	return &wireError{code: "SerializationException", status: 400, msg: msg}
}

func (r *reader) syntax(what string) *wireError {
	if r.i >= len(r.b) {
		return serializationError("Malformed JSON: unexpected end of input, expected " + what)
	}
	return serializationError("Malformed JSON at offset " + strconv.Itoa(r.i) + ": expected " + what)
}

func (r *reader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end (a NUL byte in the
// input, never valid where a value or a delimiter is expected, reads the
// same).
func (r *reader) peek() byte {
	r.ws()
	if r.i >= len(r.b) {
		return 0
	}
	return r.b[r.i]
}

// decodeObject decodes body, which must be one JSON object (or empty, which
// counts as {}), calling member for each member with its unescaped name.
// member must consume the value (with one of the read methods or skip).
func decodeObject(body []byte, member func(r *reader, name []byte) error) error {
	r := reader{b: body}
	if r.ws(); r.i == len(r.b) {
		return nil
	}
	if r.b[r.i] != '{' {
		return serializationError("Malformed JSON: the request body must be a JSON object")
	}
	if err := r.object(member); err != nil {
		return err
	}
	if r.ws(); r.i != len(r.b) {
		return serializationError("Malformed JSON at offset " + strconv.Itoa(r.i) + ": unexpected data after the top-level object")
	}
	return nil
}

// object reads an object starting at r.i ('{').
func (r *reader) object(member func(r *reader, name []byte) error) error {
	r.i++ // '{'
	if r.peek() == '}' {
		r.i++
		return nil
	}
	for {
		if r.peek() != '"' {
			return r.syntax("a member name")
		}
		name, err := r.key()
		if err != nil {
			return err
		}
		if r.peek() != ':' {
			return r.syntax("':'")
		}
		r.i++
		if r.peek() == 0 {
			return r.syntax("a value")
		}
		if err := member(r, name); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return nil
		default:
			return r.syntax("',' or '}'")
		}
	}
}

// key reads a member name. The result is valid until the next key.
func (r *reader) key() ([]byte, error) {
	start := r.i + 1
	for j := start; j < len(r.b); j++ {
		c := r.b[j]
		if c == '"' {
			r.i = j + 1
			return r.b[start:j], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	s, err := r.slowString()
	if err != nil {
		return nil, err
	}
	r.scratch = append(r.scratch[:0], s...)
	return r.scratch, nil
}

// rawString reads a string token starting at r.i ('"').
func (r *reader) rawString() (string, error) {
	start := r.i + 1
	for j := start; j < len(r.b); j++ {
		c := r.b[j]
		if c == '"' {
			r.i = j + 1
			return string(r.b[start:j]), nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	return r.slowString()
}

// slowString reads a string with escapes or non-ASCII bytes. Lone UTF-16
// surrogates in \u escapes become U+FFFD, as encoding/json does; raw bytes
// that are not UTF-8 are refused.
func (r *reader) slowString() (string, error) {
	i := r.i + 1
	out := make([]byte, 0, 32)
	for {
		if i >= len(r.b) {
			r.i = i
			return "", r.syntax("'\"' closing a string")
		}
		c := r.b[i]
		switch {
		case c == '"':
			r.i = i + 1
			return string(out), nil
		case c < 0x20:
			r.i = i
			return "", serializationError("Malformed JSON at offset " + strconv.Itoa(i) + ": control character in a string")
		case c == '\\':
			if i+1 >= len(r.b) {
				r.i = i + 1
				return "", r.syntax("an escape sequence")
			}
			e := r.b[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r1, ok := hex4(r.b, i)
				if !ok {
					r.i = i
					return "", r.syntax("four hexadecimal digits after \\u")
				}
				i += 4
				if utf16.IsSurrogate(r1) {
					if r2, ok := hex4(r.b, i+2); ok && i+1 < len(r.b) && r.b[i] == '\\' && r.b[i+1] == 'u' {
						if dec := utf16.DecodeRune(r1, r2); dec != utf8.RuneError {
							out = utf8.AppendRune(out, dec)
							i += 6
							break
						}
					}
					r1 = utf8.RuneError
				}
				out = utf8.AppendRune(out, r1)
			default:
				r.i = i - 1
				return "", r.syntax("a valid escape character")
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			ru, n := utf8.DecodeRune(r.b[i:])
			if ru == utf8.RuneError && n <= 1 {
				r.i = i
				return "", serializationError("Malformed JSON at offset " + strconv.Itoa(i) + ": invalid UTF-8 in a string")
			}
			out = append(out, r.b[i:i+n]...)
			i += n
		}
	}
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var v rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// literal consumes the literal word at r.i.
func (r *reader) literal(word string) error {
	if len(r.b)-r.i < len(word) || string(r.b[r.i:r.i+len(word)]) != word {
		return r.syntax("a JSON value")
	}
	r.i += len(word)
	return nil
}

// null consumes a null if one is next and reports whether it did.
func (r *reader) null() (bool, error) {
	if r.peek() != 'n' {
		return false, nil
	}
	return true, r.literal("null")
}

// number consumes a number token and returns it, and whether it is an
// integer (no fraction, no exponent).
func (r *reader) number() (tok []byte, integer bool, err error) {
	start := r.i
	i := r.i
	if i < len(r.b) && r.b[i] == '-' {
		i++
	}
	switch {
	case i < len(r.b) && r.b[i] == '0':
		i++
	case i < len(r.b) && '1' <= r.b[i] && r.b[i] <= '9':
		for i < len(r.b) && '0' <= r.b[i] && r.b[i] <= '9' {
			i++
		}
	default:
		r.i = i
		return nil, false, r.syntax("a digit")
	}
	integer = true
	if i < len(r.b) && r.b[i] == '.' {
		integer = false
		i++
		d := i
		for i < len(r.b) && '0' <= r.b[i] && r.b[i] <= '9' {
			i++
		}
		if i == d {
			r.i = i
			return nil, false, r.syntax("a digit after '.'")
		}
	}
	if i < len(r.b) && (r.b[i] == 'e' || r.b[i] == 'E') {
		integer = false
		i++
		if i < len(r.b) && (r.b[i] == '+' || r.b[i] == '-') {
			i++
		}
		d := i
		for i < len(r.b) && '0' <= r.b[i] && r.b[i] <= '9' {
			i++
		}
		if i == d {
			r.i = i
			return nil, false, r.syntax("a digit in the exponent")
		}
	}
	r.i = i
	return r.b[start:i], integer, nil
}

// kindAt names the JSON type of the value at r.i, for error messages.
func (r *reader) kindAt() string {
	switch c := r.peek(); {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "a list"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == '-' || '0' <= c && c <= '9':
		return "a number"
	}
	return "an invalid value"
}

// typeError reports a value of the wrong JSON type for a known member. A
// value that is not JSON at all is a syntax error instead.
func (r *reader) typeError(member, want string) error {
	got := r.kindAt()
	if got == "an invalid value" {
		return r.syntax("a JSON value")
	}
	return serializationError("Cannot deserialize member " + member + ": expected " + want + ", found " + got)
}

// str reads a string member into *dst and reports whether it was present
// (not null).
func (r *reader) str(member string, dst *string) (bool, error) {
	if null, err := r.null(); null || err != nil {
		return false, err
	}
	if r.b[r.i] != '"' {
		return false, r.typeError(member, "a string")
	}
	s, err := r.rawString()
	if err != nil {
		return false, err
	}
	*dst = s
	return true, nil
}

// int32 reads an integer member that fits in 32 bits.
func (r *reader) int32(member string) (*int32, error) {
	if null, err := r.null(); null || err != nil {
		return nil, err
	}
	if c := r.b[r.i]; c != '-' && (c < '0' || c > '9') {
		return nil, r.typeError(member, "an integer")
	}
	tok, integer, err := r.number()
	if err != nil {
		return nil, err
	}
	if !integer {
		return nil, serializationError("Cannot deserialize member " + member + ": " + string(tok) + " is not an integer")
	}
	v, err := strconv.ParseInt(string(tok), 10, 32)
	if err != nil {
		return nil, serializationError("Cannot deserialize member " + member + ": " + string(tok) + " is out of range for a 32-bit integer")
	}
	n := int32(v)
	return &n, nil
}

// float reads a number member.
func (r *reader) float(member string) (*float64, error) {
	if null, err := r.null(); null || err != nil {
		return nil, err
	}
	if c := r.b[r.i]; c != '-' && (c < '0' || c > '9') {
		return nil, r.typeError(member, "a number")
	}
	tok, _, err := r.number()
	if err != nil {
		return nil, err
	}
	v, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return nil, serializationError("Cannot deserialize member " + member + ": " + string(tok) + " is out of range")
	}
	return &v, nil
}

// timestamp reads a timestamp member: epoch seconds, as the AWS JSON
// protocol sends them, with up to nanosecond precision.
func (r *reader) timestamp(member string) (*time.Time, error) {
	v, err := r.float(member)
	if v == nil || err != nil {
		return nil, err
	}
	if *v < 0 || *v > 9.2e9 {
		return nil, serializationError("Cannot deserialize member " + member + ": " + strconv.FormatFloat(*v, 'f', -1, 64) + " is out of range for a timestamp")
	}
	sec, frac := math.Modf(*v)
	t := time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC()
	return &t, nil
}

// boolean reads a boolean member.
func (r *reader) boolean(member string, dst *bool) error {
	if null, err := r.null(); null || err != nil {
		return err
	}
	switch r.b[r.i] {
	case 't':
		*dst = true
		return r.literal("true")
	case 'f':
		*dst = false
		return r.literal("false")
	}
	return r.typeError(member, "a boolean")
}

// list reads a list member, calling elem for each element (with its
// 1-based index) at the element's first byte.
func (r *reader) list(member string, elem func(n int) error) (present bool, err error) {
	if null, err := r.null(); null || err != nil {
		return false, err
	}
	if r.b[r.i] != '[' {
		return false, r.typeError(member, "a list")
	}
	r.i++
	if r.peek() == ']' {
		r.i++
		return true, nil
	}
	for n := 1; ; n++ {
		if r.peek() == 0 {
			return false, r.syntax("a list element")
		}
		if err := elem(n); err != nil {
			return false, err
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return true, nil
		default:
			return false, r.syntax("',' or ']'")
		}
	}
}

// strList reads a list of strings. A null element is a ValidationException
// naming field (the AWS camelCase path) and its position, as AWS reports a
// null list member.
func (r *reader) strList(member, field string) ([]string, bool, error) {
	var out []string
	present, err := r.list(member, func(n int) error {
		var s string
		ok, err := r.str(member+" element", &s)
		if err != nil {
			return err
		}
		if !ok {
			return nullValue(field + "." + strconv.Itoa(n) + ".member")
		}
		out = append(out, s)
		return nil
	})
	if present && out == nil {
		out = []string{}
	}
	return out, present, err
}

// tags reads a list of {"TagKey", "TagValue"} objects; both members are
// required, as in the AWS model.
func (r *reader) tags(member string) ([]kms.Tag, bool, error) {
	var out []kms.Tag
	present, err := r.list(member, func(n int) error {
		path := "tags." + strconv.Itoa(n) + ".member"
		if null, err := r.null(); err != nil {
			return err
		} else if null {
			return nullValue(path)
		}
		if r.b[r.i] != '{' {
			return r.typeError(member+" element", "an object")
		}
		var t kms.Tag
		var hasKey, hasValue bool
		err := r.nested(func() error {
			return r.object(func(r *reader, name []byte) error {
				var err error
				switch string(name) {
				case "TagKey":
					hasKey, err = r.str("TagKey", &t.TagKey)
				case "TagValue":
					hasValue, err = r.str("TagValue", &t.TagValue)
				default:
					err = r.skip()
				}
				return err
			})
		})
		if err != nil {
			return err
		}
		if !hasKey {
			return nullValue(path + ".tagKey")
		}
		if !hasValue {
			return nullValue(path + ".tagValue")
		}
		out = append(out, t)
		return nil
	})
	if present && out == nil {
		out = []kms.Tag{}
	}
	return out, present, err
}

// blob reads a blob member: a base64 string (standard alphabet, padded), as
// the AWS JSON protocol sends blobs.
func (r *reader) blob(member string) ([]byte, bool, error) {
	var s string
	present, err := r.str(member, &s)
	if !present || err != nil {
		return nil, present, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, false, serializationError("Cannot deserialize member " + member + ": not valid base64")
	}
	return b, true, nil
}

// strMap reads a map of strings (an encryption context). A null value is
// a ValidationException naming the entry, as for null list members.
func (r *reader) strMap(member, field string) (map[string]string, bool, error) {
	if null, err := r.null(); null || err != nil {
		return nil, false, err
	}
	if r.b[r.i] != '{' {
		return nil, false, r.typeError(member, "a map")
	}
	out := map[string]string{}
	err := r.nested(func() error {
		return r.object(func(r *reader, name []byte) error {
			var v string
			ok, err := r.str(member+" value", &v)
			if err != nil {
				return err
			}
			if !ok {
				return nullValue(field + "." + string(name))
			}
			out[string(name)] = v
			return nil
		})
	})
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// nested runs f one level deeper, refusing input nested beyond maxDepth.
func (r *reader) nested(f func() error) error {
	if r.depth >= maxDepth {
		return serializationError("Malformed JSON at offset " + strconv.Itoa(r.i) + ": nesting deeper than " + strconv.Itoa(maxDepth) + " levels")
	}
	r.depth++
	err := f()
	r.depth--
	return err
}

// skip consumes any well-formed JSON value (an unknown member's).
func (r *reader) skip() error {
	switch c := r.peek(); {
	case c == '"':
		_, err := r.rawString()
		return err
	case c == '{':
		return r.nested(func() error {
			return r.object(func(r *reader, _ []byte) error { return r.skip() })
		})
	case c == '[':
		return r.nested(func() error {
			_, err := r.list("", func(int) error { return r.skip() })
			return err
		})
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		_, _, err := r.number()
		return err
	}
	return r.syntax("a JSON value")
}

// nullValue is AWS's ValidationException for a required member that is
// absent or null; field is the AWS camelCase path, such as "keyId".
func nullValue(field string) *wireError {
	return &wireError{code: "ValidationException", status: 400,
		msg: "1 validation error detected: Value null at '" + field + "' failed to satisfy constraint: Member must not be null"}
}
