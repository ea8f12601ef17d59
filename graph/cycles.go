package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// Defaults of [CycleOptions].
const (
	// DefaultCycleLimit bounds cycle listing per component when only
	// MaxLen is given.
	DefaultCycleLimit = 1000
	// DefaultMaxCuts is how many cut suggestions a component gets.
	DefaultMaxCuts = 3
	// DefaultExactCutMaxEdges is the largest component (in edges, self-loops
	// not counted) whose cut is solved exactly.
	DefaultExactCutMaxEdges = 64
	// DefaultWitnessWork bounds the shortest-witness search per component,
	// in edge visits. A component with members×edges at most this is always
	// searched exhaustively.
	DefaultWitnessWork = 1 << 26
	// DefaultEnumWork bounds bounded cycle listing per component, in edge
	// visits; Truncated is set when it runs out.
	DefaultEnumWork = 10_000_000
)

// CycleOptions configures [Cycles]. The zero value asks for every cyclic
// component over [DefaultKinds] with its witness and [DefaultMaxCuts] cut
// suggestions, and no cycle listing.
type CycleOptions struct {
	// Kinds selects the edges to analyse; 0 means DefaultKinds.
	Kinds KindSet
	// MaxLen and Limit ask for a bounded listing of elementary cycles per
	// component in Component.Cycles: cycles of at most MaxLen edges (0: any
	// length), at most Limit of them (0: DefaultCycleLimit), shortest
	// first. Listing happens only when one of them is positive; it never
	// runs unbounded (see DefaultEnumWork).
	MaxLen, Limit int
	// MaxCuts is the number of ranked cut suggestions per component; 0
	// means DefaultMaxCuts and a negative value asks for none.
	MaxCuts int
	// ExactCutMaxEdges is the largest component, in edges between distinct
	// members, whose cut suggestions are solved exactly (0 means
	// DefaultExactCutMaxEdges, negative disables exact solving).
	ExactCutMaxEdges int
	// Weights overrides the cost of cutting an edge of a kind (see
	// [CutWeight]); kinds missing from the map keep their default.
	Weights map[Kind]float64
	// WitnessWork bounds the exhaustive shortest-witness search per
	// component, in edge visits (0 means DefaultWitnessWork). Above it the
	// witness is the shortest cycle found so far and
	// Component.WitnessExact is false.
	WitnessWork int
}

// Cycles returns every bootstrap knot of g: each strongly connected
// component with more than one member and each service that needs itself,
// over the kinds in opts.Kinds. Components are sorted by their first
// (smallest) member. Like [RecoveryOrder], Cycles follows one member of
// each alternative group, the one a recovery plan waits for, and no edge
// to an endpoint: a cycle through an alternative is a bootstrap cycle
// only when no member of the group recovers without it.
//
// Each component carries one shortest witness cycle. For a component with
// several members the witness is a shortest cycle through at least two
// of them (a self-loop does not explain why members are knotted); for a
// single service it is its self-loop. The search is exhaustive (BFS from
// every member, bounded by the best cycle found so far) unless it exceeds
// opts.WitnessWork edge visits, in which case WitnessExact is false.
//
// Each component also gets ranked cut suggestions (see [Cut]): sets of
// edges whose removal makes it acyclic, cheapest first by [CutWeight].
// Components with at most opts.ExactCutMaxEdges edges are solved exactly
// (dynamic programming over member subsets when that is small, otherwise
// branch and bound over shortest cycles with a step budget); larger ones
// use a weighted Eades–Lin–Smyth greedy ordering followed by removal of
// redundant cut edges. Alternatives come from Lawler's partitioning of the
// solution space: each next suggestion avoids one edge of an earlier one.
//
// Cycles runs in O(V+E) plus the per-component work bounded above.
func Cycles(g *Graph, opts CycleOptions) []Component {
	a := planView(g, opts.Kinds, nil)
	s := a.components()
	ks := knots(a, s)
	if len(ks) == 0 {
		return []Component{}
	}
	sc := newScratch(a.n)
	out := make([]Component, 0, len(ks))
	for _, members := range ks {
		sb := newSub(a, members, sc)
		cyc, exact := sb.witness(orDefault(opts.WitnessWork, DefaultWitnessWork))
		comp := Component{
			Members:      sb.names(),
			Witness:      cyc,
			WitnessExact: exact,
			Cuts:         sb.cuts(opts),
		}
		comp.ID = cyc.ID
		if opts.MaxLen > 0 || opts.Limit > 0 {
			comp.Cycles, comp.Truncated = sb.enumerate(opts.MaxLen, orDefault(opts.Limit, DefaultCycleLimit), DefaultEnumWork)
		}
		out = append(out, comp)
	}
	return out
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// knots returns the members, sorted, of every cyclic component: size > 1
// or a self-loop. They are sorted by first member.
func knots(a *adj, s *sccs) [][]int32 {
	var out [][]int32
	for c := int32(0); c < s.count; c++ {
		if s.off[c+1]-s.off[c] > 1 {
			ms := slices.Clone(s.members(c))
			slices.Sort(ms)
			out = append(out, ms)
		}
	}
	for _, v := range s.loops {
		if s.size(s.comp[v]) == 1 {
			out = append(out, []int32{v})
		}
	}
	slices.SortFunc(out, func(x, y []int32) int { return int(x[0]) - int(y[0]) })
	return out
}

// scratch is per-call working memory indexed by global node ID.
type scratch struct {
	loc []int32 // local ID of a node in the current sub, -1 otherwise
}

func newScratch(n int32) *scratch {
	loc := make([]int32, n)
	for i := range loc {
		loc[i] = -1
	}
	return &scratch{loc: loc}
}

// sub is one cyclic component as a small local graph: local node IDs are
// ranks among the sorted members, so local order is name order.
type sub struct {
	a     *adj
	nodes []int32 // global IDs, sorted
	off   []int32 // local rows, edges between distinct members only
	dst   []int32
	src   []int32 // local source of each local edge
	pos   []int32 // adj position of each local edge
	loops []int32 // adj positions of self-loops
	loopN []int32 // local node of each self-loop
}

func newSub(a *adj, members []int32, sc *scratch) *sub {
	for i, v := range members {
		sc.loc[v] = int32(i)
	}
	k := int32(len(members))
	s := &sub{a: a, nodes: members, off: make([]int32, k+1)}
	for i, v := range members {
		s.off[i] = int32(len(s.dst))
		for p := a.off[v]; p < a.off[v+1]; p++ {
			if !a.ok(p) {
				continue
			}
			w := sc.loc[a.dst[p]]
			switch {
			case w < 0:
			case w == int32(i):
				s.loops = append(s.loops, p)
				s.loopN = append(s.loopN, w)
			default:
				s.dst = append(s.dst, w)
				s.src = append(s.src, int32(i))
				s.pos = append(s.pos, p)
			}
		}
	}
	s.off[k] = int32(len(s.dst))
	for _, v := range members {
		sc.loc[v] = -1
	}
	return s
}

func (s *sub) k() int32 { return int32(len(s.nodes)) }
func (s *sub) m() int32 { return int32(len(s.dst)) }

func (s *sub) names() []string {
	out := make([]string, len(s.nodes))
	for i, v := range s.nodes {
		out[i] = s.a.g.names[v]
	}
	return out
}

// hasEdge returns the local edge u -> v, if present.
func (s *sub) hasEdge(u, v int32) (int32, bool) {
	lo, hi := s.off[u], s.off[u+1]
	i, ok := slices.BinarySearch(s.dst[lo:hi], v)
	return lo + int32(i), ok
}

// cycle turns local edges forming a cycle into a [Cycle], rotated to its
// smallest member.
func (s *sub) cycle(edges []int32) Cycle {
	c := Cycle{Services: make([]string, len(edges)), Edges: make([]Edge, len(edges))}
	// Rotate so the edge leaving the smallest local node comes first.
	start := 0
	for i, e := range edges {
		if s.src[e] < s.src[edges[start]] {
			start = i
		}
	}
	for i := range edges {
		e := edges[(start+i)%len(edges)]
		u := s.nodes[s.src[e]]
		c.Services[i] = s.a.g.names[u]
		c.Edges[i] = s.a.edgeOf(u, s.pos[e])
	}
	c.ID = cycleIDRotated(c.Services)
	return c
}

// loopCycle returns self-loop i as a [Cycle].
func (s *sub) loopCycle(i int) Cycle {
	u := s.nodes[s.loopN[i]]
	c := Cycle{Services: []string{s.a.g.names[u]}, Edges: []Edge{s.a.edgeOf(u, s.loops[i])}}
	c.ID = cycleIDRotated(c.Services)
	return c
}

// witness returns one shortest cycle of the component (see [Cycles]) and
// whether the search was exhaustive.
func (s *sub) witness(budget int) (Cycle, bool) {
	if s.k() == 1 {
		return s.loopCycle(0), true
	}
	if s.m() == s.k() {
		// Strongly connected with one edge per member: a single cycle.
		edges := make([]int32, 0, s.k())
		for v := int32(0); len(edges) == 0 || v != 0; v = s.dst[s.off[v]] {
			edges = append(edges, s.off[v])
		}
		return s.cycle(edges), true
	}
	edges, exact, _ := s.shortestCycle(nil, budget)
	return s.cycle(edges), exact
}

// shortestCycle finds a shortest cycle of length >= 2 among the local
// edges not marked dead (self-loops are not in the local graph). A 2-cycle
// is looked for first by binary search; then a BFS from each local node
// v, over nodes >= v only, finds the shortest cycle whose smallest node is
// v, cut off at the best length so far. Ties go to the smallest start and
// BFS order, so the result is deterministic. It returns the cycle's local
// edges starting at its smallest node (nil if there is none), and false if
// the budget of edge visits ran out first, and the edge visits spent.
func (s *sub) shortestCycle(dead []bool, budget int) ([]int32, bool, int) {
	k := s.k()
	alive := func(e int32) bool { return dead == nil || !dead[e] }
	for u := int32(0); u < k; u++ {
		for e := s.off[u]; e < s.off[u+1]; e++ {
			if v := s.dst[e]; v > u && alive(e) {
				if back, ok := s.hasEdge(v, u); ok && alive(back) {
					return []int32{e, back}, true, int(e)
				}
			}
		}
	}
	stamp := make([]int32, k)
	dist := make([]int32, k)
	par := make([]int32, k) // local edge into the node
	queue := make([]int32, 0, k)
	best := int32(1<<31 - 1)
	var bestEdges []int32
	work := 0
	for v := int32(0); v < k; v++ {
		if work > budget && bestEdges != nil {
			return bestEdges, false, work
		}
		queue = append(queue[:0], v)
		stamp[v] = v + 1
		dist[v] = 0
	bfs:
		for qi := 0; qi < len(queue); qi++ {
			u := queue[qi]
			if dist[u]+1 >= best {
				break
			}
			for e := s.off[u]; e < s.off[u+1]; e++ {
				work++
				w := s.dst[e]
				if w < v || !alive(e) {
					continue
				}
				if w == v {
					best = dist[u] + 1
					bestEdges = make([]int32, best)
					bestEdges[best-1] = e
					for x, i := u, best-2; x != v; x, i = s.src[par[x]], i-1 {
						bestEdges[i] = par[x]
					}
					break bfs
				}
				if stamp[w] == v+1 {
					continue
				}
				stamp[w] = v + 1
				dist[w] = dist[u] + 1
				par[w] = e
				queue = append(queue, w)
			}
		}
		if best == 2 {
			break
		}
	}
	return bestEdges, true, work + int(s.m())
}

// enumerate lists elementary cycles of at most maxLen edges (0: any), the
// limit shortest ones (ties by member sequence), within budget edge
// visits. Each cycle is found once, from its smallest member, by a DFS
// over larger members pruned by the reverse BFS distance back to the
// start. It reports whether cycles were left out.
func (s *sub) enumerate(maxLen, limit, budget int) ([]Cycle, bool) {
	k := s.k()
	if maxLen <= 0 || maxLen > int(k) {
		maxLen = int(k)
	}
	type found struct {
		nodes []int32 // local, starting at the smallest
		edges []int32 // local edges; nil for a self-loop
		loop  int     // self-loop index when edges is nil
	}
	less := func(x, y found) bool {
		if len(x.nodes) != len(y.nodes) {
			return len(x.nodes) < len(y.nodes)
		}
		return slices.Compare(x.nodes, y.nodes) < 0
	}
	var kept []found // at most limit, kept sorted by less
	truncated := false
	add := func(f found) {
		if len(kept) == limit {
			truncated = true
			if !less(f, kept[limit-1]) {
				return
			}
			kept = kept[:limit-1]
		}
		i, _ := slices.BinarySearchFunc(kept, f, func(x, y found) int {
			if less(x, y) {
				return -1
			}
			if less(y, x) {
				return 1
			}
			return 0
		})
		kept = slices.Insert(kept, i, f)
	}
	// Once a cycle has been left out, longer ones than the worst kept
	// cannot enter: prune to that length.
	bound := func() int {
		if truncated && len(kept) == limit {
			return min(maxLen, len(kept[limit-1].nodes))
		}
		return maxLen
	}
	for i := range s.loops {
		add(found{nodes: []int32{s.loopN[i]}, loop: i})
	}
	if k > 1 && maxLen >= 2 {
		// Reverse rows for the distance back to the start.
		roff := make([]int32, k+1)
		for _, d := range s.dst {
			roff[d+1]++
		}
		for i := int32(0); i < k; i++ {
			roff[i+1] += roff[i]
		}
		fill := slices.Clone(roff[:k])
		rsrc := make([]int32, len(s.dst))
		for e, d := range s.dst {
			rsrc[fill[d]] = s.src[e]
			fill[d]++
		}
		rstamp := make([]int32, k)
		rdist := make([]int32, k)
		onPath := make([]bool, k)
		var queue, pathN, pathE, cur []int32
		work := 0
	starts:
		for v := int32(0); v < k; v++ {
			// Distances to v over nodes >= v, up to the length bound.
			queue = append(queue[:0], v)
			rstamp[v], rdist[v] = v+1, 0
			for qi := 0; qi < len(queue); qi++ {
				u := queue[qi]
				if int(rdist[u]) >= bound() {
					break
				}
				for i := roff[u]; i < roff[u+1]; i++ {
					work++
					if w := rsrc[i]; w > v && rstamp[w] != v+1 {
						rstamp[w], rdist[w] = v+1, rdist[u]+1
						queue = append(queue, w)
					}
				}
			}
			pathN, pathE, cur = append(pathN[:0], v), pathE[:0], append(cur[:0], s.off[v])
			onPath[v] = true
			for len(pathN) > 0 {
				d := len(pathN) - 1
				u := pathN[d]
				if cur[d] == s.off[u+1] {
					onPath[u] = false
					pathN, cur = pathN[:d], cur[:d]
					if d > 0 {
						pathE = pathE[:d-1]
					}
					continue
				}
				e := cur[d]
				cur[d]++
				if work++; work > budget {
					truncated = true
					for _, x := range pathN {
						onPath[x] = false
					}
					break starts
				}
				w := s.dst[e]
				switch {
				case w == v:
					if d+1 <= bound() {
						edges := append(slices.Clone(pathE), e)
						add(found{nodes: slices.Clone(pathN), edges: edges})
					}
				case w < v || onPath[w] || rstamp[w] != v+1:
				case d+1+int(rdist[w]) > bound():
				default:
					onPath[w] = true
					pathN, pathE, cur = append(pathN, w), append(pathE, e), append(cur, s.off[w])
				}
			}
		}
	}
	out := make([]Cycle, len(kept))
	for i, f := range kept {
		if f.edges == nil {
			out[i] = s.loopCycle(f.loop)
		} else {
			out[i] = s.cycle(f.edges)
		}
	}
	return out, truncated
}

// CycleID returns the canonical ID of the cycle services[0] -> services[1]
// -> ... -> services[0]. It does not depend on where the cycle starts:
// the cycle is rotated to begin at its smallest name, and the ID is that
// name, "+", the number of other members, "-", and 8 hex digits of a
// SHA-256 of the rotated sequence, e.g. "ca+2-1f0e3d2c".
func CycleID(services []string) string {
	if len(services) == 0 {
		return ""
	}
	start := 0
	for i, s := range services {
		if s < services[start] {
			start = i
		}
	}
	rot := make([]string, len(services))
	for i := range services {
		rot[i] = services[(start+i)%len(services)]
	}
	return cycleIDRotated(rot)
}

func cycleIDRotated(rot []string) string {
	h := sha256.Sum256([]byte(strings.Join(rot, "\x00")))
	return rot[0] + "+" + strconv.Itoa(len(rot)-1) + "-" + hex.EncodeToString(h[:4])
}
