package graph_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/rgraph/rgraph/graph"
)

// exampleFleet is the bootstrap knot the brief describes: the CA runs in
// containers, and the container scheduler needs certificates from the CA.
func exampleFleet() *graph.Graph {
	var b graph.Builder
	b.AddNode("dns", graph.NodeInfo{RecoveryTime: 30 * time.Second})
	b.AddNode("coord", graph.NodeInfo{RecoveryTime: 2 * time.Minute})
	b.AddNode("ca", graph.NodeInfo{RecoveryTime: time.Minute})
	b.AddNode("sched", graph.NodeInfo{RecoveryTime: 3 * time.Minute})
	b.AddEdge("coord", "dns", graph.Hard)
	b.AddEdge("ca", "sched", graph.Hard, graph.Evidence{Source: "run-ca-1", Endpoint: "dns:sched.internal"})
	b.AddEdge("sched", "ca", graph.Declared)
	b.AddEdge("sched", "coord", graph.Hard)
	b.AddEdge("web", "sched", graph.Hard)
	b.AddEdge("web", "cache", graph.Soft)
	return b.Build()
}

func ExampleCycles() {
	g := exampleFleet()
	for _, c := range graph.Cycles(g, graph.CycleOptions{}) {
		fmt.Println("knot:", strings.Join(c.Members, ", "))
		fmt.Println("witness:", strings.Join(c.Witness.Services, " -> "), "->", c.Witness.Services[0])
		for _, cut := range c.Cuts {
			fmt.Printf("cut %s -> %s (%s), cost %g, exact %v\n", cut.Edges[0].From, cut.Edges[0].To, cut.Edges[0].Kind, cut.Cost, cut.Exact)
		}
	}
	// Output:
	// knot: ca, sched
	// witness: ca -> sched -> ca
	// cut sched -> ca (declared), cost 4, exact true
	// cut ca -> sched (hard), cost 10, exact false
}

func ExampleRecoveryOrder() {
	g := exampleFleet()
	order, err := graph.RecoveryOrder(g, graph.OrderOptions{DefaultDuration: 45 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range order.Waves {
		fmt.Printf("wave %d: %s", w.Index, strings.Join(w.Services, " "))
		for _, gr := range w.Groups {
			fmt.Printf(" (jumpstart %s)", strings.Join(gr.Members, "+"))
		}
		fmt.Println()
	}
	cp := order.CriticalPath
	fmt.Printf("critical path: %s, %v (defaulted: %s)\n", strings.Join(cp.Services, " -> "), cp.Duration, strings.Join(cp.Defaulted, ", "))
	// Output:
	// wave 0: cache dns
	// wave 1: coord
	// wave 2: ca sched (jumpstart ca+sched)
	// wave 3: web
	// critical path: dns -> coord -> ca -> sched -> web, 6m15s (defaulted: web)
}

func ExampleWhy() {
	g := exampleFleet()
	paths, err := graph.Why(g, "web", "dns", graph.WhyOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range paths[0].Edges {
		fmt.Printf("%s needs %s (%s)\n", e.From, e.To, e.Kind)
	}
	_, err = graph.Why(g, "dns", "web", graph.WhyOptions{})
	fmt.Println(err)
	// Output:
	// web needs sched (hard)
	// sched needs coord (hard)
	// coord needs dns (hard)
	// "dns" does not need "web" (over alternative,declared,hard edges)
}
