package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
)

// TestREADMEOperationCount: the "How it compares" table of the README
// states how many operations serve answers; it must be the number
// kmshttp.Operations lists.
func TestREADMEOperationCount(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\| Operations served \| (\d+) of the \d+ `).FindSubmatch(b)
	if m == nil {
		t.Fatal("README has no \"Operations served | N of the M\" row")
	}
	if n, _ := strconv.Atoi(string(m[1])); n != len(kmshttp.Operations()) {
		t.Errorf("README says %d operations are served; kmshttp.Operations lists %d", n, len(kmshttp.Operations()))
	}
}

// TestREADMEFlagsExist: every --flag the README gives for kmssim serve
// or simulate is one the command accepts (its help lists it).
func TestREADMEFlagsExist(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, cmd := range []string{"serve", "simulate"} {
		_, out, _ := runCmd(t, cmd, "--help")
		for _, m := range regexp.MustCompile(`(?m)^  --([a-z-]+)`).FindAllStringSubmatch(out, -1) {
			listed[m[1]] = true
		}
	}
	// Flags on kmssim command lines, and flags quoted in the prose around them.
	lines := regexp.MustCompile(`(?m)^go run \./cmd/kmssim .*$`).FindAll(b, -1)
	for _, line := range lines {
		for _, m := range regexp.MustCompile(`--([a-z-]+)`).FindAllSubmatch(line, -1) {
			if !listed[string(m[1])] {
				t.Errorf("README runs kmssim with --%s, which no command accepts: %s", m[1], line)
			}
		}
	}
	if len(lines) == 0 {
		t.Error("README has no kmssim command lines")
	}
}
