package keystate_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDependencies: keystate imports only the standard library and
// github.com/looplab/fsm (STYLE.md, "Dependency direction").
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	out, err := exec.Command(goTool, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" {
		t.Skip("not inside a module")
	}
	cmd := exec.Command(goTool, "list", "-deps", "./keystate")
	cmd.Dir = filepath.Dir(gomod)
	out, err = cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list -deps ./keystate: %v\n%s", err, stderr)
	}
	const self = "github.com/kmsmodel/kmsmodel/keystate"
	sawSelf := false
	for _, pkg := range strings.Fields(string(out)) {
		first, _, _ := strings.Cut(pkg, "/")
		switch {
		case !strings.Contains(first, "."):
			// standard library
		case pkg == self:
			sawSelf = true
		case pkg == "github.com/looplab/fsm":
		default:
			t.Errorf("keystate depends on %s; only the standard library and github.com/looplab/fsm are allowed", pkg)
		}
	}
	if !sawSelf {
		t.Errorf("go list -deps did not list %s itself:\n%s", self, out)
	}
}
