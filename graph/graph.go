package graph

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// NodeType says whether a node is a catalog service or an endpoint no
// catalog entry claims (kept and shown, never dropped).
type NodeType uint8

// Node types.
const (
	Service NodeType = iota
	Endpoint
)

func (t NodeType) String() string {
	if t == Endpoint {
		return "endpoint"
	}
	return "service"
}

// MarshalText implements encoding.TextMarshaler.
func (t NodeType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// NodeInfo is what the graph knows about a node besides its edges.
type NodeInfo struct {
	Type  NodeType `json:"type"`
	Owner string   `json:"owner,omitempty"`
	Tier  string   `json:"tier,omitempty"`
	// RecoveryTime is how long the node takes to recover, measured by a
	// run or estimated in the catalog; 0 when unknown.
	RecoveryTime time.Duration `json:"recoveryTime,omitempty"`
}

// Evidence says how an edge was learned: which run, which process, which
// endpoint or DNS name.
type Evidence struct {
	Source   string `json:"source"` // run record ID, file:line of an edge list, ...
	Scenario string `json:"scenario,omitempty"`
	Process  string `json:"process,omitempty"`  // "comm[pid]"
	Endpoint string `json:"endpoint,omitempty"` // "10.99.0.20:8080/tcp", "dns:x", "unix:/p"
	Detail   string `json:"detail,omitempty"`   // verdict, count, classification
	// Origin says where the record cited came from; nil for evidence
	// that is not a record's, or a record of unknown origin.
	Origin *Origin `json:"origin,omitempty"`
}

// Origin is the provenance of a record cited as evidence: the input it
// was read from, where it was made and who signed it. Evidence of one
// record shares one Origin.
type Origin struct {
	File   string `json:"file,omitempty"`   // the input, "out/web+web.run.json" or "ci.tar.gz:web+web.run.json"
	Host   string `json:"host,omitempty"`   // the machine that made it
	Job    string `json:"job,omitempty"`    // the batch job or CI run, "slurm:4242_3"
	Shard  string `json:"shard,omitempty"`  // "I/N"
	Signer string `json:"signer,omitempty"` // ID of the key whose signature ingest verified
}

// Graph is an immutable recovery graph in compact form: nodes are dense
// int32 IDs in name order and edges are kept in compressed sparse rows,
// out-edges sorted by target. An edge A -> B means "A needs B healthy
// before A can recover". Build one with a [Builder].
//
// Graph is safe for concurrent use.
type Graph struct {
	names []string
	info  []NodeInfo // nil when no node has any: edge lists carry none

	outOff []int32 // len n+1; out-edges of v are outDst[outOff[v]:outOff[v+1]]
	outDst []int32
	kinds  []Kind // parallel to outDst

	evidence map[int32][]Evidence // by edge index, only edges that have any

	alt *altGroups // explicit alternative groups; nil when none

	indexOnce sync.Once
	index     map[string]int32

	inOnce sync.Once
	inOff  []int32
	inSrc  []int32
	inEdge []int32 // edge index of each in-edge

	// Strongly connected components, waves and closure sizes by kind set,
	// computed once: every analysis over the same kinds starts from them.
	memoMu sync.Mutex
	memos  map[viewKey]*memo

	planState // alternatives resolved, per kind set
}

// Len returns the number of nodes.
func (g *Graph) Len() int { return len(g.names) }

// EdgeCount returns the number of edges.
func (g *Graph) EdgeCount() int { return len(g.outDst) }

// Name returns the name of node v.
func (g *Graph) Name(v int32) string { return g.names[v] }

// Names returns all node names in ID order, which is name order. The slice
// must not be modified.
func (g *Graph) Names() []string { return g.names }

// Info returns what is known about node v.
func (g *Graph) Info(v int32) NodeInfo {
	if g.info == nil {
		return NodeInfo{}
	}
	return g.info[v]
}

// ID returns the node ID of name.
func (g *Graph) ID(name string) (int32, bool) {
	g.indexOnce.Do(func() {
		g.index = make(map[string]int32, len(g.names))
		for i, n := range g.names {
			g.index[n] = int32(i)
		}
	})
	id, ok := g.index[name]
	return id, ok
}

// Out returns the targets of v's out-edges and their kinds, sorted by
// target. The slices must not be modified.
func (g *Graph) Out(v int32) (targets []int32, kinds []Kind) {
	lo, hi := g.outOff[v], g.outOff[v+1]
	return g.outDst[lo:hi], g.kinds[lo:hi]
}

// OutRange returns the edge indices [lo, hi) of v's out-edges.
func (g *Graph) OutRange(v int32) (lo, hi int32) { return g.outOff[v], g.outOff[v+1] }

// EdgeTarget returns the target and kind of edge e.
func (g *Graph) EdgeTarget(e int32) (int32, Kind) { return g.outDst[e], g.kinds[e] }

// In returns the sources of v's in-edges and their edge indices, sorted by
// source. The reverse index is built on first use.
func (g *Graph) In(v int32) (sources []int32, edges []int32) {
	g.buildIn()
	lo, hi := g.inOff[v], g.inOff[v+1]
	return g.inSrc[lo:hi], g.inEdge[lo:hi]
}

func (g *Graph) buildIn() {
	g.inOnce.Do(func() {
		n := len(g.names)
		off := make([]int32, n+1)
		for _, d := range g.outDst {
			off[d+1]++
		}
		for i := 0; i < n; i++ {
			off[i+1] += off[i]
		}
		pos := slices.Clone(off[:n])
		src := make([]int32, len(g.outDst))
		edge := make([]int32, len(g.outDst))
		for u := 0; u < n; u++ {
			for e := g.outOff[u]; e < g.outOff[u+1]; e++ {
				d := g.outDst[e]
				src[pos[d]], edge[pos[d]] = int32(u), e
				pos[d]++
			}
		}
		g.inOff, g.inSrc, g.inEdge = off, src, edge
	})
}

// Edge returns the index of edge u -> v.
func (g *Graph) Edge(u, v int32) (int32, bool) {
	lo, hi := g.outOff[u], g.outOff[u+1]
	i, ok := slices.BinarySearch(g.outDst[lo:hi], v)
	return lo + int32(i), ok
}

// Evidence returns the evidence recorded for edge e, if any.
func (g *Graph) Evidence(e int32) []Evidence { return g.evidence[e] }

// EdgeOf returns edge e as an [Edge] value with names, kind, evidence and,
// for an alternative edge, its groups.
func (g *Graph) EdgeOf(u int32, e int32) Edge {
	ed := Edge{From: g.names[u], To: g.names[g.outDst[e]], Kind: g.kinds[e], Evidence: g.evidence[e]}
	if ed.Kind == Alternative {
		ed.AnyOf = g.AnyOf(u, e)
	}
	return ed
}

// Builder collects nodes and edges and builds a [Graph]. The zero value is
// ready to use. Adding the same edge twice keeps the kind of higher
// precedence (see [Kind]) and the evidence of both.
type Builder struct {
	ids   map[string]int32
	names []string
	info  []NodeInfo // nil until a node has some
	src   []int32
	dst   []int32
	kind  []Kind
	ev    map[int32][]Evidence // by position in src/dst
	alt   [][]int32            // explicit groups: source, then targets
}

// NewBuilder returns a builder with room for about nodes nodes and edges edges.
func NewBuilder(nodes, edges int) *Builder {
	return &Builder{
		ids:   make(map[string]int32, nodes),
		names: make([]string, 0, nodes),
		src:   make([]int32, 0, edges),
		dst:   make([]int32, 0, edges),
		kind:  make([]Kind, 0, edges),
	}
}

func (b *Builder) node(name string) int32 {
	if b.ids == nil {
		b.ids = map[string]int32{}
	}
	if id, ok := b.ids[name]; ok {
		return id
	}
	id := int32(len(b.names))
	b.ids[name] = id
	b.names = append(b.names, name)
	if b.info != nil {
		b.info = append(b.info, NodeInfo{})
	}
	return id
}

// AddNode adds a node, or updates its info if it exists. Zero fields of
// info do not overwrite known values.
func (b *Builder) AddNode(name string, info NodeInfo) {
	id := b.node(name)
	if b.info == nil {
		if info == (NodeInfo{}) {
			return
		}
		b.info = make([]NodeInfo, len(b.names), cap(b.names))
	}
	cur := &b.info[id]
	cur.Type = info.Type
	if info.Owner != "" {
		cur.Owner = info.Owner
	}
	if info.Tier != "" {
		cur.Tier = info.Tier
	}
	if info.RecoveryTime != 0 {
		cur.RecoveryTime = info.RecoveryTime
	}
}

// AddEdge adds the edge from -> to, creating missing nodes as services.
// It panics if kind is not a valid [Kind]: that is a programming error.
func (b *Builder) AddEdge(from, to string, kind Kind, evidence ...Evidence) {
	if !kind.Valid() {
		panic(fmt.Sprintf("graph: AddEdge(%q, %q) with invalid kind %d", from, to, kind))
	}
	u, v := b.node(from), b.node(to)
	if len(evidence) > 0 {
		if b.ev == nil {
			b.ev = map[int32][]Evidence{}
		}
		b.ev[int32(len(b.src))] = append(b.ev[int32(len(b.src))], evidence...)
	}
	b.src = append(b.src, u)
	b.dst = append(b.dst, v)
	b.kind = append(b.kind, kind)
}

// AddGroup records that from needs any one of to: an explicit alternative
// group. It adds each edge from -> to[i] with kind [Alternative] (which a
// kind of higher precedence added for the same edge overrides, see
// [Kind]); add evidence with [Builder.AddEdge]. Adding the same group twice
// keeps one.
func (b *Builder) AddGroup(from string, to ...string) {
	grp := []int32{b.node(from)}
	for _, t := range to {
		b.AddEdge(from, t, Alternative)
		grp = append(grp, b.node(t))
	}
	b.alt = append(b.alt, grp)
}

// NodeCount returns the number of nodes added so far.
func (b *Builder) NodeCount() int { return len(b.names) }

// Build returns the graph. Node IDs are assigned in name order. The
// builder must not be used afterwards.
func (b *Builder) Build() *Graph {
	n := len(b.names)
	// Renumber nodes in name order.
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	sort.Slice(order, func(i, j int) bool { return b.names[order[i]] < b.names[order[j]] })
	newID := make([]int32, n)
	names := make([]string, n)
	var info []NodeInfo
	if b.info != nil {
		info = make([]NodeInfo, n)
	}
	for nid, old := range order {
		newID[old] = int32(nid)
		names[nid] = b.names[old]
		if info != nil {
			info[nid] = b.info[old]
		}
	}

	// Counting sort of edges by source.
	off := make([]int32, n+1)
	for _, s := range b.src {
		off[newID[s]+1]++
	}
	for i := 0; i < n; i++ {
		off[i+1] += off[i]
	}
	pos := slices.Clone(off[:n])
	m := len(b.src)
	dst := make([]int32, m)
	kinds := make([]Kind, m)
	from := make([]int32, m) // original position of each placed edge
	for i := 0; i < m; i++ {
		s := newID[b.src[i]]
		p := pos[s]
		dst[p], kinds[p], from[p] = newID[b.dst[i]], b.kind[i], int32(i)
		pos[s]++
	}

	// Sort each row by target and merge duplicates in place.
	var ev map[int32][]Evidence
	w := int32(0)
	newOff := make([]int32, n+1)
	for u := 0; u < n; u++ {
		lo, hi := off[u], off[u+1]
		row := rowSorter{dst[lo:hi], kinds[lo:hi], from[lo:hi]}
		if !sort.IsSorted(row) {
			sort.Stable(row)
		}
		newOff[u] = w
		for i := lo; i < hi; i++ {
			if i > lo && dst[i] == dst[w-1] && w > newOff[u] {
				if kinds[i].Outranks(kinds[w-1]) {
					kinds[w-1] = kinds[i]
				}
			} else {
				dst[w], kinds[w] = dst[i], kinds[i]
				w++
			}
			if e, ok := b.ev[from[i]]; ok {
				if ev == nil {
					ev = map[int32][]Evidence{}
				}
				ev[w-1] = append(ev[w-1], e...)
			}
		}
	}
	newOff[n] = w
	g := &Graph{
		names:    names,
		info:     info,
		outOff:   newOff,
		outDst:   slices.Clip(dst[:w]),
		kinds:    slices.Clip(kinds[:w]),
		evidence: ev,
	}
	if len(b.alt) > 0 {
		groups := make([][]int32, 0, len(b.alt))
		for _, grp := range b.alt {
			u := newID[grp[0]]
			var es []int32
			for _, t := range grp[1:] {
				if e, ok := g.Edge(u, newID[t]); ok { // always: AddGroup added it
					es = append(es, e)
				}
			}
			groups = append(groups, es)
		}
		g.alt = packGroups(groups, g.source)
	}
	*b = Builder{}
	return g
}

type rowSorter struct {
	dst   []int32
	kinds []Kind
	from  []int32
}

func (r rowSorter) Len() int           { return len(r.dst) }
func (r rowSorter) Less(i, j int) bool { return r.dst[i] < r.dst[j] }
func (r rowSorter) Swap(i, j int) {
	r.dst[i], r.dst[j] = r.dst[j], r.dst[i]
	r.kinds[i], r.kinds[j] = r.kinds[j], r.kinds[i]
	r.from[i], r.from[j] = r.from[j], r.from[i]
}
