package kms_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/internal/crashtest"
	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store/boltstore"
)

var (
	gcCrashTrials = flag.Int("gccrash.trials", 50, "number of SIGKILL trials in TestGroupCommitCrash")
	gcCrashSeed   = flag.Uint64("gccrash.seed", 0, "seed of TestGroupCommitCrash's writer counts and kill timing (0: from the clock)")
)

// The child process's file, trial and writer count, in its environment.
const (
	gcChildPath    = "KMSMODEL_KMS_CRASH_PATH"
	gcChildTrial   = "KMSMODEL_KMS_CRASH_TRIAL"
	gcChildWriters = "KMSMODEL_KMS_CRASH_WRITERS"
)

var gcCrashStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestGroupCommitCrashChild is the body of TestGroupCommitCrash's child
// processes (the test binary run again with gcChildPath set); it is skipped
// in a normal run. It opens the service over the store, then runs writers
// goroutines, each creating a key, aliasing it and disabling it, again and
// again, and a reader listing aliases; it prints a line per acknowledged
// call and per alias the reader saw, until it is killed.
func TestGroupCommitCrashChild(t *testing.T) {
	path := os.Getenv(gcChildPath)
	if path == "" {
		t.Skip("only run as a child process of TestGroupCommitCrash")
	}
	trial, _ := strconv.Atoi(os.Getenv(gcChildTrial))
	writers, _ := strconv.Atoi(os.Getenv(gcChildWriters))
	svc := gcOpen(path)
	ctx := context.Background()
	say := func(format string, args ...any) {
		fmt.Fprintf(os.Stdout, format+"\n", args...) // one write(2) per line
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
		os.Exit(2)
	}
	deadline := time.Now().Add(20 * time.Second) // a safety limit: the parent kills first
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				name := fmt.Sprintf("t%d-w%d-%d", trial, w, i)
				out, err := svc.CreateKey(ctx, &kms.CreateKeyInput{Description: name})
				if err != nil {
					fail("CreateKey %s: %v", name, err)
				}
				id := out.KeyMetadata.KeyId
				say("create %s %s", name, id)
				if _, err := svc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: "alias/" + name, TargetKeyId: id}); err != nil {
					fail("CreateAlias %s: %v", name, err)
				}
				say("alias %s %s", name, id)
				if _, err := svc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id}); err != nil {
					fail("DisableKey %s: %v", name, err)
				}
				say("disable %s %s", name, id)
			}
		})
	}
	wg.Go(func() {
		seen := map[string]bool{}
		for time.Now().Before(deadline) {
			var marker string
			for {
				out, err := svc.ListAliases(ctx, &kms.ListAliasesInput{Marker: marker, Limit: new(int32(100))})
				if err != nil {
					fail("ListAliases: %v", err)
				}
				for _, a := range out.Aliases {
					if !seen[a.AliasName] && a.TargetKeyId != "" {
						seen[a.AliasName] = true
						say("saw %s %s", strings.TrimPrefix(a.AliasName, "alias/"), a.TargetKeyId)
					}
				}
				if !out.Truncated {
					break
				}
				marker = out.NextMarker
			}
		}
	})
	wg.Wait()
	os.Exit(0)
}

// gcOpen opens a service over the bbolt store at path, its manual clock at
// the store's latest instant or gcCrashStart.
func gcOpen(path string) *kms.Service {
	st, err := boltstore.Open(path, &boltstore.Options{Timeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintf(os.Stderr, "open %s: %v\n", path, err)
		os.Exit(2)
	}
	start := gcCrashStart
	if latest, err := st.LatestInstant(context.Background()); err == nil && latest.After(start) {
		start = latest
	}
	svc, err := kms.Open(context.Background(), st, kms.WithClock(kms.NewManualClock(start)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "kms.Open %s: %v\n", path, err)
		os.Exit(2)
	}
	return svc
}

// TestGroupCommitCrash kills, with SIGKILL at random moments, a process
// whose 8 to 64 goroutines write through one kms.Service over boltstore
// (their writes grouped into shared commits) while another reads, then
// reopens the file and checks: every call acknowledged before the kill
// (CreateKey, CreateAlias, DisableKey) is there, every alias the reader
// saw is there (a read never reports what a crash undoes), and nothing is
// there in part (each writer's keys are its acknowledged ones, plus at
// most the one it was creating). The same file is written by every trial,
// so each also reopens a file a kill left behind. -gccrash.trials sets the
// number of kills, -gccrash.seed replays a run.
func TestGroupCommitCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	seed := *gcCrashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("-gccrash.seed=%d -gccrash.trials=%d", seed, *gcCrashTrials)
	rng := rand.New(rand.NewPCG(seed, 1))
	path := filepath.Join(t.TempDir(), "kms.db")
	began := time.Now()
	acked := 0
	for trial := range *gcCrashTrials {
		writers := []int{8, 16, 32, 64}[rng.IntN(4)]
		lines := gcCrashOnce(t, rng, trial, writers, path)
		acked += len(lines)
		gcVerify(t, trial, writers, path, lines)
		if t.Failed() {
			t.Fatalf("trial %d (%d writers) failed; replay with -gccrash.seed=%d", trial, writers, seed)
		}
	}
	t.Logf("%d trials in %v, %d acknowledged calls and reads", *gcCrashTrials, time.Since(began).Round(time.Millisecond), acked)
}

// gcLine is one line of the child's output: what ("create", "alias",
// "disable" or "saw"), the key's name and its ID.
type gcLine struct{ what, name, id string }

// gcCrashOnce runs one child and kills it a random while after its first
// acknowledgement, and returns the lines it printed.
func gcCrashOnce(t *testing.T, rng *rand.Rand, trial, writers int, path string) []gcLine {
	cmd := exec.Command(os.Args[0], "-test.run=^TestGroupCommitCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), gcChildPath+"="+path, gcChildTrial+"="+strconv.Itoa(trial),
		gcChildWriters+"="+strconv.Itoa(writers))
	var lines []gcLine
	crashtest.Kill(t, cmd, crashtest.AfterFirst, time.Duration(rng.IntN(40_000))*time.Microsecond, func(line string) bool {
		f := strings.Fields(line)
		if len(f) != 3 || !strings.Contains(" create alias disable saw ", " "+f[0]+" ") {
			return false // the test framework's own output
		}
		lines = append(lines, gcLine{f[0], f[1], f[2]})
		return true
	})
	return lines
}

// gcVerify reopens the file and checks it against the child's lines.
func gcVerify(t *testing.T, trial, writers int, path string, lines []gcLine) {
	t.Helper()
	st, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatalf("trial %d: reopen after SIGKILL: %v", trial, err)
	}
	ctx := context.Background()
	svc, err := kms.Open(ctx, st, kms.WithClock(kms.NewManualClock(time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC))))
	if err != nil {
		t.Fatalf("trial %d: kms.Open after SIGKILL: %v", trial, err)
	}
	defer svc.Close()
	// Every key and alias the file holds, by name.
	keys := map[string]*kms.KeyMetadata{} // by description
	var marker string
	for {
		out, err := svc.ListKeys(ctx, &kms.ListKeysInput{Marker: marker, Limit: new(int32(1000))})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range out.Keys {
			d, err := svc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
			if err != nil {
				t.Fatal(err)
			}
			if keys[d.KeyMetadata.Description] != nil {
				t.Errorf("trial %d: two keys named %s", trial, d.KeyMetadata.Description)
			}
			keys[d.KeyMetadata.Description] = &d.KeyMetadata
		}
		if !out.Truncated {
			break
		}
		marker = out.NextMarker
	}
	aliases := map[string]string{} // name → key ID
	marker = ""
	for {
		out, err := svc.ListAliases(ctx, &kms.ListAliasesInput{Marker: marker, Limit: new(int32(100))})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.Aliases {
			if a.TargetKeyId != "" {
				aliases[strings.TrimPrefix(a.AliasName, "alias/")] = a.TargetKeyId
			}
		}
		if !out.Truncated {
			break
		}
		marker = out.NextMarker
	}
	created := map[string]int{} // acknowledged creations per writer of this trial
	for _, l := range lines {
		k := keys[l.name]
		switch {
		case k == nil:
			t.Errorf("trial %d: %s of %s acknowledged, but the key is not in the file", trial, l.what, l.name)
			continue
		case k.KeyId != l.id:
			t.Errorf("trial %d: key %s is %s in the file, %s when acknowledged", trial, l.name, k.KeyId, l.id)
		}
		switch l.what {
		case "create":
			created[l.name[:strings.LastIndexByte(l.name, '-')]]++
		case "alias", "saw":
			if aliases[l.name] != l.id {
				t.Errorf("trial %d: alias %s %s (%s), but the file has it naming %q", trial, l.name, l.what, l.id, aliases[l.name])
			}
		case "disable":
			if k.KeyState != "Disabled" {
				t.Errorf("trial %d: key %s disabled, but %s in the file", trial, l.name, k.KeyState)
			}
		}
	}
	// Nothing beyond what was acknowledged, but the call each writer had
	// in progress.
	for w := range writers {
		prefix := fmt.Sprintf("t%d-w%d", trial, w)
		n := created[prefix]
		if keys[fmt.Sprintf("%s-%d", prefix, n+1)] != nil {
			t.Errorf("trial %d: writer %d has %d acknowledged keys, but the file has key %d", trial, w, n, n+1)
		}
	}
}
