package graph_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
)

func TestCyclesTable(t *testing.T) {
	tests := []struct {
		name    string
		adj     map[string][]string
		opts    graph.CycleOptions
		members [][]string
		witness [][]string // services of each component's witness
		cut     [][]string // "from->to" of each component's first cut
	}{
		{
			name: "acyclic",
			adj:  map[string][]string{"web": {"db", "dns"}, "db": {"dns"}, "dns": {}},
		},
		{
			name:    "self loop",
			adj:     map[string][]string{"dns": {"dns"}, "web": {"dns"}},
			members: [][]string{{"dns"}},
			witness: [][]string{{"dns"}},
			cut:     [][]string{{"dns->dns"}},
		},
		{
			name: "ca needs scheduler needs ca",
			adj: map[string][]string{
				"ca": {"sched"}, "sched": {"ca", "dns"}, "dns": {},
			},
			members: [][]string{{"ca", "sched"}},
			witness: [][]string{{"ca", "sched"}},
			cut:     [][]string{{"ca->sched"}},
		},
		{
			name: "soft edge is the cheapest cut",
			adj: map[string][]string{
				"ca": {"sched"}, "sched": {"store"}, "store": {"ca:declared"},
			},
			members: [][]string{{"ca", "sched", "store"}},
			witness: [][]string{{"ca", "sched", "store"}},
			cut:     [][]string{{"store->ca"}},
		},
		{
			name: "shortest witness in a bigger knot",
			adj: map[string][]string{
				"a": {"b"}, "b": {"c"}, "c": {"d"}, "d": {"a", "e"}, "e": {"c"},
			},
			members: [][]string{{"a", "b", "c", "d", "e"}},
			witness: [][]string{{"c", "d", "e"}},
			cut:     [][]string{{"c->d"}},
		},
		{
			name: "two knots and soft edges ignored by default",
			adj: map[string][]string{
				"a": {"b"}, "b": {"a"}, "x": {"y"}, "y": {"x:soft"},
				"p": {"q"}, "q": {"r"}, "r": {"p"},
			},
			members: [][]string{{"a", "b"}, {"p", "q", "r"}},
			witness: [][]string{{"a", "b"}, {"p", "q", "r"}},
			cut:     [][]string{{"a->b"}, {"p->q"}},
		},
		{
			name: "soft edges when asked",
			adj: map[string][]string{
				"x": {"y"}, "y": {"x:soft"},
			},
			opts:    graph.CycleOptions{Kinds: graph.Kinds(graph.Hard, graph.Soft)},
			members: [][]string{{"x", "y"}},
			witness: [][]string{{"x", "y"}},
			cut:     [][]string{{"y->x"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := graphtest.FromAdjacency(tt.adj)
			got := graph.Cycles(g, tt.opts)
			var members, witness, cut [][]string
			for _, c := range got {
				members = append(members, c.Members)
				witness = append(witness, c.Witness.Services)
				var es []string
				for _, e := range c.Cuts[0].Edges {
					es = append(es, e.From+"->"+e.To)
				}
				cut = append(cut, es)
				if !c.WitnessExact || !c.Cuts[0].Exact {
					t.Errorf("component %v: witness exact %v, cut exact %v; want both exact", c.Members, c.WitnessExact, c.Cuts[0].Exact)
				}
			}
			if d := cmp.Diff(tt.members, members); d != "" {
				t.Errorf("Cycles members (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.witness, witness); d != "" {
				t.Errorf("Cycles witnesses (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.cut, cut); d != "" {
				t.Errorf("Cycles first cuts (-want +got):\n%s", d)
			}
		})
	}
}

func TestCycleIDRotationInvariant(t *testing.T) {
	a := graph.CycleID([]string{"sched", "store", "ca"})
	b := graph.CycleID([]string{"ca", "sched", "store"})
	c := graph.CycleID([]string{"store", "ca", "sched"})
	if a != b || b != c {
		t.Errorf("CycleID differs by rotation: %q %q %q", a, b, c)
	}
	if rev := graph.CycleID([]string{"ca", "store", "sched"}); rev == a {
		t.Errorf("CycleID of the reversed cycle = %q, same as forward", rev)
	}
	if want := "ca+2-"; a[:len(want)] != want {
		t.Errorf("CycleID = %q, want prefix %q", a, want)
	}
}

// randomCases are the property-test graphs: sizes, densities and kinds
// chosen to give acyclic graphs, several small SCCs, and one big SCC.
func randomCases() []graphtest.RandomOptions {
	mixed := []graph.Kind{graph.Hard, graph.Soft, graph.Declared, graph.Observed}
	return []graphtest.RandomOptions{
		{Nodes: 6, Density: 0.2, SelfLoops: 0.1},
		{Nodes: 8, Density: 0.15, SelfLoops: 0.05, Kinds: mixed},
		{Nodes: 10, Density: 0.12, SelfLoops: 0.05, Kinds: mixed},
		{Nodes: 12, Density: 0.25},
		{Nodes: 20, Density: 0.08, SelfLoops: 0.02, Kinds: mixed},
		{Nodes: 30, Density: 0.05, SelfLoops: 0.02},
		{Nodes: 40, Density: 0.1, Kinds: mixed},
	}
}

func TestCyclesProperties(t *testing.T) {
	kindSets := []graph.KindSet{0, graph.AllKindsSet, graph.Kinds(graph.Hard, graph.Soft)}
	checked, exactCuts := 0, 0
	for ci, o := range randomCases() {
		for seed := uint64(0); seed < 40; seed++ {
			g := graphtest.Random(seed*100+uint64(ci), o)
			for _, ks := range kindSets {
				name := fmt.Sprintf("case%d/seed%d/%s", ci, seed, ks)
				d := toDense(g, ks)
				got := graph.Cycles(g, graph.CycleOptions{Kinds: ks, MaxCuts: 3})
				var members [][]string
				for _, c := range got {
					members = append(members, c.Members)
				}
				if d := cmp.Diff(d.cyclicComponents(), members); d != "" {
					t.Fatalf("%s: components (-ref +got):\n%s", name, d)
				}
				for _, c := range got {
					checked++
					idx := make([]int, len(c.Members))
					for i, m := range c.Members {
						idx[i] = d.index(m)
					}
					checkWitness(t, name, d, c)
					want := 1
					if len(c.Members) > 1 {
						want = d.shortestCycleLen(idx)
					}
					if len(c.Witness.Services) != want {
						t.Fatalf("%s: witness %v has length %d, shortest is %d", name, c.Witness.Services, len(c.Witness.Services), want)
					}
					if c.ID != graph.CycleID(c.Witness.Services) || c.Witness.ID != c.ID {
						t.Fatalf("%s: component ID %q, witness ID %q, CycleID %q", name, c.ID, c.Witness.ID, graph.CycleID(c.Witness.Services))
					}
					checkCuts(t, name, d, c, idx, &exactCuts)
				}
			}
		}
	}
	t.Logf("checked %d components, %d exact cuts against brute force", checked, exactCuts)
}

func checkWitness(t *testing.T, name string, d *dense, c graph.Component) {
	t.Helper()
	w := c.Witness
	if len(w.Edges) != len(w.Services) {
		t.Fatalf("%s: witness %v has %d edges", name, w.Services, len(w.Edges))
	}
	if slices.Min(w.Services) != w.Services[0] {
		t.Fatalf("%s: witness %v not rotated to its smallest member", name, w.Services)
	}
	seen := map[string]bool{}
	for i, e := range w.Edges {
		next := w.Services[(i+1)%len(w.Services)]
		if e.From != w.Services[i] || e.To != next {
			t.Fatalf("%s: witness edge %d is %s->%s, want %s->%s", name, i, e.From, e.To, w.Services[i], next)
		}
		u, v := d.index(e.From), d.index(e.To)
		if !d.has[u][v] || d.kind[u][v] != e.Kind {
			t.Fatalf("%s: witness edge %s->%s (%s) not in graph", name, e.From, e.To, e.Kind)
		}
		if seen[e.From] {
			t.Fatalf("%s: witness %v repeats %s", name, w.Services, e.From)
		}
		seen[e.From] = true
		if _, ok := slices.BinarySearch(c.Members, e.From); !ok {
			t.Fatalf("%s: witness member %s not in component", name, e.From)
		}
	}
}

func checkCuts(t *testing.T, name string, d *dense, c graph.Component, idx []int, exactCuts *int) {
	t.Helper()
	if len(c.Cuts) == 0 {
		t.Fatalf("%s: component %v has no cut", name, c.Members)
	}
	var minCost float64 = -1
	prev := -1.0
	for i, cut := range c.Cuts {
		set := map[[2]int]bool{}
		cost := 0.0
		for _, e := range cut.Edges {
			u, v := d.index(e.From), d.index(e.To)
			if !d.has[u][v] {
				t.Fatalf("%s: cut edge %s->%s not in graph", name, e.From, e.To)
			}
			set[[2]int{u, v}] = true
			cost += graph.CutWeight(e.Kind)
		}
		if math.Abs(cost-cut.Cost) > 1e-9 {
			t.Fatalf("%s: cut %d cost %v, edges sum to %v", name, i, cut.Cost, cost)
		}
		if !d.acyclicWithout(idx, set) {
			t.Fatalf("%s: cut %d %v leaves component %v cyclic", name, i, cut.Edges, c.Members)
		}
		// Minimal: putting any edge back closes a cycle.
		for e := range set {
			delete(set, e)
			if d.acyclicWithout(idx, set) {
				t.Fatalf("%s: cut %d has redundant edge %v", name, i, e)
			}
			set[e] = true
		}
		if cut.Cost < prev {
			t.Fatalf("%s: cuts not ranked by cost: %v after %v", name, cut.Cost, prev)
		}
		prev = cut.Cost
		if cut.Exact || i == 0 {
			edges := 0
			for _, u := range idx {
				for _, v := range idx {
					if d.has[u][v] {
						edges++
					}
				}
			}
			if edges > 16 {
				continue
			}
			if minCost < 0 {
				minCost = d.minCutCost(idx, graph.CutWeight)
			}
			if cut.Exact && math.Abs(cut.Cost-minCost) > 1e-9 {
				t.Fatalf("%s: exact cut %d costs %v, brute-force minimum %v", name, i, cut.Cost, minCost)
			}
			if i == 0 && !cut.Exact {
				t.Fatalf("%s: first cut of a %d-edge component not exact", name, edges)
			}
			if cut.Exact {
				*exactCuts++
			}
		}
	}
}

func TestCutsGreedyAndBranchAndBound(t *testing.T) {
	// The same components solved greedily (exact disabled) and by branch
	// and bound (members beyond the subset DP) must give valid minimal
	// cuts; branch and bound must match brute force.
	for seed := uint64(0); seed < 60; seed++ {
		g := graphtest.Random(seed, graphtest.RandomOptions{Nodes: 26, Density: 0.045, Kinds: []graph.Kind{graph.Hard, graph.Declared}})
		d := toDense(g, 0)
		for _, exactMax := range []int{-1, 30} {
			got := graph.Cycles(g, graph.CycleOptions{ExactCutMaxEdges: exactMax})
			for _, c := range got {
				idx := make([]int, len(c.Members))
				for i, m := range c.Members {
					idx[i] = d.index(m)
				}
				name := fmt.Sprintf("seed%d/exact<=%d", seed, exactMax)
				if exactMax < 0 && countEdges(d, idx) > len(idx) { // a simple cycle is trivially exact
					for _, cut := range c.Cuts {
						if cut.Exact {
							t.Fatalf("%s: cut marked exact with exact solving disabled", name)
						}
					}
				}
				checkCutsValidOnly(t, name, d, c, idx)
				if exactMax > 0 && c.Cuts[0].Exact && len(c.Members) <= 24 {
					if m := countEdges(d, idx); m <= 18 {
						want := d.minCutCost(idx, graph.CutWeight)
						if math.Abs(want-c.Cuts[0].Cost) > 1e-9 {
							t.Fatalf("%s: exact cut cost %v, brute force %v", name, c.Cuts[0].Cost, want)
						}
					}
				}
			}
		}
	}
}

func countEdges(d *dense, idx []int) int {
	n := 0
	for _, u := range idx {
		for _, v := range idx {
			if d.has[u][v] {
				n++
			}
		}
	}
	return n
}

func checkCutsValidOnly(t *testing.T, name string, d *dense, c graph.Component, idx []int) {
	t.Helper()
	for i, cut := range c.Cuts {
		set := map[[2]int]bool{}
		for _, e := range cut.Edges {
			set[[2]int{d.index(e.From), d.index(e.To)}] = true
		}
		if !d.acyclicWithout(idx, set) {
			t.Fatalf("%s: cut %d leaves %v cyclic", name, i, c.Members)
		}
	}
}

func TestCyclesBoundedListing(t *testing.T) {
	for ci, o := range randomCases()[:5] {
		for seed := uint64(0); seed < 30; seed++ {
			g := graphtest.Random(seed*7+uint64(ci), o)
			d := toDense(g, 0)
			all := d.simpleCycles()
			for _, bound := range []struct{ maxLen, limit int }{{0, 1000000}, {3, 0}, {4, 5}, {0, 2}} {
				got := graph.Cycles(g, graph.CycleOptions{MaxLen: bound.maxLen, Limit: bound.limit, MaxCuts: -1})
				for _, c := range got {
					// Reference: the component's cycles within MaxLen, shortest first.
					inComp := map[int]bool{}
					for _, m := range c.Members {
						inComp[d.index(m)] = true
					}
					var want []string
					for _, cyc := range all {
						if !inComp[cyc[0]] || (bound.maxLen > 0 && len(cyc) > bound.maxLen) {
							continue
						}
						var names []string
						for _, v := range cyc {
							names = append(names, d.names[v])
						}
						want = append(want, fmt.Sprint(names))
					}
					limit := bound.limit
					if limit == 0 {
						limit = graph.DefaultCycleLimit
					}
					wantTrunc := len(want) > limit
					if wantTrunc {
						want = want[:limit]
					}
					var gotS []string
					for _, cyc := range c.Cycles {
						gotS = append(gotS, fmt.Sprint(cyc.Services))
						if cyc.ID != graph.CycleID(cyc.Services) {
							t.Fatalf("cycle %v has ID %q", cyc.Services, cyc.ID)
						}
					}
					name := fmt.Sprintf("case%d/seed%d/maxLen%d/limit%d", ci, seed, bound.maxLen, bound.limit)
					if d := cmp.Diff(want, gotS); d != "" {
						t.Fatalf("%s: cycles of %v (-ref +got):\n%s", name, c.Members, d)
					}
					if c.Truncated != wantTrunc {
						t.Fatalf("%s: Truncated = %v, want %v", name, c.Truncated, wantTrunc)
					}
				}
			}
		}
	}
}

func TestCutBranchAndBound(t *testing.T) {
	// Rings of 22 to 27 services with a few chords: too many members for
	// the subset DP, few enough edges for branch and bound.
	kinds := []string{"hard", "declared", "soft"}
	for seed := 0; seed < 25; seed++ {
		n := 22 + seed%6
		adj := map[string][]string{}
		name := func(i int) string { return fmt.Sprintf("s%02d", i%n) }
		x := uint32(seed*7919 + 1)
		rnd := func(m int) int { x = x*1664525 + 1013904223; return int(x>>8) % m }
		for i := 0; i < n; i++ {
			adj[name(i)] = append(adj[name(i)], name(i+1)+":"+kinds[rnd(3)])
		}
		for c := 0; c < 2+seed%3; c++ {
			u, v := rnd(n), rnd(n)
			if u != v {
				adj[name(u)] = append(adj[name(u)], name(v)+":"+kinds[rnd(3)])
			}
		}
		g := graphtest.FromAdjacency(adj)
		d := toDense(g, graph.AllKindsSet)
		got := graph.Cycles(g, graph.CycleOptions{Kinds: graph.AllKindsSet, ExactCutMaxEdges: 40})
		for _, c := range got {
			if len(c.Members) <= 20 {
				continue
			}
			idx := make([]int, len(c.Members))
			for i, m := range c.Members {
				idx[i] = d.index(m)
			}
			name := fmt.Sprintf("ring%d", seed)
			checkCutsValidOnly(t, name, d, c, idx)
			if !c.Cuts[0].Exact {
				t.Fatalf("%s: branch and bound gave no exact cut", name)
			}
			want := d.minCutCostSmall(idx, graph.CutWeight, int(c.Cuts[0].Cost))
			if math.Abs(want-c.Cuts[0].Cost) > 1e-9 {
				t.Fatalf("%s: cut cost %v, brute force %v", name, c.Cuts[0].Cost, want)
			}
		}
	}
}

func TestWitnessBudget(t *testing.T) {
	// A ring of 3000 with chords far apart: the exhaustive search needs
	// many BFS runs, a tiny budget stops it early.
	adj := map[string][]string{}
	n := 3000
	name := func(i int) string { return fmt.Sprintf("s%04d", i%n) }
	for i := 0; i < n; i++ {
		adj[name(i)] = []string{name(i + 1)}
	}
	adj[name(2000)] = append(adj[name(2000)], name(1000)) // a 1000-cycle
	adj[name(2990)] = append(adj[name(2990)], name(2900)) // a 91-cycle
	g := graphtest.FromAdjacency(adj)
	full := graph.Cycles(g, graph.CycleOptions{MaxCuts: -1})
	if len(full) != 1 || !full[0].WitnessExact || len(full[0].Witness.Services) != 91 {
		t.Fatalf("exhaustive witness: exact %v, length %d, want exact and 91", full[0].WitnessExact, len(full[0].Witness.Services))
	}
	bounded := graph.Cycles(g, graph.CycleOptions{MaxCuts: -1, WitnessWork: 10})
	c := bounded[0]
	if c.WitnessExact {
		t.Errorf("witness with a tiny budget claims to be exact")
	}
	d := toDense(g, 0)
	checkWitness(t, "bounded", d, c)
	// A plain ring is a single cycle: exact without search.
	ring := map[string][]string{}
	for i := 0; i < n; i++ {
		ring[name(i)] = []string{name(i + 1)}
	}
	r := graph.Cycles(graphtest.FromAdjacency(ring), graph.CycleOptions{WitnessWork: 1})
	if !r[0].WitnessExact || len(r[0].Witness.Services) != n || r[0].Witness.Services[0] != "s0000" {
		t.Errorf("ring witness: exact %v, length %d, starts at %s", r[0].WitnessExact, len(r[0].Witness.Services), r[0].Witness.Services[0])
	}
}
