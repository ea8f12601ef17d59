package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// measuredEdges ingests records as a release and returns its edges as
// sorted edge-list lines, declared counted as hard: a recovered run under
// the committed allowlist proves what recovery was allowed and needed.
func measuredEdges(t *testing.T, e *testEnv, release string, records ...string) []string {
	t.Helper()
	args := append([]string{"ingest", "--release", release, "--catalog",
		filepath.Join(sandboxtest.FleetDir(), "catalog.yaml")}, records...)
	if code := e.rgraph(args...); code != exitOK {
		t.Fatalf("rgraph %v = exit %d: %s", args, code, e.errOut)
	}
	if code := e.rgraph("export", "--release", release); code != exitOK {
		t.Fatalf("rgraph export = exit %d: %s", code, e.errOut)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(e.out.String()), "\n") {
		got = append(got, strings.Replace(l, "\tdeclared", "\thard", 1))
	}
	slices.Sort(got)
	return slices.Compact(got)
}

// checkFleetGraph compares a release measured from the example fleet with
// its ground truth: every edge and kind, the bootstrap cycles, and that
// the cycle is one jumpstart group.
func checkFleetGraph(t *testing.T, e *testEnv, release string, got []string) {
	t.Helper()
	gt := sandboxtest.GroundTruth(t)
	if d := cmp.Diff(gt.Edges(), got); d != "" {
		t.Errorf("measured graph differs from ground-truth.yaml (-want +got):\n%s", d)
	}
	if code := e.rgraph("cycles", "--release", release, "-o", "json"); code != exitOK {
		t.Fatalf("rgraph cycles = exit %d: %s", code, e.errOut)
	}
	var cycles struct {
		Components []struct{ Members []string } `json:"components"`
	}
	if err := json.Unmarshal(e.out.Bytes(), &cycles); err != nil {
		t.Fatal(err)
	}
	var members [][]string
	for _, c := range cycles.Components {
		members = append(members, c.Members)
	}
	var want [][]string
	for _, c := range gt.Cycles {
		want = append(want, slices.Sorted(slices.Values(c)))
	}
	if d := cmp.Diff(want, members); d != "" {
		t.Errorf("cycles differ from ground-truth.yaml (-want +got):\n%s", d)
	}
}

// TestFleetReplay ingests the fleet's recorded runs (what make demo replays
// where it cannot run sandboxes) and checks the graph against the ground
// truth; it needs no privileges.
func TestFleetReplay(t *testing.T) {
	e := newTestEnv(t, nil)
	got := measuredEdges(t, e, "replay", filepath.Join(sandboxtest.FleetDir(), "records"))
	checkFleetGraph(t, e, "replay", got)

	// The incident commander's plan carries each service's runbook steps.
	if code := e.rgraph("order", "--release", "replay"); code != exitOK {
		t.Fatalf("rgraph order = exit %d: %s", code, e.errOut)
	}
	if want := "step\t2\tweb\t2\tfleet serve web --state state &\t"; !strings.Contains(e.out.String(), want) {
		t.Errorf("rgraph order lacks web's runbook step %q:\n%s", want, e.out)
	}
}

// TestFleetEndToEnd is make demo as a test: the production fleet comes up
// in a namespace of its own, every scenario runs for real in a sealed
// sandbox (eBPF and all), the records are ingested, and the graph must
// equal the ground truth exactly.
func TestFleetEndToEnd(t *testing.T) {
	fleet := sandboxtest.Fleet(t)
	t.Setenv("PATH", fleet.Bin+":"+os.Getenv("PATH"))
	e := newTestEnv(t, nil)
	dir := t.TempDir()
	scenarios, err := filepath.Glob(filepath.Join(sandboxtest.FleetDir(), "scenarios", "*.yaml"))
	if err != nil || len(scenarios) != 9 {
		t.Fatalf("fleet scenarios: %v, %v", scenarios, err)
	}
	for _, sc := range scenarios {
		name := strings.TrimSuffix(filepath.Base(sc), ".yaml")
		rec := filepath.Join(dir, name+".json")
		if code := e.rgraph("run", "--check", "--upstream-netns", fleet.NetNS, "--record", rec, sc); code != exitOK {
			t.Fatalf("rgraph run %s = exit %d\nstdout:\n%s\nstderr:\n%s", name, code, e.out, e.errOut)
		}
	}
	got := measuredEdges(t, e, "e2e", dir)
	checkFleetGraph(t, e, "e2e", got)
}
