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
