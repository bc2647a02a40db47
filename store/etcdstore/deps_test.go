package etcdstore_test

import (
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/depstest"
)

// TestEtcdStaysHere: packages store and kms never link etcd (nor its
// client); only this adapter does (STYLE.md, "Dependency direction").
func TestEtcdStaysHere(t *testing.T) {
	for _, pkg := range []string{"./store", "./kms"} {
		for _, dep := range depstest.Deps(t, pkg) {
			if strings.HasPrefix(dep, "go.etcd.io/etcd") || strings.HasPrefix(dep, "go.etcd.io/raft") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
