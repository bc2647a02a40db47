package etcdtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// ChildEnv is the environment variable through which StartProcess hands a
// member's configuration (JSON) to the child process it starts.
const ChildEnv = "KMSMODEL_ETCDTEST_MEMBER"

// childReady is what a child prints once its member is ready.
const childReady = "etcdtest member ready"

// RunChild makes a test binary a member process when StartProcess started
// it: TestMain calls it first. When ChildEnv is set, it runs the member it
// describes, prints a line when the member is ready, and exits when the
// member stops (or is killed); otherwise it returns at once.
func RunChild() {
	cfg := os.Getenv(ChildEnv)
	if cfg == "" {
		return
	}
	var mc MemberConfig
	if err := json.Unmarshal([]byte(cfg), &mc); err != nil {
		fmt.Fprintln(os.Stderr, "etcdtest child:", err)
		os.Exit(2)
	}
	r, err := Member(mc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdtest child:", err)
		os.Exit(3)
	}
	fmt.Println(childReady)
	<-r.Done()
	os.Exit(0)
}

// StartProcess runs member mc in a child process, the running test binary
// started again with ChildEnv set (its TestMain must call RunChild), and
// returns once the member is ready, or fails t. The caller may kill the
// process (SIGKILL, to crash the member); t.Cleanup kills it otherwise.
// The members of a new cluster must be started together (several calls
// from goroutines): none is ready before a quorum is up.
func StartProcess(t testing.TB, mc MemberConfig) *exec.Cmd {
	t.Helper()
	cfg, err := json.Marshal(mc)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), ChildEnv+"="+string(cfg))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("etcdtest: start member %s: %v", mc.Name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != childReady+"\n" {
		t.Fatalf("etcdtest: member %s in a child process: %q, %v", mc.Name, line, err)
	}
	return cmd
}
