package etcdstore

// RevisionRequests returns how many etcd requests s's Revision has sent,
// for tests and benchmarks of their sharing.
func RevisionRequests(s *Store) int64 { return s.revRequests.Load() }

// ApplyRequests returns how many etcd transactions s's Apply and ApplyAt
// have sent (reads and writes).
func ApplyRequests(s *Store) int64 { return s.applyRequests.Load() }

// RangeConnReads returns how many revision reads s made over its own
// connection, and how many failed there (rangeconn.go); -1, -1 when it
// has none.
func RangeConnReads(s *Store) (reads, failures int64) {
	if s.rr == nil {
		return -1, -1
	}
	return s.rr.reads.Load(), s.rr.failures.Load()
}

// BreakRangeConn ends s's revision connection as a member that went away
// would: the next revision read over it fails.
func BreakRangeConn(s *Store) {
	if s.rr == nil {
		return
	}
	s.rr.mu.Lock()
	defer s.rr.mu.Unlock()
	if s.rr.conn != nil {
		s.rr.conn.sock.shutdown()
	}
}

// RangeConnBackoff is rangeConnBackoff.
const RangeConnBackoff = rangeConnBackoff

// KeptP returns how many system calls the revision connections made
// keeping their P.
func KeptP() int64 { return keptP.Load() }
