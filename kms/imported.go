package kms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// Imported key material (Origin EXTERNAL), under the 2024 rules: one
// material per key, imported with GetParametersForImport and
// ImportKeyMaterial, removed by DeleteImportedKeyMaterial or when it
// expires at ValidTo. RotateKeyOnDemand of such a key stays refused
// (decision D2). Only SYMMETRIC_DEFAULT keys take material in this
// version; for the other key specs the import calls answer
// UnsupportedOperationException.

// importTokenLifetime is how long an import token (and its wrapping key)
// may be used: 24 hours of simulated time.
const importTokenLifetime = usPerDay

// maxValidTo is how far ahead ValidTo may be: 365 days.
const maxValidTo = 365 * usPerDay

// importedMaterialSize is the size of a SYMMETRIC_DEFAULT key's material.
const importedMaterialSize = 32

const (
	expiresModel       = "KEY_MATERIAL_EXPIRES"
	doesNotExpireModel = "KEY_MATERIAL_DOES_NOT_EXPIRE"
)

var (
	wrappingAlgorithms = []string{"RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256",
		"RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256", "SM2PKE"}
	wrappingKeySpecs = []string{"RSA_2048", "RSA_3072", "RSA_4096", "SM2"}
	expirationModels = []string{expiresModel, doesNotExpireModel}
)

// imported is a key's imported material, or, for an asymmetric or HMAC
// key of origin AWS_KMS, the material the service generated for it on its
// first use (id empty, validTo 0). It is never changed in place, but for
// parsed: a change installs a new one, so that drafts, undo copies and the
// keys of a multi-Region key may share it.
type imported struct {
	id      string // KeyMaterialId; kept after the material is deleted or expires (recording 8b)
	sealed  []byte // the material, sealed (sealMaterial); nil while none is imported
	validTo int64  // Unix µs of expiry with KEY_MATERIAL_EXPIRES; 0 when it does not expire
	// parsed caches an asymmetric or HMAC material's parsed form, set
	// under s.mu on first use (it is the same material whoever set it).
	parsed *keycrypto.Key
	// public is an EXTERNAL asymmetric key's public key (DER
	// SubjectPublicKeyInfo), kept, like id, after the material is deleted
	// or expires: GetPublicKey answers in PendingImport (table a.2).
	public []byte
	// more holds, under RulesCurrent, a symmetric key's other materials
	// (materials.go); nil under Rules2024 and for other keys, so that a
	// key without them pays one pointer.
	more *moreMaterials
}

// present reports whether material is imported.
func (m *imported) present() bool { return m != nil && m.sealed != nil }

// expires reports whether imported material is due to expire.
func (m *imported) expires() bool { return m.present() && m.validTo != 0 }

// expiresAt reports whether any of the key's imported materials expires at
// instant at.
func (m *imported) expiresAt(at int64) bool {
	if m.expires() && m.validTo == at {
		return true
	}
	if m == nil || m.more == nil {
		return false
	}
	for _, o := range m.more.all() {
		if o.sealed != nil && o.validTo == at {
			return true
		}
	}
	return false
}

// model is the ExpirationModel of imported material.
func (m *imported) model() string {
	if m.validTo != 0 {
		return expiresModel
	}
	return doesNotExpireModel
}

// expireMaterial removes k's imported material (it expired or was
// deleted), keeping its ID, and moves the key by MaterialLost: to
// PendingImport, or nowhere while it is pending deletion.
func expireMaterial(k *key) {
	k.imp = &imported{id: k.imp.id, public: k.imp.public, more: k.imp.more}
	loseMaterial(k)
}

// loseMaterial moves k by MaterialLost: to PendingImport, or nowhere while
// it is pending deletion.
func loseMaterial(k *key) {
	if st, err := keystate.Transition(k.state, keystate.MaterialLost); err == nil {
		k.state = st
	}
}

// importState is what GetParametersForImport hands out: import tokens and
// the wrapping key pairs behind them. It lives in memory only: a restarted
// service has none, and a token issued before the restart is refused with
// InvalidImportTokenException. A cluster node's tokens carry what they
// need, sealed (importtoken.go, D67).
type importState struct {
	tokens   map[string]importToken   // by token bytes
	wrapping map[string]*wrappingPair // by wrapping key spec, for the service's life
	pruneAt  int                      // prune expired tokens when this many are held
	sealer   cipher.AEAD              // seals imported material (importSealer)

	// A cluster node's tokens are sealed instead (importtoken.go).
	tokenSealer cipher.AEAD                // seals them (tokenSealer)
	wrappingDER map[string][]byte          // the node's wrapping private keys, PKCS#8, by spec
	parsed      map[[32]byte]*wrappingPair // wrapping keys read from tokens, by SHA-256 of their PKCS#8 DER
}

// wrappingPair is a wrapping key pair: RSA, or SM2 in the China Regions
// (D81). Exactly one is set.
type wrappingPair struct {
	rsa *rsa.PrivateKey
	sm2 *keycrypto.Key
}

// publicKey is the pair's public key, a DER SubjectPublicKeyInfo.
func (w *wrappingPair) publicKey() ([]byte, error) {
	if w.sm2 != nil {
		return w.sm2.PublicKey()
	}
	return x509.MarshalPKIXPublicKey(&w.rsa.PublicKey)
}

// marshal is the pair's private key, PKCS#8 DER.
func (w *wrappingPair) marshal() ([]byte, error) {
	if w.sm2 != nil {
		return w.sm2.Marshal(), nil
	}
	return x509.MarshalPKCS8PrivateKey(w.rsa)
}

// parseWrapping reads a wrapping private key of spec from PKCS#8 DER.
func parseWrapping(spec string, der []byte) (*wrappingPair, error) {
	if spec == "SM2" {
		k, err := keycrypto.Parse(keystate.SM2, der)
		if err != nil {
			return nil, err
		}
		return &wrappingPair{sm2: k}, nil
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	k, ok := p.(*rsa.PrivateKey)
	if !ok {
		return nil, errTokenFormat
	}
	return &wrappingPair{rsa: k}, nil
}

// importToken is one issued import token.
type importToken struct {
	keyID     string
	algorithm string
	spec      string
	validTo   int64
}

// checkImported refuses a loaded key record whose sealed material (imported,
// or generated for an asymmetric or HMAC key) does not open under the
// store's root secret.
func (s *Service) checkImported(r *store.Key) error {
	if len(r.Material) > 0 {
		if err := s.checkSealed(r, r.Material); err != nil {
			return err
		}
	}
	for _, m := range r.Materials {
		if len(m.Sealed) > 0 {
			if err := s.checkSealed(r, m.Sealed); err != nil {
				return err
			}
		}
	}
	if len(r.ImportedMaterial) == 0 {
		return nil
	}
	switch r.ExpirationModel {
	case expiresModel, doesNotExpireModel:
	default:
		return fmt.Errorf("key %s: expiration model %q: %w", r.ID, r.ExpirationModel, store.ErrCorrupt)
	}
	if (r.ExpirationModel == expiresModel) == r.ValidTo.IsZero() {
		return fmt.Errorf("key %s: expiration model %s with ValidTo %v: %w", r.ID, r.ExpirationModel, r.ValidTo, store.ErrCorrupt)
	}
	return s.checkSealed(r, r.ImportedMaterial)
}

// checkSealed refuses a loaded key record's sealed material that does not
// open under the store's root secret.
func (s *Service) checkSealed(r *store.Key, sealed []byte) error {
	if s.root == nil {
		return fmt.Errorf("key %s has key material but the store has no root secret: %w", r.ID, store.ErrCorrupt)
	}
	// Material is sealed under the key ID, which a replica's record ID
	// ("<Region>/<key ID>") ends with.
	id := r.ID[strings.LastIndexByte(r.ID, '/')+1:]
	m, err := s.unsealMaterial(s.root, id, sealed)
	if err != nil {
		return fmt.Errorf("key %s: %w: %w", r.ID, err, store.ErrCorrupt)
	}
	clear(m)
	return nil
}

// importKind refuses, after the key-state table (D3 step 7), a key whose
// kind takes no imported material: ML-DSA and ML-KEM keys (AWS imports
// neither; CreateKey refuses EXTERNAL ML-DSA keys already). Symmetric,
// HMAC and the other asymmetric keys take material (the table has already
// refused other origins, footnote [9]).
func importKind(op keystate.Operation, k *key, arn string) error {
	switch k.kind.Spec {
	case keystate.MLDSA44, keystate.MLDSA65, keystate.MLDSA87, keystate.MLKEM512, keystate.MLKEM768, keystate.MLKEM1024:
		// kmsmodel's wording of AWS's rule.
		return kmsError(keystate.ErrUnsupportedOperation, op, arn, k.state,
			"Importing key material into a "+k.kind.Spec.String()+" key is not supported.")
	}
	return nil
}

// GetParametersForImport returns what a client needs to import key
// material into an EXTERNAL key: a fresh RSA public key (DER
// SubjectPublicKeyInfo) of WrappingKeySpec (RSA_2048, RSA_3072 or
// RSA_4096) to wrap the material with WrappingAlgorithm (RSAES_OAEP_SHA_1,
// RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256),
// or in the China Regions an SM2 public key (WrappingKeySpec SM2) for
// SM2PKE (D81), and an import token; both can be used until
// ParametersValidTo, 24 hours of simulated time later.
//
// The service generates one key pair per WrappingKeySpec, when first asked
// for, and uses it for its whole life (AWS draws one per call; generating
// RSA_4096 keys is slow). Tokens and private keys are kept in memory only,
// never in the store: after a restart (Open) earlier tokens are refused
// with InvalidImportTokenException. A cluster node's token instead carries
// the wrapping private key sealed under the cluster's root secret, so that
// any node takes it (D67). crypto/rsa may ignore the service's
// randomness source (WithRandom) and use the system's: the RSA key pairs
// are not reproducible from a seed (the SM2 one is).
//
// Errors: ValidationException (WrappingAlgorithm or WrappingKeySpec missing
// or not an AWS value), InvalidArnException, NotFoundException,
// AccessDeniedException, KMSInvalidStateException (table a.2; footnote [8]
// while pending deletion), UnsupportedOperationException (not an EXTERNAL
// key, footnote [9]; an ML-DSA or ML-KEM key; RSAES_PKCS1_V1_5; SM2PKE
// and SM2 outside the China Regions, RSA_AES_KEY_WRAP_* in them),
// ValidationException (SM2PKE without SM2, or SM2 without SM2PKE, D81),
// KMSInternalException.
func (s *Service) GetParametersForImport(ctx context.Context, in *GetParametersForImportInput) (*GetParametersForImportOutput, error) {
	in = orEmpty(in)
	const op = keystate.GetParametersForImport
	var invalid error
	switch {
	case in.WrappingAlgorithm == "":
		invalid = validationError(op, "null", "wrappingAlgorithm", "Member must not be null")
	case in.WrappingKeySpec == "":
		invalid = validationError(op, "null", "wrappingKeySpec", "Member must not be null")
	default:
		invalid = checkEnum(op, in.WrappingAlgorithm, "wrappingAlgorithm", wrappingAlgorithms)
		if invalid == nil {
			invalid = checkEnum(op, in.WrappingKeySpec, "wrappingKeySpec", wrappingKeySpecs)
		}
	}
	params := func() map[string]string {
		return map[string]string{"keyId": in.KeyId, "wrappingAlgorithm": in.WrappingAlgorithm, "wrappingKeySpec": in.WrappingKeySpec}
	}
	var out *GetParametersForImportOutput
	ctx = withConditions(ctx, "kms:WrappingAlgorithm", in.WrappingAlgorithm, "kms:WrappingKeySpec", in.WrappingKeySpec)
	err := s.keyRead(ctx, op, in.KeyId, idOnly, invalid, params, func(k *key, now int64) error {
		arn := s.arnOf(k)
		if err := importKind(op, k, arn); err != nil {
			return err
		}
		china := s.rg.partition == "aws-cn"
		switch in.WrappingAlgorithm {
		case "RSAES_PKCS1_V1_5":
			// AWS stopped accepting it on 2023-10-10 (spec §9.2); the
			// wording is kmsmodel's.
			return kmsError(keystate.ErrUnsupportedOperation, op, arn, k.state,
				"The wrapping algorithm RSAES_PKCS1_V1_5 is no longer supported.")
		case "SM2PKE":
			if !china {
				// China only (spec §9.2); the wording of SM2 outside
				// China (recorded, RPT-FL3026), as D71 does.
				return kmsError(keystate.ErrUnsupportedOperation, op, arn, k.state,
					"WrappingAlgorithm SM2PKE is not supported in this Region")
			}
		case "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256":
			if china {
				// D71: not offered in the China Regions (spec §9.2); the
				// exception and wording of SM2 outside them (recorded).
				return kmsError(keystate.ErrUnsupportedOperation, op, arn, k.state,
					"WrappingAlgorithm "+in.WrappingAlgorithm+" is not supported in this Region")
			}
		}
		if in.WrappingKeySpec == "SM2" && !china {
			return kmsError(keystate.ErrUnsupportedOperation, op, arn, k.state,
				"WrappingKeySpec SM2 is not supported in this Region")
		}
		if (in.WrappingAlgorithm == "SM2PKE") != (in.WrappingKeySpec == "SM2") {
			// D81: SM2PKE encrypts to an SM2 key only, and an SM2 key
			// takes no RSA algorithm; kmsmodel's wording.
			return kmsError(keystate.ErrValidation, op, arn, k.state,
				"WrappingAlgorithm "+in.WrappingAlgorithm+" cannot be used with WrappingKeySpec "+in.WrappingKeySpec+
					": SM2PKE takes an SM2 wrapping key, and the other algorithms an RSA one.")
		}
		priv, err := s.wrappingKey(in.WrappingKeySpec)
		if err != nil {
			return &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err,
				Message: "The wrapping key could not be generated."}
		}
		pub, err := priv.publicKey()
		if err != nil {
			return &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err,
				Message: "The wrapping key could not be encoded."}
		}
		validTo := now + importTokenLifetime
		t := importToken{keyID: s.storeID(k), algorithm: in.WrappingAlgorithm, spec: in.WrappingKeySpec, validTo: validTo}
		var token []byte
		if s.cl != nil {
			// Any node of the cluster takes it (D67).
			root, err := s.rootSecret(op)
			if err != nil {
				return err
			}
			if token, err = s.sealToken(root, t, priv); err != nil {
				return &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err,
					Message: "The import token could not be sealed."}
			}
		} else {
			token = make([]byte, 64)
			token[0] = tokenMemory
			if _, err := io.ReadFull(s.cfg.random, token[1:]); err != nil {
				return &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err,
					Message: "The randomness source failed."}
			}
			s.addToken(string(token), t, now)
		}
		v := fromMicros(validTo)
		out = &GetParametersForImportOutput{ImportToken: token, KeyId: arn, ParametersValidTo: &v, PublicKey: pub}
		return nil
	})
	return out, err
}

// wrappingKey returns the service's key pair of spec (RSA, or SM2),
// generating it on first use. The caller holds s.mu.
func (s *Service) wrappingKey(spec string) (*wrappingPair, error) {
	if w := s.imports.wrapping[spec]; w != nil {
		return w, nil
	}
	w := &wrappingPair{}
	var err error
	if spec == "SM2" {
		w.sm2, err = keycrypto.Generate(keystate.SM2, s.cfg.random)
	} else {
		w.rsa, err = rsa.GenerateKey(s.cfg.random, map[string]int{"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}[spec])
	}
	if err != nil {
		return nil, err
	}
	if s.imports.wrapping == nil {
		s.imports.wrapping = make(map[string]*wrappingPair)
	}
	s.imports.wrapping[spec] = w
	return w, nil
}

// addToken records an issued token, first dropping expired ones when many
// are held, so that the tokens held stay proportional to those still
// valid.
func (s *Service) addToken(token string, t importToken, now int64) {
	if s.imports.tokens == nil {
		s.imports.tokens = make(map[string]importToken)
	}
	if len(s.imports.tokens) >= s.imports.pruneAt {
		for tok, it := range s.imports.tokens {
			if it.validTo < now {
				delete(s.imports.tokens, tok)
			}
		}
		s.imports.pruneAt = max(1024, 2*len(s.imports.tokens))
	}
	s.imports.tokens[token] = t
}

// ImportKeyMaterial imports key material into an EXTERNAL key:
// EncryptedKeyMaterial is the material (256 bits for a SYMMETRIC_DEFAULT
// key; a PKCS#8 private key for an asymmetric key, whose public key
// GetPublicKey then returns; the raw key for an HMAC key) wrapped under
// the public key of the GetParametersForImport call that
// issued ImportToken, with its WrappingAlgorithm. RSAES_OAEP_SHA_* is
// RSA-OAEP of the material; RSA_AES_KEY_WRAP_SHA_* is RSA-OAEP of an
// ephemeral AES key followed by the material wrapped under that key with
// AES key wrap with padding (RFC 5649); SM2PKE (China Regions, D81) is
// the SM2 encryption of the material, DER C1C3C2.
//
// ExpirationModel is KEY_MATERIAL_EXPIRES (the default), which needs
// ValidTo, after now and at most 365 days ahead; the material then expires
// at exactly ValidTo, a scheduled event that moves the key to
// PendingImport (a key pending deletion stays so). With
// KEY_MATERIAL_DOES_NOT_EXPIRE ValidTo must be absent. A key in
// PendingImport becomes Enabled; a Disabled key stays Disabled. Material
// may be imported again, to change its expiration, but it must be the
// material the key had before: its ciphertexts then decrypt again.
//
// Under RulesCurrent a symmetric key holds several materials (decision
// D37): ImportType NEW_KEY_MATERIAL (the default until the key has had
// material) makes the key's first material current, and after that adds
// a material in PENDING_ROTATION, which RotateKeyOnDemand makes current;
// EXISTING_KEY_MATERIAL (the default afterwards) re-imports one of the
// key's materials (KeyMaterialId, when given, must be its ID), or, into a
// multi-Region replica, the material pending rotation on its primary.
// KeyMaterialDescription (up to 256 characters) describes the material;
// without it a re-imported material keeps its description. The key is
// usable (PendingImport becomes Enabled) once every permanently associated
// material is imported.
//
// Errors: ValidationException (a missing or over-long token or material,
// an unknown ExpirationModel, ValidTo missing, present, past or too far;
// an unknown ImportType, a malformed KeyMaterialId or one with
// NEW_KEY_MATERIAL, an over-long KeyMaterialDescription),
// InvalidArnException, NotFoundException, AccessDeniedException,
// KMSInvalidStateException (table a.2: pending deletion, creating),
// UnsupportedOperationException (not an EXTERNAL key, footnote [9]; an
// ML-DSA or ML-KEM key), InvalidImportTokenException (a token of another key,
// or unknown, including one issued before a restart),
// ExpiredImportTokenException (more than 24 hours old),
// InvalidCiphertextException (the material does not unwrap),
// KMSInvalidStateException (RulesCurrent: NEW_KEY_MATERIAL while another
// material is pending rotation, recording 3f),
// UnsupportedOperationException (ImportType, KeyMaterialId or
// KeyMaterialDescription under Rules2024, or on an asymmetric or HMAC key;
// NEW_KEY_MATERIAL into a replica),
// IncorrectKeyMaterialException (not 32 bytes for a symmetric key; not a
// private key of the key's spec, or an HMAC key of the wrong length; or
// not the material imported before into this key or into another key of
// its multi-Region key), KMSInternalException.
func (s *Service) ImportKeyMaterial(ctx context.Context, in *ImportKeyMaterialInput) (*ImportKeyMaterialOutput, error) {
	if s.cl != nil {
		return retried(s, func() (*ImportKeyMaterialOutput, error) { return s.importKeyMaterialOnce(ctx, in) })
	}
	return s.importKeyMaterialOnce(ctx, in)
}

// importKeyMaterialOnce is one run of ImportKeyMaterial (cluster mode may run it again).
func (s *Service) importKeyMaterialOnce(ctx context.Context, in *ImportKeyMaterialInput) (res *ImportKeyMaterialOutput, err error) {
	in = orEmpty(in)
	const op = keystate.ImportKeyMaterial
	model := in.ExpirationModel
	if model == "" {
		model = expiresModel
	}
	invalid := s.validateImport(in, model)
	if invalid == nil {
		invalid = s.validateMaterialInput(op, in.ImportType, in.KeyMaterialId, in.KeyMaterialDescription)
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
	if err == nil && in.ValidTo != nil {
		err = checkValidTo(op, in.ValidTo, now)
	}
	if err == nil {
		s.condition("kms:ExpirationModel", model)
		if in.ValidTo != nil {
			s.condition("kms:ValidTo", strconv.FormatInt(in.ValidTo.Unix(), 10))
		}
	}
	var (
		k, nk *key
		arn   string
		out   *ImportKeyMaterialOutput
	)
	if err == nil {
		k, arn, err = s.resolve(ctx, op, caller, in.KeyId, "keyId", idOnly)
	}
	if err == nil {
		err = s.checkState(op, k.state, k.kind, arn)
	}
	if err == nil {
		err = importKind(op, k, arn)
	}
	if err == nil {
		err = materialKind(op, k, arn, in.ImportType != "" || in.KeyMaterialId != "" || in.KeyMaterialDescription != nil)
	}
	var id string
	if err == nil {
		nk = s.draft(k)
		id, err = s.importMaterial(op, nk, arn, in, now)
	}
	if err == nil {
		if _, err = s.commitKey(k, nk); err != nil {
			err = internalError(op, arn, k.state, err)
		} else {
			out = &ImportKeyMaterialOutput{KeyId: arn, KeyMaterialId: id}
		}
	}
	if s.observing() {
		p := map[string]string{"keyId": in.KeyId, "expirationModel": model}
		if in.ImportType != "" {
			p["importType"] = in.ImportType
		}
		if in.KeyMaterialId != "" {
			p["keyMaterialId"] = in.KeyMaterialId
		}
		if in.ValidTo != nil {
			p["validTo"] = in.ValidTo.UTC().Format(time.RFC3339Nano)
		}
		s.record(now, op, caller, arn, p, err)
	}
	return out, err
}

// validateImport is ImportKeyMaterial's input validation (D3 step 1), but
// for ValidTo's range, which needs the service's instant.
func (s *Service) validateImport(in *ImportKeyMaterialInput, model string) error {
	const op = keystate.ImportKeyMaterial
	if err := requiredBlob(op, in.ImportToken, "importToken"); err != nil {
		return err
	}
	if err := requiredBlob(op, in.EncryptedKeyMaterial, "encryptedKeyMaterial"); err != nil {
		return err
	}
	if err := checkEnum(op, model, "expirationModel", expirationModels); err != nil {
		return err
	}
	switch {
	case model == expiresModel && in.ValidTo == nil:
		// No recording; kmsmodel's wording of AWS's documented rule.
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			"A ValidTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES")
	case model == doesNotExpireModel && in.ValidTo != nil:
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			"A ValidTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE")
	}
	return nil
}

// checkValidTo refuses a ValidTo that is not after now or more than 365
// days ahead (no recording; kmsmodel's wording).
func checkValidTo(op keystate.Operation, v *time.Time, now int64) error {
	switch t := micros(*v); {
	case t <= now:
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			"ValidTo "+v.UTC().Format(time.RFC3339Nano)+" must be in the future")
	case t-now > maxValidTo:
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			"ValidTo "+v.UTC().Format(time.RFC3339Nano)+" must be at most 365 days in the future")
	}
	return nil
}

// importMaterial checks the token, unwraps and checks the material, and
// installs it on the draft k (D3 steps 8 and after). It returns the
// material's ID.
func (s *Service) importMaterial(op keystate.Operation, k *key, arn string, in *ImportKeyMaterialInput, now int64) (string, error) {
	m, parsed, err := s.unwrapImport(op, k, arn, in, now)
	if err != nil {
		return "", err
	}
	defer func() { clear(m) }()
	id := importedMaterialID(m)
	if s.materials() && k.kind.Spec.IsSymmetric() {
		return id, s.importToday(op, k, arn, in, id, m)
	}
	return id, s.importOnly(op, k, arn, in, id, m, parsed)
}

// unwrapImport checks the token, and unwraps and checks the material. The
// caller clears the material.
func (s *Service) unwrapImport(op keystate.Operation, k *key, arn string, in *ImportKeyMaterialInput, now int64) ([]byte, *keycrypto.Key, error) {
	tok, ok := s.imports.tokens[string(in.ImportToken)]
	priv := s.imports.wrapping[tok.spec]
	if s.cl != nil {
		var err error
		tok, priv, err = s.openToken(in.ImportToken)
		ok = err == nil
	}
	if !ok || tok.keyID != s.storeID(k) {
		// No recording; kmsmodel's wording.
		return nil, nil, kmsError(keystate.ErrInvalidImportToken, op, arn, k.state,
			"The import token is not valid for "+arn+".")
	}
	if now > tok.validTo {
		return nil, nil, kmsError(keystate.ErrExpiredImportToken, op, arn, k.state,
			"The import token expired at "+fromMicros(tok.validTo).Format(time.RFC3339Nano)+".")
	}
	m, err := unwrapMaterial(priv, tok.algorithm, in.EncryptedKeyMaterial)
	if err != nil {
		return nil, nil, &keystate.Error{Code: keystate.ErrInvalidCiphertext, Op: op, KeyID: arn, State: k.state, Err: err,
			Message: "The encrypted key material could not be decrypted with the import token's wrapping key and algorithm " + tok.algorithm + "."}
	}
	var parsed *keycrypto.Key
	if k.kind.Spec.IsSymmetric() {
		if len(m) != importedMaterialSize {
			clear(m)
			return nil, nil, kmsError(keystate.ErrIncorrectKeyMaterial, op, arn, k.state,
				fmt.Sprintf("The key material is %d bytes; a SYMMETRIC_DEFAULT key takes 32 bytes (256 bits).", len(m)))
		}
	} else {
		// An asymmetric private key (PKCS#8) or an HMAC key (raw bytes),
		// checked against the key spec; kept in its canonical form, so
		// that the same key imported in another encoding is the same
		// material.
		parsed, err = keycrypto.ParseImported(k.kind.Spec, m)
		clear(m)
		if err != nil {
			return nil, nil, &keystate.Error{Code: keystate.ErrIncorrectKeyMaterial, Op: op, KeyID: arn, State: k.state, Err: err,
				Message: keycrypto.Message(err)}
		}
		m = parsed.Marshal()
	}
	return m, parsed, nil
}

// importOnly installs material m, of ID id, as the key's one material:
// the 2024 rules, and every key but a symmetric one under RulesCurrent.
func (s *Service) importOnly(op keystate.Operation, k *key, arn string, in *ImportKeyMaterialInput, id string, m []byte, parsed *keycrypto.Key) error {
	if k.imp != nil && k.imp.id != id {
		return kmsError(keystate.ErrIncorrectKeyMaterial, op, arn, k.state,
			"The key material is not the key material that was previously imported into "+arn+".")
	}
	if k.fam != nil {
		// c.8: every key of a multi-Region key has the same material,
		// imported into each separately.
		for _, m := range k.fam.members {
			if m != s.orig(k) && m.imp != nil && m.imp.id != id {
				return kmsError(keystate.ErrIncorrectKeyMaterial, op, arn, k.state,
					"The key material is not the key material of "+s.arnOf(m)+", a related multi-Region key.")
			}
		}
	}
	root, err := s.rootSecret(op)
	if err != nil {
		return err
	}
	sealed, err := s.sealMaterial(root, k.id, m)
	if err != nil {
		return &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err,
			Message: "The randomness source failed."}
	}
	imp := &imported{id: id, sealed: sealed, parsed: parsed}
	if k.kind.Spec.IsAsymmetric() {
		if imp.public, err = parsed.PublicKey(); err != nil {
			return &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err,
				Message: "The public key of the key material could not be encoded."}
		}
	}
	if in.ValidTo != nil {
		imp.validTo = micros(*in.ValidTo)
	}
	k.imp = imp
	return transition(k, keystate.ImportMaterial)
}

// DeleteImportedKeyMaterial deletes an EXTERNAL key's imported material.
// The key becomes PendingImport, or stays PendingDeletion while pending
// deletion; its KeyMaterialId stays (recording 8b), and importing the same
// material again makes the key usable, with its old ciphertexts. A key
// without material is left as it is.
//
// Under RulesCurrent, KeyMaterialId names the material to delete (default:
// the current one): deleting any permanently associated material makes
// the key PendingImport; deleting the material pending rotation removes
// it and leaves the key as it was (decision D38).
//
// Errors: ValidationException, InvalidArnException, NotFoundException
// (also a KeyMaterialId the key does not have, D38),
// AccessDeniedException, KMSInvalidStateException (table a.2),
// UnsupportedOperationException (not an EXTERNAL key, footnote [9];
// KeyMaterialId under Rules2024), KMSInternalException.
func (s *Service) DeleteImportedKeyMaterial(ctx context.Context, in *DeleteImportedKeyMaterialInput) (*DeleteImportedKeyMaterialOutput, error) {
	in = orEmpty(in)
	const op = keystate.DeleteImportedKeyMaterial
	var out *DeleteImportedKeyMaterialOutput
	invalid := s.validateMaterialInput(op, "", in.KeyMaterialId, nil)
	var params func() map[string]string
	if in.KeyMaterialId != "" {
		params = func() map[string]string { return map[string]string{"keyMaterialId": in.KeyMaterialId} }
	}
	err := s.keyWrite(ctx, op, in.KeyId, idOnly, invalid, params, func(k *key, _ int64) error {
		arn := s.arnOf(k)
		out = &DeleteImportedKeyMaterialOutput{KeyId: arn}
		if s.materials() && k.kind.Spec.IsSymmetric() {
			id, err := s.deleteToday(op, k, arn, in.KeyMaterialId)
			out.KeyMaterialId = id
			return err
		}
		if in.KeyMaterialId != "" && (k.imp == nil || k.imp.id != in.KeyMaterialId) {
			return materialNotFound(op, k, arn, in.KeyMaterialId)
		}
		if k.imp != nil {
			out.KeyMaterialId = k.imp.id
			expireMaterial(k)
			return nil
		}
		return transition(k, keystate.MaterialLost)
	})
	return out, err
}

// unwrapMaterial unwraps EncryptedKeyMaterial with the wrapping private key
// under algorithm.
func unwrapMaterial(w *wrappingPair, algorithm string, wrapped []byte) ([]byte, error) {
	if w == nil {
		return nil, errors.New("kms: no wrapping key")
	}
	if algorithm == "SM2PKE" {
		if w.sm2 == nil {
			return nil, errors.New("kms: SM2PKE needs an SM2 wrapping key")
		}
		// The DER C1C3C2 form of GB/T 32918.4 (spec
		// aws-kms-asymmetric-hmac.md §4.2), as SM2PKE's Encrypt makes.
		return w.sm2.Decrypt(keycrypto.SM2PKE, wrapped)
	}
	priv := w.rsa
	if priv == nil {
		return nil, errors.New("kms: " + algorithm + " needs an RSA wrapping key")
	}
	var h hash.Hash
	switch algorithm {
	case "RSAES_OAEP_SHA_1", "RSA_AES_KEY_WRAP_SHA_1":
		h = sha1.New()
	case "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_256":
		h = sha256.New()
	default:
		return nil, errors.New("kms: unknown wrapping algorithm " + algorithm)
	}
	switch algorithm {
	case "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256":
		return rsa.DecryptOAEP(h, nil, priv, wrapped, nil)
	}
	n := priv.Size()
	if len(wrapped) <= n {
		return nil, errors.New("kms: the wrapped material is too short")
	}
	kek, err := rsa.DecryptOAEP(h, nil, priv, wrapped[:n], nil)
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	return unwrapKWP(kek, wrapped[n:])
}

// kwpIV is the alternative initial value of RFC 5649, section 3.
var kwpIV = [4]byte{0xA6, 0x59, 0x59, 0xA6}

var errKWP = errors.New("kms: AES key wrap with padding: integrity check failed")

// unwrapKWP undoes AES key wrap with padding (RFC 5649) under kek.
func unwrapKWP(kek, c []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(c) < 16 || len(c)%8 != 0 {
		return nil, errKWP
	}
	n := len(c)/8 - 1 // 64-bit blocks of padded plaintext
	var a [8]byte
	p := make([]byte, 8*n)
	if n == 1 {
		var b [16]byte
		block.Decrypt(b[:], c)
		copy(a[:], b[:8])
		copy(p, b[8:])
		clear(b[:])
	} else {
		// RFC 3394 unwrap (section 2.2.2, index based).
		copy(a[:], c[:8])
		copy(p, c[8:])
		var b [16]byte
		for j := 5; j >= 0; j-- {
			for i := n; i >= 1; i-- {
				t := uint64(n*j + i)
				binary.BigEndian.PutUint64(b[:8], binary.BigEndian.Uint64(a[:])^t)
				copy(b[8:], p[8*(i-1):8*i])
				block.Decrypt(b[:], b[:])
				copy(a[:], b[:8])
				copy(p[8*(i-1):], b[8:])
			}
		}
		clear(b[:])
	}
	mli := int(binary.BigEndian.Uint32(a[4:]))
	ok := subtle.ConstantTimeCompare(a[:4], kwpIV[:]) == 1 && mli > 8*(n-1) && mli <= 8*n
	if ok {
		for _, x := range p[mli:] {
			ok = ok && x == 0
		}
	}
	if !ok {
		clear(p)
		return nil, errKWP
	}
	return slices.Clip(p[:mli]), nil
}
