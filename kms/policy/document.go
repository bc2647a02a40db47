package policy

import (
	"strings"
	"unicode/utf8"
)

// Document is a parsed and compiled key policy. It is immutable and safe
// for concurrent use; one Document may serve any number of keys.
type Document struct {
	text       string
	statements []statement
	isDefault  bool
	defaultOf  Principal // the account root whose default policy it is, when isDefault
	identity   bool      // an identity-based policy (ParseIdentity)
	version    string    // the Version element, or ""
}

// statement is one compiled policy statement.
type statement struct {
	sid  string
	deny bool
	// inert is true when the statement lacks Action/NotAction or
	// Resource/NotResource: AWS accepts it and it has no effect (§2.1).
	inert bool
	// anyPrincipal is true in an identity-based policy, whose statements
	// name no principal: they apply to whoever the policy is attached to.
	anyPrincipal bool
	notPrincipal bool
	principals   []Principal
	notAction    bool
	actions      []pattern
	notResource  bool
	resources    []pattern
	conditions   []condition
}

// Versions accepted in a policy's Version element. AWS's policy grammar
// knows two; KMS documents 2012-10-17 (spec §2.1). A missing Version is
// accepted, as IAM does.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Parse validates text as AWS KMS does for CreateKey's and PutKeyPolicy's
// Policy (spec §2, D29) and compiles it for Evaluate.
//
// Errors are *Error values wrapping
//   - ErrTooLong: more than MaxCharacters characters;
//   - ErrTooLarge: more than MaxBytes bytes (and not too long);
//   - ErrMalformed: not one JSON value (empty message, as recorded), or a
//     break of the grammar described in the package documentation.
//
// Message(err) gives the AWS message. Parse keeps member and list order
// for Text.
func Parse(text string) (*Document, error) { return parse(text, false) }

// ParseIdentity validates text as an IAM identity-based policy, the kind
// attached to a user or role (spec §3.1, D59), and compiles it for
// Evaluate. It checks what Parse checks, with IAM's rules for the
// statements: a statement names no Principal or NotPrincipal, and has an
// Action (or NotAction) and a Resource (or NotResource). Its statements
// apply to every caller: the policy's owner decides whom it is evaluated
// for.
func ParseIdentity(text string) (*Document, error) { return parse(text, true) }

// ParseResourceControl parses a resource control policy (RCP) of AWS
// Organizations: a resource-based policy in which, as the RCP grammar
// says, Version is 2012-10-17 and every statement is a Deny with
// Principal "*", an Action (not NotAction), and a Resource or
// NotResource (the Allow of AWS's RCPFullAWSAccess is implied wherever
// RCPs apply). Errors are those of Parse, or ErrMalformed with the
// reason.
func ParseResourceControl(text string) (*Document, error) {
	d, err := parse(text, false)
	if err != nil {
		return nil, err
	}
	if d.version != Version2012 {
		return nil, malformed("A resource control policy's Version must be " + Version2012 + ".")
	}
	for i := range d.statements {
		st := &d.statements[i]
		switch {
		case !st.deny:
			return nil, malformed("A resource control policy's statements must be Deny statements.")
		case st.notPrincipal || len(st.principals) != 1 || st.principals[0].kind != Everyone:
			return nil, malformed(`A resource control policy's statements must have Principal "*".`)
		case st.notAction:
			return nil, malformed("A resource control policy's statements must have Action, not NotAction.")
		case st.inert:
			return nil, malformed("A resource control policy's statements must have Action and Resource or NotResource.")
		}
	}
	return d, nil
}

// Principals returns the principals the policy's statements name in
// their Principal and NotPrincipal elements, in order, repeats included
// ("*" as Everyone).
func (d *Document) Principals() []Principal {
	var out []Principal
	for i := range d.statements {
		out = append(out, d.statements[i].principals...)
	}
	return out
}

// parse is Parse, or ParseIdentity when identity is set.
func parse(text string, identity bool) (*Document, error) {
	if len(text) > MaxCharacters && utf8.RuneCountInString(text) > MaxCharacters {
		return nil, &Error{Err: ErrTooLong, Message: msgTooLong}
	}
	if len(text) > MaxBytes {
		return nil, &Error{Err: ErrTooLarge, Message: msgTooLarge}
	}
	root, err := parseJSON(text)
	if err != nil {
		if d, ok := err.(errDuplicate); ok {
			return nil, malformed(msgDuplicateElement + quote(d.name) + ".")
		}
		return nil, &Error{Err: ErrMalformed}
	}
	d, err := compile(root, identity)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.Grow(len(text) + len(text)/4)
	writeText(&b, root, 0)
	d.text = b.String()
	if !identity && len(d.statements) == 1 {
		st := &d.statements[0]
		if len(st.principals) == 1 && st.principals[0].kind == Account && st.principals[0].partition != "" {
			p := st.principals[0]
			d.isDefault = d.text == defaultText(p.partition, p.account)
			if d.isDefault {
				d.defaultOf = p
			}
		}
	}
	return d, nil
}

func quote(s string) string {
	var b strings.Builder
	writeString(&b, s)
	return b.String()
}

// oneOrMany returns the elements of n, an array, or n itself, as policy
// elements that take one value or a list (Statement, a principal list);
// none for nil.
func oneOrMany(n *node) []*node {
	switch {
	case n == nil:
		return nil
	case n.kind == kindArray:
		return n.elems
	}
	return []*node{n}
}

// compile checks the grammar of a policy and compiles its statements.
func compile(root *node, identity bool) (*Document, error) {
	if root.kind != kindObject {
		return nil, malformed(msgNotObject)
	}
	d := &Document{identity: identity}
	var stmts *node
	for _, m := range root.members {
		switch m.name {
		case "Version":
			if m.value.kind != kindString || m.value.str != Version2012 && m.value.str != Version2008 {
				return nil, malformed("Policy has an invalid Version. Version must be " + Version2012 + " or " + Version2008 + ".")
			}
			d.version = m.value.str
		case "Id":
			if m.value.kind != kindString {
				return nil, malformed(msgBadID)
			}
		case "Statement":
			stmts = m.value
		default:
			return nil, unknownElement("Policy", m.name)
		}
	}
	if stmts == nil {
		return nil, malformed(msgNoStatement)
	}
	elems := oneOrMany(stmts)
	if len(elems) == 0 {
		return nil, malformed(msgEmptyStatement)
	}
	d.statements = make([]statement, len(elems))
	for i, e := range elems {
		if err := compileStatement(&d.statements[i], e, identity, d.version == Version2012); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// compileStatement compiles one statement; vars says that its Resource
// and condition values may hold policy variables (a 2012-10-17 policy).
func compileStatement(st *statement, n *node, identity, vars bool) error {
	if n.kind != kindObject {
		return malformed(msgBadStatement)
	}
	var effect, principal, notPrincipal, action, notAction, resource, notResource, cond *node
	for _, m := range n.members {
		switch m.name {
		case "Sid":
			if m.value.kind != kindString {
				return malformed(msgBadSid)
			}
			st.sid = m.value.str
		case "Effect":
			effect = m.value
		case "Principal":
			principal = m.value
		case "NotPrincipal":
			notPrincipal = m.value
		case "Action":
			action = m.value
		case "NotAction":
			notAction = m.value
		case "Resource":
			resource = m.value
		case "NotResource":
			notResource = m.value
		case "Condition":
			cond = m.value
		default:
			return unknownElement("Policy contains a statement that", m.name)
		}
	}
	switch {
	case effect == nil || effect.kind != kindString:
		return malformed(msgBadEffect)
	case effect.str == "Allow":
	case effect.str == "Deny":
		st.deny = true
	default:
		return malformed(msgBadEffect)
	}

	switch {
	case identity && (principal != nil || notPrincipal != nil):
		return malformed(msgIdentityPrincipal)
	case identity && action == nil && notAction == nil:
		return malformed(msgIdentityNoAction)
	case identity && resource == nil && notResource == nil:
		return malformed(msgIdentityNoResource)
	case identity:
		st.anyPrincipal = true
	case principal != nil && notPrincipal != nil:
		return malformed(msgBothPrincipal)
	case principal == nil && notPrincipal == nil:
		return malformed(msgNoPrincipal)
	case notPrincipal != nil:
		st.notPrincipal, principal = true, notPrincipal
	}
	var err error
	if !identity {
		if st.principals, err = compilePrincipals(principal); err != nil {
			return err
		}
	}

	if st.actions, st.notAction, err = compileList(action, notAction, msgBothAction, msgBadAction, validAction, true); err != nil {
		return err
	}
	validResource := func(r string) bool { return r == "*" || strings.HasPrefix(r, "arn:") }
	if st.resources, st.notResource, err = compileList(resource, notResource, msgBothResource, msgBadResource, validResource, false); err != nil {
		return err
	}
	if rn := resource; vars && len(st.resources) > 0 {
		if rn == nil {
			rn = notResource
		}
		if raw, ok := stringList(rn); ok && len(raw) == len(st.resources) {
			for i, x := range raw {
				st.resources[i].tmpl = parseTemplate(x)
			}
		}
	}
	st.inert = len(st.actions) == 0 || len(st.resources) == 0

	if cond != nil {
		cs, err := compileCondition(cond, vars)
		if err != nil {
			return err
		}
		st.conditions = cs
	}
	return nil
}

// stringList reads a string or a list of strings.
// compileList compiles a statement's Action/NotAction or
// Resource/NotResource element (at most one of the pair given): its
// patterns, whether it was the Not form, and the malformed refusals
// bothMsg (both given) and badMsg (a value that is not a string list or
// not valid). fold makes the patterns case-insensitive.
func compileList(v, notV *node, bothMsg, badMsg string, valid func(string) bool, fold bool) ([]pattern, bool, error) {
	if v != nil && notV != nil {
		return nil, false, malformed(bothMsg)
	}
	not := notV != nil
	if not {
		v = notV
	}
	if v == nil {
		return nil, false, nil
	}
	list, ok := stringList(v)
	if !ok {
		return nil, false, malformed(badMsg)
	}
	ps := make([]pattern, 0, len(list))
	for _, x := range list {
		if !valid(x) {
			return nil, false, malformed(badMsg)
		}
		ps = append(ps, compilePattern(x, true, fold))
	}
	return ps, not, nil
}

func stringList(n *node) ([]string, bool) {
	switch n.kind {
	case kindString:
		return []string{n.str}, true
	case kindArray:
		out := make([]string, 0, len(n.elems))
		for _, e := range n.elems {
			if e.kind != kindString {
				return nil, false
			}
			out = append(out, e.str)
		}
		return out, true
	}
	return nil, false
}

// validAction accepts "*" and "<service>:<action>", the action part
// possibly with wildcards.
func validAction(a string) bool {
	if a == "*" {
		return true
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" {
		return false
	}
	for i := 0; i < len(svc); i++ {
		c := svc[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c == ':' {
			return false
		}
	}
	return true
}

// compilePrincipals reads a Principal or NotPrincipal element: "*", or an
// object whose AWS, Service and Federated members hold a string or a list
// of strings (spec §8).
func compilePrincipals(n *node) ([]Principal, error) {
	bad := malformed(msgInvalidPrincipals)
	if n.kind == kindString {
		if n.str == "*" {
			return []Principal{{kind: Everyone, arn: "*"}}, nil
		}
		return nil, bad
	}
	if n.kind != kindObject || len(n.members) == 0 {
		return nil, bad
	}
	var out []Principal
	for _, m := range n.members {
		list, ok := stringList(m.value)
		if !ok || len(list) == 0 {
			return nil, bad
		}
		for _, s := range list {
			var p Principal
			switch m.name {
			case "AWS":
				var err error
				if p, err = ParsePrincipal(s); err != nil {
					return nil, bad
				}
			case "Service":
				if s == "" || strings.ContainsAny(s, " \t\r\n*?:/") {
					return nil, bad
				}
				p = ServicePrincipal(s)
			case "Federated":
				if s == "" || strings.ContainsAny(s, " \t\r\n*?") {
					return nil, bad
				}
				p = Principal{kind: Federated, arn: s, name: s}
			default:
				// CanonicalUser and anything else: not a KMS principal.
				return nil, bad
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// TextReplacing returns Text with each IAM user or role ARN in the "AWS"
// member of a statement's Principal or NotPrincipal element for which
// replace gives a replacement written as that replacement instead, as
// AWS shows a deleted user or role by the unique ID it had (decision D78
// of package kms). Nothing else changes; replace is called once for each
// such ARN in the text.
func (d *Document) TextReplacing(replace func(Principal) (string, bool)) string {
	root, err := parseJSON(d.text)
	if err != nil || root.kind != kindObject {
		return d.text // not reached: d.text is the layout of a parsed document
	}
	changed := false
	sub := func(n *node) {
		if n.kind != kindString {
			return
		}
		p, err := ParsePrincipal(n.str)
		if err != nil || (p.kind != User && p.kind != Role) {
			return
		}
		if r, ok := replace(p); ok {
			n.str, changed = r, true
		}
	}
	for _, st := range oneOrMany(root.member("Statement")) {
		for _, name := range [...]string{"Principal", "NotPrincipal"} {
			if pr := st.member(name); pr != nil && pr.kind == kindObject {
				for _, e := range oneOrMany(pr.member("AWS")) {
					sub(e)
				}
			}
		}
	}
	if !changed {
		return d.text
	}
	var b strings.Builder
	writeText(&b, root, 0)
	return b.String()
}

// Text returns the document in the layout of GetKeyPolicy's output
// (spec §1.1, P3): two-space indentation, " : " between names and values,
// "[ {" … "} ]" around lists of objects, lists of scalars on one line,
// member and list order as given, no trailing newline. Parse(d.Text())
// gives a document with the same Text.
func (d *Document) Text() string { return d.text }

// IsIdentity reports whether d is an identity-based policy
// (ParseIdentity).
func (d *Document) IsIdentity() bool { return d.identity }

// IsDefault reports whether d is the default key policy of an account
// (spec §1.1): a Document made by Default, or one parsed from the exact
// text of one.
func (d *Document) IsDefault() bool { return d.isDefault }

// IsDefaultFor reports whether d is the default key policy of account in
// partition: IsDefault, of that account root. The default policy of
// another account or partition is a policy like any other for a key.
func (d *Document) IsDefaultFor(partition, account string) bool {
	return d.isDefault && d.defaultOf.partition == partition && d.defaultOf.account == account
}

// Len returns the number of statements.
func (d *Document) Len() int { return len(d.statements) }

// Sid returns the Sid of statement i ("" when it has none). It panics when
// i is out of range.
func (d *Document) Sid(i int) string { return d.statements[i].sid }

// DefaultID is the Id of the default key policy.
const DefaultID = "key-default-1"

// DefaultSid is the Sid of the default key policy's statement.
const DefaultSid = "Enable IAM User Permissions"

// defaultText is the default key policy of §1.1 for one account.
func defaultText(partition, account string) string {
	return "{\n" +
		"  \"Version\" : \"2012-10-17\",\n" +
		"  \"Id\" : \"key-default-1\",\n" +
		"  \"Statement\" : [ {\n" +
		"    \"Sid\" : \"Enable IAM User Permissions\",\n" +
		"    \"Effect\" : \"Allow\",\n" +
		"    \"Principal\" : {\n" +
		"      \"AWS\" : \"arn:" + partition + ":iam::" + account + ":root\"\n" +
		"    },\n" +
		"    \"Action\" : \"kms:*\",\n" +
		"    \"Resource\" : \"*\"\n" +
		"  } ]\n" +
		"}"
}

// Default returns the key policy AWS gives a key created through the API
// without a Policy (spec §1.1): one statement allowing kms:* to the
// account principal arn:<partition>:iam::<account>:root. Its Text is the
// recorded text byte for byte. The Document is immutable: build one per
// account and share it among the account's keys; IsDefault recognises it.
// Default does not validate its arguments.
func Default(partition, account string) *Document {
	root := AccountPrincipal(partition, account)
	return &Document{
		text:      defaultText(partition, account),
		isDefault: true,
		defaultOf: root,
		statements: []statement{{
			sid:        DefaultSid,
			principals: []Principal{root},
			actions:    []pattern{compilePattern("kms:*", true, true)},
			resources:  []pattern{compilePattern("*", true, false)},
		}},
	}
}
