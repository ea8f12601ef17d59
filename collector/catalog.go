package collector

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// CatalogKind is the value of the kind field of a catalog document.
const CatalogKind = "catalog"

// Catalog maps endpoints (addresses and ports, unix socket paths, DNS names)
// to service names, so that observed attempts become edges between services.
// It is read from a YAML (or JSON) document; see docs/records.md.
type Catalog struct {
	SchemaVersion int       `yaml:"schemaVersion" json:"schemaVersion"`
	Kind          string    `yaml:"kind" json:"kind"`
	Services      []Service `yaml:"services" json:"services"`
}

// Service is one catalog entry.
type Service struct {
	Name string `yaml:"name" json:"name"`
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

// LoadCatalog reads and validates a catalog file.
func LoadCatalog(path string) (*Catalog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading catalog: %w", err)
	}
	c, err := ParseCatalog(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseCatalog parses and validates a catalog document. Errors name the
// line and field at fault.
func ParseCatalog(b []byte) (*Catalog, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("parsing catalog: %w", err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("catalog must be a mapping with schemaVersion, kind and services")
	}
	var c Catalog
	if err := decodeStrictTree(root.Content[0], &c, ""); err != nil {
		return nil, err
	}
	if c.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("schemaVersion: unsupported version %d (this rgraph reads %d)", c.SchemaVersion, SchemaVersion)
	}
	if c.Kind != CatalogKind {
		return nil, fmt.Errorf("kind: want %q, got %q", CatalogKind, c.Kind)
	}
	if err := c.init(); err != nil {
		return nil, err
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

func (c *Catalog) init() error {
	seen := map[string]bool{}
	for i := range c.Services {
		s := &c.Services[i]
		field := fmt.Sprintf("services[%d]", i)
		if s.Name == "" {
			return fmt.Errorf("%s.name: missing", field)
		}
		if strings.ContainsAny(s.Name, " \t:/") {
			return fmt.Errorf("%s.name: invalid service name %q", field, s.Name)
		}
		if seen[s.Name] {
			return fmt.Errorf("%s.name: duplicate service %q", field, s.Name)
		}
		seen[s.Name] = true
		s.nets = s.nets[:0]
		for j, e := range s.Endpoints {
			cp, err := ParseCapability(e)
			if err != nil || !cp.CIDR.IsValid() {
				return fmt.Errorf("%s.endpoints[%d]: %q is not an address endpoint (want ADDR[:PORTS][/PROTO])", field, j, e)
			}
			s.nets = append(s.nets, cp)
		}
		for j, p := range s.Unix {
			if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "@") {
				return fmt.Errorf("%s.unix[%d]: %q is not an absolute path", field, j, p)
			}
		}
		for j, d := range s.DNS {
			if d == "" || strings.ContainsAny(d, " \t/") {
				return fmt.Errorf("%s.dns[%d]: invalid name pattern %q", field, j, d)
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

// decodeStrictTree decodes a YAML mapping into v, rejecting unknown keys at
// any depth, and names the field path in errors.
func decodeStrictTree(n *yaml.Node, v any, path string) error {
	if err := checkKnownFields(n, reflect.TypeOf(v).Elem(), path); err != nil {
		return err
	}
	if err := n.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", strings.TrimPrefix(path, "."), err)
	}
	return nil
}

func checkKnownFields(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		if _, custom := reflect.New(t).Interface().(yaml.Unmarshaler); custom {
			return nil
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				return fmt.Errorf("%s: line %d: unknown field %q", fieldPath(path, k.Value), k.Line, k.Value)
			}
			if err := checkKnownFields(val, ft, path+"."+k.Value); err != nil {
				return err
			}
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, item := range n.Content {
			if err := checkKnownFields(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldPath(path, key string) string {
	return strings.TrimPrefix(path+"."+key, ".")
}

// yamlFields maps the YAML keys of struct type t to their field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

func yamlFieldNames(v any) map[string]bool {
	m := map[string]bool{}
	for k := range yamlFields(reflect.TypeOf(v).Elem()) {
		m[k] = true
	}
	return m
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
