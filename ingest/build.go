package ingest

import (
	"slices"
	"strings"
	"time"

	"github.com/rgraph/rgraph/graph"
)

// Node type flags kept while building: a node any input calls a service is
// a service; a node only ever seen as an endpoint is an endpoint.
const (
	seenService uint8 = 1 << iota
	seenEndpoint
)

// builder accumulates nodes and edges from every input and produces a
// [graph.Graph] with the same semantics as [graph.Builder] (nodes in name
// order, duplicate edges merged by kind precedence, evidence of every
// duplicate kept in input order). Unlike graph.Builder it interns names
// from byte slices without allocating on a hit and adds edges by node ID,
// which is what makes edge lists of millions of lines cheap to read.
type builder struct {
	ids   map[string]int32
	names []string
	seen  []uint8
	info  map[int32]graph.NodeInfo // only nodes with any: catalog services, measured ones

	src, dst []int32
	kind     []graph.Kind
	ev       map[int32][]graph.Evidence // by position in src/dst
}

func newBuilder() *builder {
	return &builder{ids: map[string]int32{}, info: map[int32]graph.NodeInfo{}}
}

// internNew returns the ID of the node named name, adding it if new
// with the type given by seen, and reports whether it is new. name is not
// retained.
func (b *builder) internNew(name []byte, seen uint8) (id int32, added bool) {
	if id, ok := b.ids[string(name)]; ok { // no allocation on a hit
		b.seen[id] |= seen
		return id, false
	}
	return b.add(string(name), seen), true
}

// intern is internNew for a string, without the report.
func (b *builder) intern(name string, seen uint8) int32 {
	if id, ok := b.ids[name]; ok {
		b.seen[id] |= seen
		return id
	}
	return b.add(name, seen)
}

func (b *builder) add(name string, seen uint8) int32 {
	id := int32(len(b.names))
	b.ids[name] = id
	b.names = append(b.names, name)
	b.seen = append(b.seen, seen)
	return id
}

// setInfo sets what is known about node id; zero fields keep known values.
func (b *builder) setInfo(id int32, owner, tier string, recoveryTime time.Duration) {
	in := b.info[id]
	if owner != "" {
		in.Owner = owner
	}
	if tier != "" {
		in.Tier = tier
	}
	if recoveryTime != 0 {
		in.RecoveryTime = recoveryTime
	}
	b.info[id] = in
}

// addEdge adds u -> v with kind k and optional evidence.
func (b *builder) addEdge(u, v int32, k graph.Kind, ev ...graph.Evidence) {
	if len(ev) > 0 {
		if b.ev == nil {
			b.ev = map[int32][]graph.Evidence{}
		}
		pos := int32(len(b.src))
		b.ev[pos] = append(b.ev[pos], ev...)
	}
	b.src = append(b.src, u)
	b.dst = append(b.dst, v)
	b.kind = append(b.kind, k)
}

// build returns the graph. The builder must not be used afterwards.
func (b *builder) build() (*graph.Graph, error) {
	n := len(b.names)

	// Renumber nodes in name order, unless they already are.
	names := b.names
	var newID []int32
	if !slices.IsSorted(b.names) {
		order := make([]int32, n)
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(x, y int32) int { return strings.Compare(b.names[x], b.names[y]) })
		newID = make([]int32, n)
		names = make([]string, n)
		for nid, old := range order {
			newID[old] = int32(nid)
			names[nid] = b.names[old]
		}
	}
	id := func(v int32) int32 {
		if newID == nil {
			return v
		}
		return newID[v]
	}
	// Nodes without any info (every node of a plain edge list) take no
	// room: the graph's info is nil.
	var info []graph.NodeInfo
	endpoints := slices.ContainsFunc(b.seen, func(s uint8) bool { return nodeType(s) != graph.Service })
	if len(b.info) > 0 || endpoints {
		info = make([]graph.NodeInfo, n)
		for v, in := range b.info {
			info[id(v)] = in
		}
		for v, s := range b.seen {
			info[id(int32(v))].Type = nodeType(s)
		}
	}
	b.names, b.seen, b.info, b.ids = nil, nil, nil, nil

	// Counting sort of edges by source; from remembers each edge's input
	// position when evidence has to follow it.
	m := len(b.src)
	off := make([]int32, n+1)
	for _, s := range b.src {
		off[id(s)+1]++
	}
	for i := 0; i < n; i++ {
		off[i+1] += off[i]
	}
	pos := slices.Clone(off[:n])
	dst := make([]int32, m)
	kinds := make([]graph.Kind, m)
	var from []int32
	if len(b.ev) > 0 {
		from = make([]int32, m)
	}
	for i := 0; i < m; i++ {
		s := id(b.src[i])
		p := pos[s]
		dst[p], kinds[p] = id(b.dst[i]), b.kind[i]
		if from != nil {
			from[p] = int32(i)
		}
		pos[s]++
	}
	b.src, b.dst, b.kind = nil, nil, nil

	// Sort each row by target (stably, so evidence stays in input order)
	// and merge duplicates, keeping the kind of higher precedence.
	var ev map[int32][]graph.Evidence
	w := int32(0)
	for u := 0; u < n; u++ {
		lo, hi := off[u], off[u+1]
		sortRow(dst[lo:hi], kinds[lo:hi], rowSlice(from, lo, hi))
		off[u] = w
		for i := lo; i < hi; i++ {
			if i > lo && dst[i] == dst[w-1] {
				if kinds[i].Outranks(kinds[w-1]) {
					kinds[w-1] = kinds[i]
				}
			} else {
				dst[w], kinds[w] = dst[i], kinds[i]
				w++
			}
			if from != nil {
				if e, ok := b.ev[from[i]]; ok {
					if ev == nil {
						ev = map[int32][]graph.Evidence{}
					}
					ev[w-1] = append(ev[w-1], e...)
				}
			}
		}
	}
	off[n] = w
	*b = builder{}
	return graph.FromCSR(graph.CSR{
		Names:    names,
		Info:     info,
		Off:      off,
		Dst:      slices.Clip(dst[:w]),
		Kinds:    slices.Clip(kinds[:w]),
		Evidence: ev,
		Groups:   alternativeGroups(off, kinds[:w], ev),
	})
}

func nodeType(seen uint8) graph.NodeType {
	if seen == seenEndpoint {
		return graph.Endpoint
	}
	return graph.Service
}

func rowSlice(s []int32, lo, hi int32) []int32 {
	if s == nil {
		return nil
	}
	return s[lo:hi]
}

// sortRow sorts one row by target, stably, moving kinds and from (which
// may be nil) along. Rows are short, so insertion sort wins below a few
// dozen edges.
func sortRow(dst []int32, kinds []graph.Kind, from []int32) {
	if len(dst) > 32 {
		idx := make([]int32, len(dst))
		for i := range idx {
			idx[i] = int32(i)
		}
		slices.SortStableFunc(idx, func(x, y int32) int { return int(dst[x]) - int(dst[y]) })
		d, k := slices.Clone(dst), slices.Clone(kinds)
		var f []int32
		if from != nil {
			f = slices.Clone(from)
		}
		for i, j := range idx {
			dst[i], kinds[i] = d[j], k[j]
			if from != nil {
				from[i] = f[j]
			}
		}
		return
	}
	for i := 1; i < len(dst); i++ {
		for j := i; j > 0 && dst[j] < dst[j-1]; j-- {
			dst[j], dst[j-1] = dst[j-1], dst[j]
			kinds[j], kinds[j-1] = kinds[j-1], kinds[j]
			if from != nil {
				from[j], from[j-1] = from[j-1], from[j]
			}
		}
	}
}
