package ingest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
)

// mapper turns records into their contributions to the graph (edges with
// evidence), resolving destinations through the catalog. The rules are documented in
// docs/records.md ("From records to edges"); keep the two in step.
type mapper struct {
	cat *collector.Catalog // may be nil

	// nets are the catalog's address endpoints, parsed, per service.
	nets []serviceNet

	warnings []string
}

type serviceNet struct {
	service string
	cap     collector.Capability
}

func newMapper(cat *collector.Catalog) *mapper {
	m := &mapper{cat: cat}
	if cat != nil {
		for _, s := range cat.Services {
			for _, e := range s.Endpoints {
				// The catalog validated these when it was parsed.
				if c, err := collector.ParseCapability(e); err == nil {
					m.nets = append(m.nets, serviceNet{s.Name, c})
				}
			}
		}
	}
	return m
}

func (m *mapper) warnf(format string, args ...any) {
	m.warnings = append(m.warnings, fmt.Sprintf(format, args...))
}

// addCatalog adds every catalog service as a node with its owner and tier.
func addCatalog(b *builder, cat *collector.Catalog) {
	if cat == nil {
		return
	}
	for _, s := range cat.Services {
		b.setInfo(b.intern(s.Name, seenService), s.Owner, s.Tier, 0)
	}
}

// target maps an attempt's destination to a node name: the catalog service
// that owns it, or else the endpoint itself.
func (m *mapper) target(a collector.Attempt) (name string, endpoint bool) {
	if a.Protocol == collector.DNS {
		a.DNSName = normalizeName(a.DNSName)
	}
	if s, ok := m.cat.Resolve(a); ok {
		return s, false
	}
	return a.Endpoint(), true
}

// attemptTarget is the node an attempt of a record blames: its target,
// except for a DNS question the record's allowlist denied only because of
// its resolver, which blames the resolver ([collector.Rules.DeniedForResolver]).
func (m *mapper) attemptTarget(a collector.Attempt, rules collector.Rules, explicit bool) (name string, endpoint bool) {
	if explicit && rules.DeniedForResolver(a) {
		return m.target(a.ToResolver())
	}
	return m.target(a)
}

func normalizeName(n string) string { return strings.ToLower(strings.TrimSuffix(n, ".")) }

// mapRecord maps one record to what it contributes to the graph. A
// minimization record also maps as a run (its run fields describe the
// confirmation run), except that attempts reaching the same node as a
// candidate are cited as that candidate's evidence instead of giving an
// edge of their own. file names the record in warnings; origin is cited
// by every piece of evidence.
func (m *mapper) mapRecord(r *collector.Record, file string, origin *graph.Origin) *contribution {
	c := &contribution{meta: newRecordMeta(r, origin)}

	type candidate struct {
		c        collector.Candidate
		name     string
		endpoint bool
	}
	var cands []candidate
	byCandidate := map[string]bool{}
	if r.Minimization != nil {
		for i, cd := range r.Minimization.Candidates {
			if cd.Capability.All {
				m.warnf("%s: minimization.candidates[%d]: capability \"all\" names no dependency; skipped", file, i)
				continue
			}
			name, endpoint := m.capabilityTarget(cd.Capability)
			if name == r.Service {
				c.self++
				continue
			}
			cands = append(cands, candidate{cd, name, endpoint})
			byCandidate[name] = true
		}
	}

	rules, explicit := m.explicitRules(r, file)
	for _, a := range r.Attempts {
		if a.Absent() {
			continue // no target upstream: no dependency
		}
		name, endpoint := m.attemptTarget(a, rules, explicit)
		switch {
		case name == r.Service:
			c.self++
		case !byCandidate[name]:
			c.edges = append(c.edges, contribEdge{name, endpoint, runKind(r, a, rules, explicit), []graph.Evidence{attemptEvidence(r, a, origin)}})
		}
	}

	for _, cd := range cands {
		ev := []graph.Evidence{candidateEvidence(r, cd.c, origin)}
		match := m.matcher(cd.c.Capability)
		for _, a := range r.Attempts {
			if a.Absent() {
				continue
			}
			if t, _ := m.attemptTarget(a, rules, explicit); t == cd.name || match(a) {
				ev = append(ev, attemptEvidence(r, a, origin))
			}
		}
		c.edges = append(c.edges, contribEdge{cd.name, cd.endpoint, classKind(cd.c.Class), ev})
	}
	return c
}

// recoveryTimes applies recovery times to the builder: the latest
// recovered run of a service wins (ties by record ID), the catalog's
// estimate is the fallback.
func recoveryTimes(b *builder, cat *collector.Catalog, contribs []*contribution) {
	latest := map[string]*recordMeta{}
	for _, c := range contribs {
		r := &c.meta
		if !r.Recovered || r.Duration <= 0 {
			continue
		}
		cur, ok := latest[r.Service]
		if !ok || r.StartedAt.After(cur.StartedAt) || (r.StartedAt.Equal(cur.StartedAt) && r.ID > cur.ID) {
			latest[r.Service] = r
		}
	}
	if cat != nil {
		for _, s := range cat.Services {
			if _, measured := latest[s.Name]; !measured {
				b.setInfo(b.intern(s.Name, seenService), "", "", s.RecoveryTime.Std())
			}
		}
	}
	for name, r := range latest {
		b.setInfo(b.intern(name, seenService), "", "", r.Duration)
	}
}

// explicitRules expands the record's allowlist without its "all" entries.
// explicit is false when nothing is left: then no attempt is declared.
func (m *mapper) explicitRules(r *collector.Record, file string) (collector.Rules, bool) {
	var al collector.Allowlist
	for i, c := range r.Allowlist {
		switch {
		case c.All:
			continue
		case c.Service != "" && m.cat != nil:
			if _, ok := m.cat.Lookup(c.Service); !ok {
				m.warnf("%s: allowlist[%d]: service %q is not in the catalog; it declares nothing", file, i, c.Service)
				continue
			}
		case c.Service != "":
			continue // no catalog: a service capability covers no endpoint
		}
		al = append(al, c)
	}
	if len(al) == 0 {
		return collector.Rules{}, false
	}
	rules, err := m.cat.Expand(al)
	if err != nil { // unreachable: unknown services were dropped above
		m.warnf("%s: allowlist: %v", file, err)
		return collector.Rules{}, false
	}
	rules.All = false
	return rules, true
}

// runKind is the kind of the edge an attempt of a run gives.
func runKind(r *collector.Record, a collector.Attempt, rules collector.Rules, explicit bool) graph.Kind {
	switch {
	case !r.Outcome.Recovered:
		return graph.Observed
	case a.Verdict == collector.Denied:
		return graph.Soft
	case explicit && covers(rules, a):
		return graph.Declared
	}
	return graph.Observed
}

// covers reports whether rules allow attempt a.
func covers(rules collector.Rules, a collector.Attempt) bool {
	switch a.Protocol {
	case collector.TCP, collector.UDP:
		return rules.AllowsAddr(a.Protocol, a.Address, a.Port)
	case collector.Unix:
		return rules.AllowsUnix(a.Path)
	case collector.DNS:
		resolver := !a.Address.IsValid() ||
			rules.AllowsAddr(collector.UDP, a.Address, a.Port) ||
			rules.AllowsAddr(collector.TCP, a.Address, a.Port)
		return rules.AllowsQuestion(normalizeName(a.DNSName), resolver)
	}
	return false
}

func classKind(c collector.Class) graph.Kind {
	switch c {
	case collector.Hard:
		return graph.Hard
	case collector.Soft:
		return graph.Soft
	}
	return graph.Alternative
}

// capabilityTarget maps a minimization candidate to a node name: the
// service it names, the catalog service owning its address, socket path
// or DNS pattern, or else an endpoint named by its text form.
func (m *mapper) capabilityTarget(c collector.Capability) (name string, endpoint bool) {
	switch {
	case c.Service != "":
		return c.Service, false
	case c.Unix != "":
		if s, ok := m.cat.Resolve(collector.Attempt{Protocol: collector.Unix, Path: c.Unix}); ok {
			return s, false
		}
	case c.DNS == "*":
		return "dns:*", true // resolving any name: no owner
	case c.DNS != "" && m.cat != nil:
		if s, ok := m.cat.OwnerOfName(normalizeName(c.DNS)); ok {
			return s, false
		}
	case c.CIDR.IsValid():
		if s, ok := m.ownerOfNet(c); ok {
			return s, false
		}
	}
	return c.String(), true
}

// ownerOfNet returns the service with the most specific catalog endpoint
// that covers the whole address range of c and shares a port and protocol
// with it; catalog order breaks ties.
func (m *mapper) ownerOfNet(c collector.Capability) (string, bool) {
	best, bestBits := "", -1
	for _, n := range m.nets {
		e := n.cap
		if e.CIDR.Addr().Is4() != c.CIDR.Addr().Is4() ||
			e.CIDR.Bits() > c.CIDR.Bits() || !e.CIDR.Contains(c.CIDR.Addr()) ||
			!portsOverlap(e.Ports, c.Ports) ||
			(e.Protocol != "" && c.Protocol != "" && e.Protocol != c.Protocol) {
			continue
		}
		if e.CIDR.Bits() > bestBits {
			best, bestBits = n.service, e.CIDR.Bits()
		}
	}
	return best, bestBits >= 0
}

func portsOverlap(a, b collector.PortRange) bool {
	return a.IsZero() || b.IsZero() || (a.Lo <= b.Hi && b.Lo <= a.Hi)
}

// matcher returns whether a capability covers an attempt: the attempts of
// a record that a candidate's evidence cites besides those mapping to the
// same node.
func (m *mapper) matcher(c collector.Capability) func(collector.Attempt) bool {
	if c.Service != "" {
		if _, ok := m.cat.Lookup(c.Service); !ok || m.cat == nil {
			return func(collector.Attempt) bool { return false }
		}
	}
	rules, err := m.cat.Expand(collector.Allowlist{c})
	if err != nil {
		return func(collector.Attempt) bool { return false }
	}
	names := append(append([]string(nil), rules.Names...), rules.AnyResolverNames...)
	return func(a collector.Attempt) bool {
		if a.Protocol == collector.DNS {
			n := normalizeName(a.DNSName)
			for _, p := range names {
				if collector.MatchName(p, n) {
					return true
				}
			}
			return false
		}
		return covers(rules, a)
	}
}

// attemptEvidence cites one attempt of a record.
func attemptEvidence(r *collector.Record, a collector.Attempt, origin *graph.Origin) graph.Evidence {
	if a.Protocol == collector.DNS {
		a.DNSName = normalizeName(a.DNSName)
	}
	var d strings.Builder
	d.WriteString(string(a.Verdict))
	if a.Failure != "" {
		d.WriteString(" (" + a.Failure + ")")
	}
	d.WriteString(", count " + strconv.FormatUint(a.Count, 10))
	if !r.Outcome.Recovered {
		d.WriteString(", run did not recover")
	}
	return graph.Evidence{
		Source:   r.ID,
		Scenario: r.Scenario,
		Process:  a.Process.Comm + "[" + strconv.FormatUint(uint64(a.Process.PID), 10) + "]",
		Endpoint: a.Endpoint(),
		Detail:   d.String(),
		Origin:   origin,
	}
}

// candidateEvidence cites a minimization's verdict on a candidate.
func candidateEvidence(r *collector.Record, c collector.Candidate, origin *graph.Origin) graph.Evidence {
	d := candidatePrefix + string(c.Class) // alternativeGroups reads the group number back
	if c.Group != 0 {
		d += " (group " + strconv.Itoa(c.Group) + ")"
	}
	if len(c.Trials) > 0 {
		d += "; trials " + strings.Join(c.Trials, ", ")
	}
	return graph.Evidence{Source: r.ID, Scenario: r.Scenario, Endpoint: c.Capability.String(), Detail: d, Origin: origin}
}
