package kms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// Key material.
//
// Every AWS_KMS symmetric key has one 256-bit material per version: version
// 0 from its creation, and one more for each completed rotation; none is
// ever removed while the key exists. The materials are not kept one by one:
// version v of key id is HMAC-SHA256(root, "kmsmodel material 1" ‖ id ‖ v),
// where root is a 256-bit secret the service draws once from its randomness
// source and keeps in its store. That is a pseudo-random function: the
// materials are as unpredictable as drawn ones, cost no memory per key or
// per rotation, and any version is found in O(1).

const rootSecretSize = 32

var materialLabel = []byte("kmsmodel material 1\x00")

// rootSecret returns the service's root secret, drawing it from the
// randomness source (and writing it to the store) on first use. The caller
// holds s.mu.
func (s *Service) rootSecret(op keystate.Operation) ([]byte, error) {
	if s.root != nil {
		return s.root, nil
	}
	root := make([]byte, rootSecretSize)
	if _, err := io.ReadFull(s.cfg.random, root); err != nil {
		return nil, &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, Err: err, Message: "The randomness source failed."}
	}
	if err := s.persist(&store.Batch{PutSecret: root}); err != nil {
		return nil, internalError(op, "", keystate.None, err)
	}
	s.root = root
	return root, nil
}

// loadRootSecret reads the root secret from the store, if it has one.
func (s *Service) loadRootSecret(ctx context.Context) error {
	root, err := s.st.Secret(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return err
	case len(root) != rootSecretSize:
		return fmt.Errorf("the root secret has %d bytes, want %d: %w", len(root), rootSecretSize, store.ErrCorrupt)
	}
	s.root = root
	return nil
}

// material derives version v of key id's material into out.
func material(root []byte, id string, v uint32, out *[32]byte) {
	m := hmac.New(sha256.New, root)
	m.Write(materialLabel)
	m.Write([]byte(id))
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	m.Write(b[:])
	m.Sum(out[:0])
}

// aead returns AES-256-GCM under version v of key id's material.
func aead(root []byte, id string, v uint32) cipher.AEAD {
	var m [32]byte
	material(root, id, v, &m)
	block, err := aes.NewCipher(m[:])
	clear(m[:])
	if err != nil {
		panic("kms: AES-256 refused a 32-byte key: " + err.Error())
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		panic("kms: GCM refused AES: " + err.Error())
	}
	return g
}

// The ciphertext blob, format 1:
//
//	[0]        format (1)
//	[1]        n, the length of the key ID
//	[2:2+n]    the key ID
//	[2+n:6+n]  the material version, big-endian
//	[6+n:18+n] the GCM nonce
//	[18+n:]    the GCM ciphertext and its 16-byte tag
//
// The additional data GCM authenticates is the header (everything before
// the ciphertext) followed by the encryption context in canonical form, so
// that a changed header, context or ciphertext fails to decrypt.
const (
	blobFormat1 = 1
	nonceSize   = 12
	tagSize     = 16
	// maxCiphertextBlob is the API's limit on CiphertextBlob.
	maxCiphertextBlob = 6144
)

// blob is a parsed ciphertext blob.
type blob struct {
	keyID   string
	version uint32
	header  []byte // format through nonce
	nonce   []byte
	sealed  []byte // ciphertext and tag
}

// parseBlob parses a ciphertext blob. ok is false when b is not a blob of a
// known format; it never panics.
func parseBlob(b []byte) (blob, bool) {
	if len(b) < 2 || b[0] != blobFormat1 {
		return blob{}, false
	}
	n := int(b[1])
	hdr := 2 + n + 4 + nonceSize
	if n == 0 || len(b) < hdr+tagSize {
		return blob{}, false
	}
	id := string(b[2 : 2+n])
	if !isKeyID(id) {
		return blob{}, false
	}
	return blob{
		keyID:   id,
		version: binary.BigEndian.Uint32(b[2+n:]),
		header:  b[:hdr],
		nonce:   b[2+n+4 : hdr],
		sealed:  b[hdr:],
	}, true
}

// seal encrypts plaintext under version v of key id's material, with the
// nonce drawn from the randomness source, and returns the blob.
func (s *Service) seal(root []byte, id string, v uint32, plaintext []byte, ec map[string]string) ([]byte, error) {
	n := len(id)
	out := make([]byte, 2+n+4+nonceSize, 2+n+4+nonceSize+len(plaintext)+tagSize)
	out[0], out[1] = blobFormat1, byte(n)
	copy(out[2:], id)
	binary.BigEndian.PutUint32(out[2+n:], v)
	nonce := out[2+n+4:]
	if _, err := io.ReadFull(s.cfg.random, nonce); err != nil {
		return nil, err
	}
	return aead(root, id, v).Seal(out, nonce, plaintext, additionalData(out, ec)), nil
}

// open decrypts a parsed blob with its key's material.
func open(root []byte, b blob, ec map[string]string) ([]byte, bool) {
	pt, err := aead(root, b.keyID, b.version).Open(nil, b.nonce, b.sealed, additionalData(b.header, ec))
	return pt, err == nil
}

// additionalData is the header followed by the encryption context in
// canonical form: its pairs sorted by key, each as the key's length, the
// key, the value's length and the value (lengths as uvarints). Equal maps
// give equal bytes whatever their iteration order.
func additionalData(header []byte, ec map[string]string) []byte {
	ad := slices.Clip(header)
	if len(ec) == 0 {
		return ad
	}
	keys := make([]string, 0, len(ec))
	for k := range ec {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ad = binary.AppendUvarint(ad, uint64(len(k)))
		ad = append(ad, k...)
		ad = binary.AppendUvarint(ad, uint64(len(ec[k])))
		ad = append(ad, ec[k]...)
	}
	return ad
}
