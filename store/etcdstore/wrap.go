package etcdstore

import (
	"crypto/rand"
	"errors"
)

// formatMark is the content of a store's format record: its layout and
// encoding version.
const formatMark = "kmsmodel etcdstore format 1"

// seal encrypts p under the wrapping key with AES-256-GCM: a random
// 12-byte nonce, then the ciphertext and tag. The record's name is the
// additional data, so that a sealed record moved to another name does not
// open.
func (s *Store) seal(name string, p []byte) ([]byte, error) {
	out := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(p)+s.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return s.aead.Seal(out, out, p, []byte(name)), nil
}

// errUnseal hides why a record did not open: the key, or damage.
var errUnseal = errors.New("record does not decrypt under the wrapping key")

func (s *Store) unseal(name string, p []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(p) < n+s.aead.Overhead() {
		return nil, errUnseal
	}
	out, err := s.aead.Open(nil, p[:n], p[n:], []byte(name))
	if err != nil {
		return nil, errUnseal
	}
	return out, nil
}
