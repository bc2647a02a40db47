package kmshttp

import (
	"context"

	"github.com/kmsmodel/kmsmodel/kms"
)

// The cryptographic operations. Blobs travel as base64 strings. DryRun
// and GrantTokens go to the service in the call's context (callOptions).
// Recipient (an AWS Nitro enclave's attestation document, D80) goes to
// the service, and CiphertextForRecipient comes back; the operations
// without plaintext output have no such member, so there it is skipped
// as any unknown member is.

// notModelled refuses a member that would change the call's meaning.
// kmsmodel's wording.
func notModelled(member string) *wireError {
	return &wireError{code: "UnsupportedOperationException", status: 400,
		msg: member + " is not supported by kmsmodel"}
}

// recipientF decodes a Recipient object (RecipientInfo) into *dst: an
// object, even empty, is a Recipient (whose missing document the service
// refuses); null is none.
func recipientF(dst **kms.RecipientInfo) field {
	return objF("Recipient", func() { *dst = nil }, func() { *dst = &kms.RecipientInfo{} }, func(r *reader, name []byte) error {
		ri := *dst
		var err error
		switch string(name) {
		case "AttestationDocument":
			ri.AttestationDocument, _, err = r.blob("AttestationDocument")
		case "KeyEncryptionAlgorithm":
			_, err = r.str("KeyEncryptionAlgorithm", &ri.KeyEncryptionAlgorithm)
		default:
			err = r.skip()
		}
		return err
	})
}

func encrypt(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.EncryptInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), blobF("Plaintext", (*[]byte)(&in.Plaintext)),
		mapF("EncryptionContext", "encryptionContext", &in.EncryptionContext),
		strF("EncryptionAlgorithm", &in.EncryptionAlgorithm), o.dryRunF(), o.grantTokensF()}
	if err := decodeFields(body, f); err != nil {
		return out, err
	}
	defer clear(in.Plaintext)
	if err := require(f, "keyId", "plaintext"); err != nil {
		return out, err
	}
	res, err := svc.Encrypt(o.context(ctx), &in)
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
	var o callOptions
	f := []field{blobF("CiphertextBlob", &in.CiphertextBlob),
		mapF("EncryptionContext", "encryptionContext", &in.EncryptionContext),
		strF("KeyId", &in.KeyId), strF("EncryptionAlgorithm", &in.EncryptionAlgorithm),
		o.dryRunF(), recipientF(&in.Recipient), o.grantTokensF()}
	if err := decodeRequired(body, f, "ciphertextBlob"); err != nil {
		return out, err
	}
	res, err := svc.Decrypt(o.context(ctx), &in)
	if err != nil {
		return out, err
	}
	defer clear(res.Plaintext)
	w := writer{b: out}
	w.open()
	w.optBlob("CiphertextForRecipient", res.CiphertextForRecipient)
	w.optStr("EncryptionAlgorithm", res.EncryptionAlgorithm)
	w.optStr("KeyId", res.KeyId)
	w.optBlob("Plaintext", res.Plaintext)
	w.close()
	return w.b, nil
}

func reEncrypt(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.ReEncryptInput
	var o callOptions
	f := []field{blobF("CiphertextBlob", &in.CiphertextBlob), strF("DestinationKeyId", &in.DestinationKeyId),
		mapF("SourceEncryptionContext", "sourceEncryptionContext", &in.SourceEncryptionContext),
		strF("SourceKeyId", &in.SourceKeyId), strF("SourceEncryptionAlgorithm", &in.SourceEncryptionAlgorithm),
		mapF("DestinationEncryptionContext", "destinationEncryptionContext", &in.DestinationEncryptionContext),
		strF("DestinationEncryptionAlgorithm", &in.DestinationEncryptionAlgorithm),
		o.dryRunF(), o.grantTokensF()}
	if err := decodeRequired(body, f, "ciphertextBlob", "destinationKeyId"); err != nil {
		return out, err
	}
	res, err := svc.ReEncrypt(o.context(ctx), &in)
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
func dataKeyInput(body []byte, withPlaintext bool) (*kms.GenerateDataKeyInput, *callOptions, error) {
	var in kms.GenerateDataKeyInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), strF("KeySpec", &in.KeySpec), i32F("NumberOfBytes", &in.NumberOfBytes),
		mapF("EncryptionContext", "encryptionContext", &in.EncryptionContext),
		o.dryRunF(), o.grantTokensF()}
	if withPlaintext {
		f = append(f, recipientF(&in.Recipient)) // not a member of GenerateDataKeyWithoutPlaintext
	}
	if err := decodeFields(body, f); err != nil {
		return nil, nil, err
	}
	if err := require(f, "keyId"); err != nil {
		return nil, nil, err
	}
	return &in, &o, nil
}

func generateDataKey(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	in, o, err := dataKeyInput(body, true)
	if err != nil {
		return out, err
	}
	res, err := svc.GenerateDataKey(o.context(ctx), in)
	if err != nil {
		return out, err
	}
	defer clear(res.Plaintext)
	w := writer{b: out}
	w.open()
	w.optBlob("CiphertextForRecipient", res.CiphertextForRecipient)
	w.optBlob("CiphertextBlob", res.CiphertextBlob)
	w.optStr("KeyId", res.KeyId)
	w.optBlob("Plaintext", res.Plaintext)
	w.close()
	return w.b, nil
}

func generateDataKeyWithoutPlaintext(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	in, o, err := dataKeyInput(body, false)
	if err != nil {
		return out, err
	}
	res, err := svc.GenerateDataKeyWithoutPlaintext(o.context(ctx), in)
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
	f := []field{i32F("NumberOfBytes", &in.NumberOfBytes), strF("CustomKeyStoreId", &in.CustomKeyStoreId),
		recipientF(&in.Recipient)}
	if err := decodeFields(body, f); err != nil {
		return out, err
	}
	res, err := svc.GenerateRandom(ctx, &in)
	if err != nil {
		return out, err
	}
	defer clear(res.Plaintext)
	w := writer{b: out}
	w.open()
	w.optBlob("CiphertextForRecipient", res.CiphertextForRecipient)
	w.optBlob("Plaintext", res.Plaintext)
	w.close()
	return w.b, nil
}
