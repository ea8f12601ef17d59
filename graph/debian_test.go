package graph_test

// A real graph no one here wrote: Debian's package dependency graph, built
// at test time from `apt-cache dumpavail`.
//
// How package relations become edges (A -> B: A needs B):
//   - Pre-Depends: a clause naming one package is a hard edge (it must be
//     configured before A is unpacked).
//   - Depends: a clause naming one package is a declared edge.
//   - A clause "a | b" is an alternative group: A needs any one of a and b.
//   - Version constraints, architecture qualifiers (":any") and build
//     profiles are dropped: edges are between package names, and several
//     versions or architectures of a package are one node.
//   - A name no package has but some Provide is a virtual package: a node
//     of its own that needs any one of its providers.
//   - A name neither a package nor provided is an endpoint: it is missing
//     from the lists, so no plan recovers it.
// Recommends and Suggests are ignored.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gonum.org/v1/gonum/graph/simple"
	"gonum.org/v1/gonum/graph/topo"

	"github.com/rgraph/rgraph/graph"
	goldenfile "github.com/rgraph/rgraph/internal/golden"
	"github.com/rgraph/rgraph/internal/privtest"
)

// debianEdge is one parsed package relation: a clause of from, needing
// to[0] or, with several, any one of them.
type debianEdge struct {
	from string
	to   []string
	kind graph.Kind
}

// parseDumpavail turns `apt-cache dumpavail` output into edges and the set
// of real package names.
func parseDumpavail(data []byte) (edges []debianEdge, packages map[string]bool, err error) {
	packages = map[string]bool{}
	provides := map[string][]string{}
	var pkg string
	fields := map[string]string{}
	var last string
	flush := func() {
		if pkg == "" {
			return
		}
		packages[pkg] = true
		rel := func(field string, kind graph.Kind) {
			for _, clause := range strings.Split(fields[field], ",") {
				var to []string
				for _, alt := range strings.Split(clause, "|") {
					if name := debianName(alt); name != "" {
						to = append(to, name)
					}
				}
				if len(to) > 0 {
					edges = append(edges, debianEdge{pkg, to, kind})
				}
			}
		}
		rel("Pre-Depends", graph.Hard)
		rel("Depends", graph.Declared)
		for _, p := range strings.Split(fields["Provides"], ",") {
			if name := debianName(p); name != "" {
				provides[name] = append(provides[name], pkg)
			}
		}
		pkg, fields, last = "", map[string]string{}, ""
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				fields[last] += " " + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return nil, nil, fmt.Errorf("dumpavail: malformed line %q", line)
			}
			last = k
			fields[k] = strings.TrimSpace(v)
			if k == "Package" {
				pkg = fields[k]
			}
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	// Virtual packages: any one of their providers.
	virtual := map[string]bool{}
	for _, e := range edges {
		for _, t := range e.to {
			if !packages[t] && len(provides[t]) > 0 {
				virtual[t] = true
			}
		}
	}
	for v := range virtual {
		edges = append(edges, debianEdge{v, provides[v], graph.Alternative})
	}
	return edges, packages, nil
}

// debianName extracts the package name of one relation ("libc6:any (>= 2.36) [amd64] <!nocheck>").
func debianName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " (<["); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	return s
}

func buildDebian(edges []debianEdge, packages map[string]bool) *graph.Graph {
	b := graph.NewBuilder(len(packages), len(edges))
	for p := range packages {
		b.AddNode(p, graph.NodeInfo{})
	}
	known := map[string]bool{}
	for _, e := range edges {
		known[e.from] = true // packages and virtual packages
		if len(e.to) == 1 && e.kind != graph.Alternative {
			b.AddEdge(e.from, e.to[0], e.kind)
		} else {
			b.AddGroup(e.from, e.to...)
		}
	}
	for _, e := range edges {
		for _, t := range e.to {
			if !packages[t] && !known[t] {
				b.AddNode(t, graph.NodeInfo{Type: graph.Endpoint})
			}
		}
	}
	return b.Build()
}

// debianGraph builds the graph from this machine's apt lists, or skips
// (fails under RGRAPH_REQUIRE_PRIVILEGED=1: CI installs the lists).
func debianGraph(t *testing.T) *graph.Graph {
	t.Helper()
	if _, err := exec.LookPath("apt-cache"); err != nil {
		privtest.Skip(t, "apt-cache not found: the Debian package graph test needs a Debian or Ubuntu machine")
	}
	out, err := exec.Command("apt-cache", "dumpavail").Output()
	if err != nil {
		privtest.Skip(t, "apt-cache dumpavail failed (%v): no package lists to build the graph from", err)
	}
	edges, packages, err := parseDumpavail(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(packages) < 1000 {
		privtest.Skip(t, "only %d packages in apt's lists: run apt-get update for the real graph", len(packages))
	}
	return buildDebian(edges, packages)
}

func TestDebianPackageGraph(t *testing.T) {
	g := debianGraph(t)
	// Every edge needed: what gonum's algorithms compute. Alternatives are
	// checked against their own reference at the end.
	ks := andKinds
	t.Logf("Debian graph: %d nodes, %d edges", g.Len(), g.EdgeCount())

	// Reference: gonum's TarjanSCC on gonum's own map-based graph.
	sg := simple.NewDirectedGraph()
	selfLoop := map[int64]bool{}
	for v := 0; v < g.Len(); v++ {
		sg.AddNode(simple.Node(v))
	}
	for u := int32(0); u < int32(g.Len()); u++ {
		ts, kinds := g.Out(u)
		for i, v := range ts {
			if !ks.Has(kinds[i]) {
				continue
			}
			if u == v {
				selfLoop[int64(u)] = true
				continue
			}
			sg.SetEdge(simple.Edge{F: simple.Node(u), T: simple.Node(v)})
		}
	}
	sccs := topo.TarjanSCC(sg)
	var want [][]string
	compOf := make([]int, g.Len())
	for i, c := range sccs {
		var names []string
		for _, n := range c {
			compOf[n.ID()] = i
			names = append(names, g.Name(int32(n.ID())))
		}
		sort.Strings(names)
		if len(c) > 1 || selfLoop[c[0].ID()] {
			want = append(want, names)
		}
	}
	slices.SortFunc(want, func(a, b []string) int { return strings.Compare(a[0], b[0]) })

	cycles := graph.Cycles(g, graph.CycleOptions{Kinds: ks})
	var got [][]string
	biggest := 0
	for _, c := range cycles {
		got = append(got, c.Members)
		biggest = max(biggest, len(c.Members))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("Cycles components vs gonum TarjanSCC (-gonum +ours):\n%s", d)
	}
	if len(cycles) == 0 {
		t.Fatalf("no cycles in the Debian graph: parsing is broken")
	}
	t.Logf("%d cyclic components, the biggest with %d packages", len(cycles), biggest)

	// Witnesses are real cycles of shortest length, and cuts break them.
	for _, c := range cycles {
		checkRealWitness(t, g, ks, c)
	}

	// Reference waves: Kahn's algorithm on gonum's condensation, peeling
	// components whose needs are all placed. A missing package (an
	// endpoint) is recovered by no one and waited for by no one.
	nc := len(sccs)
	needs := make([]map[int]bool, nc)
	dependents := make([][]int, nc)
	for i := range needs {
		needs[i] = map[int]bool{}
	}
	for u := int32(0); u < int32(g.Len()); u++ {
		ts, kinds := g.Out(u)
		for i, v := range ts {
			cu, cv := compOf[u], compOf[v]
			if ks.Has(kinds[i]) && cu != cv && !needs[cu][cv] && g.Info(v).Type == graph.Service {
				needs[cu][cv] = true
				dependents[cv] = append(dependents[cv], cu)
			}
		}
	}
	wave := make([]int, nc)
	left := make([]int, nc)
	var queue []int
	for c := range needs {
		left[c] = len(needs[c])
		if left[c] == 0 {
			queue = append(queue, c)
		}
	}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		for _, d := range dependents[c] {
			wave[d] = max(wave[d], wave[c]+1)
			if left[d]--; left[d] == 0 {
				queue = append(queue, d)
			}
		}
	}
	order, err := graph.RecoveryOrder(g, graph.OrderOptions{Kinds: ks})
	if err != nil {
		t.Fatal(err)
	}
	placed, endpoints := 0, 0
	for v := range g.Len() {
		if g.Info(int32(v)).Type == graph.Endpoint {
			endpoints++
		}
	}
	for _, w := range order.Waves {
		for _, s := range w.Services {
			id, _ := g.ID(s)
			if wave[compOf[id]] != w.Index {
				t.Fatalf("%s in wave %d, Kahn reference %d", s, w.Index, wave[compOf[id]])
			}
			placed++
		}
	}
	if placed != g.Len()-endpoints {
		t.Fatalf("%d packages placed in waves, graph has %d and %d missing ones", placed, g.Len()-endpoints, endpoints)
	}
	t.Logf("%d waves; critical path of %d packages", len(order.Waves), len(order.CriticalPath.Services))

	// gonum's algorithms on the compact view agree too.
	var viaView [][]string
	for _, c := range topo.TarjanSCC(g.Directed(ks)) {
		if len(c) > 1 || selfLoop[c[0].ID()] {
			var names []string
			for _, n := range c {
				names = append(names, g.Name(int32(n.ID())))
			}
			sort.Strings(names)
			viaView = append(viaView, names)
		}
	}
	slices.SortFunc(viaView, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	if d := cmp.Diff(want, viaView); d != "" {
		t.Fatalf("topo.TarjanSCC on Directed vs on simple.DirectedGraph (-simple +view):\n%s", d)
	}

	// Why: a path exists exactly when the closure says so.
	for _, pair := range [][2]string{{"apt", "libc6"}, {"python3", "libc6"}, {"libc6", "apt"}} {
		paths, err := graph.Why(g, pair[0], pair[1], graph.WhyOptions{Kinds: ks, All: true, Limit: 3})
		if errors.Is(err, graph.ErrUnknownService) {
			continue
		}
		cl, _ := graph.Closure(g, ks, []string{pair[0]})
		_, reach := slices.BinarySearch(cl, pair[1])
		if (err == nil) != reach {
			t.Errorf("Why(%s, %s) error %v, closure says reachable=%v", pair[0], pair[1], err, reach)
		}
		for _, p := range paths {
			t.Logf("why %s needs %s: %s", pair[0], pair[1], strings.Join(pathNames(p), " -> "))
		}
	}

	// With "a | b" as any one of: the plan agrees with the reference.
	alt, err := graph.RecoveryOrder(g, graph.OrderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, g, 0, true, alt)
	groups := 0
	for _, w := range alt.Waves {
		groups += len(w.Groups)
	}
	t.Logf("with alternatives: %d waves, %d jumpstart groups, %d alternative groups chosen, %d missing packages",
		len(alt.Waves), groups, len(alt.Alternatives), len(alt.Unowned))
}

// checkRealWitness checks a component's witness and cuts on a large graph
// by BFS restricted to the component.
func checkRealWitness(t *testing.T, g *graph.Graph, ks graph.KindSet, c graph.Component) {
	t.Helper()
	in := map[int32]bool{}
	for _, m := range c.Members {
		id, _ := g.ID(m)
		in[id] = true
	}
	has := func(u, v int32, cut map[[2]int32]bool) bool {
		e, ok := g.Edge(u, v)
		if !ok || cut[[2]int32{u, v}] {
			return false
		}
		_, k := g.EdgeTarget(e)
		return ks.Has(k)
	}
	for i, e := range c.Witness.Edges {
		u, _ := g.ID(e.From)
		v, _ := g.ID(e.To)
		if !has(u, v, nil) || e.From != c.Witness.Services[i] {
			t.Fatalf("witness %v: edge %s->%s not in the graph", c.Witness.Services, e.From, e.To)
		}
	}
	// Shortest: BFS from every member inside the component.
	if len(c.Members) > 1 && len(c.Members) <= 3000 {
		best := 1 << 30
		for s := range in {
			dist := map[int32]int{s: 0}
			q := []int32{s}
			for len(q) > 0 {
				u := q[0]
				q = q[1:]
				ts, _ := g.Out(u)
				for _, v := range ts {
					if !in[v] || !has(u, v, nil) {
						continue
					}
					if v == s && u != s {
						best = min(best, dist[u]+1)
					}
					if _, ok := dist[v]; !ok {
						dist[v] = dist[u] + 1
						q = append(q, v)
					}
				}
			}
		}
		if len(c.Witness.Services) != best {
			t.Fatalf("witness %v has length %d, shortest is %d", c.Witness.Services, len(c.Witness.Services), best)
		}
	}
	// Cuts leave the component acyclic (peel nodes without live out-edges).
	for _, cut := range c.Cuts {
		removed := map[[2]int32]bool{}
		for _, e := range cut.Edges {
			u, _ := g.ID(e.From)
			v, _ := g.ID(e.To)
			removed[[2]int32{u, v}] = true
		}
		alive := maps(in)
		for changed := true; changed; {
			changed = false
			for u := range alive {
				live := false
				ts, _ := g.Out(u)
				for _, v := range ts {
					if alive[v] && has(u, v, removed) {
						live = true
						break
					}
				}
				if !live {
					delete(alive, u)
					changed = true
				}
			}
		}
		if len(alive) > 0 {
			t.Fatalf("cut %v leaves %d packages of component %s cyclic", cut.Edges, len(alive), c.ID)
		}
	}
}

func maps(m map[int32]bool) map[int32]bool {
	out := make(map[int32]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestDebianFixture regenerates testdata/debian-subset.tsv from apt's lists
// with -update; the fixture itself is checked by the golden tests.
func TestDebianFixture(t *testing.T) {
	if !goldenfile.Update() {
		t.Skip("regenerates testdata/debian-subset.tsv only with -update")
	}
	g := debianGraph(t)
	roots := []string{"apt", "perl", "python3", "systemd", "openssh-server"}
	names, err := graph.Closure(g, andKinds, roots)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := graph.Subgraph(graph.Filter(g, andKinds), names, false)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Debian 12 package dependencies (apt-cache dumpavail), closure of %s\n", strings.Join(roots, ", "))
	fmt.Fprintf(&buf, "# over Pre-Depends (hard) and Depends (declared) clauses that name one package; see debian_test.go.\n")
	for u := int32(0); u < int32(sub.Len()); u++ {
		ts, ks := sub.Out(u)
		for i, v := range ts {
			fmt.Fprintf(&buf, "%s\t%s\t%s\n", sub.Name(u), sub.Name(v), ks[i])
		}
	}
	if err := os.WriteFile("testdata/debian-subset.tsv", buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d packages, %d edges", sub.Len(), sub.EdgeCount())
}
