package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/render"
)

// cyclesOptions are the parsed flags of rgraph cycles and what it needs.
type cyclesOptions struct {
	analysisFlags
	MaxLen   int
	Limit    int
	MaxCuts  int
	ExitCode bool
	Output   string
	Scale    float64

	Env       *Env
	OpenStore openStoreFunc
}

func newCyclesCmd(env *Env, g *globalOptions, runF func(context.Context, *cyclesOptions) error) *cobra.Command {
	opts := &cyclesOptions{Env: env, OpenStore: storeReader(env, g)}
	cmd := &cobra.Command{
		Use:   "cycles",
		Short: "List bootstrap cycles and which edge to cut",
		Long: `Cycles finds every bootstrap knot in a release: each strongly connected
component of more than one service, and each service that needs itself.
For each it shows one shortest witness cycle (every edge with its kind and
evidence), a canonical cycle ID that does not depend on where the cycle is
started, and ranked suggestions of edges to cut (soft edges are cheapest,
hard ones most expensive; exact for small components).

All elementary cycles are never enumerated unbounded: --max-len and
--limit ask for a bounded listing per component.`,
		Example: `  rgraph cycles
  rgraph cycles --release 2026-11 --kinds hard,soft -o json
  rgraph cycles --max-len 4 --limit 20
  rgraph cycles -o svg > cycles.svg
  rgraph cycles --exit-code   # exit 3 when any cycle exists`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.MaxLen < 0 || opts.Limit < 0 {
				return usageErrorf("--max-len and --limit must not be negative")
			}
			if err := checkPNG(cmd, env, opts.Scale, opts.Output, true); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return cyclesRun(cmd.Context(), opts)
		},
	}
	addAnalysisFlags(cmd, &opts.analysisFlags)
	cmd.Flags().IntVar(&opts.MaxLen, "max-len", 0, "list elementary cycles of at most this many edges per component")
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "list at most this many elementary cycles per component")
	cmd.Flags().IntVar(&opts.MaxCuts, "max-cuts", 0, "cut suggestions per component (default 3)")
	cmd.Flags().BoolVar(&opts.ExitCode, "exit-code", false, "exit with status 3 when any cycle exists")
	addOutputFlag(cmd, &opts.Output, "text", "json", "dot", "svg", "png")
	addScaleFlag(cmd, &opts.Scale)
	return cmd
}

func cyclesRun(ctx context.Context, opts *cyclesOptions) error {
	in, err := loadForAnalysis(ctx, &opts.analysisFlags, opts.OpenStore, 0)
	if err != nil {
		return err
	}
	comps := graph.Cycles(in.Graph, graph.CycleOptions{
		Kinds: in.Kinds, MaxLen: opts.MaxLen, Limit: opts.Limit, MaxCuts: opts.MaxCuts,
	})
	env := opts.Env
	switch opts.Output {
	case "json":
		err = render.CyclesJSON(env.Out, comps)
	case "dot", "svg", "png":
		err = writeDrawing(ctx, env.Out, opts.Output, opts.Scale, func(w io.Writer) error {
			return render.DOT(w, in.Graph, render.DOTOptions{
				Title:      fmt.Sprintf("bootstrap cycles in %s", in.Release.Name),
				Kinds:      in.Kinds,
				Components: comps,
				CyclesOnly: true,
			})
		})
	default:
		if err = writeAbout(env, in); err == nil {
			err = render.Cycles(env.Out, terminal(env), comps)
		}
	}
	if err != nil {
		return err
	}
	if opts.ExitCode && len(comps) > 0 {
		return &findingsError{len(comps), "bootstrap cycle(s) in release " + in.Release.Name}
	}
	return nil
}
