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
// Drivers live in packages of their own and register themselves by name
// ([Register], [Lookup], [List]) when imported; the default,
// [DefaultDriver], is sandbox/netns (a network namespace, a mount
// namespace and a cgroup per run, with the eBPF recorder). A driver may
// say what it needs from the machine ([Checker]; [Check] asks every
// registered driver) and remove what killed runs left behind ([Reaper];
// [GC] reaps every registered driver, and each Run its own driver first).
// Errors wrap [ErrPermission] or [ErrUnsupported] when privileges or
// kernel features are missing. A [Sandbox] must be closed.
package sandbox
