package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/render"
)

func newRuntimeCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runtime",
		Short: "Import the runtime dependency graph a tracing system sees",
		Long: `Runtime keeps, beside each release's recovery graph, the runtime
dependency graph of the same fleet: which service called which while
healthy, as a tracing system saw it. 'rgraph compare' sets the two side by
side: what a service needs to recover differs from what it calls while
healthy, because caches and fallbacks hide dependencies.

Formats (docs/reports.md): Jaeger's /api/dependencies (and Zipkin's),
OpenTelemetry's service graph (the servicegraph connector's metrics as
OTLP/JSON, or a Prometheus query over them), and plain edge lists.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newRuntimeIngestCmd(env, g, nil), newRuntimeShowCmd(env, g, nil), newRuntimeDeleteCmd(env, g, nil))
	return cmd
}

// runtimeIngestOptions are the parsed flags of rgraph runtime ingest.
type runtimeIngestOptions struct {
	Release string
	Format  string
	Replace bool
	Paths   []string
	Output  string

	Env       *Env
	OpenStore openStoreFunc
}

func newRuntimeIngestCmd(env *Env, g *globalOptions, runF func(context.Context, *runtimeIngestOptions) error) *cobra.Command {
	opts := &runtimeIngestOptions{Env: env, OpenStore: storeWriter(env, g)}
	formats := make([]string, len(ingest.RuntimeFormats))
	for i, f := range ingest.RuntimeFormats {
		formats[i] = string(f)
	}
	cmd := &cobra.Command{
		Use:   "ingest --release NAME FILE...",
		Short: "Store a runtime dependency graph with a release",
		Long: `Ingest reads runtime dependency graphs and stores their union (call
counts summed) as the runtime graph of an existing release. FILE "-" reads
standard input. The format is recognised from the content unless --format
says it:

` + runtimeFormatHelp() + `
Every input is validated before anything is written: an error names the
file, line and field, and the store is unchanged. A release that has a
runtime graph keeps it unless --replace is given; re-ingesting the
release's recovery graph keeps it too.`,
		Example: `  curl -s 'http://jaeger:16686/api/dependencies?endTs='$(date +%s000)'&lookback=604800000' |
    rgraph runtime ingest --release 2026-11 -
  rgraph runtime ingest --release 2026-11 --format otlp servicegraph.jsonl
  rgraph runtime ingest --release 2026-11 --replace calls.tsv`,
		Args: argsUsage(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			switch {
			case opts.Release == "":
				return usageErrorf("--release is required")
			case len(args) == 0:
				return usageErrorf("nothing to ingest: give at least one FILE (or - for standard input)")
			}
			if err := ingest.ValidReleaseName(opts.Release); err != nil {
				return usageErrorf("--release: %v", err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runtimeIngestRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Release, "release", "", "release to attach the runtime graph to (required)")
	addEnumFlag(cmd, &opts.Format, "format", "", "input format", formats...)
	cmd.Flags().BoolVar(&opts.Replace, "replace", false, "replace the release's runtime graph if it has one")
	addOutputFlag(cmd, &opts.Output, "text", "json")
	return cmd
}

// runtimeFormatHelp lists the runtime graph formats with their
// descriptions, as ingest.RuntimeFormats and their Doc give them.
func runtimeFormatHelp() string {
	var b strings.Builder
	for _, f := range ingest.RuntimeFormats {
		if f.Doc() == "" { // auto
			continue
		}
		name := string(f)
		for _, line := range strings.Split(f.Doc(), "\n") {
			fmt.Fprintf(&b, "  %-10s  %s\n", name, line)
			name = ""
		}
	}
	return b.String()
}

func runtimeIngestRun(ctx context.Context, opts *runtimeIngestOptions) error {
	var inputs []ingest.Input
	stdin := false
	for _, p := range opts.Paths {
		if p != "-" {
			inputs = append(inputs, ingest.Input{Path: p})
			continue
		}
		if stdin {
			return usageErrorf("standard input (-) given twice")
		}
		stdin = true
		b, err := io.ReadAll(opts.Env.In)
		if err != nil {
			return fmt.Errorf("reading standard input: %w", err)
		}
		inputs = append(inputs, ingest.Input{Name: "stdin", Data: b})
	}
	rt, err := ingest.ParseRuntime(ctx, inputs, ingest.RuntimeOptions{Format: ingest.RuntimeFormat(opts.Format)})
	if err != nil {
		return fmt.Errorf("ingesting the runtime graph of %q: %w", opts.Release, err)
	}
	var info ingest.RuntimeInfo
	err = withStore(ctx, opts.OpenStore, func(s *ingest.Store) error {
		var err error
		info, err = s.PutRuntime(ctx, opts.Release, rt, ingest.PutOptions{Replace: opts.Replace})
		return err
	})
	switch {
	case errors.Is(err, ingest.ErrRuntimeExists):
		return fmt.Errorf("%w; use --replace to overwrite it", err)
	case errors.Is(err, ingest.ErrNotFound):
		return fmt.Errorf("%w; ingest the release's recovery graph first (rgraph ingest --release %s ...)", err, opts.Release)
	case err != nil:
		return fmt.Errorf("storing the runtime graph of %q: %w", opts.Release, err)
	}
	d := render.RuntimeIngestDoc{Release: info.Release, Created: info.Created, Inputs: info.Inputs, Edges: info.Edges, Services: info.Services, Size: info.Size}
	if opts.Output == "json" {
		return render.RuntimeIngestJSON(opts.Env.Out, d)
	}
	return render.RuntimeIngest(opts.Env.Out, d)
}

// runtimeShowOptions are the parsed flags of rgraph runtime show.
type runtimeShowOptions struct {
	Release string
	Output  string

	Env       *Env
	OpenStore openStoreFunc
}

func newRuntimeShowCmd(env *Env, g *globalOptions, runF func(context.Context, *runtimeShowOptions) error) *cobra.Command {
	opts := &runtimeShowOptions{Env: env, OpenStore: storeReader(env, g)}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print a release's runtime dependency graph",
		Long: `Show prints the runtime graph stored with a release, one edge per line:
caller, callee and call count (0 when the input gave none). Off a terminal
each line is "call<TAB>CALLER<TAB>CALLEE<TAB>CALLS".`,
		Example: `  rgraph runtime show
  rgraph runtime show --release 2026-11 -o json | jq '.edges | length'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runtimeShowRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Release, "release", "", "release (default: the newest)")
	addOutputFlag(cmd, &opts.Output, "text", "json")
	return cmd
}

func runtimeShowRun(ctx context.Context, opts *runtimeShowOptions) error {
	rt, err := loadRuntime(ctx, opts.OpenStore, opts.Release)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		return render.RuntimeJSON(opts.Env.Out, rt.Release, rt.Created, rt.Inputs, rt.Edges)
	}
	t := terminal(opts.Env)
	rows := make([][]string, len(rt.Edges))
	for i, e := range rt.Edges {
		rows[i] = []string{e.From, e.To, strconv.FormatUint(e.Calls, 10)}
		if !t.TTY {
			rows[i] = append([]string{"call"}, rows[i]...)
		}
	}
	return render.Table(opts.Env.Out, t, []string{"CALLER", "CALLEE", "CALLS"}, rows)
}

// loadRuntime reads the runtime graph of release name (the newest release
// when empty).
func loadRuntime(ctx context.Context, open openStoreFunc, name string) (*ingest.Runtime, error) {
	v, err := viewRelease(ctx, open, name, ingest.PartRuntime)
	if err != nil {
		return nil, err
	}
	if v.Runtime == nil {
		return nil, noRuntime(v.Release.Name)
	}
	return v.Runtime, nil
}

// runtimeDeleteOptions are the parsed flags of rgraph runtime delete.
type runtimeDeleteOptions struct {
	Release string

	Env       *Env
	OpenStore openStoreFunc
}

func newRuntimeDeleteCmd(env *Env, g *globalOptions, runF func(context.Context, *runtimeDeleteOptions) error) *cobra.Command {
	opts := &runtimeDeleteOptions{Env: env, OpenStore: storeWriter(env, g)}
	cmd := &cobra.Command{
		Use:   "delete --release NAME",
		Short: "Remove a release's runtime dependency graph",
		Long:  `Delete removes the runtime graph stored with a release; the release itself stays.`,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Release == "" {
				return usageErrorf("--release is required")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return withStore(cmd.Context(), opts.OpenStore, func(s *ingest.Store) error { return s.DeleteRuntime(opts.Release) })
		},
	}
	cmd.Flags().StringVar(&opts.Release, "release", "", "release whose runtime graph to remove (required)")
	return cmd
}

// compareOptions are the parsed flags of rgraph compare and what it needs.
type compareOptions struct {
	Release  string
	Kinds    string
	Services []string
	Output   string
	Fields   []string

	Env       *Env
	OpenStore openStoreFunc
}

func newCompareCmd(env *Env, g *globalOptions, runF func(context.Context, *compareOptions) error) *cobra.Command {
	opts := &compareOptions{Env: env, OpenStore: storeReader(env, g)}
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "Recovery graph vs runtime graph, service by service",
		Long: `Compare sets a release's recovery graph against its runtime graph (see
'rgraph runtime ingest') and shows, for each service, the dependencies
present only at recovery (needed to recover but never called while
healthy: hidden by caches and fallbacks, or used only at start-up), only
at runtime (called while healthy, not needed to recover; a soft recovery
edge says it was tried), and in both.

Recovery dependencies are the edges of the kinds given by --kinds (hard,
alternative and declared by default). Services are matched by name;
runtime services the recovery graph does not know are listed, since they
often mean the tracing system names a service differently. Edges to
unmapped endpoints are counted but not compared.`,
		Example: `  rgraph compare
  rgraph compare --release 2026-11 --service web -o json
  rgraph compare -o md > recovery-vs-runtime.md`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := graph.ParseKinds(opts.Kinds); err != nil {
				return usageErrorf("--kinds: %v", err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return compareRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Release, "release", "", "release to compare (default: the newest)")
	cmd.Flags().StringVar(&opts.Kinds, "kinds", graph.RecoveryKinds.String(), "recovery edge kinds that count as dependencies")
	_ = cmd.RegisterFlagCompletionFunc("kinds", completeKinds)
	cmd.Flags().StringSliceVar(&opts.Services, "service", nil, "compare only these services (repeatable)")
	addOutputFlag(cmd, &opts.Output, "text", "json", "md")
	addFieldsFlag(cmd, &opts.Fields, render.CompareColumns)
	return cmd
}

func compareRun(ctx context.Context, opts *compareOptions) error {
	kinds, err := graph.ParseKinds(opts.Kinds)
	if err != nil {
		return usageErrorf("--kinds: %v", err)
	}
	v, err := viewRelease(ctx, opts.OpenStore, opts.Release, ingest.PartGraph|ingest.PartRuntime)
	if err != nil {
		return err
	}
	g, rt, rel := v.Graph, v.Runtime, v.Release
	if rt == nil {
		return noRuntime(rel.Name)
	}
	var unknown []string
	for _, s := range opts.Services {
		if _, ok := g.ID(s); !ok && !rt.Has(s) {
			unknown = append(unknown, s)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("--service: %w in either graph of release %s", &graph.UnknownServiceError{Names: unknown}, rel.Name)
	}
	r := render.CompareReport{Release: rel.Name, Runtime: rt.Inputs, Kinds: kinds,
		Comparison: graph.Compare(g, rt.Edges, graph.CompareOptions{Kinds: kinds, Services: opts.Services})}
	switch opts.Output {
	case "json":
		return render.CompareJSON(opts.Env.Out, r)
	case "md":
		return render.CompareMarkdown(opts.Env.Out, r)
	}
	t := terminal(opts.Env)
	t.Fields = opts.Fields
	return render.Compare(opts.Env.Out, t, r)
}
