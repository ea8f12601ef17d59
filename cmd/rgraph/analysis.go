package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/render"
)

// analysisFlags are the flags every analysis verb shares.
type analysisFlags struct {
	Release string
	Kinds   string
}

func addAnalysisFlags(cmd *cobra.Command, f *analysisFlags) {
	cmd.Flags().StringVar(&f.Release, "release", "", "release to analyse (default: the newest)")
	cmd.Flags().StringVar(&f.Kinds, "kinds", graph.DefaultKinds.String(),
		"edge kinds to follow, comma-separated: hard, soft, declared, alternative, observed, or all")
	_ = cmd.RegisterFlagCompletionFunc("kinds", completeKinds)
}

// completeKinds completes --kinds: every edge kind (graph.AllKinds) and
// "all".
func completeKinds(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	kinds := make([]string, 0, len(graph.AllKinds)+1)
	for _, k := range graph.AllKinds {
		kinds = append(kinds, k.String())
	}
	return append(kinds, "all"), cobra.ShellCompDirectiveNoFileComp
}

// addScaleFlag defines --scale, the size of a PNG drawing.
func addScaleFlag(cmd *cobra.Command, p *float64) {
	cmd.Flags().Float64Var(p, "scale", 1, fmt.Sprintf("with -o png, draw at this multiple of %d dpi (2 for high-density screens)", render.DefaultPNGDPI))
}

// checkPNG refuses, as usage errors, a PNG's bytes for a terminal (stdout:
// the drawing goes to env.Out) and a --scale outside (0, 8] or without -o
// png.
func checkPNG(cmd *cobra.Command, env *Env, scale float64, output string, stdout bool) error {
	if output == "png" && stdout && env.OutTTY {
		or := ""
		if cmd.Flags().Lookup("out") != nil {
			or = " or pass --out FILE"
		}
		return usageErrorf("-o png writes binary data, not for a terminal: redirect it (> %s.png)%s", cmd.Name(), or)
	}
	switch {
	case scale <= 0 || scale > 8:
		return usageErrorf("--scale must be more than 0 and at most 8, not %v", scale)
	case cmd.Flags().Changed("scale") && output != "png":
		return usageErrorf("--scale applies to -o png only")
	}
	return nil
}

// kindSet parses --kinds; a bad value is a usage error.
func (f *analysisFlags) kindSet() (graph.KindSet, error) {
	ks, err := graph.ParseKinds(f.Kinds)
	if err != nil {
		return 0, usageErrorf("--kinds: %v", err)
	}
	return ks, nil
}

// buffered runs write on w through a buffer, which it flushes: a report
// of a fleet is a million records, and unbuffered each would be a write
// system call.
func buffered(w io.Writer, write func(io.Writer) error) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	err := write(bw)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

// terminal is how text output looks on env's stdout (see Env.Terminal).
func terminal(env *Env) render.Terminal { return env.Terminal() }

// writeDrawing writes a DOT drawing as dot, svg or png to w; scale
// multiplies the size of a png (1 for the default).
func writeDrawing(ctx context.Context, w io.Writer, format string, scale float64, draw func(io.Writer) error) error {
	var dot bytes.Buffer
	if err := draw(&dot); err != nil {
		return fmt.Errorf("drawing: %w", err)
	}
	switch format {
	case "svg":
		return render.SVG(ctx, w, dot.Bytes())
	case "png":
		return render.PNGScaled(ctx, w, dot.Bytes(), scale)
	}
	_, err := w.Write(dot.Bytes())
	return err
}

// analysisInput is a release read for analysis: its graph and what else
// the verb asked for, and the edge kinds to follow.
type analysisInput struct {
	*ingest.View
	Kinds graph.KindSet
	// Newest says the release was not named, Store where it was read.
	Newest bool
	Store  string
}

// writeAbout writes the line that names the release of a human report,
// and its store when that is not the default one.
func writeAbout(env *Env, in analysisInput) error {
	a := render.About{Release: in.Release.Name, Newest: in.Newest}
	if in.Store != env.defaultStoreDir() {
		a.Store = in.Store
	}
	return render.AboutLine(env.Out, terminal(env), a)
}

// loadForAnalysis parses the shared flags and reads the release's graph
// and the other parts the verb needs, in one read transaction.
func loadForAnalysis(ctx context.Context, f *analysisFlags, open openStoreFunc, also ingest.Part) (analysisInput, error) {
	ks, err := f.kindSet()
	if err != nil {
		return analysisInput{}, err
	}
	var dir string
	opened := func(ctx context.Context) (*ingest.Store, error) {
		s, err := open(ctx)
		if err == nil {
			dir = s.Dir()
		}
		return s, err
	}
	v, err := viewRelease(ctx, opened, f.Release, ingest.PartGraph|also)
	if err != nil {
		return analysisInput{}, err
	}
	return analysisInput{View: v, Kinds: ks, Newest: f.Release == "", Store: dir}, nil
}
