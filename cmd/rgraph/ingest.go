package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/collector/sign"
	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/render"
)

// ingestOptions are the parsed flags of rgraph ingest and what it needs.
type ingestOptions struct {
	Release     string
	Replace     bool
	Catalog     string
	Paths       []string
	From        string
	Prefer      string
	KeepAll     bool
	TrustedKeys string
	Output      string
	Verbose     bool
	Quiet       bool

	Env       *Env
	OpenStore openStoreFunc
}

func newIngestCmd(env *Env, g *globalOptions, runF func(context.Context, *ingestOptions) error) *cobra.Command {
	opts := &ingestOptions{Env: env, OpenStore: storeWriter(env, g)}
	cmd := &cobra.Command{
		Use:   "ingest --release NAME [--catalog FILE] FILE|DIR...",
		Short: "Store records, a catalog and edge lists as a release",
		Long: `Ingest reads run and minimization records (.json), a service catalog
(.yaml, .yml, or JSON with kind: catalog) and edge lists (.tsv, .edges,
.txt: from<TAB>to[<TAB>kind] per line, # comments), builds one recovery
graph and stores it as an immutable release.

Directories are walked, and tarballs (.tar, .tar.gz, .tgz: CI artifacts)
read as directories; files named on the command line are read whatever
their name. Every input is validated before anything is written: on an
error, naming the file and line or field, the store is unchanged. An
existing release is refused unless --replace is given. The schema of
every input is in docs/records.md.

Records may come from many producers (shards, machines, CI runs): one read
twice counts once, and of the records of one scenario (runs and
minimizations apart) the release keeps the newest (--prefer recovered: a
recovered one first; --keep-all: every one). Records of a scenario made
for the same release that disagree are reported as conflicts. Every edge's
evidence names the record's file, host and job (rgraph why shows them).
--from starts from an existing release and adds the inputs' records to
it without reading its records again. --trusted-keys requires every record
to carry a valid signature (FILE.sig, see rgraph key) by one of the keys.
docs/scale.md has the details.`,
		Example: `  rgraph ingest --release 2026-11 testdata/fleet/
  rgraph ingest --release legacy --catalog catalog.yaml cmdb-export.tsv
  rgraph ingest --release 2026-11 --replace -o json records/
  rgraph ingest --release 2026-12 --catalog catalog.yaml out/ ci-artifacts/*.tar.gz
  rgraph ingest --release 2026-12-02 --from 2026-12-01 out/shard-7/
  rgraph ingest --release 2026-12 --trusted-keys team-keys.pem --catalog catalog.yaml out/`,
		Args: argsUsage(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			opts.Quiet = g.Quiet
			switch {
			case opts.Release == "":
				return usageErrorf("--release is required")
			case len(args) == 0 && opts.Catalog == "":
				return usageErrorf("nothing to ingest: give at least one FILE or DIR")
			}
			if err := ingest.ValidReleaseName(opts.Release); err != nil {
				return usageErrorf("--release: %v", err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return ingestRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Release, "release", "", "name of the release to create (required)")
	cmd.Flags().BoolVar(&opts.Replace, "replace", false, "replace the release if it exists")
	cmd.Flags().StringVar(&opts.Catalog, "catalog", "", "service catalog `FILE` (YAML or JSON)")
	cmd.Flags().StringVar(&opts.From, "from", "", "start from `RELEASE`: its records plus the inputs', without reading its records again")
	addEnumFlag(cmd, &opts.Prefer, "prefer", "", "which record of a scenario a release keeps", string(ingest.PreferNewest), string(ingest.PreferRecovered))
	cmd.Flags().BoolVar(&opts.KeepAll, "keep-all", false, "keep every record of every scenario, not only the preferred one")
	cmd.Flags().StringVar(&opts.TrustedKeys, "trusted-keys", "", "require every record to be signed by one of the public keys in `FILE` (PEM)")
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "report each input on stderr")
	addOutputFlag(cmd, &opts.Output, "text", "json")
	return cmd
}

func ingestRun(ctx context.Context, opts *ingestOptions) error {
	inputs, err := ingest.Files(opts.Paths...)
	if err != nil {
		return err
	}
	if opts.Catalog != "" {
		inputs = append([]ingest.Input{{Path: opts.Catalog, Format: ingest.FormatCatalog}}, inputs...)
	}
	io := ingest.Options{Replace: opts.Replace, From: opts.From, Prefer: ingest.Prefer(opts.Prefer), KeepAll: opts.KeepAll}
	if opts.TrustedKeys != "" {
		b, err := os.ReadFile(opts.TrustedKeys)
		if err != nil {
			return fmt.Errorf("reading trusted keys: %w", err)
		}
		if io.TrustedKeys, err = sign.ParseKeyring(b, opts.TrustedKeys); err != nil {
			return err
		}
	}
	prog := opts.Env.progress(opts.Quiet, opts.Verbose)
	io.Progress = (&ingestProgress{p: prog}).update
	var sum ingest.Summary
	var before, after ingest.Release // the newest release, which commands without --release read
	err = withStore(ctx, opts.OpenStore, func(s *ingest.Store) error {
		before, _ = s.Latest()
		var err error
		if sum, err = s.Ingest(ctx, opts.Release, inputs, io); err != nil {
			return err
		}
		after, _ = s.Latest()
		return nil
	})
	prog.done()
	switch {
	case errors.Is(err, ingest.ErrReleaseExists):
		return fmt.Errorf("%w; use --replace to overwrite it", err)
	case err != nil:
		return fmt.Errorf("ingesting release %q: %w", opts.Release, err)
	}
	if !opts.Quiet {
		// A replaced release is the newest: say what that changes.
		switch {
		case !sum.Replaced || after.Name != sum.Release.Name:
		case before.Name != after.Name:
			fmt.Fprintf(opts.Env.ErrOut, "rgraph: %s is now the newest release, which commands without --release read (it was %s)\n", after.Name, before.Name)
		default:
			fmt.Fprintf(opts.Env.ErrOut, "rgraph: commands without --release read the replaced %s\n", after.Name)
		}
		for _, w := range sum.Warnings {
			fmt.Fprintf(opts.Env.ErrOut, "rgraph: warning: %s\n", w)
		}
		for _, c := range sum.Federation.Conflicts {
			fmt.Fprintf(opts.Env.ErrOut, "rgraph: conflict: %s\n", c)
		}
		if opts.Verbose {
			for _, d := range sum.Federation.Duplicates {
				fmt.Fprintf(opts.Env.ErrOut, "rgraph: record %s read %d times (%s)\n", d.ID, len(d.Files), strings.Join(d.Files, ", "))
			}
			for _, sup := range sum.Federation.Superseded {
				fmt.Fprintf(opts.Env.ErrOut, "rgraph: record %s (%s) superseded by %s\n", sup.Record.ID, sup.Record.Origin.File, sup.By)
			}
		}
		if opts.Verbose {
			for _, s := range sum.Skipped {
				fmt.Fprintf(opts.Env.ErrOut, "rgraph: skipped %s: not a catalog\n", s)
			}
		}
	}
	if opts.Output == "json" {
		return render.IngestJSON(opts.Env.Out, ingestDoc(sum))
	}
	return render.Ingest(opts.Env.Out, ingestDoc(sum))
}

// plural is render.Plural for nouns whose plural takes an s.
func plural(n int, noun string) string { return render.Plural(n, noun, noun+"s") }

// ingestDoc is what render shows of an ingest with -o json.
func ingestDoc(sum ingest.Summary) render.IngestDoc {
	r := sum.Release
	d := render.IngestDoc{
		Release: r.Name, Created: r.Created, Replaced: sum.Replaced, Services: r.Services, Endpoints: r.Endpoints,
		Edges: r.Edges, EdgesByKind: render.KindCounts(r.EdgesByKind), Records: r.Records, SelfAttempts: sum.SelfAttempts,
		Inputs: r.Inputs, Skipped: sum.Skipped, Warnings: sum.Warnings,
	}
	f := sum.Federation
	if len(f.Duplicates)+len(f.Superseded)+len(f.Conflicts) == 0 {
		return d
	}
	ref := func(r ingest.RecordRef) render.RecordRefDoc {
		return render.RecordRefDoc{ID: r.ID, StartedAt: r.StartedAt, Recovered: r.Recovered, Origin: r.Origin}
	}
	fd := &render.FederationDoc{}
	for _, x := range f.Duplicates {
		fd.Duplicates = append(fd.Duplicates, render.DuplicateDoc{ID: x.ID, Files: x.Files})
	}
	for _, x := range f.Superseded {
		fd.Superseded = append(fd.Superseded, render.SupersededDoc{Record: ref(x.Record), By: x.By})
	}
	for _, x := range f.Conflicts {
		c := render.ConflictDoc{Service: x.Service, Scenario: x.Scenario, Kind: string(x.Kind), Release: x.Release, Preferred: ref(x.Preferred), Others: []render.RecordRefDoc{}}
		for _, o := range x.Others {
			c.Others = append(c.Others, ref(o))
		}
		fd.Conflicts = append(fd.Conflicts, c)
	}
	d.Federation = fd
	return d
}

// ingestProgress reports an ingest's progress: a line per input and
// phase with -v, counts on the status line on a terminal.
type ingestProgress struct {
	p     *progress
	file  string
	phase ingest.Phase
}

func (ip *ingestProgress) update(pr ingest.Progress) {
	switch {
	case pr.Phase == ingest.PhaseRead && pr.File != "" && pr.File != ip.file:
		ip.p.event("reading %s (%d/%d)", pr.File, pr.Files+1, pr.FilesTotal)
	case pr.Phase != ip.phase && pr.Phase != ingest.PhaseRead:
		ip.p.event("%s: %s edges, %s", phaseVerb(pr.Phase), count(pr.Edges), render.Plural(pr.Records, "record", "records"))
	case pr.Phase == ingest.PhaseWrite:
		ip.p.status("%s: %.1f MB", phaseVerb(pr.Phase), float64(pr.Bytes)/(1<<20))
	default:
		ip.p.status("%s: %d/%d files, %s edges, %s", phaseVerb(pr.Phase), pr.Files, pr.FilesTotal, count(pr.Edges), render.Plural(pr.Records, "record", "records"))
	}
	ip.file, ip.phase = pr.File, pr.Phase
}

func phaseVerb(ph ingest.Phase) string {
	switch ph {
	case ingest.PhaseBuild:
		return "building"
	case ingest.PhaseWrite:
		return "writing"
	}
	return "reading"
}

// count formats a count compactly: 950, 12.3k, 4.5M.
func count(n int64) string {
	switch {
	case n >= 1e6:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
	case n >= 1e4:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + "k"
	}
	return strconv.FormatInt(n, 10)
}
