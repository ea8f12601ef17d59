package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/internal/golden"
)

func TestJSONGolden(t *testing.T) {
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"cycles", func(b *bytes.Buffer) error { return CyclesJSON(b, fleetComponents()) }},
		{"cycles-none", func(b *bytes.Buffer) error { return CyclesJSON(b, nil) }},
		{"order", func(b *bytes.Buffer) error { return OrderJSON(b, fleetOrder()) }},
		{"why", func(b *bytes.Buffer) error { return WhyJSON(b, "api", "ca", fleetPaths()) }},
		{"diff", func(b *bytes.Buffer) error { return DiffJSON(b, fleetDiff()) }},
		{"diff-empty", func(b *bytes.Buffer) error { return DiffJSON(b, DiffReport{Old: "a", New: "b"}) }},
		{"ingest", func(b *bytes.Buffer) error { return IngestJSON(b, fleetIngest()) }},
		{"ingest-empty", func(b *bytes.Buffer) error { return IngestJSON(b, IngestDoc{Release: "r"}) }},
		{"releases", func(b *bytes.Buffer) error {
			return ReleasesJSON(b, []ReleaseDoc{
				{Name: "2026-11", Created: jsonT0, Services: 9, Endpoints: 1, Edges: 14, EdgesByKind: KindCounts(map[graph.Kind]int{graph.Hard: 9, graph.Soft: 5}), Records: 9, Size: 48213},
				{Name: "2026-12", Created: jsonT0.Add(24 * time.Hour), Services: 10, Edges: 15, EdgesByKind: KindCounts(map[graph.Kind]int{graph.Hard: 10, graph.Soft: 5}), Records: 10, Size: 51002},
			})
		}},
		{"releases-none", func(b *bytes.Buffer) error { return ReleasesJSON(b, nil) }},
		{"runtime", func(b *bytes.Buffer) error {
			return RuntimeJSON(b, "2026-11", jsonT0, []string{"otlp.json (otlp)", "deps.json (jaeger)"},
				[]graph.Call{{From: "web", To: "config", Calls: 15}, {From: "config", To: "coord", Calls: 4}, {From: "web", To: "api"}})
		}},
		{"runtime-ingest", func(b *bytes.Buffer) error {
			return RuntimeIngestJSON(b, RuntimeIngestDoc{Release: "2026-11", Created: jsonT0, Inputs: []string{"deps.json (jaeger)"}, Edges: 3, Services: 4, Size: 312})
		}},
		{"graph", func(b *bytes.Buffer) error { return GraphJSON(b, "2026-11", fleetGraph()) }},
		{"sandbox-check", func(b *bytes.Buffer) error {
			return SandboxCheckJSON(b, []DriverCheckDoc{
				{Name: "netns", Default: true, Ready: true, Requirements: []RequirementDoc{
					{Name: "privileges", OK: true, Detail: "root"},
					{Name: "connect_unix hook", OK: false, Optional: true, Detail: "kernel 5.15", Fix: "Linux 6.7 or later records unix sockets"},
				}},
				{Name: "microvm", Error: "qemu-system-x86_64 is missing", Requirements: []RequirementDoc{
					{Name: "qemu", Detail: "not found", Fix: "apt-get install qemu-system-x86"},
				}},
			})
		}},
		{"batch", func(b *bytes.Buffer) error { return BatchJSON(b, fleetBatch()) }},
		{"batch-empty", func(b *bytes.Buffer) error { return BatchJSON(b, BatchDoc{Verb: "minimize", Shard: "0/1", Out: "out"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.write(&buf); err != nil {
				t.Fatal(err)
			}
			if !json.Valid(buf.Bytes()) {
				t.Fatalf("invalid JSON:\n%s", buf.String())
			}
			if bytes.Contains(buf.Bytes(), []byte("null")) {
				t.Errorf("JSON has null where an empty list or object belongs:\n%s", buf.String())
			}
			golden.CheckExt(t, ".json", buf.Bytes())
		})
	}
}

var jsonT0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// fleetIngest is an ingest of records from many producers: one read
// twice, one superseded, two that disagree.
func fleetIngest() IngestDoc {
	ref := func(id string, at int, ok bool, host string) RecordRefDoc {
		return RecordRefDoc{ID: id, StartedAt: jsonT0.Add(time.Duration(at) * time.Minute), Recovered: ok, Origin: graph.Origin{Host: host, File: "out/" + id + ".run.json"}}
	}
	return IngestDoc{
		Release: "2026-12", Created: jsonT0, Services: 9, Endpoints: 1, Edges: 14,
		EdgesByKind: KindCounts(map[graph.Kind]int{graph.Hard: 9, graph.Soft: 5}), Records: 9, SelfAttempts: 2,
		Inputs: []string{"records/", "catalog.yaml"}, Skipped: []string{"records/web.yaml"},
		Warnings: []string{"record 0badcafe was made for release \"2026-11\", ingested into \"2026-12\""},
		Federation: &FederationDoc{
			Duplicates: []DuplicateDoc{{ID: "0badcafe", Files: []string{"out/a.run.json", "ci.tar.gz:a.run.json"}}},
			Superseded: []SupersededDoc{{Record: ref("1111aaaa", 1, true, "n1"), By: "2222bbbb"}},
			Conflicts: []ConflictDoc{{Service: "web", Scenario: "web-cold-start", Kind: "run", Release: "2026-12",
				Preferred: ref("3333cccc", 5, true, "n2"), Others: []RecordRefDoc{ref("4444dddd", 4, false, "n3")}}},
		},
	}
}

// decode parses a document into generic maps for shape checks.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schemaVersion"] != float64(SchemaVersion) {
		t.Errorf("schemaVersion = %v, want %d", doc["schemaVersion"], SchemaVersion)
	}
	return doc
}

func list(t *testing.T, v any, key string) []any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v is not an object", v)
	}
	l, ok := m[key].([]any)
	if !ok {
		t.Fatalf("%q is %T, want an array", key, m[key])
	}
	return l
}

func strs(t *testing.T, v any, key string) []string {
	t.Helper()
	var out []string
	for _, x := range list(t, v, key) {
		s, ok := x.(string)
		if !ok {
			t.Fatalf("%q holds %T, want strings", key, x)
		}
		out = append(out, s)
	}
	return out
}

// TestJSONShapes checks the fields the issue names as the contract.
func TestJSONShapes(t *testing.T) {
	t.Run("cycles", func(t *testing.T) {
		var buf bytes.Buffer
		if err := CyclesJSON(&buf, fleetComponents()); err != nil {
			t.Fatal(err)
		}
		doc := decode(t, buf.Bytes())
		comps := list(t, doc, "components")
		if len(comps) != 2 {
			t.Fatalf("%d components, want 2", len(comps))
		}
		members := strs(t, comps[0], "members")
		if want := []string{"ca", "coord", "scheduler"}; !slices.Equal(members, want) {
			t.Errorf("members = %v, want %v (sorted)", members, want)
		}
		witness := comps[0].(map[string]any)["witness"]
		if got := strs(t, witness, "services"); !slices.Equal(got, []string{"ca", "scheduler"}) {
			t.Errorf("witness services = %v", got)
		}
		for _, e := range list(t, witness, "edges") {
			em := e.(map[string]any)
			if em["from"] == nil || em["to"] == nil || em["kind"] == nil {
				t.Errorf("witness edge %v lacks from, to or kind", em)
			}
		}
	})
	t.Run("order", func(t *testing.T) {
		o := fleetOrder()
		o.Waves[2].Services = []string{"ca"} // group members must still be listed
		var buf bytes.Buffer
		if err := OrderJSON(&buf, o); err != nil {
			t.Fatal(err)
		}
		waves := list(t, decode(t, buf.Bytes()), "waves")
		if got := strs(t, waves[2], "services"); !slices.Equal(got, []string{"ca", "coord", "scheduler"}) {
			t.Errorf("wave 2 services = %v, want the jumpstart group's members", got)
		}
	})
	t.Run("diff", func(t *testing.T) {
		var buf bytes.Buffer
		if err := DiffJSON(&buf, fleetDiff()); err != nil {
			t.Fatal(err)
		}
		doc := decode(t, buf.Bytes())
		for _, key := range []string{"addedEdges", "removedEdges"} {
			for _, e := range list(t, doc, key) {
				em := e.(map[string]any)
				if _, ok := em["from"].(string); !ok {
					t.Errorf("%s item %v has no from", key, em)
				}
				if _, ok := em["to"].(string); !ok {
					t.Errorf("%s item %v has no to", key, em)
				}
			}
		}
		added := list(t, doc, "addedEdges")
		if first := added[0].(map[string]any); first["from"] != "api" || first["to"] != "logd" {
			t.Errorf("addedEdges not sorted: first is %v", first)
		}
	})
}

// TestJSONDeterministic shuffles the inputs and expects the same bytes.
func TestJSONDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	comps := fleetComponents()
	if err := CyclesJSON(&a, comps); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(comps)
	slices.Reverse(comps[0].Members)
	if err := CyclesJSON(&b, comps); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("CyclesJSON depends on input order:\n%s\nvs\n%s", a.String(), b.String())
	}

	a.Reset()
	b.Reset()
	d := fleetDiff()
	if err := DiffJSON(&a, d); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(d.Delta.AddedEdges)
	slices.Reverse(d.Delta.NewCycles)
	slices.Reverse(d.Delta.LaterWave)
	if err := DiffJSON(&b, d); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("DiffJSON depends on input order")
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct {
		name    string
		payload any
	}{
		{"array", []int{1}},
		{"string", "x"},
		{"reserved schemaVersion", map[string]int{"schemaVersion": 2}},
		{"reserved kind", struct {
			Kind string `json:"kind"`
		}{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := JSON(&buf, "x", tt.payload); !errors.Is(err, ErrPayload) {
				t.Errorf("JSON(%v) = %v, want ErrPayload", tt.payload, err)
			}
			if buf.Len() != 0 {
				t.Errorf("JSON wrote %q on error", buf.String())
			}
		})
	}
}

func TestJSONGeneric(t *testing.T) {
	type release struct {
		Name     string `json:"name"`
		Services int    `json:"services"`
	}
	var buf bytes.Buffer
	err := JSON(&buf, "releases", struct {
		Releases []release `json:"releases"`
	}{[]release{{"2024.05", 41}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "schemaVersion": 1,
  "kind": "releases",
  "releases": [
    {
      "name": "2024.05",
      "services": 41
    }
  ]
}
`
	if buf.String() != want {
		t.Errorf("JSON = %s, want %s", buf.String(), want)
	}
	buf.Reset()
	if err := JSON(&buf, "empty", struct{}{}); err != nil || buf.String() != "{\n  \"schemaVersion\": 1,\n  \"kind\": \"empty\"\n}\n" {
		t.Errorf("JSON(empty) = %q, %v", buf.String(), err)
	}
	_ = graph.Hard
}
