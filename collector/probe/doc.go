// Package probe is rgraph's eBPF first-hop recorder and allowlist
// enforcer. It is the only package that imports cilium/ebpf, and it works
// on Linux only: elsewhere [Check], [Open] and [Load] return an error
// wrapping [ErrUnsupported].
//
// Programs are loaded and verified once per process and attached once
// per run. [Open] (or [Shared], the process-wide one) returns a
// [Collector]: the programs, the shared tables and the tracepoints.
// [Collector.Attach] attaches the same programs to one cgroup v2
// directory (a run's cgroup; descendants are covered too) with that run's
// [Spec], and returns a live [Probe]; closing it detaches the run. Runs
// of one collector are isolated: each has its own rules and recording,
// the programs find a caller's run by its cgroup. [Load] is
// Shared().Attach(spec).
//
//   - cgroup/connect4, connect6, sendmsg4, sendmsg6 record every TCP and
//     UDP first hop (connect, and sendto/sendmsg on unconnected UDP) with
//     pid, command name, cgroup id, destination, protocol, verdict, count
//     and first time, and enforce [collector.Rules] against it: everything
//     else is denied, loopback included. A datagram to a peer that sent to
//     the socket first (a UDP server's reply) is not a first hop: it
//     passes and is not recorded.
//   - cgroup/connect_unix and sendmsg_unix (Linux 6.7) do the same for unix
//     sockets by path.
//   - cgroup/sock_create refuses raw, ICMP and other inet sockets the
//     address hooks cannot see; the syscalls/sys_enter_socket and
//     sys_exit_socket tracepoints record packet (AF_PACKET, AF_XDP, ...)
//     sockets. No cgroup hook can refuse those: the sandbox must drop
//     CAP_NET_RAW, and the record says whether creation succeeded. Such
//     attempts are recorded by process name only (collector.Attempt has
//     no field for a socket's family and type).
//   - Every port-53 attempt (UDP and TCP, IPv4, IPv6 and v4-mapped) is
//     redirected to rgraph's DNS stub (Spec.DNS, Spec.DNS6) with verdict
//     "redirected"; a cgroup_skb egress program tells the stub, through
//     [Probe.DNSOrigin], which process sent a query and which resolver it
//     addressed; recvmsg4/6 and getpeername4/6 make replies appear to come
//     from that resolver, and remember other senders as peers.
//   - The sock/inet_sock_set_state and syscalls/sys_exit_connect
//     tracepoints record how allowed TCP connects ended (Attempt.Failure
//     "refused", "timeout", "unreachable", "reset", "abandoned" when the
//     caller gave up, "error"; empty once one succeeded).
//
// Fault modes: in [collector.FaultReject] a denied connect or sendmsg fails
// at once with EPERM (Failure "eperm"). In [collector.FaultBlackhole] a
// denied TCP or UDP destination is rewritten to Spec.Blackhole (IPv4) or
// Spec.Blackhole6 (IPv6), which the sandbox routes to a device where
// packets vanish, so callers wait as in a real outage (Failure
// "dropped"); a family without a blackhole address falls back to EPERM.
// Denied unix sockets and raw sockets fail with EPERM in both modes.
//
// Nothing is lost silently: attempts are deduplicated in an in-kernel hash
// map per run keyed by protocol, destination, verdict and command name,
// and each new key is also sent on a ring buffer; when the map is full
// the ring buffer carries the attempt, and when both fail a per-CPU
// counter of the run that only increases is bumped. [Probe.Snapshot]
// reports that count as Collection.Lost with Complete false, and names in
// Collection.NotRecorded what this kernel could not observe.
//
// Privileges: root, or CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN, a cgroup
// v2 hierarchy and kernel BTF (/sys/kernel/btf/vmlinux). Missing
// privileges wrap [ErrPermission]; a missing kernel feature, or a program
// this kernel's verifier rejects, wraps [ErrUnsupported] ([VerifierLog]
// has the verifier's last lines). Tracepoints need tracefs; [Open] mounts
// it at /sys/kernel/tracing when it is missing. Kprobes and fentry are
// not used. A [Collector] and a [Probe] hold kernel resources until they
// are closed. docs/collector.md has the design, what was validated on
// which kernel, and measured costs.
package probe
