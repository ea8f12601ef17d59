package e2e_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// TestMain takes down the production fleet TestFleetMinimize brings up.
func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// groundTruth is testdata/fleet/ground-truth.yaml.
type groundTruth struct {
	Services map[string]struct {
		Hard []string `yaml:"hard"`
		Soft []string `yaml:"soft"`
	} `yaml:"services"`
}

// TestFleetMinimize runs the real `rgraph minimize` on every scenario of
// the example fleet, in real sandboxes against a production fleet this
// test brings up, and checks that it finds exactly the ground truth's
// hard/soft split, that the minimal allowlist is the hard set, and that
// no trial left a sandbox behind. It needs root and the eBPF recorder.
func TestFleetMinimize(t *testing.T) {
	f := sandboxtest.Fleet(t)
	root := sandboxtest.ModuleRoot()
	b, err := os.ReadFile(filepath.Join(sandboxtest.FleetDir(), "ground-truth.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var truth groundTruth
	if err := yaml.Unmarshal(b, &truth); err != nil {
		t.Fatalf("ground-truth.yaml: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "rgraph")
	build := exec.Command("go", "build", "-o", bin, "./cmd/rgraph")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building rgraph: %v\n%s", err, out)
	}
	var services []string
	for s := range truth.Services {
		services = append(services, s)
	}
	slices.Sort(services)

	start := time.Now()
	runs, ran := 0, 0
	for _, svc := range services {
		want := truth.Services[svc]
		t.Run(svc, func(t *testing.T) {
			record := filepath.Join(t.TempDir(), svc+".json")
			cmd := exec.Command(bin, "minimize", "--repeat", "2", "--parallel", "2",
				"--upstream-netns", f.NetNS, "--record", record, sandboxtest.ScenarioPath(svc))
			cmd.Env = append(os.Environ(), "PATH="+f.Bin+":"+os.Getenv("PATH"), "RGRAPH_STORE="+t.TempDir())
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			t0 := time.Now()
			if err := cmd.Run(); err != nil {
				var ee *exec.ExitError
				errors.As(err, &ee)
				t.Fatalf("rgraph minimize %s: %v\nstdout:\n%s\nstderr:\n%s", svc, err, stdout.String(), stderr.String())
			}
			rec, err := collector.ReadFile(record)
			if err != nil {
				t.Fatalf("reading the minimization record: %v", err)
			}
			m := rec.Minimization
			var hard, soft, other []string
			for _, c := range m.Candidates {
				name := c.Capability.Service
				switch {
				case name == svc:
					continue // itself: not a dependency
				case name == "":
					other = append(other, c.Capability.String()+" ("+string(c.Class)+")")
				case c.Class == collector.Hard:
					hard = append(hard, name)
				case c.Class == collector.Soft:
					soft = append(soft, name)
				default:
					other = append(other, c.Capability.String()+" ("+string(c.Class)+")")
				}
			}
			slices.Sort(hard)
			slices.Sort(soft)
			wantHard, wantSoft := slices.Sorted(slices.Values(want.Hard)), slices.Sorted(slices.Values(want.Soft))
			if !slices.Equal(hard, wantHard) || !slices.Equal(soft, wantSoft) || len(other) > 0 {
				t.Errorf("%s: hard %v soft %v other %v, want hard %v soft %v\n%s", svc, hard, soft, other, wantHard, wantSoft, stdout.String())
			}
			var minimal []string
			for _, c := range m.Minimal {
				if c.Service != svc {
					minimal = append(minimal, c.Service)
				}
			}
			if !slices.Equal(minimal, wantHard) {
				t.Errorf("%s: minimal allowlist %v, want %v", svc, m.Minimal, wantHard)
			}
			if m.Interrupted || !rec.Outcome.Recovered {
				t.Errorf("%s: interrupted %v, final run recovered %v", svc, m.Interrupted, rec.Outcome.Recovered)
			}
			for _, tr := range m.Trials {
				sandboxtest.AssertClean(t, f.NetNS, tr.ID)
			}
			runs += m.Runs
			ran++
			t.Logf("%s: %d runs in %v, hard %v soft %v; %s", svc, m.Runs, time.Since(t0).Round(100*time.Millisecond), hard, soft, m.Confidence)
		})
	}
	t.Logf("fleet: %d services, %d runs in %v", ran, runs, time.Since(start).Round(100*time.Millisecond))
}
