package etcdstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// The record encoding: a version byte, then the fields in declaration
// order. Integers are uvarints; strings and byte slices a uvarint length
// and the bytes, slices and maps a uvarint count plus one (0 for nil, so
// that nil and empty stay apart); times a length byte and
// time.Time.AppendBinary (instant, nanoseconds and zone offset).
const recordVersion = 1

// errRecord is wrapped by decoding errors; callers add the record's name
// and store.ErrCorrupt.
var errRecord = errors.New("malformed record")

type encoder struct{ b []byte }

// newEncoder returns an encoder of a record of about size bytes, with the
// version byte written.
func newEncoder(size int) encoder { return encoder{b: append(make([]byte, 0, size), recordVersion)} }

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}
func (e *encoder) string(s string) { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bytes(p []byte) {
	e.count(len(p), p == nil)
	e.b = append(e.b, p...)
}

// count writes the length of a byte slice, slice or map plus one, or 0
// for a nil one (decoder.count).
func (e *encoder) count(n int, isNil bool) {
	if isNil {
		e.uint(0)
		return
	}
	e.uint(uint64(n) + 1)
}
func (e *encoder) time(t time.Time) {
	n := len(e.b)
	e.b = append(e.b, 0)
	var err error
	if e.b, err = t.AppendBinary(e.b); err != nil {
		// Only a zone offset that is not whole seconds fails, which
		// time.FixedZone cannot make; keep the instant in UTC then.
		e.b, _ = t.UTC().AppendBinary(e.b[:n+1])
	}
	e.b[n] = byte(len(e.b) - n - 1)
}
func (e *encoder) strings(ss []string) {
	e.count(len(ss), ss == nil)
	for _, s := range ss {
		e.string(s)
	}
}
func (e *encoder) stringMap(m map[string]string) {
	e.count(len(m), m == nil)
	for _, k := range slices.Sorted(maps.Keys(m)) { // the same map, the same bytes
		e.string(k)
		e.string(m[k])
	}
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errRecord, what)
	}
	d.b = nil
}
func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad integer")
		return 0
	}
	d.b = d.b[n:]
	return v
}
func (d *decoder) small(max uint64) uint64 {
	v := d.uint()
	if v > max {
		d.fail("integer out of range")
		return 0
	}
	return v
}
func (d *decoder) bool() bool {
	if len(d.b) == 0 || d.b[0] > 1 {
		d.fail("bad flag")
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}
func (d *decoder) take(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.fail("truncated")
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}
func (d *decoder) string() string { return string(d.take(d.uint())) }
func (d *decoder) bytes() []byte {
	n := d.uint()
	if n == 0 || d.err != nil {
		return nil
	}
	return append([]byte{}, d.take(n-1)...)
}
func (d *decoder) count() (int, bool) {
	n := d.uint()
	if n == 0 || d.err != nil {
		return 0, false
	}
	if n-1 > uint64(len(d.b)) { // every element takes a byte at least
		d.fail("count past the end")
		return 0, false
	}
	return int(n - 1), true
}
func (d *decoder) time() time.Time {
	if len(d.b) == 0 {
		d.fail("truncated time")
		return time.Time{}
	}
	p := d.take(uint64(d.b[0]) + 1)
	var t time.Time
	if d.err == nil {
		if err := t.UnmarshalBinary(p[1:]); err != nil {
			d.fail("bad time")
		}
	}
	return t
}
func (d *decoder) strings() []string {
	n, ok := d.count()
	if !ok {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.string()
	}
	return ss
}
func (d *decoder) stringMap() map[string]string {
	n, ok := d.count()
	if !ok {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := d.string()
		m[k] = d.string()
	}
	return m
}

// newDecoder returns a decoder of record p, past its version byte.
func newDecoder(p []byte) decoder {
	d := decoder{b: p}
	if len(p) == 0 || p[0] != recordVersion {
		d.fail("unknown record version")
		return d
	}
	d.b = p[1:]
	return d
}

// more reports whether an optional field follows: a field written only
// when set, or when a later one is.
func (d *decoder) more() bool { return d.err == nil && len(d.b) > 0 }

func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}

// keyRecord is what the store keeps under a key's etcd key: the record,
// with the length of its rotation history (so that appending a rotation
// writes, and compares, the key's own etcd key) and whether the commit
// that wrote it put the record (false: it only added rotations) or
// deleted and created it again.
type keyRecord struct {
	key       store.Key
	rotations uint64
	put       bool
	recreated bool
}

func encodeKey(r *keyRecord) []byte {
	k := &r.key
	e := newEncoder(256 + len(k.Policy) + len(k.Material) + len(k.ImportedMaterial))
	e.uint(r.rotations)
	e.bool(r.put)
	e.bool(r.recreated)
	e.string(k.ID)
	e.string(k.Region)
	e.uint(k.Version)
	e.uint(k.Seq)
	e.string(k.Account)
	e.string(k.Description)
	e.uint(uint64(k.State))
	e.uint(uint64(k.Kind.Spec))
	e.uint(uint64(k.Kind.Usage))
	e.uint(uint64(k.Kind.Origin))
	e.uint(uint64(k.Kind.Manager))
	e.uint(uint64(k.Kind.MultiRegion))
	e.time(k.Created)
	e.count(len(k.Tags), k.Tags == nil)
	for _, t := range k.Tags {
		e.string(t.Key)
		e.string(t.Value)
	}
	e.bool(k.AutoRotation)
	e.uint(uint64(k.RotationPeriodDays))
	e.time(k.RotationAnchor)
	e.time(k.NextRotation)
	e.uint(uint64(k.OnDemandRotations))
	e.time(k.OnDemandStart)
	e.time(k.OnDemandDone)
	e.uint(uint64(k.PendingWindowDays))
	e.time(k.DeletionDate)
	e.bytes(k.ImportedMaterial)
	e.string(k.KeyMaterialID)
	e.string(k.ExpirationModel)
	e.time(k.ValidTo)
	e.string(k.KeyMaterialDescription)
	e.count(len(k.Materials), k.Materials == nil)
	for _, m := range k.Materials {
		e.string(m.ID)
		e.bytes(m.Sealed)
		e.time(m.ValidTo)
		e.string(m.Description)
		e.bool(m.Pending)
		e.bool(m.Rotating)
	}
	e.bytes(k.Material)
	e.string(k.Policy)
	e.bytes(k.PublicKey)
	e.string(k.CustomKeyStoreID)
	e.string(k.XksKeyID)
	e.uint(uint64(k.DesiredState))
	e.string(k.PrimaryRegion)
	e.time(k.StateDone)
	if k.PolicyBinding != 0 {
		// Only when set, so that a record written before PolicyBinding
		// existed reads back.
		e.uint(k.PolicyBinding)
	}
	return e.b
}

func decodeKey(p []byte) (keyRecord, error) {
	d := newDecoder(p)
	var r keyRecord
	k := &r.key
	r.rotations = d.uint()
	r.put = d.bool()
	r.recreated = d.bool()
	k.ID = d.string()
	k.Region = d.string()
	k.Version = d.uint()
	k.Seq = d.uint()
	k.Account = d.string()
	k.Description = d.string()
	k.State = keystate.State(d.small(255))
	k.Kind.Spec = keystate.KeySpec(d.small(255))
	k.Kind.Usage = keystate.KeyUsage(d.small(255))
	k.Kind.Origin = keystate.Origin(d.small(255))
	k.Kind.Manager = keystate.KeyManager(d.small(255))
	k.Kind.MultiRegion = keystate.MultiRegionRole(d.small(255))
	k.Created = d.time()
	if n, ok := d.count(); ok {
		k.Tags = make([]store.Tag, n)
		for i := range k.Tags {
			k.Tags[i].Key = d.string()
			k.Tags[i].Value = d.string()
		}
	}
	k.AutoRotation = d.bool()
	k.RotationPeriodDays = uint16(d.small(1<<16 - 1))
	k.RotationAnchor = d.time()
	k.NextRotation = d.time()
	k.OnDemandRotations = uint16(d.small(1<<16 - 1))
	k.OnDemandStart = d.time()
	k.OnDemandDone = d.time()
	k.PendingWindowDays = uint8(d.small(255))
	k.DeletionDate = d.time()
	k.ImportedMaterial = d.bytes()
	k.KeyMaterialID = d.string()
	k.ExpirationModel = d.string()
	k.ValidTo = d.time()
	k.KeyMaterialDescription = d.string()
	if n, ok := d.count(); ok {
		k.Materials = make([]store.KeyMaterial, n)
		for i := range k.Materials {
			m := &k.Materials[i]
			m.ID = d.string()
			m.Sealed = d.bytes()
			m.ValidTo = d.time()
			m.Description = d.string()
			m.Pending = d.bool()
			m.Rotating = d.bool()
		}
	}
	k.Material = d.bytes()
	k.Policy = d.string()
	k.PublicKey = d.bytes()
	k.CustomKeyStoreID = d.string()
	k.XksKeyID = d.string()
	k.DesiredState = keystate.State(d.small(255))
	k.PrimaryRegion = d.string()
	k.StateDone = d.time()
	if d.more() {
		if k.PolicyBinding = d.uint(); k.PolicyBinding == 0 {
			d.fail("a policy binding of 0")
		}
	}
	return r, d.end()
}

func encodeRotation(r store.Rotation) []byte {
	e := newEncoder(20)
	e.time(r.At)
	e.bool(r.OnDemand)
	return e.b
}

func decodeRotation(p []byte) (store.Rotation, error) {
	d := newDecoder(p)
	var r store.Rotation
	r.At = d.time()
	r.OnDemand = d.bool()
	return r, d.end()
}

func encodeAlias(a *store.Alias) []byte {
	e := newEncoder(64 + len(a.Name) + len(a.KeyID))
	e.string(a.Region)
	e.string(a.Account)
	e.string(a.Name)
	e.string(a.KeyID)
	e.time(a.Created)
	e.time(a.Updated)
	return e.b
}

func decodeAlias(p []byte) (store.Alias, error) {
	d := newDecoder(p)
	var a store.Alias
	a.Region = d.string()
	a.Account = d.string()
	a.Name = d.string()
	a.KeyID = d.string()
	a.Created = d.time()
	a.Updated = d.time()
	return a, d.end()
}

func encodeGrant(g *store.Grant) []byte {
	e := newEncoder(256)
	e.string(g.KeyID)
	e.string(g.GrantID)
	e.string(g.Name)
	e.string(g.GranteePrincipal)
	e.string(g.RetiringPrincipal)
	e.string(g.IssuingAccount)
	e.strings(g.Operations)
	e.stringMap(g.EncryptionContextEquals)
	e.stringMap(g.EncryptionContextSubset)
	e.time(g.Created)
	if g.SourceArn != "" || g.Seq != 0 || g.Binding != 0 {
		// Only when set, so that a record written before SourceArn
		// (or Seq, or Binding) existed reads back: SourceArn, possibly
		// empty when more follows, then Seq (0 only when Binding
		// follows), then Binding when not 0.
		e.string(g.SourceArn)
	}
	if g.Seq != 0 || g.Binding != 0 {
		e.uint(g.Seq)
	}
	if g.Binding != 0 {
		e.uint(g.Binding)
	}
	return e.b
}

func decodeGrant(p []byte) (store.Grant, error) {
	d := newDecoder(p)
	var g store.Grant
	g.KeyID = d.string()
	g.GrantID = d.string()
	g.Name = d.string()
	g.GranteePrincipal = d.string()
	g.RetiringPrincipal = d.string()
	g.IssuingAccount = d.string()
	g.Operations = d.strings()
	g.EncryptionContextEquals = d.stringMap()
	g.EncryptionContextSubset = d.stringMap()
	g.Created = d.time()
	// The optional fields, SourceArn, Seq and Binding, each written when
	// set or when a later one is: the last one written is set.
	if !d.more() {
		return g, d.end()
	}
	g.SourceArn = d.string()
	if !d.more() {
		if g.SourceArn == "" {
			d.fail("an empty SourceArn")
		}
		return g, d.end()
	}
	g.Seq = d.uint()
	if !d.more() {
		if g.Seq == 0 {
			d.fail("a grant creation number of 0")
		}
		return g, d.end()
	}
	if g.Binding = d.uint(); g.Binding == 0 {
		d.fail("a grant binding of 0")
	}
	return g, d.end()
}

func encodeCustomKeyStore(c *store.CustomKeyStore) []byte {
	e := newEncoder(256)
	e.string(c.ID)
	e.string(c.Region)
	e.uint(c.Seq)
	e.string(c.Account)
	e.string(c.Name)
	e.string(c.Type)
	e.string(c.ConnectionState)
	e.string(c.ConnectionErrorCode)
	e.time(c.Created)
	e.time(c.ConnectDone)
	e.string(c.CloudHsmClusterID)
	e.string(c.TrustAnchorCertificate)
	e.string(c.XksProxyURIEndpoint)
	e.string(c.XksProxyURIPath)
	e.string(c.XksProxyConnectivity)
	e.string(c.XksProxyVpcEndpointServiceName)
	e.string(c.XksProxyVpcEndpointServiceOwner)
	e.string(c.XksProxyAccessKeyID)
	return e.b
}

func decodeCustomKeyStore(p []byte) (store.CustomKeyStore, error) {
	d := newDecoder(p)
	var c store.CustomKeyStore
	c.ID = d.string()
	c.Region = d.string()
	c.Seq = d.uint()
	c.Account = d.string()
	c.Name = d.string()
	c.Type = d.string()
	c.ConnectionState = d.string()
	c.ConnectionErrorCode = d.string()
	c.Created = d.time()
	c.ConnectDone = d.time()
	c.CloudHsmClusterID = d.string()
	c.TrustAnchorCertificate = d.string()
	c.XksProxyURIEndpoint = d.string()
	c.XksProxyURIPath = d.string()
	c.XksProxyConnectivity = d.string()
	c.XksProxyVpcEndpointServiceName = d.string()
	c.XksProxyVpcEndpointServiceOwner = d.string()
	c.XksProxyAccessKeyID = d.string()
	return c, d.end()
}

func encodeTime(t time.Time) []byte {
	e := newEncoder(20)
	e.time(t)
	return e.b
}

func decodeTime(p []byte) (time.Time, error) {
	d := newDecoder(p)
	t := d.time()
	return t, d.end()
}
