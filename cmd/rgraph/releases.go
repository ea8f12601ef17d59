package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/ingest"
)

// releasesOptions are the parsed flags of rgraph releases and what it needs.
type releasesOptions struct {
	Output string

	Env       *Env
	OpenStore func() (*ingest.Store, error)
}

func newReleasesCmd(env *Env, g *globalOptions, runF func(context.Context, *releasesOptions) error) *cobra.Command {
	opts := &releasesOptions{Env: env, OpenStore: storeOpener(env, g)}
	cmd := &cobra.Command{
		Use:   "releases",
		Short: "List the stored releases, newest first",
		Long: `Releases lists the releases in the store, newest first, with the number of
services, unmapped endpoints, edges and records of each and the time it
was ingested (RFC 3339). Off a terminal the output is tab-separated, one
release a line, without a header.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return releasesRun(cmd.Context(), opts)
		},
	}
	addOutputFlag(cmd, &opts.Output, "text", "json")
	return cmd
}

func releasesRun(_ context.Context, opts *releasesOptions) error {
	var rs []ingest.Release
	err := withStore(opts.OpenStore, func(s *ingest.Store) (err error) {
		rs, err = s.Releases()
		return err
	})
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		return writeJSON(opts.Env, newReleasesJSON(rs))
	}
	env := opts.Env
	if !env.OutTTY {
		for _, r := range rs {
			fmt.Fprintf(env.Out, "%s\t%s\t%d\t%d\t%d\t%d\n", r.Name, r.Created.Format(time.RFC3339),
				r.Services, r.Endpoints, r.Edges, r.Records)
		}
		return nil
	}
	if len(rs) == 0 {
		fmt.Fprintln(env.ErrOut, "No releases yet; store one with 'rgraph ingest --release NAME FILE|DIR...'.")
		return nil
	}
	tw := tabwriter.NewWriter(env.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCREATED\tSERVICES\tENDPOINTS\tEDGES\tRECORDS")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", r.Name, r.Created.Format(time.RFC3339),
			r.Services, r.Endpoints, r.Edges, r.Records)
	}
	return tw.Flush()
}

// releasesJSON is rgraph releases -o json. Releases are sorted newest
// first, then by name.
type releasesJSON struct {
	SchemaVersion int           `json:"schemaVersion"`
	Releases      []releaseJSON `json:"releases"`
}

type releaseJSON struct {
	Name        string         `json:"name"`
	Created     time.Time      `json:"created"`
	Services    int            `json:"services"`
	Endpoints   int            `json:"endpoints"`
	Edges       int            `json:"edges"`
	EdgesByKind map[string]int `json:"edgesByKind"`
	Records     int            `json:"records"`
	Size        int64          `json:"size"`
}

func newReleasesJSON(rs []ingest.Release) releasesJSON {
	out := releasesJSON{SchemaVersion: 1, Releases: []releaseJSON{}}
	for _, r := range rs {
		out.Releases = append(out.Releases, releaseJSON{
			Name: r.Name, Created: r.Created, Services: r.Services, Endpoints: r.Endpoints,
			Edges: r.Edges, EdgesByKind: kindCounts(r.EdgesByKind), Records: r.Records, Size: r.Size,
		})
	}
	return out
}
