package boltstore_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/crashtest"
	"github.com/kmsmodel/kmsmodel/store"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

var (
	crashTrials = flag.Int("crash.trials", 50, "number of SIGKILL trials in TestCrashSafety")
	crashSeed   = flag.Uint64("crash.seed", 0, "seed of TestCrashSafety's kill timing (0: from the clock)")
)

// The child process's role and file, passed in the environment.
const (
	childEnv = "KMSMODEL_BOLTSTORE_CHILD" // "crash" or "hold"
	pathEnv  = "KMSMODEL_BOLTSTORE_PATH"
	// walEnv, if set, is the log length past which the crash child's
	// commits checkpoint (see SetWALCheckpoint).
	walEnv = "KMSMODEL_BOLTSTORE_WALCHECKPOINT"
)

const crashWriters = 4

// TestChild is the body of the child processes the crash and lock tests
// start (the test binary run again with childEnv set). It is skipped in a
// normal run.
func TestChild(t *testing.T) {
	path := os.Getenv(pathEnv)
	switch os.Getenv(childEnv) {
	case "":
		t.Skip("only run as a child process of TestCrashSafety or TestLockedAcrossProcesses")
	case "crash":
		crashChild(path)
	case "hold":
		holdChild(path)
	}
	os.Exit(0)
}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}

// crashChild applies numbered batches from crashWriters goroutines,
// printing "ack W I" after Apply returns, until it is killed (or a safety
// limit passes).
func crashChild(path string) {
	if v := os.Getenv(walEnv); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			die("%s: %v", walEnv, err)
		}
		boltstore.SetWALCheckpoint(n)
	}
	s, err := boltstore.Open(path, &boltstore.Options{Timeout: 5 * time.Second})
	if err != nil {
		die("open: %v", err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	var wg sync.WaitGroup
	for w := range crashWriters {
		start := 0
		c, err := s.Key(ctx, counterID(w))
		switch {
		case err == nil:
			start = int(c.Version)
		case !errors.Is(err, store.ErrNotFound):
			die("read counter %d: %v", w, err)
		}
		wg.Go(func() {
			for i := start; time.Now().Before(deadline); i++ {
				if err := s.Apply(ctx, crashBatch(w, i)); err != nil {
					die("apply %d %d: %v", w, i, err)
				}
				fmt.Fprintf(os.Stdout, "ack %d %d\n", w, i) // one write(2) per line
			}
		})
	}
	wg.Wait()
	s.Close()
}

func counterID(w int) string     { return fmt.Sprintf("c-%d", w) }
func permID(w, i int) string     { return fmt.Sprintf("k-%d-%08d", w, i) }
func tempID(w, i int) string     { return fmt.Sprintf("t-%d-%08d", w, i) }
func rotationAt(i int) time.Time { return time.Unix(1_700_000_000+int64(i), int64(i)) }
func aliasOf(id string) store.AliasID {
	return store.AliasID{Account: "111122223333", Name: "alias/" + id}
}

// crashBatch is writer w's batch number i: it creates a permanent key with
// a rotation and an alias, bumps the writer's counter key to Version i+1
// with a rotation, creates a temporary key with an alias and deletes the
// previous one (whose alias goes with it).
func crashBatch(w, i int) *store.Batch {
	perm, tmp := permID(w, i), tempID(w, i)
	counter := key(counterID(w))
	counter.Version = uint64(i + 1)
	counter.Description = perm
	b := &store.Batch{
		PutKeys: []store.Key{key(perm), key(tmp), counter},
		AddRotations: []store.KeyRotation{
			{KeyID: perm, Rotation: store.Rotation{At: rotationAt(i)}},
			{KeyID: counterID(w), Rotation: store.Rotation{At: rotationAt(i), OnDemand: true}},
		},
		PutAliases: []store.Alias{{AliasID: aliasOf(perm), KeyID: perm}, {AliasID: aliasOf(tmp), KeyID: tmp}},
	}
	if i > 0 {
		b.DeleteKeys = []string{tempID(w, i-1)}
	}
	return b
}

// holdChild opens the store, says so, and holds it until stdin closes.
func holdChild(path string) {
	s, err := boltstore.Open(path, nil)
	if err != nil {
		die("open: %v", err)
	}
	fmt.Println("open")
	io.Copy(io.Discard, os.Stdin)
	s.Close()
}

func childCommand(t *testing.T, role, path string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+role, pathEnv+"="+path)
	return cmd
}

// TestCrashSafety kills a process writing to a store with SIGKILL at
// random moments, reopens the file and checks that every batch the child
// saw acknowledged is there and that no batch is there in part. In every
// other trial the child checkpoints its write-ahead log every few groups
// (kills then land during checkpoints, and while the log starts over on
// top of older records), in the others never (the log holds every group).
// -crash.trials sets the number of kills, -crash.seed replays a timing.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("-crash.seed=%d -crash.trials=%d", seed, *crashTrials)
	rng := rand.New(rand.NewPCG(seed, 0))
	path := tempPath(t)
	start := time.Now()
	var totalAcks, midOpen int
	for trial := range *crashTrials {
		acks := crashOnce(t, rng, trial, path)
		totalAcks += len(acks)
		if len(acks) == 0 {
			midOpen++
		}
		verifyCrash(t, trial, path, acks)
		if t.Failed() {
			t.Fatalf("trial %d failed; replay with -crash.seed=%d", trial, seed)
		}
	}
	t.Logf("%d trials in %v (%v each), %d acknowledged batches, %d kills before the first acknowledgement",
		*crashTrials, time.Since(start).Round(time.Millisecond),
		(time.Since(start) / time.Duration(max(1, *crashTrials))).Round(time.Millisecond), totalAcks, midOpen)
}

type ack struct{ w, i int }

// crashOnce runs one child and kills it: a third of the time at a random
// moment after its start (often while it opens the file), otherwise a
// random moment after its first acknowledgement.
func crashOnce(t *testing.T, rng *rand.Rand, trial int, path string) (acks []ack) {
	when, delay := crashtest.AfterFirst, time.Duration(rng.IntN(20_000))*time.Microsecond
	if trial%3 == 0 {
		when, delay = crashtest.Anytime, time.Duration(rng.IntN(10_000))*time.Microsecond
	}
	cmd := childCommand(t, "crash", path)
	if trial%2 == 1 {
		cmd.Env = append(cmd.Env, walEnv+"=4096")
	}
	crashtest.Kill(t, cmd, when, delay, func(line string) bool {
		var a ack
		if _, err := fmt.Sscanf(line, "ack %d %d", &a.w, &a.i); err != nil {
			return false // the test framework's own output
		}
		acks = append(acks, a)
		return true
	})
	return acks
}

// verifyCrash opens the file the killed child wrote and checks it against
// the acknowledged batches.
func verifyCrash(t *testing.T, trial int, path string, acks []ack) {
	t.Helper()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if len(acks) > 0 {
			t.Errorf("trial %d: no file, but %d batches acknowledged", trial, len(acks))
		}
		return
	}
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Errorf("trial %d: reopen after SIGKILL: %v", trial, err)
		return
	}
	defer s.Close()
	keys, rots, aliases, err := tryReadAll(s)
	if err != nil {
		t.Errorf("trial %d: read after SIGKILL: %v", trial, err)
		return
	}
	have := map[string]store.Key{}
	for _, k := range keys {
		have[k.ID] = k
	}
	haveAlias := map[string]string{}
	for _, a := range aliases {
		haveAlias[a.Name] = a.KeyID
	}
	wantKeys, wantAliases := 0, 0
	applied := make([]int, crashWriters) // batches of each writer present
	for w := range crashWriters {
		if c, ok := have[counterID(w)]; ok {
			applied[w] = int(c.Version)
			wantKeys++
			if got := len(rots[c.ID]); got != applied[w] {
				t.Errorf("trial %d: counter %d at version %d has %d rotations (half a batch)", trial, w, applied[w], got)
			}
		}
		n := applied[w]
		for i := range n {
			id := permID(w, i)
			if _, ok := have[id]; !ok {
				t.Errorf("trial %d: writer %d at batch %d lacks key %s of batch %d", trial, w, n, id, i)
			}
			if rs := rots[id]; len(rs) != 1 || !rs[0].At.Equal(rotationAt(i)) {
				t.Errorf("trial %d: key %s has rotations %v", trial, id, rs)
			}
			if haveAlias["alias/"+id] != id {
				t.Errorf("trial %d: alias of %s missing", trial, id)
			}
		}
		wantKeys += n
		wantAliases += n
		if n > 0 {
			tmp := tempID(w, n-1)
			if _, ok := have[tmp]; !ok || haveAlias["alias/"+tmp] != tmp {
				t.Errorf("trial %d: temporary key %s or its alias missing", trial, tmp)
			}
			wantKeys++
			wantAliases++
		}
	}
	if len(keys) != wantKeys || len(aliases) != wantAliases {
		t.Errorf("trial %d: %d keys and %d aliases, want %d and %d (parts of unapplied batches, or deleted keys, remain)",
			trial, len(keys), len(aliases), wantKeys, wantAliases)
	}
	for _, a := range acks {
		if a.i >= applied[a.w] {
			t.Errorf("trial %d: batch %d of writer %d was acknowledged but is not in the file (writer at %d)",
				trial, a.i, a.w, applied[a.w])
		}
	}
	if t.Failed() {
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		t.Logf("keys: %s", strings.Join(ids, " "))
	}
}

// TestLockedAcrossProcesses: while another process holds the store, Open
// fails within its timeout with ErrLocked naming the file; once that
// process has closed it, Open succeeds.
func TestLockedAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := tempPath(t)
	cmd := childCommand(t, "hold", path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "open\n" {
		t.Fatalf("child said %q, %v; stderr:\n%s", line, err, stderr.String())
	}
	start := time.Now()
	_, err = boltstore.Open(path, &boltstore.Options{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, boltstore.ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a file another process holds: %v; want ErrLocked naming %s", err, path)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Open took %v with a 200ms timeout", d)
	}
	stdin.Close()
	go io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v; stderr:\n%s", err, stderr.String())
	}
	openStore(t, path, nil)
}
