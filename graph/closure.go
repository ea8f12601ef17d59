package graph

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// closureGrowth counts closures of the services that can have grown (see
// [Diff]).
func closureGrowth(oa, na *adj, os, ns *sccs, n2o []int32, gained [][2]int32, budget int) []Growth {
	out := []Growth{}
	if len(gained) == 0 {
		return out
	}
	// Candidates: services of both graphs that reach the tail of a gained
	// edge in new. What a component needs comes before it, so one pass in
	// component order marks every component that reaches one.
	reach := make([]bool, ns.count)
	for _, ue := range gained {
		reach[ns.comp[ue[0]]] = true
	}
	for c := int32(0); c < ns.count; c++ {
		for _, v := range ns.members(c) {
			for p := na.off[v]; p < na.off[v+1] && !reach[c]; p++ {
				reach[c] = reach[ns.comp[na.dst[p]]] && na.ok(p)
			}
		}
	}
	cand := func(v int) bool { return reach[ns.comp[v]] && n2o[v] >= 0 }
	count := 0
	for v := range ns.comp {
		if cand(v) {
			count++
		}
	}
	list := make([]int32, 0, count) // new IDs, in name order
	for v := range ns.comp {
		if cand(v) {
			list = append(list, int32(v))
		}
	}
	oldSize := make([]sketchSize, len(list))
	newSize := make([]sketchSize, len(list))
	oc, nc := newCounter(oa), newCounter(na)
	exact := len(list)
	for i, v := range list {
		if oc.work+nc.work > budget {
			exact = i
			break
		}
		oldSize[i].size, newSize[i].size = oc.count(n2o[v]), nc.count(v)
	}
	if rest := list[exact:]; len(rest) > 0 {
		oldRest := make([]int32, len(rest))
		for i, v := range rest {
			oldRest[i] = n2o[v]
		}
		oa.closureSizes(os, oldRest, oldSize[exact:])
		na.closureSizes(ns, rest, newSize[exact:])
	}
	grew := 0
	for i := range list {
		if newSize[i].size > oldSize[i].size {
			grew++
		}
	}
	out = make([]Growth, 0, grew)
	for i, v := range list {
		if o, n := oldSize[i], newSize[i]; n.size > o.size {
			out = append(out, Growth{Service: na.g.names[v], Old: int(o.size), New: int(n.size), Estimated: o.estimated || n.estimated})
		}
	}
	return out
}

// counter counts closure sizes by BFS, marking visited nodes in a bitset
// (an eighth of a byte a node, so it stays in cache) cleared after each
// count.
type counter struct {
	a     *adj
	seen  []uint64
	queue []int32
	work  int
}

func newCounter(a *adj) *counter { return &counter{a: a, seen: make([]uint64, (a.n+63)/64)} }

// count returns how many nodes v reaches, itself excluded.
func (c *counter) count(v int32) int32 {
	a, seen := c.a, c.seen
	c.queue = append(c.queue[:0], v)
	seen[v/64] |= 1 << (v % 64)
	for qi := 0; qi < len(c.queue); qi++ {
		u := c.queue[qi]
		c.work += int(a.off[u+1] - a.off[u])
		for p := a.off[u]; p < a.off[u+1]; p++ {
			w := a.dst[p]
			if seen[w/64]&(1<<(w%64)) == 0 && a.ok(p) {
				seen[w/64] |= 1 << (w % 64)
				c.queue = append(c.queue, w)
			}
		}
	}
	for _, w := range c.queue {
		seen[w/64] = 0
	}
	return int32(len(c.queue) - 1)
}

// sketchSize is a closure size as a sketch gives it.
type sketchSize struct {
	size      int32
	estimated bool
}

// closureSizes writes the closure sizes of vs by bottom-k sketches (see
// [sketchClosures]) to out: remembered ones when the graph has them,
// otherwise sketching only what vs need.
func (a *adj) closureSizes(s *sccs, vs []int32, out []sketchSize) {
	var sizes []sketchSize
	if m := a.g.memo(a.key); m != nil && m.closure != nil {
		sizes = m.closure
	} else {
		want := make([]bool, s.count)
		for _, v := range vs {
			want[s.comp[v]] = true
		}
		sizes = sketchClosures(a, s, want)
	}
	for i, v := range vs {
		out[i] = sizes[s.comp[v]]
	}
}

// closures returns the closure size of the members of every component of
// the view by bottom-k sketches, computed once per graph and kind set.
func (a *adj) closures() []sketchSize {
	s := a.components()
	if m := a.g.memo(a.key); m != nil && m.closure != nil {
		return m.closure
	}
	cl := sketchClosures(a, s, nil)
	a.g.remember(a.key, func(m *memo) { m.closure = cl })
	return cl
}

// sketchClosures estimates the closure size of the members of each
// component in want (every component when want is nil) with bottom-k
// sketches ([ClosureSketchSize] hashes of names, the same in every graph)
// propagated over the condensation from what is needed to what needs it.
// Only components below wanted ones are sketched, and a sketch is kept
// only until every component that needs it has been sketched, so memory
// follows the frontier rather than the graph. A sketch holding fewer than
// k hashes holds the whole closure, so its size is exact. The result is
// indexed by component; unwanted entries are zero.
//
// The components of one wave need none of each other, so a large wave is
// sketched by several goroutines (GOMAXPROCS, at most 8): the work is
// memory-bound, a cache miss or two per edge.
func sketchClosures(a *adj, s *sccs, want []bool) []sketchSize {
	// Components below wanted ones, and how many edges from them point at
	// each.
	below := want
	live := make([]liveSketch, s.count)
	count := func(c int32, mark func(d int32)) {
		for _, v := range s.members(c) {
			for p := a.off[v]; p < a.off[v+1]; p++ {
				if d := s.comp[a.dst[p]]; d != c && a.ok(p) {
					live[d].users.Add(1)
					mark(d)
				}
			}
		}
	}
	if want == nil {
		below = make([]bool, s.count)
		for c := int32(0); c < s.count; c++ {
			below[c] = true
			count(c, func(int32) {})
		}
	} else {
		below = make([]bool, s.count)
		var q []int32
		for c, w := range want {
			if w {
				below[c] = true
				q = append(q, int32(c))
			}
		}
		for qi := 0; qi < len(q); qi++ {
			count(q[qi], func(d int32) {
				if !below[d] {
					below[d] = true
					q = append(q, d)
				}
			})
		}
	}

	// The components to sketch, wave by wave.
	waves := a.waves()
	nw := int32(0)
	for c, w := range waves {
		if below[c] {
			nw = max(nw, w+1)
		}
	}
	woff := make([]int32, nw+1)
	for c, w := range waves {
		if below[c] {
			woff[w+1]++
		}
	}
	for w := range nw {
		woff[w+1] += woff[w]
	}
	byWave := make([]int32, woff[nw])
	fill := slices.Clone(woff[:nw])
	for c, w := range waves {
		if below[c] {
			byWave[fill[w]] = int32(c)
			fill[w]++
		}
	}

	out := make([]sketchSize, s.count)
	workers := make([]*sketcher, min(runtime.GOMAXPROCS(0), 8))
	for i := range workers {
		workers[i] = &sketcher{a: a, s: s, live: live, workers: workers, id: int32(i), want: want, out: out}
	}
	const chunk = 2048 // components a goroutine takes at least
	for w := range nw {
		cs := byWave[woff[w]:woff[w+1]]
		if len(cs) < 2*chunk || len(workers) == 1 {
			workers[0].run(cs)
		} else {
			var wg sync.WaitGroup
			per := (len(cs) + len(workers) - 1) / len(workers)
			for i, sk := range workers {
				part := cs[min(i*per, len(cs)):min((i+1)*per, len(cs))]
				wg.Go(func() { sk.run(part) })
			}
			wg.Wait()
		}
		// Sketches no longer needed go back to their stores only now:
		// none was read by another goroutine of the wave after its last
		// use, but stores are not shared while a wave runs.
		for _, sk := range workers {
			for _, sl := range sk.freed {
				workers[sl>>sketchWorkerShift].store.free(sl & sketchSlotMask)
			}
			sk.freed = sk.freed[:0]
		}
	}
	return out
}

// liveSketch is the sketch of a component while it is live, and how many
// edges from components still to sketch point at it: one cache line for
// both.
type liveSketch struct {
	users atomic.Int32
	slot  int32 // worker<<sketchWorkerShift | slot in its store
}

const (
	sketchWorkerShift = 27
	sketchSlotMask    = 1<<sketchWorkerShift - 1
)

// sketcher sketches components of one wave, into its own store.
type sketcher struct {
	a       *adj
	s       *sccs
	live    []liveSketch
	workers []*sketcher
	id      int32
	want    []bool
	out     []sketchSize

	store       sketchStore
	buf, merged []uint64
	freed       []int32 // slots whose last user this wave was
}

func (sk *sketcher) run(cs []int32) {
	const k = ClosureSketchSize
	a, s, live := sk.a, sk.s, sk.live
	buf, merged := sk.buf, sk.merged
	for _, c := range cs {
		buf = buf[:0]
		for _, v := range s.members(c) {
			buf = append(buf, hashName(a.g.names[v]))
		}
		if len(buf) > 1 {
			slices.Sort(buf)
			buf = slices.Compact(buf)
			buf = buf[:min(len(buf), k)]
		}
		for _, v := range s.members(c) {
			for p := a.off[v]; p < a.off[v+1]; p++ {
				d := s.comp[a.dst[p]]
				if d == c || !a.ok(p) {
					continue
				}
				ld := &live[d]
				h := sk.workers[ld.slot>>sketchWorkerShift].store.get(ld.slot & sketchSlotMask)
				// Only hashes below a full sketch's largest can enter it.
				if len(buf) == k {
					m := 0
					for m < len(h) && h[m] < buf[k-1] {
						m++
					}
					h = h[:m]
				}
				if len(h) > 0 {
					merged = mergeBottomK(merged[:0], buf, h, k)
					buf, merged = merged, buf
				}
				if ld.users.Add(-1) == 0 {
					sk.freed = append(sk.freed, ld.slot)
				}
			}
		}
		if sk.want == nil || sk.want[c] {
			sk.out[c] = sizeOf(buf)
		}
		if live[c].users.Load() > 0 {
			live[c].slot = sk.id<<sketchWorkerShift | sk.store.put(buf)
		}
	}
	sk.buf, sk.merged = buf, merged
}

// sizeOf returns the closure size a sketch of a component and everything
// it needs gives for its members (themselves excluded).
func sizeOf(h []uint64) sketchSize {
	const k = ClosureSketchSize
	if len(h) < k {
		// Exact: the sketch holds the component and all below it.
		return sketchSize{size: int32(len(h) - 1)}
	}
	est := float64(k-1) / (float64(h[k-1]) / math.Exp2(64))
	return sketchSize{size: int32(min(math.Round(est)-1, math.MaxInt32)), estimated: true}
}

// sketchStore holds the live sketches in blocks of fixed slots, reused as
// sketches are freed, so that a million sketches are a few large
// allocations. The first word of a slot is its length.
type sketchStore struct {
	blocks [][]uint64
	spare  []int32
	next   int32
}

const (
	sketchSlot  = ClosureSketchSize + 1
	sketchBlock = 4096 // slots per block
)

// put copies h into a free slot and returns the slot.
func (st *sketchStore) put(h []uint64) int32 {
	var i int32
	if n := len(st.spare); n > 0 {
		i, st.spare = st.spare[n-1], st.spare[:n-1]
	} else {
		i = st.next
		st.next++
		if int(i/sketchBlock) == len(st.blocks) {
			st.blocks = append(st.blocks, make([]uint64, sketchBlock*sketchSlot))
		}
	}
	sl := st.slot(i)
	sl[0] = uint64(len(h))
	copy(sl[1:], h)
	return i
}

// get returns the sketch in slot i.
func (st *sketchStore) get(i int32) []uint64 {
	sl := st.slot(i)
	return sl[1 : 1+sl[0]]
}

// free makes slot i available again.
func (st *sketchStore) free(i int32) { st.spare = append(st.spare, i) }

func (st *sketchStore) slot(i int32) []uint64 {
	b := st.blocks[i/sketchBlock]
	o := (i % sketchBlock) * sketchSlot
	return b[o : o+sketchSlot : o+sketchSlot]
}

// mergeBottomK merges two sorted hash lists into dst, without duplicates,
// keeping the k smallest.
func mergeBottomK(dst, x, y []uint64, k int) []uint64 {
	i, j := 0, 0
	for len(dst) < k && (i < len(x) || j < len(y)) {
		var h uint64
		switch {
		case j == len(y) || i < len(x) && x[i] < y[j]:
			h = x[i]
			i++
		case i == len(x) || y[j] < x[i]:
			h = y[j]
			j++
		default:
			h = x[i]
			i++
			j++
		}
		dst = append(dst, h)
	}
	return dst
}

// hashName is a fixed 64-bit hash of a name (FNV-1a, then the SplitMix64
// finalizer to spread the bits), the same in every graph and every run.
func hashName(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
