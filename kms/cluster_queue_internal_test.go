package kms

import (
	"context"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/store"
)

// TestClusterGrantCommitsKeepOtherNodesQueue: another node's grants, each
// of which writes the key's record (2273350), leave a node's event queue
// as it was, for a multi-Region key with rotation on and for an EXTERNAL
// key whose material expires. (Found in review: the other node relinked
// the family, requeueing every member's events, and queued the material's
// expiry again, at each grant: duplicates that stay queued until their
// instant, a year ahead, so that a workload of grants made and retired
// grew the queue without bound; so did any change of the key's record,
// such as its description.) A record that differs in its version
// alone now only sets the version (onlyVersion), a family is relinked
// only when it may change (relinks), and a material's expiry is queued
// only at new instants (newExpiries).
func TestClusterGrantCommitsKeepOtherNodesQueue(t *testing.T) {
	for name, setup := range map[string]func(*testing.T, *Service) string{
		"multi-Region key with rotation": func(t *testing.T, a *Service) string {
			ctx := context.Background()
			out, err := a.CreateKey(ctx, &CreateKeyInput{MultiRegion: true})
			if err != nil {
				t.Fatal(err)
			}
			id := out.KeyMetadata.KeyId
			if _, err := a.EnableKeyRotation(ctx, &EnableKeyRotationInput{KeyId: id}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.ReplicateKey(ctx, &ReplicateKeyInput{KeyId: id, ReplicaRegion: "us-west-2"}); err != nil {
				t.Fatal(err)
			}
			return id
		},
		"EXTERNAL key whose material expires": func(t *testing.T, a *Service) string {
			ctx := context.Background()
			out, err := a.CreateKey(ctx, &CreateKeyInput{Origin: "EXTERNAL"})
			if err != nil {
				t.Fatal(err)
			}
			id := out.KeyMetadata.KeyId
			p, err := a.GetParametersForImport(ctx, &GetParametersForImportInput{KeyId: id, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048"})
			if err != nil {
				t.Fatal(err)
			}
			pk, err := x509.ParsePKIXPublicKey(p.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			wrapped, err := rsa.EncryptOAEP(sha256.New(), crand.Reader, pk.(*rsa.PublicKey), make([]byte, 32), nil)
			if err != nil {
				t.Fatal(err)
			}
			validTo := a.cfg.clock.Now().Add(300 * 24 * time.Hour)
			if _, err := a.ImportKeyMaterial(ctx, &ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped,
				ExpirationModel: "KEY_MATERIAL_EXPIRES", ValidTo: &validTo}); err != nil {
				t.Fatal(err)
			}
			return id
		},
	} {
		t.Run(name, func(t *testing.T) { grantQueueGrowth(t, setup) })
	}
}

// grantQueueGrowth makes and retires grants of setup's key on one node,
// and changes its description, and fails t if the other node's event
// queue grows.
func grantQueueGrowth(t *testing.T, setup func(*testing.T, *Service) string) {
	ctx := context.Background()
	st := store.NewSharedMemory()
	clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var nodes []*Service
	for i := range 2 {
		n, err := Open(ctx, st, WithClock(clock), WithRandom(rand.NewChaCha8([32]byte{byte(i + 1)})))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		nodes = append(nodes, n)
	}
	a, b := nodes[0], nodes[1]
	id := setup(t, a)
	queued := func(n *Service) int {
		if err := n.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.queue.len()
	}
	qa, qb := queued(a), queued(b)
	const grants = 500
	for i := range grants {
		g, err := a.CreateGrant(ctx, &CreateGrantInput{KeyId: id, GranteePrincipal: fmt.Sprintf("arn:aws:iam::111122223333:role/r%d", i),
			Operations: []string{"Decrypt"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.RetireGrant(ctx, &RetireGrantInput{KeyId: id, GrantId: g.GrantId}); err != nil {
			t.Fatal(err)
		}
		// A change of the record itself, which the other node applies
		// in full: no new event either.
		if _, err := a.UpdateKeyDescription(ctx, &UpdateKeyDescriptionInput{KeyId: id, Description: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		queued(b)
	}
	da, db := queued(a)-qa, queued(b)-qb
	t.Logf("after %d grants made and retired on a: a's queue grew by %d, b's by %d", grants, da, db)
	if db > 10 {
		t.Errorf("b's event queue grew by %d entries for %d grants a made and retired (a's by %d); want it bounded", db, grants, da)
	}
}
