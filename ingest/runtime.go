package ingest

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
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

// RuntimeFormats lists the formats [ParseRuntime] reads.
var RuntimeFormats = []RuntimeFormat{RuntimeAuto, RuntimeJaeger, RuntimeOTLP, RuntimePrometheus, RuntimeEdges}

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
		p := &runtimeParser{name: name, src: b, d: decode.New(name, ErrInvalidInput)}
		if err := p.d.Text(b); err != nil {
			return nil, err
		}
		var err error
		switch f {
		case RuntimeJaeger:
			err = p.jaeger()
		case RuntimeOTLP:
			err = p.otlp()
		case RuntimePrometheus:
			err = p.prometheus()
		default:
			err = p.edges()
		}
		if err != nil {
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
	switch {
	case len(t) == 0:
		return "", invalidf("%s: empty", name)
	case t[0] == '[':
		return RuntimeJaeger, nil
	case t[0] != '{':
		return RuntimeEdges, nil
	}
	// The first JSON object's top-level keys decide.
	var head map[string]json.RawMessage
	src := b // positions in errors count from the start of b
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		src = append([]byte("   "), b[3:]...)
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&head); err != nil {
		return "", decode.New(name, ErrInvalidInput).JSONErr(src, dec.InputOffset(), err)
	}
	switch {
	case head["resourceMetrics"] != nil:
		return RuntimeOTLP, nil
	case head["dependencies"] != nil, bytes.Contains(head["result"], []byte(`"dependencies"`)):
		return RuntimeJaeger, nil
	case head["status"] != nil && bytes.HasPrefix(bytes.TrimSpace(head["data"]), []byte("{")):
		return RuntimePrometheus, nil
	case head["data"] != nil:
		return RuntimeJaeger, nil
	}
	return "", invalidf(`%s: not a runtime dependency graph rgraph knows: want Jaeger dependencies ({"data": [...]} or [...]), OTLP/JSON service graph metrics ({"resourceMetrics": [...]}), a Prometheus query response ({"status": ..., "data": {...}}) or an edge list`, name)
}

// runtimeParser reads one input.
type runtimeParser struct {
	name string
	src  []byte
	d    *decode.Decoder // for errors
	dec  *json.Decoder
	out  []graph.Call
}

// next skips white space and a comma from offset off: where the next
// value starts.
func (p *runtimeParser) next(off int64) int64 {
	for off < int64(len(p.src)) && strings.IndexByte(" \t\r\n,", p.src[off]) >= 0 {
		off++
	}
	return off
}

// lineAt returns the 1-based line of byte offset off of the input.
func (p *runtimeParser) lineAt(off int64) int {
	off = min(max(off, 0), int64(len(p.src)))
	return bytes.Count(p.src[:off], []byte{'\n'}) + 1
}

// errAt returns an error at byte offset off about field.
func (p *runtimeParser) errAt(off int64, field, format string, args ...any) error {
	return p.d.At(p.src, off, field, format, args...)
}

// jsonErr places an error of the JSON decoder.
func (p *runtimeParser) jsonErr(err error) error {
	return p.d.JSONErr(p.src, p.dec.InputOffset(), err)
}

// open starts decoding the input as JSON.
func (p *runtimeParser) open() {
	p.dec = json.NewDecoder(bytes.NewReader(p.src))
	p.dec.UseNumber()
}

// delim reads the next token, which must be delimiter want.
func (p *runtimeParser) delim(want json.Delim, field string) error {
	off := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil {
		return p.jsonErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		what := map[json.Delim]string{'[': "an array", '{': "an object"}[want]
		return p.errAt(off, field, "want %s, got %v", what, tok)
	}
	return nil
}

// object walks the members of an object whose '{' has been read, calling
// f with each key; f must consume the value.
func (p *runtimeParser) object(f func(key string) error) error {
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return p.jsonErr(err)
		}
		if err := f(tok.(string)); err != nil {
			return err
		}
	}
	_, err := p.dec.Token() // '}'
	if err != nil {
		return p.jsonErr(err)
	}
	return nil
}

// array walks the elements of an array that starts at the next token,
// calling f with each index and the element's offset; f must consume the
// element. A null instead of the array is no elements.
func (p *runtimeParser) array(field string, f func(i int, off int64) error) error {
	off := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil {
		return p.jsonErr(err)
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return p.errAt(off, field, "want an array, got %v", tok)
	}
	for i := 0; p.dec.More(); i++ {
		if err := f(i, p.next(p.dec.InputOffset())); err != nil {
			return err
		}
	}
	if _, err := p.dec.Token(); err != nil { // ']'
		return p.jsonErr(err)
	}
	return nil
}

// skip consumes one value.
func (p *runtimeParser) skip() error {
	var v json.RawMessage
	if err := p.dec.Decode(&v); err != nil {
		return p.jsonErr(err)
	}
	return nil
}

// decode decodes the next value into v.
func (p *runtimeParser) decode(v any) error {
	if err := p.dec.Decode(v); err != nil {
		return p.jsonErr(err)
	}
	return nil
}

// end checks that nothing but white space follows the document.
func (p *runtimeParser) end() error {
	off := p.dec.InputOffset()
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		return invalidf("%s:%d: unexpected data after the JSON document", p.name, p.lineAt(off))
	}
	return nil
}

// serviceName checks a service name; the error says what is wrong with
// it, for the caller to place.
func serviceName(s *string) (string, error) {
	if s == nil {
		return "", errors.New("missing")
	}
	n := strings.TrimSpace(*s)
	if n == "" {
		return "", errors.New("empty service name")
	}
	if err := decode.CheckName(n); err != nil {
		return "", fmt.Errorf("service name %w", err)
	}
	return n, nil
}

// service checks a service name read from field at offset off.
func (p *runtimeParser) service(off int64, field string, s *string) (string, error) {
	n, err := serviceName(s)
	if err != nil {
		return "", p.errAt(off, field, "%v", err)
	}
	return n, nil
}

// count parses a call count: a non-negative integer, or a non-negative
// number that is rounded (Prometheus rates and OTLP doubles).
func callCount(text string) (uint64, error) {
	text = strings.TrimSpace(text)
	if n, err := strconv.ParseUint(text, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || f < 0 {
		return 0, fmt.Errorf("want a non-negative number, got %q", text)
	}
	if f >= math.MaxUint64 {
		return math.MaxUint64, nil
	}
	return uint64(math.Round(f)), nil
}

// jaegerLink is one Jaeger (or Zipkin) dependency link.
type jaegerLink struct {
	Parent    *string      `json:"parent"`
	Child     *string      `json:"child"`
	CallCount *json.Number `json:"callCount"`
}

func (p *runtimeParser) jaeger() error {
	p.open()
	links := func(field string) error {
		return p.array(field, func(i int, off int64) error {
			f := fmt.Sprintf("%s[%d]", field, i)
			var l jaegerLink
			if err := p.decode(&l); err != nil {
				return err
			}
			from, err := p.service(off, f+".parent", l.Parent)
			if err != nil {
				return err
			}
			to, err := p.service(off, f+".child", l.Child)
			if err != nil {
				return err
			}
			if l.CallCount == nil {
				return p.errAt(off, f+".callCount", "missing")
			}
			n, err := strconv.ParseUint(string(*l.CallCount), 10, 64)
			if err != nil {
				return p.errAt(off, f+".callCount", "want a non-negative integer, got %s", *l.CallCount)
			}
			p.out = append(p.out, graph.Call{From: from, To: to, Calls: n})
			return nil
		})
	}
	t := bytes.TrimLeft(p.src, "\xef\xbb\xbf \t\r\n")
	if len(t) > 0 && t[0] == '[' {
		if err := links(""); err != nil {
			return err
		}
		return p.end()
	}
	if err := p.delim('{', "document"); err != nil {
		return err
	}
	found := false
	var member func(key string) error
	member = func(key string) error {
		switch key {
		case "data", "dependencies":
			found = true
			return links(key)
		case "result": // a gRPC-gateway envelope: {"result": {"dependencies": [...]}}
			if err := p.delim('{', key); err != nil {
				return err
			}
			return p.object(member)
		case "errors":
			var errs []struct {
				Code int    `json:"code"`
				Msg  string `json:"msg"`
			}
			if json.Unmarshal(p.raw(), &errs) == nil && len(errs) > 0 {
				return invalidf("%s: the response reports an error: %s (code %d)", p.name, errs[0].Msg, errs[0].Code)
			}
			return nil
		}
		return p.skip()
	}
	if err := p.object(member); err != nil {
		return err
	}
	if !found {
		return invalidf(`%s: no "data" or "dependencies" array of dependency links`, p.name)
	}
	return p.end()
}

// raw consumes one value and returns it.
func (p *runtimeParser) raw() []byte {
	var v json.RawMessage
	if p.dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// OTLP/JSON, as far as the service graph needs it: the protobuf JSON
// mapping of opentelemetry.proto.collector.metrics.v1's
// ExportMetricsServiceRequest (lowerCamelCase keys, 64-bit integers as
// decimal strings or numbers).
type otlpRequest struct {
	ResourceMetrics []struct {
		ScopeMetrics []struct {
			Metrics []otlpMetric `json:"metrics"`
		} `json:"scopeMetrics"`
	} `json:"resourceMetrics"`
}

type otlpMetric struct {
	Name string `json:"name"`
	Sum  *struct {
		AggregationTemporality json.Number     `json:"aggregationTemporality"`
		DataPoints             []otlpDataPoint `json:"dataPoints"`
	} `json:"sum"`
}

type otlpDataPoint struct {
	Attributes []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"` // an AnyValue
	} `json:"attributes"`
	AsInt        *json.Number `json:"asInt"`
	AsDouble     *json.Number `json:"asDouble"`
	TimeUnixNano json.Number  `json:"timeUnixNano"`
}

// stringValue returns the string of an OTLP AnyValue, or nil when it
// holds no string.
func stringValue(v json.RawMessage) *string {
	var a struct {
		StringValue *string `json:"stringValue"`
	}
	if json.Unmarshal(v, &a) != nil {
		return nil
	}
	return a.StringValue
}

// otlpDelta is AGGREGATION_TEMPORALITY_DELTA; cumulative is 2.
const otlpDelta = "1"

func (p *runtimeParser) otlp() error {
	type series struct {
		from, to string
		last     uint64 // timeUnixNano of value, for cumulative points
		value    uint64
	}
	all := map[string]*series{} // by client, server and the other attributes
	var keys []string
	p.open()
	for doc := 0; ; doc++ {
		start := p.dec.InputOffset()
		var req otlpRequest
		err := p.dec.Decode(&req)
		if errors.Is(err, io.EOF) && doc > 0 {
			break
		}
		if err != nil {
			return p.jsonErr(err)
		}
		line := p.lineAt(start)
		for i, rm := range req.ResourceMetrics {
			for j, sm := range rm.ScopeMetrics {
				for k, m := range sm.Metrics {
					if m.Name != ServiceGraphMetric {
						continue
					}
					field := fmt.Sprintf("resourceMetrics[%d].scopeMetrics[%d].metrics[%d]", i, j, k)
					if m.Sum == nil {
						return invalidf("%s:%d: %s.sum: missing (%s is a sum)", p.name, line, field, ServiceGraphMetric)
					}
					delta := string(m.Sum.AggregationTemporality) == otlpDelta
					for d, dp := range m.Sum.DataPoints {
						f := fmt.Sprintf("%s.sum.dataPoints[%d]", field, d)
						var client, server *string
						var rest []string
						for _, a := range dp.Attributes {
							switch a.Key {
							case "client":
								client = stringValue(a.Value)
							case "server":
								server = stringValue(a.Value)
							default:
								rest = append(rest, a.Key+"="+string(a.Value))
							}
						}
						from, err := p.service(start, f+`.attributes["client"]`, client)
						if err != nil {
							return err
						}
						to, err := p.service(start, f+`.attributes["server"]`, server)
						if err != nil {
							return err
						}
						var text string
						switch {
						case dp.AsInt != nil:
							text = string(*dp.AsInt)
						case dp.AsDouble != nil:
							text = string(*dp.AsDouble)
						default:
							return invalidf("%s:%d: %s: no asInt or asDouble value", p.name, line, f)
						}
						n, err := callCount(text)
						if err != nil {
							return invalidf("%s:%d: %s.asInt: %v", p.name, line, f, err)
						}
						at, _ := strconv.ParseUint(string(dp.TimeUnixNano), 10, 64)
						slices.Sort(rest)
						key := from + "\x00" + to + "\x00" + strings.Join(rest, "\x00")
						s := all[key]
						switch {
						case s == nil:
							all[key] = &series{from, to, at, n}
							keys = append(keys, key)
						case delta:
							s.value = addCalls(s.value, n)
						case at >= s.last: // cumulative: the latest point is the total
							s.last, s.value = at, n
						}
					}
				}
			}
		}
	}
	if len(all) == 0 {
		return invalidf("%s: no %s metric with data points (is this the servicegraph connector's output?)", p.name, ServiceGraphMetric)
	}
	for _, k := range keys {
		s := all[k]
		p.out = append(p.out, graph.Call{From: s.from, To: s.to, Calls: s.value})
	}
	return nil
}

// promResponse is a Prometheus HTTP API query response.
type promResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      *struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string   `json:"metric"`
			Value  []json.RawMessage   `json:"value"`
			Values [][]json.RawMessage `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

func (p *runtimeParser) prometheus() error {
	p.open()
	var r promResponse
	if err := p.decode(&r); err != nil {
		return err
	}
	if err := p.end(); err != nil {
		return err
	}
	switch {
	case r.Status != "success":
		return invalidf("%s: status: the query failed (%q): %s %s", p.name, r.Status, r.ErrorType, r.Error)
	case r.Data == nil:
		return invalidf("%s: data: missing", p.name)
	case r.Data.ResultType != "vector" && r.Data.ResultType != "matrix":
		return invalidf("%s: data.resultType: want vector or matrix, got %q", p.name, r.Data.ResultType)
	}
	for i, s := range r.Data.Result {
		f := fmt.Sprintf("data.result[%d]", i)
		if n := s.Metric["__name__"]; n != "" && n != ServiceGraphMetric {
			return invalidf("%s: %s.metric.__name__: want %s, got %q", p.name, f, ServiceGraphMetric, n)
		}
		from, err := serviceName(label(s.Metric, "client"))
		if err != nil {
			return invalidf("%s: %s.metric.client: %v", p.name, f, err)
		}
		to, err := serviceName(label(s.Metric, "server"))
		if err != nil {
			return invalidf("%s: %s.metric.server: %v", p.name, f, err)
		}
		v := s.Value
		field := f + ".value"
		if r.Data.ResultType == "matrix" {
			if len(s.Values) == 0 {
				return invalidf("%s: %s.values: empty", p.name, f)
			}
			v = s.Values[len(s.Values)-1] // a counter's latest value is its total
			field = fmt.Sprintf("%s.values[%d]", f, len(s.Values)-1)
		}
		if len(v) != 2 {
			return invalidf("%s: %s: want [time, \"value\"]", p.name, field)
		}
		text := string(v[1]) // the value is a string: "1520", "NaN"
		if unq, err := strconv.Unquote(text); err == nil {
			text = unq
		}
		n, err := callCount(text)
		if err != nil {
			return invalidf("%s: %s: %v", p.name, field, err)
		}
		p.out = append(p.out, graph.Call{From: from, To: to, Calls: n})
	}
	return nil
}

// label returns a label's value, or nil when the metric lacks it.
func label(m map[string]string, key string) *string {
	if v, ok := m[key]; ok {
		return &v
	}
	return nil
}

// edges reads caller<TAB>callee[<TAB>calls] lines.
func (p *runtimeParser) edges() error {
	sc := bufio.NewScanner(bytes.NewReader(p.src))
	sc.Buffer(nil, maxLine)
	for line := 1; sc.Scan(); line++ {
		text := trimSpace(sc.Bytes())
		if blankOrComment(text) {
			continue
		}
		fields := strings.Split(string(text), "\t")
		if len(fields) < 2 || len(fields) > 3 {
			return invalidf("%s:%d: want caller<TAB>callee[<TAB>calls], got %d field(s) (fields are separated by tabs)", p.name, line, len(fields))
		}
		from, to := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
		switch {
		case from == "":
			return invalidf("%s:%d: caller: empty", p.name, line)
		case to == "":
			return invalidf("%s:%d: callee: empty", p.name, line)
		}
		var n uint64 // unknown
		if len(fields) == 3 && strings.TrimSpace(fields[2]) != "" {
			var err error
			if n, err = strconv.ParseUint(strings.TrimSpace(fields[2]), 10, 64); err != nil {
				return invalidf("%s:%d: calls: want a non-negative integer, got %q", p.name, line, strings.TrimSpace(fields[2]))
			}
		}
		p.out = append(p.out, graph.Call{From: from, To: to, Calls: n})
	}
	if err := sc.Err(); err != nil {
		return invalidf("%s: %v", p.name, err)
	}
	return nil
}
