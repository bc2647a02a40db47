package main

import (
	"flag"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// simFleets are the three fleets of kms's BenchmarkSimulate1MKeys10Years
// (1,000,000 keys, ten years each) as simulate flags: rotation periods of
// 90–2560 days; all of 365 days; 90–2560 days with 1% of the keys disabled
// and 1% deleted over the ten years (rates of 0.001 a year each).
var simFleets = [][]string{
	{"--periods", "90-2560", "--on-demand", "0", "--disable", "0", "--delete", "0"},
	{"--periods", "365", "--on-demand", "0", "--disable", "0", "--delete", "0"},
	{"--periods", "90-2560", "--on-demand", "0", "--disable", "0.001", "--delete", "0.001", "--cancel", "0"},
}

// BenchmarkSimulateCost is issue 15's comparison of `kmssim simulate`
// with the library it drives: in one run, kms's
// BenchmarkSimulate1MKeys10Years (three 1,000,000-key fleets over ten
// years, one process) and the same three fleets through the built
// kmssim binary (one process each). It reports the CPU time of both
// (whole processes: setup, run, garbage collection), their ratio
// (cpu-ratio, target ≤ 2) and simulate's largest peak resident memory
// (sim-max-rss-MB, target ≤ 600). It runs only when named in -bench, as
// it builds both binaries and needs a minute or two:
//
//	go test ./cmd/kmssim -run '^$' -bench SimulateCost -benchtime 1x
func BenchmarkSimulateCost(b *testing.B) {
	if pat := flag.Lookup("test.bench"); pat == nil || !strings.Contains(pat.Value.String(), "SimulateCost") {
		b.Skip("runs only when asked for: -bench SimulateCost")
	}
	dir := b.TempDir()
	bin, lib := filepath.Join(dir, "kmssim"), filepath.Join(dir, "kms.test")
	for _, build := range [][]string{
		{"build", "-o", bin, "github.com/kmsmodel/kmsmodel/cmd/kmssim"},
		{"test", "-c", "-o", lib, "github.com/kmsmodel/kmsmodel/kms"},
	} {
		if out, err := exec.Command("go", build...).CombinedOutput(); err != nil {
			b.Skipf("go %s: %v\n%s", strings.Join(build, " "), err, out)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		libCPU, libRSS := childCost(b, exec.Command(lib, "-test.run", "^$", "-test.bench", "Simulate1MKeys10Years$",
			"-test.benchtime", "1x"))
		var simCPU time.Duration
		var simRSS int64
		for _, fleet := range simFleets {
			args := append([]string{"simulate", "--keys", "1000000", "--years", "10", "--progress", "never"}, fleet...)
			cpu, rss := childCost(b, exec.Command(bin, args...))
			simCPU += cpu
			simRSS = max(simRSS, rss)
		}
		b.ReportMetric(libCPU.Seconds(), "lib-cpu-s")
		b.ReportMetric(simCPU.Seconds(), "sim-cpu-s")
		b.ReportMetric(simCPU.Seconds()/libCPU.Seconds(), "cpu-ratio")
		b.ReportMetric(float64(libRSS)/1e6, "lib-max-rss-MB")
		b.ReportMetric(float64(simRSS)/1e6, "sim-max-rss-MB")
	}
}
