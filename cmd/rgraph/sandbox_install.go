package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/microvm"
)

// sandboxInstallOptions are the parsed flags of rgraph sandbox install.
type sandboxInstallOptions struct {
	Driver string
	DryRun bool

	Env *Env
}

// newSandboxInstallCmd is rgraph sandbox install: the Debian packages a
// driver needs, installed with apt.
func newSandboxInstallCmd(env *Env, runF func(context.Context, *sandboxInstallOptions) error) *cobra.Command {
	opts := &sandboxInstallOptions{Env: env}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install what a sandbox driver needs from Debian's packages",
		Long: `Install prints the shell script that installs what the --driver needs on
this Debian machine, and runs it as root (with --dry-run it only prints it).

For the microvm driver: qemu, nftables and socat with apt, and the guest
kernel, downloaded with apt-get download and unpacked into
` + microvm.DefaultDir + `/kernel (not installed as a boot kernel). On
Debian 12 they come from bookworm-backports (qemu 10, Linux 6.12), which is
added to apt's sources when it is missing. The guest agent, rgraph-agent,
is not a package: make build builds it beside rgraph.

The netns driver needs nothing beyond what rgraph sandbox check lists.`,
		Example: `  sudo rgraph sandbox install --driver microvm
  rgraph sandbox install --driver microvm --dry-run`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return sandboxInstallRun(cmd.Context(), opts)
		},
	}
	addEnumFlag(cmd, &opts.Driver, "driver", "", "the driver to install", microvm.Name, sandbox.DefaultDriver)
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the script, run nothing")
	return cmd
}

func sandboxInstallRun(ctx context.Context, opts *sandboxInstallOptions) error {
	env := opts.Env
	if opts.Driver != microvm.Name {
		_, err := fmt.Fprintf(env.ErrOut, "the %s driver has nothing to install: rgraph sandbox check --driver %s says what it needs\n", opts.Driver, opts.Driver)
		return err
	}
	osRelease, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return fmt.Errorf("reading /etc/os-release: %w", err)
	}
	script, err := microvm.InstallScript(osRelease, microvm.DebianMirror())
	if err != nil {
		return err
	}
	if opts.DryRun {
		_, err := fmt.Fprint(env.Out, script)
		return err
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: installing packages needs root (sudo rgraph sandbox install, or --dry-run to see the script)", sandbox.ErrPermission)
	}
	fmt.Fprint(env.ErrOut, script)
	sh := exec.CommandContext(ctx, "sh", "-c", script)
	sh.Stdout, sh.Stderr = env.ErrOut, env.ErrOut
	if err := sh.Run(); err != nil {
		return fmt.Errorf("installing the microvm driver's packages: %w", err)
	}
	return nil
}
