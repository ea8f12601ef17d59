package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rgraph/rgraph/collector"
)

// ScenarioKind is the value of the kind field of a scenario document.
const ScenarioKind = "scenario"

// Defaults for the optional scenario fields; docs/scenarios.md lists them.
const (
	DefaultTimeout            = 5 * time.Minute
	DefaultStepTimeout        = time.Minute
	DefaultValidationRetries  = 10
	DefaultValidationInterval = 500 * time.Millisecond
	DefaultValidationDeadline = 30 * time.Second
	DefaultValidationTimeout  = 10 * time.Second
)

// Scenario is one recovery recipe for one service: the runbook an
// operator follows, the validation that says "healthy", and the
// allowlist of what recovery may reach. It is read from a YAML file
// (docs/scenarios.md); several scenarios may name the same service.
type Scenario struct {
	// Path is the file the scenario was loaded from, if any.
	Path string
	// Name identifies the scenario among the service's scenarios; it
	// defaults to the file name without its extension.
	Name        string
	Service     string
	Description string
	// CatalogPath is the catalog file as written (relative to the
	// scenario file), and Catalog the catalog read from it; nil without
	// one.
	CatalogPath string
	Catalog     *collector.Catalog
	Upstream    Upstream
	Resolver    Resolver
	// Allow is the committed allowlist: what recovery may use (its hard
	// dependencies).
	Allow collector.Allowlist
	// Soft lists what recovery is known to attempt without needing it
	// (caches, fallbacks): denied during runs like everything outside
	// Allow, but not reported by the creep check.
	Soft collector.Allowlist
	// Fault is how denied attempts fail; default reject.
	Fault collector.FaultMode
	// Timeout bounds the runbook and the validation together.
	Timeout time.Duration
	// Env is added to the environment of every step and validation.
	Env map[string]string
	// Files are seeded into the run's working directory before the
	// runbook starts (caches, configuration).
	Files      []File
	Runbook    []Step
	Validation Validation
}

// Upstream is the network the sandbox leaks back to: where the healthy
// services the allowlist names live.
type Upstream struct {
	// NetNS names the network namespace (as in /run/netns/NAME, `ip netns
	// add`) that the sandbox's veth peer is placed in. Empty or "host"
	// means the namespace rgraph itself runs in.
	NetNS string
	// Routes are the destinations routed from the sandbox to the upstream;
	// empty means a default route (everything), left to the allowlist to
	// restrict.
	Routes []netip.Prefix
}

// IsHost reports whether the upstream is the namespace rgraph runs in.
func (u Upstream) IsHost() bool { return u.NetNS == "" || u.NetNS == "host" }

// Resolver is the resolver configuration the sandbox's /etc/resolv.conf
// carries. The DNS stub intercepts every query whatever it says, so this
// only decides which resolver the caller believes it asks.
type Resolver struct {
	// Nameservers are written as nameserver lines; empty means copy the
	// host's /etc/resolv.conf.
	Nameservers []netip.Addr
	Search      []string
	Options     []string
}

// ResolvConf returns the resolv.conf text for r; host is the host's
// resolv.conf, used when r names no nameserver.
func (r Resolver) ResolvConf(host []byte) []byte {
	if len(r.Nameservers) == 0 {
		return host
	}
	var b bytes.Buffer
	b.WriteString("# written by rgraph for this sandbox run\n")
	for _, a := range r.Nameservers {
		fmt.Fprintf(&b, "nameserver %s\n", a)
	}
	if len(r.Search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(r.Search, " "))
	}
	if len(r.Options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(r.Options, " "))
	}
	return b.Bytes()
}

// File is a file seeded into the run's working directory.
type File struct {
	// Path is relative to the working directory.
	Path    string
	Content []byte
	Mode    os.FileMode
}

// Step is one runbook step: a shell command as an operator would type it,
// run with sh -c in the sandbox.
type Step struct {
	Name    string
	Run     string
	Timeout time.Duration
	// AllowFailure lets the runbook go on when the step exits non-zero or
	// times out; otherwise the run stops there and does not recover.
	AllowFailure bool
}

// Validation decides whether the service recovered: a command (Run) or a
// probe rgraph makes itself (Probe), tried until it passes, at most
// 1+Retries times, Interval apart, within Deadline.
type Validation struct {
	Run   string
	Probe Probe
	// Retries is how many times a failed try is repeated.
	Retries  int
	Interval time.Duration
	// Deadline bounds all tries together, from the first.
	Deadline time.Duration
	// Timeout bounds one try.
	Timeout time.Duration
}

// Command returns the validation as text: the command or the probe.
func (v Validation) Command() string {
	if v.Run != "" {
		return v.Run
	}
	return v.Probe.String()
}

// ProbeKind is the kind of a validation probe.
type ProbeKind string

// Probe kinds.
const (
	ProbeTCP  ProbeKind = "tcp"  // a TCP connect succeeds
	ProbeHTTP ProbeKind = "http" // an HTTP GET returns 2xx (http or https URL)
	ProbeUnix ProbeKind = "unix" // a unix stream socket accepts a connection
)

// Probe is a health check rgraph makes from inside the sandbox's network
// namespace, outside the recorded cgroup. Its text form is
// "tcp:ADDR:PORT", "http://..." or "https://...", or "unix:PATH".
type Probe struct {
	Kind ProbeKind
	// Target is ADDR:PORT, the URL, or the socket path.
	Target string
}

// IsZero reports whether no probe is set.
func (p Probe) IsZero() bool { return p.Kind == "" }

func (p Probe) String() string {
	switch p.Kind {
	case "":
		return ""
	case ProbeHTTP:
		return p.Target
	}
	return string(p.Kind) + ":" + p.Target
}

// ParseProbe parses the text form documented on [Probe].
func ParseProbe(s string) (Probe, error) {
	switch {
	case strings.HasPrefix(s, "tcp:"):
		t := strings.TrimPrefix(strings.TrimPrefix(s, "tcp:"), "//")
		if _, err := netip.ParseAddrPort(t); err != nil {
			return Probe{}, fmt.Errorf("want tcp:ADDR:PORT with an IP address, got %q", s)
		}
		return Probe{ProbeTCP, t}, nil
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return Probe{}, fmt.Errorf("invalid URL %q", s)
		}
		// A name would be resolved outside the sandbox's network.
		if _, err := netip.ParseAddr(u.Hostname()); err != nil && u.Hostname() != "localhost" {
			return Probe{}, fmt.Errorf("URL %q: the host must be an IP address or localhost", s)
		}
		return Probe{ProbeHTTP, s}, nil
	case strings.HasPrefix(s, "unix:"):
		t := strings.TrimPrefix(strings.TrimPrefix(s, "unix:"), "//")
		if !strings.HasPrefix(t, "/") && !strings.HasPrefix(t, "@") {
			return Probe{}, fmt.Errorf("want unix:/absolute/path, got %q", s)
		}
		return Probe{ProbeUnix, t}, nil
	}
	return Probe{}, fmt.Errorf("unknown probe %q (want tcp:ADDR:PORT, http://URL or unix:PATH)", s)
}

// LoadScenario reads, parses and validates a scenario file, and loads the
// catalog it names (relative to the file). Errors name the file, line and
// field; malformed documents give a [*ScenarioError].
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	return ParseScenario(b, path)
}

var (
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// ParseScenario parses and validates a scenario document. path names the
// document in errors, supplies the default name, and anchors the relative
// paths in it (catalog, files[].from); the catalog is loaded.
func ParseScenario(b []byte, path string) (*Scenario, error) {
	d := decoder{file: path}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ScenarioError{File: path, Msg: "empty document"}
		}
		return nil, &ScenarioError{File: path, Line: yamlErrLine(err), Msg: "invalid YAML: " + strings.TrimPrefix(yamlErrMsg(err), "yaml: ")}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &ScenarioError{File: path, Line: extra.Line, Msg: "one scenario per file: a second YAML document follows"}
	}
	if len(root.Content) == 0 {
		return nil, &ScenarioError{File: path, Msg: "empty document"}
	}
	doc := root.Content[0]
	sc := &Scenario{Path: path}
	var (
		version                         string
		kind, fault, catalog, probeText string
		files                           []*yaml.Node
		steps                           []*yaml.Node
		timeout                         time.Duration
		validation                      *yaml.Node
		allowNodes, softNodes           []*yaml.Node
	)
	seen, err := d.fields(doc, "", map[string]func(*yaml.Node, string) error{
		"schemaVersion": d.str(&version),
		"kind":          d.str(&kind),
		"name":          d.str(&sc.Name),
		"service":       d.str(&sc.Service),
		"description":   d.str(&sc.Description),
		"catalog":       d.str(&catalog),
		"upstream": func(n *yaml.Node, p string) error {
			_, err := d.fields(n, p, map[string]func(*yaml.Node, string) error{
				"netns":  d.str(&sc.Upstream.NetNS),
				"routes": d.prefixes(&sc.Upstream.Routes),
			})
			return err
		},
		"resolver": func(n *yaml.Node, p string) error {
			_, err := d.fields(n, p, map[string]func(*yaml.Node, string) error{
				"nameservers": d.addrs(&sc.Resolver.Nameservers),
				"search":      d.strings(&sc.Resolver.Search),
				"options":     d.strings(&sc.Resolver.Options),
			})
			return err
		},
		"allow": func(n *yaml.Node, p string) error {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return nil // "allow:" with nothing: allow nothing
			}
			return d.list(n, p, func(c *yaml.Node, _ string) error {
				allowNodes = append(allowNodes, c)
				return nil
			})
		},
		"soft": func(n *yaml.Node, p string) error {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return nil
			}
			return d.list(n, p, func(c *yaml.Node, _ string) error {
				softNodes = append(softNodes, c)
				return nil
			})
		},
		"fault":   d.str(&fault),
		"timeout": d.duration(&timeout),
		"env":     d.stringMap(&sc.Env, envNameRE, "environment variable"),
		"files": func(n *yaml.Node, p string) error {
			return d.list(n, p, func(c *yaml.Node, _ string) error { files = append(files, c); return nil })
		},
		"runbook": func(n *yaml.Node, p string) error {
			return d.list(n, p, func(c *yaml.Node, _ string) error { steps = append(steps, c); return nil })
		},
		"validation": func(n *yaml.Node, _ string) error { validation = n; return nil },
	})
	if err != nil {
		return nil, err
	}

	switch {
	case seen["schemaVersion"] == nil:
		return nil, d.errf(doc, "schemaVersion", "missing (want %d)", collector.SchemaVersion)
	case version != strconv.Itoa(collector.SchemaVersion):
		return nil, d.errf(seen["schemaVersion"], "schemaVersion", "unsupported version %q (this rgraph reads %d)", version, collector.SchemaVersion)
	case kind != ScenarioKind:
		return nil, d.errf(orDoc(seen["kind"], doc), "kind", "want %q, got %q", ScenarioKind, kind)
	case sc.Service == "":
		return nil, d.errf(orDoc(seen["service"], doc), "service", "missing: name the service under test")
	case strings.ContainsAny(sc.Service, " \t:/"):
		return nil, d.errf(seen["service"], "service", "invalid service name %q", sc.Service)
	}
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if !nameRE.MatchString(sc.Name) {
		return nil, d.errf(orDoc(seen["name"], doc), "name", "invalid scenario name %q (letters, digits, '.', '_', '-')", sc.Name)
	}

	if catalog != "" {
		sc.CatalogPath = catalog
		cat, err := collector.LoadCatalog(resolvePath(path, catalog))
		if err != nil {
			return nil, d.errf(seen["catalog"], "catalog", "%v", err)
		}
		sc.Catalog = cat
		if _, ok := cat.Lookup(sc.Service); !ok {
			return nil, d.errf(seen["service"], "service", "%q is not in the catalog %s", sc.Service, catalog)
		}
	}

	if sc.Allow, err = d.allowlist("allow", allowNodes, sc.Catalog, catalog); err != nil {
		return nil, err
	}
	if sc.Soft, err = d.allowlist("soft", softNodes, sc.Catalog, catalog); err != nil {
		return nil, err
	}

	sc.Fault = collector.FaultReject
	if fault != "" {
		f, err := collector.ParseFaultMode(fault)
		if err != nil {
			return nil, d.errf(seen["fault"], "fault", "%v", err)
		}
		sc.Fault = f
	}
	sc.Timeout = timeout
	if timeout == 0 {
		sc.Timeout = DefaultTimeout
	}
	if sc.Upstream.NetNS != "" && !sc.Upstream.IsHost() && !nameRE.MatchString(sc.Upstream.NetNS) {
		return nil, d.errf(seen["upstream"], "upstream.netns", "invalid namespace name %q", sc.Upstream.NetNS)
	}
	for i, s := range sc.Resolver.Search {
		if s == "" || strings.ContainsAny(s, " \t/") {
			return nil, d.errf(seen["resolver"], fmt.Sprintf("resolver.search[%d]", i), "invalid domain %q", s)
		}
	}

	for i, n := range files {
		f, err := d.seedFile(n, fmt.Sprintf("files[%d]", i), path)
		if err != nil {
			return nil, err
		}
		sc.Files = append(sc.Files, f)
	}

	if len(steps) == 0 {
		return nil, d.errf(orDoc(seen["runbook"], doc), "runbook", "missing: list at least one step (name, run, timeout)")
	}
	names := map[string]bool{}
	for i, n := range steps {
		field := fmt.Sprintf("runbook[%d]", i)
		st := Step{Timeout: DefaultStepTimeout}
		if _, err := d.fields(n, field, map[string]func(*yaml.Node, string) error{
			"name":         d.str(&st.Name),
			"run":          d.str(&st.Run),
			"timeout":      d.duration(&st.Timeout),
			"allowFailure": d.boolean(&st.AllowFailure),
		}); err != nil {
			return nil, err
		}
		if strings.TrimSpace(st.Run) == "" {
			return nil, d.errf(n, field+".run", "missing: the shell command of this step")
		}
		if st.Name == "" {
			st.Name = fmt.Sprintf("step %d", i+1)
		}
		if names[st.Name] {
			return nil, d.errf(n, field+".name", "duplicate step name %q", st.Name)
		}
		names[st.Name] = true
		sc.Runbook = append(sc.Runbook, st)
	}

	if validation == nil {
		return nil, d.errf(doc, "validation", "missing: give a run command or a probe that decides whether the service recovered")
	}
	v := Validation{
		Retries:  DefaultValidationRetries,
		Interval: DefaultValidationInterval,
		Deadline: DefaultValidationDeadline,
		Timeout:  DefaultValidationTimeout,
	}
	vseen, err := d.fields(validation, "validation", map[string]func(*yaml.Node, string) error{
		"run":      d.str(&v.Run),
		"probe":    d.str(&probeText),
		"retries":  d.integer(&v.Retries),
		"interval": d.duration(&v.Interval),
		"deadline": d.duration(&v.Deadline),
		"timeout":  d.duration(&v.Timeout),
	})
	if err != nil {
		return nil, err
	}
	switch {
	case v.Run == "" && probeText == "":
		return nil, d.errf(validation, "validation", "set run (a command) or probe (tcp:ADDR:PORT, http://URL, unix:PATH)")
	case v.Run != "" && probeText != "":
		return nil, d.errf(validation, "validation", "set run or probe, not both")
	case probeText != "":
		p, err := ParseProbe(probeText)
		if err != nil {
			return nil, d.errf(vseen["probe"], "validation.probe", "%v", err)
		}
		v.Probe = p
	}
	sc.Validation = v
	return sc, nil
}

// allowlist decodes the capabilities of an allow or soft list and checks
// their service names against the catalog.
func (d decoder) allowlist(field string, nodes []*yaml.Node, cat *collector.Catalog, catPath string) (collector.Allowlist, error) {
	out := collector.Allowlist{}
	for i, n := range nodes {
		f := fmt.Sprintf("%s[%d]", field, i)
		var c collector.Capability
		if err := n.Decode(&c); err != nil {
			return nil, d.errf(n, f, "%s", lineRE.ReplaceAllString(yamlErrMsg(err), ""))
		}
		if c.Service != "" {
			if cat == nil {
				return nil, d.errf(n, f, "service %q needs a catalog: add a catalog field", c.Service)
			}
			if _, ok := cat.Lookup(c.Service); !ok {
				return nil, d.errf(n, f, "service %q is not in the catalog %s (known: %s)", c.Service, catPath, strings.Join(cat.Names(), ", "))
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// Committed returns the rules of what the scenario commits to: its
// allowlist and its known soft attempts. The creep check ([Outside])
// reports attempts beyond them.
func (sc *Scenario) Committed() (collector.Rules, error) {
	return sc.Catalog.Expand(append(append(collector.Allowlist{}, sc.Allow...), sc.Soft...))
}

// file decodes one files[] entry.
func (d decoder) seedFile(n *yaml.Node, field, scenarioPath string) (File, error) {
	var (
		f                   File
		content, from, mode string
		hasContent          bool
	)
	seen, err := d.fields(n, field, map[string]func(*yaml.Node, string) error{
		"path": d.str(&f.Path),
		"content": func(c *yaml.Node, p string) error {
			hasContent = true
			return d.str(&content)(c, p)
		},
		"from": d.str(&from),
		"mode": d.str(&mode),
	})
	if err != nil {
		return f, err
	}
	clean := filepath.Clean(f.Path)
	switch {
	case f.Path == "":
		return f, d.errf(n, field+".path", "missing")
	case filepath.IsAbs(f.Path) || clean == ".." || strings.HasPrefix(clean, "../"):
		return f, d.errf(seen["path"], field+".path", "%q must be relative to the run's working directory and stay inside it", f.Path)
	case hasContent == (from != ""):
		return f, d.errf(n, field, "set exactly one of content and from")
	}
	f.Path = clean
	f.Content = []byte(content)
	if from != "" {
		b, err := os.ReadFile(resolvePath(scenarioPath, from))
		if err != nil {
			return f, d.errf(seen["from"], field+".from", "%v", err)
		}
		f.Content = b
	}
	f.Mode = 0o644
	if mode != "" {
		m, err := strconv.ParseUint(mode, 8, 32)
		if err != nil || m > 0o777 {
			return f, d.errf(seen["mode"], field+".mode", "want an octal permission such as \"0755\", got %q", mode)
		}
		f.Mode = os.FileMode(m)
	}
	return f, nil
}

// resolvePath interprets rel relative to the directory of the file base.
func resolvePath(base, rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(filepath.Dir(base), rel)
}

func orDoc(n, doc *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return doc
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(err error) int {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// yamlErrMsg flattens a yaml.v3 error to one line.
func yamlErrMsg(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return strings.TrimSpace(te.Errors[0])
	}
	msg := err.Error()
	msg = regexp.MustCompile(`^yaml: line \d+: `).ReplaceAllString(msg, "yaml: ")
	return msg
}
