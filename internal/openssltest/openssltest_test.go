package openssltest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/kmsmodel/kmsmodel/internal/openssltest"
)

// TestRun: a file written with Write is where openssl, run in the same
// directory, reads it, and Run returns openssl's standard output.
func TestRun(t *testing.T) {
	dir := openssltest.Dir(t)
	p := openssltest.Write(t, dir, "in.txt", []byte("kmsmodel\n"))
	if p != filepath.Join(dir, "in.txt") {
		t.Fatalf("Write returned %q", p)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "kmsmodel\n" {
		t.Fatalf("the file holds %q (%v)", b, err)
	}
	out := openssltest.Run(t, dir, "base64", "-in", "in.txt")
	if want := []byte("a21zbW9kZWwK\n"); !bytes.Equal(out, want) {
		t.Fatalf("openssl base64 = %q, want %q", out, want)
	}
}
