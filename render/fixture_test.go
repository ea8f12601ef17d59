package render

import (
	"time"

	"github.com/rgraph/rgraph/graph"
)

// The example fleet used across the tests: edge A -> B means A needs B.
//
//	api -> config, discovery (hard), logd (soft), ca (declared)
//	config, discovery -> coord, dns (hard)
//	ca <-> scheduler (hard), scheduler -> coord (hard), coord -> ca (hard)
//	scheduler -> pkgstore (hard), pkgstore -> dns (hard)
//	pkgstore -> 10.0.0.9:443 (observed; an endpoint no catalog claims)
//	logd -> logd (hard; it logs to itself while starting)

var (
	evCA = graph.Evidence{Source: "run-0007", Scenario: "ca-boot", Process: "step-ca[311]", Endpoint: "scheduler.internal:6443/tcp", Detail: "required"}
	evSc = graph.Evidence{Source: "run-0012", Scenario: "scheduler-boot", Process: "kube-sched[88]", Endpoint: "dns:ca.internal", Detail: "required"}
	evCo = graph.Evidence{Source: "run-0015", Scenario: "coord-boot", Process: "etcd[17]", Endpoint: "10.99.0.20:8443/tcp", Detail: "required"}
)

type fleetEdge struct {
	from, to string
	kind     graph.Kind
	ev       []graph.Evidence
}

var fleetEdges = []fleetEdge{
	{"api", "config", graph.Hard, nil},
	{"api", "discovery", graph.Hard, nil},
	{"api", "logd", graph.Soft, nil},
	{"api", "ca", graph.Declared, nil},
	{"config", "coord", graph.Hard, nil},
	{"config", "dns", graph.Hard, nil},
	{"discovery", "coord", graph.Hard, nil},
	{"discovery", "dns", graph.Hard, nil},
	{"ca", "scheduler", graph.Hard, []graph.Evidence{evCA}},
	{"scheduler", "ca", graph.Hard, []graph.Evidence{evSc}},
	{"scheduler", "coord", graph.Hard, nil},
	{"coord", "ca", graph.Hard, []graph.Evidence{evCo}},
	{"scheduler", "pkgstore", graph.Hard, nil},
	{"pkgstore", "dns", graph.Hard, nil},
	{"pkgstore", "10.0.0.9:443", graph.Observed, nil},
	{"logd", "logd", graph.Hard, nil},
}

func fleetGraph() *graph.Graph {
	b := graph.NewBuilder(0, 0)
	owners := map[string][2]string{
		"api": {"web", "app"}, "config": {"platform", "core"}, "discovery": {"platform", "core"},
		"ca": {"security", "base"}, "scheduler": {"compute", "base"}, "coord": {"platform", "base"},
		"pkgstore": {"compute", "base"}, "dns": {"network", "base"}, "logd": {"observability", "base"},
	}
	for name, ot := range owners {
		b.AddNode(name, graph.NodeInfo{Owner: ot[0], Tier: ot[1], RecoveryTime: time.Duration(len(name)) * 30 * time.Second})
	}
	b.AddNode("10.0.0.9:443", graph.NodeInfo{Type: graph.Endpoint})
	for _, e := range fleetEdges {
		b.AddEdge(e.from, e.to, e.kind, e.ev...)
	}
	return b.Build()
}

func fleetEdgeOf(from, to string) graph.Edge {
	for _, e := range fleetEdges {
		if e.from == from && e.to == to {
			return graph.Edge{From: from, To: to, Kind: e.kind, Evidence: e.ev}
		}
	}
	panic("no edge " + from + " -> " + to)
}

func fleetComponents() []graph.Component {
	return []graph.Component{
		{
			ID:           "c-logd",
			Members:      []string{"logd"},
			WitnessExact: true,
			Witness:      graph.Cycle{ID: "c-logd", Services: []string{"logd"}, Edges: []graph.Edge{fleetEdgeOf("logd", "logd")}},
			Cuts:         []graph.Cut{{Edges: []graph.Edge{{From: "logd", To: "logd", Kind: graph.Hard}}, Cost: 3, Exact: true}},
		},
		{
			ID:           "c-5f1e2a9b",
			Members:      []string{"scheduler", "ca", "coord"},
			WitnessExact: true,
			Witness:      graph.Cycle{ID: "c-5f1e2a9b", Services: []string{"ca", "scheduler"}, Edges: []graph.Edge{fleetEdgeOf("ca", "scheduler"), fleetEdgeOf("scheduler", "ca")}},
			Cuts: []graph.Cut{
				{Edges: []graph.Edge{{From: "ca", To: "scheduler", Kind: graph.Hard}}, Cost: 3, Exact: true},
				{Edges: []graph.Edge{{From: "coord", To: "ca", Kind: graph.Hard}, {From: "scheduler", To: "ca", Kind: graph.Hard}}, Cost: 6},
			},
		},
	}
}

func fleetOrder() graph.Order {
	return graph.Order{
		Waves: []graph.Wave{
			{Index: 0, Services: []string{"dns", "logd"}, Groups: []graph.Group{{ID: "c-logd", Members: []string{"logd"}}}},
			{Index: 1, Services: []string{"pkgstore"}},
			{Index: 2, Services: []string{"ca", "coord", "scheduler"}, Groups: []graph.Group{{ID: "c-5f1e2a9b", Members: []string{"scheduler", "ca", "coord"}}}},
			{Index: 3, Services: []string{"config", "discovery"}},
			{Index: 4, Services: []string{"api"}},
		},
		CriticalPath: graph.CriticalPath{
			Services:  []string{"dns", "pkgstore", "ca", "coord", "scheduler", "discovery", "api"},
			Duration:  27*time.Minute + 30*time.Second,
			Defaulted: []string{"api"},
		},
	}
}

func fleetPaths() []graph.Path {
	return []graph.Path{
		{Edges: []graph.Edge{fleetEdgeOf("api", "config"), fleetEdgeOf("config", "coord"), fleetEdgeOf("coord", "ca")}},
		{Edges: []graph.Edge{fleetEdgeOf("api", "discovery"), fleetEdgeOf("discovery", "coord"), fleetEdgeOf("coord", "ca")}},
	}
}

func fleetDiff() DiffReport {
	return DiffReport{
		Old: "2024.05",
		New: "2024.06",
		Delta: graph.Delta{
			AddedServices:   []string{"logd"},
			RemovedServices: []string{"ntp"},
			AddedEdges: []graph.Edge{
				fleetEdgeOf("coord", "ca"),
				fleetEdgeOf("api", "logd"),
				fleetEdgeOf("logd", "logd"),
			},
			RemovedEdges: []graph.Edge{{From: "config", To: "ntp", Kind: graph.Hard}},
			KindChanges:  []graph.KindChange{{From: "scheduler", To: "pkgstore", Old: graph.Soft, New: graph.Hard}},
			NewCycles: []graph.Cycle{
				{ID: "c-logd", Services: []string{"logd"}, Edges: []graph.Edge{fleetEdgeOf("logd", "logd")}},
				{ID: "c-9d3f0c11", Services: []string{"ca", "scheduler", "coord"}, Edges: []graph.Edge{fleetEdgeOf("ca", "scheduler"), fleetEdgeOf("scheduler", "coord"), fleetEdgeOf("coord", "ca")}},
			},
			ResolvedCycles: []graph.Cycle{{ID: "c-0a7c", Services: []string{"config", "discovery"}, Edges: []graph.Edge{{From: "config", To: "discovery", Kind: graph.Hard}, {From: "discovery", To: "config", Kind: graph.Declared}}}},
			LaterWave:      []graph.WaveShift{{Service: "discovery", Old: 2, New: 3}, {Service: "api", Old: 3, New: 4}},
			ClosureGrowth:  []graph.Growth{{Service: "api", Old: 6, New: 8}, {Service: "discovery", Old: 1200, New: 1350, Estimated: true}},
		},
	}
}

// fleetGraphOld is the release before fleetGraph: no coord -> ca, no logd,
// scheduler -> pkgstore only soft, config and discovery needing each
// other, and an ntp service config needed.
func fleetGraphOld() *graph.Graph {
	b := graph.NewBuilder(0, 0)
	new := fleetGraph()
	for v := int32(0); v < int32(new.Len()); v++ {
		if name := new.Name(v); name != "logd" {
			b.AddNode(name, new.Info(v))
		}
	}
	for _, e := range fleetEdges {
		switch {
		case e.from == "coord" && e.to == "ca", e.from == "logd" || e.to == "logd":
			continue
		case e.from == "scheduler" && e.to == "pkgstore":
			b.AddEdge(e.from, e.to, graph.Soft)
			continue
		}
		b.AddEdge(e.from, e.to, e.kind, e.ev...)
	}
	b.AddEdge("config", "discovery", graph.Hard)
	b.AddEdge("discovery", "config", graph.Declared)
	b.AddEdge("config", "ntp", graph.Hard)
	return b.Build()
}
