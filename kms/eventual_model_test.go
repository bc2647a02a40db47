package kms_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/consistency"
	"pgregory.net/rapid"
)

// ecSide is one of the two services the property runs the same calls on.
type ecSide struct {
	s   *kms.Service
	clk *kms.ManualClock
	ids []string       // keys by creation order
	tok map[int]string // the latest grant token of each key
	gid map[int]string // the latest grant ID of each key
}

// ecWindowErrors are the refusals a propagation window may cause (spec
// (f): NotFoundException, KMSInvalidStateException, AccessDeniedException,
// and DisabledException for a key seen as Disabled).
var ecWindowErrors = []error{keystate.ErrNotFound, keystate.ErrAccessDenied, keystate.ErrDisabled, keystate.ErrKMSInvalidState}

func ecCode(err error) string {
	var ke *keystate.Error
	if errors.As(err, &ke) {
		return string(ke.Code)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestECSettlesToTheSameState is the model's property (issue 17): the
// same calls made against a service with the model and one without, the
// first retrying (after Propagate, as a retrying client would after a
// wait) each call refused by a propagation window, leave both in the same
// state once everything has propagated. Along the way each call answers
// as without the model, except that a read may succeed on a stale view
// (D41) and any call may first meet a window's refusal. The clock moves
// by at most 10 minutes a step; a jump of days (which makes deletions
// due) is followed by Propagate, deletion windows having their own test
// (TestECDeletionWindow). Key and grant IDs are compared by creation
// order: a stale Encrypt draws a nonce the other service does not, so the
// two randomness streams may part.
func TestECSettlesToTheSameState(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := consistency.Default()
		m.Seed = rapid.Uint64Min(1).Draw(t, "seed")
		m.Readers = rapid.SampledFrom([]consistency.Readers{consistency.PerPrincipal, consistency.PerCall}).Draw(t, "readers")
		side := func(opts ...kms.Option) *ecSide {
			clk := kms.NewManualClock(fxT0)
			var seed [32]byte
			binary.LittleEndian.PutUint64(seed[:], m.Seed)
			opts = append(opts, kms.WithClock(clk), kms.WithRandom(rand.NewChaCha8(seed)))
			return &ecSide{s: kms.New(opts...), clk: clk, tok: map[int]string{}, gid: map[int]string{}}
		}
		ref, ec := side(), side(kms.WithEventualConsistency(m))
		ctx := context.Background()
		grantee := kms.WithPrincipal(ctx, ecGrantee)
		aliases := []string{"alias/a", "alias/b"}
		policy := `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},` +
			`{"Effect":"Allow","Principal":{"AWS":"` + ecGrantee + `"},"Action":["kms:Encrypt","kms:DescribeKey"],"Resource":"*"}]}`

		// step makes one call on both sides and checks the answers.
		step := func(what string, write bool, call func(x *ecSide) error) {
			rErr := call(ref)
			eErr := call(ec)
			if ecCode(eErr) == ecCode(rErr) {
				return
			}
			if eErr == nil && !write {
				return // a stale read (D41)
			}
			window := false
			for _, w := range ecWindowErrors {
				window = window || errors.Is(eErr, w)
			}
			if !window {
				t.Fatalf("%s: %v with the model, %v without", what, eErr, rErr)
			}
			ec.s.Propagate()
			if eErr = call(ec); ecCode(eErr) != ecCode(rErr) {
				t.Fatalf("%s after Propagate: %v with the model, %v without", what, eErr, rErr)
			}
		}
		keyIdx := func(t *rapid.T) int {
			if len(ref.ids) == 0 {
				t.Skip("no key yet")
			}
			return rapid.IntRange(0, len(ref.ids)-1).Draw(t, "key")
		}
		keyOp := func(name string, write bool, do func(s *kms.Service, id string) error) func(*rapid.T) {
			return func(t *rapid.T) {
				i := keyIdx(t)
				step(fmt.Sprintf("%s(key %d)", name, i), write, func(x *ecSide) error { return do(x.s, x.ids[i]) })
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"CreateKey": func(t *rapid.T) {
				step("CreateKey", true, func(x *ecSide) error {
					out, err := x.s.CreateKey(ctx, &kms.CreateKeyInput{})
					if err == nil {
						x.ids = append(x.ids, out.KeyMetadata.KeyId)
					}
					return err
				})
			},
			"DisableKey": keyOp("DisableKey", true, func(s *kms.Service, id string) error {
				_, err := s.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
				return err
			}),
			"EnableKey": keyOp("EnableKey", true, func(s *kms.Service, id string) error {
				_, err := s.EnableKey(ctx, &kms.EnableKeyInput{KeyId: id})
				return err
			}),
			"ScheduleKeyDeletion": keyOp("ScheduleKeyDeletion", true, func(s *kms.Service, id string) error {
				_, err := s.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: kms.Int32(7)})
				return err
			}),
			"CancelKeyDeletion": keyOp("CancelKeyDeletion", true, func(s *kms.Service, id string) error {
				_, err := s.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: id})
				return err
			}),
			"UpdateKeyDescription": keyOp("UpdateKeyDescription", true, func(s *kms.Service, id string) error {
				_, err := s.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: "d" + id[:4]})
				return err
			}),
			"RotateKeyOnDemand": keyOp("RotateKeyOnDemand", true, func(s *kms.Service, id string) error {
				_, err := s.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
				return err
			}),
			"EnableKeyRotation": keyOp("EnableKeyRotation", true, func(s *kms.Service, id string) error {
				_, err := s.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: kms.Int32(90)})
				return err
			}),
			"PutKeyPolicy": keyOp("PutKeyPolicy", true, func(s *kms.Service, id string) error {
				_, err := s.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: policy})
				return err
			}),
			"CreateGrant": func(t *rapid.T) {
				i := keyIdx(t)
				step(fmt.Sprintf("CreateGrant(key %d)", i), true, func(x *ecSide) error {
					g, err := x.s.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: x.ids[i], GranteePrincipal: ecGrantee,
						Operations: []string{"Encrypt", "DescribeKey"}})
					if err == nil {
						x.tok[i], x.gid[i] = g.GrantToken, g.GrantId
					}
					return err
				})
			},
			"RevokeGrant": func(t *rapid.T) {
				i := keyIdx(t)
				if ref.gid[i] == "" {
					t.Skip("no grant on the key")
				}
				step(fmt.Sprintf("RevokeGrant(key %d)", i), true, func(x *ecSide) error {
					_, err := x.s.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: x.ids[i], GrantId: x.gid[i]})
					return err
				})
			},
			"CreateAlias": func(t *rapid.T) {
				i, a := keyIdx(t), rapid.SampledFrom(aliases).Draw(t, "alias")
				step("CreateAlias("+a+")", true, func(x *ecSide) error {
					_, err := x.s.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: a, TargetKeyId: x.ids[i]})
					return err
				})
			},
			"UpdateAlias": func(t *rapid.T) {
				i, a := keyIdx(t), rapid.SampledFrom(aliases).Draw(t, "alias")
				step("UpdateAlias("+a+")", true, func(x *ecSide) error {
					_, err := x.s.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: a, TargetKeyId: x.ids[i]})
					return err
				})
			},
			"Encrypt": func(t *rapid.T) {
				i := keyIdx(t)
				asGrantee := rapid.Bool().Draw(t, "asGrantee")
				withToken := asGrantee && rapid.Bool().Draw(t, "withToken")
				step(fmt.Sprintf("Encrypt(key %d, grantee %v, token %v)", i, asGrantee, withToken), false, func(x *ecSide) error {
					c, id := ctx, x.ids[i]
					if asGrantee {
						c, id = grantee, "arn:aws:kms:us-east-1:111122223333:key/"+id
						if tok := x.tok[i]; withToken && tok != "" {
							c = kms.WithGrantTokens(c, []string{tok})
						}
					}
					_, err := x.s.Encrypt(c, &kms.EncryptInput{KeyId: id, Plaintext: []byte("p")})
					return err
				})
			},
			"DescribeAlias": func(t *rapid.T) {
				a := rapid.SampledFrom(aliases).Draw(t, "alias")
				step("DescribeKey("+a+")", false, func(x *ecSide) error {
					_, err := x.s.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: a})
					return err
				})
			},
			"Advance": func(t *rapid.T) {
				d := time.Duration(rapid.Int64Range(0, int64(10*time.Minute)).Draw(t, "advance"))
				for _, x := range []*ecSide{ref, ec} {
					if _, err := x.clk.Advance(d); err != nil {
						t.Fatal(err)
					}
				}
			},
			"AdvanceDays": func(t *rapid.T) {
				for _, x := range []*ecSide{ref, ec} {
					if _, err := x.clk.Advance(8 * fxDay); err != nil {
						t.Fatal(err)
					}
					x.s.Sweep()
				}
				ec.s.Propagate()
			},
		})
		ec.s.Propagate()
		if st := ec.s.PropagationStatus(); !st.Propagated {
			t.Fatalf("after Propagate: %+v", st)
		}
		if r, e := ecDump(t, ref), ecDump(t, ec); r != e {
			t.Fatalf("states differ after propagation:\nwithout the model:\n%s\nwith it:\n%s", r, e)
		}
	})
}

// ecDump describes a side's state with keys named by creation order:
// each key's metadata and rotations, key policy and grants, and the
// aliases. Last-usage records are left out: a stale read that succeeded
// did use its key.
func ecDump(t *rapid.T, x *ecSide) string {
	ctx := context.Background()
	idx := map[string]int{}
	for i, id := range x.ids {
		idx[id] = i
	}
	var b strings.Builder
	for i, id := range x.ids {
		d, err := x.s.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
		if err != nil {
			fmt.Fprintf(&b, "key %d: %s\n", i, ecCode(err))
			continue
		}
		m := d.KeyMetadata
		fmt.Fprintf(&b, "key %d: %s enabled=%v desc=%q created=%v deletion=%v\n", i, m.KeyState, m.Enabled,
			strings.ReplaceAll(m.Description, id[:4], "#"), m.CreationDate, fxDeref(m.DeletionDate))
		rots, err := fxAllRotations(ctx, x.s, id, "", 1000)
		for _, r := range rots {
			fmt.Fprintf(&b, "  rotation %v %s\n", r.RotationDate, r.RotationType)
		}
		st, err2 := x.s.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
		if err2 == nil {
			fmt.Fprintf(&b, "  rotation status %v %v %v\n", st.KeyRotationEnabled, fxDeref(st.NextRotationDate), fxDeref(st.RotationPeriodInDays))
		}
		p, err3 := x.s.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: id})
		if err3 == nil {
			fmt.Fprintf(&b, "  policy %d bytes, grantee %v\n", len(p.Policy), strings.Contains(p.Policy, ecGrantee))
		}
		g, err4 := x.s.ListGrants(ctx, &kms.ListGrantsInput{KeyId: id})
		if err4 == nil {
			for _, e := range g.Grants {
				fmt.Fprintf(&b, "  grant %s %v %v\n", e.GranteePrincipal, e.Operations, e.CreationDate)
			}
		}
		fmt.Fprintf(&b, "  errors %s %s %s %s\n", ecCode(err), ecCode(err2), ecCode(err3), ecCode(err4))
	}
	al, err := x.s.ListAliases(ctx, &kms.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, a := range al.Aliases {
		if a.TargetKeyId != "" {
			lines = append(lines, fmt.Sprintf("alias %s → key %d (%v, %v)", a.AliasName, idx[a.TargetKeyId], fxDeref(a.CreationDate), fxDeref(a.LastUpdatedDate)))
		}
	}
	sort.Strings(lines)
	b.WriteString(strings.Join(lines, "\n"))
	return b.String()
}
