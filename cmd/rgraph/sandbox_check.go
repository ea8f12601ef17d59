package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/sandbox"
)

// newSandboxCheckCmd is rgraph sandbox check: can this machine run sealed
// sandboxes, and if not, what is missing, in one sentence.
func newSandboxCheckCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Say whether this machine can run sandboxes, and what is missing",
		Long: `Check tests what the default sandbox driver needs: root (or CAP_BPF,
CAP_NET_ADMIN and CAP_SYS_ADMIN), network namespaces, a cgroup v2 hierarchy
and the kernel's eBPF features. It exits 0 when runs can go ahead and 4
with one sentence on what is missing otherwise.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			if err := sandbox.Check(); err != nil {
				return err
			}
			_, err := fmt.Fprintln(env.Out, "sandboxes can run here (netns driver)")
			return err
		},
	}
}
