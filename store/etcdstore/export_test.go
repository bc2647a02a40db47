package etcdstore

// RevisionRequests returns how many etcd requests s's Revision has sent,
// for tests and benchmarks of their sharing.
func RevisionRequests(s *Store) int64 { return s.revRequests.Load() }
