package graph

import (
	"cmp"
	"slices"
	"time"
)

// OrderOptions configures [RecoveryOrder]. The zero value plans the whole
// graph over [DefaultKinds] with unbounded waves.
type OrderOptions struct {
	// Kinds selects the edges to analyse; 0 means DefaultKinds.
	Kinds KindSet
	// Targets restricts the plan to these services and everything they
	// need, directly or not (--target, --down). Empty means every service.
	Targets []string
	// MaxParallel, when positive, caps how many services a wave may hold.
	// Waves are then built by list scheduling (see [RecoveryOrder]).
	MaxParallel int
	// DefaultDuration is the recovery time assumed for services whose
	// NodeInfo.RecoveryTime is 0.
	DefaultDuration time.Duration
}

// RecoveryOrder plans recovery as waves of services that can recover in
// parallel. Wave 0 holds what needs nothing; a service's wave is one more
// than the latest wave among what it needs. A cyclic component (see
// [Cycles]) is one jumpstart [Group] in a single wave: its members are
// listed in that wave's Services and Groups, and the group's ID is the
// ID of its component's witness cycle. Services are sorted by name.
//
// Only services are recovered. An edge to an endpoint no catalog service
// owns is never waited for; the endpoints services need are listed apart
// in Unowned, with the records that mention them.
//
// An alternative group (see [Graph.Groups]) is "any one of": when the
// kinds include [Alternative], the service waits for one member, the one
// that recovers earliest — the earliest wave, then the first by name
// ([ChoiceEarliestWave], [ChoiceName]) — and the plan (waves, jumpstart
// groups, critical path, targets) follows that member only; Alternatives
// says which member was chosen and why. A member counts when its edge's
// kind is analysed and it is a service; a group with a member needed
// anyway (a hard edge to it) is satisfied by it. Cycles through
// alternatives: a service that can recover without any jumpstart waits
// for a member that can too, so an alternative breaks a cycle whenever
// another member needs no jumpstart; a service in a bootstrap cycle
// waits for a member in its own cycle when it has one ([ChoiceInCycle]:
// the jumpstart brings them up together), else for the earliest member.
// Without [Alternative] in the kinds, alternative edges are ignored.
//
// With MaxParallel W > 0 no wave holds more than W services: waves are
// filled by list scheduling over the condensation, ready units (services
// and whole groups) taken by critical-path priority — the longest chain of
// services that need them — then by name, precedence always respected.
// This is Graham's list scheduling, within 2-1/W of the fewest waves
// possible. A jumpstart group larger than W cannot be split (its members
// come up together), so it gets a wave of its own, marked OverWidth.
// Alternatives are chosen as without MaxParallel.
//
// The critical path is found by CPM on the condensation: each unit lasts
// its RecoveryTime (DefaultDuration when unknown), a group as long as its
// slowest member since its members are jumpstarted together; the path is
// the chain of needs with the longest total, ties going to the longer
// chain and then to names. It ignores MaxParallel.
//
// An unknown target gives an [UnknownServiceError] (errors.Is
// [ErrUnknownService]). RecoveryOrder runs in O(V+E) plus the witness
// search of cyclic components (see [Cycles]), and with MaxParallel in
// near O(V+E) plus, for each jumpstart group, the waves without room for
// it that it passes. Resolving alternatives and leaving out endpoints costs one
// more O(V+E) pass, done once per graph and kind set.
func RecoveryOrder(g *Graph, opts OrderOptions) (Order, error) {
	var roots []int32
	if len(opts.Targets) > 0 {
		ids, err := lookup(g, opts.Targets)
		if err != nil {
			return Order{}, err
		}
		roots = ids
	}
	a := planView(g, opts.Kinds, roots)
	cpm := &cpmPass{a: a, dur: durations(g, opts.DefaultDuration), facts: g.facts(), units: make([]cpmUnit, 0, a.n), end: -1}
	var s *sccs
	switch {
	case roots != nil:
		s = a.scc(roots, cpm.component)
	case a.memo() != nil:
		s = a.memo()
		for c := int32(0); c < s.count; c++ {
			cpm.component(c, s.members(c), s.comp, 0)
		}
	default:
		s = a.remember(a.scc(nil, cpm.component))
	}
	units := cpm.units
	cp := cpm.path(s)
	var wave []int32
	var over []bool
	if opts.MaxParallel > 0 {
		wave, over = schedule(a, s, units, opts.MaxParallel)
	} else {
		wave = make([]int32, s.count)
		for c := range units {
			wave[c] = units[c].level
		}
	}

	// Waves with their services, in name order; endpoints have none.
	nw := int32(0)
	for _, w := range wave {
		nw = max(nw, w+1)
	}
	counts := make([]int32, nw)
	for _, c := range s.comp {
		if c >= 0 && wave[c] >= 0 {
			counts[wave[c]]++
		}
	}
	order := Order{Waves: make([]Wave, nw)}
	for i := range order.Waves {
		order.Waves[i] = Wave{Index: i, Services: make([]string, 0, counts[i])}
	}
	for v, c := range s.comp {
		if c >= 0 && wave[c] >= 0 {
			w := &order.Waves[wave[c]]
			w.Services = append(w.Services, g.names[v])
		}
	}
	for c, o := range over {
		if o {
			order.Waves[wave[c]].OverWidth = true
		}
	}

	// Jumpstart groups.
	var sc *scratch
	for _, members := range knots(a, s) {
		if sc == nil {
			sc = newScratch(a.n)
		}
		sb := newSub(a, members, sc)
		w, _ := sb.witness(DefaultWitnessWork)
		c := s.comp[members[0]]
		wv := &order.Waves[wave[c]]
		wv.Groups = append(wv.Groups, Group{ID: w.ID, Members: sb.names()})
	}

	order.CriticalPath = cp
	order.Alternatives = choices(a, s)
	order.Unowned = unowned(a, s)
	return order, nil
}

// choices lists the alternative groups of the services planned in s and
// the member each waits for.
func choices(a *adj, s *sccs) []Choice {
	if a.plan == nil {
		return nil
	}
	g := a.g
	// Sorted by node IDs, which are in name order: no string compares.
	var idx []int
	for i, gr := range a.plan.groups {
		if s.comp[gr.owner] >= 0 {
			idx = append(idx, i)
		}
	}
	groups := a.plan.groups
	slices.SortFunc(idx, func(x, y int) int {
		gx, gy := &groups[x], &groups[y]
		if gx.owner != gy.owner {
			return cmp.Compare(gx.owner, gy.owner)
		}
		return slices.Compare(gx.edges, gy.edges) // edges of one node: in target order
	})
	out := make([]Choice, len(idx))
	for j, i := range idx {
		gr := &groups[i]
		ch := Choice{Service: g.names[gr.owner], Chosen: g.names[g.outDst[gr.chosen]], Reason: gr.reason, AnyOf: make([]string, len(gr.edges))}
		for k, e := range gr.edges {
			ch.AnyOf[k] = g.names[g.outDst[e]]
		}
		out[j] = ch
	}
	return out
}

// unowned lists the endpoints the services planned in s need over the
// view's kinds, with who needs them and the records that say so.
func unowned(a *adj, s *sccs) []Unowned {
	g, f := a.g, a.g.facts()
	if f.endpoints == nil {
		return nil
	}
	type acc struct{ by, src map[string]bool }
	found := map[int32]*acc{}
	for v, c := range s.comp {
		if c < 0 || f.isEndpoint(int32(v)) {
			continue
		}
		for e := g.outOff[v]; e < g.outOff[v+1]; e++ {
			t := g.outDst[e]
			if !a.ks.Has(g.kinds[e]) || !f.isEndpoint(t) {
				continue
			}
			x := found[t]
			if x == nil {
				x = &acc{by: map[string]bool{}, src: map[string]bool{}}
				found[t] = x
			}
			x.by[g.names[v]] = true
			for _, ev := range g.evidence[e] {
				if ev.Source != "" {
					x.src[ev.Source] = true
				}
			}
		}
	}
	out := make([]Unowned, 0, len(found))
	for t, x := range found {
		out = append(out, Unowned{Endpoint: g.names[t], NeededBy: sortedKeys(x.by), Records: sortedKeys(x.src)})
	}
	slices.SortFunc(out, func(x, y Unowned) int { return cmp.Compare(x.Endpoint, y.Endpoint) })
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// schedule assigns the components of s to waves of at most w services
// by list scheduling (see [RecoveryOrder]). It returns the wave of each
// component and whether it is a group larger than w.
//
// List scheduling fills wave after wave with the ready units of highest
// priority. A unit's priority is higher than that of everything it needs
// (what needs it is a chain one longer), so the priority order is also an
// order in which needs come first, and list scheduling places each unit,
// in that order, in the earliest wave that follows all it needs and has
// room: every unit of higher priority ready by then is placed already,
// every one of lower priority not yet. That is what schedule does, with
// no heap and no reverse edges: waves that are full are skipped by a
// union-find over wave numbers, so a unit of one service takes near
// constant time beyond its edges; a larger group also passes the waves
// with too little room left.
func schedule(a *adj, s *sccs, units []cpmUnit, w int) ([]int32, []bool) {
	nc := s.count
	// Priority: the longest chain of components that need this one. What
	// needs c comes after it, so a backward pass has it final at c.
	up := make([]int32, nc)
	top := int32(0)
	for c := nc - 1; c >= 0; c-- {
		top = max(top, up[c])
		for _, v := range s.members(c) {
			for p := a.off[v]; p < a.off[v+1]; p++ {
				if d := s.comp[a.dst[p]]; d != c && a.ok(p) {
					up[d] = max(up[d], up[c]+1)
				}
			}
		}
	}
	// Units by priority: up, larger first, then first member's name (node
	// IDs are in name order), by a counting sort over up.
	start := make([]int32, top+2)
	for c := range up {
		if units[c].level >= 0 {
			start[top-up[c]+1]++
		}
	}
	for i := int32(1); i < int32(len(start)); i++ {
		start[i] += start[i-1]
	}
	byPriority := make([]int32, start[top+1])
	for v, c := range s.comp {
		if c >= 0 && units[c].level >= 0 && units[c].first == int32(v) {
			i := top - up[c]
			byPriority[start[i]] = c
			start[i]++
		}
	}
	up, start = nil, nil

	wave := make([]int32, nc)
	for c := range wave {
		wave[c] = -1 // endpoints keep it: not recovered
	}
	over := make([]bool, nc)
	// used[t] is how many services wave t holds; next[t] leads to the
	// first wave from t on that is not full (a union-find with path
	// halving). There are at most as many waves as units.
	used := make([]int32, len(byPriority)+1)
	next := make([]int32, len(byPriority)+2)
	for i := range next {
		next[i] = int32(i)
	}
	open := func(t int32) int32 {
		for next[t] != t {
			next[t] = next[next[t]]
			t = next[t]
		}
		return t
	}
	for _, c := range byPriority {
		t := int32(0) // the first wave after everything c needs
		for _, v := range s.members(c) {
			for p := a.off[v]; p < a.off[v+1]; p++ {
				if d := s.comp[a.dst[p]]; d != c && a.ok(p) {
					t = max(t, wave[d]+1)
				}
			}
		}
		// Room for c: at most limit services in the wave already; a
		// group larger than w needs a wave of its own.
		sz := s.size(c)
		limit := int32(w) - sz
		if limit < 0 {
			limit, over[c] = 0, true
		}
		t = open(t)
		for used[t] > limit {
			t = open(t + 1)
		}
		wave[c] = t
		if used[t] = min(used[t]+sz, int32(w)); used[t] == int32(w) {
			next[t] = t + 1
		}
	}
	return wave, over
}

// cpmUnit is what CPM knows of a component, packed so that one cache line
// read per edge brings all of it.
type cpmUnit struct {
	finish time.Duration // earliest finish: own duration plus the longest chain below
	level  int32         // wave without MaxParallel; -1 for an endpoint, which has none
	first  int32         // smallest member, for ties by name
}

// moreCritical reports whether x ends a more critical chain than y: longer
// total, then more levels, then the smaller name.
func moreCritical(x, y *cpmUnit) bool {
	if x.finish != y.finish {
		return x.finish > y.finish
	}
	if x.level != y.level {
		return x.level > y.level
	}
	return x.first < y.first
}

// cpmPass computes, as the SCC pass completes each component, its level
// (wave without MaxParallel), smallest member and earliest finish by CPM:
// everything a component needs is complete before it, so one visit of its
// members' edges, while they are still in cache, is enough.
type cpmPass struct {
	a     *adj
	dur   []time.Duration // of each node; nil when all are 0
	facts *graphFacts
	units []cpmUnit
	end   int32 // the service component that finishes last, most critical first; -1 before any
}

// durations returns the recovery time of each node, def where unknown, in
// a compact array (NodeInfo is large; the CPM pass visits nodes in no
// useful order), or nil when every duration is 0.
func durations(g *Graph, def time.Duration) []time.Duration {
	var out []time.Duration
	for v := range g.names {
		var d time.Duration
		if g.info != nil {
			d = g.info[v].RecoveryTime
		}
		if d <= 0 {
			d = def
		}
		if d > 0 && out == nil {
			out = make([]time.Duration, len(g.names))
		}
		if out != nil {
			out[v] = d
		}
	}
	return out
}

func (p *cpmPass) component(c int32, members []int32, finished []int32, bias int32) {
	a := p.a
	if len(members) == 1 && p.facts.isEndpoint(members[0]) {
		// Not recovered, and nothing in the view waits for it.
		p.units = append(p.units, cpmUnit{level: -1, first: members[0]})
		return
	}
	var d, below time.Duration
	lv, fm := int32(0), a.n
	for _, v := range members {
		fm = min(fm, v)
		if p.dur != nil {
			d = max(d, p.dur[v])
		}
		for q := a.off[v]; q < a.off[v+1]; q++ {
			n := finished[a.dst[q]] - bias
			if n == c || !a.ok(q) {
				continue
			}
			u := &p.units[n]
			lv = max(lv, u.level+1)
			below = max(below, u.finish)
		}
	}
	p.units = append(p.units, cpmUnit{finish: d + below, level: lv, first: fm})
	if p.end < 0 || moreCritical(&p.units[c], &p.units[p.end]) {
		p.end = c
	}
}

// path traces the critical path (see [RecoveryOrder]) back from the
// component that finishes last, following the most critical need, and
// lists it from the first service to recover.
func (p *cpmPass) path(s *sccs) CriticalPath {
	a, g, units := p.a, p.a.g, p.units
	if p.end < 0 {
		return CriticalPath{Services: []string{}}
	}
	var path []int32
	for c := p.end; c >= 0; {
		path = append(path, c)
		next := int32(-1)
		for _, v := range s.members(c) {
			for q := a.off[v]; q < a.off[v+1]; q++ {
				n := s.comp[a.dst[q]]
				if n != c && a.ok(q) && (next < 0 || moreCritical(&units[n], &units[next])) {
					next = n
				}
			}
		}
		c = next
	}
	cp := CriticalPath{Duration: units[p.end].finish}
	for i := len(path) - 1; i >= 0; i-- {
		ms := slices.Clone(s.members(path[i]))
		slices.Sort(ms)
		for _, v := range ms {
			cp.Services = append(cp.Services, g.names[v])
			if g.Info(v).RecoveryTime <= 0 {
				cp.Defaulted = append(cp.Defaulted, g.names[v])
			}
		}
	}
	slices.Sort(cp.Defaulted)
	return cp
}
