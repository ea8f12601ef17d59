package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/render"
	"github.com/rgraph/rgraph/sandbox"
)

// sandboxGCOptions are the parsed flags of rgraph sandbox gc.
type sandboxGCOptions struct {
	Kept   bool
	DryRun bool
	Quiet  bool

	Env *Env
	// GC reaps leftovers; tests replace it.
	GC func(context.Context, sandbox.GCOptions) ([]sandbox.Leftover, error)
}

func newSandboxCmd(env *Env, g *globalOptions, gcF func(context.Context, *sandboxGCOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Manage the sandboxes rgraph run creates",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	opts := &sandboxGCOptions{Env: env, GC: sandbox.GC}
	gc := &cobra.Command{
		Use:   "gc",
		Short: "Remove what killed runs left behind",
		Long: `Gc removes the namespaces, cgroups, veth pairs, mounts, address leases and
run directories (/run/rgraph/runs/ID) of sandbox runs whose rgraph process
is gone, for example after kill -9 or a crash. Runs still in progress are
never touched. Every rgraph run does the same before it starts.

Sandboxes left on purpose with rgraph run --keep stay until --kept is given.
--dry-run lists what would be removed.`,
		Example: `  rgraph sandbox gc
  rgraph sandbox gc --kept
  rgraph sandbox gc --dry-run`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Quiet = g.Quiet
			if gcF != nil {
				return gcF(cmd.Context(), opts)
			}
			return sandboxGCRun(cmd.Context(), opts)
		},
	}
	gc.Flags().BoolVar(&opts.Kept, "kept", false, "also remove sandboxes kept with rgraph run --keep")
	gc.Flags().BoolVar(&opts.DryRun, "dry-run", false, "list what would be removed, remove nothing")
	cmd.AddCommand(gc, newSandboxCheckCmd(env, nil), newSandboxInstallCmd(env, nil))
	return cmd
}

func sandboxGCRun(ctx context.Context, opts *sandboxGCOptions) error {
	left, err := opts.GC(ctx, sandbox.GCOptions{Kept: opts.Kept, DryRun: opts.DryRun})
	if !opts.Quiet || opts.DryRun {
		rows := make([]render.Leftover, len(left))
		for i, l := range left {
			rows[i] = render.Leftover{RunID: l.RunID, Kind: l.Kind, Name: l.Name, Kept: l.Kept}
			if l.Err != nil {
				rows[i].Err = l.Err.Error()
			}
		}
		if werr := render.Leftovers(opts.Env.Out, opts.Env.Terminal(), rows, opts.DryRun); werr != nil && err == nil {
			return werr
		}
	}
	if err != nil {
		return fmt.Errorf("sandbox gc: %w", err)
	}
	return nil
}
