package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/render"
	"github.com/rgraph/rgraph/sandbox"
)

// sandboxCheckOptions are the parsed flags of rgraph sandbox check.
type sandboxCheckOptions struct {
	Driver string
	Output string

	Env *Env
	// Check asks drivers what they need; tests replace it.
	Check func(ctx context.Context, names ...string) ([]sandbox.Report, error)
}

// newSandboxCheckCmd is rgraph sandbox check: can this machine run sealed
// sandboxes, and if not, what is missing and how to get it.
func newSandboxCheckCmd(env *Env, runF func(context.Context, *sandboxCheckOptions) error) *cobra.Command {
	opts := &sandboxCheckOptions{Env: env, Check: sandbox.Check}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Say whether this machine can run sandboxes, and what is missing",
		Long: `Check asks every sandbox driver (or the one --driver names) what it needs
from this machine and prints one line per requirement: the driver, ok or
missing, what it is, what was found, and for what is missing how to get it.
Optional requirements only limit what runs record; runs go ahead without
them. The netns driver, the default, needs network namespaces, a cgroup v2
hierarchy, Linux 5.8 or later, root (or CAP_BPF, CAP_NET_ADMIN and
CAP_SYS_ADMIN) and each eBPF program and map type the recorder loads (one
line each, checked only with privileges); kernel BTF and Linux 6.7 add
unix socket recording, tracefs the outcomes of connects, nsenter entering
kept sandboxes.

It exits 0 when runs of the default driver (or of --driver) can go ahead,
and 4 with one sentence on what is missing otherwise.`,
		Example: `  rgraph sandbox check
  rgraph sandbox check --driver netns -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return sandboxCheckRun(cmd.Context(), opts)
		},
	}
	addEnumFlag(cmd, &opts.Driver, "driver", "", "the driver to check", append([]string{"all"}, sandbox.List()...)...)
	addOutputFlag(cmd, &opts.Output, "text", "json")
	return cmd
}

func sandboxCheckRun(ctx context.Context, opts *sandboxCheckOptions) error {
	var names []string
	decides := sandbox.DefaultDriver // whose readiness is the exit status
	if opts.Driver != "all" {
		names, decides = []string{opts.Driver}, opts.Driver
	}
	reports, err := opts.Check(ctx, names...)
	if err != nil {
		return usageErrorf("--driver: %v", err)
	}
	var verdict error
	for _, r := range reports {
		if r.Driver == decides {
			verdict = r.Err()
		}
	}
	env := opts.Env
	if opts.Output == "json" {
		if err := render.SandboxCheckJSON(env.Out, driverChecks(reports)); err != nil {
			return err
		}
		return verdict
	}
	if err := render.SandboxCheck(env.Out, env.Terminal(), driverChecks(reports), decides); err != nil {
		return err
	}
	return verdict
}

// driverChecks is what render shows of each driver's check, in the
// order of sandbox.List.
func driverChecks(reports []sandbox.Report) []render.DriverCheckDoc {
	out := make([]render.DriverCheckDoc, 0, len(reports))
	for _, r := range reports {
		d := render.DriverCheckDoc{Name: r.Driver, Default: r.Driver == sandbox.DefaultDriver, Ready: r.Err() == nil}
		if err := r.Err(); err != nil {
			d.Error = err.Error()
		}
		for _, req := range r.Requirements {
			j := render.RequirementDoc{Name: req.Name, OK: req.OK, Optional: req.Optional, Detail: req.Detail}
			if !req.OK {
				j.Fix = req.Fix
			}
			d.Requirements = append(d.Requirements, j)
		}
		out = append(out, d)
	}
	return out
}
