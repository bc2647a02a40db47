// Package proctest measures what a process costs, for the benchmarks that
// compare kmsmodel's servers and libraries as ratios: the CPU time (user
// plus system) of this process or of another one by its ID, and another
// process's resident memory. Reading another process uses Linux's /proc;
// where that is missing the functions return an error, and a benchmark
// skips. Drive loads a server as a fixed number of clients do: each makes
// its next call when its call before returns. FirstTouch measures how fast
// this machine brings fresh memory into a process, which bounds what any
// program that grows to gigabytes pays for it (on Linux; elsewhere it
// returns an error).
package proctest
