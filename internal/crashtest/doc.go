// Package crashtest runs a child process, reads the lines it prints and
// kills it with SIGKILL at a chosen moment: the common part of the crash
// tests of store/boltstore and kms, which then check what the child wrote
// against the lines it printed before it died.
//
// # Use
//
//	lines := crashtest.Kill(t, cmd, crashtest.AfterFirst, delay, parse)
//
// Kill starts cmd, hands each line of its standard output to parse, kills
// it delay after it started (Anytime) or after its first parsed line
// (AfterFirst), and fails t unless SIGKILL is what ended it.
package crashtest
