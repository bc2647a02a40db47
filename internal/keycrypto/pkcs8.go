package keycrypto

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// The ASN.1 shared by the EC families: PKCS#8 (RFC 5208/5958) around an
// RFC 5915 ECPrivateKey, SubjectPublicKeyInfo (RFC 5480), and a BER to DER
// normaliser for imported material. crypto/x509 handles the NIST curves but
// not secp256k1 or SM2, so the three EC families share this code instead.
// Only encoding lives here; every primitive is in a library.

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP256        = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384        = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidP521        = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
	oidSM2Curve    = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301}
)

// ecCurveOID returns the named-curve OID of an EC spec.
func ecCurveOID(spec keystate.KeySpec) asn1.ObjectIdentifier {
	switch spec {
	case keystate.ECCNISTP256:
		return oidP256
	case keystate.ECCNISTP384:
		return oidP384
	case keystate.ECCNISTP521:
		return oidP521
	case keystate.ECCSECGP256K1:
		return oidSecp256k1
	case keystate.SM2:
		return oidSM2Curve
	}
	return nil
}

// ecScalarSize returns the private scalar length of an EC spec.
func ecScalarSize(spec keystate.KeySpec) int {
	switch spec {
	case keystate.ECCNISTP384:
		return 48
	case keystate.ECCNISTP521:
		return 66
	}
	return 32
}

type pkcs8 struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
	Attributes asn1.RawValue  `asn1:"optional,tag:0"`
	PublicKey  asn1.BitString `asn1:"optional,tag:1"`
}

type ecPrivateKey struct {
	Version    int
	PrivateKey []byte
	Params     asn1.RawValue  `asn1:"optional,explicit,tag:0"`
	PublicKey  asn1.BitString `asn1:"optional,explicit,tag:1"`
}

type spki struct {
	Algo      pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// marshalECPKCS8 encodes a private scalar and its uncompressed public point
// as PKCS#8, as crypto/x509 does for the NIST curves (the curve OID in the
// AlgorithmIdentifier only, the public key inside the ECPrivateKey).
func marshalECPKCS8(curve asn1.ObjectIdentifier, d, point []byte) []byte {
	inner, err := asn1.Marshal(ecPrivateKey{Version: 1, PrivateKey: d,
		PublicKey: asn1.BitString{Bytes: point, BitLength: 8 * len(point)}})
	if err != nil {
		panic("keycrypto: marshal ECPrivateKey: " + err.Error()) // only fixed shapes reach here
	}
	params, _ := asn1.Marshal(curve)
	out, err := asn1.Marshal(pkcs8{Algo: pkix.AlgorithmIdentifier{Algorithm: oidECPublicKey,
		Parameters: asn1.RawValue{FullBytes: params}}, PrivateKey: inner})
	clear(inner)
	if err != nil {
		panic("keycrypto: marshal PKCS#8: " + err.Error())
	}
	return out
}

// marshalECSPKI encodes an uncompressed point as SubjectPublicKeyInfo with
// a named curve, byte for byte as x509.MarshalPKIXPublicKey does.
func marshalECSPKI(curve asn1.ObjectIdentifier, point []byte) ([]byte, error) {
	params, err := asn1.Marshal(curve)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(spki{Algo: pkix.AlgorithmIdentifier{Algorithm: oidECPublicKey,
		Parameters: asn1.RawValue{FullBytes: params}},
		PublicKey: asn1.BitString{Bytes: point, BitLength: 8 * len(point)}})
}

// parseECPKCS8Scalar returns the private scalar (left-padded to the curve
// size) of a PKCS#8 EC key on the curve of spec. It refuses explicit curve
// parameters and any other curve (spec §9.1).
func parseECPKCS8Scalar(spec keystate.KeySpec, der []byte) ([]byte, error) {
	var p pkcs8
	rest, err := asn1.Unmarshal(der, &p)
	if err != nil || len(rest) != 0 {
		return nil, errInvalidMaterial(spec, "not a DER PKCS#8 PrivateKeyInfo")
	}
	if p.Version != 0 && p.Version != 1 {
		return nil, errInvalidMaterial(spec, "unsupported PKCS#8 version %d", p.Version)
	}
	if !p.Algo.Algorithm.Equal(oidECPublicKey) {
		return nil, errInvalidMaterial(spec, "PKCS#8 algorithm %v is not id-ecPublicKey", p.Algo.Algorithm)
	}
	want := ecCurveOID(spec)
	var outer asn1.ObjectIdentifier
	if len(p.Algo.Parameters.FullBytes) > 0 {
		if outer, err = curveParams(spec, p.Algo.Parameters.FullBytes); err != nil {
			return nil, err
		}
	}
	var ec ecPrivateKey
	rest, err = asn1.Unmarshal(p.PrivateKey, &ec)
	if err != nil || len(rest) != 0 {
		return nil, errInvalidMaterial(spec, "PKCS#8 does not hold an RFC 5915 ECPrivateKey")
	}
	if ec.Version != 1 {
		return nil, errInvalidMaterial(spec, "unsupported ECPrivateKey version %d", ec.Version)
	}
	var inner asn1.ObjectIdentifier
	if len(ec.Params.Bytes) > 0 {
		if inner, err = curveParams(spec, ec.Params.Bytes); err != nil {
			return nil, err
		}
	}
	switch {
	case outer == nil && inner == nil:
		return nil, errInvalidMaterial(spec, "no named curve given")
	case outer != nil && inner != nil && !outer.Equal(inner):
		return nil, errInvalidMaterial(spec, "PKCS#8 and ECPrivateKey name different curves")
	}
	curve := outer
	if curve == nil {
		curve = inner
	}
	if !curve.Equal(want) {
		return nil, errInvalidMaterial(spec, "the key is on curve %v, not %v", curve, want)
	}
	size := ecScalarSize(spec)
	if len(ec.PrivateKey) > size {
		return nil, errInvalidMaterial(spec, "private key is %d bytes, longer than %d", len(ec.PrivateKey), size)
	}
	d := make([]byte, size)
	copy(d[size-len(ec.PrivateKey):], ec.PrivateKey)
	clear(p.PrivateKey)
	return d, nil
}

// curveParams reads ECParameters: a named curve OID, or explicit
// parameters, which AWS refuses.
func curveParams(spec keystate.KeySpec, der []byte) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	rest, err := asn1.Unmarshal(der, &oid)
	if err != nil || len(rest) != 0 {
		return nil, errInvalidMaterial(spec, "explicit curve parameters are not supported; use a named curve")
	}
	return oid, nil
}

// parseECSPKIPoint returns the public point of a DER SubjectPublicKeyInfo
// with id-ecPublicKey and the named curve of spec.
func parseECSPKIPoint(spec keystate.KeySpec, der []byte) ([]byte, error) {
	var s spki
	rest, err := asn1.Unmarshal(der, &s)
	if err != nil || len(rest) != 0 {
		return nil, errInvalidPublicKey("not a DER SubjectPublicKeyInfo")
	}
	if !s.Algo.Algorithm.Equal(oidECPublicKey) {
		return nil, errInvalidPublicKey("not an EC public key")
	}
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(s.Algo.Parameters.FullBytes, &oid); err != nil || len(rest) != 0 {
		return nil, errInvalidPublicKey("no named curve")
	}
	if !oid.Equal(ecCurveOID(spec)) {
		return nil, errInvalidPublicKey("the peer key is on another curve")
	}
	if s.PublicKey.BitLength != 8*len(s.PublicKey.Bytes) {
		return nil, errInvalidPublicKey("malformed point")
	}
	return s.PublicKey.Bytes, nil
}

// berToDER rewrites BER (indefinite or non-minimal lengths, constructed
// OCTET STRINGs) as DER, so that imported PKCS#8 in BER (spec §9.1) reaches
// the DER parsers. DER input comes back unchanged.
func berToDER(in []byte) ([]byte, error) {
	var out bytes.Buffer
	rest, err := berElement(&out, in, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errBER
	}
	return out.Bytes(), nil
}

var errBER = errors.New("malformed BER")

const berMaxDepth = 32

// berElement converts the element at the start of in, writes it to out and
// returns what follows it.
func berElement(out *bytes.Buffer, in []byte, depth int) ([]byte, error) {
	if depth > berMaxDepth || len(in) < 2 {
		return nil, errBER
	}
	// Identifier octets (high tag numbers span several bytes).
	n := 1
	if in[0]&0x1f == 0x1f {
		for ; n < len(in) && in[n]&0x80 != 0; n++ {
		}
		n++
		if n >= len(in) {
			return nil, errBER
		}
	}
	tag := in[:n]
	constructed := in[0]&0x20 != 0
	in = in[n:]
	// Length octets.
	l := int(in[0])
	in = in[1:]
	indefinite := false
	switch {
	case l == 0x80:
		if !constructed {
			return nil, errBER
		}
		indefinite = true
	case l > 0x80:
		k := l & 0x7f
		if k > 4 || k > len(in) {
			return nil, errBER
		}
		l = 0
		for _, b := range in[:k] {
			l = l<<8 | int(b)
		}
		in = in[k:]
		if l < 0 || l > len(in) {
			return nil, errBER
		}
	default:
		if l > len(in) {
			return nil, errBER
		}
	}
	if !constructed {
		writeTLV(out, tag, in[:l])
		return in[l:], nil
	}
	var body []byte
	if !indefinite {
		body, in = in[:l], in[l:]
	}
	var content bytes.Buffer
	for {
		if indefinite {
			if len(in) >= 2 && in[0] == 0 && in[1] == 0 {
				in = in[2:]
				break
			}
		} else if len(body) == 0 {
			break
		}
		var err error
		if indefinite {
			in, err = berElement(&content, in, depth+1)
		} else {
			body, err = berElement(&content, body, depth+1)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(tag) == 1 && tag[0] == 0x24 { // constructed OCTET STRING: join the segments
		joined, err := joinOctetStrings(content.Bytes())
		if err != nil {
			return nil, err
		}
		writeTLV(out, []byte{0x04}, joined)
		return in, nil
	}
	writeTLV(out, tag, content.Bytes())
	return in, nil
}

// joinOctetStrings concatenates the contents of a run of DER OCTET STRINGs.
func joinOctetStrings(der []byte) ([]byte, error) {
	var joined []byte
	for len(der) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(der, &v)
		if err != nil || v.Class != asn1.ClassUniversal || v.Tag != asn1.TagOctetString {
			return nil, errBER
		}
		joined = append(joined, v.Bytes...)
		der = rest
	}
	return joined, nil
}

func writeTLV(out *bytes.Buffer, tag, content []byte) {
	out.Write(tag)
	switch l := len(content); {
	case l < 0x80:
		out.WriteByte(byte(l))
	case l < 0x100:
		out.Write([]byte{0x81, byte(l)})
	case l < 0x10000:
		out.Write([]byte{0x82, byte(l >> 8), byte(l)})
	case l < 0x1000000:
		out.Write([]byte{0x83, byte(l >> 16), byte(l >> 8), byte(l)})
	default:
		out.Write([]byte{0x84, byte(l >> 24), byte(l >> 16), byte(l >> 8), byte(l)})
	}
	out.Write(content)
}

// normaliseImported returns DER for imported PKCS#8 material that may be
// BER (spec §9.1).
func normaliseImported(spec keystate.KeySpec, material []byte) ([]byte, error) {
	der, err := berToDER(material)
	if err != nil {
		return nil, errInvalidMaterial(spec, "not a BER or DER PKCS#8 PrivateKeyInfo")
	}
	return der, nil
}

// importedDER returns material as DER: as it is when the service stored it
// (always DER), normalised from BER when a caller imported it.
func importedDER(spec keystate.KeySpec, material []byte, imported bool) ([]byte, error) {
	if !imported {
		return material, nil
	}
	return normaliseImported(spec, material)
}
