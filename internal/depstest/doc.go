// Package depstest lets tests check the dependency arrows of kmsmodel's
// packages (STYLE.md, "Dependency direction") with go list -deps.
//
// # Use
//
//	for _, dep := range depstest.Deps(t, "./keystate") { … }
//
// Deps skips the test when the go command or the module cannot be found.
package depstest
