package keystate_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// keySpecNames are the KeySpec values of aws-kms-behaviour.md d.1.
var keySpecNames = []string{
	"SYMMETRIC_DEFAULT",
	"HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512",
	"RSA_2048", "RSA_3072", "RSA_4096",
	"ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_NIST_EDWARDS25519",
	"ECC_SECG_P256K1",
	"ML_DSA_44", "ML_DSA_65", "ML_DSA_87",
	"ML_KEM_512", "ML_KEM_768", "ML_KEM_1024",
	"SM2",
}

// keyUsageNames are the KeyUsage values of aws-kms-behaviour.md d.1.
var keyUsageNames = []string{
	"ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "ENCAPSULATE_DECAPSULATE",
}

// validUsages is the "Valid pairs" table of aws-kms-behaviour.md d.1,
// family by family.
func validUsages(spec string) []string {
	switch spec {
	case "SYMMETRIC_DEFAULT":
		return []string{"ENCRYPT_DECRYPT"}
	case "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512":
		return []string{"GENERATE_VERIFY_MAC"}
	case "RSA_2048", "RSA_3072", "RSA_4096":
		return []string{"ENCRYPT_DECRYPT", "SIGN_VERIFY"}
	case "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521": // "NIST EC (P256/384/521)"
		return []string{"SIGN_VERIFY", "KEY_AGREEMENT"}
	case "ECC_NIST_EDWARDS25519":
		return []string{"SIGN_VERIFY"}
	case "ECC_SECG_P256K1":
		return []string{"SIGN_VERIFY"}
	case "ML_DSA_44", "ML_DSA_65", "ML_DSA_87":
		return []string{"SIGN_VERIFY"}
	case "ML_KEM_512", "ML_KEM_768", "ML_KEM_1024":
		return []string{"ENCAPSULATE_DECAPSULATE"}
	case "SM2":
		return []string{"ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"}
	}
	return nil
}

// TestValidKeyUsage checks every KeySpec × KeyUsage against the pairs table
// of aws-kms-behaviour.md d.1. An invalid pair is a ValidationException
// (the project's choice, documented on ValidateKeySpecUsage; d.1 leaves the
// AWS error unconfirmed).
func TestValidKeyUsage(t *testing.T) {
	if got := len(keystate.KeySpecs()); got != len(keySpecNames) {
		t.Errorf("KeySpecs() has %d values, d.1 lists %d", got, len(keySpecNames))
	}
	if got := len(keystate.KeyUsages()); got != len(keyUsageNames) {
		t.Errorf("KeyUsages() has %d values, d.1 lists %d", got, len(keyUsageNames))
	}
	pairs := 0
	for _, specName := range keySpecNames {
		spec, ok := keystate.ParseKeySpec(specName)
		if !ok {
			t.Errorf("ParseKeySpec(%q) failed", specName)
			continue
		}
		allowed := validUsages(specName)
		if len(allowed) == 0 {
			t.Fatalf("test table has no usages for %s", specName)
		}
		for _, usageName := range keyUsageNames {
			usage, ok := keystate.ParseKeyUsage(usageName)
			if !ok {
				t.Fatalf("ParseKeyUsage(%q) failed", usageName)
			}
			pairs++
			want := slices.Contains(allowed, usageName)
			if got := keystate.ValidKeyUsage(spec, usage); got != want {
				t.Errorf("ValidKeyUsage(%s, %s) = %v, want %v", specName, usageName, got, want)
			}
			err := keystate.ValidateKeySpecUsage(spec, usage)
			switch {
			case want && err != nil:
				t.Errorf("ValidateKeySpecUsage(%s, %s) = %v, want nil", specName, usageName, err)
			case !want && !errors.Is(err, keystate.ErrValidation):
				t.Errorf("ValidateKeySpecUsage(%s, %s) = %v, want ValidationException", specName, usageName, err)
			case !want:
				var e *keystate.Error
				if !errors.As(err, &e) || e.Message == "" {
					t.Errorf("ValidateKeySpecUsage(%s, %s) = %#v, want an *Error with a message", specName, usageName, err)
				}
			}
		}
	}
	if pairs != 20*5 {
		t.Errorf("checked %d pairs, want 100", pairs)
	}

	// Values outside the enums are never valid.
	for _, c := range []struct {
		spec  keystate.KeySpec
		usage keystate.KeyUsage
	}{
		{keystate.KeySpec(200), keystate.EncryptDecrypt},
		{keystate.SymmetricDefault, keystate.KeyUsage(200)},
	} {
		if keystate.ValidKeyUsage(c.spec, c.usage) {
			t.Errorf("ValidKeyUsage(%v, %v) = true", c.spec, c.usage)
		}
		if err := keystate.ValidateKeySpecUsage(c.spec, c.usage); !errors.Is(err, keystate.ErrValidation) {
			t.Errorf("ValidateKeySpecUsage(%v, %v) = %v, want ValidationException", c.spec, c.usage, err)
		}
	}
}

// TestKeySpecFamilies checks IsSymmetric, IsHMAC, IsMLKEM and IsAsymmetric
// against the families of d.1.
func TestKeySpecFamilies(t *testing.T) {
	for _, name := range keySpecNames {
		spec, _ := keystate.ParseKeySpec(name)
		sym := name == "SYMMETRIC_DEFAULT"
		hmac := strings.HasPrefix(name, "HMAC_")
		if spec.IsSymmetric() != sym || spec.IsHMAC() != hmac || spec.IsAsymmetric() != (!sym && !hmac) ||
			spec.IsMLKEM() != strings.HasPrefix(name, "ML_KEM_") {
			t.Errorf("%s: IsSymmetric=%v IsHMAC=%v IsAsymmetric=%v IsMLKEM=%v", name, spec.IsSymmetric(), spec.IsHMAC(),
				spec.IsAsymmetric(), spec.IsMLKEM())
		}
	}
	var zero keystate.KeySpec
	if zero.String() != "SYMMETRIC_DEFAULT" {
		t.Errorf("zero KeySpec is %s, want SYMMETRIC_DEFAULT (d.1 default)", zero)
	}
}

// roundTrip checks that each name parses to a value whose String is the
// name, that all values are distinct, and that the listing (if any) holds
// exactly these values.
func roundTrip[T comparable](t *testing.T, kind string, names []string, parse func(string) (T, bool), str func(T) string, all []T) {
	t.Helper()
	seen := map[T]string{}
	for _, name := range names {
		v, ok := parse(name)
		if !ok {
			t.Errorf("Parse%s(%q) failed", kind, name)
			continue
		}
		if got := str(v); got != name {
			t.Errorf("Parse%s(%q).String() = %q", kind, name, got)
		}
		if other, dup := seen[v]; dup {
			t.Errorf("Parse%s: %q and %q give the same value", kind, name, other)
		}
		seen[v] = name
	}
	if all != nil {
		if len(all) != len(names) {
			t.Errorf("%ss(): %d values, want %d", kind, len(all), len(names))
		}
		for _, v := range all {
			if _, ok := seen[v]; !ok {
				t.Errorf("%ss() lists %q, which is not one of the expected names", kind, str(v))
			}
		}
	}
	for _, bad := range []string{"", "x", "enabled", "symmetric_default", " Encrypt"} {
		if _, ok := parse(bad); ok {
			t.Errorf("Parse%s(%q) succeeded", kind, bad)
		}
	}
}

func TestKeySpecStrings(t *testing.T) {
	roundTrip(t, "KeySpec", keySpecNames, keystate.ParseKeySpec, keystate.KeySpec.String, keystate.KeySpecs())
	assertUnknownString(t, keystate.KeySpec(250).String(), keySpecNames)
}

func TestKeyUsageStrings(t *testing.T) {
	roundTrip(t, "KeyUsage", keyUsageNames, keystate.ParseKeyUsage, keystate.KeyUsage.String, keystate.KeyUsages())
	var zero keystate.KeyUsage
	if zero.String() != "ENCRYPT_DECRYPT" {
		t.Errorf("zero KeyUsage is %s, want ENCRYPT_DECRYPT (d.1 default)", zero)
	}
	assertUnknownString(t, keystate.KeyUsage(250).String(), keyUsageNames)
}

func TestOriginStrings(t *testing.T) {
	// d.1: the Origin values.
	names := []string{"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"}
	roundTrip(t, "Origin", names, keystate.ParseOrigin, keystate.Origin.String, nil)
	var zero keystate.Origin
	if zero.String() != "AWS_KMS" {
		t.Errorf("zero Origin is %s, want AWS_KMS (d.1 default)", zero)
	}
	for _, name := range names {
		o, _ := keystate.ParseOrigin(name)
		cks := name == "AWS_CLOUDHSM" || name == "EXTERNAL_KEY_STORE"
		if o.InCustomKeyStore() != cks {
			t.Errorf("%s.InCustomKeyStore() = %v", name, o.InCustomKeyStore())
		}
		if (keystate.Kind{Origin: o}).CanHaveImportedMaterial() != (name == "EXTERNAL") {
			t.Errorf("Kind{Origin: %s}.CanHaveImportedMaterial() = %v", name, !(name == "EXTERNAL"))
		}
	}
	assertUnknownString(t, keystate.Origin(250).String(), names)
}

func TestStateStrings(t *testing.T) {
	// d.3: KeyState is one of these eight strings.
	names := []string{"Creating", "Enabled", "Disabled", "PendingDeletion", "PendingImport",
		"PendingReplicaDeletion", "Unavailable", "Updating"}
	roundTrip(t, "State", names, keystate.ParseState, keystate.State.String, keystate.States())
	// kmsmodel's own markers are not AWS states.
	var zero keystate.State
	if zero != keystate.None || keystate.None.String() != "" {
		t.Errorf("zero State is %v (%q), want None (\"\")", zero, zero.String())
	}
	if keystate.Deleted.String() != "Deleted" {
		t.Errorf("Deleted.String() = %q", keystate.Deleted.String())
	}
	if _, ok := keystate.ParseState("Deleted"); ok {
		t.Error(`ParseState("Deleted") succeeded; Deleted is not an AWS state`)
	}
	assertUnknownString(t, keystate.State(250).String(), append(names, "Deleted"))
}

func TestOperationStrings(t *testing.T) {
	var names []string
	for _, row := range readPublishedTable(t).rows {
		names = append(names, row.name)
	}
	// a.2: the operations left out of the table because they take no
	// existing key.
	names = append(names, "CreateKey", "ListKeys", "GenerateRandom", "CreateCustomKeyStore",
		"ConnectCustomKeyStore", "DeleteCustomKeyStore", "DescribeCustomKeyStores",
		"DisconnectCustomKeyStore", "UpdateCustomKeyStore")
	roundTrip(t, "Operation", names, keystate.ParseOperation, keystate.Operation.String, nil)
	if keystate.NoOperation.String() != "" {
		t.Errorf("NoOperation.String() = %q", keystate.NoOperation.String())
	}
	assertUnknownString(t, keystate.Operation(250).String(), names)
}

// TestEventStrings: Event has no Parse function, so the round trip is
// String → a unique name from the list of lifecycle events
// (aws-kms-behaviour.md b).
func TestEventStrings(t *testing.T) {
	names := []string{"Create", "CreateExternal", "CreateReplica", "ReplicaReady", "ReplicaReadyPendingImport",
		"Enable", "Disable", "ScheduleDeletion", "ScheduleDeletionWithReplicas", "ReplicasDeleted",
		"DeletionDue", "CancelDeletion", "ImportMaterial", "MaterialLost",
		"UpdatePrimaryStart", "UpdatePrimaryDone", "StoreDisconnect",
		"StoreReconnectEnabled", "StoreReconnectDisabled"}
	parse := func(s string) (keystate.Event, bool) {
		for _, e := range keystate.Events() {
			if e.String() == s {
				return e, true
			}
		}
		return 0, false
	}
	roundTrip(t, "Event", names, parse, keystate.Event.String, keystate.Events())
	assertUnknownString(t, keystate.Event(250).String(), names)
}

func TestKeyManagerAndRoleStrings(t *testing.T) {
	// d.1: KeyManager enum AWS | CUSTOMER; d.3: MultiRegionKeyType PRIMARY | REPLICA.
	for v, want := range map[keystate.KeyManager]string{keystate.Customer: "CUSTOMER", keystate.AWSManaged: "AWS"} {
		if v.String() != want {
			t.Errorf("KeyManager %d String() = %q, want %q", v, v.String(), want)
		}
	}
	for v, want := range map[keystate.MultiRegionRole]string{keystate.SingleRegion: "", keystate.Primary: "PRIMARY", keystate.Replica: "REPLICA"} {
		if v.String() != want {
			t.Errorf("MultiRegionRole %d String() = %q, want %q", v, v.String(), want)
		}
	}
	var k keystate.Kind
	if k.Manager != keystate.Customer || k.MultiRegion != keystate.SingleRegion {
		t.Errorf("zero Kind is %+v, want a customer managed single-Region key", k)
	}
}

// assertUnknownString: an out-of-range value prints as something that is
// not a valid name, so it cannot be mistaken for one.
func assertUnknownString(t *testing.T, s string, names []string) {
	t.Helper()
	if s == "" || slices.Contains(names, s) {
		t.Errorf("out-of-range value prints as %q", s)
	}
}
