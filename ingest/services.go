package ingest

import (
	"cmp"
	"slices"

	"github.com/rgraph/rgraph/collector"
)

// ServiceRecords is what a release's records say of one service: which
// record is its last recovery, which one its runbook is read from, and
// which one its requirements. The docs site and order's runbooks show it.
type ServiceRecords struct {
	Service string
	// Scenario is the scenario of LastPassed, else of the newest record.
	Scenario string
	// LastPassed is the newest record that recovered; nil when none did.
	LastPassed *collector.Record
	// Runbook is the newest recovered record that has steps or a
	// validation, whose commands are the runbook as typed; nil for none.
	// It is LastPassed unless that one recorded no steps.
	Runbook *collector.Record
	// AllowlistFrom is the record Requirements come from: the newest
	// minimization record, else LastPassed; nil when there is neither.
	AllowlistFrom *collector.Record
	// Requirements are what AllowlistFrom says the service needs (see
	// [Requirements]).
	Requirements []Requirement
}

// ByService groups records by service, sorted by name, and picks for each
// the records [ServiceRecords] describes; records are ordered by start
// time, then ID. Requirements are resolved through catalog cat, which may
// be nil.
func ByService(recs []*collector.Record, cat *collector.Catalog) []ServiceRecords {
	by := map[string][]*collector.Record{}
	for _, r := range recs {
		by[r.Service] = append(by[r.Service], r)
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]ServiceRecords, 0, len(names))
	for _, name := range names {
		rs := by[name]
		slices.SortFunc(rs, func(a, b *collector.Record) int {
			return cmp.Or(a.Outcome.StartedAt.Compare(b.Outcome.StartedAt), cmp.Compare(a.ID, b.ID))
		})
		s := ServiceRecords{Service: name, Scenario: rs[len(rs)-1].Scenario}
		var allow *collector.Record
		for i := len(rs) - 1; i >= 0; i-- {
			r := rs[i]
			ok := r.Outcome.Recovered
			if ok && s.LastPassed == nil {
				s.LastPassed = r
			}
			if ok && s.Runbook == nil && (len(r.Outcome.Steps) > 0 || r.Outcome.Validation.Command != "") {
				s.Runbook = r
			}
			if allow == nil && r.Kind == collector.KindMinimization && r.Minimization != nil {
				allow = r
			}
		}
		if s.LastPassed != nil {
			s.Scenario = s.LastPassed.Scenario
		}
		if allow == nil {
			allow = s.LastPassed
		}
		if allow != nil {
			s.AllowlistFrom = allow
			s.Requirements = Requirements(allow, cat)
		}
		out = append(out, s)
	}
	return out
}
