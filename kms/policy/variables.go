package policy

import (
	"strconv"
	"strings"
	"time"
)

// Policy variables: ${key} (or ${key, 'default'}) in a Resource or in a
// condition value of a policy whose Version is 2012-10-17 stands for the
// request's value of the condition key; ${*}, ${?} and ${$} stand for
// those characters (IAM User Guide, "IAM policy elements: Variables and
// tags"). The values and those characters are literal where the text
// around them may have wildcards. In a policy of another Version, or none,
// "${" is literal text.

// template is a Resource or condition value with policy variables.
type template struct {
	segs []tseg
}

// tseg is a run of literal text, or a variable.
type tseg struct {
	lit     string // literal text (variable false)
	escaped bool   // lit is ${*}, ${?} or ${$}'s character
	key     string // the condition key (variable true)
	def     string // the default value
	hasDef  bool
	isVar   bool
}

// parseTemplate reads s's policy variables; it returns nil when s has
// none, or when a "${" is not closed (then it is literal text, as IAM
// reads it).
func parseTemplate(s string) *template {
	if !strings.Contains(s, "${") {
		return nil
	}
	var t template
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil
		}
		if i > 0 {
			t.segs = append(t.segs, tseg{lit: s[:i]})
		}
		body := strings.TrimSpace(s[i+2 : i+j])
		switch body {
		case "*", "?", "$":
			t.segs = append(t.segs, tseg{lit: body, escaped: true})
		default:
			seg := tseg{key: body, isVar: true}
			if k, d, ok := strings.Cut(body, ","); ok {
				d = strings.TrimSpace(d)
				if len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
					seg.key, seg.def, seg.hasDef = strings.TrimSpace(k), d[1:len(d)-1], true
				}
			}
			t.segs = append(t.segs, seg)
		}
		s = s[i+j+1:]
	}
	if s != "" {
		t.segs = append(t.segs, tseg{lit: s})
	}
	return &t
}

// expand returns the template with each variable replaced by the
// request's single value of its key, or its default; ok is false when a
// variable has neither (the value then matches nothing). With escape, the
// result is a pattern (compileEscaped) in which the template's own text
// keeps its wildcards and the variables' values and ${*} and ${?} are
// literal.
func (t *template) expand(r *Request, escape bool) (string, bool) {
	var b strings.Builder
	literal := func(v string) {
		if !escape {
			b.WriteString(v)
			return
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c == '*' || c == '?' || c == escByte {
				b.WriteByte(escByte)
			}
			b.WriteByte(v[i])
		}
	}
	for _, sg := range t.segs {
		switch {
		case sg.escaped:
			literal(sg.lit)
		case !sg.isVar:
			b.WriteString(sg.lit)
		default:
			v, ok := variableValue(sg.key, r)
			if !ok {
				if !sg.hasDef {
					return "", false
				}
				v = sg.def
			}
			literal(v)
		}
	}
	return b.String(), true
}

// variableValue is the request's single value of key, as a variable
// takes it: a multi-valued key has none.
func variableValue(key string, r *Request) (string, bool) {
	c := condition{key: key}
	c.src, c.ecKey = sourceOf(strings.ToLower(key), key)
	switch v := c.lookup(r); v.shape {
	case valOne:
		return v.one, true
	case valAddr:
		return v.addr.String(), true
	case valTime:
		if v.epochT {
			return strconv.FormatInt(v.t.Unix(), 10), true
		}
		return v.t.UTC().Format(time.RFC3339), true
	}
	return "", false
}

// matchResource reports whether one of ps matches the request's resource,
// expanding the policy variables of those that have them.
func matchResource(ps []pattern, r *Request) bool {
	for i := range ps {
		p := &ps[i]
		if p.tmpl == nil {
			if p.match(r.Resource) {
				return true
			}
			continue
		}
		if text, ok := p.tmpl.expand(r, true); ok {
			q := compileEscaped(text, p.fold)
			if q.match(r.Resource) {
				return true
			}
		}
	}
	return false
}

// expanded returns c with the policy variables of its values expanded for
// r; a value whose variables have no value is left out.
func (c *condition) expanded(r *Request) *condition {
	cc := *c
	cc.values = make([]cvalue, 0, len(c.values))
	cc.tmpls = nil
	for i := range c.values {
		t := c.tmpls[i]
		if t == nil {
			cc.values = append(cc.values, c.values[i])
			continue
		}
		switch c.op {
		case opStringLike:
			if text, ok := t.expand(r, true); ok {
				cc.values = append(cc.values, cvalue{s: text, pat: compileEscaped(text, false)})
			}
		case opArnEquals, opArnLike:
			text, ok := t.expand(r, true)
			if !ok {
				continue
			}
			v := cvalue{s: text}
			if fields, ok := splitARN(text); ok {
				v.arn = make([]pattern, len(fields))
				for i, f := range fields {
					v.arn[i] = compileEscaped(f, false)
				}
			}
			cc.values = append(cc.values, v)
		default:
			if text, ok := t.expand(r, false); ok {
				if v, ok := compileValue(c.op, text); ok {
					cc.values = append(cc.values, v)
				}
			}
		}
	}
	return &cc
}
