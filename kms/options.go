package kms

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"io"
	"time"

	"github.com/kmsmodel/kmsmodel/kms/consistency"
	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// Option configures a Service built by New.
type Option func(*config)

type config struct {
	staleReads       bool // WithStaleReads (cluster mode)
	account          string
	region           string
	regions          []string // served besides the known ones (WithRegions)
	clock            Clock
	random           io.Reader
	onDemandQuota    int
	quotaSet         bool // WithOnDemandRotationQuota was given
	grantsPerKey     int  // WithGrantsPerKeyQuota
	rules            Rules
	rulesUpgrade     bool
	onDemandDuration time.Duration
	authorizer       Authorizer
	identities       *IdentityPolicies          // nil: IAM allows every kms action (D24)
	generation       func(policy.Principal) int // identities' generation of users and roles (aws:userid, D77), or nil
	orgs             *Organizations             // nil: no account is in an organization
	observer         Observer
	connectDuration  time.Duration
	connectFailure   func(customKeyStoreID string) string
	replicaDuration  time.Duration
	updateDuration   time.Duration
	consistency      *consistency.Model // nil: the model is off

	noPredefinedAliases bool // WithoutPredefinedAliases

	attestationRoots *x509.CertPool // WithAttestationRoots; nil: AWS's Nitro root (D80)

	shareUsage bool // WithKeyUsageSharing (D79)
	// recordBindings: D78's bindings come from and go to the records (a
	// cluster node, and the service its reload builds).
	recordBindings bool
	trackStart     int64 // WithTrackingStart, Unix µs
	trackStartSet  bool
}

func defaultConfig() config {
	return config{
		account:      "111122223333",
		region:       "us-east-1",
		clock:        WallClock{},
		random:       rand.Reader,
		grantsPerKey: DefaultGrantsPerKeyQuota,
	}
}

// DefaultGrantsPerKeyQuota is AWS's quota of grants per customer managed
// key (spec §4.9, D28): CreateGrant past it is LimitExceededException.
const DefaultGrantsPerKeyQuota = 50000

// WithGrantsPerKeyQuota sets the number of grants a customer managed key
// may hold (default DefaultGrantsPerKeyQuota; n < 0 counts as 0), so that
// a test reaches CreateGrant's LimitExceededException without making
// 50,000 grants. AWS managed keys have no such quota.
func WithGrantsPerKeyQuota(n int) Option {
	return func(c *config) { c.grantsPerKey = max(0, n) }
}

// DefaultOnDemandRotationQuota is the number of on-demand rotations a key
// may have over its life under the 2024 rules (decision D1), the default
// profile. RulesCurrent allows 25 (Rules.OnDemandRotationQuota).
const DefaultOnDemandRotationQuota = 10

// WithAccount sets the service's AWS account ID (twelve digits), the account
// of callers whose context names none. The default is "111122223333".
func WithAccount(id string) Option { return func(c *config) { c.account = id } }

// WithoutPredefinedAliases leaves AWS's predefined aliases out of
// ListAliases. By default, as in a real account, ListAliases without a
// KeyId lists, besides the caller's aliases, each predefined
// alias/aws/<service> name whose AWS managed key does not exist yet in the
// account and Region, with its name and ARN and no TargetKeyId or dates
// (decision D72). Tests that expect ListAliases to list only the aliases
// they made can use this option; code that reads TargetKeyId of every
// alias should be tested without it.
func WithoutPredefinedAliases() Option { return func(c *config) { c.noPredefinedAliases = true } }

// WithRegion sets the service's Region. The default is "us-east-1".
func WithRegion(r string) Option { return func(c *config) { c.region = r } }

// WithRegions names Regions the service serves besides its default Region
// (WithRegion) and the AWS Regions it knows (KnownRegion), such as a Region
// AWS opened after kmsmodel's table was made, or a made-up one for tests.
// A call to any other Region is refused with ValidationException (and
// over HTTP the request with InvalidSignatureException). Like WithRegion,
// a name is taken as given; as a ReplicaRegion it must also have the AWS
// form (ValidRegion). Repeated options add up.
func WithRegions(names ...string) Option {
	return func(c *config) { c.regions = append(c.regions, names...) }
}

// WithClock sets the clock. The default is WallClock; tests and simulators
// pass a *ManualClock.
func WithClock(clk Clock) Option { return func(c *config) { c.clock = clk } }

// WithRandom sets the source of randomness for key IDs and key material.
// The default is crypto/rand.Reader; deterministic tests pass a seeded
// source such as math/rand/v2.NewChaCha8.
func WithRandom(r io.Reader) Option { return func(c *config) { c.random = r } }

// WithOnDemandRotationQuota sets how many on-demand rotations each key may
// have over its life (decision D1; default: the rule profile's, 10 under
// Rules2024 and 25 under RulesCurrent), whatever the profile. Values are
// clamped to 0–65535.
func WithOnDemandRotationQuota(n int) Option {
	return func(c *config) { c.onDemandQuota, c.quotaSet = max(0, min(n, 65535)), true }
}

// WithOnDemandRotationDuration sets how long an on-demand rotation takes in
// simulated time (decision D10; default 0, it completes at once).
func WithOnDemandRotationDuration(d time.Duration) Option {
	return func(c *config) { c.onDemandDuration = d }
}

// WithAuthorizer sets an authorizer that decides every operation on a key
// instead of the keys' key policies. Without one (the default), each key's
// policy decides (see GetKeyPolicy, PutKeyPolicy).
func WithAuthorizer(a Authorizer) Option { return func(c *config) { c.authorizer = a } }

// WithObserver registers the observer that receives every event record, in
// order.
func WithObserver(o Observer) Option { return func(c *config) { c.observer = o } }

// Authorizer decides whether a caller may perform an action on a key, as a
// key policy does.
type Authorizer interface {
	// Authorize returns nil to allow the request. Any error denies it: the
	// service returns AccessDeniedException wrapping that error. It is
	// called with the service's lock held and must not call the service.
	Authorize(ctx context.Context, r AuthRequest) error
}

// AuthRequest is what an Authorizer decides on.
type AuthRequest struct {
	// Caller is the calling account's ID.
	Caller string
	// Action is the IAM action name, such as "kms:RotateKeyOnDemand".
	Action string
	// KeyARN is the key's ARN.
	KeyARN string
	// KeyAccount is the account that owns the key.
	KeyAccount string
}

// SameAccount is an Authorizer that allows a caller every action on the
// keys of its own account and nothing on other accounts' keys: what every
// key's default key policy decides, without its evaluation.
type SameAccount struct{}

// Authorize allows the request when the caller owns the key.
func (SameAccount) Authorize(_ context.Context, r AuthRequest) error {
	if r.Caller == r.KeyAccount {
		return nil
	}
	return errNoPolicy
}

type denyError string

func (e denyError) Error() string { return string(e) }

const errNoPolicy = denyError("no resource-based policy allows the action")

// AuthorizerFunc adapts a function to the Authorizer interface.
type AuthorizerFunc func(ctx context.Context, r AuthRequest) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, r AuthRequest) error { return f(ctx, r) }

type callerKey struct{}

// WithCaller returns a context whose calls run as the given account ID.
// Calls without one run as the service's own account.
func WithCaller(ctx context.Context, account string) context.Context {
	return context.WithValue(ctx, callerKey{}, account)
}

// Caller returns the account ID that WithCaller put in ctx, or "".
func Caller(ctx context.Context) string {
	s, _ := ctx.Value(callerKey{}).(string)
	return s
}
