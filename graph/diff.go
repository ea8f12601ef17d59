package graph

import (
	"cmp"
	"slices"
)

// Defaults of [DiffOptions].
const (
	// DefaultClosureWork bounds the exact closure counting of [Diff], in
	// edge visits.
	DefaultClosureWork = 20_000_000
	// ClosureSketchSize is k of the bottom-k sketches [Diff] estimates
	// closure sizes with once the exact budget is spent: closures smaller
	// than k are still exact, larger ones are estimated with a relative
	// standard error of about 1/sqrt(k-2), 18%.
	ClosureSketchSize = 32
	// diffCycleWork bounds the extra new/resolved cycles Diff explains
	// beyond one per component, in edge visits.
	diffCycleWork = 50_000_000
)

// DiffOptions configures [Diff].
type DiffOptions struct {
	// Kinds selects the edges for cycles, waves and closures; 0 means
	// DefaultKinds. Service and edge changes cover every kind.
	Kinds KindSet
	// ClosureWork bounds exact closure counting, in edge visits; 0 means
	// DefaultClosureWork. Closures not counted within it are estimated
	// (Growth.Estimated).
	ClosureWork int
}

// Diff returns what changed from old to new:
//
//   - added and removed services, and added and removed edges of every
//     kind, sorted by name, with the evidence of the graph they are in;
//     edges in both with another kind are KindChanges;
//   - new cycles: for every edge that new has and old has not (over
//     opts.Kinds) and that lies in a cyclic component of new, a shortest
//     cycle through it (BFS within the component). Such a cycle uses an
//     edge old lacks, so it is not a cycle in old; every new cyclic edge
//     is explained unless a work bound is hit, and then still every
//     component that has one. Resolved cycles are the same from old to
//     new. Both are sorted by ID;
//   - services in both whose wave (see [RecoveryOrder], no MaxParallel)
//     is later in new, by name;
//   - services in both whose transitive closure (everything they need,
//     themselves excluded) grew, by name.
//
// Closures can only grow for services that reach an edge new has and old
// has not, so only those are counted: exactly, by BFS in both graphs,
// until opts.ClosureWork edge visits are spent; the rest are estimated with
// bottom-k sketches ([ClosureSketchSize]) over each condensation, using
// the same hash of names in both graphs, so an unchanged closure always
// has an unchanged estimate and closures below k stay exact. Estimated
// entries have Growth.Estimated set.
func Diff(old, new *Graph, opts DiffOptions) Delta {
	d := Delta{
		AddedServices: []string{}, RemovedServices: []string{},
		AddedEdges: []Edge{}, RemovedEdges: []Edge{}, KindChanges: []KindChange{},
		NewCycles: []Cycle{}, ResolvedCycles: []Cycle{},
		LaterWave: []WaveShift{}, ClosureGrowth: []Growth{},
	}
	ks := opts.Kinds.OrDefault()

	// Services: both name lists are sorted. A name's rank in their union
	// orders the names of both graphs, so edges compare by integers.
	orank := make([]int32, old.Len())
	nrank := make([]int32, new.Len())
	n2o := make([]int32, new.Len())
	rank := int32(0)
	for i, j := 0, 0; i < len(old.names) || j < len(new.names); rank++ {
		switch {
		case j == len(new.names) || i < len(old.names) && old.names[i] < new.names[j]:
			orank[i] = rank
			d.RemovedServices = append(d.RemovedServices, old.names[i])
			i++
		case i == len(old.names) || new.names[j] < old.names[i]:
			nrank[j], n2o[j] = rank, -1
			d.AddedServices = append(d.AddedServices, new.names[j])
			j++
		default:
			orank[i], nrank[j], n2o[j] = rank, rank, int32(i)
			i++
			j++
		}
	}

	// Edges, by source then target name. gained and lost are the edges that
	// entered or left the analysed kinds: (source, graph edge index).
	var gained, lost [][2]int32
	edgeRows(old, new, n2o, orank, nrank, func(u int32, e int32, isNew bool) {
		if isNew {
			d.AddedEdges = append(d.AddedEdges, new.EdgeOf(u, e))
			if ks.Has(new.kinds[e]) {
				gained = append(gained, [2]int32{u, e})
			}
		} else {
			d.RemovedEdges = append(d.RemovedEdges, old.EdgeOf(u, e))
			if ks.Has(old.kinds[e]) {
				lost = append(lost, [2]int32{u, e})
			}
		}
	}, func(uo, eo, un, en int32) {
		ko, kn := old.kinds[eo], new.kinds[en]
		if ko == kn {
			return
		}
		d.KindChanges = append(d.KindChanges, KindChange{From: new.names[un], To: new.names[new.outDst[en]], Old: ko, New: kn})
		switch {
		case ks.Has(kn) && !ks.Has(ko):
			gained = append(gained, [2]int32{un, en})
		case ks.Has(ko) && !ks.Has(kn):
			lost = append(lost, [2]int32{uo, eo})
		}
	})

	oa, na := planView(old, ks, nil), planView(new, ks, nil)
	os, ns := oa.components(), na.components()
	d.NewCycles = cyclesThrough(na, ns, gained)
	d.ResolvedCycles = cyclesThrough(oa, os, lost)

	// Waves.
	ol, nl := oa.waves(), na.waves()
	later := func(j int) bool { i := n2o[j]; return i >= 0 && nl[ns.comp[j]] > ol[os.comp[i]] }
	count := 0
	for j := range new.names {
		if later(j) {
			count++
		}
	}
	d.LaterWave = make([]WaveShift, 0, count)
	for j := range new.names {
		if later(j) {
			d.LaterWave = append(d.LaterWave, WaveShift{Service: new.names[j], Old: int(ol[os.comp[n2o[j]]]), New: int(nl[ns.comp[j]])})
		}
	}

	d.ClosureGrowth = closureGrowth(oa, na, os, ns, n2o, gained, orDefault(opts.ClosureWork, DefaultClosureWork))
	return d
}

// edgeRows walks the edges of old and new by source name, then target
// name, calling only for an edge in one graph only and both for an edge in
// both. orank and nrank are the ranks of old's and new's names in their
// union.
func edgeRows(old, new *Graph, n2o, orank, nrank []int32, only func(u, e int32, isNew bool), both func(uo, eo, un, en int32)) {
	oldOnly := func(u int32) {
		for e := old.outOff[u]; e < old.outOff[u+1]; e++ {
			only(u, e, false)
		}
	}
	i := int32(0)
	for j := int32(0); j < int32(len(new.names)); j++ {
		io := n2o[j]
		if io < 0 {
			for e := new.outOff[j]; e < new.outOff[j+1]; e++ {
				only(j, e, true)
			}
			continue
		}
		for ; i < io; i++ { // removed services before this one
			oldOnly(i)
		}
		eo, eoEnd := old.outOff[io], old.outOff[io+1]
		en, enEnd := new.outOff[j], new.outOff[j+1]
		for eo < eoEnd || en < enEnd {
			var c int
			switch {
			case eo == eoEnd:
				c = 1
			case en == enEnd:
				c = -1
			default:
				c = cmp.Compare(orank[old.outDst[eo]], nrank[new.outDst[en]])
			}
			switch c {
			case -1:
				only(io, eo, false)
				eo++
			case 1:
				only(j, en, true)
				en++
			default:
				both(io, eo, j, en)
				eo++
				en++
			}
		}
		i = io + 1
	}
	for ; i < int32(len(old.names)); i++ {
		oldOnly(i)
	}
}

// waves returns the wave of each component of the view (see
// [RecoveryOrder]), computed once per graph and kind set.
func (a *adj) waves() []int32 {
	s := a.components()
	if m := a.g.memo(a.key); m != nil && m.waves != nil {
		return m.waves
	}
	w := levels(a, s)
	a.g.remember(a.key, func(m *memo) { m.waves = w })
	return w
}

// levels returns the wave of each component (see [RecoveryOrder]).
func levels(a *adj, s *sccs) []int32 {
	lv := make([]int32, s.count)
	for c := int32(0); c < s.count; c++ {
		for _, v := range s.members(c) {
			for p := a.off[v]; p < a.off[v+1]; p++ {
				if d := s.comp[a.dst[p]]; d != c && a.ok(p) {
					lv[c] = max(lv[c], lv[d]+1)
				}
			}
		}
	}
	return lv
}

// cyclesThrough returns, for each edge (u, graph edge index) inside a
// cyclic component of a, a shortest cycle through it, deduplicated and
// sorted by ID. Beyond a work bound only the first edge of each component
// is explained.
func cyclesThrough(a *adj, s *sccs, edges [][2]int32) []Cycle {
	out := []Cycle{}
	if len(edges) == 0 {
		return out
	}
	// adj position of each graph edge: search the row.
	seen := map[string]bool{}
	explained := map[int32]bool{}
	stamp := make([]int32, a.n)
	par := make([]int32, a.n) // adj position into the node
	from := make([]int32, a.n)
	gen := int32(0)
	work := 0
	var queue []int32
	for _, ue := range edges {
		u, v := ue[0], a.g.outDst[ue[1]]
		c := s.comp[u]
		if s.comp[v] != c {
			continue
		}
		if work > diffCycleWork && explained[c] {
			continue
		}
		p, ok := a.find(u, v)
		if !ok {
			continue
		}
		var cyc Cycle
		if u == v {
			cyc = Cycle{Services: []string{a.g.names[u]}, Edges: []Edge{a.edgeOf(u, p)}}
		} else {
			// BFS from v back to u inside the component.
			gen++
			stamp[v] = gen
			queue = append(queue[:0], v)
			found := false
			for qi := 0; qi < len(queue) && !found; qi++ {
				x := queue[qi]
				for q := a.off[x]; q < a.off[x+1]; q++ {
					work++
					y := a.dst[q]
					if stamp[y] == gen || s.comp[y] != c || !a.ok(q) {
						continue
					}
					stamp[y], par[y], from[y] = gen, q, x
					if y == u {
						found = true
						break
					}
					queue = append(queue, y)
				}
			}
			var nodes, pos []int32
			for x := u; x != v; x = from[x] {
				nodes, pos = append(nodes, from[x]), append(pos, par[x])
			}
			slices.Reverse(nodes)
			slices.Reverse(pos)
			nodes, pos = append([]int32{u}, nodes...), append([]int32{p}, pos...)
			// nodes[i] -> nodes[i+1] by pos[i]; rotate to the smallest.
			start := slices.Index(nodes, slices.Min(nodes))
			cyc = Cycle{}
			for i := range nodes {
				k := (start + i) % len(nodes)
				cyc.Services = append(cyc.Services, a.g.names[nodes[k]])
				cyc.Edges = append(cyc.Edges, a.edgeOf(nodes[k], pos[k]))
			}
		}
		explained[c] = true
		cyc.ID = cycleIDRotated(cyc.Services)
		if !seen[cyc.ID] {
			seen[cyc.ID] = true
			out = append(out, cyc)
		}
	}
	slices.SortFunc(out, func(x, y Cycle) int { return cmp.Compare(x.ID, y.ID) })
	return out
}
