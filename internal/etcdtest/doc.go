// Package etcdtest starts embedded etcd clusters for tests: one or three
// members in-process, on free 127.0.0.1 ports, with their data under a
// temporary directory, quiet logging, and a large MaxTxnOps. It is a
// test-support package: only tests (and test binaries) import it.
//
// # Use
//
//	c := etcdtest.Start(t, etcdtest.Config{Members: 3})
//	s, err := etcdstore.Open(etcdstore.Options{Endpoints: c.Endpoints(), …})
//
// Start waits until the cluster has a leader and serves (the server's
// ReadyNotify), and t.Cleanup stops it: about 0.1 s for one member, a
// second for three (each new member of a multi-member cluster first asks
// its peers, for a second, whether it joined them before), and a second to
// stop a member of several (its peers' connections draining). Stop and
// Restart take one member down, as a crash would, and bring it back with
// its data, for fault tests; a request in flight when a leader stops may
// time out, as with any etcd. A member with open watch streams takes up
// to five seconds more to stop (etcd's graceful stop waits for them):
// crash a member that serves watches with StartProcess and SIGKILL
// instead. Members do not fsync unless Config.Fsync. A member started
// with Member from a MemberConfig whose CertFile is set serves its
// clients over TLS.
//
// # A member in another process
//
// StartProcess runs a member (a MemberConfig, from MemberConfigs or a
// Cluster's Config) in a child process: the test binary itself, started
// again in its child mode, which its TestMain enters by calling RunChild
// first. The parent can SIGKILL it to crash the member, and measure its
// own CPU without the member's.
package etcdtest
