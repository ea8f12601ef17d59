package graph_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
)

// fleetAdj is a small recovery graph in the spirit of the example fleet.
var fleetAdj = map[string][]string{
	"dns":    {},
	"coord":  {"dns"},
	"ca":     {"sched", "dns"},
	"sched":  {"ca", "coord"},
	"config": {"coord", "ca"},
	"pkg":    {"config", "cache:soft"},
	"cache":  {},
	"web":    {"pkg", "config", "log:declared"},
	"log":    {},
}

func TestRecoveryOrderTable(t *testing.T) {
	tests := []struct {
		name  string
		adj   map[string][]string
		opts  graph.OrderOptions
		waves [][]string
		group [][]string // members of jumpstart groups, in wave order
	}{
		{
			name:  "empty",
			adj:   map[string][]string{},
			waves: [][]string{},
		},
		{
			name: "fleet",
			adj:  fleetAdj,
			waves: [][]string{
				{"cache", "dns", "log"},
				{"coord"},
				{"ca", "sched"},
				{"config"},
				{"pkg"},
				{"web"},
			},
			group: [][]string{{"ca", "sched"}},
		},
		{
			name: "soft edges count when asked",
			adj:  fleetAdj,
			opts: graph.OrderOptions{Kinds: graph.AllKindsSet, Targets: []string{"pkg"}},
			waves: [][]string{
				{"cache", "dns"},
				{"coord"},
				{"ca", "sched"},
				{"config"},
				{"pkg"},
			},
			group: [][]string{{"ca", "sched"}},
		},
		{
			name:  "target",
			adj:   fleetAdj,
			opts:  graph.OrderOptions{Targets: []string{"config"}},
			waves: [][]string{{"dns"}, {"coord"}, {"ca", "sched"}, {"config"}},
			group: [][]string{{"ca", "sched"}},
		},
		{
			name:  "down list",
			adj:   fleetAdj,
			opts:  graph.OrderOptions{Targets: []string{"coord", "log"}},
			waves: [][]string{{"dns", "log"}, {"coord"}},
		},
		{
			name: "max parallel",
			adj: map[string][]string{
				"a": {}, "b": {}, "c": {}, "d": {}, "top": {"a", "b"}, "mid": {"c"}, "high": {"mid"},
			},
			opts: graph.OrderOptions{MaxParallel: 2},
			// c heads the longest chain (high -> mid -> c), so it goes first.
			waves: [][]string{{"a", "c"}, {"b", "mid"}, {"d", "high"}, {"top"}},
		},
		{
			name:  "group wider than max parallel gets its own wave",
			adj:   map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}, "x": {}, "y": {"a"}},
			opts:  graph.OrderOptions{MaxParallel: 2},
			waves: [][]string{{"a", "b", "c"}, {"x", "y"}},
			group: [][]string{{"a", "b", "c"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := graphtest.FromAdjacency(tt.adj)
			got, err := graph.RecoveryOrder(g, tt.opts)
			if err != nil {
				t.Fatalf("RecoveryOrder: %v", err)
			}
			waves := [][]string{}
			var groups [][]string
			for i, w := range got.Waves {
				if w.Index != i {
					t.Errorf("wave %d has Index %d", i, w.Index)
				}
				waves = append(waves, w.Services)
				for _, gr := range w.Groups {
					groups = append(groups, gr.Members)
				}
			}
			if d := cmp.Diff(tt.waves, waves); d != "" {
				t.Errorf("RecoveryOrder waves (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.group, groups); d != "" {
				t.Errorf("RecoveryOrder groups (-want +got):\n%s", d)
			}
		})
	}
}

func TestRecoveryOrderGroupIDMatchesCycles(t *testing.T) {
	g := graphtest.FromAdjacency(fleetAdj)
	order, err := graph.RecoveryOrder(g, graph.OrderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cycles := graph.Cycles(g, graph.CycleOptions{})
	if len(cycles) != 1 || len(order.Waves[2].Groups) != 1 {
		t.Fatalf("want one cycle and one group, got %d and %v", len(cycles), order.Waves[2].Groups)
	}
	if gid := order.Waves[2].Groups[0].ID; gid != cycles[0].ID {
		t.Errorf("group ID %q, component ID %q", gid, cycles[0].ID)
	}
	if w := order.Waves[2]; w.OverWidth {
		t.Errorf("wave 2 OverWidth without MaxParallel")
	}
}

func TestRecoveryOrderUnknownTarget(t *testing.T) {
	g := graphtest.FromAdjacency(fleetAdj)
	_, err := graph.RecoveryOrder(g, graph.OrderOptions{Targets: []string{"web", "nope", "gone"}})
	if !errors.Is(err, graph.ErrUnknownService) {
		t.Fatalf("RecoveryOrder(unknown target) error = %v, want ErrUnknownService", err)
	}
	var ue *graph.UnknownServiceError
	if !errors.As(err, &ue) || !cmp.Equal(ue.Names, []string{"nope", "gone"}) {
		t.Errorf("UnknownServiceError names = %v, want [nope gone]", ue)
	}
}

func TestCriticalPath(t *testing.T) {
	var b graph.Builder
	info := func(name string, d time.Duration) { b.AddNode(name, graph.NodeInfo{RecoveryTime: d}) }
	info("dns", 10*time.Second)
	info("coord", 30*time.Second)
	info("ca", 20*time.Second)
	info("sched", 50*time.Second)
	info("web", 5*time.Second)
	info("log", 0) // unknown: defaulted
	for _, e := range [][2]string{{"coord", "dns"}, {"ca", "sched"}, {"sched", "ca"}, {"sched", "coord"}, {"web", "ca"}, {"web", "log"}, {"log", "dns"}} {
		b.AddEdge(e[0], e[1], graph.Hard)
	}
	g := b.Build()
	got, err := graph.RecoveryOrder(g, graph.OrderOptions{DefaultDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// dns 10s, coord 30s, {ca, sched} max 50s, web 5s = 95s; the log branch
	// is 10s + 60s (default) + 5s = 75s.
	want := graph.CriticalPath{
		Services: []string{"dns", "coord", "ca", "sched", "web"},
		Duration: 95 * time.Second,
	}
	if d := cmp.Diff(want, got.CriticalPath); d != "" {
		t.Errorf("CriticalPath (-want +got):\n%s", d)
	}
	got, _ = graph.RecoveryOrder(g, graph.OrderOptions{DefaultDuration: 2 * time.Minute})
	want = graph.CriticalPath{
		Services:  []string{"dns", "log", "web"},
		Duration:  135 * time.Second,
		Defaulted: []string{"log"},
	}
	if d := cmp.Diff(want, got.CriticalPath); d != "" {
		t.Errorf("CriticalPath with a longer default (-want +got):\n%s", d)
	}
}

func TestRecoveryOrderProperties(t *testing.T) {
	for ci, o := range randomCases() {
		for seed := uint64(0); seed < 40; seed++ {
			g := graphtest.Random(seed*31+uint64(ci), o)
			for _, ks := range []graph.KindSet{0, graph.AllKindsSet} {
				d := toDense(g, ks)
				ref := d.waves()
				name := fmt.Sprintf("case%d/seed%d/%s", ci, seed, ks)
				got, err := graph.RecoveryOrder(g, graph.OrderOptions{Kinds: ks})
				if err != nil {
					t.Fatal(err)
				}
				waveOf := map[string]int{}
				for _, w := range got.Waves {
					for _, s := range w.Services {
						waveOf[s] = w.Index
					}
				}
				if len(waveOf) != g.Len() {
					t.Fatalf("%s: %d services placed, graph has %d", name, len(waveOf), g.Len())
				}
				for v, want := range ref {
					if waveOf[d.names[v]] != want {
						t.Fatalf("%s: %s in wave %d, reference %d", name, d.names[v], waveOf[d.names[v]], want)
					}
				}
				checkGroups(t, name, d, got)

				// Targets: exactly the targets and what they need.
				r := d.reach()
				targets := []int{int(seed) % d.n, (int(seed) * 7) % d.n}
				tnames := []string{d.names[targets[0]], d.names[targets[1]]}
				sub, err := graph.RecoveryOrder(g, graph.OrderOptions{Kinds: ks, Targets: tnames})
				if err != nil {
					t.Fatal(err)
				}
				in := map[string]bool{}
				for _, w := range sub.Waves {
					for _, s := range w.Services {
						in[s] = true
						if ref[d.index(s)] != w.Index {
							t.Fatalf("%s: target plan puts %s in wave %d, full plan %d", name, s, w.Index, ref[d.index(s)])
						}
					}
				}
				for v := 0; v < d.n; v++ {
					want := v == targets[0] || v == targets[1] || r[targets[0]][v] || r[targets[1]][v]
					if in[d.names[v]] != want {
						t.Fatalf("%s: targets %v: %s included %v, want %v", name, tnames, d.names[v], in[d.names[v]], want)
					}
				}

				// MaxParallel: width, precedence, groups intact.
				for _, w := range []int{1, 2, 3} {
					par, err := graph.RecoveryOrder(g, graph.OrderOptions{Kinds: ks, MaxParallel: w})
					if err != nil {
						t.Fatal(err)
					}
					checkSchedule(t, fmt.Sprintf("%s/W%d", name, w), d, par, w, len(got.Waves))
				}
			}
		}
	}
}

func checkGroups(t *testing.T, name string, d *dense, o graph.Order) {
	t.Helper()
	var groups [][]string
	for _, w := range o.Waves {
		for _, gr := range w.Groups {
			groups = append(groups, gr.Members)
			for _, m := range gr.Members {
				found := false
				for _, s := range w.Services {
					found = found || s == m
				}
				if !found {
					t.Fatalf("%s: group member %s not listed in wave %d", name, m, w.Index)
				}
			}
			if gr.ID == "" {
				t.Fatalf("%s: group %v without ID", name, gr.Members)
			}
		}
	}
	slices.SortFunc(groups, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	if diff := cmp.Diff(d.cyclicComponents(), groups); diff != "" {
		t.Fatalf("%s: groups (-ref +got):\n%s", name, diff)
	}
}

func checkSchedule(t *testing.T, name string, d *dense, o graph.Order, w, levels int) {
	t.Helper()
	r := d.reach()
	waveOf := map[int]int{}
	total := 0
	for i, wv := range o.Waves {
		if len(wv.Services) > w && !wv.OverWidth {
			t.Fatalf("%s: wave %d has %d services", name, i, len(wv.Services))
		}
		if wv.OverWidth && (len(wv.Groups) != 1 || len(wv.Groups[0].Members) != len(wv.Services)) {
			t.Fatalf("%s: over-width wave %d is not one group alone: %v", name, i, wv.Services)
		}
		for _, s := range wv.Services {
			waveOf[d.index(s)] = i
			total++
		}
	}
	if total != d.n {
		t.Fatalf("%s: %d services scheduled of %d", name, total, d.n)
	}
	for u := 0; u < d.n; u++ {
		for v := 0; v < d.n; v++ {
			same := u == v || (r[u][v] && r[v][u])
			switch {
			case same && waveOf[u] != waveOf[v]:
				t.Fatalf("%s: %s and %s share a cycle but are in waves %d and %d", name, d.names[u], d.names[v], waveOf[u], waveOf[v])
			case !same && d.has[u][v] && waveOf[v] >= waveOf[u]:
				t.Fatalf("%s: %s needs %s but is in wave %d, not after %d", name, d.names[u], d.names[v], waveOf[u], waveOf[v])
			}
		}
	}
	if len(o.Waves) < levels {
		t.Fatalf("%s: %d waves, fewer than the %d levels", name, len(o.Waves), levels)
	}
}

func TestCriticalPathProperties(t *testing.T) {
	for seed := uint64(0); seed < 60; seed++ {
		g0 := graphtest.Random(seed, graphtest.RandomOptions{Nodes: 14, Density: 0.12, SelfLoops: 0.05})
		// Give durations to some services.
		var b graph.Builder
		for i, n := range g0.Names() {
			b.AddNode(n, graph.NodeInfo{RecoveryTime: time.Duration((i*7+int(seed))%5) * time.Second})
			ts, ks := g0.Out(int32(i))
			for j, v := range ts {
				b.AddEdge(n, g0.Name(v), ks[j])
			}
		}
		g := b.Build()
		d := toDense(g, 0)
		def := 3 * time.Second
		dur := func(v int) time.Duration {
			if x := g.Info(int32(v)).RecoveryTime; x > 0 {
				return x
			}
			return def
		}
		// Reference: fixed-point longest path, groups as their slowest member.
		r := d.reach()
		same := func(u, v int) bool { return u == v || (r[u][v] && r[v][u]) }
		unit := make([]time.Duration, d.n)
		for u := 0; u < d.n; u++ {
			for v := 0; v < d.n; v++ {
				if same(u, v) {
					unit[u] = max(unit[u], dur(v))
				}
			}
		}
		ef := make([]time.Duration, d.n)
		copy(ef, unit)
		for changed := true; changed; {
			changed = false
			for u := 0; u < d.n; u++ {
				for v := 0; v < d.n; v++ {
					if d.has[u][v] && !same(u, v) && ef[u] < ef[v]+unit[u] {
						ef[u] = ef[v] + unit[u]
						changed = true
					}
					if same(u, v) && ef[u] < ef[v] {
						ef[u] = ef[v] // a group finishes together
						changed = true
					}
				}
			}
		}
		want := time.Duration(0)
		for _, x := range ef {
			want = max(want, x)
		}
		got, err := graph.RecoveryOrder(g, graph.OrderOptions{DefaultDuration: def})
		if err != nil {
			t.Fatal(err)
		}
		cp := got.CriticalPath
		if cp.Duration != want {
			t.Fatalf("seed %d: critical path %v lasts %v, reference %v", seed, cp.Services, cp.Duration, want)
		}
		// The path is a chain of needs: each unit needs one in the unit before.
		sum := time.Duration(0)
		prev := -1
		for i := 0; i < len(cp.Services); {
			u := d.index(cp.Services[i])
			j := i
			for j < len(cp.Services) && same(u, d.index(cp.Services[j])) {
				j++
			}
			sum += unit[u]
			if prev >= 0 && !d.has[u][prev] {
				found := false
				for _, s := range cp.Services[i:j] {
					for _, p := range cp.Services {
						if same(d.index(p), prev) && d.has[d.index(s)][d.index(p)] {
							found = true
						}
					}
				}
				if !found {
					t.Fatalf("seed %d: critical path %v: %s does not need the unit before", seed, cp.Services, cp.Services[i])
				}
			}
			prev = u
			i = j
		}
		if sum != cp.Duration {
			t.Fatalf("seed %d: critical path units sum to %v, Duration %v", seed, sum, cp.Duration)
		}
	}
}

func TestComponentsRemembered(t *testing.T) {
	// The first analysis on a graph computes its components, later ones
	// reuse them: results must not depend on which came first.
	for seed := uint64(0); seed < 30; seed++ {
		o := graphtest.RandomOptions{Nodes: 25, Density: 0.08, SelfLoops: 0.05, Kinds: []graph.Kind{graph.Hard, graph.Soft}}
		fresh := func() *graph.Graph { return graphtest.Random(seed, o) }
		for _, ks := range []graph.KindSet{0, graph.AllKindsSet} {
			wantOrder, _ := graph.RecoveryOrder(fresh(), graph.OrderOptions{Kinds: ks, DefaultDuration: time.Second})
			wantCycles := graph.Cycles(fresh(), graph.CycleOptions{Kinds: ks})
			g := fresh()
			gotCycles := graph.Cycles(g, graph.CycleOptions{Kinds: ks})
			gotOrder, _ := graph.RecoveryOrder(g, graph.OrderOptions{Kinds: ks, DefaultDuration: time.Second})
			again, _ := graph.RecoveryOrder(g, graph.OrderOptions{Kinds: ks, DefaultDuration: time.Second})
			if d := cmp.Diff(wantOrder, gotOrder); d != "" {
				t.Fatalf("seed %d %s: order after Cycles differs (-fresh +reused):\n%s", seed, ks, d)
			}
			if d := cmp.Diff(wantOrder, again); d != "" {
				t.Fatalf("seed %d %s: second order differs:\n%s", seed, ks, d)
			}
			if d := cmp.Diff(wantCycles, gotCycles); d != "" {
				t.Fatalf("seed %d %s: cycles differ:\n%s", seed, ks, d)
			}
		}
	}
}

func TestConcurrentAnalyses(t *testing.T) {
	// A Graph is safe for concurrent use, remembered components included
	// (run with -race).
	g := graphtest.Fleet(2000, 8000, 5)
	want, _ := graph.RecoveryOrder(graphtest.Fleet(2000, 8000, 5), graph.OrderOptions{})
	done := make(chan graph.Order, 4)
	for i := 0; i < 4; i++ {
		go func() {
			graph.Cycles(g, graph.CycleOptions{})
			o, _ := graph.RecoveryOrder(g, graph.OrderOptions{})
			done <- o
		}()
	}
	for i := 0; i < 4; i++ {
		if d := cmp.Diff(want, <-done); d != "" {
			t.Fatalf("concurrent RecoveryOrder differs:\n%s", d)
		}
	}
}
