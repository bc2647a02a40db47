package kmshttp_test

import (
	"strings"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/depstest"
)

// TestDependencies: the handler uses the standard library only, besides
// kmsmodel's own packages (issue 7; the AWS SDK is a test dependency) and
// the cryptography modules internal/keycrypto chose where the standard
// library has no primitive (issue 13: ML-DSA, secp256k1, SM2).
func TestDependencies(t *testing.T) {
	for _, pkg := range depstest.Deps(t, "./kms/kmshttp") {
		switch {
		case depstest.IsStandard(pkg):
		case strings.HasPrefix(pkg, "github.com/kmsmodel/kmsmodel/"):
		case pkg == "github.com/looplab/fsm": // inside keystate
		case strings.HasPrefix(pkg, "filippo.io/mldsa/"), pkg == "filippo.io/mldsa", // ML-DSA
			strings.HasPrefix(pkg, "github.com/decred/dcrd/dcrec/secp256k1/"),                           // secp256k1
			strings.HasPrefix(pkg, "github.com/emmansun/gmsm/"),                                         // SM2, SM3
			strings.HasPrefix(pkg, "golang.org/x/crypto/"), strings.HasPrefix(pkg, "golang.org/x/sys/"): // theirs
		default:
			t.Errorf("kms/kmshttp depends on %s", pkg)
		}
	}
}
