package etcdstore

// RevisionRequests returns how many etcd requests s's Revision has sent,
// for tests and benchmarks of their sharing.
func RevisionRequests(s *Store) int64 { return s.revRequests.Load() }

// ApplyRequests returns how many etcd transactions s's Apply and ApplyAt
// have sent (reads and writes).
func ApplyRequests(s *Store) int64 { return s.applyRequests.Load() }
