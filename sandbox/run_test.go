package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rgraph/rgraph/collector"
)

// fakeDriver runs commands by looking them up in a script: the command
// text maps to a function returning its result. It records what Run asked
// of it, so Run's orchestration and record building can be tested
// without privileges.
type fakeDriver struct {
	script    map[string]func(ctx context.Context, try int) ExecResult
	probe     func(try int) error
	recording collector.Recording
	startErr  error
	// alive, when set, makes the sandbox a Liveness: whether a runbook
	// process runs before validation try n.
	alive func(try int) bool
	// upstream, when set, makes the sandbox an UpstreamProber: the error
	// of a probe of each target (nil: it is there).
	upstream map[string]error

	mu     sync.Mutex
	spec   Spec
	ran    []Command
	tries  map[string]int
	closed int
	kept   int
}

func (d *fakeDriver) Name() string { return "fake" }

func (d *fakeDriver) Start(_ context.Context, spec Spec) (Sandbox, error) {
	if d.startErr != nil {
		return nil, d.startErr
	}
	d.spec = spec
	d.tries = map[string]int{}
	switch {
	case d.alive != nil:
		return &liveSandbox{fakeSandbox{d}}, nil
	case d.upstream != nil:
		return &upstreamSandbox{fakeSandbox{d}}, nil
	}
	return &fakeSandbox{d}, nil
}

type fakeSandbox struct{ d *fakeDriver }

// liveSandbox is a fakeSandbox that knows whether its runbook runs.
type liveSandbox struct{ fakeSandbox }

func (s *liveSandbox) RunbookAlive() (bool, error) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return s.d.alive(s.d.tries["check"] + 1), nil
}

// upstreamSandbox is a fakeSandbox that can probe its upstream.
type upstreamSandbox struct{ fakeSandbox }

func (s *upstreamSandbox) ProbeUpstream(_ context.Context, network, address string) error {
	s.d.mu.Lock()
	s.d.tries["dial "+network+":"+address]++
	s.d.mu.Unlock()
	if err := s.d.upstream[network+":"+address]; err != nil {
		return &net.OpError{Op: "dial", Net: network, Err: err}
	}
	return nil
}

func (s *fakeSandbox) ID() string      { return "0badcafe" }
func (s *fakeSandbox) WorkDir() string { return "/work" }

func (s *fakeSandbox) Exec(ctx context.Context, c Command) (ExecResult, error) {
	s.d.mu.Lock()
	s.d.ran = append(s.d.ran, c)
	s.d.tries[c.Shell]++
	try := s.d.tries[c.Shell]
	f := s.d.script[c.Shell]
	s.d.mu.Unlock()
	if f == nil {
		return ExecResult{ExitCode: 127, Output: "sh: not found"}, nil
	}
	return f(ctx, try), nil
}

func (s *fakeSandbox) Probe(_ context.Context, _ Probe) error {
	s.d.mu.Lock()
	s.d.tries["probe"]++
	try := s.d.tries["probe"]
	s.d.mu.Unlock()
	return s.d.probe(try)
}

func (s *fakeSandbox) Recording() (collector.Recording, error) { return s.d.recording, nil }
func (s *fakeSandbox) Keep() (Kept, error) {
	s.d.kept++
	return Kept{ID: "0badcafe", Enter: "/run/rgraph/runs/0badcafe/enter"}, nil
}
func (s *fakeSandbox) Close() error { s.d.closed++; return nil }

func ok(out string) func(context.Context, int) ExecResult {
	return func(context.Context, int) ExecResult { return ExecResult{Output: out, Duration: time.Millisecond} }
}

func exit(code int) func(context.Context, int) ExecResult {
	return func(context.Context, int) ExecResult { return ExecResult{ExitCode: code, Output: "failed"} }
}

// passFrom passes from the n-th try on.
func passFrom(n int) func(context.Context, int) ExecResult {
	return func(_ context.Context, try int) ExecResult {
		if try < n {
			return ExecResult{ExitCode: 1, Output: fmt.Sprintf("try %d: not yet", try)}
		}
		return ExecResult{Output: "healthy"}
	}
}

// hang waits until ctx ends, as a blackholed connect does.
func hang(ctx context.Context, _ int) ExecResult {
	<-ctx.Done()
	return ExecResult{ExitCode: -1, TimedOut: true}
}

func testScenario(t *testing.T, steps ...Step) *Scenario {
	t.Helper()
	sc, err := ParseScenario([]byte(minimal), filepath.Join("testdata", "api.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sc.Allow = collector.Allowlist{{Service: "db"}, {Service: "cache"}}
	sc.Runbook = steps
	sc.Validation = Validation{Run: "check", Retries: 4, Interval: time.Millisecond, Deadline: time.Second, Timeout: time.Second}
	return sc
}

func TestRun(t *testing.T) {
	start := Step{Name: "start", Run: "start", Timeout: time.Second}
	tests := []struct {
		name      string
		steps     []Step
		script    map[string]func(context.Context, int) ExecResult
		timeout   time.Duration
		recovered bool
		tries     int
		ran       []string
		errText   string
		timeouts  []string
	}{
		{
			name:      "recovers on the third try",
			steps:     []Step{start},
			script:    map[string]func(context.Context, int) ExecResult{"start": ok("started"), "check": passFrom(3)},
			recovered: true, tries: 3, ran: []string{"start", "check", "check", "check"},
		},
		{
			name:   "validation never passes",
			steps:  []Step{start},
			script: map[string]func(context.Context, int) ExecResult{"start": ok(""), "check": exit(1)},
			tries:  5, ran: []string{"start", "check", "check", "check", "check", "check"},
			errText: "the validation did not pass in 5 tries",
		},
		{
			name:    "failed step stops the runbook",
			steps:   []Step{{Name: "migrate", Run: "migrate", Timeout: time.Second}, start},
			script:  map[string]func(context.Context, int) ExecResult{"migrate": exit(2), "start": ok(""), "check": ok("")},
			ran:     []string{"migrate"},
			errText: `step "migrate" exited with status 2`,
		},
		{
			name:      "allowed failure goes on",
			steps:     []Step{{Name: "migrate", Run: "migrate", Timeout: time.Second, AllowFailure: true}, start},
			script:    map[string]func(context.Context, int) ExecResult{"migrate": exit(2), "start": ok(""), "check": ok("")},
			recovered: true, tries: 1, ran: []string{"migrate", "start", "check"},
		},
		{
			name:     "step timeout",
			steps:    []Step{{Name: "connect", Run: "connect", Timeout: 20 * time.Millisecond}, start},
			script:   map[string]func(context.Context, int) ExecResult{"connect": hang, "start": ok(""), "check": ok("")},
			ran:      []string{"connect"},
			errText:  `step "connect" timed out after 20ms`,
			timeouts: []string{"connect"},
		},
		{
			name:     "run timeout",
			steps:    []Step{{Name: "connect", Run: "connect", Timeout: time.Minute}},
			script:   map[string]func(context.Context, int) ExecResult{"connect": hang, "check": ok("")},
			timeout:  30 * time.Millisecond,
			ran:      []string{"connect"},
			errText:  "the run timed out after 30ms during step",
			timeouts: []string{"run"},
		},
		{
			name:  "unknown command",
			steps: []Step{{Name: "x", Run: "x", Timeout: time.Second}},
			ran:   []string{"x"}, errText: `step "x" exited with status 127`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &fakeDriver{script: tt.script}
			rec, err := Run(context.Background(), testScenario(t, tt.steps...), Options{Driver: d, Timeout: tt.timeout})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			o := rec.Outcome
			if o.Recovered != tt.recovered {
				t.Errorf("Recovered = %v, want %v (error %q)", o.Recovered, tt.recovered, o.Error)
			}
			if o.Validation.Tries != tt.tries {
				t.Errorf("Validation.Tries = %d, want %d", o.Validation.Tries, tt.tries)
			}
			var ran []string
			for _, c := range d.ran {
				ran = append(ran, c.Shell)
				if want := InRunbook; c.Shell == "check" {
					if c.Where != InValidation {
						t.Errorf("validation ran in %v, want InValidation", c.Where)
					}
				} else if c.Where != want {
					t.Errorf("step %q ran in %v, want InRunbook", c.Shell, c.Where)
				}
			}
			if strings.Join(ran, " ") != strings.Join(tt.ran, " ") {
				t.Errorf("ran %q, want %q", ran, tt.ran)
			}
			if !strings.Contains(o.Error, tt.errText) || (tt.errText == "") != (o.Error == "") {
				t.Errorf("Outcome.Error = %q, want it to contain %q", o.Error, tt.errText)
			}
			var timeouts []string
			for _, n := range o.Timeouts {
				timeouts = append(timeouts, n.Step)
			}
			if strings.Join(timeouts, " ") != strings.Join(tt.timeouts, " ") {
				t.Errorf("Timeouts = %v, want %v", timeouts, tt.timeouts)
			}
			if d.closed != 1 {
				t.Errorf("sandbox closed %d times, want 1", d.closed)
			}
			if err := rec.Validate(); err != nil {
				t.Errorf("record does not validate: %v", err)
			}
		})
	}
}

// TestRunRecord checks every field of the run record Run builds, and that
// it survives collector's encoder and decoder.
func TestRunRecord(t *testing.T) {
	when := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	d := &fakeDriver{
		script: map[string]func(context.Context, int) ExecResult{"start": ok("started\n"), "check": passFrom(2)},
		recording: collector.Recording{
			Attempts: []collector.Attempt{
				{Process: collector.Process{PID: 7, Comm: "api"}, Protocol: collector.TCP, Address: netip.MustParseAddr("10.0.0.7"), Port: 6379, Verdict: collector.Denied, Failure: "dropped", Count: 2, FirstSeen: when},
				{Process: collector.Process{PID: 7, Comm: "api"}, Protocol: collector.TCP, Address: netip.MustParseAddr("10.0.0.5"), Port: 5432, Verdict: collector.Allowed, Count: 1, FirstSeen: when},
				{Process: collector.Process{PID: 8, Comm: "api"}, Protocol: collector.TCP, Address: netip.MustParseAddr("10.0.0.5"), Port: 5432, Verdict: collector.Allowed, Count: 3, FirstSeen: when.Add(time.Second)},
			},
			Collection: collector.Collection{Complete: true},
		},
	}
	sc := testScenario(t, Step{Name: "start", Run: "start", Timeout: time.Second})
	allow := collector.Allowlist{{Service: "db"}}
	var events []EventKind
	rec, err := Run(context.Background(), sc, Options{
		Driver:   d,
		Allow:    &allow,
		Fault:    collector.FaultBlackhole,
		Release:  "2026-11",
		Env:      map[string]string{"EXTRA": "1"},
		Progress: func(e Event) { events = append(events, e.Kind) },
	})
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case rec.SchemaVersion != collector.SchemaVersion || rec.Kind != collector.KindRun:
		t.Errorf("schemaVersion, kind = %d, %q", rec.SchemaVersion, rec.Kind)
	case rec.ID != "0badcafe" || rec.Scenario != "api" || rec.Service != "api":
		t.Errorf("id, scenario, service = %q, %q, %q", rec.ID, rec.Scenario, rec.Service)
	case rec.Release != "2026-11" || rec.Driver != "fake" || rec.FaultMode != collector.FaultBlackhole:
		t.Errorf("release, driver, fault = %q, %q, %q", rec.Release, rec.Driver, rec.FaultMode)
	case rec.Allowlist.String() != "service:db":
		t.Errorf("allowlist = %v, want the override service:db", rec.Allowlist)
	case !rec.Outcome.Recovered || rec.Outcome.StartedAt.IsZero() || rec.Outcome.Duration <= 0:
		t.Errorf("outcome = %+v", rec.Outcome)
	case len(rec.Outcome.Steps) != 1 || rec.Outcome.Steps[0].Output != "started\n" || rec.Outcome.Steps[0].Command != "start":
		t.Errorf("steps = %+v", rec.Outcome.Steps)
	case rec.Outcome.Validation.Name != "validation" || rec.Outcome.Validation.Tries != 2 || rec.Outcome.Validation.Output != "healthy":
		t.Errorf("validation = %+v", rec.Outcome.Validation)
	case len(rec.Attempts) != 2 || rec.Attempts[0].Count != 4 || rec.Attempts[0].FirstSeen != when:
		t.Errorf("attempts not merged and sorted: %+v", rec.Attempts)
	case !rec.Collection.Complete:
		t.Errorf("collection = %+v", rec.Collection)
	}
	if d.spec.Fault != collector.FaultBlackhole || len(d.spec.Rules.Nets) != 1 || d.spec.Rules.Nets[0].String() != "10.0.0.5:5432/tcp" {
		t.Errorf("spec = %+v, want blackhole and only db's endpoint", d.spec)
	}
	env := strings.Join(d.spec.Env, " ")
	if !strings.Contains(env, "EXTRA=1") || !strings.Contains(env, "PATH=") {
		t.Errorf("spec.Env = %v, want EXTRA and PATH", d.spec.Env)
	}
	want := []EventKind{EventSetup, EventStepStart, EventStepDone, EventValidating, EventValidating, EventValidated, EventTeardown}
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Errorf("events = %v, want %v", events, want)
	}

	var buf bytes.Buffer
	if err := collector.Encode(&buf, rec); err != nil {
		t.Fatal(err)
	}
	back, err := collector.Decode(buf.Bytes(), "record.json")
	if err != nil {
		t.Fatalf("decoding the record: %v\n%s", err, buf.String())
	}
	if back.ID != rec.ID || len(back.Attempts) != 2 || !back.Outcome.Recovered {
		t.Errorf("round trip lost data: %+v", back)
	}
}

func TestRunProbeValidation(t *testing.T) {
	d := &fakeDriver{
		script: map[string]func(context.Context, int) ExecResult{"start": ok("")},
		probe: func(try int) error {
			if try < 2 {
				return errors.New("connection refused")
			}
			return nil
		},
	}
	sc := testScenario(t, Step{Name: "start", Run: "start", Timeout: time.Second})
	sc.Validation = Validation{Probe: Probe{Kind: ProbeTCP, Target: "127.0.0.1:80"}, Retries: 3, Interval: time.Millisecond, Deadline: time.Second, Timeout: time.Second}
	rec, err := Run(context.Background(), sc, Options{Driver: d})
	if err != nil {
		t.Fatal(err)
	}
	if v := rec.Outcome.Validation; !rec.Outcome.Recovered || v.Tries != 2 || v.Command != "tcp:127.0.0.1:80" {
		t.Errorf("validation = %+v, recovered %v; want recovered on try 2", v, rec.Outcome.Recovered)
	}
}

func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d := &fakeDriver{script: map[string]func(context.Context, int) ExecResult{
		"connect": func(c context.Context, try int) ExecResult { cancel(); return hang(c, try) },
	}}
	sc := testScenario(t, Step{Name: "connect", Run: "connect", Timeout: time.Minute})
	rec, err := Run(ctx, sc, Options{Driver: d, Keep: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
	if rec == nil || rec.Outcome.Recovered || rec.Outcome.Error != "interrupted" {
		t.Errorf("record = %+v, want not recovered, interrupted", rec)
	}
	if d.closed != 1 || d.kept != 0 {
		t.Errorf("closed %d, kept %d: an interrupted run is torn down even with Keep", d.closed, d.kept)
	}
}

func TestRunKeep(t *testing.T) {
	d := &fakeDriver{script: map[string]func(context.Context, int) ExecResult{"start": ok(""), "check": ok("")}}
	var kept *Kept
	_, err := Run(context.Background(), testScenario(t, Step{Name: "start", Run: "start", Timeout: time.Second}), Options{
		Driver: d, Keep: true,
		Progress: func(e Event) {
			if e.Kind == EventKept {
				kept = &e.Kept
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d.closed != 0 || d.kept != 1 || kept == nil || kept.Enter == "" {
		t.Errorf("closed %d, kept %d, event %v: want kept and not closed", d.closed, d.kept, kept)
	}
}

func TestRunStartError(t *testing.T) {
	d := &fakeDriver{startErr: fmt.Errorf("creating a network namespace: %w", ErrPermission)}
	_, err := Run(context.Background(), testScenario(t, Step{Name: "s", Run: "s", Timeout: time.Second}), Options{Driver: d})
	if !errors.Is(err, ErrPermission) {
		t.Errorf("Run error = %v, want ErrPermission", err)
	}
}

func TestRunUnknownService(t *testing.T) {
	allow := collector.Allowlist{{Service: "billing"}}
	_, err := Run(context.Background(), testScenario(t, Step{Name: "s", Run: "s", Timeout: time.Second}), Options{Driver: &fakeDriver{}, Allow: &allow})
	if err == nil || !strings.Contains(err.Error(), `"billing" is not in the catalog`) {
		t.Errorf("Run error = %v, want an unknown service", err)
	}
}

// TestRunFastFailure checks that a validation that failed once no process
// of the runbook is left ends the run at once, unless the scenario asks to
// try until the deadline, and that it waits while processes run.
func TestRunFastFailure(t *testing.T) {
	start := Step{Name: "start", Run: "start", Timeout: time.Second}
	for _, tt := range []struct {
		name          string
		alive         func(try int) bool
		check         func(context.Context, int) ExecResult
		untilDeadline bool
		recovered     bool
		tries         int
		errText       string
	}{
		{"nothing left", func(int) bool { return false }, exit(1), false, false, 1, "the validation failed (try 1) and no process of the runbook is left to make it pass"},
		{"dies after two tries", func(try int) bool { return try <= 2 }, exit(1), false, false, 3, "failed (try 3) and no process"},
		{"alive throughout", func(int) bool { return true }, exit(1), false, false, 5, "did not pass in 5 tries"},
		{"until the deadline", func(int) bool { return false }, exit(1), true, false, 5, "did not pass in 5 tries"},
		{"passes with nothing left", func(int) bool { return false }, ok("done"), false, true, 1, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := &fakeDriver{script: map[string]func(context.Context, int) ExecResult{"start": ok(""), "check": tt.check}, alive: tt.alive}
			sc := testScenario(t, start)
			sc.Validation.UntilDeadline = tt.untilDeadline
			rec, err := Run(context.Background(), sc, Options{Driver: d})
			if err != nil {
				t.Fatal(err)
			}
			o := rec.Outcome
			if o.Recovered != tt.recovered || o.Validation.Tries != tt.tries || !strings.Contains(o.Error, tt.errText) || (tt.errText == "") != (o.Error == "") {
				t.Errorf("recovered %v after %d tries (%q), want %v after %d (%q)", o.Recovered, o.Validation.Tries, o.Error, tt.recovered, tt.tries, tt.errText)
			}
			if o.Validation.TimedOut {
				t.Errorf("validation marked timed out: %+v", o.Validation)
			}
		})
	}
}

// TestRunUpstream checks that denied TCP and unix attempts are looked up
// upstream once per target, and that what a connect answers becomes their
// Upstream.
func TestRunUpstream(t *testing.T) {
	at := func(proto collector.Protocol, dest string, v collector.Verdict) collector.Attempt {
		a := collector.Attempt{Process: collector.Process{PID: 7, Comm: "api"}, Protocol: proto, Verdict: v, Count: 1}
		if proto == collector.Unix {
			a.Path = dest
		} else {
			ap := netip.MustParseAddrPort(dest)
			a.Address, a.Port = ap.Addr(), ap.Port()
		}
		return a
	}
	nscd := at(collector.Unix, "/var/run/nscd/socket", collector.Denied)
	other := nscd
	other.Process.Comm = "curl" // the same target, asked by another process
	d := &fakeDriver{
		script: map[string]func(context.Context, int) ExecResult{"start": ok(""), "check": ok("")},
		recording: collector.Recording{Attempts: []collector.Attempt{
			nscd, other,
			at(collector.Unix, "/run/logd.sock", collector.Denied),
			at(collector.Unix, "@abstract", collector.Denied),
			at(collector.TCP, "10.0.0.9:11211", collector.Denied),
			at(collector.TCP, "10.0.0.5:5432", collector.Denied),
			at(collector.TCP, "10.0.0.6:443", collector.Denied),
			at(collector.TCP, "10.0.0.7:80", collector.Allowed),
			at(collector.UDP, "10.0.0.8:514", collector.Denied),
		}},
		upstream: map[string]error{
			"unix:/var/run/nscd/socket": syscall.ENOENT,
			"tcp:10.0.0.9:11211":        syscall.ECONNREFUSED,
			"tcp:10.0.0.6:443":          syscall.ETIMEDOUT,
		},
	}
	rec, err := Run(context.Background(), testScenario(t, Step{Name: "start", Run: "start", Timeout: time.Second}), Options{Driver: d})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range rec.Attempts {
		got = append(got, fmt.Sprintf("%s %s %s %q", a.Process.Comm, a.Verdict, a.Endpoint(), a.Upstream))
	}
	want := []string{
		`api denied 10.0.0.5:5432/tcp ""`,
		`api denied 10.0.0.6:443/tcp ""`,
		`api allowed 10.0.0.7:80/tcp ""`,
		`api denied 10.0.0.8:514/udp ""`,
		`api denied 10.0.0.9:11211/tcp "refused"`,
		`api denied unix:/run/logd.sock ""`,
		`api denied unix:/var/run/nscd/socket "absent"`,
		`curl denied unix:/var/run/nscd/socket "absent"`,
		`api denied unix:@abstract ""`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("attempts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var dialed []string
	for k, n := range d.tries {
		if strings.HasPrefix(k, "dial ") {
			dialed = append(dialed, fmt.Sprintf("%s x%d", k, n))
		}
	}
	slices.Sort(dialed)
	wantDialed := []string{"dial tcp:10.0.0.5:5432 x1", "dial tcp:10.0.0.6:443 x1", "dial tcp:10.0.0.9:11211 x1", "dial unix:/run/logd.sock x1", "dial unix:/var/run/nscd/socket x1"}
	if !slices.Equal(dialed, wantDialed) {
		t.Errorf("dialed %v, want %v", dialed, wantDialed)
	}
}
