// Package sandbox runs recovery scenarios in sealed sandboxes and turns
// each run into a versioned run record (collector.Record).
//
// A [Scenario] (docs/scenarios.md) is a service owner's recovery recipe:
// the runbook (ordered shell steps), the validation that says "healthy",
// and the allowlist of what recovery may reach. [Run] builds a fresh
// sandbox with a [Driver], runs the runbook and then the validation inside
// it, collects every attempt the recorder saw, tears the sandbox down (also
// when ctx is cancelled) and returns the record. Calls are independent and
// may run in parallel; minimization uses Run as its oracle, overriding the
// allowlist through [Options].
//
// The default driver, [NetNS], gives each run its own network namespace
// (loopback included in what is denied), a veth pair to the upstream
// namespace where the healthy services live, a mount namespace with its
// own /etc/resolv.conf, and a cgroup v2 directory with the eBPF recorder
// (collector/probe) attached to its runbook leaf and rgraph's DNS stub
// (collector/dnsstub) inside the namespace. Validations run in a sibling
// cgroup leaf, in the same namespace but outside the recorder, so that a
// health check of the service under test is neither denied nor counted as
// one of its dependencies. Every object carries the run ID, and [GC]
// removes what a killed run left behind; each Run calls it first.
//
// The netns driver needs Linux, root (or CAP_SYS_ADMIN, CAP_NET_ADMIN and
// CAP_BPF), a cgroup v2 hierarchy, and Linux 6.7 or later to record unix
// sockets; errors wrap [ErrPermission] or [ErrUnsupported] when something
// is missing. It isolates the network and the resolver, not the machine:
// commands run as root (without CAP_NET_RAW) and share the host's file
// system; a KVM microVM driver can implement [Driver] for full isolation.
// A [Sandbox] must be closed.
package sandbox
