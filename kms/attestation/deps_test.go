package attestation_test

import (
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/depstest"
)

// TestDependencies: package attestation is a pure leaf (STYLE.md,
// "Dependency direction"): the standard library and the CBOR decoder
// only, and no package of kmsmodel's, so that kms builds on it and not
// the other way round.
func TestDependencies(t *testing.T) {
	for _, pkg := range depstest.Deps(t, "./kms/attestation") {
		switch {
		case depstest.IsStandard(pkg), pkg == "github.com/kmsmodel/kmsmodel/kms/attestation":
		case strings.HasPrefix(pkg, "github.com/fxamacker/cbor/v2"), strings.HasPrefix(pkg, "github.com/x448/float16"):
		default:
			t.Errorf("kms/attestation depends on %s", pkg)
		}
	}
}
