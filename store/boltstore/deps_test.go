package boltstore_test

import (
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/depstest"
)

// TestBboltStaysHere: packages store and kms never link bbolt; only this
// adapter does (STYLE.md, "Dependency direction").
func TestBboltStaysHere(t *testing.T) {
	for _, pkg := range []string{"./store", "./kms"} {
		for _, dep := range depstest.Deps(t, pkg) {
			if strings.HasPrefix(dep, "go.etcd.io/bbolt") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
