package main

import (
	"bytes"
	"flag"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestHelpDoubleDash: every subcommand's help lists its flags in the form
// the README uses (--mem, not -mem), and the single-dash form is still
// accepted on the command line.
func TestHelpDoubleDash(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"serve", []string{"  --mem\n", "  --db file\n", "  --addr address\n", "  --clock clock\n", "  --access-key KEY=ACCOUNT|PRINCIPAL_ARN\n"}},
		{"simulate", []string{"  --keys int\n", "  --csv file\n", "  --svg file\n", "  --progress string\n", "  --seed seed\n"}},
	} {
		_, out, _ := runCmd(t, tc.cmd, "--help")
		_, flags, ok := strings.Cut(out, "\nFlags:\n")
		if !ok {
			t.Fatalf("%s --help has no Flags: section:\n%s", tc.cmd, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(flags, w) {
				t.Errorf("%s --help lacks %q:\n%s", tc.cmd, w, flags)
			}
		}
		if single := regexp.MustCompile(`(?m)^ +-[^-].*$`).FindAllString(flags, -1); single != nil {
			t.Errorf("%s --help lists single-dash flags: %q", tc.cmd, single)
		}
	}
	for _, args := range [][]string{
		{"simulate", "-keys", "3", "-years", "1", "-progress", "never"},
		{"simulate", "--keys", "3", "--years", "1", "--progress", "never"},
		{"simulate", "--keys=3", "-years=1"},
	} {
		if code, out, errOut := runCmd(t, args...); code != exitOK || !strings.Contains(out, "3 keys") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// TestPrintFlags: printFlags prints what flag.PrintDefaults prints (type
// names from back quotes, defaults quoted for strings and hidden when
// zero, multi-line usage indented), with "--" in front of each name.
func TestPrintFlags(t *testing.T) {
	newFS := func() *flag.FlagSet {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.Bool("b", false, "a one-letter bool")
		fs.Bool("on", true, "a bool that is on")
		fs.String("name", "", "a `thing` with no default")
		fs.String("addr", "127.0.0.1:0", "an `address`")
		fs.String("zero", "0", "a string whose default is \"0\"")
		fs.Int("n", 0, "an int\nover two lines")
		fs.Int("keys", 1000, "an int with a default")
		fs.Uint64("seed", 1, "a `seed`")
		fs.Float64("share", 0.5, "a float")
		fs.Duration("wait", 30*time.Second, "a duration")
		fs.Duration("never", 0, "a zero duration")
		fs.Func("fn", "a func flag, `K=V`", func(string) error { return nil })
		fs.BoolFunc("bf", "a bool func flag", func(string) error { return nil })
		var tv textValue
		fs.TextVar(&tv, "text", textValue("hi"), "a text flag")
		return fs
	}
	var got, std bytes.Buffer
	printFlags(&got, newFS())
	fs := newFS()
	fs.SetOutput(&std)
	fs.PrintDefaults()
	want := "\nFlags:\n" + regexp.MustCompile(`(?m)^  -`).ReplaceAllString(std.String(), "  --")
	if got.String() != want {
		t.Errorf("printFlags:\n%s\nwant:\n%s", got.String(), want)
	}

	got.Reset()
	printFlags(&got, flag.NewFlagSet("none", flag.ContinueOnError))
	if got.Len() != 0 {
		t.Errorf("no flags: printed %q", got.String())
	}
}

// textValue is an encoding.TextMarshaler for the TextVar case.
type textValue string

func (v textValue) MarshalText() ([]byte, error) { return []byte(v), nil }
func (v *textValue) UnmarshalText(b []byte) error {
	*v = textValue(b)
	return nil
}
