// Package netns is rgraph's default sandbox driver, [sandbox.DefaultDriver]:
// each run gets its own Linux network, mount, IPC and PID namespaces and
// its own cgroup. Importing the package registers the driver with
// [sandbox.Register].
//
// Each sandbox gets a fresh network namespace (loopback up, recorded and
// denied like everything else unless allowed), pinned as
// /run/netns/rgraph-ID (internal/netnspin); a veth pair to the upstream
// namespace where the healthy services live, with a /30 out of [RunNet];
// a dummy device that swallows [BlackholeAddr]; and a cgroup v2 directory
// rgraph/ID with a runbook leaf, recorded and enforced by
// collector/probe, and a validate leaf, in the same namespaces but outside
// the recorder, so that a health check of the service under test is
// neither denied nor counted as one of its dependencies. rgraph's DNS stub
// (internal/dnsstub) listens on [StubAddr] inside the namespace.
//
// A run is sealed (docs/sandbox.md has the threat model). Its mount
// namespace is a view of the host in which every directory is an overlay
// whose writes are thrown away with the run, the host's unix sockets are
// unreachable but for those the allowlist names, and /dev, /sys and /proc
// are the sandbox's own (view_linux.go). Its PID namespace's init
// (internal/seal) ends, and takes every process of the run with it, when
// the run ends or its owner dies; its IPC objects go with its IPC
// namespace. Commands run in a cgroup namespace rooted at their cgroup,
// with no capability but internal/seal.Kept and no_new_privs: they cannot
// leave their cgroup, detach the recorder, reconfigure the network or
// open packet sockets. Every object carries the run ID, and the driver's
// [Driver.Reap] removes what a killed run left behind.
//
// It needs Linux (5.12 for the mount API; 6.7 to record unix sockets),
// root (or CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_BPF), a cgroup v2
// hierarchy and overlayfs; [Driver.Check] lists each requirement, and
// errors wrap [sandbox.ErrPermission] or [sandbox.ErrUnsupported] when
// something is missing. Runs share the host's kernel.
package netns

import (
	"net/netip"

	"github.com/rgraph/rgraph/sandbox"
)

// Name is the driver's name: what --driver selects and records carry.
const Name = "netns"

func init() { sandbox.Register(New()) }

// Addresses the driver uses; they are constants so records and docs can
// name them.
var (
	// RunNet is where each run's /30 between the sandbox and the upstream
	// comes from.
	RunNet = netip.MustParsePrefix("10.98.0.0/16")
	// BlackholeAddr is the IPv4 address denied destinations are rewritten
	// to in blackhole mode; inside the sandbox it is routed to a dummy
	// device that drops everything.
	BlackholeAddr = netip.MustParseAddr("10.98.255.254")
	// BlackholeAddr6 is the IPv6 counterpart of BlackholeAddr.
	BlackholeAddr6 = netip.MustParseAddr("fd72:6772:6170:6800::1")
	// StubAddr and StubAddr6 are where the DNS stub listens inside the
	// sandbox; the recorder redirects every port-53 attempt there.
	StubAddr  = netip.MustParseAddrPort("127.0.0.53:10053")
	StubAddr6 = netip.MustParseAddrPort("[::1]:10053")
)
