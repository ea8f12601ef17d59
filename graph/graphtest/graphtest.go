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
// "name:kind" ("cache:soft"), or "a|b|c": an explicit alternative group,
// of which the key needs any one (edges of kind alternative). A key with
// an empty list is a service that needs nothing. A name containing ':' or
// '/' ("unix:/run/x", "dns:x.example") is an endpoint, as in edge lists;
// its kind suffix, when it has one, is the part after its last ':'. It
// panics on an unknown kind ("cache:sfot"; fixtures are code), so an
// endpoint's last ':' must not be followed by letters only.
//
//	graphtest.FromAdjacency(map[string][]string{
//		"ca":      {"sched"},
//		"sched":   {"ca", "dns:declared"},
//		"standby": {"ns1|ns2", "unix:/run/log:soft"},
//		"dns":     {},
//	})
func FromAdjacency(adj map[string][]string) *graph.Graph {
	keys := make([]string, 0, len(adj))
	for k := range adj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b graph.Builder
	node := func(name string) {
		info := graph.NodeInfo{}
		if strings.ContainsAny(name, ":/") {
			info.Type = graph.Endpoint
		}
		b.AddNode(name, info)
	}
	for _, from := range keys {
		node(from)
		for _, e := range adj[from] {
			if strings.Contains(e, "|") {
				members := strings.Split(e, "|")
				for _, m := range members {
					node(m)
					b.AddEdge(from, m, graph.Alternative, graph.Evidence{Source: "fixture", Detail: from + "->" + m})
				}
				b.AddGroup(from, members...)
				continue
			}
			to, kind := e, graph.Hard
			if i := strings.LastIndexByte(e, ':'); i >= 0 {
				if k, err := graph.ParseKind(e[i+1:]); err == nil {
					to, kind = e[:i], k
				} else if isWord(e[i+1:]) && !strings.ContainsAny(e[:i], ":/") {
					panic(fmt.Sprintf("graphtest: edge %s -> %s: %v", from, e, err)) // a misspelt kind
				}
			}
			node(to)
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

// Evolve returns a later release of g: about changes edges removed,
// changes edges added (mostly towards services that are already needed,
// nine in ten from a larger to a smaller name, which in a [Fleet] means
// down the tiers; the rest anywhere, some closing cycles), changes/2 kind
// changes, and changes/10 services removed and added. The same seed gives
// the same release.
func Evolve(g *graph.Graph, changes int, seed uint64) *graph.Graph {
	r := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
	n := g.Len()
	m := g.EdgeCount()
	drop := map[int32]bool{}
	for i := 0; i < changes/10 && n > 0; i++ {
		drop[int32(r.IntN(n))] = true
	}
	removeEdge := map[int32]bool{}
	rekind := map[int32]graph.Kind{}
	for i := 0; i < changes && m > 0; i++ {
		removeEdge[int32(r.IntN(m))] = true
	}
	for i := 0; i < changes/2 && m > 0; i++ {
		rekind[int32(r.IntN(m))] = graph.AllKinds[r.IntN(len(graph.AllKinds))]
	}
	b := graph.NewBuilder(n+changes/10, m+changes)
	for v := int32(0); v < int32(n); v++ {
		if !drop[v] {
			b.AddNode(g.Name(v), g.Info(v))
		}
	}
	for u := int32(0); u < int32(n); u++ {
		if drop[u] {
			continue
		}
		lo, hi := g.OutRange(u)
		for e := lo; e < hi; e++ {
			v, k := g.EdgeTarget(e)
			if drop[v] || removeEdge[e] {
				continue
			}
			if nk, ok := rekind[e]; ok {
				k = nk
			}
			b.AddEdge(g.Name(u), g.Name(v), k, g.Evidence(e)...)
		}
	}
	pick := func() string {
		// Half the time a target of an existing edge: popular services
		// get more dependents.
		if m > 0 && r.IntN(2) == 0 {
			v, _ := g.EdgeTarget(int32(r.IntN(m)))
			return g.Name(v)
		}
		return g.Name(int32(r.IntN(n)))
	}
	var added []string
	for i := 0; i < changes/10; i++ {
		name := fmt.Sprintf("%s~new%d", g.Name(int32(r.IntN(max(n, 1)))), i)
		if n == 0 {
			name = fmt.Sprintf("new%d", i)
		}
		b.AddNode(name, graph.NodeInfo{})
		added = append(added, name)
	}
	for i := 0; i < changes && n > 0; i++ {
		from := pick()
		if len(added) > 0 && r.IntN(5) == 0 {
			from = added[r.IntN(len(added))]
		}
		to := pick()
		if from == to && r.IntN(4) != 0 {
			continue
		}
		// Most new needs point down the stack, which in a fleet is towards
		// smaller names (tiers sort bottom first); one in ten goes
		// anywhere and may close a cycle.
		if from < to && r.IntN(10) != 0 {
			from, to = to, from
		}
		kinds := []graph.Kind{graph.Hard, graph.Hard, graph.Declared, graph.Soft}
		b.AddEdge(from, to, kinds[r.IntN(len(kinds))], graph.Evidence{Source: fmt.Sprintf("evolve:%d", seed)})
	}
	return b.Build()
}

// isWord reports whether s is letters only, as kind names are.
func isWord(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return s != ""
}
