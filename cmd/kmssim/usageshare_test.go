package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	smithy "github.com/aws/smithy-go"

	"github.com/kmsmodel/kmsmodel/internal/etcdtest"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store/etcdstore"
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
	etcd, err := etcdstore.Dial(etcdstore.Options{Endpoints: cl.Endpoints()})
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
// then request ID, operation and event ID, whichever node wrote it; lies
// below usageBound, which lies below every later use's; and decodes to
// the use and node it encodes.
func TestUsageValueOrder(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	uses := []kms.KeyUse{
		{At: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), RequestID: "z"},
		{At: time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), RequestID: "z"},
		{At: base, RequestID: ""},
		{At: base, RequestID: "a"},
		{At: base, RequestID: "ab"},
		{At: base, RequestID: "b"},
		{At: base, RequestID: "c", Operation: "Decrypt", EventID: "ev"},
		{At: base, RequestID: "c", Operation: "Encrypt", EventID: "a"},
		{At: base, RequestID: "c", Operation: "Encrypt", EventID: "ev"},
		{At: base, RequestID: "c", Operation: "Encrypt", EventID: "ev2"},
		{At: base.Add(time.Microsecond), RequestID: "a"},
		{At: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), RequestID: "a"},
	}
	// In kms.MergeKeyUses's order: instant, request ID, operation, event ID.
	for i := range uses {
		uses[i].KeyArn = "arn"
		if uses[i].Operation == "" {
			uses[i].Operation, uses[i].EventID = "Sign", "ev"
		}
		got, node, ok := parseUsage("arn", []byte(usageValue(uses[i], "n1")))
		if !ok || got != uses[i] || node != "n1" {
			t.Errorf("parseUsage(usageValue(%+v)) = %+v, %q, %v", uses[i], got, node, ok)
		}
		if i > 0 && usageValue(uses[i-1], "z") >= usageValue(uses[i], "a") {
			t.Errorf("%+v does not sort before %+v", uses[i-1], uses[i])
		}
		if b := usageBound(uses[i]); usageValue(uses[i], "zz") >= b || i > 0 && usageBound(uses[i-1]) >= usageValue(uses[i], "") {
			t.Errorf("usageBound(%+v) = %q does not lie between its records and later ones", uses[i], b)
		}
	}
}

// TestUsageShareWrite: a node's write keeps a key's record when it holds
// a later use (etcd compares the values), replaces it with a later one,
// writes a record that is missing, removes a deleted key's record, and
// splits many uses over transactions that members with a small
// --max-txn-ops accept (a nested transaction counts against the outer
// one's allowance).
func TestUsageShareWrite(t *testing.T) {
	const maxOps = 8
	cl := etcdtest.Start(t, etcdtest.Config{MaxTxnOps: maxOps})
	u, err := newUsageShare(&etcdstore.Options{Endpoints: cl.Endpoints(), Prefix: "w/", DialTimeout: 5 * time.Second, MaxTxnOps: maxOps}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer u.close()
	u.svc = kms.New(kms.WithKeyUsageSharing())
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	arn := func(i int) string {
		return fmt.Sprintf("arn:aws:kms:us-east-1:111122223333:key/%08d-0000-4000-8000-000000000000", i)
	}
	record := func(i int) (kms.KeyUse, bool) {
		t.Helper()
		resp, err := u.cli.Get(ctx, u.records+arn(i))
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) == 0 {
			return kms.KeyUse{}, false
		}
		use, _, ok := parseUsage(arn(i), resp.Kvs[0].Value)
		if !ok {
			t.Fatalf("record %d: %q", i, resp.Kvs[0].Value)
		}
		return use, true
	}
	write := func(uses ...kms.KeyUse) {
		t.Helper()
		for _, use := range uses {
			u.pending[use.KeyArn] = use
		}
		u.write(ctx)
		if len(u.pending) != 0 {
			t.Fatalf("%d uses left unwritten", len(u.pending))
		}
	}
	use := func(i int, requestID string) kms.KeyUse {
		return kms.KeyUse{KeyArn: arn(i), Operation: "Encrypt", At: at, RequestID: requestID, EventID: "e"}
	}
	var many []kms.KeyUse
	for i := range 20 {
		many = append(many, use(i, "r-2"))
	}
	write(many...)
	for i := range 20 {
		if got, ok := record(i); !ok || got != many[i] {
			t.Fatalf("record %d = %+v, %v; want %+v", i, got, ok, many[i])
		}
	}
	gone := func(u kms.KeyUse) kms.KeyUse { u.Gone = true; return u }
	write(use(0, "r-1"), use(1, "r-3"), gone(use(2, "r-2")), gone(use(3, "r-1")))
	if got, _ := record(0); got.RequestID != "r-2" {
		t.Errorf("an earlier use replaced the record: %+v", got)
	}
	if got, _ := record(1); got.RequestID != "r-3" {
		t.Errorf("a later use did not replace the record: %+v", got)
	}
	if got, ok := record(2); ok {
		t.Errorf("a deleted key's record stayed: %+v", got)
	}
	if got, ok := record(3); !ok || got.RequestID != "r-2" {
		t.Errorf("a deletion of a key whose record holds a later use (a key created again) removed it: %+v, %v", got, ok)
	}
}
