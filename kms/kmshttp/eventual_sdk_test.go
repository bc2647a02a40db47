package kmshttp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/consistency"
)

// TestSDKRetryerRidesOutTheCreateWindow is issue 17's example: with the
// eventual-consistency model on, a key used right after CreateKey is
// NotFoundException (spec (f), D41). A client without retries fails; the
// SDK's standard retryer, told that NotFoundException is worth retrying
// (retry.AddWithErrorCodes) and with its backoff advancing the simulated
// clock instead of sleeping, succeeds once the creation has propagated.
func TestSDKRetryerRidesOutTheCreateWindow(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			m := consistency.Default()
			m.Seed, m.Delay = 1, consistency.Fixed(2*time.Second)
			f := newFixture(t, kms.WithEventualConsistency(m))
			hc, endpoint := tr.client(t, f)
			ctx := context.Background()
			plain := sdkClient(hc, endpoint, accessKey, region) // no retries
			retrying := awskms.New(awskms.Options{}, func(o *awskms.Options) {
				*o = plain.Options()
				o.Retryer = retry.AddWithErrorCodes(retry.NewStandard(func(so *retry.StandardOptions) {
					so.MaxAttempts = 5
					so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
						f.clock.Advance(time.Second) // wait in simulated time, not in real time
						return 0, nil
					})
				}), (&types.NotFoundException{}).ErrorCode())
			})

			ck, err := plain.CreateKey(ctx, &awskms.CreateKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			in := &awskms.EncryptInput{KeyId: ck.KeyMetadata.KeyId, Plaintext: []byte("order 42")}
			_, err = plain.Encrypt(ctx, in)
			var nf *types.NotFoundException
			if !errors.As(err, &nf) {
				t.Fatalf("Encrypt right after CreateKey without retries: %v, want NotFoundException", err)
			}
			before := f.requests.Load()
			out, err := retrying.Encrypt(ctx, in)
			if err != nil {
				t.Fatalf("Encrypt with the standard retryer: %v", err)
			}
			if aws.ToString(out.KeyId) != aws.ToString(ck.KeyMetadata.Arn) {
				t.Fatalf("KeyId %q", aws.ToString(out.KeyId))
			}
			if n := f.requests.Load() - before; n < 2 || n > 3 {
				t.Fatalf("%d attempts, want 2 or 3 (the window is 2 s, each retry waits 1 s)", n)
			}
		})
	}
}

// TestPropagationTargets: KmsModel.GetPropagationStatus says what is
// still propagating and KmsModel.Propagate settles it, without moving
// the clock; without the model both answer that all is propagated.
func TestPropagationTargets(t *testing.T) {
	m := consistency.Default()
	m.Seed, m.Delay = 1, consistency.Fixed(2*time.Second)
	f := newFixture(t, kms.WithEventualConsistency(m))
	postOK(t, f.handler, "TrentService.CreateKey", `{}`)
	st := postOK(t, f.handler, "KmsModel.GetPropagationStatus", `{}`)
	if st["Enabled"] != true || st["Propagated"] != false || st["Pending"] != 1.0 ||
		st["SettleTime"] != float64(epoch.Add(2*time.Second).Unix()) {
		t.Fatalf("GetPropagationStatus = %v", st)
	}
	st = postOK(t, f.handler, "KmsModel.Propagate", `{}`)
	if st["Settled"] != 1.0 || st["Propagated"] != true || st["Pending"] != 0.0 || st["SettleTime"] != nil {
		t.Fatalf("Propagate = %v", st)
	}
	if !f.clock.Now().Equal(epoch) {
		t.Fatal("Propagate moved the clock")
	}
	off := newFixture(t)
	st = postOK(t, off.handler, "KmsModel.GetPropagationStatus", `{}`)
	if st["Enabled"] != false || st["Propagated"] != true || st["Pending"] != 0.0 {
		t.Fatalf("without the model: %v", st)
	}
	st = postOK(t, off.handler, "KmsModel.Propagate", `{}`)
	if st["Settled"] != 0.0 || st["Propagated"] != true {
		t.Fatalf("Propagate without the model: %v", st)
	}
}
