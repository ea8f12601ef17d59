package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
)

// compareLines shows a comparison as one "service category dep kind
// calls" line per dependency, then the totals.
func compareLines(c graph.Comparison) []string {
	var out []string
	show := func(svc, cat string, ds []graph.Dependency) {
		for _, d := range ds {
			k := "-"
			if d.Kind != 0 {
				k = d.Kind.String()
			}
			out = append(out, fmt.Sprintf("%s %s %s %s %d", svc, cat, d.Service, k, d.Calls))
		}
	}
	for _, s := range c.Services {
		show(s.Service, "recovery", s.RecoveryOnly)
		show(s.Service, "runtime", s.RuntimeOnly)
		show(s.Service, "both", s.Both)
	}
	out = append(out, fmt.Sprintf("totals %d/%d/%d endpoints %d unknown %s",
		c.RecoveryOnly, c.RuntimeOnly, c.Both, c.Endpoints, strings.Join(c.Unknown, ",")))
	return out
}

func TestCompare(t *testing.T) {
	// web needs config (hard) and ca (declared), tries the cache (soft);
	// config needs ca through an alternative and an unmapped endpoint.
	b := graph.NewBuilder(0, 0)
	for _, n := range []string{"web", "config", "ca", "cache", "ca2"} {
		b.AddNode(n, graph.NodeInfo{})
	}
	b.AddNode("10.0.0.9:443/tcp", graph.NodeInfo{Type: graph.Endpoint})
	b.AddEdge("web", "config", graph.Hard)
	b.AddEdge("web", "ca", graph.Declared)
	b.AddEdge("web", "cache", graph.Soft)
	b.AddEdge("config", "ca", graph.Alternative)
	b.AddEdge("config", "ca2", graph.Alternative)
	b.AddEdge("config", "10.0.0.9:443/tcp", graph.Hard)
	g := b.Build()
	calls := []graph.Call{
		{From: "web", To: "config", Calls: 10},
		{From: "web", To: "cache", Calls: 500},
		{From: "web", To: "config", Calls: 5}, // summed
		{From: "config", To: "ca", Calls: 2},
		{From: "config", To: "metrics", Calls: 7},
		{From: "frontend", To: "web", Calls: 99},
	}
	tests := []struct {
		name string
		opts graph.CompareOptions
		want []string
	}{
		{"default kinds", graph.CompareOptions{}, []string{
			"config recovery ca2 alternative 0",
			"config runtime metrics - 7",
			"config both ca alternative 2",
			"frontend runtime web - 99",
			"web recovery ca declared 0",
			"web runtime cache soft 500",
			"web both config hard 15",
			"totals 2/3/2 endpoints 1 unknown frontend,metrics",
		}},
		{"hard only", graph.CompareOptions{Kinds: graph.Kinds(graph.Hard)}, []string{
			"config runtime ca alternative 2",
			"config runtime metrics - 7",
			"frontend runtime web - 99",
			"web runtime cache soft 500",
			"web both config hard 15",
			"totals 0/4/1 endpoints 1 unknown frontend,metrics",
		}},
		{"one service", graph.CompareOptions{Services: []string{"web"}}, []string{
			"web recovery ca declared 0",
			"web runtime cache soft 500",
			"web both config hard 15",
			"totals 1/1/1 endpoints 0 unknown ",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := compareLines(graph.Compare(g, calls, tt.opts))
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Compare(%+v) mismatch (-want +got):\n%s", tt.opts, d)
			}
		})
	}
}

// TestCompareProperties checks, on random graphs and call sets, that every
// recovery edge of a selected kind to a service and every runtime call is
// in exactly one category, and that two runs agree.
func TestCompareProperties(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		g := graphtest.Random(seed, graphtest.RandomOptions{Nodes: 12, Density: 0.2, SelfLoops: 0.05,
			Kinds: []graph.Kind{graph.Hard, graph.Soft, graph.Declared, graph.Observed}})
		var calls []graph.Call
		for i := range 30 {
			calls = append(calls, graph.Call{From: fmt.Sprintf("n%02d", (i*7+int(seed))%14), To: fmt.Sprintf("n%02d", (i*5+3)%13), Calls: uint64(i)})
		}
		c := graph.Compare(g, calls, graph.CompareOptions{})
		if d := cmp.Diff(c, graph.Compare(g, calls, graph.CompareOptions{})); d != "" {
			t.Fatalf("seed %d: Compare is not deterministic:\n%s", seed, d)
		}
		seen := map[string]string{}
		for _, s := range c.Services {
			for cat, ds := range map[string][]graph.Dependency{"recovery": s.RecoveryOnly, "runtime": s.RuntimeOnly, "both": s.Both} {
				for _, d := range ds {
					k := s.Service + "->" + d.Service
					if prev, dup := seen[k]; dup {
						t.Fatalf("seed %d: %s is in %s and %s", seed, k, prev, cat)
					}
					seen[k] = cat
				}
			}
		}
		for _, cl := range calls {
			if seen[cl.From+"->"+cl.To] == "" || seen[cl.From+"->"+cl.To] == "recovery" {
				t.Fatalf("seed %d: call %s->%s is %q, want runtime or both", seed, cl.From, cl.To, seen[cl.From+"->"+cl.To])
			}
		}
		for u := int32(0); u < int32(g.Len()); u++ {
			lo, hi := g.OutRange(u)
			for e := lo; e < hi; e++ {
				v, k := g.EdgeTarget(e)
				key := g.Name(u) + "->" + g.Name(v)
				if graph.RecoveryKinds.Has(k) && seen[key] != "recovery" && seen[key] != "both" {
					t.Fatalf("seed %d: recovery edge %s (%s) is %q", seed, key, k, seen[key])
				}
			}
		}
	}
}
