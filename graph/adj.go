package graph

// adj is the view of a graph the algorithms run on: the graph's own
// compressed rows, with edges whose kind is not in a [KindSet] skipped in
// place (no copy is made). Positions in the rows are graph edge indices.
type adj struct {
	g     *Graph
	n     int32
	off   []int32 // len n+1
	dst   []int32
	kinds []Kind
	ks    KindSet
	all   bool // every edge of g qualifies: no need to look at kinds

	// mask, when not nil, holds a bit per edge: the edges of the view,
	// whatever their kind (a plan view, see planView).
	mask []uint64
	plan *plan   // the plan of a plan view
	key  viewKey // what the graph remembers the view's components by
}

// viewKey names a view of a graph: its kinds, and whether it is the plan
// view of them (see planView).
type viewKey struct {
	ks   KindSet
	plan bool
}

// newAdj returns the view of g restricted to the kinds in ks
// (DefaultKinds when ks is 0).
func newAdj(g *Graph, ks KindSet) *adj {
	ks = ks.OrDefault()
	all := true
	for _, k := range g.kinds {
		if !ks.Has(k) {
			all = false
			break
		}
	}
	return &adj{g: g, n: int32(len(g.names)), off: g.outOff, dst: g.outDst, kinds: g.kinds, ks: ks, all: all, key: viewKey{ks: ks}}
}

// ok reports whether the edge at position p is in the view.
func (a *adj) ok(p int32) bool {
	if a.all {
		return true
	}
	if a.mask != nil {
		return a.mask[p>>6]&(1<<(p&63)) != 0
	}
	return a.ks.Has(a.kinds[p])
}

// find returns the position of edge u -> v, if it is in the view.
func (a *adj) find(u, v int32) (int32, bool) {
	lo, hi := a.off[u], a.off[u+1]
	for lo < hi {
		m := int32(uint32(lo+hi) >> 1)
		if a.dst[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < a.off[u+1] && a.dst[lo] == v && a.ok(lo)
}

// edgeOf returns the edge at position p, leaving u, as an [Edge].
func (a *adj) edgeOf(u, p int32) Edge { return a.g.EdgeOf(u, p) }

// radj is a reverse view: the sources of each node's in-edges, sorted.
type radj struct {
	off []int32
	src []int32
}

// reverse builds the reverse of a.
func (a *adj) reverse() *radj {
	n := a.n
	off := make([]int32, n+1)
	m := int32(0)
	for p, d := range a.dst {
		if a.ok(int32(p)) {
			off[d+1]++
			m++
		}
	}
	for i := int32(0); i < n; i++ {
		off[i+1] += off[i]
	}
	fill := make([]int32, n)
	copy(fill, off[:n])
	src := make([]int32, m)
	for u := int32(0); u < n; u++ {
		for p := a.off[u]; p < a.off[u+1]; p++ {
			if a.ok(p) {
				d := a.dst[p]
				src[fill[d]] = u
				fill[d]++
			}
		}
	}
	return &radj{off: off, src: src}
}
