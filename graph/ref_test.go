package graph_test

// Independent brute-force references for the property tests. They work on
// a dense adjacency matrix and share no code with package graph.

import (
	"math"
	"slices"
	"sort"

	"github.com/rgraph/rgraph/graph"
)

// dense is a small graph as a matrix, restricted to some kinds.
type dense struct {
	names []string
	n     int
	has   [][]bool
	kind  [][]graph.Kind
}

func toDense(g *graph.Graph, ks graph.KindSet) *dense {
	if ks == 0 {
		ks = graph.DefaultKinds
	}
	n := g.Len()
	d := &dense{names: g.Names(), n: n, has: make([][]bool, n), kind: make([][]graph.Kind, n)}
	for u := 0; u < n; u++ {
		d.has[u] = make([]bool, n)
		d.kind[u] = make([]graph.Kind, n)
		ts, kinds := g.Out(int32(u))
		for i, v := range ts {
			if ks.Has(kinds[i]) {
				d.has[u][v] = true
				d.kind[u][v] = kinds[i]
			}
		}
	}
	return d
}

// reach is the reflexive-free transitive closure (Warshall).
func (d *dense) reach() [][]bool {
	r := make([][]bool, d.n)
	for u := range r {
		r[u] = slices.Clone(d.has[u])
	}
	for k := 0; k < d.n; k++ {
		for i := 0; i < d.n; i++ {
			if !r[i][k] {
				continue
			}
			for j := 0; j < d.n; j++ {
				if r[k][j] {
					r[i][j] = true
				}
			}
		}
	}
	return r
}

// cyclicComponents returns the sorted member names of every SCC with more
// than one member or a self-loop, sorted by first member.
func (d *dense) cyclicComponents() [][]string {
	r := d.reach()
	seen := make([]bool, d.n)
	var out [][]string
	for u := 0; u < d.n; u++ {
		if seen[u] {
			continue
		}
		comp := []string{d.names[u]}
		seen[u] = true
		for v := u + 1; v < d.n; v++ {
			if r[u][v] && r[v][u] {
				comp = append(comp, d.names[v])
				seen[v] = true
			}
		}
		if len(comp) > 1 || d.has[u][u] {
			out = append(out, comp)
		}
	}
	return out
}

// bfs returns hop distances from s (-1 unreachable).
func (d *dense) bfs(s int) []int {
	dist := make([]int, d.n)
	for i := range dist {
		dist[i] = -1
	}
	dist[s] = 0
	q := []int{s}
	for len(q) > 0 {
		u := q[0]
		q = q[1:]
		for v := 0; v < d.n; v++ {
			if d.has[u][v] && dist[v] < 0 {
				dist[v] = dist[u] + 1
				q = append(q, v)
			}
		}
	}
	return dist
}

// shortestCycleLen returns the length of a shortest cycle of length >= 2
// through any of members, by BFS from every member.
func (d *dense) shortestCycleLen(members []int) int {
	best := math.MaxInt
	for _, s := range members {
		dist := d.bfs(s)
		for u := 0; u < d.n; u++ {
			if u != s && d.has[u][s] && dist[u] > 0 && dist[u]+1 < best {
				best = dist[u] + 1
			}
		}
	}
	return best
}

// waves computes recovery waves by fixed-point relaxation: start at 0 and
// raise wave(u) to wave(v)+1 for each edge u -> v between different SCCs,
// and to the max over its SCC, until nothing changes.
func (d *dense) waves() []int {
	r := d.reach()
	same := func(u, v int) bool { return u == v || (r[u][v] && r[v][u]) }
	w := make([]int, d.n)
	for changed := true; changed; {
		changed = false
		for u := 0; u < d.n; u++ {
			for v := 0; v < d.n; v++ {
				if d.has[u][v] && !same(u, v) && w[u] < w[v]+1 {
					w[u] = w[v] + 1
					changed = true
				}
				if same(u, v) && w[u] < w[v] {
					w[u] = w[v]
					changed = true
				}
			}
		}
	}
	return w
}

// acyclicWithout reports whether the subgraph on members, without the
// edges in cut ("from\x00to"), has no cycle, by repeatedly removing nodes
// with no remaining out-edge.
func (d *dense) acyclicWithout(members []int, cut map[[2]int]bool) bool {
	alive := map[int]bool{}
	for _, m := range members {
		alive[m] = true
	}
	for changed := true; changed; {
		changed = false
		for _, u := range members {
			if !alive[u] {
				continue
			}
			out := false
			for _, v := range members {
				if alive[v] && d.has[u][v] && !cut[[2]int{u, v}] {
					out = true
					break
				}
			}
			if !out {
				alive[u] = false
				changed = true
			}
		}
	}
	for _, a := range alive {
		if a {
			return false
		}
	}
	return true
}

// minCutCost returns the minimum weight of an edge set whose removal makes
// the members acyclic, by trying every subset of their internal edges.
func (d *dense) minCutCost(members []int, weight func(graph.Kind) float64) float64 {
	var edges [][2]int
	for _, u := range members {
		for _, v := range members {
			if d.has[u][v] {
				edges = append(edges, [2]int{u, v})
			}
		}
	}
	best := math.Inf(1)
	for mask := 0; mask < 1<<len(edges); mask++ {
		cost := 0.0
		cut := map[[2]int]bool{}
		for i, e := range edges {
			if mask&(1<<i) != 0 {
				cost += weight(d.kind[e[0]][e[1]])
				cut[e] = true
			}
		}
		if cost < best && d.acyclicWithout(members, cut) {
			best = cost
		}
	}
	return best
}

// simpleCycles lists every elementary cycle as node sequences starting at
// their smallest node, by DFS from each node over larger nodes.
func (d *dense) simpleCycles() [][]int {
	var out [][]int
	for s := 0; s < d.n; s++ {
		if d.has[s][s] {
			out = append(out, []int{s})
		}
		var walk func(path []int, on map[int]bool)
		walk = func(path []int, on map[int]bool) {
			u := path[len(path)-1]
			for v := s; v < d.n; v++ {
				if !d.has[u][v] || (v == s && len(path) == 1) {
					continue
				}
				if v == s {
					out = append(out, slices.Clone(path))
				} else if !on[v] {
					on[v] = true
					walk(append(path, v), on)
					on[v] = false
				}
			}
		}
		walk([]int{s}, map[int]bool{s: true})
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) < len(out[j])
		}
		return slices.Compare(out[i], out[j]) < 0
	})
	return out
}

// allSimplePaths returns every simple path from s to t as node sequences.
func (d *dense) allSimplePaths(s, t int) [][]int {
	var out [][]int
	var walk func(path []int, on []bool)
	walk = func(path []int, on []bool) {
		u := path[len(path)-1]
		for v := 0; v < d.n; v++ {
			if !d.has[u][v] {
				continue
			}
			if v == t {
				out = append(out, append(slices.Clone(path), v))
			} else if !on[v] {
				on[v] = true
				walk(append(path, v), on)
				on[v] = false
			}
		}
	}
	on := make([]bool, d.n)
	on[s] = true
	walk([]int{s}, on)
	return out
}

func (d *dense) index(name string) int {
	i, _ := slices.BinarySearch(d.names, name)
	return i
}

// minCutCostSmall is minCutCost over subsets of at most maxEdges edges,
// for components too big for every subset.
func (d *dense) minCutCostSmall(members []int, weight func(graph.Kind) float64, maxEdges int) float64 {
	var edges [][2]int
	for _, u := range members {
		for _, v := range members {
			if d.has[u][v] {
				edges = append(edges, [2]int{u, v})
			}
		}
	}
	best := math.Inf(1)
	cut := map[[2]int]bool{}
	var choose func(from int, cost float64)
	choose = func(from int, cost float64) {
		if cost >= best {
			return
		}
		if d.acyclicWithout(members, cut) {
			best = cost
			return
		}
		if len(cut) == maxEdges {
			return
		}
		for i := from; i < len(edges); i++ {
			e := edges[i]
			cut[e] = true
			choose(i+1, cost+weight(d.kind[e[0]][e[1]]))
			delete(cut, e)
		}
	}
	choose(0, 0)
	return best
}
