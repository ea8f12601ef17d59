package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/internal/golden"
)

func TestDiffMarkdown(t *testing.T) {
	tests := []struct {
		name string
		r    DiffReport
	}{
		{"worse", fleetDiff()},
		{"clean", DiffReport{Old: "a", New: "b", Delta: graph.Delta{
			RemovedEdges: []graph.Edge{{From: "x", To: "y", Kind: graph.Soft}},
		}}},
		{"nothing", DiffReport{Old: "a", New: "a"}},
		{"gate", func() DiffReport {
			r := fleetDiff()
			r.Gated = true
			r.Failing = graph.Select(graph.Findings(r.Delta), []graph.Category{graph.CategoryNewCycle})
			r.Accepted = 1
			return r
		}()},
		{"gate-passes", func() DiffReport {
			r := fleetDiff()
			r.Gated = true
			return r
		}()},
		{"hostile-names", DiffReport{Old: "r`1", New: "<b>", Delta: graph.Delta{
			AddedEdges: []graph.Edge{{From: "a|b", To: "`c`", Kind: graph.Hard, Evidence: []graph.Evidence{{Source: "*run* [x](y) <img>"}}}},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := DiffMarkdown(&buf, tt.r); err != nil {
				t.Fatal(err)
			}
			golden.CheckExt(t, ".md", buf.Bytes())
		})
	}
}

func TestDiffMarkdownLimit(t *testing.T) {
	var d graph.Delta
	for i := 0; i < 120; i++ {
		d.LaterWave = append(d.LaterWave, graph.WaveShift{Service: strings.Repeat("s", 1+i%7) + string(rune('a'+i%26)), Old: 1, New: 2})
	}
	var buf bytes.Buffer
	if err := DiffMarkdown(&buf, DiffReport{Old: "a", New: "b", Delta: d}); err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(buf.String(), "| 1 | 2 |"); rows != mdLimit {
		t.Errorf("%d rows, want %d", rows, mdLimit)
	}
	if !strings.Contains(buf.String(), "and 70 more") {
		t.Errorf("no count of the rows left out:\n%s", buf.String())
	}
}

func TestMDCode(t *testing.T) {
	for in, want := range map[string]string{
		"ca":   "`ca`",
		"a`b":  "``a`b``",
		"`x`":  "`` `x` ``",
		"a|b":  "`a|b`",
		"a\nb": "`a b`",
		"":     "` `",
	} {
		if got := mdCode(in); got != want {
			t.Errorf("mdCode(%q) = %q, want %q", in, got, want)
		}
	}
}
