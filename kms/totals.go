package kms

// Totals are running counts of what has happened to a service's keys since
// the service was made (or opened: a reopened service counts from zero).
// They count the same happenings as the RotateKey and DeleteKey records an
// Observer receives, without making a record of each.
type Totals struct {
	// AutomaticRotations and OnDemandRotations count completed rotations
	// by type: those applied at their scheduled instant and those a call
	// completed at once (an on-demand rotation of duration 0, EnableKey
	// catching up, D12). A multi-Region key's rotation counts once, on
	// its primary.
	AutomaticRotations int64
	OnDemandRotations  int64
	// Deletions counts keys whose waiting period ended (D7).
	Deletions int64
}

// Totals returns the service's running totals. A simulator reads them
// between steps to count what each step did: much cheaper than an
// Observer when the events themselves are not needed.
func (s *Service) Totals() Totals {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.totals
}

// countRotations adds rotations just recorded on a key to the totals, or
// to the pending run's totals until it is written.
func (s *Service) countRotations(added []rotation) {
	t := &s.totals
	if s.pend != nil {
		t = &s.pend.totals
	}
	for _, r := range added {
		if r.onDemand() {
			t.OnDemandRotations++
		} else {
			t.AutomaticRotations++
		}
	}
}

func (t *Totals) add(u Totals) {
	t.AutomaticRotations += u.AutomaticRotations
	t.OnDemandRotations += u.OnDemandRotations
	t.Deletions += u.Deletions
}
