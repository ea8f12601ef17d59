package graphtest

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/rgraph/rgraph/graph"
)

// tiers of a synthetic fleet, lowest first. Names sort in tier order, so
// node IDs follow tiers. share is the fraction of services in the tier,
// fanout the relative number of services each one needs.
var tiers = []struct {
	name   string
	share  float64
	fanout float64
}{
	{"base", 0.005, 0}, // DNS, CA, coordination: need only each other
	{"core", 0.045, 2}, // scheduler, config, discovery
	{"data", 0.15, 4},  // stores and queues
	{"mid", 0.30, 5},   // internal services
	{"svc", 0.35, 6},   // product services
	{"web", 0.15, 8},   // front ends
}

// FleetArrays is a synthetic fleet as raw arrays, for ingest benchmarks:
// Names sorted, edges sorted by source then target, no duplicates.
type FleetArrays struct {
	Names []string
	Info  []graph.NodeInfo
	Src   []int32
	Dst   []int32
	Kinds []graph.Kind
}

// Fleet returns a deterministic synthetic fleet of exactly services
// services and edges edges (see [FleetEdges]).
func Fleet(services, edges int, seed int64) *graph.Graph {
	f := FleetEdges(services, edges, seed)
	off := make([]int32, len(f.Names)+1)
	for _, s := range f.Src {
		off[s+1]++
	}
	for i := range len(f.Names) {
		off[i+1] += off[i]
	}
	ev := map[int32][]graph.Evidence{}
	for e := 0; e < len(f.Dst); e += 997 {
		ev[int32(e)] = []graph.Evidence{{Source: fmt.Sprintf("fleet:%d", seed), Detail: "synthetic"}}
	}
	g, err := graph.FromCSR(graph.CSR{Names: f.Names, Info: f.Info, Off: off, Dst: f.Dst, Kinds: f.Kinds, Evidence: ev})
	if err != nil {
		panic(fmt.Sprintf("graphtest: fleet is not a valid graph: %v", err))
	}
	return g
}

// FleetEdges generates a synthetic fleet: services in six tiers (base,
// core, data, mid, svc, web), each needing services of lower tiers — the
// tier right below and the base tier most — with preferential attachment,
// so a few services are hubs that thousands need. Bootstrap cycles are
// added on purpose inside tiers: about one per 500 services, disjoint, of
// 2 to 12 members, plus one knot of up to 1,000 members with chords; they
// are the only cycles, so their number is known. Edge kinds are about 65%
// hard, 20% declared, 12% soft and 3% observed (every cycle has a soft
// edge in 30% of cases, so some vanish over DefaultKinds). 70% of
// services have a recovery time. The same arguments give the same fleet.
// It panics if edges cannot fit.
func FleetEdges(services, edges int, seed int64) FleetArrays {
	r := rand.New(rand.NewPCG(uint64(seed), 0x5851f42d4c957f2d))
	// Tier sizes and offsets.
	size := make([]int, len(tiers))
	left := services
	for i := len(tiers) - 1; i > 0; i-- {
		size[i] = int(math.Round(float64(services) * tiers[i].share))
		left -= size[i]
	}
	size[0] = left
	if size[0] < 2 {
		panic("graphtest: fleet too small")
	}
	start := make([]int, len(tiers)+1)
	for i := range tiers {
		start[i+1] = start[i] + size[i]
	}
	f := FleetArrays{Names: make([]string, services), Info: make([]graph.NodeInfo, services)}
	for t, tier := range tiers {
		for i := 0; i < size[t]; i++ {
			v := start[t] + i
			f.Names[v] = fmt.Sprintf("%s-%07d", tier.name, i)
			info := graph.NodeInfo{Tier: tier.name, Owner: fmt.Sprintf("team-%03d", (i*7+t)%200)}
			if r.IntN(10) < 7 {
				lo, hi := 10, 600
				if t == 0 {
					lo, hi = 30, 120
				}
				info.RecoveryTime = time.Duration(lo+r.IntN(hi-lo)) * time.Second
			}
			f.Info[v] = info
		}
	}
	kind := func() graph.Kind {
		switch x := r.IntN(100); {
		case x < 65:
			return graph.Hard
		case x < 85:
			return graph.Declared
		case x < 97:
			return graph.Soft
		default:
			return graph.Observed
		}
	}
	type edge struct {
		to   int32
		kind graph.Kind
	}
	rows := make([][]edge, services)
	count := 0
	add := func(u, v int, k graph.Kind) bool {
		for _, e := range rows[u] {
			if e.to == int32(v) {
				return false
			}
		}
		rows[u] = append(rows[u], edge{int32(v), k})
		count++
		return true
	}

	// Cycles inside tiers, on disjoint members.
	used := make([]bool, services)
	pickFree := func(t int) int {
		for range 100 {
			v := start[t] + r.IntN(size[t])
			if !used[v] {
				used[v] = true
				return v
			}
		}
		return -1
	}
	cycle := func(t, k, chords int) {
		var m []int
		for range k {
			if v := pickFree(t); v >= 0 {
				m = append(m, v)
			}
		}
		if len(m) < 2 {
			return
		}
		soft := r.IntN(10) < 3
		for i := range m {
			k := graph.Hard
			if r.IntN(3) == 0 {
				k = graph.Declared
			}
			if soft && i == 0 {
				k = graph.Soft
			}
			add(m[i], m[(i+1)%len(m)], k)
		}
		for range chords {
			add(m[r.IntN(len(m))], m[r.IntN(len(m))], kind())
		}
	}
	tierFor := func() int { // cycles mostly low in the stack
		return []int{0, 1, 1, 2, 2, 3, 4}[r.IntN(7)]
	}
	knot := min(1000, services/1000)
	if knot >= 3 {
		cycle(1, knot, 2*knot)
	}
	for range max(2, services/500) {
		k := 2
		switch x := r.IntN(100); {
		case x < 50:
		case x < 75:
			k = 3
		case x < 90:
			k = 4 + r.IntN(3)
		default:
			k = 7 + r.IntN(6)
		}
		if count+k > edges/4 {
			break
		}
		cycle(tierFor(), k, 0)
	}

	// Random needs down the tiers, sources weighted by tier fan-out.
	var srcW []float64
	total := 0.0
	for t := range tiers {
		total += float64(size[t]) * tiers[t].fanout
		srcW = append(srcW, total)
	}
	target := func(t int) int {
		// Which lower tier: the base and the one right below are favoured.
		w := make([]int, t)
		sum := 0
		for s := 0; s < t; s++ {
			w[s] = 1
			if s == 0 {
				w[s] = 3
			}
			if s == t-1 {
				w[s] = 4
			}
			if s == t-2 {
				w[s] = 2
			}
			sum += w[s]
		}
		x := r.IntN(sum)
		s := 0
		for x >= w[s] {
			x -= w[s]
			s++
		}
		// Hubs: low indices are much more popular.
		u := r.Float64()
		return start[s] + int(float64(size[s])*u*u*u)
	}
	for attempts := 0; count < edges; attempts++ {
		if attempts > 50*edges {
			panic(fmt.Sprintf("graphtest: cannot fit %d edges among %d services", edges, services))
		}
		x := r.Float64() * total
		t, _ := slices.BinarySearch(srcW, x)
		t = min(t, len(tiers)-1)
		if t == 0 {
			continue
		}
		var u int
		if r.IntN(2) == 0 {
			u = start[t] + r.IntN(size[t])
		} else { // some services need far more than others
			q := r.Float64()
			u = start[t] + int(float64(size[t])*q*q)
		}
		add(u, target(t), kind())
	}

	f.Src = make([]int32, 0, count)
	f.Dst = make([]int32, 0, count)
	f.Kinds = make([]graph.Kind, 0, count)
	for u, row := range rows {
		slices.SortFunc(row, func(a, b edge) int { return int(a.to - b.to) })
		for _, e := range row {
			f.Src = append(f.Src, int32(u))
			f.Dst = append(f.Dst, e.to)
			f.Kinds = append(f.Kinds, e.kind)
		}
	}
	return f
}

// WriteFleetTSV writes the fleet of [FleetEdges] as an edge list,
// "from<TAB>to<TAB>kind" a line, after a comment line.
func WriteFleetTSV(w io.Writer, services, edges int, seed int64) error {
	f := FleetEdges(services, edges, seed)
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(bw, "# rgraph synthetic fleet: %d services, %d edges, seed %d\n", services, edges, seed)
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

// WithAlternatives returns g with alternative groups: for every every-th
// service that needs at least two others plainly (hard or declared), two
// or three of those needs become one explicit group of which it needs any
// one (edges of kind alternative). The same arguments give the same graph.
func WithAlternatives(g *graph.Graph, every int, seed int64) *graph.Graph {
	r := rand.New(rand.NewPCG(uint64(seed), 0xa17e))
	c := g.CSR()
	kinds := slices.Clone(c.Kinds)
	var groups [][]int32
	for u := 0; u+1 < len(c.Off); u++ {
		if u%every != 0 {
			continue
		}
		var plain []int32
		for e := c.Off[u]; e < c.Off[u+1]; e++ {
			if k := kinds[e]; (k == graph.Hard || k == graph.Declared) && c.Dst[e] != int32(u) {
				plain = append(plain, e)
			}
		}
		if len(plain) < 2 {
			continue
		}
		r.Shuffle(len(plain), func(i, j int) { plain[i], plain[j] = plain[j], plain[i] })
		grp := plain[:min(len(plain), 2+r.IntN(2))]
		for _, e := range grp {
			kinds[e] = graph.Alternative
		}
		groups = append(groups, slices.Clone(grp))
	}
	out, err := graph.FromCSR(graph.CSR{Names: c.Names, Info: c.Info, Off: c.Off, Dst: c.Dst, Kinds: kinds, Evidence: c.Evidence, Groups: groups})
	if err != nil {
		panic(fmt.Sprintf("graphtest: fleet with alternatives is not a valid graph: %v", err))
	}
	return out
}
