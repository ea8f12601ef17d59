package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/sign"
	"github.com/rgraph/rgraph/render"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/shard"
)

const fleetDir = "../../testdata/fleet"

// fakeRuns returns a Run that makes up a recovered record for each
// scenario (not recovered for those in fail), counting the calls.
func fakeRuns(calls *atomic.Int32, fail ...string) func(context.Context, *sandbox.Scenario, sandbox.Options) (*collector.Record, error) {
	return func(_ context.Context, sc *sandbox.Scenario, _ sandbox.Options) (*collector.Record, error) {
		n := calls.Add(1)
		rec := fakeRecord(!slices.Contains(fail, sc.Service))
		rec.ID = fmt.Sprintf("run-%s-%d", sc.Service, n)
		rec.Service, rec.Scenario = sc.Service, sc.Name
		rec.Attempts = nil
		return rec, nil
	}
}

// batchRun runs rgraph run --out with a fake sandbox and returns the exit
// code and the summary.
func batchRun(t *testing.T, run func(context.Context, *sandbox.Scenario, sandbox.Options) (*collector.Record, error), vars map[string]string, args ...string) (int, render.BatchDoc) {
	t.Helper()
	e := newTestEnv(t, vars)
	e.Hostname = func() (string, error) { return "node7", nil }
	root := newRootCmd(e.Env)
	for _, c := range root.Commands() {
		if c.Name() == "run" {
			root.RemoveCommand(c)
		}
	}
	var g globalOptions
	cmd := newRunCmd(e.Env, &g, func(ctx context.Context, o *runOptions) error {
		o.Run = run
		return runRun(ctx, o)
	})
	root.AddCommand(cmd)
	root.SetArgs(append([]string{"run", "-o", "json"}, args...))
	err := root.ExecuteContext(context.Background())
	code := exitCode(context.Background(), err)
	var sum render.BatchDoc
	if e.out.Len() > 0 {
		if err := json.Unmarshal(e.out.Bytes(), &sum); err != nil {
			t.Fatalf("summary: %v\n%s", err, e.out)
		}
	}
	return code, sum
}

// TestBatchShards runs the example fleet's scenarios in three shards
// into one directory: every scenario exactly once, one record each with
// its provenance, and a second pass keeps them.
func TestBatchShards(t *testing.T) {
	out := t.TempDir()
	var calls atomic.Int32
	var got []string
	for i := range 3 {
		// testdata/fleet holds a catalog and the ground truth besides the
		// scenarios: they are not scenarios, and are left alone.
		code, sum := batchRun(t, fakeRuns(&calls), nil, "--out", out, "--shard", fmt.Sprintf("%d/3", i), fleetDir)
		if code != exitOK {
			t.Fatalf("shard %d/3 = exit %d: %+v", i, code, sum)
		}
		if sum.Total != 9 {
			t.Errorf("shard %d/3 saw %d scenarios, want 9", i, sum.Total)
		}
		for _, s := range sum.Scenarios {
			got = append(got, s.Record)
			if s.Status != statusRecovered || s.Skipped {
				t.Errorf("shard %d/3: %+v, want recovered and run", i, s)
			}
		}
	}
	slices.Sort(got)
	var want []string
	for _, svc := range []string{"ca", "config", "coord", "discovery", "dns", "logd", "pkgstore", "scheduler", "web"} {
		sc, err := sandbox.LoadScenario(filepath.Join(fleetDir, "scenarios", svc+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, svc+"+"+sc.Name+".run.json")
	}
	slices.Sort(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("records of the three shards (-want +got):\n%s", d)
	}
	if calls.Load() != 9 {
		t.Errorf("%d runs, want 9", calls.Load())
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 9 {
		t.Errorf("%d files in --out, want the 9 records (no temporary files)", len(entries))
	}
	rec, err := collector.ReadFile(filepath.Join(out, want[0]))
	if err != nil {
		t.Fatal(err)
	}
	if p := rec.Provenance; p == nil || p.Host != "node7" || p.Shard == "" || !strings.HasPrefix(p.Tool, "rgraph ") {
		t.Errorf("provenance = %+v, want host node7, a shard and the tool", p)
	}

	// Again: every record is there, nothing runs; --force runs them.
	code, sum := batchRun(t, fakeRuns(&calls), nil, "--out", out, fleetDir+"/scenarios")
	if code != exitOK || sum.Skipped != 9 || calls.Load() != 9 {
		t.Errorf("second pass = exit %d, %d skipped, %d runs; want 0, 9, 9", code, sum.Skipped, calls.Load())
	}
	code, sum = batchRun(t, fakeRuns(&calls), nil, "--out", out, "--force", "--shard", "0/3", fleetDir+"/scenarios/*.yaml")
	if code != exitOK || sum.Skipped != 0 || int(calls.Load()) != 9+len(sum.Scenarios) {
		t.Errorf("--force = exit %d, %d skipped, %d runs", code, sum.Skipped, calls.Load())
	}
}

// TestBatchStableAssignment checks that a scenario's shard depends on the
// scenario, not on where it is listed.
func TestBatchStableAssignment(t *testing.T) {
	paths, err := sandbox.FindScenarios(fleetDir + "/scenarios")
	if err != nil {
		t.Fatal(err)
	}
	shardsOf := func(paths []string) map[string]int {
		out := map[string]int{}
		for i := range 4 {
			for _, s := range assign(loadScenarios(paths), shard.Shard{Index: i, Count: 4}) {
				out[s.key] = i
			}
		}
		return out
	}
	want := shardsOf(paths)
	if len(want) != 9 {
		t.Fatalf("%d scenarios assigned, want 9", len(want))
	}
	shuffled := slices.Clone(paths)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	if d := cmp.Diff(want, shardsOf(shuffled[:6])); !strings.Contains(d, "-") || strings.Contains(d, "+") {
		// a subset: only removals, never a scenario moved elsewhere
		t.Errorf("assignment changed with the listing (-all +subset):\n%s", d)
	}
}

// TestBatchVerdicts checks the summary and exit status when scenarios do
// not recover or do not load.
func TestBatchVerdicts(t *testing.T) {
	dir := t.TempDir()
	catalog, err := filepath.Abs(filepath.Join(fleetDir, "catalog.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"web", "dns", "ca"} {
		b, err := os.ReadFile(filepath.Join(fleetDir, "scenarios", svc+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.ReplaceAll(string(b), "catalog: ../catalog.yaml", "catalog: "+catalog))
		if err := os.WriteFile(filepath.Join(dir, svc+".yaml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var calls atomic.Int32
	code, sum := batchRun(t, fakeRuns(&calls, "dns"), nil, "--out", t.TempDir(), dir)
	if code != exitNotRecovered || sum.Counts[statusNotRecovered] != 1 || sum.Counts[statusRecovered] != 2 {
		t.Errorf("one scenario not recovered: exit %d, counts %v; want %d", code, sum.Counts, exitNotRecovered)
	}

	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("kind: scenario\nschemaVersion: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	owner := -1
	for i := range 2 {
		code, sum := batchRun(t, fakeRuns(&calls), nil, "--out", t.TempDir(), "--shard", fmt.Sprintf("%d/2", i), dir)
		if sum.Counts[statusError] == 1 {
			owner = i
			if code != exitError {
				t.Errorf("shard %d/2 with a broken scenario = exit %d, want %d", i, code, exitError)
			}
			for _, s := range sum.Scenarios {
				if s.Status == statusError && !strings.Contains(s.Error, "broken.yaml") {
					t.Errorf("error %q does not name the file", s.Error)
				}
			}
		}
	}
	if owner < 0 {
		t.Errorf("no shard reported the broken scenario")
	}
}

// TestBatchInterrupt interrupts a batch in its second scenario: the first
// record stays, the second is not written, nothing temporary is left.
func TestBatchInterrupt(t *testing.T) {
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	e := newTestEnv(t, nil)
	opts := &runOptions{Driver: "netns", Output: "text", Env: e.Env, Quiet: true,
		Batch: batchFlags{Scenarios: []string{fleetDir + "/scenarios"}, Out: out},
		Run: func(ctx context.Context, sc *sandbox.Scenario, so sandbox.Options) (*collector.Record, error) {
			if calls.Add(1) == 2 {
				cancel()
				return nil, fmt.Errorf("run interrupted: %w", context.Canceled)
			}
			return fakeRuns(&atomic.Int32{})(ctx, sc, so)
		},
	}
	err := runRun(ctx, opts)
	if code := exitCode(ctx, err); code != exitInterrupted {
		t.Errorf("interrupted batch = exit %d (%v), want %d", code, err, exitInterrupted)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), ".run.json") {
		t.Errorf("after the interrupt --out holds %v, want the first record only", entries)
	}
}

// TestBatchSigned signs the records it writes, and runs a scenario again
// whose record's signature does not verify.
func TestBatchSigned(t *testing.T) {
	key, err := sign.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := sign.MarshalPrivateKey(key)
	keyFile := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(keyFile, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var calls atomic.Int32
	scenarios := fleetDir + "/scenarios/web.yaml"
	if code, _ := batchRun(t, fakeRuns(&calls), nil, "--out", out, "--sign-key", keyFile, scenarios, fleetDir+"/scenarios/dns.yaml"); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	kr := sign.NewKeyring(key.Public().(ed25519.PublicKey))
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(files) != 2 {
		t.Fatalf("records %v, want 2", files)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		sig, _ := os.ReadFile(f + sign.Ext)
		if _, err := kr.Verify(b, sig); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	// Tamper with one: it is made again, the other kept.
	b, _ := os.ReadFile(files[0])
	if err := os.WriteFile(files[0], append(b, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	before := calls.Load()
	code, sum := batchRun(t, fakeRuns(&calls), nil, "--out", out, "--sign-key", keyFile, scenarios, fleetDir+"/scenarios/dns.yaml")
	if code != exitOK || calls.Load() != before+1 || sum.Skipped != 1 {
		t.Errorf("after tampering: exit %d, %d runs, %d kept; want 0, 1, 1", code, calls.Load()-before, sum.Skipped)
	}
}

// TestBatchShardAuto checks --shard auto in a Kubernetes Indexed Job,
// which names the part but not the count: a usage error without
// --shard-count, the environment's part with it.
func TestBatchShardAuto(t *testing.T) {
	var calls atomic.Int32
	k8s := map[string]string{"JOB_COMPLETION_INDEX": "1", "HOSTNAME": "rgraph-fleet-1-x7"}
	if code, _ := batchRun(t, fakeRuns(&calls), k8s, "--out", t.TempDir(), "--shard", "auto", fleetDir+"/scenarios"); code != exitUsage || calls.Load() != 0 {
		t.Errorf("without a count: exit %d after %d runs, want %d and none", code, calls.Load(), exitUsage)
	}
	code, sum := batchRun(t, fakeRuns(&calls), k8s, "--out", t.TempDir(), "--shard", "auto", "--shard-count", "3", fleetDir+"/scenarios")
	if code != exitOK || sum.Shard != "1/3" || int(calls.Load()) != sum.Assigned {
		t.Errorf("with --shard-count 3: exit %d, shard %q, %d runs for %d assigned", code, sum.Shard, calls.Load(), sum.Assigned)
	}
}

// TestMinimizeBatch minimizes a scenario with --out: one minimization
// record, found again on a second pass.
func TestMinimizeBatch(t *testing.T) {
	e := newTestEnv(t, map[string]string{"SLURM_ARRAY_JOB_ID": "42", "SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "1"})
	f := newFakeMinimize(t, webNeeds, "service:pkgstore")
	opts := f.options(e)
	out := t.TempDir()
	opts.Batch = batchFlags{Scenarios: []string{webScenario}, Out: out, Shard: "auto"}
	if err := minimizeRun(context.Background(), opts); err != nil {
		t.Fatalf("minimize --out: %v\n%s", err, e.errOut)
	}
	path := filepath.Join(out, "web+web-cold-start.min.json")
	rec, err := collector.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Kind != collector.KindMinimization || rec.Provenance == nil || rec.Provenance.Job != "slurm:42_0" || rec.Provenance.Shard != "0/1" {
		t.Errorf("record %s: kind %s, provenance %+v; want a minimization made by slurm:42_0, shard 0/1", path, rec.Kind, rec.Provenance)
	}
	calls := f.calls
	if err := minimizeRun(context.Background(), opts); err != nil || f.calls != calls {
		t.Errorf("second pass: %v, %d more trials; want none", err, f.calls-calls)
	}
	if !strings.Contains(e.out.String(), "\tweb\trecovered\ttrue\t") {
		t.Errorf("summary lacks the kept record:\n%s", e.out)
	}
}
