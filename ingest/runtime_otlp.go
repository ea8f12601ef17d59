package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

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
