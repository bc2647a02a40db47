package policy

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// kind is the JSON type of a node.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// node is one JSON value with member and element order kept, so that
// Text can write the document back in the order it was given (P3).
type node struct {
	kind    kind
	str     string // string value, number literal, or "true"/"false"
	members []member
	elems   []*node
}

// member is one name/value pair of a JSON object.
type member struct {
	name  string
	value *node
}

// errNotJSON is returned by parseJSON when the text is not one JSON value.
var errNotJSON = errors.New("not JSON")

// errDuplicate is returned by parseJSON when an object names a member twice.
type errDuplicate struct{ name string }

func (e errDuplicate) Error() string { return "duplicate member " + e.name }

// parseJSON reads exactly one JSON value from text.
func parseJSON(text string) (*node, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	n, err := readValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotJSON
	}
	return n, nil
}

func readValue(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, errNotJSON
	}
	return readFrom(dec, tok)
}

func readFrom(dec *json.Decoder, tok json.Token) (*node, error) {
	switch t := tok.(type) {
	case nil:
		return &node{kind: kindNull}, nil
	case bool:
		if t {
			return &node{kind: kindBool, str: "true"}, nil
		}
		return &node{kind: kindBool, str: "false"}, nil
	case json.Number:
		return &node{kind: kindNumber, str: string(t)}, nil
	case string:
		return &node{kind: kindString, str: t}, nil
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: kindObject}
			var dup error
			for {
				tok, err := dec.Token()
				if err != nil {
					return nil, errNotJSON
				}
				if tok == json.Delim('}') {
					break
				}
				name, ok := tok.(string)
				if !ok {
					return nil, errNotJSON
				}
				v, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				if dup == nil && n.member(name) != nil {
					dup = errDuplicate{name}
				}
				n.members = append(n.members, member{name, v})
			}
			if dup != nil {
				return nil, dup
			}
			return n, nil
		case '[':
			n := &node{kind: kindArray, elems: []*node{}}
			for {
				tok, err := dec.Token()
				if err != nil {
					return nil, errNotJSON
				}
				if tok == json.Delim(']') {
					break
				}
				v, err := readFrom(dec, tok)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
			return n, nil
		}
	}
	return nil, errNotJSON
}

// member returns the value of the object member called name, or nil.
func (n *node) member(name string) *node {
	for i := range n.members {
		if n.members[i].name == name {
			return n.members[i].value
		}
	}
	return nil
}

// writeText writes n in the layout of GetKeyPolicy's output (spec §1.1,
// P3): two-space indentation per object level, " : " between a member's
// name and value, arrays on one line with ", " between elements (an object
// element opens on the array's line: "[ {"), "{ }" and "[ ]" when empty,
// no trailing newline.
func writeText(b *strings.Builder, n *node, depth int) {
	switch n.kind {
	case kindNull:
		b.WriteString("null")
	case kindBool, kindNumber:
		b.WriteString(n.str)
	case kindString:
		writeString(b, n.str)
	case kindArray:
		if len(n.elems) == 0 {
			b.WriteString("[ ]")
			return
		}
		b.WriteString("[ ")
		for i, e := range n.elems {
			if i > 0 {
				b.WriteString(", ")
			}
			writeText(b, e, depth)
		}
		b.WriteString(" ]")
	case kindObject:
		if len(n.members) == 0 {
			b.WriteString("{ }")
			return
		}
		b.WriteString("{\n")
		for i, m := range n.members {
			if i > 0 {
				b.WriteString(",\n")
			}
			indent(b, depth+1)
			writeString(b, m.name)
			b.WriteString(" : ")
			writeText(b, m.value, depth+1)
		}
		b.WriteByte('\n')
		indent(b, depth)
		b.WriteByte('}')
	}
}

func indent(b *strings.Builder, depth int) {
	for range depth {
		b.WriteString("  ")
	}
}

// writeString writes s as a JSON string. Only the quote, the backslash and
// control characters are escaped; other characters are written as they are
// (AWS's output does not escape '/', '<', '>' or '&').
func writeString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
