package kms_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store"
)

// D79: the nodes of a cluster share GetKeyLastUsage's records. AWS does
// not say how soon a use reaches GetKeyLastUsage (spec
// aws-kms-asymmetric-hmac.md §10: "Propagation delay … UNCONFIRMED", open
// question 13), so sharing is eventual; here the test hands the uses
// over itself. A use on
// one node, taken from it (TakeKeyUses) and merged into another
// (MergeKeyUses), makes the other answer GetKeyLastUsage with the same
// operation, instant and IDs, and decide kms:TrailingDaysWithoutKeyUsage
// (D74) by it; an older use replaces nothing; what was merged is not
// handed back; a deleted key is handed out as Gone; TrackingStartDate
// is the cluster's (WithTrackingStart), not each node's start.
func TestDecisionD79KeyUsageSharing(t *testing.T) {
	st := store.NewSharedMemory()
	nodes, clocks := clNodes(t, st, 2, kms.WithKeyUsageSharing(), kms.WithTrackingStart(clStart))
	a, b := nodes[0], nodes[1]
	ctx := kms.WithPrincipal(context.Background(), pzRoot)
	doc := idRootAnd(`{"Effect":"Deny","Principal":"*","Action":["kms:DisableKey","kms:ScheduleKeyDeletion"],"Resource":"*",
	  "Condition":{"NumericLessThanEquals":{"kms:TrailingDaysWithoutKeyUsage":"30"}}}`)
	out, err := a.CreateKey(ctx, &kms.CreateKeyInput{Policy: doc})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := out.KeyMetadata.KeyId, out.KeyMetadata.Arn
	advance := func(d time.Duration) {
		t.Helper()
		for _, c := range clocks {
			if _, err := c.Advance(d); err != nil {
				t.Fatal(err)
			}
		}
	}
	lastUsage := func(svc *kms.Service) *kms.GetKeyLastUsageOutput {
		t.Helper()
		out, err := svc.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	advance(60 * 24 * time.Hour)
	if _, err := a.Encrypt(kms.WithRequestID(ctx, "request-1"), &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	if got := lastUsage(b); got.KeyLastUsage.Operation != "" {
		t.Fatalf("b knows a's use before it was handed over: %+v", got.KeyLastUsage)
	}
	uses := a.TakeKeyUses(nil)
	if len(uses) != 1 || uses[0].KeyArn != arn || uses[0].Operation != "Encrypt" || !uses[0].At.Equal(clocks[0].Now()) ||
		uses[0].RequestID != "request-1" || uses[0].EventID == "" || uses[0].Gone {
		t.Fatalf("TakeKeyUses = %+v, want a's Encrypt of %s", uses, arn)
	}
	if again := a.TakeKeyUses(nil); len(again) != 0 {
		t.Fatalf("a second TakeKeyUses = %+v, want nothing new", again)
	}
	if n, err := b.MergeKeyUses(ctx, uses); n != 1 || err != nil {
		t.Fatalf("MergeKeyUses = %d, %v; want 1", n, err)
	}
	if got, want := lastUsage(b), lastUsage(a); !reflect.DeepEqual(got, want) {
		t.Fatalf("b answers %+v, a %+v", got, want)
	}
	if got := b.TakeKeyUses(nil); len(got) != 0 {
		t.Fatalf("b hands back what it merged: %+v", got)
	}
	// D74 on b, by a's use: used today, 60 days after the key's creation.
	_, err = b.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
	pzDenied(t, err, pzRoot, "kms:DisableKey", arn, true)

	// An older use replaces nothing; neither do entries that name no key
	// of the node or no operation, nor Gone entries.
	older := uses[0]
	older.At, older.Operation, older.RequestID = older.At.Add(-time.Hour), "Decrypt", "request-0"
	foreign := uses[0]
	foreign.KeyArn = "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000"
	badOp := uses[0]
	badOp.At, badOp.Operation = badOp.At.Add(time.Hour), "DescribeKey"
	gone := kms.KeyUse{KeyArn: arn, Gone: true}
	otherAccount := uses[0] // the key's ID in another account's ARN
	otherAccount.KeyArn, otherAccount.At = strings.Replace(arn, ":111122223333:", ":444455556666:", 1), otherAccount.At.Add(time.Hour)
	if n, err := b.MergeKeyUses(ctx, []kms.KeyUse{older, foreign, badOp, gone, otherAccount}); n != 0 || err != nil {
		t.Fatalf("MergeKeyUses of nothing newer = %d, %v; want 0", n, err)
	}
	if got := lastUsage(b); got.KeyLastUsage.Operation != "Encrypt" || got.KeyLastUsage.KmsRequestId != "request-1" {
		t.Fatalf("an older use replaced the newer: %+v", got.KeyLastUsage)
	}

	// Uses at one instant are ordered by request ID, then operation and
	// event ID, not by the order calls or merges came in: b keeps a
	// merged use over its own call at the same instant with a lower
	// request ID, and does not hand its own out; and two nodes that merge
	// the same two uses in either order keep the same one.
	now := clocks[1].Now()
	merged := kms.KeyUse{KeyArn: arn, Operation: "Decrypt", At: now, RequestID: "request-5", EventID: "event-5"}
	if n, err := b.MergeKeyUses(ctx, []kms.KeyUse{merged}); n != 1 || err != nil {
		t.Fatalf("MergeKeyUses = %d, %v; want 1", n, err)
	}
	if _, err := b.Encrypt(kms.WithRequestID(ctx, "request-4"), &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	if got := lastUsage(b); got.KeyLastUsage.KmsRequestId != "request-5" {
		t.Fatalf("b's own use with a lower request ID replaced the merged one: %+v", got.KeyLastUsage)
	}
	if got := b.TakeKeyUses(nil); len(got) != 0 {
		t.Fatalf("b hands out its own use that lost: %+v", got)
	}
	if _, err := b.Encrypt(kms.WithRequestID(ctx, "request-6"), &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	if got := b.TakeKeyUses(nil); len(got) != 1 || got[0].RequestID != "request-6" {
		t.Fatalf("b's own later use: TakeKeyUses = %+v", got)
	}
	x := kms.KeyUse{KeyArn: arn, Operation: "Sign", At: now.Add(time.Minute), RequestID: "request-7", EventID: "event-x"}
	y := x
	y.Operation = "Verify"
	mergeBothOrders(t, a, b, x, y)
	if ga, gb := lastUsage(a), lastUsage(b); !reflect.DeepEqual(ga, gb) || ga.KeyLastUsage.Operation != "Verify" {
		t.Fatalf("the same two uses merged in two orders: a %+v, b %+v", ga.KeyLastUsage, gb.KeyLastUsage)
	}

	// A later use on b travels back to a, with b's made-up IDs.
	advance(time.Hour)
	if _, err := b.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: id, NumberOfBytes: kms.Int32(32)}); err != nil {
		t.Fatal(err)
	}
	back := b.TakeKeyUses(nil)
	if len(back) != 1 || back[0].Operation != "GenerateDataKey" || back[0].RequestID == "" {
		t.Fatalf("b's TakeKeyUses = %+v", back)
	}
	if n, err := a.MergeKeyUses(ctx, back); n != 1 || err != nil {
		t.Fatalf("MergeKeyUses = %d, %v; want 1", n, err)
	}
	if got, want := lastUsage(a), lastUsage(b); !reflect.DeepEqual(got, want) || got.KeyLastUsage.Operation != "GenerateDataKey" {
		t.Fatalf("a answers %+v, b %+v", got, want)
	}

	// Deleted: each node that held a use hands the key out as Gone.
	advance(31 * 24 * time.Hour)
	if _, err := a.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	advance(8 * 24 * time.Hour)
	for i, n := range nodes {
		n.Sweep()
		if _, err := n.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}); err == nil {
			t.Fatalf("node %d still has the key", i)
		}
		if got := n.TakeKeyUses(nil); len(got) != 1 || got[0].KeyArn != arn || !got[0].Gone || got[0].Operation != "GenerateDataKey" ||
			got[0].RequestID != back[0].RequestID {
			t.Fatalf("node %d's TakeKeyUses after the deletion = %+v, want %s Gone with its last use, %+v", i, got, arn, back[0])
		}
	}

	// TrackingStartDate: a node started after a key's creation reports
	// the cluster's, not its own start (which it would without the
	// option: D31).
	other := clCreate(t, a, &kms.CreateKeyInput{})
	advance(time.Hour)
	for _, shared := range []bool{true, false} {
		opts := []kms.Option{kms.WithKeyUsageSharing()}
		if shared {
			opts = append(opts, kms.WithTrackingStart(clStart))
		}
		late, lateClocks := clNodes(t, st, 1, opts...)
		if _, err := lateClocks[0].Advance(clocks[0].Now().Sub(clStart)); err != nil {
			t.Fatal(err)
		}
		got, err := late[0].GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: other})
		if err != nil {
			t.Fatal(err)
		}
		if got.TrackingStartDate.Equal(got.KeyCreationDate) != shared {
			t.Fatalf("WithTrackingStart %v: TrackingStartDate %v, created %v", shared, got.TrackingStartDate, got.KeyCreationDate)
		}
	}

	// Without WithKeyUsageSharing nothing is noted.
	plain, _ := clNodes(t, st, 1)
	if _, err := plain[0].Encrypt(ctx, &kms.EncryptInput{KeyId: other, Plaintext: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	if got := plain[0].TakeKeyUses(nil); len(got) != 0 {
		t.Fatalf("TakeKeyUses without WithKeyUsageSharing = %+v", got)
	}
}

// D79 when a multi-Region replica is deleted and made again under its
// ARN (each key of a multi-Region key tracks its own uses, spec
// aws-kms-asymmetric-hmac.md §10 "Multi-Region"; a replica made again is
// a new key): a node that has not yet applied the deletion when the new
// replica's use reaches it takes the use for the new replica (it catches
// up first), so that every node ends with that use, and none hands it
// out as the deleted key's.
func TestDecisionD79ReplicaMadeAgain(t *testing.T) {
	const west = "us-west-2"
	st := store.NewSharedMemory()
	nodes, clocks := clNodes(t, st, 2, kms.WithKeyUsageSharing(), kms.WithTrackingStart(clStart))
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	inWest := kms.WithCallerRegion(ctx, west)
	id := clCreate(t, a, &kms.CreateKeyInput{MultiRegion: true})
	replicateAndUse := func(requestID string) { // on a
		t.Helper()
		if _, err := a.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: id, ReplicaRegion: west}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Encrypt(kms.WithRequestID(inWest, requestID), &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")}); err != nil {
			t.Fatal(err)
		}
	}
	replicateAndUse("old")
	if n, err := b.MergeKeyUses(ctx, a.TakeKeyUses(nil)); n != 1 || err != nil {
		t.Fatalf("MergeKeyUses of the first replica's use = %d, %v", n, err)
	}
	if _, err := a.ScheduleKeyDeletion(inWest, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := clocks[0].Advance(8 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	a.Sweep()
	replicateAndUse("new")
	// b has made no call since: it still holds the first replica.
	if n, err := b.MergeKeyUses(ctx, a.TakeKeyUses(nil)); n != 1 || err != nil {
		t.Fatalf("MergeKeyUses of the new replica's use = %d, %v; want 1", n, err)
	}
	for _, u := range b.TakeKeyUses(nil) {
		if u.RequestID == "new" {
			t.Fatalf("b hands out the new replica's use as %+v", u)
		}
	}
	ga := ckMust(a.GetKeyLastUsage(inWest, &kms.GetKeyLastUsageInput{KeyId: id}))(t)
	gb := ckMust(b.GetKeyLastUsage(inWest, &kms.GetKeyLastUsageInput{KeyId: id}))(t)
	if ga.KeyLastUsage.KmsRequestId != "new" || !reflect.DeepEqual(ga, gb) {
		t.Fatalf("a reports %+v, b %+v; want the new replica's use on both", ga.KeyLastUsage, gb.KeyLastUsage)
	}
	// A use from before a key's creation (a former key's of its ARN)
	// is not the key's.
	early := kms.KeyUse{KeyArn: ga.KeyId, Operation: "Decrypt", At: ga.KeyCreationDate.Add(-time.Second), RequestID: "zzz", EventID: "e"}
	if n, err := b.MergeKeyUses(ctx, []kms.KeyUse{early}); n != 0 || err != nil {
		t.Fatalf("MergeKeyUses of a use before the key's creation = %d, %v; want 0", n, err)
	}
}

// D79: MergeKeyUses knows a key another node just made (it catches up
// with the cluster first), and uses equal but for their event IDs end
// the same on every node, whatever the order they arrive in.
func TestDecisionD79MergeOrder(t *testing.T) {
	st := store.NewSharedMemory()
	nodes, _ := clNodes(t, st, 2, kms.WithKeyUsageSharing(), kms.WithTrackingStart(clStart))
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	id := clCreate(t, a, &kms.CreateKeyInput{})
	if _, err := a.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	uses := a.TakeKeyUses(nil)
	if n, err := b.MergeKeyUses(ctx, uses); n != 1 || err != nil { // b has not seen the key yet
		t.Fatalf("MergeKeyUses of a key b has not seen yet = %d, %v; want 1", n, err)
	}
	x := uses[0]
	x.At, x.RequestID, x.EventID = x.At.Add(time.Minute), "r", "event-1"
	y := x
	y.EventID = "event-2"
	mergeBothOrders(t, a, b, x, y)
	for i, n := range nodes {
		if out := ckMust(n.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: id}))(t); out.KeyLastUsage.CloudTrailEventId != "event-2" {
			t.Errorf("node %d keeps %+v, want event-2's", i, out.KeyLastUsage)
		}
	}
}

// mergeBothOrders merges x then y into a, and y then x into b.
func mergeBothOrders(t *testing.T, a, b *kms.Service, x, y kms.KeyUse) {
	t.Helper()
	for _, m := range []struct {
		into *kms.Service
		use  kms.KeyUse
	}{{a, x}, {a, y}, {b, y}, {b, x}} {
		if _, err := m.into.MergeKeyUses(context.Background(), []kms.KeyUse{m.use}); err != nil {
			t.Fatal(err)
		}
	}
}
