package graph

// A reference for buildPlan: the same plan computed globally, phase by
// phase over the whole scope (Kahn's algorithm, then bootstrap cycles
// among what needs a jumpstart, then Dijkstra's algorithm on waves),
// where buildPlan resolves one strongly connected component at a time.
// TestPlanMatchesReference compares the two.

import "slices"

// refBuildPlan resolves the alternatives of the nodes roots reach (every node
// when roots is nil), as [RecoveryOrder] documents:
//
//  1. The services that recover without a jumpstart are found wave by
//     wave, as Kahn's algorithm does, a service being ready once all it
//     needs is and each of its groups has one member that is. A group
//     takes its first ready member: the earliest wave, then the first by
//     name.
//  2. The rest need a jumpstart. Their bootstrap cycles are the strongly
//     connected components over what they plainly need and, for each
//     group with no ready member, one member: the first by name outside
//     the owner's component (over all members), or else the first by name.
//  3. Then, cycles recovering as units, waves are found for the rest in
//     wave order (Dijkstra's algorithm on waves): a group with a member
//     in its owner's cycle takes it (they come up together); any other
//     takes its earliest member, then the first by name, whether or not
//     that member needed a jumpstart.
//
// It runs in O(V+E) over the nodes in scope, plus O((V'+E') log V') over
// the V' nodes and E' edges that need a jumpstart.
func refBuildPlan(g *Graph, ks KindSet, roots []int32) *plan {
	f := g.facts()
	n := int32(len(g.names))
	alt := ks.Has(Alternative) && f.hasAlt
	p := &plan{mask: make([]uint64, (len(g.outDst)+63)/64)}
	need := func(e int32) bool { return ks.Has(g.kinds[e]) && !f.isEndpoint(g.outDst[e]) }

	// Scope: the nodes roots reach over every edge that may count.
	var scope []int32
	if roots == nil {
		scope = make([]int32, n)
		for v := range scope {
			scope[v] = int32(v)
		}
	} else {
		seen := make([]uint64, (n+63)/64)
		for _, r := range roots {
			if !bitHas(seen, r) {
				seen[r>>6] |= 1 << (r & 63)
				scope = append(scope, r)
			}
		}
		for i := 0; i < len(scope); i++ {
			u := scope[i]
			for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
				if t := g.outDst[e]; need(e) && !bitHas(seen, t) {
					seen[t>>6] |= 1 << (t & 63)
					scope = append(scope, t)
				}
			}
		}
	}

	// Plain needs, and the groups that count: explicit groups whose usable
	// members are all alternative edges (a member needed anyway makes a
	// group moot), and each node's implicit group.
	var implicit []int32
	add := func(u int32, es []int32) {
		// Groups that differ only in members that do not count are one.
		for i := len(p.groups) - 1; i >= 0 && p.groups[i].owner == u; i-- {
			if slices.Equal(p.groups[i].edges, es) {
				return
			}
		}
		p.groups = append(p.groups, planGroup{owner: u, edges: es, chosen: -1})
	}
	for _, u := range scope {
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			if need(e) && !(alt && g.kinds[e] == Alternative) {
				p.set(e)
			}
		}
		if !alt {
			continue
		}
		if g.alt != nil {
			lo, hi := g.alt.of(u)
		groups:
			for i := lo; i < hi; i++ {
				var es []int32
				for _, e := range g.alt.members(i) {
					switch {
					case !need(e):
					case g.kinds[e] != Alternative:
						continue groups
					default:
						es = append(es, e)
					}
				}
				if len(es) > 0 {
					add(u, es)
				}
			}
		}
		implicit = implicit[:0]
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			if g.kinds[e] == Alternative && need(e) && !g.inExplicitGroup(u, e) {
				implicit = append(implicit, e)
			}
		}
		if len(implicit) > 0 {
			add(u, slices.Clone(implicit))
		}
	}
	if len(p.groups) == 0 {
		return p
	}
	p.refResolve(g, scope)
	for i := range p.groups {
		p.set(p.groups[i].chosen)
	}
	return p
}

// refResolve chooses a member of every group (see [buildPlan]).
func (p *plan) refResolve(g *Graph, scope []int32) {
	n := int32(len(g.names))
	// Member edges and their groups, sorted by edge.
	type member struct{ e, grp int32 }
	var members []member
	for i, gr := range p.groups {
		for _, e := range gr.edges {
			members = append(members, member{e, int32(i)})
		}
	}
	slices.SortFunc(members, func(x, y member) int { return int(x.e) - int(y.e) })
	groupsOf := func(e int32) []member {
		i, _ := slices.BinarySearchFunc(members, e, func(m member, e int32) int { return int(m.e) - int(e) })
		j := i
		for j < len(members) && members[j].e == e {
			j++
		}
		return members[i:j]
	}

	// What each node waits for: its plain needs and its groups; and the
	// reverse of every edge that can satisfy a wait.
	pending := make([]int32, n)
	roff := make([]int32, n+1)
	counts := func(u int32, visit func(e int32)) {
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			if p.has(e) || (g.kinds[e] == Alternative && len(groupsOf(e)) > 0) {
				visit(e)
			}
		}
	}
	for _, u := range scope {
		counts(u, func(e int32) {
			roff[g.outDst[e]+1]++
			if p.has(e) {
				pending[u]++
			}
		})
	}
	for _, gr := range p.groups {
		pending[gr.owner]++
	}
	for i := int32(0); i < n; i++ {
		roff[i+1] += roff[i]
	}
	fill := slices.Clone(roff[:n])
	redge := make([]int32, roff[n])
	rsrc := make([]int32, roff[n])
	for _, u := range scope {
		counts(u, func(e int32) {
			t := g.outDst[e]
			redge[fill[t]], rsrc[fill[t]] = e, u
			fill[t]++
		})
	}

	// 1. Kahn's algorithm, wave by wave.
	level := make([]int32, n)
	for i := range level {
		level[i] = -1
	}
	sat := make([]int32, len(p.groups)) // wave of the first ready member
	for i := range sat {
		sat[i] = -1
	}
	var frontier, next []int32
	for _, u := range scope {
		if pending[u] == 0 {
			frontier = append(frontier, u)
		}
	}
	for l := int32(0); len(frontier) > 0; l++ {
		for _, u := range frontier {
			level[u] = l
		}
		next = next[:0]
		for _, u := range frontier {
			for i := roff[u]; i < roff[u+1]; i++ {
				e, v := redge[i], rsrc[i]
				if p.has(e) {
					if pending[v]--; pending[v] == 0 {
						next = append(next, v)
					}
					continue
				}
				for _, m := range groupsOf(e) {
					gr := &p.groups[m.grp]
					switch {
					case sat[m.grp] < 0:
						sat[m.grp], gr.chosen = l, e
						if pending[v]--; pending[v] == 0 {
							next = append(next, v)
						}
					case sat[m.grp] == l && g.outDst[e] < g.outDst[gr.chosen]:
						gr.chosen = e
					}
				}
			}
		}
		frontier, next = next, frontier
	}
	var blocked []int32
	for _, u := range scope {
		if level[u] < 0 {
			blocked = append(blocked, u)
		}
	}
	for i := range p.groups {
		gr := &p.groups[i]
		if sat[i] < 0 {
			continue
		}
		gr.reason = ChoiceEarliestWave
		for _, e := range gr.edges {
			if e != gr.chosen && level[g.outDst[e]] == sat[i] {
				gr.reason = ChoiceName
			}
		}
	}
	if len(blocked) == 0 {
		return
	}

	// 2. Bootstrap cycles among what needs a jumpstart: components over
	// plain needs and, for each group no member of which is ready, a
	// provisional member: the first by name outside the owner's component
	// when all members count, or else the first by name.
	inB := make([]bool, n)
	for _, u := range blocked {
		inB[u] = true
	}
	h := &adj{g: g, n: n, off: g.outOff, dst: g.outDst, kinds: g.kinds, mask: make([]uint64, len(p.mask))}
	setH := func(e int32) { h.mask[e>>6] |= 1 << (e & 63) }
	for _, u := range blocked {
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			if p.has(e) && inB[g.outDst[e]] {
				setH(e)
			}
		}
	}
	for i, gr := range p.groups {
		if sat[i] < 0 {
			for _, e := range gr.edges {
				setH(e)
			}
		}
	}
	s := h.scc(blocked, nil)
	provisional := make([]int32, len(p.groups))
	for i, gr := range p.groups {
		provisional[i] = -1
		if sat[i] >= 0 {
			continue
		}
		for _, e := range gr.edges { // sorted by edge, so by target name
			if s.comp[g.outDst[e]] != s.comp[gr.owner] {
				provisional[i] = e
				break
			}
		}
		if provisional[i] < 0 {
			provisional[i] = gr.edges[0]
		}
	}
	for i, gr := range p.groups { // groups may share members: clear all, then set
		if sat[i] < 0 {
			for _, e := range gr.edges {
				h.mask[e>>6] &^= 1 << (e & 63)
			}
		}
	}
	for i := range p.groups {
		if sat[i] < 0 {
			setH(provisional[i])
		}
	}
	knots := h.scc(blocked, nil) // components of the provisional plan
	unit := knots.comp           // a bootstrap cycle, or one service
	cyclic := make([]bool, knots.count)
	for c := int32(0); c < knots.count; c++ {
		cyclic[c] = knots.size(c) > 1
	}
	for _, v := range knots.loops {
		cyclic[unit[v]] = true
	}

	// 3. Waves of what needs a jumpstart: a bootstrap cycle recovers as a
	// unit once all its members need from outside it has, a group with a
	// member in the owner's own cycle needs nothing (they come up
	// together), and any other group waits for its earliest member,
	// whether or not that member needed a jumpstart. Readiness is
	// processed in wave order, as Dijkstra's algorithm does with
	// distances.
	nu := knots.count
	pendingU := make([]int32, nu)
	ready := make([]int32, nu) // the unit's wave so far: one more than its latest need
	type event struct {
		level int32
		unit  int32 // the unit that is ready, or -1
		edge  int32 // a member edge whose target is ready, when unit is -1
	}
	q := &pq[event]{less: func(x, y event) bool {
		if x.level != y.level {
			return x.level < y.level
		}
		return x.unit > y.unit // units first: their members then count at this wave
	}}
	for _, u := range blocked {
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			t := g.outDst[e]
			switch {
			case !p.has(e) || unit[t] == unit[u] && inB[t]:
			case inB[t]:
				pendingU[unit[u]]++
			default:
				ready[unit[u]] = max(ready[unit[u]], level[t]+1)
			}
		}
	}
	for i := range p.groups {
		gr := &p.groups[i]
		if !inB[gr.owner] {
			continue
		}
		own := unit[gr.owner]
		inside := int32(-1)
		for _, e := range gr.edges {
			if t := g.outDst[e]; inB[t] && unit[t] == own && cyclic[own] && (inside < 0 || e == provisional[i]) {
				inside = e
			}
		}
		if inside >= 0 {
			gr.chosen, gr.reason, sat[i] = inside, ChoiceInCycle, -2
			continue
		}
		sat[i], gr.chosen = -1, -1
		pendingU[own]++
		for _, e := range gr.edges {
			if t := g.outDst[e]; !inB[t] {
				q.push(event{level: level[t], unit: -1, edge: e})
			}
		}
	}
	for c := int32(0); c < nu; c++ {
		if pendingU[c] == 0 {
			q.push(event{level: ready[c], unit: c})
		}
	}
	satisfy := func(c, l int32) {
		ready[c] = max(ready[c], l+1)
		if pendingU[c]--; pendingU[c] == 0 {
			q.push(event{level: ready[c], unit: c})
		}
	}
	for q.Len() > 0 {
		ev := q.pop()
		if ev.unit >= 0 {
			for _, u := range knots.members(ev.unit) {
				level[u] = ev.level
			}
			for _, u := range knots.members(ev.unit) {
				for i := roff[u]; i < roff[u+1]; i++ {
					e, v := redge[i], rsrc[i]
					switch {
					case !inB[v] || unit[v] == ev.unit:
					case p.has(e):
						satisfy(unit[v], ev.level)
					default:
						q.push(event{level: ev.level, unit: -1, edge: e})
					}
				}
			}
			continue
		}
		for _, m := range groupsOf(ev.edge) {
			gr := &p.groups[m.grp]
			switch {
			case !inB[gr.owner] || sat[m.grp] == -2:
			case sat[m.grp] == -1:
				sat[m.grp], gr.chosen = ev.level, ev.edge
				satisfy(unit[gr.owner], ev.level)
			case sat[m.grp] == ev.level && g.outDst[ev.edge] < g.outDst[gr.chosen]:
				gr.chosen = ev.edge
			}
		}
	}
	for i := range p.groups {
		gr := &p.groups[i]
		if !inB[gr.owner] || sat[i] < 0 {
			continue
		}
		gr.reason = ChoiceEarliestWave
		for _, e := range gr.edges {
			if e != gr.chosen && level[g.outDst[e]] == sat[i] {
				gr.reason = ChoiceName
			}
		}
	}
}
