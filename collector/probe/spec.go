package probe

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/rgraph/rgraph/collector"
)

// ErrUnsupported is wrapped by errors that mean this kernel or OS lacks a
// feature the probe needs (cgroup v2, BTF, a program or attach type).
var ErrUnsupported = errors.New("probe: unsupported")

// ErrPermission is wrapped by errors that mean the caller lacks the
// privileges to load eBPF programs.
var ErrPermission = errors.New("probe: permission denied")

// permissionSentence is the one sentence an unprivileged user sees.
const permissionSentence = "recording with eBPF needs root (or CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN)"

// Spec says where to attach and what to allow. It is a plain value that
// can be printed and compared; [Load] turns it into a live [Probe].
type Spec struct {
	// Cgroup is the cgroup v2 directory to attach to, e.g.
	// /sys/fs/cgroup/unified/rgraph/run-1. Processes in it and in its
	// descendants are recorded and enforced.
	Cgroup string
	// Rules is what is allowed; everything else is denied, loopback
	// included.
	Rules collector.Rules
	// Fault is how denied attempts fail; empty means reject.
	Fault collector.FaultMode
	// DNS is the IPv4 address of rgraph's DNS stub inside the sandbox
	// network namespace: every IPv4 (and v4-mapped) port-53 attempt, UDP
	// and TCP, is redirected there. Zero: no redirect, port 53 is judged
	// by Rules like any port.
	DNS netip.AddrPort
	// DNS6 is the IPv6 counterpart of DNS. Zero: IPv6 port-53 attempts are
	// judged by Rules.
	DNS6 netip.AddrPort
	// Blackhole is the IPv4 address denied TCP and UDP destinations are
	// rewritten to in blackhole mode (the port is kept). The sandbox routes
	// it to a device where frames vanish without neighbour resolution: a
	// dummy device, or a veth with ARP off whose peer drops them (this
	// kernel has no dummy driver). It must not be a local address, or the
	// kernel answers with a reset. Zero: IPv4 attempts are rejected with
	// EPERM even in blackhole mode.
	Blackhole netip.Addr
	// Blackhole6 is the IPv6 counterpart of Blackhole.
	Blackhole6 netip.Addr
}

// Validate reports whether the spec is consistent. [Load] calls it.
func (s Spec) Validate() error {
	switch {
	case s.Cgroup == "":
		return errors.New("probe spec: cgroup is empty")
	case s.Fault != "" && s.Fault != collector.FaultReject && s.Fault != collector.FaultBlackhole:
		return fmt.Errorf("probe spec: unknown fault mode %q", s.Fault)
	case s.DNS.IsValid() && !s.DNS.Addr().Unmap().Is4():
		return fmt.Errorf("probe spec: dns %v is not an IPv4 address", s.DNS)
	case s.DNS6.IsValid() && !(s.DNS6.Addr().Is6() && !s.DNS6.Addr().Is4In6()):
		return fmt.Errorf("probe spec: dns6 %v is not an IPv6 address", s.DNS6)
	case s.DNS.IsValid() && s.DNS.Port() == 0, s.DNS6.IsValid() && s.DNS6.Port() == 0:
		return errors.New("probe spec: dns stub port is 0")
	case s.Blackhole.IsValid() && !s.Blackhole.Unmap().Is4():
		return fmt.Errorf("probe spec: blackhole %v is not an IPv4 address", s.Blackhole)
	case s.Blackhole6.IsValid() && !(s.Blackhole6.Is6() && !s.Blackhole6.Is4In6()):
		return fmt.Errorf("probe spec: blackhole6 %v is not an IPv6 address", s.Blackhole6)
	case s.Fault == collector.FaultBlackhole && !s.Blackhole.IsValid() && !s.Blackhole6.IsValid():
		return errors.New("probe spec: blackhole mode needs a blackhole address")
	}
	if _, err := compileRules(s.Rules); err != nil {
		return fmt.Errorf("probe spec: %w", err)
	}
	return nil
}

// Origin says who sent a DNS query the stub received and which resolver
// it addressed before the probe redirected it. dnsstub.Origin has the same
// fields, so a value converts with dnsstub.Origin(o).
type Origin struct {
	Process  collector.Process
	CgroupID uint64
	// Resolver is the address and port the caller sent the query to.
	Resolver netip.AddrPort
}
