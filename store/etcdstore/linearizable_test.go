package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/kmsmodel/kmsmodel/internal/etcdtest"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store/etcdstore"
)

// The linearizability check of issue 18: clients call three kms nodes,
// each over its own etcd client on a different member of a three-member
// cluster, concurrently; the calls and answers they record form a history
// that porcupine checks against a sequential model of the same calls on
// one service.

// linOp is what a client asked, on key K (0 or 1) or the alias.
type linOp struct {
	Kind   string // disable, enable, describe, rotate, rotations, update-alias, describe-alias
	Key    int    // the key, or the alias's new target
	Client int
}

// linOut is a call's answer: Ok or the exception (disabled, limit), and
// what a read returned (Enabled, a rotation count, the alias's target).
type linOut struct {
	Err     string
	Enabled bool
	N       int
}

// linState is the sequential model's state: the two keys' states and
// rotation counts, and the alias's target.
type linState struct {
	Enabled   [2]bool
	Rotations [2]int
	Target    int
}

// linQuota is the on-demand rotation quota of the checked nodes: small, so
// that histories reach it.
const linQuota = 4

// linModel is one service, sequentially: DisableKey and EnableKey always
// succeed (AWS answers both on a key already in that state), a
// RotateKeyOnDemand is DisabledException on a disabled key and
// LimitExceededException past the quota (D1), and reads return the state.
var linModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		var parts [3][]porcupine.Operation // key 0, key 1, the alias
		for _, op := range h {
			in := op.Input.(linOp)
			i := in.Key
			if in.Kind == "update-alias" || in.Kind == "describe-alias" {
				i = 2
			}
			parts[i] = append(parts[i], op)
		}
		return parts[:]
	},
	Init: func() any { return linState{Enabled: [2]bool{true, true}} },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(linState), input.(linOp), output.(linOut)
		switch in.Kind {
		case "disable", "enable":
			s.Enabled[in.Key] = in.Kind == "enable"
			return out.Err == "", s
		case "describe":
			return out.Err == "" && out.Enabled == s.Enabled[in.Key], s
		case "rotate":
			switch {
			case !s.Enabled[in.Key]:
				return out.Err == "disabled", s
			case s.Rotations[in.Key] >= linQuota:
				return out.Err == "limit", s
			}
			s.Rotations[in.Key]++
			return out.Err == "", s
		case "rotations":
			return out.Err == "" && out.N == s.Rotations[in.Key], s
		case "update-alias":
			s.Target = in.Key
			return out.Err == "", s
		case "describe-alias":
			return out.Err == "" && out.N == s.Target, s
		}
		return false, s
	},
	DescribeOperation: func(input, output any) string {
		return fmt.Sprintf("%+v → %+v", input, output)
	},
}

// TestLinearizableModelRejects: the model is not vacuous: a read that
// misses a DisableKey acknowledged before it began, a rotation count that
// goes back, and a rotation past the quota are not linearizable.
func TestLinearizableModelRejects(t *testing.T) {
	op := func(call, ret int64, in linOp, out linOut) porcupine.Operation {
		return porcupine.Operation{ClientId: in.Client, Input: in, Call: call, Output: out, Return: ret}
	}
	for name, h := range map[string][]porcupine.Operation{
		"stale read": {
			op(0, 10, linOp{Kind: "disable", Key: 0}, linOut{}),
			op(20, 30, linOp{Kind: "describe", Key: 0, Client: 1}, linOut{Enabled: true}),
		},
		"count goes back": {
			op(0, 10, linOp{Kind: "rotate", Key: 1}, linOut{}),
			op(20, 30, linOp{Kind: "rotations", Key: 1, Client: 1}, linOut{N: 1}),
			op(40, 50, linOp{Kind: "rotations", Key: 1, Client: 2}, linOut{N: 0}),
		},
		"past the quota": {
			op(0, 10, linOp{Kind: "rotate", Key: 0}, linOut{}),
			op(0, 10, linOp{Kind: "rotate", Key: 0, Client: 1}, linOut{}),
			op(0, 10, linOp{Kind: "rotate", Key: 0, Client: 2}, linOut{}),
			op(0, 10, linOp{Kind: "rotate", Key: 0, Client: 3}, linOut{}),
			op(0, 10, linOp{Kind: "rotate", Key: 0, Client: 4}, linOut{}),
		},
		"alias moved back": {
			op(0, 10, linOp{Kind: "update-alias", Key: 1}, linOut{}),
			op(20, 30, linOp{Kind: "describe-alias", Client: 1}, linOut{N: 0}),
		},
	} {
		if porcupine.CheckOperations(linModel, h) {
			t.Errorf("%s: accepted as linearizable", name)
		}
	}
	ok := []porcupine.Operation{
		op(0, 10, linOp{Kind: "disable", Key: 0}, linOut{}),
		op(5, 30, linOp{Kind: "describe", Key: 0, Client: 1}, linOut{Enabled: true}), // concurrent: may precede
		op(20, 40, linOp{Kind: "rotate", Key: 0, Client: 2}, linOut{Err: "disabled"}),
	}
	if !porcupine.CheckOperations(linModel, ok) {
		t.Error("a linearizable history rejected")
	}
}

// linHistories is how many histories TestLinearizable checks.
const linHistories = 24

// TestLinearizable: 24 histories of 6 clients (two per node) making 12
// random calls each on two fresh keys and an alias, over three nodes on
// three etcd members, are linearizable.
func TestLinearizable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-member etcd cluster")
	}
	cl := etcdtest.Start(t, etcdtest.Config{Members: 3})
	ctx := context.Background()
	eps := cl.Endpoints()
	prefix := fmt.Sprintf("lin/%d/", time.Now().UnixNano())
	var nodes []*kms.Service
	for i := range 3 {
		st, err := etcdstore.Open(etcdstore.Options{Endpoints: eps[i : i+1], Prefix: prefix, WrappingKey: wrappingKey})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := kms.Open(ctx, st, kms.WithOnDemandRotationQuota(linQuota),
			kms.WithRandom(rand.NewChaCha8([32]byte{byte(i + 1)})))
		if err != nil {
			st.Close()
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close() })
		nodes = append(nodes, svc)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 4))
	var ops int
	var slowest time.Duration
	for hist := range linHistories {
		var ids [2]string
		for k := range ids {
			out, err := nodes[k].CreateKey(ctx, &kms.CreateKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			ids[k] = out.KeyMetadata.KeyId
		}
		alias := fmt.Sprintf("alias/lin-%d", hist)
		if _, err := nodes[2].CreateAlias(ctx, &kms.CreateAliasInput{AliasName: alias, TargetKeyId: ids[0]}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var history []porcupine.Operation
		base := time.Now()
		var wg sync.WaitGroup
		for c := range 6 {
			cr := rand.New(rand.NewPCG(r.Uint64(), uint64(c)))
			svc := nodes[c%3]
			wg.Go(func() {
				for range 12 {
					in := linOp{Kind: []string{"disable", "enable", "describe", "rotate", "rotate", "rotations", "update-alias", "describe-alias"}[cr.IntN(8)],
						Key: cr.IntN(2), Client: c}
					call := time.Since(base).Nanoseconds()
					out, err := linCall(ctx, svc, ids, alias, in)
					ret := time.Since(base).Nanoseconds()
					if err != nil {
						t.Errorf("history %d, client %d: %+v: %v", hist, c, in, err)
						return
					}
					mu.Lock()
					history = append(history, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		began := time.Now()
		res := porcupine.CheckOperationsTimeout(linModel, history, 10*time.Second)
		slowest = max(slowest, time.Since(began))
		if res != porcupine.Ok {
			for _, op := range history {
				t.Logf("[%d, %d] client %d: %s", op.Call, op.Return, op.ClientId, linModel.DescribeOperation(op.Input, op.Output))
			}
			t.Fatalf("history %d: %s", hist, res)
		}
		ops += len(history)
	}
	var undone, reloads int
	for _, n := range nodes {
		s, _ := n.ClusterStatus()
		undone, reloads = undone+s.UndoneInPlace, reloads+s.Reloads
	}
	t.Logf("%d histories, %d operations, all linearizable; slowest check %v; lost races undone in place %d, reloads %d",
		linHistories, ops, slowest, undone, reloads)
}

// linCall makes the call in asks of svc and returns its answer; an error
// is a failure that is neither of the model's exceptions.
func linCall(ctx context.Context, svc *kms.Service, ids [2]string, alias string, in linOp) (linOut, error) {
	id := ids[in.Key]
	var err error
	var out linOut
	switch in.Kind {
	case "disable":
		_, err = svc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
	case "enable":
		_, err = svc.EnableKey(ctx, &kms.EnableKeyInput{KeyId: id})
	case "describe":
		var d *kms.DescribeKeyOutput
		if d, err = svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}); err == nil {
			out.Enabled = d.KeyMetadata.Enabled
		}
	case "rotate":
		_, err = svc.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
		switch {
		case errors.Is(err, keystate.ErrDisabled):
			out.Err, err = "disabled", nil
		case errors.Is(err, keystate.ErrLimitExceeded):
			out.Err, err = "limit", nil
		}
	case "rotations":
		var rs *kms.ListKeyRotationsOutput
		if rs, err = svc.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id}); err == nil {
			out.N = len(rs.Rotations)
		}
	case "update-alias":
		_, err = svc.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: alias, TargetKeyId: id})
	case "describe-alias":
		var d *kms.DescribeKeyOutput
		if d, err = svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: alias}); err == nil {
			out.N = -1
			for k, kid := range ids {
				if kid == d.KeyMetadata.KeyId {
					out.N = k
				}
			}
		}
	}
	return out, err
}
