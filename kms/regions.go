package kms

import (
	"context"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// region is one AWS Region of the service: its keys, their creation order
// and its aliases. Keys of every Region share the service's slab, event
// queue, clock and store; a key names its Region by index.
type region struct {
	name    string
	index   uint8
	keys    map[string]*key // by key ID
	order   []*key          // creation order, for ListKeys; deleted keys are skipped
	deleted int             // deleted keys still in order
	aliases map[aliasID]*alias
}

// maxRegions is how many Regions one service serves (a key holds its
// Region's index in a byte). AWS has fewer than half as many.
const maxRegions = 255

type regionKey struct{}

// WithCallerRegion returns a context whose calls go to the given Region, as
// an AWS client configured for that Region does. Calls without one go to
// the service's default Region (WithRegion). A Region is served from its
// first call: any name of the AWS form ("us-west-2", "eu-central-1",
// "us-gov-west-1") is one.
func WithCallerRegion(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, regionKey{}, name)
}

// CallerRegion returns the Region that WithCallerRegion put in ctx, or "".
func CallerRegion(ctx context.Context) string {
	s, _ := ctx.Value(regionKey{}).(string)
	return s
}

// Regions returns the names of the Regions the service has served (its
// default Region first, then in order of first use).
func (s *Service) Regions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.regions))
	for i, r := range s.regions {
		out[i] = r.name
	}
	return out
}

// regionNamed returns the Region called name, adding it if the service has
// not served it yet; nil when name is not a Region name or the service
// serves as many Regions as it can.
func (s *Service) regionNamed(name string) *region {
	if r := s.findRegion(name); r != nil {
		return r
	}
	if !ValidRegion(name) || len(s.regions) >= maxRegions {
		return nil
	}
	r := &region{name: name, index: uint8(len(s.regions)), keys: make(map[string]*key), aliases: make(map[aliasID]*alias)}
	s.regions = append(s.regions, r)
	return r
}

// findRegion returns the Region called name if the service has served it.
func (s *Service) findRegion(name string) *region {
	for _, r := range s.regions {
		if r.name == name {
			return r
		}
	}
	return nil
}

// recordRegion is the Region store records name for the Region of index
// i: "" for the default Region, as records written before Regions were
// recorded read, so that the records of a service that uses only its
// default Region stay as they were (and as small); a service opened with
// another default Region takes them into that one.
func (s *Service) recordRegion(i uint8) string {
	if i == 0 {
		return ""
	}
	return s.regions[i].name
}

// regionOf returns k's Region.
func (s *Service) regionOf(k *key) *region { return s.regions[k.region] }

// callRegion selects the Region of a call from ctx (the service's default
// when ctx names none) and makes it the current one. It fails with
// ValidationException when ctx names something that is not a Region.
func (s *Service) callRegion(ctx context.Context, op keystate.Operation) error {
	name := CallerRegion(ctx)
	if name == "" {
		s.rg = s.regions[0]
		return nil
	}
	if s.rg.name == name {
		return nil
	}
	r := s.regionNamed(name)
	if r == nil {
		s.rg = s.regions[0]
		// No recording: an SDK cannot reach a Region that does not exist.
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			"'"+name+"' is not a Region this service can serve.")
	}
	s.rg = r
	return nil
}

// ValidRegion reports whether name has the form of an AWS Region name
// ("us-east-1", "us-gov-west-1"), the pattern AWS gives for ReplicaRegion:
// ^([a-z]+-){2,3}\d+$, at most 32 characters. A Service serves every such
// Region.
func ValidRegion(name string) bool {
	if len(name) == 0 || len(name) > 32 {
		return false
	}
	words, i := 0, 0
	for {
		j := i
		for j < len(name) && 'a' <= name[j] && name[j] <= 'z' {
			j++
		}
		if j == i || j == len(name) || name[j] != '-' {
			break
		}
		words++
		i = j + 1
	}
	if words < 2 || words > 3 || i == len(name) {
		return false
	}
	for ; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return false
		}
	}
	return true
}
