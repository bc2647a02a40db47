package keystate

import "fmt"

// KeySpec is the type of a KMS key's material (aws-kms-behaviour.md d.1).
// The zero value is SymmetricDefault.
type KeySpec uint8

// The KeySpec values, with the AWS strings as their String form.
const (
	SymmetricDefault KeySpec = iota
	HMAC224
	HMAC256
	HMAC384
	HMAC512
	RSA2048
	RSA3072
	RSA4096
	ECCNISTP256
	ECCNISTP384
	ECCNISTP521
	ECCNISTEdwards25519
	ECCSECGP256K1
	MLDSA44
	MLDSA65
	MLDSA87
	MLKEM512
	MLKEM768
	MLKEM1024
	SM2
	numKeySpecs
)

var keySpecNames = [numKeySpecs]string{
	"SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512",
	"RSA_2048", "RSA_3072", "RSA_4096",
	"ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_NIST_EDWARDS25519",
	"ECC_SECG_P256K1",
	"ML_DSA_44", "ML_DSA_65", "ML_DSA_87",
	"ML_KEM_512", "ML_KEM_768", "ML_KEM_1024",
	"SM2",
}

// String returns the AWS name, such as "SYMMETRIC_DEFAULT".
func (k KeySpec) String() string {
	if k < numKeySpecs {
		return keySpecNames[k]
	}
	return fmt.Sprintf("KeySpec(%d)", uint8(k))
}

// ParseKeySpec returns the KeySpec with the AWS name s.
func ParseKeySpec(s string) (KeySpec, bool) {
	for i, n := range keySpecNames {
		if n == s {
			return KeySpec(i), true
		}
	}
	return 0, false
}

// KeySpecs returns every KeySpec, in declaration order.
func KeySpecs() []KeySpec {
	out := make([]KeySpec, numKeySpecs)
	for i := range out {
		out[i] = KeySpec(i)
	}
	return out
}

// IsSymmetric reports whether k is SYMMETRIC_DEFAULT, the only spec that
// supports rotation and symmetric encryption.
func (k KeySpec) IsSymmetric() bool { return k == SymmetricDefault }

// IsHMAC reports whether k is one of the HMAC_* specs.
func (k KeySpec) IsHMAC() bool { return k >= HMAC224 && k <= HMAC512 }

// IsMLDSA reports whether k is one of the ML_DSA_* specs.
func (k KeySpec) IsMLDSA() bool { return k >= MLDSA44 && k <= MLDSA87 }

// IsMLKEM reports whether k is one of the ML_KEM_* specs.
func (k KeySpec) IsMLKEM() bool { return k >= MLKEM512 && k <= MLKEM1024 }

// IsAsymmetric reports whether k is an asymmetric spec (RSA, ECC, ML-DSA,
// ML-KEM or SM2).
func (k KeySpec) IsAsymmetric() bool { return k >= RSA2048 && k < numKeySpecs }

// KeyUsage is the cryptographic purpose of a key. The zero value is
// EncryptDecrypt.
type KeyUsage uint8

// The KeyUsage values.
const (
	EncryptDecrypt KeyUsage = iota
	SignVerify
	GenerateVerifyMAC
	KeyAgreement
	EncapsulateDecapsulate
	numKeyUsages
)

var keyUsageNames = [numKeyUsages]string{
	"ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "ENCAPSULATE_DECAPSULATE",
}

// String returns the AWS name, such as "ENCRYPT_DECRYPT".
func (u KeyUsage) String() string {
	if u < numKeyUsages {
		return keyUsageNames[u]
	}
	return fmt.Sprintf("KeyUsage(%d)", uint8(u))
}

// ParseKeyUsage returns the KeyUsage with the AWS name s.
func ParseKeyUsage(s string) (KeyUsage, bool) {
	for i, n := range keyUsageNames {
		if n == s {
			return KeyUsage(i), true
		}
	}
	return 0, false
}

// KeyUsages returns every KeyUsage, in declaration order.
func KeyUsages() []KeyUsage {
	out := make([]KeyUsage, numKeyUsages)
	for i := range out {
		out[i] = KeyUsage(i)
	}
	return out
}

// ValidKeyUsage reports whether a key of spec k may have usage u, following
// the pairs table of aws-kms-behaviour.md d.1.
func ValidKeyUsage(k KeySpec, u KeyUsage) bool {
	switch {
	case k == SymmetricDefault:
		return u == EncryptDecrypt
	case k.IsHMAC():
		return u == GenerateVerifyMAC
	case k >= RSA2048 && k <= RSA4096:
		return u == EncryptDecrypt || u == SignVerify
	case k >= ECCNISTP256 && k <= ECCNISTP521:
		return u == SignVerify || u == KeyAgreement
	case k == ECCNISTEdwards25519, k == ECCSECGP256K1, k.IsMLDSA():
		return u == SignVerify
	case k.IsMLKEM():
		return u == EncapsulateDecapsulate
	case k == SM2:
		return u == EncryptDecrypt || u == SignVerify || u == KeyAgreement
	}
	return false
}

// ValidateKeySpecUsage returns nil when a key of spec k may have usage u.
// Otherwise it returns an *Error with code ValidationException, the error the
// project decided for an invalid pair (AWS leaves it unconfirmed, d.1; we
// answer as the AWS model validation does).
func ValidateKeySpecUsage(k KeySpec, u KeyUsage) error {
	if k >= numKeySpecs || u >= numKeyUsages {
		return &Error{Code: ErrValidation, Op: CreateKey,
			Message: fmt.Sprintf("1 validation error detected: KeySpec %s with KeyUsage %s is not a known combination", k, u)}
	}
	if ValidKeyUsage(k, u) {
		return nil
	}
	return &Error{Code: ErrValidation, Op: CreateKey,
		Message: fmt.Sprintf("KeyUsage %s is not compatible with KeySpec %s", u, k)}
}

// Origin is the source of a key's material. The zero value is AWSKMS.
type Origin uint8

// The Origin values.
const (
	AWSKMS Origin = iota
	External
	AWSCloudHSM
	ExternalKeyStore
	numOrigins
)

var originNames = [numOrigins]string{"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"}

// String returns the AWS name, such as "AWS_KMS".
func (o Origin) String() string {
	if o < numOrigins {
		return originNames[o]
	}
	return fmt.Sprintf("Origin(%d)", uint8(o))
}

// ParseOrigin returns the Origin with the AWS name s.
func ParseOrigin(s string) (Origin, bool) {
	for i, n := range originNames {
		if n == s {
			return Origin(i), true
		}
	}
	return 0, false
}

// InCustomKeyStore reports whether keys of this origin live in a custom key
// store (CloudHSM or external key store).
func (o Origin) InCustomKeyStore() bool { return o == AWSCloudHSM || o == ExternalKeyStore }

// KeyManager says who manages a key. The zero value is Customer.
type KeyManager uint8

// The KeyManager values.
const (
	Customer KeyManager = iota
	AWSManaged
)

// String returns the AWS name: "CUSTOMER" or "AWS".
func (m KeyManager) String() string {
	switch m {
	case Customer:
		return "CUSTOMER"
	case AWSManaged:
		return "AWS"
	}
	return fmt.Sprintf("KeyManager(%d)", uint8(m))
}

// MultiRegionRole is a key's multi-Region role. The zero value is
// SingleRegion.
type MultiRegionRole uint8

// The MultiRegionRole values.
const (
	SingleRegion MultiRegionRole = iota
	Primary
	Replica
)

// String returns "PRIMARY" or "REPLICA" (the AWS MultiRegionKeyType), or
// "" for a single-Region key.
func (r MultiRegionRole) String() string {
	switch r {
	case Primary:
		return "PRIMARY"
	case Replica:
		return "REPLICA"
	}
	return ""
}

// Kind gathers what about a key, besides its state, changes which operations
// it accepts. It is five bytes and compares with ==.
type Kind struct {
	Spec        KeySpec
	Usage       KeyUsage
	Origin      Origin
	Manager     KeyManager
	MultiRegion MultiRegionRole
}

// CanHaveImportedMaterial reports whether the key's origin is EXTERNAL.
func (k Kind) CanHaveImportedMaterial() bool { return k.Origin == External }
