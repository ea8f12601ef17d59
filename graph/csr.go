package graph

import (
	"errors"
	"fmt"
	"slices"
)

// CSR is the raw compact form of a [Graph], for serialization. Node v's
// out-edges are Dst[Off[v]:Off[v+1]] with kinds Kinds[...]; Names are
// sorted and unique; each row is sorted by target without duplicates.
// Info is nil when no node has any. Evidence is keyed by edge index.
// Groups are the explicit alternative groups (see [Graph.Groups]): each a
// non-empty list of indices of edges leaving one node; [FromCSR] sorts
// them and drops duplicates.
type CSR struct {
	Names    []string
	Info     []NodeInfo
	Off      []int32
	Dst      []int32
	Kinds    []Kind
	Evidence map[int32][]Evidence
	Groups   [][]int32
}

// CSR returns the graph's raw arrays. They share memory with g and must
// not be modified; Groups is a copy.
func (g *Graph) CSR() CSR {
	c := CSR{Names: g.names, Info: g.info, Off: g.outOff, Dst: g.outDst, Kinds: g.kinds, Evidence: g.evidence}
	if g.alt != nil {
		for i := range g.alt.len() {
			c.Groups = append(c.Groups, slices.Clone(g.alt.members(i)))
		}
	}
	return c
}

// ErrInvalidCSR is wrapped by the error [FromCSR] returns for arrays that
// break the invariants documented on [CSR].
var ErrInvalidCSR = errors.New("graph: invalid compact graph")

// FromCSR builds a graph from raw arrays, taking ownership of them, after
// checking the invariants documented on [CSR] in O(V+E).
func FromCSR(c CSR) (*Graph, error) {
	n := len(c.Names)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidCSR, fmt.Sprintf(format, args...))
	}
	switch {
	case len(c.Off) != n+1:
		return nil, bad("%d offsets for %d nodes", len(c.Off), n)
	case c.Info != nil && len(c.Info) != n:
		return nil, bad("%d node infos for %d nodes", len(c.Info), n)
	case len(c.Kinds) != len(c.Dst):
		return nil, bad("%d kinds for %d edges", len(c.Kinds), len(c.Dst))
	case c.Off[0] != 0 || int(c.Off[n]) != len(c.Dst):
		return nil, bad("offsets do not span the %d edges", len(c.Dst))
	}
	for i := 1; i < n; i++ {
		if c.Names[i-1] >= c.Names[i] {
			return nil, bad("names not sorted and unique at %d (%q, %q)", i, c.Names[i-1], c.Names[i])
		}
	}
	for v := 0; v < n; v++ {
		if c.Off[v] > c.Off[v+1] {
			return nil, bad("offsets decrease at node %d", v)
		}
	}
	for v := 0; v < n; v++ {
		lo, hi := c.Off[v], c.Off[v+1]
		for e := lo; e < hi; e++ {
			d := c.Dst[e]
			if d < 0 || int(d) >= n {
				return nil, bad("edge %d points at node %d of %d", e, d, n)
			}
			if e > lo && c.Dst[e-1] >= d {
				return nil, bad("row %d not sorted or has duplicates", v)
			}
			if !c.Kinds[e].Valid() {
				return nil, bad("edge %d has invalid kind %d", e, c.Kinds[e])
			}
		}
	}
	for e := range c.Evidence {
		if e < 0 || int(e) >= len(c.Dst) {
			return nil, bad("evidence for edge %d of %d", e, len(c.Dst))
		}
	}
	g := &Graph{names: c.Names, info: c.Info, outOff: c.Off, outDst: c.Dst, kinds: c.Kinds, evidence: c.Evidence}
	for i, grp := range c.Groups {
		if len(grp) == 0 {
			return nil, bad("alternative group %d is empty", i)
		}
		for _, e := range grp {
			if e < 0 || int(e) >= len(c.Dst) {
				return nil, bad("alternative group %d holds edge %d of %d", i, e, len(c.Dst))
			}
			if g.source(e) != g.source(grp[0]) {
				return nil, bad("alternative group %d holds edges of two services", i)
			}
		}
	}
	g.alt = packGroups(c.Groups, g.source)
	return g, nil
}
