package render

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

// DiffReport is what the diff outputs show: two releases and what changed
// between them.
type DiffReport struct {
	// Old and New name the releases compared.
	Old, New string
	// Delta is what changed, as graph.Diff computes it. Findings a baseline
	// accepted should already be removed by the caller.
	Delta graph.Delta
	// Accepted is how many findings a baseline accepted; the verdict
	// mentions them. 0 when no baseline was used.
	Accepted int
	// Graph, when set, is the new release's graph: the reports take the
	// evidence of edges whose kind became hard from it (a kind change
	// carries none). Optional.
	Graph *graph.Graph
	// Gated is true when a CI gate was asked for (--fail-on). Failing then
	// holds the findings that fail it (after the baseline), and the
	// verdict's mark follows the gate instead of the default rule.
	Gated   bool
	Failing []graph.Finding
	// Open are the findings the baseline does not accept (graph/gate's
	// Report.Open), for the CI formats (JUnit, SARIF, GitHub).
	Open []graph.Finding
}

// verdict sums up a diff for a reviewer: the findings that make a release
// worse (new cycles, new hard dependencies, services pushed to a later
// wave) and the rest.
type verdict struct {
	worse    bool
	problems []string
	notes    []string
}

// hardDep is a new hard dependency: an added hard edge, with its
// evidence, or an edge whose kind became hard (Was is the old kind).
type hardDep struct {
	graph.Edge
	Was graph.Kind // 0 for an added edge
}

// newHard returns the new hard dependencies of d, sorted, with evidence
// for kind changes from g when it is not nil.
func newHard(d graph.Delta, g *graph.Graph) []hardDep {
	var out []hardDep
	for _, e := range d.AddedEdges {
		if e.Kind == graph.Hard {
			out = append(out, hardDep{Edge: e})
		}
	}
	for _, k := range d.KindChanges {
		if k.New == graph.Hard {
			h := hardDep{Edge: graph.Edge{From: k.From, To: k.To, Kind: graph.Hard}, Was: k.Old}
			if g != nil {
				h.Evidence = edgeEvidence(g, k.From, k.To)
			}
			out = append(out, h)
		}
	}
	slices.SortStableFunc(out, func(a, b hardDep) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return out
}

// edgeEvidence returns the evidence of the edge from -> to of g, if any.
func edgeEvidence(g *graph.Graph, from, to string) []graph.Evidence {
	u, ok := g.ID(from)
	if !ok {
		return nil
	}
	v, ok := g.ID(to)
	if !ok {
		return nil
	}
	if e, ok := g.Edge(u, v); ok {
		return g.Evidence(e)
	}
	return nil
}

// note is the evidence of a new hard dependency as one line, with the
// kind it had before when it changed.
func (h hardDep) note() string {
	var parts []string
	if h.Was != 0 {
		parts = append(parts, "was "+h.Was.String())
	}
	if len(h.Evidence) > 0 {
		parts = append(parts, evidenceAll(h.Evidence))
	}
	return strings.Join(parts, "; ")
}

// changeLists words the improvements and the remaining changes of d as
// sentences, with names formatted by code: what the Markdown and HTML
// reports list under "Resolved" and "Other changes".
func changeLists(d graph.Delta, code func(string) string) (resolved, other []string) {
	chain := func(c graph.Cycle) string {
		names := append(append([]string(nil), c.Services...), first(c.Services))
		for i, n := range names {
			names[i] = code(n)
		}
		return strings.Join(names, " → ")
	}
	for _, c := range d.ResolvedCycles {
		resolved = append(resolved, "cycle "+chain(c)+" broken")
	}
	for _, e := range d.RemovedEdges {
		resolved = append(resolved, code(e.From)+" no longer needs "+code(e.To)+" ("+e.Kind.String()+")")
	}
	for _, s := range d.RemovedServices {
		resolved = append(resolved, code(s)+" removed")
	}
	for _, e := range d.AddedEdges {
		if e.Kind != graph.Hard {
			other = append(other, code(e.From)+" now needs "+code(e.To)+" ("+e.Kind.String()+")")
		}
	}
	for _, k := range d.KindChanges {
		if k.New != graph.Hard {
			other = append(other, code(k.From)+" → "+code(k.To)+" changed from "+k.Old.String()+" to "+k.New.String())
		}
	}
	for _, s := range d.AddedServices {
		other = append(other, code(s)+" added")
	}
	for _, g := range d.ClosureGrowth {
		approx := ""
		if g.Estimated {
			approx = "about "
		}
		other = append(other, fmt.Sprintf("%s transitively needs %s%d services, was %s%d", code(g.Service), approx, g.New, approx, g.Old))
	}
	return resolved, other
}

func (r DiffReport) verdict() verdict {
	d := r.Delta
	var v verdict
	add := func(list *[]string, n int, one, many string) {
		if n > 0 {
			*list = append(*list, plural(n, one, many))
		}
	}
	add(&v.problems, len(d.NewCycles), "new bootstrap cycle", "new bootstrap cycles")
	add(&v.problems, len(newHard(d, nil)), "new hard dependency", "new hard dependencies")
	add(&v.problems, len(d.LaterWave), "service pushed to a later wave", "services pushed to a later wave")
	v.worse = len(v.problems) > 0
	if r.Gated {
		v.worse = len(r.Failing) > 0
		if v.worse {
			v.notes = append(v.notes, "the gate fails on "+plural(len(r.Failing), "finding", "findings"))
		} else {
			v.notes = append(v.notes, "the gate passes")
		}
	}
	add(&v.notes, len(d.ResolvedCycles), "cycle resolved", "cycles resolved")
	add(&v.notes, len(d.RemovedEdges), "edge removed", "edges removed")
	other := 0
	for _, e := range d.AddedEdges {
		if e.Kind != graph.Hard {
			other++
		}
	}
	add(&v.notes, other, "other edge added", "other edges added")
	add(&v.notes, len(d.AddedServices), "service added", "services added")
	add(&v.notes, len(d.RemovedServices), "service removed", "services removed")
	add(&v.notes, r.Accepted, "finding accepted by the baseline", "findings accepted by the baseline")
	return v
}

// text is the verdict as one sentence without the mark.
func (v verdict) text() string {
	s := v.headline()
	if len(v.notes) > 0 {
		s += "; " + strings.Join(v.notes, ", ")
	}
	return s
}

// normalizedDelta returns d with every list sorted and never nil.
func normalizedDelta(d graph.Delta) graph.Delta {
	d.AddedServices = sortedStrings(d.AddedServices)
	d.RemovedServices = sortedStrings(d.RemovedServices)
	d.AddedEdges = sortedEdges(d.AddedEdges)
	d.RemovedEdges = sortedEdges(d.RemovedEdges)
	d.KindChanges = sortedBy(d.KindChanges, func(a, b graph.KindChange) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	d.NewCycles = sortedCycles(d.NewCycles)
	d.ResolvedCycles = sortedCycles(d.ResolvedCycles)
	d.LaterWave = sortedBy(d.LaterWave, func(a, b graph.WaveShift) int { return cmp.Compare(a.Service, b.Service) })
	d.ClosureGrowth = sortedBy(d.ClosureGrowth, func(a, b graph.Growth) int { return cmp.Compare(a.Service, b.Service) })
	return d
}

// sortedBy returns xs sorted by compare (stably), never nil: xs itself
// when it is sorted already, as graph's results are (a diff of a fleet
// holds a million items), otherwise a sorted copy.
func sortedBy[T any](xs []T, compare func(a, b T) int) []T {
	if xs == nil {
		return []T{}
	}
	if slices.IsSortedFunc(xs, compare) {
		return xs
	}
	out := slices.Clone(xs)
	slices.SortStableFunc(out, compare)
	return out
}

func edgeOrder(a, b graph.Edge) int {
	return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
}

// sortedEdges returns es sorted, never nil (see sortedBy).
func sortedEdges(es []graph.Edge) []graph.Edge { return sortedBy(es, edgeOrder) }

// sortedCycles returns cycles sorted by their first (smallest) service,
// then ID, never nil.
func sortedCycles(cs []graph.Cycle) []graph.Cycle {
	out := append([]graph.Cycle{}, cs...)
	slices.SortStableFunc(out, func(a, b graph.Cycle) int {
		return cmp.Or(cmp.Compare(first(a.Services), first(b.Services)), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Diff writes what changed between two releases as text: a verdict line,
// then one section per kind of change, worst first.
//
// Plain records (one per line, tab-separated):
//
//	verdict  worse|ok  SUMMARY
//	cycle    new|resolved  ID  CYCLE(a -> b -> a)
//	edge     added|removed  FROM  TO  KIND  EVIDENCE
//	kind     FROM  TO  OLD  NEW
//	wave     SERVICE  OLD  NEW
//	closure  SERVICE  OLD  NEW  exact|estimated
//	service  added|removed  NAME
//	failing  CATEGORY  KEY  MESSAGE      (with a gate: findings that fail it)
func Diff(w io.Writer, t Terminal, r DiffReport) error {
	d := normalizedDelta(r.Delta)
	v := r.verdict()
	p := newPrinter(w, t)
	if !t.TTY {
		state := "ok"
		if v.worse {
			state = "worse"
		}
		p.record("verdict", state, v.text())
		for _, c := range d.NewCycles {
			p.record("cycle", "new", c.ID, cycleChain(c))
		}
		for _, c := range d.ResolvedCycles {
			p.record("cycle", "resolved", c.ID, cycleChain(c))
		}
		for _, e := range d.AddedEdges {
			p.record("edge", "added", e.From, e.To, e.Kind.String(), evidenceAll(e.Evidence))
		}
		for _, e := range d.RemovedEdges {
			p.record("edge", "removed", e.From, e.To, e.Kind.String(), evidenceAll(e.Evidence))
		}
		for _, k := range d.KindChanges {
			p.record("kind", k.From, k.To, k.Old.String(), k.New.String())
		}
		for _, s := range d.LaterWave {
			p.record("wave", s.Service, strconv.Itoa(s.Old), strconv.Itoa(s.New))
		}
		for _, g := range d.ClosureGrowth {
			p.record("closure", g.Service, strconv.Itoa(g.Old), strconv.Itoa(g.New), estimated(g.Estimated))
		}
		for _, s := range d.AddedServices {
			p.record("service", "added", s)
		}
		for _, s := range d.RemovedServices {
			p.record("service", "removed", s)
		}
		for _, f := range r.Failing {
			p.record("failing", string(f.Category), f.Key, f.Message)
		}
		return p.err
	}

	mark := p.s.good.Render("✓")
	if v.worse {
		mark = p.s.bad.Render("✗")
	}
	p.line(mark + " " + p.s.title.Render(r.Old+" → "+r.New) + ": " + v.text())
	section := func(title string, n int) bool {
		if n == 0 {
			return false
		}
		p.line("")
		p.line(p.s.title.Render(title) + p.s.dim.Render(" ("+strconv.Itoa(n)+")"))
		return true
	}
	if section("New bootstrap cycles", len(d.NewCycles)) {
		for _, c := range d.NewCycles {
			p.line("  " + p.s.bad.Render(cycleChain(c)) + p.s.dim.Render("  id "+c.ID))
			p.edgeTable(4, c.Edges)
		}
	}
	if hard := newHard(d, r.Graph); section("New hard dependencies", len(hard)) {
		edges := make([]graph.Edge, len(hard))
		for i, h := range hard {
			edges[i] = h.Edge
		}
		p.edgeTable(2, edges)
	}
	if section("Pushed to a later wave", len(d.LaterWave)) {
		rows := make([][]string, len(d.LaterWave))
		for i, s := range d.LaterWave {
			rows[i] = []string{s.Service, strconv.Itoa(s.Old), strconv.Itoa(s.New)}
		}
		p.table(2, []string{"SERVICE", "WAS", "NOW"}, rows, nil)
	}
	if section("Kind changes", len(d.KindChanges)) {
		rows := make([][]string, len(d.KindChanges))
		for i, k := range d.KindChanges {
			rows[i] = []string{k.From, k.To, k.Old.String() + " → " + k.New.String()}
		}
		p.table(2, []string{"FROM", "TO", "KIND"}, rows, nil)
	}
	var other []graph.Edge
	for _, e := range d.AddedEdges {
		if e.Kind != graph.Hard {
			other = append(other, e)
		}
	}
	if section("Other added edges", len(other)) {
		p.edgeTable(2, other)
	}
	if section("Resolved cycles", len(d.ResolvedCycles)) {
		for _, c := range d.ResolvedCycles {
			p.line("  " + p.s.good.Render(cycleChain(c)) + p.s.dim.Render("  id "+c.ID))
		}
	}
	if section("Removed edges", len(d.RemovedEdges)) {
		p.edgeTable(2, d.RemovedEdges)
	}
	if section("Services", len(d.AddedServices)+len(d.RemovedServices)) {
		for _, s := range d.AddedServices {
			p.line("  + " + s)
		}
		for _, s := range d.RemovedServices {
			p.line("  - " + s)
		}
	}
	if section("Transitive needs grew", len(d.ClosureGrowth)) {
		rows := make([][]string, len(d.ClosureGrowth))
		for i, g := range d.ClosureGrowth {
			approx := ""
			if g.Estimated {
				approx = "≈"
			}
			rows[i] = []string{g.Service, approx + strconv.Itoa(g.Old), approx + strconv.Itoa(g.New), "+" + strconv.Itoa(g.New-g.Old)}
		}
		p.table(2, []string{"SERVICE", "WAS", "NOW", "GROWTH"}, rows, nil)
	}
	if section("Failing the gate", len(r.Failing)) {
		for _, f := range r.Failing {
			p.line("  " + p.s.bad.Render(string(f.Category)) + "  " + f.Message)
		}
	}
	return p.err
}

func estimated(e bool) string {
	if e {
		return "estimated"
	}
	return "exact"
}
