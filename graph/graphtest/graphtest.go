package graphtest

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

// FromAdjacency builds a graph from an adjacency literal: each key needs
// the services in its list. An entry is a name, which makes a hard edge,
// or "name:kind" ("cache:soft"). A key with an empty list is a service
// that needs nothing. It panics on an unknown kind: fixtures are code.
//
//	graphtest.FromAdjacency(map[string][]string{
//		"ca":    {"sched"},
//		"sched": {"ca", "dns:declared"},
//		"dns":   {},
//	})
func FromAdjacency(adj map[string][]string) *graph.Graph {
	keys := make([]string, 0, len(adj))
	for k := range adj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b graph.Builder
	for _, from := range keys {
		b.AddNode(from, graph.NodeInfo{})
		for _, e := range adj[from] {
			to, kind := e, graph.Hard
			if i := strings.LastIndexByte(e, ':'); i >= 0 {
				k, err := graph.ParseKind(e[i+1:])
				if err != nil {
					panic(fmt.Sprintf("graphtest: edge %s -> %s: %v", from, e, err))
				}
				to, kind = e[:i], k
			}
			b.AddEdge(from, to, kind, graph.Evidence{Source: "fixture", Detail: from + "->" + to})
		}
	}
	return b.Build()
}

// RandomOptions shapes [Random] graphs.
type RandomOptions struct {
	Nodes int
	// Density is the probability of each ordered pair (u, v), u != v,
	// being an edge.
	Density float64
	// SelfLoops is the probability of each node needing itself.
	SelfLoops float64
	// Kinds, when not empty, are drawn uniformly for each edge; otherwise
	// every edge is hard.
	Kinds []graph.Kind
}

// Random returns a random graph with nodes named n00, n01, ... from seed.
// The same seed and options give the same graph.
func Random(seed uint64, o RandomOptions) *graph.Graph {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	var b graph.Builder
	name := func(i int) string { return fmt.Sprintf("n%02d", i) }
	for i := 0; i < o.Nodes; i++ {
		b.AddNode(name(i), graph.NodeInfo{RecoveryTime: 0})
	}
	kind := func() graph.Kind {
		if len(o.Kinds) == 0 {
			return graph.Hard
		}
		return o.Kinds[r.IntN(len(o.Kinds))]
	}
	for u := 0; u < o.Nodes; u++ {
		for v := 0; v < o.Nodes; v++ {
			p := o.Density
			if u == v {
				p = o.SelfLoops
			}
			if r.Float64() < p {
				b.AddEdge(name(u), name(v), kind(), graph.Evidence{Source: fmt.Sprintf("rand:%d", seed)})
			}
		}
	}
	return b.Build()
}
