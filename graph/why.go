package graph

import (
	"slices"
)

// DefaultWhyLimit is how many paths [Why] returns with All when Limit is 0.
const DefaultWhyLimit = 10

// WhyOptions configures [Why].
type WhyOptions struct {
	// Kinds selects the edges to follow; 0 means DefaultKinds.
	Kinds KindSet
	// All asks for alternatives: up to Limit loopless paths, shortest first.
	All bool
	// Limit bounds the paths returned with All; 0 means DefaultWhyLimit.
	Limit int
}

// Why explains why from needs to: a shortest chain of needs from from to
// to, every edge with its kind and evidence. With All it returns up to
// Limit loopless paths in order of length (ties by the names along the
// path), found with Yen's k-shortest-paths algorithm on BFS distances over
// the services that lie between the two. When from and to are the same
// service the paths are the cycles through it.
//
// It returns an [UnknownServiceError] for a name the graph does not have
// and a [NoPathError] (errors.Is [ErrNoPath]) when from does not need to.
// One path costs a BFS, O(V+E); All costs O(Limit·L·(V'+E')) where L is
// the path length and V', E' the part of the graph between the two.
func Why(g *Graph, from, to string, opts WhyOptions) ([]Path, error) {
	ids, err := lookup(g, []string{from, to})
	if err != nil {
		return nil, err
	}
	a := newAdj(g, opts.Kinds)
	w := &whySearch{a: a, src: ids[0], dst: ids[1]}
	w.init()
	first := w.bfs(w.src)
	if first == nil {
		return nil, &NoPathError{From: from, To: to, Kinds: opts.Kinds.OrDefault()}
	}
	paths := [][]int32{first}
	if opts.All {
		paths = w.yen(first, orDefault(opts.Limit, DefaultWhyLimit))
	}
	out := make([]Path, len(paths))
	for i, p := range paths {
		out[i] = w.path(p)
	}
	return out, nil
}

// whySearch holds the state of one Why query. Paths are lists of adj
// positions (edges).
type whySearch struct {
	a        *adj
	src, dst int32
	stamp    []int32 // BFS visit marks
	gen      int32
	par      []int32 // adj position of the edge into a node
	from     []int32 // source node of that edge
	ban      []int32 // node banned while ban[v] == banGen
	banGen   int32
	banEdge  map[int32]bool
	queue    []int32
	relevant []bool // nodes on some path from src to dst (nil: all)
}

func (w *whySearch) init() {
	n := w.a.n
	w.stamp = make([]int32, n)
	w.par = make([]int32, n)
	w.from = make([]int32, n)
	w.ban = make([]int32, n)
}

// bfs returns a shortest path from s to w.dst avoiding banned nodes and
// edges, or nil. The destination is checked before the bans so that a
// cycle can close on a banned start.
func (w *whySearch) bfs(s int32) []int32 {
	a := w.a
	w.gen++
	w.stamp[s] = w.gen
	w.queue = append(w.queue[:0], s)
	for qi := 0; qi < len(w.queue); qi++ {
		u := w.queue[qi]
		for p := a.off[u]; p < a.off[u+1]; p++ {
			v := a.dst[p]
			if !a.ok(p) || w.banEdge[p] {
				continue
			}
			if v == w.dst {
				path := []int32{p}
				for x := u; x != s; x = w.from[x] {
					path = append(path, w.par[x])
				}
				slices.Reverse(path)
				return path
			}
			if w.stamp[v] == w.gen || w.ban[v] == w.banGen && w.banGen != 0 ||
				(w.relevant != nil && !w.relevant[v]) {
				continue
			}
			w.stamp[v] = w.gen
			w.par[v], w.from[v] = p, u
			w.queue = append(w.queue, v)
		}
	}
	return nil
}

// nodes returns the nodes along path p, from w.src to w.dst.
func (w *whySearch) nodes(p []int32) []int32 {
	out := []int32{w.src}
	for _, e := range p {
		out = append(out, w.a.dst[e])
	}
	return out
}

// restrict limits later searches to nodes that are reachable from src and
// reach dst.
func (w *whySearch) restrict() {
	a := w.a
	n := a.n
	fwd := make([]bool, n)
	fwd[w.src] = true
	q := []int32{w.src}
	for qi := 0; qi < len(q); qi++ {
		u := q[qi]
		for p := a.off[u]; p < a.off[u+1]; p++ {
			if v := a.dst[p]; a.ok(p) && !fwd[v] {
				fwd[v] = true
				q = append(q, v)
			}
		}
	}
	// Reverse search over forward-reachable nodes only.
	r := a.reverse()
	rel := make([]bool, n)
	rel[w.dst] = true
	q = append(q[:0], w.dst)
	for qi := 0; qi < len(q); qi++ {
		u := q[qi]
		for _, v := range r.src[r.off[u]:r.off[u+1]] {
			if fwd[v] && !rel[v] {
				rel[v] = true
				q = append(q, v)
			}
		}
	}
	rel[w.src] = true
	w.relevant = rel
}

type yenCand struct {
	edges []int32
	nodes []int32
}

// yen returns up to k loopless paths, shortest first (Yen 1971).
func (w *whySearch) yen(first []int32, k int) [][]int32 {
	w.restrict()
	accepted := [][]int32{first}
	acceptedNodes := [][]int32{w.nodes(first)}
	seen := map[string]bool{key(first): true}
	// Candidates by length, then node sequence.
	cands := &pq[yenCand]{less: func(x, y yenCand) bool {
		if len(x.edges) != len(y.edges) {
			return len(x.edges) < len(y.edges)
		}
		return slices.Compare(x.nodes, y.nodes) < 0
	}}
	for len(accepted) < k {
		prev, prevNodes := accepted[len(accepted)-1], acceptedNodes[len(acceptedNodes)-1]
		for i := range prev {
			spur := prevNodes[i]
			rootEdges := prev[:i]
			// Ban the next edge of every accepted path sharing this root.
			w.banEdge = map[int32]bool{}
			for _, p := range accepted {
				if len(p) > i && slices.Equal(p[:i], rootEdges) {
					w.banEdge[p[i]] = true
				}
			}
			// Ban the root's nodes except the spur.
			w.banGen++
			for _, v := range prevNodes[:i] {
				w.ban[v] = w.banGen
			}
			spurPath := w.bfs(spur)
			if spurPath == nil {
				continue
			}
			total := append(slices.Clone(rootEdges), spurPath...)
			if kk := key(total); !seen[kk] {
				seen[kk] = true
				cands.push(yenCand{edges: total, nodes: w.nodes(total)})
			}
		}
		w.banEdge = nil
		w.banGen++
		if cands.Len() == 0 {
			break
		}
		c := cands.pop()
		accepted = append(accepted, c.edges)
		acceptedNodes = append(acceptedNodes, c.nodes)
	}
	return accepted
}

func key(p []int32) string {
	b := make([]byte, 0, 4*len(p))
	for _, e := range p {
		b = append(b, byte(e), byte(e>>8), byte(e>>16), byte(e>>24))
	}
	return string(b)
}

// path turns adj positions into a [Path].
func (w *whySearch) path(p []int32) Path {
	out := Path{Edges: make([]Edge, len(p))}
	u := w.src
	for i, e := range p {
		out.Edges[i] = w.a.edgeOf(u, e)
		u = w.a.dst[e]
	}
	return out
}
