package etcdstore

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/kmsmodel/kmsmodel/store"
)

// The key space under Options.Prefix (P):
//
//	P k/<key ID>                                   key record (keyRecord)
//	P r/<seg key ID><8-byte big-endian index>       one rotation
//	P a/<seg Region><seg account><seg name>         alias
//	P x/<seg key ID><seg Region><seg account><seg name>   index: the key's aliases (empty value)
//	P g/<seg key ID><seg grant ID>                  grant
//	P c/<custom key store ID>                       custom key store
//	P m/format                                      format and wrapping-key check
//	P m/secret                                      root secret, sealed
//	P m/now                                         latest instant
//	P m/profile                                     rule profile
//	P m/revision                                    written by every commit (empty)
//
// The store ignores every other key under P: kmssim serve keeps the
// cluster's log of IAM, Organizations and VPC endpoint changes under
// P kmssim/model/, the keys' last uses (GetKeyLastUsage) under
// P kmssim/usage/, and a digest of the flags every node must share at
// P kmssim/flags.
//
// seg escapes a component so that concatenations sort as the tuples do and
// no encoded component is a prefix of another: every 0x00 byte becomes
// 0x00 0xff, and the component ends with 0x00 0x01.
const (
	nsKey     = "k/"
	nsRot     = "r/"
	nsAlias   = "a/"
	nsIndex   = "x/"
	nsGrant   = "g/"
	nsStore   = "c/"
	keyFormat = "m/format"
	keySecret = "m/secret"
	keyNow    = "m/now"
	keyRules  = "m/profile"
	keyRev    = "m/revision" // written by every commit: its ModRevision is the store's revision
)

func appendSeg(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, 0, 0xff)
		} else {
			b = append(b, s[i])
		}
	}
	return append(b, 0, 1)
}

// cutSeg decodes the first component of p and returns the rest.
func cutSeg(p string) (seg, rest string, ok bool) {
	var b strings.Builder
	for i := 0; i+1 < len(p); i++ {
		if p[i] != 0 {
			b.WriteByte(p[i])
			continue
		}
		switch p[i+1] {
		case 0xff:
			b.WriteByte(0)
			i++
		case 1:
			return b.String(), p[i+2:], true
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// layout builds the etcd keys of one store.
type layout struct{ prefix string }

func (l layout) key(id string) string { return l.prefix + nsKey + id }
func (l layout) keys() string         { return l.prefix + nsKey }

func (l layout) rotations(keyID string) string {
	return string(appendSeg([]byte(l.prefix+nsRot), keyID))
}
func (l layout) rotation(keyID string, i uint64) string {
	return string(binary.BigEndian.AppendUint64(appendSeg([]byte(l.prefix+nsRot), keyID), i))
}
func (l layout) allRotations() string { return l.prefix + nsRot }

// appendAliasID appends an alias ID's segments, as parseAliasID reads
// them.
func appendAliasID(b []byte, id store.AliasID) []byte {
	return appendSeg(appendSeg(appendSeg(b, id.Region), id.Account), id.Name)
}

func (l layout) alias(id store.AliasID) string {
	return string(appendAliasID([]byte(l.prefix+nsAlias), id))
}
func (l layout) aliases() string { return l.prefix + nsAlias }

func (l layout) indexOf(keyID string) string {
	return string(appendSeg([]byte(l.prefix+nsIndex), keyID))
}
func (l layout) index(keyID string, id store.AliasID) string {
	return string(appendAliasID(appendSeg([]byte(l.prefix+nsIndex), keyID), id))
}

func (l layout) grantsOf(keyID string) string {
	return string(appendSeg([]byte(l.prefix+nsGrant), keyID))
}
func (l layout) grant(id store.GrantID) string {
	return string(appendSeg(appendSeg([]byte(l.prefix+nsGrant), id.KeyID), id.GrantID))
}
func (l layout) grants() string { return l.prefix + nsGrant }

func (l layout) customKeyStore(id string) string { return l.prefix + nsStore + id }
func (l layout) customKeyStores() string         { return l.prefix + nsStore }

func (l layout) meta(name string) string { return l.prefix + name }

// parseAliasID decodes an alias's ID from what follows an alias key's
// namespace (or, for the index, the key ID's segment).
func parseAliasID(p string) (store.AliasID, error) {
	var id store.AliasID
	var ok1, ok2, ok3 bool
	id.Region, p, ok1 = cutSeg(p)
	id.Account, p, ok2 = cutSeg(p)
	id.Name, p, ok3 = cutSeg(p)
	if !ok1 || !ok2 || !ok3 || p != "" {
		return store.AliasID{}, fmt.Errorf("%w: bad alias key", errRecord)
	}
	return id, nil
}

func parseGrantID(p string) (store.GrantID, error) {
	var id store.GrantID
	var ok1, ok2 bool
	id.KeyID, p, ok1 = cutSeg(p)
	id.GrantID, p, ok2 = cutSeg(p)
	if !ok1 || !ok2 || p != "" {
		return store.GrantID{}, fmt.Errorf("%w: bad grant key", errRecord)
	}
	return id, nil
}

func parseRotationKey(p string) (keyID string, i uint64, err error) {
	keyID, rest, ok := cutSeg(p)
	if !ok || len(rest) != 8 {
		return "", 0, fmt.Errorf("%w: bad rotation key", errRecord)
	}
	return keyID, binary.BigEndian.Uint64([]byte(rest)), nil
}
