package sandbox

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/decode"
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
	Files []File
	// User is whom the steps and the validation run as, unless a step
	// names its own; it owns the working directory. Nil means root.
	User       *User
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
	// User is whom the step runs as; nil means the scenario's user.
	User *User
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
	// UntilDeadline keeps trying until the deadline even when no process
	// of the runbook is left (a runbook that hands its work to something
	// outside the sandbox). By default a try that fails once the runbook
	// has no process left ends the run: nothing can make it pass.
	UntilDeadline bool
}

// Command returns the validation as text: the command or the probe.
func (v Validation) Command() string {
	if v.Run != "" {
		return v.Run
	}
	return v.Probe.String()
}

// LoadScenario reads, parses and validates a scenario file, and loads the
// catalog it names (relative to the file). Errors about the content are
// *decode.Error values (package collector/decode) naming the file, line
// and field, and match [ErrInvalidScenario].
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

// scenarioDoc holds the parts of a scenario document that are decoded
// after the fields they depend on.
type scenarioDoc struct {
	doc                                 *yaml.Node
	seen                                map[string]*yaml.Node // key nodes by field
	version, kind, fault, catalog, user string
	timeout                             time.Duration
	allow, soft, files, steps           []*yaml.Node
	validation                          *yaml.Node
}

// ParseScenario parses and validates a scenario document. path names the
// document in errors, supplies the default name, and anchors the relative
// paths in it (catalog, files[].from); the catalog is loaded.
func ParseScenario(b []byte, path string) (*Scenario, error) {
	d := decode.New(path, ErrInvalidScenario)
	doc, err := d.YAML(b)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, d.Errorf(0, 0, "", "empty document")
	}
	sc := &Scenario{Path: path}
	sd, err := decodeTop(d, doc, sc)
	if err != nil {
		return nil, err
	}
	if err := checkHead(d, sd, sc); err != nil {
		return nil, err
	}
	if sd.catalog != "" {
		sc.CatalogPath = sd.catalog
		cat, err := collector.LoadCatalog(resolvePath(path, sd.catalog))
		if err != nil {
			return nil, d.Wrap(sd.seen["catalog"].Line, "catalog", err)
		}
		sc.Catalog = cat
		if _, ok := cat.Lookup(sc.Service); !ok {
			return nil, d.NodeErrorf(sd.seen["service"], "service", "%q is not in the catalog %s", sc.Service, sd.catalog)
		}
	}
	if sc.Allow, err = decodeAllowlist(d, "allow", sd.allow, sc.Catalog, sd.catalog); err != nil {
		return nil, err
	}
	if sc.Soft, err = decodeAllowlist(d, "soft", sd.soft, sc.Catalog, sd.catalog); err != nil {
		return nil, err
	}
	sc.Fault = collector.FaultReject
	if sd.fault != "" {
		f, err := collector.ParseFaultMode(sd.fault)
		if err != nil {
			return nil, d.NodeErrorf(sd.seen["fault"], "fault", "%v", err)
		}
		sc.Fault = f
	}
	sc.Timeout = sd.timeout
	if sd.timeout == 0 {
		sc.Timeout = DefaultTimeout
	}
	if sc.Upstream.NetNS != "" && !sc.Upstream.IsHost() && !nameRE.MatchString(sc.Upstream.NetNS) {
		return nil, d.NodeErrorf(sd.seen["upstream"], "upstream.netns", "invalid namespace name %q", sc.Upstream.NetNS)
	}
	for i, s := range sc.Resolver.Search {
		if s == "" || strings.ContainsAny(s, " \t/") {
			return nil, d.NodeErrorf(sd.seen["resolver"], decode.Index("resolver.search", i), "invalid domain %q", s)
		}
	}
	for i, n := range sd.files {
		f, err := decodeFile(d, n, decode.Index("files", i), path)
		if err != nil {
			return nil, err
		}
		sc.Files = append(sc.Files, f)
	}
	if sd.user != "" {
		if sc.User, err = LookupUser(sd.user); err != nil {
			return nil, d.NodeErrorf(sd.seen["user"], "user", "%v", err)
		}
	}
	if sc.Runbook, err = decodeRunbook(d, sd); err != nil {
		return nil, err
	}
	if sc.Validation, err = decodeValidation(d, sd); err != nil {
		return nil, err
	}
	return sc, nil
}

// decodeTop decodes the top-level fields: those that stand alone into sc,
// the others into the returned scenarioDoc.
func decodeTop(d *decode.Decoder, doc *yaml.Node, sc *Scenario) (*scenarioDoc, error) {
	sd := &scenarioDoc{doc: doc}
	seen, err := d.Fields(doc, "", map[string]decode.Field{
		"schemaVersion": d.String(&sd.version),
		"kind":          d.String(&sd.kind),
		"name":          d.String(&sc.Name),
		"service":       d.String(&sc.Service),
		"description":   d.String(&sc.Description),
		"catalog":       d.String(&sd.catalog),
		"upstream": func(n *yaml.Node, p string) error {
			_, err := d.Fields(n, p, map[string]decode.Field{
				"netns":  d.String(&sc.Upstream.NetNS),
				"routes": prefixes(d, &sc.Upstream.Routes),
			})
			return err
		},
		"resolver": func(n *yaml.Node, p string) error {
			_, err := d.Fields(n, p, map[string]decode.Field{
				"nameservers": addrs(d, &sc.Resolver.Nameservers),
				"search":      d.Strings(&sc.Resolver.Search),
				"options":     d.Strings(&sc.Resolver.Options),
			})
			return err
		},
		"allow":      nodes(d, &sd.allow), // "allow:" with nothing allows nothing
		"soft":       nodes(d, &sd.soft),
		"fault":      d.String(&sd.fault),
		"timeout":    d.Duration(&sd.timeout),
		"env":        d.StringMap(&sc.Env, envNameRE, "environment variable"),
		"files":      nodes(d, &sd.files),
		"user":       d.String(&sd.user),
		"runbook":    nodes(d, &sd.steps),
		"validation": func(n *yaml.Node, _ string) error { sd.validation = n; return nil },
	})
	sd.seen = seen
	return sd, err
}

// checkHead checks the version, the kind and the names.
func checkHead(d *decode.Decoder, sd *scenarioDoc, sc *Scenario) error {
	at := func(field string) *yaml.Node { return orDoc(sd.seen[field], sd.doc) }
	switch {
	case sd.seen["schemaVersion"] == nil:
		return d.NodeErrorf(sd.doc, "schemaVersion", "missing (want %d)", collector.SchemaVersion)
	case sd.version != strconv.Itoa(collector.SchemaVersion):
		return d.NodeErrorf(at("schemaVersion"), "schemaVersion", "unsupported version %q (this rgraph reads %d)", sd.version, collector.SchemaVersion)
	case sd.kind != ScenarioKind:
		return d.NodeErrorf(at("kind"), "kind", "want %q, got %q", ScenarioKind, sd.kind)
	case sc.Service == "":
		return d.NodeErrorf(at("service"), "service", "missing: name the service under test")
	}
	if err := collector.CheckServiceName(sc.Service); err != nil {
		return d.NodeErrorf(at("service"), "service", "%v", err)
	}
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(filepath.Base(sc.Path), filepath.Ext(sc.Path))
	}
	if !nameRE.MatchString(sc.Name) {
		return d.NodeErrorf(at("name"), "name", "invalid scenario name %q (letters, digits, '.', '_', '-')", sc.Name)
	}
	return nil
}

// decodeRunbook decodes the runbook's steps, with their defaults.
func decodeRunbook(d *decode.Decoder, sd *scenarioDoc) ([]Step, error) {
	if len(sd.steps) == 0 {
		return nil, d.NodeErrorf(orDoc(sd.seen["runbook"], sd.doc), "runbook", "missing: list at least one step (name, run, timeout)")
	}
	var out []Step
	names := map[string]bool{}
	for i, n := range sd.steps {
		field := decode.Index("runbook", i)
		st := Step{Timeout: DefaultStepTimeout}
		var who string
		seen, err := d.Fields(n, field, map[string]decode.Field{
			"name":         d.String(&st.Name),
			"run":          d.String(&st.Run),
			"timeout":      d.Duration(&st.Timeout),
			"allowFailure": d.Bool(&st.AllowFailure),
			"user":         d.String(&who),
		})
		if err != nil {
			return nil, err
		}
		if who != "" {
			if st.User, err = LookupUser(who); err != nil {
				return nil, d.NodeErrorf(seen["user"], field+".user", "%v", err)
			}
		}
		if strings.TrimSpace(st.Run) == "" {
			return nil, d.NodeErrorf(n, field+".run", "missing: the shell command of this step")
		}
		if st.Name == "" {
			st.Name = fmt.Sprintf("step %d", i+1)
		}
		if names[st.Name] {
			return nil, d.NodeErrorf(n, field+".name", "duplicate step name %q", st.Name)
		}
		names[st.Name] = true
		out = append(out, st)
	}
	return out, nil
}

// LookupUser finds a user by name or numeric ID in this machine's user
// database (/etc/passwd and /etc/group, or what NSS serves), with its
// primary and supplementary groups and its home directory.
func LookupUser(name string) (*User, error) {
	var (
		u   *user.User
		err error
	)
	if _, nerr := strconv.ParseUint(name, 10, 32); nerr == nil {
		u, err = user.LookupId(name)
	} else {
		u, err = user.Lookup(name)
	}
	if err != nil {
		return nil, fmt.Errorf("no user %q on this machine (want a name or ID from its passwd database)", name)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %q has a non-numeric ID (%s:%s)", name, u.Uid, u.Gid)
	}
	out := &User{Name: u.Username, UID: uint32(uid), GID: uint32(gid), Home: u.HomeDir}
	ids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("groups of user %q: %w", name, err)
	}
	for _, id := range ids {
		if g, err := strconv.ParseUint(id, 10, 32); err == nil {
			out.Groups = append(out.Groups, uint32(g))
		}
	}
	return out, nil
}

// decodeValidation decodes the validation: a command or a probe, with the
// retry policy and its defaults.
func decodeValidation(d *decode.Decoder, sd *scenarioDoc) (Validation, error) {
	n := sd.validation
	if n == nil {
		return Validation{}, d.NodeErrorf(sd.doc, "validation", "missing: give a run command or a probe that decides whether the service recovered")
	}
	v := Validation{
		Retries:  DefaultValidationRetries,
		Interval: DefaultValidationInterval,
		Deadline: DefaultValidationDeadline,
		Timeout:  DefaultValidationTimeout,
	}
	var (
		probe, body string
		status      int
	)
	seen, err := d.Fields(n, "validation", map[string]decode.Field{
		"run":           d.String(&v.Run),
		"probe":         d.String(&probe),
		"status":        d.Count(&status),
		"body":          d.String(&body),
		"retries":       d.Count(&v.Retries),
		"interval":      d.Duration(&v.Interval),
		"deadline":      d.Duration(&v.Deadline),
		"timeout":       d.Duration(&v.Timeout),
		"untilDeadline": d.Bool(&v.UntilDeadline),
	})
	if err != nil {
		return v, err
	}
	switch {
	case v.Run == "" && probe == "":
		return v, d.NodeErrorf(n, "validation", "set run (a command) or probe (tcp:ADDR:PORT, udp:ADDR:PORT, http://URL, unix:PATH, dns:NAME@ADDR)")
	case v.Run != "" && probe != "":
		return v, d.NodeErrorf(n, "validation", "set run or probe, not both")
	case probe != "":
		p, err := ParseProbe(probe)
		if err != nil {
			return v, d.NodeErrorf(seen["probe"], "validation.probe", "%v", err)
		}
		v.Probe = p
	}
	for _, f := range []string{"status", "body"} {
		if seen[f] != nil && v.Probe.Kind != ProbeHTTP {
			return v, d.NodeErrorf(seen[f], "validation."+f, "applies to an http:// or https:// probe only")
		}
	}
	if seen["status"] != nil {
		if status < 100 || status > 599 {
			return v, d.NodeErrorf(seen["status"], "validation.status", "want an HTTP status from 100 to 599, got %d", status)
		}
		v.Probe.Status = status
	}
	if seen["body"] != nil {
		if _, err := regexp.Compile(body); err != nil {
			return v, d.NodeErrorf(seen["body"], "validation.body", "want a regular expression (RE2 syntax): %v", err)
		}
		v.Probe.Body = body
	}
	return v, nil
}

// decodeAllowlist decodes the capabilities of an allow or soft list and
// checks their service names against the catalog.
func decodeAllowlist(d *decode.Decoder, field string, nodes []*yaml.Node, cat *collector.Catalog, catPath string) (collector.Allowlist, error) {
	out := collector.Allowlist{}
	for i, n := range nodes {
		f := decode.Index(field, i)
		var c collector.Capability
		if err := d.Decode(n, f, &c); err != nil {
			return nil, err
		}
		if c.Service != "" {
			if cat == nil {
				return nil, d.NodeErrorf(n, f, "service %q needs a catalog: add a catalog field", c.Service)
			}
			if _, ok := cat.Lookup(c.Service); !ok {
				return nil, d.NodeErrorf(n, f, "service %q is not in the catalog %s (known: %s)", c.Service, catPath, strings.Join(cat.Names(), ", "))
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

// decodeFile decodes one files[] entry.
func decodeFile(d *decode.Decoder, n *yaml.Node, field, scenarioPath string) (File, error) {
	var (
		f                   File
		content, from, mode string
		hasContent          bool
	)
	seen, err := d.Fields(n, field, map[string]decode.Field{
		"path": d.String(&f.Path),
		"content": func(c *yaml.Node, p string) error {
			hasContent = true
			return d.String(&content)(c, p)
		},
		"from": d.String(&from),
		"mode": d.String(&mode),
	})
	if err != nil {
		return f, err
	}
	clean := filepath.Clean(f.Path)
	switch {
	case f.Path == "":
		return f, d.NodeErrorf(n, field+".path", "missing")
	case filepath.IsAbs(f.Path) || clean == ".." || strings.HasPrefix(clean, "../"):
		return f, d.NodeErrorf(seen["path"], field+".path", "%q must be relative to the run's working directory and stay inside it", f.Path)
	case hasContent == (from != ""):
		return f, d.NodeErrorf(n, field, "set exactly one of content and from")
	}
	f.Path = clean
	f.Content = []byte(content)
	if from != "" {
		b, err := os.ReadFile(resolvePath(scenarioPath, from))
		if err != nil {
			return f, d.Wrap(seen["from"].Line, field+".from", err)
		}
		f.Content = b
	}
	f.Mode = 0o644
	if mode != "" {
		m, err := strconv.ParseUint(mode, 8, 32)
		if err != nil || m > 0o777 {
			return f, d.NodeErrorf(seen["mode"], field+".mode", "want an octal permission such as \"0755\", got %q", mode)
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
