package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/render"
)

// exportOptions are the parsed flags of rgraph export and what it needs.
type exportOptions struct {
	analysisFlags
	Output string

	Env       *Env
	OpenStore openStoreFunc
}

func newExportCmd(env *Env, g *globalOptions, runF func(context.Context, *exportOptions) error) *cobra.Command {
	opts := &exportOptions{Env: env, OpenStore: storeReader(env, g)}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write a release's edges as an edge list or JSON",
		Long: `Export writes the edges of a release. The default tsv output is the edge-list
format rgraph ingest reads (from<TAB>to<TAB>kind, sorted), so a release can
be moved between stores or edited and ingested again; json adds every
node with its type, owner, tier and recovery time, and each edge's
evidence. --kinds defaults to every kind here.`,
		Example: `  rgraph export > fleet.tsv
  rgraph export --release 2026-11 --kinds hard -o json | jq '.edges | length'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return exportRun(cmd.Context(), opts)
		},
	}
	addAnalysisFlags(cmd, &opts.analysisFlags)
	cmd.Flags().Lookup("kinds").DefValue = "all"
	opts.Kinds = "all"
	addOutputFlag(cmd, &opts.Output, "tsv", "json")
	return cmd
}

func exportRun(ctx context.Context, opts *exportOptions) error {
	in, err := loadForAnalysis(ctx, &opts.analysisFlags, opts.OpenStore, 0)
	if err != nil {
		return err
	}
	g := graph.Filter(in.Graph, in.Kinds)
	if opts.Output == "json" {
		return render.GraphJSON(opts.Env.Out, in.Release.Name, g)
	}
	return ingest.WriteEdges(opts.Env.Out, g)
}
