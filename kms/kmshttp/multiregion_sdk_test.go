package kmshttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
)

const westRegion = "us-west-2"

// TestSDKMultiRegion drives multi-Region keys with two AWS SDK clients, one
// configured for us-east-1 and one for us-west-2, against one handler: the
// credential scope's Region is the Region of the call. It checks
// ReplicateKey and UpdatePrimaryRegion on the wire, the
// MultiRegionConfiguration the SDK decodes (recordings 8c, 8d), the
// replica's refusals (recording 3g, D8), the rotation settings and key
// material the primary shares with its replica (aws-kms-behaviour.md c.8),
// and a primary with a replica going PendingReplicaDeletion with no
// DeletionDate (section b).
func TestSDKMultiRegion(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t)
			hc, endpoint := tr.client(t, f)
			east := sdkClient(hc, endpoint, accessKey, region)
			west := sdkClient(hc, endpoint, accessKey, westRegion)
			ctx := context.Background()
			arnIn := func(reg, id string) string { return "arn:aws:kms:" + reg + ":" + account + ":key/" + id }

			// A multi-Region primary in us-east-1: PRIMARY, no replicas
			// yet (recording 8c: ReplicaKeys is []).
			ck, err := east.CreateKey(ctx, &awskms.CreateKeyInput{MultiRegion: aws.Bool(true), Description: aws.String("orders")})
			if err != nil {
				t.Fatalf("CreateKey MultiRegion: %v", err)
			}
			id := aws.ToString(ck.KeyMetadata.KeyId)
			eastARN, westARN := arnIn(region, id), arnIn(westRegion, id)
			if !strings.HasPrefix(id, "mrk-") || aws.ToString(ck.KeyMetadata.Arn) != eastARN || !aws.ToBool(ck.KeyMetadata.MultiRegion) {
				t.Fatalf("CreateKey metadata = %+v", *ck.KeyMetadata)
			}
			checkMRC(t, "primary before replication", ck.KeyMetadata.MultiRegionConfiguration,
				types.MultiRegionKeyTypePrimary, eastARN, region, nil)

			// ReplicateKey to us-west-2 (recording 8d): the replica is
			// Creating, has the same mrk- ID and an ARN in us-west-2.
			rk, err := east.ReplicateKey(ctx, &awskms.ReplicateKeyInput{KeyId: aws.String(id), ReplicaRegion: aws.String(westRegion),
				Description: aws.String("orders, west"), Policy: aws.String(rootPolicy(account)), BypassPolicyLockoutSafetyCheck: true,
				Tags: []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("payments")}}})
			if err != nil {
				t.Fatalf("ReplicateKey: %v", err)
			}
			rm := rk.ReplicaKeyMetadata
			if rm == nil || rm.KeyState != types.KeyStateCreating || rm.Enabled || aws.ToString(rm.KeyId) != id ||
				aws.ToString(rm.Arn) != westARN || aws.ToString(rm.Description) != "orders, west" || !aws.ToBool(rm.MultiRegion) {
				t.Fatalf("ReplicaKeyMetadata = %+v", rm)
			}
			if len(rk.ReplicaTags) != 1 || aws.ToString(rk.ReplicaTags[0].TagKey) != "team" || aws.ToString(rk.ReplicaTags[0].TagValue) != "payments" {
				t.Errorf("ReplicaTags = %+v", rk.ReplicaTags)
			}
			gp, err := west.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(id)})
			if err != nil || aws.ToString(rk.ReplicaPolicy) != aws.ToString(gp.Policy) || !strings.Contains(aws.ToString(gp.Policy), `"Sid" : "root"`) {
				t.Errorf("ReplicaPolicy = %q, GetKeyPolicy in %s = %+v, %v", aws.ToString(rk.ReplicaPolicy), westRegion, gp, err)
			}

			// DescribeKey from the us-west-2 client: the replica, Enabled
			// (the default creation duration is 0), REPLICA with its
			// primary in us-east-1.
			dk, err := west.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil {
				t.Fatalf("DescribeKey in %s: %v", westRegion, err)
			}
			if m := dk.KeyMetadata; aws.ToString(m.Arn) != westARN || m.KeyState != types.KeyStateEnabled {
				t.Errorf("replica metadata = %+v", *m)
			}
			checkMRC(t, "replica", dk.KeyMetadata.MultiRegionConfiguration, types.MultiRegionKeyTypeReplica, eastARN, region, []string{westARN})
			dk, err = east.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil {
				t.Fatalf("DescribeKey in %s: %v", region, err)
			}
			checkMRC(t, "primary after replication", dk.KeyMetadata.MultiRegionConfiguration, types.MultiRegionKeyTypePrimary, eastARN, region, []string{westARN})

			// Recording 1d': a bare ID is resolved in the caller's Region,
			// so a single-Region key of us-east-1 does not exist in
			// us-west-2.
			sk, err := east.CreateKey(ctx, &awskms.CreateKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			sid := aws.ToString(sk.KeyMetadata.KeyId)
			_, err = west.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(sid)})
			var nf *types.NotFoundException
			if !errors.As(err, &nf) || nf.ErrorMessage() != "Key '"+arnIn(westRegion, sid)+"' does not exist" {
				t.Errorf("DescribeKey of a %s key by bare ID from %s: %v, want NotFoundException (recording 1d')", region, westRegion, err)
			}
			if sk.KeyMetadata.MultiRegionConfiguration != nil {
				t.Errorf("single-Region key has a MultiRegionConfiguration (recording 8a)")
			}

			// Recording 3g: ReplicateKey on the replica.
			_, err = west.ReplicateKey(ctx, &awskms.ReplicateKeyInput{KeyId: aws.String(id), ReplicaRegion: aws.String("eu-west-1")})
			var uo *types.UnsupportedOperationException
			if !errors.As(err, &uo) || uo.ErrorMessage() != westARN+" is not a multi-region primary key." {
				t.Errorf("ReplicateKey on the replica: %v, want UnsupportedOperationException (recording 3g)", err)
			}
			// A second replica in the same Region.
			_, err = east.ReplicateKey(ctx, &awskms.ReplicateKeyInput{KeyId: aws.String(id), ReplicaRegion: aws.String(westRegion)})
			var ae *types.AlreadyExistsException
			if !errors.As(err, &ae) {
				t.Errorf("ReplicateKey to %s again: %v, want AlreadyExistsException", westRegion, err)
			}

			// D8: rotation is set on the primary only; the replica shares
			// it (c.8).
			_, err = west.EnableKeyRotation(ctx, &awskms.EnableKeyRotationInput{KeyId: aws.String(id)})
			if !errors.As(err, &uo) {
				t.Errorf("EnableKeyRotation on the replica: %v, want UnsupportedOperationException (D8)", err)
			}
			if _, err := east.EnableKeyRotation(ctx, &awskms.EnableKeyRotationInput{KeyId: aws.String(id), RotationPeriodInDays: aws.Int32(90)}); err != nil {
				t.Fatalf("EnableKeyRotation on the primary: %v", err)
			}
			st, err := west.GetKeyRotationStatus(ctx, &awskms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
			if err != nil || !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 90 || aws.ToString(st.KeyId) != westARN {
				t.Errorf("GetKeyRotationStatus on the replica = %+v, %v; want enabled, 90 days", st, err)
			}

			// The replica shares the primary's key material: a ciphertext
			// of us-east-1 decrypts in us-west-2.
			enc, err := east.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("attack at dawn"),
				EncryptionContext: map[string]string{"order": "42"}})
			if err != nil {
				t.Fatalf("Encrypt in %s: %v", region, err)
			}
			dec, err := west.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"order": "42"}})
			if err != nil || string(dec.Plaintext) != "attack at dawn" || aws.ToString(dec.KeyId) != westARN {
				t.Errorf("Decrypt in %s = %+v, %v", westRegion, dec, err)
			}

			// UpdatePrimaryRegion: us-west-2 becomes the primary (the
			// default update duration is 0).
			if _, err := east.UpdatePrimaryRegion(ctx, &awskms.UpdatePrimaryRegionInput{KeyId: aws.String(id), PrimaryRegion: aws.String(westRegion)}); err != nil {
				t.Fatalf("UpdatePrimaryRegion: %v", err)
			}
			dk, err = west.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil {
				t.Fatalf("DescribeKey after UpdatePrimaryRegion: %v", err)
			}
			if dk.KeyMetadata.KeyState != types.KeyStateEnabled {
				t.Errorf("new primary KeyState = %s, want Enabled", dk.KeyMetadata.KeyState)
			}
			checkMRC(t, "new primary", dk.KeyMetadata.MultiRegionConfiguration, types.MultiRegionKeyTypePrimary, westARN, westRegion, []string{eastARN})
			dk, err = east.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil {
				t.Fatalf("DescribeKey of the old primary: %v", err)
			}
			checkMRC(t, "old primary", dk.KeyMetadata.MultiRegionConfiguration, types.MultiRegionKeyTypeReplica, westARN, westRegion, []string{eastARN})

			// A primary with a replica waits in PendingReplicaDeletion: no
			// DeletionDate, the window kept (section b).
			sd, err := west.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)})
			if err != nil {
				t.Fatalf("ScheduleKeyDeletion on the primary: %v", err)
			}
			if sd.KeyState != types.KeyStatePendingReplicaDeletion || sd.DeletionDate != nil || aws.ToString(sd.KeyId) != westARN ||
				aws.ToInt32(sd.PendingWindowInDays) != 7 {
				t.Errorf("ScheduleKeyDeletion = %+v, want PendingReplicaDeletion, no DeletionDate, window 7", sd)
			}
			dk, err = west.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			if m := dk.KeyMetadata; m.KeyState != types.KeyStatePendingReplicaDeletion || m.DeletionDate != nil ||
				aws.ToInt32(m.PendingDeletionWindowInDays) != 7 {
				t.Errorf("primary pending replica deletion = %+v", *m)
			}
		})
	}
}

// checkMRC compares a decoded MultiRegionConfiguration with the expected
// role, primary and replica ARNs.
func checkMRC(t *testing.T, what string, c *types.MultiRegionConfiguration, typ types.MultiRegionKeyType, primaryARN, primaryRegion string, replicas []string) {
	t.Helper()
	if c == nil {
		t.Errorf("%s: no MultiRegionConfiguration", what)
		return
	}
	if c.MultiRegionKeyType != typ || c.PrimaryKey == nil || aws.ToString(c.PrimaryKey.Arn) != primaryARN ||
		aws.ToString(c.PrimaryKey.Region) != primaryRegion || len(c.ReplicaKeys) != len(replicas) {
		t.Errorf("%s: MultiRegionConfiguration = %s %+v %+v, want %s primary %s in %s, replicas %v",
			what, c.MultiRegionKeyType, c.PrimaryKey, c.ReplicaKeys, typ, primaryARN, primaryRegion, replicas)
		return
	}
	for i, r := range c.ReplicaKeys {
		if aws.ToString(r.Arn) != replicas[i] || !strings.Contains(replicas[i], ":"+aws.ToString(r.Region)+":") {
			t.Errorf("%s: replica %d = %s in %s, want %s", what, i, aws.ToString(r.Arn), aws.ToString(r.Region), replicas[i])
		}
	}
}

// TestSDKMultiRegionDurations: with WithReplicaCreationDuration and
// WithPrimaryUpdateDuration, a replica is Creating and an
// UpdatePrimaryRegion is Updating (both keys read as replicas) in
// simulated time, until the manual clock passes the duration
// (aws-kms-behaviour.md section b).
func TestSDKMultiRegionDurations(t *testing.T) {
	f := newFixture(t, kms.WithReplicaCreationDuration(5*time.Second), kms.WithPrimaryUpdateDuration(10*time.Second))
	hc, endpoint := transports[0].client(t, f)
	east := sdkClient(hc, endpoint, accessKey, region)
	west := sdkClient(hc, endpoint, accessKey, westRegion)
	ctx := context.Background()
	state := func(c *awskms.Client, id string) (types.KeyState, types.MultiRegionKeyType) {
		t.Helper()
		dk, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return dk.KeyMetadata.KeyState, dk.KeyMetadata.MultiRegionConfiguration.MultiRegionKeyType
	}

	ck, err := east.CreateKey(ctx, &awskms.CreateKeyInput{MultiRegion: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(ck.KeyMetadata.KeyId)
	if _, err := east.ReplicateKey(ctx, &awskms.ReplicateKeyInput{KeyId: aws.String(id), ReplicaRegion: aws.String(westRegion)}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5*time.Second - time.Millisecond)
	if st, _ := state(west, id); st != types.KeyStateCreating {
		t.Errorf("replica before the creation duration: %s, want Creating", st)
	}
	f.clock.Advance(time.Millisecond)
	if st, _ := state(west, id); st != types.KeyStateEnabled {
		t.Errorf("replica after the creation duration: %s, want Enabled", st)
	}

	if _, err := east.UpdatePrimaryRegion(ctx, &awskms.UpdatePrimaryRegionInput{KeyId: aws.String(id), PrimaryRegion: aws.String(westRegion)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*awskms.Client{east, west} {
		if st, typ := state(c, id); st != types.KeyStateUpdating || typ != types.MultiRegionKeyTypeReplica {
			t.Errorf("during UpdatePrimaryRegion: %s %s, want Updating REPLICA", st, typ)
		}
	}
	f.clock.Advance(10 * time.Second)
	if st, typ := state(west, id); st != types.KeyStateEnabled || typ != types.MultiRegionKeyTypePrimary {
		t.Errorf("new primary after the update: %s %s, want Enabled PRIMARY", st, typ)
	}
	if st, typ := state(east, id); st != types.KeyStateEnabled || typ != types.MultiRegionKeyTypeReplica {
		t.Errorf("old primary after the update: %s %s, want Enabled REPLICA", st, typ)
	}
}

// TestConcurrentRegions: SDK clients of four Regions share one handler
// concurrently; every call goes to its own client's Region (each key's ARN
// names it, each Region lists only its own keys). Run with -race.
func TestConcurrentRegions(t *testing.T) {
	f := newFixture(t)
	hc := &http.Client{Transport: kmshttp.Transport{Handler: f.handler}}
	regions := []string{region, westRegion, "eu-central-1", "us-gov-west-1"}
	const perRegion = 20
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, len(regions))
	for _, reg := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := sdkClient(hc, "http://kms.test", accessKey, reg)
			for i := 0; i < perRegion; i++ {
				ck, err := c.CreateKey(ctx, &awskms.CreateKeyInput{MultiRegion: aws.Bool(i%2 == 0)})
				if err != nil {
					errs <- err
					return
				}
				if arn := aws.ToString(ck.KeyMetadata.Arn); !strings.HasPrefix(arn, "arn:"+kms.PartitionOf(reg)+":kms:"+reg+":") {
					errs <- fmt.Errorf("key created by a %s client has ARN %s", reg, arn)
					return
				}
				if _, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: ck.KeyMetadata.KeyId}); err != nil {
					errs <- fmt.Errorf("%s: DescribeKey of its own key: %v", reg, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, reg := range regions {
		c := sdkClient(hc, "http://kms.test", accessKey, reg)
		lk, err := c.ListKeys(ctx, &awskms.ListKeysInput{})
		if err != nil || len(lk.Keys) != perRegion {
			t.Errorf("%s lists %d keys, %v; want %d", reg, len(lk.Keys), err, perRegion)
		}
	}
	if got := f.svc.Regions(); len(got) != len(regions) || got[0] != region {
		t.Errorf("Regions() = %v", got)
	}
}
