package kmshttp

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"
)

// writer appends one JSON object to b. Members are written in the order
// the caller gives; optional members are left out when empty, as AWS does.
type writer struct {
	b     []byte
	comma bool
}

// open starts an object: the top-level one or a list element.
func (w *writer) open() {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '{')
	w.comma = false
}

func (w *writer) close() { w.b = append(w.b, '}'); w.comma = true }

func (w *writer) name(n string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, n...)
	w.b = append(w.b, '"', ':')
	w.comma = true
}

// object starts a member whose value is an object.
func (w *writer) object(n string) {
	w.name(n)
	w.b = append(w.b, '{')
	w.comma = false
}

// str writes a string member, even when empty.
func (w *writer) str(n, v string) { w.name(n); w.b = appendString(w.b, v) }

// optStr writes a string member unless it is empty.
func (w *writer) optStr(n, v string) {
	if v != "" {
		w.str(n, v)
	}
}

func (w *writer) boolean(n string, v bool) {
	w.name(n)
	w.b = strconv.AppendBool(w.b, v)
}

func (w *writer) int(n string, v int64) {
	w.name(n)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *writer) optInt32(n string, v *int32) {
	if v != nil {
		w.int(n, int64(*v))
	}
}

func (w *writer) time(n string, t time.Time) {
	w.name(n)
	w.b = appendEpoch(w.b, t)
}

func (w *writer) optTime(n string, t *time.Time) {
	if t != nil {
		w.time(n, *t)
	}
}

// optBlob writes a blob member, base64-encoded, unless it is empty.
func (w *writer) optBlob(n string, v []byte) {
	if len(v) == 0 {
		return
	}
	w.name(n)
	w.b = append(w.b, '"')
	w.b = base64.StdEncoding.AppendEncode(w.b, v)
	w.b = append(w.b, '"')
}

// strList writes a list of strings unless it is nil.
func (w *writer) strList(n string, v []string) {
	if v == nil {
		return
	}
	w.name(n)
	w.b = append(w.b, '[')
	for i, s := range v {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendString(w.b, s)
	}
	w.b = append(w.b, ']')
}

// list starts a list member; each element calls elem and the list ends
// with endList.
func (w *writer) list(n string) {
	w.name(n)
	w.b = append(w.b, '[')
	w.comma = false
}

func (w *writer) endList() { w.b = append(w.b, ']'); w.comma = true }

// appendEpoch appends t as AWS JSON timestamps are sent: epoch seconds as a
// JSON number with a millisecond fraction (AWS's precision), such as
// 1704067200.000.
func appendEpoch(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	if ms < 0 {
		return strconv.AppendFloat(b, float64(ms)/1000, 'f', 3, 64)
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	frac := ms % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Control characters are escaped
// and bytes that are not UTF-8 become U+FFFD; nothing else is escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
