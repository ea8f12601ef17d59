package e2e_test

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/internal/privtest"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// realTools are the programs of testdata/real: Debian's dnsmasq-base,
// redis-server (and redis-tools), nginx, curl, dnsutils, iproute2 and
// postgresql (whose server programs are not on PATH: see pgServer).
var realTools = []string{"dnsmasq", "redis-server", "redis-cli", "nginx", "curl", "dig", "ip", "pg_basebackup", "psql"}

// pgServer matches the PostgreSQL server of Debian's postgresql package.
const pgServer = "/usr/lib/postgresql/*/bin/postgres"

// TestRealSoftware runs rgraph on real third-party daemons from Debian
// packages (testdata/real): it brings their production side up in a
// network namespace of its own (prod.sh), minimizes the scenario of every
// service in real sandboxes, and checks the hard/soft split against
// ground-truth.yaml, that `rgraph run --check` passes on each committed
// allowlist, and that the release ingested from the minimization records
// has exactly the ground truth's edges: no phantom dependency from glibc's
// nscd probe or from names the search domains make up. The table it logs
// (program, truth, found) is the closing note of issue 11.
func TestRealSoftware(t *testing.T) {
	sandboxtest.RequireSandbox(t)
	for _, tool := range realTools {
		if _, err := exec.LookPath(tool); err != nil {
			privtest.Skip(t, "needs %s (apt-get install dnsmasq-base redis-server nginx-light curl dnsutils iproute2 postgresql)", tool)
		}
	}
	if m, _ := filepath.Glob(pgServer); len(m) == 0 {
		privtest.Skip(t, "needs %s (apt-get install postgresql)", pgServer)
	}
	dir := filepath.Join(sandboxtest.ModuleRoot(), "testdata", "real")
	b, err := os.ReadFile(filepath.Join(dir, "ground-truth.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	truth, err := sandboxtest.ParseTruth(b)
	if err != nil {
		t.Fatalf("ground-truth.yaml: %v", err)
	}

	netns := fmt.Sprintf("rgtest-real-%d", os.Getpid())
	state := t.TempDir()
	prod := func(verb string) (string, error) {
		out, err := exec.Command(filepath.Join(dir, "prod.sh"), verb, netns, state).CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() {
		if out, err := prod("down"); err != nil {
			t.Errorf("prod.sh down: %v\n%s", err, out)
		}
	})
	if out, err := prod("up"); err != nil {
		t.Fatalf("prod.sh up: %v\n%s", err, out)
	}

	bin := buildRgraph(t)
	records := t.TempDir()
	env := append(os.Environ(), "RGRAPH_STORE="+t.TempDir())
	rgraph := func(args ...string) (string, string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}

	services := slices.Sorted(maps.Keys(truth.Services))
	var table []string
	start := time.Now()
	for _, svc := range services {
		want := truth.Services[svc]
		scenario := filepath.Join(dir, "scenarios", svc+".yaml")
		t.Run(svc, func(t *testing.T) {
			record := filepath.Join(records, svc+".json")
			t0 := time.Now()
			stdout, stderr, err := rgraph("minimize", "--repeat", "2", "--parallel", "2", "--upstream-netns", netns, "--record", record, scenario)
			if err != nil {
				t.Fatalf("rgraph minimize %s: %v\nstdout:\n%s\nstderr:\n%s", svc, err, stdout, stderr)
			}
			rec, err := collector.ReadFile(record)
			if err != nil {
				t.Fatalf("reading the minimization record: %v", err)
			}
			m := rec.Minimization
			var hard, soft, other []string
			for _, c := range m.Candidates {
				switch name := c.Capability.Service; {
				case name == svc:
				case name != "" && c.Class == collector.Hard:
					hard = append(hard, name)
				case name != "" && c.Class == collector.Soft:
					soft = append(soft, name)
				default: // an endpoint or an alternative: a phantom here
					other = append(other, c.Capability.String()+" ("+string(c.Class)+")")
				}
			}
			slices.Sort(hard)
			slices.Sort(soft)
			wantHard, wantSoft := slices.Sorted(slices.Values(want.Hard)), slices.Sorted(slices.Values(want.Soft))
			if !slices.Equal(hard, wantHard) || !slices.Equal(soft, wantSoft) || len(other) > 0 {
				t.Errorf("%s: hard %v soft %v other %v, want hard %v soft %v\n%s", svc, hard, soft, other, wantHard, wantSoft, stdout)
			}
			var minimal []string
			for _, c := range m.Minimal {
				minimal = append(minimal, c.Service)
			}
			if !slices.Equal(minimal, wantHard) {
				t.Errorf("%s: minimal allowlist %v, want %v", svc, m.Minimal, wantHard)
			}
			for _, tr := range m.Trials {
				sandboxtest.AssertClean(t, netns, tr.ID)
			}
			table = append(table, fmt.Sprintf("%-9s %-26s %-30s %-30s %3d %8v", svc, program(t, scenario),
				deps(wantHard, wantSoft), deps(hard, soft)+strings.Join(other, " "), m.Runs, time.Since(t0).Round(100*time.Millisecond)))

			// The committed allowlist passes the creep gate: glibc's nscd
			// probe and the search domains' names are no new attempts.
			stdout, stderr, err = rgraph("run", "--check", "--upstream-netns", netns, scenario)
			if err != nil {
				t.Errorf("rgraph run --check %s: %v\nstdout:\n%s\nstderr:\n%s", svc, err, stdout, stderr)
			}
		})
	}

	// The release built from the records has exactly the ground truth's
	// edges.
	if _, stderr, err := rgraph("ingest", "--release", "real", "--catalog", filepath.Join(dir, "catalog.yaml"), records); err != nil {
		t.Fatalf("rgraph ingest: %v\n%s", err, stderr)
	}
	stdout, stderr, err := rgraph("export", "--release", "real")
	if err != nil {
		t.Fatalf("rgraph export: %v\n%s", err, stderr)
	}
	got := strings.Split(strings.TrimSpace(stdout), "\n")
	if want := truth.Edges(); !slices.Equal(got, want) {
		t.Errorf("edges of the release:\n%s\nwant (ground-truth.yaml):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	t.Logf("real software, minimized in %v (repeat 2, parallel 2):\n%-9s %-26s %-30s %-30s %3s %8s\n%s",
		time.Since(start).Round(100*time.Millisecond), "SERVICE", "PROGRAM", "TRUTH", "FOUND", "RUNS", "TIME", strings.Join(table, "\n"))
}

// program names the programs a scenario's runbook starts, as the table
// shows them.
func program(t *testing.T, scenario string) string {
	t.Helper()
	sc, err := sandbox.LoadScenario(scenario)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, st := range sc.Runbook {
		for _, f := range strings.Fields(st.Run) {
			if (slices.Contains(realTools, f) || f == "pg_ctl") && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return strings.Join(out, "+")
}

// deps writes a hard/soft split as "hard: a, b; soft: c".
func deps(hard, soft []string) string {
	s := "hard: " + strings.Join(hard, ",")
	if len(soft) > 0 {
		s += "; soft: " + strings.Join(soft, ",")
	}
	return s
}

// buildRgraph builds the rgraph binary for this test.
func buildRgraph(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rgraph")
	build := exec.Command("go", "build", "-o", bin, "./cmd/rgraph")
	build.Dir = sandboxtest.ModuleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building rgraph: %v\n%s", err, out)
	}
	return bin
}
