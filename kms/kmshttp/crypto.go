package kmshttp

import (
	"context"

	"github.com/kmsmodel/kmsmodel/kms"
)

// The cryptographic operations. Blobs travel as base64 strings. Members the
// model does not implement change what the call means, so they are refused
// rather than ignored: DryRun true and Recipient (Nitro Enclaves
// attestation) give UnsupportedOperationException; GrantTokens are
// accepted and ignored, as for DescribeKey.

// notModelled refuses a member that would change the call's meaning.
// kmsmodel's wording.
func notModelled(member string) *wireError {
	return &wireError{code: "UnsupportedOperationException", status: 400,
		msg: member + " is not supported by kmsmodel"}
}

// refuseUnmodelled checks the DryRun and Recipient members.
func refuseUnmodelled(dryRun bool, recipient field) error {
	if dryRun {
		return notModelled("DryRun")
	}
	if recipient.present {
		return notModelled("Recipient")
	}
	return nil
}

func encrypt(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.EncryptInput
	var dryRun bool
	f := []field{strF("KeyId", &in.KeyId), blobF("Plaintext", (*[]byte)(&in.Plaintext)),
		mapF("EncryptionContext", "encryptionContext", &in.EncryptionContext),
		strF("EncryptionAlgorithm", &in.EncryptionAlgorithm), boolF("DryRun", &dryRun),
		ignored("GrantTokens", kStrings)}
	if err := decodeFields(body, f); err != nil {
		return out, err
	}
	defer clear(in.Plaintext)
	if err := require(f, "keyId", "plaintext"); err != nil {
		return out, err
	}
	if dryRun {
		return out, notModelled("DryRun")
	}
	res, err := svc.Encrypt(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optBlob("CiphertextBlob", res.CiphertextBlob)
	w.optStr("EncryptionAlgorithm", res.EncryptionAlgorithm)
	w.optStr("KeyId", res.KeyId)
	w.close()
	return w.b, nil
}

func decrypt(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.DecryptInput
	var dryRun bool
	f := []field{blobF("CiphertextBlob", &in.CiphertextBlob),
		mapF("EncryptionContext", "encryptionContext", &in.EncryptionContext),
		strF("KeyId", &in.KeyId), strF("EncryptionAlgorithm", &in.EncryptionAlgorithm),
		boolF("DryRun", &dryRun), ignored("Recipient", kMap), ignored("GrantTokens", kStrings)}
	if err := decodeRequired(body, f, "ciphertextBlob"); err != nil {
		return out, err
	}
	if err := refuseUnmodelled(dryRun, f[5]); err != nil {
		return out, err
	}
	res, err := svc.Decrypt(ctx, &in)
	if err != nil {
		return out, err
	}
	defer clear(res.Plaintext)
	w := writer{b: out}
	w.open()
	w.optStr("EncryptionAlgorithm", res.EncryptionAlgorithm)
	w.optStr("KeyId", res.KeyId)
	w.optBlob("Plaintext", res.Plaintext)
	w.close()
	return w.b, nil
}

func reEncrypt(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.ReEncryptInput
	var dryRun bool
	f := []field{blobF("CiphertextBlob", &in.CiphertextBlob), strF("DestinationKeyId", &in.DestinationKeyId),
		mapF("SourceEncryptionContext", "sourceEncryptionContext", &in.SourceEncryptionContext),
		strF("SourceKeyId", &in.SourceKeyId), strF("SourceEncryptionAlgorithm", &in.SourceEncryptionAlgorithm),
		mapF("DestinationEncryptionContext", "destinationEncryptionContext", &in.DestinationEncryptionContext),
		strF("DestinationEncryptionAlgorithm", &in.DestinationEncryptionAlgorithm),
		boolF("DryRun", &dryRun), ignored("GrantTokens", kStrings)}
	if err := decodeRequired(body, f, "ciphertextBlob", "destinationKeyId"); err != nil {
		return out, err
	}
	if dryRun {
		return out, notModelled("DryRun")
	}
	res, err := svc.ReEncrypt(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optBlob("CiphertextBlob", res.CiphertextBlob)
	w.optStr("DestinationEncryptionAlgorithm", res.DestinationEncryptionAlgorithm)
	w.optStr("KeyId", res.KeyId)
	w.optStr("SourceEncryptionAlgorithm", res.SourceEncryptionAlgorithm)
	w.optStr("SourceKeyId", res.SourceKeyId)
	w.close()
	return w.b, nil
}

// dataKeyInput decodes GenerateDataKey and GenerateDataKeyWithoutPlaintext.
func dataKeyInput(body []byte, withPlaintext bool) (*kms.GenerateDataKeyInput, error) {
	var in kms.GenerateDataKeyInput
	var dryRun bool
	f := []field{strF("KeyId", &in.KeyId), strF("KeySpec", &in.KeySpec), i32F("NumberOfBytes", &in.NumberOfBytes),
		mapF("EncryptionContext", "encryptionContext", &in.EncryptionContext),
		boolF("DryRun", &dryRun), ignored("Recipient", kMap), ignored("GrantTokens", kStrings)}
	if err := decodeFields(body, f); err != nil {
		return nil, err
	}
	if err := require(f, "keyId"); err != nil {
		return nil, err
	}
	recipient := f[5]
	if !withPlaintext {
		recipient.present = false // not a member of GenerateDataKeyWithoutPlaintext
	}
	if err := refuseUnmodelled(dryRun, recipient); err != nil {
		return nil, err
	}
	return &in, nil
}

func generateDataKey(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	in, err := dataKeyInput(body, true)
	if err != nil {
		return out, err
	}
	res, err := svc.GenerateDataKey(ctx, in)
	if err != nil {
		return out, err
	}
	defer clear(res.Plaintext)
	w := writer{b: out}
	w.open()
	w.optBlob("CiphertextBlob", res.CiphertextBlob)
	w.optStr("KeyId", res.KeyId)
	w.optBlob("Plaintext", res.Plaintext)
	w.close()
	return w.b, nil
}

func generateDataKeyWithoutPlaintext(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	in, err := dataKeyInput(body, false)
	if err != nil {
		return out, err
	}
	res, err := svc.GenerateDataKeyWithoutPlaintext(ctx, in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optBlob("CiphertextBlob", res.CiphertextBlob)
	w.optStr("KeyId", res.KeyId)
	w.close()
	return w.b, nil
}

func generateRandom(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.GenerateRandomInput
	var customKeyStore string
	f := []field{i32F("NumberOfBytes", &in.NumberOfBytes), strF("CustomKeyStoreId", &customKeyStore),
		ignored("Recipient", kMap)}
	if err := decodeFields(body, f); err != nil {
		return out, err
	}
	if err := refuseUnmodelled(false, f[2]); err != nil {
		return out, err
	}
	if customKeyStore != "" {
		return out, &wireError{code: "CustomKeyStoreNotFoundException", status: 400,
			msg: "Custom key store " + customKeyStore + " does not exist"}
	}
	res, err := svc.GenerateRandom(ctx, &in)
	if err != nil {
		return out, err
	}
	defer clear(res.Plaintext)
	w := writer{b: out}
	w.open()
	w.optBlob("Plaintext", res.Plaintext)
	w.close()
	return w.b, nil
}
