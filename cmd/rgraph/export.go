package main

import (
	"context"
	"time"

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
		Args: argsUsage(cobra.NoArgs),
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

// exportDoc is rgraph export -o json.
type exportDoc struct {
	Release string       `json:"release"`
	Nodes   []exportNode `json:"nodes"`
	Edges   []graph.Edge `json:"edges"`
}

type exportNode struct {
	Name                string         `json:"name"`
	Type                graph.NodeType `json:"type"`
	Owner               string         `json:"owner,omitempty"`
	Tier                string         `json:"tier,omitempty"`
	RecoveryTimeSeconds float64        `json:"recoveryTimeSeconds,omitempty"`
}

func exportRun(ctx context.Context, opts *exportOptions) error {
	in, err := loadForAnalysis(ctx, &opts.analysisFlags, opts.OpenStore, 0)
	if err != nil {
		return err
	}
	g := graph.Filter(in.Graph, in.Kinds)
	if opts.Output == "json" {
		doc := exportDoc{Release: in.Release.Name, Nodes: []exportNode{}, Edges: []graph.Edge{}}
		for v := int32(0); v < int32(g.Len()); v++ {
			info := g.Info(v)
			doc.Nodes = append(doc.Nodes, exportNode{Name: g.Name(v), Type: info.Type, Owner: info.Owner,
				Tier: info.Tier, RecoveryTimeSeconds: info.RecoveryTime.Round(time.Millisecond).Seconds()})
			lo, hi := g.OutRange(v)
			for e := lo; e < hi; e++ {
				doc.Edges = append(doc.Edges, g.EdgeOf(v, e))
			}
		}
		return render.JSON(opts.Env.Out, "graph", doc)
	}
	return ingest.WriteEdges(opts.Env.Out, g)
}
