package ingest

import (
	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
)

// Requirement is one capability a record says its service needs, mapped
// to the node of the recovery graph it becomes an edge to, with the
// evidence the graph cites for it.
type Requirement struct {
	// Capability is the allowlist entry or minimization candidate.
	Capability collector.Capability
	// Target is the node the capability maps to: the catalog service
	// that owns it, or else an endpoint named by the capability's text.
	Target string
	// Endpoint is true when Target is not a catalog service.
	Endpoint bool
	// Class is minimization's verdict; empty for an entry of a run's
	// allowlist, which is declared rather than measured.
	Class collector.Class
	// Group numbers the set of alternatives the candidate belongs to; 0
	// otherwise.
	Group int
	// Evidence cites the minimization's verdict (for candidates) and every
	// attempt of the record that reached Target or that the capability
	// covers: run, process, endpoint or DNS name.
	Evidence []graph.Evidence
}

// Requirements lists what record r says its service needs, resolved
// through catalog cat (which may be nil) by the rules ingest maps records
// to edges with (docs/records.md): for a minimization record, every
// candidate but "all" with its class; for a run record, every entry of
// its allowlist but "all", unclassified. Capabilities that resolve to the
// record's own service are left out. The order is the record's.
func Requirements(r *collector.Record, cat *collector.Catalog) []Requirement {
	m := newMapper(cat)
	type entry struct {
		c     collector.Capability
		class collector.Class
		group int
		ev    []graph.Evidence
	}
	var entries []entry
	if r.Minimization != nil {
		for _, c := range r.Minimization.Candidates {
			entries = append(entries, entry{c.Capability, c.Class, c.Group, []graph.Evidence{candidateEvidence(r, c, nil)}})
		}
	} else {
		for _, c := range r.Allowlist {
			entries = append(entries, entry{c: c})
		}
	}
	var out []Requirement
	for _, e := range entries {
		if e.c.All {
			continue
		}
		name, endpoint := m.capabilityTarget(e.c)
		if name == r.Service {
			continue
		}
		match := m.matcher(e.c)
		for _, a := range r.Attempts {
			if t, _ := m.target(a); t == name || match(a) {
				e.ev = append(e.ev, attemptEvidence(r, a, nil))
			}
		}
		out = append(out, Requirement{Capability: e.c, Target: name, Endpoint: endpoint, Class: e.class, Group: e.group, Evidence: e.ev})
	}
	return out
}
