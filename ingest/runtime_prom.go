package ingest

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/rgraph/rgraph/graph"
)

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
