package graph_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

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

func TestBaseline(t *testing.T) {
	findings := graph.Findings(diffFixture())
	cyc := graph.CycleID([]string{"db", "dns"})
	src := `# accepted findings
version: 1
accepted:
  - key: cycle:` + cyc + `
    reason: jumpstart runbook INFRA-1
    expires: 2030-01-31
  - key: hard-edge:dns->db
    reason: until the resolver moves
    expires: 2026-01-31
  - key: growth:web
    reason: expected
  - key: wave:gone
    reason: old
    expires: 2020-05-01
`
	b, err := graph.ParseBaseline("baseline.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	open, accepted, expired := graph.ApplyBaseline(findings, b, now)
	keys := func(fs []graph.Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Key)
		}
		return out
	}
	if d := cmp.Diff([]string{"cycle:" + cyc, "growth:web"}, keys(accepted)); d != "" {
		t.Errorf("accepted (-want +got):\n%s", d)
	}
	if len(open) != len(findings)-2 {
		t.Errorf("%d open, want %d", len(open), len(findings)-2)
	}
	var ek []string
	for _, e := range expired {
		ek = append(ek, e.Key)
	}
	if d := cmp.Diff([]string{"hard-edge:dns->db", "wave:gone"}, ek); d != "" {
		t.Errorf("expired (-want +got):\n%s", d)
	}
	if expired[0].Line != 7 {
		t.Errorf("expired entry line %d, want 7", expired[0].Line)
	}
	ef := graph.ExpiredFindings(expired)
	if ef[0].Key != "baseline:hard-edge:dns->db" || ef[0].Category != graph.CategoryExpiredBaseline ||
		!strings.Contains(ef[0].Message, "2026-01-31") {
		t.Errorf("ExpiredFindings = %+v", ef[0])
	}
	// The expiry day itself still holds.
	_, acc, _ := graph.ApplyBaseline(findings, b, time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC))
	if len(acc) != 3 {
		t.Errorf("on the expiry day %d accepted, want 3", len(acc))
	}
	// FilterDelta drops what was accepted.
	d := graph.FilterDelta(diffFixture(), accepted)
	if len(d.NewCycles) != 0 || len(d.ClosureGrowth) != 2 || len(d.AddedEdges) != 3 {
		t.Errorf("FilterDelta kept %d cycles, %d growth, %d edges", len(d.NewCycles), len(d.ClosureGrowth), len(d.AddedEdges))
	}

	// Round trip through WriteBaseline.
	var buf bytes.Buffer
	if err := graph.WriteBaseline(&buf, b.Entries); err != nil {
		t.Fatal(err)
	}
	b2, err := graph.ParseBaseline("rt.yaml", buf.Bytes())
	if err != nil {
		t.Fatalf("reparse: %v\n%s", err, buf.String())
	}
	for i := range b2.Entries {
		b2.Entries[i].Line = 0
		b.Entries[i].Line = 0
	}
	slices.SortFunc(b.Entries, func(x, y graph.BaselineEntry) int { return strings.Compare(x.Key, y.Key) })
	if d := cmp.Diff(b.Entries, b2.Entries, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

func TestBaselineErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"syntax", "accepted: [\n", "b.yaml:1: did not find expected node content"},
		{"not a mapping", "- a\n", "b.yaml:1: want a mapping"},
		{"version", "version: 2\n", "b.yaml:1: version: unsupported version \"2\""},
		{"unknown top field", "acepted: []\n", "b.yaml:1: acepted: unknown field"},
		{"missing reason", "accepted:\n  - key: wave:web\n", "b.yaml:2: accepted[0].reason: missing"},
		{"missing key", "accepted:\n  - reason: x\n", "b.yaml:2: accepted[0].key: missing"},
		{"bad key", "accepted:\n  - key: web\n    reason: x\n", "b.yaml:2: accepted[0].key: \"web\" is not a finding key"},
		{"bad date", "accepted:\n  - key: wave:web\n    reason: x\n    expires: soon\n", "b.yaml:4: accepted[0].expires: want a date like 2027-01-31, got \"soon\""},
		{"unknown entry field", "accepted:\n  - key: wave:web\n    reasn: x\n", "b.yaml:3: accepted[0].reasn: unknown field"},
		{"duplicate", "accepted:\n  - {key: wave:web, reason: a}\n  - {key: wave:web, reason: b}\n", "b.yaml:3: accepted[1].key: \"wave:web\" already accepted at line 2"},
		{"list value", "accepted:\n  - key: [a]\n    reason: x\n", "b.yaml:2: accepted[0].key: want a single value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := graph.ParseBaseline("b.yaml", []byte(tt.src))
			if !errors.Is(err, graph.ErrInvalidBaseline) {
				t.Fatalf("ParseBaseline error = %v, want ErrInvalidBaseline", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("ParseBaseline error = %q, want prefix %q", err, tt.want)
			}
		})
	}
	// JSON works too, and an empty file accepts nothing.
	b, err := graph.ParseBaseline("b.json", []byte(`{"version": 1, "accepted": [{"key": "edge:a->b", "reason": "ok", "expires": "2030-01-01"}]}`))
	if err != nil || len(b.Entries) != 1 {
		t.Errorf("ParseBaseline(JSON) = %+v, %v", b, err)
	}
	if b, err := graph.ParseBaseline("empty", nil); err != nil || len(b.Entries) != 0 {
		t.Errorf("ParseBaseline(empty) = %+v, %v", b, err)
	}
}
