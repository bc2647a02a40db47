package kms

import (
	"encoding/hex"
	"io"
	"strings"
	"unsafe"
)

// newKeyID reads 16 random bytes and formats them as a version-4 UUID, or
// as "mrk-" and 32 hex digits for a multi-Region key. The ID's bytes come
// from ids, and so does the buffer the random bytes are read into (a local
// one, handed to an io.Reader, would be allocated on the heap each time).
func newKeyID(r io.Reader, multiRegion bool, ids *idArena) (string, error) {
	b := &ids.random
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	if multiRegion {
		var s [36]byte
		copy(s[:], "mrk-")
		hex.Encode(s[4:], b[:])
		return ids.string(s[:]), nil
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
	return ids.string(s[:]), nil
}

// idArena holds the bytes of the key IDs a service makes, many to a block:
// one allocation per 1,800 keys instead of one per key, 36 bytes an ID
// instead of 48, and one object for the collector to mark instead of
// thousands. Bytes given out are never written again, which is what
// unsafe.String asks; a block lives as long as any of its IDs.
type idArena struct {
	buf    []byte
	random [16]byte // newKeyID's buffer
}

// idBlock is the size of one block of an idArena.
const idBlock = 64 << 10

// string returns a string of b's bytes, copied into the arena.
func (a *idArena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(a.buf)+len(b) > cap(a.buf) {
		a.buf = make([]byte, 0, max(idBlock, len(b)))
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[start], len(b))
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

// keyARN formats the ARN of key id in the Region of the call in progress
// (and its partition).
func (s *Service) keyARN(account, id string) string {
	return s.rg.keyARN(account, id)
}

// keyARNIn formats the ARN of key id in the Region called region, which
// the service need not serve.
func (s *Service) keyARNIn(region, account, id string) string {
	return keyARN(PartitionOf(region), region, account, id)
}

// keyARN formats the ARN of key id in r.
func (r *region) keyARN(account, id string) string { return keyARN(r.partition, r.name, account, id) }

// keyARN formats the ARN of key id.
func keyARN(partition, region, account, id string) string {
	return "arn:" + partition + ":kms:" + region + ":" + account + ":key/" + id
}

// arnOf formats k's ARN, in k's own Region.
func (s *Service) arnOf(k *key) string {
	r := s.regions[k.region]
	if k.account != s.cfg.account {
		return r.keyARN(k.account, k.id)
	}
	if r.arnPrefix == "" {
		r.arnPrefix = r.keyARN(k.account, "")
	}
	return r.arnPrefix + k.id
}

// aliasARN formats the ARN of an alias name (with its "alias/" prefix) in
// the Region of the call in progress.
func (s *Service) aliasARN(account, name string) string {
	return "arn:" + s.rg.partition + ":kms:" + s.rg.name + ":" + account + ":" + name
}
