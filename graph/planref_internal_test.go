package graph

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPlanMatchesReference checks buildPlan, which resolves one
// component at a time, against refBuildPlan, which resolves the whole
// scope phase by phase: the same plan edges and the same choices, on
// random graphs with explicit and implicit alternative groups, cycles,
// self-loops and endpoints, for the whole graph and for targets.
func TestPlanMatchesReference(t *testing.T) {
	for seed := uint64(0); seed < 400; seed++ {
		g := randomPlanGraph(seed, 5+int(seed%25))
		for _, ks := range []KindSet{DefaultKinds, AllKindsSet} {
			var roots []int32
			if seed%3 == 0 {
				roots = []int32{int32(seed) % int32(g.Len())}
			}
			got, want := buildPlan(g, ks, roots), refBuildPlan(g, ks, roots)
			name := fmt.Sprintf("seed %d, kinds %s, roots %v", seed, ks, roots)
			if !slices.Equal(got.mask, want.mask) {
				t.Errorf("%s: plan edges differ", name)
			}
			if d := diffGroups(g, got.groups, want.groups); d != "" {
				t.Errorf("%s: %s", name, d)
			}
			if roots == nil {
				checkPlanComps(t, name, g, got)
			}
		}
	}
}

func diffGroups(g *Graph, got, want []planGroup) string {
	key := func(gr planGroup) string { return fmt.Sprint(gr.owner, gr.edges) }
	index := map[string]planGroup{}
	for _, gr := range want {
		index[key(gr)] = gr
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%d groups, reference %d", len(got), len(want))
	}
	for _, gr := range got {
		w, ok := index[key(gr)]
		switch {
		case !ok:
			return fmt.Sprintf("group %s of %s not in the reference", key(gr), g.names[gr.owner])
		case w.chosen != gr.chosen || w.reason != gr.reason:
			return fmt.Sprintf("%s waits for %s (%s), reference %s (%s)", g.names[gr.owner],
				g.names[g.outDst[gr.chosen]], gr.reason, g.names[g.outDst[w.chosen]], w.reason)
		}
	}
	return ""
}

// randomPlanGraph is a random graph with plain edges of every kind,
// explicit groups (some holding an endpoint or the owner itself) and a few
// endpoints.
func randomPlanGraph(seed uint64, n int) *Graph {
	r := rand.New(rand.NewPCG(seed, 0x9e37))
	name := func(i int) string { return fmt.Sprintf("n%02d", i) }
	var b Builder
	for i := range n {
		b.AddNode(name(i), NodeInfo{})
	}
	b.AddNode("dns:x.example", NodeInfo{Type: Endpoint})
	for u := range n {
		for range r.IntN(3) {
			b.AddEdge(name(u), name(r.IntN(n)), AllKinds[r.IntN(len(AllKinds))])
		}
		for range r.IntN(3) {
			var to []string
			for range 1 + r.IntN(3) {
				to = append(to, name(r.IntN(n)))
			}
			if r.IntN(8) == 0 {
				to = append(to, "dns:x.example")
			}
			b.AddGroup(name(u), to...)
		}
	}
	return b.Build()
}

// checkPlanComps checks the components a plan found as it resolved: the
// same partition as Tarjan's algorithm on the plan's edges, the same
// self-loops, in an order where every edge between two components points
// to an earlier one.
func checkPlanComps(t *testing.T, name string, g *Graph, p *plan) {
	t.Helper()
	a := &adj{g: g, n: int32(len(g.names)), off: g.outOff, dst: g.outDst, kinds: g.kinds, mask: p.mask}
	want, got := a.scc(nil, nil), p.comps
	if got.count != want.count {
		t.Errorf("%s: plan has %d components, Tarjan %d", name, got.count, want.count)
		return
	}
	same := map[[2]int32]bool{}
	for v := range g.names {
		same[[2]int32{got.comp[v], want.comp[v]}] = true
	}
	if len(same) != int(want.count) {
		t.Errorf("%s: plan components differ from Tarjan's", name)
	}
	for u := int32(0); u < a.n; u++ {
		for e := a.off[u]; e < a.off[u+1]; e++ {
			if a.ok(e) && got.comp[a.dst[e]] > got.comp[u] {
				t.Errorf("%s: edge %s -> %s points to a later component", name, g.names[u], g.names[a.dst[e]])
			}
		}
	}
	gl, wl := got.loops, slices.Sorted(slices.Values(want.loops))
	if !slices.Equal(gl, slices.Compact(wl)) {
		t.Errorf("%s: self-loops %v, Tarjan %v", name, gl, wl)
	}
}
