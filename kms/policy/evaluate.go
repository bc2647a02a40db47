package policy

import (
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Request is what Evaluate decides on: who asks to do what to which key,
// and the values of the condition keys. Evaluate only reads it.
type Request struct {
	// Action is the IAM action, such as "kms:Encrypt" (spec §4.1). It is
	// compared without regard to case.
	Action string
	// Caller is the principal making the call (D24).
	Caller Principal
	// Resource is the ARN of the key the request is on. A statement's
	// Resource "*" means this key; an ARN pattern is matched against it.
	Resource string
	// ResourceAccount is the key's account (aws:ResourceAccount).
	ResourceAccount string
	// Time is the request's time, for aws:CurrentTime and aws:EpochTime;
	// the zero Time leaves both keys absent.
	Time time.Time
	// EncryptionContext is the request's encryption context, the source
	// of kms:EncryptionContext:<key> and kms:EncryptionContextKeys (spec
	// §5.1). Nil or empty: both keys are absent.
	EncryptionContext map[string]string
	// Context holds every other condition key present in the request.
	Context Context
	// Region is the Region the request is sent to (aws:RequestedRegion);
	// "" leaves the key absent.
	Region string
	// SourceIP is the address the request comes from (aws:SourceIp), and
	// VPCSourceIP the address of a request through a VPC endpoint
	// (aws:VpcSourceIp); the zero Addr leaves the key absent. An IP
	// address condition compares them without formatting them.
	SourceIP, VPCSourceIP netip.Addr
	// Bounded says that the caller has a permissions boundary. IAM then
	// applies a Deny statement with NotPrincipal to it whatever the
	// NotPrincipal element names (IAM User Guide, "Permissions boundaries
	// for IAM entities"; decision D62).
	Bounded bool
	// Generation, when set, says how many times the IAM user or role of
	// the caller (a session's role) was deleted before, which picks its
	// unique ID in aws:userid (UserID; decision D77 of package kms). Nil
	// counts none.
	Generation func(Principal) int
	// DeletedSince, when set, says which IAM users and roles that the
	// document's Principal and NotPrincipal elements name were deleted
	// after the document was written. IAM binds such a principal to the
	// unique ID it had when the policy was written, so once it is deleted
	// it covers no caller, a user or role created again under its name
	// included (decision D78 of package kms). Nil: none was.
	DeletedSince DeletionCheck
}

// DeletionCheck says whether an IAM user or role was deleted after a
// policy naming it was written (Request.DeletedSince).
type DeletionCheck interface {
	// DeletedSince reports whether p, a user or role (Kind User or
	// Role), was deleted after the policy was written.
	DeletedSince(p Principal) bool
}

// Context is a request's condition keys and their values. A key not in
// the Context is absent, unless the Request implies it (see the package
// documentation, "Condition keys"). Key names are compared without regard
// to case. An entry for a key given twice: the first wins.
type Context []ContextEntry

// ContextEntry is one condition key and its value or values.
type ContextEntry struct {
	// Key is the condition key's name, such as "kms:ViaService".
	Key string
	// Value is the value of a single-valued key (Multi false).
	Value string
	// Values are the values of a multi-valued key (Multi true). An empty
	// list counts as absent.
	Values []string
	// Multi says that the key is multi-valued and Values holds its values.
	Multi bool
}

// Single returns the entry of a single-valued key.
func Single(key, value string) ContextEntry { return ContextEntry{Key: key, Value: value} }

// Multi returns the entry of a multi-valued key such as kms:GrantOperations.
func Multi(key string, values ...string) ContextEntry {
	return ContextEntry{Key: key, Values: values, Multi: true}
}

// Effect is the outcome of an evaluation.
type Effect uint8

// The outcomes, from the least to the most decisive.
const (
	// ImplicitDeny: no statement allows the request (the zero Effect).
	ImplicitDeny Effect = iota
	// Allow: a statement allows the request and none denies it.
	Allow
	// ExplicitDeny: a Deny statement applies; it wins over every Allow.
	ExplicitDeny
)

// String returns "ImplicitDeny", "Allow" or "ExplicitDeny".
func (e Effect) String() string {
	switch e {
	case ImplicitDeny:
		return "ImplicitDeny"
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "Effect(" + strconv.Itoa(int(e)) + ")"
}

// Decision is the result of Evaluate: the effect and the statements that
// decided it. Building a Decision allocates nothing for documents of up to
// 64 statements.
type Decision struct {
	// Effect is Allow, ExplicitDeny or ImplicitDeny.
	Effect Effect
	doc    *Document
	action string
	// allow and deny hold the applicable Allow and Deny statements among
	// the first 64; over holds the rest.
	allow, deny uint64
	over        *overflow
	// direct: an applicable Allow statement covers the caller other than
	// through its account principal (see Direct); exact: one names the
	// caller itself (see Exact).
	direct, exact bool
}

// overflow holds the applicable statements from index 64 on.
type overflow struct{ allow, deny []int }

func (d *Decision) add(i int, deny bool) {
	if i < 64 {
		if deny {
			d.deny |= 1 << i
		} else {
			d.allow |= 1 << i
		}
		return
	}
	if d.over == nil {
		d.over = &overflow{}
	}
	if deny {
		d.over.deny = append(d.over.deny, i)
	} else {
		d.over.allow = append(d.over.allow, i)
	}
}

// indexes lists the statements of one kind.
func (d *Decision) indexes(deny bool) []int {
	word, list := d.allow, []int(nil)
	if deny {
		word = d.deny
	}
	for word != 0 {
		j := bits.TrailingZeros64(word)
		list = append(list, j)
		word &^= 1 << j
	}
	if d.over != nil {
		if deny {
			list = append(list, d.over.deny...)
		} else {
			list = append(list, d.over.allow...)
		}
	}
	return list
}

// Allowed reports whether the effect is Allow.
func (d Decision) Allowed() bool { return d.Effect == Allow }

// Direct reports whether an Allow statement that applied covers the
// caller itself: it names the caller's user, role, session or federated
// user, or "*", or leaves the caller out of its NotPrincipal; every
// statement of an identity-based policy covers its caller. An Allow that
// applied only through the caller's account principal delegates to that
// account's identity-based policies (spec §3.2 rule 3): it allows the
// caller only together with one of them (D59).
func (d Decision) Direct() bool { return d.Effect == Allow && d.direct }

// Exact reports whether d is an Allow by a statement that names the
// caller by its own ARN: the user, role, federated user or assumed-role
// session itself, not its account, the role of a session, "*" or a
// NotPrincipal. Permissions boundaries and session policies do not limit
// such an Allow for a role's session (decision D62).
func (d Decision) Exact() bool { return d.Effect == Allow && d.exact }

// StatementRef names a statement of a policy.
type StatementRef struct {
	// Index is the statement's position in the Statement list, from 0.
	Index int
	// Sid is the statement's Sid, or "".
	Sid string
}

// Matched returns the statements that decided d: the Deny statements that
// applied for ExplicitDeny, the Allow statements that applied for Allow,
// none for ImplicitDeny.
func (d Decision) Matched() []StatementRef {
	if d.Effect == ImplicitDeny {
		return nil
	}
	var out []StatementRef
	for _, i := range d.indexes(d.Effect == ExplicitDeny) {
		out = append(out, StatementRef{Index: i, Sid: d.doc.statements[i].sid})
	}
	return out
}

// Reason words the decision for an observer record, for example
// `Allow kms:Encrypt: statement 0 ("Enable IAM User Permissions")`.
func (d Decision) Reason() string {
	var b strings.Builder
	b.WriteString(d.Effect.String())
	if d.action != "" {
		b.WriteByte(' ')
		b.WriteString(d.action)
	}
	refs := d.Matched()
	if len(refs) == 0 {
		b.WriteString(": no statement allows the request")
		return b.String()
	}
	if len(refs) == 1 {
		b.WriteString(": statement ")
	} else {
		b.WriteString(": statements ")
	}
	for i, r := range refs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(r.Index))
		if r.Sid != "" {
			b.WriteString(" (")
			b.WriteString(strconv.Quote(r.Sid))
			b.WriteByte(')')
		}
	}
	return b.String()
}

// String returns d.Reason().
func (d Decision) String() string { return d.Reason() }

// Evaluate decides r against the key policy d (spec §3.2, D24): an
// applicable Deny statement gives ExplicitDeny; otherwise an applicable
// Allow statement gives Allow; otherwise ImplicitDeny. Every statement is
// looked at, so the Decision names all that applied. A statement applies
// when its Principal (or NotPrincipal), Action (or NotAction), Resource
// (or NotResource) and every condition match the request. Evaluate is
// pure, safe for concurrent use, and does not allocate for documents of up
// to 64 statements.
func (d *Document) Evaluate(r *Request) Decision {
	dec := Decision{doc: d, action: r.Action}
	for i := range d.statements {
		st := &d.statements[i]
		ok, direct, exact := st.applies(r)
		if !ok {
			continue
		}
		dec.add(i, st.deny)
		if st.deny {
			dec.Effect = ExplicitDeny
		} else {
			dec.direct = dec.direct || direct
			dec.exact = dec.exact || exact
			if dec.Effect == ImplicitDeny {
				dec.Effect = Allow
			}
		}
	}
	return dec
}

// applies reports whether the statement covers r, whether it covers r's
// caller other than through an account principal, and whether it names
// the caller by its own ARN.
func (st *statement) applies(r *Request) (ok, direct, exact bool) {
	if st.inert {
		return false, false, false
	}
	direct = true
	if !st.anyPrincipal {
		var matched bool
		matched, direct, exact = st.matchPrincipal(&r.Caller, r.DeletedSince)
		if st.notPrincipal && st.deny && r.Bounded {
			matched = false // D62: IAM's rule for bounded callers
		}
		if matched == st.notPrincipal {
			return false, false, false
		}
		direct = direct || st.notPrincipal
		exact = exact && !st.notPrincipal
	}
	if matchAny(st.actions, r.Action) == st.notAction {
		return false, false, false
	}
	if matchResource(st.resources, r) == st.notResource {
		return false, false, false
	}
	for i := range st.conditions {
		if !st.conditions[i].eval(r) {
			return false, false, false
		}
	}
	return true, direct, exact
}

// matchPrincipal reports whether a principal of the statement covers
// caller, whether one that covers it is not an account principal, and
// whether one is the caller itself (of its kind). A user or role that del
// says was deleted since covers no one.
func (st *statement) matchPrincipal(caller *Principal, del DeletionCheck) (matched, direct, exact bool) {
	for i := range st.principals {
		p := &st.principals[i]
		if p.matches(caller) {
			if del != nil && (p.kind == User || p.kind == Role) && del.DeletedSince(*p) {
				continue
			}
			matched = true
			if p.kind != Account {
				direct = true
				if p.kind == caller.kind {
					return true, true, true
				}
			}
		}
	}
	return matched, direct, false
}

func matchAny(ps []pattern, s string) bool {
	for i := range ps {
		if ps[i].match(s) {
			return true
		}
	}
	return false
}

// PolicyType is a kind of policy that an AccessDeniedException message
// names as the one that denied.
type PolicyType int

// The policy types of AccessDeniedException messages, in IAM's words.
const (
	// ResourceBased: the key policy.
	ResourceBased PolicyType = iota
	// IdentityBased: the caller's identity-based (IAM) policies.
	IdentityBased
	// ServiceControl: the service control policies (SCPs) of the
	// caller's account's organization.
	ServiceControl
	// PermissionsBoundary: the caller's permissions boundary.
	PermissionsBoundary
	// SessionPolicy: the policies passed when the caller's session was
	// made.
	SessionPolicy
	// ResourceControl: the resource control policies (RCPs) of the
	// organization of the resource's account.
	ResourceControl
	// VPCEndpoint: the policy of the VPC endpoint the request came
	// through.
	VPCEndpoint
)

// policyPhrases are each type's words after "explicit deny in" and
// "because no".
var policyPhrases = [...]struct{ explicit, none string }{
	ResourceBased:       {"a resource-based policy", "resource-based policy"},
	IdentityBased:       {"an identity-based policy", "identity-based policy"},
	ServiceControl:      {"a service control policy", "service control policy"},
	PermissionsBoundary: {"a permissions boundary", "permissions boundary"},
	SessionPolicy:       {"a session policy", "session policy"},
	ResourceControl:     {"a resource control policy", "resource control policy"},
	VPCEndpoint:         {"a VPC endpoint policy", "VPC endpoint policy"},
}

// AccessDeniedMessage words the AccessDeniedException message for a
// decision that is not Allow (spec §6, D26). callerARN is the caller's
// ARN (the session ARN for a role), action the IAM action with or without
// its "kms:" prefix, keyARN the key's ARN:
//
//	User: <caller> is not authorized to perform: kms:<Action> on resource: <key ARN> with an explicit deny in a resource-based policy
//	User: <caller> is not authorized to perform: kms:<Action> on resource: <key ARN> because no resource-based policy allows the kms:<Action> action
func AccessDeniedMessage(callerARN, action, keyARN string, d Decision) string {
	return DeniedMessage(ResourceBased, callerARN, action, keyARN, d.Effect == ExplicitDeny)
}

// IdentityDeniedMessage words the AccessDeniedException message for a
// request that the caller's identity-based policies do not allow (spec §6,
// P7, D59): explicit reports an explicit Deny. resource is the key's ARN,
// the alias's, or "*" for an operation on no resource:
//
//	User: <caller> is not authorized to perform: kms:<Action> on resource: <resource> with an explicit deny in an identity-based policy
//	User: <caller> is not authorized to perform: kms:<Action> on resource: <resource> because no identity-based policy allows the kms:<Action> action
func IdentityDeniedMessage(callerARN, action, resource string, explicit bool) string {
	return DeniedMessage(IdentityBased, callerARN, action, resource, explicit)
}

// DeniedMessage words the AccessDeniedException message for a request
// that policies of type t deny (explicit: by a Deny statement) or do not
// allow, as IAM words them (D62), for example:
//
//	User: <caller> is not authorized to perform: kms:<Action> on resource: <resource> with an explicit deny in a service control policy
//	User: <caller> is not authorized to perform: kms:<Action> on resource: <resource> because no permissions boundary allows the kms:<Action> action
//	User: <caller> is not authorized to perform: kms:<Action> on resource: <resource> because no session policy allows the kms:<Action> action
func DeniedMessage(t PolicyType, callerARN, action, resource string, explicit bool) string {
	if !strings.HasPrefix(action, "kms:") {
		action = "kms:" + action
	}
	head := "User: " + callerARN + " is not authorized to perform: " + action + " on resource: " + resource
	if explicit {
		return head + " with an explicit deny in " + policyPhrases[t].explicit
	}
	return head + " because no " + policyPhrases[t].none + " allows the " + action + " action"
}
