package kmshttp

import (
	"context"

	"github.com/kmsmodel/kmsmodel/kms"
)

// The asymmetric and HMAC operations, Encapsulate and Decapsulate
// (ML-KEM), and GetKeyLastUsage. Blobs (Message,
// Signature, Mac, PublicKey, private keys, shared secrets) travel as base64
// strings, timestamps as epoch seconds. As for the symmetric operations,
// DryRun and GrantTokens go to the service in the call's context, and
// Recipient (on DeriveSharedSecret and GenerateDataKeyPair) goes to the
// service (D80). Messages, MACs, private keys and shared
// secrets decoded or written here are wiped once the response is built.

func sign(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.SignInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), blobF("Message", (*[]byte)(&in.Message)),
		strF("SigningAlgorithm", &in.SigningAlgorithm), strF("MessageType", &in.MessageType),
		o.dryRunF(), o.grantTokensF()}
	err := decodeRequired(body, f, "keyId", "message", "signingAlgorithm")
	defer clear(in.Message)
	if err != nil {
		return out, err
	}
	res, err := svc.Sign(o.context(ctx), &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optStr("KeyId", res.KeyId)
	w.optBlob("Signature", res.Signature)
	w.optStr("SigningAlgorithm", res.SigningAlgorithm)
	w.close()
	return w.b, nil
}

func verify(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.VerifyInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), blobF("Message", (*[]byte)(&in.Message)),
		blobF("Signature", &in.Signature), strF("SigningAlgorithm", &in.SigningAlgorithm),
		strF("MessageType", &in.MessageType), o.dryRunF(), o.grantTokensF()}
	err := decodeRequired(body, f, "keyId", "message", "signature", "signingAlgorithm")
	defer clear(in.Message)
	if err != nil {
		return out, err
	}
	res, err := svc.Verify(o.context(ctx), &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optStr("KeyId", res.KeyId)
	w.boolean("SignatureValid", res.SignatureValid)
	w.optStr("SigningAlgorithm", res.SigningAlgorithm)
	w.close()
	return w.b, nil
}

func getPublicKey(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.GetPublicKeyInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), o.grantTokensF()}
	if err := decodeRequired(body, f, "keyId"); err != nil {
		return out, err
	}
	res, err := svc.GetPublicKey(o.context(ctx), &in)
	if err != nil {
		return out, err
	}
	// Only the algorithm list of the key's usage is sent (spec §3).
	w := writer{b: out}
	w.open()
	w.optStr("CustomerMasterKeySpec", res.CustomerMasterKeySpec)
	optList(&w, "EncapsulationAlgorithms", res.EncapsulationAlgorithms)
	optList(&w, "EncryptionAlgorithms", res.EncryptionAlgorithms)
	optList(&w, "KeyAgreementAlgorithms", res.KeyAgreementAlgorithms)
	w.optStr("KeyId", res.KeyId)
	w.optStr("KeySpec", res.KeySpec)
	w.optStr("KeyUsage", res.KeyUsage)
	w.optBlob("PublicKey", res.PublicKey)
	optList(&w, "SigningAlgorithms", res.SigningAlgorithms)
	w.close()
	return w.b, nil
}

// optList writes a list of strings unless it is empty.
func optList(w *writer, n string, v []string) {
	if len(v) > 0 {
		w.strList(n, v)
	}
}

func generateMac(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.GenerateMacInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), blobF("Message", (*[]byte)(&in.Message)),
		strF("MacAlgorithm", &in.MacAlgorithm), o.dryRunF(), o.grantTokensF()}
	err := decodeRequired(body, f, "keyId", "message", "macAlgorithm")
	defer clear(in.Message)
	if err != nil {
		return out, err
	}
	res, err := svc.GenerateMac(o.context(ctx), &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optStr("KeyId", res.KeyId)
	w.optBlob("Mac", res.Mac)
	w.optStr("MacAlgorithm", res.MacAlgorithm)
	w.close()
	return w.b, nil
}

func verifyMac(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.VerifyMacInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), blobF("Message", (*[]byte)(&in.Message)),
		strF("MacAlgorithm", &in.MacAlgorithm), blobF("Mac", &in.Mac),
		o.dryRunF(), o.grantTokensF()}
	err := decodeRequired(body, f, "keyId", "message", "macAlgorithm", "mac")
	defer clear(in.Message)
	if err != nil {
		return out, err
	}
	res, err := svc.VerifyMac(o.context(ctx), &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optStr("KeyId", res.KeyId)
	w.optStr("MacAlgorithm", res.MacAlgorithm)
	w.boolean("MacValid", res.MacValid)
	w.close()
	return w.b, nil
}

func deriveSharedSecret(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.DeriveSharedSecretInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), strF("KeyAgreementAlgorithm", &in.KeyAgreementAlgorithm),
		blobF("PublicKey", &in.PublicKey), o.dryRunF(), recipientF(&in.Recipient), o.grantTokensF()}
	if err := decodeRequired(body, f, "keyId", "keyAgreementAlgorithm", "publicKey"); err != nil {
		return out, err
	}
	res, err := svc.DeriveSharedSecret(o.context(ctx), &in)
	if err != nil {
		return out, err
	}
	defer clear(res.SharedSecret)
	w := writer{b: out}
	w.open()
	w.optBlob("CiphertextForRecipient", res.CiphertextForRecipient)
	w.optStr("KeyAgreementAlgorithm", res.KeyAgreementAlgorithm)
	w.optStr("KeyId", res.KeyId)
	w.optStr("KeyOrigin", res.KeyOrigin)
	w.optBlob("SharedSecret", res.SharedSecret)
	w.close()
	return w.b, nil
}

func encapsulate(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.EncapsulateInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), strF("EncapsulationAlgorithm", &in.EncapsulationAlgorithm),
		o.dryRunF(), o.grantTokensF()}
	if err := decodeRequired(body, f, "keyId", "encapsulationAlgorithm"); err != nil {
		return out, err
	}
	res, err := svc.Encapsulate(o.context(ctx), &in)
	if err != nil {
		return out, err
	}
	return sharedSecretAnswer(out, res.EncapsulationAlgorithm, res.KeyId, res.SharedSecret, res.SharedSecretCiphertextBlob), nil
}

// sharedSecretAnswer writes Encapsulate's answer, or Decapsulate's (which
// has no ciphertext), and wipes the secret.
func sharedSecretAnswer(out []byte, alg, keyID string, secret, ciphertext []byte) []byte {
	defer clear(secret)
	w := writer{b: out}
	w.open()
	w.optStr("EncapsulationAlgorithm", alg)
	w.optStr("KeyId", keyID)
	w.optBlob("SharedSecret", secret)
	w.optBlob("SharedSecretCiphertextBlob", ciphertext)
	w.close()
	return w.b
}

func decapsulate(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.DecapsulateInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), strF("EncapsulationAlgorithm", &in.EncapsulationAlgorithm),
		blobF("SharedSecretCiphertextBlob", &in.SharedSecretCiphertextBlob), o.dryRunF(), o.grantTokensF()}
	if err := decodeRequired(body, f, "keyId", "encapsulationAlgorithm", "sharedSecretCiphertextBlob"); err != nil {
		return out, err
	}
	res, err := svc.Decapsulate(o.context(ctx), &in)
	if err != nil {
		return out, err
	}
	return sharedSecretAnswer(out, res.EncapsulationAlgorithm, res.KeyId, res.SharedSecret, nil), nil
}

// dataKeyPairInput decodes GenerateDataKeyPair and
// GenerateDataKeyPairWithoutPlaintext.
func dataKeyPairInput(body []byte, withPlaintext bool) (*kms.GenerateDataKeyPairInput, *callOptions, error) {
	var in kms.GenerateDataKeyPairInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), strF("KeyPairSpec", &in.KeyPairSpec),
		mapF("EncryptionContext", "encryptionContext", &in.EncryptionContext),
		o.dryRunF(), o.grantTokensF()}
	if withPlaintext {
		f = append(f, recipientF(&in.Recipient)) // not a member of GenerateDataKeyPairWithoutPlaintext
	}
	if err := decodeRequired(body, f, "keyId", "keyPairSpec"); err != nil {
		return nil, nil, err
	}
	return &in, &o, nil
}

func generateDataKeyPair(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	in, o, err := dataKeyPairInput(body, true)
	if err != nil {
		return out, err
	}
	res, err := svc.GenerateDataKeyPair(o.context(ctx), in)
	if err != nil {
		return out, err
	}
	defer clear(res.PrivateKeyPlaintext)
	w := writer{b: out}
	w.open()
	w.optBlob("CiphertextForRecipient", res.CiphertextForRecipient)
	w.optStr("KeyId", res.KeyId)
	w.optStr("KeyMaterialId", res.KeyMaterialId)
	w.optStr("KeyPairSpec", res.KeyPairSpec)
	w.optBlob("PrivateKeyCiphertextBlob", res.PrivateKeyCiphertextBlob)
	w.optBlob("PrivateKeyPlaintext", res.PrivateKeyPlaintext)
	w.optBlob("PublicKey", res.PublicKey)
	w.close()
	return w.b, nil
}

func generateDataKeyPairWithoutPlaintext(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	in, o, err := dataKeyPairInput(body, false)
	if err != nil {
		return out, err
	}
	res, err := svc.GenerateDataKeyPairWithoutPlaintext(o.context(ctx), in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optStr("KeyId", res.KeyId)
	w.optStr("KeyMaterialId", res.KeyMaterialId)
	w.optStr("KeyPairSpec", res.KeyPairSpec)
	w.optBlob("PrivateKeyCiphertextBlob", res.PrivateKeyCiphertextBlob)
	w.optBlob("PublicKey", res.PublicKey)
	w.close()
	return w.b, nil
}

func getKeyLastUsage(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	id, err := keyOnly(body)
	if err != nil {
		return out, err
	}
	res, err := svc.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: id})
	if err != nil {
		return out, err
	}
	// KeyLastUsage is always sent: an empty object when the key has no
	// recorded use since TrackingStartDate (spec §10).
	u := &res.KeyLastUsage
	w := writer{b: out}
	w.open()
	w.time("KeyCreationDate", res.KeyCreationDate)
	w.optStr("KeyId", res.KeyId)
	w.object("KeyLastUsage")
	w.optStr("CloudTrailEventId", u.CloudTrailEventId)
	w.optStr("KmsRequestId", u.KmsRequestId)
	w.optStr("Operation", u.Operation)
	w.optTime("Timestamp", u.Timestamp)
	w.close()
	w.time("TrackingStartDate", res.TrackingStartDate)
	w.close()
	return w.b, nil
}
