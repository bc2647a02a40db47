package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGitignoreREADMEOutputs: following the README leaves kms.db (serve's
// default --db) and rotations.csv and rotations.svg (the simulate example)
// in the checkout; git must ignore them. With git available the test asks
// git itself (git check-ignore --no-index); without it, it reads .gitignore.
func TestGitignoreREADMEOutputs(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"kms.db", "rotations.csv", "rotations.svg"}
	if gitBin, err := exec.LookPath("git"); err == nil {
		cmd := exec.Command(gitBin, append([]string{"check-ignore", "--no-index", "--"}, names...)...)
		cmd.Dir = root
		out, err := cmd.Output()
		// Exit status 1 means "none ignored"; anything else (128: not a
		// checkout) leaves the question to .gitignore below.
		var ee *exec.ExitError
		if err == nil || errors.As(err, &ee) && ee.ExitCode() == 1 {
			ignored := strings.Fields(string(out))
			for _, n := range names {
				if !slices.Contains(ignored, n) {
					t.Errorf("git does not ignore %s (git check-ignore printed %q)", n, out)
				}
			}
			return
		}
	}
	f, err := os.Open(filepath.Join(root, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		patterns[strings.TrimPrefix(strings.TrimSpace(sc.Text()), "/")] = true
	}
	for _, n := range names {
		if !patterns[n] {
			t.Errorf(".gitignore has no line for %s", n)
		}
	}
}
