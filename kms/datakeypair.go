package kms

import (
	"context"
	"errors"

	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// GenerateDataKeyPairInput is the input of GenerateDataKeyPair and
// GenerateDataKeyPairWithoutPlaintext. KeyId names the symmetric
// encryption key that encrypts the private key (key ID, key ARN, alias
// name or alias ARN; another account's by ARN); KeyPairSpec is the pair's
// type (RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384,
// ECC_NIST_P521, ECC_SECG_P256K1, ECC_NIST_EDWARDS25519, and SM2 in the
// China Regions); EncryptionContext binds the encrypted private key as
// Encrypt's does.
type GenerateDataKeyPairInput struct {
	KeyId             string
	KeyPairSpec       string
	EncryptionContext map[string]string
	// Recipient, when set, has the response's secret encrypted to the
	// attested enclave's public key (CiphertextForRecipient) instead of
	// returned in plaintext (D80).
	Recipient *RecipientInfo // GenerateDataKeyPair only
}

// GenerateDataKeyPairWithoutPlaintextInput is the input of
// GenerateDataKeyPairWithoutPlaintext, which refuses a Recipient.
type GenerateDataKeyPairWithoutPlaintextInput = GenerateDataKeyPairInput

// GenerateDataKeyPairOutput is the output of GenerateDataKeyPair: a fresh
// key pair, its private key in the clear (DER PKCS#8) and encrypted under
// the KMS key (a ciphertext blob that Decrypt opens), and its public key
// (DER SubjectPublicKeyInfo).
type GenerateDataKeyPairOutput struct {
	KeyId                    string // the ARN of the KMS key that encrypted the private key
	KeyPairSpec              string
	PublicKey                []byte
	PrivateKeyPlaintext      Sensitive
	PrivateKeyCiphertextBlob []byte
	// KeyMaterialId is the KMS key's current material, which encrypted
	// the private key.
	KeyMaterialId string
	// CiphertextForRecipient is the secret as a CMS EnvelopedData for the
	// Recipient's public key (then the plaintext member is nil); nil
	// without a Recipient. attestation.Open opens it.
	CiphertextForRecipient []byte
}

// GenerateDataKeyPairWithoutPlaintextOutput is the output of
// GenerateDataKeyPairWithoutPlaintext: GenerateDataKeyPair's without the
// private key in the clear.
type GenerateDataKeyPairWithoutPlaintextOutput struct {
	KeyId                    string
	KeyPairSpec              string
	PublicKey                []byte
	PrivateKeyCiphertextBlob []byte
	KeyMaterialId            string
}

// GenerateDataKeyPair returns a fresh key pair of KeyPairSpec, which has
// no relation to the KMS key: its private key in the clear and encrypted
// under the symmetric encryption key KeyId names, and its public key.
//
// With a Recipient, the private key is returned only as CiphertextForRecipient,
// sealed to the public key of the Nitro enclave's attestation document
// (D80); a Recipient that is invalid, or whose document does not verify,
// is ValidationException.
//
// Errors: ValidationException (KeyPairSpec missing or unknown),
// InvalidArnException, NotFoundException, AccessDeniedException,
// DisabledException, KMSInvalidStateException (table a.2),
// InvalidKeyUsageException (an asymmetric or HMAC KeyId),
// UnsupportedOperationException (a key in a custom key store, footnote
// [7]; SM2 outside the China Regions, ML_KEM_* in them),
// KMSInternalException.
func (s *Service) GenerateDataKeyPair(ctx context.Context, in *GenerateDataKeyPairInput) (*GenerateDataKeyPairOutput, error) {
	in = orEmpty(in)
	out, err := s.generateDataKeyPair(ctx, keystate.GenerateDataKeyPair, in)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GenerateDataKeyPairWithoutPlaintext is GenerateDataKeyPair without the
// private key in the clear. It takes no Recipient (ValidationException,
// D80).
//
// Errors: those of GenerateDataKeyPair.
func (s *Service) GenerateDataKeyPairWithoutPlaintext(ctx context.Context, in *GenerateDataKeyPairWithoutPlaintextInput) (*GenerateDataKeyPairWithoutPlaintextOutput, error) {
	in = orEmpty(in)
	out, err := s.generateDataKeyPair(ctx, keystate.GenerateDataKeyPairWithoutPlaintext, in)
	if err != nil {
		return nil, err
	}
	clear(out.PrivateKeyPlaintext)
	return &GenerateDataKeyPairWithoutPlaintextOutput{KeyId: out.KeyId, KeyPairSpec: out.KeyPairSpec, PublicKey: out.PublicKey,
		PrivateKeyCiphertextBlob: out.PrivateKeyCiphertextBlob, KeyMaterialId: out.KeyMaterialId}, nil
}

// generateDataKeyPair is GenerateDataKeyPair with or without the
// plaintext (the output by value, so that the one without it makes only
// its own).
func (s *Service) generateDataKeyPair(ctx context.Context, op keystate.Operation, in *GenerateDataKeyPairInput) (GenerateDataKeyPairOutput, error) {
	var invalid error
	if in.KeyPairSpec == "" {
		invalid = required(op, "keyPairSpec")
	} else {
		invalid = checkEnum(op, in.KeyPairSpec, "keyPairSpec", dataKeyPairSpecNames)
	}
	if invalid == nil {
		invalid = validateContext(op, in.EncryptionContext, "encryptionContext")
	}
	var (
		out  GenerateDataKeyPairOutput
		priv []byte
	)
	err := s.cryptoCall(ctx, op, in.KeyId, "", in.EncryptionContext, []string{"kms:DataKeyPairSpec", in.KeyPairSpec}, in.Recipient, invalid,
		func() map[string]string {
			p := cryptoParams(in.KeyId, in.EncryptionContext)
			p["keyPairSpec"] = in.KeyPairSpec
			return p
		}, func(k *key, arn string, root []byte) error {
			if k.kind.Origin.InCustomKeyStore() {
				// Spec §5: the KeyId cannot be a key in a custom key store
				// (footnote [7], UnsupportedOperationException), whatever its
				// state; worded as kmsmodel words [7] elsewhere.
				return kmsError(keystate.ErrUnsupportedOperation, op, arn, k.state,
					arn+" origin is "+k.kind.Origin.String()+" which is not valid for this operation.")
			}
			if spec, _ := keystate.ParseKeySpec(in.KeyPairSpec); !s.regionOffers(spec) {
				// CreateKey's rule and recorded wording (RPT-FL3026).
				return kmsError(keystate.ErrUnsupportedOperation, op, arn, k.state, "KeyPairSpec "+in.KeyPairSpec+" is not supported in this Region")
			}
			var (
				pub []byte
				err error
			)
			priv, pub, err = keycrypto.GenerateDataKeyPair(in.KeyPairSpec, s.cfg.random)
			if errors.Is(err, keycrypto.ErrUnsupportedSpec) {
				return kmsError(keystate.ErrUnsupportedOperation, op, arn, k.state,
					"KeyPairSpec "+in.KeyPairSpec+" is not modelled by this version of kmsmodel.")
			}
			if err != nil {
				return &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err,
					Message: "The data key pair could not be generated."}
			}
			blob, err := s.sealFor(root, k, priv, in.EncryptionContext)
			if err != nil {
				return sealError(op, k, arn, err)
			}
			forRecipient, err := s.forRecipient(op, k, arn, &priv)
			if err != nil {
				return err
			}
			out = GenerateDataKeyPairOutput{KeyId: arn, KeyPairSpec: in.KeyPairSpec, PublicKey: pub,
				PrivateKeyCiphertextBlob: blob, KeyMaterialId: currentMaterialID(k), CiphertextForRecipient: forRecipient}
			return nil
		})
	if err != nil {
		clear(priv)
		return GenerateDataKeyPairOutput{}, err
	}
	out.PrivateKeyPlaintext = priv
	return out, nil
}

// currentMaterialID is the KeyMaterialId of a symmetric key's current
// material: derived for an AWS_KMS key, the imported one's for an
// EXTERNAL key.
func currentMaterialID(k *key) string {
	if k.kind.Origin == keystate.External {
		if k.imp != nil {
			return k.imp.id
		}
		return ""
	}
	return materialID(k.id, len(k.rotations))
}
