//go:build linux

package microvm_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// TestMinimizeCLI runs the real `rgraph minimize --driver microvm` (with
// rgraph-agent beside it, as make build leaves them) on fleet scenarios
// and checks that it classifies their dependencies as the ground truth
// does, as the netns driver's minimizations must (sandbox/minimize/e2e).
// CI minimizes ca (one hard dependency); RGRAPH_MICROVM_FLEET=1 all of
// them.
func TestMinimizeCLI(t *testing.T) {
	newDriver(t)
	f := sandboxtest.Fleet(t)
	truth := sandboxtest.GroundTruth(t)
	bin := t.TempDir()
	for _, b := range []struct{ name, pkg, cgo string }{{"rgraph", "./cmd/rgraph", "1"}, {"rgraph-agent", "./cmd/rgraph-agent", "0"}} {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, b.name), b.pkg)
		build.Dir = sandboxtest.ModuleRoot()
		build.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", b.name, err, out)
		}
	}
	svcs := []string{"ca"}
	if os.Getenv("RGRAPH_MICROVM_FLEET") == "1" {
		svcs = fleetServices
	}
	for _, svc := range svcs {
		t.Run(svc, func(t *testing.T) {
			record := filepath.Join(t.TempDir(), svc+".json")
			cmd := exec.Command(filepath.Join(bin, "rgraph"), "minimize", "--driver", "microvm", "--repeat", "1", "--max-alternatives", "0",
				"--upstream-netns", f.NetNS, "--record", record, sandboxtest.ScenarioPath(svc))
			cmd.Env = append(os.Environ(), "PATH="+f.Bin+":"+os.Getenv("PATH"), "RGRAPH_STORE="+t.TempDir())
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			t0 := time.Now()
			if err := cmd.Run(); err != nil {
				t.Fatalf("rgraph minimize --driver microvm %s: %v\nstdout:\n%s\nstderr:\n%s", svc, err, stdout.String(), stderr.String())
			}
			rec, err := collector.ReadFile(record)
			if err != nil {
				t.Fatal(err)
			}
			var hard, soft, other []string
			for _, c := range rec.Minimization.Candidates {
				name := c.Capability.Service
				switch {
				case name == svc:
				case name != "" && c.Class == collector.Hard:
					hard = append(hard, name)
				case name != "" && c.Class == collector.Soft:
					soft = append(soft, name)
				default:
					other = append(other, c.Capability.String()+" ("+string(c.Class)+")")
				}
			}
			slices.Sort(hard)
			slices.Sort(soft)
			want := truth.Services[svc]
			wantHard, wantSoft := slices.Sorted(slices.Values(want.Hard)), slices.Sorted(slices.Values(want.Soft))
			if !slices.Equal(hard, wantHard) || !slices.Equal(soft, wantSoft) || len(other) > 0 {
				t.Errorf("%s: hard %v soft %v other %v, want hard %v soft %v\n%s", svc, hard, soft, other, wantHard, wantSoft, stdout.String())
			}
			if rec.Driver != "microvm" || !rec.Outcome.Recovered {
				t.Errorf("%s: driver %q, final run recovered %v", svc, rec.Driver, rec.Outcome.Recovered)
			}
			for _, tr := range rec.Minimization.Trials {
				assertClean(t, tr.ID, f.NetNS)
			}
			t.Logf("%s: %d runs in %v, hard %v soft %v", svc, rec.Minimization.Runs, time.Since(t0).Round(100*time.Millisecond), hard, soft)
		})
	}
}
