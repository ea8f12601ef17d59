package graph

import (
	"container/heap"
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
// With MaxParallel W > 0 no wave holds more than W services: waves are
// filled by list scheduling over the condensation, ready units (services
// and whole groups) taken by critical-path priority — the longest chain of
// services that need them — then by name, precedence always respected.
// This is Graham's list scheduling, within 2-1/W of the fewest waves
// possible. A jumpstart group larger than W cannot be split (its members
// come up together), so it gets a wave of its own, marked OverWidth.
//
// The critical path is found by CPM on the condensation: each unit lasts
// its RecoveryTime (DefaultDuration when unknown), a group as long as its
// slowest member since its members are jumpstarted together; the path is
// the chain of needs with the longest total, ties going to the longer
// chain and then to names. It ignores MaxParallel.
//
// An unknown target gives an [UnknownServiceError] (errors.Is
// [ErrUnknownService]). RecoveryOrder runs in O(V+E) plus the witness
// search of cyclic components (see [Cycles]), and O((V+E) log V) with
// MaxParallel.
func RecoveryOrder(g *Graph, opts OrderOptions) (Order, error) {
	var roots []int32
	if len(opts.Targets) > 0 {
		ids, err := lookup(g, opts.Targets)
		if err != nil {
			return Order{}, err
		}
		roots = ids
	}
	a := newAdj(g, opts.Kinds)
	s := a.scc(roots)
	cd := condense(a, s)
	nc := int32(cd.Len())

	// Levels: what a unit needs has a smaller number, so one pass suffices.
	level := make([]int32, nc)
	for c := int32(0); c < nc; c++ {
		for _, d := range cd.Needs(c) {
			level[c] = max(level[c], level[d]+1)
		}
	}
	wave := level
	var over []bool
	if opts.MaxParallel > 0 {
		wave, over = schedule(cd, opts.MaxParallel)
	}

	// Waves with their services, in name order.
	nw := int32(0)
	for _, w := range wave {
		nw = max(nw, w+1)
	}
	counts := make([]int32, nw)
	for _, c := range s.comp {
		if c >= 0 {
			counts[wave[c]]++
		}
	}
	order := Order{Waves: make([]Wave, nw)}
	for i := range order.Waves {
		order.Waves[i] = Wave{Index: i, Services: make([]string, 0, counts[i])}
	}
	for v, c := range s.comp {
		if c >= 0 {
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
	sc := newScratch(a.n)
	for _, members := range knots(a, s) {
		sb := newSub(a, members, sc)
		w, _ := sb.witness(DefaultWitnessWork)
		c := s.comp[members[0]]
		wv := &order.Waves[wave[c]]
		wv.Groups = append(wv.Groups, Group{ID: w.ID, Members: sb.names()})
	}

	order.CriticalPath = criticalPath(g, cd, level, opts.DefaultDuration)
	return order, nil
}

// schedule assigns units of the condensation to waves of at most w
// services by list scheduling (see [RecoveryOrder]). It returns the wave of
// each unit and whether the unit is a group larger than w.
func schedule(cd *Condensation, w int) ([]int32, []bool) {
	nc := int32(cd.Len())
	// Priority: the longest chain of units that need this one.
	up := make([]int32, nc)
	for c := nc - 1; c >= 0; c-- {
		for _, d := range cd.Needs(c) {
			up[d] = max(up[d], up[c]+1)
		}
	}
	// Reverse edges to release dependents.
	roff := make([]int32, nc+1)
	for _, d := range cd.dst {
		roff[d+1]++
	}
	for i := int32(0); i < nc; i++ {
		roff[i+1] += roff[i]
	}
	fill := make([]int32, nc)
	copy(fill, roff[:nc])
	rsrc := make([]int32, len(cd.dst))
	pending := make([]int32, nc)
	for c := int32(0); c < nc; c++ {
		for _, d := range cd.Needs(c) {
			rsrc[fill[d]] = c
			fill[d]++
		}
		pending[c] = int32(len(cd.Needs(c)))
	}
	size := func(c int32) int { return int(cd.memOff[c+1] - cd.memOff[c]) }
	h := &readyHeap{up: up, first: func(c int32) int32 { return cd.Members(c)[0] }}
	for c := int32(0); c < nc; c++ {
		if pending[c] == 0 {
			h.items = append(h.items, c)
		}
	}
	heap.Init(h)
	wave := make([]int32, nc)
	over := make([]bool, nc)
	var chosen, deferred []int32
	for t := int32(0); h.Len() > 0; t++ {
		chosen, deferred = chosen[:0], deferred[:0]
		used := 0
		for h.Len() > 0 && used < w {
			c := heap.Pop(h).(int32)
			sz := size(c)
			switch {
			case sz > w && len(chosen) == 0:
				chosen = append(chosen, c)
				over[c] = true
				used = w
			case used+sz <= w:
				chosen = append(chosen, c)
				used += sz
			default:
				deferred = append(deferred, c)
			}
		}
		for _, c := range deferred {
			heap.Push(h, c)
		}
		for _, c := range chosen {
			wave[c] = t
		}
		for _, c := range chosen {
			for _, p := range rsrc[roff[c]:roff[c+1]] {
				if pending[p]--; pending[p] == 0 {
					heap.Push(h, p)
				}
			}
		}
	}
	return wave, over
}

// readyHeap orders ready units by priority (up, larger first), then by
// their first member's name.
type readyHeap struct {
	items []int32
	up    []int32
	first func(int32) int32
}

func (h *readyHeap) Len() int { return len(h.items) }
func (h *readyHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if h.up[a] != h.up[b] {
		return h.up[a] > h.up[b]
	}
	return h.first(a) < h.first(b)
}
func (h *readyHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *readyHeap) Push(x any)    { h.items = append(h.items, x.(int32)) }
func (h *readyHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// criticalPath runs CPM on the condensation (see [RecoveryOrder]).
func criticalPath(g *Graph, cd *Condensation, level []int32, def time.Duration) CriticalPath {
	nc := int32(cd.Len())
	if nc == 0 {
		return CriticalPath{Services: []string{}}
	}
	dur := func(v int32) (time.Duration, bool) {
		if d := g.info[v].RecoveryTime; d > 0 {
			return d, false
		}
		return def, true
	}
	finish := make([]time.Duration, nc)
	pred := make([]int32, nc)
	// better reports whether unit a ends a more critical chain than b.
	better := func(a, b int32) bool {
		if finish[a] != finish[b] {
			return finish[a] > finish[b]
		}
		if level[a] != level[b] {
			return level[a] > level[b]
		}
		return cd.Members(a)[0] < cd.Members(b)[0]
	}
	end := int32(0)
	for c := int32(0); c < nc; c++ {
		var d time.Duration
		for _, v := range cd.Members(c) {
			x, _ := dur(v)
			d = max(d, x)
		}
		pred[c] = -1
		for _, n := range cd.Needs(c) {
			if pred[c] < 0 || better(n, pred[c]) {
				pred[c] = n
			}
		}
		finish[c] = d
		if pred[c] >= 0 {
			finish[c] += finish[pred[c]]
		}
		if better(c, end) {
			end = c
		}
	}
	var units []int32
	for c := end; c >= 0; c = pred[c] {
		units = append(units, c)
	}
	cp := CriticalPath{Duration: finish[end]}
	for i := len(units) - 1; i >= 0; i-- {
		for _, v := range cd.Members(units[i]) {
			cp.Services = append(cp.Services, g.names[v])
			if _, defaulted := dur(v); defaulted {
				cp.Defaulted = append(cp.Defaulted, g.names[v])
			}
		}
	}
	slices.Sort(cp.Defaulted)
	return cp
}
