package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	smithy "github.com/aws/smithy-go"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/kmsmodel/kmsmodel/internal/etcdtest"
	"github.com/kmsmodel/kmsmodel/kms"
)

// TestServeEtcdKeyUsage: the nodes of a cluster share GetKeyLastUsage's
// records (D79). A use on node a reaches node b, which then answers
// GetKeyLastUsage as a does (operation, instant, IDs, one
// TrackingStartDate) and decides kms:TrailingDaysWithoutKeyUsage (D74)
// by it; a node started later knows the use at once; a deleted key's
// record leaves etcd.
func TestServeEtcdKeyUsage(t *testing.T) {
	cl := etcdtest.Start(t, etcdtest.Config{})
	args := []string{"--etcd", strings.Join(cl.Endpoints(), ","), "--etcd-prefix", "u/", "--wrapping-key-file", wrappingKeyFile(t),
		"--clock", "manual", "--start", "2026-01-01T00:00:00Z", "--share-key-usage", "--usage-share-every", "5ms"}
	addrA, stopA, _ := startServe(t, args...)
	defer stopA()
	addrB, stopB, _ := startServe(t, args...)
	defer stopB()
	ctx := context.Background()
	a, b := client(addrA, "AKIDA"), client(addrB, "AKIDB")
	policy := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},` +
		`{"Effect":"Deny","Principal":"*","Action":["kms:DisableKey","kms:ScheduleKeyDeletion"],"Resource":"*",` +
		`"Condition":{"NumericLessThanEquals":{"kms:TrailingDaysWithoutKeyUsage":"30"}}}]}`
	ck, err := a.CreateKey(ctx, &awskms.CreateKeyInput{Policy: aws.String(policy)})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := *ck.KeyMetadata.KeyId, *ck.KeyMetadata.Arn
	clockCall(t, addrA, "KmsModel.AdvanceClock", `{"Seconds":5184000}`) // 60 days
	if _, err := a.Encrypt(ctx, &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	lastUsage := func(c *awskms.Client) *awskms.GetKeyLastUsageOutput {
		t.Helper()
		out, err := c.GetKeyLastUsage(ctx, &awskms.GetKeyLastUsageInput{KeyId: &id})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := lastUsage(a)
	if want.KeyLastUsage == nil || want.KeyLastUsage.Operation != types.KeyLastUsageTrackingOperationEncrypt {
		t.Fatalf("a's own use: %+v", want.KeyLastUsage)
	}
	same := func(got *awskms.GetKeyLastUsageOutput) bool {
		g, w := got.KeyLastUsage, want.KeyLastUsage
		return g != nil && g.Operation == w.Operation && g.Timestamp != nil && g.Timestamp.Equal(*w.Timestamp) &&
			aws.ToString(g.KmsRequestId) == aws.ToString(w.KmsRequestId) &&
			aws.ToString(g.CloudTrailEventId) == aws.ToString(w.CloudTrailEventId) &&
			got.TrackingStartDate.Equal(*want.TrackingStartDate)
	}
	deadline := time.Now().Add(20 * time.Second)
	for got := lastUsage(b); !same(got); got = lastUsage(b) {
		if time.Now().After(deadline) {
			t.Fatalf("node b answers %+v (tracking %v), a %+v (tracking %v)", got.KeyLastUsage, got.TrackingStartDate, want.KeyLastUsage, want.TrackingStartDate)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// D74 on b, by a's use.
	_, err = b.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: &id})
	var denied smithy.APIError
	if !errors.As(err, &denied) || denied.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("DisableKey on b of a key used today on a: %v, want AccessDeniedException", err)
	}
	// A node started now knows the use, and the tracking start, at once.
	addrC, stopC, _ := startServe(t, args...)
	defer stopC()
	if got := lastUsage(client(addrC, "AKIDC")); !same(got) {
		t.Fatalf("node c, started later, answers %+v (tracking %v)", got.KeyLastUsage, got.TrackingStartDate)
	}

	// Deleted: the key's record leaves etcd.
	etcd, err := clientv3.New(clientv3.Config{Endpoints: cl.Endpoints(), Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	record := "u/" + usageDir + "k/" + arn
	if resp, err := etcd.Get(ctx, record); err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("the key's record %s: %v, %v", record, resp, err)
	}
	clockCall(t, addrA, "KmsModel.AdvanceClock", `{"Seconds":2678400}`) // 31 days
	if _, err := b.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: &id, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	clockCall(t, addrA, "KmsModel.AdvanceClock", `{"Seconds":691200}`) // 8 days
	deadline = time.Now().Add(20 * time.Second)
	for {
		resp, err := etcd.Get(ctx, record)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deleted key's record is still in etcd: %q", resp.Kvs[0].Value)
		}
		if _, err := a.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: &id}); err == nil {
			t.Fatal("the key outlived its deletion date")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestUsageValueOrder: a record's value compares, as bytes (etcd's
// comparison of values), as kms.MergeKeyUses compares uses: by instant,
// then request ID; and decodes to the use it encodes.
func TestUsageValueOrder(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	uses := []kms.KeyUse{
		{At: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), RequestID: "z"},
		{At: time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), RequestID: "z"},
		{At: base, RequestID: ""},
		{At: base, RequestID: "a"},
		{At: base, RequestID: "ab"},
		{At: base, RequestID: "b"},
		{At: base.Add(time.Microsecond), RequestID: "a"},
		{At: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), RequestID: "a"},
	}
	for i := range uses {
		uses[i].KeyArn, uses[i].Operation, uses[i].EventID = "arn", "Sign", "ev"
		got, node, ok := parseUsage("arn", []byte(usageValue(uses[i], "n1")))
		if !ok || got != uses[i] || node != "n1" {
			t.Errorf("parseUsage(usageValue(%+v)) = %+v, %q, %v", uses[i], got, node, ok)
		}
		if i > 0 && usageValue(uses[i-1], "z") >= usageValue(uses[i], "a") {
			t.Errorf("%+v does not sort before %+v", uses[i-1], uses[i])
		}
	}
}
