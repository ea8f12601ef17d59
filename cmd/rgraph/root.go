package main

import (
	"context"
	"fmt"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/render"
)

// globalOptions are the flags every verb shares.
type globalOptions struct {
	Store string
	Quiet bool
	// Wait makes a verb wait for a store another process holds instead
	// of failing.
	Wait bool
}

// run executes rgraph with args and returns the process exit code. All
// deferred cleanups run before it returns.
func run(ctx context.Context, args []string, env *Env) int {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if env.Graphviz != nil {
		defer render.UseWorker(env.Graphviz)()
	}
	err := execute(ctx, newRootCmd(env), args)
	code := exitCode(ctx, err)
	if err != nil {
		report(env.ErrOut, code, err, env.Getenv("RGRAPH_DEBUG") != "")
	}
	return code
}

// execute runs the command tree for args. A panic on the command's
// goroutine, always a bug, becomes an internalError that carries the
// stack: the Go runtime's own exit status for it (2) reads as a usage
// error. (A panic on another goroutine still ends the process.)
func execute(ctx context.Context, root *cobra.Command, args []string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &internalError{what: fmt.Sprintf("panic: %v", v), detail: debug.Stack()}
		}
	}()
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
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
		Args:          noArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetVersionTemplate("rgraph {{.Version}}\n")
	root.SetOut(env.Out)
	root.SetErr(env.ErrOut)
	root.SetIn(env.In)
	root.PersistentFlags().StringVar(&g.Store, "store", "", "store directory (default $RGRAPH_STORE or ~/.local/share/rgraph/store)")
	root.PersistentFlags().BoolVarP(&g.Quiet, "quiet", "q", false, "print nothing but data and errors")
	root.PersistentFlags().BoolVar(&g.Wait, "wait", false, "wait while another rgraph writes to the store (or, for a writer, reads it) instead of failing")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{err}
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
		newKeyCmd(env, g),
		newClusterCmd(env, g, nil),
	)
	completeNames(root, env, g)
	return root
}

// noArgs is the Args of commands that take no arguments. An argument to a
// command with subcommands is an unknown subcommand, named with the ones
// it was likely meant to be, or the known ones; any other command says it
// takes no arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if !cmd.HasAvailableSubCommands() {
		return usageErrorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	suggest := graph.Suggest(args[0], "command", names)
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 && !strings.HasPrefix(suggest, "; did you mean") {
		suggest = fmt.Sprintf("; did you mean %q?", s[0])
	}
	return usageErrorf("unknown command %q for %q%s", args[0], cmd.CommandPath(), suggest)
}

// argsUsage wraps a cobra positional-args validator so its errors are usage
// errors (exit 2).
func argsUsage(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return &usageError{err}
		}
		return nil
	}
}
