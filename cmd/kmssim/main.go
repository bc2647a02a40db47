package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	help       show help for a command

Run 'kmssim <command> --help' for a command's flags.
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
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		switch rest[0] {
		case "serve", "simulate":
			return run(ctx, []string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprintf(stderr, "kmssim help: unknown command %q\n\n%s", rest[0], usage)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "kmssim: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
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
		fmt.Fprintln(stdout, "\nFlags:")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return exitOK
	case err != nil:
		return usageError(stderr, fs.Name(), err.Error())
	case fs.NArg() > 0:
		return usageError(stderr, fs.Name(), "unexpected argument "+strings.Join(fs.Args(), " "))
	}
	return -1
}

// usageError reports a bad command line and returns exitUsage.
func usageError(stderr io.Writer, cmd, msg string) int {
	fmt.Fprintf(stderr, "kmssim %s: %s\nRun 'kmssim %s --help' for usage.\n", cmd, msg, cmd)
	return exitUsage
}
