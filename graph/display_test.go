package graph_test

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	gonum "gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/topo"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
)

func TestFilterSubgraph(t *testing.T) {
	g := graphtest.FromAdjacency(fleetAdj)
	f := graph.Filter(g, graph.Kinds(graph.Soft))
	if f.Len() != g.Len() || f.EdgeCount() != 1 {
		t.Fatalf("Filter(soft): %d nodes %d edges, want %d and 1", f.Len(), f.EdgeCount(), g.Len())
	}
	pkg, _ := f.ID("pkg")
	if ts, ks := f.Out(pkg); len(ts) != 1 || f.Name(ts[0]) != "cache" || ks[0] != graph.Soft || len(f.Evidence(0)) == 0 {
		t.Errorf("Filter(soft) out-edges of pkg = %v %v, evidence %v", ts, ks, f.Evidence(0))
	}
	if graph.Filter(g, graph.AllKindsSet) != g {
		t.Errorf("Filter with every kind should return the graph itself")
	}

	sub, err := graph.Subgraph(g, []string{"config"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ca", "config", "coord", "dns", "sched"}; !cmp.Equal(sub.Names(), want) {
		t.Errorf("Subgraph(config, deps) = %v, want %v", sub.Names(), want)
	}
	if sub.EdgeCount() != 7 {
		t.Errorf("Subgraph(config, deps) has %d edges, want 7", sub.EdgeCount())
	}
	sub, _ = graph.Subgraph(g, []string{"web", "pkg", "cache"}, false)
	if sub.EdgeCount() != 2 {
		t.Errorf("Subgraph(web, pkg, cache) has %d edges, want 2 (web->pkg, pkg->cache)", sub.EdgeCount())
	}
	if _, err := graph.Subgraph(g, []string{"nope"}, true); !errors.Is(err, graph.ErrUnknownService) {
		t.Errorf("Subgraph(nope) error = %v", err)
	}

	cl, _ := graph.Closure(g, 0, []string{"pkg"})
	if want := []string{"ca", "config", "coord", "dns", "pkg", "sched"}; !cmp.Equal(cl, want) {
		t.Errorf("Closure(pkg) = %v, want %v", cl, want)
	}
	dep, _ := graph.Dependents(g, 0, []string{"coord"})
	if want := []string{"ca", "config", "coord", "pkg", "sched", "web"}; !cmp.Equal(dep, want) {
		t.Errorf("Dependents(coord) = %v, want %v", dep, want)
	}
}

func TestClosureProperties(t *testing.T) {
	for seed := uint64(0); seed < 40; seed++ {
		g := graphtest.Random(seed, graphtest.RandomOptions{Nodes: 15, Density: 0.1, SelfLoops: 0.05, Kinds: []graph.Kind{graph.Hard, graph.Soft}})
		d := toDense(g, 0)
		r := d.reach()
		for v := 0; v < d.n; v++ {
			var wantC, wantD []string
			for w := 0; w < d.n; w++ {
				if w == v || r[v][w] {
					wantC = append(wantC, d.names[w])
				}
				if w == v || r[w][v] {
					wantD = append(wantD, d.names[w])
				}
			}
			c, _ := graph.Closure(g, 0, []string{d.names[v]})
			dd, _ := graph.Dependents(g, 0, []string{d.names[v]})
			if !cmp.Equal(c, wantC) || !cmp.Equal(dd, wantD) {
				t.Fatalf("seed %d %s: Closure %v want %v; Dependents %v want %v", seed, d.names[v], c, wantC, dd, wantD)
			}
		}
	}
}

func TestTransitiveReductionProperties(t *testing.T) {
	for ci, o := range randomCases() {
		for seed := uint64(0); seed < 20; seed++ {
			g := graphtest.Random(seed*3+uint64(ci), o)
			name := fmt.Sprintf("case%d/seed%d", ci, seed)
			d := toDense(g, 0)
			r := d.reach()
			tr := graph.TransitiveReduction(g, 0)
			dt := toDense(tr, graph.AllKindsSet)
			if !cmp.Equal(dt.reach(), r) {
				t.Fatalf("%s: reduction changed reachability", name)
			}
			same := func(u, v int) bool { return u == v || (r[u][v] && r[v][u]) }
			for u := 0; u < d.n; u++ {
				for v := 0; v < d.n; v++ {
					if !d.has[u][v] {
						if dt.has[u][v] {
							t.Fatalf("%s: reduction added %s->%s", name, d.names[u], d.names[v])
						}
						continue
					}
					// Kept iff inside a component or no chain of components
					// between the two.
					want := true
					if !same(u, v) {
						for w := 0; w < d.n; w++ {
							if !same(w, u) && !same(w, v) && r[u][w] && r[w][v] {
								want = false
								break
							}
						}
					}
					if dt.has[u][v] != want {
						t.Fatalf("%s: edge %s->%s kept %v, want %v", name, d.names[u], d.names[v], dt.has[u][v], want)
					}
					if want && dt.kind[u][v] != d.kind[u][v] {
						t.Fatalf("%s: edge %s->%s changed kind", name, d.names[u], d.names[v])
					}
				}
			}
		}
	}
}

func TestCondense(t *testing.T) {
	g := graphtest.FromAdjacency(fleetAdj)
	c := graph.Condense(g, 0)
	ca, _ := g.ID("ca")
	sched, _ := g.ID("sched")
	if c.Comp[ca] != c.Comp[sched] {
		t.Fatalf("ca and sched in components %d and %d", c.Comp[ca], c.Comp[sched])
	}
	if c.Len() != g.Len()-1 {
		t.Errorf("Len() = %d, want %d", c.Len(), g.Len()-1)
	}
	for i := int32(0); i < int32(c.Len()); i++ {
		for _, n := range c.Needs(i) {
			if n >= i {
				t.Errorf("component %d needs %d: not numbered needs first", i, n)
			}
		}
	}
	if m := c.Members(c.Comp[ca]); !cmp.Equal(m, []int32{ca, sched}) {
		t.Errorf("Members = %v", m)
	}
}

func TestGonumDirected(t *testing.T) {
	for ci, o := range randomCases() {
		for seed := uint64(0); seed < 15; seed++ {
			g := graphtest.Random(seed*5+uint64(ci), o)
			for _, ks := range []graph.KindSet{0, graph.AllKindsSet} {
				name := fmt.Sprintf("case%d/seed%d/%s", ci, seed, ks)
				d := toDense(g, ks)
				dir := g.Directed(ks)

				// Iterators and edge queries against the matrix.
				if n := gonum.NodesOf(dir.Nodes()); len(n) != d.n {
					t.Fatalf("%s: %d nodes", name, len(n))
				}
				for u := 0; u < d.n; u++ {
					from, to := dir.From(int64(u)), dir.To(int64(u))
					var gotF, gotT, wantF, wantT []int64
					l := from.Len()
					for from.Next() {
						gotF = append(gotF, from.Node().ID())
					}
					for to.Next() {
						gotT = append(gotT, to.Node().ID())
					}
					for v := 0; v < d.n; v++ {
						if d.has[u][v] {
							wantF = append(wantF, int64(v))
						}
						if d.has[v][u] {
							wantT = append(wantT, int64(v))
						}
						if dir.HasEdgeFromTo(int64(u), int64(v)) != d.has[u][v] {
							t.Fatalf("%s: HasEdgeFromTo(%d, %d) wrong", name, u, v)
						}
						if e := dir.Edge(int64(u), int64(v)); (e != nil) != d.has[u][v] {
							t.Fatalf("%s: Edge(%d, %d) = %v", name, u, v, e)
						}
					}
					if !cmp.Equal(gotF, wantF) || !cmp.Equal(gotT, wantT) || l != len(wantF) {
						t.Fatalf("%s: node %d From %v (Len %d) To %v, want %v and %v", name, u, gotF, l, gotT, wantF, wantT)
					}
				}

				// gonum's Tarjan on the view finds our components.
				var sccs [][]string
				for _, c := range topo.TarjanSCC(dir) {
					var names []string
					for _, n := range c {
						names = append(names, n.(interface{ DOTID() string }).DOTID())
					}
					sort.Strings(names)
					if len(names) > 1 || d.has[d.index(names[0])][d.index(names[0])] {
						sccs = append(sccs, names)
					}
				}
				slices.SortFunc(sccs, func(a, b []string) int { return slices.Compare(a, b) })
				var ours [][]string
				for _, c := range graph.Cycles(g, graph.CycleOptions{Kinds: ks, MaxCuts: -1}) {
					ours = append(ours, c.Members)
				}
				if diff := cmp.Diff(sccs, ours); diff != "" {
					t.Fatalf("%s: topo.TarjanSCC vs Cycles (-gonum +ours):\n%s", name, diff)
				}

				// topo.Sort: an order consistent with every edge, or
				// Unorderable listing exactly our knots with several members
				// (gonum does not count self-loops).
				sorted, err := topo.Sort(dir)
				var multi [][]string
				for _, c := range ours {
					if len(c) > 1 {
						multi = append(multi, c)
					}
				}
				var un topo.Unorderable
				if (err != nil) != (multi != nil) || (err != nil && !errors.As(err, &un)) {
					t.Fatalf("%s: topo.Sort error %v with components %v", name, err, ours)
				}
				if err != nil {
					var got [][]string
					for _, c := range un {
						var names []string
						for _, n := range c {
							names = append(names, dir.Name(n.ID()))
						}
						sort.Strings(names)
						got = append(got, names)
					}
					slices.SortFunc(got, func(a, b []string) int { return slices.Compare(a, b) })
					if diff := cmp.Diff(multi, got); diff != "" {
						t.Fatalf("%s: topo.Unorderable (-ours +gonum):\n%s", name, diff)
					}
				}
				if err == nil {
					pos := map[int64]int{}
					for i, n := range sorted {
						pos[n.ID()] = i
					}
					for u := 0; u < d.n; u++ {
						for v := 0; v < d.n; v++ {
							if u != v && d.has[u][v] && pos[int64(u)] > pos[int64(v)] {
								t.Fatalf("%s: topo.Sort puts %d after %d", name, u, v)
							}
						}
					}
				}
			}
		}
	}
}
