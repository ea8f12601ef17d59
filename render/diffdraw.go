package render

import (
	"io"

	"github.com/rgraph/rgraph/graph"
)

// DiffDOT writes one drawing of the union of two releases' graphs with
// the changes highlighted: a structural diff laid out once, not two
// pictures side by side. Added services and edges are green, removed ones
// red and dashed (edges end in a bar), edges whose kind changed orange and
// labelled "old → new", and the witness edges of new cycles (from
// r.Delta.NewCycles) thick. opt applies as for [DOT]; pass the cycles of
// the new release as opt.Components to mark their members, and the same
// Kinds the delta was computed over.
//
// When the union has more than opt.Large nodes, only the changed services,
// the ends of changed edges and their direct neighbours are drawn (the
// caption says how many), and the result is simplified as [DOT] does,
// keeping changed services as nodes of their own when there are few.
func DiffDOT(w io.Writer, old, new *graph.Graph, r DiffReport, opt DOTOptions) error {
	if old == nil || new == nil {
		return errNilGraph
	}
	m := fromDiff(old, new, r, opt)
	m.simplify(opt)
	return m.writeDOT(w)
}

// fromDiff builds the model of the union of old and new.
func fromDiff(old, new *graph.Graph, r DiffReport, opt DOTOptions) *model {
	kinds := opt.Kinds
	if kinds == 0 {
		kinds = graph.AllKindsSet
	}
	ci := newCycleInfo(opt.Components, opt.Order)
	fresh := map[[2]string]bool{} // witness edges of new cycles
	for _, c := range r.Delta.NewCycles {
		for _, e := range c.Edges {
			ci.witness[[2]string{e.From, e.To}] = true
			fresh[[2]string{e.From, e.To}] = true
		}
	}
	waves := waveOf(opt.Order)
	focus := setOf(opt.Focus)
	m := &model{title: opt.Title, ranks: opt.Order != nil, links: opt.Links, diff: true}

	index := map[string]int{}
	addNode := func(g *graph.Graph, v int32, ch change) {
		name := g.Name(v)
		if _, ok := index[name]; ok {
			return
		}
		index[name] = len(m.nodes)
		nd := newNode(name, g.Info(v), waves, ci, focus)
		nd.change = ch
		m.nodes = append(m.nodes, nd)
	}
	for v := int32(0); v < int32(new.Len()); v++ {
		ch := same
		if _, ok := old.ID(new.Name(v)); !ok {
			ch = added
		}
		addNode(new, v, ch)
	}
	for v := int32(0); v < int32(old.Len()); v++ {
		if _, ok := new.ID(old.Name(v)); !ok {
			addNode(old, v, removed)
		}
	}

	type key [2]int
	edgeAt := map[key]int{}
	for u := int32(0); u < int32(new.Len()); u++ {
		targets, ks := new.Out(u)
		for i, t := range targets {
			if !kinds.Has(ks[i]) {
				continue
			}
			from, to := index[new.Name(u)], index[new.Name(t)]
			edgeAt[key{from, to}] = len(m.edges)
			ft := [2]string{new.Name(u), new.Name(t)}
			m.edges = append(m.edges, dedge{from: from, to: to, kind: ks[i], change: added,
				witness: ci.witness[ft], newCycle: fresh[ft]})
		}
	}
	for u := int32(0); u < int32(old.Len()); u++ {
		targets, ks := old.Out(u)
		for i, t := range targets {
			if !kinds.Has(ks[i]) {
				continue
			}
			from, to := index[old.Name(u)], index[old.Name(t)]
			j, ok := edgeAt[key{from, to}]
			switch {
			case !ok:
				m.edges = append(m.edges, dedge{from: from, to: to, kind: ks[i], change: removed})
			case m.edges[j].kind == ks[i]:
				m.edges[j].change = same
			default:
				m.edges[j].change, m.edges[j].oldKind = kindChanged, ks[i]
			}
		}
	}
	m.dropOrphanEndpoints()
	m.affected(opt.threshold())
	return m
}

// affected keeps, in a large diff drawing, only the changed services, the
// ends of changed edges and their direct neighbours.
func (m *model) affected(limit int) {
	if limit < 0 || len(m.nodes) <= limit {
		return
	}
	core := make([]bool, len(m.nodes))
	for i, nd := range m.nodes {
		core[i] = nd.change != same
	}
	for _, e := range m.edges {
		if e.change != same || e.witness {
			core[e.from], core[e.to] = true, true
		}
	}
	keep := append([]bool(nil), core...)
	for _, e := range m.edges {
		if core[e.from] {
			keep[e.to] = true
		}
		if core[e.to] {
			keep[e.from] = true
		}
	}
	total := len(m.nodes)
	i := 0
	m.keep(func(*dnode) bool { k := keep[i]; i++; return k })
	if len(m.nodes) < total {
		m.note("%d of %d services drawn: the changed ones and their neighbours", len(m.nodes), total)
	}
}
