package kms

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/kmsmodel/kmsmodel/internal/racetest"
	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// The cluster model (TestClusterModel): two nodes over one shared store
// take random writes on a small pool of keys, aliases and grants, so that
// they collide, and now and then a node's write loses its race to writes
// the other node makes just before it reaches the store. After every step
// each node, caught up, must hold exactly the state a node loaded from
// the store holds (digest), and both must answer the same reads alike and
// use the same keys alike.

// cmRegions are the Regions the model's keys live in: the default Region
// first, and one of another partition (D70: its ARNs and default policies
// name aws-cn, and multi-Region keys do not replicate to or from it).
var cmRegions = []string{"us-east-1", "us-west-2", "eu-west-1", "cn-north-1"}

// cmMaxKeys bounds the keys (replicas included) a run makes, so that calls
// keep colliding on the same ones.
const cmMaxKeys = 8

// cmAliases are the alias names the model uses, in every Region.
var cmAliases = []string{"alias/a", "alias/b", "alias/c"}

// cmPolicies are the key policies PutKeyPolicy installs: both keep the
// account's root allowed every action, so that nothing locks the model out.
var cmPolicies = []string{
	`{"Version":"2012-10-17","Statement":[{"Sid":"one","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`,
	`{"Version":"2012-10-17","Statement":[{"Sid":"two","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`,
}

// cmMissingKey is a key ID no run makes.
const cmMissingKey = "1234abcd-12ab-34cd-56ef-1234567890ab"

// cmKey is a key the model made (a replica is a key of its own, with its
// primary's ID, in another Region).
type cmKey struct{ id, region string }

// cmGrant is a grant the model made, with its token.
type cmGrant struct {
	key       cmKey
	id, token string
}

// cmCall is a drawn call on a node: it makes the call and records what it
// made in the pools.
type cmCall func() error

// cmOp draws the arguments of an operation on node n about key k (which
// the operation may ignore or replace) and returns the call.
type cmOp func(m *clusterModel, t *rapid.T, n int, k cmKey) cmCall

// clusterModel is one run of TestClusterModel: two nodes over one shared
// store and their shared clock, the handles on the store that make a
// node's next write lose its race, and the pools the calls draw from.
type clusterModel struct {
	ctx   context.Context
	st    *store.SharedMemory
	clock *ManualClock
	nodes [2]*Service
	hooks [2]*racetest.Store

	// The pools: keys and grants made. Calls made behind a node's group
	// (see arm) add to them from goroutines of their own, under mu;
	// everything else happens on the test's goroutine.
	mu     sync.Mutex
	keys   []cmKey
	grants []cmGrant
	stores []string        // custom key stores made (in the default Region)
	xks    map[string]bool // those of them that are external key stores

	// armed is the number of the race armed and not yet run (0: none);
	// arms counts the races armed. A race armed for a call that wrote
	// nothing is disarmed after it: the hook stays set, and does nothing.
	armed, arms int
	races       int            // races run
	behind      int            // calls made behind a group that lost, or might have lost, its race
	raceErr     error          // an error a race's call should not have returned
	extras      sync.WaitGroup // the calls made behind a group
	extraErrs   chan error     // their errors that they should not have returned

	outcomes map[string]int // the steps' calls by operation and outcome ("ok", or the exception)

	// Imported key material and the keys' use: the fixtures (wrapping
	// key pairs, materials), the run's rule profile, each key's kind by
	// key ID (a replica has its primary's; under mu), the keys a step used
	// (UseKey, under mu), the last import parameters drawn for each key,
	// and what keys made (ciphertexts, MACs, signatures, under mu) that
	// the check has both nodes take again.
	fx      *cmFixtures
	rules   Rules
	kinds   map[string]cmKind
	used    map[string]bool
	params  map[cmKey]cmParams
	samples map[cmKey][][]byte

	// The nodes' event queues, as the check finds them: the most events
	// queued on a node, on a node loaded from the store, and the most
	// copies of one event (key, kind, instant) on a node.
	maxQueued, maxLoadedQueued, maxCopies int
}

// cmKind is the kind of a key the model made: its key spec (cmSymmetric,
// cmHMAC or cmECC) and whether its origin is EXTERNAL.
type cmKind struct {
	spec     string
	external bool
}

// The key specs of the model's keys.
const (
	cmSymmetric = "SYMMETRIC_DEFAULT"
	cmHMAC      = "HMAC_256"
	cmECC       = "ECC_NIST_P256"
)

// cmSpec is the key spec of CreateKey's KeySpec spec.
func cmSpec(spec string) string {
	if spec == "" {
		return cmSymmetric
	}
	return spec
}

// cmParams is an answer of GetParametersForImport, with the wrapping
// algorithm it was asked for.
type cmParams struct {
	out       *GetParametersForImportOutput
	algorithm string
}

// cmFixtures are what a model's imports need, made once per test: a
// wrapping key pair for each node (RSA_2048, put in place of the one the
// node would generate at every run) and, by key spec, the materials
// imported (the first of each is imported most).
type cmFixtures struct {
	wrapping  [2]*rsa.PrivateKey
	materials map[string][][]byte
}

// newCMFixtures makes the fixtures: RSA key pairs from the system's
// randomness (crypto/rsa may ignore another source), fixed materials.
func newCMFixtures(t cmTB) *cmFixtures {
	t.Helper()
	fx := &cmFixtures{materials: map[string][][]byte{}}
	for i := range fx.wrapping {
		k, err := rsa.GenerateKey(crand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		fx.wrapping[i] = k
	}
	for _, b := range []byte{0x5a, 0xa5, 0x3c} {
		fx.materials[cmSymmetric] = append(fx.materials[cmSymmetric], bytes.Repeat([]byte{b}, 32))
	}
	fx.materials[cmHMAC] = [][]byte{bytes.Repeat([]byte{0x11}, 32), bytes.Repeat([]byte{0x22}, 48)}
	for _, b := range []byte{0x01, 0x02} {
		priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{b}, 32))
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		fx.materials[cmECC] = append(fx.materials[cmECC], der)
	}
	return fx
}

// full reports whether the pool has all the keys it may have.
func (m *clusterModel) full() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys) >= cmMaxKeys
}

// addKey adds k to the pool.
func (m *clusterModel) addKey(k cmKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = append(m.keys, k)
}

// newClusterModel opens the two nodes, with options drawn for the run
// (among them the rule profile: today's rules a third of the time), and
// gives each its wrapping key pair from fx.
func newClusterModel(t *rapid.T, fx *cmFixtures) *clusterModel {
	var opts []Option
	rules := Rules2024
	if rapid.IntRange(0, 2).Draw(t, "rulesCurrent") == 0 {
		rules = RulesCurrent
		opts = append(opts, WithRules(rules))
	}
	durations := []time.Duration{0, time.Hour}
	if d := rapid.SampledFrom(durations).Draw(t, "onDemandDuration"); d > 0 {
		opts = append(opts, WithOnDemandRotationDuration(d))
	}
	if d := rapid.SampledFrom(durations).Draw(t, "replicaDuration"); d > 0 {
		opts = append(opts, WithReplicaCreationDuration(d))
	}
	if d := rapid.SampledFrom(durations).Draw(t, "updateDuration"); d > 0 {
		opts = append(opts, WithPrimaryUpdateDuration(d))
	}
	if rapid.Bool().Draw(t, "smallQuota") {
		opts = append(opts, WithOnDemandRotationQuota(2))
	}
	m := &clusterModel{ctx: context.Background(), extraErrs: make(chan error, 8), outcomes: map[string]int{}, xks: map[string]bool{},
		fx: fx, rules: rules, kinds: map[string]cmKind{}, used: map[string]bool{}, params: map[cmKey]cmParams{},
		samples: map[cmKey][][]byte{}}
	m.st, m.hooks, m.nodes, m.clock = cmOpen(t, opts...)
	for i, n := range m.nodes {
		n.mu.Lock()
		n.imports.wrapping = map[string]*wrappingPair{"RSA_2048": {rsa: fx.wrapping[i]}}
		n.mu.Unlock()
	}
	return m
}

// cmTB is what cmOpen needs of a *testing.T or a *rapid.T.
type cmTB interface {
	Helper()
	Fatal(...any)
	Cleanup(func())
}

// cmOpen opens two nodes with options opts over a new shared store, each
// through a handle that makes its next write lose its race when told to
// (racetest), with one manual clock and randomness of its own (seeded:
// the key and grant IDs are the same at every run).
func cmOpen(t cmTB, opts ...Option) (st *store.SharedMemory, hooks [2]*racetest.Store, nodes [2]*Service, clock *ManualClock) {
	t.Helper()
	st = store.NewSharedMemory()
	t.Cleanup(func() { st.Close() })
	clock = NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for i := range nodes {
		hooks[i] = racetest.New(st)
		o := append([]Option{WithClock(clock), WithRandom(rand.NewChaCha8([32]byte{byte(i + 1)}))}, opts...)
		svc, err := Open(context.Background(), hooks[i], o...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close() })
		nodes[i] = svc
	}
	return st, hooks, nodes, clock
}

// in returns the context of a call to Region r.
func (m *clusterModel) in(r string) context.Context { return WithCallerRegion(m.ctx, r) }

// arn is key k's ARN.
func (k cmKey) arn() string { return "arn:aws:kms:" + k.region + ":111122223333:key/" + k.id }

// drawKey draws a key of the pool, now and then one that does not exist.
func (m *clusterModel) drawKey(t *rapid.T, label string) cmKey {
	if len(m.keys) == 0 || rapid.IntRange(0, 15).Draw(t, label+"Missing") == 0 {
		return cmKey{cmMissingKey, cmRegions[0]}
	}
	return rapid.SampledFrom(m.keys).Draw(t, label)
}

// drawMultiRegion draws a multi-Region key of the pool in place of k,
// when there is one.
func (m *clusterModel) drawMultiRegion(t *rapid.T, k cmKey) cmKey {
	var mrks []cmKey
	for _, c := range m.keys {
		if strings.HasPrefix(c.id, "mrk-") {
			mrks = append(mrks, c)
		}
	}
	if len(mrks) == 0 || strings.HasPrefix(k.id, "mrk-") {
		return k
	}
	return rapid.SampledFrom(mrks).Draw(t, "multiRegionKey")
}

// ops are the operations the steps draw from; those whose name ends in a
// digit weigh an operation more. Every operation writes, or may.
func (m *clusterModel) ops() map[string]cmOp {
	return map[string]cmOp{
		"CreateKey":            (*clusterModel).createKey,
		"CreateKey2":           (*clusterModel).createKey,
		"UpdateKeyDescription": (*clusterModel).updateKeyDescription,
		"TagResource":          (*clusterModel).tagResource,
		"UntagResource":        (*clusterModel).untagResource,
		"EnableKey":            (*clusterModel).enableKey,
		"DisableKey":           (*clusterModel).disableKey,
		"EnableKeyRotation":    (*clusterModel).enableKeyRotation,
		"DisableKeyRotation":   (*clusterModel).disableKeyRotation,
		"RotateKeyOnDemand":    (*clusterModel).rotateKeyOnDemand,
		"ScheduleKeyDeletion":  (*clusterModel).scheduleKeyDeletion,
		"CancelKeyDeletion":    (*clusterModel).cancelKeyDeletion,
		"CreateAlias":          (*clusterModel).createAlias,
		"UpdateAlias":          (*clusterModel).updateAlias,
		"DeleteAlias":          (*clusterModel).deleteAlias,
		"CreateGrant":          (*clusterModel).createGrant,
		"RevokeGrant":          (*clusterModel).revokeGrant,
		"RetireGrant":          (*clusterModel).retireGrant,
		"ReplicateKey":         (*clusterModel).replicateKey,
		"ReplicateKey2":        (*clusterModel).replicateKey,
		"UpdatePrimaryRegion":  (*clusterModel).updatePrimaryRegion,
		"PutKeyPolicy":         (*clusterModel).putKeyPolicy,
		"AdvanceClock":         (*clusterModel).advanceClock,
		"AdvanceClock2":        (*clusterModel).advanceClock,
		"Sweep":                (*clusterModel).sweep,
		"CustomKeyStore":       (*clusterModel).customKeyStore,

		"ImportKeyMaterial":         (*clusterModel).importKeyMaterial,
		"ImportKeyMaterial2":        (*clusterModel).importKeyMaterial,
		"DeleteImportedKeyMaterial": (*clusterModel).deleteImportedKeyMaterial,
		"UseKey":                    (*clusterModel).useKey,
	}
}

// createKey makes a key in a drawn Region: mostly symmetric, a third of
// them multi-Region, some HMAC or elliptic-curve signing keys, some in a
// custom key store (a CloudHSM or an external key store: then with one of
// two external key IDs, which a store's keys may not share), and some of origin
// EXTERNAL, symmetric, HMAC or signing keys, waiting for imported key
// material.
func (m *clusterModel) createKey(t *rapid.T, n int, _ cmKey) cmCall {
	in := &CreateKeyInput{
		MultiRegion: rapid.IntRange(0, 2).Draw(t, "multiRegion") == 0,
		Description: rapid.SampledFrom([]string{"", "one"}).Draw(t, "createDescription"),
	}
	region := rapid.SampledFrom(cmRegions).Draw(t, "createRegion")
	kind := rapid.IntRange(0, 12).Draw(t, "keyKind")
	if kind >= 3 && kind <= 7 {
		in.Origin = "EXTERNAL"
	}
	switch kind {
	case 0:
		in.KeySpec, in.KeyUsage = cmHMAC, "GENERATE_VERIFY_MAC"
	case 1:
		in.KeySpec, in.KeyUsage = cmECC, "SIGN_VERIFY"
	case 2, 8:
		if len(m.stores) > 0 {
			in.MultiRegion, in.Origin = false, "AWS_CLOUDHSM"
			in.CustomKeyStoreId = rapid.SampledFrom(m.stores).Draw(t, "customKeyStore")
			region = cmRegions[0]
			if m.xks[in.CustomKeyStoreId] {
				in.Origin, in.XksKeyId = "EXTERNAL_KEY_STORE", rapid.SampledFrom([]string{"ext-1", "ext-2"}).Draw(t, "xksKeyId")
			}
		}
	case 5:
		in.KeySpec, in.KeyUsage = cmHMAC, "GENERATE_VERIFY_MAC"
		if rapid.Bool().Draw(t, "externalSigning") {
			in.KeySpec, in.KeyUsage = cmECC, "SIGN_VERIFY"
		}
	}
	if rapid.Bool().Draw(t, "createTags") {
		in.Tags = []Tag{{TagKey: "t1", TagValue: "made"}}
	}
	return func() error {
		if m.full() {
			return nil
		}
		out, err := m.nodes[n].CreateKey(m.in(region), in)
		if in.XksKeyId != "" {
			m.mu.Lock()
			m.outcomes["CreateKey (external key store) "+outcomeOf(err)]++
			m.mu.Unlock()
		}
		if err == nil {
			m.mu.Lock()
			m.kinds[out.KeyMetadata.KeyId] = cmKind{spec: cmSpec(in.KeySpec), external: in.Origin == "EXTERNAL"}
			m.mu.Unlock()
			m.addKey(cmKey{out.KeyMetadata.KeyId, region})
		}
		return err
	}
}

// updateKeyDescription sets k's description.
func (m *clusterModel) updateKeyDescription(t *rapid.T, n int, k cmKey) cmCall {
	d := rapid.SampledFrom([]string{"", "x", "y"}).Draw(t, "description")
	return func() error {
		_, err := m.nodes[n].UpdateKeyDescription(m.in(k.region), &UpdateKeyDescriptionInput{KeyId: k.id, Description: d})
		return err
	}
}

// tagResource sets a tag of k.
func (m *clusterModel) tagResource(t *rapid.T, n int, k cmKey) cmCall {
	tag := Tag{TagKey: rapid.SampledFrom([]string{"t1", "t2"}).Draw(t, "tagKey"), TagValue: rapid.SampledFrom([]string{"a", "b"}).Draw(t, "tagValue")}
	return func() error {
		_, err := m.nodes[n].TagResource(m.in(k.region), &TagResourceInput{KeyId: k.id, Tags: []Tag{tag}})
		return err
	}
}

// untagResource removes tags of k.
func (m *clusterModel) untagResource(t *rapid.T, n int, k cmKey) cmCall {
	keys := rapid.SampledFrom([][]string{{"t1"}, {"t2"}, {"t1", "t2"}}).Draw(t, "untagKeys")
	return func() error {
		_, err := m.nodes[n].UntagResource(m.in(k.region), &UntagResourceInput{KeyId: k.id, TagKeys: keys})
		return err
	}
}

// enableKey enables k.
func (m *clusterModel) enableKey(_ *rapid.T, n int, k cmKey) cmCall {
	return func() error {
		_, err := m.nodes[n].EnableKey(m.in(k.region), &EnableKeyInput{KeyId: k.id})
		return err
	}
}

// disableKey disables k.
func (m *clusterModel) disableKey(_ *rapid.T, n int, k cmKey) cmCall {
	return func() error {
		_, err := m.nodes[n].DisableKey(m.in(k.region), &DisableKeyInput{KeyId: k.id})
		return err
	}
}

// enableKeyRotation enables k's automatic rotation, with a drawn period.
func (m *clusterModel) enableKeyRotation(t *rapid.T, n int, k cmKey) cmCall {
	period := rapid.SampledFrom([]int32{0, 90, 180}).Draw(t, "rotationPeriod")
	return func() error {
		in := &EnableKeyRotationInput{KeyId: k.id}
		if period > 0 {
			in.RotationPeriodInDays = Int32(period)
		}
		_, err := m.nodes[n].EnableKeyRotation(m.in(k.region), in)
		return err
	}
}

// disableKeyRotation disables k's automatic rotation.
func (m *clusterModel) disableKeyRotation(_ *rapid.T, n int, k cmKey) cmCall {
	return func() error {
		_, err := m.nodes[n].DisableKeyRotation(m.in(k.region), &DisableKeyRotationInput{KeyId: k.id})
		return err
	}
}

// rotateKeyOnDemand rotates k now.
func (m *clusterModel) rotateKeyOnDemand(_ *rapid.T, n int, k cmKey) cmCall {
	return func() error {
		_, err := m.nodes[n].RotateKeyOnDemand(m.in(k.region), &RotateKeyOnDemandInput{KeyId: k.id})
		return err
	}
}

// scheduleKeyDeletion schedules k's deletion after a drawn window.
func (m *clusterModel) scheduleKeyDeletion(t *rapid.T, n int, k cmKey) cmCall {
	days := rapid.SampledFrom([]int32{7, 30}).Draw(t, "pendingWindow")
	return func() error {
		_, err := m.nodes[n].ScheduleKeyDeletion(m.in(k.region), &ScheduleKeyDeletionInput{KeyId: k.id, PendingWindowInDays: Int32(days)})
		return err
	}
}

// cancelKeyDeletion cancels k's deletion.
func (m *clusterModel) cancelKeyDeletion(_ *rapid.T, n int, k cmKey) cmCall {
	return func() error {
		_, err := m.nodes[n].CancelKeyDeletion(m.in(k.region), &CancelKeyDeletionInput{KeyId: k.id})
		return err
	}
}

// createAlias makes a drawn alias of k, in k's Region.
func (m *clusterModel) createAlias(t *rapid.T, n int, k cmKey) cmCall {
	name := rapid.SampledFrom(cmAliases).Draw(t, "aliasName")
	return func() error {
		_, err := m.nodes[n].CreateAlias(m.in(k.region), &CreateAliasInput{AliasName: name, TargetKeyId: k.id})
		return err
	}
}

// updateAlias moves a drawn alias of k's Region to k.
func (m *clusterModel) updateAlias(t *rapid.T, n int, k cmKey) cmCall {
	name := rapid.SampledFrom(cmAliases).Draw(t, "aliasName")
	return func() error {
		_, err := m.nodes[n].UpdateAlias(m.in(k.region), &UpdateAliasInput{AliasName: name, TargetKeyId: k.id})
		return err
	}
}

// deleteAlias deletes a drawn alias of k's Region.
func (m *clusterModel) deleteAlias(t *rapid.T, n int, k cmKey) cmCall {
	name := rapid.SampledFrom(cmAliases).Draw(t, "aliasName")
	return func() error {
		_, err := m.nodes[n].DeleteAlias(m.in(k.region), &DeleteAliasInput{AliasName: name})
		return err
	}
}

// createGrant makes a grant on k, from a few grantees, operation lists,
// names and retiring principals: an identical grant made again is the
// same grant (D28).
func (m *clusterModel) createGrant(t *rapid.T, n int, k cmKey) cmCall {
	in := &CreateGrantInput{
		KeyId:            k.id,
		GranteePrincipal: rapid.SampledFrom([]string{"arn:aws:iam::111122223333:role/r1", "arn:aws:iam::111122223333:role/r2"}).Draw(t, "grantee"),
		Operations:       rapid.SampledFrom([][]string{{"Decrypt"}, {"Encrypt", "Decrypt"}, {"RetireGrant", "DescribeKey"}}).Draw(t, "grantOps"),
		Name:             rapid.SampledFrom([]string{"", "g"}).Draw(t, "grantName"),
	}
	if rapid.IntRange(0, 3).Draw(t, "retiring") == 0 {
		in.RetiringPrincipal = "arn:aws:iam::111122223333:role/retirer"
	}
	if rapid.IntRange(0, 3).Draw(t, "constraints") == 0 {
		in.Constraints = &GrantConstraints{EncryptionContextSubset: map[string]string{"app": "x"}}
	}
	return func() error {
		out, err := m.nodes[n].CreateGrant(m.in(k.region), in)
		if err == nil {
			m.mu.Lock()
			m.grants = append(m.grants, cmGrant{key: k, id: out.GrantId, token: out.GrantToken})
			m.mu.Unlock()
		}
		return err
	}
}

// drawGrant draws a grant of the pool (one of k's when k has some), or
// one that does not exist, of k.
func (m *clusterModel) drawGrant(t *rapid.T, k cmKey) cmGrant {
	var mine []cmGrant
	for _, g := range m.grants {
		if g.key == k {
			mine = append(mine, g)
		}
	}
	switch {
	case len(mine) > 0 && rapid.IntRange(0, 3).Draw(t, "grantOfKey") != 0:
		return rapid.SampledFrom(mine).Draw(t, "grant")
	case len(m.grants) > 0 && rapid.IntRange(0, 5).Draw(t, "grantMissing") != 0:
		return rapid.SampledFrom(m.grants).Draw(t, "anyGrant")
	}
	return cmGrant{key: k, id: strings.Repeat("0", 64)}
}

// revokeGrant revokes a drawn grant.
func (m *clusterModel) revokeGrant(t *rapid.T, n int, k cmKey) cmCall {
	g := m.drawGrant(t, k)
	return func() error {
		_, err := m.nodes[n].RevokeGrant(m.in(g.key.region), &RevokeGrantInput{KeyId: g.key.id, GrantId: g.id})
		return err
	}
}

// retireGrant retires a drawn grant, by its token or by key ARN and ID.
func (m *clusterModel) retireGrant(t *rapid.T, n int, k cmKey) cmCall {
	g := m.drawGrant(t, k)
	in := &RetireGrantInput{KeyId: g.key.arn(), GrantId: g.id}
	if g.token != "" && rapid.Bool().Draw(t, "byToken") {
		in = &RetireGrantInput{GrantToken: g.token}
	}
	return func() error {
		_, err := m.nodes[n].RetireGrant(m.in(g.key.region), in)
		return err
	}
}

// replicateKey replicates a multi-Region key into a drawn Region.
func (m *clusterModel) replicateKey(t *rapid.T, n int, k cmKey) cmCall {
	k = m.drawMultiRegion(t, k)
	region := rapid.SampledFrom(cmRegions).Draw(t, "replicaRegion")
	desc := rapid.SampledFrom([]string{"", "replica"}).Draw(t, "replicaDescription")
	return func() error {
		if m.full() {
			return nil
		}
		_, err := m.nodes[n].ReplicateKey(m.in(k.region), &ReplicateKeyInput{KeyId: k.id, ReplicaRegion: region, Description: desc})
		if err == nil {
			m.addKey(cmKey{k.id, region})
		}
		return err
	}
}

// updatePrimaryRegion makes a multi-Region key's replica in a drawn
// Region (mostly one the pool has a replica in) its primary.
func (m *clusterModel) updatePrimaryRegion(t *rapid.T, n int, k cmKey) cmCall {
	k = m.drawMultiRegion(t, k)
	var replicas []string
	for _, c := range m.keys {
		if c.id == k.id && c.region != k.region {
			replicas = append(replicas, c.region)
		}
	}
	if len(replicas) == 0 || rapid.IntRange(0, 4).Draw(t, "primaryRegionAny") == 0 {
		replicas = cmRegions
	}
	region := rapid.SampledFrom(replicas).Draw(t, "primaryRegion")
	return func() error {
		_, err := m.nodes[n].UpdatePrimaryRegion(m.in(k.region), &UpdatePrimaryRegionInput{KeyId: k.id, PrimaryRegion: region})
		return err
	}
}

// putKeyPolicy sets k's key policy to one of two.
func (m *clusterModel) putKeyPolicy(t *rapid.T, n int, k cmKey) cmCall {
	doc := rapid.SampledFrom(cmPolicies).Draw(t, "policy")
	return func() error {
		_, err := m.nodes[n].PutKeyPolicy(m.in(k.region), &PutKeyPolicyInput{KeyId: k.id, PolicyName: "default", Policy: doc})
		return err
	}
}

// cmWrappingAlgorithms are the wrapping algorithms the model imports
// with (those kmsmodel models).
var cmWrappingAlgorithms = []string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"}

// cmValidities are how long imported material that expires is valid
// for: hours and days, which advanceClock's steps reach exactly or pass.
var cmValidities = []time.Duration{time.Hour, 3 * time.Hour, 2 * 24 * time.Hour, 8 * 24 * time.Hour, 60 * 24 * time.Hour}

// kindOf is the kind of the key with ID id (symmetric, of origin AWS_KMS,
// for a key the model did not make).
func (m *clusterModel) kindOf(id string) cmKind {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.kinds[id]; ok {
		return c
	}
	return cmKind{spec: cmSymmetric}
}

// drawExternal draws a key of origin EXTERNAL of the pool in place of k
// (but now and then), when there is one and k is not one.
func (m *clusterModel) drawExternal(t *rapid.T, k cmKey) cmKey {
	if m.kindOf(k.id).external {
		return k
	}
	var ext []cmKey
	for _, c := range m.keys {
		if m.kindOf(c.id).external {
			ext = append(ext, c)
		}
	}
	if len(ext) == 0 || rapid.IntRange(0, 7).Draw(t, "externalNot") == 0 {
		return k
	}
	return rapid.SampledFrom(ext).Draw(t, "externalKey")
}

// drawMaterial draws a material for a key of spec spec: mostly its first,
// now and then another, or a symmetric key's (for an HMAC key another
// material that fits, for a signing key one that does not).
func (m *clusterModel) drawMaterial(t *rapid.T, spec string) []byte {
	mats := m.fx.materials[spec]
	switch i := rapid.IntRange(0, 9).Draw(t, "material"); {
	case i == 0:
		mats = m.fx.materials[cmSymmetric]
		return mats[len(mats)-1]
	case i <= 2:
		return mats[i%len(mats)]
	case i == 3:
		return mats[len(mats)-1]
	}
	return mats[0]
}

// importKeyMaterial imports a drawn material into k (an EXTERNAL key of
// the pool, mostly): with the parameters of a GetParametersForImport
// call made now on a drawn node (D67: any node takes the token), or,
// now and then, parameters drawn earlier for k (perhaps expired) or for
// another key; wrapped as an AWS client wraps it, with a drawn
// algorithm; expiring a drawn time after the call (a scheduled event) or
// not. Under today's rules it draws ImportType, KeyMaterialId and
// KeyMaterialDescription too.
func (m *clusterModel) importKeyMaterial(t *rapid.T, n int, k cmKey) cmCall {
	k = m.drawExternal(t, k)
	spec := m.kindOf(k.id).spec
	material := m.drawMaterial(t, spec)
	alg := rapid.SampledFrom(cmWrappingAlgorithms).Draw(t, "wrappingAlgorithm")
	var p cmParams
	switch rapid.IntRange(0, 9).Draw(t, "token") {
	case 0:
		p = m.params[k]
	case 1:
		p = m.params[m.drawKey(t, "tokenKey")]
	}
	if p.out == nil {
		node := rapid.IntRange(0, 1).Draw(t, "paramsNode")
		out, err := m.nodes[node].GetParametersForImport(m.in(k.region), &GetParametersForImportInput{KeyId: k.id,
			WrappingAlgorithm: alg, WrappingKeySpec: "RSA_2048"})
		m.note(t, node, "GetParametersForImport", err)
		if err == nil {
			p = cmParams{out, alg}
			m.params[k] = p
		}
	}
	in := &ImportKeyMaterialInput{KeyId: k.id, ExpirationModel: doesNotExpireModel,
		ImportToken: []byte("not a token"), EncryptedKeyMaterial: []byte("not wrapped")}
	if p.out != nil {
		in.ImportToken, in.EncryptedKeyMaterial = p.out.ImportToken, cmWrap(t, p.out.PublicKey, p.algorithm, material)
	}
	var validFor time.Duration
	if rapid.IntRange(0, 2).Draw(t, "expires") != 0 {
		in.ExpirationModel = expiresModel
		validFor = rapid.SampledFrom(cmValidities).Draw(t, "validFor")
	}
	if m.rules == RulesCurrent && spec == cmSymmetric {
		in.ImportType = rapid.SampledFrom([]string{"", "", "NEW_KEY_MATERIAL", "EXISTING_KEY_MATERIAL"}).Draw(t, "importType")
		if in.ImportType != "NEW_KEY_MATERIAL" && rapid.Bool().Draw(t, "importMaterialId") {
			in.KeyMaterialId = importedMaterialID(material)
		}
		if rapid.IntRange(0, 3).Draw(t, "materialDescription") == 0 {
			d := "material"
			in.KeyMaterialDescription = &d
		}
	}
	return func() error {
		if validFor > 0 {
			v := m.clock.Now().Add(validFor)
			in.ValidTo = &v
		}
		_, err := m.nodes[n].ImportKeyMaterial(m.in(k.region), in)
		return err
	}
}

// deleteImportedKeyMaterial deletes k's imported material (an EXTERNAL
// key of the pool, mostly); under today's rules now and then a drawn
// material of a symmetric key by its ID.
func (m *clusterModel) deleteImportedKeyMaterial(t *rapid.T, n int, k cmKey) cmCall {
	k = m.drawExternal(t, k)
	in := &DeleteImportedKeyMaterialInput{KeyId: k.id}
	if spec := m.kindOf(k.id).spec; m.rules == RulesCurrent && spec == cmSymmetric && rapid.IntRange(0, 2).Draw(t, "deleteById") == 0 {
		in.KeyMaterialId = importedMaterialID(m.drawMaterial(t, spec))
	}
	return func() error {
		_, err := m.nodes[n].DeleteImportedKeyMaterial(m.in(k.region), in)
		return err
	}
}

// useKey uses k on node n as its kind allows (Encrypt, GenerateMac or
// Sign), which an asymmetric or HMAC key of origin AWS_KMS needs once
// to have its material made and written (a write that may lose its race,
// as a symmetric key's first use draws the root secret); the check uses
// the key from then on, and takes what it made again.
func (m *clusterModel) useKey(_ *rapid.T, n int, k cmKey) cmCall {
	return func() error {
		made, err := m.use(n, k)
		if err == nil {
			m.mu.Lock()
			m.used[k.id] = true
			m.keepSample(k, made)
			m.mu.Unlock()
		}
		return err
	}
}

// keepSample keeps what key k made, for the check to take again: the
// first two things, the second replaced by each newer one. The caller
// holds m.mu.
func (m *clusterModel) keepSample(k cmKey, made []byte) {
	if s := m.samples[k]; len(s) < 2 {
		m.samples[k] = append(s, made)
	} else {
		s[1] = made
	}
}

// cmMessage is what the model encrypts, MACs and signs.
var cmMessage = []byte("cluster model")

// use has node n use key k as its kind allows, and returns what it made:
// a ciphertext (Encrypt), a MAC (GenerateMac) or a signature (Sign).
func (m *clusterModel) use(n int, k cmKey) ([]byte, error) {
	ctx, node := m.in(k.region), m.nodes[n]
	switch m.kindOf(k.id).spec {
	case cmHMAC:
		out, err := node.GenerateMac(ctx, &GenerateMacInput{KeyId: k.id, Message: cmMessage, MacAlgorithm: "HMAC_SHA_256"})
		if err != nil {
			return nil, err
		}
		return out.Mac, nil
	case cmECC:
		out, err := node.Sign(ctx, &SignInput{KeyId: k.id, Message: cmMessage, SigningAlgorithm: "ECDSA_SHA_256"})
		if err != nil {
			return nil, err
		}
		return out.Signature, nil
	}
	out, err := node.Encrypt(ctx, &EncryptInput{KeyId: k.id, Plaintext: cmMessage})
	if err != nil {
		return nil, err
	}
	return out.CiphertextBlob, nil
}

// errWrongPlaintext is what take returns for a ciphertext that decrypts
// to another plaintext than the one encrypted.
var errWrongPlaintext = errors.New("Decrypt returned another plaintext than the one encrypted")

// take has node n take again what key k made (use): decrypt the
// ciphertext (to cmMessage, or it fails with errWrongPlaintext), verify
// the MAC or the signature.
func (m *clusterModel) take(n int, k cmKey, made []byte) error {
	ctx, node := m.in(k.region), m.nodes[n]
	var err error
	switch m.kindOf(k.id).spec {
	case cmHMAC:
		_, err = node.VerifyMac(ctx, &VerifyMacInput{KeyId: k.id, Message: cmMessage, MacAlgorithm: "HMAC_SHA_256", Mac: made})
	case cmECC:
		_, err = node.Verify(ctx, &VerifyInput{KeyId: k.id, Message: cmMessage, SigningAlgorithm: "ECDSA_SHA_256", Signature: made})
	default:
		var out *DecryptOutput
		out, err = node.Decrypt(ctx, &DecryptInput{KeyId: k.id, CiphertextBlob: made})
		if err == nil && !bytes.Equal(out.Plaintext, cmMessage) {
			err = errWrongPlaintext
		}
	}
	return err
}

// cmWrap wraps material under the DER public key with algorithm, as an
// AWS client does: RSA-OAEP of the material, or RSA-OAEP of a fresh AES
// key followed by the material under AES key wrap with padding (RFC
// 5649).
func cmWrap(t cmTB, der []byte, algorithm string, material []byte) []byte {
	pk, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := pk.(*rsa.PublicKey)
	if !ok {
		t.Fatal(fmt.Sprintf("the wrapping public key is a %T", pk))
	}
	h := sha256.New
	if strings.HasSuffix(algorithm, "SHA_1") {
		h = sha1.New
	}
	if strings.HasPrefix(algorithm, "RSAES_OAEP") {
		out, err := rsa.EncryptOAEP(h(), crand.Reader, pub, material, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	kek := make([]byte, 32)
	crand.Read(kek)
	out, err := rsa.EncryptOAEP(h(), crand.Reader, pub, kek, nil)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 5649: the padded material in n 64-bit blocks after an
	// integrity check value of the alternative IV and the length, then
	// RFC 3394's wrap (or one AES block when n is 1).
	nb := (len(material) + 7) / 8
	r := make([]byte, 8*nb)
	copy(r, material)
	var a [8]byte
	copy(a[:], []byte{0xA6, 0x59, 0x59, 0xA6})
	binary.BigEndian.PutUint32(a[4:], uint32(len(material)))
	if nb == 1 {
		b := make([]byte, 16)
		block.Encrypt(b, append(a[:], r...))
		return append(out, b...)
	}
	var b [16]byte
	for j := range 6 {
		for i := 1; i <= nb; i++ {
			copy(b[:8], a[:])
			copy(b[8:], r[8*(i-1):8*i])
			block.Encrypt(b[:], b[:])
			binary.BigEndian.PutUint64(a[:], binary.BigEndian.Uint64(b[:8])^uint64(nb*j+i))
			copy(r[8*(i-1):], b[8:])
		}
	}
	return append(append(out, a[:]...), r...)
}

// advanceClock moves the cluster's clock on, by a drawn time that ends
// on-demand rotations, Creating and Updating states, pending deletions or
// rotation periods, and then, half the time, has node n apply the events
// that fell due (as its next call would).
func (m *clusterModel) advanceClock(t *rapid.T, n int, _ cmKey) cmCall {
	d := rapid.SampledFrom([]time.Duration{time.Hour, 2 * time.Hour, 8 * 24 * time.Hour, 31 * 24 * time.Hour, 91 * 24 * time.Hour, 200 * 24 * time.Hour}).Draw(t, "advance")
	sweep := rapid.Bool().Draw(t, "sweepAfter")
	return func() error {
		if _, err := m.clock.Advance(d); err != nil {
			return err
		}
		if sweep {
			m.nodes[n].Sweep()
		}
		return nil
	}
}

// customKeyStore makes the run's first custom key store (a CloudHSM or an
// external key store in the default Region) and connects it, or, once there is one,
// connects or disconnects one, makes another (a CloudHSM or an external
// key store, of a name that may be taken: D69), renames one (a connected
// external key store too) or deletes one (refused while it is connected
// or holds keys). Its keys are Unavailable while it is disconnected.
func (m *clusterModel) customKeyStore(t *rapid.T, n int, _ cmKey) cmCall {
	node := m.nodes[n]
	create := func(name string) cmCall {
		in := &CreateCustomKeyStoreInput{CustomKeyStoreName: name, CloudHsmClusterId: "cluster-1a23b4cdefg",
			TrustAnchorCertificate: "-----BEGIN CERTIFICATE-----", KeyStorePassword: Sensitive("kmsuser-secret-pw")}
		switch name {
		case "two":
			in.CloudHsmClusterId = "cluster-2b34c5defgh"
		case "xks":
			in = &CreateCustomKeyStoreInput{CustomKeyStoreName: name, CustomKeyStoreType: TypeExternalKeyStore,
				XksProxyUriEndpoint: "https://xks.example.com", XksProxyUriPath: "/example/kms/xks/v1", XksProxyConnectivity: "PUBLIC_ENDPOINT",
				XksProxyAuthenticationCredential: &XksProxyAuthenticationCredential{AccessKeyId: "ABCDEFGHIJKLMNOPQRST",
					RawSecretAccessKey: Sensitive("0123456789abcdef0123456789abcdef0123456789abcdef")}}
		}
		return func() error {
			out, err := node.CreateCustomKeyStore(m.ctx, in)
			if err != nil {
				return err
			}
			m.mu.Lock()
			m.stores = append(m.stores, out.CustomKeyStoreId)
			if name == "xks" {
				m.xks[out.CustomKeyStoreId] = true
			}
			m.mu.Unlock()
			_, err = node.ConnectCustomKeyStore(m.ctx, &ConnectCustomKeyStoreInput{CustomKeyStoreId: out.CustomKeyStoreId})
			return err
		}
	}
	if len(m.stores) == 0 {
		return create(rapid.SampledFrom([]string{"hsm", "xks"}).Draw(t, "firstStore"))
	}
	id := rapid.SampledFrom(m.stores).Draw(t, "customKeyStore")
	switch rapid.IntRange(0, 5).Draw(t, "storeOp") {
	case 0:
		return func() error {
			_, err := node.DisconnectCustomKeyStore(m.ctx, &DisconnectCustomKeyStoreInput{CustomKeyStoreId: id})
			return err
		}
	case 1:
		return create(rapid.SampledFrom([]string{"hsm", "two", "xks"}).Draw(t, "storeName"))
	case 2:
		name := rapid.SampledFrom([]string{"hsm", "two", "three"}).Draw(t, "newStoreName")
		return func() error {
			_, err := node.UpdateCustomKeyStore(m.ctx, &UpdateCustomKeyStoreInput{CustomKeyStoreId: id, NewCustomKeyStoreName: name})
			return err
		}
	case 3:
		return func() error {
			_, err := node.DeleteCustomKeyStore(m.ctx, &DeleteCustomKeyStoreInput{CustomKeyStoreId: id})
			return err
		}
	}
	return func() error {
		_, err := node.ConnectCustomKeyStore(m.ctx, &ConnectCustomKeyStoreInput{CustomKeyStoreId: id})
		return err
	}
}

// sweep has node n apply the events due.
func (m *clusterModel) sweep(_ *rapid.T, n int, _ cmKey) cmCall {
	return func() error {
		m.nodes[n].Sweep()
		return nil
	}
}

// step returns the action of operation op: on a drawn node and key (for
// the import operations, mostly one of origin EXTERNAL, which the race
// then writes too), with, a third of the time, a race armed first (see
// drawRace).
func (m *clusterModel) step(name string, op cmOp, names []string, ops map[string]cmOp) func(*rapid.T) {
	return func(t *rapid.T) {
		n := rapid.IntRange(0, 1).Draw(t, "node")
		k := m.drawKey(t, "key")
		if strings.Contains(name, "ImportedKeyMaterial") || strings.HasPrefix(name, "ImportKeyMaterial") {
			k = m.drawExternal(t, k)
		}
		call := op(m, t, n, k)
		if rapid.IntRange(0, 2).Draw(t, "race") == 0 {
			m.drawRace(t, n, name, k, names, ops)
		}
		m.run(t, n, name, call)
	}
}

// burst is the action of a few calls, mostly on one node, with no check
// in between: the other node applies their commits together, or between
// its own writes.
func (m *clusterModel) burst(names []string, ops map[string]cmOp) func(*rapid.T) {
	return func(t *rapid.T) {
		n := rapid.IntRange(0, 1).Draw(t, "node")
		for range rapid.IntRange(2, 4).Draw(t, "burst") {
			if rapid.IntRange(0, 3).Draw(t, "burstSwitch") == 0 {
				n = 1 - n
			}
			name := rapid.SampledFrom(names).Draw(t, "burstOp")
			m.run(t, n, name, ops[name](m, t, n, m.drawKey(t, "key")))
		}
	}
}

// run makes call, op's on node n, and fails t if it, a race it lost or a
// call made behind its group fails with KMSInternalException.
func (m *clusterModel) run(t *rapid.T, n int, op string, call cmCall) {
	err := call()
	m.armed = 0
	m.extras.Wait()
	select {
	case xerr := <-m.extraErrs:
		t.Fatalf("a call made on node %d behind %s's group: %v", n, op, xerr)
	default:
	}
	if m.raceErr != nil {
		t.Fatalf("the race's call: %v", m.raceErr)
	}
	m.note(t, n, op, err)
}

// note counts the outcome err of op's call on node n, and fails t if it
// is KMSInternalException.
func (m *clusterModel) note(t *rapid.T, n int, op string, err error) {
	if isInternal(err) {
		t.Fatalf("%s on node %d: %v", op, n, err)
	}
	m.outcomes[strings.TrimRight(op, "0123456789")+" "+outcomeOf(err)]++
}

// outcomeOf is "ok", or the AWS exception name of err.
func outcomeOf(err error) string {
	if e := (*keystate.Error)(nil); errors.As(err, &e) {
		return string(e.Code)
	}
	return "ok"
}

// drawRace arms a race for node n's next write (op's, about key k): the
// other node makes one or two drawn writes (half the time op's again,
// mostly of k) just before it reaches the store, and now and then node n
// makes one or two more calls first, which log their batches behind its
// group and fail with it if it loses.
func (m *clusterModel) drawRace(t *rapid.T, n int, op string, k cmKey, names []string, ops map[string]cmOp) {
	pick := func(label string) (string, cmKey) {
		name := op
		if rapid.Bool().Draw(t, label+"Other") {
			name = rapid.SampledFrom(names).Draw(t, label)
		}
		if rapid.IntRange(0, 3).Draw(t, label+"OtherKey") == 0 {
			return name, m.drawKey(t, label+"Key")
		}
		return name, k
	}
	var race, behind []cmCall
	for range rapid.IntRange(1, 2).Draw(t, "raceCalls") {
		name, rk := pick("raceOp")
		race = append(race, ops[name](m, t, 1-n, rk))
	}
	for range rapid.SampledFrom([]int{0, 0, 0, 1, 2}).Draw(t, "behindCalls") {
		name, bk := pick("behindOp")
		behind = append(behind, ops[name](m, t, n, bk))
	}
	m.arm(n, race, behind)
}

// arm makes node n's next write lose its race to the calls race, made by
// the other node, after the calls behind, each in a goroutine of its
// own, have logged their batches on node n (or read what the group
// wrote) and wait for the group, or have finished.
// A call's error other than KMSInternalException is an answer (the key
// was deleted meanwhile, say); that one fails the step.
func (m *clusterModel) arm(n int, race, behind []cmCall) {
	m.arms++
	id := m.arms
	m.armed = id
	node := m.nodes[n]
	m.hooks[n].Before(func() {
		if m.armed != id {
			return
		}
		m.armed = 0
		m.races++
		for _, call := range behind {
			m.behind++
			base := node.waiters.Load()
			done := make(chan struct{})
			m.extras.Go(func() {
				defer close(done)
				if err := call(); isInternal(err) {
					select {
					case m.extraErrs <- err:
					default:
					}
				}
			})
			// Yield until the call waits for its batch (or for this
			// group, having read what it wrote) or is done; a bounded
			// number of times, should it wait for this group elsewhere.
			for range 1 << 20 {
				select {
				case <-done:
				default:
					if node.waiters.Load() == base {
						runtime.Gosched()
						continue
					}
				}
				break
			}
		}
		for _, call := range race {
			if err := call(); isInternal(err) && m.raceErr == nil {
				m.raceErr = fmt.Errorf("on node %d: %w", 1-n, err)
			}
		}
	})
}

// isInternal reports whether err is a KMSInternalException: a cluster
// node runs a call that lost its race again, and its caller never sees
// the lost race.
func isInternal(err error) bool { return errors.Is(err, keystate.ErrKMSInternal) }

// check is the invariant checked after every step: the nodes answer the
// same reads alike (node 0's first read applies the events due, node 1's
// catch up with what it wrote: an event node 0 missed, node 1 applies
// and answers differently), and each node, caught up, holds the state a
// node loaded from the store holds.
func (m *clusterModel) check(t *rapid.T) {
	first := m.view(t, 0)
	if other := m.view(t, 1); first != other {
		t.Fatalf("node 0 and node 1 answer differently (- node 0, + node 1):\n%s", lineDiff(first, other))
	}
	for i, n := range m.nodes {
		if err := n.Ready(m.ctx); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		loaded := loadedService(t, n.cfg, m.st)
		want := digest(loaded)
		n.mu.Lock()
		got := digest(n)
		n.mu.Unlock()
		if got != want {
			t.Fatalf("node %d's state:\n%s\ndiffers from the state loaded from the store (- node, + loaded):\n%s", i, got, lineDiff(got, want))
		}
		rev, err := m.st.Revision(m.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := n.ClusterStatus(); s.Revision != rev {
			t.Fatalf("node %d, caught up, is at revision %d; the store at %d", i, s.Revision, rev)
		}
		m.countQueued(t, n, loaded)
	}
	m.checkUse(t)
}

// checkUse has each node use every key of origin EXTERNAL and every key a
// step used (Encrypt, GenerateMac or Sign), and take what the other made
// (Decrypt, VerifyMac or Verify), and what the key made before (after
// its material was deleted, expired, imported again, rotated): both
// nodes must answer alike, and a node takes what the other made when it
// could make it.
func (m *clusterModel) checkUse(t *rapid.T) {
	for _, k := range m.keys {
		if !m.kindOf(k.id).external && !m.used[k.id] {
			continue
		}
		var made [2][]byte
		var outcome [2]string
		for n := range made {
			var err error
			made[n], err = m.use(n, k)
			outcome[n] = useOutcome(t, err)
		}
		if outcome[0] != outcome[1] {
			t.Fatalf("key %s in %s used on node 0: %s; on node 1: %s", k.id, k.region, outcome[0], outcome[1])
		}
		if made[0] != nil {
			for n := range made {
				if err := m.take(1-n, k, made[n]); err != nil {
					t.Fatalf("key %s in %s: node %d does not take what node %d made: %v", k.id, k.region, 1-n, n, err)
				}
			}
			if m.mu.Lock(); len(m.samples[k]) == 0 {
				m.keepSample(k, made[0])
			}
			m.mu.Unlock()
		}
		for i, sample := range m.samples[k] {
			for n := range outcome {
				outcome[n] = useOutcome(t, m.take(n, k, sample))
			}
			if outcome[0] != outcome[1] {
				t.Fatalf("key %s in %s: what it made (sample %d) taken on node 0: %s; on node 1: %s", k.id, k.region, i, outcome[0], outcome[1])
			}
		}
	}
}

// useOutcome prints the outcome of a use of a key: ok, or the error's
// exception and key state.
func useOutcome(t *rapid.T, err error) string {
	if err == nil {
		return "ok"
	}
	var e *keystate.Error
	if !errors.As(err, &e) || e.Code == keystate.ErrKMSInternal {
		t.Fatalf("a use of a key failed: %v", err)
	}
	return fmt.Sprintf("%s (%s)", e.Code, e.State)
}

// countQueued checks that node n's event queue holds the events it
// counts, and records its length and the most copies it holds of one
// event, beside the length of the queue of loaded, a service loaded from
// the store: events are queued lazily, and a queue that holds ever more
// copies of one event (a key's record written again and again, say)
// grows without bound.
func (m *clusterModel) countQueued(t *rapid.T, n, loaded *Service) {
	n.mu.Lock()
	evs, want := queuedEvents(&n.queue), n.queue.len()
	n.mu.Unlock()
	if len(evs) != want {
		t.Fatalf("the event queue holds %d events, and counts %d", len(evs), want)
	}
	copies := map[queued]int{}
	for _, ev := range evs {
		ev.seq = 0
		copies[ev]++
		m.maxCopies = max(m.maxCopies, copies[ev])
	}
	m.maxQueued = max(m.maxQueued, len(evs))
	m.maxLoadedQueued = max(m.maxLoadedQueued, loaded.queue.len())
}

// queuedEvents lists the events q holds, in no order.
func queuedEvents(q *eventQueue) []queued {
	evs := slices.Clone(q.staged)
	evs = append(evs, q.run[q.head:]...)
	evs = append(evs, q.extra.h...)
	bucket := func(b *bucket) {
		left := b.n
		for c := b.head; c != nil && left > 0; c = c.next {
			evs = append(evs, c.ev[:min(left, chunkSize)]...)
			left -= chunkSize
		}
	}
	for i := range q.near {
		if q.near[i].n > 0 {
			bucket(&q.near[i])
		}
	}
	for _, b := range q.far {
		bucket(b)
	}
	return evs
}

// cmEventNames name the kinds of queued events.
var cmEventNames = map[eventKind]string{evAutoRotation: "automatic rotation", evOnDemandDone: "on-demand rotation's end",
	evDeletion: "deletion", evMaterialExpiry: "material expiry", evReplicaReady: "replica's creation", evUpdateDone: "primary update"}

// digestWaits prints, for digest, key k's imported material (its ID,
// whether it is present, its expiry and expiration model, and the
// materials besides it under today's rules) and the events k waits for
// after the instant the service's clock reads: those a service loading k
// from the store queues for it (requeue), each with whether s has it
// queued (evs holds the events s queued for k). Events that have gone
// stale are left out: a queue may hold them (apply drops them).
func digestWaits(s *Service, k *key, evs []queued) string {
	var out strings.Builder
	if imp := k.imp; imp != nil && k.kind.Origin == keystate.External {
		fmt.Fprintf(&out, "    material %s present %v validTo %d", imp.id, imp.present(), imp.validTo)
		if imp.present() {
			fmt.Fprintf(&out, " model %s", imp.model())
		}
		if imp.more != nil {
			for _, mm := range imp.more.all() {
				fmt.Fprintf(&out, " [%s present %v validTo %d pending %v]", mm.id, mm.sealed != nil, mm.validTo, mm == imp.more.pending)
			}
		}
		out.WriteString("\n")
	}
	now := micros(s.cfg.clock.Now())
	wait := func(what eventKind, at int64, waits bool) {
		if !waits || at <= now {
			return
		}
		found := slices.ContainsFunc(evs, func(ev queued) bool { return ev.what == what && ev.at == at })
		fmt.Fprintf(&out, "    waits for %s at %d: queued %v\n", cmEventNames[what], at, found)
	}
	wait(evAutoRotation, k.nextRotation, k.autoEnabled && k.nextRotation != 0 && owns(k))
	wait(evOnDemandDone, k.onDemandDone, k.onDemandStart != 0 && owns(k))
	wait(evReplicaReady, k.deletion, k.state == keystate.Creating && k.deletion != 0)
	wait(evUpdateDone, k.deletion, k.state == keystate.Updating && k.deletion != 0)
	wait(evDeletion, k.deletion, k.state == keystate.PendingDeletion)
	expiries(k.imp, func(at int64) { wait(evMaterialExpiry, at, true) })
	return out.String()
}

// view prints node n's answers to the reads of every key of the pool in
// its Region (DescribeKey, GetKeyRotationStatus, ListKeyRotations,
// ListGrants, ListResourceTags, GetKeyPolicy), of every Region (ListKeys,
// ListAliases), and of the custom key stores (DescribeCustomKeyStores).
func (m *clusterModel) view(t *rapid.T, n int) string {
	node := m.nodes[n]
	var out strings.Builder
	for _, r := range cmRegions {
		ctx := m.in(r)
		keys, err := node.ListKeys(ctx, &ListKeysInput{Limit: Int32(1000)})
		fmt.Fprintf(&out, "%s ListKeys %s\n", r, answer(t, keys, err))
		aliases, err := node.ListAliases(ctx, &ListAliasesInput{Limit: Int32(100)})
		fmt.Fprintf(&out, "%s ListAliases %s\n", r, answer(t, aliases, err))
	}
	if len(m.stores) > 0 {
		stores, err := node.DescribeCustomKeyStores(m.ctx, &DescribeCustomKeyStoresInput{})
		fmt.Fprintf(&out, "DescribeCustomKeyStores %s\n", answer(t, stores, err))
	}
	for _, k := range m.keys {
		ctx := m.in(k.region)
		d, err := node.DescribeKey(ctx, &DescribeKeyInput{KeyId: k.id})
		fmt.Fprintf(&out, "%s %s DescribeKey %s\n", k.region, k.id, answer(t, d, err))
		rs, err := node.GetKeyRotationStatus(ctx, &GetKeyRotationStatusInput{KeyId: k.id})
		fmt.Fprintf(&out, "  GetKeyRotationStatus %s\n", answer(t, rs, err))
		rots, err := node.ListKeyRotations(ctx, &ListKeyRotationsInput{KeyId: k.id, Limit: Int32(1000)})
		fmt.Fprintf(&out, "  ListKeyRotations %s\n", answer(t, rots, err))
		gs, err := node.ListGrants(ctx, &ListGrantsInput{KeyId: k.id, Limit: Int32(1000)})
		fmt.Fprintf(&out, "  ListGrants %s\n", answer(t, gs, err))
		tags, err := node.ListResourceTags(ctx, &ListResourceTagsInput{KeyId: k.id})
		fmt.Fprintf(&out, "  ListResourceTags %s\n", answer(t, tags, err))
		p, err := node.GetKeyPolicy(ctx, &GetKeyPolicyInput{KeyId: k.id, PolicyName: "default"})
		fmt.Fprintf(&out, "  GetKeyPolicy %s\n", answer(t, p, err))
	}
	return out.String()
}

// answer prints a call's answer: its output as JSON, or its error's
// exception, operation, key and key state.
func answer(t *rapid.T, out any, err error) string {
	if err != nil {
		var e *keystate.Error
		if !errors.As(err, &e) {
			t.Fatalf("an error that is no keystate.Error: %v", err)
		}
		if e.Code == keystate.ErrKMSInternal {
			t.Fatalf("a read failed: %v", err)
		}
		return fmt.Sprintf("error %s %s %s %s", e.Code, e.Op, e.KeyID, e.State)
	}
	b, jerr := json.Marshal(out)
	if jerr != nil {
		t.Fatal(jerr)
	}
	return string(b)
}

// lineDiff prints the lines of got and want that differ, position by
// position (enough for digests and views, whose lines rarely shift).
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var out strings.Builder
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			fmt.Fprintf(&out, "line %d:\n- %s\n+ %s\n", i+1, a, b)
		}
	}
	return out.String()
}

// TestClusterModel: two cluster nodes over one shared store take random
// writes (keys of several kinds and Regions, some in a custom key store;
// descriptions, tags, states, rotation settings and on-demand rotations,
// deletions scheduled and cancelled, aliases, grants, replication and
// primary updates of multi-Region keys, key policies, custom key store
// connections, key material imported into EXTERNAL keys (with a token
// one node or the other issued, expiring or not), imported again and
// deleted, keys' first use (which makes an HMAC or signing key's
// material), and the shared clock moved on so that scheduled events,
// material expiries among them, fall due) on a small pool of keys,
// aliases and grants, under the 2024 rules or, a third of the runs,
// today's. A third of the steps lose their race to one or two writes the
// other node makes just before theirs reaches the store, some with calls
// on the same node logged behind the racing group (which fail with it);
// bursts of calls leave the other node several commits to apply at once.
// After every step both nodes answer the same reads alike, each uses the
// keys with material as the other does and takes what the other made
// with them (checkUse), and each, caught up, holds exactly the state a
// node loaded from the store holds, the events it waits for included:
// applying the other node's commits in place, undoing a lost race in
// place or by a reload, and running the calls again leave no trace. Lost
// races must be undone in place over the run, or the test does not test
// that.
func TestClusterModel(t *testing.T) {
	var undone, reloads, retries, races, behind, maxQueued, maxLoadedQueued, maxCopies int
	outcomes := map[string]int{}
	fx := newCMFixtures(t)
	rapid.Check(t, func(t *rapid.T) {
		m := newClusterModel(t, fx)
		ops := m.ops()
		var names []string
		for name := range ops {
			names = append(names, name)
		}
		slices.Sort(names)
		for i := range rapid.IntRange(1, 3).Draw(t, "initialKeys") {
			if err := m.createKey(t, i%2, cmKey{})(); err != nil {
				t.Fatal(err)
			}
		}
		actions := map[string]func(*rapid.T){"": m.check}
		for name, op := range ops {
			actions[name] = m.step(name, op, names, ops)
		}
		actions["Burst"] = m.burst(names, ops)
		t.Repeat(actions)
		for _, n := range m.nodes {
			s, _ := n.ClusterStatus()
			undone += s.UndoneInPlace
			reloads += s.Reloads
			retries += s.Retries
		}
		races += m.races
		behind += m.behind
		maxQueued, maxLoadedQueued, maxCopies = max(maxQueued, m.maxQueued), max(maxLoadedQueued, m.maxLoadedQueued), max(maxCopies, m.maxCopies)
		for k, v := range m.outcomes {
			outcomes[k] += v
		}
	})
	if testing.Verbose() {
		for _, k := range slices.Sorted(maps.Keys(outcomes)) {
			t.Logf("%6d %s", outcomes[k], k)
		}
	}
	t.Logf("races %d (calls made behind the racing group %d); lost races undone in place %d, reloads %d, calls run again %d",
		races, behind, undone, reloads, retries)
	t.Logf("events queued on a node: at most %d (on a node loaded from the store %d), at most %d copies of one",
		maxQueued, maxLoadedQueued, maxCopies)
	if undone == 0 && !t.Failed() {
		t.Error("no lost race was undone in place: the test does not exercise undoInPlace")
	}
}

// TestClusterModelRegressionGrantOrder: found by TestClusterModel. The
// grants of a key made at one instant are listed by ListGrants in the
// order a node installed them (its own as it made them, the other
// nodes' as it applied their commits), but by a node that loaded them
// from the store in grant ID order (loadGrants sorts by creation date
// only). A node that reloads its state (here to apply another node's
// commit of a custom key store) then lists them in another order than
// the node beside it, and ListGrants' marker is a position in that list:
// a client whose pages go to different nodes (behind a load balancer)
// gets a grant twice and misses another. Every node should list a key's
// grants in one order, the one a node loaded from the store lists them
// in.
func TestClusterModelRegressionGrantOrder(t *testing.T) {
	ctx := context.Background()
	_, _, nodes, _ := cmOpen(t)
	a, b := nodes[0], nodes[1]
	out, err := a.CreateKey(ctx, &CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	const n = 3
	for i := range n {
		if _, err := a.CreateGrant(ctx, &CreateGrantInput{KeyId: id, GranteePrincipal: fmt.Sprint("arn:aws:iam::111122223333:role/r", i),
			Operations: []string{"Decrypt"}}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(n *Service, limit int32, marker string) *ListGrantsOutput {
		out, err := n.ListGrants(ctx, &ListGrantsInput{KeyId: id, Limit: Int32(limit), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	ids := func(gs []GrantListEntry) (s []string) {
		for _, g := range gs {
			s = append(s, g.GranteePrincipal[strings.LastIndexByte(g.GranteePrincipal, '/')+1:])
		}
		return s
	}
	before := ids(list(b, n, "").Grants)
	// a reloads (as a commit that does not fit, or a compacted watch,
	// makes a node do).
	a.mu.Lock()
	if err := a.reload(); err != nil {
		t.Fatal(err)
	}
	a.mu.Unlock()
	onA, onB := ids(list(a, n, "").Grants), ids(list(b, n, "").Grants)
	if s, _ := a.ClusterStatus(); s.Reloads != 1 {
		t.Fatalf("a's status %+v: want one reload", s)
	}
	if !slices.Equal(onA, onB) {
		t.Errorf("a, reloaded, lists the grants %v; b lists %v (and did before: %v)", onA, onB, before)
	}
	var paged []string
	marker := ""
	for i := range n {
		page := list(nodes[i%2], 1, marker)
		paged = append(paged, ids(page.Grants)...)
		marker = page.NextMarker
	}
	distinct := slices.Clone(paged)
	if slices.Sort(distinct); len(slices.Compact(distinct)) != n {
		t.Errorf("ListGrants one grant a page, on a and b in turn, lists %v, want the %d grants once each", paged, n)
	}
}

// TestClusterModelRegressionPrimaryKeepsFamilyOfOne: found by
// TestClusterModel. When the last replica of a primary waiting in
// PendingReplicaDeletion is deleted (a scheduled event), the primary is
// left alone, and a key alone has no family (leaveFamily, link: a node
// loaded from the store has none for it); but the node that applied the
// event keeps a family whose only member is the primary.
func TestClusterModelRegressionPrimaryKeepsFamilyOfOne(t *testing.T) {
	ctx := context.Background()
	_, _, nodes, clock := cmOpen(t)
	a := nodes[0]
	west := WithCallerRegion(ctx, "us-west-2")
	out, err := a.CreateKey(ctx, &CreateKeyInput{MultiRegion: true})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	if _, err := a.ReplicateKey(ctx, &ReplicateKeyInput{KeyId: id, ReplicaRegion: "us-west-2"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []context.Context{ctx, west} {
		if _, err := a.ScheduleKeyDeletion(c, &ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: Int32(7)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := clock.Advance(8 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	a.Sweep() // the replica is deleted; the primary's waiting period starts
	if _, err := a.DescribeKey(west, &DescribeKeyInput{KeyId: id}); !errors.Is(err, keystate.ErrNotFound) {
		t.Fatalf("the replica after its deletion: %v, want NotFoundException", err)
	}
	a.mu.Lock()
	p := a.regions[0].keys.get(id)
	var members int
	if p.fam != nil {
		members = len(p.fam.members)
	}
	state := p.state
	a.mu.Unlock()
	if state != keystate.PendingDeletion {
		t.Errorf("the primary is %s, want PendingDeletion", state)
	}
	if members != 0 {
		t.Errorf("the primary, alone, has a family of %d member(s); a key alone has none, as a node loaded from the store has none", members)
	}
}

// TestClusterModelRegressionReplicaOrder: found by TestClusterModel. A
// node's ReplicateKey of key q commits while the node's next batch, a
// ReplicateKey of key p into the same Region logged behind it, loses its
// race to the other node's replication of p there. Applying the other
// node's commit, the node finds p's replica in memory (made by its own
// batch, not yet undone) and installs the record in place, with the
// other node's creation order (store.Key.Seq), but at the replica's place
// in the Region's order, after q's: the node lists the Region's keys out
// of creation order, unlike the other node and a node loaded from the
// store, and its ListKeys, page by page (it finds a marker's place by
// binary search in that order), misses a key.
func TestClusterModelRegressionReplicaOrder(t *testing.T) {
	ctx := context.Background()
	st, hooks, nodes, _ := cmOpen(t)
	a, b := nodes[0], nodes[1]
	var ids []string
	for range 2 {
		out, err := a.CreateKey(ctx, &CreateKeyInput{MultiRegion: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, out.KeyMetadata.KeyId)
	}
	slices.Sort(ids)
	p, q := ids[0], ids[1] // same creation order in the Region, p lists first
	if _, err := b.DescribeKey(ctx, &DescribeKeyInput{KeyId: p}); err != nil {
		t.Fatal(err)
	}
	const eu = "eu-west-1"
	replicate := func(n *Service, id string) error {
		_, err := n.ReplicateKey(ctx, &ReplicateKeyInput{KeyId: id, ReplicaRegion: eu})
		return err
	}
	var wg sync.WaitGroup
	hooks[0].Before(func() {
		// While a writes q's replica: a logs p's replica behind it, and b
		// replicates p first.
		base := a.waiters.Load()
		wg.Go(func() {
			if err := replicate(a, p); !errors.Is(err, keystate.ErrAlreadyExists) {
				t.Errorf("a's replication of p, after b's: %v, want AlreadyExistsException", err)
			}
		})
		for a.waiters.Load() == base {
			runtime.Gosched()
		}
		if err := replicate(b, p); err != nil {
			t.Error(err)
		}
	})
	if err := replicate(a, q); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	fresh, err := Open(ctx, st, WithClock(NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	list := func(n *Service) (out []string) {
		keys, err := n.ListKeys(WithCallerRegion(ctx, eu), &ListKeysInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys.Keys {
			name := "q"
			if k.KeyId == p {
				name = "p"
			}
			out = append(out, name)
		}
		return out
	}
	want := list(fresh)
	for name, n := range map[string]*Service{"a": a, "b": b} {
		if got := list(n); !slices.Equal(got, want) {
			t.Errorf("node %s lists the replicas in %s as %v; a node loaded from the store lists %v", name, eu, got, want)
		}
	}
	// Page by page, a's ListKeys looks for the keys after the marker's
	// place in an order that is not sorted.
	var paged []string
	for marker, more := "", true; more; {
		keys, err := a.ListKeys(WithCallerRegion(ctx, eu), &ListKeysInput{Limit: Int32(1), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys.Keys {
			paged = append(paged, k.KeyId)
		}
		marker, more = keys.NextMarker, keys.Truncated
	}
	if len(paged) != 2 {
		t.Errorf("a lists %d replica(s) in %s one page at a time, want 2", len(paged), eu)
	}
}

// TestClusterModelRegressionLateEnableLosesRotation: found by
// TestClusterModel. Node b enables a disabled key whose automatic
// rotation is a year ahead; while b's write is on its way to the store,
// the cluster's clock passes that date and node a applies the events due:
// the key is still Disabled for a, which drops the rotation's event as
// stale (D12: a disabled key does not rotate). b's write then lands (the
// key's record had not changed: no lost race), with the key Enabled and
// its rotation date, now past, unchanged. Applying it, a queues nothing
// (install queues a rotation only when its date changes), so a never
// rotates the key: its Sweep applies nothing, and it lists no rotation,
// where b (whose event is still queued) and a node loaded from the store
// (requeue) rotate it at its date.
func TestClusterModelRegressionLateEnableLosesRotation(t *testing.T) {
	ctx := context.Background()
	st, hooks, nodes, clock := cmOpen(t)
	a, b := nodes[0], nodes[1]
	out, err := a.CreateKey(ctx, &CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	if _, err := a.EnableKeyRotation(ctx, &EnableKeyRotationInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DisableKey(ctx, &DisableKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	hooks[1].Before(func() {
		// While b writes the key Enabled: the clock passes the rotation
		// date, and a applies the events due.
		if _, err := clock.Advance(400 * 24 * time.Hour); err != nil {
			t.Error(err)
		}
		a.Sweep()
	})
	if _, err := b.EnableKey(ctx, &EnableKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	rotations := func(n *Service) int {
		out, err := n.ListKeyRotations(ctx, &ListKeyRotationsInput{KeyId: id})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Rotations)
	}
	fresh := loadedService(t, a.cfg, st)
	fresh.mu.Lock()
	queued := fresh.queue.len()
	fresh.mu.Unlock()
	applied := a.Sweep()
	if n := rotations(a); n != 1 || applied != 1 {
		t.Errorf("a's Sweep applies %d event(s), and a lists %d rotation(s) of the Enabled key whose rotation date passed; want the rotation at that date (a node loaded from the store queues %d event(s) for it)",
			applied, n, queued)
	}
	if n := rotations(b); n != 1 {
		t.Errorf("b lists %d rotation(s), want 1", n)
	}
}

// cmImport imports material into key id (in the Region of ctx) through
// node n, with a token node p issues, expiring at validTo (or not, when
// it is zero); it returns ImportKeyMaterial's error.
func cmImport(t cmTB, ctx context.Context, p, n *Service, id string, material []byte, validTo time.Time) error {
	t.Helper()
	const alg = "RSA_AES_KEY_WRAP_SHA_256"
	params, err := p.GetParametersForImport(ctx, &GetParametersForImportInput{KeyId: id, WrappingAlgorithm: alg, WrappingKeySpec: "RSA_2048"})
	if err != nil {
		t.Fatal(err)
	}
	in := &ImportKeyMaterialInput{KeyId: id, ImportToken: params.ImportToken, EncryptedKeyMaterial: cmWrap(t, params.PublicKey, alg, material),
		ExpirationModel: doesNotExpireModel}
	if !validTo.IsZero() {
		in.ExpirationModel, in.ValidTo = expiresModel, &validTo
	}
	_, err = n.ImportKeyMaterial(ctx, in)
	return err
}

// TestClusterModelRegressionUndoRequeues: found by TestClusterModel
// (its count of the events queued). A node that undoes a lost race in
// place queues the events of each key the failed writes wrote anew
// (reloadRecords calls requeue), beside those it holds already: every
// race a key's write loses adds a copy of each of the key's events (its
// automatic rotation, its material's expiry), which stay queued until
// their date, up to a year ahead. A node whose writes of a hot key keep
// losing to another node's holds ever more copies, where a node loaded
// from the store holds one of each: the queue should stay bounded by
// the events the keys wait for.
func TestClusterModelRegressionUndoRequeues(t *testing.T) {
	ctx := context.Background()
	st, hooks, nodes, clock := cmOpen(t)
	a, b := nodes[0], nodes[1]
	out, err := a.CreateKey(ctx, &CreateKeyInput{Origin: "EXTERNAL"})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	if err := cmImport(t, ctx, b, a, id, bytes.Repeat([]byte{0x5a}, 32), clock.Now().Add(300*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	const races = 50
	for i := range races {
		hooks[0].Before(func() {
			if _, err := b.TagResource(ctx, &TagResourceInput{KeyId: id, Tags: []Tag{{TagKey: "k", TagValue: fmt.Sprint(i)}}}); err != nil {
				t.Error(err)
			}
		})
		if _, err := a.UpdateKeyDescription(ctx, &UpdateKeyDescriptionInput{KeyId: id, Description: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if s, _ := a.ClusterStatus(); s.UndoneInPlace != races {
		t.Fatalf("a's status %+v: want %d lost races undone in place", s, races)
	}
	fresh := loadedService(t, a.cfg, st)
	a.mu.Lock()
	queued := a.queue.len()
	a.mu.Unlock()
	if want := fresh.queue.len(); queued > 2*want {
		t.Errorf("after %d lost races of writes of one key, a holds %d queued events; a node loaded from the store holds %d", races, queued, want)
	}
}
