package graphtest

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

	"github.com/rgraph/rgraph/graph"
)

// Rewire returns a later release of fleet f in which changes edges point
// somewhere else: each moved edge keeps its source and kind and gets the
// target of another edge picked at random (so popular services gain
// dependents), nine in ten times one whose name sorts before the source
// (down the tiers of a fleet), the rest anywhere, which may close cycles.
// Services do not change, so a diff of the two finds exactly changes
// added and changes removed edges. The same seed gives the same release.
func Rewire(f FleetArrays, changes int, seed uint64) FleetArrays {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	m := len(f.Src)
	changes = min(changes, m)
	type edge struct {
		to   int32
		kind graph.Kind
	}
	n := len(f.Names)
	rows := make([][]edge, n)
	for i, u := range f.Src {
		rows[u] = append(rows[u], edge{f.Dst[i], f.Kinds[i]})
	}
	has := func(u, v int32) bool {
		return slices.ContainsFunc(rows[u], func(e edge) bool { return e.to == v })
	}
	moved := make(map[int32]bool, changes)
	for len(moved) < changes {
		i := int32(r.IntN(m))
		if moved[i] {
			continue
		}
		u, v := f.Src[i], f.Dst[i]
		for range 100 {
			w := f.Dst[r.IntN(m)]
			if w == u || w == v || has(u, w) || w > u && r.IntN(10) != 0 {
				continue
			}
			k := slices.IndexFunc(rows[u], func(e edge) bool { return e.to == v })
			rows[u][k].to = w
			moved[i] = true
			break
		}
	}
	out := FleetArrays{Names: f.Names, Info: f.Info,
		Src: make([]int32, 0, m), Dst: make([]int32, 0, m), Kinds: make([]graph.Kind, 0, m)}
	for u, row := range rows {
		slices.SortFunc(row, func(a, b edge) int { return int(a.to - b.to) })
		for _, e := range row {
			out.Src = append(out.Src, int32(u))
			out.Dst = append(out.Dst, e.to)
			out.Kinds = append(out.Kinds, e.kind)
		}
	}
	return out
}

// WriteTSV writes the fleet as an edge list, "from<TAB>to<TAB>kind" a
// line, sorted by source then target, after a comment line.
func (f FleetArrays) WriteTSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(bw, "# rgraph synthetic fleet: %d services, %d edges\n", len(f.Names), len(f.Src))
	for i := range f.Src {
		bw.WriteString(f.Names[f.Src[i]])
		bw.WriteByte('\t')
		bw.WriteString(f.Names[f.Dst[i]])
		bw.WriteByte('\t')
		bw.WriteString(f.Kinds[i].String())
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
