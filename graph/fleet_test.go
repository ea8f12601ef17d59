package graph_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
	goldenfile "github.com/rgraph/rgraph/internal/golden"
)

func TestFleet(t *testing.T) {
	g := graphtest.Fleet(10_000, 50_000, 1)
	if g.Len() != 10_000 || g.EdgeCount() != 50_000 {
		t.Fatalf("Fleet(10k, 50k) has %d services and %d edges", g.Len(), g.EdgeCount())
	}
	again := graphtest.Fleet(10_000, 50_000, 1)
	if !cmp.Equal(g.CSR().Dst, again.CSR().Dst) || !cmp.Equal(g.CSR().Kinds, again.CSR().Kinds) {
		t.Fatalf("Fleet is not deterministic")
	}
	other := graphtest.Fleet(10_000, 50_000, 2)
	if cmp.Equal(g.CSR().Dst, other.CSR().Dst) {
		t.Fatalf("Fleet ignores its seed")
	}
	// Cycles are only the injected ones: all inside one tier.
	cycles := graph.Cycles(g, graph.CycleOptions{Kinds: graph.AllKindsSet})
	if len(cycles) < 15 {
		t.Errorf("%d cycles over every kind, want about 20", len(cycles))
	}
	biggest := 0
	for _, c := range cycles {
		tier := strings.SplitN(c.Members[0], "-", 2)[0]
		for _, m := range c.Members {
			if !strings.HasPrefix(m, tier+"-") {
				t.Fatalf("cycle %v crosses tiers", c.Members)
			}
		}
		biggest = max(biggest, len(c.Members))
	}
	if biggest != 10 {
		t.Errorf("biggest knot has %d members, want 10", biggest)
	}
	// The tight reference agrees with RecoveryOrder and Cycles.
	for _, ks := range []graph.KindSet{0, graph.AllKindsSet} {
		c := g.CSR()
		_, _, cyclic, wave := graphtest.TightSCCWaves(c.Off, c.Dst, c.Kinds, ks.OrDefault())
		o, err := graph.RecoveryOrder(g, graph.OrderOptions{Kinds: ks})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range o.Waves {
			for _, s := range w.Services {
				id, _ := g.ID(s)
				if int(wave[id]) != w.Index {
					t.Fatalf("%s: %s in wave %d, tight reference %d", ks, s, w.Index, wave[id])
				}
			}
		}
		if n := len(graph.Cycles(g, graph.CycleOptions{Kinds: ks, MaxCuts: -1})); n != int(cyclic) {
			t.Errorf("%s: %d cyclic components, tight reference %d", ks, n, cyclic)
		}
	}
	var buf bytes.Buffer
	if err := graphtest.WriteFleetTSV(&buf, 1000, 4000, 1); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(buf.String(), "\n"); lines != 4001 {
		t.Errorf("WriteFleetTSV wrote %d lines, want 4001", lines)
	}
}

// TestFleetFixture regenerates testdata/fleet.tsv and fleet-next.tsv, the
// synthetic fleet the golden tests use, with -update.
func TestFleetFixture(t *testing.T) {
	if !goldenfile.Update() {
		t.Skip("regenerates testdata/fleet*.tsv only with -update")
	}
	g := graphtest.Fleet(400, 1600, 3)
	next := graphtest.Evolve(g, 40, 3)
	for path, g := range map[string]*graph.Graph{"testdata/fleet.tsv": g, "testdata/fleet-next.tsv": next} {
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "# synthetic fleet: graphtest.Fleet(400, 1600, 3)")
		if strings.Contains(path, "next") {
			fmt.Fprintf(&buf, " evolved by graphtest.Evolve(g, 40, 3)")
		}
		buf.WriteString("\n")
		for u := int32(0); u < int32(g.Len()); u++ {
			ts, ks := g.Out(u)
			for i, v := range ts {
				fmt.Fprintf(&buf, "%s\t%s\t%s\n", g.Name(u), g.Name(v), ks[i])
			}
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
