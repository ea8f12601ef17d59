package ingest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/collector"
)

func TestByService(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 11, 20, h, 0, 0, 0, time.UTC) }
	rec := func(svc, id string, h int, ok bool, steps ...string) *collector.Record {
		r := &collector.Record{Kind: collector.KindRun, ID: id, Scenario: "s/" + id, Service: svc,
			Allowlist: collector.Allowlist{{Service: "dep-" + id}, {All: true}},
			Outcome:   collector.Outcome{Recovered: ok, StartedAt: at(h)}}
		for _, s := range steps {
			r.Outcome.Steps = append(r.Outcome.Steps, collector.StepResult{Command: s})
		}
		return r
	}
	validated := func(r *collector.Record) *collector.Record {
		r.Outcome.Validation.Command = "check"
		return r
	}
	minimized := func(r *collector.Record) *collector.Record {
		r.Kind = collector.KindMinimization
		r.Minimization = &collector.Minimization{Candidates: []collector.Candidate{
			{Capability: collector.Capability{Service: "min-" + r.ID}, Class: collector.Hard}}}
		return r
	}
	// picked shows a service's picks as record IDs ("" for none) and its
	// requirements as the capabilities they come from.
	type picked struct {
		Service, Scenario, LastPassed, Runbook, AllowlistFrom string
		Requirements                                          []string
	}
	id := func(r *collector.Record) string {
		if r == nil {
			return ""
		}
		return r.ID
	}
	tests := []struct {
		name string
		recs []*collector.Record
		want []picked
	}{
		{"newest pass supplies runbook and allowlist",
			[]*collector.Record{rec("a", "r1", 9, true, "old"), rec("a", "r2", 10, true, "new"), rec("a", "r3", 11, false, "broken")},
			[]picked{{"a", "s/r2", "r2", "r2", "r2", []string{"service:dep-r2"}}}},
		{"a pass without steps keeps the runbook of the last one with them",
			[]*collector.Record{rec("a", "r1", 9, true, "typed"), rec("a", "r2", 10, true)},
			[]picked{{"a", "s/r2", "r2", "r1", "r2", []string{"service:dep-r2"}}}},
		{"a validation alone is a runbook",
			[]*collector.Record{rec("a", "r1", 9, true, "typed"), validated(rec("a", "r2", 10, true))},
			[]picked{{"a", "s/r2", "r2", "r2", "r2", []string{"service:dep-r2"}}}},
		{"the newest minimization supplies the requirements, passed or not",
			[]*collector.Record{minimized(rec("a", "m1", 8, true)), minimized(rec("a", "m2", 9, false)), rec("a", "r1", 10, true, "x")},
			[]picked{{"a", "s/r1", "r1", "r1", "m2", []string{"service:min-m2"}}}},
		{"never passed: the newest record's scenario and no picks",
			[]*collector.Record{rec("a", "r1", 9, false, "x"), rec("a", "r2", 10, false)},
			[]picked{{Service: "a", Scenario: "s/r2"}}},
		{"services sorted by name, records by start time then ID",
			[]*collector.Record{rec("b", "r9", 9, true, "x"), rec("a", "r2", 9, true, "y"), rec("a", "r1", 9, true, "z")},
			[]picked{
				{"a", "s/r2", "r2", "r2", "r2", []string{"service:dep-r2"}},
				{"b", "s/r9", "r9", "r9", "r9", []string{"service:dep-r9"}}}},
		{"no records", nil, []picked{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []picked{}
			for _, s := range ByService(tt.recs, nil) {
				p := picked{s.Service, s.Scenario, id(s.LastPassed), id(s.Runbook), id(s.AllowlistFrom), nil}
				for _, r := range s.Requirements {
					p.Requirements = append(p.Requirements, r.Capability.String())
				}
				got = append(got, p)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ByService mismatch (-want +got):\n%s", d)
			}
		})
	}
}
