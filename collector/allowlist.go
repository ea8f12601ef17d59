package collector

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rgraph/rgraph/collector/decode"
)

// Allowlist is the set of capabilities a sandbox run may use; everything
// else is denied, loopback included.
type Allowlist []Capability

// Capability is one allowlist entry. Exactly one of Service, CIDR, Unix,
// DNS or All is set; Ports and Protocol qualify CIDR.
//
// The text form, accepted by [ParseCapability] and written by
// [Capability.String], is one of
//
//	service:NAME              a catalog service: all its endpoints, socket paths and DNS names
//	CIDR[:PORTS][/PROTO]      10.0.0.0/8, 10.0.0.1:443/tcp, [fd00::1]:53/udp, 10.0.0.0/24:8000-8100
//	unix:PATH                 a unix socket path; PATH ending in "/*" allows a directory
//	dns | dns:PATTERN         resolving any name, or names matching PATTERN ("*.svc.example")
//	all                       everything (the observe-all run of minimization)
type Capability struct {
	Service  string       `json:"service,omitempty" yaml:"service,omitempty"`
	CIDR     netip.Prefix `json:"cidr,omitzero" yaml:"cidr,omitempty"`
	Ports    PortRange    `json:"ports,omitzero" yaml:"ports,omitempty"`
	Protocol Protocol     `json:"protocol,omitempty" yaml:"protocol,omitempty"`
	Unix     string       `json:"unix,omitempty" yaml:"unix,omitempty"`
	DNS      string       `json:"dns,omitempty" yaml:"dns,omitempty"`
	All      bool         `json:"all,omitempty" yaml:"all,omitempty"`
}

// String returns the capability's canonical text form.
func (c Capability) String() string {
	switch {
	case c.All:
		return "all"
	case c.Service != "":
		return "service:" + c.Service
	case c.Unix != "":
		return "unix:" + c.Unix
	case c.DNS != "":
		if c.DNS == "*" {
			return "dns"
		}
		return "dns:" + c.DNS
	case c.CIDR.IsValid():
		var b strings.Builder
		addr := c.CIDR.Addr()
		single := c.CIDR.Bits() == addr.BitLen()
		switch {
		case single && addr.Is6() && !c.Ports.IsZero():
			b.WriteString("[" + addr.String() + "]")
		case single:
			b.WriteString(addr.String())
		default:
			b.WriteString(c.CIDR.String())
		}
		if !c.Ports.IsZero() {
			b.WriteString(":" + c.Ports.String())
		}
		if c.Protocol != "" {
			b.WriteString("/" + string(c.Protocol))
		}
		return b.String()
	}
	return "<empty>"
}

// Validate reports whether exactly one kind of capability is set and its
// fields are consistent.
func (c Capability) Validate() error {
	n := 0
	for _, set := range []bool{c.Service != "", c.CIDR.IsValid(), c.Unix != "", c.DNS != "", c.All} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return fmt.Errorf("empty capability: set one of service, cidr, unix, dns, all")
	case n > 1:
		return fmt.Errorf("capability %q sets more than one of service, cidr, unix, dns, all", c.String())
	case !c.CIDR.IsValid() && (!c.Ports.IsZero() || c.Protocol != ""):
		return fmt.Errorf("capability %q: ports and protocol apply only to cidr", c.String())
	case c.Protocol != "" && c.Protocol != TCP && c.Protocol != UDP:
		return fmt.Errorf("capability %q: protocol must be tcp or udp", c.String())
	case c.Unix != "" && !strings.HasPrefix(c.Unix, "/") && !strings.HasPrefix(c.Unix, "@"):
		return fmt.Errorf("capability %q: unix path must be absolute (or @abstract)", c.String())
	}
	if c.Service != "" {
		if err := CheckServiceName(c.Service); err != nil {
			return fmt.Errorf("capability %q: %w", c.String(), err)
		}
	}
	for _, name := range []string{c.Unix, c.DNS} {
		if err := decode.CheckName(name); err != nil {
			return fmt.Errorf("capability: %w", err)
		}
	}
	return nil
}

// CheckServiceName reports what makes name unusable as a service name:
// a space, a tab, ':' or '/' (which mark endpoints, "10.0.0.1:53/udp"),
// or what [decode.CheckName] refuses.
func CheckServiceName(name string) error {
	if strings.ContainsAny(name, " \t:/") {
		return fmt.Errorf("invalid service name %q (no spaces, tabs, ':' or '/')", name)
	}
	return decode.CheckName(name)
}

// ParseCapability parses the text form documented on [Capability].
// A bare word that is not a keyword is taken as a service name.
func ParseCapability(s string) (Capability, error) {
	s = strings.TrimSpace(s)
	var c Capability
	switch {
	case s == "":
		return c, fmt.Errorf("empty capability")
	case s == "all" || s == "*":
		c.All = true
	case s == "dns":
		c.DNS = "*"
	case strings.HasPrefix(s, "dns:"):
		c.DNS = strings.TrimPrefix(s, "dns:")
	case strings.HasPrefix(s, "service:"):
		c.Service = strings.TrimPrefix(s, "service:")
	case strings.HasPrefix(s, "unix:"):
		c.Unix = strings.TrimPrefix(s, "unix:")
	case looksLikeAddress(s):
		var err error
		if c, err = parseNetCapability(s); err != nil {
			return Capability{}, err
		}
	default:
		c.Service = s
	}
	if err := c.Validate(); err != nil {
		return Capability{}, err
	}
	return c, nil
}

func looksLikeAddress(s string) bool {
	if strings.HasPrefix(s, "[") {
		return true
	}
	head := s
	if i := strings.IndexAny(head, "/:"); i >= 0 {
		head = head[:i]
	}
	if _, err := netip.ParseAddr(head); err == nil {
		return true
	}
	// A bare IPv6 address or prefix: more than one colon.
	return strings.Count(s, ":") > 1
}

// parseNetCapability parses CIDR[:PORTS][/PROTO] where a single address may
// be written without a prefix length and an IPv6 address with ports is
// bracketed.
func parseNetCapability(s string) (Capability, error) {
	var c Capability
	rest := s
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		if p := Protocol(rest[i+1:]); p == TCP || p == UDP {
			c.Protocol = p
			rest = rest[:i]
		}
	}
	var host, ports string
	switch {
	case strings.HasPrefix(rest, "["):
		end := strings.Index(rest, "]")
		if end < 0 {
			return c, fmt.Errorf("capability %q: missing ]", s)
		}
		host = rest[1:end]
		if tail := rest[end+1:]; tail != "" {
			if !strings.HasPrefix(tail, ":") {
				return c, fmt.Errorf("capability %q: expected :PORTS after ]", s)
			}
			ports = tail[1:]
		}
	case strings.Count(rest, ":") > 1: // bare IPv6, no ports
		host = rest
	default:
		host = rest
		if i := strings.LastIndex(rest, ":"); i >= 0 {
			host, ports = rest[:i], rest[i+1:]
		}
	}
	pfx, err := ParsePrefix(host)
	if err != nil {
		return c, fmt.Errorf("capability %q: %w", s, err)
	}
	c.CIDR = pfx
	if ports != "" {
		if c.Ports, err = ParsePortRange(ports); err != nil {
			return c, fmt.Errorf("capability %q: %w", s, err)
		}
	}
	return c, nil
}

// ParsePrefix parses an address or a CIDR. An address is a prefix of its
// full length; IPv4-mapped IPv6 addresses are unmapped, and the bits after
// a CIDR's length are cleared.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("want an address or CIDR, got %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("want an address or CIDR, got %q", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// UnmarshalNode reads a capability from YAML in [decode.Decoder.Decode]:
// the text form ("service:ca") or a mapping with the fields of
// [Capability] ({cidr: 10.0.0.0/24, ports: 443}).
func (c *Capability) UnmarshalNode(d *decode.Decoder, n *yaml.Node, path string) error {
	if n.Kind == yaml.ScalarNode {
		v, err := ParseCapability(n.Value)
		if err != nil {
			return d.NodeErrorf(n, path, "%v", err)
		}
		*c = v
		return nil
	}
	var p struct {
		Service  string    `yaml:"service"`
		CIDR     string    `yaml:"cidr"`
		Ports    PortRange `yaml:"ports"`
		Protocol Protocol  `yaml:"protocol"`
		Unix     string    `yaml:"unix"`
		DNS      string    `yaml:"dns"`
		All      bool      `yaml:"all"`
	}
	if err := d.Decode(n, path, &p); err != nil {
		return err
	}
	v := Capability{Service: p.Service, Ports: p.Ports, Protocol: p.Protocol, Unix: p.Unix, DNS: p.DNS, All: p.All}
	if p.CIDR != "" {
		pfx, err := ParsePrefix(p.CIDR)
		if err != nil {
			return d.NodeErrorf(d.Find(n, "cidr"), decode.Join(path, "cidr"), "%v", err)
		}
		v.CIDR = pfx
	}
	if err := v.Validate(); err != nil {
		return d.NodeErrorf(n, path, "%v", err)
	}
	*c = v
	return nil
}

// String returns the allowlist in text form, one capability after another.
func (a Allowlist) String() string {
	s := make([]string, len(a))
	for i, c := range a {
		s[i] = c.String()
	}
	return strings.Join(s, ", ")
}

// Sorted returns a copy of the allowlist sorted by text form, without
// duplicates.
func (a Allowlist) Sorted() Allowlist {
	out := append(Allowlist(nil), a...)
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	n := 0
	for i, c := range out {
		if i > 0 && c.String() == out[n-1].String() {
			continue
		}
		out[n] = c
		n++
	}
	return out[:n]
}

// PortRange is an inclusive range of ports; the zero value means any port.
// Its text form is "443" or "8000-8100".
type PortRange struct {
	Lo, Hi uint16
}

// IsZero reports whether the range means any port.
func (r PortRange) IsZero() bool { return r.Lo == 0 && r.Hi == 0 }

// Contains reports whether port p is in the range (always, for the zero range).
func (r PortRange) Contains(p uint16) bool { return r.IsZero() || (p >= r.Lo && p <= r.Hi) }

func (r PortRange) String() string {
	switch {
	case r.IsZero():
		return ""
	case r.Lo == r.Hi:
		return strconv.Itoa(int(r.Lo))
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// ParsePortRange parses "443" or "8000-8100".
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	l, err1 := strconv.ParseUint(lo, 10, 16)
	h, err2 := strconv.ParseUint(hi, 10, 16)
	if err1 != nil || err2 != nil || l == 0 || h < l {
		return PortRange{}, fmt.Errorf("invalid port range %q (want 1-65535 or LO-HI)", s)
	}
	return PortRange{uint16(l), uint16(h)}, nil
}

// MarshalText implements encoding.TextMarshaler.
func (r PortRange) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *PortRange) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*r = PortRange{}
		return nil
	}
	v, err := ParsePortRange(string(b))
	*r = v
	return err
}
