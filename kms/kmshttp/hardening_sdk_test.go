package kmshttp_test

// Regression tests of issue 12 ("Hardening") over the wire.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsmodel/kmsmodel/kms"
)

// Decision D23 through the real AWS SDK: TagResource with Tags: [] is a
// no-op that succeeds on an existing key and is NotFoundException for an
// unknown one. Tags is required in the API model, so an absent or null
// member is still ValidationException "Value null at 'tags'".
func TestSDKDecisionD23TagResourceEmptyTags(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t)
			hc, endpoint := tr.client(t, f)
			c := sdkClient(hc, endpoint, accessKey, region)
			ctx := context.Background()
			ck, err := c.CreateKey(ctx, &awskms.CreateKeyInput{
				Tags: []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("payments")}},
			})
			if err != nil {
				t.Fatalf("CreateKey: %v", err)
			}
			id := aws.ToString(ck.KeyMetadata.KeyId)
			if _, err := c.TagResource(ctx, &awskms.TagResourceInput{KeyId: aws.String(id), Tags: []types.Tag{}}); err != nil {
				t.Fatalf("TagResource with Tags []: %v", err)
			}
			lt, err := c.ListResourceTags(ctx, &awskms.ListResourceTagsInput{KeyId: aws.String(id)})
			if err != nil || len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].TagKey) != "team" {
				t.Fatalf("tags after an empty TagResource: %+v, %v", lt, err)
			}
			missing := "0bad0bad-0bad-4bad-8bad-0bad0bad0bad"
			_, err = c.TagResource(ctx, &awskms.TagResourceInput{KeyId: aws.String(missing), Tags: []types.Tag{}})
			code, msg := as[*types.NotFoundException]()(t, err)
			if want := "Key 'arn:aws:kms:" + region + ":" + account + ":key/" + missing + "' does not exist"; code != "NotFoundException" || msg != want {
				t.Errorf("unknown key, Tags []: %s %q, want NotFoundException %q", code, msg, want)
			}
		})
	}
	// Absent or null Tags: the SDK refuses nil before sending, so raw
	// requests.
	f := newFixture(t)
	id := postOK(t, f.handler, "TrentService.CreateKey", `{}`)["KeyMetadata"].(map[string]any)["KeyId"].(string)
	for _, body := range []string{`{"KeyId":"` + id + `"}`, `{"KeyId":"` + id + `","Tags":null}`} {
		status, hdr, b := post(t, f.handler, "TrentService.TagResource", body)
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s: %v: %s", body, err, b)
		}
		const want = "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"
		if status != http.StatusBadRequest || e.Type != "ValidationException" || hdr.Get("X-Amzn-Errortype") != "ValidationException" || e.Message != want {
			t.Errorf("%s: %d %s %q, want 400 ValidationException %q", body, status, e.Type, e.Message, want)
		}
	}
	postOK(t, f.handler, "TrentService.TagResource", `{"KeyId":"`+id+`","Tags":[]}`)
}

// Issue 12, item 9, over the wire: one caller signs many reads for made-up
// Regions; another account's CreateKey in a real Region still succeeds.
// The made-up Regions are refused (InvalidSignatureException, as for a
// name that is not a Region), a Region named with kms.WithRegions is
// served, and reads leave Regions without state unserved.
func TestSDKRegionsMadeUpReads(t *testing.T) {
	f := newFixture(t, kms.WithRegions("zz-flagged-1"))
	var answers []string
	for i := range 300 {
		name := fmt.Sprintf("zz-made-up-%d", i)
		status, hdr, b := post(t, f.handler, "TrentService.ListKeys", `{}`, "Authorization", sigV4(otherKey, name, "kms"))
		answers = append(answers, fmt.Sprintf("%d %s %s", status, hdr.Get("X-Amzn-Errortype"), b))
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			hc, endpoint := tr.client(t, f)
			ctx := context.Background()
			ck, err := sdkClient(hc, endpoint, accessKey, "eu-west-1").CreateKey(ctx, &awskms.CreateKeyInput{})
			if err != nil {
				t.Fatalf("CreateKey in eu-west-1 after the made-up reads: %v", err)
			}
			if arn := aws.ToString(ck.KeyMetadata.Arn); arn != "arn:aws:kms:eu-west-1:"+account+":key/"+aws.ToString(ck.KeyMetadata.KeyId) {
				t.Errorf("Arn %s", arn)
			}
			_, err = sdkClient(hc, endpoint, otherKey, "zz-made-up-1").ListKeys(ctx, &awskms.ListKeysInput{})
			if code, msg := generic("InvalidSignatureException")(t, err); msg != "Credential should be scoped to a valid region, not 'zz-made-up-1'." {
				t.Errorf("ListKeys in zz-made-up-1: %s %q", code, msg)
			}
			// Reads in the flagged Region answer as in an empty one.
			flagged := sdkClient(hc, endpoint, otherKey, "zz-flagged-1")
			if lk, err := flagged.ListKeys(ctx, &awskms.ListKeysInput{}); err != nil || len(lk.Keys) != 0 {
				t.Fatalf("ListKeys in zz-flagged-1: %+v, %v", lk, err)
			}
			_, err = flagged.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: ck.KeyMetadata.KeyId})
			as[*types.NotFoundException]()(t, err)
		})
	}
	for i, got := range answers {
		want := fmt.Sprintf(`400 InvalidSignatureException {"__type":"InvalidSignatureException","message":"Credential should be scoped to a valid region, not 'zz-made-up-%d'."}`, i)
		if got != want {
			t.Fatalf("ListKeys signed for zz-made-up-%d: %s, want %s", i, got, want)
		}
	}
	if got := f.svc.Regions(); !slices.Equal(got, []string{region, "eu-west-1"}) {
		t.Fatalf("Regions() = %v", got)
	}
	// The flagged Region takes a key.
	hc, endpoint := transports[0].client(t, f)
	c := sdkClient(hc, endpoint, otherKey, "zz-flagged-1")
	ck, err := c.CreateKey(context.Background(), &awskms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey in zz-flagged-1: %v", err)
	}
	if arn := aws.ToString(ck.KeyMetadata.Arn); arn != "arn:aws:kms:zz-flagged-1:"+otherAccount+":key/"+aws.ToString(ck.KeyMetadata.KeyId) {
		t.Errorf("Arn %s", arn)
	}
}
