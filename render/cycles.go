package render

import (
	"cmp"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/rgraph/rgraph/graph"
)

// Cycles writes the bootstrap cycles as text: for each component its
// members, its witness cycle "a -> b -> c -> a" with the kind and evidence
// of every edge, and the ranked cut suggestions.
//
// Components are shown largest first, then by first member. A witness is
// a proven shortest cycle unless graph.Cycles ran out of its search bound
// (WitnessExact false), which the output says. Plain records
// (one per line, tab-separated):
//
//	cycle    ID  SIZE  MEMBERS(comma-separated)  WITNESS  shortest|bounded
//	edge     ID  FROM  TO  KIND  EVIDENCE
//	cut      ID  RANK  COST  exact|greedy  EDGES(from->to:kind, comma-separated)
//	listed   ID  CYCLE-ID  CYCLE                  (bounded enumeration)
//	truncated ID                                  (enumeration hit its limit)
func Cycles(w io.Writer, t Terminal, comps []graph.Component) error {
	comps = sortedComponents(comps)
	p := newPrinter(w, t)
	if !t.TTY {
		for _, c := range comps {
			p.record("cycle", c.ID, strconv.Itoa(len(c.Members)), strings.Join(c.Members, ","), cycleChain(c.Witness), witnessSearch(c.WitnessExact))
			for _, e := range c.Witness.Edges {
				p.record("edge", c.ID, e.From, e.To, e.Kind.String(), evidenceAll(e.Evidence))
			}
			for i, cut := range c.Cuts {
				p.record("cut", c.ID, strconv.Itoa(i+1), formatCost(cut.Cost), exactness(cut.Exact), cutEdges(cut))
			}
			for _, y := range c.Cycles {
				p.record("listed", c.ID, y.ID, cycleChain(y))
			}
			if c.Truncated {
				p.record("truncated", c.ID)
			}
		}
		return p.err
	}

	if len(comps) == 0 {
		p.line(p.s.good.Render("✓ no bootstrap cycles"))
		return p.err
	}
	services := 0
	for _, c := range comps {
		services += len(c.Members)
	}
	p.line(p.s.bad.Render("✗ "+plural(len(comps), "bootstrap cycle", "bootstrap cycles")) +
		" involving " + plural(services, "service", "services"))
	for i, c := range comps {
		p.line("")
		p.line(p.s.title.Render("cycle "+strconv.Itoa(i+1)+" of "+strconv.Itoa(len(comps))) +
			p.s.dim.Render(" · "+plural(len(c.Members), "service", "services")+" · id "+c.ID))
		p.line("  members  " + strings.Join(c.Members, ", "))
		witness := "  witness  " + p.s.bad.Render(cycleChain(c.Witness))
		if !c.WitnessExact {
			witness += p.s.dim.Render(" (shortest found within the search bound)")
		}
		p.line(witness)
		p.edgeTable(4, c.Witness.Edges)
		if len(c.Cuts) > 0 {
			p.line("  to break it, cut")
			rows := make([][]string, len(c.Cuts))
			for j, cut := range c.Cuts {
				rows[j] = []string{strconv.Itoa(j+1) + ".", cutEdges(cut), formatCost(cut.Cost), exactness(cut.Exact)}
			}
			p.table(4, []string{"#", "EDGES", "COST", "SEARCH"}, rows, nil)
		}
		if len(c.Cycles) > 0 {
			more := ""
			if c.Truncated {
				more = " (limit reached, more exist)"
			}
			p.line("  " + plural(len(c.Cycles), "cycle", "cycles") + " listed" + more)
			for _, y := range c.Cycles {
				p.line("    " + cycleChain(y))
			}
		}
	}
	return p.err
}

// edgeTable writes edges with kind and evidence as a human table.
func (p *printer) edgeTable(indent int, edges []graph.Edge) {
	rows := make([][]string, len(edges))
	for i, e := range edges {
		rows[i] = []string{e.From, e.To, kindText(e), evidenceShort(e.Evidence)}
	}
	p.table(indent, []string{"FROM", "TO", "KIND", "EVIDENCE"}, rows, func(row, col int) lipgloss.Style {
		if col == 2 {
			return p.s.kind[edges[row].Kind]
		}
		return p.s.r.NewStyle()
	})
}

// kindText is an edge's kind, and for an alternative the groups it is in:
// "alternative: any one of {ns1, ns2}".
func kindText(e graph.Edge) string {
	s := e.Kind.String()
	for i, g := range e.AnyOf {
		if i == 0 {
			s += ": any one of "
		} else {
			s += "; "
		}
		s += "{" + strings.Join(g, ", ") + "}"
	}
	return s
}

// witnessSearch says whether a witness is a proven shortest cycle.
func witnessSearch(exact bool) string {
	if exact {
		return "shortest"
	}
	return "bounded"
}

func exactness(exact bool) string {
	if exact {
		return "exact"
	}
	return "greedy"
}

// cutEdges formats a cut as "a->b:hard, c->d:soft".
func cutEdges(c graph.Cut) string {
	parts := make([]string, len(c.Edges))
	for i, e := range c.Edges {
		parts[i] = e.From + "->" + e.To + ":" + e.Kind.String()
	}
	return strings.Join(parts, ", ")
}

// sortedComponents returns comps largest first, then by first member, with
// members sorted; the witness and the ranked cuts keep their order.
func sortedComponents(comps []graph.Component) []graph.Component {
	out := make([]graph.Component, len(comps))
	for i, c := range comps {
		c.Members = sortedStrings(c.Members)
		out[i] = c
	}
	slices.SortStableFunc(out, func(a, b graph.Component) int {
		if c := cmp.Compare(len(b.Members), len(a.Members)); c != 0 {
			return c
		}
		return cmp.Compare(first(a.Members), first(b.Members))
	})
	return out
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// sortedStrings returns s sorted, never nil (see sortedBy).
func sortedStrings(s []string) []string { return sortedBy(s, strings.Compare) }
