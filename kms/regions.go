package kms

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// region is one AWS Region of the service: its keys, their creation order
// and its aliases. Keys of every Region share the service's slab, event
// queue, clock and store; a key names its Region by index.
type region struct {
	name      string
	partition string // PartitionOf(name)
	index     uint8
	keys      keyIndex // by key ID
	// order is the keys' slots in creation order, for ListKeys; deleted
	// keys are skipped. Slots, not pointers: nothing for the garbage
	// collector to scan at every cycle (80 MB of pointers at 10M keys).
	order   []uint32
	deleted int // deleted keys still in order
	aliases map[aliasID]*alias
	// aliasGen counts the changes of aliases (an alias added, removed or
	// retargeted: putAlias, retargetAlias, removeAlias); byKey holds the
	// names of each key's aliases, from when aliasNames first needs it.
	aliasGen uint64
	byKey    map[*key][]string
	// sorted is aliases ordered by account, then name (ListAliases),
	// current while sortedGen == aliasGen.
	sortedGen uint64
	sorted    []*alias
	// arnPrefix is the ARN of the service account's keys in this Region
	// without the key ID ("arn:<partition>:kms:<Region>:<account>:key/"), once made.
	arnPrefix string
}

// maxRegions is how many Regions one service serves (a key holds its
// Region's index in a byte). AWS has fewer than a fifth as many.
const maxRegions = 255

// unservedIndex is the index of a Region that has no state yet: no served
// Region has it, so nothing of a served Region (a custom key store, say)
// is taken for the unserved one's.
const unservedIndex = maxRegions

// served reports whether r is one of the service's Regions, rather than
// the empty stand-in a call to a Region without state sees (callRegion).
// The stand-in's maps are nil: reading them finds nothing.
func (r *region) served() bool { return r.keys.slab != nil }

type regionKey struct{}

// WithCallerRegion returns a context whose calls go to the given Region, as
// an AWS client configured for that Region does. Calls without one go to
// the service's default Region (WithRegion). The service serves its
// default Region, the AWS Regions it knows (KnownRegion) and those named
// with WithRegions; a call to another name is refused with
// ValidationException. A Region takes up one of the service's 255 places
// only when something is created in it: until then every call sees it
// empty.
func WithCallerRegion(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, regionKey{}, name)
}

// CallerRegion returns the Region that WithCallerRegion put in ctx, or "".
func CallerRegion(ctx context.Context) string {
	s, _ := ctx.Value(regionKey{}).(string)
	return s
}

// Regions returns the names of the Regions the service has served (its
// default Region first, then in the order something was first created in
// them).
func (s *Service) Regions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.regions))
	for i, r := range s.regions {
		out[i] = r.name
	}
	return out
}

// AllowsRegion reports whether the service serves calls to the Region
// called name: its default Region (WithRegion), an AWS Region it knows
// (KnownRegion), one named with WithRegions, or one its store holds state
// of.
func (s *Service) AllowsRegion(name string) bool {
	if name == s.cfg.region || KnownRegion(name) || slices.Contains(s.cfg.regions, name) {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.findRegion(name) != nil
}

// allowsRegion is AllowsRegion for a caller that holds s.mu.
func (s *Service) allowsRegion(name string) bool {
	return name == s.cfg.region || KnownRegion(name) || slices.Contains(s.cfg.regions, name) || s.findRegion(name) != nil
}

// regionNamed returns the Region called name, adding it if the service has
// not served it yet; nil when name is not a Region name or the service
// serves as many Regions as it can. Whether the service allows the name
// is the caller's to check: a store's records bring their Regions in.
func (s *Service) regionNamed(name string) *region {
	if r := s.findRegion(name); r != nil {
		return r
	}
	if !ValidRegion(name) {
		return nil
	}
	return s.addRegion(name)
}

// addRegion adds the Region called name, which the service does not serve
// yet; nil when the service serves as many Regions as it can.
func (s *Service) addRegion(name string) *region {
	if len(s.regions) >= maxRegions {
		return nil
	}
	r := &region{name: name, partition: PartitionOf(name), index: uint8(len(s.regions)), keys: newKeyIndex(&s.slab),
		aliases: make(map[aliasID]*alias)}
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
// ValidationException when ctx names a Region the service does not serve.
//
// A Region without state is not added by the calls that only read: they
// see an empty stand-in (no keys, no aliases, no custom key stores), so
// that reads in many Regions cannot use up the service's places. CreateKey
// and CreateCustomKeyStore add their Region here (and fail with
// LimitExceededException when every place is taken); the first use of an
// AWS managed alias adds it through serveRegion.
func (s *Service) callRegion(ctx context.Context, op keystate.Operation) error {
	name := CallerRegion(ctx)
	if name == "" {
		s.rg = s.regions[0]
		return nil
	}
	if s.rg.name == name && s.rg.served() {
		return nil
	}
	if r := s.findRegion(name); r != nil {
		s.rg = r
		return nil
	}
	if !s.allowsRegion(name) {
		s.rg = s.regions[0]
		// No recording: an SDK cannot reach a Region that does not exist.
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			"'"+name+"' is not a Region this service can serve.")
	}
	s.rg = &region{name: name, partition: PartitionOf(name), index: unservedIndex}
	if op == keystate.CreateKey || op == keystate.CreateCustomKeyStore {
		return s.serveRegion(op)
	}
	return nil
}

// serveRegion adds the current Region to the service's Regions if it is
// the stand-in of a Region without state, before something is created in
// it. It fails with LimitExceededException when the service serves as
// many Regions as it can (the current Region is then the default one).
func (s *Service) serveRegion(op keystate.Operation) error {
	if s.rg.served() {
		return nil
	}
	r := s.addCallRegion(s.rg.name) // allowed, maybe not of the AWS form (WithRegions)
	if r == nil {
		s.rg = s.regions[0]
		return kmsError(keystate.ErrLimitExceeded, op, "", keystate.None,
			fmt.Sprintf("kmsmodel serves at most %d Regions.", maxRegions))
	}
	s.rg = r
	return nil
}

// addCallRegion adds the Region called name, which the service does not
// serve yet, for the call in progress to create something in: a failure
// of the call gives it back (dropAdded). nil when the service serves as
// many Regions as it can. The caller holds s.mu.
func (s *Service) addCallRegion(name string) *region {
	r := s.addRegion(name)
	if r != nil {
		s.added = append(s.added, r)
	}
	return r
}

// dropAdded gives back the Regions that the call in progress added (added)
// and that still hold nothing, last first: the call failed, and a service
// loaded from its store would not serve them. The caller holds s.mu.
func (s *Service) dropAdded() {
	for i := len(s.added) - 1; i >= 0 && s.dropIfLastAndEmpty(s.added[i]); i-- {
	}
}

// dropIfLastAndEmpty removes Region r if it is the last of several (keys
// name their Region by index) and holds no key, alias or custom key store,
// and reports whether it did. The default Region stays. The caller holds
// s.mu.
func (s *Service) dropIfLastAndEmpty(r *region) bool {
	n := len(s.regions)
	if n == 1 || s.regions[n-1] != r || r.keys.len() > 0 || len(r.aliases) > 0 ||
		slices.ContainsFunc(s.storeSlots, func(cs *customKeyStore) bool { return cs != nil && cs.region == r.index }) {
		return false
	}
	s.regions[n-1] = nil
	s.regions = s.regions[:n-1]
	if s.rg == r {
		s.rg = s.regions[0]
	}
	return true
}

// allowReplicaRegion refuses, with ValidationException, a ReplicaRegion
// of the AWS form that the service does not serve (as callRegion refuses
// a call to it), or one of another partition than the call's Region (D70).
func (s *Service) allowReplicaRegion(op keystate.Operation, name string) error {
	if !s.allowsRegion(name) {
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			"'"+name+"' is not a Region this service can serve.")
	}
	if p := PartitionOf(name); p != s.rg.partition {
		// D70: a multi-Region key's replicas are in its partition. No
		// recording of the message; kmsmodel's wording.
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			"ReplicaRegion '"+name+"' is in partition "+p+"; the primary key's Region "+s.rg.name+" is in partition "+
				s.rg.partition+". A multi-Region key can be replicated only within its partition.")
	}
	return nil
}

// ValidRegion reports whether name has the form of an AWS Region name
// ("us-east-1", "us-gov-west-1"), the pattern AWS gives for ReplicaRegion:
// ^([a-z]+-){2,3}\d+$, at most 32 characters. It checks the form only:
// which Regions a Service serves, AllowsRegion says.
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

// putAlias makes a the alias id of r, in place of the one there, if any.
// It, retargetAlias, removeAlias and dropKeyAliases are the only writers
// of r's aliases: each keeps the keys' alias counts and the index of their
// names (aliasNames) current.
func (r *region) putAlias(id aliasID, a *alias) {
	if old := r.aliases[id]; old != nil {
		old.target.aliasCount--
		r.unlinkAlias(id.name, old.target)
	}
	r.aliases[id] = a
	a.target.aliasCount++
	r.linkAlias(id.name, a.target)
}

// retargetAlias makes r's alias a (which keeps its identity, as the
// eventual-consistency model knows it by) what na says: another target.
func (r *region) retargetAlias(a *alias, na alias) {
	a.target.aliasCount--
	r.unlinkAlias(a.name, a.target)
	*a = na
	a.target.aliasCount++
	r.linkAlias(a.name, a.target)
}

// removeAlias removes r's alias id, if there is one.
func (r *region) removeAlias(id aliasID) {
	if a := r.aliases[id]; a != nil {
		delete(r.aliases, id)
		a.target.aliasCount--
		r.unlinkAlias(id.name, a.target)
	}
}

// dropKeyAliases removes every alias of r that points to k, a key being
// deleted: those the index names (its account's) one by one, without
// unlinking each from the index, which forgets k at once.
func (r *region) dropKeyAliases(k *key) {
	if k.aliasCount == 0 {
		return
	}
	n := 0
	for _, name := range r.aliasNames(k) {
		id := aliasID{account: k.account, name: name}
		if a := r.aliases[id]; a != nil && a.target == k {
			delete(r.aliases, id)
			n++
		}
	}
	if n < int(k.aliasCount) {
		for id, a := range r.aliases { // an alias of another account: a store's doing
			if a.target == k {
				delete(r.aliases, id)
			}
		}
	}
	k.aliasCount = 0
	delete(r.byKey, k)
	r.aliasGen++
}

// linkAlias records that r's alias name now points to k (one of k's
// account): it was added, or retargeted from another key (unlinkAlias).
func (r *region) linkAlias(name string, k *key) {
	r.aliasGen++
	if r.byKey == nil {
		return // not built yet: aliasNames builds it when first needed
	}
	names := r.byKey[k]
	i, found := slices.BinarySearch(names, name)
	if !found {
		// A new slice: a call may still hold the old one in its context.
		r.byKey[k] = slices.Insert(slices.Clip(names), i, name)
	}
}

// unlinkAlias records that r's alias name no longer points to k: it was
// removed, or retargeted to another key (linkAlias).
func (r *region) unlinkAlias(name string, k *key) {
	r.aliasGen++
	if r.byKey == nil {
		return
	}
	names := r.byKey[k]
	if i, found := slices.BinarySearch(names, name); found {
		if len(names) == 1 {
			delete(r.byKey, k)
		} else {
			r.byKey[k] = slices.Delete(slices.Clone(names), i, i+1)
		}
	}
}

// aliasNames returns the names of k's aliases in r, sorted. The index of
// every key's aliases behind it is built from r's aliases the first time
// it is needed and kept current by linkAlias and unlinkAlias since: a
// Region may hold millions of aliases, and neither a call that IAM
// policies decide nor a key's deletion may scan them all. The caller must
// not change the slice.
func (r *region) aliasNames(k *key) []string {
	if r.byKey == nil {
		r.byKey = make(map[*key][]string)
		for id, a := range r.aliases {
			r.byKey[a.target] = append(r.byKey[a.target], id.name)
		}
		for t, names := range r.byKey {
			slices.Sort(names)
			// One name twice: aliases of two accounts, which only a
			// store can hold (linkAlias files a name once too).
			r.byKey[t] = slices.Clip(slices.Compact(names))
		}
	}
	return r.byKey[k]
}

// accountAliases returns account's aliases in r, sorted by name, from an
// ordering of all r's aliases that it makes once per change of them: so
// that each page of ListAliases does not sort them all again.
func (r *region) accountAliases(account string) []*alias {
	if r.sortedGen != r.aliasGen {
		r.sorted = r.sorted[:0]
		for _, a := range r.aliases {
			r.sorted = append(r.sorted, a)
		}
		slices.SortFunc(r.sorted, func(a, b *alias) int {
			if c := strings.Compare(a.account, b.account); c != 0 {
				return c
			}
			return strings.Compare(a.name, b.name)
		})
		r.sortedGen = r.aliasGen
	}
	from, _ := slices.BinarySearchFunc(r.sorted, account, func(a *alias, acct string) int { return strings.Compare(a.account, acct) })
	n, _ := slices.BinarySearchFunc(r.sorted[from:], account, func(a *alias, acct string) int {
		if a.account == acct {
			return -1 // past every alias of account, to the first of the next
		}
		return 1
	})
	return r.sorted[from : from+n]
}
