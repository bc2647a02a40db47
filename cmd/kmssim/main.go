package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed while running
	exitUsage = 2 // bad command line
)

const usage = `kmssim runs kmsmodel, a model of AWS KMS, as a service or a simulation.

Usage:

	kmssim <command> [flags]

Commands:

	serve      serve the AWS KMS API (JSON 1.1) over HTTP, for AWS SDKs and the AWS CLI
	simulate   run a fleet of keys through years of simulated time and summarise it
	attest     make Nitro Enclaves attestation documents, for trying Recipient
	version    print the version of kmssim (also --version)
	help       show help for a command

Both serve and simulate take --rules 2024 (the default: the 2024 rules) or
--rules current (today's AWS rules). Run 'kmssim <command> --help' for a
command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit code. Cancelling ctx
// asks a running command to stop gracefully.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr, nil)
	case "simulate":
		return simulate(ctx, rest, stdout, stderr)
	case "attest":
		return attest(rest, stdout, stderr)
	case "version", "-version", "--version":
		return version(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		switch rest[0] {
		case "serve", "simulate", "attest", "version":
			return run(ctx, []string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprintf(stderr, "kmssim help: unknown command %q\n\n%s", rest[0], usage)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "kmssim: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

const versionHelp = `Usage: kmssim version

Print the version of kmssim: the module version, the VCS revision it was
built from (and whether the working tree was modified) when the build
recorded them, and the Go version. 'kmssim --version' does the same.
`

// version runs the version command.
func version(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if code := parseFlags(fs, versionHelp, args, stdout, stderr); code >= 0 {
		return code
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	fmt.Fprint(stdout, versionText(bi))
	return exitOK
}

// versionText describes the build bi (nil when the binary holds no build
// information): the main module's path and version, the VCS revision and
// whether the working tree was modified when those were stamped, and the
// Go version.
func versionText(bi *debug.BuildInfo) string {
	if bi == nil {
		return fmt.Sprintf("kmssim (no build information)\ngo       %s\n", runtime.Version())
	}
	var b strings.Builder
	version := bi.Main.Version
	if version == "" {
		version = "(unknown)" // a test binary has no main module
	}
	fmt.Fprintf(&b, "kmssim %s\n", version)
	if bi.Main.Path != "" {
		fmt.Fprintf(&b, "module   %s\n", bi.Main.Path)
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if modified == "true" {
			rev += " (modified)"
		}
		fmt.Fprintf(&b, "revision %s\n", rev)
	}
	fmt.Fprintf(&b, "go       %s\n", bi.GoVersion)
	return b.String()
}

// parseFlags parses args with fs. On --help it prints the command's usage
// to stdout and returns exitOK; on a bad flag or a stray argument it says
// what was wrong on stderr and returns exitUsage; otherwise it returns -1.
func parseFlags(fs *flag.FlagSet, help string, args []string, stdout, stderr io.Writer) int {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, help)
		printFlags(stdout, fs)
		return exitOK
	case err != nil:
		return usageError(stderr, fs.Name(), err.Error())
	case fs.NArg() > 0:
		return usageError(stderr, fs.Name(), "unexpected argument "+strings.Join(fs.Args(), " "))
	}
	return -1
}

// printFlags lists the flags of fs under a "Flags:" heading, as
// flag.PrintDefaults does but with the double-dash form the README and the
// help texts use (--mem, not -mem); the flag package accepts both. It
// prints nothing when fs has no flags.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s", f.Name)
		if arg != "" {
			fmt.Fprintf(&b, " %s", arg)
		}
		if len(f.Name) == 1 && arg == "" {
			b.WriteString("\t") // a one-letter flag fits its usage on its line
		} else {
			b.WriteString("\n    \t")
		}
		b.WriteString(strings.ReplaceAll(usage, "\n", "\n    \t"))
		if !isZeroDefault(f) {
			format := " (default %v)"
			if g, ok := f.Value.(flag.Getter); ok {
				if _, isString := g.Get().(string); isString {
					format = " (default %q)"
				}
			}
			fmt.Fprintf(&b, format, f.DefValue)
		}
		b.WriteString("\n")
	})
	if b.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", b.String())
	}
}

// isZeroDefault reports whether f's default is the zero value of its type
// (then, as in flag.PrintDefaults, the default is not shown): it compares
// DefValue with what a zero value of f.Value's type prints.
func isZeroDefault(f *flag.Flag) (zero bool) {
	typ := reflect.TypeOf(f.Value)
	var z reflect.Value
	if typ.Kind() == reflect.Pointer {
		z = reflect.New(typ.Elem())
	} else {
		z = reflect.Zero(typ)
	}
	defer func() {
		if recover() != nil {
			zero = f.DefValue == "" // a String method that needs a real value
		}
	}()
	return f.DefValue == z.Interface().(flag.Value).String()
}

// usageError reports a bad command line and returns exitUsage.
func usageError(stderr io.Writer, cmd, msg string) int {
	fmt.Fprintf(stderr, "kmssim %s: %s\nRun 'kmssim %s --help' for usage.\n", cmd, msg, cmd)
	return exitUsage
}

// countFlag parses a flag's count into dst: from 0 to most, or without
// bound when most < 0.
func countFlag(dst *int, most int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		switch {
		case most < 0 && (err != nil || n < 0):
			return fmt.Errorf("want a count, 0 or more")
		case most >= 0 && (err != nil || n < 0 || n > most):
			return fmt.Errorf("want a count from 0 to %d", most)
		}
		*dst = n
		return nil
	}
}

// quotaFlag parses --on-demand-quota into dst: a count from 0 to 65535.
func quotaFlag(dst *int) func(string) error { return countFlag(dst, 65535) }
