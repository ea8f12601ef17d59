package graph

import (
	"cmp"
	"math"
	"slices"
)

// defaultWeights are the costs of cutting an edge, by kind: soft edges are
// cheapest (the service already recovers without them), then what was only
// observed, then one of several alternatives, then what an owner declared,
// and hard edges, proven by minimization, are the most expensive.
var defaultWeights = [...]float64{Soft: 1, Observed: 2, Alternative: 3, Declared: 4, Hard: 10}

// CutWeight returns the default cost of cutting an edge of kind k: soft 1,
// observed 2, alternative 3, declared 4, hard 10. So cutting two declared
// edges is preferred to cutting one hard edge, and any soft edge to
// anything else.
func CutWeight(k Kind) float64 {
	if !k.Valid() {
		return defaultWeights[Hard]
	}
	return defaultWeights[k]
}

func (o CycleOptions) weight(k Kind) float64 {
	if w, ok := o.Weights[k]; ok {
		return w
	}
	return CutWeight(k)
}

// forbidW is the weight that keeps an edge out of a cut: any cut that
// still contains one is infeasible.
const forbidW = 1e15

// Budgets of the cut solvers.
const (
	dpMaxWork     = 1 << 20    // subset DP: 2^k·(m+k) at most this
	bbMaxSteps    = 20_000     // branch and bound: shortest-cycle searches
	bbMaxWork     = 50_000_000 // branch and bound: edge visits
	pruneMaxWork  = 50_000_000 // redundant-edge removal: edge visits
	cutSolveWork  = 50_000_000 // all solves of one component: edges processed
	cutMaxSolvesN = 4          // solves per requested cut, at most
)

// fas solves weighted feedback arc set problems on one component.
type fas struct {
	s      *sub
	w      []float64 // cost of each local edge
	exact  bool      // solve exactly
	roff   []int32   // in-edges: local edge IDs rin[roff[v]:roff[v+1]]
	rin    []int32
	selfW  float64 // cost of the self-loops, always cut
	stamp  []int32
	queue  []int32
	gen    int32
	pruned bool // whether every greedy cut so far was pruned to minimal
}

// cuts returns the ranked cut suggestions for the component.
func (s *sub) cuts(opts CycleOptions) []Cut {
	maxCuts := orDefault(opts.MaxCuts, DefaultMaxCuts)
	if maxCuts < 0 {
		return nil
	}
	g := s.a.g
	f := &fas{s: s, w: make([]float64, s.m()), pruned: true}
	for e := range s.dst {
		f.w[e] = opts.weight(g.kinds[s.pos[e]])
	}
	for _, p := range s.loops {
		f.selfW += opts.weight(g.kinds[p])
	}
	exactMax := orDefault(opts.ExactCutMaxEdges, DefaultExactCutMaxEdges)
	f.exact = exactMax > 0 && int(s.m()) <= exactMax
	if s.m() == 0 { // a single service that needs itself
		return []Cut{s.cutOf(nil, f.selfW, true)}
	}
	if s.m() == s.k() {
		// A simple cycle: each single edge is a minimal cut.
		edges := make([]int32, s.m())
		for e := range edges {
			edges[e] = int32(e)
		}
		slices.SortStableFunc(edges, func(x, y int32) int { return cmp.Compare(f.w[x], f.w[y]) })
		cuts := make([]Cut, 0, min(maxCuts, len(edges)))
		for _, e := range edges[:min(maxCuts, len(edges))] {
			cuts = append(cuts, s.cutOf([]int32{e}, f.w[e]+f.selfW, f.w[e] == f.w[edges[0]]))
		}
		return cuts
	}
	f.buildIn()

	// Lawler–Murty: each popped solution spawns children that forbid one
	// of its free edges and force the ones before it into the cut.
	type cand struct {
		cut        []int32 // sorted local edges
		include    []int32
		forbid     []int32
		cost       float64
		exact      bool
		exactSolve bool
	}
	dead := make([]bool, s.m())
	forb := make([]bool, s.m())
	none := make([]bool, s.m())
	plain := func(e int32) float64 { return f.w[e] }
	solve := func(include, forbid []int32) (cand, bool) {
		for _, e := range include {
			dead[e] = true
		}
		for _, e := range forbid {
			forb[e] = true
		}
		cut, exact, ok := f.solve(dead, forb)
		for _, e := range include {
			dead[e] = false
		}
		for _, e := range forbid {
			forb[e] = false
		}
		if !ok {
			return cand{}, false
		}
		cut = append(cut, include...)
		cut = f.prune(none, cut, plain)
		slices.Sort(cut)
		c := cand{cut: cut, include: include, forbid: forbid, exactSolve: exact}
		for _, e := range cut {
			c.cost += f.w[e]
		}
		return c, true
	}
	better := func(x, y cand) int {
		if c := cmp.Compare(x.cost, y.cost); c != 0 {
			return c
		}
		if c := cmp.Compare(len(x.cut), len(y.cut)); c != 0 {
			return c
		}
		return slices.Compare(x.cut, y.cut)
	}
	first, ok := solve(nil, nil)
	if !ok {
		return nil // cannot happen: nothing is forbidden
	}
	optimum := first.cost
	pending := []cand{first}
	var out []cand
	solves, work := 1, int(s.m())
	maxSolves := cutMaxSolvesN*maxCuts + 1
	if !f.exact {
		maxSolves = 2 * maxCuts // greedy alternatives: fewer, each costs a prune
	}
	for len(pending) > 0 && len(out) < maxCuts {
		slices.SortFunc(pending, better)
		c := pending[0]
		pending = pending[1:]
		redundant := false
		for _, o := range out {
			if isSubset(o.cut, c.cut) {
				redundant = true
				break
			}
		}
		if !redundant {
			c.exact = c.exactSolve && f.exact && c.cost <= optimum*(1+1e-12)
			out = append(out, c)
		}
		inc := make(map[int32]bool, len(c.include))
		for _, e := range c.include {
			inc[e] = true
		}
		var free []int32
		for _, e := range c.cut {
			if !inc[e] {
				free = append(free, e)
			}
		}
		slices.SortStableFunc(free, func(x, y int32) int { return cmp.Compare(f.w[x], f.w[y]) })
		for i, e := range free {
			if solves >= maxSolves || work > cutSolveWork {
				break
			}
			include := append(slices.Clone(c.include), free[:i]...)
			forbid := append(slices.Clone(c.forbid), e)
			solves++
			work += int(s.m())
			if child, ok := solve(include, forbid); ok {
				pending = append(pending, child)
			}
		}
	}
	// Greedy alternatives need not come out cheapest first, and equal
	// costs are ranked by edges: sort.
	slices.SortStableFunc(out, better)
	cuts := make([]Cut, len(out))
	for i, c := range out {
		cuts[i] = s.cutOf(c.cut, c.cost+f.selfW, c.exact)
	}
	return cuts
}

// cutOf turns local edges (plus the component's self-loops) into a [Cut]
// with edges sorted by name.
func (s *sub) cutOf(edges []int32, cost float64, exact bool) Cut {
	c := Cut{Cost: cost, Exact: exact}
	for i := range s.loops {
		u := s.nodes[s.loopN[i]]
		c.Edges = append(c.Edges, s.a.edgeOf(u, s.loops[i]))
	}
	for _, e := range edges {
		u := s.nodes[s.src[e]]
		c.Edges = append(c.Edges, s.a.edgeOf(u, s.pos[e]))
	}
	slices.SortFunc(c.Edges, func(x, y Edge) int {
		if c := cmp.Compare(x.From, y.From); c != 0 {
			return c
		}
		return cmp.Compare(x.To, y.To)
	})
	return c
}

func isSubset(small, big []int32) bool {
	i := 0
	for _, e := range big {
		if i < len(small) && small[i] == e {
			i++
		}
	}
	return i == len(small)
}

func (f *fas) buildIn() {
	s := f.s
	k := s.k()
	f.roff = make([]int32, k+1)
	for _, d := range s.dst {
		f.roff[d+1]++
	}
	for i := int32(0); i < k; i++ {
		f.roff[i+1] += f.roff[i]
	}
	fill := slices.Clone(f.roff[:k])
	f.rin = make([]int32, len(s.dst))
	for e, d := range s.dst {
		f.rin[fill[d]] = int32(e)
		fill[d]++
	}
	f.stamp = make([]int32, k)
	f.queue = make([]int32, 0, k)
}

// solve returns a cut of the local graph without dead edges that avoids
// forbidden edges, whether it is a proven minimum, and false if every cut
// needs a forbidden edge.
func (f *fas) solve(dead, forb []bool) ([]int32, bool, bool) {
	weight := func(e int32) float64 {
		if forb[e] {
			return forbidW
		}
		return f.w[e]
	}
	var cut []int32
	exact := false
	k, m := int(f.s.k()), int(f.s.m())
	switch {
	case f.exact && k <= 24 && (1<<k)*(m+k) <= dpMaxWork:
		cut, exact = f.dp(dead, weight), true
	case f.exact:
		cut, exact = f.branchAndBound(dead, forb, weight)
	default:
		cut = f.greedy(dead, weight)
		cut = f.prune(dead, cut, weight)
	}
	for _, e := range cut {
		if forb[e] {
			return nil, false, false
		}
	}
	return cut, exact, true
}

// dp solves minimum feedback arc set exactly as a minimum-cost linear
// order: f[S] is the cheapest way to place the members in S first; placing
// v after S cuts v's edges into S. O(2^k·(m+k)).
func (f *fas) dp(dead []bool, weight func(int32) float64) []int32 {
	s := f.s
	k := s.k()
	full := uint32(1)<<k - 1
	best := make([]float64, full+1)
	choice := make([]int8, full+1)
	for i := range best {
		best[i] = math.Inf(1)
	}
	best[0] = 0
	for S := uint32(0); S < full; S++ {
		b := best[S]
		if math.IsInf(b, 1) {
			continue
		}
		for v := int32(0); v < k; v++ {
			if S&(1<<v) != 0 {
				continue
			}
			c := b
			for e := s.off[v]; e < s.off[v+1]; e++ {
				if !dead[e] && S&(1<<s.dst[e]) != 0 {
					c += weight(e)
				}
			}
			if T := S | 1<<v; c < best[T] {
				best[T], choice[T] = c, int8(v)
			}
		}
	}
	pos := make([]int32, k)
	for S, i := full, k-1; S != 0; i-- {
		v := choice[S]
		pos[v] = i
		S &^= 1 << v
	}
	return f.backEdges(dead, pos)
}

// backEdges returns the live edges that go from a later to an earlier
// position.
func (f *fas) backEdges(dead []bool, pos []int32) []int32 {
	var cut []int32
	for e, d := range f.s.dst {
		if !dead[e] && pos[f.s.src[e]] > pos[d] {
			cut = append(cut, int32(e))
		}
	}
	return cut
}

// branchAndBound finds a minimum cut by branching on the edges of a
// shortest remaining cycle, cheapest first, starting from the greedy cut
// as upper bound. Siblings forbid the edges tried before them, so no cut
// is explored twice. Recursion depth is bounded by the cut size, at most
// ExactCutMaxEdges. It reports false if it ran out of steps.
func (f *fas) branchAndBound(dead, forb []bool, weight func(int32) float64) ([]int32, bool) {
	best := f.prune(dead, f.greedy(dead, weight), weight)
	bestCost := 0.0
	for _, e := range best {
		bestCost += weight(e)
	}
	m := f.s.m()
	cut := make([]bool, m)
	ban := slices.Clone(forb)
	steps, work := 0, 0
	complete := true
	live := make([]bool, m) // dead or cut
	var rec func(cost float64, depth int)
	rec = func(cost float64, depth int) {
		if steps++; steps > bbMaxSteps {
			complete = false
			return
		}
		for e := range live {
			live[e] = dead[e] || cut[e]
		}
		// Any cycle will do to branch on; a short one branches less.
		cyc, _, spent := f.s.shortestCycle(live, 4*int(m))
		if work += spent; work > bbMaxWork {
			complete = false
			return
		}
		if cyc == nil {
			if cost < bestCost {
				bestCost = cost
				best = best[:0]
				for e, c := range cut {
					if c {
						best = append(best, int32(e))
					}
				}
			}
			return
		}
		var choices []int32
		for _, e := range cyc {
			if !ban[e] {
				choices = append(choices, e)
			}
		}
		slices.SortStableFunc(choices, func(x, y int32) int { return cmp.Compare(weight(x), weight(y)) })
		var banned []int32
		for _, e := range choices {
			if cost+weight(e) >= bestCost || !complete {
				break
			}
			cut[e] = true
			rec(cost+weight(e), depth+1)
			cut[e] = false
			ban[e] = true
			banned = append(banned, e)
		}
		for _, e := range banned {
			ban[e] = false
		}
	}
	rec(0, 0)
	slices.Sort(best)
	return best, complete
}

// greedy is the Eades–Lin–Smyth heuristic with weights: repeatedly move
// sinks to the back and sources to the front of an order, and otherwise
// the node with the largest outgoing minus incoming weight to the front.
// Edges that point backwards in the order are the cut. O(m log m).
func (f *fas) greedy(dead []bool, weight func(int32) float64) []int32 {
	s := f.s
	k := s.k()
	outW, inW := make([]float64, k), make([]float64, k)
	outD, inD := make([]int32, k), make([]int32, k)
	for e, d := range s.dst {
		if dead[e] {
			continue
		}
		u := s.src[e]
		outW[u] += weight(int32(e))
		inW[d] += weight(int32(e))
		outD[u]++
		inD[d]++
	}
	removed := make([]bool, k)
	pos := make([]int32, k)
	left, right := int32(0), k-1
	var ready []int32 // sources and sinks, FIFO
	// Max-heap on delta, ties to the smallest node.
	h := &pq[deltaItem]{less: func(x, y deltaItem) bool {
		if x.delta != y.delta {
			return x.delta > y.delta
		}
		return x.v < y.v
	}}
	for v := int32(0); v < k; v++ {
		if outD[v] == 0 || inD[v] == 0 {
			ready = append(ready, v)
		}
		h.push(deltaItem{outW[v] - inW[v], v})
	}
	remove := func(v int32) {
		removed[v] = true
		for e := s.off[v]; e < s.off[v+1]; e++ {
			if w := s.dst[e]; !dead[e] && !removed[w] {
				inD[w]--
				inW[w] -= weight(e)
				if inD[w] == 0 {
					ready = append(ready, w)
				}
				h.push(deltaItem{outW[w] - inW[w], w})
			}
		}
		for i := f.roff[v]; i < f.roff[v+1]; i++ {
			e := f.rin[i]
			if u := s.src[e]; !dead[e] && !removed[u] {
				outD[u]--
				outW[u] -= weight(e)
				if outD[u] == 0 {
					ready = append(ready, u)
				}
				h.push(deltaItem{outW[u] - inW[u], u})
			}
		}
	}
	for placed := int32(0); placed < k; {
		if len(ready) > 0 {
			v := ready[0]
			ready = ready[1:]
			if removed[v] {
				continue
			}
			if outD[v] == 0 {
				pos[v] = right
				right--
			} else {
				pos[v] = left
				left++
			}
			remove(v)
			placed++
			continue
		}
		it := h.pop()
		if removed[it.v] || it.delta != outW[it.v]-inW[it.v] {
			continue // stale entry
		}
		pos[it.v] = left
		left++
		remove(it.v)
		placed++
	}
	return f.backEdges(dead, pos)
}

type deltaItem struct {
	delta float64
	v     int32
}

// prune puts cut edges back, most expensive first, whenever that closes no
// cycle (no path from the edge's head back to its tail), so the cut becomes
// minimal. It stops when its work budget runs out.
func (f *fas) prune(dead []bool, cut []int32, weight func(int32) float64) []int32 {
	s := f.s
	inCut := make([]bool, s.m())
	for _, e := range cut {
		inCut[e] = true
	}
	order := slices.Clone(cut)
	slices.SortStableFunc(order, func(x, y int32) int { return cmp.Compare(weight(y), weight(x)) })
	work := 0
	for _, e := range order {
		if work > pruneMaxWork {
			f.pruned = false
			break
		}
		// Is the edge's tail reachable from its head without cut edges?
		from, to := s.dst[e], s.src[e]
		f.gen++
		f.queue = append(f.queue[:0], from)
		f.stamp[from] = f.gen
		reach := from == to
		for qi := 0; qi < len(f.queue) && !reach; qi++ {
			u := f.queue[qi]
			for x := s.off[u]; x < s.off[u+1]; x++ {
				work++
				w := s.dst[x]
				if dead[x] || inCut[x] || f.stamp[w] == f.gen {
					continue
				}
				if w == to {
					reach = true
					break
				}
				f.stamp[w] = f.gen
				f.queue = append(f.queue, w)
			}
		}
		if !reach {
			inCut[e] = false
		}
	}
	out := cut[:0]
	for _, e := range cut {
		if inCut[e] {
			out = append(out, e)
		}
	}
	return out
}
