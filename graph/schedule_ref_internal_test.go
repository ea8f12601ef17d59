package graph

// A reference for schedule: list scheduling wave by wave, ready units in
// a heap, released along reverse edges. TestScheduleMatchesReference
// compares the two.

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// TestScheduleMatchesReference checks schedule, which places units one
// by one in priority order, against refSchedule, which fills wave after
// wave: the same waves and the same groups over width, on random graphs
// with cycles, self-loops, alternatives and endpoints, for widths from 1,
// for the whole graph and for targets.
func TestScheduleMatchesReference(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		g := randomPlanGraph(seed, 5+int(seed%40))
		for _, w := range []int{1, 2, 3, 5, 100} {
			var roots []int32
			if seed%3 == 0 {
				roots = []int32{int32(seed) % int32(g.Len())}
			}
			a := planView(g, DefaultKinds, roots)
			cpm := &cpmPass{a: a, facts: g.facts(), units: make([]cpmUnit, 0, a.n), end: -1}
			s := a.scc(roots, cpm.component)
			gotW, gotO := schedule(a, s, cpm.units, w)
			wantW, wantO := refSchedule(a, s, cpm.units, w)
			name := fmt.Sprintf("seed %d, width %d, roots %v", seed, w, roots)
			if !slices.Equal(gotW, wantW) {
				t.Errorf("%s: waves %v, reference %v", name, gotW, wantW)
			}
			if !slices.Equal(gotO, wantO) {
				t.Errorf("%s: over width %v, reference %v", name, gotO, wantO)
			}
		}
	}
}

// refSchedule assigns the components of s to waves of at most w services
// by list scheduling as Graham states it, wave after wave from a heap of
// the ready units. It returns the wave of each
// component and whether it is a group larger than w. Edges between
// components are counted with multiplicity: a component is ready when
// every edge it has to other components points at a scheduled one.
func refSchedule(a *adj, s *sccs, units []cpmUnit, w int) ([]int32, []bool) {
	nc := s.count
	// Dependents of each component, one entry per edge.
	roff := make([]int32, nc+1)
	pending := make([]int32, nc)
	for c := int32(0); c < nc; c++ {
		for _, v := range s.members(c) {
			for p := a.off[v]; p < a.off[v+1]; p++ {
				if d := s.comp[a.dst[p]]; d != c && a.ok(p) {
					roff[d+1]++
					pending[c]++
				}
			}
		}
	}
	for i := int32(0); i < nc; i++ {
		roff[i+1] += roff[i]
	}
	fill := make([]int32, nc)
	copy(fill, roff[:nc])
	rsrc := make([]int32, roff[nc])
	// Priority: the longest chain of components that need this one.
	up := make([]int32, nc)
	for c := nc - 1; c >= 0; c-- {
		for _, v := range s.members(c) {
			for p := a.off[v]; p < a.off[v+1]; p++ {
				if d := s.comp[a.dst[p]]; d != c && a.ok(p) {
					rsrc[fill[d]] = c
					fill[d]++
					up[d] = max(up[d], up[c]+1)
				}
			}
		}
	}
	// Ready components by priority (up, larger first), then by first
	// member's name, as one key kept in the heap itself: comparisons then
	// touch no other memory.
	type ready struct {
		key uint64
		c   int32
	}
	item := func(c int32) ready {
		return ready{key: uint64(math.MaxInt32-up[c])<<32 | uint64(units[c].first), c: c}
	}
	h := &pq[ready]{less: func(x, y ready) bool { return x.key < y.key }}
	wave := make([]int32, nc)
	for c := int32(0); c < nc; c++ {
		switch {
		case units[c].level < 0: // an endpoint: not recovered
			wave[c] = -1
		case pending[c] == 0:
			h.items = append(h.items, item(c))
		}
	}
	h.init()
	over := make([]bool, nc)
	var chosen, deferred []int32
	for t := int32(0); h.Len() > 0; t++ {
		chosen, deferred = chosen[:0], deferred[:0]
		used := 0
		for h.Len() > 0 && used < w {
			c := h.pop().c
			sz := int(s.size(c))
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
			h.push(item(c))
		}
		for _, c := range chosen {
			wave[c] = t
		}
		for _, c := range chosen {
			for _, p := range rsrc[roff[c]:roff[c+1]] {
				if pending[p]--; pending[p] == 0 {
					h.push(item(p))
				}
			}
		}
	}
	return wave, over
}
