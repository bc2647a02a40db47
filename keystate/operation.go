package keystate

import "fmt"

// Operation is an AWS KMS API operation. Its String form is the AWS name.
type Operation uint8

// The operations of the key-state table (aws-kms-behaviour.md a.2), in the
// table's order, followed by the operations that take no existing key.
const (
	// NoOperation is the zero Operation.
	NoOperation Operation = iota
	CancelKeyDeletion
	CreateAlias
	CreateGrant
	Decrypt
	DeleteAlias
	DeleteImportedKeyMaterial
	DeriveSharedSecret
	DescribeKey
	DisableKey
	DisableKeyRotation
	EnableKey
	EnableKeyRotation
	Encrypt
	GenerateDataKey
	GenerateDataKeyPair
	GenerateDataKeyPairWithoutPlaintext
	GenerateDataKeyWithoutPlaintext
	GenerateMac
	GetKeyPolicy
	GetKeyRotationStatus
	GetParametersForImport
	GetPublicKey
	ImportKeyMaterial
	ListAliases
	ListGrants
	ListKeyPolicies
	ListKeyRotations
	ListResourceTags
	PutKeyPolicy
	ReEncrypt
	ReplicateKey
	RetireGrant
	RevokeGrant
	RotateKeyOnDemand
	ScheduleKeyDeletion
	Sign
	TagResource
	UntagResource
	// UpdateAlias's row applies to the destination key (TargetKeyId). The
	// alias's current key is not checked: footnote [10] says the call
	// succeeds whatever its state.
	UpdateAlias
	UpdateKeyDescription
	UpdatePrimaryRegion
	Verify
	VerifyMac
	// Operations that the key-state table leaves out because they take no
	// existing key. Check accepts them in every state.
	CreateKey
	ListKeys
	GenerateRandom
	CreateCustomKeyStore
	ConnectCustomKeyStore
	DeleteCustomKeyStore
	DescribeCustomKeyStores
	DisconnectCustomKeyStore
	UpdateCustomKeyStore
	// GetKeyLastUsage has no row in the key-state table; its error list
	// (no DisabledException, no KMSInvalidStateException) says it works
	// in every state.
	GetKeyLastUsage
	// ListRetirableGrants takes no key: IAM alone authorizes it.
	ListRetirableGrants
	// Encapsulate and Decapsulate (ML-KEM) have no row in the key-state
	// table either; Check decides them by DeriveSharedSecret's row, the
	// other operation of a key that establishes a shared secret (decision
	// D54).
	Encapsulate
	Decapsulate
	numOperations
)

// numTableOperations is the number of rows of the key-state table.
const numTableOperations = VerifyMac

var operationNames = [numOperations]string{
	"", "CancelKeyDeletion", "CreateAlias", "CreateGrant", "Decrypt", "DeleteAlias",
	"DeleteImportedKeyMaterial", "DeriveSharedSecret", "DescribeKey", "DisableKey",
	"DisableKeyRotation", "EnableKey", "EnableKeyRotation", "Encrypt", "GenerateDataKey",
	"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
	"GenerateDataKeyWithoutPlaintext", "GenerateMac", "GetKeyPolicy", "GetKeyRotationStatus",
	"GetParametersForImport", "GetPublicKey", "ImportKeyMaterial", "ListAliases", "ListGrants",
	"ListKeyPolicies", "ListKeyRotations", "ListResourceTags", "PutKeyPolicy", "ReEncrypt",
	"ReplicateKey", "RetireGrant", "RevokeGrant", "RotateKeyOnDemand", "ScheduleKeyDeletion",
	"Sign", "TagResource", "UntagResource", "UpdateAlias", "UpdateKeyDescription",
	"UpdatePrimaryRegion", "Verify", "VerifyMac",
	"CreateKey", "ListKeys", "GenerateRandom", "CreateCustomKeyStore", "ConnectCustomKeyStore",
	"DeleteCustomKeyStore", "DescribeCustomKeyStores", "DisconnectCustomKeyStore",
	"UpdateCustomKeyStore", "GetKeyLastUsage", "ListRetirableGrants", "Encapsulate", "Decapsulate",
}

// String returns the AWS operation name, such as "RotateKeyOnDemand".
func (o Operation) String() string {
	if o < numOperations {
		return operationNames[o]
	}
	return fmt.Sprintf("Operation(%d)", uint8(o))
}

// ParseOperation returns the operation with the AWS name s.
func ParseOperation(s string) (Operation, bool) {
	for i := CancelKeyDeletion; i < numOperations; i++ {
		if operationNames[i] == s {
			return i, true
		}
	}
	return NoOperation, false
}

// TableOperations returns the 43 operations of the key-state table, in its
// order.
func TableOperations() []Operation {
	out := make([]Operation, 0, numTableOperations)
	for o := CancelKeyDeletion; o <= numTableOperations; o++ {
		out = append(out, o)
	}
	return out
}
