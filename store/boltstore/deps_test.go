package boltstore_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBboltStaysHere: packages store and kms never link bbolt; only this
// adapter does (STYLE.md, "Dependency direction").
func TestBboltStaysHere(t *testing.T) {
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
	for _, pkg := range []string{"./store", "./kms"} {
		cmd := exec.Command(goTool, "list", "-e", "-deps", pkg)
		cmd.Dir = filepath.Dir(gomod)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "go.etcd.io/bbolt") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
