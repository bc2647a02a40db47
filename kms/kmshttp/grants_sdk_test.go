package kmshttp_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// grantToken gives the account's root a grant for ops on key (with c, a
// client of the key's account) and returns its token.
func grantToken(t *testing.T, c *awskms.Client, key string, ops ...types.GrantOperation) string {
	t.Helper()
	g, err := c.CreateGrant(context.Background(), &awskms.CreateGrantInput{KeyId: aws.String(key),
		GranteePrincipal: aws.String("arn:aws:iam::" + account + ":root"), Operations: ops})
	if err != nil {
		t.Fatalf("CreateGrant: %v", err)
	}
	return aws.ToString(g.GrantToken)
}
