package kms

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// Where a call comes from (decision D64): the caller's IP address, and the
// interface VPC endpoint it came through, whose endpoint policy bounds
// it.

// network is what WithSourceIP and WithVPCEndpoint put in a context.
type network struct {
	ip netip.Addr
	ep *VPCEndpoint
}

type networkKey struct{}

// withNetwork returns ctx with the network value change makes of the one
// ctx holds.
func withNetwork(ctx context.Context, change func(n *network)) context.Context {
	var n network
	if prev, ok := ctx.Value(networkKey{}).(*network); ok {
		n = *prev
	}
	change(&n)
	return context.WithValue(ctx, networkKey{}, &n)
}

// WithSourceIP returns a context whose calls come from the IP address ip
// (D64): their condition keys include aws:SourceIp, or aws:VpcSourceIp for
// a call through a VPC endpoint (WithVPCEndpoint), where AWS leaves
// aws:SourceIp out. A call an AWS service makes (WithViaService,
// WithServicePrincipal) carries neither: it comes from the service's
// address, not the caller's. kms/kmshttp gives every request its
// connection's address.
func WithSourceIP(ctx context.Context, ip netip.Addr) context.Context {
	return withNetwork(ctx, func(n *network) { n.ip = ip.Unmap().WithZone("") })
}

// VPCEndpoint is an interface VPC endpoint for AWS KMS, through which calls
// may come (WithVPCEndpoint): its ID, its VPC's ID and its endpoint
// policy, which bounds every call through it (D64). It is safe for
// concurrent use; a new policy decides the next call. Make one with
// NewVPCEndpoint: the zero value has no IDs (and the default policy).
type VPCEndpoint struct {
	id, vpc string
	mu      sync.RWMutex
	doc     *policy.Document
}

// DefaultEndpointPolicy is the policy AWS gives a VPC endpoint unless
// told otherwise, full access, in the layout Policy returns.
const DefaultEndpointPolicy = `{
  "Statement" : [ {
    "Effect" : "Allow",
    "Principal" : "*",
    "Action" : "*",
    "Resource" : "*"
  } ]
}`

// NewVPCEndpoint returns the VPC endpoint id (vpce-…) of the VPC vpc
// (vpc-…), with the default endpoint policy. Malformed IDs are
// ValidationException.
func NewVPCEndpoint(id, vpc string) (*VPCEndpoint, error) {
	if !awsID(id, "vpce-") || !awsID(vpc, "vpc-") {
		// kmsmodel's wording.
		return nil, identityError(keystate.ErrValidation, "'"+id+"' and '"+vpc+
			"' must be a VPC endpoint ID (vpce- and 8 or 17 hexadecimal digits) and a VPC ID (vpc- and 8 or 17 hexadecimal digits).")
	}
	e := &VPCEndpoint{id: id, vpc: vpc}
	if err := e.SetPolicy(""); err != nil {
		return nil, err
	}
	return e, nil
}

// awsID reports whether s is prefix followed by 8 or 17 lowercase
// hexadecimal digits, as EC2 resource IDs are.
func awsID(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != 8 && len(rest) != 17 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ID returns the endpoint's ID.
func (e *VPCEndpoint) ID() string { return e.id }

// VPC returns the ID of the endpoint's VPC.
func (e *VPCEndpoint) VPC() string { return e.vpc }

// SetPolicy replaces the endpoint policy with document, or with
// DefaultEndpointPolicy when document is "". The grammar is a key
// policy's (a resource-based policy: statements name principals). A bad
// document is MalformedPolicyDocumentException and changes nothing.
func (e *VPCEndpoint) SetPolicy(document string) error {
	if document == "" {
		document = DefaultEndpointPolicy
	}
	doc, err := policy.Parse(document)
	if err != nil {
		return &keystate.Error{Code: keystate.ErrMalformedPolicyDocument, Op: keystate.NoOperation, Err: err,
			Message: policy.Message(err)}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.doc = doc
	return nil
}

// Policy returns the endpoint policy's text.
func (e *VPCEndpoint) Policy() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.doc == nil {
		return DefaultEndpointPolicy
	}
	return e.doc.Text()
}

// evaluate decides r by the endpoint policy (the default one for a zero
// VPCEndpoint).
func (e *VPCEndpoint) evaluate(r *policy.Request) policy.Effect {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.doc == nil {
		return policy.Allow
	}
	return e.doc.Evaluate(r).Effect
}

// WithVPCEndpoint returns a context whose calls come through the VPC
// endpoint ep (D64): its endpoint policy must allow each of them (an
// explicit Deny, or no Allow, is AccessDeniedException "… in a VPC
// endpoint policy"), and their condition keys include aws:SourceVpce and
// aws:SourceVpc, and aws:VpcSourceIp instead of aws:SourceIp.
func WithVPCEndpoint(ctx context.Context, ep *VPCEndpoint) context.Context {
	return withNetwork(ctx, func(n *network) { n.ep = ep })
}

// callNetwork records where the call in progress comes from: its VPC
// endpoint (s.call.vpce), its address (aws:SourceIp or aws:VpcSourceIp,
// which Service.request gives the policy.Request as an address, so that no
// call formats it) and its endpoint's condition keys. A call an
// AWS service makes carries no source address. The caller holds s.mu.
func (s *Service) callNetwork(ctx context.Context) {
	n, ok := ctx.Value(networkKey{}).(*network)
	if !ok {
		return
	}
	s.call.vpce = n.ep
	if n.ep != nil {
		s.call.extra = append(s.call.extra, policy.Single("aws:SourceVpce", n.ep.id), policy.Single("aws:SourceVpc", n.ep.vpc))
	}
	if !n.ip.IsValid() || s.principal.Kind() == policy.Service {
		return
	}
	if slices.ContainsFunc(s.call.extra, func(e policy.ContextEntry) bool { return e.Key == viaServiceKey || e.Key == calledViaKey }) {
		return // a service's call, from the service's address
	}
	if n.ep != nil {
		s.call.vpcSourceIP = n.ip
	} else {
		s.call.sourceIP = n.ip
	}
}

// endpointDenies decides req by the endpoint policy of the call's VPC
// endpoint, if any: denied reports a refusal, d says which.
func (s *Service) endpointDenies(req *policy.Request) (d denial, denied bool) {
	if s.call.vpce == nil {
		return denial{}, false
	}
	switch s.call.vpce.evaluate(req) {
	case policy.Allow:
		return denial{}, false
	case policy.ExplicitDeny:
		return denial{policy.VPCEndpoint, true}, true
	}
	return denial{policy.VPCEndpoint, false}, true
}
