package etcdstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/racetest"
	"github.com/kmsmodel/kmsmodel/kms"
)

// BenchmarkClusterLostRace: what a lost race costs the node that lost it
// (wall time of the call, run again), with 20,000 keys on the embedded
// one-member cluster: a key's description, an alias's target, a grant, a
// multi-Region key's description, the description of a key in a custom key
// store and a key's creation in one, undone in place (the key, the alias,
// the grants, the store reloaded; issue 18).
func BenchmarkClusterLostRace(b *testing.B) {
	ctx := context.Background()
	opts := options(b)
	ra := racetest.New(openWith(b, opts))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, err := kms.Open(ctx, ra, kms.WithClock(kms.NewManualClock(start)))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	other, err := kms.Open(ctx, openWith(b, opts), kms.WithClock(kms.NewManualClock(start)))
	if err != nil {
		b.Fatal(err)
	}
	defer other.Close()
	const keys = 20_000
	ids := make([]string, keys)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < keys; i = next.Add(1) - 1 {
				out, err := a.CreateKey(ctx, &kms.CreateKeyInput{})
				if err != nil {
					b.Error(err)
					return
				}
				ids[i] = out.KeyMetadata.KeyId
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	if _, err := a.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/app", TargetKeyId: ids[0]}); err != nil {
		b.Fatal(err)
	}
	mrk, err := a.CreateKey(ctx, &kms.CreateKeyInput{MultiRegion: true})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: mrk.KeyMetadata.KeyId, ReplicaRegion: "us-west-2"}); err != nil {
		b.Fatal(err)
	}
	cks, err := a.CreateCustomKeyStore(ctx, &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: "hsm",
		CloudHsmClusterId: "cluster-1a23b4cdefg", TrustAnchorCertificate: "-----BEGIN CERTIFICATE-----",
		KeyStorePassword: kms.Sensitive("kmsuser-secret-pw")})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.ConnectCustomKeyStore(ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: cks.CustomKeyStoreId}); err != nil {
		b.Fatal(err)
	}
	hsmKey, err := a.CreateKey(ctx, &kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: cks.CustomKeyStoreId})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := other.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: ids[0]}); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name        string
		race, write func(i int) error
	}{
		{"write=description", func(i int) error {
			_, err := other.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: ids[1], Description: fmt.Sprint("b", i)})
			return err
		}, func(i int) error {
			_, err := a.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: ids[1], Description: fmt.Sprint("a", i)})
			return err
		}},
		{"write=alias", func(i int) error {
			_, err := other.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: "alias/app", TargetKeyId: ids[2+i%2]})
			return err
		}, func(i int) error {
			_, err := a.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: "alias/app", TargetKeyId: ids[4+i%2]})
			return err
		}},
		{"write=grant", func(i int) error {
			_, err := other.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: ids[6], Description: fmt.Sprint("b", i)})
			return err
		}, func(i int) error {
			_, err := a.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: ids[6], GranteePrincipal: "arn:aws:iam::111122223333:role/r",
				Operations: []string{"Decrypt"}})
			return err
		}},
		{"write=multi-Region-description", func(i int) error {
			_, err := other.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: mrk.KeyMetadata.KeyId, Description: fmt.Sprint("b", i)})
			return err
		}, func(i int) error {
			_, err := a.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: mrk.KeyMetadata.KeyId, Description: fmt.Sprint("a", i)})
			return err
		}},
		{"write=custom-key-store-key-description", func(i int) error {
			_, err := other.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: hsmKey.KeyMetadata.KeyId, Description: fmt.Sprint("b", i)})
			return err
		}, func(i int) error {
			_, err := a.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: hsmKey.KeyMetadata.KeyId, Description: fmt.Sprint("a", i)})
			return err
		}},
		{"write=custom-key-store-key-creation", func(i int) error {
			_, err := other.CreateKey(ctx, &kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: hsmKey.KeyMetadata.CustomKeyStoreId})
			return err
		}, func(i int) error {
			_, err := a.CreateKey(ctx, &kms.CreateKeyInput{Origin: "AWS_CLOUDHSM", CustomKeyStoreId: hsmKey.KeyMetadata.CustomKeyStoreId})
			return err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			before, _ := a.ClusterStatus()
			for i := 0; b.Loop(); i++ {
				f := func() {
					if err := c.race(i); err != nil {
						b.Error(err)
					}
				}
				ra.Before(f)
				if err := c.write(i); err != nil {
					b.Fatal(err)
				}
			}
			after, _ := a.ClusterStatus()
			b.ReportMetric(float64(after.UndoneInPlace-before.UndoneInPlace)/float64(b.N), "undone-in-place/op")
			b.ReportMetric(float64(after.Reloads-before.Reloads)/float64(b.N), "reloads/op")
		})
	}
}
