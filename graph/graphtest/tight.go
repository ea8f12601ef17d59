package graphtest

import "github.com/rgraph/rgraph/graph"

// TightSCCWaves is the tight compact-array reference that benchmarks run
// beside package graph: an iterative Tarjan over plain int32 arrays (edges
// of other kinds skipped inline) that numbers components sinks first, then
// one pass for the waves of the condensation. It returns the component of
// each node, the number of components, how many are cyclic (more than one
// member or a self-loop), and the wave of each node. Nothing else: no
// names, witnesses or output.
func TightSCCWaves(off, dst []int32, kinds []graph.Kind, ks graph.KindSet) (comp []int32, ncomp, cyclic int32, wave []int32) {
	n := int32(len(off) - 1)
	index := make([]int32, n) // 0: unvisited
	low := make([]int32, n)
	comp = make([]int32, n)
	for i := range comp {
		comp[i] = -1
	}
	stack := make([]int32, 0, 1024)
	frames := make([]int32, 0, 2048) // node, next edge
	members := make([]int32, 0, n)   // nodes in completion order
	memOff := make([]int32, 1, 1024)
	next := int32(1)
	for r := int32(0); r < n; r++ {
		if index[r] != 0 {
			continue
		}
		index[r], low[r] = next, next
		next++
		stack = append(stack, r)
		frames = append(frames, r, off[r])
		for len(frames) > 0 {
			top := len(frames) - 2
			v, e := frames[top], frames[top+1]
			pushed := false
			for ; e < off[v+1]; e++ {
				if !ks.Has(kinds[e]) {
					continue
				}
				w := dst[e]
				if index[w] == 0 {
					frames[top+1] = e + 1
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					frames = append(frames, w, off[w])
					pushed = true
					break
				}
				if comp[w] < 0 && index[w] < low[v] {
					low[v] = index[w]
				}
			}
			if pushed {
				continue
			}
			frames = frames[:top]
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					comp[w] = ncomp
					members = append(members, w)
					if w == v {
						break
					}
				}
				memOff = append(memOff, int32(len(members)))
				ncomp++
			}
			if top > 0 {
				if p := frames[top-2]; low[v] < low[p] {
					low[p] = low[v]
				}
			}
		}
	}
	cwave := make([]int32, ncomp)
	for c := int32(0); c < ncomp; c++ {
		ms := members[memOff[c]:memOff[c+1]]
		if len(ms) > 1 {
			cyclic++
		}
		for _, v := range ms {
			for e := off[v]; e < off[v+1]; e++ {
				if !ks.Has(kinds[e]) {
					continue
				}
				d := comp[dst[e]]
				if d == c {
					if len(ms) == 1 {
						cyclic++ // self-loop
					}
					continue
				}
				if cwave[d]+1 > cwave[c] {
					cwave[c] = cwave[d] + 1
				}
			}
		}
	}
	wave = make([]int32, n)
	for v := range wave {
		wave[v] = cwave[comp[v]]
	}
	return comp, ncomp, cyclic, wave
}
