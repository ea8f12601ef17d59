package graph

import "slices"

// Filter returns a graph with the same nodes as g and only the edges whose
// kind is in kinds (DefaultKinds when 0), with their evidence. O(V+E).
func Filter(g *Graph, kinds KindSet) *Graph {
	a := newAdj(g, kinds)
	if a.all {
		return g // every edge qualifies; g is immutable
	}
	return fromAdj(a, nil, nil)
}

// fromAdj builds a graph from the edges of a's view that keepEdge accepts
// (all when nil), on the nodes with keepNode[v] (all when nil), renumbered.
func fromAdj(a *adj, keepNode []bool, keepEdge func(v, p int32) bool) *Graph {
	g := a.g
	newID := make([]int32, a.n)
	var nn []string
	var ni []NodeInfo
	if keepNode == nil {
		for v := range newID {
			newID[v] = int32(v)
		}
		nn, ni = g.names, g.info
	} else {
		for v := range newID {
			newID[v] = -1
			if keepNode[v] {
				newID[v] = int32(len(nn))
				nn = append(nn, g.names[v])
				if g.info != nil {
					ni = append(ni, g.info[v])
				}
			}
		}
	}
	off := make([]int32, len(nn)+1)
	var dst []int32
	var kinds []Kind
	var ev map[int32][]Evidence
	for v := int32(0); v < a.n; v++ {
		nv := newID[v]
		if nv < 0 {
			continue
		}
		off[nv] = int32(len(dst))
		for p := a.off[v]; p < a.off[v+1]; p++ {
			w := newID[a.dst[p]]
			if w < 0 || !a.ok(p) || (keepEdge != nil && !keepEdge(v, p)) {
				continue
			}
			if x := g.evidence[p]; x != nil {
				if ev == nil {
					ev = map[int32][]Evidence{}
				}
				ev[int32(len(dst))] = x
			}
			dst = append(dst, w)
			kinds = append(kinds, g.kinds[p])
		}
	}
	off[len(nn)] = int32(len(dst))
	if nn == nil {
		nn, ni = []string{}, []NodeInfo{}
	}
	return &Graph{names: nn, info: ni, outOff: off, outDst: dst, kinds: kinds, evidence: ev}
}

// Subgraph returns the graph induced by the named services, and with
// withDeps everything they need over g's edges of every kind (filter g
// first to follow only some kinds). An unknown name gives an
// [UnknownServiceError]. O(V+E).
func Subgraph(g *Graph, names []string, withDeps bool) (*Graph, error) {
	ids, err := lookup(g, names)
	if err != nil {
		return nil, err
	}
	a := newAdj(g, AllKindsSet)
	keep := make([]bool, g.Len())
	for _, v := range ids {
		keep[v] = true
	}
	if withDeps {
		a.mark(ids, keep)
	}
	return fromAdj(a, keep, nil), nil
}

// mark marks in seen everything reachable from roots in the view (roots
// are marked too).
func (a *adj) mark(roots []int32, seen []bool) {
	q := make([]int32, 0, len(roots))
	for _, r := range roots {
		seen[r] = true
		q = append(q, r)
	}
	for qi := 0; qi < len(q); qi++ {
		u := q[qi]
		for p := a.off[u]; p < a.off[u+1]; p++ {
			if v := a.dst[p]; !seen[v] && a.ok(p) {
				seen[v] = true
				q = append(q, v)
			}
		}
	}
}

// mark marks in seen everything that reaches roots (roots included).
func (r *radj) mark(roots []int32, seen []bool) {
	q := make([]int32, 0, len(roots))
	for _, x := range roots {
		seen[x] = true
		q = append(q, x)
	}
	for qi := 0; qi < len(q); qi++ {
		for _, v := range r.src[r.off[q[qi]]:r.off[q[qi]+1]] {
			if !seen[v] {
				seen[v] = true
				q = append(q, v)
			}
		}
	}
}

// Closure returns the named services and everything they need, directly
// or not, over the kinds in kinds (DefaultKinds when 0), sorted. An
// unknown name gives an [UnknownServiceError]. O(V+E).
func Closure(g *Graph, kinds KindSet, names []string) ([]string, error) {
	ids, err := lookup(g, names)
	if err != nil {
		return nil, err
	}
	a := newAdj(g, kinds)
	seen := make([]bool, a.n)
	a.mark(ids, seen)
	return marked(g, seen), nil
}

// Dependents returns the named services and everything that needs them,
// directly or not (what an outage of them takes down), over the kinds in
// kinds (DefaultKinds when 0), sorted. O(V+E).
func Dependents(g *Graph, kinds KindSet, names []string) ([]string, error) {
	ids, err := lookup(g, names)
	if err != nil {
		return nil, err
	}
	r := newAdj(g, kinds).reverse()
	seen := make([]bool, g.Len())
	r.mark(ids, seen)
	return marked(g, seen), nil
}

func marked(g *Graph, seen []bool) []string {
	out := []string{}
	for v, s := range seen {
		if s {
			out = append(out, g.names[v])
		}
	}
	return out
}

// TransitiveReduction returns g, over the kinds in kinds (DefaultKinds
// when 0), without the edges implied by longer chains, for legible
// drawings. It works on the condensation, where the reduction is unique:
// edges inside a cyclic component are all kept, and an edge between two
// components is dropped when another chain of components connects them
// (parallel edges between the same two components are kept together).
//
// For each component, its needs are visited from the latest (largest
// number) down, marking everything below each kept one, so a need already
// marked is implied. Each component thus costs the size of what it needs
// transitively: O(V·E) in the worst case, fast on the graphs one draws
// (thousands of services); reduce a [Subgraph] of a large fleet.
func TransitiveReduction(g *Graph, kinds KindSet) *Graph {
	a := newAdj(g, kinds)
	s := a.components()
	cd := condense(a, s)
	nc := int32(cd.Len())
	stamp := make([]int32, nc)
	for i := range stamp {
		stamp[i] = -1
	}
	// keptOff/kept: the kept needs of each component, sorted.
	keptOff := make([]int32, nc+1)
	var kept, stack, needs []int32
	for c := int32(0); c < nc; c++ {
		keptOff[c] = int32(len(kept))
		needs = append(needs[:0], cd.Needs(c)...)
		slices.Reverse(needs)
		start := len(kept)
		for _, x := range needs {
			if stamp[x] == c {
				continue // implied by a kept need above it
			}
			kept = append(kept, x)
			stack = append(stack[:0], cd.Needs(x)...)
			for len(stack) > 0 {
				y := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if stamp[y] == c {
					continue
				}
				stamp[y] = c
				stack = append(stack, cd.Needs(y)...)
			}
		}
		slices.Sort(kept[start:])
	}
	keptOff[nc] = int32(len(kept))

	// Keep graph edges inside components and along kept component edges.
	return fromAdj(a, nil, func(v, p int32) bool {
		cv, cw := s.comp[v], s.comp[a.dst[p]]
		_, ok := slices.BinarySearch(kept[keptOff[cv]:keptOff[cv+1]], cw)
		return cv == cw || ok
	})
}
