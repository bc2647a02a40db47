package etcdtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// DefaultMaxTxnOps is the MaxTxnOps of a Config that leaves it zero.
const DefaultMaxTxnOps = 16384

// readyTimeout bounds how long a member may take to join a quorum.
const readyTimeout = 20 * time.Second

// Config describes a cluster to Start.
type Config struct {
	// Members is 1 (when 0) or 3, or any other count.
	Members int
	// MaxTxnOps is the members' --max-txn-ops (DefaultMaxTxnOps when 0).
	MaxTxnOps uint
	// Fsync makes the members sync their log and database to disk as a
	// real deployment does; by default they do not (etcd's
	// --unsafe-no-fsync), which keeps tests fast and loses nothing unless
	// the machine itself crashes.
	Fsync bool
}

// MemberConfig is what one member needs, in or out of this process.
type MemberConfig struct {
	// Name is the member's name in InitialCluster; Dir its data directory.
	Name, Dir string
	// ClientURL and PeerURL are the member's URLs ("http://127.0.0.1:port").
	ClientURL, PeerURL string
	// InitialCluster lists every member, "name=peerURL,…"; Token tells
	// this cluster from others.
	InitialCluster, Token string
	// Existing is set when the member restarts with its data directory
	// (etcd's --initial-cluster-state existing).
	Existing  bool
	MaxTxnOps uint
	Fsync     bool
	// CertFile and KeyFile (PEM), when set, make the member serve its
	// clients over TLS (ClientURL then starts with https://) and, with
	// CAFile, require a client certificate that CA signed.
	CertFile, KeyFile, CAFile string
}

// Running is a started member.
type Running struct {
	e *embed.Etcd
}

// Done is closed when the member has stopped (Close, or an error).
func (r *Running) Done() <-chan struct{} { return r.e.Server.StopNotify() }

// Close stops the member at once, as a crash would (no leadership
// transfer, no waiting for requests in flight), and releases its ports
// and files.
func (r *Running) Close() {
	r.e.Server.HardStop()
	r.e.Close()
}

// Member starts one member and waits until it is ready (in a cluster with
// a leader), or fails.
func Member(mc MemberConfig) (*Running, error) {
	cfg := embed.NewConfig()
	cfg.Name = mc.Name
	cfg.Dir = mc.Dir
	cu, err := url.Parse(mc.ClientURL)
	if err != nil {
		return nil, err
	}
	pu, err := url.Parse(mc.PeerURL)
	if err != nil {
		return nil, err
	}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = mc.InitialCluster
	cfg.InitialClusterToken = mc.Token
	cfg.ClusterState = embed.ClusterStateFlagNew
	if mc.Existing {
		cfg.ClusterState = embed.ClusterStateFlagExisting
	}
	cfg.MaxTxnOps = mc.MaxTxnOps
	if cfg.MaxTxnOps == 0 {
		cfg.MaxTxnOps = DefaultMaxTxnOps
	}
	cfg.UnsafeNoFsync = !mc.Fsync
	if mc.CertFile != "" {
		tls := &cfg.ClientTLSInfo
		tls.CertFile, tls.KeyFile, tls.TrustedCAFile = mc.CertFile, mc.KeyFile, mc.CAFile
		tls.ClientCertAuth = mc.CAFile != ""
	}
	// Short ticks: a member elects itself, or a new leader, in a tenth of a
	// second rather than a second or two.
	cfg.TickMs, cfg.ElectionMs = 10, 100
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: start member %s: %w", mc.Name, err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return &Running{e: e}, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcdtest: member %s: %w", mc.Name, err)
	case <-time.After(readyTimeout):
		e.Close()
		return nil, fmt.Errorf("etcdtest: member %s not ready after %v", mc.Name, readyTimeout)
	}
}

// Cluster is a started cluster.
type Cluster struct {
	mu      sync.Mutex
	configs []MemberConfig
	members []*Running // nil while stopped
}

// Start starts a cluster as c describes, with its data under t.TempDir(),
// and stops it when the test ends. It fails t if the cluster does not
// start.
func Start(t testing.TB, c Config) *Cluster {
	t.Helper()
	cl, err := New(t.TempDir(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// New starts a cluster with its data under dir; the caller Closes it
// (TestMain, which has no testing.T, uses New rather than Start).
func New(dir string, c Config) (*Cluster, error) {
	configs, err := MemberConfigs(dir, c)
	if err != nil {
		return nil, err
	}
	n := len(configs)
	cl := &Cluster{configs: configs, members: make([]*Running, n)}
	// Every member must be up before any is ready (a quorum), so start
	// them together.
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { cl.members[i], errs[i] = Member(cl.configs[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// MemberConfigs returns the configurations of the members of a new
// cluster as c describes, on free ports, with their data under dir: what
// New starts in this process, or what StartProcess starts in others.
func MemberConfigs(dir string, c Config) ([]MemberConfig, error) {
	n := c.Members
	if n == 0 {
		n = 1
	}
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	token := fmt.Sprintf("etcdtest-%d-%d", os.Getpid(), ports[0])
	configs := make([]MemberConfig, n)
	var initial []string
	for i := range configs {
		mc := &configs[i]
		mc.Name = fmt.Sprintf("m%d", i)
		mc.Dir = filepath.Join(dir, mc.Name)
		mc.ClientURL = fmt.Sprintf("http://127.0.0.1:%d", ports[2*i])
		mc.PeerURL = fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1])
		mc.Token, mc.MaxTxnOps, mc.Fsync = token, c.MaxTxnOps, c.Fsync
		initial = append(initial, mc.Name+"="+mc.PeerURL)
	}
	for i := range configs {
		configs[i].InitialCluster = strings.Join(initial, ",")
	}
	return configs, nil
}

// Endpoints returns the members' client URLs.
func (c *Cluster) Endpoints() []string {
	out := make([]string, len(c.configs))
	for i, mc := range c.configs {
		out[i] = mc.ClientURL
	}
	return out
}

// Config returns member i's configuration (to run it in another process
// after Stop, with Existing set).
func (c *Cluster) Config(i int) MemberConfig { return c.configs[i] }

// Stop stops member i; it is a no-op if the member is stopped.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.members[i]; m != nil {
		m.Close()
		c.members[i] = nil
	}
}

// Restart starts member i again with its data, after Stop, and waits until
// it is ready (which needs a quorum).
func (c *Cluster) Restart(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.members[i] != nil {
		return nil
	}
	mc := c.configs[i]
	mc.Existing = true
	m, err := Member(mc)
	if err != nil {
		return err
	}
	c.members[i] = m
	return nil
}

// Close stops every member, at once: one by one, the last ones would
// wait for a quorum that is gone.
func (c *Cluster) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	var wg sync.WaitGroup
	for i, m := range c.members {
		if m != nil {
			wg.Go(m.Close)
			c.members[i] = nil
		}
	}
	wg.Wait()
}

// freePorts returns n ports that were free on 127.0.0.1 a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("etcdtest: free port: %w", err)
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}
