package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/decode"
)

func readFixture(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/fleet", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIngestMalformed feeds malformed input next to good input: the error
// must name file, line or field, and the store must be unchanged.
func TestIngestMalformed(t *testing.T) {
	catalog := readFixture(t, "catalog.yaml")
	record := readFixture(t, "records/run-web-1.json")
	edit := func(doc, old, new string) string {
		if !strings.Contains(doc, old) {
			t.Fatalf("fixture does not contain %q", old)
		}
		return strings.Replace(doc, old, new, 1)
	}
	tests := []struct {
		name  string
		files []Input
		want  string
	}{
		{"unknown edge kind", []Input{data("good.tsv", "a\tb\n"), data("bad.tsv", "a\tb\nb\tc\tstrong\n")}, `bad.tsv:2: kind: unknown edge kind "strong"`},
		{"edge list without tabs", []Input{data("bad.edges", "a -> b\n")}, "bad.edges:1: want from<TAB>to[<TAB>kind]"},
		{"edge list with a NUL", []Input{data("bad.tsv", "a\tb\nb\tc\x00d\n")}, `bad.tsv:2: to: "c\x00d" contains a NUL byte`},
		{"edge list not UTF-8", []Input{data("bad.tsv", "a\tb\nb\xff\tc\n")}, `bad.tsv:2: from: "b\xff" is not UTF-8 text (byte 0xff)`},
		{"record with a NUL in a name", []Input{data("r.json", edit(record, `"service": "web"`, `"service": "w\u0000eb"`))}, `r.json:6:14: service: "w\x00eb" contains a NUL byte`},
		{"catalog with a NUL in a name", []Input{data("c.yaml", edit(catalog, "name: dns", "name: \"d\\0ns\""))}, `c.yaml:6: services[0].name: "d\x00ns" contains a NUL byte`},
		{"record syntax", []Input{data("r.json", "{\n\"schemaVersion\": 1,\n}")}, "r.json:3:1: invalid JSON"},
		{"record version", []Input{data("r.json", edit(record, `"schemaVersion": 1`, `"schemaVersion": 7`))}, "r.json:2:20: schemaVersion: unsupported version 7"},
		{"record field", []Input{data("r.json", edit(record, `"verdict": "redirected"`, `"verdict": "maybe"`))}, `r.json:59:18: attempts[1].verdict: unknown verdict "maybe"`},
		{"record unknown field", []Input{data("r.json", edit(record, `"scenario"`, `"scenery": "x", "scenario"`))}, "r.json:5:3: scenery: unknown field"},
		{"duplicate record id", []Input{data("a.json", record), data("b.json", edit(record, `"faultMode": "reject"`, `"faultMode": "blackhole"`))},
			`b.json: id: record "run-web-1" is also in a.json, with different content`},
		{"catalog field", []Input{data("c.yaml", edit(catalog, "endpoints: [\"10.99.0.53:53\"]", "endpoint: [\"10.99.0.53:53\"]"))}, `c.yaml:9: services[0].endpoint: unknown field`},
		{"catalog endpoint", []Input{data("c.yaml", edit(catalog, `"10.99.0.53:53"`, `"nowhere"`))}, `c.yaml:9: services[0].endpoints[0]: "nowhere" is not an address endpoint`},
		{"two catalogs", []Input{data("c1.yaml", catalog), data("c2.yaml", catalog)}, "c2.yaml: a second catalog (the first is c1.yaml)"},
		{"yaml that is not a catalog", []Input{data("s.yaml", "kind: scenario\n")}, `s.yaml:1: kind: "scenario" is not "catalog" (YAML inputs are service catalogs)`},
		{"optional yaml that does not parse", []Input{{Name: "s.yaml", Data: []byte("a: [\n"), Format: FormatCatalog, Optional: true}}, "s.yaml:1: invalid YAML: did not find expected node content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runStoreTest(t, func(t *testing.T, s *Store) {
				ctx := context.Background()
				if _, err := s.Put(ctx, "base", fleetSnapshot(t), PutOptions{}); err != nil {
					t.Fatal(err)
				}
				before := storeKeys(t, s)
				for _, replace := range []bool{false, true} {
					name := "new"
					if replace {
						name = "base"
					}
					_, err := s.Ingest(ctx, name, tt.files, Options{Replace: replace})
					if err == nil || !strings.Contains(err.Error(), tt.want) {
						t.Fatalf("Ingest error = %v, want it to contain %q", err, tt.want)
					}
					if !errors.Is(err, ErrInvalidInput) {
						t.Errorf("Ingest error %v does not wrap ErrInvalidInput", err)
					}
					if d := cmp.Diff(before, storeKeys(t, s)); d != "" {
						t.Errorf("failed Ingest changed the store (-before +after):\n%s", d)
					}
				}
			})
		})
	}
}

func TestRecordErrorsKeepDecodeError(t *testing.T) {
	_, err := parseData(t, data("r.json", `{"schemaVersion": 1, "kind": "walk"}`))
	var de *decode.Error
	if !errors.As(err, &de) || de.Field != "kind" || de.Line != 1 || !errors.Is(err, collector.ErrMalformed) || !errors.Is(err, ErrInvalidInput) {
		t.Errorf("Parse error = %#v, want a *decode.Error for field kind", err)
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("catalog.yaml", readFixture(t, "catalog.yaml"))
	write("records/b.json", readFixture(t, "records/run-web-1.json"))
	write("records/a.JSON", readFixture(t, "records/run-ca-1.json"))
	write("scenarios/web.yaml", "kind: scenario\nservice: web\n")
	write("graph/edges.tsv", "web\tcdn\tsoft\n")
	write("graph/more.edges", "cdn\tdns\n")
	write("graph/notes.txt", "# nothing but a comment\n")
	write("README.md", "not read")
	write(".hidden/x.tsv", "not\tread\n")
	write("records/.y.json", "not read")
	write("extra", "x\ty\n") // named explicitly below: read whatever its name

	in, err := Files(dir, filepath.Join(dir, "extra"), filepath.Join(dir, "graph/edges.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range in {
		rel, _ := filepath.Rel(dir, i.Path)
		got = append(got, rel)
	}
	want := []string{"catalog.yaml", "graph/edges.tsv", "graph/more.edges", "graph/notes.txt", "records/a.JSON", "records/b.json", "scenarios/web.yaml", "extra"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Files (-want +got):\n%s", d)
	}

	snap, err := Parse(context.Background(), in, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{filepath.Join(dir, "scenarios/web.yaml")}, snap.Skipped); d != "" {
		t.Errorf("Skipped (-want +got):\n%s", d)
	}
	if len(snap.Records) != 2 || snap.Catalog == nil || snap.Graph.EdgeCount() == 0 {
		t.Errorf("parsed %d records, catalog %v, %d edges", len(snap.Records), snap.Catalog != nil, snap.Graph.EdgeCount())
	}
	if _, ok := snap.Graph.ID("x"); !ok {
		t.Error("explicitly named file without extension was not read as an edge list")
	}

	if _, err := Files(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Files(missing) = %v, want an error naming it", err)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		in   string
		want Format
	}{
		{"{\"schemaVersion\": 1}", FormatJSON},
		{"\xef\xbb\xbf  \n{}", FormatJSON},
		{"# catalog\nschemaVersion: 1\nkind: catalog\n", FormatCatalog},
		{"---\nkind: catalog\n", FormatCatalog},
		{"kind: catalog\n", FormatCatalog},
		{"# edges\na\tb\n", FormatEdges},
		{"kind:\tx\n", FormatEdges},
		{"", FormatEdges},
	}
	for _, tt := range tests {
		if got := sniff([]byte(tt.in)); got != tt.want {
			t.Errorf("sniff(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIngestWarnsAndProgress(t *testing.T) {
	runStoreTest(t, func(t *testing.T, s *Store) {
		in, err := Files("testdata/fleet")
		if err != nil {
			t.Fatal(err)
		}
		var phases []Phase
		sum, err := s.Ingest(context.Background(), "other", in, Options{Progress: func(p Progress) {
			if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
				phases = append(phases, p.Phase)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]Phase{PhaseRead, PhaseBuild, PhaseWrite}, phases); d != "" {
			t.Errorf("progress phases (-want +got):\n%s", d)
		}
		if len(sum.Warnings) != 1 || !strings.Contains(sum.Warnings[0], `record run-web-1 was made for release "2026-11"`) {
			t.Errorf("Warnings = %q, want one about run-web-1's release label", sum.Warnings)
		}
	})
}

func TestReleaseMismatches(t *testing.T) {
	recs := func(n int, release string) []*collector.Record {
		var out []*collector.Record
		for i := 0; i < n; i++ {
			out = append(out, &collector.Record{ID: fmt.Sprintf("run-%d", i), Release: release})
		}
		return out
	}
	tests := []struct {
		name string
		recs []*collector.Record
		want []string
	}{
		{"same release", recs(5, "r"), nil},
		{"unlabelled", recs(5, ""), nil},
		{"few", recs(2, "old"), []string{`record run-0 was made for release "old", ingested into "r"`, `record run-1 was made for release "old", ingested into "r"`}},
		{"many", recs(18, "old"), []string{`18 records were made for release "old", ingested into "r" (run-0, ...)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := releaseMismatches(tt.recs, "r"); !slices.Equal(got, tt.want) {
				t.Errorf("releaseMismatches = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAddRecord adds records one at a time, as rgraph run --ingest does:
// the first makes the release with the catalog, a later one of the same
// scenario supersedes it, and a release of edge lists refuses them.
func TestAddRecord(t *testing.T) {
	runStoreTest(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		cat, err := collector.ParseCatalog([]byte("schemaVersion: 1\nkind: catalog\nservices:\n  - name: api\n    endpoints: [\"10.1.0.1:443/tcp\"]\n"), "catalog.yaml")
		if err != nil {
			t.Fatal(err)
		}
		first := rec{id: "r1", svc: "web", at: 1, recovered: true, targets: []int{1}}.record()
		sum, err := s.AddRecord(ctx, "v1", first, cat)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Replaced || sum.Release.Records != 1 {
			t.Errorf("first AddRecord = %+v, want a new release of one record", sum)
		}
		second := rec{id: "r2", svc: "web", at: 2, recovered: true, targets: []int{1}}.record()
		if sum, err = s.AddRecord(ctx, "v1", second, nil); err != nil {
			t.Fatal(err)
		}
		recs, err := s.Records("v1")
		if err != nil {
			t.Fatal(err)
		}
		if !sum.Replaced || len(recs) != 1 || recs[0].ID != "r2" {
			t.Errorf("after a second record of the scenario: replaced %v, records %d, want r2 alone", sum.Replaced, len(recs))
		}
		if c, err := s.Catalog("v1"); err != nil || c == nil || len(c.Services) != 1 {
			t.Errorf("catalog = %v, %v; want the one given with the first record", c, err)
		}
		g, err := s.Load("v1")
		if err != nil {
			t.Fatal(err)
		}
		if got := edgeList(g); !slices.Equal(got, []string{"web -> api observed"}) {
			t.Errorf("edges = %q, want web -> api", got)
		}

		if _, err := s.Ingest(ctx, "lists", []Input{data("e.tsv", "a\tb\n")}, Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddRecord(ctx, "lists", second, nil); err == nil {
			t.Errorf("AddRecord to a release of edge lists succeeded")
		}
	})
}
