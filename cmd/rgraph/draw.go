package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/render"
)

// drawOptions are the parsed flags of rgraph render and what it needs.
type drawOptions struct {
	analysisFlags
	CyclesOnly bool
	Targets    []string
	GroupBy    string
	Out        string
	Output     string
	Scale      float64

	Env       *Env
	OpenStore openStoreFunc
}

func newDrawCmd(env *Env, g *globalOptions, runF func(context.Context, *drawOptions) error) *cobra.Command {
	opts := &drawOptions{Env: env, OpenStore: storeReader(env, g)}
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Draw the recovery graph as DOT, SVG or PNG",
		Long: `Render draws a release's recovery graph: waves as ranks (wave 0 at the top),
bootstrap cycles highlighted, edge style by kind, an alternative the
recovery plan does not wait for drawn faintly, and a legend of what the
colours and line styles mean. Only edges of the --kinds are drawn; an
unmapped endpoint that only other kinds reach is left out, and the caption
says so. Large graphs stay legible: beyond a couple of hundred nodes,
unmapped endpoints are folded into the services that need them, edges
implied by longer chains are left out, and services are collapsed into
groups by owner, tier or wave.`,
		Example: `  rgraph render -o svg > fleet.svg
  rgraph render --cycles-only -o png --out cycles.png
  rgraph render --target web -o dot | dot -Tpdf > web.pdf`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkPNG(cmd, env, opts.Scale, opts.Output, opts.Out == ""); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return drawRun(cmd.Context(), opts)
		},
	}
	addAnalysisFlags(cmd, &opts.analysisFlags)
	cmd.Flags().BoolVar(&opts.CyclesOnly, "cycles-only", false, "draw only the bootstrap cycles")
	cmd.Flags().StringSliceVar(&opts.Targets, "target", nil, "draw only what this service transitively needs (repeatable)")
	addEnumFlag(cmd, &opts.GroupBy, "group-by", "", "cluster services by", "auto", "owner", "tier", "wave")
	cmd.Flags().StringVar(&opts.Out, "out", "", "write to this file instead of stdout")
	addOutputFlag(cmd, &opts.Output, "dot", "svg", "png")
	addScaleFlag(cmd, &opts.Scale)
	return cmd
}

var groupBy = map[string]render.GroupBy{
	"auto": render.GroupNone, "owner": render.GroupOwner, "tier": render.GroupTier, "wave": render.GroupWave,
}

func drawRun(ctx context.Context, opts *drawOptions) error {
	in, err := loadForAnalysis(ctx, &opts.analysisFlags, opts.OpenStore, 0)
	if err != nil {
		return err
	}
	g := in.Graph
	if len(opts.Targets) > 0 {
		if g, err = graph.Subgraph(g, opts.Targets, true); err != nil {
			return fmt.Errorf("release %s: %w", in.Release.Name, err)
		}
	}
	o, err := graph.RecoveryOrder(g, graph.OrderOptions{Kinds: in.Kinds})
	if err != nil {
		return err
	}
	dopts := render.DOTOptions{
		Title:      fmt.Sprintf("recovery graph of %s", in.Release.Name),
		Kinds:      in.Kinds,
		Order:      &o,
		Components: graph.Cycles(g, graph.CycleOptions{Kinds: in.Kinds, MaxCuts: -1}),
		CyclesOnly: opts.CyclesOnly,
		Focus:      opts.Targets,
		GroupBy:    groupBy[opts.GroupBy],
	}
	var w io.Writer = opts.Env.Out
	var f *os.File
	if opts.Out != "" {
		if f, err = os.Create(opts.Out); err != nil {
			return fmt.Errorf("writing drawing: %w", err)
		}
		w = f
	}
	err = writeDrawing(ctx, w, opts.Output, opts.Scale, func(w io.Writer) error { return render.DOT(w, g, dopts) })
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(opts.Out)
		}
	}
	return err
}
