package render

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/rgraph/rgraph/graph"
)

// TestDiffDOTCycleColours checks the legend of diff drawings: with the
// new release's cycles given, members of every cycle are red, and the
// witness edges of cycles that are new are purple, so that new cycles
// stand out from old ones.
func TestDiffDOTCycleColours(t *testing.T) {
	b := graph.NewBuilder(0, 0)
	for _, e := range [][2]string{{"ca", "sched"}, {"sched", "ca"}, {"web", "config"}} {
		b.AddEdge(e[0], e[1], graph.Hard)
	}
	old := b.Build()
	b = graph.NewBuilder(0, 0)
	for _, e := range [][2]string{{"ca", "sched"}, {"sched", "ca"}, {"web", "config"}, {"config", "web"}} {
		b.AddEdge(e[0], e[1], graph.Hard)
	}
	new := b.Build()
	delta := graph.Diff(old, new, graph.DiffOptions{})
	if len(delta.NewCycles) != 1 {
		t.Fatalf("Diff found %d new cycles, want 1", len(delta.NewCycles))
	}
	var dot bytes.Buffer
	err := DiffDOT(&dot, old, new, DiffReport{Old: "a", New: "b", Delta: delta},
		DOTOptions{Components: graph.Cycles(new, graph.CycleOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	edge := func(from, to string) string {
		m := regexp.MustCompile(`"` + from + `" -> "` + to + `" \[[^\]]*color="(#[0-9a-f]+)"`).FindStringSubmatch(dot.String())
		if m == nil {
			t.Fatalf("no edge %s -> %s in\n%s", from, to, dot.String())
		}
		return m[1]
	}
	for _, tc := range []struct{ from, to, want string }{
		{"ca", "sched", colorCycle},      // an old cycle
		{"web", "config", colorNewCycle}, // a new cycle's witness
		{"config", "web", colorAdded},    // added, and in the new cycle
	} {
		if got := edge(tc.from, tc.to); got != tc.want {
			t.Errorf("edge %s -> %s is %s, want %s", tc.from, tc.to, got, tc.want)
		}
	}
}
