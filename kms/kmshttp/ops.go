package kmshttp

import (
	"context"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
)

// opFunc runs one operation: it decodes body, calls the service and
// appends the response body to out.
type opFunc func(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error)

// operation returns the function serving the KMS operation name, or nil.
func operation(name string) opFunc {
	switch name {
	case "CreateKey":
		return createKey
	case "DescribeKey":
		return describeKey
	case "ListKeys":
		return listKeys
	case "EnableKey":
		return enableKey
	case "DisableKey":
		return disableKey
	case "ScheduleKeyDeletion":
		return scheduleKeyDeletion
	case "CancelKeyDeletion":
		return cancelKeyDeletion
	case "UpdateKeyDescription":
		return updateKeyDescription
	case "EnableKeyRotation":
		return enableKeyRotation
	case "DisableKeyRotation":
		return disableKeyRotation
	case "GetKeyRotationStatus":
		return getKeyRotationStatus
	case "RotateKeyOnDemand":
		return rotateKeyOnDemand
	case "ListKeyRotations":
		return listKeyRotations
	case "CreateAlias":
		return createAlias
	case "UpdateAlias":
		return updateAlias
	case "DeleteAlias":
		return deleteAlias
	case "ListAliases":
		return listAliases
	case "TagResource":
		return tagResource
	case "UntagResource":
		return untagResource
	case "ListResourceTags":
		return listResourceTags
	case "Encrypt":
		return encrypt
	case "Decrypt":
		return decrypt
	case "ReEncrypt":
		return reEncrypt
	case "GenerateDataKey":
		return generateDataKey
	case "GenerateDataKeyWithoutPlaintext":
		return generateDataKeyWithoutPlaintext
	case "GenerateRandom":
		return generateRandom
	case "GetParametersForImport":
		return getParametersForImport
	case "ImportKeyMaterial":
		return importKeyMaterial
	case "DeleteImportedKeyMaterial":
		return deleteImportedKeyMaterial
	case "CreateCustomKeyStore":
		return createCustomKeyStore
	case "DescribeCustomKeyStores":
		return describeCustomKeyStores
	case "ConnectCustomKeyStore":
		return connectCustomKeyStore
	case "DisconnectCustomKeyStore":
		return disconnectCustomKeyStore
	case "UpdateCustomKeyStore":
		return updateCustomKeyStore
	case "DeleteCustomKeyStore":
		return deleteCustomKeyStore
	case "ReplicateKey":
		return replicateKey
	case "UpdatePrimaryRegion":
		return updatePrimaryRegion
	case "Sign":
		return sign
	case "Verify":
		return verify
	case "GetPublicKey":
		return getPublicKey
	case "GenerateMac":
		return generateMac
	case "VerifyMac":
		return verifyMac
	case "DeriveSharedSecret":
		return deriveSharedSecret
	case "Encapsulate":
		return encapsulate
	case "Decapsulate":
		return decapsulate
	case "GenerateDataKeyPair":
		return generateDataKeyPair
	case "GenerateDataKeyPairWithoutPlaintext":
		return generateDataKeyPairWithoutPlaintext
	case "GetKeyLastUsage":
		return getKeyLastUsage
	case "GetKeyPolicy":
		return getKeyPolicy
	case "PutKeyPolicy":
		return putKeyPolicy
	case "ListKeyPolicies":
		return listKeyPolicies
	case "CreateGrant":
		return createGrant
	case "ListGrants":
		return listGrants
	case "ListRetirableGrants":
		return listRetirableGrants
	case "RetireGrant":
		return retireGrant
	case "RevokeGrant":
		return revokeGrant
	}
	return nil
}

// Operations returns the names of the KMS operations the handler serves
// (for the target "TrentService.<name>"): the key lifecycle, rotation,
// alias, tag, symmetric cryptographic, key-material import, custom key
// store and multi-Region key operations of package kms, then its
// asymmetric and HMAC operations, GetKeyLastUsage, the key policy
// operations, the grant operations and the ML-KEM operations.
func Operations() []string {
	return []string{"CreateKey", "DescribeKey", "ListKeys", "EnableKey", "DisableKey",
		"ScheduleKeyDeletion", "CancelKeyDeletion", "UpdateKeyDescription",
		"EnableKeyRotation", "DisableKeyRotation", "GetKeyRotationStatus", "RotateKeyOnDemand",
		"ListKeyRotations", "CreateAlias", "UpdateAlias", "DeleteAlias", "ListAliases",
		"TagResource", "UntagResource", "ListResourceTags",
		"Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateRandom",
		"GetParametersForImport", "ImportKeyMaterial", "DeleteImportedKeyMaterial",
		"CreateCustomKeyStore", "DescribeCustomKeyStores", "ConnectCustomKeyStore", "DisconnectCustomKeyStore",
		"UpdateCustomKeyStore", "DeleteCustomKeyStore",
		"ReplicateKey", "UpdatePrimaryRegion",
		"Sign", "Verify", "GetPublicKey", "GenerateMac", "VerifyMac", "DeriveSharedSecret",
		"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GetKeyLastUsage",
		"GetKeyPolicy", "PutKeyPolicy", "ListKeyPolicies",
		"CreateGrant", "ListGrants", "ListRetirableGrants", "RetireGrant", "RevokeGrant",
		"Encapsulate", "Decapsulate"}
}

// fieldKind is the JSON type of a request member.
type fieldKind uint8

const (
	kString fieldKind = iota
	kInt32
	kBool
	kStrings
	kTags
	kBlob
	kMap
	kTime
	kObject
)

// field describes one request member: its AWS name, its type, where it
// goes, and whether it was present (not absent, not null).
type field struct {
	name    string
	path    string // AWS camelCase path, for list-member validation messages
	kind    fieldKind
	str     *string
	i32     **int32
	b       *bool
	strs    *[]string
	tags    *[]kms.Tag
	blob    *[]byte
	m       *map[string]string
	t       **time.Time
	obj     func(r *reader) error // kObject: reads the object's members
	reset   func()                // kObject: empties the destination (null, or before a later duplicate)
	present bool
}

func strF(name string, dst *string) field { return field{name: name, kind: kString, str: dst} }
func i32F(name string, dst **int32) field { return field{name: name, kind: kInt32, i32: dst} }
func boolF(name string, dst *bool) field  { return field{name: name, kind: kBool, b: dst} }
func strsF(name, path string, dst *[]string) field {
	return field{name: name, path: path, kind: kStrings, strs: dst}
}
func tagsF(name string, dst *[]kms.Tag) field  { return field{name: name, kind: kTags, tags: dst} }
func blobF(name string, dst *[]byte) field     { return field{name: name, kind: kBlob, blob: dst} }
func timeF(name string, dst **time.Time) field { return field{name: name, kind: kTime, t: dst} }
func mapF(name, path string, dst *map[string]string) field {
	return field{name: name, path: path, kind: kMap, m: dst}
}

// objF is a member whose value is an object: reset empties its
// destination, start makes it for an object (each time one is read, so a
// later duplicate wins, and {} is present), and member reads each of its
// members (and must skip those it does not know).
func objF(name string, reset, start func(), member func(r *reader, name []byte) error) field {
	return field{name: name, kind: kObject, reset: reset, obj: func(r *reader) error {
		start()
		return r.object(member)
	}}
}

// decodeFields decodes body into fields; members not among them are
// skipped.
func decodeFields(body []byte, fields []field) error {
	return decodeObject(body, func(r *reader, name []byte) error {
		for i := range fields {
			f := &fields[i]
			if f.name != string(name) {
				continue
			}
			var err error
			switch f.kind {
			case kString:
				var s string
				f.present, err = r.str(f.name, &s)
				if f.str != nil {
					*f.str = s // a later duplicate wins; null reads as absent
				}
			case kInt32:
				var n *int32
				n, err = r.int32(f.name)
				f.present = n != nil
				if f.i32 != nil {
					*f.i32 = n
				}
			case kBool:
				var b, null bool
				if null, err = r.null(); err == nil && !null {
					err = r.boolean(f.name, &b)
					f.present = true
				}
				if f.b != nil {
					*f.b = b
				}
			case kStrings:
				var ss []string
				ss, f.present, err = r.strList(f.name, f.path)
				if f.strs != nil {
					*f.strs = ss
				}
			case kTags:
				var ts []kms.Tag
				ts, f.present, err = r.tags(f.name)
				if f.tags != nil {
					*f.tags = ts
				}
			case kBlob:
				var b []byte
				b, f.present, err = r.blob(f.name)
				if f.blob != nil {
					*f.blob = b
				}
			case kMap:
				var m map[string]string
				m, f.present, err = r.strMap(f.name, f.path)
				if f.m != nil {
					*f.m = m
				}
			case kTime:
				var t *time.Time
				t, err = r.timestamp(f.name)
				f.present = t != nil
				if f.t != nil {
					*f.t = t
				}
			case kObject:
				var null bool
				if null, err = r.null(); err != nil || null {
					f.present = false // a later duplicate wins; null reads as absent
					f.reset()
					break
				}
				if r.b[r.i] != '{' {
					err = r.typeError(f.name, "an object")
					break
				}
				f.present = true
				err = r.nested(func() error { return f.obj(r) })
			}
			return err
		}
		return r.skip()
	})
}

// decodeRequired decodes body into fields and then checks that the
// members named by paths were present: the common start of an operation.
func decodeRequired(body []byte, fields []field, paths ...string) error {
	if err := decodeFields(body, fields); err != nil {
		return err
	}
	return require(fields, paths...)
}

// callOptions are the request members that say how a call runs rather
// than what it does: DryRun (D27) and GrantTokens (D28). The handler
// passes them to the service in the call's context (kms.WithDryRun,
// kms.WithGrantTokens).
type callOptions struct {
	dryRun      bool
	grantTokens []string
}

// dryRunF and grantTokensF are the fields of the DryRun and GrantTokens
// members.
func (o *callOptions) dryRunF() field { return boolF("DryRun", &o.dryRun) }
func (o *callOptions) grantTokensF() field {
	return strsF("GrantTokens", "grantTokens", &o.grantTokens)
}

// context returns ctx with the options: a dry run when DryRun is true, the
// grant tokens when any were sent.
func (o *callOptions) context(ctx context.Context) context.Context {
	if o.dryRun {
		ctx = kms.WithDryRun(ctx)
	}
	if len(o.grantTokens) > 0 {
		ctx = kms.WithGrantTokens(ctx, o.grantTokens)
	}
	return ctx
}

// require returns AWS's ValidationException for the first required member
// that was absent or null; paths are the AWS camelCase names.
func require(fields []field, paths ...string) error {
	for i, p := range paths {
		if !fields[i].present {
			return nullValue(p)
		}
	}
	return nil
}

// keyOnly decodes a request whose only modelled member is KeyId
// (required).
func keyOnly(body []byte) (string, error) {
	var id string
	f := []field{strF("KeyId", &id)}
	if err := decodeFields(body, f); err != nil {
		return "", err
	}
	return id, require(f, "keyId")
}

func createKey(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.CreateKeyInput
	var cmkSpec string
	f := []field{
		strF("Description", &in.Description),
		strF("KeySpec", &in.KeySpec),
		strF("KeyUsage", &in.KeyUsage),
		strF("Origin", &in.Origin),
		boolF("MultiRegion", &in.MultiRegion),
		tagsF("Tags", &in.Tags),
		strF("CustomerMasterKeySpec", &cmkSpec),
		strF("CustomKeyStoreId", &in.CustomKeyStoreId),
		strF("Policy", &in.Policy),
		boolF("BypassPolicyLockoutSafetyCheck", &in.BypassPolicyLockoutSafetyCheck),
		strF("XksKeyId", &in.XksKeyId),
	}
	if err := decodeFields(body, f); err != nil {
		return out, err
	}
	if err := policyPresent(f[8].present, in.Policy); err != nil {
		return out, err
	}
	switch {
	case cmkSpec == "":
	case in.KeySpec == "":
		in.KeySpec = cmkSpec // the deprecated name of the same parameter
	case in.KeySpec != cmkSpec:
		// No recording; kmsmodel's wording in AWS's style.
		return out, &wireError{code: "ValidationException", status: 400,
			msg: "KeySpec and CustomerMasterKeySpec are the same parameter; specify only one of them"}
	}
	res, err := svc.CreateKey(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	keyMetadata(&w, "KeyMetadata", &res.KeyMetadata)
	w.close()
	return w.b, nil
}

// keyMetadata writes a KeyMetadata object as the member name (KeyMetadata,
// or ReplicateKey's ReplicaKeyMetadata): the fields kms.KeyMetadata
// carries, optional ones left out when empty. Description, Enabled and
// MultiRegion are always present (recorded, D19's recordings row 8a).
func keyMetadata(w *writer, name string, m *kms.KeyMetadata) {
	w.object(name)
	w.optStr("AWSAccountId", m.AWSAccountId)
	w.optStr("Arn", m.Arn)
	w.optStr("CloudHsmClusterId", m.CloudHsmClusterId)
	w.time("CreationDate", m.CreationDate)
	w.optStr("CurrentKeyMaterialId", m.CurrentKeyMaterialId)
	w.optStr("CustomKeyStoreId", m.CustomKeyStoreId)
	w.optStr("CustomerMasterKeySpec", m.CustomerMasterKeySpec)
	w.optTime("DeletionDate", m.DeletionDate)
	w.str("Description", m.Description)
	w.boolean("Enabled", m.Enabled)
	w.strList("EncapsulationAlgorithms", m.EncapsulationAlgorithms)
	w.strList("EncryptionAlgorithms", m.EncryptionAlgorithms)
	w.optStr("ExpirationModel", m.ExpirationModel)
	w.strList("KeyAgreementAlgorithms", m.KeyAgreementAlgorithms)
	w.str("KeyId", m.KeyId)
	w.optStr("KeyManager", m.KeyManager)
	w.optStr("KeySpec", m.KeySpec)
	w.optStr("KeyState", m.KeyState)
	w.optStr("KeyUsage", m.KeyUsage)
	w.strList("MacAlgorithms", m.MacAlgorithms)
	w.boolean("MultiRegion", m.MultiRegion)
	if c := m.MultiRegionConfiguration; c != nil {
		// Recordings 8c, 8d: ReplicaKeys is present, [] for a primary
		// without replicas.
		w.object("MultiRegionConfiguration")
		w.optStr("MultiRegionKeyType", c.MultiRegionKeyType)
		w.object("PrimaryKey")
		multiRegionKey(w, &c.PrimaryKey)
		w.close()
		w.list("ReplicaKeys")
		for i := range c.ReplicaKeys {
			w.open()
			multiRegionKey(w, &c.ReplicaKeys[i])
			w.close()
		}
		w.endList()
		w.close()
	}
	w.optStr("Origin", m.Origin)
	w.optInt32("PendingDeletionWindowInDays", m.PendingDeletionWindowInDays)
	w.strList("SigningAlgorithms", m.SigningAlgorithms)
	w.optTime("ValidTo", m.ValidTo)
	if m.XksKeyConfiguration != nil {
		w.object("XksKeyConfiguration")
		w.optStr("Id", m.XksKeyConfiguration.Id)
		w.close()
	}
	w.close()
}

// multiRegionKey writes the members of a MultiRegionKey object.
func multiRegionKey(w *writer, k *kms.MultiRegionKey) {
	w.optStr("Arn", k.Arn)
	w.optStr("Region", k.Region)
}

func describeKey(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.DescribeKeyInput
	var o callOptions
	f := []field{strF("KeyId", &in.KeyId), o.grantTokensF()}
	if err := decodeRequired(body, f, "keyId"); err != nil {
		return out, err
	}
	res, err := svc.DescribeKey(o.context(ctx), &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	keyMetadata(&w, "KeyMetadata", &res.KeyMetadata)
	w.close()
	return w.b, nil
}

func listKeys(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.ListKeysInput
	if err := decodeFields(body, []field{i32F("Limit", &in.Limit), strF("Marker", &in.Marker)}); err != nil {
		return out, err
	}
	res, err := svc.ListKeys(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.list("Keys")
	for i := range res.Keys {
		w.open()
		w.str("KeyArn", res.Keys[i].KeyArn)
		w.str("KeyId", res.Keys[i].KeyId)
		w.close()
	}
	w.endList()
	w.optStr("NextMarker", res.NextMarker)
	w.boolean("Truncated", res.Truncated)
	w.close()
	return w.b, nil
}

func enableKey(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	id, err := keyOnly(body)
	if err == nil {
		_, err = svc.EnableKey(ctx, &kms.EnableKeyInput{KeyId: id})
	}
	return out, err
}

func disableKey(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	id, err := keyOnly(body)
	if err == nil {
		_, err = svc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
	}
	return out, err
}

func scheduleKeyDeletion(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.ScheduleKeyDeletionInput
	f := []field{strF("KeyId", &in.KeyId), i32F("PendingWindowInDays", &in.PendingWindowInDays)}
	if err := decodeRequired(body, f, "keyId"); err != nil {
		return out, err
	}
	res, err := svc.ScheduleKeyDeletion(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optTime("DeletionDate", res.DeletionDate)
	w.str("KeyId", res.KeyId)
	w.optStr("KeyState", res.KeyState)
	w.int("PendingWindowInDays", int64(res.PendingWindowInDays))
	w.close()
	return w.b, nil
}

func cancelKeyDeletion(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	id, err := keyOnly(body)
	if err != nil {
		return out, err
	}
	res, err := svc.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: id})
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.str("KeyId", res.KeyId)
	w.close()
	return w.b, nil
}

func updateKeyDescription(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.UpdateKeyDescriptionInput
	f := []field{strF("KeyId", &in.KeyId), strF("Description", &in.Description)}
	if err := decodeRequired(body, f, "keyId", "description"); err != nil {
		return out, err
	}
	_, err := svc.UpdateKeyDescription(ctx, &in)
	return out, err
}

func enableKeyRotation(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.EnableKeyRotationInput
	f := []field{strF("KeyId", &in.KeyId), i32F("RotationPeriodInDays", &in.RotationPeriodInDays)}
	if err := decodeRequired(body, f, "keyId"); err != nil {
		return out, err
	}
	_, err := svc.EnableKeyRotation(ctx, &in)
	return out, err
}

func disableKeyRotation(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	id, err := keyOnly(body)
	if err == nil {
		_, err = svc.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: id})
	}
	return out, err
}

func getKeyRotationStatus(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	id, err := keyOnly(body)
	if err != nil {
		return out, err
	}
	res, err := svc.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.str("KeyId", res.KeyId)
	w.boolean("KeyRotationEnabled", res.KeyRotationEnabled)
	w.optTime("NextRotationDate", res.NextRotationDate)
	w.optTime("OnDemandRotationStartDate", res.OnDemandRotationStartDate)
	w.optInt32("RotationPeriodInDays", res.RotationPeriodInDays)
	w.close()
	return w.b, nil
}

func rotateKeyOnDemand(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	id, err := keyOnly(body)
	if err != nil {
		return out, err
	}
	res, err := svc.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.str("KeyId", res.KeyId)
	w.close()
	return w.b, nil
}

func listKeyRotations(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.ListKeyRotationsInput
	f := []field{strF("KeyId", &in.KeyId), strF("IncludeKeyMaterial", &in.IncludeKeyMaterial),
		i32F("Limit", &in.Limit), strF("Marker", &in.Marker)}
	if err := decodeRequired(body, f, "keyId"); err != nil {
		return out, err
	}
	res, err := svc.ListKeyRotations(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optStr("NextMarker", res.NextMarker)
	w.list("Rotations")
	for i := range res.Rotations {
		e := &res.Rotations[i]
		w.open()
		w.optStr("KeyId", e.KeyId)
		w.optStr("KeyMaterialId", e.KeyMaterialId)
		w.optStr("KeyMaterialState", e.KeyMaterialState)
		w.optStr("KeyMaterialDescription", e.KeyMaterialDescription)
		w.optStr("ImportState", e.ImportState)
		w.optStr("ExpirationModel", e.ExpirationModel)
		w.optTime("ValidTo", e.ValidTo)
		w.optTime("RotationDate", e.RotationDate)
		w.optStr("RotationType", e.RotationType)
		w.close()
	}
	w.endList()
	w.boolean("Truncated", res.Truncated)
	w.close()
	return w.b, nil
}

func createAlias(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.CreateAliasInput
	f := []field{strF("AliasName", &in.AliasName), strF("TargetKeyId", &in.TargetKeyId)}
	if err := decodeRequired(body, f, "aliasName", "targetKeyId"); err != nil {
		return out, err
	}
	_, err := svc.CreateAlias(ctx, &in)
	return out, err
}

func updateAlias(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.UpdateAliasInput
	f := []field{strF("AliasName", &in.AliasName), strF("TargetKeyId", &in.TargetKeyId)}
	if err := decodeRequired(body, f, "aliasName", "targetKeyId"); err != nil {
		return out, err
	}
	_, err := svc.UpdateAlias(ctx, &in)
	return out, err
}

func deleteAlias(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.DeleteAliasInput
	f := []field{strF("AliasName", &in.AliasName)}
	if err := decodeRequired(body, f, "aliasName"); err != nil {
		return out, err
	}
	_, err := svc.DeleteAlias(ctx, &in)
	return out, err
}

func listAliases(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.ListAliasesInput
	f := []field{strF("KeyId", &in.KeyId), i32F("Limit", &in.Limit), strF("Marker", &in.Marker)}
	if err := decodeFields(body, f); err != nil {
		return out, err
	}
	res, err := svc.ListAliases(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.list("Aliases")
	for i := range res.Aliases {
		a := &res.Aliases[i]
		w.open()
		w.optStr("AliasArn", a.AliasArn)
		w.optStr("AliasName", a.AliasName)
		w.optTime("CreationDate", a.CreationDate)
		w.optTime("LastUpdatedDate", a.LastUpdatedDate)
		w.optStr("TargetKeyId", a.TargetKeyId)
		w.close()
	}
	w.endList()
	w.optStr("NextMarker", res.NextMarker)
	w.boolean("Truncated", res.Truncated)
	w.close()
	return w.b, nil
}

func tagResource(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.TagResourceInput
	f := []field{strF("KeyId", &in.KeyId), tagsF("Tags", &in.Tags)}
	if err := decodeRequired(body, f, "keyId", "tags"); err != nil {
		return out, err
	}
	_, err := svc.TagResource(ctx, &in)
	return out, err
}

func untagResource(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.UntagResourceInput
	f := []field{strF("KeyId", &in.KeyId), strsF("TagKeys", "tagKeys", &in.TagKeys)}
	if err := decodeRequired(body, f, "keyId", "tagKeys"); err != nil {
		return out, err
	}
	_, err := svc.UntagResource(ctx, &in)
	return out, err
}

func listResourceTags(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.ListResourceTagsInput
	f := []field{strF("KeyId", &in.KeyId), i32F("Limit", &in.Limit), strF("Marker", &in.Marker)}
	if err := decodeRequired(body, f, "keyId"); err != nil {
		return out, err
	}
	res, err := svc.ListResourceTags(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optStr("NextMarker", res.NextMarker)
	w.list("Tags")
	for i := range res.Tags {
		w.open()
		w.str("TagKey", res.Tags[i].TagKey)
		w.str("TagValue", res.Tags[i].TagValue)
		w.close()
	}
	w.endList()
	w.boolean("Truncated", res.Truncated)
	w.close()
	return w.b, nil
}

func replicateKey(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.ReplicateKeyInput
	f := []field{
		strF("KeyId", &in.KeyId),
		strF("ReplicaRegion", &in.ReplicaRegion),
		strF("Description", &in.Description),
		tagsF("Tags", &in.Tags),
		strF("Policy", &in.Policy),
		boolF("BypassPolicyLockoutSafetyCheck", &in.BypassPolicyLockoutSafetyCheck),
	}
	if err := decodeRequired(body, f, "keyId", "replicaRegion"); err != nil {
		return out, err
	}
	if err := policyPresent(f[4].present, in.Policy); err != nil {
		return out, err
	}
	res, err := svc.ReplicateKey(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	keyMetadata(&w, "ReplicaKeyMetadata", &res.ReplicaKeyMetadata)
	w.optStr("ReplicaPolicy", res.ReplicaPolicy)
	if len(res.ReplicaTags) > 0 {
		w.list("ReplicaTags")
		for i := range res.ReplicaTags {
			w.open()
			w.str("TagKey", res.ReplicaTags[i].TagKey)
			w.str("TagValue", res.ReplicaTags[i].TagValue)
			w.close()
		}
		w.endList()
	}
	w.close()
	return w.b, nil
}

func updatePrimaryRegion(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.UpdatePrimaryRegionInput
	f := []field{strF("KeyId", &in.KeyId), strF("PrimaryRegion", &in.PrimaryRegion)}
	if err := decodeRequired(body, f, "keyId", "primaryRegion"); err != nil {
		return out, err
	}
	_, err := svc.UpdatePrimaryRegion(ctx, &in)
	return out, err
}

// policyPresent refuses a Policy member that is present but empty, as
// the API model's length constraint (1–131072) does; package kms reads an
// empty policy as absent (the default policy).
func policyPresent(present bool, policy string) error {
	if present && policy == "" {
		return &wireError{code: "ValidationException", status: 400,
			msg: "1 validation error detected: Value '' at 'policy' failed to satisfy constraint: " +
				"Member must have length greater than or equal to 1"}
	}
	return nil
}

func getKeyPolicy(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.GetKeyPolicyInput
	f := []field{strF("KeyId", &in.KeyId), strF("PolicyName", &in.PolicyName)}
	if err := decodeRequired(body, f, "keyId"); err != nil {
		return out, err
	}
	res, err := svc.GetKeyPolicy(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.str("Policy", res.Policy)
	w.str("PolicyName", res.PolicyName)
	w.close()
	return w.b, nil
}

func putKeyPolicy(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.PutKeyPolicyInput
	f := []field{strF("KeyId", &in.KeyId), strF("Policy", &in.Policy), strF("PolicyName", &in.PolicyName),
		boolF("BypassPolicyLockoutSafetyCheck", &in.BypassPolicyLockoutSafetyCheck)}
	if err := decodeRequired(body, f, "keyId", "policy"); err != nil {
		return out, err
	}
	if err := policyPresent(true, in.Policy); err != nil {
		return out, err
	}
	_, err := svc.PutKeyPolicy(ctx, &in)
	return out, err
}

func listKeyPolicies(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.ListKeyPoliciesInput
	f := []field{strF("KeyId", &in.KeyId), i32F("Limit", &in.Limit), strF("Marker", &in.Marker)}
	if err := decodeRequired(body, f, "keyId"); err != nil {
		return out, err
	}
	res, err := svc.ListKeyPolicies(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optStr("NextMarker", res.NextMarker)
	w.strList("PolicyNames", res.PolicyNames)
	w.boolean("Truncated", res.Truncated)
	w.close()
	return w.b, nil
}
