package keycrypto_test

import (
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/depstest"
)

// STYLE.md, dependency direction: keycrypto is pure. It links keystate and
// the three crypto modules, never kms, store, bbolt, the network or the
// clock-driven parts of the project.
func TestKeycryptoIsPure(t *testing.T) {
	for _, dep := range depstest.Deps(t, "./internal/keycrypto") {
		for _, banned := range []string{
			"github.com/kmsmodel/kmsmodel/kms", "github.com/kmsmodel/kmsmodel/store",
			"github.com/kmsmodel/kmsmodel/cmd", "go.etcd.io/bbolt", "net/http", "github.com/aws/",
		} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") || (strings.HasSuffix(banned, "/") && strings.HasPrefix(dep, banned)) {
				t.Errorf("keycrypto links %s", dep)
			}
		}
	}
}
