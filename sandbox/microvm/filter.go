package microvm

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/rgraph/rgraph/collector"
)

// filterSpec is what the host's filter of one run needs: the rules, the
// fault mode, and the run namespace's interfaces and proxy.
type filterSpec struct {
	Rules collector.Rules
	Fault collector.FaultMode
	// VM is the tap to the guest, Up the veth to the upstream.
	VM, Up string
	// Proxy is where the host relays the guest's unix socket
	// connections.
	Proxy netip.AddrPort
}

// nftRuleset returns the nftables ruleset of a run's namespace: the
// allowlist at the IP level, the second enforcer behind the guest's
// recorder. Forwarded traffic from the VM passes only to allowed
// destinations (by address, port and protocol; names and unix sockets
// never reach the network: the host forwards allowed DNS questions and
// relays allowed unix sockets itself). Replies pass; nothing from the
// upstream may open a connection to the VM. In reject mode the rest is
// refused at once (TCP reset, ICMP administratively prohibited), in
// blackhole mode dropped. The guest talks to the run namespace itself
// only to reach the proxy. IPv6 is not routed to the VM at all. The
// filter applies to everything that leaves the VM, the validation's
// health checks included.
func nftRuleset(s filterSpec) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("table inet rgraph {")
	p("\tchain forward {")
	p("\t\ttype filter hook forward priority filter; policy drop;")
	p("\t\tct state established,related accept")
	from := fmt.Sprintf("iifname %q oifname %q", s.VM, s.Up)
	if s.Rules.All {
		p("\t\t%s accept", from)
	}
	for _, n := range s.Rules.Nets {
		if !n.CIDR.Addr().Is4() {
			continue
		}
		for _, match := range portMatches(n) {
			p("\t\t%s ip daddr %s %s accept", from, n.CIDR.Masked(), match)
		}
	}
	if s.Fault != collector.FaultBlackhole {
		p("\t\tiifname %q meta l4proto tcp reject with tcp reset", s.VM)
		p("\t\tiifname %q reject with icmpx admin-prohibited", s.VM)
	}
	p("\t}")
	p("\tchain input {")
	p("\t\ttype filter hook input priority filter; policy drop;")
	p("\t\tct state established,related accept")
	p("\t\tiifname \"lo\" accept")
	p("\t\tiifname %q ip daddr %s tcp dport %d accept", s.VM, s.Proxy.Addr(), s.Proxy.Port())
	p("\t}")
	p("}")
	return b.String()
}

// portMatches returns the nft matches for a capability's protocol and
// ports.
func portMatches(n collector.Capability) []string {
	protos := []string{"tcp", "udp"}
	if n.Protocol == collector.TCP || n.Protocol == collector.UDP {
		protos = []string{string(n.Protocol)}
	}
	if n.Ports.IsZero() {
		return []string{"meta l4proto { " + strings.Join(protos, ", ") + " }"}
	}
	ports := fmt.Sprint(n.Ports.Lo)
	if n.Ports.Hi != n.Ports.Lo {
		ports = fmt.Sprintf("%d-%d", n.Ports.Lo, n.Ports.Hi)
	}
	var out []string
	for _, proto := range protos {
		out = append(out, proto+" dport "+ports)
	}
	return out
}
