package kmshttp_test

import (
	"bytes"
	"context"
	"crypto/mlkem"
	"encoding/asn1"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestSDKEncapsulateDecapsulate: ML-KEM with the real AWS SDK, over HTTP
// and in process. The other party is crypto/mlkem: a secret it
// encapsulates to GetPublicKey's key comes back from Decapsulate, and one
// from Encapsulate decapsulates the same; DescribeKey and GetPublicKey
// list ML_KEM; the refusals decode to their SDK types.
func TestSDKEncapsulateDecapsulate(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t)
			hc, endpoint := tr.client(t, f)
			c := sdkClient(hc, endpoint, accessKey, region)
			ctx := context.Background()
			k := asymKeys{c, ctx}
			id, arn := k.create(t, types.KeySpecMlKem768, types.KeyUsageTypeEncapsulateDecapsulate)

			d, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil || !slices.Equal(d.KeyMetadata.EncapsulationAlgorithms, []types.EncapsulationAlgorithmSpec{types.EncapsulationAlgorithmSpecMlKem}) ||
				d.KeyMetadata.KeyUsage != types.KeyUsageTypeEncapsulateDecapsulate || d.KeyMetadata.KeySpec != types.KeySpecMlKem768 {
				t.Fatalf("DescribeKey = %+v, %v", d, err)
			}
			pk, err := c.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(id)})
			if err != nil || !slices.Equal(pk.EncapsulationAlgorithms, []types.EncapsulationAlgorithmSpec{types.EncapsulationAlgorithmSpecMlKem}) ||
				pk.SigningAlgorithms != nil || pk.EncryptionAlgorithms != nil || pk.KeyAgreementAlgorithms != nil {
				t.Fatalf("GetPublicKey = %+v, %v", pk, err)
			}
			var spki struct {
				Algo      struct{ Algorithm asn1.ObjectIdentifier }
				PublicKey asn1.BitString
			}
			if _, err := asn1.Unmarshal(pk.PublicKey, &spki); err != nil {
				t.Fatal(err)
			}
			ek, err := mlkem.NewEncapsulationKey768(spki.PublicKey.RightAlign())
			if err != nil {
				t.Fatalf("crypto/mlkem refuses GetPublicKey's key: %v", err)
			}
			theirs, theirCT := ek.Encapsulate()
			dec, err := c.Decapsulate(ctx, &awskms.DecapsulateInput{KeyId: aws.String(id), EncapsulationAlgorithm: types.EncapsulationAlgorithmSpecMlKem,
				SharedSecretCiphertextBlob: theirCT, GrantTokens: []string{grantToken(t, c, id, types.GrantOperationDecapsulate)}})
			if err != nil || !bytes.Equal(dec.SharedSecret, theirs) || aws.ToString(dec.KeyId) != arn || dec.EncapsulationAlgorithm != types.EncapsulationAlgorithmSpecMlKem {
				t.Fatalf("Decapsulate of crypto/mlkem's ciphertext = %+v, %v", dec, err)
			}
			enc, err := c.Encapsulate(ctx, &awskms.EncapsulateInput{KeyId: aws.String(id), EncapsulationAlgorithm: types.EncapsulationAlgorithmSpecMlKem,
				GrantTokens: []string{grantToken(t, c, id, types.GrantOperationEncapsulate)}})
			if err != nil || len(enc.SharedSecret) != 32 || len(enc.SharedSecretCiphertextBlob) != 1088 || aws.ToString(enc.KeyId) != arn {
				t.Fatalf("Encapsulate = %+v, %v", enc, err)
			}
			back, err := c.Decapsulate(ctx, &awskms.DecapsulateInput{KeyId: aws.String(id), EncapsulationAlgorithm: types.EncapsulationAlgorithmSpecMlKem,
				SharedSecretCiphertextBlob: enc.SharedSecretCiphertextBlob})
			if err != nil || !bytes.Equal(back.SharedSecret, enc.SharedSecret) {
				t.Fatalf("Decapsulate of Encapsulate's ciphertext: %v", err)
			}

			sign, signArn := k.create(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
			dis := k.disabled(t, types.KeySpecMlKem512, types.KeyUsageTypeEncapsulateDecapsulate)
			for _, tc := range []struct {
				name  string
				in    awskms.DecapsulateInput
				check func(*testing.T, error) (string, string)
				want  string
			}{
				{"unknown key", awskms.DecapsulateInput{KeyId: aws.String(unknownKey)}, as[*types.NotFoundException](), ""},
				{"SIGN_VERIFY key", awskms.DecapsulateInput{KeyId: aws.String(sign)}, as[*types.InvalidKeyUsageException](),
					signArn + " key usage is SIGN_VERIFY which is not valid for Decapsulate."},
				{"disabled (D54)", awskms.DecapsulateInput{KeyId: aws.String(dis)}, as[*types.DisabledException](), ""},
				{"the wrong length", awskms.DecapsulateInput{KeyId: aws.String(id), SharedSecretCiphertextBlob: theirCT[:768]},
					as[*types.InvalidCiphertextException](), ""},
				{"unknown algorithm", awskms.DecapsulateInput{KeyId: aws.String(id), EncapsulationAlgorithm: "ML_KEM_768"}, generic("ValidationException"),
					"1 validation error detected: Value 'ML_KEM_768' at 'encapsulationAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [ML_KEM]"},
				{"DryRun (D27)", awskms.DecapsulateInput{KeyId: aws.String(id), DryRun: aws.Bool(true)},
					as[*types.DryRunOperationException](), "The request would have succeeded, but the DryRun option is set."},
			} {
				t.Run(tc.name, func(t *testing.T) {
					in := tc.in
					if in.EncapsulationAlgorithm == "" {
						in.EncapsulationAlgorithm = types.EncapsulationAlgorithmSpecMlKem
					}
					if in.SharedSecretCiphertextBlob == nil {
						in.SharedSecretCiphertextBlob = theirCT
					}
					_, err := c.Decapsulate(ctx, &in)
					if _, got := tc.check(t, err); tc.want != "" && got != tc.want {
						t.Errorf("message %q, want %q", got, tc.want)
					}
				})
			}
		})
	}
}
