package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/minimize"
	"github.com/rgraph/rgraph/sandbox/minimize/minimizetest"
)

const webScenario = "../../testdata/fleet/scenarios/web.yaml"

func TestMinimizeFlags(t *testing.T) {
	tests := []flagCase[minimizeOptions]{
		{"defaults", []string{"minimize", "s.yaml"}, &minimizeOptions{Scenario: "s.yaml", Batch: batchFlags{Scenarios: []string{"s.yaml"}}, Repeat: 3, Parallel: 1, MaxAlternatives: 4, Driver: "netns", Accel: "auto", Output: "text"}},
		{"all flags", []string{"minimize", "--repeat", "5", "--parallel", "4", "--max-alternatives", "0", "--fault", "blackhole", "--timeout", "9s",
			"--driver", "netns", "--upstream-netns", "prod", "--release", "r1", "--record", "m.json", "-o", "json", "-v", "s.yaml"},
			&minimizeOptions{Scenario: "s.yaml", Batch: batchFlags{Scenarios: []string{"s.yaml"}}, Repeat: 5, Parallel: 4, Fault: "blackhole", Timeout: 9 * time.Second, Driver: "netns", Accel: "auto",
				UpstreamNetNS: "prod", Release: "r1", Record: "m.json", Output: "json", Verbose: true}},
		{"no scenario", []string{"minimize"}, nil},
		{"two scenarios without --out", []string{"minimize", "a.yaml", "b.yaml"}, nil},
		{"batch", []string{"minimize", "--out", "recs", "--shard", "auto", "--shard-count", "4", "--force", "--job", "j", "--sign-key", "k.pem", "a.yaml", "dir"},
			&minimizeOptions{Scenario: "a.yaml", Repeat: 3, Parallel: 1, MaxAlternatives: 4, Driver: "netns", Accel: "auto", Output: "text",
				Batch: batchFlags{Scenarios: []string{"a.yaml", "dir"}, Out: "recs", Shard: "auto", ShardCount: 4, Force: true, Job: "j", SignKey: "k.pem"}}},
		{"record with --out", []string{"minimize", "--out", "recs", "--record", "m.json", "s.yaml"}, nil},
		{"shard without --out", []string{"minimize", "--shard", "0/2", "s.yaml"}, nil},
		{"repeat 0", []string{"minimize", "--repeat", "0", "s.yaml"}, nil},
		{"parallel 0", []string{"minimize", "--parallel", "0", "s.yaml"}, nil},
		{"bad fault", []string{"minimize", "--fault", "drop", "s.yaml"}, nil},
		{"bad output", []string{"minimize", "-o", "dot", "s.yaml"}, nil},
		{"negative timeout", []string{"minimize", "--timeout", "-1s", "s.yaml"}, nil},
	}
	testFlags(t, tests, newMinimizeCmd, func(o *minimizeOptions) { o.Env, o.Run, o.GC = nil, nil, nil })
}

// fakeMinimize simulates the web scenario of the example fleet: it needs
// config, discovery and dns, attempts pkgstore too, and resolves through
// the first of dns and a second resolver listed only when the first is
// denied (needs, when given, replaces that).
type fakeMinimize struct {
	mu      sync.Mutex
	oracle  *minimizetest.Oracle
	calls   int
	opts    []sandbox.Options
	gcCalls int
	// cancel, when set, is called at the given trial.
	cancel   func()
	cancelAt int
	err      error
}

func newFakeMinimize(t *testing.T, needs [][]string, soft ...string) *fakeMinimize {
	sc, err := sandbox.LoadScenario(webScenario)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeMinimize{oracle: &minimizetest.Oracle{Needs: needs, Soft: soft, Catalog: sc.Catalog}}
}

func (f *fakeMinimize) run(ctx context.Context, sc *sandbox.Scenario, so sandbox.Options) (*collector.Record, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.opts = append(f.opts, so)
	if f.cancel != nil && n == f.cancelAt {
		f.cancel()
	}
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	out, err := f.oracle.Try(ctx, minimize.Trial{ID: fmt.Sprintf("run%04d", n), Allow: *so.Allow})
	if err != nil {
		return nil, err
	}
	out.Record.Scenario, out.Record.Service = sc.Name, sc.Service
	return out.Record, nil
}

func (f *fakeMinimize) gc(context.Context, sandbox.GCOptions) ([]sandbox.Leftover, error) {
	f.gcCalls++
	return nil, nil
}

func (f *fakeMinimize) options(e *testEnv) *minimizeOptions {
	return &minimizeOptions{Scenario: webScenario, Repeat: 2, Parallel: 1, MaxAlternatives: 4, Output: "text", Env: e.Env, Run: f.run, GC: f.gc}
}

var webNeeds = [][]string{{"service:config"}, {"service:discovery"}, {"service:dns"}}

func TestMinimizeText(t *testing.T) {
	e := newTestEnv(t, nil)
	f := newFakeMinimize(t, webNeeds, "service:pkgstore")
	opts := f.options(e)
	opts.Record = filepath.Join(t.TempDir(), "min.json")
	if err := minimizeRun(context.Background(), opts); err != nil {
		t.Fatalf("minimize: %v\n%s", err, e.errOut)
	}
	out := e.out.String()
	for _, want := range []string{
		"# rgraph minimize: scenario web-cold-start (service web)\n",
		"\nallow:\n  - service:config\n  - service:discovery\n  - service:dns\nsoft:\n  - service:pkgstore\n",
		"# confidence: ",
		"#   hard\t-\tservice:config\tobserved\t",
		"#   soft\t-\tservice:pkgstore\tobserved\t",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if e.errOut.Len() != 0 {
		t.Errorf("progress on a non-terminal without -v: %q", e.errOut)
	}
	rec, err := collector.ReadFile(opts.Record)
	if err != nil {
		t.Fatalf("--record: %v", err)
	}
	if rec.Kind != collector.KindMinimization || rec.Service != "web" || rec.Minimization.Runs != f.calls {
		t.Errorf("record kind %q service %q runs %d (trials run %d)", rec.Kind, rec.Service, rec.Minimization.Runs, f.calls)
	}
	if f.gcCalls != 1 {
		t.Errorf("GC ran %d times, want once", f.gcCalls)
	}
}

func TestMinimizeAlternativesText(t *testing.T) {
	e := newTestEnv(t, nil)
	// Either resolver will do: dns, or discovery's own port 53.
	f := newFakeMinimize(t, [][]string{{"service:config"}, {"service:dns", "service:discovery"}}, "service:pkgstore")
	if err := minimizeRun(context.Background(), f.options(e)); err != nil {
		t.Fatal(err)
	}
	out := e.out.String()
	for _, want := range []string{
		"allow:\n  - service:config\n  - service:dns  # or service:discovery (alternatives, group 1)\n",
		"  - service:discovery  # alternative to service:dns (group 1)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestMinimizeJSONAndOptions(t *testing.T) {
	e := newTestEnv(t, nil)
	f := newFakeMinimize(t, webNeeds, "service:pkgstore")
	opts := f.options(e)
	opts.Output, opts.Fault, opts.Timeout, opts.UpstreamNetNS, opts.Release = "json", "blackhole", 4*time.Second, "prod", "r7"
	if err := minimizeRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	rec, err := collector.Decode(e.out.Bytes(), "stdout")
	if err != nil {
		t.Fatalf("-o json printed no record: %v\n%s", err, e.out)
	}
	if got := rec.Minimization.Minimal.String(); got != "service:config, service:discovery, service:dns" {
		t.Errorf("minimal %s", got)
	}
	for i, so := range f.opts {
		if so.Fault != collector.FaultBlackhole || so.Timeout != 4*time.Second || so.UpstreamNetNS != "prod" || so.Release != "r7" ||
			!so.NoGC || so.Driver == nil || so.Allow == nil {
			t.Fatalf("trial %d options %+v", i, so)
		}
	}
	if first := f.opts[0].Allow; len(*first) != 1 || !(*first)[0].All {
		t.Errorf("first trial allowed %v, want all", first)
	}
}

func TestMinimizeExitCodes(t *testing.T) {
	tests := []struct {
		name  string
		needs [][]string
		err   error
		want  int
	}{
		{"never recovers", [][]string{{"service:ca"}}, nil, exitNotRecovered},
		{"no privilege", webNeeds, fmt.Errorf("starting netns sandbox: %w", sandbox.ErrPermission), exitPrivilege},
		{"unsupported", webNeeds, fmt.Errorf("x: %w", sandbox.ErrUnsupported), exitPrivilege},
		{"failure", webNeeds, errors.New("boom"), exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			f := newFakeMinimize(t, tt.needs, "service:pkgstore")
			if tt.name == "never recovers" {
				f.oracle.Needs = [][]string{{"10.1.1.1:1/tcp"}} // never allowed, never attempted: fails even with all
				f.oracle.FalseFailure = 1
			}
			f.err = tt.err
			err := minimizeRun(context.Background(), f.options(e))
			if got := exitCode(context.Background(), err); got != tt.want {
				t.Errorf("exit %d (%v), want %d", got, err, tt.want)
			}
		})
	}
}

func TestMinimizeInterrupted(t *testing.T) {
	e := newTestEnv(t, nil)
	f := newFakeMinimize(t, webNeeds, "service:pkgstore")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.cancel, f.cancelAt = cancel, 8
	opts := f.options(e)
	opts.Record = filepath.Join(t.TempDir(), "min.json")
	err := minimizeRun(ctx, opts)
	if got := exitCode(ctx, err); got != exitInterrupted {
		t.Fatalf("exit %d (%v), want %d", got, err, exitInterrupted)
	}
	out := e.out.String()
	if !strings.Contains(out, "# INTERRUPTED") || !strings.Contains(out, "allow:\n") {
		t.Errorf("no best-so-far allowlist after Ctrl-C:\n%s", out)
	}
	rec, err := collector.ReadFile(opts.Record)
	if err != nil || !rec.Minimization.Interrupted {
		t.Errorf("record after Ctrl-C: %v, %+v", err, rec)
	}
}

func TestMinimizeProgress(t *testing.T) {
	e := newTestEnv(t, nil)
	f := newFakeMinimize(t, webNeeds, "service:pkgstore")
	opts := f.options(e)
	opts.Verbose = true
	if err := minimizeRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(e.errOut.String()), "\n")
	for _, want := range []string{"observe pass, trial 0 of ~1", "search pass", "confirm pass"} {
		if !strings.Contains(e.errOut.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, e.errOut)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, fmt.Sprintf("trial %d of ~%d (0 running), smallest passing set 3 of 4", f.calls, f.calls)) {
		t.Errorf("last progress line %q (%d trials)", last, f.calls)
	}
	e2 := newTestEnv(t, nil)
	opts = f.options(e2)
	opts.Verbose, opts.Quiet = true, true
	if err := minimizeRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if e2.errOut.Len() != 0 {
		t.Errorf("--quiet printed progress: %q", e2.errOut)
	}
}
