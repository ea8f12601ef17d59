package sandbox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/rgraph/rgraph/collector"
)

// Options adjust one [Run]. The zero value runs the scenario as written
// on the default driver.
type Options struct {
	// Allow, when non-nil, replaces the scenario's allowlist; a pointer to
	// an empty allowlist allows nothing. Minimization sets it per trial.
	Allow *collector.Allowlist
	// Fault overrides the scenario's fault mode when set.
	Fault collector.FaultMode
	// Timeout overrides the scenario's run timeout when positive.
	Timeout time.Duration
	// UpstreamNetNS overrides the scenario's upstream namespace when set
	// ("host" for the namespace rgraph runs in).
	UpstreamNetNS string
	// Release is the release label written into the record.
	Release string
	// Driver builds the sandbox; nil means the registered [DefaultDriver].
	Driver Driver
	// Env is added to the scenario's environment (and wins over it), e.g.
	// a PATH that finds the service's binaries.
	Env map[string]string
	// Keep leaves the sandbox in place after the run; the [EventKept]
	// event says how to enter it.
	Keep bool
	// NoGC skips reaping dead runs' leftovers before starting.
	NoGC bool
	// Progress, when set, is called as the run advances, from the
	// goroutine that called Run.
	Progress func(Event)
}

// EventKind says what an [Event] reports.
type EventKind int

// Event kinds, in the order a run emits them.
const (
	EventReaped     EventKind = iota // GC removed leftovers of a dead run (Leftovers)
	EventSetup                       // the sandbox is ready (Duration: setup time)
	EventStepStart                   // a runbook step starts (Name)
	EventStepDone                    // a runbook step ended (Result)
	EventValidating                  // a validation try starts (Try)
	EventValidated                   // the validation ended (Result)
	EventKept                        // the sandbox was kept (Kept)
	EventTeardown                    // the sandbox is gone (Duration: teardown time)
	EventWarning                     // something went wrong that does not end the run (Err)
)

// Event is one progress report of a [Run].
type Event struct {
	Kind  EventKind
	RunID string
	// Name is the step's name.
	Name string
	// Index and Total place a step in the runbook (1-based).
	Index, Total int
	// Try is the validation try number (1-based).
	Try      int
	Result   collector.StepResult
	Duration time.Duration
	Kept     Kept
	// Leftovers are what GC removed.
	Leftovers []Leftover
	Err       error
}

// OutputLimit is how much of a command's output a record keeps: the last
// OutputLimit bytes, from a line boundary when one is near.
const OutputLimit = 4 << 10

// Run runs a scenario once in a fresh sandbox and returns its run record:
// the runbook steps in order, then the validation, with every attempt the
// recorder saw. A scenario that does not recover is not an error: the
// record's Outcome.Recovered says so. Errors mean the run could not be
// made (privileges wrap [ErrPermission], missing kernel features
// [ErrUnsupported]); when ctx is cancelled midway Run tears the sandbox
// down and returns the partial record with an error wrapping ctx.Err().
//
// Each call builds and removes its own sandbox, so calls may run in
// parallel without seeing each other.
func Run(ctx context.Context, sc *Scenario, opts Options) (*collector.Record, error) {
	progress := opts.Progress
	if progress == nil {
		progress = func(Event) {}
	}
	if s, ok := opts.Driver.(Slower); ok {
		sc = sc.stretched(s.Slowdown())
	}
	allow := sc.Allow
	if opts.Allow != nil {
		allow = *opts.Allow
	}
	rules, err := sc.Catalog.Expand(allow)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	fault := sc.Fault
	if opts.Fault != "" {
		fault = opts.Fault
	}
	if fault == "" {
		fault = collector.FaultReject
	}
	timeout := sc.Timeout
	if opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	upstream := sc.Upstream
	if opts.UpstreamNetNS != "" {
		upstream.NetNS = opts.UpstreamNetNS
	}
	driver := opts.Driver
	if driver == nil {
		if driver, err = Lookup(""); err != nil {
			return nil, err
		}
	}
	if r, ok := driver.(Reaper); ok && !opts.NoGC {
		reaped, err := r.Reap(ctx, GCOptions{})
		if err != nil && !errors.Is(err, ErrPermission) {
			progress(Event{Kind: EventWarning, Err: fmt.Errorf("reaping dead runs: %w", err)})
		}
		if len(reaped) > 0 {
			progress(Event{Kind: EventReaped, Leftovers: reaped})
		}
	}

	spec := Spec{
		Rules:    rules,
		Fault:    fault,
		Upstream: upstream,
		Resolver: sc.Resolver,
		Env:      buildEnv(sc.Env, opts.Env),
		Files:    sc.Files,
		User:     sc.User,
	}
	if rules.All && sc.Catalog != nil {
		for _, s := range sc.Catalog.Services {
			spec.Sockets = append(spec.Sockets, s.Unix...)
		}
	}
	for _, st := range sc.Runbook {
		spec.SharedWorkDir = spec.SharedWorkDir || st.User != nil && uid(st.User) != uid(sc.User)
	}
	rec := &collector.Record{
		SchemaVersion: collector.SchemaVersion,
		Kind:          collector.KindRun,
		Scenario:      sc.Name,
		Service:       sc.Service,
		Release:       opts.Release,
		Driver:        driver.Name(),
		FaultMode:     fault,
		Allowlist:     allow.Sorted(),
	}
	start := time.Now()
	rec.Outcome.StartedAt = start.UTC()
	sb, err := driver.Start(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("starting %s sandbox: %w", driver.Name(), err)
	}
	rec.ID = sb.ID()
	progress(Event{Kind: EventSetup, RunID: sb.ID(), Duration: time.Since(start)})

	kept := false
	defer func() {
		if kept {
			return
		}
		t := time.Now()
		if err := sb.Close(); err != nil {
			progress(Event{Kind: EventWarning, RunID: sb.ID(), Err: fmt.Errorf("tearing down: %w", err)})
		}
		progress(Event{Kind: EventTeardown, RunID: sb.ID(), Duration: time.Since(t)})
	}()

	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := &runner{sb: sb, progress: progress, rec: rec, timeout: timeout, user: sc.User}
	if r.runbook(ctx, runCtx, sc.Runbook) {
		r.validate(ctx, runCtx, sc.Validation)
	} else {
		rec.Outcome.Validation = collector.StepResult{Name: "validation", Command: sc.Validation.Command(), ExitCode: -1}
	}
	rec.Outcome.Duration = collector.Duration(time.Since(start))

	recording, err := sb.Recording()
	if err != nil {
		progress(Event{Kind: EventWarning, RunID: sb.ID(), Err: fmt.Errorf("reading the recording: %w", err)})
		recording.Collection.NotRecorded = append(recording.Collection.NotRecorded, "recording unavailable: "+err.Error())
	}
	rec.Attempts = collector.SortAttempts(recording.Attempts)
	rec.Collection = recording.Collection
	if p, ok := sb.(UpstreamProber); ok && ctx.Err() == nil {
		CheckUpstream(ctx, p, rec.Attempts)
	}

	if opts.Keep && ctx.Err() == nil {
		k, err := sb.Keep()
		if err != nil {
			progress(Event{Kind: EventWarning, RunID: sb.ID(), Err: fmt.Errorf("keeping the sandbox: %w", err)})
		} else {
			kept = true
			progress(Event{Kind: EventKept, RunID: sb.ID(), Kept: k})
		}
	}
	if err := ctx.Err(); err != nil {
		rec.Outcome.Recovered = false
		if rec.Outcome.Error == "" {
			rec.Outcome.Error = "interrupted"
		}
		return rec, fmt.Errorf("run %s interrupted: %w", rec.ID, err)
	}
	return rec, nil
}

// runner carries one run's state through the runbook and validation.
type runner struct {
	sb       Sandbox
	progress func(Event)
	rec      *collector.Record
	timeout  time.Duration
	// user is the scenario's user, whom steps without one and the
	// validation run as.
	user *User
}

// uid is u's user ID; nil is root.
func uid(u *User) uint32 {
	if u == nil {
		return 0
	}
	return u.UID
}

// runbook runs the steps in order and reports whether the validation
// should follow: every step passed or was allowed to fail, and time is
// left.
func (r *runner) runbook(ctx, runCtx context.Context, steps []Step) bool {
	for i, st := range steps {
		r.progress(Event{Kind: EventStepStart, RunID: r.sb.ID(), Name: st.Name, Index: i + 1, Total: len(steps)})
		stepCtx, cancel := context.WithTimeout(runCtx, st.Timeout)
		who := st.User
		if who == nil {
			who = r.user
		}
		res, err := r.sb.Exec(stepCtx, Command{Name: fmt.Sprintf("%02d-%s", i+1, st.Name), Shell: st.Run, Where: InRunbook, User: who})
		stepErr := stepCtx.Err()
		cancel()
		sr := stepResult(st.Name, st.Run, res)
		r.rec.Outcome.Steps = append(r.rec.Outcome.Steps, sr)
		r.progress(Event{Kind: EventStepDone, RunID: r.sb.ID(), Name: st.Name, Index: i + 1, Total: len(steps), Result: sr})
		switch {
		case err != nil:
			r.rec.Outcome.Error = fmt.Sprintf("step %q: %v", st.Name, err)
			return false
		case ctx.Err() != nil:
			return false
		case runCtx.Err() != nil:
			r.timedOut("run", r.timeout)
			r.rec.Outcome.Error = fmt.Sprintf("the run timed out after %v during step %q", r.timeout, st.Name)
			return false
		case stepErr != nil:
			r.timedOut(st.Name, st.Timeout)
			if !st.AllowFailure {
				r.rec.Outcome.Error = fmt.Sprintf("step %q timed out after %v", st.Name, st.Timeout)
				return false
			}
		case res.ExitCode != 0 && !st.AllowFailure:
			r.rec.Outcome.Error = fmt.Sprintf("step %q exited with status %d", st.Name, res.ExitCode)
			return false
		}
	}
	return true
}

// validate tries the validation until it passes, it runs out of retries,
// or its deadline (or the run's) passes, or, unless v.UntilDeadline, a try
// failed that began when no process of the runbook was left: then nothing
// can make a later try pass, and the run fails at once.
func (r *runner) validate(ctx, runCtx context.Context, v Validation) {
	vr := collector.StepResult{Name: "validation", Command: v.Command(), ExitCode: -1}
	start := time.Now()
	deadline, cancel := context.WithTimeout(runCtx, v.Deadline)
	defer cancel()
	settled := false // a try failed with nothing of the runbook left
	for try := 1; try <= 1+v.Retries; try++ {
		r.progress(Event{Kind: EventValidating, RunID: r.sb.ID(), Try: try})
		gone := !v.UntilDeadline && r.runbookGone()
		tryCtx, cancelTry := context.WithTimeout(deadline, v.Timeout)
		vr.Tries = try
		if v.Run != "" {
			res, err := r.sb.Exec(tryCtx, Command{Name: fmt.Sprintf("validation-%d", try), Shell: v.Run, Where: InValidation, User: r.user})
			vr.ExitCode, vr.Output, vr.TimedOut = res.ExitCode, tail([]byte(res.Output), OutputLimit), res.TimedOut
			if err != nil {
				vr.Output = err.Error()
			}
		} else {
			err := r.sb.Probe(tryCtx, v.Probe)
			vr.ExitCode, vr.Output, vr.TimedOut = 0, "healthy", false
			if err != nil {
				vr.ExitCode, vr.Output, vr.TimedOut = 1, err.Error(), tryCtx.Err() != nil
			}
		}
		cancelTry()
		if vr.ExitCode == 0 {
			break
		}
		if gone && deadline.Err() == nil {
			settled = true
			break
		}
		if try == 1+v.Retries || sleepCtx(deadline, v.Interval) != nil {
			break
		}
	}
	vr.Duration = collector.Duration(time.Since(start))
	r.rec.Outcome.Recovered = vr.ExitCode == 0 && ctx.Err() == nil
	switch {
	case r.rec.Outcome.Recovered, ctx.Err() != nil:
	case runCtx.Err() != nil:
		r.timedOut("run", r.timeout)
		r.rec.Outcome.Error = fmt.Sprintf("the run timed out after %v during the validation", r.timeout)
	case settled:
		r.rec.Outcome.Error = fmt.Sprintf("the validation failed (try %d) and no process of the runbook is left to make it pass", vr.Tries)
	case deadline.Err() != nil:
		vr.TimedOut = true
		r.timedOut("validation", v.Deadline)
		r.rec.Outcome.Error = fmt.Sprintf("the validation did not pass within its deadline of %v (%d tries)", v.Deadline, vr.Tries)
	default:
		r.rec.Outcome.Error = fmt.Sprintf("the validation did not pass in %d tries", vr.Tries)
	}
	r.rec.Outcome.Validation = vr
	r.progress(Event{Kind: EventValidated, RunID: r.sb.ID(), Try: vr.Tries, Result: vr})
}

// runbookGone reports whether the sandbox says no process of the runbook
// runs any more; false when it cannot tell.
func (r *runner) runbookGone() bool {
	l, ok := r.sb.(Liveness)
	if !ok {
		return false
	}
	alive, err := l.RunbookAlive()
	return err == nil && !alive
}

func (r *runner) timedOut(step string, d time.Duration) {
	r.rec.Outcome.Timeouts = append(r.rec.Outcome.Timeouts, collector.TimeoutNote{Step: step, Timeout: collector.Duration(d)})
}

func stepResult(name, command string, res ExecResult) collector.StepResult {
	return collector.StepResult{
		Name:     name,
		Command:  command,
		ExitCode: res.ExitCode,
		TimedOut: res.TimedOut,
		Duration: collector.Duration(res.Duration),
		Output:   tail([]byte(res.Output), OutputLimit),
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// baseEnv names the variables of rgraph's own environment that commands
// inherit; everything else comes from the scenario and [Options.Env].
var baseEnv = []string{"PATH", "HOME", "LANG", "LC_ALL", "TERM", "TZ", "USER", "LOGNAME"}

// buildEnv returns the commands' environment: a few inherited variables,
// then the scenario's, then the caller's overrides, sorted.
func buildEnv(scenario, override map[string]string) []string {
	env := map[string]string{}
	for _, k := range baseEnv {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	if env["PATH"] == "" {
		env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	maps.Copy(env, scenario)
	maps.Copy(env, override)
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// tail returns the last n bytes of b, starting at a line boundary when
// one is near.
func tail(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	b = b[len(b)-n:]
	for i, c := range b[:min(len(b), 200)] {
		if c == '\n' {
			return "…\n" + string(b[i+1:])
		}
	}
	return "…" + string(b)
}
