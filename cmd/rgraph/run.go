package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/render"
	"github.com/rgraph/rgraph/sandbox"
)

// runOptions are the parsed flags of rgraph run and what it needs.
type runOptions struct {
	Scenario      string
	Record        string
	Fault         string
	Timeout       time.Duration
	Keep          bool
	Driver        string
	Accel         string
	UpstreamNetNS string
	Allow         []string
	Check         bool
	Ingest        bool
	Release       string
	Docs          string
	Output        string
	Fields        []string
	Verbose       bool
	Quiet         bool
	Batch         batchFlags

	Env       *Env
	OpenStore openStoreFunc
	// Run runs the scenario; tests replace it.
	Run func(context.Context, *sandbox.Scenario, sandbox.Options) (*collector.Record, error)
}

func newRunCmd(env *Env, g *globalOptions, runF func(context.Context, *runOptions) error) *cobra.Command {
	opts := &runOptions{Env: env, OpenStore: storeWriter(env, g), Run: sandbox.Run}
	cmd := &cobra.Command{
		Use:   "run SCENARIO...",
		Short: "Run a recovery scenario in a sealed sandbox",
		Long: `Run builds a sealed sandbox (its own network namespace, cgroup and resolver,
with everything denied, loopback included, except the scenario's allowlist),
runs the scenario's runbook and validation inside it, records every attempt
with eBPF, and tears the sandbox down again, also on Ctrl-C.

The exit status is the verdict: 0 recovered, 5 not recovered, 6 with --check
when the run attempted anything outside the scenario's committed allowlist
(each new attempt is named), 4 without the privileges a sandbox needs.
The scenario format is in docs/scenarios.md; the run record written by
--record in docs/records.md.

With --out DIR it runs many scenarios (files, directories, patterns), one
after another, writing one record per scenario into DIR and skipping those
whose record is there already (--force runs them again). --shard I/N runs
only part I of N, so that a Slurm job array, a Kubernetes Indexed Job or a
CI matrix can spread the scenarios over many machines (--shard auto reads
the part from their environment). It ends with a summary, and its exit
status says whether every scenario recovered: 0 all did, 5 one did not, 6
with --check one attempted something outside its allowlist, 1 one could
not be run. See docs/scale.md.`,
		Example: `  rgraph run testdata/fleet/scenarios/web.yaml
  rgraph run --check --record web.json scenarios/web.yaml
  rgraph run --fault blackhole --timeout 30s scenarios/coord.yaml
  rgraph run --allow service:coord --allow unix:/run/logd.sock scenarios/config.yaml
  rgraph run --keep scenarios/ca.yaml    # then enter it as printed
  rgraph run --check --out records/ scenarios/
  rgraph run --out records/ --shard 2/8 'teams/*/scenarios/*.yaml'
  rgraph run --out /shared/records --shard auto scenarios/    # in a Slurm job array`,
		Args: argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Scenario, opts.Batch.Scenarios = args[0], args
			opts.Quiet = g.Quiet
			if err := opts.Batch.check(flagIf(opts.Record != "", "--record"), flagIf(opts.Keep, "--keep"),
				flagIf(opts.Ingest, "--ingest"), flagIf(opts.Docs != "", "--docs")); err != nil {
				return err
			}
			switch {
			case opts.Fault != "" && opts.Fault != string(collector.FaultReject) && opts.Fault != string(collector.FaultBlackhole):
				return usageErrorf("--fault: want reject or blackhole, got %q", opts.Fault)
			case opts.Timeout < 0:
				return usageErrorf("--timeout must be positive")
			case opts.Ingest && opts.Release == "":
				return usageErrorf("--ingest needs --release NAME")
			case opts.Release != "":
				if err := ingest.ValidReleaseName(opts.Release); err != nil {
					return usageErrorf("--release: %v", err)
				}
			}
			for _, a := range opts.Allow {
				if a == allowNone {
					if len(opts.Allow) > 1 {
						return usageErrorf("--allow none allows nothing: it cannot be combined with other capabilities")
					}
					continue
				}
				if _, err := collector.ParseCapability(a); err != nil {
					return usageErrorf("--allow %q: %v", a, err)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Record, "record", "", "write the run record (JSON) to `FILE`")
	f.StringVar(&opts.Fault, "fault", "", "how denied attempts fail: reject|blackhole (default: the scenario's)")
	f.DurationVar(&opts.Timeout, "timeout", 0, "bound the runbook and validation (default: the scenario's)")
	f.BoolVar(&opts.Keep, "keep", false, "leave the sandbox in place and print how to enter it")
	addEnumFlag(cmd, &opts.Driver, "driver", "", "sandbox driver", sandbox.List()...)
	addAccelFlag(cmd, &opts.Accel)
	f.StringVar(&opts.UpstreamNetNS, "upstream-netns", "", "network namespace the sandbox leaks back to (default: the scenario's; host for rgraph's own)")
	f.StringArrayVar(&opts.Allow, "allow", nil, "replace the allowlist with these capabilities (repeatable; none allows nothing; see docs/scenarios.md)")
	f.BoolVar(&opts.Check, "check", false, "exit 6 when the run attempted anything outside the committed allowlist, or its recording is incomplete")
	f.BoolVar(&opts.Ingest, "ingest", false, "add the record to the store's release given by --release")
	f.StringVar(&opts.Release, "release", "", "release label for the record (and the release --ingest adds it to)")
	f.StringVar(&opts.Docs, "docs", "", "when the scenario recovers, regenerate the recovery documentation site in `DIR` (see rgraph docs)")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "report progress on stderr even when it is not a terminal")
	addBatchFlags(cmd, &opts.Batch)
	addOutputFlag(cmd, &opts.Output, "text", "json")
	addFieldsFlag(cmd, &opts.Fields, render.AttemptColumns)
	return cmd
}

// allowNone is the --allow value that allows nothing at all.
const allowNone = "none"

// flagIf returns name when set, for batchFlags.check.
func flagIf(set bool, name string) string {
	if set {
		return name
	}
	return ""
}

// sandboxOptions are the sandbox options the flags ask for.
func (opts *runOptions) sandboxOptions(driver sandbox.Driver, rep *runReporter) sandbox.Options {
	so := sandbox.Options{
		Fault:         collector.FaultMode(opts.Fault),
		Timeout:       opts.Timeout,
		UpstreamNetNS: opts.UpstreamNetNS,
		Release:       opts.Release,
		Driver:        driver,
		Keep:          opts.Keep,
		Progress:      rep.event,
	}
	if len(opts.Allow) > 0 {
		al := collector.Allowlist{}
		for _, a := range opts.Allow {
			if a == allowNone {
				continue
			}
			c, _ := collector.ParseCapability(a) // validated with the flags
			al = append(al, c)
		}
		so.Allow = &al
	}
	return so
}

func runRun(ctx context.Context, opts *runOptions) error {
	driver, err := lookupDriver(opts.Driver, opts.Accel)
	if err != nil {
		return err
	}
	rep := &runReporter{p: opts.Env.progress(opts.Quiet, opts.Verbose)}
	defer rep.p.done()
	if opts.Batch.Out != "" {
		return runBatch(ctx, opts.Env, &opts.Batch, batchJob{
			verb:  "run",
			kind:  collector.KindRun,
			check: opts.Check,
			do: func(ctx context.Context, sc *sandbox.Scenario) (*collector.Record, error) {
				return opts.Run(ctx, sc, opts.sandboxOptions(driver, rep))
			},
		}, opts.Output, rep.p)
	}
	key, err := readSignKey(opts.Batch.SignKey)
	if err != nil {
		return err
	}
	sc, err := sandbox.LoadScenario(opts.Scenario)
	if err != nil {
		return err
	}
	committed, err := sc.Committed()
	if err != nil {
		return fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	rec, err := opts.Run(ctx, sc, opts.sandboxOptions(driver, rep))
	if err != nil {
		return err
	}
	rec.Provenance = provenance(opts.Env, opts.Batch.Job, "")
	creep := sandbox.Outside(rec.Attempts, committed)
	if opts.Record != "" {
		if err := collector.WriteFile(opts.Record, rec, key); err != nil {
			return err
		}
	}
	if opts.Ingest {
		if err := ingestRecord(ctx, opts, sc, rec); err != nil {
			return fmt.Errorf("run %s finished, but adding its record to release %q failed: %w", rec.ID, opts.Release, err)
		}
	}
	rep.p.done()
	t := opts.Env.Terminal()
	t.Fields = opts.Fields
	if opts.Output == "json" {
		if err := collector.Encode(opts.Env.Out, rec); err != nil {
			return err
		}
	} else if err := render.Run(opts.Env.Out, t, runReport(sc, rec, creep, opts.Check, rep.kept)); err != nil {
		return err
	}
	if opts.Docs != "" && rec.Outcome.Recovered && !(opts.Check && len(creep) > 0) {
		// The exit status is the run's verdict: a docs refresh that fails,
		// even by a panic, is reported and changes nothing else.
		if err := safeRefreshDocs(ctx, opts, rec); err != nil {
			fmt.Fprintf(opts.Env.ErrOut, "rgraph: run %s recovered, but refreshing the docs in %s failed: %v\n", rec.ID, opts.Docs, err)
		}
	}
	switch {
	case !rec.Outcome.Recovered:
		return &notRecoveredError{}
	case opts.Check && (len(creep) > 0 || !rec.Collection.Complete):
		return &creepError{}
	}
	return nil
}

// safeRefreshDocs is refreshDocs with a panic turned into an error.
func safeRefreshDocs(ctx context.Context, opts *runOptions, rec *collector.Record) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return refreshDocs(ctx, opts.Env, opts.OpenStore, opts.Docs, rec)
}

// runReporter reports a run's events as progress and remembers what the
// summary needs from them.
type runReporter struct {
	p    *progress
	kept *sandbox.Kept
}

func (r *runReporter) event(e sandbox.Event) {
	switch e.Kind {
	case sandbox.EventKept:
		k := e.Kept
		r.kept = &k
	case sandbox.EventWarning:
		r.p.warn("%v", e.Err)
	case sandbox.EventReaped:
		runs := map[string]bool{}
		for _, l := range e.Leftovers {
			runs[l.RunID] = true
		}
		r.p.event("reaped the leftovers of %s", render.Plural(len(runs), "dead run", "dead runs"))
	case sandbox.EventSetup:
		r.p.event("sandbox %s ready in %s", e.RunID, render.FormatDuration(e.Duration))
	case sandbox.EventStepStart:
		r.p.event("step %d/%d %s", e.Index, e.Total, e.Name)
	case sandbox.EventStepDone:
		r.p.event("step %d/%d %s: %s in %s", e.Index, e.Total, e.Name, sandbox.StepStatus(e.Result), render.FormatDuration(e.Result.Duration.Std()))
	case sandbox.EventValidating:
		if e.Try == 1 {
			r.p.event("validating")
		} else {
			r.p.status("validating, try %d", e.Try)
		}
	case sandbox.EventValidated:
		r.p.event("validation %s after %s", sandbox.StepStatus(e.Result), render.Plural(e.Result.Tries, "try", "tries"))
	case sandbox.EventTeardown:
		r.p.event("sandbox %s removed in %s", e.RunID, render.FormatDuration(e.Duration))
	}
}

// runReport is what render shows of a run: its record, with each attempt
// mapped to the catalog service that owns it, the creep (with check), the
// kept sandbox and, when it did not recover, what went wrong.
func runReport(sc *sandbox.Scenario, rec *collector.Record, creep []collector.Attempt, check bool, kept *sandbox.Kept) render.RunReport {
	rules, _ := sc.Catalog.Expand(rec.Allowlist)
	attempt := func(a collector.Attempt, service string) render.RunAttempt {
		dest := a.Endpoint()
		if a.Protocol == collector.DNS {
			dest += " " + a.DNSType
		}
		return render.RunAttempt{Verdict: string(a.Verdict), Destination: dest, Service: service, Process: a.Process.Comm, Count: a.Count, Failure: attemptFailure(a)}
	}
	step := func(s collector.StepResult) render.RunStep {
		return render.RunStep{Name: s.Name, Command: s.Command, Status: sandbox.StepStatus(s), Duration: s.Duration.Std(), Tries: s.Tries}
	}
	r := render.RunReport{
		Scenario: rec.Scenario, Service: rec.Service, ID: rec.ID, Driver: rec.Driver, Fault: string(rec.FaultMode),
		Allowed: rec.Allowlist.String(), Validation: step(rec.Outcome.Validation),
		Complete: rec.Collection.Complete, Lost: rec.Collection.Lost, NotRecorded: rec.Collection.NotRecorded,
		Check: check, Recovered: rec.Outcome.Recovered, Duration: rec.Outcome.Duration.Std(), Error: rec.Outcome.Error,
	}
	for _, s := range rec.Outcome.Steps {
		r.Steps = append(r.Steps, step(s))
	}
	for _, a := range rec.Attempts {
		r.Attempts = append(r.Attempts, attempt(a, blamed(sc.Catalog, rules, a)))
		if a.Absent() {
			r.Absent++
		}
	}
	for _, a := range creep {
		svc, _ := sc.Catalog.Resolve(a)
		r.Creep = append(r.Creep, attempt(a, svc))
	}
	for _, d := range sandbox.Diagnose(rec) {
		r.Diagnoses = append(r.Diagnoses, render.RunDiagnosis{Step: d.Step, Status: d.Status, Cause: d.Cause, Tail: d.Tail})
	}
	if kept != nil {
		r.Kept = &render.KeptSandbox{ID: kept.ID, Enter: kept.Enter, Notes: kept.Notes}
	}
	return r
}

// ingestRecord adds rec to release opts.Release (see ingest.Store.AddRecord).
func ingestRecord(ctx context.Context, opts *runOptions, sc *sandbox.Scenario, rec *collector.Record) error {
	return withStore(ctx, opts.OpenStore, func(s *ingest.Store) error {
		sum, err := s.AddRecord(ctx, opts.Release, rec, sc.Catalog)
		if err != nil {
			return err
		}
		if !opts.Quiet {
			fmt.Fprintf(opts.Env.ErrOut, "rgraph: %s\n", render.IngestLine(ingestDoc(sum)))
		}
		return nil
	})
}

// blamed names what an attempt of a run reaches, for the attempts table:
// the catalog service of its target, or ""; for a DNS question denied
// only because of its resolver, the resolver (its service or address).
func blamed(cat *collector.Catalog, rules collector.Rules, a collector.Attempt) string {
	suffix := ""
	if rules.DeniedForResolver(a) {
		a, suffix = a.ToResolver(), " (resolver)"
	}
	if svc, ok := cat.Resolve(a); ok {
		return svc + suffix
	}
	if suffix != "" {
		return a.Endpoint() + suffix
	}
	return ""
}

// attemptFailure is the FAILURE column: how the attempt failed, and
// whether its target is absent upstream (then it is no dependency).
func attemptFailure(a collector.Attempt) string {
	parts := []string{}
	if a.Failure != "" {
		parts = append(parts, a.Failure)
	}
	switch a.Upstream {
	case collector.UpstreamAbsent:
		parts = append(parts, "absent upstream")
	case collector.UpstreamRefused:
		parts = append(parts, "refused upstream")
	}
	return strings.Join(parts, ", ")
}
