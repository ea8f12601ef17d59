package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/render"
)

// orderOptions are the parsed flags of rgraph order and what it needs.
type orderOptions struct {
	analysisFlags
	Targets         []string
	Down            []string
	MaxParallel     int
	DefaultDuration time.Duration
	Output          string
	Scale           float64

	Env       *Env
	OpenStore openStoreFunc
}

func newOrderCmd(env *Env, g *globalOptions, runF func(context.Context, *orderOptions) error) *cobra.Command {
	opts := &orderOptions{Env: env, OpenStore: storeReader(env, g)}
	cmd := &cobra.Command{
		Use:   "order",
		Short: "Recovery sequence in parallel waves, with the critical path",
		Long: `Order plans recovery from empty hardware as waves of services that can
recover in parallel. Wave 0 holds what needs nothing; a service's wave is
one more than the latest wave among what it needs. Services that need each
other (a bootstrap cycle) are placed together in one wave as a jumpstart
group, flagged: they need a manual bootstrap step.

A service that needs any one of a group of alternatives (two nameservers,
say) waits for one member: the one that recovers earliest, then the first
by name; the plan says which and why. An alternative breaks a bootstrap
cycle when another member recovers without a jumpstart.

Only catalog services are recovered: endpoints no catalog service owns (a
socket path, a DNS name, an address) are listed apart as unowned, with the
records that mention them, and nothing waits for them.

The critical path is the chain of needs with the longest total recovery
time, from measured runs, the catalog's estimates, or --default-duration.
Runbook steps, from each service's newest passing run, are printed as
typed and never cut; where a plain (piped) record cannot hold one, it is
marked abbreviated, and -o json or -o md has it whole.`,
		Example: `  rgraph order
  rgraph order --target web
  rgraph order --down config,web --max-parallel 2
  rgraph order -o json | jq '.waves[].services'
  rgraph order -o md > runbook.md`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.MaxParallel < 0 {
				return usageErrorf("--max-parallel must not be negative")
			}
			if err := checkPNG(cmd, env, opts.Scale, opts.Output, true); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return orderRun(cmd.Context(), opts)
		},
	}
	addAnalysisFlags(cmd, &opts.analysisFlags)
	cmd.Flags().StringSliceVar(&opts.Targets, "target", nil, "plan only what this service transitively needs (repeatable)")
	cmd.Flags().StringSliceVar(&opts.Down, "down", nil, "services that are down: recover only these and what they need (comma-separated)")
	cmd.Flags().IntVar(&opts.MaxParallel, "max-parallel", 0, "no wave wider than this many services (0: unlimited)")
	cmd.Flags().DurationVar(&opts.DefaultDuration, "default-duration", time.Minute, "recovery time assumed for services with no measured or estimated time")
	addOutputFlag(cmd, &opts.Output, "text", "json", "md", "dot", "svg", "png")
	addScaleFlag(cmd, &opts.Scale)
	return cmd
}

func orderRun(ctx context.Context, opts *orderOptions) error {
	in, err := loadForAnalysis(ctx, &opts.analysisFlags, opts.OpenStore, ingest.PartRecords|ingest.PartCatalog)
	if err != nil {
		return err
	}
	o, err := graph.RecoveryOrder(in.Graph, graph.OrderOptions{
		Kinds:           in.Kinds,
		Targets:         append(append([]string(nil), opts.Targets...), opts.Down...),
		MaxParallel:     opts.MaxParallel,
		DefaultDuration: opts.DefaultDuration,
	})
	if err != nil {
		return fmt.Errorf("release %s: %w", in.Release.Name, err)
	}
	runbooks := orderRunbooks(in.Records, in.Catalog, o)
	env := opts.Env
	switch opts.Output {
	case "json":
		return render.OrderJSON(env.Out, o, runbooks...)
	case "md":
		return render.OrderMarkdown(env.Out, in.Release.Name, o, runbooks...)
	case "dot", "svg", "png":
		g := in.Graph
		if targets := append(append([]string(nil), opts.Targets...), opts.Down...); len(targets) > 0 {
			if g, err = graph.Subgraph(g, targets, true); err != nil {
				return err
			}
		}
		return writeDrawing(ctx, env.Out, opts.Output, opts.Scale, func(w io.Writer) error {
			return render.DOT(w, g, render.DOTOptions{
				Title: fmt.Sprintf("recovery order of %s", in.Release.Name),
				Kinds: in.Kinds,
				Order: &o,
				Focus: append(append([]string(nil), opts.Targets...), opts.Down...),
			})
		})
	}
	if err := writeAbout(env, in); err != nil {
		return err
	}
	return buffered(env.Out, func(w io.Writer) error { return render.Order(w, terminal(env), o, runbooks...) })
}

// orderRunbooks returns, for each service in the plan that has a runbook
// among recs (see [ingest.ServiceRecords]), its steps exactly as typed and
// the run they come from: the same choice the docs site makes.
func orderRunbooks(recs []*collector.Record, cat *collector.Catalog, o graph.Order) []render.Runbook {
	planned := map[string]bool{}
	for _, wv := range o.Waves {
		for _, svc := range wv.Services {
			planned[svc] = true
		}
	}
	var out []render.Runbook
	for _, sv := range ingest.ByService(recs, cat) {
		if !planned[sv.Service] || sv.Runbook == nil || len(sv.Runbook.Outcome.Steps) == 0 {
			continue
		}
		rb := render.Runbook{Service: sv.Service, Source: "run " + sv.Runbook.ID + " (" + sv.Runbook.Scenario + ")"}
		for _, st := range sv.Runbook.Outcome.Steps {
			rb.Steps = append(rb.Steps, st.Command)
		}
		out = append(out, rb)
	}
	return out
}
