package kmshttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
)

// TestSDKOperations drives every operation the handler serves with the
// real AWS SDK for Go v2, in process (no socket) and over a loopback
// listener, and checks that what the SDK decodes is what the model holds.
func TestSDKOperations(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t)
			hc, endpoint := tr.client(t, f)
			c := sdkClient(hc, endpoint, accessKey, region)
			ctx := context.Background()

			// CreateKey: the response's KeyMetadata, timestamps decoded.
			ck, err := c.CreateKey(ctx, &awskms.CreateKeyInput{
				Description: aws.String("orders"),
				Tags:        []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("payments")}},
			})
			if err != nil {
				t.Fatalf("CreateKey: %v", err)
			}
			m := ck.KeyMetadata
			id, arn := aws.ToString(m.KeyId), aws.ToString(m.Arn)
			if want := "arn:aws:kms:" + region + ":" + account + ":key/" + id; arn != want {
				t.Errorf("Arn = %q, want %q", arn, want)
			}
			if !m.CreationDate.Equal(epoch) || m.KeyState != types.KeyStateEnabled || !m.Enabled ||
				aws.ToString(m.Description) != "orders" || m.KeySpec != types.KeySpecSymmetricDefault ||
				m.KeyUsage != types.KeyUsageTypeEncryptDecrypt || m.Origin != types.OriginTypeAwsKms ||
				m.KeyManager != types.KeyManagerTypeCustomer || aws.ToBool(m.MultiRegion) ||
				aws.ToString(m.AWSAccountId) != account || aws.ToString(m.CurrentKeyMaterialId) == "" ||
				len(m.EncryptionAlgorithms) != 1 {
				t.Errorf("CreateKey metadata = %+v", *m)
			}

			// A second key: HMAC, to see MacAlgorithms and no material ID.
			hk, err := c.CreateKey(ctx, &awskms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
			if err != nil {
				t.Fatalf("CreateKey HMAC: %v", err)
			}
			if got := hk.KeyMetadata.MacAlgorithms; len(got) != 1 || got[0] != types.MacAlgorithmSpecHmacSha256 || hk.KeyMetadata.CurrentKeyMaterialId != nil {
				t.Errorf("HMAC metadata = %+v", *hk.KeyMetadata)
			}

			// DescribeKey by ID, ARN and (later) alias.
			for _, ref := range []string{id, arn} {
				dk, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(ref)})
				if err != nil || aws.ToString(dk.KeyMetadata.Arn) != arn {
					t.Fatalf("DescribeKey(%s) = %v, %v", ref, dk, err)
				}
			}

			// ListKeys, with paging.
			lk, err := c.ListKeys(ctx, &awskms.ListKeysInput{Limit: aws.Int32(1)})
			if err != nil || len(lk.Keys) != 1 || !lk.Truncated || lk.NextMarker == nil || aws.ToString(lk.Keys[0].KeyId) != id {
				t.Fatalf("ListKeys page 1 = %+v, %v", lk, err)
			}
			lk, err = c.ListKeys(ctx, &awskms.ListKeysInput{Marker: lk.NextMarker})
			if err != nil || len(lk.Keys) != 1 || lk.Truncated || lk.NextMarker != nil ||
				aws.ToString(lk.Keys[0].KeyId) != aws.ToString(hk.KeyMetadata.KeyId) {
				t.Fatalf("ListKeys page 2 = %+v, %v", lk, err)
			}

			// UpdateKeyDescription, DisableKey, EnableKey.
			if _, err := c.UpdateKeyDescription(ctx, &awskms.UpdateKeyDescriptionInput{KeyId: aws.String(id), Description: aws.String("orders v2")}); err != nil {
				t.Fatalf("UpdateKeyDescription: %v", err)
			}
			if _, err := c.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
				t.Fatalf("DisableKey: %v", err)
			}
			dk, _ := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			if dk.KeyMetadata.KeyState != types.KeyStateDisabled || dk.KeyMetadata.Enabled || aws.ToString(dk.KeyMetadata.Description) != "orders v2" {
				t.Errorf("after DisableKey: %+v", *dk.KeyMetadata)
			}
			if _, err := c.EnableKey(ctx, &awskms.EnableKeyInput{KeyId: aws.String(id)}); err != nil {
				t.Fatalf("EnableKey: %v", err)
			}

			// Rotation: enable with a period, status, on demand, list.
			if _, err := c.EnableKeyRotation(ctx, &awskms.EnableKeyRotationInput{KeyId: aws.String(id), RotationPeriodInDays: aws.Int32(90)}); err != nil {
				t.Fatalf("EnableKeyRotation: %v", err)
			}
			st, err := c.GetKeyRotationStatus(ctx, &awskms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
			if err != nil || !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 90 ||
				!aws.ToTime(st.NextRotationDate).Equal(epoch.AddDate(0, 0, 90)) || aws.ToString(st.KeyId) != arn ||
				st.OnDemandRotationStartDate != nil {
				t.Fatalf("GetKeyRotationStatus = %+v, %v", st, err)
			}
			f.clock.Advance(time.Hour)
			rk, err := c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: aws.String(id)})
			if err != nil || aws.ToString(rk.KeyId) != arn {
				t.Fatalf("RotateKeyOnDemand = %+v, %v", rk, err)
			}
			f.clock.Advance(100 * 24 * time.Hour) // one automatic rotation at day 90 (D13)
			lr, err := c.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: aws.String(id)})
			if err != nil || len(lr.Rotations) != 2 || lr.Truncated {
				t.Fatalf("ListKeyRotations = %+v, %v", lr, err)
			}
			if r := lr.Rotations[0]; r.RotationType != types.RotationTypeOnDemand || !aws.ToTime(r.RotationDate).Equal(epoch.Add(time.Hour)) ||
				r.KeyMaterialState != types.KeyMaterialStateNonCurrent {
				t.Errorf("rotation 0 = %+v", r)
			}
			if r := lr.Rotations[1]; r.RotationType != types.RotationTypeAutomatic || !aws.ToTime(r.RotationDate).Equal(epoch.AddDate(0, 0, 90)) ||
				r.KeyMaterialState != types.KeyMaterialStateCurrent {
				t.Errorf("rotation 1 = %+v", r)
			}
			lr, err = c.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: aws.String(id), IncludeKeyMaterial: types.IncludeKeyMaterialAllKeyMaterial, Limit: aws.Int32(1)})
			if err != nil || len(lr.Rotations) != 1 || !lr.Truncated || lr.Rotations[0].RotationDate != nil || lr.Rotations[0].RotationType != "" {
				t.Fatalf("ListKeyRotations ALL_KEY_MATERIAL = %+v, %v", lr, err)
			}
			if _, err := c.DisableKeyRotation(ctx, &awskms.DisableKeyRotationInput{KeyId: aws.String(id)}); err != nil {
				t.Fatalf("DisableKeyRotation: %v", err)
			}
			st, _ = c.GetKeyRotationStatus(ctx, &awskms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
			if st.KeyRotationEnabled || st.RotationPeriodInDays != nil || st.NextRotationDate != nil { // D20
				t.Errorf("status after DisableKeyRotation = %+v", st)
			}

			// Aliases.
			if _, err := c.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: aws.String(id)}); err != nil {
				t.Fatalf("CreateAlias: %v", err)
			}
			dk, err = c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String("alias/orders")})
			if err != nil || aws.ToString(dk.KeyMetadata.KeyId) != id {
				t.Fatalf("DescribeKey(alias) = %+v, %v", dk, err)
			}
			// UpdateAlias keeps an alias on keys of one type and usage:
			// retarget it to another symmetric key.
			sk, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
			if err != nil {
				t.Fatalf("CreateKey: %v", err)
			}
			hid := aws.ToString(sk.KeyMetadata.KeyId)
			if _, err := c.UpdateAlias(ctx, &awskms.UpdateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: aws.String(hid)}); err != nil {
				t.Fatalf("UpdateAlias: %v", err)
			}
			la, err := c.ListAliases(ctx, &awskms.ListAliasesInput{})
			if err != nil || la.Truncated {
				t.Fatalf("ListAliases = %+v, %v", la, err)
			}
			// Besides alias/orders, AWS's predefined aliases (D72): an
			// alias/aws/ name and ARN, no target, no dates.
			var own []types.AliasListEntry
			for _, a := range la.Aliases {
				name := aws.ToString(a.AliasName)
				if !strings.HasPrefix(name, "alias/aws/") {
					own = append(own, a)
					continue
				}
				if a.TargetKeyId != nil || a.CreationDate != nil || a.LastUpdatedDate != nil ||
					aws.ToString(a.AliasArn) != "arn:aws:kms:"+region+":"+account+":"+name {
					t.Errorf("predefined alias = %+v", a)
				}
			}
			if len(own) != 1 || len(la.Aliases) < 2 {
				t.Fatalf("ListAliases = %+v: %d aliases of our own, %d in all", la, len(own), len(la.Aliases))
			}
			if a := own[0]; aws.ToString(a.AliasName) != "alias/orders" || aws.ToString(a.TargetKeyId) != hid ||
				aws.ToString(a.AliasArn) != "arn:aws:kms:"+region+":"+account+":alias/orders" ||
				!aws.ToTime(a.CreationDate).Equal(f.clock.Now()) || !aws.ToTime(a.LastUpdatedDate).Equal(f.clock.Now()) {
				t.Errorf("alias = %+v", a)
			}
			la, err = c.ListAliases(ctx, &awskms.ListAliasesInput{KeyId: aws.String(id)})
			if err != nil || len(la.Aliases) != 0 {
				t.Fatalf("ListAliases(KeyId) = %+v, %v", la, err)
			}
			if _, err := c.DeleteAlias(ctx, &awskms.DeleteAliasInput{AliasName: aws.String("alias/orders")}); err != nil {
				t.Fatalf("DeleteAlias: %v", err)
			}

			// Tags.
			if _, err := c.TagResource(ctx, &awskms.TagResourceInput{KeyId: aws.String(id), Tags: []types.Tag{
				{TagKey: aws.String("env"), TagValue: aws.String("prod")}, {TagKey: aws.String("team"), TagValue: aws.String("ledger")}}}); err != nil {
				t.Fatalf("TagResource: %v", err)
			}
			if _, err := c.UntagResource(ctx, &awskms.UntagResourceInput{KeyId: aws.String(id), TagKeys: []string{"env"}}); err != nil {
				t.Fatalf("UntagResource: %v", err)
			}
			lt, err := c.ListResourceTags(ctx, &awskms.ListResourceTagsInput{KeyId: aws.String(id)})
			if err != nil || len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].TagKey) != "team" || aws.ToString(lt.Tags[0].TagValue) != "ledger" || lt.Truncated {
				t.Fatalf("ListResourceTags = %+v, %v", lt, err)
			}

			// Deletion: schedule, cancel (the key is left Disabled), schedule
			// again and let the waiting period pass (D7).
			sd, err := c.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)})
			if err != nil || aws.ToString(sd.KeyId) != arn || sd.KeyState != types.KeyStatePendingDeletion ||
				aws.ToInt32(sd.PendingWindowInDays) != 7 || !aws.ToTime(sd.DeletionDate).Equal(f.clock.Now().AddDate(0, 0, 7)) {
				t.Fatalf("ScheduleKeyDeletion = %+v, %v", sd, err)
			}
			dk, _ = c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			if !aws.ToTime(dk.KeyMetadata.DeletionDate).Equal(*sd.DeletionDate) {
				t.Errorf("DescribeKey DeletionDate = %v", dk.KeyMetadata.DeletionDate)
			}
			cd, err := c.CancelKeyDeletion(ctx, &awskms.CancelKeyDeletionInput{KeyId: aws.String(id)})
			if err != nil || aws.ToString(cd.KeyId) != arn {
				t.Fatalf("CancelKeyDeletion = %+v, %v", cd, err)
			}
			dk, _ = c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			if dk.KeyMetadata.KeyState != types.KeyStateDisabled || dk.KeyMetadata.DeletionDate != nil {
				t.Errorf("after CancelKeyDeletion: %+v", *dk.KeyMetadata)
			}
			sd, err = c.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(id)})
			if err != nil || aws.ToInt32(sd.PendingWindowInDays) != 30 {
				t.Fatalf("ScheduleKeyDeletion (default window) = %+v, %v", sd, err)
			}
			f.clock.Set(*sd.DeletionDate)
			_, err = c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			var nf *types.NotFoundException
			if !errors.As(err, &nf) {
				t.Errorf("DescribeKey after deletion: %v, want NotFoundException", err)
			}
		})
	}
}

// exceptionCase is one refusal the service or the adapter can return.
type exceptionCase struct {
	name string
	// call makes the refused call; f is the fixture, c the owner's client,
	// other a client of the other account, key a fresh symmetric key ID.
	call func(t *testing.T, f *fixture, c, other *awskms.Client, key string) error
	// check inspects the error and returns the exception name and message
	// it decoded to, or fails.
	check func(t *testing.T, err error) (code, msg string)
	// wantMsg is the expected message; "{arn}" stands for the key's ARN
	// and "{id}" for its ID.
	wantMsg string
	anyMsg  bool // the message is not checked
	status  int
}

// as returns a check that the error decodes to the typed exception *E.
func as[E interface {
	error
	ErrorCode() string
	ErrorMessage() string
}]() func(t *testing.T, err error) (string, string) {
	return func(t *testing.T, err error) (string, string) {
		t.Helper()
		var e E
		if !errors.As(err, &e) {
			t.Fatalf("error %T %v does not decode to %T", err, err, e)
		}
		return e.ErrorCode(), e.ErrorMessage()
	}
}

// generic returns a check that the error is a smithy.GenericAPIError with
// code (an exception outside the KMS model).
func generic(code string) func(t *testing.T, err error) (string, string) {
	return func(t *testing.T, err error) (string, string) {
		t.Helper()
		var g *smithy.GenericAPIError
		if !errors.As(err, &g) || g.Code != code {
			t.Fatalf("error %T %v is not a GenericAPIError %s", err, err, code)
		}
		return g.Code, g.Message
	}
}

func describe(c *awskms.Client, id string) error {
	_, err := c.DescribeKey(context.Background(), &awskms.DescribeKeyInput{KeyId: aws.String(id)})
	return err
}

func rotate(c *awskms.Client, id string) error {
	_, err := c.RotateKeyOnDemand(context.Background(), &awskms.RotateKeyOnDemandInput{KeyId: aws.String(id)})
	return err
}

var exceptionCases = []exceptionCase{
	{name: "NotFoundException unknown key (D19)", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, _ string) error {
			return describe(c, "0b1c2d3e-0000-4000-8000-000000000000")
		},
		check:   as[*types.NotFoundException](),
		wantMsg: "Key 'arn:aws:kms:us-east-1:111122223333:key/0b1c2d3e-0000-4000-8000-000000000000' does not exist"},
	{name: "NotFoundException malformed key ID (D4, D19)", status: 400,
		call:    func(_ *testing.T, _ *fixture, c, _ *awskms.Client, _ string) error { return describe(c, "nope") },
		check:   as[*types.NotFoundException](),
		wantMsg: "Invalid keyId 'nope'"},
	{name: "NotFoundException ARN of another Region (D19)", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			return describe(c, "arn:aws:kms:eu-west-1:111122223333:key/"+key)
		},
		check:   as[*types.NotFoundException](),
		wantMsg: "Invalid arn eu-west-1"},
	{name: "DisabledException (D18: 400)", status: 400,
		call: func(t *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			if _, err := c.DisableKey(context.Background(), &awskms.DisableKeyInput{KeyId: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
			return rotate(c, key)
		},
		check:   as[*types.DisabledException](),
		wantMsg: "{arn} is disabled."},
	{name: "KMSInvalidStateException not pending deletion", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			_, err := c.CancelKeyDeletion(context.Background(), &awskms.CancelKeyDeletionInput{KeyId: aws.String(key)})
			return err
		},
		check:   as[*types.KMSInvalidStateException](),
		wantMsg: "{arn} is not pending deletion."},
	{name: "KMSInvalidStateException pending deletion", status: 400,
		call: func(t *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			if _, err := c.ScheduleKeyDeletion(context.Background(), &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
			return rotate(c, key)
		},
		check:   as[*types.KMSInvalidStateException](),
		wantMsg: "{arn} is pending deletion."},
	{name: "UnsupportedOperationException asymmetric key, empty message (D19)", status: 400,
		call: func(t *testing.T, _ *fixture, c, _ *awskms.Client, _ string) error {
			out, err := c.CreateKey(context.Background(), &awskms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
			if err != nil {
				t.Fatal(err)
			}
			return rotate(c, aws.ToString(out.KeyMetadata.KeyId))
		},
		check:   as[*types.UnsupportedOperationException](),
		wantMsg: ""},
	{name: "LimitExceededException 11th on-demand rotation (D1)", status: 400,
		call: func(t *testing.T, f *fixture, c, _ *awskms.Client, key string) error {
			for i := 0; i < kms.DefaultOnDemandRotationQuota; i++ {
				f.clock.Advance(time.Minute)
				if err := rotate(c, key); err != nil {
					t.Fatal(err)
				}
			}
			return rotate(c, key)
		},
		check:   as[*types.LimitExceededException](),
		wantMsg: "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: {arn}"},
	{name: "ConflictException automatic rotation within 20 minutes (D9)", status: 400,
		call: func(t *testing.T, f *fixture, c, _ *awskms.Client, key string) error {
			if _, err := c.EnableKeyRotation(context.Background(), &awskms.EnableKeyRotationInput{KeyId: aws.String(key), RotationPeriodInDays: aws.Int32(90)}); err != nil {
				t.Fatal(err)
			}
			f.clock.Set(f.clock.Now().AddDate(0, 0, 90).Add(-10 * time.Minute))
			return rotate(c, key)
		},
		check:   as[*types.ConflictException](),
		wantMsg: "An automatic rotation of {arn} is currently in progress or scheduled to begin within the next 20 minutes."},
	{name: "InvalidArnException (D4)", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, _ string) error {
			return describe(c, "arn:aws:kms:us-east-1:111122223333:nonsense")
		},
		check:   as[*types.InvalidArnException](),
		wantMsg: "ARN arn:aws:kms:us-east-1:111122223333:nonsense is not a valid KMS key or alias ARN"},
	{name: "InvalidMarkerException (D14)", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, _ string) error {
			_, err := c.ListKeys(context.Background(), &awskms.ListKeysInput{Marker: aws.String("garbage")})
			return err
		},
		check:   as[*types.InvalidMarkerException](),
		wantMsg: "The marker 'garbage' is not valid for this request."},
	{name: "AlreadyExistsException", status: 400,
		call: func(t *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			in := &awskms.CreateAliasInput{AliasName: aws.String("alias/dup"), TargetKeyId: aws.String(key)}
			if _, err := c.CreateAlias(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			_, err := c.CreateAlias(context.Background(), in)
			return err
		},
		check:   as[*types.AlreadyExistsException](),
		wantMsg: "An alias with the name arn:aws:kms:us-east-1:111122223333:alias/dup already exists"},
	{name: "InvalidAliasNameException reserved prefix", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			_, err := c.CreateAlias(context.Background(), &awskms.CreateAliasInput{AliasName: aws.String("alias/aws/mine"), TargetKeyId: aws.String(key)})
			return err
		},
		check:   as[*types.InvalidAliasNameException](),
		wantMsg: "Alias names that begin with alias/aws/ are reserved for AWS managed keys."},
	{name: "TagException reserved prefix (D19)", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			_, err := c.TagResource(context.Background(), &awskms.TagResourceInput{KeyId: aws.String(key),
				Tags: []types.Tag{{TagKey: aws.String("AWS:owner"), TagValue: aws.String("x")}}})
			return err
		},
		check:   as[*types.TagException](),
		wantMsg: "Tags beginning with aws: are reserved"},
	{name: "ValidationException rotation period (D16)", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			_, err := c.EnableKeyRotation(context.Background(), &awskms.EnableKeyRotationInput{KeyId: aws.String(key), RotationPeriodInDays: aws.Int32(89)})
			return err
		},
		check:   generic("ValidationException"),
		wantMsg: "1 validation error detected: Value '89' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value greater than or equal to 90"},
	{name: "ValidationException alias prefix (D19)", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			_, err := c.CreateAlias(context.Background(), &awskms.CreateAliasInput{AliasName: aws.String("orders"), TargetKeyId: aws.String(key)})
			return err
		},
		check:   generic("ValidationException"),
		wantMsg: `Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`},
	{name: "AccessDeniedException cross-account DescribeKey", status: 400,
		call: func(_ *testing.T, _ *fixture, _, other *awskms.Client, key string) error {
			return describe(other, "arn:aws:kms:us-east-1:111122223333:key/"+key)
		},
		check: generic("AccessDeniedException"), anyMsg: true},
	{name: "NotFoundException cross-account RotateKeyOnDemand (D6)", status: 400,
		call: func(_ *testing.T, _ *fixture, _, other *awskms.Client, key string) error {
			return rotate(other, "arn:aws:kms:us-east-1:111122223333:key/"+key)
		},
		check:   as[*types.NotFoundException](),
		wantMsg: "Key '{arn}' does not exist"},
	{name: "InvalidCiphertextException not a blob", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, _ string) error {
			_, err := c.Decrypt(context.Background(), &awskms.DecryptInput{CiphertextBlob: []byte("not a ciphertext blob")})
			return err
		},
		check: as[*types.InvalidCiphertextException](), wantMsg: ""},
	{name: "InvalidCiphertextException other encryption context", status: 400,
		call: func(t *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			ctx := context.Background()
			enc, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("secret"),
				EncryptionContext: map[string]string{"order": "1"}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"order": "2"}})
			return err
		},
		check: as[*types.InvalidCiphertextException](), wantMsg: ""},
	{name: "IncorrectKeyException", status: 400,
		call: func(t *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			ctx := context.Background()
			enc, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("secret")})
			if err != nil {
				t.Fatal(err)
			}
			other, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, KeyId: other.KeyMetadata.KeyId})
			return err
		},
		check:   as[*types.IncorrectKeyException](),
		wantMsg: "The key ID in the request does not identify a CMK that can perform this operation."},
	{name: "InvalidKeyUsageException HMAC key", status: 400,
		call: func(t *testing.T, _ *fixture, c, _ *awskms.Client, _ string) error {
			hk, err := c.CreateKey(context.Background(), &awskms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Encrypt(context.Background(), &awskms.EncryptInput{KeyId: hk.KeyMetadata.KeyId, Plaintext: []byte("x")})
			return err
		},
		check: as[*types.InvalidKeyUsageException](), anyMsg: true},
	{name: "KMSInvalidStateException Decrypt pending deletion (D17)", status: 400,
		call: func(t *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			ctx := context.Background()
			enc, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("secret")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
			_, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
			return err
		},
		check: as[*types.KMSInvalidStateException](), wantMsg: "{arn} is pending deletion."},
	{name: "DisabledException GenerateDataKey", status: 400,
		call: func(t *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			if _, err := c.DisableKey(context.Background(), &awskms.DisableKeyInput{KeyId: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
			_, err := c.GenerateDataKey(context.Background(), &awskms.GenerateDataKeyInput{KeyId: aws.String(key), KeySpec: types.DataKeySpecAes256})
			return err
		},
		check: as[*types.DisabledException](), wantMsg: "{arn} is disabled."},
	{name: "DryRunOperationException Encrypt (D27)", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			_, err := c.Encrypt(context.Background(), &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("x"), DryRun: aws.Bool(true)})
			return err
		},
		check: as[*types.DryRunOperationException](), wantMsg: "The request would have succeeded, but the DryRun option is set."},
	{name: "InvalidGrantTokenException (D28)", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			_, err := c.Encrypt(context.Background(), &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("x"), GrantTokens: []string{"garbage"}})
			return err
		},
		check: as[*types.InvalidGrantTokenException](), wantMsg: "The grant token is not valid."},
	{name: "InvalidGrantIdException RevokeGrant", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			_, err := c.RevokeGrant(context.Background(), &awskms.RevokeGrantInput{KeyId: aws.String(key), GrantId: aws.String(strings.Repeat("0", 64))})
			return err
		},
		check: as[*types.InvalidGrantIdException](), wantMsg: "Grant ID " + strings.Repeat("0", 64) + " is not valid for {arn}."},
	{name: "CustomKeyStoreNotFoundException", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, _ string) error {
			_, err := c.CreateKey(context.Background(), &awskms.CreateKeyInput{CustomKeyStoreId: aws.String("cks-1234567890abcdef0"), Origin: types.OriginTypeAwsCloudhsm})
			return err
		},
		check:   as[*types.CustomKeyStoreNotFoundException](),
		wantMsg: "Custom key store 'cks-1234567890abcdef0' does not exist in account " + account + "."},
	{name: "CustomKeyStoreInvalidStateException", status: 400,
		call: func(t *testing.T, _ *fixture, c, _ *awskms.Client, _ string) error {
			id := sdkStore(t, c, "disconnected")
			_, err := c.CreateKey(context.Background(), &awskms.CreateKeyInput{CustomKeyStoreId: aws.String(id), Origin: types.OriginTypeAwsCloudhsm})
			return err
		},
		check: as[*types.CustomKeyStoreInvalidStateException](), anyMsg: true},
	{name: "CustomKeyStoreHasCMKsException", status: 400,
		call: func(t *testing.T, _ *fixture, c, _ *awskms.Client, _ string) error {
			ctx := context.Background()
			id := sdkStore(t, c, "with keys")
			if _, err := c.ConnectCustomKeyStore(ctx, &awskms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateKey(ctx, &awskms.CreateKeyInput{CustomKeyStoreId: aws.String(id), Origin: types.OriginTypeAwsCloudhsm}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.DisconnectCustomKeyStore(ctx, &awskms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)}); err != nil {
				t.Fatal(err)
			}
			_, err := c.DeleteCustomKeyStore(ctx, &awskms.DeleteCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)})
			return err
		},
		check: as[*types.CustomKeyStoreHasCMKsException](), anyMsg: true},
	{name: "CustomKeyStoreNameInUseException", status: 400,
		call: func(t *testing.T, _ *fixture, c, _ *awskms.Client, _ string) error {
			sdkStore(t, c, "twice")
			_, err := c.CreateCustomKeyStore(context.Background(), sdkStoreInput("twice"))
			return err
		},
		check:   as[*types.CustomKeyStoreNameInUseException](),
		wantMsg: "The custom key store name 'twice' is already in use in this account."},
	{name: "UnrecognizedClientException unknown access key", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			_, err := c.ListKeys(context.Background(), &awskms.ListKeysInput{}, func(o *awskms.Options) {
				o.Credentials = aws.NewCredentialsCache(staticCreds("AKIDUNKNOWN"))
			})
			return err
		},
		check:   generic("UnrecognizedClientException"),
		wantMsg: "The security token included in the request is invalid."},
	{name: "NotFoundException bare key ID signed for another Region (recording 1d')", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, key string) error {
			// The credential scope's Region is the Region of the call.
			_, err := c.DescribeKey(context.Background(), &awskms.DescribeKeyInput{KeyId: aws.String(key)},
				func(o *awskms.Options) { o.Region = "us-west-2" })
			return err
		},
		check:   as[*types.NotFoundException](),
		wantMsg: "Key 'arn:aws:kms:us-west-2:111122223333:key/{id}' does not exist"},
	{name: "InvalidSignatureException scope Region not a Region name", status: 400,
		call: func(_ *testing.T, _ *fixture, c, _ *awskms.Client, _ string) error {
			_, err := c.ListKeys(context.Background(), &awskms.ListKeysInput{}, func(o *awskms.Options) { o.Region = "mars" })
			return err
		},
		check:   generic("InvalidSignatureException"),
		wantMsg: "Credential should be scoped to a valid region, not 'mars'."},
}

// sdkStoreInput is a CloudHSM key store request named name.
func sdkStoreInput(name string) *awskms.CreateCustomKeyStoreInput {
	return &awskms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String(name),
		CloudHsmClusterId: aws.String("cluster-1a23b4cdefg"), TrustAnchorCertificate: aws.String("cert"),
		KeyStorePassword: aws.String("kmsuser-password")}
}

// sdkStore creates a CloudHSM key store named name and returns its ID.
func sdkStore(t *testing.T, c *awskms.Client, name string) string {
	t.Helper()
	out, err := c.CreateCustomKeyStore(context.Background(), sdkStoreInput(name))
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.CustomKeyStoreId)
}

// TestSDKCustomKeyStores drives the six custom key store operations and
// CreateKey in a store with the AWS SDK, over both transports.
func TestSDKCustomKeyStores(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t)
			hc, endpoint := tr.client(t, f)
			c := sdkClient(hc, endpoint, accessKey, region)
			ctx := context.Background()
			hsm := sdkStore(t, c, "hsm")
			xks, err := c.CreateCustomKeyStore(ctx, &awskms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("xks"),
				CustomKeyStoreType: types.CustomKeyStoreTypeExternalKeyStore, XksProxyUriEndpoint: aws.String("https://xks.example.com"),
				XksProxyUriPath: aws.String("/kms/xks/v1"), XksProxyConnectivity: types.XksProxyConnectivityTypeVpcEndpointService,
				XksProxyVpcEndpointServiceName: aws.String("com.amazonaws.vpce.us-east-1.vpce-svc-0123"),
				XksProxyAuthenticationCredential: &types.XksProxyAuthenticationCredentialType{
					AccessKeyId: aws.String("ABCDEFGHIJKLMNOPQRST"), RawSecretAccessKey: aws.String(strings.Repeat("s", 43))}})
			if err != nil {
				t.Fatalf("CreateCustomKeyStore XKS: %v", err)
			}
			xksID := aws.ToString(xks.CustomKeyStoreId)
			for _, id := range []string{hsm, xksID} {
				if _, err := c.ConnectCustomKeyStore(ctx, &awskms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)}); err != nil {
					t.Fatalf("ConnectCustomKeyStore: %v", err)
				}
			}
			d, err := c.DescribeCustomKeyStores(ctx, &awskms.DescribeCustomKeyStoresInput{Limit: aws.Int32(1)})
			if err != nil {
				t.Fatalf("DescribeCustomKeyStores: %v", err)
			}
			if len(d.CustomKeyStores) != 1 || !d.Truncated || aws.ToString(d.NextMarker) == "" {
				t.Fatalf("first page = %+v", d)
			}
			e := d.CustomKeyStores[0]
			if aws.ToString(e.CustomKeyStoreId) != hsm || e.ConnectionState != types.ConnectionStateTypeConnected ||
				e.CustomKeyStoreType != types.CustomKeyStoreTypeAwsCloudhsm || aws.ToString(e.CloudHsmClusterId) != "cluster-1a23b4cdefg" ||
				aws.ToString(e.TrustAnchorCertificate) != "cert" || !e.CreationDate.Equal(epoch) || e.XksProxyConfiguration != nil {
				t.Fatalf("CloudHSM entry = %+v", e)
			}
			d, err = c.DescribeCustomKeyStores(ctx, &awskms.DescribeCustomKeyStoresInput{Marker: d.NextMarker})
			if err != nil || len(d.CustomKeyStores) != 1 || d.Truncated {
				t.Fatalf("second page = %+v, %v", d, err)
			}
			x := d.CustomKeyStores[0].XksProxyConfiguration
			if x == nil || aws.ToString(x.AccessKeyId) != "ABCDEFGHIJKLMNOPQRST" || x.Connectivity != types.XksProxyConnectivityTypeVpcEndpointService ||
				aws.ToString(x.UriEndpoint) != "https://xks.example.com" || aws.ToString(x.UriPath) != "/kms/xks/v1" ||
				aws.ToString(x.VpcEndpointServiceName) != "com.amazonaws.vpce.us-east-1.vpce-svc-0123" {
				t.Fatalf("XKS entry = %+v", d.CustomKeyStores[0])
			}

			hk, err := c.CreateKey(ctx, &awskms.CreateKeyInput{CustomKeyStoreId: aws.String(hsm), Origin: types.OriginTypeAwsCloudhsm})
			if err != nil {
				t.Fatalf("CreateKey in a CloudHSM key store: %v", err)
			}
			if m := hk.KeyMetadata; aws.ToString(m.CustomKeyStoreId) != hsm || aws.ToString(m.CloudHsmClusterId) != "cluster-1a23b4cdefg" ||
				m.Origin != types.OriginTypeAwsCloudhsm || m.XksKeyConfiguration != nil {
				t.Fatalf("CloudHSM key metadata = %+v", *m)
			}
			xk, err := c.CreateKey(ctx, &awskms.CreateKeyInput{CustomKeyStoreId: aws.String(xksID), Origin: types.OriginTypeExternalKeyStore,
				XksKeyId: aws.String("ext-key-1")})
			if err != nil {
				t.Fatalf("CreateKey in an external key store: %v", err)
			}
			if m := xk.KeyMetadata; m.XksKeyConfiguration == nil || aws.ToString(m.XksKeyConfiguration.Id) != "ext-key-1" {
				t.Fatalf("XKS key metadata = %+v", *m)
			}

			// Disconnect: the keys are Unavailable; crypto is refused ([11]).
			if _, err := c.DisconnectCustomKeyStore(ctx, &awskms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(hsm)}); err != nil {
				t.Fatalf("DisconnectCustomKeyStore: %v", err)
			}
			dk, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: hk.KeyMetadata.KeyId})
			if err != nil || dk.KeyMetadata.KeyState != types.KeyStateUnavailable {
				t.Fatalf("DescribeKey after disconnect = %+v, %v", dk, err)
			}
			_, err = c.Encrypt(ctx, &awskms.EncryptInput{KeyId: hk.KeyMetadata.KeyId, Plaintext: []byte("x")})
			var ise *types.KMSInvalidStateException
			if !errors.As(err, &ise) || ise.ErrorMessage() != aws.ToString(hk.KeyMetadata.Arn)+" is unavailable." {
				t.Fatalf("Encrypt while Unavailable: %v", err)
			}
			if _, err := c.UpdateCustomKeyStore(ctx, &awskms.UpdateCustomKeyStoreInput{CustomKeyStoreId: aws.String(hsm),
				NewCustomKeyStoreName: aws.String("hsm2"), KeyStorePassword: aws.String("new-password")}); err != nil {
				t.Fatalf("UpdateCustomKeyStore: %v", err)
			}
			if _, err := c.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: hk.KeyMetadata.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(7 * 24 * time.Hour)
			if _, err := c.DeleteCustomKeyStore(ctx, &awskms.DeleteCustomKeyStoreInput{CustomKeyStoreId: aws.String(hsm)}); err != nil {
				t.Fatalf("DeleteCustomKeyStore: %v", err)
			}
			d, err = c.DescribeCustomKeyStores(ctx, &awskms.DescribeCustomKeyStoresInput{CustomKeyStoreName: aws.String("xks")})
			if err != nil || len(d.CustomKeyStores) != 1 || aws.ToString(d.CustomKeyStores[0].CustomKeyStoreId) != xksID {
				t.Fatalf("DescribeCustomKeyStores by name = %+v, %v", d, err)
			}
		})
	}
}

// TestSDKExceptions checks that every exception the service (and the
// adapter) can return reaches the AWS SDK as the exact typed error, with
// the message and the HTTP status of decisions D18 and D19, over both
// transports.
func TestSDKExceptions(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			for _, tc := range exceptionCases {
				t.Run(tc.name, func(t *testing.T) {
					f := newFixture(t)
					hc, endpoint := tr.client(t, f)
					c := sdkClient(hc, endpoint, accessKey, region)
					other := sdkClient(hc, endpoint, otherKey, region)
					out, err := c.CreateKey(context.Background(), &awskms.CreateKeyInput{})
					if err != nil {
						t.Fatal(err)
					}
					key, arn := aws.ToString(out.KeyMetadata.KeyId), aws.ToString(out.KeyMetadata.Arn)
					err = tc.call(t, f, c, other, key)
					if err == nil {
						t.Fatal("call succeeded; want a refusal")
					}
					_, msg := tc.check(t, err)
					if want := strings.NewReplacer("{arn}", arn, "{id}", key).Replace(tc.wantMsg); !tc.anyMsg && msg != want {
						t.Errorf("message = %q, want %q", msg, want)
					}
					var re *awshttp.ResponseError
					if !errors.As(err, &re) {
						t.Fatalf("error %v carries no HTTP response", err)
					}
					if re.HTTPStatusCode() != tc.status {
						t.Errorf("HTTP status = %d, want %d", re.HTTPStatusCode(), tc.status)
					}
					if re.RequestID == "" {
						t.Error("no request ID decoded from x-amzn-RequestId")
					}
				})
			}
		})
	}
}

// TestSDKInternalErrorNotRetried: KMSInternalException is HTTP 500 (D18),
// decodes to types.KMSInternalException, and with retries disabled the SDK
// sends the request once.
func TestSDKInternalErrorNotRetried(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t, kms.WithRandom(failingReader{}))
			hc, endpoint := tr.client(t, f)
			c := sdkClient(hc, endpoint, accessKey, region)
			_, err := c.CreateKey(context.Background(), &awskms.CreateKeyInput{})
			var ie *types.KMSInternalException
			if !errors.As(err, &ie) {
				t.Fatalf("CreateKey with a failing randomness source: %v, want KMSInternalException", err)
			}
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
				t.Errorf("status: %v, want 500", err)
			}
			if n := f.requests.Load(); n != 1 {
				t.Errorf("handler saw %d requests, want 1 (no retry)", n)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

type staticCreds string

func (s staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: string(s), SecretAccessKey: "x", Source: "test"}, nil
}

// TestConcurrentClients: eight SDK clients share one handler (and its
// pooled buffers) in process; every answer is the right one. Run with
// -race.
func TestConcurrentClients(t *testing.T) {
	f := newFixture(t)
	c := sdkClient(&http.Client{Transport: kmshttp.Transport{Handler: f.handler}}, "http://kms.test", accessKey, region)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				desc := fmt.Sprintf("worker %d key %d %s", w, i, strings.Repeat("x", i*40))
				ck, err := c.CreateKey(ctx, &awskms.CreateKeyInput{Description: aws.String(desc)})
				if err != nil {
					errs <- err
					return
				}
				dk, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: ck.KeyMetadata.KeyId})
				if err != nil || aws.ToString(dk.KeyMetadata.Description) != desc {
					errs <- fmt.Errorf("DescribeKey: %v, %v", dk, err)
					return
				}
				if _, err := c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: ck.KeyMetadata.KeyId}); err != nil {
					errs <- err
					return
				}
				if err := describe(c, "nope"); err == nil || !strings.Contains(err.Error(), "Invalid keyId 'nope'") {
					errs <- fmt.Errorf("DescribeKey(nope): %v", err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	lk, err := c.ListKeys(ctx, &awskms.ListKeysInput{Limit: aws.Int32(1000)})
	if err != nil || len(lk.Keys) != 200 {
		t.Errorf("ListKeys: %d keys, %v; want 200", len(lk.Keys), err)
	}
}

// TestSDKCrypto drives the cryptographic operations with the AWS SDK over
// both transports: blobs travel base64-encoded, encryption contexts as
// maps, and ciphertexts made before a rotation still decrypt.
func TestSDKCrypto(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t)
			hc, endpoint := tr.client(t, f)
			c := sdkClient(hc, endpoint, accessKey, region)
			ctx := context.Background()
			ck, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			id, arn := ck.KeyMetadata.KeyId, aws.ToString(ck.KeyMetadata.Arn)
			ec := map[string]string{"order": "42", "note": "caf\u00e9"}
			plaintext := []byte("attack at dawn \x00\xff")
			enc, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: id, Plaintext: plaintext, EncryptionContext: ec})
			if err != nil || aws.ToString(enc.KeyId) != arn || enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault || len(enc.CiphertextBlob) == 0 {
				t.Fatalf("Encrypt = %+v, %v", enc, err)
			}
			f.clock.Advance(time.Hour)
			if _, err := c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: id}); err != nil {
				t.Fatal(err)
			}
			dec, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
			if err != nil || string(dec.Plaintext) != string(plaintext) || aws.ToString(dec.KeyId) != arn {
				t.Fatalf("Decrypt = %+v, %v", dec, err)
			}
			other, err := c.CreateKey(ctx, &awskms.CreateKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/other"), TargetKeyId: other.KeyMetadata.KeyId}); err != nil {
				t.Fatal(err)
			}
			re, err := c.ReEncrypt(ctx, &awskms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ec,
				DestinationKeyId: aws.String("alias/other")})
			if err != nil || aws.ToString(re.KeyId) != aws.ToString(other.KeyMetadata.Arn) || aws.ToString(re.SourceKeyId) != arn {
				t.Fatalf("ReEncrypt = %+v, %v", re, err)
			}
			dec, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: re.CiphertextBlob})
			if err != nil || string(dec.Plaintext) != string(plaintext) {
				t.Fatalf("Decrypt after ReEncrypt = %+v, %v", dec, err)
			}
			dk, err := c.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: id, KeySpec: types.DataKeySpecAes128})
			if err != nil || len(dk.Plaintext) != 16 || aws.ToString(dk.KeyId) != arn {
				t.Fatalf("GenerateDataKey = %+v, %v", dk, err)
			}
			dec, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, KeyId: id})
			if err != nil || string(dec.Plaintext) != string(dk.Plaintext) {
				t.Fatalf("Decrypt of the data key = %v", err)
			}
			dkw, err := c.GenerateDataKeyWithoutPlaintext(ctx, &awskms.GenerateDataKeyWithoutPlaintextInput{KeyId: id, NumberOfBytes: aws.Int32(64)})
			if err != nil || len(dkw.CiphertextBlob) == 0 {
				t.Fatalf("GenerateDataKeyWithoutPlaintext = %+v, %v", dkw, err)
			}
			dec, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: dkw.CiphertextBlob})
			if err != nil || len(dec.Plaintext) != 64 {
				t.Fatalf("Decrypt of the data key without plaintext = %v", err)
			}
			rnd, err := c.GenerateRandom(ctx, &awskms.GenerateRandomInput{NumberOfBytes: aws.Int32(32)})
			if err != nil || len(rnd.Plaintext) != 32 {
				t.Fatalf("GenerateRandom = %+v, %v", rnd, err)
			}
		})
	}
}
