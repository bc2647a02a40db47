package kms

import (
	"context"
	"errors"

	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// ML-KEM (asymmetric-hmac spec §1.4; decision D54): Encapsulate and
// Decapsulate with ML_KEM_512, ML_KEM_768 and ML_KEM_1024 keys, whose
// KeyUsage is ENCAPSULATE_DECAPSULATE and whose one algorithm is ML_KEM.

// EncapsulateInput is the input of Encapsulate. KeyId may be a key ID, key
// ARN, alias name or alias ARN, and another account's key or alias ARN.
type EncapsulateInput struct {
	KeyId                  string
	EncapsulationAlgorithm string // ML_KEM
}

// EncapsulateOutput is the output of Encapsulate: a fresh 32-byte shared
// secret and its encapsulation under the key's public key (768, 1088 or
// 1568 bytes for ML_KEM_512, ML_KEM_768, ML_KEM_1024), which Decapsulate
// turns back into the secret.
type EncapsulateOutput struct {
	KeyId                      string // the key ARN
	EncapsulationAlgorithm     string
	SharedSecret               Sensitive
	SharedSecretCiphertextBlob []byte
}

// DecapsulateInput is the input of Decapsulate.
type DecapsulateInput struct {
	KeyId                      string
	EncapsulationAlgorithm     string // ML_KEM
	SharedSecretCiphertextBlob []byte // 1–6144 bytes; the key spec's length to decapsulate
}

// DecapsulateOutput is the output of Decapsulate.
type DecapsulateOutput struct {
	KeyId                  string // the key ARN
	EncapsulationAlgorithm string
	SharedSecret           Sensitive
}

// validateEncapsulation is Encapsulate's and Decapsulate's input
// validation (D3 step 1).
func validateEncapsulation(op keystate.Operation, alg string, blob []byte, decapsulate bool) error {
	if decapsulate {
		if err := requiredBlob(op, blob, "sharedSecretCiphertextBlob"); err != nil {
			return err
		}
	}
	return requiredEnum(op, alg, "encapsulationAlgorithm", encapsulationNames)
}

// Encapsulate makes a fresh 32-byte shared secret and encapsulates it
// under the public key of an ML-KEM key (FIPS 203), for whoever holds the
// key to recover with Decapsulate: the secret is for the caller, the
// ciphertext for the other party. Its randomness comes from the service's
// (WithRandom), so a seeded service encapsulates the same way every time.
// An AWS_KMS key's material is generated on its first use.
//
// Errors: ValidationException (EncapsulationAlgorithm missing or not
// ML_KEM), InvalidArnException, NotFoundException, AccessDeniedException,
// DisabledException, KMSInvalidStateException (DeriveSharedSecret's row
// of table a.2, D54), InvalidKeyUsageException (not an
// ENCAPSULATE_DECAPSULATE key), DryRunOperationException,
// KMSInternalException.
func (s *Service) Encapsulate(ctx context.Context, in *EncapsulateInput) (*EncapsulateOutput, error) {
	in = orEmpty(in)
	const op = keystate.Encapsulate
	invalid := validateEncapsulation(op, in.EncapsulationAlgorithm, nil, false)
	var out *EncapsulateOutput
	err := s.asymCall(ctx, op, in.KeyId, invalid, true, true, nil, func() map[string]string {
		return map[string]string{"keyId": in.KeyId, "encapsulationAlgorithm": in.EncapsulationAlgorithm}
	}, func(k *key, arn string) error {
		return checkAlgorithm(op, k, arn, in.EncapsulationAlgorithm, keycrypto.EncapsulationAlgorithms(k.kind.Spec))
	}, func(k *key, arn string, ck *keycrypto.Key) error {
		secret, ct, err := ck.Encapsulate(in.EncapsulationAlgorithm, s.cfg.random)
		if err != nil {
			if _, ok := errors.AsType[*keycrypto.Error](err); !ok {
				// Not a refusal of keycrypto's: the randomness source failed.
				return &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, KeyID: arn, State: k.state, Err: err,
					Message: "The randomness source failed."}
			}
			return cryptoError(op, k, arn, err)
		}
		out = &EncapsulateOutput{KeyId: arn, EncapsulationAlgorithm: in.EncapsulationAlgorithm,
			SharedSecret: secret, SharedSecretCiphertextBlob: ct}
		return nil
	})
	return out, err
}

// Decapsulate recovers the shared secret that Encapsulate (or anyone with
// the key's public key, from GetPublicKey) encapsulated. As AWS
// documents, a ciphertext whose length is not the key spec's is
// InvalidCiphertextException, and any other ciphertext, altered or made
// for another key, gives a pseudo-random 32-byte secret without an error
// (ML-KEM's implicit rejection): the two parties must confirm that they
// hold the same secret.
//
// Errors: Encapsulate's, ValidationException also for a missing or
// over-long SharedSecretCiphertextBlob, and InvalidCiphertextException.
func (s *Service) Decapsulate(ctx context.Context, in *DecapsulateInput) (*DecapsulateOutput, error) {
	in = orEmpty(in)
	const op = keystate.Decapsulate
	invalid := validateEncapsulation(op, in.EncapsulationAlgorithm, in.SharedSecretCiphertextBlob, true)
	var out *DecapsulateOutput
	err := s.asymCall(ctx, op, in.KeyId, invalid, true, true, nil, func() map[string]string {
		return map[string]string{"keyId": in.KeyId, "encapsulationAlgorithm": in.EncapsulationAlgorithm}
	}, func(k *key, arn string) error {
		if err := checkAlgorithm(op, k, arn, in.EncapsulationAlgorithm, keycrypto.EncapsulationAlgorithms(k.kind.Spec)); err != nil {
			return err
		}
		if len(in.SharedSecretCiphertextBlob) != keycrypto.EncapsulationSize(k.kind.Spec) {
			// Before a dry run answers (D27: it parses the ciphertext);
			// AWS's empty message, as for every invalid ciphertext.
			return kmsError(keystate.ErrInvalidCiphertext, op, arn, k.state, "")
		}
		return nil
	}, func(k *key, arn string, ck *keycrypto.Key) error {
		secret, err := ck.Decapsulate(in.EncapsulationAlgorithm, in.SharedSecretCiphertextBlob)
		if err != nil {
			return cryptoError(op, k, arn, err)
		}
		out = &DecapsulateOutput{KeyId: arn, EncapsulationAlgorithm: in.EncapsulationAlgorithm, SharedSecret: secret}
		return nil
	})
	return out, err
}
