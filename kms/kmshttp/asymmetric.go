package kmshttp

import (
	"context"

	"github.com/kmsmodel/kmsmodel/kms"
)

// The asymmetric and HMAC operations, and GetKeyLastUsage. Blobs (Message,
// Signature, Mac, PublicKey, private keys, shared secrets) travel as base64
// strings, timestamps as epoch seconds. As for the symmetric operations,
// GrantTokens are accepted and ignored, and DryRun true and Recipient (on
// DeriveSharedSecret and GenerateDataKeyPair) are refused with
// UnsupportedOperationException. Messages, MACs, private keys and shared
// secrets decoded or written here are wiped once the response is built.

func sign(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.SignInput
	var dryRun bool
	f := []field{strF("KeyId", &in.KeyId), blobF("Message", (*[]byte)(&in.Message)),
		strF("SigningAlgorithm", &in.SigningAlgorithm), strF("MessageType", &in.MessageType),
		boolF("DryRun", &dryRun), ignored("GrantTokens", kStrings)}
	err := decodeUnlessDryRun(body, f, &dryRun, "keyId", "message", "signingAlgorithm")
	defer clear(in.Message)
	if err != nil {
		return out, err
	}
	res, err := svc.Sign(ctx, &in)
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
	var dryRun bool
	f := []field{strF("KeyId", &in.KeyId), blobF("Message", (*[]byte)(&in.Message)),
		blobF("Signature", &in.Signature), strF("SigningAlgorithm", &in.SigningAlgorithm),
		strF("MessageType", &in.MessageType), boolF("DryRun", &dryRun), ignored("GrantTokens", kStrings)}
	err := decodeUnlessDryRun(body, f, &dryRun, "keyId", "message", "signature", "signingAlgorithm")
	defer clear(in.Message)
	if err != nil {
		return out, err
	}
	res, err := svc.Verify(ctx, &in)
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
	f := []field{strF("KeyId", &in.KeyId), ignored("GrantTokens", kStrings)}
	if err := decodeRequired(body, f, "keyId"); err != nil {
		return out, err
	}
	res, err := svc.GetPublicKey(ctx, &in)
	if err != nil {
		return out, err
	}
	// Only the algorithm list of the key's usage is sent (spec §3).
	w := writer{b: out}
	w.open()
	w.optStr("CustomerMasterKeySpec", res.CustomerMasterKeySpec)
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
	var dryRun bool
	f := []field{strF("KeyId", &in.KeyId), blobF("Message", (*[]byte)(&in.Message)),
		strF("MacAlgorithm", &in.MacAlgorithm), boolF("DryRun", &dryRun), ignored("GrantTokens", kStrings)}
	err := decodeUnlessDryRun(body, f, &dryRun, "keyId", "message", "macAlgorithm")
	defer clear(in.Message)
	if err != nil {
		return out, err
	}
	res, err := svc.GenerateMac(ctx, &in)
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
	var dryRun bool
	f := []field{strF("KeyId", &in.KeyId), blobF("Message", (*[]byte)(&in.Message)),
		strF("MacAlgorithm", &in.MacAlgorithm), blobF("Mac", &in.Mac),
		boolF("DryRun", &dryRun), ignored("GrantTokens", kStrings)}
	err := decodeUnlessDryRun(body, f, &dryRun, "keyId", "message", "macAlgorithm", "mac")
	defer clear(in.Message)
	if err != nil {
		return out, err
	}
	res, err := svc.VerifyMac(ctx, &in)
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
	var dryRun bool
	f := []field{strF("KeyId", &in.KeyId), strF("KeyAgreementAlgorithm", &in.KeyAgreementAlgorithm),
		blobF("PublicKey", &in.PublicKey), boolF("DryRun", &dryRun), ignored("Recipient", kMap),
		ignored("GrantTokens", kStrings)}
	if err := decodeRequired(body, f, "keyId", "keyAgreementAlgorithm", "publicKey"); err != nil {
		return out, err
	}
	if err := refuseUnmodelled(dryRun, f[4]); err != nil {
		return out, err
	}
	res, err := svc.DeriveSharedSecret(ctx, &in)
	if err != nil {
		return out, err
	}
	defer clear(res.SharedSecret)
	w := writer{b: out}
	w.open()
	w.optStr("KeyAgreementAlgorithm", res.KeyAgreementAlgorithm)
	w.optStr("KeyId", res.KeyId)
	w.optStr("KeyOrigin", res.KeyOrigin)
	w.optBlob("SharedSecret", res.SharedSecret)
	w.close()
	return w.b, nil
}

// dataKeyPairInput decodes GenerateDataKeyPair and
// GenerateDataKeyPairWithoutPlaintext.
func dataKeyPairInput(body []byte, withPlaintext bool) (*kms.GenerateDataKeyPairInput, error) {
	var in kms.GenerateDataKeyPairInput
	var dryRun bool
	f := []field{strF("KeyId", &in.KeyId), strF("KeyPairSpec", &in.KeyPairSpec),
		mapF("EncryptionContext", "encryptionContext", &in.EncryptionContext),
		boolF("DryRun", &dryRun), ignored("Recipient", kMap), ignored("GrantTokens", kStrings)}
	if err := decodeRequired(body, f, "keyId", "keyPairSpec"); err != nil {
		return nil, err
	}
	recipient := f[4]
	if !withPlaintext {
		recipient.present = false // not a member of GenerateDataKeyPairWithoutPlaintext
	}
	if err := refuseUnmodelled(dryRun, recipient); err != nil {
		return nil, err
	}
	return &in, nil
}

func generateDataKeyPair(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	in, err := dataKeyPairInput(body, true)
	if err != nil {
		return out, err
	}
	res, err := svc.GenerateDataKeyPair(ctx, in)
	if err != nil {
		return out, err
	}
	defer clear(res.PrivateKeyPlaintext)
	w := writer{b: out}
	w.open()
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
	in, err := dataKeyPairInput(body, false)
	if err != nil {
		return out, err
	}
	res, err := svc.GenerateDataKeyPairWithoutPlaintext(ctx, in)
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
