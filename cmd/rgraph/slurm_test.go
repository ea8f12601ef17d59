package main

import (
	"context"
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
	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/internal/slurmtest"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
	"github.com/rgraph/rgraph/sandbox/shard"
)

// TestSlurmFleet is the Slurm recipe of docs/scale.md, for real: a
// single-node Slurm cluster runs the example fleet's scenarios as a job
// array of three tasks (rgraph cluster job --engine slurm writes the
// script), each task running its shard in sealed sandboxes; the records
// of the three shards are ingested as one release, which must equal the
// fleet's ground truth, with every edge's evidence naming the array task
// that measured it.
func TestSlurmFleet(t *testing.T) {
	const shards = 3
	fleet := sandboxtest.Fleet(t)
	cluster := slurmtest.Start(t, shards)
	// The task runs rgraph as this test binary re-executed (TestMain).
	rgraph, err := exec.LookPath("rgraph")
	if err != nil {
		t.Fatalf("rgraph is not on PATH: %v", err)
	}
	t.Setenv("PATH", fleet.Bin+":"+os.Getenv("PATH")) // sbatch passes the environment on

	dir := t.TempDir()
	out := filepath.Join(dir, "records")
	scenarios, err := filepath.Abs(filepath.Join(sandboxtest.FleetDir(), "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEnv(t, nil)
	if code := e.rgraph("cluster", "job", "--engine", "slurm", "--name", "rgraph-fleet", "--shards", fmt.Sprint(shards),
		"--out", out, "--rgraph", rgraph, "--logs", dir, scenarios, "--", "--check", "--upstream-netns", fleet.NetNS); code != exitOK {
		t.Fatalf("rgraph cluster job = exit %d: %s", code, e.errOut)
	}
	script := filepath.Join(dir, "fleet.sbatch")
	if err := os.WriteFile(script, e.out.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	job := cluster.Submit(script)
	tasks := cluster.Wait(context.Background(), job, 100*time.Second)
	t.Logf("job array %s: %d tasks done in %v", job, len(tasks), time.Since(start).Round(time.Millisecond))
	logs := func() string {
		var b strings.Builder
		files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			fmt.Fprintf(&b, "--- %s\n%s", filepath.Base(f), data)
		}
		return b.String()
	}
	if len(tasks) != shards {
		t.Fatalf("job %s has %d tasks, want %d:\n%s", job, len(tasks), shards, logs())
	}
	for _, task := range tasks {
		if task.State != "COMPLETED" || task.ExitCode != "0:0" {
			t.Errorf("task %s: %s, exit %s; want COMPLETED, 0:0", task.ID, task.State, task.ExitCode)
		}
	}
	if t.Failed() {
		t.Fatalf("task logs:\n%s", logs())
	}

	// One record per scenario, made by the array task that owns it.
	paths, err := sandbox.FindScenarios(scenarios)
	if err != nil {
		t.Fatal(err)
	}
	all := loadScenarios(paths)
	for i := range shards {
		for _, s := range assign(all, shard.Shard{Index: i, Count: shards}) {
			rec, err := collector.ReadFile(filepath.Join(out, collector.FileName(s.Service, s.Scenario, collector.KindRun)))
			if err != nil {
				t.Errorf("shard %d: %v", i, err)
				continue
			}
			want := &collector.Provenance{Job: fmt.Sprintf("slurm:%s_%d", job, i), Shard: fmt.Sprintf("%d/%d", i, shards)}
			if p := rec.Provenance; p == nil || p.Job != want.Job || p.Shard != want.Shard || p.Host == "" {
				t.Errorf("record of %s: provenance %+v, want job %s, shard %s and a host", s.Scenario, p, want.Job, want.Shard)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(files) != len(all) {
		t.Errorf("%s holds %d files, want the %d records", out, len(files), len(all))
	}

	// The three shards' records make one release: the ground truth.
	got := measuredEdges(t, e, "slurm", out)
	checkFleetGraph(t, e, "slurm", got)
	store, err := ingest.Open(e.StoreDir(""))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	g, err := store.Load("slurm")
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string]bool{}
	for u := range int32(g.Len()) {
		lo, hi := g.OutRange(u)
		for edge := lo; edge < hi; edge++ {
			for _, ev := range g.Evidence(edge) {
				if o := ev.Origin; o == nil || !strings.HasPrefix(o.Job, "slurm:"+job+"_") || o.Host == "" || !strings.HasPrefix(o.File, out) {
					v, _ := g.EdgeTarget(edge)
					t.Errorf("edge %s -> %s: evidence %+v lacks its Slurm provenance", g.Name(u), g.Name(v), ev)
				} else {
					jobs[o.Job] = true
				}
			}
		}
	}
	if len(jobs) < 2 {
		t.Errorf("evidence comes from array tasks %v, want several", slices.Sorted(maps.Keys(jobs)))
	}
}
