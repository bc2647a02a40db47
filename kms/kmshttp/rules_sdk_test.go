package kmshttp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsmodel/kmsmodel/kms"
)

// sdkImporter imports key material through the AWS SDK.
type sdkImporter struct {
	t   *testing.T
	c   *awskms.Client
	ctx context.Context
}

// input returns an ImportKeyMaterialInput carrying material for key id,
// wrapped under fresh import parameters, that never expires.
func (im sdkImporter) input(id string, material []byte) *awskms.ImportKeyMaterialInput {
	im.t.Helper()
	p, err := im.c.GetParametersForImport(im.ctx, &awskms.GetParametersForImportInput{KeyId: aws.String(id),
		WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
	if err != nil {
		im.t.Fatalf("GetParametersForImport: %v", err)
	}
	pub, err := x509.ParsePKIXPublicKey(p.PublicKey)
	if err != nil {
		im.t.Fatal(err)
	}
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), material, nil)
	if err != nil {
		im.t.Fatal(err)
	}
	return &awskms.ImportKeyMaterialInput{KeyId: aws.String(id), ImportToken: p.ImportToken, EncryptedKeyMaterial: ct,
		ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire}
}

// TestSDKRules2024RefusesMaterialMembers: under the default profile the
// members of the multi-material rules stay refused with
// UnsupportedOperationException (decision D2), through the real SDK.
func TestSDKRules2024RefusesMaterialMembers(t *testing.T) {
	f := newFixture(t)
	hc, endpoint := transports[0].client(t, f)
	c := sdkClient(hc, endpoint, accessKey, region)
	ctx := context.Background()
	im := sdkImporter{t, c, ctx}
	ck, err := c.CreateKey(ctx, &awskms.CreateKeyInput{Origin: types.OriginTypeExternal})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(ck.KeyMetadata.KeyId)
	for name, set := range map[string]func(*awskms.ImportKeyMaterialInput){
		"ImportType": func(in *awskms.ImportKeyMaterialInput) { in.ImportType = types.ImportTypeExistingKeyMaterial },
		"KeyMaterialId": func(in *awskms.ImportKeyMaterialInput) {
			in.KeyMaterialId = aws.String(string(bytes.Repeat([]byte{'a'}, 64)))
		},
		"KeyMaterialDescription": func(in *awskms.ImportKeyMaterialInput) { in.KeyMaterialDescription = aws.String("d") },
	} {
		in := im.input(id, bytes.Repeat([]byte{1}, 32))
		set(in)
		_, err := c.ImportKeyMaterial(ctx, in)
		if _, msg := as[*types.UnsupportedOperationException]()(t, err); msg != name+" is not supported by kmsmodel" {
			t.Errorf("%s: message %q", name, msg)
		}
	}
	_, err = c.DeleteImportedKeyMaterial(ctx, &awskms.DeleteImportedKeyMaterialInput{KeyId: aws.String(id), KeyMaterialId: aws.String("x")})
	as[*types.UnsupportedOperationException]()(t, err)
	if _, err := c.ImportKeyMaterial(ctx, im.input(id, bytes.Repeat([]byte{1}, 32))); err != nil {
		t.Fatal(err)
	}
	_, err = c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: aws.String(id)})
	as[*types.UnsupportedOperationException]()(t, err) // D2a
}

// TestSDKRulesCurrent drives today's rules (kms.RulesCurrent) through the
// real AWS SDK: ImportType, KeyMaterialDescription and KeyMaterialId in
// and out, ListKeyRotations IncludeKeyMaterial with every entry field,
// RotateKeyOnDemand of imported material, DeleteImportedKeyMaterial by
// KeyMaterialId, DescribeKey's CurrentKeyMaterialId, and each new
// exception decoded to its SDK type (decisions D37–D39).
func TestSDKRulesCurrent(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t, kms.WithRules(kms.RulesCurrent))
			hc, endpoint := tr.client(t, f)
			c := sdkClient(hc, endpoint, accessKey, region)
			ctx := context.Background()
			im := sdkImporter{t, c, ctx}
			ck, err := c.CreateKey(ctx, &awskms.CreateKeyInput{Origin: types.OriginTypeExternal})
			if err != nil {
				t.Fatal(err)
			}
			id, arn := aws.ToString(ck.KeyMetadata.KeyId), aws.ToString(ck.KeyMetadata.Arn)
			m1, m2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)

			in := im.input(id, m1)
			in.KeyMaterialDescription = aws.String("first")
			out1, err := c.ImportKeyMaterial(ctx, in)
			if err != nil || aws.ToString(out1.KeyId) != arn || len(aws.ToString(out1.KeyMaterialId)) != 64 {
				t.Fatalf("ImportKeyMaterial (first) = %+v, %v", out1, err)
			}
			id1 := aws.ToString(out1.KeyMaterialId)
			enc1, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("one")})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: aws.String(id)})
			if _, msg := as[*types.KMSInvalidStateException]()(t, err); msg != "No available key material pending rotation for the key: "+arn+"." {
				t.Errorf("RotateKeyOnDemand with nothing pending: %q (recording 3f)", msg)
			}

			validTo := epoch.Add(40 * 24 * time.Hour)
			in = im.input(id, m2)
			in.ImportType, in.KeyMaterialDescription = types.ImportTypeNewKeyMaterial, aws.String("second")
			in.ExpirationModel, in.ValidTo = types.ExpirationModelTypeKeyMaterialExpires, aws.Time(validTo)
			out2, err := c.ImportKeyMaterial(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			id2 := aws.ToString(out2.KeyMaterialId)
			in = im.input(id, bytes.Repeat([]byte{3}, 32))
			in.ImportType = types.ImportTypeNewKeyMaterial
			_, err = c.ImportKeyMaterial(ctx, in)
			as[*types.KMSInvalidStateException]()(t, err) // recording 3f: one pending at a time

			lr, err := c.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: aws.String(id), IncludeKeyMaterial: types.IncludeKeyMaterialAllKeyMaterial})
			if err != nil || len(lr.Rotations) != 2 {
				t.Fatalf("ListKeyRotations(ALL_KEY_MATERIAL) = %+v, %v", lr, err)
			}
			e0, e1 := lr.Rotations[0], lr.Rotations[1]
			if aws.ToString(e0.KeyMaterialId) != id1 || e0.KeyMaterialState != types.KeyMaterialStateCurrent ||
				e0.ImportState != types.ImportStateImported || e0.ExpirationModel != types.ExpirationModelTypeKeyMaterialDoesNotExpire ||
				aws.ToString(e0.KeyMaterialDescription) != "first" || e0.ValidTo != nil || e0.RotationDate != nil || e0.RotationType != "" {
				t.Errorf("entry 0 = %+v", e0)
			}
			if aws.ToString(e1.KeyMaterialId) != id2 || e1.KeyMaterialState != types.KeyMaterialStatePendingRotation ||
				e1.ImportState != types.ImportStateImported || e1.ExpirationModel != types.ExpirationModelTypeKeyMaterialExpires ||
				!aws.ToTime(e1.ValidTo).Equal(validTo) || aws.ToString(e1.KeyMaterialDescription) != "second" || e1.RotationDate != nil {
				t.Errorf("entry 1 = %+v", e1)
			}

			if _, err := c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: aws.String(id)}); err != nil {
				t.Fatal(err)
			}
			dk, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil || aws.ToString(dk.KeyMetadata.CurrentKeyMaterialId) != id2 || !aws.ToTime(dk.KeyMetadata.ValidTo).Equal(validTo) {
				t.Fatalf("DescribeKey after the rotation = %+v, %v", dk.KeyMetadata, err)
			}
			lr, err = c.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: aws.String(id)})
			if err != nil || len(lr.Rotations) != 1 || lr.Rotations[0].RotationType != types.RotationTypeOnDemand ||
				lr.Rotations[0].KeyMaterialState != types.KeyMaterialStateCurrent || aws.ToString(lr.Rotations[0].KeyMaterialId) != id2 {
				t.Fatalf("ListKeyRotations(ROTATIONS_ONLY) = %+v, %v", lr, err)
			}

			// Delete the first material by ID: PendingImport; re-import it
			// by ID: the first ciphertext decrypts again.
			del, err := c.DeleteImportedKeyMaterial(ctx, &awskms.DeleteImportedKeyMaterialInput{KeyId: aws.String(id), KeyMaterialId: aws.String(id1)})
			if err != nil || aws.ToString(del.KeyMaterialId) != id1 || aws.ToString(del.KeyId) != arn {
				t.Fatalf("DeleteImportedKeyMaterial(KeyMaterialId) = %+v, %v", del, err)
			}
			dk, _ = c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			if dk.KeyMetadata.KeyState != types.KeyStatePendingImport {
				t.Fatalf("after deleting an earlier material: %s", dk.KeyMetadata.KeyState)
			}
			in = im.input(id, m2)
			in.KeyMaterialId = aws.String(id1)
			_, err = c.ImportKeyMaterial(ctx, in)
			as[*types.IncorrectKeyMaterialException]()(t, err)
			in = im.input(id, m1)
			in.ImportType, in.KeyMaterialId = types.ImportTypeExistingKeyMaterial, aws.String(id1)
			if out, err := c.ImportKeyMaterial(ctx, in); err != nil || aws.ToString(out.KeyMaterialId) != id1 {
				t.Fatalf("re-import by KeyMaterialId = %+v, %v", out, err)
			}
			dec, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc1.CiphertextBlob})
			if err != nil || string(dec.Plaintext) != "one" {
				t.Fatalf("Decrypt of the first material's ciphertext = %+v, %v", dec, err)
			}

			// The other exceptions.
			_, err = c.DeleteImportedKeyMaterial(ctx, &awskms.DeleteImportedKeyMaterialInput{KeyId: aws.String(id),
				KeyMaterialId: aws.String(string(bytes.Repeat([]byte{'b'}, 64)))})
			as[*types.NotFoundException]()(t, err)
			in = im.input(id, m1)
			in.ImportType = "SOME_KEY_MATERIAL"
			_, err = c.ImportKeyMaterial(ctx, in)
			generic("ValidationException")(t, err)
			in = im.input(id, m1)
			in.ImportType, in.KeyMaterialId = types.ImportTypeNewKeyMaterial, aws.String(id1)
			_, err = c.ImportKeyMaterial(ctx, in)
			generic("ValidationException")(t, err)
			_, err = c.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: aws.String(id), IncludeKeyMaterial: "EVERYTHING"})
			generic("ValidationException")(t, err)
			hk, err := c.CreateKey(ctx, &awskms.CreateKeyInput{Origin: types.OriginTypeExternal, KeySpec: types.KeySpecHmac256,
				KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
			if err != nil {
				t.Fatal(err)
			}
			in = im.input(aws.ToString(hk.KeyMetadata.KeyId), bytes.Repeat([]byte{4}, 32))
			in.ImportType = types.ImportTypeNewKeyMaterial
			_, err = c.ImportKeyMaterial(ctx, in)
			as[*types.UnsupportedOperationException]()(t, err)
		})
	}
}

// TestSDKRulesCurrentMultiRegion: new material imported into a
// multi-Region primary is PENDING_MULTI_REGION_IMPORT_AND_ROTATION until
// the replica has it (EXISTING_KEY_MATERIAL with its KeyMaterialId); then
// RotateKeyOnDemand moves both (D38).
func TestSDKRulesCurrentMultiRegion(t *testing.T) {
	f := newFixture(t, kms.WithRules(kms.RulesCurrent))
	hc, endpoint := transports[0].client(t, f)
	c := sdkClient(hc, endpoint, accessKey, region)
	west := sdkClient(hc, endpoint, accessKey, "us-west-2")
	ctx := context.Background()
	ck, err := c.CreateKey(ctx, &awskms.CreateKeyInput{Origin: types.OriginTypeExternal, MultiRegion: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(ck.KeyMetadata.KeyId)
	m1, m2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	if _, err := c.ImportKeyMaterial(ctx, sdkImporter{t, c, ctx}.input(id, m1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReplicateKey(ctx, &awskms.ReplicateKeyInput{KeyId: aws.String(id), ReplicaRegion: aws.String("us-west-2")}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	wim := sdkImporter{t, west, ctx}
	if _, err := west.ImportKeyMaterial(ctx, wim.input(id, m1)); err != nil {
		t.Fatal(err)
	}
	in := sdkImporter{t, c, ctx}.input(id, m2)
	in.ImportType = types.ImportTypeNewKeyMaterial
	out, err := c.ImportKeyMaterial(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	lr, err := c.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: aws.String(id), IncludeKeyMaterial: types.IncludeKeyMaterialAllKeyMaterial})
	if err != nil || len(lr.Rotations) != 2 || lr.Rotations[1].KeyMaterialState != types.KeyMaterialStatePendingMultiRegionImportAndRotation {
		t.Fatalf("ListKeyRotations = %+v, %v", lr, err)
	}
	_, err = c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: aws.String(id)})
	as[*types.KMSInvalidStateException]()(t, err)
	win := wim.input(id, m2)
	win.ImportType, win.KeyMaterialId = types.ImportTypeExistingKeyMaterial, out.KeyMaterialId
	if _, err := west.ImportKeyMaterial(ctx, win); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*awskms.Client{c, west} {
		dk, err := cl.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
		if err != nil || aws.ToString(dk.KeyMetadata.CurrentKeyMaterialId) != aws.ToString(out.KeyMaterialId) {
			t.Fatalf("DescribeKey after the rotation = %+v, %v", dk, err)
		}
	}
}
