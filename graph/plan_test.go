package graph_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
)

func TestRecoveryOrderAlternatives(t *testing.T) {
	standby := map[string][]string{
		"ns1": {}, "ns2": {"disk"}, "disk": {}, "db": {},
		"standby": {"ns1|ns2", "db"},
	}
	tests := []struct {
		name    string
		adj     map[string][]string
		opts    graph.OrderOptions
		waves   [][]string
		groups  [][]string
		choices []string // "service: chosen of [members] (reason)"
		unowned []string // "endpoint <- needed by (records)"
		path    []string
	}{
		{
			name:    "any one of two nameservers: the earliest",
			adj:     standby,
			waves:   [][]string{{"db", "disk", "ns1"}, {"ns2", "standby"}},
			choices: []string{"standby: ns1 of [ns1 ns2] (earliest-wave)"},
		},
		{
			name:  "without the alternative kind, alternatives are ignored",
			adj:   standby,
			opts:  graph.OrderOptions{Kinds: graph.Kinds(graph.Hard, graph.Declared)},
			waves: [][]string{{"db", "disk", "ns1"}, {"ns2", "standby"}},
		},
		{
			name:    "a target follows the chosen member only",
			adj:     standby,
			opts:    graph.OrderOptions{Targets: []string{"standby"}},
			waves:   [][]string{{"db", "ns1"}, {"standby"}},
			choices: []string{"standby: ns1 of [ns1 ns2] (earliest-wave)"},
		},
		{
			name: "the later member is never waited for",
			adj: map[string][]string{
				"ns1": {"a"}, "a": {"b"}, "b": {}, "ns2": {}, "standby": {"ns1|ns2"},
			},
			waves:   [][]string{{"b", "ns2"}, {"a", "standby"}, {"ns1"}},
			choices: []string{"standby: ns2 of [ns1 ns2] (earliest-wave)"},
		},
		{
			name:    "same wave: first by name",
			adj:     map[string][]string{"ns1": {}, "ns2": {}, "standby": {"ns2|ns1"}},
			waves:   [][]string{{"ns1", "ns2"}, {"standby"}},
			choices: []string{"standby: ns1 of [ns1 ns2] (name)"},
		},
		{
			name:    "an alternative breaks a cycle when another member needs no jumpstart",
			adj:     map[string][]string{"a": {"b|c"}, "b": {"a"}, "c": {}},
			waves:   [][]string{{"c"}, {"a"}, {"b"}},
			choices: []string{"a: c of [b c] (earliest-wave)"},
			path:    []string{"c", "a", "b"},
		},
		{
			name:    "every member in the service's cycle",
			adj:     map[string][]string{"a": {"b|c"}, "b": {"a"}, "c": {"a"}},
			waves:   [][]string{{"a", "b"}, {"c"}},
			groups:  [][]string{{"a", "b"}},
			choices: []string{"a: b of [b c] (in-cycle)"},
		},
		{
			name:    "every member needs a jumpstart: one outside the service's cycle",
			adj:     map[string][]string{"a": {"b|x"}, "b": {"a"}, "x": {"y"}, "y": {"x"}},
			waves:   [][]string{{"x", "y"}, {"a"}, {"b"}},
			groups:  [][]string{{"x", "y"}},
			choices: []string{"a: x of [b x] (earliest-wave)"},
		},
		{
			name:  "a member needed anyway satisfies its group",
			adj:   map[string][]string{"a": {"b|c", "b"}, "b": {}, "c": {"d"}, "d": {}},
			waves: [][]string{{"b", "d"}, {"a", "c"}},
		},
		{
			name: "two groups, each chosen on its own",
			adj: map[string][]string{
				"svc": {"ns1|ns2", "cfg1|cfg2"}, "ns1": {"x"}, "x": {}, "ns2": {}, "cfg1": {}, "cfg2": {},
			},
			waves:   [][]string{{"cfg1", "cfg2", "ns2", "x"}, {"ns1", "svc"}},
			choices: []string{"svc: cfg1 of [cfg1 cfg2] (name)", "svc: ns2 of [ns1 ns2] (earliest-wave)"},
		},
		{
			name:    "alternative edges in no group form one",
			adj:     map[string][]string{"svc": {"a:alternative", "b:alternative"}, "a": {"c"}, "b": {}, "c": {}},
			waves:   [][]string{{"b", "c"}, {"a", "svc"}},
			choices: []string{"svc: b of [a b] (earliest-wave)"},
		},
		{
			name: "endpoints are unowned, never waited for",
			adj: map[string][]string{
				"web": {"unix:/run/nscd/socket:soft", "dns:db.example.internal", "db"}, "db": {},
			},
			waves:   [][]string{{"db"}, {"web"}},
			unowned: []string{"dns:db.example.internal <- [web] ([fixture])"},
			path:    []string{"db", "web"},
		},
		{
			name:    "an endpoint reached only over other kinds is nowhere",
			adj:     map[string][]string{"web": {"unix:/run/nscd/socket:soft"}},
			waves:   [][]string{{"web"}},
			path:    []string{"web"},
			unowned: nil,
		},
		{
			name:    "endpoints over every kind",
			adj:     map[string][]string{"web": {"unix:/run/nscd/socket:soft"}},
			opts:    graph.OrderOptions{Kinds: graph.AllKindsSet},
			waves:   [][]string{{"web"}},
			unowned: []string{"unix:/run/nscd/socket <- [web] ([fixture])"},
		},
		{
			name:    "an endpoint among alternatives does not count",
			adj:     map[string][]string{"web": {"dns:ns.example|ns2"}, "ns2": {"x"}, "x": {}},
			waves:   [][]string{{"x"}, {"ns2"}, {"web"}},
			choices: []string{"web: ns2 of [ns2] (earliest-wave)"},
			unowned: []string{"dns:ns.example <- [web] ([fixture])"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := graphtest.FromAdjacency(tt.adj)
			o, err := graph.RecoveryOrder(g, tt.opts)
			if err != nil {
				t.Fatalf("RecoveryOrder: %v", err)
			}
			var waves, groups [][]string
			for _, w := range o.Waves {
				waves = append(waves, w.Services)
				for _, gr := range w.Groups {
					groups = append(groups, gr.Members)
				}
			}
			var choices, unowned []string
			for _, c := range o.Alternatives {
				choices = append(choices, fmt.Sprintf("%s: %s of %v (%s)", c.Service, c.Chosen, c.AnyOf, c.Reason))
			}
			for _, u := range o.Unowned {
				unowned = append(unowned, fmt.Sprintf("%s <- %v (%v)", u.Endpoint, u.NeededBy, u.Records))
			}
			if d := cmp.Diff(tt.waves, waves); d != "" {
				t.Errorf("RecoveryOrder waves (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.groups, groups); d != "" {
				t.Errorf("RecoveryOrder jumpstart groups (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.choices, choices); d != "" {
				t.Errorf("RecoveryOrder alternatives (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.unowned, unowned); d != "" {
				t.Errorf("RecoveryOrder unowned (-want +got):\n%s", d)
			}
			if tt.path != nil {
				if d := cmp.Diff(tt.path, o.CriticalPath.Services); d != "" {
					t.Errorf("RecoveryOrder critical path (-want +got):\n%s", d)
				}
			}
			checkPlan(t, g, tt.opts.Kinds, len(tt.opts.Targets) == 0, o)

			// Cycles and the plan agree on what needs a jumpstart.
			var knots [][]string
			for _, c := range graph.Cycles(g, graph.CycleOptions{Kinds: tt.opts.Kinds}) {
				knots = append(knots, c.Members)
			}
			if len(tt.opts.Targets) == 0 {
				if d := cmp.Diff(tt.groups, knots); d != "" {
					t.Errorf("Cycles vs jumpstart groups (-groups +cycles):\n%s", d)
				}
			}
		})
	}
}

// refPlan is an independent reference for how a recovery plan treats
// alternatives, from the graph's public API: for each service, what it
// needs plainly and its alternative groups, and the wave of every service
// that recovers without a jumpstart, found round by round.
type refPlan struct {
	and    map[string][]string
	groups map[string][][]string // sorted members
	wave   map[string]int        // absent: needs a jumpstart
}

func newRefPlan(g *graph.Graph, ks graph.KindSet) *refPlan {
	if ks == 0 {
		ks = graph.DefaultKinds
	}
	r := &refPlan{and: map[string][]string{}, groups: map[string][][]string{}, wave: map[string]int{}}
	isService := func(v int32) bool { return g.Info(v).Type == graph.Service }
	alt := ks.Has(graph.Alternative)
	for u := int32(0); u < int32(g.Len()); u++ {
		if !isService(u) {
			continue
		}
		name := g.Name(u)
		lo, hi := g.OutRange(u)
		inGroup := map[int32]bool{}
		for _, grp := range g.Groups(u) {
			var members []string
			moot := false
			for _, e := range grp {
				inGroup[e] = true
				v, k := g.EdgeTarget(e)
				if !ks.Has(k) || !isService(v) {
					continue
				}
				if k != graph.Alternative {
					moot = true
				}
				members = append(members, g.Name(v))
			}
			if alt && !moot && len(members) > 0 {
				slices.Sort(members)
				if !slices.ContainsFunc(r.groups[name], func(g []string) bool { return slices.Equal(g, members) }) {
					r.groups[name] = append(r.groups[name], members)
				}
			}
		}
		var implicit []string
		for e := lo; e < hi; e++ {
			v, k := g.EdgeTarget(e)
			if !ks.Has(k) || !isService(v) {
				continue
			}
			switch {
			case k != graph.Alternative || !alt:
				r.and[name] = append(r.and[name], g.Name(v))
			case !inGroup[e]:
				implicit = append(implicit, g.Name(v))
			}
		}
		if len(implicit) > 0 {
			r.groups[name] = append(r.groups[name], implicit)
		}
	}
	for round := 0; ; round++ {
		var ready []string
		for u := int32(0); u < int32(g.Len()); u++ {
			name := g.Name(u)
			if _, done := r.wave[name]; done || !isService(u) {
				continue
			}
			ok := true
			for _, t := range r.and[name] {
				if w, done := r.wave[t]; !done || w >= round {
					ok = false
				}
			}
			for _, grp := range r.groups[name] {
				any := false
				for _, m := range grp {
					if w, done := r.wave[m]; done && w < round {
						any = true
					}
				}
				ok = ok && any
			}
			if ok {
				ready = append(ready, name)
			}
		}
		if len(ready) == 0 {
			return r
		}
		for _, name := range ready {
			r.wave[name] = round
		}
	}
}

// checkPlan checks a recovery order against the reference: services that
// need no jumpstart are in the reference's wave and wait for the earliest
// member of each group (then the first by name); every service comes after
// what it needs and the member it waits for, or with them in a jumpstart
// group; only services that need a jumpstart are in groups; whole says
// every service of g must be planned.
func checkPlan(t *testing.T, g *graph.Graph, ks graph.KindSet, whole bool, o graph.Order) {
	t.Helper()
	ref := newRefPlan(g, ks)
	wave, group := map[string]int{}, map[string]string{}
	for _, w := range o.Waves {
		for _, s := range w.Services {
			if _, dup := wave[s]; dup {
				t.Errorf("%s is in two waves", s)
			}
			wave[s] = w.Index
		}
		for _, gr := range w.Groups {
			for _, m := range gr.Members {
				group[m] = gr.ID
				if _, free := ref.wave[m]; free {
					t.Errorf("%s is in jumpstart group %v but recovers without one in wave %d", m, gr.Members, ref.wave[m])
				}
			}
		}
	}
	for v := int32(0); v < int32(g.Len()); v++ {
		name := g.Name(v)
		_, planned := wave[name]
		switch {
		case g.Info(v).Type == graph.Endpoint && planned:
			t.Errorf("endpoint %s is in wave %d", name, wave[name])
		case g.Info(v).Type == graph.Service && whole && !planned:
			t.Errorf("service %s is in no wave", name)
		}
	}
	before := func(s, need string) bool {
		return wave[need] < wave[s] || (group[s] != "" && group[s] == group[need])
	}
	chosen := map[string]map[string]graph.Choice{}
	for _, c := range o.Alternatives {
		if chosen[c.Service] == nil {
			chosen[c.Service] = map[string]graph.Choice{}
		}
		chosen[c.Service][fmt.Sprint(c.AnyOf)] = c
	}
	for s, w := range wave {
		if rw, ok := ref.wave[s]; ok && rw != w {
			t.Errorf("%s in wave %d, reference %d", s, w, rw)
		}
		for _, need := range ref.and[s] {
			if _, ok := wave[need]; !ok || !before(s, need) {
				t.Errorf("%s (wave %d) needs %s (wave %d, planned %v)", s, w, need, wave[need], ok)
			}
		}
		if len(chosen[s]) != len(ref.groups[s]) {
			t.Errorf("%s has %d groups, the plan chose for %d: %v", s, len(ref.groups[s]), len(chosen[s]), o.Alternatives)
		}
		for _, grp := range ref.groups[s] {
			c, ok := chosen[s][fmt.Sprint(grp)]
			if !ok {
				t.Errorf("%s: no choice for group %v", s, grp)
				continue
			}
			if !before(s, c.Chosen) {
				t.Errorf("%s (wave %d) waits for %s (wave %d)", s, w, c.Chosen, wave[c.Chosen])
			}
			// A service that needs no jumpstart waits for the earliest
			// member that needs none either; one that needs a jumpstart for
			// a member of its own bootstrap cycle, or else for the earliest
			// member. Ties go to the first by name.
			_, free := ref.wave[s]
			inOwn := false
			for _, m := range grp {
				inOwn = inOwn || (group[s] != "" && group[m] == group[s])
			}
			if inOwn {
				if c.Reason != graph.ChoiceInCycle || group[c.Chosen] != group[s] {
					t.Errorf("%s waits for %s of %v (%s), want a member of its own cycle", s, c.Chosen, grp, c.Reason)
				}
				continue
			}
			if !free && !whole {
				continue // members not waited for are not planned: TestRecoveryOrderAlternativesProperties compares with the whole plan
			}
			waveOf := func(m string) (int, bool) {
				if free {
					w, ok := ref.wave[m]
					return w, ok
				}
				w, ok := wave[m]
				return w, ok
			}
			best, ties := "", 0
			for _, m := range grp {
				mw, ok := waveOf(m)
				bw, _ := waveOf(best)
				switch {
				case !ok:
				case best == "" || mw < bw:
					best, ties = m, 1
				case mw == bw:
					ties++
				}
			}
			switch {
			case best == "":
				t.Errorf("%s: no member of %v is planned", s, grp)
			case c.Chosen != best:
				t.Errorf("%s waits for %s of %v, want %s", s, c.Chosen, grp, best)
			case (c.Reason == graph.ChoiceName) != (ties > 1) || c.Reason == graph.ChoiceInCycle:
				t.Errorf("%s: %s of %v chosen for %q with %d members in the earliest wave", s, c.Chosen, grp, c.Reason, ties)
			}
		}
	}
}

// randomWithGroups is a random graph of n services with plain edges of
// random kinds, explicit alternative groups, alternative edges in none,
// and a few endpoints.
func randomWithGroups(seed uint64, n int) *graph.Graph {
	r := rand.New(rand.NewPCG(seed, 0x51ed))
	name := func(i int) string { return fmt.Sprintf("n%02d", i) }
	var b graph.Builder
	for i := range n {
		b.AddNode(name(i), graph.NodeInfo{})
	}
	kinds := []graph.Kind{graph.Hard, graph.Declared, graph.Soft, graph.Alternative}
	for u := range n {
		for range r.IntN(3) {
			b.AddEdge(name(u), name(r.IntN(n)), kinds[r.IntN(len(kinds))])
		}
		for range r.IntN(3) {
			var members []string
			for range 1 + r.IntN(3) {
				members = append(members, name(r.IntN(n)))
			}
			if r.IntN(8) == 0 {
				members = append(members, "dns:x.example")
			}
			b.AddGroup(name(u), members...)
		}
		if r.IntN(6) == 0 {
			b.AddNode("unix:/run/"+name(u), graph.NodeInfo{Type: graph.Endpoint})
			b.AddEdge(name(u), "unix:/run/"+name(u), graph.Hard)
		}
	}
	b.AddNode("dns:x.example", graph.NodeInfo{Type: graph.Endpoint})
	return b.Build()
}

func TestRecoveryOrderAlternativesProperties(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		g := randomWithGroups(seed, 6+int(seed%20))
		for _, ks := range []graph.KindSet{0, graph.AllKindsSet, andKinds} {
			o, err := graph.RecoveryOrder(g, graph.OrderOptions{Kinds: ks})
			if err != nil {
				t.Fatal(err)
			}
			t.Run(fmt.Sprintf("seed%d/%s", seed, ks.OrDefault()), func(t *testing.T) {
				checkPlan(t, g, ks, true, o)
				// A target's plan is the whole plan restricted to what
				// the target needs.
				target := g.Name(int32(seed) % int32(g.Len()))
				if g.Info(int32(seed)%int32(g.Len())).Type != graph.Service {
					return
				}
				sub, err := graph.RecoveryOrder(g, graph.OrderOptions{Kinds: ks, Targets: []string{target}})
				if err != nil {
					t.Fatal(err)
				}
				checkPlan(t, g, ks, false, sub)
				whole := map[string]graph.Choice{}
				for _, c := range o.Alternatives {
					whole[c.Service+fmt.Sprint(c.AnyOf)] = c
				}
				for _, c := range sub.Alternatives {
					if w := whole[c.Service+fmt.Sprint(c.AnyOf)]; w.Chosen != c.Chosen || w.Reason != c.Reason {
						t.Errorf("--target %s: %s waits for %s (%s), the whole plan for %s (%s)", target, c.Service, c.Chosen, c.Reason, w.Chosen, w.Reason)
					}
				}
			})
		}
	}
}
