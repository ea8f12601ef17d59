package render

import (
	"bytes"
	"testing"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/internal/golden"
)

func TestIngest(t *testing.T) {
	tests := []struct {
		name string
		doc  IngestDoc
	}{
		{"federated", fleetIngest()},
		{"replaced", IngestDoc{Release: "r", Replaced: true, Services: 1, Edges: 1, EdgesByKind: KindCounts(map[graph.Kind]int{graph.Hard: 1}), Records: 1}},
		{"empty", IngestDoc{Release: "r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Ingest(&buf, tt.doc); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, buf.Bytes())
		})
	}
}

func TestRuntimeIngest(t *testing.T) {
	var buf bytes.Buffer
	if err := RuntimeIngest(&buf, RuntimeIngestDoc{Release: "2026-11", Inputs: []string{"deps.json (jaeger)", "stdin (otlp)"}, Edges: 1, Services: 2}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, buf.Bytes())
}
