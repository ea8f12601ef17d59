package graph_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
)

func TestDiffTable(t *testing.T) {
	old := graphtest.FromAdjacency(map[string][]string{
		"web":   {"db", "cache:soft"},
		"db":    {"dns"},
		"dns":   {},
		"cache": {},
		"ca":    {"sched"},
		"sched": {"ca"},
	})
	new := graphtest.FromAdjacency(map[string][]string{
		"web":   {"db", "cache:hard", "auth"},
		"db":    {"dns", "auth"},
		"dns":   {"db"},
		"cache": {},
		"auth":  {},
		"ca":    {"sched"},
		"sched": {},
	})
	got := graph.Diff(old, new, graph.DiffOptions{})
	want := graph.Delta{
		AddedServices:   []string{"auth"},
		RemovedServices: []string{},
		AddedEdges: []graph.Edge{
			{From: "db", To: "auth", Kind: graph.Hard},
			{From: "dns", To: "db", Kind: graph.Hard},
			{From: "web", To: "auth", Kind: graph.Hard},
		},
		RemovedEdges: []graph.Edge{{From: "sched", To: "ca", Kind: graph.Hard}},
		KindChanges:  []graph.KindChange{{From: "web", To: "cache", Old: graph.Soft, New: graph.Hard}},
		NewCycles: []graph.Cycle{{
			ID:       graph.CycleID([]string{"db", "dns"}),
			Services: []string{"db", "dns"},
			Edges:    []graph.Edge{{From: "db", To: "dns", Kind: graph.Hard}, {From: "dns", To: "db", Kind: graph.Hard}},
		}},
		ResolvedCycles: []graph.Cycle{{
			ID:       graph.CycleID([]string{"ca", "sched"}),
			Services: []string{"ca", "sched"},
			Edges:    []graph.Edge{{From: "ca", To: "sched", Kind: graph.Hard}, {From: "sched", To: "ca", Kind: graph.Hard}},
		}},
		// db and dns are now one group above auth (wave 1), so dns moved
		// up from 0; sched no longer needs ca, so ca now waits for it.
		LaterWave: []graph.WaveShift{
			{Service: "ca", Old: 0, New: 1},
			{Service: "dns", Old: 0, New: 1},
		},
		ClosureGrowth: []graph.Growth{
			{Service: "db", Old: 1, New: 2},  // dns -> dns, auth (itself excluded)
			{Service: "dns", Old: 0, New: 2}, // db, auth
			{Service: "web", Old: 2, New: 4}, // db, dns -> + cache (now hard), auth
		},
	}
	ignoreEvidence := cmpopts.IgnoreFields(graph.Edge{}, "Evidence")
	if d := cmp.Diff(want, got, ignoreEvidence); d != "" {
		t.Errorf("Diff (-want +got):\n%s", d)
	}
}

func edgeSet(g *graph.Graph) map[[2]string]graph.Kind {
	out := map[[2]string]graph.Kind{}
	for u := int32(0); u < int32(g.Len()); u++ {
		ts, ks := g.Out(u)
		for i, v := range ts {
			out[[2]string{g.Name(u), g.Name(v)}] = ks[i]
		}
	}
	return out
}

// andKinds are the default kinds without alternatives, for references
// that know only edges that are all needed.
var andKinds = graph.DefaultKinds &^ graph.Kinds(graph.Alternative)

func TestDiffProperties(t *testing.T) {
	kinds := []graph.Kind{graph.Hard, graph.Soft, graph.Declared}
	for seed := uint64(0); seed < 150; seed++ {
		n := 8 + int(seed%5)*6
		old := graphtest.Random(seed, graphtest.RandomOptions{Nodes: n, Density: 1.5 / float64(n), SelfLoops: 0.03, Kinds: kinds})
		var new *graph.Graph
		if seed%3 == 0 {
			new = graphtest.Random(seed+1000, graphtest.RandomOptions{Nodes: n, Density: 1.5 / float64(n), SelfLoops: 0.03, Kinds: kinds})
		} else {
			new = graphtest.Evolve(old, 2+int(seed%7), seed)
		}
		for _, work := range []int{0, 1} {
			name := fmt.Sprintf("seed%d/work%d", seed, work)
			// The brute-force references treat every edge as needed:
			// no alternatives, whose "any one of" they do not model.
			d := graph.Diff(old, new, graph.DiffOptions{ClosureWork: work, Kinds: andKinds})
			checkDiff(t, name, old, new, d, work == 1)
		}
	}
}

func checkDiff(t *testing.T, name string, old, new *graph.Graph, d graph.Delta, sketched bool) {
	t.Helper()
	// Applying the delta to old gives new.
	services := map[string]bool{}
	for _, s := range old.Names() {
		services[s] = true
	}
	for _, s := range d.RemovedServices {
		delete(services, s)
	}
	for _, s := range d.AddedServices {
		services[s] = true
	}
	var names []string
	for s := range services {
		names = append(names, s)
	}
	slices.Sort(names)
	if diff := cmp.Diff(new.Names(), names); diff != "" {
		t.Fatalf("%s: services after applying the delta (-new +got):\n%s", name, diff)
	}
	edges := edgeSet(old)
	for _, e := range d.RemovedEdges {
		if edges[[2]string{e.From, e.To}] != e.Kind {
			t.Fatalf("%s: removed edge %v not in old with that kind", name, e)
		}
		delete(edges, [2]string{e.From, e.To})
	}
	for _, e := range d.AddedEdges {
		if _, ok := edges[[2]string{e.From, e.To}]; ok {
			t.Fatalf("%s: added edge %v already in old", name, e)
		}
		edges[[2]string{e.From, e.To}] = e.Kind
	}
	for _, k := range d.KindChanges {
		if edges[[2]string{k.From, k.To}] != k.Old || k.Old == k.New {
			t.Fatalf("%s: kind change %v does not match old", name, k)
		}
		edges[[2]string{k.From, k.To}] = k.New
	}
	if diff := cmp.Diff(edgeSet(new), edges); diff != "" {
		t.Fatalf("%s: edges after applying the delta (-new +got):\n%s", name, diff)
	}

	do, dn := toDense(old, andKinds), toDense(new, andKinds)
	hasIn := func(dd *dense, from, to string) bool {
		u, v := dd.index(from), dd.index(to)
		return u < dd.n && v < dd.n && dd.names[u] == from && dd.names[v] == to && dd.has[u][v]
	}
	// New cycles are cycles of new but not of old; every edge that new has
	// and old has not and that lies on a cycle of new lies on a reported
	// new cycle whose length is the shortest through that edge.
	checkCycleDelta(t, name+"/new", d.NewCycles, dn, do, hasIn)
	checkCycleDelta(t, name+"/resolved", d.ResolvedCycles, do, dn, hasIn)

	// Waves.
	ow, nw := do.waves(), dn.waves()
	var shifts []graph.WaveShift
	for v, s := range dn.names {
		if i := do.index(s); i < do.n && do.names[i] == s && nw[v] > ow[i] {
			shifts = append(shifts, graph.WaveShift{Service: s, Old: ow[i], New: nw[v]})
		}
	}
	if diff := cmp.Diff(shifts, d.LaterWave, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("%s: later waves (-ref +got):\n%s", name, diff)
	}

	// Closure growth, exact for every service in both.
	or, nr := do.reach(), dn.reach()
	size := func(r [][]bool, v int) int {
		n := 0
		for w, ok := range r[v] {
			if ok && w != v {
				n++
			}
		}
		return n
	}
	var growth []graph.Growth
	for v, s := range dn.names {
		if i := do.index(s); i < do.n && do.names[i] == s {
			if a, b := size(or, i), size(nr, v); b > a {
				growth = append(growth, graph.Growth{Service: s, Old: a, New: b})
			}
		}
	}
	// Fewer than ClosureSketchSize services: sketches hold whole closures,
	// so even the sketched path is exact and unflagged.
	if diff := cmp.Diff(growth, d.ClosureGrowth, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("%s: closure growth (sketched %v) (-ref +got):\n%s", name, sketched, diff)
	}
}

func checkCycleDelta(t *testing.T, name string, cycles []graph.Cycle, in, notIn *dense, hasIn func(*dense, string, string) bool) {
	t.Helper()
	onCycle := map[[2]string]int{} // shortest reported cycle through an edge
	for i, c := range cycles {
		if c.ID != graph.CycleID(c.Services) || slices.Min(c.Services) != c.Services[0] {
			t.Fatalf("%s: cycle %v has ID %q", name, c.Services, c.ID)
		}
		if i > 0 && cycles[i-1].ID >= c.ID {
			t.Fatalf("%s: cycles not sorted by ID", name)
		}
		missing := false
		for j, e := range c.Edges {
			if e.From != c.Services[j] || e.To != c.Services[(j+1)%len(c.Services)] || !hasIn(in, e.From, e.To) {
				t.Fatalf("%s: cycle %v edge %s->%s is not in the graph", name, c.Services, e.From, e.To)
			}
			if !hasIn(notIn, e.From, e.To) {
				missing = true
			}
			k := [2]string{e.From, e.To}
			if l, ok := onCycle[k]; !ok || len(c.Edges) < l {
				onCycle[k] = len(c.Edges)
			}
		}
		if !missing {
			t.Fatalf("%s: cycle %v is a cycle of the other graph too", name, c.Services)
		}
	}
	r := in.reach()
	for u := 0; u < in.n; u++ {
		for v := 0; v < in.n; v++ {
			if !in.has[u][v] || hasIn(notIn, in.names[u], in.names[v]) {
				continue
			}
			if u != v && !(r[u][v] && r[v][u]) {
				continue // not on a cycle
			}
			want := 1
			if u != v {
				want = in.bfs(v)[u] + 1
			}
			got, ok := onCycle[[2]string{in.names[u], in.names[v]}]
			if !ok || got != want {
				t.Fatalf("%s: edge %s->%s on a cycle of length %d, reported %d (%v)", name, in.names[u], in.names[v], want, got, ok)
			}
		}
	}
}

func TestDiffClosureEstimates(t *testing.T) {
	// A chain long enough that closures exceed the sketch size: estimates
	// are flagged, near the truth, and unchanged closures are not reported.
	adjOld := map[string][]string{}
	for i := 0; i < 400; i++ {
		adjOld[fmt.Sprintf("s%03d", i)] = []string{fmt.Sprintf("s%03d", i+1)}
	}
	adjOld["s400"] = nil
	adjNew := map[string][]string{}
	for k, v := range adjOld {
		adjNew[k] = v
	}
	for i := 0; i < 60; i++ {
		adjNew[fmt.Sprintf("x%02d", i)] = nil
	}
	xs := []string{"s200"}
	for i := 0; i < 60; i++ {
		xs = append(xs, fmt.Sprintf("x%02d", i))
	}
	adjNew["s199"] = xs // s199 gains 60 services below it
	old, new := graphtest.FromAdjacency(adjOld), graphtest.FromAdjacency(adjNew)

	exact := graph.Diff(old, new, graph.DiffOptions{})
	est := graph.Diff(old, new, graph.DiffOptions{ClosureWork: 1})
	if len(exact.ClosureGrowth) != 200 || len(est.ClosureGrowth) != 200 {
		t.Fatalf("growth for %d (exact) and %d (estimated) services, want 200 (s000..s199)", len(exact.ClosureGrowth), len(est.ClosureGrowth))
	}
	flagged := 0
	var worst float64
	for i, g := range exact.ClosureGrowth {
		e := est.ClosureGrowth[i]
		if g.Estimated || g.New-g.Old != 60 {
			t.Fatalf("exact growth %+v, want +60 and not estimated", g)
		}
		if e.Service != g.Service {
			t.Fatalf("growth %d is for %s, want %s", i, e.Service, g.Service)
		}
		if !e.Estimated {
			// Counted before the budget ran out: must be exact.
			if e != g {
				t.Fatalf("unflagged growth %+v, exact %+v", e, g)
			}
			continue
		}
		flagged++
		rel := math.Abs(float64(e.New-g.New)) / float64(g.New)
		worst = max(worst, rel)
		if rel > 0.6 {
			t.Errorf("estimate %+v off by %.0f%% from %+v", e, rel*100, g)
		}
	}
	if flagged < 190 {
		t.Errorf("%d estimates flagged, want nearly all 200", flagged)
	}
	t.Logf("%d estimates, worst relative error %.0f%%", flagged, worst*100)
}
