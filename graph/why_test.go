package graph_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
)

func pathNames(p graph.Path) []string {
	if len(p.Edges) == 0 {
		return nil
	}
	out := []string{p.Edges[0].From}
	for _, e := range p.Edges {
		out = append(out, e.To)
	}
	return out
}

func TestWhyTable(t *testing.T) {
	g := graphtest.FromAdjacency(fleetAdj)
	tests := []struct {
		name     string
		from, to string
		opts     graph.WhyOptions
		want     [][]string
		err      error
	}{
		{name: "direct", from: "web", to: "pkg", want: [][]string{{"web", "pkg"}}},
		{name: "shortest", from: "web", to: "dns", want: [][]string{{"web", "config", "ca", "dns"}}},
		{
			name: "all", from: "web", to: "coord", opts: graph.WhyOptions{All: true},
			want: [][]string{
				{"web", "config", "coord"},
				{"web", "pkg", "config", "coord"},
				{"web", "config", "ca", "sched", "coord"},
				{"web", "pkg", "config", "ca", "sched", "coord"},
			},
		},
		{
			name: "all limited", from: "web", to: "coord", opts: graph.WhyOptions{All: true, Limit: 2},
			want: [][]string{{"web", "config", "coord"}, {"web", "pkg", "config", "coord"}},
		},
		{name: "cycle through a service", from: "ca", to: "ca", want: [][]string{{"ca", "sched", "ca"}}},
		{name: "soft edge not followed by default", from: "pkg", to: "cache", err: graph.ErrNoPath},
		{name: "soft edge when asked", from: "pkg", to: "cache", opts: graph.WhyOptions{Kinds: graph.AllKindsSet}, want: [][]string{{"pkg", "cache"}}},
		{name: "wrong direction", from: "dns", to: "web", err: graph.ErrNoPath},
		{name: "unknown", from: "web", to: "nope", err: graph.ErrUnknownService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := graph.Why(g, tt.from, tt.to, tt.opts)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Why(%s, %s) error = %v, want %v", tt.from, tt.to, err, tt.err)
			}
			var names [][]string
			for _, p := range got {
				names = append(names, pathNames(p))
				for _, e := range p.Edges {
					if len(e.Evidence) == 0 {
						t.Errorf("edge %s->%s has no evidence", e.From, e.To)
					}
				}
			}
			if d := cmp.Diff(tt.want, names); d != "" {
				t.Errorf("Why(%s, %s) (-want +got):\n%s", tt.from, tt.to, d)
			}
		})
	}
}

func TestWhyProperties(t *testing.T) {
	for ci, o := range randomCases()[:5] {
		for seed := uint64(0); seed < 25; seed++ {
			g := graphtest.Random(seed*13+uint64(ci), o)
			d := toDense(g, 0)
			for s := 0; s < d.n; s++ {
				dist := d.bfs(s)
				for t2 := 0; t2 < d.n; t2++ {
					name := fmt.Sprintf("case%d/seed%d/%s->%s", ci, seed, d.names[s], d.names[t2])
					want := dist[t2]
					if s == t2 { // shortest cycle through s
						want = -1
						for u := 0; u < d.n; u++ {
							if d.has[u][s] && dist[u] >= 0 && (want < 0 || dist[u]+1 < want) {
								want = dist[u] + 1
							}
						}
					}
					got, err := graph.Why(g, d.names[s], d.names[t2], graph.WhyOptions{})
					if want < 0 {
						if !errors.Is(err, graph.ErrNoPath) {
							t.Fatalf("%s: Why error = %v, want ErrNoPath", name, err)
						}
						continue
					}
					if err != nil || len(got) != 1 {
						t.Fatalf("%s: Why = %v, %v", name, got, err)
					}
					checkPath(t, name, d, got[0], s, t2)
					if len(got[0].Edges) != want {
						t.Fatalf("%s: path of %d edges, BFS distance %d", name, len(got[0].Edges), want)
					}
					if ci > 3 {
						continue // too many simple paths to list
					}
					// All: the shortest loopless paths, compared by length with
					// a brute-force listing.
					all := d.allSimplePaths(s, t2)
					lens := make([]int, len(all))
					for i, p := range all {
						lens[i] = len(p) - 1
					}
					slices.Sort(lens)
					const limit = 6
					paths, err := graph.Why(g, d.names[s], d.names[t2], graph.WhyOptions{All: true, Limit: limit})
					if err != nil {
						t.Fatal(err)
					}
					if len(paths) != min(limit, len(all)) {
						t.Fatalf("%s: %d paths with All, want %d", name, len(paths), min(limit, len(all)))
					}
					seen := map[string]bool{}
					for i, p := range paths {
						checkPath(t, name, d, p, s, t2)
						if len(p.Edges) != lens[i] {
							t.Fatalf("%s: path %d has %d edges, reference %d (all lengths %v)", name, i, len(p.Edges), lens[i], lens)
						}
						k := fmt.Sprint(pathNames(p))
						if seen[k] {
							t.Fatalf("%s: path %s returned twice", name, k)
						}
						seen[k] = true
					}
				}
			}
		}
	}
}

func checkPath(t *testing.T, name string, d *dense, p graph.Path, s, to int) {
	t.Helper()
	nodes := pathNames(p)
	if nodes[0] != d.names[s] || nodes[len(nodes)-1] != d.names[to] {
		t.Fatalf("%s: path %v does not run from %s to %s", name, nodes, d.names[s], d.names[to])
	}
	seen := map[string]bool{}
	for i, e := range p.Edges {
		u, v := d.index(e.From), d.index(e.To)
		if !d.has[u][v] || d.kind[u][v] != e.Kind {
			t.Fatalf("%s: path edge %s->%s not in graph", name, e.From, e.To)
		}
		if i > 0 && e.From != p.Edges[i-1].To {
			t.Fatalf("%s: path %v is not connected", name, nodes)
		}
		if seen[e.From] {
			t.Fatalf("%s: path %v repeats %s", name, nodes, e.From)
		}
		seen[e.From] = true
	}
}
