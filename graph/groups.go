package graph

import (
	"cmp"
	"slices"
)

// Alternative groups. An edge of kind [Alternative] says that its source
// needs its target or some other service instead: it is a member of an
// alternative group, of which the source needs any one. A graph holds its
// explicit groups (a minimization record's group numbers become them) as
// lists of edge indices; alternative edges that no explicit group holds
// form one implicit group per source. How analyses plan with groups is
// described on [RecoveryOrder].

// altGroups are a graph's explicit alternative groups, packed: group i is
// the edges edges[off[i]:off[i+1]], sorted, all out-edges of src[i].
// Groups are sorted by source, then by their edges, without duplicates.
type altGroups struct {
	src   []int32
	off   []int32
	edges []int32
}

func (a *altGroups) len() int { return len(a.src) }

func (a *altGroups) members(i int) []int32 { return a.edges[a.off[i]:a.off[i+1]] }

// of returns the range [lo, hi) of the groups of node v.
func (a *altGroups) of(v int32) (lo, hi int) {
	lo, _ = slices.BinarySearch(a.src, v)
	hi = lo
	for hi < len(a.src) && a.src[hi] == v {
		hi++
	}
	return lo, hi
}

// packGroups sorts and deduplicates groups (each a list of edge indices
// leaving the node src gives) and packs them; groups that are empty after
// deduplication are dropped. It returns nil for no groups.
func packGroups(groups [][]int32, src func(e int32) int32) *altGroups {
	type grp struct {
		src   int32
		edges []int32
	}
	var gs []grp
	for _, g := range groups {
		es := slices.Clone(g)
		slices.Sort(es)
		es = slices.Compact(es)
		if len(es) == 0 {
			continue
		}
		gs = append(gs, grp{src(es[0]), es})
	}
	if len(gs) == 0 {
		return nil
	}
	slices.SortFunc(gs, func(x, y grp) int { return cmp.Or(cmp.Compare(x.src, y.src), slices.Compare(x.edges, y.edges)) })
	gs = slices.CompactFunc(gs, func(x, y grp) bool { return x.src == y.src && slices.Equal(x.edges, y.edges) })
	a := &altGroups{off: []int32{0}}
	for _, g := range gs {
		a.src = append(a.src, g.src)
		a.edges = append(a.edges, g.edges...)
		a.off = append(a.off, int32(len(a.edges)))
	}
	return a
}

// source returns the node edge e leaves.
func (g *Graph) source(e int32) int32 {
	i, found := slices.BinarySearch(g.outOff, e)
	if found {
		// Several nodes may start at e when rows are empty; the edge
		// belongs to the last of them.
		for i+1 < len(g.outOff) && g.outOff[i+1] == e {
			i++
		}
		return int32(i)
	}
	return int32(i - 1)
}

// Groups returns v's explicit alternative groups: each a sorted list of
// indices of v's out-edges, any one of which v needs (see the package
// comment on alternatives). Alternative edges of v in none of them form
// one more, implicit group, which Groups does not list.
func (g *Graph) Groups(v int32) [][]int32 {
	if g.alt == nil {
		return nil
	}
	lo, hi := g.alt.of(v)
	out := make([][]int32, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, slices.Clone(g.alt.members(i)))
	}
	return out
}

// inExplicitGroup reports whether edge e is a member of an explicit group.
func (g *Graph) inExplicitGroup(u, e int32) bool {
	if g.alt == nil {
		return false
	}
	lo, hi := g.alt.of(u)
	for i := lo; i < hi; i++ {
		if _, ok := slices.BinarySearch(g.alt.members(i), e); ok {
			return true
		}
	}
	return false
}

// AnyOf returns the alternative groups an alternative edge e (leaving u)
// belongs to, each as the sorted names of its members' targets: the
// explicit groups that hold it, or, when none does, u's implicit group.
// It returns nil for an edge of another kind.
func (g *Graph) AnyOf(u, e int32) [][]string {
	if g.kinds[e] != Alternative {
		return nil
	}
	var out [][]string
	names := func(edges []int32) []string {
		ns := make([]string, len(edges))
		for i, x := range edges {
			ns[i] = g.names[g.outDst[x]]
		}
		slices.Sort(ns)
		return ns
	}
	if g.alt != nil {
		lo, hi := g.alt.of(u)
		for i := lo; i < hi; i++ {
			if _, ok := slices.BinarySearch(g.alt.members(i), e); ok {
				out = append(out, names(g.alt.members(i)))
			}
		}
	}
	if out != nil {
		return out
	}
	var implicit []int32
	for x := g.outOff[u]; x < g.outOff[u+1]; x++ {
		if g.kinds[x] == Alternative && !g.inExplicitGroup(u, x) {
			implicit = append(implicit, x)
		}
	}
	return [][]string{names(implicit)}
}
