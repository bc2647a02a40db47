package crashtest

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// When says what Kill's delay counts from.
type When int

// The moments Kill's delay counts from.
const (
	// Anytime counts from the child's start (it may be killed before it
	// prints anything, while it opens its files, say).
	Anytime When = iota
	// AfterFirst counts from the first line parse accepts.
	AfterFirst
)

// firstLineTimeout bounds how long Kill waits for a child's first line.
const firstLineTimeout = 30 * time.Second

// Kill starts cmd, calls parse with each line the child prints on its
// standard output (parse reports whether the line is one of the child's,
// rather than the test framework's), sleeps delay from when (sleeping is
// the point: the child must run for a while), kills the child with
// SIGKILL and returns once it has ended and every line is parsed. It fails
// t if the child does not start, prints no line parse accepts within 30 s
// (with AfterFirst), or ends other than by the kill; the message shows the
// child's standard error. Each line a child prints with one write(2) of
// fewer than PIPE_BUF bytes reaches parse whole.
func Kill(t testing.TB, cmd *exec.Cmd, when When, delay time.Duration, parse func(line string) bool) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		seen := false
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if parse(sc.Text()) && !seen {
				seen = true
				close(first)
			}
		}
	}()
	if when == AfterFirst {
		select {
		case <-first:
		case <-done:
		case <-time.After(firstLineTimeout):
			_ = cmd.Process.Kill()
			t.Fatalf("no line from the child in %v; stderr:\n%s", firstLineTimeout, stderr.String())
		}
	}
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	<-done
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not by SIGKILL; stderr:\n%s", err, stderr.String())
	}
}
