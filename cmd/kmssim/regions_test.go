package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
)

// regionClient is client (main_test.go) configured for Region reg.
func regionClient(addr, reg string) *awskms.Client {
	return awskms.New(awskms.Options{
		Region:       reg,
		BaseEndpoint: aws.String("http://" + addr),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "x", ""),
		Retryer:      aws.NopRetryer{},
	})
}

// TestServeAllowRegion (issue 12, item 9): serve answers in the AWS
// Regions and in those named with --allow-region, and refuses a credential
// scoped to any other name; --allow-region wants a Region name.
func TestServeAllowRegion(t *testing.T) {
	code, out, errOut := runCmd(t, "serve", "--allow-region", "Mars")
	if want := `invalid value "Mars" for flag -allow-region: want a Region name such as us-east-1`; code != exitUsage || !strings.Contains(errOut, want) || out != "" {
		t.Errorf("--allow-region Mars: exit %d, stderr %q (want %q), stdout %q", code, errOut, want, out)
	}

	addr, stop, logs := startServe(t, "--mem", "--allow-region", "zz-flagged-1", "--allow-region", "zz-flagged-2")
	ctx := context.Background()
	for _, reg := range []string{"eu-west-1", "zz-flagged-1", "zz-flagged-2"} {
		ck, err := regionClient(addr, reg).CreateKey(ctx, &awskms.CreateKeyInput{})
		if err != nil {
			t.Fatalf("CreateKey in %s: %v", reg, err)
		}
		if arn := aws.ToString(ck.KeyMetadata.Arn); !strings.HasPrefix(arn, "arn:aws:kms:"+reg+":") {
			t.Errorf("CreateKey in %s: Arn %s", reg, arn)
		}
	}
	_, err := regionClient(addr, "zz-made-up-1").ListKeys(ctx, &awskms.ListKeysInput{})
	if err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") {
		t.Errorf("ListKeys in zz-made-up-1: %v, want InvalidSignatureException", err)
	}
	if code := stop(); code != exitOK {
		t.Errorf("exit %d: %s", code, logs)
	}
}
