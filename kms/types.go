package kms

import "time"

// Input and output types use the AWS API's field names. Optional numeric
// inputs are pointers, as in the AWS SDK for Go, so that an absent value
// and an invalid zero can be told apart; Int32 makes one.

// orEmpty lets every operation take a nil input as an empty one (which
// then fails validation like any missing required field).
func orEmpty[T any](in *T) *T {
	if in == nil {
		return new(T)
	}
	return in
}

// Int32 returns a pointer to v, for optional numeric inputs.
func Int32(v int32) *int32 { return &v }

// Tag is a key tag.
type Tag struct {
	TagKey   string
	TagValue string
}

// CreateKeyInput is the input of CreateKey.
type CreateKeyInput struct {
	// Description, 0–8192 characters.
	Description string
	// KeySpec, default SYMMETRIC_DEFAULT.
	KeySpec string
	// KeyUsage, default ENCRYPT_DECRYPT; required for HMAC keys.
	KeyUsage string
	// Origin, default AWS_KMS.
	Origin string
	// MultiRegion creates a multi-Region primary key ("mrk-" ID).
	MultiRegion bool
	// Tags to attach.
	Tags []Tag
	// CustomKeyStoreId creates the key in that custom key store (Origin
	// AWS_CLOUDHSM or EXTERNAL_KEY_STORE, matching the store's type; the
	// store must be CONNECTED).
	CustomKeyStoreId string
	// XksKeyId names the external key (Origin EXTERNAL_KEY_STORE only,
	// and required there), 1–128 characters.
	XksKeyId string
	// Policy is the key's key policy document; empty gives AWS's default
	// key policy (the account root may do everything, D24). Unless
	// BypassPolicyLockoutSafetyCheck is set, it must let the caller call
	// PutKeyPolicy on the key.
	Policy                         string
	BypassPolicyLockoutSafetyCheck bool
}

// CreateKeyOutput is the output of CreateKey.
type CreateKeyOutput struct {
	KeyMetadata KeyMetadata
}

// KeyMetadata describes a key, with exactly the fields DescribeKey returns
// for it (decision D19's recording: MultiRegion is always present).
type KeyMetadata struct {
	AWSAccountId          string
	Arn                   string
	CloudHsmClusterId     string // keys in a CloudHSM key store
	CreationDate          time.Time
	CurrentKeyMaterialId  string // symmetric keys with AWS_KMS or imported material
	CustomKeyStoreId      string // keys in a custom key store
	CustomerMasterKeySpec string // deprecated mirror of KeySpec
	DeletionDate          *time.Time
	Description           string
	Enabled               bool
	// EncapsulationAlgorithms is [ML_KEM] for ML-KEM keys.
	EncapsulationAlgorithms []string
	EncryptionAlgorithms    []string
	// ExpirationModel is set for an EXTERNAL key while its material is
	// imported: KEY_MATERIAL_EXPIRES or KEY_MATERIAL_DOES_NOT_EXPIRE.
	ExpirationModel        string
	KeyAgreementAlgorithms []string
	KeyId                  string
	KeyManager             string
	KeySpec                string
	KeyState               string
	KeyUsage               string
	MacAlgorithms          []string
	MultiRegion            bool
	// MultiRegionConfiguration is set for multi-Region keys only.
	MultiRegionConfiguration    *MultiRegionConfiguration
	Origin                      string
	PendingDeletionWindowInDays *int32
	SigningAlgorithms           []string
	// ValidTo is when an EXTERNAL key's imported material expires, while
	// it is imported with KEY_MATERIAL_EXPIRES.
	ValidTo *time.Time
	// XksKeyConfiguration is set for keys in an external key store.
	XksKeyConfiguration *XksKeyConfiguration
}

// MultiRegionConfiguration describes a multi-Region key's role and its
// related keys.
type MultiRegionConfiguration struct {
	// MultiRegionKeyType is PRIMARY or REPLICA.
	MultiRegionKeyType string
	PrimaryKey         MultiRegionKey
	ReplicaKeys        []MultiRegionKey
}

// MultiRegionKey names a multi-Region key by ARN and Region.
type MultiRegionKey struct {
	Arn    string
	Region string
}

// DescribeKeyInput is the input of DescribeKey. KeyId may be a key ID, key
// ARN, alias name or alias ARN.
type DescribeKeyInput struct {
	KeyId string
}

// DescribeKeyOutput is the output of DescribeKey.
type DescribeKeyOutput struct {
	KeyMetadata KeyMetadata
}

// ListKeysInput is the input of ListKeys.
type ListKeysInput struct {
	// Limit, 1–1000, default 100.
	Limit *int32
	// Marker from a previous response's NextMarker.
	Marker string
}

// KeyListEntry is one key of ListKeys.
type KeyListEntry struct {
	KeyArn string
	KeyId  string
}

// ListKeysOutput is the output of ListKeys.
type ListKeysOutput struct {
	Keys       []KeyListEntry
	NextMarker string
	Truncated  bool
}

// KeyIdInput names one key by key ID or key ARN. It is the input of
// EnableKey, DisableKey, CancelKeyDeletion, DisableKeyRotation,
// GetKeyRotationStatus and RotateKeyOnDemand.
type KeyIdInput struct {
	KeyId string
}

// EnableKeyInput is the input of EnableKey.
type EnableKeyInput = KeyIdInput

// DisableKeyInput is the input of DisableKey.
type DisableKeyInput = KeyIdInput

// CancelKeyDeletionInput is the input of CancelKeyDeletion.
type CancelKeyDeletionInput = KeyIdInput

// DisableKeyRotationInput is the input of DisableKeyRotation.
type DisableKeyRotationInput = KeyIdInput

// GetKeyRotationStatusInput is the input of GetKeyRotationStatus.
type GetKeyRotationStatusInput = KeyIdInput

// RotateKeyOnDemandInput is the input of RotateKeyOnDemand.
type RotateKeyOnDemandInput = KeyIdInput

// EnableKeyOutput is the (empty) output of EnableKey.
type EnableKeyOutput struct{}

// DisableKeyOutput is the (empty) output of DisableKey.
type DisableKeyOutput struct{}

// ScheduleKeyDeletionInput is the input of ScheduleKeyDeletion.
type ScheduleKeyDeletionInput struct {
	KeyId string
	// PendingWindowInDays, 7–30, default 30.
	PendingWindowInDays *int32
}

// ScheduleKeyDeletionOutput is the output of ScheduleKeyDeletion.
type ScheduleKeyDeletionOutput struct {
	// DeletionDate is absent for a multi-Region primary with replicas.
	DeletionDate        *time.Time
	KeyId               string // the key ARN
	KeyState            string
	PendingWindowInDays int32
}

// CancelKeyDeletionOutput is the output of CancelKeyDeletion.
type CancelKeyDeletionOutput struct {
	KeyId string // the key ARN
}

// UpdateKeyDescriptionInput is the input of UpdateKeyDescription.
type UpdateKeyDescriptionInput struct {
	KeyId       string
	Description string
}

// UpdateKeyDescriptionOutput is the (empty) output of UpdateKeyDescription.
type UpdateKeyDescriptionOutput struct{}

// EnableKeyRotationInput is the input of EnableKeyRotation.
type EnableKeyRotationInput struct {
	KeyId string
	// RotationPeriodInDays, 90–2560, default 365 (decision D21).
	RotationPeriodInDays *int32
}

// EnableKeyRotationOutput is the (empty) output of EnableKeyRotation.
type EnableKeyRotationOutput struct{}

// DisableKeyRotationOutput is the (empty) output of DisableKeyRotation.
type DisableKeyRotationOutput struct{}

// GetKeyRotationStatusOutput is the output of GetKeyRotationStatus, with the
// fields present as decision D20 says.
type GetKeyRotationStatusOutput struct {
	KeyId                     string // the key ARN
	KeyRotationEnabled        bool
	NextRotationDate          *time.Time
	OnDemandRotationStartDate *time.Time
	RotationPeriodInDays      *int32
}

// RotateKeyOnDemandOutput is the output of RotateKeyOnDemand.
type RotateKeyOnDemandOutput struct {
	KeyId string // the key ARN, even when a key ID was given (recorded)
}

// ListKeyRotationsInput is the input of ListKeyRotations.
type ListKeyRotationsInput struct {
	KeyId string
	// IncludeKeyMaterial: ROTATIONS_ONLY (default) or ALL_KEY_MATERIAL,
	// which adds the key's original material as the first entry and,
	// under RulesCurrent, the material pending rotation as the last.
	IncludeKeyMaterial string
	// Limit, 1–1000, default 100.
	Limit  *int32
	Marker string
}

// RotationsListEntry is one entry of ListKeyRotations.
type RotationsListEntry struct {
	KeyId         string
	KeyMaterialId string
	// KeyMaterialState is CURRENT, NON_CURRENT, or, under RulesCurrent,
	// PENDING_ROTATION or PENDING_MULTI_REGION_IMPORT_AND_ROTATION.
	KeyMaterialState string
	// RotationDate and RotationType are absent for the original material
	// and for material pending rotation.
	RotationDate *time.Time
	RotationType string // AUTOMATIC or ON_DEMAND
	// The fields of an EXTERNAL key's entries (RulesCurrent):
	// ImportState (IMPORTED or PENDING_IMPORT), ExpirationModel and
	// ValidTo while the material is imported, and KeyMaterialDescription.
	ImportState            string
	ExpirationModel        string
	ValidTo                *time.Time
	KeyMaterialDescription string
}

// ListKeyRotationsOutput is the output of ListKeyRotations.
type ListKeyRotationsOutput struct {
	NextMarker string
	Rotations  []RotationsListEntry
	Truncated  bool
}

// CreateAliasInput is the input of CreateAlias.
type CreateAliasInput struct {
	AliasName   string
	TargetKeyId string
}

// CreateAliasOutput is the (empty) output of CreateAlias.
type CreateAliasOutput struct{}

// UpdateAliasInput is the input of UpdateAlias.
type UpdateAliasInput struct {
	AliasName   string
	TargetKeyId string
}

// UpdateAliasOutput is the (empty) output of UpdateAlias.
type UpdateAliasOutput struct{}

// DeleteAliasInput is the input of DeleteAlias.
type DeleteAliasInput struct {
	AliasName string
}

// DeleteAliasOutput is the (empty) output of DeleteAlias.
type DeleteAliasOutput struct{}

// ListAliasesInput is the input of ListAliases.
type ListAliasesInput struct {
	// KeyId, when set, lists only the aliases of that key.
	KeyId  string
	Limit  *int32
	Marker string
}

// AliasListEntry is one alias of ListAliases.
type AliasListEntry struct {
	AliasArn        string
	AliasName       string
	CreationDate    *time.Time
	LastUpdatedDate *time.Time
	TargetKeyId     string
}

// ListAliasesOutput is the output of ListAliases.
type ListAliasesOutput struct {
	Aliases    []AliasListEntry
	NextMarker string
	Truncated  bool
}

// TagResourceInput is the input of TagResource.
type TagResourceInput struct {
	KeyId string
	Tags  []Tag
}

// TagResourceOutput is the (empty) output of TagResource.
type TagResourceOutput struct{}

// UntagResourceInput is the input of UntagResource.
type UntagResourceInput struct {
	KeyId   string
	TagKeys []string
}

// UntagResourceOutput is the (empty) output of UntagResource.
type UntagResourceOutput struct{}

// ListResourceTagsInput is the input of ListResourceTags.
type ListResourceTagsInput struct {
	KeyId string
	// Limit, 1–50, default 50.
	Limit  *int32
	Marker string
}

// ListResourceTagsOutput is the output of ListResourceTags.
type ListResourceTagsOutput struct {
	NextMarker string
	Tags       []Tag
	Truncated  bool
}

// GetParametersForImportInput is the input of GetParametersForImport.
type GetParametersForImportInput struct {
	KeyId string
	// WrappingAlgorithm: RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256,
	// RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256 (required).
	WrappingAlgorithm string
	// WrappingKeySpec: RSA_2048, RSA_3072 or RSA_4096 (required).
	WrappingKeySpec string
}

// GetParametersForImportOutput is the output of GetParametersForImport.
type GetParametersForImportOutput struct {
	// ImportToken goes with ImportKeyMaterial; Sensitive, so that it is
	// never printed.
	ImportToken       Sensitive
	KeyId             string // the key ARN
	ParametersValidTo *time.Time
	// PublicKey is the wrapping key, DER-encoded SubjectPublicKeyInfo.
	PublicKey []byte
}

// ImportKeyMaterialInput is the input of ImportKeyMaterial.
type ImportKeyMaterialInput struct {
	KeyId string
	// ImportToken from GetParametersForImport.
	ImportToken []byte
	// EncryptedKeyMaterial is the material wrapped under the token's
	// public key with its wrapping algorithm.
	EncryptedKeyMaterial []byte
	// ExpirationModel: KEY_MATERIAL_EXPIRES (default) or
	// KEY_MATERIAL_DOES_NOT_EXPIRE.
	ExpirationModel string
	// ValidTo: required with KEY_MATERIAL_EXPIRES, after now and at most
	// 365 days ahead; absent otherwise.
	ValidTo *time.Time
	// ImportType (RulesCurrent, symmetric keys only): NEW_KEY_MATERIAL or
	// EXISTING_KEY_MATERIAL. The default is NEW_KEY_MATERIAL for a key that
	// never had material, else EXISTING_KEY_MATERIAL.
	ImportType string
	// KeyMaterialDescription (RulesCurrent, symmetric keys only), up to
	// 256 characters; when absent a re-imported material keeps its own.
	KeyMaterialDescription *string
	// KeyMaterialId (RulesCurrent, symmetric keys only, not with
	// NEW_KEY_MATERIAL) names the material being re-imported; the
	// material must have that ID.
	KeyMaterialId string
}

// ImportKeyMaterialOutput is the output of ImportKeyMaterial.
type ImportKeyMaterialOutput struct {
	KeyId         string // the key ARN
	KeyMaterialId string
}

// DeleteImportedKeyMaterialInput is the input of DeleteImportedKeyMaterial.
type DeleteImportedKeyMaterialInput struct {
	KeyId string
	// KeyMaterialId (RulesCurrent) names the material to delete; the
	// default is the current one.
	KeyMaterialId string
}

// DeleteImportedKeyMaterialOutput is the output of DeleteImportedKeyMaterial.
type DeleteImportedKeyMaterialOutput struct {
	KeyId         string // the key ARN
	KeyMaterialId string // the deleted material's ID; empty if the key never had material
}

// ReplicateKeyInput is the input of ReplicateKey.
type ReplicateKeyInput struct {
	// KeyId names the multi-Region primary key: key ID or key ARN.
	KeyId string
	// ReplicaRegion is the Region of the new replica, such as "us-west-2".
	ReplicaRegion string
	// Description of the replica, 0–8192 characters. A replica does not
	// take its primary's description.
	Description string
	// Tags of the replica.
	Tags []Tag
	// Policy is the replica's key policy; empty gives the default (a
	// replica does not take its primary's). BypassPolicyLockoutSafetyCheck
	// as for CreateKey.
	Policy                         string
	BypassPolicyLockoutSafetyCheck bool
}

// ReplicateKeyOutput is the output of ReplicateKey.
type ReplicateKeyOutput struct {
	// ReplicaKeyMetadata describes the new replica, which is Creating.
	ReplicaKeyMetadata KeyMetadata
	// ReplicaPolicy is the replica's key policy, as GetKeyPolicy returns it.
	ReplicaPolicy string
	// ReplicaTags are the replica's tags.
	ReplicaTags []Tag
}

// UpdatePrimaryRegionInput is the input of UpdatePrimaryRegion.
type UpdatePrimaryRegionInput struct {
	// KeyId names the current primary key: key ID or key ARN.
	KeyId string
	// PrimaryRegion is the Region of the replica that becomes primary.
	PrimaryRegion string
}

// UpdatePrimaryRegionOutput is the (empty) output of UpdatePrimaryRegion.
type UpdatePrimaryRegionOutput struct{}
