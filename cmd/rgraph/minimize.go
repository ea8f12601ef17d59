package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/render"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/minimize"
)

// minimizeOptions are the parsed flags of rgraph minimize and what it
// needs.
type minimizeOptions struct {
	Scenario        string
	Repeat          int
	Parallel        int
	MaxAlternatives int
	Fault           string
	Timeout         time.Duration
	Driver          string
	Accel           string
	UpstreamNetNS   string
	Release         string
	Record          string
	Output          string
	Verbose         bool
	Quiet           bool
	Batch           batchFlags

	Env *Env
	// Run runs one trial of the scenario; tests replace it.
	Run func(context.Context, *sandbox.Scenario, sandbox.Options) (*collector.Record, error)
	// GC reaps what killed runs left before the first trial; tests
	// replace it.
	GC func(context.Context, sandbox.GCOptions) ([]sandbox.Leftover, error)
}

func newMinimizeCmd(env *Env, g *globalOptions, runF func(context.Context, *minimizeOptions) error) *cobra.Command {
	opts := &minimizeOptions{Env: env, Run: sandbox.Run, GC: sandbox.GC}
	cmd := &cobra.Command{
		Use:   "minimize SCENARIO...",
		Short: "Pare a scenario's allowlist down to what recovery really needs",
		Long: `Minimize runs the scenario once with everything allowed, takes what it
attempted (mapped to catalog services, or kept as endpoints) and the
scenario's allow and soft lists as candidates, and searches for the smallest
set of them under which it still recovers, each trial in a fresh sandbox.
With k of n candidates needed the search takes about k*log2(n/k) + 2k
trials. The result is then confirmed: the minimal set passes again, and
leaving out any one member fails, each over --repeat trials.

Every candidate is classified: hard (recovery fails without it), soft
(attempted, not needed), or alternative (one of a group where any one
suffices, such as two resolvers). A removal is accepted only after --repeat
consecutive successes, since a false success would drop a real dependency;
the output states how far the result can be trusted.

stdout gets the allowlist as YAML, ready to paste into the scenario (allow
and soft), with the classification as comments; -o json prints the
minimization record instead, which --record also writes for rgraph ingest.
Progress goes to stderr. Ctrl-C stops at once, removes every sandbox, prints
the smallest allowlist known to pass so far, and exits 130.

With --out DIR it minimizes many scenarios, one after another, writing one
minimization record per scenario into DIR; --shard, --force and the exit
status are as for rgraph run --out (docs/scale.md). An interrupted
minimization writes no record.`,
		Example: `  rgraph minimize testdata/fleet/scenarios/web.yaml
  rgraph minimize --repeat 5 --parallel 4 --record web-min.json scenarios/web.yaml
  rgraph minimize --fault blackhole -o json scenarios/coord.yaml | jq .minimization.minimal
  rgraph minimize --out records/ --shard auto scenarios/`,
		Args: argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Scenario, opts.Batch.Scenarios = args[0], args
			opts.Quiet = g.Quiet
			if err := opts.Batch.check(flagIf(opts.Record != "", "--record")); err != nil {
				return err
			}
			switch {
			case opts.Repeat < 1:
				return usageErrorf("--repeat must be at least 1")
			case opts.Parallel < 1:
				return usageErrorf("--parallel must be at least 1")
			case opts.Timeout < 0:
				return usageErrorf("--timeout must be positive")
			}
			if opts.Fault != "" {
				if _, err := collector.ParseFaultMode(opts.Fault); err != nil {
					return usageErrorf("--fault: %v", err)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return minimizeRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Repeat, "repeat", 3, "consecutive successes that accept a removal, and trials that confirm each member")
	f.IntVar(&opts.Parallel, "parallel", 1, "trials to run side by side, each in its own sandbox")
	f.IntVar(&opts.MaxAlternatives, "max-alternatives", 4, "substitutes to look for per member of the minimal set (0: none)")
	f.StringVar(&opts.Fault, "fault", "", "how denied attempts fail: reject|blackhole (default: the scenario's)")
	f.DurationVar(&opts.Timeout, "timeout", 0, "bound each trial's runbook and validation (default: the scenario's)")
	addEnumFlag(cmd, &opts.Driver, "driver", "", "sandbox driver", sandbox.List()...)
	addAccelFlag(cmd, &opts.Accel)
	f.StringVar(&opts.UpstreamNetNS, "upstream-netns", "", "network namespace the sandboxes leak back to (default: the scenario's)")
	f.StringVar(&opts.Release, "release", "", "release label for the records")
	f.StringVar(&opts.Record, "record", "", "write the minimization record (JSON) to `FILE`")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "report progress on stderr even when it is not a terminal")
	addBatchFlags(cmd, &opts.Batch)
	addOutputFlag(cmd, &opts.Output, "text", "json")
	return cmd
}

func minimizeRun(ctx context.Context, opts *minimizeOptions) error {
	driver, err := lookupDriver(opts.Driver, opts.Accel)
	if err != nil {
		return err
	}
	env := opts.Env
	// Reap what killed runs left once, rather than in every trial, where
	// parallel trials would race for it.
	prog := env.progress(opts.Quiet, opts.Verbose)
	defer prog.done()
	if _, err := opts.GC(ctx, sandbox.GCOptions{}); err != nil && !errors.Is(err, sandbox.ErrPermission) {
		prog.warn("reaping dead runs: %v", err)
	}
	rep := &minimizeReporter{p: prog}
	if opts.Batch.Out != "" {
		return runBatch(ctx, env, &opts.Batch, batchJob{
			verb: "minimize",
			kind: collector.KindMinimization,
			do: func(ctx context.Context, sc *sandbox.Scenario) (*collector.Record, error) {
				res, rec, err := minimizeScenario(ctx, opts, sc, driver, rep)
				switch {
				case err != nil:
					return nil, err
				case res.Interrupted:
					return nil, &interruptedError{fmt.Sprintf("minimizing %s; its record was not written", sc.Name)}
				}
				return rec, nil
			},
		}, opts.Output, prog)
	}
	key, err := readSignKey(opts.Batch.SignKey)
	if err != nil {
		return err
	}
	sc, err := sandbox.LoadScenario(opts.Scenario)
	if err != nil {
		return err
	}
	start := env.Now()
	res, rec, err := minimizeScenario(ctx, opts, sc, driver, rep)
	if err != nil {
		return err
	}
	recErr := res.recErr
	if opts.Record != "" {
		if recErr != nil {
			return recErr
		}
		if err := collector.WriteFile(opts.Record, rec, key); err != nil {
			return err
		}
	}
	if opts.Output == "json" {
		if recErr != nil {
			return recErr
		}
		if err := collector.Encode(env.Out, rec); err != nil {
			return err
		}
	} else if err := render.Minimize(env.Out, env.Terminal(), minimizeReport(sc, res.Result, opts.Parallel, env.Now().Sub(start))); err != nil {
		return err
	}
	if res.Interrupted {
		return &interruptedError{"printed the smallest allowlist known to pass so far"}
	}
	return nil
}

// minimizeResult is a minimization's result and, when it could be made,
// its record.
type minimizeResult struct {
	*minimize.Result
	recErr error
}

// minimizeScenario minimizes one scenario and returns the result and its
// record, with provenance. A scenario that does not recover with
// everything allowed gives an error with exit status 5; when the record
// cannot be made (an interrupted search, say) rec is nil and the result
// says why.
func minimizeScenario(ctx context.Context, opts *minimizeOptions, sc *sandbox.Scenario, driver sandbox.Driver, rep *minimizeReporter) (minimizeResult, *collector.Record, error) {
	env := opts.Env
	oracle := &sandboxOracle{sc: sc, run: opts.Run, opts: sandbox.Options{
		Fault:         collector.FaultMode(opts.Fault),
		Timeout:       opts.Timeout,
		UpstreamNetNS: opts.UpstreamNetNS,
		Release:       opts.Release,
		Driver:        driver,
		NoGC:          true,
		Progress: func(e sandbox.Event) {
			if e.Kind == sandbox.EventWarning {
				rep.warn(e.Err)
			}
		},
	}}
	maxAlt := opts.MaxAlternatives
	if maxAlt == 0 {
		maxAlt = -1 // minimize reads 0 as its default
	}
	start := env.Now()
	stamp := start.UTC().Format("20060102T150405Z")
	res, err := minimize.Minimize(ctx, oracle, minimize.Options{
		Repeat:          opts.Repeat,
		Parallel:        opts.Parallel,
		Candidates:      append(append(collector.Allowlist{}, sc.Allow...), sc.Soft...),
		Catalog:         sc.Catalog,
		MaxAlternatives: maxAlt,
		TrialPrefix:     "trial-" + sc.Service + "-" + stamp,
		Progress:        rep.progress,
		Now:             env.Now,
	})
	rep.done()
	if err != nil {
		if errors.Is(err, minimize.ErrNotRecovered) {
			return minimizeResult{}, nil, &notRecoveredError{fmt.Errorf("scenario %s: %w", sc.Name, err)}
		}
		return minimizeResult{}, nil, fmt.Errorf("minimizing scenario %s: %w", sc.Name, err)
	}
	// The stamp alone could repeat when shards on many machines minimize
	// scenarios of one service at once; four random bytes make the ID
	// unique in practice.
	var salt [4]byte
	_, _ = rand.Read(salt[:])
	rec, recErr := res.Record("min-" + sc.Service + "-" + stamp + "-" + hex.EncodeToString(salt[:]))
	if recErr == nil {
		rec.Provenance = provenance(env, opts.Batch.Job, "")
	}
	return minimizeResult{res, recErr}, rec, nil
}

// sandboxOracle runs each trial with [sandbox.Run] in a fresh sandbox, the
// scenario's allowlist replaced by the trial's.
type sandboxOracle struct {
	sc   *sandbox.Scenario
	opts sandbox.Options
	run  func(context.Context, *sandbox.Scenario, sandbox.Options) (*collector.Record, error)
}

// Try implements minimize.Oracle.
func (o *sandboxOracle) Try(ctx context.Context, t minimize.Trial) (minimize.Outcome, error) {
	so := o.opts
	allow := append(collector.Allowlist{}, t.Allow...)
	so.Allow = &allow
	rec, err := o.run(ctx, o.sc, so)
	if err != nil {
		return minimize.Outcome{}, err
	}
	return minimize.Outcome{Recovered: rec.Outcome.Recovered, Record: rec, Duration: rec.Outcome.Duration.Std()}, nil
}

// minimizeReporter reports a minimization's trials as progress: the
// status line on a terminal, a line whenever a trial ends or the plan
// changes with -v.
type minimizeReporter struct {
	p    *progress
	last minimize.Progress
}

func (r *minimizeReporter) progress(p minimize.Progress) {
	size := "none yet"
	if p.Size >= 0 {
		size = fmt.Sprintf("%d of %d", p.Size, p.Candidates)
	}
	line := fmt.Sprintf("minimize: %s pass, trial %d of ~%d (%d running), smallest passing set %s candidates, %v",
		p.Phase, p.Done, p.Planned, p.Running, size, p.Elapsed.Round(time.Second))
	if p.Done != r.last.Done || p.Phase != r.last.Phase || p.Planned != r.last.Planned {
		r.p.event("%s", line)
		r.last = p
		return
	}
	r.p.status("%s", line)
}

// warn prints a sandbox warning on a line of its own.
func (r *minimizeReporter) warn(err error) { r.p.warn("%v", err) }

// done ends the progress line on a terminal.
func (r *minimizeReporter) done() { r.p.done() }

// minimizeReport is what render shows of a minimization: the allowlist
// to paste into the scenario (the minimal set in allow, with the other
// members of its alternative groups; what was attempted but not needed in
// soft) and every candidate's class and evidence.
func minimizeReport(sc *sandbox.Scenario, res *minimize.Result, parallel int, took time.Duration) render.MinimizeReport {
	r := render.MinimizeReport{
		Scenario: sc.Name, Service: sc.Service, Interrupted: res.Interrupted,
		Runs: res.Runs(), Observe: res.RunsIn(minimize.PhaseObserve), Search: res.RunsIn(minimize.PhaseSearch), Confirm: res.RunsIn(minimize.PhaseConfirm),
		Took: took, Repeat: res.Repeat, Parallel: parallel, Algorithm: res.Algorithm, Confidence: res.ConfidenceNote,
		Absent: res.Absent,
	}
	minimal := map[string]bool{}
	for _, c := range res.Minimal {
		minimal[c.String()] = true
	}
	members := map[int][]string{} // alternative group -> capabilities
	for _, c := range res.Candidates {
		if c.Class == collector.Alternative {
			members[c.Group] = append(members[c.Group], c.Capability.String())
		}
	}
	others := func(c minimize.Candidate) string {
		var o []string
		for _, m := range members[c.Group] {
			if m != c.Capability.String() {
				o = append(o, m)
			}
		}
		return strings.Join(o, ", ")
	}
	for _, c := range res.Candidates {
		text := c.Capability.String()
		switch {
		case minimal[text] && c.Class == collector.Alternative:
			r.Allow = append(r.Allow, fmt.Sprintf("%s  # or %s (alternatives, group %d)", text, others(c), c.Group))
		case minimal[text]:
			r.Allow = append(r.Allow, text)
		case c.Class == collector.Alternative:
			r.Soft = append(r.Soft, fmt.Sprintf("%s  # alternative to %s (group %d)", text, others(c), c.Group))
		case c.Origin == minimize.Listed:
			r.Never = append(r.Never, text)
		default:
			r.Soft = append(r.Soft, text)
		}
		ev := ""
		if n := len(c.Trials); n > 0 {
			ev = fmt.Sprintf("%d trials, first %s", n, c.Trials[0])
		}
		r.Candidates = append(r.Candidates, render.MinimizeCandidate{Class: string(c.Class), Group: c.Group,
			Capability: text, Origin: string(c.Origin), Evidence: ev})
	}
	return r
}
