package render

import (
	"strconv"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

// legendEntry is one line of a drawing's legend: a sample node, or a
// sample edge followed by its text.
type legendEntry struct {
	text string
	node attrs // style of a sample node; nil for an edge sample or text only
	edge attrs // style of a sample edge; nil for a node sample or text only
}

// kindMeaning says what an edge of each kind means, for the legend.
var kindMeaning = map[graph.Kind]string{
	graph.Hard:        "hard: cannot recover without it",
	graph.Soft:        "soft: tried, recovers without it",
	graph.Declared:    "declared: its owner says it needs it",
	graph.Alternative: "alternative: needs any one of its group",
	graph.Observed:    "observed: reached, need not known",
}

// legend lists what the drawing's colours, shapes and line styles mean,
// only for what it shows.
func (m *model) legend() []legendEntry {
	out := []legendEntry{{text: "legend:"}}
	if m.ranks {
		out = append(out, legendEntry{text: "rows: recovery waves, wave 0 on top"})
	}
	var cyclic, focus, endpoint, group, addedNode, removedNode bool
	for i := range m.nodes {
		nd := &m.nodes[i]
		cyclic = cyclic || nd.comp >= 0 || nd.cyclic > 0
		focus = focus || (nd.focus && nd.comp < 0 && nd.cyclic == 0)
		endpoint = endpoint || nd.endpoint
		group = group || nd.members > 0
		addedNode = addedNode || nd.change == added
		removedNode = removedNode || nd.change == removed
	}
	node := func(text string, set func(*attrs)) {
		a := attrs{"label=" + label(text), `shape=box`, `style="rounded,filled"`, `fillcolor="#ffffff"`, `fontsize=9`}
		set(&a)
		out = append(out, legendEntry{text: text, node: a})
	}
	if cyclic {
		node("in a bootstrap cycle", func(a *attrs) { a.q("color", colorCycle); a.q("fillcolor", colorCycleBg); a.add("penwidth", "2") })
	}
	if focus {
		node("asked about", func(a *attrs) { a.q("color", colorFocus); a.q("fillcolor", colorFocusBg); a.add("penwidth", "2.5") })
	}
	if endpoint {
		node("endpoint in no catalog service", func(a *attrs) {
			a.q("style", "rounded,dashed,filled")
			a.q("fillcolor", colorEndBg)
			a.q("color", colorSoft)
		})
	}
	if group {
		node("group of services", func(a *attrs) { a.add("shape", "box3d"); a.q("style", "filled"); a.q("fillcolor", colorGroupBg) })
	}
	if addedNode {
		node("added", func(a *attrs) { a.q("color", colorAdded); a.q("fillcolor", colorAddedBg); a.add("penwidth", "2") })
	}
	if removedNode {
		node("removed", func(a *attrs) {
			a.q("style", "rounded,dashed,filled")
			a.q("color", colorRemoved)
			a.q("fontcolor", colorRemoved)
		})
	}

	kinds := map[graph.Kind]bool{}
	var idle, inCycle, witness, newCycle, implied, addedEdge, removedEdge, changed, counted bool
	for i := range m.edges {
		e := &m.edges[i]
		from, to := &m.nodes[e.from], &m.nodes[e.to]
		switch {
		case e.idle:
			idle = true
		case e.change == same && !e.implied && !(from.comp >= 0 && from.comp == to.comp):
			kinds[e.kind] = true
		}
		inCycle = inCycle || (from.comp >= 0 && from.comp == to.comp && !e.witness && !e.newCycle && e.change == same)
		witness = witness || (e.witness && !e.newCycle)
		newCycle = newCycle || e.newCycle
		implied = implied || e.implied
		addedEdge = addedEdge || e.change == added
		removedEdge = removedEdge || e.change == removed
		changed = changed || e.change == kindChanged
		counted = counted || e.count > 1
	}
	edge := func(text string, set func(*attrs)) {
		var a attrs
		set(&a)
		out = append(out, legendEntry{text: text, edge: a})
	}
	for _, k := range []graph.Kind{graph.Hard, graph.Alternative, graph.Declared, graph.Soft, graph.Observed} {
		if kinds[k] {
			edge(kindMeaning[k], func(a *attrs) { a.q("color", kindStyle(a, k)) })
		}
	}
	if idle {
		edge("alternative the plan does not wait for", func(a *attrs) { kindStyle(a, graph.Alternative); a.add("style", "dashed"); a.q("color", colorAltIdle) })
	}
	if inCycle {
		edge("need within a bootstrap cycle", func(a *attrs) { a.q("color", colorCycle) })
	}
	if witness {
		edge("shortest cycle (witness)", func(a *attrs) { a.q("color", colorCycle); a.add("penwidth", "2.40") })
	}
	if newCycle {
		edge("on a new bootstrap cycle", func(a *attrs) { a.q("color", colorNewCycle); a.add("penwidth", "2.40") })
	}
	if implied {
		edge("implied by a longer chain", func(a *attrs) { a.q("color", colorFaint) })
	}
	if addedEdge {
		edge("added", func(a *attrs) { a.q("color", colorAdded); a.add("penwidth", "2.00") })
	}
	if removedEdge {
		edge("removed", func(a *attrs) { a.q("color", colorRemoved); a.add("arrowhead", "tee") })
	}
	if changed {
		edge("kind changed (old → new)", func(a *attrs) { a.q("color", colorChanged); a.add("penwidth", "2.00") })
	}
	if counted {
		edge("N: edges between groups, thicker for more", func(a *attrs) { a.q("color", colorInk); a.add("penwidth", "2.00") })
	}
	if len(out) == 1 {
		return nil
	}
	return out
}

// legendRow is how many legend entries share a line.
const legendRow = 2

// writeLegend writes the legend as a cluster of samples, legendRow to a
// line, first on top.
func (m *model) writeLegend(p func(string)) {
	entries := m.legend()
	if len(entries) == 0 {
		return
	}
	p("\tsubgraph cluster_legend {\n")
	// No frame, no label: a frame's label would take the space of the
	// rank above, which is the last wave's.
	p("\t\tgraph [label=\"\", peripheries=0];\n")
	id := func(i int, part string) string { return quote("legend: " + strconv.Itoa(i) + part) }
	var row []string // the nodes of a line, left to right
	flush := func(i int) {
		p("\t\t{ rank=same; ")
		for _, n := range row {
			p(n + "; ")
		}
		p("}\n")
		for j := 1; j < len(row); j++ { // keep the order: flat edges go left to right
			if !strings.HasSuffix(row[j], " text\"") {
				p("\t\t" + row[j-1] + " -> " + row[j] + " [style=invis];\n")
			}
		}
		switch {
		case i >= legendRow: // below the previous line
			p("\t\t" + id(i, "") + " -> " + id(i-legendRow, "") + " [style=invis];\n")
		case m.lastWave >= 0: // below the last wave
			p("\t\t" + id(i, "") + " -> " + quote("wave: "+strconv.Itoa(m.lastWave)) + " [style=invis];\n")
		}
		row = row[:0]
	}
	start := 0
	for i, en := range entries {
		if i%legendRow == 0 {
			start = i
		}
		switch {
		case en.node != nil:
			p("\t\t" + id(i, "") + en.node.String() + ";\n")
			row = append(row, id(i, ""))
		case en.edge != nil:
			p("\t\t" + id(i, "") + " [label=\"\", shape=point, width=0.05, color=\"" + colorSoft + "\"];\n")
			p("\t\t" + id(i, " text") + " [label=" + label(en.text) + ", shape=plaintext, style=\"\", fontsize=9];\n")
			en.edge.q("tooltip", en.text)
			p("\t\t" + id(i, "") + " -> " + id(i, " text") + en.edge.String() + ";\n")
			row = append(row, id(i, ""), id(i, " text"))
		default:
			p("\t\t" + id(i, "") + " [label=" + label(en.text) + ", shape=plaintext, style=\"\", fontsize=9];\n")
			row = append(row, id(i, ""))
		}
		if i%legendRow == legendRow-1 || i == len(entries)-1 {
			flush(start)
		}
	}
	p("\t}\n")
}
