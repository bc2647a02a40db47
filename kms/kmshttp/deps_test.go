package kmshttp_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDependencies: the handler uses the standard library only, besides
// kmsmodel's own packages (issue 7; the AWS SDK is a test dependency).
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	gomod, err := exec.Command(goTool, "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == "/dev/null" {
		t.Skip("not inside a module")
	}
	cmd := exec.Command(goTool, "list", "-deps", "./kms/kmshttp")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		first, _, _ := strings.Cut(pkg, "/")
		switch {
		case !strings.Contains(first, "."): // standard library
		case strings.HasPrefix(pkg, "github.com/kmsmodel/kmsmodel/"):
		case pkg == "github.com/looplab/fsm": // inside keystate
		default:
			t.Errorf("kms/kmshttp depends on %s", pkg)
		}
	}
}
