package policy

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// PrincipalKind says what a Principal names (spec §8).
type PrincipalKind uint8

// The kinds of principal.
const (
	// Nobody is the zero Principal's kind: it names no one and matches no one.
	Nobody PrincipalKind = iota
	// Account is an account principal: arn:<p>:iam::<account>:root, or the
	// bare 12-digit account ID in a policy.
	Account
	// User is an IAM user: arn:<p>:iam::<account>:user/<path/>name.
	User
	// Role is an IAM role: arn:<p>:iam::<account>:role/<path/>name.
	Role
	// AssumedRole is a role session:
	// arn:<p>:sts::<account>:assumed-role/<role name>/<session>.
	AssumedRole
	// FederatedUser is arn:<p>:sts::<account>:federated-user/<name>.
	FederatedUser
	// Service is a service principal such as logs.us-east-1.amazonaws.com.
	Service
	// Everyone is "*": every principal of every account.
	Everyone
	// Federated is a principal in a policy's "Federated" element (an
	// identity provider). Callers are never of this kind, so it matches no
	// caller in this model.
	Federated
)

var kindNames = [...]string{"Nobody", "Account", "User", "Role", "AssumedRole", "FederatedUser", "Service", "Everyone", "Federated"}

// String returns the kind's name.
func (k PrincipalKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("PrincipalKind(%d)", uint8(k))
}

// Principal is a parsed principal: who calls (Request.Caller), or whom a
// policy statement or a grant names. The zero Principal is Nobody. A
// Principal is a small value; compare principals with Matches, not ==.
type Principal struct {
	kind      PrincipalKind
	arn       string // as given
	partition string // "" for a bare account ID: any partition
	account   string
	name      string // user or role path/name; role name of a session; federated user name; service name
	session   string // session name of an AssumedRole
	iamARN    string // aws:PrincipalArn: the role ARN for a session, else arn
}

// ParsePrincipal parses an ARN of an account root, IAM user, IAM role,
// assumed-role session or federated user, a bare 12-digit account ID, or
// "*" (spec §8). Other strings, IAM groups among them, give an error
// wrapping ErrInvalidPrincipal. Wildcards inside an ARN are not allowed.
// Use ServicePrincipal for service principals.
func ParsePrincipal(s string) (Principal, error) {
	bad := func() (Principal, error) {
		return Principal{}, fmt.Errorf("%w: %q", ErrInvalidPrincipal, s)
	}
	if s == "*" {
		return Principal{kind: Everyone, arn: s}, nil
	}
	if isAccountID(s) {
		return Principal{kind: Account, arn: s, account: s, iamARN: s}, nil
	}
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok || strings.ContainsAny(s, "*? \t\r\n") {
		return bad()
	}
	partition, rest, _ := strings.Cut(rest, ":")
	service, rest, _ := strings.Cut(rest, ":")
	region, rest, _ := strings.Cut(rest, ":")
	account, resource, ok := strings.Cut(rest, ":")
	if !ok || !isPartition(partition) || region != "" || !isAccountID(account) {
		return bad()
	}
	p := Principal{arn: s, partition: partition, account: account, iamARN: s}
	typ, name, _ := strings.Cut(resource, "/")
	switch {
	case service == "iam" && resource == "root":
		p.kind = Account
	case service == "iam" && typ == "user" && validPathName(name):
		p.kind, p.name = User, name
	case service == "iam" && typ == "role" && validPathName(name):
		p.kind, p.name = Role, name
	case service == "sts" && typ == "assumed-role":
		role, session, ok := strings.Cut(name, "/")
		if !ok || !validName(role) || !validName(session) {
			return bad()
		}
		p.kind, p.name, p.session = AssumedRole, role, session
		p.iamARN = "arn:" + partition + ":iam::" + account + ":role/" + role
	case service == "sts" && typ == "federated-user" && validName(name):
		p.kind, p.name = FederatedUser, name
	default:
		return bad()
	}
	return p, nil
}

// MustParsePrincipal is like ParsePrincipal but panics on an error. It is
// meant for constants in tests and examples.
func MustParsePrincipal(s string) Principal {
	p, err := ParsePrincipal(s)
	if err != nil {
		panic(err)
	}
	return p
}

// AccountPrincipal returns the account principal arn:<partition>:iam::<account>:root.
func AccountPrincipal(partition, account string) Principal {
	arn := "arn:" + partition + ":iam::" + account + ":root"
	return Principal{kind: Account, arn: arn, partition: partition, account: account, iamARN: arn}
}

// ServicePrincipal returns the service principal called name, such as
// "logs.us-east-1.amazonaws.com". Service principals are compared without
// regard to case and belong to no account.
func ServicePrincipal(name string) Principal {
	return Principal{kind: Service, arn: name, name: name, iamARN: name}
}

// Kind returns what p names.
func (p Principal) Kind() PrincipalKind { return p.kind }

// ARN returns p as it was given: an ARN, a bare account ID, "*" or a
// service name.
func (p Principal) ARN() string { return p.arn }

// String returns p.ARN().
func (p Principal) String() string { return p.arn }

// Account returns p's 12-digit account ID, or "" for a service principal,
// Everyone and Nobody.
func (p Principal) Account() string { return p.account }

// Partition returns p's partition, or "" when p has none (a bare account
// ID, a service principal, Everyone, Nobody).
func (p Principal) Partition() string { return p.partition }

// PrincipalARN returns the value of the aws:PrincipalArn condition key for
// p as caller: the role ARN for an assumed-role session (without the
// role's path, which a session ARN does not carry), otherwise p's ARN
// (spec §5.2).
func (p Principal) PrincipalARN() string { return p.iamARN }

// Matches reports whether the principal p, named in a key policy or a
// grant, covers caller (spec §8, D24, D28):
//   - Everyone covers every caller;
//   - an account principal covers every principal of its account (the
//     account's IAM policies are taken to allow everything, D24); a bare
//     account ID covers that account in every partition;
//   - a role covers itself and each of its sessions;
//   - a user, session or federated user covers only itself;
//   - a service principal covers the same service principal.
//
// Nobody covers no one and is covered by nothing but Everyone.
func (p Principal) Matches(caller Principal) bool { return p.matches(&caller) }

// matches is Matches without copying the principals.
func (p *Principal) matches(caller *Principal) bool {
	switch p.kind {
	case Everyone:
		return caller.kind != Nobody
	case Account:
		return caller.account == p.account && caller.account != "" &&
			(p.partition == "" || caller.partition == "" || caller.partition == p.partition)
	case User, FederatedUser:
		return caller.kind == p.kind && caller.account == p.account &&
			caller.partition == p.partition && caller.name == p.name
	case Role:
		if caller.account != p.account || caller.partition != p.partition {
			return false
		}
		switch caller.kind {
		case Role:
			return caller.name == p.name
		case AssumedRole:
			return caller.name == roleName(p.name)
		}
		return false
	case AssumedRole:
		return caller.kind == AssumedRole && caller.account == p.account &&
			caller.partition == p.partition && caller.name == p.name && caller.session == p.session
	case Service:
		return caller.kind == Service && strings.EqualFold(caller.name, p.name)
	}
	return false
}

// MatchKey is a key under which an index files p as a grantee (a
// grant's), so that a caller's candidate grants are those filed under its
// CallerMatchKeys: whenever p.Matches(c), p.MatchKey() is among
// c.CallerMatchKeys. Principals of several kinds may share a key; the
// index's user checks Matches.
func (p Principal) MatchKey() string {
	switch p.kind {
	case Everyone:
		return "*"
	case Account:
		return "a:" + p.account
	case User, FederatedUser:
		return "u:" + p.account + ":" + p.name
	case Role:
		return roleKey(p.account, roleName(p.name))
	case AssumedRole:
		return "s:" + p.account + ":" + p.name + "/" + p.session
	case Service:
		return "v:" + foldKey(p.name)
	}
	return "" // Nobody, Federated: they match no caller
}

// CallerMatchKeys appends to keys the MatchKey of every principal that may
// match the caller p (see MatchKey), and returns the extended slice.
func (p Principal) CallerMatchKeys(keys []string) []string {
	if p.kind == Nobody {
		return keys
	}
	keys = append(keys, "*")
	if p.account != "" {
		keys = append(keys, "a:"+p.account) // an Account caller's own key
	}
	switch p.kind {
	case User, FederatedUser, Role, Service:
		keys = append(keys, p.MatchKey())
	case AssumedRole:
		// The session, and the role it is a session of (its name has no
		// path: Matches compares it with the last element of the role's).
		keys = append(keys, p.MatchKey(), roleKey(p.account, p.name))
	}
	return keys
}

// roleKey is the MatchKey of the role called name (the last element of
// its path) in account.
func roleKey(account, name string) string { return "r:" + account + ":" + name }

// foldKey maps s to one string for every string strings.EqualFold finds
// equal to it: each rune to the least rune of its simple case-folding
// orbit.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

// roleName is the last element of a role's path/name.
func roleName(pathName string) string {
	return pathName[strings.LastIndexByte(pathName, '/')+1:]
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isPartition accepts "aws" and "aws-" followed by lower-case words joined
// by hyphens (aws-cn, aws-us-gov, aws-iso-b, …).
func isPartition(s string) bool {
	if s == "aws" {
		return true
	}
	rest, ok := strings.CutPrefix(s, "aws-")
	if !ok || rest == "" || rest[0] == '-' || rest[len(rest)-1] == '-' || strings.Contains(rest, "--") {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// validName accepts IAM name characters: letters, digits and +=,.@_-.
func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("+=,.@_-", c) >= 0) {
			return false
		}
	}
	return true
}

// validPathName accepts "name" or "path/…/name" with valid names.
func validPathName(s string) bool {
	if s == "" {
		return false
	}
	for part := range strings.SplitSeq(s, "/") {
		if !validName(part) {
			return false
		}
	}
	return true
}

// UserID returns the value of the aws:userid condition key for the caller
// p (IAM User Guide, "aws:userid"): for an account root, the account ID;
// for an IAM user, its unique ID; for an assumed-role session, its role's
// unique ID, a colon and the session name; for a federated user, the
// account ID, a colon and its name; for a role (kmsmodel's caller that
// stands for the role itself), its unique ID. A service principal,
// Everyone and Nobody have none (ok false).
//
// IAM chooses a user's or role's unique ID when it creates it. kmsmodel
// derives it instead (decision D77 of package kms), so that a program can
// know it without asking: "AIDA" for a user or "AROA" for a role, then 17
// characters of A–Z and 2–7, from a SHA-256 digest of the partition, the
// account, the name (without its path) and generation, the number of
// times the user or role was deleted before (0 for the first). A user or
// role deleted and created again under the same name therefore has a new
// unique ID, as in IAM, and policies that name the old one no longer
// match it.
func UserID(p Principal, generation int) (string, bool) {
	switch p.kind {
	case Account:
		return p.account, true
	case FederatedUser:
		return p.account + ":" + p.name, true
	case User:
		return uniqueID("AIDA", p.partition, p.account, roleName(p.name), generation), true
	case Role:
		return uniqueID("AROA", p.partition, p.account, roleName(p.name), generation), true
	case AssumedRole:
		return uniqueID("AROA", p.partition, p.account, p.name, generation) + ":" + p.session, true
	}
	return "", false
}

// uniqueID derives the unique ID of the user or role name (UserID).
func uniqueID(prefix, partition, account, name string, generation int) string {
	h := sha256.New()
	for _, s := range [...]string{"kmsmodel IAM unique ID", prefix, partition, account, name, strconv.Itoa(generation)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return prefix + base32.StdEncoding.EncodeToString(h.Sum(sum[:0]))[:17]
}
