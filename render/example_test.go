package render_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/render"
)

// bootstrap is a small fleet with one bootstrap cycle: the certificate
// authority runs on the scheduler, and the scheduler needs certificates.
func bootstrap() *graph.Graph {
	b := graph.NewBuilder(0, 0)
	b.AddEdge("ca", "scheduler", graph.Hard, graph.Evidence{Source: "run-7", Process: "step-ca[31]", Endpoint: "sched:6443/tcp"})
	b.AddEdge("scheduler", "ca", graph.Hard, graph.Evidence{Source: "run-9", Process: "sched[8]", Endpoint: "dns:ca.internal"})
	b.AddEdge("scheduler", "dns", graph.Hard, graph.Evidence{Source: "run-9", Process: "sched[8]", Endpoint: "dns:53/udp"})
	b.AddEdge("api", "scheduler", graph.Hard, graph.Evidence{Source: "edges.tsv:3"})
	b.AddEdge("api", "cache", graph.Soft)
	return b.Build()
}

func ExampleCycles() {
	comps := graph.Cycles(bootstrap(), graph.CycleOptions{})
	// Off a terminal: one tab-separated record per line.
	_ = render.Cycles(os.Stdout, render.Terminal{}, comps)
	// Output:
	// cycle	ca+1-7961aca9	2	ca,scheduler	ca -> scheduler -> ca	shortest
	// edge	ca+1-7961aca9	ca	scheduler	hard	run-7: step-ca[31] -> sched:6443/tcp
	// edge	ca+1-7961aca9	scheduler	ca	hard	run-9: sched[8] -> dns:ca.internal
	// cut	ca+1-7961aca9	1	10	exact	ca->scheduler:hard
	// cut	ca+1-7961aca9	2	10	exact	scheduler->ca:hard
}

func ExampleOrder() {
	order, err := graph.RecoveryOrder(bootstrap(), graph.OrderOptions{})
	if err != nil {
		panic(err)
	}
	// On an 80-column terminal without colour.
	_ = render.Order(os.Stdout, render.Terminal{TTY: true, Width: 80}, order)
	// Output:
	// recovery order · 3 waves · 5 services · 1 jumpstart group
	//
	// WAVE  N  SERVICES       JUMPSTART
	// 0     2  cache, dns
	// 1     2  ca, scheduler  {ca, scheduler}
	// 2     1  api
	//
	// a jumpstart group is a bootstrap cycle: its members need each other and must be…
	//
	// critical path (recovery times unknown)
	//   dns -> {ca, scheduler} -> api
}

func ExampleWhy() {
	paths, err := graph.Why(bootstrap(), "api", "dns", graph.WhyOptions{})
	if err != nil {
		panic(err)
	}
	_ = render.Why(os.Stdout, render.Terminal{}, "api", "dns", paths)
	// Output:
	// path	1	2	api -> scheduler -> dns
	// edge	1	api	scheduler	hard	edges.tsv:3
	// edge	1	scheduler	dns	hard	run-9: sched[8] -> dns:53/udp
}

func ExampleOrderJSON() {
	order, err := graph.RecoveryOrder(bootstrap(), graph.OrderOptions{})
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	_ = render.OrderJSON(&buf, order)
	fmt.Println(strings.Join(strings.Fields(buf.String())[:10], " "))
	// Output:
	// { "schemaVersion": 1, "kind": "order", "waves": [ { "index": 0,
}

func ExampleDOT() {
	g := bootstrap()
	comps := graph.Cycles(g, graph.CycleOptions{})
	var dot bytes.Buffer
	// Only the bootstrap cycles, highlighted.
	_ = render.DOT(&dot, g, render.DOTOptions{Components: comps, CyclesOnly: true})
	fmt.Print(dot.String())
	// The output is byte-stable; render.SVG or render.PNG lay it out.
	var svg bytes.Buffer
	if err := render.SVG(context.Background(), &svg, dot.Bytes()); err != nil {
		panic(err)
	}
	// Output:
	// digraph rgraph {
	// 	graph [rankdir=BT, newrank=true, fontname="Helvetica", fontsize=12, nodesep=0.3, ranksep=0.45, labelloc=t, labeljust=l, label="cycles only: 2 services\l"];
	// 	node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#333333", fontname="Helvetica", fontsize=11];
	// 	edge [color="#333333", arrowsize=0.7, fontname="Helvetica", fontsize=9];
	// 	"ca" [label="ca", color="#d62728", fillcolor="#fdecea", penwidth=2, tooltip="ca"];
	// 	"scheduler" [label="scheduler", color="#d62728", fillcolor="#fdecea", penwidth=2, tooltip="scheduler"];
	// 	"ca" -> "scheduler" [color="#d62728", penwidth=2.40, tooltip="ca needs scheduler (hard)"];
	// 	"scheduler" -> "ca" [color="#d62728", penwidth=2.40, tooltip="scheduler needs ca (hard)"];
	// 	subgraph cluster_legend {
	// 		graph [label="", peripheries=0];
	// 		"legend: 0" [label="legend:", shape=plaintext, style="", fontsize=9];
	// 		"legend: 1" [label="in a bootstrap cycle", shape=box, style="rounded,filled", fillcolor="#fdecea", fontsize=9, color="#d62728", penwidth=2];
	// 		{ rank=same; "legend: 0"; "legend: 1"; }
	// 		"legend: 0" -> "legend: 1" [style=invis];
	// 		"legend: 2" [label="", shape=point, width=0.05, color="#8a8a8a"];
	// 		"legend: 2 text" [label="shortest cycle (witness)", shape=plaintext, style="", fontsize=9];
	// 		"legend: 2" -> "legend: 2 text" [color="#d62728", penwidth=2.40, tooltip="shortest cycle (witness)"];
	// 		{ rank=same; "legend: 2"; "legend: 2 text"; }
	// 		"legend: 2" -> "legend: 0" [style=invis];
	// 	}
	// }
}

func ExampleTable() {
	rows := [][]string{{"2024.05", "41", "2024-05-02T10:00:00Z"}, {"2024.06", "44", "2024-06-01T09:30:00Z"}}
	_ = render.Table(os.Stdout, render.Terminal{TTY: true, Width: 80}, []string{"RELEASE", "SERVICES", "INGESTED"}, rows)
	// Output:
	// RELEASE  SERVICES  INGESTED
	// 2024.05  41        2024-05-02T10:00:00Z
	// 2024.06  44        2024-06-01T09:30:00Z
}

func ExampleDiffMarkdown() {
	old := bootstrap()
	b := graph.NewBuilder(0, 0)
	b.AddEdge("ca", "scheduler", graph.Hard)
	b.AddEdge("scheduler", "dns", graph.Hard)
	b.AddEdge("api", "scheduler", graph.Hard)
	b.AddEdge("api", "cache", graph.Hard, graph.Evidence{Source: "run-12", Process: "api[4]", Endpoint: "cache:6379/tcp"})
	new := b.Build()
	r := render.DiffReport{Old: "v1", New: "v2", Delta: graph.Diff(old, new, graph.DiffOptions{}), Graph: new}
	_ = render.DiffMarkdown(os.Stdout, r)
	// Output:
	// ### ❌ 1 new hard dependency, 1 service pushed to a later wave
	//
	// rgraph diff `v1` → `v2` · 1 cycle resolved, 1 edge removed
	//
	// #### New hard dependencies (1)
	//
	// | Service | Now needs | Evidence |
	// |---|---|---|
	// | `api` | `cache` | was soft; run-12: api\[4\] -> cache:6379/tcp |
	//
	// #### Pushed to a later wave (1)
	//
	// | Service | Was | Now |
	// |---|---:|---:|
	// | `ca` | 1 | 2 |
	//
	// #### Resolved (2)
	//
	// - cycle `ca` → `scheduler` → `ca` broken
	// - `scheduler` no longer needs `ca` (hard)
}
