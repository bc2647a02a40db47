// Package keycrypto turns a key spec and key material into the
// cryptographic primitives AWS KMS offers for asymmetric and HMAC keys:
// Sign/Verify, Encrypt/Decrypt (RSA, SM2), DeriveSharedSecret (ECDH),
// Encapsulate/Decapsulate (ML-KEM), GenerateMac/VerifyMac, GetPublicKey
// and GenerateDataKeyPair.
//
// It knows nothing of key states, stores, clocks or AWS exceptions. Key
// usage (SIGN_VERIFY, ENCRYPT_DECRYPT, …) is the caller's to check;
// keycrypto checks only that an algorithm belongs to the key spec. The
// spec references (§n) are to shared/spec/aws-kms-asymmetric-hmac.md.
//
// # Where to look
//
// One file per family, each saying which library does the work:
//
//   - rsa.go: RSA_2048/3072/4096 — PSS, PKCS#1 v1.5, OAEP (crypto/rsa)
//   - ecc.go: ECC_NIST_P256/P384/P521 — ECDSA and ECDH (crypto/ecdsa, crypto/ecdh)
//   - secp256k1.go: ECC_SECG_P256K1 — ECDSA (decred secp256k1/v4)
//   - ed25519.go: ECC_NIST_EDWARDS25519 — Ed25519 and Ed25519ph (crypto/ed25519)
//   - mldsa.go: ML_DSA_44/65/87 — ML-DSA (filippo.io/mldsa, crypto/mldsa from Go 1.27)
//   - sm2.go: SM2 — SM2DSA, SM2PKE, ECDH (emmansun/gmsm)
//   - mlkem.go: ML_KEM_512/768/1024 — ML-KEM (cloudflare/circl's kem/mlkem)
//   - hmac.go: HMAC_224/256/384/512 (crypto/hmac)
//
// algorithms.go holds the algorithm tables and limits, key.go the Key type
// and the dispatch, pkcs8.go the ASN.1 shared by the EC families,
// datakeypair.go GenerateDataKeyPair, errors.go the errors.
//
// # Algorithms and message types
//
// Sign and Verify take the AWS algorithm and message type strings. RAW
// messages are hashed by the algorithm; DIGEST messages must have
// DigestLength(alg) bytes. ED25519_SHA_512 takes RAW only,
// ED25519_PH_SHA_512 DIGEST only (64 bytes, prehashed again by SHA-512 as
// HashEdDSA does, see ed25519.go), ML_DSA_SHAKE_256 RAW and EXTERNAL_MU
// (a 64-byte μ, FIPS 204 §6.2). Verify accepts RAW where Sign had DIGEST,
// and the reverse, when the hashing agrees; it accepts RAW where Sign had
// EXTERNAL_MU, but not EXTERNAL_MU itself: the ML-DSA library verifies
// only messages, so a signature over μ is verified with RAW and the
// message μ was computed from (see mldsa.go).
//
// # Encodings
//
// Public keys are DER SubjectPublicKeyInfo; EC keys use a named curve and
// an uncompressed point. ECDSA and SM2DSA signatures are DER
// SEQUENCE{r, s}; Ed25519 signatures are 64 bytes R ‖ S; ML-DSA signatures
// are FIPS 204 encoded. RSA ciphertext is the bare OAEP output, SM2
// ciphertext the ASN.1 C1C3C2 form, an ML-KEM encapsulation the FIPS 203
// ciphertext.
//
// # Storage form
//
// Marshal returns PKCS#8 DER for asymmetric keys (ML-DSA: the 32-byte seed
// in PKCS#8, as the IETF ML-DSA certificates draft allows; ML-KEM: the
// 64-byte seed d ‖ z, as the ML-KEM draft allows) and raw bytes
// for HMAC keys; Parse reads it back. ParseImported applies AWS's import
// rules (§9.1) instead.
//
// # Randomness
//
// Generate reads every private value from the reader it is given, so a
// seeded reader reproduces the key — except RSA keys, which crypto/rsa
// always generates from the system CSPRNG (Go 1.26). Signatures and
// encryptions are randomized like AWS's, with the system CSPRNG (Go 1.26
// crypto ignores caller readers); secp256k1 signatures are RFC 6979
// deterministic, which is equally valid ECDSA; Ed25519 is deterministic by
// design. Encapsulate reads its 32 random bytes from the reader it is
// given, so a seeded reader reproduces the encapsulation too.
//
// # Errors
//
// Every error wraps exactly one sentinel (ErrIncompatibleAlgorithm,
// ErrDigestLength, …) through *Error. Where AWS answers with a recorded
// message, Error() is "keycrypto: " followed by exactly that message, and
// Message(err) returns it; for the errors AWS answers with an empty message
// (invalid signature, ciphertext, MAC, public key) Message returns "". The
// exceptions are failures of the random reader given to Generate (its I/O
// error, or a reader that yields no valid private scalar in 64 tries) and
// failures inside a library primitive that a valid key cannot cause; those
// are returned as they are.
// No error text, and no fmt verb applied to a Key, shows key material.
package keycrypto
