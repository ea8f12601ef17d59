package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/gate"
	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/render"
)

// diffOptions are the parsed flags of rgraph diff and what it needs.
type diffOptions struct {
	Old, New      string
	Kinds         string
	Baseline      string
	FailOn        string
	WriteBaseline string
	Output        string

	Env       *Env
	OpenStore openStoreFunc
}

func newDiffCmd(env *Env, g *globalOptions, runF func(context.Context, *diffOptions) error) *cobra.Command {
	opts := &diffOptions{Env: env, OpenStore: storeReader(env, g)}
	cats := make([]string, len(graph.Categories))
	for i, c := range graph.Categories {
		cats[i] = string(c)
	}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "What crept in between two releases (a CI gate)",
		Long: `Diff compares two releases: added and removed services and edges, edges
whose kind changed, new and resolved bootstrap cycles (by canonical cycle
ID), services pushed to a later recovery wave, and services whose
transitive needs grew.

As a CI gate, --fail-on selects the categories of findings that make rgraph
exit with status 3: ` + strings.Join(cats, ", ") + ` (or all).
A baseline file (--baseline) lists accepted findings by key, each with a
reason and an optional expiry date; accepted findings are reported as such
and never fail the gate, expired entries become expired-baseline findings.
A baseline entry that accepts no finding is warned about (stale or
mistyped). --write-baseline writes the open findings as a baseline to
start from.

For CI systems, -o junit writes a JUnit XML report (one test case per
finding category, failed when the gate fails on it), -o sarif a SARIF
2.1.0 log for code-scanning UIs (one result per open finding, located by
its key), and -o github GitHub Actions annotations (::error for findings
that fail the gate, ::warning for the other open ones).`,
		Example: `  rgraph diff 2026-10 2026-11
  rgraph diff 2026-10 2026-11 --fail-on new-cycle,new-hard-edge --baseline rgraph-baseline.yaml
  rgraph diff 2026-10 2026-11 -o md > comment.md
  rgraph diff 2026-10 2026-11 -o html > diff.html
  rgraph diff 2026-10 2026-11 --fail-on all -o junit > rgraph-junit.xml`,
		Args: argsUsage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Old, opts.New = args[0], args[1]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return diffRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Kinds, "kinds", graph.DefaultKinds.String(), "edge kinds for cycles, waves and closures")
	cmd.Flags().StringVar(&opts.Baseline, "baseline", "", "file of accepted findings (YAML or JSON)")
	cmd.Flags().StringVar(&opts.FailOn, "fail-on", "", "categories of findings that fail the gate (exit 3), comma-separated, or all")
	cmd.Flags().StringVar(&opts.WriteBaseline, "write-baseline", "", "write the open findings to this file as a baseline")
	_ = cmd.RegisterFlagCompletionFunc("fail-on", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return append(cats, "all"), cobra.ShellCompDirectiveNoFileComp
	})
	addOutputFlag(cmd, &opts.Output, "text", "json", "md", "html", "dot", "svg", "junit", "sarif", "github")
	return cmd
}

func diffRun(ctx context.Context, opts *diffOptions) error {
	kinds, err := graph.ParseKinds(opts.Kinds)
	if err != nil {
		return usageErrorf("--kinds: %v", err)
	}
	var failOn []graph.Category
	if opts.FailOn != "" {
		if failOn, err = graph.ParseCategories(opts.FailOn); err != nil {
			return usageErrorf("--fail-on: %v", err)
		}
	}
	var baseline *gate.Baseline
	if opts.Baseline != "" {
		if baseline, err = gate.LoadBaseline(opts.Baseline); err != nil {
			return err
		}
	}
	// The two releases load side by side: at fleet scale loading is most
	// of a diff.
	var oldG, newG *graph.Graph
	err = withStore(ctx, opts.OpenStore, func(s *ingest.Store) error {
		var wg sync.WaitGroup
		var oldErr error
		wg.Go(func() { oldG, oldErr = s.Load(opts.Old) })
		var newErr error
		newG, newErr = s.Load(opts.New)
		wg.Wait()
		if oldErr != nil {
			return suggestRelease(s, opts.Old, oldErr)
		}
		return suggestRelease(s, opts.New, newErr)
	})
	if err != nil {
		return err
	}

	result := gate.Evaluate(oldG, newG, gate.Options{Kinds: kinds, Baseline: baseline, FailOn: failOn, Now: opts.Env.Now()})
	if opts.WriteBaseline != "" {
		if err := gate.WriteBaselineFile(opts.WriteBaseline, result.Open(), opts.New); err != nil {
			return err
		}
	}
	report := render.DiffReport{
		Old: opts.Old, New: opts.New,
		Delta:    result.Delta,
		Accepted: len(result.Accepted),
		Graph:    newG,
		Gated:    result.Gated,
		Failing:  result.Failing,
	}
	switch opts.Output {
	case "junit", "sarif", "github":
		// Only the CI formats list every open finding; making them costs a
		// pass over the delta that the other formats skip.
		report.Open = result.Open()
	}
	for _, e := range result.Unused {
		fmt.Fprintf(opts.Env.ErrOut, "rgraph: warning: %s:%d: baseline entry %s accepts no finding between %s and %s; remove it if it is stale\n",
			baseline.File, e.Line, e.Key, opts.Old, opts.New)
	}

	env := opts.Env
	// Drawings mark the members of the new release's bootstrap cycles, as
	// their legend promises.
	drawing := func() render.DOTOptions {
		return render.DOTOptions{Title: fmt.Sprintf("changes from %s to %s", opts.Old, opts.New),
			Kinds: kinds, Components: graph.Cycles(newG, graph.CycleOptions{Kinds: kinds, MaxCuts: -1})}
	}
	switch opts.Output {
	case "json":
		err = render.DiffJSON(env.Out, report)
	case "md":
		err = buffered(env.Out, func(w io.Writer) error { return render.DiffMarkdown(w, report) })
	case "junit":
		err = render.DiffJUnit(env.Out, report)
	case "sarif":
		err = render.DiffSARIF(env.Out, report)
	case "github":
		err = render.DiffGitHub(env.Out, report)
	case "html":
		err = render.DiffHTML(ctx, env.Out, oldG, newG, report, drawing())
	case "dot", "svg":
		err = writeDrawing(ctx, env.Out, opts.Output, 1, func(w io.Writer) error {
			return render.DiffDOT(w, oldG, newG, report, drawing())
		})
	default:
		err = buffered(env.Out, func(w io.Writer) error { return render.Diff(w, terminal(env), report) })
	}
	if err != nil {
		return err
	}
	if result.Failed() {
		return &findingsError{len(result.Failing), fmt.Sprintf("finding(s) fail the gate (--fail-on %s)", opts.FailOn)}
	}
	return nil
}
