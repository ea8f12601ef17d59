package render

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/internal/golden"
)

func TestDOTGolden(t *testing.T) {
	order := fleetOrder()
	tests := []struct {
		name string
		opt  DOTOptions
	}{
		{"plain", DOTOptions{}},
		{"waves-cycles", DOTOptions{Title: "example fleet", Order: &order, Components: fleetComponents()}},
		{"cycles-only", DOTOptions{Components: fleetComponents(), CyclesOnly: true}},
		{"default-kinds", DOTOptions{Kinds: graph.DefaultKinds, Order: &order}},
		{"contract-reduce", DOTOptions{Components: fleetComponents(), ContractEndpoints: true, Reduce: true}},
		{"show-implied", DOTOptions{Reduce: true, ShowImplied: true}},
		{"clusters-owner", DOTOptions{GroupBy: GroupOwner, Order: &order, Components: fleetComponents()}},
		{"collapsed", DOTOptions{Large: 4, Components: fleetComponents(), Focus: []string{"api"}}},
		{"collapsed-wave", DOTOptions{Large: 4, GroupBy: GroupWave, Order: &order}},
		{"focus", DOTOptions{Focus: []string{"api"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := DOT(&a, fleetGraph(), tt.opt); err != nil {
				t.Fatal(err)
			}
			if err := DOT(&b, fleetGraph(), tt.opt); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("DOT output differs between two runs")
			}
			golden.CheckExt(t, ".dot", a.Bytes())
		})
	}
}

var dotEdge = regexp.MustCompile(`(?m)^\t"([^"]+)" -> "([^"]+)"( \[.*\])?;$`)
var dotNode = regexp.MustCompile(`(?m)^\t+"([^"]+)"( \[.*\])?;$`)

// dotEdges returns the drawn edges "a->b" of a DOT text, without the
// invisible wave chain.
func dotEdges(dot string) map[string]string {
	out := map[string]string{}
	for _, m := range dotEdge.FindAllStringSubmatch(dot, -1) {
		if strings.Contains(m[3], "style=invis") {
			continue
		}
		out[m[1]+"->"+m[2]] = m[3]
	}
	return out
}

func dotNodes(dot string) map[string]string {
	out := map[string]string{}
	for _, m := range dotNode.FindAllStringSubmatch(dot, -1) {
		if m[2] != "" && !strings.HasPrefix(m[1], "wave: ") && !strings.HasPrefix(m[1], "legend: ") {
			out[m[1]] = m[2]
		}
	}
	return out
}

func TestDOTProperties(t *testing.T) {
	g := fleetGraph()
	order := fleetOrder()
	draw := func(opt DOTOptions) string {
		t.Helper()
		var b bytes.Buffer
		if err := DOT(&b, g, opt); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}

	t.Run("every node and edge by default", func(t *testing.T) {
		dot := draw(DOTOptions{})
		if n := len(dotNodes(dot)); n != g.Len() {
			t.Errorf("%d nodes drawn, want %d", n, g.Len())
		}
		if n := len(dotEdges(dot)); n != g.EdgeCount() {
			t.Errorf("%d edges drawn, want %d", n, g.EdgeCount())
		}
	})
	t.Run("edge style by kind", func(t *testing.T) {
		edges := dotEdges(draw(DOTOptions{}))
		for e, want := range map[string]string{
			"api->logd":              "style=dashed",
			"api->ca":                "style=dotted",
			"pkgstore->10.0.0.9:443": "arrowhead=vee",
		} {
			if !strings.Contains(edges[e], want) {
				t.Errorf("edge %s has %q, want %s", e, edges[e], want)
			}
		}
		if strings.Contains(edges["api->config"], "style=") {
			t.Errorf("hard edge api->config is not solid: %s", edges["api->config"])
		}
	})
	t.Run("endpoints are distinct", func(t *testing.T) {
		nodes := dotNodes(draw(DOTOptions{}))
		if !strings.Contains(nodes["10.0.0.9:443"], "dashed") {
			t.Errorf("endpoint drawn as %s", nodes["10.0.0.9:443"])
		}
	})
	t.Run("cycles highlighted", func(t *testing.T) {
		dot := draw(DOTOptions{Components: fleetComponents()})
		edges, nodes := dotEdges(dot), dotNodes(dot)
		for _, e := range []string{"ca->scheduler", "scheduler->ca", "coord->ca", "scheduler->coord", "logd->logd"} {
			if !strings.Contains(edges[e], colorCycle) {
				t.Errorf("cycle edge %s not highlighted: %s", e, edges[e])
			}
		}
		if !strings.Contains(edges["ca->scheduler"], "penwidth") {
			t.Errorf("witness edge ca->scheduler not thicker: %s", edges["ca->scheduler"])
		}
		if strings.Contains(edges["scheduler->pkgstore"], colorCycle) {
			t.Errorf("edge leaving the cycle highlighted")
		}
		for _, n := range []string{"ca", "coord", "scheduler", "logd"} {
			if !strings.Contains(nodes[n], colorCycle) {
				t.Errorf("member %s not highlighted", n)
			}
		}
	})
	t.Run("cycles only", func(t *testing.T) {
		dot := draw(DOTOptions{Components: fleetComponents(), CyclesOnly: true})
		nodes := dotNodes(dot)
		if len(nodes) != 4 {
			t.Errorf("cycles-only nodes = %v, want ca, coord, logd, scheduler", nodes)
		}
		if n := len(dotEdges(dot)); n != 5 {
			t.Errorf("cycles-only has %d edges, want 5", n)
		}
	})
	t.Run("waves as ranks", func(t *testing.T) {
		dot := draw(DOTOptions{Order: &order})
		if !strings.Contains(dot, "rank=same;\n\t\t\"wave: 2\"") || !strings.Contains(dot, "\t\t\"scheduler\";\n") {
			t.Errorf("no rank for wave 2:\n%s", dot)
		}
	})
	t.Run("contracted endpoints are listed", func(t *testing.T) {
		dot := draw(DOTOptions{ContractEndpoints: true})
		if _, ok := dotNodes(dot)["10.0.0.9:443"]; ok {
			t.Error("endpoint still drawn")
		}
		if !strings.Contains(dotNodes(dot)["pkgstore"], "+1 endpoint") {
			t.Errorf("pkgstore label does not mention its endpoint: %s", dotNodes(dot)["pkgstore"])
		}
	})
}

func TestContractEndpointChains(t *testing.T) {
	b := graph.NewBuilder(0, 0)
	b.AddNode("lb", graph.NodeInfo{Type: graph.Endpoint})
	b.AddNode("vip", graph.NodeInfo{Type: graph.Endpoint})
	b.AddEdge("web", "lb", graph.Hard)
	b.AddEdge("lb", "vip", graph.Soft)
	b.AddEdge("vip", "db", graph.Hard)
	b.AddEdge("web", "cache", graph.Hard)
	var buf bytes.Buffer
	if err := DOT(&buf, b.Build(), DOTOptions{ContractEndpoints: true}); err != nil {
		t.Fatal(err)
	}
	edges := dotEdges(buf.String())
	got, ok := edges["web->db"]
	if !ok || !strings.Contains(got, "style=dashed") || !strings.Contains(got, "via 2 unmapped endpoints") {
		t.Errorf("web->db = %q (present %v), want a soft edge via 2 endpoints\n%s", got, ok, buf.String())
	}
	if len(edges) != 2 {
		t.Errorf("edges = %v, want web->db and web->cache", edges)
	}
}

// reachable returns the set of pairs (u, v), u != v, with a path u -> v.
func reachable(n int, edges [][2]int) map[[2]int]bool {
	out := make([][]int, n)
	for _, e := range edges {
		out[e[0]] = append(out[e[0]], e[1])
	}
	r := map[[2]int]bool{}
	for s := 0; s < n; s++ {
		seen := make([]bool, n)
		stack := []int{s}
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, w := range out[v] {
				if !seen[w] {
					seen[w] = true
					r[[2]int{s, w}] = true
					stack = append(stack, w)
				}
			}
		}
	}
	return r
}

// TestReduceRandom checks the drawing's reduction against brute force on
// random graphs with cycles: reachability is unchanged, cycle edges are
// kept, and no kept edge between components can be dropped without
// changing reachability.
func TestReduceRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 300; iter++ {
		n := 2 + rng.IntN(12)
		m := &model{}
		for i := 0; i < n; i++ {
			m.nodes = append(m.nodes, dnode{id: fmt.Sprint(i), comp: -1, wave: -1})
		}
		var all [][2]int
		seen := map[[2]int]bool{}
		for k := rng.IntN(n * 3); k > 0; k-- {
			e := [2]int{rng.IntN(n), rng.IntN(n)}
			if e[0] == e[1] || seen[e] {
				continue
			}
			seen[e] = true
			all = append(all, e)
			m.edges = append(m.edges, dedge{from: e[0], to: e[1], kind: graph.Hard})
		}
		want := reachable(n, all)
		b := graph.NewBuilder(n, len(all))
		for i := 0; i < n; i++ {
			b.AddNode(fmt.Sprint(i), graph.NodeInfo{})
		}
		for _, e := range all {
			b.AddEdge(fmt.Sprint(e[0]), fmt.Sprint(e[1]), graph.Hard)
		}
		g := b.Build()
		cond := graph.Condense(g, graph.AllKindsSet)
		comp := make([]int32, n)
		for i := range comp {
			v, _ := g.ID(fmt.Sprint(i))
			comp[i] = cond.Comp[v]
		}
		m.reduce(false)
		var kept [][2]int
		for _, e := range m.edges {
			kept = append(kept, [2]int{e.from, e.to})
		}
		got := reachable(n, kept)
		if len(got) != len(want) {
			t.Fatalf("iteration %d: reduction changed reachability: %d pairs, want %d (edges %v -> %v)", iter, len(got), len(want), all, kept)
		}
		keptSet := map[[2]int]bool{}
		for _, e := range kept {
			keptSet[e] = true
		}
		for _, e := range all {
			if comp[e[0]] == comp[e[1]] && !keptSet[e] {
				t.Fatalf("iteration %d: cycle edge %v dropped", iter, e)
			}
		}
		// Minimal on the condensation: dropping all kept edges between one
		// pair of components loses reachability.
		pairs := map[[2]int32]bool{}
		for _, e := range kept {
			if c, d := comp[e[0]], comp[e[1]]; c != d {
				pairs[[2]int32{c, d}] = true
			}
		}
		for p := range pairs {
			var rest [][2]int
			for _, e := range kept {
				if comp[e[0]] != p[0] || comp[e[1]] != p[1] {
					rest = append(rest, e)
				}
			}
			if len(reachable(n, rest)) == len(want) {
				t.Fatalf("iteration %d: edges between components %v are redundant but kept (%v)", iter, p, kept)
			}
		}
	}
}

// waveYs returns the vertical position of each "wave N" caption in an SVG
// drawing, smaller for higher on the page.
func waveYs(t *testing.T, svg []byte) map[int]float64 {
	t.Helper()
	out := map[int]float64{}
	re := regexp.MustCompile(`<text[^>]* y="(-?[0-9.]+)"[^>]*>wave ([0-9]+)</text>`)
	for _, m := range re.FindAllSubmatch(svg, -1) {
		y, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := strconv.Atoi(string(m[2]))
		out[w] = y
	}
	return out
}

// TestWavesInOrder is the regression test for waves drawn out of order:
// edges of kinds the waves do not come from (soft ones, drawn as the
// docs site does), pointing from an earlier wave to a later one, pulled
// later waves above earlier ones.
func TestWavesInOrder(t *testing.T) {
	g := graphtestFromEdges([]fleetEdge{
		{"dns", "cache", graph.Soft, nil}, // wave 0 tries wave 3
		{"dns", "web", graph.Soft, nil},
		{"coord", "dns", graph.Hard, nil},
		{"config", "coord", graph.Hard, nil},
		{"cache", "config", graph.Hard, nil},
		{"web", "cache", graph.Hard, nil},
		{"coord", "web", graph.Soft, nil},
	})
	o, err := graph.RecoveryOrder(g, graph.OrderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var dot, svg bytes.Buffer
	if err := DOT(&dot, g, DOTOptions{Kinds: graph.DefaultKinds | graph.Kinds(graph.Soft), Order: &o}); err != nil {
		t.Fatal(err)
	}
	if err := SVG(context.Background(), &svg, dot.Bytes()); err != nil {
		t.Fatal(err)
	}
	ys := waveYs(t, svg.Bytes())
	if len(ys) != len(o.Waves) {
		t.Fatalf("%d wave captions in the SVG, want %d", len(ys), len(o.Waves))
	}
	for w := 1; w < len(o.Waves); w++ {
		if ys[w] <= ys[w-1] {
			t.Errorf("wave %d drawn at y=%v, not below wave %d at y=%v", w, ys[w], w-1, ys[w-1])
		}
	}
}

// graphtestFromEdges builds a graph of services from edges.
func graphtestFromEdges(edges []fleetEdge) *graph.Graph {
	var b graph.Builder
	for _, e := range edges {
		b.AddEdge(e.from, e.to, e.kind, e.ev...)
	}
	return b.Build()
}
