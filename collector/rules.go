package collector

import (
	"fmt"
	"net/netip"
	"strings"
)

// Rules is an allowlist expanded against a catalog into concrete
// endpoints: what the enforcer (the eBPF probe and the DNS stub) checks.
type Rules struct {
	// All allows everything (observe-all).
	All bool
	// Nets are allowed address ranges; each carries Ports and Protocol.
	Nets []Capability
	// Unix are allowed socket paths; "/dir/*" allows a directory.
	Unix []string
	// Names are DNS name patterns that may be resolved through the
	// resolver the caller addressed, when that resolver is allowed: the
	// names of allowed services.
	Names []string
	// AnyResolverNames are DNS name patterns from dns capabilities: they
	// may be resolved whether or not the resolver itself is allowed.
	AnyResolverNames []string
	// Claimed are the DNS name patterns of every catalog service; a name
	// they match needs its owner to be allowed.
	Claimed []string
}

// Expand turns an allowlist into [Rules]: service capabilities become that
// service's endpoints, socket paths and DNS names. A service name the
// catalog does not know is an error.
func (c *Catalog) Expand(al Allowlist) (Rules, error) {
	var r Rules
	if c != nil {
		for _, s := range c.Services {
			r.Claimed = append(r.Claimed, s.DNS...)
		}
	}
	for i, cp := range al {
		if err := cp.Validate(); err != nil {
			return Rules{}, fmt.Errorf("allowlist[%d]: %w", i, err)
		}
		switch {
		case cp.All:
			r.All = true
		case cp.Service != "":
			s, ok := c.Lookup(cp.Service)
			if !ok {
				return Rules{}, fmt.Errorf("allowlist[%d]: service %q is not in the catalog", i, cp.Service)
			}
			r.Nets = append(r.Nets, s.nets...)
			r.Unix = append(r.Unix, s.Unix...)
			r.Names = append(r.Names, s.DNS...)
		case cp.CIDR.IsValid():
			r.Nets = append(r.Nets, cp)
		case cp.Unix != "":
			r.Unix = append(r.Unix, cp.Unix)
		case cp.DNS != "":
			r.AnyResolverNames = append(r.AnyResolverNames, cp.DNS)
		}
	}
	return r, nil
}

// AllowsAddr reports whether a TCP or UDP attempt to addr:port is allowed.
func (r Rules) AllowsAddr(proto Protocol, addr netip.Addr, port uint16) bool {
	if r.All {
		return true
	}
	addr = addr.Unmap()
	for _, n := range r.Nets {
		if n.matchesAddr(proto, addr, port) {
			return true
		}
	}
	return false
}

// AllowsUnix reports whether connecting to a unix socket path is allowed.
// A path with a ".." component is not, unless everything is: a rule for
// a directory must not let a path climb out of it (as the probe judges).
func (r Rules) AllowsUnix(path string) bool {
	if r.All {
		return true
	}
	if path == ".." || strings.HasPrefix(path, "../") || strings.HasSuffix(path, "/..") || strings.Contains(path, "/../") {
		return false
	}
	for _, p := range r.Unix {
		if matchPath(p, path) {
			return true
		}
	}
	return false
}

// AllowsQuestion reports whether the DNS stub may forward a question for
// name. resolverAllowed says whether the resolver the caller addressed is
// itself allowed (see [Rules.AllowsAddr]). A name is forwarded when a dns
// capability matches it; otherwise only when the resolver is allowed and
// the name is either owned by an allowed service or owned by no service
// in the catalog.
func (r Rules) AllowsQuestion(name string, resolverAllowed bool) bool {
	switch {
	case r.All || matchAny(r.AnyResolverNames, name):
		return true
	case !resolverAllowed:
		return false
	case matchAny(r.Names, name):
		return true
	}
	return !matchAny(r.Claimed, name)
}

// DeniedForResolver reports whether a is a DNS question these rules deny
// only because of the resolver it was sent to: through an allowed
// resolver its name would have been forwarded. Such a denial is the
// resolver's, not that of the name's owner; [Attempt.ToResolver] names the
// resolver.
func (r Rules) DeniedForResolver(a Attempt) bool {
	if a.Protocol != DNS || a.Verdict != Denied || !a.Address.IsValid() ||
		r.AllowsAddr(UDP, a.Address, a.Port) || r.AllowsAddr(TCP, a.Address, a.Port) {
		return false
	}
	return r.AllowsQuestion(strings.ToLower(strings.TrimSuffix(a.DNSName, ".")), true)
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if matchName(p, name) >= 0 {
			return true
		}
	}
	return false
}

// MatchName reports whether a DNS name pattern ("*", "*.zone", or an exact
// name) matches name, case-insensitively.
func MatchName(pattern, name string) bool { return matchName(pattern, name) >= 0 }
