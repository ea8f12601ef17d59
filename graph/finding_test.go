package graph_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
)

func diffFixture() graph.Delta {
	old := graphtest.FromAdjacency(map[string][]string{
		"web": {"db", "cache:soft"}, "db": {"dns"}, "dns": {}, "cache": {}, "log": {},
	})
	new := graphtest.FromAdjacency(map[string][]string{
		"web": {"db", "cache:hard", "log:declared"}, "db": {"dns"}, "dns": {"db"}, "cache": {}, "log": {"db:declared"},
	})
	return graph.Diff(old, new, graph.DiffOptions{})
}

func TestFindings(t *testing.T) {
	got := graph.Findings(diffFixture())
	cyc := graph.CycleID([]string{"db", "dns"})
	want := []graph.Finding{
		{Key: "cycle:" + cyc, Category: graph.CategoryNewCycle, Message: "new bootstrap cycle db -> dns -> db"},
		{Key: "hard-edge:dns->db", Category: graph.CategoryNewHardEdge, Message: "new hard dependency dns -> db"},
		{Key: "hard-edge:web->cache", Category: graph.CategoryNewHardEdge, Message: "web -> cache is now hard (was soft)"},
		{Key: "edge:log->db", Category: graph.CategoryNewEdge, Message: "new declared dependency log -> db"},
		{Key: "edge:web->log", Category: graph.CategoryNewEdge, Message: "new declared dependency web -> log"},
		{Key: "wave:log", Category: graph.CategoryLaterWave, Message: "log recovers in wave 1 (was 0)"},
		{Key: "growth:dns", Category: graph.CategoryClosureGrowth, Message: "dns needs 1 services transitively (was 0, +1)"},
		{Key: "growth:log", Category: graph.CategoryClosureGrowth, Message: "log needs 2 services transitively (was 0, +2)"},
		{Key: "growth:web", Category: graph.CategoryClosureGrowth, Message: "web needs 4 services transitively (was 2, +2)"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Findings (-want +got):\n%s", d)
	}
	cats, err := graph.ParseCategories("new-cycle, new-hard-edge")
	if err != nil {
		t.Fatal(err)
	}
	if sel := graph.Select(got, cats); len(sel) != 3 {
		t.Errorf("Select(new-cycle,new-hard-edge) = %d findings, want 3", len(sel))
	}
	if _, err := graph.ParseCategories("new-cycle,bogus"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("ParseCategories(bogus) error = %v", err)
	}
	if all, _ := graph.ParseCategories("all"); len(all) != len(graph.Categories) {
		t.Errorf("ParseCategories(all) = %v", all)
	}
}
