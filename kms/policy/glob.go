package policy

import "strings"

// patKind is the shape of a compiled pattern, to take a fast path for the
// common shapes.
type patKind uint8

const (
	patExact  patKind = iota // no wildcard
	patAll                   // "*"
	patPrefix                // text then one trailing "*"
	patGlob                  // anything else
)

// pattern is a compiled "*"/"?" wildcard pattern.
type pattern struct {
	kind patKind
	fold bool   // compare ASCII letters case-insensitively
	text string // the pattern; for patPrefix without the trailing "*"
	// tmpl holds the policy variables of a Resource pattern, or nil: the
	// pattern is then text with them expanded (variables.go).
	tmpl *template
	// esc: in text, escByte makes the next byte literal (a pattern made
	// from a template, whose variables' values and ${*} and ${?} are
	// literal characters).
	esc bool
}

// escByte, in an escaped pattern, makes the next byte literal.
const escByte = 0

// compilePattern compiles p. With wild false, "*" and "?" are literal.
func compilePattern(p string, wild, fold bool) pattern {
	switch {
	case !wild || !strings.ContainsAny(p, "*?"):
		return pattern{kind: patExact, fold: fold, text: p}
	case p == "*":
		return pattern{kind: patAll}
	case strings.IndexAny(p, "*?") == len(p)-1 && p[len(p)-1] == '*':
		return pattern{kind: patPrefix, fold: fold, text: p[:len(p)-1]}
	}
	return pattern{kind: patGlob, fold: fold, text: p}
}

// compileEscaped compiles p, in which escByte makes the next byte
// literal.
func compileEscaped(p string, fold bool) pattern {
	if strings.IndexByte(p, escByte) < 0 {
		return compilePattern(p, true, fold)
	}
	return pattern{kind: patGlob, fold: fold, text: p, esc: true}
}

// match reports whether s matches the pattern.
func (p *pattern) match(s string) bool {
	switch p.kind {
	case patAll:
		return true
	case patExact:
		if p.fold {
			return strings.EqualFold(p.text, s)
		}
		return p.text == s
	case patPrefix:
		if len(s) < len(p.text) {
			return false
		}
		if p.fold {
			return strings.EqualFold(p.text, s[:len(p.text)])
		}
		return p.text == s[:len(p.text)]
	}
	return glob(p.text, s, p.fold, p.esc)
}

// glob matches s against pattern, where "*" matches any run of bytes
// (including none) and "?" any one character; with esc, escByte makes the
// byte after it literal. It backtracks only to the last "*", so it runs
// in O(len(pattern)·len(s)) and does not allocate.
func glob(pattern, s string, fold, esc bool) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(pattern) {
			c := pattern[px]
			switch {
			case esc && c == escByte && px+1 < len(pattern):
				if d := pattern[px+1]; d == s[sx] || fold && lower(d) == lower(s[sx]) {
					px += 2
					sx++
					continue
				}
			case c == '*':
				starP, starS = px, sx
				px++
				continue
			case c == '?':
				px++
				sx += charLen(s, sx)
				continue
			case c == s[sx] || fold && lower(c) == lower(s[sx]):
				px++
				sx++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		px, sx = starP+1, starS
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// charLen is the length in bytes of the UTF-8 sequence starting at s[i]
// (1 for bytes that do not start a valid multi-byte sequence).
func charLen(s string, i int) int {
	c := s[i]
	n := 1
	switch {
	case c >= 0xF0:
		n = 4
	case c >= 0xE0:
		n = 3
	case c >= 0xC0:
		n = 2
	}
	if i+n > len(s) {
		return 1
	}
	return n
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
