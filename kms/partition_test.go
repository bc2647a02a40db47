package kms_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// TestPartitionARNs: D70. Keys, aliases and principals of a Region name
// its partition in their ARNs, as AWS's do: arn:aws-cn: in the China
// Regions, arn:aws-us-gov: in GovCloud, arn:aws: elsewhere (before, every
// Region's ARNs said arn:aws:). aws-kms-policies-grants.md §1.1: "The
// partition in the principal ARN follows the key's partition" (recorded
// as arn:<partition>:iam::<acct>:root); AWS's ReplicateKey reference: a
// replica is "in a different Region of the same AWS partition". The default key policy, a grant's issuing
// account and the key ARN a call names follow; an ARN of the wrong
// partition names no key; a multi-Region key replicates only within its
// partition.
func TestPartitionARNs(t *testing.T) {
	svc := kms.New(kms.WithClock(kms.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	ctx := context.Background()
	cn := kms.WithCallerRegion(ctx, "cn-north-1")
	out, err := svc.CreateKey(cn, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := out.KeyMetadata.KeyId, out.KeyMetadata.Arn
	if want := "arn:aws-cn:kms:cn-north-1:111122223333:key/" + id; arn != want {
		t.Errorf("Arn %s, want %s", arn, want)
	}
	if _, err := svc.CreateAlias(cn, &kms.CreateAliasInput{AliasName: "alias/app", TargetKeyId: id}); err != nil {
		t.Fatal(err)
	}
	as, err := svc.ListAliases(cn, &kms.ListAliasesInput{KeyId: id})
	if err != nil || len(as.Aliases) != 1 || as.Aliases[0].AliasArn != "arn:aws-cn:kms:cn-north-1:111122223333:alias/app" {
		t.Errorf("ListAliases = %+v, %v; want alias/app with an arn:aws-cn: ARN", as, err)
	}
	p, err := svc.GetKeyPolicy(cn, &kms.GetKeyPolicyInput{KeyId: id})
	if err != nil || !strings.Contains(p.Policy, `"arn:aws-cn:iam::111122223333:root"`) || strings.Contains(p.Policy, "arn:aws:") {
		t.Errorf("the default key policy in cn-north-1 = %v, %v; want it to name arn:aws-cn:iam::111122223333:root", p, err)
	}
	if _, err := svc.Encrypt(cn, &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")}); err != nil {
		t.Errorf("Encrypt by the key's ARN: %v", err)
	}
	_, err = svc.Encrypt(cn, &kms.EncryptInput{KeyId: "arn:aws:kms:cn-north-1:111122223333:key/" + id, Plaintext: []byte("x")})
	if !errors.Is(err, keystate.ErrNotFound) {
		t.Errorf("Encrypt by an arn:aws: ARN in cn-north-1: %v, want NotFoundException", err)
	}
	if _, err := svc.CreateGrant(cn, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: "arn:aws-cn:iam::111122223333:role/r",
		Operations: []string{"Decrypt"}}); err != nil {
		t.Fatal(err)
	}
	gs, err := svc.ListGrants(cn, &kms.ListGrantsInput{KeyId: id})
	if err != nil || len(gs.Grants) != 1 || gs.Grants[0].IssuingAccount != "arn:aws-cn:iam::111122223333:root" || gs.Grants[0].KeyId != arn {
		t.Errorf("ListGrants = %+v, %v; want one grant issued by arn:aws-cn:iam::111122223333:root on %s", gs, err, arn)
	}

	gov := kms.WithCallerRegion(ctx, "us-gov-west-1")
	mrk, err := svc.CreateKey(gov, &kms.CreateKeyInput{MultiRegion: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.ReplicateKey(gov, &kms.ReplicateKeyInput{KeyId: mrk.KeyMetadata.KeyId, ReplicaRegion: "us-gov-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws-us-gov:kms:us-gov-east-1:111122223333:key/" + mrk.KeyMetadata.KeyId; r.ReplicaKeyMetadata.Arn != want {
		t.Errorf("replica Arn %s, want %s", r.ReplicaKeyMetadata.Arn, want)
	}
	_, err = svc.ReplicateKey(gov, &kms.ReplicateKeyInput{KeyId: mrk.KeyMetadata.KeyId, ReplicaRegion: "us-east-1"})
	var e *keystate.Error
	if !errors.As(err, &e) || e.Code != keystate.ErrValidation || !strings.Contains(e.Message, "partition aws") {
		t.Errorf("ReplicateKey from us-gov-west-1 to us-east-1: %v, want ValidationException naming the partitions", err)
	}
	home, err := svc.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil || !strings.HasPrefix(home.KeyMetadata.Arn, "arn:aws:kms:us-east-1:") {
		t.Errorf("a key of the default Region: %v, %v; want an arn:aws: ARN", home, err)
	}
	for region, want := range map[string]string{"cn-northwest-1": "aws-cn", "us-gov-east-1": "aws-us-gov", "us-iso-east-1": "aws-iso",
		"us-isob-east-1": "aws-iso-b", "eu-isoe-west-1": "aws-iso-e", "us-isof-south-1": "aws-iso-f", "eusc-de-east-1": "aws-eusc",
		"eu-west-1": "aws", "zz-made-up-1": "aws"} {
		if got := kms.PartitionOf(region); got != want {
			t.Errorf("PartitionOf(%s) = %s, want %s", region, got, want)
		}
	}
}

// TestPartitionOfTheCallersRoot: D70. A call made without a principal is
// made by its account's root in the partition of the call's own Region,
// whatever Region the call before it named (found in review: the root was
// made before the call's Region was, in the previous call's partition, so
// that a policy naming arn:aws-cn:iam::…:root refused its own account
// after a us-east-1 call, and CreateKey with it failed the lockout check).
func TestPartitionOfTheCallersRoot(t *testing.T) {
	svc := kms.New(kms.WithClock(kms.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	ctx := context.Background()
	cn := kms.WithCallerRegion(ctx, "cn-north-1")
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws-cn:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`
	k, err := svc.CreateKey(cn, &kms.CreateKeyInput{Policy: pol})
	if err != nil {
		t.Fatalf("CreateKey in cn-north-1 with a policy for arn:aws-cn:iam::111122223333:root, first call: %v", err)
	}
	if _, err := svc.ListKeys(ctx, &kms.ListKeysInput{}); err != nil { // a call in us-east-1
		t.Fatal(err)
	}
	if _, err := svc.Encrypt(cn, &kms.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Errorf("Encrypt in cn-north-1 after a us-east-1 call: %v", err)
	}
	if _, err := svc.Encrypt(cn, &kms.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Errorf("Encrypt in cn-north-1 after a cn-north-1 call: %v", err)
	}
	home, err := svc.CreateKey(ctx, &kms.CreateKeyInput{Policy: strings.ReplaceAll(pol, "aws-cn", "aws")})
	if err != nil {
		t.Fatalf("CreateKey in us-east-1 with a policy for arn:aws:iam::111122223333:root after a cn-north-1 call: %v", err)
	}
	_, err = svc.Encrypt(cn, &kms.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: []byte("x")})
	if _, err2 := svc.Encrypt(ctx, &kms.EncryptInput{KeyId: home.KeyMetadata.KeyId, Plaintext: []byte("x")}); err != nil || err2 != nil {
		t.Errorf("Encrypt in cn-north-1, then in us-east-1: %v, %v", err, err2)
	}
}

// TestPartitionOtherDefaultPolicyIsAPolicy: D70. The default key policy
// of another partition (or account), put on a key, is that key's policy,
// kept and evaluated as written, not taken for the key's own default
// (found in review: PutKeyPolicy of the us-east-1 default on a cn-north-1
// key stored nothing, and GetKeyPolicy answered the aws-cn default).
func TestPartitionOtherDefaultPolicyIsAPolicy(t *testing.T) {
	svc := kms.New(kms.WithClock(kms.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	ctx := context.Background()
	cn := kms.WithCallerRegion(ctx, "cn-north-1")
	home, err := svc.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	awsDefault, err := svc.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: home.KeyMetadata.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateKey(cn, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := k.KeyMetadata.KeyId
	if _, err := svc.PutKeyPolicy(cn, &kms.PutKeyPolicyInput{KeyId: id, Policy: awsDefault.Policy, BypassPolicyLockoutSafetyCheck: true}); err != nil {
		t.Fatal(err)
	}
	// Its own account's root, in aws-cn, is no longer allowed: the policy
	// names arn:aws:iam::111122223333:root alone.
	_, err = svc.GetKeyPolicy(cn, &kms.GetKeyPolicyInput{KeyId: id})
	if !errors.Is(err, keystate.ErrAccessDenied) {
		t.Errorf("GetKeyPolicy in cn-north-1 under a policy naming arn:aws:iam::111122223333:root: %v, want AccessDeniedException", err)
	}
	_, err = svc.Encrypt(cn, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	if !errors.Is(err, keystate.ErrAccessDenied) {
		t.Errorf("Encrypt in cn-north-1 under a policy naming arn:aws:iam::111122223333:root: %v, want AccessDeniedException", err)
	}
	// The same text as a us-east-1 key's policy is that key's default.
	if _, err := svc.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: home.KeyMetadata.KeyId, Policy: awsDefault.Policy}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Encrypt(ctx, &kms.EncryptInput{KeyId: home.KeyMetadata.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Errorf("Encrypt under the key's own default policy: %v", err)
	}
}

// TestChinaRegionsOfferNoRSAAESKeyWrap: D71. GetParametersForImport in a
// China Region refuses the RSA_AES_KEY_WRAP_* wrapping algorithms, which
// AWS does not offer there (aws-kms-asymmetric-hmac.md §9.2:
// "RSA_AES_KEY_WRAP_* is not available in China Regions"), and gives RSAES_OAEP_SHA_256; elsewhere both
// are given.
func TestChinaRegionsOfferNoRSAAESKeyWrap(t *testing.T) {
	svc := kms.New(kms.WithClock(kms.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	ctx := context.Background()
	for _, region := range []string{"cn-northwest-1", "us-east-1"} {
		in := kms.WithCallerRegion(ctx, region)
		k, err := svc.CreateKey(in, &kms.CreateKeyInput{Origin: "EXTERNAL"})
		if err != nil {
			t.Fatal(err)
		}
		for _, alg := range []string{"RSA_AES_KEY_WRAP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSAES_OAEP_SHA_256"} {
			_, err := svc.GetParametersForImport(in, &kms.GetParametersForImportInput{KeyId: k.KeyMetadata.KeyId,
				WrappingAlgorithm: alg, WrappingKeySpec: "RSA_2048"})
			var e *keystate.Error
			switch {
			case region == "cn-northwest-1" && alg != "RSAES_OAEP_SHA_256":
				if !errors.As(err, &e) || e.Code != keystate.ErrUnsupportedOperation || e.Message != "WrappingAlgorithm "+alg+" is not supported in this Region" {
					t.Errorf("%s in %s: %v, want UnsupportedOperationException", alg, region, err)
				}
			case err != nil:
				t.Errorf("%s in %s: %v", alg, region, err)
			}
		}
	}
}
