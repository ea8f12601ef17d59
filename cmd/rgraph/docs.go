package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/render"
	"github.com/rgraph/rgraph/render/site"
)

// docsOptions are the parsed flags of rgraph docs and what it needs.
type docsOptions struct {
	analysisFlags
	Out     string
	GroupBy string
	Quiet   bool

	Env       *Env
	OpenStore openStoreFunc
}

func newDocsCmd(env *Env, g *globalOptions, runF func(context.Context, *docsOptions) error) *cobra.Command {
	opts := &docsOptions{Env: env, OpenStore: storeReader(env, g)}
	cmd := &cobra.Command{
		Use:   "docs --out DIR",
		Short: "Write the HTML recovery runbooks of a release",
		Long: `Docs writes a release's recovery documentation as a static web site that
needs no network and works from file://: a fleet page with the recovery
waves, the critical path and the bootstrap cycles (the recovery graph
drawn inline, cycles highlighted), and one page per service with its
runbook steps exactly as typed, its validation, its minimal allowlist with
the hard, soft or alternative class and the evidence for each entry, when
its scenario last passed, and links to what it needs and what needs it.

Steps and validation come from the service's newest passing run record,
the allowlist from its newest minimization record (before any, from the
passing run's allowlist, marked declared). Services without records get a
page from the graph alone. When the release has a runtime graph (rgraph
runtime ingest), pages also say which needs are never called while
healthy.

DIR must be new, empty, or written by rgraph docs before: a manifest
(.rgraph-site.json) lists the files rgraph wrote, so regenerating removes
the pages of services that are gone and never touches other files.
'rgraph run --docs DIR' refreshes the site after a scenario passes.`,
		Example: `  rgraph docs --out site/
  rgraph docs --release 2026-11 --out /srv/runbooks
  xdg-open site/index.html`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Quiet = g.Quiet
			if opts.Out == "" {
				return usageErrorf("--out DIR is required")
			}
			if _, err := opts.kindSet(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return docsRun(cmd.Context(), opts)
		},
	}
	addAnalysisFlags(cmd, &opts.analysisFlags)
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the site to `DIR` (required)")
	addEnumFlag(cmd, &opts.GroupBy, "group-by", "", "cluster the drawing's services by", "auto", "owner", "tier", "wave")
	return cmd
}

func docsRun(ctx context.Context, opts *docsOptions) error {
	kinds, err := opts.kindSet()
	if err != nil {
		return err
	}
	sum, err := writeDocs(ctx, opts.Env, opts.OpenStore, docsRequest{Dir: opts.Out, Release: opts.Release, Kinds: kinds, GroupBy: groupBy[opts.GroupBy]})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(opts.Env.Out, sum)
	return err
}

// refreshDocs regenerates the recovery documentation site in dir after
// rec's scenario passed: the site of release rec.Release (the newest
// release when empty) from the store, with rec counted among its records
// whether or not it has been ingested yet (so its steps, validation and
// pass time show). It does nothing for a run that did not recover. The
// release must be in the store; the directory rules are those of rgraph
// docs. open is the store opener (runOptions.OpenStore).
func refreshDocs(ctx context.Context, env *Env, open openStoreFunc, dir string, rec *collector.Record) error {
	if rec == nil || !rec.Outcome.Recovered {
		return nil
	}
	_, err := writeDocs(ctx, env, open, docsRequest{Dir: dir, Release: rec.Release, Kinds: graph.DefaultKinds, Extra: rec})
	return err
}

// docsRequest says which site to write.
type docsRequest struct {
	Dir     string
	Release string // "" for the newest
	Kinds   graph.KindSet
	GroupBy render.GroupBy // clusters of the drawing
	// Extra is a record to count with the release's own (a run that just
	// passed); one with the ID of a stored record replaces it.
	Extra *collector.Record
}

// docsSummary is what writeDocs wrote.
type docsSummary struct {
	Dir, Release          string
	Pages                 int
	Services, WithRecords int
	// Hidden counts recovery dependencies the runtime graph never shows;
	// -1 without a runtime graph.
	Hidden int
}

func (s docsSummary) String() string {
	line := fmt.Sprintf("documented release %s in %s: %d pages, %s (%d with records)",
		s.Release, s.Dir, s.Pages, plural(s.Services, "service"), s.WithRecords)
	if s.Hidden >= 0 {
		deps := "recovery dependencies"
		if s.Hidden == 1 {
			deps = "recovery dependency"
		}
		line += fmt.Sprintf(", %d %s hidden at runtime", s.Hidden, deps)
	}
	return line
}

// writeDocs gathers a release's graph, records, catalog and runtime graph
// from the store and writes its site.
func writeDocs(ctx context.Context, env *Env, open openStoreFunc, req docsRequest) (docsSummary, error) {
	v, err := viewRelease(ctx, open, req.Release, ingest.PartGraph|ingest.PartRecords|ingest.PartCatalog|ingest.PartRuntime)
	if err != nil {
		return docsSummary{}, err
	}
	g, rel, recs, cat, rt := v.Graph, v.Release, v.Records, v.Catalog, v.Runtime
	if req.Extra != nil {
		recs = slices.DeleteFunc(slices.Clone(recs), func(r *collector.Record) bool { return r.ID == req.Extra.ID })
		recs = append(recs, req.Extra)
	}

	kinds := req.Kinds.OrDefault()
	order, err := graph.RecoveryOrder(g, graph.OrderOptions{Kinds: kinds, DefaultDuration: time.Minute})
	if err != nil {
		return docsSummary{}, fmt.Errorf("release %s: %w", rel.Name, err)
	}
	s := site.Site{
		Release:   rel.Name,
		Generated: env.Now(),
		Graph:     g,
		Order:     order,
		Cycles:    graph.Cycles(g, graph.CycleOptions{Kinds: kinds}),
		Kinds:     kinds | graph.Kinds(graph.Soft, graph.Alternative),
		Services:  siteServices(recs, cat),
		Drawing:   render.DOTOptions{GroupBy: req.GroupBy},
	}
	sum := docsSummary{Dir: req.Dir, Release: rel.Name, WithRecords: len(s.Services), Hidden: -1}
	if rt != nil {
		c := graph.Compare(g, rt.Edges, graph.CompareOptions{})
		s.Runtime, s.RuntimeSources = &c, rt.Inputs
		sum.Hidden = c.RecoveryOnly
	}
	files, err := site.Build(ctx, s)
	if err != nil {
		return docsSummary{}, fmt.Errorf("building the site of %s: %w", rel.Name, err)
	}
	if err := site.WriteFiles(req.Dir, rel.Name, files); err != nil {
		return docsSummary{}, err
	}
	sum.Pages = len(files)
	sum.Services = len(files) - 1
	return sum, nil
}

// siteServices is what the service pages show of the services with
// records (see [ingest.ByService]): the scenario, when it last passed (the
// end of that run) with the run's ID, the runbook's steps and validation
// as typed, and the requirements as the allowlist, declared unless a
// minimization classified them.
func siteServices(recs []*collector.Record, cat *collector.Catalog) []site.Service {
	var out []site.Service
	for _, s := range ingest.ByService(recs, cat) {
		sv := site.Service{Name: s.Service, Scenario: s.Scenario}
		if p := s.LastPassed; p != nil {
			sv.LastRun, sv.LastPassed = p.ID, p.Outcome.StartedAt.Add(p.Outcome.Duration.Std())
		}
		if rb := s.Runbook; rb != nil {
			for _, st := range rb.Outcome.Steps {
				sv.Steps = append(sv.Steps, site.Step{Name: st.Name, Command: st.Command})
			}
			v := rb.Outcome.Validation
			sv.Validation = site.Step{Name: v.Name, Command: v.Command}
		}
		if s.AllowlistFrom != nil {
			sv.AllowlistFrom = s.AllowlistFrom.ID
		}
		for _, req := range s.Requirements {
			r := site.Requirement{Capability: req.Capability.String(), Class: site.Declared, Evidence: req.Evidence}
			if !req.Endpoint {
				r.Service = req.Target
			}
			if req.Class != "" {
				r.Class = site.Class(req.Class)
			}
			if req.Group != 0 {
				r.Group = "any one of group " + strconv.Itoa(req.Group)
			}
			sv.Allowlist = append(sv.Allowlist, r)
		}
		out = append(out, sv)
	}
	return out
}
