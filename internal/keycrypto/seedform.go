package keycrypto

import (
	"crypto/x509/pkix"
	"encoding/asn1"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// The encodings ML-DSA and ML-KEM share (the IETF LAMPS certificates
// drafts for both): a private key stored as PKCS#8 holding only its seed,
// PrivateKeyInfo{0, {oid}, OCTET STRING{[0] IMPLICIT OCTET STRING
// (seed)}}, and a public key as SubjectPublicKeyInfo with the OID (no
// parameters) and the FIPS-encoded key as the bit string.

// marshalSeedPKCS8 returns the seed-only PKCS#8 form of seed under oid.
func marshalSeedPKCS8(oid asn1.ObjectIdentifier, seed []byte) []byte {
	inner := append([]byte{0x80, byte(len(seed))}, seed...)
	defer clear(inner)
	der, err := asn1.Marshal(pkcs8{Algo: pkix.AlgorithmIdentifier{Algorithm: oid}, PrivateKey: inner})
	if err != nil {
		panic("keycrypto: marshal a seed PKCS#8: " + err.Error())
	}
	return der
}

// parseSeedPKCS8 reads the seed out of material, the seed-only PKCS#8
// form of a key of spec under oid with a seed of size bytes; family names
// the key type in the refusal ("ML-DSA"). The caller clears the seed.
func parseSeedPKCS8(spec keystate.KeySpec, material []byte, oid asn1.ObjectIdentifier, size int, family string) ([]byte, error) {
	var p pkcs8
	rest, err := asn1.Unmarshal(material, &p)
	if err != nil || len(rest) != 0 {
		return nil, errInvalidMaterial(spec, "not a DER PKCS#8 PrivateKeyInfo")
	}
	if !p.Algo.Algorithm.Equal(oid) || len(p.Algo.Parameters.FullBytes) != 0 {
		return nil, errInvalidMaterial(spec, "the PKCS#8 algorithm is not %v without parameters", oid)
	}
	if len(p.PrivateKey) != 2+size || p.PrivateKey[0] != 0x80 || int(p.PrivateKey[1]) != size {
		clear(p.PrivateKey)
		return nil, errInvalidMaterial(spec, "only the %d-byte seed form of %s-PrivateKey is supported", size, family)
	}
	return p.PrivateKey[2:], nil
}

// rawSPKI returns the SubjectPublicKeyInfo of the encoded public key pub
// under oid, without parameters.
func rawSPKI(oid asn1.ObjectIdentifier, pub []byte) ([]byte, error) {
	return asn1.Marshal(spki{Algo: pkix.AlgorithmIdentifier{Algorithm: oid},
		PublicKey: asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}})
}
