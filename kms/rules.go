package kms

import (
	"errors"
	"fmt"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// Rules is a rule profile: the set of AWS rules a Service follows, chosen
// once per service with WithRules. Rules2024, the default, are the rules of
// the RotateKeyOnDemand description of 2024 that kmsmodel was built from
// (decisions D1, D2, D2a); RulesCurrent are today's AWS rules, as section
// (g) of the behaviour spec lists them. Every difference between the two
// is one field of the profile's table (see ruleSets), not a test scattered
// through the code.
type Rules uint8

const (
	// Rules2024: at most 10 on-demand rotations per key (D1); one
	// imported material per key, which RotateKeyOnDemand refuses to
	// rotate (D2); ImportType, KeyMaterialId and KeyMaterialDescription
	// refused with UnsupportedOperationException; footnote [7] of the
	// key-state table covering keys with imported material (D2a).
	Rules2024 Rules = iota
	// RulesCurrent: at most 25 on-demand rotations per key; symmetric
	// EXTERNAL keys hold several materials, import new ones
	// (ImportType NEW_KEY_MATERIAL) that wait in PENDING_ROTATION until
	// RotateKeyOnDemand makes them current, delete any one by
	// KeyMaterialId, and list them (ListKeyRotations IncludeKeyMaterial);
	// footnote [7] covers custom key stores only.
	RulesCurrent
	numRules
)

// ruleSet is what a profile decides.
type ruleSet struct {
	name string
	// onDemandQuota is the default of WithOnDemandRotationQuota.
	onDemandQuota int
	// materials enables several imported materials per symmetric EXTERNAL
	// key: ImportType, KeyMaterialId and KeyMaterialDescription,
	// RotateKeyOnDemand of such keys, DeleteImportedKeyMaterial by ID and
	// the material fields of ListKeyRotations.
	materials bool
	// footnote7Today reads footnote [7] as today's table does (custom
	// key stores only) rather than as D2a does.
	footnote7Today bool
}

var ruleSets = [numRules]ruleSet{
	Rules2024:    {name: "2024", onDemandQuota: 10},
	RulesCurrent: {name: "current", onDemandQuota: 25, materials: true, footnote7Today: true},
}

func (r Rules) set() *ruleSet {
	if r >= numRules {
		return &ruleSets[Rules2024]
	}
	return &ruleSets[r]
}

// String returns the profile's name: "2024" or "current".
func (r Rules) String() string {
	if r >= numRules {
		return fmt.Sprintf("Rules(%d)", uint8(r))
	}
	return r.set().name
}

// OnDemandRotationQuota is the profile's number of on-demand rotations per
// key: 10 under Rules2024, 25 under RulesCurrent.
func (r Rules) OnDemandRotationQuota() int { return r.set().onDemandQuota }

// ParseRules returns the profile named name ("2024" or "current").
func ParseRules(name string) (Rules, error) {
	for r := range numRules {
		if ruleSets[r].name == name {
			return r, nil
		}
	}
	return Rules2024, fmt.Errorf("kms: unknown rule profile %q (want 2024 or current)", name)
}

// WithRules sets the service's rule profile (default Rules2024). Unless
// WithOnDemandRotationQuota is given too, the on-demand rotation quota is
// the profile's. A store records the profile it is written under: Open
// refuses a store written under another profile (ErrRulesMismatch) unless
// WithRulesUpgrade is given. A value that is neither Rules2024 nor
// RulesCurrent leaves the profile as it was (an Option cannot fail; use
// ParseRules to turn a name into a profile with an error).
func WithRules(r Rules) Option {
	return func(c *config) {
		if r < numRules {
			c.rules = r
		}
	}
}

// WithRulesUpgrade lets Open take a store written under Rules2024 (or
// before profiles were recorded) into a service of RulesCurrent: every key
// keeps its material and history, and the store records the new profile
// with the service's next write (decision D36). Going back, from
// RulesCurrent to Rules2024, is always refused: today's keys may hold
// several materials, which the 2024 rules cannot express.
func WithRulesUpgrade() Option { return func(c *config) { c.rulesUpgrade = true } }

// ErrRulesMismatch is returned (wrapped) by Open when the store was written
// under another rule profile than the service's (decision D36).
var ErrRulesMismatch = errors.New("kms: the store was written under another rule profile")

// Rules returns the service's rule profile.
func (s *Service) Rules() Rules { return s.cfg.rules }

// checkState is keystate.Check with footnote [7] as the service's profile
// reads it.
func (s *Service) checkState(op keystate.Operation, st keystate.State, k keystate.Kind, arn string) error {
	if s.cfg.rules.set().footnote7Today {
		return keystate.CheckToday(op, st, k, arn)
	}
	return keystate.Check(op, st, k, arn)
}

// materials reports whether the service's profile gives symmetric EXTERNAL
// keys several materials (RulesCurrent).
func (s *Service) materials() bool { return s.cfg.rules.set().materials }

// checkProfile compares the profile st recorded with the service's: nil
// when they agree, or when the store recorded none and is empty (a new
// store); an error wrapping ErrRulesMismatch otherwise, unless
// WithRulesUpgrade allows going from 2024 to current. A store with
// content but no recorded profile was written before profiles were, under
// the 2024 rules (D36).
func (s *Service) checkProfile(recorded string, empty bool) error {
	if recorded == "" {
		if empty {
			return nil
		}
		recorded = Rules2024.String()
	}
	want := s.cfg.rules.String()
	if recorded == want {
		s.profileSaved = true
		return nil
	}
	if s.cfg.rulesUpgrade && recorded == Rules2024.String() && s.cfg.rules == RulesCurrent {
		return nil
	}
	hint := ""
	if recorded == Rules2024.String() && s.cfg.rules == RulesCurrent {
		hint = "; pass WithRulesUpgrade to upgrade it"
	}
	return fmt.Errorf("kms: the store was written under the %s rules, the service follows the %s rules%s: %w",
		recorded, want, hint, ErrRulesMismatch)
}
