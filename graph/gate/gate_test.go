package gate_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rgraph/rgraph/collector/decode"
	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/gate"
	"github.com/rgraph/rgraph/graph/graphtest"
	"github.com/rgraph/rgraph/internal/golden"
)

func oldGraph() *graph.Graph {
	return graphtest.FromAdjacency(map[string][]string{
		"web": {"db", "cache:soft"}, "db": {"dns"}, "dns": {}, "cache": {}, "log": {},
	})
}

func newGraph() *graph.Graph {
	return graphtest.FromAdjacency(map[string][]string{
		"web": {"db", "cache:hard", "log:declared"}, "db": {"dns"}, "dns": {"db"}, "cache": {}, "log": {"db:declared"},
	})
}

func TestBaseline(t *testing.T) {
	findings := graph.Findings(graph.Diff(oldGraph(), newGraph(), graph.DiffOptions{}))
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
	b, err := gate.ParseBaseline("baseline.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	open, accepted, expired := gate.Apply(findings, b, now)
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
	ef := gate.ExpiredFindings(expired)
	if ef[0].Key != "baseline:hard-edge:dns->db" || ef[0].Category != graph.CategoryExpiredBaseline ||
		!strings.Contains(ef[0].Message, "2026-01-31") {
		t.Errorf("ExpiredFindings = %+v", ef[0])
	}
	// The expiry day itself still holds.
	_, acc, _ := gate.Apply(findings, b, time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC))
	if len(acc) != 3 {
		t.Errorf("on the expiry day %d accepted, want 3", len(acc))
	}
	// FilterDelta drops what was accepted.
	d := graph.FilterDelta(graph.Diff(oldGraph(), newGraph(), graph.DiffOptions{}), accepted)
	if len(d.NewCycles) != 0 || len(d.ClosureGrowth) != 2 || len(d.AddedEdges) != 3 {
		t.Errorf("FilterDelta kept %d cycles, %d growth, %d edges", len(d.NewCycles), len(d.ClosureGrowth), len(d.AddedEdges))
	}

	// Round trip through WriteBaseline.
	var buf bytes.Buffer
	if err := gate.WriteBaseline(&buf, b.Entries); err != nil {
		t.Fatal(err)
	}
	b2, err := gate.ParseBaseline("rt.yaml", buf.Bytes())
	if err != nil {
		t.Fatalf("reparse: %v\n%s", err, buf.String())
	}
	for i := range b2.Entries {
		b2.Entries[i].Line = 0
		b.Entries[i].Line = 0
	}
	slices.SortFunc(b.Entries, func(x, y gate.Entry) int { return strings.Compare(x.Key, y.Key) })
	if d := cmp.Diff(b.Entries, b2.Entries, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

// TestBaselineErrors checks that every mistake in a baseline names the
// file, the line and the field, against testdata/TestBaselineErrors/*.golden.
func TestBaselineErrors(t *testing.T) {
	random := make([]byte, 256)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.IntN(256))
	}
	tests := []struct{ name, src string }{
		{"syntax", "accepted: [\n"},
		{"not_a_mapping", "- a\n"},
		{"version", "version: 2\n"},
		{"unknown_top_field", "acepted: []\n"},
		{"accepted_not_list", "accepted: {key: x}\n"},
		{"missing_reason", "accepted:\n  - key: wave:web\n"},
		{"missing_key", "accepted:\n  - reason: x\n"},
		{"bad_key", "accepted:\n  - key: web\n    reason: x\n"},
		{"nul_in_key", "accepted:\n  - key: \"wave:w\\0eb\"\n    reason: x\n"},
		{"bad_date", "accepted:\n  - key: wave:web\n    reason: x\n    expires: soon\n"},
		{"unknown_entry_field", "accepted:\n  - key: wave:web\n    reasn: x\n"},
		{"duplicate", "accepted:\n  - {key: wave:web, reason: a}\n  - {key: wave:web, reason: b}\n"},
		{"list_value", "accepted:\n  - key: [a]\n    reason: x\n"},
		{"entry_not_mapping", "accepted:\n  - wave:web\n"},
		{"random_bytes", string(random)},
		{"nul_byte", "version: 1\naccepted:\n  - key: wave:web\x00\n"},
		{"json_unknown_field", `{"version": 1, "accepted": [{"key": "edge:a->b", "reason": "ok", "until": "2030-01-01"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gate.ParseBaseline("b.yaml", []byte(tt.src))
			if !errors.Is(err, gate.ErrInvalidBaseline) {
				t.Fatalf("ParseBaseline error = %v, want ErrInvalidBaseline", err)
			}
			var de *decode.Error
			if !errors.As(err, &de) || de.File != "b.yaml" || de.Line == 0 {
				t.Errorf("ParseBaseline error %v does not name the file and line", err)
			}
			golden.Check(t, []byte(err.Error()+"\n"))
		})
	}
	// JSON works too, and an empty file accepts nothing.
	b, err := gate.ParseBaseline("b.json", []byte(`{"version": 1, "accepted": [{"key": "edge:a->b", "reason": "ok", "expires": "2030-01-01"}]}`))
	if err != nil || len(b.Entries) != 1 {
		t.Errorf("ParseBaseline(JSON) = %+v, %v", b, err)
	}
	for _, empty := range []string{"", "# nothing accepted yet\n", "accepted:\n"} {
		if b, err := gate.ParseBaseline("empty", []byte(empty)); err != nil || len(b.Entries) != 0 {
			t.Errorf("ParseBaseline(%q) = %+v, %v", empty, b, err)
		}
	}
}

func TestEvaluate(t *testing.T) {
	cyc := graph.CycleID([]string{"db", "dns"})
	b, err := gate.ParseBaseline("b.yaml", []byte(`accepted:
  - {key: "cycle:`+cyc+`", reason: jumpstart}
  - {key: "wave:log", reason: old, expires: 2026-01-01}
`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	keys := func(fs []graph.Finding) []string {
		out := []string{}
		for _, f := range fs {
			out = append(out, f.Key)
		}
		return out
	}
	tests := []struct {
		name        string
		opts        gate.Options
		wantFailing []string
		wantFailed  bool
	}{
		{"no gate", gate.Options{Baseline: b, Now: now}, []string{}, false},
		{"cycles accepted", gate.Options{Baseline: b, Now: now, FailOn: []graph.Category{graph.CategoryNewCycle}}, []string{}, false},
		{"no baseline", gate.Options{Now: now, FailOn: []graph.Category{graph.CategoryNewCycle}}, []string{"cycle:" + cyc}, true},
		{"expired entry fails", gate.Options{Baseline: b, Now: now, FailOn: []graph.Category{graph.CategoryExpiredBaseline, graph.CategoryLaterWave}},
			[]string{"wave:log", "baseline:wave:log"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gate.Evaluate(oldGraph(), newGraph(), tt.opts)
			if d := cmp.Diff(tt.wantFailing, keys(r.Failing)); d != "" {
				t.Errorf("Failing (-want +got):\n%s", d)
			}
			if r.Failed() != tt.wantFailed {
				t.Errorf("Failed() = %v, want %v", r.Failed(), tt.wantFailed)
			}
			if tt.opts.Baseline != nil && (len(r.Accepted) != 1 || len(r.Delta.NewCycles) != 0) {
				t.Errorf("accepted %v and kept %d new cycles, want the cycle accepted and filtered", keys(r.Accepted), len(r.Delta.NewCycles))
			}
		})
	}
}

// A baseline entry that accepts nothing, neither expired, is reported as
// unused; entries that accept a finding or expired are not.
func TestEvaluateUnused(t *testing.T) {
	cyc := graph.CycleID([]string{"db", "dns"})
	b, err := gate.ParseBaseline("b.yaml", []byte(`accepted:
  - {key: "cycle:`+cyc+`", reason: jumpstart}
  - {key: "hard-edge:web->nope", reason: typo}
  - {key: "wave:log", reason: old, expires: 2026-01-01}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := gate.Evaluate(oldGraph(), newGraph(), gate.Options{Baseline: b, Now: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	if len(r.Unused) != 1 || r.Unused[0].Key != "hard-edge:web->nope" || r.Unused[0].Line != 3 {
		t.Errorf("Unused = %+v, want the one entry on line 3 that matches nothing", r.Unused)
	}
	if r := gate.Evaluate(oldGraph(), newGraph(), gate.Options{}); r.Unused != nil {
		t.Errorf("Unused without a baseline = %+v", r.Unused)
	}
}

func TestWriteBaselineFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "baseline.yaml")
	r := gate.Evaluate(oldGraph(), newGraph(), gate.Options{})
	if err := gate.WriteBaselineFile(path, r.Open(), "r2"); err != nil {
		t.Fatal(err)
	}
	b, err := gate.LoadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Entries) != len(r.Open()) || !strings.Contains(b.Entries[0].Reason, "accepted as of release r2: ") {
		t.Errorf("wrote %+v for %d findings", b.Entries, len(r.Open()))
	}
	if got := gate.Evaluate(oldGraph(), newGraph(), gate.Options{Baseline: b}); len(got.Open()) != 0 {
		t.Errorf("with the written baseline %d findings are open, want 0", len(got.Open()))
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("directory holds %d files, want the baseline only", len(entries))
	}
}

// TestEvaluateOnlyNeeded checks that Evaluate, which makes only the
// findings it needs, reports what making them all and applying the
// baseline to them gives, on random releases and baselines.
func TestEvaluateOnlyNeeded(t *testing.T) {
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	kinds := []graph.Kind{graph.Hard, graph.Soft, graph.Declared}
	for seed := uint64(0); seed < 60; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		old := graphtest.Random(seed, graphtest.RandomOptions{Nodes: 12, Density: 0.15, SelfLoops: 0.05, Kinds: kinds})
		new := graphtest.Evolve(old, 6, seed)
		all := graph.Findings(graph.Diff(old, new, graph.DiffOptions{}))
		b := &gate.Baseline{}
		for _, f := range all {
			switch r.IntN(4) {
			case 0:
				b.Entries = append(b.Entries, gate.Entry{Key: f.Key, Reason: "ok"})
			case 1:
				b.Entries = append(b.Entries, gate.Entry{Key: f.Key, Reason: "old", Expires: now.AddDate(0, 0, -1)})
			}
		}
		var failOn []graph.Category
		for _, c := range graph.Categories {
			if r.IntN(2) == 0 {
				failOn = append(failOn, c)
			}
		}
		got := gate.Evaluate(old, new, gate.Options{Baseline: b, FailOn: failOn, Now: now})
		open, accepted, expired := gate.Apply(all, b, now)
		open = append(open, gate.ExpiredFindings(expired)...)
		want := gate.Report{Accepted: accepted, Expired: expired, Gated: true, Failing: graph.Select(open, failOn)}
		if d := cmp.Diff(want, got, cmpopts.IgnoreFields(gate.Report{}, "Delta"), cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("seed %d: Evaluate (-want +got):\n%s", seed, d)
		}
		if d := cmp.Diff(open, got.Open(), cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("seed %d: Open (-want +got):\n%s", seed, d)
		}
	}
}
