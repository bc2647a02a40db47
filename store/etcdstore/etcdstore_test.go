package etcdstore_test

import (
	"bytes"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/etcdtest"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/etcdstore"
	"github.com/kmsmodel/kmsmodel/store/storetest"
)

// cluster is the one-member cluster every test of the package shares, each
// store under a prefix of its own.
var cluster *etcdtest.Cluster

func TestMain(m *testing.M) {
	etcdtest.RunChild() // the etcd member of a benchmark's child process
	dir, err := os.MkdirTemp("", "etcdstore-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cluster, err = etcdtest.New(dir, etcdtest.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	cluster.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

var prefixes atomic.Int64

// wrappingKey is the tests' AES-256 key.
var wrappingKey = bytes.Repeat([]byte{7}, 32)

// options returns options for a fresh store under a prefix of its own.
func options(t testing.TB) etcdstore.Options {
	return etcdstore.Options{
		Endpoints:   cluster.Endpoints(),
		Prefix:      fmt.Sprintf("test/%d/", prefixes.Add(1)),
		WrappingKey: wrappingKey,
		MaxTxnOps:   etcdtest.DefaultMaxTxnOps,
	}
}

// open opens a fresh store, closed when the test ends.
func open(t testing.TB) *etcdstore.Store {
	t.Helper()
	return openWith(t, options(t))
}

func openWith(t testing.TB, opts etcdstore.Options) *etcdstore.Store {
	t.Helper()
	s, err := etcdstore.Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunConformanceTests(t, func(t *testing.T) store.Store { return open(t) })
}

func TestSharedConformance(t *testing.T) {
	storetest.RunSharedConformanceTests(t, func(t *testing.T) store.Shared { return open(t) })
}
