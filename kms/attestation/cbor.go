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
var decMode = mustDecMode(cbor.DecOptions{
	DupMapKey:        cbor.DupMapKeyEnforcedAPF,
	MaxNestedLevels:  8,
	MaxArrayElements: 64,
	MaxMapPairs:      64,
	TagsMd:           cbor.TagsForbidden,
	UTF8:             cbor.UTF8RejectInvalid,
})

// tagMode decodes a document's optional outer tag.
var tagMode = mustDecMode(cbor.DecOptions{
	DupMapKey:        cbor.DupMapKeyEnforcedAPF,
	MaxNestedLevels:  8,
	MaxArrayElements: 64,
	MaxMapPairs:      64,
	UTF8:             cbor.UTF8RejectInvalid,
})

func mustDecMode(o cbor.DecOptions) cbor.DecMode {
	m, err := o.DecMode()
	if err != nil {
		panic("attestation: invalid CBOR decoding options: " + err.Error())
	}
	return m
}

// majorType returns the major type of the CBOR item in raw (which holds
// one well-formed item), or 0xff for none.
func majorType(raw []byte) byte {
	if len(raw) == 0 {
		return 0xff
	}
	return raw[0] >> 5
}

// The encoder below writes the few definite-length items a document and a
// Sig_structure need, in the preferred (shortest) serialization of RFC 8949
// §4.2.1, which is what the Nitro Secure Module emits.

// appendHead appends the head of an item of major type major and argument n.
func appendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return append(b, m|25, byte(n>>8), byte(n))
	case n <= 0xffffffff:
		return append(b, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(b, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32),
			byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

func appendBytes(b, v []byte) []byte {
	return append(appendHead(b, majorBytes, uint64(len(v))), v...)
}

func appendText(b []byte, s string) []byte {
	return append(appendHead(b, majorText, uint64(len(s))), s...)
}

// appendOptionalBytes appends v as a byte string, or null when v is nil.
func appendOptionalBytes(b, v []byte) []byte {
	if v == nil {
		return append(b, cborNull)
	}
	return appendBytes(b, v)
}

// sigStructure returns the CBOR encoding of the COSE Sig_structure that a
// COSE_Sign1 signature covers (RFC 8152 §4.4): ["Signature1", protected,
// external_aad (empty), payload], with protected and payload the exact
// byte strings of the message.
func sigStructure(protected, payload []byte) []byte {
	b := make([]byte, 0, len(protected)+len(payload)+32)
	b = appendHead(b, majorArray, 4)
	b = appendText(b, "Signature1")
	b = appendBytes(b, protected)
	b = appendBytes(b, nil)
	return appendBytes(b, payload)
}
