package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/render"
)

// releasesOptions are the parsed flags of rgraph releases and what it needs.
type releasesOptions struct {
	Output string

	Fields    []string
	Env       *Env
	OpenStore openStoreFunc
}

// releaseColumns are the columns of the releases table.
var releaseColumns = []string{"NAME", "CREATED", "SERVICES", "ENDPOINTS", "EDGES", "RECORDS"}

func newReleasesCmd(env *Env, g *globalOptions, runF func(context.Context, *releasesOptions) error) *cobra.Command {
	opts := &releasesOptions{Env: env, OpenStore: storeReader(env, g)}
	cmd := &cobra.Command{
		Use:   "releases",
		Short: "List the stored releases, newest first",
		Long: `Releases lists the releases in the store, newest first, with the number of
services, unmapped endpoints, edges and records of each and the time it
was ingested (RFC 3339). Off a terminal the output is tab-separated, one
release a line, without a header. Commands without --release read the
newest release. 'rgraph releases delete NAME' deletes one.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return releasesRun(cmd.Context(), opts)
		},
	}
	addOutputFlag(cmd, &opts.Output, "text", "json")
	addFieldsFlag(cmd, &opts.Fields, releaseColumns)
	cmd.AddCommand(newReleasesDeleteCmd(env, g, nil))
	return cmd
}

// releasesDeleteOptions are the parsed flags of rgraph releases delete.
type releasesDeleteOptions struct {
	Names []string
	Yes   bool

	Env       *Env
	Quiet     bool
	OpenStore openStoreFunc
}

func newReleasesDeleteCmd(env *Env, g *globalOptions, runF func(context.Context, *releasesDeleteOptions) error) *cobra.Command {
	opts := &releasesDeleteOptions{Env: env, OpenStore: storeWriter(env, g)}
	cmd := &cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete releases and their runtime graphs from the store",
		Long: `Delete removes the named releases, with their records, catalogs and runtime
graphs, from the store. It cannot be undone, so it asks for --yes. Each
release is deleted whole or not at all; it says which release commands
without --release read afterwards.`,
		Example: `  rgraph releases delete --yes 2026-10`,
		Args:    argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names, opts.Quiet = args, g.Quiet
			if !opts.Yes {
				return usageErrorf("deleting %s cannot be undone; pass --yes to delete", quoteNames(args))
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return releasesDeleteRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking (the command refuses without it)")
	return cmd
}

func releasesDeleteRun(ctx context.Context, opts *releasesDeleteOptions) error {
	env := opts.Env
	return withStore(ctx, opts.OpenStore, func(s *ingest.Store) error {
		for _, name := range opts.Names {
			if err := s.Delete(name); err != nil {
				return suggestRelease(s, name, err)
			}
			if !opts.Quiet {
				fmt.Fprintf(env.ErrOut, "deleted release %s\n", name)
			}
		}
		if opts.Quiet {
			return nil
		}
		switch r, err := s.Latest(); {
		case errors.Is(err, ingest.ErrNoReleases):
			fmt.Fprintf(env.ErrOut, "the store %s has no releases left\n", s.Dir())
		case err != nil:
			return err
		default:
			fmt.Fprintf(env.ErrOut, "commands without --release now read %s, the newest release\n", r.Name)
		}
		return nil
	})
}

// quoteNames lists names for a message: release "a", releases "a", "b".
func quoteNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) == 1 {
		return "release " + q[0]
	}
	return "releases " + strings.Join(q, ", ")
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
	t.Fields = opts.Fields
	if len(rs) == 0 && t.TTY {
		fmt.Fprintln(env.ErrOut, "No releases yet; store one with 'rgraph ingest --release NAME FILE|DIR...'.")
		return nil
	}
	rows := make([][]string, len(rs))
	for i, r := range rs {
		name := r.Name
		if i == 0 && t.TTY {
			name += " (newest)" // what commands without --release read
		}
		rows[i] = []string{name, t.FormatTime(r.Created), strconv.Itoa(r.Services),
			strconv.Itoa(r.Endpoints), strconv.Itoa(r.Edges), strconv.Itoa(r.Records)}
	}
	return render.Table(env.Out, t, releaseColumns, rows)
}
