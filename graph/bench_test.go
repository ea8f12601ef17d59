package graph_test

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/graph/simple"
	"gonum.org/v1/gonum/graph/topo"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
)

// Fleet sizes of the benchmarks (services / edges), as issue 2 asks.
var benchSizes = []struct {
	name            string
	services, edges int
}{
	{"10k", 10_000, 50_000},
	{"100k", 100_000, 500_000},
	{"1M", 1_000_000, 5_000_000},
}

// BenchmarkFleet runs, on each synthetic fleet, rgraph's Cycles and
// RecoveryOrder (alone and together, as `rgraph cycles` then `rgraph
// order` would), Diff against an evolved release, and side by side the
// tight compact-array reference (graphtest.TightSCCWaves), gonum's
// topo.TarjanSCC on the compact Directed view, and gonum's map-based
// simple.DirectedGraph built from the same edges plus topo.TarjanSCC
// (GonumSimpleBuildTarjan), and TarjanSCC alone on a prebuilt one.
// The 1M fleet is skipped with -short.
//
// Besides ns/op and B/op each benchmark reports peak-MB: the process's
// peak resident set (VmHWM, reset through /proc/self/clear_refs before the
// measured loop, after a GC) minus the resident set at that point, i.e.
// how much memory the operation added at its peak; -1 where /proc is not
// available.
func BenchmarkFleet(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			if sz.services >= 1_000_000 && testing.Short() {
				b.Skip("1M fleet skipped with -short")
			}
			g := graphtest.Fleet(sz.services, sz.edges, 1)
			c := g.CSR()
			b.Run("Cycles", func(b *testing.B) {
				measure(b, func() { graph.Cycles(g, graph.CycleOptions{}) })
			})
			b.Run("Order", func(b *testing.B) {
				measure(b, func() {
					if _, err := graph.RecoveryOrder(g, graph.OrderOptions{}); err != nil {
						b.Fatal(err)
					}
				})
			})
			b.Run("CyclesOrder", func(b *testing.B) {
				measure(b, func() {
					graph.Cycles(g, graph.CycleOptions{})
					if _, err := graph.RecoveryOrder(g, graph.OrderOptions{}); err != nil {
						b.Fatal(err)
					}
				})
			})
			b.Run("OrderMaxParallel", func(b *testing.B) {
				measure(b, func() {
					if _, err := graph.RecoveryOrder(g, graph.OrderOptions{MaxParallel: 100}); err != nil {
						b.Fatal(err)
					}
				})
			})
			b.Run("Tight", func(b *testing.B) {
				measure(b, func() { graphtest.TightSCCWaves(c.Off, c.Dst, c.Kinds, graph.DefaultKinds) })
			})
			b.Run("GonumCSRTarjan", func(b *testing.B) {
				measure(b, func() { topo.TarjanSCC(g.Directed(0)) })
			})
			b.Run("GonumSimpleBuildTarjan", func(b *testing.B) {
				measure(b, func() { topo.TarjanSCC(simpleGraph(g, graph.DefaultKinds)) })
			})
			b.Run("GonumSimpleTarjan", func(b *testing.B) {
				sg := simpleGraph(g, graph.DefaultKinds)
				measure(b, func() { topo.TarjanSCC(sg) })
			})
			b.Run("Diff", func(b *testing.B) {
				next := graphtest.Evolve(g, sz.edges/1000, 7)
				runtime.GC()
				b.ResetTimer()
				measure(b, func() { graph.Diff(g, next, graph.DiffOptions{}) })
			})
		})
	}
}

// simpleGraph copies g's edges of kinds ks into gonum's map-based graph.
func simpleGraph(g *graph.Graph, ks graph.KindSet) *simple.DirectedGraph {
	s := simple.NewDirectedGraph()
	for v := 0; v < g.Len(); v++ {
		s.AddNode(simple.Node(v))
	}
	for u := int32(0); u < int32(g.Len()); u++ {
		ts, kinds := g.Out(u)
		for i, v := range ts {
			if ks.Has(kinds[i]) && u != v {
				s.SetEdge(simple.Edge{F: simple.Node(u), T: simple.Node(v)})
			}
		}
	}
	return s
}

// measure runs fn b.N times and reports the peak resident memory it added
// (see BenchmarkFleet).
func measure(b *testing.B, fn func()) {
	b.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	resetPeak := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	before := procStatus("VmRSS")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fn()
	}
	b.StopTimer()
	peak := procStatus("VmHWM")
	if resetPeak && before >= 0 && peak >= 0 {
		b.ReportMetric(float64(peak-before)/(1<<20), "peak-MB")
	} else {
		b.ReportMetric(-1, "peak-MB")
	}
}

// procStatus returns a /proc/self/status field in bytes, or -1.
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}
