package kms

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
)

// Import tokens of a cluster node (D67).
//
// A single service keeps the tokens it issued, and its wrapping key pairs,
// in memory (importState). A cluster's client may call
// GetParametersForImport on one node and ImportKeyMaterial on another, as
// a load balancer spreads the calls: a node's token therefore carries
// what ImportKeyMaterial needs, sealed so that only the cluster can open
// it. Its bytes are
//
//	2 ‖ nonce (12) ‖ AES-256-GCM(fields, additional data tokenLabel)
//
// under HMAC-SHA256(root secret, tokenLabel), the cluster's shared root
// secret; the fields are the key's store ID, the wrapping algorithm and
// key spec (each a length and its bytes), the instant the token expires
// (Unix µs, 8 bytes big-endian) and the wrapping private key (PKCS#8
// DER). The private key is thus never stored, and travels only sealed, as
// imported material is kept (material.go).

const (
	// tokenMemory is the format byte of a token a single service keeps
	// in memory; tokenSealed that of a cluster node's sealed token.
	tokenMemory = 1
	tokenSealed = 2
	// maxParsedWrapping bounds the wrapping keys a node keeps parsed from
	// other nodes' tokens (each node draws one per key spec).
	maxParsedWrapping = 64
)

var (
	tokenLabel     = []byte("kmsmodel import token seal 1")
	errTokenFormat = errors.New("kms: the import token is malformed")
	errTokenOpen   = errors.New("kms: the import token does not open under the root secret")
)

// tokenSealer returns the AEAD that seals a cluster node's import tokens,
// derived from root, the root secret (once per root secret). The caller
// holds s.mu.
func (s *Service) tokenSealer(root []byte) cipher.AEAD {
	if s.imports.tokenSealer == nil {
		s.imports.tokenSealer = labelledGCM(root, tokenLabel)
	}
	return s.imports.tokenSealer
}

// sealToken returns a sealed import token for t, whose wrapping private
// key is priv, under root secret root. The caller holds s.mu.
func (s *Service) sealToken(root []byte, t importToken, priv *wrappingPair) ([]byte, error) {
	der, ok := s.imports.wrappingDER[t.spec]
	if !ok {
		var err error
		if der, err = priv.marshal(); err != nil {
			return nil, err
		}
		if s.imports.wrappingDER == nil {
			s.imports.wrappingDER = make(map[string][]byte)
		}
		s.imports.wrappingDER[t.spec] = der
	}
	fields := appendTokenFields(make([]byte, 0, 3*(binary.MaxVarintLen64+16)+8+len(der)), t, der)
	out, err := s.sealFields(root, fields)
	clear(fields) // the private key
	return out, err
}

// appendTokenFields appends to dst what a sealed token holds: t's key
// ID, algorithm, key spec and expiry, then the wrapping private key der
// (openToken reads them back).
func appendTokenFields(dst []byte, t importToken, der []byte) []byte {
	for _, f := range []string{t.keyID, t.algorithm, t.spec} {
		dst = binary.AppendUvarint(dst, uint64(len(f)))
		dst = append(dst, f...)
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(t.validTo))
	return append(dst, der...)
}

// sealFields seals a token's fields (appendTokenFields) under root secret
// root. The caller holds s.mu.
func (s *Service) sealFields(root, fields []byte) ([]byte, error) {
	g := s.tokenSealer(root)
	out := make([]byte, 1+g.NonceSize(), 1+g.NonceSize()+len(fields)+g.Overhead())
	out[0] = tokenSealed
	// The nonce comes from the system, not the service's randomness
	// source: every node seals under one key, and nodes given one seed
	// (WithRandom) would draw the same nonces.
	if _, err := io.ReadFull(rand.Reader, out[1:]); err != nil {
		return nil, err
	}
	return g.Seal(out, out[1:1+g.NonceSize()], fields, tokenLabel), nil
}

// openToken opens a sealed import token: what it was issued for, and its
// wrapping private key. The caller holds s.mu.
func (s *Service) openToken(token []byte) (importToken, *wrappingPair, error) {
	if s.root == nil {
		return importToken{}, nil, errTokenOpen // no node has drawn one: no token was sealed
	}
	g := s.tokenSealer(s.root)
	if len(token) < 1+g.NonceSize()+g.Overhead() || token[0] != tokenSealed {
		return importToken{}, nil, errTokenFormat
	}
	fields, err := g.Open(nil, token[1:1+g.NonceSize()], token[1+g.NonceSize():], tokenLabel)
	if err != nil {
		return importToken{}, nil, errTokenOpen
	}
	defer clear(fields)
	var t importToken
	rest := fields
	for _, f := range []*string{&t.keyID, &t.algorithm, &t.spec} {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return importToken{}, nil, errTokenFormat
		}
		*f, rest = string(rest[w:w+int(n)]), rest[w+int(n):]
	}
	if len(rest) < 8 {
		return importToken{}, nil, errTokenFormat
	}
	t.validTo, rest = int64(binary.BigEndian.Uint64(rest)), rest[8:]
	if (t.algorithm == "SM2PKE") != (t.spec == "SM2") {
		return importToken{}, nil, errTokenFormat // D81: no node issues such a token
	}
	priv, err := s.parsedWrapping(t.spec, rest)
	if err != nil {
		return importToken{}, nil, err
	}
	return t, priv, nil
}

// parsedWrapping returns the wrapping private key of spec in PKCS#8 DER
// der, parsing it once per node (a few milliseconds for RSA_4096). The
// caller holds s.mu.
func (s *Service) parsedWrapping(spec string, der []byte) (*wrappingPair, error) {
	// By spec and DER: the same bytes read as another spec's key are
	// another entry (parseWrapping refuses a key of the wrong kind). Not
	// the DER itself: no copy of a private key kept as a map key.
	h := sha256.New()
	h.Write([]byte(spec))
	h.Write([]byte{0})
	h.Write(der)
	var id [32]byte
	h.Sum(id[:0])
	if k := s.imports.parsed[id]; k != nil {
		return k, nil
	}
	k, err := parseWrapping(spec, der)
	if err != nil {
		return nil, errTokenFormat
	}
	if s.imports.parsed == nil || len(s.imports.parsed) >= maxParsedWrapping {
		s.imports.parsed = make(map[[32]byte]*wrappingPair)
	}
	s.imports.parsed[id] = k
	return k, nil
}
