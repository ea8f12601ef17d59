package microvm

import "github.com/rgraph/rgraph/sandbox/microvm/internal/guest"

// AgentMain is the guest agent: the init (PID 1) of the driver's VMs,
// which builds the sandbox inside the VM and serves the host. It never
// returns. cmd/rgraph-agent is nothing else; a test binary that boots
// VMs calls it from TestMain when it runs as PID 1.
func AgentMain() { guest.Main() }
