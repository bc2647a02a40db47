package policy_test

import (
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/depstest"
)

// TestDependencies: policy links only the standard library (and no other
// kmsmodel package, in particular not kms): it is a pure core (STYLE.md,
// "Dependency direction").
func TestDependencies(t *testing.T) {
	const self = "github.com/kmsmodel/kmsmodel/kms/policy"
	sawSelf := false
	for _, pkg := range depstest.Deps(t, "./kms/policy") {
		switch {
		case depstest.IsStandard(pkg):
		case pkg == self:
			sawSelf = true
		case strings.HasPrefix(pkg, "github.com/kmsmodel/kmsmodel/") && pkg != "github.com/kmsmodel/kmsmodel/kms":
			// other kmsmodel packages are allowed, kms itself is not
		default:
			t.Errorf("policy depends on %s; only the standard library and kmsmodel packages other than kms are allowed", pkg)
		}
	}
	if !sawSelf {
		t.Errorf("go list -deps did not list %s itself", self)
	}
}
