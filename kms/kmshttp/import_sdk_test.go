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
)

// TestSDKImportKeyMaterial drives GetParametersForImport,
// ImportKeyMaterial and DeleteImportedKeyMaterial with the real AWS SDK:
// the success path, DescribeKey's ValidTo and ExpirationModel, and each
// import exception decoded to its SDK type.
func TestSDKImportKeyMaterial(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t)
			hc, endpoint := tr.client(t, f)
			c := sdkClient(hc, endpoint, accessKey, region)
			ctx := context.Background()
			create := func() (string, string) {
				t.Helper()
				ck, err := c.CreateKey(ctx, &awskms.CreateKeyInput{Origin: types.OriginTypeExternal})
				if err != nil || ck.KeyMetadata.KeyState != types.KeyStatePendingImport {
					t.Fatalf("CreateKey EXTERNAL = %+v, %v", ck, err)
				}
				return aws.ToString(ck.KeyMetadata.KeyId), aws.ToString(ck.KeyMetadata.Arn)
			}
			params := func(id string) *awskms.GetParametersForImportOutput {
				t.Helper()
				p, err := c.GetParametersForImport(ctx, &awskms.GetParametersForImportInput{KeyId: aws.String(id),
					WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
				if err != nil {
					t.Fatalf("GetParametersForImport: %v", err)
				}
				return p
			}
			wrap := func(p *awskms.GetParametersForImportOutput, m []byte) []byte {
				t.Helper()
				pub, err := x509.ParsePKIXPublicKey(p.PublicKey)
				if err != nil {
					t.Fatal(err)
				}
				ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), m, nil)
				if err != nil {
					t.Fatal(err)
				}
				return ct
			}
			material := bytes.Repeat([]byte{9}, 32)
			id, arn := create()
			p := params(id)
			if aws.ToString(p.KeyId) != arn || len(p.ImportToken) == 0 || !aws.ToTime(p.ParametersValidTo).Equal(epoch.Add(24*time.Hour)) {
				t.Fatalf("GetParametersForImport = %+v", p)
			}
			validTo := epoch.Add(30 * 24 * time.Hour)
			im, err := c.ImportKeyMaterial(ctx, &awskms.ImportKeyMaterialInput{KeyId: aws.String(id), ImportToken: p.ImportToken,
				EncryptedKeyMaterial: wrap(p, material), ValidTo: aws.Time(validTo)})
			if err != nil || aws.ToString(im.KeyId) != arn || len(aws.ToString(im.KeyMaterialId)) != 64 {
				t.Fatalf("ImportKeyMaterial = %+v, %v", im, err)
			}
			dk, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil || dk.KeyMetadata.KeyState != types.KeyStateEnabled ||
				dk.KeyMetadata.ExpirationModel != types.ExpirationModelTypeKeyMaterialExpires ||
				!aws.ToTime(dk.KeyMetadata.ValidTo).Equal(validTo) ||
				aws.ToString(dk.KeyMetadata.CurrentKeyMaterialId) != aws.ToString(im.KeyMaterialId) {
				t.Fatalf("DescribeKey after import = %+v, %v", dk.KeyMetadata, err)
			}
			enc, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("imported")})
			if err != nil {
				t.Fatal(err)
			}

			// The exceptions, each decoded to its SDK type.
			other := bytes.Repeat([]byte{8}, 32)
			_, err = c.ImportKeyMaterial(ctx, &awskms.ImportKeyMaterialInput{KeyId: aws.String(id), ImportToken: p.ImportToken,
				EncryptedKeyMaterial: wrap(p, other), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
			as[*types.IncorrectKeyMaterialException]()(t, err)
			id2, _ := create()
			_, err = c.ImportKeyMaterial(ctx, &awskms.ImportKeyMaterialInput{KeyId: aws.String(id2), ImportToken: p.ImportToken,
				EncryptedKeyMaterial: wrap(p, material), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
			as[*types.InvalidImportTokenException]()(t, err)
			f.clock.Advance(24*time.Hour + time.Microsecond)
			_, err = c.ImportKeyMaterial(ctx, &awskms.ImportKeyMaterialInput{KeyId: aws.String(id), ImportToken: p.ImportToken,
				EncryptedKeyMaterial: wrap(p, material), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
			as[*types.ExpiredImportTokenException]()(t, err)

			// DeleteImportedKeyMaterial: PendingImport, ExpirationModel
			// gone, CurrentKeyMaterialId kept (recording 8b).
			del, err := c.DeleteImportedKeyMaterial(ctx, &awskms.DeleteImportedKeyMaterialInput{KeyId: aws.String(id)})
			if err != nil || aws.ToString(del.KeyId) != arn || aws.ToString(del.KeyMaterialId) != aws.ToString(im.KeyMaterialId) {
				t.Fatalf("DeleteImportedKeyMaterial = %+v, %v", del, err)
			}
			dk, _ = c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			if dk.KeyMetadata.KeyState != types.KeyStatePendingImport || dk.KeyMetadata.ExpirationModel != "" ||
				dk.KeyMetadata.ValidTo != nil || aws.ToString(dk.KeyMetadata.CurrentKeyMaterialId) != aws.ToString(im.KeyMaterialId) {
				t.Fatalf("DescribeKey after delete = %+v", dk.KeyMetadata)
			}
			_, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
			if code, msg := as[*types.KMSInvalidStateException]()(t, err); msg != arn+" is pending import." {
				t.Errorf("Decrypt while pending import: %s %q", code, msg)
			}
			p = params(id)
			if _, err := c.ImportKeyMaterial(ctx, &awskms.ImportKeyMaterialInput{KeyId: aws.String(id), ImportToken: p.ImportToken,
				EncryptedKeyMaterial: wrap(p, material), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire}); err != nil {
				t.Fatalf("re-import: %v", err)
			}
			dec, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
			if err != nil || string(dec.Plaintext) != "imported" {
				t.Fatalf("Decrypt after re-import = %+v, %v", dec, err)
			}

			// Members of the 2025 rules are refused, not ignored.
			_, err = c.ImportKeyMaterial(ctx, &awskms.ImportKeyMaterialInput{KeyId: aws.String(id), ImportToken: p.ImportToken,
				EncryptedKeyMaterial: wrap(p, material), ImportType: types.ImportTypeNewKeyMaterial})
			as[*types.UnsupportedOperationException]()(t, err)
			// [9]: an AWS_KMS key cannot have imported material.
			sk, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetParametersForImport(ctx, &awskms.GetParametersForImportInput{KeyId: sk.KeyMetadata.KeyId,
				WrappingAlgorithm: types.AlgorithmSpecRsaAesKeyWrapSha256, WrappingKeySpec: types.WrappingKeySpecRsa3072})
			as[*types.UnsupportedOperationException]()(t, err)
		})
	}
}
