package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSimulateUnwritableOutput: a --csv or --svg path that cannot be
// written fails before the simulation runs (no summary, no progress, exit
// 1, the flag and path named), and leaves no file behind: a --csv file
// opened before an unwritable --svg is removed again.
func TestSimulateUnwritableOutput(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	csvFile := filepath.Join(dir, "t.csv")
	for _, tc := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"csv under a file", []string{"--csv", filepath.Join(notDir, "t.csv")}, "--csv: open " + filepath.Join(notDir, "t.csv")},
		{"svg in a missing directory", []string{"--csv", csvFile, "--svg", filepath.Join(dir, "missing", "t.svg")}, "--svg: open " + filepath.Join(dir, "missing", "t.svg")},
		{"csv is a directory", []string{"--csv", dir}, "--csv: open " + dir},
	} {
		code, out, errOut := runCmd(t, append([]string{"simulate", "--keys", "20", "--years", "1", "--progress", "always"}, tc.flags...)...)
		if code != exitError || out != "" || !strings.HasPrefix(errOut, "kmssim simulate: "+tc.want) || strings.Contains(errOut, "[") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 before the run, stderr naming %q", tc.name, code, out, errOut, tc.want)
		}
		if _, err := os.Stat(csvFile); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %s left behind (%v)", tc.name, csvFile, err)
		}
	}
}

// TestSimulateOutputsOnFailedRun: when the run itself fails (here, a
// cancelled context), an existing output file keeps its content and a new
// one is not left behind.
func TestSimulateOutputsOnFailedRun(t *testing.T) {
	dir := t.TempDir()
	csvFile, svgFile := filepath.Join(dir, "old.csv"), filepath.Join(dir, "new.svg")
	if err := os.WriteFile(csvFile, []byte("the previous run\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"simulate", "--keys", "10", "--csv", csvFile, "--svg", svgFile}, &out, &errb); code != exitError {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if b, err := os.ReadFile(csvFile); err != nil || string(b) != "the previous run\n" {
		t.Errorf("existing --csv file after a failed run: %q, %v", b, err)
	}
	if _, err := os.Stat(svgFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("new --svg file left behind after a failed run (%v)", err)
	}
}

// TestSimulateReplacesOutput: a successful run replaces the whole content
// of an existing, longer file.
func TestSimulateReplacesOutput(t *testing.T) {
	csvFile := filepath.Join(t.TempDir(), "t.csv")
	if err := os.WriteFile(csvFile, bytes.Repeat([]byte("longer than the new content\n"), 100), 0o666); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd(t, "simulate", "--keys", "1", "--years", "0.25", "--periods", "90", "--on-demand", "0", "--disable", "0", "--delete", "0", "--csv", csvFile); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "month,automatic,on_demand,total\n2024-01,0,0,0\n2024-02,0,0,0\n2024-03,1,0,1\n"
	if b, err := os.ReadFile(csvFile); err != nil || string(b) != want {
		t.Errorf("CSV %q, %v; want %q", b, err, want)
	}
}
