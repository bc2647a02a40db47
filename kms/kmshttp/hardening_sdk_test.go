package kmshttp_test

// Regression tests of issue 12 ("Hardening") over the wire.

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
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
