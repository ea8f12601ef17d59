package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/internal/golden"
)

// fleetComparison is the example fleet's recovery graph against a
// runtime graph in which caches hide some needs.
func fleetComparison() CompareReport {
	b := graph.NewBuilder(0, 0)
	for _, n := range []string{"ca", "config", "coord", "discovery", "logd", "pkgstore", "scheduler", "web"} {
		b.AddNode(n, graph.NodeInfo{})
	}
	b.AddNode("10.0.0.9:443/tcp", graph.NodeInfo{Type: graph.Endpoint})
	ev := func(s string) graph.Evidence {
		return graph.Evidence{Source: "run-" + s, Process: s + "d[7]", Endpoint: "dns:" + s + ".fleet.internal", Detail: "allowed, count 1"}
	}
	b.AddEdge("web", "config", graph.Hard, ev("web"))
	b.AddEdge("web", "discovery", graph.Hard, ev("web"))
	b.AddEdge("web", "pkgstore", graph.Soft, ev("web"))
	b.AddEdge("config", "coord", graph.Hard)
	b.AddEdge("config", "logd", graph.Hard)
	b.AddEdge("pkgstore", "config", graph.Hard)
	b.AddEdge("pkgstore", "10.0.0.9:443/tcp", graph.Hard)
	b.AddEdge("scheduler", "coord", graph.Hard)
	b.AddEdge("coord", "ca", graph.Hard)
	calls := []graph.Call{
		{From: "web", To: "config", Calls: 5210},
		{From: "web", To: "pkgstore", Calls: 880},
		{From: "web", To: "payments", Calls: 312},
		{From: "config", To: "coord", Calls: 10422},
		{From: "scheduler", To: "coord", Calls: 2301},
	}
	return CompareReport{Release: "2026-11", Runtime: []string{"deps.json (jaeger)"},
		Comparison: graph.Compare(b.Build(), calls, graph.CompareOptions{})}
}

func TestCompare(t *testing.T) {
	checkText(t, func(b *bytes.Buffer, term Terminal) error { return Compare(b, term, fleetComparison()) })
}

func TestCompareJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := CompareJSON(&buf, fleetComparison()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Kind     string `json:"kind"`
		Services []struct {
			Service      string            `json:"service"`
			RecoveryOnly []json.RawMessage `json:"recoveryOnly"`
		} `json:"services"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Kind != "compare" || len(doc.Services) == 0 {
		t.Errorf("CompareJSON = %s, want a compare document with services", buf.String())
	}
	golden.CheckExt(t, ".json", buf.Bytes())
}

func TestCompareMarkdown(t *testing.T) {
	tests := []struct {
		name string
		r    CompareReport
	}{
		{"fleet", fleetComparison()},
		{"empty", CompareReport{Release: "r1", Runtime: []string{"x.tsv (edges)"}}},
		{"hostile-names", CompareReport{Release: "r`1", Runtime: []string{"<b>.json"},
			Comparison: graph.Compare(graph.NewBuilder(0, 0).Build(), []graph.Call{{From: "a|b", To: "*c*", Calls: 1}}, graph.CompareOptions{})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := CompareMarkdown(&buf, tt.r); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(strings.ReplaceAll(buf.String(), `\<`, ""), "<") {
				t.Errorf("raw HTML in Markdown:\n%s", buf.String())
			}
			golden.CheckExt(t, ".md", buf.Bytes())
		})
	}
}
