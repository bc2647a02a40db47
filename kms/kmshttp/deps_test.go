package kmshttp_test

import (
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/depstest"
)

// TestDependencies: the handler uses the standard library only, besides
// kmsmodel's own packages (issue 7; the AWS SDK is a test dependency).
func TestDependencies(t *testing.T) {
	for _, pkg := range depstest.Deps(t, "./kms/kmshttp") {
		switch {
		case depstest.IsStandard(pkg):
		case strings.HasPrefix(pkg, "github.com/kmsmodel/kmsmodel/"):
		case pkg == "github.com/looplab/fsm": // inside keystate
		default:
			t.Errorf("kms/kmshttp depends on %s", pkg)
		}
	}
}
