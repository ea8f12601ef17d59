package graph

import (
	"sync"

	gonum "gonum.org/v1/gonum/graph"
)

// Directed is a read-only view of a [Graph] as a gonum graph.Directed,
// over the edges of some kinds, so gonum's algorithms (topo, path, flow,
// network, encoding/dot) run on the compact arrays without copying them
// into maps. Node IDs are the graph's int32 IDs, which are in name order,
// so ID order is name order (topo.SortStabilized with a nil order is
// deterministic by name). Nodes implement DOTID with the service name.
//
// Iterators walk the compressed rows in place; node values are allocated
// once, on first use, one small struct per node.
type Directed struct {
	g     *Graph
	kinds KindSet
	all   bool // every edge of g has a kind in kinds

	once  sync.Once
	nodes []gonumNode
}

var _ gonum.Directed = (*Directed)(nil)

// Directed returns g as a gonum graph.Directed over the kinds in kinds
// (DefaultKinds when 0).
func (g *Graph) Directed(kinds KindSet) *Directed {
	kinds = kinds.OrDefault()
	all := true
	for _, k := range g.kinds {
		if !kinds.Has(k) {
			all = false
			break
		}
	}
	return &Directed{g: g, kinds: kinds, all: all}
}

// gonumNode is a node of a [Directed] view.
type gonumNode struct {
	id   int64
	name string
}

func (n *gonumNode) ID() int64      { return n.id }
func (n *gonumNode) DOTID() string  { return n.name }
func (n *gonumNode) String() string { return n.name }

func (d *Directed) nodeAt(v int32) gonum.Node {
	d.once.Do(func() {
		d.nodes = make([]gonumNode, len(d.g.names))
		for i, name := range d.g.names {
			d.nodes[i] = gonumNode{id: int64(i), name: name}
		}
	})
	return &d.nodes[v]
}

func (d *Directed) valid(id int64) bool { return id >= 0 && id < int64(len(d.g.names)) }

// Name returns the service name of the node with ID id.
func (d *Directed) Name(id int64) string { return d.g.names[id] }

// Node returns the node with ID id, or nil.
func (d *Directed) Node(id int64) gonum.Node {
	if !d.valid(id) {
		return nil
	}
	return d.nodeAt(int32(id))
}

// Nodes returns every node in ID (name) order.
func (d *Directed) Nodes() gonum.Nodes {
	if len(d.g.names) == 0 {
		return gonum.Empty
	}
	return &nodeRange{d: d, cur: -1, n: int32(len(d.g.names))}
}

// From returns the nodes id needs, in ID order.
func (d *Directed) From(id int64) gonum.Nodes {
	if !d.valid(id) {
		return gonum.Empty
	}
	lo, hi := d.g.outOff[id], d.g.outOff[id+1]
	return d.list(d.g.outDst[lo:hi], nil, d.g.kinds[lo:hi])
}

// To returns the nodes that need id, in ID order.
func (d *Directed) To(id int64) gonum.Nodes {
	if !d.valid(id) {
		return gonum.Empty
	}
	src, edges := d.g.In(int32(id))
	return d.list(src, edges, nil)
}

func (d *Directed) list(ids, edges []int32, kinds []Kind) gonum.Nodes {
	it := &nodeList{d: d, ids: ids, edges: edges, kinds: kinds, pos: -1}
	if d.all {
		it.left = len(ids)
	} else {
		for i := range ids {
			if it.keep(i) {
				it.left++
			}
		}
	}
	if it.left == 0 {
		return gonum.Empty
	}
	it.total = it.left
	return it
}

// HasEdgeFromTo reports whether uid needs vid.
func (d *Directed) HasEdgeFromTo(uid, vid int64) bool {
	if !d.valid(uid) || !d.valid(vid) {
		return false
	}
	e, ok := d.g.Edge(int32(uid), int32(vid))
	return ok && d.kinds.Has(d.g.kinds[e])
}

// HasEdgeBetween reports whether either node needs the other.
func (d *Directed) HasEdgeBetween(xid, yid int64) bool {
	return d.HasEdgeFromTo(xid, yid) || d.HasEdgeFromTo(yid, xid)
}

// Edge returns the edge from uid to vid, or nil. The edge is a
// [GonumEdge].
func (d *Directed) Edge(uid, vid int64) gonum.Edge {
	if !d.HasEdgeFromTo(uid, vid) {
		return nil
	}
	e, _ := d.g.Edge(int32(uid), int32(vid))
	return GonumEdge{F: d.nodeAt(int32(uid)), T: d.nodeAt(int32(vid)), Kind: d.g.kinds[e]}
}

// GonumEdge is an edge of a [Directed] view, with its kind.
type GonumEdge struct {
	F, T gonum.Node
	Kind Kind
}

// From returns the service that needs To.
func (e GonumEdge) From() gonum.Node { return e.F }

// To returns the service From needs.
func (e GonumEdge) To() gonum.Node { return e.T }

// ReversedEdge returns the edge with its ends swapped.
func (e GonumEdge) ReversedEdge() gonum.Edge { return GonumEdge{F: e.T, T: e.F, Kind: e.Kind} }

// nodeRange iterates over node IDs 0..n-1.
type nodeRange struct {
	d   *Directed
	cur int32
	n   int32
}

func (it *nodeRange) Next() bool {
	if it.cur+1 >= it.n {
		it.cur = it.n
		return false
	}
	it.cur++
	return true
}
func (it *nodeRange) Len() int { return int(max(0, it.n-it.cur-1)) }
func (it *nodeRange) Reset()   { it.cur = -1 }
func (it *nodeRange) Node() gonum.Node {
	if it.cur < 0 || it.cur >= it.n {
		return nil
	}
	return it.d.nodeAt(it.cur)
}

// nodeList iterates over a compressed row, skipping edges of other kinds.
type nodeList struct {
	d     *Directed
	ids   []int32
	edges []int32 // graph edge of each entry (in-edges), or nil
	kinds []Kind  // kind of each entry (out-edges), or nil
	pos   int
	left  int
	total int
}

func (it *nodeList) keep(i int) bool {
	if it.d.all {
		return true
	}
	if it.kinds != nil {
		return it.d.kinds.Has(it.kinds[i])
	}
	return it.d.kinds.Has(it.d.g.kinds[it.edges[i]])
}

func (it *nodeList) Next() bool {
	for it.pos+1 < len(it.ids) {
		it.pos++
		if it.keep(it.pos) {
			it.left--
			return true
		}
	}
	it.pos = len(it.ids)
	return false
}
func (it *nodeList) Len() int { return it.left }
func (it *nodeList) Reset()   { it.pos, it.left = -1, it.total }
func (it *nodeList) Node() gonum.Node {
	if it.pos < 0 || it.pos >= len(it.ids) {
		return nil
	}
	return it.d.nodeAt(it.ids[it.pos])
}
