package kmshttp

import (
	"context"

	"github.com/kmsmodel/kmsmodel/kms"
)

// The key-material import operations. Blobs (PublicKey, ImportToken,
// EncryptedKeyMaterial) travel as base64 strings, ValidTo and
// ParametersValidTo as epoch seconds. ImportKeyMaterial's ImportType,
// KeyMaterialId and KeyMaterialDescription, and DeleteImportedKeyMaterial's
// KeyMaterialId, belong to the multi-material rules of 2025: a service of
// kms.RulesCurrent takes them; under kms.Rules2024 (decision D2) they are
// refused with UnsupportedOperationException rather than ignored.

func getParametersForImport(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.GetParametersForImportInput
	f := []field{strF("KeyId", &in.KeyId), strF("WrappingAlgorithm", &in.WrappingAlgorithm),
		strF("WrappingKeySpec", &in.WrappingKeySpec)}
	if err := decodeRequired(body, f, "keyId", "wrappingAlgorithm", "wrappingKeySpec"); err != nil {
		return out, err
	}
	res, err := svc.GetParametersForImport(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optBlob("ImportToken", res.ImportToken)
	w.optStr("KeyId", res.KeyId)
	w.optTime("ParametersValidTo", res.ParametersValidTo)
	w.optBlob("PublicKey", res.PublicKey)
	w.close()
	return w.b, nil
}

func importKeyMaterial(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var (
		in   kms.ImportKeyMaterialInput
		desc string
	)
	f := []field{strF("KeyId", &in.KeyId), blobF("ImportToken", &in.ImportToken),
		blobF("EncryptedKeyMaterial", &in.EncryptedKeyMaterial), strF("ExpirationModel", &in.ExpirationModel),
		timeF("ValidTo", &in.ValidTo), strF("ImportType", &in.ImportType), strF("KeyMaterialId", &in.KeyMaterialId),
		strF("KeyMaterialDescription", &desc)}
	if err := decodeRequired(body, f, "keyId", "importToken", "encryptedKeyMaterial"); err != nil {
		return out, err
	}
	if svc.Rules() == kms.Rules2024 {
		for _, x := range f[5:] {
			if x.present {
				return out, notModelled(x.name)
			}
		}
	}
	if f[7].present {
		in.KeyMaterialDescription = &desc
	}
	res, err := svc.ImportKeyMaterial(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optStr("KeyId", res.KeyId)
	w.optStr("KeyMaterialId", res.KeyMaterialId)
	w.close()
	return w.b, nil
}

func deleteImportedKeyMaterial(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.DeleteImportedKeyMaterialInput
	f := []field{strF("KeyId", &in.KeyId), strF("KeyMaterialId", &in.KeyMaterialId)}
	if err := decodeRequired(body, f, "keyId"); err != nil {
		return out, err
	}
	if f[1].present && svc.Rules() == kms.Rules2024 {
		return out, notModelled("KeyMaterialId")
	}
	res, err := svc.DeleteImportedKeyMaterial(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optStr("KeyId", res.KeyId)
	w.optStr("KeyMaterialId", res.KeyMaterialId)
	w.close()
	return w.b, nil
}
