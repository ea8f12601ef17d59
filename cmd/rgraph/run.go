package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/ingest"
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
	UpstreamNetNS string
	Allow         []string
	Check         bool
	Ingest        bool
	Release       string
	Docs          string
	Output        string
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
	f.StringVar(&opts.UpstreamNetNS, "upstream-netns", "", "network namespace the sandbox leaks back to (default: the scenario's; host for rgraph's own)")
	f.StringArrayVar(&opts.Allow, "allow", nil, "replace the allowlist with these capabilities (repeatable; none allows nothing; see docs/scenarios.md)")
	f.BoolVar(&opts.Check, "check", false, "exit 6 when the run attempted anything outside the committed allowlist")
	f.BoolVar(&opts.Ingest, "ingest", false, "add the record to the store's release given by --release")
	f.StringVar(&opts.Release, "release", "", "release label for the record (and the release --ingest adds it to)")
	f.StringVar(&opts.Docs, "docs", "", "when the scenario recovers, regenerate the recovery documentation site in `DIR` (see rgraph docs)")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "report progress on stderr even when it is not a terminal")
	addBatchFlags(cmd, &opts.Batch)
	addOutputFlag(cmd, &opts.Output, "text", "json")
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
	driver, err := sandbox.Lookup(opts.Driver)
	if err != nil {
		return usageErrorf("--driver: %v", err)
	}
	rep := &runReporter{env: opts.Env, progress: !opts.Quiet && (opts.Verbose || opts.Env.ErrTTY)}
	if opts.Batch.Out != "" {
		return runBatch(ctx, opts.Env, &opts.Batch, batchJob{
			verb:  "run",
			kind:  collector.KindRun,
			check: opts.Check,
			do: func(ctx context.Context, sc *sandbox.Scenario) (*collector.Record, error) {
				return opts.Run(ctx, sc, opts.sandboxOptions(driver, rep))
			},
		}, opts.Output, opts.Quiet)
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
		if err := writeRecord(opts.Record, rec, key); err != nil {
			return err
		}
	}
	if opts.Ingest {
		if err := ingestRecord(ctx, opts, sc, rec); err != nil {
			return fmt.Errorf("run %s finished, but adding its record to release %q failed: %w", rec.ID, opts.Release, err)
		}
	}
	if opts.Docs != "" && rec.Outcome.Recovered && !(opts.Check && len(creep) > 0) {
		if err := refreshDocs(ctx, opts.Env, opts.OpenStore, opts.Docs, rec); err != nil {
			return fmt.Errorf("run %s recovered, but refreshing the docs in %s failed: %w", rec.ID, opts.Docs, err)
		}
	}
	if opts.Output == "json" {
		if err := collector.Encode(opts.Env.Out, rec); err != nil {
			return err
		}
	} else {
		writeRunSummary(opts.Env.Out, sc, rec, committed, creep, opts.Check, rep.kept)
	}
	switch {
	case !rec.Outcome.Recovered:
		return &notRecoveredError{}
	case opts.Check && len(creep) > 0:
		return &creepError{}
	}
	return nil
}

// runReporter prints progress on stderr and remembers what the summary
// needs from the events.
type runReporter struct {
	env      *Env
	progress bool
	kept     *sandbox.Kept
}

func (r *runReporter) event(e sandbox.Event) {
	if e.Kind == sandbox.EventKept {
		k := e.Kept
		r.kept = &k
	}
	if e.Kind == sandbox.EventWarning {
		fmt.Fprintf(r.env.ErrOut, "rgraph: warning: %v\n", e.Err)
		return
	}
	if !r.progress {
		return
	}
	w := r.env.ErrOut
	switch e.Kind {
	case sandbox.EventReaped:
		runs := map[string]bool{}
		for _, l := range e.Leftovers {
			runs[l.RunID] = true
		}
		fmt.Fprintf(w, "rgraph: reaped the leftovers of %d dead run(s)\n", len(runs))
	case sandbox.EventSetup:
		fmt.Fprintf(w, "rgraph: sandbox %s ready in %v\n", e.RunID, round(e.Duration))
	case sandbox.EventStepStart:
		fmt.Fprintf(w, "rgraph: step %d/%d %s\n", e.Index, e.Total, e.Name)
	case sandbox.EventStepDone:
		fmt.Fprintf(w, "rgraph: step %d/%d %s: %s in %v\n", e.Index, e.Total, e.Name, stepStatus(e.Result), round(e.Result.Duration.Std()))
	case sandbox.EventValidating:
		if e.Try == 1 {
			fmt.Fprintf(w, "rgraph: validating\n")
		}
	case sandbox.EventValidated:
		fmt.Fprintf(w, "rgraph: validation %s after %d tries\n", stepStatus(e.Result), e.Result.Tries)
	case sandbox.EventTeardown:
		fmt.Fprintf(w, "rgraph: sandbox %s removed in %v\n", e.RunID, round(e.Duration))
	}
}

func stepStatus(s collector.StepResult) string {
	switch {
	case s.TimedOut:
		return "timed out"
	case s.ExitCode == 0:
		return "ok"
	case s.ExitCode < 0:
		return "killed"
	}
	return fmt.Sprintf("exit %d", s.ExitCode)
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}

// writeRunSummary prints what a run did: steps, validation, attempts
// with the service each one reaches, creep, and the verdict last.
func writeRunSummary(out io.Writer, sc *sandbox.Scenario, rec *collector.Record, committed collector.Rules, creep []collector.Attempt, check bool, kept *sandbox.Kept) {
	fmt.Fprintf(out, "scenario %s (service %s), run %s, driver %s, fault %s\n", rec.Scenario, rec.Service, rec.ID, rec.Driver, rec.FaultMode)
	allow := rec.Allowlist.String()
	if allow == "" {
		allow = "nothing"
	}
	fmt.Fprintf(out, "allowed: %s\n\n", allow)

	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tSTATUS\tTIME\tCOMMAND")
	for _, s := range rec.Outcome.Steps {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", s.Name, stepStatus(s), round(s.Duration.Std()), oneLine(s.Command))
	}
	v := rec.Outcome.Validation
	status := stepStatus(v)
	if v.Tries == 0 {
		status = "not run"
	} else if v.Tries > 1 {
		status += fmt.Sprintf(" (%d tries)", v.Tries)
	}
	fmt.Fprintf(tw, "validation\t%s\t%v\t%s\n", status, round(v.Duration.Std()), oneLine(v.Command))
	tw.Flush()
	if !rec.Outcome.Recovered && strings.TrimSpace(v.Output) != "" {
		fmt.Fprintf(out, "\nvalidation output:\n%s\n", indent(lastLines(v.Output, 8)))
	}

	fmt.Fprintf(out, "\nattempts (%d):\n", len(rec.Attempts))
	if len(rec.Attempts) > 0 {
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  VERDICT\tDESTINATION\tSERVICE\tPROCESS\tCOUNT\tFAILURE")
		rules, _ := sc.Catalog.Expand(rec.Allowlist)
		absent := 0
		for _, a := range rec.Attempts {
			dest := a.Endpoint()
			if a.Protocol == collector.DNS {
				dest += " " + a.DNSType
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\n", a.Verdict, dest, blamed(sc.Catalog, rules, a), a.Process.Comm, a.Count, attemptFailure(a))
			if a.Absent() {
				absent++
			}
		}
		tw.Flush()
		if absent > 0 {
			fmt.Fprintf(out, "  (%d absent upstream: nothing is there in production, so no dependency)\n", absent)
		}
	}
	if c := rec.Collection; !c.Complete || len(c.NotRecorded) > 0 {
		fmt.Fprintf(out, "\nrecording incomplete: %d lost", c.Lost)
		for _, n := range c.NotRecorded {
			fmt.Fprintf(out, "; not recorded: %s", n)
		}
		fmt.Fprintln(out)
	}
	if check {
		if len(creep) == 0 {
			fmt.Fprintln(out, "\ncheck: nothing attempted outside the committed allowlist (allow and soft)")
		} else {
			fmt.Fprintf(out, "\ncheck: %d attempt(s) outside the committed allowlist (allow and soft):\n", len(creep))
			for _, a := range creep {
				svc, ok := sc.Catalog.Resolve(a)
				hint := "not in the catalog"
				if ok {
					hint = "service:" + svc
				}
				dest := a.Endpoint()
				if a.Protocol == collector.DNS {
					dest += " " + a.DNSType
				}
				fmt.Fprintf(out, "  new: %s by %s (%s)\n", dest, a.Process.Comm, hint)
			}
		}
	}
	if kept != nil {
		fmt.Fprintf(out, "\nkept sandbox %s; enter it with:\n  %s\n", kept.ID, kept.Enter)
		for _, n := range kept.Notes {
			fmt.Fprintf(out, "  %s\n", n)
		}
	}
	verdict := "RECOVERED"
	if !rec.Outcome.Recovered {
		verdict = "NOT RECOVERED"
	}
	fmt.Fprintf(out, "\n%s in %v", verdict, round(rec.Outcome.Duration.Std()))
	if rec.Outcome.Error != "" {
		fmt.Fprintf(out, ": %s", rec.Outcome.Error)
	}
	fmt.Fprintln(out)
}

// ingestRecord adds rec to release opts.Release (see ingest.Store.AddRecord).
func ingestRecord(ctx context.Context, opts *runOptions, sc *sandbox.Scenario, rec *collector.Record) error {
	return withStore(ctx, opts.OpenStore, func(s *ingest.Store) error {
		sum, err := s.AddRecord(ctx, opts.Release, rec, sc.Catalog)
		if err != nil {
			return err
		}
		if !opts.Quiet {
			fmt.Fprintf(opts.Env.ErrOut, "rgraph: %s\n", ingestLine(sum))
		}
		return nil
	})
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return s
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// blamed names what an attempt of a run reaches, for the attempts table:
// the catalog service of its target, or "-"; for a DNS question denied
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
	return "-"
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
	return dash(strings.Join(parts, ", "))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
