// Package crashtest runs a child process, reads the lines it prints and
// kills it with SIGKILL at a chosen moment: the common part of the crash
// tests of store/boltstore and kms, which then check what the child wrote
// against the lines it printed before it died.
//
// # Use
//
//	crashtest.Kill(t, cmd, crashtest.AfterFirst, delay, func(line string) bool {
//		… // keep the line if it is the child's; report whether it was
//	})
//
// Kill starts cmd, hands each line of its standard output to parse (its
// last argument), kills it delay after it started (Anytime) or after its
// first parsed line (AfterFirst), and fails t unless SIGKILL is what ended
// it. It returns nothing: parse keeps what the test needs of the lines.
package crashtest
