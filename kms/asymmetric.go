package kms

import (
	"context"
	"errors"
	"slices"

	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// Asymmetric and HMAC keys.
//
// The cryptography itself lives in internal/keycrypto, which turns a key
// spec and its material into signatures, ciphertexts, shared secrets and
// MACs; this file holds the rules around it (key usage, algorithms, message
// limits, the order of checks) and the material's life.
//
// A key of origin AWS_KMS gets its material on first use, not at CreateKey,
// so that creating a key of any spec costs what a symmetric one does
// (generating an RSA_4096 key takes about a second). The material is then
// sealed (as imported material is) and written to the store with the key,
// and to every other key of its multi-Region key, before the call that
// needed it answers: the public key a caller first sees never changes,
// across restarts and Regions. An EXTERNAL key's material is the one
// imported into it. Either way the parsed key is kept with the key's
// material record (imported.parsed), so a key is parsed once per service.

var (
	signingAlgorithmNames = []string{"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
		"RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
		"ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512", "SM2DSA", "ML_DSA_SHAKE_256",
		"ED25519_SHA_512", "ED25519_PH_SHA_512"}
	messageTypeNames = []string{"RAW", "DIGEST", "EXTERNAL_MU"}
	// macAlgorithmNames is in the order AWS lists them in its enum
	// message (recorded, asymmetric-hmac spec §7).
	macAlgorithmNames    = []string{"HMAC_SHA_384", "HMAC_SHA_256", "HMAC_SHA_224", "HMAC_SHA_512"}
	keyAgreementNames    = []string{"ECDH"}
	encapsulationNames   = []string{"ML_KEM"}
	dataKeyPairSpecNames = []string{"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384",
		"ECC_NIST_P521", "ECC_SECG_P256K1", "SM2", "ECC_NIST_EDWARDS25519", "ML_KEM_512", "ML_KEM_768", "ML_KEM_1024"}
)

// SignInput is the input of Sign. KeyId may be a key ID, key ARN, alias
// name or alias ARN, and another account's key or alias ARN.
type SignInput struct {
	KeyId string
	// Message, 1–4096 bytes: the message itself (MessageType RAW, the
	// default), its digest (DIGEST), or an ML-DSA μ (EXTERNAL_MU).
	// Sensitive, so that printing the input shows none of it.
	Message          Sensitive
	MessageType      string
	SigningAlgorithm string
}

// SignOutput is the output of Sign.
type SignOutput struct {
	KeyId            string // the key ARN
	Signature        []byte
	SigningAlgorithm string
}

// VerifyInput is the input of Verify: SignInput's members and the
// Signature to check.
type VerifyInput struct {
	KeyId            string
	Message          Sensitive
	MessageType      string
	Signature        []byte
	SigningAlgorithm string
}

// VerifyOutput is the output of Verify. SignatureValid is always true: an
// invalid signature is KMSInvalidSignatureException.
type VerifyOutput struct {
	KeyId            string // the key ARN
	SignatureValid   bool
	SigningAlgorithm string
}

// GetPublicKeyInput is the input of GetPublicKey. KeyId may be a key ID,
// key ARN, alias name or alias ARN, and another account's key or alias
// ARN.
type GetPublicKeyInput struct {
	KeyId string
}

// GetPublicKeyOutput is the output of GetPublicKey: the public key as a
// DER SubjectPublicKeyInfo (RFC 5280), and the one algorithm list that
// matches the key's usage.
type GetPublicKeyOutput struct {
	KeyId                  string // the key ARN
	PublicKey              []byte
	KeySpec                string
	CustomerMasterKeySpec  string // deprecated mirror of KeySpec
	KeyUsage               string
	EncryptionAlgorithms   []string
	SigningAlgorithms      []string
	KeyAgreementAlgorithms []string
	// EncapsulationAlgorithms is [ML_KEM] for an ML-KEM key.
	EncapsulationAlgorithms []string
}

// GenerateMacInput is the input of GenerateMac.
type GenerateMacInput struct {
	KeyId        string
	Message      Sensitive // 1–4096 bytes
	MacAlgorithm string
}

// GenerateMacOutput is the output of GenerateMac.
type GenerateMacOutput struct {
	KeyId        string // the key ARN
	Mac          []byte
	MacAlgorithm string
}

// VerifyMacInput is the input of VerifyMac.
type VerifyMacInput struct {
	KeyId        string
	Message      Sensitive // 1–4096 bytes
	MacAlgorithm string
	Mac          []byte
}

// VerifyMacOutput is the output of VerifyMac. MacValid is always true: a
// wrong MAC is KMSInvalidMacException.
type VerifyMacOutput struct {
	KeyId        string // the key ARN
	MacAlgorithm string
	MacValid     bool
}

// DeriveSharedSecretInput is the input of DeriveSharedSecret. PublicKey is
// the other party's public key, a DER SubjectPublicKeyInfo on the key's
// curve.
type DeriveSharedSecretInput struct {
	KeyId                 string
	KeyAgreementAlgorithm string
	PublicKey             []byte
	// Recipient, when set, has the response's secret encrypted to the
	// attested enclave's public key (CiphertextForRecipient) instead of
	// returned in plaintext (D80).
	Recipient *RecipientInfo
}

// DeriveSharedSecretOutput is the output of DeriveSharedSecret: the raw
// ECDH shared secret (the x-coordinate of the shared point; no key
// derivation function applied).
type DeriveSharedSecretOutput struct {
	KeyId                 string // the key ARN
	SharedSecret          Sensitive
	KeyAgreementAlgorithm string
	KeyOrigin             string
	// CiphertextForRecipient is the secret as a CMS EnvelopedData for the
	// Recipient's public key (then the plaintext member is nil); nil
	// without a Recipient. attestation.Open opens it.
	CiphertextForRecipient []byte
}

// incompatible is the refusal of an algorithm the key's spec does not
// support (recorded wording).
func incompatible(op keystate.Operation, k *key, arn, alg string) error {
	return kmsError(keystate.ErrInvalidKeyUsage, op, arn, k.state,
		"Algorithm "+alg+" is incompatible with key spec "+k.kind.Spec.String()+".")
}

// checkAlgorithm checks, after the key-state table and its key-usage rule
// (D3 step 7), that alg is one of algs, the algorithms of k's spec: the
// usage first, then the algorithm (recorded order, spec §2.5).
func checkAlgorithm(op keystate.Operation, k *key, arn string, alg string, algs []string) error {
	if !slices.Contains(algs, alg) {
		return incompatible(op, k, arn, alg)
	}
	return nil
}

// validateMessage checks a Message member (1–4096 bytes) without putting
// it into the message.
func validateMessage(op keystate.Operation, m []byte) error {
	return validateSecretLength(op, m, "message")
}

// required is the ValidationException of a missing required member.
func required(op keystate.Operation, field string) error {
	return validationError(op, "null", field, "Member must not be null")
}

// cryptoError turns a keycrypto refusal into the AWS exception: a digest
// of the wrong length, a message type the algorithm does not take, an
// over-long plaintext or a peer key that is not one are
// ValidationException; an invalid signature, ciphertext or MAC their own
// exceptions, with AWS's empty message.
func cryptoError(op keystate.Operation, k *key, arn string, err error) error {
	code := keystate.ErrKMSInternal
	switch {
	case errors.Is(err, keycrypto.ErrDigestLength), errors.Is(err, keycrypto.ErrMessageType),
		errors.Is(err, keycrypto.ErrPlaintextTooLarge), errors.Is(err, keycrypto.ErrInvalidPublicKey):
		code = keystate.ErrValidation
	case errors.Is(err, keycrypto.ErrIncompatibleAlgorithm):
		code = keystate.ErrInvalidKeyUsage
	case errors.Is(err, keycrypto.ErrInvalidSignature):
		code = keystate.ErrKMSInvalidSignature
	case errors.Is(err, keycrypto.ErrInvalidCiphertext):
		code = keystate.ErrInvalidCiphertext
	case errors.Is(err, keycrypto.ErrInvalidMac):
		code = keystate.ErrKMSInvalidMac
	case errors.Is(err, keycrypto.ErrUnsupportedSpec):
		code = keystate.ErrUnsupportedOperation
	}
	msg := keycrypto.Message(err)
	if code == keystate.ErrKMSInternal {
		msg = "The key's material cannot be used."
	}
	return &keystate.Error{Code: code, Op: op, KeyID: arn, State: k.state, Err: err, Message: msg}
}

// cryptoKey returns k's asymmetric or HMAC material, parsed: the imported
// material of an EXTERNAL key, or the material of an AWS_KMS key,
// generated, sealed and written to the store (for k and every other key of
// its multi-Region key, in one batch) on its first use. The caller holds
// s.mu.
func (s *Service) cryptoKey(op keystate.Operation, k *key, arn string) (*keycrypto.Key, error) {
	if k.imp != nil && k.imp.parsed != nil {
		return k.imp.parsed, nil
	}
	root, err := s.rootSecret(op)
	if err != nil {
		return nil, err
	}
	if k.imp.present() {
		m, err := s.unsealMaterial(root, k.id, k.imp.sealed)
		if err != nil {
			return nil, sealError(op, k, arn, err)
		}
		defer clear(m)
		parsed, err := keycrypto.Parse(k.kind.Spec, m)
		if err != nil {
			return nil, &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err,
				Message: "The key's material cannot be used."}
		}
		k.imp.parsed = parsed // the one field of imported set after it is made
		return parsed, nil
	}
	if k.kind.Origin != keystate.AWSKMS {
		// The key-state table refuses an EXTERNAL key without material
		// (footnote [5]) before this.
		return nil, sealError(op, k, arn, errNoMaterial)
	}
	return s.generateMaterial(op, k, arn, root)
}

// generateMaterial generates k's material, seals it and installs it on k
// and on every other key of its multi-Region key, after writing them all
// in one store batch.
func (s *Service) generateMaterial(op keystate.Operation, k *key, arn string, root []byte) (*keycrypto.Key, error) {
	parsed, err := keycrypto.Generate(k.kind.Spec, s.cfg.random)
	if err != nil {
		if errors.Is(err, keycrypto.ErrUnsupportedSpec) {
			return nil, kmsError(keystate.ErrUnsupportedOperation, op, arn, k.state,
				"Key material of key spec "+k.kind.Spec.String()+" is not modelled by this version of kmsmodel.")
		}
		return nil, &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err,
			Message: "The key material could not be generated."}
	}
	m := parsed.Marshal()
	sealed, err := s.sealMaterial(root, k.id, m)
	clear(m)
	if err != nil {
		return nil, &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err,
			Message: "The randomness source failed."}
	}
	imp := &imported{sealed: sealed, parsed: parsed}
	members := []*key{k}
	if k.fam != nil {
		members = k.fam.members
	}
	if s.st != nil {
		b := store.Batch{PutKeys: make([]store.Key, 0, len(members))}
		for _, m := range members {
			nk := *m
			nk.imp, nk.version = imp, m.version+1
			b.PutKeys = append(b.PutKeys, s.toRecord(&nk))
		}
		if err := s.persist(&b); err != nil {
			return nil, internalError(op, arn, k.state, err)
		}
	}
	for _, m := range members {
		m.imp = imp
		if s.st != nil {
			m.version++
		}
	}
	return parsed, nil
}

// asymCall runs the common part of an operation on an asymmetric or HMAC
// key: validation (invalid), lookup and authorization (alias forms and
// other accounts allowed; conds are the request's condition keys and
// values, in pairs, for the key policy), the key-state table, check (the
// key's usage and algorithm), the key's material (when needKey; do gets
// nil otherwise),
// then do; and records the call. A call that succeeds is the key's last
// usage when used is set.
func (s *Service) asymCall(ctx context.Context, op keystate.Operation, keyID string, invalid error, used, needKey bool,
	conds []string, params func() map[string]string, check func(k *key, arn string) error,
	do func(k *key, arn string, ck *keycrypto.Key) error) error {
	return s.asymCallFor(ctx, op, keyID, invalid, used, needKey, conds, nil, params, check, do)
}

// asymCallFor is asymCall with a Recipient (rcpt, nil for none; D80),
// checked after the rest of the input (invalid) and attested before the
// key is resolved, so that its condition keys take part in authorization.
func (s *Service) asymCallFor(ctx context.Context, op keystate.Operation, keyID string, invalid error, used, needKey bool,
	conds []string, rcpt *RecipientInfo, params func() map[string]string, check func(k *key, arn string) error,
	do func(k *key, arn string, ck *keycrypto.Key) error) error {
	a, invalid := s.checkRecipient(op, rcpt, invalid) // before the lock: it is slow
	if s.cl != nil {
		return retriedErr(s, func() error {
			return s.asymCallOnce(ctx, op, keyID, invalid, used, needKey, conds, a, params, check, do)
		})
	}
	return s.asymCallOnce(ctx, op, keyID, invalid, used, needKey, conds, a, params, check, do)
}

// asymCallOnce is one run of asymCall (cluster mode may run it again).
func (s *Service) asymCallOnce(ctx context.Context, op keystate.Operation, keyID string, invalid error, used, needKey bool,
	conds []string, rcpt *attestedRecipient, params func() map[string]string, check func(k *key, arn string) error,
	do func(k *key, arn string, ck *keycrypto.Key) error) (err error) {
	now, caller, err := s.begin(ctx, op)
	defer s.end(op, &err)
	if err == nil {
		err = invalid
	}
	for i := 0; err == nil && i+1 < len(conds); i += 2 {
		s.condition(conds[i], conds[i+1])
	}
	if err == nil {
		err = s.attest(op, rcpt, now)
	}
	var (
		k   *key
		arn string
		ck  *keycrypto.Key
	)
	if err == nil {
		k, arn, err = s.resolve(ctx, op, caller, keyID, "keyId", allowAlias|crossAccount)
	}
	if err == nil {
		err = keystate.Check(op, k.state, k.kind, arn)
	}
	if err == nil {
		err = check(k, arn)
	}
	if err == nil && needKey {
		ck, err = s.cryptoKey(op, k, arn)
	}
	if err == nil && used {
		// The operations that count as uses are the ones that take
		// DryRun (GetPublicKey takes neither).
		err = dryRun(ctx, op, k, arn)
	}
	if err == nil {
		err = do(k, arn, ck)
	}
	if err == nil && used {
		s.markUsed(ctx, k, op, now)
	}
	if s.observing() {
		s.record(now, op, caller, arn, params(), err)
	}
	return err
}

// validateSigning is Sign's and Verify's input validation (D3 step 1).
func validateSigning(op keystate.Operation, message []byte, messageType, alg string, sig []byte, verify bool) error {
	if err := validateMessage(op, message); err != nil {
		return err
	}
	if messageType != "" {
		if err := checkEnum(op, messageType, "messageType", messageTypeNames); err != nil {
			return err
		}
	}
	if verify {
		if err := requiredBlob(op, sig, "signature"); err != nil {
			return err
		}
	}
	return requiredEnum(op, alg, "signingAlgorithm", signingAlgorithmNames)
}

// Sign signs a message, or its digest, with an asymmetric SIGN_VERIFY
// key's private key, with SigningAlgorithm, one of the key spec's (see
// KeyMetadata.SigningAlgorithms). MessageType RAW (the default) signs the
// message, hashed as the algorithm says; DIGEST signs a digest the caller
// made, which must have the algorithm's hash length; EXTERNAL_MU takes an
// ML-DSA μ. An AWS_KMS key's material is generated on its first use.
//
// Errors: ValidationException (Message empty or over 4096 bytes,
// MessageType or SigningAlgorithm missing or unknown, a digest of the
// wrong length, a message type the algorithm does not take),
// InvalidArnException, NotFoundException, AccessDeniedException,
// DisabledException, KMSInvalidStateException (table a.2; pending deletion
// per D17), InvalidKeyUsageException (not a SIGN_VERIFY key; an algorithm
// of another key spec), KMSInternalException.
func (s *Service) Sign(ctx context.Context, in *SignInput) (*SignOutput, error) {
	in = orEmpty(in)
	const op = keystate.Sign
	invalid := validateSigning(op, in.Message, in.MessageType, in.SigningAlgorithm, nil, false)
	var out *SignOutput
	err := s.asymCall(ctx, op, in.KeyId, invalid, true, true, []string{"kms:SigningAlgorithm", in.SigningAlgorithm,
		"kms:MessageType", messageType(in.MessageType)}, func() map[string]string {
		return signParams(in.KeyId, in.MessageType, in.SigningAlgorithm)
	}, func(k *key, arn string) error {
		return checkAlgorithm(op, k, arn, in.SigningAlgorithm, keycrypto.SigningAlgorithms(k.kind.Spec))
	}, func(k *key, arn string, ck *keycrypto.Key) error {
		sig, err := ck.Sign(in.SigningAlgorithm, messageType(in.MessageType), in.Message)
		if err != nil {
			return cryptoError(op, k, arn, err)
		}
		out = &SignOutput{KeyId: arn, Signature: sig, SigningAlgorithm: in.SigningAlgorithm}
		return nil
	})
	return out, err
}

// Verify checks a signature made with an asymmetric SIGN_VERIFY key and
// SigningAlgorithm, of a message or its digest (MessageType as for Sign;
// a signature made over the message verifies against its digest, and the
// other way round). A signature that does not verify, for whatever
// reason, is KMSInvalidSignatureException; SignatureValid is always true.
//
// Errors: Sign's, and KMSInvalidSignatureException.
func (s *Service) Verify(ctx context.Context, in *VerifyInput) (*VerifyOutput, error) {
	in = orEmpty(in)
	const op = keystate.Verify
	invalid := validateSigning(op, in.Message, in.MessageType, in.SigningAlgorithm, in.Signature, true)
	var out *VerifyOutput
	err := s.asymCall(ctx, op, in.KeyId, invalid, true, true, []string{"kms:SigningAlgorithm", in.SigningAlgorithm,
		"kms:MessageType", messageType(in.MessageType)}, func() map[string]string {
		return signParams(in.KeyId, in.MessageType, in.SigningAlgorithm)
	}, func(k *key, arn string) error {
		return checkAlgorithm(op, k, arn, in.SigningAlgorithm, keycrypto.SigningAlgorithms(k.kind.Spec))
	}, func(k *key, arn string, ck *keycrypto.Key) error {
		if err := ck.Verify(in.SigningAlgorithm, messageType(in.MessageType), in.Message, in.Signature); err != nil {
			return cryptoError(op, k, arn, err)
		}
		out = &VerifyOutput{KeyId: arn, SignatureValid: true, SigningAlgorithm: in.SigningAlgorithm}
		return nil
	})
	return out, err
}

func messageType(t string) string {
	if t == "" {
		return "RAW"
	}
	return t
}

func signParams(keyID, messageType, alg string) map[string]string {
	p := map[string]string{"keyId": keyID, "signingAlgorithm": alg}
	if messageType != "" {
		p["messageType"] = messageType
	}
	return p
}

// GetPublicKey returns an asymmetric key's public key, a DER
// SubjectPublicKeyInfo, with its KeySpec, KeyUsage and the algorithm list
// of its usage. It works while the key is Disabled too. An AWS_KMS key's
// material is generated on its first use; the public key never changes
// afterwards. An EXTERNAL key gives the public half of its imported
// private key.
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException, KMSInvalidStateException (table a.2: pending
// deletion, creating; PendingImport without material),
// UnsupportedOperationException (a symmetric or HMAC key, decision D30),
// KMSInternalException.
func (s *Service) GetPublicKey(ctx context.Context, in *GetPublicKeyInput) (*GetPublicKeyOutput, error) {
	in = orEmpty(in)
	const op = keystate.GetPublicKey
	var out *GetPublicKeyOutput
	err := s.asymCall(ctx, op, in.KeyId, nil, false, false, nil, func() map[string]string {
		return map[string]string{"keyId": in.KeyId}
	}, func(k *key, arn string) error {
		// The key-state table's kind rule has refused symmetric and HMAC
		// keys (UnsupportedOperationException, D30).
		if k.kind.Origin == keystate.External && !k.imp.present() && (k.imp == nil || k.imp.public == nil) {
			// D30: a PendingImport key that never had material has no
			// public key yet.
			return kmsError(keystate.ErrKMSInvalidState, op, arn, k.state, arn+" is pending import.")
		}
		return nil
	}, func(k *key, arn string, _ *keycrypto.Key) error {
		var pub []byte
		if k.kind.Origin == keystate.External && !k.imp.present() {
			// PendingImport after the material was deleted or expired:
			// the public key stays (table a.2: GetPublicKey ✓).
			pub = slices.Clone(k.imp.public)
		} else {
			ck, err := s.cryptoKey(op, k, arn)
			if err != nil {
				return err
			}
			if pub, err = ck.PublicKey(); err != nil {
				return cryptoError(op, k, arn, err)
			}
		}
		out = &GetPublicKeyOutput{KeyId: arn, PublicKey: pub, KeySpec: k.kind.Spec.String(),
			CustomerMasterKeySpec: k.kind.Spec.String(), KeyUsage: k.kind.Usage.String()}
		switch k.kind.Usage {
		case keystate.EncryptDecrypt:
			out.EncryptionAlgorithms = keycrypto.EncryptionAlgorithms(k.kind.Spec)
		case keystate.SignVerify:
			out.SigningAlgorithms = keycrypto.SigningAlgorithms(k.kind.Spec)
		case keystate.KeyAgreement:
			out.KeyAgreementAlgorithms = keycrypto.KeyAgreementAlgorithms(k.kind.Spec)
		case keystate.EncapsulateDecapsulate:
			out.EncapsulationAlgorithms = keycrypto.EncapsulationAlgorithms(k.kind.Spec)
		}
		return nil
	})
	return out, err
}

// validateMac is GenerateMac's and VerifyMac's input validation.
func validateMac(op keystate.Operation, message []byte, alg string, mac []byte, verify bool) error {
	if err := validateMessage(op, message); err != nil {
		return err
	}
	if err := requiredEnum(op, alg, "macAlgorithm", macAlgorithmNames); err != nil {
		return err
	}
	if verify {
		return requiredBlob(op, mac, "mac")
	}
	return nil
}

// GenerateMac computes the HMAC (RFC 2104) of a message with an HMAC key
// and its MacAlgorithm (HMAC_SHA_256 for an HMAC_256 key, and so on). The
// same key, algorithm and message always give the same MAC.
//
// Errors: ValidationException (Message empty or over 4096 bytes,
// MacAlgorithm missing or unknown), InvalidArnException,
// NotFoundException, AccessDeniedException, DisabledException,
// KMSInvalidStateException (table a.2), InvalidKeyUsageException (not a
// GENERATE_VERIFY_MAC key; the algorithm of another key spec),
// KMSInternalException.
func (s *Service) GenerateMac(ctx context.Context, in *GenerateMacInput) (*GenerateMacOutput, error) {
	in = orEmpty(in)
	const op = keystate.GenerateMac
	invalid := validateMac(op, in.Message, in.MacAlgorithm, nil, false)
	var out *GenerateMacOutput
	err := s.asymCall(ctx, op, in.KeyId, invalid, true, true, []string{"kms:MacAlgorithm", in.MacAlgorithm}, func() map[string]string {
		return map[string]string{"keyId": in.KeyId, "macAlgorithm": in.MacAlgorithm}
	}, func(k *key, arn string) error {
		return checkAlgorithm(op, k, arn, in.MacAlgorithm, keycrypto.MacAlgorithms(k.kind.Spec))
	}, func(k *key, arn string, ck *keycrypto.Key) error {
		mac, err := ck.GenerateMac(in.MacAlgorithm, in.Message)
		if err != nil {
			return cryptoError(op, k, arn, err)
		}
		out = &GenerateMacOutput{KeyId: arn, Mac: mac, MacAlgorithm: in.MacAlgorithm}
		return nil
	})
	return out, err
}

// VerifyMac recomputes the HMAC of a message and compares it with Mac. A
// MAC that does not match is KMSInvalidMacException; MacValid is always
// true.
//
// Errors: GenerateMac's, and KMSInvalidMacException.
func (s *Service) VerifyMac(ctx context.Context, in *VerifyMacInput) (*VerifyMacOutput, error) {
	in = orEmpty(in)
	const op = keystate.VerifyMac
	invalid := validateMac(op, in.Message, in.MacAlgorithm, in.Mac, true)
	var out *VerifyMacOutput
	err := s.asymCall(ctx, op, in.KeyId, invalid, true, true, []string{"kms:MacAlgorithm", in.MacAlgorithm}, func() map[string]string {
		return map[string]string{"keyId": in.KeyId, "macAlgorithm": in.MacAlgorithm}
	}, func(k *key, arn string) error {
		return checkAlgorithm(op, k, arn, in.MacAlgorithm, keycrypto.MacAlgorithms(k.kind.Spec))
	}, func(k *key, arn string, ck *keycrypto.Key) error {
		if err := ck.VerifyMac(in.MacAlgorithm, in.Message, in.Mac); err != nil {
			return cryptoError(op, k, arn, err)
		}
		out = &VerifyMacOutput{KeyId: arn, MacAlgorithm: in.MacAlgorithm, MacValid: true}
		return nil
	})
	return out, err
}

// DeriveSharedSecret computes the ECDH shared secret (NIST SP 800-56A
// cofactor Diffie-Hellman, the raw x-coordinate) of a KEY_AGREEMENT key's
// private key and another party's public key on the same curve.
//
// With a Recipient, the shared secret is returned only as CiphertextForRecipient,
// sealed to the public key of the Nitro enclave's attestation document
// (D80); a Recipient that is invalid, or whose document does not verify,
// is ValidationException.
//
// Errors: ValidationException (KeyAgreementAlgorithm missing or not ECDH;
// PublicKey missing, over 8192 bytes, not a SubjectPublicKeyInfo or on
// another curve, with AWS's empty message), InvalidArnException,
// NotFoundException, AccessDeniedException, DisabledException,
// KMSInvalidStateException (table a.2), InvalidKeyUsageException (not a
// KEY_AGREEMENT key), KMSInternalException.
func (s *Service) DeriveSharedSecret(ctx context.Context, in *DeriveSharedSecretInput) (*DeriveSharedSecretOutput, error) {
	in = orEmpty(in)
	const op = keystate.DeriveSharedSecret
	var invalid error
	switch {
	case in.KeyAgreementAlgorithm == "":
		invalid = required(op, "keyAgreementAlgorithm")
	case len(in.PublicKey) == 0:
		invalid = required(op, "publicKey")
	case len(in.PublicKey) > 8192:
		invalid = validationError(op, "[blob]", "publicKey", "Member must have length less than or equal to 8192")
	default:
		invalid = checkEnum(op, in.KeyAgreementAlgorithm, "keyAgreementAlgorithm", keyAgreementNames)
	}
	var out *DeriveSharedSecretOutput
	err := s.asymCallFor(ctx, op, in.KeyId, invalid, true, true, []string{"kms:KeyAgreementAlgorithm", in.KeyAgreementAlgorithm}, in.Recipient,
		func() map[string]string {
			return map[string]string{"keyId": in.KeyId, "keyAgreementAlgorithm": in.KeyAgreementAlgorithm}
		}, func(k *key, arn string) error {
			return checkAlgorithm(op, k, arn, in.KeyAgreementAlgorithm, keycrypto.KeyAgreementAlgorithms(k.kind.Spec))
		}, func(k *key, arn string, ck *keycrypto.Key) error {
			secret, err := ck.DeriveSharedSecret(in.KeyAgreementAlgorithm, in.PublicKey)
			if err != nil {
				return cryptoError(op, k, arn, err)
			}
			forRecipient, err := s.forRecipient(op, k, arn, &secret)
			if err != nil {
				return err
			}
			out = &DeriveSharedSecretOutput{KeyId: arn, SharedSecret: secret, KeyAgreementAlgorithm: in.KeyAgreementAlgorithm,
				KeyOrigin: k.kind.Origin.String(), CiphertextForRecipient: forRecipient}
			return nil
		})
	return out, err
}
