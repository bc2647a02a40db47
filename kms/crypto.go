package kms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// Sensitive holds secret bytes: a plaintext, a data key, a key store
// password or an XKS secret access key. It is a []byte (pass it wherever a
// []byte goes), but fmt never prints its contents: every verb prints
// "[sensitive N bytes]".
type Sensitive []byte

// String returns "[sensitive N bytes]".
func (b Sensitive) String() string { return "[sensitive " + strconv.Itoa(len(b)) + " bytes]" }

// GoString returns the same as String, so that %#v hides the bytes too.
func (b Sensitive) GoString() string { return b.String() }

// Format writes String for every verb.
func (b Sensitive) Format(f fmt.State, _ rune) { io.WriteString(f, b.String()) }

// EncryptInput is the input of Encrypt. KeyId may be a key ID, key ARN,
// alias name or alias ARN, and another account's key or alias ARN.
type EncryptInput struct {
	KeyId string
	// Plaintext, 1–4096 bytes. Sensitive, so that printing the input
	// shows no plaintext; a []byte assigns to it as it is.
	Plaintext Sensitive
	// EncryptionContext is authenticated: Decrypt needs exactly the same.
	EncryptionContext map[string]string
	// EncryptionAlgorithm, default SYMMETRIC_DEFAULT (the only one a
	// symmetric key takes).
	EncryptionAlgorithm string
}

// EncryptOutput is the output of Encrypt.
type EncryptOutput struct {
	CiphertextBlob      []byte
	EncryptionAlgorithm string
	KeyId               string // the key ARN
}

// DecryptInput is the input of Decrypt.
type DecryptInput struct {
	CiphertextBlob    []byte
	EncryptionContext map[string]string
	// KeyId, when given, must name the key the ciphertext was made under
	// (IncorrectKeyException otherwise).
	KeyId               string
	EncryptionAlgorithm string
	// Recipient, when set, has the response's secret encrypted to the
	// attested enclave's public key (CiphertextForRecipient) instead of
	// returned in plaintext (D80).
	Recipient *RecipientInfo
}

// DecryptOutput is the output of Decrypt.
type DecryptOutput struct {
	EncryptionAlgorithm string
	KeyId               string // the key ARN
	Plaintext           Sensitive
	// CiphertextForRecipient is the secret as a CMS EnvelopedData for the
	// Recipient's public key (then the plaintext member is nil); nil
	// without a Recipient. attestation.Open opens it.
	CiphertextForRecipient []byte
}

// ReEncryptInput is the input of ReEncrypt.
type ReEncryptInput struct {
	CiphertextBlob                 []byte
	SourceEncryptionContext        map[string]string
	SourceKeyId                    string
	SourceEncryptionAlgorithm      string
	DestinationKeyId               string
	DestinationEncryptionContext   map[string]string
	DestinationEncryptionAlgorithm string
}

// ReEncryptOutput is the output of ReEncrypt.
type ReEncryptOutput struct {
	CiphertextBlob                 []byte
	DestinationEncryptionAlgorithm string
	KeyId                          string // the destination key ARN
	SourceEncryptionAlgorithm      string
	SourceKeyId                    string // the source key ARN
}

// GenerateDataKeyInput is the input of GenerateDataKey and
// GenerateDataKeyWithoutPlaintext. Give exactly one of KeySpec (AES_128 or
// AES_256) and NumberOfBytes (1–1024).
type GenerateDataKeyInput struct {
	KeyId             string
	KeySpec           string
	NumberOfBytes     *int32
	EncryptionContext map[string]string
	// Recipient, when set, has the response's secret encrypted to the
	// attested enclave's public key (CiphertextForRecipient) instead of
	// returned in plaintext (D80).
	Recipient *RecipientInfo // GenerateDataKey only
}

// GenerateDataKeyWithoutPlaintextInput is the input of
// GenerateDataKeyWithoutPlaintext, which refuses a Recipient.
type GenerateDataKeyWithoutPlaintextInput = GenerateDataKeyInput

// GenerateDataKeyOutput is the output of GenerateDataKey.
type GenerateDataKeyOutput struct {
	CiphertextBlob []byte
	KeyId          string // the key ARN
	Plaintext      Sensitive
	// CiphertextForRecipient is the secret as a CMS EnvelopedData for the
	// Recipient's public key (then the plaintext member is nil); nil
	// without a Recipient. attestation.Open opens it.
	CiphertextForRecipient []byte
}

// GenerateDataKeyWithoutPlaintextOutput is the output of
// GenerateDataKeyWithoutPlaintext.
type GenerateDataKeyWithoutPlaintextOutput struct {
	CiphertextBlob []byte
	KeyId          string // the key ARN
}

// GenerateRandomInput is the input of GenerateRandom.
type GenerateRandomInput struct {
	// NumberOfBytes, 1–1024.
	NumberOfBytes *int32
	// CustomKeyStoreId, when set, names one of the caller's CloudHSM key
	// stores (in the call's Region) to generate the bytes in, which must
	// be CONNECTED.
	CustomKeyStoreId string
	// Recipient, when set, has the response's secret encrypted to the
	// attested enclave's public key (CiphertextForRecipient) instead of
	// returned in plaintext (D80).
	Recipient *RecipientInfo
}

// GenerateRandomOutput is the output of GenerateRandom.
type GenerateRandomOutput struct {
	Plaintext Sensitive
	// CiphertextForRecipient is the secret as a CMS EnvelopedData for the
	// Recipient's public key (then the plaintext member is nil); nil
	// without a Recipient. attestation.Open opens it.
	CiphertextForRecipient []byte
}

var encryptionAlgorithms = []string{"SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"}

// validateAlgorithm checks an EncryptionAlgorithm value (D3 step 1).
func validateAlgorithm(op keystate.Operation, alg, field string) error {
	if alg == "" {
		return nil
	}
	return checkEnum(op, alg, field, encryptionAlgorithms)
}

// validateContext refuses an encryption context with an empty key.
func validateContext(op keystate.Operation, ec map[string]string, field string) error {
	if _, ok := ec[""]; ok {
		return validationError(op, "", field, "Member must have keys of length greater than or equal to 1")
	}
	return nil
}

// validatePlaintext checks the plaintext's length (1–4096 bytes) without
// ever putting the plaintext into the message.
func validatePlaintext(op keystate.Operation, pt []byte) error {
	return validateSecretLength(op, pt, "plaintext")
}

// validateSecretLength checks a sensitive member's length (1–4096 bytes),
// leaving the value out of the message as AWS does (as recorded against
// the real service by moto's AWS-verified tests, and for Sign's message,
// spec §2.5).
func validateSecretLength(op keystate.Operation, b []byte, field string) error {
	prefix := "1 validation error detected: Value at '" + field + "' failed to satisfy constraint: "
	switch {
	case len(b) == 0:
		return kmsError(keystate.ErrValidation, op, "", keystate.None, prefix+"Member must have length greater than or equal to 1")
	case len(b) > 4096:
		return kmsError(keystate.ErrValidation, op, "", keystate.None, prefix+"Member must have length less than or equal to 4096")
	}
	return nil
}

// encryptionConditions sets the condition keys of a call that encrypts or
// decrypts: its encryption context and kms:EncryptionAlgorithm (present
// even when the request leaves the algorithm out, spec §5.1).
func (s *Service) encryptionConditions(ec map[string]string, alg string) {
	if alg == "" {
		alg = "SYMMETRIC_DEFAULT"
	}
	s.call.ec = ec
	s.condition("kms:EncryptionAlgorithm", alg)
}

// encryptionKind checks, after the key-state table and its key-usage rule
// (D3 step 7: an ENCRYPT_DECRYPT key), that k can encrypt and decrypt with
// alg ("" is SYMMETRIC_DEFAULT), one its spec supports (recorded wording,
// spec §4.2: "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec
// RSA_4096.").
func encryptionKind(op keystate.Operation, k *key, arn, alg string) error {
	if alg == "" {
		alg = "SYMMETRIC_DEFAULT"
	}
	if k.kind.Spec.IsSymmetric() {
		if alg != "SYMMETRIC_DEFAULT" {
			return incompatible(op, k, arn, alg)
		}
		return nil
	}
	if !slices.Contains(keycrypto.EncryptionAlgorithms(k.kind.Spec), alg) {
		return incompatible(op, k, arn, alg)
	}
	return nil
}

// asymmetricContext refuses an encryption context with an asymmetric
// algorithm, which cannot bind one (decision D32: refused rather than
// ignored, so that nothing a caller believes authenticated is not).
func asymmetricContext(op keystate.Operation, k *key, arn string, ec map[string]string, field string) error {
	if len(ec) == 0 || k.kind.Spec.IsSymmetric() {
		return nil
	}
	return kmsError(keystate.ErrValidation, op, arn, k.state,
		"The "+field+" parameter is valid only with symmetric encryption KMS keys; "+arn+" has key spec "+k.kind.Spec.String()+".")
}

// cryptoCall runs the common part of a cryptographic operation on the key
// keyID names (key ID, key ARN, alias name or alias ARN, any account):
// validation (invalid, then the Recipient rcpt, nil for none; D80), the
// Recipient's attestation, lookup and authorization (with the encryption
// context ec, algorithm alg and conds, key/value pairs, and the
// attestation's, as condition keys), the key-state table and key usage,
// then do with the root secret.
func (s *Service) cryptoCall(ctx context.Context, op keystate.Operation, keyID, alg string, ec map[string]string, conds []string,
	rcpt *RecipientInfo, invalid error, params func() map[string]string, do func(k *key, arn string, root []byte) error) error {
	a, invalid := s.checkRecipient(op, rcpt, invalid) // before the lock: it is slow
	if s.cl != nil {
		return retriedErr(s, func() error { return s.cryptoCallOnce(ctx, op, keyID, alg, ec, conds, a, invalid, params, do) })
	}
	return s.cryptoCallOnce(ctx, op, keyID, alg, ec, conds, a, invalid, params, do)
}

// cryptoCallOnce is one run of cryptoCall (cluster mode may run it again).
func (s *Service) cryptoCallOnce(ctx context.Context, op keystate.Operation, keyID, alg string, ec map[string]string, conds []string,
	rcpt *attestedRecipient, invalid error, params func() map[string]string, do func(k *key, arn string, root []byte) error) (err error) {
	now, caller, err := s.begin(ctx, op)
	defer s.end(op, &err)
	if err == nil {
		err = invalid
	}
	if err == nil {
		s.encryptionConditions(ec, alg)
		for i := 0; i+1 < len(conds); i += 2 {
			s.condition(conds[i], conds[i+1])
		}
		err = s.attest(op, rcpt, now)
	}
	var (
		k   *key
		arn string
	)
	if err == nil {
		k, arn, err = s.resolve(ctx, op, caller, keyID, "keyId", allowAlias|crossAccount)
	}
	if err == nil {
		st := k.state
		if s.ec != nil {
			st = s.ecSeenState(k) // D41: a disabled key may still encrypt for a while
		}
		err = keystate.Check(op, st, k.kind, arn)
	}
	if err == nil {
		err = encryptionKind(op, k, arn, alg)
	}
	var root []byte
	if err == nil {
		root, err = s.rootSecret(op)
	}
	if err == nil {
		err = dryRun(ctx, op, k, arn)
	}
	if err == nil {
		err = do(k, arn, root)
	}
	if err == nil {
		s.markUsed(ctx, k, op, now)
	}
	if s.observing() {
		s.record(now, op, caller, arn, params(), err)
	}
	return err
}

// Encrypt encrypts up to 4,096 bytes under the key's current material
// (AES-256-GCM), binding the encryption context. The blob names the key and
// the material version, so Decrypt needs no KeyId and finds the material
// in O(1) after any number of rotations.
//
// With an asymmetric ENCRYPT_DECRYPT key, EncryptionAlgorithm must be one
// of its spec's (RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256 for RSA keys,
// SM2PKE for SM2), and the plaintext at most that algorithm's limit (190
// bytes for RSAES_OAEP_SHA_256 with RSA_2048, and so on). The ciphertext
// is the algorithm's output alone, with no header: Decrypt then needs the
// KeyId and the algorithm. An encryption context is refused (D32).
//
// Errors: ValidationException (also a plaintext over the algorithm's
// limit, and an encryption context with an asymmetric key),
// InvalidArnException, NotFoundException, AccessDeniedException,
// DisabledException, KMSInvalidStateException (table a.2; pending deletion
// per D17), InvalidKeyUsageException (not an ENCRYPT_DECRYPT key; an
// algorithm of another key spec, such as SYMMETRIC_DEFAULT, the default,
// with an RSA key), KMSInternalException.
func (s *Service) Encrypt(ctx context.Context, in *EncryptInput) (*EncryptOutput, error) {
	in = orEmpty(in)
	const op = keystate.Encrypt
	invalid := validatePlaintext(op, in.Plaintext)
	if invalid == nil {
		invalid = validateAlgorithm(op, in.EncryptionAlgorithm, "encryptionAlgorithm")
	}
	if invalid == nil {
		invalid = validateContext(op, in.EncryptionContext, "encryptionContext")
	}
	var out *EncryptOutput
	err := s.cryptoCall(ctx, op, in.KeyId, in.EncryptionAlgorithm, in.EncryptionContext, nil, nil, invalid, func() map[string]string {
		return cryptoParams(in.KeyId, in.EncryptionContext)
	}, func(k *key, arn string, root []byte) error {
		if err := asymmetricContext(op, k, arn, in.EncryptionContext, "EncryptionContext"); err != nil {
			return err
		}
		ct, alg, err := s.encryptTo(op, k, arn, in.Plaintext, in.EncryptionContext, in.EncryptionAlgorithm)
		if err != nil {
			return err
		}
		out = &EncryptOutput{CiphertextBlob: ct, EncryptionAlgorithm: alg, KeyId: arn}
		return nil
	})
	return out, err
}

// sealError is the refusal of a cryptographic call whose material could
// not be used: an EXTERNAL key without imported material (which the
// key-state table already refuses, footnote [5]) or a sealed material
// that does not open, or the randomness source failing.
func sealError(op keystate.Operation, k *key, arn string, err error) error {
	switch {
	case errors.Is(err, errNoMaterial):
		return kmsError(keystate.ErrKMSInvalidState, op, arn, k.state, arn+" is pending import.")
	case errors.Is(err, errSealedFormat), errors.Is(err, errSealedRefused):
		return &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err,
			Message: "The key's imported key material cannot be used."}
	}
	return &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err, Message: "The randomness source failed."}
}

// cryptoParams are the event parameters of a cryptographic call: never a
// plaintext or a ciphertext.
func cryptoParams(keyID string, ec map[string]string) map[string]string {
	p := map[string]string{"keyId": keyID}
	for k, v := range ec {
		p["encryptionContext."+k] = v
	}
	return p
}

// decryptBlob resolves the key a ciphertext blob names and decrypts it: the
// shared core of Decrypt and ReEncrypt. keyID, when not empty, must name
// the same key. The caller holds s.mu.
func (s *Service) decryptBlob(ctx context.Context, op keystate.Operation, caller string, ct []byte,
	ec map[string]string, keyID, alg string) ([]byte, *key, string, error) {
	b, ok := parseBlob(ct)
	if !ok {
		return nil, nil, "", kmsError(keystate.ErrInvalidCiphertext, op, keyID, keystate.None, "")
	}
	k := s.rg.keys.get(b.keyID)
	if k == nil || s.ec != nil && s.ecView(k) == nil {
		return nil, nil, "", s.notFoundKey(op, s.keyARN(caller, b.keyID))
	}
	arn := s.arnOf(k)
	if keyID != "" {
		named, _, err := s.resolve(ctx, op, caller, keyID, "keyId", allowAlias|crossAccount)
		if err != nil {
			return nil, nil, "", err
		}
		if named != k {
			// No recording; AWS's long-standing wording.
			return nil, nil, "", kmsError(keystate.ErrIncorrectKey, op, arn, k.state,
				"The key ID in the request does not identify a CMK that can perform this operation.")
		}
	}
	if err := s.authorize(ctx, op, caller, k, arn); err != nil {
		return nil, nil, "", err
	}
	st := k.state
	if s.ec != nil {
		st = s.ecSeenState(k) // D41
	}
	if err := keystate.Check(op, st, k.kind, arn); err != nil {
		return nil, nil, "", err
	}
	if err := encryptionKind(op, k, arn, alg); err != nil {
		return nil, nil, "", err
	}
	root, err := s.rootSecret(op)
	if err != nil {
		return nil, nil, "", err
	}
	if uint64(b.version) > uint64(len(k.rotations)) {
		return nil, nil, "", kmsError(keystate.ErrInvalidCiphertext, op, arn, k.state, "")
	}
	g, err := s.keyAEAD(root, k, b.version)
	if err != nil {
		return nil, nil, "", sealError(op, k, arn, err)
	}
	pt, ok := open(g, b, ec)
	if !ok {
		return nil, nil, "", kmsError(keystate.ErrInvalidCiphertext, op, arn, k.state, "")
	}
	return pt, k, arn, nil
}

// requiredBlob is the ValidationException of a required binary member
// (1–6144 bytes) that is missing or too long, or nil.
func requiredBlob(op keystate.Operation, b []byte, field string) error {
	switch {
	case len(b) == 0:
		return required(op, field)
	case len(b) > maxCiphertextBlob:
		return validationError(op, "[blob]", field, "Member must have length less than or equal to 6144")
	}
	return nil
}

func validateBlob(op keystate.Operation, ct []byte, field string) error {
	switch {
	case len(ct) == 0:
		return validationError(op, "", field, "Member must have length greater than or equal to 1")
	case len(ct) > maxCiphertextBlob:
		return validationError(op, "[blob]", field, "Member must have length less than or equal to 6144")
	}
	return nil
}

// Decrypt decrypts a ciphertext blob made by Encrypt, GenerateDataKey or
// ReEncrypt, with the material version it names, whatever rotations came
// since. The encryption context must be exactly the one given then.
//
// A ciphertext of an asymmetric key (made by Encrypt or outside KMS with
// the key's public key) carries no header: KeyId must name the key and
// EncryptionAlgorithm the algorithm (without it: InvalidCiphertextException,
// D33).
//
// With a Recipient, the plaintext is returned only as CiphertextForRecipient,
// sealed to the public key of the Nitro enclave's attestation document
// (D80); a Recipient that is invalid, or whose document does not verify,
// is ValidationException.
//
// Errors: ValidationException, InvalidCiphertextException (not a blob,
// tampered, or another encryption context), IncorrectKeyException (KeyId
// names another key), NotFoundException (the key no longer exists),
// InvalidArnException, AccessDeniedException, DisabledException,
// KMSInvalidStateException, InvalidKeyUsageException, KMSInternalException.
func (s *Service) Decrypt(ctx context.Context, in *DecryptInput) (*DecryptOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*DecryptOutput, error) { return s.decryptOnce(ctx, in) })
	}
	return s.decryptOnce(ctx, in)
}

// decryptOnce is one run of Decrypt (cluster mode may run it again).
func (s *Service) decryptOnce(ctx context.Context, in *DecryptInput) (res *DecryptOutput, err error) {
	in = orEmpty(in)
	const op = keystate.Decrypt
	invalid := validateBlob(op, in.CiphertextBlob, "ciphertextBlob")
	if invalid == nil {
		invalid = validateAlgorithm(op, in.EncryptionAlgorithm, "encryptionAlgorithm")
	}
	if invalid == nil && in.KeyId != "" {
		invalid = checkLength(op, in.KeyId, "keyId", 1, 2048)
	}
	rcpt, invalid := s.checkRecipient(op, in.Recipient, invalid) // before the lock: it is slow
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	if err == nil {
		err = invalid
	}
	var (
		pt       []byte
		k        *key
		arn, alg string
	)
	if err == nil {
		s.encryptionConditions(in.EncryptionContext, in.EncryptionAlgorithm)
		err = s.attest(op, rcpt, now)
	}
	if err == nil {
		pt, k, arn, alg, err = s.decryptAny(ctx, op, caller, in.CiphertextBlob, in.EncryptionContext, in.KeyId, "keyId", in.EncryptionAlgorithm)
	}
	if err == nil {
		if err = dryRun(ctx, op, k, arn); err != nil {
			clear(pt)
		}
	}
	var forRecipient []byte
	if err == nil {
		forRecipient, err = s.forRecipient(op, k, arn, &pt)
	}
	if err == nil {
		s.markUsed(ctx, k, op, now)
	}
	if s.observing() {
		s.record(now, op, caller, arn, cryptoParams(in.KeyId, in.EncryptionContext), err)
	}
	if err != nil {
		return nil, err
	}
	return &DecryptOutput{EncryptionAlgorithm: alg, KeyId: arn, Plaintext: pt, CiphertextForRecipient: forRecipient}, nil
}

// decryptAny decrypts ct: as an asymmetric ciphertext when keyID names an
// asymmetric key (such a ciphertext carries no header naming its key),
// otherwise as a blob of a symmetric key (decryptBlob). It returns the
// plaintext, the key, its ARN and the algorithm used. The caller holds
// s.mu.
func (s *Service) decryptAny(ctx context.Context, op keystate.Operation, caller string, ct []byte,
	ec map[string]string, keyID, field, alg string) ([]byte, *key, string, string, error) {
	// A symmetric blob names its key (which must then exist, and be the
	// one KeyId names: IncorrectKeyException), whatever else KeyId names;
	// an asymmetric ciphertext is random bytes, no blob unless a header
	// with a well-formed key ID happens to come out.
	if _, blob := parseBlob(ct); keyID == "" || blob || !s.namesAsymmetric(caller, keyID) {
		pt, k, arn, err := s.decryptBlob(ctx, op, caller, ct, ec, keyID, alg)
		return pt, k, arn, "SYMMETRIC_DEFAULT", err
	}
	k, arn, err := s.resolve(ctx, op, caller, keyID, field, allowAlias|crossAccount)
	if err == nil {
		err = keystate.Check(op, k.state, k.kind, arn)
	}
	if err == nil && alg == "" {
		// D33: the ciphertext does not say how it was made (RPT-JS2600,
		// InvalidCiphertextException with AWS's empty message).
		err = kmsError(keystate.ErrInvalidCiphertext, op, arn, k.state, "")
	}
	if err == nil {
		err = encryptionKind(op, k, arn, alg)
	}
	if err == nil {
		err = asymmetricContext(op, k, arn, ec, "EncryptionContext")
	}
	if err != nil {
		return nil, nil, arn, "", err
	}
	ck, err := s.cryptoKey(op, k, arn)
	if err != nil {
		return nil, nil, arn, "", err
	}
	pt, err := ck.Decrypt(alg, ct)
	if err != nil {
		return nil, nil, arn, "", cryptoError(op, k, arn, err)
	}
	return pt, k, arn, alg, nil
}

// namesAsymmetric reports whether id names an existing asymmetric key in
// the caller's Region, as resolve would find it, without resolve's checks
// or side effects (resolve then makes them).
func (s *Service) namesAsymmetric(caller, id string) bool {
	k := s.peekKey(caller, id)
	return k != nil && k.kind.Spec.IsAsymmetric()
}

// reEncryptsOnSameKey is ReEncrypt's kms:ReEncryptOnSameKey (D76):
// whether its destination names the key the ciphertext was encrypted
// under (the key a symmetric blob names, else SourceKeyId's), as resolve
// and decryptAny would find them.
func (s *Service) reEncryptsOnSameKey(caller string, in *ReEncryptInput) bool {
	var src *key
	if b, ok := parseBlob(in.CiphertextBlob); ok {
		src = s.rg.keys.get(b.keyID) // of any account, as decryptBlob finds it
	} else {
		src = s.peekKey(caller, in.SourceKeyId)
	}
	return src != nil && s.peekKey(caller, in.DestinationKeyId) == src
}

// peekKey returns the existing key id names in the caller's Region, as
// resolve would find it, without resolve's checks or side effects, or nil.
func (s *Service) peekKey(caller, id string) *key {
	var k *key
	switch {
	case strings.HasPrefix(id, "arn:"):
		a, ok := parseARN(id)
		if !ok || a.region != s.rg.name || a.partition != s.rg.partition {
			return nil
		}
		if a.alias != "" {
			k = s.peekAlias(s.rg.aliases[aliasID{account: a.account, name: a.alias}])
		} else if k = s.rg.keys.get(a.keyID); k != nil && k.account != a.account {
			k = nil
		}
	case strings.HasPrefix(id, "alias/"):
		k = s.peekAlias(s.rg.aliases[aliasID{account: caller, name: id}])
	default:
		if k = s.rg.keys.get(id); k != nil && k.account != caller {
			k = nil
		}
	}
	return k
}

// peekAlias returns the key alias al (nil: none) points to for the call in
// progress, as resolve finds it: with the eventual-consistency model on,
// its target as the caller sees it (D41).
func (s *Service) peekAlias(al *alias) *key {
	switch {
	case al == nil:
		return nil
	case s.ec != nil:
		return s.ecAliasTarget(al)
	}
	return al.target
}

// ReEncrypt decrypts a ciphertext blob and encrypts its plaintext under the
// destination key's current material, without returning the plaintext.
// The source key is checked as for Decrypt, the destination as for
// Encrypt. An asymmetric source needs SourceKeyId and
// SourceEncryptionAlgorithm; an asymmetric destination needs
// DestinationEncryptionAlgorithm.
//
// Errors: those of Decrypt and of Encrypt.
func (s *Service) ReEncrypt(ctx context.Context, in *ReEncryptInput) (*ReEncryptOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*ReEncryptOutput, error) { return s.reEncryptOnce(ctx, in) })
	}
	return s.reEncryptOnce(ctx, in)
}

// reEncryptOnce is one run of ReEncrypt (cluster mode may run it again).
func (s *Service) reEncryptOnce(ctx context.Context, in *ReEncryptInput) (res *ReEncryptOutput, err error) {
	in = orEmpty(in)
	const op = keystate.ReEncrypt
	invalid := validateBlob(op, in.CiphertextBlob, "ciphertextBlob")
	if invalid == nil {
		invalid = checkLength(op, in.DestinationKeyId, "destinationKeyId", 1, 2048)
	}
	if invalid == nil {
		invalid = validateAlgorithm(op, in.SourceEncryptionAlgorithm, "sourceEncryptionAlgorithm")
	}
	if invalid == nil {
		invalid = validateAlgorithm(op, in.DestinationEncryptionAlgorithm, "destinationEncryptionAlgorithm")
	}
	if invalid == nil {
		invalid = validateContext(op, in.DestinationEncryptionContext, "destinationEncryptionContext")
	}
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	if err == nil {
		err = invalid
	}
	var (
		pt             []byte
		srcARN, dARN   string
		src, dst       *key
		blob           []byte
		srcAlg, dstAlg string
		same           string
		began          callConditions
	)
	if err == nil {
		// Two authorizations (spec §3.2 rule 7): kms:ReEncryptFrom on the
		// source key with its context, kms:ReEncryptTo on the destination
		// with its own.
		// Both carry kms:ReEncryptOnSameKey (D76), and the conditions
		// the call began with (its network, a service principal's
		// source, WithConditions').
		same = strconv.FormatBool(s.reEncryptsOnSameKey(caller, in))
		began = s.call
		s.call.action = "kms:ReEncryptFrom"
		s.encryptionConditions(in.SourceEncryptionContext, in.SourceEncryptionAlgorithm)
		s.condition("kms:ReEncryptOnSameKey", same)
		pt, src, srcARN, srcAlg, err = s.decryptAny(ctx, op, caller, in.CiphertextBlob, in.SourceEncryptionContext,
			in.SourceKeyId, "sourceKeyId", in.SourceEncryptionAlgorithm)
	}
	if err == nil {
		// began's extra is a prefix of the buffer that the source's
		// conditions only appended to.
		s.call = began
		s.call.action = "kms:ReEncryptTo"
		s.encryptionConditions(in.DestinationEncryptionContext, in.DestinationEncryptionAlgorithm)
		s.condition("kms:ReEncryptOnSameKey", same)
		dst, dARN, err = s.resolve(ctx, op, caller, in.DestinationKeyId, "destinationKeyId", allowAlias|crossAccount)
	}
	if err == nil {
		err = keystate.Check(op, dst.state, dst.kind, dARN)
	}
	if err == nil {
		err = encryptionKind(op, dst, dARN, in.DestinationEncryptionAlgorithm)
	}
	if err == nil {
		err = asymmetricContext(op, dst, dARN, in.DestinationEncryptionContext, "DestinationEncryptionContext")
	}
	if err == nil {
		err = dryRun(ctx, op, dst, dARN)
	}
	if err == nil {
		blob, dstAlg, err = s.encryptTo(op, dst, dARN, pt, in.DestinationEncryptionContext, in.DestinationEncryptionAlgorithm)
	}
	clear(pt)
	if err == nil {
		s.markUsed(ctx, src, op, now)
		s.markUsed(ctx, dst, op, now)
	}
	if s.observing() {
		p := cryptoParams(in.DestinationKeyId, in.DestinationEncryptionContext)
		p["sourceKeyId"] = in.SourceKeyId
		s.record(now, op, caller, dARN, p, err)
	}
	if err != nil {
		return nil, err
	}
	return &ReEncryptOutput{CiphertextBlob: blob, DestinationEncryptionAlgorithm: dstAlg, KeyId: dARN,
		SourceEncryptionAlgorithm: srcAlg, SourceKeyId: srcARN}, nil
}

// encryptTo encrypts pt under k (whose kind and algorithm are checked):
// a symmetric blob, or an asymmetric ciphertext with alg. It returns the
// ciphertext and the algorithm used. The caller holds s.mu.
func (s *Service) encryptTo(op keystate.Operation, k *key, arn string, pt []byte, ec map[string]string, alg string) ([]byte, string, error) {
	if k.kind.Spec.IsSymmetric() {
		root, err := s.rootSecret(op)
		if err != nil {
			return nil, "", err
		}
		blob, err := s.sealFor(root, k, pt, ec)
		if err != nil {
			return nil, "", sealError(op, k, arn, err)
		}
		return blob, "SYMMETRIC_DEFAULT", nil
	}
	ck, err := s.cryptoKey(op, k, arn)
	if err != nil {
		return nil, "", err
	}
	ct, err := ck.Encrypt(alg, pt)
	if err != nil {
		return nil, "", cryptoError(op, k, arn, err)
	}
	return ct, alg, nil
}

var dataKeySpecs = []string{"AES_256", "AES_128"}

// dataKeySize validates KeySpec / NumberOfBytes: exactly one of them.
func dataKeySize(op keystate.Operation, in *GenerateDataKeyInput) (int, error) {
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != nil, in.KeySpec == "" && in.NumberOfBytes == nil:
		// No recording; the wording AWS uses.
		return 0, kmsError(keystate.ErrValidation, op, "", keystate.None, "Please specify either number of bytes or key spec.")
	case in.NumberOfBytes != nil:
		return int(*in.NumberOfBytes), checkIntRange(op, *in.NumberOfBytes, "numberOfBytes", 1, 1024)
	}
	if err := checkEnum(op, in.KeySpec, "keySpec", dataKeySpecs); err != nil {
		return 0, err
	}
	if in.KeySpec == "AES_128" {
		return 16, nil
	}
	return 32, nil
}

// generateDataKey is GenerateDataKey with or without the plaintext (the
// output by value, so that the one without it makes only its own).
func (s *Service) generateDataKey(ctx context.Context, op keystate.Operation, in *GenerateDataKeyInput) (GenerateDataKeyOutput, error) {
	n, invalid := dataKeySize(op, in)
	if invalid == nil {
		invalid = validateContext(op, in.EncryptionContext, "encryptionContext")
	}
	var (
		out GenerateDataKeyOutput
		pt  []byte
	)
	err := s.cryptoCall(ctx, op, in.KeyId, "", in.EncryptionContext, nil, in.Recipient, invalid, func() map[string]string {
		p := cryptoParams(in.KeyId, in.EncryptionContext)
		if in.KeySpec != "" {
			p["keySpec"] = in.KeySpec
		} else if in.NumberOfBytes != nil {
			p["numberOfBytes"] = strconv.Itoa(int(*in.NumberOfBytes))
		}
		return p
	}, func(k *key, arn string, root []byte) error {
		pt = make([]byte, n)
		if _, err := io.ReadFull(s.cfg.random, pt); err != nil {
			return &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err, Message: "The randomness source failed."}
		}
		var err error
		if out.CiphertextBlob, err = s.sealFor(root, k, pt, in.EncryptionContext); err != nil {
			return sealError(op, k, arn, err)
		}
		if out.CiphertextForRecipient, err = s.forRecipient(op, k, arn, &pt); err != nil {
			return err
		}
		out.KeyId = arn
		return nil
	})
	if err != nil {
		clear(pt)
		return GenerateDataKeyOutput{}, err
	}
	out.Plaintext = pt
	return out, nil
}

// GenerateDataKey returns a new data key (KeySpec AES_128/AES_256, or
// NumberOfBytes 1–1024) in plaintext and encrypted under the key's current
// material, as Encrypt would.
//
// With a Recipient, the data key is returned only as CiphertextForRecipient,
// sealed to the public key of the Nitro enclave's attestation document
// (D80); a Recipient that is invalid, or whose document does not verify,
// is ValidationException.
//
// Errors: those of Encrypt, and ValidationException when both or neither
// of KeySpec and NumberOfBytes are given.
func (s *Service) GenerateDataKey(ctx context.Context, in *GenerateDataKeyInput) (*GenerateDataKeyOutput, error) {
	out, err := s.generateDataKey(ctx, keystate.GenerateDataKey, orEmpty(in))
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GenerateDataKeyWithoutPlaintext is GenerateDataKey returning only the
// encrypted data key. It takes no Recipient (ValidationException, D80).
//
// Errors: those of GenerateDataKey.
func (s *Service) GenerateDataKeyWithoutPlaintext(ctx context.Context, in *GenerateDataKeyWithoutPlaintextInput) (*GenerateDataKeyWithoutPlaintextOutput, error) {
	out, err := s.generateDataKey(ctx, keystate.GenerateDataKeyWithoutPlaintext, orEmpty(in))
	if err != nil {
		return nil, err
	}
	clear(out.Plaintext)
	return &GenerateDataKeyWithoutPlaintextOutput{CiphertextBlob: out.CiphertextBlob, KeyId: out.KeyId}, nil
}

// GenerateRandom returns NumberOfBytes (1–1024) bytes from the service's
// randomness source. With CustomKeyStoreId they come from that CloudHSM
// key store's cluster, simulated: the same source, once the store is
// found, of type AWS_CLOUDHSM and CONNECTED (D56).
//
// With a Recipient, the random bytes are returned only as CiphertextForRecipient,
// sealed to the public key of the Nitro enclave's attestation document
// (D80); a Recipient that is invalid, or whose document does not verify,
// is ValidationException.
//
// Errors: ValidationException, CustomKeyStoreNotFoundException (no such
// store of the caller's in the Region), UnsupportedOperationException (an
// external key store, as the API reference says),
// CustomKeyStoreInvalidStateException (a store not CONNECTED),
// KMSInternalException.
func (s *Service) GenerateRandom(ctx context.Context, in *GenerateRandomInput) (*GenerateRandomOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*GenerateRandomOutput, error) { return s.generateRandomOnce(ctx, in) })
	}
	return s.generateRandomOnce(ctx, in)
}

// randomStore checks the custom key store GenerateRandom is to draw from
// (D56). The caller holds s.mu.
func (s *Service) randomStore(op keystate.Operation, caller, id string) error {
	if err := checkLength(op, id, "customKeyStoreId", 1, 64); err != nil {
		return err
	}
	cs, err := s.findStore(op, caller, id)
	switch {
	case err != nil:
		return err
	case cs.typ != TypeAWSCloudHSM:
		// The API reference's exception; the wording is kmsmodel's.
		return storeError(keystate.ErrUnsupportedOperation, op,
			"Custom key store '"+id+"' is an external key store; GenerateRandom takes a CloudHSM key store only.")
	case cs.state != ConnectionConnected:
		return invalidStoreState(op, cs, ConnectionConnected)
	}
	return nil
}

// generateRandomOnce is one run of GenerateRandom (cluster mode may run it again).
func (s *Service) generateRandomOnce(ctx context.Context, in *GenerateRandomInput) (res *GenerateRandomOutput, err error) {
	in = orEmpty(in)
	const op = keystate.GenerateRandom
	var invalid error
	if in.NumberOfBytes == nil {
		invalid = validationError(op, "null", "numberOfBytes", "Member must not be null")
	} else {
		invalid = checkIntRange(op, *in.NumberOfBytes, "numberOfBytes", 1, 1024)
	}
	rcpt, invalid := s.checkRecipient(op, in.Recipient, invalid) // before the lock: it is slow
	now, caller, err := s.begin(ctx, op)
	defer func() {
		if s.end(op, &err) {
			res = nil
		}
	}()
	if err == nil {
		err = invalid
	}
	if err == nil {
		err = s.attest(op, rcpt, now)
	}
	if err == nil {
		err = s.authorizeIAM(op, "", "*", s.iamContext(false))
	}
	if err == nil && in.CustomKeyStoreId != "" {
		err = s.randomStore(op, caller, in.CustomKeyStoreId)
	}
	var out []byte
	if err == nil {
		out = make([]byte, *in.NumberOfBytes)
		if _, rerr := io.ReadFull(s.cfg.random, out); rerr != nil {
			err = &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, Err: rerr, Message: "The randomness source failed."}
		}
	}
	var forRecipient []byte
	if err == nil {
		forRecipient, err = s.forRecipient(op, nil, "", &out)
	}
	if s.observing() {
		p := map[string]string{}
		if in.NumberOfBytes != nil {
			p["numberOfBytes"] = strconv.Itoa(int(*in.NumberOfBytes))
		}
		if in.CustomKeyStoreId != "" {
			p["customKeyStoreId"] = in.CustomKeyStoreId
		}
		s.record(now, op, caller, "", p, err)
	}
	if err != nil {
		return nil, err
	}
	return &GenerateRandomOutput{Plaintext: out, CiphertextForRecipient: forRecipient}, nil
}
