package graph_test

import (
	"errors"
	"runtime"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
)

// remembered returns a fresh copy of g that was handed the summary of g,
// as a graph loaded from a store with its summary is.
func remembered(t *testing.T, g *graph.Graph, kinds graph.KindSet) *graph.Graph {
	t.Helper()
	sum := graph.Summarize(g, kinds)
	cp, err := graph.FromCSR(g.CSR())
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.Remember(sum); err != nil {
		t.Fatalf("Remember(Summarize(g)): %v", err)
	}
	return cp
}

// TestSummaryDiff checks that a diff of graphs handed their summaries is
// the diff computed from scratch, over the kinds summarized and others,
// with exact closures and with sketches only.
func TestSummaryDiff(t *testing.T) {
	kinds := []graph.Kind{graph.Hard, graph.Soft, graph.Declared}
	for seed := uint64(0); seed < 80; seed++ {
		n := 8 + int(seed%6)*10
		old := graphtest.Random(seed, graphtest.RandomOptions{Nodes: n, Density: 1.5 / float64(n), SelfLoops: 0.03, Kinds: kinds})
		new := graphtest.Evolve(old, 2+int(seed%7), seed)
		for _, ks := range []graph.KindSet{graph.DefaultKinds, graph.AllKindsSet} {
			for _, work := range []int{0, 1} {
				opts := graph.DiffOptions{Kinds: ks, ClosureWork: work}
				want := graph.Diff(old, new, opts)
				got := graph.Diff(remembered(t, old, graph.DefaultKinds), remembered(t, new, graph.DefaultKinds), opts)
				if d := cmp.Diff(want, got); d != "" {
					t.Fatalf("seed %d, kinds %s, work %d: Diff with summaries (-scratch +summaries):\n%s", seed, ks, work, d)
				}
			}
		}
	}
	// Closures larger than the sketch: estimates come from the summaries.
	old := graphtest.Fleet(3000, 15000, 1)
	new := graphtest.Evolve(old, 60, 3)
	opts := graph.DiffOptions{ClosureWork: 1}
	want := graph.Diff(old, new, opts)
	got := graph.Diff(remembered(t, old, 0), remembered(t, new, 0), opts)
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("fleet: Diff with summaries (-scratch +summaries):\n%s", d)
	}
	if !slices.ContainsFunc(got.ClosureGrowth, func(g graph.Growth) bool { return g.Estimated }) {
		t.Errorf("no estimated closure growth in a fleet of 3000: the sketches were not exercised")
	}
}

// TestSummaryAnalyses checks that cycles and recovery order are the same
// with a remembered summary.
func TestSummaryAnalyses(t *testing.T) {
	g := graphtest.Fleet(2000, 10000, 2)
	r := remembered(t, g, graph.DefaultKinds)
	if d := cmp.Diff(graph.Cycles(g, graph.CycleOptions{}), graph.Cycles(r, graph.CycleOptions{})); d != "" {
		t.Errorf("Cycles with a summary (-scratch +summary):\n%s", d)
	}
	for _, opts := range []graph.OrderOptions{{}, {MaxParallel: 50}} {
		want, err := graph.RecoveryOrder(g, opts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := graph.RecoveryOrder(r, opts)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("RecoveryOrder(%+v) with a summary (-scratch +summary):\n%s", opts, d)
		}
	}
}

// TestSummaryAlternatives checks diff, cycles and recovery order with
// summaries on graphs with alternative groups and endpoints, whose
// analyses run on the plan view (alternatives resolved, endpoints left
// out): the summary is over that view.
func TestSummaryAlternatives(t *testing.T) {
	for seed := uint64(0); seed < 60; seed++ {
		n := 6 + int(seed%20)
		old, new := randomWithGroups(seed, n), randomWithGroups(seed+1000, n)
		ro, rn := remembered(t, old, graph.DefaultKinds), remembered(t, new, graph.DefaultKinds)
		opts := graph.DiffOptions{Kinds: graph.DefaultKinds}
		if d := cmp.Diff(graph.Diff(old, new, opts), graph.Diff(ro, rn, opts)); d != "" {
			t.Fatalf("seed %d: Diff with summaries (-scratch +summaries):\n%s", seed, d)
		}
		if d := cmp.Diff(graph.Cycles(new, graph.CycleOptions{}), graph.Cycles(rn, graph.CycleOptions{})); d != "" {
			t.Fatalf("seed %d: Cycles with a summary (-scratch +summary):\n%s", seed, d)
		}
		for _, oo := range []graph.OrderOptions{{}, {MaxParallel: 2}} {
			want, err := graph.RecoveryOrder(new, oo)
			if err != nil {
				t.Fatal(err)
			}
			got, err := graph.RecoveryOrder(rn, oo)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("seed %d: RecoveryOrder(%+v) with a summary (-scratch +summary):\n%s", seed, oo, d)
			}
		}
	}
}

func TestRememberRejects(t *testing.T) {
	g := graphtest.FromAdjacency(map[string][]string{
		"a": {"b"}, "b": {"c"}, "c": {"b", "c"}, "d": {},
	})
	good := graph.Summarize(g, 0)
	clone := func() *graph.Summary {
		s := *good
		s.Order, s.Off, s.Loops = slices.Clone(s.Order), slices.Clone(s.Off), slices.Clone(s.Loops)
		s.Wave, s.Closure, s.Estimated = slices.Clone(s.Wave), slices.Clone(s.Closure), slices.Clone(s.Estimated)
		return &s
	}
	tests := []struct {
		name   string
		mutate func(s *graph.Summary)
	}{
		{"no kinds", func(s *graph.Summary) { s.Kinds = 0 }},
		{"node missing", func(s *graph.Summary) { s.Order = s.Order[1:] }},
		{"node twice", func(s *graph.Summary) { s.Order[0] = s.Order[1] }},
		{"node out of range", func(s *graph.Summary) { s.Order[0] = 9 }},
		{"empty component", func(s *graph.Summary) { s.Off = append([]int32{0}, s.Off...) }},
		{"bad bounds", func(s *graph.Summary) { s.Off[len(s.Off)-1]-- }},
		{"closures missing", func(s *graph.Summary) { s.Closure = s.Closure[1:] }},
		{"waves missing", func(s *graph.Summary) { s.Wave = s.Wave[1:] }},
		{"wave too early", func(s *graph.Summary) { s.Wave[len(s.Wave)-1]-- }},
		{"wave too late", func(s *graph.Summary) { s.Wave[len(s.Wave)-1]++ }},
		{"needs later", func(s *graph.Summary) { slices.Reverse(s.Order) }},
		{"loop missing", func(s *graph.Summary) { s.Loops = nil }},
		{"loop twice", func(s *graph.Summary) { s.Loops = append(s.Loops, s.Loops[0]) }},
		{"no such loop", func(s *graph.Summary) { s.Loops[0] = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := clone()
			tt.mutate(s)
			cp, _ := graph.FromCSR(g.CSR())
			if err := cp.Remember(s); !errors.Is(err, graph.ErrInvalidSummary) {
				t.Errorf("Remember = %v, want ErrInvalidSummary", err)
			}
		})
	}
	cp, _ := graph.FromCSR(g.CSR())
	if err := cp.Remember(clone()); err != nil {
		t.Errorf("Remember(good) = %v", err)
	}
}

// TestSummarizeParallel checks that sketching waves in parallel gives the
// summary one goroutine gives (run it with -race).
func TestSummarizeParallel(t *testing.T) {
	g := graphtest.Fleet(30_000, 150_000, 3)
	prev := runtime.GOMAXPROCS(1)
	one := graph.Summarize(remembered(t, g, graph.AllKindsSet), 0) // a fresh copy without the default kinds remembered
	runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(prev)
	four := graph.Summarize(remembered(t, g, graph.AllKindsSet), 0)
	if d := cmp.Diff(one, four); d != "" {
		t.Errorf("Summarize with 4 goroutines (-1 +4):\n%s", d)
	}
}
