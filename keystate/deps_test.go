package keystate_test

import (
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/depstest"
)

// TestDependencies: keystate imports only the standard library and
// github.com/looplab/fsm (STYLE.md, "Dependency direction").
func TestDependencies(t *testing.T) {
	const self = "github.com/kmsmodel/kmsmodel/keystate"
	sawSelf := false
	for _, pkg := range depstest.Deps(t, "./keystate") {
		switch {
		case depstest.IsStandard(pkg):
		case pkg == self:
			sawSelf = true
		case pkg == "github.com/looplab/fsm":
		default:
			t.Errorf("keystate depends on %s; only the standard library and github.com/looplab/fsm are allowed", pkg)
		}
	}
	if !sawSelf {
		t.Errorf("go list -deps did not list %s itself", self)
	}
}
