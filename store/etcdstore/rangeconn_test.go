package etcdstore_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kmsmodel/kmsmodel/internal/etcdtest"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/etcdstore"
)

// rangeConnKeys numbers the keys wantRevisions makes.
var rangeConnKeys atomic.Int64

// wantRevisions checks that n revision reads of s each give the store's
// revision after a commit made just before (read back through its own
// etcd client), so that the reads are linearizable whichever way they go.
func wantRevisions(t *testing.T, s *etcdstore.Store, n int) {
	t.Helper()
	ctx := context.Background()
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for i := range n {
		if i%8 == 0 {
			id := fmt.Sprintf("%08d-0000-4000-8000-000000000000", rangeConnKeys.Add(1))
			must(t, s.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey(id)}}))
		}
		want, err := s.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := cli.Get(ctx, "\x00") // any key: the header's revision is the cluster's
		if err != nil {
			t.Fatal(err)
		}
		if want > resp.Header.Revision {
			t.Fatalf("read %d: store revision %d past the cluster's %d", i, want, resp.Header.Revision)
		}
		got, err := s.Revision(ctx)
		if err != nil || got != want {
			t.Fatalf("read %d: revision %d, %v; the read before gave %d and nothing was written since", i, got, err, want)
		}
	}
}

// TestRangeConnReadsRevisions: a store opened on plain endpoints reads
// its revision over a connection of its own, which gives what the etcd
// client gives (wantRevisions) and moves with every commit.
func TestRangeConnReadsRevisions(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	before, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("99999999-0000-4000-8000-000000000000")}}))
	after, err := s.Revision(ctx)
	if err != nil || after <= before {
		t.Fatalf("revision %d after a commit, %d before (%v)", after, before, err)
	}
	wantRevisions(t, s, 20)
	if reads, failures := etcdstore.RangeConnReads(s); reads < 40 || failures != 0 {
		t.Fatalf("%d revision reads over the connection, %d failed; want at least 40, none failed", reads, failures)
	}
}

// TestRangeConnFailsOver: when its connection breaks, or an endpoint is
// down, a store reads its revision through the etcd client, right, and
// after RangeConnBackoff reads connects to the next endpoint.
func TestRangeConnFailsOver(t *testing.T) {
	// An endpoint that refuses connections: a port just released.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	opts := options(t)
	opts.Endpoints = append([]string{dead}, cluster.Endpoints()...)
	s := openWith(t, opts)

	wantRevisions(t, s, 1)
	if reads, failures := etcdstore.RangeConnReads(s); reads != 0 || failures != 1 {
		t.Fatalf("with the first endpoint down: %d reads over the connection, %d failures; want 0, 1", reads, failures)
	}
	wantRevisions(t, s, etcdstore.RangeConnBackoff)
	reads, failures := etcdstore.RangeConnReads(s)
	if reads == 0 || failures != 1 {
		t.Fatalf("after the backoff: %d reads over the connection, %d failures; want some, 1", reads, failures)
	}

	etcdstore.BreakRangeConn(s)
	wantRevisions(t, s, 1)
	if r, f := etcdstore.RangeConnReads(s); r != reads || f != 2 {
		t.Fatalf("after the connection broke: %d reads over it, %d failures; want %d, 2", r, f, reads)
	}
	// The next endpoint is the dead one again, then the live one.
	wantRevisions(t, s, 2*etcdstore.RangeConnBackoff+2)
	if r, f := etcdstore.RangeConnReads(s); r <= reads || f != 3 {
		t.Fatalf("at last: %d reads over the connection, %d failures; want more than %d, 3", r, f, reads)
	}
}

// TestRangeConnNotWithNew: New, which takes the caller's client, never
// makes a revision connection.
func TestRangeConnNotWithNew(t *testing.T) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	s, err := etcdstore.New(cli, options(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revision(context.Background()); err != nil {
		t.Fatal(err)
	}
	if reads, _ := etcdstore.RangeConnReads(s); reads != -1 {
		t.Fatal("New made a revision connection")
	}
}

// TestRangeConnOverTLS: against a member that serves its clients over TLS
// and requires their certificates, the connection is TLS too.
func TestRangeConnOverTLS(t *testing.T) {
	url, ca, cert, key := etcdtest.TLSMember(t)
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	opts := options(t)
	opts.Endpoints = []string{url}
	opts.TLS = &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}
	s := openWith(t, opts)
	ctx := context.Background()
	before, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Apply(ctx, &store.Batch{PutKeys: []store.Key{newKey("99999999-0000-4000-8000-000000000000")}}))
	if after, err := s.Revision(ctx); err != nil || after <= before {
		t.Fatalf("revision %d after a commit, %d before (%v)", after, before, err)
	}
	if reads, failures := etcdstore.RangeConnReads(s); reads < 2 || failures != 0 {
		t.Fatalf("%d revision reads over the TLS connection, %d failed; want 2, none failed", reads, failures)
	}
}

// TestRangeConnClosedWithStore: Close closes the revision connection
// (its descriptor too), whether a read is under way on it or not.
func TestRangeConnClosedWithStore(t *testing.T) {
	fds := func() int {
		es, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skipf("cannot count open descriptors: %v", err)
		}
		return len(es)
	}
	// A first store: whatever the client opens once per process (its
	// resolver, say) is open before the count.
	s := open(t)
	wantRevisions(t, s, 1)
	must(t, s.Close())
	// The client closes some of its descriptors in the background, so
	// the count moves by one or two either way; a connection left open by
	// each store would add 20.
	const stores = 20
	before := fds()
	for range stores {
		s := open(t)
		wantRevisions(t, s, 2)
		if reads, _ := etcdstore.RangeConnReads(s); reads < 2 {
			t.Fatalf("%d reads over the connection", reads)
		}
		must(t, s.Close())
	}
	if after := fds(); after > before+stores/5 {
		t.Fatalf("%d descriptors open after %d stores opened and closed, %d before", after, stores, before)
	}
}

// TestRangeConnCloseDuringReads: Close while revision reads go on ends
// them with ErrClosed or a revision, nothing else, and leaves no read
// waiting.
func TestRangeConnCloseDuringReads(t *testing.T) {
	for range 20 {
		s := open(t)
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				for {
					if _, err := s.Revision(context.Background()); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wantRevisions(t, s, 1)
		must(t, s.Close())
		for range 4 {
			if err := <-errs; !errors.Is(err, store.ErrClosed) {
				t.Fatalf("a revision read as the store closed: %v, want ErrClosed", err)
			}
		}
	}
}

// TestRangeConnPlainWithTLSOptions: with an http:// first endpoint the
// etcd client speaks plain gRPC whatever Options.TLS says, and so does the
// revision connection.
func TestRangeConnPlainWithTLSOptions(t *testing.T) {
	opts := options(t)
	opts.TLS = &tls.Config{}
	s := openWith(t, opts)
	wantRevisions(t, s, 4)
	if reads, failures := etcdstore.RangeConnReads(s); reads < 8 || failures != 0 {
		t.Fatalf("%d revision reads over the connection, %d failed; want at least 8, none failed", reads, failures)
	}
}

// TestRangeConnOneP: in a process with one P the connection's reads give
// it up while they wait (else a member in the same process could not
// answer before the wait timed out), and still read right.
func TestRangeConnOneP(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("blocking connections are Linux's")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	s := open(t)
	kept := etcdstore.KeptP()
	wantRevisions(t, s, 8)
	if reads, failures := etcdstore.RangeConnReads(s); reads < 16 || failures != 0 {
		t.Fatalf("%d revision reads over the connection, %d failed; want at least 16, none failed", reads, failures)
	}
	if n := etcdstore.KeptP() - kept; n != 0 {
		t.Fatalf("%d system calls kept the only P", n)
	}
	runtime.GOMAXPROCS(2)
	wantRevisions(t, s, 1)
	if etcdstore.KeptP() == kept {
		t.Fatal("with two Ps no system call kept its P")
	}
}
