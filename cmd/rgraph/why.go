package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/render"
)

// whyOptions are the parsed flags of rgraph why and what it needs.
type whyOptions struct {
	analysisFlags
	From, To string
	All      bool
	Limit    int
	Output   string

	Env       *Env
	OpenStore openStoreFunc
}

func newWhyCmd(env *Env, g *globalOptions, runF func(context.Context, *whyOptions) error) *cobra.Command {
	opts := &whyOptions{Env: env, OpenStore: storeReader(env, g)}
	cmd := &cobra.Command{
		Use:   "why A B",
		Short: "Explain why service A needs service B",
		Long: `Why prints the shortest chain of needs from A to B, each edge with its kind
and the evidence for it (which run, which process, which endpoint or DNS
name); an edge to one of a group of alternatives names its group. --all
lists other chains too, shortest first.

When A does not need B over the kinds followed, that is the answer: why
says so and exits with status 7 (not 1, which is for failures), so a
script can ask "does A need B?" with the exit status alone.`,
		Example: `  rgraph why web coord
  rgraph why web coord --all --limit 5 -o json`,
		Args: argsUsage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.From, opts.To = args[0], args[1]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return whyRun(cmd.Context(), opts)
		},
	}
	addAnalysisFlags(cmd, &opts.analysisFlags)
	cmd.Flags().BoolVar(&opts.All, "all", false, "also list other chains")
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "with --all, at most this many chains (default 10)")
	addOutputFlag(cmd, &opts.Output, "text", "json")
	return cmd
}

func whyRun(ctx context.Context, opts *whyOptions) error {
	in, err := loadForAnalysis(ctx, &opts.analysisFlags, opts.OpenStore, 0)
	if err != nil {
		return err
	}
	paths, err := graph.Why(in.Graph, opts.From, opts.To, graph.WhyOptions{Kinds: in.Kinds, All: opts.All, Limit: opts.Limit})
	noPath := errors.Is(err, graph.ErrNoPath)
	if err != nil && !noPath {
		return fmt.Errorf("release %s: %w", in.Release.Name, err)
	}
	if opts.Output == "json" {
		err = render.WhyJSON(opts.Env.Out, opts.From, opts.To, paths)
	} else if err = writeAbout(opts.Env, in); err == nil {
		err = render.Why(opts.Env.Out, terminal(opts.Env), opts.From, opts.To, paths)
	}
	if err == nil && noPath {
		return &noPathError{}
	}
	return err
}
