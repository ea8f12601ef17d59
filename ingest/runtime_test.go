package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
)

func callLines(cs []graph.Call) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%s -> %s %d", c.From, c.To, c.Calls)
	}
	return out
}

func TestParseRuntime(t *testing.T) {
	tests := []struct {
		file   string
		format RuntimeFormat
		want   []string
		input  string // the recorded input name, with its format
	}{
		{"jaeger-fleet.json", RuntimeAuto, []string{
			"config -> coord 10422", "discovery -> coord 9120", "scheduler -> coord 2301", "scheduler -> pkgstore 41",
			"web -> config 5210", "web -> payments 312", "web -> pkgstore 880",
		}, "jaeger"},
		{"jaeger-array.json", RuntimeAuto, []string{"web -> config 15"}, "jaeger"},
		{"jaeger-v3.json", RuntimeJaeger, []string{"frontend -> web 12"}, "jaeger"},
		{"jaeger-v3-result.json", RuntimeAuto, []string{"web -> config 3"}, "jaeger"},
		{"otlp-servicegraph.json", RuntimeAuto, []string{"config -> coord 7", "web -> config 42"}, "otlp"},
		{"otlp-cumulative.jsonl", RuntimeOTLP, []string{"web -> config 25", "web -> dns 7"}, "otlp"},
		{"prometheus-vector.json", RuntimeAuto, []string{"scheduler -> coord 89", "web -> config 1520"}, "prometheus"},
		{"prometheus-matrix.json", RuntimeAuto, []string{"web -> config 160"}, "prometheus"},
		{"edges.tsv", RuntimeAuto, []string{"config -> coord 3", "web -> config 12", "web -> payments 0"}, "edges"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata/runtime", tt.file)
			rt, err := ParseRuntime(context.Background(), []Input{{Path: path}}, RuntimeOptions{Format: tt.format})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, callLines(rt.Edges)); d != "" {
				t.Errorf("ParseRuntime(%s) edges mismatch (-want +got):\n%s", tt.file, d)
			}
			if want := []string{path + " (" + tt.input + ")"}; !cmp.Equal(rt.Inputs, want) {
				t.Errorf("ParseRuntime(%s) inputs = %q, want %q", tt.file, rt.Inputs, want)
			}
		})
	}

	t.Run("one format matches", func(t *testing.T) {
		for _, tt := range tests {
			b, err := os.ReadFile(filepath.Join("testdata/runtime", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			content := bytes.TrimSpace(b)
			var head map[string]json.RawMessage
			if content[0] == '{' {
				json.NewDecoder(bytes.NewReader(content)).Decode(&head)
			}
			var matched []RuntimeFormat
			for _, rf := range runtimeFormats {
				if rf.sniff(content, head) {
					matched = append(matched, rf.name)
				}
			}
			if len(matched) != 1 || string(matched[0]) != tt.input {
				t.Errorf("%s is recognised as %v, want only %s", tt.file, matched, tt.input)
			}
		}
	})

	t.Run("merged", func(t *testing.T) {
		var in []Input
		for _, f := range []string{"jaeger-array.json", "edges.tsv"} {
			in = append(in, Input{Path: filepath.Join("testdata/runtime", f)})
		}
		rt, err := ParseRuntime(context.Background(), in, RuntimeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"config -> coord 3", "web -> config 27", "web -> payments 0"}
		if d := cmp.Diff(want, callLines(rt.Edges)); d != "" {
			t.Errorf("merged edges mismatch (-want +got):\n%s", d)
		}
		if rt.Services() != 4 {
			t.Errorf("Services() = %d, want 4", rt.Services())
		}
	})
}

func TestParseRuntimeErrors(t *testing.T) {
	tests := []struct {
		name, data string
		format     RuntimeFormat
		want       string // substring of the error
	}{
		{"empty", "  \n", RuntimeAuto, "x.json: empty"},
		{"unknown json", `{"foo": 1}`, RuntimeAuto, "not a runtime dependency graph"},
		{"bad json", "{\n\"data\": [\n{\"parent\": \"a\",,}]}", RuntimeAuto, "x.json:3:"},
		{"jaeger missing child", "{\"data\": [\n  {\"parent\": \"a\", \"child\": \"b\", \"callCount\": 1},\n  {\"parent\": \"a\", \"callCount\": 2}\n]}", RuntimeAuto, "x.json:3:3: data[1].child: missing"},
		{"jaeger negative count", `[{"parent": "a", "child": "b", "callCount": -2}]`, RuntimeAuto, "[0].callCount: want a non-negative integer, got -2"},
		{"jaeger empty name", `[{"parent": " ", "child": "b", "callCount": 1}]`, RuntimeAuto, "[0].parent: empty service name"},
		{"jaeger NUL in name", `[{"parent": "a\u0000b", "child": "b", "callCount": 1}]`, RuntimeAuto, `x.json:1:2: [0].parent: service name "a\x00b" contains a NUL byte`},
		{"invalid UTF-8", "[{\"parent\": \"a\xffb\", \"child\": \"b\", \"callCount\": 1}]", RuntimeAuto, "x.json:1:15: want UTF-8 text, got the byte 0xff"},
		{"edges NUL", "a\tb\nc\x00\td\n", RuntimeEdges, "x.json:2:2: want UTF-8 text, got a NUL byte"},
		{"jaeger wrong type", `{"data": {"parent": "a"}}`, RuntimeJaeger, "data: want an array"},
		{"jaeger error response", `{"data": null, "errors": [{"code": 500, "msg": "storage down"}]}`, RuntimeAuto, "storage down"},
		{"jaeger no links", `{"data": []}`, RuntimeAuto, "no service dependencies"},
		{"jaeger trailing", `[{"parent": "a", "child": "b", "callCount": 1}] x`, RuntimeAuto, "unexpected data after the JSON document"},
		{"otlp no metric", `{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "http.server.duration"}]}]}]}`, RuntimeAuto, "no traces_service_graph_request_total metric"},
		{"otlp missing server", `{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "traces_service_graph_request_total", "sum": {"dataPoints": [{"attributes": [{"key": "client", "value": {"stringValue": "a"}}], "asInt": "1"}]}}]}]}]}`, RuntimeAuto,
			`resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0].attributes["server"]: missing`},
		{"otlp bad value", `{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "traces_service_graph_request_total", "sum": {"dataPoints": [{"attributes": [{"key": "client", "value": {"stringValue": "a"}}, {"key": "server", "value": {"stringValue": "b"}}], "asInt": "-1"}]}}]}]}]}`, RuntimeAuto, "asInt: want a non-negative number"},
		{"otlp second line", "{\"resourceMetrics\": []}\n{\"resourceMetrics\": [}", RuntimeOTLP, "x.json:2:"},
		{"prometheus failed", `{"status": "error", "errorType": "bad_data", "error": "parse error", "data": {}}`, RuntimeAuto, "the query failed"},
		{"prometheus scalar", `{"status": "success", "data": {"resultType": "scalar", "result": []}}`, RuntimeAuto, "data.resultType: want vector or matrix"},
		{"prometheus no client", `{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {"server": "b"}, "value": [1, "2"]}]}}`, RuntimeAuto, "data.result[0].metric.client: missing"},
		{"prometheus other metric", `{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {"__name__": "up", "client": "a", "server": "b"}, "value": [1, "2"]}]}}`, RuntimeAuto, "metric.__name__: want traces_service_graph_request_total"},
		{"prometheus NaN", `{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {"client": "a", "server": "b"}, "value": [1, "NaN"]}]}}`, RuntimeAuto, "data.result[0].value: want a non-negative number"},
		{"edges one field", "a\tb\nc\n", RuntimeAuto, "x.json:2: want caller<TAB>callee[<TAB>calls], got 1 field(s)"},
		{"edges bad calls", "a\tb\tmany\n", RuntimeEdges, `x.json:1: calls: want a non-negative integer, got "many"`},
		{"edges recovery kind", "a\tb\thard\n", RuntimeEdges, `calls: want a non-negative integer, got "hard"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRuntime(context.Background(), []Input{{Name: "x.json", Data: []byte(tt.data)}}, RuntimeOptions{Format: tt.format})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseRuntime(%q) = %v, want an error containing %q", tt.data, err, tt.want)
			}
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("ParseRuntime error %v does not wrap ErrInvalidInput", err)
			}
		})
	}
	if _, err := ParseRuntime(context.Background(), nil, RuntimeOptions{Format: "zipkin"}); err == nil {
		t.Error("ParseRuntime with an unknown format succeeded")
	}
}

func TestRuntimeStore(t *testing.T) {
	ctx := context.Background()
	parse := func(t *testing.T, data string) *Runtime {
		t.Helper()
		rt, err := ParseRuntime(ctx, []Input{{Name: "rt.tsv", Data: []byte(data)}}, RuntimeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return rt
	}
	runStoreTest(t, func(t *testing.T, s *Store) {
		rt := parse(t, "web\tconfig\t5\nweb\tcache\t9\n")
		if _, err := s.PutRuntime(ctx, "r1", rt, PutOptions{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("PutRuntime before the release exists = %v, want ErrNotFound", err)
		}
		snap, err := parseData(t, data("r1.tsv", "web\tconfig\thard\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, "r1", snap, PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Runtime("r1"); !errors.Is(err, ErrNoRuntime) {
			t.Fatalf("Runtime of a release without one = %v, want ErrNoRuntime", err)
		}
		info, err := s.PutRuntime(ctx, "r1", rt, PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if info.Edges != 2 || info.Services != 3 || info.Release != "r1" {
			t.Errorf("PutRuntime info = %+v, want 2 edges over 3 services of r1", info)
		}
		got, err := s.Runtime("r1")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(rt.Edges, got.Edges); d != "" {
			t.Errorf("Runtime round trip mismatch (-put +got):\n%s", d)
		}
		if _, err := s.PutRuntime(ctx, "r1", rt, PutOptions{}); !errors.Is(err, ErrRuntimeExists) {
			t.Errorf("second PutRuntime = %v, want ErrRuntimeExists", err)
		}
		if _, err := s.PutRuntime(ctx, "r1", parse(t, "a\tb\t1\n"), PutOptions{Replace: true}); err != nil {
			t.Fatal(err)
		}
		// Replacing the release keeps its runtime graph.
		if _, err := s.Put(ctx, "r1", snap, PutOptions{Replace: true}); err != nil {
			t.Fatal(err)
		}
		got, err = s.Runtime("r1")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{"a -> b 1"}, callLines(got.Edges)); d != "" {
			t.Errorf("runtime after replacing twice mismatch (-want +got):\n%s", d)
		}
		if n := orphans(t, s); n != 0 {
			t.Errorf("%d orphaned chunks after replacing", n)
		}
		if err := s.Delete("r1"); err != nil {
			t.Fatal(err)
		}
		if keys := storeKeys(t, s); len(keys) != 1 || !strings.HasPrefix(keys[0], `"meta/format"`) {
			t.Errorf("keys after deleting the release = %q, want only meta/format", keys)
		}
	})

	t.Run("delete runtime", func(t *testing.T) {
		runStoreTest(t, func(t *testing.T, s *Store) {
			snap, _ := parseData(t, data("r1.tsv", "web\tconfig\thard\n"))
			if _, err := s.Put(ctx, "r1", snap, PutOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.PutRuntime(ctx, "r1", parse(t, "a\tb\n"), PutOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteRuntime("r1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Runtime("r1"); !errors.Is(err, ErrNoRuntime) {
				t.Errorf("Runtime after DeleteRuntime = %v, want ErrNoRuntime", err)
			}
			if _, err := s.Load("r1"); err != nil {
				t.Errorf("the release went with its runtime graph: %v", err)
			}
			if err := s.DeleteRuntime("r1"); !errors.Is(err, ErrNoRuntime) {
				t.Errorf("second DeleteRuntime = %v, want ErrNoRuntime", err)
			}
		})
	})

	t.Run("crash before publish", func(t *testing.T) {
		runStoreTest(t, func(t *testing.T, s *Store) {
			snap, _ := parseData(t, data("r1.tsv", "web\tconfig\thard\n"))
			if _, err := s.Put(ctx, "r1", snap, PutOptions{}); err != nil {
				t.Fatal(err)
			}
			before := storeKeys(t, s)
			crash := errors.New("crash")
			s.hook = func(stage string) error {
				if stage == "staged" {
					return crash
				}
				return nil
			}
			if _, err := s.PutRuntime(ctx, "r1", parse(t, "a\tb\n"), PutOptions{}); !errors.Is(err, crash) {
				t.Fatalf("PutRuntime = %v, want the crash", err)
			}
			s.hook = nil
			if _, err := s.Runtime("r1"); !errors.Is(err, ErrNoRuntime) {
				t.Errorf("Runtime after a crashed PutRuntime = %v, want ErrNoRuntime", err)
			}
			if d := cmp.Diff(before, storeKeys(t, s)); d != "" {
				t.Errorf("keys changed by a crashed PutRuntime (-before +after):\n%s", d)
			}
		})
	})
}

// orphans counts chunks no manifest names.
func orphans(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	if err := s.db.View(func(txn *badger.Txn) error {
		o, err := orphanedChunks(txn)
		for _, c := range o {
			n += c
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// BenchmarkRuntime parses a Jaeger dependencies response of a synthetic
// fleet (links between graphtest fleet services), stores it as a
// release's runtime graph and reads it back:
// go test -run '^$' -bench Runtime -benchtime 1x ./ingest/
func BenchmarkRuntime(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		fl := graphtest.FleetEdges(n/5, n, 1)
		var buf bytes.Buffer
		buf.WriteString(`{"data": [`)
		for i := range fl.Src {
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, "\n{\"parent\": %q, \"child\": %q, \"callCount\": %d}", fl.Names[fl.Src[i]], fl.Names[fl.Dst[i]], i%997+1)
		}
		buf.WriteString("\n], \"total\": 0, \"limit\": 0, \"offset\": 0, \"errors\": null}\n")
		doc := buf.Bytes()
		b.Run(fmt.Sprintf("%dk-links", n/1000), func(b *testing.B) {
			ctx := context.Background()
			s, err := OpenInMemory()
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			snap, err := Parse(ctx, []Input{data("r.tsv", "a\tb\n")}, ParseOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Put(ctx, "r1", snap, PutOptions{}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				rt, err := ParseRuntime(ctx, []Input{{Name: "deps.json", Data: doc}}, RuntimeOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.PutRuntime(ctx, "r1", rt, PutOptions{Replace: true}); err != nil {
					b.Fatal(err)
				}
				back, err := s.Runtime("r1")
				if err != nil || len(back.Edges) != len(rt.Edges) {
					b.Fatalf("Runtime = %d edges, %v; want %d", len(back.Edges), err, len(rt.Edges))
				}
			}
		})
	}
}

func TestRuntimeHas(t *testing.T) {
	rt := &Runtime{Edges: []graph.Call{{From: "web", To: "config", Calls: 3}}}
	for name, want := range map[string]bool{"web": true, "config": true, "coord": false, "": false} {
		if got := rt.Has(name); got != want {
			t.Errorf("Has(%q) = %v, want %v", name, got, want)
		}
	}
}
