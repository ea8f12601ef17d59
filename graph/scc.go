package graph

import "slices"

// sccs is the strongly connected components of an [adj]. Components are
// numbered in the order Tarjan's algorithm completes them, which is a
// reverse topological order of the condensation: for every edge u -> v
// between two components, comp[v] < comp[u]. In recovery terms, what a
// component needs always has a smaller number.
type sccs struct {
	comp  []int32 // component of each node; -1 for nodes not visited
	count int32
	off   []int32 // members of component c are order[off[c]:off[c+1]]
	order []int32 // visited nodes grouped by component, in completion order
	loops []int32 // nodes with a self-loop, in the order found
}

// members returns the members of component c in completion order (not
// sorted).
func (s *sccs) members(c int32) []int32 { return s.order[s.off[c]:s.off[c+1]] }

// size returns the number of members of component c.
func (s *sccs) size(c int32) int32 { return s.off[c+1] - s.off[c] }

// components returns the strongly connected components of the whole view,
// computed once per graph and kind set (about 12 bytes a node) and shared
// by every analysis after that; the result must not be modified.
func (a *adj) components() *sccs {
	if s := a.memo(); s != nil {
		return s
	}
	return a.remember(a.scc(nil, nil))
}

// memo returns the remembered components of the view, or nil.
func (a *adj) memo() *sccs {
	if m := a.g.memo(a.key); m != nil {
		return m.sccs
	}
	return nil
}

// remember stores the components of the whole view and returns them.
func (a *adj) remember(s *sccs) *sccs {
	a.g.remember(a.key, func(m *memo) { m.sccs = s })
	return s
}

// memo is what a graph remembers of its analyses over one view: its
// components and, once computed or handed over by [Graph.Remember], the
// wave and the closure size of each component.
type memo struct {
	sccs    *sccs
	waves   []int32      // of each component; nil until computed
	closure []sketchSize // of each component's members; nil until computed
}

// memo returns what g remembers of the view named k, or nil. The result
// must not be modified.
func (g *Graph) memo(k viewKey) *memo {
	g.memoMu.Lock()
	defer g.memoMu.Unlock()
	if m := g.memos[k]; m != nil {
		c := *m
		return &c
	}
	return nil
}

// remember updates what g remembers of the view named k with set.
func (g *Graph) remember(k viewKey, set func(*memo)) {
	g.memoMu.Lock()
	defer g.memoMu.Unlock()
	if g.memos == nil {
		g.memos = map[viewKey]*memo{}
	}
	m := g.memos[k]
	if m == nil {
		m = &memo{}
		g.memos[k] = m
	}
	set(m)
}

// scc finds the strongly connected components of the nodes reachable from
// roots, or of every node when roots is nil. It is Pearce's space-saving
// variant of Tarjan's algorithm ("A space-efficient algorithm for finding
// strongly connected components", IPL 116(1), 2016) made iterative with
// an explicit call stack, so it runs in O(V+E) time on graphs of any
// depth. rindex holds the DFS index merged with the low link while a node
// is active and n+1+component once it is assigned, so that finished nodes
// never lower an active node's link.
//
// onComp, when not nil, is called as each component completes, with its
// number and members; for any node w already in a component — which
// includes everything the members need — finished[w]-bias is its
// component. This lets a pass over the condensation run while the rows are
// still in cache.
func (a *adj) scc(roots []int32, onComp func(c int32, members []int32, finished []int32, bias int32)) *sccs {
	n := a.n
	rindex := make([]int32, n)
	order := make([]int32, 0, n)
	off := make([]int32, 1, 64)
	var (
		csV    []int32 // call stack: node
		csE    []int32 // call stack: next edge position
		csRoot []bool  // call stack: still the root of its component
		stack  []int32 // Tarjan's stack of finished non-root nodes
		loops  []int32
		index  = int32(1)
		count  = int32(0)
		done   = n + 1
	)
	start := func(r int32) {
		if rindex[r] != 0 {
			return
		}
		rindex[r] = index
		index++
		csV, csE, csRoot = append(csV, r), append(csE, a.off[r]), append(csRoot, true)
		for len(csV) > 0 {
			top := len(csV) - 1
			v := csV[top]
			e, end := csE[top], a.off[v+1]
			descend := int32(-1)
			for e < end {
				if !a.ok(e) {
					e++
					continue
				}
				w := a.dst[e]
				e++
				if w == v {
					loops = append(loops, v)
				}
				if rindex[w] == 0 {
					descend = w
					break
				}
				if rindex[w] < rindex[v] {
					rindex[v] = rindex[w]
					csRoot[top] = false
				}
			}
			if descend >= 0 {
				csE[top] = e
				rindex[descend] = index
				index++
				csV, csE, csRoot = append(csV, descend), append(csE, a.off[descend]), append(csRoot, true)
				continue
			}
			isRoot := csRoot[top]
			csV, csE, csRoot = csV[:top], csE[:top], csRoot[:top]
			if isRoot {
				mark := rindex[v]
				for len(stack) > 0 && rindex[stack[len(stack)-1]] >= mark {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					rindex[w] = done + count
					order = append(order, w)
				}
				rindex[v] = done + count
				order = append(order, v)
				off = append(off, int32(len(order)))
				if onComp != nil {
					onComp(count, order[off[count]:], rindex, done)
				}
				count++
			} else {
				stack = append(stack, v)
			}
			if top > 0 && rindex[v] < rindex[csV[top-1]] {
				rindex[csV[top-1]] = rindex[v]
				csRoot[top-1] = false
			}
		}
	}
	if roots == nil {
		for v := int32(0); v < n; v++ {
			start(v)
		}
	} else {
		for _, r := range roots {
			start(r)
		}
	}
	for v := range rindex {
		if rindex[v] == 0 {
			rindex[v] = -1
		} else {
			rindex[v] -= done
		}
	}
	return &sccs{comp: rindex, count: count, off: off, order: order, loops: loops}
}

// Condensation is the graph of strongly connected components of a [Graph]
// (restricted to some kinds): each component is one node, and there is an
// edge c -> d when some member of c needs some member of d. It is acyclic.
//
// Components are numbered so that what a component needs has a smaller
// number: iterating 0..Len()-1 visits needs before the services that need
// them.
type Condensation struct {
	// Comp is the component of each node of the graph.
	Comp []int32

	memOff, mem []int32 // members of c: mem[memOff[c]:memOff[c+1]], sorted
	off, dst    []int32 // edges between components, rows sorted, no duplicates
}

// Condense returns the condensation of g restricted to the kinds in kinds
// (DefaultKinds when 0). It runs in O(V+E).
func Condense(g *Graph, kinds KindSet) *Condensation {
	a := newAdj(g, kinds)
	return condense(a, a.components())
}

func condense(a *adj, s *sccs) *Condensation {
	nc := s.count
	// Members sorted by node ID: counting sort by component over nodes in order.
	memOff := make([]int32, nc+1)
	for c := int32(0); c < nc; c++ {
		memOff[c+1] = memOff[c] + s.size(c)
	}
	fill := make([]int32, nc)
	copy(fill, memOff[:nc])
	mem := make([]int32, len(s.order))
	for v, c := range s.comp {
		if c >= 0 {
			mem[fill[c]] = int32(v)
			fill[c]++
		}
	}
	// Component edges, deduplicated with a last-seen stamp per target.
	off := make([]int32, nc+1)
	var dst []int32
	seen := make([]int32, nc)
	for i := range seen {
		seen[i] = -1
	}
	for c := int32(0); c < nc; c++ {
		off[c] = int32(len(dst))
		start := len(dst)
		for _, v := range mem[memOff[c]:memOff[c+1]] {
			for p := a.off[v]; p < a.off[v+1]; p++ {
				if !a.ok(p) {
					continue
				}
				d := s.comp[a.dst[p]]
				if d != c && d >= 0 && seen[d] != c {
					seen[d] = c
					dst = append(dst, d)
				}
			}
		}
		slices.Sort(dst[start:])
	}
	off[nc] = int32(len(dst))
	return &Condensation{Comp: s.comp, memOff: memOff, mem: mem, off: off, dst: dst}
}

// Len returns the number of components.
func (c *Condensation) Len() int { return len(c.memOff) - 1 }

// Members returns the node IDs of component i, sorted. The slice must not
// be modified.
func (c *Condensation) Members(i int32) []int32 { return c.mem[c.memOff[i]:c.memOff[i+1]] }

// Needs returns the components component i has edges to, sorted. They all
// have smaller numbers than i. The slice must not be modified.
func (c *Condensation) Needs(i int32) []int32 { return c.dst[c.off[i]:c.off[i+1]] }
