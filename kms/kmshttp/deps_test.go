package kmshttp_test

import (
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/depstest"
)

// TestDependencies: the handler uses the standard library only, besides
// kmsmodel's own packages and what they link (issue 7; the AWS SDK is a
// test dependency). Package kms links looplab/fsm (inside keystate) and,
// through internal/keycrypto, the SM2 and x/crypto packages; the handler
// adds nothing to them.
func TestDependencies(t *testing.T) {
	viaKMS := map[string]bool{}
	for _, pkg := range depstest.Deps(t, "./kms") {
		viaKMS[pkg] = true
	}
	for _, pkg := range depstest.Deps(t, "./kms/kmshttp") {
		switch {
		case depstest.IsStandard(pkg):
		case strings.HasPrefix(pkg, "github.com/kmsmodel/kmsmodel/"):
		case viaKMS[pkg]:
		default:
			t.Errorf("kms/kmshttp depends on %s", pkg)
		}
	}
}
