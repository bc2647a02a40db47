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

// seal encrypts plaintext with g, AES-256-GCM under version v of key id's
// material (keyAEAD), with the nonce drawn from the randomness source, and
// returns the blob.
func (s *Service) seal(g cipher.AEAD, id string, v uint32, plaintext []byte, ec map[string]string) ([]byte, error) {
	n := len(id)
	out := make([]byte, 2+n+4+nonceSize, 2+n+4+nonceSize+len(plaintext)+tagSize)
	out[0], out[1] = blobFormat1, byte(n)
	copy(out[2:], id)
	binary.BigEndian.PutUint32(out[2+n:], v)
	nonce := out[2+n+4:]
	if _, err := io.ReadFull(s.cfg.random, nonce); err != nil {
		return nil, err
	}
	return g.Seal(out, nonce, plaintext, additionalData(out, ec)), nil
}

// sealFor is seal under k's current material.
func (s *Service) sealFor(root []byte, k *key, plaintext []byte, ec map[string]string) ([]byte, error) {
	v := uint32(len(k.rotations))
	if s.ec != nil {
		v = s.ecVersion(k) // D44: the material current for the caller's reader
	}
	g, err := s.keyAEAD(root, k, v)
	if err != nil {
		return nil, err
	}
	return s.seal(g, k.id, v, plaintext, ec)
}

// open decrypts a parsed blob with g, the AEAD of the material it names.
func open(g cipher.AEAD, b blob, ec map[string]string) ([]byte, bool) {
	pt, err := g.Open(nil, b.nonce, b.sealed, additionalData(b.header, ec))
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

// Imported key material (Origin EXTERNAL).
//
// An imported material is kept, in memory and in the store, only sealed:
// AES-256-GCM under HMAC-SHA256(root, "kmsmodel imported material seal
// 1"), with a nonce from the randomness source and the key ID as
// additional data, so that it is protected at rest exactly as the root
// secret is (boltstore can encrypt the root secret under a wrapping key)
// and a sealed material moved to another key does not open. Its
// KeyMaterialId is HMAC-SHA256(material, "kmsmodel key material id 1") in
// hex: derived from the material alone, so importing the same material
// again gives the same ID, and an ID tells nothing of the material.

var (
	importSealLabel  = []byte("kmsmodel imported material seal 1")
	materialIDLabel  = []byte("kmsmodel key material id 1")
	errSealedFormat  = errors.New("kms: a sealed imported material is malformed")
	errSealedRefused = errors.New("kms: a sealed imported material does not open under the root secret")
)

// importSealer returns the AEAD that seals imported material, derived from
// root (once per service). The caller holds s.mu.
func (s *Service) importSealer(root []byte) cipher.AEAD {
	if s.imports.sealer == nil {
		s.imports.sealer = labelledGCM(root, importSealLabel)
	}
	return s.imports.sealer
}

// labelledGCM returns AES-256-GCM under HMAC-SHA256(root, label): a key
// of its own for each use of the root secret.
func labelledGCM(root, label []byte) cipher.AEAD {
	m := hmac.New(sha256.New, root)
	m.Write(label)
	k := m.Sum(nil)
	g, err := gcmOf(k)
	clear(k)
	if err != nil {
		panic("kms: AES-256-GCM refused a 32-byte key: " + err.Error())
	}
	return g
}

// sealMaterial seals an imported material for key id: nonce ‖ ciphertext
// ‖ tag.
func (s *Service) sealMaterial(root []byte, id string, m []byte) ([]byte, error) {
	out := make([]byte, nonceSize, nonceSize+len(m)+tagSize)
	if _, err := io.ReadFull(s.cfg.random, out); err != nil {
		return nil, err
	}
	return s.importSealer(root).Seal(out, out[:nonceSize], m, []byte(id)), nil
}

// unsealMaterial opens key id's sealed material. The caller clears the
// result when done.
func (s *Service) unsealMaterial(root []byte, id string, sealed []byte) ([]byte, error) {
	if len(sealed) < nonceSize+tagSize {
		return nil, errSealedFormat
	}
	m, err := s.importSealer(root).Open(nil, sealed[:nonceSize], sealed[nonceSize:], []byte(id))
	if err != nil {
		return nil, errSealedRefused
	}
	return m, nil
}

// importedMaterialID is the KeyMaterialId of an imported material.
func importedMaterialID(m []byte) string {
	h := hmac.New(sha256.New, m)
	h.Write(materialIDLabel)
	var sum [32]byte
	h.Sum(sum[:0])
	var out [64]byte
	for i, b := range sum {
		out[2*i], out[2*i+1] = hexDigitsLower[b>>4], hexDigitsLower[b&15]
	}
	return string(out[:])
}

// gcmOf returns AES-256-GCM under a 32-byte material.
func gcmOf(m []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(m)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// keyAEAD returns AES-256-GCM under version v of k's material: derived
// from the root secret for an AWS_KMS key, the imported material for an
// EXTERNAL one. The caller holds s.mu.
func (s *Service) keyAEAD(root []byte, k *key, v uint32) (cipher.AEAD, error) {
	if k.kind.Origin != keystate.External {
		return aead(root, k.id, v), nil
	}
	sealed := k.imp.versionSealed(v, uint32(len(k.rotations)))
	if sealed == nil {
		return nil, errNoMaterial
	}
	m, err := s.unsealMaterial(root, k.id, sealed)
	if err != nil {
		return nil, err
	}
	defer clear(m)
	return gcmOf(m)
}

var errNoMaterial = errors.New("kms: the key has no imported material")
