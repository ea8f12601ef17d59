package graph

import (
	"slices"
	"sync"
)

// ChoiceReason says why a recovery plan waits for one member of an
// alternative group rather than another (see [RecoveryOrder]).
type ChoiceReason string

// Reasons for choosing a member of an alternative group.
const (
	// ChoiceEarliestWave: no other member recovers as early. For a
	// service that recovers without a jumpstart, only members that do
	// too count.
	ChoiceEarliestWave ChoiceReason = "earliest-wave"
	// ChoiceName: other members recover in the same wave; this one comes
	// first by name.
	ChoiceName ChoiceReason = "name"
	// ChoiceInCycle: the member is in the service's own bootstrap cycle,
	// so the jumpstart brings both up together.
	ChoiceInCycle ChoiceReason = "in-cycle"
)

// Text returns the reason as a phrase ("earliest wave").
func (r ChoiceReason) Text() string {
	switch r {
	case ChoiceEarliestWave:
		return "earliest wave"
	case ChoiceName:
		return "earliest wave, then name"
	case ChoiceInCycle:
		return "in its own bootstrap cycle"
	}
	return string(r)
}

// plan is how recovery treats a kind view of a graph: every edge whose
// kind is in the set, except edges to endpoints (not recovered by anyone,
// so never waited for) and alternative edges, plus for each alternative
// group the one member chosen. Its edges are the bits of mask.
type plan struct {
	mask   []uint64
	groups []planGroup // active groups of the nodes in scope
	// comps are the plan's strongly connected components, for a plan of
	// the whole graph; nil otherwise.
	comps *sccs
}

// planGroup is an alternative group as a plan sees it: the members that
// count (usable kinds, services) and the one chosen.
type planGroup struct {
	owner  int32
	edges  []int32 // member edges, sorted
	chosen int32   // the edge waited for
	reason ChoiceReason
}

func (p *plan) set(e int32)              { p.mask[e>>6] |= 1 << (e & 63) }
func (p *plan) has(e int32) bool         { return p.mask[e>>6]&(1<<(e&63)) != 0 }
func bitHas(bits []uint64, i int32) bool { return bits[i>>6]&(1<<(i&63)) != 0 }

// graphFacts are what a graph knows about itself once: its endpoints and
// whether it has alternative edges.
type graphFacts struct {
	endpoints []uint64 // bit per node; nil when there are none
	hasAlt    bool
}

func (g *Graph) facts() *graphFacts {
	g.factsOnce.Do(func() {
		f := &graphFacts{}
		for v, in := range g.info {
			if in.Type == Endpoint {
				if f.endpoints == nil {
					f.endpoints = make([]uint64, (len(g.info)+63)/64)
				}
				f.endpoints[v>>6] |= 1 << (v & 63)
			}
		}
		f.hasAlt = slices.Contains(g.kinds, Alternative)
		g.factsC = f
	})
	return g.factsC
}

// isEndpoint reports whether node v is an endpoint.
func (f *graphFacts) isEndpoint(v int32) bool { return f.endpoints != nil && bitHas(f.endpoints, v) }

// planView returns the view recovery analyses use (see [RecoveryOrder]):
// for the kinds in ks, edges to endpoints left out and each alternative
// group resolved to one member. When neither applies it is the plain kind
// view. With roots, only the nodes they reach are resolved (the view must
// then not be used beyond them); without, the whole graph, once per
// graph and kind set.
func planView(g *Graph, ks KindSet, roots []int32) *adj {
	ks = ks.OrDefault()
	f := g.facts()
	alt := ks.Has(Alternative) && f.hasAlt
	if f.endpoints == nil && !alt {
		return newAdj(g, ks)
	}
	a := newAdj(g, ks)
	a.all = false
	a.key.plan = true
	var p *plan
	if roots == nil {
		p = g.memoPlan(ks)
	} else if p = g.cachedPlan(ks); p == nil {
		p = buildPlan(g, ks, roots)
	}
	a.mask, a.plan = p.mask, p
	if p.comps != nil && a.memo() == nil {
		a.remember(p.comps) // the plan found them: no second pass
	}
	return a
}

// memoPlan returns the plan of the whole graph for ks, building it once.
func (g *Graph) memoPlan(ks KindSet) *plan {
	if p := g.cachedPlan(ks); p != nil {
		return p
	}
	p := buildPlan(g, ks, nil)
	g.planMu.Lock()
	defer g.planMu.Unlock()
	if g.planMemo == nil {
		g.planMemo = map[KindSet]*plan{}
	}
	g.planMemo[ks] = p
	return p
}

func (g *Graph) cachedPlan(ks KindSet) *plan {
	g.planMu.Lock()
	defer g.planMu.Unlock()
	return g.planMemo[ks]
}

// planState holds a graph's memoized plans.
type planState struct {
	planMu   sync.Mutex
	planMemo map[KindSet]*plan

	factsOnce sync.Once
	factsC    *graphFacts
}
