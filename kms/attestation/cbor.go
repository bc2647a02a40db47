package attestation

import (
	"github.com/fxamacker/cbor/v2"
)

// CBOR major types (RFC 8949 §3.1).
const (
	majorUint  = 0
	majorBytes = 2
	majorText  = 3
	majorArray = 4
	majorMap   = 5
	majorTag   = 6
)

// cborNull is the CBOR simple value null.
const cborNull = 0xf6

// coseSign1Tag is the CBOR tag of a COSE_Sign1 message (RFC 8152 §2).
const coseSign1Tag = 18

// decMode decodes untrusted documents: a document is a four-element array
// holding a map of at most a dozen entries, 32 PCRs and a short certificate
// bundle, so these limits are generous for real documents and small for a
// hostile one. Duplicate map keys are an error (the COSE and Nitro formats
// have none), as are tags inside the message.
var decMode = newDecMode(cbor.TagsForbidden)

// tagMode decodes a document's optional outer tag, with decMode's limits.
var tagMode = newDecMode(cbor.TagsAllowed)

func newDecMode(tags cbor.TagsMode) cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  8,
		MaxArrayElements: 64,
		MaxMapPairs:      64,
		TagsMd:           tags,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic("attestation: invalid CBOR decoding options: " + err.Error())
	}
	return m
}

// The encoding modes of what a Module writes; every item is in the
// preferred (shortest) serialization of RFC 8949 §4.2.1, as a Nitro Secure
// Module emits it. fieldMode writes a struct's fields in their declared
// order and nil byte strings as null; pcrMode writes a map's keys in
// §4.2.1's order, which for PCR indexes (0 to 31) is ascending, as the
// module writes its PCRs.
var (
	fieldMode = newEncMode(cbor.SortNone)
	pcrMode   = newEncMode(cbor.SortCoreDeterministic)
)

func newEncMode(sort cbor.SortMode) cbor.EncMode {
	m, err := cbor.EncOptions{Sort: sort, NilContainers: cbor.NilContainerAsNull}.EncMode()
	if err != nil {
		panic("attestation: invalid CBOR encoding options: " + err.Error())
	}
	return m
}

// encode returns the CBOR encoding of v, one of this package's fixed
// shapes (text, byte strings, integers, and maps, arrays and structs of
// them), for which encoding does not fail.
func encode(mode cbor.EncMode, v any) []byte {
	b, err := mode.Marshal(v)
	if err != nil {
		panic("attestation: CBOR encoding failed: " + err.Error())
	}
	return b
}

// majorType returns the major type of the CBOR item in raw (which holds
// one well-formed item), or 0xff for none.
func majorType(raw []byte) byte {
	if len(raw) == 0 {
		return 0xff
	}
	return raw[0] >> 5
}

// sigStructure returns the CBOR encoding of the COSE Sig_structure that a
// COSE_Sign1 signature covers (RFC 8152 §4.4): ["Signature1", protected,
// external_aad (empty), payload], with protected and payload the exact
// byte strings of the message.
func sigStructure(protected, payload []byte) []byte {
	return encode(fieldMode, []any{"Signature1", protected, []byte{}, payload})
}

// coseSign1 returns the untagged COSE_Sign1 message [protected, {},
// payload, signature] (RFC 8152 §4.2), as a Nitro Secure Module writes it.
func coseSign1(protected, payload, signature []byte) []byte {
	return encode(fieldMode, []any{protected, map[int]any{}, payload, signature})
}
