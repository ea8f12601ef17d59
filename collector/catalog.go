package collector

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rgraph/rgraph/collector/decode"
)

// CatalogKind is the value of the kind field of a catalog document.
const CatalogKind = "catalog"

// Catalog maps endpoints (addresses and ports, unix socket paths, DNS names)
// to service names, so that observed attempts become edges between services.
// It is read from a YAML (or JSON) document; see docs/records.md.
type Catalog struct {
	SchemaVersion int    `yaml:"schemaVersion" json:"schemaVersion"`
	Kind          string `yaml:"kind" json:"kind"`
	// Description is free text about the catalog.
	Description string    `yaml:"description,omitempty" json:"description,omitempty"`
	Services    []Service `yaml:"services" json:"services"`
}

// Service is one catalog entry.
type Service struct {
	Name string `yaml:"name" json:"name"`
	// Description is free text: what the service is, how it is run.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Owner and Tier group services in pictures and reports.
	Owner string `yaml:"owner,omitempty" json:"owner,omitempty"`
	Tier  string `yaml:"tier,omitempty" json:"tier,omitempty"`
	// Endpoints are network capabilities in text form ("10.0.0.1:443/tcp").
	Endpoints []string `yaml:"endpoints,omitempty" json:"endpoints,omitempty"`
	// DNS lists names the service answers for or owns; "*.zone" matches
	// any name below zone.
	DNS []string `yaml:"dns,omitempty" json:"dns,omitempty"`
	// Unix lists socket paths the service listens on.
	Unix []string `yaml:"unix,omitempty" json:"unix,omitempty"`
	// RecoveryTime estimates how long the service takes to recover, for
	// the critical path when no run has measured it.
	RecoveryTime Duration `yaml:"recoveryTime,omitempty" json:"recoveryTime,omitzero"`

	nets []Capability
}

// LoadCatalog reads and validates a catalog file (see [ParseCatalog]).
func LoadCatalog(path string) (*Catalog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading catalog: %w", err)
	}
	return ParseCatalog(b, path)
}

// ParseCatalog parses and validates a catalog document (YAML, or the same
// structure in JSON); name is used in errors. Errors are [*decode.Error]s
// naming the line and field at fault, and match [ErrMalformed].
func ParseCatalog(b []byte, name string) (*Catalog, error) {
	d := decode.New(name, ErrMalformed)
	root, err := d.YAML(b)
	if err != nil {
		return nil, err
	}
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, d.NodeErrorf(root, "", "want a mapping with schemaVersion, kind and services")
	}
	var c Catalog
	if err := d.Decode(root, "", &c); err != nil {
		return nil, err
	}
	switch {
	case c.SchemaVersion != SchemaVersion:
		return nil, d.NodeErrorf(d.Find(root, "schemaVersion"), "schemaVersion", "unsupported version %d (this rgraph reads %d)", c.SchemaVersion, SchemaVersion)
	case c.Kind != CatalogKind:
		return nil, d.NodeErrorf(d.Find(root, "kind"), "kind", "want %q, got %q", CatalogKind, c.Kind)
	}
	if err := c.init(); err != nil {
		return nil, d.Place(err, d.YAMLPos(root))
	}
	return &c, nil
}

// NewCatalog builds a catalog from services, validating them as
// [ParseCatalog] does.
func NewCatalog(services ...Service) (*Catalog, error) {
	c := &Catalog{SchemaVersion: SchemaVersion, Kind: CatalogKind, Services: services}
	if err := c.init(); err != nil {
		return nil, err
	}
	return c, nil
}

// init validates the services and parses their endpoints. Its errors are
// [*decode.Error]s without a position.
func (c *Catalog) init() error {
	seen := map[string]int{}
	for i := range c.Services {
		s := &c.Services[i]
		field := decode.Index("services", i)
		if s.Name == "" {
			return bad(field+".name", "missing")
		}
		if err := CheckServiceName(s.Name); err != nil {
			return bad(field+".name", "%v", err)
		}
		if first, dup := seen[s.Name]; dup {
			return bad(field+".name", "duplicate service %q (also services[%d])", s.Name, first)
		}
		seen[s.Name] = i
		s.nets = s.nets[:0]
		for j, e := range s.Endpoints {
			cp, err := ParseCapability(e)
			if err != nil || !cp.CIDR.IsValid() {
				return bad(decode.Index(field+".endpoints", j), "%q is not an address endpoint (want ADDR[:PORTS][/PROTO])", e)
			}
			s.nets = append(s.nets, cp)
		}
		for j, p := range s.Unix {
			if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "@") {
				return bad(decode.Index(field+".unix", j), "%q is not an absolute path", p)
			}
			if err := decode.CheckName(p); err != nil {
				return bad(decode.Index(field+".unix", j), "%v", err)
			}
		}
		for j, d := range s.DNS {
			if d == "" || strings.ContainsAny(d, " \t/") {
				return bad(decode.Index(field+".dns", j), "invalid name pattern %q", d)
			}
			if err := decode.CheckName(d); err != nil {
				return bad(decode.Index(field+".dns", j), "%v", err)
			}
		}
	}
	return nil
}

// Lookup returns the catalog entry for a service name.
func (c *Catalog) Lookup(name string) (Service, bool) {
	if c == nil {
		return Service{}, false
	}
	for _, s := range c.Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// Resolve maps an attempt's destination to the service that owns it. For a
// DNS attempt it is the owner of the name, not the resolver. The most
// specific match wins (longest prefix, exact name over wildcard).
func (c *Catalog) Resolve(a Attempt) (service string, ok bool) {
	if c == nil {
		return "", false
	}
	switch a.Protocol {
	case DNS:
		return c.OwnerOfName(a.DNSName)
	case Unix:
		return c.ownerOfPath(a.Path)
	case Raw:
		return "", false
	}
	return c.OwnerOfAddr(a.Protocol, a.Address, a.Port)
}

// OwnerOfAddr returns the service whose endpoint covers addr:port/proto.
func (c *Catalog) OwnerOfAddr(proto Protocol, addr netip.Addr, port uint16) (string, bool) {
	best, bestBits := "", -1
	addr = addr.Unmap()
	for _, s := range c.Services {
		for _, n := range s.nets {
			if n.matchesAddr(proto, addr, port) && n.CIDR.Bits() > bestBits {
				best, bestBits = s.Name, n.CIDR.Bits()
			}
		}
	}
	return best, bestBits >= 0
}

// OwnerOfName returns the service that owns a DNS name.
func (c *Catalog) OwnerOfName(name string) (string, bool) {
	best, bestScore := "", -1
	for _, s := range c.Services {
		for _, p := range s.DNS {
			if sc := matchName(p, name); sc > bestScore {
				best, bestScore = s.Name, sc
			}
		}
	}
	return best, bestScore >= 0
}

func (c *Catalog) ownerOfPath(path string) (string, bool) {
	best, bestLen := "", -1
	for _, s := range c.Services {
		for _, p := range s.Unix {
			if matchPath(p, path) && len(p) > bestLen {
				best, bestLen = s.Name, len(p)
			}
		}
	}
	return best, bestLen >= 0
}

// matchName scores how well pattern matches name: -1 no match, higher is
// more specific. Names compare case-insensitively without a trailing dot.
func matchName(pattern, name string) int {
	pattern = strings.ToLower(strings.TrimSuffix(pattern, "."))
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	switch {
	case pattern == "*":
		return 0
	case strings.HasPrefix(pattern, "*."):
		if strings.HasSuffix(name, pattern[1:]) {
			return len(pattern)
		}
		return -1
	case pattern == name:
		return 1 << 16
	}
	return -1
}

func matchPath(pattern, path string) bool {
	if dir, ok := strings.CutSuffix(pattern, "/*"); ok {
		return strings.HasPrefix(path, dir+"/")
	}
	return pattern == path
}

func (c Capability) matchesAddr(proto Protocol, addr netip.Addr, port uint16) bool {
	return c.CIDR.Contains(addr) && c.Ports.Contains(port) && (c.Protocol == "" || c.Protocol == proto)
}

// Names returns the catalog's service names, sorted.
func (c *Catalog) Names() []string {
	var out []string
	if c != nil {
		for _, s := range c.Services {
			out = append(out, s.Name)
		}
	}
	sort.Strings(out)
	return out
}
