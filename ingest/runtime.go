package ingest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rgraph/rgraph/collector/decode"
	"github.com/rgraph/rgraph/graph"
)

// RuntimeFormat names a format of runtime dependency graphs; see
// docs/reports.md for each one, with the upstream definitions.
type RuntimeFormat string

// Runtime dependency graph formats.
const (
	// RuntimeAuto recognises the format from the content.
	RuntimeAuto RuntimeFormat = "auto"
	// RuntimeJaeger is Jaeger's service dependencies: the response of its
	// query service's /api/dependencies ({"data": [links]}), of
	// /api/v3/dependencies ({"dependencies": [links]}, also wrapped as
	// {"result": {...}}), or a bare array of links, each {"parent",
	// "child", "callCount"}. Zipkin's /api/v2/dependencies has the same
	// links.
	RuntimeJaeger RuntimeFormat = "jaeger"
	// RuntimeOTLP is OpenTelemetry's service graph: the metrics the
	// collector's servicegraph connector (or Grafana Tempo's
	// metrics-generator) derives from traces, as OTLP/JSON
	// ({"resourceMetrics": [...]}, one document or one per line as the
	// file exporter writes them). Each data point of
	// traces_service_graph_request_total is an edge from its "client"
	// attribute to its "server" attribute.
	RuntimeOTLP RuntimeFormat = "otlp"
	// RuntimePrometheus is a Prometheus HTTP API query response
	// (resultType vector or matrix) over the same service graph metric,
	// with "client" and "server" labels.
	RuntimePrometheus RuntimeFormat = "prometheus"
	// RuntimeEdges is a plain edge list: caller<TAB>callee[<TAB>calls] per
	// line, # comments and blank lines ignored; without calls the count
	// is 0, unknown.
	RuntimeEdges RuntimeFormat = "edges"
)

// runtimeFormat is one runtime graph format: everything about it is
// derived from this table ([RuntimeFormats], recognition, parsing and the
// help text of rgraph runtime ingest), so adding a format is one entry
// here and its parser in a file of its own.
type runtimeFormat struct {
	name RuntimeFormat
	// doc describes the format for --format help, in short lines.
	doc string
	// shape is what recognition wants, for the error listing them all.
	shape string
	// sniff reports whether content t (trimmed, not empty) is in this
	// format; head holds the top-level members of t's first JSON object,
	// nil when t does not start with '{'. At most one format matches.
	sniff func(t []byte, head map[string]json.RawMessage) bool
	parse func(*runtimeParser) error
}

var runtimeFormats = []runtimeFormat{
	{
		name: RuntimeJaeger,
		doc: `{"data": [{"parent", "child", "callCount"}]} from Jaeger's
/api/dependencies, {"dependencies": [...]} from
/api/v3/dependencies, or a bare array of links (Zipkin's
/api/v2/dependencies too)`,
		shape: `Jaeger dependencies ({"data": [...]} or [...])`,
		sniff: func(t []byte, head map[string]json.RawMessage) bool {
			if t[0] == '[' {
				return true
			}
			return head["resourceMetrics"] == nil && !isPromResponse(head) &&
				(head["dependencies"] != nil || bytes.Contains(head["result"], []byte(`"dependencies"`)) || head["data"] != nil)
		},
		parse: (*runtimeParser).jaeger,
	},
	{
		name: RuntimeOTLP,
		doc: `OTLP/JSON metrics with ` + ServiceGraphMetric + `
from the OpenTelemetry collector's servicegraph connector
(or Tempo's metrics-generator), one document or JSON Lines`,
		shape: `OTLP/JSON service graph metrics ({"resourceMetrics": [...]})`,
		sniff: func(_ []byte, head map[string]json.RawMessage) bool { return head["resourceMetrics"] != nil },
		parse: (*runtimeParser).otlp,
	},
	{
		name: RuntimePrometheus,
		doc: `a Prometheus query response over that metric, e.g.
sum by (client, server) (increase(` + ServiceGraphMetric + `[7d]))`,
		shape: `a Prometheus query response ({"status": ..., "data": {...}})`,
		sniff: func(_ []byte, head map[string]json.RawMessage) bool {
			return head["resourceMetrics"] == nil && isPromResponse(head)
		},
		parse: (*runtimeParser).prometheus,
	},
	{
		name:  RuntimeEdges,
		doc:   `caller<TAB>callee[<TAB>calls] per line, # comments`,
		shape: `an edge list`,
		sniff: func(t []byte, _ map[string]json.RawMessage) bool { return t[0] != '{' && t[0] != '[' },
		parse: (*runtimeParser).edges,
	},
}

// isPromResponse reports whether a JSON object's members are those of a
// Prometheus API response: a status and a data object.
func isPromResponse(head map[string]json.RawMessage) bool {
	return head["status"] != nil && bytes.HasPrefix(bytes.TrimSpace(head["data"]), []byte("{"))
}

// RuntimeFormats lists the formats [ParseRuntime] reads, [RuntimeAuto]
// first.
var RuntimeFormats = func() []RuntimeFormat {
	out := []RuntimeFormat{RuntimeAuto}
	for _, f := range runtimeFormats {
		out = append(out, f.name)
	}
	return out
}()

// lookupRuntime returns format f's table entry.
func lookupRuntime(f RuntimeFormat) (runtimeFormat, bool) {
	i := slices.IndexFunc(runtimeFormats, func(rf runtimeFormat) bool { return rf.name == f })
	if i < 0 {
		return runtimeFormat{}, false
	}
	return runtimeFormats[i], true
}

// Doc describes format f in a few short lines, for help texts; "" for
// [RuntimeAuto] and unknown formats.
func (f RuntimeFormat) Doc() string {
	rf, _ := lookupRuntime(f)
	return rf.doc
}

// ServiceGraphMetric is the metric the servicegraph connector and Tempo
// count requests between two services with.
const ServiceGraphMetric = "traces_service_graph_request_total"

// Runtime is a runtime dependency graph: which service called which while
// healthy, as a tracing system saw it. An edge From -> To means From
// called To, the direction of a recovery edge "From needs To".
type Runtime struct {
	// Release is the release the runtime graph is stored with.
	Release string `json:"release"`
	// Created is when it was stored.
	Created time.Time `json:"created"`
	// Inputs names what it was read from, each with its format:
	// "deps.json (jaeger)".
	Inputs []string `json:"inputs"`
	// Edges holds one edge per caller and callee, calls summed over the
	// inputs, sorted by From then To.
	Edges []graph.Call `json:"edges"`
}

// Services counts the distinct services the runtime graph names.
func (r *Runtime) Services() int {
	seen := map[string]bool{}
	for _, e := range r.Edges {
		seen[e.From], seen[e.To] = true, true
	}
	return len(seen)
}

// Has reports whether the runtime graph names service, as a caller or a
// callee.
func (r *Runtime) Has(service string) bool {
	for _, e := range r.Edges {
		if e.From == service || e.To == service {
			return true
		}
	}
	return false
}

// RuntimeOptions configure [ParseRuntime].
type RuntimeOptions struct {
	// Format is the format of every input. Default: [RuntimeAuto].
	Format RuntimeFormat
}

// ParseRuntime reads and validates runtime dependency graphs from inputs
// (by Path or Data; [Input.Format] is ignored) and merges them into one.
// Malformed input gives an error wrapping [ErrInvalidInput] that names the
// file and, where known, the line and the field ("deps.json:7:
// data[2].callCount: ..."); input that holds no edge at all is an error
// too. It writes nothing.
func ParseRuntime(ctx context.Context, inputs []Input, opts RuntimeOptions) (*Runtime, error) {
	format := opts.Format
	if format == "" {
		format = RuntimeAuto
	}
	if !slices.Contains(RuntimeFormats, format) {
		return nil, fmt.Errorf("unknown runtime graph format %q", format)
	}
	type pair struct{ from, to string }
	calls := map[pair]uint64{}
	rt := &Runtime{}
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name := in.name()
		b := in.Data
		if b == nil {
			var err error
			if b, err = os.ReadFile(in.Path); err != nil {
				return nil, fmt.Errorf("reading input: %w", err)
			}
		}
		f := format
		if f == RuntimeAuto {
			var err error
			if f, err = sniffRuntime(b, name); err != nil {
				return nil, err
			}
		}
		rf, _ := lookupRuntime(f)
		p := &runtimeParser{name: name, src: b, d: decode.New(name, ErrInvalidInput)}
		if err := p.d.Text(b); err != nil {
			return nil, err
		}
		if err := rf.parse(p); err != nil {
			return nil, err
		}
		if len(p.out) == 0 {
			return nil, invalidf("%s: no service dependencies in this %s input", name, f)
		}
		for _, c := range p.out {
			k := pair{c.From, c.To}
			calls[k] = addCalls(calls[k], c.Calls)
		}
		rt.Inputs = append(rt.Inputs, fmt.Sprintf("%s (%s)", name, f))
	}
	rt.Edges = make([]graph.Call, 0, len(calls))
	for k, n := range calls {
		rt.Edges = append(rt.Edges, graph.Call{From: k.from, To: k.to, Calls: n})
	}
	slices.SortFunc(rt.Edges, func(a, b graph.Call) int {
		return cmp.Or(strings.Compare(a.From, b.From), strings.Compare(a.To, b.To))
	})
	return rt, nil
}

// addCalls adds without wrapping around.
func addCalls(a, b uint64) uint64 {
	if a+b < a {
		return math.MaxUint64
	}
	return a + b
}

// sniffRuntime recognises a runtime graph's format from its content.
func sniffRuntime(b []byte, name string) (RuntimeFormat, error) {
	t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) == 0 {
		return "", invalidf("%s: empty", name)
	}
	// The first JSON object's top-level keys decide.
	var head map[string]json.RawMessage
	if t[0] == '{' {
		src := b // positions in errors count from the start of b
		if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
			src = append([]byte("   "), b[3:]...)
		}
		dec := json.NewDecoder(bytes.NewReader(src))
		if err := dec.Decode(&head); err != nil {
			return "", decode.New(name, ErrInvalidInput).JSONErr(src, dec.InputOffset(), err)
		}
	}
	shapes := make([]string, len(runtimeFormats))
	for i, rf := range runtimeFormats {
		if rf.sniff(t, head) {
			return rf.name, nil
		}
		shapes[i] = rf.shape
	}
	last := len(shapes) - 1
	return "", invalidf("%s: not a runtime dependency graph rgraph knows: want %s or %s", name, strings.Join(shapes[:last], ", "), shapes[last])
}
