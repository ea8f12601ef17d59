package graph

// adj is the out-adjacency the algorithms run on: the graph's compressed
// rows with only the edges whose kind is in a [KindSet]. When every edge
// qualifies it shares the graph's arrays; otherwise it holds a filtered
// copy. Rows stay sorted by target.
type adj struct {
	g   *Graph
	n   int32
	off []int32 // len n+1
	dst []int32
	eid []int32 // graph edge index of each position; nil means identity
}

// newAdj returns the adjacency of g restricted to the kinds in ks
// (DefaultKinds when ks is 0).
func newAdj(g *Graph, ks KindSet) *adj {
	ks = ks.OrDefault()
	n := int32(len(g.names))
	keep := 0
	for _, k := range g.kinds {
		if ks.Has(k) {
			keep++
		}
	}
	if keep == len(g.kinds) {
		return &adj{g: g, n: n, off: g.outOff, dst: g.outDst}
	}
	off := make([]int32, n+1)
	dst := make([]int32, 0, keep)
	eid := make([]int32, 0, keep)
	for v := int32(0); v < n; v++ {
		off[v] = int32(len(dst))
		for e := g.outOff[v]; e < g.outOff[v+1]; e++ {
			if ks.Has(g.kinds[e]) {
				dst = append(dst, g.outDst[e])
				eid = append(eid, e)
			}
		}
	}
	off[n] = int32(len(dst))
	return &adj{g: g, n: n, off: off, dst: dst, eid: eid}
}

// edge returns the graph edge index of position p.
func (a *adj) edge(p int32) int32 {
	if a.eid == nil {
		return p
	}
	return a.eid[p]
}

// find returns the position of edge u -> v, if present.
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
	return lo, lo < a.off[u+1] && a.dst[lo] == v
}

// edgeOf returns the edge at position p, leaving u, as an [Edge].
func (a *adj) edgeOf(u, p int32) Edge { return a.g.EdgeOf(u, a.edge(p)) }

// radj is a reverse adjacency: the sources of each node's in-edges, sorted.
type radj struct {
	off []int32
	src []int32
	pos []int32 // position in the forward adj of each in-edge
}

// reverse builds the reverse of a.
func (a *adj) reverse() *radj {
	n := a.n
	off := make([]int32, n+1)
	for _, d := range a.dst {
		off[d+1]++
	}
	for i := int32(0); i < n; i++ {
		off[i+1] += off[i]
	}
	fill := make([]int32, n)
	copy(fill, off[:n])
	src := make([]int32, len(a.dst))
	pos := make([]int32, len(a.dst))
	for u := int32(0); u < n; u++ {
		for p := a.off[u]; p < a.off[u+1]; p++ {
			d := a.dst[p]
			src[fill[d]], pos[fill[d]] = u, p
			fill[d]++
		}
	}
	return &radj{off: off, src: src, pos: pos}
}
