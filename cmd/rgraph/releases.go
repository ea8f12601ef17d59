package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/render"
)

// releasesOptions are the parsed flags of rgraph releases and what it needs.
type releasesOptions struct {
	Output string

	Env       *Env
	OpenStore openStoreFunc
}

func newReleasesCmd(env *Env, g *globalOptions, runF func(context.Context, *releasesOptions) error) *cobra.Command {
	opts := &releasesOptions{Env: env, OpenStore: storeReader(env, g)}
	cmd := &cobra.Command{
		Use:   "releases",
		Short: "List the stored releases, newest first",
		Long: `Releases lists the releases in the store, newest first, with the number of
services, unmapped endpoints, edges and records of each and the time it
was ingested (RFC 3339). Off a terminal the output is tab-separated, one
release a line, without a header.`,
		Args: noArgs,
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

func releasesRun(ctx context.Context, opts *releasesOptions) error {
	var rs []ingest.Release
	err := withStore(ctx, opts.OpenStore, func(s *ingest.Store) (err error) {
		rs, err = s.Releases()
		return err
	})
	if err != nil {
		return err
	}
	env := opts.Env
	if opts.Output == "json" {
		docs := make([]render.ReleaseDoc, len(rs))
		for i, r := range rs {
			docs[i] = render.ReleaseDoc{Name: r.Name, Created: r.Created, Services: r.Services, Endpoints: r.Endpoints,
				Edges: r.Edges, EdgesByKind: render.KindCounts(r.EdgesByKind), Records: r.Records, Size: r.Size}
		}
		return render.ReleasesJSON(env.Out, docs)
	}
	t := terminal(env)
	if len(rs) == 0 && t.TTY {
		fmt.Fprintln(env.ErrOut, "No releases yet; store one with 'rgraph ingest --release NAME FILE|DIR...'.")
		return nil
	}
	rows := make([][]string, len(rs))
	for i, r := range rs {
		rows[i] = []string{r.Name, t.FormatTime(r.Created), strconv.Itoa(r.Services),
			strconv.Itoa(r.Endpoints), strconv.Itoa(r.Edges), strconv.Itoa(r.Records)}
	}
	return render.Table(env.Out, t, []string{"NAME", "CREATED", "SERVICES", "ENDPOINTS", "EDGES", "RECORDS"}, rows)
}
