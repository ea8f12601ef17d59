package render

import (
	"bufio"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

// DOTOptions select what a drawing shows and how it stays legible. The
// zero value draws every node and edge of the graph, and simplifies the
// drawing by itself when it has more than [DefaultLarge] nodes.
type DOTOptions struct {
	// Title is the drawing's caption, above the notes on what was
	// simplified. Default: none.
	Title string
	// Kinds selects the edges drawn. Default (0): every kind.
	Kinds graph.KindSet
	// Order, when set, puts each wave on a rank of its own, wave 0 at the
	// top, with a "wave N" caption on the left. Default: no ranks.
	Order *graph.Order
	// Components are the bootstrap cycles to highlight: members and edges
	// between members of one component in red, witness edges thicker.
	// Default: the jumpstart groups of Order, if any.
	Components []graph.Component
	// CyclesOnly draws only the members of Components and the edges within
	// each component. Default: false.
	CyclesOnly bool
	// Focus lists services to emphasize, such as the target of a subgraph.
	Focus []string
	// ContractEndpoints folds unmapped endpoints into the services that
	// need them (see [DOT]). Default: only when the drawing is large.
	ContractEndpoints bool
	// Reduce leaves out edges implied by longer chains (transitive
	// reduction of the condensation). Default: only when the drawing is
	// large.
	Reduce bool
	// ShowImplied draws the edges Reduce removes faintly, without
	// influencing the layout, instead of leaving them out.
	ShowImplied bool
	// GroupBy draws services in clusters by owner, tier or wave; a large
	// drawing collapses each group into one node instead. Default:
	// GroupNone, no clusters, and large drawings choose a key themselves.
	GroupBy GroupBy
	// Links, when set, returns the URL a service's node links to in SVG
	// output ("" for none), such as its runbook page. Groups and
	// endpoints never link. Default: no links.
	Links func(service string) string
	// Large is the node count above which the drawing simplifies itself:
	// endpoints are contracted, implied edges left out, and groups
	// collapsed into single nodes (members of cycles and focused services
	// stay visible when there are few). Default (0): [DefaultLarge];
	// negative: never.
	Large int
}

// DOT writes g as a Graphviz DOT digraph. The output is byte-stable: the
// same graph and options give the same bytes.
//
// Edges point from a service to what it needs, laid out bottom to top, so
// that what recovers first is on top. Edge style says how the edge is
// known: hard solid, soft dashed grey, declared dotted, alternative blue,
// observed dotted light grey. Cycle members and edges are red; witness
// edges thicker. Unmapped endpoints are dashed grey boxes. A caller that
// wants the subgraph of a target passes that subgraph as g.
//
// Legibility: contracting endpoints replaces each endpoint by edges from
// the services that need it to the services it needs, and lists the
// endpoints in the service's label; nothing is silently dropped. The
// transitive reduction is computed on the condensation, so cycle edges are
// always kept. Every simplification applied is noted in the caption.
func DOT(w io.Writer, g *graph.Graph, opt DOTOptions) error {
	if g == nil {
		return errNilGraph
	}
	m := fromGraph(g, opt)
	m.simplify(opt)
	return m.writeDOT(w)
}

var errNilGraph = errors.New("render: no graph to draw")

// Palette of the drawings.
const (
	colorInk      = "#333333"
	colorSoft     = "#8a8a8a"
	colorFaint    = "#d0d0d0"
	colorAlt      = "#2b6cb0"
	colorAltIdle  = "#9bb9dd"
	colorCycle    = "#d62728"
	colorCycleBg  = "#fdecea"
	colorFocus    = "#1f3b73"
	colorFocusBg  = "#e3ecfa"
	colorEndBg    = "#f4f4f4"
	colorGroupBg  = "#eef2f7"
	colorCluster  = "#f7f7f7"
	colorAdded    = "#1a7f37"
	colorAddedBg  = "#dafbe1"
	colorRemoved  = "#cf222e"
	colorChanged  = "#bc4c00"
	colorNewCycle = "#8250df"
)

// attrs builds a DOT attribute list in the order keys are first set; a
// key set again keeps its place and takes the new value.
type attrs []string

func (a *attrs) add(key, value string) {
	kv := key + "=" + value
	for i, x := range *a {
		if strings.HasPrefix(x, key+"=") {
			(*a)[i] = kv
			return
		}
	}
	*a = append(*a, kv)
}

func (a *attrs) q(key, value string) { a.add(key, quote(value)) }

func (a attrs) String() string {
	if len(a) == 0 {
		return ""
	}
	return " [" + strings.Join(a, ", ") + "]"
}

// quote returns s as a DOT quoted string. Backslashes are doubled, so
// names never turn into DOT escapes; line breaks become "\n".
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}

// label quotes a label made of lines, each escaped, joined by "\n".
func label(lines ...string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ", "\r", "")
	for i, l := range lines {
		lines[i] = r.Replace(l)
	}
	return `"` + strings.Join(lines, `\n`) + `"`
}

func (m *model) nodeAttrs(nd *dnode) attrs {
	var a attrs
	lines := []string{nd.label}
	if nd.members > 0 {
		lines = append(lines, plural(nd.members, "service", "services"))
		if nd.cyclic > 0 && nd.cyclic < nd.members {
			lines = append(lines, strconv.Itoa(nd.cyclic)+" in cycles")
		}
	}
	if len(nd.endpoints) > 0 && nd.members == 0 {
		lines = append(lines, "+"+plural(len(nd.endpoints), "endpoint", "endpoints"))
	}
	a.add("label", label(lines...))
	switch {
	case nd.members > 0:
		a.add("shape", "box3d")
		a.q("style", "filled")
		a.q("fillcolor", colorGroupBg)
	case nd.endpoint:
		a.q("style", "rounded,dashed,filled")
		a.q("fillcolor", colorEndBg)
		a.q("color", colorSoft)
		a.q("fontcolor", "#555555")
		a.add("fontsize", "9")
	}
	switch nd.change {
	case added:
		a.q("color", colorAdded)
		a.q("fillcolor", colorAddedBg)
		a.add("penwidth", "2")
	case removed:
		a.q("style", "rounded,dashed,filled")
		a.q("color", colorRemoved)
		a.q("fontcolor", colorRemoved)
	}
	switch {
	case nd.comp >= 0 || nd.cyclic > 0:
		a.q("color", colorCycle)
		if nd.change == same {
			a.q("fillcolor", colorCycleBg)
		}
		a.add("penwidth", "2")
	case nd.focus:
		a.q("color", colorFocus)
		a.q("fillcolor", colorFocusBg)
		a.add("penwidth", "2.5")
	}
	a.q("tooltip", nd.tooltip())
	if m.links != nil && nd.members == 0 && !nd.endpoint {
		if url := m.links(nd.id); url != "" {
			a.q("URL", url)
			a.q("target", "_top")
		}
	}
	return a
}

// kindStyle sets the line style of an edge of kind k and returns its
// colour.
func kindStyle(a *attrs, k graph.Kind) string {
	switch k {
	case graph.Soft:
		a.add("style", "dashed")
		return colorSoft
	case graph.Declared:
		a.add("style", "dotted")
	case graph.Alternative:
		a.add("arrowhead", "vee")
		return colorAlt
	case graph.Observed:
		a.add("style", "dotted")
		a.add("arrowhead", "vee")
		return colorSoft
	}
	return colorInk
}

func (m *model) edgeAttrs(e *dedge) attrs {
	var a attrs
	from, to := &m.nodes[e.from], &m.nodes[e.to]
	color := kindStyle(&a, e.kind)
	if e.idle {
		a.add("style", "dashed")
		color = colorAltIdle
	}
	width := 1.2
	inCycle := from.comp >= 0 && from.comp == to.comp
	if inCycle {
		color = colorCycle
	}
	if e.witness {
		width = 2.4
		if !inCycle {
			color = colorNewCycle
		}
	}
	if e.newCycle { // in a diff, new cycles stand out from old ones
		color = colorNewCycle
	}
	switch e.change {
	case added:
		color = colorAdded
		width = max(width, 2)
	case removed:
		color = colorRemoved
		a.add("arrowhead", "tee")
	case kindChanged:
		color = colorChanged
		width = max(width, 2)
		a.q("label", " "+e.oldKind.String()+" → "+e.kind.String())
		a.q("fontcolor", colorChanged)
	}
	if e.count > 1 {
		// xlabel, not label: edge labels become nodes of the layout and
		// make dense drawings slow to lay out.
		a.q("xlabel", strconv.Itoa(e.count))
		width = max(width, math.Min(1+math.Log2(float64(e.count)), 5))
	}
	if e.implied {
		color = colorFaint
		a.add("constraint", "false")
	}
	// Ranks are waves, what recovers first on top. An edge that points
	// from an earlier wave to a later one (a kind the waves do not come
	// from, or an alternative not waited for) must not pull its ends out
	// of their ranks.
	if m.ranks && from.wave >= 0 && to.wave >= 0 && from.wave < to.wave {
		a.add("constraint", "false")
	}
	a.q("color", color)
	if width != 1.2 {
		a.add("penwidth", strconv.FormatFloat(width, 'f', 2, 64))
	}
	tip := from.id + " needs " + to.id + " (" + e.kind.String() + ")"
	if e.idle {
		tip += ", an alternative the recovery plan does not wait for"
	}
	if e.via > 0 {
		tip += " via " + plural(e.via, "unmapped endpoint", "unmapped endpoints")
	}
	if e.count > 1 {
		tip = strconv.Itoa(e.count) + " edges from " + from.label + " to " + to.label + ", strongest " + e.kind.String()
	}
	if e.implied {
		tip += ", implied by a longer chain"
	}
	a.q("tooltip", tip)
	return a
}

// writeDOT writes the model as DOT.
func (m *model) writeDOT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(s string) { bw.WriteString(s) }
	p("digraph rgraph {\n")
	var ga attrs
	ga.add("rankdir", "BT")
	ga.add("newrank", "true")
	ga.q("fontname", "Helvetica")
	ga.add("fontsize", "12")
	ga.add("nodesep", "0.3")
	ga.add("ranksep", "0.45")
	if caption := m.caption(); caption != "" {
		ga.add("labelloc", "t")
		ga.add("labeljust", "l")
		ga.add("label", caption)
	}
	p("\tgraph" + ga.String() + ";\n")
	p("\tnode [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=\"" + colorInk + "\", fontname=\"Helvetica\", fontsize=11];\n")
	p("\tedge [color=\"" + colorInk + "\", arrowsize=0.7, fontname=\"Helvetica\", fontsize=9];\n")

	nodes, edges := m.sorted()
	// Clusters, in name order, then nodes outside clusters.
	clusters := map[string][]int{}
	var names []string
	for _, i := range nodes {
		if c := m.nodes[i].cluster; c != "" {
			if _, ok := clusters[c]; !ok {
				names = append(names, c)
			}
			clusters[c] = append(clusters[c], i)
		}
	}
	slices.Sort(names)
	for ci, c := range names {
		p("\tsubgraph cluster_" + strconv.Itoa(ci) + " {\n")
		p("\t\tgraph [label=" + quote(c) + ", style=\"rounded,filled\", fillcolor=\"" + colorCluster + "\", color=\"#dddddd\", fontcolor=\"#666666\"];\n")
		for _, i := range clusters[c] {
			p("\t\t" + quote(m.nodes[i].id) + m.nodeAttrs(&m.nodes[i]).String() + ";\n")
		}
		p("\t}\n")
	}
	for _, i := range nodes {
		if m.nodes[i].cluster == "" {
			p("\t" + quote(m.nodes[i].id) + m.nodeAttrs(&m.nodes[i]).String() + ";\n")
		}
	}
	m.lastWave = -1
	if m.ranks {
		m.writeRanks(p, nodes)
	}
	for i := range edges {
		e := &edges[i]
		p("\t" + quote(m.nodes[e.from].id) + " -> " + quote(m.nodes[e.to].id) + m.edgeAttrs(e).String() + ";\n")
	}
	m.writeLegend(p)
	p("}\n")
	return bw.Flush()
}

// writeRanks puts each wave on a rank of its own, with a caption node
// "wave N" chained to the next so that waves keep their order.
func (m *model) writeRanks(p func(string), nodes []int) {
	byWave := map[int][]int{}
	maxWave := -1
	for _, i := range nodes {
		if wv := m.nodes[i].wave; wv >= 0 {
			byWave[wv] = append(byWave[wv], i)
			maxWave = max(maxWave, wv)
		}
	}
	m.lastWave = maxWave
	if maxWave < 0 {
		return
	}
	for wv := 0; wv <= maxWave; wv++ {
		id := quote("wave: " + strconv.Itoa(wv))
		p("\t{\n\t\trank=same;\n\t\t" + id + " [label=" + quote("wave "+strconv.Itoa(wv)) + ", shape=plaintext, style=\"\", fontcolor=\"#888888\", tooltip=" + quote("recovery wave "+strconv.Itoa(wv)) + "];\n")
		for _, i := range byWave[wv] {
			p("\t\t" + quote(m.nodes[i].id) + ";\n")
		}
		p("\t}\n")
		if wv > 0 {
			p("\t" + id + " -> " + quote("wave: "+strconv.Itoa(wv-1)) + " [style=invis];\n")
		}
	}
}

// caption is the graph label: the title, then one line per note, left
// justified.
func (m *model) caption() string {
	lines := m.notes
	if m.title != "" {
		lines = append([]string{m.title}, lines...)
	}
	if len(lines) == 0 {
		return ""
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ")
	var b strings.Builder
	b.WriteByte('"')
	for _, l := range lines {
		b.WriteString(r.Replace(l))
		b.WriteString(`\l`)
	}
	b.WriteByte('"')
	return b.String()
}
