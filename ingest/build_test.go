package ingest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rgraph/rgraph/graph"
)

// TestBuilderMatchesGraphBuilder checks the fast builder against
// graph.Builder, the reference semantics, on random multigraphs with
// duplicate edges of mixed kinds, self-loops, evidence and long rows.
func TestBuilderMatchesGraphBuilder(t *testing.T) {
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 7))
		n := 1 + r.IntN(60)
		m := r.IntN(400)
		ref := graph.NewBuilder(n, m)
		fast := newBuilder()
		name := func(i int) string { return fmt.Sprintf("n%03d", (i*7919)%1000) }
		for i := range m {
			var u, v int
			if r.IntN(8) == 0 { // a hub with a long row
				u, v = 0, r.IntN(n)
			} else {
				u, v = r.IntN(n), r.IntN(n)
			}
			k := graph.AllKinds[r.IntN(len(graph.AllKinds))]
			var ev []graph.Evidence
			if r.IntN(3) == 0 {
				ev = append(ev, graph.Evidence{Source: fmt.Sprintf("e%d", i), Detail: k.String()})
			}
			ref.AddEdge(name(u), name(v), k, ev...)
			fast.addEdge(fast.intern(name(u), seenService), fast.intern(name(v), seenService), k, ev...)
		}
		want := ref.Build()
		got, err := fast.build()
		if err != nil {
			t.Fatalf("seed %d: build: %v", seed, err)
		}
		if d := cmp.Diff(want.CSR(), got.CSR(), cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("seed %d: fast builder differs from graph.Builder (-want +got):\n%s", seed, d)
		}
	}
}

func TestBuilderNodeTypes(t *testing.T) {
	b := newBuilder()
	ep := b.intern("10.0.0.1:80/tcp", seenEndpoint)
	both := b.intern("x", seenEndpoint)
	b.intern("x", seenService)
	svc := b.intern("a", seenService)
	b.addEdge(svc, ep, graph.Observed)
	b.addEdge(svc, both, graph.Observed)
	g, err := b.build()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]graph.NodeType{"10.0.0.1:80/tcp": graph.Endpoint, "x": graph.Service, "a": graph.Service} {
		id, _ := g.ID(name)
		if got := g.Info(id).Type; got != want {
			t.Errorf("type of %q = %v, want %v", name, got, want)
		}
	}
}
