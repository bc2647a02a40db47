package boltstore

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/kmsmodel/kmsmodel/store"
)

// WrappingKeySize is the length of Options.WrappingKey: an AES-256 key.
const WrappingKeySize = 32

// The encodings of the secret and key-check records, their first byte.
const (
	encodingClear  byte = 0 // the secret itself
	encodingSealed byte = 1 // AES-256-GCM under the wrapping key: nonce ‖ ciphertext ‖ tag
)

// sealOverhead is what sealing adds: a 12-byte nonce and a 16-byte tag.
const sealOverhead = 12 + 16

// newWrap returns the AEAD that seals records under key, or nil if key is
// nil. Its nonces are random (crypto/rand), 96 bits each.
func newWrap(key []byte) (cipher.AEAD, error) {
	if key == nil {
		return nil, nil
	}
	if len(key) != WrappingKeySize {
		return nil, fmt.Errorf("Options.WrappingKey has %d bytes; an AES-256 wrapping key has %d", len(key), WrappingKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// additionalData binds a sealed record to the file's identity (magic and
// format version) and to its own name: it opens only as that record of a
// kmsmodel store of that format. (It does not tell one store file from
// another: a secret record copied between stores sealed under the same key
// opens in either.) Records are sealed for formatVersion; those of an
// older file, sealed for its format, are re-sealed when Open upgrades it.
func additionalData(name []byte, format uint32) []byte {
	e := encoder{buf: make([]byte, 0, len(magic)+4+1+len(name)+1)}
	e.buf = append(e.buf, magic...)
	e.buf = binary.BigEndian.AppendUint32(e.buf, format)
	e.string(string(name))
	e.byte1(encodingSealed)
	return e.buf
}

// encodeSecret returns the meta record of the root secret: sealed under
// wrap, or in the clear if wrap is nil.
func encodeSecret(wrap cipher.AEAD, secret []byte) []byte {
	e := encoder{buf: make([]byte, 0, 1+len(secret)+sealOverhead+4)}
	if wrap == nil {
		e.byte1(encodingClear)
		e.buf = append(e.buf, secret...)
	} else {
		e.byte1(encodingSealed)
		e.buf = wrap.Seal(e.buf, nil, secret, additionalData(metaSecret, formatVersion))
	}
	return e.seal(metaSecret)
}

// encodeKeyCheck returns the key-check record: an empty plaintext sealed
// under wrap, which opens only under the same key.
func encodeKeyCheck(wrap cipher.AEAD) []byte {
	e := encoder{buf: make([]byte, 0, 1+sealOverhead+4)}
	e.byte1(encodingSealed)
	e.buf = wrap.Seal(e.buf, nil, nil, additionalData(metaKeyCheck, formatVersion))
	return e.seal(metaKeyCheck)
}

// decodeWrapped checks the checksum of the meta record name and returns its
// encoding and body. The body aliases rec.
func decodeWrapped(name, rec []byte) (encoding byte, body []byte, err error) {
	d := open(name, rec)
	encoding = d.byte1()
	if d.err != nil {
		return 0, nil, d.err
	}
	body = d.buf
	switch {
	case encoding == encodingClear && len(body) == 0:
		return 0, nil, fmt.Errorf("%w: empty", errRecord)
	case encoding == encodingSealed && len(body) < sealOverhead:
		return 0, nil, fmt.Errorf("%w: %d bytes, shorter than a sealed record", errRecord, len(body))
	case encoding > encodingSealed:
		return 0, nil, fmt.Errorf("%w: unknown encoding %d", errRecord, encoding)
	}
	return encoding, body, nil
}

// The causes of a secret record that does not fit the store's wrapping key
// after Open checked it: damage, reported as store.ErrCorrupt.
var (
	errNotSealed = errors.New("the secret is in the clear in a store with a wrapping key")
	errSealed    = errors.New("the secret is encrypted in a store without a wrapping key")
	errNoOpen    = errors.New("the secret does not decrypt under the wrapping key")
)

// decodeSecret returns the root secret of its meta record, sealed (if it
// is) for format, in a new slice. Its errors (to be wrapped with
// ErrCorrupt) never include the record's bytes.
func decodeSecret(wrap cipher.AEAD, rec []byte, format uint32) ([]byte, error) {
	encoding, body, err := decodeWrapped(metaSecret, rec)
	switch {
	case err != nil:
		return nil, err
	case encoding == encodingClear && wrap != nil:
		return nil, errNotSealed
	case encoding == encodingClear:
		return append([]byte(nil), body...), nil
	case wrap == nil:
		return nil, errSealed
	}
	secret, err := wrap.Open(nil, nil, body, additionalData(metaSecret, format))
	if err != nil {
		return nil, errNoOpen
	}
	return secret, nil
}

// reseal re-seals, for formatVersion, the sealed meta records of a file of
// format from, in the upgrade's transaction. Open has checked them with
// checkWrapping, so wrap is the store's key if there are any.
func reseal(tx *bolt.Tx, wrap cipher.AEAD, from uint32) error {
	if wrap == nil {
		return nil // no sealed records, or checkWrapping refused the file
	}
	meta := tx.Bucket(bucketMeta)
	if rec := meta.Get(metaSecret); len(rec) > 0 && rec[0] == encodingSealed {
		secret, err := decodeSecret(wrap, rec, from)
		if err != nil {
			return fmt.Errorf("meta record %q: %w: %w", metaSecret, err, store.ErrCorrupt)
		}
		err = meta.Put(metaSecret, encodeSecret(wrap, secret))
		clear(secret)
		if err != nil {
			return err
		}
	}
	if meta.Get(metaKeyCheck) != nil {
		return meta.Put(metaKeyCheck, encodeKeyCheck(wrap))
	}
	return nil
}

// checkWrapping checks, at Open, that wrap (nil: no wrapping key) is the
// wrapping key of the store, whose file is of format (its sealed records
// are sealed for it). It writes nothing: record reports that the store has
// neither a secret nor a key-check record yet, so that Open must record
// wrap in one.
//
// The states a store can be in, and what Open does with and without a key:
//
//	no secret, no key check    without: fine (clear)    with: record the key
//	no secret, key check       without: refuse          with: verify the key check
//	clear secret               without: fine            with: refuse
//	sealed secret              without: refuse          with: decrypt the secret (and verify the key check)
//	clear secret and key check corrupt
func checkWrapping(db *bolt.DB, path string, wrap cipher.AEAD, format uint32) (record bool, err error) {
	wrongKey := func(why string) error {
		return fmt.Errorf("boltstore: open %s: %s: %w", path, why, ErrWrongWrappingKey)
	}
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("boltstore: open %s: %s: %w", path, fmt.Sprintf(format, args...), store.ErrCorrupt)
	}
	err = guard(path, "open", func() error {
		return db.View(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			secretRec, checkRec := meta.Get(metaSecret), meta.Get(metaKeyCheck)
			var secretEnc byte
			var secretBody, checkBody []byte
			if secretRec != nil {
				var err error
				if secretEnc, secretBody, err = decodeWrapped(metaSecret, secretRec); err != nil {
					return corrupt("meta record %q: %v", metaSecret, err)
				}
			}
			if checkRec != nil {
				enc, body, err := decodeWrapped(metaKeyCheck, checkRec)
				if err == nil && enc != encodingSealed {
					err = fmt.Errorf("%w: not sealed", errRecord)
				}
				if err != nil {
					return corrupt("meta record %q: %v", metaKeyCheck, err)
				}
				checkBody = body
			}
			sealed := secretRec != nil && secretEnc == encodingSealed
			clear := secretRec != nil && secretEnc == encodingClear
			checks := func() bool {
				_, err := wrap.Open(nil, nil, checkBody, additionalData(metaKeyCheck, format))
				return err == nil
			}
			switch {
			case clear && checkRec != nil:
				return corrupt("the root secret is in the clear, yet the store records a wrapping key")
			case wrap == nil && sealed:
				return wrongKey("the store's secret is encrypted; a wrapping key is needed (Options.WrappingKey)")
			case wrap == nil && checkRec != nil:
				return wrongKey("the store was opened with a wrapping key before, so its secret is to be encrypted; a wrapping key is needed (Options.WrappingKey)")
			case wrap == nil:
				return nil
			case clear:
				return wrongKey("the store's secret is not encrypted, but a wrapping key was given; open it without one")
			case sealed:
				if _, err := wrap.Open(nil, nil, secretBody, additionalData(metaSecret, format)); err != nil {
					return wrongKey("the store's secret does not decrypt under the key given")
				}
				if checkRec != nil && !checks() {
					return corrupt("the store's secret decrypts under the wrapping key given, but its key check record does not")
				}
				return nil
			case checkRec != nil:
				if !checks() {
					return wrongKey("the key given is not the one the store was first opened with (its key check record does not decrypt under it)")
				}
				return nil
			default:
				record = true
				return nil
			}
		})
	})
	return record && err == nil, err
}
