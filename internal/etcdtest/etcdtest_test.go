package etcdtest_test

import (
	"context"
	"os"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kmsmodel/kmsmodel/internal/etcdtest"
)

func TestMain(m *testing.M) {
	etcdtest.RunChild()
	os.Exit(m.Run())
}

// put writes key through endpoints and reads it back. A put in flight
// when a leader stops may time out (its proposal is lost with the
// leader), so put tries again, each try waiting on the server, for up to
// 20 seconds.
func put(t *testing.T, endpoints []string, key string) {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		_, err := cli.Put(ctx, key, "v")
		var resp *clientv3.GetResponse
		if err == nil {
			resp, err = cli.Get(ctx, key)
		}
		cancel()
		switch {
		case err == nil && len(resp.Kvs) == 1:
			return
		case err == nil:
			t.Fatalf("get %s after put: %v", key, resp.Kvs)
		case time.Now().After(deadline):
			t.Fatalf("put %s: %v", key, err)
		}
	}
}

// TestThreeMembers: a three-member cluster serves with one member down,
// and the member rejoins with its data; then a member stopped in-process
// runs again in a child process (this test binary, in its child mode),
// which a SIGKILL ends; the cluster keeps serving, and the member restarts
// in-process. (One test, one cluster: stopping a member of a three-member
// cluster takes a second, its peers' connections closing.)
func TestThreeMembers(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Config{Members: 3})
	put(t, c.Endpoints(), "a")
	c.Stop(0)
	put(t, c.Endpoints()[1:], "b")
	if err := c.Restart(0); err != nil {
		t.Fatal(err)
	}
	put(t, c.Endpoints()[:1], "c")

	c.Stop(2)
	mc := c.Config(2)
	mc.Existing = true
	cmd := etcdtest.StartProcess(t, mc)
	put(t, []string{mc.ClientURL}, "from-child")
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	put(t, c.Endpoints()[:2], "after-kill")
	if err := c.Restart(2); err != nil {
		t.Fatal(err)
	}
	put(t, c.Endpoints()[2:], "rejoined")
}
