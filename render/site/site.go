package site

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/render"
)

// Site is everything the recovery documentation of one release shows.
type Site struct {
	// Release names the release documented.
	Release string
	// Generated is when the data was taken; every page shows it. The
	// caller passes it so that output stays deterministic.
	Generated time.Time
	// Graph is the release's recovery graph: needs, needed-by and the
	// drawing come from it. Required.
	Graph *graph.Graph
	// Order is the recovery plan (graph.RecoveryOrder).
	Order graph.Order
	// Cycles are the bootstrap cycles (graph.Cycles).
	Cycles []graph.Component
	// Kinds selects the edges listed as needs; 0 means graph.DefaultKinds
	// plus soft edges, which a runbook reader wants to see.
	Kinds graph.KindSet
	// Services hold what the scenarios know about each service. Every
	// service of Graph gets a page; those without an entry here get one
	// from the graph alone, which says so.
	Services []Service
	// Drawing adjusts the fleet drawing; Order, Components and Links are
	// filled in by Build.
	Drawing render.DOTOptions
	// Runtime, when set, is the recovery graph compared with the runtime
	// graph a tracing system saw (graph.Compare): the fleet page counts
	// what caches and fallbacks hide, and each service page says which of
	// its needs are called while healthy.
	Runtime *graph.Comparison
	// RuntimeSources names what the runtime graph was read from.
	RuntimeSources []string
}

// Service is what one service's page shows beyond the graph.
type Service struct {
	Name string
	// Summary is one line on what the service is.
	Summary string
	// Scenario names the recovery scenario that proves the runbook.
	Scenario string
	// Steps is the runbook, each command exactly as the operator types it.
	Steps []Step
	// Validation is the command that decides whether the service
	// recovered.
	Validation Step
	// LastPassed is when the scenario last passed; zero when it never has.
	LastPassed time.Time
	// LastRun is the run record of that pass.
	LastRun string
	// Allowlist is the minimal allowlist minimization found, or, before
	// any minimization, the allowlist a run declared (class [Declared]).
	Allowlist []Requirement
	// AllowlistFrom names the record Allowlist comes from.
	AllowlistFrom string
}

// Step is one runbook command.
type Step struct {
	// Name is an optional title ("restore the CA key").
	Name string
	// Command is shown verbatim, whitespace and all.
	Command string
}

// Class is how minimization classified an allowlist entry.
type Class string

// Classes of allowlist entries.
const (
	// Hard: recovery fails without it.
	Hard Class = "hard"
	// Soft: attempted, but recovery succeeds without it.
	Soft Class = "soft"
	// Alternative: one of a set of entries of which recovery needs any one.
	Alternative Class = "alternative"
	// Declared: in the allowlist of a run that passed, not yet minimized.
	Declared Class = "declared"
)

// Requirement is one entry of a minimal allowlist.
type Requirement struct {
	// Capability is what the allowlist lets through, as written in it:
	// a service name, "10.0.0.5:443/tcp", "dns:ca.internal", "unix:/run/x".
	Capability string
	// Service is the service the capability maps to in the catalog; empty
	// when no catalog entry claims it.
	Service string
	Class   Class
	// Group names the set of alternatives the entry belongs to, for
	// Alternative entries.
	Group string
	// Evidence says how the requirement was observed: which run, which
	// process, which endpoint or DNS name.
	Evidence []graph.Evidence
}

// File is one file of the site, with a slash-separated path relative to
// the site's root.
type File struct {
	Path string
	Data []byte
}

// ErrNoGraph is returned by [Build] and [Write] for a [Site] without a graph.
var ErrNoGraph = errors.New("site: no graph to document")

// Build renders the site: index.html, the fleet page, and
// services/<name>.html for every service of the graph, sorted by path.
// File names are the service names made safe for any file system (letters,
// digits, ".", "-" and "_", lower case, numbered on collision). It returns
// [ErrNoGraph] without a graph and the errors of [render.SVG].
func Build(ctx context.Context, s Site) ([]File, error) {
	if s.Graph == nil {
		return nil, ErrNoGraph
	}
	b := newBuilder(s)
	var files []File
	index, err := b.fleetPage(ctx)
	if err != nil {
		return nil, err
	}
	files = append(files, File{Path: "index.html", Data: index})
	for _, name := range b.names {
		page, err := b.servicePage(name)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: "services/" + b.slug[name], Data: page})
	}
	slices.SortFunc(files, func(a, b File) int { return cmp.Compare(a.Path, b.Path) })
	return files, nil
}

// Write builds the site and writes it under dir (see [WriteFiles]).
func Write(ctx context.Context, dir string, s Site) error {
	files, err := Build(ctx, s)
	if err != nil {
		return err
	}
	return WriteFiles(dir, s.Release, files)
}

// builder holds the indexes the pages share.
type builder struct {
	s        Site
	kinds    graph.KindSet
	names    []string // services with pages, sorted
	slug     map[string]string
	info     map[string]*Service
	wave     map[string]int
	group    map[string]string // service -> jumpstart group ID
	cycleOf  map[string]int    // service -> index in sorted cycles
	cycles   []graph.Component
	critical map[string]bool
	runtime  map[string]*graph.ServiceComparison
	// waits holds the member each alternative group of a service waits
	// for, by service and member; hasChoice the services with any.
	waits     map[[2]string]graph.Choice
	hasChoice map[string]bool
}

func newBuilder(s Site) *builder {
	b := &builder{s: s, slug: map[string]string{}, info: map[string]*Service{}, wave: map[string]int{},
		group: map[string]string{}, cycleOf: map[string]int{}, critical: map[string]bool{}}
	b.kinds = s.Kinds
	if b.kinds == 0 {
		b.kinds = graph.DefaultKinds | graph.Kinds(graph.Soft)
	}
	g := s.Graph
	for v := int32(0); v < int32(g.Len()); v++ {
		if g.Info(v).Type == graph.Service {
			b.names = append(b.names, g.Name(v))
		}
	}
	for i := range s.Services {
		sv := &s.Services[i]
		b.info[sv.Name] = sv
		if _, ok := g.ID(sv.Name); !ok {
			b.names = append(b.names, sv.Name) // documented but not in the graph
		}
	}
	slices.Sort(b.names)
	b.names = slices.Compact(b.names)
	used := map[string]bool{}
	for _, n := range b.names {
		base := slugOf(n)
		sl := base + ".html"
		for i := 2; used[sl]; i++ {
			sl = fmt.Sprintf("%s-%d.html", base, i)
		}
		used[sl] = true
		b.slug[n] = sl
	}
	for _, w := range s.Order.Waves {
		for _, sv := range w.Services {
			b.wave[sv] = w.Index
		}
		for _, gr := range w.Groups {
			for _, m := range gr.Members {
				b.wave[m], b.group[m] = w.Index, gr.ID
			}
		}
	}
	b.cycles = slices.Clone(s.Cycles)
	slices.SortStableFunc(b.cycles, func(x, y graph.Component) int {
		return cmp.Or(cmp.Compare(len(y.Members), len(x.Members)), cmp.Compare(firstOf(x.Members), firstOf(y.Members)))
	})
	for i, c := range b.cycles {
		for _, m := range c.Members {
			b.cycleOf[m] = i
		}
	}
	for _, sv := range s.Order.CriticalPath.Services {
		b.critical[sv] = true
	}
	b.waits, b.hasChoice = map[[2]string]graph.Choice{}, map[string]bool{}
	for _, c := range s.Order.Alternatives {
		b.waits[[2]string{c.Service, c.Chosen}] = c
		b.hasChoice[c.Service] = true
	}
	if s.Runtime != nil {
		b.runtime = map[string]*graph.ServiceComparison{}
		for i := range s.Runtime.Services {
			b.runtime[s.Runtime.Services[i].Service] = &s.Runtime.Services[i]
		}
	}
	return b
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return slices.Min(s)
}

// slugOf makes a file name from a service name.
func slugOf(name string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
	}
	s := strings.Trim(sb.String(), ".")
	if s == "" {
		s = "_"
	}
	return s
}

// link is a service name with the page it links to, relative to the page
// showing it; Href is empty for names without a page (endpoints).
type link struct {
	Name, Href string
}

func (b *builder) link(name, prefix string) link {
	if sl, ok := b.slug[name]; ok {
		return link{Name: name, Href: prefix + sl}
	}
	return link{Name: name}
}

func (b *builder) links(names []string, prefix string) []link {
	out := make([]link, len(names))
	for i, n := range names {
		out[i] = b.link(n, prefix)
	}
	return out
}

// when formats a time for pages.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func evidenceText(ev []graph.Evidence) []string {
	out := make([]string, len(ev))
	for i, e := range ev {
		var parts []string
		if e.Source != "" {
			parts = append(parts, e.Source)
		}
		if e.Scenario != "" {
			parts = append(parts, "scenario "+e.Scenario)
		}
		if e.Process != "" {
			parts = append(parts, "process "+e.Process)
		}
		if e.Endpoint != "" {
			parts = append(parts, "reached "+e.Endpoint)
		}
		if e.Detail != "" {
			parts = append(parts, e.Detail)
		}
		out[i] = strings.Join(parts, " · ")
	}
	return out
}

func execute(t *template.Template, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", t.Name(), err)
	}
	return buf.Bytes(), nil
}
