package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// Format 5 of the file. Every change to a bucket layout or a record
// encoding below needs a new formatVersion, and Open must keep reading the
// old one or refuse it with ErrCorrupt.
//
// Format 2 is format 1 with one addition: a key record may end with the
// imported-material section (below). A format 1 file is a format 2 file
// without that section, so Open reads it as it is and marks it format 2
// (in the meta bucket) before the first write: from then on a build that
// reads only format 1 refuses the file with "format version 2 is newer
// than this build reads (1)" rather than misreading a key.
//
// Format 3 is format 2 with two additions: the customkeystores bucket,
// and a key record may end with the custom-key-store section (below). Open
// reads a format 1 or 2 file as it is, creates its customkeystores bucket
// and marks it format 3 before the first write, as format 2 did for
// format 1.
//
// Format 4 is format 3 with Regions: a key record may end with the region
// section, a custom key store record with a Region, and alias keys begin
// with the alias's Region (format 3's alias keys hold only account and
// name). Open reads a format 1, 2 or 3 file, and before the first write,
// in one transaction with the upgrades above, rewrites its alias keys and
// the keyaliases entries that hold them (Region "": the default Region),
// re-seals its sealed meta records (below) for format 4, and marks it
// format 4. An alias record that fails its checksum is moved as it is, so
// that it still fails under its new key; an alias key that does not parse
// fails Open with ErrCorrupt.
//
// Format 5 is format 4 with one addition: a key record may end with the
// material section (below), which holds store.Key.Material, the sealed
// material the service generated for an asymmetric or HMAC key. A key
// without Material encodes exactly as in format 4, so Open reads a format
// 1 to 4 file as it is and, before the first write, in one transaction
// with the upgrades above, re-seals its sealed meta records for format 5
// and marks it format 5: from then on a build that reads only format 4
// refuses the file rather than reading a key record it cannot decode.
//
// Format 5 also has the public-key section (below), which holds
// store.Key.PublicKey, the public key of an EXTERNAL asymmetric key's
// imported material. It came after the material section but needs no
// format of its own: format 5 is not yet released (both sections were
// added in the same development cycle), so there is no released build
// that reads format 5 without knowing this section and would refuse it or
// misread it. A key without PublicKey encodes as it did before the
// section existed.
//
// Format 5 also has the policy section (below), which holds
// store.Key.Policy, the key policy document the key's owner set. It came
// after the public-key section, in the same unreleased development cycle,
// and needs no format of its own for the same reason. A key without
// Policy (one with AWS's default key policy) encodes as it did before the
// section existed.
//
// Format 5 also has the grants bucket (below), which holds store.Grant
// records. It came after the policy section, in the same unreleased
// development cycle, and needs no format of its own for the same reason.
// Open creates the bucket in a new file, and in a file of format 1 to 4
// in the upgrade transaction. A format 5 file written in this cycle
// before the bucket existed lacks it: Open creates it in such a file too,
// in the same transaction as any other upgrade (or in one of its own),
// before the first write. Such a file holds no grants, so it reads as
// one with none, and nothing else in it changes. A build of this cycle
// from before grants opens a file that has the bucket (it checks only
// the buckets it knows) and ignores it: if such a build deletes a key,
// that key's grants stay behind. Grants returns them as they are (their
// key no longer exists); no released build is affected, as format 5 is
// not released.
//
// Format 5 also has the materials section (below), which holds
// store.Key.KeyMaterialDescription and store.Key.Materials (a key's
// further imported materials under today's rules), and the meta record
// "profile", which holds the latest store.Batch.RuleProfile. Both came
// after the grants bucket, in the same unreleased development cycle, and
// need no format of their own for the same reason: a key without those
// fields encodes as it did before the section existed, and a file
// without the record reads as one that recorded no profile.
//
// Format 5 also has the grant's creation-number section (below), which
// holds store.Grant.Seq, in the same unreleased development cycle and
// for the same reason: a grant without Seq encodes as it did before the
// section existed, and one read from such a record has Seq 0.
//
// Format 5 also has the key's policy-binding section and the grant's
// binding section (below), which hold store.Key.PolicyBinding and
// store.Grant.Binding, in the same unreleased development cycle and for
// the same reason: a record without them encodes as it did before, and
// one read from such a record has 0.
//
// Buckets:
//
//	meta        "magic" → magic, "format" → uint32 big-endian formatVersion,
//	            and, when there are, "secret" → secret record,
//	            "keycheck" → key-check record, "now" → instant record,
//	            "profile" → profile record
//	keys        key ID → key record
//	rotations   uvarint(len(key ID)) ‖ key ID ‖ uint32 big-endian index → rotation record
//	aliases     aliasKey(Region, account, name) → alias record
//	keyaliases  uvarint(len(key ID)) ‖ key ID ‖ aliasKey(Region, account, name) → empty
//	customkeystores  custom key store ID → custom key store record (format 3)
//	grants      uvarint(len(key ID)) ‖ key ID ‖ grant ID → grant record (format 5)
//
// keyaliases indexes aliases by the key they name, so that deleting a key
// finds its aliases without scanning all of them. The grants of a key, like
// its rotations, are one prefix range, which deleting the key deletes.
// Byte order of the rotations, keyaliases and grants buckets is by the
// length of the key ID first (its uvarint), then the key ID: not key ID
// order, which Grants restores (see Store.Grants).
//
// Records are sequences of uvarints, strings (uvarint length, then the
// bytes), single bytes and times, followed by the CRC-32C (Castagnoli,
// big-endian) of the bolt key and the record before it: bbolt checksums only
// its meta pages, so without it a damaged record would be read back silently.
//
// A time is uvarint(0) for the zero time, or uvarint(nanosecond+1) followed
// by the zig-zag varint of its Unix seconds. Location and monotonic reading
// are not kept; times decode in UTC.
//
// A key record is: Version, Seq (uvarints); Account, Description (strings);
// State, then Kind's Spec, Usage, Origin, Manager and MultiRegion (one byte
// each, keystate's numeric values, checked by TestEnumCodesOfFormat1);
// Created; the tag count, then each tag's key and value (strings); a flag
// byte (bit 0: AutoRotation); RotationPeriodDays (uvarint); RotationAnchor;
// NextRotation; OnDemandRotations (uvarint); OnDemandStart; OnDemandDone;
// PendingWindowDays (one byte); DeletionDate; then, only when the key has
// any of store.Key's imported-material fields set, the imported-material
// section: the byte 1, KeyMaterialID (string), ExpirationModel (string),
// ValidTo, ImportedMaterial (a string of bytes: the material as the
// service sealed it, never in the clear); then, only when the key has
// CustomKeyStoreID, XksKeyID or DesiredState set, the custom-key-store
// section (format 3): the byte 2, CustomKeyStoreID, XksKeyID (strings),
// DesiredState (one byte); then, only when the key has Region,
// PrimaryRegion or StateDone set, the region section (format 4): the byte
// 3, Region, PrimaryRegion (strings), StateDone; then, only when the key
// has Material, the material section (format 5): the byte 4, Material (a
// string of bytes, never empty: sealed as ImportedMaterial is, never in
// the clear); then, only when the key has PublicKey, the public-key
// section (format 5): the byte 5, PublicKey (a string of bytes, never
// empty: DER, in the clear, as it is not secret); then, only when the key
// has Policy, the policy section (format 5): the byte 6, Policy (a
// string, never empty, as the owner set it: up to 131,072 characters,
// which may be a few hundred KB of UTF-8; no length limit but the
// record's); then, only when the key has KeyMaterialDescription or
// Materials, the materials section (format 5): the byte 7,
// KeyMaterialDescription (string), the count of Materials (uvarint), then
// for each its ID (string), Sealed (a string of bytes: sealed, never in
// the clear), ValidTo, Description (string) and a flag byte (bit 0:
// Pending, bit 1: Rotating).
//
// The profile record is RuleProfile (a string, never empty).
//
// A custom key store record is Seq (uvarint); Account, Name, Type,
// ConnectionState, ConnectionErrorCode (strings); Created, ConnectDone;
// CloudHsmClusterID, TrustAnchorCertificate, XksProxyURIEndpoint,
// XksProxyURIPath, XksProxyConnectivity, XksProxyVpcEndpointServiceName,
// XksProxyVpcEndpointServiceOwner, XksProxyAccessKeyID (strings); then,
// only when Region is set, the byte 1 and Region (string) (format 4). It
// holds no secret.
//
// A rotation record is a flag byte (bit 0: OnDemand), then At.
//
// A grant record is Name, GranteePrincipal, RetiringPrincipal,
// IssuingAccount (strings); Operations (a string list);
// EncryptionContextEquals, EncryptionContextSubset (string maps); Created;
// then, only when SourceArn is set, the byte 1 and SourceArn (string),
// and only when Seq is not 0, the byte 2 and Seq (uvarint) (format 5 too:
// see formatVersion).
// Its key ID and grant ID are its bolt key's (the grant ID is never
// empty). A string list is uvarint(0) for a nil list, or uvarint(n+1)
// followed by its n strings; a string map is uvarint(0) for a nil map, or
// uvarint(n+1) followed by its n entries, each key then value (strings),
// in strictly increasing byte order of key (a decoder refuses any other
// order, duplicates included). So a nil list or map and an empty one read
// back as they were written: a grant's constraints mean the same after a
// reopen (nil: no constraint; empty: a constraint on the empty context).
//
// The secret record holds the root secret (store.Batch.PutSecret). Its
// first byte is its encoding: 0, the secret in the clear follows; 1, it is
// sealed under the wrapping key (Options.WrappingKey) with AES-256-GCM, and
// a random 12-byte nonce, the ciphertext and the 16-byte tag follow. The
// key-check record, present once a store has been opened with a wrapping
// key, is encoding 1 with an empty plaintext: it tells a wrong key before
// the store has a secret. Sealed records authenticate, as additional data,
// magic ‖ uint32 big-endian format version ‖ the record's name (a string,
// as in records) ‖ the encoding byte 1, which binds them to a kmsmodel
// store of the file's format and to their place in it: a file of an older
// format has them sealed for that format, and the upgrade re-seals them.
// Both records end with a CRC-32C like every other, so that damage
// (ErrCorrupt) is told apart from a wrong key (ErrWrongWrappingKey). Files without these records are format
// 1 files all the same: builds that do not know them never read them.
//
// The instant record holds the latest store.Batch.Now applied (see
// LatestInstant): a time, never the zero time, then the CRC-32C of "now"
// and the time. Apply writes it in the transaction of the batch that
// carries a later Now than the record's. Like the secret and key-check
// records it needs no format version of its own: a file without it (one
// written before it existed, or never given a Now) reads as having the
// zero instant, and builds that do not know it never read it (Open checks
// only the meta records it needs, so an unknown one is no error). Such a
// build leaves the record as it is while it writes, so that the instant
// may then lag the file's last batch; it never runs backwards.
//
// An alias record is KeyID (string), Created, Updated. The alias key is the
// Region, then the account, each with every 0x00 byte written as 0x00 0xFF
// and followed by 0x00 0x01, then the name: byte order of alias keys is
// the order of (Region, account, name), since the terminator 0x00 0x01
// sorts before every byte that can follow a field's bytes (0x00 0xFF, or a
// byte other than 0x00). Format 3's alias key is the same without the
// Region and its terminator.
const formatVersion = 5

// oldestFormat is the oldest format version Open reads (and upgrades).
const oldestFormat = 1

var (
	bucketMeta       = []byte("meta")
	bucketKeys       = []byte("keys")
	bucketRotations  = []byte("rotations")
	bucketAliases    = []byte("aliases")
	bucketKeyAliases = []byte("keyaliases")
	bucketStores     = []byte("customkeystores") // format 3
	bucketGrants     = []byte("grants")          // format 5 (see formatVersion)

	metaMagic    = []byte("magic")
	metaFormat   = []byte("format")
	metaSecret   = []byte("secret")   // the root secret (Batch.PutSecret)
	metaKeyCheck = []byte("keycheck") // the wrapping key's check value
	metaNow      = []byte("now")      // the latest Batch.Now applied
	metaProfile  = []byte("profile")  // the latest Batch.RuleProfile applied
	magic        = []byte("kmsmodel store")
)

// The largest enum values format 1 knows (see TestEnumCodesOfFormat1).
const (
	maxState       = keystate.Deleted
	maxKeySpec     = keystate.SM2
	maxKeyUsage    = keystate.EncapsulateDecapsulate
	maxOrigin      = keystate.ExternalKeyStore
	maxKeyManager  = keystate.AWSManaged
	maxMultiRegion = keystate.Replica
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errRecord is the cause of every decoding failure; callers wrap it with
// the record's name and store.ErrCorrupt.
var errRecord = errors.New("malformed record")

// encoder appends a record to buf.
type encoder struct{ buf []byte }

func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) byte1(b byte)     { e.buf = append(e.buf, b) }

func (e *encoder) string(s string) {
	e.uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// bytes writes b as a string is written.
func (e *encoder) bytes(b []byte) {
	e.uvarint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(t.Nanosecond()) + 1)
	e.buf = binary.AppendVarint(e.buf, t.Unix())
}

// strings writes a string list: uvarint(0) for nil, else uvarint(n+1) and
// the n strings.
func (e *encoder) strings(list []string) {
	if list == nil {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(len(list)) + 1)
	for _, s := range list {
		e.string(s)
	}
}

// stringMap writes a string map: uvarint(0) for nil, else uvarint(n+1) and
// the n entries, key then value, in byte order of key.
func (e *encoder) stringMap(m map[string]string) {
	if m == nil {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(len(m)) + 1)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		e.string(k)
		e.string(m[k])
	}
}

// seal appends the checksum of key and the record so far.
func (e *encoder) seal(key []byte) []byte {
	c := crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, e.buf)
	e.buf = binary.BigEndian.AppendUint32(e.buf, c)
	return e.buf
}

// decoder reads a record. The first failure sticks in err; later reads
// return zero values.
type decoder struct {
	buf []byte
	err error
}

// open checks the record's checksum and returns a decoder over its body.
func open(key, rec []byte) decoder {
	if len(rec) < 4 {
		return decoder{err: errRecord}
	}
	body := rec[:len(rec)-4]
	c := crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, body)
	if c != binary.BigEndian.Uint32(rec[len(rec)-4:]) {
		return decoder{err: fmt.Errorf("%w: checksum mismatch", errRecord)}
	}
	return decoder{buf: body}
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errRecord
	}
	d.buf = nil
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) uvarintMax(limit uint64) uint64 {
	v := d.uvarint()
	if v > limit {
		d.fail()
		return 0
	}
	return v
}

func (d *decoder) byte1() byte {
	if d.err != nil {
		return 0
	}
	if len(d.buf) == 0 {
		d.fail()
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

func (d *decoder) byteMax(limit byte) byte {
	b := d.byte1()
	if b > limit {
		d.fail()
		return 0
	}
	return b
}

// string reads a string. Its only length limit is the record's: a key's
// Policy, up to 131,072 characters, may take a few hundred KB.
func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.buf)) {
		d.fail()
		return ""
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

// bytes reads a string's bytes into a slice of their own; nil when empty.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(d.buf)) {
		d.fail()
		return nil
	}
	b := bytes.Clone(d.buf[:n])
	d.buf = d.buf[n:]
	return b
}

// stringLike is string, returning like itself when the bytes are equal.
func (d *decoder) stringLike(like string) string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.buf)) {
		d.fail()
		return ""
	}
	s := like
	if string(d.buf[:n]) != like {
		s = string(d.buf[:n])
	}
	d.buf = d.buf[n:]
	return s
}

// strings reads a string list written by encoder.strings.
func (d *decoder) strings() []string {
	// Each string takes at least one byte, which bounds a corrupt count.
	n := d.uvarintMax(uint64(len(d.buf)) + 1)
	if d.err != nil || n == 0 {
		return nil
	}
	list := make([]string, n-1)
	for i := range list {
		list[i] = d.string()
	}
	if d.err != nil {
		return nil
	}
	return list
}

// stringMap reads a string map written by encoder.stringMap: keys out of
// order, or repeated, are a malformed record.
func (d *decoder) stringMap() map[string]string {
	// Each entry takes at least two bytes, which bounds a corrupt count.
	n := d.uvarintMax(uint64(len(d.buf)/2) + 1)
	if d.err != nil || n == 0 {
		return nil
	}
	m := make(map[string]string, n-1)
	prev := ""
	for i := range n - 1 {
		k, v := d.string(), d.string()
		if d.err != nil {
			return nil
		}
		if i > 0 && k <= prev {
			d.fail()
			return nil
		}
		m[k], prev = v, k
	}
	return m
}

func (d *decoder) time() time.Time {
	tag := d.uvarint()
	if d.err != nil || tag == 0 {
		return time.Time{}
	}
	if tag > 1e9 {
		d.fail()
		return time.Time{}
	}
	sec := d.varint()
	if d.err != nil {
		return time.Time{}
	}
	return time.Unix(sec, int64(tag-1)).UTC()
}

// end reports the decoding error, if any; bytes left over are one.
func (d *decoder) end() error {
	if d.err == nil && len(d.buf) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", errRecord, len(d.buf))
	}
	return d.err
}

// sectionImported tags the imported-material section of a key record
// (format 2).
const sectionImported = 1

// sectionCustomKeyStore tags the custom-key-store section of a key record
// (format 3).
const sectionCustomKeyStore = 2

// sectionRegion tags the region section of a key record (format 4).
const sectionRegion = 3

// sectionMaterial tags the material section of a key record (format 5).
const sectionMaterial = 4

// sectionPublicKey tags the public-key section of a key record (format 5
// too: see formatVersion).
const sectionPublicKey = 5

// sectionPolicy tags the policy section of a key record (format 5 too:
// see formatVersion).
const sectionPolicy = 6

// sectionMaterials tags the materials section of a key record (format 5
// too: see formatVersion).
const sectionMaterials = 7

// sectionPolicyBinding tags the policy-binding section of a key record
// (format 5 too: see formatVersion).
const sectionPolicyBinding = 8

// storeSectionRegion tags the Region of a custom key store record (format
// 4).
const storeSectionRegion = 1

func encodeKey(k *store.Key) []byte {
	e := encoder{buf: make([]byte, 0, 96+len(k.Account)+len(k.Description)+16*len(k.Tags)+
		len(k.KeyMaterialID)+len(k.ExpirationModel)+len(k.ImportedMaterial)+len(k.Region)+len(k.PrimaryRegion)+len(k.Material)+len(k.PublicKey)+len(k.Policy))}
	e.uvarint(k.Version)
	e.uvarint(k.Seq)
	e.string(k.Account)
	e.string(k.Description)
	e.byte1(byte(k.State))
	e.byte1(byte(k.Kind.Spec))
	e.byte1(byte(k.Kind.Usage))
	e.byte1(byte(k.Kind.Origin))
	e.byte1(byte(k.Kind.Manager))
	e.byte1(byte(k.Kind.MultiRegion))
	e.time(k.Created)
	e.uvarint(uint64(len(k.Tags)))
	for _, t := range k.Tags {
		e.string(t.Key)
		e.string(t.Value)
	}
	var flags byte
	if k.AutoRotation {
		flags |= 1
	}
	e.byte1(flags)
	e.uvarint(uint64(k.RotationPeriodDays))
	e.time(k.RotationAnchor)
	e.time(k.NextRotation)
	e.uvarint(uint64(k.OnDemandRotations))
	e.time(k.OnDemandStart)
	e.time(k.OnDemandDone)
	e.byte1(k.PendingWindowDays)
	e.time(k.DeletionDate)
	if len(k.ImportedMaterial) > 0 || k.KeyMaterialID != "" || k.ExpirationModel != "" || !k.ValidTo.IsZero() {
		e.byte1(sectionImported)
		e.string(k.KeyMaterialID)
		e.string(k.ExpirationModel)
		e.time(k.ValidTo)
		e.bytes(k.ImportedMaterial)
	}
	if k.CustomKeyStoreID != "" || k.XksKeyID != "" || k.DesiredState != keystate.None {
		e.byte1(sectionCustomKeyStore)
		e.string(k.CustomKeyStoreID)
		e.string(k.XksKeyID)
		e.byte1(byte(k.DesiredState))
	}
	if k.Region != "" || k.PrimaryRegion != "" || !k.StateDone.IsZero() {
		e.byte1(sectionRegion)
		e.string(k.Region)
		e.string(k.PrimaryRegion)
		e.time(k.StateDone)
	}
	if len(k.Material) > 0 {
		e.byte1(sectionMaterial)
		e.bytes(k.Material)
	}
	if len(k.PublicKey) > 0 {
		e.byte1(sectionPublicKey)
		e.bytes(k.PublicKey)
	}
	if k.Policy != "" {
		e.byte1(sectionPolicy)
		e.string(k.Policy)
	}
	if k.KeyMaterialDescription != "" || len(k.Materials) > 0 {
		e.byte1(sectionMaterials)
		e.string(k.KeyMaterialDescription)
		e.uvarint(uint64(len(k.Materials)))
		for i := range k.Materials {
			m := &k.Materials[i]
			e.string(m.ID)
			e.bytes(m.Sealed)
			e.time(m.ValidTo)
			e.string(m.Description)
			var f byte
			if m.Pending {
				f |= 1
			}
			if m.Rotating {
				f |= 2
			}
			e.byte1(f)
		}
	}
	if k.PolicyBinding != 0 {
		e.byte1(sectionPolicyBinding)
		e.uvarint(k.PolicyBinding)
	}
	return e.seal([]byte(k.ID))
}

// decodeKey decodes a key record. If its account, Region or PrimaryRegion
// is like's, the key shares that string rather than allocating its own.
func decodeKey(id, rec []byte, like *store.Key) (store.Key, error) {
	d := open(id, rec)
	k := store.Key{ID: string(id)}
	k.Version = d.uvarint()
	k.Seq = d.uvarint()
	k.Account = d.stringLike(like.Account)
	k.Description = d.string()
	k.State = keystate.State(d.byteMax(byte(maxState)))
	k.Kind.Spec = keystate.KeySpec(d.byteMax(byte(maxKeySpec)))
	k.Kind.Usage = keystate.KeyUsage(d.byteMax(byte(maxKeyUsage)))
	k.Kind.Origin = keystate.Origin(d.byteMax(byte(maxOrigin)))
	k.Kind.Manager = keystate.KeyManager(d.byteMax(byte(maxKeyManager)))
	k.Kind.MultiRegion = keystate.MultiRegionRole(d.byteMax(byte(maxMultiRegion)))
	k.Created = d.time()
	// Each tag takes at least two bytes, which bounds a corrupt count.
	if n := d.uvarintMax(uint64(len(d.buf) / 2)); n > 0 {
		k.Tags = make([]store.Tag, n)
		for i := range k.Tags {
			k.Tags[i].Key = d.string()
			k.Tags[i].Value = d.string()
		}
	}
	flags := d.byteMax(1)
	k.AutoRotation = flags&1 != 0
	k.RotationPeriodDays = uint16(d.uvarintMax(math.MaxUint16))
	k.RotationAnchor = d.time()
	k.NextRotation = d.time()
	k.OnDemandRotations = uint16(d.uvarintMax(math.MaxUint16))
	k.OnDemandStart = d.time()
	k.OnDemandDone = d.time()
	k.PendingWindowDays = d.byte1()
	k.DeletionDate = d.time()
	next := byte(sectionImported) // sections come in order, each at most once
	for d.err == nil && len(d.buf) > 0 {
		sec := d.byte1()
		switch {
		case sec == sectionImported && next <= sectionImported: // format 2
			k.KeyMaterialID = d.string()
			k.ExpirationModel = d.string()
			k.ValidTo = d.time()
			k.ImportedMaterial = d.bytes()
		case sec == sectionCustomKeyStore && next <= sectionCustomKeyStore: // format 3
			k.CustomKeyStoreID = d.string()
			k.XksKeyID = d.string()
			k.DesiredState = keystate.State(d.byteMax(byte(maxState)))
		case sec == sectionRegion && next <= sectionRegion: // format 4
			k.Region = d.stringLike(like.Region)
			k.PrimaryRegion = d.stringLike(like.PrimaryRegion)
			k.StateDone = d.time()
		case sec == sectionMaterial && next <= sectionMaterial: // format 5
			// The encoder writes the section only for material it has.
			if k.Material = d.bytes(); k.Material == nil {
				d.fail()
			}
		case sec == sectionPublicKey && next <= sectionPublicKey: // format 5
			// As for Material: written only for a public key the key has.
			if k.PublicKey = d.bytes(); k.PublicKey == nil {
				d.fail()
			}
		case sec == sectionPolicy && next <= sectionPolicy: // format 5
			// As for Material: written only for a policy the key has (an
			// empty Policy is AWS's default, which is not stored).
			if k.Policy = d.string(); k.Policy == "" {
				d.fail()
			}
		case sec == sectionMaterials && next <= sectionMaterials: // format 5
			k.KeyMaterialDescription = d.string()
			// Each material takes at least five bytes, which bounds a
			// corrupt count.
			if n := d.uvarintMax(uint64(len(d.buf) / 5)); n > 0 {
				k.Materials = make([]store.KeyMaterial, n)
				for i := range k.Materials {
					m := &k.Materials[i]
					m.ID = d.string()
					m.Sealed = d.bytes()
					m.ValidTo = d.time()
					m.Description = d.string()
					f := d.byteMax(3)
					m.Pending, m.Rotating = f&1 != 0, f&2 != 0
				}
			}
		case sec == sectionPolicyBinding && next <= sectionPolicyBinding: // format 5
			// Written only when not 0.
			if k.PolicyBinding = d.uvarint(); k.PolicyBinding == 0 {
				d.fail()
			}
		default:
			d.fail()
		}
		next = sec + 1
	}
	if err := d.end(); err != nil {
		return store.Key{}, err
	}
	return k, nil
}

// decodeKeyVersion returns the Version of a key record without decoding
// the rest (the checksum is still checked).
func decodeKeyVersion(id, rec []byte) (uint64, error) {
	d := open(id, rec)
	v := d.uvarint()
	return v, d.err
}

func encodeStore(c *store.CustomKeyStore) []byte {
	e := encoder{buf: make([]byte, 0, 128+len(c.TrustAnchorCertificate)+len(c.Region))}
	e.uvarint(c.Seq)
	for _, v := range []string{c.Account, c.Name, c.Type, c.ConnectionState, c.ConnectionErrorCode} {
		e.string(v)
	}
	e.time(c.Created)
	e.time(c.ConnectDone)
	for _, v := range []string{c.CloudHsmClusterID, c.TrustAnchorCertificate, c.XksProxyURIEndpoint,
		c.XksProxyURIPath, c.XksProxyConnectivity, c.XksProxyVpcEndpointServiceName,
		c.XksProxyVpcEndpointServiceOwner, c.XksProxyAccessKeyID} {
		e.string(v)
	}
	if c.Region != "" {
		e.byte1(storeSectionRegion)
		e.string(c.Region)
	}
	return e.seal([]byte(c.ID))
}

func decodeStore(id, rec []byte) (store.CustomKeyStore, error) {
	d := open(id, rec)
	c := store.CustomKeyStore{ID: string(id)}
	c.Seq = d.uvarint()
	for _, p := range []*string{&c.Account, &c.Name, &c.Type, &c.ConnectionState, &c.ConnectionErrorCode} {
		*p = d.string()
	}
	c.Created = d.time()
	c.ConnectDone = d.time()
	for _, p := range []*string{&c.CloudHsmClusterID, &c.TrustAnchorCertificate, &c.XksProxyURIEndpoint,
		&c.XksProxyURIPath, &c.XksProxyConnectivity, &c.XksProxyVpcEndpointServiceName,
		&c.XksProxyVpcEndpointServiceOwner, &c.XksProxyAccessKeyID} {
		*p = d.string()
	}
	if d.err == nil && len(d.buf) > 0 { // format 4
		if d.byte1() != storeSectionRegion {
			d.fail()
		}
		c.Region = d.string()
	}
	if err := d.end(); err != nil {
		return store.CustomKeyStore{}, err
	}
	return c, nil
}

func encodeRotation(key []byte, r store.Rotation) []byte {
	e := encoder{buf: make([]byte, 0, 20)}
	var flags byte
	if r.OnDemand {
		flags |= 1
	}
	e.byte1(flags)
	e.time(r.At)
	return e.seal(key)
}

func decodeRotation(key, rec []byte) (store.Rotation, error) {
	d := open(key, rec)
	var r store.Rotation
	r.OnDemand = d.byteMax(1) == 1
	r.At = d.time()
	if err := d.end(); err != nil {
		return store.Rotation{}, err
	}
	return r, nil
}

func encodeAlias(key []byte, a *store.Alias) []byte {
	e := encoder{buf: make([]byte, 0, 32+len(a.KeyID))}
	e.string(a.KeyID)
	e.time(a.Created)
	e.time(a.Updated)
	return e.seal(key)
}

// decodeAlias decodes an alias record. If its Region or account is like's,
// the alias shares that string rather than allocating its own.
func decodeAlias(key, rec []byte, like store.AliasID) (store.Alias, error) {
	id, ok := parseAliasKey(key, like)
	if !ok {
		return store.Alias{}, fmt.Errorf("%w: bad alias key", errRecord)
	}
	a, err := decodeAliasRecord(key, rec)
	if err != nil {
		return store.Alias{}, err
	}
	a.AliasID = id
	return a, nil
}

// decodeAliasRecord decodes the record of the alias whose bolt key is key,
// leaving its AliasID empty.
func decodeAliasRecord(key, rec []byte) (store.Alias, error) {
	d := open(key, rec)
	var a store.Alias
	a.KeyID = d.string()
	a.Created = d.time()
	a.Updated = d.time()
	if err := d.end(); err != nil {
		return store.Alias{}, err
	}
	return a, nil
}

// grantKey is the bolt key of a grant: keyPrefix(keyID) ‖ grantID.
func grantKey(keyID, grantID string) []byte {
	return append(keyPrefix(keyID, len(grantID)), grantID...)
}

// parseGrantKey splits the bolt key of a grant into its key ID and its
// grant ID, which is not empty; ok is false if k is no such key.
func parseGrantKey(k []byte) (keyID, grantID []byte, ok bool) {
	n, w := binary.Uvarint(k)
	if w <= 0 || uint64(len(k)-w) <= n {
		return nil, nil, false
	}
	return k[w : w+int(n)], k[w+int(n):], true
}

func encodeGrant(key []byte, g *store.Grant) []byte {
	size := 32 + len(g.Name) + len(g.GranteePrincipal) + len(g.RetiringPrincipal) + len(g.IssuingAccount) + len(g.SourceArn)
	for _, op := range g.Operations {
		size += 1 + len(op)
	}
	for _, m := range []map[string]string{g.EncryptionContextEquals, g.EncryptionContextSubset} {
		for k, v := range m {
			size += 2 + len(k) + len(v)
		}
	}
	e := encoder{buf: make([]byte, 0, size)}
	e.string(g.Name)
	e.string(g.GranteePrincipal)
	e.string(g.RetiringPrincipal)
	e.string(g.IssuingAccount)
	e.strings(g.Operations)
	e.stringMap(g.EncryptionContextEquals)
	e.stringMap(g.EncryptionContextSubset)
	e.time(g.Created)
	if g.SourceArn != "" {
		e.byte1(grantSectionSourceArn)
		e.string(g.SourceArn)
	}
	if g.Seq != 0 {
		e.byte1(grantSectionSeq)
		e.uvarint(g.Seq)
	}
	if g.Binding != 0 {
		e.byte1(grantSectionBinding)
		e.uvarint(g.Binding)
	}
	return e.seal(key)
}

// grantSectionSourceArn tags the SourceArn of a grant record, and
// grantSectionSeq its creation number (format 5 too: see formatVersion).
const (
	grantSectionSourceArn = 1
	grantSectionSeq       = 2
	grantSectionBinding   = 3 // store.Grant.Binding (format 5 too)
)

// decodeGrant decodes the grant record rec under bolt key key. If its
// principals or account are like's, the grant shares those strings rather
// than allocating its own.
func decodeGrant(key, rec []byte, like *store.Grant) (store.Grant, error) {
	keyID, grantID, ok := parseGrantKey(key)
	if !ok {
		return store.Grant{}, fmt.Errorf("%w: bad grant key", errRecord)
	}
	d := open(key, rec)
	g := store.Grant{KeyID: string(keyID), GrantID: string(grantID)}
	g.Name = d.string()
	g.GranteePrincipal = d.stringLike(like.GranteePrincipal)
	g.RetiringPrincipal = d.stringLike(like.RetiringPrincipal)
	g.IssuingAccount = d.stringLike(like.IssuingAccount)
	g.Operations = d.strings()
	g.EncryptionContextEquals = d.stringMap()
	g.EncryptionContextSubset = d.stringMap()
	g.Created = d.time()
	// The sections, each at most once, in increasing tag order.
	last := byte(0)
	for d.err == nil && len(d.buf) > 0 {
		tag := d.byte1()
		if tag <= last {
			d.fail()
			break
		}
		last = tag
		switch tag {
		case grantSectionSourceArn:
			if g.SourceArn = d.string(); g.SourceArn == "" {
				d.fail()
			}
		case grantSectionSeq:
			if g.Seq = d.uvarint(); g.Seq == 0 {
				d.fail()
			}
		case grantSectionBinding:
			if g.Binding = d.uvarint(); g.Binding == 0 {
				d.fail()
			}
		default:
			d.fail()
		}
	}
	if err := d.end(); err != nil {
		return store.Grant{}, err
	}
	return g, nil
}

// encodeNow returns the instant record of t, which is not the zero time.
func encodeNow(t time.Time) []byte {
	e := encoder{buf: make([]byte, 0, 1+2*binary.MaxVarintLen64+4)}
	e.time(t)
	return e.seal(metaNow)
}

// decodeNow decodes the instant record.
func decodeNow(rec []byte) (time.Time, error) {
	d := open(metaNow, rec)
	t := d.time()
	if d.err == nil && t.IsZero() {
		d.err = fmt.Errorf("%w: the zero time", errRecord)
	}
	if err := d.end(); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

// encodeProfile encodes the profile record.
func encodeProfile(p string) []byte {
	e := encoder{buf: make([]byte, 0, 1+len(p)+4)}
	e.string(p)
	return e.seal(metaProfile)
}

// decodeProfile decodes the profile record.
func decodeProfile(rec []byte) (string, error) {
	d := open(metaProfile, rec)
	p := d.string()
	if d.err == nil && p == "" {
		d.err = fmt.Errorf("%w: an empty profile", errRecord)
	}
	if err := d.end(); err != nil {
		return "", err
	}
	return p, nil
}

// decodeAliasKeyID returns the KeyID of an alias record.
func decodeAliasKeyID(key, rec []byte) (string, error) {
	d := open(key, rec)
	id := d.string()
	return id, d.err
}

// keyPrefix is uvarint(len(id)) ‖ id: the prefix of a key's entries in the
// rotations, keyaliases and grants buckets. The length makes prefixes of different
// IDs disjoint, so each key's entries are contiguous.
func keyPrefix(id string, extra int) []byte {
	p := make([]byte, 0, binary.MaxVarintLen64+len(id)+extra)
	p = binary.AppendUvarint(p, uint64(len(id)))
	return append(p, id...)
}

func rotationKey(prefix []byte, index uint32) []byte {
	return binary.BigEndian.AppendUint32(prefix[:len(prefix):len(prefix)], index)
}

// aliasKey encodes an alias ID so that byte order is (Region, account,
// name) order.
func aliasKey(id store.AliasID) []byte {
	k := make([]byte, 0, len(id.Region)+2+len(id.Account)+2+len(id.Name)+4)
	k = appendField(k, id.Region)
	k = appendField(k, id.Account)
	return append(k, id.Name...)
}

// appendField appends s with each 0x00 byte written as 0x00 0xFF, then the
// terminator 0x00 0x01.
func appendField(k []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 {
			k = append(k, 0, 0xFF)
		} else {
			k = append(k, c)
		}
	}
	return append(k, 0, 1)
}

// cutField reads a field written by appendField from the start of k and
// returns it (like itself when the bytes are equal) and the bytes after
// its terminator; ok is false if k does not start with a well-formed
// field.
func cutField(k []byte, like string) (field string, rest []byte, ok bool) {
	i := bytes.IndexByte(k, 0)
	if i < 0 || i+1 >= len(k) {
		return "", nil, false
	}
	if k[i+1] == 1 { // no 0x00 in the field: nothing to unescape
		field = like
		if string(k[:i]) != like {
			field = string(k[:i])
		}
		return field, k[i+2:], true
	}
	var b []byte
	for i := 0; i < len(k); i++ {
		if k[i] != 0 {
			b = append(b, k[i])
			continue
		}
		if i+1 >= len(k) {
			return "", nil, false
		}
		switch k[i+1] {
		case 0xFF:
			b = append(b, 0)
			i++
		case 1:
			return string(b), k[i+2:], true
		default:
			return "", nil, false
		}
	}
	return "", nil, false
}

// parseAliasKey decodes an alias key. The ID shares like's Region and
// account strings when its own are equal.
func parseAliasKey(k []byte, like store.AliasID) (store.AliasID, bool) {
	region, rest, ok := cutField(k, like.Region)
	if !ok {
		return store.AliasID{}, false
	}
	account, rest, ok := cutField(rest, like.Account)
	if !ok {
		return store.AliasID{}, false
	}
	return store.AliasID{Region: region, Account: account, Name: string(rest)}, true
}

// parseAliasKey3 decodes an alias key of formats 1 to 3, which hold no
// Region: the ID's Region is "", the default Region.
func parseAliasKey3(k []byte) (store.AliasID, bool) {
	account, rest, ok := cutField(k, "")
	if !ok {
		return store.AliasID{}, false
	}
	return store.AliasID{Account: account, Name: string(rest)}, true
}

// hasPrefixLen reports whether k is prefix followed by exactly n bytes.
func hasPrefixLen(k, prefix []byte, n int) bool {
	return len(k) == len(prefix)+n && bytes.HasPrefix(k, prefix)
}
