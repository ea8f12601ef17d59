// Command rgraph-agent is the guest agent of rgraph's microVM driver: the
// init (PID 1) of each VM, which builds the sandbox inside the VM and
// serves the host's rgraph over virtio-serial. rgraph looks for it beside
// its own binary; it is not a command to run by hand.
//
// It is a binary of its own, not a verb of rgraph, because the VM runs
// it under emulation where no KVM is usable: rgraph's package
// initialization (go-graphviz compiles its WebAssembly Graphviz there)
// takes over half a minute under qemu's TCG, the agent's a fraction of a
// second.
package main

import "github.com/rgraph/rgraph/sandbox/microvm"

func main() { microvm.AgentMain() }
