package render

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/rgraph/rgraph/graph"
)

// syntheticFleet returns a fleet-shaped graph of n services from seed:
// tiers base (10%), core (20%), app (50%) and edge (20%); about n/40
// owning teams; each service needs one to four services of lower tiers,
// popular ones more often (hard, some declared and soft); a few base and
// core services need services above them, which knots bootstrap cycles;
// and n/10 unmapped endpoints. The same seed and n give the same graph.
func syntheticFleet(seed uint64, n int) *graph.Graph {
	r := rand.New(rand.NewPCG(seed, 42))
	b := graph.NewBuilder(n+n/10, 4*n)
	tiers := []struct {
		name string
		frac float64
	}{{"base", 0.1}, {"core", 0.2}, {"app", 0.5}, {"edge", 0.2}}
	tierStart := make([]int, len(tiers)+1)
	acc := 0.0
	for i, t := range tiers {
		tierStart[i] = int(acc * float64(n))
		acc += t.frac
	}
	tierStart[len(tiers)] = n
	teams := max(n/40, 2)
	name := func(i int) string { return fmt.Sprintf("svc-%04d", i) }
	tierOf := func(i int) int {
		for t := len(tiers) - 1; t >= 0; t-- {
			if i >= tierStart[t] {
				return t
			}
		}
		return 0
	}
	for i := 0; i < n; i++ {
		b.AddNode(name(i), graph.NodeInfo{
			Owner:        fmt.Sprintf("team-%02d", r.IntN(teams)),
			Tier:         tiers[tierOf(i)].name,
			RecoveryTime: time.Duration(10+r.IntN(590)) * time.Second,
		})
	}
	kinds := []graph.Kind{graph.Hard, graph.Hard, graph.Hard, graph.Hard, graph.Hard, graph.Declared, graph.Soft}
	hard := make([][]int, n) // hard needs, to knot cycles below
	for i := 0; i < n; i++ {
		lower := tierStart[tierOf(i)]
		if lower == 0 {
			lower = i // base services need earlier base services
		}
		if lower == 0 {
			continue
		}
		for k := 1 + r.IntN(4); k > 0; k-- {
			// Squaring the draw favors low indices: popular services.
			x := r.Float64()
			j := int(x * x * float64(lower))
			kind := kinds[r.IntN(len(kinds))]
			if kind == graph.Hard {
				hard[i] = append(hard[i], j)
			}
			b.AddEdge(name(i), name(j), kind, graph.Evidence{Source: fmt.Sprintf("run-%d", r.IntN(10000))})
		}
	}
	// Bootstrap cycles: a service two or three hard hops below a core
	// service comes to need it.
	for k := 0; k < max(n/100, 1); k++ {
		j := tierStart[1] + r.IntN(tierStart[2]-tierStart[1])
		i := j
		for hops := 2 + r.IntN(2); hops > 0 && len(hard[i]) > 0; hops-- {
			i = hard[i][r.IntN(len(hard[i]))]
		}
		if i != j {
			b.AddEdge(name(i), name(j), graph.Hard, graph.Evidence{Source: "synthetic-cycle"})
		}
	}
	for k := 0; k < n/10; k++ {
		ep := fmt.Sprintf("10.%d.%d.%d:443", k/65536, k/256%256, k%256)
		b.AddNode(ep, graph.NodeInfo{Type: graph.Endpoint})
		for m := 1 + r.IntN(3); m > 0; m-- {
			b.AddEdge(name(r.IntN(n)), ep, graph.Observed)
		}
	}
	return b.Build()
}

// fleetDrawing analyses a synthetic fleet and draws it as cmd would.
func fleetDrawing(t testing.TB, n int, opt DOTOptions) []byte {
	g := syntheticFleet(1, n)
	comps := graph.Cycles(g, graph.CycleOptions{})
	order, err := graph.RecoveryOrder(g, graph.OrderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opt.Order, opt.Components = &order, comps
	var dot bytes.Buffer
	if err := DOT(&dot, g, opt); err != nil {
		t.Fatal(err)
	}
	return dot.Bytes()
}

// TestLargeFleetLegible checks that a 1,000-service fleet draws as a
// picture a person can read: a bounded number of nodes and edges, the
// simplifications named in the caption, every bootstrap cycle member still
// visible, and Graphviz able to lay it out quickly.
func TestLargeFleetLegible(t *testing.T) {
	dot := fleetDrawing(t, 1000, DOTOptions{})
	nodes, edges := dotNodes(string(dot)), dotEdges(string(dot))
	t.Logf("1,000 services drawn as %d nodes and %d edges", len(nodes), len(edges))
	if len(nodes) > 120 || len(edges) > 600 {
		t.Errorf("drawing has %d nodes and %d edges; want a readable size", len(nodes), len(edges))
	}
	for _, want := range []string{"unmapped endpoints folded", "collapsed into", "not drawn (transitive reduction)"} {
		if !bytes.Contains(dot, []byte(want)) {
			t.Errorf("caption does not say %q", want)
		}
	}
	g := syntheticFleet(1, 1000)
	comps := graph.Cycles(g, graph.CycleOptions{})
	if len(comps) == 0 {
		t.Fatal("the synthetic fleet has no bootstrap cycle")
	}
	for _, c := range comps {
		if len(c.Members) > maxKnot {
			want := fmt.Sprintf(`\n%d services"`, len(c.Members))
			if !bytes.Contains(dot, []byte(want)) {
				t.Errorf("no node stands for the bootstrap cycle of %d services", len(c.Members))
			}
			continue
		}
		for _, m := range c.Members {
			if _, ok := nodes[m]; !ok {
				t.Errorf("cycle member %s not drawn on its own", m)
			}
		}
	}
	start := time.Now()
	var svg bytes.Buffer
	if err := SVG(context.Background(), &svg, dot); err != nil {
		t.Fatal(err)
	}
	t.Logf("SVG of the simplified 1,000-service drawing: %d bytes in %v", svg.Len(), time.Since(start))
	if !strings.Contains(svgText(t, svg.Bytes()), "team-") {
		t.Error("SVG lacks the team groups")
	}
}

// BenchmarkRender measures DOT generation and Graphviz layout for fleets
// of 100 and 1,000 services, simplified as by default and, for
// comparison, drawn in full.
func BenchmarkRender(b *testing.B) {
	for _, tc := range []struct {
		name string
		n    int
		opt  DOTOptions
	}{
		{"100", 100, DOTOptions{}},
		{"1000", 1000, DOTOptions{}},
		{"1000-full", 1000, DOTOptions{Large: -1}},
	} {
		dot := fleetDrawing(b, tc.n, tc.opt)
		b.Run("dot/"+tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				fleetDrawing(b, tc.n, tc.opt)
			}
		})
		b.Run("svg/"+tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := SVG(context.Background(), &bytes.Buffer{}, dot); err != nil {
					b.Fatal(err)
				}
			}
		})
		if tc.name == "1000-full" {
			continue // raster of a full 1,000-node layout is huge
		}
		b.Run("png/"+tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := PNG(context.Background(), &bytes.Buffer{}, dot); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
