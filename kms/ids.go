package kms

import (
	"encoding/hex"
	"io"
	"strings"
	"unsafe"
)

// newKeyID reads 16 random bytes and formats them as a version-4 UUID, or
// as "mrk-" and 32 hex digits for a multi-Region key. The ID's bytes come
// from ids, right after arnPrefix's (the key's ARN without its ID, or ""),
// so that the key's ARN is those bytes too (see Service.arnOf). The buffer
// the random bytes are read into is ids' too (a local one, handed to an
// io.Reader, would be allocated on the heap each time).
func newKeyID(r io.Reader, multiRegion bool, ids *idArena, arnPrefix string) (string, error) {
	b := &ids.random
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	if multiRegion {
		var s [36]byte
		copy(s[:], "mrk-")
		hex.Encode(s[4:], b[:])
		return ids.withPrefix(arnPrefix, s[:]), nil
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return ids.withPrefix(arnPrefix, s[:]), nil
}

// idArena holds the bytes of the key IDs a service makes, many to a block:
// one allocation per 1,800 keys instead of one per key, 36 bytes an ID
// instead of 48, and one object for the collector to mark instead of
// thousands. Before the ID of a key of the service's own account come the
// bytes of its ARN without the ID (75 bytes in all for a key of
// us-east-1), so that its ARN is a string of the arena too. Bytes given
// out are never written again, which is what unsafe.String asks; a block
// lives as long as any of its IDs.
type idArena struct {
	buf    []byte
	random [16]byte // newKeyID's buffer
}

// idBlock is the size of one block of an idArena.
const idBlock = 64 << 10

// withPrefix copies prefix and then b into the arena, in one block, and
// returns a string of b's bytes there: the bytes of prefix come right
// before them (see before).
func (a *idArena) withPrefix(prefix string, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if n := len(prefix) + len(b); len(a.buf)+n > cap(a.buf) {
		a.buf = make([]byte, 0, max(idBlock, n))
	}
	a.buf = append(a.buf, prefix...)
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[start], len(b))
}

// before returns the string of the n bytes before s and s's own: s must be
// a string withPrefix returned with a prefix of n bytes or more.
func before(s string, n int) string {
	return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), -n)), n+len(s))
}

// isKeyID reports whether s has the shape of a key ID: a UUID (lower or
// upper case hex) or "mrk-" and 32 hex digits (decision D4).
func isKeyID(s string) bool {
	if rest, ok := strings.CutPrefix(s, "mrk-"); ok {
		return len(rest) == 32 && isHex(rest)
	}
	if len(s) != 36 {
		return false
	}
	if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	return isHex(s[0:8]) && isHex(s[9:13]) && isHex(s[14:18]) && isHex(s[19:23]) && isHex(s[24:36])
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool { return hexDigits[c] }

var hexDigits = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

// arn is a parsed KMS ARN: arn:<partition>:kms:<region>:<account>:<resource>.
type arn struct {
	partition, region, account string
	// keyID is set for key ARNs, alias (with its "alias/" prefix) for
	// alias ARNs.
	keyID, alias string
}

// parseARN parses a KMS key or alias ARN. ok is false when s is not one
// (decision D4: such a string is an InvalidArnException).
func parseARN(s string) (a arn, ok bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kms" {
		return a, false
	}
	switch parts[1] {
	case "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc":
	default:
		return a, false
	}
	a.partition, a.region, a.account = parts[1], parts[3], parts[4]
	if !validRegion(a.region) || !ValidAccountID(a.account) {
		return a, false
	}
	res := parts[5]
	switch {
	case strings.HasPrefix(res, "key/"):
		a.keyID = res[len("key/"):]
		return a, isKeyID(a.keyID) // D4: a key ARN must carry a key ID
	case strings.HasPrefix(res, "alias/"):
		a.alias = res
		return a, len(res) > len("alias/")
	}
	return a, false
}

func validRegion(r string) bool {
	if r == "" {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidAccountID reports whether a is an AWS account ID: twelve decimal
// digits.
func ValidAccountID(a string) bool {
	if len(a) != 12 {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] < '0' || a[i] > '9' {
			return false
		}
	}
	return true
}

// keyARN formats the ARN of key id in the service's partition and the
// Region of the call in progress.
func (s *Service) keyARN(account, id string) string {
	return s.keyARNIn(s.rg.name, account, id)
}

// keyARNIn formats the ARN of key id in a given Region.
func (s *Service) keyARNIn(region, account, id string) string {
	return "arn:" + s.cfg.partition + ":kms:" + region + ":" + account + ":key/" + id
}

// arnOf formats k's ARN, in k's own Region. A key CreateKey made for the
// service's account has its ARN in the ID arena already, k.arnLen bytes
// of it before the ID's: every call on a key names its ARN, and
// formatting it each time was an allocation a call.
func (s *Service) arnOf(k *key) string {
	if k.arnLen > 0 {
		return before(k.id, int(k.arnLen))
	}
	r := s.regions[k.region]
	if k.account != s.cfg.account {
		return s.keyARNIn(r.name, k.account, k.id)
	}
	return s.ownARNPrefix(r) + k.id
}

// ownARNPrefix returns the ARN of the service account's keys in Region r
// without the key ID.
func (s *Service) ownARNPrefix(r *region) string {
	if r.arnPrefix == "" {
		r.arnPrefix = s.keyARNIn(r.name, s.cfg.account, "")
	}
	return r.arnPrefix
}

// aliasARN formats the ARN of an alias name (with its "alias/" prefix) in
// the Region of the call in progress.
func (s *Service) aliasARN(account, name string) string {
	return "arn:" + s.cfg.partition + ":kms:" + s.rg.name + ":" + account + ":" + name
}
