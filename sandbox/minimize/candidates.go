package minimize

import (
	"net/netip"

	"github.com/rgraph/rgraph/collector"
)

// Capabilities maps the attempts of rec to the allowlist entries that would
// permit them and returns those without duplicates, sorted by text form.
// An attempt maps to the catalog service that owns its destination, else
// to the endpoint itself: an address ("10.1.2.3:443/tcp"), unix
// ("unix:/run/x.sock") or dns ("dns:name") capability. A DNS question maps
// to the owner of the name, and also to the resolver it was sent to, since
// both must be allowed for it to be answered. Raw-socket attempts map to
// nothing: no capability permits them, and neither do attempts whose
// target does not exist upstream ([collector.Attempt.Absent]): they are no
// dependency, so no candidate. A nil rec has none.
func Capabilities(rec *collector.Record, cat *collector.Catalog) collector.Allowlist {
	if rec == nil {
		return nil
	}
	var out collector.Allowlist
	for _, a := range rec.Attempts {
		out = append(out, attemptCapabilities(a, cat)...)
	}
	return out.Sorted()
}

func attemptCapabilities(a collector.Attempt, cat *collector.Catalog) []collector.Capability {
	if a.Absent() {
		return nil
	}
	var out []collector.Capability
	switch a.Protocol {
	case collector.DNS:
		if name, ok := cat.Resolve(a); ok {
			out = append(out, collector.Capability{Service: name})
		} else if a.DNSName != "" {
			out = append(out, collector.Capability{DNS: a.DNSName})
		}
		if a.Address.IsValid() { // the resolver
			out = append(out, addrCapability(collector.UDP, a.Address, a.Port, cat))
		}
	case collector.Unix:
		if name, ok := cat.Resolve(a); ok {
			out = append(out, collector.Capability{Service: name})
		} else if a.Path != "" {
			out = append(out, collector.Capability{Unix: a.Path})
		}
	case collector.TCP, collector.UDP:
		if a.Address.IsValid() {
			out = append(out, addrCapability(a.Protocol, a.Address, a.Port, cat))
		}
	}
	return out
}

func addrCapability(proto collector.Protocol, addr netip.Addr, port uint16, cat *collector.Catalog) collector.Capability {
	if cat != nil {
		if name, ok := cat.OwnerOfAddr(proto, addr, port); ok {
			return collector.Capability{Service: name}
		}
	}
	addr = addr.Unmap()
	c := collector.Capability{CIDR: netip.PrefixFrom(addr, addr.BitLen()), Protocol: proto}
	if port != 0 {
		c.Ports = collector.PortRange{Lo: port, Hi: port}
	}
	return c
}
