package graph

import (
	"errors"
	"fmt"
)

// SummaryVersion changes whenever what a [Summary] holds changes meaning
// (how components are numbered, the sketch size or the hash of closure
// estimates), so that a summary stored by another version is not handed
// back.
const SummaryVersion = 1

// ErrInvalidSummary is wrapped by the error [Graph.Remember] returns for a
// summary that does not fit the graph.
var ErrInvalidSummary = errors.New("graph: summary does not fit the graph")

// Summary is what analyses of a graph over one kind set compute first and
// what every [Diff] of it repeats: its strongly connected components, and
// the recovery wave and closure size of each. [Summarize] computes it;
// stored beside the graph (it takes about 9 bytes a service) and handed
// back with
// [Graph.Remember], it spares later analyses those passes. Its arrays are
// raw, for serialization, like [CSR]'s.
type Summary struct {
	// Kinds is the kind set the summary is over; never 0.
	Kinds KindSet
	// Order lists every node grouped by component, components in the
	// order they complete: what a component needs comes before it.
	Order []int32
	// Off bounds the components: the members of component c are
	// Order[Off[c]:Off[c+1]].
	Off []int32
	// Loops lists the nodes that need themselves.
	Loops []int32
	// Wave is the recovery wave of each component (see [RecoveryOrder]).
	Wave []int32
	// Closure is, for each component, how many nodes each of its members
	// needs transitively, itself excluded, as [Diff] estimates it:
	// exactly below [ClosureSketchSize], else by a bottom-k sketch, and
	// then Estimated is set.
	Closure   []int32
	Estimated []bool
}

// Summarize computes g's summary over kinds (DefaultKinds when 0) and
// remembers it in g. It is over the view recovery analyses use (endpoints
// left out, alternatives resolved; see [RecoveryOrder]). It runs in O(V+E)
// plus the sketch merges, at most ClosureSketchSize steps per edge.
func Summarize(g *Graph, kinds KindSet) *Summary {
	a := planView(g, kinds, nil)
	s := a.components()
	cl := a.closures()
	sum := &Summary{Kinds: a.ks, Order: s.order, Off: s.off, Loops: s.loops, Wave: a.waves(),
		Closure: make([]int32, s.count), Estimated: make([]bool, s.count)}
	for c, z := range cl {
		sum.Closure[c], sum.Estimated[c] = z.size, z.estimated
	}
	return sum
}

// Remember hands g a summary computed by [Summarize] on a graph equal to
// g, so that analyses over sum.Kinds skip the passes it holds. It checks
// in O(V+E), in one pass over g's edges in order, that the components fit
// them (what a component needs comes before it) and so do the waves, and
// returns an error wrapping [ErrInvalidSummary] when they do not; the
// closure sizes it cannot check. The summary's arrays then belong to g.
func (g *Graph) Remember(sum *Summary) error {
	n := int32(len(g.names))
	nc := int32(len(sum.Off)) - 1
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidSummary, fmt.Sprintf(format, args...))
	}
	switch {
	case sum.Kinds == 0:
		return bad("no kinds")
	case len(sum.Order) != int(n):
		return bad("%d nodes for %d", len(sum.Order), n)
	case nc < 0 || sum.Off[0] != 0 || sum.Off[nc] != n:
		return bad("components do not span the %d nodes", n)
	case len(sum.Wave) != int(nc) || len(sum.Closure) != int(nc) || len(sum.Estimated) != int(nc):
		return bad("%d waves and %d closures for %d components", len(sum.Wave), len(sum.Closure), nc)
	}
	comp := make([]int32, n)
	for i := range comp {
		comp[i] = -1
	}
	for c := int32(0); c < nc; c++ {
		if sum.Off[c] >= sum.Off[c+1] {
			return bad("component %d is empty", c)
		}
		for _, v := range sum.Order[sum.Off[c]:sum.Off[c+1]] {
			if v < 0 || v >= n || comp[v] >= 0 {
				return bad("node %d listed twice or out of range", v)
			}
			comp[v] = c
		}
	}
	a := planView(g, sum.Kinds, nil)
	// What a component needs comes before it, and its wave is one more
	// than the latest wave among its needs.
	need := make([]int32, nc)
	loops := 0
	for u := int32(0); u < n; u++ {
		cu, w := comp[u], int32(0)
		for p := a.off[u]; p < a.off[u+1]; p++ {
			if !a.ok(p) {
				continue
			}
			v := a.dst[p]
			if v == u {
				loops++
			}
			switch d := comp[v]; {
			case d > cu:
				return bad("component %d needs the later component %d", cu, d)
			case d < cu:
				w = max(w, sum.Wave[d]+1)
			}
		}
		need[cu] = max(need[cu], w)
	}
	for c, w := range need {
		if sum.Wave[c] != w {
			return bad("component %d in wave %d, its needs say %d", c, sum.Wave[c], w)
		}
	}
	if loops != len(sum.Loops) {
		return bad("%d self-loops listed for %d", len(sum.Loops), loops)
	}
	seen := make(map[int32]bool, len(sum.Loops))
	for _, v := range sum.Loops {
		if v < 0 || v >= n || seen[v] {
			return bad("self-loop of node %d listed twice or out of range", v)
		}
		if _, ok := a.find(v, v); !ok {
			return bad("node %d has no self-loop", v)
		}
		seen[v] = true
	}
	closure := make([]sketchSize, nc)
	for c := range closure {
		closure[c] = sketchSize{size: sum.Closure[c], estimated: sum.Estimated[c]}
	}
	s := &sccs{comp: comp, count: nc, off: sum.Off, order: sum.Order, loops: sum.Loops}
	g.remember(a.key, func(m *memo) { m.sccs, m.waves, m.closure = s, sum.Wave, closure })
	return nil
}
