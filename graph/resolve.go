package graph

import "slices"

// buildPlan resolves the alternatives of the nodes roots reach (every node
// when roots is nil), as [RecoveryOrder] documents. A service "needs a
// jumpstart" when it is in a bootstrap cycle of the plan or needs, through
// its plain needs and chosen members, a service that is.
//
//  1. The services that recover without a jumpstart are those that do
//     once all they plainly need does and each of their groups has a
//     member that does (Kahn's algorithm). Each group takes the earliest
//     of those members, then the first by name.
//  2. Among the rest, the bootstrap cycles are the strongly connected
//     components over plain needs and, for each group with no member that
//     recovers without a jumpstart, one member: the first by name outside
//     the owner's component over all members, or else the first by name.
//  3. Bootstrap cycles recover as units; a group with a member in its
//     owner's cycle takes it (they come up together), any other its
//     earliest member, then the first by name, whether or not that member
//     needed a jumpstart.
//
// All three are done component by component, in the order Tarjan's
// algorithm completes the strongly connected components over every edge
// that may count (plain needs and every member), so that what a component
// needs is resolved before it: a service alone in its component is
// resolved from its needs' waves in one visit of its edges, and the steps
// above run only inside components of several services, processing
// readiness in wave order with a heap. It runs in O(V+E) plus
// O((V'+E') log V') over the V' services and E' edges of such components.
func buildPlan(g *Graph, ks KindSet, roots []int32) *plan {
	p := &plan{mask: make([]uint64, (len(g.outDst)+63)/64)}
	r := &resolver{g: g, f: g.facts(), ks: ks, p: p, alt: ks.Has(Alternative) && g.facts().hasAlt}
	r.level = make([]int32, len(g.names))
	r.taint = make([]bool, len(g.names))
	if !r.alt {
		// Only endpoints to leave out: every other edge of the kinds.
		r.plainNeeds(roots)
		return p
	}
	r.comps = sccs{comp: make([]int32, len(g.names)), off: make([]int32, 1, 64), order: make([]int32, 0, len(g.names))}
	for i := range r.comps.comp {
		r.comps.comp[i] = -1
	}
	a := newAdj(g, ks)
	each := func(_ int32, members []int32, _ []int32, _ int32) { r.component(members) }
	switch {
	case roots != nil:
		a.scc(roots, each)
	case a.memo() != nil:
		s := a.memo()
		for c := int32(0); c < s.count; c++ {
			r.component(s.members(c))
		}
	default:
		a.remember(a.scc(nil, each))
	}
	for i := range p.groups {
		gr := &p.groups[i]
		p.set(gr.chosen)
		if g.outDst[gr.chosen] == gr.owner {
			r.comps.loops = append(r.comps.loops, gr.owner)
		}
	}
	slices.Sort(r.comps.loops)
	r.comps.loops = slices.Compact(r.comps.loops)
	if roots == nil {
		p.comps = &r.comps
	}
	return p
}

// resolver holds the state of one buildPlan.
type resolver struct {
	g   *Graph
	f   *graphFacts
	ks  KindSet
	p   *plan
	alt bool // alternatives count

	level []int32 // wave of each resolved service
	taint []bool  // whether it needs a jumpstart

	loc []int32 // local index in the component being resolved, -1 otherwise; allocated on first use

	// The strongly connected components of the plan, built as components
	// are resolved, in an order where what a component needs comes first
	// (as Tarjan's algorithm gives them, see sccs).
	comps sccs

	arena []int32 // backing store of the groups' member lists
}

// addComponent appends a component of the plan with the given members.
func (r *resolver) addComponent(members ...int32) {
	s := &r.comps
	for _, v := range members {
		s.comp[v] = s.count
		s.order = append(s.order, v)
	}
	s.off = append(s.off, int32(len(s.order)))
	s.count++
}

// plainNeeds adds to the plan every edge that counts of the nodes roots
// reach (of every node when roots is nil), for kinds without
// alternatives.
func (r *resolver) plainNeeds(roots []int32) {
	g := r.g
	if roots == nil {
		for e := range int32(len(g.outDst)) {
			if r.need(e) {
				r.p.set(e)
			}
		}
		return
	}
	seen := make([]bool, len(g.names))
	queue := slices.Clone(roots)
	for _, v := range roots {
		seen[v] = true
	}
	for i := 0; i < len(queue); i++ {
		u := queue[i]
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			if t := g.outDst[e]; r.need(e) {
				r.p.set(e)
				if !seen[t] {
					seen[t] = true
					queue = append(queue, t)
				}
			}
		}
	}
}

// need reports whether edge e may count: its kind is analysed and its
// target is a service.
func (r *resolver) need(e int32) bool {
	return r.ks.Has(r.g.kinds[e]) && !r.f.isEndpoint(r.g.outDst[e])
}

// collect adds u's plain needs to the plan and its groups that count (see
// [RecoveryOrder]) to p.groups, and reports whether u has an edge to
// itself that counts.
func (r *resolver) collect(u int32) (self bool) {
	g, p := r.g, r.p
	first := len(p.groups)
	add := func(es []int32) {
		// Groups that differ only in members that do not count are one.
		for i := first; i < len(p.groups); i++ {
			if slices.Equal(p.groups[i].edges, es) {
				return
			}
		}
		start := len(r.arena)
		r.arena = append(r.arena, es...)
		p.groups = append(p.groups, planGroup{owner: u, edges: r.arena[start:len(r.arena):len(r.arena)], chosen: -1})
	}
	lo, hi := 0, 0
	if r.alt && g.alt != nil {
		lo, hi = g.alt.of(u)
	}
	inExplicit := func(e int32) bool {
		for i := lo; i < hi; i++ {
			if _, ok := slices.BinarySearch(g.alt.members(i), e); ok {
				return true
			}
		}
		return false
	}
	var implicit []int32
	for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
		if !r.need(e) {
			continue
		}
		self = self || g.outDst[e] == u
		switch {
		case !r.alt || g.kinds[e] != Alternative:
			p.set(e)
		case !inExplicit(e):
			implicit = append(implicit, e)
		}
	}
	if !r.alt {
		return self
	}
	if lo < hi {
		var es []int32
	groups:
		for i := lo; i < hi; i++ {
			es = es[:0]
			for _, e := range g.alt.members(i) {
				switch {
				case !r.need(e):
				case g.kinds[e] != Alternative: // needed anyway: the group is moot
					continue groups
				default:
					es = append(es, e)
				}
			}
			if len(es) > 0 {
				add(es)
			}
		}
	}
	if len(implicit) > 0 {
		add(implicit)
	}
	return self
}

// component resolves one strongly connected component over every edge
// that may count; everything it needs outside itself is resolved.
func (r *resolver) component(members []int32) {
	if len(members) == 1 {
		v := members[0]
		if r.f.isEndpoint(v) {
			r.addComponent(v)
			return
		}
		lo := len(r.p.groups)
		if !r.collect(v) {
			r.single(v, lo)
			r.addComponent(v)
			return
		}
		r.local(members, []int{lo, len(r.p.groups)})
		return
	}
	bounds := make([]int, 0, len(members)+1)
	for _, v := range members {
		bounds = append(bounds, len(r.p.groups))
		r.collect(v)
	}
	bounds = append(bounds, len(r.p.groups))
	r.local(members, bounds)
}

// choose returns the member of group gr to wait for, among members that
// need no jumpstart when onlyFree: the earliest, then the first by name,
// and why.
func (r *resolver) choose(gr *planGroup, onlyFree bool) (int32, ChoiceReason) {
	g := r.g
	best, ties := int32(-1), 0
	for _, e := range gr.edges {
		t := g.outDst[e]
		if onlyFree && r.taint[t] {
			continue
		}
		switch {
		case best < 0 || r.level[t] < r.level[g.outDst[best]]:
			best, ties = e, 1
		case r.level[t] == r.level[g.outDst[best]]:
			ties++ // edges are sorted by target: best stays the first by name
		}
	}
	if ties > 1 {
		return best, ChoiceName
	}
	return best, ChoiceEarliestWave
}

// single resolves a service alone in its component, with no edge to
// itself: its groups are p.groups[lo:].
func (r *resolver) single(v int32, lo int) {
	g, p := r.g, r.p
	lv, tainted := int32(0), false
	for e := g.outOff[v]; e < g.outOff[v+1]; e++ {
		if p.has(e) {
			t := g.outDst[e]
			lv = max(lv, r.level[t]+1)
			tainted = tainted || r.taint[t]
		}
	}
	groups := p.groups[lo:]
	free := !tainted
	for i := range groups {
		any := false
		for _, e := range groups[i].edges {
			any = any || !r.taint[g.outDst[e]]
		}
		free = free && any
	}
	for i := range groups {
		gr := &groups[i]
		gr.chosen, gr.reason = r.choose(gr, free)
		lv = max(lv, r.level[g.outDst[gr.chosen]]+1)
	}
	r.level[v], r.taint[v] = lv, !free
}

// event is a step of readiness in wave order: a node (or a unit of
// several) is ready, or a member edge's target is.
type event struct {
	level int32
	node  int32 // local node or unit that is ready, or -1
	edge  int32 // a member edge whose target is ready, when node is -1
}

func newEvents() *pq[event] {
	return &pq[event]{less: func(x, y event) bool {
		if x.level != y.level {
			return x.level < y.level
		}
		return x.node > y.node // nodes first: they make members ready at their wave
	}}
}

// local resolves a component of several services, or of one that needs
// itself: members[i]'s groups are p.groups[bounds[i]:bounds[i+1]].
func (r *resolver) local(members []int32, bounds []int) {
	g, p := r.g, r.p
	if r.loc == nil {
		r.loc = make([]int32, len(g.names))
		for i := range r.loc {
			r.loc[i] = -1
		}
	}
	loc := r.loc
	for i, v := range members {
		loc[v] = int32(i)
	}
	defer func() {
		for _, v := range members {
			loc[v] = -1
		}
	}()
	k := len(members)
	g0 := bounds[0]
	groups := p.groups[g0:bounds[k]]
	owner := func(gi int) int32 { return loc[groups[gi].owner] }

	// Member edges and their groups; the local reverse of every edge that
	// can make a member ready.
	type member struct{ e, grp int32 }
	var mem []member
	for gi := range groups {
		for _, e := range groups[gi].edges {
			mem = append(mem, member{e, int32(gi)})
		}
	}
	slices.SortFunc(mem, func(x, y member) int { return int(x.e) - int(y.e) })
	groupsOf := func(e int32) []member {
		i, _ := slices.BinarySearchFunc(mem, e, func(m member, e int32) int { return int(m.e) - int(e) })
		j := i
		for j < len(mem) && mem[j].e == e {
			j++
		}
		return mem[i:j]
	}
	roff := make([]int32, k+1)
	type rin struct{ from, e int32 }
	var rev []rin
	for i, u := range members {
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			if t := loc[g.outDst[e]]; t >= 0 && (p.has(e) || len(groupsOf(e)) > 0) {
				rev = append(rev, rin{int32(i), e})
				roff[t+1]++
			}
		}
	}
	for i := 0; i < k; i++ {
		roff[i+1] += roff[i]
	}
	byTarget := make([]rin, len(rev))
	fill := slices.Clone(roff[:k])
	for _, x := range rev {
		t := loc[g.outDst[x.e]]
		byTarget[fill[t]] = x
		fill[t]++
	}
	in := func(i int32) []rin { return byTarget[roff[i]:roff[i+1]] }

	// 1. What recovers without a jumpstart.
	pending := make([]int32, k)
	bound := make([]int32, k)
	notFree := make([]bool, k)
	free := make([]bool, k)
	sat := make([]int32, len(groups))
	q := newEvents()
	for i, u := range members {
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			if !p.has(e) {
				continue
			}
			t := g.outDst[e]
			switch {
			case loc[t] >= 0:
				pending[i]++
			case r.taint[t]:
				notFree[i] = true
			default:
				bound[i] = max(bound[i], r.level[t]+1)
			}
		}
	}
	for gi := range groups {
		sat[gi] = -1
		pending[owner(gi)]++
		for _, e := range groups[gi].edges {
			if t := g.outDst[e]; loc[t] < 0 && !r.taint[t] {
				q.push(event{level: r.level[t], node: -1, edge: e})
			}
		}
	}
	for i := range k {
		if pending[i] == 0 && !notFree[i] {
			q.push(event{level: bound[i], node: int32(i)})
		}
	}
	ready := func(i int32, l int32) {
		bound[i] = max(bound[i], l+1)
		if pending[i]--; pending[i] == 0 && !notFree[i] {
			q.push(event{level: bound[i], node: i})
		}
	}
	for q.Len() > 0 {
		ev := q.pop()
		if ev.node >= 0 {
			i := ev.node
			free[i], r.level[members[i]] = true, ev.level
			for _, x := range in(i) {
				if p.has(x.e) {
					ready(x.from, ev.level)
				} else {
					q.push(event{level: ev.level, node: -1, edge: x.e})
				}
			}
			continue
		}
		for _, m := range groupsOf(ev.edge) {
			gr := &groups[m.grp]
			switch {
			case sat[m.grp] < 0:
				sat[m.grp], gr.chosen = ev.level, ev.edge
				ready(owner(int(m.grp)), ev.level)
			case sat[m.grp] == ev.level && g.outDst[ev.edge] < g.outDst[gr.chosen]:
				gr.chosen = ev.edge
			}
		}
	}
	isFree := func(t int32) bool {
		if i := loc[t]; i >= 0 {
			return free[i]
		}
		return !r.taint[t]
	}
	reason := func(gi int, allowed func(int32) bool) ChoiceReason {
		gr := &groups[gi]
		for _, e := range gr.edges {
			if t := g.outDst[e]; e != gr.chosen && allowed(t) && r.level[t] == sat[gi] {
				return ChoiceName
			}
		}
		return ChoiceEarliestWave
	}
	var blocked []int32 // local
	for i := range k {
		if free[i] {
			r.taint[members[i]] = false
		} else {
			blocked = append(blocked, int32(i))
		}
	}
	for gi := range groups {
		if free[owner(gi)] {
			groups[gi].reason = reason(gi, isFree)
		}
	}
	// The plan's components here: each service that needs no jumpstart,
	// and (below) each unit of the rest, in wave order, which puts what a
	// component needs first.
	var planned []int32 // local, free ones by wave
	for i := range k {
		if free[i] {
			planned = append(planned, int32(i))
		}
	}
	addFree := func() {
		slices.SortStableFunc(planned, func(x, y int32) int { return int(r.level[members[x]] - r.level[members[y]]) })
		for _, i := range planned {
			r.addComponent(members[i])
		}
	}
	for i, u := range members { // plain needs of a member on itself
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			if p.has(e) && g.outDst[e] == u {
				r.comps.loops = append(r.comps.loops, members[i])
			}
		}
	}
	if len(blocked) == 0 {
		addFree()
		return
	}

	// 2. Bootstrap cycles among the rest: components over plain needs and
	// the members of groups no free member satisfies, then over plain
	// needs and one provisional member of each.
	edgesOf := func(pick func(i int32, e int32) bool) [][]int32 {
		out := make([][]int32, k)
		for _, i := range blocked {
			u := members[i]
			for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
				if t := loc[g.outDst[e]]; t >= 0 && !free[t] && pick(i, e) {
					out[i] = append(out[i], t)
				}
			}
		}
		return out
	}
	open := func(gi int) bool { return !free[owner(gi)] && sat[gi] < 0 }
	inOpen := func(e int32) bool {
		for _, m := range groupsOf(e) {
			if open(int(m.grp)) {
				return true
			}
		}
		return false
	}
	hComp, _, _ := localSCC(blocked, edgesOf(func(_ int32, e int32) bool { return p.has(e) || inOpen(e) }))
	provisional := make(map[int32]bool)
	prov := make([]int32, len(groups))
	for gi := range groups {
		prov[gi] = -1
		if !open(gi) {
			continue
		}
		own := hComp[owner(gi)]
		for _, e := range groups[gi].edges {
			if t := loc[g.outDst[e]]; t < 0 || hComp[t] != own {
				prov[gi] = e
				break
			}
		}
		if prov[gi] < 0 {
			prov[gi] = groups[gi].edges[0]
		}
		provisional[prov[gi]] = true
	}
	unit, units, cyclic := localSCC(blocked, edgesOf(func(_ int32, e int32) bool { return p.has(e) || provisional[e] }))

	// 3. Waves of the rest, bootstrap cycles recovering as units.
	unitMembers := make([][]int32, units)
	for _, i := range blocked {
		unitMembers[unit[i]] = append(unitMembers[unit[i]], i)
	}
	pendingU := make([]int32, units)
	readyU := make([]int32, units)
	done := make([]bool, len(groups)) // chosen in the owner's own cycle
	for _, i := range blocked {
		u := members[i]
		for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
			if !p.has(e) {
				continue
			}
			t := g.outDst[e]
			switch j := loc[t]; {
			case j >= 0 && !free[j] && unit[j] == unit[i]:
			case j >= 0 && !free[j]:
				pendingU[unit[i]]++
			default:
				readyU[unit[i]] = max(readyU[unit[i]], r.level[t]+1)
			}
		}
	}
	for gi := range groups {
		i := owner(gi)
		if free[i] {
			continue
		}
		gr := &groups[gi]
		inside := int32(-1)
		if cyclic[unit[i]] {
			for _, e := range gr.edges {
				if j := loc[g.outDst[e]]; j >= 0 && !free[j] && unit[j] == unit[i] && (inside < 0 || e == prov[gi]) {
					inside = e
				}
			}
		}
		if inside >= 0 {
			gr.chosen, gr.reason, done[gi] = inside, ChoiceInCycle, true
			continue
		}
		sat[gi], gr.chosen = -1, -1
		pendingU[unit[i]]++
		for _, e := range gr.edges {
			if j := loc[g.outDst[e]]; j < 0 || free[j] {
				q.push(event{level: r.level[g.outDst[e]], node: -1, edge: e})
			}
		}
	}
	for c := range units {
		if pendingU[c] == 0 {
			q.push(event{level: readyU[c], node: c})
		}
	}
	readyUnit := func(c, l int32) {
		readyU[c] = max(readyU[c], l+1)
		if pendingU[c]--; pendingU[c] == 0 {
			q.push(event{level: readyU[c], node: c})
		}
	}
	for q.Len() > 0 {
		ev := q.pop()
		if ev.node >= 0 {
			for _, i := range unitMembers[ev.node] {
				r.level[members[i]] = ev.level
			}
			for _, i := range unitMembers[ev.node] {
				for _, x := range in(i) {
					switch {
					case free[x.from] || unit[x.from] == ev.node:
					case p.has(x.e):
						readyUnit(unit[x.from], ev.level)
					default:
						q.push(event{level: ev.level, node: -1, edge: x.e})
					}
				}
			}
			continue
		}
		for _, m := range groupsOf(ev.edge) {
			gr := &groups[m.grp]
			switch {
			case free[owner(int(m.grp))] || done[m.grp]:
			case sat[m.grp] < 0:
				sat[m.grp], gr.chosen = ev.level, ev.edge
				readyUnit(unit[owner(int(m.grp))], ev.level)
			case sat[m.grp] == ev.level && g.outDst[ev.edge] < g.outDst[gr.chosen]:
				gr.chosen = ev.edge
			}
		}
	}
	for _, i := range blocked {
		r.taint[members[i]] = true
	}
	for gi := range groups {
		if !free[owner(gi)] && !done[gi] {
			groups[gi].reason = reason(gi, func(int32) bool { return true })
		}
	}
	// Free services and units, merged in wave order (a unit after the free
	// services of its wave: none of them can need it).
	byWave := make([]int32, units)
	for c := range units {
		byWave[c] = c
	}
	level := func(c int32) int32 { return r.level[members[unitMembers[c][0]]] }
	slices.SortStableFunc(byWave, func(x, y int32) int { return int(level(x) - level(y)) })
	slices.SortStableFunc(planned, func(x, y int32) int { return int(r.level[members[x]] - r.level[members[y]]) })
	fi := 0
	for _, c := range byWave {
		for fi < len(planned) && r.level[members[planned[fi]]] <= level(c) {
			r.addComponent(members[planned[fi]])
			fi++
		}
		ms := make([]int32, len(unitMembers[c]))
		for j, i := range unitMembers[c] {
			ms[j] = members[i]
		}
		r.addComponent(ms...)
	}
	for ; fi < len(planned); fi++ {
		r.addComponent(members[planned[fi]])
	}
}

// localSCC returns the strongly connected components of the local graph
// of nodes (local indices) with adjacency out: the component of each local
// index (-1 for those not in nodes), how many there are, and whether each
// is cyclic (several members or a self-loop). Iterative Tarjan.
func localSCC(nodes []int32, out [][]int32) (comp []int32, count int32, cyclic []bool) {
	k := len(out)
	comp = make([]int32, k)
	index := make([]int32, k)
	low := make([]int32, k)
	onStack := make([]bool, k)
	for i := range comp {
		comp[i] = -1
	}
	var stack []int32
	type frame struct{ v, next int32 }
	var calls []frame
	next := int32(1)
	for _, root := range nodes {
		if index[root] != 0 {
			continue
		}
		index[root], low[root] = next, next
		next++
		stack, onStack[root] = append(stack, root), true
		calls = append(calls[:0], frame{root, 0})
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			v := f.v
			if int(f.next) < len(out[v]) {
				w := out[v][f.next]
				f.next++
				switch {
				case index[w] == 0:
					index[w], low[w] = next, next
					next++
					stack, onStack[w] = append(stack, w), true
					calls = append(calls, frame{w, 0})
				case onStack[w]:
					low[v] = min(low[v], index[w])
				}
				continue
			}
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				p := calls[len(calls)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				size := 0
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = count
					size++
					if w == v {
						break
					}
				}
				cyclic = append(cyclic, size > 1 || slices.Contains(out[v], v))
				count++
			}
		}
	}
	return comp, count, cyclic
}
