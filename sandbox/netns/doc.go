// Package netns is rgraph's default sandbox driver, [sandbox.DefaultDriver]:
// each run gets its own Linux network namespace, mount namespace and
// cgroup. Importing the package registers the driver with
// [sandbox.Register].
//
// Each sandbox gets a fresh network namespace (loopback up, recorded and
// denied like everything else unless allowed), pinned as
// /run/netns/rgraph-ID (internal/netnspin); a veth pair to the upstream
// namespace where the healthy services live, with a /30 out of [RunNet];
// a dummy device that swallows [BlackholeAddr]; a mount namespace whose
// /etc/resolv.conf is the scenario's; and a cgroup v2 directory rgraph/ID
// with a runbook leaf, recorded and enforced by collector/probe, and a
// validate leaf, in the same namespace but outside the recorder, so that a
// health check of the service under test is neither denied nor counted as
// one of its dependencies. rgraph's DNS stub (internal/dnsstub) listens
// on [StubAddr] inside the namespace. Commands run as root without
// CAP_NET_RAW. Every object carries the run ID, and the driver's
// [Driver.Reap] removes what a killed run left behind.
//
// It needs Linux, root (or CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_BPF), a
// cgroup v2 hierarchy, and Linux 6.7 or later to record unix sockets;
// [Driver.Check] lists each requirement, and errors wrap
// [sandbox.ErrPermission] or [sandbox.ErrUnsupported] when something is
// missing. It isolates the network and the resolver, not the machine:
// commands share the host's kernel and file system.
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
