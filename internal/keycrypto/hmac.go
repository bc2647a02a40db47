package keycrypto

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"io"
	"slices"
	"sync"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// HMAC keys (spec §7): HMAC_224/256/384/512 with HMAC_SHA_224/256/384/512.
// The key is raw bytes, stored and imported as is.

// hmacMaxKey is the longest HMAC key AWS imports: 1024 bits (spec §9.1).
const hmacMaxKey = 128

type hmacKey struct {
	key []byte
	h   func() hash.Hash
	// pool keeps keyed HMAC states to Reset and reuse: hmac.New costs
	// more than the MAC of a short message (GenerateMac's budget is 2 µs).
	pool sync.Pool
}

func newHMACKey(spec keystate.KeySpec, key []byte) *hmacKey {
	k := &hmacKey{key: key, h: hmacHash(spec)}
	k.pool.New = func() any { return hmac.New(k.h, k.key) }
	return k
}

// hmacSize returns the spec's length in bytes: the hash output length.
func hmacSize(spec keystate.KeySpec) int {
	switch spec {
	case keystate.HMAC224:
		return 28
	case keystate.HMAC256:
		return 32
	case keystate.HMAC384:
		return 48
	}
	return 64
}

func hmacHash(spec keystate.KeySpec) func() hash.Hash {
	switch spec {
	case keystate.HMAC224:
		return sha256.New224
	case keystate.HMAC256:
		return sha256.New
	case keystate.HMAC384:
		return sha512.New384
	}
	return sha512.New
}

// macAlgorithmOf reports whether alg is the MacAlgorithm of spec, without
// allocating (GenerateMac is on a 2 µs budget).
func macAlgorithmOf(spec keystate.KeySpec, alg string) bool {
	switch spec {
	case keystate.HMAC224:
		return alg == HMACSHA224
	case keystate.HMAC256:
		return alg == HMACSHA256
	case keystate.HMAC384:
		return alg == HMACSHA384
	case keystate.HMAC512:
		return alg == HMACSHA512
	}
	return false
}

// generateHMAC reads a key of the spec's length (28/32/48/64 bytes; see
// Generate for why) from rand.
func generateHMAC(spec keystate.KeySpec, rand io.Reader) (keyImpl, error) {
	key := make([]byte, hmacSize(spec))
	if _, err := io.ReadFull(rand, key); err != nil {
		return nil, err
	}
	return newHMACKey(spec, key), nil
}

// parseHMAC accepts raw key bytes from the spec's length up to 128 bytes
// (spec §9.1, §12.10: IMPREQ's range, which holds every recorded import).
func parseHMAC(spec keystate.KeySpec, material []byte) (keyImpl, error) {
	if n := len(material); n < hmacSize(spec) || n > hmacMaxKey {
		return nil, errInvalidMaterial(spec, "HMAC key material must be %d to %d bytes long, not %d",
			hmacSize(spec), hmacMaxKey, n)
	}
	return newHMACKey(spec, slices.Clone(material)), nil
}

func (k *hmacKey) marshal() []byte            { return slices.Clone(k.key) }
func (k *hmacKey) publicKey() ([]byte, error) { return nil, nil }
func (k *hmacKey) signer() crypto.Signer      { return nil }

func (k *hmacKey) mac(_ string, message []byte) []byte {
	m := k.pool.Get().(hash.Hash)
	m.Reset()
	m.Write(message)
	out := m.Sum(nil)
	k.pool.Put(m)
	return out
}

// hmacEqual compares two MACs in constant time.
func hmacEqual(a, b []byte) bool { return hmac.Equal(a, b) }
