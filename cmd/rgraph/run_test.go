package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/sandbox"
)

const fleetScenario = "../../testdata/fleet/scenarios/pkgstore.yaml"

func TestRunFlags(t *testing.T) {
	tests := []flagCase[runOptions]{
		{"defaults", []string{"run", "s.yaml"}, &runOptions{Scenario: "s.yaml", Batch: batchFlags{Scenarios: []string{"s.yaml"}}, Driver: "netns", Accel: "auto", Output: "text"}},
		{"all flags", []string{"run", "--record", "r.json", "--fault", "blackhole", "--timeout", "30s", "--keep", "--driver", "netns",
			"--upstream-netns", "prod", "--allow", "service:coord", "--allow", "10.0.0.0/8:443/tcp", "--check", "--ingest", "--release", "r1", "-o", "json", "-v", "s.yaml"},
			&runOptions{Scenario: "s.yaml", Batch: batchFlags{Scenarios: []string{"s.yaml"}}, Record: "r.json", Fault: "blackhole", Timeout: 30 * time.Second, Keep: true, Driver: "netns", Accel: "auto",
				UpstreamNetNS: "prod", Allow: []string{"service:coord", "10.0.0.0/8:443/tcp"}, Check: true, Ingest: true, Release: "r1", Output: "json", Verbose: true}},
		{"no scenario", []string{"run"}, nil},
		{"two scenarios", []string{"run", "a.yaml", "b.yaml"}, nil},
		{"bad fault", []string{"run", "--fault", "drop", "s.yaml"}, nil},
		{"bad driver", []string{"run", "--driver", "kvm", "s.yaml"}, nil},
		{"microvm", []string{"run", "--driver", "microvm", "--accel", "tcg", "s.yaml"},
			&runOptions{Scenario: "s.yaml", Batch: batchFlags{Scenarios: []string{"s.yaml"}}, Driver: "microvm", Accel: "tcg", Output: "text"}},
		{"bad accel", []string{"run", "--driver", "microvm", "--accel", "hvf", "s.yaml"}, nil},
		{"bad allow", []string{"run", "--allow", "10.0.0.1:99999", "s.yaml"}, nil},
		{"allow none", []string{"run", "--allow", "none", "s.yaml"}, &runOptions{Scenario: "s.yaml", Batch: batchFlags{Scenarios: []string{"s.yaml"}}, Driver: "netns", Accel: "auto", Output: "text", Allow: []string{"none"}}},
		{"allow none and more", []string{"run", "--allow", "none", "--allow", "service:coord", "s.yaml"}, nil},
		{"ingest without release", []string{"run", "--ingest", "s.yaml"}, nil},
		{"bad release", []string{"run", "--release", "a b", "s.yaml"}, nil},
		{"bad output", []string{"run", "-o", "dot", "s.yaml"}, nil},
		{"batch", []string{"run", "--check", "--out", "recs", "--shard", "1/3", "a.yaml", "b.yaml"},
			&runOptions{Scenario: "a.yaml", Driver: "netns", Accel: "auto", Output: "text", Check: true,
				Batch: batchFlags{Scenarios: []string{"a.yaml", "b.yaml"}, Out: "recs", Shard: "1/3"}}},
		{"two scenarios without --out", []string{"run", "a.yaml", "b.yaml"}, nil},
		{"bad shard", []string{"run", "--out", "recs", "--shard", "3/3", "a.yaml"}, nil},
		{"shard not a fraction", []string{"run", "--out", "recs", "--shard", "x", "a.yaml"}, nil},
		{"keep with --out", []string{"run", "--out", "recs", "--keep", "a.yaml"}, nil},
		{"ingest with --out", []string{"run", "--out", "recs", "--ingest", "--release", "r", "a.yaml"}, nil},
	}
	testFlags(t, tests, newRunCmd, func(o *runOptions) { o.Env, o.OpenStore, o.Run = nil, nil, nil })
}

// fakeRecord is what a run of the pkgstore scenario returns: config
// reached, and whatever extra attempts are given.
func fakeRecord(recovered bool, extra ...collector.Attempt) *collector.Record {
	when := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	rec := &collector.Record{
		SchemaVersion: collector.SchemaVersion, Kind: collector.KindRun, ID: "0badcafe",
		Scenario: "pkgstore-cold-start", Service: "pkgstore", Driver: "netns", FaultMode: collector.FaultReject,
		Allowlist: collector.Allowlist{{Service: "config"}},
		Outcome: collector.Outcome{
			Recovered: recovered, StartedAt: when, Duration: collector.Duration(420 * time.Millisecond),
			Steps:      []collector.StepResult{{Name: "start pkgstore", Command: "fleet serve pkgstore --state state &", Duration: collector.Duration(2 * time.Millisecond)}},
			Validation: collector.StepResult{Name: "validation", Command: "fleet check pkgstore", Tries: 2, Duration: collector.Duration(110 * time.Millisecond), Output: "pkgstore: healthy"},
		},
		Attempts: append([]collector.Attempt{{
			Process: collector.Process{PID: 9, Comm: "fleet"}, Protocol: collector.TCP, Address: netip.MustParseAddr("10.99.0.20"), Port: 8080,
			Verdict: collector.Allowed, Count: 1, FirstSeen: when,
		}}, extra...),
		Collection: collector.Collection{Complete: true},
	}
	if !recovered {
		rec.Outcome.Validation.ExitCode = 1
		rec.Outcome.Validation.Output = "GET http://127.0.0.1:8080/healthz: 503: pkgstore: unhealthy: config: connect: operation not permitted"
		rec.Outcome.Error = "the validation did not pass in 31 tries"
	}
	return rec
}

// nscd is glibc's probe of a socket that does not exist upstream.
var nscd = collector.Attempt{
	Process: collector.Process{PID: 9, Comm: "curl"}, Protocol: collector.Unix, Path: "/var/run/nscd/socket",
	Verdict: collector.Denied, Failure: "eperm", Upstream: collector.UpstreamAbsent, Count: 2,
}

// configByDeniedResolver is a question for config's name, which the
// scenario allows, refused because the resolver (dns) is not allowed.
var configByDeniedResolver = collector.Attempt{
	Process: collector.Process{PID: 9, Comm: "fleet"}, Protocol: collector.DNS, DNSName: "config.fleet.internal", DNSType: "A",
	Address: netip.MustParseAddr("10.99.0.53"), Port: 53, Verdict: collector.Denied, Failure: "refused", Count: 1,
}

// notFoundRecord is a run whose step could not start its server: the
// shell did not find the command, which the step backgrounded.
func notFoundRecord() *collector.Record {
	rec := fakeRecord(false)
	rec.Outcome.Steps[0].Output = "/bin/sh: 1: fleet: not found\n"
	return rec
}

// incomplete marks rec as a recording that may have missed attempts.
func incomplete(rec *collector.Record) *collector.Record {
	rec.Collection = collector.Collection{NotRecorded: []string{"1 socket calls were refused during this run but could not be attributed to any run"}}
	return rec
}

var toCoord = collector.Attempt{
	Process: collector.Process{PID: 9, Comm: "fleet"}, Protocol: collector.TCP, Address: netip.MustParseAddr("10.99.0.12"), Port: 2379,
	Verdict: collector.Denied, Failure: "eperm", Count: 1,
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		check    bool
		rec      *collector.Record
		err      error
		want     int
		contains []string
	}{
		{"recovered", false, fakeRecord(true), nil, exitOK, []string{"verdict\trecovered\t420ms\t\n", "attempt\tallowed\t10.99.0.20:8080/tcp\tconfig\t"}},
		{"not recovered", false, fakeRecord(false), nil, exitNotRecovered, []string{"verdict\tnot-recovered\t420ms\tthe validation did not pass in 31 tries\n",
			"cause\tvalidation\texit 1\t\n", "output\tvalidation\tGET http://127.0.0.1:8080/healthz: 503: pkgstore: unhealthy: config: connect: operation not permitted\n"}},
		{"step not found", false, notFoundRecord(), nil, exitNotRecovered, []string{
			"cause\tstart pkgstore\tok\ta backgrounded command was not found: \"fleet\" (the step itself exited 0); check the command's name and PATH inside the sandbox\n",
			"output\tstart pkgstore\t/bin/sh: 1: fleet: not found\n"}},
		{"creep without check", false, fakeRecord(true, toCoord), nil, exitOK, []string{"verdict\trecovered"}},
		{"creep with check", true, fakeRecord(true, toCoord), nil, exitCreep, []string{"check\t1\n", "creep\t10.99.0.12:2379/tcp\tfleet\tcoord\n"}},
		{"check clean", true, fakeRecord(true), nil, exitOK, []string{"check\t0\n"}},
		{"absent upstream is no creep", true, fakeRecord(true, nscd), nil, exitOK, []string{
			"attempt\tdenied\tunix:/var/run/nscd/socket\t\tcurl\t2\teperm, absent upstream\n", "check\t0\n"}},
		{"denied question blames the resolver", false, fakeRecord(true, configByDeniedResolver), nil, exitOK, []string{
			"attempt\tdenied\tdns:config.fleet.internal A\tdns (resolver)\tfleet\t"}},
		{"not recovered wins over creep", true, fakeRecord(false, toCoord), nil, exitNotRecovered, []string{"creep\t10.99.0.12:2379/tcp"}},
		{"incomplete without check", false, incomplete(fakeRecord(true)), nil, exitOK, []string{"incomplete\t0\t1 socket calls were refused"}},
		{"incomplete with check", true, incomplete(fakeRecord(true)), nil, exitCreep, []string{"incomplete\t0\t1 socket calls were refused", "check\t0\n"}},
		{"no privilege", false, nil, fmt.Errorf("starting netns sandbox: %w", sandbox.ErrPermission), exitPrivilege, nil},
		{"unsupported kernel", false, nil, fmt.Errorf("x: %w", sandbox.ErrUnsupported), exitPrivilege, nil},
		{"failure", false, nil, errors.New("boom"), exitError, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			record := filepath.Join(t.TempDir(), "run.json")
			var gotOpts sandbox.Options
			opts := &runOptions{
				Scenario: fleetScenario, Check: tt.check, Record: record, Output: "text", Env: e.Env,
				Run: func(_ context.Context, _ *sandbox.Scenario, o sandbox.Options) (*collector.Record, error) {
					gotOpts = o
					return tt.rec, tt.err
				},
			}
			err := runRun(context.Background(), opts)
			if got := exitCode(context.Background(), err); got != tt.want {
				t.Fatalf("exit %d (%v), want %d\n%s", got, err, tt.want, e.out)
			}
			for _, s := range tt.contains {
				if !strings.Contains(e.out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, e.out)
				}
			}
			if gotOpts.Driver == nil || gotOpts.Driver.Name() != "netns" {
				t.Errorf("driver = %v, want netns", gotOpts.Driver)
			}
			if tt.rec != nil {
				if _, err := collector.ReadFile(record); err != nil {
					t.Errorf("--record wrote an unreadable record: %v", err)
				}
			}
		})
	}
}

func TestRunOptionsReachTheSandbox(t *testing.T) {
	e := newTestEnv(t, nil)
	var got sandbox.Options
	opts := &runOptions{
		Scenario: fleetScenario, Fault: "blackhole", Timeout: 7 * time.Second, Keep: true, UpstreamNetNS: "prod",
		Allow: []string{"service:coord", "unix:/run/x.sock"}, Release: "r1", Output: "json", Env: e.Env,
		Run: func(_ context.Context, _ *sandbox.Scenario, o sandbox.Options) (*collector.Record, error) {
			got = o
			return fakeRecord(true), nil
		},
	}
	if err := runRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got.Fault != collector.FaultBlackhole || got.Timeout != 7*time.Second || !got.Keep || got.UpstreamNetNS != "prod" || got.Release != "r1" {
		t.Errorf("options = %+v", got)
	}
	if got.Allow == nil || got.Allow.String() != "service:coord, unix:/run/x.sock" {
		t.Errorf("allow = %v", got.Allow)
	}

	var rec collector.Record
	if err := json.Unmarshal(e.out.Bytes(), &rec); err != nil || rec.ID != "0badcafe" {
		t.Errorf("-o json printed %q (%v), want the record", e.out, err)
	}
	opts.Allow = []string{"none"}
	if err := runRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got.Allow == nil || len(*got.Allow) != 0 {
		t.Errorf("--allow none gave allow %v, want an empty allowlist", got.Allow)
	}
}

func TestRunIngest(t *testing.T) {
	e := newTestEnv(t, nil)
	dir := t.TempDir()
	opened := 0
	opts := &runOptions{
		Scenario: fleetScenario, Ingest: true, Release: "r1", Output: "text", Env: e.Env,
		OpenStore: func(context.Context) (*ingest.Store, error) { opened++; return ingest.Open(dir) },
		Run: func(context.Context, *sandbox.Scenario, sandbox.Options) (*collector.Record, error) {
			return fakeRecord(true), nil
		},
	}
	if err := runRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	second := fakeRecord(true)
	second.ID = "feedf00d"
	second.Outcome.StartedAt = second.Outcome.StartedAt.Add(time.Hour)
	opts.Run = func(context.Context, *sandbox.Scenario, sandbox.Options) (*collector.Record, error) {
		return second, nil
	}
	if err := runRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	store, err := ingest.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs, err := store.Records("r1")
	if err != nil {
		t.Fatal(err)
	}
	// The second run of the scenario supersedes the first.
	if len(recs) != 1 || recs[0].ID != second.ID || opened != 2 {
		t.Errorf("release r1 holds %d records after two runs (store opened %d times), want the second only", len(recs), opened)
	}
	if cat, err := store.Catalog("r1"); err != nil || cat == nil || len(cat.Services) != 9 {
		t.Errorf("catalog = %v, %v; want the fleet's nine services", cat, err)
	}
}

func TestSandboxGC(t *testing.T) {
	e := newTestEnv(t, nil)
	var got sandbox.GCOptions
	opts := &sandboxGCOptions{Kept: true, DryRun: true, Env: e.Env, GC: func(_ context.Context, o sandbox.GCOptions) ([]sandbox.Leftover, error) {
		got = o
		return []sandbox.Leftover{
			{RunID: "0badcafe", Kind: "cgroup", Name: "/sys/fs/cgroup/unified/rgraph/0badcafe"},
			{RunID: "0badcafe", Kind: "netns", Name: "/run/netns/rgraph-0badcafe", Kept: true},
		}, nil
	}}
	if err := sandboxGCRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !got.Kept || !got.DryRun {
		t.Errorf("GC options = %+v", got)
	}
	want := "0badcafe\tcgroup\t/sys/fs/cgroup/unified/rgraph/0badcafe\twould remove\n0badcafe (kept)\tnetns\t/run/netns/rgraph-0badcafe\twould remove\n"
	if e.out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", e.out, want)
	}
	opts.GC = func(context.Context, sandbox.GCOptions) ([]sandbox.Leftover, error) {
		return nil, sandbox.ErrPermission
	}
	if code := exitCode(context.Background(), sandboxGCRun(context.Background(), opts)); code != exitPrivilege {
		t.Errorf("gc without privilege = exit %d, want %d", code, exitPrivilege)
	}
}

func TestRunDocs(t *testing.T) {
	e := newTestEnv(t, nil)
	store := t.TempDir()
	site := filepath.Join(t.TempDir(), "site")
	opts := &runOptions{
		Scenario: fleetScenario, Ingest: true, Release: "r1", Docs: site, Output: "text", Env: e.Env,
		OpenStore: func(context.Context) (*ingest.Store, error) { return ingest.Open(store) },
	}
	for _, tt := range []struct {
		name      string
		recovered bool
		wantPages bool
	}{
		{"a failed run leaves the docs alone", false, false},
		{"a recovered run regenerates them", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := fakeRecord(tt.recovered)
			rec.ID = strings.ReplaceAll(tt.name, " ", "-")
			opts.Run = func(context.Context, *sandbox.Scenario, sandbox.Options) (*collector.Record, error) {
				return rec, nil
			}
			if err := runRun(context.Background(), opts); tt.recovered && err != nil {
				t.Fatal(err)
			}
			page, err := os.ReadFile(filepath.Join(site, "services", "pkgstore.html"))
			if (err == nil) != tt.wantPages {
				t.Fatalf("pkgstore.html exists = %v, want %v", err == nil, tt.wantPages)
			}
			if tt.wantPages && !strings.Contains(string(page), rec.ID) {
				t.Errorf("pkgstore.html does not name the run that passed:\n%s", page)
			}
		})
	}
}

// TestRunDocsFailureKeepsVerdict checks that a docs refresh that fails
// is reported and leaves the exit status to the run's verdict.
func TestRunDocsFailureKeepsVerdict(t *testing.T) {
	e := newTestEnv(t, nil)
	store := t.TempDir()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := &runOptions{
		Scenario: fleetScenario, Ingest: true, Release: "r1", Docs: filepath.Join(file, "site"), Output: "text", Env: e.Env,
		OpenStore: func(context.Context) (*ingest.Store, error) { return ingest.Open(store) },
		Run: func(context.Context, *sandbox.Scenario, sandbox.Options) (*collector.Record, error) {
			return fakeRecord(true), nil
		},
	}
	err := runRun(context.Background(), opts)
	if code := exitCode(context.Background(), err); code != exitOK {
		t.Errorf("run whose docs refresh failed = exit %d (%v), want %d", code, err, exitOK)
	}
	if !strings.Contains(e.errOut.String(), "recovered, but refreshing the docs in") || !strings.Contains(e.out.String(), "verdict\trecovered") {
		t.Errorf("stderr %q, stdout %q; want the verdict and the failed refresh", e.errOut, e.out)
	}
}
