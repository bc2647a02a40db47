package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/consistency"
)

// ecFlags are the eventual-consistency flags serve and simulate share
// (issue 17).
type ecFlags struct {
	on       bool
	delay    string
	readers  string
	deletion time.Duration
}

// addECFlags registers the flags on fs.
func addECFlags(fs *flag.FlagSet) *ecFlags {
	f := &ecFlags{}
	d := consistency.Default()
	fs.BoolVar(&f.on, "eventual-consistency", false, "let each change propagate as AWS KMS does: a new key is NotFoundException, a new grant or key policy AccessDeniedException, and an old state, alias target or key material is seen, until the change has propagated; deletions fire up to --deletion-delay after DeletionDate (decisions D40-D45; reproducible with --seed)")
	fs.StringVar(&f.delay, "propagation-delay", d.Delay.String(), "with --eventual-consistency, the `distribution` of propagation delays: MIN-TYPICAL,MAX:TAIL (uniform in MIN-TYPICAL, with probability TAIL in TYPICAL-MAX), or one duration")
	fs.StringVar(&f.readers, "propagation-readers", "principal", "with --eventual-consistency, who sees a propagating change: `principal` (each caller's view only moves forward) or call (each call decides anew)")
	fs.DurationVar(&f.deletion, "deletion-delay", d.MaxDeletionDelay, "with --eventual-consistency, the longest delay of a deletion past its DeletionDate")
	return f
}

// options validates the flags and returns the service option they make,
// or none when --eventual-consistency is off. set names the flags given.
func (f *ecFlags) options(set map[string]bool) ([]kms.Option, error) {
	if !f.on {
		for _, n := range []string{"propagation-delay", "propagation-readers", "deletion-delay"} {
			if set[n] {
				return nil, fmt.Errorf("--%s needs --eventual-consistency", n)
			}
		}
		return nil, nil
	}
	m := consistency.Default()
	var err error
	if m.Delay, err = consistency.ParseDistribution(f.delay); err != nil {
		return nil, fmt.Errorf("--propagation-delay: %v", err)
	}
	if m.Readers, err = consistency.ParseReaders(f.readers); err != nil {
		return nil, fmt.Errorf("--propagation-readers: %v", err)
	}
	m.MaxDeletionDelay = f.deletion
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("--deletion-delay: %v", err)
	}
	return []kms.Option{kms.WithEventualConsistency(m)}, nil
}
