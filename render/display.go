package render

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

// GroupBy names the node attribute a drawing groups services by.
type GroupBy uint8

// Grouping keys.
const (
	// GroupNone draws no clusters. A large drawing still collapses, by the
	// first of owner, tier and wave that gives a readable number of groups.
	GroupNone GroupBy = iota
	// GroupOwner groups services by owning team.
	GroupOwner
	// GroupTier groups services by tier.
	GroupTier
	// GroupWave groups services by recovery wave (needs DOTOptions.Order).
	GroupWave
)

func (g GroupBy) String() string {
	switch g {
	case GroupOwner:
		return "owner"
	case GroupTier:
		return "tier"
	case GroupWave:
		return "wave"
	}
	return "none"
}

// DefaultLarge is the number of drawn nodes above which a drawing
// simplifies itself (see [DOTOptions.Large]).
const DefaultLarge = 200

// change is how a node or edge differs between two releases.
type change uint8

const (
	same change = iota
	added
	removed
	kindChanged
)

// dnode is a node as drawn.
type dnode struct {
	id        string // DOT ID: the service name, or "group: <key>"
	label     string
	endpoint  bool
	info      graph.NodeInfo
	wave      int // -1 when unknown
	comp      int // index of the cyclic component, -1 when none
	focus     bool
	cluster   string // title of the cluster it is drawn in, "" for none
	members   int    // > 0 for a collapsed group: how many services
	cyclic    int    // collapsed group: members in cycles
	endpoints []string
	change    change
}

// dedge is an edge as drawn, between model node indices.
type dedge struct {
	from, to int
	kind     graph.Kind
	witness  bool // on a witness cycle (or a new cycle in a diff)
	newCycle bool // on the witness of a cycle new in a diff
	implied  bool // removed by transitive reduction
	via      int  // unmapped endpoints contracted on the way
	count    int  // edges a collapsed edge stands for; 0 or 1 for one
	idle     bool // an alternative the recovery plan does not wait for
	change   change
	oldKind  graph.Kind
}

// model is a drawing before it is written: nodes, edges and notes on what
// was simplified.
type model struct {
	title string
	nodes []dnode
	edges []dedge
	notes []string
	ranks bool                        // draw waves as ranks
	links func(service string) string // node URLs, nil for none
	diff  bool                        // a drawing of changes: the legend says what colours mean

	lastWave int // the last wave drawn as a rank, -1 for none (set while writing)
}

func (m *model) note(format string, args ...any) {
	m.notes = append(m.notes, fmt.Sprintf(format, args...))
}

// cycleInfo indexes components: the component of each member and the
// edges of each witness.
type cycleInfo struct {
	comp    map[string]int
	witness map[[2]string]bool
}

func newCycleInfo(comps []graph.Component, o *graph.Order) cycleInfo {
	ci := cycleInfo{comp: map[string]int{}, witness: map[[2]string]bool{}}
	for i, c := range sortedComponents(comps) {
		for _, m := range c.Members {
			ci.comp[m] = i
		}
		for _, e := range c.Witness.Edges {
			ci.witness[[2]string{e.From, e.To}] = true
		}
	}
	if len(comps) == 0 && o != nil { // fall back to the jumpstart groups
		i := 0
		for _, wv := range o.Waves {
			for _, g := range wv.Groups {
				for _, m := range g.Members {
					ci.comp[m] = i
				}
				i++
			}
		}
	}
	return ci
}

func (ci cycleInfo) of(name string) int {
	if c, ok := ci.comp[name]; ok {
		return c
	}
	return -1
}

// idleAlternatives returns the alternative edges a recovery plan does not
// wait for: members of a service's groups other than the one chosen (and
// chosen in no other group).
func idleAlternatives(o *graph.Order) map[[2]string]bool {
	idle := map[[2]string]bool{}
	if o == nil {
		return idle
	}
	chosen := map[[2]string]bool{}
	for _, c := range o.Alternatives {
		chosen[[2]string{c.Service, c.Chosen}] = true
	}
	for _, c := range o.Alternatives {
		for _, m := range c.AnyOf {
			if k := [2]string{c.Service, m}; !chosen[k] {
				idle[k] = true
			}
		}
	}
	return idle
}

// dropOrphanEndpoints leaves out unchanged endpoints that no drawn edge
// touches (only edges of kinds not drawn reach them) and says so.
func (m *model) dropOrphanEndpoints() {
	touched := make([]bool, len(m.nodes))
	for _, e := range m.edges {
		touched[e.from], touched[e.to] = true, true
	}
	n := 0
	for i := range m.nodes {
		if m.nodes[i].endpoint && !touched[i] && m.nodes[i].change == same {
			n++
		}
	}
	if n == 0 {
		return
	}
	i := -1
	m.keep(func(nd *dnode) bool {
		i++
		return !nd.endpoint || touched[i] || nd.change != same
	})
	if n == 1 {
		m.note("1 unmapped endpoint left out: only edges of kinds not drawn reach it")
	} else {
		m.note("%d unmapped endpoints left out: only edges of kinds not drawn reach them", n)
	}
}

// waveOf maps services to their wave index.
func waveOf(o *graph.Order) map[string]int {
	w := map[string]int{}
	if o == nil {
		return w
	}
	for _, wv := range o.Waves {
		for _, s := range wv.Services {
			w[s] = wv.Index
		}
		for _, g := range wv.Groups {
			for _, s := range g.Members {
				w[s] = wv.Index
			}
		}
	}
	return w
}

func newNode(name string, info graph.NodeInfo, waves map[string]int, ci cycleInfo, focus map[string]bool) dnode {
	w, ok := waves[name]
	if !ok {
		w = -1
	}
	return dnode{id: name, label: name, endpoint: info.Type == graph.Endpoint, info: info, wave: w, comp: ci.of(name), focus: focus[name]}
}

func setOf(names []string) map[string]bool {
	s := make(map[string]bool, len(names))
	for _, n := range names {
		s[n] = true
	}
	return s
}

// fromGraph builds the model of g as DOTOptions select it.
func fromGraph(g *graph.Graph, opt DOTOptions) *model {
	kinds := opt.Kinds
	if kinds == 0 {
		kinds = graph.AllKindsSet
	}
	ci := newCycleInfo(opt.Components, opt.Order)
	waves := waveOf(opt.Order)
	focus := setOf(opt.Focus)
	idle := idleAlternatives(opt.Order)
	m := &model{title: opt.Title, ranks: opt.Order != nil, links: opt.Links}
	idx := make([]int, g.Len())
	for v := range idx {
		idx[v] = -1
		name := g.Name(int32(v))
		if opt.CyclesOnly && ci.of(name) < 0 {
			continue
		}
		idx[v] = len(m.nodes)
		m.nodes = append(m.nodes, newNode(name, g.Info(int32(v)), waves, ci, focus))
	}
	for u := range idx {
		if idx[u] < 0 {
			continue
		}
		targets, ks := g.Out(int32(u))
		for i, t := range targets {
			if idx[t] < 0 || !kinds.Has(ks[i]) {
				continue
			}
			from, to := m.nodes[idx[u]], m.nodes[idx[t]]
			if opt.CyclesOnly && from.comp != to.comp {
				continue
			}
			key := [2]string{from.id, to.id}
			m.edges = append(m.edges, dedge{from: idx[u], to: idx[t], kind: ks[i], witness: ci.witness[key], idle: ks[i] == graph.Alternative && idle[key]})
		}
	}
	if opt.CyclesOnly {
		m.note("cycles only: %s", plural(len(m.nodes), "service", "services"))
	}
	m.dropOrphanEndpoints()
	return m
}

// threshold returns the node count above which the drawing simplifies
// itself, or -1 for never.
func (o DOTOptions) threshold() int {
	switch {
	case o.Large < 0:
		return -1
	case o.Large == 0:
		return DefaultLarge
	}
	return o.Large
}

// simplify applies the legibility steps DOTOptions ask for, or that the
// size of the drawing calls for.
func (m *model) simplify(opt DOTOptions) {
	limit := opt.threshold()
	large := limit >= 0 && len(m.nodes) > limit
	if opt.ContractEndpoints || large {
		m.contractEndpoints()
	}
	large = limit >= 0 && len(m.nodes) > limit
	switch {
	case large:
		m.collapse(opt.GroupBy, limit)
	case opt.GroupBy != GroupNone:
		for i := range m.nodes {
			if k := groupKey(&m.nodes[i], opt.GroupBy); k != "" {
				m.nodes[i].cluster = opt.GroupBy.String() + " " + k
			}
		}
	}
	if opt.Reduce || large {
		m.reduce(opt.ShowImplied)
	}
}

// contractEndpoints removes endpoint nodes. A service that needs an
// endpoint gets an edge to every service the endpoint needs (kind: the
// weakest on the way) and a count of the endpoints it needs, shown in its
// label, so that nothing is silently dropped.
func (m *model) contractEndpoints() {
	n := 0
	for _, nd := range m.nodes {
		if nd.endpoint {
			n++
		}
	}
	if n == 0 {
		return
	}
	out := m.adjacency()
	type key [2]int
	edges := map[key]dedge{}
	var order []key
	put := func(e dedge) {
		k := key{e.from, e.to}
		old, ok := edges[k]
		switch {
		case !ok:
			order = append(order, k)
			edges[k] = e
		case old.via > 0 && e.via == 0, old.via > 0 && e.kind.Outranks(old.kind):
			edges[k] = e
		}
	}
	for u := range m.nodes {
		if m.nodes[u].endpoint {
			continue
		}
		seen := map[int]bool{}
		type item struct {
			v    int
			kind graph.Kind
			hops int
		}
		var stack []item
		for _, ei := range out[u] {
			e := m.edges[ei]
			if !m.nodes[e.to].endpoint {
				put(e)
				continue
			}
			if !seen[e.to] {
				seen[e.to] = true
				stack = append(stack, item{e.to, e.kind, 1})
			}
		}
		for len(stack) > 0 {
			it := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, ei := range out[it.v] {
				e := m.edges[ei]
				k := weaker(it.kind, e.kind)
				if !m.nodes[e.to].endpoint {
					put(dedge{from: u, to: e.to, kind: k, via: it.hops, witness: false})
					continue
				}
				if !seen[e.to] {
					seen[e.to] = true
					stack = append(stack, item{e.to, k, it.hops + 1})
				}
			}
		}
		for v := range seen {
			m.nodes[u].endpoints = append(m.nodes[u].endpoints, m.nodes[v].id)
		}
		slices.Sort(m.nodes[u].endpoints)
	}
	kept := make([]dedge, 0, len(order))
	for _, k := range order {
		kept = append(kept, edges[k])
	}
	m.edges = kept
	m.keep(func(nd *dnode) bool { return !nd.endpoint })
	if n == 1 {
		m.note("1 unmapped endpoint folded into the services that need it")
	} else {
		m.note("%d unmapped endpoints folded into the services that need them", n)
	}
}

// weaker returns the kind of lower precedence.
func weaker(a, b graph.Kind) graph.Kind {
	if a.Outranks(b) {
		return b
	}
	return a
}

// adjacency returns the indices of each node's out-edges.
func (m *model) adjacency() [][]int {
	out := make([][]int, len(m.nodes))
	for i, e := range m.edges {
		out[e.from] = append(out[e.from], i)
	}
	return out
}

// keep drops the nodes for which f is false, and their edges.
func (m *model) keep(f func(*dnode) bool) {
	remap := make([]int, len(m.nodes))
	var nodes []dnode
	for i := range m.nodes {
		remap[i] = -1
		if f(&m.nodes[i]) {
			remap[i] = len(nodes)
			nodes = append(nodes, m.nodes[i])
		}
	}
	edges := m.edges[:0]
	for _, e := range m.edges {
		if remap[e.from] >= 0 && remap[e.to] >= 0 {
			e.from, e.to = remap[e.from], remap[e.to]
			edges = append(edges, e)
		}
	}
	m.nodes, m.edges = nodes, edges
}

// groupKey returns a node's value of the grouping attribute, "" if none.
func groupKey(nd *dnode, by GroupBy) string {
	switch by {
	case GroupOwner:
		return nd.info.Owner
	case GroupTier:
		return nd.info.Tier
	case GroupWave:
		if nd.wave >= 0 {
			return strconv.Itoa(nd.wave)
		}
	}
	return ""
}

// readableGroups is the number of groups a collapsed drawing prefers to
// stay under: a few dozen boxes still read as a map, two hundred side by
// side in a rank do not.
const readableGroups = 50

// pickGroup chooses the grouping for a large drawing: by itself if given,
// else the first of owner, tier and wave that most nodes have and that
// gives between 2 and readableGroups groups, or failing that between 2
// and limit.
func (m *model) pickGroup(by GroupBy, limit int) GroupBy {
	if by != GroupNone {
		return by
	}
	for _, most := range []int{min(readableGroups, limit), limit} {
		for _, cand := range []GroupBy{GroupOwner, GroupTier, GroupWave} {
			keys, with := map[string]bool{}, 0
			for i := range m.nodes {
				if k := groupKey(&m.nodes[i], cand); k != "" {
					keys[k] = true
					with++
				}
			}
			if 2*with >= len(m.nodes) && len(keys) >= 2 && len(keys) <= most {
				return cand
			}
		}
	}
	return GroupNone
}

// maxKnot is the largest bootstrap cycle a collapsed drawing shows member
// by member; a larger one becomes a single node of its own.
const maxKnot = 12

// collapse replaces the services of each group by one node and merges the
// edges between groups, counting them. Members of small bootstrap cycles,
// focused and changed services stay nodes of their own when there are few
// enough of them; a large bootstrap cycle becomes one node.
func (m *model) collapse(by GroupBy, limit int) {
	by = m.pickGroup(by, limit)
	if by == GroupNone {
		m.note("%s: no owner, tier or wave gives a readable grouping", plural(len(m.nodes), "service", "services"))
		return
	}
	compSize := map[int]int{}
	for _, nd := range m.nodes {
		if nd.comp >= 0 {
			compSize[nd.comp]++
		}
	}
	isSpecial := func(nd *dnode) bool {
		return nd.focus || nd.change != same || (nd.comp >= 0 && compSize[nd.comp] <= maxKnot)
	}
	special := 0
	for i := range m.nodes {
		if isSpecial(&m.nodes[i]) {
			special++
		}
	}
	keepSpecial := special <= max(limit/4, 1)
	total := len(m.nodes)

	group := make([]int, len(m.nodes)) // new node index of each old node
	var nodes []dnode
	byKey := map[string]int{}
	knots := 0
	for i := range m.nodes {
		nd := m.nodes[i]
		if keepSpecial && isSpecial(&nd) {
			group[i] = len(nodes)
			nodes = append(nodes, nd)
			continue
		}
		title, w, comp := "", -1, -1
		if nd.comp >= 0 && compSize[nd.comp] > maxKnot {
			title, w, comp = "bootstrap cycle "+strconv.Itoa(nd.comp+1), nd.wave, nd.comp
		} else {
			k := groupKey(&nd, by)
			title = by.String() + " " + k
			if k == "" {
				title = "no " + by.String()
			}
			if by == GroupWave {
				w = nd.wave
			}
		}
		gi, ok := byKey[title]
		if !ok {
			gi = len(nodes)
			byKey[title] = gi
			nodes = append(nodes, dnode{id: "group: " + title, label: title, wave: w, comp: comp})
			if comp >= 0 {
				knots++
			}
		}
		g := &nodes[gi]
		g.members++
		if nd.comp >= 0 {
			g.cyclic++
		}
		g.focus = g.focus || nd.focus
		group[i] = gi
	}
	type key [2]int
	merged := map[key]int{}
	var edges []dedge
	for _, e := range m.edges {
		u, v := group[e.from], group[e.to]
		if u == v && nodes[u].members > 0 {
			continue // inside a group
		}
		if nodes[u].members == 0 && nodes[v].members == 0 {
			e.from, e.to = u, v
			edges = append(edges, e) // between two services kept as they are
			continue
		}
		k := key{u, v}
		if i, ok := merged[k]; ok {
			me := &edges[i]
			me.count++
			if e.kind.Outranks(me.kind) {
				me.kind = e.kind
			}
			if me.change == same {
				me.change = e.change
			}
			continue
		}
		merged[k] = len(edges)
		edges = append(edges, dedge{from: u, to: v, kind: e.kind, count: 1, change: e.change})
	}
	m.nodes, m.edges = nodes, edges
	m.ranks = m.ranks && by == GroupWave
	dropped := m.strongestLinks(groupLinks)
	msg := fmt.Sprintf("%d services collapsed into %s by %s", total, plural(len(byKey)-knots, "group", "groups"), by)
	if knots > 0 {
		msg += fmt.Sprintf(" and %s of more than %d services", plural(knots, "bootstrap cycle", "bootstrap cycles"), maxKnot)
	}
	if keepSpecial && special > 0 {
		msg += fmt.Sprintf("; %d in small cycles, in focus or changed drawn on their own", special)
	}
	m.note("%s", msg)
	if dropped > 0 {
		m.note("%s not drawn: only the %d strongest of each node are", plural(dropped, "weaker link between groups", "weaker links between groups"), groupLinks)
	}
}

// groupLinks is how many collapsed edges each node of a collapsed drawing
// keeps: with arbitrary ownership every team needs every other, and a
// complete graph of groups is as unreadable as the services were.
const groupLinks = 3

// strongestLinks keeps, for each node, only its k collapsed out-edges that
// stand for the most edges (ties: stronger kind, then target ID); edges
// between two uncollapsed services are all kept. It returns how many
// collapsed edges it dropped.
func (m *model) strongestLinks(k int) int {
	byFrom := map[int][]int{}
	for i, e := range m.edges {
		if e.count > 0 {
			byFrom[e.from] = append(byFrom[e.from], i)
		}
	}
	drop := map[int]bool{}
	for _, idx := range byFrom {
		if len(idx) <= k {
			continue
		}
		slices.SortFunc(idx, func(a, b int) int {
			ea, eb := m.edges[a], m.edges[b]
			if c := cmp.Compare(eb.count, ea.count); c != 0 {
				return c
			}
			if ea.kind != eb.kind {
				if ea.kind.Outranks(eb.kind) {
					return -1
				}
				return 1
			}
			return cmp.Compare(m.nodes[ea.to].id, m.nodes[eb.to].id)
		})
		for _, i := range idx[k:] {
			if m.edges[i].change == same {
				drop[i] = true
			}
		}
	}
	if len(drop) == 0 {
		return 0
	}
	kept := m.edges[:0]
	for i, e := range m.edges {
		if !drop[i] {
			kept = append(kept, e)
		}
	}
	m.edges = kept
	return len(drop)
}

// reduce applies [graph.TransitiveReduction] to the drawing: an edge
// between two components is implied when another chain connects them.
// Edges inside a component (cycle edges) and changed edges are never
// implied. Implied edges are drawn faintly when show is true and left out
// otherwise.
func (m *model) reduce(show bool) {
	if len(m.edges) == 0 {
		return
	}
	b := graph.NewBuilder(len(m.nodes), len(m.edges))
	for i := range m.nodes {
		b.AddNode(m.nodes[i].id, graph.NodeInfo{})
	}
	for _, e := range m.edges {
		b.AddEdge(m.nodes[e.from].id, m.nodes[e.to].id, e.kind)
	}
	r := graph.TransitiveReduction(b.Build(), graph.AllKindsSet)
	id := func(i int) int32 {
		v, _ := r.ID(m.nodes[i].id)
		return v
	}
	n := 0
	kept := m.edges[:0]
	for _, e := range m.edges {
		if _, ok := r.Edge(id(e.from), id(e.to)); !ok && e.change == same {
			n++
			if !show {
				continue
			}
			e.implied = true
		}
		kept = append(kept, e)
	}
	m.edges = kept
	if n == 0 {
		return
	}
	if show {
		m.note("%s drawn faintly (implied by longer chains)", plural(n, "edge", "edges"))
	} else {
		m.note("%s implied by longer chains not drawn (transitive reduction)", plural(n, "edge", "edges"))
	}
}

// sorted returns the model's node order by ID and its edges sorted by
// (from ID, to ID), for writing.
func (m *model) sorted() (nodes []int, edges []dedge) {
	nodes = make([]int, len(m.nodes))
	for i := range nodes {
		nodes[i] = i
	}
	slices.SortFunc(nodes, func(a, b int) int { return cmp.Compare(m.nodes[a].id, m.nodes[b].id) })
	edges = slices.Clone(m.edges)
	slices.SortStableFunc(edges, func(a, b dedge) int {
		return cmp.Or(cmp.Compare(m.nodes[a.from].id, m.nodes[b.from].id), cmp.Compare(m.nodes[a.to].id, m.nodes[b.to].id))
	})
	return nodes, edges
}

// tooltip describes a node for SVG tooltips.
func (nd *dnode) tooltip() string {
	var parts []string
	if nd.members > 0 {
		parts = append(parts, plural(nd.members, "service", "services"))
		if nd.cyclic > 0 {
			parts = append(parts, strconv.Itoa(nd.cyclic)+" in cycles")
		}
		return strings.Join(parts, "\n")
	}
	parts = append(parts, nd.id)
	if nd.endpoint {
		parts = append(parts, "unmapped endpoint")
	}
	if nd.info.Owner != "" {
		parts = append(parts, "owner: "+nd.info.Owner)
	}
	if nd.info.Tier != "" {
		parts = append(parts, "tier: "+nd.info.Tier)
	}
	if nd.wave >= 0 {
		parts = append(parts, "wave: "+strconv.Itoa(nd.wave))
	}
	if nd.info.RecoveryTime > 0 {
		parts = append(parts, "recovers in: "+FormatDuration(nd.info.RecoveryTime))
	}
	if len(nd.endpoints) > 0 {
		shown := nd.endpoints
		if len(shown) > 10 {
			shown = shown[:10]
		}
		parts = append(parts, "needs unmapped: "+strings.Join(shown, ", "))
		if len(nd.endpoints) > 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(nd.endpoints)-10))
		}
	}
	return strings.Join(parts, "\n")
}
