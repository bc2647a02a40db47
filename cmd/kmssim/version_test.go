package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionCommand: `kmssim version`, `--version` and `-version` print
// the version (here, of the test binary: at least the Go version) on
// stdout and exit 0; `help version` and `version --help` describe it; a
// stray argument is a usage error.
func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, out, errOut := runCmd(t, args...)
		if code != exitOK || !strings.HasPrefix(out, "kmssim ") || !strings.Contains(out, "go       "+runtime.Version()+"\n") || errOut != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	for _, args := range [][]string{{"help", "version"}, {"version", "--help"}} {
		code, out, _ := runCmd(t, args...)
		if code != exitOK || !strings.Contains(out, "Usage: kmssim version") {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
	}
	if code, _, errOut := runCmd(t, "version", "extra"); code != exitUsage || !strings.Contains(errOut, "unexpected argument extra") {
		t.Errorf("version extra: exit %d, stderr %q", code, errOut)
	}
	if _, out, _ := runCmd(t, "help"); !strings.Contains(out, "version") {
		t.Errorf("help does not list version:\n%s", out)
	}
}

// TestVersionText: what versionText prints from the build information:
// module version and path, the VCS revision with "(modified)" when the
// tree was dirty, and the Go version.
func TestVersionText(t *testing.T) {
	main := debug.Module{Path: "github.com/kmsmodel/kmsmodel", Version: "v0.3.0"}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"tagged, clean", &debug.BuildInfo{GoVersion: "go1.26.8", Main: main, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "7d1ab8ec8d05ba9f5b8331a9c52c76376f6367e9"}, {Key: "vcs.modified", Value: "false"}}},
			"kmssim v0.3.0\nmodule   github.com/kmsmodel/kmsmodel\nrevision 7d1ab8ec8d05ba9f5b8331a9c52c76376f6367e9\ngo       go1.26.8\n"},
		{"modified tree", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: main.Path, Version: "v0.3.1-0.20261201120000-7d1ab8ec8d05+dirty"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "7d1ab8ec8d05ba9f5b8331a9c52c76376f6367e9"}, {Key: "vcs.modified", Value: "true"}}},
			"kmssim v0.3.1-0.20261201120000-7d1ab8ec8d05+dirty\nmodule   github.com/kmsmodel/kmsmodel\nrevision 7d1ab8ec8d05ba9f5b8331a9c52c76376f6367e9 (modified)\ngo       go1.26.8\n"},
		{"no VCS stamp (-buildvcs=false)", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: main.Path, Version: "(devel)"}},
			"kmssim (devel)\nmodule   github.com/kmsmodel/kmsmodel\ngo       go1.26.8\n"},
		{"test binary (no main module)", &debug.BuildInfo{GoVersion: "go1.26.8"}, "kmssim (unknown)\ngo       go1.26.8\n"},
		{"no build information", nil, "kmssim (no build information)\ngo       " + runtime.Version() + "\n"},
	} {
		if got := versionText(tc.bi); got != tc.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.name, got, tc.want)
		}
	}
}
