package main

import (
	"context"
	"fmt"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/collector/probe"
)

// globalOptions are the flags every verb shares.
type globalOptions struct {
	Store string
	Quiet bool
}

// run executes rgraph with args and returns the process exit code. All
// deferred cleanups run before it returns.
func run(ctx context.Context, args []string, env *Env) int {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := exitCode(ctx, err)
	if err != nil && err.Error() != "" {
		fmt.Fprintf(env.ErrOut, "rgraph: %v\n", err)
		if code == exitUsage {
			fmt.Fprintln(env.ErrOut, "Run 'rgraph --help' for usage.")
		}
		if log := probe.VerifierLog(err); len(log) > 0 {
			if env.Getenv("RGRAPH_DEBUG") == "" {
				fmt.Fprintln(env.ErrOut, "Set RGRAPH_DEBUG=1 to see the kernel verifier's log.")
			} else {
				fmt.Fprintf(env.ErrOut, "verifier log (last %d lines):\n  %s\n", len(log), strings.Join(log, "\n  "))
			}
		}
	}
	return code
}

func newRootCmd(env *Env) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "rgraph",
		Short: "Measure and analyse what infrastructure needs to recover",
		Long: `rgraph runs recovery runbooks in sealed sandboxes, records every first-hop
dependency with eBPF, pares allowlists down to what recovery really needs,
stores the result as a graph per release, and answers: which bootstrap
cycles exist, in what order to recover, why A needs B, and what changed.

Edge A -> B means "A needs B healthy before A can recover".`,
		Args:          argsUsage(cobra.NoArgs),
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(env.Out)
	root.SetErr(env.ErrOut)
	root.SetIn(env.In)
	root.PersistentFlags().StringVar(&g.Store, "store", "", "store directory (default $RGRAPH_STORE or ~/.local/share/rgraph/store)")
	root.PersistentFlags().BoolVarP(&g.Quiet, "quiet", "q", false, "print nothing but data and errors")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitErr{exitUsage, err}
	})
	root.AddCommand(
		newVersionCmd(env),
		newIngestCmd(env, g, nil),
		newReleasesCmd(env, g, nil),
		newRunCmd(env, g, nil),
		newMinimizeCmd(env, g, nil),
		newSandboxCmd(env, g, nil),
		newCyclesCmd(env, g, nil),
		newOrderCmd(env, g, nil),
		newWhyCmd(env, g, nil),
		newDiffCmd(env, g, nil),
		newDrawCmd(env, g, nil),
		newDocsCmd(env, g, nil),
		newRuntimeCmd(env, g),
		newCompareCmd(env, g, nil),
		newExportCmd(env, g, nil),
	)
	return root
}

// argsUsage wraps a cobra positional-args validator so its errors are usage
// errors (exit 2).
func argsUsage(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return &exitErr{exitUsage, err}
		}
		return nil
	}
}
