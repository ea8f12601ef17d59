package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// BenchmarkFleetMinimize times `rgraph minimize --repeat 2 --parallel 2`
// of every scenario of the example fleet, one after the other, as
// TestFleetMinimize runs them: one op is the whole fleet. Reported:
// fleet-s, the wall time of one op in seconds.
func BenchmarkFleetMinimize(b *testing.B) {
	f := sandboxtest.Fleet(b)
	bin := filepath.Join(b.TempDir(), "rgraph")
	build := exec.Command("go", "build", "-o", bin, "./cmd/rgraph")
	build.Dir = sandboxtest.ModuleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building rgraph: %v\n%s", err, out)
	}
	matches, err := filepath.Glob(sandboxtest.ScenarioPath("*"))
	if err != nil || len(matches) == 0 {
		b.Fatalf("no fleet scenarios (%v)", err)
	}
	slices.Sort(matches)
	var total time.Duration
	for b.Loop() {
		t0 := time.Now()
		for _, sc := range matches {
			cmd := exec.Command(bin, "minimize", "--repeat", "2", "--parallel", "2", "--upstream-netns", f.NetNS, sc)
			cmd.Env = append(os.Environ(), "PATH="+f.Bin+":"+os.Getenv("PATH"), "RGRAPH_STORE="+b.TempDir())
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("rgraph minimize %s: %v\n%s", sc, err, out)
			}
		}
		total += time.Since(t0)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "fleet-s")
}
